/*
 * node_routes.c — the HTTP API of a cluster node (`wire serve`), on the one
 * HTTP server of src/net:
 *
 *   GET    /status[?pretty][&key=a.b]   node, leader{node_id,addr}, raft{...}, build
 *   GET    /nodes[?ver=2][&nonvoters]   id -> {id,api_addr,addr,voter,reachable,leader}
 *   GET    /readyz[?noleader][&sync]    "[+]node ok\n[+]leader ok\n[+]store ok", 200 or 503
 *   GET    /livez                       200 while the process serves
 *   GET    /metrics                     Prometheus text
 *   DELETE /remove {"id":"n3"}          remove a node (the node forwards to the leader)
 *   PUT|GET|DELETE /v1/kv/KEY           ?level=strong (default)|weak|stale (= none) for GET
 *
 * Each request becomes a wire_node_op submitted to the node; the answer is
 * written from the op's completion (on the node's loop thread), so nothing
 * blocks the HTTP thread while Raft commits.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cluster/cluster.h"
#include "core/json.h"
#include "net/net.h"

struct wire_api_node {
    wire_http_server *server;
    wire_node *node;
};

enum { R_STATUS, R_NODES, R_READY, R_METRICS, R_REMOVE, R_KV_PUT, R_KV_GET, R_KV_DEL };

typedef struct req_ctx {
    wire_node_op op;
    wire_api_node *api;
    wire_http_req *req;
    int route;
    bool pretty, ver2, nonvoters, noleader;
    char key[256];
    char *kv_key; /* decoded KV key */
    char id[256];
} req_ctx;

static void str(wire_buf *b, const char *s)
{
    wire_json_write_str(b, s, strlen(s));
}

static int err_status(int code)
{
    switch (code) {
    case WIRE_ENOTFOUND: return 404;
    case WIRE_EINVAL:
    case WIRE_EPARSE: return 400;
    default: return 503;
    }
}

static void node_each(void *arg, void (*fn)(wire_pipeline *p, void *fnarg), void *fnarg)
{
    wire_node_pipelines_each(arg, fn, fnarg);
}

static void render_status(const req_ctx *c, wire_buf *b)
{
    const wire_node_info *i = &c->op.info;
    wire_buf_append(b, "{\"node\":{\"id\":", 14);
    str(b, i->id);
    for (size_t k = 0; k < i->nmembers; k++)
        if (strcmp(i->members[k].id, i->id) == 0) {
            wire_buf_append(b, ",\"api_addr\":", 12);
            str(b, i->members[k].api_addr);
            wire_buf_append(b, ",\"addr\":", 8);
            str(b, i->members[k].raft_addr);
            wire_buf_printf(b, ",\"voter\":%s", i->members[k].voter ? "true" : "false");
        }
    wire_buf_append(b, "},\"leader\":{\"node_id\":", 22);
    str(b, i->leader_id);
    wire_buf_append(b, ",\"addr\":", 8);
    str(b, i->leader_addr);
    wire_buf_append(b, ",\"api_addr\":", 12);
    str(b, i->leader_api);
    wire_buf_append(b, "},\"raft\":{\"state\":", 18);
    str(b, i->state);
    wire_buf_printf(b,
                    ",\"term\":%" PRIu64 ",\"commit_index\":%" PRIu64 ",\"applied_index\":%" PRIu64
                    ",\"last_snapshot_index\":%" PRIu64 ",\"last_log_index\":%" PRIu64
                    ",\"voters\":%d,\"non_voters\":%d,\"leader_changes\":%" PRIu64 "}",
                    i->term, i->commit_index, i->applied_index, i->last_snapshot_index,
                    i->last_log_index, i->voters, i->non_voters, i->leader_changes);
    wire_buf_printf(b, ",\"store\":{\"kv_keys\":%zu,\"pipelines\":%zu}", i->kv_keys, i->pipelines);
    /* the pipelines running on this node, as `wire run` shows them (all: /v1/pipelines) */
    wire_buf_append(b, ",\"pipelines\":", 13);
    wire_api_pipelines src = {node_each, c->api->node};
    wire_api_status_pipelines(&src, b);
    wire_buf_append(b, ",\"build\":{\"version\":", 20);
    str(b, WIRE_VERSION);
    wire_buf_append(b, "}}", 2);
}

static void render_node(const wire_member *m, wire_buf *b)
{
    wire_buf_append(b, "{\"id\":", 6);
    str(b, m->id);
    wire_buf_append(b, ",\"api_addr\":", 12);
    str(b, m->api_addr);
    wire_buf_append(b, ",\"addr\":", 8);
    str(b, m->raft_addr);
    wire_buf_printf(b, ",\"voter\":%s,\"reachable\":%s,\"leader\":%s}", m->voter ? "true" : "false",
                    m->reachable ? "true" : "false", m->leader ? "true" : "false");
}

static void render_nodes(const req_ctx *c, wire_buf *b)
{
    const wire_node_info *i = &c->op.info;
    bool first = true;
    wire_buf_append(b, c->ver2 ? "{\"nodes\":[" : "{", c->ver2 ? 10 : 1);
    for (size_t k = 0; k < i->nmembers; k++) {
        const wire_member *m = &i->members[k];
        if (!m->voter && !c->nonvoters)
            continue;
        if (!first)
            wire_buf_putc(b, ',');
        first = false;
        if (!c->ver2) {
            str(b, m->id);
            wire_buf_putc(b, ':');
        }
        render_node(m, b);
    }
    wire_buf_append(b, c->ver2 ? "]}" : "}", c->ver2 ? 2 : 1);
}

static void counter(wire_buf *b, const char *name, const char *help, const char *type, uint64_t v)
{
    wire_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name,
                    v);
}

static void render_metrics(const req_ctx *c, wire_buf *b)
{
    const wire_node_info *i = &c->op.info;
    counter(b, "wire_raft_term", "Current Raft term.", "gauge", i->term);
    counter(b, "wire_raft_commit_index", "Highest committed log index.", "gauge", i->commit_index);
    counter(b, "wire_raft_applied_index", "Highest log index applied here.", "gauge",
            i->applied_index);
    counter(b, "wire_raft_last_snapshot_index", "Index of the last snapshot.", "gauge",
            i->last_snapshot_index);
    counter(b, "wire_raft_last_log_index", "Index of the last log entry.", "gauge",
            i->last_log_index);
    counter(b, "wire_raft_is_leader", "1 on the leader.", "gauge", strcmp(i->state, "Leader") == 0);
    counter(b, "wire_raft_voters", "Voting members.", "gauge", (uint64_t)i->voters);
    counter(b, "wire_raft_non_voters", "Non-voting members.", "gauge", (uint64_t)i->non_voters);
    counter(b, "wire_raft_leader_changes_total", "Leader changes seen.", "counter",
            i->leader_changes);
    counter(b, "wire_raft_entries_applied_total", "Command entries applied.", "counter",
            i->entries_applied);
    counter(b, "wire_raft_commands_applied_total", "Commands applied (many per entry).", "counter",
            i->commands_applied);
    counter(b, "wire_raft_batches_proposed_total", "Entries proposed here (group commit).",
            "counter", i->batches_proposed);
    counter(b, "wire_raft_commands_proposed_total", "Commands proposed here.", "counter",
            i->commands_proposed);
    counter(b, "wire_raft_snapshots_restored_total", "Snapshots restored (start or install).",
            "counter", i->snapshots_restored);
    counter(b, "wire_cluster_forwarded_total", "Writes forwarded to the leader.", "counter",
            i->forwarded);
    counter(b, "wire_cluster_rpc_in_total", "Cluster RPC requests served.", "counter", i->rpc_in);
    counter(b, "wire_cluster_rpc_out_total", "Cluster RPC requests sent.", "counter", i->rpc_out);
    counter(b, "wire_mux_connections_total", "Connections accepted on the inter-node port.",
            "counter", i->mux_conns);
    counter(b, "wire_mux_unknown_total", "Inter-node connections closed for an unknown byte.",
            "counter", i->mux_unknown);
    counter(b, "wire_kv_keys", "Keys in the replicated KV store.", "gauge", i->kv_keys);
    counter(b, "wire_pipelines", "Pipelines in the replicated state.", "gauge", i->pipelines);
    counter(b, "wire_placement_assignments_total",
            "Pipeline assignments this node proposed as leader.", "counter", i->assignments);
    wire_http_stats hs;
    wire_http_server_stats(c->api->server, &hs);
    wire_buf_printf(b,
                    "# HELP wire_http_requests_total HTTP requests received by the API.\n"
                    "# TYPE wire_http_requests_total counter\n"
                    "wire_http_requests_total %" PRIu64 "\n"
                    "# HELP wire_http_responses_total HTTP responses by status class.\n"
                    "# TYPE wire_http_responses_total counter\n"
                    "wire_http_responses_total{code=\"2xx\"} %" PRIu64 "\n"
                    "wire_http_responses_total{code=\"4xx\"} %" PRIu64 "\n"
                    "wire_http_responses_total{code=\"5xx\"} %" PRIu64 "\n",
                    hs.requests, hs.responses_2xx, hs.responses_4xx, hs.responses_5xx);
    /* the pipelines running here: the same series as `wire run --http-addr` */
    wire_api_pipelines src = {node_each, c->api->node};
    wire_api_metrics(&src, b);
}

static void ctx_free(req_ctx *c)
{
    wire_node_info_free(&c->op.info);
    wire_buf_free(&c->op.value);
    free(c->kv_key);
    free(c);
}

static void op_complete(wire_node_op *op)
{
    req_ctx *c = op->arg;
    wire_http_req *req = c->req;
    wire_buf b;
    wire_buf_init(&b);
    switch (c->route) {
    case R_STATUS: {
        wire_buf doc;
        wire_buf_init(&doc);
        render_status(c, &doc);
        if (c->key[0]) {
            wire_buf val;
            wire_buf_init(&val);
            if (wire_api_status_key(doc.p, doc.len, c->key, &val) != 0) {
                wire_http_respond_error(req, 404, "no key '%s' in the status", c->key);
                wire_buf_free(&val);
                wire_buf_free(&doc);
                break;
            }
            if (c->pretty)
                wire_json_pretty(val.p, val.len, &b);
            else
                wire_buf_append(&b, val.p, val.len);
            wire_buf_free(&val);
        } else if (c->pretty) {
            wire_json_pretty(doc.p, doc.len, &b);
        } else {
            wire_buf_append(&b, doc.p, doc.len);
        }
        wire_buf_free(&doc);
        wire_http_respond(req, 200, "application/json", b.p, b.len);
        break;
    }
    case R_NODES: {
        wire_buf doc;
        wire_buf_init(&doc);
        render_nodes(c, &doc);
        if (c->pretty)
            wire_json_pretty(doc.p, doc.len, &b);
        else
            wire_buf_append(&b, doc.p, doc.len);
        wire_buf_free(&doc);
        wire_http_respond(req, 200, "application/json", b.p, b.len);
        break;
    }
    case R_READY: {
        bool ok = true;
        wire_buf_append(&b, "[+]node ok", 10);
        if (!c->noleader) {
            ok &= op->ready_leader;
            wire_buf_append(&b, op->ready_leader ? "\n[+]leader ok" : "\n[-]leader not ok",
                            op->ready_leader ? 13 : 17);
        }
        ok &= op->ready_store;
        wire_buf_append(&b, op->ready_store ? "\n[+]store ok" : "\n[-]store not ok",
                        op->ready_store ? 12 : 16);
        wire_http_respond(req, ok ? 200 : 503, "text/plain", b.p, b.len);
        break;
    }
    case R_METRICS:
        render_metrics(c, &b);
        wire_http_respond(req, 200, "text/plain; version=0.0.4", b.p, b.len);
        break;
    case R_REMOVE:
    case R_KV_PUT:
    case R_KV_DEL:
        if (op->status != 0) {
            wire_http_respond_error(req, err_status(op->status), "%s", op->err);
        } else if (c->route == R_REMOVE) {
            wire_http_respond(req, 200, "application/json", "{}", 2);
        } else {
            wire_buf_printf(&b, "{\"index\":%" PRIu64 "}", op->index);
            wire_http_respond(req, 200, "application/json", b.p, b.len);
        }
        break;
    case R_KV_GET:
        if (op->status != 0)
            wire_http_respond_error(req, err_status(op->status), "%s", op->err);
        else
            wire_http_respond(req, 200, "application/octet-stream", op->value.p, op->value.len);
        break;
    }
    wire_buf_free(&b);
    ctx_free(c);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode a path segment; -1 on a malformed escape. */
static long url_decode(const char *s, char *out)
{
    size_t k = 0;
    for (; *s; s++) {
        if (*s == '%') {
            int h = hexval(s[1]), l = h >= 0 ? hexval(s[2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            out[k++] = (char)(h * 16 + l);
            s += 2;
        } else {
            out[k++] = *s;
        }
    }
    out[k] = 0;
    return (long)k;
}

static bool flag(wire_http_req *req, const char *name)
{
    char v[16];
    long n = wire_http_req_param(req, name, v, sizeof(v));
    return n >= 0 && strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
}

static void handle(wire_http_req *req, void *arg)
{
    wire_api_node *a = arg;
    const char *path = wire_http_req_path(req);
    const char *method = wire_http_req_method(req);
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    req_ctx *c = wire_xcalloc(1, sizeof(*c));
    c->api = a;
    c->req = req;
    c->op.done = op_complete;
    c->op.arg = c;
    wire_buf_init(&c->op.value);
    c->pretty = flag(req, "pretty");
    if (wire_api_pipelines_handle(req, a->node, c->pretty)) {
        ctx_free(c);
        return;
    }
    if (strncmp(path, "/v1/kv/", 7) == 0) {
        const char *raw = path + 7;
        c->kv_key = wire_xmalloc(strlen(raw) + 1);
        long kl = url_decode(raw, c->kv_key);
        if (kl <= 0) {
            wire_http_respond_error(req, 400, kl < 0 ? "malformed key escape" : "empty key");
            ctx_free(c);
            return;
        }
        if (kl > 4096) {
            wire_http_respond_error(req, 400, "key longer than 4096 bytes");
            ctx_free(c);
            return;
        }
        c->op.key = c->kv_key;
        c->op.klen = (size_t)kl;
        if (strcmp(method, "PUT") == 0) {
            c->route = R_KV_PUT;
            c->op.type = WIRE_OP_KV_SET;
            c->op.val = wire_http_req_body(req, &c->op.vlen);
        } else if (strcmp(method, "DELETE") == 0) {
            c->route = R_KV_DEL;
            c->op.type = WIRE_OP_KV_DEL;
        } else if (get) {
            /* linearizable unless asked otherwise, as etcd: a read sees every write
               acknowledged before it, on any node */
            char lv[16] = "strong";
            long n = wire_http_req_param(req, "level", lv, sizeof(lv));
            c->route = R_KV_GET;
            c->op.type = WIRE_OP_KV_GET;
            if (n < 0 || strcmp(lv, "strong") == 0 || strcmp(lv, "linearizable") == 0) {
                c->op.level = WIRE_READ_STRONG;
            } else if (strcmp(lv, "weak") == 0) {
                c->op.level = WIRE_READ_WEAK;
            } else if (strcmp(lv, "stale") == 0 || strcmp(lv, "none") == 0) {
                c->op.level = WIRE_READ_NONE;
            } else {
                wire_http_respond_error(req, 400,
                                        "level must be strong (the default), weak or stale");
                ctx_free(c);
                return;
            }
        } else {
            wire_http_respond_error(req, 405, "/v1/kv answers GET, PUT and DELETE");
            ctx_free(c);
            return;
        }
        wire_node_submit(a->node, &c->op);
        return;
    }
    static const char *const known[] = {"/status", "/nodes",   "/readyz",
                                        "/livez",  "/metrics", "/remove"};
    bool is_known = false;
    for (size_t i = 0; i < WIRE_ARRAY_LEN(known); i++)
        is_known |= strcmp(path, known[i]) == 0;
    if (!is_known) {
        wire_http_respond_error(req, 404, "no such endpoint: %s", path);
        ctx_free(c);
        return;
    }
    if (strcmp(path, "/remove") == 0) {
        if (strcmp(method, "DELETE") != 0) {
            wire_http_respond_error(req, 405, "/remove answers DELETE");
            ctx_free(c);
            return;
        }
        size_t blen;
        const char *body = wire_http_req_body(req, &blen);
        wire_json_val v;
        if (wire_json_validate_object(body, blen, NULL) != 0 ||
            !wire_json_get(body, blen, "id", 2, &v) || v.kind != WIRE_JSON_STRING || v.n < 3 ||
            v.n - 2 >= sizeof(c->id)) {
            wire_http_respond_error(req, 400, "body must be {\"id\": \"NODE\"}");
            ctx_free(c);
            return;
        }
        size_t idl = wire_json_unescape(v.p + 1, v.n - 2, c->id);
        c->id[idl] = 0;
        c->route = R_REMOVE;
        c->op.type = WIRE_OP_REMOVE;
        c->op.key = c->id;
        c->op.klen = idl;
        wire_node_submit(a->node, &c->op);
        return;
    }
    if (!get) {
        wire_http_respond_error(req, 405, "%s only answers GET", path);
        ctx_free(c);
        return;
    }
    if (strcmp(path, "/livez") == 0) {
        wire_http_respond(req, 200, "text/plain", "[+]node ok", 10);
        ctx_free(c);
        return;
    }
    c->op.type = WIRE_OP_STATUS;
    if (strcmp(path, "/status") == 0) {
        c->route = R_STATUS;
        if (wire_http_req_param(req, "key", c->key, sizeof(c->key)) < 0)
            c->key[0] = 0;
    } else if (strcmp(path, "/nodes") == 0) {
        char v[16];
        c->route = R_NODES;
        c->ver2 = wire_http_req_param(req, "ver", v, sizeof(v)) > 0 && strcmp(v, "2") == 0;
        c->nonvoters = flag(req, "nonvoters");
    } else if (strcmp(path, "/readyz") == 0) {
        char v[32];
        c->route = R_READY;
        c->op.type = WIRE_OP_READY;
        c->noleader = flag(req, "noleader");
        c->op.noleader = c->noleader;
        c->op.sync = flag(req, "sync");
        int64_t ms;
        if (wire_http_req_param(req, "timeout", v, sizeof(v)) > 0 &&
            wire_parse_duration_ms(v, &ms) == 0)
            c->op.timeout_ms = ms;
    } else {
        c->route = R_METRICS;
    }
    wire_node_submit(a->node, &c->op);
}

int wire_api_node_start(const char *addr, wire_node *node, wire_api_node **out, wire_err *err)
{
    wire_api_node *a = wire_xcalloc(1, sizeof(*a));
    a->node = node;
    int rc = wire_http_server_new(addr, handle, a, NULL, &a->server, err);
    if (rc == 0)
        rc = wire_http_server_start(a->server, err);
    if (rc != 0) {
        if (a->server)
            wire_http_server_free(a->server);
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int wire_api_node_port(const wire_api_node *a)
{
    return wire_http_server_port(a->server);
}

void wire_api_node_stop(wire_api_node *a)
{
    if (a)
        wire_http_server_stop(a->server);
}

void wire_api_node_free(wire_api_node *a)
{
    if (!a)
        return;
    wire_http_server_free(a->server);
    free(a);
}
