/*
 * test_spec.c — whole pipeline documents, good and bad, against a small
 * registry of fake definitions (so these tests do not depend on the real
 * connectors). Every message is checked with its FILE:LINE:COL.
 */
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/engine.h"
#include "test.h"

typedef struct fsrc_cfg {
    char *path;
    int mode;
} fsrc_cfg;
static const wire_option fsrc_opts[] = {
    {"path", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(fsrc_cfg, path), NULL, "Path."},
    {"mode", WIRE_OPT_ENUM, "read", 0, offsetof(fsrc_cfg, mode), "read|tail", "Mode."},
    {0},
};
static const wire_source_def fake_file_src = {
    .base = {.kind = WIRE_KIND_SOURCE,
             .type = "file",
             .summary = "Read a file.",
             .options = fsrc_opts,
             .config_size = sizeof(fsrc_cfg),
             .caps = WIRE_CAP_BOUNDED | WIRE_CAP_REPLAYABLE}};

typedef struct gen_cfg {
    int64_t count;
} gen_cfg;
static const wire_option gen_opts[] = {
    {"count", WIRE_OPT_INT, "0", 0, offsetof(gen_cfg, count), NULL, "Count."},
    {0},
};
static const wire_source_def fake_generate = {
    .base = {.kind = WIRE_KIND_SOURCE,
             .type = "generate",
             .summary = "Generate events.",
             .options = gen_opts,
             .config_size = sizeof(gen_cfg),
             .caps = WIRE_CAP_REPLAYABLE | WIRE_CAP_SPLITTABLE}};

typedef struct filter_cfg {
    wire_expr *where;
} filter_cfg;
static const wire_option filter_opts[] = {
    {"where", WIRE_OPT_EXPR, NULL, WIRE_OPT_REQUIRED, offsetof(filter_cfg, where), NULL, "Cond."},
    {0},
};
static const wire_transform_def fake_filter = {.base = {.kind = WIRE_KIND_TRANSFORM,
                                                        .type = "filter",
                                                        .summary = "Keep matching events.",
                                                        .options = filter_opts,
                                                        .config_size = sizeof(filter_cfg)}};

typedef struct map_cfg {
    wire_select *select;
    wire_strlist drop;
} map_cfg;
static const wire_option map_opts[] = {
    {"select", WIRE_OPT_SELECT, NULL, 0, offsetof(map_cfg, select), NULL, "Fields."},
    {"drop", WIRE_OPT_STRLIST, NULL, 0, offsetof(map_cfg, drop), NULL, "Drop."},
    {0},
};
static const wire_transform_def fake_map = {.base = {.kind = WIRE_KIND_TRANSFORM,
                                                     .type = "map",
                                                     .summary = "Reshape events.",
                                                     .options = map_opts,
                                                     .config_size = sizeof(map_cfg)}};

typedef struct fsink_cfg {
    char *path;
} fsink_cfg;
static const wire_option fsink_opts[] = {
    {"path", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(fsink_cfg, path), NULL, "Path."},
    {0},
};
static const wire_sink_def fake_file_sink = {.base = {.kind = WIRE_KIND_SINK,
                                                      .type = "file",
                                                      .summary = "Write a file.",
                                                      .options = fsink_opts,
                                                      .config_size = sizeof(fsink_cfg),
                                                      .caps = WIRE_CAP_EO_2PC}};

typedef struct http_cfg {
    char *url;
    int64_t batch_events;
} http_cfg;
static const wire_option http_opts[] = {
    {"url", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(http_cfg, url), NULL, "URL."},
    {"batch_events", WIRE_OPT_INT, "500", 0, offsetof(http_cfg, batch_events), NULL, "Batch."},
    {0},
};
static const wire_sink_def fake_http = {.base = {.kind = WIRE_KIND_SINK,
                                                 .type = "http",
                                                 .summary = "POST batches.",
                                                 .options = http_opts,
                                                 .config_size = sizeof(http_cfg)}};

static const wire_option no_opts[] = {{0}};
static const wire_sink_def fake_stdout = {
    .base = {.kind = WIRE_KIND_SINK, .type = "stdout", .summary = "Print.", .options = no_opts}};

/* A source that cannot replay; sinks by the other exactly-once mechanisms. */
static const wire_source_def fake_stdin = {
    .base = {.kind = WIRE_KIND_SOURCE, .type = "stdin", .summary = "Read.", .options = no_opts}};
static const wire_sink_def fake_txn = {.base = {.kind = WIRE_KIND_SINK,
                                                .type = "txn",
                                                .summary = "Commit with positions.",
                                                .options = no_opts,
                                                .caps = WIRE_CAP_EO_POSITIONS}};
static const wire_sink_def fake_idem = {.base = {.kind = WIRE_KIND_SINK,
                                                 .type = "idem",
                                                 .summary = "Upsert by event id.",
                                                 .options = no_opts,
                                                 .caps = WIRE_CAP_IDEMPOTENT}};

static const wire_component_def *const all[] = {
    &fake_file_src.base,
    &fake_generate.base,
    &fake_stdin.base,
    &fake_filter.base,
    &fake_map.base,
    &fake_file_sink.base,
    &fake_http.base,
    &fake_stdout.base,
    &fake_txn.base,
    &fake_idem.base,
    NULL,
};
static const wire_registry reg = {all};

/* Load a document; returns the spec (or NULL) and the diagnostics joined. */
static wire_pipeline_spec *load(const char *doc, int *rc, char *diag, size_t dn)
{
    wire_diags d = {0};
    wire_pipeline_spec *s = NULL;
    *rc = wire_spec_load_mem(&reg, "p.yaml", doc, strlen(doc), &s, &d);
    diag[0] = '\0';
    size_t off = 0;
    for (size_t i = 0; i < d.n && off < dn; i++)
        off += (size_t)snprintf(diag + off, dn - off, "%s%s:%d:%d: %s", i ? "\n" : "", d.v[i].file,
                                d.v[i].line, d.v[i].col, d.v[i].msg);
    wire_diags_free(&d);
    return s;
}

static const char *errors_of(const char *doc)
{
    static char diag[8192];
    int rc;
    wire_pipeline_spec *s = load(doc, &rc, diag, sizeof(diag));
    if (s && rc == 0 && diag[0] == '\0')
        snprintf(diag, sizeof(diag), "ok");
    if ((s != NULL) != (rc == 0))
        snprintf(diag, sizeof(diag), "BUG: rc=%d but spec %s", rc, s ? "set" : "NULL");
    wire_spec_free(s);
    return diag;
}

TEST(design_example)
{
    char diag[4096];
    int rc;
    const char *doc = "name: errors                      # [a-z0-9_-]{1,64}\n"
                      "source:\n"
                      "  type: file\n"
                      "  config: { path: ./app.jsonl, mode: tail }     # read | tail\n"
                      "transforms:\n"
                      "  - type: filter\n"
                      "    config: { where: \"level = 'error' AND latency_ms > 100\" }\n"
                      "  - type: map\n"
                      "    config: { select: \"ts, host, msg AS message, latency_ms * 1000 AS "
                      "latency_us\" }\n"
                      "sink:                             # or `sinks:` with a list\n"
                      "  type: file\n"
                      "  config: { path: ./out/errors.jsonl }\n"
                      "delivery: at-least-once           # or exactly-once where every sink "
                      "supports it\n"
                      "checkpoint: { interval: 1s }\n"
                      "dlq: { type: file, config: { path: ./out/dlq.jsonl } }\n";
    wire_pipeline_spec *s = load(doc, &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(diag, "");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_EQ_STR(s->name, "errors");
    CHECK_EQ_STR(s->file, "p.yaml");
    CHECK_EQ_STR(s->source.type, "file");
    CHECK_EQ_STR(s->source.name, "source");
    CHECK(s->source.def == &fake_file_src);
    CHECK_EQ_INT(s->source.line, 3);
    CHECK_EQ_INT(s->source.col, 3);
    const fsrc_cfg *fc = s->source.config;
    CHECK_EQ_STR(fc->path, "./app.jsonl");
    CHECK_EQ_INT(fc->mode, 1);
    CHECK_EQ_INT(s->ntransforms, 2);
    CHECK_EQ_STR(s->transforms[0].type, "filter");
    CHECK_EQ_STR(s->transforms[0].name, "transforms[0]");
    CHECK_EQ_INT(s->transforms[0].on_error, WIRE_ON_ERROR_DROP);
    CHECK(((const filter_cfg *)s->transforms[0].config)->where != NULL);
    CHECK_EQ_STR(s->transforms[1].name, "transforms[1]");
    CHECK(((const map_cfg *)s->transforms[1].config)->select != NULL);
    CHECK_EQ_INT(s->nsinks, 1);
    CHECK_EQ_STR(s->sinks[0].name, "sink");
    CHECK_EQ_STR(((const fsink_cfg *)s->sinks[0].config)->path, "./out/errors.jsonl");
    CHECK_EQ_STR(s->dlq.type, "file");
    CHECK_EQ_STR(s->dlq.name, "dlq");
    CHECK(s->dlq.def == &fake_file_sink);
    CHECK_EQ_INT(s->delivery, WIRE_DELIVERY_AT_LEAST_ONCE);
    CHECK_EQ_INT(s->checkpoint_interval_ms, 1000);
    CHECK_EQ_INT(s->shutdown_timeout_ms, 10000);
    CHECK_EQ_INT(s->queue_bytes, 8 << 20);
    CHECK_EQ_INT(s->batch_events, 4096);
    CHECK(s->hash == wire_hash64(doc, strlen(doc), 0));
    wire_spec_free(s);
}

TEST(json_document_and_options)
{
    char diag[4096];
    int rc;
    const char *doc = "{\n"
                      "\t\"name\": \"api-2\",\n"
                      "\t\"source\": {\"type\": \"generate\", \"config\": {\"count\": 100}},\n"
                      "\t\"sinks\": [\n"
                      "\t\t{\"type\": \"file\", \"name\": \"Out_1\", \"config\": {\"path\": "
                      "\"/tmp/o\"}},\n"
                      "\t\t{\"type\": \"file\", \"config\": {\"path\": \"/tmp/p\"}}\n"
                      "\t],\n"
                      "\t\"delivery\": \"exactly-once\",\n"
                      "\t\"checkpoint\": {\"interval\": \"250ms\"},\n"
                      "\t\"shutdown_timeout\": \"2m\",\n"
                      "\t\"buffer\": {\"max_bytes\": \"64KB\", \"batch_events\": 128}\n"
                      "}\n";
    wire_pipeline_spec *s = load(doc, &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(diag, "");
    if (!s)
        return;
    CHECK_EQ_STR(s->name, "api-2");
    CHECK_EQ_INT(((const gen_cfg *)s->source.config)->count, 100);
    CHECK_EQ_INT(s->ntransforms, 0);
    CHECK_EQ_INT(s->nsinks, 2);
    CHECK_EQ_STR(s->sinks[0].name, "Out_1");
    CHECK_EQ_STR(s->sinks[1].name, "sinks[1]");
    CHECK(s->dlq.type == NULL);
    CHECK_EQ_INT(s->delivery, WIRE_DELIVERY_EXACTLY_ONCE);
    CHECK_EQ_INT(s->checkpoint_interval_ms, 250);
    CHECK_EQ_INT(s->shutdown_timeout_ms, 120000);
    CHECK_EQ_INT(s->queue_bytes, 65536);
    CHECK_EQ_INT(s->batch_events, 128);
    wire_spec_free(s);

    /* no config on a type without required options; on_error values */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "transforms:\n"
                           "  - {type: map, on_error: fail}\n"
                           "  - {type: map, on_error: dlq, config: {drop: x}}\n"
                           "sink: {type: stdout}\n"
                           "dlq: {type: stdout}\n"),
                 "ok");
    s = load("name: a\nsource: {type: generate}\n"
             "transforms: [{type: map, on_error: fail}, {type: map, on_error: dlq}]\n"
             "sink: {type: stdout, config: }\ndlq: {type: stdout}\n",
             &rc, diag, sizeof(diag));
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(s->transforms[0].on_error, WIRE_ON_ERROR_FAIL);
        CHECK_EQ_INT(s->transforms[1].on_error, WIRE_ON_ERROR_DLQ);
    }
    wire_spec_free(s);
    /* an empty transforms list, and transforms: with nothing */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\ntransforms: []\n"
                           "sink: {type: stdout}\n"),
                 "ok");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\ntransforms:\n"
                           "sink: {type: stdout}\n"),
                 "ok");
}

TEST(top_level_errors)
{
    CHECK_EQ_STR(errors_of(""),
                 "p.yaml:1:1: empty pipeline: expected a map with name, source and sink");
    CHECK_EQ_STR(errors_of("- a\n"),
                 "p.yaml:1:1: a pipeline must be a map with name, source and sink, got a list");
    CHECK_EQ_STR(errors_of("source: {type: generate}\n"),
                 "p.yaml:1:1: missing required key 'name'\n"
                 "p.yaml:1:1: missing required key 'sink' (or 'sinks' with a list)");
    CHECK_EQ_STR(errors_of("name: a\n"), "p.yaml:1:1: missing required key 'source'\n"
                                         "p.yaml:1:1: missing required key 'sink' (or 'sinks' "
                                         "with a list)");
    CHECK_EQ_STR(errors_of("name: Errors Pipeline\nsource: {type: generate}\n"
                           "sink: {type: stdout}\n"),
                 "p.yaml:1:7: pipeline name 'Errors Pipeline' must match [a-z0-9_-]{1,64}");
    CHECK_EQ_STR(errors_of("name: [a]\nsource: {type: generate}\nsink: {type: stdout}\n"),
                 "p.yaml:1:7: pipeline name must match [a-z0-9_-]{1,64}, got a list");
    CHECK_EQ_STR(errors_of("name: "
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
                           "source: {type: generate}\nsink: {type: stdout}\n"),
                 "p.yaml:1:7: pipeline name "
                 "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' must match "
                 "[a-z0-9_-]{1,64}");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "sinkz: 1\ndeliver: exactly-once\nfoo: 1\n"),
                 "p.yaml:4:1: unknown key 'sinkz' (did you mean 'sink'?)\n"
                 "p.yaml:5:1: unknown key 'deliver' (did you mean 'delivery'?)\n"
                 "p.yaml:6:1: unknown key 'foo' (keys are: name, source, transforms, sink, "
                 "sinks, delivery, checkpoint, dlq, shutdown_timeout, buffer, placement, "
                 "parallelism)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "sinks: [{type: stdout}]\n"),
                 "p.yaml:4:1: use either 'sink' or 'sinks', not both");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsinks: []\n"),
                 "p.yaml:3:8: sinks must be a non-empty list of components");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsinks: {type: stdout}\n"),
                 "p.yaml:3:8: sinks must be a list of components, got a map");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink:\n"),
                 "p.yaml:3:6: missing required key 'sink' (or 'sinks' with a list)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\ntransforms: {type: map}\n"
                           "sink: {type: stdout}\n"),
                 "p.yaml:3:13: transforms must be a list of components, got a map");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "delivery: at-most-once\n"),
                 "p.yaml:4:11: delivery must be one of at-least-once, exactly-once, got "
                 "'at-most-once'");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "delivery: {a: 1}\n"),
                 "p.yaml:4:11: delivery must be one of at-least-once, exactly-once, got a map");
}

TEST(tuning_errors)
{
    const char *head = "name: a\nsource: {type: generate}\nsink: {type: stdout}\n";
    char doc[1024];
    snprintf(doc, sizeof(doc), "%scheckpoint: {interval: soon, every: 1s}\n", head);
    CHECK_EQ_STR(
        errors_of(doc),
        "p.yaml:4:24: checkpoint: option 'interval' expects a duration like 500ms, 10s, "
        "2m or 1h, got 'soon'\n"
        "p.yaml:4:30: checkpoint: unknown option 'every' (options are: interval, enabled)");
    snprintf(doc, sizeof(doc), "%scheckpoint: {interval: 0s}\n", head);
    CHECK_EQ_STR(errors_of(doc), "p.yaml:4:24: checkpoint: option 'interval' must be at least 1ms");
    snprintf(doc, sizeof(doc), "%scheckpoint: 5s\n", head);
    CHECK_EQ_STR(errors_of(doc),
                 "p.yaml:4:13: checkpoint: config must be a map of options, got a value");
    snprintf(doc, sizeof(doc), "%sshutdown_timeout: forever\n", head);
    CHECK_EQ_STR(errors_of(doc),
                 "p.yaml:4:19: shutdown_timeout expects a duration like 500ms, 10s, 2m or 1h, "
                 "got 'forever'");
    snprintf(doc, sizeof(doc), "%sshutdown_timeout: [1]\n", head);
    CHECK_EQ_STR(errors_of(doc), "p.yaml:4:19: shutdown_timeout expects a duration like 500ms, "
                                 "10s, 2m or 1h, got a list");
    snprintf(doc, sizeof(doc), "%sbuffer: {max_bytes: 100, batch_events: 0, max_byte: 1}\n", head);
    CHECK_EQ_STR(errors_of(doc),
                 "p.yaml:4:21: buffer: option 'max_bytes' must be at least 4KB\n"
                 "p.yaml:4:40: buffer: option 'batch_events' must be between 1 and 1000000\n"
                 "p.yaml:4:43: buffer: unknown option 'max_byte' (did you mean 'max_bytes'?)");
    snprintf(doc, sizeof(doc), "%sbuffer: {batch_events: lots}\n", head);
    CHECK_EQ_STR(errors_of(doc),
                 "p.yaml:4:24: buffer: option 'batch_events' expects an integer, got 'lots'");
}

TEST(component_errors)
{
    /* unknown types name the known ones */
    CHECK_EQ_STR(
        errors_of("name: a\nsource: {type: fil}\nsink: {type: kafka}\n"),
        "p.yaml:2:16: unknown source type 'fil' (did you mean 'file'? source types: "
        "file, generate, stdin)\n"
        "p.yaml:3:14: unknown sink type 'kafka' (sink types: file, http, stdout, txn, idem)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "transforms: [{type: grep}]\nsink: {type: stdout}\n"),
                 "p.yaml:3:21: unknown transform type 'grep' (transform types: filter, map)");
    CHECK_EQ_STR(
        errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                  "dlq: {type: nope}\n"),
        "p.yaml:4:13: unknown sink type 'nope' (sink types: file, http, stdout, txn, idem)");
    /* missing type, bad shapes */
    CHECK_EQ_STR(errors_of("name: a\nsource: {config: {count: 1}}\nsink: {type: stdout}\n"),
                 "p.yaml:2:9: source: missing required key 'type'");
    CHECK_EQ_STR(errors_of("name: a\nsource: file\nsink: {type: stdout}\n"),
                 "p.yaml:2:9: source must be a map with 'type' and 'config', got a value");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: [file]}\nsink: {type: stdout}\n"),
                 "p.yaml:2:16: source: 'type' must be a type name, got a list");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "transforms: [{type: map}, filter]\nsink: {type: stdout}\n"),
                 "p.yaml:3:27: transforms[1] must be a map with 'type' and 'config', got a value");
    /* keys of a component; options written beside type instead of under config */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: file, path: x}\nsink: {type: stdout, "
                           "confg: {}}\n"),
                 "p.yaml:2:9: source 'file': missing required option 'path'\n"
                 "p.yaml:2:22: source 'file': unknown key 'path': options go under 'config:'\n"
                 "p.yaml:3:22: sink 'stdout': unknown key 'confg' (did you mean 'config'?)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate, on_error: drop}\n"
                           "sink: {type: stdout}\n"),
                 "p.yaml:2:26: source 'generate': unknown key 'on_error' (keys are: type, name, "
                 "config, event_time)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "transforms: [{type: map, on_eror: fail}]\nsink: {type: stdout}\n"),
                 "p.yaml:3:26: transform 'map' (transforms[0]): unknown key 'on_eror' (did you "
                 "mean 'on_error'?)");
    /* on_error */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "transforms: [{type: map, on_error: retry}]\nsink: {type: stdout}\n"),
                 "p.yaml:3:36: transform 'map' (transforms[0]): on_error must be one of drop, "
                 "fail (or stop), dlq, got 'retry'");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "transforms: [{type: map, on_error: dlq}]\nsink: {type: stdout}\n"),
                 "p.yaml:3:36: transform 'map' (transforms[0]): on_error: dlq needs a dead-letter "
                 "sink: add a top-level 'dlq:'");
    /* names */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate, name: 'my source'}\n"
                           "sink: {type: stdout}\n"),
                 "p.yaml:2:32: source 'generate': name must match [A-Za-z0-9_-]{1,64}");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate, name: x}\n"
                           "sinks:\n  - {type: stdout, name: x}\n  - {type: stdout, name: x}\n"),
                 "p.yaml:4:5: duplicate component name 'x' (also used at line 2, column 9)\n"
                 "p.yaml:5:5: duplicate component name 'x' (also used at line 2, column 9)");
    /* many components: repeats found in n log n, reported in document order at the first use */
    {
        wire_buf d;
        wire_buf_init(&d);
        wire_buf_printf(&d, "name: a\nsource: {type: generate, name: t7}\ntransforms:\n");
        for (int i = 0; i < 3000; i++) /* line 4 + i */
            wire_buf_printf(&d, "  - {type: filter, name: t%d, config: {where: 'true'}}\n",
                            i == 2999   ? 10
                            : i == 2500 ? 1500
                                        : i);
        wire_buf_printf(&d, "sink: {type: stdout, name: t10}\n");
        wire_buf_putc(&d, 0);
        CHECK_EQ_STR(errors_of(d.p),
                     "p.yaml:11:5: duplicate component name 't7' (also used at line 2, column 9)\n"
                     "p.yaml:2504:5: duplicate component name 't1500' (also used at line 1504, "
                     "column 5)\n"
                     "p.yaml:3003:5: duplicate component name 't10' (also used at line 14, "
                     "column 5)\n"
                     "p.yaml:3004:7: duplicate component name 't10' (also used at line 14, "
                     "column 5)");
        wire_buf_free(&d);
    }
    /* option errors inside components, with the component named */
    CHECK_EQ_STR(errors_of("name: a\nsource:\n  type: file\n  config:\n    pth: x\n    mode: "
                           "follow\n"
                           "sinks:\n  - type: stdout\n  - type: http\n    config: {url: "
                           "http://x, batch_events: many}\n"),
                 "p.yaml:5:5: source 'file': unknown option 'pth' (did you mean 'path'?)\n"
                 "p.yaml:5:5: source 'file': missing required option 'path'\n"
                 "p.yaml:6:11: source 'file': option 'mode' must be one of read, tail, got "
                 "'follow'\n"
                 "p.yaml:10:43: sink 'http' (sinks[1]): option 'batch_events' expects an "
                 "integer, got 'many'");
    /* missing required option without config: at the component; with `config:` empty: there */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink:\n  type: file\n"),
                 "p.yaml:4:3: sink 'file': missing required option 'path'");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink:\n  type: file\n  config:\n"),
                 "p.yaml:5:10: sink 'file': missing required option 'path'");
    /* expressions: column inside the text */
    const char *e = errors_of("name: a\nsource: {type: generate}\n"
                              "transforms:\n  - type: filter\n    config: {where: \"a = 1 ? 2\"}\n"
                              "sink: {type: stdout}\n");
    CHECK(strncmp(e, "p.yaml:5:28: transform 'filter' (transforms[0]): option 'where': ", 64) == 0);
    e = errors_of("name: a\nsource: {type: generate}\n"
                  "transforms:\n  - type: filter\n    config: {where: \"\"}\n"
                  "sink: {type: stdout}\n");
    CHECK(strncmp(e, "p.yaml:5:22: transform 'filter' (transforms[0]): option 'where': ", 64) == 0);
}

static wire_pipeline_spec *load_ok(const char *doc)
{
    char diag[1024];
    int rc;
    wire_pipeline_spec *s = load(doc, &rc, diag, sizeof(diag));
    if (rc != 0)
        fprintf(stderr, "unexpected: %s\n", diag);
    return s;
}

TEST(parallelism)
{
    wire_pipeline_spec *s = load_ok("name: a\nsource: {type: generate}\nsink: {type: stdout}\n");
    CHECK(s && s->parallelism == 1);
    wire_spec_free(s);
    s = load_ok("name: a\nsource: {type: generate}\nsink: {type: stdout}\nparallelism: 3\n");
    CHECK(s && s->parallelism == 3);
    wire_spec_free(s);
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: file, config: {path: x}}\n"
                           "sink: {type: stdout}\nparallelism: 2\n"),
                 "p.yaml:4:14: parallelism 2 needs a source whose input can be split between "
                 "instances; source 'file' cannot be split (sources that can: generate)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "parallelism: 0\n"),
                 "p.yaml:4:14: parallelism must be a whole number from 1 to 256");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "parallelism: [2]\n"),
                 "p.yaml:4:14: parallelism must be a whole number from 1 to 256");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "parallelism: 2\nplacement: {node: n1}\n"),
                 "p.yaml:4:14: parallelism 2 and placement cannot be combined (placement pins "
                 "the pipeline to one node)");
}

TEST(sink_retry)
{
    char diag[2048];
    int rc;
    wire_pipeline_spec *s =
        load("name: a\nsource: {type: generate}\n"
             "sinks:\n"
             "  - {type: http, config: {url: 'http://c'},\n"
             "     retry: {initial: 50ms, max: 5s, max_attempts: 8, max_elapsed: 2m}}\n"
             "  - {type: stdout}\n"
             "dlq: {type: file, config: {path: d}, retry: {max_attempts: 3}}\n",
             &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(diag, "");
    if (s) {
        CHECK_EQ_INT(s->sinks[0].retry.initial_ms, 50);
        CHECK_EQ_INT(s->sinks[0].retry.max_ms, 5000);
        CHECK_EQ_INT(s->sinks[0].retry.max_attempts, 8);
        CHECK_EQ_INT(s->sinks[0].retry.max_elapsed_ms, 120000);
        /* defaults: wire_retry_policy_default() */
        wire_retry_policy def;
        wire_retry_policy_default(&def);
        CHECK_EQ_INT(s->sinks[1].retry.initial_ms, def.initial_ms);
        CHECK_EQ_INT(s->sinks[1].retry.max_ms, def.max_ms);
        CHECK_EQ_INT(s->sinks[1].retry.max_attempts, def.max_attempts);
        CHECK_EQ_INT(s->sinks[1].retry.max_elapsed_ms, def.max_elapsed_ms);
        CHECK_EQ_INT(s->dlq.retry.max_attempts, 3);
        CHECK_EQ_INT(s->dlq.retry.initial_ms, def.initial_ms);
    }
    wire_spec_free(s);
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sink: {type: stdout, retry: {initial: 1s, max: 10ms}}\n"),
                 "p.yaml:3:48: sink 'stdout': retry: option 'max' must not be less than "
                 "'initial'");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sink: {type: stdout, retry: {initial: 0s, max_attempts: -1}}\n"),
                 "p.yaml:3:39: sink 'stdout': retry: option 'initial' must be at least 1ms");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sink: {type: stdout, retry: {max_attempts: -1}}\n"),
                 "p.yaml:3:44: sink 'stdout': retry: option 'max_attempts' must be 0 (no limit) "
                 "or more");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sink: {type: stdout, retry: {attempts: 3, max: soon}}\n"),
                 "p.yaml:3:30: sink 'stdout': retry: unknown option 'attempts' (did you mean "
                 "'max_attempts'?)\n"
                 "p.yaml:3:48: sink 'stdout': retry: option 'max' expects a duration like 500ms, "
                 "10s, 2m or 1h, got 'soon'");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate, retry: {}}\nsink: {type: stdout}\n"),
                 "p.yaml:2:26: source 'generate': unknown key 'retry' (keys are: type, name, "
                 "config, event_time)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout, retry: 5}\n"),
                 "p.yaml:3:29: sink 'stdout': retry: config must be a map of options, got a "
                 "value");
}

TEST(sink_on_error)
{
    char diag[2048];
    int rc;
    /* default: dlq when there is one, else fail (stop); transforms drop */
    wire_pipeline_spec *s = load("name: a\nsource: {type: generate}\n"
                                 "transforms: [{type: map}]\n"
                                 "sinks: [{type: stdout}, {type: stdout, on_error: drop},"
                                 " {type: stdout, on_error: stop}]\n"
                                 "dlq: {type: stdout}\n",
                                 &rc, diag, sizeof(diag));
    CHECK_EQ_STR(diag, "");
    if (s) {
        CHECK_EQ_INT(s->transforms[0].on_error, WIRE_ON_ERROR_DROP);
        CHECK_EQ_INT(s->sinks[0].on_error, WIRE_ON_ERROR_DLQ);
        CHECK_EQ_INT(s->sinks[1].on_error, WIRE_ON_ERROR_DROP);
        CHECK_EQ_INT(s->sinks[2].on_error, WIRE_ON_ERROR_FAIL);
    }
    wire_spec_free(s);
    s = load("name: a\nsource: {type: generate}\nsink: {type: stdout}\n", &rc, diag, sizeof(diag));
    CHECK(s && s->sinks[0].on_error == WIRE_ON_ERROR_FAIL);
    wire_spec_free(s);
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sink: {type: stdout, on_error: dlq}\n"),
                 "p.yaml:3:32: sink 'stdout': on_error: dlq needs a dead-letter sink: add a "
                 "top-level 'dlq:'");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "dlq: {type: stdout, on_error: drop}\n"),
                 "p.yaml:4:21: dlq 'stdout': unknown key 'on_error' (keys are: type, name, "
                 "config, retry)");
}

TEST(exactly_once)
{
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sinks:\n  - {type: file, config: {path: x}}\n"
                           "  - {type: http, config: {url: 'http://c'}}\n"
                           "  - {type: stdout}\n"
                           "delivery: exactly-once\n"),
                 "p.yaml:5:5: sink 'http' (sinks[1]) cannot honour exactly-once delivery: it "
                 "commits neither in two phases nor with the source positions, so a replay "
                 "after a crash would write twice (sink types that can: file, txn)\n"
                 "p.yaml:6:5: sink 'stdout' (sinks[2]) cannot honour exactly-once delivery: it "
                 "commits neither in two phases nor with the source positions, so a replay "
                 "after a crash would write twice (sink types that can: file, txn)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: stdout}\n"
                           "delivery: exactly-once\n"),
                 "p.yaml:3:7: sink 'stdout' cannot honour exactly-once delivery: it commits "
                 "neither in two phases nor with the source positions, so a replay after a "
                 "crash would write twice (sink types that can: file, txn)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sink: {type: file, config: {path: x}}\ndelivery: exactly-once\n"),
                 "ok");
    /* a source that cannot replay from a checkpointed position */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: stdin}\n"
                           "sink: {type: file, config: {path: x}}\ndelivery: exactly-once\n"),
                 "p.yaml:2:9: source 'stdin' cannot honour exactly-once delivery: it cannot "
                 "replay from a checkpointed position, so after a crash what it handed over "
                 "since the last checkpoint cannot be read again (source types that can: file, "
                 "generate; or use delivery: at-least-once)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: stdin}\n"
                           "sink: {type: file, config: {path: x}}\n"),
                 "ok");
    /* sink-owned positions: one such sink alone is fine ... */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: txn}\n"
                           "delivery: exactly-once\n"),
                 "ok");
    /* ... beside any other sink it is not */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\n"
                           "sinks: [{type: txn}, {type: file, config: {path: x}}]\n"
                           "delivery: exactly-once\n"),
                 "p.yaml:3:9: sink 'txn' (sinks[0]) commits the source positions itself for "
                 "exactly-once delivery, so it must be the pipeline's only sink (its positions "
                 "override the checkpoint on start, which any other sink would be restored "
                 "to)");
    /* idempotent only: pointed at at-least-once */
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: idem}\n"
                           "delivery: exactly-once\n"),
                 "p.yaml:3:7: sink 'idem' cannot honour exactly-once delivery: its writes are "
                 "idempotent (keyed by the event id), not transactional; use delivery: "
                 "at-least-once, where a replay overwrites instead of duplicating (effectively "
                 "once; sink types that are exactly-once: file, txn)");
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate}\nsink: {type: idem}\n"), "ok");
}

TEST(every_problem_at_once)
{
    setenv("WIRE_T_OUT", "/tmp/out", 1);
    unsetenv("WIRE_T_NOPE");
    CHECK_EQ_STR(errors_of("name: bad name\n"
                           "source:\n"
                           "  type: file\n"
                           "  config: {path: '${WIRE_T_NOPE}', mode: tial}\n"
                           "transforms:\n"
                           "  - type: filtre\n"
                           "  - type: map\n"
                           "    config: {drop: [a, {b: 1}]}\n"
                           "sink:\n"
                           "  type: http\n"
                           "  config: {url: '${WIRE_T_OUT}', extra: 1}\n"
                           "delivery: exactly-once\n"
                           "checkpoint: {interval: -1s}\n"),
                 "p.yaml:1:7: pipeline name 'bad name' must match [a-z0-9_-]{1,64}\n"
                 "p.yaml:4:19: environment variable 'WIRE_T_NOPE' is not set (write "
                 "${WIRE_T_NOPE:-default} to give a default)\n"
                 "p.yaml:4:42: source 'file': option 'mode' must be one of read, tail, got "
                 "'tial'\n"
                 "p.yaml:6:11: unknown transform type 'filtre' (did you mean 'filter'? transform "
                 "types: filter, map)\n"
                 "p.yaml:8:24: transform 'map' (transforms[1]): option 'drop' expects a list of "
                 "strings; this item is a map\n"
                 "p.yaml:10:3: sink 'http' cannot honour exactly-once delivery: it commits "
                 "neither in two phases nor with the source positions, so a replay after a "
                 "crash would write twice (sink types that can: file, txn)\n"
                 "p.yaml:11:34: sink 'http': unknown option 'extra' (options are: url, "
                 "batch_events)\n"
                 "p.yaml:13:24: checkpoint: option 'interval' expects a duration like 500ms, 10s, "
                 "2m or 1h, got '-1s'");
}

TEST(syntax_error_stops_there)
{
    CHECK_EQ_STR(errors_of("name: a\nsource: {type: generate\nsink: {type: stdout}\n"),
                 "p.yaml:3:5: YAML syntax error: did not find expected ',' or '}' (while parsing "
                 "a flow mapping at line 2)");
    CHECK_EQ_STR(errors_of("name: a\n---\nname: b\n"),
                 "p.yaml:2:1: a second YAML document: a pipeline file holds exactly one "
                 "pipeline (split it into several files)");
}

/* --max-pipeline-bytes: reported at 1:1 and nothing parsed; --max-transforms: at the
   `transforms` key, alongside every other problem; 0 lifts a limit. */
TEST(limits)
{
    const char *doc = "name: p\n"
                      "source: {type: generate}\n"
                      "transforms:\n"
                      "  - {type: filter, config: {where: 'a = 1'}}\n"
                      "  - {type: filter, config: {wher: 'a = 1'}}\n"
                      "  - {type: filter, config: {where: 'a = 1'}}\n"
                      "sink: {type: stdout}\n";
    wire_diags d = {0};
    wire_pipeline_spec *s = NULL;
    wire_spec_limits lim = {.max_bytes = 10, .max_transforms = 2};
    CHECK_EQ_INT(wire_spec_load_limited(&reg, "p.yaml", doc, strlen(doc), &lim, &s, &d),
                 WIRE_EINVAL);
    CHECK(s == NULL);
    CHECK_EQ_INT(d.n, 1);
    CHECK_EQ_INT(d.v[0].line, 1);
    CHECK_EQ_STR(d.v[0].msg, "the document is 200 bytes; a pipeline document is at most 10 "
                             "(--max-pipeline-bytes)");
    wire_diags_free(&d);

    lim.max_bytes = (int64_t)strlen(doc); /* at the limit is within it */
    CHECK_EQ_INT(wire_spec_load_limited(&reg, "p.yaml", doc, strlen(doc), &lim, &s, &d),
                 WIRE_EINVAL);
    CHECK_EQ_INT(d.n, 3); /* the limit, then the bad key's two problems */
    CHECK_EQ_INT(d.v[0].line, 3);
    CHECK_EQ_INT(d.v[0].col, 1);
    CHECK_EQ_STR(d.v[0].msg, "3 transforms; a pipeline has at most 2 (--max-transforms)");
    CHECK_EQ_INT(d.v[1].line, 5);
    wire_diags_free(&d);

    lim = (wire_spec_limits){.max_transforms = 3};
    const char *ok = "name: p\nsource: {type: generate}\ntransforms:\n"
                     "  - {type: filter, config: {where: 'a = 1'}}\n"
                     "  - {type: filter, config: {where: 'a = 1'}}\n"
                     "  - {type: filter, config: {where: 'a = 1'}}\nsink: {type: stdout}\n";
    CHECK_EQ_INT(wire_spec_load_limited(&reg, "p.yaml", ok, strlen(ok), &lim, &s, &d), 0);
    CHECK_EQ_INT(s->ntransforms, 3);
    wire_spec_free(s);
    lim = (wire_spec_limits){0};
    CHECK_EQ_INT(wire_spec_load_limited(&reg, "p.yaml", doc, strlen(doc), &lim, &s, &d),
                 WIRE_EINVAL);
    CHECK_EQ_INT(d.n, 2); /* only the bad key's */
    wire_diags_free(&d);
}

TEST(load_file)
{
    wire_diags d = {0};
    wire_pipeline_spec *s = NULL;
    CHECK_EQ_INT(wire_spec_load_file(&reg, "/nonexistent/p.yaml", NULL, &s, &d), WIRE_EIO);
    CHECK(s == NULL);
    CHECK_EQ_INT(d.n, 1);
    CHECK_EQ_STR(d.v[0].file, "/nonexistent/p.yaml");
    CHECK_EQ_STR(d.v[0].msg, "cannot open: No such file or directory");
    wire_diags_free(&d);
    CHECK_EQ_INT(wire_spec_load_file(&reg, "/tmp", NULL, &s, &d), WIRE_EIO);
    CHECK_EQ_STR(d.n ? d.v[0].msg : "", "cannot read: Is a directory");
    wire_diags_free(&d);

    char path[] = "/tmp/wire-test-spec-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("name: f\nsource: {type: generate}\nsink: {type: stdout}\n", f);
    fclose(f);
    CHECK_EQ_INT(wire_spec_load_file(&reg, path, NULL, &s, &d), 0);
    CHECK(s && strcmp(s->file, path) == 0);
    CHECK(s && strcmp(s->name, "f") == 0);
    wire_spec_free(s);
    wire_diags_free(&d);
    unlink(path);
    wire_spec_free(NULL);
}

TEST(registry_lookup)
{
    CHECK(wire_registry_source(&reg, "file") == &fake_file_src);
    CHECK(wire_registry_source(&reg, "generate") == &fake_generate);
    CHECK(wire_registry_source(&reg, "nope") == NULL);
    CHECK(wire_registry_transform(&reg, "map") == &fake_map);
    CHECK(wire_registry_transform(&reg, "file") == NULL);
    CHECK(wire_registry_sink(&reg, "stdout") == &fake_stdout);
    CHECK(wire_registry_sink(&reg, "filter") == NULL);
    CHECK(wire_registry_find(&reg, WIRE_KIND_SINK, "file") == &fake_file_sink.base);
    CHECK(wire_registry_find(&reg, WIRE_KIND_SOURCE, "file") == &fake_file_src.base);
    /* one kind at a time, in registry order */
    const wire_component_def *c;
    const char *sinks[8] = {0};
    size_t n = 0;
    for (size_t i = 0; n < 8 && (c = wire_registry_next(&reg, WIRE_KIND_SINK, &i)) != NULL;)
        sinks[n++] = c->type;
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_STR(sinks[0], "file");
    CHECK_EQ_STR(sinks[2], "stdout");
    static const wire_registry empty = {NULL};
    size_t at = 0;
    CHECK(wire_registry_next(&empty, WIRE_KIND_SOURCE, &at) == NULL);
    CHECK(wire_registry_sink(&empty, "stdout") == NULL);
}

int main(void)
{
    RUN(design_example);
    RUN(json_document_and_options);
    RUN(top_level_errors);
    RUN(tuning_errors);
    RUN(component_errors);
    RUN(parallelism);
    RUN(sink_retry);
    RUN(sink_on_error);
    RUN(exactly_once);
    RUN(every_problem_at_once);
    RUN(syntax_error_stops_there);
    RUN(limits);
    RUN(load_file);
    RUN(registry_lookup);
    TEST_MAIN_END();
}
