/*
 * loadgen.c — W4 load generator: POSTs NDJSON batches to an `http` source
 * and measures latency from request to WRITE by tailing the pipeline's
 * output file.
 *
 * Every event carries "sent_ns" (CLOCK_REALTIME ns). With --rate the offered
 * load is fixed: request k is due at start + k * batch / rate, and sent_ns is
 * that scheduled time, so a server (or this generator) falling behind shows
 * up as latency instead of silently lowering the load (no coordinated
 * omission). Without --rate each connection sends its next request as soon
 * as the previous one is answered, and sent_ns is the actual send time.
 *
 * A tail thread reads lines appended to --out while the run goes on and for
 * each one computes now - sent_ns. The run is bounded: sending stops after
 * --duration, in-flight answers are awaited, then the output is drained for
 * at most --drain seconds.
 *
 * Prints achieved events/s and MB/s (accepted by the server), answers by
 * status, request latency and write latency percentiles, lost events.
 *
 * Build (standalone; no libwire):
 *   cc -D_GNU_SOURCE -O2 -g -o build/release/loadgen bench/loadgen.c \
 *      $(pkg-config --cflags --libs libuv) -lpthread
 * or `make -f bench/loadgen.mk BUILD=build/release`.
 *
 *   loadgen --addr 127.0.0.1:8080 [--path /] [--rate EV/S] [--duration S]
 *           [--conns N] [--batch 100] [--event-size 200] [--out FILE] [--drain S]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* ---- options ---- */

static const char *opt_addr = "127.0.0.1:8080";
static const char *opt_path = "/";
static double opt_rate = 0; /* events/s; 0 = as fast as possible */
static double opt_duration = 10;
static int opt_conns = 8;
static int opt_batch = 100;
static int opt_event_size = 200;
static const char *opt_out = NULL;
static double opt_drain = 5;

/* ---- time ---- */

static int64_t now_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- histogram: log-linear buckets of microseconds, ~3% precision ---- */

#define HIST_BUCKETS (64 + 40 * 32)
typedef struct hist {
    uint64_t b[HIST_BUCKETS];
    uint64_t n, max_us;
} hist;

static int hist_index(uint64_t us)
{
    if (us < 64)
        return (int)us;
    int e = 63 - __builtin_clzll(us);
    if (e > 45)
        e = 45;
    int sub = (int)((us >> (e - 5)) & 31);
    int idx = 64 + (e - 6) * 32 + sub;
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static uint64_t hist_value(int idx)
{
    if (idx < 64)
        return (uint64_t)idx;
    int e = (idx - 64) / 32 + 6, sub = (idx - 64) % 32;
    return (uint64_t)(32 + sub) << (e - 5);
}

static void hist_add(hist *h, int64_t ns)
{
    uint64_t us = ns > 0 ? (uint64_t)(ns / 1000) : 0;
    h->b[hist_index(us)]++;
    h->n++;
    if (us > h->max_us)
        h->max_us = us;
}

static double hist_pct_ms(const hist *h, double p)
{
    if (!h->n)
        return 0;
    uint64_t want = (uint64_t)(p / 100.0 * (double)h->n);
    if (want >= h->n)
        want = h->n - 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen > want)
            return (double)hist_value(i) / 1000.0;
    }
    return (double)h->max_us / 1000.0;
}

static void hist_print(const char *what, const hist *h)
{
    printf("%-22s n=%-9" PRIu64 " p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f ms\n", what, h->n,
           hist_pct_ms(h, 50), hist_pct_ms(h, 90), hist_pct_ms(h, 99), (double)h->max_us / 1000.0);
}

/* ---- tail thread: latency from request to write ---- */

static atomic_bool send_done;
static atomic_uint_fast64_t events_accepted;
static hist write_lat;
static uint64_t tail_lines, tail_unparsed;
static off_t tail_start;

static void tail_line(const char *p, size_t n, int64_t now)
{
    tail_lines++;
    const char *k = memmem(p, n, "\"sent_ns\":", 10);
    if (!k) {
        tail_unparsed++;
        return;
    }
    k += 10;
    int64_t v = 0;
    while (k < p + n && *k >= '0' && *k <= '9')
        v = v * 10 + (*k++ - '0');
    hist_add(&write_lat, now - v);
}

static void *tail_thread(void *arg)
{
    (void)arg;
    int fd = -1;
    static char buf[1 << 20];
    size_t have = 0;
    int64_t drain_deadline = 0;
    for (;;) {
        if (atomic_load(&send_done)) {
            if (!drain_deadline)
                drain_deadline = now_real_ns() + (int64_t)(opt_drain * 1e9);
            if (tail_lines - tail_unparsed >= atomic_load(&events_accepted) ||
                now_real_ns() > drain_deadline)
                break;
        }
        if (fd < 0) {
            fd = open(opt_out, O_RDONLY);
            if (fd < 0) {
                usleep(2000);
                continue;
            }
            lseek(fd, tail_start, SEEK_SET);
        }
        ssize_t r = read(fd, buf + have, sizeof(buf) - have);
        if (r <= 0) {
            usleep(1000);
            continue;
        }
        int64_t now = now_real_ns();
        have += (size_t)r;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (!nl)
                break;
            tail_line(buf + start, (size_t)(nl - (buf + start)), now);
            start = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof(buf))
            have = 0; /* a line longer than the buffer: drop it */
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* ---- senders ---- */

typedef struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    int id;
    bool connected, busy, dead;
    int64_t sched_ns; /* when the request in flight was due (or sent) */
    char *req;
    size_t req_len;
    char rbuf[8192];
    size_t rlen;
} conn;

static uv_loop_t *loop;
static uv_timer_t tick, stop_timer;
static conn *conns;
static int64_t start_ns, end_ns;
static uint64_t next_req; /* requests scheduled so far (rate mode) */
static uint64_t seq;      /* event sequence */
static uint64_t n_sent, n_2xx, n_429, n_503, n_other, n_errors;
static hist req_lat;
static struct sockaddr_storage addr;
static bool stopping;
static int open_conns;
static const char *host_header;

static void conn_send(conn *c, int64_t sched_ns);

static void on_close(uv_handle_t *h)
{
    (void)h;
    open_conns--;
}

static void conn_fail(conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    if (c->busy)
        n_errors++;
    c->busy = false;
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

/* Build a request with `opt_batch` events stamped `sent_ns`. */
static void build_request(conn *c, int64_t sent_ns)
{
    static const char *levels[] = {"info", "info", "info", "warn", "error", "debug"};
    static const char *paths[] = {"/api/v1/items", "/api/v1/users", "/login", "/health",
                                  "/api/v2/orders"};
    size_t cap = (size_t)opt_batch * ((size_t)opt_event_size + 128) + 512;
    if (!c->req)
        c->req = malloc(cap);
    char *body = c->req + 256; /* room for the head, moved below */
    size_t blen = 0;
    for (int i = 0; i < opt_batch; i++) {
        uint64_t s = seq++;
        int n = snprintf(body + blen, cap - 256 - blen,
                         "{\"sent_ns\":%" PRId64 ",\"seq\":%" PRIu64
                         ",\"host\":\"web-%02d\",\"level\":\"%s\",\"method\":\"GET\","
                         "\"path\":\"%s/%" PRIu64 "\",\"status\":200,\"latency_ms\":%d,"
                         "\"user\":{\"id\":%d},\"msg\":\"",
                         sent_ns, s, (int)(s % 32), levels[s % 6], paths[s % 5], s % 10000,
                         (int)(s % 250), (int)(s % 9973));
        blen += (size_t)n;
        /* pad the message so the event is about opt_event_size bytes */
        int pad = opt_event_size - n - 3;
        for (int k = 0; k < pad; k++)
            body[blen++] = (char)('a' + (k + (int)s) % 26);
        memcpy(body + blen, "\"}\n", 3);
        blen += 3;
    }
    char head[256];
    int hn = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-ndjson\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      opt_path, host_header, blen);
    memmove(c->req + hn, body, blen);
    memcpy(c->req, head, (size_t)hn);
    c->req_len = (size_t)hn + blen;
}

static void on_written(uv_write_t *w, int status)
{
    conn *c = w->data;
    if (status < 0)
        conn_fail(c);
}

static void conn_send(conn *c, int64_t sched_ns)
{
    build_request(c, sched_ns);
    c->busy = true;
    c->sched_ns = sched_ns;
    c->rlen = 0;
    n_sent++;
    uv_buf_t b = uv_buf_init(c->req, (unsigned)c->req_len);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
        conn_fail(c);
}

/* Send whatever is due on idle connections. */
static void pump(void)
{
    if (stopping)
        return;
    int64_t now = now_real_ns();
    if (now >= end_ns)
        return;
    for (int i = 0; i < opt_conns; i++) {
        conn *c = &conns[i];
        if (!c->connected || c->busy || c->dead)
            continue;
        if (opt_rate > 0) {
            int64_t due = start_ns + (int64_t)((double)next_req * opt_batch / opt_rate * 1e9);
            if (due > now)
                return;
            next_req++;
            conn_send(c, due);
        } else {
            conn_send(c, now);
        }
    }
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    conn *c = h->data;
    b->base = c->rbuf + c->rlen;
    b->len = sizeof(c->rbuf) - c->rlen - 1;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (n < 0) {
        conn_fail(c);
        return;
    }
    c->rlen += (size_t)n;
    c->rbuf[c->rlen] = '\0';
    for (;;) {
        char *end = strstr(c->rbuf, "\r\n\r\n");
        if (!end)
            return;
        size_t hlen = (size_t)(end - c->rbuf) + 4;
        const char *cl = strcasestr(c->rbuf, "Content-Length:");
        size_t blen = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
        if (c->rlen < hlen + blen)
            return;
        int status = atoi(c->rbuf + 9);
        if (status == 100) { /* interim */
        } else {
            hist_add(&req_lat, now_real_ns() - c->sched_ns);
            if (status >= 200 && status < 300) {
                n_2xx++;
                atomic_fetch_add(&events_accepted, (uint64_t)opt_batch);
            } else if (status == 429) {
                n_429++;
            } else if (status == 503) {
                n_503++;
            } else {
                n_other++;
            }
            c->busy = false;
        }
        memmove(c->rbuf, c->rbuf + hlen + blen, c->rlen - hlen - blen);
        c->rlen -= hlen + blen;
        c->rbuf[c->rlen] = '\0';
        if (!c->busy)
            pump();
    }
}

static void on_connect(uv_connect_t *r, int status)
{
    conn *c = r->data;
    if (status < 0) {
        fprintf(stderr, "loadgen: connect %s: %s\n", opt_addr, uv_strerror(status));
        conn_fail(c);
        return;
    }
    c->connected = true;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    pump();
}

static bool closed_all;
static void close_all(void)
{
    if (closed_all)
        return;
    closed_all = true;
    for (int i = 0; i < opt_conns; i++)
        if (!conns[i].dead) {
            conns[i].dead = true;
            uv_close((uv_handle_t *)&conns[i].tcp, on_close);
        }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_close((uv_handle_t *)&stop_timer, NULL);
}

static void on_stop_timer(uv_timer_t *t)
{
    (void)t;
    close_all();
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    int64_t now = now_real_ns();
    if (now >= end_ns && !stopping) {
        stopping = true;
        /* wait for answers in flight, at most 5 s */
        uv_timer_start(&stop_timer, on_stop_timer, 5000, 0);
    }
    if (stopping) {
        bool busy = false;
        for (int i = 0; i < opt_conns; i++)
            busy |= conns[i].busy && !conns[i].dead;
        if (!busy) {
            uv_timer_stop(&stop_timer);
            close_all();
        }
        return;
    }
    pump();
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen --addr HOST:PORT [--path /] [--rate EVENTS_PER_S] "
                    "[--duration S] [--conns N] [--batch N] [--event-size B] [--out FILE] "
                    "[--drain S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"addr", required_argument, 0, 'a'},       {"path", required_argument, 0, 'p'},
        {"rate", required_argument, 0, 'r'},       {"duration", required_argument, 0, 'd'},
        {"conns", required_argument, 0, 'c'},      {"batch", required_argument, 0, 'b'},
        {"event-size", required_argument, 0, 's'}, {"out", required_argument, 0, 'o'},
        {"drain", required_argument, 0, 'D'},      {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "a:p:r:d:c:b:s:o:D:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'a': opt_addr = optarg; break;
        case 'p': opt_path = optarg; break;
        case 'r': opt_rate = atof(optarg); break;
        case 'd': opt_duration = atof(optarg); break;
        case 'c': opt_conns = atoi(optarg); break;
        case 'b': opt_batch = atoi(optarg); break;
        case 's': opt_event_size = atoi(optarg); break;
        case 'o': opt_out = optarg; break;
        case 'D': opt_drain = atof(optarg); break;
        default: usage();
        }
    }
    if (opt_conns < 1 || opt_batch < 1 || opt_duration <= 0 || opt_event_size < 150)
        usage();
    char host[256];
    snprintf(host, sizeof(host), "%s", opt_addr);
    char *colon = strrchr(host, ':');
    if (!colon)
        usage();
    *colon = '\0';
    int port = atoi(colon + 1);
    host_header = opt_addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0) {
        fprintf(stderr, "loadgen: --addr must be IPv4 host:port\n");
        return 2;
    }

    if (opt_out) {
        struct stat st;
        tail_start = stat(opt_out, &st) == 0 ? st.st_size : 0;
    }
    pthread_t tail;
    if (opt_out)
        pthread_create(&tail, NULL, tail_thread, NULL);

    loop = uv_default_loop();
    conns = calloc((size_t)opt_conns, sizeof(*conns));
    for (int i = 0; i < opt_conns; i++) {
        conn *c = &conns[i];
        c->id = i;
        uv_tcp_init(loop, &c->tcp);
        c->tcp.data = c;
        c->connect.data = c;
        open_conns++;
        uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&addr, on_connect);
    }
    start_ns = now_real_ns();
    end_ns = start_ns + (int64_t)(opt_duration * 1e9);
    uv_timer_init(loop, &tick);
    uv_timer_init(loop, &stop_timer);
    uv_timer_start(&tick, on_tick, 1, 1);
    uv_run(loop, UV_RUN_DEFAULT);
    double secs = (double)(now_real_ns() - start_ns) / 1e9;
    if (secs > opt_duration)
        secs = opt_duration; /* rates over the sending window */
    atomic_store(&send_done, true);
    if (opt_out)
        pthread_join(tail, NULL);

    uint64_t accepted = atomic_load(&events_accepted);
    double ev_s = (double)accepted / secs;
    printf("loadgen: %s%s, %d conns, batch %d x ~%d B, %.1f s, offered %s\n", opt_addr, opt_path,
           opt_conns, opt_batch, opt_event_size, opt_duration, opt_rate > 0 ? "fixed rate" : "max");
    if (opt_rate > 0)
        printf("offered                %.0f events/s\n", opt_rate);
    printf("accepted               %.0f events/s  %.1f MB/s  (%" PRIu64 " events)\n", ev_s,
           ev_s * opt_event_size / 1e6, accepted);
    printf("requests               %" PRIu64 " sent: %" PRIu64 " 2xx, %" PRIu64 " 429, %" PRIu64
           " 503, %" PRIu64 " other, %" PRIu64 " errors  (%.0f req/s)\n",
           n_sent, n_2xx, n_429, n_503, n_other, n_errors, (double)n_2xx / secs);
    hist_print("request latency", &req_lat);
    if (opt_out) {
        hist_print("request->write latency", &write_lat);
        uint64_t seen = tail_lines - tail_unparsed;
        printf("written                %" PRIu64 " of %" PRIu64 " accepted events%s\n", seen,
               accepted, seen < accepted ? "  (MISSING: drain timeout)" : "");
    }
    uv_loop_close(loop);
    for (int i = 0; i < opt_conns; i++)
        free(conns[i].req);
    free(conns);
    return n_errors || (opt_out && tail_lines - tail_unparsed < accepted) ? 1 : 0;
}
