/*
 * options.c — option tables: parsing a component's `config:` map into its
 * config struct, and printing the table for `wire help` and the reference.
 *
 * One table per connector or transform drives validation, help and docs, so
 * they cannot disagree. Defaults are written in config syntax and go through
 * the same parser as user values (so a bad default is caught by the tests
 * that parse every table). Every problem is reported, each at the position
 * of what is wrong: an unknown key at the key, a bad value at the value, a
 * bad expression at the character inside it.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"

const char *wire_opt_type_name(wire_opt_type t)
{
    switch (t) {
    case WIRE_OPT_STRING: return "string";
    case WIRE_OPT_INT: return "integer";
    case WIRE_OPT_DOUBLE: return "number";
    case WIRE_OPT_BOOL: return "boolean";
    case WIRE_OPT_DURATION: return "duration";
    case WIRE_OPT_SIZE: return "size";
    case WIRE_OPT_ENUM: return "enum";
    case WIRE_OPT_EXPR: return "expression";
    case WIRE_OPT_SELECT: return "select list";
    case WIRE_OPT_STRLIST: return "list of strings";
    case WIRE_OPT_STRMAP: return "map of strings";
    case WIRE_OPT_JSON: return "JSON";
    case WIRE_OPT_TLS: return "tls block";
    }
    return "?";
}

/* ---- "did you mean" ---- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *wire_cfg_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        size_t cl = strlen(candidates[i]);
        size_t longer = wl > cl ? wl : cl;
        /* close enough to be a typo: about one edit in three characters */
        size_t limit = longer <= 3 ? 1 : longer <= 6 ? 2 : 3;
        /* a shortened name ("attempts" for "max_attempts") is also a guess */
        if (d > limit && wl >= 4 && strcasestr(candidates[i], word))
            d = limit;
        if (d <= limit && d < best_d) {
            best = candidates[i];
            best_d = d;
        }
    }
    return best;
}

/* ---- Messages ---- */

/* A short quotable excerpt of a scalar's text, for "got '...'". */
static const char *excerpt(const wire_cfg *n, char *buf, size_t bn)
{
    if (n->len <= 40)
        snprintf(buf, bn, "%.*s", (int)n->len, n->str);
    else
        snprintf(buf, bn, "%.37s...", n->str);
    return buf;
}

static const char *kind_name(const wire_cfg *n)
{
    switch (n->kind) {
    case WIRE_CFG_MAP: return "a map";
    case WIRE_CFG_SEQ: return "a list";
    case WIRE_CFG_NULL: return "null";
    default: return "a value";
    }
}

static void diag_at(wire_diags *d, const wire_cfg *n, const char *fmt, ...) WIRE_PRINTF(3, 4);
static void diag_at(wire_diags *d, const wire_cfg *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wire_diags_vadd(d, n->file, n->line, n->col, fmt, ap);
    va_end(ap);
}

/* "got 'abc'" for a scalar, "got a map" otherwise. */
static const char *got(const wire_cfg *n, char *buf, size_t bn)
{
    if (n->kind == WIRE_CFG_SCALAR) {
        char ex[48];
        snprintf(buf, bn, "got '%s'", excerpt(n, ex, sizeof(ex)));
    } else {
        snprintf(buf, bn, "got %s", kind_name(n));
    }
    return buf;
}

/* ---- Values ---- */

static void *field(void *out, const wire_option *o)
{
    return (char *)out + o->offset;
}

static void free_value(const wire_option *o, void *out)
{
    void *f = field(out, o);
    switch (o->type) {
    case WIRE_OPT_STRING:
    case WIRE_OPT_JSON:
        free(*(char **)f);
        *(char **)f = NULL;
        break;
    case WIRE_OPT_EXPR:
        wire_expr_free(*(wire_expr **)f);
        *(wire_expr **)f = NULL;
        break;
    case WIRE_OPT_SELECT:
        wire_select_free(*(wire_select **)f);
        *(wire_select **)f = NULL;
        break;
    case WIRE_OPT_STRLIST: {
        wire_strlist *l = f;
        for (size_t i = 0; i < l->n; i++)
            free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
        break;
    }
    case WIRE_OPT_TLS: wire_options_free(wire_tls_options, f); break;
    case WIRE_OPT_STRMAP: {
        wire_strmap *m = f;
        for (size_t i = 0; i < m->n; i++) {
            free(m->keys[i]);
            free(m->vals[i]);
        }
        free(m->keys);
        free(m->vals);
        m->keys = m->vals = NULL;
        m->n = 0;
        break;
    }
    default: break;
    }
}

void wire_options_free(const wire_option *table, void *out)
{
    if (!table || !out)
        return;
    for (const wire_option *o = table; o->name; o++)
        free_value(o, out);
}

/* Number of '|'-separated choices, and the index of `s` among them (-1). */
static int enum_index(const char *choices, const char *s, size_t n)
{
    int idx = 0;
    const char *p = choices ? choices : "";
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t cl = bar ? (size_t)(bar - p) : strlen(p);
        if (cl == n && memcmp(p, s, n) == 0)
            return idx;
        if (!bar)
            return -1;
        p = bar + 1;
        idx++;
    }
}

/* "read, tail" from "read|tail". */
static void choices_list(const char *choices, char *buf, size_t bn)
{
    size_t o = 0;
    for (const char *p = choices ? choices : ""; *p && o + 3 < bn; p++) {
        if (*p == '|') {
            buf[o++] = ',';
            buf[o++] = ' ';
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
}

static bool scalar_like(const wire_cfg *n)
{
    return n->kind == WIRE_CFG_SCALAR;
}

/* Report an expression compile error at the character it points to. */
static void expr_error(wire_diags *d, const wire_cfg *n, size_t off, const char *what,
                       const char *name, const wire_err *err)
{
    int line, col;
    wire_cfg_text_pos(n, off, &line, &col);
    wire_diags_add(d, n->file, line, col, "%s: option '%s': %s", what, name, err->msg);
}

/*
 * Select lists may be a string or a sequence of items; a sequence is joined
 * with ", " and compiled once, and an error offset is mapped back to the
 * item it falls in.
 */
static int parse_select(const wire_option *o, const wire_cfg *n, wire_select **out,
                        const char *what, wire_diags *d)
{
    wire_err err;
    wire_err_clear(&err);
    if (n->kind == WIRE_CFG_SCALAR) {
        if (wire_select_compile(n->str, n->len, out, &err) != 0) {
            expr_error(d, n, err.offset < 0 ? 0 : (size_t)err.offset, what, o->name, &err);
            return -1;
        }
        return 0;
    }
    if (n->kind != WIRE_CFG_SEQ || n->nitems == 0) {
        char g[80];
        diag_at(d, n, "%s: option '%s' expects a select list (a string or a list of strings), %s",
                what, o->name, got(n, g, sizeof(g)));
        return -1;
    }
    wire_buf b;
    wire_buf_init(&b);
    size_t *starts = wire_xmalloc(n->nitems * sizeof(size_t));
    int rc = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        const wire_cfg *it = n->items[i];
        if (it->kind != WIRE_CFG_SCALAR) {
            char g[80];
            diag_at(d, it, "%s: option '%s': each item must be an expression, %s", what, o->name,
                    got(it, g, sizeof(g)));
            rc = -1;
        }
        if (i)
            wire_buf_append(&b, ", ", 2);
        starts[i] = b.len;
        if (it->str)
            wire_buf_append(&b, it->str, it->len);
    }
    if (rc == 0 && wire_select_compile(b.p ? b.p : "", b.len, out, &err) != 0) {
        size_t off = err.offset < 0 ? 0 : (size_t)err.offset;
        size_t i = n->nitems - 1;
        while (i > 0 && starts[i] > off)
            i--;
        const wire_cfg *it = n->items[i];
        size_t k = off >= starts[i] ? off - starts[i] : 0;
        if (k > it->len)
            k = it->len;
        expr_error(d, it, k, what, o->name, &err);
        rc = -1;
    }
    free(starts);
    wire_buf_free(&b);
    return rc;
}

static char *trimmed_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return wire_xstrndup(s, n);
}

static void strlist_push(wire_strlist *l, char *s)
{
    l->v = wire_xrealloc(l->v, (l->n + 1) * sizeof(char *));
    l->v[l->n++] = s;
}

/* Parse one value into its field (freeing what was there). 0 or -1. */
static int parse_value(const wire_option *o, const wire_cfg *n, void *out, const char *what,
                       wire_diags *d)
{
    void *f = field(out, o);
    char g[80], cl[256];
    if (o->type == WIRE_OPT_JSON) {
        wire_buf b;
        wire_buf_init(&b);
        wire_cfg_to_json(n, &b);
        free_value(o, out);
        *(char **)f = b.p ? b.p : wire_xstrdup("null");
        return 0;
    }
    if (o->type == WIRE_OPT_STRLIST) {
        wire_strlist l = {0};
        if (n->kind == WIRE_CFG_SEQ) {
            int rc = 0;
            for (size_t i = 0; i < n->nitems; i++) {
                const wire_cfg *it = n->items[i];
                if (it->kind != WIRE_CFG_SCALAR) {
                    diag_at(d, it, "%s: option '%s' expects a list of strings; this item is %s",
                            what, o->name, kind_name(it));
                    rc = -1;
                    continue;
                }
                strlist_push(&l, wire_xstrndup(it->str, it->len));
            }
            if (rc) {
                wire_strlist *lp = &l;
                for (size_t i = 0; i < lp->n; i++)
                    free(lp->v[i]);
                free(lp->v);
                return -1;
            }
        } else if (n->kind == WIRE_CFG_SCALAR) {
            const char *p = n->str, *end = n->str + n->len;
            while (p <= end) {
                const char *comma = memchr(p, ',', (size_t)(end - p));
                const char *e = comma ? comma : end;
                char *item = trimmed_dup(p, (size_t)(e - p));
                if (*item)
                    strlist_push(&l, item);
                else
                    free(item);
                p = e + 1;
            }
        } else {
            diag_at(d, n,
                    "%s: option '%s' expects a list of strings (or one comma-separated string), %s",
                    what, o->name, got(n, g, sizeof(g)));
            return -1;
        }
        free_value(o, out);
        *(wire_strlist *)f = l;
        return 0;
    }
    if (o->type == WIRE_OPT_STRMAP) {
        if (n->kind != WIRE_CFG_MAP) {
            diag_at(d, n, "%s: option '%s' expects a map of strings, %s", what, o->name,
                    got(n, g, sizeof(g)));
            return -1;
        }
        wire_strmap m = {0};
        m.keys = wire_xcalloc(n->npairs ? n->npairs : 1, sizeof(char *));
        m.vals = wire_xcalloc(n->npairs ? n->npairs : 1, sizeof(char *));
        int rc = 0;
        for (size_t i = 0; i < n->npairs; i++) {
            const wire_cfg *v = n->pairs[i].val;
            if (v->kind == WIRE_CFG_MAP || v->kind == WIRE_CFG_SEQ) {
                diag_at(d, v, "%s: option '%s' expects a map of strings; the value of '%s' is %s",
                        what, o->name, n->pairs[i].key->str, kind_name(v));
                rc = -1;
                continue;
            }
            m.keys[m.n] = wire_xstrndup(n->pairs[i].key->str, n->pairs[i].key->len);
            m.vals[m.n] = wire_xstrndup(v->str ? v->str : "", v->str ? v->len : 0);
            m.n++;
        }
        wire_strmap *mp = &m;
        if (rc) {
            for (size_t i = 0; i < mp->n; i++) {
                free(mp->keys[i]);
                free(mp->vals[i]);
            }
            free(mp->keys);
            free(mp->vals);
            return -1;
        }
        free_value(o, out);
        *(wire_strmap *)f = m;
        return 0;
    }
    if (o->type == WIRE_OPT_TLS) {
        if (n->kind != WIRE_CFG_MAP) {
            diag_at(d, n, "%s: option '%s' expects a map (enabled, ca_file, crt_file, ...), %s",
                    what, o->name, got(n, g, sizeof(g)));
            return -1;
        }
        free_value(o, out);
        char sub[300];
        snprintf(sub, sizeof(sub), "%s: option '%s'", what, o->name);
        return wire_options_parse(wire_tls_options, n, f, sub, d) == 0 ? 0 : -1;
    }
    if (o->type == WIRE_OPT_SELECT) {
        wire_select *s = NULL;
        if (parse_select(o, n, &s, what, d) != 0)
            return -1;
        free_value(o, out);
        *(wire_select **)f = s;
        return 0;
    }

    /* Every other type is a single scalar. */
    if (!scalar_like(n)) {
        const char *tn = wire_opt_type_name(o->type);
        if (o->type == WIRE_OPT_ENUM) {
            choices_list(o->choices, cl, sizeof(cl));
            diag_at(d, n, "%s: option '%s' must be one of %s, %s", what, o->name, cl,
                    got(n, g, sizeof(g)));
        } else {
            diag_at(d, n, "%s: option '%s' expects %s %s, %s", what, o->name,
                    o->type == WIRE_OPT_INT || o->type == WIRE_OPT_EXPR ? "an" : "a", tn,
                    got(n, g, sizeof(g)));
        }
        return -1;
    }
    const char *s = n->str;
    size_t len = n->len;
    switch (o->type) {
    case WIRE_OPT_STRING:
        if (len == 0 && (o->flags & WIRE_OPT_REQUIRED)) {
            diag_at(d, n, "%s: option '%s' is required: give it a non-empty value", what, o->name);
            return -1;
        }
        free_value(o, out);
        *(char **)f = wire_xstrndup(s, len);
        return 0;
    case WIRE_OPT_INT: {
        int64_t v;
        if (wire_cfg_parse_int(s, len, &v) != 0) {
            diag_at(d, n, "%s: option '%s' expects an integer, %s", what, o->name,
                    got(n, g, sizeof(g)));
            return -1;
        }
        if (v < 0 && !(o->flags & WIRE_OPT_SIGNED)) {
            diag_at(d, n, "%s: option '%s' must be 0 or more, %s", what, o->name,
                    got(n, g, sizeof(g)));
            return -1;
        }
        *(int64_t *)f = v;
        return 0;
    }
    case WIRE_OPT_DOUBLE: {
        char *end;
        errno = 0;
        double v = len ? strtod(s, &end) : 0;
        if (!len || end != s + len || errno == ERANGE || !isfinite(v) ||
            isspace((unsigned char)s[0])) {
            diag_at(d, n, "%s: option '%s' expects a number, %s", what, o->name,
                    got(n, g, sizeof(g)));
            return -1;
        }
        if (v < 0 && !(o->flags & WIRE_OPT_SIGNED)) {
            diag_at(d, n, "%s: option '%s' must be 0 or more, %s", what, o->name,
                    got(n, g, sizeof(g)));
            return -1;
        }
        *(double *)f = v;
        return 0;
    }
    case WIRE_OPT_BOOL:
        if (len == 4 && strncasecmp(s, "true", 4) == 0) {
            *(bool *)f = true;
        } else if (len == 5 && strncasecmp(s, "false", 5) == 0) {
            *(bool *)f = false;
        } else {
            diag_at(d, n, "%s: option '%s' expects true or false, %s", what, o->name,
                    got(n, g, sizeof(g)));
            return -1;
        }
        return 0;
    case WIRE_OPT_DURATION: {
        int64_t v;
        if (strlen(s) != len || wire_parse_duration_ms(s, &v) != 0) {
            diag_at(d, n, "%s: option '%s' expects a duration like 500ms, 10s, 2m or 1h, %s", what,
                    o->name, got(n, g, sizeof(g)));
            return -1;
        }
        *(int64_t *)f = v;
        return 0;
    }
    case WIRE_OPT_SIZE: {
        int64_t v;
        if (strlen(s) != len || wire_parse_size(s, &v) != 0) {
            diag_at(d, n, "%s: option '%s' expects a size like 512KB, 8MB or 1GiB, %s", what,
                    o->name, got(n, g, sizeof(g)));
            return -1;
        }
        *(int64_t *)f = v;
        return 0;
    }
    case WIRE_OPT_ENUM: {
        int idx = enum_index(o->choices, s, len);
        if (idx < 0) {
            choices_list(o->choices, cl, sizeof(cl));
            diag_at(d, n, "%s: option '%s' must be one of %s, %s", what, o->name, cl,
                    got(n, g, sizeof(g)));
            return -1;
        }
        *(int *)f = idx;
        return 0;
    }
    case WIRE_OPT_EXPR: {
        wire_expr *e = NULL;
        wire_err err;
        wire_err_clear(&err);
        if (wire_expr_compile(s, len, &e, &err) != 0) {
            expr_error(d, n, err.offset < 0 ? 0 : (size_t)err.offset, what, o->name, &err);
            return -1;
        }
        free_value(o, out);
        *(wire_expr **)f = e;
        return 0;
    }
    default: return -1;
    }
}

/* The default of an option as a config node: a plain scalar, or for
   structured types (JSON, maps) the default text loaded as YAML. */
static int apply_default(const wire_option *o, void *out, const char *what, wire_diags *d)
{
    if (o->type == WIRE_OPT_JSON || o->type == WIRE_OPT_STRMAP) {
        char name[200];
        snprintf(name, sizeof(name), "default of %s option '%s'", what, o->name);
        wire_cfg *c = NULL;
        int rc = wire_cfg_load_mem(name, o->def, strlen(o->def), &c, d);
        if (rc == 0)
            rc = parse_value(o, c, out, what, d);
        wire_cfg_free(c);
        return rc ? -1 : 0;
    }
    wire_cfg n = {0};
    n.kind = WIRE_CFG_SCALAR;
    n.file = "(default)";
    n.str = (char *)o->def;
    n.len = strlen(o->def);
    n.text_line = 0;
    n.text_col = 1;
    return parse_value(o, &n, out, what, d);
}

int wire_options_parse(const wire_option *table, const wire_cfg *cfg, void *out, const char *what,
                       wire_diags *d)
{
    size_t before = d->n;
    size_t nopts = 0;
    for (const wire_option *o = table; o && o->name; o++)
        nopts++;
    for (size_t i = 0; i < nopts; i++)
        if (table[i].def)
            apply_default(&table[i], out, what, d);

    if (cfg && cfg->kind != WIRE_CFG_MAP && cfg->kind != WIRE_CFG_NULL) {
        diag_at(d, cfg, "%s: config must be a map of options, got %s", what, kind_name(cfg));
        return WIRE_EINVAL;
    }
    bool *seen = wire_xcalloc(nopts ? nopts : 1, sizeof(bool));
    const char **names = wire_xcalloc(nopts ? nopts : 1, sizeof(char *));
    for (size_t i = 0; i < nopts; i++)
        names[i] = table[i].name;
    for (size_t p = 0; cfg && cfg->kind == WIRE_CFG_MAP && p < cfg->npairs; p++) {
        const wire_cfg *k = cfg->pairs[p].key, *v = cfg->pairs[p].val;
        size_t i;
        for (i = 0; i < nopts; i++)
            if (strlen(table[i].name) == k->len && memcmp(table[i].name, k->str, k->len) == 0)
                break;
        if (i == nopts) {
            const char *sug = wire_cfg_suggest(k->str, names, nopts);
            if (sug) {
                diag_at(d, k, "%s: unknown option '%s' (did you mean '%s'?)", what, k->str, sug);
            } else if (nopts == 0) {
                diag_at(d, k, "%s: unknown option '%s' (this type has no options)", what, k->str);
            } else {
                wire_buf b;
                wire_buf_init(&b);
                for (size_t j = 0; j < nopts; j++)
                    wire_buf_printf(&b, "%s%s", j ? ", " : "", names[j]);
                diag_at(d, k, "%s: unknown option '%s' (options are: %s)", what, k->str, b.p);
                wire_buf_free(&b);
            }
            continue;
        }
        const wire_option *o = &table[i];
        if (v->kind == WIRE_CFG_NULL && o->type != WIRE_OPT_JSON) {
            /* `key:` with nothing after it: the default stays */
            if (o->flags & WIRE_OPT_REQUIRED) {
                diag_at(d, v, "%s: option '%s' is required: give it a value", what, o->name);
                seen[i] = true;
            }
            continue;
        }
        seen[i] = true;
        parse_value(o, v, out, what, d);
    }
    for (size_t i = 0; i < nopts; i++) {
        if ((table[i].flags & WIRE_OPT_REQUIRED) && !seen[i]) {
            if (cfg)
                diag_at(d, cfg, "%s: missing required option '%s'", what, table[i].name);
            else
                wire_diags_add(d, NULL, 0, 0, "%s: missing required option '%s'", what,
                               table[i].name);
        }
    }
    free(seen);
    free(names);
    return d->n > before ? WIRE_EINVAL : 0;
}

/* ---- the tls: block ---- */

const wire_option wire_tls_options[] = {
    {"enabled", WIRE_OPT_BOOL, "true", 0, offsetof(wire_tls_opts, enabled), NULL,
     "TLS on (the block's presence turns it on; false turns it off)"},
    {"ca_file", WIRE_OPT_STRING, NULL, WIRE_OPT_PATH, offsetof(wire_tls_opts, ca_file), NULL,
     "PEM file of the certificate authorities to trust (default: the system's)"},
    {"crt_file", WIRE_OPT_STRING, NULL, WIRE_OPT_PATH, offsetof(wire_tls_opts, crt_file), NULL,
     "PEM certificate to present (a client's for mTLS)"},
    {"key_file", WIRE_OPT_STRING, NULL, WIRE_OPT_PATH, offsetof(wire_tls_opts, key_file), NULL,
     "PEM private key of crt_file"},
    {"key_pass", WIRE_OPT_STRING, NULL, 0, offsetof(wire_tls_opts, key_pass), NULL,
     "passphrase of key_file (a secret: ${env:NAME} or ${file:PATH})"},
    {"verify_certificate", WIRE_OPT_ENUM, "auto", 0, offsetof(wire_tls_opts, verify_certificate),
     "auto|true|false",
     "check the peer's certificate against ca_file (auto: yes for clients; for servers true "
     "asks for client certificates: mTLS)"},
    {"verify_hostname", WIRE_OPT_BOOL, "true", 0, offsetof(wire_tls_opts, verify_hostname), NULL,
     "the server's certificate must name the host (or server_name)"},
    {"server_name", WIRE_OPT_STRING, NULL, 0, offsetof(wire_tls_opts, server_name), NULL,
     "name sent as SNI and verified, instead of the address's host"},
    {"min_version", WIRE_OPT_ENUM, "1.2", 0, offsetof(wire_tls_opts, min_version), "1.2|1.3",
     "oldest TLS version accepted"},
    {NULL},
};

/* ---- Printing (wire help TYPE, docs/reference.md) ---- */

static void type_label(const wire_option *o, char *buf, size_t bn)
{
    if (o->type == WIRE_OPT_ENUM)
        snprintf(buf, bn, "enum(%s)", o->choices ? o->choices : "");
    else
        snprintf(buf, bn, "%s", wire_opt_type_name(o->type));
}

/* Markdown table cells: a '|' would end the cell. */
static void md_cell(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

/* One row (markdown) or entry (text) per option; a tls block's keys follow it as tls.KEY. */
static void print_rows(const wire_option *table, const char *prefix, FILE *f, bool markdown)
{
    char tl[256];
    for (const wire_option *o = table; o->name; o++) {
        type_label(o, tl, sizeof(tl));
        if (markdown) {
            fputs("| `", f);
            md_cell(f, prefix);
            md_cell(f, o->name);
            fputs("` | ", f);
            md_cell(f, tl);
            fputs(" | ", f);
            if (o->def) {
                fputs("`", f);
                md_cell(f, o->def);
                fputs("`", f);
            }
            fputs(" | ", f);
            fputs(o->flags & WIRE_OPT_REQUIRED ? "yes" : "no", f);
            fputs(" | ", f);
            md_cell(f, o->desc);
            fputs(" |\n", f);
        } else {
            fprintf(f, "  %s%s (%s", prefix, o->name, tl);
            if (o->flags & WIRE_OPT_REQUIRED)
                fputs(", required", f);
            if (o->def)
                fprintf(f, ", default: %s", o->def);
            fputs(")\n", f);
            if (o->desc && *o->desc)
                fprintf(f, "      %s\n", o->desc);
        }
        if (o->type == WIRE_OPT_TLS) {
            char sub[64];
            snprintf(sub, sizeof(sub), "%s%s.", prefix, o->name);
            print_rows(wire_tls_options, sub, f, markdown);
        }
    }
}

void wire_options_print(const wire_option *table, FILE *f, bool markdown)
{
    if (!table || !table->name) {
        fputs(markdown ? "No options.\n" : "  (no options)\n", f);
        return;
    }
    if (markdown) {
        fputs("| Option | Type | Default | Required | Description |\n", f);
        fputs("|---|---|---|---|---|\n", f);
    }
    print_rows(table, "", f, markdown);
}
