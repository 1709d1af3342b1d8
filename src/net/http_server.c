/*
 * http_server.c — Wire's one HTTP/1.1 server: libuv for I/O, the packaged
 * http_parser for parsing, one loop on one thread.
 *
 * A connection keeps a FIFO of its requests. A request enters it when its
 * message is complete and is handed to the handler; its response may be
 * produced at once or later from any thread (queued to the loop through a
 * uv_async). Responses are written strictly from the head of the FIFO, so
 * pipelined requests are answered in order even when they complete out of
 * order. Errors found by the server itself (malformed, too large, timeouts)
 * become a request whose response is already known, queued behind the
 * earlier ones, after which the connection closes.
 *
 * A request handed to the handler holds a reference on its connection: if
 * the client goes away meanwhile, the connection's memory stays until the
 * handler answers, and that answer is dropped. The loop ends only when every
 * connection is closed and every handed-out request has been answered.
 *
 * Limits: body size (413, decided from Content-Length before the body is
 * read, or while reading a chunked body), header size (431), unanswered
 * pipelined requests per connection and unwritten output (reading pauses),
 * a deadline for a started request (408: slow clients), an idle timeout for
 * keep-alive connections, and a connection limit (503).
 */
#include <http_parser.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "net/http_request.h"
#include "net/net.h"
#include "net/tls.h"

struct conn {
    uv_tcp_t tcp;
    wire_http_server *srv;
    conn *prev, *next; /* server's list of connections */
    conn *dirty_next;  /* server's list of connections with answers to write */
    bool dirty;
    http_parser parser;
    wire_http_req *cur;         /* request being parsed */
    wire_http_req *head, *tail; /* FIFO of complete requests */
    unsigned pending;           /* requests in the FIFO */
    int refs;                   /* 1 for the handle + 1 per request held by the handler */
    int err_status;             /* set by a parser callback that aborts */
    bool reading, read_done;    /* read_done: nothing more will be parsed */
    bool closing_after;         /* a response with close_after has been queued */
    bool shutting, closed;
    unsigned writes; /* uv_write in flight */
    uint64_t last_active, req_start, linger_deadline;
    struct sockaddr_storage peer; /* the client's address (port ignored) */
    int limited;                  /* 0, or 429/503: over a limit, only always_paths answered */
    wire_tls_conn *tls;           /* with opts.tls: the session the bytes go through */
};

typedef struct write_req {
    uv_write_t w;
    unsigned n;
    wire_http_req *reqs[32];
    uv_buf_t bufs[32];
    wire_buf cipher; /* TLS: what is written instead of bufs (the answers' records) */
} write_req;

struct wire_http_server {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop_async, done_async;
    uv_timer_t sweep;
    wire_http_handler handler;
    void *arg;
    wire_http_opts o;
    int port;
    pthread_t thread, loop_thread;
    bool started, ran, finishing;
    atomic_bool stop_requested;
    bool stopping; /* loop side */
    conn *conns;
    unsigned nconns;
    unsigned held; /* requests held by the handler, server-wide */
    conn *dirty;
    pthread_mutex_t done_lock;
    wire_http_req *done_head, *done_tail;
    char rbuf[64 * 1024];
    wire_buf plain; /* TLS: the plaintext of one read, for the parser */
    struct {
        atomic_uint_fast64_t conns_accepted, conns_rejected, conns_open, requests, r2xx, r4xx, r5xx,
            bytes_in, bytes_out;
    } st;
};

/* ---- connections ---- */

static void conn_flush(conn *c);
static int conn_write(conn *c, struct write_req *wr);
static void conn_close(conn *c);
static void conn_update_reading(conn *c);
static void server_maybe_finish(wire_http_server *s);

static void conn_unref(conn *c)
{
    if (--c->refs > 0)
        return;
    wire_http_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    atomic_fetch_sub(&s->st.conns_open, 1);
    http_req_free(c->cur);
    wire_tls_conn_free(c->tls);
    free(c);
    server_maybe_finish(s);
}

static void on_close(uv_handle_t *h)
{
    conn *c = h->data;
    /* free what is not held by the handler; held requests become orphans */
    wire_http_req *r = c->head;
    while (r) {
        wire_http_req *next = r->next;
        if (r->state == REQ_HANDLER)
            r->orphan = true;
        else
            http_req_free(r);
        r = next;
    }
    c->head = c->tail = NULL;
    c->pending = 0;
    conn_unref(c);
}

static void conn_close(conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    c->read_done = true;
    /* a conn still on the dirty list is skipped there (flush_dirty checks closed) */
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void mark_dirty(conn *c)
{
    if (c->dirty || c->closed)
        return;
    c->dirty = true;
    c->refs++; /* the dirty list holds a reference */
    c->dirty_next = c->srv->dirty;
    c->srv->dirty = c;
}

static void flush_dirty(wire_http_server *s)
{
    while (s->dirty) {
        conn *c = s->dirty;
        s->dirty = c->dirty_next;
        c->dirty = false;
        if (!c->closed)
            conn_flush(c);
        conn_unref(c);
    }
}

static void fifo_push(conn *c, wire_http_req *r)
{
    r->next = NULL;
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->pending++;
}

/* ---- responses ---- */

static bool on_loop_thread(const wire_http_server *s)
{
    return s->ran && pthread_equal(pthread_self(), s->loop_thread);
}

static void count_status(wire_http_server *s, int status)
{
    if (status >= 500)
        atomic_fetch_add(&s->st.r5xx, 1);
    else if (status >= 400)
        atomic_fetch_add(&s->st.r4xx, 1);
    else if (status >= 200 && status < 300)
        atomic_fetch_add(&s->st.r2xx, 1);
}

static void build_response(wire_http_req *r, const wire_http_response *resp)
{
    const char *ct = resp->content_type;
    size_t blen = resp->body ? resp->body_len : 0;
    if (!ct && blen)
        ct = "application/json";
    bool close = resp->close || !r->keep_alive;
    bool head_only = r->method == HTTP_HEAD;
    size_t cap = 256 + (ct ? strlen(ct) : 0) + (resp->headers ? strlen(resp->headers) : 0) +
                 (head_only ? 0 : blen);
    char *out = wire_xmalloc(cap);
    int n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n", resp->status,
                     wire_http_status_text(resp->status), blen);
    if (ct)
        n += snprintf(out + n, cap - (size_t)n, "Content-Type: %s\r\n", ct);
    if (resp->retry_after_s > 0)
        n += snprintf(out + n, cap - (size_t)n, "Retry-After: %d\r\n", resp->retry_after_s);
    if (close)
        n += snprintf(out + n, cap - (size_t)n, "Connection: close\r\n");
    else if (r->http_major == 1 && r->http_minor == 0)
        n += snprintf(out + n, cap - (size_t)n, "Connection: keep-alive\r\n");
    if (resp->headers)
        n += snprintf(out + n, cap - (size_t)n, "%s", resp->headers);
    n += snprintf(out + n, cap - (size_t)n, "\r\n");
    size_t len = (size_t)n;
    if (blen && !head_only) {
        memcpy(out + len, resp->body, blen);
        len += blen;
    }
    free(r->out);
    r->out = out;
    r->out_len = len;
    r->status = resp->status;
    r->close_after = close;
}

/* On the loop thread: a held request got its answer. */
static void req_answered(wire_http_req *r)
{
    wire_http_server *s = r->srv;
    conn *c = r->c;
    s->held--;
    if (r->orphan) {
        http_req_free(r);
    } else {
        r->state = REQ_DONE;
        mark_dirty(c);
    }
    conn_unref(c); /* the handler's reference */
}

void wire_http_req_on_answer(wire_http_req *r, wire_http_answer_fn fn, void *arg)
{
    r->on_answer = fn;
    r->on_answer_arg = arg;
}

void *wire_http_req_answer_arg(const wire_http_req *r)
{
    return r->on_answer_arg;
}

void wire_http_respond_full(wire_http_req *r, const wire_http_response *resp)
{
    wire_http_server *s = r->srv;
    if (r->on_answer) {
        wire_http_answer_fn fn = r->on_answer;
        r->on_answer = NULL;
        fn(r, resp->status, r->on_answer_arg);
        r->on_answer_arg = NULL;
    }
    build_response(r, resp);
    count_status(s, resp->status);
    if (on_loop_thread(s)) {
        req_answered(r);
        return;
    }
    pthread_mutex_lock(&s->done_lock);
    r->done_next = NULL;
    if (s->done_tail)
        s->done_tail->done_next = r;
    else
        s->done_head = r;
    s->done_tail = r;
    /* send under the lock: once the loop has taken this answer it may close
       done_async (stop), so the send must be over by then */
    uv_async_send(&s->done_async);
    pthread_mutex_unlock(&s->done_lock);
}

void wire_http_respond(wire_http_req *r, int status, const char *content_type, const void *body,
                       size_t len)
{
    wire_http_response resp = {
        .status = status, .content_type = content_type, .body = body, .body_len = len};
    wire_http_respond_full(r, &resp);
}

void wire_http_respond_error(wire_http_req *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    wire_buf b;
    wire_buf_init(&b);
    wire_http_error_json(&b, msg);
    wire_http_respond(r, status, "application/json", b.p, b.len);
    wire_buf_free(&b);
}

static void on_done_async(uv_async_t *a)
{
    wire_http_server *s = a->data;
    pthread_mutex_lock(&s->done_lock);
    wire_http_req *r = s->done_head;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->done_lock);
    while (r) {
        wire_http_req *next = r->done_next;
        req_answered(r);
        r = next;
    }
    flush_dirty(s);
    server_maybe_finish(s);
}

/* ---- writing ---- */

static void on_shutdown(uv_shutdown_t *sr, int status)
{
    conn *c = sr->data;
    free(sr);
    c->shutting = false;
    if (status < 0 || c->closed) {
        conn_close(c);
    } else if (c->srv->stopping) {
        conn_close(c);
    } else {
        /* lingering close: discard what the client still sends (e.g. the rest of
           an oversized body) so the kernel does not reset the connection before
           the client has read our answer; the sweep closes it after a while */
        c->linger_deadline = uv_now(&c->srv->loop) + 2000;
        conn_update_reading(c);
    }
    conn_unref(c);
}

/* Everything owed has been written and no more will be: close the write side. */
static void conn_finish(conn *c)
{
    if (c->closed || c->shutting || c->linger_deadline)
        return;
    if (c->tls) {
        write_req *wr = wire_xcalloc(1, sizeof(*wr));
        wire_tls_conn_close_notify(c->tls, &wr->cipher);
        conn_write(c, wr);
    }
    uv_shutdown_t *sr = wire_xcalloc(1, sizeof(*sr));
    sr->data = c;
    c->shutting = true;
    c->refs++;
    if (uv_shutdown(sr, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        free(sr);
        c->shutting = false;
        c->refs--;
        conn_close(c);
    }
}

static void on_write(uv_write_t *w, int status)
{
    write_req *wr = (write_req *)w;
    conn *c = w->data;
    for (unsigned i = 0; i < wr->n; i++)
        http_req_free(wr->reqs[i]);
    wire_buf_free(&wr->cipher);
    free(wr);
    c->writes--;
    if (status < 0) {
        conn_close(c);
    } else if (!c->closed) {
        c->last_active = uv_now(&c->srv->loop);
        if (c->closing_after && !c->writes && !c->head)
            conn_finish(c);
        else
            conn_update_reading(c);
    }
    conn_unref(c);
}

/*
 * Write wr: its answers' buffers, or on a TLS connection its ciphertext (the
 * answers' records, or handshake and alert bytes with no answer at all).
 * -1 after closing the connection when the write cannot even start.
 */
static int conn_write(conn *c, write_req *wr)
{
    wr->w.data = c;
    c->writes++;
    c->refs++;
    int rc;
    if (c->tls) {
        uv_buf_t b = uv_buf_init(wr->cipher.p, (unsigned)wr->cipher.len);
        rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    } else {
        rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, wr->bufs, wr->n, on_write);
    }
    if (rc < 0) {
        for (unsigned i = 0; i < wr->n; i++)
            http_req_free(wr->reqs[i]);
        wire_buf_free(&wr->cipher);
        free(wr);
        c->writes--;
        c->refs--;
        conn_close(c);
        return -1;
    }
    return 0;
}

/* Write the answers at the head of the FIFO that are ready, in order. */
static void conn_flush(conn *c)
{
    wire_http_server *s = c->srv;
    while (c->head && c->head->state == REQ_DONE && !c->closed) {
        write_req *wr = wire_xcalloc(1, sizeof(*wr));
        while (c->head && c->head->state == REQ_DONE && wr->n < WIRE_ARRAY_LEN(wr->reqs)) {
            wire_http_req *r = c->head;
            c->head = r->next;
            if (!c->head)
                c->tail = NULL;
            c->pending--;
            wr->reqs[wr->n] = r;
            wr->bufs[wr->n] = uv_buf_init(r->out, (unsigned)r->out_len);
            wr->n++;
            atomic_fetch_add(&s->st.bytes_out, r->out_len);
            if (r->close_after) {
                c->closing_after = true;
                c->read_done = true;
                break;
            }
        }
        if (c->tls) {
            wire_buf_init(&wr->cipher);
            for (unsigned i = 0; i < wr->n; i++)
                wire_tls_conn_write(c->tls, wr->bufs[i].base, wr->bufs[i].len, &wr->cipher);
        }
        if (conn_write(c, wr) < 0)
            return;
        if (c->closing_after) {
            /* later requests cannot be answered any more */
            wire_http_req *r = c->head;
            while (r) {
                wire_http_req *next = r->next;
                if (r->state == REQ_HANDLER)
                    r->orphan = true;
                else
                    http_req_free(r);
                r = next;
            }
            c->head = c->tail = NULL;
            c->pending = 0;
            break;
        }
    }
    conn_update_reading(c);
}

/* Queue an answer the server decided itself; the connection closes after it. */
static void conn_fail(conn *c, int status, const char *msg)
{
    wire_http_req *r = http_req_new(c->srv, c);
    r->keep_alive = false;
    wire_buf b;
    wire_buf_init(&b);
    wire_http_error_json(&b, msg);
    wire_http_response resp = {.status = status,
                               .content_type = "application/json",
                               .body = b.p,
                               .body_len = b.len,
                               .close = true};
    build_response(r, &resp);
    wire_buf_free(&b);
    count_status(c->srv, status);
    r->state = REQ_DONE;
    http_req_free(c->cur);
    c->cur = NULL;
    c->read_done = true;
    fifo_push(c, r);
    mark_dirty(c);
}

/* ---- reading and parsing ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    /* one loop thread parses each buffer completely before the next read */
    buf->base = c->srv->rbuf;
    buf->len = sizeof(c->srv->rbuf);
}

static int cb_message_begin(http_parser *p)
{
    conn *c = p->data;
    http_req_free(c->cur);
    c->cur = http_req_new(c->srv, c);
    c->req_start = uv_now(&c->srv->loop);
    return 0;
}

static int cb_url(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (http_head_append(c->cur, at, n, c->srv->o.max_header) < 0) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

static int cb_header_field(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    wire_http_req *r = c->cur;
    size_t max = c->srv->o.max_header;
    if (r->last_cb != CB_FIELD) {
        /* terminate the url or the previous value; start a header */
        if (http_head_append(r, "", 1, max) < 0)
            goto too_big;
        if (r->nhdrs == r->hdrs_cap) {
            r->hdrs_cap = r->hdrs_cap ? r->hdrs_cap * 2 : 16;
            r->hdrs = wire_xrealloc(r->hdrs, r->hdrs_cap * sizeof(*r->hdrs));
        }
        r->hdrs[r->nhdrs].name = (uint32_t)r->head_len;
        r->hdrs[r->nhdrs].value = 0;
        r->nhdrs++;
        r->last_cb = CB_FIELD;
    }
    if (http_head_append(r, at, n, max) < 0)
        goto too_big;
    return 0;
too_big:
    c->err_status = 431;
    return -1;
}

static int cb_header_value(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    wire_http_req *r = c->cur;
    size_t max = c->srv->o.max_header;
    if (r->last_cb != CB_VALUE) {
        if (http_head_append(r, "", 1, max) < 0)
            goto too_big;
        r->hdrs[r->nhdrs - 1].value = (uint32_t)r->head_len;
        r->last_cb = CB_VALUE;
    }
    if (http_head_append(r, at, n, max) < 0)
        goto too_big;
    return 0;
too_big:
    c->err_status = 431;
    return -1;
}

static int cb_headers_complete(http_parser *p)
{
    conn *c = p->data;
    wire_http_req *r = c->cur;
    wire_http_server *s = c->srv;
    if (http_head_append(r, "", 1, s->o.max_header) < 0) {
        c->err_status = 431;
        return -1;
    }
    /* split the url at '?' */
    char *q = strchr(r->head + r->url, '?');
    if (q) {
        *q = '\0';
        r->query = (uint32_t)(q + 1 - r->head);
    }
    r->method = p->method;
    r->http_major = p->http_major;
    r->http_minor = p->http_minor;
    if (p->content_length != ULLONG_MAX && p->content_length > s->o.max_body) {
        c->err_status = 413;
        return -1;
    }
    const char *expect = wire_http_req_header(r, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && !c->head && !c->writes &&
        c->tcp.write_queue_size == 0) {
        /* nothing is owed or queued before it: tell the client to send the
           body now rather than after its own timeout (a tiny write to an
           empty socket buffer completes at once, or not at all) */
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (c->tls) { /* a record, in order with the rest */
            write_req *wr = wire_xcalloc(1, sizeof(*wr));
            wire_tls_conn_write(c->tls, cont, sizeof(cont) - 1, &wr->cipher);
            conn_write(c, wr);
        } else {
            uv_buf_t b = uv_buf_init((char *)cont, sizeof(cont) - 1);
            uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        }
    }
    if (p->content_length != ULLONG_MAX && p->content_length > 0) {
        /* trust a declared length only so far: a client claiming 10 MB and
           sending nothing must not pin 10 MB per connection */
        r->body_cap = p->content_length < (1u << 20) ? (size_t)p->content_length + 1 : 1u << 20;
        r->body = wire_xmalloc(r->body_cap);
    }
    return 0;
}

static int cb_body(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    wire_http_req *r = c->cur;
    if (r->body_len + n > c->srv->o.max_body) {
        c->err_status = 413;
        return -1;
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (r->body_len + n + 1 > cap)
            cap *= 2;
        r->body = wire_xrealloc(r->body, cap);
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, at, n);
    r->body_len += n;
    return 0;
}

static int cb_message_complete(http_parser *p)
{
    conn *c = p->data;
    wire_http_req *r = c->cur;
    c->cur = NULL;
    if (r->body)
        r->body[r->body_len] = '\0';
    r->keep_alive = http_should_keep_alive(p) != 0;
    r->state = REQ_PARSING; /* dispatched after the buffer is parsed */
    fifo_push(c, r);
    atomic_fetch_add(&c->srv->st.requests, 1);
    if (!r->keep_alive) {
        /* the client announced it sends nothing more */
        c->read_done = true;
        http_parser_pause(p, 1);
    }
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = cb_message_begin,
    .on_url = cb_url,
    .on_header_field = cb_header_field,
    .on_header_value = cb_header_value,
    .on_headers_complete = cb_headers_complete,
    .on_body = cb_body,
    .on_message_complete = cb_message_complete,
};

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void conn_input(conn *c, const char *p, size_t len);

static void conn_update_reading(conn *c)
{
    if (c->closed)
        return;
    bool want;
    if (c->linger_deadline)
        want = true; /* discarding */
    else
        want = !c->read_done && !c->srv->stopping &&
               c->pending < (unsigned)c->srv->o.max_pipeline &&
               c->tcp.write_queue_size < 1024 * 1024;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

static bool always_answered(const wire_http_server *s, const char *path)
{
    for (const char *const *p = s->o.always_paths; p && *p; p++)
        if (strcmp(*p, path) == 0)
            return true;
    return false;
}

/* A request on a connection over a limit: refused, and the connection closes. */
static void answer_limited(wire_http_req *r, int status)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_http_error_json(&b, status == 429 ? "too many connections from this address"
                                           : "too many connections");
    wire_http_response resp = {.status = status,
                               .content_type = "application/json",
                               .retry_after_s = 1,
                               .body = b.p,
                               .body_len = b.len,
                               .close = true};
    wire_http_respond_full(r, &resp);
    wire_buf_free(&b);
}

static void dispatch(conn *c)
{
    wire_http_server *s = c->srv;
    for (wire_http_req *r = c->head; r; r = r->next) {
        if (r->state != REQ_PARSING)
            continue;
        r->state = REQ_HANDLER;
        c->refs++;
        s->held++;
        if (c->limited && !always_answered(s, wire_http_req_path(r)))
            answer_limited(r, c->limited);
        else
            s->handler(r, s->arg);
        /* r may be answered (and even written and freed) from here on */
        if (c->closed)
            break;
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = st->data;
    wire_http_server *s = c->srv;
    if (nread == 0)
        return;
    if (nread < 0) {
        /* EOF or error. A client that half-closes after pipelining still gets
           its answers; a partial request is dropped. */
        http_req_free(c->cur);
        c->cur = NULL;
        c->read_done = true;
        c->reading = false;
        uv_read_stop(st);
        if (c->linger_deadline || nread != UV_EOF || (!c->head && !c->writes))
            conn_close(c);
        else
            c->closing_after = true;
        return;
    }
    c->last_active = uv_now(&s->loop);
    atomic_fetch_add(&s->st.bytes_in, (uint64_t)nread);
    if (c->linger_deadline || c->read_done)
        return; /* discarding */
    if (!c->tls) {
        conn_input(c, buf->base, (size_t)nread);
        return;
    }
    write_req *wr = wire_xcalloc(1, sizeof(*wr));
    wire_err err;
    wire_buf_reset(&s->plain);
    int rc = wire_tls_conn_read(c->tls, buf->base, (size_t)nread, &s->plain, &wr->cipher, &err);
    if (wr->cipher.len) {
        if (conn_write(c, wr) < 0)
            return;
    } else {
        free(wr);
    }
    if (rc < 0) {
        char who[128];
        wire_net_format_addr((struct sockaddr *)&c->peer, who, sizeof(who));
        wire_info("http: TLS with %s refused: %s", who, err.msg);
        conn_close(c);
        return;
    }
    if (s->plain.len)
        conn_input(c, s->plain.p, s->plain.len);
    if (rc == 1 && !c->closed) /* close_notify: as an end of file */
        on_read(st, UV_EOF, buf);
}

/* Plaintext from the client: parse it, dispatch complete requests. */
static void conn_input(conn *c, const char *p, size_t len)
{
    wire_http_server *s = c->srv;
    c->refs++;
    size_t n = http_parser_execute(&c->parser, &parser_settings, p, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e != HPE_OK && e != HPE_PAUSED) {
        char msg[256];
        int status = c->err_status ? c->err_status : 400;
        if (status == 413)
            snprintf(msg, sizeof(msg), "request body larger than %zu bytes", s->o.max_body);
        else if (status == 431)
            snprintf(msg, sizeof(msg), "request line and headers larger than %zu bytes",
                     s->o.max_header);
        else if (e == HPE_HEADER_OVERFLOW)
            status = 431, snprintf(msg, sizeof(msg), "request headers too large");
        else
            snprintf(msg, sizeof(msg), "malformed request: %s", http_errno_description(e));
        conn_fail(c, status, msg);
    } else if (n != len && e != HPE_PAUSED) {
        conn_fail(c, 400, "malformed request");
    }
    dispatch(c);
    flush_dirty(s);
    if (!c->closed) {
        if (c->read_done && c->closing_after == false && !c->head && !c->writes && !c->cur)
            conn_finish(c); /* Connection: close request fully answered already */
        conn_update_reading(c);
    }
    conn_unref(c);
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

/* Open connections from c's address, not counting c and those already over a limit. */
static unsigned same_client_conns(const wire_http_server *s, const conn *c)
{
    unsigned n = 0;
    for (const conn *o = s->conns; o; o = o->next)
        n += o != c && !o->closed && !o->limited && same_peer(&o->peer, &c->peer);
    return n;
}

/* Over a limit with no health paths to serve: 429 at once, closed. */
static void limited_close(wire_http_server *s, conn *c)
{
    static const char busy[] = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 51\r\n"
                               "Content-Type: application/json\r\nConnection: close\r\n"
                               "Retry-After: 1\r\n\r\n"
                               "{\"error\":\"too many connections from this address\"}\n";
    uv_buf_t b = uv_buf_init((char *)busy, sizeof(busy) - 1);
    uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    atomic_fetch_add(&s->st.conns_rejected, 1);
    conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    wire_http_server *s = server->data;
    if (status < 0)
        return;
    conn *c = wire_xcalloc(1, sizeof(*c));
    c->srv = s;
    c->refs = 1;
    uv_tcp_init(&s->loop, &c->tcp);
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    atomic_fetch_add(&s->st.conns_open, 1);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    /* over a limit: health checks still answered on a few more connections */
    int reserve = s->o.always_paths ? WIRE_HTTP_HEALTH_RESERVE : 0;
    if (!s->stopping && s->nconns <= (unsigned)(s->o.max_conns + reserve)) {
        int len = sizeof(c->peer);
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len);
        if (s->nconns > (unsigned)s->o.max_conns)
            c->limited = 503;
        else if (s->o.max_conns_per_client > 0 &&
                 same_client_conns(s, c) >= (unsigned)s->o.max_conns_per_client)
            c->limited = 429;
        if (c->limited && !reserve) {
            limited_close(s, c);
            return;
        }
    }
    if (s->stopping || s->nconns > (unsigned)(s->o.max_conns + reserve)) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 33\r\n"
                                   "Content-Type: application/json\r\nConnection: close\r\n"
                                   "Retry-After: 1\r\n\r\n{\"error\":\"too many connections\"}\n";
        uv_buf_t b = uv_buf_init((char *)busy, sizeof(busy) - 1);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        atomic_fetch_add(&s->st.conns_rejected, 1);
        conn_close(c);
        return;
    }
    atomic_fetch_add(&s->st.conns_accepted, 1);
    if (s->o.tls)
        c->tls = wire_tls_conn_new(s->o.tls);
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->last_active = uv_now(&s->loop);
    conn_update_reading(c);
}

/* ---- timeouts ---- */

static void on_sweep(uv_timer_t *t)
{
    wire_http_server *s = t->data;
    uint64_t now = uv_now(&s->loop);
    wire_err err;
    int rc = s->o.tls ? wire_tls_reload(s->o.tls, &err) : 0;
    if (rc > 0)
        wire_info("http: TLS certificate reloaded (%d)", s->port);
    else if (rc < 0)
        wire_warn("http: TLS reload failed, keeping the certificate in use: %s", err.msg);
    conn *c = s->conns;
    while (c) {
        conn *next = c->next;
        if (c->closed) {
            /* waiting for handler answers */
        } else if (c->linger_deadline) {
            if (now >= c->linger_deadline)
                conn_close(c);
        } else if (c->cur && !c->read_done &&
                   now - c->req_start >= (uint64_t)s->o.read_timeout_ms) {
            conn_fail(c, 408, "request not received in time");
        } else if (!c->cur && !c->head && !c->writes && !c->shutting &&
                   now - c->last_active >= (uint64_t)(c->limited ? 5000 : s->o.idle_timeout_ms)) {
            /* a connection over a limit gets 5 s to ask for its health check */
            conn_close(c);
        }
        c = next;
    }
    flush_dirty(s);
}

/* ---- lifecycle ---- */

static void on_server_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void server_maybe_finish(wire_http_server *s)
{
    if (!s->stopping || s->finishing || s->nconns || s->held)
        return;
    s->finishing = true;
    uv_close((uv_handle_t *)&s->stop_async, on_server_handle_closed);
    uv_close((uv_handle_t *)&s->done_async, on_server_handle_closed);
    uv_close((uv_handle_t *)&s->sweep, on_server_handle_closed);
}

static void on_stop_async(uv_async_t *a)
{
    wire_http_server *s = a->data;
    if (s->stopping || !atomic_load(&s->stop_requested))
        return;
    s->stopping = true;
    uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
    conn *c = s->conns;
    while (c) {
        conn *next = c->next;
        bool held = false;
        for (wire_http_req *r = c->head; r; r = r->next)
            held |= r->state == REQ_HANDLER;
        if (!held && !c->writes)
            conn_close(c);
        else {
            c->read_done = true;
            c->closing_after = true;
            conn_update_reading(c);
        }
        c = next;
    }
    server_maybe_finish(s);
}

int wire_http_server_new(const char *addr, wire_http_handler handler, void *arg,
                         const wire_http_opts *opts, wire_http_server **out, wire_err *err)
{
    *out = NULL;
    wire_http_server *s = wire_xcalloc(1, sizeof(*s));
    if (opts)
        s->o = *opts;
    if (!s->o.max_body)
        s->o.max_body = 10 * 1024 * 1024;
    if (!s->o.max_header)
        s->o.max_header = 64 * 1024;
    if (!s->o.idle_timeout_ms)
        s->o.idle_timeout_ms = 60000;
    if (!s->o.read_timeout_ms)
        s->o.read_timeout_ms = 30000;
    if (!s->o.backlog)
        s->o.backlog = 511;
    if (!s->o.max_conns)
        s->o.max_conns = 10000;
    if (!s->o.max_pipeline)
        s->o.max_pipeline = 64;
    s->handler = handler;
    s->arg = arg;
    pthread_mutex_init(&s->done_lock, NULL);
    int rc = uv_loop_init(&s->loop);
    if (rc < 0) {
        pthread_mutex_destroy(&s->done_lock);
        free(s);
        return wire_errf(err, WIRE_EIO, "uv_loop_init: %s", uv_strerror(rc));
    }
    uv_tcp_init(&s->loop, &s->listener);
    s->listener.data = s;
    uv_async_init(&s->loop, &s->stop_async, on_stop_async);
    s->stop_async.data = s;
    uv_async_init(&s->loop, &s->done_async, on_done_async);
    s->done_async.data = s;
    uv_timer_init(&s->loop, &s->sweep);
    s->sweep.data = s;
    rc = wire_net_listen(&s->listener, addr, s->o.backlog, on_connection, &s->port, err);
    if (rc < 0) {
        wire_http_server_free(s);
        return rc;
    }
    int64_t period =
        s->o.idle_timeout_ms < s->o.read_timeout_ms ? s->o.idle_timeout_ms : s->o.read_timeout_ms;
    period /= 4;
    if (period < 10)
        period = 10;
    if (period > 1000)
        period = 1000;
    uv_timer_start(&s->sweep, on_sweep, (uint64_t)period, (uint64_t)period);
    uv_unref((uv_handle_t *)&s->sweep);
    *out = s;
    return 0;
}

int wire_http_server_port(const wire_http_server *s)
{
    return s->port;
}

void wire_http_server_run(wire_http_server *s)
{
    s->loop_thread = pthread_self();
    s->ran = true;
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

static void *server_thread(void *arg)
{
    wire_http_server_run(arg);
    return NULL;
}

int wire_http_server_start(wire_http_server *s, wire_err *err)
{
    /* set before the thread exists so respond() on the loop thread never
       takes the cross-thread path by a race */
    s->ran = true;
    int rc = pthread_create(&s->thread, NULL, server_thread, s);
    if (rc != 0) {
        s->ran = false;
        return wire_errf(err, WIRE_EIO, "cannot start the HTTP server thread: %s", strerror(rc));
    }
    s->started = true;
    return 0;
}

void wire_http_server_stop(wire_http_server *s)
{
    if (atomic_exchange(&s->stop_requested, true))
        return;
    uv_async_send(&s->stop_async);
}

void wire_http_server_free(wire_http_server *s)
{
    if (!s)
        return;
    wire_http_server_stop(s);
    if (s->started)
        pthread_join(s->thread, NULL);
    else if (!s->finishing)
        wire_http_server_run(s); /* never ran: let the loop close its handles */
    int rc = uv_loop_close(&s->loop);
    if (rc != 0)
        wire_warn("http server: loop not closed cleanly: %s", uv_strerror(rc));
    pthread_mutex_destroy(&s->done_lock);
    wire_buf_free(&s->plain);
    free(s);
}

void wire_http_server_stats(const wire_http_server *s, wire_http_stats *out)
{
    wire_http_server *m = (wire_http_server *)s;
    out->conns_accepted = atomic_load(&m->st.conns_accepted);
    out->conns_rejected = atomic_load(&m->st.conns_rejected);
    out->conns_open = atomic_load(&m->st.conns_open);
    out->requests = atomic_load(&m->st.requests);
    out->responses_2xx = atomic_load(&m->st.r2xx);
    out->responses_4xx = atomic_load(&m->st.r4xx);
    out->responses_5xx = atomic_load(&m->st.r5xx);
    out->bytes_in = atomic_load(&m->st.bytes_in);
    out->bytes_out = atomic_load(&m->st.bytes_out);
}
