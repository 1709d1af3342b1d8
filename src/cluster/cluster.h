/*
 * cluster.h — Wire's control plane on libraft: the replicated state machine
 * (fsm.c, commands.c, snapshot.c), the one inter-node port (mux.c) with the
 * Raft transport (transport.c) and the cluster RPC (rpc.c), and the node
 * that ties them together on its own libuv loop thread (node.c).
 *
 * Threads: a node owns one loop thread; everything Raft, the FSM and the
 * inter-node connections live there. Other threads (the HTTP API) talk to
 * the node only through wire_node_submit(): an op is queued, the loop picks
 * it up, and op->done is called on the loop thread when it completes.
 *
 * Imports point down: api → cluster → engine → core. Nothing here knows HTTP.
 */
#ifndef WIRE_CLUSTER_H
#define WIRE_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

struct raft;
struct raft_fsm;
struct raft_buffer;

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

/* ---- Commands (commands.c) ----
 *
 * A Raft entry is a batch: {magic 'W', entry version, ncmds, term} followed
 * by ncmds commands {type, version, payload length, payload}. Group commit
 * packs every write of a loop tick into one entry.
 */
enum {
    WIRE_CMD_KV_SET = 1,         /* key, value */
    WIRE_CMD_KV_DEL = 2,         /* key */
    WIRE_CMD_NODE_SET = 3,       /* id, raft addr, api addr, voter */
    WIRE_CMD_NODE_DEL = 4,       /* id */
    WIRE_CMD_PIPELINE_PUT = 5,   /* name, placement, expected version (0 create, ~0 any), spec */
    WIRE_CMD_PIPELINE_DEL = 6,   /* name */
    WIRE_CMD_PIPELINE_STATE = 7, /* name, version, epoch, state, error (from the runner) */
    WIRE_CMD_ASSIGN = 8,         /* pipeline, node id, epoch it replaces (→ a new one) */
    WIRE_CMD_CHECKPOINT = 9,     /* pipeline, epoch (must be current), counters, blob */
    WIRE_CMD_NODE_SEEN = 10,     /* id, time_ms (leader's clock, carried in the command) */
    WIRE_CMD_PIPELINE_CTL = 11,  /* name, action (WIRE_CTL_*) */
    WIRE_CMD_NODE_DRAIN = 12,    /* id, draining (a node stopping: place nothing there) */
    WIRE_CMD_SESSION = 13,       /* client (node id), seq, count, incarnation: see below */
    WIRE_CMD_MAX_TYPE = 13,
};
enum { WIRE_CTL_PAUSE = 1, WIRE_CTL_RESUME = 2 };
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

/*
 * Pipeline states. pending: stored, waiting for a node to start it (after
 * create, update, resume or a move); running: its runner reported it started;
 * paused, failed (with its error) and finished stop it where it runs.
 */
enum {
    WIRE_PSTATE_PENDING = 0,
    WIRE_PSTATE_RUNNING,
    WIRE_PSTATE_PAUSED,
    WIRE_PSTATE_FAILED,
    WIRE_PSTATE_FINISHED,
};
const char *wire_pstate_name(int state);

/* One decoded command: strings point into the entry. */
typedef struct wire_cmd {
    uint8_t type, version;
    const char *a, *b, *c; /* key/id/name; value/addr/node; api addr/spec/blob/error */
    size_t alen, blen, clen;
    uint64_t u1, u2, u3; /* version/epoch/time/action; state/voter; epoch (STATE) */
} wire_cmd;

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

/* ---- State machine (fsm.c) ---- */

typedef struct wire_fsm wire_fsm;

/* Result codes of applying one command (deterministic on every node). */
enum {
    WIRE_APPLY_OK = 0,
    WIRE_APPLY_EXISTS = 1,   /* create of something that exists */
    WIRE_APPLY_CONFLICT = 2, /* version/epoch precondition failed */
    WIRE_APPLY_NOTFOUND = 3,
    WIRE_APPLY_STALE = 4,     /* checkpoint with an old assignment epoch */
    WIRE_APPLY_UNKNOWN = 5,   /* command type/version this binary does not know: skipped */
    WIRE_APPLY_INVALID = 6,   /* a malformed name (pipelines: [a-z0-9_-]{1,64}; ids: no NUL) */
    WIRE_APPLY_DUPLICATE = 7, /* SESSION: applied before; the results are the first ones */
    WIRE_APPLY_EXPIRED = 8,   /* SESSION (and its commands): too old to tell; not applied */
};

wire_fsm *wire_fsm_new(void);
void wire_fsm_free(wire_fsm *f);
/* The raft_fsm to hand to raft_init (data = f). Filled by _new. */
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

/* ---- Node (node.c) ---- */

typedef struct wire_node_config {
    const char *node_id;
    const char *http_adv_addr; /* API address other nodes and clients are told */
    const char *raft_addr;     /* bind */
    const char *raft_adv_addr; /* advertised */
    const char *raft_dir;
    const char *join; /* comma-separated inter-node addresses, or NULL */
    int join_attempts;
    int64_t join_interval_ms;
    int bootstrap_expect;
    int64_t bootstrap_expect_timeout_ms;
    bool non_voter;
    unsigned snap_threshold;
    int64_t snap_interval_ms;
    unsigned election_timeout_ms, heartbeat_timeout_ms;
    bool shutdown_stepdown, cluster_remove_shutdown;
    int64_t node_timeout_ms;
    /* Pipelines: with a registry the node runs the pipelines assigned to it
       (runners.c), keeping their working files under raft_dir/pipelines. */
    const struct wire_registry *registry;
} wire_node_config;

typedef struct wire_node wire_node;

int wire_node_start(const wire_node_config *cfg, wire_node **out, wire_err *err);
/* True once the node failed fatally (e.g. could not join): the caller should stop it. */
bool wire_node_failed(wire_node *n, char *msg, size_t msglen);
/* Graceful stop: stepdown / self-remove as configured, close Raft, join the thread, free. */
void wire_node_stop(wire_node *n);

/* Ops: the only way other threads talk to a node. */
enum {
    WIRE_OP_KV_SET = 1,
    WIRE_OP_KV_DEL,
    WIRE_OP_KV_GET,
    WIRE_OP_STATUS,
    WIRE_OP_READY,
    WIRE_OP_REMOVE,
    WIRE_OP_CMD,       /* propose op->cmd; op->result is the state machine's answer */
    WIRE_OP_PIPELINES, /* copy pipeline records into op->pipes (op->key: one name) */
};

/* A pipeline record copied out of the state machine (every string owned). */
typedef struct wire_pipeline_info {
    char *name, *node, *error, *placement, *spec, *checkpoint, *stats;
    size_t spec_len, checkpoint_len;
    uint64_t version, epoch, checkpoint_epoch;
    int state;
    bool live; /* stats are this node's live counters (it runs the pipeline) */
} wire_pipeline_info;
void wire_pipeline_infos_free(wire_pipeline_info *v, size_t n);

/* What the node's runners may do now (WIRE_OP_PIPELINES with mine). */
enum {
    WIRE_RUN_OK,    /* in touch with the leader and caught up: run what is assigned here */
    WIRE_RUN_HOLD,  /* not sure yet (catching up, short leader gap): change nothing */
    WIRE_RUN_FENCE, /* out of touch for too long: the leader moved everything, stop all */
};
enum { WIRE_READ_NONE = 0, WIRE_READ_WEAK, WIRE_READ_STRONG };

typedef struct wire_member {
    char id[128], raft_addr[256], api_addr[256];
    bool voter, reachable, leader;
} wire_member;

typedef struct wire_node_info {
    char id[128];
    char leader_id[128], leader_addr[256], leader_api[256];
    const char *state; /* "Leader", "Follower", "Candidate", "Unavailable" */
    uint64_t term, commit_index, applied_index, last_snapshot_index, last_log_index;
    int voters, non_voters;
    wire_member *members; /* malloc'd */
    size_t nmembers;
    size_t kv_keys, pipelines;
    /* counters */
    uint64_t entries_applied, commands_applied, batches_proposed, commands_proposed;
    uint64_t forwarded, snapshots_taken, snapshots_restored, mux_unknown, mux_conns;
    uint64_t rpc_in, rpc_out, leader_changes;
    uint64_t assignments; /* placement decisions proposed here (as leader) */
} wire_node_info;

typedef struct wire_node_op wire_node_op;
struct wire_node_op {
    int type;
    /* inputs (owned by the submitter, valid until done) */
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
    int level;     /* KV_GET */
    bool noleader; /* READY */
    bool sync;     /* READY: wait for the leader's commit index */
    int64_t timeout_ms;
    /* outputs */
    int status;          /* 0, or WIRE_ENOTFOUND, WIRE_EAGAIN (no leader), WIRE_EINVAL, ... */
    char err[256];       /* message when status != 0 */
    uint64_t index;      /* writes: the applied index */
    wire_buf value;      /* KV_GET */
    wire_node_info info; /* STATUS / READY */
    bool ready_leader, ready_store;
    wire_cmd cmd;   /* CMD: strings owned by the submitter */
    uint8_t result; /* CMD: WIRE_APPLY_* once committed */
    bool mine;      /* PIPELINES: only those assigned to this node, and run_mode */
    bool with_spec; /* PIPELINES: copy specs and checkpoints too */
    wire_pipeline_info *pipes;
    size_t npipes;
    int run_mode;
    void (*done)(wire_node_op *op); /* on the node's loop thread */
    void *arg;
    /* node-internal */
    wire_node_op *next;
    int64_t deadline_ms;
};

void wire_node_submit(wire_node *n, wire_node_op *op);
/* Submit and wait for completion (not from the node's loop thread); returns op->status. */
int wire_node_call(wire_node *n, wire_node_op *op);
const char *wire_node_id(const wire_node *n);
/* fn for every pipeline this node runs now (any thread; keep fn short: it holds a lock). */
struct wire_pipeline;
void wire_node_pipelines_each(wire_node *n, void (*fn)(struct wire_pipeline *p, void *arg),
                              void *arg);
void wire_node_info_free(wire_node_info *info);

#endif
