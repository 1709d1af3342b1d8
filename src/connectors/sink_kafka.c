/*
 * sink_kafka.c — the `kafka` sink: a librdkafka producer, at-least-once.
 *
 * An event is delivered when its delivery report has no error; a flush
 * returns 0 only when every message written since the last flush has been
 * reported delivered. Until then the sink keeps a copy of each message, so
 * that what failed with a retriable error (timeouts, brokers down, leader
 * moves) is produced again by the next flush: the runner's retry loop
 * decides when. Record errors (too large, invalid, corrupt) make the flush
 * answer WIRE_EPERM: the runner then finds, by bisection (`discard`), exactly
 * the events Kafka refuses and sends them to the dead-letter queue (or
 * drops, or stops) per on_error. Authorization and unknown-topic errors stop
 * the pipeline with the broker's message.
 *
 * The producer is idempotent (enable.idempotence) when acks is all, so the
 * retries of librdkafka itself make no duplicates; Wire's own re-production
 * after a failed report may, which is what at-least-once allows.
 *
 * `topic` may name event fields: "logs-{{level}}" (a missing field is empty);
 * `key` is a field (a dotted path: "user.id") whose value keys the message.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"
#include "connectors/kafka.h"
#include "core/json.h"

enum { ACKS_ALL, ACKS_ONE, ACKS_NONE };

typedef struct kafka_sink_config {
    wire_strlist brokers;
    char *topic;
    char *key;
    int acks;
    int compression;
    int64_t max_pending;
    int64_t flush_timeout_ms;
    wire_strmap librdkafka;
} kafka_sink_config;

static const char *const compressions[] = {"none", "gzip", "snappy", "lz4", "zstd"};

static const wire_option kafka_sink_options[] = {
    {"brokers", WIRE_OPT_STRLIST, NULL, WIRE_OPT_REQUIRED, offsetof(kafka_sink_config, brokers),
     NULL, "Bootstrap brokers: \"host:port,host:port\" or a list."},
    {"topic", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(kafka_sink_config, topic), NULL,
     "Topic; may name event fields: \"logs-{{level}}\"."},
    {"key", WIRE_OPT_STRING, NULL, 0, offsetof(kafka_sink_config, key), NULL,
     "Field whose value is the message key (a dotted path: user.id); default: none."},
    {"acks", WIRE_OPT_ENUM, "all", 0, offsetof(kafka_sink_config, acks), "all|1|0",
     "Broker acknowledgements per message (all: idempotent producer)."},
    {"compression", WIRE_OPT_ENUM, "none", 0, offsetof(kafka_sink_config, compression),
     "none|gzip|snappy|lz4|zstd", "Compression of message batches."},
    {"max_pending", WIRE_OPT_INT, "100000", 0, offsetof(kafka_sink_config, max_pending), NULL,
     "Messages written but not yet reported delivered before the sink asks for a flush."},
    {"flush_timeout", WIRE_OPT_DURATION, "30s", 0, offsetof(kafka_sink_config, flush_timeout_ms),
     NULL, "How long one flush waits for delivery reports before the runner retries it."},
    {"librdkafka", WIRE_OPT_STRMAP, NULL, 0, offsetof(kafka_sink_config, librdkafka), NULL,
     "librdkafka producer properties, passed through (e.g. {linger.ms: 20})."},
    {NULL},
};

enum { M_FLIGHT, M_OK, M_RETRY, M_RECORD, M_FATAL };

typedef struct kmsg {
    size_t topic, topic_len, key, key_len, val, val_len; /* offsets into the store */
    int state;
    rd_kafka_resp_err_t err;
} kmsg;

/* A template piece: literal text, or a field to substitute. */
typedef struct tpiece {
    bool field;
    char *text;
    size_t len;
} tpiece;

typedef struct kafka_sink {
    const kafka_sink_config *c;
    rd_kafka_t *rk;
    tpiece *topic;
    size_t ntopic;
    wire_buf store; /* copies of every message since the last successful flush */
    kmsg *msgs;
    size_t nmsgs, capmsgs;
    size_t inflight;
    uint32_t gen; /* bumped by discard: reports of older messages are ignored */
    char fatal[512];
} kafka_sink;

static int classify(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return M_OK;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: return M_RECORD;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__INVALID_ARG: return M_FATAL;
    default: return M_RETRY; /* timed out, transport, leader moves, not enough replicas, ... */
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kafka_sink *s = opaque;
    uintptr_t tag = (uintptr_t)m->_private;
    uint32_t gen = (uint32_t)(tag >> 32);
    size_t idx = (size_t)(tag & 0xffffffffu);
    if (gen != s->gen || idx >= s->nmsgs)
        return; /* discarded */
    if (s->inflight)
        s->inflight--;
    kmsg *k = &s->msgs[idx];
    k->err = m->err;
    k->state = classify(m->err);
    if (k->state == M_FATAL && !s->fatal[0])
        snprintf(s->fatal, sizeof(s->fatal), "kafka: topic %.*s: %s", (int)k->topic_len,
                 s->store.p + k->topic, rd_kafka_err2str(m->err));
}

static void parse_template(kafka_sink *s, const char *t)
{
    const char *p = t;
    while (*p) {
        const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
        size_t lit = open && close ? (size_t)(open - p) : strlen(p);
        if (lit) {
            s->topic = wire_xrealloc(s->topic, (s->ntopic + 1) * sizeof(*s->topic));
            s->topic[s->ntopic++] = (tpiece){false, wire_xstrndup(p, lit), lit};
        }
        if (!(open && close))
            break;
        size_t flen = (size_t)(close - open - 2);
        s->topic = wire_xrealloc(s->topic, (s->ntopic + 1) * sizeof(*s->topic));
        s->topic[s->ntopic++] = (tpiece){true, wire_xstrndup(open + 2, flen), flen};
        p = close + 2;
    }
}

static void producer_callbacks(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
}

static void kafka_sink_destroy(void *self);

static int kafka_sink_create(void **self, const void *config, const wire_component_env *env,
                             wire_err *err)
{
    (void)env;
    const kafka_sink_config *c = config;
    kafka_sink *s = wire_xcalloc(1, sizeof(*s));
    s->c = c;
    wire_buf_init(&s->store);
    parse_template(s, c->topic);
    static const char *const acks[] = {"all", "1", "0"};
    const wire_kafka_setting settings[] = {
        {"acks", acks[c->acks]},
        {"enable.idempotence", c->acks == ACKS_ALL ? "true" : "false"},
        {"compression.type", compressions[c->compression]},
        {"linger.ms", "5"},
        {NULL, NULL},
    };
    s->rk = wire_kafka_new(RD_KAFKA_PRODUCER, &c->brokers, settings, &c->librdkafka, s,
                           producer_callbacks, err);
    if (!s->rk) {
        kafka_sink_destroy(s);
        return err->code ? err->code : WIRE_EINVAL;
    }
    /* a fixed topic: learn its partitions now (best effort), or the first messages
       wait for librdkafka's once-a-second scan of unknown topics */
    if (s->ntopic == 1 && !s->topic[0].field) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, c->topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (rkt && rd_kafka_metadata(s->rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_metadata_destroy(md);
        if (rkt)
            rd_kafka_topic_destroy(rkt);
    }
    *self = s;
    return 0;
}

static void kafka_sink_destroy(void *self)
{
    kafka_sink *s = self;
    if (s->rk) {
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(s->rk, 1000);
        rd_kafka_destroy(s->rk);
    }
    for (size_t i = 0; i < s->ntopic; i++)
        free(s->topic[i].text);
    free(s->topic);
    free(s->msgs);
    wire_buf_free(&s->store);
    free(s);
}

/* A field's value as text: strings unquoted, other values as their JSON. */
static void append_field(wire_buf *b, const wire_event *ev, const char *path, size_t plen)
{
    wire_json_val v = {WIRE_JSON_OBJECT, ev->data, ev->len};
    const char *p = path, *end = path + plen;
    while (p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        wire_json_val next;
        if (v.kind != WIRE_JSON_OBJECT || !wire_json_get(v.p, v.n, p, n, &next))
            return;
        v = next;
        p += n + (dot ? 1 : 0);
    }
    if (v.kind == WIRE_JSON_STRING && v.n >= 2) {
        size_t at = b->len;
        wire_buf_reserve(b, v.n);
        b->len += wire_json_unescape(v.p + 1, v.n - 2, b->p + at);
    } else {
        wire_buf_append(b, v.p, v.n);
    }
}

static int produce(kafka_sink *s, size_t idx)
{
    kmsg *k = &s->msgs[idx];
    char topic[256];
    snprintf(topic, sizeof(topic), "%.*s", (int)k->topic_len, s->store.p + k->topic);
    uintptr_t tag = ((uintptr_t)s->gen << 32) | (uintptr_t)idx;
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(s->store.p + k->val, k->val_len),
            RD_KAFKA_V_KEY(k->key_len ? s->store.p + k->key : NULL, k->key_len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE((void *)tag),
            RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            k->state = M_FLIGHT;
            s->inflight++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 600) {
            k->state = classify(e) == M_RETRY ? M_RETRY : classify(e);
            k->err = e;
            if (k->state == M_FATAL && !s->fatal[0])
                snprintf(s->fatal, sizeof(s->fatal), "kafka: topic %s: %s", topic,
                         rd_kafka_err2str(e));
            return 0;
        }
        rd_kafka_poll(s->rk, 100); /* the local queue is full: let reports drain it */
    }
}

static int kafka_sink_write(void *self, const wire_batch *b, wire_err *err)
{
    kafka_sink *s = self;
    for (uint32_t i = 0; i < b->n; i++) {
        const wire_event *ev = &b->ev[i];
        if (s->nmsgs == s->capmsgs) {
            s->capmsgs = s->capmsgs ? s->capmsgs * 2 : 1024;
            s->msgs = wire_xrealloc(s->msgs, s->capmsgs * sizeof(*s->msgs));
        }
        kmsg *k = &s->msgs[s->nmsgs];
        memset(k, 0, sizeof(*k));
        k->topic = s->store.len;
        for (size_t t = 0; t < s->ntopic; t++) {
            if (s->topic[t].field)
                append_field(&s->store, ev, s->topic[t].text, s->topic[t].len);
            else
                wire_buf_append(&s->store, s->topic[t].text, s->topic[t].len);
        }
        k->topic_len = s->store.len - k->topic;
        k->key = s->store.len;
        if (s->c->key && *s->c->key)
            append_field(&s->store, ev, s->c->key, strlen(s->c->key));
        k->key_len = s->store.len - k->key;
        k->val = s->store.len;
        wire_buf_append(&s->store, ev->data, ev->len);
        k->val_len = ev->len;
        s->nmsgs++;
        produce(s, s->nmsgs - 1);
    }
    rd_kafka_poll(s->rk, 0);
    if (s->fatal[0])
        return wire_errf(err, WIRE_EINVAL, "%s", s->fatal);
    return s->nmsgs >= (size_t)s->c->max_pending ? 1 : 0;
}

static int kafka_sink_flush(void *self, wire_err *err)
{
    kafka_sink *s = self;
    /* what failed with a retriable error goes out again */
    for (size_t i = 0; i < s->nmsgs; i++)
        if (s->msgs[i].state == M_RETRY)
            produce(s, i);
    int64_t deadline = wire_mono_ns() / 1000000 + s->c->flush_timeout_ms;
    while (s->inflight && wire_mono_ns() / 1000000 < deadline)
        rd_kafka_flush(s->rk, 100);
    rd_kafka_poll(s->rk, 0);
    if (s->fatal[0])
        return wire_errf(err, WIRE_EINVAL, "%s", s->fatal);
    size_t retry = 0, record = 0, flight = 0;
    rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < s->nmsgs; i++) {
        int st = s->msgs[i].state;
        retry += st == M_RETRY;
        record += st == M_RECORD;
        flight += st == M_FLIGHT;
        if (st == M_RETRY || st == M_RECORD)
            last = s->msgs[i].err;
    }
    if (record)
        return wire_errf(err, WIRE_EPERM, "kafka: %zu message(s) refused: %s", record,
                         rd_kafka_err2str(last));
    if (retry || flight)
        return wire_errf(err, WIRE_EAGAIN, "kafka: %zu of %zu message(s) not delivered yet%s%s",
                         retry + flight, s->nmsgs, retry ? ": " : "",
                         retry ? rd_kafka_err2str(last) : "");
    s->nmsgs = 0;
    wire_buf_reset(&s->store);
    return 0;
}

/* Forget what is unflushed; the leading messages already delivered count as delivered. */
static size_t kafka_sink_discard(void *self)
{
    kafka_sink *s = self;
    size_t ok = 0;
    while (ok < s->nmsgs && s->msgs[ok].state == M_OK)
        ok++;
    s->gen++;
    rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(s->rk, 0);
    s->inflight = 0;
    s->nmsgs = 0;
    wire_buf_reset(&s->store);
    return ok;
}

static int64_t kafka_sink_linger(void *self)
{
    return 5;
}

const wire_sink_def wire_sink_kafka = {
    .base = {WIRE_KIND_SINK, "kafka",
             "Produce to a Kafka topic (at-least-once, idempotent producer)", kafka_sink_options,
             sizeof(kafka_sink_config), 0, kafka_sink_create, kafka_sink_destroy},
    .write = kafka_sink_write,
    .flush = kafka_sink_flush,
    .linger_ms = kafka_sink_linger,
    .discard = kafka_sink_discard,
};
