/*
 * cmd_run.c — `wire run FILE.yaml...`: run pipelines standalone in this
 * process. Exits 0 when every pipeline has finished (bounded sources), runs
 * until SIGINT/SIGTERM otherwise, and prints one summary line per pipeline.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "connectors/connectors.h"

static int run_usage(void)
{
    fprintf(stderr, "usage: wire run [--data-dir DIR] [--log-level LEVEL] FILE.yaml...\n");
    return 1;
}

static void print_summary(wire_pipeline *p, double secs)
{
    const wire_pipeline_spec *spec = wire_pipeline_spec_of(p);
    const wire_pipeline_stats *st = wire_pipeline_stats_of(p);
    uint64_t in = atomic_load(&st->events_in), out = atomic_load(&st->events_out);
    uint64_t filtered = 0, errors = 0, dropped = 0;
    wire_pipeline_transform_totals(p, &filtered, &errors, &dropped);
    wire_pipe_state state = wire_pipeline_state(p);
    fprintf(stderr,
            "wire: pipeline %s %s: in=%" PRIu64 " out=%" PRIu64 " filtered=%" PRIu64
            " invalid=%" PRIu64 " errors=%" PRIu64 " dropped=%" PRIu64
            " (%.2fs, %.0f events/s, batch latency p50=%.1fms p99=%.1fms)%s%s\n",
            spec->name, wire_pipe_state_name(state), in, out, filtered,
            (uint64_t)atomic_load(&st->invalid), errors, dropped, secs,
            secs > 0 ? (double)in / secs : 0.0,
            (double)wire_hist_quantile(&st->latency_us, 0.5) / 1000.0,
            (double)wire_hist_quantile(&st->latency_us, 0.99) / 1000.0, state == WIRE_PIPE_FAILED ? ": " : "",
            state == WIRE_PIPE_FAILED ? wire_pipeline_error(p) : "");
}

int wire_cmd_run(int argc, char **argv)
{
    const char *data_dir = "./wire-data";
    const char **files = wire_xcalloc((size_t)argc, sizeof(char *));
    size_t nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data-dir") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strncmp(a, "--data-dir=", 11) == 0) {
            data_dir = a + 11;
        } else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
            const char *l = argv[++i];
            wire_log_set_level(strcmp(l, "debug") == 0  ? WIRE_LOG_DEBUG
                               : strcmp(l, "warn") == 0 ? WIRE_LOG_WARN
                               : strcmp(l, "error") == 0 ? WIRE_LOG_ERROR
                                                         : WIRE_LOG_INFO);
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "fatal: unknown flag '%s'\n", a);
            free(files);
            return run_usage();
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0) {
        free(files);
        return run_usage();
    }

    /* Load and validate everything before starting anything. */
    wire_diags d = {0};
    wire_pipeline_spec **specs = wire_xcalloc(nfiles, sizeof(*specs));
    for (size_t i = 0; i < nfiles; i++)
        wire_spec_load_file(&wire_default_registry, files[i], &specs[i], &d);
    for (size_t i = 0; i < nfiles && d.n == 0; i++)
        for (size_t j = 0; j < i; j++)
            if (specs[i] && specs[j] && strcmp(specs[i]->name, specs[j]->name) == 0)
                wire_diags_add(&d, files[i], 1, 1, "pipeline name '%s' is also used by %s",
                               specs[i]->name, files[j]);
    if (d.n) {
        wire_diags_print(&d, stderr);
        wire_diags_free(&d);
        for (size_t i = 0; i < nfiles; i++)
            wire_spec_free(specs[i]);
        free(specs);
        free(files);
        return 1;
    }

    /* Signals are taken synchronously by this thread; pipeline threads block them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    wire_engine_opts opts = {.data_dir = data_dir};
    wire_pipeline **pipes = wire_xcalloc(nfiles, sizeof(*pipes));
    int rc = 0;
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        wire_err err;
        wire_err_clear(&err);
        int prc = wire_pipeline_new(specs[i], &opts, &pipes[i], &err);
        specs[i] = NULL; /* owned by the pipeline now */
        if (prc != 0) {
            fprintf(stderr, "%s: cannot start pipeline: %s\n", files[i], err.msg);
            rc = 1;
        }
    }
    int64_t t0 = wire_mono_ns();
    if (rc == 0) {
        for (size_t i = 0; i < nfiles; i++) {
            wire_err err;
            wire_pipeline_start(pipes[i], &err);
            wire_info("pipeline %s started (%s)", wire_pipeline_spec_of(pipes[i])->name, files[i]);
        }
        bool stopping = false;
        for (;;) {
            size_t alive = 0;
            for (size_t i = 0; i < nfiles; i++)
                if (!wire_pipeline_timedwait(pipes[i], 0))
                    alive++;
            if (alive == 0)
                break;
            struct timespec ts = {0, 100 * 1000000};
            int sig = sigtimedwait(&set, NULL, &ts);
            if (sig == SIGINT || sig == SIGTERM) {
                if (stopping) {
                    fprintf(stderr, "wire: second signal, exiting without draining\n");
                    _exit(130);
                }
                stopping = true;
                wire_info("signal %d: stopping pipelines (draining in-flight batches)", sig);
                for (size_t i = 0; i < nfiles; i++)
                    wire_pipeline_stop(pipes[i]);
            } else if (sig == SIGHUP) {
                wire_info("SIGHUP: reload is not available in this version; ignoring");
            }
        }
    }
    double secs = (double)(wire_mono_ns() - t0) / 1e9;
    for (size_t i = 0; i < nfiles; i++) {
        if (!pipes[i])
            continue;
        wire_pipeline_wait(pipes[i]);
        if (rc == 0)
            print_summary(pipes[i], secs);
        if (wire_pipeline_state(pipes[i]) == WIRE_PIPE_FAILED)
            rc = 1;
        wire_pipeline_free(pipes[i]);
    }
    free(pipes);
    free(specs);
    free(files);
    return rc;
}
