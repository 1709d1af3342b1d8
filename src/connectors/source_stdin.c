/*
 * source_stdin.c — the `stdin` source: JSON lines (or text lines) from
 * standard input until EOF. Not replayable: a restart cannot re-read a pipe.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "connectors/lines.h"

typedef struct stdin_config {
    int format;
    int64_t read_size;
    int64_t max_line;
} stdin_config;

static const wire_option stdin_options[] = {
    {"format", WIRE_OPT_ENUM, "json", 0, offsetof(stdin_config, format), "json|lines",
     "json: one JSON object per line; lines: each line becomes {\"message\": line}."},
    {"read_size", WIRE_OPT_SIZE, "256KB", 0, offsetof(stdin_config, read_size), NULL,
     "Bytes per read()."},
    {"max_line", WIRE_OPT_SIZE, "1MB", 0, offsetof(stdin_config, max_line), NULL,
     "Longer lines are skipped and counted."},
    {NULL},
};

typedef struct stdin_source {
    const stdin_config *c;
    wire_line_reader reader;
    int64_t epoch_ms;
} stdin_source;

static int stdin_create(void **self, const void *config, const wire_component_env *env,
                        wire_err *err)
{
    (void)env;
    stdin_source *s = wire_xcalloc(1, sizeof(*s));
    s->c = config;
    *self = s;
    return 0;
}

static void stdin_destroy(void *self)
{
    stdin_source *s = self;
    wire_lines_free(&s->reader);
    free(s);
}

static int emit(stdin_source *s, wire_source_ctx *ctx, wire_batch *b, uint64_t end)
{
    wire_position pos = {0};
    pos.epoch_ms = s->epoch_ms;
    pos.offset = end;
    wire_batch_set_position(b, &pos);
    return wire_source_emit(ctx, b, false);
}

static int stdin_run(void *self, wire_source_ctx *ctx, wire_err *err)
{
    stdin_source *s = self;
    s->epoch_ms = wire_now_ms();
    wire_lines_init(&s->reader, s->c->format, (size_t)s->c->read_size, (size_t)s->c->max_line, 0);
    for (;;) {
        if (wire_source_stopping(ctx))
            return WIRE_ESTOPPED;
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int pr = poll(&pfd, 1, 100);
        if (pr < 0 && errno != EINTR)
            return wire_errf(err, WIRE_EIO, "poll stdin: %s", strerror(errno));
        if (pr <= 0)
            continue;
        wire_batch *b = wire_source_batch(ctx);
        uint64_t end;
        ssize_t got = wire_lines_read(&s->reader, STDIN_FILENO, b, 0, &end);
        if (got < 0) {
            wire_batch_release(b);
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return wire_errf(err, WIRE_EIO, "read stdin: %s", strerror(errno));
        }
        if (got == 0) {
            wire_lines_finish(&s->reader, b, 0, &end);
            if (b->n == 0) {
                wire_batch_release(b);
                return 0;
            }
            return emit(s, ctx, b, end) == 0 ? 0 : WIRE_ESTOPPED;
        }
        if (emit(s, ctx, b, end) != 0)
            return WIRE_ESTOPPED;
    }
}

const wire_source_def wire_source_stdin = {
    .base = {WIRE_KIND_SOURCE, "stdin",
             "Read JSON lines (or text lines) from standard input until EOF", stdin_options,
             sizeof(stdin_config), WIRE_CAP_BOUNDED, stdin_create, stdin_destroy},
    .run = stdin_run,
};
