/*
 * registry_lookup.c — find a component definition by its type name in a
 * wire_registry (NULL-terminated arrays, assembled above the engine).
 */
#include <string.h>

#include "engine/engine.h"

const wire_source_def *wire_registry_source(const wire_registry *r, const char *type)
{
    for (size_t i = 0; r && r->sources && r->sources[i]; i++)
        if (strcmp(r->sources[i]->type, type) == 0)
            return r->sources[i];
    return NULL;
}

const wire_transform_def *wire_registry_transform(const wire_registry *r, const char *type)
{
    for (size_t i = 0; r && r->transforms && r->transforms[i]; i++)
        if (strcmp(r->transforms[i]->type, type) == 0)
            return r->transforms[i];
    return NULL;
}

const wire_sink_def *wire_registry_sink(const wire_registry *r, const char *type)
{
    for (size_t i = 0; r && r->sinks && r->sinks[i]; i++)
        if (strcmp(r->sinks[i]->type, type) == 0)
            return r->sinks[i];
    return NULL;
}
