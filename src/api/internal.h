/*
 * internal.h — what the files of src/api share: the API object, the one
 * route table's row type, the handlers each file contributes, and the
 * response helpers every handler uses.
 */
#ifndef WIRE_API_INTERNAL_H
#define WIRE_API_INTERNAL_H

#include "api/api.h"
#include "cluster/cluster.h"
#include "core/json.h"
#include "net/net.h"
#include "net/tls.h"

struct wire_api {
    wire_http_server *server;
    wire_api_pipelines src;             /* the pipelines running in this process */
    struct wire_node *node;             /* wire serve: the node; NULL for wire run */
    const wire_registry *registry;      /* validates pipeline documents */
    const struct wire_sandbox *sandbox; /* and confines their paths */
    int64_t max_pipelines, max_transforms, max_pipeline_bytes; /* 0: none */
    bool auth;                                                 /* --auth: requests carry tokens */
    struct wire_tls *tls;                                      /* HTTPS, or NULL */
};

/* Which servers offer a route. */
enum { WIRE_API_RUN = 1 << 0, WIRE_API_NODE = 1 << 1, WIRE_API_BOTH = 3 };

/* What matching a route captured: the {name} segment, or the rest of the path for '*'. */
typedef struct wire_route_args {
    const char *cap;
    size_t cap_len;
} wire_route_args;

typedef void (*wire_route_fn)(wire_api *a, wire_http_req *req, const wire_route_args *args);

typedef struct wire_route {
    const char *method;  /* GET routes answer HEAD too */
    const char *pattern; /* "/status", "/v1/pipelines/{name}/pause", or "/v1/kv/" then a star */
    unsigned serves;     /* WIRE_API_RUN | WIRE_API_NODE */
    /* The role a caller needs under --auth (WIRE_ROLE_VIEWER, _OPERATOR, _ADMIN), or
       WIRE_ROLE_NONE: open to anyone (health checks). */
    int role;
    wire_route_fn fn;
} wire_route;

/* ---- authentication (auth.c) ---- */

/*
 * Under --auth: the caller's token must be known and its role allow the
 * route's. True: call the route now (no --auth, or an open route). False:
 * taken care of — answered 401 (no or unknown token) or 403 (a role too
 * low), or the route was called, maybe later from the node's thread (a
 * token this node had to catch up to know). The audit line names the
 * caller.
 */
bool api_authorize(wire_api *a, wire_http_req *req, const wire_route *r,
                   const wire_route_args *args);

/* ---- the audit log (audit.c) ---- */

/* A mutating request (not GET/HEAD): log one line when it is answered. */
void api_audit_begin(wire_http_req *req, const wire_route *r, const wire_route_args *args);
/* Who asked: the token's name and role. */
void api_audit_caller(wire_http_req *req, const char *token, const char *role);
/* What it acts on, learnt from the body (a created pipeline's name, a removed node). */
void api_audit_subject(wire_http_req *req, const char *subject);

/* ---- responses (api.c) ---- */

/* A JSON document, re-indented when the request says ?pretty. */
void api_respond_json(wire_http_req *req, int status, const wire_buf *doc);
/* /status-style documents: ?key=a.b picks one value (404 if absent), ?pretty indents. */
void api_respond_doc(wire_http_req *req, const wire_buf *doc);
/*
 * An error from the node (WIRE_ENOTFOUND 404, WIRE_EINVAL/EPARSE 400,
 * anything else 503 with Retry-After: the cluster may have a leader again
 * by then).
 */
void api_respond_op_error(wire_http_req *req, int code, const char *msg);
/* ?name present and not "false"/"0". */
bool api_flag(wire_http_req *req, const char *name);
/* ?timeout=DUR into *ms (0 when absent); false after answering 400 for a bad one. */
bool api_timeout(wire_http_req *req, int64_t *ms);

/* ---- rendering, for both servers (status.c, metrics.c) ---- */

/* The /status document: the node (NULL: standalone), its pipelines, the build. */
void api_render_status(const wire_node_info *node, const wire_api_pipelines *src, wire_buf *out);
/* A member's addresses and role, inside its object (/status's node, /nodes). */
void api_render_member(wire_jw *w, const wire_member *m);
/* The /metrics text: node and Raft series (when node != NULL), HTTP, pipelines. */
void api_render_metrics(const wire_node_info *node, const wire_api_pipelines *src,
                        const wire_http_stats *http, wire_buf *out);

/* ---- handlers ---- */

/* node_routes.c (wire serve) */
void api_node_status(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_node_metrics(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_node_readyz(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_node_nodes(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_node_remove(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_kv_get(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_kv_put(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_kv_delete(wire_api *a, wire_http_req *req, const wire_route_args *args);

/* token_routes.c (wire serve) */
void api_tokens_create(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_tokens_list(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_token_revoke(wire_api *a, wire_http_req *req, const wire_route_args *args);

/* pipeline_routes.c (wire serve) */
void api_pipelines_list(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_pipelines_create(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_pipeline_get(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_pipeline_update(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_pipeline_delete(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_pipeline_pause(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_pipeline_resume(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_connectors_list(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_connector_create(wire_api *a, wire_http_req *req, const wire_route_args *args);
void api_connector_delete(wire_api *a, wire_http_req *req, const wire_route_args *args);

#endif
