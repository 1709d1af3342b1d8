/*
 * checkpoint.h — what a pipeline checkpoint holds and the store interface.
 *
 * A checkpoint is, per pipeline: its version and spec hash, each source
 * split's committed position, each sink's commit state (e.g. the file sink's
 * durable length, for exactly-once), and later operator state. The engine
 * sees only wire_checkpoint_store; the local store (files under --data-dir)
 * is here, the Raft-backed one lives in the cluster layer.
 *
 * Encoding: a JSON document (readable with `cat` when operating Wire), framed
 * by the store with a format version and a checksum.
 */
#ifndef WIRE_CHECKPOINT_H
#define WIRE_CHECKPOINT_H

#include "core/event.h"

typedef struct wire_sink_state {
    char *name; /* sink component name ("sink", "sinks[1]", or its `name:`) */
    char *type;
    char *json; /* the sink's own state, a JSON value */
} wire_sink_state;

typedef struct wire_checkpoint {
    uint64_t id;      /* increases with every checkpoint of the pipeline */
    uint64_t version; /* pipeline version that wrote it */
    uint64_t spec_hash;
    int64_t time_ms;
    wire_position *pos;
    size_t npos;
    wire_sink_state *sinks;
    size_t nsinks;
} wire_checkpoint;

void wire_checkpoint_init(wire_checkpoint *cp);
void wire_checkpoint_clear(wire_checkpoint *cp);
void wire_checkpoint_add_sink(wire_checkpoint *cp, const char *name, const char *type,
                              const char *json);
const wire_sink_state *wire_checkpoint_sink(const wire_checkpoint *cp, const char *name,
                                            const char *type);
const wire_position *wire_checkpoint_position(const wire_checkpoint *cp, uint32_t split);

/* JSON encoding of a checkpoint (the payload a store frames). */
void wire_checkpoint_encode(const wire_checkpoint *cp, const char *pipeline, wire_buf *out);
int wire_checkpoint_decode(const char *p, size_t n, wire_checkpoint *cp, wire_err *err);

typedef struct wire_checkpoint_store wire_checkpoint_store;
struct wire_checkpoint_store {
    /* Persist durably; 0 when it will survive a crash. WIRE_EPERM: refused
       for good (e.g. a stale assignment epoch): the pipeline fails.
       WIRE_ENOTFOUND: the pipeline is gone (deleted): it stops, logged at
       info. Other errors are retried at the next checkpoint. */
    int (*save)(wire_checkpoint_store *s, const char *pipeline, const wire_checkpoint *cp,
                wire_err *err);
    /* The newest valid checkpoint: 0, WIRE_ENOTFOUND (none ever written), or
       another error when checkpoints exist but none is readable. */
    int (*load)(wire_checkpoint_store *s, const char *pipeline, wire_checkpoint *out,
                wire_err *err);
    int (*remove)(wire_checkpoint_store *s, const char *pipeline, wire_err *err);
    void (*free)(wire_checkpoint_store *s);
    /* Optional (parallel instances): the newest checkpoint of each of the pipeline's
       other instances, so a split that moved here resumes where its last owner
       checkpointed it. *out is malloc'd (free each with wire_checkpoint_clear). */
    int (*load_peers)(wire_checkpoint_store *s, const char *pipeline, wire_checkpoint **out,
                      size_t *n, wire_err *err);
};

/* Files under DIR/checkpoints/PIPELINE/, newest 3 kept. */
wire_checkpoint_store *wire_checkpoint_store_local(const char *data_dir);

#endif
