/* test_pipeline.c — the runner through its API with a fake checkpoint store:
 * checkpoints carry monotonic positions ending at the source's end, the
 * final checkpoint covers everything, a store that refuses for good stops
 * the pipeline, a pipeline resumes from the store's checkpoint, and a
 * source is told each saved checkpoint's id and positions
 * (on_checkpoint_committed), never a failed one's. */
#include <pthread.h>
#include <stdlib.h>

#include "connectors/connectors.h"
#include "engine/checkpoint.h"
#include "registry/registry.h"
#include "test.h"

typedef struct fake_store {
    wire_checkpoint_store base;
    int saves;
    int refuse_after; /* 0: never */
    uint64_t last_offset;
    bool monotonic;
    wire_checkpoint last;
} fake_store;

static int fake_save(wire_checkpoint_store *s, const char *pipeline, const wire_checkpoint *cp,
                     wire_err *err)
{
    fake_store *f = (fake_store *)s;
    f->saves++;
    if (f->refuse_after && f->saves > f->refuse_after)
        return wire_errf(err, WIRE_EPERM, "assignment epoch is stale");
    const wire_position *p = wire_checkpoint_position(cp, 0);
    uint64_t off = p ? p->offset : 0;
    if (off < f->last_offset)
        f->monotonic = false;
    f->last_offset = off;
    /* keep a copy through the real encoding, as a store would */
    wire_buf b;
    wire_buf_init(&b);
    wire_checkpoint_encode(cp, pipeline, &b);
    wire_checkpoint_clear(&f->last);
    wire_checkpoint_decode(b.p, b.len, &f->last, err);
    wire_buf_free(&b);
    return 0;
}

static int fake_load(wire_checkpoint_store *s, const char *pipeline, wire_checkpoint *out,
                     wire_err *err)
{
    fake_store *f = (fake_store *)s;
    if (f->saves == 0)
        return wire_errf(err, WIRE_ENOTFOUND, "none");
    wire_buf b;
    wire_buf_init(&b);
    wire_checkpoint_encode(&f->last, pipeline, &b);
    int rc = wire_checkpoint_decode(b.p, b.len, out, err);
    wire_buf_free(&b);
    return rc;
}

static int fake_remove(wire_checkpoint_store *s, const char *pipeline, wire_err *err)
{
    return 0;
}
static void fake_free(wire_checkpoint_store *s) {}

static void fake_init(fake_store *f)
{
    memset(f, 0, sizeof(*f));
    f->base = (wire_checkpoint_store){fake_save, fake_load, fake_remove, fake_free, NULL};
    f->monotonic = true;
    wire_checkpoint_init(&f->last);
}

static wire_pipeline *make(const char *doc, fake_store *f)
{
    wire_diags d = {0};
    wire_pipeline_spec *spec = NULL;
    wire_spec_load_mem(&wire_default_registry, "t.yaml", doc, strlen(doc), &spec, &d);
    if (d.n) {
        wire_diags_print(&d, stderr);
        wire_diags_free(&d);
        wire_spec_free(spec);
        return NULL;
    }
    wire_engine_opts opts = {.data_dir = "/tmp", .store = f ? &f->base : NULL};
    wire_pipeline *p = NULL;
    wire_err err;
    if (wire_pipeline_new(spec, &opts, &p, &err) != 0) {
        fprintf(stderr, "pipeline_new: %s\n", err.msg);
        wire_pipeline_free(p);
        return NULL;
    }
    return p;
}

static const char *slow_gen = "name: t\n"
                              "source: {type: generate, config: {count: 20000, rate: 40000}}\n"
                              "sink: {type: blackhole}\n"
                              "checkpoint: {interval: 20ms}\n";

TEST(checkpoints_monotonic_and_final)
{
    fake_store f;
    fake_init(&f);
    wire_pipeline *p = make(slow_gen, &f);
    CHECK(p != NULL);
    if (!p)
        return;
    wire_err err;
    wire_pipeline_start(p, &err);
    CHECK_EQ_INT(wire_pipeline_wait(p), WIRE_PIPE_FINISHED);
    CHECK(f.saves >= 5); /* initial + periodic + final */
    CHECK(f.monotonic);
    CHECK_EQ_INT(f.last_offset, 20000); /* the final checkpoint covers everything */
    CHECK_EQ_INT(wire_checkpoint_position(&f.last, 0)->offset, 20000);
    CHECK_EQ_INT(atomic_load(&wire_pipeline_stats_of(p)->events_out), 20000);
    wire_pipeline_free(p);

    /* a new run resumes at the end: nothing more to do */
    p = make(slow_gen, &f);
    wire_pipeline_start(p, &err);
    CHECK_EQ_INT(wire_pipeline_wait(p), WIRE_PIPE_FINISHED);
    CHECK_EQ_INT(atomic_load(&wire_pipeline_stats_of(p)->events_in), 0);
    wire_pipeline_free(p);
    wire_checkpoint_clear(&f.last);
}

TEST(refused_checkpoint_stops_pipeline)
{
    fake_store f;
    fake_init(&f);
    f.refuse_after = 2;
    wire_pipeline *p = make(slow_gen, &f);
    CHECK(p != NULL);
    if (!p)
        return;
    wire_err err;
    wire_pipeline_start(p, &err);
    CHECK_EQ_INT(wire_pipeline_wait(p), WIRE_PIPE_FAILED);
    CHECK(strstr(wire_pipeline_error(p), "assignment epoch is stale") != NULL);
    CHECK(atomic_load(&wire_pipeline_stats_of(p)->events_in) < 20000);
    wire_pipeline_free(p);
    wire_checkpoint_clear(&f.last);
}

TEST(stop_drains_and_checkpoints)
{
    fake_store f;
    fake_init(&f);
    const char *unbounded = "name: u\n"
                            "source: {type: generate, config: {rate: 100000}}\n"
                            "sink: {type: blackhole}\n";
    wire_pipeline *p = make(unbounded, &f);
    CHECK(p != NULL);
    if (!p)
        return;
    wire_err err;
    wire_pipeline_start(p, &err);
    wire_sleep_ms(150);
    wire_pipeline_stop(p);
    CHECK_EQ_INT(wire_pipeline_wait(p), WIRE_PIPE_STOPPED);
    uint64_t out = atomic_load(&wire_pipeline_stats_of(p)->events_out);
    CHECK(out > 0);
    /* the final checkpoint is exactly what was delivered */
    CHECK_EQ_INT(f.last_offset, out);
    wire_pipeline_free(p);
    wire_checkpoint_clear(&f.last);
}

/* ---- sink-owned positions (WIRE_CAP_EO_POSITIONS) ---- */

/* A sink that owns positions: it records what each barrier hands it, and
   on start answers with `recover` (if set). */
typedef struct owner_sink {
    uint64_t ids[256];
    uint64_t offsets[256];
    int commits;
    bool has_recover;
    uint64_t recover_id;
    wire_position recover;
} owner_sink;
static owner_sink owner;

static int owner_create(void **self, const void *config, const wire_component_env *env,
                        wire_err *err)
{
    *self = &owner;
    return 0;
}
static void owner_destroy(void *self) {}
static int owner_write(void *self, const wire_batch *b, wire_err *err)
{
    return 0;
}
static int owner_flush(void *self, wire_err *err)
{
    return 0;
}
static int owner_commit(void *self, uint64_t id, const wire_position *pos, size_t npos,
                        wire_err *err)
{
    owner_sink *o = self;
    if (o->commits < 256) {
        o->ids[o->commits] = id;
        o->offsets[o->commits] = npos ? pos[0].offset : 0;
    }
    o->commits++;
    return 0;
}
static int owner_recover(void *self, uint64_t *id, wire_position **pos, size_t *npos, wire_err *err)
{
    owner_sink *o = self;
    *npos = 0;
    *pos = NULL;
    if (!o->has_recover)
        return 0;
    *id = o->recover_id;
    *pos = wire_xmalloc(sizeof(wire_position));
    **pos = o->recover;
    *npos = 1;
    return 0;
}
static const wire_option no_options[] = {{NULL}};
static const wire_sink_def owner_def = {
    .base = {WIRE_KIND_SINK, "owner", "test", no_options, 0, WIRE_CAP_EO_POSITIONS, owner_create,
             owner_destroy},
    .write = owner_write,
    .flush = owner_flush,
    .commit_positions = owner_commit,
    .recover_positions = owner_recover,
};

/* the saved checkpoints' offsets by id, to compare with the sink's commits */
static uint64_t saved_offset[1024];
static int owner_store_save(wire_checkpoint_store *s, const char *pipeline,
                            const wire_checkpoint *cp, wire_err *err)
{
    const wire_position *p = wire_checkpoint_position(cp, 0);
    if (cp->id < 1024)
        saved_offset[cp->id] = p ? p->offset + 1 : 0; /* +1: 0 means "not saved" */
    return fake_save(s, pipeline, cp, err);
}

static wire_pipeline *make_owned(const char *doc, fake_store *f)
{
    const wire_component_def *defs[] = {&wire_source_generate.base, &owner_def.base, NULL};
    wire_registry r = {defs};
    wire_diags d = {0};
    wire_pipeline_spec *spec = NULL;
    wire_spec_load_mem(&r, "t.yaml", doc, strlen(doc), &spec, &d);
    if (d.n) {
        wire_diags_print(&d, stderr);
        wire_diags_free(&d);
        wire_spec_free(spec);
        return NULL;
    }
    wire_engine_opts opts = {.data_dir = "/tmp", .store = &f->base};
    wire_pipeline *p = NULL;
    wire_err err;
    if (wire_pipeline_new(spec, &opts, &p, &err) != 0) {
        fprintf(stderr, "pipeline_new: %s\n", err.msg);
        wire_pipeline_free(p);
        return NULL;
    }
    return p;
}

TEST(sink_owned_positions)
{
    fake_store f;
    fake_init(&f);
    f.base.save = owner_store_save;
    memset(&owner, 0, sizeof(owner));
    memset(saved_offset, 0, sizeof(saved_offset));
    const char *doc = "name: t\n"
                      "source: {type: generate, config: {count: 20000, rate: 40000}}\n"
                      "sink: {type: owner}\n"
                      "delivery: exactly-once\n"
                      "checkpoint: {interval: 20ms}\n";
    wire_pipeline *p = make_owned(doc, &f);
    CHECK(p != NULL);
    if (!p)
        return;
    wire_err err;
    wire_pipeline_start(p, &err);
    CHECK_EQ_INT(wire_pipeline_wait(p), WIRE_PIPE_FINISHED);
    wire_pipeline_free(p);
    /* every barrier reached the sink with the positions its checkpoint then held */
    CHECK(owner.commits >= 3);
    int agree = 0;
    for (int i = 0; i < owner.commits && i < 256; i++)
        if (owner.ids[i] < 1024 && saved_offset[owner.ids[i]] == owner.offsets[i] + 1)
            agree++;
    CHECK_EQ_INT(agree, owner.commits);
    CHECK_EQ_INT(owner.offsets[owner.commits - 1], 20000);
    CHECK_EQ_INT(f.last_offset, 20000);

    /* the sink committed checkpoint N+1 at 25000 but the store kept only N (a crash
       between the two): the sink's position wins, and ids go on after N+1 */
    uint64_t last_id = f.last.id;
    owner.has_recover = true;
    owner.recover_id = last_id + 1;
    owner.recover = *wire_checkpoint_position(&f.last, 0);
    owner.recover.offset = 25000;
    owner.commits = 0;
    const char *more = "name: t\n"
                       "source: {type: generate, config: {count: 30000, rate: 100000}}\n"
                       "sink: {type: owner}\n"
                       "delivery: exactly-once\n"
                       "checkpoint: {interval: 20ms}\n";
    p = make_owned(more, &f);
    CHECK(p != NULL);
    if (!p)
        return;
    wire_pipeline_start(p, &err);
    CHECK_EQ_INT(wire_pipeline_wait(p), WIRE_PIPE_FINISHED);
    CHECK_EQ_INT(atomic_load(&wire_pipeline_stats_of(p)->events_in), 5000);
    wire_pipeline_free(p);
    CHECK(owner.commits >= 1);
    CHECK(owner.ids[0] > last_id + 1);
    CHECK_EQ_INT(f.last_offset, 30000);

    /* exactly-once with such a sink beside another: refused */
    wire_diags d = {0};
    wire_pipeline_spec *spec = NULL;
    const wire_component_def *defs[] = {&wire_source_generate.base, &owner_def.base, NULL};
    wire_registry r = {defs};
    const char *two = "name: t\nsource: {type: generate}\n"
                      "sinks: [{type: owner}, {type: owner}]\ndelivery: exactly-once\n";
    wire_spec_load_mem(&r, "t.yaml", two, strlen(two), &spec, &d);
    CHECK(d.n >= 1);
    CHECK(d.n && strstr(d.v[0].msg, "must be the pipeline's only sink") != NULL);
    wire_diags_free(&d);
    wire_spec_free(spec);
    wire_checkpoint_clear(&f.last);
}

/* ---- on_checkpoint_committed: a fake source that records what it is told ---- */

#define NOTE_MAX 4096
#define NOTE_SPLITS 2

typedef struct note {
    uint64_t id;
    size_t npos;
    wire_position pos[NOTE_SPLITS];
} note;

/* What the source was told, and what the store saved or failed to save. */
static pthread_mutex_t note_lock = PTHREAD_MUTEX_INITIALIZER;
static note told[NOTE_MAX], saved[NOTE_MAX];
static uint64_t failed[NOTE_MAX];
static size_t ntold, nsaved, nfailed;

static void note_add(note *v, size_t *n, uint64_t id, const wire_position *pos, size_t npos)
{
    if (*n == NOTE_MAX || npos > NOTE_SPLITS)
        return;
    note *x = &v[(*n)++];
    x->id = id;
    x->npos = npos;
    if (npos)
        memcpy(x->pos, pos, npos * sizeof(*pos));
}

#define REC_BATCHES 60

static int rec_create(void **self, const void *config, const wire_component_env *env, wire_err *err)
{
    *self = wire_xcalloc(1, 1);
    return 0;
}

/* Two splits; a batch a few ms apart, so that many checkpoints fall between them. */
static int rec_run(void *self, wire_source_ctx *ctx, wire_err *err)
{
    for (uint64_t k = 1; k <= REC_BATCHES && !wire_source_stopping(ctx); k++) {
        wire_batch *b = wire_source_batch(ctx);
        wire_event *e = wire_batch_push(b, "{\"k\":1}", 7);
        e->split = (uint32_t)(k % 2);
        e->offset = k;
        wire_position pos = {.split = (uint32_t)(k % 2), .identity = {7, k % 2}, .offset = k};
        wire_batch_set_position(b, &pos);
        int rc = wire_source_emit(ctx, b, true);
        if (rc != 0)
            return rc;
        wire_sleep_ms(3);
    }
    return 0;
}

static void rec_committed(void *self, uint64_t id, const wire_position *pos, size_t npos)
{
    pthread_mutex_lock(&note_lock);
    note_add(told, &ntold, id, pos, npos);
    pthread_mutex_unlock(&note_lock);
}

static const wire_option rec_options[] = {{NULL}};
static const wire_source_def rec_source = {
    .base = {WIRE_KIND_SOURCE, "rec", "records its commit notifications", rec_options, 0,
             WIRE_CAP_BOUNDED | WIRE_CAP_REPLAYABLE, rec_create, free},
    .run = rec_run,
    .on_checkpoint_committed = rec_committed,
};
static const wire_component_def *const rec_components[] = {&rec_source.base,
                                                           &wire_sink_blackhole.base, NULL};
static const wire_registry rec_registry = {rec_components};

/* Every batch of both splits is in cp. */
static bool rec_complete(const wire_checkpoint *cp)
{
    const wire_position *a = wire_checkpoint_position(cp, 0), *b = wire_checkpoint_position(cp, 1);
    return a && b && a->offset == REC_BATCHES && b->offset == REC_BATCHES - 1;
}

/* Every third save fails (transiently: the pipeline goes on), but not the one holding
   everything, so that the last notification is predictable. */
static int flaky_save(wire_checkpoint_store *s, const char *pipeline, const wire_checkpoint *cp,
                      wire_err *err)
{
    pthread_mutex_lock(&note_lock);
    bool fail = (nsaved + nfailed) % 3 == 2 && !rec_complete(cp);
    if (fail && nfailed < NOTE_MAX)
        failed[nfailed++] = cp->id;
    else if (!fail)
        note_add(saved, &nsaved, cp->id, cp->pos, cp->npos);
    pthread_mutex_unlock(&note_lock);
    return fail ? wire_errf(err, WIRE_EIO, "disk full (injected)") : 0;
}

static int none_load(wire_checkpoint_store *s, const char *pipeline, wire_checkpoint *out,
                     wire_err *err)
{
    return wire_errf(err, WIRE_ENOTFOUND, "none");
}

static const note *saved_note(uint64_t id)
{
    for (size_t i = 0; i < nsaved; i++)
        if (saved[i].id == id)
            return &saved[i];
    return NULL;
}

TEST(source_told_each_saved_checkpoint)
{
    ntold = nsaved = nfailed = 0;
    wire_checkpoint_store store = {flaky_save, none_load, fake_remove, fake_free, NULL};
    const char *doc = "name: rec\n"
                      "source: {type: rec}\n"
                      "sink: {type: blackhole}\n"
                      "checkpoint: {interval: 10ms}\n";
    wire_diags d = {0};
    wire_pipeline_spec *spec = NULL;
    wire_spec_load_mem(&rec_registry, "rec.yaml", doc, strlen(doc), &spec, &d);
    CHECK_EQ_INT(d.n, 0);
    wire_diags_free(&d);
    wire_engine_opts opts = {.data_dir = "/tmp", .store = &store};
    wire_pipeline *p = NULL;
    wire_err err;
    CHECK_EQ_INT(wire_pipeline_new(spec, &opts, &p, &err), 0);
    wire_pipeline_start(p, &err);
    CHECK_EQ_INT(wire_pipeline_wait(p), WIRE_PIPE_FINISHED);
    wire_pipeline_free(p);

    CHECK(nfailed >= 2);
    CHECK(ntold >= 3);
    /* every save but the initial one (at start, no positions) was told, in order */
    CHECK_EQ_INT(ntold, nsaved - 1);
    CHECK_EQ_INT(saved[0].npos, 0);
    for (size_t i = 0; i < ntold; i++) {
        if (i)
            CHECK(told[i].id > told[i - 1].id);
        for (size_t f = 0; f < nfailed; f++)
            CHECK(told[i].id != failed[f]);
        /* the positions are exactly those the store saved under that id */
        const note *sv = saved_note(told[i].id);
        CHECK(sv != NULL);
        if (!sv)
            continue;
        CHECK_EQ_INT(told[i].npos, sv->npos);
        for (size_t k = 0; k < sv->npos && k < told[i].npos; k++) {
            CHECK_EQ_INT(told[i].pos[k].split, sv->pos[k].split);
            CHECK_EQ_INT(told[i].pos[k].offset, sv->pos[k].offset);
            CHECK_EQ_INT(told[i].pos[k].identity[1], sv->pos[k].split);
        }
    }
    /* the last (final) checkpoint covers every batch of both splits */
    const note *last = &told[ntold - 1];
    CHECK_EQ_INT(last->npos, 2);
    for (size_t k = 0; k < last->npos; k++)
        CHECK_EQ_INT(last->pos[k].offset, last->pos[k].split ? REC_BATCHES - 1 : REC_BATCHES);
}

int main(void)
{
    wire_log_set_level(WIRE_LOG_WARN);
    RUN(checkpoints_monotonic_and_final);
    RUN(refused_checkpoint_stops_pipeline);
    RUN(stop_drains_and_checkpoints);
    RUN(sink_owned_positions);
    RUN(source_told_each_saved_checkpoint);
    TEST_MAIN_END();
}
