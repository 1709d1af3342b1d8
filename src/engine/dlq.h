/*
 * dlq.h — the dead-letter queue of a pipeline: any sink, fed one event at a
 * time by the transforms (on_error: dlq) and by sinks (permanent errors,
 * exhausted retries). A dead letter is written durably (write, flush, sync)
 * before the event it replaces is acknowledged, so a dead-lettered event is
 * never lost either. An event that is not valid JSON (a source's malformed
 * input) is stored as a JSON string. Its shape:
 *
 *   {"event": <the original event, byte for byte>, "error": "...",
 *    "stage": "sink file (sink)", "attempts": 3,
 *    "first_failed_at": "2026-11-29T08:13:01.123Z",
 *    "pipeline": "errors", "version": 1}
 *
 * plus "reason" for the classes STREAMING.md names ("event_time": no valid
 * event time; "late" later).
 */
#ifndef WIRE_DLQ_H
#define WIRE_DLQ_H

#include "engine/engine.h"

typedef struct wire_dlq wire_dlq;

/* Open the dlq component of a spec (spec->dlq.type must be set). */
int wire_dlq_open(wire_dlq **out, const wire_component *c, const wire_component_env *env,
                  uint64_t version, wire_err *err);
/* Thread-safe; durable when it returns 0. first_failed_ms 0 = now. reason: a short class
   for the record's "reason" ("event_time", "late"), or NULL for none. */
int wire_dlq_write(wire_dlq *d, const char *event, size_t len, const char *error, const char *stage,
                   const char *reason, int64_t attempts, int64_t first_failed_ms, wire_err *err);
uint64_t wire_dlq_written(wire_dlq *d);
void wire_dlq_close(wire_dlq *d);

#endif
