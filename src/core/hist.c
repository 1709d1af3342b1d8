/*
 * hist.c — log-linear histogram; see hist.h.
 */
#include "core/hist.h"

static unsigned bucket_of(uint64_t v)
{
    if (v < 8)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 3 */
    unsigned sub = (unsigned)(v >> (msb - 3)) & 7u;
    return (msb - 2) * 8 + sub;
}

static uint64_t bucket_upper(unsigned i)
{
    if (i < 8)
        return i;
    unsigned msb = i / 8 + 2, sub = i % 8;
    uint64_t base = (uint64_t)(8 + sub) << (msb - 3);
    return base + ((uint64_t)1 << (msb - 3)) - 1;
}

void wire_hist_record(wire_hist *h, uint64_t v)
{
    unsigned i = bucket_of(v);
    if (i >= WIRE_HIST_BUCKETS)
        i = WIRE_HIST_BUCKETS - 1;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&h->max, memory_order_relaxed);
    while (v > m && !atomic_compare_exchange_weak(&h->max, &m, v))
        ;
}

uint64_t wire_hist_quantile(const wire_hist *h, double q)
{
    uint64_t n = atomic_load(&h->count);
    if (n == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)n);
    if (rank >= n)
        rank = n - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < WIRE_HIST_BUCKETS; i++) {
        seen += atomic_load_explicit(&h->b[i], memory_order_relaxed);
        if (seen > rank) {
            uint64_t up = bucket_upper(i), mx = atomic_load(&h->max);
            return up < mx ? up : mx;
        }
    }
    return atomic_load(&h->max);
}
