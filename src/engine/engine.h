/*
 * engine.h — the single-process data path: component interfaces (sources,
 * transforms, sinks), pipeline specs, bounded queues and the runner.
 *
 * A running pipeline is three kinds of threads joined by queues bounded in
 * bytes:
 *
 *   source thread ──q──▶ worker thread (transforms, fan-out) ──q──▶ sink thread (one per sink)
 *
 * When a queue is full the stage upstream blocks; at the edge the source
 * stops reading (file), slows (generate) or answers 429/503 (http). Batches
 * are numbered; each sink acknowledges batches in order after its flush
 * succeeds, and a batch's source positions are committable once every sink
 * has acknowledged it (issue 3 persists them through a checkpoint store).
 *
 * The engine knows a registry of component definitions, not the connectors:
 * the registry is assembled above it (src/registry/registry.c). What every
 * kind of component shares is in engine/component.h.
 */
#ifndef WIRE_ENGINE_H
#define WIRE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/config.h"
#include "core/event.h"
#include "core/expr.h"
#include "core/hist.h"
#include "engine/component.h"
#include "engine/dispose.h"
#include "engine/retry.h"

typedef struct wire_pipeline wire_pipeline;
typedef struct wire_source_ctx wire_source_ctx;
typedef struct wire_transform_ctx wire_transform_ctx;

/* Counters of one stage (source, each transform, each sink). */
typedef struct wire_stage_stats {
    atomic_uint_fast64_t in, out, filtered, errors, dropped, dlq, bytes_in, bytes_out, retries;
} wire_stage_stats;

/* ---- Sources ---- */

/* The kind definitions: the base first (engine/component.h), then the
   kind's own callbacks. */

typedef struct wire_source_def {
    wire_component_def base; /* kind WIRE_KIND_SOURCE */
    /*
     * Run in the source thread: produce batches with wire_source_batch() and
     * wire_source_emit() until the input ends (return 0: finished), a stop is
     * requested (return WIRE_ESTOPPED), or a fatal error (return <0, err set).
     * Blocking waits must poll wire_source_stopping() at least every 100 ms,
     * or implement `wake`.
     */
    int (*run)(void *self, wire_source_ctx *ctx, wire_err *err);
    /* Optional: interrupt a blocking wait after stop was requested (any thread). */
    void (*wake)(void *self);
    /*
     * Optional: a checkpoint is durable. For sources that acknowledge
     * upstream (Kafka offset commit, http ack: committed; later PG flush LSN,
     * Redis XACK) only once the data is safe (Flink's
     * notifyCheckpointComplete): acknowledging earlier loses data on a crash.
     * `pos` are the positions the checkpoint holds, one per split (splits
     * restored from an earlier checkpoint included, so check identities);
     * every event before them is durably accepted by every sink. Called on
     * the checkpointer thread, concurrently with run() and also after it
     * returned (the final checkpoint), never after destroy; ids increase;
     * never for a save that failed. The initial checkpoint a pipeline saves
     * at its first start (no positions yet) is not reported. `pos` is valid
     * during the call only.
     */
    void (*on_checkpoint_committed)(void *self, uint64_t checkpoint_id, const wire_position *pos,
                                    size_t npos);
    /* Optional: the metadata its events carry for expressions (`_kafka.partition`;
       core/expr.h), resolved by meta->get with the source instance as self, on
       the worker thread while run() goes on. */
    const wire_meta_ns *meta;
} wire_source_def;

/* Get an empty batch from the pipeline's pool. */
wire_batch *wire_source_batch(wire_source_ctx *ctx);
/*
 * Hand a batch to the pipeline. Unless `validated`, every event is checked
 * with wire_json_validate_object(); malformed ones are removed, counted and
 * reported. Blocks while the pipeline's input queue is over its byte budget.
 * Returns 0, or WIRE_ESTOPPED if the pipeline is stopping (the batch is
 * released either way).
 */
int wire_source_emit(wire_source_ctx *ctx, wire_batch *b, bool validated);
/* Bounded variant: waits at most timeout_ms (0: not at all; at most 100 ms, so
   a caller keeps polling wire_source_stopping) for room, then WIRE_EAGAIN
   (the batch NOT consumed) while the queue is still full. */
int wire_source_try_emit(wire_source_ctx *ctx, wire_batch *b, bool validated, int64_t timeout_ms);
bool wire_source_stopping(const wire_source_ctx *ctx);
/*
 * Generators with `rate` (events per second of wall-clock time, 0: as fast
 * as taken) and `batch` options (engine/pace.c): the events per batch (a
 * twentieth of a second's worth at most, so a slow rate still flows), and a
 * wait until event number `produced` (counted from start_ns, wire_mono_ns)
 * is due, polling wire_source_stopping.
 */
uint64_t wire_source_pace_batch(int64_t batch, int64_t rate);
void wire_source_pace(wire_source_ctx *ctx, int64_t start_ns, uint64_t produced, int64_t rate);
/*
 * Position to resume from for a split, or NULL: from the last checkpoint of
 * this instance, and with parallel instances from the newest checkpoints of
 * the others as last read by wire_source_refresh_resume — the furthest
 * position wins (splits whose offsets only grow, as Kafka partitions). The
 * pointer stays valid until the next refresh (call both from the source
 * thread).
 */
const wire_position *wire_source_resume(const wire_source_ctx *ctx, uint32_t split);
/*
 * Parallel instances: read the other instances' newest checkpoints now (when
 * splits are assigned here). 0, or <0 with err set (the positions read before
 * stay). A no-op with parallelism 1 or a store that has no peers.
 */
int wire_source_refresh_resume(wire_source_ctx *ctx, wire_err *err);
/*
 * Ask for a checkpoint covering every batch emitted so far and wait until it
 * is saved: 0; WIRE_EAGAIN after timeout_ms or when no checkpoint can be
 * taken (no store, a failed save); WIRE_ESTOPPED when the pipeline stops. For
 * a source about to give splits up (a Kafka revoke), so that their next owner
 * resumes exactly where this instance stopped.
 */
int wire_source_checkpoint_wait(wire_source_ctx *ctx, int64_t timeout_ms);
/*
 * Ask for a checkpoint now rather than at the next interval (a source whose
 * clients wait for on_checkpoint_committed, e.g. http with ack: committed).
 */
void wire_source_request_checkpoint(wire_source_ctx *ctx);

/* The splits this instance reads now, as a JSON array the source chooses (Kafka:
   [{"topic":..,"partition":..}]); shown per instance by GET /v1/pipelines/NAME. */
void wire_source_set_splits(wire_source_ctx *ctx, const char *json, size_t n);

/* Count malformed input that a source rejected itself (e.g. http 400). */
void wire_source_count_invalid(wire_source_ctx *ctx, uint64_t n);
/*
 * Malformed input the source can say more about (where it came from): counted
 * as invalid, written to the pipeline's dead-letter queue when it has one
 * (durably, before returning), else dropped; logged (the first 10). `why`
 * names the place (topic, partition, offset) and the problem. Returns 0, or
 * an error when the dead-letter queue failed (the source should stop).
 */
int wire_source_reject(wire_source_ctx *ctx, const char *data, size_t len, const char *why);
const char *wire_source_pipeline_name(const wire_source_ctx *ctx);

/* ---- Transforms ---- */

typedef struct wire_transform_def {
    wire_component_def base; /* kind WIRE_KIND_TRANSFORM */
    /*
     * Process a batch in place: remove events (filter), rewrite them (write
     * new bytes into b->arena, repoint ev->data, set WIRE_EV_MODIFIED).
     * A transform that decides event by event hands its step to
     * wire_transform_each(), which compacts the batch, counts removals and
     * applies on_error. Otherwise: count removals with
     * wire_transform_filtered(); for a per-event failure call
     * wire_transform_event_error(): if it returns 0 the event is dropped per
     * on_error and processing goes on; if <0 return it.
     */
    int (*process)(void *self, wire_batch *b, wire_transform_ctx *ctx);
} wire_transform_def;

/*
 * What a transform sees besides its batch. The runner owns it; unit tests may
 * build one with wire_transform_ctx_init().
 */
struct wire_transform_ctx {
    wire_eval_ctx eval;
    wire_stage_stats *stats; /* this transform's counters, or NULL */
    uint64_t id_seed;
    uint64_t event_errors;  /* per-event errors seen (all policies) */
    char last_error[256];   /* message of the last per-event error */
    wire_disposer disposer; /* on_error; the pipeline names the stage and gives its DLQ */
};
void wire_transform_ctx_init(wire_transform_ctx *ctx, int on_error, uint64_t id_seed);

/* Evaluation context prepared for this batch (arena = batch arena). */
wire_eval_ctx *wire_transform_eval_ctx(wire_transform_ctx *ctx, wire_batch *b);
void wire_transform_filtered(wire_transform_ctx *ctx, uint64_t n);
int wire_transform_event_error(wire_transform_ctx *ctx, const wire_event *ev, const char *msg);

/*
 * One event of a per-event transform. `ec` is prepared for `ev` (a fresh
 * field cache). Return 1 to keep the event (rewritten or not), 0 to remove it
 * (counted as filtered), or <0 for a failure described in `msg`, which then
 * goes to the on_error policy.
 */
typedef int (*wire_event_step)(void *self, wire_eval_ctx *ec, wire_event *ev, wire_batch *b,
                               char *msg, size_t msg_size);
/*
 * Run `step` over every event of `b`, compacting the kept ones in place (in
 * order, untouched events byte for byte) and keeping b->bytes right. Returns
 * 0, or the policy's <0 code; then the events not yet processed are kept, in
 * order.
 */
int wire_transform_each(wire_transform_ctx *ctx, wire_batch *b, wire_event_step step, void *self);

/* ---- Sinks ---- */

typedef struct wire_sink_def {
    wire_component_def base; /* kind WIRE_KIND_SINK; create opens, destroy closes */
    /*
     * Accept a batch (may be empty). The sink may buffer. Returns 0, or 1 to
     * ask for a flush now (buffer full), or <0: WIRE_EAGAIN retryable,
     * WIRE_EPERM permanent, others fatal.
     */
    int (*write)(void *self, const wire_batch *b, wire_err *err);
    /* Make everything written so far durably accepted; 0 or <0 as for write. */
    int (*flush)(void *self, wire_err *err);
    /* Longest time the runner may hold written-but-unflushed data (0 = flush when idle). */
    int64_t (*linger_ms)(void *self);
    /* Optional: make everything flushed so far survive a crash (fsync). Called
       at every checkpoint barrier, after flush. */
    int (*sync)(void *self, wire_err *err);
    /* Optional: the sink's commit state at a barrier, as a JSON value (e.g.
       {"length":N}); stored in the checkpoint. */
    void (*snapshot)(void *self, wire_buf *out);
    /* Optional (exactly-once): return to the state of a checkpoint before
       anything is written, e.g. truncate an uncommitted tail. */
    int (*restore)(void *self, const char *state, size_t n, wire_err *err);
    /* Optional: forget whatever is written but not yet accepted, and return
       how many of the events written since the last successful flush the
       destination had already accepted (they count as delivered). With it,
       the runner finds the events a permanent error is about by bisection and
       dead-letters only those; without it, all unflushed events. */
    size_t (*discard)(void *self);
    /*
     * Sink-owned positions (WIRE_CAP_EO_POSITIONS; docs/delivery.md). Both
     * optional, and called only when the pipeline's delivery is exactly-once.
     *
     * commit_positions: at checkpoint barrier `id`, after flush and sync,
     * commit everything written since the previous barrier together with
     * `pos`, the source positions checkpoint `id` will hold (per split: just
     * after the last event before the barrier; splits not seen since the
     * start keep their resume position), in one atomic step. 0 once both are
     * durable together; <0 with err set when neither is: the pipeline fails
     * (no checkpoint for this barrier) and a restart resumes from the last
     * one.
     *
     * recover_positions: at start, after create and before restore and the
     * source: the checkpoint id and positions of the sink's newest
     * commit_positions that took effect. 0 with *npos = 0 when it has none;
     * *pos is malloc'd and the engine frees it. Where it has a split, the
     * sink's position overrides the checkpoint's: a crash between the
     * sink's commit and the checkpoint's save neither duplicates nor loses.
     * <0: the pipeline does not start.
     */
    int (*commit_positions)(void *self, uint64_t id, const wire_position *pos, size_t npos,
                            wire_err *err);
    int (*recover_positions)(void *self, uint64_t *id, wire_position **pos, size_t *npos,
                             wire_err *err);
} wire_sink_def;

/*
 * Positions as JSON, in the form checkpoints store them (every field, so
 * they round-trip): [{"split":N,"flags":N,"identity":["<hex>","<hex>"],
 * "epoch_ms":N,"offset":N}, ...]. For sinks that keep positions themselves.
 * wire_positions_json appends to `out`; wire_positions_parse allocates *pos
 * (free() it; NULL when there are none) and fails on anything else.
 */
void wire_positions_json(const wire_position *pos, size_t n, wire_buf *out);
int wire_positions_parse(const char *json, size_t n, wire_position **pos, size_t *npos,
                         wire_err *err);

/* ---- Registry lookups by kind (engine/component.h has the registry) ---- */

const wire_source_def *wire_registry_source(const wire_registry *r, const char *type);
const wire_transform_def *wire_registry_transform(const wire_registry *r, const char *type);
const wire_sink_def *wire_registry_sink(const wire_registry *r, const char *type);

/* ---- Pipeline specs (the parsed pipeline file) ---- */

typedef enum { WIRE_DELIVERY_AT_LEAST_ONCE, WIRE_DELIVERY_EXACTLY_ONCE } wire_delivery;
typedef enum { WIRE_ON_ERROR_DROP, WIRE_ON_ERROR_FAIL, WIRE_ON_ERROR_DLQ } wire_on_error;

typedef struct wire_component {
    char *type;
    char *name; /* `name:`, or its place: source, transforms[0], sink, sinks[1], dlq */
    /* wire_source_def / wire_transform_def / wire_sink_def, whose first
       member is its wire_component_def base */
    const void *def;
    void *config; /* parsed option struct (base.config_size bytes) */
    /* Transforms and sinks: wire_on_error. A sink's applies to events it
       rejects for good (permanent error, retries exhausted); default dlq when
       the pipeline has one, else fail (stop). */
    int on_error;
    /* Sinks and the dlq: `retry: {initial, max, max_attempts, max_elapsed}`;
       wire_retry_policy_default() where not given. */
    wire_retry_policy retry;
    int line, col;
} wire_component;

typedef struct wire_event_time_spec {
    char *field;      /* JSON path (a.b) of the event time: ms number or RFC 3339 string */
    int64_t delay_ms; /* watermark_delay: W = max(ts) - delay, per split */
    int64_t idle_ms;  /* idle_after: a split silent this long leaves the minimum (0: never) */
} wire_event_time_spec;

typedef struct wire_pipeline_spec {
    char *name;
    char *file; /* where it came from */
    wire_component source;
    wire_component *transforms;
    size_t ntransforms;
    wire_component *sinks;
    size_t nsinks;
    wire_component dlq; /* type NULL if none */
    wire_delivery delivery;
    int64_t checkpoint_interval_ms;
    int64_t shutdown_timeout_ms;
    int64_t queue_bytes;  /* byte budget per queue */
    int64_t batch_events; /* max events a source puts in one batch */
    uint64_t hash;        /* of the document text: detects changes on reload */
    char *placement_node; /* `placement: {node}` (cluster), or NULL */
    uint32_t parallelism; /* `parallelism: N` (>= 1): instances sharing the source's splits */
    /* The source's `event_time: {field, watermark_delay, idle_after}` (STREAMING.md §3.1,
       §3.3; docs/streaming.md): field NULL when it has none. */
    wire_event_time_spec event_time;
} wire_pipeline_spec;

/*
 * The limits a pipeline document meets, the same in `wire serve` (over HTTP),
 * `wire validate` and `wire run`: --max-pipeline-bytes and --max-transforms.
 * 0 is no limit. A document over max_bytes is reported at 1:1 and not parsed.
 */
#define WIRE_SPEC_MAX_BYTES (1 << 20)
#define WIRE_SPEC_MAX_TRANSFORMS 1000
typedef struct wire_spec_limits {
    int64_t max_bytes;
    int64_t max_transforms;
} wire_spec_limits;

/* Parse a pipeline document; every problem goes to `d`. 0 if none. `lim` may be NULL. */
int wire_spec_load_file(const wire_registry *r, const char *path, const wire_spec_limits *lim,
                        wire_pipeline_spec **out, wire_diags *d);
int wire_spec_load_limited(const wire_registry *r, const char *name, const char *text, size_t n,
                           const wire_spec_limits *lim, wire_pipeline_spec **out, wire_diags *d);
/* No limits: for documents already accepted (stored in the cluster, tests). */
int wire_spec_load_mem(const wire_registry *r, const char *name, const char *text, size_t n,
                       wire_pipeline_spec **out, wire_diags *d);
void wire_spec_free(wire_pipeline_spec *s);
/* Every path option (WIRE_OPT_PATH) of the spec's components against a
   node's sandbox (core/sandbox.h; a template's {{instance}} as 0): each
   refusal goes to `d`, naming the component and the option. 0 if none (and
   always with a NULL sandbox). */
int wire_spec_check_paths(const wire_pipeline_spec *s, const struct wire_sandbox *sb,
                          wire_diags *d);
/*
 * Secret references (engine/secrets.c, docs/security.md): a string option
 * whose whole value is ${env:NAME} or ${file:PATH}. check: every reference
 * well-formed, a ${file:} inside the sandbox (NULL: anywhere), and with
 * refuse_literals (a document submitted to a node) no literal value for an
 * option that names a secret (wire_secret_key); problems go to `d`.
 * resolve: replace every reference with its value, on the node that runs the
 * pipeline (${file:} through the sandbox); 0, or <0 with err naming the
 * option and the reference, never a value.
 */
int wire_spec_check_secrets(const wire_pipeline_spec *s, const struct wire_sandbox *sb,
                            bool refuse_literals, wire_diags *d);
int wire_spec_resolve_secrets(wire_pipeline_spec *s, const struct wire_sandbox *sb, wire_err *err);
/* Whether an option or map key names a secret: password, key_pass, token,
   anything with "secret", an Authorization header (case-insensitive). */
bool wire_secret_key(const char *key);

/* ---- Running pipelines ---- */

typedef enum {
    WIRE_PIPE_PENDING,
    WIRE_PIPE_RUNNING,
    WIRE_PIPE_FINISHED,
    WIRE_PIPE_STOPPED,
    WIRE_PIPE_FAILED,
} wire_pipe_state;

typedef struct wire_pipeline_stats {
    atomic_uint_fast64_t events_in;     /* accepted from the source (valid) */
    atomic_uint_fast64_t invalid;       /* malformed input rejected at ingest */
    atomic_uint_fast64_t filtered;      /* removed by transforms */
    atomic_uint_fast64_t errors;        /* transform/sink errors (events) */
    atomic_uint_fast64_t dropped;       /* dropped by policy */
    atomic_uint_fast64_t dead_lettered; /* written to the dead-letter queue */
    atomic_uint_fast64_t events_out;    /* acknowledged by every sink */
    atomic_uint_fast64_t undelivered;   /* counted in, then given up (stop, failure) */
    atomic_uint_fast64_t bytes_in, bytes_out;
    atomic_uint_fast64_t batches;
    atomic_uint_fast64_t checkpoints; /* saved */
    atomic_uint_fast64_t checkpoint_errors;
    atomic_int_fast64_t last_checkpoint_ms; /* wall time of the last saved checkpoint */
    atomic_int_fast64_t watermark_ms; /* event_time: the operator watermark (INT64_MIN: none) */
    wire_hist latency_us;             /* per batch: ingest -> acknowledged by every sink */
} wire_pipeline_stats;

typedef struct wire_checkpoint_store wire_checkpoint_store;

typedef struct wire_engine_opts {
    const char *data_dir;
    wire_checkpoint_store *store; /* NULL: no checkpoints (tests, benchmarks) */
    uint64_t version;  /* pipeline version; 0: 1, or derived from the checkpoint (+1 if the
                          spec changed since) */
    uint32_t instance; /* which of the spec's `parallelism` instances this is (0-based) */
    const struct wire_sandbox *sandbox; /* confines the components' files; NULL: none */
} wire_engine_opts;

/* Takes ownership of `spec`. */
int wire_pipeline_new(wire_pipeline_spec *spec, const wire_engine_opts *opts, wire_pipeline **out,
                      wire_err *err);
int wire_pipeline_start(wire_pipeline *p, wire_err *err);
/* Ask to stop (any thread, async-signal-unsafe). Sources stop, queues drain. */
void wire_pipeline_stop(wire_pipeline *p);
/* Wait until every thread has ended. Returns the final state. */
wire_pipe_state wire_pipeline_wait(wire_pipeline *p);
/* Wait up to timeout_ms; returns 1 if ended. */
int wire_pipeline_timedwait(wire_pipeline *p, int64_t timeout_ms);
wire_pipe_state wire_pipeline_state(const wire_pipeline *p);
const char *wire_pipeline_error(const wire_pipeline *p);
const wire_pipeline_spec *wire_pipeline_spec_of(const wire_pipeline *p);
const wire_pipeline_stats *wire_pipeline_stats_of(const wire_pipeline *p);
/* The stages of a running pipeline, for metrics and status. */
typedef struct wire_stage_info {
    const char *kind; /* "source", "transform", "sink", "dlq" */
    const char *name; /* component name ("source", "transforms[0]", "sink", ...) */
    const char *type; /* "file", "filter", ... */
    const wire_stage_stats *stats;
} wire_stage_info;
size_t wire_pipeline_stages(const wire_pipeline *p, wire_stage_info *out, size_t max);

/* The newest checkpoint saved (id 0 if none yet) and when. */
void wire_pipeline_checkpoint_info(const wire_pipeline *p, uint64_t *id, int64_t *time_ms);
uint64_t wire_pipeline_version(const wire_pipeline *p);
/* wire_mono_ns() when its last thread ended; 0 while it runs. */
int64_t wire_pipeline_ended_ns(wire_pipeline *p);

/* Sums over the stages' counters (for summaries and invariants). */
typedef struct wire_pipeline_totals_t {
    uint64_t filtered, errors, dropped, dead_lettered, retries;
} wire_pipeline_totals_t;
void wire_pipeline_totals(const wire_pipeline *p, wire_pipeline_totals_t *t);

/*
 * The counters a pipeline reports where it is not running (a cluster's
 * state machine keeps them across runs; GET /v1/pipelines shows them):
 * one struct, one JSON form
 * {"events_in","events_out","filtered","dead_lettered","dropped","invalid","errors"}.
 */
typedef struct wire_pipeline_counters {
    uint64_t events_in, events_out, filtered, dead_lettered, dropped, invalid, errors;
} wire_pipeline_counters;
/* The splits its source reported (wire_source_set_splits), or "[]", appended to out. */
void wire_pipeline_splits_json(wire_pipeline *p, wire_buf *out);
/* Add p's live counters to c. */
void wire_pipeline_counters_add(const wire_pipeline *p, wire_pipeline_counters *c);
void wire_pipeline_counters_json(const wire_pipeline_counters *c, wire_buf *out);
/* into += c, field by field (the instances of a parallel pipeline). */
void wire_pipeline_counters_sum(wire_pipeline_counters *into, const wire_pipeline_counters *c);
/* Parse that JSON (absent or malformed fields are 0). */
void wire_pipeline_counters_parse(const char *json, size_t n, wire_pipeline_counters *c);
void wire_pipeline_free(wire_pipeline *p);
const char *wire_pipe_state_name(wire_pipe_state s);

#endif
