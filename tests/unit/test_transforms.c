/*
 * test_transforms.c — the filter and map transforms on batches: what is kept,
 * removed, rewritten or left byte for byte; counters; on_error policies.
 * Config structs are filled through each transform's option table (offsets),
 * the way the options layer does it, with expressions compiled here.
 */
#include <stddef.h>

#include "test.h"
#include "transforms/transforms.h"

static const wire_option *find_opt(const wire_transform_def *d, const char *name)
{
    for (const wire_option *o = d->base.options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static void set_expr(const wire_transform_def *d, void *cfg, const char *opt, const char *src)
{
    const wire_option *o = find_opt(d, opt);
    CHECK(o && o->type == WIRE_OPT_EXPR);
    wire_expr *e;
    wire_err err;
    CHECK(wire_expr_compile(src, strlen(src), &e, &err) == 0);
    memcpy((char *)cfg + o->offset, &e, sizeof(e));
}

static void set_select(const wire_transform_def *d, void *cfg, const char *src)
{
    const wire_option *o = find_opt(d, "select");
    CHECK(o && o->type == WIRE_OPT_SELECT);
    wire_select *s;
    wire_err err;
    int rc = wire_select_compile(src, strlen(src), &s, &err);
    if (rc)
        fprintf(stderr, "select: %s\n", err.msg);
    CHECK(rc == 0);
    memcpy((char *)cfg + o->offset, &s, sizeof(s));
}

static char *drop_v[8];
static char *ren_k[8], *ren_v[8];

static void set_drop(const wire_transform_def *d, void *cfg, const char *a, const char *b)
{
    const wire_option *o = find_opt(d, "drop");
    CHECK(o && o->type == WIRE_OPT_STRLIST);
    wire_strlist l = {drop_v, 0};
    drop_v[l.n++] = (char *)a;
    if (b)
        drop_v[l.n++] = (char *)b;
    memcpy((char *)cfg + o->offset, &l, sizeof(l));
}

static void set_rename(const wire_transform_def *d, void *cfg, const char *const *pairs, size_t n)
{
    const wire_option *o = find_opt(d, "rename");
    CHECK(o && o->type == WIRE_OPT_STRMAP);
    wire_strmap m = {ren_k, ren_v, n};
    for (size_t i = 0; i < n; i++) {
        ren_k[i] = (char *)pairs[2 * i];
        ren_v[i] = (char *)pairs[2 * i + 1];
    }
    memcpy((char *)cfg + o->offset, &m, sizeof(m));
}

static void free_config(const wire_transform_def *d, void *cfg)
{
    for (const wire_option *o = d->base.options; o->name; o++) {
        void *p;
        memcpy(&p, (char *)cfg + o->offset, sizeof(p));
        if (o->type == WIRE_OPT_EXPR)
            wire_expr_free(p);
        else if (o->type == WIRE_OPT_SELECT)
            wire_select_free(p);
    }
    free(cfg);
}

static wire_batch *batch_of(const char *const *lines, size_t n)
{
    wire_batch *b = wire_batch_new(0);
    for (size_t i = 0; i < n; i++) {
        wire_event *e = wire_batch_push(b, lines[i], (uint32_t)strlen(lines[i]));
        e->offset = i;
    }
    return b;
}

static int ev_is(const wire_event *e, const char *s)
{
    if (e->len == strlen(s) && memcmp(e->data, s, e->len) == 0)
        return 1;
    fprintf(stderr, "  event is: %.*s\n  expected: %s\n", (int)e->len, e->data, s);
    return 0;
}

/* ---- the engine's per-event loop ---- */

/* Keeps events whose text has 'k', removes those with 'r', fails on 'x'. */
static int step_by_letter(void *self, wire_eval_ctx *ec, wire_event *ev, wire_batch *b, char *msg,
                          size_t msg_size)
{
    (*(int *)self)++;
    if (memchr(ev->data, 'x', ev->len)) {
        snprintf(msg, msg_size, "bad event %llu", (unsigned long long)ev->offset);
        return WIRE_EINVAL;
    }
    return memchr(ev->data, 'k', ev->len) ? 1 : 0;
}

TEST(transform_each_compacts_and_applies_policy)
{
    static const char *const lines[] = {"{\"a\":\"k1\"}", "{\"a\":\"r\"}", "{\"a\":\"x\"}",
                                        "{\"a\":\"k22\"}"};
    wire_stage_stats st = {0};
    wire_transform_ctx ctx;
    int calls = 0;
    /* drop: the failing event goes, the others are decided */
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    ctx.stats = &st;
    wire_batch *b = batch_of(lines, 4);
    CHECK_EQ_INT(wire_transform_each(&ctx, b, step_by_letter, &calls), 0);
    CHECK_EQ_INT(calls, 4);
    CHECK_EQ_INT(b->n, 2);
    CHECK(ev_is(&b->ev[0], lines[0]) && ev_is(&b->ev[1], lines[3]));
    CHECK_EQ_INT(b->bytes, strlen(lines[0]) + strlen(lines[3]));
    CHECK_EQ_INT(atomic_load(&st.filtered), 1);
    CHECK_EQ_INT(atomic_load(&st.dropped), 1);
    CHECK_EQ_STR(ctx.last_error, "bad event 2");
    wire_batch_free(b);
    /* fail: stops at the failing event and keeps it and the rest, in order */
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_FAIL, 1);
    calls = 0;
    b = batch_of(lines, 4);
    CHECK_EQ_INT(wire_transform_each(&ctx, b, step_by_letter, &calls), WIRE_EPERM);
    CHECK_EQ_INT(calls, 3);
    CHECK_EQ_INT(b->n, 3);
    CHECK(ev_is(&b->ev[0], lines[0]) && ev_is(&b->ev[1], lines[2]) && ev_is(&b->ev[2], lines[3]));
    CHECK_EQ_INT(b->bytes, strlen(lines[0]) + strlen(lines[2]) + strlen(lines[3]));
    wire_batch_free(b);
}

/* ---- filter ---- */

TEST(filter_keeps_matching)
{
    const wire_transform_def *d = &wire_transform_filter;
    void *cfg = calloc(1, d->base.config_size);
    set_expr(d, cfg, "where", "level = 'error'");
    void *f;
    wire_err err;
    CHECK(d->base.create(&f, cfg, NULL, &err) == 0);
    static const char *const lines[] = {
        "{\"level\":\"error\",\"n\":1}",
        "{\"level\":\"info\",\"msg\":\"\\\"level\\\":\\\"error\\\"\"}",
        "{\"ctx\":{\"level\":\"error\"},\"level\":\"debug\"}",
        "{\"n\":3, \"level\" : \"error\"}",
        "{\"level\":\"ERROR\"}",
        "{}",
        "{\"level\":\"err\\u006fr\"}",
    };
    wire_batch *b = batch_of(lines, 7);
    wire_stage_stats stats;
    memset(&stats, 0, sizeof(stats));
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    ctx.stats = &stats;
    CHECK(d->process(f, b, &ctx) == 0);
    CHECK_EQ_INT(b->n, 3);
    /* kept events are untouched: same bytes, same pointer, not modified */
    CHECK(b->ev[0].data == lines[0] && b->ev[0].flags == 0);
    CHECK(b->ev[1].data == lines[3] && b->ev[1].offset == 3);
    CHECK(b->ev[2].data == lines[6]);
    CHECK_EQ_INT(b->bytes, strlen(lines[0]) + strlen(lines[3]) + strlen(lines[6]));
    CHECK_EQ_INT(stats.filtered, 4);
    CHECK_EQ_INT(stats.errors, 0);
    CHECK_EQ_INT(ctx.event_errors, 0);
    /* a second batch through the same instance (field cache across batches) */
    wire_batch *b2 = batch_of(lines + 4, 3);
    CHECK(d->process(f, b2, &ctx) == 0);
    CHECK_EQ_INT(b2->n, 1);
    CHECK(b2->ev[0].data == lines[6]);
    CHECK_EQ_INT(stats.filtered, 6);
    wire_batch_free(b2);
    wire_batch_free(b);
    d->base.destroy(f);
    free_config(d, cfg);
}

TEST(filter_complex_and_empty)
{
    const wire_transform_def *d = &wire_transform_filter;
    void *cfg = calloc(1, d->base.config_size);
    set_expr(d, cfg, "where",
             "level IN ('warn', 'error') AND (latency_ms > 100 OR msg LIKE '%timeout%')");
    void *f;
    wire_err err;
    CHECK(d->base.create(&f, cfg, NULL, &err) == 0);
    static const char *const lines[] = {
        "{\"level\":\"warn\",\"latency_ms\":150}",
        "{\"level\":\"warn\",\"latency_ms\":50,\"msg\":\"ok\"}",
        "{\"level\":\"error\",\"msg\":\"db timeout after 5s\"}",
        "{\"level\":\"info\",\"latency_ms\":500}",
        "{\"level\":\"error\"}",
    };
    wire_batch *b = batch_of(lines, 5);
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    CHECK(d->process(f, b, &ctx) == 0);
    CHECK_EQ_INT(b->n, 2);
    CHECK(b->ev[0].data == lines[0]);
    CHECK(b->ev[1].data == lines[2]);
    /* an empty batch is fine */
    wire_batch *e = wire_batch_new(0);
    CHECK(d->process(f, e, &ctx) == 0);
    CHECK_EQ_INT(e->n, 0);
    wire_batch_free(e);
    wire_batch_free(b);
    d->base.destroy(f);
    free_config(d, cfg);
}

TEST(filter_errors)
{
    const wire_transform_def *d = &wire_transform_filter;
    void *cfg = calloc(1, d->base.config_size);
    void *f = NULL;
    wire_err err;
    CHECK(d->base.create(&f, cfg, NULL, &err) == WIRE_EINVAL);
    CHECK(strstr(err.msg, "'where' is required") != NULL);
    set_expr(d, cfg, "where", "n * 2 > 5");
    CHECK(d->base.create(&f, cfg, NULL, &err) == 0);
    static const char *const lines[] = {
        "{\"n\":3}",
        "{\"n\":\"three\"}",
        "{\"n\":1}",
        "{\"n\":4}",
    };
    wire_stage_stats stats;
    memset(&stats, 0, sizeof(stats));
    /* on_error drop: the bad event is removed and counted, the rest goes on */
    wire_batch *b = batch_of(lines, 4);
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    ctx.stats = &stats;
    CHECK(d->process(f, b, &ctx) == 0);
    CHECK_EQ_INT(b->n, 2);
    CHECK(b->ev[0].data == lines[0] && b->ev[1].data == lines[3]);
    CHECK_EQ_INT(ctx.event_errors, 1);
    CHECK_EQ_INT(stats.errors, 1);
    CHECK_EQ_INT(stats.dropped, 1);
    CHECK_EQ_INT(stats.filtered, 1);
    CHECK(strstr(ctx.last_error, "filter: where 'n * 2 > 5': operator * needs numbers, got "
                                 "string and integer") != NULL);
    wire_batch_free(b);
    /* on_error fail: the batch fails */
    b = batch_of(lines, 4);
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_FAIL, 1);
    CHECK(d->process(f, b, &ctx) == WIRE_EPERM);
    CHECK_EQ_INT(ctx.event_errors, 1);
    wire_batch_free(b);
    d->base.destroy(f);
    free_config(d, cfg);
}

/* ---- map ---- */

static void run_map(void *cfg, const char *const *lines, size_t n, wire_batch **out,
                    wire_transform_ctx *ctx, void **inst)
{
    const wire_transform_def *d = &wire_transform_map;
    wire_err err;
    int rc = d->base.create(inst, cfg, NULL, &err);
    CHECK(rc == 0);
    *out = batch_of(lines, n);
    CHECK(d->process(*inst, *out, ctx) == 0);
}

TEST(map_select)
{
    const wire_transform_def *d = &wire_transform_map;
    void *cfg = calloc(1, d->base.config_size);
    set_select(d, cfg, "ts, host, msg AS message, latency_ms * 1000 AS latency_us");
    static const char *const lines[] = {
        "{\"ts\":1,\"host\":\"a\",\"msg\":\"hi \\\"there\\\"\",\"latency_ms\":12,\"x\":[1]}",
        "{\"latency_ms\":1.5,\"host\":\"b\\u00e9\",\"ts\":\"2026\"}",
        "{}",
    };
    wire_batch *b;
    void *m;
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    run_map(cfg, lines, 3, &b, &ctx, &m);
    CHECK_EQ_INT(b->n, 3);
    CHECK(ev_is(&b->ev[0], "{\"ts\":1,\"host\":\"a\",\"message\":\"hi \\\"there\\\"\","
                           "\"latency_us\":12000}"));
    CHECK(ev_is(&b->ev[1], "{\"ts\":\"2026\",\"host\":\"b\\u00e9\",\"message\":null,"
                           "\"latency_us\":1500.0}"));
    CHECK(ev_is(&b->ev[2], "{\"ts\":null,\"host\":null,\"message\":null,\"latency_us\":null}"));
    for (int i = 0; i < 3; i++)
        CHECK(b->ev[i].flags & WIRE_EV_MODIFIED);
    size_t total = 0;
    for (uint32_t i = 0; i < b->n; i++)
        total += b->ev[i].len;
    CHECK_EQ_INT(b->bytes, total);
    /* the output is valid JSON */
    for (uint32_t i = 0; i < b->n; i++)
        CHECK(wire_json_validate_object(b->ev[i].data, b->ev[i].len, NULL) == 0);
    wire_batch_free(b);
    d->base.destroy(m);
    free_config(d, cfg);
}

TEST(map_copies_fields_verbatim)
{
    /* bare fields are copied as their JSON text: numbers keep their form */
    const wire_transform_def *d = &wire_transform_map;
    void *cfg = calloc(1, d->base.config_size);
    set_select(d, cfg, "x, y, s, o.p AS p, missing, x + 0 AS x0");
    static const char *const lines[] = {
        "{\"x\":1.50,\"y\":1E3,\"s\":\"\\u00e9\\/\",\"o\":{\"p\":[1, 2]}}",
    };
    wire_batch *b;
    void *m;
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    run_map(cfg, lines, 1, &b, &ctx, &m);
    CHECK(ev_is(&b->ev[0], "{\"x\":1.50,\"y\":1E3,\"s\":\"\\u00e9\\/\",\"p\":[1, 2],"
                           "\"missing\":null,\"x0\":1.5}"));
    wire_batch_free(b);
    d->base.destroy(m);
    free_config(d, cfg);
}

TEST(map_star)
{
    const wire_transform_def *d = &wire_transform_map;
    void *cfg = calloc(1, d->base.config_size);
    set_select(d, cfg, "*, upper(level) AS level, n + 1 AS n1, `new key`");
    static const char *const lines[] = {
        "{\"b\":1, \"level\" : \"warn\",\"a\":{\"x\":[1,2]}, \"n\":41}",
        "{\"k\\u0041\":true,\"new key\":5}",
    };
    wire_batch *b;
    void *m;
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    run_map(cfg, lines, 2, &b, &ctx, &m);
    CHECK_EQ_INT(b->n, 2);
    /* input order kept, level replaced in place, new fields appended */
    CHECK(ev_is(&b->ev[0], "{\"b\":1,\"level\":\"WARN\",\"a\":{\"x\":[1,2]},\"n\":41,"
                           "\"n1\":42,\"new key\":null}"));
    CHECK(ev_is(&b->ev[1], "{\"k\\u0041\":true,\"new key\":5,\"level\":null,\"n1\":null}"));
    wire_batch_free(b);
    d->base.destroy(m);
    free_config(d, cfg);
}

TEST(map_drop_rename_only)
{
    const wire_transform_def *d = &wire_transform_map;
    void *cfg = calloc(1, d->base.config_size);
    set_drop(d, cfg, "secret", "tmp");
    static const char *const pairs[] = {"msg", "message", "a", "b", "b", "a"};
    set_rename(d, cfg, pairs, 3);
    static const char *const lines[] = {
        "{\"x\":1,\"y\":{\"secret\":2}}",                /* unchanged */
        "{\"x\":1,\"secret\":\"s\",\"tmp\":[],\"z\":2}", /* drop */
        "{\"msg\":\"hi\",\"message\":\"old\",\"t\":1}",  /* rename wins */
        "{\"a\":1,\"b\":2}",                             /* swap */
        "{\"m\\u0073g\":\"escaped key\"}",               /* key compared unescaped */
        "{\"message\":\"stays\"}",                       /* no source: kept */
    };
    wire_batch *b;
    void *m;
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    run_map(cfg, lines, 6, &b, &ctx, &m);
    CHECK_EQ_INT(b->n, 6);
    CHECK(b->ev[0].data == lines[0] && b->ev[0].flags == 0);
    CHECK(ev_is(&b->ev[1], "{\"x\":1,\"z\":2}"));
    CHECK(ev_is(&b->ev[2], "{\"message\":\"hi\",\"t\":1}"));
    CHECK(ev_is(&b->ev[3], "{\"b\":1,\"a\":2}"));
    CHECK(ev_is(&b->ev[4], "{\"message\":\"escaped key\"}"));
    CHECK(b->ev[5].data == lines[5] && b->ev[5].flags == 0);
    wire_batch_free(b);
    d->base.destroy(m);
    free_config(d, cfg);
}

TEST(map_select_then_drop_rename)
{
    const wire_transform_def *d = &wire_transform_map;
    void *cfg = calloc(1, d->base.config_size);
    set_select(d, cfg, "*, lower(msg) AS lmsg");
    set_drop(d, cfg, "msg", NULL);
    static const char *const pairs[] = {"lmsg", "msg"};
    set_rename(d, cfg, pairs, 1);
    static const char *const lines[] = {"{\"msg\":\"HeLLo\",\"n\":1}"};
    wire_batch *b;
    void *m;
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    run_map(cfg, lines, 1, &b, &ctx, &m);
    CHECK(ev_is(&b->ev[0], "{\"n\":1,\"msg\":\"hello\"}"));
    wire_batch_free(b);
    d->base.destroy(m);
    free_config(d, cfg);
}

TEST(map_errors)
{
    const wire_transform_def *d = &wire_transform_map;
    void *cfg = calloc(1, d->base.config_size);
    void *m = NULL;
    wire_err err;
    CHECK(d->base.create(&m, cfg, NULL, &err) == WIRE_EINVAL);
    CHECK(strstr(err.msg, "at least one of") != NULL);
    set_select(d, cfg, "id, n * 2 AS n2");
    static const char *const lines[] = {"{\"id\":1,\"n\":2}", "{\"id\":2,\"n\":\"x\"}",
                                        "{\"id\":3,\"n\":3}"};
    wire_batch *b;
    wire_stage_stats stats;
    memset(&stats, 0, sizeof(stats));
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    ctx.stats = &stats;
    run_map(cfg, lines, 3, &b, &ctx, &m);
    CHECK_EQ_INT(b->n, 2);
    CHECK(ev_is(&b->ev[0], "{\"id\":1,\"n2\":4}"));
    CHECK(ev_is(&b->ev[1], "{\"id\":3,\"n2\":6}"));
    CHECK_EQ_INT(stats.errors, 1);
    CHECK(strstr(ctx.last_error, "map: select item 'n * 2': operator * needs numbers") != NULL);
    wire_batch_free(b);
    d->base.destroy(m);
    /* fail policy */
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_FAIL, 1);
    CHECK(d->base.create(&m, cfg, NULL, &err) == 0);
    b = batch_of(lines, 3);
    CHECK(d->process(m, b, &ctx) == WIRE_EPERM);
    wire_batch_free(b);
    d->base.destroy(m);
    free_config(d, cfg);
}

TEST(map_wide_and_many)
{
    /* an event wider than the entry scratch, and many events in one batch */
    const wire_transform_def *d = &wire_transform_map;
    void *cfg = calloc(1, d->base.config_size);
    set_select(d, cfg, "*, f7 + 1 AS g");
    wire_buf wide;
    wire_buf_init(&wide);
    wire_buf_putc(&wide, '{');
    for (int i = 0; i < 200; i++)
        wire_buf_printf(&wide, "%s\"f%d\":%d", i ? "," : "", i, i);
    wire_buf_putc(&wide, '}');
    const char *lines[3000];
    for (int i = 0; i < 3000; i++)
        lines[i] = i % 2 ? wide.p : "{\"f7\":1}";
    wire_batch *b;
    void *m;
    wire_transform_ctx ctx;
    wire_transform_ctx_init(&ctx, WIRE_ON_ERROR_DROP, 1);
    run_map(cfg, lines, 3000, &b, &ctx, &m);
    CHECK_EQ_INT(b->n, 3000);
    CHECK(ev_is(&b->ev[0], "{\"f7\":1,\"g\":2}"));
    CHECK_EQ_INT(b->ev[1].len, wide.len - 1 + strlen(",\"g\":8}"));
    CHECK(memcmp(b->ev[1].data + b->ev[1].len - 7, ",\"g\":8}", 7) == 0);
    wire_batch_free(b);
    wire_buf_free(&wide);
    d->base.destroy(m);
    free_config(d, cfg);
}

int main(void)
{
    RUN(transform_each_compacts_and_applies_policy);
    RUN(filter_keeps_matching);
    RUN(filter_complex_and_empty);
    RUN(filter_errors);
    RUN(map_select);
    RUN(map_copies_fields_verbatim);
    RUN(map_star);
    RUN(map_drop_rename_only);
    RUN(map_select_then_drop_rename);
    RUN(map_errors);
    RUN(map_wide_and_many);
    TEST_MAIN_END();
}
