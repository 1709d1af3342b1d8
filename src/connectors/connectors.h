/*
 * connectors.h — the source and sink definitions of src/connectors/ (one
 * file each). The registry that binds their type names is assembled above
 * them, in src/registry/.
 */
#ifndef WIRE_CONNECTORS_H
#define WIRE_CONNECTORS_H

#include "engine/engine.h"

/* Sources */
extern const wire_source_def wire_source_generate;
extern const wire_source_def wire_source_nexmark;
extern const wire_source_def wire_source_file;
extern const wire_source_def wire_source_stdin;
extern const wire_source_def wire_source_http;
extern const wire_source_def wire_source_kafka;

/* Sinks */
extern const wire_sink_def wire_sink_file;
extern const wire_sink_def wire_sink_stdout;
extern const wire_sink_def wire_sink_blackhole;
extern const wire_sink_def wire_sink_http;
extern const wire_sink_def wire_sink_kafka;

#endif
