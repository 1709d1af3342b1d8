/*
 * fuzz_cluster.c — libFuzzer target for the control plane's decoders, which
 * read bytes from the network and the disk: Raft entries applied to the FSM,
 * snapshot frames, FSM state encodings, and RPC frames. None may crash,
 * leak or read out of bounds; an entry that decodes must apply the same way
 * twice (determinism).
 */
#include <stdint.h>
#include <string.h>

#include "cluster/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_log_set_level(WIRE_LOG_ERROR + 1);
    /* as an entry, applied on two FSMs: same digest */
    wire_fsm *a = wire_fsm_new(), *b = wire_fsm_new();
    wire_fsm_apply_entry(a, 1, data, size);
    wire_fsm_apply_entry(b, 1, data, size);
    if (wire_fsm_digest(a) != wire_fsm_digest(b))
        __builtin_trap();
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
