/*
 * event.h — events and batches, the unit of work on Wire's data path.
 *
 * An event is its raw JSON object bytes plus metadata: event time, key,
 * and where in the source it came from (split + offset). Events travel in
 * batches; a batch owns an arena holding the bytes of its events (often the
 * very buffer the source read into, so ingest copies nothing). A transform
 * that rewrites an event writes the new bytes into the batch's arena and
 * repoints the event; an event nobody changed is written out byte for byte.
 *
 * A batch also carries the source positions it covers (one per split it
 * touched): when every sink has durably accepted the batch, those positions
 * become committable. That is how acknowledgements travel end to end.
 */
#ifndef WIRE_EVENT_H
#define WIRE_EVENT_H

#include <stdatomic.h>

#include "core/core.h"

/* Event flags. */
enum {
    WIRE_EV_MODIFIED = 1 << 0, /* bytes were rewritten by a transform */
};

typedef struct wire_event {
    const char *data; /* JSON object text, no trailing newline; not NUL-terminated */
    uint32_t len;
    uint32_t flags;
    uint32_t split; /* index of the source split (file, partition) it came from */
    uint32_t key_len;
    const char *key; /* partitioning key, or NULL */
    int64_t time_ms; /* event time (ingest time unless set) */
    uint64_t offset; /* position of the event inside its split (start offset) */
} wire_event;

/*
 * A source position: enough for the source to resume right after the last
 * event covered. `identity` names the split's content (a file's device and
 * inode, a topic-partition's hash); `epoch_ms` is when Wire first saw the
 * split and is kept in checkpoints, so event ids derived from it are the same
 * after a replay.
 */
typedef struct wire_position {
    uint32_t split;
    uint32_t flags;
    uint64_t identity[2];
    int64_t epoch_ms;
    uint64_t offset; /* resume here (byte offset, sequence number, ...) */
} wire_position;

typedef struct wire_batch {
    wire_event *ev;
    uint32_t n, cap;
    wire_arena arena;   /* owns event bytes and per-batch temporaries */
    size_t bytes;       /* sum of event lengths */
    uint64_t seq;       /* batch sequence number within its pipeline */
    int64_t ingest_ms;  /* when the source produced it */
    int64_t ingest_ns;  /* monotonic, for latency measurement */
    int64_t watermark;  /* event_time: the operator watermark before its first event */
    wire_position *pos; /* positions covered, one per split touched */
    uint32_t npos, pos_cap;
    struct wire_batch *next; /* free list / queue link */
    void *pool;              /* wire_batch_pool it returns to, or NULL */
} wire_batch;

/* Allocate a standalone batch (tests); pipelines use a pool. */
wire_batch *wire_batch_new(size_t arena_chunk);
void wire_batch_free(wire_batch *b);
/* Forget events and positions, keep memory. */
void wire_batch_clear(wire_batch *b);
/* Append an event slot (data must live at least as long as the batch). */
wire_event *wire_batch_push(wire_batch *b, const char *data, uint32_t len);
/* Record the position covered for a split (replaces an earlier one for the same split). */
void wire_batch_set_position(wire_batch *b, const wire_position *p);
const wire_position *wire_batch_position(const wire_batch *b, uint32_t split);
/* Approximate memory held, for queue byte budgets. */
size_t wire_batch_mem(const wire_batch *b);

/* Thread-safe pool of batches with a fixed arena chunk size. */
/*
 * A pool of batches. `batch_size` (0: sizeof(wire_batch)) lets a layer keep
 * its own per-batch bookkeeping in a larger struct whose first member is the
 * wire_batch (the engine's wire_flight); wire_batch_get zeroes those extra
 * bytes.
 */
typedef struct wire_batch_pool wire_batch_pool;
wire_batch_pool *wire_batch_pool_new(size_t arena_chunk, size_t batch_size);
void wire_batch_pool_free(wire_batch_pool *p);
wire_batch *wire_batch_get(wire_batch_pool *p);
/* Give a batch back: to its pool, or freed if it has none. */
void wire_batch_release(wire_batch *b);

/*
 * Event ids: UUIDv7, computed only when something asks (event_id() in
 * expressions, idempotent sinks). The 48 time bits are the split's epoch_ms;
 * the remaining 74 bits are a hash of (pipeline seed, split identity) in the
 * high 22 bits and the event's offset in the low 52, so a replay after a
 * crash yields the same id and ids sort by split then offset.
 * Writes 36 chars + NUL into out.
 */
void wire_event_id(const wire_event *e, const wire_batch *b, uint64_t seed, char out[37]);

#endif
