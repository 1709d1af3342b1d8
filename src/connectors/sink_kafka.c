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
#include <time.h>

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
    char *positions_topic;
    int64_t transaction_timeout_ms;
    wire_strmap librdkafka;
    wire_tls_opts tls;
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
    {"positions_topic", WIRE_OPT_STRING, "__wire_positions", 0,
     offsetof(kafka_sink_config, positions_topic), NULL,
     "Exactly-once: the compacted topic where each transaction also writes the source "
     "positions it covers (created if missing)."},
    {"transaction_timeout", WIRE_OPT_DURATION, "1m", 0,
     offsetof(kafka_sink_config, transaction_timeout_ms), NULL,
     "Exactly-once: transaction.timeout.ms; must exceed the checkpoint interval plus the "
     "commit time, and stay within the brokers' transaction.max.timeout.ms (15 min)."},
    {"librdkafka", WIRE_OPT_STRMAP, NULL, 0, offsetof(kafka_sink_config, librdkafka), NULL,
     "librdkafka producer properties, passed through (e.g. {linger.ms: 20})."},
    {"tls", WIRE_OPT_TLS, NULL, 0, offsetof(kafka_sink_config, tls), NULL,
     "TLS to the brokers, as librdkafka's ssl.* (docs/kafka.md; server_name and min_version "
     "are not librdkafka's: refused)"},
    {NULL},
};

enum { M_FLIGHT, M_OK, M_RETRY, M_RECORD, M_FATAL };

typedef struct kmsg {
    size_t topic, topic_len, key, key_len; /* offsets into the store */
    const char *val; /* the event's own bytes: its batch is held until the flush */
    size_t val_len;
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
    rd_kafka_topic_t *rkt; /* the topic when it is fixed (not a template) */
    wire_buf store;        /* topics and keys of every message since the last flush */
    kmsg *msgs;
    size_t nmsgs, capmsgs;
    size_t inflight;
    uint32_t gen; /* bumped by discard: reports of older messages are ignored */
    char fatal[512];
    /* exactly-once (delivery: exactly-once): one transaction per checkpoint */
    bool eo;
    bool in_txn;             /* begun (lazily, at the first write after a barrier) */
    bool doomed;             /* something in this transaction was not delivered */
    char txn_id[256];        /* wire-<pipeline>-<sink>-<instance> */
    char pipeline[128];      /* for the positions record */
    uint32_t instance;       /* ditto */
    wire_buf last_positions; /* of the newest committed record: unchanged means no record */
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
        snprintf(s->fatal, sizeof(s->fatal), "kafka: topic %s: %s", rd_kafka_topic_name(m->rkt),
                 rd_kafka_err2str(m->err));
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

/* ---- exactly-once: transactions ---- */

/* wire-<pipeline>-<sink>-<instance>, with anything but [A-Za-z0-9._-] as '_' */
static void transactional_id(char *out, size_t n, const wire_component_env *env)
{
    snprintf(out, n, "wire-%s-%s-%u", env->pipeline ? env->pipeline : "",
             env->name ? env->name : "sink", env->instance);
    for (char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            *p = '_';
}

typedef rd_kafka_error_t *(*txn_call)(kafka_sink *s, int timeout_ms);

static rd_kafka_error_t *txn_init(kafka_sink *s, int timeout_ms)
{
    return rd_kafka_init_transactions(s->rk, timeout_ms);
}
static rd_kafka_error_t *txn_commit_call(kafka_sink *s, int timeout_ms)
{
    return rd_kafka_commit_transaction(s->rk, timeout_ms);
}

/* Abort the open transaction (bounded); what it held is replayed from the checkpoint. */
static void txn_abort(kafka_sink *s)
{
    if (!s->in_txn)
        return;
    rd_kafka_error_t *e = rd_kafka_abort_transaction(s->rk, (int)s->c->flush_timeout_ms);
    if (e) {
        wire_warn("kafka: %s: abort_transaction: %s", s->txn_id, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    s->in_txn = false;
}

/*
 * Run a transactional call with the error classes librdkafka defines:
 * retriable -> the same call again, until flush_timeout has passed (every
 * call has a timeout: nothing here hangs); requires abort -> abort, and the
 * pipeline fails so that a restart resumes from the last checkpoint; fatal
 * (fenced: a newer producer took the transactional id) -> fail likewise.
 * An in-process rewind would need the source to rewind too: the engine
 * has none, so failing is the honest answer (docs/kafka.md).
 */
static int txn_run(kafka_sink *s, const char *what, txn_call call, wire_err *err)
{
    int64_t timeout = s->c->flush_timeout_ms > 0 ? s->c->flush_timeout_ms : 30000;
    int64_t deadline = wire_mono_ns() / 1000000 + timeout;
    for (int attempt = 1;; attempt++) {
        int64_t left = deadline - wire_mono_ns() / 1000000;
        rd_kafka_error_t *e = call(s, (int)(left > 100 ? left : 100));
        if (!e)
            return 0;
        char msg[400];
        snprintf(msg, sizeof(msg), "%s", rd_kafka_error_string(e));
        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
        bool retriable = rd_kafka_error_is_retriable(e), fatal = rd_kafka_error_is_fatal(e);
        bool abort = rd_kafka_error_txn_requires_abort(e);
        rd_kafka_error_destroy(e);
        if (retriable && !fatal && wire_mono_ns() / 1000000 < deadline) {
            if (attempt <= 3 || attempt % 10 == 0)
                wire_warn("kafka: %s: %s: %s (attempt %d, retrying)", s->txn_id, what, msg,
                          attempt);
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (fatal || code == RD_KAFKA_RESP_ERR__FENCED ||
            code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
            code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED) {
            s->in_txn = false; /* the producer is unusable; the broker aborts */
            return wire_errf(err, WIRE_EIO,
                             "kafka: %s: %s: %s: the producer is fenced or failed for good "
                             "(is another instance using transactional.id %s?); a restart "
                             "resumes from the last checkpoint",
                             s->txn_id, what, msg, s->txn_id);
        }
        if (abort) {
            txn_abort(s);
            return wire_errf(err, WIRE_EIO,
                             "kafka: %s: %s: %s: transaction aborted; a restart resumes from "
                             "the last checkpoint",
                             s->txn_id, what, msg);
        }
        return wire_errf(err, WIRE_EIO, "kafka: %s: %s: %s%s", s->txn_id, what, msg,
                         retriable ? " (retries exhausted)" : "");
    }
}

static int txn_begin(kafka_sink *s, wire_err *err)
{
    rd_kafka_error_t *e = rd_kafka_begin_transaction(s->rk);
    if (e) {
        wire_errf(err, WIRE_EIO, "kafka: %s: begin_transaction: %s", s->txn_id,
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return WIRE_EIO;
    }
    s->in_txn = true;
    s->doomed = false;
    return 0;
}

/* The positions topic, compacted, created when it does not exist yet. */
static int ensure_positions_topic(kafka_sink *s, wire_err *err)
{
    int timeout = (int)(s->c->flush_timeout_ms > 0 ? s->c->flush_timeout_ms : 30000);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, s->c->positions_topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t me = rd_kafka_metadata(s->rk, 0, rkt, &md, timeout);
    bool exists = me == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
                  md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                  md->topics[0].partition_cnt > 0;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (exists)
        return 0;
    char e[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(s->c->positions_topic, 1, -1, e, sizeof(e));
    if (!nt)
        return wire_errf(err, WIRE_EINVAL, "kafka: positions topic %s: %s", s->c->positions_topic,
                         e);
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(s->rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(s->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opt, timeout, e, sizeof(e));
    rd_kafka_CreateTopics(s->rk, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout + 1000);
    int rc = 0;
    if (!ev) {
        rc = wire_errf(err, WIRE_EIO, "kafka: creating positions topic %s timed out",
                       s->c->positions_topic);
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **tr =
            res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        rd_kafka_resp_err_t te = rd_kafka_event_error(ev);
        if (!te && n == 1)
            te = rd_kafka_topic_result_error(tr[0]);
        if (te && te != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rc = wire_errf(err, WIRE_EIO,
                           "kafka: positions topic %s does not exist and could not be created "
                           "(%s): create it (cleanup.policy=compact) or name another with "
                           "positions_topic",
                           s->c->positions_topic, rd_kafka_err2str(te));
        else
            wire_info("kafka: created positions topic %s (compacted)", s->c->positions_topic);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static void producer_callbacks(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
}

static void kafka_sink_destroy(void *self);

static int kafka_sink_create(void **self, const void *config, const wire_component_env *env,
                             wire_err *err)
{
    const kafka_sink_config *c = config;
    kafka_sink *s = wire_xcalloc(1, sizeof(*s));
    s->c = c;
    wire_buf_init(&s->store);
    wire_buf_init(&s->last_positions);
    parse_template(s, c->topic);
    s->eo = env && env->exactly_once;
    if (s->eo && c->acks != ACKS_ALL) {
        kafka_sink_destroy(s);
        return wire_errf(err, WIRE_EINVAL,
                         "kafka sink: delivery: exactly-once needs acks: all (transactions)");
    }
    static const char *const acks[] = {"all", "1", "0"};
    char txn_timeout[32];
    snprintf(txn_timeout, sizeof(txn_timeout), "%lld", (long long)c->transaction_timeout_ms);
    if (s->eo) {
        transactional_id(s->txn_id, sizeof(s->txn_id), env);
        snprintf(s->pipeline, sizeof(s->pipeline), "%s", env->pipeline ? env->pipeline : "");
        s->instance = env->instance;
    }
    const wire_kafka_setting settings[] = {
        {"acks", acks[c->acks]},
        {"enable.idempotence", c->acks == ACKS_ALL ? "true" : "false"},
        {"compression.type", compressions[c->compression]},
        {"linger.ms", "5"},
        /* exactly-once only: a NULL key ends the list here otherwise */
        {s->eo ? "transactional.id" : NULL, s->txn_id},
        {"transaction.timeout.ms", txn_timeout},
        {NULL, NULL},
    };
    s->rk = wire_kafka_new(RD_KAFKA_PRODUCER, &c->brokers, settings, &c->tls, &c->librdkafka, s,
                           producer_callbacks, err);
    if (!s->rk) {
        kafka_sink_destroy(s);
        return err->code ? err->code : WIRE_EINVAL;
    }
    /* exactly-once: take over the transactional id (this aborts a transaction a
       previous run left open, and fences an older instance still running) */
    if (s->eo) {
        int rc = txn_run(s, "init_transactions", txn_init, err);
        if (rc == 0)
            rc = ensure_positions_topic(s, err);
        if (rc != 0) {
            kafka_sink_destroy(s);
            return rc;
        }
    }
    /* a fixed topic: one handle for every message (no lookup by name), and
       its partitions learnt now (best effort), or the first messages wait
       for librdkafka's once-a-second scan of unknown topics */
    if (s->ntopic == 1 && !s->topic[0].field) {
        s->rkt = rd_kafka_topic_new(s->rk, c->topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (s->rkt && rd_kafka_metadata(s->rk, 0, s->rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_metadata_destroy(md);
    }
    *self = s;
    return 0;
}

static void kafka_sink_destroy(void *self)
{
    kafka_sink *s = self;
    if (s->rk && s->in_txn) {
        /* never committed: abort now rather than leave it to the next run's
           init_transactions (or the transaction timeout) */
        rd_kafka_error_t *e = rd_kafka_abort_transaction(s->rk, (int)s->c->flush_timeout_ms);
        if (e)
            rd_kafka_error_destroy(e);
    }
    if (s->rkt)
        rd_kafka_topic_destroy(s->rkt);
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
    wire_buf_free(&s->last_positions);
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
    if (s->rkt)
        topic[0] = 0; /* by handle */
    else
        snprintf(topic, sizeof(topic), "%.*s", (int)k->topic_len, s->store.p + k->topic);
    uintptr_t tag = ((uintptr_t)s->gen << 32) | (uintptr_t)idx;
    void *key = k->key_len ? s->store.p + k->key : NULL;
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t e =
            s->rkt ? rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(s->rkt),
                                       RD_KAFKA_V_VALUE((void *)k->val, k->val_len),
                                       RD_KAFKA_V_KEY(key, k->key_len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_OPAQUE((void *)tag), RD_KAFKA_V_END)
                   : rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(topic),
                                       RD_KAFKA_V_VALUE((void *)k->val, k->val_len),
                                       RD_KAFKA_V_KEY(key, k->key_len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_OPAQUE((void *)tag), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            k->state = M_FLIGHT;
            s->inflight++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 600) {
            k->state = classify(e) == M_RETRY ? M_RETRY : classify(e);
            k->err = e;
            if (k->state == M_FATAL && !s->fatal[0])
                snprintf(s->fatal, sizeof(s->fatal), "kafka: topic %s: %s",
                         s->rkt ? rd_kafka_topic_name(s->rkt) : topic, rd_kafka_err2str(e));
            return 0;
        }
        rd_kafka_poll(s->rk, 100); /* the local queue is full: let reports drain it */
    }
}

static int kafka_sink_write(void *self, const wire_batch *b, wire_err *err)
{
    kafka_sink *s = self;
    if (s->eo && !s->in_txn && b->n) {
        int rc = txn_begin(s, err);
        if (rc != 0)
            return rc;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const wire_event *ev = &b->ev[i];
        if (s->nmsgs == s->capmsgs) {
            s->capmsgs = s->capmsgs ? s->capmsgs * 2 : 1024;
            s->msgs = wire_xrealloc(s->msgs, s->capmsgs * sizeof(*s->msgs));
        }
        kmsg *k = &s->msgs[s->nmsgs];
        memset(k, 0, sizeof(*k));
        k->topic = s->store.len;
        for (size_t t = 0; !s->rkt && t < s->ntopic; t++) {
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
        k->val = ev->data;
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
    if (s->eo && (record || retry)) {
        /* inside a transaction a failed delivery cannot be produced again:
           the transaction must be aborted, and the batches since the last
           checkpoint with it */
        s->doomed = true;
        txn_abort(s);
        return wire_errf(err, WIRE_EIO,
                         "kafka: %zu message(s) not delivered inside transaction %s (%s): "
                         "transaction aborted; a restart resumes from the last checkpoint",
                         record + retry, s->txn_id, rd_kafka_err2str(last));
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
    if (s->eo && s->in_txn)
        s->doomed = true; /* purged messages cannot be part of this transaction */
    rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(s->rk, 0);
    s->inflight = 0;
    s->nmsgs = 0;
    wire_buf_reset(&s->store);
    return ok;
}

/* ---- exactly-once: positions inside the transaction ---- */

/*
 * At checkpoint barrier `id` (the runner has flushed: every message of the
 * transaction is reported delivered): add the positions record, keyed by the
 * transactional id, to the same transaction and commit it. Nothing written
 * and the positions unchanged since the last record: nothing to commit.
 */
static int kafka_sink_commit_positions(void *self, uint64_t id, const wire_position *pos,
                                       size_t npos, wire_err *err)
{
    kafka_sink *s = self;
    if (!s->eo)
        return 0;
    wire_buf positions;
    wire_buf_init(&positions);
    wire_positions_json(pos, npos, &positions);
    if (!s->in_txn && positions.len == s->last_positions.len &&
        (positions.len == 0 || memcmp(positions.p, s->last_positions.p, positions.len) == 0)) {
        wire_buf_free(&positions);
        return 0;
    }
    int rc = 0;
    if (s->doomed) {
        txn_abort(s);
        rc = wire_errf(err, WIRE_EIO,
                       "kafka: %s: part of the transaction was not delivered: aborted; a "
                       "restart resumes from the last checkpoint",
                       s->txn_id);
    }
    if (rc == 0 && !s->in_txn)
        rc = txn_begin(s, err);
    if (rc == 0) {
        wire_buf rec;
        wire_buf_init(&rec);
        wire_jw w;
        wire_jw_init(&w, &rec);
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "pipeline", s->pipeline);
        wire_jw_kuint(&w, "instance", s->instance);
        wire_jw_kstr(&w, "transactional_id", s->txn_id);
        wire_jw_kuint(&w, "checkpoint", id);
        wire_jw_key(&w, "positions");
        wire_jw_raw(&w, positions.p ? positions.p : "[]", positions.len ? positions.len : 2);
        wire_jw_end(&w);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->rk, RD_KAFKA_V_TOPIC(s->c->positions_topic), RD_KAFKA_V_VALUE(rec.p, rec.len),
            RD_KAFKA_V_KEY(s->txn_id, strlen(s->txn_id)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)UINT64_MAX), RD_KAFKA_V_END);
        wire_buf_free(&rec);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            txn_abort(s);
            rc = wire_errf(err, WIRE_EIO,
                           "kafka: %s: positions record to %s: %s: transaction aborted; a "
                           "restart resumes from the last checkpoint",
                           s->txn_id, s->c->positions_topic, rd_kafka_err2str(e));
        }
    }
    /* commit_transaction flushes first: the record's delivery is part of it */
    if (rc == 0)
        rc = txn_run(s, "commit_transaction", txn_commit_call, err);
    if (rc == 0) {
        s->in_txn = false;
        wire_buf_reset(&s->last_positions);
        wire_buf_append(&s->last_positions, positions.p ? positions.p : "", positions.len);
    }
    wire_buf_free(&positions);
    return rc;
}

/* One record of the positions topic: ours (key), its checkpoint id and positions. */
static bool parse_record(const rd_kafka_message_t *m, const char *key, uint64_t *id,
                         wire_position **pos, size_t *npos)
{
    size_t klen = strlen(key);
    if (!m->key || m->key_len != klen || memcmp(m->key, key, klen) != 0 || !m->payload)
        return false;
    const char *p = m->payload;
    size_t n = m->len;
    wire_json_val v, arr;
    int64_t i;
    double d;
    if (wire_json_validate_object(p, n, NULL) != 0 || !wire_json_get(p, n, "checkpoint", 10, &v) ||
        v.kind != WIRE_JSON_NUMBER || wire_json_number(v.p, v.n, &i, &d) != WIRE_JSON_NUM_INT ||
        i < 0 || !wire_json_get(p, n, "positions", 9, &arr) || arr.kind != WIRE_JSON_ARRAY)
        return false;
    wire_err err;
    if (wire_positions_parse(arr.p, arr.n, pos, npos, &err) != 0)
        return false;
    *id = (uint64_t)i;
    return true;
}

/*
 * The newest committed record for our transactional id: a consumer with
 * isolation.level=read_committed reads every partition of the positions
 * topic to its end (init_transactions has already aborted our own stale
 * transaction, so it cannot hold the end back). Bounded by flush_timeout.
 */
static int kafka_sink_recover_positions(void *self, uint64_t *id, wire_position **pos, size_t *npos,
                                        wire_err *err)
{
    kafka_sink *s = self;
    *id = 0;
    *pos = NULL;
    *npos = 0;
    if (!s->eo)
        return 0;
    const wire_kafka_setting settings[] = {
        {"isolation.level", "read_committed"},
        {"enable.partition.eof", "true"},
        {"enable.auto.commit", "false"},
        {"group.id", s->txn_id}, /* never joined: partitions are assigned by hand */
        {NULL, NULL},
    };
    rd_kafka_t *c = wire_kafka_new(RD_KAFKA_CONSUMER, &s->c->brokers, settings, &s->c->tls,
                                   &s->c->librdkafka, NULL, NULL, err);
    if (!c)
        return err->code ? err->code : WIRE_EINVAL;
    int64_t timeout = s->c->flush_timeout_ms > 0 ? s->c->flush_timeout_ms : 30000;
    int64_t deadline = wire_mono_ns() / 1000000 + timeout;
    int rc = 0;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c, s->c->positions_topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t me = rd_kafka_metadata(c, 0, rkt, &md, (int)timeout);
    int parts = 0;
    if (me != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = wire_errf(err, WIRE_EIO, "kafka: reading positions topic %s: %s",
                       s->c->positions_topic, rd_kafka_err2str(me));
    else if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        parts = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (rc == 0 && parts > 0) {
        rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(parts);
        for (int i = 0; i < parts; i++)
            rd_kafka_topic_partition_list_add(tp, s->c->positions_topic, i)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_resp_err_t ae = rd_kafka_assign(c, tp);
        rd_kafka_topic_partition_list_destroy(tp);
        if (ae)
            rc = wire_errf(err, WIRE_EIO, "kafka: reading positions topic %s: %s",
                           s->c->positions_topic, rd_kafka_err2str(ae));
        int at_end = 0;
        char *eof = wire_xcalloc((size_t)parts, 1);
        while (rc == 0 && at_end < parts) {
            if (wire_mono_ns() / 1000000 >= deadline) {
                rc = wire_errf(err, WIRE_EIO,
                               "kafka: reading positions topic %s to its end timed out after "
                               "%lld ms (%d of %d partitions read): the positions this sink "
                               "committed are unknown, so the pipeline does not start",
                               s->c->positions_topic, (long long)timeout, at_end, parts);
                break;
            }
            rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
            if (!m)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (m->partition >= 0 && m->partition < parts && !eof[m->partition]) {
                    eof[m->partition] = 1;
                    at_end++;
                }
            } else if (m->err) {
                wire_warn("kafka: reading positions topic %s: %s", s->c->positions_topic,
                          rd_kafka_message_errstr(m));
            } else {
                uint64_t rid;
                wire_position *rp = NULL;
                size_t rn = 0;
                /* the newest record wins (one partition holds our key; a
                   repartitioned topic may hold older ones elsewhere) */
                if (parse_record(m, s->txn_id, &rid, &rp, &rn) && rid >= *id) {
                    free(*pos);
                    *pos = rp;
                    *npos = rn;
                    *id = rid;
                } else {
                    free(rp);
                }
            }
            rd_kafka_message_destroy(m);
        }
        free(eof);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (rc != 0) {
        free(*pos);
        *pos = NULL;
        *npos = 0;
        return rc;
    }
    if (*npos) {
        wire_positions_json(*pos, *npos, &s->last_positions);
        wire_info("kafka: %s: positions of checkpoint %llu read back from %s", s->txn_id,
                  (unsigned long long)*id, s->c->positions_topic);
    }
    return 0;
}

static int64_t kafka_sink_linger(void *self)
{
    return 5;
}

const wire_sink_def wire_sink_kafka = {
    .base = {WIRE_KIND_SINK, "kafka",
             "Produce to a Kafka topic (at-least-once, idempotent producer; exactly-once: one "
             "transaction per checkpoint, with the source positions)",
             kafka_sink_options, sizeof(kafka_sink_config), WIRE_CAP_EO_POSITIONS,
             kafka_sink_create, kafka_sink_destroy},
    .write = kafka_sink_write,
    .flush = kafka_sink_flush,
    .linger_ms = kafka_sink_linger,
    .discard = kafka_sink_discard,
    .commit_positions = kafka_sink_commit_positions,
    .recover_positions = kafka_sink_recover_positions,
};
