/*
 * test_sessions.c — session windows (engine/sessions.c, STREAMING.md §3.5):
 * touching sessions merge (events exactly gap apart share one), merging
 * comes before the lateness check, a too-late lone event is dropped,
 * closing at W_op >= end + L; and, for shuffled streams whose disorder the
 * watermark delay covers, the sessions equal a batch oracle's (sort the
 * times, split where the next is more than gap after the last).
 */
#include "engine/event_time.h"
#include "engine/sessions.h"
#include "test.h"

typedef struct agg {
    long count;
    int64_t first, last;
} agg;

static void merge(void *arg, wire_session *into, wire_session *from)
{
    agg *a = into->state, *b = from->state;
    a->count += b->count;
    if (b->first < a->first)
        a->first = b->first;
    if (b->last > a->last)
        a->last = b->last;
    free(b);
}

static wire_session *add(wire_session_set *s, int64_t ts, int64_t gap, int64_t L, int64_t wb)
{
    wire_session *x = wire_sessions_add(s, ts, gap, L, wb, merge, NULL);
    if (x) {
        if (!x->state) {
            agg *a = wire_xcalloc(1, sizeof(*a));
            a->first = a->last = ts;
            x->state = a;
        }
        agg *a = x->state;
        a->count++;
        if (ts < a->first)
            a->first = ts;
        if (ts > a->last)
            a->last = ts;
    }
    return x;
}

typedef struct out {
    int64_t start[4096], end[4096];
    long count[4096];
    size_t n;
} out;

static void emit(void *arg, wire_session *s)
{
    out *o = arg;
    agg *a = s->state;
    o->start[o->n] = s->start;
    o->end[o->n] = s->end;
    o->count[o->n++] = a->count;
    free(a);
}

TEST(sessions_touching_merge_and_lateness)
{
    wire_session_set s;
    wire_sessions_init(&s);
    out o = {.n = 0};
    add(&s, 1000, 500, 0, WIRE_TIME_MIN);
    add(&s, 1500, 500, 0, WIRE_TIME_MIN); /* exactly gap apart: one session */
    CHECK_EQ_INT(s.n, 1);
    add(&s, 3000, 500, 0, WIRE_TIME_MIN);
    CHECK_EQ_INT(s.n, 2);
    add(&s, 2500, 500, 0, WIRE_TIME_MIN); /* [2500, 3000) touches [3000, 3500) only */
    CHECK_EQ_INT(s.n, 2);
    add(&s, 2000, 500, 0, WIRE_TIME_MIN); /* [2000, 2500) bridges both: [1000, 3500) */
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_INT(s.v[0].start, 1000);
    CHECK_EQ_INT(s.v[0].end, 3500);
    /* a late event that touches an open session is merged before the lateness check */
    CHECK(add(&s, 500, 500, 0, 5000) != NULL);
    CHECK_EQ_INT(s.v[0].start, 500);
    /* a lone late event: dropped iff ts + gap + L <= W_before */
    CHECK(add(&s, 10000, 500, 0, 10500) == NULL);
    CHECK(add(&s, 10000, 500, 0, 10499) != NULL);
    CHECK(add(&s, 20000, 500, 100, 20599) != NULL);
    CHECK(add(&s, 30000, 500, 100, 30600) == NULL);
    CHECK_EQ_INT(wire_sessions_close(&s, 3499, 0, emit, &o), 0);
    CHECK_EQ_INT(wire_sessions_close(&s, 3500, 0, emit, &o), 1); /* W_op >= end + L */
    CHECK_EQ_INT(o.count[0], 6);
    CHECK_EQ_INT(o.start[0], 500);
    CHECK_EQ_INT(o.end[0], 3500);
    CHECK_EQ_INT(wire_sessions_close(&s, 20599, 100, emit, &o), 1); /* [10000,10500) */
    CHECK_EQ_INT(wire_sessions_close(&s, WIRE_TIME_MAX, 100, emit, &o), 1);
    CHECK_EQ_INT(s.n, 0);
    wire_sessions_free(&s);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(sessions_equal_the_batch_oracle_under_bounded_disorder)
{
    uint64_t x = 99;
    int bad = 0;
    for (int round = 0; round < 300; round++) {
        int64_t gap = 1 + (int64_t)(round % 7) * 50, disorder = 200;
        size_t n = 50 + (size_t)(round % 5) * 100;
        int64_t ts[600], sorted[600];
        int64_t t = 0;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            t += (int64_t)((x >> 33) % (uint64_t)(3 * gap + 1)); /* gaps around the gap */
            ts[i] = t;
        }
        /* bounded disorder: swap neighbours less than `disorder` apart */
        for (size_t i = 0; i + 1 < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            if ((x >> 60) & 1 && ts[i + 1] - ts[i] < disorder) {
                int64_t tmp = ts[i];
                ts[i] = ts[i + 1];
                ts[i + 1] = tmp;
            }
        }
        memcpy(sorted, ts, n * sizeof(int64_t));
        qsort(sorted, n, sizeof(int64_t), cmp64);
        /* the oracle */
        out want = {.n = 0};
        for (size_t i = 0; i < n; i++) {
            if (want.n && sorted[i] <= want.end[want.n - 1]) {
                want.end[want.n - 1] = sorted[i] + gap;
                want.count[want.n - 1]++;
            } else {
                want.start[want.n] = sorted[i];
                want.end[want.n] = sorted[i] + gap;
                want.count[want.n++] = 1;
            }
        }
        /* streaming: one split, delay covering the disorder, closing as the watermark moves */
        wire_watermarks *w = wire_watermarks_new(disorder, 0);
        wire_session_set s;
        wire_sessions_init(&s);
        out got = {.n = 0};
        size_t dropped = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t wb = wire_watermarks_observe(w, 0, ts[i], 0);
            if (!add(&s, ts[i], gap, 0, wb))
                dropped++;
            wire_sessions_close(&s, wire_watermarks_operator(w, 0), 0, emit, &got);
        }
        wire_watermarks_finish(w, 0);
        wire_sessions_close(&s, wire_watermarks_operator(w, 0), 0, emit, &got);
        bool same = dropped == 0 && got.n == want.n;
        for (size_t i = 0; same && i < got.n; i++)
            same = got.start[i] == want.start[i] && got.end[i] == want.end[i] &&
                   got.count[i] == want.count[i];
        if (!same && bad++ < 3)
            fprintf(stderr, "round %d: %zu sessions (%zu dropped), want %zu\n", round, got.n,
                    dropped, want.n);
        wire_sessions_free(&s);
        wire_watermarks_free(w);
    }
    CHECK_EQ_INT(bad, 0);
}

int main(void)
{
    RUN(sessions_touching_merge_and_lateness);
    RUN(sessions_equal_the_batch_oracle_under_bounded_disorder);
    TEST_MAIN_END();
}
