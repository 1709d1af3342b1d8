/*
 * registry.c — binds type names to connector and transform implementations.
 * The engine sees only the wire_registry; adding a connector means adding
 * its file and one line here.
 */
#include "connectors/connectors.h"

static const wire_source_def *const sources[] = {
    &wire_source_generate,
    &wire_source_file,
    &wire_source_stdin,
    &wire_source_http,
    NULL,
};

static const wire_transform_def *const transforms[] = {
    &wire_transform_filter,
    &wire_transform_map,
    NULL,
};

static const wire_sink_def *const sinks[] = {
    &wire_sink_file,
    &wire_sink_stdout,
    &wire_sink_blackhole,
    &wire_sink_http,
    NULL,
};

const wire_registry wire_default_registry = {sources, transforms, sinks};
