/*
 * api.c — the HTTP API's routes for `wire run --http-addr`:
 *
 *   GET /status[?pretty][&key=a.b]   JSON (key: just that value)
 *   GET /metrics                     Prometheus text format
 *   GET /readyz                      "[+]node ok\n[+]pipelines ok\n[+]store ok", 200 or 503
 *   GET /livez                       200 while the process serves
 *
 * Anything else: 404, or 405 for a known path with another method, with a
 * JSON {"error"} body.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/json.h"
#include "net/net.h"

struct wire_api {
    wire_http_server *server;
    wire_api_pipelines src;
};

/* /status?key=a.b: the value at that dotted path of the status document. */
int wire_api_status_key(const char *doc, size_t n, const char *key, wire_buf *out)
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

static void handle(wire_http_req *req, void *arg)
{
    wire_api *a = arg;
    const char *path = wire_http_req_path(req);
    const char *method = wire_http_req_method(req);
    static const char *const known[] = {"/status", "/metrics", "/readyz", "/livez"};
    bool is_known = false;
    for (size_t i = 0; i < WIRE_ARRAY_LEN(known); i++)
        is_known |= strcmp(path, known[i]) == 0;
    if (!is_known) {
        wire_http_respond_error(req, 404, "no such endpoint: %s", path);
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        wire_http_respond_error(req, 405, "%s only answers GET", path);
        return;
    }
    wire_buf b;
    wire_buf_init(&b);
    if (strcmp(path, "/status") == 0) {
        char key[256];
        char flag[16];
        bool pretty = wire_http_req_param(req, "pretty", flag, sizeof(flag)) >= 0;
        long klen = wire_http_req_param(req, "key", key, sizeof(key));
        wire_buf doc;
        wire_buf_init(&doc);
        wire_api_status(&a->src, false, &doc);
        if (klen > 0) {
            wire_buf val;
            wire_buf_init(&val);
            if (wire_api_status_key(doc.p, doc.len, key, &val) != 0) {
                wire_http_respond_error(req, 404, "no key '%s' in the status", key);
                wire_buf_free(&val);
                wire_buf_free(&doc);
                return;
            }
            if (pretty)
                wire_json_pretty(val.p, val.len, &b);
            else
                wire_buf_append(&b, val.p, val.len);
            wire_buf_free(&val);
        } else if (pretty) {
            wire_json_pretty(doc.p, doc.len, &b);
        } else {
            wire_buf_append(&b, doc.p, doc.len);
        }
        wire_buf_free(&doc);
        wire_http_respond(req, 200, "application/json", b.p, b.len);
    } else if (strcmp(path, "/metrics") == 0) {
        wire_api_metrics(&a->src, &b);
        wire_http_stats hs;
        wire_http_server_stats(a->server, &hs);
        wire_buf_printf(&b,
                        "# HELP wire_http_requests_total HTTP requests received by the API.\n"
                        "# TYPE wire_http_requests_total counter\n"
                        "wire_http_requests_total %llu\n"
                        "# HELP wire_http_responses_total HTTP responses by status class.\n"
                        "# TYPE wire_http_responses_total counter\n"
                        "wire_http_responses_total{code=\"2xx\"} %llu\n"
                        "wire_http_responses_total{code=\"4xx\"} %llu\n"
                        "wire_http_responses_total{code=\"5xx\"} %llu\n",
                        (unsigned long long)hs.requests, (unsigned long long)hs.responses_2xx,
                        (unsigned long long)hs.responses_4xx, (unsigned long long)hs.responses_5xx);
        wire_http_respond(req, 200, "text/plain; version=0.0.4", b.p, b.len);
    } else if (strcmp(path, "/readyz") == 0) {
        ready_ctx r = {0, 0};
        a->src.each(a->src.arg, count_ready, &r);
        bool ok = r.failed == 0;
        wire_buf_printf(&b, "[+]node ok\n[%c]pipelines %s\n[+]store ok\n", ok ? '+' : '-',
                        ok ? "ok" : "failed");
        wire_http_respond(req, ok ? 200 : 503, "text/plain", b.p, b.len);
    } else {
        wire_http_respond(req, 200, "text/plain", "ok\n", 3);
    }
    wire_buf_free(&b);
}

int wire_api_start(const char *addr, const wire_api_pipelines *src, wire_api **out, wire_err *err)
{
    wire_api *a = wire_xcalloc(1, sizeof(*a));
    a->src = *src;
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

int wire_api_port(const wire_api *a)
{
    return wire_http_server_port(a->server);
}

void wire_api_stop(wire_api *a)
{
    if (!a)
        return;
    wire_http_server_free(a->server);
    free(a);
}
