/*
 * test_connectors_http.c — the `http` source and sink without a pipeline.
 *
 * The source runs against a fake source context (defined here: a queue of
 * emitted batches that can be told to be full or stopping) and is driven
 * with libcurl. The sink posts to an in-process wire_http_server acting as a
 * collector that records bodies and can answer 503/400 or hold a request.
 * Configs are filled through the components' own option tables (defaults
 * included), so the tests follow the tables, not the struct layouts.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "core/json.h"
#include "net/net.h"
#include "test.h"

/* ---- option tables -> config structs ---- */

static void set_opt(const wire_option *t, void *cfg, const char *name, const char *val)
{
    for (; t->name; t++) {
        if (strcmp(t->name, name) != 0)
            continue;
        char *f = (char *)cfg + t->offset;
        int64_t v = 0;
        switch (t->type) {
        case WIRE_OPT_STRING: *(const char **)f = val; return;
        case WIRE_OPT_INT: *(int64_t *)f = atoll(val); return;
        case WIRE_OPT_SIZE: wire_parse_size(val, &v), *(int64_t *)f = v; return;
        case WIRE_OPT_DURATION: wire_parse_duration_ms(val, &v), *(int64_t *)f = v; return;
        case WIRE_OPT_BOOL: *(bool *)f = strcmp(val, "true") == 0; return;
        case WIRE_OPT_ENUM: {
            int i = 0;
            const char *c = t->choices;
            size_t n = strlen(val);
            while (c) {
                if (strncmp(c, val, n) == 0 && (c[n] == '|' || c[n] == '\0'))
                    break;
                c = strchr(c, '|');
                if (c)
                    c++;
                i++;
            }
            *(int *)f = i;
            return;
        }
        default: return;
        }
    }
    fprintf(stderr, "no option %s\n", name);
    abort();
}

static void *make_config(const wire_option *table, size_t size)
{
    void *cfg = wire_xcalloc(1, size);
    for (const wire_option *t = table; t->name; t++)
        if (t->def)
            set_opt(table, cfg, t->name, t->def);
    return cfg;
}

/* ---- a fake source context ---- */

struct wire_source_ctx {
    wire_batch_pool *pool;
    pthread_mutex_t lock;
    wire_batch *q[256];
    int nq;
    atomic_bool stopping, full, refuse;
    atomic_uint_fast64_t invalid;
    atomic_uint_fast64_t seq, checkpoints_requested;
};

void wire_source_request_checkpoint(wire_source_ctx *ctx)
{
    atomic_fetch_add(&ctx->checkpoints_requested, 1);
}

wire_batch *wire_source_batch(wire_source_ctx *ctx)
{
    return wire_batch_get(ctx->pool);
}
bool wire_source_stopping(const wire_source_ctx *ctx)
{
    return atomic_load(&ctx->stopping);
}
const wire_position *wire_source_resume(const wire_source_ctx *ctx, uint32_t split)
{
    return NULL;
}
void wire_source_count_invalid(wire_source_ctx *ctx, uint64_t n)
{
    atomic_fetch_add(&ctx->invalid, n);
}
const char *wire_source_pipeline_name(const wire_source_ctx *ctx)
{
    return "test";
}

int wire_source_try_emit(wire_source_ctx *ctx, wire_batch *b, bool validated, int64_t timeout_ms)
{
    if (atomic_load(&ctx->refuse))
        return WIRE_ESTOPPED;
    if (atomic_load(&ctx->full))
        return WIRE_EAGAIN;
    pthread_mutex_lock(&ctx->lock);
    ctx->q[ctx->nq++] = b;
    b->seq = atomic_fetch_add(&ctx->seq, 1) + 1;
    pthread_mutex_unlock(&ctx->lock);
    return 0;
}

int wire_source_emit(wire_source_ctx *ctx, wire_batch *b, bool validated)
{
    return wire_source_try_emit(ctx, b, validated, 0);
}

static wire_source_ctx sctx;
static void *src_self;
static int src_port;
static int src_rc;

static void *source_thread(void *arg)
{
    wire_err err;
    src_rc = wire_source_http.run(src_self, &sctx, &err);
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- an HTTP client (libcurl) ---- */

typedef struct reply {
    long status;
    char body[4096];
    size_t len;
    long retry_after;
} reply;

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    reply *r = arg;
    size_t n = size * nmemb, room = sizeof(r->body) - 1 - r->len;
    size_t k = n < room ? n : room;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return n;
}

static int request(const char *method, const char *path, const char *body, size_t len, reply *r)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", src_port, path);
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_off_t ra = 0;
    curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra);
    r->retry_after = (long)ra;
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

static int post(const char *body, reply *r)
{
    return request("POST", "/ingest", body, strlen(body), r);
}

static int queued_events(void)
{
    int n = 0;
    pthread_mutex_lock(&sctx.lock);
    for (int i = 0; i < sctx.nq; i++)
        n += (int)sctx.q[i]->n;
    pthread_mutex_unlock(&sctx.lock);
    return n;
}

/* The bytes of queued event k (0-based, across batches), NUL-terminated copy. */
static const char *queued_event(int k, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < sctx.nq; i++) {
        if (k < (int)sctx.q[i]->n) {
            const wire_event *e = &sctx.q[i]->ev[k];
            snprintf(out, n, "%.*s", (int)e->len, e->data);
            return out;
        }
        k -= (int)sctx.q[i]->n;
    }
    return out;
}

static reply rep;

TEST(test_source_http)
{
    char addr[64], ev[512];
    src_port = free_port();
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", src_port);
    void *cfg = make_config(wire_source_http.base.options, wire_source_http.base.config_size);
    set_opt(wire_source_http.base.options, cfg, "address", addr);
    set_opt(wire_source_http.base.options, cfg, "path", "/ingest");
    set_opt(wire_source_http.base.options, cfg, "max_body", "64KB");
    set_opt(wire_source_http.base.options, cfg, "retry_after", "2s");
    wire_err err;
    CHECK_EQ_INT(wire_source_http.base.create(&src_self, cfg, NULL, &err), 0);
    memset(&sctx, 0, sizeof(sctx));
    sctx.pool = wire_batch_pool_new(0, 0);
    pthread_mutex_init(&sctx.lock, NULL);
    pthread_t th;
    pthread_create(&th, NULL, source_thread, NULL);
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) {
        up = request("GET", "/", NULL, 0, &rep) == 0;
        if (!up)
            wire_sleep_ms(20);
    }
    CHECK(up);
    CHECK_EQ_INT(rep.status, 404);

    /* one object, byte for byte */
    CHECK_EQ_INT(post("{\"a\": 1, \"s\": \"x y\"}", &rep), 0);
    CHECK_EQ_INT(rep.status, 200);
    CHECK_EQ_STR(rep.body, "{\"accepted\":1}\n");
    CHECK_EQ_STR(queued_event(0, ev, sizeof(ev)), "{\"a\": 1, \"s\": \"x y\"}");
    /* a pretty-printed object becomes one line */
    CHECK_EQ_INT(post("{\n  \"a\": 2,\n  \"s\": \"x \\\" y\"\n}\n", &rep), 0);
    CHECK_EQ_INT(rep.status, 200);
    CHECK_EQ_STR(queued_event(1, ev, sizeof(ev)), "{\"a\":2,\"s\":\"x \\\" y\"}");
    /* an array of objects */
    CHECK_EQ_INT(post(" [{\"a\":3}, {\"a\":4},\n {\"a\":5}] ", &rep), 0);
    CHECK_EQ_STR(rep.body, "{\"accepted\":3}\n");
    CHECK_EQ_STR(queued_event(4, ev, sizeof(ev)), "{\"a\":5}");
    /* NDJSON with CRLF and blank lines */
    CHECK_EQ_INT(post("{\"a\":6}\r\n\r\n{\"a\":7}\n  \n{\"a\":8}", &rep), 0);
    CHECK_EQ_STR(rep.body, "{\"accepted\":3}\n");
    CHECK_EQ_STR(queued_event(5, ev, sizeof(ev)), "{\"a\":6}");
    CHECK_EQ_STR(queued_event(7, ev, sizeof(ev)), "{\"a\":8}");
    CHECK_EQ_INT(queued_events(), 8);
    /* empty body: nothing to do */
    CHECK_EQ_INT(post("  \n", &rep), 0);
    CHECK_EQ_STR(rep.body, "{\"accepted\":0}\n");

    /* whole-request rejection, naming the first bad line / element */
    CHECK_EQ_INT(post("{\"a\":9}\n{\"a\":10}\n{\"a\":}\n{\"a\":12}\n", &rep), 0);
    CHECK_EQ_INT(rep.status, 400);
    CHECK(strstr(rep.body, "\"error\":\"line 3, column") != NULL);
    CHECK_EQ_INT(post("{\"a\":9}\n[1]\n", &rep), 0);
    CHECK_EQ_INT(rep.status, 400);
    CHECK(strstr(rep.body, "line 2") != NULL);
    CHECK_EQ_INT(post("[{\"a\":1}, 2]", &rep), 0);
    CHECK_EQ_INT(rep.status, 400);
    CHECK(strstr(rep.body, "element 2: expected a JSON object") != NULL);
    CHECK_EQ_INT(post("[{\"a\":1},\n {\"a\" 2}]", &rep), 0);
    CHECK_EQ_INT(rep.status, 400);
    CHECK(strstr(rep.body, "line 2") != NULL);
    CHECK_EQ_INT(post("\"just a string\"", &rep), 0);
    CHECK_EQ_INT(rep.status, 400);
    CHECK_EQ_INT(queued_events(), 8);
    CHECK_EQ_INT(atomic_load(&sctx.invalid), 5);

    /* methods, paths, encodings, size */
    CHECK_EQ_INT(request("GET", "/ingest", NULL, 0, &rep), 0);
    CHECK_EQ_INT(rep.status, 405);
    CHECK_EQ_INT(request("POST", "/other", "{}", 2, &rep), 0);
    CHECK_EQ_INT(rep.status, 404);
    static char big[100000];
    memset(big, ' ', sizeof(big) - 3);
    memcpy(big + sizeof(big) - 3, "{}", 3);
    CHECK_EQ_INT(post(big, &rep), 0);
    CHECK_EQ_INT(rep.status, 413);

    /* backpressure: 429 + Retry-After while full, 503 when the pipeline refuses */
    atomic_store(&sctx.full, true);
    CHECK_EQ_INT(post("{\"a\":13}", &rep), 0);
    CHECK_EQ_INT(rep.status, 429);
    CHECK_EQ_INT(rep.retry_after, 2);
    atomic_store(&sctx.full, false);
    atomic_store(&sctx.refuse, true);
    CHECK_EQ_INT(post("{\"a\":13}", &rep), 0);
    CHECK_EQ_INT(rep.status, 503);
    CHECK_EQ_INT(rep.retry_after, 2);
    atomic_store(&sctx.refuse, false);
    CHECK_EQ_INT(post("{\"a\":13}", &rep), 0);
    CHECK_EQ_INT(rep.status, 200);
    CHECK_EQ_INT(queued_events(), 9);

    /* offsets: unique and increasing; refused requests used none */
    uint64_t prev = 0;
    bool first = true, increasing = true;
    for (int i = 0; i < sctx.nq; i++) {
        wire_batch *b = sctx.q[i];
        for (uint32_t k = 0; k < b->n; k++) {
            if (!first && b->ev[k].offset <= prev)
                increasing = false;
            prev = b->ev[k].offset;
            first = false;
        }
        const wire_position *pos = wire_batch_position(b, 0);
        CHECK(pos != NULL);
        if (pos)
            CHECK_EQ_INT(pos->offset, b->ev[b->n - 1].offset + 1);
    }
    CHECK(increasing);

    /* stop: run() returns, the port closes */
    atomic_store(&sctx.stopping, true);
    wire_source_http.wake(src_self);
    pthread_join(th, NULL);
    CHECK_EQ_INT(src_rc, WIRE_ESTOPPED);
    CHECK(request("GET", "/", NULL, 0, &rep) < 0);
    wire_source_http.base.destroy(src_self);
    for (int i = 0; i < sctx.nq; i++)
        wire_batch_release(sctx.q[i]);
    wire_batch_pool_free(sctx.pool);
    pthread_mutex_destroy(&sctx.lock);
    free(cfg);
}

TEST(test_source_http_config_errors)
{
    void *cfg = make_config(wire_source_http.base.options, wire_source_http.base.config_size);
    void *self = NULL;
    wire_err err;
    set_opt(wire_source_http.base.options, cfg, "address", "no-port");
    CHECK(wire_source_http.base.create(&self, cfg, NULL, &err) < 0);
    set_opt(wire_source_http.base.options, cfg, "address", "127.0.0.1:0");
    set_opt(wire_source_http.base.options, cfg, "response_code", "302");
    CHECK(wire_source_http.base.create(&self, cfg, NULL, &err) < 0);
    set_opt(wire_source_http.base.options, cfg, "response_code", "204");
    CHECK_EQ_INT(wire_source_http.base.create(&self, cfg, NULL, &err), 0);
    wire_source_http.base.destroy(self);
    free(cfg);
}

/* ack: committed — answered only when the engine reports the batch committed */
typedef struct bg_post {
    pthread_t t;
    const char *body;
    reply r;
    atomic_bool done;
} bg_post;

static void *bg_post_main(void *arg)
{
    bg_post *p = arg;
    post(p->body, &p->r);
    atomic_store(&p->done, true);
    return NULL;
}

/* A checkpoint holding the position of the first `nbatches` queued batches is durable. */
static void commit_batches(int nbatches, bool other_run)
{
    static uint64_t id;
    pthread_mutex_lock(&sctx.lock);
    wire_position pos = sctx.q[nbatches - 1]->pos[0];
    pthread_mutex_unlock(&sctx.lock);
    if (other_run) /* the same offset from an earlier run (another identity) */
        pos.identity[0] ^= 1;
    wire_source_http.on_checkpoint_committed(src_self, ++id, &pos, 1);
}

TEST(test_source_http_ack_committed)
{
    char addr[64];
    src_port = free_port();
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", src_port);
    void *cfg = make_config(wire_source_http.base.options, wire_source_http.base.config_size);
    set_opt(wire_source_http.base.options, cfg, "address", addr);
    set_opt(wire_source_http.base.options, cfg, "path", "/ingest");
    set_opt(wire_source_http.base.options, cfg, "ack", "committed");
    wire_err err;
    CHECK_EQ_INT(wire_source_http.base.create(&src_self, cfg, NULL, &err), 0);
    memset(&sctx, 0, sizeof(sctx));
    sctx.pool = wire_batch_pool_new(0, 0);
    pthread_mutex_init(&sctx.lock, NULL);
    pthread_t th;
    pthread_create(&th, NULL, source_thread, NULL);
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) {
        up = request("GET", "/", NULL, 0, &rep) == 0;
        if (!up)
            wire_sleep_ms(20);
    }
    CHECK(up);
    bg_post a = {.body = "{\"a\":1}\n{\"a\":2}"}, b = {.body = "{\"b\":1}"};
    pthread_create(&a.t, NULL, bg_post_main, &a);
    wire_sleep_ms(100);
    pthread_create(&b.t, NULL, bg_post_main, &b);
    wire_sleep_ms(100);
    CHECK_EQ_INT(queued_events(), 3); /* both queued ... */
    CHECK(!atomic_load(&a.done));     /* ... neither answered */
    CHECK(!atomic_load(&b.done));
    CHECK(atomic_load(&sctx.checkpoints_requested) >= 2);
    commit_batches(2, true); /* an earlier run's position commits nothing of this run */
    wire_sleep_ms(100);
    CHECK(!atomic_load(&a.done));
    commit_batches(1, false); /* batch 1 committed */
    pthread_join(a.t, NULL);
    CHECK_EQ_INT(a.r.status, 200);
    CHECK_EQ_STR(a.r.body, "{\"accepted\":2}\n");
    wire_sleep_ms(100);
    CHECK(!atomic_load(&b.done));
    commit_batches(2, false);
    pthread_join(b.t, NULL);
    CHECK_EQ_INT(b.r.status, 200);
    /* a request still waiting at stop gets 503 when the source is destroyed */
    bg_post c = {.body = "{\"c\":1}"};
    pthread_create(&c.t, NULL, bg_post_main, &c);
    wire_sleep_ms(100);
    CHECK(!atomic_load(&c.done));
    atomic_store(&sctx.stopping, true);
    wire_source_http.wake(src_self);
    pthread_join(th, NULL);
    CHECK(request("POST", "/ingest", "{}", 2, &rep) == 0 && rep.status == 503);
    wire_source_http.base.destroy(src_self);
    pthread_join(c.t, NULL);
    CHECK_EQ_INT(c.r.status, 503);
    CHECK(strstr(c.r.body, "committed") != NULL);
    for (int i = 0; i < sctx.nq; i++)
        wire_batch_release(sctx.q[i]);
    wire_batch_pool_free(sctx.pool);
    pthread_mutex_destroy(&sctx.lock);
    free(cfg);
}

/* ---- the sink against an in-process collector ---- */

static pthread_mutex_t col_lock = PTHREAD_MUTEX_INITIALIZER;
static wire_buf col_body;      /* every accepted body, concatenated */
static int col_requests;       /* accepted requests */
static int col_lines[64];      /* lines per accepted request */
static atomic_int col_fail_at; /* answer col_status to request number N (1-based), 0 = never */
static atomic_int col_fail_count;
static atomic_int col_status;
static atomic_int col_seen;
static _Atomic(wire_http_req *) col_held; /* handed between threads */

static void collector(wire_http_req *r, void *arg)
{
    int n = atomic_fetch_add(&col_seen, 1) + 1;
    int fail_at = atomic_load(&col_fail_at);
    if (fail_at && n >= fail_at && atomic_load(&col_fail_count) > 0) {
        atomic_fetch_sub(&col_fail_count, 1);
        int st = atomic_load(&col_status);
        if (st == 0) { /* hold it: the client times out */
            atomic_store(&col_held, r);
            return;
        }
        wire_http_response resp = {.status = st,
                                   .retry_after_s = st == 503 ? 7 : 0,
                                   .body = "{\"error\":\"nope\"}",
                                   .body_len = 16};
        wire_http_respond_full(r, &resp);
        return;
    }
    size_t len;
    const char *b = wire_http_req_body(r, &len);
    const char *ct = wire_http_req_header(r, "Content-Type");
    const char *tok = wire_http_req_header(r, "X-Token");
    pthread_mutex_lock(&col_lock);
    wire_buf_append(&col_body, b, len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += b[i] == '\n';
    if (col_requests < 64)
        col_lines[col_requests] = lines;
    col_requests++;
    pthread_mutex_unlock(&col_lock);
    bool ok = ct && strcmp(ct, "application/x-ndjson") == 0 && tok && strcmp(tok, "t1") == 0;
    wire_http_respond(r, ok ? 200 : 418, "application/json", "{}", 2);
}

static wire_batch *make_batch(int from, int n, wire_buf *expect)
{
    wire_batch *b = wire_batch_new(0);
    for (int i = from; i < from + n; i++) {
        char *p = wire_arena_alloc_unaligned(&b->arena, 64);
        int len = snprintf(p, 64, "{\"n\":%d,\"pad\":\"xxxxxxxxxxxxxxxx\"}", i);
        wire_batch_push(b, p, (uint32_t)len);
        if (expect) {
            wire_buf_append(expect, p, (size_t)len);
            wire_buf_putc(expect, '\n');
        }
    }
    return b;
}

TEST(test_sink_http)
{
    wire_http_server *srv = NULL;
    wire_err err;
    CHECK_EQ_INT(wire_http_server_new("127.0.0.1:0", collector, NULL, NULL, &srv, &err), 0);
    wire_http_server_start(srv, &err);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/bulk", wire_http_server_port(srv));
    void *cfg = make_config(wire_sink_http.base.options, wire_sink_http.base.config_size);
    set_opt(wire_sink_http.base.options, cfg, "url", url);
    set_opt(wire_sink_http.base.options, cfg, "batch_events", "100");
    set_opt(wire_sink_http.base.options, cfg, "timeout", "300ms");
    /* headers: a strmap, filled by hand */
    char *keys[] = {"X-Token"}, *vals[] = {"t1"};
    for (const wire_option *o = wire_sink_http.base.options; o->name; o++)
        if (strcmp(o->name, "headers") == 0)
            *(wire_strmap *)((char *)cfg + o->offset) = (wire_strmap){keys, vals, 1};
    void *sink = NULL;
    CHECK_EQ_INT(wire_sink_http.base.create(&sink, cfg, NULL, &err), 0);
    CHECK_EQ_INT(wire_sink_http.linger_ms(sink), 100);
    wire_buf expect;
    wire_buf_init(&expect);
    wire_buf_init(&col_body);

    /* 250 events in batches of 60: write asks for a flush once 100 are pending */
    int asked = 0;
    for (int i = 0; i < 250; i += 50) {
        wire_batch *b = make_batch(i, 50, &expect);
        int rc = wire_sink_http.write(sink, b, &err);
        wire_batch_free(b);
        if (i == 0)
            CHECK_EQ_INT(rc, 0);
        asked += rc == 1;
    }
    CHECK(asked >= 1);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), 0);
    CHECK_EQ_INT(col_requests, 3);
    CHECK_EQ_INT(col_lines[0], 100);
    CHECK_EQ_INT(col_lines[1], 100);
    CHECK_EQ_INT(col_lines[2], 50);
    CHECK(col_body.len == expect.len && memcmp(col_body.p, expect.p, expect.len) == 0);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), 0); /* nothing pending: no request */
    CHECK_EQ_INT(col_requests, 3);

    /* the 2nd request of a flush gets 503: EAGAIN, Retry-After kept; the retry
       resends only what was not accepted */
    atomic_store(&col_seen, 0);
    atomic_store(&col_fail_at, 2);
    atomic_store(&col_fail_count, 1);
    atomic_store(&col_status, 503);
    wire_batch *b = make_batch(250, 250, &expect);
    wire_sink_http.write(sink, b, &err);
    wire_batch_free(b);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), WIRE_EAGAIN);
    CHECK(strstr(err.msg, "503") != NULL && strstr(err.msg, url) != NULL);
    CHECK_EQ_INT(err.retry_after_ms, 7000); /* what the runner's backoff reads */
    CHECK_EQ_INT(col_requests, 4);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), 0);
    CHECK_EQ_INT(col_requests, 6);
    CHECK(col_body.len == expect.len && memcmp(col_body.p, expect.p, expect.len) == 0);

    /* 400: permanent */
    atomic_store(&col_seen, 0);
    atomic_store(&col_fail_at, 1);
    atomic_store(&col_fail_count, 1);
    atomic_store(&col_status, 400);
    b = make_batch(500, 10, &expect);
    wire_sink_http.write(sink, b, &err);
    wire_batch_free(b);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), WIRE_EPERM);
    CHECK(strstr(err.msg, "answered 400") != NULL && strstr(err.msg, "nope") != NULL);
    /* timeout: retryable */
    atomic_store(&col_seen, 0);
    atomic_store(&col_fail_at, 1);
    atomic_store(&col_fail_count, 1);
    atomic_store(&col_status, 0);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), WIRE_EAGAIN);
    CHECK(strstr(err.msg, "imeout") != NULL || strstr(err.msg, "timed out") != NULL);
    wire_http_req *held = atomic_exchange(&col_held, NULL);
    if (held)
        wire_http_respond(held, 500, NULL, NULL, 0);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), 0);
    CHECK(col_body.len == expect.len && memcmp(col_body.p, expect.p, expect.len) == 0);

    /* connection refused: retryable, data kept */
    wire_http_server_free(srv);
    b = make_batch(510, 5, &expect);
    wire_sink_http.write(sink, b, &err);
    wire_batch_free(b);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), WIRE_EAGAIN);
    wire_sink_http.base.destroy(sink);

    /* batch_bytes splits too */
    CHECK_EQ_INT(wire_http_server_new("127.0.0.1:0", collector, NULL, NULL, &srv, &err), 0);
    wire_http_server_start(srv, &err);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/bulk", wire_http_server_port(srv));
    set_opt(wire_sink_http.base.options, cfg, "url", url);
    set_opt(wire_sink_http.base.options, cfg, "batch_bytes", "1KB");
    CHECK_EQ_INT(wire_sink_http.base.create(&sink, cfg, NULL, &err), 0);
    col_requests = 0;
    atomic_store(&col_fail_at, 0);
    b = make_batch(0, 100, NULL); /* ~36 bytes a line: 28 lines per KB */
    CHECK_EQ_INT(wire_sink_http.write(sink, b, &err), 1);
    wire_batch_free(b);
    CHECK_EQ_INT(wire_sink_http.flush(sink, &err), 0);
    CHECK_EQ_INT(col_requests, 4);
    CHECK(col_lines[0] >= 25 && col_lines[0] <= 30);
    wire_sink_http.base.destroy(sink);
    wire_http_server_free(srv);

    /* configuration errors */
    set_opt(wire_sink_http.base.options, cfg, "url", "ftp://x/");
    CHECK(wire_sink_http.base.create(&sink, cfg, NULL, &err) < 0);
    wire_buf_free(&expect);
    wire_buf_free(&col_body);
    free(cfg);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_source_http);
    RUN(test_source_http_config_errors);
    RUN(test_source_http_ack_committed);
    RUN(test_sink_http);
    curl_global_cleanup();
    TEST_MAIN_END();
}
