/*
 * transform_ctx.c — what transforms call back into: evaluation contexts,
 * filtered counts, the per-event error policy (on_error), and the per-event
 * loop that compacts a batch in place (wire_transform_each), so that filter,
 * map and every later per-event transform share one.
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

void wire_transform_ctx_init(wire_transform_ctx *ctx, int on_error, uint64_t id_seed)
{
    memset(ctx, 0, sizeof(*ctx));
    wire_disposer_init(&ctx->disposer, on_error, NULL, "transform");
    ctx->id_seed = id_seed;
}

wire_eval_ctx *wire_transform_eval_ctx(wire_transform_ctx *ctx, wire_batch *b)
{
    wire_eval_ctx *e = &ctx->eval;
    e->ev = NULL;
    e->batch = b;
    e->arena = &b->arena;
    e->id_seed = ctx->id_seed;
    e->now_ms = wire_now_ms();
    return e;
}

void wire_transform_filtered(wire_transform_ctx *ctx, uint64_t n)
{
    if (ctx->stats)
        atomic_fetch_add_explicit(&ctx->stats->filtered, n, memory_order_relaxed);
}

int wire_transform_event_error(wire_transform_ctx *ctx, const wire_event *ev, const char *msg)
{
    ctx->event_errors++;
    snprintf(ctx->last_error, sizeof(ctx->last_error), "%s", msg);
    if (ctx->stats)
        atomic_fetch_add_explicit(&ctx->stats->errors, 1, memory_order_relaxed);
    ctx->disposer.stats = ctx->stats;
    wire_err err;
    wire_err_clear(&err);
    int rc = wire_dispose(&ctx->disposer, ev, msg, 1, 0, &err);
    if (rc != 0) /* fail, or no DLQ reachable: stop rather than lose the event silently */
        snprintf(ctx->last_error, sizeof(ctx->last_error), "%.255s", err.msg);
    return rc;
}

int wire_transform_each(wire_transform_ctx *ctx, wire_batch *b, wire_event_step step, void *self)
{
    wire_eval_ctx *ec = wire_transform_eval_ctx(ctx, b);
    uint32_t w = 0, i;
    uint64_t filtered = 0;
    size_t bytes = 0;
    int rc = 0;
    char msg[700];
    for (i = 0; i < b->n; i++) {
        wire_event *ev = &b->ev[i];
        ec->ev = ev;
        ec->cache_gen++;
        int r = step(self, ec, ev, b, msg, sizeof(msg));
        if (r > 0) {
            if (w != i)
                b->ev[w] = *ev;
            bytes += b->ev[w].len;
            w++;
        } else if (r == 0) {
            filtered++;
        } else if ((rc = wire_transform_event_error(ctx, ev, msg)) < 0) {
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
