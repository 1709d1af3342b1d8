/*
 * fsm.c — Wire's replicated state machine: the tables every node holds
 * identically, changed only by applying committed Raft entries.
 *
 *   kv          key → value                          (issue 4)
 *   nodes       id → raft addr, api addr, voter, last seen
 *   pipelines   name → version, state, error, spec,
 *               assignment (node, epoch), checkpoint (epoch, blob)   (issue 5)
 *   sessions    node id → incarnation, the last forwards' seqs and results
 *               (a forward retried after its leader died applies once)
 *   tokens      name → SHA-256 of the secret, role, created (tokens.c; issue 13)
 *
 * Apply is deterministic: it reads no clock, no randomness, nothing but the
 * entry (times travel inside commands). Each command yields a result code
 * (WIRE_APPLY_*), kept for the leader to hand back to the request that
 * proposed it. Commands of an unknown type or version are skipped with
 * WIRE_APPLY_UNKNOWN on every node alike.
 *
 * Snapshots encode every table in sorted key order, so equal states encode
 * to equal bytes; snapshot.c frames and compresses them.
 *
 * Snapshots are asynchronous (raft_fsm version 3): encoding and compressing
 * a large KV on the loop thread stalled every request behind it (p99 of KV
 * writes 180 ms under wrk with a snapshot every 8,192 entries, 5.5 ms
 * without). On the loop thread, snapshot() encodes the small tables (nodes,
 * pipelines) and freezes the KV table: until finalize, KV writes go to an
 * overlay (`kv_delta`, a NULL value marks a delete) and reads look there
 * first. snapshot_async() runs on libuv's thread pool and reads only the
 * frozen table; snapshot_finalize() (loop thread, after the snapshot is on
 * disk) folds the overlay back in, O(writes meanwhile).
 */
#include <inttypes.h>
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "cluster/map.h"

/* ---- Records ---- */

typedef struct kv_val {
    size_t len;
    char data[]; /* NUL-terminated for convenience */
} kv_val;

typedef struct node_val {
    char *raft_addr, *api_addr;
    bool voter, draining;
    int64_t last_seen_ms;
} node_val;

typedef struct pipe_val {
    uint64_t version, epoch, cp_epoch;
    int state;
    char *spec, *error, *node, *cp, *placement, *stats;
    size_t spec_len, cp_len;
} pipe_val;

static void free_node(void *p)
{
    node_val *v = p;
    free(v->raft_addr);
    free(v->api_addr);
    free(v);
}

static void free_pipe(void *p)
{
    pipe_val *v = p;
    free(v->spec);
    free(v->error);
    free(v->node);
    free(v->cp);
    free(v->placement);
    free(v->stats);
    free(v);
}

/* A snapshot being taken: what the loop thread encoded, and the frozen KV's state. */
typedef struct snap_job {
    bool frozen;    /* kv is read-only; KV writes go to kv_delta */
    size_t kv_live; /* the KV's size as reads see it while frozen */
    wire_buf head;  /* format version, applied, term, epoch sequence */
    wire_buf rest;  /* nodes and pipelines */
    uint64_t index; /* the snapshot's index and term */
    uint64_t term;
} snap_job;

/* One forward's results, kept to answer its retries. */
typedef struct session_slot {
    uint64_t seq; /* 0: empty */
    uint8_t *res;
    uint32_t n;
} session_slot;

/* A forwarding node's session: seq s is applied iff slot[s % WINDOW].seq == s
   while s > last - WINDOW; older seqs are past telling. */
typedef struct session_val {
    uint64_t incarnation, last;
    session_slot slot[WIRE_SESSION_WINDOW];
} session_val;

static void free_session(void *p)
{
    session_val *v = p;
    for (int i = 0; i < WIRE_SESSION_WINDOW; i++)
        free(v->slot[i].res);
    free(v);
}

/* The session group being applied: the commands after a SESSION command. */
enum { GROUP_APPLY, GROUP_DUPLICATE, GROUP_EXPIRED };
typedef struct session_group {
    uint64_t left; /* commands of the group still to come in this entry */
    int mode;
    session_slot *slot; /* APPLY: where results go; DUPLICATE: where they come from */
    uint32_t i;
} session_group;

struct wire_fsm {
    struct raft_fsm rf;
    struct raft *raft;
    wire_map kv, nodes, pipes, sessions;
    wire_token_table *tokens;
    session_group group;
    wire_map kv_delta; /* KV writes while a snapshot is taken (see the header) */
    snap_job snap;
    bool async; /* snapshot_async runs on the io's thread pool (version 3) */
    uint64_t applied, term, restores;
    uint64_t epoch_seq; /* the last assignment epoch handed out, cluster-wide */
    uint8_t *results;
    uint32_t nresults, cap_results;
    void (*on_apply)(void *arg, uint64_t index);
    void *on_apply_arg;
};

static kv_val *kv_new(const char *v, size_t n)
{
    kv_val *x = wire_xmalloc(sizeof(*x) + n + 1);
    x->len = n;
    memcpy(x->data, v, n);
    x->data[n] = 0;
    return x;
}

/* The KV value of key as reads see it (the overlay first while frozen), or NULL. */
static kv_val *kv_lookup(const wire_fsm *f, const char *k, size_t n)
{
    if (f->snap.frozen) {
        wire_map_item *d = wire_map_find(&f->kv_delta, k, n);
        if (d)
            return d->val;
    }
    wire_map_item *it = wire_map_find(&f->kv, k, n);
    return it ? it->val : NULL;
}

static void kv_set(wire_fsm *f, const char *k, size_t n, kv_val *v)
{
    if (!f->snap.frozen) {
        wire_map_put(&f->kv, k, n, v);
        return;
    }
    if (!kv_lookup(f, k, n))
        f->snap.kv_live++;
    wire_map_put(&f->kv_delta, k, n, v);
}

static bool kv_del(wire_fsm *f, const char *k, size_t n)
{
    if (!f->snap.frozen)
        return wire_map_del(&f->kv, k, n);
    if (!kv_lookup(f, k, n))
        return false;
    f->snap.kv_live--;
    wire_map_put(&f->kv_delta, k, n, NULL);
    return true;
}

/* After a snapshot: fold the overlay into the table and thaw it. */
static void kv_thaw(wire_fsm *f)
{
    for (size_t i = 0; i < f->kv_delta.nb; i++)
        for (wire_map_item *it = f->kv_delta.b[i]; it; it = it->next) {
            if (it->val)
                wire_map_put(&f->kv, it->key, it->klen, it->val);
            else
                wire_map_del(&f->kv, it->key, it->klen);
            it->val = NULL; /* moved, or a delete mark */
        }
    wire_map_clear(&f->kv_delta);
    f->snap.frozen = false;
}

static char *dupn(const char *s, size_t n)
{
    return wire_xstrndup(s ? s : "", s ? n : 0);
}

/* Pipelines that should run (pending or running): what --max-pipelines caps. */
static uint64_t pipes_to_run(const wire_fsm *f)
{
    uint64_t n = 0;
    for (size_t i = 0; i < f->pipes.nb; i++)
        for (wire_map_item *it = f->pipes.b[i]; it; it = it->next) {
            const pipe_val *v = it->val;
            n += v->state == WIRE_PSTATE_PENDING || v->state == WIRE_PSTATE_RUNNING;
        }
    return n;
}

static pipe_val *pipe_get(wire_fsm *f, const wire_cmd *c)
{
    wire_map_item *it = wire_map_find(&f->pipes, c->a, c->alen);
    return it ? it->val : NULL;
}

/* The pipeline file's rule for names, checked again here: every node alike. */
static bool pipeline_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

/* ---- Parallel instances: the records NAME, NAME#1, NAME#2, ... ---- */

/* The record name of instance i of pipeline `name` (NAME for 0); its length. */
static size_t instance_key(const char *name, size_t n, uint64_t i, char *out)
{
    if (i == 0) {
        memcpy(out, name, n);
        return n;
    }
    return (size_t)snprintf(out, WIRE_INSTANCE_NAME_MAX, "%.*s#%" PRIu64, (int)n, name, i);
}

uint32_t wire_instance_of(const char *record, size_t *base_len)
{
    const char *h = strchr(record, '#');
    *base_len = h ? (size_t)(h - record) : strlen(record);
    return h ? (uint32_t)strtoul(h + 1, NULL, 10) : 0;
}

bool wire_instance_sibling(const char *record, const char *name)
{
    size_t n = strlen(record);
    return strncmp(name, record, n) == 0 && name[n] == '#';
}

/* How many instances pipeline `name` has (its records NAME, NAME#1, ... up to a gap). */
static uint64_t instances_of(const wire_fsm *f, const char *name, size_t n)
{
    char key[WIRE_INSTANCE_NAME_MAX];
    uint64_t i = 0;
    while (i < WIRE_MAX_INSTANCES && wire_map_find(&f->pipes, key, instance_key(name, n, i, key)))
        i++;
    return i;
}

static void del_instances(wire_fsm *f, const char *name, size_t n)
{
    char key[WIRE_INSTANCE_NAME_MAX];
    for (uint64_t i = 1; i < WIRE_MAX_INSTANCES; i++)
        if (!wire_map_del(&f->pipes, key, instance_key(name, n, i, key)))
            break;
}

/* Create or update one instance's record from a PUT, to version `version` (every
   instance alike); a new one is paused when the pipeline is. */
static void put_instance(wire_fsm *f, const char *key, size_t kn, const wire_cmd *c,
                         uint64_t version, bool paused)
{
    wire_map_item *it = wire_map_find(&f->pipes, key, kn);
    pipe_val *v = it ? it->val : NULL;
    if (!v) {
        v = wire_xcalloc(1, sizeof(*v));
        v->error = dupn("", 0);
        v->node = dupn("", 0);
        v->cp = dupn("", 0);
        v->placement = dupn("", 0);
        v->stats = dupn("", 0);
        v->state = paused ? WIRE_PSTATE_PAUSED : WIRE_PSTATE_PENDING;
        wire_map_put(&f->pipes, key, kn, v);
    }
    free(v->spec);
    v->spec = dupn(c->c, c->clen);
    v->spec_len = c->clen;
    free(v->placement);
    /* pinned elsewhere now: its node stops it and hands it back (runners.c), then
       the leader places it; the assignment stays until then, so the two never overlap */
    v->placement = dupn(c->b, c->blen);
    v->version = version;
    if (v->state != WIRE_PSTATE_PAUSED)
        v->state = WIRE_PSTATE_PENDING;
    free(v->error);
    v->error = dupn("", 0);
}

static void pipe_ctl(wire_fsm *f, pipe_val *v, uint64_t action)
{
    if (action == WIRE_CTL_PAUSE) {
        v->state = WIRE_PSTATE_PAUSED;
    } else {
        if (v->state == WIRE_PSTATE_PENDING || v->state == WIRE_PSTATE_RUNNING)
            return;
        /* a new run: a new epoch, so the node starts it afresh from the checkpoint */
        v->state = WIRE_PSTATE_PENDING;
        v->epoch = ++f->epoch_seq;
    }
    free(v->error);
    v->error = dupn("", 0);
}

static uint8_t apply_cmd(wire_fsm *f, const wire_cmd *c)
{
    if (c->version != 1 || c->type == 0 || c->type > WIRE_CMD_MAX_TYPE)
        return WIRE_APPLY_UNKNOWN;
    switch (c->type) {
    case WIRE_CMD_KV_SET: kv_set(f, c->a, c->alen, kv_new(c->b, c->blen)); return WIRE_APPLY_OK;
    case WIRE_CMD_KV_DEL: return kv_del(f, c->a, c->alen) ? WIRE_APPLY_OK : WIRE_APPLY_NOTFOUND;
    case WIRE_CMD_NODE_SET: {
        if (!c->alen || memchr(c->a, 0, c->alen))
            return WIRE_APPLY_INVALID;
        node_val *v = wire_xcalloc(1, sizeof(*v));
        wire_map_item *old = wire_map_find(&f->nodes, c->a, c->alen);
        v->last_seen_ms = old ? ((node_val *)old->val)->last_seen_ms : 0;
        v->draining = old ? ((node_val *)old->val)->draining : false;
        v->raft_addr = dupn(c->b, c->blen);
        v->api_addr = dupn(c->c, c->clen);
        v->voter = c->u2 != 0;
        wire_map_put(&f->nodes, c->a, c->alen, v);
        return WIRE_APPLY_OK;
    }
    case WIRE_CMD_NODE_DEL:
        wire_map_del(&f->sessions, c->a, c->alen); /* a node removed forwards nothing more */
        return wire_map_del(&f->nodes, c->a, c->alen) ? WIRE_APPLY_OK : WIRE_APPLY_NOTFOUND;
    case WIRE_CMD_NODE_DRAIN: {
        wire_map_item *it = wire_map_find(&f->nodes, c->a, c->alen);
        if (!it)
            return WIRE_APPLY_NOTFOUND;
        ((node_val *)it->val)->draining = c->u1 != 0;
        return WIRE_APPLY_OK;
    }
    case WIRE_CMD_NODE_SEEN: {
        wire_map_item *it = wire_map_find(&f->nodes, c->a, c->alen);
        if (!it)
            return WIRE_APPLY_NOTFOUND;
        ((node_val *)it->val)->last_seen_ms = (int64_t)c->u1;
        return WIRE_APPLY_OK;
    }
    case WIRE_CMD_PIPELINE_PUT: {
        if (!pipeline_name_ok(c->a, c->alen) || (c->blen && memchr(c->b, 0, c->blen)) ||
            c->u3 > WIRE_MAX_INSTANCES)
            return WIRE_APPLY_INVALID;
        pipe_val *v = pipe_get(f, c);
        if (c->u1 == 0 && v)
            return WIRE_APPLY_EXISTS;
        if (c->u1 != 0 && (!v || (c->u1 != UINT64_MAX && v->version != c->u1)))
            return v ? WIRE_APPLY_CONFLICT : WIRE_APPLY_NOTFOUND;
        uint64_t want = c->u3 ? c->u3 : 1, have = v ? instances_of(f, c->a, c->alen) : 0;
        /* beyond the cluster's room (--max-pipelines on each of its nodes): every instance
           counts, so a create, or an update adding instances, may not fit */
        if (c->u2 && want > have &&
            pipes_to_run(f) + (want - have) > c->u2 * (f->nodes.n ? f->nodes.n : 1))
            return WIRE_APPLY_FULL;
        /* the pipeline's record is instance 0; instance i > 0 is the record NAME#i, which
           the scheduler places and the runners run like any pipeline */
        char key[WIRE_INSTANCE_NAME_MAX];
        uint64_t version = (v ? v->version : 0) + 1;
        bool paused = v && v->state == WIRE_PSTATE_PAUSED;
        for (uint64_t i = 0; i < WIRE_MAX_INSTANCES; i++) {
            size_t kn = instance_key(c->a, c->alen, i, key);
            if (i >= want) {
                if (!wire_map_del(&f->pipes, key, kn) && i >= have)
                    break;
                continue;
            }
            put_instance(f, key, kn, c, version, paused);
        }
        return WIRE_APPLY_OK;
    }
    case WIRE_CMD_PIPELINE_DEL:
        if (!wire_map_del(&f->pipes, c->a, c->alen))
            return WIRE_APPLY_NOTFOUND;
        del_instances(f, c->a, c->alen);
        return WIRE_APPLY_OK;
    case WIRE_CMD_PIPELINE_STATE: {
        /* A runner's report: only the current version on the current assignment counts. */
        pipe_val *v = pipe_get(f, c);
        if (!v)
            return WIRE_APPLY_NOTFOUND;
        if (c->u3 != v->epoch)
            return WIRE_APPLY_STALE;
        if (c->u1 != v->version || v->state == WIRE_PSTATE_PAUSED ||
            (c->u2 != WIRE_PSTATE_RUNNING && c->u2 != WIRE_PSTATE_FAILED &&
             c->u2 != WIRE_PSTATE_FINISHED))
            return WIRE_APPLY_CONFLICT;
        v->state = (int)c->u2;
        free(v->error);
        v->error = dupn(c->c, c->clen);
        return WIRE_APPLY_OK;
    }
    case WIRE_CMD_ASSIGN: {
        /* u1 is the epoch the proposer saw; the new one comes from one cluster-wide
           sequence, so a pipeline deleted and created again never reuses an epoch an old
           runner may still hold. */
        pipe_val *v = pipe_get(f, c);
        if (!v)
            return WIRE_APPLY_NOTFOUND;
        if (c->u1 != v->epoch)
            return WIRE_APPLY_CONFLICT;
        v->epoch = ++f->epoch_seq;
        free(v->node);
        v->node = dupn(c->b, c->blen);
        if (v->state == WIRE_PSTATE_RUNNING)
            v->state = WIRE_PSTATE_PENDING; /* until the new runner reports */
        return WIRE_APPLY_OK;
    }
    case WIRE_CMD_PIPELINE_CTL: {
        pipe_val *v = pipe_get(f, c);
        if (!v)
            return WIRE_APPLY_NOTFOUND;
        if (c->u1 != WIRE_CTL_PAUSE && c->u1 != WIRE_CTL_RESUME)
            return WIRE_APPLY_CONFLICT;
        /* every instance alike */
        char key[WIRE_INSTANCE_NAME_MAX];
        for (uint64_t i = 0; i < WIRE_MAX_INSTANCES; i++) {
            size_t kn = instance_key(c->a, c->alen, i, key);
            wire_map_item *it = wire_map_find(&f->pipes, key, kn);
            if (!it)
                break;
            pipe_ctl(f, it->val, c->u1);
        }
        return WIRE_APPLY_OK;
    }
    case WIRE_CMD_TOKEN_PUT:
    case WIRE_CMD_TOKEN_DEL: return wire_token_table_apply(f->tokens, c);
    case WIRE_CMD_CHECKPOINT: {
        pipe_val *v = pipe_get(f, c);
        if (!v)
            return WIRE_APPLY_NOTFOUND;
        if (c->u1 != v->epoch)
            return WIRE_APPLY_STALE;
        free(v->cp);
        v->cp = wire_xmalloc(c->clen + 1);
        memcpy(v->cp, c->c, c->clen);
        v->cp[c->clen] = 0;
        v->cp_len = c->clen;
        v->cp_epoch = c->u1;
        free(v->stats);
        v->stats = dupn(c->b, c->blen);
        return WIRE_APPLY_OK;
    }
    }
    return WIRE_APPLY_UNKNOWN;
}

/* A SESSION command: how the `count` commands after it are to be applied. */
static uint8_t session_begin(wire_fsm *f, const wire_cmd *c, uint32_t left_in_entry)
{
    session_group *g = &f->group;
    memset(g, 0, sizeof(*g));
    if (!c->alen || memchr(c->a, 0, c->alen) || c->u1 == 0)
        return WIRE_APPLY_INVALID;
    g->left = c->u2 < left_in_entry ? c->u2 : left_in_entry;
    wire_map_item *it = wire_map_find(&f->sessions, c->a, c->alen);
    if (!it) {
        wire_map_put(&f->sessions, c->a, c->alen, wire_xcalloc(1, sizeof(session_val)));
        it = wire_map_find(&f->sessions, c->a, c->alen);
        ((session_val *)it->val)->incarnation = c->u3;
    }
    session_val *v = it->val;
    if (c->u3 < v->incarnation) { /* a forward of the node's previous process */
        g->mode = GROUP_EXPIRED;
        return WIRE_APPLY_EXPIRED;
    }
    if (c->u3 > v->incarnation) { /* the node restarted: its old seqs are gone */
        for (int i = 0; i < WIRE_SESSION_WINDOW; i++) {
            free(v->slot[i].res);
            v->slot[i] = (session_slot){0};
        }
        v->incarnation = c->u3;
        v->last = 0;
    }
    uint64_t seq = c->u1;
    session_slot *slot = &v->slot[seq % WIRE_SESSION_WINDOW];
    if (seq <= v->last && v->last - seq >= WIRE_SESSION_WINDOW) {
        g->mode = GROUP_EXPIRED;
        return WIRE_APPLY_EXPIRED;
    }
    if (seq <= v->last && slot->seq == seq) {
        g->mode = GROUP_DUPLICATE;
        g->slot = slot;
        return WIRE_APPLY_DUPLICATE;
    }
    free(slot->res);
    slot->seq = seq;
    slot->n = (uint32_t)g->left;
    slot->res = wire_xmalloc(g->left ? g->left : 1);
    if (seq > v->last)
        v->last = seq;
    g->mode = GROUP_APPLY;
    g->slot = slot;
    return WIRE_APPLY_OK;
}

/* One command of the current session group: applied once, or answered from the slot. */
static uint8_t session_next(wire_fsm *f, const wire_cmd *c)
{
    session_group *g = &f->group;
    g->left--;
    uint32_t i = g->i++;
    switch (g->mode) {
    case GROUP_DUPLICATE: return i < g->slot->n ? g->slot->res[i] : WIRE_APPLY_OK;
    case GROUP_EXPIRED: return WIRE_APPLY_EXPIRED;
    }
    uint8_t r = apply_cmd(f, c);
    if (i < g->slot->n)
        g->slot->res[i] = r;
    return r;
}

int wire_fsm_apply_entry(wire_fsm *f, uint64_t index, const void *p, size_t n)
{
    wire_err err;
    wire_entry_iter it;
    f->nresults = 0;
    f->applied = index;
    if (wire_entry_open(&it, p, n, &err) != 0) {
        /* A malformed entry is skipped alike on every node; Raft must move on. */
        wire_warn("fsm: entry %llu skipped: %s", (unsigned long long)index, err.msg);
        return 0;
    }
    f->term = it.term;
    if (it.left > f->cap_results) {
        f->cap_results = it.left;
        f->results = wire_xrealloc(f->results, f->cap_results);
    }
    wire_cmd c;
    int rc;
    f->group.left = 0; /* a session's commands never span entries */
    while ((rc = wire_entry_next(&it, &c, &err)) == 1) {
        uint8_t r;
        if (f->group.left > 0)
            r = session_next(f, &c);
        else if (c.type == WIRE_CMD_SESSION && c.version == 1)
            r = session_begin(f, &c, it.left);
        else
            r = apply_cmd(f, &c);
        f->results[f->nresults++] = r;
    }
    f->group.left = 0;
    if (rc < 0)
        wire_warn("fsm: entry %llu: %s", (unsigned long long)index, err.msg);
    if (f->on_apply)
        f->on_apply(f->on_apply_arg, index);
    return 0;
}

const uint8_t *wire_fsm_last_results(const wire_fsm *f, uint32_t *n)
{
    *n = f->nresults;
    return f->results;
}

/* ---- Snapshot encoding ---- */

#define FSM_ENC_VERSION 4 /* 3: sessions after the pipelines; 4: then tokens */

static void encode_head(const wire_fsm *f, wire_buf *out)
{
    wire_put_u32(out, FSM_ENC_VERSION);
    wire_put_u64(out, f->applied);
    wire_put_u64(out, f->term);
    wire_put_u64(out, f->epoch_seq);
}

/* n KV items, already in key order. */
static void encode_kv(wire_map_item *const *v, size_t n, wire_buf *out)
{
    wire_put_u64(out, n);
    for (size_t i = 0; i < n; i++) {
        kv_val *x = v[i]->val;
        wire_put_str(out, v[i]->key, v[i]->klen);
        wire_put_str(out, x->data, x->len);
    }
}

/* Everything after the KV: nodes, pipelines, sessions, tokens. */
static void encode_rest(const wire_fsm *f, wire_buf *out)
{
    wire_map_item **v = wire_map_sorted(&f->nodes);
    wire_put_u64(out, f->nodes.n);
    for (size_t i = 0; i < f->nodes.n; i++) {
        node_val *x = v[i]->val;
        wire_put_str(out, v[i]->key, v[i]->klen);
        wire_put_str(out, x->raft_addr, strlen(x->raft_addr));
        wire_put_str(out, x->api_addr, strlen(x->api_addr));
        wire_put_u8(out, x->voter);
        wire_put_u64(out, (uint64_t)x->last_seen_ms);
        wire_put_u8(out, x->draining);
    }
    free(v);
    v = wire_map_sorted(&f->pipes);
    wire_put_u64(out, f->pipes.n);
    for (size_t i = 0; i < f->pipes.n; i++) {
        pipe_val *x = v[i]->val;
        wire_put_str(out, v[i]->key, v[i]->klen);
        wire_put_u64(out, x->version);
        wire_put_u64(out, x->epoch);
        wire_put_u64(out, x->cp_epoch);
        wire_put_u32(out, (uint32_t)x->state);
        wire_put_str(out, x->spec, x->spec_len);
        wire_put_str(out, x->error, strlen(x->error));
        wire_put_str(out, x->node, strlen(x->node));
        wire_put_str(out, x->cp, x->cp_len);
        wire_put_str(out, x->placement, strlen(x->placement));
        wire_put_str(out, x->stats, strlen(x->stats));
    }
    free(v);
    v = wire_map_sorted(&f->sessions);
    wire_put_u64(out, f->sessions.n);
    for (size_t i = 0; i < f->sessions.n; i++) {
        session_val *x = v[i]->val;
        wire_put_str(out, v[i]->key, v[i]->klen);
        wire_put_u64(out, x->incarnation);
        wire_put_u64(out, x->last);
        /* the window's applied seqs, oldest first */
        uint32_t k = 0;
        uint64_t lo = x->last >= WIRE_SESSION_WINDOW ? x->last - WIRE_SESSION_WINDOW + 1 : 1;
        for (uint64_t s = lo; s <= x->last; s++)
            k += x->slot[s % WIRE_SESSION_WINDOW].seq == s;
        wire_put_u32(out, k);
        for (uint64_t s = lo; s <= x->last; s++) {
            const session_slot *sl = &x->slot[s % WIRE_SESSION_WINDOW];
            if (sl->seq != s)
                continue;
            wire_put_u64(out, s);
            wire_put_str(out, (const char *)sl->res, sl->n);
        }
    }
    free(v);
    wire_token_table_encode(f->tokens, out);
}

/* The KV as reads see it, in key order (malloc'd; *n items): the frozen
   table under its overlay while a snapshot is taken. */
static wire_map_item **kv_sorted(const wire_fsm *f, size_t *n)
{
    if (!f->snap.frozen) {
        *n = f->kv.n;
        return wire_map_sorted(&f->kv);
    }
    wire_map_item **v = wire_xmalloc((f->kv.n + f->kv_delta.n + 1) * sizeof(wire_map_item *));
    size_t k = 0;
    for (size_t i = 0; i < f->kv.nb; i++)
        for (wire_map_item *it = f->kv.b[i]; it; it = it->next)
            if (!wire_map_find(&f->kv_delta, it->key, it->klen))
                v[k++] = it;
    for (size_t i = 0; i < f->kv_delta.nb; i++)
        for (wire_map_item *it = f->kv_delta.b[i]; it; it = it->next)
            if (it->val)
                v[k++] = it;
    qsort(v, k, sizeof(wire_map_item *), wire_map_item_cmp);
    *n = k;
    return v;
}

void wire_fsm_encode(const wire_fsm *f, wire_buf *out)
{
    encode_head(f, out);
    size_t n;
    wire_map_item **v = kv_sorted(f, &n);
    encode_kv(v, n, out);
    free(v);
    encode_rest(f, out);
}

int wire_fsm_decode(wire_fsm *f, const void *p, size_t n, wire_err *err)
{
    wire_rd r = {p, (const uint8_t *)p + n, false};
    uint32_t ver = wire_get_u32(&r);
    if (ver < 1 || ver > FSM_ENC_VERSION) /* 1: no placement yet; 2: no sessions */
        return wire_errf(err, WIRE_EPARSE, "snapshot state version %u unknown", ver);
    wire_map kv, nodes, pipes, sessions;
    wire_map_init(&kv, free);
    wire_map_init(&nodes, free_node);
    wire_map_init(&pipes, free_pipe);
    wire_map_init(&sessions, free_session);
    uint64_t applied = wire_get_u64(&r), term = wire_get_u64(&r);
    uint64_t epoch_seq = ver >= 2 ? wire_get_u64(&r) : 0;
    uint64_t cnt = wire_get_u64(&r);
    for (uint64_t i = 0; i < cnt && !r.bad; i++) {
        size_t kl, vl;
        const char *k = wire_get_str(&r, &kl), *val = wire_get_str(&r, &vl);
        if (!r.bad)
            wire_map_put(&kv, k, kl, kv_new(val, vl));
    }
    cnt = wire_get_u64(&r);
    for (uint64_t i = 0; i < cnt && !r.bad; i++) {
        size_t kl, al, pl;
        const char *k = wire_get_str(&r, &kl), *a = wire_get_str(&r, &al);
        const char *api = wire_get_str(&r, &pl);
        node_val *x = wire_xcalloc(1, sizeof(*x));
        x->raft_addr = dupn(a, al);
        x->api_addr = dupn(api, pl);
        x->voter = wire_get_u8(&r) != 0;
        x->last_seen_ms = (int64_t)wire_get_u64(&r);
        x->draining = ver >= 2 && wire_get_u8(&r) != 0;
        wire_map_put(&nodes, k, kl, x);
    }
    cnt = wire_get_u64(&r);
    for (uint64_t i = 0; i < cnt && !r.bad; i++) {
        size_t kl, sl, el, nl, cl;
        const char *k = wire_get_str(&r, &kl);
        pipe_val *x = wire_xcalloc(1, sizeof(*x));
        x->version = wire_get_u64(&r);
        x->epoch = wire_get_u64(&r);
        x->cp_epoch = wire_get_u64(&r);
        x->state = (int)wire_get_u32(&r);
        const char *s = wire_get_str(&r, &sl);
        x->spec = dupn(s, sl);
        x->spec_len = sl;
        s = wire_get_str(&r, &el);
        x->error = dupn(s, el);
        s = wire_get_str(&r, &nl);
        x->node = dupn(s, nl);
        s = wire_get_str(&r, &cl);
        x->cp = dupn(s, cl);
        x->cp_len = cl;
        if (ver >= 2) {
            s = wire_get_str(&r, &sl);
            x->placement = dupn(s, sl);
            s = wire_get_str(&r, &sl);
            x->stats = dupn(s, sl);
        } else {
            x->placement = dupn("", 0);
            x->stats = dupn("", 0);
        }
        if (x->epoch > epoch_seq)
            epoch_seq = x->epoch;
        wire_map_put(&pipes, k, kl, x);
    }
    cnt = ver >= 3 ? wire_get_u64(&r) : 0;
    for (uint64_t i = 0; i < cnt && !r.bad; i++) {
        size_t kl, rl;
        const char *k = wire_get_str(&r, &kl);
        session_val *x = wire_xcalloc(1, sizeof(*x));
        x->incarnation = wire_get_u64(&r);
        x->last = wire_get_u64(&r);
        uint32_t k2 = wire_get_u32(&r);
        for (uint32_t j = 0; j < k2 && !r.bad; j++) {
            uint64_t seq = wire_get_u64(&r);
            const char *res = wire_get_str(&r, &rl);
            session_slot *sl = &x->slot[seq % WIRE_SESSION_WINDOW];
            if (r.bad || seq == 0 || seq > x->last || x->last - seq >= WIRE_SESSION_WINDOW ||
                sl->seq) {
                r.bad = true;
                break;
            }
            sl->seq = seq;
            sl->n = (uint32_t)rl;
            sl->res = wire_xmalloc(rl ? rl : 1);
            memcpy(sl->res, res, rl);
        }
        wire_map_put(&sessions, k, kl, x);
    }
    wire_token_rec *tokens = NULL;
    size_t ntokens = ver >= 4 ? wire_token_table_decode(&r, &tokens) : 0;
    if (r.bad) {
        free(tokens);
        wire_map_free(&kv);
        wire_map_free(&nodes);
        wire_map_free(&pipes);
        wire_map_free(&sessions);
        return wire_errf(err, WIRE_EPARSE, "snapshot state truncated");
    }
    wire_map_free(&f->kv);
    wire_map_free(&f->nodes);
    wire_map_free(&f->pipes);
    wire_map_free(&f->sessions);
    f->kv = kv;
    f->nodes = nodes;
    f->pipes = pipes;
    f->sessions = sessions;
    wire_token_table_set(f->tokens, tokens, ntokens);
    f->applied = applied;
    f->term = term;
    f->epoch_seq = epoch_seq;
    return 0;
}

uint64_t wire_fsm_digest(const wire_fsm *f)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_fsm_encode(f, &b);
    /* skip the applied index and term: the digest is of the tables */
    uint64_t h = b.len > 20 ? wire_hash64(b.p + 20, b.len - 20, 0) : 0;
    wire_buf_free(&b);
    return h;
}

wire_token_table *wire_fsm_tokens(wire_fsm *f)
{
    return f->tokens;
}

uint64_t wire_fsm_restores(const wire_fsm *f)
{
    return f->restores;
}

uint64_t wire_fsm_applied_index(const wire_fsm *f)
{
    return f->applied;
}

/* ---- libraft glue ---- */

static int rf_apply(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    wire_fsm *f = rf->data;
    uint64_t index = f->raft ? f->raft->last_applied + 1 : f->applied + 1;
    *result = NULL;
    return wire_fsm_apply_entry(f, index, buf->base, buf->len);
}

/* Frame raw as a snapshot in one raft buffer (padded to 8 bytes, as libraft likes). */
static int snapshot_buffers(const wire_buf *raw, uint64_t index, uint64_t term,
                            struct raft_buffer *bufs[], unsigned *n_bufs)
{
    wire_buf packed;
    wire_buf_init(&packed);
    wire_err err;
    if (wire_snapshot_pack(raw->p, raw->len, index, term, &packed, &err) != 0) {
        wire_error("snapshot: %s", err.msg);
        wire_buf_free(&packed);
        return RAFT_NOMEM;
    }
    struct raft_buffer *b = raft_malloc(sizeof(*b));
    size_t padded = (packed.len + 7) & ~(size_t)7;
    void *base = raft_malloc(padded);
    if (!b || !base) {
        raft_free(b);
        raft_free(base);
        wire_buf_free(&packed);
        return RAFT_NOMEM;
    }
    memcpy(base, packed.p, packed.len);
    memset((char *)base + packed.len, 0, padded - packed.len);
    b->base = base;
    b->len = padded;
    wire_buf_free(&packed);
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

static int rf_snapshot_async(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs);

/* Loop thread: encode the small tables, freeze the KV. The buffers come from snapshot_async. */
static int rf_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    wire_fsm *f = rf->data;
    if (f->snap.frozen)
        return RAFT_BUSY; /* libraft takes one at a time; retried at the next threshold */
    wire_buf_reset(&f->snap.head);
    wire_buf_reset(&f->snap.rest);
    encode_head(f, &f->snap.head);
    encode_rest(f, &f->snap.rest);
    f->snap.index = f->raft ? f->raft->last_applied : f->applied;
    f->snap.term = f->term;
    f->snap.kv_live = f->kv.n;
    f->snap.frozen = true;
    *bufs = NULL;
    *n_bufs = 0;
    /* without a thread pool (version 2): the same work, now; finalize still thaws */
    return f->async ? 0 : rf_snapshot_async(rf, bufs, n_bufs);
}

/* Thread pool: encode the frozen KV between the parts the loop encoded, compress, frame. */
static int rf_snapshot_async(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    wire_fsm *f = rf->data;
    wire_buf raw;
    wire_buf_init(&raw);
    wire_buf_append(&raw, f->snap.head.p, f->snap.head.len);
    wire_map_item **v = wire_map_sorted(&f->kv);
    encode_kv(v, f->kv.n, &raw);
    free(v);
    wire_buf_append(&raw, f->snap.rest.p, f->snap.rest.len);
    int rc = snapshot_buffers(&raw, f->snap.index, f->snap.term, bufs, n_bufs);
    wire_buf_free(&raw);
    return rc;
}

/* Loop thread, whether the snapshot was written or not: free its buffers, thaw the KV. */
static int rf_snapshot_finalize(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    wire_fsm *f = rf->data;
    for (unsigned i = 0; *bufs && i < *n_bufs; i++)
        raft_free((*bufs)[i].base);
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    wire_buf_reset(&f->snap.head);
    wire_buf_reset(&f->snap.rest);
    kv_thaw(f);
    return 0;
}

static int rf_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
    wire_fsm *f = rf->data;
    if (f->snap.frozen)
        return RAFT_BUSY; /* libraft installs no snapshot while it takes one */
    wire_buf raw;
    wire_buf_init(&raw);
    wire_err err;
    uint64_t index, term;
    int rc = wire_snapshot_unpack(buf->base, buf->len, &raw, &index, &term, &err);
    if (rc == 0)
        rc = wire_fsm_decode(f, raw.p, raw.len, &err);
    wire_buf_free(&raw);
    if (rc != 0) {
        wire_error("snapshot restore: %s", err.msg);
        return RAFT_CORRUPT;
    }
    raft_free(buf->base);
    f->applied = index;
    f->nresults = 0;
    f->restores++;
    if (f->on_apply)
        f->on_apply(f->on_apply_arg, index);
    return 0;
}

wire_fsm *wire_fsm_new(void)
{
    wire_fsm *f = wire_xcalloc(1, sizeof(*f));
    wire_map_init(&f->kv, free);
    wire_map_init(&f->nodes, free_node);
    wire_map_init(&f->pipes, free_pipe);
    wire_map_init(&f->sessions, free_session);
    wire_map_init(&f->kv_delta, free);
    f->tokens = wire_token_table_new();
    wire_buf_init(&f->snap.head);
    wire_buf_init(&f->snap.rest);
    memset(&f->rf, 0, sizeof(f->rf));
    f->rf.data = f;
    f->rf.apply = rf_apply;
    f->rf.snapshot = rf_snapshot;
    f->rf.restore = rf_restore;
    f->rf.snapshot_finalize = rf_snapshot_finalize;
    wire_fsm_set_async_snapshots(f, false);
    return f;
}

void wire_fsm_free(wire_fsm *f)
{
    if (!f)
        return;
    wire_map_free(&f->kv);
    wire_map_free(&f->kv_delta);
    wire_map_free(&f->nodes);
    wire_map_free(&f->pipes);
    wire_map_free(&f->sessions);
    wire_token_table_free(f->tokens);
    wire_buf_free(&f->snap.head);
    wire_buf_free(&f->snap.rest);
    free(f->results);
    free(f);
}

void wire_fsm_set_async_snapshots(wire_fsm *f, bool async)
{
    f->async = async;
    f->rf.version = async ? 3 : 2;
    f->rf.snapshot_async = async ? rf_snapshot_async : NULL;
}

struct raft_fsm *wire_fsm_raft(wire_fsm *f)
{
    return &f->rf;
}

void wire_fsm_attach(wire_fsm *f, struct raft *r)
{
    f->raft = r;
}

void wire_fsm_on_apply(wire_fsm *f, void (*cb)(void *arg, uint64_t index), void *arg)
{
    f->on_apply = cb;
    f->on_apply_arg = arg;
}

/* ---- Reads ---- */

const char *wire_fsm_kv_get(const wire_fsm *f, const char *key, size_t klen, size_t *vlen)
{
    kv_val *v = kv_lookup(f, key, klen);
    if (!v)
        return NULL;
    *vlen = v->len;
    return v->data;
}

size_t wire_fsm_kv_count(const wire_fsm *f)
{
    return f->snap.frozen ? f->snap.kv_live : f->kv.n;
}

static void node_rec(const wire_map_item *it, wire_node_rec *out)
{
    node_val *v = it->val;
    out->id = it->key;
    out->raft_addr = v->raft_addr;
    out->api_addr = v->api_addr;
    out->voter = v->voter;
    out->draining = v->draining;
    out->last_seen_ms = v->last_seen_ms;
}

bool wire_fsm_node_get(const wire_fsm *f, const char *id, wire_node_rec *out)
{
    wire_map_item *it = wire_map_find(&f->nodes, id, strlen(id));
    if (!it)
        return false;
    node_rec(it, out);
    return true;
}

bool wire_fsm_node_by_addr(const wire_fsm *f, const char *raft_addr, wire_node_rec *out)
{
    for (size_t i = 0; i < f->nodes.nb; i++)
        for (wire_map_item *it = f->nodes.b[i]; it; it = it->next)
            if (strcmp(((node_val *)it->val)->raft_addr, raft_addr) == 0) {
                node_rec(it, out);
                return true;
            }
    return false;
}

static void pipe_rec(const wire_map_item *it, wire_pipeline_rec *out)
{
    pipe_val *v = it->val;
    out->name = it->key;
    out->spec = v->spec;
    out->spec_len = v->spec_len;
    out->error = v->error;
    out->node = v->node;
    out->version = v->version;
    out->epoch = v->epoch;
    out->state = v->state;
    out->checkpoint = v->cp;
    out->checkpoint_len = v->cp_len;
    out->checkpoint_epoch = v->cp_epoch;
    out->placement = v->placement;
    out->stats = v->stats;
}

bool wire_fsm_pipeline_get(const wire_fsm *f, const char *name, wire_pipeline_rec *out)
{
    wire_map_item *it = wire_map_find(&f->pipes, name, strlen(name));
    if (!it)
        return false;
    pipe_rec(it, out);
    return true;
}

size_t wire_fsm_pipelines(const wire_fsm *f, wire_pipeline_rec **out)
{
    wire_map_item **v = wire_map_sorted(&f->pipes);
    size_t n = f->pipes.n;
    *out = wire_xcalloc(n ? n : 1, sizeof(**out));
    for (size_t i = 0; i < n; i++)
        pipe_rec(v[i], &(*out)[i]); /* not by name: a key may hold a NUL byte */
    free(v);
    return n;
}

size_t wire_fsm_nodes(const wire_fsm *f, wire_node_rec **out)
{
    wire_map_item **v = wire_map_sorted(&f->nodes);
    size_t n = f->nodes.n;
    *out = wire_xcalloc(n ? n : 1, sizeof(**out));
    for (size_t i = 0; i < n; i++)
        node_rec(v[i], &(*out)[i]);
    free(v);
    return n;
}

const char *wire_pstate_name(int state)
{
    switch (state) {
    case WIRE_PSTATE_PENDING: return "pending";
    case WIRE_PSTATE_RUNNING: return "running";
    case WIRE_PSTATE_PAUSED: return "paused";
    case WIRE_PSTATE_FAILED: return "failed";
    case WIRE_PSTATE_FINISHED: return "finished";
    }
    return "unknown";
}

size_t wire_fsm_pipeline_count(const wire_fsm *f)
{
    return f->pipes.n;
}

/* Records copied out of the state machine (node ops) are freed here, below every user. */
void wire_pipeline_infos_free(wire_pipeline_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].node);
        free(v[i].error);
        free(v[i].placement);
        free(v[i].spec);
        free(v[i].checkpoint);
        free(v[i].stats);
    }
    free(v);
}
