/*
 * filter.c — the `filter` transform: keeps the events for which `where` is
 * true and removes the others (false or NULL), compacting the batch in place.
 * Kept events are not touched, so they are written out byte for byte.
 *
 * A per-event evaluation error (e.g. `msg * 2` on a string) goes to the
 * pipeline's on_error policy through wire_transform_event_error().
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "connectors/connectors.h"

typedef struct filter_config {
    wire_expr *where;
} filter_config;

typedef struct filter {
    const wire_expr *where;
} filter;

static int filter_create(void **self, const void *config, wire_err *err)
{
    const filter_config *cfg = config;
    if (!cfg || !cfg->where)
        return wire_errf(err, WIRE_EINVAL, "filter: option 'where' is required");
    filter *f = wire_xcalloc(1, sizeof(*f));
    f->where = cfg->where;
    *self = f;
    return 0;
}

static int filter_process(void *self, wire_batch *b, wire_transform_ctx *ctx)
{
    filter *f = self;
    wire_eval_ctx *ec = wire_transform_eval_ctx(ctx, b);
    wire_err err;
    uint32_t w = 0, i;
    uint64_t filtered = 0;
    size_t bytes = 0;
    int rc = 0;
    for (i = 0; i < b->n; i++) {
        wire_event *ev = &b->ev[i];
        ec->ev = ev;
        ec->cache_gen++;
        int r = wire_expr_eval_bool(f->where, ec, &err);
        if (r > 0) {
            if (w != i)
                b->ev[w] = *ev;
            bytes += b->ev[w].len;
            w++;
        } else if (r == 0) {
            filtered++;
        } else {
            char msg[640];
            snprintf(msg, sizeof(msg), "filter: where '%.80s': %s", wire_expr_text(f->where),
                     err.msg);
            if ((rc = wire_transform_event_error(ctx, ev, msg)) < 0)
                break;
        }
    }
    /* on a fatal error keep what was not processed, in order */
    for (; i < b->n; i++, w++) {
        if (w != i)
            b->ev[w] = b->ev[i];
        bytes += b->ev[w].len;
    }
    b->n = w;
    b->bytes = bytes;
    ec->ev = NULL;
    if (filtered)
        wire_transform_filtered(ctx, filtered);
    return rc;
}

static void filter_destroy(void *self)
{
    free(self);
}

static const wire_option filter_options[] = {
    {"where", WIRE_OPT_EXPR, NULL, WIRE_OPT_REQUIRED, offsetof(filter_config, where), NULL,
     "Condition; events for which it is true are kept, false or NULL are removed. "
     "Example: \"level = 'error' AND latency_ms > 100\" (see docs/expressions.md)"},
    {NULL},
};

const wire_transform_def wire_transform_filter = {
    .type = "filter",
    .summary = "keep the events matching an expression",
    .options = filter_options,
    .config_size = sizeof(filter_config),
    .caps = 0,
    .create = filter_create,
    .process = filter_process,
    .destroy = filter_destroy,
};
