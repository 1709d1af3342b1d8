/*
 * map.c — the state machine's tables: a small chained hash map with string
 * keys, values owned through the table's free function (cluster/map.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/map.h"

void wire_map_init(wire_map *m, void (*free_val)(void *))
{
    m->nb = 64;
    m->n = 0;
    m->b = wire_xcalloc(m->nb, sizeof(wire_map_item *));
    m->free_val = free_val;
}

void wire_map_clear(wire_map *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        for (wire_map_item *it = m->b[i], *nx; it; it = nx) {
            nx = it->next;
            m->free_val(it->val);
            free(it->key);
            free(it);
        }
        m->b[i] = NULL;
    }
    m->n = 0;
}

void wire_map_free(wire_map *m)
{
    wire_map_clear(m);
    free(m->b);
}

static uint64_t hkey(const char *k, size_t n)
{
    return wire_hash64(k, n, 1469598103934665603ull);
}

wire_map_item *wire_map_find(const wire_map *m, const char *k, size_t n)
{
    uint64_t h = hkey(k, n);
    for (wire_map_item *it = m->b[h & (m->nb - 1)]; it; it = it->next)
        if (it->h == h && it->klen == n && memcmp(it->key, k, n) == 0)
            return it;
    return NULL;
}

static void wire_map_grow(wire_map *m)
{
    size_t nb = m->nb * 2;
    wire_map_item **b = wire_xcalloc(nb, sizeof(wire_map_item *));
    for (size_t i = 0; i < m->nb; i++)
        for (wire_map_item *it = m->b[i], *nx; it; it = nx) {
            nx = it->next;
            it->next = b[it->h & (nb - 1)];
            b[it->h & (nb - 1)] = it;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

/* Insert or replace; the map takes ownership of val (the old one is freed). */
void wire_map_put(wire_map *m, const char *k, size_t n, void *val)
{
    wire_map_item *it = wire_map_find(m, k, n);
    if (it) {
        m->free_val(it->val);
        it->val = val;
        return;
    }
    if (m->n >= m->nb)
        wire_map_grow(m);
    it = wire_xmalloc(sizeof(*it));
    it->h = hkey(k, n);
    it->klen = n;
    it->key = wire_xstrndup(k, n);
    it->val = val;
    it->next = m->b[it->h & (m->nb - 1)];
    m->b[it->h & (m->nb - 1)] = it;
    m->n++;
}

bool wire_map_del(wire_map *m, const char *k, size_t n)
{
    uint64_t h = hkey(k, n);
    for (wire_map_item **pp = &m->b[h & (m->nb - 1)]; *pp; pp = &(*pp)->next) {
        wire_map_item *it = *pp;
        if (it->h == h && it->klen == n && memcmp(it->key, k, n) == 0) {
            *pp = it->next;
            m->free_val(it->val);
            free(it->key);
            free(it);
            m->n--;
            return true;
        }
    }
    return false;
}

int wire_map_item_cmp(const void *a, const void *b)
{
    const wire_map_item *x = *(wire_map_item *const *)a, *y = *(wire_map_item *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* The items in key order (caller frees the array). */
wire_map_item **wire_map_sorted(const wire_map *m)
{
    wire_map_item **v = wire_xmalloc((m->n ? m->n : 1) * sizeof(wire_map_item *));
    size_t k = 0;
    for (size_t i = 0; i < m->nb; i++)
        for (wire_map_item *it = m->b[i]; it; it = it->next)
            v[k++] = it;
    qsort(v, k, sizeof(wire_map_item *), wire_map_item_cmp);
    return v;
}
