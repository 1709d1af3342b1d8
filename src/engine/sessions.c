/*
 * sessions.c — session windows of one key (sessions.h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/event_time.h"
#include "engine/sessions.h"

void wire_sessions_init(wire_session_set *s)
{
    memset(s, 0, sizeof(*s));
}

void wire_sessions_free(wire_session_set *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

wire_session *wire_sessions_add(wire_session_set *s, int64_t ts, int64_t gap, int64_t lateness,
                                int64_t w_before, wire_session_merge_fn merge, void *arg)
{
    int64_t start = ts, end = ts + gap;
    /* the open sessions it touches are contiguous: the first with end >= ts ... */
    size_t lo = 0;
    while (lo < s->n && s->v[lo].end < start)
        lo++;
    size_t hi = lo; /* ... up to the last with start <= ts + gap */
    while (hi < s->n && s->v[hi].start <= end)
        hi++;
    if (lo == hi) {
        if (!wire_window_accepts(end, lateness, w_before))
            return NULL; /* ts + gap + L <= W_before */
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 4;
            s->v = wire_xrealloc(s->v, s->cap * sizeof(*s->v));
        }
        memmove(s->v + lo + 1, s->v + lo, (s->n - lo) * sizeof(*s->v));
        s->v[lo] = (wire_session){start, end, NULL};
        s->n++;
        return &s->v[lo];
    }
    wire_session *into = &s->v[lo];
    if (start < into->start)
        into->start = start;
    if (end > into->end)
        into->end = end;
    for (size_t i = lo + 1; i < hi; i++) {
        if (s->v[i].end > into->end)
            into->end = s->v[i].end;
        if (merge)
            merge(arg, into, &s->v[i]);
    }
    memmove(s->v + lo + 1, s->v + hi, (s->n - hi) * sizeof(*s->v));
    s->n -= hi - lo - 1;
    return &s->v[lo];
}

size_t wire_sessions_close(wire_session_set *s, int64_t w_op, int64_t lateness,
                           wire_session_emit_fn emit, void *arg)
{
    /* sorted by start and disjoint: also sorted by end */
    size_t k = 0;
    while (k < s->n && wire_window_closed(s->v[k].end, lateness, w_op)) {
        if (emit)
            emit(arg, &s->v[k]);
        k++;
    }
    memmove(s->v, s->v + k, (s->n - k) * sizeof(*s->v));
    s->n -= k;
    return k;
}
