/*
 * expr.h — Wire's expression language (filter `where`, map `select`, later SQL).
 *
 * SQL-like: literals ('str', 12, 1.5, true, false, null), field paths
 * (a.b, a[0], `weird key`), = != <> < <= > >=, AND OR NOT, + - * / %,
 * IS [NOT] NULL, [NOT] IN (...), [NOT] LIKE, ~ (PCRE2 regex), CASE WHEN ...
 * THEN ... ELSE ... END, and functions (lower upper length concat substr
 * coalesce abs round now_ms to_timestamp json_extract event_id).
 *
 * An expression is compiled once per pipeline into a tree with constants
 * folded and regexes compiled; evaluation on an event locates only the fields
 * the expression names, lazily, in the event's raw JSON, and caches them for
 * the rest of that evaluation. Temporaries (unescaped strings, concat
 * results) go to the caller's arena: no malloc per event.
 *
 * Fuzzed by fuzz/fuzz_expr.c.
 */
#ifndef WIRE_EXPR_H
#define WIRE_EXPR_H

#include "core/event.h"
#include "core/json.h"

typedef enum wire_value_type {
    WIRE_V_NULL = 0, /* also: a missing field */
    WIRE_V_BOOL,
    WIRE_V_INT,
    WIRE_V_DOUBLE,
    WIRE_V_STRING,
    WIRE_V_JSON, /* an object or array: raw JSON slice in s */
} wire_value_type;

typedef struct wire_value {
    uint8_t type;    /* wire_value_type */
    uint8_t escaped; /* STRING only: s holds JSON-escaped text (straight from the event) */
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            const char *p;
            size_t n;
        } s;
    };
} wire_value;

typedef struct wire_expr wire_expr;

/*
 * Metadata namespaces: what a source knows of an event beyond its JSON (Kafka's
 * topic, partition, offset, key, timestamp; later a PostgreSQL LSN, a Redis
 * stream id), named in expressions under one reserved top-level name:
 * `_kafka.partition`. The source declares the namespace (wire_source_def.meta)
 * and the engine hands it to every transform's evaluation context; paths below
 * that name are then resolved by `get` from the event's own fields (split,
 * offset, key, time) and never looked for in, nor written into, the JSON. The
 * bare name, a field it does not have, or a path below a field are null. Without
 * a namespace (another source, unit tests) such a path is an ordinary field.
 */
typedef struct wire_meta_ns {
    const char *name;          /* the top-level name: "_kafka" */
    const char *const *fields; /* its field names, NULL-terminated */
    /* Field `fields[field]` of ev as a JSON value in *out (text that must
       outlive the evaluation goes to `a`); false: null (e.g. no key). */
    bool (*get)(const void *self, const wire_event *ev, unsigned field, wire_arena *a,
                wire_json_val *out);
} wire_meta_ns;

/*
 * Per-evaluation context. Set ev/batch for each event; arena is for
 * temporaries (required). Field lookups are cached in the compiled
 * expression (shared by every item of a select list) while ev, ev->data and
 * cache_gen stay the same: callers bump cache_gen per event (the transforms
 * do), and must bump it if an event's bytes change in place.
 *
 * Thread safety: a compiled expression owns that cache and its regexes'
 * match data, so evaluate one compiled expression from one thread at a time
 * (a pipeline runs its transforms on one worker thread).
 */
typedef struct wire_eval_ctx {
    const wire_event *ev;
    const wire_batch *batch;
    wire_arena *arena;
    uint64_t id_seed; /* pipeline seed for event_id() */
    int64_t now_ms;   /* fixed per batch, so now_ms() is stable within one */
    void *cache;      /* internal: field lookups of the current event */
    uint32_t cache_gen;
    const wire_meta_ns *meta; /* the source's metadata namespace, or NULL */
    const void *meta_self;    /* its `get`'s self (the source instance) */
} wire_eval_ctx;

/*
 * Compile `src` (n bytes). On error returns WIRE_EPARSE with err->offset the
 * byte offset in src where the problem is, and a message like
 * "expected ')' after IN list".
 */
int wire_expr_compile(const char *src, size_t n, wire_expr **out, wire_err *err);
void wire_expr_free(wire_expr *e);

/*
 * Evaluate. Errors (e.g. 'abc' * 2) return WIRE_ETYPE with a message. Strings
 * may point into the event (escaped=1), the expression, or ctx->arena.
 */
int wire_expr_eval(const wire_expr *e, wire_eval_ctx *ctx, wire_value *out, wire_err *err);
/* Evaluate as a condition: 1 true, 0 false or NULL, <0 error. */
int wire_expr_eval_bool(const wire_expr *e, wire_eval_ctx *ctx, wire_err *err);

/*
 * Bare field paths (`host`, `a.b[0]`): map copies their JSON byte for byte
 * instead of decoding and re-encoding the value. wire_expr_is_field() says
 * whether `e` is one; wire_expr_field_raw() locates it (through the same
 * per-event cache as evaluation) and returns 1 with *raw set, or 0 if the
 * field is missing.
 */
bool wire_expr_is_field(const wire_expr *e);
int wire_expr_field_raw(const wire_expr *e, wire_eval_ctx *ctx, wire_json_val *raw);

/* Source text of a compiled expression (for messages). */
const char *wire_expr_text(const wire_expr *e);

/*
 * Select lists: "ts, host, msg AS message, latency_ms * 1000 AS latency_us",
 * and `*` for every field of the input. An item without AS takes its name
 * from the last segment of a field path; any other expression needs AS.
 */
typedef struct wire_select_item {
    wire_expr *expr; /* NULL for `*` */
    char *name;      /* output field name; NULL for `*` */
} wire_select_item;

typedef struct wire_select {
    wire_select_item *items;
    size_t n;
    bool star;
} wire_select;

int wire_select_compile(const char *src, size_t n, wire_select **out, wire_err *err);
void wire_select_free(wire_select *s);

/* Write a value as JSON (strings escaped; escaped strings copied as they are). */
void wire_value_write_json(wire_buf *b, const wire_value *v);

#endif
