/*
 * pipeline.c — the runner of one pipeline: its threads, queues, batch
 * numbering, per-sink acknowledgement and committed positions.
 *
 *   source thread ──in_q──▶ worker thread ──sink_q[i]──▶ sink thread i
 *
 * Batches are numbered by the source context as they are emitted. The worker
 * runs the transforms in place and hands the same batch to every sink queue
 * (one reference each), even when the transforms left it empty: the batch
 * still carries the source positions it covers. A sink thread writes batches
 * in order, flushes (when the sink asks, when its queue runs dry, or when its
 * linger expires) and then acknowledges every batch written before the flush.
 * The sink that drops a batch's last reference completes it (completion.c):
 * the batch's positions become the committed positions of their splits. Because every
 * sink acknowledges in order, batches complete in order, so a committed
 * position never has an uncommitted batch before it.
 *
 * Checkpoints (when the pipeline has a checkpoint store) use barriers, as in
 * Flink: every checkpoint interval the checkpointer thread puts a barrier
 * batch into the input queue, in sequence with the data. Each sink, on
 * reaching it, flushes, syncs (fsync) and snapshots its commit state; when
 * the last sink has done so the barrier completes, and since batches
 * complete in order, the committed positions at that moment are exactly
 * those of every batch before the barrier. The checkpointer then saves
 * {positions, sink states} through the store. When the source ends or is
 * stopped, the source thread sends a final barrier before closing the input,
 * so a graceful stop always ends with a checkpoint of everything delivered.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "engine/event_time.h"
#include "engine/runner.h"

const char *wire_pipe_state_name(wire_pipe_state s)
{
    switch (s) {
    case WIRE_PIPE_PENDING: return "pending";
    case WIRE_PIPE_RUNNING: return "running";
    case WIRE_PIPE_FINISHED: return "finished";
    case WIRE_PIPE_STOPPED: return "stopped";
    case WIRE_PIPE_FAILED: return "failed";
    }
    return "unknown";
}

/* ---- source side ---- */

wire_batch *wire_source_batch(wire_source_ctx *ctx)
{
    wire_batch *b = wire_batch_get(ctx->p->pool);
    b->ingest_ms = wire_now_ms();
    b->ingest_ns = wire_mono_ns();
    return b;
}

bool wire_source_stopping(const wire_source_ctx *ctx)
{
    return atomic_load_explicit(&ctx->p->stopping, memory_order_relaxed);
}

const wire_position *wire_source_resume(const wire_source_ctx *ctx, uint32_t split)
{
    const wire_pipeline *p = ctx->p;
    const wire_position *best = p->has_resume ? wire_checkpoint_position(&p->resume, split) : NULL;
    for (size_t i = 0; i < p->npeers; i++) {
        const wire_position *q = wire_checkpoint_position(&p->peers[i], split);
        if (q && (!best || q->offset > best->offset))
            best = q;
    }
    return best;
}

void wire_source_set_splits(wire_source_ctx *ctx, const char *json, size_t n)
{
    char *copy = wire_xstrndup(json, n);
    pthread_mutex_lock(&ctx->p->lock);
    free(ctx->p->splits);
    ctx->p->splits = copy;
    pthread_mutex_unlock(&ctx->p->lock);
}

void wire_pipeline_splits_json(wire_pipeline *p, wire_buf *out)
{
    pthread_mutex_lock(&p->lock);
    if (p->splits && p->splits[0])
        wire_buf_append(out, p->splits, strlen(p->splits));
    else
        wire_buf_append(out, "[]", 2);
    pthread_mutex_unlock(&p->lock);
}

static void free_peers(wire_pipeline *p)
{
    for (size_t i = 0; i < p->npeers; i++)
        wire_checkpoint_clear(&p->peers[i]);
    free(p->peers);
    p->peers = NULL;
    p->npeers = 0;
}

int wire_source_refresh_resume(wire_source_ctx *ctx, wire_err *err)
{
    wire_pipeline *p = ctx->p;
    if (!p->store || !p->store->load_peers || p->spec->parallelism <= 1)
        return 0;
    wire_checkpoint *v = NULL;
    size_t n = 0;
    int rc = p->store->load_peers(p->store, p->spec->name, &v, &n, err);
    if (rc != 0)
        return rc;
    free_peers(p);
    p->peers = v;
    p->npeers = n;
    return 0;
}

int wire_source_checkpoint_wait(wire_source_ctx *ctx, int64_t timeout_ms)
{
    wire_pipeline *p = ctx->p;
    if (!p->store)
        return WIRE_EAGAIN;
    int64_t deadline = wire_mono_ns() + timeout_ms * 1000000;
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    /* a barrier injected from now on follows everything this thread emitted */
    uint64_t want = p->next_cp_id;
    p->cp_requested = true;
    pthread_cond_broadcast(&p->cp_cond);
    while (p->last_saved_cp <= want) {
        if (atomic_load(&p->stopping)) {
            rc = WIRE_ESTOPPED;
            break;
        }
        if (p->state == WIRE_PIPE_FAILED || wire_mono_ns() >= deadline) {
            rc = WIRE_EAGAIN;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&p->cp_cond, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void wire_source_request_checkpoint(wire_source_ctx *ctx)
{
    wire_pipeline *p = ctx->p;
    pthread_mutex_lock(&p->lock);
    p->cp_requested = true;
    pthread_cond_broadcast(&p->cp_cond);
    pthread_mutex_unlock(&p->lock);
}

void wire_source_count_invalid(wire_source_ctx *ctx, uint64_t n)
{
    atomic_fetch_add_explicit(&ctx->p->stats.invalid, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&ctx->p->source_stats.errors, n, memory_order_relaxed);
}

/* A source's event refused for `why` (of class `reason`, or NULL): counted, dead-lettered. */
static int reject(wire_source_ctx *ctx, const char *data, size_t len, const char *why,
                  const char *reason);

int wire_source_reject(wire_source_ctx *ctx, const char *data, size_t len, const char *why)
{
    return reject(ctx, data, len, why, NULL);
}

static int reject(wire_source_ctx *ctx, const char *data, size_t len, const char *why,
                  const char *reason)
{
    wire_pipeline *p = ctx->p;
    uint64_t before = atomic_load_explicit(&p->stats.invalid, memory_order_relaxed);
    wire_source_count_invalid(ctx, 1);
    if (p->dlq) {
        char stage[160];
        snprintf(stage, sizeof(stage), "source %s (%s)", p->spec->source.type,
                 p->spec->source.name);
        wire_err err;
        wire_err_clear(&err);
        if (wire_dlq_write(p->dlq, data, len, why, stage, reason, 1, 0, &err) != 0)
            return err.code ? err.code : WIRE_EIO;
        atomic_fetch_add_explicit(&p->source_stats.dlq, 1, memory_order_relaxed);
    }
    if (before < 10)
        wire_warn("pipeline %s: malformed input %s: %s", p->spec->name,
                  p->dlq ? "dead-lettered" : "dropped", why);
    return 0;
}

const char *wire_source_pipeline_name(const wire_source_ctx *ctx)
{
    return ctx->p->spec->name;
}

/* Remove malformed events; count and log them. */
static void validate_batch(wire_source_ctx *ctx, wire_batch *b)
{
    uint32_t w = 0;
    uint64_t bad = 0;
    size_t bytes = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        wire_event *e = &b->ev[i];
        wire_err err;
        if (WIRE_UNLIKELY(wire_json_validate_object(e->data, e->len, &err) != 0)) {
            if (atomic_load_explicit(&ctx->p->stats.invalid, memory_order_relaxed) + bad < 10)
                wire_warn("pipeline %s: malformed event at offset %" PRIu64 " dropped: %s",
                          ctx->p->spec->name, e->offset, err.msg);
            bad++;
            continue;
        }
        bytes += e->len;
        if (w != i)
            b->ev[w] = *e;
        w++;
    }
    b->n = w;
    b->bytes = bytes;
    if (bad)
        wire_source_count_invalid(ctx, bad);
}

static void emit_count(wire_pipeline *p, const wire_batch *b)
{
    atomic_fetch_add_explicit(&p->stats.events_in, b->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.bytes_in, b->bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->source_stats.in, b->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->source_stats.out, b->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->source_stats.bytes_out, b->bytes, memory_order_relaxed);
}

static void emit_uncount(wire_pipeline *p, uint32_t n, size_t bytes)
{
    atomic_fetch_sub_explicit(&p->stats.events_in, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&p->stats.bytes_in, bytes, memory_order_relaxed);
    atomic_fetch_sub_explicit(&p->stats.batches, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&p->source_stats.in, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&p->source_stats.out, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&p->source_stats.bytes_out, bytes, memory_order_relaxed);
}

/*
 * event_time (STREAMING.md §3.1, §3.3): each event's time from its field, or
 * the DLQ (reason "event_time") for one without a valid time; the splits'
 * watermarks advance before any transform sees the batch, which carries the
 * operator watermark from before its first event.
 */
static void stamp_event_time(wire_source_ctx *ctx, wire_batch *b)
{
    wire_pipeline *p = ctx->p;
    const wire_event_time_spec *et = &p->spec->event_time;
    int64_t now = wire_now_ms();
    pthread_mutex_lock(&p->wm_lock);
    b->watermark = wire_watermarks_operator(p->wm, now);
    uint32_t w = 0;
    size_t bytes = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        wire_event *e = &b->ev[i];
        int64_t ts;
        char why[200];
        if (wire_event_time_of(e->data, e->len, et->field, &ts, why, sizeof(why)) != 0) {
            reject(ctx, e->data, e->len, why, "event_time");
            continue;
        }
        e->time_ms = ts;
        wire_watermarks_observe(p->wm, e->split, ts, now);
        bytes += e->len;
        b->ev[w++] = *e;
    }
    b->n = w;
    b->bytes = bytes;
    atomic_store(&p->stats.watermark_ms, wire_watermarks_operator(p->wm, now));
    pthread_mutex_unlock(&p->wm_lock);
}

/* Number, count and queue a batch. `block`: wait for room, else EAGAIN. */
/* timeout_ms < 0: block until there is room */
static int emit(wire_source_ctx *ctx, wire_batch *b, bool validated, int64_t timeout_ms)
{
    wire_pipeline *p = ctx->p;
    if (wire_source_stopping(ctx))
        return WIRE_ESTOPPED;
    if (!validated)
        validate_batch(ctx, b);
    if (p->wm)
        stamp_event_time(ctx, b);
    wire_flight *f = wire_flight_of(b);
    uint32_t n = b->n;
    size_t bytes = b->bytes;
    atomic_store(&f->refs, 1);
    f->n_in = n;
    /* count before the push: once queued, the batch may complete at once */
    emit_count(p, b);
    pthread_mutex_lock(&p->emit_lock);
    uint64_t seq = atomic_load(&p->next_seq) + 1;
    b->seq = seq;
    int rc = timeout_ms < 0 ? wire_queue_push(&p->in_q, b)
                            : wire_queue_try_push(&p->in_q, b, timeout_ms);
    if (rc == 0)
        atomic_store(&p->next_seq, seq);
    pthread_mutex_unlock(&p->emit_lock);
    if (rc != 0) {
        f->n_in = 0; /* never counted in: not undelivered either */
        emit_uncount(p, n, bytes);
        return rc == WIRE_EAGAIN ? WIRE_EAGAIN : WIRE_ESTOPPED;
    }
    return 0;
}

int wire_source_emit(wire_source_ctx *ctx, wire_batch *b, bool validated)
{
    /* A blocked push holds emit_lock: the checkpointer's barrier waits behind
       it, which is right, since the barrier must follow this batch. */
    int rc = emit(ctx, b, validated, -1);
    if (rc != 0)
        runner_batch_discard(ctx->p, b);
    return rc;
}

int wire_source_try_emit(wire_source_ctx *ctx, wire_batch *b, bool validated, int64_t timeout_ms)
{
    return emit(ctx, b, validated, timeout_ms > 100 ? 100 : timeout_ms);
}

static void *source_main(void *arg)
{
    wire_pipeline *p = arg;
    runner_block_signals();
    wire_err err;
    wire_err_clear(&err);
    int rc = p->source_def->run(p->source, &p->source_ctx, &err);
    if (rc == 0 && p->wm) { /* a bounded source's end closes every window */
        pthread_mutex_lock(&p->wm_lock);
        wire_watermarks_finish_all(p->wm);
        atomic_store(&p->stats.watermark_ms, wire_watermarks_operator(p->wm, wire_now_ms()));
        pthread_mutex_unlock(&p->wm_lock);
    }
    if (rc == 0) {
        pthread_mutex_lock(&p->lock);
        p->source_finished = true;
        pthread_mutex_unlock(&p->lock);
    } else if (rc != WIRE_ESTOPPED) {
        runner_fail(p, "source %s: %s", p->spec->source.type,
                    err.msg[0] ? err.msg : wire_strerror(rc));
    }
    pthread_mutex_lock(&p->lock);
    p->source_done = true;
    pthread_mutex_unlock(&p->lock);
    /* the final checkpoint covers everything the source handed over */
    if (p->store && !runner_failed(p))
        runner_inject_barrier(p);
    wire_queue_close(&p->in_q);
    runner_thread_exit(p);
    return NULL;
}

/* ---- worker: transforms and fan-out ---- */

static void *worker_main(void *arg)
{
    wire_pipeline *p = arg;
    runner_block_signals();
    wire_batch *b;
    while ((b = wire_queue_pop(&p->in_q, -1)) != NULL) {
        if (runner_failed(p)) {
            runner_batch_discard(p, b);
            continue;
        }
        int rc = 0;
        for (size_t i = 0; i < p->ntransforms && rc == 0 && !wire_flight_barrier(b); i++) {
            const wire_transform_def *def = p->spec->transforms[i].def;
            wire_stage_stats *st = &p->transform_stats[i];
            uint32_t before = b->n;
            atomic_fetch_add_explicit(&st->in, before, memory_order_relaxed);
            rc = def->process(p->transforms[i], b, &p->tctx[i]);
            if (rc != 0) {
                runner_fail(p, "transform %s (%s): %s", def->base.type, p->spec->transforms[i].name,
                            p->tctx[i].last_error[0] ? p->tctx[i].last_error : wire_strerror(rc));
                break;
            }
            atomic_fetch_add_explicit(&st->out, b->n, memory_order_relaxed);
        }
        if (rc != 0) {
            runner_batch_discard(p, b);
            continue;
        }
        /* recompute bytes: transforms may have rewritten events */
        size_t bytes = 0;
        for (uint32_t i = 0; i < b->n; i++)
            bytes += b->ev[i].len;
        b->bytes = bytes;
        atomic_store(&wire_flight_of(b)->refs, (int)p->nsinks);
        for (size_t i = 0; i < p->nsinks; i++) {
            if (wire_queue_push(&p->sinks[i].q, b) != 0)
                runner_batch_drop(p, b);
        }
    }
    for (size_t i = 0; i < p->nsinks; i++)
        wire_queue_close(&p->sinks[i].q);
    for (size_t i = 0; i < p->ntransforms; i++)
        wire_disposer_flush_log(&p->tctx[i].disposer);
    runner_thread_exit(p);
    return NULL;
}

/* ---- lifecycle ---- */

/* A stage's error policy, counted on the stage and the pipeline. */
static void runner_disposer_init(wire_pipeline *p, wire_disposer *d, int policy, const char *stage,
                                 wire_stage_stats *st)
{
    wire_disposer_init(d, policy, p->spec->name, stage);
    d->dlq = p->dlq;
    d->stats = st;
    d->pipe_dropped = &p->stats.dropped;
    d->pipe_dlq = &p->stats.dead_lettered;
}

static wire_component_env component_env(const wire_pipeline *p, const wire_component *c)
{
    return (wire_component_env){
        .pipeline = p->spec->name,
        .name = c->name,
        .instance = p->instance,
        .parallelism = p->spec->parallelism ? p->spec->parallelism : 1,
        .exactly_once = p->spec->delivery == WIRE_DELIVERY_EXACTLY_ONCE,
        .sandbox = p->sandbox,
    };
}

int wire_pipeline_new(wire_pipeline_spec *spec, const wire_engine_opts *opts, wire_pipeline **out,
                      wire_err *err)
{
    wire_pipeline *p = wire_xcalloc(1, sizeof(*p));
    p->spec = spec;
    p->data_dir = wire_xstrdup(opts && opts->data_dir ? opts->data_dir : "./wire-data");
    p->pool = wire_batch_pool_new(64 * 1024, sizeof(wire_flight));
    size_t budget = spec->queue_bytes > 0 ? (size_t)spec->queue_bytes : 8u << 20;
    wire_queue_init(&p->in_q, budget);
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->emit_lock, NULL);
    pthread_mutex_init(&p->wm_lock, NULL);
    atomic_store(&p->stats.watermark_ms, WIRE_TIME_MIN);
    if (spec->event_time.field)
        p->wm = wire_watermarks_new(spec->event_time.delay_ms, spec->event_time.idle_ms);
    pthread_cond_init(&p->done_cond, NULL);
    pthread_cond_init(&p->cp_cond, NULL);
    p->state = WIRE_PIPE_PENDING;
    p->store = opts ? opts->store : NULL;
    p->version = opts && opts->version ? opts->version : 1;
    p->instance = opts ? opts->instance : 0;
    p->sandbox = opts ? opts->sandbox : NULL;
    wire_checkpoint_init(&p->resume);
    p->source_ctx.p = p;
    p->id_seed = wire_hash64(spec->name, strlen(spec->name), 0);
    *out = p;

    int rc;
    if (p->store) {
        rc = p->store->load(p->store, spec->name, &p->resume, err);
        if (rc == 0) {
            p->has_resume = true;
            p->next_cp_id = p->resume.id;
            /* standalone: a changed spec is the next version of the pipeline */
            if (!opts || !opts->version)
                p->version =
                    p->resume.spec_hash == spec->hash ? p->resume.version : p->resume.version + 1;
            /* a split the new batches never touch keeps its position */
            runner_commit_positions_locked(p, p->resume.pos, (uint32_t)p->resume.npos, 0);
            wire_info("pipeline %s: resuming from checkpoint %llu (version %llu)", spec->name,
                      (unsigned long long)p->resume.id, (unsigned long long)p->resume.version);
        } else if (rc != WIRE_ENOTFOUND) {
            return rc;
        }
        wire_err_clear(err);
    }

    if (spec->dlq.type) {
        wire_component_env env = component_env(p, &spec->dlq);
        rc = wire_dlq_open(&p->dlq, &spec->dlq, &env, p->version, err);
        if (rc != 0)
            return rc;
    }

    p->source_def = spec->source.def;
    wire_component_env env = component_env(p, &spec->source);
    rc = p->source_def->base.create(&p->source, spec->source.config, &env, err);
    if (rc != 0)
        return rc;

    p->ntransforms = spec->ntransforms;
    p->transforms = wire_xcalloc(spec->ntransforms, sizeof(void *));
    p->tctx = wire_xcalloc(spec->ntransforms, sizeof(*p->tctx));
    p->transform_stats = wire_xcalloc(spec->ntransforms, sizeof(*p->transform_stats));
    for (size_t i = 0; i < spec->ntransforms; i++) {
        const wire_transform_def *def = spec->transforms[i].def;
        wire_transform_ctx_init(&p->tctx[i], spec->transforms[i].on_error, p->id_seed);
        p->tctx[i].stats = &p->transform_stats[i];
        p->tctx[i].eval.meta = p->source_def->meta; /* `_kafka.partition` and the like */
        p->tctx[i].eval.meta_self = p->source;
        char stage[160];
        snprintf(stage, sizeof(stage), "transform %s (%s)", spec->transforms[i].type,
                 spec->transforms[i].name);
        runner_disposer_init(p, &p->tctx[i].disposer, spec->transforms[i].on_error, stage,
                             &p->transform_stats[i]);
        env = component_env(p, &spec->transforms[i]);
        rc = def->base.create(&p->transforms[i], spec->transforms[i].config, &env, err);
        if (rc != 0)
            return rc;
    }

    p->nsinks = spec->nsinks;
    p->sinks = wire_xcalloc(spec->nsinks, sizeof(*p->sinks));
    for (size_t i = 0; i < spec->nsinks; i++) {
        sink_runner *s = &p->sinks[i];
        s->p = p;
        s->index = i;
        s->def = spec->sinks[i].def;
        s->owns_positions =
            spec->delivery == WIRE_DELIVERY_EXACTLY_ONCE && s->def->commit_positions != NULL;
        wire_queue_init(&s->q, budget);
        wire_retry_policy rp = spec->sinks[i].retry;
        if (rp.initial_ms <= 0 && rp.max_ms <= 0)
            wire_retry_policy_default(&rp);
        wire_retry_init(&s->retry, &rp, p->id_seed + i);
        char stage[160];
        snprintf(stage, sizeof(stage), "sink %s (%s)", spec->sinks[i].type, spec->sinks[i].name);
        runner_disposer_init(p, &s->disposer, spec->sinks[i].on_error, stage, &s->stats);
    }
    for (size_t i = 0; i < spec->nsinks; i++) {
        sink_runner *s = &p->sinks[i];
        env = component_env(p, &spec->sinks[i]);
        rc = s->def->base.create(&s->self, spec->sinks[i].config, &env, err);
        if (rc != 0)
            return rc;
    }
    if (p->store)
        return runner_restore_or_initialise(p, err);
    return 0;
}

int wire_pipeline_start(wire_pipeline *p, wire_err *err)
{
    pthread_mutex_lock(&p->lock);
    p->state = WIRE_PIPE_RUNNING;
    p->threads_alive = (int)(2 + p->nsinks + (p->store ? 1 : 0));
    p->sinks_alive = (int)p->nsinks;
    pthread_mutex_unlock(&p->lock);
    if (p->store)
        pthread_create(&p->checkpoint_thread, NULL, runner_checkpoint_main, p);
    for (size_t i = 0; i < p->nsinks; i++) {
        pthread_create(&p->sinks[i].thread, NULL, runner_sink_main, &p->sinks[i]);
        p->sinks[i].started = true;
    }
    pthread_create(&p->worker_thread, NULL, worker_main, p);
    pthread_create(&p->source_thread, NULL, source_main, p);
    p->threads_started = true;
    return 0;
}

int wire_pipeline_timedwait(wire_pipeline *p, int64_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&p->lock);
    while (p->threads_alive > 0)
        if (pthread_cond_timedwait(&p->done_cond, &p->lock, &ts) == ETIMEDOUT)
            break;
    int done = p->threads_alive == 0;
    pthread_mutex_unlock(&p->lock);
    return done;
}

wire_pipe_state wire_pipeline_wait(wire_pipeline *p)
{
    if (p->threads_started) {
        pthread_join(p->source_thread, NULL);
        pthread_join(p->worker_thread, NULL);
        if (p->store)
            pthread_join(p->checkpoint_thread, NULL);
        for (size_t i = 0; i < p->nsinks; i++)
            if (p->sinks[i].started)
                pthread_join(p->sinks[i].thread, NULL);
        p->threads_started = false;
        for (size_t i = 0; i < p->nsinks; i++)
            p->sinks[i].started = false;
    }
    return wire_pipeline_state(p);
}

wire_pipe_state wire_pipeline_state(const wire_pipeline *p)
{
    wire_pipeline *mp = (wire_pipeline *)p;
    pthread_mutex_lock(&mp->lock);
    wire_pipe_state s = p->state;
    pthread_mutex_unlock(&mp->lock);
    return s;
}

const char *wire_pipeline_error(const wire_pipeline *p)
{
    return p->error;
}
const wire_pipeline_spec *wire_pipeline_spec_of(const wire_pipeline *p)
{
    return p->spec;
}
const wire_pipeline_stats *wire_pipeline_stats_of(const wire_pipeline *p)
{
    return &p->stats;
}

size_t wire_pipeline_stages(const wire_pipeline *p, wire_stage_info *out, size_t max)
{
    size_t n = 0;
    const wire_pipeline_spec *spec = p->spec;
    if (n < max)
        out[n++] =
            (wire_stage_info){"source", spec->source.name, spec->source.type, &p->source_stats};
    for (size_t i = 0; i < p->ntransforms && n < max; i++)
        out[n++] = (wire_stage_info){"transform", spec->transforms[i].name,
                                     spec->transforms[i].type, &p->transform_stats[i]};
    for (size_t i = 0; i < p->nsinks && n < max; i++)
        out[n++] =
            (wire_stage_info){"sink", spec->sinks[i].name, spec->sinks[i].type, &p->sinks[i].stats};
    return n;
}

void wire_pipeline_checkpoint_info(const wire_pipeline *p, uint64_t *id, int64_t *time_ms)
{
    wire_pipeline *mp = (wire_pipeline *)p;
    pthread_mutex_lock(&mp->lock);
    *id = p->last_saved_cp;
    *time_ms = atomic_load(&p->stats.last_checkpoint_ms);
    pthread_mutex_unlock(&mp->lock);
}

int64_t wire_pipeline_ended_ns(wire_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    int64_t t = p->ended_ns;
    pthread_mutex_unlock(&p->lock);
    return t;
}

uint64_t wire_pipeline_version(const wire_pipeline *p)
{
    return p->version;
}

void wire_pipeline_totals(const wire_pipeline *p, wire_pipeline_totals_t *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < p->ntransforms; i++) {
        t->filtered += atomic_load(&p->transform_stats[i].filtered);
        t->errors += atomic_load(&p->transform_stats[i].errors);
    }
    for (size_t i = 0; i < p->nsinks; i++) {
        t->retries += atomic_load(&p->sinks[i].stats.retries);
        t->errors += atomic_load(&p->sinks[i].stats.dlq) + atomic_load(&p->sinks[i].stats.dropped);
    }
    t->dropped = atomic_load(&p->stats.dropped);
    t->dead_lettered = atomic_load(&p->stats.dead_lettered);
}

void wire_pipeline_counters_add(const wire_pipeline *p, wire_pipeline_counters *c)
{
    wire_pipeline_totals_t t;
    wire_pipeline_totals(p, &t);
    c->events_in += atomic_load(&p->stats.events_in);
    c->events_out += atomic_load(&p->stats.events_out);
    c->invalid += atomic_load(&p->stats.invalid);
    c->filtered += t.filtered;
    c->dead_lettered += t.dead_lettered;
    c->dropped += t.dropped;
    c->errors += t.errors;
}

#define COUNTER_FIELDS(X)                                                                          \
    X(events_in) X(events_out) X(filtered) X(dead_lettered) X(dropped) X(invalid) X(errors)

void wire_pipeline_counters_sum(wire_pipeline_counters *into, const wire_pipeline_counters *c)
{
#define SUM(f) into->f += c->f;
    COUNTER_FIELDS(SUM)
#undef SUM
}

void wire_pipeline_counters_json(const wire_pipeline_counters *c, wire_buf *out)
{
    wire_jw w;
    wire_jw_init(&w, out);
    wire_jw_obj(&w);
#define WRITE(f) wire_jw_kuint(&w, #f, c->f);
    COUNTER_FIELDS(WRITE)
#undef WRITE
    wire_jw_end(&w);
}

static uint64_t counter_field(const char *p, size_t n, const char *key)
{
    wire_json_val v;
    if (!n || !wire_json_get(p, n, key, strlen(key), &v) || v.kind != WIRE_JSON_NUMBER)
        return 0;
    return strtoull(v.p, NULL, 10);
}

void wire_pipeline_counters_parse(const char *json, size_t n, wire_pipeline_counters *c)
{
    memset(c, 0, sizeof(*c));
    if (!json || !n || wire_json_validate_object(json, n, NULL) != 0)
        return;
#define READ(f) c->f = counter_field(json, n, #f);
    COUNTER_FIELDS(READ)
#undef READ
}

void wire_pipeline_free(wire_pipeline *p)
{
    if (!p)
        return;
    if (p->threads_started) {
        wire_pipeline_stop(p);
        wire_pipeline_wait(p);
    }
    /* anything still queued (a pipeline that never started) */
    wire_batch *b;
    wire_queue_close(&p->in_q);
    while ((b = wire_queue_pop(&p->in_q, 0)) != NULL)
        runner_batch_discard(p, b);
    for (size_t i = 0; i < p->nsinks; i++) {
        sink_runner *s = &p->sinks[i];
        wire_queue_close(&s->q);
        while ((b = wire_queue_pop(&s->q, 0)) != NULL)
            runner_batch_discard(p, b);
        if (s->self)
            s->def->base.destroy(s->self);
        wire_queue_destroy(&s->q);
        free(s->pending);
        free(s->seen);
    }
    free(p->sinks);
    for (size_t i = 0; i < p->ntransforms; i++) {
        const wire_transform_def *def = p->spec->transforms[i].def;
        if (p->transforms[i])
            def->base.destroy(p->transforms[i]);
    }
    free(p->transforms);
    free(p->tctx);
    wire_dlq_close(p->dlq);
    free(p->transform_stats);
    if (p->source)
        p->source_def->base.destroy(p->source);
    wire_queue_destroy(&p->in_q);
    wire_batch_pool_free(p->pool);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->emit_lock);
    pthread_mutex_destroy(&p->wm_lock);
    wire_watermarks_free(p->wm);
    pthread_cond_destroy(&p->done_cond);
    pthread_cond_destroy(&p->cp_cond);
    for (size_t i = 0; i < p->ncp_done; i++)
        wire_checkpoint_clear(&p->cp_done[i]);
    free(p->cp_done);
    wire_checkpoint_clear(&p->resume);
    free(p->committed);
    free(p->committed_seq);
    free_peers(p);
    free(p->splits);
    free(p->data_dir);
    wire_spec_free(p->spec);
    free(p);
}
