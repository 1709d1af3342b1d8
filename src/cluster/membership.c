/*
 * membership.c — forming and changing the cluster: the leader's membership
 * jobs (join, remove; one at a time, each a chain of Raft configuration
 * changes ending in the node's record), joining through --join,
 * bootstrap-expect (notify, the known peers, bootstrapping the N lowest
 * ids), and each node's check that its own record is right.
 *
 * See docs/cluster.md for the protocols and the bootstrap-expect algorithm.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/private.h"

/* This node's id, raft and API addresses (join, notify, self record). */
static void put_self(wire_node *n, wire_buf *p)
{
    wire_put_str(p, n->id, strlen(n->id));
    wire_put_str(p, n->raft_adv, strlen(n->raft_adv));
    wire_put_str(p, n->http_adv, strlen(n->http_adv));
}

/* After a JOIN's voter flag: --join-token, which a cluster with --auth asks for. */
static void put_join_token(wire_node *n, wire_buf *p)
{
    const char *t = n->cfg.join_token ? n->cfg.join_token : "";
    wire_put_str(p, t, strlen(t));
}

/* The peers bootstrap-expect knows of (read back by node_read_known). */
static void put_known(wire_node *n, wire_buf *b)
{
    wire_put_u32(b, (uint32_t)n->nknown);
    for (size_t i = 0; i < n->nknown; i++) {
        wire_put_str(b, n->known[i].id, strlen(n->known[i].id));
        wire_put_str(b, n->known[i].raft_addr, strlen(n->known[i].raft_addr));
        wire_put_str(b, n->known[i].api_addr, strlen(n->known[i].api_addr));
    }
}

job *node_job_new(int type, const char *id, size_t idlen)
{
    job *j = wire_xcalloc(1, sizeof(*j));
    j->type = type;
    j->id = wire_xstrndup(id, idlen);
    return j;
}

void node_submit_job(wire_node *n, job *j)
{
    j->n = n;
    if (n->jobs_tail)
        n->jobs_tail->next = j;
    else
        n->jobs = j;
    n->jobs_tail = j;
    node_run_jobs(n);
}

/*
 * A removal rides through elections like every write: with no leader, or
 * when the leader died or stepped down while taking it, it waits (50 ms
 * between tries) and goes to whichever node leads by then, up to its
 * deadline (?timeout=, default --request-timeout); only then 503. Removing
 * is idempotent: a retry that finds the node already gone, after a try
 * whose outcome is unknown, is the success of that try.
 */
static void remove_park(wire_node *n, wire_node_op *op, bool unknown, const char *why)
{
    op->outcome_unknown |= unknown;
    snprintf(op->err, sizeof(op->err), "%s", why);
    if (n->stopping || wire_now_ms() >= op->deadline_ms) {
        op_done(op, WIRE_EAGAIN, "no leader took the removal in time: %s", why);
        return;
    }
    op->retry_ms = wire_now_ms() + 50;
    op->next = n->remove_wait;
    n->remove_wait = op;
}

void node_remove_retry(wire_node *n, int64_t now)
{
    wire_node_op *l = n->remove_wait;
    n->remove_wait = NULL;
    while (l) {
        wire_node_op *op = l;
        l = l->next;
        op->next = NULL;
        if (n->stopping || now >= op->deadline_ms) {
            char why[sizeof(op->err)];
            snprintf(why, sizeof(why), "%s", op->err);
            op_done(op, WIRE_EAGAIN, "no leader took the removal in time: %s", why);
        } else if (now < op->retry_ms) {
            op->next = n->remove_wait;
            n->remove_wait = op;
        } else {
            node_remove_op(n, op);
        }
    }
}

static void remove_done(wire_node *n, wire_node_op *op, int status, const char *msg)
{
    if (status == WIRE_ENOTFOUND && op->outcome_unknown)
        op_done(op, 0, NULL); /* an earlier try removed it */
    else if (status == WIRE_EAGAIN)
        remove_park(n, op, true, msg);
    else if (status != 0)
        op_done(op, status, "%s", msg);
    else
        op_done(op, 0, NULL);
}

static void remove_fwd_reply(wire_node *n, wire_node_op *op, int status, const wire_rpc_msg *m)
{
    if (status != 0 || !m) {
        remove_park(n, op, true, "leader unreachable");
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    size_t ll, ml;
    (void)wire_get_str(&r, &ll);
    const char *msg = wire_get_str(&r, &ml);
    char text[256];
    snprintf(text, sizeof(text), "%.*s", (int)ml, msg ? msg : "");
    remove_done(n, op, st == RS_OK ? 0 : st == RS_NOTFOUND ? WIRE_ENOTFOUND : WIRE_EAGAIN, text);
}

/* Remove node op->key: a job on the leader, else forwarded to it. */
void node_remove_op(wire_node *n, wire_node_op *op)
{
    if (!op->deadline_ms)
        op->deadline_ms =
            wire_now_ms() + (op->timeout_ms > 0 ? op->timeout_ms : n->cfg.request_timeout_ms);
    if (is_leader(n)) {
        job *j = node_job_new(JOB_REMOVE, op->key, op->klen);
        j->op = op;
        node_submit_job(n, j);
    } else if (leader_addr(n)) {
        wire_buf p;
        wire_buf_init(&p);
        wire_put_str(&p, op->key, op->klen);
        node_forward_op(n, WIRE_RPC_REMOVE, &p, remove_fwd_reply, op);
        wire_buf_free(&p);
    } else {
        remove_park(n, op, false, "no leader");
    }
}

/* ---- Membership jobs (leader) ---- */

static void job_step(job *j, int status, uint64_t index);

void node_job_reply(job *j, int status, const char *msg)
{
    wire_node *n = j->n;
    if (j->op && j->type == JOB_REMOVE) {
        remove_done(n, j->op, status, msg);
    } else if (j->op) {
        if (status == 0)
            op_done(j->op, 0, NULL);
        else
            op_done(j->op, status, "%s", msg);
    } else if (j->conn) {
        node_reply_status(j->conn, j->rpc_type, j->req_id,
                          status == 0                ? RS_OK
                          : status == WIRE_ENOTFOUND ? RS_NOTFOUND
                                                     : RS_ERROR,
                          leader_addr(n), msg);
        wire_rpc_conn_release(j->conn);
    }
    free(j->id);
    free(j->raft_addr);
    free(j->api_addr);
    free(j);
    n->job_running = false;
    node_run_jobs(n);
}

static void change_cb(struct raft_change *req, int status)
{
    job *j = req->data;
    job_step(j, status, 0);
}

/* Record the node in the FSM (or delete it) through the normal batch path. */
static void job_record(job *j)
{
    wire_node *n = j->n;
    wire_cmd c = {0};
    c.version = 1;
    c.a = j->id;
    c.alen = strlen(j->id);
    if (j->type == JOB_JOIN) {
        c.type = WIRE_CMD_NODE_SET;
        c.b = j->raft_addr;
        c.blen = strlen(j->raft_addr);
        c.c = j->api_addr;
        c.clen = strlen(j->api_addr);
        c.u2 = j->voter;
    } else {
        c.type = WIRE_CMD_NODE_DEL;
    }
    bitem *it = node_batch_cmd(n, &c, ITEM_JOB);
    it->job = j;
    it->job_done = job_step;
    node_flush(n);
}

static void removed_reply(void *arg, int status, const wire_rpc_msg *m) {}

/* Best effort: the removed node hears it from the leader and says so in its log. */
static void tell_removed(job *j)
{
    wire_node *n = j->n;
    if (!j->raft_addr || strcmp(j->id, n->id) == 0)
        return;
    wire_buf p;
    wire_buf_init(&p);
    wire_put_str(&p, n->id, strlen(n->id));
    node_rpc_call(n, j->raft_addr, WIRE_RPC_REMOVED, &p, removed_reply, NULL);
    wire_buf_free(&p);
}

/*
 * Steps. Join: [remove a conflicting member] → add (spare) → assign role →
 * record. Remove: remove → delete the record. Each raft call completes in
 * change_cb, which calls the next step; a failure ends the job.
 */
static void job_step(job *j, int status, uint64_t index)
{
    wire_node *n = j->n;
    if (status != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "membership change failed: %s", raft_strerror(status));
        node_job_reply(j, WIRE_EAGAIN, msg);
        return;
    }
    if (!is_leader(n)) {
        if (j->type == JOB_REMOVE && j->step == 10) {
            /* a leader that removed itself steps down once that committed: the removal
               holds; the next leader drops the leftover record (node_gc_records) */
            node_job_reply(j, 0, "");
            return;
        }
        node_job_reply(j, WIRE_EAGAIN, "not the leader any more");
        return;
    }
    j->change.data = j;
    uint64_t rid = wire_node_raft_id(j->id);
    int rc = 0;
    for (;;) {
        switch (j->step++) {
        case 0: /* start */
            if (j->type == JOB_REMOVE) {
                if (!config_find(n, rid, NULL)) {
                    char msg[256];
                    snprintf(msg, sizeof(msg), "node %s is not a member", j->id);
                    node_job_reply(j, WIRE_ENOTFOUND, msg);
                    return;
                }
                free(j->raft_addr); /* where to tell it, once done */
                j->raft_addr = wire_xstrdup(config_find(n, rid, NULL)->address);
                rc = raft_remove(&n->raft, &j->change, rid, change_cb);
                j->step = 10;
                break;
            } else {
                const struct raft_server *s = config_find(n, rid, j->raft_addr);
                if (s && (s->id != rid || strcmp(s->address, j->raft_addr) != 0)) {
                    /* same id elsewhere, or another id at this address: replace it */
                    rc = raft_remove(&n->raft, &j->change, s->id, change_cb);
                    j->step = 1;
                    break;
                }
                continue;
            }
        case 1: { /* add unless present */
            const struct raft_server *s = config_find(n, rid, NULL);
            if (s) {
                j->step = 2;
                continue;
            }
            rc = raft_add(&n->raft, &j->change, rid, j->raft_addr, change_cb);
            break;
        }
        case 2: { /* role */
            const struct raft_server *s = config_find(n, rid, NULL);
            int want = j->voter ? RAFT_VOTER : RAFT_STANDBY;
            if (s && s->role == want)
                continue;
            rc = raft_assign(&n->raft, &j->change, rid, want, change_cb);
            break;
        }
        case 3: { /* record, unless it is already right */
            wire_node_rec rec;
            if (wire_fsm_node_get(n->fsm, j->id, &rec) &&
                strcmp(rec.raft_addr, j->raft_addr) == 0 &&
                strcmp(rec.api_addr, j->api_addr) == 0 && rec.voter == j->voter) {
                node_job_reply(j, 0, "");
                return;
            }
            job_record(j);
            return;
        }
        case 4: /* recorded */ node_job_reply(j, 0, ""); return;
        case 10: /* removed from the configuration: drop the record */ job_record(j); return;
        case 11:
            tell_removed(j);
            node_job_reply(j, 0, "");
            return;
        default: node_job_reply(j, WIRE_EINVAL, "bad job step"); return;
        }
        break;
    }
    if (rc != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "membership change failed: %s", raft_strerror(rc));
        node_job_reply(j, rc == RAFT_NOTLEADER ? WIRE_EAGAIN : WIRE_EINVAL, msg);
    }
}

void node_run_jobs(wire_node *n)
{
    if (n->job_running || !n->jobs)
        return;
    job *j = n->jobs;
    n->jobs = j->next;
    if (!n->jobs)
        n->jobs_tail = NULL;
    j->next = NULL;
    n->job_running = true;
    j->step = 0;
    job_step(j, 0, 0);
}

void node_add_known(wire_node *n, const char *id, size_t il, const char *ra, size_t rl,
                    const char *api, size_t al)
{
    if (!il || il >= 128 || !rl || rl >= 256 || al >= 256)
        return;
    for (size_t i = 0; i < n->nknown; i++)
        if (strlen(n->known[i].id) == il && memcmp(n->known[i].id, id, il) == 0)
            return;
    n->known = wire_xrealloc(n->known, (n->nknown + 1) * sizeof(peer));
    peer *p = &n->known[n->nknown++];
    memset(p, 0, sizeof(*p));
    memcpy(p->id, id, il);
    memcpy(p->raft_addr, ra, rl);
    memcpy(p->api_addr, api, al);
}

void node_notify_reply_payload(wire_node *n, wire_buf *b)
{
    bool formed = n->raft_ok && n->raft.configuration.n > 0;
    const char *la = leader_addr(n);
    wire_put_u8(b, formed);
    wire_put_str(b, la ? la : "", la ? strlen(la) : 0);
    put_known(n, b);
}

void node_read_known(wire_node *n, wire_rd *r)
{
    uint32_t cnt = wire_get_u32(r);
    for (uint32_t i = 0; i < cnt && !r->bad && i < 1024; i++) {
        size_t il, rl, al;
        const char *id = wire_get_str(r, &il), *ra = wire_get_str(r, &rl);
        const char *api = wire_get_str(r, &al);
        if (!r->bad)
            node_add_known(n, id, il, ra, rl, api, al);
    }
}

/* A membership request that only the leader runs: true if answered "not the leader". */
/* ---- Forming the cluster ---- */

static void fatal(wire_node *n, const char *fmt, ...) WIRE_PRINTF(2, 3);
static void fatal(wire_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&n->lock);
    vsnprintf(n->fail_msg, sizeof(n->fail_msg), fmt, ap);
    n->failed = true;
    pthread_mutex_unlock(&n->lock);
    va_end(ap);
    wire_error("%s", n->fail_msg);
}

bool node_join_addr(const char *list, size_t idx, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len) {
            if (k == idx) {
                snprintf(out, n, "%.*s", (int)len, p);
                return true;
            }
            k++;
        }
        p = c ? c + 1 : p + len;
    }
    return false;
}

typedef struct join_ctx {
    wire_node *n;
    size_t idx; /* in the join list */
    int hops;   /* leader redirects followed */
} join_ctx;

void node_join_send(wire_node *n, const char *addr, size_t idx, int hops);

static void join_next(wire_node *n, size_t idx)
{
    char addr[256];
    if (node_join_addr(n->cfg.join, idx + 1, addr, sizeof(addr))) {
        node_join_send(n, addr, idx + 1, 0);
        return;
    }
    n->joining = false;
    n->join_attempt++;
    if (n->have_state) { /* a restarted member: keep its state, try again later */
        n->next_join_ms = wire_now_ms() + n->cfg.join_interval_ms;
        return;
    }
    if (n->join_attempt >= n->cfg.join_attempts) {
        fatal(n, "could not join the cluster through %s after %d attempts", n->cfg.join,
              n->join_attempt);
        return;
    }
    n->next_join_ms = wire_now_ms() + n->cfg.join_interval_ms;
}

static void join_reply(void *arg, int status, const wire_rpc_msg *m)
{
    join_ctx *j = arg;
    wire_node *n = j->n;
    size_t idx = j->idx;
    int hops = j->hops;
    free(j);
    if (n->stopping)
        return;
    if (status != 0 || !m) {
        join_next(n, idx);
        return;
    }
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    uint8_t st = wire_get_u8(&r);
    size_t ll, ml;
    const char *la = wire_get_str(&r, &ll);
    const char *msg = wire_get_str(&r, &ml);
    if (r.bad) {
        join_next(n, idx);
        return;
    }
    if (st == RS_OK) {
        n->joined = true;
        n->joining = false;
        wire_info("joined the cluster (as %s %s)", n->cfg.non_voter ? "non-voter" : "voter", n->id);
        return;
    }
    if (st == RS_NOTLEADER && ll && hops < 5) {
        char addr[256];
        snprintf(addr, sizeof(addr), "%.*s", (int)ll, la);
        node_join_send(n, addr, idx, hops + 1);
        return;
    }
    wire_warn("join: %.*s", (int)ml, msg);
    join_next(n, idx);
}

void node_join_send(wire_node *n, const char *addr, size_t idx, int hops)
{
    n->joining = true;
    wire_buf p;
    wire_buf_init(&p);
    put_self(n, &p);
    wire_put_u8(&p, !n->cfg.non_voter);
    put_join_token(n, &p);
    join_ctx *j = wire_xcalloc(1, sizeof(*j));
    j->n = n;
    j->idx = idx;
    j->hops = hops;
    wire_debug("join: asking %s", addr);
    node_rpc_call(n, addr, WIRE_RPC_JOIN, &p, join_reply, j);
    wire_buf_free(&p);
}

static int peer_cmp(const void *a, const void *b)
{
    return strcmp(((const peer *)a)->id, ((const peer *)b)->id);
}

void node_bootstrap_with(wire_node *n, const peer *v, size_t k)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    for (size_t i = 0; i < k; i++)
        raft_configuration_add(&conf, wire_node_raft_id(v[i].id), v[i].raft_addr, RAFT_VOTER);
    int rc = raft_bootstrap(&n->raft, &conf);
    raft_configuration_close(&conf);
    if (rc != 0 && rc != RAFT_CANTBOOTSTRAP) {
        fatal(n, "bootstrap: %s", raft_strerror(rc));
        return;
    }
    n->bootstrapped = true;
    wire_info("bootstrapped a %zu-node cluster", k);
}

static int start_raft(wire_node *n)
{
    if (n->started)
        return 0;
    int rc = raft_start(&n->raft);
    if (rc != 0) {
        fatal(n, "raft start in %s: %s: %s", n->dir, raft_strerror(rc), raft_errmsg(&n->raft));
        return rc;
    }
    n->started = true;
    return 0;
}

static void notify_reply(void *arg, int status, const wire_rpc_msg *m)
{
    wire_node *n = arg;
    if (status != 0 || !m || n->stopping)
        return;
    wire_rd r = {m->payload, m->payload + m->payload_len, false};
    bool formed = wire_get_u8(&r) != 0;
    size_t ll;
    const char *la = wire_get_str(&r, &ll);
    node_read_known(n, &r);
    if (formed && ll && !n->joined && !n->joining && !n->bootstrapped &&
        n->raft.configuration.n == 0) {
        /* A cluster exists already: join it the ordinary way. */
        char addr[256];
        snprintf(addr, sizeof(addr), "%.*s", (int)ll, la);
        if (start_raft(n) == 0)
            node_join_send(n, addr, 0, 0);
    }
}

/*
 * Bootstrap-expect: every node notifies the --join addresses of itself and
 * of every peer it knows, and learns the peers they know from the replies.
 * Once a node knows N nodes (itself included) it bootstraps the N lowest ids
 * as voters and starts Raft. Every node computes the same set from the same
 * N nodes, so all of them write the identical configuration entry at index 1:
 * one cluster (libraft's pristine nodes do not vote, so each member needs
 * the configuration itself; a lone bootstrapper could never be elected).
 * A node outside the N lowest, or one whose notify is answered by a formed
 * cluster, joins it the ordinary way. Raft is started only after the
 * decision, since libraft bootstraps only before raft_start.
 */
void node_expect_tick(wire_node *n, int64_t now)
{
    if (n->bootstrapped || n->joined || n->raft.configuration.n > 0 || n->failed)
        return;
    if (n->cfg.bootstrap_expect_timeout_ms > 0 && now > n->expect_deadline_ms) {
        fatal(n, "bootstrap-expect: %zu of %d nodes known after %lld ms", n->nknown,
              n->cfg.bootstrap_expect, (long long)n->cfg.bootstrap_expect_timeout_ms);
        return;
    }
    wire_buf p;
    wire_buf_init(&p);
    put_self(n, &p);
    put_known(n, &p);
    char addr[256];
    for (size_t i = 0; node_join_addr(n->cfg.join, i, addr, sizeof(addr)); i++)
        if (strcmp(addr, n->raft_adv) != 0)
            node_rpc_call(n, addr, WIRE_RPC_NOTIFY, &p, notify_reply, n);
    wire_buf_free(&p);
    if (n->nknown < (size_t)n->cfg.bootstrap_expect || n->started)
        return;
    qsort(n->known, n->nknown, sizeof(peer), peer_cmp);
    bool member = false;
    for (int i = 0; i < n->cfg.bootstrap_expect; i++)
        member |= strcmp(n->known[i].id, n->id) == 0;
    if (!member) {
        /* more nodes than expected: the N lowest ids form the cluster; join it */
        wire_warn("bootstrap-expect: %zu nodes known for %d; joining the lowest ones", n->nknown,
                  n->cfg.bootstrap_expect);
        if (start_raft(n) == 0)
            node_join_send(n, n->known[0].raft_addr, 0, 0);
        return;
    }
    node_bootstrap_with(n, n->known, (size_t)n->cfg.bootstrap_expect);
    start_raft(n);
}

/* Make sure this node's record (id, addresses, role) is in the FSM. */
static void self_reply(void *arg, int status, const wire_rpc_msg *m)
{
    wire_node *n = arg;
    n->self_inflight = false;
}

void node_self_check(wire_node *n)
{
    if (n->self_inflight || !n->raft_ok)
        return;
    const struct raft_server *s = config_find(n, n->rid, NULL);
    if (!s || s->role == RAFT_SPARE)
        return;
    bool voter = s->role == RAFT_VOTER;
    wire_node_rec rec;
    if (wire_fsm_node_get(n->fsm, n->id, &rec) && strcmp(rec.raft_addr, n->raft_adv) == 0 &&
        strcmp(rec.api_addr, n->http_adv) == 0 && rec.voter == voter)
        return;
    if (is_leader(n)) {
        job *j = node_job_new(JOB_JOIN, n->id, strlen(n->id));
        j->raft_addr = wire_xstrdup(n->raft_adv);
        j->api_addr = wire_xstrdup(n->http_adv);
        j->voter = voter;
        node_submit_job(n, j);
        /* and the peers bootstrap-expect told us about */
        for (size_t i = 0; i < n->nknown; i++) {
            if (strcmp(n->known[i].id, n->id) == 0 ||
                wire_fsm_node_get(n->fsm, n->known[i].id, &rec))
                continue;
            const struct raft_server *ps = config_find(n, wire_node_raft_id(n->known[i].id), NULL);
            if (!ps)
                continue;
            j = node_job_new(JOB_JOIN, n->known[i].id, strlen(n->known[i].id));
            j->raft_addr = wire_xstrdup(n->known[i].raft_addr);
            j->api_addr = wire_xstrdup(n->known[i].api_addr);
            j->voter = ps->role == RAFT_VOTER;
            node_submit_job(n, j);
        }
        n->self_inflight = false;
        return;
    }
    const char *la = leader_addr(n);
    if (!la)
        return;
    wire_buf p;
    wire_buf_init(&p);
    put_self(n, &p);
    wire_put_u8(&p, voter);
    put_join_token(n, &p);
    n->self_inflight = true;
    node_rpc_call(n, la, WIRE_RPC_JOIN, &p, self_reply, n);
    wire_buf_free(&p);
}

bool node_self_spare(wire_node *n)
{
    const struct raft_server *s = config_find(n, n->rid, NULL);
    return s && s->role == RAFT_SPARE;
}

/* ---- Every node: what the configuration became ---- */

static const char *role_name(int role)
{
    return role == RAFT_VOTER ? "voter" : role == RAFT_STANDBY ? "non-voter" : "spare";
}

/* Give each member without one its id from the state machine's records. */
static void name_members(wire_node *n, struct seen_member *v, size_t nv)
{
    bool unnamed = false;
    for (size_t k = 0; k < nv; k++)
        unnamed |= !v[k].name[0];
    if (!unnamed)
        return;
    wire_node_rec *recs;
    size_t nr = wire_fsm_nodes(n->fsm, &recs);
    for (size_t k = 0; k < nv; k++)
        for (size_t i = 0; i < nr && !v[k].name[0]; i++)
            if (wire_node_raft_id(recs[i].id) == v[k].id)
                snprintf(v[k].name, sizeof(v[k].name), "%s", recs[i].id);
    free(recs);
}

/* "ID (ADDR)", or the address alone while the id is not known */
static void member_name(const struct seen_member *m, char *out, size_t outn)
{
    if (m->name[0])
        snprintf(out, outn, "%s (%s)", m->name, m->addr);
    else
        snprintf(out, outn, "%s", m->addr);
}

void node_watch_config(wire_node *n)
{
    if (!n->raft_ok)
        return;
    const struct raft_configuration *c = &n->raft.configuration;
    bool same = n->seen_ok && c->n == n->nseen;
    for (unsigned i = 0; same && i < c->n; i++)
        same = c->servers[i].id == n->seen[i].id && c->servers[i].role == n->seen[i].role &&
               strcmp(c->servers[i].address, n->seen[i].addr) == 0;
    if (same) {
        name_members(n, n->seen, n->nseen); /* a record may come after the change */
        return;
    }
    struct seen_member *now = wire_xcalloc(c->n ? c->n : 1, sizeof(*now));
    for (unsigned i = 0; i < c->n; i++) {
        now[i].id = c->servers[i].id;
        now[i].role = c->servers[i].role;
        snprintf(now[i].addr, sizeof(now[i].addr), "%s", c->servers[i].address);
        for (size_t k = 0; k < n->nseen; k++)
            if (n->seen[k].id == now[i].id)
                memcpy(now[i].name, n->seen[k].name, sizeof(now[i].name));
    }
    name_members(n, now, c->n);
    char name[300];
    if (n->seen_ok) { /* the first look is the starting point, not a change */
        for (unsigned i = 0; i < c->n; i++) {
            const struct seen_member *old = NULL;
            for (size_t k = 0; k < n->nseen; k++)
                if (n->seen[k].id == now[i].id)
                    old = &n->seen[k];
            if (old && old->role == now[i].role)
                continue;
            member_name(&now[i], name, sizeof(name));
            if (!old)
                wire_info("cluster: member %s joined as a %s", name, role_name(now[i].role));
            else
                wire_info("cluster: member %s is now a %s (was a %s)", name, role_name(now[i].role),
                          role_name(old->role));
        }
        for (size_t k = 0; k < n->nseen; k++) {
            bool kept = false;
            for (unsigned i = 0; i < c->n && !kept; i++)
                kept = now[i].id == n->seen[k].id;
            if (kept)
                continue;
            if (n->seen[k].id == n->rid) {
                wire_warn("cluster: this node was removed from the cluster: it stops its "
                          "pipelines and takes no writes; to join again, wipe --raft-dir and "
                          "start with --join");
                continue;
            }
            member_name(&n->seen[k], name, sizeof(name));
            wire_info("cluster: member %s removed", name);
        }
    }
    free(n->seen);
    n->seen = now;
    n->nseen = c->n;
    n->seen_ok = true;
}

void node_on_removed(wire_node *n, const char *by, size_t bylen)
{
    if (n->removed_told)
        return;
    n->removed_told = true;
    wire_warn("cluster: leader %.*s removed this node from the cluster: it stops its pipelines "
              "(fenced) and takes no writes; to join again, wipe --raft-dir and start with --join",
              (int)bylen, by);
}
