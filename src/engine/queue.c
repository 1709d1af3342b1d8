/*
 * queue.c — byte-bounded blocking batch queue; see queue.h.
 */
#include <errno.h>
#include <time.h>

#include "engine/queue.h"

void wire_queue_init(wire_queue *q, size_t budget)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &ca);
    pthread_cond_init(&q->not_full, &ca);
    pthread_condattr_destroy(&ca);
    q->head = q->tail = NULL;
    q->count = 0;
    q->bytes = q->peak_bytes = 0;
    q->budget = budget;
    q->closed = q->aborted = false;
}

void wire_queue_destroy(wire_queue *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

static void append_locked(wire_queue *q, wire_batch *b)
{
    size_t mem = wire_batch_mem(b);
    b->next = NULL;
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->count++;
    q->bytes += mem;
    if (q->bytes > q->peak_bytes)
        q->peak_bytes = q->bytes;
    pthread_cond_signal(&q->not_empty);
}

int wire_queue_push(wire_queue *q, wire_batch *b)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && !q->aborted && q->count > 0 && q->bytes + wire_batch_mem(b) > q->budget)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed || q->aborted) {
        pthread_mutex_unlock(&q->lock);
        return WIRE_ECLOSED;
    }
    append_locked(q, b);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int wire_queue_push_control(wire_queue *q, wire_batch *b)
{
    pthread_mutex_lock(&q->lock);
    int rc = q->closed ? WIRE_ECLOSED : 0;
    if (rc == 0)
        append_locked(q, b);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

static struct timespec deadline_in(int64_t timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    return deadline;
}

int wire_queue_try_push(wire_queue *q, wire_batch *b, int64_t timeout_ms)
{
    int rc = 0;
    struct timespec deadline = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&q->lock);
    while (timeout_ms > 0 && !q->closed && !q->aborted && q->count > 0 &&
           q->bytes + wire_batch_mem(b) > q->budget &&
           pthread_cond_timedwait(&q->not_full, &q->lock, &deadline) != ETIMEDOUT)
        ;
    if (q->closed || q->aborted)
        rc = WIRE_ECLOSED;
    else if (q->count > 0 && q->bytes + wire_batch_mem(b) > q->budget)
        rc = WIRE_EAGAIN;
    else
        append_locked(q, b);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

wire_batch *wire_queue_pop(wire_queue *q, int64_t timeout_ms)
{
    struct timespec deadline = deadline_in(timeout_ms >= 0 ? timeout_ms : 0);
    pthread_mutex_lock(&q->lock);
    while (!q->head && !q->closed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->not_empty, &q->lock);
        } else if (pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    wire_batch *b = q->head;
    if (b) {
        q->head = b->next;
        if (!q->head)
            q->tail = NULL;
        q->count--;
        size_t mem = wire_batch_mem(b);
        q->bytes = q->bytes > mem ? q->bytes - mem : 0;
        b->next = NULL;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return b;
}

void wire_queue_close(wire_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

void wire_queue_abort(wire_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->aborted = true;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

bool wire_queue_drained(wire_queue *q)
{
    pthread_mutex_lock(&q->lock);
    bool d = q->closed && !q->head;
    pthread_mutex_unlock(&q->lock);
    return d;
}

size_t wire_queue_bytes(wire_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->bytes;
    pthread_mutex_unlock(&q->lock);
    return n;
}
