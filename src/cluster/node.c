/*
 * node.c — a Wire cluster node: libraft on its own libuv loop thread, with
 * the mux port, the Raft transport, the cluster RPC service and client, the
 * state machine, group commit, forwarding to the leader, membership changes
 * (join, bootstrap-expect, remove) and graceful shutdown.
 *
 * Threads: everything below runs on the node's loop thread except
 * wire_node_submit(), which queues an op under a mutex and wakes the loop
 * with a uv_async. Ops are drained once per wakeup ("tick"): every write of
 * a tick goes into ONE Raft entry (group commit), or into ONE forwarding RPC
 * when this node is a follower. At most MAX_INFLIGHT entries are in flight;
 * writes arriving meanwhile wait for the next entry, which makes batches
 * grow with the load.
 *
 * See docs/cluster.md for the protocols (join, notify, remove, forwarding,
 * read levels) and the bootstrap-expect algorithm.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/internal.h"

#define MAX_INFLIGHT 1
#define MAX_BATCH_BYTES (4u << 20)
#define TICK_MS 50
#define RPC_TIMEOUT_MS 5000
#define PING_EVERY_MS 1000
#define REACHABLE_MS 3000
#define HEARTBEAT_EVERY_MS 500 /* leader → members: liveness for placement, fencing */
#define SCHEDULE_EVERY_MS 200

/* RPC reply status bytes. */
enum { RS_OK = 0, RS_NOTLEADER = 1, RS_ERROR = 2, RS_NOTFOUND = 3 };

typedef struct wire_node_s wire_node_s;

/* ---- Group-commit batches ---- */

enum { ITEM_OP, ITEM_RPC, ITEM_JOB };

typedef struct job job;

typedef struct bitem {
    int kind;
    wire_node_op *op;
    wire_rpc_conn *conn;
    uint64_t req_id;
    uint32_t first, count; /* its commands in the entry */
    job *job;
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
    wire_buf entry; /* its bytes */
    uint32_t entry_ncmds;
    int inflight;
    rgroup *reads;
    /* follower side forwarding of this tick */
    wire_buf fwd;
    uint32_t fwd_ncmds;
    wire_node_op **fwd_ops;
    size_t nfwd, capfwd;

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
    atomic_bool leaving; /* wire_node_stop began: place nothing here any more */
    bool undrain_inflight, gc_inflight;
    struct departed {
        char id[128];
        int64_t since_ms;
    } departed[16]; /* leader: nodes gone from the configuration, and since when */
};

static void node_tick(wire_node *n);
static bool self_spare(wire_node *n);
static void op_done(wire_node_op *op, int status, const char *fmt, ...) WIRE_PRINTF(3, 4);
static void flush(wire_node *n);
static void run_jobs(wire_node *n);

static void op_done(wire_node_op *op, int status, const char *fmt, ...)
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

static bool is_leader(wire_node *n)
{
    return n->raft_ok && raft_state(&n->raft) == RAFT_LEADER;
}

static const char *leader_addr(wire_node *n)
{
    raft_id id;
    const char *addr;
    if (!n->raft_ok)
        return NULL;
    raft_leader(&n->raft, &id, &addr);
    return id ? addr : NULL;
}

static client_ent *client_for(wire_node *n, const char *addr)
{
    for (size_t i = 0; i < n->nclients; i++)
        if (strcmp(wire_rpc_client_addr(n->clients[i].c), addr) == 0)
            return &n->clients[i];
    n->clients = wire_xrealloc(n->clients, (n->nclients + 1) * sizeof(*n->clients));
    client_ent *e = &n->clients[n->nclients++];
    memset(e, 0, sizeof(*e));
    e->c = wire_rpc_client_new(&n->loop, addr);
    return e;
}

static void rpc_call(wire_node *n, const char *addr, uint8_t type, const wire_buf *payload,
                     wire_rpc_reply_cb cb, void *arg)
{
    n->c_rpc_out++;
    wire_rpc_call(client_for(n, addr)->c, type, payload ? payload->p : NULL,
                  payload ? payload->len : 0, RPC_TIMEOUT_MS, cb, arg);
}

/* ---- The applied-index waiters ---- */

static void check_waiters(wire_node *n)
{
    uint64_t applied = n->raft_ok ? raft_last_applied(&n->raft) : 0;
    waiter **pp = &n->waiters;
    int64_t now = wire_now_ms();
    while (*pp) {
        waiter *w = *pp;
        bool ok = w->index <= applied;
        bool late = !ok && w->op->deadline_ms && now >= w->op->deadline_ms;
        if (!ok && !late) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        wire_node_op *op = w->op;
        free(w);
        if (op->type == WIRE_OP_READY) {
            op->ready_store = ok;
            op_done(op, ok ? 0 : WIRE_EAGAIN, ok ? NULL : "not synced with the leader in time");
        } else if (ok) {
            op_done(op, 0, NULL);
        } else {
            op_done(op, WIRE_EAGAIN, "committed at index %" PRIu64 " but not applied here in time",
                    op->index);
        }
    }
}

static void wait_applied(wire_node *n, wire_node_op *op, uint64_t index)
{
    if (n->raft_ok && raft_last_applied(&n->raft) >= index) {
        if (op->type == WIRE_OP_READY)
            op->ready_store = true;
        op_done(op, 0, NULL);
        return;
    }
    if (!op->deadline_ms)
        op->deadline_ms = wire_now_ms() + RPC_TIMEOUT_MS;
    waiter *w = wire_xcalloc(1, sizeof(*w));
    w->op = op;
    w->index = index;
    w->next = n->waiters;
    n->waiters = w;
}

static void on_fsm_apply(void *arg, uint64_t index)
{
    wire_node *n = arg;
    n->c_entries++;
    uint32_t k;
    wire_fsm_last_results(n->fsm, &k);
    n->c_cmds_applied += k;
    if (n->runners)
        wire_runners_kick(n->runners);
    if (n->waiters) {
        /* raft_last_applied is bumped after this returns: compare with index. */
        waiter **pp = &n->waiters;
        while (*pp) {
            waiter *w = *pp;
            if (w->index > index || w->op->type == WIRE_OP_READY) {
                pp = &w->next;
                continue;
            }
            *pp = w->next;
            wire_node_op *op = w->op;
            free(w);
            op_done(op, 0, NULL);
        }
    }
}

/* ---- Group commit: leader side ---- */

static batch *batch_open(wire_node *n)
{
    if (!n->open) {
        n->open = wire_xcalloc(1, sizeof(batch));
        n->open->n = n;
        wire_entry_begin(&n->entry, 0, n->raft.current_term);
        n->entry_ncmds = 0;
    }
    return n->open;
}

static bitem *batch_add(batch *b)
{
    if (b->nitems == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->items = wire_xrealloc(b->items, b->cap * sizeof(bitem));
    }
    bitem *it = &b->items[b->nitems++];
    memset(it, 0, sizeof(*it));
    return it;
}

static void reply_apply(wire_rpc_conn *c, uint64_t req_id, uint8_t status, uint64_t index,
                        const char *msg, const uint8_t *results, uint32_t nres)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_rpc_frame_begin(&b, WIRE_RPC_APPLY | WIRE_RPC_REPLY, req_id);
    wire_put_u8(&b, status);
    wire_put_u64(&b, index);
    wire_put_str(&b, msg, strlen(msg));
    wire_put_u32(&b, nres);
    if (nres)
        wire_buf_append(&b, results, nres);
    wire_rpc_frame_end(&b, 0);
    wire_rpc_conn_send(c, b.p, b.len);
    wire_buf_free(&b);
}

static void job_step(job *j, int status, uint64_t index);

static void batch_finish(batch *b, int status, uint64_t index)
{
    wire_node *n = b->n;
    uint32_t nres = 0;
    const uint8_t *res = status == 0 ? wire_fsm_last_results(n->fsm, &nres) : NULL;
    for (size_t i = 0; i < b->nitems; i++) {
        bitem *it = &b->items[i];
        switch (it->kind) {
        case ITEM_OP: {
            wire_node_op *op = it->op;
            op->index = index;
            if (status != 0) {
                op_done(op, WIRE_EAGAIN, "not committed: %s", raft_strerror(status));
            } else {
                uint8_t r = it->first < nres ? res[it->first] : WIRE_APPLY_OK;
                if (op->type == WIRE_OP_KV_DEL && r == WIRE_APPLY_NOTFOUND)
                    r = WIRE_APPLY_OK; /* deleting an absent key is not an error */
                op->result = r;
                if (op->type == WIRE_OP_CMD) { /* the caller reads the state machine's answer */
                    op_done(op, 0, NULL);
                    break;
                }
                op_done(op, r == WIRE_APPLY_OK ? 0 : WIRE_EINVAL,
                        r == WIRE_APPLY_OK ? NULL : "rejected by the state machine (%u)", r);
            }
            break;
        }
        case ITEM_RPC:
            if (status != 0)
                reply_apply(it->conn, it->req_id, RS_ERROR, 0, raft_strerror(status), NULL, 0);
            else
                reply_apply(it->conn, it->req_id, RS_OK, index, "",
                            it->first + it->count <= nres ? res + it->first : NULL,
                            it->first + it->count <= nres ? it->count : 0);
            wire_rpc_conn_release(it->conn);
            break;
        case ITEM_JOB: job_step(it->job, status, index); break;
        }
    }
    free(b->items);
    free(b);
}

static void free_barrier(struct raft_barrier *b, int status)
{
    free(b);
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    batch *b = req->data;
    wire_node *n = b->n;
    n->inflight--;
    bool remote = false;
    for (size_t i = 0; i < b->nitems && !remote; i++)
        remote = b->items[i].kind == ITEM_RPC;
    batch_finish(b, status, req->index);
    /*
     * Followers learn the commit index from the next AppendEntries. A forwarded
     * write is answered only once its own node applied it, so when nothing else
     * is about to be sent, append a barrier: it carries the new commit index now
     * instead of at the next heartbeat.
     */
    if (status == 0 && remote && n->inflight == 0 && !n->open && is_leader(n)) {
        struct raft_barrier *bar = wire_xcalloc(1, sizeof(*bar));
        if (raft_barrier(&n->raft, bar, free_barrier) != 0)
            free(bar);
    }
    if (!n->stopping)
        flush(n);
}

static void fail_open_batch(wire_node *n, int status)
{
    if (!n->open)
        return;
    batch *b = n->open;
    n->open = NULL;
    batch_finish(b, status, 0);
}

/* Propose the open batch if allowed. */
static void propose(wire_node *n)
{
    if (!n->open || n->inflight >= MAX_INFLIGHT)
        return;
    batch *b = n->open;
    n->open = NULL;
    wire_entry_set_count(&n->entry, n->entry_ncmds);
    /* libraft's segment format needs entry lengths in multiples of 8 (zero padding is
     * harmless: the entry header counts its commands). */
    struct raft_buffer buf;
    buf.len = (n->entry.len + 7) & ~(size_t)7;
    buf.base = raft_malloc(buf.len);
    memcpy(buf.base, n->entry.p, n->entry.len);
    memset((char *)buf.base + n->entry.len, 0, buf.len - n->entry.len);
    b->req.data = b;
    int rc = raft_apply(&n->raft, &b->req, &buf, 1, apply_cb);
    if (rc != 0) {
        raft_free(buf.base);
        batch_finish(b, rc, 0);
        return;
    }
    n->inflight++;
    n->c_batches++;
    n->c_cmds_proposed += n->entry_ncmds;
}

/* Append an encoded command to the open batch; returns its position. */
static uint32_t add_cmd(wire_node *n, const wire_cmd *c)
{
    batch_open(n);
    wire_cmd_encode(&n->entry, c);
    return n->entry_ncmds++;
}

/* ---- Group commit: follower side (forwarding) ---- */

typedef struct fwd_call {
    wire_node *n;
    wire_node_op **ops;
    size_t nops;
} fwd_call;

static void fwd_reply(void *arg, int status, const wire_rpc_msg *m)
{
    fwd_call *f = arg;
    wire_node *n = f->n;
    uint8_t st = RS_ERROR;
    uint64_t index = 0;
    const char *msg = "leader unreachable";
    size_t msglen = strlen(msg);
    uint32_t nres = 0;
    const uint8_t *res = NULL;
    if (status == 0 && m) {
        wire_rd r = {m->payload, m->payload + m->payload_len, false};
        st = wire_get_u8(&r);
        index = wire_get_u64(&r);
        msg = wire_get_str(&r, &msglen);
        nres = wire_get_u32(&r);
        res = r.p;
        if (r.bad || (size_t)(r.end - r.p) < nres) {
            st = RS_ERROR;
            nres = 0;
            msg = "malformed reply";
            msglen = strlen(msg);
        }
    }
    for (size_t i = 0; i < f->nops; i++) {
        wire_node_op *op = f->ops[i];
        if (st != RS_OK) {
            op_done(op, WIRE_EAGAIN, "forwarding to the leader failed: %.*s", (int)msglen, msg);
            continue;
        }
        uint8_t r = i < nres ? res[i] : WIRE_APPLY_OK;
        if (op->type == WIRE_OP_KV_DEL && r == WIRE_APPLY_NOTFOUND)
            r = WIRE_APPLY_OK;
        op->index = index;
        op->result = r;
        if (r != WIRE_APPLY_OK && op->type != WIRE_OP_CMD) {
            op_done(op, WIRE_EINVAL, "rejected by the state machine (%u)", r);
            continue;
        }
        /* Answer once this node has applied it too. */
        if (n->stopping)
            op_done(op, WIRE_ESTOPPED, "node stopping");
        else
            wait_applied(n, op, index);
    }
    free(f->ops);
    free(f);
}

static void forward_flush(wire_node *n)
{
    if (!n->nfwd)
        return;
    const char *la = leader_addr(n);
    if (!la) {
        for (size_t i = 0; i < n->nfwd; i++)
            op_done(n->fwd_ops[i], WIRE_EAGAIN, "no leader");
    } else {
        wire_buf p;
        wire_buf_init(&p);
        wire_put_u32(&p, n->fwd_ncmds);
        wire_buf_append(&p, n->fwd.p, n->fwd.len);
        fwd_call *f = wire_xcalloc(1, sizeof(*f));
        f->n = n;
        f->ops = n->fwd_ops;
        f->nops = n->nfwd;
        n->fwd_ops = NULL;
        n->capfwd = 0;
        n->c_forwarded += n->nfwd;
        rpc_call(n, la, WIRE_RPC_APPLY, &p, fwd_reply, f);
        wire_buf_free(&p);
    }
    n->nfwd = 0;
    n->fwd_ncmds = 0;
    wire_buf_reset(&n->fwd);
}

/* ---- Strong reads ---- */

static void read_value(wire_node *n, wire_node_op *op)
{
    size_t vlen;
    const char *v = wire_fsm_kv_get(n->fsm, op->key, op->klen, &vlen);
    if (!v) {
        op_done(op, WIRE_ENOTFOUND, "key not found");
        return;
    }
    wire_buf_reset(&op->value);
    wire_buf_append(&op->value, v, vlen);
    op_done(op, 0, NULL);
}

static void reply_read(wire_node *n, wire_rpc_conn *c, uint64_t req_id, uint8_t st, const char *key,
                       size_t klen, const char *msg)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_rpc_frame_begin(&b, WIRE_RPC_READ | WIRE_RPC_REPLY, req_id);
    if (st == RS_OK) {
        size_t vlen;
        const char *v = wire_fsm_kv_get(n->fsm, key, klen, &vlen);
        if (!v) {
            wire_put_u8(&b, RS_NOTFOUND);
            wire_put_str(&b, "key not found", 13);
        } else {
            wire_put_u8(&b, RS_OK);
            wire_put_str(&b, v, vlen);
        }
    } else {
        wire_put_u8(&b, st);
        wire_put_str(&b, msg, strlen(msg));
    }
    wire_rpc_frame_end(&b, 0);
    wire_rpc_conn_send(c, b.p, b.len);
    wire_buf_free(&b);
}

static void barrier_cb(struct raft_barrier *req, int status)
{
    rgroup *g = req->data;
    wire_node *n = g->n;
    for (size_t i = 0; i < g->nitems; i++) {
        bitem *it = &g->items[i];
        if (it->kind == ITEM_OP) {
            if (status != 0)
                op_done(it->op, WIRE_EAGAIN, "strong read failed: %s", raft_strerror(status));
            else
                read_value(n, it->op);
        } else {
            reply_read(n, it->conn, it->req_id, status == 0 ? RS_OK : RS_ERROR, g->keys[i],
                       g->klens[i], status == 0 ? "" : raft_strerror(status));
            wire_rpc_conn_release(it->conn);
        }
        free(g->keys[i]);
    }
    free(g->items);
    free(g->keys);
    free(g->klens);
    free(g);
}

static rgroup *reads_open(wire_node *n)
{
    if (!n->reads) {
        n->reads = wire_xcalloc(1, sizeof(rgroup));
        n->reads->n = n;
    }
    rgroup *g = n->reads;
    if (g->nitems == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->items = wire_xrealloc(g->items, g->cap * sizeof(bitem));
        g->keys = wire_xrealloc(g->keys, g->cap * sizeof(char *));
        g->klens = wire_xrealloc(g->klens, g->cap * sizeof(size_t));
    }
    memset(&g->items[g->nitems], 0, sizeof(bitem));
    g->keys[g->nitems] = NULL;
    g->klens[g->nitems] = 0;
    return g;
}

static void reads_flush(wire_node *n)
{
    rgroup *g = n->reads;
    if (!g)
        return;
    n->reads = NULL;
    g->req.data = g;
    int rc = raft_barrier(&n->raft, &g->req, barrier_cb);
    if (rc != 0)
        barrier_cb(&g->req, rc);
}

/* ---- Ops ---- */

typedef struct read_fwd {
    wire_node *n;
    wire_node_op *op;
} read_fwd;

static void read_fwd_reply(void *arg, int status, const wire_rpc_msg *m)
{
    read_fwd *f = arg;
    wire_node_op *op = f->op;
    free(f);
    if (status != 0 || !m) {
        op_done(op, WIRE_EAGAIN, "leader unreachable");
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    size_t len;
    const char *s = wire_get_str(&r, &len);
    if (r.bad) {
        op_done(op, WIRE_EAGAIN, "malformed reply from the leader");
    } else if (st == RS_OK) {
        wire_buf_reset(&op->value);
        wire_buf_append(&op->value, s, len);
        op_done(op, 0, NULL);
    } else if (st == RS_NOTFOUND) {
        op_done(op, WIRE_ENOTFOUND, "key not found");
    } else {
        op_done(op, WIRE_EAGAIN, "leader: %.*s", (int)len, s);
    }
}

static void fill_info(wire_node *n, wire_node_info *info);
static void fill_pipelines(wire_node *n, wire_node_op *op);
static void on_heartbeat(wire_node *n, uint64_t term, uint64_t commit);
static void undrain(wire_node *n, int64_t now);
static int run_mode(wire_node *n, int64_t now);

static void submit_job(wire_node *n, job *j)
{
    j->n = n;
    if (n->jobs_tail)
        n->jobs_tail->next = j;
    else
        n->jobs = j;
    n->jobs_tail = j;
    run_jobs(n);
}

typedef struct remove_fwd {
    wire_node_op *op;
} remove_fwd;

static void remove_fwd_reply(void *arg, int status, const wire_rpc_msg *m)
{
    wire_node_op *op = arg;
    if (status != 0 || !m) {
        op_done(op, WIRE_EAGAIN, "leader unreachable");
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    size_t ll, ml;
    (void)wire_get_str(&r, &ll);
    const char *msg = wire_get_str(&r, &ml);
    if (st == RS_OK)
        op_done(op, 0, NULL);
    else if (st == RS_NOTFOUND)
        op_done(op, WIRE_ENOTFOUND, "%.*s", (int)ml, msg);
    else
        op_done(op, WIRE_EAGAIN, "%.*s", (int)ml, msg);
}

static void commit_reply(void *arg, int status, const wire_rpc_msg *m)
{
    read_fwd *f = arg;
    wire_node_op *op = f->op;
    wire_node *n = f->n;
    free(f);
    if (status != 0 || !m) {
        op_done(op, 0, NULL); /* ready_store stays false: 503 naming the store */
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    uint64_t idx = wire_get_u64(&r);
    if (r.bad || st != RS_OK || n->stopping) {
        op_done(op, 0, NULL);
        return;
    }
    wait_applied(n, op, idx);
}

static void handle_op(wire_node *n, wire_node_op *op)
{
    switch (op->type) {
    case WIRE_OP_KV_SET:
    case WIRE_OP_KV_DEL:
    case WIRE_OP_CMD: {
        wire_cmd c = {0};
        if (op->type == WIRE_OP_CMD) {
            c = op->cmd;
        } else {
            c.type = op->type == WIRE_OP_KV_SET ? WIRE_CMD_KV_SET : WIRE_CMD_KV_DEL;
            c.a = op->key;
            c.alen = op->klen;
            c.b = op->val;
            c.blen = op->vlen;
        }
        c.version = 1;
        if (is_leader(n)) {
            uint32_t pos = add_cmd(n, &c);
            bitem *it = batch_add(n->open);
            it->kind = ITEM_OP;
            it->op = op;
            it->first = pos;
            it->count = 1;
        } else if (leader_addr(n)) {
            wire_cmd_encode(&n->fwd, &c);
            n->fwd_ncmds++;
            if (n->nfwd == n->capfwd) {
                n->capfwd = n->capfwd ? 2 * n->capfwd : 16;
                n->fwd_ops = wire_xrealloc(n->fwd_ops, n->capfwd * sizeof(*n->fwd_ops));
            }
            n->fwd_ops[n->nfwd++] = op;
        } else {
            op_done(op, WIRE_EAGAIN, "no leader");
        }
        break;
    }
    case WIRE_OP_KV_GET:
        if (op->level == WIRE_READ_NONE || (op->level == WIRE_READ_WEAK && is_leader(n))) {
            read_value(n, op);
        } else if (is_leader(n)) {
            rgroup *g = reads_open(n);
            g->items[g->nitems].kind = ITEM_OP;
            g->items[g->nitems].op = op;
            g->nitems++;
        } else if (leader_addr(n)) {
            wire_buf p;
            wire_buf_init(&p);
            wire_put_u8(&p, (uint8_t)op->level);
            wire_put_str(&p, op->key, op->klen);
            read_fwd *f = wire_xcalloc(1, sizeof(*f));
            f->n = n;
            f->op = op;
            rpc_call(n, leader_addr(n), WIRE_RPC_READ, &p, read_fwd_reply, f);
            wire_buf_free(&p);
        } else {
            op_done(op, WIRE_EAGAIN, "no leader");
        }
        break;
    case WIRE_OP_STATUS:
        fill_info(n, &op->info);
        op_done(op, 0, NULL);
        break;
    case WIRE_OP_PIPELINES: fill_pipelines(n, op); break;
    case WIRE_OP_READY: {
        fill_info(n, &op->info);
        op->ready_leader = op->info.leader_addr[0] != 0;
        op->ready_store = n->raft_ok && raft_state(&n->raft) != RAFT_UNAVAILABLE;
        if (op->sync && op->ready_leader && op->ready_store) {
            op->deadline_ms = wire_now_ms() + (op->timeout_ms > 0 ? op->timeout_ms : 5000);
            op->ready_store = false;
            if (is_leader(n))
                wait_applied(n, op, n->raft.commit_index);
            else { /* the leader's commit index, not this node's possibly older idea of it */
                read_fwd *f = wire_xcalloc(1, sizeof(*f));
                f->n = n;
                f->op = op;
                rpc_call(n, leader_addr(n), WIRE_RPC_COMMIT, NULL, commit_reply, f);
            }
        } else {
            op_done(op, 0, NULL);
        }
        break;
    }
    case WIRE_OP_REMOVE:
        if (is_leader(n)) {
            job *j = wire_xcalloc(1, sizeof(*j));
            j->type = JOB_REMOVE;
            j->id = wire_xstrndup(op->key, op->klen);
            j->op = op;
            submit_job(n, j);
        } else if (leader_addr(n)) {
            wire_buf p;
            wire_buf_init(&p);
            wire_put_str(&p, op->key, op->klen);
            rpc_call(n, leader_addr(n), WIRE_RPC_REMOVE, &p, remove_fwd_reply, op);
            wire_buf_free(&p);
        } else {
            op_done(op, WIRE_EAGAIN, "no leader");
        }
        break;
    default: op_done(op, WIRE_EINVAL, "unknown op %d", op->type);
    }
}

/* Proposals of this tick: one entry (leader) or one forwarding RPC (follower). */
static void flush(wire_node *n)
{
    if (n->open) {
        if (is_leader(n))
            propose(n);
        else
            fail_open_batch(n, RAFT_NOTLEADER);
    }
    forward_flush(n);
    if (n->reads)
        reads_flush(n);
}

static void drain(wire_node *n)
{
    pthread_mutex_lock(&n->lock);
    wire_node_op *l = n->inq;
    n->inq = n->inq_tail = NULL;
    pthread_mutex_unlock(&n->lock);
    while (l) {
        wire_node_op *nx = l->next;
        l->next = NULL;
        if (n->stopping)
            op_done(l, WIRE_ESTOPPED, "node is shutting down");
        else
            handle_op(n, l);
        l = nx;
        if (n->open && n->entry.len >= MAX_BATCH_BYTES && n->inflight < MAX_INFLIGHT)
            propose(n);
    }
    flush(n);
}

/* ---- Status ---- */

static const char *state_name(int s)
{
    switch (s) {
    case RAFT_LEADER: return "Leader";
    case RAFT_FOLLOWER: return "Follower";
    case RAFT_CANDIDATE: return "Candidate";
    default: return "Unavailable";
    }
}

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const wire_member *)a)->id, ((const wire_member *)b)->id);
}

static void fill_info(wire_node *n, wire_node_info *info)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->id, sizeof(info->id), "%s", n->id);
    info->state = state_name(n->raft_ok ? raft_state(&n->raft) : RAFT_UNAVAILABLE);
    const char *la = leader_addr(n);
    if (la) {
        snprintf(info->leader_addr, sizeof(info->leader_addr), "%s", la);
        wire_node_rec rec;
        if (wire_fsm_node_by_addr(n->fsm, la, &rec)) {
            snprintf(info->leader_id, sizeof(info->leader_id), "%s", rec.id);
            snprintf(info->leader_api, sizeof(info->leader_api), "%s", rec.api_addr);
        }
    }
    if (n->raft_ok) {
        struct raft *r = &n->raft;
        info->term = r->current_term;
        info->commit_index = r->commit_index;
        info->applied_index = raft_last_applied(r);
        info->last_snapshot_index = r->log.snapshot.last_index;
        info->last_log_index = raft_last_index(r);
        info->members = wire_xcalloc(r->configuration.n + 1, sizeof(wire_member));
        int64_t now = wire_now_ms();
        for (unsigned i = 0; i < r->configuration.n; i++) {
            struct raft_server *s = &r->configuration.servers[i];
            if (s->role == RAFT_SPARE)
                continue;
            wire_member *m = &info->members[info->nmembers++];
            snprintf(m->raft_addr, sizeof(m->raft_addr), "%s", s->address);
            m->voter = s->role == RAFT_VOTER;
            if (m->voter)
                info->voters++;
            else
                info->non_voters++;
            wire_node_rec rec;
            if (wire_fsm_node_by_addr(n->fsm, s->address, &rec)) {
                snprintf(m->id, sizeof(m->id), "%s", rec.id);
                snprintf(m->api_addr, sizeof(m->api_addr), "%s", rec.api_addr);
            } else if (s->id == n->rid) {
                snprintf(m->id, sizeof(m->id), "%s", n->id);
                snprintf(m->api_addr, sizeof(m->api_addr), "%s", n->http_adv);
            } else {
                snprintf(m->id, sizeof(m->id), "%llu", (unsigned long long)s->id);
            }
            m->leader = la && strcmp(la, s->address) == 0;
            if (s->id == n->rid) {
                m->reachable = true;
            } else {
                for (size_t k = 0; k < n->nclients; k++)
                    if (strcmp(wire_rpc_client_addr(n->clients[k].c), s->address) == 0)
                        m->reachable = now - n->clients[k].last_reply_ms < REACHABLE_MS;
            }
        }
    }
    if (info->nmembers > 1)
        qsort(info->members, info->nmembers, sizeof(wire_member), member_cmp);
    info->kv_keys = wire_fsm_kv_count(n->fsm);
    info->pipelines = wire_fsm_pipeline_count(n->fsm);
    info->entries_applied = n->c_entries;
    info->commands_applied = n->c_cmds_applied;
    info->batches_proposed = n->c_batches;
    info->commands_proposed = n->c_cmds_proposed;
    info->forwarded = n->c_forwarded;
    info->snapshots_restored = wire_fsm_restores(n->fsm);
    if (n->mux)
        wire_mux_stats(n->mux, &info->mux_conns, &info->mux_unknown);
    info->rpc_in = n->c_rpc_in;
    info->rpc_out = n->c_rpc_out;
    info->leader_changes = n->c_leader_changes;
    info->assignments = n->c_assignments;
}

void wire_node_info_free(wire_node_info *info)
{
    free(info->members);
    info->members = NULL;
    info->nmembers = 0;
}

/* ---- Membership jobs (leader) ---- */

static const struct raft_server *config_find(wire_node *n, uint64_t rid, const char *addr)
{
    struct raft_configuration *c = &n->raft.configuration;
    for (unsigned i = 0; i < c->n; i++)
        if (c->servers[i].id == rid || (addr && strcmp(c->servers[i].address, addr) == 0))
            return &c->servers[i];
    return NULL;
}

static void job_reply(job *j, int status, const char *msg)
{
    wire_node *n = j->n;
    if (j->op) {
        if (status == 0)
            op_done(j->op, 0, NULL);
        else
            op_done(j->op, status, "%s", msg);
    } else if (j->conn) {
        wire_buf b;
        wire_buf_init(&b);
        wire_rpc_frame_begin(&b, j->rpc_type | WIRE_RPC_REPLY, j->req_id);
        wire_put_u8(&b, status == 0 ? RS_OK : status == WIRE_ENOTFOUND ? RS_NOTFOUND : RS_ERROR);
        const char *la = leader_addr(n);
        wire_put_str(&b, la ? la : "", la ? strlen(la) : 0);
        wire_put_str(&b, msg, strlen(msg));
        wire_rpc_frame_end(&b, 0);
        wire_rpc_conn_send(j->conn, b.p, b.len);
        wire_buf_free(&b);
        wire_rpc_conn_release(j->conn);
    }
    free(j->id);
    free(j->raft_addr);
    free(j->api_addr);
    free(j);
    n->job_running = false;
    run_jobs(n);
}

static void change_cb(struct raft_change *req, int status)
{
    job *j = req->data;
    job_step(j, status, 0);
}

/* Record the node in the FSM (or delete it) through the normal batch path. */
static void job_record(job *j)
{
    wire_node *n = j->n;
    wire_cmd c = {0};
    c.version = 1;
    c.a = j->id;
    c.alen = strlen(j->id);
    if (j->type == JOB_JOIN) {
        c.type = WIRE_CMD_NODE_SET;
        c.b = j->raft_addr;
        c.blen = strlen(j->raft_addr);
        c.c = j->api_addr;
        c.clen = strlen(j->api_addr);
        c.u2 = j->voter;
    } else {
        c.type = WIRE_CMD_NODE_DEL;
    }
    uint32_t pos = add_cmd(n, &c);
    bitem *it = batch_add(n->open);
    it->kind = ITEM_JOB;
    it->job = j;
    it->first = pos;
    it->count = 1;
    flush(n);
}

/*
 * Steps. Join: [remove a conflicting member] → add (spare) → assign role →
 * record. Remove: remove → delete the record. Each raft call completes in
 * change_cb, which calls the next step; a failure ends the job.
 */
static void job_step(job *j, int status, uint64_t index)
{
    wire_node *n = j->n;
    if (status != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "membership change failed: %s", raft_strerror(status));
        job_reply(j, WIRE_EAGAIN, msg);
        return;
    }
    if (!is_leader(n)) {
        if (j->type == JOB_REMOVE && j->step == 10) {
            /* a leader that removed itself steps down once that committed: the removal
               holds; the next leader drops the leftover record (gc_records) */
            job_reply(j, 0, "");
            return;
        }
        job_reply(j, WIRE_EAGAIN, "not the leader any more");
        return;
    }
    j->change.data = j;
    uint64_t rid = wire_node_raft_id(j->id);
    int rc = 0;
    for (;;) {
        switch (j->step++) {
        case 0: /* start */
            if (j->type == JOB_REMOVE) {
                if (!config_find(n, rid, NULL)) {
                    char msg[256];
                    snprintf(msg, sizeof(msg), "node %s is not a member", j->id);
                    job_reply(j, WIRE_ENOTFOUND, msg);
                    return;
                }
                rc = raft_remove(&n->raft, &j->change, rid, change_cb);
                j->step = 10;
                break;
            } else {
                const struct raft_server *s = config_find(n, rid, j->raft_addr);
                if (s && (s->id != rid || strcmp(s->address, j->raft_addr) != 0)) {
                    /* same id elsewhere, or another id at this address: replace it */
                    rc = raft_remove(&n->raft, &j->change, s->id, change_cb);
                    j->step = 1;
                    break;
                }
                continue;
            }
        case 1: { /* add unless present */
            const struct raft_server *s = config_find(n, rid, NULL);
            if (s) {
                j->step = 2;
                continue;
            }
            rc = raft_add(&n->raft, &j->change, rid, j->raft_addr, change_cb);
            break;
        }
        case 2: { /* role */
            const struct raft_server *s = config_find(n, rid, NULL);
            int want = j->voter ? RAFT_VOTER : RAFT_STANDBY;
            if (s && s->role == want)
                continue;
            rc = raft_assign(&n->raft, &j->change, rid, want, change_cb);
            break;
        }
        case 3: { /* record, unless it is already right */
            wire_node_rec rec;
            if (wire_fsm_node_get(n->fsm, j->id, &rec) &&
                strcmp(rec.raft_addr, j->raft_addr) == 0 &&
                strcmp(rec.api_addr, j->api_addr) == 0 && rec.voter == j->voter) {
                job_reply(j, 0, "");
                return;
            }
            job_record(j);
            return;
        }
        case 4: /* recorded */ job_reply(j, 0, ""); return;
        case 10: /* removed from the configuration: drop the record */ job_record(j); return;
        case 11: job_reply(j, 0, ""); return;
        default: job_reply(j, WIRE_EINVAL, "bad job step"); return;
        }
        break;
    }
    if (rc != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "membership change failed: %s", raft_strerror(rc));
        job_reply(j, rc == RAFT_NOTLEADER ? WIRE_EAGAIN : WIRE_EINVAL, msg);
    }
}

static void run_jobs(wire_node *n)
{
    if (n->job_running || !n->jobs)
        return;
    job *j = n->jobs;
    n->jobs = j->next;
    if (!n->jobs)
        n->jobs_tail = NULL;
    j->next = NULL;
    n->job_running = true;
    j->step = 0;
    job_step(j, 0, 0);
}

/* ---- RPC service ---- */

static void reply_simple(wire_rpc_conn *c, uint8_t type, uint64_t req_id, uint8_t st,
                         const char *leader, const char *msg)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_rpc_frame_begin(&b, type | WIRE_RPC_REPLY, req_id);
    wire_put_u8(&b, st);
    wire_put_str(&b, leader ? leader : "", leader ? strlen(leader) : 0);
    wire_put_str(&b, msg, strlen(msg));
    wire_rpc_frame_end(&b, 0);
    wire_rpc_conn_send(c, b.p, b.len);
    wire_buf_free(&b);
}

static void add_known(wire_node *n, const char *id, size_t il, const char *ra, size_t rl,
                      const char *api, size_t al)
{
    if (!il || il >= 128 || !rl || rl >= 256 || al >= 256)
        return;
    for (size_t i = 0; i < n->nknown; i++)
        if (strlen(n->known[i].id) == il && memcmp(n->known[i].id, id, il) == 0)
            return;
    n->known = wire_xrealloc(n->known, (n->nknown + 1) * sizeof(peer));
    peer *p = &n->known[n->nknown++];
    memset(p, 0, sizeof(*p));
    memcpy(p->id, id, il);
    memcpy(p->raft_addr, ra, rl);
    memcpy(p->api_addr, api, al);
}

static void notify_reply_payload(wire_node *n, wire_buf *b)
{
    bool formed = n->raft_ok && n->raft.configuration.n > 0;
    const char *la = leader_addr(n);
    wire_put_u8(b, formed);
    wire_put_str(b, la ? la : "", la ? strlen(la) : 0);
    wire_put_u32(b, (uint32_t)n->nknown);
    for (size_t i = 0; i < n->nknown; i++) {
        wire_put_str(b, n->known[i].id, strlen(n->known[i].id));
        wire_put_str(b, n->known[i].raft_addr, strlen(n->known[i].raft_addr));
        wire_put_str(b, n->known[i].api_addr, strlen(n->known[i].api_addr));
    }
}

static void read_known(wire_node *n, wire_rd *r)
{
    uint32_t cnt = wire_get_u32(r);
    for (uint32_t i = 0; i < cnt && !r->bad && i < 1024; i++) {
        size_t il, rl, al;
        const char *id = wire_get_str(r, &il), *ra = wire_get_str(r, &rl);
        const char *api = wire_get_str(r, &al);
        if (!r->bad)
            add_known(n, id, il, ra, rl, api, al);
    }
}

/* A membership request that only the leader runs: true if answered "not the leader". */
static bool reply_not_leader(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m)
{
    if (is_leader(n))
        return false;
    const char *la = leader_addr(n);
    reply_simple(c, m->type, m->req_id, la ? RS_NOTLEADER : RS_ERROR, la,
                 la ? "not the leader" : "no leader");
    return true;
}

/* Queue a membership job for a remote requester; it is answered when the job ends. */
static void submit_rpc_job(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m, job *j)
{
    j->conn = c;
    j->req_id = m->req_id;
    j->rpc_type = m->type;
    wire_rpc_conn_hold(c);
    submit_job(n, j);
}

static void server_msg(wire_rpc_conn *c, const wire_rpc_msg *m, void *arg)
{
    wire_node *n = arg;
    n->c_rpc_in++;
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    if (n->stopping) {
        reply_simple(c, m->type, m->req_id, RS_ERROR, NULL, "node is shutting down");
        return;
    }
    switch (m->type) {
    case WIRE_RPC_JOIN: {
        size_t il, rl, al;
        const char *id = wire_get_str(&r, &il), *ra = wire_get_str(&r, &rl);
        const char *api = wire_get_str(&r, &al);
        bool voter = wire_get_u8(&r) != 0;
        if (r.bad || !il || !rl) {
            reply_simple(c, m->type, m->req_id, RS_ERROR, NULL, "malformed join");
            return;
        }
        if (reply_not_leader(n, c, m))
            return;
        job *j = wire_xcalloc(1, sizeof(*j));
        j->type = JOB_JOIN;
        j->id = wire_xstrndup(id, il);
        j->raft_addr = wire_xstrndup(ra, rl);
        j->api_addr = wire_xstrndup(api, al);
        j->voter = voter;
        submit_rpc_job(n, c, m, j);
        return;
    }
    case WIRE_RPC_REMOVE: {
        size_t il;
        const char *id = wire_get_str(&r, &il);
        if (r.bad || !il) {
            reply_simple(c, m->type, m->req_id, RS_ERROR, NULL, "malformed remove");
            return;
        }
        if (reply_not_leader(n, c, m))
            return;
        job *j = wire_xcalloc(1, sizeof(*j));
        j->type = JOB_REMOVE;
        j->id = wire_xstrndup(id, il);
        submit_rpc_job(n, c, m, j);
        return;
    }
    case WIRE_RPC_NOTIFY: {
        size_t il, rl, al;
        const char *id = wire_get_str(&r, &il), *ra = wire_get_str(&r, &rl);
        const char *api = wire_get_str(&r, &al);
        if (!r.bad)
            add_known(n, id, il, ra, rl, api, al);
        read_known(n, &r);
        wire_buf b;
        wire_buf_init(&b);
        wire_rpc_frame_begin(&b, m->type | WIRE_RPC_REPLY, m->req_id);
        notify_reply_payload(n, &b);
        wire_rpc_frame_end(&b, 0);
        wire_rpc_conn_send(c, b.p, b.len);
        wire_buf_free(&b);
        return;
    }
    case WIRE_RPC_COMMIT: {
        wire_buf b;
        wire_buf_init(&b);
        wire_rpc_frame_begin(&b, m->type | WIRE_RPC_REPLY, m->req_id);
        wire_put_u8(&b, is_leader(n) ? RS_OK : RS_NOTLEADER);
        wire_put_u64(&b, n->raft.commit_index);
        wire_rpc_frame_end(&b, 0);
        wire_rpc_conn_send(c, b.p, b.len);
        wire_buf_free(&b);
        return;
    }
    case WIRE_RPC_API_ADDR: {
        wire_buf b;
        wire_buf_init(&b);
        wire_rpc_frame_begin(&b, m->type | WIRE_RPC_REPLY, m->req_id);
        wire_put_str(&b, n->http_adv, strlen(n->http_adv));
        wire_put_str(&b, n->id, strlen(n->id));
        wire_rpc_frame_end(&b, 0);
        wire_rpc_conn_send(c, b.p, b.len);
        wire_buf_free(&b);
        return;
    }
    case WIRE_RPC_APPLY: {
        uint32_t ncmds = wire_get_u32(&r);
        if (r.bad) {
            reply_apply(c, m->req_id, RS_ERROR, 0, "malformed apply", NULL, 0);
            return;
        }
        if (!is_leader(n)) {
            reply_apply(c, m->req_id, RS_NOTLEADER, 0, "not the leader", NULL, 0);
            return;
        }
        /* Validate, then append the commands as they are to this tick's entry. */
        wire_buf tmp;
        wire_buf_init(&tmp);
        wire_entry_begin(&tmp, ncmds, 0);
        wire_buf_append(&tmp, r.p, (size_t)(r.end - r.p));
        wire_entry_iter it;
        wire_err err;
        wire_cmd cmd;
        int rc = wire_entry_open(&it, tmp.p, tmp.len, &err);
        while (rc == 0 && (rc = wire_entry_next(&it, &cmd, &err)) == 1)
            rc = 0;
        if (rc == 0 && it.r.p != it.r.end)
            rc = wire_errf(&err, WIRE_EPARSE, "trailing bytes");
        wire_buf_free(&tmp);
        if (rc != 0) {
            reply_apply(c, m->req_id, RS_ERROR, 0, err.msg, NULL, 0);
            return;
        }
        batch_open(n);
        wire_buf_append(&n->entry, r.p, (size_t)(r.end - r.p));
        bitem *bi = batch_add(n->open);
        bi->kind = ITEM_RPC;
        bi->conn = c;
        bi->req_id = m->req_id;
        bi->first = n->entry_ncmds;
        bi->count = ncmds;
        n->entry_ncmds += ncmds;
        wire_rpc_conn_hold(c);
        return; /* proposed at the end of the read callback's tick */
    }
    case WIRE_RPC_READ: {
        uint8_t level = wire_get_u8(&r);
        size_t kl;
        const char *key = wire_get_str(&r, &kl);
        if (r.bad) {
            reply_read(n, c, m->req_id, RS_ERROR, NULL, 0, "malformed read");
            return;
        }
        if (!is_leader(n)) {
            reply_read(n, c, m->req_id, RS_NOTLEADER, NULL, 0, "not the leader");
            return;
        }
        if (level != WIRE_READ_STRONG) {
            reply_read(n, c, m->req_id, RS_OK, key, kl, "");
            return;
        }
        rgroup *g = reads_open(n);
        g->items[g->nitems].kind = ITEM_RPC;
        g->items[g->nitems].conn = c;
        g->items[g->nitems].req_id = m->req_id;
        g->keys[g->nitems] = wire_xstrndup(key, kl);
        g->klens[g->nitems] = kl;
        g->nitems++;
        wire_rpc_conn_hold(c);
        return;
    }
    case WIRE_RPC_HEARTBEAT: {
        uint64_t term = wire_get_u64(&r), commit = wire_get_u64(&r);
        if (!r.bad)
            on_heartbeat(n, term, commit);
        reply_simple(c, m->type, m->req_id, r.bad ? RS_ERROR : RS_OK, NULL,
                     r.bad ? "malformed heartbeat" : "");
        return;
    }
    default: reply_simple(c, m->type, m->req_id, RS_ERROR, NULL, "unknown rpc type");
    }
}

static void server_closed(wire_rpc_conn *c, void *arg)
{
    wire_node *n = arg;
    for (server_conn *s = n->sconns.next; s != &n->sconns; s = s->next)
        if (s->c == c) {
            s->prev->next = s->next;
            s->next->prev = s->prev;
            free(s);
            return;
        }
}

static void on_rpc_conn(void *arg, uv_tcp_t *tcp)
{
    wire_node *n = arg;
    server_conn *s = wire_xcalloc(1, sizeof(*s));
    s->c = wire_rpc_conn_new(tcp, server_msg, server_closed, n);
    s->next = n->sconns.next;
    s->prev = &n->sconns;
    n->sconns.next->prev = s;
    n->sconns.next = s;
}

/* ---- Forming the cluster ---- */

static void fatal(wire_node *n, const char *fmt, ...) WIRE_PRINTF(2, 3);
static void fatal(wire_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&n->lock);
    vsnprintf(n->fail_msg, sizeof(n->fail_msg), fmt, ap);
    n->failed = true;
    pthread_mutex_unlock(&n->lock);
    va_end(ap);
    wire_error("%s", n->fail_msg);
}

static bool join_addr(const char *list, size_t idx, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len) {
            if (k == idx) {
                snprintf(out, n, "%.*s", (int)len, p);
                return true;
            }
            k++;
        }
        p = c ? c + 1 : p + len;
    }
    return false;
}

typedef struct join_ctx {
    wire_node *n;
    size_t idx; /* in the join list */
    int hops;   /* leader redirects followed */
} join_ctx;

static void join_send(wire_node *n, const char *addr, size_t idx, int hops);

static void join_next(wire_node *n, size_t idx)
{
    char addr[256];
    if (join_addr(n->cfg.join, idx + 1, addr, sizeof(addr))) {
        join_send(n, addr, idx + 1, 0);
        return;
    }
    n->joining = false;
    n->join_attempt++;
    if (n->have_state) { /* a restarted member: keep its state, try again later */
        n->next_join_ms = wire_now_ms() + n->cfg.join_interval_ms;
        return;
    }
    if (n->join_attempt >= n->cfg.join_attempts) {
        fatal(n, "could not join the cluster through %s after %d attempts", n->cfg.join,
              n->join_attempt);
        return;
    }
    n->next_join_ms = wire_now_ms() + n->cfg.join_interval_ms;
}

static void join_reply(void *arg, int status, const wire_rpc_msg *m)
{
    join_ctx *j = arg;
    wire_node *n = j->n;
    size_t idx = j->idx;
    int hops = j->hops;
    free(j);
    if (n->stopping)
        return;
    if (status != 0 || !m) {
        join_next(n, idx);
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    size_t ll, ml;
    const char *la = wire_get_str(&r, &ll);
    const char *msg = wire_get_str(&r, &ml);
    if (r.bad) {
        join_next(n, idx);
        return;
    }
    if (st == RS_OK) {
        n->joined = true;
        n->joining = false;
        wire_info("joined the cluster (as %s %s)", n->cfg.non_voter ? "non-voter" : "voter", n->id);
        return;
    }
    if (st == RS_NOTLEADER && ll && hops < 5) {
        char addr[256];
        snprintf(addr, sizeof(addr), "%.*s", (int)ll, la);
        join_send(n, addr, idx, hops + 1);
        return;
    }
    wire_warn("join: %.*s", (int)ml, msg);
    join_next(n, idx);
}

static void join_send(wire_node *n, const char *addr, size_t idx, int hops)
{
    n->joining = true;
    wire_buf p;
    wire_buf_init(&p);
    wire_put_str(&p, n->id, strlen(n->id));
    wire_put_str(&p, n->raft_adv, strlen(n->raft_adv));
    wire_put_str(&p, n->http_adv, strlen(n->http_adv));
    wire_put_u8(&p, !n->cfg.non_voter);
    join_ctx *j = wire_xcalloc(1, sizeof(*j));
    j->n = n;
    j->idx = idx;
    j->hops = hops;
    wire_debug("join: asking %s", addr);
    rpc_call(n, addr, WIRE_RPC_JOIN, &p, join_reply, j);
    wire_buf_free(&p);
}

static int peer_cmp(const void *a, const void *b)
{
    return strcmp(((const peer *)a)->id, ((const peer *)b)->id);
}

static void bootstrap_with(wire_node *n, const peer *v, size_t k)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    for (size_t i = 0; i < k; i++)
        raft_configuration_add(&conf, wire_node_raft_id(v[i].id), v[i].raft_addr, RAFT_VOTER);
    int rc = raft_bootstrap(&n->raft, &conf);
    raft_configuration_close(&conf);
    if (rc != 0 && rc != RAFT_CANTBOOTSTRAP) {
        fatal(n, "bootstrap: %s", raft_strerror(rc));
        return;
    }
    n->bootstrapped = true;
    wire_info("bootstrapped a %zu-node cluster", k);
}

static int start_raft(wire_node *n)
{
    if (n->started)
        return 0;
    int rc = raft_start(&n->raft);
    if (rc != 0) {
        fatal(n, "raft start in %s: %s: %s", n->dir, raft_strerror(rc), raft_errmsg(&n->raft));
        return rc;
    }
    n->started = true;
    return 0;
}

static void notify_reply(void *arg, int status, const wire_rpc_msg *m)
{
    wire_node *n = arg;
    if (status != 0 || !m || n->stopping)
        return;
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    bool formed = wire_get_u8(&r) != 0;
    size_t ll;
    const char *la = wire_get_str(&r, &ll);
    read_known(n, &r);
    if (formed && ll && !n->joined && !n->joining && !n->bootstrapped &&
        n->raft.configuration.n == 0) {
        /* A cluster exists already: join it the ordinary way. */
        char addr[256];
        snprintf(addr, sizeof(addr), "%.*s", (int)ll, la);
        if (start_raft(n) == 0)
            join_send(n, addr, 0, 0);
    }
}

/*
 * Bootstrap-expect: every node notifies the --join addresses of itself and
 * of every peer it knows, and learns the peers they know from the replies.
 * Once a node knows N nodes (itself included) it bootstraps the N lowest ids
 * as voters and starts Raft. Every node computes the same set from the same
 * N nodes, so all of them write the identical configuration entry at index 1:
 * one cluster (libraft's pristine nodes do not vote, so each member needs
 * the configuration itself; a lone bootstrapper could never be elected).
 * A node outside the N lowest, or one whose notify is answered by a formed
 * cluster, joins it the ordinary way. Raft is started only after the
 * decision, since libraft bootstraps only before raft_start.
 */
static void expect_tick(wire_node *n, int64_t now)
{
    if (n->bootstrapped || n->joined || n->raft.configuration.n > 0 || n->failed)
        return;
    if (n->cfg.bootstrap_expect_timeout_ms > 0 && now > n->expect_deadline_ms) {
        fatal(n, "bootstrap-expect: %zu of %d nodes known after %lld ms", n->nknown,
              n->cfg.bootstrap_expect, (long long)n->cfg.bootstrap_expect_timeout_ms);
        return;
    }
    wire_buf p;
    wire_buf_init(&p);
    wire_put_str(&p, n->id, strlen(n->id));
    wire_put_str(&p, n->raft_adv, strlen(n->raft_adv));
    wire_put_str(&p, n->http_adv, strlen(n->http_adv));
    wire_put_u32(&p, (uint32_t)n->nknown);
    for (size_t i = 0; i < n->nknown; i++) {
        wire_put_str(&p, n->known[i].id, strlen(n->known[i].id));
        wire_put_str(&p, n->known[i].raft_addr, strlen(n->known[i].raft_addr));
        wire_put_str(&p, n->known[i].api_addr, strlen(n->known[i].api_addr));
    }
    char addr[256];
    for (size_t i = 0; join_addr(n->cfg.join, i, addr, sizeof(addr)); i++)
        if (strcmp(addr, n->raft_adv) != 0)
            rpc_call(n, addr, WIRE_RPC_NOTIFY, &p, notify_reply, n);
    wire_buf_free(&p);
    if (n->nknown < (size_t)n->cfg.bootstrap_expect || n->started)
        return;
    qsort(n->known, n->nknown, sizeof(peer), peer_cmp);
    bool member = false;
    for (int i = 0; i < n->cfg.bootstrap_expect; i++)
        member |= strcmp(n->known[i].id, n->id) == 0;
    if (!member) {
        /* more nodes than expected: the N lowest ids form the cluster; join it */
        wire_warn("bootstrap-expect: %zu nodes known for %d; joining the lowest ones", n->nknown,
                  n->cfg.bootstrap_expect);
        if (start_raft(n) == 0)
            join_send(n, n->known[0].raft_addr, 0, 0);
        return;
    }
    bootstrap_with(n, n->known, (size_t)n->cfg.bootstrap_expect);
    start_raft(n);
}

/* Make sure this node's record (id, addresses, role) is in the FSM. */
static void self_reply(void *arg, int status, const wire_rpc_msg *m)
{
    wire_node *n = arg;
    n->self_inflight = false;
}

static void self_check(wire_node *n)
{
    if (n->self_inflight || !n->raft_ok)
        return;
    const struct raft_server *s = config_find(n, n->rid, NULL);
    if (!s || s->role == RAFT_SPARE)
        return;
    bool voter = s->role == RAFT_VOTER;
    wire_node_rec rec;
    if (wire_fsm_node_get(n->fsm, n->id, &rec) && strcmp(rec.raft_addr, n->raft_adv) == 0 &&
        strcmp(rec.api_addr, n->http_adv) == 0 && rec.voter == voter)
        return;
    if (is_leader(n)) {
        job *j = wire_xcalloc(1, sizeof(*j));
        j->type = JOB_JOIN;
        j->id = wire_xstrdup(n->id);
        j->raft_addr = wire_xstrdup(n->raft_adv);
        j->api_addr = wire_xstrdup(n->http_adv);
        j->voter = voter;
        submit_job(n, j);
        /* and the peers bootstrap-expect told us about */
        for (size_t i = 0; i < n->nknown; i++) {
            if (strcmp(n->known[i].id, n->id) == 0 ||
                wire_fsm_node_get(n->fsm, n->known[i].id, &rec))
                continue;
            const struct raft_server *ps = config_find(n, wire_node_raft_id(n->known[i].id), NULL);
            if (!ps)
                continue;
            j = wire_xcalloc(1, sizeof(*j));
            j->type = JOB_JOIN;
            j->id = wire_xstrdup(n->known[i].id);
            j->raft_addr = wire_xstrdup(n->known[i].raft_addr);
            j->api_addr = wire_xstrdup(n->known[i].api_addr);
            j->voter = ps->role == RAFT_VOTER;
            submit_job(n, j);
        }
        n->self_inflight = false;
        return;
    }
    const char *la = leader_addr(n);
    if (!la)
        return;
    wire_buf p;
    wire_buf_init(&p);
    wire_put_str(&p, n->id, strlen(n->id));
    wire_put_str(&p, n->raft_adv, strlen(n->raft_adv));
    wire_put_str(&p, n->http_adv, strlen(n->http_adv));
    wire_put_u8(&p, voter);
    n->self_inflight = true;
    rpc_call(n, la, WIRE_RPC_JOIN, &p, self_reply, n);
    wire_buf_free(&p);
}

typedef struct ping_ctx {
    wire_node *n;
    char addr[256];
} ping_ctx;

static void ping_reply(void *arg, int status, const wire_rpc_msg *m)
{
    ping_ctx *p = arg;
    wire_node *n = p->n;
    if (status == 0 && m && !n->stopping)
        for (size_t i = 0; i < n->nclients; i++)
            if (strcmp(wire_rpc_client_addr(n->clients[i].c), p->addr) == 0)
                n->clients[i].last_reply_ms = wire_now_ms();
    free(p);
}

/* get-node-API-address to every member: keeps /nodes' `reachable` current. */
static void ping_members(wire_node *n)
{
    struct raft_configuration *c = &n->raft.configuration;
    for (unsigned i = 0; i < c->n; i++) {
        if (c->servers[i].id == n->rid)
            continue;
        ping_ctx *p = wire_xcalloc(1, sizeof(*p));
        p->n = n;
        snprintf(p->addr, sizeof(p->addr), "%s", c->servers[i].address);
        rpc_call(n, p->addr, WIRE_RPC_API_ADDR, NULL, ping_reply, p);
    }
}

/* ---- Pipelines: heartbeats, liveness, placement, what the runners may do ---- */

/* What this node's runners may do now (see WIRE_RUN_*). */
static int run_mode(wire_node *n, int64_t now)
{
    if (!n->raft_ok || n->stopping)
        return WIRE_RUN_FENCE;
    if (is_leader(n)) /* once everything committed before its term is applied here */
        return n->sched_term == n->raft.current_term &&
                       raft_last_applied(&n->raft) >= n->raft.commit_index
                   ? WIRE_RUN_OK
                   : WIRE_RUN_HOLD;
    /* A member that heard no leader for 3/4 of --node-timeout stops its pipelines before
       the leader (at the full timeout) gives them to another node. */
    if (!n->last_hb_ms || now - n->last_hb_ms >= n->cfg.node_timeout_ms * 3 / 4)
        return WIRE_RUN_FENCE;
    return n->caught_up ? WIRE_RUN_OK : WIRE_RUN_HOLD;
}

static void copy_info(wire_node *n, const wire_pipeline_rec *p, bool with_spec,
                      wire_pipeline_info *o)
{
    memset(o, 0, sizeof(*o));
    o->name = wire_xstrdup(p->name);
    o->node = wire_xstrdup(p->node);
    o->error = wire_xstrdup(p->error);
    o->placement = wire_xstrdup(p->placement);
    o->version = p->version;
    o->epoch = p->epoch;
    o->state = p->state;
    o->checkpoint_epoch = p->checkpoint_epoch;
    if (with_spec) {
        o->spec = wire_xstrndup(p->spec, p->spec_len);
        o->spec_len = p->spec_len;
    }
    /* the checkpoint's header fields (id, time) are small; the list shows them */
    o->checkpoint = wire_xstrndup(p->checkpoint, p->checkpoint_len);
    o->checkpoint_len = p->checkpoint_len;
    wire_buf live;
    wire_buf_init(&live);
    if (n->runners && strcmp(p->node, n->id) == 0 &&
        wire_runners_live(n->runners, p->name, &live)) {
        o->stats = wire_xstrndup(live.p, live.len);
        o->live = true;
    } else {
        o->stats = wire_xstrdup(p->stats);
    }
    wire_buf_free(&live);
}

static void fill_pipelines(wire_node *n, wire_node_op *op)
{
    wire_pipeline_rec *v;
    size_t k = wire_fsm_pipelines(n->fsm, &v);
    op->pipes = wire_xcalloc(k ? k : 1, sizeof(*op->pipes));
    op->npipes = 0;
    for (size_t i = 0; i < k; i++) {
        if (op->key && (strlen(v[i].name) != op->klen || memcmp(v[i].name, op->key, op->klen)))
            continue;
        if (op->mine && strcmp(v[i].node, n->id) != 0)
            continue;
        copy_info(n, &v[i], op->with_spec, &op->pipes[op->npipes++]);
    }
    free(v);
    if (op->mine)
        op->run_mode = run_mode(n, wire_now_ms());
    if (op->key && !op->npipes)
        op_done(op, WIRE_ENOTFOUND, "pipeline %.*s not found", (int)op->klen, op->key);
    else
        op_done(op, 0, NULL);
}

void wire_pipeline_infos_free(wire_pipeline_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].node);
        free(v[i].error);
        free(v[i].placement);
        free(v[i].spec);
        free(v[i].checkpoint);
        free(v[i].stats);
    }
    free(v);
}

/* Member side of a heartbeat: the leader is in touch, and how far it has committed. */
static void on_heartbeat(wire_node *n, uint64_t term, uint64_t commit)
{
    if (!n->raft_ok || term < n->raft.current_term)
        return; /* a deposed leader */
    int64_t now = wire_now_ms();
    if (n->last_hb_ms && now - n->last_hb_ms >= n->cfg.node_timeout_ms * 3 / 4) {
        /* a gap (e.g. this process was stopped): catch up before running anything */
        n->caught_up = false;
        n->sync_target = 0;
    }
    n->last_hb_ms = now;
    if (!n->caught_up && !n->sync_target)
        n->sync_target = commit ? commit : 1;
    if (!n->caught_up && raft_last_applied(&n->raft) >= n->sync_target) {
        n->caught_up = true;
        if (n->runners)
            wire_runners_kick(n->runners);
    }
}

static void pipelines_member_tick(wire_node *n, int64_t now)
{
    if (is_leader(n)) {
        /* in touch with itself: stepping down later starts from here, not from a stale
           heartbeat of the leader before it */
        n->last_hb_ms = now;
        n->caught_up = n->sched_term == n->raft.current_term;
        n->sync_target = 0;
        return;
    }
    if (n->last_hb_ms && now - n->last_hb_ms >= n->cfg.node_timeout_ms * 3 / 4) {
        /* out of touch: before running anything again, catch up with a new leader */
        n->caught_up = false;
        n->sync_target = 0;
    } else if (!n->caught_up && n->sync_target && raft_last_applied(&n->raft) >= n->sync_target) {
        n->caught_up = true;
        if (n->runners)
            wire_runners_kick(n->runners);
    }
    const char *la = leader_addr(n);
    if (la)
        snprintf(n->last_leader_addr, sizeof(n->last_leader_addr), "%s", la);
}

/* The leader's heartbeat round: every member, term and commit index. */
static void send_heartbeats(wire_node *n)
{
    struct raft_configuration *c = &n->raft.configuration;
    wire_buf p;
    wire_buf_init(&p);
    wire_put_u64(&p, n->raft.current_term);
    wire_put_u64(&p, n->raft.commit_index);
    for (unsigned i = 0; i < c->n; i++) {
        if (c->servers[i].id == n->rid)
            continue;
        ping_ctx *x = wire_xcalloc(1, sizeof(*x));
        x->n = n;
        snprintf(x->addr, sizeof(x->addr), "%s", c->servers[i].address);
        rpc_call(n, x->addr, WIRE_RPC_HEARTBEAT, &p, ping_reply, x);
    }
    wire_buf_free(&p);
}

/*
 * A node gone from the configuration (removed) may still run its pipelines
 * until it notices: it fences itself after 3/4 of --node-timeout without
 * heartbeats, so count it alive for --node-timeout from when the leader
 * first saw it gone.
 */
static bool departed_alive(wire_node *n, const char *id, int64_t now)
{
    struct departed *free_slot = NULL, *oldest = &n->departed[0];
    for (size_t i = 0; i < WIRE_ARRAY_LEN(n->departed); i++) {
        struct departed *d = &n->departed[i];
        if (d->id[0] && strcmp(d->id, id) == 0)
            return now - d->since_ms < n->cfg.node_timeout_ms;
        if (!d->id[0] && !free_slot)
            free_slot = d;
        if (d->since_ms < oldest->since_ms)
            oldest = d;
    }
    struct departed *d = free_slot ? free_slot : oldest;
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->since_ms = now;
    return true;
}

/* Leader: has node `rec` answered within --node-timeout? */
static bool node_alive(void *arg, const wire_node_rec *rec)
{
    wire_node *n = arg;
    if (strcmp(rec->id, n->id) == 0)
        return true;
    const struct raft_server *s = rec->raft_addr[0] ? config_find(n, 0, rec->raft_addr) : NULL;
    if (!s || s->role == RAFT_SPARE)
        return departed_alive(n, rec->id, wire_now_ms());
    /* Silence is counted from when this node became leader, except for the leader it
       replaced: from the last heartbeat it got from it. */
    int64_t seen = n->leader_since_ms;
    if (n->prev_leader_addr[0] && strcmp(rec->raft_addr, n->prev_leader_addr) == 0 &&
        n->prev_leader_seen_ms)
        seen = n->prev_leader_seen_ms;
    for (size_t i = 0; i < n->nclients; i++)
        if (strcmp(wire_rpc_client_addr(n->clients[i].c), rec->raft_addr) == 0 &&
            n->clients[i].last_reply_ms > seen)
            seen = n->clients[i].last_reply_ms;
    return wire_now_ms() - seen < n->cfg.node_timeout_ms;
}

static void undrain_done(wire_node_op *op)
{
    wire_node *n = op->arg;
    n->undrain_inflight = false;
    if (op->status == 0 && op->result == WIRE_APPLY_OK)
        wire_info("node %s takes pipelines again", n->id);
    free(op);
}

/* Back after a graceful stop, and caught up: take pipelines again. */
static void undrain(wire_node *n, int64_t now)
{
    wire_node_rec rec;
    if (n->undrain_inflight || atomic_load(&n->leaving) || !n->runners ||
        !wire_fsm_node_get(n->fsm, n->id, &rec) || !rec.draining || run_mode(n, now) != WIRE_RUN_OK)
        return;
    wire_node_op *op = wire_xcalloc(1, sizeof(*op));
    op->type = WIRE_OP_CMD;
    op->cmd.type = WIRE_CMD_NODE_DRAIN;
    op->cmd.a = n->id;
    op->cmd.alen = strlen(n->id);
    op->cmd.u1 = 0;
    op->done = undrain_done;
    op->arg = n;
    n->undrain_inflight = true;
    handle_op(n, op);
}

static void gc_done(wire_node_op *op)
{
    wire_node *n = op->arg;
    n->gc_inflight = false;
    free((char *)op->cmd.a);
    free(op);
}

/*
 * Leader, when no membership job runs: a node record whose address is not in
 * the configuration is a leftover of a removal that did not finish (a leader
 * that removed itself steps down before dropping its record). Drop it; its
 * pipelines then move once --node-timeout has passed (departed_alive).
 */
static void gc_records(wire_node *n)
{
    if (n->gc_inflight || n->job_running || n->jobs || !is_leader(n) ||
        n->sched_term != n->raft.current_term)
        return;
    wire_node_rec *v;
    size_t k = wire_fsm_nodes(n->fsm, &v);
    for (size_t i = 0; i < k; i++) {
        if (config_find(n, 0, v[i].raft_addr))
            continue;
        wire_info("dropping the record of node %s: no longer a member", v[i].id);
        wire_node_op *op = wire_xcalloc(1, sizeof(*op));
        op->type = WIRE_OP_CMD;
        op->cmd.type = WIRE_CMD_NODE_DEL;
        op->cmd.a = wire_xstrdup(v[i].id);
        op->cmd.alen = strlen(v[i].id);
        op->done = gc_done;
        op->arg = n;
        n->gc_inflight = true;
        handle_op(n, op);
        break; /* one at a time */
    }
    free(v);
}

static void sched_done(wire_node_op *op)
{
    wire_node *n = op->arg;
    n->sched_inflight--;
    if (op->status != 0)
        wire_warn("placement: assignment not committed: %s", op->err);
    free(op);
}

/* Leader: give every pipeline that needs a node one (scheduler.c decides). */
static void schedule(wire_node *n)
{
    wire_assignment *a;
    size_t k = wire_schedule(n->fsm, node_alive, n, &a);
    for (size_t i = 0; i < k; i++) {
        wire_log(WIRE_LOG_INFO, "placement: pipeline %s → node %s (was epoch %" PRIu64 "): %s",
                 a[i].pipeline, a[i].node, a[i].epoch, a[i].reason);
        wire_cmd c = {0};
        c.type = WIRE_CMD_ASSIGN;
        c.version = 1;
        c.a = a[i].pipeline;
        c.alen = strlen(a[i].pipeline);
        c.b = a[i].node;
        c.blen = strlen(a[i].node);
        c.u1 = a[i].epoch;
        wire_node_op *op = wire_xcalloc(1, sizeof(*op));
        op->type = WIRE_OP_CMD;
        op->done = sched_done;
        op->arg = n;
        uint32_t pos = add_cmd(n, &c);
        bitem *it = batch_add(n->open);
        it->kind = ITEM_OP;
        it->op = op;
        it->first = pos;
        it->count = 1;
        n->sched_inflight++;
        n->c_assignments++;
    }
    free(a);
}

typedef struct term_barrier {
    struct raft_barrier req;
    wire_node *n;
    uint64_t term;
} term_barrier;

static void term_barrier_cb(struct raft_barrier *req, int status)
{
    term_barrier *b = req->data;
    /* Everything committed before this term is applied: placement may decide now. */
    if (status == 0)
        b->n->sched_term = b->term;
    free(b);
}

static void pipelines_leader_tick(wire_node *n, int64_t now)
{
    /* Nothing before this term's barrier applied: heartbeats carry a commit index
       members catch up to, and placement reads the whole state. */
    if (!is_leader(n) || n->sched_term != n->raft.current_term)
        return;
    if (now >= n->next_hb_ms) {
        n->next_hb_ms = now + HEARTBEAT_EVERY_MS;
        send_heartbeats(n);
    }
    if (!n->sched_inflight && now >= n->next_sched_ms) {
        n->next_sched_ms = now + SCHEDULE_EVERY_MS;
        schedule(n);
    }
}

const char *wire_node_id(const wire_node *n)
{
    return n->id;
}

void wire_node_pipelines_each(wire_node *n, void (*fn)(struct wire_pipeline *p, void *arg),
                              void *arg)
{
    if (n->runners)
        wire_runners_each(n->runners, fn, arg);
}

typedef struct call_sync {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
} call_sync;

static void call_done(wire_node_op *op)
{
    call_sync *s = op->arg;
    pthread_mutex_lock(&s->m);
    s->done = true;
    pthread_cond_signal(&s->c);
    pthread_mutex_unlock(&s->m);
}

int wire_node_call(wire_node *n, wire_node_op *op)
{
    call_sync s = {.done = false};
    pthread_mutex_init(&s.m, NULL);
    pthread_cond_init(&s.c, NULL);
    op->done = call_done;
    op->arg = &s;
    wire_node_submit(n, op);
    pthread_mutex_lock(&s.m);
    while (!s.done)
        pthread_cond_wait(&s.c, &s.m);
    pthread_mutex_unlock(&s.m);
    pthread_mutex_destroy(&s.m);
    pthread_cond_destroy(&s.c);
    return op->status;
}

/* ---- Snapshots on a timer ---- */

static void snap_tick(wire_node *n, int64_t now)
{
    struct raft *r = &n->raft;
    if (n->snap_forced && r->log.snapshot.last_index != n->snap_base) {
        raft_set_snapshot_threshold(r, n->cfg.snap_threshold);
        n->snap_forced = false;
    }
    if (n->cfg.snap_interval_ms <= 0 || now < n->next_snap_ms)
        return;
    n->next_snap_ms = now + n->cfg.snap_interval_ms;
    if (raft_last_applied(r) > r->log.snapshot.last_index && !n->snap_forced) {
        /* libraft snapshots after an apply once past the threshold: lower it. */
        n->snap_base = r->log.snapshot.last_index;
        n->snap_forced = true;
        raft_set_snapshot_threshold(r, 1);
        if (is_leader(n)) {
            struct raft_barrier *b = wire_xcalloc(1, sizeof(*b));
            if (raft_barrier(r, b, free_barrier) != 0)
                free(b);
        }
    }
}

/* ---- Shutdown ---- */

static void close_everything(wire_node *n);

static void transfer_cb(struct raft_transfer *req)
{
    wire_node *n = req->data;
    n->stop_phase = 2;
    node_tick(n);
}

static void remove_self_reply(void *arg, int status, const wire_rpc_msg *m)
{
    wire_node *n = arg;
    if (status != 0)
        wire_warn("shutdown: could not remove this node from the cluster");
    else
        wire_info("shutdown: removed from the cluster");
    n->stop_phase = 4;
    node_tick(n);
}

/*
 * Phases: 0 start → (leading and stepdown or self-remove: transfer) 1 → 2
 * → (self-remove: ask the leader) 3 → 4 close.
 */
static void stop_step(wire_node *n)
{
    if (n->stop_phase == 0) {
        n->stopping = true;
        n->stop_deadline_ms = wire_now_ms() + 3 * (int64_t)n->cfg.election_timeout_ms + 5000;
        n->stop_phase = 2;
        if (n->raft_ok && is_leader(n) &&
            (n->cfg.shutdown_stepdown || n->cfg.cluster_remove_shutdown) &&
            n->raft.configuration.n > 1) {
            n->transfer.data = n;
            if (raft_transfer(&n->raft, &n->transfer, 0, transfer_cb) == 0) {
                n->stop_phase = 1;
                wire_info("shutdown: transferring leadership");
                return;
            }
        }
    }
    if (n->stop_phase == 1) {
        if (wire_now_ms() < n->stop_deadline_ms)
            return;
        n->stop_phase = 2;
    }
    if (n->stop_phase == 2) {
        n->stop_phase = 4;
        const char *la = leader_addr(n);
        if (n->cfg.cluster_remove_shutdown && la && !is_leader(n)) {
            wire_buf p;
            wire_buf_init(&p);
            wire_put_str(&p, n->id, strlen(n->id));
            n->stop_phase = 3;
            rpc_call(n, la, WIRE_RPC_REMOVE, &p, remove_self_reply, n);
            wire_buf_free(&p);
            return;
        }
    }
    if (n->stop_phase == 3)
        return; /* remove_self_reply moves on (RPC timeout bounds it) */
    if (n->stop_phase == 4) {
        n->stop_phase = 5;
        close_everything(n);
    }
}

/* ---- Loop ---- */

static void on_async(uv_async_t *h)
{
    wire_node *n = h->data;
    bool stop;
    pthread_mutex_lock(&n->lock);
    stop = n->stop_req;
    pthread_mutex_unlock(&n->lock);
    drain(n);
    if (stop && n->stop_phase < 5)
        node_tick(n);
}

static void node_tick(wire_node *n)
{
    int64_t now = wire_now_ms();
    bool stop;
    pthread_mutex_lock(&n->lock);
    stop = n->stop_req;
    pthread_mutex_unlock(&n->lock);
    if (n->stop_phase >= 5)
        return;
    for (size_t i = 0; i < n->nclients; i++)
        wire_rpc_client_tick(n->clients[i].c, now);
    if (stop || n->stopping) {
        stop_step(n);
        return;
    }
    raft_id lid;
    const char *la;
    raft_leader(&n->raft, &lid, &la);
    if (lid != n->last_leader) {
        if (lid)
            n->c_leader_changes++;
        n->last_leader = lid;
        if (lid == n->rid && is_leader(n)) {
            /*
             * A new leader knows entries of earlier terms are committed only
             * once one of its own term is: append a barrier now, so every
             * node applies the whole log without waiting for the next write.
             * Placement waits for it too.
             */
            n->leader_since_ms = now;
            snprintf(n->prev_leader_addr, sizeof(n->prev_leader_addr), "%s", n->last_leader_addr);
            n->prev_leader_seen_ms = n->last_hb_ms;
            n->next_hb_ms = now;
            term_barrier *bar = wire_xcalloc(1, sizeof(*bar));
            bar->n = n;
            bar->term = n->raft.current_term;
            bar->req.data = bar;
            if (raft_barrier(&n->raft, &bar->req, term_barrier_cb) != 0)
                free(bar);
        }
    }
    pipelines_member_tick(n, now);
    pipelines_leader_tick(n, now);
    if (n->waiters)
        check_waiters(n);
    snap_tick(n, now);
    if (n->cfg.bootstrap_expect > 0 && !n->have_state)
        expect_tick(n, now);
    else if (n->cfg.join && !n->joined && !n->joining && now >= n->next_join_ms && !n->failed &&
             (!n->have_state || (!lid && self_spare(n) &&
                                 now - n->start_ms > 3 * (int64_t)n->cfg.election_timeout_ms))) {
        /*
         * Restarted with state as a spare, with no leader in sight: it crashed
         * between being added (as a spare, which gets no entries) and being
         * given its role. Join again to finish. (A removed node stays out.)
         */
        char addr[256];
        if (join_addr(n->cfg.join, 0, addr, sizeof(addr)))
            join_send(n, addr, 0, 0);
    }
    if (now >= n->next_self_ms) {
        n->next_self_ms = now + 1000;
        self_check(n);
        undrain(n, now);
        gc_records(n);
    }
    if (now >= n->next_ping_ms) {
        n->next_ping_ms = now + PING_EVERY_MS;
        if (!is_leader(n)) /* the leader's heartbeats do this for it */
            ping_members(n);
    }
    if (!n->job_running)
        run_jobs(n);
    flush(n);
}

static bool self_spare(wire_node *n)
{
    const struct raft_server *s = config_find(n, n->rid, NULL);
    return s && s->role == RAFT_SPARE;
}

static void on_timer(uv_timer_t *t)
{
    node_tick(t->data);
}

static void on_check(uv_check_t *h)
{
    wire_node *n = h->data;
    if (!n->stopping && (n->open || n->nfwd || n->reads))
        flush(n);
}

static void handles_closed(uv_handle_t *h)
{
    (void)h;
}

static void mux_closed(void *arg)
{
    wire_node *n = arg;
    uv_close((uv_handle_t *)&n->async, handles_closed);
    uv_close((uv_handle_t *)&n->timer, handles_closed);
    uv_close((uv_handle_t *)&n->check, handles_closed);
}

static void raft_closed(struct raft *r)
{
    wire_node *n = r->data;
    raft_uv_close(&n->io);
    wire_transport_close(&n->transport);
    n->raft_ok = false;
    /* Whatever still waits can only fail now. */
    while (n->waiters) {
        waiter *w = n->waiters;
        n->waiters = w->next;
        op_done(w->op, WIRE_ESTOPPED, "node stopped");
        free(w);
    }
    for (size_t i = 0; i < n->nclients; i++)
        wire_rpc_client_free(n->clients[i].c);
    free(n->clients);
    n->clients = NULL;
    n->nclients = 0;
    while (n->sconns.next != &n->sconns) {
        server_conn *s = n->sconns.next;
        wire_rpc_conn_close(s->c); /* server_closed unlinks and frees s */
    }
    wire_mux_close(n->mux, mux_closed, n);
    n->mux = NULL;
}

static void close_everything(wire_node *n)
{
    drain(n);
    fail_open_batch(n, RAFT_SHUTDOWN);
    forward_flush(n);
    while (n->jobs) {
        job *j = n->jobs;
        n->jobs = j->next;
        n->jobs_tail = n->jobs ? n->jobs_tail : NULL;
        j->next = NULL;
        n->job_running = true;
        job_reply(j, WIRE_ESTOPPED, "node stopping");
    }
    uv_timer_stop(&n->timer);
    if (n->raft_ok) {
        raft_close(&n->raft, raft_closed);
    } else {
        wire_mux_close(n->mux, mux_closed, n);
        n->mux = NULL;
    }
}

static void loop_main(void *arg)
{
    wire_node *n = arg;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    /* Late ops (submitted while closing) fail here. */
    pthread_mutex_lock(&n->lock);
    n->stopped = true;
    wire_node_op *l = n->inq;
    n->inq = n->inq_tail = NULL;
    pthread_mutex_unlock(&n->lock);
    while (l) {
        wire_node_op *nx = l->next;
        op_done(l, WIRE_ESTOPPED, "node stopped");
        l = nx;
    }
}

/* ---- Public API ---- */

/*
 * libraft draws each election timeout in [T, 2T]. Wire draws it in
 * [T, 1.5T]: failover after a leader dies takes ~T/4 less on average, and
 * 0.5T (hundreds of ms) remains far wider than a loopback or LAN round trip,
 * which is what keeps split votes rare (pre-vote is on, too).
 */
static int narrow_random(struct raft_io *io, int min, int max)
{
    wire_node *n = (wire_node *)(void *)((char *)io - offsetof(wire_node, io));
    if (max > min)
        max = min + (max - min) / 2;
    return n->io_random(io, min, max);
}

static int mkdir_p(const char *dir, wire_err *err)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return wire_errf(err, WIRE_EIO, "mkdir %s: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return wire_errf(err, WIRE_EIO, "mkdir %s: %s", p, strerror(errno));
    return 0;
}

static void free_node_mem(wire_node *n)
{
    wire_runners_free(n->runners);
    wire_fsm_free(n->fsm);
    wire_buf_free(&n->entry);
    wire_buf_free(&n->fwd);
    free(n->fwd_ops);
    free(n->known);
    free((char *)n->cfg.join);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

int wire_node_start(const wire_node_config *cfg, wire_node **out, wire_err *err)
{
    wire_node *n = wire_xcalloc(1, sizeof(*n));
    n->cfg = *cfg;
    n->cfg.join = cfg->join && *cfg->join ? wire_xstrdup(cfg->join) : NULL;
    if (n->cfg.join_attempts <= 0)
        n->cfg.join_attempts = 5;
    if (n->cfg.election_timeout_ms == 0)
        n->cfg.election_timeout_ms = 1000;
    if (n->cfg.heartbeat_timeout_ms == 0)
        n->cfg.heartbeat_timeout_ms = 100;
    if (n->cfg.snap_threshold == 0)
        n->cfg.snap_threshold = 8192;
    snprintf(n->raft_adv, sizeof(n->raft_adv), "%s",
             cfg->raft_adv_addr && *cfg->raft_adv_addr ? cfg->raft_adv_addr : cfg->raft_addr);
    snprintf(n->http_adv, sizeof(n->http_adv), "%s", cfg->http_adv_addr ? cfg->http_adv_addr : "");
    const char *id = cfg->node_id && *cfg->node_id ? cfg->node_id : n->raft_adv;
    snprintf(n->id, sizeof(n->id), "%.127s", id);
    snprintf(n->dir, sizeof(n->dir), "%s", cfg->raft_dir);
    n->rid = wire_node_raft_id(n->id);
    pthread_mutex_init(&n->lock, NULL);
    n->sconns.next = n->sconns.prev = &n->sconns;
    wire_buf_init(&n->entry);
    wire_buf_init(&n->fwd);
    n->fsm = wire_fsm_new();
    wire_fsm_on_apply(n->fsm, on_fsm_apply, n);
    int rc = mkdir_p(n->dir, err);
    if (rc != 0) {
        free_node_mem(n);
        return rc;
    }
    rc = wire_raft_dir_check(n->dir, &n->have_state, err);
    if (rc != 0) {
        free_node_mem(n);
        return rc;
    }
    uv_loop_init(&n->loop);
    rc = wire_mux_start(&n->loop, cfg->raft_addr, &n->mux, err);
    if (rc != 0) {
        uv_loop_close(&n->loop);
        free_node_mem(n);
        return rc;
    }
    wire_mux_set_handler(n->mux, WIRE_MUX_RPC, on_rpc_conn, n);
    wire_transport_init(&n->transport, &n->loop, n->mux);
    rc = raft_uv_init(&n->io, &n->loop, n->dir, &n->transport);
    if (rc == 0) {
        raft_uv_set_connect_retry_delay(&n->io, 200);
        n->io_random = n->io.random;
        n->io.random = narrow_random;
        /* raft_uv has async_work but still says version 1, which makes raft_init refuse
           asynchronous snapshots (the only use libraft 0.15 makes of io->version) */
        n->io.version = 2;
        wire_fsm_set_async_snapshots(n->fsm, true);
        rc = raft_init(&n->raft, &n->io, wire_fsm_raft(n->fsm), n->rid, n->raft_adv);
        if (rc != 0)
            raft_uv_close(&n->io);
    }
    if (rc != 0) {
        wire_errf(err, WIRE_EIO, "raft init in %s: %s", n->dir, raft_strerror(rc));
        wire_transport_close(&n->transport);
        wire_mux_close(n->mux, NULL, NULL);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        uv_loop_close(&n->loop);
        free_node_mem(n);
        return WIRE_EIO;
    }
    n->raft.data = n;
    n->raft_ok = true;
    wire_fsm_attach(n->fsm, &n->raft);
    raft_set_election_timeout(&n->raft, n->cfg.election_timeout_ms);
    raft_set_heartbeat_timeout(&n->raft, n->cfg.heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&n->raft, n->cfg.snap_threshold);
    unsigned trailing = n->cfg.snap_threshold / 4;
    raft_set_snapshot_trailing(&n->raft, trailing < 16 ? 16 : trailing);
    raft_set_pre_vote(&n->raft, true);

    if (!n->have_state && !n->cfg.join && n->cfg.bootstrap_expect <= 0) {
        peer self = {{0}, {0}, {0}};
        snprintf(self.id, sizeof(self.id), "%s", n->id);
        snprintf(self.raft_addr, sizeof(self.raft_addr), "%s", n->raft_adv);
        snprintf(self.api_addr, sizeof(self.api_addr), "%s", n->http_adv);
        bootstrap_with(n, &self, 1);
    }
    if (n->cfg.bootstrap_expect > 0) {
        add_known(n, n->id, strlen(n->id), n->raft_adv, strlen(n->raft_adv), n->http_adv,
                  strlen(n->http_adv));
        n->expect_deadline_ms = wire_now_ms() + n->cfg.bootstrap_expect_timeout_ms;
    }
    bool defer = n->cfg.bootstrap_expect > 0 && !n->have_state;
    rc = defer ? 0 : raft_start(&n->raft);
    n->started = !defer;
    if (rc != 0) {
        wire_errf(err, WIRE_EIO, "raft start in %s: %s: %s", n->dir, raft_strerror(rc),
                  raft_errmsg(&n->raft));
        n->stop_phase = 5;
        raft_close(&n->raft, raft_closed);
        uv_async_init(&n->loop, &n->async, on_async);
        uv_timer_init(&n->loop, &n->timer);
        uv_check_init(&n->loop, &n->check);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        uv_loop_close(&n->loop);
        free_node_mem(n);
        return WIRE_EIO;
    }
    if (n->have_state)
        wire_info("restarted from existing state in %s", n->dir);
    uv_async_init(&n->loop, &n->async, on_async);
    n->async.data = n;
    uv_timer_init(&n->loop, &n->timer);
    n->timer.data = n;
    n->next_snap_ms = wire_now_ms() + n->cfg.snap_interval_ms;
    n->start_ms = wire_now_ms();
    uv_timer_start(&n->timer, on_timer, TICK_MS, TICK_MS);
    uv_check_init(&n->loop, &n->check);
    n->check.data = n;
    uv_check_start(&n->check, on_check);
    if (cfg->registry) { /* its first ops wait in the queue until the loop runs */
        char dir[1100];
        snprintf(dir, sizeof(dir), "%s/pipelines", n->dir);
        n->runners = wire_runners_start(n, cfg->registry, dir);
    }
    if (uv_thread_create(&n->thread, loop_main, n) != 0) {
        wire_errf(err, WIRE_EIO, "cannot start the node thread");
        return WIRE_EIO; /* not reached in practice */
    }
    *out = n;
    return 0;
}

bool wire_node_failed(wire_node *n, char *msg, size_t msglen)
{
    pthread_mutex_lock(&n->lock);
    bool f = n->failed;
    if (f && msg)
        snprintf(msg, msglen, "%s", n->fail_msg);
    pthread_mutex_unlock(&n->lock);
    return f;
}

void wire_node_submit(wire_node *n, wire_node_op *op)
{
    op->next = NULL;
    op->deadline_ms = 0;
    pthread_mutex_lock(&n->lock);
    if (n->stopped) {
        pthread_mutex_unlock(&n->lock);
        op_done(op, WIRE_ESTOPPED, "node stopped");
        return;
    }
    if (n->inq_tail)
        n->inq_tail->next = op;
    else
        n->inq = op;
    n->inq_tail = op;
    pthread_mutex_unlock(&n->lock);
    uv_async_send(&n->async);
}

void wire_node_stop(wire_node *n)
{
    if (!n)
        return;
    /* Pipelines first, while the node can still commit their final checkpoints and
       hand their assignments back. */
    atomic_store(&n->leaving, true);
    if (n->runners)
        wire_runners_stop(n->runners);
    pthread_mutex_lock(&n->lock);
    n->stop_req = true;
    pthread_mutex_unlock(&n->lock);
    uv_async_send(&n->async);
    uv_thread_join(&n->thread);
    int rc = uv_loop_close(&n->loop);
    if (rc != 0)
        wire_warn("node: loop closed with handles open (%s)", uv_strerror(rc));
    free_node_mem(n);
}
