/*
 * cmd_pipeline.c — `wire pipeline create -f FILE | list | get NAME |
 * delete NAME | pause NAME | resume NAME`: a client of a node's
 * /v1/pipelines API (--addr, default localhost:4001). Tables and one-line
 * confirmations for people, `-o json` for scripts (the server's JSON as it
 * came). A rejected document prints FILE:LINE:COL: message lines, as
 * `wire validate` does; any other failure prints `error: <the server's
 * message>`. Both exit 1. A usage mistake prints `fatal: ...` and exits 1.
 */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/io.h"
#include "core/json.h"

#define PIPELINE_USAGE                                                                             \
    "usage: wire pipeline create -f FILE | apply -f FILE | list | get NAME | delete NAME |\n"      \
    "                     pause NAME | resume NAME  [--addr HOST:PORT] [-o table|json]\n"          \
    "  create  submit a new pipeline (409 if the name exists)\n"                                   \
    "  apply   create it, or update it in place: a new version that resumes from\n"                \
    "          the running version's checkpoint\n"                                                 \
    "  --addr  the node to ask (default $WIRE_ADDR, else localhost:4001); https://HOST:PORT\n"     \
    "          for TLS, with --cacert FILE (the CA that signed the node's certificate;\n"          \
    "          default: the system's) and --cert FILE --key FILE (a client certificate)\n"

#define pipeline_fatal(...) wire_cli_fatal(PIPELINE_USAGE, __VA_ARGS__)

/* /v1/pipelines/NAME[SUFFIX], NAME percent-encoded. */
static void pipeline_path(wire_buf *b, const char *name, const char *suffix)
{
    wire_buf_printf(b, "/v1/pipelines/");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            wire_buf_putc(b, (char)*p);
        else
            wire_buf_printf(b, "%%%02X", *p);
    }
    wire_buf_printf(b, "%s", suffix);
}

static bool is_object(const wire_buf *b)
{
    return b->len && wire_json_validate_object(b->p, b->len, NULL) == 0;
}

/* A member of the answer as text; `def` when absent or the answer is not JSON. */
static void answer_field(const wire_buf *b, const char *key, const char *def, char *out, size_t n)
{
    out[0] = '\0';
    if (is_object(b))
        wire_cli_field(b->p, b->len, key, out, n);
    if (!out[0])
        snprintf(out, n, "%s", def);
}

/* 400 with "errors":[{line,col,message}]: print them as FILE:LINE:COL: message. */
static int print_document_errors(const char *file, const wire_buf *b)
{
    wire_json_val arr, el;
    if (!is_object(b) || !wire_json_get(b->p, b->len, "errors", 6, &arr) ||
        arr.kind != WIRE_JSON_ARRAY || !wire_json_index(arr.p, arr.n, 0, &el))
        return -1;
    wire_json_iter it;
    wire_json_iter_init(&it, &arr);
    while (wire_json_iter_next(&it, NULL, &el)) {
        if (el.kind != WIRE_JSON_OBJECT)
            continue;
        char line[32], col[32], msg[2048];
        wire_cli_field(el.p, el.n, "line", line, sizeof(line));
        wire_cli_field(el.p, el.n, "col", col, sizeof(col));
        wire_cli_field(el.p, el.n, "message", msg, sizeof(msg));
        if (atoi(line) > 0)
            fprintf(stderr, "%s:%s:%s: %s\n", file, line, atoi(col) > 0 ? col : "1", msg);
        else
            fprintf(stderr, "%s: %s\n", file, msg);
    }
    return 1;
}

static int read_input(const char *file, char **text, size_t *n)
{
    wire_err err;
    if (strcmp(file, "-") == 0) {
        if (wire_io_read_fd(0, text, n, &err) != 0) {
            fprintf(stderr, "error: cannot read standard input: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    if (wire_io_read_file(file, text, n, &err) != 0) {
        fprintf(stderr, "error: %s: %s\n", file, err.msg);
        return 1;
    }
    return 0;
}

/* The document's top-level name (for apply's PUT), or false. */
static bool document_name(const char *text, size_t n, char *out, size_t outlen)
{
    wire_cfg *root = NULL;
    wire_diags d = {0};
    wire_cfg_load_mem("-", text, n, &root, &d);
    const wire_cfg *name = root ? wire_cfg_get(root, "name") : NULL;
    bool ok = name && name->kind == WIRE_CFG_SCALAR && name->len > 0 && name->len < outlen;
    if (ok)
        snprintf(out, outlen, "%.*s", (int)name->len, name->str);
    wire_cfg_free(root);
    wire_diags_free(&d);
    return ok;
}

/* create: POST. apply: POST, and on 409 (the name exists) PUT /v1/pipelines/NAME. */
static int cmd_create(const wire_cli_opts *o, const char *file, bool apply)
{
    char *text = NULL;
    size_t n = 0;
    if (read_input(file, &text, &n) != 0)
        return 1;
    size_t fl = strlen(file);
    const char *ctype =
        fl >= 5 && strcmp(file + fl - 5, ".json") == 0 ? "application/json" : "application/yaml";
    wire_buf b;
    wire_buf_init(&b);
    long st = wire_cli_http(o, "POST", "/v1/pipelines", text, n, ctype, &b);
    const char *done = "created";
    char docname[128];
    if (apply && st == 409 && document_name(text, n, docname, sizeof(docname))) {
        wire_buf path;
        wire_buf_init(&path);
        pipeline_path(&path, docname, "");
        wire_buf_reset(&b);
        st = wire_cli_http(o, "PUT", path.p, text, n, ctype, &b);
        wire_buf_free(&path);
        done = "updated";
    }
    int rc = 0;
    if (st == 200 || st == 201) {
        if (o->json) {
            printf("%.*s\n", (int)b.len, b.p ? b.p : "");
        } else {
            char name[256], version[64];
            answer_field(&b, "name", "?", name, sizeof(name));
            answer_field(&b, "version", "?", version, sizeof(version));
            printf("pipeline %s %s (version %s)\n", name, done, version);
        }
    } else if (st == 400 && print_document_errors(strcmp(file, "-") ? file : "<stdin>", &b) > 0) {
        rc = 1;
    } else {
        rc = wire_cli_fail(st, &b);
    }
    wire_buf_free(&b);
    free(text);
    return rc;
}

static int cmd_list(const wire_cli_opts *o)
{
    wire_buf b;
    wire_buf_init(&b);
    long st = wire_cli_http(o, "GET", "/v1/pipelines", NULL, 0, NULL, &b);
    wire_json_val arr, el;
    int rc = 0;
    if (st != 200) {
        rc = wire_cli_fail(st, &b);
    } else if (o->json) {
        printf("%.*s\n", (int)b.len, b.p ? b.p : "");
    } else if (!is_object(&b) || !wire_json_get(b.p, b.len, "pipelines", 9, &arr) ||
               arr.kind != WIRE_JSON_ARRAY) {
        fprintf(stderr, "error: unexpected answer from %s: %.*s\n", o->addr, (int)b.len,
                b.p ? b.p : "");
        rc = 1;
    } else {
        static const char *const heads[] = {"NAME", "VERSION", "STATE", "NODE",
                                            "IN",   "OUT",     "ERROR"};
        enum { NC = 7 };
        /* one pass over the array with an iterator (indexing each row from the start
           made a list of 10,000 pipelines take 25 s of CPU) */
        size_t nrows = 0;
        wire_json_iter it;
        wire_json_iter_init(&it, &arr);
        while (wire_json_iter_next(&it, NULL, &el))
            nrows++;
        char **cells = wire_xcalloc((nrows + 1) * NC, sizeof(*cells));
        for (int k = 0; k < NC; k++)
            cells[k] = wire_xstrdup(heads[k]);
        wire_json_iter_init(&it, &arr);
        for (size_t r = 0; r < nrows && wire_json_iter_next(&it, NULL, &el); r++) {
            char **row = cells + (r + 1) * NC;
            char v[1024];
            if (el.kind != WIRE_JSON_OBJECT)
                el.n = 0;
            static const char *const keys[] = {"name", "version", "state", "node"};
            for (int k = 0; k < 4; k++) {
                wire_cli_field(el.p, el.n, keys[k], v, sizeof(v));
                row[k] = wire_xstrdup(v[0] || k != 3 ? v : "-");
            }
            wire_json_val counters;
            bool has_c = el.n && wire_json_get(el.p, el.n, "counters", 8, &counters) &&
                         counters.kind == WIRE_JSON_OBJECT;
            wire_cli_field(has_c ? counters.p : "", has_c ? counters.n : 0, "events_in", v,
                           sizeof(v));
            row[4] = wire_xstrdup(v[0] ? v : "0");
            wire_cli_field(has_c ? counters.p : "", has_c ? counters.n : 0, "events_out", v,
                           sizeof(v));
            row[5] = wire_xstrdup(v[0] ? v : "0");
            wire_cli_field(el.p, el.n, "error", v, sizeof(v));
            row[6] = wire_xstrdup(v);
        }
        wire_cli_table(NC, nrows + 1, cells);
        for (size_t i = 0; i < (nrows + 1) * NC; i++)
            free(cells[i]);
        free(cells);
    }
    wire_buf_free(&b);
    return rc;
}

/* "4 at 2023-11-14T22:13:20.000Z" from {"id":4,"time_ms":...}; "none" without one. */
static void checkpoint_text(const wire_json_val *cp, char *out, size_t n)
{
    char id[64] = "", ms[64] = "";
    if (cp->kind == WIRE_JSON_OBJECT) {
        wire_cli_field(cp->p, cp->n, "id", id, sizeof(id));
        wire_cli_field(cp->p, cp->n, "time_ms", ms, sizeof(ms));
    }
    if (!id[0] || strcmp(id, "0") == 0) {
        snprintf(out, n, "none");
        return;
    }
    long long t = atoll(ms);
    if (t > 0) {
        char when[32];
        wire_time_iso(t, when);
        snprintf(out, n, "%s at %s", id, when);
    } else {
        snprintf(out, n, "%s", id);
    }
}

static void print_get(const wire_buf *b)
{
    char v[4096];
    static const char *const keys[] = {"name",  "version",   "state", "node",
                                       "epoch", "placement", "error"};
    for (size_t k = 0; k < WIRE_ARRAY_LEN(keys); k++) {
        wire_cli_field(b->p, b->len, keys[k], v, sizeof(v));
        if ((strcmp(keys[k], "error") == 0 || strcmp(keys[k], "placement") == 0) && !v[0])
            continue;
        printf("%-12s%s\n", keys[k], v[0] ? v : "-");
    }
    wire_json_val obj, key, val;
    if (wire_json_get(b->p, b->len, "counters", 8, &obj) && obj.kind == WIRE_JSON_OBJECT) {
        printf("%-12s", "counters");
        wire_json_iter it;
        wire_json_iter_init(&it, &obj);
        bool first = true;
        while (wire_json_iter_next(&it, &key, &val)) {
            char k[128];
            wire_cli_scalar(&key, k, sizeof(k));
            wire_cli_scalar(&val, v, sizeof(v));
            printf("%s%s=%s", first ? "" : " ", k, v);
            first = false;
        }
        putchar('\n');
    }
    wire_json_val none = {WIRE_JSON_NULL, "null", 4};
    if (!wire_json_get(b->p, b->len, "checkpoint", 10, &obj))
        obj = none;
    checkpoint_text(&obj, v, sizeof(v));
    printf("%-12s%s\n", "checkpoint", v);
    if (wire_json_get(b->p, b->len, "spec", 4, &obj) && obj.kind == WIRE_JSON_STRING) {
        char *spec = wire_xmalloc(obj.n + 1);
        size_t n = wire_json_unescape(obj.p + 1, obj.n - 2, spec);
        printf("spec:\n");
        for (size_t i = 0; i < n;) {
            size_t e = i;
            while (e < n && spec[e] != '\n')
                e++;
            printf("    %.*s\n", (int)(e - i), spec + i);
            i = e + 1;
        }
        free(spec);
    }
}

/* get, delete, pause, resume: one request about one pipeline. */
static int cmd_one(const wire_cli_opts *o, const char *sub, const char *name)
{
    wire_buf path, b;
    wire_buf_init(&path);
    wire_buf_init(&b);
    const char *method = "POST", *suffix = "", *done = NULL;
    if (strcmp(sub, "get") == 0)
        method = "GET";
    else if (strcmp(sub, "delete") == 0)
        method = "DELETE", done = "deleted";
    else if (strcmp(sub, "pause") == 0)
        suffix = "/pause", done = "paused";
    else
        suffix = "/resume", done = "resumed";
    pipeline_path(&path, name, suffix);
    long st =
        wire_cli_http(o, method, path.p, strcmp(method, "POST") == 0 ? "" : NULL, 0, NULL, &b);
    int rc = 0;
    if (st != 200) {
        rc = wire_cli_fail(st, &b);
    } else if (o->json) {
        printf("%.*s\n", (int)b.len, b.p ? b.p : "");
    } else if (!done) {
        if (!is_object(&b)) {
            fprintf(stderr, "error: unexpected answer from %s: %.*s\n", o->addr, (int)b.len,
                    b.p ? b.p : "");
            rc = 1;
        } else {
            print_get(&b);
        }
    } else {
        char shown[256];
        answer_field(&b, "name", name, shown, sizeof(shown));
        printf("pipeline %s %s\n", shown, done);
    }
    wire_buf_free(&path);
    wire_buf_free(&b);
    return rc;
}

int wire_cmd_pipeline(int argc, char **argv)
{
    wire_cli_opts o = WIRE_CLI_OPTS_INIT;
    const char *sub = NULL, *name = NULL, *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (wire_cli_common_flag(argc, argv, &i, &o))
            continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(PIPELINE_USAGE, stdout);
            return 0;
        }
        if ((strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) && i + 1 < argc)
            file = argv[++i];
        else if (strncmp(a, "-f=", 3) == 0)
            file = a + 3;
        else if (strncmp(a, "--file=", 7) == 0)
            file = a + 7;
        else if (a[0] == '-' && a[1] != '\0')
            return pipeline_fatal("%s: unknown flag or missing value", a);
        else if (!sub)
            sub = a;
        else if (!name)
            name = a;
        else
            return pipeline_fatal("unexpected argument '%s'", a);
    }
    if (!o.json && strcmp(o.fmt, "table") != 0)
        return pipeline_fatal("-o takes table or json, not '%s'", o.fmt);
    if (!sub)
        return pipeline_fatal("missing subcommand");
    bool one = strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0 || strcmp(sub, "pause") == 0 ||
               strcmp(sub, "resume") == 0;
    bool submit = strcmp(sub, "create") == 0 || strcmp(sub, "apply") == 0;
    if (!one && !submit && strcmp(sub, "list") != 0)
        return pipeline_fatal("unknown subcommand '%s'", sub);
    if (submit) {
        if (!file)
            return pipeline_fatal("%s needs -f FILE", sub);
        if (name)
            return pipeline_fatal("%s takes no NAME (the name is in the file): '%s'", sub, name);
        if (!file[0])
            return pipeline_fatal("-f needs a file name");
    } else if (file) {
        return pipeline_fatal("-f is only for create and apply");
    }
    if (strcmp(sub, "list") == 0 && name)
        return pipeline_fatal("list takes no NAME: '%s'", name);
    if (one && (!name || !name[0]))
        return pipeline_fatal("%s needs a pipeline NAME", sub);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (submit)
        rc = cmd_create(&o, file, strcmp(sub, "apply") == 0);
    else if (strcmp(sub, "list") == 0)
        rc = cmd_list(&o);
    else
        rc = cmd_one(&o, sub, name);
    curl_global_cleanup();
    return rc;
}
