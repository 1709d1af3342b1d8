/*
 * pace.c — wall-clock pacing of the generator sources (`generate`,
 * `nexmark`): batch size and the wait until the next batch is due
 * (engine.h). The k-th event is due at start + k / rate, so a source that
 * falls behind catches up instead of drifting.
 */
#include "engine/engine.h"

uint64_t wire_source_pace_batch(int64_t batch, int64_t rate)
{
    uint64_t per = batch > 0 ? (uint64_t)batch : 1024;
    if (rate > 0 && (uint64_t)rate / 20 < per)
        per = (uint64_t)rate / 20 ? (uint64_t)rate / 20 : 1;
    return per;
}

void wire_source_pace(wire_source_ctx *ctx, int64_t start_ns, uint64_t produced, int64_t rate)
{
    if (rate <= 0)
        return;
    int64_t due = start_ns + (int64_t)((double)produced * 1e9 / (double)rate);
    int64_t wait_ms = (due - wire_mono_ns()) / 1000000;
    while (wait_ms > 0 && !wire_source_stopping(ctx)) {
        wire_sleep_ms(wait_ms > 100 ? 100 : wait_ms);
        wait_ms = (due - wire_mono_ns()) / 1000000;
    }
}
