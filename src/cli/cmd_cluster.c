/*
 * cmd_cluster.c — `wire cluster status | nodes | remove ID`: a client of a
 * node's HTTP API (--addr, default localhost:4001). Tables for people,
 * `-o json` for scripts (the server's JSON as it came); on an error it prints
 * the server's message and exits 1.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "core/json.h"

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    wire_buf_append(arg, p, size * n);
    return size * n;
}

/* Returns the HTTP status, or -1 if the node could not be reached (message in body). */
static long http_call(const char *method, const char *addr, const char *path, const char *body,
                      wire_buf *out)
{
    CURL *c = curl_easy_init();
    if (!c) {
        wire_buf_printf(out, "curl_easy_init failed");
        return -1;
    }
    char url[1024];
    snprintf(url, sizeof(url), "%s%s%s", strstr(addr, "://") ? "" : "http://", addr, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    long status = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        wire_buf_printf(out, "cannot reach %s: %s", addr, curl_easy_strerror(rc));
    curl_easy_cleanup(c);
    return status;
}

static int fail_with(long status, const wire_buf *body)
{
    wire_json_val v;
    if (status > 0 && body->len && wire_json_validate_object(body->p, body->len, NULL) == 0 &&
        wire_json_get(body->p, body->len, "error", 5, &v) && v.kind == WIRE_JSON_STRING) {
        char *msg = wire_xmalloc(v.n + 1);
        size_t n = wire_json_unescape(v.p + 1, v.n - 2, msg);
        fprintf(stderr, "error: %.*s\n", (int)n, msg);
        free(msg);
    } else if (status > 0) {
        fprintf(stderr, "error: HTTP %ld: %.*s\n", status, (int)body->len, body->p ? body->p : "");
    } else {
        fprintf(stderr, "error: %.*s\n", (int)body->len, body->p ? body->p : "");
    }
    return 1;
}

/* A JSON scalar as display text (strings unescaped). */
static void scalar(const wire_json_val *v, char *out, size_t n)
{
    if (v->kind == WIRE_JSON_STRING) {
        char *tmp = wire_xmalloc(v->n + 1);
        size_t k = wire_json_unescape(v->p + 1, v->n - 2, tmp);
        snprintf(out, n, "%.*s", (int)k, tmp);
        free(tmp);
    } else {
        snprintf(out, n, "%.*s", (int)v->n, v->p);
    }
}

static void field(const char *obj, size_t n, const char *key, char *out, size_t outn)
{
    wire_json_val v;
    out[0] = 0;
    if (wire_json_get(obj, n, key, strlen(key), &v))
        scalar(&v, out, outn);
}

static int cluster_usage(void)
{
    fprintf(stderr, "usage: wire cluster status | nodes | remove ID  [--addr HOST:PORT] "
                    "[-o table|json]\n");
    return 1;
}

int wire_cmd_cluster(int argc, char **argv)
{
    const char *addr = "localhost:4001", *fmt = "table", *sub = NULL, *arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--addr") == 0 || strcmp(a, "-addr") == 0) && i + 1 < argc)
            addr = argv[++i];
        else if (strncmp(a, "--addr=", 7) == 0)
            addr = a + 7;
        else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc)
            fmt = argv[++i];
        else if (strncmp(a, "-o=", 3) == 0)
            fmt = a + 3;
        else if (a[0] == '-')
            return cluster_usage();
        else if (!sub)
            sub = a;
        else if (!arg)
            arg = a;
        else
            return cluster_usage();
    }
    bool json = strcmp(fmt, "json") == 0;
    if (!sub || (!json && strcmp(fmt, "table") != 0))
        return cluster_usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wire_buf b;
    wire_buf_init(&b);
    int rc = 0;
    if (strcmp(sub, "status") == 0 && !arg) {
        long st = http_call("GET", addr, "/status", NULL, &b);
        if (st != 200) {
            rc = fail_with(st, &b);
        } else if (json) {
            printf("%.*s\n", (int)b.len, b.p);
        } else {
            static const char *const rows[][2] = {
                {"node", "node.id"},
                {"api address", "node.api_addr"},
                {"raft address", "node.addr"},
                {"state", "raft.state"},
                {"leader", "leader.node_id"},
                {"leader address", "leader.addr"},
                {"term", "raft.term"},
                {"commit index", "raft.commit_index"},
                {"applied index", "raft.applied_index"},
                {"last snapshot index", "raft.last_snapshot_index"},
                {"voters", "raft.voters"},
                {"non-voters", "raft.non_voters"},
                {"version", "build.version"},
            };
            for (size_t i = 0; i < WIRE_ARRAY_LEN(rows); i++) {
                wire_json_val v = {WIRE_JSON_OBJECT, b.p, b.len};
                const char *path = rows[i][1];
                const char *dot = strchr(path, '.');
                char val[512] = "";
                wire_json_val o;
                if (wire_json_get(v.p, v.n, path, (size_t)(dot - path), &o) &&
                    o.kind == WIRE_JSON_OBJECT)
                    field(o.p, o.n, dot + 1, val, sizeof(val));
                printf("%-20s %s\n", rows[i][0], val);
            }
        }
    } else if (strcmp(sub, "nodes") == 0 && !arg) {
        long st = http_call("GET", addr, "/nodes?ver=2&nonvoters", NULL, &b);
        wire_json_val arr;
        if (st != 200) {
            rc = fail_with(st, &b);
        } else if (json) {
            printf("%.*s\n", (int)b.len, b.p);
        } else if (wire_json_validate_object(b.p, b.len, NULL) != 0 ||
                   !wire_json_get(b.p, b.len, "nodes", 5, &arr) || arr.kind != WIRE_JSON_ARRAY) {
            fprintf(stderr, "error: unexpected answer from %s\n", addr);
            rc = 1;
        } else {
            static const char *const cols[] = {"id",    "api_addr",  "addr",
                                               "voter", "reachable", "leader"};
            static const char *const heads[] = {"ID",    "API ADDRESS", "RAFT ADDRESS",
                                                "VOTER", "REACHABLE",   "LEADER"};
            size_t nrows = 0;
            wire_json_val el;
            while (wire_json_index(arr.p, arr.n, nrows, &el))
                nrows++;
            char(*cells)[6][256] = wire_xcalloc(nrows + 1, sizeof(*cells));
            size_t width[6];
            for (int k = 0; k < 6; k++) {
                snprintf(cells[0][k], sizeof(cells[0][k]), "%s", heads[k]);
                width[k] = strlen(heads[k]);
            }
            for (size_t r = 0; r < nrows; r++) {
                wire_json_index(arr.p, arr.n, r, &el);
                for (int k = 0; k < 6; k++) {
                    field(el.p, el.n, cols[k], cells[r + 1][k], sizeof(cells[r + 1][k]));
                    size_t w = strlen(cells[r + 1][k]);
                    if (w > width[k])
                        width[k] = w;
                }
            }
            for (size_t r = 0; r <= nrows; r++) {
                for (int k = 0; k < 6; k++)
                    printf(k < 5 ? "%-*s  " : "%-*s\n", (int)(k < 5 ? width[k] : 0), cells[r][k]);
            }
            free(cells);
        }
    } else if (strcmp(sub, "remove") == 0 && arg) {
        wire_buf body;
        wire_buf_init(&body);
        wire_buf_append(&body, "{\"id\":", 6);
        wire_json_write_str(&body, arg, strlen(arg));
        wire_buf_putc(&body, '}');
        long st = http_call("DELETE", addr, "/remove", body.p, &b);
        wire_buf_free(&body);
        if (st != 200)
            rc = fail_with(st, &b);
        else if (json)
            printf("{\"removed\":\"%s\"}\n", arg);
        else
            printf("removed %s\n", arg);
    } else {
        rc = cluster_usage();
    }
    wire_buf_free(&b);
    curl_global_cleanup();
    return rc;
}
