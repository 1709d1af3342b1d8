/*
 * test_http_server.c — the HTTP server (src/net/http_server.c) driven over
 * raw sockets: keep-alive, pipelining answered in order (also when the first
 * answer comes late from another thread), chunked bodies, limits (413, 431,
 * connection limit), malformed requests, timeouts, stop with a request still
 * held by the handler, and many concurrent connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "test.h"

/* ---- the handler under test ---- */

#define MAX_ASYNC 64
static pthread_t async_threads[MAX_ASYNC];
static atomic_int nasync;

typedef struct async_job {
    wire_http_req *req;
    int delay_ms;
} async_job;

static void *async_answer(void *arg)
{
    async_job *j = arg;
    wire_sleep_ms(j->delay_ms);
    wire_http_respond(j->req, 200, "text/plain", "async", 5);
    free(j);
    return NULL;
}

static void join_async(void)
{
    int n = atomic_exchange(&nasync, 0);
    for (int i = 0; i < n; i++)
        pthread_join(async_threads[i], NULL);
}

static void handler(wire_http_req *r, void *arg)
{
    (void)arg;
    const char *path = wire_http_req_path(r);
    const char *m = wire_http_req_method(r);
    char v[128];
    if (strcmp(path, "/hello") == 0) {
        if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
            wire_http_response resp = {.status = 405, .headers = "Allow: GET\r\n"};
            wire_http_respond_full(r, &resp);
            return;
        }
        wire_http_respond(r, 200, "text/plain", "hello", 5);
    } else if (strcmp(path, "/echo") == 0) {
        size_t len;
        const char *b = wire_http_req_body(r, &len);
        wire_http_respond(r, 200, "application/octet-stream", b, len);
    } else if (strcmp(path, "/len") == 0) {
        size_t len;
        const char *b = wire_http_req_body(r, &len);
        size_t sum = 0;
        for (size_t i = 0; i < len; i++)
            sum += (unsigned char)b[i];
        int n = snprintf(v, sizeof(v), "%zu %zu", len, sum);
        wire_http_respond(r, 200, "text/plain", v, (size_t)n);
    } else if (strcmp(path, "/header") == 0) {
        wire_http_req_param(r, "name", v, sizeof(v));
        const char *h = wire_http_req_header(r, v);
        wire_http_respond(r, h ? 200 : 404, "text/plain", h ? h : "", h ? strlen(h) : 0);
    } else if (strcmp(path, "/param") == 0) {
        long n = wire_http_req_param(r, "q", v, sizeof(v));
        if (n < 0)
            wire_http_respond(r, 200, "text/plain", "absent", 6);
        else
            wire_http_respond(r, 200, "text/plain", v, (size_t)n);
    } else if (strcmp(path, "/busy") == 0) {
        wire_http_response resp = {.status = 429, .retry_after_s = 3, .body = "{}", .body_len = 2};
        wire_http_respond_full(r, &resp);
    } else if (strcmp(path, "/async") == 0) {
        async_job *j = wire_xmalloc(sizeof(*j));
        j->req = r;
        j->delay_ms = 100;
        if (wire_http_req_param(r, "ms", v, sizeof(v)) >= 0)
            j->delay_ms = atoi(v);
        int i = atomic_fetch_add(&nasync, 1);
        pthread_create(&async_threads[i], NULL, async_answer, j);
    } else {
        wire_http_respond_error(r, 404, "no route for %s %s", m, path);
    }
}

static wire_http_server *start_server(const wire_http_opts *o)
{
    wire_http_server *s = NULL;
    wire_err err;
    int rc = wire_http_server_new("127.0.0.1:0", handler, NULL, o, &s, &err);
    if (rc < 0) {
        fprintf(stderr, "server_new: %s\n", err.msg);
        return NULL;
    }
    if (wire_http_server_start(s, &err) < 0) {
        wire_http_server_free(s);
        return NULL;
    }
    return s;
}

/* ---- a raw client ---- */

typedef struct client {
    int fd;
    char buf[1 << 17];
    size_t len;
} client;

typedef struct response {
    int status;
    char headers[4096];
    char body[1 << 16];
    size_t body_len;
} response;

static int client_open(client *c, int port)
{
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void client_close(client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int client_send(client *c, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int client_sends(client *c, const char *s)
{
    return client_send(c, s, strlen(s));
}

/* Read more bytes into the buffer; 0 on EOF, -1 on error/timeout. */
static ssize_t client_fill(client *c)
{
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len - 1, 0);
    if (n > 0) {
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
    }
    return n;
}

/* Parse one response (Content-Length framed). 0 ok, -1 EOF/timeout/garbage. */
static int client_read(client *c, response *r)
{
    for (;;) {
        c->buf[c->len] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (end) {
            size_t hlen = (size_t)(end - c->buf) + 4;
            const char *cl = strcasestr(c->buf, "Content-Length:");
            size_t blen = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
            if (c->len >= hlen + blen) {
                r->status = atoi(c->buf + 9);
                size_t hn = hlen < sizeof(r->headers) - 1 ? hlen : sizeof(r->headers) - 1;
                memcpy(r->headers, c->buf, hn);
                r->headers[hn] = '\0';
                size_t bn = blen < sizeof(r->body) - 1 ? blen : sizeof(r->body) - 1;
                memcpy(r->body, c->buf + hlen, bn);
                r->body[bn] = '\0';
                r->body_len = blen;
                memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
                c->len -= hlen + blen;
                return 0;
            }
        }
        if (client_fill(c) <= 0)
            return -1;
    }
}

/* 1 if the server closed the connection (EOF) within the receive timeout. */
static int client_eof(client *c)
{
    for (;;) {
        ssize_t n = client_fill(c);
        if (n == 0)
            return 1;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

static response resp; /* big: keep it off the stack */

/* ---- tests ---- */

TEST(test_bind_port_zero_and_bad_address)
{
    wire_http_server *s = NULL;
    wire_err err;
    CHECK_EQ_INT(wire_http_server_new("127.0.0.1:0", handler, NULL, NULL, &s, &err), 0);
    CHECK(s && wire_http_server_port(s) > 0);
    int port = wire_http_server_port(s);
    /* a second server on the same port fails with a message naming it */
    wire_http_server *s2 = NULL;
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    CHECK(wire_http_server_new(addr, handler, NULL, NULL, &s2, &err) < 0);
    CHECK(s2 == NULL);
    CHECK(strstr(err.msg, addr) != NULL);
    wire_http_server_free(s); /* never started: must still close cleanly */
    CHECK(wire_http_server_new("nonsense", handler, NULL, NULL, &s2, &err) < 0);
    CHECK(wire_http_server_new("127.0.0.1:99999", handler, NULL, NULL, &s2, &err) < 0);
    CHECK(wire_http_server_new("http://x:1", handler, NULL, NULL, &s2, &err) < 0);
}

TEST(test_keep_alive)
{
    wire_http_server *s = start_server(NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    client c;
    CHECK_EQ_INT(client_open(&c, wire_http_server_port(s)), 0);
    for (int i = 0; i < 3; i++) {
        client_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK_EQ_INT(client_read(&c, &resp), 0);
        CHECK_EQ_INT(resp.status, 200);
        CHECK_EQ_STR(resp.body, "hello");
        CHECK(strcasestr(resp.headers, "Content-Type: text/plain") != NULL);
        CHECK(strcasestr(resp.headers, "Connection: close") == NULL);
    }
    /* HEAD: same headers, no body */
    client_sends(&c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    c.buf[0] = 0;
    CHECK(client_fill(&c) > 0);
    CHECK(strstr(c.buf, "Content-Length: 5\r\n") != NULL);
    CHECK(strstr(c.buf, "hello") == NULL);
    c.len = 0;
    client_close(&c);
    wire_http_stats st;
    wire_http_server_stats(s, &st);
    CHECK_EQ_INT(st.requests, 4);
    CHECK_EQ_INT(st.responses_2xx, 4);
    wire_http_server_free(s);
}

TEST(test_pipelining_in_order_with_async_first)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    client c;
    client_open(&c, wire_http_server_port(s));
    /* the first answer comes 150 ms later from another thread; the others at once */
    client_sends(&c, "GET /async?ms=150 HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                     "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "async");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "hello");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "abc");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 404);
    CHECK_EQ_STR(resp.body, "{\"error\":\"no route for GET /nowhere\"}\n");
    CHECK(strcasestr(resp.headers, "Content-Type: application/json") != NULL);
    client_close(&c);
    join_async();
    wire_http_server_free(s);
}

TEST(test_many_async_pipelined)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    client c;
    client_open(&c, wire_http_server_port(s));
    /* later requests answered first: still delivered in request order */
    char req[4096] = "";
    for (int i = 0; i < 8; i++) {
        char one[128];
        snprintf(one, sizeof(one),
                 "GET /async?ms=%d HTTP/1.1\r\n\r\nGET /param?q=%d HTTP/1.1\r\n\r\n", (8 - i) * 20,
                 i);
        strcat(req, one);
    }
    client_sends(&c, req);
    for (int i = 0; i < 8; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%d", i);
        CHECK_EQ_INT(client_read(&c, &resp), 0);
        CHECK_EQ_STR(resp.body, "async");
        CHECK_EQ_INT(client_read(&c, &resp), 0);
        CHECK_EQ_STR(resp.body, want);
    }
    client_close(&c);
    join_async();
    wire_http_server_free(s);
}

TEST(test_chunked_body)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    client c;
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n");
    wire_sleep_ms(20); /* body split across reads */
    client_sends(&c, "6\r\n world\r\n0\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK_EQ_STR(resp.body, "hello world");
    /* a request split byte by byte */
    const char *slow = "POST /echo HTTP/1.1\r\nContent-Length: 4\r\nX-A: 1\r\n\r\nwxyz";
    for (const char *p = slow; *p; p++)
        client_send(&c, p, 1);
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "wxyz");
    client_close(&c);
    wire_http_server_free(s);
}

TEST(test_headers_and_params)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    client c;
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /header?name=x-thing HTTP/1.1\r\nHost: x\r\nX-Thing: value 1\r\n"
                     "X-Empty:\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "value 1");
    client_sends(&c, "GET /header?name=X-EMPTY HTTP/1.1\r\nX-Empty:\r\nHost: y\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK_EQ_STR(resp.body, "");
    client_sends(&c, "GET /param?a=1&q=hello%20w+x%2 HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "hello w x%2");
    client_sends(&c, "GET /param?q HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "");
    client_sends(&c, "GET /param HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "absent");
    client_sends(&c, "DELETE /hello HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 405);
    CHECK(strstr(resp.headers, "Allow: GET\r\n") != NULL);
    client_sends(&c, "GET /busy HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 429);
    CHECK(strstr(resp.headers, "Retry-After: 3\r\n") != NULL);
    client_close(&c);
    wire_http_server_free(s);
}

TEST(test_body_too_large)
{
    wire_http_opts o = {.max_body = 1000};
    wire_http_server *s = start_server(&o);
    if (!s)
        return;
    client c;
    /* decided from Content-Length, before any body byte is sent */
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 413);
    CHECK(strstr(resp.body, "\"error\"") != NULL);
    CHECK(strcasestr(resp.headers, "Connection: close") != NULL);
    CHECK(client_eof(&c));
    client_close(&c);

    /* the whole body sent at once: the client still reads the 413 */
    client_open(&c, wire_http_server_port(s));
    static char big[300000];
    int h = snprintf(big, sizeof(big), "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n", 200000);
    memset(big + h, 'x', 200000);
    client_send(&c, big, (size_t)h + 200000);
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 413);
    client_close(&c);

    /* chunked: noticed while reading */
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[700];
    memset(chunk, 'y', sizeof(chunk));
    client_sends(&c, "2bc\r\n");
    client_send(&c, chunk, sizeof(chunk));
    client_sends(&c, "\r\n2bc\r\n");
    client_send(&c, chunk, sizeof(chunk));
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 413);
    CHECK(client_eof(&c));
    client_close(&c);

    /* a body bigger than the first allocation, sent in pieces */
    wire_http_server *s3 = start_server(NULL);
    client_open(&c, wire_http_server_port(s3));
    size_t blen = 3u << 20;
    char *body = wire_xmalloc(blen);
    size_t sum = 0;
    for (size_t i = 0; i < blen; i++) {
        body[i] = (char)('a' + i % 23);
        sum += (unsigned char)body[i];
    }
    char head[128], want[64];
    snprintf(head, sizeof(head), "POST /len HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", blen);
    client_sends(&c, head);
    client_send(&c, body, blen);
    snprintf(want, sizeof(want), "%zu %zu", blen, sum);
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, want);
    free(body);
    client_close(&c);
    wire_http_server_free(s3);

    /* exactly max_body is fine */
    client_open(&c, wire_http_server_port(s));
    h = snprintf(big, sizeof(big), "POST /echo HTTP/1.1\r\nContent-Length: 1000\r\n\r\n");
    memset(big + h, 'z', 1000);
    client_send(&c, big, (size_t)h + 1000);
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK_EQ_INT(resp.body_len, 1000);
    client_close(&c);
    wire_http_server_free(s);
}

TEST(test_malformed_and_header_limit)
{
    wire_http_opts o = {.max_header = 2048};
    wire_http_server *s = start_server(&o);
    if (!s)
        return;
    client c;
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET /hello XTTP/1.1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    for (size_t i = 0; i < WIRE_ARRAY_LEN(bad); i++) {
        client_open(&c, wire_http_server_port(s));
        client_sends(&c, bad[i]);
        CHECK_EQ_INT(client_read(&c, &resp), 0);
        CHECK_EQ_INT(resp.status, 400);
        CHECK(strncmp(resp.body, "{\"error\":\"malformed request", 27) == 0);
        CHECK(client_eof(&c));
        client_close(&c);
    }
    /* a good request before the bad one is still answered, in order */
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /hello HTTP/1.1\r\n\r\nBLAH\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 400);
    client_close(&c);

    client_open(&c, wire_http_server_port(s));
    char big[4096];
    memset(big, 'a', sizeof(big));
    client_sends(&c, "GET /hello HTTP/1.1\r\nX-Big: ");
    client_send(&c, big, sizeof(big));
    client_sends(&c, "\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 431);
    client_close(&c);
    wire_http_server_free(s);
}

TEST(test_connection_close_and_http10)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    client c;
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(strcasestr(resp.headers, "Connection: close") != NULL);
    CHECK(client_eof(&c));
    client_close(&c);

    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /hello HTTP/1.0\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(client_eof(&c));
    client_close(&c);

    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK(strcasestr(resp.headers, "Connection: keep-alive") != NULL);
    client_sends(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    client_close(&c);

    /* the client half-closes after pipelining: it still gets every answer */
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /async?ms=50 HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
    shutdown(c.fd, SHUT_WR);
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "async");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "hello");
    CHECK(client_eof(&c));
    client_close(&c);
    join_async();
    wire_http_server_free(s);
}

TEST(test_timeouts)
{
    wire_http_opts o = {.idle_timeout_ms = 200, .read_timeout_ms = 300};
    wire_http_server *s = start_server(&o);
    if (!s)
        return;
    client c;
    /* idle keep-alive connection is closed */
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    int64_t t0 = wire_now_ms();
    CHECK(client_eof(&c));
    int64_t dt = wire_now_ms() - t0;
    CHECK(dt >= 150 && dt < 1500);
    client_close(&c);
    /* a slow client that never finishes its headers gets 408 */
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 408);
    CHECK(client_eof(&c));
    client_close(&c);
    /* a request held by a slow handler is not an idle connection */
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /async?ms=500 HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "async");
    client_close(&c);
    join_async();
    wire_http_server_free(s);
}

TEST(test_connection_limit)
{
    wire_http_opts o = {.max_conns = 2};
    wire_http_server *s = start_server(&o);
    if (!s)
        return;
    client a, b, x;
    client_open(&a, wire_http_server_port(s));
    client_open(&b, wire_http_server_port(s));
    client_sends(&a, "GET /hello HTTP/1.1\r\n\r\n");
    client_sends(&b, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&a, &resp), 0);
    CHECK_EQ_INT(client_read(&b, &resp), 0);
    client_open(&x, wire_http_server_port(s));
    CHECK_EQ_INT(client_read(&x, &resp), 0);
    CHECK_EQ_INT(resp.status, 503);
    client_close(&x);
    client_close(&a);
    wire_sleep_ms(50);
    client_open(&x, wire_http_server_port(s));
    client_sends(&x, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&x, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    client_close(&x);
    client_close(&b);
    wire_http_stats st;
    wire_http_server_stats(s, &st);
    CHECK_EQ_INT(st.conns_rejected, 1);
    wire_http_server_free(s);
}

TEST(test_stop_waits_for_held_request)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    client c, idle;
    client_open(&c, wire_http_server_port(s));
    client_open(&idle, wire_http_server_port(s));
    client_sends(&c, "GET /async?ms=200 HTTP/1.1\r\n\r\n");
    wire_sleep_ms(50); /* the handler holds it now */
    wire_http_server_stop(s);
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_STR(resp.body, "async");
    CHECK(client_eof(&c));
    CHECK(client_eof(&idle));
    client_close(&c);
    client_close(&idle);
    join_async();
    wire_http_server_free(s);
}

TEST(test_client_gone_before_async_answer)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    client c;
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /async?ms=100 HTTP/1.1\r\n\r\nGET /async?ms=120 HTTP/1.1\r\n\r\n");
    wire_sleep_ms(30);
    client_close(&c); /* answers arrive for a closed connection: dropped, freed */
    join_async();
    client_open(&c, wire_http_server_port(s));
    client_sends(&c, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(client_read(&c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    client_close(&c);
    wire_http_server_free(s);
}

/* 4 threads x 50 connections x 5 requests each, all open at once. */
static int conc_port;
static atomic_int conc_ok;

static void *conc_worker(void *arg)
{
    (void)arg;
    enum { N = 50 };
    client *cs = wire_xcalloc(N, sizeof(client));
    response *r = wire_xmalloc(sizeof(*r));
    for (int i = 0; i < N; i++)
        client_open(&cs[i], conc_port);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < N; i++)
            client_sends(&cs[i], "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
        for (int i = 0; i < N; i++)
            if (client_read(&cs[i], r) == 0 && r->status == 200 && strcmp(r->body, "ok") == 0)
                atomic_fetch_add(&conc_ok, 1);
    }
    for (int i = 0; i < N; i++)
        client_close(&cs[i]);
    free(cs);
    free(r);
    return NULL;
}

TEST(test_many_concurrent_connections)
{
    wire_http_server *s = start_server(NULL);
    if (!s)
        return;
    conc_port = wire_http_server_port(s);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, conc_worker, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(atomic_load(&conc_ok), 4 * 50 * 5);
    wire_http_stats st;
    wire_http_server_stats(s, &st);
    CHECK_EQ_INT(st.conns_accepted, 200);
    wire_http_server_free(s);
}

int main(void)
{
    RUN(test_bind_port_zero_and_bad_address);
    RUN(test_keep_alive);
    RUN(test_pipelining_in_order_with_async_first);
    RUN(test_many_async_pipelined);
    RUN(test_chunked_body);
    RUN(test_headers_and_params);
    RUN(test_body_too_large);
    RUN(test_malformed_and_header_limit);
    RUN(test_connection_close_and_http10);
    RUN(test_timeouts);
    RUN(test_connection_limit);
    RUN(test_stop_waits_for_held_request);
    RUN(test_client_gone_before_async_answer);
    RUN(test_many_concurrent_connections);
    TEST_MAIN_END();
}
