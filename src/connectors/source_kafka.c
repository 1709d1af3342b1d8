/*
 * source_kafka.c — the `kafka` source: a librdkafka consumer in a consumer
 * group (cooperative-sticky), one split per topic-partition.
 *
 * Positions: the next offset of each partition (last delivered + 1) is in
 * the batch's positions and so in Wire's checkpoint, which is the truth:
 * Kafka's auto commit and offset store are off. When the group assigns a
 * partition, the rebalance callback starts it at its checkpointed offset,
 * or else where `start_from` says. With `commit_offsets: true`, once a
 * checkpoint is durable (on_checkpoint_committed, on the checkpointer
 * thread) exactly its positions are committed to Kafka — offset = position,
 * the next offset to read — for the partitions this consumer is assigned
 * now (a partition that moved to another member is that member's to
 * commit); for lag tooling: a restart still resumes from the checkpoint.
 *
 * Split ids are stable across restarts: topic index (in `topics`) × 65536 +
 * partition; the position's identity holds a hash of the topic name and the
 * partition, and a checkpointed position whose identity differs is ignored.
 *
 * Backpressure is not death: when the pipeline's queue stays full for
 * KAFKA_PAUSE_AFTER_MS the assigned partitions are paused and the consumer
 * keeps polling (so the group does not evict it after max.poll.interval.ms);
 * a message already fetched is sought back and read again after the resume.
 * A shorter wait only waits: a pause drops librdkafka's prefetched messages
 * and its fetcher restarts on a 1 s timer, which made a pipeline that was
 * full for a moment read in bursts (K1 in bench/kafka.sh).
 *
 * Metadata in expressions (`_kafka.topic`, `.partition`, `.offset`, `.key`,
 * `.timestamp`) is resolved from the event's own fields — split, offset,
 * key, time — and the topic names; nothing is copied into the JSON, so a
 * pipeline that does not name them pays nothing but the key's copy.
 *
 * `stop_at: latest` reads every partition of the topics up to the end
 * offsets seen at start, then finishes (backfills, tests).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"
#include "connectors/kafka.h"
#include "connectors/lines.h"
#include "core/json.h"

enum { START_EARLIEST, START_LATEST, START_COMMITTED };
enum { FORMAT_JSON, FORMAT_TEXT };
enum { STOP_NEVER, STOP_LATEST };

#define KAFKA_MAX_TOPICS 64
#define KAFKA_BATCH 4096
#define KAFKA_PAUSE_AFTER_MS 1000

typedef struct kafka_config {
    wire_strlist brokers;
    wire_strlist topics;
    char *group_id;
    int start_from;
    bool commit_offsets;
    int format;
    int stop_at;
    int64_t batch;
    wire_strmap librdkafka;
    wire_tls_opts tls;
} kafka_config;

static const wire_option kafka_options[] = {
    {"brokers", WIRE_OPT_STRLIST, NULL, WIRE_OPT_REQUIRED, offsetof(kafka_config, brokers), NULL,
     "Bootstrap brokers: \"host:port,host:port\" or a list."},
    {"topics", WIRE_OPT_STRLIST, NULL, WIRE_OPT_REQUIRED, offsetof(kafka_config, topics), NULL,
     "Topics to consume (at most 64)."},
    {"group_id", WIRE_OPT_STRING, NULL, 0, offsetof(kafka_config, group_id), NULL,
     "Consumer group (default: the pipeline's name)."},
    {"start_from", WIRE_OPT_ENUM, "earliest", 0, offsetof(kafka_config, start_from),
     "earliest|latest|committed",
     "Where a partition starts when no checkpoint holds its offset: its first offset, its end, "
     "or the group's committed offset (earliest when there is none)."},
    {"commit_offsets", WIRE_OPT_BOOL, "false", 0, offsetof(kafka_config, commit_offsets), NULL,
     "Also commit each durable checkpoint's offsets to Kafka (for lag tools; the checkpoint "
     "stays the truth)."},
    {"format", WIRE_OPT_ENUM, "json", 0, offsetof(kafka_config, format), "json|text",
     "json: each message value is a JSON object; text: it becomes {\"message\": value}."},
    {"stop_at", WIRE_OPT_ENUM, "never", 0, offsetof(kafka_config, stop_at), "never|latest",
     "latest: read up to the end offsets seen at start, then finish (wire run exits)."},
    {"batch", WIRE_OPT_INT, "4096", 0, offsetof(kafka_config, batch), NULL,
     "Messages per batch at most."},
    {"librdkafka", WIRE_OPT_STRMAP, NULL, 0, offsetof(kafka_config, librdkafka), NULL,
     "librdkafka consumer properties, passed through (e.g. {fetch.max.bytes: 1048576})."},
    {"tls", WIRE_OPT_TLS, NULL, 0, offsetof(kafka_config, tls), NULL,
     "TLS to the brokers, as librdkafka's ssl.* (docs/kafka.md; server_name and min_version "
     "are not librdkafka's: refused)"},
    {NULL},
};

typedef struct part_end {
    int topic, partition;
    int64_t end; /* stop_at latest: finished once the next offset reaches this */
} part_end;

typedef struct kafka_source {
    const kafka_config *c;
    wire_source_ctx *ctx;
    rd_kafka_t *rk;
    uint64_t topic_hash[KAFKA_MAX_TOPICS];
    int64_t epoch_ms;
    atomic_bool consuming; /* rk is set: checkpoint notifications may commit through it */
    /* next offset per split we emitted (-1 unknown), for stop_at and re-assignment */
    int64_t *next;
    int64_t *eof; /* stop_at latest: the end a partition-EOF event reported (-1: none) */
    size_t nnext;
    bool paused, said_paused;
    wire_buf tmp; /* format text: the wrapped message */
    part_end *ends;
    size_t nends;
    bool parallel;        /* one of several instances sharing the group's partitions */
    wire_batch *building; /* the batch being filled (a revoke emits it first) */
    char *topic_json[KAFKA_MAX_TOPICS]; /* each topic name as a JSON string, for _kafka.topic */
    size_t topic_json_len[KAFKA_MAX_TOPICS];
} kafka_source;

static int topic_index(const kafka_source *s, const char *topic)
{
    for (size_t i = 0; i < s->c->topics.n; i++)
        if (strcmp(s->c->topics.v[i], topic) == 0)
            return (int)i;
    return -1;
}

static uint32_t split_of(int topic, int32_t partition)
{
    return (uint32_t)topic * 65536u + (uint32_t)partition;
}

static int64_t *next_slot(kafka_source *s, uint32_t split)
{
    if (split >= s->nnext) {
        size_t n = split + 1;
        s->next = wire_xrealloc(s->next, n * sizeof(*s->next));
        s->eof = wire_xrealloc(s->eof, n * sizeof(*s->eof));
        for (size_t i = s->nnext; i < n; i++)
            s->next[i] = s->eof[i] = -1;
        s->nnext = n;
    }
    return &s->next[split];
}

/* The offset a newly assigned partition starts at. */
static int64_t start_offset(kafka_source *s, int topic, int32_t partition)
{
    uint32_t split = split_of(topic, partition);
    int64_t *mine = next_slot(s, split);
    const wire_position *p = wire_source_resume(s->ctx, split);
    bool known =
        p && p->identity[0] == s->topic_hash[topic] && p->identity[1] == (uint64_t)partition;
    /* given back and assigned again: where this process stopped, unless another instance
       took the partition meanwhile and checkpointed it further */
    if (*mine >= 0)
        return known && (int64_t)p->offset > *mine ? (int64_t)p->offset : *mine;
    if (known)
        return (int64_t)p->offset;
    switch (s->c->start_from) {
    case START_LATEST: return RD_KAFKA_OFFSET_END;
    case START_COMMITTED: return RD_KAFKA_OFFSET_STORED;
    default: return RD_KAFKA_OFFSET_BEGINNING;
    }
}

/* Report the partitions assigned here: [{"topic":..,"partition":..}, ...]. */
static void report_splits(kafka_source *s)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(s->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || !l)
        return;
    wire_buf b;
    wire_buf_init(&b);
    wire_jw w;
    wire_jw_init(&w, &b);
    wire_jw_arr(&w);
    for (int i = 0; i < l->cnt; i++) {
        wire_jw_obj(&w);
        wire_jw_kstr(&w, "topic", l->elems[i].topic);
        wire_jw_kint(&w, "partition", l->elems[i].partition);
        wire_jw_end(&w);
    }
    wire_jw_end(&w);
    wire_source_set_splits(s->ctx, b.p, b.len);
    wire_buf_free(&b);
    rd_kafka_topic_partition_list_destroy(l);
}

/*
 * Parallel instances, before partitions go: everything read from them so far
 * is emitted and checkpointed, so the instance that gets them next resumes
 * exactly here (it reads the furthest checkpointed position of every instance).
 */
static void checkpoint_before_revoke(kafka_source *s)
{
    wire_batch *b = s->building;
    if (b && (b->n || b->npos)) {
        s->building = wire_source_batch(s->ctx);
        wire_source_emit(s->ctx, b, true);
    }
    int rc = wire_source_checkpoint_wait(s->ctx, 30000);
    if (rc == WIRE_EAGAIN)
        wire_warn("kafka: no checkpoint before giving partitions up; their next owner may "
                  "read some messages again");
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_source *s = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        wire_err re;
        if (s->parallel && parts->cnt && wire_source_refresh_resume(s->ctx, &re) != 0)
            wire_warn("kafka: %s", re.msg);
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            int t = topic_index(s, tp->topic);
            tp->offset = t >= 0 ? start_offset(s, t, tp->partition) : RD_KAFKA_OFFSET_BEGINNING;
        }
        wire_info("kafka: assigned %d partition(s)", parts->cnt);
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e) {
            wire_warn("kafka: assign: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (s->paused) /* still backpressured: the new partitions wait too */
            rd_kafka_pause_partitions(rk, parts);
        report_splits(s);
    } else {
        wire_info("kafka: %d partition(s) revoked", parts->cnt);
        if (s->parallel && parts->cnt)
            checkpoint_before_revoke(s);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        report_splits(s);
    }
}

static int kafka_create(void **self, const void *config, const wire_component_env *env,
                        wire_err *err)
{
    const kafka_config *c = config;
    if (c->topics.n > KAFKA_MAX_TOPICS)
        return wire_errf(err, WIRE_EINVAL, "kafka: at most %d topics", KAFKA_MAX_TOPICS);
    kafka_source *s = wire_xcalloc(1, sizeof(*s));
    s->c = c;
    s->parallel = env && env->parallelism > 1;
    wire_buf_init(&s->tmp);
    for (size_t i = 0; i < c->topics.n; i++) {
        size_t n = strlen(c->topics.v[i]);
        s->topic_hash[i] = wire_hash64(c->topics.v[i], n, 0x6b61666b61ull);
        s->topic_json[i] = wire_xmalloc(WIRE_JSON_QUOTE_MAX(n));
        s->topic_json_len[i] = wire_json_quote(s->topic_json[i], c->topics.v[i], n);
    }
    *self = s;
    return 0;
}

static void kafka_destroy(void *self)
{
    kafka_source *s = self;
    if (s->rk) {
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
    }
    for (size_t i = 0; i < s->c->topics.n && i < KAFKA_MAX_TOPICS; i++)
        free(s->topic_json[i]);
    free(s->next);
    free(s->eof);
    wire_buf_free(&s->tmp);
    free(s->ends);
    free(s);
}

static void consumer_callbacks(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
}

static int open_consumer(kafka_source *s, wire_err *err)
{
    const kafka_config *c = s->c;
    const char *group =
        c->group_id && *c->group_id ? c->group_id : wire_source_pipeline_name(s->ctx);
    const wire_kafka_setting settings[] = {
        {"group.id", group},
        {"enable.auto.commit", "false"}, /* the checkpoint holds the positions */
        {"enable.auto.offset.store", "false"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"auto.offset.reset", "earliest"},
        /* stop_at latest: to know a partition is at its end */
        {"enable.partition.eof", c->stop_at == STOP_LATEST ? "true" : "false"},
        /* librdkafka counts this against the one queue all partitions feed
           (not per partition, as documented), and once over it fetches again
           only on a 1 s timer: 100,000 stalled a consumer that keeps up
           (K1 ran in 1 s bursts). Prefetch stays bounded by
           queued.max.messages.kbytes (64 MiB). */
        {"queued.min.messages", "1000000"},
        {NULL, NULL},
    };
    s->rk = wire_kafka_new(RD_KAFKA_CONSUMER, &c->brokers, settings, &c->tls, &c->librdkafka, s,
                           consumer_callbacks, err);
    if (!s->rk)
        return err->code ? err->code : WIRE_EINVAL;
    rd_kafka_poll_set_consumer(s->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)c->topics.n);
    for (size_t i = 0; i < c->topics.n; i++)
        rd_kafka_topic_partition_list_add(subs, c->topics.v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(s->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (kerr)
        return wire_errf(err, WIRE_EINVAL, "kafka: subscribe: %s", rd_kafka_err2str(kerr));
    return 0;
}

/* stop_at latest: every partition of the topics and its end offset now. */
static int read_ends(kafka_source *s, wire_err *err)
{
    for (int t = 0; t < (int)s->c->topics.n; t++) {
        const char *topic = s->c->topics.v[t];
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int attempt = 0; attempt < 50; attempt++) {
            kerr = rd_kafka_metadata(s->rk, 0, rkt, &md, 2000);
            if (!kerr && md->topic_cnt == 1 && !md->topics[0].err)
                break;
            if (md)
                rd_kafka_metadata_destroy(md);
            md = NULL;
            if (wire_source_stopping(s->ctx))
                break;
            wire_sleep_ms(100);
        }
        rd_kafka_topic_destroy(rkt);
        if (!md)
            return wire_errf(err, WIRE_EAGAIN, "kafka: no metadata for topic %s: %s", topic,
                             kerr ? rd_kafka_err2str(kerr) : "unknown topic");
        for (int p = 0; p < md->topics[0].partition_cnt; p++) {
            int32_t part = md->topics[0].partitions[p].id;
            int64_t lo = 0, hi = 0;
            kerr = rd_kafka_query_watermark_offsets(s->rk, topic, part, &lo, &hi, 5000);
            if (kerr) {
                rd_kafka_metadata_destroy(md);
                return wire_errf(err, WIRE_EAGAIN, "kafka: end offset of %s[%d]: %s", topic, part,
                                 rd_kafka_err2str(kerr));
            }
            s->ends = wire_xrealloc(s->ends, (s->nends + 1) * sizeof(*s->ends));
            s->ends[s->nends++] = (part_end){t, part, hi};
        }
        rd_kafka_metadata_destroy(md);
    }
    return 0;
}

static bool reached_ends(kafka_source *s)
{
    for (size_t i = 0; i < s->nends; i++) {
        const part_end *e = &s->ends[i];
        if (e->end == 0)
            continue;
        uint32_t split = split_of(e->topic, e->partition);
        int64_t at = split < s->nnext ? s->next[split] : -1;
        if (split < s->nnext && s->eof[split] >= e->end)
            continue; /* at its end (nothing new since a committed or latest start) */
        if (at < e->end) {
            const wire_position *p = wire_source_resume(s->ctx, split);
            if (!(at < 0 && p && (int64_t)p->offset >= e->end))
                return false;
        }
    }
    return true;
}

/* The batch covers this message now (taken, or rejected as malformed). */
static void advance(kafka_source *s, wire_batch *b, const rd_kafka_message_t *m, int topic)
{
    uint32_t split = split_of(topic, m->partition);
    wire_position pos = {
        .split = split, .epoch_ms = s->epoch_ms, .offset = (uint64_t)m->offset + 1};
    pos.identity[0] = s->topic_hash[topic];
    pos.identity[1] = (uint64_t)m->partition;
    wire_batch_set_position(b, &pos);
    *next_slot(s, split) = m->offset + 1;
}

/* Add one message to the batch (and its position); <0 if the dead-letter queue failed. */
static int add_message(kafka_source *s, wire_batch *b, const rd_kafka_message_t *m, int topic)
{
    const char *data = m->payload ? m->payload : "";
    size_t len = m->len;
    if (s->c->format == FORMAT_JSON) {
        wire_err jerr;
        if (wire_json_validate_object(data, len, &jerr) != 0) {
            char why[700];
            snprintf(why, sizeof(why), "kafka topic %s partition %d offset %" PRId64 ": %s",
                     s->c->topics.v[topic], (int)m->partition, m->offset, jerr.msg);
            advance(s, b, m, topic);
            return wire_source_reject(s->ctx, data, len, why);
        }
    }
    if (s->c->format == FORMAT_TEXT) {
        uint32_t wl;
        data = wire_lines_wrap_text(&s->tmp, b, data, len, &wl);
        len = wl;
    } else {
        char *dst = wire_arena_alloc_unaligned(&b->arena, len ? len : 1);
        memcpy(dst, data, len);
        data = dst;
    }
    wire_event *e = wire_batch_push(b, data, (uint32_t)len);
    e->split = split_of(topic, m->partition);
    e->offset = (uint64_t)m->offset;
    if (m->key) { /* for _kafka.key; the bytes live in the batch's arena like the value */
        char *k = wire_arena_alloc_unaligned(&b->arena, m->key_len ? m->key_len : 1);
        memcpy(k, m->key, m->key_len);
        e->key = k;
        e->key_len = (uint32_t)m->key_len;
    }
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    e->time_ms = ts > 0 ? ts : b->ingest_ms;
    advance(s, b, m, topic);
    return 0;
}

/*
 * A checkpoint is durable (checkpointer thread): with commit_offsets, commit
 * the positions it holds — offset = position, Kafka's "next offset to
 * read" — for the partitions assigned to this consumer now. Positions of
 * topics no longer configured, or whose identity differs, are skipped.
 */
static void kafka_checkpoint_committed(void *self, uint64_t id, const wire_position *pos,
                                       size_t npos)
{
    kafka_source *s = self;
    if (!s->c->commit_offsets || !atomic_load(&s->consuming) || npos == 0)
        return;
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(s->rk, &assigned) != 0 || !assigned)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)npos);
    for (size_t i = 0; i < npos; i++) {
        const wire_position *p = &pos[i];
        size_t t = p->split / 65536;
        int32_t part = (int32_t)(p->split % 65536);
        if (t >= s->c->topics.n || p->identity[0] != s->topic_hash[t] ||
            p->identity[1] != (uint64_t)part)
            continue;
        if (!rd_kafka_topic_partition_list_find(assigned, s->c->topics.v[t], part))
            continue;
        rd_kafka_topic_partition_list_add(l, s->c->topics.v[t], part)->offset = (int64_t)p->offset;
    }
    rd_kafka_topic_partition_list_destroy(assigned);
    if (l->cnt) {
        rd_kafka_resp_err_t kerr = rd_kafka_commit(s->rk, l, 0); /* sync: done before the next */
        if (kerr)
            wire_warn("kafka: committing the offsets of checkpoint %llu: %s",
                      (unsigned long long)id, rd_kafka_err2str(kerr));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void set_paused(kafka_source *s, bool pause)
{
    if (s->paused == pause)
        return;
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(s->rk, &a) == 0 && a) {
        if (pause)
            rd_kafka_pause_partitions(s->rk, a);
        else
            rd_kafka_resume_partitions(s->rk, a);
        if (pause && !s->said_paused) /* once: backpressure is normal, not news */
            wire_info("kafka: the pipeline is full: %d partition(s) paused; still polling, so "
                      "the group keeps this consumer",
                      a->cnt);
        s->said_paused |= pause;
        rd_kafka_topic_partition_list_destroy(a);
    }
    s->paused = pause;
}

/* While paused, a message fetched before the pause is sought back, to be read again. */
static void seek_back(kafka_source *s, const rd_kafka_message_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, l, 1000);
    if (e)
        rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Emit b, keeping the group session alive while the pipeline is full. */
static int emit_patiently(kafka_source *s, wire_batch *b)
{
    int64_t waited = 0;
    for (;;) {
        int64_t wait = s->paused || waited >= KAFKA_PAUSE_AFTER_MS ? 0 : 100;
        int rc = wire_source_try_emit(s->ctx, b, true, wait); /* validated as read */
        if (rc != WIRE_EAGAIN) {
            if (rc != 0)
                wire_batch_release(b);
            set_paused(s, false);
            return rc;
        }
        if (wait) {
            waited += wait;
        } else {
            set_paused(s, true);
            rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 50);
            if (m) {
                if (!m->err)
                    seek_back(s, m);
                rd_kafka_message_destroy(m);
            }
        }
        if (wire_source_stopping(s->ctx)) {
            wire_batch_release(b);
            return WIRE_ESTOPPED;
        }
    }
}

static int kafka_run(void *self, wire_source_ctx *ctx, wire_err *err)
{
    kafka_source *s = self;
    s->ctx = ctx;
    s->epoch_ms = wire_now_ms();
    int rc = open_consumer(s, err);
    if (rc)
        return rc;
    atomic_store(&s->consuming, true);
    if (s->c->stop_at == STOP_LATEST && (rc = read_ends(s, err)) != 0)
        return rc;
    size_t max = s->c->batch > 0 ? (size_t)s->c->batch : KAFKA_BATCH;
    while (!wire_source_stopping(ctx)) {
        if (s->c->stop_at == STOP_LATEST && reached_ends(s))
            return 0;
        wire_batch *b = s->building = wire_source_batch(ctx);
        int timeout = 100;
        while (b->n < max) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, timeout);
            b = s->building; /* a revoke during the poll emitted the one before */
            if (!m)
                break;
            timeout = 0; /* drain what is already fetched, then emit */
            if (m->err) {
                int et = m->rkt ? topic_index(s, rd_kafka_topic_name(m->rkt)) : -1;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && et >= 0) {
                    next_slot(s, split_of(et, m->partition));
                    s->eof[split_of(et, m->partition)] = m->offset;
                } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    wire_warn("kafka: %s", rd_kafka_message_errstr(m));
                }
                rd_kafka_message_destroy(m);
                continue;
            }
            int t = topic_index(s, rd_kafka_topic_name(m->rkt));
            rc = t >= 0 ? add_message(s, b, m, t) : 0;
            rd_kafka_message_destroy(m);
            if (rc != 0) {
                wire_batch_release(b);
                return wire_errf(err, rc, "kafka: the dead-letter queue failed");
            }
        }
        s->building = NULL;
        if (b->n == 0 && b->npos == 0) {
            wire_batch_release(b);
            continue;
        }
        if ((rc = emit_patiently(s, b)) != 0)
            return rc;
    }
    return WIRE_ESTOPPED;
}

/* ---- metadata in expressions: _kafka.* ---- */

enum { META_TOPIC, META_PARTITION, META_OFFSET, META_KEY, META_TIMESTAMP };
static const char *const kafka_meta_fields[] = {"topic", "partition", "offset",
                                                "key",   "timestamp", NULL};

static bool meta_number(wire_arena *a, int64_t v, wire_json_val *out)
{
    char *o = wire_arena_alloc_unaligned(a, 24);
    out->kind = WIRE_JSON_NUMBER;
    out->p = o;
    out->n = (size_t)snprintf(o, 24, "%lld", (long long)v);
    return true;
}

static bool kafka_meta_get(const void *self, const wire_event *ev, unsigned field, wire_arena *a,
                           wire_json_val *out)
{
    const kafka_source *s = self;
    size_t t = ev->split / 65536;
    switch (field) {
    case META_TOPIC:
        if (t >= s->c->topics.n)
            return false;
        out->kind = WIRE_JSON_STRING;
        out->p = s->topic_json[t];
        out->n = s->topic_json_len[t];
        return true;
    case META_PARTITION: return meta_number(a, (int64_t)(ev->split % 65536), out);
    case META_OFFSET: return meta_number(a, (int64_t)ev->offset, out);
    case META_TIMESTAMP: return meta_number(a, ev->time_ms, out);
    case META_KEY: {
        if (!ev->key)
            return false; /* a message without a key: null */
        char *o = wire_arena_alloc_unaligned(a, WIRE_JSON_QUOTE_MAX((size_t)ev->key_len));
        out->kind = WIRE_JSON_STRING;
        out->p = o;
        out->n = wire_json_quote(o, ev->key, ev->key_len);
        return true;
    }
    default: return false;
    }
}

static const wire_meta_ns kafka_meta = {"_kafka", kafka_meta_fields, kafka_meta_get};

const wire_source_def wire_source_kafka = {
    .base = {WIRE_KIND_SOURCE, "kafka",
             "Consume Kafka topics in a consumer group, one split per partition", kafka_options,
             sizeof(kafka_config), WIRE_CAP_BOUNDED | WIRE_CAP_REPLAYABLE | WIRE_CAP_SPLITTABLE,
             kafka_create, kafka_destroy},
    .run = kafka_run,
    .on_checkpoint_committed = kafka_checkpoint_committed,
    .meta = &kafka_meta,
};
