/*
 * api.h — Wire's HTTP API on the one HTTP server (src/net). `wire run
 * --http-addr` serves the read-only part: GET /status, /metrics, /readyz,
 * /livez. The cluster node (later) adds its routes through the same table.
 */
#ifndef WIRE_API_H
#define WIRE_API_H

#include "engine/engine.h"

typedef struct wire_api wire_api;

/*
 * Where the API finds the pipelines: `each` calls fn for every running
 * pipeline while the caller keeps them alive (it may hold a lock).
 */
typedef struct wire_api_pipelines {
    void (*each)(void *arg, void (*fn)(wire_pipeline *p, void *fnarg), void *fnarg);
    void *arg;
} wire_api_pipelines;

int wire_api_start(const char *addr, const wire_api_pipelines *src, wire_api **out, wire_err *err);
int wire_api_port(const wire_api *a);
void wire_api_stop(wire_api *a);

/* /status?key=a.b: copy the value at that dotted path of a JSON document; -1 if absent. */
int wire_api_status_key(const char *doc, size_t n, const char *key, wire_buf *out);

/* The cluster node's API (node_routes.c): status, nodes, readyz, livez, metrics, remove, KV. */
struct wire_node;
typedef struct wire_api_node wire_api_node;
int wire_api_node_start(const char *addr, struct wire_node *node, wire_api_node **out,
                        wire_err *err);
int wire_api_node_port(const wire_api_node *a);
/* Stop accepting (requests in flight are still answered, e.g. by the node stopping). */
void wire_api_node_stop(wire_api_node *a);
/* Free once the node no longer answers requests. */
void wire_api_node_free(wire_api_node *a);

/* pipeline_routes.c: /v1/pipelines and the legacy /connector; false if `req` is not for them. */
struct wire_http_req;
bool wire_api_pipelines_handle(struct wire_http_req *req, struct wire_node *node, bool pretty);

/* Rendering, exposed for tests. */
void wire_api_metrics(const wire_api_pipelines *src, wire_buf *out);
void wire_api_status(const wire_api_pipelines *src, bool pretty, wire_buf *out);
/* The JSON array of pipelines that /status shows (wire run's and a node's). */
void wire_api_status_pipelines(const wire_api_pipelines *src, wire_buf *out);

#endif
