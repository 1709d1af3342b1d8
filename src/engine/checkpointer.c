/*
 * checkpointer.c — checkpoint barriers and the checkpointer thread: inject a
 * barrier every interval, save each completed barrier's checkpoint through
 * the store, tell the source each saved checkpoint's positions
 * (on_checkpoint_committed); and at start, restore sinks
 * to a checkpoint (exactly-once) or save the initial one.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "engine/runner.h"

/* Put a checkpoint barrier into the input, in sequence with the data. */
void runner_inject_barrier(wire_pipeline *p)
{
    wire_batch *b = wire_batch_get(p->pool);
    wire_flight *f = wire_flight_of(b);
    b->ingest_ms = wire_now_ms();
    b->ingest_ns = wire_mono_ns();
    f->aux = wire_xcalloc(p->nsinks ? p->nsinks : 1, sizeof(char *));
    atomic_store(&f->refs, 1);
    pthread_mutex_lock(&p->emit_lock);
    pthread_mutex_lock(&p->lock);
    f->barrier = ++p->next_cp_id;
    p->barriers_in_flight++;
    pthread_mutex_unlock(&p->lock);
    b->seq = atomic_fetch_add(&p->next_seq, 1) + 1;
    int rc = wire_queue_push_control(&p->in_q, b);
    pthread_mutex_unlock(&p->emit_lock);
    if (rc != 0)
        runner_batch_discard(p, b);
}

/* ---- the checkpointer ---- */

static void save_checkpoint(wire_pipeline *p, wire_checkpoint *cp)
{
    wire_err err;
    wire_err_clear(&err);
    int rc = p->store->save(p->store, p->spec->name, cp, &err);
    if (rc == WIRE_ENOTFOUND) {
        /* the store no longer has the pipeline (deleted): an ordinary end, not a failure */
        wire_info("pipeline %s: %s; checkpoint %llu not kept", p->spec->name, err.msg,
                  (unsigned long long)cp->id);
        wire_pipeline_stop(p);
        return;
    }
    if (rc == WIRE_EPERM) {
        /* the store refuses us for good (a cluster store: this node lost the
           pipeline's assignment); running on would fight the new owner */
        atomic_fetch_add(&p->stats.checkpoint_errors, 1);
        runner_fail(p, "checkpoint %llu refused: %s", (unsigned long long)cp->id, err.msg);
        return;
    }
    if (rc != 0) {
        atomic_fetch_add(&p->stats.checkpoint_errors, 1);
        wire_error("pipeline %s: checkpoint %llu not saved: %s (the previous one stays valid)",
                   p->spec->name, (unsigned long long)cp->id, err.msg);
        return;
    }
    atomic_fetch_add(&p->stats.checkpoints, 1);
    atomic_store(&p->stats.last_checkpoint_ms, cp->time_ms);
    pthread_mutex_lock(&p->lock);
    p->last_saved_cp = cp->id;
    pthread_cond_broadcast(&p->cp_cond); /* wire_source_checkpoint_wait */
    pthread_mutex_unlock(&p->lock);
    /* durable: now the source may acknowledge upstream what these positions cover */
    if (p->source_def->on_checkpoint_committed)
        p->source_def->on_checkpoint_committed(p->source, cp->id, cp->pos, cp->npos);
}

static int64_t mono_ms(void)
{
    return wire_mono_ns() / 1000000;
}

void *runner_checkpoint_main(void *arg)
{
    wire_pipeline *p = arg;
    runner_block_signals();
    int64_t interval = p->spec->checkpoint_interval_ms > 0 ? p->spec->checkpoint_interval_ms : 1000;
    int64_t next_due = mono_ms() + interval;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->ncp_done) {
            wire_checkpoint cp = p->cp_done[0];
            p->ncp_done--;
            memmove(p->cp_done, p->cp_done + 1, p->ncp_done * sizeof(*p->cp_done));
            pthread_mutex_unlock(&p->lock);
            save_checkpoint(p, &cp);
            wire_checkpoint_clear(&cp);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if (p->sinks_alive == 0)
            break; /* everything drained: no barrier can complete any more */
        bool can_inject = !p->source_done && p->barriers_in_flight == 0 &&
                          p->state != WIRE_PIPE_FAILED && !p->commit_frozen;
        if (can_inject && (p->cp_requested || mono_ms() >= next_due)) {
            p->cp_requested = false;
            pthread_mutex_unlock(&p->lock);
            runner_inject_barrier(p);
            next_due = mono_ms() + interval;
            pthread_mutex_lock(&p->lock);
            continue;
        }
        int64_t wait = next_due - mono_ms();
        if (wait < 1)
            wait = 1;
        if (wait > 100)
            wait = 100;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += wait * 1000000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&p->cp_cond, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    runner_thread_exit(p);
    return NULL;
}

/* ---- start: restore or the initial checkpoint ---- */

/* Put `pos` into the resume checkpoint, replacing a split's position there. */
static void resume_override(wire_checkpoint *cp, const wire_position *pos)
{
    for (size_t i = 0; i < cp->npos; i++)
        if (cp->pos[i].split == pos->split) {
            cp->pos[i] = *pos;
            return;
        }
    cp->pos = wire_xrealloc(cp->pos, (cp->npos + 1) * sizeof(*cp->pos));
    cp->pos[cp->npos++] = *pos;
}

/*
 * Sink-owned positions (exactly-once): a sink that commits its data together
 * with the source positions knows better than the checkpoint where the
 * source must resume, since the checkpoint is saved only after the sink's
 * commit (a crash in between leaves the checkpoint one step behind). Its
 * positions override the checkpoint's, split by split, and checkpoint ids
 * continue after the newest either side has seen.
 */
static int recover_sink_positions(wire_pipeline *p, wire_err *err)
{
    for (size_t i = 0; i < p->nsinks; i++) {
        sink_runner *s = &p->sinks[i];
        if (!s->owns_positions || !s->def->recover_positions)
            continue;
        uint64_t id = 0;
        wire_position *pos = NULL;
        size_t npos = 0;
        int rc = s->def->recover_positions(s->self, &id, &pos, &npos, err);
        if (rc != 0) {
            free(pos);
            return rc;
        }
        if (npos) {
            wire_info("pipeline %s: sink %s committed positions of checkpoint %llu itself; they "
                      "override checkpoint %llu's",
                      p->spec->name, p->spec->sinks[i].name, (unsigned long long)id,
                      (unsigned long long)p->resume.id);
            for (size_t k = 0; k < npos; k++)
                resume_override(&p->resume, &pos[k]);
            pthread_mutex_lock(&p->lock);
            runner_commit_positions_locked(p, pos, (uint32_t)npos, 0);
            pthread_mutex_unlock(&p->lock);
        }
        if (id > p->next_cp_id)
            p->next_cp_id = id;
        free(pos);
    }
    return 0;
}

/*
 * Exactly-once: take the positions sinks committed themselves, then put each
 * sink back to its state in the checkpoint (truncate the uncommitted tail).
 * Without a checkpoint, save one now, holding the sinks' initial state, so a
 * crash before the first periodic checkpoint still has something exact to
 * return to.
 */
int runner_restore_or_initialise(wire_pipeline *p, wire_err *err)
{
    const wire_pipeline_spec *spec = p->spec;
    bool had_checkpoint = p->has_resume;
    if (spec->delivery == WIRE_DELIVERY_EXACTLY_ONCE) {
        int rc = recover_sink_positions(p, err);
        if (rc != 0)
            return rc;
        if (p->resume.npos)
            p->has_resume = true; /* the source resumes at the sinks' positions */
    }
    if (had_checkpoint) {
        if (spec->delivery != WIRE_DELIVERY_EXACTLY_ONCE)
            return 0;
        for (size_t i = 0; i < p->nsinks; i++) {
            sink_runner *s = &p->sinks[i];
            const wire_sink_state *st =
                wire_checkpoint_sink(&p->resume, spec->sinks[i].name, spec->sinks[i].type);
            if (!st || !s->def->restore)
                continue;
            int rc = s->def->restore(s->self, st->json, strlen(st->json), err);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    wire_checkpoint cp;
    wire_checkpoint_init(&cp);
    cp.id = ++p->next_cp_id;
    cp.version = p->version;
    cp.spec_hash = spec->hash;
    cp.time_ms = wire_now_ms();
    cp.npos = p->resume.npos; /* what sinks committed themselves, if anything */
    cp.pos = wire_xcalloc(cp.npos ? cp.npos : 1, sizeof(wire_position));
    if (cp.npos)
        memcpy(cp.pos, p->resume.pos, cp.npos * sizeof(wire_position));
    for (size_t i = 0; i < p->nsinks; i++) {
        sink_runner *s = &p->sinks[i];
        wire_buf st;
        wire_buf_init(&st);
        if (s->def->snapshot)
            s->def->snapshot(s->self, &st);
        wire_checkpoint_add_sink(&cp, spec->sinks[i].name, spec->sinks[i].type,
                                 st.len ? st.p : "null");
        wire_buf_free(&st);
    }
    int rc = p->store->save(p->store, spec->name, &cp, err);
    if (rc == 0) {
        p->last_saved_cp = cp.id;
        atomic_store(&p->stats.last_checkpoint_ms, cp.time_ms);
    }
    wire_checkpoint_clear(&cp);
    return rc;
}
