/*
 * runner.h — internals of the pipeline runner, shared by pipeline.c (life
 * cycle, source context, worker, completion), sink_runner.c (sink threads)
 * and checkpointer.c (barriers and checkpoints). Not for use outside
 * src/engine.
 */
#ifndef WIRE_RUNNER_H
#define WIRE_RUNNER_H

#include <pthread.h>

#include "engine/checkpoint.h"
#include "engine/dlq.h"
#include "engine/engine.h"
#include "engine/flight.h"
#include "engine/queue.h"

typedef struct sink_runner {
    wire_pipeline *p;
    size_t index;
    const wire_sink_def *def;
    void *self;
    wire_queue q;
    pthread_t thread;
    bool started;
    wire_stage_stats stats;
    wire_retry retry;
    wire_disposer disposer; /* on_error */
    /* written but not yet flushed, in order */
    wire_batch **pending;
    size_t npending, pending_cap;
    /* sink-owned positions (exactly-once and def->commit_positions): per
       split, the position of the newest batch this sink has written, from
       the resume positions on; handed to commit_positions at each barrier */
    bool owns_positions;
    wire_position *seen;
    size_t nseen, seen_cap;
} sink_runner;

struct wire_source_ctx {
    wire_pipeline *p;
};

struct wire_pipeline {
    wire_pipeline_spec *spec;
    char *data_dir;
    wire_batch_pool *pool;
    wire_queue in_q;

    const wire_source_def *source_def;
    void *source;
    wire_source_ctx source_ctx;
    wire_stage_stats source_stats;

    size_t ntransforms;
    void **transforms;
    wire_transform_ctx *tctx;
    wire_stage_stats *transform_stats;

    size_t nsinks;
    sink_runner *sinks;

    pthread_t source_thread, worker_thread;
    bool threads_started;
    atomic_bool stopping;
    atomic_uint_fast64_t next_seq;

    pthread_mutex_t lock; /* state, error, committed positions */
    pthread_cond_t done_cond;
    wire_pipe_state state;
    int threads_alive;
    int64_t ended_ns; /* wire_mono_ns() when the last thread ended */
    bool source_finished;
    char error[512];

    /* committed positions: per split, from the highest completed batch */
    wire_position *committed;
    uint64_t *committed_seq;
    size_t ncommitted, committed_cap;
    uint64_t committed_batches;
    bool commit_frozen; /* a batch was dropped unacknowledged: commit nothing after it */

    /* checkpoints (store may be NULL: then no barriers, no checkpointer) */
    wire_checkpoint_store *store;
    wire_checkpoint resume; /* loaded at start; empty if none */
    bool has_resume;
    char *splits;           /* wire_source_set_splits (lock) */
    wire_checkpoint *peers; /* the other instances' newest checkpoints (source thread) */
    size_t npeers;
    uint64_t version;
    uint32_t instance;                  /* of the spec's parallelism */
    const struct wire_sandbox *sandbox; /* its components' files stay inside; NULL: none */
    pthread_mutex_t emit_lock;          /* sequence numbers follow queue order */
    pthread_t checkpoint_thread;
    pthread_cond_t cp_cond; /* with lock: completions, requests, sinks ending */
    uint64_t next_cp_id;
    uint64_t last_saved_cp; /* id of the newest checkpoint saved (lock) */
    int barriers_in_flight;
    bool cp_requested;
    bool source_done;
    int sinks_alive;
    wire_checkpoint *cp_done; /* completed barriers waiting to be saved */
    size_t ncp_done, cp_done_cap;

    wire_dlq *dlq; /* NULL if the spec has none */

    /* event_time: the splits' watermarks, computed at ingest before any transform
       (wm_lock: sources may emit from more than one thread) */
    struct wire_watermarks *wm;
    pthread_mutex_t wm_lock;

    wire_pipeline_stats stats;
    uint64_t id_seed;
};

/* completion.c */
void runner_fail(wire_pipeline *p, const char *fmt, ...) WIRE_PRINTF(2, 3);
/* Record positions as committed for their splits (newer sequence wins); p->lock held. */
void runner_commit_positions_locked(wire_pipeline *p, const wire_position *pos, uint32_t npos,
                                    uint64_t seq);
bool runner_failed(wire_pipeline *p);
void runner_batch_ack(wire_pipeline *p, wire_batch *b);
void runner_batch_drop(wire_pipeline *p, wire_batch *b);
void runner_batch_discard(wire_pipeline *p, wire_batch *b);
void runner_thread_exit(wire_pipeline *p);
void runner_block_signals(void);
/* checkpointer.c */
void runner_inject_barrier(wire_pipeline *p);
int runner_restore_or_initialise(wire_pipeline *p, wire_err *err);
void *runner_checkpoint_main(void *arg);
/* sink_runner.c */
void *runner_sink_main(void *arg);

#endif
