/*
 * hll.h — HyperLogLog for APPROX_COUNT_DISTINCT (STREAMING.md §3.7: p = 14,
 * about 0.8 % standard error, mergeable per slice). 2^14 one-byte registers
 * (16 KB); values are hashed with wire_hash64. The estimate is the original
 * paper's harmonic mean with its small-range correction (linear counting
 * while many registers are still zero), which is what keeps small counts
 * exact in practice; no large-range correction is needed with 64-bit hashes.
 */
#ifndef WIRE_HLL_H
#define WIRE_HLL_H

#include "core/core.h"

#define WIRE_HLL_P 14
#define WIRE_HLL_M (1u << WIRE_HLL_P)

typedef struct wire_hll {
    uint8_t reg[WIRE_HLL_M];
} wire_hll;

void wire_hll_init(wire_hll *h);
/* Add a value (its bytes). */
void wire_hll_add(wire_hll *h, const void *p, size_t n);
/* Add a value by its 64-bit hash (callers that hash already). */
void wire_hll_add_hash(wire_hll *h, uint64_t hash);
/* into |= from: the sketch of the union (slices of a HOP window). */
void wire_hll_merge(wire_hll *into, const wire_hll *from);
/* The estimated number of distinct values, rounded. */
uint64_t wire_hll_count(const wire_hll *h);

#endif
