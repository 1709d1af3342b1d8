/*
 * test_registry.c — the default registry and every option table in it:
 * lookups by type name, type names unique per kind, option tables well
 * formed (names unique, descriptions present, enum choices given), and every
 * default parsing through the same parser as user values.
 */
#include <stdlib.h>

#include "connectors/connectors.h"
#include "registry/registry.h"
#include "test.h"
#include "transforms/transforms.h"

typedef struct entry {
    const char *kind, *type;
    const wire_option *options;
    size_t config_size;
} entry;

static size_t all_entries(entry *out, size_t cap)
{
    const wire_registry *r = &wire_default_registry;
    size_t n = 0;
    for (const wire_component_def *const *c = r->components; *c && n < cap; c++)
        out[n++] =
            (entry){wire_kind_name((*c)->kind), (*c)->type, (*c)->options, (*c)->config_size};
    return n;
}

TEST(lookups)
{
    const wire_registry *r = &wire_default_registry;
    size_t kinds[WIRE_KIND_COUNT] = {0};
    for (const wire_component_def *const *c = r->components; *c; c++) {
        CHECK((*c)->kind < WIRE_KIND_COUNT);
        CHECK(wire_registry_find(r, (*c)->kind, (*c)->type) == *c);
        CHECK((*c)->create != NULL && (*c)->destroy != NULL);
        kinds[(*c)->kind]++;
    }
    for (int k = 0; k < WIRE_KIND_COUNT; k++)
        CHECK(kinds[k] > 0);
    CHECK(wire_registry_source(r, "file") == &wire_source_file);
    CHECK(wire_registry_transform(r, "map") == &wire_transform_map);
    CHECK(wire_registry_sink(r, "http") == &wire_sink_http);
    CHECK(wire_registry_source(r, "no-such-type") == NULL);
    CHECK(wire_registry_transform(r, "") == NULL);
    CHECK(wire_registry_sink(r, "File") == NULL);
}

TEST(tables_well_formed)
{
    entry e[256];
    size_t n = all_entries(e, 256);
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++) {
        CHECK(e[i].type && e[i].type[0]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(e[i].kind, e[j].kind) == 0 && strcmp(e[i].type, e[j].type) == 0) {
                fprintf(stderr, "duplicate %s type '%s'\n", e[i].kind, e[i].type);
                CHECK(0);
            }
        for (const wire_option *o = e[i].options; o && o->name; o++) {
            bool good = o->desc && o->desc[0] && (o->type != WIRE_OPT_ENUM || o->choices);
            if (!good)
                fprintf(stderr, "%s %s: option '%s' lacks a description or choices\n", e[i].kind,
                        e[i].type, o->name);
            CHECK(good);
            for (const wire_option *p = e[i].options; p < o; p++)
                if (strcmp(p->name, o->name) == 0) {
                    fprintf(stderr, "%s %s: option '%s' twice\n", e[i].kind, e[i].type, o->name);
                    CHECK(0);
                }
            if (o->flags & WIRE_OPT_REQUIRED)
                CHECK(o->def == NULL); /* a required option with a default is a contradiction */
        }
    }
}

TEST(defaults_parse)
{
    entry e[256];
    size_t n = all_entries(e, 256);
    for (size_t i = 0; i < n; i++) {
        void *cfg = calloc(1, e[i].config_size ? e[i].config_size : 1);
        wire_diags d = {0};
        char what[128];
        snprintf(what, sizeof(what), "%s '%s'", e[i].kind, e[i].type);
        wire_options_parse(e[i].options, NULL, cfg, what, &d);
        for (size_t k = 0; k < d.n; k++) {
            /* without a config only required options may be reported */
            if (!strstr(d.v[k].msg, "missing required option")) {
                fprintf(stderr, "%s:%d:%d: %s\n", d.v[k].file, d.v[k].line, d.v[k].col, d.v[k].msg);
                CHECK(0);
            }
        }
        wire_diags_free(&d);
        wire_options_free(e[i].options, cfg);
        free(cfg);
    }
}

int main(void)
{
    RUN(lookups);
    RUN(tables_well_formed);
    RUN(defaults_parse);
    TEST_MAIN_END();
}
