/*
 * kvload.c — C1 load generator: N concurrent keep-alive HTTP/1.1 connections,
 * each doing one write at a time (PUT of a unique key with a ~100-byte value)
 * for a duration, against one or several addresses (connection i goes to
 * address i mod n). The same client speaks to both systems compared by C1:
 *
 *   --mode wire   PUT /v1/kv/KEY, body = the value            (Wire)
 *   --mode etcd   POST /v3/kv/put, {"key":B64,"value":B64}    (etcd's gRPC gateway)
 *
 * Latency is from writing the request to reading the whole answer; only 2xx
 * answers count as writes. A connection that fails is reopened (to the next
 * address) after 20 ms, so a run survives a node going away. Requests that
 * complete during --warmup are not counted.
 *
 * Prints a human summary and one line for scripts:
 *   RESULT writes_per_s=N p50_ms=X p99_ms=X p999_ms=X max_ms=X ok=N non2xx=N errors=N
 *
 *   kvload --addr H:P[,H:P...] [--mode wire|etcd] [--conns 64] [--duration 10]
 *          [--warmup 1] [--value-size 100] [--prefix STR]
 *
 * Build: make -f bench/kvload.mk BUILD=build/release (standalone; libuv only).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static const char *opt_addrs = "127.0.0.1:4001";
static bool opt_etcd = false;
static int opt_conns = 64;
static double opt_duration = 10, opt_warmup = 1;
static int opt_value_size = 100;
static char opt_prefix[64];

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- histogram: log-linear buckets of microseconds, ~3% precision ---- */

#define HIST_BUCKETS (64 + 40 * 32)
static uint64_t hist[HIST_BUCKETS], hist_n, hist_max_us;

static int hist_index(uint64_t us)
{
    if (us < 64)
        return (int)us;
    int e = 63 - __builtin_clzll(us);
    if (e > 45)
        e = 45;
    int idx = 64 + (e - 6) * 32 + (int)((us >> (e - 5)) & 31);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static uint64_t hist_value(int idx)
{
    if (idx < 64)
        return (uint64_t)idx;
    int e = (idx - 64) / 32 + 6, sub = (idx - 64) % 32;
    return (uint64_t)(32 + sub) << (e - 5);
}

static void hist_add(int64_t ns)
{
    uint64_t us = ns > 0 ? (uint64_t)(ns / 1000) : 0;
    hist[hist_index(us)]++;
    hist_n++;
    if (us > hist_max_us)
        hist_max_us = us;
}

static double hist_pct_ms(double p)
{
    if (!hist_n)
        return 0;
    uint64_t want = (uint64_t)(p / 100.0 * (double)hist_n), seen = 0;
    if (want >= hist_n)
        want = hist_n - 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen > want)
            return (double)hist_value(i) / 1000.0;
    }
    return (double)hist_max_us / 1000.0;
}

/* ---- base64 (etcd's gateway takes bytes fields as base64) ---- */

static size_t b64(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63];
        out[o++] = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

/* ---- connections ---- */

typedef struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t retry;
    int id, addr_i;
    bool open, busy;
    uint64_t seq;
    int64_t sent_ns;
    char req[4096];
    char rbuf[16384];
    size_t rlen;
} conn;

static uv_loop_t *loop;
static conn *conns;
static struct sockaddr_in *addrs;
static char **addr_names;
static int n_addrs;
static int64_t t_start, t_count_from, t_end;
static uint64_t n_ok, n_non2xx, n_errors;
static bool stopping;
static uv_timer_t tick;
static char value[1024];

static void conn_open(conn *c);
static void conn_send(conn *c);

static void on_retry_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_retry(uv_timer_t *t)
{
    conn_open(t->data);
}

static void on_tcp_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (!stopping) { /* reopen to the next address shortly */
        c->addr_i = (c->addr_i + 1) % n_addrs;
        uv_timer_start(&c->retry, on_retry, 20, 0);
    }
}

static void conn_fail(conn *c)
{
    if (!c->open)
        return;
    if (c->busy && !stopping)
        n_errors++;
    c->open = c->busy = false;
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

static void on_written(uv_write_t *w, int status)
{
    if (status < 0)
        conn_fail(w->data);
}

static void conn_send(conn *c)
{
    if (stopping || now_ns() >= t_end)
        return;
    char key[128];
    int kn = snprintf(key, sizeof(key), "%s-%d-%" PRIu64, opt_prefix, c->id, c->seq++);
    int n;
    if (opt_etcd) {
        char kb[200], vb[1400], body[1700];
        size_t kl = b64((const unsigned char *)key, (size_t)kn, kb);
        size_t vl = b64((const unsigned char *)value, (size_t)opt_value_size, vb);
        int blen = snprintf(body, sizeof(body), "{\"key\":\"%.*s\",\"value\":\"%.*s\"}", (int)kl,
                            kb, (int)vl, vb);
        n = snprintf(c->req, sizeof(c->req),
                     "POST /v3/kv/put HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     addr_names[c->addr_i], blen, body);
    } else {
        n = snprintf(c->req, sizeof(c->req),
                     "PUT /v1/kv/%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%.*s", key,
                     addr_names[c->addr_i], opt_value_size, opt_value_size, value);
    }
    c->busy = true;
    c->rlen = 0;
    c->sent_ns = now_ns();
    uv_buf_t b = uv_buf_init(c->req, (unsigned)n);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
        conn_fail(c);
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    conn *c = h->data;
    b->base = c->rbuf + c->rlen;
    b->len = sizeof(c->rbuf) - c->rlen - 1;
}

/* Length of one complete response at the start of buf (0 = need more, -1 = bad). */
static ssize_t response_len(const char *buf, size_t len, bool *close_after)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return len >= 8192 ? -1 : 0;
    size_t hlen = (size_t)(end - buf) + 4;
    *close_after = false;
    const char *h = buf;
    size_t body = 0;
    bool chunked = false;
    while (h < end) {
        const char *eol = memmem(h, (size_t)(end + 2 - h), "\r\n", 2);
        if (!eol)
            break;
        if (!strncasecmp(h, "Content-Length:", 15))
            body = strtoul(h + 15, NULL, 10);
        else if (!strncasecmp(h, "Transfer-Encoding:", 18) &&
                 memmem(h, (size_t)(eol - h), "chunked", 7))
            chunked = true;
        else if (!strncasecmp(h, "Connection:", 11) && memmem(h, (size_t)(eol - h), "close", 5))
            *close_after = true;
        h = eol + 2;
    }
    if (!chunked)
        return len >= hlen + body ? (ssize_t)(hlen + body) : 0;
    size_t p = hlen;
    for (;;) { /* chunk-size CRLF data CRLF ... 0 CRLF CRLF */
        const char *eol = memmem(buf + p, len - p, "\r\n", 2);
        if (!eol)
            return 0;
        size_t sz = strtoul(buf + p, NULL, 16);
        p = (size_t)(eol - buf) + 2;
        if (sz == 0)
            return len >= p + 2 ? (ssize_t)(p + 2) : 0;
        p += sz + 2;
        if (p > len)
            return 0;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    conn *c = s->data;
    if (n < 0) {
        conn_fail(c);
        return;
    }
    c->rlen += (size_t)n;
    if (!c->busy) { /* unsolicited bytes */
        conn_fail(c);
        return;
    }
    bool close_after;
    ssize_t rl = response_len(c->rbuf, c->rlen, &close_after);
    if (rl < 0 || (rl == 0 && c->rlen >= sizeof(c->rbuf) - 1)) {
        conn_fail(c);
        return;
    }
    if (rl == 0)
        return;
    int64_t t = now_ns();
    int status = c->rlen > 12 ? atoi(c->rbuf + 9) : 0;
    if (t >= t_count_from && c->sent_ns >= t_count_from && t <= t_end + 5000000000LL) {
        if (status >= 200 && status < 300) {
            n_ok++;
            hist_add(t - c->sent_ns);
        } else {
            n_non2xx++;
        }
    }
    c->busy = false;
    c->rlen = 0;
    if (close_after) {
        conn_fail(c);
        return;
    }
    if (status < 200 || status >= 300)
        usleep(1000); /* a failing server: don't spin */
    conn_send(c);
}

static void on_connect(uv_connect_t *r, int status)
{
    conn *c = r->data;
    if (status < 0) { /* refused (a node is down): count it, retry elsewhere */
        if (!stopping && c->open)
            n_errors++;
        c->busy = false;
        conn_fail(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    conn_send(c);
}

static void conn_open(conn *c)
{
    if (stopping)
        return;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->connect.data = c;
    c->open = true;
    c->busy = false;
    if (uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&addrs[c->addr_i], on_connect) < 0)
        conn_fail(c);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    int64_t now = now_ns();
    if (now < t_end)
        return;
    bool busy = false;
    for (int i = 0; i < opt_conns; i++)
        busy |= conns[i].open && conns[i].busy;
    if (busy && now < t_end + 5000000000LL) /* answers in flight: at most 5 s */
        return;
    stopping = true;
    for (int i = 0; i < opt_conns; i++) {
        uv_timer_stop(&conns[i].retry);
        uv_close((uv_handle_t *)&conns[i].retry, on_retry_closed);
        if (conns[i].open) {
            conns[i].open = false;
            uv_close((uv_handle_t *)&conns[i].tcp, NULL);
        }
    }
    uv_close((uv_handle_t *)&tick, NULL);
}

static void usage(void)
{
    fprintf(stderr, "usage: kvload --addr H:P[,H:P...] [--mode wire|etcd] [--conns N] "
                    "[--duration S] [--warmup S] [--value-size B] [--prefix STR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"addr", required_argument, 0, 'a'},   {"mode", required_argument, 0, 'm'},
        {"conns", required_argument, 0, 'c'},  {"duration", required_argument, 0, 'd'},
        {"warmup", required_argument, 0, 'w'}, {"value-size", required_argument, 0, 's'},
        {"prefix", required_argument, 0, 'p'}, {0, 0, 0, 0},
    };
    snprintf(opt_prefix, sizeof(opt_prefix), "kv%d", (int)getpid());
    int ch;
    while ((ch = getopt_long(argc, argv, "a:m:c:d:w:s:p:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'a': opt_addrs = optarg; break;
        case 'm':
            if (!strcmp(optarg, "etcd"))
                opt_etcd = true;
            else if (strcmp(optarg, "wire"))
                usage();
            break;
        case 'c': opt_conns = atoi(optarg); break;
        case 'd': opt_duration = atof(optarg); break;
        case 'w': opt_warmup = atof(optarg); break;
        case 's': opt_value_size = atoi(optarg); break;
        case 'p': snprintf(opt_prefix, sizeof(opt_prefix), "%s", optarg); break;
        default: usage();
        }
    }
    if (opt_conns < 1 || opt_duration <= 0 || opt_warmup < 0 || opt_value_size < 1 ||
        opt_value_size > (int)sizeof(value))
        usage();
    for (int i = 0; i < opt_value_size; i++)
        value[i] = (char)('a' + i % 26);

    /* addresses */
    char *list = strdup(opt_addrs), *save = NULL;
    addrs = calloc(64, sizeof(*addrs));
    addr_names = calloc(64, sizeof(*addr_names));
    for (char *a = strtok_r(list, ",", &save); a && n_addrs < 64; a = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(a, ':');
        if (!colon)
            usage();
        addr_names[n_addrs] = strdup(a);
        *colon = '\0';
        if (uv_ip4_addr(a, atoi(colon + 1), &addrs[n_addrs]) != 0) {
            fprintf(stderr, "kvload: --addr wants IPv4 host:port\n");
            return 2;
        }
        n_addrs++;
    }
    if (!n_addrs)
        usage();

    loop = uv_default_loop();
    conns = calloc((size_t)opt_conns, sizeof(*conns));
    t_start = now_ns();
    t_count_from = t_start + (int64_t)(opt_warmup * 1e9);
    t_end = t_count_from + (int64_t)(opt_duration * 1e9);
    for (int i = 0; i < opt_conns; i++) {
        conns[i].id = i;
        conns[i].addr_i = i % n_addrs;
        uv_timer_init(loop, &conns[i].retry);
        conns[i].retry.data = &conns[i];
        conn_open(&conns[i]);
    }
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    uv_run(loop, UV_RUN_DEFAULT);

    double wps = (double)n_ok / opt_duration;
    printf("kvload: %s %s, %d conns, %d-byte values, %.1f s (+%.1f s warm-up)\n",
           opt_etcd ? "etcd POST /v3/kv/put" : "wire PUT /v1/kv", opt_addrs, opt_conns,
           opt_value_size, opt_duration, opt_warmup);
    printf("  writes %" PRIu64 " ok, %" PRIu64 " non-2xx, %" PRIu64 " connection errors\n", n_ok,
           n_non2xx, n_errors);
    printf("  %.0f writes/s   latency p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n", wps,
           hist_pct_ms(50), hist_pct_ms(99), hist_pct_ms(99.9), (double)hist_max_us / 1000.0);
    printf("RESULT writes_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f ok=%" PRIu64
           " non2xx=%" PRIu64 " errors=%" PRIu64 "\n",
           wps, hist_pct_ms(50), hist_pct_ms(99), hist_pct_ms(99.9), (double)hist_max_us / 1000.0,
           n_ok, n_non2xx, n_errors);
    uv_loop_close(loop);
    for (int i = 0; i < n_addrs; i++)
        free(addr_names[i]);
    free(addr_names);
    free(addrs);
    free(conns);
    free(list);
    return n_ok ? 0 : 1;
}
