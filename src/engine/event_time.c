/*
 * event_time.c — window assignment, lateness and watermarks (event_time.h;
 * STREAMING.md §3.2–3.4).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "engine/event_time.h"

/* a + b, saturating at the int64 range (an end plus a lateness near +∞). */
static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? WIRE_TIME_MAX : WIRE_TIME_MIN;
    return r;
}

int64_t wire_time_floor(int64_t t, int64_t m, int64_t offset)
{
    int64_t r = (t - offset) % m;
    if (r < 0)
        r += m;
    return t - r;
}

const char *wire_window_spec_check(const wire_window_spec *w)
{
    if (w->size <= 0)
        return "a window's size must be positive";
    if (w->offset <= -w->size || w->offset >= w->size)
        return "a window's offset must be smaller than its size";
    if (w->kind == WIRE_WIN_TUMBLE)
        return NULL;
    if (w->slide <= 0)
        return w->kind == WIRE_WIN_HOP ? "HOP's slide must be positive"
                                       : "CUMULATE's step must be positive";
    if (w->size % w->slide != 0)
        return w->kind == WIRE_WIN_HOP ? "HOP's size must be a multiple of its slide"
                                       : "CUMULATE's size must be a multiple of its step";
    return NULL;
}

int64_t wire_window_count(const wire_window_spec *w)
{
    return w->kind == WIRE_WIN_TUMBLE ? 1 : w->size / w->slide;
}

size_t wire_window_assign(const wire_window_spec *w, int64_t ts, wire_window *out)
{
    size_t k = 0;
    if (w->kind == WIRE_WIN_TUMBLE) {
        int64_t s = wire_time_floor(ts, w->size, w->offset);
        out[k++] = (wire_window){s, s + w->size};
    } else if (w->kind == WIRE_WIN_HOP) {
        int64_t s0 = wire_time_floor(ts, w->slide, w->offset), n = w->size / w->slide;
        for (int64_t i = n - 1; i >= 0; i--) { /* the oldest start ends first */
            int64_t s = s0 - i * w->slide;
            out[k++] = (wire_window){s, s + w->size};
        }
    } else {
        int64_t s = wire_time_floor(ts, w->size, w->offset), n = w->size / w->slide;
        for (int64_t j = 1; j <= n; j++)
            if (s + j * w->slide > ts)
                out[k++] = (wire_window){s, s + j * w->slide};
    }
    return k;
}

bool wire_window_accepts(int64_t end, int64_t lateness, int64_t w_before)
{
    return sat_add(end, lateness) > w_before;
}

bool wire_window_closed(int64_t end, int64_t lateness, int64_t w_op)
{
    return w_op >= sat_add(end, lateness);
}

int wire_event_time_of(const char *json, size_t n, const char *field, int64_t *ms, char *why,
                       size_t why_len)
{
    wire_json_val v = {WIRE_JSON_OBJECT, json, n};
    const char *k = field;
    for (;;) {
        const char *dot = strchr(k, '.');
        size_t kl = dot ? (size_t)(dot - k) : strlen(k);
        if (v.kind != WIRE_JSON_OBJECT || !wire_json_get(v.p, v.n, k, kl, &v)) {
            snprintf(why, why_len, "event_time: no field '%s'", field);
            return -1;
        }
        if (!dot)
            break;
        k = dot + 1;
    }
    if (v.kind == WIRE_JSON_NUMBER) {
        char buf[64];
        size_t len = v.n < sizeof(buf) - 1 ? v.n : sizeof(buf) - 1;
        memcpy(buf, v.p, len);
        buf[len] = 0;
        char *end;
        double d = strtod(buf, &end);
        if (*end == 0 && d > -9.2e18 && d < 9.2e18) {
            long long i = strtoll(buf, &end, 10);
            *ms = *end == 0 ? (int64_t)i : (int64_t)floor(d);
            return 0;
        }
    } else if (v.kind == WIRE_JSON_STRING) {
        if (wire_time_parse_rfc3339(v.p + 1, v.n - 2, ms))
            return 0;
    } else if (v.kind == WIRE_JSON_NULL) {
        snprintf(why, why_len, "event_time: field '%s' is null", field);
        return -1;
    }
    snprintf(why, why_len,
             "event_time: field '%s' is %.*s, not ms since the epoch or an RFC 3339 "
             "time",
             field, (int)(v.n > 64 ? 64 : v.n), v.p);
    return -1;
}

/* ---- watermarks ---- */

typedef struct split {
    int64_t max_ts;  /* WIRE_TIME_MIN: nothing seen */
    int64_t last_ms; /* processing time of its last event */
    bool known, finished;
} split;

struct wire_watermarks {
    int64_t delay, idle_ms;
    split *v;
    uint32_t n;
    int64_t op; /* the operator watermark: never decreases */
    uint64_t late_after_idle;
};

wire_watermarks *wire_watermarks_new(int64_t delay_ms, int64_t idle_ms)
{
    wire_watermarks *w = wire_xcalloc(1, sizeof(*w));
    w->delay = delay_ms;
    w->idle_ms = idle_ms;
    w->op = WIRE_TIME_MIN;
    return w;
}

void wire_watermarks_free(wire_watermarks *w)
{
    if (!w)
        return;
    free(w->v);
    free(w);
}

static split *split_at(wire_watermarks *w, uint32_t i)
{
    if (i >= w->n) {
        w->v = wire_xrealloc(w->v, (size_t)(i + 1) * sizeof(*w->v));
        for (uint32_t k = w->n; k <= i; k++)
            w->v[k] = (split){WIRE_TIME_MIN, 0, false, false};
        w->n = i + 1;
    }
    return &w->v[i];
}

static int64_t split_wm(const wire_watermarks *w, const split *s)
{
    return s->max_ts == WIRE_TIME_MIN ? WIRE_TIME_MIN : sat_add(s->max_ts, -w->delay);
}

static bool idle(const wire_watermarks *w, const split *s, int64_t now_ms)
{
    return w->idle_ms > 0 && s->known && s->last_ms != WIRE_TIME_MIN &&
           now_ms - s->last_ms >= w->idle_ms;
}

void wire_watermarks_add(wire_watermarks *w, uint32_t i, int64_t now_ms)
{
    split *s = split_at(w, i);
    if (!s->known) {
        s->known = true;
        s->last_ms = now_ms;
    }
}

int64_t wire_watermarks_observe(wire_watermarks *w, uint32_t i, int64_t ts, int64_t now_ms)
{
    split *s = split_at(w, i);
    int64_t before = split_wm(w, s);
    if (s->known && idle(w, s, now_ms) && ts < w->op)
        w->late_after_idle++;
    if (ts > s->max_ts)
        s->max_ts = ts;
    s->last_ms = now_ms;
    s->known = true;
    return before;
}

void wire_watermarks_finish_all(wire_watermarks *w)
{
    for (uint32_t i = 0; i < w->n; i++)
        w->v[i].finished = true;
    if (w->n == 0) /* no event at all: still the end of the input */
        split_at(w, 0)->finished = split_at(w, 0)->known = true;
}

void wire_watermarks_finish(wire_watermarks *w, uint32_t i)
{
    split *s = split_at(w, i);
    s->known = true;
    s->finished = true;
}

int64_t wire_watermarks_split(const wire_watermarks *w, uint32_t i)
{
    return i < w->n ? split_wm(w, &w->v[i]) : WIRE_TIME_MIN;
}

int64_t wire_watermarks_operator(wire_watermarks *w, int64_t now_ms)
{
    bool any = false, all_finished = w->n > 0;
    int64_t m = WIRE_TIME_MAX;
    for (uint32_t i = 0; i < w->n; i++) {
        split *s = &w->v[i];
        if (!s->known)
            continue;                    /* a split number no event has used */
        if (s->last_ms == WIRE_TIME_MIN) /* restored: its silence starts now */
            s->last_ms = now_ms;
        if (s->finished)
            continue;
        all_finished = false;
        if (idle(w, s, now_ms))
            continue;
        any = true;
        int64_t x = split_wm(w, s);
        if (x < m)
            m = x;
    }
    if (any) {
        if (m > w->op)
            w->op = m;
    } else if (all_finished) {
        w->op = WIRE_TIME_MAX; /* a bounded source's end closes every window */
    }                          /* else every unfinished split is idle: hold */
    return w->op;
}

uint64_t wire_watermarks_late_after_idle(const wire_watermarks *w)
{
    return w->late_after_idle;
}

/* little-endian u64 */
static void put64(wire_buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    wire_buf_append(b, t, 8);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void wire_watermarks_encode(const wire_watermarks *w, wire_buf *out)
{
    put64(out, w->n);
    put64(out, (uint64_t)w->op);
    for (uint32_t i = 0; i < w->n; i++) {
        put64(out, (uint64_t)w->v[i].max_ts);
        uint8_t f = (uint8_t)(w->v[i].known | w->v[i].finished << 1);
        wire_buf_append(out, &f, 1);
    }
}

int wire_watermarks_decode(wire_watermarks *w, const void *p, size_t n, wire_err *err)
{
    const uint8_t *b = p;
    if (n < 16)
        return wire_errf(err, WIRE_EPARSE, "watermarks: truncated");
    uint64_t cnt = get64(b), op = get64(b + 8);
    if (cnt > (n - 16) / 9 || n != 16 + cnt * 9)
        return wire_errf(err, WIRE_EPARSE, "watermarks: %llu splits in %zu bytes",
                         (unsigned long long)cnt, n);
    free(w->v);
    w->v = NULL;
    w->n = 0;
    w->op = (int64_t)op;
    for (uint64_t i = 0; i < cnt; i++) {
        const uint8_t *r = b + 16 + i * 9;
        split *s = split_at(w, (uint32_t)i);
        s->max_ts = (int64_t)get64(r);
        s->known = r[8] & 1;
        s->finished = (r[8] >> 1) & 1;
        s->last_ms = WIRE_TIME_MIN; /* restored: idle only after new silence */
    }
    return 0;
}
