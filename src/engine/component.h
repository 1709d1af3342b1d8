/*
 * component.h — what every source, transform and sink has in common: its
 * definition base (kind, type name, summary, option table, config size,
 * capabilities, create and destroy), and the registry that binds type names
 * to definitions.
 *
 * A kind's definition (wire_source_def, wire_transform_def, wire_sink_def in
 * engine.h) embeds this base as its FIRST member `base` and adds its own
 * callbacks beside it, as Fluent Bit's plugin core serves every plugin kind.
 * Whatever is the same for every kind — validation (engine/spec.c), lookup
 * (engine/registry_lookup.c), `wire help` and docs/reference.md — reads only
 * the base, with one loop over all kinds.
 */
#ifndef WIRE_COMPONENT_H
#define WIRE_COMPONENT_H

#include "core/config.h"

/* The kinds of component, in the order help and the reference list them. */
typedef enum wire_kind {
    WIRE_KIND_SOURCE,
    WIRE_KIND_TRANSFORM,
    WIRE_KIND_SINK,
    WIRE_KIND_COUNT,
} wire_kind;

/*
 * Capabilities a component may declare. A sink that is exactly-once says by
 * which of the three mechanisms (docs/guarantees.md):
 *   EO_2PC       resumable two-phase commit: pre-commit at a barrier yields a
 *                handle kept in the checkpoint (snapshot); commit(handle) is
 *                idempotent and works from a new process (restore)
 *   EO_POSITIONS sink-owned positions: data and the source positions commit
 *                atomically in the sink; on start the sink's positions
 *                override the checkpoint's
 *   IDEMPOTENT   writes keyed by the deterministic event id: a replay
 *                overwrites, "effectively once"
 */
enum {
    WIRE_CAP_EO_2PC = 1 << 0,       /* sink */
    WIRE_CAP_BOUNDED = 1 << 1,      /* source: may finish by itself */
    WIRE_CAP_REPLAYABLE = 1 << 2,   /* source: can resume from a position */
    WIRE_CAP_EO_POSITIONS = 1 << 3, /* sink */
    WIRE_CAP_IDEMPOTENT = 1 << 4,   /* sink */
    WIRE_CAP_SPLITTABLE = 1 << 5,   /* source: instances of one pipeline can share its splits
                                       (parallelism > 1) */
};
/* The sink capabilities that make `delivery: exactly-once` possible. */
#define WIRE_CAP_EXACTLY_ONCE (WIRE_CAP_EO_2PC | WIRE_CAP_EO_POSITIONS)

/*
 * Where an instance is created: its pipeline, its own name, which of the
 * pipeline's parallel instances it belongs to. NULL in unit tests that
 * create components alone.
 */
typedef struct wire_component_env {
    const char *pipeline; /* the pipeline's name (shared by all its instances) */
    const char *name;     /* the component's name: source, sink, sinks[1], its `name:` */
    uint32_t instance;    /* 0 .. parallelism-1 */
    uint32_t parallelism; /* instances of the pipeline (>= 1) */
    bool exactly_once;    /* the pipeline's delivery is exactly-once */
    /* The roots its paths must stay in (core/sandbox.h): a node's pipelines
       open files through it; NULL (`wire run`, tests): unrestricted. */
    const struct wire_sandbox *sandbox;
} wire_component_env;

typedef struct wire_component_def {
    wire_kind kind;
    const char *type;    /* the name a pipeline file uses: `type: file` */
    const char *summary; /* one line for `wire help` and the reference */
    const wire_option *options;
    size_t config_size; /* bytes of the config struct the options parse into */
    unsigned caps;      /* WIRE_CAP_* */
    /* Create an instance from its parsed config (owned by the spec, which
       outlives the instance); env may be NULL. 0, or <0 with err set. */
    int (*create)(void **self, const void *config, const wire_component_env *env, wire_err *err);
    void (*destroy)(void *self);
} wire_component_def;

/* "source", "transform", "sink"; and "sources", ... */
const char *wire_kind_name(wire_kind kind);
const char *wire_kind_plural(wire_kind kind);

/*
 * A NULL-terminated list of definitions of every kind, assembled above the
 * engine (src/registry/). Within a kind, the list's order is the order help
 * and the reference show.
 */
typedef struct wire_registry {
    const wire_component_def *const *components;
} wire_registry;

/*
 * The next definition of `kind` from position *i on (start with *i = 0), or
 * NULL after the last: one loop over a kind, in registry order:
 *   for (size_t i = 0; (c = wire_registry_next(r, kind, &i)) != NULL;)
 */
const wire_component_def *wire_registry_next(const wire_registry *r, wire_kind kind, size_t *i);
/* The definition of `kind` named `type`, or NULL. */
const wire_component_def *wire_registry_find(const wire_registry *r, wire_kind kind,
                                             const char *type);

#endif
