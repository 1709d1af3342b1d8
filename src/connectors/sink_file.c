/*
 * sink_file.c — the `file` sink: appends events as JSON lines to a file,
 * creating parent directories. Events are buffered and written with one
 * write() per flush; an event no transform changed is written byte for byte.
 */
#include <stddef.h>
#include <stdlib.h>

#include "connectors/connectors.h"
#include "core/io.h"

typedef struct file_sink_config {
    char *path;
    int64_t buffer;
} file_sink_config;

typedef struct file_sink {
    wire_io_writer w;
} file_sink;

static int file_open(void **self, const void *config, wire_err *err)
{
    const file_sink_config *c = config;
    file_sink *s = wire_xcalloc(1, sizeof(*s));
    int rc = wire_io_writer_open(&s->w, c->path, (size_t)c->buffer, err);
    if (rc != 0) {
        free(s);
        return rc;
    }
    *self = s;
    return 0;
}

static int file_write(void *self, const wire_batch *b, wire_err *err)
{
    file_sink *s = self;
    int full = 0;
    for (uint32_t i = 0; i < b->n; i++)
        full |= wire_io_writer_line(&s->w, b->ev[i].data, b->ev[i].len);
    return full;
}

static int file_flush(void *self, wire_err *err)
{
    file_sink *s = self;
    return wire_io_writer_flush(&s->w, err);
}

static void file_close(void *self)
{
    file_sink *s = self;
    wire_io_writer_close(&s->w);
    free(s);
}

static const wire_option file_options[] = {
    {"path", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(file_sink_config, path), NULL,
     "File to append JSON lines to; parent directories are created."},
    {"buffer", WIRE_OPT_SIZE, "1MB", 0, offsetof(file_sink_config, buffer), NULL,
     "Bytes buffered before a write() is forced."},
    {NULL},
};

const wire_sink_def wire_sink_file = {
    .type = "file",
    .summary = "Append events as JSON lines to a file",
    .options = file_options,
    .config_size = sizeof(file_sink_config),
    .caps = 0,
    .open = file_open,
    .write = file_write,
    .flush = file_flush,
    .close = file_close,
};
