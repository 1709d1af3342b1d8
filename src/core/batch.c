/*
 * batch.c — batches of events, their pool, and event ids.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"

struct wire_batch_pool {
    pthread_mutex_t lock;
    wire_batch *free;
    size_t nfree;
    size_t arena_chunk;
    size_t batch_size; /* >= sizeof(wire_batch): room for a layer's own bookkeeping */
};

static wire_batch *batch_alloc(size_t arena_chunk, size_t size)
{
    wire_batch *b = wire_xcalloc(1, size);
    wire_arena_init(&b->arena, arena_chunk);
    return b;
}

wire_batch *wire_batch_new(size_t arena_chunk)
{
    return batch_alloc(arena_chunk, sizeof(wire_batch));
}

void wire_batch_free(wire_batch *b)
{
    if (!b)
        return;
    wire_arena_free(&b->arena);
    free(b->ev);
    free(b->pos);
    free(b);
}

void wire_batch_clear(wire_batch *b)
{
    b->n = 0;
    b->npos = 0;
    b->bytes = 0;
    b->seq = 0;
    b->ingest_ms = 0;
    b->ingest_ns = 0;
    b->watermark = INT64_MIN;
    wire_arena_reset(&b->arena);
}

wire_event *wire_batch_push(wire_batch *b, const char *data, uint32_t len)
{
    if (WIRE_UNLIKELY(b->n == b->cap)) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->ev = wire_xrealloc(b->ev, b->cap * sizeof(*b->ev));
    }
    wire_event *e = &b->ev[b->n++];
    e->data = data;
    e->len = len;
    e->flags = 0;
    e->split = 0;
    e->key_len = 0;
    e->key = NULL;
    e->time_ms = 0;
    e->offset = 0;
    b->bytes += len;
    return e;
}

void wire_batch_set_position(wire_batch *b, const wire_position *p)
{
    for (uint32_t i = 0; i < b->npos; i++) {
        if (b->pos[i].split == p->split) {
            b->pos[i] = *p;
            return;
        }
    }
    if (b->npos == b->pos_cap) {
        b->pos_cap = b->pos_cap ? b->pos_cap * 2 : 4;
        b->pos = wire_xrealloc(b->pos, b->pos_cap * sizeof(*b->pos));
    }
    b->pos[b->npos++] = *p;
}

const wire_position *wire_batch_position(const wire_batch *b, uint32_t split)
{
    for (uint32_t i = 0; i < b->npos; i++)
        if (b->pos[i].split == split)
            return &b->pos[i];
    return NULL;
}

size_t wire_batch_mem(const wire_batch *b)
{
    return wire_arena_footprint(&b->arena) + b->cap * sizeof(wire_event) + sizeof(*b);
}

wire_batch_pool *wire_batch_pool_new(size_t arena_chunk, size_t batch_size)
{
    wire_batch_pool *p = wire_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    p->arena_chunk = arena_chunk;
    p->batch_size = batch_size > sizeof(wire_batch) ? batch_size : sizeof(wire_batch);
    return p;
}

void wire_batch_pool_free(wire_batch_pool *p)
{
    if (!p)
        return;
    while (p->free) {
        wire_batch *b = p->free;
        p->free = b->next;
        wire_batch_free(b);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

wire_batch *wire_batch_get(wire_batch_pool *p)
{
    pthread_mutex_lock(&p->lock);
    wire_batch *b = p->free;
    if (b) {
        p->free = b->next;
        p->nfree--;
    }
    pthread_mutex_unlock(&p->lock);
    if (!b)
        b = batch_alloc(p->arena_chunk, p->batch_size);
    else if (p->batch_size > sizeof(wire_batch))
        memset((char *)b + sizeof(wire_batch), 0, p->batch_size - sizeof(wire_batch));
    b->pool = p;
    b->next = NULL;
    return b;
}

void wire_batch_release(wire_batch *b)
{
    if (!b)
        return;
    wire_batch_pool *p = b->pool;
    if (!p) {
        wire_batch_free(b);
        return;
    }
    wire_batch_clear(b);
    pthread_mutex_lock(&p->lock);
    /* keep a handful for reuse; free the rest so memory shrinks after bursts */
    if (p->nfree < 16) {
        b->next = p->free;
        p->free = b;
        p->nfree++;
        b = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (b)
        wire_batch_free(b);
}

void wire_event_id(const wire_event *e, const wire_batch *b, uint64_t seed, char out[37])
{
    const wire_position *p = wire_batch_position(b, e->split);
    uint64_t ms = (uint64_t)(p ? p->epoch_ms : b->ingest_ms) & 0xFFFFFFFFFFFFULL;
    uint64_t ident[3] = {seed, p ? p->identity[0] : e->split, p ? p->identity[1] : 0};
    uint64_t h = wire_hash64(ident, sizeof(ident), 0x57697265ULL) & 0x3FFFFF; /* 22 bits */
    uint64_t off = e->offset & 0xFFFFFFFFFFFFFULL;                            /* 52 bits */
    /* 74 random bits = h(22) . off(52): rand_a = top 12, rand_b = low 62 */
    uint64_t rand_a = h >> 10;
    uint64_t rand_b = ((h & 0x3FF) << 52) | off;
    uint64_t hi = (ms << 16) | (0x7ULL << 12) | rand_a;
    uint64_t lo = (0x2ULL << 62) | rand_b;
    snprintf(out, 37, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
             (unsigned long long)((hi >> 16) & 0xFFFF), (unsigned long long)(hi & 0xFFFF),
             (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xFFFFFFFFFFFFULL));
}
