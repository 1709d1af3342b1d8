/*
 * util.c — allocation helpers, byte buffers, hashing, time and the logger.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/core.h"

void *wire_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return p;
}

void *wire_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) {
        fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n * m);
        abort();
    }
    return p;
}

void *wire_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return q;
}

char *wire_xstrdup(const char *s)
{
    return wire_xstrndup(s, strlen(s));
}

char *wire_xstrndup(const char *s, size_t n)
{
    char *p = wire_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void wire_buf_init(wire_buf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
}

void wire_buf_free(wire_buf *b)
{
    free(b->p);
    wire_buf_init(b);
}

void wire_buf_reserve(wire_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->p = wire_xrealloc(b->p, cap);
    b->cap = cap;
}

void wire_buf_append(wire_buf *b, const void *p, size_t n)
{
    wire_buf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void wire_buf_putc(wire_buf *b, char c)
{
    wire_buf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void wire_buf_printf(wire_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    wire_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

uint64_t wire_hash64(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    /* final avalanche (splitmix64) so that low bits are usable */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

int64_t wire_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wire_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void wire_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Parse a decimal number followed by a unit from `units`; returns 0 or -1. */
static int parse_with_unit(const char *s, const char *const *names, const double *mult,
                           size_t nunits, double default_mult, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || isnan(v))
        return -1;
    while (*end == ' ')
        end++;
    double m = default_mult;
    if (*end) {
        size_t i;
        for (i = 0; i < nunits; i++)
            if (strcasecmp(end, names[i]) == 0)
                break;
        if (i == nunits)
            return -1;
        m = mult[i];
    }
    double r = v * m;
    if (r > 9.2e18)
        return -1;
    *out = (int64_t)(r + 0.5);
    return 0;
}

int wire_parse_duration_ms(const char *s, int64_t *out)
{
    static const char *const names[] = {"us", "ms", "s", "m", "h", "d"};
    static const double mult[] = {0.001, 1, 1000, 60000, 3600000, 86400000};
    /* a bare number is seconds, as in most configuration files */
    return parse_with_unit(s, names, mult, WIRE_ARRAY_LEN(names), 1000, out);
}

int wire_parse_size(const char *s, int64_t *out)
{
    static const char *const names[] = {"b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib"};
    static const double mult[] = {1,       1024,    1024,    1024,    1048576,
                                  1048576, 1048576, 1 << 30, 1 << 30, 1 << 30};
    return parse_with_unit(s, names, mult, WIRE_ARRAY_LEN(names), 1, out);
}

static int log_level = WIRE_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void wire_log_set_level(int level)
{
    log_level = level;
}

void wire_time_iso(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

void wire_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < log_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            names[level < 0   ? 0
                  : level > 3 ? 3
                              : level],
            msg);
    pthread_mutex_unlock(&log_lock);
}
