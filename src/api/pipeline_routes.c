/*
 * pipeline_routes.c — pipelines as replicated state, over HTTP (any node):
 *
 *   POST   /v1/pipelines               YAML or JSON document → 201 {"name","version"}
 *   GET    /v1/pipelines               {"pipelines":[{name,version,state,error,node,...}]}
 *   GET    /v1/pipelines/NAME          the same object plus "spec"
 *   PUT    /v1/pipelines/NAME          a new version → 200 {"name","version"}
 *   DELETE /v1/pipelines/NAME          → 200 {"name","deleted":true}
 *   POST   /v1/pipelines/NAME/pause    → 200 {"name","state":"paused"}
 *   POST   /v1/pipelines/NAME/resume   → 200 {"name","state":"pending"}
 *
 * Documents are validated here exactly as `wire validate` does, so a bad one
 * is a 400 with every problem and its line and column; only valid documents
 * reach the log. Writes become one state-machine command each (forwarded to
 * the leader by the node) and are answered once applied on this node.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/legacy.h"
#include "cluster/cluster.h"
#include "core/json.h"
#include "net/net.h"
#include "registry/registry.h"

enum { P_CREATE, P_LIST, P_GET, P_UPDATE, P_UPDATE_READ, P_DELETE, P_CTL, P_CONN_LIST };

typedef struct pctx {
    wire_node_op op;
    wire_node *node;
    wire_http_req *req;
    int route;
    bool pretty;
    char *name, *placement, *doc; /* owned copies the command points at */
    size_t doc_len;
    const char *ctl_state;
} pctx;

static void pctx_free(pctx *c)
{
    wire_pipeline_infos_free(c->op.pipes, c->op.npipes);
    free(c->name);
    free(c->placement);
    free(c->doc);
    free(c);
}

static void str(wire_buf *b, const char *s)
{
    wire_json_write_str(b, s, strlen(s));
}

static void respond_json(pctx *c, int status, const wire_buf *doc)
{
    if (c->pretty) {
        wire_buf pb;
        wire_buf_init(&pb);
        wire_json_pretty(doc->p, doc->len, &pb);
        wire_http_respond(c->req, status, "application/json", pb.p, pb.len);
        wire_buf_free(&pb);
    } else {
        wire_http_respond(c->req, status, "application/json", doc->p, doc->len);
    }
}

static void respond_op_error(pctx *c)
{
    int st = c->op.status == WIRE_ENOTFOUND                               ? 404
             : c->op.status == WIRE_EINVAL || c->op.status == WIRE_EPARSE ? 400
                                                                          : 503;
    wire_http_respond_error(c->req, st, "%s", c->op.err);
}

/* The fields of the checkpoint a list shows: its id and time. */
static void render_checkpoint(const wire_pipeline_info *p, wire_buf *b)
{
    wire_json_val id, t;
    if (!p->checkpoint_len ||
        wire_json_validate_object(p->checkpoint, p->checkpoint_len, NULL) != 0 ||
        !wire_json_get(p->checkpoint, p->checkpoint_len, "id", 2, &id) ||
        !wire_json_get(p->checkpoint, p->checkpoint_len, "time_ms", 7, &t)) {
        wire_buf_append(b, "null", 4);
        return;
    }
    wire_buf_printf(b, "{\"id\":%.*s,\"time_ms\":%.*s}", (int)id.n, id.p, (int)t.n, t.p);
}

static void render_pipeline(const wire_pipeline_info *p, bool spec, wire_buf *b)
{
    wire_buf_append(b, "{\"name\":", 8);
    str(b, p->name);
    wire_buf_printf(b, ",\"version\":%" PRIu64 ",\"state\":", p->version);
    str(b, wire_pstate_name(p->state));
    wire_buf_append(b, ",\"error\":", 9);
    str(b, p->error);
    wire_buf_append(b, ",\"node\":", 8);
    str(b, p->node);
    wire_buf_printf(b, ",\"epoch\":%" PRIu64 ",\"placement\":", p->epoch);
    str(b, p->placement);
    wire_buf_append(b, ",\"counters\":", 12);
    if (p->stats && p->stats[0] && wire_json_validate_object(p->stats, strlen(p->stats), NULL) == 0)
        wire_buf_append(b, p->stats, strlen(p->stats));
    else
        wire_buf_printf(b, "{\"events_in\":0,\"events_out\":0,\"filtered\":0,\"dead_lettered\":0,"
                           "\"dropped\":0,\"invalid\":0,\"errors\":0}");
    wire_buf_printf(b, ",\"counters_live\":%s,\"checkpoint\":", p->live ? "true" : "false");
    render_checkpoint(p, b);
    if (spec) {
        wire_buf_append(b, ",\"spec\":", 8);
        wire_json_write_str(b, p->spec ? p->spec : "", p->spec_len);
    }
    wire_buf_putc(b, '}');
}

/* The component types of a stored document (for the legacy list). */
static void render_connector(const wire_pipeline_info *p, wire_buf *b)
{
    wire_pipeline_spec *spec = NULL;
    wire_diags d = {0};
    wire_spec_load_mem(&wire_default_registry, p->name, p->spec, p->spec_len, &spec, &d);
    wire_buf_append(b, "{\"name\":", 8);
    str(b, p->name);
    wire_buf_append(b, ",\"source\":{\"type\":", 18);
    str(b, spec && spec->source.type ? spec->source.type : "");
    wire_buf_append(b, "},\"sink\":{\"type\":", 17);
    str(b, spec && spec->nsinks && spec->sinks[0].type ? spec->sinks[0].type : "");
    wire_buf_append(b, "},\"state\":", 10);
    str(b, wire_pstate_name(p->state));
    wire_buf_append(b, ",\"node\":", 8);
    str(b, p->node);
    wire_buf_putc(b, '}');
    wire_spec_free(spec);
    wire_diags_free(&d);
}

static void op_complete(wire_node_op *op);

static void submit(pctx *c, int route)
{
    c->route = route;
    c->op.done = op_complete;
    c->op.arg = c;
    wire_node_submit(c->node, &c->op);
}

/* After an update: read the version now stored. */
static void read_back(pctx *c)
{
    memset(&c->op, 0, sizeof(c->op));
    c->op.type = WIRE_OP_PIPELINES;
    c->op.key = c->name;
    c->op.klen = strlen(c->name);
    submit(c, P_UPDATE_READ);
}

static void op_complete(wire_node_op *op)
{
    pctx *c = op->arg;
    wire_buf b;
    wire_buf_init(&b);
    if (op->status != 0) {
        respond_op_error(c);
        goto out;
    }
    switch (c->route) {
    case P_CREATE:
        if (op->result == WIRE_APPLY_EXISTS) {
            wire_http_respond_error(c->req, 409, "pipeline %s already exists", c->name);
        } else if (op->result != WIRE_APPLY_OK) {
            wire_http_respond_error(c->req, 503, "refused by the state machine (%u)", op->result);
        } else {
            wire_buf_append(&b, "{\"name\":", 8);
            str(&b, c->name);
            wire_buf_append(&b, ",\"version\":1}", 13);
            respond_json(c, 201, &b);
        }
        break;
    case P_UPDATE:
        if (op->result == WIRE_APPLY_NOTFOUND) {
            wire_http_respond_error(c->req, 404, "pipeline %s not found", c->name);
        } else if (op->result != WIRE_APPLY_OK) {
            wire_http_respond_error(c->req, 409, "pipeline %s changed concurrently; try again",
                                    c->name);
        } else {
            read_back(c);
            wire_buf_free(&b);
            return;
        }
        break;
    case P_UPDATE_READ:
        wire_buf_append(&b, "{\"name\":", 8);
        str(&b, c->name);
        wire_buf_printf(&b, ",\"version\":%" PRIu64 "}", op->npipes ? op->pipes[0].version : 0);
        respond_json(c, 200, &b);
        break;
    case P_DELETE:
    case P_CTL:
        if (op->result == WIRE_APPLY_NOTFOUND) {
            wire_http_respond_error(c->req, 404, "pipeline %s not found", c->name);
        } else if (op->result != WIRE_APPLY_OK) {
            wire_http_respond_error(c->req, 409, "refused by the state machine (%u)", op->result);
        } else {
            wire_buf_append(&b, "{\"name\":", 8);
            str(&b, c->name);
            if (c->route == P_DELETE) {
                wire_buf_append(&b, ",\"deleted\":true}", 16);
            } else {
                wire_buf_append(&b, ",\"state\":", 9);
                str(&b, c->ctl_state);
                wire_buf_putc(&b, '}');
            }
            respond_json(c, 200, &b);
        }
        break;
    case P_LIST:
    case P_CONN_LIST:
        wire_buf_append(&b, c->route == P_LIST ? "{\"pipelines\":[" : "{\"connectors\":[",
                        c->route == P_LIST ? 14 : 15);
        for (size_t i = 0; i < op->npipes; i++) {
            if (i)
                wire_buf_putc(&b, ',');
            if (c->route == P_LIST)
                render_pipeline(&op->pipes[i], false, &b);
            else
                render_connector(&op->pipes[i], &b);
        }
        wire_buf_append(&b, "]}", 2);
        respond_json(c, 200, &b);
        break;
    case P_GET:
        render_pipeline(&op->pipes[0], true, &b);
        respond_json(c, 200, &b);
        break;
    }
out:
    wire_buf_free(&b);
    pctx_free(c);
}

/* Validate a document as `wire validate` does; on problems answer 400 and return false. */
static bool validate(pctx *c, const char *doc, size_t n, const char *want_name)
{
    wire_pipeline_spec *spec = NULL;
    wire_diags d = {0};
    int rc = wire_spec_load_mem(&wire_default_registry, "pipeline", doc, n, &spec, &d);
    if (rc == 0 && want_name && strcmp(spec->name, want_name) != 0)
        wire_diags_add(&d, "pipeline", 1, 1, "the document's name '%s' does not match '%s'",
                       spec->name, want_name);
    if (d.n) {
        wire_buf msg, b;
        wire_buf_init(&msg);
        wire_buf_init(&b);
        for (size_t i = 0; i < d.n; i++)
            wire_buf_printf(&msg, "%s%d:%d: %s", i ? "; " : "", d.v[i].line, d.v[i].col,
                            d.v[i].msg);
        wire_buf_append(&b, "{\"error\":", 9);
        wire_json_write_str(&b, msg.p, msg.len);
        wire_buf_append(&b, ",\"errors\":[", 11);
        for (size_t i = 0; i < d.n; i++) {
            wire_buf_printf(&b, "%s{\"line\":%d,\"col\":%d,\"message\":", i ? "," : "", d.v[i].line,
                            d.v[i].col);
            str(&b, d.v[i].msg);
            wire_buf_putc(&b, '}');
        }
        wire_buf_append(&b, "]}", 2);
        wire_http_respond(c->req, 400, "application/json", b.p, b.len);
        wire_buf_free(&msg);
        wire_buf_free(&b);
        wire_diags_free(&d);
        wire_spec_free(spec);
        return false;
    }
    c->name = wire_xstrdup(spec->name);
    c->placement = wire_xstrdup(spec->placement_node ? spec->placement_node : "");
    c->doc = wire_xstrndup(doc, n);
    c->doc_len = n;
    wire_diags_free(&d);
    wire_spec_free(spec);
    return true;
}

static void submit_put(pctx *c, uint64_t expect, int route)
{
    c->op.type = WIRE_OP_CMD;
    c->op.cmd.type = WIRE_CMD_PIPELINE_PUT;
    c->op.cmd.a = c->name;
    c->op.cmd.alen = strlen(c->name);
    c->op.cmd.b = c->placement;
    c->op.cmd.blen = strlen(c->placement);
    c->op.cmd.u1 = expect;
    c->op.cmd.c = c->doc;
    c->op.cmd.clen = c->doc_len;
    submit(c, route);
}

static void submit_name_cmd(pctx *c, int type, uint64_t u1, int route)
{
    c->op.type = WIRE_OP_CMD;
    c->op.cmd.type = (uint8_t)type;
    c->op.cmd.a = c->name;
    c->op.cmd.alen = strlen(c->name);
    c->op.cmd.u1 = u1;
    submit(c, route);
}

static bool body_type_ok(pctx *c)
{
    const char *ct = wire_http_req_header(c->req, "Content-Type");
    if (!ct || !*ct)
        return true;
    /* curl --data-binary sends form-urlencoded unless told otherwise: take it as the document */
    static const char *const ok[] = {"application/yaml",
                                     "application/x-yaml",
                                     "text/yaml",
                                     "text/x-yaml",
                                     "application/json",
                                     "text/plain",
                                     "application/x-www-form-urlencoded"};
    for (size_t i = 0; i < WIRE_ARRAY_LEN(ok); i++)
        if (strncasecmp(ct, ok[i], strlen(ok[i])) == 0)
            return true;
    wire_http_respond_error(c->req, 415,
                            "Content-Type %s: send the pipeline as application/yaml or "
                            "application/json",
                            ct);
    return false;
}

/* A name from the path: [a-z0-9_-]{1,64} (the document's own rule). */
static bool path_name(pctx *c, const char *s, size_t n)
{
    if (n == 0 || n > 64) {
        wire_http_respond_error(c->req, 400, "a pipeline name is 1 to 64 characters");
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-')) {
            wire_http_respond_error(c->req, 404, "pipeline %.*s not found", (int)n, s);
            return false;
        }
    c->name = wire_xstrndup(s, n);
    return true;
}

static bool handle_legacy(pctx *c, const char *path, const char *method)
{
    const char *rest = path + strlen("/connector");
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!*rest || strcmp(rest, "/") == 0) {
        if (!get) {
            wire_http_respond_error(c->req, 405, "/connector answers GET");
            return false;
        }
        c->op.type = WIRE_OP_PIPELINES;
        c->op.with_spec = true;
        submit(c, P_CONN_LIST);
        return true;
    }
    if (*rest != '/' || !path_name(c, rest + 1, strlen(rest + 1)))
        return false;
    if (strcmp(method, "DELETE") == 0) {
        submit_name_cmd(c, WIRE_CMD_PIPELINE_DEL, 0, P_DELETE);
        return true;
    }
    if (strcmp(method, "POST") != 0) {
        wire_http_respond_error(c->req, 405, "/connector/NAME answers POST and DELETE");
        return false;
    }
    size_t blen;
    const char *body = wire_http_req_body(c->req, &blen);
    wire_buf doc;
    wire_buf_init(&doc);
    wire_err err;
    if (wire_legacy_pipeline(c->name, body, blen, &doc, &err) != 0) {
        wire_http_respond_error(c->req, 400, "%s", err.msg);
        wire_buf_free(&doc);
        return false;
    }
    char *name = c->name;
    c->name = NULL;
    bool ok = validate(c, doc.p, doc.len, name);
    free(name);
    wire_buf_free(&doc);
    if (!ok)
        return false;
    submit_put(c, 0, P_CREATE);
    return true;
}

bool wire_api_pipelines_handle(wire_http_req *req, wire_node *node, bool pretty)
{
    const char *path = wire_http_req_path(req);
    const char *method = wire_http_req_method(req);
    bool legacy = strcmp(path, "/connector") == 0 || strncmp(path, "/connector/", 11) == 0;
    if (!legacy && strcmp(path, "/v1/pipelines") != 0 && strncmp(path, "/v1/pipelines/", 14) != 0)
        return false;
    pctx *c = wire_xcalloc(1, sizeof(*c));
    c->node = node;
    c->req = req;
    c->pretty = pretty;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool submitted = false;
    if (legacy) {
        submitted = handle_legacy(c, path, method);
    } else if (strcmp(path, "/v1/pipelines") == 0 || strcmp(path, "/v1/pipelines/") == 0) {
        if (get) {
            c->op.type = WIRE_OP_PIPELINES;
            submit(c, P_LIST);
            submitted = true;
        } else if (strcmp(method, "POST") == 0) {
            size_t blen;
            const char *body = wire_http_req_body(req, &blen);
            if (body_type_ok(c) && validate(c, body, blen, NULL)) {
                submit_put(c, 0, P_CREATE);
                submitted = true;
            }
        } else {
            wire_http_respond_error(req, 405, "/v1/pipelines answers GET and POST");
        }
    } else {
        const char *seg = path + 14, *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        const char *action = slash ? slash + 1 : "";
        if (!path_name(c, seg, n)) {
            /* answered */
        } else if (*action) {
            bool pause = strcmp(action, "pause") == 0, resume = strcmp(action, "resume") == 0;
            if (!pause && !resume) {
                wire_http_respond_error(req, 404, "no such endpoint: %s", path);
            } else if (strcmp(method, "POST") != 0) {
                wire_http_respond_error(req, 405, "%s answers POST", path);
            } else {
                c->ctl_state = pause ? "paused" : "pending";
                submit_name_cmd(c, WIRE_CMD_PIPELINE_CTL, pause ? WIRE_CTL_PAUSE : WIRE_CTL_RESUME,
                                P_CTL);
                submitted = true;
            }
        } else if (get) {
            c->op.type = WIRE_OP_PIPELINES;
            c->op.key = c->name;
            c->op.klen = strlen(c->name);
            c->op.with_spec = true;
            submit(c, P_GET);
            submitted = true;
        } else if (strcmp(method, "DELETE") == 0) {
            submit_name_cmd(c, WIRE_CMD_PIPELINE_DEL, 0, P_DELETE);
            submitted = true;
        } else if (strcmp(method, "PUT") == 0) {
            size_t blen;
            const char *body = wire_http_req_body(req, &blen);
            char *name = c->name;
            c->name = NULL;
            if (body_type_ok(c) && validate(c, body, blen, name)) {
                submit_put(c, UINT64_MAX, P_UPDATE);
                submitted = true;
            }
            free(name);
        } else {
            wire_http_respond_error(req, 405, "/v1/pipelines/NAME answers GET, PUT and DELETE");
        }
    }
    if (!submitted)
        pctx_free(c);
    return true;
}
