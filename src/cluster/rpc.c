/*
 * rpc.c — the cluster RPC on the inter-node port (mux byte 2): framing
 * (length-prefixed, versioned), connections that parse frames and coalesce
 * writes (frames queued while a write is in flight go out together in the
 * next one), and a client per peer that matches replies to calls by request
 * id, reconnects, and fails calls on timeout or disconnection. What each
 * call means is node.c's business.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "net/net.h"

/* ---- Framing ---- */

void wire_rpc_frame_begin(wire_buf *b, uint8_t type, uint64_t req_id)
{
    wire_put_u32(b, 0);
    wire_put_u8(b, WIRE_RPC_VERSION);
    wire_put_u8(b, type);
    wire_put_u16(b, 0);
    wire_put_u64(b, req_id);
}

void wire_rpc_frame_end(wire_buf *b, size_t start)
{
    uint32_t len = (uint32_t)(b->len - start - 4);
    for (int i = 0; i < 4; i++)
        b->p[start + i] = (char)(len >> (8 * i));
}

int wire_rpc_frame_parse(const void *p, size_t n, wire_rpc_msg *msg, size_t *used, wire_err *err)
{
    if (n < 4)
        return 0;
    wire_rd r = {p, (const uint8_t *)p + n, false};
    uint32_t len = wire_get_u32(&r);
    if (len < WIRE_RPC_HEADER - 4 || len > WIRE_RPC_MAX_FRAME)
        return wire_errf(err, WIRE_EPARSE, "rpc frame length %u out of range", len);
    if (n - 4 < len)
        return 0;
    msg->version = wire_get_u8(&r);
    msg->type = wire_get_u8(&r);
    (void)wire_get_u16(&r);
    msg->req_id = wire_get_u64(&r);
    if (msg->version != WIRE_RPC_VERSION)
        return wire_errf(err, WIRE_EPARSE, "rpc version %u unknown (this binary: %u)", msg->version,
                         WIRE_RPC_VERSION);
    msg->payload = (const uint8_t *)p + WIRE_RPC_HEADER;
    msg->payload_len = len - (WIRE_RPC_HEADER - 4);
    *used = 4 + (size_t)len;
    return 1;
}

/* ---- Connections ---- */

struct wire_rpc_conn {
    uv_tcp_t *tcp;
    wire_buf in;
    wire_buf out, flying;
    uv_write_t wr;
    bool writing, closed;
    wire_rpc_msg_cb on_msg;
    wire_rpc_close_cb on_close;
    void *arg;
    int refs; /* 1 for the open connection, 1 while a write is in flight */
};

static void conn_unref(wire_rpc_conn *c)
{
    if (--c->refs > 0)
        return;
    wire_buf_free(&c->in);
    wire_buf_free(&c->out);
    wire_buf_free(&c->flying);
    free(c);
}

void wire_rpc_conn_hold(wire_rpc_conn *c)
{
    c->refs++;
}

void wire_rpc_conn_release(wire_rpc_conn *c)
{
    conn_unref(c);
}

bool wire_rpc_conn_closed(const wire_rpc_conn *c)
{
    return c->closed;
}

static void conn_handle_closed(uv_handle_t *h)
{
    wire_rpc_conn *c = h->data;
    raft_free(h);
    conn_unref(c);
}

void wire_rpc_conn_close(wire_rpc_conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    uv_close((uv_handle_t *)c->tcp, conn_handle_closed);
    if (c->on_close)
        c->on_close(c, c->arg);
}

static void conn_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
    wire_rpc_conn *c = h->data;
    wire_buf_reserve(&c->in, 65536);
    buf->base = c->in.p + c->in.len;
    buf->len = c->in.cap - c->in.len - 1;
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    wire_rpc_conn *c = s->data;
    if (nread == 0 || c->closed)
        return;
    if (nread < 0) {
        wire_rpc_conn_close(c);
        return;
    }
    c->in.len += (size_t)nread;
    size_t off = 0;
    c->refs++; /* the callback may close the connection */
    while (!c->closed) {
        wire_rpc_msg m;
        size_t used;
        wire_err err;
        int rc = wire_rpc_frame_parse(c->in.p + off, c->in.len - off, &m, &used, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            wire_warn("rpc: %s; closing the connection", err.msg);
            wire_rpc_conn_close(c);
            break;
        }
        c->on_msg(c, &m, c->arg);
        off += used;
    }
    if (!c->closed && off) {
        memmove(c->in.p, c->in.p + off, c->in.len - off);
        c->in.len -= off;
    }
    conn_unref(c);
}

wire_rpc_conn *wire_rpc_conn_new(uv_tcp_t *tcp, wire_rpc_msg_cb on_msg, wire_rpc_close_cb on_close,
                                 void *arg)
{
    wire_rpc_conn *c = wire_xcalloc(1, sizeof(*c));
    c->tcp = tcp;
    c->on_msg = on_msg;
    c->on_close = on_close;
    c->arg = arg;
    c->refs = 1;
    wire_buf_init(&c->in);
    wire_buf_init(&c->out);
    wire_buf_init(&c->flying);
    tcp->data = c;
    uv_read_start((uv_stream_t *)tcp, conn_alloc, conn_read);
    return c;
}

void wire_rpc_conn_peer(const wire_rpc_conn *c, char *out, size_t n)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(c->tcp, (struct sockaddr *)&ss, &len) == 0)
        wire_net_format_addr((struct sockaddr *)&ss, out, n);
    else
        snprintf(out, n, "?");
}

static void conn_flush(wire_rpc_conn *c);

static void conn_written(uv_write_t *w, int status)
{
    wire_rpc_conn *c = w->data;
    c->writing = false;
    wire_buf_reset(&c->flying);
    if (status != 0)
        wire_rpc_conn_close(c);
    else if (!c->closed && c->out.len)
        conn_flush(c);
    conn_unref(c);
}

static void conn_flush(wire_rpc_conn *c)
{
    wire_buf t = c->flying;
    c->flying = c->out;
    c->out = t;
    uv_buf_t b = uv_buf_init(c->flying.p, (unsigned)c->flying.len);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)c->tcp, &b, 1, conn_written) != 0) {
        wire_buf_reset(&c->flying);
        wire_rpc_conn_close(c);
        return;
    }
    c->writing = true;
    c->refs++;
}

void wire_rpc_conn_send(wire_rpc_conn *c, const void *frame, size_t n)
{
    if (c->closed)
        return;
    wire_buf_append(&c->out, frame, n);
    if (!c->writing)
        conn_flush(c);
}

/* ---- Clients ---- */

typedef struct call {
    struct call *next;
    uint64_t id;
    int64_t deadline_ms;
    wire_rpc_reply_cb cb;
    void *arg;
} call;

struct wire_rpc_client {
    uv_loop_t *loop;
    char *addr;
    struct wire_tls *tls; /* peer TLS client context, or NULL */
    wire_rpc_conn *conn;
    wire_dial *dial; /* in progress */
    bool freeing;
    uint64_t next_id;
    call *calls;     /* awaiting replies (sent or queued) */
    wire_buf queued; /* frames waiting for the connection */
};

static void fail_all(wire_rpc_client *c, int status)
{
    call *l = c->calls;
    c->calls = NULL;
    wire_buf_reset(&c->queued);
    while (l) {
        call *nx = l->next;
        l->cb(l->arg, status, NULL);
        free(l);
        l = nx;
    }
}

static void client_msg(wire_rpc_conn *conn, const wire_rpc_msg *m, void *arg)
{
    wire_rpc_client *c = arg;
    for (call **pp = &c->calls; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == m->req_id) {
            call *k = *pp;
            *pp = k->next;
            k->cb(k->arg, 0, m);
            free(k);
            return;
        }
    }
}

static void client_closed(wire_rpc_conn *conn, void *arg)
{
    wire_rpc_client *c = arg;
    if (c->conn == conn)
        c->conn = NULL;
    fail_all(c, WIRE_ECLOSED);
}

static void client_dialed(wire_dial *d, uv_tcp_t *tcp, int status)
{
    wire_rpc_client *c = d->data;
    free(d);
    c->dial = NULL;
    if (c->freeing) {
        if (tcp)
            wire_close_free((uv_handle_t *)tcp);
        free(c->addr);
        wire_buf_free(&c->queued);
        free(c);
        return;
    }
    if (status != 0) {
        fail_all(c, WIRE_ECLOSED);
        return;
    }
    c->conn = wire_rpc_conn_new(tcp, client_msg, client_closed, c);
    if (c->queued.len) {
        wire_rpc_conn_send(c->conn, c->queued.p, c->queued.len);
        wire_buf_reset(&c->queued);
    }
}

wire_rpc_client *wire_rpc_client_new(uv_loop_t *loop, const char *addr, struct wire_tls *tls)
{
    wire_rpc_client *c = wire_xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->tls = tls;
    c->addr = wire_xstrdup(addr);
    c->next_id = 1;
    wire_buf_init(&c->queued);
    return c;
}

const char *wire_rpc_client_addr(const wire_rpc_client *c)
{
    return c->addr;
}

void wire_rpc_call(wire_rpc_client *c, uint8_t type, const void *payload, size_t n,
                   int64_t timeout_ms, wire_rpc_reply_cb cb, void *arg)
{
    call *k = wire_xcalloc(1, sizeof(*k));
    k->id = c->next_id++;
    k->deadline_ms = wire_now_ms() + timeout_ms;
    k->cb = cb;
    k->arg = arg;
    k->next = c->calls;
    c->calls = k;
    wire_buf *b = c->conn ? NULL : &c->queued;
    wire_buf tmp;
    wire_buf_init(&tmp);
    if (!b)
        b = &tmp;
    size_t start = b->len;
    wire_rpc_frame_begin(b, type, k->id);
    wire_buf_append(b, payload, n);
    wire_rpc_frame_end(b, start);
    if (c->conn) {
        wire_rpc_conn_send(c->conn, tmp.p, tmp.len);
    } else if (!c->dial) {
        c->dial = wire_xcalloc(1, sizeof(*c->dial));
        c->dial->data = c;
        c->dial->tls = c->tls;
        if (wire_dial_start(c->dial, c->loop, c->addr, WIRE_MUX_RPC, NULL, 0, client_dialed) != 0) {
            free(c->dial);
            c->dial = NULL;
            wire_buf_free(&tmp);
            fail_all(c, WIRE_EINVAL);
            return;
        }
    }
    wire_buf_free(&tmp);
}

void wire_rpc_client_tick(wire_rpc_client *c, int64_t now_ms)
{
    bool expired = false;
    for (call *k = c->calls; k; k = k->next)
        expired |= k->deadline_ms <= now_ms;
    if (!expired)
        return;
    /* Replies may still come for the others: fail only the expired ones. */
    call **pp = &c->calls;
    call *done = NULL;
    while (*pp) {
        call *k = *pp;
        if (k->deadline_ms <= now_ms) {
            *pp = k->next;
            k->next = done;
            done = k;
        } else {
            pp = &k->next;
        }
    }
    while (done) {
        call *nx = done->next;
        done->cb(done->arg, WIRE_EAGAIN, NULL);
        free(done);
        done = nx;
    }
}

void wire_rpc_client_free(wire_rpc_client *c)
{
    if (!c)
        return;
    c->freeing = true;
    if (c->conn) {
        wire_rpc_conn *conn = c->conn;
        c->conn = NULL;
        conn->on_close = NULL;
        wire_rpc_conn_close(conn);
    }
    fail_all(c, WIRE_ECLOSED);
    if (c->dial) {
        wire_dial_cancel(c->dial); /* client_dialed frees c */
        return;
    }
    free(c->addr);
    wire_buf_free(&c->queued);
    free(c);
}
