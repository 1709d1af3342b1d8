/*
 * cmd_validate.c — `wire validate FILE...`: check pipeline files without
 * running them.
 *
 * Every problem of every file is printed on stderr as FILE:LINE:COL: message
 * (a file that cannot be read: FILE:0:0: cannot open: reason), and the exit
 * status is 1. When all files are valid, each prints "FILE: ok" on stdout
 * (nothing with -q) and the exit status is 0. `-` reads a document from
 * standard input. The files are also checked as a set, as `wire run` would
 * load them: two pipelines may not share a name. The limits of `wire serve`
 * apply, with the same flags and defaults (--max-pipeline-bytes 1MB,
 * --max-transforms 1000; 0 lifts one), so a file that validates is one a
 * node with those flags accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/io.h"
#include "engine/engine.h"
#include "registry/registry.h"

static void validate_usage_to(FILE *f)
{
    fprintf(f, "usage: wire validate [-q] [--max-transforms N] [--max-pipeline-bytes SIZE] "
               "FILE.yaml...\n"
               "  -                          read a document from standard input\n"
               "  -q                         print nothing when every file is valid\n"
               "  --max-transforms N         transforms in one pipeline (1000; 0: no limit)\n"
               "  --max-pipeline-bytes SIZE  size of one pipeline document (1MB; 0: no limit)\n");
}

static int validate_usage(void)
{
    validate_usage_to(stderr);
    return 1;
}

static int load_stdin(const wire_spec_limits *lim, wire_pipeline_spec **out, wire_diags *d)
{
    char *text;
    size_t n;
    wire_err err;
    if (wire_io_read_fd(0, &text, &n, &err) != 0) {
        wire_diags_add(d, "-", 0, 0, "cannot %s", err.msg);
        return WIRE_EIO;
    }
    int rc = wire_spec_load_limited(&wire_default_registry, "-", text, n, lim, out, d);
    free(text);
    return rc;
}

int wire_cmd_validate(int argc, char **argv)
{
    bool quiet = false;
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
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            free(files);
            validate_usage_to(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "fatal: unknown flag '%s'\n", a);
            free(files);
            return validate_usage();
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0) {
        free(files);
        return validate_usage();
    }

    wire_diags d = {0};
    wire_pipeline_spec **specs = wire_xcalloc(nfiles, sizeof(*specs));
    for (size_t i = 0; i < nfiles; i++) {
        if (strcmp(files[i], "-") == 0)
            load_stdin(&lim, &specs[i], &d);
        else
            wire_spec_load_file(&wire_default_registry, files[i], &lim, &specs[i], &d);
        if (specs[i]) /* the references' form; their values are the running node's */
            wire_spec_check_secrets(specs[i], NULL, false, &d);
        for (size_t j = 0; specs[i] && j < i; j++) {
            if (specs[j] && strcmp(specs[i]->name, specs[j]->name) == 0) {
                wire_diags_add(&d, files[i], 1, 1, "pipeline name '%s' is also used by %s",
                               specs[i]->name, files[j]);
                break;
            }
        }
    }
    int rc = 0;
    if (d.n) {
        fflush(stdout);
        wire_diags_print(&d, stderr);
        rc = 1;
    } else if (!quiet) {
        for (size_t i = 0; i < nfiles; i++)
            printf("%s: ok\n", files[i]);
    }
    wire_diags_free(&d);
    for (size_t i = 0; i < nfiles; i++)
        wire_spec_free(specs[i]);
    free(specs);
    free(files);
    return rc;
}
