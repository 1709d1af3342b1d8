/*
 * cmd_token.c — `wire token create --name N --role R | list | revoke N`:
 * API tokens of a cluster with --auth (docs/security.md), through a node's
 * HTTP API with an admin token (--token or $WIRE_TOKEN).
 *
 * `create` prints the new token alone on stdout — the only time it is shown —
 * so that `T=$(wire token create ...)` keeps it; `-o json` prints the
 * server's {"name","role","token"}. `list` is a table (NAME ROLE CREATED) or
 * the server's JSON.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/token.h"

static void token_usage_to(FILE *f)
{
    fprintf(f,
            "usage: wire token create --name NAME --role admin|operator|viewer|node\n"
            "       wire token list\n"
            "       wire token revoke NAME\n"
            "  [--addr HOST:PORT] [--token TOKEN] [-o table|json] [--cacert F --cert F --key F]\n"
            "  --token  an admin token (default $WIRE_TOKEN)\n");
}

static int token_usage(void)
{
    token_usage_to(stderr);
    return 1;
}

static int list(const wire_cli_opts *o, wire_buf *b)
{
    long st = wire_cli_http(o, "GET", "/v1/tokens", NULL, 0, NULL, b);
    wire_json_val arr, el;
    if (st != 200)
        return wire_cli_fail(st, b);
    if (o->json) {
        printf("%.*s\n", (int)b->len, b->p);
        return 0;
    }
    if (wire_json_validate_object(b->p, b->len, NULL) != 0 ||
        !wire_json_get(b->p, b->len, "tokens", 6, &arr) || arr.kind != WIRE_JSON_ARRAY) {
        fprintf(stderr, "error: unexpected answer from %s\n", o->addr);
        return 1;
    }
    static const char *const cols[] = {"name", "role", "created"};
    size_t nrows = 0;
    wire_json_iter it;
    wire_json_iter_init(&it, &arr);
    while (wire_json_iter_next(&it, NULL, &el))
        nrows++;
    char **cells = wire_xcalloc((nrows + 1) * 3, sizeof(*cells));
    cells[0] = wire_xstrdup("NAME");
    cells[1] = wire_xstrdup("ROLE");
    cells[2] = wire_xstrdup("CREATED");
    wire_json_iter_init(&it, &arr);
    for (size_t r = 0; r < nrows && wire_json_iter_next(&it, NULL, &el); r++)
        for (int k = 0; k < 3; k++) {
            char val[256];
            wire_cli_field(el.p, el.n, cols[k], val, sizeof(val));
            cells[(r + 1) * 3 + k] = wire_xstrdup(val);
        }
    wire_cli_table(3, nrows + 1, cells);
    for (size_t i = 0; i < (nrows + 1) * 3; i++)
        free(cells[i]);
    free(cells);
    return 0;
}

static int create(const wire_cli_opts *o, const char *name, const char *role, wire_buf *b)
{
    wire_buf body;
    wire_buf_init(&body);
    wire_jw w;
    wire_jw_init(&w, &body);
    wire_jw_obj(&w);
    wire_jw_kstr(&w, "name", name);
    wire_jw_kstr(&w, "role", role);
    wire_jw_end(&w);
    long st = wire_cli_http(o, "POST", "/v1/tokens", body.p, body.len, "application/json", b);
    wire_buf_free(&body);
    if (st != 201)
        return wire_cli_fail(st, b);
    if (o->json) {
        printf("%.*s\n", (int)b->len, b->p);
        return 0;
    }
    char tok[WIRE_TOKEN_MAX + 1];
    wire_cli_field(b->p, b->len, "token", tok, sizeof(tok));
    printf("%s\n", tok);
    fprintf(stderr, "token %s (role %s) created; it is not shown again\n", name, role);
    memset(tok, 0, sizeof(tok));
    return 0;
}

int wire_cmd_token(int argc, char **argv)
{
    wire_cli_opts o = WIRE_CLI_OPTS_INIT;
    const char *sub = NULL, *arg = NULL, *name = NULL, *role = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (wire_cli_common_flag(argc, argv, &i, &o))
            continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            token_usage_to(stdout);
            return 0;
        }
        if (strcmp(a, "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strncmp(a, "--name=", 7) == 0)
            name = a + 7;
        else if (strcmp(a, "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strncmp(a, "--role=", 7) == 0)
            role = a + 7;
        else if (a[0] == '-')
            return token_usage();
        else if (!sub)
            sub = a;
        else if (!arg)
            arg = a;
        else
            return token_usage();
    }
    if (!sub || (!o.json && strcmp(o.fmt, "table") != 0))
        return token_usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wire_buf b;
    wire_buf_init(&b);
    int rc;
    if (strcmp(sub, "create") == 0 && !arg && name && role) {
        rc = create(&o, name, role, &b);
    } else if (strcmp(sub, "list") == 0 && !arg && !name && !role) {
        rc = list(&o, &b);
    } else if (strcmp(sub, "revoke") == 0 && arg && !name && !role) {
        wire_buf path;
        wire_buf_init(&path);
        wire_buf_printf(&path, "/v1/tokens/%s", arg);
        long st = wire_cli_http(&o, "DELETE", path.p, NULL, 0, NULL, &b);
        wire_buf_free(&path);
        rc = st == 200 ? (printf("revoked %s\n", arg), 0) : wire_cli_fail(st, &b);
    } else {
        rc = token_usage();
    }
    if (b.p)
        memset(b.p, 0, b.len);
    wire_buf_free(&b);
    curl_global_cleanup();
    return rc;
}
