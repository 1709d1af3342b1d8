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
 * The sink that drops a batch's last reference completes it: the batch's
 * positions become the committed positions of their splits. Because every
 * sink acknowledges in order, batches complete in order, so a committed
 * position never has an uncommitted batch before it.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "engine/engine.h"
#include "engine/queue.h"

#define SINK_RETRY_INITIAL_MS 100
#define SINK_RETRY_MAX_MS 5000

typedef struct sink_runner {
    wire_pipeline *p;
    size_t index;
    const wire_sink_def *def;
    void *self;
    wire_queue q;
    pthread_t thread;
    bool started;
    wire_stage_stats stats;
    /* written but not yet flushed, in order */
    wire_batch **pending;
    size_t npending, pending_cap;
} sink_runner;

struct wire_source_ctx {
    wire_pipeline *p;
};

struct wire_pipeline {
    wire_pipeline_spec *spec;
    char *data_dir;
    wire_batch_pool *pool;
    wire_queue in_q;

    const wire_source_def *source_def;
    void *source;
    wire_source_ctx source_ctx;
    wire_stage_stats source_stats;

    size_t ntransforms;
    void **transforms;
    wire_transform_ctx *tctx;
    wire_stage_stats *transform_stats;

    size_t nsinks;
    sink_runner *sinks;

    pthread_t source_thread, worker_thread;
    bool threads_started;
    atomic_bool stopping;
    atomic_uint_fast64_t next_seq;

    pthread_mutex_t lock; /* state, error, committed positions */
    pthread_cond_t done_cond;
    wire_pipe_state state;
    int threads_alive;
    bool source_finished;
    char error[512];

    /* committed positions: per split, from the highest completed batch */
    wire_position *committed;
    uint64_t *committed_seq;
    size_t ncommitted, committed_cap;
    uint64_t committed_batches;
    bool commit_frozen; /* a batch was dropped unacknowledged: commit nothing after it */

    wire_pipeline_stats stats;
    uint64_t id_seed;
};

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

/* Record a fatal error (first one wins) and stop everything. */
static void pipeline_fail(wire_pipeline *p, const char *fmt, ...) WIRE_PRINTF(2, 3);
static void pipeline_fail(wire_pipeline *p, const char *fmt, ...)
{
    pthread_mutex_lock(&p->lock);
    if (p->state != WIRE_PIPE_FAILED) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->error, sizeof(p->error), fmt, ap);
        va_end(ap);
        p->state = WIRE_PIPE_FAILED;
        wire_error("pipeline %s failed: %s", p->spec->name, p->error);
    }
    pthread_mutex_unlock(&p->lock);
    wire_pipeline_stop(p);
}

static bool pipeline_failed(wire_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    bool f = p->state == WIRE_PIPE_FAILED;
    pthread_mutex_unlock(&p->lock);
    return f;
}

/* ---- completion of batches (acknowledged by every sink) ---- */

static void commit_positions_locked(wire_pipeline *p, const wire_batch *b)
{
    for (uint32_t i = 0; i < b->npos; i++) {
        const wire_position *pos = &b->pos[i];
        size_t j;
        for (j = 0; j < p->ncommitted; j++)
            if (p->committed[j].split == pos->split)
                break;
        if (j == p->ncommitted) {
            if (p->ncommitted == p->committed_cap) {
                p->committed_cap = p->committed_cap ? p->committed_cap * 2 : 4;
                p->committed = wire_xrealloc(p->committed, p->committed_cap * sizeof(*p->committed));
                p->committed_seq =
                    wire_xrealloc(p->committed_seq, p->committed_cap * sizeof(*p->committed_seq));
            }
            p->ncommitted++;
            p->committed_seq[j] = 0;
        }
        if (b->seq >= p->committed_seq[j]) {
            p->committed[j] = *pos;
            p->committed_seq[j] = b->seq;
        }
    }
}

static void batch_complete(wire_pipeline *p, wire_batch *b)
{
    atomic_fetch_add_explicit(&p->stats.events_out, b->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.bytes_out, b->bytes, memory_order_relaxed);
    if (b->n)
        wire_hist_record(&p->stats.latency_us, (uint64_t)(wire_mono_ns() - b->ingest_ns) / 1000);
    pthread_mutex_lock(&p->lock);
    if (!p->commit_frozen && p->state != WIRE_PIPE_FAILED) {
        commit_positions_locked(p, b);
        p->committed_batches++;
    }
    pthread_mutex_unlock(&p->lock);
    atomic_store(&b->refs, 1);
    wire_batch_release(b);
}

/* Drop one sink's reference; the last one completes the batch. */
static void batch_ack(wire_pipeline *p, wire_batch *b)
{
    if (atomic_fetch_sub(&b->refs, 1) == 1)
        batch_complete(p, b);
}

/* A batch that will never reach the sinks (stopping): not committed. */
static void batch_discard(wire_batch *b)
{
    atomic_store(&b->refs, 1);
    wire_batch_release(b);
}

/*
 * A sink gives up a batch without having durably written it (failure, or a
 * stop while the sink is down). Nothing from here on may be committed, or a
 * restart would skip these events.
 */
static void batch_drop(wire_pipeline *p, wire_batch *b)
{
    pthread_mutex_lock(&p->lock);
    p->commit_frozen = true;
    pthread_mutex_unlock(&p->lock);
    if (atomic_fetch_sub(&b->refs, 1) == 1)
        batch_discard(b);
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
    /* Positions come from the checkpoint store (issue 3); none yet. */
    (void)ctx;
    (void)split;
    return NULL;
}

void wire_source_count_invalid(wire_source_ctx *ctx, uint64_t n)
{
    atomic_fetch_add_explicit(&ctx->p->stats.invalid, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&ctx->p->source_stats.errors, n, memory_order_relaxed);
}

const char *wire_source_pipeline_name(const wire_source_ctx *ctx) { return ctx->p->spec->name; }

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

static void emit_prepare(wire_source_ctx *ctx, wire_batch *b, bool validated)
{
    if (!validated)
        validate_batch(ctx, b);
    b->seq = atomic_fetch_add(&ctx->p->next_seq, 1) + 1;
    atomic_store(&b->refs, 1);
}

static void emit_count(wire_pipeline *p, const wire_batch *b)
{
    atomic_fetch_add_explicit(&p->stats.events_in, b->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.bytes_in, b->bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->source_stats.out, b->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->source_stats.bytes_out, b->bytes, memory_order_relaxed);
}

int wire_source_emit(wire_source_ctx *ctx, wire_batch *b, bool validated)
{
    wire_pipeline *p = ctx->p;
    if (wire_source_stopping(ctx)) {
        batch_discard(b);
        return WIRE_ESTOPPED;
    }
    emit_prepare(ctx, b, validated);
    /* count before the push: once queued, the batch may complete at once */
    emit_count(p, b);
    if (wire_queue_push(&p->in_q, b) != 0) {
        batch_discard(b);
        return WIRE_ESTOPPED;
    }
    return 0;
}

int wire_source_try_emit(wire_source_ctx *ctx, wire_batch *b, bool validated)
{
    wire_pipeline *p = ctx->p;
    if (wire_source_stopping(ctx))
        return WIRE_ESTOPPED;
    if (!validated)
        validate_batch(ctx, b);
    /* Sequence numbers must follow queue order: take the queue lock's verdict
       first, then number. try_push is only ever called by one thread. */
    uint64_t seq = atomic_load(&p->next_seq) + 1;
    b->seq = seq;
    atomic_store(&b->refs, 1);
    uint32_t n = b->n;
    size_t bytes = b->bytes;
    emit_count(p, b);
    int rc = wire_queue_try_push(&p->in_q, b);
    if (rc != 0) {
        /* undo the counts: the caller keeps the batch and may retry */
        atomic_fetch_sub_explicit(&p->stats.events_in, n, memory_order_relaxed);
        atomic_fetch_sub_explicit(&p->stats.bytes_in, bytes, memory_order_relaxed);
        atomic_fetch_sub_explicit(&p->stats.batches, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&p->source_stats.out, n, memory_order_relaxed);
        atomic_fetch_sub_explicit(&p->source_stats.bytes_out, bytes, memory_order_relaxed);
        return rc == WIRE_ECLOSED ? WIRE_ESTOPPED : WIRE_EAGAIN;
    }
    atomic_store(&p->next_seq, seq);
    return 0;
}

static void thread_exit(wire_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    p->threads_alive--;
    if (p->threads_alive == 0) {
        if (p->state == WIRE_PIPE_RUNNING)
            p->state = p->source_finished ? WIRE_PIPE_FINISHED : WIRE_PIPE_STOPPED;
        pthread_cond_broadcast(&p->done_cond);
    }
    pthread_mutex_unlock(&p->lock);
}

static void block_signals(void)
{
    /* Signals are handled by the main thread only. */
    sigset_t set;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void *source_main(void *arg)
{
    wire_pipeline *p = arg;
    block_signals();
    wire_err err;
    wire_err_clear(&err);
    int rc = p->source_def->run(p->source, &p->source_ctx, &err);
    if (rc == 0) {
        pthread_mutex_lock(&p->lock);
        p->source_finished = true;
        pthread_mutex_unlock(&p->lock);
    } else if (rc != WIRE_ESTOPPED) {
        pipeline_fail(p, "source %s: %s", p->spec->source.type,
                      err.msg[0] ? err.msg : wire_strerror(rc));
    }
    wire_queue_close(&p->in_q);
    thread_exit(p);
    return NULL;
}

/* ---- worker: transforms and fan-out ---- */

static void *worker_main(void *arg)
{
    wire_pipeline *p = arg;
    block_signals();
    wire_batch *b;
    while ((b = wire_queue_pop(&p->in_q, -1)) != NULL) {
        if (pipeline_failed(p)) {
            batch_discard(b);
            continue;
        }
        int rc = 0;
        for (size_t i = 0; i < p->ntransforms && rc == 0; i++) {
            const wire_transform_def *def = p->spec->transforms[i].def;
            wire_stage_stats *st = &p->transform_stats[i];
            uint32_t before = b->n;
            atomic_fetch_add_explicit(&st->in, before, memory_order_relaxed);
            rc = def->process(p->transforms[i], b, &p->tctx[i]);
            if (rc != 0) {
                pipeline_fail(p, "transform %s (%s): %s", def->type, p->spec->transforms[i].name,
                              p->tctx[i].last_error[0] ? p->tctx[i].last_error
                                                       : wire_strerror(rc));
                break;
            }
            atomic_fetch_add_explicit(&st->out, b->n, memory_order_relaxed);
            uint64_t removed = before - b->n;
            (void)removed;
        }
        if (rc != 0) {
            batch_discard(b);
            continue;
        }
        /* recompute bytes: transforms may have rewritten events */
        size_t bytes = 0;
        for (uint32_t i = 0; i < b->n; i++)
            bytes += b->ev[i].len;
        b->bytes = bytes;
        atomic_store(&b->refs, (int)p->nsinks);
        for (size_t i = 0; i < p->nsinks; i++) {
            if (wire_queue_push(&p->sinks[i].q, b) != 0)
                batch_drop(p, b);
        }
    }
    for (size_t i = 0; i < p->nsinks; i++)
        wire_queue_close(&p->sinks[i].q);
    thread_exit(p);
    return NULL;
}

/* ---- sinks ---- */

static void sink_pending_push(sink_runner *s, wire_batch *b)
{
    if (s->npending == s->pending_cap) {
        s->pending_cap = s->pending_cap ? s->pending_cap * 2 : 16;
        s->pending = wire_xrealloc(s->pending, s->pending_cap * sizeof(*s->pending));
    }
    s->pending[s->npending++] = b;
}

/* Flush with retries; acknowledge pending batches on success. */
static int sink_flush(sink_runner *s)
{
    wire_pipeline *p = s->p;
    int64_t delay = SINK_RETRY_INITIAL_MS;
    for (;;) {
        wire_err err;
        wire_err_clear(&err);
        int rc = s->def->flush(s->self, &err);
        if (rc == 0)
            break;
        if (rc == WIRE_EAGAIN && !pipeline_failed(p) && !atomic_load(&p->stopping)) {
            atomic_fetch_add_explicit(&s->stats.retries, 1, memory_order_relaxed);
            wire_warn("pipeline %s: sink %s: %s (retrying in %" PRId64 " ms)", p->spec->name,
                      s->def->type, err.msg, delay);
            wire_sleep_ms(delay);
            delay = delay * 2 > SINK_RETRY_MAX_MS ? SINK_RETRY_MAX_MS : delay * 2;
            continue;
        }
        if (rc == WIRE_EAGAIN && atomic_load(&p->stopping) && !pipeline_failed(p)) {
            /* Stopping while the sink is down: keep retrying until it
               comes back would block shutdown forever; leave the batches
               unacknowledged (they will be replayed). */
            wire_warn("pipeline %s: sink %s: %s; stopping with unflushed data", p->spec->name,
                      s->def->type, err.msg);
            return rc;
        }
        pipeline_fail(p, "sink %s (%s): %s", s->def->type, p->spec->sinks[s->index].name,
                      err.msg[0] ? err.msg : wire_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < s->npending; i++) {
        wire_batch *b = s->pending[i];
        atomic_fetch_add_explicit(&s->stats.out, b->n, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->stats.bytes_out, b->bytes, memory_order_relaxed);
        batch_ack(p, b);
    }
    s->npending = 0;
    return 0;
}

static void sink_drop_pending(sink_runner *s)
{
    for (size_t i = 0; i < s->npending; i++)
        batch_drop(s->p, s->pending[i]);
    s->npending = 0;
}

static void *sink_main(void *arg)
{
    sink_runner *s = arg;
    wire_pipeline *p = s->p;
    block_signals();
    int64_t linger = s->def->linger_ms ? s->def->linger_ms(s->self) : 0;
    int64_t first_pending_ns = 0;
    bool broken = false;
    for (;;) {
        int64_t timeout = -1;
        if (s->npending) {
            int64_t waited = (wire_mono_ns() - first_pending_ns) / 1000000;
            timeout = linger > waited ? linger - waited : 0;
        }
        wire_batch *b = wire_queue_pop(&s->q, timeout);
        if (!b) {
            if (s->npending && !broken && sink_flush(s) != 0)
                broken = true;
            if (wire_queue_drained(&s->q))
                break;
            continue;
        }
        if (broken || pipeline_failed(p)) {
            batch_drop(p, b);
            continue;
        }
        atomic_fetch_add_explicit(&s->stats.in, b->n, memory_order_relaxed);
        wire_err err;
        wire_err_clear(&err);
        int rc = s->def->write(s->self, b, &err);
        if (rc < 0) {
            pipeline_fail(p, "sink %s (%s): %s", s->def->type, p->spec->sinks[s->index].name,
                          err.msg[0] ? err.msg : wire_strerror(rc));
            batch_drop(p, b);
            broken = true;
            continue;
        }
        if (s->npending == 0)
            first_pending_ns = wire_mono_ns();
        sink_pending_push(s, b);
        /* flush when asked, or when nothing else is waiting and no linger */
        bool idle = wire_queue_bytes(&s->q) == 0;
        if (rc == 1 || (idle && linger == 0)) {
            if (sink_flush(s) != 0)
                broken = true;
        }
    }
    if (s->npending && !broken)
        sink_flush(s);
    sink_drop_pending(s);
    thread_exit(p);
    return NULL;
}

/* ---- lifecycle ---- */

int wire_pipeline_new(wire_pipeline_spec *spec, const wire_engine_opts *opts, wire_pipeline **out,
                      wire_err *err)
{
    wire_pipeline *p = wire_xcalloc(1, sizeof(*p));
    p->spec = spec;
    p->data_dir = wire_xstrdup(opts && opts->data_dir ? opts->data_dir : "./wire-data");
    p->pool = wire_batch_pool_new(64 * 1024);
    size_t budget = spec->queue_bytes > 0 ? (size_t)spec->queue_bytes : 8u << 20;
    wire_queue_init(&p->in_q, budget);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->done_cond, NULL);
    p->state = WIRE_PIPE_PENDING;
    p->source_ctx.p = p;
    p->id_seed = wire_hash64(spec->name, strlen(spec->name), 0);
    *out = p;

    p->source_def = spec->source.def;
    int rc = p->source_def->create(&p->source, spec->source.config, err);
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
        rc = def->create(&p->transforms[i], spec->transforms[i].config, err);
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
        wire_queue_init(&s->q, budget);
    }
    for (size_t i = 0; i < spec->nsinks; i++) {
        sink_runner *s = &p->sinks[i];
        rc = s->def->open(&s->self, spec->sinks[i].config, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int wire_pipeline_start(wire_pipeline *p, wire_err *err)
{
    pthread_mutex_lock(&p->lock);
    p->state = WIRE_PIPE_RUNNING;
    p->threads_alive = (int)(2 + p->nsinks);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->nsinks; i++) {
        pthread_create(&p->sinks[i].thread, NULL, sink_main, &p->sinks[i]);
        p->sinks[i].started = true;
    }
    pthread_create(&p->worker_thread, NULL, worker_main, p);
    pthread_create(&p->source_thread, NULL, source_main, p);
    p->threads_started = true;
    return 0;
}

void wire_pipeline_stop(wire_pipeline *p)
{
    if (atomic_exchange(&p->stopping, true))
        return;
    /* Blocked source pushes fail; queues downstream still drain. */
    wire_queue_abort(&p->in_q);
    if (p->source_def && p->source_def->wake && p->source)
        p->source_def->wake(p->source);
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

const char *wire_pipeline_error(const wire_pipeline *p) { return p->error; }
const wire_pipeline_spec *wire_pipeline_spec_of(const wire_pipeline *p) { return p->spec; }
const wire_pipeline_stats *wire_pipeline_stats_of(const wire_pipeline *p) { return &p->stats; }

void wire_pipeline_transform_totals(const wire_pipeline *p, uint64_t *filtered, uint64_t *errors,
                                    uint64_t *dropped)
{
    *filtered = *errors = *dropped = 0;
    for (size_t i = 0; i < p->ntransforms; i++) {
        *filtered += atomic_load(&p->transform_stats[i].filtered);
        *errors += atomic_load(&p->transform_stats[i].errors);
        *dropped += atomic_load(&p->transform_stats[i].dropped);
    }
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
        batch_discard(b);
    for (size_t i = 0; i < p->nsinks; i++) {
        sink_runner *s = &p->sinks[i];
        wire_queue_close(&s->q);
        while ((b = wire_queue_pop(&s->q, 0)) != NULL)
            batch_discard(b);
        if (s->self)
            s->def->close(s->self);
        wire_queue_destroy(&s->q);
        free(s->pending);
    }
    free(p->sinks);
    for (size_t i = 0; i < p->ntransforms; i++) {
        const wire_transform_def *def = p->spec->transforms[i].def;
        if (p->transforms[i])
            def->destroy(p->transforms[i]);
    }
    free(p->transforms);
    free(p->tctx);
    free(p->transform_stats);
    if (p->source)
        p->source_def->destroy(p->source);
    wire_queue_destroy(&p->in_q);
    wire_batch_pool_free(p->pool);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->done_cond);
    free(p->committed);
    free(p->committed_seq);
    free(p->data_dir);
    wire_spec_free(p->spec);
    free(p);
}
