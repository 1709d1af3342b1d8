/*
 * net.h — Wire's network layer: the one place where sockets are made and
 * accepted (socket.c; TLS will be added here), and Wire's one HTTP/1.1 server
 * (http_server.c), used by the `http` source, and later by the node API,
 * /metrics and the web UI.
 *
 * The server runs its own libuv loop on its own thread and parses with the
 * packaged http_parser. A handler is called, on the server's thread, once per
 * complete request (headers and body). It answers with wire_http_respond*(),
 * either before returning or later, from any thread: the response is handed
 * back to the loop through a uv_async, and pipelined requests of a connection
 * are always answered in the order they arrived. That is what lets the
 * `http` source answer only once its events are durably committed.
 *
 * Every request handed to the handler must be answered exactly once, also
 * after wire_http_server_stop(); the request object stays valid until then
 * (if the client has gone away, the answer is simply dropped).
 */
#ifndef WIRE_NET_H
#define WIRE_NET_H

#include <sys/socket.h>
#include <uv.h>

#include "core/core.h"

/* ---- Sockets (socket.c) ---- */

/*
 * Parse "host:port", "[v6]:port" or ":port" (all interfaces) into `out`.
 * Host names are resolved (first address wins). Port 0 means "any free port".
 */
int wire_net_parse_addr(const char *addr, struct sockaddr_storage *out, wire_err *err);
/* Format a socket address as "host:port" ("[v6]:port"). */
void wire_net_format_addr(const struct sockaddr *sa, char *out, size_t n);
/*
 * Bind `tcp` (uv_tcp_init'ed by the caller) to `addr` with SO_REUSEADDR and
 * listen, calling `on_conn` for each connection. On success the port actually
 * bound is stored in *port (for addresses with port 0).
 */
int wire_net_listen(uv_tcp_t *tcp, const char *addr, int backlog, uv_connection_cb on_conn,
                    int *port, wire_err *err);

/* ---- HTTP server (http_server.c) ---- */

typedef struct wire_http_server wire_http_server;
typedef struct wire_http_req wire_http_req;

typedef void (*wire_http_handler)(wire_http_req *req, void *arg);

typedef struct wire_http_opts {
    size_t max_body;          /* larger bodies get 413 and the connection closes (10 MB) */
    size_t max_header;        /* request line + headers; larger get 431 (64 KB) */
    int64_t idle_timeout_ms;  /* keep-alive connection with nothing in flight (60 s) */
    int64_t read_timeout_ms;  /* a started request must be complete within (30 s): 408 */
    int backlog;              /* listen(2) backlog (511) */
    int max_conns;            /* more are answered 503 and closed (10000) */
    int max_conns_per_client; /* open connections from one IP address (0: no limit) */
    /* Paths answered even on a connection over a limit (health checks: "/livez",
       "/readyz"), NULL-terminated; NULL: none. Over max_conns such connections are
       still taken, up to WIRE_HTTP_HEALTH_RESERVE more, and answer only these:
       anything else gets 503 (over max_conns) or 429 (over max_conns_per_client),
       with Retry-After, and the connection closes. */
    const char *const *always_paths;
    int max_pipeline; /* unanswered requests per connection before reading pauses (64) */
    /* HTTPS (net/tls.h): every connection speaks TLS with this context, which the server
       reloads when its files change; the caller frees it after the server. NULL: plain. */
    struct wire_tls *tls;
} wire_http_opts;

#define WIRE_HTTP_HEALTH_RESERVE 64

/* Zero fields of `opts` (or opts == NULL) take the defaults above. */
int wire_http_server_new(const char *addr, wire_http_handler handler, void *arg,
                         const wire_http_opts *opts, wire_http_server **out, wire_err *err);
/* The port the server listens on (useful when it was asked for port 0). */
int wire_http_server_port(const wire_http_server *s);
/* Run the loop in a new thread. */
int wire_http_server_start(wire_http_server *s, wire_err *err);
/* Or run it on the calling thread until wire_http_server_stop(). */
void wire_http_server_run(wire_http_server *s);
/*
 * Ask to stop (any thread, idempotent): stop accepting and reading, write
 * the answers still owed, close every connection, end the loop.
 */
void wire_http_server_stop(wire_http_server *s);
/* Stop, join the thread started by _start, free. Every request must have been answered. */
void wire_http_server_free(wire_http_server *s);

/* Counters (any thread; approximate while running). */
typedef struct wire_http_stats {
    uint64_t conns_accepted, conns_rejected, conns_open;
    uint64_t requests, responses_2xx, responses_4xx, responses_5xx;
    uint64_t bytes_in, bytes_out;
} wire_http_stats;
void wire_http_server_stats(const wire_http_server *s, wire_http_stats *out);

/* ---- Requests (valid from the handler call until answered) ---- */

const char *wire_http_req_method(const wire_http_req *r); /* "GET", "POST", ... */
const char *wire_http_req_path(const wire_http_req *r);   /* raw, without the query */
const char *wire_http_req_query(const wire_http_req *r);  /* raw, after '?', or "" */
/* Case-insensitive header lookup; NULL if absent (the first of repeated headers). */
const char *wire_http_req_header(const wire_http_req *r, const char *name);
/* The body (NUL-terminated for convenience; len excludes the NUL). */
const char *wire_http_req_body(const wire_http_req *r, size_t *len);
/*
 * Value of query parameter `name` (percent-decoded, '+' = space) copied into
 * out; returns its length, or -1 if absent. A bare `?pretty` yields "".
 */
long wire_http_req_param(const wire_http_req *r, const char *name, char *out, size_t n);

/* ---- Responses (exactly once per request, from any thread) ---- */

typedef struct wire_http_response {
    int status;
    const char *content_type; /* NULL: application/json when there is a body */
    int retry_after_s;        /* > 0 adds Retry-After */
    const char *headers;      /* extra header lines, each ending in "\r\n", or NULL */
    const void *body;
    size_t body_len;
    bool close; /* close the connection after this response */
} wire_http_response;

/* Everything is copied: the caller may free its buffers on return. */
void wire_http_respond_full(wire_http_req *r, const wire_http_response *resp);
/*
 * Call fn(r, status, arg) once, with the status of the answer, on the thread
 * that answers, just before the answer is queued (the request is still
 * valid): an audit trail. One per request; wire_http_req_answer_arg gives
 * the arg back (NULL if none) to a handler that learns more later.
 */
typedef void (*wire_http_answer_fn)(wire_http_req *r, int status, void *arg);
void wire_http_req_on_answer(wire_http_req *r, wire_http_answer_fn fn, void *arg);
void *wire_http_req_answer_arg(const wire_http_req *r);
void wire_http_respond(wire_http_req *r, int status, const char *content_type, const void *body,
                       size_t len);
/* Percent-decode a query key or value ('+' is a space) into out (size cap, NUL-terminated). */
size_t wire_http_query_decode(const char *p, size_t n, char *out, size_t cap);
/* Percent-decode a path segment [s, s+n) into out (n + 1 bytes); -1 on a malformed escape. */
long wire_http_path_decode(const char *s, size_t n, char *out);
/* The error body every endpoint answers with: `{"error": "<message>"}` and a newline. */
void wire_http_error_json(wire_buf *b, const char *msg);
/* `{"error": "<message>"}` with the message JSON-escaped. */
void wire_http_respond_error(wire_http_req *r, int status, const char *fmt, ...) WIRE_PRINTF(3, 4);
const char *wire_http_status_text(int status);

#endif
