/*
 * queue.h — a blocking FIFO of batches bounded in bytes (internal to the
 * engine). Push blocks while the queue holds more than its budget (one batch
 * is always admitted, so an oversized batch cannot deadlock); pop blocks
 * until a batch arrives, the timeout passes or the queue is closed and empty.
 */
#ifndef WIRE_QUEUE_H
#define WIRE_QUEUE_H

#include <pthread.h>

#include "core/event.h"

typedef struct wire_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    wire_batch *head, *tail;
    size_t count;
    size_t bytes, budget, peak_bytes;
    bool closed;  /* no more pushes; pops drain what is left */
    bool aborted; /* pushes fail at once (pipeline stopping) */
} wire_queue;

void wire_queue_init(wire_queue *q, size_t budget);
void wire_queue_destroy(wire_queue *q);
/* 0, or WIRE_ECLOSED (closed/aborted: the caller still owns b). */
int wire_queue_push(wire_queue *q, wire_batch *b);
/* Enqueue a control batch (checkpoint barrier): ignores the budget and an
   abort (a stopping pipeline still takes its final barrier); fails only
   when closed. */
int wire_queue_push_control(wire_queue *q, wire_batch *b);
/* As push, waiting at most timeout_ms (0: not at all) for room: WIRE_EAGAIN
   if still over budget (the caller still owns b). */
int wire_queue_try_push(wire_queue *q, wire_batch *b, int64_t timeout_ms);
/* timeout_ms < 0: wait forever. Returns NULL on timeout or closed-and-empty. */
wire_batch *wire_queue_pop(wire_queue *q, int64_t timeout_ms);
void wire_queue_close(wire_queue *q);
/* Make blocked and future pushes fail (pops still drain). */
void wire_queue_abort(wire_queue *q);
bool wire_queue_drained(wire_queue *q); /* closed and empty */
size_t wire_queue_bytes(wire_queue *q);

#endif
