/*
 * limits.c — the pipeline document limits as flags: --max-transforms N and
 * --max-pipeline-bytes SIZE, taken alike by `wire validate` and `wire run`
 * (`wire serve` has them in its flag table), so a document that validates
 * locally is one a node with the same flags accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"

/* argv[*i] is --NAME VALUE or --NAME=VALUE: the value, or NULL if it is not. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int wire_cli_limit_flag(int argc, char **argv, int *i, wire_spec_limits *lim)
{
    bool missing = false;
    const char *v = flag_value(argc, argv, i, "--max-transforms", &missing);
    if (v) {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || n < 0) {
            fprintf(stderr, "fatal: --max-transforms takes a non-negative integer, not '%s'\n", v);
            return -1;
        }
        lim->max_transforms = n;
        return 1;
    }
    if (missing) {
        fprintf(stderr, "fatal: --max-transforms needs a value\n");
        return -1;
    }
    v = flag_value(argc, argv, i, "--max-pipeline-bytes", &missing);
    if (v) {
        int64_t bytes;
        if (wire_parse_size(v, &bytes) != 0) {
            fprintf(stderr,
                    "fatal: --max-pipeline-bytes takes a size like 512KB or 1MB, not '%s'\n", v);
            return -1;
        }
        lim->max_bytes = bytes;
        return 1;
    }
    if (missing) {
        fprintf(stderr, "fatal: --max-pipeline-bytes needs a value\n");
        return -1;
    }
    return 0;
}
