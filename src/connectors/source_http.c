/*
 * source_http.c — the `http` source: events POSTed to Wire's HTTP server.
 *
 * A request body is one JSON object, a JSON array of objects, or NDJSON (one
 * object per line, blank lines ignored). A request is accepted or rejected
 * WHOLE, so that a client can simply retry it: every event is validated
 * before any of them enters the pipeline, all of them go into one batch, and
 * that batch is handed over with the non-blocking wire_source_try_emit().
 *
 *   200 {"accepted":N}   the events are in the pipeline's queue (ack: queued)
 *   400 {"error":"line 3: ..."}  the first bad line / array element; nothing taken
 *   404 / 405           another path / another method than POST
 *   413                 body over max_body (decided by the server, before reading it)
 *   415                 a Content-Encoding we do not decode
 *   429 + Retry-After   the pipeline's input queue is full: retry later
 *   503 + Retry-After   the pipeline is stopping
 *
 * Threads: run() is called on the source thread; it starts the HTTP server
 * (its own loop thread), then waits for the stop request. Requests are
 * handled on the server's thread, which is therefore the only caller of
 * wire_source_batch/try_emit while the server runs.
 *
 * Positions: the source is not replayable. Each event gets a per-process
 * sequence number as its offset, and each batch one wire_position whose
 * identity is random per run and whose epoch_ms is the start time, so event
 * ids (UUIDv7 from epoch_ms, identity, offset) are unique.
 *
 * `ack: committed`: the request is not answered when its batch is queued.
 * It waits in a FIFO with the offset its batch ends at (the batch's
 * position); after each checkpoint is saved the engine calls
 * on_checkpoint_committed (checkpointer thread) with the positions it holds:
 * every event below this run's position — durably accepted by every sink —
 * is committed, and those requests get their 200 then (the server lets any
 * thread answer). A position of an earlier run (another identity) answers
 * nothing. Each
 * emit asks for a checkpoint, so commits are group-committed as fast as the
 * sinks allow. At stop, new requests get 503; the engine's final checkpoint
 * answers what it covers, and destroy() answers anything left with 503
 * (not confirmed: a client retry may duplicate, never lose).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "core/json.h"
#include "net/net.h"
#include "net/tls.h"

enum { ACK_QUEUED = 0, ACK_COMMITTED = 1 };

typedef struct http_source_config {
    char *address;
    char *path;
    int64_t max_body;
    int ack;
    int64_t response_code;
    int64_t retry_after_ms;
    int64_t max_connections;
    int64_t idle_timeout_ms;
    wire_tls_opts tls;
} http_source_config;

static const wire_option http_source_options[] = {
    {"address", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(http_source_config, address),
     NULL, "host:port to listen on (\":PORT\" = all interfaces; port 0 picks a free port)"},
    {"path", WIRE_OPT_STRING, "/", 0, offsetof(http_source_config, path), NULL,
     "URL path that accepts POSTed events; other paths get 404"},
    {"max_body", WIRE_OPT_SIZE, "10MB", 0, offsetof(http_source_config, max_body), NULL,
     "largest request body; larger requests get 413"},
    {"ack", WIRE_OPT_ENUM, "queued", 0, offsetof(http_source_config, ack), "queued|committed",
     "answer 200 once the events are in the pipeline's queue (queued), or only once every "
     "sink has durably accepted them and a checkpoint recorded it (committed)"},
    {"response_code", WIRE_OPT_INT, "200", 0, offsetof(http_source_config, response_code), NULL,
     "status of an accepted request: 200, 201, 202 (body {\"accepted\":N}) or 204 (no body)"},
    {"retry_after", WIRE_OPT_DURATION, "1s", 0, offsetof(http_source_config, retry_after_ms), NULL,
     "Retry-After sent with 429 (pipeline full) and 503 (stopping), in whole seconds"},
    {"max_connections", WIRE_OPT_INT, "10000", 0, offsetof(http_source_config, max_connections),
     NULL, "open connections beyond this are answered 503 and closed"},
    {"idle_timeout", WIRE_OPT_DURATION, "60s", 0, offsetof(http_source_config, idle_timeout_ms),
     NULL, "close keep-alive connections idle this long"},
    {"tls", WIRE_OPT_TLS, NULL, 0, offsetof(http_source_config, tls), NULL,
     "serve HTTPS (docs/security.md): crt_file and key_file required; verify_certificate: true "
     "asks clients for a certificate signed by ca_file (mTLS)"},
    {NULL},
};

typedef struct pending_req {
    struct pending_req *next;
    wire_http_req *req;
    uint64_t end; /* the offset after its last event: committed once a checkpoint is there */
    long events;
} pending_req;

typedef struct http_source {
    const http_source_config *cfg;
    wire_source_ctx *ctx;
    wire_http_server *srv;
    wire_tls *tls;     /* tls: the server's context (outlives srv) */
    wire_batch *spare; /* a batch kept between requests (rejected or refused) */
    uint64_t seq;      /* next event offset */
    uint64_t identity[2];
    int64_t epoch_ms;
    int retry_after_s;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool woken;
    /* the server thread emits only while !closed, under emit_lock: once run()
       has set closed, nothing calls into ctx any more */
    pthread_mutex_t emit_lock;
    bool closed;
    /* ack: committed — requests waiting for their batch to be committed */
    pthread_mutex_t pending_lock;
    pending_req *pending, *pending_tail;
    uint64_t committed; /* this run's highest committed offset reported so far */
} http_source;

static int http_create(void **self, const void *config, const wire_component_env *env,
                       wire_err *err)
{
    (void)env;
    const http_source_config *cfg = config;
    if (cfg->response_code != 200 && cfg->response_code != 201 && cfg->response_code != 202 &&
        cfg->response_code != 204)
        return wire_errf(err, WIRE_EINVAL,
                         "source 'http': response_code must be 200, 201, 202 or 204, not %lld",
                         (long long)cfg->response_code);
    if (!cfg->path || cfg->path[0] != '/')
        return wire_errf(err, WIRE_EINVAL, "source 'http': path must start with '/'");
    if (cfg->max_body <= 0)
        return wire_errf(err, WIRE_EINVAL, "source 'http': max_body must be positive");
    struct sockaddr_storage ss;
    int rc = wire_net_parse_addr(cfg->address, &ss, err);
    if (rc < 0)
        return rc;
    http_source *s = wire_xcalloc(1, sizeof(*s));
    s->cfg = cfg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_mutex_init(&s->emit_lock, NULL);
    pthread_mutex_init(&s->pending_lock, NULL);
    s->epoch_ms = wire_now_ms();
    if (getrandom(s->identity, sizeof(s->identity), 0) != (ssize_t)sizeof(s->identity)) {
        s->identity[0] = wire_hash64(cfg->address, strlen(cfg->address), (uint64_t)getpid());
        s->identity[1] = (uint64_t)wire_mono_ns() ^ (uint64_t)s->epoch_ms;
    }
    int64_t ra = (cfg->retry_after_ms + 999) / 1000;
    s->retry_after_s = ra < 1 ? 1 : (int)ra;
    *self = s;
    return 0;
}

/* ---- body parsing ---- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy a validated JSON value into dst without insignificant whitespace. */
static size_t compact(const char *p, size_t n, char *dst)
{
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            dst[o++] = c;
            if (c == '\\' && i + 1 < n)
                dst[o++] = p[++i];
            else if (c == '"')
                in_str = false;
        } else if (!is_ws(c)) {
            dst[o++] = c;
            if (c == '"')
                in_str = true;
        }
    }
    return o;
}

/*
 * Append one validated object to the batch. An event is one line downstream
 * (NDJSON files, the http sink), so a pretty-printed object is compacted; a
 * one-line object is copied byte for byte.
 */
static void add_event(http_source *s, wire_batch *b, const char *p, size_t n, int64_t now)
{
    char *dst = wire_arena_alloc_unaligned(&b->arena, n ? n : 1);
    size_t len = n;
    if (memchr(p, '\n', n) || memchr(p, '\r', n))
        len = compact(p, n, dst);
    else
        memcpy(dst, p, n);
    wire_event *ev = wire_batch_push(b, dst, (uint32_t)len);
    ev->split = 0;
    ev->offset = s->seq++;
    ev->time_ms = now;
}

/* The validator's reason without its "invalid JSON at offset N: " prefix:
   we name the line and column ourselves. */
static const char *json_reason(const char *msg)
{
    if (strncmp(msg, "invalid JSON at offset ", 23) == 0) {
        const char *c = strstr(msg, ": ");
        if (c)
            return c + 2;
    }
    return msg;
}

/* Line and column (1-based) of byte `off` in p. */
static void line_col(const char *p, size_t off, long *line, long *col)
{
    long l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (p[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/*
 * Parse a request body into b. Returns the number of events, or -1 with msg
 * set (the first problem; nothing of the request is kept by the caller).
 */
static long parse_body(http_source *s, const char *p, size_t n, wire_batch *b, char *msg,
                       size_t msgn)
{
    int64_t now = wire_now_ms();
    wire_err err;
    size_t i = 0;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* UTF-8 byte order mark */
    while (i < n && is_ws(p[i]))
        i++;
    if (i == n)
        return 0;
    if (p[i] == '[') {
        wire_err_clear(&err);
        if (wire_json_validate(p + i, n - i, &err) < 0) {
            long line, col;
            size_t off = i + (err.offset > 0 ? (size_t)err.offset : 0);
            line_col(p, off < n ? off : n, &line, &col);
            snprintf(msg, msgn, "line %ld, column %ld: invalid JSON array: %.300s", line, col,
                     json_reason(err.msg));
            return -1;
        }
        wire_json_val arr, el, key;
        wire_json_value(p + i, n - i, &arr);
        wire_json_iter it;
        wire_json_iter_init(&it, &arr);
        long k = 0;
        while (wire_json_iter_next(&it, &key, &el)) {
            k++;
            if (el.kind != WIRE_JSON_OBJECT) {
                snprintf(msg, msgn, "element %ld: expected a JSON object", k);
                return -1;
            }
            add_event(s, b, el.p, el.n, now);
        }
        return k;
    }
    /* one object, possibly spanning lines (pretty-printed) */
    if (p[i] == '{' && wire_json_validate_object(p + i, n - i, NULL) == 0) {
        size_t e = n;
        while (e > i && is_ws(p[e - 1]))
            e--;
        add_event(s, b, p + i, e - i, now);
        return 1;
    }
    /* NDJSON */
    long line = 0, count = 0;
    size_t pos = 0;
    while (pos < n) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - p) : n;
        line++;
        size_t a = pos, z = end;
        if (line == 1 && z - a >= 3 && memcmp(p + a, "\xEF\xBB\xBF", 3) == 0)
            a += 3;
        while (a < z && is_ws(p[a]))
            a++;
        while (z > a && is_ws(p[z - 1]))
            z--;
        if (a < z) {
            wire_err_clear(&err);
            if (wire_json_validate_object(p + a, z - a, &err) < 0) {
                long col = 1 + (long)(a - pos) + (err.offset > 0 ? err.offset : 0);
                snprintf(msg, msgn, "line %ld, column %ld: %.400s", line, col,
                         json_reason(err.msg));
                return -1;
            }
            add_event(s, b, p + a, z - a, now);
            count++;
        }
        pos = end + 1;
    }
    return count;
}

/* ---- requests ---- */

static void respond_json_error(wire_http_req *r, int status, int retry_after_s, const char *msg)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_http_error_json(&b, msg);
    wire_http_response resp = {.status = status,
                               .content_type = "application/json",
                               .retry_after_s = retry_after_s,
                               .body = b.p,
                               .body_len = b.len};
    if (status == 405)
        resp.headers = "Allow: POST\r\n";
    wire_http_respond_full(r, &resp);
    wire_buf_free(&b);
}

static wire_batch *take_batch(http_source *s)
{
    wire_batch *b = s->spare;
    s->spare = NULL;
    if (!b)
        b = wire_source_batch(s->ctx);
    return b;
}

static void keep_batch(http_source *s, wire_batch *b)
{
    wire_batch_clear(b);
    if (s->spare)
        wire_batch_release(b);
    else
        s->spare = b;
}

static void respond_accepted(http_source *s, wire_http_req *r, long n)
{
    if (s->cfg->response_code == 204) {
        wire_http_respond(r, 204, NULL, NULL, 0);
        return;
    }
    char body[64];
    int m = snprintf(body, sizeof(body), "{\"accepted\":%ld}\n", n);
    wire_http_respond(r, (int)s->cfg->response_code, "application/json", body, (size_t)m);
}

static void on_request(wire_http_req *r, void *arg)
{
    http_source *s = arg;
    const http_source_config *cfg = s->cfg;
    char msg[512];
    if (strcmp(wire_http_req_path(r), cfg->path) != 0) {
        snprintf(msg, sizeof(msg), "no such path: events are accepted by POST %s", cfg->path);
        respond_json_error(r, 404, 0, msg);
        return;
    }
    if (strcmp(wire_http_req_method(r), "POST") != 0) {
        respond_json_error(r, 405, 0, "method not allowed: use POST");
        return;
    }
    const char *enc = wire_http_req_header(r, "Content-Encoding");
    if (enc && *enc && strcasecmp(enc, "identity") != 0) {
        snprintf(msg, sizeof(msg), "unsupported Content-Encoding '%.100s'", enc);
        respond_json_error(r, 415, 0, msg);
        return;
    }
    size_t len;
    const char *body = wire_http_req_body(r, &len);
    pthread_mutex_lock(&s->emit_lock);
    if (s->closed || wire_source_stopping(s->ctx)) {
        pthread_mutex_unlock(&s->emit_lock);
        respond_json_error(r, 503, s->retry_after_s, "pipeline is stopping");
        return;
    }
    wire_batch *b = take_batch(s);
    uint64_t first = s->seq;
    long n = parse_body(s, body, len, b, msg, sizeof(msg));
    if (n < 0) {
        s->seq = first; /* nothing of this request exists downstream */
        keep_batch(s, b);
        wire_source_count_invalid(s->ctx, 1);
        pthread_mutex_unlock(&s->emit_lock);
        respond_json_error(r, 400, 0, msg);
        return;
    }
    if (n == 0) {
        keep_batch(s, b);
        pthread_mutex_unlock(&s->emit_lock);
        respond_accepted(s, r, 0);
        return;
    }
    wire_position pos = {.split = 0,
                         .identity = {s->identity[0], s->identity[1]},
                         .epoch_ms = s->epoch_ms,
                         .offset = s->seq};
    wire_batch_set_position(b, &pos);
    b->ingest_ms = wire_now_ms();
    b->ingest_ns = wire_mono_ns();
    int rc = wire_source_try_emit(s->ctx, b, true, 0);
    if (rc < 0) {
        /* try_emit never consumes a batch it refused */
        s->seq = first;
        keep_batch(s, b);
        pthread_mutex_unlock(&s->emit_lock);
        if (rc == WIRE_EAGAIN)
            respond_json_error(r, 429, s->retry_after_s,
                               "pipeline is full: retry after the Retry-After delay");
        else
            respond_json_error(r, 503, s->retry_after_s, "pipeline is stopping");
        return;
    }
    if (cfg->ack == ACK_QUEUED) {
        pthread_mutex_unlock(&s->emit_lock);
        respond_accepted(s, r, n);
        return;
    }
    /* ack: committed — answer when the engine reports the batch committed */
    pending_req *pr = wire_xmalloc(sizeof(*pr));
    pr->next = NULL;
    pr->req = r;
    pr->end = s->seq;
    pr->events = n;
    pthread_mutex_lock(&s->pending_lock);
    if (pr->end <= s->committed) {
        /* committed before we got here (a checkpoint raced the emit) */
        pthread_mutex_unlock(&s->pending_lock);
        pthread_mutex_unlock(&s->emit_lock);
        respond_accepted(s, r, n);
        free(pr);
        return;
    }
    if (s->pending_tail)
        s->pending_tail->next = pr;
    else
        s->pending = pr;
    s->pending_tail = pr;
    pthread_mutex_unlock(&s->pending_lock);
    wire_source_request_checkpoint(s->ctx);
    pthread_mutex_unlock(&s->emit_lock);
}

/*
 * Checkpointer thread: a checkpoint is durable. Its position of this run's
 * split says every event below it is committed: answer those requests.
 */
static void http_checkpoint_committed(void *self, uint64_t id, const wire_position *pos,
                                      size_t npos)
{
    (void)id;
    http_source *s = self;
    if (s->cfg->ack != ACK_COMMITTED)
        return;
    const wire_position *mine = NULL;
    for (size_t i = 0; i < npos && !mine; i++)
        if (pos[i].split == 0 && pos[i].identity[0] == s->identity[0] &&
            pos[i].identity[1] == s->identity[1])
            mine = &pos[i];
    if (!mine)
        return;
    pthread_mutex_lock(&s->pending_lock);
    if (mine->offset > s->committed)
        s->committed = mine->offset;
    pending_req *done = NULL, **tail = &done;
    while (s->pending && s->pending->end <= s->committed) {
        pending_req *pr = s->pending;
        s->pending = pr->next;
        pr->next = NULL;
        *tail = pr;
        tail = &pr->next;
    }
    if (!s->pending)
        s->pending_tail = NULL;
    pthread_mutex_unlock(&s->pending_lock);
    while (done) {
        pending_req *pr = done;
        done = pr->next;
        respond_accepted(s, pr->req, pr->events);
        free(pr);
    }
}

/* Answer every request still waiting for a commit (stop, destroy). */
static void fail_pending(http_source *s, const char *msg)
{
    pthread_mutex_lock(&s->pending_lock);
    pending_req *pr = s->pending;
    s->pending = s->pending_tail = NULL;
    pthread_mutex_unlock(&s->pending_lock);
    while (pr) {
        pending_req *next = pr->next;
        respond_json_error(pr->req, 503, s->retry_after_s, msg);
        free(pr);
        pr = next;
    }
}

/* ---- lifecycle ---- */

/* The tls: block as a server's: a certificate is a must; verify_certificate: true = mTLS. */
static wire_tls *server_tls(const wire_tls_opts *t, wire_err *err)
{
    if (!t->crt_file || !t->key_file)
        return wire_errf(err, WIRE_EINVAL, "source 'http': tls needs crt_file and key_file"), NULL;
    if (t->server_name)
        return wire_errf(err, WIRE_EINVAL,
                         "source 'http': tls.server_name is a client's option (a server "
                         "presents crt_file)"),
               NULL;
    bool mtls = t->verify_certificate == WIRE_TLS_VERIFY_TRUE;
    if (mtls && !t->ca_file)
        return wire_errf(err, WIRE_EINVAL,
                         "source 'http': tls.verify_certificate: true needs ca_file (who signs "
                         "the clients' certificates)"),
               NULL;
    wire_tls_files f = {.cert_file = t->crt_file,
                        .key_file = t->key_file,
                        .key_pass = t->key_pass,
                        .ca_file = t->ca_file,
                        .client_cert_auth = mtls,
                        .min_version = t->min_version == WIRE_TLS_MIN_13 ? 13 : 12};
    wire_err e;
    wire_tls *tls = wire_tls_server_new(&f, &e);
    if (!tls)
        wire_errf(err, e.code, "source 'http': %s", e.msg);
    return tls;
}

static int http_run(void *self, wire_source_ctx *ctx, wire_err *err)
{
    http_source *s = self;
    const http_source_config *cfg = s->cfg;
    s->ctx = ctx;
    if (cfg->tls.enabled && !s->tls && !(s->tls = server_tls(&cfg->tls, err)))
        return WIRE_EINVAL;
    wire_http_opts o = {.max_body = (size_t)cfg->max_body,
                        .max_conns = (int)cfg->max_connections,
                        .idle_timeout_ms = cfg->idle_timeout_ms,
                        .tls = s->tls};
    int rc = wire_http_server_new(cfg->address, on_request, s, &o, &s->srv, err);
    if (rc < 0)
        return rc;
    rc = wire_http_server_start(s->srv, err);
    if (rc < 0) {
        wire_http_server_free(s->srv);
        s->srv = NULL;
        return rc;
    }
    wire_info("pipeline %s: http source listening on %s (port %d), POST %s, ack: %s",
              wire_source_pipeline_name(ctx), cfg->address, wire_http_server_port(s->srv),
              cfg->path, cfg->ack == ACK_COMMITTED ? "committed" : "queued");
    pthread_mutex_lock(&s->lock);
    while (!s->woken && !wire_source_stopping(ctx)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    /* from here on the server thread answers 503 and calls into ctx no more */
    pthread_mutex_lock(&s->emit_lock);
    s->closed = true;
    if (s->spare) {
        wire_batch_release(s->spare);
        s->spare = NULL;
    }
    pthread_mutex_unlock(&s->emit_lock);
    if (cfg->ack == ACK_QUEUED) {
        /* answers owed are written, then connections close */
        wire_http_server_free(s->srv);
        s->srv = NULL;
    }
    /* ack: committed keeps the server up: the pipeline's final checkpoint
       (after this returns) answers the requests it covers; destroy() the rest */
    return WIRE_ESTOPPED;
}

static void http_wake(void *self)
{
    http_source *s = self;
    pthread_mutex_lock(&s->lock);
    s->woken = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void http_destroy(void *self)
{
    http_source *s = self;
    if (!s)
        return;
    fail_pending(s, "pipeline stopped before these events were committed: retry");
    if (s->srv)
        wire_http_server_free(s->srv);
    wire_tls_free(s->tls);
    if (s->spare)
        wire_batch_release(s->spare);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->emit_lock);
    pthread_mutex_destroy(&s->pending_lock);
    free(s);
}

const wire_source_def wire_source_http = {
    .base = {WIRE_KIND_SOURCE, "http",
             "receive JSON events over HTTP POST (object, array or NDJSON)", http_source_options,
             sizeof(http_source_config), 0, http_create, http_destroy},
    .run = http_run,
    .wake = http_wake,
    .on_checkpoint_committed = http_checkpoint_committed,
};
