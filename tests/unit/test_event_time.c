/*
 * test_event_time.c — the event-time arithmetic of STREAMING.md §3.2–3.4
 * (engine/event_time.c): window assignment against a brute-force oracle
 * written from the definitions (every aligned window that contains ts),
 * boundaries, lateness and closing, and watermarks per split and per
 * operator — idleness, finished splits, never decreasing, checkpoints.
 */
#include "engine/event_time.h"
#include "test.h"

TEST(floor_negative_and_offset)
{
    CHECK_EQ_INT(wire_time_floor(10999, 1000, 0), 10000);
    CHECK_EQ_INT(wire_time_floor(11000, 1000, 0), 11000);
    CHECK_EQ_INT(wire_time_floor(-1, 1000, 0), -1000);
    CHECK_EQ_INT(wire_time_floor(-1000, 1000, 0), -1000);
    CHECK_EQ_INT(wire_time_floor(-1001, 1000, 0), -2000);
    CHECK_EQ_INT(wire_time_floor(250, 1000, 300), -700);
    CHECK_EQ_INT(wire_time_floor(300, 1000, 300), 300);
    CHECK_EQ_INT(wire_time_floor(250, 1000, -300), -300);
}

/* The oracle: every window of the spec's family that contains ts, by end. */
static size_t oracle(const wire_window_spec *w, int64_t ts, wire_window *out)
{
    size_t k = 0;
    int64_t align = w->kind == WIRE_WIN_HOP ? w->slide : w->size;
    for (int64_t s = ts - 2 * w->size; s <= ts; s++) {
        int64_t r = (s - w->offset) % align;
        if (r < 0)
            r += align;
        if (r != 0)
            continue;
        if (w->kind == WIRE_WIN_CUMULATE) {
            if (!(s <= ts && ts < s + w->size))
                continue;
            for (int64_t e = s + w->slide; e <= s + w->size; e += w->slide)
                if (e > ts)
                    out[k++] = (wire_window){s, e};
        } else if (s <= ts && ts < s + w->size) {
            out[k++] = (wire_window){s, s + w->size};
        }
    }
    /* by end, then start (insertion sort: small) */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i;
             j > 0 && (out[j].end < out[j - 1].end ||
                       (out[j].end == out[j - 1].end && out[j].start < out[j - 1].start));
             j--) {
            wire_window t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return k;
}

TEST(assignment_matches_the_definitions)
{
    uint64_t x = 12345;
    int bad = 0;
    for (int iter = 0; iter < 20000; iter++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        wire_window_spec w = {.kind = (int)((x >> 60) % 3)};
        int64_t slide = 1 + (int64_t)((x >> 40) % 7);
        int64_t mult = 1 + (int64_t)((x >> 30) % 5);
        w.size = w.kind == WIRE_WIN_TUMBLE ? slide * mult : slide * mult;
        w.slide = w.kind == WIRE_WIN_TUMBLE ? 0 : slide;
        w.offset = (int64_t)((x >> 20) % (uint64_t)(2 * w.size - 1)) - (w.size - 1);
        int64_t ts = (int64_t)((x >> 8) % 2001) - 1000;
        CHECK(wire_window_spec_check(&w) == NULL);
        wire_window got[64], want[64];
        size_t n = wire_window_assign(&w, ts, got), m = oracle(&w, ts, want);
        bool same = n == m;
        for (size_t i = 0; same && i < n; i++)
            same = got[i].start == want[i].start && got[i].end == want[i].end;
        for (size_t i = 0; i + 1 < n; i++) /* earliest end first */
            same = same && got[i].end <= got[i + 1].end;
        if (!same && bad++ < 5)
            fprintf(stderr,
                    "kind %d size %lld slide %lld offset %lld ts %lld: %zu windows, want %zu\n",
                    w.kind, (long long)w.size, (long long)w.slide, (long long)w.offset,
                    (long long)ts, n, m);
        CHECK(n <= (size_t)wire_window_count(&w));
    }
    CHECK_EQ_INT(bad, 0);
}

TEST(boundaries_and_checks)
{
    wire_window_spec t = {WIRE_WIN_TUMBLE, 1000, 0, 0};
    wire_window w[8];
    CHECK_EQ_INT(wire_window_assign(&t, 1000, w), 1);
    CHECK_EQ_INT(w[0].start, 1000); /* an event at exactly end belongs to the next window */
    CHECK_EQ_INT(wire_window_assign(&t, 999, w), 1);
    CHECK_EQ_INT(w[0].end, 1000);
    wire_window_spec h = {WIRE_WIN_HOP, 10000, 2000, 0};
    CHECK_EQ_INT(wire_window_assign(&h, 10000, w), 5);
    CHECK_EQ_INT(w[0].start, 2000);
    CHECK_EQ_INT(w[4].start, 10000);
    wire_window_spec c = {WIRE_WIN_CUMULATE, 3000, 1000, 0};
    CHECK_EQ_INT(wire_window_assign(&c, 1500, w), 2); /* [0,2000) and [0,3000) */
    CHECK_EQ_INT(w[0].end, 2000);
    CHECK_EQ_INT(w[1].end, 3000);
    wire_window_spec bad = {WIRE_WIN_HOP, 10000, 3000, 0};
    CHECK(wire_window_spec_check(&bad) != NULL);
    wire_window_spec bad2 = {WIRE_WIN_TUMBLE, 1000, 0, 1000};
    CHECK(wire_window_spec_check(&bad2) != NULL);
    wire_window_spec bad3 = {WIRE_WIN_TUMBLE, 0, 0, 0};
    CHECK(wire_window_spec_check(&bad3) != NULL);
}

TEST(lateness_and_closing)
{
    /* window [0, 1000): e accepted iff end + L > W_before; closed iff W_op >= end + L */
    CHECK(wire_window_accepts(1000, 0, 999));
    CHECK(!wire_window_accepts(1000, 0, 1000));
    CHECK(wire_window_accepts(1000, 500, 1499));
    CHECK(!wire_window_accepts(1000, 500, 1500));
    CHECK(wire_window_accepts(1000, 0, WIRE_TIME_MIN));
    CHECK(!wire_window_closed(1000, 0, 999));
    CHECK(wire_window_closed(1000, 0, 1000));
    CHECK(!wire_window_closed(1000, 500, 1499));
    CHECK(wire_window_closed(1000, 500, WIRE_TIME_MAX));
    CHECK(!wire_window_closed(WIRE_TIME_MAX - 10, 100, WIRE_TIME_MAX - 1)); /* saturates */
}

TEST(watermarks_per_split_and_operator)
{
    wire_watermarks *w = wire_watermarks_new(2000, 0);
    CHECK_EQ_INT(wire_watermarks_operator(w, 0), WIRE_TIME_MIN);
    CHECK_EQ_INT(wire_watermarks_observe(w, 0, 10000, 0), WIRE_TIME_MIN); /* before the first */
    CHECK_EQ_INT(wire_watermarks_split(w, 0), 8000);
    CHECK_EQ_INT(wire_watermarks_observe(w, 0, 9000, 0), 8000); /* out of order: W stays */
    CHECK_EQ_INT(wire_watermarks_split(w, 0), 8000);
    CHECK_EQ_INT(wire_watermarks_operator(w, 0), 8000);
    wire_watermarks_observe(w, 1, 5000, 0);
    /* a new split cannot move the operator watermark back */
    CHECK_EQ_INT(wire_watermarks_operator(w, 0), 8000);
    wire_watermarks_observe(w, 1, 20000, 0);
    CHECK_EQ_INT(wire_watermarks_operator(w, 0), 8000); /* min(8000, 18000) */
    wire_watermarks_observe(w, 0, 30000, 0);
    CHECK_EQ_INT(wire_watermarks_operator(w, 0), 18000);
    wire_watermarks_finish(w, 1);
    CHECK_EQ_INT(wire_watermarks_operator(w, 0), 28000); /* a finished split leaves the min */
    wire_watermarks_finish(w, 0);
    CHECK_EQ_INT(wire_watermarks_operator(w, 0), WIRE_TIME_MAX); /* all finished: +inf */
    wire_watermarks_free(w);
}

TEST(watermarks_idleness)
{
    wire_watermarks *w = wire_watermarks_new(0, 30000);
    wire_watermarks_observe(w, 0, 1000, 0);
    wire_watermarks_observe(w, 1, 5000, 0);
    CHECK_EQ_INT(wire_watermarks_operator(w, 1000), 1000);
    wire_watermarks_observe(w, 1, 9000, 29000);
    /* split 0 silent for 30 s: it leaves the min */
    CHECK_EQ_INT(wire_watermarks_operator(w, 30000), 9000);
    /* both idle: the operator watermark holds, never +inf */
    CHECK_EQ_INT(wire_watermarks_operator(w, 100000), 9000);
    /* split 0 returns behind it: the operator watermark does not decrease; counted */
    CHECK_EQ_INT(wire_watermarks_observe(w, 0, 2000, 100000), 1000);
    CHECK_EQ_INT(wire_watermarks_late_after_idle(w), 1);
    CHECK_EQ_INT(wire_watermarks_operator(w, 100000), 9000);
    /* a known split with no event yet holds it at -inf until idle */
    wire_watermarks *v = wire_watermarks_new(0, 1000);
    wire_watermarks_add(v, 1, 0);
    wire_watermarks_observe(v, 0, 5000, 0);
    CHECK_EQ_INT(wire_watermarks_operator(v, 500), WIRE_TIME_MIN);
    wire_watermarks_observe(v, 0, 6000, 1500);
    CHECK_EQ_INT(wire_watermarks_operator(v, 1500), 6000);
    wire_watermarks_free(v);
    wire_watermarks_free(w);
}

TEST(watermarks_checkpoint)
{
    wire_watermarks *w = wire_watermarks_new(1000, 5000);
    wire_watermarks_observe(w, 0, 10000, 0);
    wire_watermarks_observe(w, 2, 20000, 0);
    wire_watermarks_finish(w, 3);
    int64_t op = wire_watermarks_operator(w, 0);
    wire_buf b;
    wire_buf_init(&b);
    wire_watermarks_encode(w, &b);
    wire_watermarks *r = wire_watermarks_new(1000, 5000);
    wire_err err;
    CHECK_EQ_INT(wire_watermarks_decode(r, b.p, b.len, &err), 0);
    CHECK_EQ_INT(wire_watermarks_split(r, 0), 9000);
    CHECK_EQ_INT(wire_watermarks_split(r, 2), 19000);
    CHECK_EQ_INT(wire_watermarks_split(r, 1), WIRE_TIME_MIN);
    /* restored: the same operator watermark, and silence counts from the restart */
    CHECK_EQ_INT(wire_watermarks_operator(r, 1000000), op);
    CHECK_EQ_INT(wire_watermarks_operator(r, 1004000), op);
    CHECK(wire_watermarks_decode(r, b.p, b.len - 1, &err) != 0);
    CHECK(wire_watermarks_decode(r, "x", 1, &err) != 0);
    wire_buf_free(&b);
    wire_watermarks_free(w);
    wire_watermarks_free(r);
}

static bool time_is(const char *json, const char *field, int64_t want)
{
    int64_t ms;
    char why[200];
    return wire_event_time_of(json, strlen(json), field, &ms, why, sizeof(why)) == 0 && ms == want;
}

static bool time_fails(const char *json, const char *field, const char *needle)
{
    int64_t ms;
    char why[200];
    return wire_event_time_of(json, strlen(json), field, &ms, why, sizeof(why)) != 0 &&
           strstr(why, needle) != NULL;
}

TEST(event_time_of_an_event)
{
    CHECK(time_is("{\"ts\":1700000000000}", "ts", 1700000000000));
    CHECK(time_is("{\"ts\":-5}", "ts", -5));
    CHECK(time_is("{\"ts\":1.9}", "ts", 1));   /* a fraction is cut off */
    CHECK(time_is("{\"ts\":-1.5}", "ts", -2)); /* towards -inf */
    CHECK(time_is("{\"ts\":1e3}", "ts", 1000));
    CHECK(time_is("{\"a\":{\"b\":\"2023-11-14T22:13:20.000Z\"}}", "a.b", 1700000000000));
    CHECK(time_is("{\"ts\":\"2023-11-14T22:13:20\"}", "ts", 1700000000000)); /* no zone: UTC */
    CHECK(time_is("{\"ts\":\"2023-11-15T00:13:20+02:00\"}", "ts", 1700000000000));
    CHECK(time_fails("{\"x\":1}", "ts", "no field 'ts'"));
    CHECK(time_fails("{\"a\":1}", "a.b", "no field 'a.b'"));
    CHECK(time_fails("{\"ts\":null}", "ts", "null"));
    CHECK(time_fails("{\"ts\":\"tomorrow\"}", "ts", "tomorrow"));
    CHECK(time_fails("{\"ts\":true}", "ts", "true"));
    CHECK(time_fails("{\"ts\":1e300}", "ts", "1e300"));
}

int main(void)
{
    RUN(event_time_of_an_event);
    RUN(floor_negative_and_offset);
    RUN(assignment_matches_the_definitions);
    RUN(boundaries_and_checks);
    RUN(lateness_and_closing);
    RUN(watermarks_per_split_and_operator);
    RUN(watermarks_idleness);
    RUN(watermarks_checkpoint);
    TEST_MAIN_END();
}
