/*
 * retry.h — retry policy for sinks: exponential backoff with full jitter
 * (delay = random(0, min(max, initial * 2^attempt))), bounded by a number of
 * attempts or by the time since the first failure, and honouring a server's
 * Retry-After. A policy with neither bound retries for ever (the pipeline
 * holds back its source meanwhile: backpressure, nothing lost).
 */
#ifndef WIRE_RETRY_H
#define WIRE_RETRY_H

#include "core/core.h"

typedef struct wire_retry_policy {
    int64_t initial_ms;     /* default 100ms */
    int64_t max_ms;         /* default 30s */
    int64_t max_attempts;   /* 0: unbounded */
    int64_t max_elapsed_ms; /* 0: unbounded */
} wire_retry_policy;

typedef struct wire_retry {
    wire_retry_policy policy;
    int64_t attempts;        /* failures so far */
    int64_t first_failed_ms; /* wall time of the first failure (for dead letters) */
    int64_t first_failed_mono;
    uint64_t rng;
} wire_retry;

void wire_retry_policy_default(wire_retry_policy *p);
void wire_retry_init(wire_retry *r, const wire_retry_policy *p, uint64_t seed);
/* Forget failures (after a success). */
void wire_retry_reset(wire_retry *r);
/*
 * Record a failure. Returns how long to wait before the next attempt, or -1
 * when the policy is exhausted. retry_after_ms > 0 (a server's hint) is a
 * lower bound for the wait.
 */
int64_t wire_retry_failed(wire_retry *r, int64_t retry_after_ms);

/*
 * The retry loop, once for every caller (sinks, the dead-letter queue):
 * call op until it returns anything but WIRE_EAGAIN, the policy is
 * exhausted, or stop (may be NULL) says so; between tries, on_retry (may be
 * NULL: count, log) and a backoff sleep that stop cuts short. Returns op's
 * last result: WIRE_EAGAIN when exhausted or stopped. A server's hint is
 * taken from err->retry_after_ms.
 */
typedef struct wire_retry_loop {
    int (*op)(void *arg, wire_err *err);
    bool (*stop)(void *arg);
    void (*on_retry)(void *arg, const wire_retry *r, int64_t delay_ms, const wire_err *err);
    void *arg;
} wire_retry_loop;
int wire_retry_run(wire_retry *r, const wire_retry_loop *loop, wire_err *err);

#endif
