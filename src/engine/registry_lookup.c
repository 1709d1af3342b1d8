/*
 * registry_lookup.c — find a component definition by kind and type name in
 * a wire_registry (one NULL-terminated list of every kind, assembled above
 * the engine), and the kinds' names.
 */
#include <string.h>

#include "engine/engine.h"

static const char *const kind_names[WIRE_KIND_COUNT] = {"source", "transform", "sink"};
static const char *const kind_plurals[WIRE_KIND_COUNT] = {"sources", "transforms", "sinks"};

const char *wire_kind_name(wire_kind kind)
{
    return kind < WIRE_KIND_COUNT ? kind_names[kind] : "component";
}

const char *wire_kind_plural(wire_kind kind)
{
    return kind < WIRE_KIND_COUNT ? kind_plurals[kind] : "components";
}

const wire_component_def *wire_registry_next(const wire_registry *r, wire_kind kind, size_t *i)
{
    if (!r || !r->components)
        return NULL;
    for (const wire_component_def *c; (c = r->components[*i]) != NULL;) {
        ++*i;
        if (c->kind == kind)
            return c;
    }
    return NULL;
}

const wire_component_def *wire_registry_find(const wire_registry *r, wire_kind kind,
                                             const char *type)
{
    const wire_component_def *c;
    for (size_t i = 0; (c = wire_registry_next(r, kind, &i)) != NULL;)
        if (strcmp(c->type, type) == 0)
            return c;
    return NULL;
}

/* The kind definitions start with their base, so the base's address is theirs. */

const wire_source_def *wire_registry_source(const wire_registry *r, const char *type)
{
    return (const wire_source_def *)wire_registry_find(r, WIRE_KIND_SOURCE, type);
}

const wire_transform_def *wire_registry_transform(const wire_registry *r, const char *type)
{
    return (const wire_transform_def *)wire_registry_find(r, WIRE_KIND_TRANSFORM, type);
}

const wire_sink_def *wire_registry_sink(const wire_registry *r, const char *type)
{
    return (const wire_sink_def *)wire_registry_find(r, WIRE_KIND_SINK, type);
}
