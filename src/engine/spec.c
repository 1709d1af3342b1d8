/*
 * spec.c — the pipeline file: from a config tree to a wire_pipeline_spec.
 *
 * Owns the top-level schema (name, source, transforms, sink | sinks,
 * delivery, checkpoint, dlq, shutdown_timeout, buffer), the component schema
 * ({type, name?, config}; on_error for transforms and sinks, retry for
 * sinks and the dlq), binding type names to
 * definitions through the registry, and the checks that span components
 * (exactly-once needs a replayable source, every sink exactly-once and at
 * most one sink owning the positions; on_error: dlq needs a dlq;
 * component names are unique), and the limits of wire_spec_limits
 * (--max-pipeline-bytes, --max-transforms). Every problem is collected, not
 * only the first, so `wire validate` can list them all; all of it is linear
 * in the document's size. docs/configuration.md
 * describes the format this file accepts.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/sandbox.h"
#include "engine/engine.h"

/* Engine tuning defaults (docs/configuration.md). */
#define SPEC_DEFAULT_QUEUE_BYTES "8MB"
#define SPEC_DEFAULT_BATCH_EVENTS "4096"
#define SPEC_MAX_BATCH_EVENTS 1000000
#define SPEC_MIN_QUEUE_BYTES 4096

typedef enum { KIND_SOURCE, KIND_TRANSFORM, KIND_SINK, KIND_DLQ } comp_kind;

static const char *const kind_names[] = {"source", "transform", "sink", "dlq"};

typedef struct spec_ctx {
    const wire_registry *r;
    wire_diags *d;
    wire_pipeline_spec *s;
    const wire_cfg *dlq_node; /* the top-level dlq, if any */
    int64_t max_transforms;   /* 0: no limit */
} spec_ctx;

static void diag_at(spec_ctx *x, const wire_cfg *n, const char *fmt, ...) WIRE_PRINTF(3, 4);
static void diag_at(spec_ctx *x, const wire_cfg *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wire_diags_vadd(x->d, n->file, n->line, n->col, fmt, ap);
    va_end(ap);
}

static const char *kind_of(const wire_cfg *n)
{
    switch (n->kind) {
    case WIRE_CFG_MAP: return "a map";
    case WIRE_CFG_SEQ: return "a list";
    case WIRE_CFG_NULL: return "nothing";
    default: return "a value";
    }
}

static bool key_is(const wire_cfg *k, const char *s)
{
    return k->len == strlen(s) && memcmp(k->str, s, k->len) == 0;
}

/*
 * Sort a map's pairs by key name: vals[i] (and keys[i], if keys) is the value
 * (key) of names[i], NULL when absent, the last one when repeated. Every
 * other key goes to stray, up to max of them. Returns how many strays.
 */
static size_t pick_keys(const wire_cfg *map, const char *const *names, size_t n,
                        const wire_cfg **vals, const wire_cfg **keys, const wire_cfg **stray,
                        size_t max)
{
    size_t nstray = 0;
    for (size_t i = 0; i < n; i++) {
        vals[i] = NULL;
        if (keys)
            keys[i] = NULL;
    }
    for (size_t p = 0; p < map->npairs; p++) {
        const wire_cfg *k = map->pairs[p].key;
        size_t i = 0;
        while (i < n && !key_is(k, names[i]))
            i++;
        if (i < n) {
            vals[i] = map->pairs[p].val;
            if (keys)
                keys[i] = k;
        } else if (nstray < max) {
            stray[nstray++] = k;
        }
    }
    return nstray;
}

/* The value picked for `name`, or NULL (also when `name` is not one of names). */
static const wire_cfg *picked(const char *const *names, size_t n, const wire_cfg *const *vals,
                              const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return vals[i];
    return NULL;
}

/* "unknown key 'x' (did you mean 'y'?)" or "(keys are: ...)". */
static void unknown_key(spec_ctx *x, const char *where, const wire_cfg *k, const char *const *keys,
                        size_t n)
{
    const char *sug = wire_cfg_suggest(k->str, keys, n);
    if (sug) {
        diag_at(x, k, "%s%sunknown key '%s' (did you mean '%s'?)", where, *where ? ": " : "",
                k->str, sug);
        return;
    }
    wire_buf b;
    wire_buf_init(&b);
    for (size_t i = 0; i < n; i++)
        wire_buf_printf(&b, "%s%s", i ? ", " : "", keys[i]);
    diag_at(x, k, "%s%sunknown key '%s' (keys are: %s)", where, *where ? ": " : "", k->str, b.p);
    wire_buf_free(&b);
}

static bool valid_name(const char *s, size_t n, bool upper_ok)
{
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (upper_ok && c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

/* The registry kind a component is looked up as (a dlq is a sink). */
static wire_kind registry_kind(comp_kind kind)
{
    return kind == KIND_SOURCE      ? WIRE_KIND_SOURCE
           : kind == KIND_TRANSFORM ? WIRE_KIND_TRANSFORM
                                    : WIRE_KIND_SINK;
}

/* The type names of one kind, as an array (caller frees) and as "a, b, c". */
static size_t known_types(const spec_ctx *x, comp_kind kind, const char ***out, wire_buf *list)
{
    size_t n = 0;
    const char **v = NULL;
    const wire_component_def *c;
    for (size_t i = 0; (c = wire_registry_next(x->r, registry_kind(kind), &i)) != NULL;) {
        v = wire_xrealloc(v, (n + 1) * sizeof(char *));
        v[n++] = c->type;
        wire_buf_printf(list, "%s%s", n > 1 ? ", " : "", c->type);
    }
    *out = v;
    return n;
}

/* wire_component.def points at a kind definition, which starts with its base. */
static const wire_component_def *base_of(const wire_component *c)
{
    return c->def;
}

static void component_free(wire_component *c)
{
    if (c->config) {
        wire_options_free(base_of(c)->options, c->config);
        free(c->config);
    }
    free(c->type);
    free(c->name);
    memset(c, 0, sizeof(*c));
}

/* A sink's retry policy: the same option-table parser, so the same messages. */
static const wire_option retry_options[] = {
    {"initial", WIRE_OPT_DURATION, "100ms", 0, offsetof(wire_retry_policy, initial_ms), NULL,
     "First backoff; each retry doubles the ceiling, and the wait is random below it (full "
     "jitter)."},
    {"max", WIRE_OPT_DURATION, "30s", 0, offsetof(wire_retry_policy, max_ms), NULL,
     "Ceiling of the backoff."},
    {"max_attempts", WIRE_OPT_INT, "0", WIRE_OPT_SIGNED, offsetof(wire_retry_policy, max_attempts),
     NULL, "Give up after this many failed attempts; 0 = no limit."},
    {"max_elapsed", WIRE_OPT_DURATION, "0s", 0, offsetof(wire_retry_policy, max_elapsed_ms), NULL,
     "Give up this long after the first failure; 0 = no limit."},
    {0},
};

static bool parse_retry(spec_ctx *x, const wire_cfg *n, const char *what, wire_retry_policy *out)
{
    char w[240];
    snprintf(w, sizeof(w), "%s: retry", what);
    size_t before = x->d->n;
    wire_options_parse(retry_options, n, out, w, x->d);
    if (x->d->n > before)
        return false;
    const wire_cfg *ini = wire_cfg_get(n, "initial"), *max = wire_cfg_get(n, "max"),
                   *att = wire_cfg_get(n, "max_attempts");
    if (ini && out->initial_ms < 1) {
        diag_at(x, ini, "%s: option 'initial' must be at least 1ms", w);
        return false;
    }
    if (out->max_ms < out->initial_ms) {
        diag_at(x,
                max   ? max
                : ini ? ini
                      : n,
                "%s: option 'max' must not be less than 'initial'", w);
        return false;
    }
    if (att && out->max_attempts < 0) {
        diag_at(x, att, "%s: option 'max_attempts' must be 0 (no limit) or more", w);
        return false;
    }
    return true;
}

/*
 * Parse one component. `path` is where it sits ("source", "transforms[0]",
 * "sinks[1]", "sink", "dlq"); it is the derived name and appears in
 * messages for list items. Returns true if the component is usable.
 */
static bool parse_component(spec_ctx *x, comp_kind kind, const wire_cfg *n, const char *path,
                            bool in_list, wire_component *out)
{
    const char *kn = kind_names[kind];
    char where[160]; /* prefix of messages before the type is known */
    if (in_list)
        snprintf(where, sizeof(where), "%s", path);
    else
        snprintf(where, sizeof(where), "%s", kn);
    out->line = n->line;
    out->col = n->col;
    /* Transforms drop a failed event by default (counted); a sink's failures
       go to the dlq if there is one, else stop the pipeline: nothing a sink
       refuses is lost silently unless the file says so. */
    out->on_error = kind != KIND_SINK ? WIRE_ON_ERROR_DROP
                    : x->dlq_node     ? WIRE_ON_ERROR_DLQ
                                      : WIRE_ON_ERROR_FAIL;
    if (n->kind != WIRE_CFG_MAP) {
        diag_at(x, n, "%s must be a map with 'type' and 'config', got %s", where, kind_of(n));
        return false;
    }
    static const char *const keys_source[] = {"type", "name", "config", "event_time"};
    static const char *const keys_transform[] = {"type", "name", "config", "on_error"};
    static const char *const keys_sink[] = {"type", "name", "config", "on_error", "retry"};
    static const char *const keys_dlq[] = {"type", "name", "config", "retry"};
    const char *const *keys_t = kind == KIND_SOURCE      ? keys_source
                                : kind == KIND_TRANSFORM ? keys_transform
                                : kind == KIND_SINK      ? keys_sink
                                                         : keys_dlq;
    size_t nkeys = kind == KIND_SINK ? 5 : 4;
    wire_retry_policy_default(&out->retry);
    /* Options written next to type instead of under config: a common slip. */
    const wire_cfg *vals[5], *stray[64];
    size_t nstray = pick_keys(n, keys_t, nkeys, vals, NULL, stray, WIRE_ARRAY_LEN(stray));
    const wire_cfg *type = vals[0], *name = vals[1], *config = vals[2],
                   *on_error = picked(keys_t, nkeys, vals, "on_error"),
                   *retry = picked(keys_t, nkeys, vals, "retry");

    bool ok = true;
    const wire_component_def *def = NULL;
    char what[200];
    snprintf(what, sizeof(what), "%s", where);
    if (!type || type->kind == WIRE_CFG_NULL) {
        diag_at(x, type ? type : n, "%s: missing required key 'type'", where);
        ok = false;
    } else if (type->kind != WIRE_CFG_SCALAR) {
        diag_at(x, type, "%s: 'type' must be a type name, got %s", where, kind_of(type));
        ok = false;
    } else {
        out->type = wire_xstrndup(type->str, type->len);
        def = wire_registry_find(x->r, registry_kind(kind), out->type);
        const char *kt = kind == KIND_DLQ ? "sink" : kn;
        if (!def) {
            const char **names;
            wire_buf list;
            wire_buf_init(&list);
            size_t nn = known_types(x, kind, &names, &list);
            const char *sug = wire_cfg_suggest(out->type, names, nn);
            if (sug)
                diag_at(x, type, "unknown %s type '%s' (did you mean '%s'? %s types: %s)", kt,
                        out->type, sug, kt, list.p ? list.p : "none");
            else
                diag_at(x, type, "unknown %s type '%s' (%s types: %s)", kt, out->type, kt,
                        list.p ? list.p : "none");
            free(names);
            wire_buf_free(&list);
            ok = false;
        } else if (in_list) {
            snprintf(what, sizeof(what), "%s '%s' (%s)", kt, out->type, path);
        } else {
            snprintf(what, sizeof(what), "%s '%s'", kn, out->type);
        }
    }
    out->def = def;

    for (size_t i = 0; i < nstray; i++) {
        const wire_cfg *k = stray[i];
        const wire_option *opts = def ? def->options : NULL;
        bool is_option = false;
        for (const wire_option *o = opts; o && o->name; o++)
            if (key_is(k, o->name))
                is_option = true;
        if (is_option)
            diag_at(x, k, "%s: unknown key '%s': options go under 'config:'", what, k->str);
        else
            unknown_key(x, what, k, keys_t, nkeys);
    }
    if (nstray)
        ok = false;

    if (name && name->kind != WIRE_CFG_NULL) {
        if (name->kind != WIRE_CFG_SCALAR || !valid_name(name->str, name->len, true)) {
            diag_at(x, name, "%s: name must match [A-Za-z0-9_-]{1,64}", what);
            ok = false;
            out->name = wire_xstrdup(path);
        } else {
            out->name = wire_xstrndup(name->str, name->len);
        }
    } else {
        out->name = wire_xstrdup(path);
    }

    if (on_error && on_error->kind != WIRE_CFG_NULL) {
        if (on_error->kind == WIRE_CFG_SCALAR && key_is(on_error, "drop"))
            out->on_error = WIRE_ON_ERROR_DROP;
        else if (on_error->kind == WIRE_CFG_SCALAR &&
                 (key_is(on_error, "fail") || key_is(on_error, "stop")))
            out->on_error = WIRE_ON_ERROR_FAIL;
        else if (on_error->kind == WIRE_CFG_SCALAR && key_is(on_error, "dlq")) {
            out->on_error = WIRE_ON_ERROR_DLQ;
            if (!x->dlq_node) {
                diag_at(x, on_error,
                        "%s: on_error: dlq needs a dead-letter sink: add a top-level 'dlq:'", what);
                ok = false;
            }
        } else {
            diag_at(x, on_error,
                    "%s: on_error must be one of drop, fail (or stop), dlq, got %s%.*s%s", what,
                    on_error->kind == WIRE_CFG_SCALAR ? "'" : "",
                    on_error->kind == WIRE_CFG_SCALAR ? (int)on_error->len : 0,
                    on_error->kind == WIRE_CFG_SCALAR ? on_error->str : "",
                    on_error->kind == WIRE_CFG_SCALAR ? "'" : kind_of(on_error));
            ok = false;
        }
    }

    if (retry && !parse_retry(x, retry, what, &out->retry))
        ok = false;

    if (def) {
        size_t sz = def->config_size;
        out->config = wire_xcalloc(1, sz ? sz : 1);
        /* No config: missing options are reported at the component. */
        wire_cfg empty = {0};
        empty.kind = WIRE_CFG_MAP;
        empty.file = n->file;
        empty.line = n->line;
        empty.col = n->col;
        const wire_cfg *cfg = config && config->kind != WIRE_CFG_NULL ? config : &empty;
        if (config && config->kind == WIRE_CFG_NULL) {
            empty.line = config->line;
            empty.col = config->col;
        }
        if (wire_options_parse(def->options, cfg, out->config, what, x->d) != 0)
            ok = false;
    }
    return ok;
}

/* Small option tables for the top-level maps: same parser, same messages. */
typedef struct checkpoint_cfg {
    int64_t interval_ms;
    bool enabled;
} checkpoint_cfg;

static const wire_option event_time_options[] = {
    {"field", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(wire_event_time_spec, field), NULL,
     "The event time: a field (a.b for a nested one) holding ms since the epoch or an "
     "RFC 3339 string; an event without a valid one goes to the DLQ."},
    {"watermark_delay", WIRE_OPT_DURATION, "0s", 0, offsetof(wire_event_time_spec, delay_ms), NULL,
     "How far behind the largest event time seen on a split its watermark stays."},
    {"idle_after", WIRE_OPT_DURATION, "0s", 0, offsetof(wire_event_time_spec, idle_ms), NULL,
     "A split silent this long stops holding the watermark back; 0: never idle."},
    {0},
};

static const wire_option checkpoint_options[] = {
    {"interval", WIRE_OPT_DURATION, "1s", 0, offsetof(checkpoint_cfg, interval_ms), NULL,
     "How often committed source positions are written to the checkpoint store."},
    {"enabled", WIRE_OPT_BOOL, "true", 0, offsetof(checkpoint_cfg, enabled), NULL,
     "false: no checkpoints at all (a restart starts over); for benchmarks and throwaway "
     "pipelines. Not with delivery: exactly-once."},
    {0},
};

typedef struct buffer_cfg {
    int64_t max_bytes;
    int64_t batch_events;
} buffer_cfg;

static const wire_option buffer_options[] = {
    {"max_bytes", WIRE_OPT_SIZE, SPEC_DEFAULT_QUEUE_BYTES, 0, offsetof(buffer_cfg, max_bytes), NULL,
     "Byte budget of each queue between stages; when full, the stage upstream waits."},
    {"batch_events", WIRE_OPT_INT, SPEC_DEFAULT_BATCH_EVENTS, 0, offsetof(buffer_cfg, batch_events),
     NULL, "Most events a source puts in one batch."},
    {0},
};

typedef struct placement_cfg {
    char *node;
} placement_cfg;

static const wire_option placement_options[] = {
    {"node", WIRE_OPT_STRING, NULL, 0, offsetof(placement_cfg, node), NULL,
     "Cluster: run this pipeline on the node with this id (it waits, pending, while that node "
     "is down). Without it the leader picks the least loaded live node. `wire run` ignores it."},
    {0},
};

#define SPEC_MAX_PARALLELISM 256

/* The types of `kind` declaring any of `caps`, "a, b" into out ("none" if there is none). */
static void types_with(const wire_registry *r, wire_kind kind, unsigned caps, wire_buf *out)
{
    const wire_component_def *c;
    size_t start = out->len;
    for (size_t i = 0; (c = wire_registry_next(r, kind, &i)) != NULL;)
        if (c->caps & caps)
            wire_buf_printf(out, "%s%s", out->len > start ? ", " : "", c->type);
    if (out->len == start)
        wire_buf_printf(out, "none");
}

/*
 * `delivery: exactly-once` needs (docs/guarantees.md): a source that can
 * replay from a checkpointed position (after a crash the sinks go back to
 * the checkpoint, and the source must hand over again everything after it);
 * every sink exactly-once by a resumable two-phase commit or by owning the
 * source positions; and at most one sink owning the positions (two would each
 * override the checkpoint with their own). A sink that is only idempotent is
 * refused too, pointing at at-least-once, where its replays already overwrite
 * ("effectively once"), rather than promising more than it does.
 */
static void check_exactly_once(spec_ctx *x, const wire_cfg *root, const wire_pipeline_spec *s,
                               bool list)
{
    const wire_component_def *src = base_of(&s->source);
    if (src && !(src->caps & WIRE_CAP_REPLAYABLE)) {
        wire_buf can;
        wire_buf_init(&can);
        types_with(x->r, WIRE_KIND_SOURCE, WIRE_CAP_REPLAYABLE, &can);
        wire_diags_add(x->d, root->file, s->source.line, s->source.col,
                       "source '%s' cannot honour exactly-once delivery: it cannot replay from a "
                       "checkpointed position, so after a crash what it handed over since the "
                       "last checkpoint cannot be read again (source types that can: %s; or use "
                       "delivery: at-least-once)",
                       src->type, can.p);
        wire_buf_free(&can);
    }
    wire_buf capable;
    wire_buf_init(&capable);
    types_with(x->r, WIRE_KIND_SINK, WIRE_CAP_EXACTLY_ONCE, &capable);
    const wire_component *owner = NULL;
    size_t owner_i = 0;
    for (size_t i = 0; i < s->nsinks; i++) {
        const wire_component *c = &s->sinks[i];
        const wire_component_def *sd = base_of(c);
        if (!sd)
            continue;
        char label[64] = "";
        if (list)
            snprintf(label, sizeof(label), " (sinks[%zu])", i);
        if ((sd->caps & WIRE_CAP_EO_POSITIONS) && !owner) {
            owner = c;
            owner_i = i;
        }
        if (sd->caps & WIRE_CAP_EXACTLY_ONCE)
            continue;
        if (sd->caps & WIRE_CAP_IDEMPOTENT)
            wire_diags_add(x->d, root->file, c->line, c->col,
                           "sink '%s'%s cannot honour exactly-once delivery: its writes are "
                           "idempotent (keyed by the event id), not transactional; use delivery: "
                           "at-least-once, where a replay overwrites instead of duplicating "
                           "(effectively once; sink types that are exactly-once: %s)",
                           sd->type, label, capable.p);
        else
            wire_diags_add(x->d, root->file, c->line, c->col,
                           "sink '%s'%s cannot honour exactly-once delivery: it commits neither "
                           "in two phases nor with the source positions, so a replay after a "
                           "crash would write twice (sink types that can: %s)",
                           sd->type, label, capable.p);
    }
    /* The owner's positions override the checkpoint on start: any other sink, restored
       to that older checkpoint, would lose what lies between. */
    if (owner && s->nsinks > 1) {
        char label[64] = "";
        if (list)
            snprintf(label, sizeof(label), " (sinks[%zu])", owner_i);
        wire_diags_add(x->d, root->file, owner->line, owner->col,
                       "sink '%s'%s commits the source positions itself for exactly-once "
                       "delivery, so it must be the pipeline's only sink (its positions "
                       "override the checkpoint on start, which any other sink would be "
                       "restored to)",
                       base_of(owner)->type, label);
    }
    wire_buf_free(&capable);
}

static const char *const top_keys[] = {
    "name",       "source", "transforms",       "sink",   "sinks",     "delivery",
    "checkpoint", "dlq",    "shutdown_timeout", "buffer", "placement", "parallelism",
};

/* Component positions ordered by name, then by position (qsort_r's context: the components). */
static int cmp_named(const void *pa, const void *pb, void *arg)
{
    const wire_component *const *all = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = strcmp(all[a]->name, all[b]->name);
    return c ? c : (a < b ? -1 : a > b);
}

/*
 * Every component name once, sorted, so a document with many transforms
 * validates in n log n (the pairwise loop took 4 s for 30,000). A repeat is
 * reported at its own position, pointing at the first use, in document order.
 */
static void check_unique_names(spec_ctx *x, const wire_cfg *root)
{
    wire_pipeline_spec *s = x->s;
    size_t total = 1 + s->ntransforms + s->nsinks + (s->dlq.type ? 1 : 0);
    const wire_component **all = wire_xmalloc(total * sizeof(*all));
    size_t *order = wire_xmalloc(total * sizeof(*order));
    size_t *first = wire_xmalloc(total * sizeof(*first));
    size_t n = 0, k = 0;
    all[n++] = &s->source;
    for (size_t i = 0; i < s->ntransforms; i++)
        all[n++] = &s->transforms[i];
    for (size_t i = 0; i < s->nsinks; i++)
        all[n++] = &s->sinks[i];
    if (s->dlq.type)
        all[n++] = &s->dlq;
    for (size_t i = 0; i < n; i++) {
        first[i] = i;
        if (all[i]->name)
            order[k++] = i;
    }
    qsort_r(order, k, sizeof(*order), cmp_named, all);
    for (size_t i = 1; i < k; i++)
        if (strcmp(all[order[i]]->name, all[order[i - 1]]->name) == 0)
            first[order[i]] = first[order[i - 1]];
    for (size_t i = 0; i < n; i++)
        if (first[i] != i)
            wire_diags_add(x->d, root->file, all[i]->line, all[i]->col,
                           "duplicate component name '%s' (also used at line %d, column %d)",
                           all[i]->name, all[first[i]]->line, all[first[i]]->col);
    free(first);
    free(order);
    free(all);
}

static void parse_spec(spec_ctx *x, const wire_cfg *root)
{
    wire_pipeline_spec *s = x->s;
    if (root->kind == WIRE_CFG_NULL) {
        diag_at(x, root, "empty pipeline: expected a map with name, source and sink");
        return;
    }
    if (root->kind != WIRE_CFG_MAP) {
        diag_at(x, root, "a pipeline must be a map with name, source and sink, got %s",
                kind_of(root));
        return;
    }
    enum {
        K_NAME,
        K_SOURCE,
        K_TRANSFORMS,
        K_SINK,
        K_SINKS,
        K_DELIVERY,
        K_CHECKPOINT,
        K_DLQ,
        K_SHUTDOWN,
        K_BUFFER,
        K_PLACEMENT,
        K_PARALLELISM,
        K_COUNT
    };
    _Static_assert(WIRE_ARRAY_LEN(top_keys) == K_COUNT, "one value per top-level key");
    const wire_cfg *v[K_COUNT], *keys[K_COUNT];
    const wire_cfg **stray = wire_xcalloc(root->npairs + 1, sizeof(*stray));
    size_t nstray = pick_keys(root, top_keys, K_COUNT, v, keys, stray, root->npairs);
    for (size_t i = 0; i < nstray; i++)
        unknown_key(x, "", stray[i], top_keys, K_COUNT);
    free(stray);
    const wire_cfg *name = v[K_NAME], *source = v[K_SOURCE], *transforms = v[K_TRANSFORMS],
                   *sink = v[K_SINK], *sinks = v[K_SINKS], *delivery = v[K_DELIVERY],
                   *checkpoint = v[K_CHECKPOINT], *dlq = v[K_DLQ], *shutdown = v[K_SHUTDOWN],
                   *buffer = v[K_BUFFER], *placement = v[K_PLACEMENT],
                   *parallelism = v[K_PARALLELISM];
    const wire_cfg *sink_key = keys[K_SINK], *sinks_key = keys[K_SINKS];
    x->dlq_node = dlq && dlq->kind != WIRE_CFG_NULL ? dlq : NULL;

    /* name */
    if (!name || name->kind == WIRE_CFG_NULL) {
        diag_at(x, name ? name : root, "missing required key 'name'");
    } else if (name->kind != WIRE_CFG_SCALAR || !valid_name(name->str, name->len, false)) {
        char shown[80];
        snprintf(shown, sizeof(shown), "%.*s", name->kind == WIRE_CFG_SCALAR ? 64 : 0,
                 name->kind == WIRE_CFG_SCALAR ? name->str : "");
        if (name->kind == WIRE_CFG_SCALAR)
            diag_at(x, name, "pipeline name '%s' must match [a-z0-9_-]{1,64}", shown);
        else
            diag_at(x, name, "pipeline name must match [a-z0-9_-]{1,64}, got %s", kind_of(name));
    } else {
        s->name = wire_xstrndup(name->str, name->len);
    }

    /* source */
    if (!source || source->kind == WIRE_CFG_NULL)
        diag_at(x, source ? source : root, "missing required key 'source'");
    else
        parse_component(x, KIND_SOURCE, source, "source", false, &s->source);
    const wire_cfg *et =
        source && source->kind == WIRE_CFG_MAP ? wire_cfg_get(source, "event_time") : NULL;
    if (et && et->kind != WIRE_CFG_NULL)
        wire_options_parse(event_time_options, et, &s->event_time, "source: event_time", x->d);

    /* dlq first: transforms' on_error: dlq refers to it */
    if (x->dlq_node)
        parse_component(x, KIND_DLQ, dlq, "dlq", false, &s->dlq);

    /* transforms: every one is parsed even past the limit, so all problems show */
    if (transforms && transforms->kind == WIRE_CFG_SEQ && x->max_transforms > 0 &&
        transforms->nitems > (size_t)x->max_transforms)
        diag_at(x, keys[K_TRANSFORMS],
                "%zu transforms; a pipeline has at most %lld (--max-transforms)",
                transforms->nitems, (long long)x->max_transforms);
    if (transforms && transforms->kind == WIRE_CFG_SEQ) {
        s->transforms =
            wire_xcalloc(transforms->nitems ? transforms->nitems : 1, sizeof(wire_component));
        s->ntransforms = transforms->nitems;
        for (size_t i = 0; i < transforms->nitems; i++) {
            char path[48];
            snprintf(path, sizeof(path), "transforms[%zu]", i);
            parse_component(x, KIND_TRANSFORM, transforms->items[i], path, true, &s->transforms[i]);
        }
    } else if (transforms && transforms->kind != WIRE_CFG_NULL) {
        diag_at(x, transforms, "transforms must be a list of components, got %s",
                kind_of(transforms));
    }

    /* sink | sinks */
    if (sink && sinks) {
        diag_at(x, sinks_key->line > sink_key->line ? sinks_key : sink_key,
                "use either 'sink' or 'sinks', not both");
    } else if (sink && sink->kind != WIRE_CFG_NULL) {
        s->sinks = wire_xcalloc(1, sizeof(wire_component));
        s->nsinks = 1;
        parse_component(x, KIND_SINK, sink, "sink", false, &s->sinks[0]);
    } else if (sinks && sinks->kind == WIRE_CFG_SEQ && sinks->nitems > 0) {
        s->sinks = wire_xcalloc(sinks->nitems, sizeof(wire_component));
        s->nsinks = sinks->nitems;
        for (size_t i = 0; i < sinks->nitems; i++) {
            char path[48];
            snprintf(path, sizeof(path), "sinks[%zu]", i);
            parse_component(x, KIND_SINK, sinks->items[i], path, true, &s->sinks[i]);
        }
    } else if (sinks && sinks->kind == WIRE_CFG_SEQ) {
        diag_at(x, sinks, "sinks must be a non-empty list of components");
    } else if (sinks) {
        diag_at(x, sinks, "sinks must be a list of components, got %s", kind_of(sinks));
    } else {
        diag_at(x, sink ? sink : root, "missing required key 'sink' (or 'sinks' with a list)");
    }

    /* delivery */
    s->delivery = WIRE_DELIVERY_AT_LEAST_ONCE;
    if (delivery && delivery->kind != WIRE_CFG_NULL) {
        if (delivery->kind == WIRE_CFG_SCALAR && key_is(delivery, "at-least-once")) {
            s->delivery = WIRE_DELIVERY_AT_LEAST_ONCE;
        } else if (delivery->kind == WIRE_CFG_SCALAR && key_is(delivery, "exactly-once")) {
            s->delivery = WIRE_DELIVERY_EXACTLY_ONCE;
        } else if (delivery->kind == WIRE_CFG_SCALAR) {
            diag_at(x, delivery, "delivery must be one of at-least-once, exactly-once, got '%.*s'",
                    (int)(delivery->len > 40 ? 40 : delivery->len), delivery->str);
        } else {
            diag_at(x, delivery, "delivery must be one of at-least-once, exactly-once, got %s",
                    kind_of(delivery));
        }
    }
    if (s->delivery == WIRE_DELIVERY_EXACTLY_ONCE)
        check_exactly_once(x, root, s, sinks != NULL);

    /* checkpoint */
    checkpoint_cfg cp = {0};
    wire_options_parse(checkpoint_options, checkpoint, &cp, "checkpoint", x->d);
    const wire_cfg *iv = wire_cfg_get(checkpoint, "interval");
    if (cp.interval_ms <= 0 && iv && iv->kind == WIRE_CFG_SCALAR)
        diag_at(x, iv, "checkpoint: option 'interval' must be at least 1ms");
    s->checkpoint_interval_ms = cp.interval_ms > 0 ? cp.interval_ms : 1000;
    if (!cp.enabled) {
        s->checkpoint_interval_ms = 0; /* the runner gets no checkpoint store */
        if (s->delivery == WIRE_DELIVERY_EXACTLY_ONCE)
            diag_at(x, wire_cfg_get(checkpoint, "enabled"),
                    "checkpoint: exactly-once needs checkpoints (enabled: false is not allowed "
                    "with delivery: exactly-once)");
    }

    /* shutdown_timeout */
    s->shutdown_timeout_ms = 10000;
    if (shutdown && shutdown->kind != WIRE_CFG_NULL) {
        int64_t ms;
        if (shutdown->kind != WIRE_CFG_SCALAR || strlen(shutdown->str) != shutdown->len ||
            wire_parse_duration_ms(shutdown->str, &ms) != 0) {
            if (shutdown->kind == WIRE_CFG_SCALAR)
                diag_at(x, shutdown,
                        "shutdown_timeout expects a duration like 500ms, 10s, 2m or 1h, got "
                        "'%.*s'",
                        (int)(shutdown->len > 40 ? 40 : shutdown->len), shutdown->str);
            else
                diag_at(x, shutdown,
                        "shutdown_timeout expects a duration like 500ms, 10s, 2m or 1h, got %s",
                        kind_of(shutdown));
        } else {
            s->shutdown_timeout_ms = ms;
        }
    }

    /* buffer */
    buffer_cfg bc = {0};
    wire_options_parse(buffer_options, buffer, &bc, "buffer", x->d);
    const wire_cfg *be = wire_cfg_get(buffer, "batch_events");
    if (be && be->kind == WIRE_CFG_SCALAR &&
        (bc.batch_events < 1 || bc.batch_events > SPEC_MAX_BATCH_EVENTS))
        diag_at(x, be, "buffer: option 'batch_events' must be between 1 and %d",
                SPEC_MAX_BATCH_EVENTS);
    const wire_cfg *mb = wire_cfg_get(buffer, "max_bytes");
    if (mb && mb->kind == WIRE_CFG_SCALAR && bc.max_bytes < SPEC_MIN_QUEUE_BYTES)
        diag_at(x, mb, "buffer: option 'max_bytes' must be at least 4KB");
    s->queue_bytes = bc.max_bytes >= SPEC_MIN_QUEUE_BYTES ? bc.max_bytes : 8 << 20;
    s->batch_events =
        bc.batch_events >= 1 && bc.batch_events <= SPEC_MAX_BATCH_EVENTS ? bc.batch_events : 4096;

    /* placement */
    placement_cfg pc = {0};
    wire_options_parse(placement_options, placement, &pc, "placement", x->d);
    if (pc.node && !pc.node[0])
        diag_at(x, wire_cfg_get(placement, "node"), "placement: option 'node' must not be empty");
    s->placement_node = pc.node;

    /* parallelism */
    s->parallelism = 1;
    if (parallelism && parallelism->kind != WIRE_CFG_NULL) {
        int64_t n = 0;
        if (parallelism->kind != WIRE_CFG_SCALAR ||
            wire_cfg_parse_int(parallelism->str, parallelism->len, &n) != 0 || n < 1 ||
            n > SPEC_MAX_PARALLELISM) {
            diag_at(x, parallelism, "parallelism must be a whole number from 1 to %d",
                    SPEC_MAX_PARALLELISM);
        } else {
            s->parallelism = (uint32_t)n;
            const wire_component_def *src = base_of(&s->source);
            if (n > 1 && src && !(src->caps & WIRE_CAP_SPLITTABLE)) {
                wire_buf can;
                wire_buf_init(&can);
                types_with(x->r, WIRE_KIND_SOURCE, WIRE_CAP_SPLITTABLE, &can);
                diag_at(x, parallelism,
                        "parallelism %lld needs a source whose input can be split between "
                        "instances; source '%s' cannot be split (sources that can: %s)",
                        (long long)n, src->type, can.p);
                wire_buf_free(&can);
            }
            if (n > 1 && placement && placement->kind != WIRE_CFG_NULL)
                diag_at(x, parallelism,
                        "parallelism %lld and placement cannot be combined (placement pins the "
                        "pipeline to one node)",
                        (long long)n);
        }
    }

    check_unique_names(x, root);
}

void wire_spec_free(wire_pipeline_spec *s)
{
    if (!s)
        return;
    component_free(&s->source);
    for (size_t i = 0; i < s->ntransforms; i++)
        component_free(&s->transforms[i]);
    free(s->transforms);
    for (size_t i = 0; i < s->nsinks; i++)
        component_free(&s->sinks[i]);
    free(s->sinks);
    component_free(&s->dlq);
    free(s->placement_node);
    wire_options_free(event_time_options, &s->event_time);
    free(s->name);
    free(s->file);
    free(s);
}

int wire_spec_load_limited(const wire_registry *r, const char *name, const char *text, size_t n,
                           const wire_spec_limits *lim, wire_pipeline_spec **out, wire_diags *d)
{
    *out = NULL;
    if (lim && lim->max_bytes > 0 && n > (size_t)lim->max_bytes) {
        /* before parsing: the limit bounds the work and the memory a document may take */
        wire_diags_add(d, name, 1, 1,
                       "the document is %zu bytes; a pipeline document is at most %lld "
                       "(--max-pipeline-bytes)",
                       n, (long long)lim->max_bytes);
        return WIRE_EINVAL;
    }
    size_t before = d->n;
    wire_cfg *root = NULL;
    int rc = wire_cfg_load_mem(name, text, n, &root, d);
    if (!root)
        return rc ? rc : WIRE_EPARSE;
    wire_pipeline_spec *s = wire_xcalloc(1, sizeof(*s));
    s->file = wire_xstrdup(name ? name : "-");
    s->hash = wire_hash64(text, n, 0);
    spec_ctx x = {r, d, s, NULL, lim ? lim->max_transforms : 0};
    parse_spec(&x, root);
    wire_cfg_free(root);
    /* problems are found in schema order (top-level keys, then each component);
       a reader wants them in file order */
    wire_diags_sort(d, before);
    if (d->n > before) {
        wire_spec_free(s);
        return WIRE_EINVAL;
    }
    *out = s;
    return 0;
}

int wire_spec_load_mem(const wire_registry *r, const char *name, const char *text, size_t n,
                       wire_pipeline_spec **out, wire_diags *d)
{
    return wire_spec_load_limited(r, name, text, n, NULL, out, d);
}

int wire_spec_load_file(const wire_registry *r, const char *path, const wire_spec_limits *lim,
                        wire_pipeline_spec **out, wire_diags *d)
{
    *out = NULL;
    char *text;
    size_t n;
    if (wire_cfg_read_file(path, &text, &n, d) != 0)
        return WIRE_EIO;
    int rc = wire_spec_load_limited(r, path, text, n, lim, out, d);
    free(text);
    return rc;
}

/* The path options of a table (a tls block's too, as tls.KEY) against the sandbox. */
static void check_table_paths(const wire_pipeline_spec *s, const wire_component *c,
                              const char *kind, const wire_option *table, const char *base,
                              const char *prefix, const wire_sandbox *sb, wire_diags *d)
{
    for (const wire_option *o = table; o && o->name; o++) {
        if (o->type == WIRE_OPT_TLS) {
            char sub[64];
            snprintf(sub, sizeof(sub), "%s%s.", prefix, o->name);
            check_table_paths(s, c, kind, wire_tls_options, base + o->offset, sub, sb, d);
            continue;
        }
        if (o->type != WIRE_OPT_STRING || !(o->flags & WIRE_OPT_PATH))
            continue;
        const char *path = *(char *const *)(base + o->offset);
        if (!path || !*path)
            continue;
        /* a template's instance number cannot move it: check instance 0 */
        wire_buf b;
        wire_buf_init(&b);
        for (const char *p = path; *p;) {
            const char *t = strstr(p, "{{instance}}");
            size_t n = t ? (size_t)(t - p) : strlen(p);
            wire_buf_append(&b, p, n);
            if (!t)
                break;
            wire_buf_putc(&b, '0');
            p = t + strlen("{{instance}}");
        }
        wire_buf_putc(&b, '\0');
        wire_err err;
        wire_err_clear(&err);
        if (wire_sandbox_check(sb, b.p, &err) != 0)
            wire_diags_add(d, s->file ? s->file : "pipeline", c->line, c->col,
                           "%s '%s': option '%s%s': %s", kind, c->type, prefix, o->name, err.msg);
        wire_buf_free(&b);
    }
}

/* One component's path options against the sandbox. */
static void check_component_paths(const wire_pipeline_spec *s, const wire_component *c,
                                  const char *kind, const wire_sandbox *sb, wire_diags *d)
{
    if (!c->type || !c->def || !c->config)
        return;
    const wire_component_def *def = c->def;
    check_table_paths(s, c, kind, def->options, c->config, "", sb, d);
}

int wire_spec_check_paths(const wire_pipeline_spec *s, const wire_sandbox *sb, wire_diags *d)
{
    size_t before = d->n;
    if (!sb)
        return 0;
    check_component_paths(s, &s->source, "source", sb, d);
    for (size_t i = 0; i < s->ntransforms; i++)
        check_component_paths(s, &s->transforms[i], "transform", sb, d);
    for (size_t i = 0; i < s->nsinks; i++)
        check_component_paths(s, &s->sinks[i], "sink", sb, d);
    check_component_paths(s, &s->dlq, "dlq", sb, d);
    return d->n > before ? WIRE_EPERM : 0;
}
