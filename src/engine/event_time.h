/*
 * event_time.h — the arithmetic of event time (../shared/STREAMING.md §3.2–3.4;
 * docs/streaming.md): which windows an event belongs to, watermarks per
 * split and per operator, and when an event is too late for a window.
 *
 * Time is int64 milliseconds since the epoch, UTC. Windows are epoch-aligned
 * (plus an optional offset) and half-open, [start, end): an event at exactly
 * `end` belongs to the next window. WIRE_TIME_MIN / WIRE_TIME_MAX stand for
 * −∞ (no event yet) and +∞ (every split finished).
 *
 * Nothing here reads a clock: processing time (for idleness) is passed in,
 * so the rules are testable and deterministic.
 */
#ifndef WIRE_EVENT_TIME_H
#define WIRE_EVENT_TIME_H

#include "core/core.h"

#define WIRE_TIME_MIN INT64_MIN
#define WIRE_TIME_MAX INT64_MAX

/* floor(t, m) = t − ((t − offset) mod m), mod in [0, m): the start of t's slot of width m. */
int64_t wire_time_floor(int64_t t, int64_t m, int64_t offset);

enum { WIRE_WIN_TUMBLE, WIRE_WIN_HOP, WIRE_WIN_CUMULATE };

typedef struct wire_window_spec {
    int kind;       /* WIRE_WIN_* (sessions are per key: not here) */
    int64_t size;   /* > 0 */
    int64_t slide;  /* HOP: the slide; CUMULATE: the step (size % it == 0); TUMBLE: unused */
    int64_t offset; /* |offset| < size */
} wire_window_spec;

typedef struct wire_window {
    int64_t start, end; /* [start, end) */
} wire_window;

/* NULL if the spec is valid, else why (HOP/CUMULATE need size % slide == 0: §1.9). */
const char *wire_window_spec_check(const wire_window_spec *w);
/* How many windows one event can be in (1, size/slide, or size/step). */
int64_t wire_window_count(const wire_window_spec *w);
/*
 * The windows of an event at ts, earliest end first, into out (room for
 * wire_window_count(w)); returns how many. TUMBLE: one; HOP: size/slide
 * windows [s, s+size) for s = floor(ts, slide) − k·slide; CUMULATE: [s, s +
 * j·step) for every j ≤ size/step with s + j·step > ts, s = floor(ts, size).
 */
size_t wire_window_assign(const wire_window_spec *w, int64_t ts, wire_window *out);
/* §3.4 rule 1: is an event whose split's watermark was w_before taken into a window
   ending at `end`, with allowed lateness L? */
bool wire_window_accepts(int64_t end, int64_t lateness, int64_t w_before);
/* §3.4 rule 3: is that window closed at operator watermark w_op? */
bool wire_window_closed(int64_t end, int64_t lateness, int64_t w_op);

/*
 * Watermarks (§3.3). A split's watermark is max(ts) − B (−∞ before its first
 * event), monotone, computed at the source before any filter. The operator
 * watermark is the minimum over the active splits: a split silent for
 * `idle_ms` (0: never idle) of processing time leaves the minimum until its
 * next event; a finished split leaves it for good; if every unfinished split
 * is idle the operator watermark holds; when every split has finished it is
 * +∞. It never decreases.
 */
typedef struct wire_watermarks wire_watermarks;

wire_watermarks *wire_watermarks_new(int64_t delay_ms, int64_t idle_ms);
void wire_watermarks_free(wire_watermarks *w);
/*
 * An event of split `split` at ts, seen at processing time now_ms: returns
 * W_before, the split's watermark just before it (what its lateness is judged
 * by), and advances the split. Splits are numbered by the source from 0.
 */
int64_t wire_watermarks_observe(wire_watermarks *w, uint32_t split, int64_t ts, int64_t now_ms);
/* A split the source knows of before its first event: it holds the operator watermark at
   −∞ until it sends one or turns idle. */
void wire_watermarks_add(wire_watermarks *w, uint32_t split, int64_t now_ms);
/* The split will send nothing more. */
void wire_watermarks_finish(wire_watermarks *w, uint32_t split);
/* The source finished: every split it had finishes (the operator watermark becomes +∞). */
void wire_watermarks_finish_all(wire_watermarks *w);
/* The split's watermark now (WIRE_TIME_MIN if it has seen nothing). */
int64_t wire_watermarks_split(const wire_watermarks *w, uint32_t split);
/* The operator watermark at processing time now_ms (idleness is judged then). */
int64_t wire_watermarks_operator(wire_watermarks *w, int64_t now_ms);
/* Late after idleness: events behind the operator watermark from a split that had been
   idle (STREAMING.md §3.4's exception), counted. */
uint64_t wire_watermarks_late_after_idle(const wire_watermarks *w);

/*
 * The event time of a JSON object event: the value at `field` (a dotted path,
 * a.b), a number of ms (a fraction is cut off) or an RFC 3339 string (no
 * zone: UTC). 0, or -1 with why (what is wrong, for the DLQ record).
 */
int wire_event_time_of(const char *json, size_t n, const char *field, int64_t *ms, char *why,
                       size_t why_len);

/* Checkpoint: max ts per split (and finished flags) and the operator watermark. */
void wire_watermarks_encode(const wire_watermarks *w, wire_buf *out);
int wire_watermarks_decode(wire_watermarks *w, const void *p, size_t n, wire_err *err);

#endif
