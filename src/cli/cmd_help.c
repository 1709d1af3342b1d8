/*
 * cmd_help.c — `wire help [TOPIC]`: the reference for the types a pipeline
 * can use, generated from each component's option table (the same tables
 * that validate configs), so help, validation and docs/reference.md never
 * disagree.
 *
 *   wire help                      topics
 *   wire help sources|transforms|sinks   types of that kind with summaries
 *   wire help pipeline             the pipeline file's top-level keys
 *   wire help guarantees           the delivery guarantee of every source and sink
 *   wire help guarantees --markdown   the same as docs/guarantees.md (make docs)
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

/*
 * The guarantee matrix, read from what each type declares (its WIRE_CAP_*
 * and, for sources, whether it acknowledges upstream on commit), never
 * written by hand: one row per source and sink type.
 */
typedef struct guarantee_row {
    const char *role;
    const char *at_least_once;
    const char *exactly_once;
    const char *idempotent;
    char mechanism[200];
    const char *splittable;
} guarantee_row;

static void add_mechanism(guarantee_row *g, const char *what)
{
    size_t o = strlen(g->mechanism);
    snprintf(g->mechanism + o, sizeof(g->mechanism) - o, "%s%s", o ? "; " : "", what);
}

static void guarantees_of(const wire_component_def *c, guarantee_row *g)
{
    memset(g, 0, sizeof(*g));
    g->role = wire_kind_name(c->kind);
    if (c->kind == WIRE_KIND_SOURCE) {
        const wire_source_def *sd = (const wire_source_def *)c;
        bool replay = c->caps & WIRE_CAP_REPLAYABLE;
        g->at_least_once = replay                        ? "yes"
                           : sd->on_checkpoint_committed ? "if it acknowledges on commit"
                                                         : "no (not replayable)";
        g->exactly_once = replay ? "with an exactly-once sink" : "no";
        g->idempotent = "-";
        if (replay)
            add_mechanism(g, "replays from checkpointed positions");
        if (sd->on_checkpoint_committed)
            add_mechanism(g, "acknowledges upstream after each durable checkpoint");
        g->splittable = c->caps & WIRE_CAP_SPLITTABLE ? "yes" : "no";
    } else {
        g->at_least_once = "yes";
        g->exactly_once = c->caps & WIRE_CAP_EXACTLY_ONCE ? "yes" : "no";
        g->idempotent = c->caps & WIRE_CAP_IDEMPOTENT ? "yes (effectively once)" : "no";
        if (c->caps & WIRE_CAP_EO_2PC)
            add_mechanism(g, "resumable two-phase commit (state in the checkpoint)");
        if (c->caps & WIRE_CAP_EO_POSITIONS)
            add_mechanism(g, "sink-owned positions (committed with the data)");
        if (c->caps & WIRE_CAP_IDEMPOTENT)
            add_mechanism(g, "idempotent writes keyed by event id");
        g->splittable = "-";
    }
    if (!g->mechanism[0])
        add_mechanism(g, "-");
}

static const char *const guarantee_notes =
    "A source that cannot replay loses, in a crash, what it read since the last checkpoint.\n"
    "delivery: exactly-once needs a source that replays from checkpointed positions, every\n"
    "sink exactly-once (two-phase commit or sink-owned positions) and at most one sink that\n"
    "owns the positions; wire validate refuses anything else and says why. An idempotent\n"
    "sink is refused for exactly-once: run it at-least-once, where a replay overwrites\n"
    "instead of duplicating (effectively once). A source that is not replayable but\n"
    "acknowledges on commit (http with ack: committed) is at-least-once when its client\n"
    "resends what was not acknowledged. Splittable: may run with parallelism > 1.\n";

static void print_guarantees(const wire_registry *r, bool markdown, FILE *f)
{
    static const char *const head[] = {"type",       "role",      "at-least-once", "exactly-once",
                                       "idempotent", "mechanism", "splittable"};
    enum { NCOL = sizeof(head) / sizeof(head[0]) };
    size_t width[NCOL];
    for (size_t k = 0; k < NCOL; k++)
        width[k] = strlen(head[k]);
    const wire_kind kinds[] = {WIRE_KIND_SOURCE, WIRE_KIND_SINK};
    /* widths first (plain text is aligned), then the rows */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (size_t k = 0; k < NCOL; k++) {
                if (markdown)
                    fprintf(f, "| %s ", head[k]);
                else
                    fprintf(f, "%-*s%s", k + 1 < NCOL ? (int)width[k] : 0, head[k],
                            k + 1 < NCOL ? "  " : "");
            }
            fputs(markdown ? "|\n" : "\n", f);
            if (markdown)
                fputs("|---|---|---|---|---|---|---|\n", f);
        }
        for (size_t ki = 0; ki < 2; ki++) {
            const wire_component_def *c;
            for (size_t i = 0; (c = wire_registry_next(r, kinds[ki], &i)) != NULL;) {
                guarantee_row g;
                guarantees_of(c, &g);
                const char *cell[NCOL] = {c->type,        g.role,       g.at_least_once,
                                          g.exactly_once, g.idempotent, g.mechanism,
                                          g.splittable};
                for (size_t k = 0; k < NCOL; k++) {
                    if (pass == 0) {
                        if (strlen(cell[k]) > width[k])
                            width[k] = strlen(cell[k]);
                    } else if (markdown) {
                        fprintf(f, k == 0 ? "| `%s` " : "| %s ", cell[k]);
                    } else {
                        fprintf(f, "%-*s%s", k + 1 < NCOL ? (int)width[k] : 0, cell[k],
                                k + 1 < NCOL ? "  " : "");
                    }
                }
                if (pass == 1)
                    fputs(markdown ? "|\n" : "\n", f);
            }
        }
    }
}

static void print_guarantees_markdown(const wire_registry *r, FILE *f)
{
    fputs("# Delivery guarantees\n"
          "\n"
          "<!-- Generated by `wire help guarantees --markdown` (make docs) from the capabilities "
          "each source and sink declares. Do not edit by hand. -->\n"
          "\n"
          "What each source and sink type can promise, read from what it declares in the "
          "code. How acknowledgements, checkpoints and the delivery modes work is in "
          "[delivery.md](delivery.md); every type's options are in "
          "[reference.md](reference.md).\n"
          "\n",
          f);
    print_guarantees(r, true, f);
    fputs("\n"
          "The exactly-once mechanisms of sinks:\n"
          "\n"
          "- *resumable two-phase commit (state in the checkpoint)*: at each checkpoint "
          "barrier the sink pre-commits and its commit state goes into the checkpoint; after "
          "a crash it is put back to that state (the file sink truncates its uncommitted "
          "tail) and the source replays from the same checkpoint's positions.\n"
          "- *sink-owned positions (committed with the data)*: the data and the source "
          "positions commit atomically in the destination; on start the sink's positions "
          "override the checkpoint's. Only one such sink per pipeline.\n"
          "- *idempotent writes keyed by event id*: a replay overwrites what it wrote before "
          "(event ids are derived from positions, so they are the same after a crash): "
          "effectively once under `delivery: at-least-once`.\n"
          "\n"
          "The rules `wire validate` applies, as `wire help guarantees` prints them:\n"
          "\n",
          f);
    /* the same notes as the text help, as one paragraph */
    const char *p = guarantee_notes;
    for (; *p; p++)
        fputc(*p == '\n' && p[1] ? ' ' : *p, f);
}

/* What `wire help TYPE` says a type supports: the matrix's row, in words. */
static void caps_text(const wire_component_def *c, char *buf, size_t bn)
{
    guarantee_row g;
    guarantees_of(c, &g);
    buf[0] = '\0';
    if (c->kind == WIRE_KIND_TRANSFORM)
        return;
    size_t o = (size_t)snprintf(buf, bn, "at-least-once: %s; exactly-once: %s", g.at_least_once,
                                g.exactly_once);
    if (c->kind == WIRE_KIND_SINK && o < bn)
        o += (size_t)snprintf(buf + o, bn - o, "; idempotent: %s", g.idempotent);
    if (strcmp(g.mechanism, "-") != 0 && o < bn)
        o += (size_t)snprintf(buf + o, bn - o, "; %s", g.mechanism);
    if (c->kind == WIRE_KIND_SOURCE && (c->caps & WIRE_CAP_BOUNDED) && o < bn)
        o += (size_t)snprintf(buf + o, bn - o, "; may finish by itself (bounded input)");
    if (c->kind == WIRE_KIND_SOURCE && (c->caps & WIRE_CAP_SPLITTABLE) && o < bn)
        snprintf(buf + o, bn - o, "; splittable (parallelism > 1)");
}

/* A source's metadata names for expressions, "`_kafka.topic`, ..." (md: in backquotes). */
static void meta_text(const wire_component_def *c, bool md, char *buf, size_t bn)
{
    buf[0] = '\0';
    if (c->kind != WIRE_KIND_SOURCE || !((const wire_source_def *)c)->meta)
        return;
    const wire_meta_ns *ns = ((const wire_source_def *)c)->meta;
    size_t o = 0;
    for (size_t i = 0; ns->fields[i] && o < bn; i++)
        o += (size_t)snprintf(buf + o, bn - o, "%s%s%s.%s%s", i ? ", " : "", md ? "`" : "",
                              ns->name, ns->fields[i], md ? "`" : "");
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
          "  guarantees         delivery guarantees of every source and sink (add --markdown\n"
          "                     for docs/guarantees.md)\n"
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
    caps_text(e, caps, sizeof(caps));
    if (caps[0])
        fprintf(f, "  guarantees: %s\n", caps);
    meta_text(e, false, caps, sizeof(caps));
    if (caps[0])
        fprintf(f, "  metadata in expressions: %s\n", caps);
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
          "  delivery          at-least-once (default) | exactly-once (a replayable source and\n"
          "                    exactly-once sinks: wire help guarantees)\n"
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
          "The source also takes\n"
          "event_time: {field: ts, watermark_delay: 2s, idle_after: 30s}: the event time (ms or\n"
          "RFC 3339; a.b for a nested field; none valid: DLQ) and its watermark (docs/streaming.md).\n"
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
            caps_text(e, caps, sizeof(caps));
            if (caps[0])
                fprintf(f, "\nGuarantees ([guarantees.md](guarantees.md)): %s.\n", caps);
            meta_text(e, true, caps, sizeof(caps));
            if (caps[0])
                fprintf(f, "\nMetadata in expressions ([expressions.md](expressions.md)): %s.\n",
                        caps);
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
    if (strcmp(topic, "guarantees") == 0) {
        if (argc >= 3 && strcmp(argv[2], "--markdown") == 0) {
            print_guarantees_markdown(r, stdout);
        } else {
            print_guarantees(r, false, stdout);
            fputs("\n", stdout);
            fputs(guarantee_notes, stdout);
        }
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
