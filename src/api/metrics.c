/*
 * metrics.c — GET /metrics: Prometheus text format (version 0.0.4), every
 * name prefixed wire_, labels pipeline, stage, type. Counters end in
 * _total; the batch latency is a summary with quantiles. One renderer for
 * `wire run` and a node (which adds its Raft and cluster series).
 */
#include <inttypes.h>
#include <string.h>

#include "api/internal.h"

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
        wire_buf_printf(r->b, "\",stage=\"");
        label(r->b, st[i].name);
        wire_buf_printf(r->b, "\",type=\"");
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
    {"wire_pipeline_watermark_ms", "gauge",
     "event_time: the watermark, ms since the epoch (+Inf once the source ended)."},
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
    case 12: {
        int64_t wm = atomic_load(&st->watermark_ms);
        if (wm == INT64_MIN)
            return; /* no event time, or no event yet: no sample */
        wire_buf_printf(b, "%s{pipeline=\"", m);
        label(b, name);
        if (wm == INT64_MAX)
            wire_buf_printf(b, "\"} +Inf\n");
        else /* exact: ms beyond 2^53 do not survive a double */
            wire_buf_printf(b, "\"} %" PRId64 "\n", wm);
        return;
    }
    default: v = wire_pipeline_state(p) == WIRE_PIPE_RUNNING ? 1 : 0; break;
    }
    wire_buf_printf(b, "%s{pipeline=\"", m);
    label(b, name);
    wire_buf_printf(b, "\"} %.17g\n", v);
}

static void counter(wire_buf *b, const char *name, const char *help, const char *type, uint64_t v)
{
    wire_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name,
                    v);
}

static void node_lines(const wire_node_info *i, wire_buf *b)
{
    counter(b, "wire_raft_term", "Current Raft term.", "gauge", i->term);
    counter(b, "wire_raft_commit_index", "Highest committed log index.", "gauge", i->commit_index);
    counter(b, "wire_raft_applied_index", "Highest log index applied here.", "gauge",
            i->applied_index);
    counter(b, "wire_raft_last_snapshot_index", "Index of the last snapshot.", "gauge",
            i->last_snapshot_index);
    counter(b, "wire_raft_last_log_index", "Index of the last log entry.", "gauge",
            i->last_log_index);
    counter(b, "wire_raft_is_leader", "1 on the leader.", "gauge", strcmp(i->state, "Leader") == 0);
    counter(b, "wire_raft_voters", "Voting members.", "gauge", (uint64_t)i->voters);
    counter(b, "wire_raft_non_voters", "Non-voting members.", "gauge", (uint64_t)i->non_voters);
    counter(b, "wire_raft_leader_changes_total", "Leader changes seen.", "counter",
            i->leader_changes);
    counter(b, "wire_raft_entries_applied_total", "Command entries applied.", "counter",
            i->entries_applied);
    counter(b, "wire_raft_commands_applied_total", "Commands applied (many per entry).", "counter",
            i->commands_applied);
    counter(b, "wire_raft_batches_proposed_total", "Entries proposed here (group commit).",
            "counter", i->batches_proposed);
    counter(b, "wire_raft_commands_proposed_total", "Commands proposed here.", "counter",
            i->commands_proposed);
    counter(b, "wire_raft_snapshots_restored_total", "Snapshots restored (start or install).",
            "counter", i->snapshots_restored);
    counter(b, "wire_cluster_forwarded_total", "Writes forwarded to the leader.", "counter",
            i->forwarded);
    counter(b, "wire_cluster_rpc_in_total", "Cluster RPC requests served.", "counter", i->rpc_in);
    counter(b, "wire_cluster_rpc_out_total", "Cluster RPC requests sent.", "counter", i->rpc_out);
    counter(b, "wire_mux_connections_total", "Connections accepted on the inter-node port.",
            "counter", i->mux_conns);
    counter(b, "wire_mux_unknown_total", "Inter-node connections closed for an unknown byte.",
            "counter", i->mux_unknown);
    counter(b, "wire_kv_keys", "Keys in the replicated KV store.", "gauge", i->kv_keys);
    counter(b, "wire_pipelines", "Pipelines in the replicated state.", "gauge", i->pipelines);
    counter(b, "wire_placement_assignments_total",
            "Pipeline assignments this node proposed as leader.", "counter", i->assignments);
}

static void http_lines(const wire_http_stats *hs, wire_buf *b)
{
    wire_buf_printf(b,
                    "# HELP wire_http_requests_total HTTP requests received by the API.\n"
                    "# TYPE wire_http_requests_total counter\n"
                    "wire_http_requests_total %" PRIu64 "\n"
                    "# HELP wire_http_responses_total HTTP responses by status class.\n"
                    "# TYPE wire_http_responses_total counter\n"
                    "wire_http_responses_total{code=\"2xx\"} %" PRIu64 "\n"
                    "wire_http_responses_total{code=\"4xx\"} %" PRIu64 "\n"
                    "wire_http_responses_total{code=\"5xx\"} %" PRIu64 "\n",
                    (uint64_t)hs->requests, (uint64_t)hs->responses_2xx,
                    (uint64_t)hs->responses_4xx, (uint64_t)hs->responses_5xx);
}

void api_render_metrics(const wire_node_info *node, const wire_api_pipelines *src,
                        const wire_http_stats *http, wire_buf *out)
{
    if (node)
        node_lines(node, out);
    http_lines(http, out);
    /* the pipelines running in this process: the same series for wire run and a node */
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
