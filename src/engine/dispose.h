/*
 * dispose.h — the error policy, in one place: an event that failed for good
 * (a transform's per-event error; a sink's permanent refusal or exhausted
 * retries) is dead-lettered, dropped or stops the pipeline, per the stage's
 * on_error. Every disposal is counted, and its reason logged: the first few
 * one by one, then one summary line per interval, so a flood of bad events
 * cannot flood the log and a user always sees why events left.
 *
 * A disposer belongs to one stage and is used by one thread at a time.
 */
#ifndef WIRE_ENGINE_DISPOSE_H
#define WIRE_ENGINE_DISPOSE_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/core.h"
#include "core/event.h"

typedef struct wire_dlq wire_dlq;
typedef struct wire_stage_stats wire_stage_stats;

/* Log the first WIRE_DISPOSE_LOG_FIRST disposals of a stage, then one line per interval. */
#define WIRE_DISPOSE_LOG_FIRST 5
#define WIRE_DISPOSE_LOG_INTERVAL_MS 10000

typedef struct wire_disposer {
    int policy;                         /* wire_on_error */
    wire_dlq *dlq;                      /* the pipeline's dead-letter queue, or NULL */
    wire_stage_stats *stats;            /* the stage's counters, or NULL */
    atomic_uint_fast64_t *pipe_dropped; /* the pipeline's totals, or NULL */
    atomic_uint_fast64_t *pipe_dlq;
    char pipeline[72];   /* names for log lines and dead letters */
    char stage[160];     /* "transform map (transforms[0])", "sink file (sink)" */
    uint64_t disposed;   /* all disposals so far */
    uint64_t unreported; /* disposed since the last log line */
    int64_t last_report_ms;
    char last_error[256];
    int last_policy;
} wire_disposer;

void wire_disposer_init(wire_disposer *d, int policy, const char *pipeline, const char *stage);
/*
 * Dispose of `ev`, which failed with `error` after `attempts` tries (first
 * at first_failed_ms; 0 = now). Returns 0 when it is accounted for
 * (dead-lettered or dropped); WIRE_EPERM when the pipeline must stop: the
 * policy is fail, or dlq with no queue or a queue that failed (`err` says
 * which).
 */
int wire_dispose(wire_disposer *d, const wire_event *ev, const char *error, int64_t attempts,
                 int64_t first_failed_ms, wire_err *err);
/* Log what the interval has not reported yet (at stop). */
void wire_disposer_flush_log(wire_disposer *d);

#endif
