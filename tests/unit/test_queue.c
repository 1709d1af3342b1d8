/* test_queue.c — the byte-bounded batch queue: FIFO order, budget, close, abort. */
#include <pthread.h>
#include <time.h>

#include "engine/queue.h"
#include "test.h"

static wire_batch *batch_of(size_t bytes)
{
    wire_batch *b = wire_batch_new(bytes ? bytes : 64);
    if (bytes)
        wire_arena_alloc(&b->arena, bytes);
    return b;
}

TEST(fifo_order)
{
    wire_queue q;
    wire_queue_init(&q, 1 << 20);
    wire_batch *b[5];
    for (int i = 0; i < 5; i++) {
        b[i] = batch_of(10);
        b[i]->seq = (uint64_t)i;
        CHECK_EQ_INT(wire_queue_push(&q, b[i]), 0);
    }
    for (int i = 0; i < 5; i++) {
        wire_batch *x = wire_queue_pop(&q, 0);
        CHECK(x == b[i]);
        wire_batch_free(x);
    }
    CHECK(wire_queue_pop(&q, 0) == NULL);
    wire_queue_destroy(&q);
}

TEST(budget_try_push)
{
    wire_queue q;
    wire_queue_init(&q, 100 * 1024);
    wire_batch *a = batch_of(60 * 1024), *b = batch_of(60 * 1024);
    CHECK_EQ_INT(wire_queue_try_push(&q, a, 0), 0);
    CHECK_EQ_INT(wire_queue_try_push(&q, b, 0), WIRE_EAGAIN);  /* over budget */
    CHECK_EQ_INT(wire_queue_try_push(&q, b, 20), WIRE_EAGAIN); /* and still, after waiting */
    wire_batch *x = wire_queue_pop(&q, 0);
    CHECK(x == a);
    CHECK_EQ_INT(wire_queue_try_push(&q, b, 0), 0); /* one batch is always admitted */
    wire_batch_free(x);
    wire_batch_free(wire_queue_pop(&q, 0));
    wire_queue_destroy(&q);
}

static void *pop_later(void *arg)
{
    wire_queue *q = arg;
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
    return wire_queue_pop(q, 1000);
}

/* a bounded wait is admitted as soon as a pop makes room, and an abort ends it */
TEST(try_push_waits_for_room)
{
    wire_queue q;
    wire_queue_init(&q, 100 * 1024);
    wire_batch *a = batch_of(60 * 1024), *b = batch_of(60 * 1024);
    CHECK_EQ_INT(wire_queue_try_push(&q, a, 0), 0);
    pthread_t t;
    pthread_create(&t, NULL, pop_later, &q);
    CHECK_EQ_INT(wire_queue_try_push(&q, b, 60000), 0); /* returns at the pop, not in 60 s */
    void *popped = NULL;
    pthread_join(t, &popped);
    CHECK(popped == a);
    wire_batch_free(popped);
    wire_batch *c = batch_of(60 * 1024);
    wire_queue_abort(&q);
    CHECK_EQ_INT(wire_queue_try_push(&q, c, 60000), WIRE_ECLOSED);
    wire_batch_free(c);
    wire_batch_free(wire_queue_pop(&q, 0));
    wire_queue_destroy(&q);
}

typedef struct {
    wire_queue *q;
    int pushed;
} pusher_arg;

static void *pusher(void *arg)
{
    pusher_arg *pa = arg;
    for (int i = 0; i < 50; i++) {
        wire_batch *b = batch_of(32 * 1024);
        if (wire_queue_push(pa->q, b) != 0) {
            wire_batch_free(b);
            break;
        }
        pa->pushed++;
    }
    wire_queue_close(pa->q);
    return NULL;
}

TEST(blocking_push_bounded_memory)
{
    wire_queue q;
    wire_queue_init(&q, 128 * 1024);
    pusher_arg pa = {&q, 0};
    pthread_t t;
    pthread_create(&t, NULL, pusher, &pa);
    int popped = 0;
    wire_batch *b;
    while ((b = wire_queue_pop(&q, 1000)) != NULL) {
        popped++;
        wire_batch_free(b);
        wire_sleep_ms(1);
    }
    pthread_join(t, NULL);
    CHECK_EQ_INT(popped, 50);
    CHECK_EQ_INT(pa.pushed, 50);
    /* the producer was held back: never more than budget + one batch queued */
    CHECK(q.peak_bytes <= 128 * 1024 + 40 * 1024);
    CHECK(wire_queue_drained(&q));
    wire_queue_destroy(&q);
}

TEST(abort_unblocks_pusher)
{
    wire_queue q;
    wire_queue_init(&q, 16 * 1024);
    pusher_arg pa = {&q, 0};
    pthread_t t;
    pthread_create(&t, NULL, pusher, &pa);
    wire_sleep_ms(50);
    wire_queue_abort(&q);
    pthread_join(t, NULL);
    CHECK(pa.pushed < 50);
    wire_batch *b;
    int n = 0;
    while ((b = wire_queue_pop(&q, 0)) != NULL) {
        n++;
        wire_batch_free(b);
    }
    CHECK_EQ_INT(n, pa.pushed);
    wire_queue_destroy(&q);
}

TEST(pop_timeout)
{
    wire_queue q;
    wire_queue_init(&q, 1024);
    int64_t t0 = wire_mono_ns();
    CHECK(wire_queue_pop(&q, 50) == NULL);
    CHECK(wire_mono_ns() - t0 >= 45 * 1000000LL);
    wire_queue_close(&q);
    CHECK(wire_queue_pop(&q, -1) == NULL);
    CHECK_EQ_INT(wire_queue_push(&q, NULL), WIRE_ECLOSED);
    wire_queue_destroy(&q);
}

int main(void)
{
    RUN(fifo_order);
    RUN(budget_try_push);
    RUN(try_push_waits_for_room);
    RUN(blocking_push_bounded_memory);
    RUN(abort_unblocks_pusher);
    RUN(pop_timeout);
    TEST_MAIN_END();
}
