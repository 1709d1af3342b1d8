/*
 * fuzz_config.c — libFuzzer target: arbitrary bytes as a pipeline document
 * through the whole config path (libyaml, position maps, ${ENV}
 * substitution, option tables, expression compiler, spec checks) with the
 * default registry. Whatever the input, loading must not crash, leak or
 * misbehave under ASan/UBSan, and must either yield a spec or diagnostics.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "connectors/connectors.h"

/* A registry with one option of every type, so that options.c is covered
   whatever connectors exist. Type names: src, tr, sink. */
typedef struct every_cfg {
    char *s;
    int64_t i;
    double d;
    bool b;
    int64_t dur, size;
    int e;
    wire_expr *x;
    wire_select *sel;
    wire_strlist l;
    wire_strmap m;
    char *j;
} every_cfg;

static const wire_option every_opts[] = {
    {"s", WIRE_OPT_STRING, "x", 0, offsetof(every_cfg, s), NULL, ""},
    {"i", WIRE_OPT_INT, "1", 0, offsetof(every_cfg, i), NULL, ""},
    {"d", WIRE_OPT_DOUBLE, "1.5", 0, offsetof(every_cfg, d), NULL, ""},
    {"b", WIRE_OPT_BOOL, "true", 0, offsetof(every_cfg, b), NULL, ""},
    {"dur", WIRE_OPT_DURATION, "1s", 0, offsetof(every_cfg, dur), NULL, ""},
    {"size", WIRE_OPT_SIZE, "1KB", 0, offsetof(every_cfg, size), NULL, ""},
    {"e", WIRE_OPT_ENUM, "a", 0, offsetof(every_cfg, e), "a|b|c", ""},
    {"x", WIRE_OPT_EXPR, "a = 1", 0, offsetof(every_cfg, x), NULL, ""},
    {"sel", WIRE_OPT_SELECT, "a, b AS c", 0, offsetof(every_cfg, sel), NULL, ""},
    {"l", WIRE_OPT_STRLIST, "a,b", 0, offsetof(every_cfg, l), NULL, ""},
    {"m", WIRE_OPT_STRMAP, "{k: v}", 0, offsetof(every_cfg, m), NULL, ""},
    {"j", WIRE_OPT_JSON, "[1]", 0, offsetof(every_cfg, j), NULL, ""},
    {"r", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(every_cfg, s), NULL, ""},
    {NULL},
};
static const wire_source_def every_src = {
    .type = "src", .options = every_opts, .config_size = sizeof(every_cfg)};
static const wire_transform_def every_tr = {
    .type = "tr", .options = every_opts, .config_size = sizeof(every_cfg)};
static const wire_sink_def every_sink = {.type = "sink",
                                         .options = every_opts,
                                         .config_size = sizeof(every_cfg),
                                         .caps = WIRE_CAP_EXACTLY_ONCE};
static const wire_source_def *const every_srcs[] = {&every_src, NULL};
static const wire_transform_def *const every_trs[] = {&every_tr, NULL};
static const wire_sink_def *const every_sinks[] = {&every_sink, NULL};
static const wire_registry every_registry = {every_srcs, every_trs, every_sinks};

static void load_spec(const wire_registry *r, const uint8_t *data, size_t size)
{
    wire_diags d = {0};
    wire_pipeline_spec *s = NULL;
    int rc = wire_spec_load_mem(r, "fuzz.yaml", (const char *)data, size, &s, &d);
    if ((rc == 0) != (s != NULL) || (rc == 0 && d.n != 0) || (rc != 0 && d.n == 0))
        abort(); /* the contract: a spec and no problems, or problems and no spec */
    for (size_t i = 0; i < d.n; i++)
        if (d.v[i].line < 0 || d.v[i].col < 0 || !d.v[i].msg[0])
            abort();
    wire_spec_free(s);
    wire_diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int env_done;
    if (!env_done) {
        /* Give ${VAR} references something to find. */
        setenv("WIRE_FUZZ", "level = 'error'", 1);
        setenv("WIRE_FUZZ_EMPTY", "", 1);
        env_done = 1;
    }
    load_spec(&wire_default_registry, data, size);
    load_spec(&every_registry, data, size);
    wire_diags d = {0};

    /* The tree alone, and its JSON view. */
    wire_cfg *c = NULL;
    wire_cfg_load_mem("fuzz.yaml", (const char *)data, size, &c, &d);
    if (c) {
        wire_buf b;
        wire_buf_init(&b);
        wire_cfg_to_json(c, &b);
        wire_buf_free(&b);
        wire_cfg_free(c);
    }
    wire_diags_free(&d);
    return 0;
}
