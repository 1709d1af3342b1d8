/*
 * filter.c — the `filter` transform: keeps the events for which `where` is
 * true and removes the others (false or NULL), compacting the batch in place.
 * Kept events are not touched, so they are written out byte for byte.
 *
 * A per-event evaluation error (e.g. `msg * 2` on a string) goes to the
 * pipeline's on_error policy; the engine's wire_transform_each() does the
 * compaction, the counts and the policy.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "transforms/transforms.h"

typedef struct filter_config {
    wire_expr *where;
} filter_config;

static const wire_option filter_options[] = {
    {"where", WIRE_OPT_EXPR, NULL, WIRE_OPT_REQUIRED, offsetof(filter_config, where), NULL,
     "Condition; events for which it is true are kept, false or NULL are removed. "
     "Example: \"level = 'error' AND latency_ms > 100\" (see docs/expressions.md)"},
    {NULL},
};

typedef struct filter {
    const wire_expr *where;
} filter;

static int filter_create(void **self, const void *config, const wire_component_env *env,
                         wire_err *err)
{
    (void)env;
    const filter_config *cfg = config;
    if (!cfg || !cfg->where)
        return wire_errf(err, WIRE_EINVAL, "filter: option 'where' is required");
    filter *f = wire_xcalloc(1, sizeof(*f));
    f->where = cfg->where;
    *self = f;
    return 0;
}

/* Keep (1) when `where` is true, remove (0) when false or NULL. */
static int filter_event(void *self, wire_eval_ctx *ec, wire_event *ev, wire_batch *b, char *msg,
                        size_t msg_size)
{
    filter *f = self;
    wire_err err;
    int r = wire_expr_eval_bool(f->where, ec, &err);
    if (r < 0)
        snprintf(msg, msg_size, "filter: where '%.80s': %s", wire_expr_text(f->where), err.msg);
    return r > 0 ? 1 : r;
}

static int filter_process(void *self, wire_batch *b, wire_transform_ctx *ctx)
{
    return wire_transform_each(ctx, b, filter_event, self);
}

const wire_transform_def wire_transform_filter = {
    .base = {WIRE_KIND_TRANSFORM, "filter", "keep the events matching an expression",
             filter_options, sizeof(filter_config), 0, filter_create, free},
    .process = filter_process,
};
