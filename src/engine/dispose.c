/*
 * dispose.c — the error policy (see dispose.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/dispose.h"
#include "engine/dlq.h"
#include "engine/engine.h"

void wire_disposer_init(wire_disposer *d, int policy, const char *pipeline, const char *stage)
{
    memset(d, 0, sizeof(*d));
    d->policy = policy;
    snprintf(d->pipeline, sizeof(d->pipeline), "%s", pipeline ? pipeline : "");
    snprintf(d->stage, sizeof(d->stage), "%s", stage ? stage : "");
}

static const char *verb(int policy)
{
    return policy == WIRE_ON_ERROR_DLQ ? "dead-lettered" : "dropped";
}

void wire_disposer_flush_log(wire_disposer *d)
{
    if (!d->unreported)
        return;
    wire_warn("pipeline %s: %s: %" PRIu64 " more events %s (on_error: %s); last error: %s",
              d->pipeline, d->stage, d->unreported, verb(d->last_policy),
              d->last_policy == WIRE_ON_ERROR_DLQ ? "dlq" : "drop", d->last_error);
    d->unreported = 0;
    d->last_report_ms = wire_now_ms();
}

static void log_disposal(wire_disposer *d, const char *error)
{
    d->disposed++;
    d->last_policy = d->policy;
    snprintf(d->last_error, sizeof(d->last_error), "%s", error);
    if (d->disposed <= WIRE_DISPOSE_LOG_FIRST) {
        wire_warn("pipeline %s: %s: event %s (on_error: %s): %s%s", d->pipeline, d->stage,
                  verb(d->policy), d->policy == WIRE_ON_ERROR_DLQ ? "dlq" : "drop", error,
                  d->disposed == WIRE_DISPOSE_LOG_FIRST ? " (further ones are summarized)" : "");
        d->last_report_ms = wire_now_ms();
        return;
    }
    d->unreported++;
    if (wire_now_ms() - d->last_report_ms >= WIRE_DISPOSE_LOG_INTERVAL_MS)
        wire_disposer_flush_log(d);
}

int wire_dispose(wire_disposer *d, const wire_event *ev, const char *error, int64_t attempts,
                 int64_t first_failed_ms, wire_err *err)
{
    switch (d->policy) {
    case WIRE_ON_ERROR_DLQ: {
        if (!d->dlq)
            return wire_errf(err, WIRE_EPERM, "no dead-letter queue for: %s", error);
        wire_err derr;
        wire_err_clear(&derr);
        if (wire_dlq_write(d->dlq, ev->data, ev->len, error, d->stage, NULL,
                           attempts > 0 ? attempts : 1, first_failed_ms, &derr) != 0)
            return wire_errf(err, WIRE_EPERM,
                             "dead-letter queue failed (%s) while disposing of: %s", derr.msg,
                             error);
        if (d->stats)
            atomic_fetch_add_explicit(&d->stats->dlq, 1, memory_order_relaxed);
        if (d->pipe_dlq)
            atomic_fetch_add_explicit(d->pipe_dlq, 1, memory_order_relaxed);
        break;
    }
    case WIRE_ON_ERROR_DROP:
        if (d->stats)
            atomic_fetch_add_explicit(&d->stats->dropped, 1, memory_order_relaxed);
        if (d->pipe_dropped)
            atomic_fetch_add_explicit(d->pipe_dropped, 1, memory_order_relaxed);
        break;
    default: return wire_errf(err, WIRE_EPERM, "%s", error);
    }
    log_disposal(d, error);
    return 0;
}
