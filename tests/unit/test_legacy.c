/*
 * test_legacy.c — the original Wire's connector body (POST /connector/NAME)
 * mapped onto a pipeline document (src/api/legacy.c). The output is checked
 * with cJSON as an oracle and then loaded by the real spec validator with
 * the default registry, the way the API uses it.
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdlib.h>

#include "api/legacy.h"
#include "connectors/connectors.h"
#include "registry/registry.h"
#include "test.h"

/* Map `body`; returns the document (static) or NULL, with the error in *err. */
static const char *map(const char *name, const char *body, wire_err *err)
{
    static wire_buf out;
    wire_buf_free(&out);
    wire_buf_init(&out);
    if (wire_legacy_pipeline(name, body, strlen(body), &out, err) != 0)
        return NULL;
    return out.p;
}

static const char *map_err(const char *body)
{
    static wire_err err;
    memset(&err, 0, sizeof(err));
    if (map("c", body, &err))
        return "no error";
    CHECK_EQ_INT(err.code, WIRE_EINVAL);
    return err.msg;
}

/* Validate with a registry; "ok" or the diagnostics joined by newlines. */
static const char *load_with(const wire_registry *r, const char *doc)
{
    static char diag[4096];
    wire_diags d = {0};
    wire_pipeline_spec *s = NULL;
    int rc = wire_spec_load_mem(r, "connector", doc, strlen(doc), &s, &d);
    size_t off = 0;
    diag[0] = '\0';
    for (size_t i = 0; i < d.n && off < sizeof(diag); i++)
        off += (size_t)snprintf(diag + off, sizeof(diag) - off, "%s%s", i ? "\n" : "", d.v[i].msg);
    if (rc == 0 && d.n == 0)
        snprintf(diag, sizeof(diag), "ok");
    wire_diags_free(&d);
    wire_spec_free(s);
    return diag;
}

static const char *load(const char *doc)
{
    return load_with(&wire_default_registry, doc);
}

static const char *str_at(cJSON *root, const char *a, const char *b, const char *c)
{
    cJSON *x = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    if (c)
        x = cJSON_GetObjectItemCaseSensitive(x, c);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static const char file_to_file[] = "{\"source\":{\"name\":\"in\",\"type\":\"file\",\"key\":\"k1\","
                                   "\"config\":{\"file_path\":\"/tmp/in.jsonl\"}},"
                                   "\"sink\":{\"name\":\"out\",\"type\":\"file\",\"key\":\"\","
                                   "\"config\":{\"file_path\":\"/tmp/out.jsonl\"}}}";

TEST(maps_file_to_file)
{
    wire_err err;
    const char *doc = map("copy", file_to_file, &err);
    CHECK(doc != NULL);
    if (!doc)
        return;
    cJSON *j = cJSON_Parse(doc);
    CHECK(j != NULL);
    CHECK_EQ_STR(str_at(j, "name", NULL, NULL), "copy");
    CHECK_EQ_STR(str_at(j, "source", "type", NULL), "file");
    CHECK_EQ_STR(str_at(j, "source", "name", NULL), "in");
    CHECK_EQ_STR(str_at(j, "source", "config", "path"), "/tmp/in.jsonl");
    CHECK(str_at(j, "source", "config", "file_path") == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(j, "source"), "key") == NULL);
    CHECK_EQ_STR(str_at(j, "sink", "type", NULL), "file");
    CHECK_EQ_STR(str_at(j, "sink", "name", NULL), "out");
    CHECK_EQ_STR(str_at(j, "sink", "config", "path"), "/tmp/out.jsonl");
    CHECK_EQ_INT(cJSON_GetArraySize(j), 3);
    cJSON_Delete(j);
    CHECK_EQ_STR(load(doc), "ok");
}

/* Legacy config values are all strings: Wire's option parser takes quoted
   integers, booleans, durations and sizes (checked with the real generate
   source and a fake one that has every kind). */
TEST(string_values_are_accepted)
{
    wire_err err;
    const char *doc = map("gen",
                          "{\"source\":{\"type\":\"generate\",\"config\":{\"count\":\"10\","
                          "\"rate\":\"5\",\"batch\":\"2\"}},\"sink\":{\"type\":\"stdout\"}}",
                          &err);
    CHECK(doc != NULL);
    CHECK(doc && strstr(doc, "\"count\":\"10\"") != NULL);
    CHECK_EQ_STR(load(doc), "ok");

    doc = map("gen",
              "{\"source\":{\"type\":\"generate\",\"config\":{\"count\":\"ten\"}},"
              "\"sink\":{\"type\":\"stdout\"}}",
              &err);
    CHECK(doc && strstr(load(doc), "option 'count' expects an integer") != NULL);

    doc = map("f",
              "{\"source\":{\"type\":\"file\",\"config\":{\"file_path\":\"/tmp/x\","
              "\"mode\":\"tail\",\"poll_interval\":\"250ms\",\"read_size\":\"64KB\"}},"
              "\"sink\":{\"type\":\"file\",\"config\":{\"file_path\":\"/tmp/y\"}}}",
              &err);
    CHECK_EQ_STR(doc ? load(doc) : err.msg, "ok");
}

typedef struct kinds_cfg {
    int64_t n, d, s;
    bool b;
    double x;
} kinds_cfg;
static const wire_option kinds_opts[] = {
    {"n", WIRE_OPT_INT, "0", 0, offsetof(kinds_cfg, n), NULL, "int"},
    {"b", WIRE_OPT_BOOL, "false", 0, offsetof(kinds_cfg, b), NULL, "bool"},
    {"d", WIRE_OPT_DURATION, "1s", 0, offsetof(kinds_cfg, d), NULL, "duration"},
    {"s", WIRE_OPT_SIZE, "1KB", 0, offsetof(kinds_cfg, s), NULL, "size"},
    {"x", WIRE_OPT_DOUBLE, "0", 0, offsetof(kinds_cfg, x), NULL, "double"},
    {0},
};
static const wire_source_def kinds_src = {.base = {.kind = WIRE_KIND_SOURCE,
                                                   .type = "kinds",
                                                   .summary = "Every option kind.",
                                                   .options = kinds_opts,
                                                   .config_size = sizeof(kinds_cfg)}};

TEST(string_values_every_option_kind)
{
    static const wire_component_def *const all[] = {&kinds_src.base, &wire_sink_stdout.base, NULL};
    const wire_registry reg = {all};
    wire_err err;
    const char *doc =
        map("k",
            "{\"source\":{\"type\":\"kinds\",\"config\":{\"n\":\"100\",\"b\":\"true\","
            "\"d\":\"1s\",\"s\":\"8MB\",\"x\":\"0.5\"}},\"sink\":{\"type\":\"stdout\"}}",
            &err);
    CHECK_EQ_STR(doc ? load_with(&reg, doc) : err.msg, "ok");

    wire_diags d = {0};
    wire_pipeline_spec *s = NULL;
    if (doc && wire_spec_load_mem(&reg, "c", doc, strlen(doc), &s, &d) == 0) {
        const kinds_cfg *c = s->source.config;
        CHECK_EQ_INT(c->n, 100);
        CHECK(c->b);
        CHECK_EQ_INT(c->d, 1000);
        CHECK_EQ_INT(c->s, 8 << 20);
        CHECK(c->x == 0.5);
    }
    wire_spec_free(s);
    wire_diags_free(&d);

    doc = map("k",
              "{\"source\":{\"type\":\"kinds\",\"config\":{\"b\":\"yes\"}},"
              "\"sink\":{\"type\":\"stdout\"}}",
              &err);
    CHECK(doc && strstr(load_with(&reg, doc), "option 'b' expects true or false") != NULL);
    /* Values that are already numbers or booleans pass through too. */
    doc = map("k",
              "{\"source\":{\"type\":\"kinds\",\"config\":{\"n\":7,\"b\":false,\"x\":null}},"
              "\"sink\":{\"type\":\"stdout\"}}",
              &err);
    CHECK_EQ_STR(doc ? load_with(&reg, doc) : err.msg, "ok");
}

TEST(kafka_keys_and_unknown_types)
{
    wire_err err;
    const char *doc = map("k",
                          "{\"source\":{\"name\":\"events\",\"type\":\"kafka\",\"key\":\"x\","
                          "\"config\":{\"bootstrap_servers\":\"b1:9092,b2:9092\","
                          "\"topic\":\"t\",\"group\":\"g\"}},"
                          "\"sink\":{\"type\":\"mongodb\",\"config\":{\"uri\":\"mongodb://m\","
                          "\"database\":\"d\",\"collection\":\"c\"}}}",
                          &err);
    CHECK(doc != NULL);
    if (!doc)
        return;
    cJSON *j = cJSON_Parse(doc);
    /* the original's kafka keys become the kafka source's options */
    CHECK_EQ_STR(str_at(j, "source", "type", NULL), "kafka");
    CHECK_EQ_STR(str_at(j, "source", "config", "brokers"), "b1:9092,b2:9092");
    CHECK_EQ_STR(str_at(j, "source", "config", "topics"), "t");
    CHECK_EQ_STR(str_at(j, "source", "config", "group_id"), "g");
    CHECK_EQ_STR(str_at(j, "sink", "config", "uri"), "mongodb://m");
    CHECK_EQ_STR(str_at(j, "sink", "config", "database"), "d");
    CHECK_EQ_STR(str_at(j, "sink", "config", "collection"), "c");
    cJSON_Delete(j);
    const char *diag = load(doc);
    CHECK(strstr(diag, "unknown source type") == NULL); /* kafka is a source now */
    CHECK(strstr(diag, "unknown sink type 'mongodb'") != NULL);

    doc = map("es",
              "{\"source\":{\"type\":\"file\",\"config\":{\"file_path\":\"/tmp/a\"}},"
              "\"sink\":{\"type\":\"elasticsearch\",\"config\":{\"index_name\":\"logs\"}}}",
              &err);
    CHECK(doc && strstr(doc, "\"index_name\":\"logs\"") != NULL);
    CHECK(doc && strstr(load(doc), "unknown sink type 'elasticsearch'") != NULL);
}

TEST(shape_errors)
{
    CHECK_EQ_STR(map_err("{\"sink\":{\"type\":\"file\"}}"),
                 "source: missing (the body needs \"source\" and \"sink\")");
    CHECK_EQ_STR(map_err("{\"source\":{\"type\":\"file\"}}"),
                 "sink: missing (the body needs \"source\" and \"sink\")");
    CHECK_EQ_STR(map_err("{\"source\":null,\"sink\":{}}"),
                 "source: missing (the body needs \"source\" and \"sink\")");
    CHECK_EQ_STR(map_err("{\"source\":\"file\",\"sink\":{}}"),
                 "source: must be an object, got a string");
    CHECK_EQ_STR(map_err("{\"source\":{},\"sink\":{}}"), "source.type: missing");
    CHECK_EQ_STR(map_err("{\"source\":{\"type\":3},\"sink\":{}}"),
                 "source.type: must be a string, got a number");
    CHECK_EQ_STR(map_err("{\"source\":{\"type\":\"\"},\"sink\":{}}"),
                 "source.type: must not be empty");
    CHECK_EQ_STR(map_err("{\"source\":{\"type\":\"file\",\"name\":[]},\"sink\":{}}"),
                 "source.name: must be a string, got an array");
    CHECK_EQ_STR(map_err("{\"source\":{\"type\":\"file\",\"config\":\"x\"},\"sink\":{}}"),
                 "source.config: must be an object, got a string");
    CHECK_EQ_STR(map_err("{\"source\":{\"type\":\"file\"},\"sink\":{\"type\":true}}"),
                 "sink.type: must be a string, got a boolean");
    CHECK(strstr(map_err("{\"source\":{\"type\":\"file\",\"config\":{\"file_path\":\"a\","
                         "\"path\":\"b\"}},\"sink\":{\"type\":\"stdout\"}}"),
                 "source.config: both 'file_path' and 'path' given") != NULL);
}

TEST(bad_json)
{
    CHECK(strncmp(map_err("{\"source\":"), "body is not valid JSON: ", 24) == 0);
    CHECK(strncmp(map_err("{'source':{}}"), "body is not valid JSON: ", 24) == 0);
    CHECK(strncmp(map_err("not json"), "body is not valid JSON: ", 24) == 0);
    CHECK_EQ_STR(map_err("[1,2]"), "body is not a JSON object, got an array");
    CHECK_EQ_STR(map_err("\"x\""), "body is not a JSON object, got a string");
    CHECK(strncmp(map_err(""), "body is empty", 13) == 0);

    /* On error, `out` is left as it was. */
    wire_buf out;
    wire_buf_init(&out);
    wire_buf_append(&out, "keep", 4);
    wire_err err;
    const char *b = "{\"source\":{\"type\":\"file\"},\"sink\":5}";
    CHECK_EQ_INT(wire_legacy_pipeline("c", b, strlen(b), &out, &err), WIRE_EINVAL);
    CHECK_EQ_INT(out.len, 4);
    CHECK_EQ_STR(err.msg, "sink: must be an object, got a number");
    wire_buf_free(&out);
}

/* Unknown top-level and component keys are ignored; null name and config are
   as if absent; escapes (a surrogate pair, which the YAML loader would not
   read) are re-encoded so the document still loads. */
TEST(lenient_and_reencoded)
{
    wire_err err;
    const char *doc =
        map("esc",
            "{\"transforms\":[],\"version\":2,"
            "\"source\":{\"type\":\"generate\",\"name\":null,\"config\":null,\"extra\":1},"
            "\"sink\":{\"type\":\"file\",\"name\":\"\\ud83d\\ude00 out\\/\\\"q\\\"\","
            "\"config\":{\"file_path\":\"/tmp/\\u00e9\\ud83d\\ude00.jsonl\"}}}",
            &err);
    CHECK(doc != NULL);
    if (!doc)
        return;
    CHECK(strstr(doc, "transforms") == NULL);
    CHECK(strstr(doc, "\\u") == NULL);
    cJSON *j = cJSON_Parse(doc);
    CHECK_EQ_STR(str_at(j, "sink", "config", "path"), "/tmp/\xc3\xa9\xf0\x9f\x98\x80.jsonl");
    /* Component names are made to fit [A-Za-z0-9_-]{1,64}: one '_' per character. */
    CHECK_EQ_STR(str_at(j, "sink", "name", NULL), "__out__q_");
    CHECK(str_at(j, "source", "name", NULL) == NULL);
    cJSON_Delete(j);
    CHECK_EQ_STR(load(doc), "ok");
}

/* The pipeline name is the caller's: an invalid one is the validator's to report. */
TEST(name_is_validated_by_spec)
{
    wire_err err;
    const char *doc = map("Bad Name!", file_to_file, &err);
    CHECK(doc != NULL);
    CHECK(doc && strcmp(load(doc), "ok") != 0);
    doc = map("a\"b", file_to_file, &err);
    cJSON *j = doc ? cJSON_Parse(doc) : NULL;
    CHECK(j != NULL);
    cJSON_Delete(j);
}

TEST(component_names_fit_wire)
{
    wire_err err;
    char body[600];
    snprintf(body, sizeof(body),
             "{\"source\":{\"type\":\"file\",\"name\":\"File Source #1\","
             "\"config\":{\"file_path\":\"/tmp/a\"}},\"sink\":{\"type\":\"stdout\","
             "\"name\":\"%0100d\"}}",
             0);
    const char *doc = map("n", body, &err);
    CHECK(doc != NULL);
    if (!doc)
        return;
    cJSON *j = cJSON_Parse(doc);
    CHECK_EQ_STR(str_at(j, "source", "name", NULL), "File_Source__1");
    const char *sn = str_at(j, "sink", "name", NULL);
    CHECK(sn && strlen(sn) == 64);
    cJSON_Delete(j);
    CHECK_EQ_STR(load(doc), "ok");
}

int main(void)
{
    RUN(maps_file_to_file);
    RUN(string_values_are_accepted);
    RUN(string_values_every_option_kind);
    RUN(kafka_keys_and_unknown_types);
    RUN(shape_errors);
    RUN(bad_json);
    RUN(lenient_and_reencoded);
    RUN(name_is_validated_by_spec);
    RUN(component_names_fit_wire);
    TEST_MAIN_END();
}
