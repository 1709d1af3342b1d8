/*
 * scheduler.c — where pipelines run: the leader's placement decisions.
 *
 * A pure function of the replicated state and of which nodes are alive (the
 * leader's view, from heartbeats), so it can be tested without a cluster.
 * The node turns each decision into an ASSIGN command carrying the next
 * epoch; the state machine refuses an epoch that does not grow, so two
 * passes deciding from the same state cannot both win.
 *
 * Rules: a pipeline needs a node when it should run (pending or running)
 * and has none, or its node is not alive. It goes to its `placement` node if
 * that one is alive (else it waits, pending); otherwise to the live node
 * with the fewest pipelines that should run there, ties to the lowest id.
 * Paused, failed and finished pipelines keep their node: nothing runs them.
 * No node gets more than max_per_node (--max-pipelines) that should run:
 * beyond that a pipeline stays pending until a node has room.
 * A draining node (stopping gracefully) gets nothing new; what it runs stays
 * until it hands it back after the final checkpoint.
 * The instances of a parallel pipeline (records NAME, NAME#1, ...) go to
 * distinct nodes where they can: the node with the fewest of its siblings
 * comes first, then the least loaded.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

static bool should_run(int state)
{
    return state == WIRE_PSTATE_PENDING || state == WIRE_PSTATE_RUNNING;
}

size_t wire_schedule(const wire_fsm *f, bool (*alive)(void *arg, const wire_node_rec *node),
                     void *arg, size_t max_per_node, wire_assignment **out)
{
    wire_node_rec *nodes;
    wire_pipeline_rec *pipes;
    size_t nn = wire_fsm_nodes(f, &nodes), np = wire_fsm_pipelines(f, &pipes);
    bool *up = wire_xcalloc(nn ? nn : 1, sizeof(bool));
    size_t *load = wire_xcalloc(nn ? nn : 1, sizeof(size_t));
    /* A draining node (stopping gracefully) keeps what it runs until it hands it back
       after the final checkpoint, but gets nothing new. */
    for (size_t i = 0; i < nn; i++)
        up[i] = alive(arg, &nodes[i]);
    /* index of the node a pipeline is on, or nn */
    size_t *on = wire_xcalloc(np ? np : 1, sizeof(size_t));
    for (size_t j = 0; j < np; j++) {
        on[j] = nn;
        for (size_t i = 0; i < nn; i++)
            if (strcmp(pipes[j].node, nodes[i].id) == 0)
                on[j] = i;
        if (on[j] < nn && should_run(pipes[j].state))
            load[on[j]]++;
    }
    wire_assignment *a = wire_xcalloc(np ? np : 1, sizeof(*a));
    size_t *sib = wire_xcalloc(nn ? nn : 1, sizeof(size_t));
    size_t k = 0, group = 0, group_end = 0;
    for (size_t j = 0; j < np; j++) {
        if (j >= group_end) { /* the records of j's pipeline: j and the NAME#i after it */
            group = j;
            group_end = j + 1;
            while (group_end < np && wire_instance_sibling(pipes[j].name, pipes[group_end].name))
                group_end++;
        }
        const wire_pipeline_rec *p = &pipes[j];
        if (!should_run(p->state) || (on[j] < nn && up[on[j]]))
            continue;
        if (p->node[0] && on[j] == nn) {
            /* its node left the cluster: it may not know yet, give it the time to fence */
            wire_node_rec gone = {.id = p->node, .raft_addr = "", .api_addr = ""};
            if (alive(arg, &gone))
                continue;
        }
        memset(sib, 0, (nn ? nn : 1) * sizeof(size_t));
        for (size_t g = group; g < group_end; g++)
            if (g != j && on[g] < nn && should_run(pipes[g].state))
                sib[on[g]]++;
        size_t pick = nn;
        for (size_t i = 0; i < nn; i++) {
            bool room = up[i] && !nodes[i].draining && (!max_per_node || load[i] < max_per_node);
            bool better =
                pick == nn || sib[i] < sib[pick] || (sib[i] == sib[pick] && load[i] < load[pick]);
            if (p->placement[0] ? room && strcmp(nodes[i].id, p->placement) == 0 : room && better)
                pick = i;
        }
        if (pick == nn)
            continue; /* nowhere to go yet: stays pending */
        if (on[j] < nn)
            load[on[j]]--;
        load[pick]++;
        a[k].pipeline = p->name;
        a[k].node = nodes[pick].id;
        a[k].epoch = p->epoch;
        a[k].reason = !p->node[0]   ? "needs a node"
                      : on[j] == nn ? "its node left the cluster"
                                    : "its node stopped answering";
        on[j] = pick; /* its later siblings see where it went */
        k++;
    }
    free(sib);
    free(on);
    free(load);
    free(up);
    free(nodes);
    free(pipes);
    *out = a;
    return k;
}
