/*
 * transport.c — a struct raft_uv_transport that dials and accepts through
 * the mux, so Raft shares the one inter-node port with the cluster RPC.
 *
 * Handshake, after the mux byte 1: {server id u64, address length u16,
 * address}. The acceptor reads exactly that much, then hands the stream to
 * libraft, which owns it from there (libraft frees streams with raft_free,
 * hence raft_malloc for every handle given to it). libraft opens one
 * connection per direction, so nothing else is ever written back.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

#define HS_FIXED 10
#define HS_MAX_ADDR 255

typedef struct tp tp;

typedef struct creq {
    struct creq *next, *prev;
    wire_dial dial;
    tp *t;
    struct raft_uv_connect *req;
    raft_uv_connect_cb cb;
} creq;

typedef struct inbound {
    struct inbound *next, *prev;
    tp *t;
    uv_tcp_t *tcp;
    uint8_t buf[HS_FIXED + HS_MAX_ADDR + 1];
    size_t want, got;
} inbound;

struct tp {
    uv_loop_t *loop;
    wire_mux *mux;
    raft_id id;
    char address[HS_MAX_ADDR + 1];
    raft_uv_accept_cb accept_cb;
    creq cq;    /* sentinel */
    inbound iq; /* sentinel */
    bool closing;
    raft_uv_transport_close_cb close_cb;
    struct raft_uv_transport *self;
};

#define LIST_UNLINK(x)                                                                             \
    do {                                                                                           \
        (x)->prev->next = (x)->next;                                                               \
        (x)->next->prev = (x)->prev;                                                               \
    } while (0)
#define LIST_PUSH(head, x)                                                                         \
    do {                                                                                           \
        (x)->next = (head)->next;                                                                  \
        (x)->prev = (head);                                                                        \
        (head)->next->prev = (x);                                                                  \
        (head)->next = (x);                                                                        \
    } while (0)

static void maybe_closed(tp *t)
{
    if (!t->closing || t->cq.next != &t->cq || !t->close_cb)
        return;
    raft_uv_transport_close_cb cb = t->close_cb;
    t->close_cb = NULL;
    cb(t->self);
}

static int tp_init(struct raft_uv_transport *rt, raft_id id, const char *address)
{
    tp *t = rt->impl;
    t->id = id;
    snprintf(t->address, sizeof(t->address), "%s", address);
    return 0;
}

static void hs_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
    inbound *in = h->data;
    buf->base = (char *)in->buf + in->got;
    buf->len = in->want - in->got;
}

static void inbound_drop(inbound *in)
{
    LIST_UNLINK(in);
    wire_close_free((uv_handle_t *)in->tcp);
    free(in);
}

static void hs_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    inbound *in = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        inbound_drop(in);
        return;
    }
    in->got += (size_t)nread;
    if (in->got < in->want)
        return;
    if (in->want == HS_FIXED) {
        size_t alen = (size_t)in->buf[8] | ((size_t)in->buf[9] << 8);
        if (alen == 0 || alen > HS_MAX_ADDR) {
            inbound_drop(in);
            return;
        }
        in->want = HS_FIXED + alen;
        return;
    }
    uv_read_stop(s);
    tp *t = in->t;
    raft_id id = 0;
    for (int i = 0; i < 8; i++)
        id |= (raft_id)in->buf[i] << (8 * i);
    char addr[HS_MAX_ADDR + 1];
    memcpy(addr, in->buf + HS_FIXED, in->want - HS_FIXED);
    addr[in->want - HS_FIXED] = 0;
    uv_tcp_t *tcp = in->tcp;
    LIST_UNLINK(in);
    free(in);
    tcp->data = NULL;
    if (t->closing || !t->accept_cb) {
        wire_close_free((uv_handle_t *)tcp);
        return;
    }
    t->accept_cb(t->self, id, addr, (struct uv_stream_s *)tcp);
}

static void on_raft_conn(void *arg, uv_tcp_t *tcp)
{
    tp *t = arg;
    if (t->closing) {
        wire_close_free((uv_handle_t *)tcp);
        return;
    }
    inbound *in = wire_xcalloc(1, sizeof(*in));
    in->t = t;
    in->tcp = tcp;
    in->want = HS_FIXED;
    tcp->data = in;
    LIST_PUSH(&t->iq, in);
    uv_read_start((uv_stream_t *)tcp, hs_alloc, hs_read);
}

static int tp_listen(struct raft_uv_transport *rt, raft_uv_accept_cb cb)
{
    tp *t = rt->impl;
    t->accept_cb = cb;
    wire_mux_set_handler(t->mux, WIRE_MUX_RAFT, on_raft_conn, t);
    return 0;
}

static void dialed(wire_dial *d, uv_tcp_t *tcp, int status)
{
    creq *c = d->data;
    tp *t = c->t;
    LIST_UNLINK(c);
    struct raft_uv_connect *req = c->req;
    raft_uv_connect_cb cb = c->cb;
    free(c);
    if (status == 0 && t->closing) {
        wire_close_free((uv_handle_t *)tcp);
        status = UV_ECANCELED;
    }
    if (status == 0)
        cb(req, (struct uv_stream_s *)tcp, 0);
    else
        cb(req, NULL, t->closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
    maybe_closed(t);
}

static int tp_connect(struct raft_uv_transport *rt, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    tp *t = rt->impl;
    uint8_t hello[HS_FIXED + HS_MAX_ADDR];
    size_t alen = strlen(t->address);
    for (int i = 0; i < 8; i++)
        hello[i] = (uint8_t)(t->id >> (8 * i));
    hello[8] = (uint8_t)alen;
    hello[9] = 0;
    memcpy(hello + HS_FIXED, t->address, alen);
    creq *c = wire_xcalloc(1, sizeof(*c));
    c->t = t;
    c->req = req;
    c->cb = cb;
    c->dial.data = c;
    c->dial.tls = wire_mux_client_tls(t->mux);
    int rc =
        wire_dial_start(&c->dial, t->loop, address, WIRE_MUX_RAFT, hello, HS_FIXED + alen, dialed);
    if (rc != 0) {
        free(c);
        snprintf(rt->errmsg, sizeof(rt->errmsg), "connect %s: %s", address, uv_strerror(rc));
        return RAFT_NOCONNECTION;
    }
    LIST_PUSH(&t->cq, c);
    return 0;
}

static void tp_close(struct raft_uv_transport *rt, raft_uv_transport_close_cb cb)
{
    tp *t = rt->impl;
    t->closing = true;
    t->close_cb = cb;
    wire_mux_set_handler(t->mux, WIRE_MUX_RAFT, NULL, NULL);
    while (t->iq.next != &t->iq)
        inbound_drop(t->iq.next);
    for (creq *c = t->cq.next; c != &t->cq; c = c->next)
        wire_dial_cancel(&c->dial);
    maybe_closed(t);
}

int wire_transport_init(struct raft_uv_transport *rt, uv_loop_t *loop, wire_mux *mux)
{
    memset(rt, 0, sizeof(*rt));
    tp *t = wire_xcalloc(1, sizeof(*t));
    t->loop = loop;
    t->mux = mux;
    t->self = rt;
    t->cq.next = t->cq.prev = &t->cq;
    t->iq.next = t->iq.prev = &t->iq;
    rt->impl = t;
    rt->init = tp_init;
    rt->listen = tp_listen;
    rt->connect = tp_connect;
    rt->close = tp_close;
    return 0;
}

void wire_transport_close(struct raft_uv_transport *rt)
{
    free(rt->impl);
    rt->impl = NULL;
}
