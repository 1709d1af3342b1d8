/*
 * token_routes.c — API tokens over HTTP (`wire serve`; the routes are in
 * api.c's table, all of them role admin):
 *
 *   POST   /v1/tokens {"name": N, "role": R}  → 201 {"name","role","token"}: the secret,
 *                                               shown this once
 *   GET    /v1/tokens                         → {"tokens":[{"name","role","created"}]}
 *   DELETE /v1/tokens/NAME                    → 200 {"name","revoked":true}, 404
 *
 * The node that creates a token makes the secret (core/token.h) and proposes
 * only its SHA-256; a list waits until this node has applied what the leader
 * had committed (as /readyz?sync), so it shows a token created on another
 * node a moment ago.
 */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

enum { T_CREATE, T_LIST, T_REVOKE };

typedef struct tctx {
    wire_node_op op;
    wire_http_req *req;
    wire_api *api;
    int route;
    char name[WIRE_TOKEN_NAME_MAX + 1];
    const char *role;
    char secret[WIRE_TOKEN_LEN + 1];
    uint8_t hash[WIRE_TOKEN_HASH];
} tctx;

static void render_list(wire_api *a, wire_buf *b)
{
    wire_token_info *v;
    size_t n = wire_node_tokens(a->node, &v);
    wire_jw w;
    wire_jw_init(&w, b);
    wire_jw_obj(&w);
    wire_jw_key(&w, "tokens");
    wire_jw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        char when[32];
        wire_time_iso(v[i].created_ms, when);
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "name", v[i].name);
        wire_jw_kstr(&w, "role", wire_role_name(v[i].role));
        wire_jw_kstr(&w, "created", when);
        wire_jw_end(&w);
    }
    wire_jw_end(&w);
    wire_jw_end(&w);
    free(v);
}

static void done(wire_node_op *op)
{
    tctx *c = op->arg;
    wire_buf b;
    wire_buf_init(&b);
    wire_jw w;
    wire_jw_init(&w, &b);
    if (c->route == T_LIST) {
        /* the barrier failed (no leader): this node's table, which may lag */
        render_list(c->api, &b);
        api_respond_json(c->req, 200, &b);
    } else if (op->status != 0) {
        api_respond_op_error(c->req, op->status, op->err);
    } else if (op->result == WIRE_APPLY_EXISTS) {
        wire_http_respond_error(c->req, 409, "a token named %s exists", c->name);
    } else if (op->result == WIRE_APPLY_NOTFOUND) {
        wire_http_respond_error(c->req, 404, "no token named %s", c->name);
    } else if (op->result != WIRE_APPLY_OK) {
        wire_http_respond_error(c->req, 400, "refused by the state machine (%u)", op->result);
    } else if (c->route == T_CREATE) {
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "name", c->name);
        wire_jw_kstr(&w, "role", c->role);
        wire_jw_kstr(&w, "token", c->secret);
        wire_jw_end(&w);
        api_respond_json(c->req, 201, &b);
    } else {
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "name", c->name);
        wire_jw_kbool(&w, "revoked", true);
        wire_jw_end(&w);
        api_respond_json(c->req, 200, &b);
    }
    /* the secret leaves this process only in the response */
    memset(c->secret, 0, sizeof(c->secret));
    if (b.p)
        memset(b.p, 0, b.len);
    wire_buf_free(&b);
    free(c);
}

static tctx *tctx_new(wire_api *a, wire_http_req *req, int route)
{
    int64_t ms;
    if (!api_timeout(req, &ms))
        return NULL;
    tctx *c = wire_xcalloc(1, sizeof(*c));
    c->api = a;
    c->req = req;
    c->route = route;
    c->op.timeout_ms = ms;
    c->op.done = done;
    c->op.arg = c;
    return c;
}

/* A string member of the JSON body into out (NUL-terminated); false if absent or too long. */
static bool body_str(const char *body, size_t n, const char *key, char *out, size_t cap)
{
    wire_json_val v;
    if (!wire_json_get(body, n, key, strlen(key), &v) || v.kind != WIRE_JSON_STRING ||
        v.n - 2 >= cap)
        return false;
    size_t k = wire_json_unescape(v.p + 1, v.n - 2, out);
    out[k] = 0;
    return strlen(out) == k;
}

void api_tokens_create(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    size_t n;
    const char *body = wire_http_req_body(req, &n);
    char name[WIRE_TOKEN_NAME_MAX + 1], role[16];
    if (wire_json_validate_object(body, n, NULL) != 0 ||
        !body_str(body, n, "name", name, sizeof(name)) ||
        !body_str(body, n, "role", role, sizeof(role))) {
        wire_http_respond_error(req, 400, "body must be {\"name\": NAME, \"role\": ROLE}");
        return;
    }
    int r = wire_role_parse(role, strlen(role));
    if (!wire_token_name_ok(name, strlen(name))) {
        wire_http_respond_error(req, 400, "a token name is 1 to 64 of A-Z a-z 0-9 _ . -");
        return;
    }
    if (!r) {
        wire_http_respond_error(req, 400, "role must be admin, operator, viewer or node");
        return;
    }
    api_audit_subject(req, name);
    tctx *c = tctx_new(a, req, T_CREATE);
    if (!c)
        return;
    wire_err err;
    if (wire_token_new(c->secret, &err) != 0) {
        wire_http_respond_error(req, 500, "%s", err.msg);
        free(c);
        return;
    }
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->role = wire_role_name(r);
    wire_token_hash(c->secret, strlen(c->secret), c->hash);
    c->op.type = WIRE_OP_CMD;
    c->op.cmd.type = WIRE_CMD_TOKEN_PUT;
    c->op.cmd.a = c->name;
    c->op.cmd.alen = strlen(c->name);
    c->op.cmd.b = (const char *)c->hash;
    c->op.cmd.blen = WIRE_TOKEN_HASH;
    c->op.cmd.c = c->role;
    c->op.cmd.clen = strlen(c->role);
    c->op.cmd.u1 = (uint64_t)wire_now_ms();
    wire_node_submit(a->node, &c->op);
}

void api_tokens_list(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    tctx *c = tctx_new(a, req, T_LIST);
    if (!c)
        return;
    c->op.type = WIRE_OP_READY;
    c->op.sync = true;
    wire_node_submit(a->node, &c->op);
}

void api_token_revoke(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    if (!wire_token_name_ok(args->cap, args->cap_len)) {
        wire_http_respond_error(req, 404, "no token named %.*s", (int)args->cap_len, args->cap);
        return;
    }
    tctx *c = tctx_new(a, req, T_REVOKE);
    if (!c)
        return;
    memcpy(c->name, args->cap, args->cap_len);
    c->op.type = WIRE_OP_CMD;
    c->op.cmd.type = WIRE_CMD_TOKEN_DEL;
    c->op.cmd.a = c->name;
    c->op.cmd.alen = args->cap_len;
    wire_node_submit(a->node, &c->op);
}
