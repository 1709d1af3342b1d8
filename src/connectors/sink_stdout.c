/*
 * sink_stdout.c — the `stdout` sink: events as JSON lines on standard output,
 * written by the line writer the file sink uses too (lines.h).
 */
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "connectors/lines.h"
#include "core/io.h"

typedef struct stdout_sink_config {
    int64_t buffer;
} stdout_sink_config;

static const wire_option stdout_options[] = {
    {"buffer", WIRE_OPT_SIZE, "64KB", 0, offsetof(stdout_sink_config, buffer), NULL,
     "Bytes buffered before a write() is forced."},
    {NULL},
};

static int stdout_open(void **self, const void *config, const wire_component_env *env,
                       wire_err *err)
{
    (void)env;
    const stdout_sink_config *c = config;
    wire_io_writer *w = wire_xcalloc(1, sizeof(*w));
    wire_io_writer_from_fd(w, STDOUT_FILENO, "stdout", (size_t)c->buffer);
    *self = w;
    return 0;
}

const wire_sink_def wire_sink_stdout = {
    .base = {WIRE_KIND_SINK, "stdout", "Write events as JSON lines to standard output",
             stdout_options, sizeof(stdout_sink_config), 0, stdout_open, wire_lines_sink_close},
    .write = wire_lines_sink_write,
    .flush = wire_lines_sink_flush,
};
