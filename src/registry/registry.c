/*
 * registry.c — binds type names to connector and transform implementations.
 * The engine sees only the wire_registry; adding a connector or transform
 * means adding its file and one line here. Within a kind, this order is the
 * order of `wire help` and docs/reference.md.
 */
#include "registry/registry.h"
#include "connectors/connectors.h"
#include "transforms/transforms.h"

static const wire_component_def *const components[] = {
    &wire_source_generate.base,  &wire_source_nexmark.base,
    &wire_source_file.base,      &wire_source_stdin.base,
    &wire_source_http.base,      &wire_source_kafka.base,
    &wire_transform_filter.base, &wire_transform_map.base,
    &wire_sink_file.base,        &wire_sink_stdout.base,
    &wire_sink_blackhole.base,   &wire_sink_http.base,
    &wire_sink_kafka.base,       NULL,
};

const wire_registry wire_default_registry = {components};
