/*
 * audit.c — the audit log: one structured line per mutating request a node
 * answers (docs/security.md, Audit log), written to the node's log as
 *
 *   audit {"time":"...","token":null,"role":null,"method":"POST",
 *          "path":"/v1/pipelines","pipeline":"evens","status":201,"outcome":"ok"}
 *
 * `token` and `role` name the caller (its token's name, never the secret)
 * under --auth; without it they are null. The subject is the route's {name} or key, or
 * what the handler learnt from the body (api_audit_subject: a created
 * pipeline's name). The line is written when the answer is, with its status.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "core/json.h"

typedef struct audit {
    char method[8];
    char *path;
    const char *kind; /* "pipeline", "key", "node", "token_name" or NULL */
    char *subject;
    char token[WIRE_TOKEN_NAME_MAX + 1]; /* the caller's token's name and role, or "" */
    const char *role;
} audit;

static const char *outcome(int status)
{
    return status == 0     ? "unanswered"
           : status < 400  ? "ok"
           : status == 401 ? "unauthenticated"
           : status == 403 ? "forbidden"
           : status < 500  ? "refused"
                           : "failed";
}

static void audit_answer(wire_http_req *req, int status, void *arg)
{
    audit *au = arg;
    char when[32];
    wire_time_iso(wire_now_ms(), when);
    wire_buf b;
    wire_buf_init(&b);
    wire_jw w;
    wire_jw_init(&w, &b);
    wire_jw_obj(&w);
    wire_jw_kstr(&w, "time", when);
    wire_jw_key(&w, "token");
    wire_jw_str(&w, au->token[0] ? au->token : NULL);
    wire_jw_key(&w, "role");
    wire_jw_str(&w, au->role);
    wire_jw_kstr(&w, "method", au->method);
    wire_jw_kstr(&w, "path", au->path);
    if (au->kind && au->subject)
        wire_jw_kstr(&w, au->kind, au->subject);
    wire_jw_kint(&w, "status", status);
    wire_jw_kstr(&w, "outcome", outcome(status));
    wire_jw_end(&w);
    wire_info("audit %.*s", (int)b.len, b.p);
    wire_buf_free(&b);
    free(au->path);
    free(au->subject);
    free(au);
}

void api_audit_begin(wire_http_req *req, const wire_route *r, const wire_route_args *args)
{
    const char *m = wire_http_req_method(req);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return;
    audit *au = wire_xcalloc(1, sizeof(*au));
    snprintf(au->method, sizeof(au->method), "%s", m);
    au->path = wire_xstrdup(wire_http_req_path(req));
    const char *p = r->pattern;
    au->kind = strncmp(p, "/v1/pipelines", 13) == 0 || strncmp(p, "/connector", 10) == 0
                   ? "pipeline"
               : strncmp(p, "/v1/kv", 6) == 0      ? "key"
               : strcmp(p, "/remove") == 0         ? "node"
               : strncmp(p, "/v1/tokens", 10) == 0 ? "token_name"
                                                   : NULL;
    if (args->cap && args->cap_len)
        au->subject = wire_xstrndup(args->cap, args->cap_len);
    wire_http_req_on_answer(req, audit_answer, au);
}

void api_audit_caller(wire_http_req *req, const char *token, const char *role)
{
    audit *au = wire_http_req_answer_arg(req);
    if (!au)
        return;
    snprintf(au->token, sizeof(au->token), "%s", token);
    au->role = role;
}

void api_audit_subject(wire_http_req *req, const char *subject)
{
    audit *au = wire_http_req_answer_arg(req);
    if (!au || !subject)
        return;
    free(au->subject);
    au->subject = wire_xstrdup(subject);
}
