/*
 * registry.h — the default registry: every built-in source, transform and
 * sink, bound to its type name. It sits above src/connectors and
 * src/transforms (which never see each other) and below cli/ and api/.
 */
#ifndef WIRE_REGISTRY_H
#define WIRE_REGISTRY_H

#include "engine/engine.h"

extern const wire_registry wire_default_registry;

#endif
