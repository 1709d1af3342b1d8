/*
 * node_routes.c — the handlers of the cluster node's own routes (`wire
 * serve`; the table is in api.c):
 *
 *   GET    /status[?pretty][&key=a.b]   node, leader{node_id,addr}, raft{...}, pipelines, build
 *   GET    /nodes[?ver=2][&nonvoters]   id -> {id,api_addr,addr,voter,reachable,leader}
 *   GET    /readyz[?noleader][&sync]    "[+]node ok\n[+]leader ok\n[+]store ok", 200 or 503
 *   GET    /metrics                     Prometheus text
 *   DELETE /remove {"id":"n3"}          remove a node (the node forwards to the leader)
 *   PUT|GET|DELETE /v1/kv/KEY           ?level=strong (default)|weak|stale (= none) for GET;
 *                                       ?timeout=DUR for writes (default --request-timeout)
 *
 * Each request becomes a wire_node_op submitted to the node; the answer is
 * written from the op's completion (on the node's loop thread).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

enum { R_STATUS, R_NODES, R_READY, R_METRICS, R_REMOVE, R_KV_PUT, R_KV_GET, R_KV_DEL };

typedef struct req_ctx {
    wire_node_op op;
    wire_api *api;
    wire_http_req *req;
    int route;
    bool ver2, nonvoters, noleader;
    char *kv_key; /* decoded KV key */
    char id[256];
} req_ctx;

static void node_each(void *arg, void (*fn)(wire_pipeline *p, void *fnarg), void *fnarg)
{
    wire_node_pipelines_each(arg, fn, fnarg);
}

static void render_node(wire_jw *w, const wire_member *m)
{
    wire_jw_obj(w);
    wire_jw_kstr(w, "id", m->id);
    api_render_member(w, m);
    wire_jw_kbool(w, "reachable", m->reachable);
    wire_jw_kbool(w, "leader", m->leader);
    wire_jw_end(w);
}

static void render_nodes(const req_ctx *c, wire_buf *b)
{
    const wire_node_info *i = &c->op.info;
    wire_jw w;
    wire_jw_init(&w, b);
    wire_jw_obj(&w);
    if (c->ver2) {
        wire_jw_key(&w, "nodes");
        wire_jw_arr(&w);
    }
    for (size_t k = 0; k < i->nmembers; k++) {
        const wire_member *m = &i->members[k];
        if (!m->voter && !c->nonvoters)
            continue;
        if (!c->ver2)
            wire_jw_key(&w, m->id);
        render_node(&w, m);
    }
    if (c->ver2)
        wire_jw_end(&w);
    wire_jw_end(&w);
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
    wire_api_pipelines src = {node_each, c->api->node};
    wire_buf b;
    wire_buf_init(&b);
    if (op->status != 0 && c->route != R_READY && c->route != R_STATUS && c->route != R_NODES &&
        c->route != R_METRICS) {
        api_respond_op_error(req, op->status, op->err);
        goto out;
    }
    switch (c->route) {
    case R_STATUS:
        api_render_status(&op->info, &src, &b);
        api_respond_doc(req, &b);
        break;
    case R_NODES:
        render_nodes(c, &b);
        api_respond_json(req, 200, &b);
        break;
    case R_READY: {
        bool ok = op->ready_store && (c->noleader || op->ready_leader);
        wire_buf_printf(&b, "[+]node ok");
        if (!c->noleader)
            wire_buf_printf(&b, "\n[%c]leader %s", op->ready_leader ? '+' : '-',
                            op->ready_leader ? "ok" : "not ok");
        wire_buf_printf(&b, "\n[%c]store %s", op->ready_store ? '+' : '-',
                        op->ready_store ? "ok" : "not ok");
        wire_http_respond(req, ok ? 200 : 503, "text/plain", b.p, b.len);
        break;
    }
    case R_METRICS: {
        wire_http_stats hs;
        wire_http_server_stats(c->api->server, &hs);
        api_render_metrics(&op->info, &src, &hs, &b);
        wire_http_respond(req, 200, "text/plain; version=0.0.4", b.p, b.len);
        break;
    }
    case R_REMOVE: wire_http_respond(req, 200, "application/json", "{}", 2); break;
    case R_KV_PUT:
    case R_KV_DEL: {
        wire_jw w;
        wire_jw_init(&w, &b);
        wire_jw_obj(&w);
        wire_jw_kuint(&w, "index", op->index);
        wire_jw_end(&w);
        wire_http_respond(req, 200, "application/json", b.p, b.len);
        break;
    }
    case R_KV_GET:
        wire_http_respond(req, 200, "application/octet-stream", op->value.p, op->value.len);
        break;
    }
out:
    wire_buf_free(&b);
    ctx_free(c);
}

static req_ctx *ctx_new(wire_api *a, wire_http_req *req, int route, int op_type)
{
    req_ctx *c = wire_xcalloc(1, sizeof(*c));
    c->api = a;
    c->req = req;
    c->route = route;
    c->op.type = op_type;
    c->op.done = op_complete;
    c->op.arg = c;
    wire_buf_init(&c->op.value);
    return c;
}

void api_node_status(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    wire_node_submit(a->node, &ctx_new(a, req, R_STATUS, WIRE_OP_STATUS)->op);
}

void api_node_metrics(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    wire_node_submit(a->node, &ctx_new(a, req, R_METRICS, WIRE_OP_STATUS)->op);
}

void api_node_nodes(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    req_ctx *c = ctx_new(a, req, R_NODES, WIRE_OP_STATUS);
    char v[16];
    c->ver2 = wire_http_req_param(req, "ver", v, sizeof(v)) > 0 && strcmp(v, "2") == 0;
    c->nonvoters = api_flag(req, "nonvoters");
    wire_node_submit(a->node, &c->op);
}

void api_node_readyz(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    int64_t ms;
    if (!api_timeout(req, &ms))
        return;
    req_ctx *c = ctx_new(a, req, R_READY, WIRE_OP_READY);
    c->noleader = api_flag(req, "noleader");
    c->op.noleader = c->noleader;
    c->op.sync = api_flag(req, "sync");
    c->op.timeout_ms = ms;
    wire_node_submit(a->node, &c->op);
}

void api_node_remove(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    int64_t ms;
    if (!api_timeout(req, &ms))
        return;
    size_t blen;
    const char *body = wire_http_req_body(req, &blen);
    wire_json_val v;
    if (wire_json_validate_object(body, blen, NULL) != 0 ||
        !wire_json_get(body, blen, "id", 2, &v) || v.kind != WIRE_JSON_STRING || v.n < 3 ||
        v.n - 2 >= sizeof(((req_ctx *)0)->id)) {
        wire_http_respond_error(req, 400, "body must be {\"id\": \"NODE\"}");
        return;
    }
    req_ctx *c = ctx_new(a, req, R_REMOVE, WIRE_OP_REMOVE);
    size_t idl = wire_json_unescape(v.p + 1, v.n - 2, c->id);
    c->id[idl] = 0;
    api_audit_subject(req, c->id);
    c->op.key = c->id;
    c->op.klen = idl;
    c->op.timeout_ms = ms;
    wire_node_submit(a->node, &c->op);
}

/* The KV key of the path, decoded, in a new context; NULL after answering 400. */
static req_ctx *kv_ctx(wire_api *a, wire_http_req *req, const wire_route_args *args, int route,
                       int op_type)
{
    char *key = wire_xmalloc(args->cap_len + 1);
    long kl = wire_http_path_decode(args->cap, args->cap_len, key);
    if (kl <= 0 || kl > 4096) {
        wire_http_respond_error(req, 400, "%s",
                                kl < 0    ? "malformed key escape"
                                : kl == 0 ? "empty key"
                                          : "key longer than 4096 bytes");
        free(key);
        return NULL;
    }
    req_ctx *c = ctx_new(a, req, route, op_type);
    c->kv_key = key;
    c->op.key = key;
    c->op.klen = (size_t)kl;
    return c;
}

/* A KV write: waits up to ?timeout= (default --request-timeout) for a leader. */
static void kv_write(wire_api *a, wire_http_req *req, const wire_route_args *args, int route,
                     int op_type)
{
    int64_t ms;
    if (!api_timeout(req, &ms))
        return;
    req_ctx *c = kv_ctx(a, req, args, route, op_type);
    if (!c)
        return;
    c->op.timeout_ms = ms;
    if (op_type == WIRE_OP_KV_SET)
        c->op.val = wire_http_req_body(req, &c->op.vlen);
    wire_node_submit(a->node, &c->op);
}

void api_kv_put(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    kv_write(a, req, args, R_KV_PUT, WIRE_OP_KV_SET);
}

void api_kv_delete(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    kv_write(a, req, args, R_KV_DEL, WIRE_OP_KV_DEL);
}

void api_kv_get(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    /* linearizable unless asked otherwise, as etcd: a read sees every write
       acknowledged before it, on any node */
    char lv[16] = "strong";
    long n = wire_http_req_param(req, "level", lv, sizeof(lv));
    int level;
    if (n < 0 || strcmp(lv, "strong") == 0 || strcmp(lv, "linearizable") == 0) {
        level = WIRE_READ_STRONG;
    } else if (strcmp(lv, "weak") == 0) {
        level = WIRE_READ_WEAK;
    } else if (strcmp(lv, "stale") == 0 || strcmp(lv, "none") == 0) {
        level = WIRE_READ_NONE;
    } else {
        wire_http_respond_error(req, 400, "level must be strong (the default), weak or stale");
        return;
    }
    req_ctx *c = kv_ctx(a, req, args, R_KV_GET, WIRE_OP_KV_GET);
    if (!c)
        return;
    c->op.level = level;
    wire_node_submit(a->node, &c->op);
}
