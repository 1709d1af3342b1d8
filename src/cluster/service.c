/*
 * service.c — the cluster RPC service: every request another node sends
 * this one (join, remove, notify, apply, read, commit index, API address,
 * heartbeat) arrives in server_msg and is answered here or handed to the
 * concept that owns it (membership, group commit, reads, placement).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/private.h"

/* ---- RPC service ---- */

/* A membership request that only the leader runs: true if answered "not the leader". */
static bool reply_not_leader(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m)
{
    if (is_leader(n))
        return false;
    const char *la = leader_addr(n);
    node_reply_status(c, m->type, m->req_id, la ? RS_NOTLEADER : RS_ERROR, la,
                      la ? "not the leader" : "no leader");
    return true;
}

/* Queue a membership job for a remote requester; it is answered when the job ends. */
static void submit_rpc_job(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m, job *j)
{
    j->conn = c;
    j->req_id = m->req_id;
    j->rpc_type = m->type;
    wire_rpc_conn_hold(c);
    node_submit_job(n, j);
}

/*
 * With --auth, who may join: a member of the Raft configuration at the
 * address it has there (re-registering its record), or a node with a token
 * of role node or admin. A refusal is answered, and logged with the peer's
 * address and the reason.
 */
static bool join_allowed(wire_node *n, wire_rpc_conn *c, const wire_rpc_msg *m, const char *id,
                         size_t il, const char *ra, size_t rl, const char *tok, size_t tl)
{
    char idz[128], raz[256];
    snprintf(idz, sizeof(idz), "%.*s", (int)il, id);
    snprintf(raz, sizeof(raz), "%.*s", (int)rl, ra);
    const struct raft_server *s = config_find(n, wire_node_raft_id(idz), NULL);
    if (s && strcmp(s->address, raz) == 0)
        return true;
    if (n->cfg.peer_tls && n->cfg.peer_tls->client_cert_auth)
        return true; /* its certificate, checked in the handshake, is its credential */
    const char *why = NULL;
    wire_token_info ti;
    uint8_t h[WIRE_TOKEN_HASH];
    wire_token_hash(tok, tl, h);
    if (!tl)
        why = "no join token (--join-token)";
    else if (!wire_node_token_find(n, h, &ti))
        why = "unknown join token";
    else if (ti.role != WIRE_ROLE_NODE && ti.role != WIRE_ROLE_ADMIN)
        why = "the join token's role is neither node nor admin";
    if (!why)
        return true;
    char from[128];
    wire_rpc_conn_peer(c, from, sizeof(from));
    wire_warn("join refused: node %s (%s) from %s: %s", idz, raz, from, why);
    wire_buf msg;
    wire_buf_init(&msg);
    wire_buf_printf(&msg, "join refused: %s", why);
    node_reply_status(c, m->type, m->req_id, RS_ERROR, NULL, msg.p);
    wire_buf_free(&msg);
    return false;
}

static void server_msg(wire_rpc_conn *c, const wire_rpc_msg *m, void *arg)
{
    wire_node *n = arg;
    n->c_rpc_in++;
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    if (n->stopping) {
        node_reply_status(c, m->type, m->req_id, RS_ERROR, NULL, "node is shutting down");
        return;
    }
    switch (m->type) {
    case WIRE_RPC_JOIN: {
        size_t il, rl, al;
        const char *id = wire_get_str(&r, &il), *ra = wire_get_str(&r, &rl);
        const char *api = wire_get_str(&r, &al);
        bool voter = wire_get_u8(&r) != 0;
        size_t tl = 0;
        const char *tok = r.p < r.end ? wire_get_str(&r, &tl) : "";
        if (r.bad || !il || !rl) {
            node_reply_status(c, m->type, m->req_id, RS_ERROR, NULL, "malformed join");
            return;
        }
        if (n->cfg.auth && !join_allowed(n, c, m, id, il, ra, rl, tok, tl))
            return;
        if (reply_not_leader(n, c, m))
            return;
        job *j = node_job_new(JOB_JOIN, id, il);
        j->raft_addr = wire_xstrndup(ra, rl);
        j->api_addr = wire_xstrndup(api, al);
        j->voter = voter;
        submit_rpc_job(n, c, m, j);
        return;
    }
    case WIRE_RPC_REMOVE: {
        size_t il;
        const char *id = wire_get_str(&r, &il);
        if (r.bad || !il) {
            node_reply_status(c, m->type, m->req_id, RS_ERROR, NULL, "malformed remove");
            return;
        }
        if (reply_not_leader(n, c, m))
            return;
        job *j = node_job_new(JOB_REMOVE, id, il);
        submit_rpc_job(n, c, m, j);
        return;
    }
    case WIRE_RPC_NOTIFY: {
        size_t il, rl, al;
        const char *id = wire_get_str(&r, &il), *ra = wire_get_str(&r, &rl);
        const char *api = wire_get_str(&r, &al);
        if (!r.bad)
            node_add_known(n, id, il, ra, rl, api, al);
        node_read_known(n, &r);
        wire_buf b;
        node_reply_begin(&b, m->type, m->req_id);
        node_notify_reply_payload(n, &b);
        node_reply_send(c, &b);
        return;
    }
    case WIRE_RPC_COMMIT: {
        wire_buf b;
        node_reply_begin(&b, m->type, m->req_id);
        wire_put_u8(&b, is_leader(n) ? RS_OK : RS_NOTLEADER);
        wire_put_u64(&b, n->raft.commit_index);
        node_reply_send(c, &b);
        return;
    }
    case WIRE_RPC_API_ADDR: {
        wire_buf b;
        node_reply_begin(&b, m->type, m->req_id);
        wire_put_str(&b, n->http_adv, strlen(n->http_adv));
        wire_put_str(&b, n->id, strlen(n->id));
        node_reply_send(c, &b);
        return;
    }
    case WIRE_RPC_APPLY: node_apply_remote(n, c, m, &r); return;
    case WIRE_RPC_READ: node_read_remote(n, c, m, &r); return;
    case WIRE_RPC_REMOVED: {
        size_t bl;
        const char *by = wire_get_str(&r, &bl);
        if (!r.bad)
            node_on_removed(n, by, bl);
        node_reply_status(c, m->type, m->req_id, RS_OK, NULL, "");
        return;
    }
    case WIRE_RPC_HEARTBEAT: {
        uint64_t term = wire_get_u64(&r), commit = wire_get_u64(&r);
        if (!r.bad)
            node_on_heartbeat(n, term, commit);
        node_reply_status(c, m->type, m->req_id, r.bad ? RS_ERROR : RS_OK, NULL,
                          r.bad ? "malformed heartbeat" : "");
        return;
    }
    default: node_reply_status(c, m->type, m->req_id, RS_ERROR, NULL, "unknown rpc type");
    }
}

static void server_closed(wire_rpc_conn *c, void *arg)
{
    wire_node *n = arg;
    for (server_conn *s = n->sconns.next; s != &n->sconns; s = s->next)
        if (s->c == c) {
            s->prev->next = s->next;
            s->next->prev = s->prev;
            free(s);
            return;
        }
}

void node_on_rpc_conn(void *arg, uv_tcp_t *tcp)
{
    wire_node *n = arg;
    server_conn *s = wire_xcalloc(1, sizeof(*s));
    s->c = wire_rpc_conn_new(tcp, server_msg, server_closed, n);
    s->next = n->sconns.next;
    s->prev = &n->sconns;
    n->sconns.next->prev = s;
    n->sconns.next = s;
}
