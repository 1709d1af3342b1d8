/*
 * node.c — a Wire cluster node's lifecycle and wiring: libraft on its own
 * libuv loop thread, with the mux port, the Raft transport, the state
 * machine and the runners; the ops other threads submit, dispatched once
 * per wakeup; the tick that drives every concept's timers; snapshots on a
 * timer; graceful shutdown. What each concept does lives in its own file
 * (see private.h): group commit and forwarding in commit.c, reads in
 * reads.c, the RPC service in service.c, membership in membership.c,
 * placement and fencing in placement.c, status in info.c.
 *
 * Threads: everything below runs on the node's loop thread except
 * wire_node_submit(), which queues an op under a mutex and wakes the loop
 * with a uv_async. Ops are drained once per wakeup ("tick"): every write of
 * a tick goes into ONE Raft entry (group commit), or into ONE forwarding RPC
 * when this node is a follower.
 *
 * See docs/cluster.md for the protocols (join, notify, remove, forwarding,
 * read levels) and the bootstrap-expect algorithm.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/private.h"
#include "core/io.h"

static void node_tick(wire_node *n);

static void on_fsm_apply(void *arg, uint64_t index)
{
    wire_node *n = arg;
    n->c_entries++;
    uint32_t k;
    wire_fsm_last_results(n->fsm, &k);
    n->c_cmds_applied += k;
    if (n->runners)
        wire_runners_kick(n->runners);
    if (n->waiters)
        node_waiters_applied(n, index);
}

static void commit_reply(wire_node *n, wire_node_op *op, int status, const wire_rpc_msg *m)
{
    if (status != 0 || !m) {
        op_done(op, 0, NULL); /* ready_store stays false: 503 naming the store */
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    uint64_t idx = wire_get_u64(&r);
    if (r.bad || st != RS_OK || n->stopping) {
        op_done(op, 0, NULL);
        return;
    }
    node_wait_applied(n, op, idx);
}

static void handle_op(wire_node *n, wire_node_op *op)
{
    switch (op->type) {
    case WIRE_OP_KV_SET:
    case WIRE_OP_KV_DEL:
    case WIRE_OP_CMD: node_write(n, op); break;
    case WIRE_OP_KV_GET: node_read(n, op); break;
    case WIRE_OP_STATUS:
        node_fill_info(n, &op->info);
        op_done(op, 0, NULL);
        break;
    case WIRE_OP_PIPELINES: node_fill_pipelines(n, op); break;
    case WIRE_OP_READY: {
        node_fill_info(n, &op->info);
        op->ready_leader = op->info.leader_addr[0] != 0;
        /* ready: the store works and has applied what the leader had committed when
           this node last (re)joined it (a restarted node is not ready while it replays) */
        op->ready_store = n->raft_ok && raft_state(&n->raft) != RAFT_UNAVAILABLE &&
                          (op->noleader || n->caught_up);
        if (op->sync && op->ready_leader && op->ready_store) {
            op->deadline_ms = wire_now_ms() + (op->timeout_ms > 0 ? op->timeout_ms : 5000);
            op->ready_store = false;
            if (is_leader(n))
                node_wait_applied(n, op, n->raft.commit_index);
            else /* the leader's commit index, not this node's possibly older idea of it */
                node_forward_op(n, WIRE_RPC_COMMIT, NULL, commit_reply, op);
        } else {
            op_done(op, 0, NULL);
        }
        break;
    }
    case WIRE_OP_REMOVE: node_remove_op(n, op); break;
    default: op_done(op, WIRE_EINVAL, "unknown op %d", op->type);
    }
}

static void drain(wire_node *n)
{
    pthread_mutex_lock(&n->lock);
    wire_node_op *l = n->inq;
    n->inq = n->inq_tail = NULL;
    pthread_mutex_unlock(&n->lock);
    while (l) {
        wire_node_op *nx = l->next;
        l->next = NULL;
        if (n->stopping)
            op_done(l, WIRE_ESTOPPED, "node is shutting down");
        else
            handle_op(n, l);
        l = nx;
        if (n->open && n->entry.len >= MAX_BATCH_BYTES && n->inflight < MAX_INFLIGHT)
            node_propose(n);
    }
    node_flush(n);
}

const char *wire_node_id(const wire_node *n)
{
    return n->id;
}

bool wire_node_token_find(wire_node *n, const uint8_t hash[WIRE_TOKEN_HASH], wire_token_info *out)
{
    return wire_token_table_find(wire_fsm_tokens(n->fsm), hash, out);
}

size_t wire_node_tokens(wire_node *n, wire_token_info **out)
{
    return wire_token_table_list(wire_fsm_tokens(n->fsm), out);
}

void wire_node_pipelines_each(wire_node *n, void (*fn)(struct wire_pipeline *p, void *arg),
                              void *arg)
{
    if (n->runners)
        wire_runners_each(n->runners, fn, arg);
}

typedef struct call_sync {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
} call_sync;

static void call_done(wire_node_op *op)
{
    call_sync *s = op->arg;
    pthread_mutex_lock(&s->m);
    s->done = true;
    pthread_cond_signal(&s->c);
    pthread_mutex_unlock(&s->m);
}

int wire_node_call(wire_node *n, wire_node_op *op)
{
    call_sync s = {.done = false};
    pthread_mutex_init(&s.m, NULL);
    pthread_cond_init(&s.c, NULL);
    op->done = call_done;
    op->arg = &s;
    wire_node_submit(n, op);
    pthread_mutex_lock(&s.m);
    while (!s.done)
        pthread_cond_wait(&s.c, &s.m);
    pthread_mutex_unlock(&s.m);
    pthread_mutex_destroy(&s.m);
    pthread_cond_destroy(&s.c);
    return op->status;
}

/* ---- Snapshots on a timer ---- */

static void snap_tick(wire_node *n, int64_t now)
{
    struct raft *r = &n->raft;
    if (n->snap_forced && r->log.snapshot.last_index != n->snap_base) {
        raft_set_snapshot_threshold(r, n->cfg.snap_threshold);
        n->snap_forced = false;
    }
    if (n->cfg.snap_interval_ms <= 0 || now < n->next_snap_ms)
        return;
    n->next_snap_ms = now + n->cfg.snap_interval_ms;
    if (raft_last_applied(r) > r->log.snapshot.last_index && !n->snap_forced) {
        /* libraft snapshots after an apply once past the threshold: lower it. */
        n->snap_base = r->log.snapshot.last_index;
        n->snap_forced = true;
        raft_set_snapshot_threshold(r, 1);
        if (is_leader(n)) {
            struct raft_barrier *b = wire_xcalloc(1, sizeof(*b));
            if (raft_barrier(r, b, node_free_barrier) != 0)
                free(b);
        }
    }
}

/* ---- Shutdown ---- */

static void close_everything(wire_node *n);

static void transfer_cb(struct raft_transfer *req)
{
    wire_node *n = req->data;
    n->stop_phase = 2;
    node_tick(n);
}

static void remove_self_reply(void *arg, int status, const wire_rpc_msg *m)
{
    wire_node *n = arg;
    if (status != 0)
        wire_warn("shutdown: could not remove this node from the cluster");
    else
        wire_info("shutdown: removed from the cluster");
    n->stop_phase = 4;
    node_tick(n);
}

/*
 * Phases: 0 start → (leading and stepdown or self-remove: transfer) 1 → 2
 * → (self-remove: ask the leader) 3 → 4 close.
 */
static void stop_step(wire_node *n)
{
    if (n->stop_phase == 0) {
        n->stopping = true;
        n->stop_deadline_ms = wire_now_ms() + 3 * (int64_t)n->cfg.election_timeout_ms + 5000;
        n->stop_phase = 2;
        if (n->raft_ok && is_leader(n) &&
            (n->cfg.shutdown_stepdown || n->cfg.cluster_remove_shutdown) &&
            n->raft.configuration.n > 1) {
            n->transfer.data = n;
            if (raft_transfer(&n->raft, &n->transfer, 0, transfer_cb) == 0) {
                n->stop_phase = 1;
                wire_info("shutdown: transferring leadership");
                return;
            }
        }
    }
    if (n->stop_phase == 1) {
        if (wire_now_ms() < n->stop_deadline_ms)
            return;
        n->stop_phase = 2;
    }
    if (n->stop_phase == 2) {
        n->stop_phase = 4;
        const char *la = leader_addr(n);
        if (n->cfg.cluster_remove_shutdown && la && !is_leader(n)) {
            wire_buf p;
            wire_buf_init(&p);
            wire_put_str(&p, n->id, strlen(n->id));
            n->stop_phase = 3;
            node_rpc_call(n, la, WIRE_RPC_REMOVE, &p, remove_self_reply, n);
            wire_buf_free(&p);
            return;
        }
    }
    if (n->stop_phase == 3)
        return; /* remove_self_reply moves on (RPC timeout bounds it) */
    if (n->stop_phase == 4) {
        n->stop_phase = 5;
        close_everything(n);
    }
}

/* ---- Loop ---- */

static void on_async(uv_async_t *h)
{
    wire_node *n = h->data;
    bool stop;
    pthread_mutex_lock(&n->lock);
    stop = n->stop_req;
    pthread_mutex_unlock(&n->lock);
    drain(n);
    if (stop && n->stop_phase < 5)
        node_tick(n);
}

/* Peer TLS files changed (or SIGHUP): new connections get the new certificate. */
static void peer_tls_tick(wire_node *n)
{
    wire_tls *v[2] = {n->peer_server, n->peer_client};
    for (int i = 0; i < 2; i++) {
        wire_err err;
        int rc = v[i] ? wire_tls_reload(v[i], &err) : 0;
        if (rc > 0)
            wire_info("peer TLS: %s certificate reloaded", i ? "client" : "server");
        else if (rc < 0)
            wire_warn("peer TLS: reload failed, keeping the certificate in use: %s", err.msg);
    }
}

void wire_node_reload_tls(wire_node *n)
{
    if (n->peer_server)
        wire_tls_request_reload(n->peer_server);
    if (n->peer_client)
        wire_tls_request_reload(n->peer_client);
}

static void node_tick(wire_node *n)
{
    int64_t now = wire_now_ms();
    bool stop;
    pthread_mutex_lock(&n->lock);
    stop = n->stop_req;
    pthread_mutex_unlock(&n->lock);
    if (n->stop_phase >= 5)
        return;
    peer_tls_tick(n);
    for (size_t i = 0; i < n->nclients; i++)
        wire_rpc_client_tick(n->clients[i].c, now);
    if (stop || n->stopping) {
        stop_step(n);
        return;
    }
    node_expire_writes(n, now);
    node_remove_retry(n, now);
    node_watch_config(n);
    raft_id lid;
    const char *la;
    raft_leader(&n->raft, &lid, &la);
    if (lid != n->last_leader) {
        if (lid)
            n->c_leader_changes++;
        n->last_leader = lid;
        if (lid == n->rid && is_leader(n))
            node_leader_began(n, now);
    }
    node_pipelines_member_tick(n, now);
    node_pipelines_leader_tick(n, now);
    if (n->waiters)
        node_check_waiters(n);
    snap_tick(n, now);
    if (n->cfg.bootstrap_expect > 0 && !n->have_state)
        node_expect_tick(n, now);
    else if (n->cfg.join && !n->joined && !n->joining && now >= n->next_join_ms && !n->failed &&
             (!n->have_state || (!lid && node_self_spare(n) &&
                                 now - n->start_ms > 3 * (int64_t)n->cfg.election_timeout_ms))) {
        /*
         * Restarted with state as a spare, with no leader in sight: it crashed
         * between being added (as a spare, which gets no entries) and being
         * given its role. Join again to finish. (A removed node stays out.)
         */
        char addr[256];
        if (node_join_addr(n->cfg.join, 0, addr, sizeof(addr)))
            node_join_send(n, addr, 0, 0);
    }
    if (now >= n->next_self_ms) {
        n->next_self_ms = now + 1000;
        node_self_check(n);
        node_undrain(n, now);
        node_gc_records(n);
    }
    if (now >= n->next_ping_ms) {
        n->next_ping_ms = now + PING_EVERY_MS;
        if (!is_leader(n)) /* the leader's heartbeats do this for it */
            node_ping_members(n);
    }
    if (!n->job_running)
        node_run_jobs(n);
    node_flush(n);
}

static void on_timer(uv_timer_t *t)
{
    node_tick(t->data);
}

static void on_check(uv_check_t *h)
{
    wire_node *n = h->data;
    if (!n->stopping && (n->open || n->nfwd || n->reads))
        node_flush(n);
}

static void handles_closed(uv_handle_t *h)
{
    (void)h;
}

static void mux_closed(void *arg)
{
    wire_node *n = arg;
    uv_close((uv_handle_t *)&n->async, handles_closed);
    uv_close((uv_handle_t *)&n->timer, handles_closed);
    uv_close((uv_handle_t *)&n->check, handles_closed);
}

static void raft_closed(struct raft *r)
{
    wire_node *n = r->data;
    raft_uv_close(&n->io);
    wire_transport_close(&n->transport);
    n->raft_ok = false;
    /* Whatever still waits can only fail now. */
    while (n->waiters) {
        waiter *w = n->waiters;
        n->waiters = w->next;
        op_done(w->op, WIRE_ESTOPPED, "node stopped");
        free(w);
    }
    for (size_t i = 0; i < n->nclients; i++)
        wire_rpc_client_free(n->clients[i].c);
    free(n->clients);
    n->clients = NULL;
    n->nclients = 0;
    while (n->sconns.next != &n->sconns) {
        server_conn *s = n->sconns.next;
        wire_rpc_conn_close(s->c); /* server_closed unlinks and frees s */
    }
    wire_mux_close(n->mux, mux_closed, n);
    n->mux = NULL;
}

static void close_everything(wire_node *n)
{
    drain(n);
    node_fail_open_batch(n, RAFT_SHUTDOWN);
    node_forward_flush(n);
    node_forward_retry(n); /* stopping: answers every waiting forward */
    node_remove_retry(n, INT64_MAX);
    while (n->jobs) {
        job *j = n->jobs;
        n->jobs = j->next;
        n->jobs_tail = n->jobs ? n->jobs_tail : NULL;
        j->next = NULL;
        n->job_running = true;
        node_job_reply(j, WIRE_ESTOPPED, "node stopping");
    }
    uv_timer_stop(&n->timer);
    if (n->raft_ok) {
        raft_close(&n->raft, raft_closed);
    } else {
        wire_mux_close(n->mux, mux_closed, n);
        n->mux = NULL;
    }
}

static void loop_main(void *arg)
{
    wire_node *n = arg;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    /* Late ops (submitted while closing) fail here. */
    pthread_mutex_lock(&n->lock);
    n->stopped = true;
    wire_node_op *l = n->inq;
    n->inq = n->inq_tail = NULL;
    pthread_mutex_unlock(&n->lock);
    while (l) {
        wire_node_op *nx = l->next;
        op_done(l, WIRE_ESTOPPED, "node stopped");
        l = nx;
    }
}

/* ---- Public API ---- */

/*
 * libraft draws each election timeout in [T, 2T]. Wire draws it in
 * [T, 1.5T]: failover after a leader dies takes ~T/4 less on average, and
 * 0.5T (hundreds of ms) remains far wider than a loopback or LAN round trip,
 * which is what keeps split votes rare (pre-vote is on, too).
 */
static int narrow_random(struct raft_io *io, int min, int max)
{
    wire_node *n = (wire_node *)(void *)((char *)io - offsetof(wire_node, io));
    if (max > min)
        max = min + (max - min) / 2;
    return n->io_random(io, min, max);
}

/* The runners' way back to the node (registered at start: they never call node.c). */
static int runners_call(void *node, wire_node_op *op)
{
    return wire_node_call(node, op);
}

static void free_node_mem(wire_node *n)
{
    wire_runners_free(n->runners);
    wire_fsm_free(n->fsm);
    wire_buf_free(&n->entry);
    wire_buf_free(&n->fwd);
    free(n->fwd_ops);
    free(n->known);
    free(n->seen);
    free((char *)n->cfg.join);
    wire_tls_free(n->peer_server);
    wire_tls_free(n->peer_client);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

int wire_node_start(const wire_node_config *cfg, wire_node **out, wire_err *err)
{
    wire_node *n = wire_xcalloc(1, sizeof(*n));
    n->cfg = *cfg;
    n->cfg.join = cfg->join && *cfg->join ? wire_xstrdup(cfg->join) : NULL;
    if (n->cfg.join_attempts <= 0)
        n->cfg.join_attempts = 5;
    if (n->cfg.election_timeout_ms == 0)
        n->cfg.election_timeout_ms = 1000;
    if (n->cfg.heartbeat_timeout_ms == 0)
        n->cfg.heartbeat_timeout_ms = 100;
    if (n->cfg.snap_threshold == 0)
        n->cfg.snap_threshold = 8192;
    if (n->cfg.request_timeout_ms <= 0)
        n->cfg.request_timeout_ms = 5000;
    n->fault_exit_name = getenv("WIRE_FAULT_EXIT_AFTER_COMMIT");
    if (n->fault_exit_name && !*n->fault_exit_name)
        n->fault_exit_name = NULL;
    snprintf(n->raft_adv, sizeof(n->raft_adv), "%s",
             cfg->raft_adv_addr && *cfg->raft_adv_addr ? cfg->raft_adv_addr : cfg->raft_addr);
    snprintf(n->http_adv, sizeof(n->http_adv), "%s", cfg->http_adv_addr ? cfg->http_adv_addr : "");
    const char *id = cfg->node_id && *cfg->node_id ? cfg->node_id : n->raft_adv;
    snprintf(n->id, sizeof(n->id), "%.127s", id);
    snprintf(n->dir, sizeof(n->dir), "%s", cfg->raft_dir);
    n->rid = wire_node_raft_id(n->id);
    pthread_mutex_init(&n->lock, NULL);
    n->sconns.next = n->sconns.prev = &n->sconns;
    wire_buf_init(&n->entry);
    wire_buf_init(&n->fwd);
    n->fsm = wire_fsm_new();
    wire_fsm_on_apply(n->fsm, on_fsm_apply, n);
    int rc = wire_io_mkdir_p(n->dir, err);
    if (rc != 0) {
        free_node_mem(n);
        return rc;
    }
    rc = wire_raft_dir_check(n->dir, &n->have_state, err);
    if (rc == 0)
        rc = wire_raft_dir_incarnation(n->dir, &n->incarnation, err);
    if (rc != 0) {
        free_node_mem(n);
        return rc;
    }
    uv_loop_init(&n->loop);
    rc = wire_mux_start(&n->loop, cfg->raft_addr, &n->mux, err);
    if (rc != 0) {
        uv_loop_close(&n->loop);
        free_node_mem(n);
        return rc;
    }
    if (cfg->peer_tls && (!(n->peer_server = wire_tls_server_new(cfg->peer_tls, err)) ||
                          !(n->peer_client = wire_tls_client_new(cfg->peer_tls, err)))) {
        wire_mux_close(n->mux, NULL, NULL);
        uv_run(&n->loop, UV_RUN_NOWAIT);
        uv_loop_close(&n->loop);
        free_node_mem(n);
        return -1;
    }
    wire_mux_set_tls(n->mux, n->peer_server, n->peer_client);
    wire_mux_set_handler(n->mux, WIRE_MUX_RPC, node_on_rpc_conn, n);
    wire_transport_init(&n->transport, &n->loop, n->mux);
    rc = raft_uv_init(&n->io, &n->loop, n->dir, &n->transport);
    if (rc == 0) {
        raft_uv_set_connect_retry_delay(&n->io, 200);
        n->io_random = n->io.random;
        n->io.random = narrow_random;
        /* raft_uv has async_work but still says version 1, which makes raft_init refuse
           asynchronous snapshots (the only use libraft 0.15 makes of io->version) */
        n->io.version = 2;
        wire_fsm_set_async_snapshots(n->fsm, true);
        rc = raft_init(&n->raft, &n->io, wire_fsm_raft(n->fsm), n->rid, n->raft_adv);
        if (rc != 0)
            raft_uv_close(&n->io);
    }
    if (rc != 0) {
        wire_errf(err, WIRE_EIO, "raft init in %s: %s", n->dir, raft_strerror(rc));
        wire_transport_close(&n->transport);
        wire_mux_close(n->mux, NULL, NULL);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        uv_loop_close(&n->loop);
        free_node_mem(n);
        return WIRE_EIO;
    }
    n->raft.data = n;
    n->raft_ok = true;
    wire_fsm_attach(n->fsm, &n->raft);
    raft_set_election_timeout(&n->raft, n->cfg.election_timeout_ms);
    raft_set_heartbeat_timeout(&n->raft, n->cfg.heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&n->raft, n->cfg.snap_threshold);
    unsigned trailing = n->cfg.snap_threshold / 4;
    raft_set_snapshot_trailing(&n->raft, trailing < 16 ? 16 : trailing);
    raft_set_pre_vote(&n->raft, true);

    if (!n->have_state && !n->cfg.join && n->cfg.bootstrap_expect <= 0) {
        peer self = {{0}, {0}, {0}};
        snprintf(self.id, sizeof(self.id), "%s", n->id);
        snprintf(self.raft_addr, sizeof(self.raft_addr), "%s", n->raft_adv);
        snprintf(self.api_addr, sizeof(self.api_addr), "%s", n->http_adv);
        node_bootstrap_with(n, &self, 1);
    }
    if (n->cfg.bootstrap_expect > 0) {
        node_add_known(n, n->id, strlen(n->id), n->raft_adv, strlen(n->raft_adv), n->http_adv,
                       strlen(n->http_adv));
        n->expect_deadline_ms = wire_now_ms() + n->cfg.bootstrap_expect_timeout_ms;
    }
    bool defer = n->cfg.bootstrap_expect > 0 && !n->have_state;
    rc = defer ? 0 : raft_start(&n->raft);
    n->started = !defer;
    if (rc != 0) {
        wire_errf(err, WIRE_EIO, "raft start in %s: %s: %s", n->dir, raft_strerror(rc),
                  raft_errmsg(&n->raft));
        n->stop_phase = 5;
        raft_close(&n->raft, raft_closed);
        uv_async_init(&n->loop, &n->async, on_async);
        uv_timer_init(&n->loop, &n->timer);
        uv_check_init(&n->loop, &n->check);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        uv_loop_close(&n->loop);
        free_node_mem(n);
        return WIRE_EIO;
    }
    if (n->have_state)
        wire_info("restarted from existing state in %s", n->dir);
    uv_async_init(&n->loop, &n->async, on_async);
    n->async.data = n;
    uv_timer_init(&n->loop, &n->timer);
    n->timer.data = n;
    n->next_snap_ms = wire_now_ms() + n->cfg.snap_interval_ms;
    n->start_ms = wire_now_ms();
    uv_timer_start(&n->timer, on_timer, TICK_MS, TICK_MS);
    uv_check_init(&n->loop, &n->check);
    n->check.data = n;
    uv_check_start(&n->check, on_check);
    if (cfg->registry) { /* its first ops wait in the queue until the loop runs */
        char dir[1100];
        snprintf(dir, sizeof(dir), "%s/pipelines", n->dir);
        wire_runners_host host = {runners_call, n, n->id};
        n->runners = wire_runners_start(&host, cfg->registry, cfg->sandbox, dir);
    }
    if (uv_thread_create(&n->thread, loop_main, n) != 0) {
        wire_errf(err, WIRE_EIO, "cannot start the node thread");
        return WIRE_EIO; /* not reached in practice */
    }
    *out = n;
    return 0;
}

bool wire_node_failed(wire_node *n, char *msg, size_t msglen)
{
    pthread_mutex_lock(&n->lock);
    bool f = n->failed;
    if (f && msg)
        snprintf(msg, msglen, "%s", n->fail_msg);
    pthread_mutex_unlock(&n->lock);
    return f;
}

void wire_node_submit(wire_node *n, wire_node_op *op)
{
    op->next = NULL;
    op->deadline_ms = 0;
    pthread_mutex_lock(&n->lock);
    if (n->stopped) {
        pthread_mutex_unlock(&n->lock);
        op_done(op, WIRE_ESTOPPED, "node stopped");
        return;
    }
    if (n->inq_tail)
        n->inq_tail->next = op;
    else
        n->inq = op;
    n->inq_tail = op;
    pthread_mutex_unlock(&n->lock);
    uv_async_send(&n->async);
}

void wire_node_stop(wire_node *n)
{
    if (!n)
        return;
    /* Pipelines first, while the node can still commit their final checkpoints and
       hand their assignments back. */
    atomic_store(&n->leave_deadline_ms, wire_now_ms() + LEAVE_BUDGET_MS);
    atomic_store(&n->leaving, true);
    if (n->runners)
        wire_runners_stop(n->runners);
    pthread_mutex_lock(&n->lock);
    n->stop_req = true;
    pthread_mutex_unlock(&n->lock);
    uv_async_send(&n->async);
    uv_thread_join(&n->thread);
    int rc = uv_loop_close(&n->loop);
    if (rc != 0)
        wire_warn("node: loop closed with handles open (%s)", uv_strerror(rc));
    free_node_mem(n);
}
