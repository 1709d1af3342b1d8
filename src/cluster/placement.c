/*
 * placement.c — which node runs which pipeline, and when a node must stop
 * its own: the leader's heartbeats to every member, its view of which nodes
 * are alive (and of removed ones that may still run), placement passes
 * (scheduler.c decides, this file proposes), the term barrier a new leader
 * waits for before deciding, drain and undrain, dropping leftover node
 * records; on members, the run mode (OK, HOLD, FENCE) the runners obey.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/private.h"

/* ---- Pipelines: heartbeats, liveness, placement, what the runners may do ---- */

/* What this node's runners may do now (see WIRE_RUN_*). */
int node_run_mode(wire_node *n, int64_t now)
{
    if (!n->raft_ok || n->stopping)
        return WIRE_RUN_FENCE;
    if (is_leader(n)) /* once everything committed before its term is applied here */
        return n->sched_term == n->raft.current_term &&
                       raft_last_applied(&n->raft) >= n->raft.commit_index
                   ? WIRE_RUN_OK
                   : WIRE_RUN_HOLD;
    /* A member that heard no leader for 3/4 of --node-timeout stops its pipelines before
       the leader (at the full timeout) gives them to another node. */
    if (!n->last_hb_ms || now - n->last_hb_ms >= n->cfg.node_timeout_ms * 3 / 4)
        return WIRE_RUN_FENCE;
    return n->caught_up ? WIRE_RUN_OK : WIRE_RUN_HOLD;
}

/* Member side of a heartbeat: the leader is in touch, and how far it has committed. */
void node_on_heartbeat(wire_node *n, uint64_t term, uint64_t commit)
{
    if (!n->raft_ok || term < n->raft.current_term)
        return; /* a deposed leader */
    int64_t now = wire_now_ms();
    if (n->last_hb_ms && now - n->last_hb_ms >= n->cfg.node_timeout_ms * 3 / 4) {
        /* a gap (e.g. this process was stopped): catch up before running anything */
        n->caught_up = false;
        n->sync_target = 0;
    }
    n->last_hb_ms = now;
    if (!n->caught_up && !n->sync_target)
        n->sync_target = commit ? commit : 1;
    if (!n->caught_up && raft_last_applied(&n->raft) >= n->sync_target) {
        n->caught_up = true;
        if (n->runners)
            wire_runners_kick(n->runners);
    }
}

void node_pipelines_member_tick(wire_node *n, int64_t now)
{
    if (is_leader(n)) {
        /* in touch with itself: stepping down later starts from here, not from a stale
           heartbeat of the leader before it */
        n->last_hb_ms = now;
        n->caught_up = n->sched_term == n->raft.current_term;
        n->sync_target = 0;
        return;
    }
    if (n->last_hb_ms && now - n->last_hb_ms >= n->cfg.node_timeout_ms * 3 / 4) {
        /* out of touch: before running anything again, catch up with a new leader */
        n->caught_up = false;
        n->sync_target = 0;
    } else if (!n->caught_up && n->sync_target && raft_last_applied(&n->raft) >= n->sync_target) {
        n->caught_up = true;
        if (n->runners)
            wire_runners_kick(n->runners);
    }
    const char *la = leader_addr(n);
    if (la)
        snprintf(n->last_leader_addr, sizeof(n->last_leader_addr), "%s", la);
}

/* The leader's heartbeat round: every member, term and commit index. */
static void send_heartbeats(wire_node *n)
{
    wire_buf p;
    wire_buf_init(&p);
    wire_put_u64(&p, n->raft.current_term);
    wire_put_u64(&p, n->raft.commit_index);
    node_call_members(n, WIRE_RPC_HEARTBEAT, &p);
    wire_buf_free(&p);
}

/*
 * A node gone from the configuration (removed) may still run its pipelines
 * until it notices: it fences itself after 3/4 of --node-timeout without
 * heartbeats, so count it alive for --node-timeout from when the leader
 * first saw it gone.
 */
static bool departed_alive(wire_node *n, const char *id, int64_t now)
{
    struct departed *free_slot = NULL, *oldest = &n->departed[0];
    for (size_t i = 0; i < WIRE_ARRAY_LEN(n->departed); i++) {
        struct departed *d = &n->departed[i];
        if (d->id[0] && strcmp(d->id, id) == 0)
            return now - d->since_ms < n->cfg.node_timeout_ms;
        if (!d->id[0] && !free_slot)
            free_slot = d;
        if (d->since_ms < oldest->since_ms)
            oldest = d;
    }
    struct departed *d = free_slot ? free_slot : oldest;
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->since_ms = now;
    return true;
}

/* Leader: has node `rec` answered within --node-timeout? */
static bool node_alive(void *arg, const wire_node_rec *rec)
{
    wire_node *n = arg;
    if (strcmp(rec->id, n->id) == 0)
        return true;
    const struct raft_server *s = rec->raft_addr[0] ? config_find(n, 0, rec->raft_addr) : NULL;
    if (!s || s->role == RAFT_SPARE)
        return departed_alive(n, rec->id, wire_now_ms());
    /* Silence is counted from when this node became leader, except for the leader it
       replaced: from the last heartbeat it got from it. */
    int64_t seen = n->leader_since_ms;
    if (n->prev_leader_addr[0] && strcmp(rec->raft_addr, n->prev_leader_addr) == 0 &&
        n->prev_leader_seen_ms)
        seen = n->prev_leader_seen_ms;
    for (size_t i = 0; i < n->nclients; i++)
        if (strcmp(wire_rpc_client_addr(n->clients[i].c), rec->raft_addr) == 0 &&
            n->clients[i].last_reply_ms > seen)
            seen = n->clients[i].last_reply_ms;
    return wire_now_ms() - seen < n->cfg.node_timeout_ms;
}

static void undrain_done(wire_node_op *op)
{
    wire_node *n = op->arg;
    n->undrain_inflight = false;
    if (op->status == 0 && op->result == WIRE_APPLY_OK)
        wire_info("node %s takes pipelines again", n->id);
    free(op);
}

/* Back after a graceful stop, and caught up: take pipelines again. */
void node_undrain(wire_node *n, int64_t now)
{
    wire_node_rec rec;
    if (n->undrain_inflight || atomic_load(&n->leaving) || !n->runners ||
        !wire_fsm_node_get(n->fsm, n->id, &rec) || !rec.draining ||
        node_run_mode(n, now) != WIRE_RUN_OK)
        return;
    wire_node_op *op = wire_xcalloc(1, sizeof(*op));
    op->type = WIRE_OP_CMD;
    op->cmd.type = WIRE_CMD_NODE_DRAIN;
    op->cmd.a = n->id;
    op->cmd.alen = strlen(n->id);
    op->cmd.u1 = 0;
    op->done = undrain_done;
    op->arg = n;
    n->undrain_inflight = true;
    node_write(n, op);
}

static void gc_done(wire_node_op *op)
{
    wire_node *n = op->arg;
    n->gc_inflight = false;
    free((char *)op->cmd.a);
    free(op);
}

/*
 * Leader, when no membership job runs: a node record whose address is not in
 * the configuration is a leftover of a removal that did not finish (a leader
 * that removed itself steps down before dropping its record). Drop it; its
 * pipelines then move once --node-timeout has passed (departed_alive).
 */
void node_gc_records(wire_node *n)
{
    if (n->gc_inflight || n->job_running || n->jobs || !is_leader(n) ||
        n->sched_term != n->raft.current_term)
        return;
    wire_node_rec *v;
    size_t k = wire_fsm_nodes(n->fsm, &v);
    for (size_t i = 0; i < k; i++) {
        if (config_find(n, 0, v[i].raft_addr))
            continue;
        wire_info("dropping the record of node %s: no longer a member", v[i].id);
        wire_node_op *op = wire_xcalloc(1, sizeof(*op));
        op->type = WIRE_OP_CMD;
        op->cmd.type = WIRE_CMD_NODE_DEL;
        op->cmd.a = wire_xstrdup(v[i].id);
        op->cmd.alen = strlen(v[i].id);
        op->done = gc_done;
        op->arg = n;
        n->gc_inflight = true;
        node_write(n, op);
        break; /* one at a time */
    }
    free(v);
}

static void sched_done(wire_node_op *op)
{
    wire_node *n = op->arg;
    n->sched_inflight--;
    if (op->status != 0)
        wire_warn("placement: assignment not committed: %s", op->err);
    free(op);
}

/* Leader: give every pipeline that needs a node one (scheduler.c decides). */
static void schedule(wire_node *n)
{
    wire_assignment *a;
    size_t k = wire_schedule(n->fsm, node_alive, n, (size_t)n->cfg.max_pipelines, &a);
    for (size_t i = 0; i < k; i++) {
        wire_log(WIRE_LOG_INFO, "placement: pipeline %s → node %s (was epoch %" PRIu64 "): %s",
                 a[i].pipeline, a[i].node, a[i].epoch, a[i].reason);
        wire_cmd c = {0};
        c.type = WIRE_CMD_ASSIGN;
        c.version = 1;
        c.a = a[i].pipeline;
        c.alen = strlen(a[i].pipeline);
        c.b = a[i].node;
        c.blen = strlen(a[i].node);
        c.u1 = a[i].epoch;
        wire_node_op *op = wire_xcalloc(1, sizeof(*op));
        op->type = WIRE_OP_CMD;
        op->done = sched_done;
        op->arg = n;
        node_batch_cmd(n, &c, ITEM_OP)->op = op;
        n->sched_inflight++;
        n->c_assignments++;
    }
    free(a);
}

typedef struct term_barrier {
    struct raft_barrier req;
    wire_node *n;
    uint64_t term;
} term_barrier;

static void term_barrier_cb(struct raft_barrier *req, int status)
{
    term_barrier *b = req->data;
    /* Everything committed before this term is applied: placement may decide now. */
    if (status == 0)
        b->n->sched_term = b->term;
    free(b);
}

void node_pipelines_leader_tick(wire_node *n, int64_t now)
{
    /* Nothing before this term's barrier applied: heartbeats carry a commit index
       members catch up to, and placement reads the whole state. */
    if (!is_leader(n) || n->sched_term != n->raft.current_term)
        return;
    if (now >= n->next_hb_ms) {
        n->next_hb_ms = now + HEARTBEAT_EVERY_MS;
        send_heartbeats(n);
    }
    if (!n->sched_inflight && now >= n->next_sched_ms) {
        n->next_sched_ms = now + SCHEDULE_EVERY_MS;
        schedule(n);
    }
}

/* This node just became the leader. */
void node_leader_began(wire_node *n, int64_t now)
{
    /*
     * A new leader knows entries of earlier terms are committed only
     * once one of its own term is: append a barrier now, so every
     * node applies the whole log without waiting for the next write.
     * Placement waits for it too.
     */
    n->leader_since_ms = now;
    snprintf(n->prev_leader_addr, sizeof(n->prev_leader_addr), "%s", n->last_leader_addr);
    n->prev_leader_seen_ms = n->last_hb_ms;
    n->next_hb_ms = now;
    term_barrier *bar = wire_xcalloc(1, sizeof(*bar));
    bar->n = n;
    bar->term = n->raft.current_term;
    bar->req.data = bar;
    if (raft_barrier(&n->raft, &bar->req, term_barrier_cb) != 0)
        free(bar);
}
