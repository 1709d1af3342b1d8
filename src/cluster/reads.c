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

void node_read_value(wire_node *n, wire_node_op *op)
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

void node_reply_read(wire_node *n, wire_rpc_conn *c, uint64_t req_id, uint8_t st, const char *key,
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
                node_read_value(n, it->op);
        } else {
            node_reply_read(n, it->conn, it->req_id, status == 0 ? RS_OK : RS_ERROR, g->keys[i],
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

rgroup *node_reads_open(wire_node *n)
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

void node_read_fwd_reply(void *arg, int status, const wire_rpc_msg *m)
{
    read_fwd *f = arg;
    wire_node_op *op = f->op;
    free(f);
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
