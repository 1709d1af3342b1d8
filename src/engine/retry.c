/*
 * retry.c — backoff with full jitter; see retry.h.
 */
#include "engine/retry.h"

void wire_retry_policy_default(wire_retry_policy *p)
{
    p->initial_ms = 100;
    p->max_ms = 30000;
    p->max_attempts = 0;
    p->max_elapsed_ms = 0;
}

void wire_retry_init(wire_retry *r, const wire_retry_policy *p, uint64_t seed)
{
    r->policy = *p;
    if (r->policy.initial_ms <= 0)
        r->policy.initial_ms = 1;
    if (r->policy.max_ms < r->policy.initial_ms)
        r->policy.max_ms = r->policy.initial_ms;
    r->rng = seed | 1;
    wire_retry_reset(r);
}

void wire_retry_reset(wire_retry *r)
{
    r->attempts = 0;
    r->first_failed_ms = 0;
    r->first_failed_mono = 0;
}

static uint64_t next_rand(wire_retry *r)
{
    /* xorshift64* */
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return r->rng * 0x2545F4914F6CDD1DULL;
}

int64_t wire_retry_failed(wire_retry *r, int64_t retry_after_ms)
{
    int64_t now = wire_mono_ns() / 1000000;
    if (r->attempts == 0) {
        r->first_failed_ms = wire_now_ms();
        r->first_failed_mono = now;
    }
    r->attempts++;
    const wire_retry_policy *p = &r->policy;
    if (p->max_attempts > 0 && r->attempts >= p->max_attempts)
        return -1;
    int64_t elapsed = now - r->first_failed_mono;
    if (p->max_elapsed_ms > 0 && elapsed >= p->max_elapsed_ms)
        return -1;
    /* cap = min(max, initial * 2^(attempts-1)) without overflow */
    int64_t cap = p->initial_ms;
    for (int64_t i = 1; i < r->attempts && cap < p->max_ms; i++)
        cap *= 2;
    if (cap > p->max_ms)
        cap = p->max_ms;
    int64_t delay = (int64_t)(next_rand(r) % (uint64_t)(cap + 1));
    if (retry_after_ms > delay)
        delay = retry_after_ms > p->max_ms * 4 ? p->max_ms * 4 : retry_after_ms;
    if (p->max_elapsed_ms > 0 && elapsed + delay > p->max_elapsed_ms)
        delay = p->max_elapsed_ms - elapsed; /* one last try at the deadline */
    return delay < 0 ? 0 : delay;
}

int wire_retry_run(wire_retry *r, const wire_retry_loop *loop, wire_err *err)
{
    for (;;) {
        wire_err_clear(err);
        int rc = loop->op(loop->arg, err);
        if (rc != WIRE_EAGAIN || (loop->stop && loop->stop(loop->arg)))
            return rc;
        int64_t delay = wire_retry_failed(r, err->retry_after_ms);
        if (delay < 0)
            return WIRE_EAGAIN; /* exhausted */
        if (loop->on_retry)
            loop->on_retry(loop->arg, r, delay, err);
        /* sleep in steps, so that a stop is noticed within 100 ms */
        while (delay > 0 && !(loop->stop && loop->stop(loop->arg))) {
            int64_t step = delay > 100 ? 100 : delay;
            wire_sleep_ms(step);
            delay -= step;
        }
    }
}
