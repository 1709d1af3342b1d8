/*
 * pipeline_routes.c — the handlers of pipelines as replicated state, over
 * HTTP on any node (the routes are in api.c's table):
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

#include "api/internal.h"
#include "api/legacy.h"

enum { P_CREATE, P_LIST, P_GET, P_UPDATE, P_UPDATE_READ, P_DELETE, P_CTL, P_CONN_LIST };

typedef struct pctx {
    wire_node_op op;
    wire_api *api;
    wire_http_req *req;
    int route;
    char *name, *placement, *doc; /* owned copies the command points at */
    uint32_t parallelism;
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

/* The fields of the checkpoint a list shows: its id and time. */
static void render_checkpoint(wire_jw *w, const wire_pipeline_info *p)
{
    wire_json_val id, t;
    if (!p->checkpoint_len ||
        wire_json_validate_object(p->checkpoint, p->checkpoint_len, NULL) != 0 ||
        !wire_json_get(p->checkpoint, p->checkpoint_len, "id", 2, &id) ||
        !wire_json_get(p->checkpoint, p->checkpoint_len, "time_ms", 7, &t)) {
        wire_jw_null(w);
        return;
    }
    wire_jw_obj(w);
    wire_jw_key(w, "id");
    wire_jw_raw(w, id.p, id.n);
    wire_jw_key(w, "time_ms");
    wire_jw_raw(w, t.p, t.n);
    wire_jw_end(w);
}

/* KEY: the counters' JSON object. */
static void render_counters(wire_jw *w, const char *key, const wire_pipeline_counters *c)
{
    wire_buf z;
    wire_buf_init(&z);
    wire_pipeline_counters_json(c, &z);
    wire_jw_key(w, key);
    wire_jw_raw(w, z.p, z.len);
    wire_buf_free(&z);
}

static void render_splits(wire_jw *w, const wire_pipeline_info *p)
{
    wire_json_val v;
    size_t n = p->stats ? strlen(p->stats) : 0;
    wire_jw_key(w, "splits");
    if (n && wire_json_validate_object(p->stats, n, NULL) == 0 &&
        wire_json_get(p->stats, n, "splits", 6, &v) && v.kind == WIRE_JSON_ARRAY)
        wire_jw_raw(w, v.p, v.n);
    else
        wire_jw_raw(w, "[]", 2);
}

/* The pipeline's state from its instances': failed, else pending, else running, else
   paused, else finished (all of them finished). */
static int pipeline_state(const wire_pipeline_info *p, size_t n)
{
    static const int order[] = {WIRE_PSTATE_FAILED, WIRE_PSTATE_PENDING, WIRE_PSTATE_RUNNING,
                                WIRE_PSTATE_PAUSED};
    for (size_t k = 0; k < WIRE_ARRAY_LEN(order); k++)
        for (size_t i = 0; i < n; i++)
            if (p[i].state == order[k])
                return order[k];
    return p[0].state;
}

/*
 * A pipeline: p[0] is its record (instance 0), p[1..n) the records of its other
 * instances. The top level keeps the single-instance shape (name, version, state,
 * node and epoch of instance 0, ...) with counters summed over the instances;
 * `instances` lists each one.
 */
static void render_pipeline(wire_jw *w, const wire_pipeline_info *p, size_t n, bool spec)
{
    wire_jw_obj(w);
    wire_jw_kstr(w, "name", p->name);
    wire_jw_kuint(w, "version", p->version);
    wire_jw_kstr(w, "state", wire_pstate_name(pipeline_state(p, n)));
    const char *error = p->error;
    for (size_t i = 0; i < n && !error[0]; i++)
        error = p[i].error;
    wire_jw_kstr(w, "error", error);
    wire_jw_kstr(w, "node", p->node);
    wire_jw_kuint(w, "epoch", p->epoch);
    wire_jw_kstr(w, "placement", p->placement);
    wire_jw_kuint(w, "parallelism", n);
    wire_pipeline_counters total = {0};
    wire_jw_key(w, "instances");
    wire_jw_arr(w);
    bool live = true;
    for (size_t i = 0; i < n; i++) {
        size_t bl;
        wire_jw_obj(w);
        wire_jw_kuint(w, "instance", wire_instance_of(p[i].name, &bl));
        wire_jw_kstr(w, "node", p[i].node);
        wire_jw_kstr(w, "state", wire_pstate_name(p[i].state));
        wire_jw_kstr(w, "error", p[i].error);
        wire_jw_kuint(w, "epoch", p[i].epoch);
        render_splits(w, &p[i]);
        /* zeros when it has none yet; the runner adds its splits to the same JSON */
        wire_pipeline_counters c;
        wire_pipeline_counters_parse(p[i].stats, p[i].stats ? strlen(p[i].stats) : 0, &c);
        wire_pipeline_counters_sum(&total, &c);
        render_counters(w, "counters", &c);
        wire_jw_kbool(w, "counters_live", p[i].live);
        wire_jw_key(w, "checkpoint");
        render_checkpoint(w, &p[i]);
        wire_jw_end(w);
        live = live && p[i].live;
    }
    wire_jw_end(w);
    render_counters(w, "counters", &total);
    wire_jw_kbool(w, "counters_live", live);
    wire_jw_key(w, "checkpoint");
    render_checkpoint(w, p);
    if (spec) {
        wire_jw_key(w, "spec");
        wire_jw_strn(w, p->spec ? p->spec : "", p->spec_len);
    }
    wire_jw_end(w);
}

/* How many records from p[0] on belong to p[0]'s pipeline (it, then its NAME#i). */
static size_t instance_run(const wire_pipeline_info *p, size_t n)
{
    size_t k = 1;
    while (k < n && wire_instance_sibling(p[0].name, p[k].name))
        k++;
    return k;
}

/* The component types of a stored document (for the legacy list). */
static void render_connector(wire_jw *w, const wire_registry *reg, const wire_pipeline_info *p)
{
    wire_pipeline_spec *spec = NULL;
    wire_diags d = {0};
    wire_spec_load_mem(reg, p->name, p->spec, p->spec_len, &spec, &d);
    wire_jw_obj(w);
    wire_jw_kstr(w, "name", p->name);
    wire_jw_key(w, "source");
    wire_jw_obj(w);
    wire_jw_kstr(w, "type", spec && spec->source.type ? spec->source.type : "");
    wire_jw_end(w);
    wire_jw_key(w, "sink");
    wire_jw_obj(w);
    wire_jw_kstr(w, "type", spec && spec->nsinks && spec->sinks[0].type ? spec->sinks[0].type : "");
    wire_jw_end(w);
    wire_jw_kstr(w, "state", wire_pstate_name(p->state));
    wire_jw_kstr(w, "node", p->node);
    wire_jw_end(w);
    wire_spec_free(spec);
    wire_diags_free(&d);
}

/* {"name": NAME, KEY: VALUE}: the answer of a write. */
static void respond_name(pctx *c, int status, const char *key, const char *sval, uint64_t uval)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_jw w;
    wire_jw_init(&w, &b);
    wire_jw_obj(&w);
    wire_jw_kstr(&w, "name", c->name);
    if (sval)
        wire_jw_kstr(&w, key, sval);
    else if (strcmp(key, "deleted") == 0)
        wire_jw_kbool(&w, key, true);
    else
        wire_jw_kuint(&w, key, uval);
    wire_jw_end(&w);
    api_respond_json(c->req, status, &b);
    wire_buf_free(&b);
}

static void op_complete(wire_node_op *op);

static void submit(pctx *c, int route)
{
    c->route = route;
    c->op.done = op_complete;
    c->op.arg = c;
    wire_node_submit(c->api->node, &c->op);
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
    wire_jw w;
    wire_jw_init(&w, &b);
    if (op->status != 0) {
        api_respond_op_error(c->req, op->status, op->err);
        goto out;
    }
    switch (c->route) {
    case P_CREATE:
        if (op->result == WIRE_APPLY_EXISTS) {
            wire_http_respond_error(c->req, 409, "pipeline %s already exists", c->name);
        } else if (op->result == WIRE_APPLY_FULL) {
            wire_buf eb;
            wire_buf_init(&eb);
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "the cluster is full: every node runs at most %lld pipelines "
                     "(--max-pipelines); delete one or add a node",
                     (long long)c->api->max_pipelines);
            wire_http_error_json(&eb, msg);
            wire_http_response r = {.status = 429,
                                    .content_type = "application/json",
                                    .retry_after_s = 5,
                                    .body = eb.p,
                                    .body_len = eb.len};
            wire_http_respond_full(c->req, &r);
            wire_buf_free(&eb);
        } else if (op->result != WIRE_APPLY_OK) {
            wire_http_respond_error(c->req, 503, "refused by the state machine (%u)", op->result);
        } else {
            respond_name(c, 201, "version", NULL, 1);
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
        respond_name(c, 200, "version", NULL, op->npipes ? op->pipes[0].version : 0);
        break;
    case P_DELETE:
    case P_CTL:
        if (op->result == WIRE_APPLY_NOTFOUND) {
            wire_http_respond_error(c->req, 404, "pipeline %s not found", c->name);
        } else if (op->result != WIRE_APPLY_OK) {
            wire_http_respond_error(c->req, 409, "refused by the state machine (%u)", op->result);
        } else if (c->route == P_DELETE) {
            respond_name(c, 200, "deleted", NULL, 0);
        } else {
            respond_name(c, 200, "state", c->ctl_state, 0);
        }
        break;
    case P_LIST:
    case P_CONN_LIST:
        wire_jw_obj(&w);
        wire_jw_key(&w, c->route == P_LIST ? "pipelines" : "connectors");
        wire_jw_arr(&w);
        for (size_t i = 0; i < op->npipes;) {
            size_t k = instance_run(&op->pipes[i], op->npipes - i);
            if (c->route == P_LIST)
                render_pipeline(&w, &op->pipes[i], k, false);
            else
                render_connector(&w, c->api->registry, &op->pipes[i]);
            i += k;
        }
        wire_jw_end(&w);
        wire_jw_end(&w);
        api_respond_json(c->req, 200, &b);
        break;
    case P_GET:
        render_pipeline(&w, op->pipes, op->npipes, true);
        api_respond_json(c->req, 200, &b);
        break;
    }
out:
    wire_buf_free(&b);
    pctx_free(c);
}

/*
 * Validate a document as `wire validate` does, within the node's limits
 * (--max-pipeline-bytes: 413; --max-transforms: 400); on problems answer
 * and return false.
 */
static bool validate(pctx *c, const char *doc, size_t n, const char *want_name)
{
    const wire_api *a = c->api;
    if (a->max_pipeline_bytes > 0 && n > (size_t)a->max_pipeline_bytes) {
        wire_http_respond_error(c->req, 413,
                                "the pipeline document is %zu bytes; this node takes at most %lld "
                                "(--max-pipeline-bytes)",
                                n, (long long)a->max_pipeline_bytes);
        return false;
    }
    wire_pipeline_spec *spec = NULL;
    wire_diags d = {0};
    wire_spec_limits lim = {.max_transforms = a->max_transforms}; /* the size is checked */
    int rc = wire_spec_load_limited(a->registry, "pipeline", doc, n, &lim, &spec, &d);
    if (rc == 0) {
        wire_spec_check_paths(spec, a->sandbox, &d);
        wire_spec_check_secrets(spec, a->sandbox, true, &d);
    }
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
        wire_jw w;
        wire_jw_init(&w, &b);
        wire_jw_obj(&w);
        wire_jw_key(&w, "error");
        wire_jw_strn(&w, msg.p, msg.len);
        wire_jw_key(&w, "errors");
        wire_jw_arr(&w);
        for (size_t i = 0; i < d.n; i++) {
            wire_jw_obj(&w);
            wire_jw_kint(&w, "line", d.v[i].line);
            wire_jw_kint(&w, "col", d.v[i].col);
            wire_jw_kstr(&w, "message", d.v[i].msg);
            wire_jw_end(&w);
        }
        wire_jw_end(&w);
        wire_jw_end(&w);
        wire_http_respond(c->req, 400, "application/json", b.p, b.len);
        wire_buf_free(&msg);
        wire_buf_free(&b);
        wire_diags_free(&d);
        wire_spec_free(spec);
        return false;
    }
    c->name = wire_xstrdup(spec->name);
    api_audit_subject(c->req, spec->name);
    c->placement = wire_xstrdup(spec->placement_node ? spec->placement_node : "");
    c->parallelism = spec->parallelism;
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
    /* the state machine refuses a create, or an update adding instances, when the cluster
       is full */
    c->op.cmd.u2 = c->api->max_pipelines > 0 ? (uint64_t)c->api->max_pipelines : 0;
    c->op.cmd.u3 = c->parallelism;
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

static pctx *pctx_new(wire_api *a, wire_http_req *req)
{
    pctx *c = wire_xcalloc(1, sizeof(*c));
    c->api = a;
    c->req = req;
    return c;
}

/* A write's context: ?timeout= (default --request-timeout) bounds the wait for a leader. */
static pctx *write_ctx(wire_api *a, wire_http_req *req)
{
    int64_t ms;
    if (!api_timeout(req, &ms))
        return NULL;
    pctx *c = pctx_new(a, req);
    c->op.timeout_ms = ms;
    return c;
}

/* A context for the pipeline the path names; NULL after answering. */
static pctx *named_ctx(wire_api *a, wire_http_req *req, const wire_route_args *args, bool write)
{
    pctx *c = write ? write_ctx(a, req) : pctx_new(a, req);
    if (c && !path_name(c, args->cap, args->cap_len)) {
        pctx_free(c);
        return NULL;
    }
    return c;
}

void api_pipelines_list(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    pctx *c = pctx_new(a, req);
    c->op.type = WIRE_OP_PIPELINES;
    submit(c, P_LIST);
}

void api_pipelines_create(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    pctx *c = write_ctx(a, req);
    if (!c)
        return;
    size_t blen;
    const char *body = wire_http_req_body(req, &blen);
    if (body_type_ok(c) && validate(c, body, blen, NULL))
        submit_put(c, 0, P_CREATE);
    else
        pctx_free(c);
}

void api_pipeline_get(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    pctx *c = named_ctx(a, req, args, false);
    if (!c)
        return;
    c->op.type = WIRE_OP_PIPELINES;
    c->op.key = c->name;
    c->op.klen = strlen(c->name);
    c->op.with_spec = true;
    c->op.instances = true;
    submit(c, P_GET);
}

void api_pipeline_update(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    pctx *c = named_ctx(a, req, args, true);
    if (!c)
        return;
    size_t blen;
    const char *body = wire_http_req_body(req, &blen);
    char *name = c->name;
    c->name = NULL;
    bool ok = body_type_ok(c) && validate(c, body, blen, name);
    free(name);
    if (ok)
        submit_put(c, UINT64_MAX, P_UPDATE);
    else
        pctx_free(c);
}

void api_pipeline_delete(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    pctx *c = named_ctx(a, req, args, true);
    if (c)
        submit_name_cmd(c, WIRE_CMD_PIPELINE_DEL, 0, P_DELETE);
}

static void control(wire_api *a, wire_http_req *req, const wire_route_args *args, bool pause)
{
    pctx *c = named_ctx(a, req, args, true);
    if (!c)
        return;
    c->ctl_state = pause ? "paused" : "pending";
    submit_name_cmd(c, WIRE_CMD_PIPELINE_CTL, pause ? WIRE_CTL_PAUSE : WIRE_CTL_RESUME, P_CTL);
}

void api_pipeline_pause(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    control(a, req, args, true);
}

void api_pipeline_resume(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    control(a, req, args, false);
}

/* ---- the original Go Wire's /connector API ---- */

void api_connectors_list(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    pctx *c = pctx_new(a, req);
    c->op.type = WIRE_OP_PIPELINES;
    c->op.with_spec = true;
    submit(c, P_CONN_LIST);
}

void api_connector_delete(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    api_pipeline_delete(a, req, args);
}

void api_connector_create(wire_api *a, wire_http_req *req, const wire_route_args *args)
{
    pctx *c = named_ctx(a, req, args, true);
    if (!c)
        return;
    size_t blen;
    const char *body = wire_http_req_body(req, &blen);
    wire_buf doc;
    wire_buf_init(&doc);
    wire_err err;
    if (wire_legacy_pipeline(c->name, body, blen, &doc, &err) != 0) {
        wire_http_respond_error(req, 400, "%s", err.msg);
        wire_buf_free(&doc);
        pctx_free(c);
        return;
    }
    char *name = c->name;
    c->name = NULL;
    bool ok = validate(c, doc.p, doc.len, name);
    free(name);
    wire_buf_free(&doc);
    if (ok)
        submit_put(c, 0, P_CREATE);
    else
        pctx_free(c);
}
