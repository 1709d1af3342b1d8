/*
 * tokens.c — the state machine's token table (docs/security.md): for each
 * API token its name, the SHA-256 of its secret, its role and when it was
 * made. Secrets never reach it: the node that creates a token hashes it
 * before proposing TOKEN_PUT. Kept sorted by name, so snapshots of equal
 * tables are equal bytes. Tokens are few (people and nodes), so a sorted
 * array and a linear scan by hash are enough; the lock is there because the
 * HTTP thread reads the table for every request while the loop thread
 * applies.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

struct wire_token_table {
    pthread_mutex_t mu;
    wire_token_rec *v;
    size_t n, cap;
};

wire_token_table *wire_token_table_new(void)
{
    wire_token_table *t = wire_xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

void wire_token_table_free(wire_token_table *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->v);
    free(t);
}

/* Byte order, a prefix first. */
static int name_cmp(const char *a, const char *b, size_t bl)
{
    size_t al = strlen(a);
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : al < bl ? -1 : al > bl ? 1 : 0;
}

/* Where `name` is, or would be inserted (*found says which). Under the lock. */
static size_t position(const wire_token_table *t, const char *name, size_t n, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = name_cmp(t->v[mid].info.name, name, n);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static uint8_t put(wire_token_table *t, const wire_cmd *c)
{
    int role = wire_role_parse(c->c, c->clen);
    if (!wire_token_name_ok(c->a, c->alen) || c->blen != WIRE_TOKEN_HASH || !role)
        return WIRE_APPLY_INVALID;
    if ((c->u2 & WIRE_TOKEN_FIRST) && t->n)
        return WIRE_APPLY_EXISTS;
    bool found;
    size_t at = position(t, c->a, c->alen, &found);
    if (found)
        return WIRE_APPLY_EXISTS;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->v = wire_xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    memmove(t->v + at + 1, t->v + at, (t->n - at) * sizeof(*t->v));
    wire_token_rec *r = &t->v[at];
    memset(r, 0, sizeof(*r));
    memcpy(r->info.name, c->a, c->alen);
    r->info.role = role;
    r->info.created_ms = (int64_t)c->u1;
    memcpy(r->hash, c->b, WIRE_TOKEN_HASH);
    t->n++;
    return WIRE_APPLY_OK;
}

static uint8_t del(wire_token_table *t, const wire_cmd *c)
{
    bool found;
    size_t at = position(t, c->a, c->alen, &found);
    if (!found)
        return WIRE_APPLY_NOTFOUND;
    memmove(t->v + at, t->v + at + 1, (t->n - at - 1) * sizeof(*t->v));
    t->n--;
    return WIRE_APPLY_OK;
}

uint8_t wire_token_table_apply(wire_token_table *t, const wire_cmd *c)
{
    pthread_mutex_lock(&t->mu);
    uint8_t res = c->type == WIRE_CMD_TOKEN_PUT ? put(t, c) : del(t, c);
    pthread_mutex_unlock(&t->mu);
    return res;
}

void wire_token_table_encode(wire_token_table *t, wire_buf *out)
{
    pthread_mutex_lock(&t->mu);
    wire_put_u64(out, t->n);
    for (size_t i = 0; i < t->n; i++) {
        const wire_token_rec *r = &t->v[i];
        wire_put_str(out, r->info.name, strlen(r->info.name));
        wire_put_str(out, (const char *)r->hash, WIRE_TOKEN_HASH);
        wire_put_u8(out, (uint8_t)r->info.role);
        wire_put_u64(out, (uint64_t)r->info.created_ms);
    }
    pthread_mutex_unlock(&t->mu);
}

size_t wire_token_table_decode(wire_rd *r, wire_token_rec **out)
{
    uint64_t cnt = wire_get_u64(r);
    *out = NULL;
    if (r->bad || cnt > (uint64_t)(r->end - r->p) / (4 + 4 + WIRE_TOKEN_HASH + 1 + 8)) {
        r->bad = true;
        return 0;
    }
    wire_token_rec *v = wire_xcalloc(cnt ? cnt : 1, sizeof(*v));
    for (uint64_t i = 0; i < cnt && !r->bad; i++) {
        size_t nl, hl;
        const char *name = wire_get_str(r, &nl), *hash = wire_get_str(r, &hl);
        int role = wire_get_u8(r);
        v[i].info.created_ms = (int64_t)wire_get_u64(r);
        if (r->bad || !wire_token_name_ok(name, nl) || hl != WIRE_TOKEN_HASH || role < 1 ||
            role > WIRE_ROLE_NODE || (i && name_cmp(v[i - 1].info.name, name, nl) >= 0)) {
            r->bad = true;
            break;
        }
        memcpy(v[i].info.name, name, nl);
        memcpy(v[i].hash, hash, WIRE_TOKEN_HASH);
        v[i].info.role = role;
    }
    *out = v;
    return (size_t)cnt;
}

void wire_token_table_set(wire_token_table *t, wire_token_rec *v, size_t n)
{
    pthread_mutex_lock(&t->mu);
    free(t->v);
    t->v = v;
    t->n = t->cap = n;
    pthread_mutex_unlock(&t->mu);
}

bool wire_token_table_find(wire_token_table *t, const uint8_t hash[WIRE_TOKEN_HASH],
                           wire_token_info *out)
{
    bool found = false;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n && !found; i++) {
        /* every entry is compared whole: no early exit that times the secret */
        uint8_t diff = 0;
        for (int k = 0; k < WIRE_TOKEN_HASH; k++)
            diff |= t->v[i].hash[k] ^ hash[k];
        if (!diff) {
            *out = t->v[i].info;
            found = true;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return found;
}

size_t wire_token_table_list(wire_token_table *t, wire_token_info **out)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->n;
    *out = wire_xcalloc(n ? n : 1, sizeof(**out));
    for (size_t i = 0; i < n; i++)
        (*out)[i] = t->v[i].info;
    pthread_mutex_unlock(&t->mu);
    return n;
}
