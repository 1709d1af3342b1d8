/*
 * api.c — the HTTP API's one route table, for `wire run --http-addr` and
 * `wire serve` alike, and the response helpers its handlers share.
 *
 * A request is matched against the table in order: a row whose pattern
 * matches the path and whose method matches answers it; a path some row
 * matches with another method gets 405 naming the methods it has; anything
 * else 404. Every error body is {"error": "..."}; every JSON body is built
 * with the structured writer (core/json.h), and ?pretty indents it.
 *
 * `wire run` answers the rows marked WIRE_API_RUN from its own pipelines,
 * synchronously; `wire serve` answers WIRE_API_NODE rows through the node
 * (the handlers submit an operation and respond when it completes, on the
 * node's thread), so nothing blocks the HTTP thread while Raft commits.
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

static void run_status(wire_api *a, wire_http_req *req, const wire_route_args *args);
static void run_metrics(wire_api *a, wire_http_req *req, const wire_route_args *args);
static void run_readyz(wire_api *a, wire_http_req *req, const wire_route_args *args);
static void livez(wire_api *a, wire_http_req *req, const wire_route_args *args);

/* the role each route needs under --auth (docs/security.md, Roles) */
#define OPEN WIRE_ROLE_NONE
#define VIEWER WIRE_ROLE_VIEWER
#define OPERATOR WIRE_ROLE_OPERATOR
#define ADMIN WIRE_ROLE_ADMIN

/* clang-format off */
static const wire_route routes[] = {
    {"GET",    "/status",                      WIRE_API_RUN,  VIEWER,   run_status},
    {"GET",    "/status",                      WIRE_API_NODE, VIEWER,   api_node_status},
    {"GET",    "/metrics",                     WIRE_API_RUN,  VIEWER,   run_metrics},
    {"GET",    "/metrics",                     WIRE_API_NODE, VIEWER,   api_node_metrics},
    {"GET",    "/readyz",                      WIRE_API_RUN,  OPEN,     run_readyz},
    {"GET",    "/readyz",                      WIRE_API_NODE, OPEN,     api_node_readyz},
    {"GET",    "/livez",                       WIRE_API_BOTH, OPEN,     livez},
    {"GET",    "/nodes",                       WIRE_API_NODE, VIEWER,   api_node_nodes},
    {"DELETE", "/remove",                      WIRE_API_NODE, ADMIN,    api_node_remove},
    {"GET",    "/v1/kv/*",                     WIRE_API_NODE, VIEWER,   api_kv_get},
    {"PUT",    "/v1/kv/*",                     WIRE_API_NODE, OPERATOR, api_kv_put},
    {"DELETE", "/v1/kv/*",                     WIRE_API_NODE, OPERATOR, api_kv_delete},
    {"GET",    "/v1/pipelines",                WIRE_API_NODE, VIEWER,   api_pipelines_list},
    {"POST",   "/v1/pipelines",                WIRE_API_NODE, OPERATOR, api_pipelines_create},
    {"GET",    "/v1/pipelines/{name}",         WIRE_API_NODE, VIEWER,   api_pipeline_get},
    {"PUT",    "/v1/pipelines/{name}",         WIRE_API_NODE, OPERATOR, api_pipeline_update},
    {"DELETE", "/v1/pipelines/{name}",         WIRE_API_NODE, OPERATOR, api_pipeline_delete},
    {"POST",   "/v1/pipelines/{name}/pause",   WIRE_API_NODE, OPERATOR, api_pipeline_pause},
    {"POST",   "/v1/pipelines/{name}/resume",  WIRE_API_NODE, OPERATOR, api_pipeline_resume},
    {"GET",    "/v1/tokens",                   WIRE_API_NODE, ADMIN,    api_tokens_list},
    {"POST",   "/v1/tokens",                   WIRE_API_NODE, ADMIN,    api_tokens_create},
    {"DELETE", "/v1/tokens/{name}",            WIRE_API_NODE, ADMIN,    api_token_revoke},
    {"GET",    "/connector",                   WIRE_API_NODE, VIEWER,   api_connectors_list},
    {"POST",   "/connector/{name}",            WIRE_API_NODE, OPERATOR, api_connector_create},
    {"DELETE", "/connector/{name}",            WIRE_API_NODE, OPERATOR, api_connector_delete},
};
/* clang-format on */

/*
 * Does `path` match `pattern`? A trailing slash is ignored; {name} matches
 * one segment, '*' the rest (either may be empty, so that handlers can say
 * what a name or key must be).
 */
static bool match(const char *pattern, const char *path, wire_route_args *args)
{
    const char *p = pattern, *s = path;
    args->cap = NULL;
    args->cap_len = 0;
    while (*p) {
        if (*p == '{') {
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            args->cap = s;
            args->cap_len = n;
            s += n;
            p = strchr(p, '}') + 1;
        } else if (*p == '*') {
            args->cap = s;
            args->cap_len = strlen(s);
            return true;
        } else if (*p++ != *s++) {
            return false;
        }
    }
    return !*s || (s[0] == '/' && !s[1]);
}

static bool method_is(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void handle(wire_http_req *req, void *arg)
{
    wire_api *a = arg;
    unsigned serves = a->node ? WIRE_API_NODE : WIRE_API_RUN;
    const char *path = wire_http_req_path(req), *method = wire_http_req_method(req);
    char allowed[64] = "";
    size_t nallowed = 0;
    for (size_t i = 0; i < WIRE_ARRAY_LEN(routes); i++) {
        const wire_route *r = &routes[i];
        wire_route_args args;
        if (!(r->serves & serves) || !match(r->pattern, path, &args))
            continue;
        if (method_is(r->method, method)) {
            if (a->node)
                api_audit_begin(req, r, &args);
            if (api_authorize(a, req, r, &args))
                r->fn(a, req, &args);
            return;
        }
        if (!strstr(allowed, r->method) && nallowed < 4) {
            size_t len = strlen(allowed);
            snprintf(allowed + len, sizeof(allowed) - len, "%s%s", nallowed ? ", " : "", r->method);
            nallowed++;
        }
    }
    if (nallowed)
        wire_http_respond_error(req, 405, "%s answers %s", path, allowed);
    else
        wire_http_respond_error(req, 404, "no such endpoint: %s", path);
}

/* ---- response helpers ---- */

bool api_flag(wire_http_req *req, const char *name)
{
    char v[16];
    long n = wire_http_req_param(req, name, v, sizeof(v));
    return n >= 0 && strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
}

bool api_timeout(wire_http_req *req, int64_t *ms)
{
    char v[32];
    *ms = 0;
    if (wire_http_req_param(req, "timeout", v, sizeof(v)) < 0)
        return true;
    if (wire_parse_duration_ms(v, ms) != 0 || *ms <= 0 || *ms > 3600 * 1000) {
        wire_http_respond_error(req, 400,
                                "timeout must be a duration from 1ms to 1h, like 500ms "
                                "or 10s");
        return false;
    }
    return true;
}

void api_respond_json(wire_http_req *req, int status, const wire_buf *doc)
{
    if (api_flag(req, "pretty")) {
        wire_buf pb;
        wire_buf_init(&pb);
        wire_json_pretty(doc->p, doc->len, &pb);
        wire_http_respond(req, status, "application/json", pb.p, pb.len);
        wire_buf_free(&pb);
    } else {
        wire_http_respond(req, status, "application/json", doc->p, doc->len);
    }
}

/* /status?key=a.b: the value at that dotted path of the status document. */
static int status_key(const char *doc, size_t n, const char *key, wire_buf *out)
{
    wire_json_val v = {WIRE_JSON_OBJECT, doc, n};
    const char *k = key;
    while (*k) {
        const char *dot = strchr(k, '.');
        size_t len = dot ? (size_t)(dot - k) : strlen(k);
        wire_json_val next;
        if (v.kind == WIRE_JSON_OBJECT) {
            if (!wire_json_get(v.p, v.n, k, len, &next))
                return -1;
        } else if (v.kind == WIRE_JSON_ARRAY) {
            char *end;
            unsigned long idx = strtoul(k, &end, 10);
            if (end != k + len || !wire_json_index(v.p, v.n, idx, &next))
                return -1;
        } else {
            return -1;
        }
        v = next;
        k += len + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    wire_buf_append(out, v.p, v.n);
    return 0;
}

void api_respond_doc(wire_http_req *req, const wire_buf *doc)
{
    char key[256];
    if (wire_http_req_param(req, "key", key, sizeof(key)) <= 0) {
        api_respond_json(req, 200, doc);
        return;
    }
    wire_buf val;
    wire_buf_init(&val);
    if (status_key(doc->p, doc->len, key, &val) != 0)
        wire_http_respond_error(req, 404, "no key '%s' in the status", key);
    else
        api_respond_json(req, 200, &val);
    wire_buf_free(&val);
}

void api_respond_op_error(wire_http_req *req, int code, const char *msg)
{
    int status = code == WIRE_ENOTFOUND                       ? 404
                 : code == WIRE_EINVAL || code == WIRE_EPARSE ? 400
                                                              : 503;
    wire_buf b;
    wire_buf_init(&b);
    wire_http_error_json(&b, msg);
    /* a 503 here means no leader (yet), or the deadline passed: a client may try again */
    wire_http_response r = {.status = status,
                            .content_type = "application/json",
                            .retry_after_s = status == 503 ? 1 : 0,
                            .body = b.p,
                            .body_len = b.len};
    wire_http_respond_full(req, &r);
    wire_buf_free(&b);
}

/* ---- wire run's handlers ---- */

static void run_status(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    wire_buf doc;
    wire_buf_init(&doc);
    api_render_status(NULL, &a->src, &doc);
    api_respond_doc(req, &doc);
    wire_buf_free(&doc);
}

static void run_metrics(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_http_stats hs;
    wire_http_server_stats(a->server, &hs);
    api_render_metrics(NULL, &a->src, &hs, &b);
    wire_http_respond(req, 200, "text/plain; version=0.0.4", b.p, b.len);
    wire_buf_free(&b);
}

typedef struct ready_ctx {
    int total, failed;
} ready_ctx;

static void count_ready(wire_pipeline *p, void *arg)
{
    ready_ctx *r = arg;
    r->total++;
    if (wire_pipeline_state(p) == WIRE_PIPE_FAILED)
        r->failed++;
}

static void run_readyz(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    ready_ctx r = {0, 0};
    a->src.each(a->src.arg, count_ready, &r);
    bool ok = r.failed == 0;
    const char *body = ok ? "[+]node ok\n[+]pipelines ok\n[+]store ok\n"
                          : "[+]node ok\n[-]pipelines failed\n[+]store ok\n";
    wire_http_respond(req, ok ? 200 : 503, "text/plain", body, strlen(body));
}

static void livez(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    const char *body = a->node ? "[+]node ok" : "ok\n";
    wire_http_respond(req, 200, "text/plain", body, strlen(body));
}

/* ---- lifecycle ---- */

int wire_api_start(const wire_api_opts *o, wire_api **out, wire_err *err)
{
    wire_api *a = wire_xcalloc(1, sizeof(*a));
    a->src = o->pipelines;
    a->node = o->node;
    a->registry = o->registry;
    a->sandbox = o->sandbox;
    a->max_pipelines = o->max_pipelines;
    a->max_transforms = o->max_transforms;
    a->max_pipeline_bytes = o->max_pipeline_bytes;
    a->auth = o->auth && o->node;
    /* one client cannot take the node: a cap per address, and health checks are
       answered even past the caps */
    static const char *const health[] = {"/livez", "/readyz", NULL};
    if (o->tls && !(a->tls = wire_tls_server_new(o->tls, err))) {
        free(a);
        return -1;
    }
    wire_http_opts ho = {.max_conns_per_client = o->max_conns_per_client > 0
                                                     ? (int)o->max_conns_per_client
                                                     : WIRE_API_CONNS_PER_CLIENT,
                         .always_paths = health,
                         .tls = a->tls};
    int rc = wire_http_server_new(o->addr, handle, a, &ho, &a->server, err);
    if (rc == 0)
        rc = wire_http_server_start(a->server, err);
    if (rc != 0) {
        if (a->server)
            wire_http_server_free(a->server);
        wire_tls_free(a->tls);
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int wire_api_port(const wire_api *a)
{
    return wire_http_server_port(a->server);
}

void wire_api_stop(wire_api *a)
{
    if (a)
        wire_http_server_stop(a->server);
}

void wire_api_free(wire_api *a)
{
    if (!a)
        return;
    wire_http_server_free(a->server);
    wire_tls_free(a->tls);
    free(a);
}

void wire_api_reload_tls(wire_api *a)
{
    if (a && a->tls)
        wire_tls_request_reload(a->tls);
}
