/*
 * status.c — GET /status: the node and its pipelines as JSON.
 */
#include <inttypes.h>
#include <string.h>

#include "api/api.h"
#include "core/json.h"

static void str(wire_buf *b, const char *s)
{
    wire_json_write_str(b, s, strlen(s));
}

typedef struct status_ctx {
    wire_buf *b;
    bool first;
} status_ctx;

static void stage_json(wire_buf *b, const wire_stage_info *s)
{
    const wire_stage_stats *st = s->stats;
    wire_buf_append(b, "{\"kind\":", 8);
    str(b, s->kind);
    wire_buf_append(b, ",\"name\":", 8);
    str(b, s->name);
    wire_buf_append(b, ",\"type\":", 8);
    str(b, s->type);
    wire_buf_printf(b,
                    ",\"in\":%" PRIu64 ",\"out\":%" PRIu64 ",\"filtered\":%" PRIu64
                    ",\"dead_lettered\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"errors\":%" PRIu64
                    ",\"retries\":%" PRIu64 ",\"bytes_out\":%" PRIu64 "}",
                    (uint64_t)atomic_load(&st->in), (uint64_t)atomic_load(&st->out),
                    (uint64_t)atomic_load(&st->filtered), (uint64_t)atomic_load(&st->dlq),
                    (uint64_t)atomic_load(&st->dropped), (uint64_t)atomic_load(&st->errors),
                    (uint64_t)atomic_load(&st->retries), (uint64_t)atomic_load(&st->bytes_out));
}

static void pipeline_json(wire_pipeline *p, void *arg)
{
    status_ctx *c = arg;
    wire_buf *b = c->b;
    const wire_pipeline_spec *spec = wire_pipeline_spec_of(p);
    const wire_pipeline_stats *st = wire_pipeline_stats_of(p);
    wire_pipeline_totals_t t;
    wire_pipeline_totals(p, &t);
    wire_pipe_state state = wire_pipeline_state(p);
    uint64_t cp_id;
    int64_t cp_ms;
    wire_pipeline_checkpoint_info(p, &cp_id, &cp_ms);
    if (!c->first)
        wire_buf_putc(b, ',');
    c->first = false;
    wire_buf_append(b, "{\"name\":", 8);
    str(b, spec->name);
    wire_buf_printf(b, ",\"version\":%" PRIu64 ",\"state\":", wire_pipeline_version(p));
    str(b, wire_pipe_state_name(state));
    if (state == WIRE_PIPE_FAILED) {
        wire_buf_append(b, ",\"error\":", 9);
        str(b, wire_pipeline_error(p));
    }
    wire_buf_append(b, ",\"file\":", 8);
    str(b, spec->file ? spec->file : "");
    wire_buf_append(b, ",\"delivery\":", 12);
    str(b, spec->delivery == WIRE_DELIVERY_EXACTLY_ONCE ? "exactly-once" : "at-least-once");
    wire_buf_printf(b,
                    ",\"events\":{\"in\":%" PRIu64 ",\"out\":%" PRIu64 ",\"invalid\":%" PRIu64
                    ",\"filtered\":%" PRIu64 ",\"dead_lettered\":%" PRIu64 ",\"dropped\":%" PRIu64
                    ",\"errors\":%" PRIu64 ",\"retries\":%" PRIu64 "},\"bytes\":{\"in\":%" PRIu64
                    ",\"out\":%" PRIu64 "}",
                    (uint64_t)atomic_load(&st->events_in), (uint64_t)atomic_load(&st->events_out),
                    (uint64_t)atomic_load(&st->invalid), t.filtered, t.dead_lettered, t.dropped,
                    t.errors, t.retries, (uint64_t)atomic_load(&st->bytes_in),
                    (uint64_t)atomic_load(&st->bytes_out));
    wire_buf_printf(b, ",\"checkpoint\":{\"id\":%" PRIu64 ",\"saved\":%" PRIu64, cp_id,
                    (uint64_t)atomic_load(&st->checkpoints));
    if (cp_ms)
        wire_buf_printf(b, ",\"age_ms\":%" PRId64, wire_now_ms() - cp_ms);
    wire_buf_printf(b, "},\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f},\"stages\":[",
                    (double)wire_hist_quantile(&st->latency_us, 0.5) / 1000.0,
                    (double)wire_hist_quantile(&st->latency_us, 0.99) / 1000.0);
    wire_stage_info stages[64];
    size_t n = wire_pipeline_stages(p, stages, 64);
    for (size_t i = 0; i < n; i++) {
        if (i)
            wire_buf_putc(b, ',');
        stage_json(b, &stages[i]);
    }
    wire_buf_append(b, "]}", 2);
}

void wire_api_status_pipelines(const wire_api_pipelines *src, wire_buf *out)
{
    wire_buf_putc(out, '[');
    status_ctx c = {out, true};
    src->each(src->arg, pipeline_json, &c);
    wire_buf_putc(out, ']');
}

void wire_api_status(const wire_api_pipelines *src, bool pretty, wire_buf *out)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_buf_printf(&b,
                    "{\"node\":{\"mode\":\"standalone\"},\"build\":{\"version\":\"%s\"},"
                    "\"pipelines\":",
                    WIRE_VERSION);
    wire_api_status_pipelines(src, &b);
    wire_buf_putc(&b, '}');
    if (pretty)
        wire_json_pretty(b.p, b.len, out);
    else
        wire_buf_append(out, b.p, b.len);
    wire_buf_free(&b);
}
