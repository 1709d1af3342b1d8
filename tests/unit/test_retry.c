#include <string.h>

/* test_retry.c — backoff with full jitter, bounds, Retry-After. */
#include "engine/retry.h"
#include "test.h"

TEST(full_jitter_within_exponential_cap)
{
    wire_retry_policy p = {.initial_ms = 100, .max_ms = 1000};
    wire_retry r;
    wire_retry_init(&r, &p, 42);
    int64_t caps[] = {100, 200, 400, 800, 1000, 1000, 1000};
    int64_t total = 0;
    for (int i = 0; i < 7; i++) {
        int64_t d = wire_retry_failed(&r, 0);
        CHECK(d >= 0 && d <= caps[i]);
        total += d;
    }
    CHECK(total > 0); /* jittered, not always zero */
    CHECK_EQ_INT(r.attempts, 7);
    CHECK(r.first_failed_ms > 0);
    wire_retry_reset(&r);
    CHECK_EQ_INT(r.attempts, 0);
}

TEST(max_attempts_exhausts)
{
    wire_retry_policy p = {.initial_ms = 1, .max_ms = 2, .max_attempts = 3};
    wire_retry r;
    wire_retry_init(&r, &p, 1);
    CHECK(wire_retry_failed(&r, 0) >= 0);
    CHECK(wire_retry_failed(&r, 0) >= 0);
    CHECK_EQ_INT(wire_retry_failed(&r, 0), -1); /* the third failure was the last attempt */
}

TEST(max_elapsed_exhausts)
{
    wire_retry_policy p = {.initial_ms = 10, .max_ms = 20, .max_elapsed_ms = 50};
    wire_retry r;
    wire_retry_init(&r, &p, 7);
    int64_t d;
    int n = 0;
    while ((d = wire_retry_failed(&r, 0)) >= 0 && n < 1000) {
        CHECK(d <= 50);
        wire_sleep_ms(d > 0 ? d : 1);
        n++;
    }
    CHECK_EQ_INT(d, -1);
    CHECK(n >= 2 && n < 100);
}

TEST(retry_after_is_a_floor)
{
    wire_retry_policy p = {.initial_ms = 10, .max_ms = 1000};
    wire_retry r;
    wire_retry_init(&r, &p, 3);
    CHECK_EQ_INT(wire_retry_failed(&r, 700), 700);
    /* absurd hints are capped (4 x max) */
    CHECK_EQ_INT(wire_retry_failed(&r, 3600 * 1000), 4000);
}

typedef struct flaky {
    int fail_first; /* answer EAGAIN this many times, then 0 */
    int calls, retried;
    bool stop_after_first;
} flaky;

static int flaky_op(void *arg, wire_err *err)
{
    flaky *f = arg;
    f->calls++;
    if (f->calls <= f->fail_first)
        return wire_errf(err, WIRE_EAGAIN, "try %d failed", f->calls);
    return 0;
}

static bool flaky_stop(void *arg)
{
    flaky *f = arg;
    return f->stop_after_first && f->calls >= 1;
}

static void flaky_on_retry(void *arg, const wire_retry *r, int64_t delay, const wire_err *err)
{
    flaky *f = arg;
    f->retried++;
    CHECK(delay >= 0 && delay <= 8);
    CHECK(strstr(err->msg, "failed") != NULL);
    CHECK_EQ_INT(r->attempts, f->retried);
}

/* The one retry loop: retries EAGAIN with backoff, gives up when exhausted or stopped. */
TEST(retry_run)
{
    wire_retry_policy p = {.initial_ms = 1, .max_ms = 8, .max_attempts = 5};
    wire_retry r;
    wire_err err;
    flaky f = {.fail_first = 3};
    wire_retry_loop loop = {flaky_op, flaky_stop, flaky_on_retry, &f};
    wire_retry_init(&r, &p, 7);
    CHECK_EQ_INT(wire_retry_run(&r, &loop, &err), 0);
    CHECK_EQ_INT(f.calls, 4);
    CHECK_EQ_INT(f.retried, 3);
    /* exhausted: 5 attempts, then EAGAIN with the last error */
    f = (flaky){.fail_first = 100};
    wire_retry_init(&r, &p, 7);
    CHECK_EQ_INT(wire_retry_run(&r, &loop, &err), WIRE_EAGAIN);
    CHECK_EQ_INT(f.calls, 5);
    CHECK(strstr(err.msg, "try 5 failed") != NULL);
    /* stopped: no retry at all */
    f = (flaky){.fail_first = 100, .stop_after_first = true};
    wire_retry_init(&r, &p, 7);
    CHECK_EQ_INT(wire_retry_run(&r, &loop, &err), WIRE_EAGAIN);
    CHECK_EQ_INT(f.calls, 1);
    /* a permanent error is returned at once */
    wire_retry_loop perm = {flaky_op, NULL, NULL, &f};
    f = (flaky){.fail_first = 0};
    wire_retry_init(&r, &p, 7);
    CHECK_EQ_INT(wire_retry_run(&r, &perm, &err), 0);
}

int main(void)
{
    RUN(full_jitter_within_exponential_cap);
    RUN(max_attempts_exhausts);
    RUN(max_elapsed_exhausts);
    RUN(retry_after_is_a_floor);
    RUN(retry_run);
    TEST_MAIN_END();
}
