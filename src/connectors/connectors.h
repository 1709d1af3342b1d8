/*
 * connectors.h — every source, transform and sink definition, and the
 * default registry that binds their type names.
 */
#ifndef WIRE_CONNECTORS_H
#define WIRE_CONNECTORS_H

#include "engine/engine.h"

extern const wire_registry wire_default_registry;

/* Sources */
extern const wire_source_def wire_source_generate;
extern const wire_source_def wire_source_file;
extern const wire_source_def wire_source_stdin;
extern const wire_source_def wire_source_http;

/* Transforms (src/transforms/) */
extern const wire_transform_def wire_transform_filter;
extern const wire_transform_def wire_transform_map;

/* Sinks */
extern const wire_sink_def wire_sink_file;
extern const wire_sink_def wire_sink_stdout;
extern const wire_sink_def wire_sink_blackhole;
extern const wire_sink_def wire_sink_http;

/*
 * The Retry-After (ms) of the http sink's last 429/503 answer, 0 if none:
 * the retry layer (issue 3) waits at least this long before the next flush.
 * `self` is the instance returned by wire_sink_http.open.
 */
int64_t wire_sink_http_retry_after_ms(void *self);

#endif
