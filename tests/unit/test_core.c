/* test_core.c — arenas, buffers, durations/sizes, diagnostics, batches, event ids. */
#include "core/core.h"
#include "core/event.h"
#include "core/hist.h"
#include "test.h"

TEST(arena_alignment_and_reuse)
{
    wire_arena a;
    wire_arena_init(&a, 1024);
    char *p1 = wire_arena_alloc_unaligned(&a, 3);
    void *p2 = wire_arena_alloc(&a, 16);
    CHECK(((uintptr_t)p2 & 7) == 0);
    CHECK(p1 != NULL);
    /* bigger than a chunk */
    char *big = wire_arena_alloc(&a, 5000);
    memset(big, 'x', 5000);
    CHECK(((uintptr_t)big & 7) == 0);
    size_t fp = wire_arena_footprint(&a);
    CHECK(fp >= 5000 + 1024);
    wire_arena_reset(&a);
    CHECK_EQ_INT(a.used, 0);
    /* chunks are kept for reuse: footprint unchanged after reset + realloc */
    for (int i = 0; i < 100; i++)
        wire_arena_alloc(&a, 8);
    CHECK(wire_arena_footprint(&a) <= fp);
    char *s = wire_arena_strndup(&a, "hello world", 5);
    CHECK_EQ_STR(s, "hello");
    wire_arena_free(&a);
}

TEST(buf_append_printf)
{
    wire_buf b;
    wire_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        wire_buf_printf(&b, "%d,", i);
    CHECK(b.len > 3000);
    CHECK(strncmp(b.p, "0,1,2,", 6) == 0);
    wire_buf_reset(&b);
    wire_buf_append(&b, "ab", 2);
    wire_buf_putc(&b, 'c');
    CHECK_EQ_STR(b.p, "abc");
    wire_buf_free(&b);
}

TEST(durations_and_sizes)
{
    int64_t v;
    CHECK(wire_parse_duration_ms("500ms", &v) == 0 && v == 500);
    CHECK(wire_parse_duration_ms("1s", &v) == 0 && v == 1000);
    CHECK(wire_parse_duration_ms("2m", &v) == 0 && v == 120000);
    CHECK(wire_parse_duration_ms("1.5s", &v) == 0 && v == 1500);
    CHECK(wire_parse_duration_ms("3", &v) == 0 && v == 3000);
    CHECK(wire_parse_duration_ms("1h", &v) == 0 && v == 3600000);
    CHECK(wire_parse_duration_ms("abc", &v) != 0);
    CHECK(wire_parse_duration_ms("1 fortnight", &v) != 0);
    CHECK(wire_parse_duration_ms("-1s", &v) != 0);
    CHECK(wire_parse_duration_ms("", &v) != 0);
    CHECK(wire_parse_size("64KB", &v) == 0 && v == 65536);
    CHECK(wire_parse_size("1MB", &v) == 0 && v == 1048576);
    CHECK(wire_parse_size("1mib", &v) == 0 && v == 1048576);
    CHECK(wire_parse_size("512", &v) == 0 && v == 512);
    CHECK(wire_parse_size("1GB", &v) == 0 && v == 1073741824);
    CHECK(wire_parse_size("1XB", &v) != 0);
}

TEST(diags_collect_in_order)
{
    wire_diags d = {0};
    wire_diags_add(&d, "a.yaml", 3, 5, "unknown key '%s'", "pth");
    wire_diags_add(&d, "a.yaml", 7, 1, "missing required option 'path'");
    CHECK_EQ_INT(d.n, 2);
    CHECK_EQ_STR(d.v[0].file, "a.yaml");
    CHECK_EQ_INT(d.v[0].line, 3);
    CHECK_EQ_INT(d.v[0].col, 5);
    CHECK_EQ_STR(d.v[0].msg, "unknown key 'pth'");
    wire_diags_free(&d);
    CHECK_EQ_INT(d.n, 0);
}

/* File order, stable: the problems of one position keep the order they were found in;
   the entries before `from` stay as they are. */
TEST(diags_sort_stable_by_position)
{
    wire_diags d = {0};
    wire_diags_add(&d, "a", 99, 1, "kept first");
    enum { N = 5000 };
    for (int i = N; i > 0; i--) /* reversed, each position twice */
        wire_diags_add(&d, "a", i / 2 + 1, i % 2 ? 3 : 1, "p%d", i);
    wire_diags_add(&d, "a", 2, 1, "late");
    wire_diags_sort(&d, 1);
    CHECK_EQ_INT(d.n, N + 2);
    CHECK_EQ_STR(d.v[0].msg, "kept first");
    for (size_t i = 2; i < d.n; i++)
        CHECK(d.v[i - 1].line < d.v[i].line ||
              (d.v[i - 1].line == d.v[i].line && d.v[i - 1].col <= d.v[i].col));
    /* line 2 col 1 holds p2 (found first), then "late" */
    size_t k = 1;
    while (k < d.n && !(d.v[k].line == 2 && d.v[k].col == 1))
        k++;
    CHECK_EQ_STR(d.v[k].msg, "p2");
    CHECK_EQ_STR(d.v[k + 1].msg, "late");
    wire_diags_sort(&d, d.n); /* nothing to sort */
    wire_diags_free(&d);
}

TEST(errf_sets_code_and_message)
{
    wire_err e;
    CHECK_EQ_INT(wire_errf(&e, WIRE_EIO, "open %s", "x"), WIRE_EIO);
    CHECK_EQ_STR(e.msg, "open x");
    CHECK_EQ_INT(e.offset, -1);
    CHECK_EQ_INT(wire_errf_at(&e, WIRE_EPARSE, 7, "bad"), WIRE_EPARSE);
    CHECK_EQ_INT(e.offset, 7);
}

TEST(batch_positions_replace_per_split)
{
    wire_batch *b = wire_batch_new(4096);
    wire_position p = {0};
    p.split = 1;
    p.offset = 10;
    wire_batch_set_position(b, &p);
    p.offset = 20;
    wire_batch_set_position(b, &p);
    p.split = 2;
    p.offset = 5;
    wire_batch_set_position(b, &p);
    CHECK_EQ_INT(b->npos, 2);
    CHECK_EQ_INT(wire_batch_position(b, 1)->offset, 20);
    CHECK_EQ_INT(wire_batch_position(b, 2)->offset, 5);
    CHECK(wire_batch_position(b, 3) == NULL);
    for (int i = 0; i < 5000; i++)
        wire_batch_push(b, "{}", 2);
    CHECK_EQ_INT(b->n, 5000);
    CHECK_EQ_INT(b->bytes, 10000);
    wire_batch_free(b);
}

TEST(event_id_is_uuidv7_and_replay_stable)
{
    wire_batch *b = wire_batch_new(4096);
    wire_position p = {0};
    p.identity[0] = 42;
    p.identity[1] = 7;
    p.epoch_ms = 1764400000000;
    wire_batch_set_position(b, &p);
    wire_event *e = wire_batch_push(b, "{}", 2);
    e->offset = 123456;
    char id1[37], id2[37], id3[37];
    wire_event_id(e, b, 99, id1);
    /* a different batch (replay) with the same position gives the same id */
    wire_batch *b2 = wire_batch_new(4096);
    b2->ingest_ms = 5;
    wire_batch_set_position(b2, &p);
    wire_event *e2 = wire_batch_push(b2, "{}", 2);
    e2->offset = 123456;
    wire_event_id(e2, b2, 99, id2);
    CHECK_EQ_STR(id1, id2);
    CHECK_EQ_INT(strlen(id1), 36);
    CHECK(id1[14] == '7');                                  /* version */
    CHECK(strchr("89ab", id1[19]) != NULL);                 /* variant */
    CHECK(strncmp(id1, "019ace", 6) == 0 || id1[8] == '-'); /* time prefix, dashes */
    e2->offset = 123457;
    wire_event_id(e2, b2, 99, id3);
    CHECK(strcmp(id1, id3) < 0); /* sorts by offset within a split */
    wire_batch_free(b);
    wire_batch_free(b2);
}

TEST(batch_pool_reuses)
{
    wire_batch_pool *pool = wire_batch_pool_new(4096, 0);
    wire_batch *b = wire_batch_get(pool);
    wire_batch_push(b, "{}", 2);
    wire_batch_release(b);
    wire_batch *b2 = wire_batch_get(pool);
    CHECK(b2 == b);
    CHECK_EQ_INT(b2->n, 0);
    wire_batch_release(b2);
    wire_batch_pool_free(pool);
}

TEST(hist_quantiles_within_bucket_error)
{
    static wire_hist h; /* zeroed */
    for (uint64_t v = 1; v <= 10000; v++)
        wire_hist_record(&h, v);
    uint64_t p50 = wire_hist_quantile(&h, 0.5), p99 = wire_hist_quantile(&h, 0.99);
    CHECK(p50 >= 5000 && p50 <= 5000 * 1.13);
    CHECK(p99 >= 9900 && p99 <= 10000);
    CHECK_EQ_INT(wire_hist_quantile(&h, 1.0), 10000);
    static wire_hist empty;
    CHECK_EQ_INT(wire_hist_quantile(&empty, 0.5), 0);
}

int main(void)
{
    RUN(hist_quantiles_within_bucket_error);
    RUN(arena_alignment_and_reuse);
    RUN(buf_append_printf);
    RUN(durations_and_sizes);
    RUN(diags_collect_in_order);
    RUN(diags_sort_stable_by_position);
    RUN(errf_sets_code_and_message);
    RUN(batch_positions_replace_per_split);
    RUN(event_id_is_uuidv7_and_replay_stable);
    RUN(batch_pool_reuses);
    TEST_MAIN_END();
}
