/*
 * expr_parse.c — the expression compiler: lexer, recursive-descent parser
 * with SQL precedence, constant folding, and select lists.
 *
 * Compiling produces a tree (expr_impl.h) allocated in the expression's own
 * arena. Field paths are interned in a table shared by everything compiled
 * together (one expression, or all items of a select list), so each distinct
 * path — and each prefix of one — is looked up once per event. LIKE patterns,
 * regexes and constant json_extract paths are prepared here, once. Every
 * error names the byte offset in the source where the problem is.
 *
 * Precedence, loosest first: OR; AND; NOT; comparisons (= != <> < <= > >=,
 * IS [NOT] NULL, [NOT] IN, [NOT] LIKE/ILIKE, ~ !~; not chainable); ||;
 * + -; * / %; unary -; primaries.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/expr_impl.h"

#define EXPR_MAX_DEPTH 200   /* nesting of parentheses, NOT, unary minus */
#define EXPR_MAX_HEIGHT 2000 /* of the compiled tree */
#define EXPR_MAX_LEN (1u << 30)

enum tok_type {
    T_EOF,
    T_IDENT,
    T_QIDENT, /* `backquoted name` */
    T_STR,
    T_INT,
    T_FLOAT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PCT,
    T_TILDE,
    T_NTILDE,
    T_CONCAT,
    T_LP,
    T_RP,
    T_COMMA,
    T_DOT,
    T_LB,
    T_RB,
};

typedef struct token {
    int t;
    uint32_t off, len; /* source slice */
    int64_t i;
    double d;
    const char *s; /* T_STR, T_QIDENT: decoded text (in the shared arena) */
    size_t sn;
} token;

typedef struct parser {
    const char *src;
    size_t n, pos;
    token tok, prev;
    wire_arena *arena; /* nodes of the expression being built */
    wire_expr *expr;
    expr_shared *sh;
    wire_err *err;
    int depth;
} parser;

static const char *const keywords[] = {"AND",  "OR",    "NOT",    "IS",    "NULL", "IN",
                                       "LIKE", "ILIKE", "ESCAPE", "CASE",  "WHEN", "THEN",
                                       "ELSE", "END",   "TRUE",   "FALSE", "AS"};

static bool tok_is_kw(const token *t, const char *src, const char *kw)
{
    size_t n = strlen(kw);
    return t->t == T_IDENT && t->len == n && strncasecmp(src + t->off, kw, n) == 0;
}
#define KW(p, kw) tok_is_kw(&(p)->tok, (p)->src, kw)

static bool tok_is_reserved(const token *t, const char *src)
{
    for (size_t i = 0; i < WIRE_ARRAY_LEN(keywords); i++)
        if (tok_is_kw(t, src, keywords[i]))
            return true;
    return false;
}

/* A token as users see it in messages: 'AND', ')', end of input. */
static const char *tok_desc(const parser *p, const token *t, char buf[64])
{
    if (t->t == T_EOF)
        return "end of input";
    size_t n = t->len > 40 ? 40 : t->len;
    snprintf(buf, 64, "'%.*s%s'", (int)n, p->src + t->off, t->len > n ? "..." : "");
    return buf;
}

static int perr(parser *p, size_t off, const char *fmt, ...) WIRE_PRINTF(3, 4);
static int perr(parser *p, size_t off, const char *fmt, ...)
{
    if (p->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
        va_end(ap);
        p->err->code = WIRE_EPARSE;
        p->err->offset = (long)off;
    }
    return WIRE_EPARSE;
}

static bool ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c == '@';
}
static bool ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '@';
}

/* Decode a quoted run where the quote is escaped by doubling it ('it''s', `a``b`). */
static int lex_quoted(parser *p, token *t, char q)
{
    size_t i = p->pos + 1, extra = 0;
    for (;;) {
        if (i >= p->n) {
            if (q == '\'')
                return perr(p, t->off, "unterminated string: missing closing '");
            return perr(p, t->off, "unterminated name: missing closing `");
        }
        if (p->src[i] == q) {
            if (i + 1 < p->n && p->src[i + 1] == q) {
                i += 2;
                extra++;
                continue;
            }
            break;
        }
        i++;
    }
    size_t body = i - (p->pos + 1);
    char *s = wire_arena_alloc_unaligned(&p->sh->names, body - extra + 1);
    size_t o = 0;
    for (size_t j = p->pos + 1; j < i; j++) {
        s[o++] = p->src[j];
        if (p->src[j] == q)
            j++;
    }
    s[o] = '\0';
    t->s = s;
    t->sn = o;
    p->pos = i + 1;
    return 0;
}

static int lex_number(parser *p, token *t)
{
    size_t i = p->pos;
    bool is_float = false;
    while (i < p->n && isdigit((unsigned char)p->src[i]))
        i++;
    if (i + 1 < p->n && p->src[i] == '.' && isdigit((unsigned char)p->src[i + 1])) {
        is_float = true;
        i++;
        while (i < p->n && isdigit((unsigned char)p->src[i]))
            i++;
    }
    if (i < p->n && (p->src[i] == 'e' || p->src[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->n && (p->src[j] == '+' || p->src[j] == '-'))
            j++;
        if (j < p->n && isdigit((unsigned char)p->src[j])) {
            is_float = true;
            i = j;
            while (i < p->n && isdigit((unsigned char)p->src[i]))
                i++;
        }
    }
    if (i < p->n && ident_char((unsigned char)p->src[i]))
        return perr(p, t->off, "invalid number '%.*s'", (int)(i + 1 - p->pos), p->src + p->pos);
    char buf[128];
    size_t len = i - p->pos;
    if (len >= sizeof(buf))
        return perr(p, t->off, "number too long");
    memcpy(buf, p->src + p->pos, len);
    buf[len] = '\0';
    p->pos = i;
    if (!is_float) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            t->t = T_INT;
            t->i = v;
            return 0;
        }
        /* too big for int64: it becomes a double, as JSON numbers do */
    }
    t->t = T_FLOAT;
    t->d = strtod(buf, NULL);
    return 0;
}

static int lex(parser *p, token *t)
{
    while (p->pos < p->n && (p->src[p->pos] == ' ' || p->src[p->pos] == '\t' ||
                             p->src[p->pos] == '\n' || p->src[p->pos] == '\r'))
        p->pos++;
    memset(t, 0, sizeof(*t));
    t->off = (uint32_t)p->pos;
    if (p->pos >= p->n) {
        t->t = T_EOF;
        return 0;
    }
    const char *s = p->src + p->pos;
    size_t left = p->n - p->pos;
    unsigned char c = (unsigned char)s[0];
    int rc = 0;
    if (ident_start(c)) {
        size_t i = 1;
        while (i < left && ident_char((unsigned char)s[i]))
            i++;
        t->t = T_IDENT;
        p->pos += i;
    } else if (isdigit(c)) {
        rc = lex_number(p, t);
    } else if (c == '\'') {
        t->t = T_STR;
        rc = lex_quoted(p, t, '\'');
    } else if (c == '`') {
        t->t = T_QIDENT;
        rc = lex_quoted(p, t, '`');
    } else if (c == '"') {
        return perr(p, p->pos,
                    "strings are quoted with single quotes ('text'); an odd field name goes in "
                    "backquotes (`name`)");
    } else {
        int two = left > 1 ? s[1] : 0;
        int len = 1;
        switch (c) {
        case '=':
            t->t = T_EQ;
            len = two == '=' ? 2 : 1;
            break;
        case '<':
            if (two == '=')
                t->t = T_LE, len = 2;
            else if (two == '>')
                t->t = T_NE, len = 2;
            else
                t->t = T_LT;
            break;
        case '>':
            if (two == '=')
                t->t = T_GE, len = 2;
            else
                t->t = T_GT;
            break;
        case '!':
            if (two == '=')
                t->t = T_NE, len = 2;
            else if (two == '~')
                t->t = T_NTILDE, len = 2;
            else
                return perr(p, p->pos, "unexpected '!': use NOT, != or !~");
            break;
        case '|':
            if (two != '|')
                return perr(p, p->pos, "unexpected '|': use || to concatenate, or OR");
            t->t = T_CONCAT;
            len = 2;
            break;
        case '&': return perr(p, p->pos, "unexpected '&': use AND");
        case '+': t->t = T_PLUS; break;
        case '-': t->t = T_MINUS; break;
        case '*': t->t = T_STAR; break;
        case '/': t->t = T_SLASH; break;
        case '%': t->t = T_PCT; break;
        case '~': t->t = T_TILDE; break;
        case '(': t->t = T_LP; break;
        case ')': t->t = T_RP; break;
        case ',': t->t = T_COMMA; break;
        case '.': t->t = T_DOT; break;
        case '[': t->t = T_LB; break;
        case ']': t->t = T_RB; break;
        default:
            if (c < 0x20 || c >= 0x7f)
                return perr(p, p->pos, "unexpected character (byte 0x%02x)", c);
            return perr(p, p->pos, "unexpected character '%c'", c);
        }
        p->pos += len;
    }
    if (rc < 0)
        return rc;
    t->len = (uint32_t)(p->pos - t->off);
    return 0;
}

static int advance(parser *p)
{
    p->prev = p->tok;
    return lex(p, &p->tok);
}

/* The token after the current one, without consuming anything. */
static int peek(parser *p, token *out)
{
    size_t save = p->pos;
    int rc = lex(p, out);
    p->pos = save;
    return rc;
}

/* ---- Nodes ---- */

static expr_node *node_new(parser *p, int op, uint32_t off, uint32_t nkids)
{
    expr_node *n = wire_arena_alloc(p->arena, sizeof(*n));
    memset(n, 0, sizeof(*n));
    n->op = (uint8_t)op;
    n->off = off;
    n->nkids = nkids;
    n->height = 1;
    n->slot = -1;
    if (nkids) {
        n->kids = wire_arena_alloc(p->arena, nkids * sizeof(*n->kids));
        memset(n->kids, 0, nkids * sizeof(*n->kids));
    }
    return n;
}

/* A growable list of nodes (IN lists, CASE arms, arguments), in the arena. */
typedef struct node_list {
    expr_node **v;
    uint32_t n, cap;
} node_list;

static void list_push(parser *p, node_list *l, expr_node *n)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        expr_node **v = wire_arena_alloc(p->arena, cap * sizeof(*v));
        if (l->n)
            memcpy(v, l->v, l->n * sizeof(*v));
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = n;
}

static bool is_const(const expr_node *n)
{
    return n->op == OP_CONST;
}

/*
 * Replace a node whose inputs are all constants by its value. Errors found
 * here (1/0, 'a' * 2) are compile errors, reported at the node.
 */
static int fold(parser *p, expr_node *n)
{
    /* Every composite node passes here: bound the tree's height, which a
       long chain like a+a+a+... grows without any nesting. */
    uint32_t h = 0;
    for (uint32_t i = 0; i < n->nkids; i++)
        if (n->kids[i]->height > h)
            h = n->kids[i]->height;
    n->height = h + 1;
    bool all_const = true;
    for (uint32_t i = 0; i < n->nkids; i++)
        all_const = all_const && is_const(n->kids[i]);
    if (!all_const) {
        if (n->height > EXPR_MAX_HEIGHT)
            return perr(p, n->off, "expression too deep (more than %d operators in a chain)",
                        EXPR_MAX_HEIGHT);
        return 0;
    }
    if (n->op == OP_FUNC && !n->func->pure)
        return 0;
    wire_eval_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.arena = p->arena;
    wire_err e;
    wire_err_clear(&e);
    expr_eval st = {&ctx, p->sh, &e};
    wire_value v;
    if (wire__expr_eval_node(&st, n, &v) < 0)
        return perr(p, n->off, "%s", e.msg);
    n->op = OP_CONST;
    n->nkids = 0;
    n->height = 1;
    n->k = v;
    return 0;
}

/* Intern a path segment below `parent`; returns its slot. */
static uint64_t path_hash(int32_t parent, const char *key, size_t keylen, int64_t index)
{
    uint64_t seed = (uint64_t)(uint32_t)parent * 0x9E3779B97F4A7C15ULL + (uint64_t)index;
    return wire_hash64(key ? key : "", key ? keylen : 0, seed);
}

static bool path_is(const expr_path *q, int32_t parent, const char *key, size_t keylen,
                    int64_t index)
{
    if (q->parent != parent)
        return false;
    if (key)
        return q->index < 0 && q->keylen == keylen && memcmp(q->key, key, keylen) == 0;
    return q->index == index;
}

/*
 * Intern a path segment below `parent`; returns its slot. A hash table
 * (open addressing, at most half full) keeps compiling long inputs linear.
 */
static int32_t path_slot(parser *p, int32_t parent, const char *key, size_t keylen, int64_t index)
{
    expr_shared *sh = p->sh;
    if (2 * (sh->npaths + 1) > sh->hcap) {
        uint32_t cap = sh->hcap ? sh->hcap * 2 : 16;
        uint32_t *h = wire_xcalloc(cap, sizeof(*h));
        for (uint32_t i = 0; i < sh->npaths; i++) {
            const expr_path *q = &sh->paths[i];
            uint64_t at = path_hash(q->parent, q->key, q->keylen, q->index) & (cap - 1);
            while (h[at])
                at = (at + 1) & (cap - 1);
            h[at] = i + 1;
        }
        free(sh->htab);
        sh->htab = h;
        sh->hcap = cap;
    }
    uint64_t at = path_hash(parent, key, keylen, key ? -1 : index) & (sh->hcap - 1);
    for (; sh->htab[at]; at = (at + 1) & (sh->hcap - 1))
        if (path_is(&sh->paths[sh->htab[at] - 1], parent, key, keylen, index))
            return (int32_t)(sh->htab[at] - 1);
    if (sh->npaths == sh->cap) {
        sh->cap = sh->cap ? sh->cap * 2 : 8;
        sh->paths = wire_xrealloc(sh->paths, sh->cap * sizeof(*sh->paths));
    }
    expr_path *q = &sh->paths[sh->npaths];
    q->parent = parent;
    q->index = key ? -1 : (int32_t)index;
    q->key = key ? wire_arena_strndup(&sh->names, key, keylen) : NULL;
    q->keylen = (uint32_t)keylen;
    sh->htab[at] = sh->npaths + 1;
    return (int32_t)sh->npaths++;
}

static int parse_or(parser *p, expr_node **out);
static int parse_concat(parser *p, expr_node **out);

static int parse_path(parser *p, expr_node **out)
{
    uint32_t off = p->tok.off;
    const char *key = p->tok.t == T_QIDENT ? p->tok.s : p->src + p->tok.off;
    size_t keylen = p->tok.t == T_QIDENT ? p->tok.sn : p->tok.len;
    int32_t slot = path_slot(p, -1, key, keylen, 0);
    int rc = advance(p);
    /* no document nests deeper than the validator allows; locate() recurses */
    for (int depth = 1; rc == 0; depth++) {
        if (depth > WIRE_JSON_MAX_DEPTH && (p->tok.t == T_DOT || p->tok.t == T_LB))
            return perr(p, p->tok.off, "field path too deep (more than %d segments)",
                        WIRE_JSON_MAX_DEPTH);
        if (p->tok.t == T_DOT) {
            if ((rc = advance(p)) < 0)
                return rc;
            if (p->tok.t == T_IDENT)
                slot = path_slot(p, slot, p->src + p->tok.off, p->tok.len, 0);
            else if (p->tok.t == T_QIDENT)
                slot = path_slot(p, slot, p->tok.s, p->tok.sn, 0);
            else
                return perr(p, p->tok.off, "expected a field name after '.'");
            rc = advance(p);
        } else if (p->tok.t == T_LB) {
            if ((rc = advance(p)) < 0)
                return rc;
            if (p->tok.t != T_INT || p->tok.i < 0 || p->tok.i > INT32_MAX)
                return perr(p, p->tok.off,
                            "array index must be a non-negative integer, as in tags[0]");
            slot = path_slot(p, slot, NULL, 0, p->tok.i);
            if ((rc = advance(p)) < 0)
                return rc;
            if (p->tok.t != T_RB)
                return perr(p, p->tok.off, "expected ']' after the array index");
            rc = advance(p);
        } else {
            break;
        }
    }
    if (rc < 0)
        return rc;
    expr_node *n = node_new(p, OP_FIELD, off, 0);
    n->slot = slot;
    *out = n;
    return 0;
}

static int expect_expr_error(parser *p)
{
    char a[64], b[64];
    if (p->prev.len == 0 && p->prev.t == T_EOF)
        return perr(p, p->tok.off, "expected an expression, found %s", tok_desc(p, &p->tok, a));
    return perr(p, p->tok.off, "expected an expression after %s, found %s",
                tok_desc(p, &p->prev, a), tok_desc(p, &p->tok, b));
}

static int parse_call(parser *p, expr_node **out)
{
    token name = p->tok;
    const expr_func *f = wire__expr_func_find(p->src + name.off, name.len);
    if (!f)
        return perr(p, name.off, "unknown function '%.*s'", (int)name.len, p->src + name.off);
    int rc;
    if ((rc = advance(p)) < 0 || (rc = advance(p)) < 0) /* name, '(' */
        return rc;
    node_list args = {0};
    if (p->tok.t != T_RP) {
        for (;;) {
            expr_node *a;
            if ((rc = parse_or(p, &a)) < 0)
                return rc;
            list_push(p, &args, a);
            if (p->tok.t == T_COMMA) {
                if ((rc = advance(p)) < 0)
                    return rc;
                continue;
            }
            if (p->tok.t == T_RP)
                break;
            char b[64];
            return perr(p, p->tok.off, "expected ',' or ')' in the arguments of %s(), found %s",
                        f->name, tok_desc(p, &p->tok, b));
        }
    }
    if ((rc = advance(p)) < 0) /* ')' */
        return rc;
    if (args.n < f->min_args || args.n > f->max_args) {
        if (f->min_args == f->max_args)
            return perr(p, name.off, "%s() takes %u argument%s, got %u", f->name, f->min_args,
                        f->min_args == 1 ? "" : "s", args.n);
        if (f->max_args == UINT8_MAX && args.n > f->max_args)
            return perr(p, name.off, "%s() takes at most %u arguments, got %u", f->name,
                        f->max_args, args.n);
        if (f->max_args == UINT8_MAX)
            return perr(p, name.off, "%s() takes at least %u argument%s, got %u", f->name,
                        f->min_args, f->min_args == 1 ? "" : "s", args.n);
        return perr(p, name.off, "%s() takes %u to %u arguments, got %u", f->name, f->min_args,
                    f->max_args, args.n);
    }
    expr_node *n = node_new(p, OP_FUNC, name.off, 0);
    n->func = f;
    n->kids = args.v;
    n->nkids = args.n;
    if ((rc = wire__expr_func_check(p->arena, n, p->err)) < 0)
        return rc;
    if ((rc = fold(p, n)) < 0)
        return rc;
    *out = n;
    return 0;
}

static int parse_case(parser *p, expr_node **out)
{
    uint32_t off = p->tok.off;
    int rc;
    if ((rc = advance(p)) < 0)
        return rc;
    node_list kids = {0};
    bool simple = false;
    if (!KW(p, "WHEN") && !KW(p, "END") && p->tok.t != T_EOF) {
        expr_node *subject;
        if ((rc = parse_or(p, &subject)) < 0)
            return rc;
        list_push(p, &kids, subject);
        simple = true;
    }
    if (!KW(p, "WHEN")) {
        char b[64];
        return perr(p, p->tok.off, "expected WHEN in CASE, found %s", tok_desc(p, &p->tok, b));
    }
    while (KW(p, "WHEN")) {
        expr_node *w, *t;
        if ((rc = advance(p)) < 0 || (rc = parse_or(p, &w)) < 0)
            return rc;
        if (!KW(p, "THEN")) {
            char b[64];
            return perr(p, p->tok.off, "expected THEN after the WHEN condition, found %s",
                        tok_desc(p, &p->tok, b));
        }
        if ((rc = advance(p)) < 0 || (rc = parse_or(p, &t)) < 0)
            return rc;
        list_push(p, &kids, w);
        list_push(p, &kids, t);
    }
    bool has_else = false;
    if (KW(p, "ELSE")) {
        expr_node *e;
        if ((rc = advance(p)) < 0 || (rc = parse_or(p, &e)) < 0)
            return rc;
        list_push(p, &kids, e);
        has_else = true;
    }
    if (!KW(p, "END")) {
        char b[64];
        return perr(p, p->tok.off, "expected END to close the CASE at offset %u, found %s", off,
                    tok_desc(p, &p->tok, b));
    }
    if ((rc = advance(p)) < 0)
        return rc;
    expr_node *n = node_new(p, OP_CASE, off, 0);
    n->kids = kids.v;
    n->nkids = kids.n;
    n->simple = simple;
    n->has_else = has_else;
    if ((rc = fold(p, n)) < 0)
        return rc;
    *out = n;
    return 0;
}

static int parse_primary(parser *p, expr_node **out)
{
    token *t = &p->tok;
    int rc;
    expr_node *n;
    switch (t->t) {
    case T_INT:
        n = node_new(p, OP_CONST, t->off, 0);
        expr_set_int(&n->k, t->i);
        *out = n;
        return advance(p);
    case T_FLOAT:
        n = node_new(p, OP_CONST, t->off, 0);
        expr_set_double(&n->k, t->d);
        *out = n;
        return advance(p);
    case T_STR:
        n = node_new(p, OP_CONST, t->off, 0);
        expr_set_str(&n->k, t->s, t->sn, false);
        *out = n;
        return advance(p);
    case T_QIDENT: return parse_path(p, out);
    case T_LP: {
        uint32_t off = t->off;
        if ((rc = advance(p)) < 0 || (rc = parse_or(p, out)) < 0)
            return rc;
        if (p->tok.t != T_RP) {
            char b[64];
            return perr(p, p->tok.off, "expected ')' to close the '(' at offset %u, found %s", off,
                        tok_desc(p, &p->tok, b));
        }
        return advance(p);
    }
    case T_IDENT:
        if (KW(p, "TRUE") || KW(p, "FALSE")) {
            n = node_new(p, OP_CONST, t->off, 0);
            expr_set_bool(&n->k, KW(p, "TRUE"));
            *out = n;
            return advance(p);
        }
        if (KW(p, "NULL")) {
            n = node_new(p, OP_CONST, t->off, 0);
            expr_set_null(&n->k);
            *out = n;
            return advance(p);
        }
        if (KW(p, "CASE"))
            return parse_case(p, out);
        if (tok_is_reserved(t, p->src))
            return expect_expr_error(p);
        {
            token nx;
            if ((rc = peek(p, &nx)) < 0)
                return rc;
            if (nx.t == T_LP)
                return parse_call(p, out);
        }
        return parse_path(p, out);
    default: return expect_expr_error(p);
    }
}

static int enter(parser *p)
{
    if (++p->depth > EXPR_MAX_DEPTH)
        return perr(p, p->tok.off, "expression nested too deeply (more than %d levels)",
                    EXPR_MAX_DEPTH);
    return 0;
}

static int parse_unary(parser *p, expr_node **out)
{
    int rc;
    if ((rc = enter(p)) < 0)
        return rc;
    if (p->tok.t == T_MINUS || p->tok.t == T_PLUS) {
        token op = p->tok;
        expr_node *a;
        if ((rc = advance(p)) < 0 || (rc = parse_unary(p, &a)) < 0)
            return rc;
        if (op.t == T_PLUS) {
            *out = a;
        } else {
            expr_node *n = node_new(p, OP_NEG, op.off, 1);
            n->kids[0] = a;
            if ((rc = fold(p, n)) < 0)
                return rc;
            *out = n;
        }
    } else {
        rc = parse_primary(p, out);
    }
    p->depth--;
    return rc;
}

typedef int (*parse_fn)(parser *p, expr_node **out);

/* Left-associative binary operators of one precedence level. */
static int parse_binary(parser *p, expr_node **out, parse_fn next, const int *toks, const int *ops,
                        int nops)
{
    int rc;
    expr_node *l;
    if ((rc = next(p, &l)) < 0)
        return rc;
    for (;;) {
        int op = -1;
        for (int i = 0; i < nops; i++)
            if (p->tok.t == toks[i])
                op = ops[i];
        if (op < 0)
            break;
        uint32_t off = p->tok.off;
        expr_node *r;
        if ((rc = advance(p)) < 0 || (rc = next(p, &r)) < 0)
            return rc;
        expr_node *n = node_new(p, op, off, 2);
        n->kids[0] = l;
        n->kids[1] = r;
        if ((rc = fold(p, n)) < 0)
            return rc;
        l = n;
    }
    *out = l;
    return 0;
}

static int parse_mul(parser *p, expr_node **out)
{
    static const int toks[] = {T_STAR, T_SLASH, T_PCT}, ops[] = {OP_MUL, OP_DIV, OP_MOD};
    return parse_binary(p, out, parse_unary, toks, ops, 3);
}

static int parse_add(parser *p, expr_node **out)
{
    static const int toks[] = {T_PLUS, T_MINUS}, ops[] = {OP_ADD, OP_SUB};
    return parse_binary(p, out, parse_mul, toks, ops, 2);
}

static int parse_concat(parser *p, expr_node **out)
{
    static const int toks[] = {T_CONCAT}, ops[] = {OP_CONCAT};
    return parse_binary(p, out, parse_add, toks, ops, 1);
}

static int parse_in_list(parser *p, expr_node *subject, uint32_t off, bool neg, expr_node **out)
{
    int rc;
    if (p->tok.t != T_LP) {
        char b[64];
        return perr(p, p->tok.off, "expected '(' after IN, found %s", tok_desc(p, &p->tok, b));
    }
    uint32_t lp = p->tok.off;
    if ((rc = advance(p)) < 0)
        return rc;
    if (p->tok.t == T_RP)
        return perr(p, p->tok.off, "the IN list is empty");
    node_list kids = {0};
    list_push(p, &kids, subject);
    for (;;) {
        expr_node *v;
        if ((rc = parse_or(p, &v)) < 0)
            return rc;
        list_push(p, &kids, v);
        if (p->tok.t == T_COMMA) {
            if ((rc = advance(p)) < 0)
                return rc;
            continue;
        }
        if (p->tok.t == T_RP)
            break;
        char b[64];
        return perr(p, p->tok.off,
                    "expected ',' or ')' in the IN list opened at offset %u, found %s", lp,
                    tok_desc(p, &p->tok, b));
    }
    if ((rc = advance(p)) < 0)
        return rc;
    expr_node *n = node_new(p, OP_IN, off, 0);
    n->kids = kids.v;
    n->nkids = kids.n;
    n->neg = neg;
    if ((rc = fold(p, n)) < 0)
        return rc;
    *out = n;
    return 0;
}

static int parse_like(parser *p, expr_node *subject, uint32_t off, bool neg, bool nocase,
                      expr_node **out)
{
    int rc;
    expr_node *pat, *esc = NULL;
    if ((rc = parse_concat(p, &pat)) < 0)
        return rc;
    if (KW(p, "ESCAPE")) {
        if ((rc = advance(p)) < 0)
            return rc;
        if (p->tok.t != T_STR || p->tok.sn != 1)
            return perr(p, p->tok.off, "ESCAPE takes a one-character string, as in ESCAPE '\\'");
        esc = node_new(p, OP_CONST, p->tok.off, 0);
        expr_set_str(&esc->k, p->tok.s, 1, false);
        if ((rc = advance(p)) < 0)
            return rc;
    }
    expr_node *n = node_new(p, OP_LIKE, off, esc ? 3 : 2);
    n->kids[0] = subject;
    n->kids[1] = pat;
    if (esc)
        n->kids[2] = esc;
    n->neg = neg;
    n->simple = nocase; /* ILIKE */
    if (is_const(pat)) {
        if (pat->k.type == WIRE_V_NULL) {
            /* x LIKE NULL is NULL: leave it to evaluation (and folding) */
        } else if (pat->k.type != WIRE_V_STRING) {
            return perr(p, pat->off, "LIKE needs a string pattern, got %s",
                        wire__expr_type_name(&pat->k));
        } else {
            expr_like *L = wire_arena_alloc(p->arena, sizeof(*L));
            const char *msg;
            if (wire__expr_like_compile(p->arena, pat->k.s.p, pat->k.s.n,
                                        esc ? (unsigned char)esc->k.s.p[0] : -1, nocase, L,
                                        &msg) < 0)
                return perr(p, pat->off, "%s", msg);
            n->aux = L;
        }
    }
    if ((rc = fold(p, n)) < 0)
        return rc;
    *out = n;
    return 0;
}

static int parse_regex(parser *p, expr_node *subject, uint32_t off, bool neg, expr_node **out)
{
    int rc;
    uint32_t pat_off = p->tok.off;
    bool literal = p->tok.t == T_STR;
    expr_node *pat;
    if ((rc = parse_concat(p, &pat)) < 0)
        return rc;
    if (!is_const(pat) || pat->k.type != WIRE_V_STRING)
        return perr(p, pat_off,
                    "the right side of %s must be a string literal (a regex is compiled once)",
                    neg ? "!~" : "~");
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat->k.s.p, pat->k.s.n,
                                     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        /* inside a plain literal the pattern starts after the quote */
        size_t at = literal ? pat_off + 1 + eo : pat_off;
        if (at > p->n)
            at = p->n;
        return perr(p, at, "invalid regex: %s", (const char *)msg);
    }
    /* JIT is an optimisation: if it is unavailable pcre2_match interprets */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    expr_regex *re = wire_arena_alloc(p->arena, sizeof(*re));
    re->code = code;
    re->md = pcre2_match_data_create(1, NULL);
    re->next = p->expr->regexes;
    p->expr->regexes = re;
    if (!re->md)
        return perr(p, pat_off, "out of memory compiling the regex");
    expr_node *n = node_new(p, OP_REGEX, off, 2);
    n->kids[0] = subject;
    n->kids[1] = pat;
    n->neg = neg;
    n->aux = re;
    if ((rc = fold(p, n)) < 0)
        return rc;
    *out = n;
    return 0;
}

static bool is_cmp_start(parser *p)
{
    switch (p->tok.t) {
    case T_EQ:
    case T_NE:
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
    case T_TILDE:
    case T_NTILDE: return true;
    default: return KW(p, "IS") || KW(p, "IN") || KW(p, "LIKE") || KW(p, "ILIKE") || KW(p, "NOT");
    }
}

static int parse_cmp(parser *p, expr_node **out)
{
    int rc;
    expr_node *l;
    if ((rc = parse_concat(p, &l)) < 0)
        return rc;
    if (!is_cmp_start(p)) {
        *out = l;
        return 0;
    }
    token op = p->tok;
    expr_node *n = NULL;
    if (KW(p, "NOT")) {
        /* x NOT IN (...), x NOT LIKE ...; a bare NOT here is not ours */
        token nx;
        if ((rc = peek(p, &nx)) < 0)
            return rc;
        if (!tok_is_kw(&nx, p->src, "IN") && !tok_is_kw(&nx, p->src, "LIKE") &&
            !tok_is_kw(&nx, p->src, "ILIKE")) {
            *out = l;
            return 0;
        }
        if ((rc = advance(p)) < 0)
            return rc;
        bool in = KW(p, "IN"), nocase = KW(p, "ILIKE");
        if ((rc = advance(p)) < 0)
            return rc;
        rc =
            in ? parse_in_list(p, l, op.off, true, &n) : parse_like(p, l, op.off, true, nocase, &n);
    } else if (KW(p, "IS")) {
        bool neg = false;
        if ((rc = advance(p)) < 0)
            return rc;
        if (KW(p, "NOT")) {
            neg = true;
            if ((rc = advance(p)) < 0)
                return rc;
        }
        if (!KW(p, "NULL")) {
            char b[64];
            return perr(p, p->tok.off, "expected NULL after IS%s, found %s", neg ? " NOT" : "",
                        tok_desc(p, &p->tok, b));
        }
        if ((rc = advance(p)) < 0)
            return rc;
        n = node_new(p, OP_ISNULL, op.off, 1);
        n->kids[0] = l;
        n->neg = neg;
        rc = fold(p, n);
    } else if (KW(p, "IN")) {
        if ((rc = advance(p)) < 0)
            return rc;
        rc = parse_in_list(p, l, op.off, false, &n);
    } else if (KW(p, "LIKE") || KW(p, "ILIKE")) {
        bool nocase = KW(p, "ILIKE");
        if ((rc = advance(p)) < 0)
            return rc;
        rc = parse_like(p, l, op.off, false, nocase, &n);
    } else if (op.t == T_TILDE || op.t == T_NTILDE) {
        if ((rc = advance(p)) < 0)
            return rc;
        rc = parse_regex(p, l, op.off, op.t == T_NTILDE, &n);
    } else {
        static const int map[] = {[T_EQ] = OP_EQ, [T_NE] = OP_NE, [T_LT] = OP_LT,
                                  [T_LE] = OP_LE, [T_GT] = OP_GT, [T_GE] = OP_GE};
        expr_node *r;
        if ((rc = advance(p)) < 0 || (rc = parse_concat(p, &r)) < 0)
            return rc;
        n = node_new(p, map[op.t], op.off, 2);
        n->kids[0] = l;
        n->kids[1] = r;
        if ((rc = fold(p, n)) < 0)
            return rc;
        /* field = 'literal': the common filter, compared without decoding */
        if (n->op == OP_EQ) {
            expr_node *f = l->op == OP_FIELD ? l : r->op == OP_FIELD ? r : NULL;
            expr_node *c = f == l ? r : l;
            if (f && is_const(c) && c->k.type == WIRE_V_STRING) {
                n->op = OP_EQ_STR;
                n->slot = f->slot;
                n->k = c->k;
                /* does the literal hold a character JSON may write as \" \\ \/ \n ...? */
                for (size_t i = 0; i < c->k.s.n; i++) {
                    unsigned char ch = (unsigned char)c->k.s.p[i];
                    if (ch < 0x20 || ch == '"' || ch == '\\' || ch == '/')
                        n->simple = 1;
                }
                n->kids[0] = f;
                n->kids[1] = c;
            }
        }
    }
    if (rc < 0)
        return rc;
    if (is_cmp_start(p) && !KW(p, "NOT"))
        return perr(p, p->tok.off,
                    "comparisons cannot be chained: combine them with AND, as in a < b AND b < c");
    *out = n;
    return 0;
}

static int parse_not(parser *p, expr_node **out)
{
    int rc;
    if ((rc = enter(p)) < 0)
        return rc;
    if (KW(p, "NOT")) {
        uint32_t off = p->tok.off;
        expr_node *a;
        if ((rc = advance(p)) < 0 || (rc = parse_not(p, &a)) < 0)
            return rc;
        expr_node *n = node_new(p, OP_NOT, off, 1);
        n->kids[0] = a;
        if ((rc = fold(p, n)) < 0)
            return rc;
        *out = n;
    } else {
        rc = parse_cmp(p, out);
    }
    p->depth--;
    return rc;
}

static int parse_logic(parser *p, expr_node **out, parse_fn next, const char *kw, int op)
{
    int rc;
    expr_node *l;
    if ((rc = next(p, &l)) < 0)
        return rc;
    while (KW(p, kw)) {
        uint32_t off = p->tok.off;
        expr_node *r;
        if ((rc = advance(p)) < 0 || (rc = next(p, &r)) < 0)
            return rc;
        expr_node *n = node_new(p, op, off, 2);
        n->kids[0] = l;
        n->kids[1] = r;
        if ((rc = fold(p, n)) < 0)
            return rc;
        l = n;
    }
    *out = l;
    return 0;
}

static int parse_and(parser *p, expr_node **out)
{
    return parse_logic(p, out, parse_not, "AND", OP_AND);
}

static int parse_or(parser *p, expr_node **out)
{
    int rc;
    if ((rc = enter(p)) < 0)
        return rc;
    rc = parse_logic(p, out, parse_and, "OR", OP_OR);
    p->depth--;
    return rc;
}

/* ---- Compilation units ---- */

static expr_shared *shared_new(void)
{
    expr_shared *sh = wire_xcalloc(1, sizeof(*sh));
    sh->refs = 1;
    sh->epoch = 1;
    sh->meta_root = -1;
    wire_arena_init(&sh->names, 1024);
    return sh;
}

static void shared_finish(expr_shared *sh)
{
    free(sh->htab); /* only needed while compiling */
    sh->htab = NULL;
    sh->hcap = 0;
    sh->nslots = sh->npaths;
    sh->slots = wire_xcalloc(sh->nslots ? sh->nslots : 1, sizeof(*sh->slots));
    sh->top = wire_xcalloc(sh->npaths ? sh->npaths : 1, sizeof(*sh->top));
    for (uint32_t i = 0; i < sh->npaths; i++)
        if (sh->paths[i].parent < 0 && sh->paths[i].index < 0) {
            uint32_t len = sh->paths[i].keylen;
            sh->top[sh->ntop++] = (struct expr_topkey){sh->paths[i].key, len, (int32_t)i};
            if (len < 64)
                sh->top_lens |= 1ULL << len;
            else
                sh->top_long = true;
            if (sh->ntop == 1 || len < sh->top_minlen)
                sh->top_minlen = len;
        }
}

static void shared_unref(expr_shared *sh)
{
    if (!sh || --sh->refs > 0)
        return;
    free(sh->paths);
    free(sh->slots);
    free(sh->meta_of);
    free(sh->top);
    free(sh->htab);
    wire_arena_free(&sh->names);
    free(sh);
}

static wire_expr *expr_new(expr_shared *sh)
{
    wire_expr *e = wire_xcalloc(1, sizeof(*e));
    wire_arena_init(&e->arena, 1024); /* a typical expression is a few nodes */
    e->sh = sh;
    sh->refs++;
    return e;
}

void wire_expr_free(wire_expr *e)
{
    if (!e)
        return;
    for (expr_regex *re = e->regexes; re; re = re->next) {
        pcre2_match_data_free(re->md);
        pcre2_code_free(re->code);
    }
    wire_arena_free(&e->arena);
    free(e->text);
    shared_unref(e->sh);
    free(e);
}

const char *wire_expr_text(const wire_expr *e)
{
    return e ? e->text : "";
}

static void parser_init(parser *p, const char *src, size_t n, expr_shared *sh, wire_err *err)
{
    memset(p, 0, sizeof(*p));
    p->src = src;
    p->n = n;
    p->sh = sh;
    p->err = err;
    p->prev.t = T_EOF;
}

/* Source text of [from, end of the previous token), trimmed. */
static char *slice_text(parser *p, uint32_t from)
{
    size_t end = p->prev.t == T_EOF && p->prev.len == 0 ? from : p->prev.off + p->prev.len;
    if (end < from)
        end = from;
    return wire_xstrndup(p->src + from, end - from);
}

/* Collect the prefilterable conjuncts of the root (see wire_expr.pre). */
static void collect_prefilters(wire_expr *e, const expr_node *n, uint32_t *cap)
{
    if (n->op == OP_AND) {
        collect_prefilters(e, n->kids[0], cap);
        collect_prefilters(e, n->kids[1], cap);
        return;
    }
    if (n->op != OP_EQ_STR || n->kids[0]->op != OP_FIELD)
        return;
    const expr_path *q = &e->sh->paths[n->slot];
    if (q->parent >= 0 || q->index >= 0 || n->k.s.n == 0)
        return;
    if (e->npre == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        const expr_node **v = wire_arena_alloc(&e->arena, *cap * sizeof(*v));
        if (e->npre)
            memcpy(v, e->pre, e->npre * sizeof(*v));
        e->pre = v;
    }
    e->pre[e->npre++] = n;
}

int wire_expr_compile(const char *src, size_t n, wire_expr **out, wire_err *err)
{
    *out = NULL;
    if (n > EXPR_MAX_LEN)
        return wire_errf_at(err, WIRE_EPARSE, 0, "expression too long");
    expr_shared *sh = shared_new();
    wire_expr *e = expr_new(sh);
    shared_unref(sh); /* e holds the reference */
    parser p;
    parser_init(&p, src, n, sh, err);
    p.arena = &e->arena;
    p.expr = e;
    int rc = lex(&p, &p.tok);
    if (rc == 0 && p.tok.t == T_EOF)
        rc = perr(&p, 0, "empty expression");
    if (rc == 0)
        rc = parse_or(&p, &e->root);
    if (rc == 0 && p.tok.t != T_EOF) {
        char b[64];
        rc = perr(&p, p.tok.off, "unexpected %s: expected an operator or the end of the expression",
                  tok_desc(&p, &p.tok, b));
    }
    if (rc < 0) {
        wire_expr_free(e);
        return rc;
    }
    e->text = wire_xstrndup(src, n);
    e->textlen = n;
    shared_finish(sh);
    uint32_t cap = 0;
    collect_prefilters(e, e->root, &cap);
    *out = e;
    return 0;
}

void wire_select_free(wire_select *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        wire_expr_free(s->items[i].expr);
        free(s->items[i].name);
    }
    free(s->items);
    free(s);
}

/* Output names seen so far in a select list (open addressing, at most half full). */
typedef struct name_set {
    const char **v;
    size_t n, cap;
} name_set;

/* Returns false if `name` was already there. */
static bool name_set_add(name_set *ns, const char *name)
{
    if (2 * (ns->n + 1) > ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        const char **v = wire_xcalloc(cap, sizeof(*v));
        for (size_t i = 0; i < ns->cap; i++) {
            if (!ns->v[i])
                continue;
            size_t at = wire_hash64(ns->v[i], strlen(ns->v[i]), 0) & (cap - 1);
            while (v[at])
                at = (at + 1) & (cap - 1);
            v[at] = ns->v[i];
        }
        free(ns->v);
        ns->v = v;
        ns->cap = cap;
    }
    size_t at = wire_hash64(name, strlen(name), 0) & (ns->cap - 1);
    for (; ns->v[at]; at = (at + 1) & (ns->cap - 1))
        if (strcmp(ns->v[at], name) == 0)
            return false;
    ns->v[at] = name;
    ns->n++;
    return true;
}

/* The name an item gets without AS: the last key of a plain field path. */
static const char *default_name(const expr_shared *sh, const expr_node *root, size_t *len)
{
    if (root->op != OP_FIELD)
        return NULL;
    const expr_path *q = &sh->paths[root->slot];
    if (q->index >= 0)
        return NULL;
    *len = q->keylen;
    return q->key;
}

int wire_select_compile(const char *src, size_t n, wire_select **out, wire_err *err)
{
    *out = NULL;
    if (n > EXPR_MAX_LEN)
        return wire_errf_at(err, WIRE_EPARSE, 0, "select list too long");
    wire_select *s = wire_xcalloc(1, sizeof(*s));
    expr_shared *sh = shared_new();
    name_set names = {0};
    parser p;
    parser_init(&p, src, n, sh, err);
    size_t cap = 0;
    int rc = lex(&p, &p.tok);
    if (rc == 0 && p.tok.t == T_EOF)
        rc = perr(&p, 0, "empty select list: name the fields to keep, or *");
    while (rc == 0) {
        uint32_t start = p.tok.off;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 8;
            s->items = wire_xrealloc(s->items, cap * sizeof(*s->items));
        }
        wire_select_item *it = &s->items[s->n];
        memset(it, 0, sizeof(*it));
        if (p.tok.t == T_STAR) {
            if (s->star) {
                rc = perr(&p, start, "'*' appears twice in the select list");
                break;
            }
            s->star = true;
            s->n++;
            if ((rc = advance(&p)) < 0)
                break;
        } else {
            it->expr = expr_new(sh);
            s->n++;
            p.arena = &it->expr->arena;
            p.expr = it->expr;
            p.depth = 0;
            if ((rc = parse_or(&p, &it->expr->root)) < 0)
                break;
            it->expr->text = slice_text(&p, start);
            it->expr->textlen = strlen(it->expr->text);
            bool as = KW(&p, "AS");
            if (as && (rc = advance(&p)) < 0)
                break;
            if (p.tok.t == T_QIDENT ||
                (p.tok.t == T_IDENT && (as || !tok_is_reserved(&p.tok, p.src)))) {
                it->name = p.tok.t == T_QIDENT ? wire_xstrndup(p.tok.s, p.tok.sn)
                                               : wire_xstrndup(p.src + p.tok.off, p.tok.len);
                if ((rc = advance(&p)) < 0)
                    break;
            } else if (as) {
                char b[64];
                rc = perr(&p, p.tok.off, "expected a name after AS, found %s",
                          tok_desc(&p, &p.tok, b));
                break;
            } else {
                size_t len;
                const char *dn = default_name(sh, it->expr->root, &len);
                if (!dn) {
                    rc = perr(&p, start, "select item '%s' needs a name: add AS name",
                              it->expr->text);
                    break;
                }
                it->name = wire_xstrndup(dn, len);
            }
            if (!name_set_add(&names, it->name)) {
                rc = perr(&p, start, "duplicate output name '%s' in the select list", it->name);
                break;
            }
        }
        if (p.tok.t == T_EOF)
            break;
        if (p.tok.t != T_COMMA) {
            char b[64];
            rc = perr(&p, p.tok.off, "expected ',' or the end of the select list, found %s",
                      tok_desc(&p, &p.tok, b));
            break;
        }
        if ((rc = advance(&p)) < 0)
            break;
        if (p.tok.t == T_EOF) {
            rc = perr(&p, p.tok.off, "expected a select item after ','");
            break;
        }
    }
    free(names.v);
    if (rc < 0) {
        shared_unref(sh);
        wire_select_free(s);
        return rc;
    }
    shared_finish(sh);
    shared_unref(sh); /* the items hold their references */
    *out = s;
    return 0;
}
