/*
 * reads.c — KV reads at the three levels: none and weak answer from this
 * node's state (weak only on the leader), strong ones wait for a barrier
 * (grouped per tick: one barrier for every strong read of the tick), and a
 * follower forwards what it cannot answer to the leader.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/private.h"

/* ---- Strong reads ---- */

static void read_value(wire_node *n, wire_node_op *op)
{
    size_t vlen;
    const char *v = wire_fsm_kv_get(n->fsm, op->key, op->klen, &vlen);
    if (!v) {
        op_done(op, WIRE_ENOTFOUND, "key not found");
        return;
    }
    wire_buf_reset(&op->value);
    wire_buf_append(&op->value, v, vlen);
    op_done(op, 0, NULL);
}

static void reply_read(wire_node *n, wire_rpc_conn *c, uint64_t req_id, uint8_t st, const char *key,
                       size_t klen, const char *msg)
{
    wire_buf b;
    node_reply_begin(&b, WIRE_RPC_READ, req_id);
    if (st == RS_OK) {
        size_t vlen;
        const char *v = wire_fsm_kv_get(n->fsm, key, klen, &vlen);
        if (!v) {
            wire_put_u8(&b, RS_NOTFOUND);
            wire_put_str(&b, "key not found", 13);
        } else {
            wire_put_u8(&b, RS_OK);
            wire_put_str(&b, v, vlen);
        }
    } else {
        wire_put_u8(&b, st);
        wire_put_str(&b, msg, strlen(msg));
    }
    node_reply_send(c, &b);
}

static void barrier_cb(struct raft_barrier *req, int status)
{
    rgroup *g = req->data;
    wire_node *n = g->n;
    for (size_t i = 0; i < g->nitems; i++) {
        bitem *it = &g->items[i];
        if (it->kind == ITEM_OP) {
            if (status != 0)
                op_done(it->op, WIRE_EAGAIN, "strong read failed: %s", raft_strerror(status));
            else
                read_value(n, it->op);
        } else {
            reply_read(n, it->conn, it->req_id, status == 0 ? RS_OK : RS_ERROR, g->keys[i],
                       g->klens[i], status == 0 ? "" : raft_strerror(status));
            wire_rpc_conn_release(it->conn);
        }
        free(g->keys[i]);
    }
    free(g->items);
    free(g->keys);
    free(g->klens);
    free(g);
}

static rgroup *reads_open(wire_node *n)
{
    if (!n->reads) {
        n->reads = wire_xcalloc(1, sizeof(rgroup));
        n->reads->n = n;
    }
    rgroup *g = n->reads;
    if (g->nitems == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->items = wire_xrealloc(g->items, g->cap * sizeof(bitem));
        g->keys = wire_xrealloc(g->keys, g->cap * sizeof(char *));
        g->klens = wire_xrealloc(g->klens, g->cap * sizeof(size_t));
    }
    memset(&g->items[g->nitems], 0, sizeof(bitem));
    g->keys[g->nitems] = NULL;
    g->klens[g->nitems] = 0;
    return g;
}

void node_reads_flush(wire_node *n)
{
    rgroup *g = n->reads;
    if (!g)
        return;
    n->reads = NULL;
    g->req.data = g;
    int rc = raft_barrier(&n->raft, &g->req, barrier_cb);
    if (rc != 0)
        barrier_cb(&g->req, rc);
}

static void read_fwd_reply(wire_node *n, wire_node_op *op, int status, const wire_rpc_msg *m)
{
    if (status != 0 || !m) {
        op_done(op, WIRE_EAGAIN, "leader unreachable");
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    size_t len;
    const char *s = wire_get_str(&r, &len);
    if (r.bad) {
        op_done(op, WIRE_EAGAIN, "malformed reply from the leader");
    } else if (st == RS_OK) {
        wire_buf_reset(&op->value);
        wire_buf_append(&op->value, s, len);
        op_done(op, 0, NULL);
    } else if (st == RS_NOTFOUND) {
        op_done(op, WIRE_ENOTFOUND, "key not found");
    } else {
        op_done(op, WIRE_EAGAIN, "leader: %.*s", (int)len, s);
    }
}

/* A KV_GET op at its level: answered here, in this tick's barrier group, or by the leader. */
void node_read(wire_node *n, wire_node_op *op)
{
    if (op->level == WIRE_READ_NONE || (op->level == WIRE_READ_WEAK && is_leader(n))) {
        read_value(n, op);
    } else if (is_leader(n)) {
        rgroup *g = reads_open(n);
        g->items[g->nitems].kind = ITEM_OP;
        g->items[g->nitems].op = op;
        g->nitems++;
    } else if (leader_addr(n)) {
        wire_buf p;
        wire_buf_init(&p);
        wire_put_u8(&p, (uint8_t)op->level);
        wire_put_str(&p, op->key, op->klen);
        node_forward_op(n, WIRE_RPC_READ, &p, read_fwd_reply, op);
        wire_buf_free(&p);
    } else {
        op_done(op, WIRE_EAGAIN, "no leader");
    }
}

/* A follower's forwarded READ (level, key after r). */
void node_read_remote(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m, wire_rd *r)
{
    uint8_t level = wire_get_u8(r);
    size_t kl;
    const char *key = wire_get_str(r, &kl);
    if (r->bad) {
        reply_read(n, c, m->req_id, RS_ERROR, NULL, 0, "malformed read");
        return;
    }
    if (!is_leader(n)) {
        reply_read(n, c, m->req_id, RS_NOTLEADER, NULL, 0, "not the leader");
        return;
    }
    if (level != WIRE_READ_STRONG) {
        reply_read(n, c, m->req_id, RS_OK, key, kl, "");
        return;
    }
    rgroup *g = reads_open(n);
    g->items[g->nitems].kind = ITEM_RPC;
    g->items[g->nitems].conn = c;
    g->items[g->nitems].req_id = m->req_id;
    g->keys[g->nitems] = wire_xstrndup(key, kl);
    g->klens[g->nitems] = kl;
    g->nitems++;
    wire_rpc_conn_hold(c);
}
