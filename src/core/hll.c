/*
 * hll.c — HyperLogLog (hll.h).
 */
#include <math.h>
#include <string.h>

#include "core/hll.h"

void wire_hll_init(wire_hll *h)
{
    memset(h->reg, 0, sizeof(h->reg));
}

void wire_hll_add_hash(wire_hll *h, uint64_t x)
{
    /* the top P bits pick the register; the rank is the position of the first 1 after them */
    uint32_t idx = (uint32_t)(x >> (64 - WIRE_HLL_P));
    uint64_t rest = x << WIRE_HLL_P;
    uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - WIRE_HLL_P + 1);
    if (rank > h->reg[idx])
        h->reg[idx] = rank;
}

void wire_hll_add(wire_hll *h, const void *p, size_t n)
{
    /* a finaliser over the hash: wire_hash64's low bits are good, its top bits pick registers */
    uint64_t x = wire_hash64(p, n, 0x48594c4c);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    wire_hll_add_hash(h, x);
}

void wire_hll_merge(wire_hll *into, const wire_hll *from)
{
    for (uint32_t i = 0; i < WIRE_HLL_M; i++)
        if (from->reg[i] > into->reg[i])
            into->reg[i] = from->reg[i];
}

uint64_t wire_hll_count(const wire_hll *h)
{
    double m = WIRE_HLL_M, sum = 0;
    uint32_t zeros = 0;
    for (uint32_t i = 0; i < WIRE_HLL_M; i++) {
        sum += ldexp(1.0, -h->reg[i]);
        zeros += h->reg[i] == 0;
    }
    double alpha = 0.7213 / (1.0 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros) /* small range: linear counting */
        e = m * log(m / zeros);
    return (uint64_t)llround(e);
}
