/*
 * config.c — the configuration tree: YAML (or JSON, which is YAML flow
 * syntax) loaded with libyaml into wire_cfg nodes that remember where they
 * came from.
 *
 * Owns: the node tree, positions (line/col of every node, and a per-byte
 * position map for scalars whose text does not sit on one line verbatim, so
 * an error at byte k inside an expression lands on the right column even in
 * a block scalar, an escaped string or after ${VAR} substitution), ${ENV}
 * substitution, and the typed JSON view of a subtree (YAML 1.2 core schema).
 *
 * Deliberately not supported: aliases (*x: a pipeline file is small, and an
 * alias makes a position ambiguous) and several documents in one file (one
 * pipeline per file). Both are reported as errors, never ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/io.h"

/* Deeper documents are rejected: our builder recurses. */
#define CFG_MAX_DEPTH 200

typedef struct loader {
    const char *file; /* shared by every node; owned by the root */
    const char *text; /* UTF-8 text handed to libyaml (BOM stripped) */
    size_t n;
    size_t *line_start; /* byte offset of each line, by libyaml's break rules */
    size_t nlines;
    size_t last_line, last_col, last_off; /* mark_offset's resume point */
    yaml_parser_t parser;
    wire_diags *d;
    int errors;
    bool fatal;  /* libyaml failed: no more events */
    bool in_key; /* building a map key */
} loader;

/* ---- Characters and positions ---- */

static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    if ((c & 0xF8) == 0xF0)
        return 4;
    return 1;
}

/*
 * Length of the line break at p (0 if none). libyaml counts CR LF, CR, LF,
 * NEL, LS and PS as breaks; so must we, or lines drift apart.
 */
static size_t break_len(const char *p, const char *end)
{
    const unsigned char *u = (const unsigned char *)p;
    if (p >= end)
        return 0;
    if (u[0] == '\r')
        return (p + 1 < end && u[1] == '\n') ? 2 : 1;
    if (u[0] == '\n')
        return 1;
    if (u[0] == 0xC2 && p + 1 < end && u[1] == 0x85)
        return 2;
    if (u[0] == 0xE2 && p + 2 < end && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
        return 3;
    return 0;
}

static void index_lines(loader *ld)
{
    size_t cap = 64;
    ld->line_start = wire_xmalloc(cap * sizeof(size_t));
    ld->nlines = 0;
    ld->line_start[ld->nlines++] = 0;
    const char *p = ld->text, *end = ld->text + ld->n;
    while (p < end) {
        size_t b = break_len(p, end);
        if (b) {
            p += b;
            if (ld->nlines == cap) {
                cap *= 2;
                ld->line_start = wire_xrealloc(ld->line_start, cap * sizeof(size_t));
            }
            ld->line_start[ld->nlines++] = (size_t)(p - ld->text);
        } else {
            p += utf8_len((unsigned char)*p);
        }
    }
}

/*
 * Byte offset of a libyaml mark (0-based line, column counted in characters).
 * Marks arrive in increasing order, so the walk resumes from the last one on
 * the same line: linear even for a one-line JSON document of a megabyte.
 */
static size_t mark_offset(loader *ld, const yaml_mark_t *m)
{
    if (m->line >= ld->nlines)
        return ld->n;
    size_t off = ld->line_start[m->line], col = 0;
    if (ld->last_line == m->line && ld->last_col <= m->column) {
        off = ld->last_off;
        col = ld->last_col;
    }
    for (; col < m->column && off < ld->n; col++)
        off += utf8_len((unsigned char)ld->text[off]);
    if (off > ld->n)
        off = ld->n;
    ld->last_line = m->line;
    ld->last_col = col;
    ld->last_off = off;
    return off;
}

/* A cursor over the source text that knows its 1-based line and column. */
typedef struct cursor {
    const char *p, *end;
    int line, col;
} cursor;

static bool cur_is_break(const cursor *c)
{
    return break_len(c->p, c->end) != 0;
}

static void cur_advance(cursor *c)
{
    if (c->p >= c->end)
        return;
    size_t b = break_len(c->p, c->end);
    if (b) {
        c->p += b;
        c->line++;
        c->col = 1;
        return;
    }
    size_t l = utf8_len((unsigned char)*c->p);
    c->p += l;
    if (c->p > c->end)
        c->p = c->end;
    c->col++;
}

/* ---- Node helpers ---- */

static wire_cfg *node_new(loader *ld, wire_cfg_kind kind, const yaml_mark_t *m)
{
    wire_cfg *c = wire_xcalloc(1, sizeof(*c));
    c->kind = kind;
    c->file = ld->file;
    c->line = (int)m->line + 1;
    c->col = (int)m->column + 1;
    return c;
}

static void node_free(wire_cfg *c)
{
    if (!c)
        return;
    free(c->str);
    free(c->text_pos);
    for (size_t i = 0; i < c->npairs; i++) {
        node_free(c->pairs[i].key);
        node_free(c->pairs[i].val);
    }
    free(c->pairs);
    for (size_t i = 0; i < c->nitems; i++)
        node_free(c->items[i]);
    free(c->items);
    free(c);
}

void wire_cfg_free(wire_cfg *c)
{
    if (!c)
        return;
    char *file = (char *)c->file;
    node_free(c);
    free(file);
}

const wire_cfg *wire_cfg_get(const wire_cfg *map, const char *key)
{
    if (!map || map->kind != WIRE_CFG_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < map->npairs; i++) {
        const wire_cfg *k = map->pairs[i].key;
        if (k->len == kl && memcmp(k->str, key, kl) == 0)
            return map->pairs[i].val;
    }
    return NULL;
}

void wire_cfg_text_pos(const wire_cfg *c, size_t k, int *line, int *col)
{
    if (c->text_pos && k <= c->len) {
        *line = c->text_pos[2 * k];
        *col = c->text_pos[2 * k + 1];
        return;
    }
    if (c->text_pos) { /* past the end: stay on the last known position */
        *line = c->text_pos[2 * c->len];
        *col = c->text_pos[2 * c->len + 1];
        return;
    }
    *line = c->text_line;
    *col = c->text_col + (int)k;
}

/* ---- Scalar position maps ---- */

/* A growable array of (line, col) pairs, one per byte of a scalar's value. */
typedef struct posmap {
    int *v;
    size_t n, cap; /* in pairs */
} posmap;

static void posmap_push(posmap *m, int line, int col)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 32;
        m->v = wire_xrealloc(m->v, m->cap * 2 * sizeof(int));
    }
    m->v[2 * m->n] = line;
    m->v[2 * m->n + 1] = col;
    m->n++;
}

/* libyaml's IS_ALPHA: the characters of an anchor name. */
static bool is_anchor_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '_' || ch == '-';
}

/* Source length of the double-quoted escape at p (which is a backslash). */
static size_t escape_len(const cursor *c)
{
    if (c->p + 1 >= c->end)
        return 1;
    switch (c->p[1]) {
    case 'x': return 4;
    case 'u': return 6;
    case 'U': return 10;
    default: return 1 + utf8_len((unsigned char)c->p[1]);
    }
}

/*
 * Walk the scalar's source text alongside its value and record where each
 * value byte came from. The value is what libyaml made of the source: quotes
 * removed, escapes decoded, lines folded, indentation stripped. Every value
 * character is found in the source by skipping what the value does not
 * contain (indentation, the header of a block scalar, folded breaks);
 * escapes and '' are matched as the one character they produce. For block
 * scalars the content indentation is skipped exactly, so leading spaces
 * that belong to the text map to their own columns.
 */
static void map_scalar(loader *ld, const yaml_event_t *e, const char *val, size_t len, posmap *m,
                       int *start_line, int *start_col)
{
    yaml_scalar_style_t style = e->data.scalar.style;
    size_t start = mark_offset(ld, &e->start_mark); /* in this order: see mark_offset */
    size_t end = mark_offset(ld, &e->end_mark);
    cursor c = {ld->text + start, ld->text + end, (int)e->start_mark.line + 1,
                (int)e->start_mark.column + 1};
    /* Node properties precede the scalar token, skipped by libyaml's rules:
       an anchor is '&' and [0-9A-Za-z_-]* (it may touch the scalar: `&a:e`
       is anchor "a" and scalar ":e"); a tag runs to a blank (or a ','). */
    while (c.p < c.end && (*c.p == '!' || *c.p == '&')) {
        if (*c.p == '&') {
            cur_advance(&c);
            while (c.p < c.end && is_anchor_char(*c.p))
                cur_advance(&c);
        } else {
            while (c.p < c.end && *c.p != ' ' && *c.p != '\t' && *c.p != ',' && !cur_is_break(&c))
                cur_advance(&c);
        }
        while (c.p < c.end && (*c.p == ' ' || *c.p == '\t' || cur_is_break(&c)))
            cur_advance(&c);
    }
    bool block = style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE;
    int indent = -1;
    if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        cur_advance(&c);
    } else if (block) {
        /* Skip the header line; an explicit indentation digit means the
           indent is relative to a parent we do not track: fall back to
           skipping all leading spaces (positions of leading spaces inside
           such text may then be a few columns off). */
        bool explicit_indent = false;
        while (c.p < c.end && !cur_is_break(&c)) {
            if (*c.p >= '1' && *c.p <= '9')
                explicit_indent = true;
            if (*c.p == '#')
                break;
            cur_advance(&c);
        }
        while (c.p < c.end && !cur_is_break(&c))
            cur_advance(&c);
        cur_advance(&c);
        if (!explicit_indent) {
            /* Auto-detected indentation: that of the first non-empty line
               (the largest among leading empty lines also counts). */
            const char *p = c.p;
            indent = 0;
            while (p < c.end) {
                int sp = 0;
                while (p < c.end && *p == ' ') {
                    sp++;
                    p++;
                }
                if (sp > indent)
                    indent = sp;
                size_t b = break_len(p, c.end);
                if (!b)
                    break;
                p += b;
            }
        }
    }
    *start_line = c.line;
    *start_col = c.col;
    bool at_line_start = block;
    bool dq = style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    bool sq = style == YAML_SINGLE_QUOTED_SCALAR_STYLE;
    size_t k = 0;
    bool first = true;
    while (k < len) {
        if (at_line_start && indent > 0) {
            for (int i = 0; i < indent && c.p < c.end && *c.p == ' '; i++)
                cur_advance(&c);
        }
        at_line_start = false;
        size_t clen = utf8_len((unsigned char)val[k]);
        if (k + clen > len)
            clen = len - k;
        if (c.p >= c.end) {
            for (size_t i = 0; i < clen; i++)
                posmap_push(m, c.line, c.col);
            k += clen;
            continue;
        }
        if (dq && *c.p == '\\') {
            if (break_len(c.p + 1, c.end)) { /* escaped line break: produces nothing */
                cur_advance(&c);
                cur_advance(&c);
                continue;
            }
            size_t el = escape_len(&c);
            for (size_t i = 0; i < clen; i++)
                posmap_push(m, c.line, c.col);
            k += clen;
            for (size_t i = 0; i < el && c.p < c.end; i++)
                cur_advance(&c);
            first = false;
            continue;
        }
        if (sq && val[k] == '\'' && *c.p == '\'' && c.p + 1 < c.end && c.p[1] == '\'') {
            posmap_push(m, c.line, c.col);
            k++;
            cur_advance(&c);
            cur_advance(&c);
            first = false;
            continue;
        }
        bool is_brk = cur_is_break(&c);
        if ((!is_brk && (size_t)(c.end - c.p) >= clen && memcmp(c.p, val + k, clen) == 0) ||
            (is_brk && (val[k] == '\n' || val[k] == ' '))) {
            for (size_t i = 0; i < clen; i++)
                posmap_push(m, c.line, c.col);
            k += clen;
            if (is_brk && block)
                at_line_start = true;
            cur_advance(&c);
            first = false;
            continue;
        }
        /* Not part of the value: indentation, a folded break, a comment
           line inside a block scalar's leading blank lines. */
        if (is_brk && block)
            at_line_start = true;
        cur_advance(&c);
        if (first && !block) {
            *start_line = c.line;
            *start_col = c.col;
        }
    }
    posmap_push(m, c.line, c.col); /* the end */
    if (len > 0) {
        *start_line = m->v[0];
        *start_col = m->v[1];
    }
}

/* ---- ${ENV} substitution ---- */

static bool is_name_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool is_name_char(char ch)
{
    return is_name_start(ch) || (ch >= '0' && ch <= '9');
}

static void add_error_at(loader *ld, const posmap *m, size_t k, const char *fmt, ...)
    WIRE_PRINTF(4, 5);

static void add_error_at(loader *ld, const posmap *m, size_t k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (k >= m->n)
        k = m->n - 1;
    wire_diags_vadd(ld->d, ld->file, m->v[2 * k], m->v[2 * k + 1], fmt, ap);
    va_end(ap);
    ld->errors++;
}

/*
 * Replace ${NAME} and ${NAME:-default} in `val` (raw value with its map),
 * producing `out` and its map. `$${` is a literal `${`. Returns false (after
 * reporting) on an unset variable or a malformed reference.
 */
static bool substitute(loader *ld, const char *val, size_t len, const posmap *m, wire_buf *out,
                       posmap *om)
{
    bool ok = true;
    size_t i = 0;
    while (i < len) {
        if (i + 2 < len && val[i] == '$' && val[i + 1] == '$' && val[i + 2] == '{') {
            /* $${ -> ${ */
            wire_buf_append(out, "${", 2);
            posmap_push(om, m->v[2 * (i + 1)], m->v[2 * (i + 1) + 1]);
            posmap_push(om, m->v[2 * (i + 2)], m->v[2 * (i + 2) + 1]);
            i += 3;
            continue;
        }
        if (val[i] == '$' && i + 1 < len && val[i + 1] == '{') {
            size_t start = i;
            size_t j = i + 2;
            size_t name_start = j;
            while (j < len && is_name_char(val[j]))
                j++;
            size_t name_end = j;
            if (j < len && val[j] == ':' &&
                ((name_end - name_start == 3 && memcmp(val + name_start, "env", 3) == 0) ||
                 (name_end - name_start == 4 && memcmp(val + name_start, "file", 4) == 0))) {
                /* ${env:NAME} / ${file:PATH}: a secret reference, kept as
                   written; the node that runs the pipeline resolves it
                   (engine/secrets.c) */
                while (j < len && val[j] != '}')
                    j++;
                if (j >= len) {
                    add_error_at(ld, m, start, "unterminated secret reference: missing '}'");
                    ok = false;
                    goto literal;
                }
                for (size_t q = start; q <= j; q++) {
                    wire_buf_putc(out, val[q]);
                    posmap_push(om, m->v[2 * q], m->v[2 * q + 1]);
                }
                i = j + 1;
                continue;
            }
            if (name_end == name_start || !is_name_start(val[name_start])) {
                add_error_at(ld, m, start,
                             "bad variable reference: expected ${NAME} with NAME made of "
                             "letters, digits and _");
                ok = false;
                goto literal; /* keep the text (and its map) whole */
            }
            bool has_def = false;
            size_t def_start = 0, def_end = 0;
            if (j + 1 < len && val[j] == ':' && val[j + 1] == '-') {
                has_def = true;
                def_start = j + 2;
                j = def_start;
                while (j < len && val[j] != '}')
                    j++;
                def_end = j;
            }
            if (j >= len || val[j] != '}') {
                add_error_at(ld, m, start, "unterminated variable reference: missing '}'");
                ok = false;
                goto literal;
            }
            char name[256];
            size_t nl = name_end - name_start;
            if (nl >= sizeof(name))
                nl = sizeof(name) - 1;
            memcpy(name, val + name_start, nl);
            name[nl] = '\0';
            const char *v = getenv(name);
            if (v && *v) {
                size_t vl = strlen(v);
                wire_buf_append(out, v, vl);
                for (size_t q = 0; q < vl; q++)
                    posmap_push(om, m->v[2 * start], m->v[2 * start + 1]);
            } else if (has_def) {
                wire_buf_append(out, val + def_start, def_end - def_start);
                for (size_t q = def_start; q < def_end; q++)
                    posmap_push(om, m->v[2 * q], m->v[2 * q + 1]);
            } else if (v) {
                /* set but empty: substitute nothing, as a shell does */
            } else {
                add_error_at(ld, m, start,
                             "environment variable '%s' is not set (write ${%s:-default} to "
                             "give a default)",
                             name, name);
                ok = false;
                /* keep the reference as written, so later checks (a required
                   option must not be empty) do not report the same problem */
                for (size_t q = start; q <= j; q++) {
                    wire_buf_putc(out, val[q]);
                    posmap_push(om, m->v[2 * q], m->v[2 * q + 1]);
                }
            }
            i = j + 1;
            continue;
        }
    literal:
        wire_buf_putc(out, val[i]);
        posmap_push(om, m->v[2 * i], m->v[2 * i + 1]);
        i++;
    }
    posmap_push(om, m->v[2 * len], m->v[2 * len + 1]);
    return ok;
}

/* YAML 1.2 core schema: is this plain scalar null? */
static bool plain_is_null(const char *s, size_t n)
{
    return n == 0 || (n == 1 && s[0] == '~') ||
           (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* ---- Building the tree from libyaml events ---- */

static void yaml_error(loader *ld)
{
    yaml_parser_t *p = &ld->parser;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->error == YAML_MEMORY_ERROR)
        problem = "out of memory";
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        size_t off = p->problem_offset < ld->n ? p->problem_offset : ld->n;
        size_t li = 0;
        while (li + 1 < ld->nlines && ld->line_start[li + 1] <= off)
            li++;
        line = (int)li + 1;
        col = 1;
        for (size_t i = ld->line_start[li]; i < off; i += utf8_len((unsigned char)ld->text[i]))
            col++;
        wire_diags_add(ld->d, ld->file, line, col, "YAML syntax error: %s", problem);
        ld->errors++;
        ld->fatal = true;
        return;
    }
    /* The most common cause of "cannot start any token" is a tab indent. */
    size_t off = mark_offset(ld, &p->problem_mark);
    const char *hint =
        off < ld->n && ld->text[off] == '\t' ? "; YAML indents with spaces, not tabs" : "";
    if (p->context)
        wire_diags_add(ld->d, ld->file, line, col, "YAML syntax error: %s (%s at line %d)%s",
                       problem, p->context, (int)p->context_mark.line + 1, hint);
    else
        wire_diags_add(ld->d, ld->file, line, col, "YAML syntax error: %s%s", problem, hint);
    ld->errors++;
    ld->fatal = true;
}

static bool next_event(loader *ld, yaml_event_t *e)
{
    if (ld->fatal)
        return false;
    if (!yaml_parser_parse(&ld->parser, e)) {
        yaml_error(ld);
        return false;
    }
    return true;
}

static wire_cfg *build_node(loader *ld, yaml_event_t *e, int depth);

static wire_cfg *build_scalar(loader *ld, yaml_event_t *e)
{
    const char *val = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    yaml_scalar_style_t style = e->data.scalar.style;
    bool plain = style == YAML_PLAIN_SCALAR_STYLE || style == YAML_ANY_SCALAR_STYLE;
    const char *tag = (const char *)e->data.scalar.tag;
    if (tag && strcmp(tag, YAML_STR_TAG) == 0)
        plain = false;

    wire_cfg *c = node_new(ld, WIRE_CFG_SCALAR, &e->start_mark);
    posmap raw = {0};
    map_scalar(ld, e, val, len, &raw, &c->text_line, &c->text_col);

    wire_buf out;
    wire_buf_init(&out);
    posmap final = {0};
    if (ld->in_key || memchr(val, '$', len) == NULL) {
        wire_buf_append(&out, val, len);
        final = raw;
        raw.v = NULL;
    } else {
        substitute(ld, val, len, &raw, &out, &final);
    }
    free(raw.v);
    c->len = out.len;
    c->str = out.p ? out.p : wire_xstrdup("");
    c->quoted = !plain;
    if (plain && plain_is_null(c->str, c->len))
        c->kind = WIRE_CFG_NULL;
    /* Keep the map only where text_line/text_col + k would be wrong. */
    if (final.n > 0) {
        c->text_line = final.v[0];
        c->text_col = final.v[1];
    }
    bool trivial = true;
    for (size_t k = 0; k < final.n && trivial; k++)
        trivial = final.v[2 * k] == c->text_line && final.v[2 * k + 1] == c->text_col + (int)k;
    if (trivial)
        free(final.v);
    else
        c->text_pos = final.v;
    return c;
}

static void scalar_key_text(const wire_cfg *k, char *buf, size_t n)
{
    snprintf(buf, n, "%.*s", (int)(k->len > 60 ? 60 : k->len), k->str);
}

/*
 * The keys of a map being built, hashed, so duplicate detection stays linear
 * for a large JSON object sent to the API. Slots hold pair index + 1.
 */
typedef struct keyset {
    size_t *slots;
    size_t cap; /* power of two */
} keyset;

static uint64_t key_hash(const wire_cfg *k)
{
    return wire_hash64(k->str, k->len, 0);
}

static void keyset_put(keyset *ks, const wire_cfg_pair *pairs, size_t idx)
{
    size_t m = ks->cap - 1, i = (size_t)key_hash(pairs[idx].key) & m;
    while (ks->slots[i])
        i = (i + 1) & m;
    ks->slots[i] = idx + 1;
}

/* Index of an earlier pair with the same key, or SIZE_MAX after recording
   `key` as pair `n` (the caller appends it there). */
static size_t keyset_add(keyset *ks, const wire_cfg_pair *pairs, size_t n, const wire_cfg *key)
{
    if ((n + 1) * 2 > ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        while ((n + 1) * 2 > cap)
            cap *= 2;
        free(ks->slots);
        ks->slots = wire_xcalloc(cap, sizeof(size_t));
        ks->cap = cap;
        for (size_t i = 0; i < n; i++)
            keyset_put(ks, pairs, i);
    }
    size_t m = ks->cap - 1, i = (size_t)key_hash(key) & m;
    while (ks->slots[i]) {
        const wire_cfg *o = pairs[ks->slots[i] - 1].key;
        if (o->len == key->len && memcmp(o->str, key->str, key->len) == 0)
            return ks->slots[i] - 1;
        i = (i + 1) & m;
    }
    ks->slots[i] = n + 1;
    return SIZE_MAX;
}

static wire_cfg *build_map(loader *ld, yaml_event_t *start, int depth)
{
    wire_cfg *c = node_new(ld, WIRE_CFG_MAP, &start->start_mark);
    size_t cap = 0;
    keyset ks = {0};
    for (;;) {
        yaml_event_t e;
        if (!next_event(ld, &e))
            break;
        if (e.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&e);
            break;
        }
        ld->in_key = true; /* keys are names: no ${VAR} in them */
        wire_cfg *key = build_node(ld, &e, depth + 1);
        ld->in_key = false;
        yaml_event_delete(&e);
        if (!key)
            break;
        yaml_event_t ve;
        if (!next_event(ld, &ve)) {
            node_free(key);
            break;
        }
        wire_cfg *val = build_node(ld, &ve, depth + 1);
        yaml_event_delete(&ve);
        if (!val) {
            node_free(key);
            break;
        }
        if (key->kind == WIRE_CFG_NULL)
            key->kind = WIRE_CFG_SCALAR;
        if (key->kind != WIRE_CFG_SCALAR) {
            wire_diags_add(ld->d, ld->file, key->line, key->col,
                           "a map key must be a plain value, not a %s",
                           key->kind == WIRE_CFG_MAP ? "map" : "sequence");
            ld->errors++;
            node_free(key);
            node_free(val);
            continue;
        }
        size_t first = keyset_add(&ks, c->pairs, c->npairs, key);
        if (first != SIZE_MAX) {
            const wire_cfg *o = c->pairs[first].key;
            char kt[64];
            scalar_key_text(key, kt, sizeof(kt));
            wire_diags_add(ld->d, ld->file, key->line, key->col,
                           "duplicate key '%s' (first defined at line %d, column %d)", kt, o->line,
                           o->col);
            ld->errors++;
            node_free(key);
            node_free(val);
            continue;
        }
        if (c->npairs == cap) {
            cap = cap ? cap * 2 : 8;
            c->pairs = wire_xrealloc(c->pairs, cap * sizeof(*c->pairs));
        }
        c->pairs[c->npairs].key = key;
        c->pairs[c->npairs].val = val;
        c->npairs++;
    }
    free(ks.slots);
    return c;
}

static wire_cfg *build_seq(loader *ld, yaml_event_t *start, int depth)
{
    wire_cfg *c = node_new(ld, WIRE_CFG_SEQ, &start->start_mark);
    size_t cap = 0;
    for (;;) {
        yaml_event_t e;
        if (!next_event(ld, &e))
            return c;
        if (e.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&e);
            return c;
        }
        wire_cfg *item = build_node(ld, &e, depth + 1);
        yaml_event_delete(&e);
        if (!item)
            return c;
        if (c->nitems == cap) {
            cap = cap ? cap * 2 : 8;
            c->items = wire_xrealloc(c->items, cap * sizeof(*c->items));
        }
        c->items[c->nitems++] = item;
    }
}

/* Build the node that starts with event `e`. NULL once libyaml has failed. */
static wire_cfg *build_node(loader *ld, yaml_event_t *e, int depth)
{
    if (depth > CFG_MAX_DEPTH) {
        wire_diags_add(ld->d, ld->file, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
                       "document nested too deeply (more than %d levels)", CFG_MAX_DEPTH);
        ld->errors++;
        ld->fatal = true;
        return NULL;
    }
    switch (e->type) {
    case YAML_SCALAR_EVENT: return build_scalar(ld, e);
    case YAML_MAPPING_START_EVENT: return build_map(ld, e, depth);
    case YAML_SEQUENCE_START_EVENT: return build_seq(ld, e, depth);
    case YAML_ALIAS_EVENT: {
        wire_diags_add(ld->d, ld->file, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
                       "aliases (*%s) are not supported: write the value out in full",
                       (const char *)e->data.alias.anchor);
        ld->errors++;
        wire_cfg *c = node_new(ld, WIRE_CFG_NULL, &e->start_mark);
        c->str = wire_xstrdup("");
        return c;
    }
    default:
        /* libyaml guarantees well-formed event order; be safe anyway */
        wire_diags_add(ld->d, ld->file, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
                       "unexpected YAML event");
        ld->errors++;
        ld->fatal = true;
        return NULL;
    }
}

/*
 * libyaml refuses a tab where YAML's block context forbids one, e.g. the
 * indentation of a JSON document's first line. JSON has no block context, so
 * for a document that starts with { or [ tabs outside strings are turned into
 * spaces (one character each: columns do not move).
 */
static char *json_tabs_to_spaces(const char *text, size_t n)
{
    size_t i = 0;
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i >= n || (text[i] != '{' && text[i] != '[') || !memchr(text, '\t', n))
        return NULL;
    char *t = wire_xmalloc(n + 1);
    memcpy(t, text, n);
    t[n] = '\0';
    char quote = 0;
    for (i = 0; i < n; i++) {
        char ch = t[i];
        if (quote) {
            if (quote == '"' && ch == '\\')
                i++;
            else if (ch == quote)
                quote = 0;
        } else if (ch == '"' || ch == '\'') {
            quote = ch;
        } else if (ch == '\t') {
            t[i] = ' ';
        }
    }
    return t;
}

int wire_cfg_load_mem(const char *name, const char *text, size_t n, wire_cfg **out, wire_diags *d)
{
    *out = NULL;
    loader ld = {0};
    ld.file = wire_xstrdup(name ? name : "-");
    ld.d = d;
    /* libyaml skips a BOM but counts it as a column; strip it ourselves. */
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        n -= 3;
    }
    char *fixed = json_tabs_to_spaces(text, n);
    ld.text = fixed ? fixed : text;
    ld.n = n;
    if (memchr(ld.text, '\0', n)) {
        size_t off = (size_t)((const char *)memchr(ld.text, '\0', n) - ld.text);
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (ld.text[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)ld.text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        wire_diags_add(d, ld.file, line, col, "NUL byte in the document");
        free(fixed);
        free((char *)ld.file);
        return WIRE_EPARSE;
    }
    index_lines(&ld);
    yaml_parser_initialize(&ld.parser);
    yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)ld.text, n);

    wire_cfg *root = NULL;
    int docs = 0;
    yaml_event_t e;
    while (next_event(&ld, &e)) {
        yaml_event_type_t t = e.type;
        if (t == YAML_DOCUMENT_START_EVENT) {
            docs++;
            if (docs == 2) {
                wire_diags_add(d, ld.file, (int)e.start_mark.line + 1, (int)e.start_mark.column + 1,
                               "a second YAML document: a pipeline file holds exactly one "
                               "pipeline (split it into several files)");
                ld.errors++;
                ld.fatal = true; /* which document was meant is anyone's guess */
                yaml_event_delete(&e);
                break;
            }
        } else if (t == YAML_SCALAR_EVENT || t == YAML_MAPPING_START_EVENT ||
                   t == YAML_SEQUENCE_START_EVENT || t == YAML_ALIAS_EVENT) {
            root = build_node(&ld, &e, 0);
        }
        yaml_event_delete(&e);
        if (t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&ld.parser);
    free(ld.line_start);
    free(fixed);
    if (!root) {
        /* An empty document: a null root at 1:1. */
        yaml_mark_t m = {0, 0, 0};
        root = node_new(&ld, WIRE_CFG_NULL, &m);
        root->str = wire_xstrdup("");
        root->text_line = root->text_col = 1;
    }
    if (ld.fatal) {
        wire_cfg_free(root);
        return WIRE_EPARSE;
    }
    *out = root;
    return ld.errors ? WIRE_EINVAL : 0;
}

int wire_cfg_read_file(const char *path, char **text, size_t *n, wire_diags *d)
{
    wire_err err;
    if (wire_io_read_file(path, text, n, &err) != 0) {
        /* "cannot open: ...", "cannot read: ..." */
        wire_diags_add(d, path, 0, 0, "%s%s", strncmp(err.msg, "cannot ", 7) ? "cannot " : "",
                       err.msg);
        return WIRE_EIO;
    }
    return 0;
}

int wire_cfg_load_file(const char *path, wire_cfg **out, wire_diags *d)
{
    *out = NULL;
    char *text;
    size_t n;
    if (wire_cfg_read_file(path, &text, &n, d) != 0)
        return WIRE_EIO;
    int rc = wire_cfg_load_mem(path, text, n, out, d);
    free(text);
    return rc;
}

/* ---- JSON view (YAML 1.2 core schema for plain scalars) ---- */

static bool match_digits(const char *s, size_t n, size_t *i, bool (*ok)(char))
{
    size_t st = *i;
    while (*i < n && ok(s[*i]))
        (*i)++;
    return *i > st;
}

static bool is_dec(char ch)
{
    return ch >= '0' && ch <= '9';
}
static bool is_oct(char ch)
{
    return ch >= '0' && ch <= '7';
}
static bool is_hex(char ch)
{
    return is_dec(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Core-schema int: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ -> value. */
int wire_cfg_parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int base = 10;
    bool neg = false;
    if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        base = s[1] == 'o' ? 8 : 16;
        i = 2;
        if (!match_digits(s, n, &i, base == 8 ? is_oct : is_hex) || i != n)
            return -1;
        i = 2;
    } else {
        if (i < n && (s[i] == '-' || s[i] == '+')) {
            neg = s[i] == '-';
            i++;
        }
        size_t st = i;
        if (!match_digits(s, n, &i, is_dec) || i != n)
            return -1;
        i = st;
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        int dgt = is_dec(s[i]) ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10;
        if (v > (UINT64_MAX - (uint64_t)dgt) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)dgt;
    }
    if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Core-schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_float(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    bool intpart = match_digits(s, n, &i, is_dec);
    bool frac = false;
    if (i < n && s[i] == '.') {
        i++;
        frac = match_digits(s, n, &i, is_dec);
    } else if (!intpart) {
        return false;
    }
    if (!intpart && !frac)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        if (!match_digits(s, n, &i, is_dec))
            return false;
    }
    return i == n;
}

/* Write a core-schema float in JSON's stricter grammar. */
static void write_json_float(wire_buf *out, const char *s, size_t n)
{
    size_t i = 0;
    if (s[i] == '+')
        i++;
    else if (s[i] == '-')
        wire_buf_putc(out, s[i++]);
    /* integer part without redundant leading zeros; "0" if absent */
    size_t st = i;
    while (i < n && is_dec(s[i]))
        i++;
    size_t z = st;
    while (z + 1 < i && s[z] == '0')
        z++;
    if (i == st)
        wire_buf_putc(out, '0');
    else
        wire_buf_append(out, s + z, i - z);
    if (i < n && s[i] == '.') {
        i++;
        size_t fs = i;
        while (i < n && is_dec(s[i]))
            i++;
        wire_buf_putc(out, '.');
        if (i == fs)
            wire_buf_putc(out, '0');
        else
            wire_buf_append(out, s + fs, i - fs);
    }
    if (i < n) /* exponent, already valid JSON */
        wire_buf_append(out, s + i, n - i);
}

static void write_json_string(wire_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    wire_buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"': wire_buf_append(out, "\\\"", 2); break;
        case '\\': wire_buf_append(out, "\\\\", 2); break;
        case '\n': wire_buf_append(out, "\\n", 2); break;
        case '\r': wire_buf_append(out, "\\r", 2); break;
        case '\t': wire_buf_append(out, "\\t", 2); break;
        case '\b': wire_buf_append(out, "\\b", 2); break;
        case '\f': wire_buf_append(out, "\\f", 2); break;
        default:
            if (ch < 0x20 || ch == 0x7f) {
                char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
                wire_buf_append(out, u, 6);
            } else {
                wire_buf_putc(out, (char)ch);
            }
        }
    }
    wire_buf_putc(out, '"');
}

void wire_cfg_to_json(const wire_cfg *c, wire_buf *out)
{
    if (!c || c->kind == WIRE_CFG_NULL) {
        wire_buf_append(out, "null", 4);
        return;
    }
    if (c->kind == WIRE_CFG_MAP) {
        wire_buf_putc(out, '{');
        for (size_t i = 0; i < c->npairs; i++) {
            if (i)
                wire_buf_putc(out, ',');
            write_json_string(out, c->pairs[i].key->str, c->pairs[i].key->len);
            wire_buf_putc(out, ':');
            wire_cfg_to_json(c->pairs[i].val, out);
        }
        wire_buf_putc(out, '}');
        return;
    }
    if (c->kind == WIRE_CFG_SEQ) {
        wire_buf_putc(out, '[');
        for (size_t i = 0; i < c->nitems; i++) {
            if (i)
                wire_buf_putc(out, ',');
            wire_cfg_to_json(c->items[i], out);
        }
        wire_buf_putc(out, ']');
        return;
    }
    const char *s = c->str;
    size_t n = c->len;
    if (!c->quoted) {
        int64_t iv;
        if ((n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4)))) {
            wire_buf_append(out, "true", 4);
            return;
        }
        if ((n == 5 &&
             (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5)))) {
            wire_buf_append(out, "false", 5);
            return;
        }
        if (wire_cfg_parse_int(s, n, &iv) == 0) {
            wire_buf_printf(out, "%lld", (long long)iv);
            return;
        }
        if (is_core_float(s, n)) {
            write_json_float(out, s, n);
            return;
        }
        /* .inf and .nan have no JSON form: they stay strings. */
    }
    write_json_string(out, s, n);
}
