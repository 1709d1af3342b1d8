/*
 * flight.h — the engine's bookkeeping for a batch in flight.
 *
 * core's wire_batch carries events and positions only. The engine allocates
 * its batches (from a pool sized for this struct) as a wire_flight, whose
 * first member is the batch, so a wire_batch * handed out by the pipeline's
 * pool is also a wire_flight *. Sources and transforms see only the batch;
 * the fan-out reference count, the checkpoint barrier, what sinks disposed
 * of and a barrier's per-sink states live here.
 */
#ifndef WIRE_ENGINE_FLIGHT_H
#define WIRE_ENGINE_FLIGHT_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/event.h"

typedef struct wire_flight {
    wire_batch b;         /* first: (wire_flight *)batch is valid for pipeline batches */
    atomic_int refs;      /* one per sink queue holding it */
    uint64_t barrier;     /* checkpoint barrier id; 0 for a batch of events */
    atomic_uint disposed; /* events a sink dead-lettered or dropped instead of delivering */
    uint32_t n_in;        /* events counted in at the source (undelivered if never completed) */
    void *aux;            /* a barrier's per-sink states (char *[nsinks]) */
} wire_flight;

static inline wire_flight *wire_flight_of(wire_batch *b)
{
    return (wire_flight *)b;
}
static inline uint64_t wire_flight_barrier(wire_batch *b)
{
    return wire_flight_of(b)->barrier;
}

#endif
