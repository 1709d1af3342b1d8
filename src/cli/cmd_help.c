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
#include "connectors/connectors.h"

typedef enum { HK_SOURCE, HK_TRANSFORM, HK_SINK, HK_COUNT } help_kind;

static const char *const kind_singular[] = {"source", "transform", "sink"};
static const char *const kind_plural[] = {"sources", "transforms", "sinks"};
static const char *const kind_title[] = {"Sources", "Transforms", "Sinks"};

/* A uniform view of the three definition structs. */
typedef struct help_entry {
    const char *type, *summary;
    const wire_option *options;
    unsigned caps;
} help_entry;

static bool entry_at(const wire_registry *r, help_kind k, size_t i, help_entry *e)
{
    if (k == HK_SOURCE && r->sources && r->sources[i]) {
        *e = (help_entry){r->sources[i]->type, r->sources[i]->summary, r->sources[i]->options,
                          r->sources[i]->caps};
        return true;
    }
    if (k == HK_TRANSFORM && r->transforms && r->transforms[i]) {
        *e = (help_entry){r->transforms[i]->type, r->transforms[i]->summary,
                          r->transforms[i]->options, r->transforms[i]->caps};
        return true;
    }
    if (k == HK_SINK && r->sinks && r->sinks[i]) {
        *e = (help_entry){r->sinks[i]->type, r->sinks[i]->summary, r->sinks[i]->options,
                          r->sinks[i]->caps};
        return true;
    }
    return false;
}

static void caps_text(help_kind k, unsigned caps, char *buf, size_t bn)
{
    buf[0] = '\0';
    size_t o = 0;
    if (k == HK_SINK && (caps & WIRE_CAP_EXACTLY_ONCE))
        o += (size_t)snprintf(buf + o, bn - o, "%sexactly-once delivery", o ? ", " : "");
    if (k == HK_SOURCE && (caps & WIRE_CAP_BOUNDED) && o < bn)
        o += (size_t)snprintf(buf + o, bn - o, "%smay finish by itself (bounded input)",
                              o ? ", " : "");
    if (k == HK_SOURCE && (caps & WIRE_CAP_REPLAYABLE) && o < bn)
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

static void print_kind_list(const wire_registry *r, help_kind k, FILE *f)
{
    help_entry e;
    size_t width = 0;
    for (size_t i = 0; entry_at(r, k, i, &e); i++)
        if (strlen(e.type) > width)
            width = strlen(e.type);
    fprintf(f, "%s:\n", kind_title[k]);
    size_t n = 0;
    for (size_t i = 0; entry_at(r, k, i, &e); i++, n++)
        fprintf(f, "  %-*s  %s\n", (int)width, e.type, e.summary ? e.summary : "");
    if (n == 0)
        fputs("  (none)\n", f);
    fprintf(f, "\nwire help TYPE shows a type's options.\n");
}

static void print_type(help_kind k, const help_entry *e, FILE *f)
{
    char caps[256];
    fprintf(f, "%s %s: %s\n", kind_singular[k], e->type, e->summary ? e->summary : "");
    caps_text(k, e->caps, caps, sizeof(caps));
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
          "\n"
          "A component is {type, name?, config}. Transforms and sinks also take\n"
          "on_error: drop | fail | dlq, for events that fail for good (default: drop for\n"
          "transforms; dlq for sinks if there is a dlq, else fail). Sinks and the dlq take\n"
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
    for (int k = 0; k < HK_COUNT; k++) {
        fprintf(f, "\n## %s\n", kind_title[k]);
        help_entry e;
        size_t n = 0;
        for (size_t i = 0; entry_at(r, (help_kind)k, i, &e); i++, n++) {
            char caps[256];
            const char *sum = e.summary ? e.summary : "";
            size_t sl = strlen(sum);
            fprintf(f, "\n### `%s` %s\n\n%s%s\n", e.type, kind_singular[k], sum,
                    sl && sum[sl - 1] == '.' ? "" : ".");
            caps_text((help_kind)k, e.caps, caps, sizeof(caps));
            if (caps[0])
                fprintf(f, "\nSupports: %s.\n", caps);
            fputc('\n', f);
            wire_options_print(e.options, f, true);
        }
        if (n == 0)
            fputs("\nNone yet.\n", f);
    }
}

static int kind_from_word(const char *w, size_t n)
{
    for (int k = 0; k < HK_COUNT; k++)
        if ((strlen(kind_singular[k]) == n && strncmp(w, kind_singular[k], n) == 0) ||
            (strlen(kind_plural[k]) == n && strncmp(w, kind_plural[k], n) == 0))
            return k;
    return -1;
}

/* Print every type named `type` (of kind `only`, or any if -1). 0 if found. */
static int help_type(const wire_registry *r, int only, const char *type, FILE *f)
{
    int found = 0;
    for (int k = 0; k < HK_COUNT; k++) {
        if (only >= 0 && k != only)
            continue;
        help_entry e;
        for (size_t i = 0; entry_at(r, (help_kind)k, i, &e); i++) {
            if (strcmp(e.type, type) != 0)
                continue;
            if (found++)
                fputc('\n', f);
            print_type((help_kind)k, &e, f);
        }
    }
    if (found)
        return 0;
    /* Suggest the closest type name of any kind. */
    const char *names[256];
    size_t n = 0;
    for (int k = 0; k < HK_COUNT; k++) {
        help_entry e;
        for (size_t i = 0; entry_at(r, (help_kind)k, i, &e) && n < 256; i++)
            names[n++] = e.type;
    }
    const char *sug = wire_cfg_suggest(type, names, n);
    const char *what = only >= 0 ? kind_singular[only] : "source, transform or sink";
    if (sug)
        fprintf(stderr, "fatal: no %s type '%s' (did you mean '%s'? try: wire help %s)\n", what,
                type, sug, only >= 0 ? kind_plural[only] : "sources");
    else
        fprintf(stderr, "fatal: no %s type '%s' (try: wire help %s)\n", what, type,
                only >= 0 ? kind_plural[only] : "sources");
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
        print_kind_list(r, (help_kind)k, stdout);
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
