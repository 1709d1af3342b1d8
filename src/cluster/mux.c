/*
 * mux.c — the one inter-node port. Each accepted connection's first byte
 * picks the service (WIRE_MUX_RAFT = 1, WIRE_MUX_RPC = 2); the connection is
 * then handed to that service's handler with nothing else read. An unknown
 * byte closes the connection and is counted. Also the dialing side: connect,
 * write the service byte and an optional hello, then hand the stream over.
 *
 * Every socket of the inter-node port is made here (and in src/net). With
 * peer TLS (peer_tls.c) an accepted connection is a TLS server session and
 * the service byte is read inside it; a dialed one a client session, and
 * the byte and hello are written inside it.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "net/net.h"

typedef struct pending {
    struct pending *next, *prev;
    wire_mux *m;
    uv_tcp_t *tcp;
    wire_peer_tls *hs; /* peer TLS: its handshake, before the first byte can be read */
    uint8_t byte;
} pending;

struct wire_mux {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    wire_mux_handoff fn[3];
    void *arg[3];
    pending head; /* sentinel of connections awaiting their first byte */
    uint64_t accepted, unknown;
    struct wire_tls *server_tls, *client_tls;
    void (*close_cb)(void *);
    void *close_arg;
};

static void free_handle_cb(uv_handle_t *h)
{
    raft_free(h);
}

void wire_close_free(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, free_handle_cb);
}

static void pending_unlink(pending *p)
{
    p->prev->next = p->next;
    p->next->prev = p->prev;
}

static void first_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
    pending *p = h->data;
    buf->base = (char *)&p->byte;
    buf->len = 1; /* exactly one byte: the service reads the rest itself */
}

static void first_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    pending *p = s->data;
    if (nread == 0)
        return;
    uv_read_stop(s);
    pending_unlink(p);
    wire_mux *m = p->m;
    uv_tcp_t *tcp = p->tcp;
    uint8_t kind = p->byte;
    free(p);
    tcp->data = NULL;
    if (nread < 0) {
        wire_close_free((uv_handle_t *)tcp);
        return;
    }
    if ((kind == WIRE_MUX_RAFT || kind == WIRE_MUX_RPC) && m->fn[kind]) {
        m->fn[kind](m->arg[kind], tcp);
        return;
    }
    m->unknown++;
    wire_debug("mux: connection with unknown service byte %u closed", kind);
    wire_close_free((uv_handle_t *)tcp);
}

static void read_first(pending *p, uv_tcp_t *tcp)
{
    p->tcp = tcp;
    tcp->data = p;
    uv_read_start((uv_stream_t *)tcp, first_alloc, first_read);
}

static void tls_accepted(void *arg, uv_tcp_t *plain)
{
    pending *p = arg;
    p->hs = NULL;
    if (!plain) {
        pending_unlink(p);
        free(p);
        return;
    }
    read_first(p, plain);
}

static void on_conn(uv_stream_t *server, int status)
{
    wire_mux *m = server->data;
    if (status < 0)
        return;
    uv_tcp_t *tcp = raft_malloc(sizeof(*tcp));
    if (!tcp)
        return;
    uv_tcp_init(m->loop, tcp);
    if (uv_accept(server, (uv_stream_t *)tcp) != 0) {
        wire_close_free((uv_handle_t *)tcp);
        return;
    }
    uv_tcp_nodelay(tcp, 1);
    m->accepted++;
    pending *p = wire_xcalloc(1, sizeof(*p));
    p->m = m;
    p->next = m->head.next;
    p->prev = &m->head;
    m->head.next->prev = p;
    m->head.next = p;
    if (m->server_tls) { /* the service byte comes inside TLS */
        p->hs = wire_peer_tls_start(tcp, m->server_tls, false, tls_accepted, p);
        return;
    }
    read_first(p, tcp);
}

int wire_mux_start(uv_loop_t *loop, const char *addr, wire_mux **out, wire_err *err)
{
    wire_mux *m = wire_xcalloc(1, sizeof(*m));
    m->loop = loop;
    m->head.next = m->head.prev = &m->head;
    uv_tcp_init(loop, &m->listener);
    m->listener.data = m;
    int rc = wire_net_listen(&m->listener, addr, 511, on_conn, &m->port, err);
    if (rc != 0) {
        uv_close((uv_handle_t *)&m->listener, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void wire_mux_set_handler(wire_mux *m, int kind, wire_mux_handoff fn, void *arg)
{
    if (kind == WIRE_MUX_RAFT || kind == WIRE_MUX_RPC) {
        m->fn[kind] = fn;
        m->arg[kind] = arg;
    }
}

static void listener_closed(uv_handle_t *h)
{
    wire_mux *m = h->data;
    void (*cb)(void *) = m->close_cb;
    void *arg = m->close_arg;
    free(m);
    if (cb)
        cb(arg);
}

void wire_mux_close(wire_mux *m, void (*cb)(void *arg), void *arg)
{
    m->close_cb = cb;
    m->close_arg = arg;
    m->fn[1] = m->fn[2] = NULL;
    while (m->head.next != &m->head) {
        pending *p = m->head.next;
        pending_unlink(p);
        if (p->hs)
            wire_peer_tls_abort(p->hs);
        else
            wire_close_free((uv_handle_t *)p->tcp);
        free(p);
    }
    uv_close((uv_handle_t *)&m->listener, listener_closed);
}

void wire_mux_stats(const wire_mux *m, uint64_t *accepted, uint64_t *unknown)
{
    *accepted = m->accepted;
    *unknown = m->unknown;
}

int wire_mux_port(const wire_mux *m)
{
    return m->port;
}

void wire_mux_set_tls(wire_mux *m, struct wire_tls *server, struct wire_tls *client)
{
    m->server_tls = server;
    m->client_tls = client;
}

struct wire_tls *wire_mux_client_tls(const wire_mux *m)
{
    return m->client_tls;
}

/* ---- Dialing ---- */

static void dial_finish(wire_dial *d, int status)
{
    uv_tcp_t *tcp = d->tcp;
    free(d->hello_mem);
    d->hello_mem = NULL;
    if (status != 0 || d->canceled) {
        if (tcp)
            wire_close_free((uv_handle_t *)tcp);
        d->tcp = NULL;
        d->cb(d, NULL, status ? status : UV_ECANCELED);
        return;
    }
    d->tcp = NULL;
    tcp->data = NULL;
    d->cb(d, tcp, 0);
}

static void dial_written(uv_write_t *w, int status)
{
    wire_dial *d = w->data;
    dial_finish(d, status);
}

static void send_hello(wire_dial *d)
{
    d->wr.data = d;
    int rc = uv_write(&d->wr, (uv_stream_t *)d->tcp, &d->hello, 1, dial_written);
    if (rc != 0)
        dial_finish(d, rc);
}

static void dial_tls_done(void *arg, uv_tcp_t *plain)
{
    wire_dial *d = arg;
    d->tcp = plain;
    if (!plain || d->canceled) {
        dial_finish(d, plain ? UV_ECANCELED : UV_ECONNREFUSED);
        return;
    }
    send_hello(d);
}

static void dial_connected(uv_connect_t *c, int status)
{
    wire_dial *d = c->data;
    if (status != 0 || d->canceled) {
        dial_finish(d, status);
        return;
    }
    uv_tcp_nodelay(d->tcp, 1);
    if (d->tls) { /* the service byte and hello go inside TLS, once it is up */
        uv_tcp_t *raw = d->tcp;
        d->tcp = NULL;
        wire_peer_tls_start(raw, d->tls, true, dial_tls_done, d);
        return;
    }
    send_hello(d);
}

int wire_dial_start(wire_dial *d, uv_loop_t *loop, const char *addr, uint8_t kind,
                    const void *hello, size_t hello_len, wire_dial_cb cb)
{
    struct sockaddr_storage ss;
    wire_err err;
    if (wire_net_parse_addr(addr, &ss, &err) != 0)
        return UV_EINVAL;
    d->loop = loop;
    d->cb = cb;
    d->canceled = false;
    d->hello_mem = wire_xmalloc(1 + hello_len);
    d->hello_mem[0] = (char)kind;
    if (hello_len)
        memcpy(d->hello_mem + 1, hello, hello_len);
    d->hello = uv_buf_init(d->hello_mem, (unsigned)(1 + hello_len));
    d->tcp = raft_malloc(sizeof(*d->tcp));
    if (!d->tcp) {
        free(d->hello_mem);
        return UV_ENOMEM;
    }
    uv_tcp_init(loop, d->tcp);
    d->conn.data = d;
    int rc = uv_tcp_connect(&d->conn, d->tcp, (struct sockaddr *)&ss, dial_connected);
    if (rc != 0) {
        wire_close_free((uv_handle_t *)d->tcp);
        d->tcp = NULL;
        free(d->hello_mem);
        d->hello_mem = NULL;
        return rc;
    }
    return 0;
}

void wire_dial_cancel(wire_dial *d)
{
    d->canceled = true;
    if (d->tcp)
        wire_close_free((uv_handle_t *)d->tcp); /* pending connect/write fail with ECANCELED */
}
