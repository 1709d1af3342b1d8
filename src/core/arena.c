/*
 * arena.c — chunked bump allocator. Per-batch event bytes, expression
 * temporaries and transform output live here and are released at once.
 * Chunks are kept across reset so a steady-state pipeline allocates nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct wire_arena_chunk {
    wire_arena_chunk *next;
    size_t size, used;
    char data[];
};

void wire_arena_init(wire_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->spare = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->used = 0;
}

static wire_arena_chunk *chunk_new(wire_arena *a, size_t need)
{
    /* reuse a spare chunk if it is big enough */
    wire_arena_chunk **pp = &a->spare;
    while (*pp) {
        if ((*pp)->size >= need) {
            wire_arena_chunk *c = *pp;
            *pp = c->next;
            c->used = 0;
            return c;
        }
        pp = &(*pp)->next;
    }
    size_t size = need > a->chunk_size ? need : a->chunk_size;
    wire_arena_chunk *c = wire_xmalloc(sizeof(*c) + size);
    c->size = size;
    c->used = 0;
    return c;
}

void *wire_arena_alloc_unaligned(wire_arena *a, size_t n)
{
    wire_arena_chunk *c = a->head;
    if (WIRE_UNLIKELY(!c || c->size - c->used < n)) {
        c = chunk_new(a, n);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used += n;
    return p;
}

void *wire_arena_alloc(wire_arena *a, size_t n)
{
    wire_arena_chunk *c = a->head;
    if (c) {
        size_t pad = (8 - (c->used & 7)) & 7;
        if (c->size - c->used >= n + pad) {
            c->used += pad;
            void *p = c->data + c->used;
            c->used += n;
            a->used += n + pad;
            return p;
        }
    }
    /* a fresh chunk's data is aligned (flexible array after pointer-sized fields) */
    c = chunk_new(a, n);
    c->next = a->head;
    a->head = c;
    c->used = n;
    a->used += n;
    return c->data;
}

char *wire_arena_strndup(wire_arena *a, const char *s, size_t n)
{
    char *p = wire_arena_alloc_unaligned(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void wire_arena_reset(wire_arena *a)
{
    while (a->head) {
        wire_arena_chunk *c = a->head;
        a->head = c->next;
        if (c->size > a->chunk_size * 4) {
            free(c); /* do not hoard one-off huge chunks */
        } else {
            c->next = a->spare;
            a->spare = c;
        }
    }
    a->used = 0;
}

void wire_arena_free(wire_arena *a)
{
    wire_arena_reset(a);
    while (a->spare) {
        wire_arena_chunk *c = a->spare;
        a->spare = c->next;
        free(c);
    }
}

size_t wire_arena_footprint(const wire_arena *a)
{
    size_t n = 0;
    for (const wire_arena_chunk *c = a->head; c; c = c->next)
        n += c->size;
    for (const wire_arena_chunk *c = a->spare; c; c = c->next)
        n += c->size;
    return n;
}
