/*
 * api.h — Wire's HTTP API: one route table (api.c) on the one HTTP server
 * of src/net, for both `wire run --http-addr` (GET /status, /metrics,
 * /readyz, /livez about the pipelines of this process) and `wire serve`
 * (those, plus /nodes, /remove, /v1/kv, /v1/pipelines and the legacy
 * /connector, answered through the cluster node).
 */
#ifndef WIRE_API_H
#define WIRE_API_H

#include "engine/engine.h"
#include "net/tls.h"

typedef struct wire_api wire_api;
struct wire_node;

/*
 * Where the API finds the pipelines: `each` calls fn for every running
 * pipeline while the caller keeps them alive (it may hold a lock).
 */
typedef struct wire_api_pipelines {
    void (*each)(void *arg, void (*fn)(wire_pipeline *p, void *fnarg), void *fnarg);
    void *arg;
} wire_api_pipelines;

typedef struct wire_api_opts {
    const char *addr;
    wire_api_pipelines pipelines;  /* wire run: its pipelines (ignored with a node) */
    struct wire_node *node;        /* wire serve: the node, whose pipelines are shown */
    const wire_registry *registry; /* validates pipeline documents (node only) */
    /* node only: a document whose paths leave these roots is 400 (NULL: none) */
    const struct wire_sandbox *sandbox;
    /* node only; 0: no limit */
    int64_t max_pipelines;        /* per node: a create beyond nodes x this is 429 */
    int64_t max_transforms;       /* per document: more is 400 */
    int64_t max_pipeline_bytes;   /* per document: larger is 413 */
    int64_t max_conns_per_client; /* open connections from one address (0: the default) */
    bool auth; /* node only (--auth): every route but the health checks wants a token */
    /* HTTPS (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth); NULL: plain */
    const wire_tls_files *tls;
} wire_api_opts;

#define WIRE_API_CONNS_PER_CLIENT 256

int wire_api_start(const wire_api_opts *o, wire_api **out, wire_err *err);
int wire_api_port(const wire_api *a);
/* Any thread (SIGHUP): load the TLS files again even if they look unchanged. */
void wire_api_reload_tls(wire_api *a);
/* Stop accepting (requests in flight are still answered, e.g. by the node stopping). */
void wire_api_stop(wire_api *a);
/* Free once nothing answers requests any more (after the node stopped). */
void wire_api_free(wire_api *a);

#endif
