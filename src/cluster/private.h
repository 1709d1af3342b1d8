/*
 * private.h — the node's own pieces, shared by the files that make up a
 * node and nobody else: the node struct, group-commit batches, strong-read
 * groups, membership jobs, and the functions one concept file offers the
 * others. node.c (lifecycle and wiring) calls into the concept files; they
 * call lower ones (commit.c, reads.c, peers.c) and never node.c; news that
 * goes upward travels through callbacks the caller stored (a batch item's
 * job_done, the runners' host).
 *
 *   commit.c      group commit, forwarding to the leader, applied-index waiters
 *   reads.c       KV reads: none, weak, strong (barrier groups), forwarded
 *   service.c     the cluster RPC service (requests from other nodes)
 *   membership.c  membership jobs, join, bootstrap-expect, self record
 *   placement.c   heartbeats, liveness, placement, fencing, drain
 *   info.c        status info and pipeline records copied out
 *   peers.c       RPC clients to other nodes, pings
 *
 * Everything here runs on the node's loop thread.
 */
#ifndef WIRE_CLUSTER_PRIVATE_H
#define WIRE_CLUSTER_PRIVATE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "cluster/internal.h"

#define MAX_INFLIGHT 1
#define MAX_BATCH_BYTES (4u << 20)
#define TICK_MS 50
#define RPC_TIMEOUT_MS 5000
#define PING_EVERY_MS 1000
#define REACHABLE_MS 3000
#define HEARTBEAT_EVERY_MS 500 /* leader → members: liveness for placement, fencing */
#define SCHEDULE_EVERY_MS 200
#define LEAVE_BUDGET_MS 5000 /* SIGTERM: final checkpoints and hand-backs, all of them */

/* RPC reply status bytes. */
enum { RS_OK = 0, RS_NOTLEADER = 1, RS_ERROR = 2, RS_NOTFOUND = 3 };

/* ---- Group-commit batches ---- */

enum { ITEM_OP, ITEM_RPC, ITEM_JOB, ITEM_FWD };

typedef struct job job;
typedef struct fwd_call fwd_call; /* a follower's forward (commit.c) */

typedef struct bitem {
    int kind;
    wire_node_op *op;
    wire_rpc_conn *conn;
    uint64_t req_id;
    uint32_t first, count; /* its commands in the entry */
    job *job;
    void (*job_done)(job *j, int status, uint64_t index); /* ITEM_JOB: its owner's step */
    fwd_call *fwd;                                        /* ITEM_FWD */
    bool fault_exit; /* ITEM_RPC: the WIRE_FAULT_EXIT_AFTER_COMMIT hook matched (commit.c) */
} bitem;

typedef struct batch {
    struct raft_apply req;
    wire_node *n;
    bitem *items;
    size_t nitems, cap;
} batch;

/* A strong-read group waiting for one barrier. */
typedef struct rgroup {
    struct raft_barrier req;
    wire_node *n;
    bitem *items; /* ITEM_OP (KV_GET) or ITEM_RPC (READ, key in op-less form) */
    char **keys;
    size_t *klens;
    size_t nitems, cap;
} rgroup;

/* A membership change on the leader (join or remove), run one at a time. */
enum { JOB_JOIN, JOB_REMOVE };
struct job {
    job *next;
    wire_node *n;
    int type;
    char *id, *raft_addr, *api_addr;
    bool voter;
    int step;
    struct raft_change change;
    wire_node_op *op;    /* local origin, or */
    wire_rpc_conn *conn; /* remote origin */
    uint64_t req_id;
    uint8_t rpc_type;
};

/* Waiters on this node's applied index (forwarded writes, readyz?sync). */
typedef struct waiter {
    struct waiter *next;
    wire_node_op *op;
    uint64_t index;
} waiter;

typedef struct peer {
    char id[128], raft_addr[256], api_addr[256];
} peer;

typedef struct server_conn {
    struct server_conn *next, *prev;
    wire_rpc_conn *c;
} server_conn;

typedef struct client_ent {
    wire_rpc_client *c;
    int64_t last_reply_ms;
    char api_addr[256];
} client_ent;

struct wire_node {
    struct wire_tls *peer_server, *peer_client; /* peer TLS contexts, or NULL */
    wire_node_config cfg;
    char id[128];
    char raft_adv[256], http_adv[256], dir[1024];
    uint64_t rid;

    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t async;
    uv_timer_t timer;
    uv_check_t check; /* end of each loop iteration: propose what the tick gathered */
    bool loop_ok, thread_ok;

    struct raft raft;
    struct raft_io io;
    int (*io_random)(struct raft_io *io, int min, int max); /* raft_uv's */
    struct raft_uv_transport transport;
    bool raft_ok;
    bool started; /* raft_start done (deferred while bootstrap-expect decides) */
    wire_fsm *fsm;
    wire_mux *mux;

    pthread_mutex_t lock;
    wire_node_op *inq, *inq_tail;
    bool stop_req;
    bool stopping, stopped;
    char fail_msg[512];
    bool failed;

    /* group commit */
    batch *open;    /* filling this tick */
    batch *flying;  /* proposed, not yet committed (MAX_INFLIGHT is 1) */
    wire_buf entry; /* its bytes */
    uint32_t entry_ncmds;
    int inflight;
    rgroup *reads;
    /* follower side forwarding of this tick */
    wire_buf fwd;
    uint32_t fwd_ncmds;
    wire_node_op **fwd_ops;
    size_t nfwd, capfwd;
    fwd_call *fwd_wait;          /* forwards waiting for a leader, in order */
    uint64_t fwd_seq;            /* the last forward's session seq */
    uint64_t incarnation;        /* this start of the process (raft_dir.c): sessions' epoch */
    const char *fault_exit_name; /* WIRE_FAULT_EXIT_AFTER_COMMIT (test hook, commit.c) */

    job *jobs, *jobs_tail;
    bool job_running;

    waiter *waiters;

    /* peers */
    client_ent *clients;
    size_t nclients;
    server_conn sconns;

    /* forming */
    bool have_state;
    int64_t start_ms;
    int join_attempt;
    int64_t next_join_ms;
    bool joined, joining;
    int64_t expect_deadline_ms;
    peer *known;
    size_t nknown;
    bool bootstrapped;

    /* snapshots */
    int64_t next_snap_ms;
    uint64_t snap_base;
    bool snap_forced;

    /* self record check and pings */
    int64_t next_self_ms, next_ping_ms;
    bool self_inflight;

    /* shutdown */
    int stop_phase;
    int64_t stop_deadline_ms;
    struct raft_transfer transfer;

    /* counters */
    uint64_t c_entries, c_cmds_applied, c_batches, c_cmds_proposed, c_forwarded, c_snap_restored;
    uint64_t c_rpc_in, c_rpc_out, c_leader_changes;
    raft_id last_leader;

    /* pipelines: heartbeats, placement (leader), runners (every node) */
    int64_t last_hb_ms;         /* member: the leader's last heartbeat */
    uint64_t sync_target;       /* member: the commit index to apply before running anything */
    bool caught_up;             /* member: applied that much since the last contact gap */
    int64_t next_hb_ms;         /* leader: next heartbeat round */
    int64_t leader_since_ms;    /* leader: when this node became it */
    uint64_t sched_term;        /* leader: the term whose first barrier applied */
    int64_t next_sched_ms;      /* leader: next placement pass */
    int sched_inflight;         /* leader: assignments proposed, not yet committed */
    char last_leader_addr[256]; /* member: the leader it last followed */
    char prev_leader_addr[256]; /* leader: that one, when it took over */
    int64_t prev_leader_seen_ms;
    uint64_t c_assignments;
    wire_runners *runners;
    atomic_bool leaving;                   /* wire_node_stop began: place nothing here any more */
    atomic_int_fast64_t leave_deadline_ms; /* then: the last writes' common deadline */
    bool undrain_inflight, gc_inflight;
    struct departed {
        char id[128];
        int64_t since_ms;
    } departed[16]; /* leader: nodes gone from the configuration, and since when */
    /* membership.c: the Raft configuration last seen (logged when it changes) */
    struct seen_member {
        uint64_t id;
        int role;
        char addr[128];
        char name[128]; /* its id, once its record is known */
    } * seen;
    size_t nseen;
    bool seen_ok;
    bool removed_told;         /* the leader said this node was removed */
    wire_node_op *remove_wait; /* removals waiting for a leader (membership.c) */
};

/* An op's request to the leader: the reply comes to `reply` with the op (m NULL on failure). */
typedef void (*node_op_reply)(wire_node *n, wire_node_op *op, int status, const wire_rpc_msg *m);

/* ---- Small helpers every piece uses ---- */

static inline void op_done(wire_node_op *op, int status, const char *fmt, ...) WIRE_PRINTF(3, 4);
static inline void op_done(wire_node_op *op, int status, const char *fmt, ...)
{
    op->status = status;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(op->err, sizeof(op->err), fmt, ap);
        va_end(ap);
    }
    op->done(op);
}

static inline bool is_leader(wire_node *n)
{
    return n->raft_ok && raft_state(&n->raft) == RAFT_LEADER;
}

static inline const char *leader_addr(wire_node *n)
{
    raft_id id;
    const char *addr;
    if (!n->raft_ok)
        return NULL;
    raft_leader(&n->raft, &id, &addr);
    return id ? addr : NULL;
}

static inline const struct raft_server *config_find(wire_node *n, uint64_t rid, const char *addr)
{
    struct raft_configuration *c = &n->raft.configuration;
    for (unsigned i = 0; i < c->n; i++)
        if (c->servers[i].id == rid || (addr && strcmp(c->servers[i].address, addr) == 0))
            return &c->servers[i];
    return NULL;
}

/* ---- peers.c ---- */
client_ent *node_client_for(wire_node *n, const char *addr);
void node_rpc_call(wire_node *n, const char *addr, uint8_t type, const wire_buf *payload,
                   wire_rpc_reply_cb cb, void *arg);
void node_call_members(wire_node *n, uint8_t type, const wire_buf *payload);
void node_forward_op(wire_node *n, uint8_t type, const wire_buf *payload, node_op_reply reply,
                     wire_node_op *op);
void node_ping_members(wire_node *n);
/* Replies: begin one to (type, req_id) in b; finish, send and free it. */
void node_reply_begin(wire_buf *b, uint8_t type, uint64_t req_id);
void node_reply_send(wire_rpc_conn *c, wire_buf *b);
/* A reply of {status, leader address, message} (join, remove, heartbeat, errors). */
void node_reply_status(wire_rpc_conn *c, uint8_t type, uint64_t req_id, uint8_t st,
                       const char *leader, const char *msg);

/* ---- commit.c ---- */
void node_check_waiters(wire_node *n);
void node_wait_applied(wire_node *n, wire_node_op *op, uint64_t index);
void node_waiters_applied(wire_node *n, uint64_t index);
/* Append one command to the open batch with the item (of `kind`) that waits for it. */
bitem *node_batch_cmd(wire_node *n, const wire_cmd *c, int kind);
void node_free_barrier(struct raft_barrier *b, int status);
void node_fail_open_batch(wire_node *n, int status);
void node_forward_flush(wire_node *n);
void node_forward_retry(wire_node *n);              /* waiting forwards: send again or time out */
void node_expire_writes(wire_node *n, int64_t now); /* own batches' writes past their deadline */
void node_write(wire_node *n, wire_node_op *op);
void node_flush(wire_node *n);
void node_apply_remote(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m, wire_rd *r);
void node_propose(wire_node *n); /* the open batch, if allowed */

/* ---- reads.c ---- */
void node_read(wire_node *n, wire_node_op *op); /* a KV_GET op */
void node_reads_flush(wire_node *n);
void node_read_remote(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m, wire_rd *r);

/* ---- membership.c ---- */
/* A membership job of `type` (JOB_*) about node `id`; the caller fills the rest. */
job *node_job_new(int type, const char *id, size_t idlen);
void node_submit_job(wire_node *n, job *j);
void node_remove_op(wire_node *n, wire_node_op *op);
/* Removals parked for want of a leader: try again, or fail those past their deadline. */
void node_remove_retry(wire_node *n, int64_t now);
/* Log what changed in the Raft configuration since the last look (every node). */
void node_watch_config(wire_node *n);
/* The leader told this node it was removed. */
void node_on_removed(wire_node *n, const char *by, size_t bylen);
void node_job_reply(job *j, int status, const char *msg);
void node_run_jobs(wire_node *n);
void node_add_known(wire_node *n, const char *id, size_t il, const char *ra, size_t rl,
                    const char *api, size_t al);
void node_read_known(wire_node *n, wire_rd *r);
void node_notify_reply_payload(wire_node *n, wire_buf *b);
bool node_join_addr(const char *list, size_t idx, char *out, size_t n);
void node_join_send(wire_node *n, const char *addr, size_t idx, int hops);
void node_bootstrap_with(wire_node *n, const peer *v, size_t k);
void node_expect_tick(wire_node *n, int64_t now);
void node_self_check(wire_node *n);
bool node_self_spare(wire_node *n);

/* ---- service.c ---- */
void node_on_rpc_conn(void *arg, uv_tcp_t *tcp);

/* ---- placement.c ---- */
int node_run_mode(wire_node *n, int64_t now);
void node_on_heartbeat(wire_node *n, uint64_t term, uint64_t commit);
void node_pipelines_member_tick(wire_node *n, int64_t now);
void node_pipelines_leader_tick(wire_node *n, int64_t now);
void node_leader_began(wire_node *n, int64_t now);
void node_undrain(wire_node *n, int64_t now);
void node_gc_records(wire_node *n);

/* ---- info.c ---- */
void node_fill_info(wire_node *n, wire_node_info *info);
void node_fill_pipelines(wire_node *n, wire_node_op *op);

#endif
