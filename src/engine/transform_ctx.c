/*
 * transform_ctx.c — what transforms call back into: evaluation contexts,
 * filtered counts, and the per-event error policy (on_error).
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

void wire_transform_ctx_init(wire_transform_ctx *ctx, int on_error, uint64_t id_seed)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->on_error = on_error;
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
    switch (ctx->on_error) {
    case WIRE_ON_ERROR_FAIL: return WIRE_EPERM;
    case WIRE_ON_ERROR_DLQ:
        if (ctx->dead_letter && ctx->dead_letter(ctx->dead_letter_arg, ev, msg) == 0) {
            if (ctx->stats)
                atomic_fetch_add_explicit(&ctx->stats->dlq, 1, memory_order_relaxed);
            return 0;
        }
        /* no DLQ reachable: fail rather than lose the event silently */
        return WIRE_EPERM;
    default:
        if (ctx->stats)
            atomic_fetch_add_explicit(&ctx->stats->dropped, 1, memory_order_relaxed);
        return 0;
    }
}
