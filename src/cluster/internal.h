/*
 * internal.h — what the files of src/cluster share with each other and with
 * their unit tests, and nobody above: byte encoding and entries, the state
 * machine, snapshot and RPC framing, the mux, the Raft transport over it,
 * RPC connections, the scheduler and the runners. Everything here runs on
 * the node's loop thread unless it says otherwise.
 */
#ifndef WIRE_CLUSTER_INTERNAL_H
#define WIRE_CLUSTER_INTERNAL_H

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "cluster/cluster.h"

/* ---- Byte encoding (commands.c): little-endian, bounds-checked reads ---- */

typedef struct wire_rd {
    const uint8_t *p, *end;
    bool bad; /* set on any read past the end; reads then return zeros */
} wire_rd;

void wire_put_u8(wire_buf *b, uint8_t v);
void wire_put_u16(wire_buf *b, uint16_t v);
void wire_put_u32(wire_buf *b, uint32_t v);
void wire_put_u64(wire_buf *b, uint64_t v);
void wire_put_str(wire_buf *b, const char *s, size_t n); /* u32 length + bytes */
uint8_t wire_get_u8(wire_rd *r);
uint16_t wire_get_u16(wire_rd *r);
uint32_t wire_get_u32(wire_rd *r);
uint64_t wire_get_u64(wire_rd *r);
/* Points into the reader's buffer (not NUL-terminated). */
const char *wire_get_str(wire_rd *r, size_t *n);

/* ---- Entries (commands.c) ----
 *
 * A Raft entry is a batch: {magic 'W', entry version, ncmds, term} followed
 * by ncmds commands {type, version, payload length, payload}. Group commit
 * packs every write of a loop tick into one entry.
 */
/*
 * Client sessions (the Raft dissertation, §6.3). A node forwarding writes to
 * the leader puts SESSION {a: its node id, u1: seq, u2: count, u3: incarnation}
 * before the `count` commands of one forward, numbering its forwards 1, 2, ...
 * per incarnation (a start of the process). When a forward is retried after
 * its leader died, the FSM applies it once: a seq it has applied already gets
 * WIRE_APPLY_DUPLICATE and the first results of those commands, unapplied.
 * It remembers the last WIRE_SESSION_WINDOW seqs per node (kept in snapshots);
 * an older seq, or an older incarnation, gets WIRE_APPLY_EXPIRED for the
 * session and every command in it (the forwarder answers 503: unknown outcome).
 */
#define WIRE_SESSION_WINDOW 64
#define WIRE_ENTRY_MAGIC 0x57 /* 'W' */
#define WIRE_ENTRY_VERSION 1
#define WIRE_ENTRY_HEADER 16
#define WIRE_CMD_HEADER 8

/* Append one encoded command (its header and payload) to `b`. */
void wire_cmd_encode(wire_buf *b, const wire_cmd *c);
/* Begin an entry of `ncmds` commands in `b` (reset first); commands follow. */
void wire_entry_begin(wire_buf *b, uint32_t ncmds, uint64_t term);
/* Patch the command count of an entry built in `b`. */
void wire_entry_set_count(wire_buf *b, uint32_t ncmds);
/*
 * Iterate an entry. wire_entry_open validates the header; wire_entry_next
 * returns 1 with the next command, 0 at the end, or WIRE_EPARSE.
 */
typedef struct wire_entry_iter {
    wire_rd r;
    uint32_t left;
    uint64_t term;
} wire_entry_iter;
int wire_entry_open(wire_entry_iter *it, const void *p, size_t n, wire_err *err);
int wire_entry_next(wire_entry_iter *it, wire_cmd *c, wire_err *err);

/* ---- The token table (tokens.c) ----
 *
 * The state machine's table of API tokens (name, SHA-256, role, created),
 * changed on the loop thread by TOKEN_PUT/TOKEN_DEL and restores, and read
 * from the HTTP thread to authenticate every request: it has its own lock.
 */
typedef struct wire_token_table wire_token_table;
wire_token_table *wire_token_table_new(void);
void wire_token_table_free(wire_token_table *t);
/* TOKEN_PUT / TOKEN_DEL → WIRE_APPLY_*. */
uint8_t wire_token_table_apply(wire_token_table *t, const wire_cmd *c);
/* Encode every token in name order; decode into *out (replaced by _set on success). */
void wire_token_table_encode(wire_token_table *t, wire_buf *out);
typedef struct wire_token_rec {
    wire_token_info info;
    uint8_t hash[WIRE_TOKEN_HASH];
} wire_token_rec;
size_t wire_token_table_decode(wire_rd *r, wire_token_rec **out);
void wire_token_table_set(wire_token_table *t, wire_token_rec *v, size_t n); /* takes v */
bool wire_token_table_find(wire_token_table *t, const uint8_t hash[WIRE_TOKEN_HASH],
                           wire_token_info *out);
size_t wire_token_table_list(wire_token_table *t, wire_token_info **out);

/* ---- State machine (fsm.c) ---- */

typedef struct wire_fsm wire_fsm;

struct raft;
struct raft_fsm;

wire_fsm *wire_fsm_new(void);
void wire_fsm_free(wire_fsm *f);
/* The raft_fsm to hand to raft_init (version 2; data = f). Filled by _new. */
struct raft_fsm *wire_fsm_raft(wire_fsm *f);
/*
 * Snapshots encoded and compressed on the io's thread pool (raft_fsm version
 * 3; the io must have async_work and version >= 2), or on the loop thread
 * (version 2, the default: raft_fixture's io has no version 2). Before raft_init.
 */
void wire_fsm_set_async_snapshots(wire_fsm *f, bool async);
/* The raft instance (for the index being applied and snapshot metadata). */
void wire_fsm_attach(wire_fsm *f, struct raft *r);
/* Called on the loop thread after each applied entry (index) and after a restore. */
void wire_fsm_on_apply(wire_fsm *f, void (*cb)(void *arg, uint64_t index), void *arg);

/* Its token table (read from any thread). */
wire_token_table *wire_fsm_tokens(wire_fsm *f);
/* Apply one entry directly (the raft apply callback does this). */
int wire_fsm_apply_entry(wire_fsm *f, uint64_t index, const void *p, size_t n);
/* Results of the last applied entry, one per command (valid until the next apply). */
const uint8_t *wire_fsm_last_results(const wire_fsm *f, uint32_t *n);
/* Snapshot payload: the uncompressed, deterministic encoding of every table. */
void wire_fsm_encode(const wire_fsm *f, wire_buf *out);
int wire_fsm_decode(wire_fsm *f, const void *p, size_t n, wire_err *err);
/* Digest of the whole state (determinism checks in tests). */
uint64_t wire_fsm_digest(const wire_fsm *f);
uint64_t wire_fsm_applied_index(const wire_fsm *f);
/* Snapshots restored into this FSM (at start or installed by the leader). */
uint64_t wire_fsm_restores(const wire_fsm *f);

/* Reads (loop thread only). */
/* KV value, or NULL. The pointer is valid until the next apply. */
const char *wire_fsm_kv_get(const wire_fsm *f, const char *key, size_t klen, size_t *vlen);
size_t wire_fsm_kv_count(const wire_fsm *f);

typedef struct wire_node_rec {
    const char *id, *raft_addr, *api_addr;
    bool voter;
    bool draining; /* stopped gracefully and not back yet: nothing is placed there */
    int64_t last_seen_ms;
} wire_node_rec;
/* Look a node record up by id; returns false if absent. */
bool wire_fsm_node_get(const wire_fsm *f, const char *id, wire_node_rec *out);
/* Find a node record by raft address; returns false if absent. */
bool wire_fsm_node_by_addr(const wire_fsm *f, const char *raft_addr, wire_node_rec *out);

typedef struct wire_pipeline_rec {
    const char *name, *spec, *error, *node, *placement;
    uint64_t version, epoch;
    int state;
    const char *checkpoint, *stats; /* stats: counters as of the checkpoint (JSON) */
    size_t spec_len, checkpoint_len;
    uint64_t checkpoint_epoch;
} wire_pipeline_rec;
bool wire_fsm_pipeline_get(const wire_fsm *f, const char *name, wire_pipeline_rec *out);
size_t wire_fsm_pipeline_count(const wire_fsm *f);
/* Every pipeline / node, sorted by name / id (malloc'd array; valid until the next apply). */
size_t wire_fsm_pipelines(const wire_fsm *f, wire_pipeline_rec **out);
size_t wire_fsm_nodes(const wire_fsm *f, wire_node_rec **out);

/* ---- Snapshot framing (snapshot.c) ----
 *
 * {magic "WSNP", format version u32, index u64, term u64, raw length u64,
 * compressed length u64, checksum u64 (FNV-1a of the compressed payload)}
 * followed by the zstd-compressed FSM encoding.
 */
#define WIRE_SNAP_MAGIC 0x504e5357u /* "WSNP" little-endian */
#define WIRE_SNAP_VERSION 1
#define WIRE_SNAP_HEADER 48
int wire_snapshot_pack(const void *raw, size_t n, uint64_t index, uint64_t term, wire_buf *out,
                       wire_err *err);
/* On success `raw` holds the decompressed payload; index/term from the frame. */
int wire_snapshot_unpack(const void *p, size_t n, wire_buf *raw, uint64_t *index, uint64_t *term,
                         wire_err *err);

/* ---- Node ids ---- */
/* Raft ids are a 64-bit hash of the string node id (never 0). */
uint64_t wire_node_raft_id(const char *id);

/* ---- RPC framing (rpc.c) ----
 *
 * Every RPC message: {length u32 (of what follows), version u8, type u8,
 * flags u16, request id u64} then a payload. Replies carry the request id.
 */
#define WIRE_RPC_VERSION 1
#define WIRE_RPC_HEADER 16
#define WIRE_RPC_MAX_FRAME (64u << 20)
enum {
    WIRE_RPC_JOIN = 1,      /* id, raft addr, api addr, voter → status, leader */
    WIRE_RPC_NOTIFY = 2,    /* id, raft addr, api addr → ok (bootstrap-expect) */
    WIRE_RPC_REMOVE = 3,    /* id → status */
    WIRE_RPC_API_ADDR = 4,  /* → api addr */
    WIRE_RPC_APPLY = 5,     /* encoded commands → status, index, per-command results */
    WIRE_RPC_READ = 6,      /* level, key → status, value */
    WIRE_RPC_COMMIT = 7,    /* → status, the leader's commit index (readyz?sync) */
    WIRE_RPC_HEARTBEAT = 8, /* leader → member: term, commit index → ok (liveness) */
    WIRE_RPC_REMOVED = 9,   /* leader → a node it removed: leader id → ok (so it logs it) */
    WIRE_RPC_REPLY = 128,   /* flag or'ed into replies' type */
};
void wire_rpc_frame_begin(wire_buf *b, uint8_t type, uint64_t req_id);
void wire_rpc_frame_end(wire_buf *b, size_t start); /* patch the length */
typedef struct wire_rpc_msg {
    uint8_t version, type;
    uint64_t req_id;
    const uint8_t *payload;
    size_t payload_len;
} wire_rpc_msg;
/*
 * Parse one frame from p[0..n): 1 with *msg and *used filled, 0 if more bytes
 * are needed, WIRE_EPARSE for a malformed frame (bad version, too large).
 */
int wire_rpc_frame_parse(const void *p, size_t n, wire_rpc_msg *msg, size_t *used, wire_err *err);

/* ---- Mux (mux.c) ---- */
enum { WIRE_MUX_RAFT = 1, WIRE_MUX_RPC = 2 };

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
/* Peer TLS: accepted connections speak TLS with `server` (NULL: none); `client` is what
   dials through this mux use (wire_mux_client_tls). Not owned. */
struct wire_tls;
void wire_mux_set_tls(wire_mux *m, struct wire_tls *server, struct wire_tls *client);
struct wire_tls *wire_mux_client_tls(const wire_mux *m);

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
    struct wire_tls *tls; /* peer TLS (the mux's client context), or NULL: set before start */
};
int wire_dial_start(wire_dial *d, uv_loop_t *loop, const char *addr, uint8_t kind,
                    const void *hello, size_t hello_len, wire_dial_cb cb);
/* Cancel: cb is still called, with UV_ECANCELED. */
void wire_dial_cancel(wire_dial *d);

/* ---- peer_tls.c: TLS on the inter-node port ---- */

/*
 * Run TLS over `raw` (accepted: as the server; dialed: as the client) and,
 * once the handshake is done, call cb with the plaintext side: a new
 * raft_malloc'd uv_tcp_t (a socketpair's end) the services use as they
 * would the TCP connection. A failed or late handshake (WIRE_PEER_TLS_HANDSHAKE_S)
 * is logged with the peer and the reason, and cb gets NULL. Takes raw.
 */
#define WIRE_PEER_TLS_HANDSHAKE_S 10
typedef struct wire_peer_tls wire_peer_tls;
typedef void (*wire_peer_tls_cb)(void *arg, uv_tcp_t *plain);
struct wire_tls;
wire_peer_tls *wire_peer_tls_start(uv_tcp_t *raw, struct wire_tls *tls, bool client,
                                   wire_peer_tls_cb cb, void *arg);
/* Before cb: close everything; cb is not called. */
void wire_peer_tls_abort(wire_peer_tls *p);

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
/* The address of the other end ("?" if unknown), for logs. */
void wire_rpc_conn_peer(const wire_rpc_conn *c, char *out, size_t n);
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
struct wire_tls;
/* tls: peer TLS client context for its dials (NULL: plain). */
wire_rpc_client *wire_rpc_client_new(uv_loop_t *loop, const char *addr, struct wire_tls *tls);
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
 * fewest assigned pipelines (ties: lowest id), never more than max_per_node
 * (0: no cap) on one node. `alive` answers for a node;
 * for one no longer in the nodes table it gets a record with only the id.
 * Returns the count; *out is malloc'd.
 */
size_t wire_schedule(const wire_fsm *f, bool (*alive)(void *arg, const wire_node_rec *node),
                     void *arg, size_t max_per_node, wire_assignment **out);

/* ---- runners.c: the pipelines assigned to this node, run by the engine ---- */

typedef struct wire_runners wire_runners;
struct wire_registry;
/*
 * What the runners may ask of the node that owns them, registered at start
 * (the runners never call up into node.c otherwise).
 */
typedef struct wire_runners_host {
    int (*call)(void *node, wire_node_op *op); /* submit and wait, from the supervisor */
    void *node;
    const char *node_id; /* valid while the runners live */
} wire_runners_host;
wire_runners *wire_runners_start(const wire_runners_host *host, const struct wire_registry *reg,
                                 const struct wire_sandbox *sandbox, const char *dir);
/* Something changed: look again now (any thread; cheap). */
void wire_runners_kick(wire_runners *r);
/* Live counters of `name` if it runs here: stats JSON appended to out, true. */
bool wire_runners_live(wire_runners *r, const char *name, wire_buf *out);
/* Every pipeline running here with its live counters, sorted by name, in one pass
   under the lock (a list of N pipelines asks once, not N times). */
typedef struct wire_runner_live {
    char *name, *counters; /* owned; counters is stats JSON */
} wire_runner_live;
size_t wire_runners_live_all(wire_runners *r, wire_runner_live **out);
void wire_runner_lives_free(wire_runner_live *v, size_t n);
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
/*
 * This start's incarnation (client sessions' epoch): above the last one
 * recorded in dir/incarnation and at least the wall clock in ms (so a wiped
 * directory still starts above its old life); recorded durably before use.
 */
int wire_raft_dir_incarnation(const char *dir, uint64_t *out, wire_err *err);

#endif
