/*
 * test_fsm.c — the replicated state machine: command semantics, encoding,
 * snapshot round trips, and whole clusters on libraft's raft_fixture
 * (simulated time, in-memory I/O): deterministic replication of batched
 * entries, snapshots with log compaction, a follower catching up through
 * snapshot install, crashes and leader changes, lossy links, and
 * membership changes. No sockets, no sleeps: every run is the same.
 */
#include <raft.h>
#include <raft/fixture.h>

#include "cluster/internal.h"
#include "test.h"

/* ---- helpers ---- */

static void cmd_kv(wire_buf *e, const char *k, const char *v)
{
    wire_cmd c = {0};
    c.type = v ? WIRE_CMD_KV_SET : WIRE_CMD_KV_DEL;
    c.version = 1;
    c.a = k;
    c.alen = strlen(k);
    c.b = v;
    c.blen = v ? strlen(v) : 0;
    wire_cmd_encode(e, &c);
}

static void apply_local(wire_fsm *f, uint64_t index, const wire_buf *e)
{
    CHECK_EQ_INT(wire_fsm_apply_entry(f, index, e->p, e->len), 0);
}

static bool kv_is(wire_fsm *f, const char *k, const char *want)
{
    size_t n;
    const char *v = wire_fsm_kv_get(f, k, strlen(k), &n);
    if (!want)
        return v == NULL;
    return v && n == strlen(want) && memcmp(v, want, n) == 0;
}

/* ---- FSM without Raft ---- */

TEST(fsm_kv_batch)
{
    wire_fsm *f = wire_fsm_new();
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, 3, 7);
    cmd_kv(&e, "a", "1");
    cmd_kv(&e, "b", "2");
    cmd_kv(&e, "a", "3");
    apply_local(f, 1, &e);
    CHECK(kv_is(f, "a", "3"));
    CHECK(kv_is(f, "b", "2"));
    CHECK_EQ_INT(wire_fsm_kv_count(f), 2);
    uint32_t n;
    const uint8_t *res = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(res[0], WIRE_APPLY_OK);
    wire_entry_begin(&e, 2, 7);
    cmd_kv(&e, "a", NULL);
    cmd_kv(&e, "zz", NULL);
    apply_local(f, 2, &e);
    res = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(res[0], WIRE_APPLY_OK);
    CHECK_EQ_INT(res[1], WIRE_APPLY_NOTFOUND);
    CHECK(kv_is(f, "a", NULL));
    CHECK_EQ_INT(wire_fsm_applied_index(f), 2);
    wire_buf_free(&e);
    wire_fsm_free(f);
}

TEST(fsm_pipeline_tables)
{
    wire_fsm *f = wire_fsm_new();
    wire_buf e;
    wire_buf_init(&e);
    wire_cmd c = {0};
    c.version = 1;
    c.a = "p1";
    c.alen = 2;
    wire_entry_begin(&e, 8, 1);
    c.type = WIRE_CMD_PIPELINE_PUT; /* create */
    c.c = "spec-v1";
    c.clen = 7;
    c.u1 = 0;
    wire_cmd_encode(&e, &c);
    wire_cmd_encode(&e, &c); /* create again: exists */
    c.u1 = 5;                /* update with a wrong version: conflict */
    c.c = "spec-v2";
    wire_cmd_encode(&e, &c);
    c.u1 = 1; /* update of version 1: ok */
    wire_cmd_encode(&e, &c);
    c.type = WIRE_CMD_ASSIGN;
    c.b = "n2";
    c.blen = 2;
    c.u1 = 0; /* replaces epoch 0 (none): gets epoch 1 */
    wire_cmd_encode(&e, &c);
    wire_cmd_encode(&e, &c); /* epoch 0 is no longer current: conflict */
    c.type = WIRE_CMD_CHECKPOINT;
    c.u1 = 1;
    c.c = "pos=10";
    c.clen = 6;
    wire_cmd_encode(&e, &c);
    c.u1 = 0; /* a stale epoch is refused */
    c.c = "pos=99";
    wire_cmd_encode(&e, &c);
    apply_local(f, 1, &e);
    uint32_t n;
    const uint8_t *r = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(n, 8);
    static const uint8_t want[] = {WIRE_APPLY_OK, WIRE_APPLY_EXISTS, WIRE_APPLY_CONFLICT,
                                   WIRE_APPLY_OK, WIRE_APPLY_OK,     WIRE_APPLY_CONFLICT,
                                   WIRE_APPLY_OK, WIRE_APPLY_STALE};
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(r[i], want[i]);
    wire_pipeline_rec p;
    CHECK(wire_fsm_pipeline_get(f, "p1", &p));
    CHECK_EQ_INT(p.version, 2);
    CHECK_EQ_STR(p.spec, "spec-v2");
    CHECK_EQ_STR(p.node, "n2");
    CHECK_EQ_INT(p.epoch, 1);
    CHECK_EQ_STR(p.checkpoint, "pos=10");

    /* node records */
    wire_entry_begin(&e, 2, 1);
    memset(&c, 0, sizeof(c));
    c.version = 1;
    c.type = WIRE_CMD_NODE_SET;
    c.a = "n2";
    c.alen = 2;
    c.b = "h:2";
    c.blen = 3;
    c.c = "h:1";
    c.clen = 3;
    c.u2 = 1;
    wire_cmd_encode(&e, &c);
    c.type = WIRE_CMD_NODE_SEEN;
    c.u1 = 12345;
    wire_cmd_encode(&e, &c);
    apply_local(f, 2, &e);
    wire_node_rec nr;
    CHECK(wire_fsm_node_get(f, "n2", &nr));
    CHECK_EQ_STR(nr.api_addr, "h:1");
    CHECK_EQ_INT(nr.last_seen_ms, 12345);
    CHECK(nr.voter);
    CHECK(wire_fsm_node_by_addr(f, "h:2", &nr));
    CHECK_EQ_STR(nr.id, "n2");

    /* the whole state survives encode/decode, bit for bit */
    wire_buf s;
    wire_buf_init(&s);
    wire_fsm_encode(f, &s);
    wire_fsm *g = wire_fsm_new();
    wire_err err;
    CHECK_EQ_INT(wire_fsm_decode(g, s.p, s.len, &err), 0);
    CHECK_EQ_INT(wire_fsm_digest(g), wire_fsm_digest(f));
    CHECK(wire_fsm_pipeline_get(g, "p1", &p));
    CHECK_EQ_STR(p.checkpoint, "pos=10");
    /* truncated state is refused and leaves the FSM untouched */
    CHECK(wire_fsm_decode(g, s.p, s.len / 2, &err) != 0);
    CHECK_EQ_INT(wire_fsm_digest(g), wire_fsm_digest(f));
    wire_buf_free(&s);
    wire_fsm_free(g);
    wire_buf_free(&e);
    wire_fsm_free(f);
}

TEST(fsm_unknown_and_malformed)
{
    wire_fsm *f = wire_fsm_new();
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, 3, 1);
    cmd_kv(&e, "a", "1");
    /* a command type from the future, and a known type at version 9 */
    wire_put_u8(&e, 200);
    wire_put_u8(&e, 1);
    wire_put_u16(&e, 0);
    wire_put_u32(&e, 3);
    wire_buf_append(&e, "xyz", 3);
    wire_put_u8(&e, WIRE_CMD_KV_SET);
    wire_put_u8(&e, 9);
    wire_put_u16(&e, 0);
    wire_put_u32(&e, 0);
    apply_local(f, 1, &e);
    uint32_t n;
    const uint8_t *r = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(r[0], WIRE_APPLY_OK);
    CHECK_EQ_INT(r[1], WIRE_APPLY_UNKNOWN);
    CHECK_EQ_INT(r[2], WIRE_APPLY_UNKNOWN);
    /* garbage entries are skipped without crashing, on every node alike */
    CHECK_EQ_INT(wire_fsm_apply_entry(f, 2, "garbage!", 8), 0);
    wire_entry_begin(&e, 5, 1); /* claims 5 commands, has a truncated one */
    cmd_kv(&e, "b", "2");
    e.len -= 1;
    CHECK_EQ_INT(wire_fsm_apply_entry(f, 3, e.p, e.len), 0);
    CHECK(kv_is(f, "a", "1"));
    CHECK(kv_is(f, "b", NULL));
    wire_entry_iter it;
    wire_err err;
    /* a command count larger than the bytes can hold is refused, not allocated */
    unsigned char liar[24] = {WIRE_ENTRY_MAGIC, WIRE_ENTRY_VERSION, 0, 0, 0, 0, 0, 0x91};
    CHECK(wire_entry_open(&it, liar, sizeof(liar), &err) != 0);
    CHECK_EQ_INT(wire_fsm_apply_entry(f, 4, liar, sizeof(liar)), 0);
    unsigned char bad_version[16] = {WIRE_ENTRY_MAGIC, 99};
    CHECK(wire_entry_open(&it, bad_version, 16, &err) != 0);
    wire_buf_free(&e);
    wire_fsm_free(f);
}

/* Writes during an asynchronous snapshot: the snapshot holds the state it was
   taken at, reads and counts see every write, and finalize folds them in. */
TEST(fsm_snapshot_while_writing)
{
    wire_fsm *f = wire_fsm_new(), *before = wire_fsm_new(), *after = wire_fsm_new();
    wire_fsm_set_async_snapshots(f, true);
    struct raft_fsm *rf = wire_fsm_raft(f);
    CHECK_EQ_INT(rf->version, 3);
    CHECK(rf->snapshot_async != NULL);
    wire_buf e1, e2;
    wire_buf_init(&e1);
    wire_buf_init(&e2);
    wire_entry_begin(&e1, 3, 1);
    cmd_kv(&e1, "a", "1");
    cmd_kv(&e1, "b", "2");
    cmd_kv(&e1, "c", "3");
    wire_entry_begin(&e2, 7, 1);
    cmd_kv(&e2, "a", "10"); /* overwrite a frozen key */
    cmd_kv(&e2, "b", NULL); /* delete a frozen key */
    cmd_kv(&e2, "d", "4");  /* a new key */
    cmd_kv(&e2, "zz", NULL);
    cmd_kv(&e2, "b", NULL); /* deleted already */
    cmd_kv(&e2, "e", "5");
    cmd_kv(&e2, "e", NULL); /* a new key, gone again */
    apply_local(f, 1, &e1);
    apply_local(before, 1, &e1);
    apply_local(after, 1, &e1);
    apply_local(after, 2, &e2);

    struct raft_buffer *bufs = NULL;
    unsigned nbufs = 9;
    CHECK_EQ_INT(rf->snapshot(rf, &bufs, &nbufs), 0);
    CHECK_EQ_INT(nbufs, 0);                                   /* the work is snapshot_async's */
    CHECK_EQ_INT(rf->snapshot(rf, &bufs, &nbufs), RAFT_BUSY); /* one at a time */
    apply_local(f, 2, &e2);
    uint32_t n;
    const uint8_t *res = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(res[1], WIRE_APPLY_OK);
    CHECK_EQ_INT(res[3], WIRE_APPLY_NOTFOUND);
    CHECK_EQ_INT(res[4], WIRE_APPLY_NOTFOUND);
    CHECK_EQ_INT(res[6], WIRE_APPLY_OK);
    CHECK(kv_is(f, "a", "10"));
    CHECK(kv_is(f, "b", NULL));
    CHECK(kv_is(f, "c", "3"));
    CHECK(kv_is(f, "d", "4"));
    CHECK(kv_is(f, "e", NULL));
    CHECK_EQ_INT(wire_fsm_kv_count(f), 3);
    CHECK_EQ_INT(wire_fsm_digest(f), wire_fsm_digest(after));

    /* the snapshot is the state at index 1 */
    CHECK_EQ_INT(rf->snapshot_async(rf, &bufs, &nbufs), 0);
    CHECK_EQ_INT(nbufs, 1);
    wire_buf raw;
    wire_buf_init(&raw);
    uint64_t idx, term;
    wire_err err;
    CHECK_EQ_INT(wire_snapshot_unpack(bufs[0].base, bufs[0].len, &raw, &idx, &term, &err), 0);
    CHECK_EQ_INT(idx, 1);
    wire_fsm *g = wire_fsm_new();
    CHECK_EQ_INT(wire_fsm_decode(g, raw.p, raw.len, &err), 0);
    CHECK_EQ_INT(wire_fsm_digest(g), wire_fsm_digest(before));
    CHECK(kv_is(g, "b", "2"));

    CHECK_EQ_INT(rf->snapshot_finalize(rf, &bufs, &nbufs), 0);
    CHECK(bufs == NULL);
    CHECK_EQ_INT(wire_fsm_digest(f), wire_fsm_digest(after));
    CHECK_EQ_INT(wire_fsm_kv_count(f), 3);
    /* thawed: writes go to the table again, and the next snapshot sees them */
    wire_entry_begin(&e1, 1, 1);
    cmd_kv(&e1, "f", "6");
    apply_local(f, 3, &e1);
    apply_local(after, 3, &e1);
    wire_fsm_set_async_snapshots(f, false); /* version 2: the same work, synchronously */
    CHECK_EQ_INT(rf->snapshot(rf, &bufs, &nbufs), 0);
    CHECK_EQ_INT(nbufs, 1);
    CHECK_EQ_INT(wire_snapshot_unpack(bufs[0].base, bufs[0].len, &raw, &idx, &term, &err), 0);
    CHECK_EQ_INT(idx, 3);
    CHECK_EQ_INT(wire_fsm_decode(g, raw.p, raw.len, &err), 0);
    CHECK_EQ_INT(wire_fsm_digest(g), wire_fsm_digest(after));
    CHECK_EQ_INT(rf->snapshot_finalize(rf, &bufs, &nbufs), 0);
    CHECK_EQ_INT(wire_fsm_kv_count(f), 4);

    wire_buf_free(&raw);
    wire_buf_free(&e1);
    wire_buf_free(&e2);
    wire_fsm_free(g);
    wire_fsm_free(f);
    wire_fsm_free(before);
    wire_fsm_free(after);
}

static void cmd_session(wire_buf *e, const char *node, uint64_t seq, uint64_t count,
                        uint64_t incarnation)
{
    wire_cmd c = {0};
    c.type = WIRE_CMD_SESSION;
    c.version = 1;
    c.a = node;
    c.alen = strlen(node);
    c.u1 = seq;
    c.u2 = count;
    c.u3 = incarnation;
    wire_cmd_encode(e, &c);
}

static void cmd_create(wire_buf *e, const char *name)
{
    wire_cmd c = {0};
    c.type = WIRE_CMD_PIPELINE_PUT;
    c.version = 1;
    c.a = name;
    c.alen = strlen(name);
    c.c = "spec";
    c.clen = 4;
    wire_cmd_encode(e, &c);
}

/* apply [SESSION node seq 2 inc] create(name) set(k,v) as entry `index`; results out */
static void forward(wire_fsm *f, uint64_t index, const char *node, uint64_t seq, uint64_t inc,
                    const char *name, const char *k, const char *v, uint8_t res[3])
{
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, 3, 1);
    cmd_session(&e, node, seq, 2, inc);
    cmd_create(&e, name);
    cmd_kv(&e, k, v);
    apply_local(f, index, &e);
    uint32_t n;
    const uint8_t *r = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(n, 3);
    memcpy(res, r, 3);
    wire_buf_free(&e);
}

/* A forward retried after its leader died applies once (client sessions). */
TEST(fsm_sessions)
{
    wire_fsm *f = wire_fsm_new();
    uint8_t r[3];
    uint64_t idx = 1;
    forward(f, idx++, "n2", 1, 100, "p1", "k", "first", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_OK);
    CHECK_EQ_INT(r[1], WIRE_APPLY_OK);
    CHECK(kv_is(f, "k", "first"));
    /* someone else writes k; then n2's forward 1 arrives again (a retry) */
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, 1, 1);
    cmd_kv(&e, "k", "later");
    apply_local(f, idx++, &e);
    forward(f, idx++, "n2", 1, 100, "p1", "k", "first", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_DUPLICATE);
    CHECK_EQ_INT(r[1], WIRE_APPLY_OK); /* the first answer, not EXISTS */
    CHECK_EQ_INT(r[2], WIRE_APPLY_OK);
    CHECK(kv_is(f, "k", "later")); /* not applied again */
    /* the same create without a session is applied, and refused */
    wire_entry_begin(&e, 1, 1);
    cmd_create(&e, "p1");
    apply_local(f, idx++, &e);
    uint32_t n;
    CHECK_EQ_INT(wire_fsm_last_results(f, &n)[0], WIRE_APPLY_EXISTS);

    /* out of order: 3 before 2 (2 was sent to a leader that died); 2 still applies once */
    forward(f, idx++, "n2", 3, 100, "p3", "k3", "3", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_OK);
    forward(f, idx++, "n2", 2, 100, "p2", "k2", "2", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_OK);
    CHECK(kv_is(f, "k2", "2"));
    forward(f, idx++, "n2", 2, 100, "p2", "k2", "2", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_DUPLICATE);
    /* another node's seqs are its own */
    forward(f, idx++, "n3", 2, 7, "q2", "j2", "2", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_OK);

    /* the session survives a snapshot */
    wire_buf s;
    wire_buf_init(&s);
    wire_fsm_encode(f, &s);
    wire_fsm *g = wire_fsm_new();
    wire_err err;
    CHECK_EQ_INT(wire_fsm_decode(g, s.p, s.len, &err), 0);
    CHECK_EQ_INT(wire_fsm_digest(g), wire_fsm_digest(f));
    forward(g, idx, "n2", 3, 100, "p3", "k3", "changed", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_DUPLICATE);
    CHECK(kv_is(g, "k3", "3"));
    CHECK(wire_fsm_decode(g, s.p, s.len - 3, &err) != 0); /* truncated sessions: refused */

    /* past the window: too old to tell, nothing applied */
    for (uint64_t q = 4; q <= 4 + WIRE_SESSION_WINDOW; q++)
        forward(f, idx++, "n2", q, 100, "w", "kw", "x", r);
    forward(f, idx++, "n2", 4, 100, "old", "kold", "x", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_EXPIRED);
    CHECK_EQ_INT(r[1], WIRE_APPLY_EXPIRED);
    CHECK_EQ_INT(r[2], WIRE_APPLY_EXPIRED);
    CHECK(kv_is(f, "kold", NULL));
    /* a restarted n2 (a later incarnation) starts again at 1; the old one is refused */
    forward(f, idx++, "n2", 1, 101, "r1", "kr", "1", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_OK);
    CHECK(kv_is(f, "kr", "1"));
    forward(f, idx++, "n2", 90, 100, "r2", "kr", "old", r);
    CHECK_EQ_INT(r[0], WIRE_APPLY_EXPIRED);
    CHECK(kv_is(f, "kr", "1"));

    /* a group claiming more commands than its entry holds ends with the entry */
    wire_entry_begin(&e, 2, 1);
    cmd_session(&e, "n3", 3, 5, 7);
    cmd_kv(&e, "g1", "1");
    apply_local(f, idx++, &e);
    wire_entry_begin(&e, 1, 1);
    cmd_kv(&e, "g2", "2");
    apply_local(f, idx++, &e);
    CHECK(kv_is(f, "g1", "1"));
    CHECK(kv_is(f, "g2", "2"));
    /* malformed sessions: no id, seq 0 */
    wire_entry_begin(&e, 2, 1);
    cmd_session(&e, "", 1, 0, 1);
    cmd_session(&e, "n4", 0, 0, 1);
    apply_local(f, idx++, &e);
    const uint8_t *res = wire_fsm_last_results(f, &n);
    CHECK_EQ_INT(res[0], WIRE_APPLY_INVALID);
    CHECK_EQ_INT(res[1], WIRE_APPLY_INVALID);

    wire_buf_free(&s);
    wire_buf_free(&e);
    wire_fsm_free(g);
    wire_fsm_free(f);
}

TEST(snapshot_frame)
{
    wire_buf raw, packed, out;
    wire_buf_init(&raw);
    wire_buf_init(&packed);
    wire_buf_init(&out);
    for (int i = 0; i < 10000; i++)
        wire_buf_printf(&raw, "key-%d=value-%d;", i, i % 7);
    wire_err err;
    CHECK_EQ_INT(wire_snapshot_pack(raw.p, raw.len, 42, 3, &packed, &err), 0);
    CHECK(packed.len < raw.len / 4); /* compressed */
    uint64_t idx, term;
    CHECK_EQ_INT(wire_snapshot_unpack(packed.p, packed.len, &out, &idx, &term, &err), 0);
    CHECK_EQ_INT(idx, 42);
    CHECK_EQ_INT(term, 3);
    CHECK(out.len == raw.len && memcmp(out.p, raw.p, raw.len) == 0);
    /* one flipped bit in the payload: the checksum catches it */
    packed.p[WIRE_SNAP_HEADER + 10] ^= 4;
    CHECK(wire_snapshot_unpack(packed.p, packed.len, &out, &idx, &term, &err) != 0);
    CHECK(strstr(err.msg, "checksum") != NULL);
    packed.p[WIRE_SNAP_HEADER + 10] ^= 4;
    /* truncated, wrong magic, future format version */
    CHECK(wire_snapshot_unpack(packed.p, packed.len - 9, &out, &idx, &term, &err) != 0);
    CHECK(wire_snapshot_unpack(packed.p, 20, &out, &idx, &term, &err) != 0);
    packed.p[4] = 2;
    CHECK(wire_snapshot_unpack(packed.p, packed.len, &out, &idx, &term, &err) != 0);
    CHECK(strstr(err.msg, "version") != NULL);
    packed.p[0] = 'X';
    CHECK(wire_snapshot_unpack(packed.p, packed.len, &out, &idx, &term, &err) != 0);
    wire_buf_free(&raw);
    wire_buf_free(&packed);
    wire_buf_free(&out);
}

TEST(node_ids)
{
    CHECK(wire_node_raft_id("n1") != 0);
    CHECK(wire_node_raft_id("n1") != wire_node_raft_id("n2"));
    CHECK_EQ_INT(wire_node_raft_id("n1"), wire_node_raft_id("n1"));
}

/* ---- Clusters on raft_fixture ---- */

#define NMAX 5

typedef struct cluster {
    struct raft_fixture f;
    wire_fsm *fsm[NMAX];
    unsigned n;
    int next_key;
} cluster;

static void cluster_grow(cluster *c)
{
    wire_fsm *f = wire_fsm_new();
    c->fsm[c->n] = f;
    CHECK_EQ_INT(raft_fixture_grow(&c->f, wire_fsm_raft(f)), 0);
    wire_fsm_attach(f, raft_fixture_get(&c->f, c->n));
    c->n++;
}

static void cluster_init(cluster *c, unsigned n, unsigned snap_threshold, unsigned trailing)
{
    memset(c, 0, sizeof(*c));
    CHECK_EQ_INT(raft_fixture_initialize(&c->f), 0);
    for (unsigned i = 0; i < n; i++)
        cluster_grow(c);
    struct raft_configuration conf;
    CHECK_EQ_INT(raft_fixture_configuration(&c->f, n, &conf), 0);
    CHECK_EQ_INT(raft_fixture_bootstrap(&c->f, &conf), 0);
    raft_configuration_close(&conf);
    for (unsigned i = 0; i < n; i++) {
        struct raft *r = raft_fixture_get(&c->f, i);
        raft_set_snapshot_threshold(r, snap_threshold);
        raft_set_snapshot_trailing(r, trailing);
    }
    CHECK_EQ_INT(raft_fixture_start(&c->f), 0);
    raft_fixture_elect(&c->f, 0);
}

static void cluster_close(cluster *c)
{
    raft_fixture_close(&c->f);
    for (unsigned i = 0; i < c->n; i++)
        wire_fsm_free(c->fsm[i]);
}

static void apply_done(struct raft_apply *req, int status, void *result)
{
    free(req);
}

/* Propose one entry of `k` KV sets on the leader; returns its index (0 if refused). */
static raft_index propose(cluster *c, int k)
{
    unsigned li = raft_fixture_leader_index(&c->f);
    if (li >= c->n)
        return 0;
    struct raft *r = raft_fixture_get(&c->f, li);
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, (uint32_t)k, r->current_term);
    for (int i = 0; i < k; i++) {
        char key[32], val[32];
        snprintf(key, sizeof(key), "k%d", c->next_key % 500);
        snprintf(val, sizeof(val), "v%d", c->next_key);
        c->next_key++;
        cmd_kv(&e, key, val);
    }
    struct raft_buffer buf;
    buf.len = (e.len + 7) & ~(size_t)7;
    buf.base = raft_calloc(1, buf.len);
    memcpy(buf.base, e.p, e.len);
    wire_buf_free(&e);
    struct raft_apply *req = calloc(1, sizeof(*req));
    if (raft_apply(r, req, &buf, 1, apply_done) != 0) {
        raft_free(buf.base);
        free(req);
        return 0;
    }
    return req->index;
}

static bool all_equal(cluster *c, unsigned skip)
{
    uint64_t d = 0;
    bool first = true;
    for (unsigned i = 0; i < c->n; i++) {
        if (i == skip || !raft_fixture_alive(&c->f, i))
            continue;
        uint64_t x = wire_fsm_digest(c->fsm[i]);
        if (!first && x != d)
            return false;
        d = x;
        first = false;
    }
    return true;
}

TEST(fixture_replicates_deterministically)
{
    cluster c;
    cluster_init(&c, 3, 1000000, 100);
    raft_index last = 0;
    for (int i = 0; i < 50; i++)
        last = propose(&c, 1 + i % 20);
    CHECK(last > 0);
    CHECK(raft_fixture_step_until_applied(&c.f, c.n, last, 10000));
    CHECK(all_equal(&c, NMAX));
    CHECK_EQ_INT(wire_fsm_kv_count(c.fsm[1]), 475); /* 50 entries of 1..20 commands */
    CHECK(kv_is(c.fsm[2], "k474", "v474"));
    cluster_close(&c);
}

TEST(fixture_snapshots_compact_and_restore)
{
    cluster c;
    cluster_init(&c, 3, 16, 4);
    raft_index last = 0;
    for (int i = 0; i < 100; i++) {
        last = propose(&c, 10);
        raft_fixture_step_n(&c.f, 3);
    }
    CHECK(raft_fixture_step_until_applied(&c.f, c.n, last, 10000));
    raft_fixture_step_until_elapsed(&c.f, 500);
    for (unsigned i = 0; i < c.n; i++) {
        struct raft *r = raft_fixture_get(&c.f, i);
        CHECK(r->log.snapshot.last_index > 0);
        /* compacted: the in-memory log holds no more than threshold + trailing */
        CHECK(raft_last_index(r) - r->log.offset <= 16 + 4 + 8);
    }
    CHECK(all_equal(&c, NMAX));
    /* restoring any snapshot reproduces the state exactly */
    wire_buf s;
    wire_buf_init(&s);
    wire_fsm_encode(c.fsm[0], &s);
    wire_fsm *g = wire_fsm_new();
    wire_err err;
    CHECK_EQ_INT(wire_fsm_decode(g, s.p, s.len, &err), 0);
    CHECK_EQ_INT(wire_fsm_digest(g), wire_fsm_digest(c.fsm[1]));
    wire_fsm_free(g);
    wire_buf_free(&s);
    cluster_close(&c);
}

TEST(fixture_follower_catches_up_by_snapshot)
{
    cluster c;
    cluster_init(&c, 3, 8, 2);
    raft_index last = propose(&c, 5);
    CHECK(raft_fixture_step_until_applied(&c.f, c.n, last, 5000));
    /* cut follower 2 off; the cluster writes far past the trailing window */
    raft_fixture_disconnect(&c.f, 0, 2);
    raft_fixture_disconnect(&c.f, 1, 2);
    for (int i = 0; i < 60; i++) {
        last = propose(&c, 7);
        raft_fixture_step_n(&c.f, 4);
    }
    CHECK(raft_fixture_step_until_applied(&c.f, 0, last, 10000));
    raft_fixture_step_until_elapsed(&c.f, 500);
    struct raft *lead = raft_fixture_get(&c.f, 0);
    struct raft *lag = raft_fixture_get(&c.f, 2);
    CHECK(lead->log.offset > raft_last_applied(lag)); /* its next entry is gone: snapshot only */
    raft_fixture_reconnect(&c.f, 0, 2);
    raft_fixture_reconnect(&c.f, 1, 2);
    CHECK(raft_fixture_step_until_applied(&c.f, 2, last, 20000));
    CHECK(lag->log.snapshot.last_index > 0);
    CHECK_EQ_INT(wire_fsm_restores(c.fsm[2]), 1); /* installed, not replayed */
    CHECK_EQ_INT(wire_fsm_restores(c.fsm[0]), 0);
    CHECK(all_equal(&c, NMAX));
    CHECK_EQ_INT(wire_fsm_digest(c.fsm[2]), wire_fsm_digest(c.fsm[0]));
    cluster_close(&c);
}

TEST(fixture_leader_crash_and_lossy_links)
{
    cluster c;
    cluster_init(&c, 3, 32, 8);
    raft_index last = 0;
    for (int i = 0; i < 20; i++)
        last = propose(&c, 3);
    CHECK(raft_fixture_step_until_applied(&c.f, c.n, last, 5000));
    /* the leader dies; one of the others takes over and keeps writing */
    raft_fixture_kill(&c.f, 0);
    CHECK(raft_fixture_step_until_has_no_leader(&c.f, 10000));
    CHECK(raft_fixture_step_until_has_leader(&c.f, 10000));
    unsigned li = raft_fixture_leader_index(&c.f);
    CHECK(li == 1 || li == 2);
    /* drop everything from the leader to one follower for a while: writes still commit */
    unsigned other = li == 1 ? 2 : 1;
    for (int i = 0; i < 20; i++)
        last = propose(&c, 3);
    raft_fixture_saturate(&c.f, li, other);
    raft_fixture_step_until_elapsed(&c.f, 300);
    raft_fixture_desaturate(&c.f, li, other);
    raft_fixture_revive(&c.f, 0);
    for (int i = 0; i < 20 && raft_fixture_leader_index(&c.f) < c.n; i++) {
        raft_index x = propose(&c, 3);
        if (x)
            last = x;
        raft_fixture_step_n(&c.f, 2);
    }
    CHECK(raft_fixture_step_until_has_leader(&c.f, 10000));
    last = propose(&c, 1);
    CHECK(last > 0);
    CHECK(raft_fixture_step_until_applied(&c.f, c.n, last, 20000));
    CHECK(all_equal(&c, NMAX));
    cluster_close(&c);
}

static void change_done(struct raft_change *req, int status)
{
    int *st = req->data;
    *st = status;
}

static bool change_finished(struct raft_fixture *f, void *arg)
{
    return *(int *)arg != -1;
}

TEST(fixture_membership_add_promote_remove)
{
    cluster c;
    cluster_init(&c, 3, 16, 4);
    raft_index last = 0;
    for (int i = 0; i < 40; i++) {
        last = propose(&c, 4);
        raft_fixture_step_n(&c.f, 2);
    }
    CHECK(raft_fixture_step_until_applied(&c.f, c.n, last, 10000));
    /* a fourth server joins: added as spare, then made a non-voter (standby) */
    cluster_grow(&c);
    struct raft *n3 = raft_fixture_get(&c.f, 3);
    raft_set_snapshot_threshold(n3, 16);
    raft_set_snapshot_trailing(n3, 4);
    CHECK_EQ_INT(raft_start(n3), 0);
    struct raft *lead = raft_fixture_get(&c.f, raft_fixture_leader_index(&c.f));
    struct raft_change ch;
    int st = -1;
    ch.data = &st;
    CHECK_EQ_INT(raft_add(lead, &ch, 4, "4", change_done), 0);
    CHECK(raft_fixture_step_until(&c.f, change_finished, &st, 5000));
    CHECK_EQ_INT(st, 0);
    st = -1;
    CHECK_EQ_INT(raft_assign(lead, &ch, 4, RAFT_STANDBY, change_done), 0);
    CHECK(raft_fixture_step_until(&c.f, change_finished, &st, 10000));
    CHECK_EQ_INT(st, 0);
    last = propose(&c, 2);
    CHECK(raft_fixture_step_until_applied(&c.f, 3, last, 10000));
    CHECK_EQ_INT(wire_fsm_digest(c.fsm[3]), wire_fsm_digest(c.fsm[0]));
    /* promoted to voter */
    st = -1;
    CHECK_EQ_INT(raft_assign(lead, &ch, 4, RAFT_VOTER, change_done), 0);
    CHECK(raft_fixture_step_until(&c.f, change_finished, &st, 10000));
    CHECK_EQ_INT(st, 0);
    /* a voter is removed; the others keep committing */
    st = -1;
    CHECK_EQ_INT(raft_remove(lead, &ch, 3, change_done), 0);
    CHECK(raft_fixture_step_until(&c.f, change_finished, &st, 10000));
    CHECK_EQ_INT(st, 0);
    int voters = 0;
    for (unsigned i = 0; i < lead->configuration.n; i++)
        voters += lead->configuration.servers[i].role == RAFT_VOTER;
    CHECK_EQ_INT(voters, 3);
    last = propose(&c, 2);
    CHECK(raft_fixture_step_until_applied(&c.f, 3, last, 10000));
    CHECK_EQ_INT(wire_fsm_digest(c.fsm[3]), wire_fsm_digest(c.fsm[0]));
    cluster_close(&c);
}

int main(void)
{
    RUN(fsm_kv_batch);
    RUN(fsm_pipeline_tables);
    RUN(fsm_unknown_and_malformed);
    RUN(fsm_snapshot_while_writing);
    RUN(fsm_sessions);
    RUN(snapshot_frame);
    RUN(node_ids);
    RUN(fixture_replicates_deterministically);
    RUN(fixture_snapshots_compact_and_restore);
    RUN(fixture_follower_catches_up_by_snapshot);
    RUN(fixture_leader_crash_and_lossy_links);
    RUN(fixture_membership_add_promote_remove);
    TEST_MAIN_END();
}
