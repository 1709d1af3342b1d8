/*
 * peer_tls.c — TLS on the inter-node port (--peer-cert-file and friends;
 * docs/security.md). Raft's transport and the RPC connections read and
 * write a uv_tcp_t and know nothing of TLS; so a connection with TLS is a
 * bridge: the TCP connection to the peer carries TLS records (net/tls.h),
 * and the service gets the plaintext end of a socketpair, opened as a
 * uv_tcp_t, once the handshake is done. Accepted connections are bridged
 * before the mux reads the service byte; dialed ones before the dialer
 * writes it. A handshake the other side fails — no certificate under
 * --peer-client-cert-auth, another CA's, an expired one, a CN not allowed —
 * gets nothing handed over, and is logged with the peer's address and the
 * reason.
 *
 * Flow control: a side whose unwritten output passes 4 MB stops the reads
 * of the other side until it drains below 1 MB (snapshots are large).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "net/net.h"
#include "net/tls.h"

#define HIGH_WATER (4u << 20)
#define LOW_WATER (1u << 20)

struct wire_peer_tls {
    uv_tcp_t *raw; /* to the peer: TLS records (raft_malloc'd, as every mux handle) */
    uv_pipe_t plain;
    uv_timer_t timer; /* the handshake's deadline */
    bool plain_open, raw_reading, plain_reading, handed, dead;
    int handles; /* open handles: freed when both have closed */
    wire_tls_conn *tls;
    bool client;
    wire_peer_tls_cb cb;
    void *arg;
    char peer[128];
    char buf[64 * 1024];
    wire_buf clear; /* one read's plaintext */
};
typedef struct wire_peer_tls bridge;

typedef struct bwrite {
    uv_write_t w;
    bridge *b;
    wire_buf data;
} bwrite;

static void handle_closed(uv_handle_t *h)
{
    bridge *b = h->data;
    if ((uv_handle_t *)b->raw == h)
        raft_free(h);
    if (--b->handles == 0) {
        wire_tls_conn_free(b->tls);
        wire_buf_free(&b->clear);
        free(b);
    }
}

static void bridge_close(bridge *b)
{
    if (b->dead)
        return;
    b->dead = true;
    if (!b->handed && b->cb) { /* the handshake never finished: the dialer still waits */
        b->handed = true;
        b->cb(b->arg, NULL);
    }
    if (!uv_is_closing((uv_handle_t *)&b->timer))
        uv_close((uv_handle_t *)&b->timer, handle_closed);
    if (!uv_is_closing((uv_handle_t *)b->raw))
        uv_close((uv_handle_t *)b->raw, handle_closed);
    if (b->plain_open && !uv_is_closing((uv_handle_t *)&b->plain))
        uv_close((uv_handle_t *)&b->plain, handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *out)
{
    bridge *b = h->data;
    out->base = b->buf;
    out->len = sizeof(b->buf);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void plain_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Reads of a side start or stop as the other side's output queue allows. */
static void flow(bridge *b)
{
    if (b->dead)
        return;
    size_t raw_q = b->raw->write_queue_size;
    size_t plain_q = b->plain_open ? b->plain.write_queue_size : 0;
    if (b->raw_reading && plain_q > HIGH_WATER) {
        uv_read_stop((uv_stream_t *)b->raw);
        b->raw_reading = false;
    } else if (!b->raw_reading && plain_q < LOW_WATER) {
        b->raw_reading = uv_read_start((uv_stream_t *)b->raw, on_alloc, raw_read) == 0;
    }
    if (!b->plain_open)
        return;
    if (b->plain_reading && raw_q > HIGH_WATER) {
        uv_read_stop((uv_stream_t *)&b->plain);
        b->plain_reading = false;
    } else if (!b->plain_reading && raw_q < LOW_WATER) {
        b->plain_reading = uv_read_start((uv_stream_t *)&b->plain, on_alloc, plain_read) == 0;
    }
}

static void written(uv_write_t *w, int status)
{
    bwrite *x = (bwrite *)w;
    bridge *b = x->b;
    wire_buf_free(&x->data);
    free(x);
    if (status < 0)
        bridge_close(b);
    else
        flow(b);
}

/* Write out (taken) to a side; the buffer is the write's from here on. */
static void send_to(bridge *b, uv_stream_t *to, wire_buf *out)
{
    if (!out->len || b->dead) {
        wire_buf_free(out);
        return;
    }
    bwrite *x = wire_xcalloc(1, sizeof(*x));
    x->b = b;
    x->data = *out;
    wire_buf_init(out);
    uv_buf_t ub = uv_buf_init(x->data.p, (unsigned)x->data.len);
    if (uv_write(&x->w, to, &ub, 1, written) != 0) {
        wire_buf_free(&x->data);
        free(x);
        bridge_close(b);
    }
}

/* The handshake is done: make the plaintext socketpair and hand its other end over. */
static bool hand_over(bridge *b)
{
    int sv[2];
    uv_tcp_t *t = raft_malloc(sizeof(*t));
    if (!t || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        raft_free(t);
        return false;
    }
    uv_loop_t *loop = b->raw->loop;
    uv_pipe_init(loop, &b->plain, 0);
    b->plain.data = b;
    b->plain_open = true;
    b->handles++;
    uv_tcp_init(loop, t);
    if (uv_pipe_open(&b->plain, sv[0]) != 0 || uv_tcp_open(t, sv[1]) != 0) {
        close(sv[0]);
        wire_close_free((uv_handle_t *)t); /* closes sv[1] if it was opened */
        return false;
    }
    b->handed = true;
    uv_timer_stop(&b->timer);
    b->cb(b->arg, t);
    return true;
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    bridge *b = s->data;
    if (n == 0)
        return;
    if (n < 0) {
        if (!b->handed)
            wire_info("peer TLS %s %s: connection closed during the handshake",
                      b->client ? "to" : "from", b->peer);
        bridge_close(b);
        return;
    }
    wire_buf out;
    wire_buf_init(&out);
    wire_buf_reset(&b->clear);
    wire_err err;
    int rc = wire_tls_conn_read(b->tls, buf->base, (size_t)n, &b->clear, &out, &err);
    send_to(b, (uv_stream_t *)b->raw, &out);
    if (rc < 0) {
        wire_warn("peer TLS %s %s refused: %s", b->client ? "to" : "from", b->peer, err.msg);
        bridge_close(b);
        return;
    }
    if (!b->handed && wire_tls_conn_ready(b->tls) && !hand_over(b)) {
        bridge_close(b);
        return;
    }
    if (b->clear.len && b->plain_open) {
        wire_buf data = b->clear;
        wire_buf_init(&b->clear);
        send_to(b, (uv_stream_t *)&b->plain, &data);
    }
    if (rc == 1)
        bridge_close(b);
    else
        flow(b);
}

static void plain_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    bridge *b = s->data;
    if (n == 0)
        return;
    wire_buf out;
    wire_buf_init(&out);
    if (n < 0) { /* the service closed its end: end the session, then the connection */
        wire_tls_conn_close_notify(b->tls, &out);
        send_to(b, (uv_stream_t *)b->raw, &out);
        bridge_close(b);
        return;
    }
    if (wire_tls_conn_write(b->tls, buf->base, (size_t)n, &out) != 0) {
        wire_buf_free(&out);
        bridge_close(b);
        return;
    }
    send_to(b, (uv_stream_t *)b->raw, &out);
    flow(b);
}

static void handshake_late(uv_timer_t *t)
{
    bridge *b = t->data;
    wire_warn("peer TLS %s %s refused: no handshake within %d s", b->client ? "to" : "from",
              b->peer, WIRE_PEER_TLS_HANDSHAKE_S);
    bridge_close(b);
}

void wire_peer_tls_abort(wire_peer_tls *b)
{
    b->cb = NULL;
    bridge_close(b);
}

wire_peer_tls *wire_peer_tls_start(uv_tcp_t *raw, wire_tls *tls, bool client, wire_peer_tls_cb cb,
                                   void *arg)
{
    bridge *b = wire_xcalloc(1, sizeof(*b));
    b->raw = raw;
    b->client = client;
    b->cb = cb;
    b->arg = arg;
    b->handles = 2;
    uv_timer_init(raw->loop, &b->timer);
    b->timer.data = b;
    uv_timer_start(&b->timer, handshake_late, WIRE_PEER_TLS_HANDSHAKE_S * 1000, 0);
    b->tls = wire_tls_conn_new(tls);
    wire_buf_init(&b->clear);
    raw->data = b;
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(raw, (struct sockaddr *)&ss, &len) == 0)
        wire_net_format_addr((struct sockaddr *)&ss, b->peer, sizeof(b->peer));
    else
        snprintf(b->peer, sizeof(b->peer), "?");
    if (client) { /* the ClientHello */
        wire_buf out;
        wire_buf_init(&out);
        wire_err err;
        wire_tls_conn_read(b->tls, NULL, 0, &b->clear, &out, &err);
        send_to(b, (uv_stream_t *)raw, &out);
    }
    flow(b);
    return b;
}
