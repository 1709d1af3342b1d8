/*
 * secrets.c — secret references in pipeline options (docs/security.md).
 *
 * A string option (a string, an item of a list, a value of a map) whose
 * whole value is `${env:NAME}` or `${file:PATH}` is a reference: the
 * pipeline document — what the cluster stores, replicates and returns on
 * GET — holds only the reference, and the node that runs the pipeline
 * replaces it with the variable's value or the file's content (one trailing
 * newline dropped) just before the components are created. A node reads
 * `${file:}` through its sandbox, like any other path of a pipeline.
 *
 * Options that name a secret (wire_secret_key: password, key_pass, token,
 * anything with "secret", an Authorization header) must be references in a
 * document submitted to a node: a literal there would be stored and shown.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"
#include "core/sandbox.h"
#include "engine/engine.h"

bool wire_secret_key(const char *key)
{
    char low[128];
    size_t n = strlen(key);
    if (n >= sizeof(low))
        n = sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)key[i]);
    low[n] = 0;
    const char *last = strrchr(low, '.');
    last = last ? last + 1 : low;
    return strstr(low, "password") || strstr(low, "secret") || strcmp(last, "key_pass") == 0 ||
           strcmp(last, "token") == 0 || strcmp(low, "authorization") == 0 ||
           strcmp(low, "proxy-authorization") == 0;
}

enum { REF_NONE, REF_ENV, REF_FILE, REF_BAD };

/* What `v` is; arg and alen: the variable name or path. */
static int ref_kind(const char *v, const char **arg, size_t *alen)
{
    size_t n = v ? strlen(v) : 0;
    if (n < 3 || strncmp(v, "${", 2) != 0 || v[n - 1] != '}')
        return REF_NONE;
    int kind = strncmp(v + 2, "env:", 4) == 0    ? REF_ENV
               : strncmp(v + 2, "file:", 5) == 0 ? REF_FILE
                                                 : REF_BAD;
    if (kind == REF_BAD)
        return REF_BAD;
    *arg = v + (kind == REF_ENV ? 6 : 7);
    *alen = (size_t)(v + n - 1 - *arg);
    if (*alen == 0)
        return REF_BAD;
    for (size_t i = 0; kind == REF_ENV && i < *alen; i++) {
        char c = (*arg)[i];
        if (!(isalnum((unsigned char)c) || c == '_') || (i == 0 && isdigit((unsigned char)c)))
            return REF_BAD;
    }
    if (kind == REF_FILE && memchr(*arg, '}', *alen))
        return REF_BAD;
    return kind;
}

/* ---- walking a component's string options ---- */

typedef struct walk walk;
/* `key` names the value for messages ("sasl.password", "url"); *slot may be replaced. */
typedef int (*visit_fn)(walk *w, const char *key, char **slot);
struct walk {
    const wire_pipeline_spec *spec;
    const wire_component *c;
    const char *kind;
    visit_fn visit;
    wire_diags *d;
    wire_err *err;
    const wire_sandbox *sb;
    bool refuse_literals;
    char where[256]; /* "sink 'http': option 'headers.Authorization'" */
};

static int walk_table(walk *w, const wire_option *table, char *cfg, const char *prefix)
{
    const wire_component *c = w->c;
    const char *kind = w->kind;
    for (const wire_option *o = table; o && o->name; o++) {
        char *base = cfg + o->offset;
        int rc = 0;
        if (o->type == WIRE_OPT_TLS) {
            char sub[64];
            snprintf(sub, sizeof(sub), "%s%s.", prefix, o->name);
            rc = walk_table(w, wire_tls_options, base, sub);
        } else if (o->type == WIRE_OPT_STRING) {
            snprintf(w->where, sizeof(w->where), "%s '%s': option '%s%s'", kind, c->type, prefix,
                     o->name);
            rc = w->visit(w, o->name, (char **)base);
        } else if (o->type == WIRE_OPT_STRLIST) {
            wire_strlist *l = (wire_strlist *)base;
            for (size_t i = 0; rc == 0 && i < l->n; i++) {
                snprintf(w->where, sizeof(w->where), "%s '%s': option '%s[%zu]'", kind, c->type,
                         o->name, i);
                rc = w->visit(w, o->name, &l->v[i]);
            }
        } else if (o->type == WIRE_OPT_STRMAP) {
            wire_strmap *m = (wire_strmap *)base;
            for (size_t i = 0; rc == 0 && i < m->n; i++) {
                snprintf(w->where, sizeof(w->where), "%s '%s': option '%s.%s'", kind, c->type,
                         o->name, m->keys[i]);
                rc = w->visit(w, m->keys[i], &m->vals[i]);
            }
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int walk_component(walk *w, const wire_component *c, const char *kind)
{
    if (!c->type || !c->def || !c->config)
        return 0;
    w->c = c;
    w->kind = kind;
    const wire_component_def *def = c->def;
    return walk_table(w, def->options, c->config, "");
}

static int walk_spec(walk *w)
{
    int rc = walk_component(w, &w->spec->source, "source");
    for (size_t i = 0; rc == 0 && i < w->spec->ntransforms; i++)
        rc = walk_component(w, &w->spec->transforms[i], "transform");
    for (size_t i = 0; rc == 0 && i < w->spec->nsinks; i++)
        rc = walk_component(w, &w->spec->sinks[i], "sink");
    if (rc == 0)
        rc = walk_component(w, &w->spec->dlq, "dlq");
    return rc;
}

/* ---- checking (create, validate) ---- */

static int check_one(walk *w, const char *key, char **slot)
{
    const char *arg;
    size_t alen;
    const char *file = w->spec->file ? w->spec->file : "pipeline";
    int kind = ref_kind(*slot, &arg, &alen);
    if (kind == REF_BAD) {
        wire_diags_add(w->d, file, w->c->line, w->c->col,
                       "%s: a secret is written ${env:NAME} (letters, digits, _) or "
                       "${file:PATH}",
                       w->where);
    } else if (kind == REF_FILE && w->sb) {
        char path[4096];
        snprintf(path, sizeof(path), "%.*s", (int)alen, arg);
        wire_err err;
        wire_err_clear(&err);
        if (wire_sandbox_check(w->sb, path, &err) != 0)
            wire_diags_add(w->d, file, w->c->line, w->c->col, "%s: %s", w->where, err.msg);
    } else if (kind == REF_NONE && w->refuse_literals && *slot && **slot && wire_secret_key(key)) {
        wire_diags_add(w->d, file, w->c->line, w->c->col,
                       "%s names a secret: write it as ${env:NAME} or ${file:PATH}, resolved "
                       "on the node that runs the pipeline (a literal would be stored and "
                       "shown)",
                       w->where);
    }
    return 0;
}

int wire_spec_check_secrets(const wire_pipeline_spec *s, const struct wire_sandbox *sb,
                            bool refuse_literals, wire_diags *d)
{
    size_t before = d->n;
    walk w = {.spec = s, .visit = check_one, .d = d, .sb = sb, .refuse_literals = refuse_literals};
    walk_spec(&w);
    return d->n > before ? WIRE_EINVAL : 0;
}

/* ---- resolving (the node that runs it, wire run) ---- */

static int read_secret_file(walk *w, const char *path, char **out)
{
    wire_err oe;
    wire_err_clear(&oe);
    int fd = wire_sandbox_open(w->sb, path, O_RDONLY | O_CLOEXEC, 0, &oe);
    if (fd < 0)
        return wire_errf(w->err, oe.code == WIRE_EPERM ? WIRE_EPERM : WIRE_EINVAL, "%s: %s",
                         w->where, oe.msg);
    char *text;
    size_t n;
    int rc = wire_io_read_fd(fd, &text, &n, &oe);
    close(fd);
    if (rc != 0)
        return wire_errf(w->err, WIRE_EINVAL, "%s: %s", w->where, oe.msg);
    if (n && text[n - 1] == '\n')
        text[--n] = 0;
    if (n && text[n - 1] == '\r')
        text[--n] = 0;
    *out = text;
    return 0;
}

static int resolve_one(walk *w, const char *key, char **slot)
{
    const char *arg;
    size_t alen;
    int kind = ref_kind(*slot, &arg, &alen);
    if (kind == REF_NONE)
        return 0;
    if (kind == REF_BAD)
        return wire_errf(w->err, WIRE_EINVAL, "%s: a malformed secret reference", w->where);
    char name[4096];
    snprintf(name, sizeof(name), "%.*s", (int)alen, arg);
    char *value = NULL;
    if (kind == REF_ENV) {
        const char *v = getenv(name);
        if (!v)
            return wire_errf(w->err, WIRE_EINVAL, "%s: ${env:%s} is not set on this node", w->where,
                             name);
        value = wire_xstrdup(v);
    } else {
        int rc = read_secret_file(w, name, &value);
        if (rc != 0)
            return rc;
    }
    free(*slot);
    *slot = value;
    return 0;
}

int wire_spec_resolve_secrets(wire_pipeline_spec *s, const struct wire_sandbox *sb, wire_err *err)
{
    walk w = {.spec = s, .visit = resolve_one, .err = err, .sb = sb};
    return walk_spec(&w);
}
