/*
 * cmd_serve.c — `wire serve [FLAGS]` (and bare `wire --flags`): a cluster
 * node. Parses and checks the node flags of DESIGN.md (compatible with the
 * original Go Wire: single or double dash, `--flag value` or `--flag=value`),
 * starts the node (src/cluster) and its HTTP API (src/api), and runs until
 * SIGINT/SIGTERM, which stop the node gracefully (leadership transfer and
 * self-removal as configured). A bad flag prints `fatal: message` and exits 1.
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "cli/cli.h"
#include "cluster/cluster.h"
#include "core/sandbox.h"
#include "engine/engine.h"
#include "registry/registry.h"

typedef struct serve_flags {
    const char *node_id, *http_addr, *http_adv, *raft_addr, *raft_adv, *raft_dir, *join;
    const char *http_cert, *http_key, *node_cert, *node_key, *log_level, *allowed_paths;
    const char *auth_token_file, *join_token;
    const char *cert_file, *key_file, *trusted_ca;        /* HTTPS API (etcd's names) */
    const char *peer_cert, *peer_key, *peer_ca, *peer_cn; /* TLS between nodes */
    int64_t join_attempts, bootstrap_expect, raft_snap;
    int64_t join_interval_ms, expect_timeout_ms, snap_int_ms, election_ms, heartbeat_ms;
    int64_t node_timeout_ms;
    int64_t request_timeout_ms;
    int64_t max_pipelines, max_transforms, max_pipeline_bytes, max_conns_per_client;
    bool non_voter, stepdown, remove_shutdown, insecure_no_auth, auth, client_cert_auth;
    bool peer_client_cert_auth;
} serve_flags;

#define fatal(...) wire_cli_fatal(NULL, __VA_ARGS__)

/* DATA_DIR/files, then each of --allowed-paths (comma-separated). */
static wire_sandbox *node_sandbox(const char *data_dir, const char *allowed, wire_err *err)
{
    char *copy = wire_xstrdup(allowed ? allowed : "");
    size_t n = 1;
    for (const char *c = copy; *c; c++)
        n += *c == ',';
    const char **roots = wire_xcalloc(n + 1, sizeof(*roots));
    wire_buf def;
    wire_buf_init(&def);
    wire_buf_printf(&def, "%s/files", data_dir);
    size_t k = 0;
    roots[k++] = def.p;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*t)
            roots[k++] = t;
    wire_sandbox *sb = wire_sandbox_new(roots, k, err);
    free(roots);
    free(copy);
    wire_buf_free(&def);
    return sb;
}

static void serve_usage(FILE *f)
{
    fprintf(
        f,
        "usage: wire serve [FLAGS] [DATA_DIR]     (or: wire --FLAGS)\n"
        "  --node-id ID                   unique node id (default: the raft address)\n"
        "  --http-addr HOST:PORT          HTTP API bind address (localhost:4001)\n"
        "  --http-adv-addr HOST:PORT      HTTP address advertised to others\n"
        "  --raft-addr HOST:PORT          inter-node port (localhost:4002)\n"
        "  --raft-adv-addr HOST:PORT      inter-node address advertised to others\n"
        "  --raft-dir DIR                 Raft log and snapshots (./wire-data)\n"
        "  --join ADDR[,ADDR..]           inter-node addresses of existing members\n"
        "  --join-attempts N              (5)\n"
        "  --join-interval DUR            (3s)\n"
        "  --bootstrap-expect N           form an N-node cluster with the --join nodes\n"
        "  --bootstrap-expect-timeout DUR (120s)\n"
        "  --raft-non-voter               join as a non-voting member\n"
        "  --raft-snap N                  snapshot every N log entries (8192)\n"
        "  --raft-snap-int DUR            and at least this often when written (30s)\n"
        "  --raft-election-timeout DUR    (1s)\n"
        "  --raft-heartbeat-timeout DUR   (100ms)\n"
        "  --raft-shutdown-stepdown       transfer leadership on SIGTERM\n"
        "  --raft-cluster-remove-shutdown leave the cluster on SIGTERM\n"
        "  --node-timeout DUR             silent node loses its pipelines (5s)\n"
        "  --request-timeout DUR          a write waits this long for a leader (5s)\n"
        "  --max-pipelines N              pipelines one node runs at most (256; 0: no cap)\n"
        "  --max-transforms N             transforms in one pipeline document (1000; 0: no cap)\n"
        "  --max-pipeline-bytes SIZE      size of one pipeline document (1MB, at most 10MB)\n"
        "  --max-conns-per-client N       open HTTP connections from one address (256)\n"
        "  --allowed-paths DIR[,DIR..]    where pipelines may read and write files, besides\n"
        "                                 DATA_DIR/files\n"
        "  --auth                         requests need Authorization: Bearer TOKEN (every node\n"
        "                                 of the cluster alike; see docs/security.md)\n"
        "  --auth-token-file FILE         the first admin token: made and written there (0600)\n"
        "                                 when missing, registered when the cluster has none\n"
        "  --join-token TOKEN             a token of role node (or admin) to join an --auth\n"
        "                                 cluster with (or WIRE_JOIN_TOKEN)\n"
        "  --insecure-no-auth             serve the HTTP API on a non-loopback address without\n"
        "                                 --auth (refused otherwise)\n"
        "  --cert-file FILE, --key-file FILE\n"
        "                                 serve the HTTP API over TLS (1.2 or later) with this\n"
        "                                 certificate and key (PEM; reloaded when they change\n"
        "                                 and on SIGHUP); --http-cert/--http-key are the same\n"
        "  --trusted-ca-file FILE         the CA that signs client certificates\n"
        "  --client-cert-auth             refuse clients without a certificate it signed\n"
        "  --peer-cert-file FILE, --peer-key-file FILE, --peer-trusted-ca-file FILE\n"
        "                                 TLS on the inter-node port: this certificate both\n"
        "                                 ways, the CA verifies the other nodes' (--node-cert,\n"
        "                                 --node-key are the same)\n"
        "  --peer-client-cert-auth        refuse nodes without a certificate the CA signed (it\n"
        "                                 then stands for --join-token)\n"
        "  --peer-cert-allowed-cn CN      and whose certificate's CN is CN\n"
        "  --log-level debug|info|warn|error\n");
}

enum { F_STR, F_INT, F_DUR, F_BOOL, F_SIZE };
typedef struct flag_def {
    const char *name;
    int kind;
    size_t off;
} flag_def;

#define OFF(f) offsetof(serve_flags, f)
static const flag_def flag_defs[] = {
    {"node-id", F_STR, OFF(node_id)},
    {"http-addr", F_STR, OFF(http_addr)},
    {"http-adv-addr", F_STR, OFF(http_adv)},
    {"raft-addr", F_STR, OFF(raft_addr)},
    {"raft-adv-addr", F_STR, OFF(raft_adv)},
    {"raft-dir", F_STR, OFF(raft_dir)},
    {"join", F_STR, OFF(join)},
    {"join-attempts", F_INT, OFF(join_attempts)},
    {"join-interval", F_DUR, OFF(join_interval_ms)},
    {"bootstrap-expect", F_INT, OFF(bootstrap_expect)},
    {"bootstrap-expect-timeout", F_DUR, OFF(expect_timeout_ms)},
    {"raft-non-voter", F_BOOL, OFF(non_voter)},
    {"raft-snap", F_INT, OFF(raft_snap)},
    {"raft-snap-int", F_DUR, OFF(snap_int_ms)},
    {"raft-election-timeout", F_DUR, OFF(election_ms)},
    {"raft-heartbeat-timeout", F_DUR, OFF(heartbeat_ms)},
    {"raft-shutdown-stepdown", F_BOOL, OFF(stepdown)},
    {"raft-cluster-remove-shutdown", F_BOOL, OFF(remove_shutdown)},
    {"node-timeout", F_DUR, OFF(node_timeout_ms)},
    {"request-timeout", F_DUR, OFF(request_timeout_ms)},
    {"max-pipelines", F_INT, OFF(max_pipelines)},
    {"max-transforms", F_INT, OFF(max_transforms)},
    {"max-pipeline-bytes", F_SIZE, OFF(max_pipeline_bytes)},
    {"max-conns-per-client", F_INT, OFF(max_conns_per_client)},
    {"http-cert", F_STR, OFF(http_cert)},
    {"http-key", F_STR, OFF(http_key)},
    {"node-cert", F_STR, OFF(node_cert)},
    {"node-key", F_STR, OFF(node_key)},
    {"log-level", F_STR, OFF(log_level)},
    {"allowed-paths", F_STR, OFF(allowed_paths)},
    {"insecure-no-auth", F_BOOL, OFF(insecure_no_auth)},
    {"auth", F_BOOL, OFF(auth)},
    {"auth-token-file", F_STR, OFF(auth_token_file)},
    {"join-token", F_STR, OFF(join_token)},
    {"cert-file", F_STR, OFF(cert_file)},
    {"key-file", F_STR, OFF(key_file)},
    {"trusted-ca-file", F_STR, OFF(trusted_ca)},
    {"client-cert-auth", F_BOOL, OFF(client_cert_auth)},
    {"peer-cert-file", F_STR, OFF(peer_cert)},
    {"peer-key-file", F_STR, OFF(peer_key)},
    {"peer-trusted-ca-file", F_STR, OFF(peer_ca)},
    {"peer-client-cert-auth", F_BOOL, OFF(peer_client_cert_auth)},
    {"peer-cert-allowed-cn", F_STR, OFF(peer_cn)},
};

static int parse_flags(int argc, char **argv, serve_flags *f)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-help") == 0) {
            serve_usage(stdout);
            return 2;
        }
        if (a[0] != '-') {
            if (f->raft_dir)
                return fatal("unexpected argument '%s'", a);
            f->raft_dir = a; /* the original's positional data directory */
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const flag_def *d = NULL;
        for (size_t k = 0; k < WIRE_ARRAY_LEN(flag_defs); k++)
            if (strlen(flag_defs[k].name) == nlen && strncmp(flag_defs[k].name, name, nlen) == 0)
                d = &flag_defs[k];
        if (!d)
            return fatal("unknown flag -%s%.*s (see wire serve --help)", a[1] == '-' ? "-" : "",
                         (int)nlen, name);
        const char *val = eq ? eq + 1 : NULL;
        char *p = (char *)f + d->off;
        if (d->kind == F_BOOL) {
            bool v = true;
            if (val) {
                if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
                    v = true;
                else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
                    v = false;
                else
                    return fatal("--%s takes true or false, not '%s'", d->name, val);
            }
            *(bool *)p = v;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc)
                return fatal("--%s needs a value", d->name);
            val = argv[++i];
        }
        if (d->kind == F_STR) {
            *(const char **)p = val;
        } else if (d->kind == F_INT) {
            char *end;
            long long v = strtoll(val, &end, 10);
            if (!*val || *end || v < 0)
                return fatal("--%s takes a non-negative integer, not '%s'", d->name, val);
            *(int64_t *)p = v;
        } else if (d->kind == F_SIZE) {
            int64_t bytes;
            if (wire_parse_size(val, &bytes) != 0)
                return fatal("--%s takes a size like 512KB or 1MB, not '%s'", d->name, val);
            *(int64_t *)p = bytes;
        } else {
            int64_t ms;
            if (wire_parse_duration_ms(val, &ms) != 0)
                return fatal("--%s takes a duration like 500ms, 1s or 2m, not '%s'", d->name, val);
            *(int64_t *)p = ms;
        }
    }
    return 0;
}

/* "host:port" without a scheme, with a numeric port. */
static int check_addr(const char *flag, const char *addr, bool advertised)
{
    if (strstr(addr, "://"))
        return fatal("--%s %s: addresses carry no scheme (write host:port)", flag, addr);
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1])
        return fatal("--%s %s: expected host:port", flag, addr);
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return fatal("--%s %s: the port must be a number", flag, addr);
    if (advertised) {
        size_t hl = (size_t)(colon - addr);
        if (hl == 0 || (hl == 7 && strncmp(addr, "0.0.0.0", 7) == 0) ||
            (hl == 4 && strncmp(addr, "[::]", 4) == 0) || (hl == 2 && strncmp(addr, "::", 2) == 0))
            return fatal("--%s %s: an advertised address must be routable, not 0.0.0.0 (set "
                         "--%s)",
                         flag, addr,
                         strncmp(flag, "http", 4) == 0 ? "http-adv-addr" : "raft-adv-addr");
    }
    return 0;
}

/* localhost, 127.0.0.0/8 or ::1: reachable from this machine only. */
static bool loopback_host(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
    char host[256];
    if (n >= sizeof(host))
        return false;
    memcpy(host, addr, n);
    host[n] = 0;
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* The HTTP server's own body limit (net/http_server.c): no document can be larger. */
#define SERVE_MAX_BODY (10 << 20)

static int check_flags(serve_flags *f)
{
    if (f->max_pipeline_bytes < 1 || f->max_pipeline_bytes > SERVE_MAX_BODY)
        return fatal("--max-pipeline-bytes must be between 1 and 10MB (the largest request body "
                     "the HTTP server reads), not %lld",
                     (long long)f->max_pipeline_bytes);
    if (check_addr("http-addr", f->http_addr, false) ||
        check_addr("raft-addr", f->raft_addr, false))
        return 1;
    if (strcmp(f->http_addr, f->raft_addr) == 0)
        return fatal("--http-addr and --raft-addr must differ (both %s)", f->http_addr);
    const char *hadv = f->http_adv ? f->http_adv : f->http_addr;
    const char *radv = f->raft_adv ? f->raft_adv : f->raft_addr;
    if (check_addr(f->http_adv ? "http-adv-addr" : "http-addr", hadv, true) ||
        check_addr(f->raft_adv ? "raft-adv-addr" : "raft-addr", radv, true))
        return 1;
    if (strcmp(hadv, radv) == 0)
        return fatal("advertised HTTP and Raft addresses must differ (both %s)", hadv);
    if (f->join) {
        char *list = wire_xstrdup(f->join);
        int rc = 0;
        for (char *save, *tok = strtok_r(list, ",", &save); tok && !rc;
             tok = strtok_r(NULL, ",", &save))
            rc = check_addr("join", tok, false);
        free(list);
        if (rc)
            return 1;
    }
    /* anyone who reaches the API can run pipelines and change the cluster */
    if (!loopback_host(f->http_addr) && !f->auth && !f->insecure_no_auth)
        return fatal("--http-addr %s is not a loopback address: without --auth anyone who "
                     "reaches it could create pipelines and change the cluster; pass --auth "
                     "(or --insecure-no-auth to serve it anyway)",
                     f->http_addr);
    if (f->auth_token_file && !f->auth)
        return fatal("--auth-token-file needs --auth");
    if (f->bootstrap_expect > 0 && f->non_voter)
        return fatal("--bootstrap-expect cannot be used with --raft-non-voter");
    /* Members fence themselves after 3/4 of it; the leader's heartbeats come every 500 ms
       and an election must fit inside it, or pipelines would move at every blip. */
    if (f->request_timeout_ms <= 0)
        return fatal("--request-timeout must be positive (got %lldms)",
                     (long long)f->request_timeout_ms);
    if (f->node_timeout_ms < 1000)
        return fatal("--node-timeout must be at least 1s (got %lldms)",
                     (long long)f->node_timeout_ms);
    if (f->node_timeout_ms <= f->election_ms)
        return fatal("--node-timeout (%lldms) must be longer than --raft-election-timeout (%lldms)",
                     (long long)f->node_timeout_ms, (long long)f->election_ms);
    if (f->bootstrap_expect > 0 && !f->join)
        return fatal("--bootstrap-expect needs --join with the addresses of the other nodes");
    if (!f->cert_file) /* the original's names */
        f->cert_file = f->http_cert;
    if (!f->key_file)
        f->key_file = f->http_key;
    if (!f->cert_file != !f->key_file)
        return fatal("--cert-file and --key-file must be given together");
    if (f->client_cert_auth && !f->trusted_ca)
        return fatal("--client-cert-auth needs --trusted-ca-file (the CA that signs client "
                     "certificates)");
    if ((f->client_cert_auth || f->trusted_ca) && !f->cert_file)
        return fatal("--trusted-ca-file and --client-cert-auth need --cert-file and --key-file");
    if (!f->peer_cert) /* the original's names */
        f->peer_cert = f->node_cert;
    if (!f->peer_key)
        f->peer_key = f->node_key;
    if (!f->peer_cert != !f->peer_key)
        return fatal("--peer-cert-file and --peer-key-file must be given together");
    if (f->peer_cert && !f->peer_ca)
        return fatal("--peer-cert-file needs --peer-trusted-ca-file (the CA that signs the "
                     "other nodes' certificates)");
    if ((f->peer_ca || f->peer_client_cert_auth || f->peer_cn) && !f->peer_cert)
        return fatal("--peer-trusted-ca-file, --peer-client-cert-auth and --peer-cert-allowed-cn "
                     "need --peer-cert-file and --peer-key-file");
    if (f->peer_cn && !f->peer_client_cert_auth)
        return fatal("--peer-cert-allowed-cn needs --peer-client-cert-auth");
    if (f->election_ms <= 0 || f->heartbeat_ms <= 0)
        return fatal("--raft-election-timeout and --raft-heartbeat-timeout must be positive");
    if (f->heartbeat_ms >= f->election_ms)
        return fatal("--raft-heartbeat-timeout (%lldms) must be below --raft-election-timeout "
                     "(%lldms)",
                     (long long)f->heartbeat_ms, (long long)f->election_ms);
    if (f->raft_snap <= 0)
        return fatal("--raft-snap must be at least 1");
    if (f->join_attempts <= 0)
        return fatal("--join-attempts must be at least 1");
    if (f->node_id && (!*f->node_id || strlen(f->node_id) > 127))
        return fatal("--node-id must be 1 to 127 characters");
    if (f->log_level) {
        static const char *const lv[] = {"debug", "info", "warn", "error"};
        int found = -1;
        for (int k = 0; k < 4; k++)
            if (strcmp(f->log_level, lv[k]) == 0)
                found = k;
        if (found < 0)
            return fatal("--log-level must be debug, info, warn or error");
        wire_log_set_level(found);
    }
    return 0;
}

int wire_cmd_serve(int argc, char **argv)
{
    serve_flags f = {0};
    f.http_addr = "localhost:4001";
    f.raft_addr = "localhost:4002";
    f.join_attempts = 5;
    f.join_interval_ms = 3000;
    f.expect_timeout_ms = 120000;
    f.raft_snap = 8192;
    f.snap_int_ms = 30000;
    f.election_ms = 1000;
    f.heartbeat_ms = 100;
    f.node_timeout_ms = 5000;
    f.request_timeout_ms = 5000;
    f.max_pipelines = 256;
    f.max_transforms = WIRE_SPEC_MAX_TRANSFORMS;
    f.max_pipeline_bytes = WIRE_SPEC_MAX_BYTES;
    f.max_conns_per_client = WIRE_API_CONNS_PER_CLIENT;
    int rc = parse_flags(argc, argv, &f);
    if (rc)
        return rc == 2 ? 0 : 1;
    if (check_flags(&f))
        return 1;

    wire_node_config cfg = {0};
    cfg.node_id = f.node_id;
    cfg.http_adv_addr = f.http_adv ? f.http_adv : f.http_addr;
    cfg.raft_addr = f.raft_addr;
    cfg.raft_adv_addr = f.raft_adv ? f.raft_adv : f.raft_addr;
    cfg.raft_dir = f.raft_dir ? f.raft_dir : "wire-data";
    cfg.join = f.join;
    cfg.join_attempts = (int)f.join_attempts;
    cfg.join_interval_ms = f.join_interval_ms;
    cfg.bootstrap_expect = (int)f.bootstrap_expect;
    cfg.bootstrap_expect_timeout_ms = f.expect_timeout_ms;
    cfg.non_voter = f.non_voter;
    cfg.snap_threshold = (unsigned)f.raft_snap;
    cfg.snap_interval_ms = f.snap_int_ms;
    cfg.election_timeout_ms = (unsigned)f.election_ms;
    cfg.heartbeat_timeout_ms = (unsigned)f.heartbeat_ms;
    cfg.shutdown_stepdown = f.stepdown;
    cfg.cluster_remove_shutdown = f.remove_shutdown;
    cfg.node_timeout_ms = f.node_timeout_ms;
    cfg.request_timeout_ms = f.request_timeout_ms;
    cfg.max_pipelines = f.max_pipelines;
    cfg.registry = &wire_default_registry;
    wire_err err;
    wire_sandbox *sandbox = node_sandbox(cfg.raft_dir, f.allowed_paths, &err);
    if (!sandbox)
        return fatal("%s", err.msg);
    cfg.sandbox = sandbox;
    cfg.auth = f.auth;
    cfg.join_token = f.join_token ? f.join_token : getenv("WIRE_JOIN_TOKEN");
    wire_tls_files peer = {.cert_file = f.peer_cert,
                           .key_file = f.peer_key,
                           .ca_file = f.peer_ca,
                           .client_cert_auth = f.peer_client_cert_auth,
                           .allowed_cn = f.peer_cn};
    cfg.peer_tls = f.peer_cert ? &peer : NULL;
    wire_bootstrap_token *boot = NULL;
    if (f.auth_token_file) {
        boot =
            wire_bootstrap_token_open(f.auth_token_file, !f.join || f.bootstrap_expect > 0, &err);
        if (!boot) {
            wire_sandbox_free(sandbox);
            return fatal("--auth-token-file: %s", err.msg);
        }
    }

    /* Signals are taken synchronously below; block them before any thread starts. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    wire_node *node = NULL;
    if (wire_node_start(&cfg, &node, &err) != 0) {
        wire_bootstrap_token_free(boot);
        wire_sandbox_free(sandbox);
        return fatal("%s", err.msg);
    }
    wire_api *api = NULL;
    wire_tls_files tls = {.cert_file = f.cert_file,
                          .key_file = f.key_file,
                          .ca_file = f.trusted_ca,
                          .client_cert_auth = f.client_cert_auth};
    wire_api_opts ao = {.addr = f.http_addr,
                        .tls = f.cert_file ? &tls : NULL,
                        .node = node,
                        .registry = &wire_default_registry,
                        .sandbox = sandbox,
                        .max_pipelines = f.max_pipelines,
                        .max_transforms = f.max_transforms,
                        .max_pipeline_bytes = f.max_pipeline_bytes,
                        .max_conns_per_client = f.max_conns_per_client,
                        .auth = f.auth};
    if (wire_api_start(&ao, &api, &err) != 0) {
        wire_node_stop(node);
        wire_bootstrap_token_free(boot);
        wire_sandbox_free(sandbox);
        return fatal("http: %s", err.msg);
    }
    if (!loopback_host(f.http_addr) && !f.auth)
        wire_warn("serving the HTTP API on %s without authentication (--insecure-no-auth): "
                  "anyone who reaches it can create pipelines and change the cluster",
                  f.http_addr);
    wire_info("node %s serving %s on %s, inter-node on %s, data in %s",
              f.node_id ? f.node_id : cfg.raft_adv_addr, f.cert_file ? "HTTPS" : "HTTP",
              f.http_addr, f.raft_addr, cfg.raft_dir);
    int exit_code = 0;
    char msg[512];
    for (;;) {
        struct timespec ts = {0, 100 * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGHUP) {
            wire_info("SIGHUP: reloading the TLS certificates");
            wire_api_reload_tls(api);
            wire_node_reload_tls(node);
        }
        if (sig == SIGINT || sig == SIGTERM) {
            wire_info("signal %d: shutting down", sig);
            break;
        }
        wire_bootstrap_token_tick(boot, node);
        if (wire_node_failed(node, msg, sizeof(msg))) {
            fprintf(stderr, "fatal: %s\n", msg);
            exit_code = 1;
            break;
        }
    }
    wire_api_stop(api);
    wire_node_stop(node);
    wire_api_free(api);
    wire_bootstrap_token_free(boot);
    wire_sandbox_free(sandbox);
    return exit_code;
}
