/*
 * internal.h — what the files of src/cluster share with each other and with
 * their unit tests, and nobody above: the mux, the Raft transport over it,
 * and RPC connections. Everything here runs on the node's loop thread.
 */
#ifndef WIRE_CLUSTER_INTERNAL_H
#define WIRE_CLUSTER_INTERNAL_H

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "cluster/cluster.h"

/* ---- mux.c: one listening port, the first byte picks the service ---- */

typedef struct wire_mux wire_mux;
/*
 * Called with a connection whose first byte was `kind`; nothing after that
 * byte has been read. The callee owns `tcp` (allocated with raft_malloc; close
 * it with uv_close and free it with raft_free).
 */
typedef void (*wire_mux_handoff)(void *arg, uv_tcp_t *tcp);

int wire_mux_start(uv_loop_t *loop, const char *addr, wire_mux **out, wire_err *err);
void wire_mux_set_handler(wire_mux *m, int kind, wire_mux_handoff fn, void *arg);
/* Stop listening and close connections not yet handed off; cb when done. */
void wire_mux_close(wire_mux *m, void (*cb)(void *arg), void *arg);
void wire_mux_stats(const wire_mux *m, uint64_t *accepted, uint64_t *unknown);
int wire_mux_port(const wire_mux *m);

/* Close a handle allocated with raft_malloc and free it. */
void wire_close_free(uv_handle_t *h);

/* Dial `addr`, send the service byte `kind` (and `hello`, if any), then call cb. */
typedef struct wire_dial wire_dial;
typedef void (*wire_dial_cb)(wire_dial *d, uv_tcp_t *tcp, int status);
struct wire_dial {
    uv_loop_t *loop;
    uv_tcp_t *tcp;
    uv_connect_t conn;
    uv_write_t wr;
    uv_buf_t hello;
    char *hello_mem;
    bool canceled;
    wire_dial_cb cb;
    void *data;
};
int wire_dial_start(wire_dial *d, uv_loop_t *loop, const char *addr, uint8_t kind,
                    const void *hello, size_t hello_len, wire_dial_cb cb);
/* Cancel: cb is still called, with UV_ECANCELED. */
void wire_dial_cancel(wire_dial *d);

/* ---- transport.c: struct raft_uv_transport through the mux ---- */

int wire_transport_init(struct raft_uv_transport *t, uv_loop_t *loop, wire_mux *mux);
void wire_transport_close(struct raft_uv_transport *t);

/* ---- rpc.c: framed request/response connections ---- */

typedef struct wire_rpc_conn wire_rpc_conn;
typedef void (*wire_rpc_msg_cb)(wire_rpc_conn *c, const wire_rpc_msg *m, void *arg);
typedef void (*wire_rpc_close_cb)(wire_rpc_conn *c, void *arg);

/* Wrap an accepted or dialed connection; starts reading. */
wire_rpc_conn *wire_rpc_conn_new(uv_tcp_t *tcp, wire_rpc_msg_cb on_msg, wire_rpc_close_cb on_close,
                                 void *arg);
/* Queue a whole frame (built with wire_rpc_frame_begin/_end); writes coalesce. */
void wire_rpc_conn_send(wire_rpc_conn *c, const void *frame, size_t n);
/* Keep the object alive (not the connection) across an asynchronous reply. */
void wire_rpc_conn_hold(wire_rpc_conn *c);
void wire_rpc_conn_release(wire_rpc_conn *c);
bool wire_rpc_conn_closed(const wire_rpc_conn *c);
/* Close; on_close is called once (also when the peer closes or on error). */
void wire_rpc_conn_close(wire_rpc_conn *c);

/*
 * A client to one peer address: connects lazily, reconnects after a failure,
 * matches replies to calls by request id, and fails calls whose deadline
 * passed or whose connection broke (cb with status != 0).
 */
typedef struct wire_rpc_client wire_rpc_client;
typedef void (*wire_rpc_reply_cb)(void *arg, int status, const wire_rpc_msg *reply);
wire_rpc_client *wire_rpc_client_new(uv_loop_t *loop, const char *addr);
const char *wire_rpc_client_addr(const wire_rpc_client *c);
/* payload = bytes after the header; type without the reply flag. */
void wire_rpc_call(wire_rpc_client *c, uint8_t type, const void *payload, size_t n,
                   int64_t timeout_ms, wire_rpc_reply_cb cb, void *arg);
/* Fail calls past their deadline (call periodically). */
void wire_rpc_client_tick(wire_rpc_client *c, int64_t now_ms);
/* Fail every pending call (status WIRE_ECLOSED), close, free when closed. */
void wire_rpc_client_free(wire_rpc_client *c);

/* ---- scheduler.c: placement decisions (leader), a pure function of the state ---- */

typedef struct wire_assignment {
    const char *pipeline, *node; /* point into the FSM (valid until the next apply) */
    uint64_t epoch;              /* the pipeline's epoch now: the state machine gives the next */
    const char *reason; /* for the log: "needs a node", "its node stopped answering", ... */
} wire_assignment;
/*
 * For every pipeline that should run (pending or running) and has no live
 * node, pick one: its `placement` node if alive, else the live node with the
 * fewest assigned pipelines (ties: lowest id). `alive` answers for a node;
 * for one no longer in the nodes table it gets a record with only the id.
 * Returns the count; *out is malloc'd.
 */
size_t wire_schedule(const wire_fsm *f, bool (*alive)(void *arg, const wire_node_rec *node),
                     void *arg, wire_assignment **out);

/* ---- runners.c: the pipelines assigned to this node, run by the engine ---- */

typedef struct wire_runners wire_runners;
struct wire_registry;
wire_runners *wire_runners_start(wire_node *node, const struct wire_registry *reg, const char *dir);
/* Something changed: look again now (any thread; cheap). */
void wire_runners_kick(wire_runners *r);
/* Live counters of `name` if it runs here: stats JSON appended to out, true. */
bool wire_runners_live(wire_runners *r, const char *name, wire_buf *out);
/* fn for every pipeline running here, under the runners' lock (keep fn short). */
void wire_runners_each(wire_runners *r, void (*fn)(struct wire_pipeline *p, void *arg), void *arg);
/* Stop every pipeline (final checkpoints through the node); kick and live stay safe. */
void wire_runners_stop(wire_runners *r);
void wire_runners_free(wire_runners *r); /* once the node's loop has ended; NULL is fine */

/* ---- raft_dir.c: the data directory, checked before libraft opens it ---- */

/*
 * 0 if dir is pristine or holds sound Raft metadata (*has_state says which);
 * WIRE_EINVAL naming the damaged file otherwise (the node must not start).
 */
int wire_raft_dir_check(const char *dir, bool *has_state, wire_err *err);

#endif
