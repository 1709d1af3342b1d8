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

/* {"KEY": "VALUE"} and a newline on stdout (-o json answers). */
static void print_json_kv(const char *key, const char *val)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_jw w;
    wire_jw_init(&w, &b);
    wire_jw_obj(&w);
    wire_jw_kstr(&w, key, val);
    wire_jw_end(&w);
    printf("%.*s\n", (int)b.len, b.p);
    wire_buf_free(&b);
}

static void cluster_usage_to(FILE *f)
{
    fprintf(f, "usage: wire cluster status | nodes | remove ID  [--addr HOST:PORT] "
               "[-o table|json]\n"
               "  --addr  the node to ask (default $WIRE_ADDR, else localhost:4001); "
               "https://HOST:PORT\n"
               "          for TLS, with --cacert FILE (the CA that signed the node's "
               "certificate;\n"
               "          default: the system's) and --cert FILE --key FILE (a client "
               "certificate)\n");
}

static int cluster_usage(void)
{
    cluster_usage_to(stderr);
    return 1;
}

int wire_cmd_cluster(int argc, char **argv)
{
    wire_cli_opts o = WIRE_CLI_OPTS_INIT;
    const char *sub = NULL, *arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (wire_cli_common_flag(argc, argv, &i, &o))
            continue;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cluster_usage_to(stdout);
            return 0;
        } else if (a[0] == '-')
            return cluster_usage();
        else if (!sub)
            sub = a;
        else if (!arg)
            arg = a;
        else
            return cluster_usage();
    }
    const char *addr = o.addr;
    bool json = o.json;
    if (!sub || (!json && strcmp(o.fmt, "table") != 0))
        return cluster_usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wire_buf b;
    wire_buf_init(&b);
    int rc = 0;
    if (strcmp(sub, "status") == 0 && !arg) {
        long st = wire_cli_http(&o, "GET", "/status", NULL, 0, NULL, &b);
        if (st != 200) {
            rc = wire_cli_fail(st, &b);
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
                wire_json_val ob;
                if (wire_json_get(v.p, v.n, path, (size_t)(dot - path), &ob) &&
                    ob.kind == WIRE_JSON_OBJECT)
                    wire_cli_field(ob.p, ob.n, dot + 1, val, sizeof(val));
                printf("%-20s %s\n", rows[i][0], val);
            }
        }
    } else if (strcmp(sub, "nodes") == 0 && !arg) {
        long st = wire_cli_http(&o, "GET", "/nodes?ver=2&nonvoters", NULL, 0, NULL, &b);
        wire_json_val arr;
        if (st != 200) {
            rc = wire_cli_fail(st, &b);
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
            wire_json_iter it;
            wire_json_iter_init(&it, &arr);
            while (wire_json_iter_next(&it, NULL, &el))
                nrows++;
            char **cells = wire_xcalloc((nrows + 1) * 6, sizeof(*cells));
            for (int k = 0; k < 6; k++)
                cells[k] = wire_xstrdup(heads[k]);
            wire_json_iter_init(&it, &arr);
            for (size_t r = 0; r < nrows && wire_json_iter_next(&it, NULL, &el); r++) {
                for (int k = 0; k < 6; k++) {
                    char val[256];
                    wire_cli_field(el.p, el.n, cols[k], val, sizeof(val));
                    cells[(r + 1) * 6 + k] = wire_xstrdup(val);
                }
            }
            wire_cli_table(6, nrows + 1, cells);
            for (size_t i = 0; i < (nrows + 1) * 6; i++)
                free(cells[i]);
            free(cells);
        }
    } else if (strcmp(sub, "remove") == 0 && arg) {
        wire_buf body;
        wire_buf_init(&body);
        wire_jw w;
        wire_jw_init(&w, &body);
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "id", arg);
        wire_jw_end(&w);
        long st = wire_cli_http(&o, "DELETE", "/remove", body.p, body.len, "application/json", &b);
        wire_buf_free(&body);
        if (st != 200)
            rc = wire_cli_fail(st, &b);
        else if (json)
            print_json_kv("removed", arg);
        else
            printf("removed %s\n", arg);
    } else {
        rc = cluster_usage();
    }
    wire_buf_free(&b);
    curl_global_cleanup();
    return rc;
}
