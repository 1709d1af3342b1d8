/*
 * test_options.c — option tables: every type, defaults, and every error
 * message with its position; help output as text and markdown.
 */
#include <stddef.h>
#include <stdlib.h>

#include "core/config.h"
#include "test.h"

typedef struct all_cfg {
    char *path;
    int64_t count;
    double ratio;
    bool follow;
    int64_t linger_ms;
    int64_t max_bytes;
    int mode;
    wire_expr *where;
    wire_select *select;
    wire_strlist drop;
    wire_strmap headers;
    char *tmpl;
} all_cfg;

static const wire_option all_opts[] = {
    {"path", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(all_cfg, path), NULL,
     "File to read."},
    {"count", WIRE_OPT_INT, "10", WIRE_OPT_SIGNED, offsetof(all_cfg, count), NULL, "How many."},
    {"ratio", WIRE_OPT_DOUBLE, "0.5", WIRE_OPT_SIGNED, offsetof(all_cfg, ratio), NULL, "A ratio."},
    {"follow", WIRE_OPT_BOOL, "false", 0, offsetof(all_cfg, follow), NULL, "Follow."},
    {"linger", WIRE_OPT_DURATION, "1s", 0, offsetof(all_cfg, linger_ms), NULL, "Linger."},
    {"max_bytes", WIRE_OPT_SIZE, "1MB", 0, offsetof(all_cfg, max_bytes), NULL, "Budget."},
    {"mode", WIRE_OPT_ENUM, "read", 0, offsetof(all_cfg, mode), "read|tail", "read or tail."},
    {"where", WIRE_OPT_EXPR, NULL, 0, offsetof(all_cfg, where), NULL, "Condition."},
    {"select", WIRE_OPT_SELECT, NULL, 0, offsetof(all_cfg, select), NULL, "Fields."},
    {"drop", WIRE_OPT_STRLIST, "a, b", 0, offsetof(all_cfg, drop), NULL, "Fields to drop."},
    {"headers", WIRE_OPT_STRMAP, "{x-a: 1}", 0, offsetof(all_cfg, headers), NULL, "Headers."},
    {"template", WIRE_OPT_JSON, "{\"seq\": 1}", 0, offsetof(all_cfg, tmpl), NULL, "Template."},
    {0},
};

/* Parse the `config:` map of `doc`; diagnostics joined in `diag`. */
static int parse_doc(const char *doc, all_cfg *out, char *diag, size_t dn)
{
    wire_diags d = {0};
    wire_cfg *c = NULL;
    memset(out, 0, sizeof(*out));
    int rc = wire_cfg_load_mem("o.yaml", doc, strlen(doc), &c, &d);
    if (rc == 0)
        rc = wire_options_parse(all_opts, wire_cfg_get(c, "config"), out, "source 'test'", &d);
    diag[0] = '\0';
    size_t off = 0;
    for (size_t i = 0; i < d.n && off < dn; i++)
        off += (size_t)snprintf(diag + off, dn - off, "%s%s:%d:%d: %s", i ? "\n" : "", d.v[i].file,
                                d.v[i].line, d.v[i].col, d.v[i].msg);
    wire_diags_free(&d);
    wire_cfg_free(c);
    return rc;
}

static const char *errors_of(const char *doc)
{
    static char diag[4096];
    all_cfg o;
    parse_doc(doc, &o, diag, sizeof(diag));
    wire_options_free(all_opts, &o);
    return diag;
}

TEST(defaults)
{
    char diag[1024];
    all_cfg o;
    CHECK_EQ_INT(parse_doc("config: {path: /x}\n", &o, diag, sizeof(diag)), 0);
    CHECK_EQ_STR(diag, "");
    CHECK_EQ_STR(o.path, "/x");
    CHECK_EQ_INT(o.count, 10);
    CHECK(o.ratio == 0.5);
    CHECK(!o.follow);
    CHECK_EQ_INT(o.linger_ms, 1000);
    CHECK_EQ_INT(o.max_bytes, 1048576);
    CHECK_EQ_INT(o.mode, 0);
    CHECK(o.where == NULL);
    CHECK(o.select == NULL);
    CHECK_EQ_INT(o.drop.n, 2);
    CHECK_EQ_STR(o.drop.v[0], "a");
    CHECK_EQ_STR(o.drop.v[1], "b");
    CHECK_EQ_INT(o.headers.n, 1);
    CHECK_EQ_STR(o.headers.keys[0], "x-a");
    CHECK_EQ_STR(o.headers.vals[0], "1");
    CHECK_EQ_STR(o.tmpl, "{\"seq\":1}");
    wire_options_free(all_opts, &o);
    CHECK(o.path == NULL && o.drop.v == NULL && o.tmpl == NULL);
    /* a null value keeps the default */
    CHECK_EQ_INT(parse_doc("config: {path: /x, count: ~, mode: }\n", &o, diag, sizeof(diag)), 0);
    CHECK_EQ_INT(o.count, 10);
    wire_options_free(all_opts, &o);
}

TEST(every_type)
{
    char diag[1024];
    all_cfg o;
    int rc = parse_doc("config:\n"
                       "  path: \"/var/log/a b.log\"\n"
                       "  count: 0x10\n"
                       "  ratio: -2.5e1\n"
                       "  follow: True\n"
                       "  linger: 250ms\n"
                       "  max_bytes: 64KB\n"
                       "  mode: tail\n"
                       "  where: \"level = 'error'\"\n"
                       "  select: ts, host\n"
                       "  drop: [x, y, z]\n"
                       "  headers: {Authorization: Bearer t, X-N: 5}\n"
                       "  template: {a: [1, 'two', 3.0], b: null}\n",
                       &o, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(diag, "");
    CHECK_EQ_STR(o.path, "/var/log/a b.log");
    CHECK_EQ_INT(o.count, 16);
    CHECK(o.ratio == -25.0);
    CHECK(o.follow);
    CHECK_EQ_INT(o.linger_ms, 250);
    CHECK_EQ_INT(o.max_bytes, 65536);
    CHECK_EQ_INT(o.mode, 1);
    CHECK(o.where != NULL);
    CHECK(o.select != NULL);
    CHECK_EQ_INT(o.drop.n, 3);
    CHECK_EQ_STR(o.drop.v[2], "z");
    CHECK_EQ_INT(o.headers.n, 2);
    CHECK_EQ_STR(o.headers.keys[0], "Authorization");
    CHECK_EQ_STR(o.headers.vals[0], "Bearer t");
    CHECK_EQ_STR(o.headers.vals[1], "5");
    CHECK_EQ_STR(o.tmpl, "{\"a\":[1,\"two\",3.0],\"b\":null}");
    wire_options_free(all_opts, &o);

    /* quoted numbers and booleans are accepted (legacy configs are all strings);
       a bare number is a duration in seconds; comma lists are trimmed */
    rc = parse_doc("config: {path: 12, count: \"-7\", ratio: '3', follow: \"FALSE\", linger: 2,"
                   " max_bytes: 512, drop: ' a ,, b ,', select: [ts, 'b AS c'], template: 'x'}",
                   &o, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(diag, "");
    CHECK_EQ_STR(o.path, "12");
    CHECK_EQ_INT(o.count, -7);
    CHECK(o.ratio == 3.0);
    CHECK(!o.follow);
    CHECK_EQ_INT(o.linger_ms, 2000);
    CHECK_EQ_INT(o.max_bytes, 512);
    CHECK_EQ_INT(o.drop.n, 2);
    CHECK_EQ_STR(o.drop.v[0], "a");
    CHECK_EQ_STR(o.drop.v[1], "b");
    CHECK_EQ_STR(o.tmpl, "\"x\"");
    wire_options_free(all_opts, &o);
}

TEST(unknown_and_missing)
{
    CHECK_EQ_STR(errors_of("config: {pth: /x}\n"),
                 "o.yaml:1:10: source 'test': unknown option 'pth' (did you mean 'path'?)\n"
                 "o.yaml:1:9: source 'test': missing required option 'path'");
    CHECK_EQ_STR(errors_of("config:\n  path: /x\n  Mode: tail\n  linger_ms: 5\n"),
                 "o.yaml:3:3: source 'test': unknown option 'Mode' (did you mean 'mode'?)\n"
                 "o.yaml:4:3: source 'test': unknown option 'linger_ms' (did you mean "
                 "'linger'?)");
    CHECK_EQ_STR(errors_of("config: {path: /x, zzzzzz: 1}\n"),
                 "o.yaml:1:20: source 'test': unknown option 'zzzzzz' (options are: path, "
                 "count, ratio, follow, linger, max_bytes, mode, where, select, drop, headers, "
                 "template)");
    CHECK_EQ_STR(errors_of("config: {}\n"),
                 "o.yaml:1:9: source 'test': missing required option 'path'");
    CHECK_EQ_STR(errors_of("config: {path: }\n"),
                 "o.yaml:1:16: source 'test': option 'path' is required: give it a value");
    CHECK_EQ_STR(errors_of("config: [1]\n"),
                 "o.yaml:1:9: source 'test': config must be a map of options, got a list");
    CHECK_EQ_STR(errors_of("config: 5\n"),
                 "o.yaml:1:9: source 'test': config must be a map of options, got a value");

    /* no config at all */
    wire_diags d = {0};
    all_cfg o = {0};
    CHECK_EQ_INT(wire_options_parse(all_opts, NULL, &o, "source 'test'", &d), WIRE_EINVAL);
    CHECK_EQ_INT(d.n, 1);
    CHECK_EQ_STR(d.v[0].msg, "source 'test': missing required option 'path'");
    wire_diags_free(&d);
    wire_options_free(all_opts, &o);

    /* a type without options */
    static const wire_option none[] = {{0}};
    wire_cfg *c = NULL;
    CHECK_EQ_INT(wire_cfg_load_mem("n.yaml", "{a: 1}", 6, &c, &d), 0);
    CHECK_EQ_INT(wire_options_parse(none, c, &o, "sink 'blackhole'", &d), WIRE_EINVAL);
    CHECK_EQ_STR(d.v[0].msg, "sink 'blackhole': unknown option 'a' (this type has no options)");
    wire_cfg_free(c);
    wire_diags_free(&d);
}

TEST(wrong_types)
{
    CHECK_EQ_STR(errors_of("config: {path: [a], count: ten, ratio: 1x, follow: yes}\n"),
                 "o.yaml:1:16: source 'test': option 'path' expects a string, got a list\n"
                 "o.yaml:1:28: source 'test': option 'count' expects an integer, got 'ten'\n"
                 "o.yaml:1:40: source 'test': option 'ratio' expects a number, got '1x'\n"
                 "o.yaml:1:52: source 'test': option 'follow' expects true or false, got 'yes'");
    CHECK_EQ_STR(errors_of("config:\n  path: x\n  linger: soon\n  max_bytes: 5 parsecs\n"),
                 "o.yaml:3:11: source 'test': option 'linger' expects a duration like 500ms, "
                 "10s, 2m or 1h, got 'soon'\n"
                 "o.yaml:4:14: source 'test': option 'max_bytes' expects a size like 512KB, 8MB "
                 "or 1GiB, got '5 parsecs'");
    CHECK_EQ_STR(errors_of("config: {path: '', max_bytes: 1KB}\n"),
                 "o.yaml:1:16: source 'test': option 'path' is required: give it a non-empty "
                 "value");
    CHECK_EQ_STR(errors_of("config: {path: x, mode: follow}\n"),
                 "o.yaml:1:25: source 'test': option 'mode' must be one of read, tail, got "
                 "'follow'");
    CHECK_EQ_STR(errors_of("config: {path: x, mode: {a: 1}}\n"),
                 "o.yaml:1:25: source 'test': option 'mode' must be one of read, tail, got a map");
    CHECK_EQ_STR(errors_of("config: {path: x, count: 99999999999999999999}\n"),
                 "o.yaml:1:26: source 'test': option 'count' expects an integer, got "
                 "'99999999999999999999'");
    CHECK_EQ_STR(errors_of("config: {path: x, ratio: .inf}\n"),
                 "o.yaml:1:26: source 'test': option 'ratio' expects a number, got '.inf'");
    CHECK_EQ_STR(errors_of("config: {path: x, where: [a]}\n"),
                 "o.yaml:1:26: source 'test': option 'where' expects an expression, got a list");
    CHECK_EQ_STR(errors_of("config: {path: x, drop: {a: 1}}\n"),
                 "o.yaml:1:25: source 'test': option 'drop' expects a list of strings (or one "
                 "comma-separated string), got a map");
    CHECK_EQ_STR(errors_of("config: {path: x, drop: [a, [b]]}\n"),
                 "o.yaml:1:29: source 'test': option 'drop' expects a list of strings; this item "
                 "is a list");
    CHECK_EQ_STR(errors_of("config: {path: x, headers: [a]}\n"),
                 "o.yaml:1:28: source 'test': option 'headers' expects a map of strings, got a "
                 "list");
    CHECK_EQ_STR(errors_of("config: {path: x, headers: {a: {b: 1}}}\n"),
                 "o.yaml:1:32: source 'test': option 'headers' expects a map of strings; the "
                 "value of 'a' is a map");
    CHECK_EQ_STR(errors_of("config: {path: x, select: {a: 1}}\n"),
                 "o.yaml:1:27: source 'test': option 'select' expects a select list (a string or "
                 "a list of strings), got a map");
    /* long values are shortened in messages */
    CHECK_EQ_STR(errors_of("config: {path: x, count: "
                           "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee}\n"),
                 "o.yaml:1:26: source 'test': option 'count' expects an integer, got "
                 "'aaaaaaaaaabbbbbbbbbbccccccccccddddddd...'");
    /* every problem is reported, and good values around them are kept */
    char diag[2048];
    all_cfg o;
    CHECK_EQ_INT(parse_doc("config: {path: /ok, count: x, mode: tail}\n", &o, diag, sizeof(diag)),
                 WIRE_EINVAL);
    CHECK_EQ_STR(o.path, "/ok");
    CHECK_EQ_INT(o.mode, 1);
    CHECK_EQ_INT(o.count, 10);
    wire_options_free(all_opts, &o);
}

/*
 * Expression errors point at the character inside the expression. The test
 * build may link the real compiler or a stand-in; both report '?' as an
 * unexpected character at its offset, which is all these tests rely on.
 */
static bool qmark_is_error(void)
{
    wire_expr *e = NULL;
    wire_err err;
    wire_err_clear(&err);
    int rc = wire_expr_compile("a ? b", 5, &e, &err);
    wire_expr_free(e);
    return rc != 0 && err.offset == 2;
}

/* The column of the first diagnostic, with its message after "where': ". */
static const char *expr_errors_of(const char *doc)
{
    static char out[4096];
    const char *e = errors_of(doc);
    snprintf(out, sizeof(out), "%s", e);
    /* keep FILE:LINE:COL and the option, drop the compiler's own wording */
    char *q = strstr(out, "option '");
    q = q ? strstr(q, "': ") : NULL;
    if (q)
        q[2] = '\0';
    return out;
}

TEST(expression_positions)
{
    CHECK(qmark_is_error());
    CHECK_EQ_STR(expr_errors_of("config: {path: x, where: \"a = 1 ? 2\"}\n"),
                 "o.yaml:1:33: source 'test': option 'where':");
    CHECK_EQ_STR(expr_errors_of("config: {path: x, where: a = 1 ? 2}\n"),
                 "o.yaml:1:32: source 'test': option 'where':");
    CHECK_EQ_STR(expr_errors_of("config:\n"
                                "  path: x\n"
                                "  where: |\n"
                                "    a = 1\n"
                                "      AND b ? 2\n"),
                 "o.yaml:5:13: source 'test': option 'where':");
    CHECK_EQ_STR(expr_errors_of("config:\n"
                                "  path: x\n"
                                "  where: \"a = 'it''s' AND\n"
                                "     b ? 2\"\n"),
                 "o.yaml:4:8: source 'test': option 'where':");
    CHECK_EQ_STR(expr_errors_of("config:\n"
                                "  path: x\n"
                                "  where: 'a = ''x'' ? 1'\n"),
                 "o.yaml:3:21: source 'test': option 'where':");
    /* select: a string, or a list whose items each keep their positions */
    CHECK_EQ_STR(expr_errors_of("config: {path: x, select: \"ts, a ? b\"}\n"),
                 "o.yaml:1:34: source 'test': option 'select':");
    CHECK_EQ_STR(expr_errors_of("config:\n"
                                "  path: x\n"
                                "  select:\n"
                                "    - ts\n"
                                "    - host\n"
                                "    - \"x ? 1 AS y\"\n"),
                 "o.yaml:6:10: source 'test': option 'select':");
    /* after ${VAR} substitution the column still points into the file */
    setenv("WIRE_T_FIELD", "latency_ms", 1);
    CHECK_EQ_STR(expr_errors_of("config: {path: x, where: \"${WIRE_T_FIELD} > 1 ? 2\"}\n"),
                 "o.yaml:1:47: source 'test': option 'where':");
    /* the whole message carries the compiler's text */
    const char *full = errors_of("config: {path: x, where: \"a ? b\"}\n");
    CHECK(strncmp(full, "o.yaml:1:29: source 'test': option 'where': ", 44) == 0);
    CHECK(strlen(full) > 44);
}

TEST(bad_defaults_are_reported)
{
    typedef struct {
        int64_t n;
        int m;
    } bad_cfg;
    static const wire_option bad[] = {
        {"n", WIRE_OPT_INT, "ten", 0, offsetof(bad_cfg, n), NULL, ""},
        {"m", WIRE_OPT_ENUM, "c", 0, offsetof(bad_cfg, m), "a|b", ""},
        {0},
    };
    wire_diags d = {0};
    bad_cfg o = {0};
    CHECK_EQ_INT(wire_options_parse(bad, NULL, &o, "sink 'x'", &d), WIRE_EINVAL);
    CHECK_EQ_INT(d.n, 2);
    CHECK_EQ_STR(d.v[0].file, "(default)");
    CHECK_EQ_STR(d.v[0].msg, "sink 'x': option 'n' expects an integer, got 'ten'");
    CHECK_EQ_STR(d.v[1].msg, "sink 'x': option 'm' must be one of a, b, got 'c'");
    wire_diags_free(&d);
}

TEST(suggestions)
{
    const char *c[] = {"path", "mode", "format", "batch_events", "transforms"};
    CHECK_EQ_STR(wire_cfg_suggest("pth", c, 5), "path");
    CHECK_EQ_STR(wire_cfg_suggest("PATH", c, 5), "path");
    CHECK_EQ_STR(wire_cfg_suggest("fromat", c, 5), "format");
    CHECK_EQ_STR(wire_cfg_suggest("batch_event", c, 5), "batch_events");
    CHECK_EQ_STR(wire_cfg_suggest("transform", c, 5), "transforms");
    CHECK_EQ_STR(wire_cfg_suggest("events", c, 5), "batch_events");
    CHECK(wire_cfg_suggest("xyz", c, 5) == NULL);
    CHECK(wire_cfg_suggest("delivery", c, 5) == NULL);
    CHECK(wire_cfg_suggest("x", c, 0) == NULL);
}

TEST(type_names)
{
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_STRING), "string");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_INT), "integer");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_DOUBLE), "number");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_BOOL), "boolean");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_DURATION), "duration");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_SIZE), "size");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_ENUM), "enum");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_EXPR), "expression");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_SELECT), "select list");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_STRLIST), "list of strings");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_STRMAP), "map of strings");
    CHECK_EQ_STR(wire_opt_type_name(WIRE_OPT_JSON), "JSON");
}

static char *print_to_string(const wire_option *t, bool md)
{
    static char buf[8192];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    wire_options_print(t, f, md);
    fclose(f);
    return buf;
}

TEST(printing)
{
    static const wire_option t[] = {
        {"path", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, 0, NULL, "File to read."},
        {"mode", WIRE_OPT_ENUM, "read", 0, 0, "read|tail", "read: to EOF; tail: follow."},
        {0},
    };
    CHECK_EQ_STR(print_to_string(t, false), "  path (string, required)\n"
                                            "      File to read.\n"
                                            "  mode (enum(read|tail), default: read)\n"
                                            "      read: to EOF; tail: follow.\n");
    CHECK_EQ_STR(print_to_string(t, true),
                 "| Option | Type | Default | Required | Description |\n"
                 "|---|---|---|---|---|\n"
                 "| `path` | string |  | yes | File to read. |\n"
                 "| `mode` | enum(read\\|tail) | `read` | no | read: to EOF; tail: follow. |\n");
    static const wire_option none[] = {{0}};
    CHECK_EQ_STR(print_to_string(none, false), "  (no options)\n");
    CHECK_EQ_STR(print_to_string(none, true), "No options.\n");
}

int main(void)
{
    RUN(defaults);
    RUN(every_type);
    RUN(unknown_and_missing);
    RUN(wrong_types);
    RUN(expression_positions);
    RUN(bad_defaults_are_reported);
    RUN(suggestions);
    RUN(type_names);
    RUN(printing);
    TEST_MAIN_END();
}
