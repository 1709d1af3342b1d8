/*
 * completion.c — what every thread of a running pipeline shares, below the
 * runner (pipeline.c) and the checkpointer (checkpointer.c), so that neither
 * calls back up into the other: the failure state and stop, the threads'
 * exit bookkeeping, and the completion of batches — the last sink's
 * acknowledgement commits a batch's positions, a barrier that reached every
 * sink becomes a checkpoint record for the checkpointer to save, and a batch
 * that will never be delivered is discarded or freezes commits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner.h"

/* Record a fatal error (first one wins) and stop everything. */
void runner_fail(wire_pipeline *p, const char *fmt, ...)
{
    pthread_mutex_lock(&p->lock);
    if (p->state != WIRE_PIPE_FAILED) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->error, sizeof(p->error), fmt, ap);
        va_end(ap);
        p->state = WIRE_PIPE_FAILED;
        wire_error("pipeline %s failed: %s", p->spec->name, p->error);
    }
    pthread_mutex_unlock(&p->lock);
    wire_pipeline_stop(p);
}

bool runner_failed(wire_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    bool f = p->state == WIRE_PIPE_FAILED;
    pthread_mutex_unlock(&p->lock);
    return f;
}

void runner_commit_positions_locked(wire_pipeline *p, const wire_position *pos, uint32_t npos,
                                    uint64_t seq)
{
    for (uint32_t i = 0; i < npos; i++) {
        size_t j;
        for (j = 0; j < p->ncommitted; j++)
            if (p->committed[j].split == pos[i].split)
                break;
        if (j == p->ncommitted) {
            if (p->ncommitted == p->committed_cap) {
                p->committed_cap = p->committed_cap ? p->committed_cap * 2 : 4;
                p->committed =
                    wire_xrealloc(p->committed, p->committed_cap * sizeof(*p->committed));
                p->committed_seq =
                    wire_xrealloc(p->committed_seq, p->committed_cap * sizeof(*p->committed_seq));
            }
            p->ncommitted++;
            p->committed_seq[j] = 0;
        }
        if (seq >= p->committed_seq[j]) {
            p->committed[j] = pos[i];
            p->committed_seq[j] = seq;
        }
    }
}

/* Free a barrier's per-sink states. */
static void barrier_free_aux(wire_pipeline *p, wire_flight *f)
{
    char **states = f->aux;
    if (states) {
        for (size_t i = 0; i < p->nsinks; i++)
            free(states[i]);
        free(states);
    }
    f->aux = NULL;
}

/* A barrier reached every sink: record the checkpoint it stands for. */
static void barrier_complete_locked(wire_pipeline *p, wire_flight *f)
{
    char **states = f->aux;
    if (p->ncp_done == p->cp_done_cap) {
        p->cp_done_cap = p->cp_done_cap ? p->cp_done_cap * 2 : 4;
        p->cp_done = wire_xrealloc(p->cp_done, p->cp_done_cap * sizeof(*p->cp_done));
    }
    wire_checkpoint *cp = &p->cp_done[p->ncp_done];
    p->ncp_done++;
    wire_checkpoint_init(cp);
    cp->id = f->barrier;
    cp->version = p->version;
    cp->spec_hash = p->spec->hash;
    cp->time_ms = wire_now_ms();
    cp->npos = p->ncommitted;
    cp->pos = wire_xcalloc(p->ncommitted ? p->ncommitted : 1, sizeof(wire_position));
    if (p->ncommitted)
        memcpy(cp->pos, p->committed, p->ncommitted * sizeof(wire_position));
    for (size_t i = 0; i < p->nsinks; i++)
        wire_checkpoint_add_sink(cp, p->spec->sinks[i].name, p->spec->sinks[i].type,
                                 states && states[i] ? states[i] : "null");
}

static void batch_complete(wire_pipeline *p, wire_batch *b)
{
    wire_flight *f = wire_flight_of(b);
    if (f->barrier) {
        pthread_mutex_lock(&p->lock);
        if (!p->commit_frozen && p->state != WIRE_PIPE_FAILED)
            barrier_complete_locked(p, f);
        p->barriers_in_flight--;
        pthread_cond_broadcast(&p->cp_cond);
        pthread_mutex_unlock(&p->lock);
        barrier_free_aux(p, f);
        wire_batch_release(b);
        return;
    }
    uint32_t disposed = atomic_load(&f->disposed);
    atomic_fetch_add_explicit(&p->stats.events_out, b->n > disposed ? b->n - disposed : 0,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&p->stats.bytes_out, b->bytes, memory_order_relaxed);
    if (b->n)
        wire_hist_record(&p->stats.latency_us, (uint64_t)(wire_mono_ns() - b->ingest_ns) / 1000);
    pthread_mutex_lock(&p->lock);
    if (!p->commit_frozen && p->state != WIRE_PIPE_FAILED) {
        runner_commit_positions_locked(p, b->pos, b->npos, b->seq);
        p->committed_batches++;
    }
    pthread_mutex_unlock(&p->lock);
    wire_batch_release(b);
}

/* Drop one sink's reference; the last one completes the batch. */
void runner_batch_ack(wire_pipeline *p, wire_batch *b)
{
    if (atomic_fetch_sub(&wire_flight_of(b)->refs, 1) == 1)
        batch_complete(p, b);
}

/* A batch that will never reach the sinks (stopping): not committed. */
void runner_batch_discard(wire_pipeline *p, wire_batch *b)
{
    wire_flight *f = wire_flight_of(b);
    if (f->barrier) {
        pthread_mutex_lock(&p->lock);
        p->barriers_in_flight--;
        pthread_cond_broadcast(&p->cp_cond);
        pthread_mutex_unlock(&p->lock);
        barrier_free_aux(p, f);
    } else if (f->n_in) {
        atomic_fetch_add_explicit(&p->stats.undelivered, f->n_in, memory_order_relaxed);
    }
    wire_batch_release(b);
}

/*
 * A sink gives up a batch without having durably written it (failure, or a
 * stop while the sink is down). Nothing from here on may be committed, or a
 * restart would skip these events.
 */
void runner_batch_drop(wire_pipeline *p, wire_batch *b)
{
    pthread_mutex_lock(&p->lock);
    p->commit_frozen = true;
    pthread_mutex_unlock(&p->lock);
    if (atomic_fetch_sub(&wire_flight_of(b)->refs, 1) == 1)
        runner_batch_discard(p, b);
}

void runner_thread_exit(wire_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    p->threads_alive--;
    if (p->threads_alive == 0) {
        p->ended_ns = wire_mono_ns();
        /* finished only if everything the source produced was delivered */
        if (p->state == WIRE_PIPE_RUNNING)
            p->state = p->source_finished && atomic_load(&p->stats.undelivered) == 0
                           ? WIRE_PIPE_FINISHED
                           : WIRE_PIPE_STOPPED;
        pthread_cond_broadcast(&p->done_cond);
    }
    pthread_mutex_unlock(&p->lock);
}

void runner_block_signals(void)
{
    /* Signals are handled by the main thread only. */
    sigset_t set;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void wire_pipeline_stop(wire_pipeline *p)
{
    if (atomic_exchange(&p->stopping, true))
        return;
    /* Blocked source pushes fail; queues downstream still drain. */
    wire_queue_abort(&p->in_q);
    if (p->source_def && p->source_def->wake && p->source)
        p->source_def->wake(p->source);
}
