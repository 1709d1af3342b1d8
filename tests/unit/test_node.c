/*
 * test_node.c — three wire_nodes in one process on loopback (each on its own
 * loop thread, real libraft disk I/O in temp dirs): bootstrap, join through a
 * follower, writes and strong reads forwarded to the leader, group commit of
 * concurrent writes, a non-voter, removal, graceful leadership transfer and
 * restart from the data directory. Waits are bounded polls, not sleeps of
 * guessed length.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "test.h"

typedef struct waitop {
    wire_node_op op;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} waitop;

static void op_signal(wire_node_op *op)
{
    waitop *w = op->arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void waitop_init(waitop *w, int type)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->op.type = type;
    w->op.done = op_signal;
    w->op.arg = w;
    wire_buf_init(&w->op.value);
}

static void waitop_wait(waitop *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void waitop_free(waitop *w)
{
    wire_buf_free(&w->op.value);
    wire_node_info_free(&w->op.info);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static int op_run(wire_node *n, waitop *w)
{
    wire_node_submit(n, &w->op);
    waitop_wait(w);
    return w->op.status;
}

static int kv_put(wire_node *n, const char *k, const char *v, uint64_t *index)
{
    waitop w;
    waitop_init(&w, WIRE_OP_KV_SET);
    w.op.key = k;
    w.op.klen = strlen(k);
    w.op.val = v;
    w.op.vlen = strlen(v);
    int rc = op_run(n, &w);
    if (index)
        *index = w.op.index;
    waitop_free(&w);
    return rc;
}

/* 1 if the value equals want, 0 if different, -code on error. */
static int kv_get_is(wire_node *n, const char *k, int level, const char *want)
{
    waitop w;
    waitop_init(&w, WIRE_OP_KV_GET);
    w.op.key = k;
    w.op.klen = strlen(k);
    w.op.level = level;
    int rc = op_run(n, &w);
    int res = rc != 0 ? rc
                      : (w.op.value.len == strlen(want) &&
                         memcmp(w.op.value.p, want, w.op.value.len) == 0);
    waitop_free(&w);
    return res;
}

static void status(wire_node *n, wire_node_info *out)
{
    waitop w;
    waitop_init(&w, WIRE_OP_STATUS);
    op_run(n, &w);
    *out = w.op.info;
    w.op.info.members = NULL;
    waitop_free(&w);
}

static bool is_leader(wire_node *n)
{
    wire_node_info i;
    status(n, &i);
    bool l = strcmp(i.state, "Leader") == 0;
    wire_node_info_free(&i);
    return l;
}

static int count_members(wire_node *n, bool voters)
{
    wire_node_info i;
    status(n, &i);
    int k = voters ? i.voters : i.non_voters;
    wire_node_info_free(&i);
    return k;
}

static bool has_leader(wire_node *n)
{
    wire_node_info i;
    status(n, &i);
    bool l = i.leader_addr[0] != 0;
    wire_node_info_free(&i);
    return l;
}

#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        for (int w_ = 0; w_ < 300 && !(cond); w_++)                                                \
            wire_sleep_ms(20);                                                                     \
        CHECK(cond);                                                                               \
    } while (0)

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct nodecfg {
    char id[16], raft[64], http[64], dir[256], join[64];
    wire_node_config c;
} nodecfg;

static void cfg_make(nodecfg *nc, const char *base, int i, const char *join, bool non_voter)
{
    memset(nc, 0, sizeof(*nc));
    snprintf(nc->id, sizeof(nc->id), "n%d", i);
    snprintf(nc->raft, sizeof(nc->raft), "127.0.0.1:%d", free_port());
    snprintf(nc->http, sizeof(nc->http), "127.0.0.1:%d", 40000 + i);
    snprintf(nc->dir, sizeof(nc->dir), "%s/n%d", base, i);
    nc->c.node_id = nc->id;
    nc->c.raft_addr = nc->raft;
    nc->c.raft_adv_addr = nc->raft;
    nc->c.http_adv_addr = nc->http;
    nc->c.raft_dir = nc->dir;
    if (join) {
        snprintf(nc->join, sizeof(nc->join), "%s", join);
        nc->c.join = nc->join;
    }
    nc->c.join_attempts = 20;
    nc->c.join_interval_ms = 100;
    nc->c.non_voter = non_voter;
    nc->c.snap_threshold = 64;
    nc->c.election_timeout_ms = 300;
    nc->c.heartbeat_timeout_ms = 50;
    nc->c.shutdown_stepdown = true;
}

typedef struct putter {
    wire_node *n;
    int id, ok;
} putter;

static void *put_many(void *arg)
{
    putter *p = arg;
    char k[32], v[32];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "t%d-%d", p->id, i);
        snprintf(v, sizeof(v), "%d", i);
        p->ok += kv_put(p->n, k, v, NULL) == 0;
    }
    return NULL;
}

TEST(three_nodes_join_forward_remove_restart)
{
    char base[] = "/tmp/wire-test-node.XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    wire_err err;
    nodecfg c1, c2, c3, c4;
    cfg_make(&c1, base, 1, NULL, false);
    wire_node *n1, *n2, *n3, *n4;
    CHECK_EQ_INT(wire_node_start(&c1.c, &n1, &err), 0);
    WAIT_FOR(is_leader(n1));
    cfg_make(&c2, base, 2, c1.raft, false);
    CHECK_EQ_INT(wire_node_start(&c2.c, &n2, &err), 0);
    WAIT_FOR(count_members(n1, true) == 2);
    /* n3 joins through the follower n2, which points it at the leader */
    cfg_make(&c3, base, 3, c2.raft, false);
    CHECK_EQ_INT(wire_node_start(&c3.c, &n3, &err), 0);
    WAIT_FOR(count_members(n1, true) == 3);
    WAIT_FOR(has_leader(n3));

    /* a write on a follower is forwarded; it answers once applied there */
    uint64_t idx = 0;
    CHECK_EQ_INT(kv_put(n3, "a", "1", &idx), 0);
    CHECK(idx > 0);
    CHECK_EQ_INT(kv_get_is(n3, "a", WIRE_READ_NONE, "1"), 1);
    CHECK_EQ_INT(kv_get_is(n2, "a", WIRE_READ_STRONG, "1"), 1);
    CHECK_EQ_INT(kv_get_is(n2, "a", WIRE_READ_WEAK, "1"), 1);
    CHECK_EQ_INT(kv_get_is(n1, "missing", WIRE_READ_STRONG, ""), WIRE_ENOTFOUND);

    /* concurrent writers on all three nodes: group-committed, all acknowledged */
    pthread_t th[6];
    putter pp[6];
    wire_node *ns[3] = {n1, n2, n3};
    for (int i = 0; i < 6; i++) {
        pp[i] = (putter){ns[i % 3], i, 0};
        pthread_create(&th[i], NULL, put_many, &pp[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(pp[i].ok, 100);
    }
    wire_node_info i1;
    status(n1, &i1);
    CHECK(i1.commands_proposed >= 600);
    CHECK(i1.batches_proposed < i1.commands_proposed); /* batches held several writes */
    CHECK(i1.last_snapshot_index > 0);                 /* --raft-snap 64 */
    wire_node_info_free(&i1);
    /* acknowledged once applied on the node that took it; n2 may apply it a moment later */
    WAIT_FOR(kv_get_is(n2, "t5-99", WIRE_READ_NONE, "99") == 1);

    /* a non-voter replicates and serves reads */
    cfg_make(&c4, base, 4, c1.raft, true);
    CHECK_EQ_INT(wire_node_start(&c4.c, &n4, &err), 0);
    WAIT_FOR(count_members(n1, false) == 1);
    CHECK_EQ_INT(kv_put(n4, "b", "2", NULL), 0);
    CHECK_EQ_INT(kv_get_is(n4, "t0-42", WIRE_READ_NONE, "42"), 1);
    CHECK_EQ_INT(count_members(n1, true), 3);

    /* remove the non-voter through a follower; an unknown id is a 404 */
    waitop w;
    waitop_init(&w, WIRE_OP_REMOVE);
    w.op.key = "n4";
    w.op.klen = 2;
    CHECK_EQ_INT(op_run(n2, &w), 0);
    waitop_free(&w);
    WAIT_FOR(count_members(n1, false) == 0);
    waitop_init(&w, WIRE_OP_REMOVE);
    w.op.key = "nope";
    w.op.klen = 4;
    CHECK_EQ_INT(op_run(n1, &w), WIRE_ENOTFOUND);
    waitop_free(&w);
    wire_node_stop(n4);

    /* the leader stops with a leadership transfer; n2 or n3 takes over at once */
    wire_node_stop(n1);
    WAIT_FOR(is_leader(n2) || is_leader(n3));
    /* n1 restarts from its directory, no flags needed, and catches up */
    CHECK_EQ_INT(kv_put(n2, "c", "3", NULL), 0);
    CHECK_EQ_INT(wire_node_start(&c1.c, &n1, &err), 0);
    WAIT_FOR(kv_get_is(n1, "c", WIRE_READ_NONE, "3") == 1);
    CHECK_EQ_INT(kv_get_is(n1, "t3-7", WIRE_READ_NONE, "7"), 1);
    wire_node_stop(n3);
    wire_node_stop(n2);
    wire_node_stop(n1);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as `wire serve` does: peers may close mid-write */
    wire_log_set_level(WIRE_LOG_WARN);
    RUN(three_nodes_join_forward_remove_restart);
    TEST_MAIN_END();
}
