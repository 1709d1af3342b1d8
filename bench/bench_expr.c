/*
 * bench_expr.c — micro-benchmark of the expression evaluator and the filter
 * and map transforms on ~200-byte JSON events shaped like bench W2/W3 (key
 * order varies, nested objects and arrays, escapes, decoys of
 * "level":"error" inside strings and nested objects). Prints ns/event of
 * thread CPU time, over a cache-warm set about the size of one batch.
 *
 *   bench/bench_expr.sh [FILTER]   (or by hand:)
 *   make MODE=release build/release/libwire.a
 *   cc -O2 -std=gnu11 -D_GNU_SOURCE -Isrc bench/bench_expr.c build/release/libwire.a \
 *      $(pkg-config --libs libpcre2-8) -lpthread -lm -o build/bench_expr && build/bench_expr
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transforms/transforms.h"

#define NEVENTS 8192 /* about what one batch holds: cache-warm, as after ingest */
#define BATCH 1024
#define ROUNDS 250

/* Thread CPU time: other processes sharing the machine do not inflate it. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *gen_events(wire_event *ev, size_t n)
{
    static const char *const hosts[] = {"web-1", "web-2", "db-1", "cache-7"};
    static const char *const levels[] = {"info",  "debug", "warn", "info", "info",
                                         "debug", "info",  "warn", "info"};
    char *buf = malloc(n * 320);
    size_t at = 0;
    unsigned seed = 12345;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245 + 12345;
        unsigned r = seed >> 8;
        const char *level = r % 10 == 0 ? "error" : levels[r % 9];
        const char *host = hosts[r % 4];
        int len;
        switch (r % 4) {
        case 0:
            len = sprintf(buf + at,
                          "{\"ts\":%zu,\"level\":\"%s\",\"host\":\"%s\",\"msg\":\"request "
                          "served in time\",\"latency_ms\":%u,\"path\":\"/api/v1/items\","
                          "\"tags\":[\"a\",\"b\"],\"ctx\":{\"user\":%u,\"level\":\"error\"},"
                          "\"region\":\"eu-west-1\"}",
                          1764402458123 + i, level, host, r % 500, r % 1000);
            break;
        case 1:
            len = sprintf(buf + at,
                          "{\"host\": \"%s\", \"msg\": \"quoted \\\"level\\\":\\\"error\\\" "
                          "text\", \"level\": \"%s\", \"ts\": %zu, \"latency_ms\": %u.5, "
                          "\"user\": {\"id\": %u, \"name\": \"Ren\\u00e9e\"}, \"trace\": "
                          "\"4bf92f3577b34da6\"}",
                          host, level, 1764402458123 + i, r % 500, r % 1000);
            break;
        case 2:
            len = sprintf(buf + at,
                          "{\"msg\":\"caf\xc3\xa9 \xe2\x9c\x93 ok\",\"ts\":%zu,\"latency_ms\":%u,"
                          "\"host\":\"%s\",\"meta\":{\"a\":[1,2,3],\"b\":{\"c\":null}},"
                          "\"level\":\"%s\",\"size\":%u,\"service\":\"checkout\"}",
                          1764402458123 + i, r % 500, host, level, r % 65536);
            break;
        default:
            len = sprintf(buf + at,
                          "{\"level\":\"%s\",\"ts\":%zu,\"host\":\"%s\",\"latency_ms\":%u,"
                          "\"msg\":\"GET /index.html HTTP/1.1 200 OK from 10.0.0.%u\","
                          "\"agent\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"ok\":true}",
                          level, 1764402458123 + i, host, r % 500, r % 255);
            break;
        }
        ev[i].data = buf + at;
        ev[i].len = (uint32_t)len;
        ev[i].flags = 0;
        at += (size_t)len;
    }
    return buf;
}

static const char *only; /* argv[1]: run only benchmarks whose name contains it */

static void bench_transform(const char *name, const wire_transform_def *d, void *cfg,
                            const wire_event *ev, size_t n)
{
    void *inst;
    wire_err err;
    if (only && !strstr(name, only))
        return;
    if (d->base.create(&inst, cfg, &err) != 0) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        exit(1);
    }
    wire_batch *b = wire_batch_new(256 * 1024);
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    uint64_t kept = 0, bytes = 0;
    int64_t t0 = cpu_ns();
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < n; i += BATCH) {
            size_t m = n - i < BATCH ? n - i : BATCH;
            wire_batch_clear(b);
            for (size_t j = 0; j < m; j++)
                wire_batch_push(b, ev[i + j].data, ev[i + j].len);
            d->process(inst, b, &ctx);
            kept += b->n;
            for (uint32_t j = 0; j < b->n; j++)
                bytes += b->ev[j].len;
        }
    }
    int64_t t1 = cpu_ns();
    double total = (double)n * ROUNDS;
    printf("%-44s %7.1f ns/event  %6.2f M events/s  kept %.1f%%  out %.0f B/event\n", name,
           (double)(t1 - t0) / total, total / ((double)(t1 - t0) / 1e9) / 1e6,
           100.0 * (double)kept / total, kept ? (double)bytes / (double)kept : 0.0);
    d->base.destroy(inst);
    wire_batch_free(b);
}

static void bench_eval(const char *src, const wire_event *ev, size_t n)
{
    wire_expr *e;
    wire_err err;
    if (only && !strstr(src, only))
        return;
    if (wire_expr_compile(src, strlen(src), &e, &err) != 0) {
        fprintf(stderr, "%s: %s\n", src, err.msg);
        exit(1);
    }
    wire_arena arena;
    wire_arena_init(&arena, 0);
    wire_eval_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.arena = &arena;
    uint64_t hits = 0;
    int64_t t0 = cpu_ns();
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < n; i++) {
            ctx.ev = &ev[i];
            ctx.cache_gen++;
            hits += wire_expr_eval_bool(e, &ctx, &err) == 1;
        }
        wire_arena_reset(&arena);
    }
    int64_t t1 = cpu_ns();
    double total = (double)n * ROUNDS;
    char label[64];
    snprintf(label, sizeof(label), "eval_bool %.30s", src);
    printf("%-44s %7.1f ns/event  %6.2f M events/s  true %.1f%%\n", label,
           (double)(t1 - t0) / total, total / ((double)(t1 - t0) / 1e9) / 1e6,
           100.0 * (double)hits / total);
    wire_arena_free(&arena);
    wire_expr_free(e);
}

static void set_ptr(const wire_transform_def *d, void *cfg, const char *opt, void *p)
{
    for (const wire_option *o = d->base.options; o->name; o++)
        if (strcmp(o->name, opt) == 0)
            memcpy((char *)cfg + o->offset, &p, sizeof(p));
}

int main(int argc, char **argv)
{
    only = argc > 1 ? argv[1] : NULL;
    wire_event *ev = calloc(NEVENTS, sizeof(*ev));
    char *buf = gen_events(ev, NEVENTS);
    size_t total = 0;
    for (size_t i = 0; i < NEVENTS; i++)
        total += ev[i].len;
    printf("%d events, %.0f bytes/event on average, %d rounds\n", NEVENTS, (double)total / NEVENTS,
           ROUNDS);
    wire_err err;

    bench_eval("level = 'error'", ev, NEVENTS);
    bench_eval("level = 'error' AND latency_ms > 100", ev, NEVENTS);
    bench_eval("level IN ('warn', 'error') OR msg LIKE '%timeout%'", ev, NEVENTS);
    bench_eval("msg ~ 'HTTP/1\\.[01] [45]'", ev, NEVENTS);

    const wire_transform_def *f = &wire_transform_filter;
    void *fcfg = calloc(1, f->base.config_size);
    wire_expr *where;
    wire_expr_compile("level = 'error'", 15, &where, &err);
    set_ptr(f, fcfg, "where", where);
    bench_transform("filter level = 'error'", f, fcfg, ev, NEVENTS);

    const wire_transform_def *m = &wire_transform_map;
    void *mcfg = calloc(1, m->base.config_size);
    const char *sel = "ts, host, msg AS message, latency_ms * 1000 AS latency_us";
    wire_select *s;
    if (wire_select_compile(sel, strlen(sel), &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    set_ptr(m, mcfg, "select", s);
    bench_transform("map ts, host, msg AS message, latency*1000", m, mcfg, ev, NEVENTS);

    wire_expr_free(where);
    wire_select_free(s);
    free(fcfg);
    free(mcfg);
    free(buf);
    free(ev);
    return 0;
}
