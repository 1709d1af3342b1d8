/*
 * metrics.c — GET /metrics: Prometheus text format (version 0.0.4), every
 * name prefixed wire_, labels pipeline, stage, type. Counters end in
 * _total; the batch latency is a summary with quantiles.
 */
#include <inttypes.h>
#include <string.h>

#include "api/api.h"

/* Label values: escape backslash, quote and newline. */
static void label(wire_buf *b, const char *v)
{
    for (const char *c = v; *c; c++) {
        if (*c == '\\' || *c == '"')
            wire_buf_putc(b, '\\');
        if (*c == '\n') {
            wire_buf_append(b, "\\n", 2);
            continue;
        }
        wire_buf_putc(b, *c);
    }
}

typedef struct metric {
    const char *name;
    const char *type;
    const char *help;
} metric;

static const metric stage_metrics[] = {
    {"wire_stage_events_in_total", "counter", "Events that entered the stage."},
    {"wire_stage_events_out_total", "counter", "Events the stage passed on (sinks: delivered)."},
    {"wire_stage_events_filtered_total", "counter", "Events a transform removed."},
    {"wire_stage_events_dead_lettered_total", "counter", "Events sent to the dead-letter queue."},
    {"wire_stage_events_dropped_total", "counter", "Events dropped by an on_error: drop policy."},
    {"wire_stage_errors_total", "counter", "Per-event errors."},
    {"wire_stage_retries_total", "counter", "Retried sink operations."},
    {"wire_stage_bytes_out_total", "counter", "Bytes the stage passed on."},
};

static uint64_t stage_value(const wire_stage_stats *st, size_t i)
{
    switch (i) {
    case 0: return atomic_load(&st->in);
    case 1: return atomic_load(&st->out);
    case 2: return atomic_load(&st->filtered);
    case 3: return atomic_load(&st->dlq);
    case 4: return atomic_load(&st->dropped);
    case 5: return atomic_load(&st->errors);
    case 6: return atomic_load(&st->retries);
    default: return atomic_load(&st->bytes_out);
    }
}

typedef struct render_ctx {
    wire_buf *b;
    size_t metric; /* index into the metric being rendered */
    int pass;      /* 0: stage metrics, 1.. pipeline metrics */
} render_ctx;

static void stage_lines(wire_pipeline *p, void *arg)
{
    render_ctx *r = arg;
    wire_stage_info st[64];
    size_t n = wire_pipeline_stages(p, st, 64);
    const char *name = wire_pipeline_spec_of(p)->name;
    for (size_t i = 0; i < n; i++) {
        wire_buf_printf(r->b, "%s{pipeline=\"", stage_metrics[r->metric].name);
        label(r->b, name);
        wire_buf_append(r->b, "\",stage=\"", 9);
        label(r->b, st[i].name);
        wire_buf_append(r->b, "\",type=\"", 8);
        label(r->b, st[i].type);
        wire_buf_printf(r->b, "\",kind=\"%s\"} %" PRIu64 "\n", st[i].kind,
                        stage_value(st[i].stats, r->metric));
    }
}

static const metric pipe_metrics[] = {
    {"wire_pipeline_events_in_total", "counter", "Valid events accepted from the source."},
    {"wire_pipeline_events_out_total", "counter", "Events acknowledged by every sink."},
    {"wire_pipeline_events_invalid_total", "counter", "Malformed input rejected at ingest."},
    {"wire_pipeline_events_filtered_total", "counter", "Events removed by transforms."},
    {"wire_pipeline_events_dead_lettered_total", "counter", "Events dead-lettered."},
    {"wire_pipeline_events_dropped_total", "counter", "Events dropped by policy."},
    {"wire_pipeline_bytes_in_total", "counter", "Bytes of valid events accepted."},
    {"wire_pipeline_checkpoints_total", "counter", "Checkpoints saved."},
    {"wire_pipeline_checkpoint_errors_total", "counter", "Checkpoints that could not be saved."},
    {"wire_pipeline_checkpoint_age_seconds", "gauge", "Seconds since the last saved checkpoint."},
    {"wire_pipeline_up", "gauge", "1 while the pipeline runs, 0 once it stopped or failed."},
    {"wire_pipeline_batch_latency_seconds", "summary",
     "Time from ingest to acknowledgement by every sink, per batch."},
};

static void pipe_lines(wire_pipeline *p, void *arg)
{
    render_ctx *r = arg;
    const wire_pipeline_stats *st = wire_pipeline_stats_of(p);
    wire_pipeline_totals_t t;
    wire_pipeline_totals(p, &t);
    const char *name = wire_pipeline_spec_of(p)->name;
    const char *m = pipe_metrics[r->metric].name;
    wire_buf *b = r->b;
    if (r->metric == 11) {
        static const double qs[] = {0.5, 0.9, 0.99};
        for (size_t i = 0; i < 3; i++) {
            wire_buf_printf(b, "%s{pipeline=\"", m);
            label(b, name);
            wire_buf_printf(b, "\",quantile=\"%g\"} %.6f\n", qs[i],
                            (double)wire_hist_quantile(&st->latency_us, qs[i]) / 1e6);
        }
        wire_buf_printf(b, "%s_sum{pipeline=\"", m);
        label(b, name);
        wire_buf_printf(b, "\"} %.6f\n", (double)atomic_load(&st->latency_us.sum) / 1e6);
        wire_buf_printf(b, "%s_count{pipeline=\"", m);
        label(b, name);
        wire_buf_printf(b, "\"} %" PRIu64 "\n", (uint64_t)atomic_load(&st->latency_us.count));
        return;
    }
    double v = 0;
    uint64_t cp_id;
    int64_t cp_ms;
    switch (r->metric) {
    case 0: v = (double)atomic_load(&st->events_in); break;
    case 1: v = (double)atomic_load(&st->events_out); break;
    case 2: v = (double)atomic_load(&st->invalid); break;
    case 3: v = (double)t.filtered; break;
    case 4: v = (double)t.dead_lettered; break;
    case 5: v = (double)t.dropped; break;
    case 6: v = (double)atomic_load(&st->bytes_in); break;
    case 7: v = (double)atomic_load(&st->checkpoints); break;
    case 8: v = (double)atomic_load(&st->checkpoint_errors); break;
    case 9:
        wire_pipeline_checkpoint_info(p, &cp_id, &cp_ms);
        if (cp_ms == 0)
            return; /* no checkpoint yet: no sample */
        v = (double)(wire_now_ms() - cp_ms) / 1000.0;
        break;
    default: v = wire_pipeline_state(p) == WIRE_PIPE_RUNNING ? 1 : 0; break;
    }
    wire_buf_printf(b, "%s{pipeline=\"", m);
    label(b, name);
    wire_buf_printf(b, "\"} %.17g\n", v);
}

void wire_api_metrics(const wire_api_pipelines *src, wire_buf *out)
{
    render_ctx r = {out, 0, 0};
    for (size_t i = 0; i < WIRE_ARRAY_LEN(pipe_metrics); i++) {
        wire_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", pipe_metrics[i].name,
                        pipe_metrics[i].help, pipe_metrics[i].name, pipe_metrics[i].type);
        r.metric = i;
        src->each(src->arg, pipe_lines, &r);
    }
    for (size_t i = 0; i < WIRE_ARRAY_LEN(stage_metrics); i++) {
        wire_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", stage_metrics[i].name,
                        stage_metrics[i].help, stage_metrics[i].name, stage_metrics[i].type);
        r.metric = i;
        src->each(src->arg, stage_lines, &r);
    }
}
