/*
 * bench_json.c — throughput of the JSON scanner on event-like lines: validate,
 * top-level lookups (`level`, and a key that is absent so the whole object is
 * skipped), a nested lookup, and cJSON's parse of the same lines for scale.
 * Built and run by bench/bench_json.sh; prints figures, never verdicts.
 *
 *   bench_json [LINES] [ROUNDS] [ONLY]     ONLY: validate|get|absent|nested|both|cjson
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned rn(rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

/*
 * One line like W2's: about 200 bytes, key order varies, some spacing after
 * ':' and ',', nested objects and arrays, escaped quotes, \u escapes, raw
 * UTF-8, and `"level":"error"` as a decoy inside strings and nested objects.
 */
static void gen_line(wire_buf *b, rng *r)
{
    static const char *const levels[] = {"debug", "info", "info", "info", "warn", "error"};
    static const char *const msgs[] = {"user logged in",
                                       "payment \\\"declined\\\" by issuer",
                                       "GET /api/v1/orders?id=42 took longer than expected",
                                       "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                                       "e \xe2\x82\xac 4.50",
                                       "retrying \\\"level\\\":\\\"error\\\" upstream",
                                       "cache miss for key \\u0041BC-\\u00e9",
                                       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 ok"};
    const char *sep = rn(r, 4) == 0 ? ", " : ",";
    const char *col = rn(r, 4) == 0 ? ": " : ":";
    char f[6][160];
    snprintf(f[0], sizeof f[0], "\"ts\"%s\"2026-11-29T07:%02u:%02u.%03uZ\"", col, rn(r, 60),
             rn(r, 60), rn(r, 1000));
    snprintf(f[1], sizeof f[1], "\"host\"%s\"web-%02u.eu-west-1.internal\"", col, rn(r, 64));
    snprintf(f[2], sizeof f[2], "\"level\"%s\"%s\"", col, levels[rn(r, 6)]);
    snprintf(f[3], sizeof f[3], "\"msg\"%s\"%s\"", col, msgs[rn(r, 7)]);
    snprintf(f[4], sizeof f[4], "\"latency_ms\"%s%u.%u", col, rn(r, 500), rn(r, 10));
    snprintf(f[5], sizeof f[5],
             "\"ctx\"%s{\"user\":{\"id\":%u,\"level\":\"%s\"},\"tags\":[\"a\",\"b\",%u],"
             "\"ok\":%s}",
             col, rn(r, 100000), rn(r, 3) ? "gold" : "error", rn(r, 9),
             rn(r, 2) ? "true" : "false");
    int order[6] = {0, 1, 2, 3, 4, 5};
    for (int i = 5; i > 0; i--) {
        int j = (int)rn(r, (unsigned)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    wire_buf_putc(b, '{');
    for (int i = 0; i < 6; i++) {
        if (i)
            wire_buf_append(b, sep, strlen(sep));
        wire_buf_append(b, f[order[i]], strlen(f[order[i]]));
    }
    wire_buf_append(b, "}\n", 2);
}

/*
 * CPU time of this thread, not wall time: on a shared 2-core machine the
 * process may wait for a core, and that is not the scanner's cost.
 */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct line {
    const char *p;
    size_t n;
} line;

static void report(const char *what, double secs, size_t bytes, size_t lines)
{
    printf("%-34s %8.0f MB/s %8.2f M lines/s %6.1f ns/line\n", what, (double)bytes / secs / 1e6,
           (double)lines / secs / 1e6, secs * 1e9 / (double)lines);
}

int main(int argc, char **argv)
{
    size_t nlines = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    const char *only = argc > 3 ? argv[3] : NULL;
#define WANT(x) (!only || strcmp(only, x) == 0)
    rng r = {1};
    wire_buf data;
    wire_buf_init(&data);
    for (size_t i = 0; i < nlines; i++)
        gen_line(&data, &r);
    line *lines = malloc(nlines * sizeof(*lines));
    const char *p = data.p;
    for (size_t i = 0; i < nlines; i++) {
        const char *nl = memchr(p, '\n', (size_t)(data.p + data.len - p));
        lines[i].p = p;
        lines[i].n = (size_t)(nl - p);
        p = nl + 1;
    }
    size_t bytes = data.len - nlines; /* without the newlines */
    printf("%zu lines, %.1f bytes/line average, %d rounds\n", nlines,
           (double)bytes / (double)nlines, rounds);

    size_t bad = 0, hits = 0;
    double t0 = now_s();
    for (int k = 0; k < rounds * WANT("validate"); k++)
        for (size_t i = 0; i < nlines; i++)
            bad += wire_json_validate_object(lines[i].p, lines[i].n, NULL) != 0;
    report("wire validate_object", now_s() - t0, bytes * (size_t)rounds, nlines * (size_t)rounds);
    if (bad)
        printf("  (%zu lines rejected: generator bug)\n", bad);

    wire_json_val v;
    t0 = now_s();
    for (int k = 0; k < rounds * WANT("get"); k++)
        for (size_t i = 0; i < nlines; i++)
            hits += wire_json_get(lines[i].p, lines[i].n, "level", 5, &v) &&
                    wire_json_str_eq(v.p + 1, v.n - 2, "error", 5);
    report("wire get level = 'error'", now_s() - t0, bytes * (size_t)rounds,
           nlines * (size_t)rounds);
    printf("  (%.1f%% of lines match)\n", 100.0 * (double)hits / (double)nlines / rounds);

    t0 = now_s();
    for (int k = 0; k < rounds * WANT("absent"); k++)
        for (size_t i = 0; i < nlines; i++)
            hits += wire_json_get(lines[i].p, lines[i].n, "absent", 6, &v);
    report("wire get absent key (full skip)", now_s() - t0, bytes * (size_t)rounds,
           nlines * (size_t)rounds);

    t0 = now_s();
    for (int k = 0; k < rounds * WANT("nested"); k++)
        for (size_t i = 0; i < nlines; i++) {
            wire_json_val c, u;
            if (wire_json_get(lines[i].p, lines[i].n, "ctx", 3, &c) &&
                wire_json_get(c.p, c.n, "user", 4, &u))
                hits += wire_json_get(u.p, u.n, "id", 2, &v);
        }
    report("wire get ctx.user.id", now_s() - t0, bytes * (size_t)rounds, nlines * (size_t)rounds);

    t0 = now_s();
    for (int k = 0; k < rounds * WANT("both"); k++)
        for (size_t i = 0; i < nlines; i++) {
            if (wire_json_validate_object(lines[i].p, lines[i].n, NULL) == 0 &&
                wire_json_get(lines[i].p, lines[i].n, "level", 5, &v))
                hits++;
        }
    report("wire validate + get level", now_s() - t0, bytes * (size_t)rounds,
           nlines * (size_t)rounds);

    /* cJSON needs NUL-terminated input: parse from a copy with NULs for newlines. */
    char *copy = malloc(data.len);
    memcpy(copy, data.p, data.len);
    for (size_t i = 0; i < nlines; i++)
        copy[lines[i].p - data.p + (ptrdiff_t)lines[i].n] = '\0';
    int crounds = rounds / 4 ? rounds / 4 : 1;
    t0 = now_s();
    for (int k = 0; k < crounds * WANT("cjson"); k++)
        for (size_t i = 0; i < nlines; i++) {
            cJSON *j = cJSON_ParseWithLength(copy + (lines[i].p - data.p), lines[i].n);
            hits += j != NULL;
            cJSON_Delete(j);
        }
    report("cJSON parse (+ free)", now_s() - t0, bytes * (size_t)crounds, nlines * (size_t)crounds);

    if (hits == 42)
        printf("\n"); /* keep the loops from being optimised away */
    free(copy);
    free(lines);
    wire_buf_free(&data);
    return 0;
}
