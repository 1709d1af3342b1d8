/*
 * sink_stdout.c — the `stdout` sink: events as JSON lines on standard output.
 */
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "core/io.h"

typedef struct stdout_sink_config {
    int64_t buffer;
} stdout_sink_config;

static int stdout_open(void **self, const void *config, wire_err *err)
{
    const stdout_sink_config *c = config;
    wire_io_writer *w = wire_xcalloc(1, sizeof(*w));
    wire_io_writer_from_fd(w, STDOUT_FILENO, "stdout", (size_t)c->buffer);
    *self = w;
    return 0;
}

static int stdout_write(void *self, const wire_batch *b, wire_err *err)
{
    int full = 0;
    for (uint32_t i = 0; i < b->n; i++)
        full |= wire_io_writer_line(self, b->ev[i].data, b->ev[i].len);
    return full;
}

static int stdout_flush(void *self, wire_err *err)
{
    return wire_io_writer_flush(self, err);
}

static void stdout_close(void *self)
{
    wire_io_writer_close(self);
    free(self);
}

static const wire_option stdout_options[] = {
    {"buffer", WIRE_OPT_SIZE, "64KB", 0, offsetof(stdout_sink_config, buffer), NULL,
     "Bytes buffered before a write() is forced."},
    {NULL},
};

const wire_sink_def wire_sink_stdout = {
    .base =
        {
            .kind = WIRE_KIND_SINK,
            .type = "stdout",
            .summary = "Write events as JSON lines to standard output",
            .options = stdout_options,
            .config_size = sizeof(stdout_sink_config),
            .create = stdout_open,
            .destroy = stdout_close,
        },
    .write = stdout_write,
    .flush = stdout_flush,
};
