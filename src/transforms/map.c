/*
 * map.c — the `map` transform: reshapes each event with a select list
 * (`select: "ts, host, msg AS message, latency_ms * 1000 AS latency_us"`,
 * `*` for every input field), then removes top-level fields (`drop`) and
 * renames them (`rename: {old: new}`).
 *
 * Semantics, in order (docs/expressions.md, "map"):
 *   1. select builds the output object: with `*`, the input's fields in their
 *      order, an item whose name matches one of them replacing its value in
 *      place; the other items follow in select order. Without select the
 *      output starts as the input.
 *   2. drop removes the named fields of that object.
 *   3. rename renames fields; a renamed field replaces any other field that
 *      already had the new name.
 * An event that drop/rename leave unchanged (and no select) is not rewritten.
 *
 * The new object is written into an instance buffer (reused across events)
 * and copied into the batch arena; the event is repointed and marked
 * WIRE_EV_MODIFIED. An item that is a bare field path is copied as its raw
 * JSON (numbers keep their text, strings their escapes); computed values are
 * encoded. No malloc per event.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/transforms.h"

typedef struct map_config {
    wire_select *select;
    wire_strlist drop;
    wire_strmap rename;
} map_config;

static const wire_option map_options[] = {
    {"select", WIRE_OPT_SELECT, NULL, 0, offsetof(map_config, select), NULL,
     "Output fields: expressions with AS names, `*` for every input field. Example: "
     "\"ts, host, msg AS message, latency_ms * 1000 AS latency_us\""},
    {"drop", WIRE_OPT_STRLIST, NULL, 0, offsetof(map_config, drop), NULL,
     "Top-level fields to remove (after select)"},
    {"rename", WIRE_OPT_STRMAP, NULL, 0, offsetof(map_config, rename), NULL,
     "Top-level fields to rename, old: new (after select and drop)"},
    {NULL},
};

/* One field of the output being assembled. */
typedef struct map_entry {
    const char *name; /* raw key body (escaped) or plain text */
    uint32_t name_n;
    bool name_escaped;
    bool dropped;
    const char *key_json; /* pre-rendered "name": for plain names, else NULL */
    size_t key_json_n;
    const char *val; /* raw JSON value from the input, or NULL for an item */
    size_t val_n;
    int32_t item;   /* select item index, -1 if none */
    int32_t rename; /* index of the rename applying to it, -1 if none */
} map_entry;

typedef struct map_name {
    char *name;
    size_t n;
    char *key_json; /* "name": */
    size_t key_json_n;
} map_name;

/* What map keeps per select item; val and raw are per event. */
typedef struct map_item {
    map_name name;     /* NULL name for * */
    bool is_field;     /* a bare field path: copied as raw JSON */
    wire_value val;    /* a computed item's value */
    wire_json_val raw; /* a field item's raw JSON */
} map_item;

/* What map keeps per rename. */
typedef struct map_rename {
    map_name target;   /* the new name */
    size_t source_len; /* strlen of the old name */
    bool seen;         /* per event: the old name is there */
} map_rename;

typedef struct map {
    const map_config *cfg;
    const wire_select *sel;
    size_t nitems;
    map_item *items;     /* per select item */
    map_rename *renames; /* per rename */
    size_t *drop_len;    /* per drop */
    map_entry *ent;
    size_t ent_cap;
    wire_buf out;
} map;

static void name_init(map_name *m, const char *s)
{
    wire_buf b;
    wire_buf_init(&b);
    m->name = wire_xstrdup(s);
    m->n = strlen(s);
    wire_json_write_str(&b, s, m->n);
    wire_buf_putc(&b, ':');
    m->key_json = b.p;
    m->key_json_n = b.len;
}

static void name_free(map_name *m)
{
    free(m->name);
    free(m->key_json);
}

static void map_destroy(void *self)
{
    map *m = self;
    if (!m)
        return;
    for (size_t i = 0; i < m->nitems; i++)
        name_free(&m->items[i].name);
    for (size_t i = 0; i < m->cfg->rename.n; i++)
        name_free(&m->renames[i].target);
    free(m->items);
    free(m->renames);
    free(m->drop_len);
    free(m->ent);
    wire_buf_free(&m->out);
    free(m);
}

static int map_create(void **self, const void *config, const wire_component_env *env, wire_err *err)
{
    (void)env;
    const map_config *cfg = config;
    if (!cfg || (!cfg->select && cfg->drop.n == 0 && cfg->rename.n == 0))
        return wire_errf(err, WIRE_EINVAL,
                         "map: set at least one of the options 'select', 'drop' or 'rename'");
    map *m = wire_xcalloc(1, sizeof(*m));
    m->cfg = cfg;
    m->sel = cfg->select;
    m->nitems = m->sel ? m->sel->n : 0;
    m->items = wire_xcalloc(m->nitems + 1, sizeof(*m->items));
    for (size_t i = 0; i < m->nitems; i++) {
        m->items[i].is_field = wire_expr_is_field(m->sel->items[i].expr);
        if (m->sel->items[i].name)
            name_init(&m->items[i].name, m->sel->items[i].name);
    }
    m->renames = wire_xcalloc(cfg->rename.n + 1, sizeof(*m->renames));
    for (size_t i = 0; i < cfg->rename.n; i++) {
        name_init(&m->renames[i].target, cfg->rename.vals[i]);
        m->renames[i].source_len = strlen(cfg->rename.keys[i]);
    }
    m->drop_len = wire_xcalloc(cfg->drop.n + 1, sizeof(*m->drop_len));
    for (size_t i = 0; i < cfg->drop.n; i++)
        m->drop_len[i] = strlen(cfg->drop.v[i]);
    m->ent_cap = 32;
    m->ent = wire_xcalloc(m->ent_cap, sizeof(*m->ent));
    wire_buf_init(&m->out);
    wire_buf_reserve(&m->out, 4096);
    *self = m;
    return 0;
}

static bool name_eq(const map_entry *e, const char *s, size_t n)
{
    if (e->name_escaped)
        return wire_json_str_eq(e->name, e->name_n, s, n);
    return e->name_n == n && memcmp(e->name, s, n) == 0;
}

static map_entry *push_entry(map *m, size_t *n)
{
    if (*n == m->ent_cap) {
        /* grows to the widest event seen, then stays */
        m->ent_cap *= 2;
        m->ent = wire_xrealloc(m->ent, m->ent_cap * sizeof(*m->ent));
    }
    map_entry *e = &m->ent[(*n)++];
    memset(e, 0, sizeof(*e));
    e->item = -1;
    e->rename = -1;
    return e;
}

static void set_item(map *m, map_entry *e, size_t k)
{
    const map_name *nm = &m->items[k].name;
    e->name = nm->name;
    e->name_n = (uint32_t)nm->n;
    e->name_escaped = false;
    e->key_json = nm->key_json;
    e->key_json_n = nm->key_json_n;
    e->val = NULL;
    e->item = (int32_t)k;
}

/* The input's top-level members as entries. */
static size_t input_entries(map *m, const wire_event *ev)
{
    size_t n = 0;
    wire_json_val root, key, val;
    /* the object's slice without scanning it: validated text, trim blanks */
    const char *p = ev->data, *end = ev->data + ev->len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (end - p < 2 || *p != '{')
        return 0;
    root.kind = WIRE_JSON_OBJECT;
    root.p = p;
    root.n = (size_t)(end - p);
    wire_json_iter it;
    wire_json_iter_init(&it, &root);
    while (wire_json_iter_next(&it, &key, &val)) {
        map_entry *e = push_entry(m, &n);
        e->name = key.p + 1;
        e->name_n = (uint32_t)(key.n - 2);
        e->name_escaped = true;
        e->val = val.p;
        e->val_n = val.n;
    }
    return n;
}

/* Which rename (if any) has `e` as its source; -1 if none. */
static int rename_of(const map *m, const map_entry *e)
{
    for (size_t r = 0; r < m->cfg->rename.n; r++)
        if (name_eq(e, m->cfg->rename.keys[r], m->renames[r].source_len))
            return (int)r;
    return -1;
}

/* Steps 2 and 3 (drop, rename). Returns true if anything changed. */
static bool drop_and_rename(map *m, size_t n)
{
    const map_config *cfg = m->cfg;
    bool changed = false;
    for (size_t d = 0; d < cfg->drop.n; d++) {
        for (size_t i = 0; i < n; i++) {
            if (!m->ent[i].dropped && name_eq(&m->ent[i], cfg->drop.v[d], m->drop_len[d])) {
                m->ent[i].dropped = true;
                changed = true;
            }
        }
    }
    if (cfg->rename.n == 0)
        return changed;
    /* decide every rename before applying any, so a swap a->b, b->a works */
    bool any = false;
    for (size_t r = 0; r < cfg->rename.n; r++)
        m->renames[r].seen = false;
    for (size_t i = 0; i < n; i++) {
        map_entry *e = &m->ent[i];
        e->rename = e->dropped ? -1 : rename_of(m, e);
        if (e->rename >= 0) {
            m->renames[e->rename].seen = true;
            any = true;
        }
    }
    if (!any)
        return changed;
    for (size_t i = 0; i < n; i++) {
        map_entry *e = &m->ent[i];
        if (e->dropped)
            continue;
        if (e->rename >= 0) {
            const map_name *t = &m->renames[e->rename].target;
            e->name = t->name;
            e->name_n = (uint32_t)t->n;
            e->name_escaped = false;
            e->key_json = t->key_json;
            e->key_json_n = t->key_json_n;
            continue;
        }
        /* a field already carrying a new name loses to the renamed one */
        for (size_t r = 0; r < cfg->rename.n; r++) {
            if (m->renames[r].seen &&
                name_eq(e, m->renames[r].target.name, m->renames[r].target.n)) {
                e->dropped = true;
                break;
            }
        }
    }
    return true;
}

/* Append without the function call when the room is there (the common case). */
static inline void put(wire_buf *o, const void *p, size_t n)
{
    if (WIRE_UNLIKELY(o->cap - o->len < n + 1))
        wire_buf_reserve(o, n);
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void write_entries(map *m, size_t n)
{
    wire_buf *o = &m->out;
    wire_buf_reset(o);
    put(o, "{", 1);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const map_entry *e = &m->ent[i];
        if (e->dropped)
            continue;
        if (!first)
            put(o, ",", 1);
        first = false;
        if (e->key_json) {
            put(o, e->key_json, e->key_json_n);
        } else {
            put(o, "\"", 1);
            put(o, e->name, e->name_n);
            put(o, "\":", 2);
        }
        if (e->item >= 0 && m->items[e->item].is_field)
            put(o, m->items[e->item].raw.p, m->items[e->item].raw.n);
        else if (e->item >= 0)
            wire_value_write_json(o, &m->items[e->item].val);
        else
            put(o, e->val, e->val_n);
    }
    put(o, "}", 1);
    o->p[o->len] = '\0';
}

/* 1 rewritten, 0 unchanged, <0 evaluation error (err set). */
static int map_event(map *m, wire_eval_ctx *ec, wire_event *ev, wire_batch *b, wire_err *err,
                     size_t *bad_item)
{
    size_t n = 0;
    if (m->sel) {
        for (size_t k = 0; k < m->nitems; k++) {
            const wire_select_item *it = &m->sel->items[k];
            if (!it->expr)
                continue;
            if (m->items[k].is_field) {
                /* copied byte for byte: no decoding, numbers keep their text */
                if (!wire_expr_field_raw(it->expr, ec, &m->items[k].raw)) {
                    m->items[k].raw.p = "null";
                    m->items[k].raw.n = 4;
                }
                continue;
            }
            int rc = wire_expr_eval(it->expr, ec, &m->items[k].val, err);
            if (rc < 0) {
                *bad_item = k;
                return rc;
            }
        }
        if (m->sel->star)
            n = input_entries(m, ev);
        size_t ninput = n;
        for (size_t k = 0; k < m->nitems; k++) {
            if (!m->sel->items[k].expr)
                continue;
            map_entry *e = NULL;
            for (size_t i = 0; i < ninput; i++) {
                if (m->ent[i].item < 0 &&
                    name_eq(&m->ent[i], m->items[k].name.name, m->items[k].name.n)) {
                    e = &m->ent[i];
                    break;
                }
            }
            if (!e)
                e = push_entry(m, &n);
            set_item(m, e, k);
        }
        drop_and_rename(m, n);
    } else {
        n = input_entries(m, ev);
        if (!drop_and_rename(m, n))
            return 0;
    }
    write_entries(m, n);
    char *p = wire_arena_alloc_unaligned(&b->arena, m->out.len);
    memcpy(p, m->out.p, m->out.len);
    ev->data = p;
    ev->len = (uint32_t)m->out.len;
    ev->flags |= WIRE_EV_MODIFIED;
    return 1;
}

/* Every event is kept, rewritten or not; an evaluation error names its item. */
static int map_step(void *self, wire_eval_ctx *ec, wire_event *ev, wire_batch *b, char *msg,
                    size_t msg_size)
{
    map *m = self;
    wire_err err;
    size_t bad = 0;
    int r = map_event(m, ec, ev, b, &err, &bad);
    if (r >= 0)
        return 1;
    snprintf(msg, msg_size, "map: select item '%.80s': %s", wire_expr_text(m->sel->items[bad].expr),
             err.msg);
    return r;
}

static int map_process(void *self, wire_batch *b, wire_transform_ctx *ctx)
{
    map *m = self;
    int rc = wire_transform_each(ctx, b, map_step, m);
    /* a one-off huge event should not pin its buffer for the pipeline's life */
    if (m->out.cap > (1u << 20)) {
        wire_buf_free(&m->out);
        wire_buf_reserve(&m->out, 4096);
    }
    return rc;
}

const wire_transform_def wire_transform_map = {
    .base = {WIRE_KIND_TRANSFORM, "map",
             "reshape events: select expressions, drop and rename fields", map_options,
             sizeof(map_config), 0, map_create, map_destroy},
    .process = map_process,
};
