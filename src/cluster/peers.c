/*
 * peers.c — how a node reaches the others: one RPC client per peer address
 * (made on first use, kept for the node's life), calls with the node's RPC
 * timeout, and the pings that keep each peer's last reply time, which
 * /nodes' `reachable` and the leader's liveness checks read.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/private.h"

client_ent *node_client_for(wire_node *n, const char *addr)
{
    for (size_t i = 0; i < n->nclients; i++)
        if (strcmp(wire_rpc_client_addr(n->clients[i].c), addr) == 0)
            return &n->clients[i];
    n->clients = wire_xrealloc(n->clients, (n->nclients + 1) * sizeof(*n->clients));
    client_ent *e = &n->clients[n->nclients++];
    memset(e, 0, sizeof(*e));
    e->c = wire_rpc_client_new(&n->loop, addr, n->peer_client);
    return e;
}

void node_rpc_call(wire_node *n, const char *addr, uint8_t type, const wire_buf *payload,
                   wire_rpc_reply_cb cb, void *arg)
{
    n->c_rpc_out++;
    wire_rpc_call(node_client_for(n, addr)->c, type, payload ? payload->p : NULL,
                  payload ? payload->len : 0, RPC_TIMEOUT_MS, cb, arg);
}

typedef struct ping_ctx {
    wire_node *n;
    char addr[256];
} ping_ctx;

static void ping_reply(void *arg, int status, const wire_rpc_msg *m)
{
    ping_ctx *p = arg;
    wire_node *n = p->n;
    if (status == 0 && m && !n->stopping)
        for (size_t i = 0; i < n->nclients; i++)
            if (strcmp(wire_rpc_client_addr(n->clients[i].c), p->addr) == 0)
                n->clients[i].last_reply_ms = wire_now_ms();
    free(p);
}

/* `type` (with `payload`) to every other member; an answer counts as a ping's. */
typedef struct op_fwd {
    wire_node *n;
    wire_node_op *op;
    node_op_reply reply;
} op_fwd;

static void op_fwd_reply(void *arg, int status, const wire_rpc_msg *m)
{
    op_fwd *f = arg;
    wire_node *n = f->n;
    wire_node_op *op = f->op;
    node_op_reply reply = f->reply;
    free(f);
    reply(n, op, status, m);
}

/* Send an op's request to the leader (the caller checked there is one). */
void node_forward_op(wire_node *n, uint8_t type, const wire_buf *payload, node_op_reply reply,
                     wire_node_op *op)
{
    op_fwd *f = wire_xcalloc(1, sizeof(*f));
    f->n = n;
    f->op = op;
    f->reply = reply;
    node_rpc_call(n, leader_addr(n), type, payload, op_fwd_reply, f);
}

void node_call_members(wire_node *n, uint8_t type, const wire_buf *payload)
{
    struct raft_configuration *c = &n->raft.configuration;
    for (unsigned i = 0; i < c->n; i++) {
        if (c->servers[i].id == n->rid)
            continue;
        ping_ctx *p = wire_xcalloc(1, sizeof(*p));
        p->n = n;
        snprintf(p->addr, sizeof(p->addr), "%s", c->servers[i].address);
        node_rpc_call(n, p->addr, type, payload, ping_reply, p);
    }
}

/* get-node-API-address to every member: keeps /nodes' `reachable` current. */
void node_ping_members(wire_node *n)
{
    node_call_members(n, WIRE_RPC_API_ADDR, NULL);
}

/* ---- Replies of the RPC service (and of the jobs it queued) ---- */

void node_reply_begin(wire_buf *b, uint8_t type, uint64_t req_id)
{
    wire_buf_init(b);
    wire_rpc_frame_begin(b, type | WIRE_RPC_REPLY, req_id);
}

void node_reply_send(wire_rpc_conn *c, wire_buf *b)
{
    wire_rpc_frame_end(b, 0);
    wire_rpc_conn_send(c, b->p, b->len);
    wire_buf_free(b);
}

void node_reply_status(wire_rpc_conn *c, uint8_t type, uint64_t req_id, uint8_t st,
                       const char *leader, const char *msg)
{
    wire_buf b;
    node_reply_begin(&b, type, req_id);
    wire_put_u8(&b, st);
    wire_put_str(&b, leader ? leader : "", leader ? strlen(leader) : 0);
    wire_put_str(&b, msg, strlen(msg));
    node_reply_send(c, &b);
}
