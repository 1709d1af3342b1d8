/*
 * sink_runner.c — one thread per sink: write batches in order, flush when
 * the sink asks, when its queue runs dry or its linger expires, retry what
 * fails, and acknowledge every batch written before a successful flush. At
 * a checkpoint barrier: flush, sync, commit the positions the checkpoint
 * will hold when the sink owns them (exactly-once, sink-owned positions),
 * snapshot the sink's commit state.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "engine/dlq.h"
#include "engine/runner.h"

/* ---- sinks ---- */

static void sink_pending_push(sink_runner *s, wire_batch *b)
{
    if (s->npending == s->pending_cap) {
        s->pending_cap = s->pending_cap ? s->pending_cap * 2 : 16;
        s->pending = wire_xrealloc(s->pending, s->pending_cap * sizeof(*s->pending));
    }
    s->pending[s->npending++] = b;
}

/*
 * One event failed for good: hand it to the sink's on_error. Returns 0 when
 * it is accounted for (dead-lettered or dropped), <0 when the pipeline must
 * stop (policy stop, or the dead-letter queue itself failed).
 */
static int dispose_event(sink_runner *s, wire_batch *b, const wire_event *ev, const char *error)
{
    wire_err err;
    wire_err_clear(&err);
    if (wire_dispose(&s->disposer, ev, error, s->retry.attempts, s->retry.first_failed_ms, &err) !=
        0) {
        runner_fail(s->p, "%s: %s", s->disposer.stage, err.msg);
        return -1;
    }
    atomic_fetch_add_explicit(&wire_flight_of(b)->disposed, 1, memory_order_relaxed);
    return 0;
}

typedef struct ev_ref {
    wire_batch *b;
    const wire_event *ev;
} ev_ref;

/* Flush once more with retries of retryable errors; the policy's attempts
   count across the whole episode. */
static int sink_op_flush(void *arg, wire_err *err)
{
    sink_runner *s = arg;
    return s->def->flush(s->self, err);
}

static int sink_op_sync(void *arg, wire_err *err)
{
    sink_runner *s = arg;
    return s->def->sync(s->self, err);
}

static bool sink_stopping(void *arg)
{
    sink_runner *s = arg;
    return atomic_load(&s->p->stopping) || runner_failed(s->p);
}

static void sink_on_retry(void *arg, const wire_retry *r, int64_t delay, const wire_err *err)
{
    sink_runner *s = arg;
    atomic_fetch_add_explicit(&s->stats.retries, 1, memory_order_relaxed);
    if (r->attempts <= 3 || r->attempts % 10 == 0)
        wire_warn("pipeline %s: sink %s: %s (attempt %lld, retrying in %lld ms)", s->p->spec->name,
                  s->def->base.type, err->msg, (long long)r->attempts, (long long)delay);
}

static int flush_retrying(sink_runner *s, wire_err *err)
{
    wire_retry_loop loop = {sink_op_flush, sink_stopping, sink_on_retry, s};
    return wire_retry_run(&s->retry, &loop, err);
}

/* Write events [a, z) alone and flush them (with retries). */
static int try_range(sink_runner *s, ev_ref *refs, size_t a, size_t z, wire_err *err)
{
    wire_batch view;
    memset(&view, 0, sizeof(view));
    view.ev = wire_xmalloc((z - a) * sizeof(wire_event));
    for (size_t i = a; i < z; i++) {
        view.ev[i - a] = *refs[i].ev;
        view.bytes += refs[i].ev->len;
    }
    view.n = view.cap = (uint32_t)(z - a);
    wire_err_clear(err);
    int rc = s->def->write(s->self, &view, err);
    if (rc >= 0)
        rc = flush_retrying(s, err);
    free(view.ev);
    return rc;
}

/* Events [a, z) were not accepted and the retries are used up. */
static int dispose_range(sink_runner *s, ev_ref *refs, size_t a, size_t z, const char *error)
{
    for (size_t i = a; i < z; i++)
        if (dispose_event(s, refs[i].b, refs[i].ev, error) != 0)
            return -1;
    return 0;
}

/*
 * Events [lo, hi) contain at least one the sink refuses for good, and the
 * sink holds nothing unflushed. Write each half alone; recurse into a half
 * that fails, skipping what the sink accepted before failing.
 */
static int bisect(sink_runner *s, ev_ref *refs, size_t lo, size_t hi, const char *error)
{
    if (hi - lo == 1)
        return dispose_event(s, refs[lo].b, refs[lo].ev, error);
    size_t mid = lo + (hi - lo) / 2;
    size_t ranges[2][2] = {{lo, mid}, {mid, hi}};
    for (int r = 0; r < 2; r++) {
        size_t a = ranges[r][0], z = ranges[r][1];
        wire_err err;
        int rc = try_range(s, refs, a, z, &err);
        if (rc == 0)
            continue;
        a += s->def->discard(s->self);
        if (a >= z)
            continue;
        if (rc == WIRE_EPERM)
            rc = bisect(s, refs, a, z, err.msg);
        else if (rc == WIRE_EAGAIN && !atomic_load(&s->p->stopping) && !runner_failed(s->p))
            rc = dispose_range(s, refs, a, z, err.msg); /* retries exhausted */
        else if (rc != WIRE_EAGAIN)
            runner_fail(s->p, "sink %s: %s", s->def->base.type, err.msg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Every pending event failed for good with `error` (no bisection possible). */
static int dispose_pending(sink_runner *s, const char *error)
{
    for (size_t i = 0; i < s->npending; i++) {
        wire_batch *b = s->pending[i];
        for (uint32_t k = 0; k < b->n; k++)
            if (dispose_event(s, b, &b->ev[k], error) != 0)
                return -1;
    }
    return 0;
}

static void ack_pending(sink_runner *s)
{
    for (size_t i = 0; i < s->npending; i++) {
        wire_batch *b = s->pending[i];
        uint32_t disposed = atomic_load(&wire_flight_of(b)->disposed);
        uint32_t delivered = b->n > disposed ? b->n - disposed : 0;
        atomic_fetch_add_explicit(&s->stats.out, delivered, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->stats.bytes_out, b->bytes, memory_order_relaxed);
        runner_batch_ack(s->p, b);
    }
    s->npending = 0;
}

/*
 * Flush the pending batches and acknowledge them. Retryable errors are
 * retried per the sink's policy while the pipeline holds back upstream. A
 * permanent error, or exhausted retries, hands the failing events to the
 * sink's on_error (dlq / drop / stop); the permanent case first bisects to
 * find exactly which events the sink refuses. Returns 0 when every pending
 * event is accounted for; <0 when the batches must not be acknowledged
 * (pipeline failing or stopping while the sink is down).
 */
static int sink_flush(sink_runner *s)
{
    wire_pipeline *p = s->p;
    wire_err err;
    int rc = flush_retrying(s, &err);
    if (rc == 0) {
        wire_retry_reset(&s->retry);
        ack_pending(s);
        return 0;
    }
    if (rc == WIRE_EAGAIN && atomic_load(&p->stopping) && !runner_failed(p)) {
        /* stopping while the sink is down: leave the batches unacknowledged
           (they will be replayed) rather than block shutdown */
        wire_warn("pipeline %s: sink %s: %s; stopping with unflushed data", p->spec->name,
                  s->def->base.type, err.msg);
        return rc;
    }
    if (runner_failed(p))
        return rc;
    if ((rc == WIRE_EPERM || rc == WIRE_EAGAIN) && s->def->discard) {
        size_t n = 0;
        for (size_t i = 0; i < s->npending; i++)
            n += s->pending[i]->n;
        ev_ref *refs = wire_xmalloc((n ? n : 1) * sizeof(*refs));
        size_t k = 0;
        for (size_t i = 0; i < s->npending; i++)
            for (uint32_t j = 0; j < s->pending[i]->n; j++)
                refs[k++] = (ev_ref){s->pending[i], &s->pending[i]->ev[j]};
        size_t accepted = s->def->discard(s->self);
        if (rc == WIRE_EPERM) {
            wire_info("pipeline %s: sink %s refused some of %zu events (%s): looking for them",
                      p->spec->name, s->def->base.type, n - accepted, err.msg);
            rc = accepted < n ? bisect(s, refs, accepted, n, err.msg) : 0;
        } else {
            char msg[700];
            snprintf(msg, sizeof(msg), "%s (retries exhausted)", err.msg);
            rc = dispose_range(s, refs, accepted < n ? accepted : n, n, msg);
        }
        free(refs);
    } else if (rc == WIRE_EPERM || rc == WIRE_EAGAIN) {
        char msg[700];
        snprintf(msg, sizeof(msg), "%s%s", err.msg,
                 rc == WIRE_EAGAIN ? " (retries exhausted)" : "");
        rc = dispose_pending(s, msg);
    } else {
        runner_fail(p, "sink %s (%s): %s", s->def->base.type, p->spec->sinks[s->index].name,
                    err.msg[0] ? err.msg : wire_strerror(rc));
        return rc;
    }
    if (rc != 0)
        return rc;
    wire_retry_reset(&s->retry);
    ack_pending(s);
    return 0;
}

static void sink_drop_pending(sink_runner *s)
{
    for (size_t i = 0; i < s->npending; i++)
        runner_batch_drop(s->p, s->pending[i]);
    s->npending = 0;
}

/* Sync with the sink's retry policy; a sync that cannot succeed stops the
   pipeline (the data is written but its durability is unknown). */
static int sink_sync(sink_runner *s)
{
    wire_err err;
    wire_retry_loop loop = {sink_op_sync, sink_stopping, sink_on_retry, s};
    int rc = wire_retry_run(&s->retry, &loop, &err);
    if (rc == 0) {
        wire_retry_reset(&s->retry);
        return 0;
    }
    runner_fail(s->p, "sink %s (%s): %s", s->def->base.type, s->p->spec->sinks[s->index].name,
                err.msg[0] ? err.msg : wire_strerror(rc));
    return rc;
}

/*
 * Sink-owned positions: note where each split stands after a batch this
 * sink wrote. Batches reach the sink in sequence order, so the newest one
 * wins, as in runner_commit_positions_locked(); at a barrier these are
 * exactly the positions the checkpoint will hold, since every batch before
 * the barrier completes before the barrier does and none after it can
 * (a sink-owned-positions pipeline has this one sink).
 */
static void sink_note_positions(sink_runner *s, const wire_position *pos, uint32_t npos)
{
    for (uint32_t i = 0; i < npos; i++) {
        size_t j;
        for (j = 0; j < s->nseen; j++)
            if (s->seen[j].split == pos[i].split)
                break;
        if (j == s->nseen) {
            if (s->nseen == s->seen_cap) {
                s->seen_cap = s->seen_cap ? s->seen_cap * 2 : 4;
                s->seen = wire_xrealloc(s->seen, s->seen_cap * sizeof(*s->seen));
            }
            s->nseen++;
        }
        s->seen[j] = pos[i];
    }
}

/* The barrier's data and positions commit together in the sink; failing
   that, the pipeline fails (a restart resumes from the last checkpoint). */
static int sink_commit_positions(sink_runner *s, uint64_t id)
{
    wire_err err;
    wire_err_clear(&err);
    int rc = s->def->commit_positions(s->self, id, s->seen, s->nseen, &err);
    if (rc != 0)
        runner_fail(s->p, "sink %s (%s): checkpoint %llu: %s", s->def->base.type,
                    s->p->spec->sinks[s->index].name, (unsigned long long)id,
                    err.msg[0] ? err.msg : wire_strerror(rc));
    return rc;
}

/* At a barrier: make everything before it durable, then record our state. */
static int sink_barrier(sink_runner *s, wire_batch *b)
{
    wire_pipeline *p = s->p;
    if ((s->npending && sink_flush(s) != 0) || (s->def->sync && sink_sync(s) != 0) ||
        (s->owns_positions && sink_commit_positions(s, wire_flight_barrier(b)) != 0)) {
        runner_batch_drop(p, b);
        return -1;
    }
    char **states = wire_flight_of(b)->aux;
    if (s->def->snapshot && states) {
        wire_buf st;
        wire_buf_init(&st);
        s->def->snapshot(s->self, &st);
        states[s->index] = st.p; /* each sink writes only its own slot */
    }
    runner_batch_ack(p, b);
    return 0;
}

void *runner_sink_main(void *arg)
{
    sink_runner *s = arg;
    wire_pipeline *p = s->p;
    runner_block_signals();
    int64_t linger = s->def->linger_ms ? s->def->linger_ms(s->self) : 0;
    int64_t first_pending_ns = 0;
    bool broken = false;
    if (s->owns_positions) {
        /* start from the resume positions (the sink's own, where it had them) */
        pthread_mutex_lock(&p->lock);
        sink_note_positions(s, p->committed, (uint32_t)p->ncommitted);
        pthread_mutex_unlock(&p->lock);
    }
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
        if (broken || runner_failed(p)) {
            runner_batch_drop(p, b);
            continue;
        }
        if (wire_flight_barrier(b)) {
            if (sink_barrier(s, b) != 0)
                broken = true;
            continue;
        }
        atomic_fetch_add_explicit(&s->stats.in, b->n, memory_order_relaxed);
        wire_err err;
        wire_err_clear(&err);
        int rc = s->def->write(s->self, b, &err);
        if (rc < 0) {
            runner_fail(p, "sink %s (%s): %s", s->def->base.type, p->spec->sinks[s->index].name,
                        err.msg[0] ? err.msg : wire_strerror(rc));
            runner_batch_drop(p, b);
            broken = true;
            continue;
        }
        if (s->owns_positions)
            sink_note_positions(s, b->pos, b->npos);
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
    wire_disposer_flush_log(&s->disposer);
    pthread_mutex_lock(&p->lock);
    p->sinks_alive--;
    pthread_cond_broadcast(&p->cp_cond);
    pthread_mutex_unlock(&p->lock);
    runner_thread_exit(p);
    return NULL;
}
