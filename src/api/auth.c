/*
 * auth.c — who may ask a node what (docs/security.md, Tokens and roles).
 *
 * Under --auth every route but /livez and /readyz wants
 * `Authorization: Bearer TOKEN`. The token is hashed (SHA-256) and looked
 * up in the node's copy of the replicated token table; no secret is kept or
 * logged. Missing, malformed or unknown → 401 with `WWW-Authenticate:
 * Bearer`; known but with a role below the route's → 403. Both bodies are
 * {"error": ...}.
 *
 * A token this node does not know yet may have been made on another node
 * an instant ago: before answering 401 the node catches up with the
 * leader's commit index (as /readyz?sync) and looks again, and then calls
 * the route from the node's thread. A revoked token is refused as soon as
 * this node applies the revocation (a heartbeat or so).
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

static void refuse(wire_http_req *req, int status, const char *msg)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_http_error_json(&b, msg);
    wire_http_response r = {.status = status,
                            .content_type = "application/json",
                            .headers = status == 401 ? "WWW-Authenticate: Bearer realm=\"wire\"\r\n"
                                                     : NULL,
                            .body = b.p,
                            .body_len = b.len};
    wire_http_respond_full(req, &r);
    wire_buf_free(&b);
}

/* Known, and allowed the route: call it; else answer 401 or 403. */
static void decide(wire_api *a, wire_http_req *req, const wire_route *r,
                   const wire_route_args *args, bool known, const wire_token_info *ti)
{
    if (!known) {
        refuse(req, 401, "unknown or revoked token");
        return;
    }
    api_audit_caller(req, ti->name, wire_role_name(ti->role));
    if (!wire_role_allows(ti->role, r->role)) {
        wire_buf m;
        wire_buf_init(&m);
        wire_buf_printf(&m, "token %s has role %s; %s %s needs %s", ti->name,
                        wire_role_name(ti->role), wire_http_req_method(req),
                        wire_http_req_path(req), wire_role_name(r->role));
        refuse(req, 403, m.p);
        wire_buf_free(&m);
        return;
    }
    r->fn(a, req, args);
}

/* A token this node does not know, looked up again once it has applied what the leader
   had committed: a token made on another node a moment ago works here at once. */
typedef struct recheck {
    wire_node_op op;
    wire_api *a;
    wire_http_req *req;
    const wire_route *r;
    wire_route_args args;
    uint8_t hash[WIRE_TOKEN_HASH];
} recheck;

static void rechecked(wire_node_op *op)
{
    recheck *c = op->arg;
    wire_token_info ti;
    bool known = wire_node_token_find(c->a->node, c->hash, &ti);
    decide(c->a, c->req, c->r, &c->args, known, &ti);
    free(c);
}

bool api_authorize(wire_api *a, wire_http_req *req, const wire_route *r,
                   const wire_route_args *args)
{
    if (!a->auth || r->role == WIRE_ROLE_NONE)
        return true;
    const char *h = wire_http_req_header(req, "Authorization");
    const char *tok;
    size_t tl;
    if (!h) {
        refuse(req, 401, "authentication required: send Authorization: Bearer TOKEN");
        return false;
    }
    if (!wire_token_bearer(h, strlen(h), &tok, &tl)) {
        refuse(req, 401, "the Authorization header must be Bearer TOKEN");
        return false;
    }
    uint8_t hash[WIRE_TOKEN_HASH];
    wire_token_hash(tok, tl, hash);
    wire_token_info ti;
    if (wire_node_token_find(a->node, hash, &ti)) {
        decide(a, req, r, args, true, &ti);
        return false;
    }
    recheck *c = wire_xcalloc(1, sizeof(*c));
    c->a = a;
    c->req = req;
    c->r = r;
    c->args = *args;
    memcpy(c->hash, hash, sizeof(hash));
    c->op.type = WIRE_OP_READY;
    c->op.sync = true;
    c->op.timeout_ms = 2000;
    c->op.done = rechecked;
    c->op.arg = c;
    wire_node_submit(a->node, &c->op);
    return false;
}
