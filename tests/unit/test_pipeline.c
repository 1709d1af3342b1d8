/* test_pipeline.c — the runner through its API with a fake checkpoint store:
 * checkpoints carry monotonic positions ending at the source's end, the
 * final checkpoint covers everything, a store that refuses for good stops
 * the pipeline, and a pipeline resumes from the store's checkpoint. */
#include <stdlib.h>

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

int main(void)
{
    wire_log_set_level(WIRE_LOG_WARN);
    RUN(checkpoints_monotonic_and_final);
    RUN(refused_checkpoint_stops_pipeline);
    RUN(stop_drains_and_checkpoints);
    TEST_MAIN_END();
}
