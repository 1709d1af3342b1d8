/*
 * commit.c — group commit and forwarding to the leader. On the leader every
 * write of a loop tick goes into ONE Raft entry (the open batch); at most
 * MAX_INFLIGHT entries are in flight, so writes arriving meanwhile wait for
 * the next entry and batches grow with the load. On a follower the writes of
 * a tick go to the leader in ONE forwarding RPC and are answered once this
 * node has applied them (the applied-index waiters, also used by
 * readyz?sync). Items of a batch that are membership jobs are finished
 * through the callback their owner put in the item.
 *
 * Test hook (fault injection, as SQLite's test VFS): with
 * WIRE_FAULT_EXIT_AFTER_COMMIT=NAME in its environment, a leader exits (75)
 * right after committing a forwarded write of a key or pipeline named NAME,
 * before answering it: the "leader died mid-commit" a forwarder must survive.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/private.h"

static void fwd_park(wire_node *n, fwd_call *f, const char *why, size_t whylen);
static void fwd_answer(wire_node *n, fwd_call *f, uint64_t index, const uint8_t *res,
                       uint32_t nres);

/* ---- The applied-index waiters ---- */

void node_check_waiters(wire_node *n)
{
    uint64_t applied = n->raft_ok ? raft_last_applied(&n->raft) : 0;
    waiter **pp = &n->waiters;
    int64_t now = wire_now_ms();
    while (*pp) {
        waiter *w = *pp;
        bool ok = w->index <= applied;
        bool late = !ok && w->op->deadline_ms && now >= w->op->deadline_ms;
        if (!ok && !late) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        wire_node_op *op = w->op;
        free(w);
        if (op->type == WIRE_OP_READY) {
            op->ready_store = ok;
            op_done(op, ok ? 0 : WIRE_EAGAIN, ok ? NULL : "not synced with the leader in time");
        } else if (ok) {
            op_done(op, 0, NULL);
        } else {
            op_done(op, WIRE_EAGAIN, "committed at index %" PRIu64 " but not applied here in time",
                    op->index);
        }
    }
}

void node_wait_applied(wire_node *n, wire_node_op *op, uint64_t index)
{
    if (n->raft_ok && raft_last_applied(&n->raft) >= index) {
        if (op->type == WIRE_OP_READY)
            op->ready_store = true;
        op_done(op, 0, NULL);
        return;
    }
    if (!op->deadline_ms)
        op->deadline_ms = wire_now_ms() + RPC_TIMEOUT_MS;
    waiter *w = wire_xcalloc(1, sizeof(*w));
    w->op = op;
    w->index = index;
    w->next = n->waiters;
    n->waiters = w;
}

/* Entry `index` applied (raft_last_applied is bumped after this returns): answer its writes. */
void node_waiters_applied(wire_node *n, uint64_t index)
{
    /* raft_last_applied is bumped after this returns: compare with index. */
    waiter **pp = &n->waiters;
    while (*pp) {
        waiter *w = *pp;
        if (w->index > index || w->op->type == WIRE_OP_READY) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        wire_node_op *op = w->op;
        free(w);
        op_done(op, 0, NULL);
    }
}

/* ---- Group commit: leader side ---- */

static batch *batch_open(wire_node *n)
{
    if (!n->open) {
        n->open = wire_xcalloc(1, sizeof(batch));
        n->open->n = n;
        wire_entry_begin(&n->entry, 0, n->raft.current_term);
        n->entry_ncmds = 0;
    }
    return n->open;
}

static bitem *batch_add(batch *b)
{
    if (b->nitems == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->items = wire_xrealloc(b->items, b->cap * sizeof(bitem));
    }
    bitem *it = &b->items[b->nitems++];
    memset(it, 0, sizeof(*it));
    return it;
}

static void reply_apply(wire_rpc_conn *c, uint64_t req_id, uint8_t status, uint64_t index,
                        const char *msg, const uint8_t *results, uint32_t nres)
{
    wire_buf b;
    node_reply_begin(&b, WIRE_RPC_APPLY, req_id);
    wire_put_u8(&b, status);
    wire_put_u64(&b, index);
    wire_put_str(&b, msg, strlen(msg));
    wire_put_u32(&b, nres);
    if (nres)
        wire_buf_append(&b, results, nres);
    node_reply_send(c, &b);
}

static void batch_finish(batch *b, int status, uint64_t index)
{
    wire_node *n = b->n;
    uint32_t nres = 0;
    const uint8_t *res = status == 0 ? wire_fsm_last_results(n->fsm, &nres) : NULL;
    for (size_t i = 0; i < b->nitems; i++) {
        bitem *it = &b->items[i];
        switch (it->kind) {
        case ITEM_OP: {
            wire_node_op *op = it->op;
            if (!op)
                break; /* answered already: its deadline passed (node_expire_writes) */
            op->index = index;
            if (status != 0) {
                op_done(op, WIRE_EAGAIN, "not committed: %s", raft_strerror(status));
            } else {
                uint8_t r = it->first < nres ? res[it->first] : WIRE_APPLY_OK;
                if (op->type == WIRE_OP_KV_DEL && r == WIRE_APPLY_NOTFOUND)
                    r = WIRE_APPLY_OK; /* deleting an absent key is not an error */
                op->result = r;
                if (op->type == WIRE_OP_CMD) { /* the caller reads the state machine's answer */
                    op_done(op, 0, NULL);
                    break;
                }
                op_done(op, r == WIRE_APPLY_OK ? 0 : WIRE_EINVAL,
                        r == WIRE_APPLY_OK ? NULL : "rejected by the state machine (%u)", r);
            }
            break;
        }
        case ITEM_RPC:
            if (status == 0 && it->fault_exit) { /* the test hook: die committed, unanswered */
                wire_warn("WIRE_FAULT_EXIT_AFTER_COMMIT: exiting after committing index %" PRIu64
                          " before answering the forward",
                          index);
                _exit(75);
            }
            if (status != 0) /* leadership lost or shutting down: the forwarder retries */
                reply_apply(it->conn, it->req_id, RS_NOTLEADER, 0, raft_strerror(status), NULL, 0);
            else
                reply_apply(it->conn, it->req_id, RS_OK, index, "",
                            it->first + it->count <= nres ? res + it->first : NULL,
                            it->first + it->count <= nres ? it->count : 0);
            wire_rpc_conn_release(it->conn);
            break;
        case ITEM_JOB: it->job_done(it->job, status, index); break;
        case ITEM_FWD: /* a forward this node proposed itself once it led */
            if (status != 0) {
                const char *why = raft_strerror(status);
                fwd_park(n, it->fwd, why, strlen(why));
            } else {
                fwd_answer(n, it->fwd, index,
                           it->first + it->count <= nres ? res + it->first : NULL,
                           it->first + it->count <= nres ? it->count : 0);
            }
            break;
        }
    }
    free(b->items);
    free(b);
}

void node_free_barrier(struct raft_barrier *b, int status)
{
    free(b);
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    batch *b = req->data;
    wire_node *n = b->n;
    n->inflight--;
    if (n->flying == b)
        n->flying = NULL;
    bool remote = false;
    for (size_t i = 0; i < b->nitems && !remote; i++)
        remote = b->items[i].kind == ITEM_RPC;
    batch_finish(b, status, req->index);
    /*
     * Followers learn the commit index from the next AppendEntries. A forwarded
     * write is answered only once its own node applied it, so when nothing else
     * is about to be sent, append a barrier: it carries the new commit index now
     * instead of at the next heartbeat.
     */
    if (status == 0 && remote && n->inflight == 0 && !n->open && is_leader(n)) {
        struct raft_barrier *bar = wire_xcalloc(1, sizeof(*bar));
        if (raft_barrier(&n->raft, bar, node_free_barrier) != 0)
            free(bar);
    }
    /* A failed entry is libraft stepping down (or closing): it calls back from
       inside that change, still saying leader, and a raft_apply now would
       re-enter it (a crash, found by test_node_stop.sh). The loop's check
       handle flushes at the end of this iteration anyway. */
    if (status == 0 && !n->stopping)
        node_flush(n);
}

void node_fail_open_batch(wire_node *n, int status)
{
    if (!n->open)
        return;
    batch *b = n->open;
    n->open = NULL;
    batch_finish(b, status, 0);
}

/* Propose the open batch if allowed. */
void node_propose(wire_node *n)
{
    if (!n->open || n->inflight >= MAX_INFLIGHT)
        return;
    batch *b = n->open;
    n->open = NULL;
    wire_entry_set_count(&n->entry, n->entry_ncmds);
    /* libraft's segment format needs entry lengths in multiples of 8 (zero padding is
     * harmless: the entry header counts its commands). */
    struct raft_buffer buf;
    buf.len = (n->entry.len + 7) & ~(size_t)7;
    buf.base = raft_malloc(buf.len);
    memcpy(buf.base, n->entry.p, n->entry.len);
    memset((char *)buf.base + n->entry.len, 0, buf.len - n->entry.len);
    b->req.data = b;
    int rc = raft_apply(&n->raft, &b->req, &buf, 1, apply_cb);
    if (rc != 0) {
        raft_free(buf.base);
        batch_finish(b, rc, 0);
        return;
    }
    n->inflight++;
    n->flying = b;
    n->c_batches++;
    n->c_cmds_proposed += n->entry_ncmds;
}

/* Append an encoded command to the open batch; returns its position. */
static uint32_t add_cmd(wire_node *n, const wire_cmd *c)
{
    batch_open(n);
    wire_cmd_encode(&n->entry, c);
    return n->entry_ncmds++;
}

bitem *node_batch_cmd(wire_node *n, const wire_cmd *c, int kind)
{
    uint32_t pos = add_cmd(n, c);
    bitem *it = batch_add(n->open);
    it->kind = kind;
    it->first = pos;
    it->count = 1;
    return it;
}

/* ---- Group commit: follower side (forwarding) ----
 *
 * A follower's writes of one tick travel as one forward: a SESSION command
 * (this node's id, the forward's seq, its command count, the incarnation)
 * and the commands. A forward that cannot be delivered — no leader known, the
 * leader unreachable or dead, or it lost leadership before committing — waits
 * and is sent again, to whichever node leads by then (this one included),
 * until it is answered or its ops' deadlines pass (--request-timeout, or the
 * request's ?timeout=). The session makes a retry of a forward the old leader
 * had committed answer with the first results instead of applying twice.
 */

#define FWD_RETRY_MS 50

struct fwd_call {
    fwd_call *next;
    wire_node *n;
    wire_node_op **ops; /* NULL once answered (its deadline passed) */
    size_t nops, live;
    wire_buf payload; /* u32 command count, SESSION, the commands */
    uint64_t seq;
    int64_t next_try_ms;
    char why[160]; /* why the last attempt failed */
};

static void fwd_free(fwd_call *f)
{
    wire_buf_free(&f->payload);
    free(f->ops);
    free(f);
}

/* Answer every op still waiting with status and the forward's last failure. */
static void fwd_fail(fwd_call *f, int status, const char *what)
{
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i]) {
            op_done(f->ops[i], status, "%s: %s", what, f->why);
            f->ops[i] = NULL;
        }
    f->live = 0;
}

/* Try again later, behind the forwards already waiting (their order is kept). */
static void fwd_park(wire_node *n, fwd_call *f, const char *why, size_t whylen)
{
    snprintf(f->why, sizeof(f->why), "%.*s", (int)whylen, why);
    if (n->stopping) {
        fwd_fail(f, WIRE_ESTOPPED, "node stopping");
        fwd_free(f);
        return;
    }
    f->next_try_ms = wire_now_ms() + FWD_RETRY_MS;
    f->next = NULL;
    fwd_call **pp = &n->fwd_wait;
    while (*pp)
        pp = &(*pp)->next;
    *pp = f;
}

/* The results of a delivered forward: res[0] is its SESSION's, then one per op. */
static void fwd_answer(wire_node *n, fwd_call *f, uint64_t index, const uint8_t *res, uint32_t nres)
{
    if (nres > 0 && res[0] == WIRE_APPLY_EXPIRED) {
        snprintf(f->why, sizeof(f->why), "the leader could no longer tell whether it applied");
        fwd_fail(f, WIRE_EAGAIN, "forwarding to the leader failed");
        fwd_free(f);
        return;
    }
    for (size_t i = 0; i < f->nops; i++) {
        wire_node_op *op = f->ops[i];
        if (!op)
            continue;
        uint8_t r = i + 1 < nres ? res[i + 1] : WIRE_APPLY_OK;
        if (op->type == WIRE_OP_KV_DEL && r == WIRE_APPLY_NOTFOUND)
            r = WIRE_APPLY_OK;
        op->index = index;
        op->result = r;
        if (r != WIRE_APPLY_OK && op->type != WIRE_OP_CMD) {
            op_done(op, WIRE_EINVAL, "rejected by the state machine (%u)", r);
            continue;
        }
        /* Answer once this node has applied it too. */
        if (n->stopping)
            op_done(op, WIRE_ESTOPPED, "node stopping");
        else
            node_wait_applied(n, op, index);
    }
    fwd_free(f);
}

static void fwd_reply(void *arg, int status, const wire_rpc_msg *m)
{
    fwd_call *f = arg;
    wire_node *n = f->n;
    if (status != 0 || !m) {
        const char *why = "leader unreachable";
        fwd_park(n, f, why, strlen(why));
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    uint64_t index = wire_get_u64(&r);
    size_t msglen;
    const char *msg = wire_get_str(&r, &msglen);
    uint32_t nres = wire_get_u32(&r);
    if (r.bad || (size_t)(r.end - r.p) < nres) {
        snprintf(f->why, sizeof(f->why), "malformed reply");
        fwd_fail(f, WIRE_EAGAIN, "forwarding to the leader failed");
        fwd_free(f);
    } else if (st == RS_NOTLEADER) { /* not the leader (any more), or it lost it mid-commit */
        fwd_park(n, f, msg, msglen);
    } else if (st != RS_OK) {
        snprintf(f->why, sizeof(f->why), "%.*s", (int)msglen, msg);
        fwd_fail(f, WIRE_EAGAIN, "forwarding to the leader failed");
        fwd_free(f);
    } else {
        fwd_answer(n, f, index, r.p, nres);
    }
}

static void fwd_send(wire_node *n, fwd_call *f)
{
    if (is_leader(n)) { /* this node leads now: propose the forward itself */
        wire_rd r = {(const uint8_t *)f->payload.p, (const uint8_t *)f->payload.p + f->payload.len,
                     false};
        uint32_t ncmds = wire_get_u32(&r);
        batch_open(n);
        wire_buf_append(&n->entry, r.p, (size_t)(r.end - r.p));
        bitem *bi = batch_add(n->open);
        bi->kind = ITEM_FWD;
        bi->fwd = f;
        bi->first = n->entry_ncmds;
        bi->count = ncmds;
        n->entry_ncmds += ncmds;
        return;
    }
    const char *la = leader_addr(n);
    if (!la) {
        fwd_park(n, f, "no leader", strlen("no leader"));
        return;
    }
    n->c_forwarded += f->live;
    node_rpc_call(n, la, WIRE_RPC_APPLY, &f->payload, fwd_reply, f);
}

void node_forward_flush(wire_node *n)
{
    if (!n->nfwd)
        return;
    fwd_call *f = wire_xcalloc(1, sizeof(*f));
    f->n = n;
    f->ops = n->fwd_ops;
    f->nops = f->live = n->nfwd;
    f->seq = ++n->fwd_seq;
    wire_buf_init(&f->payload);
    wire_put_u32(&f->payload, n->fwd_ncmds + 1);
    wire_cmd s = {0};
    s.type = WIRE_CMD_SESSION;
    s.version = 1;
    s.a = n->id;
    s.alen = strlen(n->id);
    s.u1 = f->seq;
    s.u2 = n->fwd_ncmds;
    s.u3 = n->incarnation;
    wire_cmd_encode(&f->payload, &s);
    wire_buf_append(&f->payload, n->fwd.p, n->fwd.len);
    n->fwd_ops = NULL;
    n->capfwd = 0;
    n->nfwd = 0;
    n->fwd_ncmds = 0;
    wire_buf_reset(&n->fwd);
    fwd_send(n, f);
}

/* Send the waiting forwards whose pause is over; answer the ops whose deadline passed. */
void node_forward_retry(wire_node *n)
{
    int64_t now = wire_now_ms();
    fwd_call *l = n->fwd_wait, *keep = NULL, **tail = &keep;
    n->fwd_wait = NULL;
    while (l) {
        fwd_call *f = l;
        l = l->next;
        f->next = NULL;
        for (size_t i = 0; i < f->nops; i++) {
            wire_node_op *op = f->ops[i];
            if (op && (n->stopping || now >= op->deadline_ms)) {
                if (n->stopping)
                    op_done(op, WIRE_ESTOPPED, "node stopping");
                else
                    op_done(op, WIRE_EAGAIN, "no leader took the write in time: %s", f->why);
                f->ops[i] = NULL;
                f->live--;
            }
        }
        if (f->live == 0) {
            fwd_free(f);
        } else if (now >= f->next_try_ms) {
            fwd_send(n, f); /* may park it again, behind `keep`: put keep back first */
        } else {
            *tail = f;
            tail = &f->next;
        }
    }
    /* forwards parked again by fwd_send went to n->fwd_wait: those not yet due go first */
    *tail = n->fwd_wait;
    n->fwd_wait = keep;
}

/* Writes of this node's own batches whose deadline passed: answered 503 now, even
   though their entry may still commit (libraft cannot take it back). */
static void expire_items(batch *b, int64_t now)
{
    for (size_t i = 0; b && i < b->nitems; i++) {
        bitem *it = &b->items[i];
        if (it->kind == ITEM_OP && it->op && it->op->deadline_ms && now >= it->op->deadline_ms) {
            op_done(it->op, WIRE_EAGAIN, "not committed in time (no quorum?)");
            it->op = NULL;
        }
    }
}

void node_expire_writes(wire_node *n, int64_t now)
{
    expire_items(n->open, now);
    expire_items(n->flying, now);
}

/* Propose or forward one node_write op (KV set/delete or a command) in this tick. */
void node_write(wire_node *n, wire_node_op *op)
{
    wire_cmd c = {0};
    if (op->type == WIRE_OP_CMD) {
        c = op->cmd;
    } else {
        c.type = op->type == WIRE_OP_KV_SET ? WIRE_CMD_KV_SET : WIRE_CMD_KV_DEL;
        c.a = op->key;
        c.alen = op->klen;
        c.b = op->val;
        c.blen = op->vlen;
    }
    c.version = 1;
    if (!op->deadline_ms) {
        op->deadline_ms =
            wire_now_ms() + (op->timeout_ms > 0 ? op->timeout_ms : n->cfg.request_timeout_ms);
        /* a stopping node's last writes (final checkpoints, hand-backs) share one budget */
        int64_t leave = atomic_load(&n->leave_deadline_ms);
        if (leave && op->deadline_ms > leave)
            op->deadline_ms = leave;
    }
    if (is_leader(n)) {
        node_batch_cmd(n, &c, ITEM_OP)->op = op;
        return;
    }
    if (atomic_load(&n->leaving) && !leader_addr(n)) { /* stopping with no leader: no waiting */
        op_done(op, WIRE_EAGAIN, "no leader");
        return;
    }
    /* a follower, or no leader yet: forwarded now or once there is one */
    wire_cmd_encode(&n->fwd, &c);
    n->fwd_ncmds++;
    if (n->nfwd == n->capfwd) {
        n->capfwd = n->capfwd ? 2 * n->capfwd : 16;
        n->fwd_ops = wire_xrealloc(n->fwd_ops, n->capfwd * sizeof(*n->fwd_ops));
    }
    n->fwd_ops[n->nfwd++] = op;
}

/* Proposals of this tick: one entry (leader) or one forwarding RPC (follower). */
void node_flush(wire_node *n)
{
    if (n->open) {
        if (is_leader(n))
            node_propose(n);
        else
            node_fail_open_batch(n, RAFT_NOTLEADER);
    }
    node_forward_flush(n);
    if (n->fwd_wait)
        node_forward_retry(n);
    if (n->reads)
        node_reads_flush(n);
}

/* A forwarding follower's APPLY (commands after r): appended as they are to this tick's entry. */
void node_apply_remote(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m, wire_rd *r)
{
    uint32_t ncmds = wire_get_u32(r);
    if (r->bad) {
        reply_apply(c, m->req_id, RS_ERROR, 0, "malformed apply", NULL, 0);
        return;
    }
    if (!is_leader(n)) {
        reply_apply(c, m->req_id, RS_NOTLEADER, 0, "not the leader", NULL, 0);
        return;
    }
    /* Validate, then append the commands as they are to this tick's entry. */
    wire_buf tmp;
    wire_buf_init(&tmp);
    wire_entry_begin(&tmp, ncmds, 0);
    wire_buf_append(&tmp, r->p, (size_t)(r->end - r->p));
    wire_entry_iter it;
    wire_err err;
    wire_cmd cmd;
    int rc = wire_entry_open(&it, tmp.p, tmp.len, &err);
    bool fault = false;
    while (rc == 0 && (rc = wire_entry_next(&it, &cmd, &err)) == 1) {
        rc = 0;
        fault |= n->fault_exit_name && cmd.type != WIRE_CMD_SESSION &&
                 cmd.alen == strlen(n->fault_exit_name) &&
                 memcmp(cmd.a, n->fault_exit_name, cmd.alen) == 0;
    }
    if (rc == 0 && it.r.p != it.r.end)
        rc = wire_errf(&err, WIRE_EPARSE, "trailing bytes");
    wire_buf_free(&tmp);
    if (rc != 0) {
        reply_apply(c, m->req_id, RS_ERROR, 0, err.msg, NULL, 0);
        return;
    }
    batch_open(n);
    wire_buf_append(&n->entry, r->p, (size_t)(r->end - r->p));
    bitem *bi = batch_add(n->open);
    bi->kind = ITEM_RPC;
    bi->fault_exit = fault;
    bi->conn = c;
    bi->req_id = m->req_id;
    bi->first = n->entry_ncmds;
    bi->count = ncmds;
    n->entry_ncmds += ncmds;
    wire_rpc_conn_hold(c); /* proposed at the end of the read callback's tick */
}
