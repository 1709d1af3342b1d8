/*
 * test_cluster_net.c — the inter-node port on a real loopback socket: RPC
 * framing (partial frames, bad versions, oversized lengths), the mux handing
 * connections to their service by the first byte and closing (and counting)
 * unknown ones, RPC clients matching replies to calls, failing calls when
 * the peer is gone or too slow, and the Raft transport's handshake.
 */
#include "cluster/internal.h"
#include "test.h"

TEST(rpc_frame_codec)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_rpc_frame_begin(&b, WIRE_RPC_JOIN, 77);
    wire_put_str(&b, "n1", 2);
    wire_rpc_frame_end(&b, 0);
    size_t one = b.len;
    wire_rpc_frame_begin(&b, WIRE_RPC_APPLY | WIRE_RPC_REPLY, 78);
    wire_rpc_frame_end(&b, one);
    wire_rpc_msg m;
    size_t used;
    wire_err err;
    /* every prefix of the first frame asks for more */
    for (size_t k = 0; k < one; k++)
        CHECK_EQ_INT(wire_rpc_frame_parse(b.p, k, &m, &used, &err), 0);
    CHECK_EQ_INT(wire_rpc_frame_parse(b.p, b.len, &m, &used, &err), 1);
    CHECK_EQ_INT(used, one);
    CHECK_EQ_INT(m.type, WIRE_RPC_JOIN);
    CHECK_EQ_INT(m.req_id, 77);
    CHECK_EQ_INT(m.payload_len, 6);
    wire_rd r = {m.payload, m.payload + m.payload_len, false};
    size_t n;
    const char *s = wire_get_str(&r, &n);
    CHECK(n == 2 && memcmp(s, "n1", 2) == 0 && !r.bad);
    (void)wire_get_u8(&r);
    CHECK(r.bad); /* reading past the payload is caught */
    CHECK_EQ_INT(wire_rpc_frame_parse(b.p + one, b.len - one, &m, &used, &err), 1);
    CHECK_EQ_INT(m.type, WIRE_RPC_APPLY | WIRE_RPC_REPLY);
    CHECK_EQ_INT(m.payload_len, 0);
    /* a future version, a huge length, a length shorter than the header */
    b.p[4] = 9;
    CHECK(wire_rpc_frame_parse(b.p, b.len, &m, &used, &err) < 0);
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0x7f, 1};
    CHECK(wire_rpc_frame_parse(huge, sizeof(huge), &m, &used, &err) < 0);
    uint8_t tiny[16] = {3, 0, 0, 0, 1};
    CHECK(wire_rpc_frame_parse(tiny, sizeof(tiny), &m, &used, &err) < 0);
    wire_buf_free(&b);
}

/* ---- A loop with a mux, an echo RPC service, and clients ---- */

typedef struct net_fix {
    uv_loop_t loop;
    wire_mux *mux;
    wire_rpc_conn *server[4];
    int nserver;
    int replies, failures;
    uint64_t last_id;
    int dial_status;
    bool dial_done;
    bool silent; /* the server stops answering */
} net_fix;

static void echo_msg(wire_rpc_conn *c, const wire_rpc_msg *m, void *arg)
{
    net_fix *f = arg;
    if (f->silent)
        return;
    wire_buf b;
    wire_buf_init(&b);
    wire_rpc_frame_begin(&b, m->type | WIRE_RPC_REPLY, m->req_id);
    wire_buf_append(&b, m->payload, m->payload_len);
    wire_rpc_frame_end(&b, 0);
    wire_rpc_conn_send(c, b.p, b.len);
    wire_buf_free(&b);
}

static void echo_closed(wire_rpc_conn *c, void *arg)
{
    net_fix *f = arg;
    for (int i = 0; i < f->nserver; i++)
        if (f->server[i] == c)
            f->server[i] = NULL;
}

static void on_rpc(void *arg, uv_tcp_t *tcp)
{
    net_fix *f = arg;
    if (f->nserver < 4)
        f->server[f->nserver++] = wire_rpc_conn_new(tcp, echo_msg, echo_closed, f);
    else
        wire_close_free((uv_handle_t *)tcp);
}

static void on_reply(void *arg, int status, const wire_rpc_msg *m)
{
    net_fix *f = arg;
    if (status == 0 && m && m->payload_len == 5 && memcmp(m->payload, "hello", 5) == 0)
        f->replies++;
    else
        f->failures++;
}

static void run_until(net_fix *f, int *counter, int want)
{
    for (int i = 0; i < 2000 && *counter < want; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT), wire_sleep_ms(1);
}

static void dial_cb(wire_dial *d, uv_tcp_t *tcp, int status)
{
    net_fix *f = d->data;
    f->dial_status = status;
    f->dial_done = true;
    if (tcp)
        wire_close_free((uv_handle_t *)tcp);
}

static void mux_closed(void *arg)
{
    *(bool *)arg = true;
}

TEST(mux_rpc_roundtrip_and_unknown_byte)
{
    net_fix f;
    memset(&f, 0, sizeof(f));
    uv_loop_init(&f.loop);
    wire_err err;
    CHECK_EQ_INT(wire_mux_start(&f.loop, "127.0.0.1:0", &f.mux, &err), 0);
    wire_mux_set_handler(f.mux, WIRE_MUX_RPC, on_rpc, &f);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", wire_mux_port(f.mux));

    /* 100 pipelined calls on one client, answered in one connection */
    wire_rpc_client *c = wire_rpc_client_new(&f.loop, addr, NULL);
    for (int i = 0; i < 100; i++)
        wire_rpc_call(c, WIRE_RPC_API_ADDR, "hello", 5, 5000, on_reply, &f);
    run_until(&f, &f.replies, 100);
    CHECK_EQ_INT(f.replies, 100);
    CHECK_EQ_INT(f.failures, 0);
    CHECK_EQ_INT(f.nserver, 1);

    /* an unknown service byte: closed and counted, never handed to a service */
    wire_dial d;
    memset(&d, 0, sizeof(d));
    d.data = &f;
    CHECK_EQ_INT(wire_dial_start(&d, &f.loop, addr, 7, "junk", 4, dial_cb), 0);
    uint64_t acc = 0, unknown = 0;
    for (int i = 0; i < 2000 && unknown == 0; i++) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        wire_mux_stats(f.mux, &acc, &unknown);
        wire_sleep_ms(1);
    }
    CHECK_EQ_INT(unknown, 1);
    CHECK(f.dial_done);
    CHECK_EQ_INT(f.nserver, 1);

    /* Raft's byte with no transport listening yet: closed too (and counted) */
    f.dial_done = false;
    CHECK_EQ_INT(wire_dial_start(&d, &f.loop, addr, WIRE_MUX_RAFT, "x", 1, dial_cb), 0);
    for (int i = 0; i < 2000 && unknown < 2; i++) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        wire_mux_stats(f.mux, &acc, &unknown);
        wire_sleep_ms(1);
    }
    CHECK_EQ_INT(unknown, 2);

    /* a silent server: the call fails at its deadline, not never */
    f.silent = true;
    wire_rpc_call(c, WIRE_RPC_API_ADDR, "hello", 5, 50, on_reply, &f);
    for (int i = 0; i < 500 && f.failures == 0; i++) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        wire_rpc_client_tick(c, wire_now_ms());
        wire_sleep_ms(1);
    }
    CHECK_EQ_INT(f.failures, 1);
    f.silent = false;

    /* the server side goes away: pending calls fail, the next call reconnects */
    wire_rpc_call(c, WIRE_RPC_API_ADDR, "hello", 5, 5000, on_reply, &f);
    f.silent = true;
    uv_run(&f.loop, UV_RUN_NOWAIT);
    for (int i = 0; i < f.nserver; i++)
        if (f.server[i])
            wire_rpc_conn_close(f.server[i]);
    run_until(&f, &f.failures, 2);
    CHECK_EQ_INT(f.failures, 2);
    f.silent = false;
    wire_rpc_call(c, WIRE_RPC_API_ADDR, "hello", 5, 5000, on_reply, &f);
    run_until(&f, &f.replies, 101);
    CHECK_EQ_INT(f.replies, 101);

    /* a client to a closed port fails its calls */
    wire_rpc_client *dead = wire_rpc_client_new(&f.loop, "127.0.0.1:1", NULL);
    wire_rpc_call(dead, WIRE_RPC_API_ADDR, "hello", 5, 5000, on_reply, &f);
    run_until(&f, &f.failures, 3);
    CHECK_EQ_INT(f.failures, 3);

    wire_rpc_client_free(dead);
    wire_rpc_client_free(c);
    for (int i = 0; i < f.nserver; i++)
        if (f.server[i])
            wire_rpc_conn_close(f.server[i]);
    bool closed = false;
    wire_mux_close(f.mux, mux_closed, &closed);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    CHECK(closed);
    CHECK_EQ_INT(uv_loop_close(&f.loop), 0);
}

/* ---- The Raft transport's handshake through the mux ---- */

typedef struct tp_fix {
    raft_id got_id;
    char got_addr[64];
    int accepted, connected, canceled;
} tp_fix;

static void tp_accept(struct raft_uv_transport *t, raft_id id, const char *address,
                      struct uv_stream_s *stream)
{
    tp_fix *x = t->data;
    x->got_id = id;
    snprintf(x->got_addr, sizeof(x->got_addr), "%s", address);
    x->accepted++;
    wire_close_free((uv_handle_t *)stream);
}

static void tp_connected(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
    tp_fix *x = req->data;
    if (status == 0) {
        x->connected++;
        wire_close_free((uv_handle_t *)stream);
    } else {
        x->canceled++;
    }
}

static bool tp_is_closed;
static void tp_closed(struct raft_uv_transport *t)
{
    (void)t;
    tp_is_closed = true;
}

TEST(transport_handshake)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    wire_mux *mux;
    wire_err err;
    CHECK_EQ_INT(wire_mux_start(&loop, "127.0.0.1:0", &mux, &err), 0);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", wire_mux_port(mux));
    struct raft_uv_transport t;
    wire_transport_init(&t, &loop, mux);
    tp_fix x;
    memset(&x, 0, sizeof(x));
    t.data = &x;
    CHECK_EQ_INT(t.init(&t, 42, addr), 0);
    CHECK_EQ_INT(t.listen(&t, tp_accept), 0);
    struct raft_uv_connect req;
    req.data = &x;
    CHECK_EQ_INT(t.connect(&t, &req, 42, addr, tp_connected), 0);
    for (int i = 0; i < 2000 && (x.accepted == 0 || x.connected == 0); i++)
        uv_run(&loop, UV_RUN_NOWAIT), wire_sleep_ms(1);
    CHECK_EQ_INT(x.accepted, 1);
    CHECK_EQ_INT(x.connected, 1);
    CHECK_EQ_INT(x.got_id, 42);
    CHECK_EQ_STR(x.got_addr, addr);
    /* a connect in flight when the transport closes is canceled, not lost */
    CHECK_EQ_INT(t.connect(&t, &req, 42, addr, tp_connected), 0);
    t.close(&t, tp_closed);
    for (int i = 0; i < 2000 && !tp_is_closed; i++)
        uv_run(&loop, UV_RUN_NOWAIT), wire_sleep_ms(1);
    CHECK(tp_is_closed); /* only once every pending connect was called back */
    wire_transport_close(&t);
    wire_mux_close(mux, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(x.canceled, 1);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    RUN(rpc_frame_codec);
    RUN(mux_rpc_roundtrip_and_unknown_byte);
    RUN(transport_handshake);
    TEST_MAIN_END();
}
