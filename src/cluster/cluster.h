/*
 * cluster.h — the public face of Wire's control plane, what api/ and cli/
 * call: a node's config, start and stop, the ops other threads submit, the
 * commands and state-machine answers they carry, and the status and
 * pipeline records a node copies out. Everything else of src/cluster (byte
 * encoding, entries, the FSM, snapshot and RPC framing, the mux) is in
 * cluster/internal.h; the node's own pieces are in cluster/private.h.
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
#include "core/token.h"
#include "net/tls.h"

/* ---- Commands: what a write proposes (encoded by commands.c, applied by fsm.c) ---- */
enum {
    WIRE_CMD_KV_SET = 1,         /* key, value */
    WIRE_CMD_KV_DEL = 2,         /* key */
    WIRE_CMD_NODE_SET = 3,       /* id, raft addr, api addr, voter */
    WIRE_CMD_NODE_DEL = 4,       /* id */
    WIRE_CMD_PIPELINE_PUT = 5,   /* name, placement, expected version (0 create, ~0 any), spec,
                                    pipelines per node (0: no cap), instances (parallelism;
                                    0: 1) */
    WIRE_CMD_PIPELINE_DEL = 6,   /* name */
    WIRE_CMD_PIPELINE_STATE = 7, /* name, version, epoch, state, error (from the runner) */
    WIRE_CMD_ASSIGN = 8,         /* pipeline, node id, epoch it replaces (→ a new one) */
    WIRE_CMD_CHECKPOINT = 9,     /* pipeline, epoch (must be current), counters, blob */
    WIRE_CMD_NODE_SEEN = 10,     /* id, time_ms (leader's clock, carried in the command) */
    WIRE_CMD_PIPELINE_CTL = 11,  /* name, action (WIRE_CTL_*) */
    WIRE_CMD_NODE_DRAIN = 12,    /* id, draining (a node stopping: place nothing there) */
    WIRE_CMD_SESSION = 13,       /* client (node id), seq, count, incarnation (internal.h) */
    WIRE_CMD_TOKEN_PUT = 14,     /* name, SHA-256 of the secret, role, created_ms, flags
                                    (WIRE_TOKEN_FIRST: only into an empty table) */
    WIRE_CMD_TOKEN_DEL = 15,     /* name */
    WIRE_CMD_MAX_TYPE = 15,
};
enum { WIRE_CTL_PAUSE = 1, WIRE_CTL_RESUME = 2 };
enum { WIRE_TOKEN_FIRST = 1 }; /* TOKEN_PUT: the bootstrap admin, only if there is no token */
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

/* ---- State-machine answers ---- */

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
    WIRE_APPLY_FULL = 9,      /* PIPELINE_PUT create: pipelines to run >= cap per node x nodes */
};

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
    /* A write with no leader to take it waits this long for one (--request-timeout; 5s) */
    int64_t request_timeout_ms;
    int64_t max_pipelines; /* the scheduler gives a node at most this many (0: no cap) */
    /* Pipelines: with a registry the node runs the pipelines assigned to it
       (runners.c), keeping their working files under raft_dir/pipelines. */
    const struct wire_registry *registry;
    /* The directories those pipelines' files must stay in (core/sandbox.h;
       --allowed-paths); NULL: unrestricted. Outlives the node. */
    const struct wire_sandbox *sandbox;
    /* --auth: a node joins only with a token of role node or admin (--join-token, sent as
       join_token), or as a member re-registering at the address it has */
    bool auth;
    const char *join_token;
    /* Peer TLS on the inter-node port (--peer-cert-file, --peer-key-file,
       --peer-trusted-ca-file, --peer-client-cert-auth, --peer-cert-allowed-cn): the
       certificate is presented both ways, the CA verifies the other side; NULL: plain. With
       client_cert_auth a peer's certificate authenticates its join (no --join-token). */
    const wire_tls_files *peer_tls;
} wire_node_config;

typedef struct wire_node wire_node;

int wire_node_start(const wire_node_config *cfg, wire_node **out, wire_err *err);
/* True once the node failed fatally (e.g. could not join): the caller should stop it. */
bool wire_node_failed(wire_node *n, char *msg, size_t msglen);
/* Graceful stop: stepdown / self-remove as configured, close Raft, join the thread, free. */
void wire_node_stop(wire_node *n);
/* Any thread (SIGHUP): reload the peer TLS files at the next tick even if they look unchanged. */
void wire_node_reload_tls(wire_node *n);

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
/*
 * A pipeline with `parallelism: N` is N records: NAME (instance 0) and
 * NAME#1 .. NAME#(N-1), each placed, run and checkpointed on its own. '#'
 * cannot occur in a pipeline name, and sorts below every character that can,
 * so a pipeline's instances follow it in name order.
 */
#define WIRE_MAX_INSTANCES 256
#define WIRE_INSTANCE_NAME_MAX 80
/* The instance number of a record name ("a#2" -> 2, "a" -> 0), and the pipeline's name
   length (*base_len). */
uint32_t wire_instance_of(const char *record, size_t *base_len);
/* `name` is an instance record NAME#i of the pipeline whose record is `record`. */
bool wire_instance_sibling(const char *record, const char *name);

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
    bool instances; /* PIPELINES with a key: its instances NAME#i too */
    wire_pipeline_info *pipes;
    size_t npipes;
    int run_mode;
    void (*done)(wire_node_op *op); /* on the node's loop thread */
    void *arg;
    /* node-internal */
    wire_node_op *next;
    int64_t deadline_ms;
    int64_t retry_ms;     /* REMOVE waiting for a leader: the next try */
    bool outcome_unknown; /* REMOVE: an earlier try may have applied */
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

/* A token as the state machine keeps it: never its secret, only its hash. */
typedef struct wire_token_info {
    char name[WIRE_TOKEN_NAME_MAX + 1];
    int role; /* WIRE_ROLE_* */
    int64_t created_ms;
} wire_token_info;
/* The token whose secret hashes to `hash` (any thread): false if there is none. */
bool wire_node_token_find(wire_node *n, const uint8_t hash[WIRE_TOKEN_HASH], wire_token_info *out);
/* Every token, by name (any thread; *out malloc'd). */
size_t wire_node_tokens(wire_node *n, wire_token_info **out);

#endif
