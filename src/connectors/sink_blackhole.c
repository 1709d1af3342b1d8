/*
 * sink_blackhole.c — the `blackhole` sink: accepts and counts events, writes
 * nothing. For benchmarks and for measuring a pipeline without its sink.
 */
#include <stddef.h>
#include <stdlib.h>

#include "connectors/connectors.h"

typedef struct blackhole_config {
    int64_t delay_ms; /* per batch: simulates a slow sink in tests */
} blackhole_config;

static const wire_option blackhole_options[] = {
    {"delay", WIRE_OPT_DURATION, "0ms", 0, offsetof(blackhole_config, delay_ms), NULL,
     "Pause this long per non-empty batch (simulates a slow sink)."},
    {NULL},
};

typedef struct blackhole {
    int64_t delay_ms;
    uint64_t events;
} blackhole;

static int blackhole_open(void **self, const void *config, const wire_component_env *env,
                          wire_err *err)
{
    (void)env;
    const blackhole_config *c = config;
    blackhole *s = wire_xcalloc(1, sizeof(*s));
    s->delay_ms = c->delay_ms;
    *self = s;
    return 0;
}

static int blackhole_write(void *self, const wire_batch *b, wire_err *err)
{
    blackhole *s = self;
    s->events += b->n;
    if (s->delay_ms > 0 && b->n > 0)
        wire_sleep_ms(s->delay_ms);
    return 0;
}

static int blackhole_flush(void *self, wire_err *err)
{
    return 0;
}

const wire_sink_def wire_sink_blackhole = {
    .base = {WIRE_KIND_SINK, "blackhole", "Accept and count events; write nothing",
             blackhole_options, sizeof(blackhole_config), 0, blackhole_open, free},
    .write = blackhole_write,
    .flush = blackhole_flush,
};
