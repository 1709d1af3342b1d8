/* test_kafka_eo.c — the kafka sink's exactly-once mode against librdkafka's
 * in-process mock cluster: one transaction per barrier with the positions
 * record inside it, the record read back on start (positions round-trip),
 * and the error classes with injected errors: retriable (retried),
 * fenced / invalid epoch (fails clearly), abortable (aborted, fails), all
 * brokers down at commit (bounded, no hang). The mock accepts transactions
 * without their semantics (docs/kafka.md): what is checked is the client's
 * state machine. The engine's side of the contract is in test_pipeline. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "registry/registry.h"
#include "test.h"

enum { API_ADD_PARTITIONS_TO_TXN = 24, API_END_TXN = 26 };

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mc;
static char brokers[256];

static void mock_start(void)
{
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", e, sizeof(e));
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    mc = rd_kafka_mock_cluster_new(mock_rk, 3);
    rd_kafka_mock_topic_create(mc, "out", 3, 1);
    rd_kafka_mock_topic_create(mc, "__wire_positions", 1, 1);
    snprintf(brokers, sizeof(brokers), "%s", rd_kafka_mock_cluster_bootstraps(mc));
}

typedef struct sink {
    wire_pipeline_spec *spec;
    const wire_sink_def *def;
    void *self;
} sink;

/* A kafka sink made as a pipeline would make it, instance `inst` of pipeline `name`. */
static int sink_open(sink *k, const char *name, const char *flush_timeout, wire_err *err)
{
    char doc[1024];
    snprintf(doc, sizeof(doc),
             "name: %s\nsource: {type: generate}\n"
             "sink: {type: kafka, config: {brokers: \"%s\", topic: out, flush_timeout: %s, "
             "librdkafka: {log_level: \"0\"}}}\n"
             "delivery: exactly-once\n",
             name, brokers, flush_timeout);
    wire_diags d = {0};
    k->spec = NULL;
    k->self = NULL;
    wire_spec_load_mem(&wire_default_registry, "t.yaml", doc, strlen(doc), &k->spec, &d);
    if (d.n) {
        wire_diags_print(&d, stderr);
        wire_diags_free(&d);
        wire_spec_free(k->spec);
        k->spec = NULL;
        return WIRE_EINVAL;
    }
    k->def = k->spec->sinks[0].def;
    wire_component_env env = {name, "sink", 0, 1, true, NULL};
    int rc = k->def->base.create(&k->self, k->spec->sinks[0].config, &env, err);
    if (rc != 0)
        k->self = NULL;
    return rc;
}

static void sink_close(sink *k)
{
    if (k->self)
        k->def->base.destroy(k->self);
    wire_spec_free(k->spec);
}

/* write n events {"i":..} and flush */
static int write_n(sink *k, int n, wire_err *err)
{
    wire_batch *b = wire_batch_new(4096);
    char buf[64];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "{\"i\":%d}", i);
        char *p = wire_arena_alloc(&b->arena, (size_t)len);
        memcpy(p, buf, (size_t)len);
        wire_batch_push(b, p, (uint32_t)len);
    }
    int rc = k->def->write(k->self, b, err);
    if (rc >= 0)
        rc = k->def->flush(k->self, err);
    wire_batch_free(b);
    return rc;
}

static wire_position at(uint64_t offset)
{
    wire_position p = {7, 1, {0x0123456789abcdefULL, 0xfedcba9876543210ULL}, 1700000000123, offset};
    return p;
}

static int64_t now_ms(void)
{
    return wire_mono_ns() / 1000000;
}

TEST(commit_per_barrier_and_read_back)
{
    wire_err err;
    wire_err_clear(&err);
    sink k;
    CHECK_EQ_INT(sink_open(&k, "p1", "5s", &err), 0);
    if (!k.self) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    /* nothing on record yet */
    uint64_t id = 99;
    wire_position *pos = NULL;
    size_t npos = 9;
    CHECK_EQ_INT(k.def->recover_positions(k.self, &id, &pos, &npos, &err), 0);
    CHECK_EQ_INT(npos, 0);
    CHECK_EQ_INT(write_n(&k, 10, &err), 0);
    wire_position p10 = at(10), p15 = at(15);
    CHECK_EQ_INT(k.def->commit_positions(k.self, 2, &p10, 1, &err), 0);
    CHECK_EQ_INT(write_n(&k, 5, &err), 0);
    CHECK_EQ_INT(k.def->commit_positions(k.self, 3, &p15, 1, &err), 0);
    /* a barrier with nothing new: no transaction, no record */
    CHECK_EQ_INT(k.def->commit_positions(k.self, 4, &p15, 1, &err), 0);
    sink_close(&k);

    /* the next run of the same instance reads the newest record back */
    CHECK_EQ_INT(sink_open(&k, "p1", "5s", &err), 0);
    if (!k.self)
        return;
    CHECK_EQ_INT(k.def->recover_positions(k.self, &id, &pos, &npos, &err), 0);
    CHECK_EQ_INT(id, 3);
    CHECK_EQ_INT(npos, 1);
    if (npos == 1)
        CHECK(memcmp(&pos[0], &p15, sizeof(p15)) == 0); /* every field round-trips */
    free(pos);
    sink_close(&k);

    /* another pipeline's instance has a transactional id of its own: nothing */
    CHECK_EQ_INT(sink_open(&k, "p2", "5s", &err), 0);
    if (!k.self)
        return;
    CHECK_EQ_INT(k.def->recover_positions(k.self, &id, &pos, &npos, &err), 0);
    CHECK_EQ_INT(npos, 0);
    free(pos);
    sink_close(&k);

    int64_t lo = 0, hi = 0;
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, e, sizeof(e));
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    CHECK_EQ_INT(rd_kafka_query_watermark_offsets(c, "__wire_positions", 0, &lo, &hi, 5000), 0);
    rd_kafka_destroy(c);
    CHECK_EQ_INT(hi, 2); /* checkpoints 2 and 3; 4 changed nothing */
}

TEST(retriable_commit_is_retried)
{
    wire_err err;
    wire_err_clear(&err);
    sink k;
    CHECK_EQ_INT(sink_open(&k, "retry", "10s", &err), 0);
    if (!k.self)
        return;
    CHECK_EQ_INT(write_n(&k, 3, &err), 0);
    rd_kafka_mock_push_request_errors(mc, API_END_TXN, 2, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS,
                                      RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
    wire_position p = at(3);
    int rc = k.def->commit_positions(k.self, 2, &p, 1, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        fprintf(stderr, "  %s\n", err.msg);
    sink_close(&k);
}

TEST(fenced_fails_clearly)
{
    wire_err err;
    wire_err_clear(&err);
    sink k;
    CHECK_EQ_INT(sink_open(&k, "fenced", "5s", &err), 0);
    if (!k.self)
        return;
    CHECK_EQ_INT(write_n(&k, 3, &err), 0);
    rd_kafka_mock_push_request_errors(mc, API_END_TXN, 1, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH);
    wire_position p = at(3);
    int64_t t0 = now_ms();
    int rc = k.def->commit_positions(k.self, 2, &p, 1, &err);
    CHECK(rc < 0);
    CHECK(now_ms() - t0 < 15000);
    CHECK(strstr(err.msg, "resumes from the last checkpoint") != NULL);
    fprintf(stderr, "  fenced: %s\n", err.msg);
    sink_close(&k);

    /* a new instance takes the id over (init_transactions) and works */
    CHECK_EQ_INT(sink_open(&k, "fenced", "5s", &err), 0);
    if (!k.self)
        return;
    CHECK_EQ_INT(write_n(&k, 3, &err), 0);
    CHECK_EQ_INT(k.def->commit_positions(k.self, 2, &p, 1, &err), 0);
    sink_close(&k);
}

TEST(abortable_error_aborts_and_fails)
{
    wire_err err;
    wire_err_clear(&err);
    sink k;
    CHECK_EQ_INT(sink_open(&k, "abortable", "5s", &err), 0);
    if (!k.self)
        return;
    rd_kafka_mock_push_request_errors(mc, API_ADD_PARTITIONS_TO_TXN, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    int64_t t0 = now_ms();
    int rc = write_n(&k, 3, &err);
    wire_position p = at(3);
    if (rc == 0)
        rc = k.def->commit_positions(k.self, 2, &p, 1, &err);
    CHECK(rc < 0);
    CHECK(now_ms() - t0 < 20000);
    CHECK(strstr(err.msg, "abort") != NULL || strstr(err.msg, "not delivered") != NULL);
    fprintf(stderr, "  abortable: %s\n", err.msg);
    sink_close(&k);

    /* the next run starts clean */
    CHECK_EQ_INT(sink_open(&k, "abortable", "5s", &err), 0);
    if (!k.self)
        return;
    CHECK_EQ_INT(write_n(&k, 3, &err), 0);
    CHECK_EQ_INT(k.def->commit_positions(k.self, 2, &p, 1, &err), 0);
    sink_close(&k);
}

TEST(brokers_down_at_commit_is_bounded)
{
    wire_err err;
    wire_err_clear(&err);
    sink k;
    CHECK_EQ_INT(sink_open(&k, "down", "2s", &err), 0);
    if (!k.self)
        return;
    CHECK_EQ_INT(write_n(&k, 3, &err), 0);
    for (int id = 1; id <= 3; id++)
        rd_kafka_mock_broker_set_down(mc, id);
    wire_position p = at(3);
    int64_t t0 = now_ms();
    int rc = k.def->commit_positions(k.self, 2, &p, 1, &err);
    int64_t took = now_ms() - t0;
    for (int id = 1; id <= 3; id++)
        rd_kafka_mock_broker_set_up(mc, id);
    CHECK(rc < 0);
    CHECK(took < 15000);
    fprintf(stderr, "  down (%lld ms): %s\n", (long long)took, err.msg);
    sink_close(&k);
}

int main(void)
{
    mock_start();
    RUN(commit_per_barrier_and_read_back);
    RUN(retriable_commit_is_retried);
    RUN(fenced_fails_clearly);
    RUN(abortable_error_aborts_and_fails);
    RUN(brokers_down_at_commit_is_bounded);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mock_rk);
    TEST_MAIN_END();
}
