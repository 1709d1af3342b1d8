/*
 * test_hll.c — HyperLogLog (core/hll.c) against exact counts: small sets
 * (exact through linear counting), 10^3 .. 10^6 distinct values within 3
 * standard errors (0.8 % each at p = 14), duplicates not counted, and a
 * merge of two sketches estimating their union.
 */
#include <math.h>

#include "core/hll.h"
#include "test.h"

static wire_hll h, g;

static void add_range(wire_hll *x, uint64_t from, uint64_t to)
{
    char buf[32];
    for (uint64_t i = from; i < to; i++) {
        int n = snprintf(buf, sizeof(buf), "user-%llu", (unsigned long long)i);
        wire_hll_add(x, buf, (size_t)n);
    }
}

static double rel_err(uint64_t est, uint64_t exact)
{
    return fabs((double)est - (double)exact) / (double)exact;
}

TEST(hll_small_and_empty)
{
    wire_hll_init(&h);
    CHECK_EQ_INT(wire_hll_count(&h), 0);
    add_range(&h, 0, 1);
    CHECK_EQ_INT(wire_hll_count(&h), 1);
    add_range(&h, 0, 100);
    CHECK(rel_err(wire_hll_count(&h), 100) < 0.02);
    add_range(&h, 0, 100); /* duplicates change nothing */
    CHECK(rel_err(wire_hll_count(&h), 100) < 0.02);
}

TEST(hll_large)
{
    static const uint64_t sizes[] = {1000, 10000, 100000, 1000000};
    for (size_t k = 0; k < WIRE_ARRAY_LEN(sizes); k++) {
        wire_hll_init(&h);
        add_range(&h, 0, sizes[k]);
        double e = rel_err(wire_hll_count(&h), sizes[k]);
        if (e >= 0.024)
            fprintf(stderr, "%llu: estimate %llu (%.2f%%)\n", (unsigned long long)sizes[k],
                    (unsigned long long)wire_hll_count(&h), 100 * e);
        CHECK(e < 0.024); /* 3 standard errors */
    }
}

TEST(hll_merge_is_the_union)
{
    wire_hll_init(&h);
    wire_hll_init(&g);
    add_range(&h, 0, 60000);
    add_range(&g, 40000, 100000); /* overlap 20,000 */
    wire_hll_merge(&h, &g);
    CHECK(rel_err(wire_hll_count(&h), 100000) < 0.024);
}

int main(void)
{
    RUN(hll_small_and_empty);
    RUN(hll_large);
    RUN(hll_merge_is_the_union);
    TEST_MAIN_END();
}
