/*
 * map.h — a small chained hash map with string keys, for the state machine's
 * tables (fsm.c). Not thread-safe; values are freed by the table's free_val.
 */
#ifndef WIRE_CLUSTER_MAP_H
#define WIRE_CLUSTER_MAP_H

#include "core/core.h"

typedef struct wire_map_item {
    struct wire_map_item *next;
    uint64_t h;
    size_t klen;
    char *key; /* owned */
    void *val; /* owned by the table's free function */
} wire_map_item;

typedef struct wire_map {
    wire_map_item **b;
    size_t nb, n;
    void (*free_val)(void *);
} wire_map;

void wire_map_init(wire_map *m, void (*free_val)(void *));
void wire_map_clear(wire_map *m); /* every item freed; stays usable */
void wire_map_free(wire_map *m);
wire_map_item *wire_map_find(const wire_map *m, const char *k, size_t n);
/* Insert or replace; the map takes ownership of val (the old one is freed). */
void wire_map_put(wire_map *m, const char *k, size_t n, void *val);
bool wire_map_del(wire_map *m, const char *k, size_t n);
/* The items in key order (caller frees the array). */
wire_map_item **wire_map_sorted(const wire_map *m);
/* qsort order of items (wire_map_item * elements) by key. */
int wire_map_item_cmp(const void *a, const void *b);

#endif
