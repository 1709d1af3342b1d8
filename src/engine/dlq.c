/*
 * dlq.c — dead letters; see dlq.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "engine/dlq.h"

#define DLQ_WRITE_ATTEMPTS 5

struct wire_dlq {
    pthread_mutex_t lock;
    const wire_sink_def *def;
    void *self;
    char *pipeline;
    uint64_t version;
    wire_batch *batch; /* reused: one dead letter at a time */
    wire_buf buf;
    uint64_t written;
};

int wire_dlq_open(wire_dlq **out, const wire_component *c, const wire_component_env *env,
                  uint64_t version, wire_err *err)
{
    wire_dlq *d = wire_xcalloc(1, sizeof(*d));
    d->def = c->def;
    const char *pipeline = env->pipeline;
    int rc = d->def->base.create(&d->self, c->config, env, err);
    if (rc != 0) {
        free(d);
        return rc;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->pipeline = wire_xstrdup(pipeline);
    d->version = version;
    d->batch = wire_batch_new(4096);
    wire_buf_init(&d->buf);
    *out = d;
    return 0;
}

/* Flush and sync one dead letter (the retry loop's step). */
static int dlq_flush(void *arg, wire_err *err)
{
    wire_dlq *d = arg;
    int rc = d->def->flush(d->self, err);
    if (rc == 0 && d->def->sync)
        rc = d->def->sync(d->self, err);
    return rc;
}

int wire_dlq_write(wire_dlq *d, const char *event, size_t len, const char *error, const char *stage,
                   const char *reason, int64_t attempts, int64_t first_failed_ms, wire_err *err)
{
    char when[32];
    wire_time_iso(first_failed_ms ? first_failed_ms : wire_now_ms(), when);
    pthread_mutex_lock(&d->lock);
    wire_buf *b = &d->buf;
    wire_buf_reset(b);
    wire_jw w;
    wire_jw_init(&w, b);
    wire_jw_obj(&w);
    wire_jw_key(&w, "event");
    if (wire_json_validate(event, len, NULL) == 0)
        wire_jw_raw(&w, event, len); /* the original, byte for byte */
    else
        wire_jw_strn(&w, event, len); /* malformed input: as a string, so the record is JSON */
    wire_jw_kstr(&w, "error", error);
    wire_jw_kstr(&w, "stage", stage);
    if (reason)
        wire_jw_kstr(&w, "reason", reason);
    wire_jw_kint(&w, "attempts", attempts);
    wire_jw_kstr(&w, "first_failed_at", when);
    wire_jw_kstr(&w, "pipeline", d->pipeline);
    wire_jw_kuint(&w, "version", d->version);
    wire_jw_end(&w);
    wire_batch_clear(d->batch);
    wire_batch_push(d->batch, b->p, (uint32_t)b->len);
    int rc = d->def->write(d->self, d->batch, err);
    if (rc >= 0) {
        /* the sink keeps what it could not flush: retry the flush, not the write */
        wire_retry r;
        wire_retry_policy pol = {
            .initial_ms = 50, .max_ms = 1000, .max_attempts = DLQ_WRITE_ATTEMPTS};
        wire_retry_init(&r, &pol, d->written + 1);
        wire_retry_loop loop = {dlq_flush, NULL, NULL, d};
        rc = wire_retry_run(&r, &loop, err);
    }
    if (rc == 0)
        d->written++;
    pthread_mutex_unlock(&d->lock);
    if (rc != 0)
        wire_error("pipeline %s: dead-letter queue (%s) failed: %s", d->pipeline, d->def->base.type,
                   err->msg);
    return rc;
}

uint64_t wire_dlq_written(wire_dlq *d)
{
    pthread_mutex_lock(&d->lock);
    uint64_t n = d->written;
    pthread_mutex_unlock(&d->lock);
    return n;
}

void wire_dlq_close(wire_dlq *d)
{
    if (!d)
        return;
    d->def->base.destroy(d->self);
    wire_batch_free(d->batch);
    wire_buf_free(&d->buf);
    free(d->pipeline);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
