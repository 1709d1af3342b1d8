/*
 * fuzz_cluster.c — libFuzzer target for the control plane's decoders, which
 * read bytes from the network and the disk: Raft entries applied to the FSM,
 * snapshot frames, FSM state encodings, and RPC frames. None may crash,
 * leak or read out of bounds; an entry that decodes must apply the same way
 * twice (determinism). Placement then runs on the resulting state (every
 * node alive, then none): its decisions must apply cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_alive(void *arg, const wire_node_rec *n)
{
    (void)n;
    return *(bool *)arg;
}

/* Placement on the state in `f`; each decision, applied, must be accepted. */
static void schedule_apply(wire_fsm *f, bool alive)
{
    wire_assignment *a;
    size_t k = wire_schedule(f, all_alive, &alive, &a);
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, (uint32_t)k, 1);
    for (size_t i = 0; i < k; i++) {
        if (!alive)
            __builtin_trap(); /* nowhere to go: no decision */
        wire_cmd c = {.type = WIRE_CMD_ASSIGN,
                      .version = 1,
                      .a = a[i].pipeline,
                      .alen = strlen(a[i].pipeline),
                      .b = a[i].node,
                      .blen = strlen(a[i].node),
                      .u1 = a[i].epoch};
        wire_cmd_encode(&e, &c);
    }
    free(a);
    wire_fsm_apply_entry(f, wire_fsm_applied_index(f) + 1, e.p, e.len);
    uint32_t n;
    const uint8_t *r = wire_fsm_last_results(f, &n);
    for (uint32_t i = 0; i < n; i++)
        if (r[i] != WIRE_APPLY_OK)
            __builtin_trap();
    wire_buf_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_log_set_level(WIRE_LOG_ERROR + 1);
    /* as an entry, applied on two FSMs: same digest */
    wire_fsm *a = wire_fsm_new(), *b = wire_fsm_new();
    wire_fsm_apply_entry(a, 1, data, size);
    wire_fsm_apply_entry(b, 1, data, size);
    if (wire_fsm_digest(a) != wire_fsm_digest(b))
        __builtin_trap();
    schedule_apply(a, false);
    schedule_apply(a, true);
    /* as a state encoding */
    wire_err err;
    wire_fsm_decode(b, data, size, &err);
    /* as a snapshot frame */
    wire_buf raw;
    wire_buf_init(&raw);
    uint64_t idx, term;
    if (wire_snapshot_unpack(data, size, &raw, &idx, &term, &err) == 0)
        wire_fsm_decode(a, raw.p, raw.len, &err);
    wire_buf_free(&raw);
    /* as a stream of RPC frames */
    size_t off = 0;
    wire_rpc_msg m;
    size_t used;
    while (off < size && wire_rpc_frame_parse(data + off, size - off, &m, &used, &err) == 1)
        off += used;
    wire_fsm_free(a);
    wire_fsm_free(b);
    return 0;
}
