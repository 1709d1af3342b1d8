/*
 * sessions.h — session windows of one key (STREAMING.md §3.5): each event is
 * a proto-session [ts, ts + gap); sessions that touch (s1 <= e2 and s2 <= e1)
 * merge, so events exactly `gap` apart share one. An event that touches no
 * open session and for which ts + gap + L <= W_before is too late: dropped.
 * A session closes when W_op >= end + L. Its bounds are first ts and last
 * ts + gap.
 *
 * The set keeps the open sessions sorted by start, disjoint and not touching;
 * what a session aggregates is the caller's (`state`), merged through the
 * callback when sessions merge.
 */
#ifndef WIRE_SESSIONS_H
#define WIRE_SESSIONS_H

#include "core/core.h"

typedef struct wire_session {
    int64_t start, end; /* [first ts, last ts + gap) */
    void *state;        /* the caller's aggregate, NULL for a new session */
} wire_session;

typedef struct wire_session_set {
    wire_session *v;
    size_t n, cap;
} wire_session_set;

typedef void (*wire_session_merge_fn)(void *arg, wire_session *into, wire_session *from);
typedef void (*wire_session_emit_fn)(void *arg, wire_session *s);

void wire_sessions_init(wire_session_set *s);
void wire_sessions_free(wire_session_set *s); /* states are the caller's to free first */
/*
 * An event at ts: the session it now belongs to (merged with every open
 * session it touches; `merge` moves each absorbed one's state into it), or
 * NULL when it is too late. The pointer is valid until the set changes.
 */
wire_session *wire_sessions_add(wire_session_set *s, int64_t ts, int64_t gap, int64_t lateness,
                                int64_t w_before, wire_session_merge_fn merge, void *arg);
/* Emit, then forget, every session closed at w_op (earliest end first); how many. */
size_t wire_sessions_close(wire_session_set *s, int64_t w_op, int64_t lateness,
                           wire_session_emit_fn emit, void *arg);

#endif
