/*
 * hist.h — a lock-free log-linear histogram (8 sub-buckets per power of two,
 * so a percentile is within ~12% of the truth) for latencies in microseconds.
 * Recording is one atomic increment; readers may run concurrently.
 */
#ifndef WIRE_HIST_H
#define WIRE_HIST_H

#include <stdatomic.h>

#include "core/core.h"

#define WIRE_HIST_BUCKETS (64 * 8)

typedef struct wire_hist {
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum;
    atomic_uint_fast64_t max;
    atomic_uint_fast64_t b[WIRE_HIST_BUCKETS];
} wire_hist;

void wire_hist_record(wire_hist *h, uint64_t v);
/* Value at quantile q in [0,1] (upper edge of its bucket); 0 if empty. */
uint64_t wire_hist_quantile(const wire_hist *h, double q);

#endif
