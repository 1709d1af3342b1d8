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
#include <string.h>

#include "registry/registry.h"

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
    {0},
};
static const wire_component_def every_src = {.kind = WIRE_KIND_SOURCE,
                                             .type = "src",
                                             .options = every_opts,
                                             .config_size = sizeof(every_cfg)};
static const wire_component_def every_tr = {.kind = WIRE_KIND_TRANSFORM,
                                            .type = "tr",
                                            .options = every_opts,
                                            .config_size = sizeof(every_cfg)};
static const wire_component_def every_sink = {.kind = WIRE_KIND_SINK,
                                              .type = "sink",
                                              .options = every_opts,
                                              .config_size = sizeof(every_cfg),
                                              .caps = WIRE_CAP_EXACTLY_ONCE};
static const wire_component_def *const every_defs[] = {&every_src, &every_tr, &every_sink, NULL};
static const wire_registry every_registry = {every_defs};

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

/*
 * Position-map invariant, checked on documents without '$', tabs, CR, other
 * control characters, a BOM or Unicode line breaks (so lines are split at
 * '\n' only and nothing is substituted): every visible character of a
 * scalar's value sits at the line and column (counted in characters) its
 * map gives, except those produced by a double-quoted escape, which map to
 * the backslash.
 */
static const uint8_t *g_doc;
static size_t g_size;

static void check_positions(const wire_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->npairs; i++) {
        check_positions(c->pairs[i].key);
        check_positions(c->pairs[i].val);
    }
    for (size_t i = 0; i < c->nitems; i++)
        check_positions(c->items[i]);
    if (c->kind != WIRE_CFG_SCALAR && c->kind != WIRE_CFG_NULL)
        return;
    for (size_t k = 0; k < c->len; k++) {
        unsigned char ch = (unsigned char)c->str[k];
        if (ch <= ' ' || ch == 0x7f || (ch & 0xC0) == 0x80)
            continue; /* blanks and continuation bytes */
        size_t clen = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
        if (k + clen > c->len)
            abort();
        int line, col;
        wire_cfg_text_pos(c, k, &line, &col);
        if (line < 1 || col < 1)
            abort();
        size_t off = 0;
        for (int l = 1; l < line && off < g_size; off++)
            if (g_doc[off] == '\n')
                l++;
        for (int cc = 1; cc < col && off < g_size; cc++) { /* one character per column */
            off++;
            while (off < g_size && (g_doc[off] & 0xC0) == 0x80)
                off++;
        }
        if (off >= g_size)
            abort();
        if (g_doc[off] != '\\' && (off + clen > g_size || memcmp(g_doc + off, c->str + k, clen)))
            abort();
    }
}

static bool simple_text(const uint8_t *data, size_t size)
{
    if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
        return false;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '$' || data[i] == '\t' || data[i] == '\r' || data[i] == 0x7f ||
            (data[i] < ' ' && data[i] != '\n'))
            return false;
        if (data[i] == 0xC2 && i + 1 < size && data[i + 1] == 0x85)
            return false; /* NEL */
        if (data[i] == 0xE2 && i + 2 < size && data[i + 1] == 0x80 &&
            (data[i + 2] == 0xA8 || data[i + 2] == 0xA9))
            return false; /* LS, PS */
    }
    return true;
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
    if (c && simple_text(data, size)) {
        g_doc = data;
        g_size = size;
        check_positions(c);
    }
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
