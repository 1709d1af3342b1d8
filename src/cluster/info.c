/*
 * info.c — what a node tells about itself: its status (Raft state,
 * leader, members and their reachability, counters) and the pipeline records
 * copied out of the state machine, with live counters for those it runs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/private.h"

/* ---- Status ---- */

static const char *state_name(int s)
{
    switch (s) {
    case RAFT_LEADER: return "Leader";
    case RAFT_FOLLOWER: return "Follower";
    case RAFT_CANDIDATE: return "Candidate";
    default: return "Unavailable";
    }
}

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const wire_member *)a)->id, ((const wire_member *)b)->id);
}

void node_fill_info(wire_node *n, wire_node_info *info)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->id, sizeof(info->id), "%s", n->id);
    info->state = state_name(n->raft_ok ? raft_state(&n->raft) : RAFT_UNAVAILABLE);
    const char *la = leader_addr(n);
    if (la) {
        snprintf(info->leader_addr, sizeof(info->leader_addr), "%s", la);
        wire_node_rec rec;
        if (wire_fsm_node_by_addr(n->fsm, la, &rec)) {
            snprintf(info->leader_id, sizeof(info->leader_id), "%s", rec.id);
            snprintf(info->leader_api, sizeof(info->leader_api), "%s", rec.api_addr);
        }
    }
    if (n->raft_ok) {
        struct raft *r = &n->raft;
        info->term = r->current_term;
        info->commit_index = r->commit_index;
        info->applied_index = raft_last_applied(r);
        info->last_snapshot_index = r->log.snapshot.last_index;
        info->last_log_index = raft_last_index(r);
        info->members = wire_xcalloc(r->configuration.n + 1, sizeof(wire_member));
        int64_t now = wire_now_ms();
        for (unsigned i = 0; i < r->configuration.n; i++) {
            struct raft_server *s = &r->configuration.servers[i];
            if (s->role == RAFT_SPARE)
                continue;
            wire_member *m = &info->members[info->nmembers++];
            snprintf(m->raft_addr, sizeof(m->raft_addr), "%s", s->address);
            m->voter = s->role == RAFT_VOTER;
            if (m->voter)
                info->voters++;
            else
                info->non_voters++;
            wire_node_rec rec;
            if (wire_fsm_node_by_addr(n->fsm, s->address, &rec)) {
                snprintf(m->id, sizeof(m->id), "%s", rec.id);
                snprintf(m->api_addr, sizeof(m->api_addr), "%s", rec.api_addr);
            } else if (s->id == n->rid) {
                snprintf(m->id, sizeof(m->id), "%s", n->id);
                snprintf(m->api_addr, sizeof(m->api_addr), "%s", n->http_adv);
            } else {
                snprintf(m->id, sizeof(m->id), "%llu", (unsigned long long)s->id);
            }
            m->leader = la && strcmp(la, s->address) == 0;
            if (s->id == n->rid) {
                m->reachable = true;
            } else {
                for (size_t k = 0; k < n->nclients; k++)
                    if (strcmp(wire_rpc_client_addr(n->clients[k].c), s->address) == 0)
                        m->reachable = now - n->clients[k].last_reply_ms < REACHABLE_MS;
            }
        }
    }
    if (info->nmembers > 1)
        qsort(info->members, info->nmembers, sizeof(wire_member), member_cmp);
    info->kv_keys = wire_fsm_kv_count(n->fsm);
    info->pipelines = wire_fsm_pipeline_count(n->fsm);
    info->entries_applied = n->c_entries;
    info->commands_applied = n->c_cmds_applied;
    info->batches_proposed = n->c_batches;
    info->commands_proposed = n->c_cmds_proposed;
    info->forwarded = n->c_forwarded;
    info->snapshots_restored = wire_fsm_restores(n->fsm);
    if (n->mux)
        wire_mux_stats(n->mux, &info->mux_conns, &info->mux_unknown);
    info->rpc_in = n->c_rpc_in;
    info->rpc_out = n->c_rpc_out;
    info->leader_changes = n->c_leader_changes;
    info->assignments = n->c_assignments;
}

void wire_node_info_free(wire_node_info *info)
{
    free(info->members);
    info->members = NULL;
    info->nmembers = 0;
}

static int live_key_cmp(const void *key, const void *el)
{
    return strcmp(key, ((const wire_runner_live *)el)->name);
}

/* `lives`: every runner's counters (a list), or NULL to ask the runners for this one. */
static void copy_info(wire_node *n, const wire_pipeline_rec *p, bool with_spec,
                      const wire_runner_live *lives, size_t nlives, wire_pipeline_info *o)
{
    memset(o, 0, sizeof(*o));
    o->name = wire_xstrdup(p->name);
    o->node = wire_xstrdup(p->node);
    o->error = wire_xstrdup(p->error);
    o->placement = wire_xstrdup(p->placement);
    o->version = p->version;
    o->epoch = p->epoch;
    o->state = p->state;
    o->checkpoint_epoch = p->checkpoint_epoch;
    if (with_spec) {
        o->spec = wire_xstrndup(p->spec, p->spec_len);
        o->spec_len = p->spec_len;
    }
    /* the checkpoint's header fields (id, time) are small; the list shows them */
    o->checkpoint = wire_xstrndup(p->checkpoint, p->checkpoint_len);
    o->checkpoint_len = p->checkpoint_len;
    if (!n->runners || strcmp(p->node, n->id) != 0) {
        o->stats = wire_xstrdup(p->stats);
        return;
    }
    if (lives) {
        const wire_runner_live *l = bsearch(p->name, lives, nlives, sizeof(*lives), live_key_cmp);
        o->stats = wire_xstrdup(l ? l->counters : p->stats);
        o->live = l != NULL;
        return;
    }
    wire_buf live;
    wire_buf_init(&live);
    o->live = wire_runners_live(n->runners, p->name, &live);
    o->stats = o->live ? wire_xstrndup(live.p, live.len) : wire_xstrdup(p->stats);
    wire_buf_free(&live);
}

void node_fill_pipelines(wire_node *n, wire_node_op *op)
{
    wire_pipeline_rec *v;
    size_t k = wire_fsm_pipelines(n->fsm, &v);
    op->pipes = wire_xcalloc(k ? k : 1, sizeof(*op->pipes));
    op->npipes = 0;
    /* a list (or the runners' own look) takes every runner's counters at once: asking
       per pipeline made a list of N pipelines O(N x the pipelines running here) */
    wire_runner_live *lives = NULL;
    size_t nlives = 0;
    if (!op->key && n->runners)
        nlives = wire_runners_live_all(n->runners, &lives);
    for (size_t i = 0; i < k; i++) {
        if (op->key) { /* the record named, or with instances every NAME#i of it too */
            size_t nl = strlen(v[i].name);
            bool prefix = nl >= op->klen && memcmp(v[i].name, op->key, op->klen) == 0;
            if (!prefix || (nl > op->klen && !(op->instances && v[i].name[op->klen] == '#')))
                continue;
        }
        if (op->mine && strcmp(v[i].node, n->id) != 0)
            continue;
        copy_info(n, &v[i], op->with_spec, lives, nlives, &op->pipes[op->npipes++]);
    }
    wire_runner_lives_free(lives, nlives);
    free(v);
    if (op->mine)
        op->run_mode = node_run_mode(n, wire_now_ms());
    if (op->key && !op->npipes)
        op_done(op, WIRE_ENOTFOUND, "pipeline %.*s not found", (int)op->klen, op->key);
    else
        op_done(op, 0, NULL);
}
