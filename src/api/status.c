/*
 * status.c — the /status document, for `wire run` (node {"mode":
 * "standalone"}) and a cluster node (its id, addresses, leader, Raft and
 * store figures) alike: the pipelines running in this process, with their
 * counters, checkpoint, latency and stages, and the build.
 */
#include <inttypes.h>
#include <string.h>

#include "api/internal.h"

static void stage_json(wire_jw *w, const wire_stage_info *s)
{
    const wire_stage_stats *st = s->stats;
    wire_jw_obj(w);
    wire_jw_kstr(w, "kind", s->kind);
    wire_jw_kstr(w, "name", s->name);
    wire_jw_kstr(w, "type", s->type);
    wire_jw_kuint(w, "in", atomic_load(&st->in));
    wire_jw_kuint(w, "out", atomic_load(&st->out));
    wire_jw_kuint(w, "filtered", atomic_load(&st->filtered));
    wire_jw_kuint(w, "dead_lettered", atomic_load(&st->dlq));
    wire_jw_kuint(w, "dropped", atomic_load(&st->dropped));
    wire_jw_kuint(w, "errors", atomic_load(&st->errors));
    wire_jw_kuint(w, "retries", atomic_load(&st->retries));
    wire_jw_kuint(w, "bytes_out", atomic_load(&st->bytes_out));
    wire_jw_end(w);
}

static void pipeline_json(wire_pipeline *p, void *arg)
{
    wire_jw *w = arg;
    const wire_pipeline_spec *spec = wire_pipeline_spec_of(p);
    const wire_pipeline_stats *st = wire_pipeline_stats_of(p);
    wire_pipeline_totals_t t;
    wire_pipeline_totals(p, &t);
    wire_pipe_state state = wire_pipeline_state(p);
    uint64_t cp_id;
    int64_t cp_ms;
    wire_pipeline_checkpoint_info(p, &cp_id, &cp_ms);
    wire_jw_obj(w);
    wire_jw_kstr(w, "name", spec->name);
    wire_jw_kuint(w, "version", wire_pipeline_version(p));
    wire_jw_kstr(w, "state", wire_pipe_state_name(state));
    if (state == WIRE_PIPE_FAILED)
        wire_jw_kstr(w, "error", wire_pipeline_error(p));
    wire_jw_kstr(w, "file", spec->file ? spec->file : "");
    wire_jw_kstr(w, "delivery",
                 spec->delivery == WIRE_DELIVERY_EXACTLY_ONCE ? "exactly-once" : "at-least-once");
    if (spec->event_time
            .field) { /* the watermark: null before the first event, "+inf" at the end */
        int64_t wm = atomic_load(&st->watermark_ms);
        wire_jw_key(w, "event_time");
        wire_jw_obj(w);
        wire_jw_kstr(w, "field", spec->event_time.field);
        wire_jw_key(w, "watermark_ms");
        if (wm == INT64_MIN)
            wire_jw_null(w);
        else if (wm == INT64_MAX)
            wire_jw_str(w, "+inf");
        else
            wire_jw_int(w, wm);
        wire_jw_end(w);
    }
    wire_jw_key(w, "events");
    wire_jw_obj(w);
    wire_jw_kuint(w, "in", atomic_load(&st->events_in));
    wire_jw_kuint(w, "out", atomic_load(&st->events_out));
    wire_jw_kuint(w, "invalid", atomic_load(&st->invalid));
    wire_jw_kuint(w, "filtered", t.filtered);
    wire_jw_kuint(w, "dead_lettered", t.dead_lettered);
    wire_jw_kuint(w, "dropped", t.dropped);
    wire_jw_kuint(w, "errors", t.errors);
    wire_jw_kuint(w, "retries", t.retries);
    wire_jw_kuint(w, "undelivered", atomic_load(&st->undelivered));
    wire_jw_end(w);
    wire_jw_key(w, "bytes");
    wire_jw_obj(w);
    wire_jw_kuint(w, "in", atomic_load(&st->bytes_in));
    wire_jw_kuint(w, "out", atomic_load(&st->bytes_out));
    wire_jw_end(w);
    wire_jw_key(w, "checkpoint");
    wire_jw_obj(w);
    wire_jw_kuint(w, "id", cp_id);
    wire_jw_kuint(w, "saved", atomic_load(&st->checkpoints));
    if (cp_ms)
        wire_jw_kint(w, "age_ms", wire_now_ms() - cp_ms);
    wire_jw_end(w);
    wire_jw_key(w, "latency_ms");
    wire_jw_obj(w);
    wire_jw_kdouble(w, "p50", (double)wire_hist_quantile(&st->latency_us, 0.5) / 1000.0);
    wire_jw_kdouble(w, "p99", (double)wire_hist_quantile(&st->latency_us, 0.99) / 1000.0);
    wire_jw_end(w);
    wire_jw_key(w, "stages");
    wire_jw_arr(w);
    wire_stage_info stages[64];
    size_t n = wire_pipeline_stages(p, stages, 64);
    for (size_t i = 0; i < n; i++)
        stage_json(w, &stages[i]);
    wire_jw_end(w);
    wire_jw_end(w);
}

void api_render_member(wire_jw *w, const wire_member *m)
{
    wire_jw_kstr(w, "api_addr", m->api_addr);
    wire_jw_kstr(w, "addr", m->raft_addr);
    wire_jw_kbool(w, "voter", m->voter);
}

static void node_json(wire_jw *w, const wire_node_info *i)
{
    wire_jw_key(w, "node");
    wire_jw_obj(w);
    wire_jw_kstr(w, "id", i->id);
    for (size_t k = 0; k < i->nmembers; k++)
        if (strcmp(i->members[k].id, i->id) == 0)
            api_render_member(w, &i->members[k]);
    wire_jw_end(w);
    wire_jw_key(w, "leader");
    wire_jw_obj(w);
    wire_jw_kstr(w, "node_id", i->leader_id);
    wire_jw_kstr(w, "addr", i->leader_addr);
    wire_jw_kstr(w, "api_addr", i->leader_api);
    wire_jw_end(w);
    wire_jw_key(w, "raft");
    wire_jw_obj(w);
    wire_jw_kstr(w, "state", i->state);
    wire_jw_kuint(w, "term", i->term);
    wire_jw_kuint(w, "commit_index", i->commit_index);
    wire_jw_kuint(w, "applied_index", i->applied_index);
    wire_jw_kuint(w, "last_snapshot_index", i->last_snapshot_index);
    wire_jw_kuint(w, "last_log_index", i->last_log_index);
    wire_jw_kint(w, "voters", i->voters);
    wire_jw_kint(w, "non_voters", i->non_voters);
    wire_jw_kuint(w, "leader_changes", i->leader_changes);
    wire_jw_end(w);
    wire_jw_key(w, "store");
    wire_jw_obj(w);
    wire_jw_kuint(w, "kv_keys", i->kv_keys);
    wire_jw_kuint(w, "pipelines", i->pipelines);
    wire_jw_end(w);
}

void api_render_status(const wire_node_info *node, const wire_api_pipelines *src, wire_buf *out)
{
    wire_jw w;
    wire_jw_init(&w, out);
    wire_jw_obj(&w);
    if (node) {
        node_json(&w, node);
    } else {
        wire_jw_key(&w, "node");
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "mode", "standalone");
        wire_jw_end(&w);
    }
    /* the pipelines running in this process (a cluster's all: /v1/pipelines) */
    wire_jw_key(&w, "pipelines");
    wire_jw_arr(&w);
    src->each(src->arg, pipeline_json, &w);
    wire_jw_end(&w);
    wire_jw_key(&w, "build");
    wire_jw_obj(&w);
    wire_jw_kstr(&w, "version", WIRE_VERSION);
    wire_jw_end(&w);
    wire_jw_end(&w);
}
