/*
 * sink_runner.c — one thread per sink: write batches in order, flush when
 * the sink asks, when its queue runs dry or its linger expires, retry what
 * fails, and acknowledge every batch written before a successful flush. At
 * a checkpoint barrier: flush, sync, snapshot the sink's commit state.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "engine/runner.h"

#define SINK_RETRY_INITIAL_MS 100
#define SINK_RETRY_MAX_MS 5000

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
        if (rc == WIRE_EAGAIN && !runner_failed(p) && !atomic_load(&p->stopping)) {
            atomic_fetch_add_explicit(&s->stats.retries, 1, memory_order_relaxed);
            wire_warn("pipeline %s: sink %s: %s (retrying in %" PRId64 " ms)", p->spec->name,
                      s->def->type, err.msg, delay);
            wire_sleep_ms(delay);
            delay = delay * 2 > SINK_RETRY_MAX_MS ? SINK_RETRY_MAX_MS : delay * 2;
            continue;
        }
        if (rc == WIRE_EAGAIN && atomic_load(&p->stopping) && !runner_failed(p)) {
            /* Stopping while the sink is down: keep retrying until it
               comes back would block shutdown forever; leave the batches
               unacknowledged (they will be replayed). */
            wire_warn("pipeline %s: sink %s: %s; stopping with unflushed data", p->spec->name,
                      s->def->type, err.msg);
            return rc;
        }
        runner_fail(p, "sink %s (%s): %s", s->def->type, p->spec->sinks[s->index].name,
                    err.msg[0] ? err.msg : wire_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < s->npending; i++) {
        wire_batch *b = s->pending[i];
        atomic_fetch_add_explicit(&s->stats.out, b->n, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->stats.bytes_out, b->bytes, memory_order_relaxed);
        runner_batch_ack(p, b);
    }
    s->npending = 0;
    return 0;
}

static void sink_drop_pending(sink_runner *s)
{
    for (size_t i = 0; i < s->npending; i++)
        runner_batch_drop(s->p, s->pending[i]);
    s->npending = 0;
}

/* Retry a sync like a flush. */
static int sink_sync(sink_runner *s)
{
    wire_pipeline *p = s->p;
    int64_t delay = SINK_RETRY_INITIAL_MS;
    for (;;) {
        wire_err err;
        wire_err_clear(&err);
        int rc = s->def->sync(s->self, &err);
        if (rc == 0)
            return 0;
        if (rc == WIRE_EAGAIN && !runner_failed(p) && !atomic_load(&p->stopping)) {
            atomic_fetch_add_explicit(&s->stats.retries, 1, memory_order_relaxed);
            wire_sleep_ms(delay);
            delay = delay * 2 > SINK_RETRY_MAX_MS ? SINK_RETRY_MAX_MS : delay * 2;
            continue;
        }
        runner_fail(p, "sink %s (%s): %s", s->def->type, p->spec->sinks[s->index].name,
                    err.msg[0] ? err.msg : wire_strerror(rc));
        return rc;
    }
}

/* At a barrier: make everything before it durable, then record our state. */
static int sink_barrier(sink_runner *s, wire_batch *b)
{
    wire_pipeline *p = s->p;
    if ((s->npending && sink_flush(s) != 0) || (s->def->sync && sink_sync(s) != 0)) {
        runner_batch_drop(p, b);
        return -1;
    }
    char **states = b->aux;
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
        if (b->barrier) {
            if (sink_barrier(s, b) != 0)
                broken = true;
            continue;
        }
        atomic_fetch_add_explicit(&s->stats.in, b->n, memory_order_relaxed);
        wire_err err;
        wire_err_clear(&err);
        int rc = s->def->write(s->self, b, &err);
        if (rc < 0) {
            runner_fail(p, "sink %s (%s): %s", s->def->type, p->spec->sinks[s->index].name,
                        err.msg[0] ? err.msg : wire_strerror(rc));
            runner_batch_drop(p, b);
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
    pthread_mutex_lock(&p->lock);
    p->sinks_alive--;
    pthread_cond_broadcast(&p->cp_cond);
    pthread_mutex_unlock(&p->lock);
    runner_thread_exit(p);
    return NULL;
}
