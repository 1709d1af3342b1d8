/*
 * runners.c — every node runs exactly the pipelines the replicated state
 * assigns to it.
 *
 * One supervisor thread per node reconciles, every 200 ms or when the state
 * changes: it reads the pipelines assigned here (with the node's run mode),
 * stops runners that are no longer wanted (deleted, paused, moved, or a new
 * version or epoch), starts the missing ones, and reports each runner's
 * transitions (running, failed with its error, finished) as state commands
 * carrying its version and epoch — a stale runner's reports are refused.
 *
 * Each runner checkpoints through Raft: the store below turns a checkpoint
 * into a CHECKPOINT command with the runner's assignment epoch (plus its
 * counters, for `GET /v1/pipelines` on any node). When the pipeline has
 * moved, the state machine answers STALE and the store returns WIRE_EPERM,
 * which stops the pipeline: a paused-then-revived node cannot overwrite the
 * new owner's progress.
 *
 * Run modes (from the node): OK reconciles; HOLD changes nothing (catching up
 * after a restart, a short leader gap); FENCE stops everything (no leader for
 * most of --node-timeout: the leader is about to give them away).
 *
 * Locking: `lock` guards the runner list against readers on the node's loop
 * thread (wire_runners_live). The supervisor never holds it while waiting for
 * the node, so the loop thread never waits for the supervisor.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/internal.h"
#include "core/json.h"
#include "engine/checkpoint.h"
#include "engine/engine.h"

#define RECONCILE_EVERY_MS 200

typedef struct runner runner;

/* The Raft-backed checkpoint store of one runner (one pipeline, one epoch). */
typedef struct raft_store {
    wire_checkpoint_store base;
    struct wire_runners *rs;
    runner *r;
} raft_store;

struct runner {
    runner *next;
    char *name;
    uint64_t version, epoch;
    wire_pipeline *p; /* NULL: could not start (error below) */
    raft_store store;
    wire_pipeline_counters base; /* from earlier runs (the state machine's last counters) */
    int want_report;             /* state to report (-1: none) */
    char *error;
    bool ended; /* finished or failed; stays until the state machine moves on */
    int64_t start_ns;
};

struct wire_runners {
    atomic_bool fenced;     /* cut off from the cluster: saves cannot commit, do not wait */
    wire_runners_host host; /* the node, through the callbacks it registered */
    const wire_registry *reg;
    const struct wire_sandbox *sandbox; /* the pipelines' files stay inside */
    char *dir;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop, kicked, thread_ok;
    runner *list;
    int last_mode;
};

/* Submit an op to the node and wait for it (the node's wire_node_call). */
static int node_call(struct wire_runners *rs, wire_node_op *op)
{
    return rs->host.call(rs->host.node, op);
}

/* An op proposing one command of `type` about `name` (the caller fills the rest). */
static void cmd_op(wire_node_op *op, uint8_t type, const char *name)
{
    memset(op, 0, sizeof(*op));
    op->type = WIRE_OP_CMD;
    op->cmd.type = type;
    op->cmd.a = name;
    op->cmd.alen = strlen(name);
}

/* ---- Counters ---- */

/* This runner's counters: earlier runs' plus the live pipeline's, with the splits its
   source reads now ("splits": [...], shown per instance). */
static void counters_json(const runner *r, wire_buf *out)
{
    wire_pipeline_counters c = r->base;
    if (r->p)
        wire_pipeline_counters_add(r->p, &c);
    size_t start = out->len;
    wire_pipeline_counters_json(&c, out);
    if (!r->p || out->len == start || out->p[out->len - 1] != '}')
        return;
    out->len--; /* reopen the object */
    wire_buf_append(out, ",\"splits\":", 10);
    wire_pipeline_splits_json(r->p, out);
    wire_buf_putc(out, '}');
}

/* ---- The Raft checkpoint store ---- */

static int store_save(wire_checkpoint_store *s, const char *pipeline, const wire_checkpoint *cp,
                      wire_err *err)
{
    raft_store *st = (raft_store *)s;
    runner *r = st->r;
    if (atomic_load(&st->rs->fenced))
        return wire_errf(err, WIRE_EAGAIN, "not saved: this node is out of touch with the cluster");
    wire_buf blob, stats;
    wire_buf_init(&blob);
    wire_buf_init(&stats);
    wire_checkpoint_encode(cp, pipeline, &blob);
    counters_json(r, &stats);
    wire_node_op op;
    cmd_op(&op, WIRE_CMD_CHECKPOINT, r->name);
    op.cmd.u1 = r->epoch;
    op.cmd.b = stats.p;
    op.cmd.blen = stats.len;
    op.cmd.c = blob.p;
    op.cmd.clen = blob.len;
    int rc = node_call(st->rs, &op);
    wire_buf_free(&blob);
    wire_buf_free(&stats);
    if (rc != 0)
        return wire_errf(err, WIRE_EAGAIN, "checkpoint not committed: %s", op.err);
    if (op.result == WIRE_APPLY_STALE)
        return wire_errf(err, WIRE_EPERM,
                         "checkpoint refused: assignment epoch %" PRIu64
                         " is stale (the pipeline now runs elsewhere)",
                         r->epoch);
    if (op.result == WIRE_APPLY_NOTFOUND)
        return wire_errf(err, WIRE_ENOTFOUND, "the pipeline was deleted");
    if (op.result != WIRE_APPLY_OK)
        return wire_errf(err, WIRE_EAGAIN, "checkpoint refused by the state machine (%u)",
                         op.result);
    return 0;
}

static int store_load(wire_checkpoint_store *s, const char *pipeline, wire_checkpoint *out,
                      wire_err *err)
{
    raft_store *st = (raft_store *)s;
    wire_node_op op;
    memset(&op, 0, sizeof(op));
    op.type = WIRE_OP_PIPELINES;
    op.key = st->r->name;
    op.klen = strlen(st->r->name);
    int rc = node_call(st->rs, &op);
    if (rc == WIRE_ENOTFOUND) {
        wire_pipeline_infos_free(op.pipes, op.npipes);
        return wire_errf(err, WIRE_EPERM, "pipeline %s was deleted", pipeline);
    }
    if (rc != 0) {
        wire_pipeline_infos_free(op.pipes, op.npipes);
        return wire_errf(err, WIRE_EAGAIN, "cannot read the checkpoint: %s", op.err);
    }
    const wire_pipeline_info *pi = &op.pipes[0];
    if (!pi->checkpoint_len) {
        wire_pipeline_infos_free(op.pipes, op.npipes);
        return wire_errf(err, WIRE_ENOTFOUND, "no checkpoint yet");
    }
    rc = wire_checkpoint_decode(pi->checkpoint, pi->checkpoint_len, out, err);
    wire_pipeline_infos_free(op.pipes, op.npipes);
    return rc;
}

static int store_load_peers(wire_checkpoint_store *s, const char *pipeline, wire_checkpoint **out,
                            size_t *n, wire_err *err)
{
    raft_store *st = (raft_store *)s;
    *out = NULL;
    *n = 0;
    wire_node_op op;
    memset(&op, 0, sizeof(op));
    op.type = WIRE_OP_PIPELINES;
    op.key = pipeline; /* the pipeline's name: every instance's record */
    op.klen = strlen(pipeline);
    op.instances = true;
    op.with_spec = true;
    int rc = node_call(st->rs, &op);
    if (rc != 0) {
        wire_pipeline_infos_free(op.pipes, op.npipes);
        return wire_errf(err, WIRE_EAGAIN, "cannot read the other instances' checkpoints: %s",
                         op.err);
    }
    wire_checkpoint *v = wire_xcalloc(op.npipes ? op.npipes : 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < op.npipes; i++) {
        const wire_pipeline_info *pi = &op.pipes[i];
        if (strcmp(pi->name, st->r->name) == 0 || !pi->checkpoint_len)
            continue;
        wire_err e;
        wire_checkpoint_init(&v[k]);
        if (wire_checkpoint_decode(pi->checkpoint, pi->checkpoint_len, &v[k], &e) == 0)
            k++;
        else {
            wire_checkpoint_clear(&v[k]);
            wire_warn("pipeline %s: the checkpoint of %s is unreadable: %s", st->r->name, pi->name,
                      e.msg);
        }
    }
    wire_pipeline_infos_free(op.pipes, op.npipes);
    *out = v;
    *n = k;
    return 0;
}

static int store_remove(wire_checkpoint_store *s, const char *pipeline, wire_err *err)
{
    (void)s;
    (void)pipeline;
    (void)err;
    return 0; /* deleting the pipeline from the state machine removes its checkpoint */
}

static void store_free(wire_checkpoint_store *s)
{
    (void)s; /* embedded in its runner */
}

/* ---- Runners ---- */

static void set_error(runner *r, const char *msg)
{
    free(r->error);
    r->error = wire_xstrdup(msg);
}

/* Report a runner's state; false if it must be tried again. */
static bool report(wire_runners *rs, runner *r, int state)
{
    wire_node_op op;
    cmd_op(&op, WIRE_CMD_PIPELINE_STATE, r->name);
    op.cmd.u1 = r->version;
    op.cmd.u2 = (uint64_t)state;
    op.cmd.u3 = r->epoch;
    const char *e = state == WIRE_PSTATE_FAILED && r->error ? r->error : "";
    op.cmd.c = e;
    op.cmd.clen = strlen(e);
    if (node_call(rs, &op) != 0)
        return false;
    return true; /* applied, or refused because the state moved on: either way done */
}

static runner *runner_start(wire_runners *rs, const wire_pipeline_info *pi)
{
    runner *r = wire_xcalloc(1, sizeof(*r));
    r->name = wire_xstrdup(pi->name);
    r->version = pi->version;
    r->epoch = pi->epoch;
    r->want_report = WIRE_PSTATE_RUNNING;
    wire_pipeline_counters_parse(pi->stats, pi->stats ? strlen(pi->stats) : 0, &r->base);
    r->store.base.save = store_save;
    r->store.base.load = store_load;
    r->store.base.remove = store_remove;
    r->store.base.load_peers = store_load_peers;
    r->store.base.free = store_free;
    r->store.rs = rs;
    r->store.r = r;

    wire_diags d = {0};
    wire_pipeline_spec *spec = NULL;
    char file[300];
    snprintf(file, sizeof(file), "%s (version %" PRIu64 ")", pi->name, pi->version);
    /* the node's sandbox again (the document was checked at create, but the
       tree may have changed, or the document come from a node with wider
       --allowed-paths) */
    wire_err serr;
    wire_err_clear(&serr);
    if (wire_spec_load_mem(rs->reg, file, pi->spec, pi->spec_len, &spec, &d) != 0 ||
        wire_spec_check_paths(spec, rs->sandbox, &d) != 0 ||
        wire_spec_resolve_secrets(spec, rs->sandbox, &serr) != 0) {
        if (serr.msg[0])
            wire_diags_add(&d, file, 1, 1, "%s", serr.msg);
        wire_buf b;
        wire_buf_init(&b);
        for (size_t i = 0; i < d.n; i++)
            wire_buf_printf(&b, "%s%d:%d: %s", i ? "; " : "", d.v[i].line, d.v[i].col, d.v[i].msg);
        set_error(r, b.len ? b.p : "invalid pipeline");
        wire_buf_free(&b);
        wire_diags_free(&d);
        wire_spec_free(spec);
        r->want_report = WIRE_PSTATE_FAILED;
        r->ended = true;
        return r;
    }
    wire_diags_free(&d);
    r->start_ns = wire_mono_ns();
    wire_engine_opts opts = {
        .data_dir = rs->dir,
        .store = spec->checkpoint_interval_ms > 0 ? &r->store.base : NULL,
        .version = pi->version,
        .instance = wire_instance_of(pi->name, &(size_t){0}),
        .sandbox = rs->sandbox,
    };
    wire_err err;
    wire_pipeline *p = NULL;
    int rc = wire_pipeline_new(spec, &opts, &p, &err);
    if (rc == 0) {
        r->p = p; /* before its threads start: the checkpoint store reads it */
        rc = wire_pipeline_start(p, &err);
    }
    if (rc != 0) {
        if (p)
            wire_pipeline_free(p);
        r->p = NULL;
        if (rc == WIRE_EAGAIN) { /* e.g. the checkpoint could not be read during an election */
            wire_warn("pipeline %s: cannot start yet: %s", r->name, err.msg);
            free(r->name);
            free(r->error);
            free(r);
            return NULL;
        }
        set_error(r, err.msg);
        r->want_report = WIRE_PSTATE_FAILED;
        r->ended = true;
        return r;
    }
    wire_info("pipeline %s: version %" PRIu64 " started here (epoch %" PRIu64 ")", r->name,
              r->version, r->epoch);
    return r;
}

/* Wait for a stopped runner (its drain and final checkpoint) and free it; it is off the list. */
static void runner_free(runner *r, const char *why)
{
    if (r->p) {
        wire_pipeline_stop(r->p);
        int64_t t = wire_pipeline_spec_of(r->p)->shutdown_timeout_ms;
        if (!wire_pipeline_timedwait(r->p, t > 0 ? t : 10000)) {
            wire_warn("pipeline %s: still draining after its shutdown_timeout; waiting", r->name);
            wire_pipeline_wait(r->p);
        }
        wire_info("pipeline %s: version %" PRIu64 " stopped here: %s", r->name, r->version, why);
        wire_pipeline_free(r->p);
    }
    free(r->name);
    free(r->error);
    free(r);
}

static void unlink_runner(wire_runners *rs, runner *r)
{
    pthread_mutex_lock(&rs->lock);
    for (runner **pp = &rs->list; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    pthread_mutex_unlock(&rs->lock);
}

/* Stop every runner at once (they drain in parallel), then wait for each. */
static void stop_all(wire_runners *rs, const char *why)
{
    pthread_mutex_lock(&rs->lock);
    runner *l = rs->list;
    rs->list = NULL;
    pthread_mutex_unlock(&rs->lock);
    for (runner *r = l; r; r = r->next)
        if (r->p)
            wire_pipeline_stop(r->p);
    while (l) {
        runner *nx = l->next;
        runner_free(l, why);
        l = nx;
    }
}

/* op->pipes come sorted by name (the state machine's order): a binary search, so a
   pass over R runners and M pipelines is O((R + M) log M), not O(R x M). */
static const wire_pipeline_info *find_info(const wire_node_op *op, const char *name)
{
    size_t lo = 0, hi = op->npipes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(op->pipes[mid].name, name);
        if (c == 0)
            return &op->pipes[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool should_run(int state)
{
    return state == WIRE_PSTATE_PENDING || state == WIRE_PSTATE_RUNNING;
}

/* Its `placement`, if any, names this node. */
static bool placed_here(wire_runners *rs, const wire_pipeline_info *pi)
{
    return !pi->placement[0] || strcmp(pi->placement, rs->host.node_id) == 0;
}

/* Hand an assignment back (to no node, replacing `epoch`): the leader places it anew. */
static bool release(wire_runners *rs, const char *name, uint64_t epoch)
{
    wire_node_op op;
    cmd_op(&op, WIRE_CMD_ASSIGN, name);
    op.cmd.b = "";
    op.cmd.u1 = epoch;
    if (node_call(rs, &op) != 0 || op.result != WIRE_APPLY_OK)
        return false;
    wire_info("pipeline %s: released for another node", name);
    return true;
}

static void reconcile(wire_runners *rs, const wire_node_op *op)
{
    bool stopped = false;
    /* stop what is no longer wanted here, as it is */
    for (runner *r = rs->list, *nx; r; r = nx) {
        nx = r->next;
        const wire_pipeline_info *pi = find_info(op, r->name);
        const char *why = NULL;
        if (!pi)
            why = "deleted, or moved to another node";
        else if (pi->version != r->version)
            why = "a new version takes over";
        else if (pi->epoch != r->epoch)
            why = "assignment changed";
        else if (pi->state == WIRE_PSTATE_PAUSED)
            why = "paused";
        else if (!placed_here(rs, pi))
            why = "its placement names another node";
        else if (!should_run(pi->state) && (!r->ended || r->want_report < 0))
            why = r->ended ? "ended" : "stopped by the cluster";
        if (!why)
            continue;
        unlink_runner(rs, r);
        runner_free(r, why);
        stopped = true;
    }
    /* a stop can take a while: decide what to start from a fresh look */
    if (stopped) {
        wire_runners_kick(rs);
        return;
    }
    /* start what is missing: what runs here, sorted by name, is looked up */
    size_t nrun = 0;
    for (runner *r = rs->list; r; r = r->next)
        nrun++;
    const char **running = wire_xcalloc(nrun ? nrun : 1, sizeof(*running));
    nrun = 0;
    for (runner *r = rs->list; r; r = r->next)
        running[nrun++] = r->name;
    qsort(running, nrun, sizeof(*running), name_cmp);
    for (size_t i = 0; i < op->npipes; i++) {
        const wire_pipeline_info *pi = &op->pipes[i];
        if (!should_run(pi->state))
            continue;
        if (!placed_here(rs, pi)) { /* pinned elsewhere since: not here, and say so */
            release(rs, pi->name, pi->epoch);
            continue;
        }
        const char *key = pi->name;
        if (bsearch(&key, running, nrun, sizeof(*running), name_cmp))
            continue;
        runner *r = runner_start(rs, pi);
        if (!r)
            continue; /* try again at the next pass */
        pthread_mutex_lock(&rs->lock);
        r->next = rs->list;
        rs->list = r;
        pthread_mutex_unlock(&rs->lock);
    }
    free(running);
}

/* Runners that ended on their own, and reports still owed. */
static void poll_runners(wire_runners *rs)
{
    for (runner *r = rs->list; r; r = r->next) {
        if (r->p && !r->ended) {
            wire_pipe_state st = wire_pipeline_state(r->p);
            if (st == WIRE_PIPE_FINISHED || st == WIRE_PIPE_FAILED) {
                r->ended = true;
                r->want_report =
                    st == WIRE_PIPE_FINISHED ? WIRE_PSTATE_FINISHED : WIRE_PSTATE_FAILED;
                if (st == WIRE_PIPE_FAILED)
                    set_error(r, wire_pipeline_error(r->p) ? wire_pipeline_error(r->p) : "failed");
                double secs = (double)(wire_pipeline_ended_ns(r->p) - r->start_ns) / 1e9;
                uint64_t in = atomic_load(&wire_pipeline_stats_of(r->p)->events_in);
                wire_info("pipeline %s: %s after %.3fs, %" PRIu64 " events in (%.0f events/s)%s%s",
                          r->name, st == WIRE_PIPE_FINISHED ? "finished" : "failed", secs, in,
                          secs > 0 ? (double)in / secs : 0.0, r->error ? ": " : "",
                          r->error ? r->error : "");
            }
        }
        if (r->want_report >= 0 && report(rs, r, r->want_report))
            r->want_report = -1;
    }
}

/*
 * Node shutdown: mark the node draining (the leader places nothing here
 * any more), stop every pipeline (final checkpoints commit), then give each
 * assignment back (assign to no node, replacing its epoch), so the leader
 * places it elsewhere now instead of after --node-timeout. What does not
 * commit (no leader) changes nothing: the timeout still moves them.
 */
static void shutdown_release(wire_runners *rs)
{
    size_t n = 0;
    for (runner *r = rs->list; r; r = r->next)
        n++;
    char **names = wire_xcalloc(n ? n : 1, sizeof(char *));
    uint64_t *epochs = wire_xcalloc(n ? n : 1, sizeof(uint64_t));
    size_t k = 0;
    for (runner *r = rs->list; r; r = r->next)
        if (r->p && !r->ended) {
            names[k] = wire_xstrdup(r->name);
            epochs[k++] = r->epoch;
        }
    { /* first: nothing may be placed here any more (the node clears it when back) */
        wire_node_op op;
        cmd_op(&op, WIRE_CMD_NODE_DRAIN, rs->host.node_id);
        op.cmd.u1 = 1;
        node_call(rs, &op);
    }
    stop_all(rs, "node shutting down");
    for (size_t i = 0; i < k; i++) {
        release(rs, names[i], epochs[i]);
        free(names[i]);
    }
    free(names);
    free(epochs);
}

static void *supervise(void *arg)
{
    wire_runners *rs = arg;
    for (;;) {
        pthread_mutex_lock(&rs->lock);
        if (!rs->stop && !rs->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += RECONCILE_EVERY_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&rs->cond, &rs->lock, &ts);
        }
        bool stop = rs->stop;
        rs->kicked = false;
        pthread_mutex_unlock(&rs->lock);
        if (stop)
            break;
        wire_node_op op;
        memset(&op, 0, sizeof(op));
        op.type = WIRE_OP_PIPELINES;
        op.mine = true;
        op.with_spec = true;
        if (node_call(rs, &op) == 0) {
            if (op.run_mode != rs->last_mode && op.run_mode == WIRE_RUN_FENCE && rs->list)
                wire_warn("no contact with a leader: stopping this node's pipelines (the "
                          "leader gives them to other nodes)");
            rs->last_mode = op.run_mode;
            if (op.run_mode == WIRE_RUN_OK)
                reconcile(rs, &op);
            else if (op.run_mode == WIRE_RUN_FENCE && rs->list) {
                /* quickly, and without final checkpoints: they could not commit anyway,
                   and the leader is about to give these pipelines to other nodes */
                atomic_store(&rs->fenced, true);
                stop_all(rs, "fenced: out of touch with the cluster");
                atomic_store(&rs->fenced, false);
            }
        }
        wire_pipeline_infos_free(op.pipes, op.npipes);
        poll_runners(rs);
    }
    shutdown_release(rs);
    return NULL;
}

wire_runners *wire_runners_start(const wire_runners_host *host, const wire_registry *reg,
                                 const struct wire_sandbox *sandbox, const char *dir)
{
    wire_runners *rs = wire_xcalloc(1, sizeof(*rs));
    rs->host = *host;
    rs->reg = reg;
    rs->sandbox = sandbox;
    rs->dir = wire_xstrdup(dir);
    rs->last_mode = -1;
    pthread_mutex_init(&rs->lock, NULL);
    pthread_cond_init(&rs->cond, NULL);
    rs->thread_ok = pthread_create(&rs->thread, NULL, supervise, rs) == 0;
    if (!rs->thread_ok)
        wire_error("cannot start the pipeline supervisor thread");
    return rs;
}

void wire_runners_kick(wire_runners *rs)
{
    pthread_mutex_lock(&rs->lock);
    rs->kicked = true;
    pthread_cond_signal(&rs->cond);
    pthread_mutex_unlock(&rs->lock);
}

bool wire_runners_live(wire_runners *rs, const char *name, wire_buf *out)
{
    bool found = false;
    pthread_mutex_lock(&rs->lock);
    for (runner *r = rs->list; r && !found; r = r->next)
        if (strcmp(r->name, name) == 0 && r->p) {
            counters_json(r, out);
            found = true;
        }
    pthread_mutex_unlock(&rs->lock);
    return found;
}

static int live_cmp(const void *a, const void *b)
{
    return strcmp(((const wire_runner_live *)a)->name, ((const wire_runner_live *)b)->name);
}

size_t wire_runners_live_all(wire_runners *rs, wire_runner_live **out)
{
    pthread_mutex_lock(&rs->lock);
    size_t n = 0, k = 0;
    for (runner *r = rs->list; r; r = r->next)
        n += r->p != NULL;
    wire_runner_live *v = wire_xcalloc(n ? n : 1, sizeof(*v));
    wire_buf b;
    wire_buf_init(&b);
    for (runner *r = rs->list; r && k < n; r = r->next) {
        if (!r->p)
            continue;
        b.len = 0;
        counters_json(r, &b);
        v[k].name = wire_xstrdup(r->name);
        v[k++].counters = wire_xstrndup(b.p, b.len);
    }
    pthread_mutex_unlock(&rs->lock);
    wire_buf_free(&b);
    qsort(v, k, sizeof(*v), live_cmp);
    *out = v;
    return k;
}

void wire_runner_lives_free(wire_runner_live *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].counters);
    }
    free(v);
}

void wire_runners_each(wire_runners *rs, void (*fn)(wire_pipeline *p, void *arg), void *arg)
{
    pthread_mutex_lock(&rs->lock);
    for (runner *r = rs->list; r; r = r->next)
        if (r->p)
            fn(r->p, arg);
    pthread_mutex_unlock(&rs->lock);
}

void wire_runners_stop(wire_runners *rs)
{
    if (!rs || !rs->thread_ok)
        return;
    pthread_mutex_lock(&rs->lock);
    rs->stop = true;
    pthread_cond_signal(&rs->cond);
    pthread_mutex_unlock(&rs->lock);
    pthread_join(rs->thread, NULL);
    rs->thread_ok = false;
}

void wire_runners_free(wire_runners *rs)
{
    if (!rs)
        return;
    wire_runners_stop(rs);
    pthread_mutex_destroy(&rs->lock);
    pthread_cond_destroy(&rs->cond);
    free(rs->dir);
    free(rs);
}
