/*
 * cmd_run.c — `wire run FILE.yaml...`: run pipelines standalone in this
 * process, checkpointing under --data-dir.
 *
 * Exits 0 when every pipeline has finished (bounded sources); otherwise runs
 * until SIGINT/SIGTERM, which drain in-flight batches and write a final
 * checkpoint (within shutdown_timeout), and prints one summary line per
 * pipeline. SIGHUP, or a change seen with --watch, reloads the files: a
 * changed pipeline restarts as a new version from the old version's
 * committed positions; a file that no longer validates is rejected with a
 * logged error while the old version keeps running; an unchanged pipeline
 * is untouched. --http-addr serves /status, /metrics, /readyz and /livez.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "core/io.h"
#include "engine/checkpoint.h"
#include "registry/registry.h"

typedef struct run_entry {
    const char *file;
    wire_pipeline *p;      /* NULL if it never started */
    struct timespec mtime; /* for --watch */
    bool summarised;
} run_entry;

typedef struct runset {
    pthread_mutex_t lock; /* entries' pipelines, against the API thread */
    run_entry *e;
    size_t n;
    wire_checkpoint_store *store;
    const char *data_dir;
    wire_spec_limits lim; /* --max-transforms, --max-pipeline-bytes */
    int64_t t0;
} runset;

static void run_usage_to(FILE *f)
{
    fprintf(f, "usage: wire run [--data-dir DIR] [--http-addr ADDR] [--watch] "
               "[--log-level debug|info|warn|error] FILE.yaml...\n"
               "  --data-dir DIR             local checkpoints (./wire-data)\n"
               "  --http-addr ADDR           serve /status, /metrics, /readyz, /livez\n"
               "  --cert-file F --key-file F  over TLS; --trusted-ca-file F --client-cert-auth\n"
               "                             ask clients for a certificate signed by F\n"
               "  --watch                    reload a file when it changes (SIGHUP reloads too)\n"
               "  --max-transforms N         transforms in one pipeline (1000; 0: no limit)\n"
               "  --max-pipeline-bytes SIZE  size of one pipeline document (1MB; 0: no limit)\n");
}

static int run_usage(void)
{
    run_usage_to(stderr);
    return 1;
}

/* One line per pipeline; returns how many events were counted in but never delivered. */
static uint64_t print_summary(wire_pipeline *p, double secs)
{
    const wire_pipeline_spec *spec = wire_pipeline_spec_of(p);
    const wire_pipeline_stats *st = wire_pipeline_stats_of(p);
    uint64_t in = atomic_load(&st->events_in), out = atomic_load(&st->events_out);
    wire_pipeline_totals_t t;
    wire_pipeline_totals(p, &t);
    wire_pipe_state state = wire_pipeline_state(p);
    fprintf(stderr,
            "wire: pipeline %s %s: in=%" PRIu64 " out=%" PRIu64 " filtered=%" PRIu64
            " invalid=%" PRIu64 " errors=%" PRIu64 " dropped=%" PRIu64 " dlq=%" PRIu64
            " retries=%" PRIu64
            " (%.2fs, %.0f events/s, batch latency p50=%.1fms p99=%.1fms)%s%s\n",
            spec->name, wire_pipe_state_name(state), in, out, t.filtered,
            (uint64_t)atomic_load(&st->invalid), t.errors, t.dropped, t.dead_lettered, t.retries,
            secs, secs > 0 ? (double)in / secs : 0.0,
            (double)wire_hist_quantile(&st->latency_us, 0.5) / 1000.0,
            (double)wire_hist_quantile(&st->latency_us, 0.99) / 1000.0,
            state == WIRE_PIPE_FAILED ? ": " : "",
            state == WIRE_PIPE_FAILED ? wire_pipeline_error(p) : "");
    uint64_t undelivered = atomic_load(&st->undelivered);
    if (undelivered)
        fprintf(stderr,
                "wire: pipeline %s stopped with %" PRIu64
                " undelivered events (the next run replays them from the last checkpoint)\n",
                spec->name, undelivered);
    return undelivered;
}

static void each_pipeline(void *arg, void (*fn)(wire_pipeline *, void *), void *fnarg)
{
    runset *rs = arg;
    pthread_mutex_lock(&rs->lock);
    for (size_t i = 0; i < rs->n; i++)
        if (rs->e[i].p)
            fn(rs->e[i].p, fnarg);
    pthread_mutex_unlock(&rs->lock);
}

static struct timespec file_mtime(const char *path)
{
    struct stat st;
    struct timespec z = {0, 0};
    return stat(path, &st) == 0 ? st.st_mtim : z;
}

/* Create and start a pipeline from a loaded spec (takes the spec). */
static int start_pipeline(runset *rs, wire_pipeline_spec *spec, uint64_t version,
                          wire_pipeline **out)
{
    wire_err err;
    wire_err_clear(&err);
    /* checkpoint interval 0 turns checkpoints off (benchmarks, pipes) */
    wire_engine_opts opts = {.data_dir = rs->data_dir,
                             .store = spec->checkpoint_interval_ms > 0 ? rs->store : NULL,
                             .version = version};
    const char *file = spec->file ? spec->file : "-";
    char fbuf[4096];
    snprintf(fbuf, sizeof(fbuf), "%s", file);
    if (wire_spec_resolve_secrets(spec, NULL, &err) != 0) {
        fprintf(stderr, "%s: cannot start pipeline: %s\n", fbuf, err.msg);
        wire_spec_free(spec);
        *out = NULL;
        return 1;
    }
    if (wire_pipeline_new(spec, &opts, out, &err) != 0) {
        fprintf(stderr, "%s: cannot start pipeline: %s\n", fbuf, err.msg);
        wire_pipeline_free(*out);
        *out = NULL;
        return 1;
    }
    wire_pipeline_start(*out, &err);
    wire_info("pipeline %s version %" PRIu64 " started (%s)", wire_pipeline_spec_of(*out)->name,
              wire_pipeline_version(*out), fbuf);
    return 0;
}

/* Stop a pipeline, draining it within its shutdown timeout. 0 if it drained. */
static int stop_pipeline(wire_pipeline *p)
{
    wire_pipeline_stop(p);
    int64_t timeout = wire_pipeline_spec_of(p)->shutdown_timeout_ms;
    return wire_pipeline_timedwait(p, timeout > 0 ? timeout : 10000) ? 0 : -1;
}

static void reload(runset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        run_entry *e = &rs->e[i];
        e->mtime = file_mtime(e->file);
        wire_diags d = {0};
        wire_pipeline_spec *spec = NULL;
        wire_spec_load_file(&wire_default_registry, e->file, &rs->lim, &spec, &d);
        if (d.n) {
            for (size_t k = 0; k < d.n; k++)
                wire_error("reload rejected: %s:%d:%d: %s", d.v[k].file, d.v[k].line, d.v[k].col,
                           d.v[k].msg);
            if (e->p)
                wire_error("reload rejected: %s: pipeline %s version %" PRIu64 " keeps running",
                           e->file, wire_pipeline_spec_of(e->p)->name, wire_pipeline_version(e->p));
            wire_diags_free(&d);
            wire_spec_free(spec);
            continue;
        }
        if (e->p && wire_pipeline_spec_of(e->p)->hash == spec->hash &&
            wire_pipeline_state(e->p) == WIRE_PIPE_RUNNING) {
            wire_spec_free(spec); /* unchanged: untouched */
            continue;
        }
        uint64_t version = 0;
        if (e->p) {
            wire_pipeline *old = e->p;
            const char *name = wire_pipeline_spec_of(old)->name;
            bool same_name = strcmp(name, spec->name) == 0;
            version = same_name ? wire_pipeline_version(old) + 1 : 0;
            wire_info("reload: %s changed; stopping pipeline %s version %" PRIu64
                      " at a checkpoint",
                      e->file, name, wire_pipeline_version(old));
            if (stop_pipeline(old) != 0)
                wire_warn("reload: pipeline %s did not drain within shutdown_timeout", name);
            wire_pipeline_wait(old);
            print_summary(old, (double)(wire_mono_ns() - rs->t0) / 1e9);
            pthread_mutex_lock(&rs->lock);
            e->p = NULL;
            pthread_mutex_unlock(&rs->lock);
            wire_pipeline_free(old);
        }
        wire_pipeline *np = NULL;
        start_pipeline(rs, spec, version, &np);
        pthread_mutex_lock(&rs->lock);
        e->p = np;
        pthread_mutex_unlock(&rs->lock);
    }
}

static bool files_changed(runset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        struct timespec m = file_mtime(rs->e[i].file);
        if (m.tv_sec != rs->e[i].mtime.tv_sec || m.tv_nsec != rs->e[i].mtime.tv_nsec)
            return true;
    }
    return false;
}

int wire_cmd_run(int argc, char **argv)
{
    const char *data_dir = "./wire-data", *http_addr = NULL;
    wire_tls_files tls = {0}; /* --http-addr over TLS */
    bool watch = false;
    wire_spec_limits lim = WIRE_CLI_LIMITS_INIT;
    const char **files = wire_xcalloc((size_t)argc, sizeof(char *));
    size_t nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int lf = wire_cli_limit_flag(argc, argv, &i, &lim);
        if (lf < 0) {
            free(files);
            return 1;
        } else if (lf > 0) {
            continue;
        } else if (strcmp(a, "--data-dir") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if (strncmp(a, "--data-dir=", 11) == 0) {
            data_dir = a + 11;
        } else if (strcmp(a, "--http-addr") == 0 && i + 1 < argc) {
            http_addr = argv[++i];
        } else if (strncmp(a, "--http-addr=", 12) == 0) {
            http_addr = a + 12;
        } else if (strcmp(a, "--cert-file") == 0 && i + 1 < argc) {
            tls.cert_file = argv[++i];
        } else if (strcmp(a, "--key-file") == 0 && i + 1 < argc) {
            tls.key_file = argv[++i];
        } else if (strcmp(a, "--trusted-ca-file") == 0 && i + 1 < argc) {
            tls.ca_file = argv[++i];
        } else if (strcmp(a, "--client-cert-auth") == 0) {
            tls.client_cert_auth = true;
        } else if (strcmp(a, "--watch") == 0) {
            watch = true;
        } else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
            const char *l = argv[++i];
            wire_log_set_level(strcmp(l, "debug") == 0   ? WIRE_LOG_DEBUG
                               : strcmp(l, "warn") == 0  ? WIRE_LOG_WARN
                               : strcmp(l, "error") == 0 ? WIRE_LOG_ERROR
                                                         : WIRE_LOG_INFO);
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            run_usage_to(stdout);
            free(files);
            return 0;
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
    const char *faults = getenv("WIRE_FAULTS");
    if (faults && *faults) {
        wire_err ferr;
        if (wire_fault_parse(faults, &ferr) != 0) {
            fprintf(stderr, "fatal: %s\n", ferr.msg);
            free(files);
            return 1;
        }
        wire_warn("fault injection active: %s", faults);
    }

    /* Load and validate everything before starting anything. */
    wire_diags d = {0};
    wire_pipeline_spec **specs = wire_xcalloc(nfiles, sizeof(*specs));
    for (size_t i = 0; i < nfiles; i++)
        wire_spec_load_file(&wire_default_registry, files[i], &lim, &specs[i], &d);
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

    {
        /* say where state lives: it decides where a restart resumes from */
        char cwd[4096];
        bool rel = data_dir[0] != '/' && getcwd(cwd, sizeof(cwd));
        const char *shown = data_dir;
        while (rel && shown[0] == '.' && shown[1] == '/')
            shown += 2;
        wire_info("state directory %s%s%s (checkpoints under its checkpoints/)", rel ? cwd : "",
                  rel ? "/" : "", shown);
    }
    runset rs = {.data_dir = data_dir, .n = nfiles, .lim = lim, .t0 = wire_mono_ns()};
    pthread_mutex_init(&rs.lock, NULL);
    rs.store = wire_checkpoint_store_local(data_dir);
    rs.e = wire_xcalloc(nfiles, sizeof(*rs.e));
    int rc = 0;
    for (size_t i = 0; i < nfiles; i++) {
        rs.e[i].file = files[i];
        rs.e[i].mtime = file_mtime(files[i]);
    }
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        rc = start_pipeline(&rs, specs[i], 0, &rs.e[i].p);
        specs[i] = NULL;
    }
    for (size_t i = 0; i < nfiles; i++)
        wire_spec_free(specs[i]);
    free(specs);

    wire_api *api = NULL;
    if (rc == 0 && http_addr) {
        wire_api_opts ao = {.addr = http_addr,
                            .pipelines = {each_pipeline, &rs},
                            .tls = tls.cert_file || tls.key_file ? &tls : NULL};
        wire_err err;
        if (wire_api_start(&ao, &api, &err) != 0) {
            fprintf(stderr, "fatal: --http-addr %s: %s\n", http_addr, err.msg);
            rc = 1;
        } else {
            wire_info("serving /status, /metrics, /readyz on %s (port %d)", http_addr,
                      wire_api_port(api));
        }
    }

    bool stopping = false;
    int64_t stop_deadline = 0, shutdown_ms = 0, next_watch = wire_mono_ns();
    if (rc != 0) {
        for (size_t i = 0; i < rs.n; i++)
            if (rs.e[i].p)
                wire_pipeline_stop(rs.e[i].p);
        stopping = true;
    }
    for (size_t i = 0; i < rs.n; i++)
        if (rs.e[i].p && wire_pipeline_spec_of(rs.e[i].p)->shutdown_timeout_ms > shutdown_ms)
            shutdown_ms = wire_pipeline_spec_of(rs.e[i].p)->shutdown_timeout_ms;
    stop_deadline = wire_mono_ns() + (shutdown_ms > 0 ? shutdown_ms : 10000) * 1000000;
    for (;;) {
        size_t alive = 0;
        for (size_t i = 0; i < rs.n; i++)
            if (rs.e[i].p && !wire_pipeline_timedwait(rs.e[i].p, 0))
                alive++;
        if (alive == 0)
            break;
        if (stopping && wire_mono_ns() > stop_deadline) {
            fprintf(stderr,
                    "wire: pipelines did not drain within shutdown_timeout (%lld ms); exiting: "
                    "events after the last checkpoint will be replayed\n",
                    (long long)(shutdown_ms > 0 ? shutdown_ms : 10000));
            _exit(1);
        }
        struct timespec ts = {0, 100 * 1000000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            if (stopping) {
                fprintf(stderr, "wire: second signal, exiting without draining\n");
                _exit(130);
            }
            stopping = true;
            stop_deadline = wire_mono_ns() + (shutdown_ms > 0 ? shutdown_ms : 10000) * 1000000;
            wire_info("signal %d: stopping pipelines (draining in-flight batches)", sig);
            for (size_t i = 0; i < rs.n; i++)
                if (rs.e[i].p)
                    wire_pipeline_stop(rs.e[i].p);
        } else if (sig == SIGHUP && !stopping) {
            wire_info("SIGHUP: reloading pipeline files");
            reload(&rs);
        } else if (watch && !stopping && wire_mono_ns() >= next_watch) {
            next_watch = wire_mono_ns() + 500 * 1000000LL;
            if (files_changed(&rs)) {
                wire_info("--watch: a pipeline file changed; reloading");
                reload(&rs);
            }
        }
    }
    wire_api_stop(api);
    wire_api_free(api);
    double secs = (double)(wire_mono_ns() - rs.t0) / 1e9;
    for (size_t i = 0; i < rs.n; i++) {
        wire_pipeline *p = rs.e[i].p;
        if (!p) {
            rc = 1;
            continue;
        }
        wire_pipeline_wait(p);
        if (print_summary(p, secs) > 0 || wire_pipeline_state(p) == WIRE_PIPE_FAILED)
            rc = 1;
        wire_pipeline_free(p);
    }
    rs.store->free(rs.store);
    pthread_mutex_destroy(&rs.lock);
    free(rs.e);
    free(files);
    return rc;
}
