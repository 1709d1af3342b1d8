/*
 * cmd_help.c — `wire help [TOPIC]`: the reference for the types a pipeline
 * can use, generated from each component's option table (the same tables
 * that validate configs), so help, validation and docs/reference.md never
 * disagree.
 *
 *   wire help                      topics
 *   wire help sources|transforms|sinks   types of that kind with summaries
 *   wire help pipeline             the pipeline file's top-level keys
 *   wire help TYPE                 its options (every kind that has TYPE)
 *   wire help source TYPE          only that kind (also source/TYPE)
 *   wire help --markdown           the whole reference (make docs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "registry/registry.h"

static const char *const kind_title[] = {"Sources", "Transforms", "Sinks"};

static void caps_text(wire_kind k, unsigned caps, char *buf, size_t bn)
{
    buf[0] = '\0';
    size_t o = 0;
    if (k == WIRE_KIND_SINK && (caps & WIRE_CAP_EXACTLY_ONCE))
        o += (size_t)snprintf(buf + o, bn - o, "%sexactly-once delivery", o ? ", " : "");
    if (k == WIRE_KIND_SOURCE && (caps & WIRE_CAP_BOUNDED) && o < bn)
        o += (size_t)snprintf(buf + o, bn - o, "%smay finish by itself (bounded input)",
                              o ? ", " : "");
    if (k == WIRE_KIND_SOURCE && (caps & WIRE_CAP_REPLAYABLE) && o < bn)
        snprintf(buf + o, bn - o, "%sresumes from its checkpointed position", o ? ", " : "");
}

static void print_topics(FILE *f)
{
    fputs("usage: wire help TOPIC\n"
          "\n"
          "topics:\n"
          "  sources            source types\n"
          "  transforms         transform types\n"
          "  sinks              sink types\n"
          "  pipeline           the pipeline file: top-level keys and components\n"
          "  TYPE               a type's options, e.g. wire help file (source file and sink file)\n"
          "  KIND TYPE          one kind only, e.g. wire help sink file\n"
          "  --markdown         the whole reference as markdown (docs/reference.md)\n",
          f);
}

static void print_kind_list(const wire_registry *r, wire_kind k, FILE *f)
{
    const wire_component_def *c;
    size_t width = 0;
    for (size_t i = 0; (c = wire_registry_next(r, k, &i)) != NULL;)
        if (strlen(c->type) > width)
            width = strlen(c->type);
    fprintf(f, "%s:\n", kind_title[k]);
    size_t n = 0;
    for (size_t i = 0; (c = wire_registry_next(r, k, &i)) != NULL; n++)
        fprintf(f, "  %-*s  %s\n", (int)width, c->type, c->summary ? c->summary : "");
    if (n == 0)
        fputs("  (none)\n", f);
    fprintf(f, "\nwire help TYPE shows a type's options.\n");
}

static void print_type(const wire_component_def *e, FILE *f)
{
    char caps[256];
    fprintf(f, "%s %s: %s\n", wire_kind_name(e->kind), e->type, e->summary ? e->summary : "");
    caps_text(e->kind, e->caps, caps, sizeof(caps));
    if (caps[0])
        fprintf(f, "  supports: %s\n", caps);
    fputs("\noptions (under config:):\n", f);
    wire_options_print(e->options, f, false);
}

static void print_pipeline(FILE *f)
{
    fputs("A pipeline file (YAML, or the same document as JSON) has these top-level keys:\n"
          "\n"
          "  name              required; [a-z0-9_-]{1,64}\n"
          "  source            required; a component\n"
          "  transforms        a list of components, applied in order\n"
          "  sink | sinks      required; one component, or a non-empty list of them\n"
          "  delivery          at-least-once (default) | exactly-once (every sink must support "
          "it)\n"
          "  checkpoint        {interval: 1s}\n"
          "  dlq               a sink component that receives dead letters\n"
          "  shutdown_timeout  how long a stop may drain (default 10s)\n"
          "  buffer            {max_bytes: 8MB, batch_events: 4096}: queue byte budget and "
          "batch size\n"
          "  placement         {node: ID}: cluster only, run on that node (default: the leader\n"
          "                    picks the least loaded live node)\n"
          "  parallelism       N (default 1): instances sharing the source's splits (Kafka\n"
          "                    partitions), placed on distinct nodes where it can; sources\n"
          "                    that cannot be split accept only 1\n"
          "\n"
          "A component is {type, name?, config}. Transforms and sinks also take\n"
          "on_error: drop | fail (or stop) | dlq, for events that fail for good\n"
          "(default: drop for transforms; dlq for sinks if there is a dlq, else fail).\n"
          "Sinks and the dlq take\n"
          "retry: {initial: 100ms, max: 30s, max_attempts: 0, max_elapsed: 0s} (0 = no "
          "limit).\n"
          "Values may use ${ENV_VAR} and ${ENV_VAR:-default}; $${ is a literal ${.\n"
          "See docs/configuration.md.\n",
          f);
}

static void print_markdown(const wire_registry *r, FILE *f)
{
    fputs("# Wire component reference\n"
          "\n"
          "<!-- Generated by `wire help --markdown` (make docs) from each component's option "
          "table. Do not edit by hand. -->\n"
          "\n"
          "Every component is written `{type, name?, config}` in a pipeline file; the options "
          "below go under `config:`. The pipeline file itself (top-level keys, defaults, "
          "`${ENV}` substitution, error format) is described in "
          "[configuration.md](configuration.md).\n"
          "\n"
          "Types: `string`; `integer`; `number`; `boolean` (`true`/`false`); `duration` "
          "(`250ms`, `10s`, `2m`, `1h`; a bare number is seconds); `size` (`512`, `64KB`, "
          "`8MB`, `1GiB`; units are powers of 1024); `enum(a|b)`: one of the listed words; "
          "`expression` and `select list`: the expression language; `list of strings`: a "
          "YAML list or one comma-separated string; `map of strings`; `JSON`: any value.\n",
          f);
    for (wire_kind k = 0; k < WIRE_KIND_COUNT; k++) {
        fprintf(f, "\n## %s\n", kind_title[k]);
        const wire_component_def *e;
        size_t n = 0;
        for (size_t i = 0; (e = wire_registry_next(r, k, &i)) != NULL; n++) {
            char caps[256];
            const char *sum = e->summary ? e->summary : "";
            size_t sl = strlen(sum);
            fprintf(f, "\n### `%s` %s\n\n%s%s\n", e->type, wire_kind_name(k), sum,
                    sl && sum[sl - 1] == '.' ? "" : ".");
            caps_text(k, e->caps, caps, sizeof(caps));
            if (caps[0])
                fprintf(f, "\nSupports: %s.\n", caps);
            fputc('\n', f);
            wire_options_print(e->options, f, true);
        }
        if (n == 0)
            fputs("\nNone yet.\n", f);
    }
}

static int kind_from_word(const char *w, size_t n)
{
    for (wire_kind k = 0; k < WIRE_KIND_COUNT; k++) {
        const char *one = wire_kind_name(k), *many = wire_kind_plural(k);
        if ((strlen(one) == n && strncmp(w, one, n) == 0) ||
            (strlen(many) == n && strncmp(w, many, n) == 0))
            return (int)k;
    }
    return -1;
}

/* Print every type named `type` (of kind `only`, or any if -1). 0 if found. */
static int help_type(const wire_registry *r, int only, const char *type, FILE *f)
{
    int found = 0;
    /* kinds in their order, as the list shows them */
    for (wire_kind k = 0; k < WIRE_KIND_COUNT; k++) {
        if (only >= 0 && (int)k != only)
            continue;
        const wire_component_def *c;
        for (size_t i = 0; (c = wire_registry_next(r, k, &i)) != NULL;) {
            if (strcmp(c->type, type) != 0)
                continue;
            if (found++)
                fputc('\n', f);
            print_type(c, f);
        }
    }
    if (found)
        return 0;
    /* Suggest the closest type name of any kind. */
    const char *names[256];
    size_t n = 0;
    for (wire_kind k = 0; k < WIRE_KIND_COUNT; k++) {
        const wire_component_def *c;
        for (size_t i = 0; n < 256 && (c = wire_registry_next(r, k, &i)) != NULL;)
            names[n++] = c->type;
    }
    const char *sug = wire_cfg_suggest(type, names, n);
    const char *what = only >= 0 ? wire_kind_name((wire_kind)only) : "source, transform or sink";
    const char *list = only >= 0 ? wire_kind_plural((wire_kind)only) : "sources";
    if (sug)
        fprintf(stderr, "fatal: no %s type '%s' (did you mean '%s'? try: wire help %s)\n", what,
                type, sug, list);
    else
        fprintf(stderr, "fatal: no %s type '%s' (try: wire help %s)\n", what, type, list);
    return 1;
}

int wire_cmd_help(int argc, char **argv)
{
    const wire_registry *r = &wire_default_registry;
    if (argc < 2) {
        print_topics(stdout);
        return 0;
    }
    const char *topic = argv[1];
    if (strcmp(topic, "--markdown") == 0 || strcmp(topic, "markdown") == 0) {
        print_markdown(r, stdout);
        return 0;
    }
    if (strcmp(topic, "pipeline") == 0 || strcmp(topic, "config") == 0) {
        print_pipeline(stdout);
        return 0;
    }
    if (strcmp(topic, "-h") == 0 || strcmp(topic, "--help") == 0 || strcmp(topic, "topics") == 0) {
        print_topics(stdout);
        return 0;
    }
    int k = kind_from_word(topic, strlen(topic));
    if (k >= 0 && argc >= 3)
        return help_type(r, k, argv[2], stdout);
    if (k >= 0) {
        print_kind_list(r, (wire_kind)k, stdout);
        return 0;
    }
    /* source/file or sink:file */
    const char *sep = strpbrk(topic, "/:");
    if (sep) {
        int kk = kind_from_word(topic, (size_t)(sep - topic));
        if (kk >= 0)
            return help_type(r, kk, sep + 1, stdout);
    }
    return help_type(r, -1, topic, stdout);
}
