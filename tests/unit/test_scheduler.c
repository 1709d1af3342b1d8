/*
 * test_scheduler.c — the pipeline commands' semantics in the state machine
 * (runner reports fenced by version and epoch, pause/resume, updates that
 * keep a pause, placement changes) and the leader's placement decisions
 * (least loaded, ties to the lowest id, `placement`, dead and removed nodes,
 * paused pipelines left alone).
 */
#include <string.h>

#include "cluster/internal.h"
#include "test.h"

static uint64_t g_index;

static uint8_t apply1(wire_fsm *f, const wire_cmd *c)
{
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, 1, 1);
    wire_cmd x = *c;
    x.version = 1;
    wire_cmd_encode(&e, &x);
    CHECK_EQ_INT(wire_fsm_apply_entry(f, ++g_index, e.p, e.len), 0);
    wire_buf_free(&e);
    uint32_t n;
    const uint8_t *r = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(n, 1);
    return n ? r[0] : 255;
}

static uint8_t put(wire_fsm *f, const char *name, const char *placement, uint64_t expect,
                   const char *spec)
{
    wire_cmd c = {.type = WIRE_CMD_PIPELINE_PUT, .a = name, .alen = strlen(name)};
    c.b = placement;
    c.blen = strlen(placement);
    c.u1 = expect;
    c.c = spec;
    c.clen = strlen(spec);
    return apply1(f, &c);
}

static uint8_t assign(wire_fsm *f, const char *name, const char *node, uint64_t epoch)
{
    wire_cmd c = {.type = WIRE_CMD_ASSIGN, .a = name, .alen = strlen(name)};
    c.b = node;
    c.blen = strlen(node);
    c.u1 = epoch;
    return apply1(f, &c);
}

static uint8_t report(wire_fsm *f, const char *name, uint64_t version, uint64_t epoch, int state,
                      const char *error)
{
    wire_cmd c = {.type = WIRE_CMD_PIPELINE_STATE, .a = name, .alen = strlen(name)};
    c.u1 = version;
    c.u2 = (uint64_t)state;
    c.u3 = epoch;
    c.c = error;
    c.clen = strlen(error);
    return apply1(f, &c);
}

static uint8_t ctl(wire_fsm *f, const char *name, uint64_t action)
{
    wire_cmd c = {.type = WIRE_CMD_PIPELINE_CTL, .a = name, .alen = strlen(name), .u1 = action};
    return apply1(f, &c);
}

static uint8_t checkpoint(wire_fsm *f, const char *name, uint64_t epoch, const char *blob)
{
    wire_cmd c = {.type = WIRE_CMD_CHECKPOINT, .a = name, .alen = strlen(name), .u1 = epoch};
    c.b = "{\"events_in\":7}";
    c.blen = strlen(c.b);
    c.c = blob;
    c.clen = strlen(blob);
    return apply1(f, &c);
}

static void add_node(wire_fsm *f, const char *id, const char *addr)
{
    wire_cmd c = {.type = WIRE_CMD_NODE_SET, .a = id, .alen = strlen(id)};
    c.b = addr;
    c.blen = strlen(addr);
    c.c = addr;
    c.clen = strlen(addr);
    c.u2 = 1;
    CHECK_EQ_INT(apply1(f, &c), WIRE_APPLY_OK);
}

static wire_pipeline_rec get(wire_fsm *f, const char *name)
{
    wire_pipeline_rec p;
    memset(&p, 0, sizeof(p));
    CHECK(wire_fsm_pipeline_get(f, name, &p));
    return p;
}

TEST(fsm_pipeline_lifecycle)
{
    wire_fsm *f = wire_fsm_new();
    CHECK_EQ_INT(put(f, "p", "", 0, "v1"), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "p").state, WIRE_PSTATE_PENDING);
    /* names follow the pipeline file's rule on every node (found by fuzz_cluster: a NUL
       byte in a name made records unreachable by name) */
    CHECK_EQ_INT(put(f, "Bad", "", 0, "v1"), WIRE_APPLY_INVALID);
    wire_cmd nul = {.type = WIRE_CMD_PIPELINE_PUT, .a = "a\0b", .alen = 3, .c = "x", .clen = 1};
    CHECK_EQ_INT(apply1(f, &nul), WIRE_APPLY_INVALID);
    CHECK_EQ_INT(wire_fsm_pipeline_count(f), 1);
    CHECK_EQ_INT(assign(f, "p", "n1", 1), WIRE_APPLY_CONFLICT); /* not its epoch now */
    CHECK_EQ_INT(assign(f, "p", "n1", 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "p").epoch, 1);
    /* a runner's reports count only for the current version and epoch */
    CHECK_EQ_INT(report(f, "p", 1, 0, WIRE_PSTATE_RUNNING, ""), WIRE_APPLY_STALE);
    CHECK_EQ_INT(report(f, "p", 2, 1, WIRE_PSTATE_RUNNING, ""), WIRE_APPLY_CONFLICT);
    CHECK_EQ_INT(report(f, "p", 1, 1, WIRE_PSTATE_PAUSED, ""), WIRE_APPLY_CONFLICT);
    CHECK_EQ_INT(report(f, "p", 1, 1, WIRE_PSTATE_RUNNING, ""), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "p").state, WIRE_PSTATE_RUNNING);
    CHECK_EQ_INT(checkpoint(f, "p", 1, "{\"id\":3}"), WIRE_APPLY_OK);
    CHECK_EQ_STR(get(f, "p").stats, "{\"events_in\":7}");

    /* pause: a report cannot undo it; the final checkpoint is still taken */
    CHECK_EQ_INT(ctl(f, "p", WIRE_CTL_PAUSE), WIRE_APPLY_OK);
    CHECK_EQ_INT(report(f, "p", 1, 1, WIRE_PSTATE_RUNNING, ""), WIRE_APPLY_CONFLICT);
    CHECK_EQ_INT(get(f, "p").state, WIRE_PSTATE_PAUSED);
    CHECK_EQ_INT(checkpoint(f, "p", 1, "{\"id\":4}"), WIRE_APPLY_OK);
    /* an update keeps the pause; the checkpoint stays */
    CHECK_EQ_INT(put(f, "p", "", UINT64_MAX, "v2"), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "p").version, 2);
    CHECK_EQ_INT(get(f, "p").state, WIRE_PSTATE_PAUSED);
    CHECK_EQ_STR(get(f, "p").checkpoint, "{\"id\":4}");
    /* resume: pending again, with a new epoch on the same node */
    CHECK_EQ_INT(ctl(f, "p", WIRE_CTL_RESUME), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "p").state, WIRE_PSTATE_PENDING);
    CHECK_EQ_INT(get(f, "p").epoch, 2);
    CHECK_EQ_STR(get(f, "p").node, "n1");
    CHECK_EQ_INT(ctl(f, "p", WIRE_CTL_RESUME), WIRE_APPLY_OK); /* idempotent */
    CHECK_EQ_INT(get(f, "p").epoch, 2);
    CHECK_EQ_INT(checkpoint(f, "p", 1, "{\"id\":99}"), WIRE_APPLY_STALE);
    CHECK_EQ_INT(ctl(f, "p", 9), WIRE_APPLY_CONFLICT);
    /* failed, with its error; resume clears it */
    CHECK_EQ_INT(report(f, "p", 2, 2, WIRE_PSTATE_FAILED, "disk full"), WIRE_APPLY_OK);
    CHECK_EQ_STR(get(f, "p").error, "disk full");
    CHECK_EQ_INT(ctl(f, "p", WIRE_CTL_RESUME), WIRE_APPLY_OK);
    CHECK_EQ_STR(get(f, "p").error, "");
    CHECK_EQ_INT(get(f, "p").epoch, 3);
    /* an update pinned to another node keeps the assignment until n1 hands it back
       (runners.c), so the two never run it at once */
    CHECK_EQ_INT(put(f, "p", "n2", UINT64_MAX, "v3"), WIRE_APPLY_OK);
    CHECK_EQ_STR(get(f, "p").node, "n1");
    CHECK_EQ_STR(get(f, "p").placement, "n2");
    CHECK_EQ_INT(put(f, "q", "", UINT64_MAX, "v1"), WIRE_APPLY_NOTFOUND);
    /* deleted and created again: epochs are never reused, so a runner of the old
       pipeline (epoch 3) cannot report or checkpoint into the new one */
    wire_cmd del = {.type = WIRE_CMD_PIPELINE_DEL, .a = "p", .alen = 1};
    CHECK_EQ_INT(apply1(f, &del), WIRE_APPLY_OK);
    CHECK_EQ_INT(put(f, "p", "", 0, "again"), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "p").version, 1);
    CHECK_EQ_INT(assign(f, "p", "n1", 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "p").epoch, 4);
    CHECK_EQ_INT(checkpoint(f, "p", 3, "{\"id\":1}"), WIRE_APPLY_STALE);
    CHECK_EQ_INT(report(f, "p", 1, 3, WIRE_PSTATE_RUNNING, ""), WIRE_APPLY_STALE);
    CHECK_EQ_INT(checkpoint(f, "p", 4, "{\"id\":1}"), WIRE_APPLY_OK);
    CHECK_EQ_INT(put(f, "p", "n2", UINT64_MAX, "v3"), WIRE_APPLY_OK);
    CHECK_EQ_INT(ctl(f, "q", WIRE_CTL_PAUSE), WIRE_APPLY_NOTFOUND);

    /* survives a snapshot round trip */
    wire_buf s;
    wire_buf_init(&s);
    wire_fsm_encode(f, &s);
    wire_fsm *g = wire_fsm_new();
    wire_err err;
    CHECK_EQ_INT(wire_fsm_decode(g, s.p, s.len, &err), 0);
    CHECK_EQ_INT(wire_fsm_digest(g), wire_fsm_digest(f));
    CHECK_EQ_STR(get(g, "p").placement, "n2");
    CHECK_EQ_STR(get(g, "p").stats, "{\"events_in\":7}");
    /* the epoch sequence too: the next epoch is still new */
    CHECK_EQ_INT(assign(g, "p", "n2", 4), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(g, "p").epoch, 5);
    wire_buf_free(&s);
    wire_fsm_free(g);
    wire_fsm_free(f);
}

/* ---- placement ---- */

static const char *g_down[8];

static bool alive(void *arg, const wire_node_rec *n)
{
    (void)arg;
    for (size_t i = 0; i < 8 && g_down[i]; i++)
        if (strcmp(g_down[i], n->id) == 0)
            return false;
    return true;
}

static const wire_assignment *find(wire_assignment *a, size_t k, const char *p)
{
    for (size_t i = 0; i < k; i++)
        if (strcmp(a[i].pipeline, p) == 0)
            return &a[i];
    return NULL;
}

/* Run the scheduler (at most `cap` per node, 0: none) and apply what it decides;
   returns how many it moved. */
static size_t schedule_apply_cap(wire_fsm *f, size_t cap)
{
    wire_assignment *a;
    size_t k = wire_schedule(f, alive, NULL, cap, &a);
    /* copy first: applying invalidates the pointers into the FSM */
    char names[16][32], nodes[16][32];
    uint64_t epochs[16];
    for (size_t i = 0; i < k && i < 16; i++) {
        snprintf(names[i], sizeof(names[i]), "%s", a[i].pipeline);
        snprintf(nodes[i], sizeof(nodes[i]), "%s", a[i].node);
        epochs[i] = a[i].epoch;
    }
    free(a);
    for (size_t i = 0; i < k && i < 16; i++)
        CHECK_EQ_INT(assign(f, names[i], nodes[i], epochs[i]), WIRE_APPLY_OK);
    return k;
}

static size_t schedule_apply(wire_fsm *f)
{
    return schedule_apply_cap(f, 0);
}

TEST(schedule_least_loaded_and_failover)
{
    wire_fsm *f = wire_fsm_new();
    memset(g_down, 0, sizeof(g_down));
    add_node(f, "n2", "h:2");
    add_node(f, "n1", "h:1");
    add_node(f, "n3", "h:3");
    CHECK_EQ_INT(schedule_apply(f), 0); /* nothing to place */
    const char *names[] = {"a", "b", "c", "d", "e", "f"};
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(put(f, names[i], "", 0, "spec"), WIRE_APPLY_OK);
    CHECK_EQ_INT(schedule_apply(f), 6);
    /* least loaded, ties to the lowest id: a,d → n1; b,e → n2; c,f → n3 */
    CHECK_EQ_STR(get(f, "a").node, "n1");
    CHECK_EQ_STR(get(f, "b").node, "n2");
    CHECK_EQ_STR(get(f, "c").node, "n3");
    CHECK_EQ_STR(get(f, "f").node, "n3");
    CHECK_EQ_INT(get(f, "a").epoch, 1);
    CHECK_EQ_INT(schedule_apply(f), 0); /* stable */

    /* n2 stops answering: its two move, one each to n1 and n3 */
    g_down[0] = "n2";
    wire_assignment *a;
    size_t k = wire_schedule(f, alive, NULL, 0, &a);
    CHECK_EQ_INT(k, 2);
    const wire_assignment *x = find(a, k, "b"), *y = find(a, k, "e");
    CHECK(x && y);
    if (x && y) {
        CHECK(strcmp(x->node, "n2") != 0 && strcmp(y->node, "n2") != 0);
        CHECK(strcmp(x->node, y->node) != 0);
        CHECK_EQ_INT(x->epoch, 2); /* its epoch now; the state machine gives the next */
        CHECK_EQ_STR(x->reason, "its node stopped answering");
    }
    free(a);
    CHECK_EQ_INT(schedule_apply(f), 2);
    /* n2 comes back: nothing moves back by itself */
    g_down[0] = NULL;
    CHECK_EQ_INT(schedule_apply(f), 0);

    /* a paused pipeline on a dead node stays where it is; resume moves it */
    CHECK_EQ_INT(ctl(f, "a", WIRE_CTL_PAUSE), WIRE_APPLY_OK);
    g_down[0] = "n1";
    k = wire_schedule(f, alive, NULL, 0, &a);
    CHECK(find(a, k, "a") == NULL);
    free(a);
    CHECK_EQ_INT(ctl(f, "a", WIRE_CTL_RESUME), WIRE_APPLY_OK);
    k = wire_schedule(f, alive, NULL, 0, &a);
    CHECK(find(a, k, "a") != NULL);
    free(a);
    g_down[0] = NULL;

    /* a node that left the cluster: it gets the time to notice (alive says so), then
       its pipelines move */
    wire_cmd del = {.type = WIRE_CMD_NODE_DEL, .a = "n3", .alen = 2};
    CHECK_EQ_INT(apply1(f, &del), WIRE_APPLY_OK);
    k = wire_schedule(f, alive, NULL, 0, &a);
    CHECK(find(a, k, "c") == NULL);
    free(a);
    g_down[0] = "n3";
    k = wire_schedule(f, alive, NULL, 0, &a);
    x = find(a, k, "c");
    CHECK(x != NULL);
    if (x)
        CHECK_EQ_STR(x->reason, "its node left the cluster");
    free(a);
    g_down[0] = NULL;
    wire_fsm_free(f);
}

TEST(schedule_placement)
{
    wire_fsm *f = wire_fsm_new();
    memset(g_down, 0, sizeof(g_down));
    add_node(f, "n1", "h:1");
    add_node(f, "n2", "h:2");
    CHECK_EQ_INT(put(f, "pinned", "n2", 0, "spec"), WIRE_APPLY_OK);
    CHECK_EQ_INT(put(f, "nowhere", "n9", 0, "spec"), WIRE_APPLY_OK);
    CHECK_EQ_INT(schedule_apply(f), 1);
    CHECK_EQ_STR(get(f, "pinned").node, "n2");
    CHECK_EQ_STR(get(f, "nowhere").node, ""); /* waits for n9 */
    /* its node down: it waits rather than run elsewhere */
    g_down[0] = "n2";
    CHECK_EQ_INT(schedule_apply(f), 0);
    g_down[0] = NULL;
    /* n9 joins: placed */
    add_node(f, "n9", "h:9");
    CHECK_EQ_INT(schedule_apply(f), 1);
    CHECK_EQ_STR(get(f, "nowhere").node, "n9");
    /* a draining node (stopping gracefully) gets nothing, though least loaded */
    wire_cmd drain = {.type = WIRE_CMD_NODE_DRAIN, .a = "n1", .alen = 2, .u1 = 1};
    CHECK_EQ_INT(apply1(f, &drain), WIRE_APPLY_OK);
    wire_node_rec nr;
    CHECK(wire_fsm_node_get(f, "n1", &nr) && nr.draining);
    add_node(f, "n1", "h:1"); /* a re-registration keeps the flag */
    CHECK(wire_fsm_node_get(f, "n1", &nr) && nr.draining);
    CHECK_EQ_INT(put(f, "late", "", 0, "spec"), WIRE_APPLY_OK);
    CHECK_EQ_INT(schedule_apply(f), 1);
    CHECK(strcmp(get(f, "late").node, "n1") != 0);
    drain.u1 = 0;
    CHECK_EQ_INT(apply1(f, &drain), WIRE_APPLY_OK);
    CHECK(wire_fsm_node_get(f, "n1", &nr) && !nr.draining);
    wire_fsm_free(f);
}

/* --max-pipelines: the state machine refuses creates beyond cap x nodes (FULL), and no node
   is given more than the cap; the rest waits, pending, until a node has room. */
TEST(schedule_cap_per_node)
{
    wire_fsm *f = wire_fsm_new();
    memset(g_down, 0, sizeof(g_down));
    add_node(f, "n1", "h:1");
    add_node(f, "n2", "h:2");
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        wire_cmd c = {.type = WIRE_CMD_PIPELINE_PUT,
                      .a = names[i],
                      .alen = 1,
                      .b = "",
                      .c = "s",
                      .clen = 1,
                      .u2 = 2};
        CHECK_EQ_INT(apply1(f, &c), WIRE_APPLY_OK);
    }
    wire_cmd full = {
        .type = WIRE_CMD_PIPELINE_PUT, .a = "e", .alen = 1, .b = "", .c = "s", .clen = 1, .u2 = 2};
    CHECK_EQ_INT(apply1(f, &full), WIRE_APPLY_FULL); /* 4 >= 2 per node x 2 nodes */
    full.u2 = 0;
    CHECK_EQ_INT(apply1(f, &full), WIRE_APPLY_OK); /* no cap given: older entries */
    /* an update is never refused for room */
    wire_cmd upd = {.type = WIRE_CMD_PIPELINE_PUT,
                    .a = "a",
                    .alen = 1,
                    .b = "",
                    .c = "t",
                    .clen = 1,
                    .u1 = UINT64_MAX,
                    .u2 = 2};
    CHECK_EQ_INT(apply1(f, &upd), WIRE_APPLY_OK);
    /* five pipelines, two nodes of two: four placed, one pending */
    wire_assignment *a;
    size_t k = wire_schedule(f, alive, NULL, 2, &a);
    CHECK_EQ_INT(k, 4);
    size_t on1 = 0;
    for (size_t i = 0; i < k; i++)
        on1 += strcmp(a[i].node, "n1") == 0;
    CHECK_EQ_INT(on1, 2);
    free(a);
    /* without a cap all five are placed */
    k = wire_schedule(f, alive, NULL, 0, &a);
    CHECK_EQ_INT(k, 5);
    free(a);
    wire_fsm_free(f);
}

/* parallelism: N records NAME, NAME#1, ...: made, updated, paused and deleted together,
   counted against the cap, and placed on distinct nodes where there are enough. */
static uint8_t put_n(wire_fsm *f, const char *name, uint64_t expect, uint64_t n, uint64_t cap)
{
    wire_cmd c = {.type = WIRE_CMD_PIPELINE_PUT, .a = name, .alen = strlen(name), .b = ""};
    c.u1 = expect;
    c.c = "s";
    c.clen = 1;
    c.u2 = cap;
    c.u3 = n;
    return apply1(f, &c);
}

static size_t distinct_nodes(const wire_assignment *a, size_t k)
{
    size_t d = 0;
    for (size_t i = 0; i < k; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(a[i].node, a[j].node) == 0;
        d += !seen;
    }
    return d;
}

TEST(schedule_parallel_instances)
{
    wire_fsm *f = wire_fsm_new();
    memset(g_down, 0, sizeof(g_down));
    add_node(f, "n1", "h:1");
    add_node(f, "n2", "h:2");
    add_node(f, "n3", "h:3");
    CHECK_EQ_INT(put_n(f, "zz", 0, 1, 0), WIRE_APPLY_OK);  /* a neighbour in name order */
    CHECK_EQ_INT(put_n(f, "a", 0, 3, 2), WIRE_APPLY_OK);   /* 4 of 2 x 3 */
    CHECK_EQ_INT(put_n(f, "b", 0, 3, 2), WIRE_APPLY_FULL); /* 4 + 3 > 6 */
    CHECK_EQ_INT(wire_fsm_pipeline_count(f), 4);
    CHECK_EQ_INT(get(f, "a#2").version, get(f, "a").version);
    wire_pipeline_rec r;
    CHECK(!wire_fsm_pipeline_get(f, "a#3", &r));
    /* the three instances on three nodes (zz on one of them too) */
    wire_assignment *a;
    size_t k = wire_schedule(f, alive, NULL, 0, &a);
    CHECK_EQ_INT(k, 4);
    wire_assignment inst[3];
    size_t ni = 0;
    for (size_t i = 0; i < k; i++) {
        size_t bl;
        wire_instance_of(a[i].pipeline, &bl);
        if (bl == 1 && a[i].pipeline[0] == 'a')
            inst[ni++] = a[i];
    }
    CHECK_EQ_INT(ni, 3);
    CHECK_EQ_INT(distinct_nodes(inst, ni), 3);
    for (size_t i = 0; i < k; i++)
        CHECK_EQ_INT(assign(f, a[i].pipeline, a[i].node, a[i].epoch), WIRE_APPLY_OK);
    free(a);
    /* a node is lost: its instance goes to a node without a sibling if one is left */
    char lost[16];
    snprintf(lost, sizeof(lost), "%s", get(f, "a#1").node);
    g_down[0] = lost;
    k = wire_schedule(f, alive, NULL, 0, &a);
    bool moved = false;
    for (size_t i = 0; i < k; i++)
        if (strcmp(a[i].pipeline, "a#1") == 0) {
            moved = true;
            CHECK(strcmp(a[i].node, lost) != 0);
        }
    CHECK(moved);
    free(a);
    g_down[0] = NULL;
    /* two nodes for three instances: two on one, one on the other */
    wire_fsm *g = wire_fsm_new();
    add_node(g, "n1", "h:1");
    add_node(g, "n2", "h:2");
    CHECK_EQ_INT(put_n(g, "p", 0, 3, 0), WIRE_APPLY_OK);
    k = wire_schedule(g, alive, NULL, 0, &a);
    CHECK_EQ_INT(k, 3);
    CHECK_EQ_INT(distinct_nodes(a, k), 2);
    free(a);
    wire_fsm_free(g);
    /* every instance pauses and resumes with the pipeline */
    CHECK_EQ_INT(ctl(f, "a", WIRE_CTL_PAUSE), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "a#2").state, WIRE_PSTATE_PAUSED);
    /* fewer instances: the extra records go; the update keeps the pause */
    CHECK_EQ_INT(put_n(f, "a", UINT64_MAX, 2, 0), WIRE_APPLY_OK);
    CHECK(!wire_fsm_pipeline_get(f, "a#2", &r));
    CHECK_EQ_INT(get(f, "a#1").state, WIRE_PSTATE_PAUSED);
    CHECK_EQ_INT(get(f, "a#1").version, 2);
    /* more again: the new instance starts paused, at the pipeline's version */
    CHECK_EQ_INT(put_n(f, "a", UINT64_MAX, 4, 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "a#3").state, WIRE_PSTATE_PAUSED);
    CHECK_EQ_INT(get(f, "a#3").version, 3);
    CHECK_EQ_INT(ctl(f, "a", WIRE_CTL_RESUME), WIRE_APPLY_OK);
    CHECK_EQ_INT(get(f, "a#3").state, WIRE_PSTATE_PENDING);
    /* deleting the pipeline deletes every instance */
    wire_cmd del = {.type = WIRE_CMD_PIPELINE_DEL, .a = "a", .alen = 1};
    CHECK_EQ_INT(apply1(f, &del), WIRE_APPLY_OK);
    CHECK_EQ_INT(wire_fsm_pipeline_count(f), 1);
    /* instance records cannot be made directly */
    CHECK_EQ_INT(put_n(f, "a#1", 0, 1, 0), WIRE_APPLY_INVALID);
    wire_fsm_free(f);
}

/* With every node full, a pipeline waits pending: after a node is lost its pipeline has
   nowhere to go, a pinned one waits for room on its node, and both are placed once a
   pipeline ends; paused and finished ones take no room. */
/* The node a pipeline is on, copied ("" for none): records point into the state machine. */
static const char *node_of(wire_fsm *f, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s", get(f, name).node);
    return buf;
}

TEST(schedule_cap_full_nodes_wait)
{
    wire_fsm *f = wire_fsm_new();
    char x[32], y[32];
    memset(g_down, 0, sizeof(g_down));
    add_node(f, "n1", "h:1");
    add_node(f, "n2", "h:2");
    CHECK_EQ_INT(put(f, "a", "", 0, "s"), WIRE_APPLY_OK);
    CHECK_EQ_INT(put(f, "b", "", 0, "s"), WIRE_APPLY_OK);
    CHECK_EQ_INT(schedule_apply_cap(f, 1), 2);
    CHECK(strcmp(node_of(f, "a", x, sizeof(x)), node_of(f, "b", y, sizeof(y))) != 0);
    const char *on1 = strcmp(x, "n1") == 0 ? "a" : "b", *on2 = strcmp(x, "n1") == 0 ? "b" : "a";
    CHECK_EQ_INT(put(f, "c", "n1", 0, "s"), WIRE_APPLY_OK);
    CHECK_EQ_INT(schedule_apply_cap(f, 1), 0); /* its node n1 is full: c waits */
    CHECK_EQ_STR(node_of(f, "c", x, sizeof(x)), "");
    g_down[0] = "n2";
    CHECK_EQ_INT(schedule_apply_cap(f, 1), 0); /* n2's pipeline cannot move: n1 is full */
    CHECK_EQ_STR(node_of(f, on2, x, sizeof(x)), "n2");
    /* the pipeline on n1 finishes: room for one there, and exactly one is placed */
    wire_pipeline_rec r1 = get(f, on1);
    CHECK_EQ_INT(report(f, on1, r1.version, r1.epoch, WIRE_PSTATE_FINISHED, ""), WIRE_APPLY_OK);
    CHECK_EQ_INT(schedule_apply_cap(f, 1), 1);
    size_t on_n1 = (strcmp(node_of(f, "c", x, sizeof(x)), "n1") == 0) +
                   (strcmp(node_of(f, on2, y, sizeof(y)), "n1") == 0);
    CHECK_EQ_INT(on_n1, 1);
    /* n2 back: nothing ever gets two on one node, and a second pass changes nothing */
    g_down[0] = NULL;
    schedule_apply_cap(f, 1);
    CHECK(strcmp(node_of(f, "c", x, sizeof(x)), node_of(f, on2, y, sizeof(y))) != 0 || !x[0]);
    CHECK_EQ_INT(schedule_apply_cap(f, 1), 0);
    wire_fsm_free(f);
}

int main(void)
{
    RUN(fsm_pipeline_lifecycle);
    RUN(schedule_least_loaded_and_failover);
    RUN(schedule_placement);
    RUN(schedule_cap_per_node);
    RUN(schedule_cap_full_nodes_wait);
    RUN(schedule_parallel_instances);
    TEST_MAIN_END();
}
