/*
 * expr_eval.c — evaluating compiled expressions on events.
 *
 * Fields are located lazily in the event's raw JSON and cached per event in
 * the slots of the compilation unit (expr_impl.h), so a path named twice, or
 * by two items of one select list, or a prefix shared by a.b and a.c, is
 * scanned once. Strings taken from the event stay JSON-escaped (escaped=1)
 * and are compared or copied in that form; only operations that need the real
 * text (ordering, LIKE, regex, most functions) unescape, into the caller's
 * arena, and only when the body holds a backslash. Nothing here calls malloc.
 *
 * Semantics (docs/expressions.md): SQL three-valued logic; a missing field is
 * NULL; comparing values of different types (other than int with double) is
 * NULL, not an error; arithmetic on int64 falls to double on overflow;
 * division by zero and arithmetic on non-numbers are errors (WIRE_ETYPE).
 *
 * Thread safety: a compiled expression owns scratch state (the field cache
 * and each regex's match data), so one compiled expression is evaluated by
 * one thread at a time. A pipeline runs its transforms on one worker thread,
 * which satisfies this; parallel operators compile one copy per thread.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/expr_impl.h"

static int eval_err(expr_eval *st, const char *fmt, ...) WIRE_PRINTF(2, 3);
static int eval_err(expr_eval *st, const char *fmt, ...)
{
    if (st->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->err->msg, sizeof(st->err->msg), fmt, ap);
        va_end(ap);
        st->err->code = WIRE_ETYPE;
        st->err->offset = -1;
    }
    return WIRE_ETYPE;
}

const char *wire__expr_type_name(const wire_value *v)
{
    switch (v->type) {
    case WIRE_V_NULL: return "null";
    case WIRE_V_BOOL: return "boolean";
    case WIRE_V_INT: return "integer";
    case WIRE_V_DOUBLE: return "number";
    case WIRE_V_STRING: return "string";
    default: return v->s.n && v->s.p[0] == '[' ? "array" : "object";
    }
}

/* ---- Field cache ---- */

/*
 * Start an evaluation. The cached lookups stay valid while the context names
 * the same event (same wire_event, same bytes, same cache_gen) and this unit
 * was the last to use the context's cache; otherwise they are forgotten by
 * moving to a new epoch, which costs nothing per slot.
 */
/*
 * Bind the unit's paths to a metadata namespace (or to none): which slots
 * are its root, its fields, or null below it. Paths are interned parent
 * first, so one pass in order sees every parent before its children. Done
 * when the context's namespace changes, i.e. once per pipeline.
 */
static void bind_meta(expr_shared *sh, const wire_meta_ns *ns)
{
    sh->meta = ns;
    sh->has_meta = false;
    sh->meta_root = -1;
    if (!sh->meta_of)
        sh->meta_of = wire_xmalloc((sh->nslots ? sh->nslots : 1) * sizeof(*sh->meta_of));
    size_t nl = ns ? strlen(ns->name) : 0;
    for (uint32_t i = 0; i < sh->nslots; i++) {
        const expr_path *q = &sh->paths[i];
        int16_t m = META_NONE;
        if (!ns) {
            m = META_NONE;
        } else if (q->parent < 0) {
            if (q->index < 0 && q->keylen == nl && memcmp(q->key, ns->name, nl) == 0) {
                m = META_ROOT;
                sh->meta_root = (int32_t)i;
            }
        } else if (sh->meta_of[q->parent] == META_ROOT) {
            m = META_NULL;
            for (size_t f = 0; q->index < 0 && ns->fields[f]; f++)
                if (strlen(ns->fields[f]) == q->keylen &&
                    memcmp(ns->fields[f], q->key, q->keylen) == 0)
                    m = (int16_t)f;
        } else if (sh->meta_of[q->parent] != META_NONE) {
            m = META_NULL; /* below a field: metadata values are not containers */
        }
        sh->meta_of[i] = m;
        sh->has_meta |= m != META_NONE;
    }
}

void wire__expr_begin(expr_eval *st, const wire_expr *e, wire_eval_ctx *ctx, wire_err *err)
{
    expr_shared *sh = e->sh;
    st->ctx = ctx;
    st->sh = sh;
    st->err = err;
    const wire_event *ev = ctx->ev;
    if (WIRE_UNLIKELY(ctx->meta != sh->meta)) {
        bind_meta(sh, ctx->meta);
        ctx->cache = NULL; /* lookups made under another binding are stale */
    }
    if (ctx->cache != sh || sh->ev != ev || sh->gen != ctx->cache_gen ||
        (ev && (sh->data != ev->data || sh->len != ev->len))) {
        if (++sh->epoch == 0) {
            for (uint32_t i = 0; i < sh->nslots; i++)
                sh->slots[i].epoch = sh->slots[i].vepoch = 0;
            sh->epoch = 1;
        }
        sh->ev = ev;
        sh->data = ev ? ev->data : NULL;
        sh->len = ev ? ev->len : 0;
        sh->gen = ctx->cache_gen;
        ctx->cache = sh;
    }
}

void wire__expr_json_to_value(const wire_json_val *jv, wire_value *out)
{
    switch (jv->kind) {
    case WIRE_JSON_TRUE: expr_set_bool(out, true); break;
    case WIRE_JSON_FALSE: expr_set_bool(out, false); break;
    case WIRE_JSON_NUMBER: {
        int64_t i;
        double d;
        if (wire_json_number(jv->p, jv->n, &i, &d) == WIRE_JSON_NUM_INT)
            expr_set_int(out, i);
        else
            expr_set_double(out, d);
        break;
    }
    case WIRE_JSON_STRING: expr_set_str(out, jv->p + 1, jv->n - 2, true); break;
    case WIRE_JSON_ARRAY:
    case WIRE_JSON_OBJECT:
        out->type = WIRE_V_JSON;
        out->escaped = 0;
        out->s.p = jv->p;
        out->s.n = jv->n;
        break;
    default: expr_set_null(out); break;
    }
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The event's top-level object, trimmed: no scan. */
static bool event_root(const wire_event *ev, wire_json_val *root)
{
    if (!ev || !ev->data)
        return false;
    const char *p = ev->data, *e = ev->data + ev->len;
    while (p < e && is_ws(*p))
        p++;
    while (e > p && is_ws(e[-1]))
        e--;
    if (e - p < 2 || *p != '{')
        return false;
    root->kind = WIRE_JSON_OBJECT;
    root->p = p;
    root->n = (size_t)(e - p);
    return true;
}

/*
 * Locate every top-level key of the unit in one pass over the event's
 * members (a select of four fields costs one scan, not four). The pass goes
 * to the end, so with duplicate keys the last one wins, as in wire_json_get.
 */
static void locate_top(expr_eval *st)
{
    expr_shared *sh = st->sh;
    const struct expr_topkey *top = sh->top;
    uint32_t ntop = sh->ntop;
    for (uint32_t t = 0; t < ntop; t++) {
        expr_slot *s = &sh->slots[top[t].slot];
        s->epoch = sh->epoch;
        s->found = false;
    }
    wire_json_val root, key, val;
    if (!event_root(st->ctx->ev, &root))
        return;
    /* without a backslash in the event no key is escaped: lengths must match */
    bool any_escape = memchr(root.p, '\\', root.n) != NULL;
    wire_json_iter it;
    wire_json_iter_init(&it, &root);
    while (wire_json_iter_next(&it, &key, &val)) {
        const char *kp = key.p + 1;
        size_t kn = key.n - 2;
        bool len_hit = kn < 64 ? (sh->top_lens >> kn) & 1 : sh->top_long;
        if (!len_hit && (!any_escape || kn <= sh->top_minlen))
            continue;
        int escaped = -1; /* does this key hold a backslash? decided once, if asked */
        for (uint32_t t = 0; t < ntop; t++) {
            const struct expr_topkey *q = &top[t];
            bool eq;
            if (kn == q->len) {
                eq = kn == 0 || (kp[0] == q->key[0] && memcmp(kp, q->key, kn) == 0);
            } else if (kn > q->len && q->len && (kp[0] == q->key[0] || kp[0] == '\\')) {
                /* an escaped key is never shorter than its text, and matches
                   the text up to its first backslash */
                if (escaped < 0) {
                    escaped = 0;
                    for (size_t i = 0; i < kn && !escaped; i++)
                        escaped = kp[i] == '\\';
                }
                eq = escaped && wire_json_str_eq(kp, kn, q->key, q->len);
            } else {
                eq = false;
            }
            if (eq) {
                expr_slot *s = &sh->slots[q->slot];
                s->found = true;
                s->jv = val;
            }
        }
    }
}

/* A slot of the bound metadata namespace: from the event's fields, not its JSON. */
static const expr_slot *locate_meta(expr_eval *st, expr_slot *s, int16_t field)
{
    s->epoch = st->sh->epoch;
    s->found = false;
    const wire_eval_ctx *ctx = st->ctx;
    if (field >= 0 && ctx->ev)
        s->found = ctx->meta->get(ctx->meta_self, ctx->ev, (unsigned)field, ctx->arena, &s->jv);
    return s;
}

static const expr_slot *locate(expr_eval *st, int32_t slot)
{
    expr_shared *sh = st->sh;
    expr_slot *s = &sh->slots[slot];
    if (s->epoch == sh->epoch)
        return s;
    if (WIRE_UNLIKELY(sh->has_meta) && sh->meta_of[slot] != META_NONE)
        return locate_meta(st, s, sh->meta_of[slot]);
    const expr_path *q = &sh->paths[slot];
    if (q->parent < 0 && q->index < 0 && sh->ntop > 1) {
        locate_top(st);
        if (WIRE_UNLIKELY(sh->meta_root >= 0)) /* the namespace's name is never the JSON's */
            sh->slots[sh->meta_root].found = false;
        return s;
    }
    s->epoch = sh->epoch;
    s->found = false;
    wire_json_val c;
    if (q->parent < 0) {
        if (!event_root(st->ctx->ev, &c))
            return s;
    } else {
        const expr_slot *ps = locate(st, q->parent);
        if (!ps->found)
            return s;
        c = ps->jv;
    }
    if (q->index < 0)
        s->found = c.kind == WIRE_JSON_OBJECT && wire_json_get(c.p, c.n, q->key, q->keylen, &s->jv);
    else
        s->found = c.kind == WIRE_JSON_ARRAY && wire_json_index(c.p, c.n, (size_t)q->index, &s->jv);
    return s;
}

/* The slot's value, converted once per event. */
static const wire_value *lookup(expr_eval *st, int32_t slot)
{
    expr_slot *s = &st->sh->slots[slot];
    locate(st, slot);
    if (s->vepoch != st->sh->epoch) {
        s->vepoch = st->sh->epoch;
        if (s->found)
            wire__expr_json_to_value(&s->jv, &s->v);
        else
            expr_set_null(&s->v);
    }
    return &s->v;
}

/* ---- Strings ---- */

void wire__expr_text(expr_eval *st, const wire_value *v, const char **p, size_t *n)
{
    if (!v->escaped || !memchr(v->s.p, '\\', v->s.n)) {
        *p = v->s.p;
        *n = v->s.n;
        return;
    }
    char *o = wire_arena_alloc_unaligned(st->ctx->arena, v->s.n + 1);
    *n = wire_json_unescape(v->s.p, v->s.n, o);
    o[*n] = '\0';
    *p = o;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static bool str_equal(expr_eval *st, const wire_value *a, const wire_value *b)
{
    bool ae = a->escaped && memchr(a->s.p, '\\', a->s.n);
    bool be = b->escaped && memchr(b->s.p, '\\', b->s.n);
    if (!ae && !be)
        return a->s.n == b->s.n && memcmp(a->s.p, b->s.p, a->s.n) == 0;
    if (ae && !be)
        return wire_json_str_eq(a->s.p, a->s.n, b->s.p, b->s.n);
    if (!ae && be)
        return wire_json_str_eq(b->s.p, b->s.n, a->s.p, a->s.n);
    const char *ap, *bp;
    size_t an, bn;
    wire__expr_text(st, a, &ap, &an);
    wire__expr_text(st, b, &bp, &bn);
    return an == bn && memcmp(ap, bp, an) == 0;
}

static bool is_num(const wire_value *v)
{
    return v->type == WIRE_V_INT || v->type == WIRE_V_DOUBLE;
}
static double num_d(const wire_value *v)
{
    return v->type == WIRE_V_INT ? (double)v->i : v->d;
}

/*
 * Order two values: sets *c to -1/0/1 and returns 1, or returns 0 when they
 * cannot be compared (NULL, different types, objects, NaN).
 */
static int compare(expr_eval *st, const wire_value *a, const wire_value *b, int *c)
{
    if (a->type == WIRE_V_NULL || b->type == WIRE_V_NULL)
        return 0;
    if (a->type == WIRE_V_INT && b->type == WIRE_V_INT) {
        *c = a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
        return 1;
    }
    if (is_num(a) && is_num(b)) {
        if (a->type == WIRE_V_INT || b->type == WIRE_V_INT) {
            /* int vs double: compare exactly, not through a lossy cast of the int */
            int64_t i = a->type == WIRE_V_INT ? a->i : b->i;
            double d = a->type == WIRE_V_INT ? b->d : a->d;
            int r;
            if (isnan(d))
                return 0;
            if (d >= 9223372036854775808.0)
                r = -1;
            else if (d < -9223372036854775808.0)
                r = 1;
            else {
                double fl = floor(d);
                int64_t di = (int64_t)fl;
                if (i < di)
                    r = -1;
                else if (i > di)
                    r = 1;
                else
                    r = fl == d ? 0 : -1;
            }
            *c = a->type == WIRE_V_INT ? r : -r;
            return 1;
        }
        if (isnan(a->d) || isnan(b->d))
            return 0;
        *c = a->d < b->d ? -1 : a->d > b->d ? 1 : 0;
        return 1;
    }
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case WIRE_V_BOOL: *c = (int)a->b - (int)b->b; return 1;
    case WIRE_V_STRING: {
        const char *ap, *bp;
        size_t an, bn;
        wire__expr_text(st, a, &ap, &an);
        wire__expr_text(st, b, &bp, &bn);
        *c = cmp_bytes(ap, an, bp, bn);
        return 1;
    }
    default: return 0;
    }
}

int wire__expr_equal(expr_eval *st, const wire_value *a, const wire_value *b)
{
    if (a->type == WIRE_V_STRING && b->type == WIRE_V_STRING)
        return str_equal(st, a, b);
    if (a->type == WIRE_V_JSON && b->type == WIRE_V_JSON)
        return a->s.n == b->s.n && memcmp(a->s.p, b->s.p, a->s.n) == 0;
    int c;
    if (!compare(st, a, b, &c))
        return -1;
    return c == 0;
}

/* ---- LIKE ---- */

int wire__expr_like_compile(wire_arena *a, const char *pat, size_t n, int esc, bool nocase,
                            expr_like *L, const char **errmsg)
{
    L->lit = wire_arena_alloc_unaligned(a, n + 1);
    L->wild = wire_arena_alloc_unaligned(a, n + 1);
    L->n = 0;
    L->nocase = nocase;
    size_t nany = 0, none = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)pat[i];
        uint8_t w = LIKE_LIT;
        if (esc >= 0 && c == esc) {
            if (++i >= n) {
                *errmsg = "LIKE pattern ends with its escape character";
                return -1;
            }
            c = (unsigned char)pat[i];
        } else if (c == '%') {
            /* %% is the same as % */
            if (L->n && L->wild[L->n - 1] == LIKE_ANY)
                continue;
            w = LIKE_ANY;
            nany++;
        } else if (c == '_') {
            w = LIKE_ONE;
            none++;
        }
        L->lit[L->n] = (char)(nocase ? tolower(c) : c);
        L->wild[L->n] = w;
        L->n++;
    }
    /* Shortcuts for the common shapes: 'x', 'x%', '%x', '%x%'. */
    L->kind = LIKE_GENERAL;
    if (!nocase && none == 0) {
        bool lead = L->n && L->wild[0] == LIKE_ANY;
        bool trail = L->n > (lead ? 1u : 0u) && L->wild[L->n - 1] == LIKE_ANY;
        size_t inner = nany - lead - trail;
        if (inner == 0) {
            L->fixed = L->lit + lead;
            L->fixed_n = L->n - lead - trail;
            L->kind = lead && trail ? LIKE_CONTAINS
                      : lead        ? LIKE_SUFFIX
                      : trail       ? LIKE_PREFIX
                                    : LIKE_EXACT;
        }
    }
    return 0;
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
}

static bool like_match(const expr_like *L, const char *s, size_t sn)
{
    switch (L->kind) {
    case LIKE_EXACT: return sn == L->fixed_n && memcmp(s, L->fixed, sn) == 0;
    case LIKE_PREFIX: return sn >= L->fixed_n && memcmp(s, L->fixed, L->fixed_n) == 0;
    case LIKE_SUFFIX:
        return sn >= L->fixed_n && memcmp(s + sn - L->fixed_n, L->fixed, L->fixed_n) == 0;
    case LIKE_CONTAINS: return L->fixed_n == 0 || memmem(s, sn, L->fixed, L->fixed_n) != NULL;
    default: break;
    }
    /* Greedy matching with backtracking to the last '%': linear in practice. */
    size_t si = 0, pi = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < L->n) {
            uint8_t w = L->wild[pi];
            if (w == LIKE_ANY) {
                star_p = pi++;
                star_s = si;
                continue;
            }
            if (w == LIKE_ONE) {
                si += utf8_len((unsigned char)s[si]);
                if (si > sn)
                    si = sn;
                pi++;
                continue;
            }
            unsigned char c = (unsigned char)s[si];
            if (L->nocase)
                c = (unsigned char)tolower(c);
            if ((char)c == L->lit[pi]) {
                si++;
                pi++;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        pi = star_p + 1;
        star_s += utf8_len((unsigned char)s[star_s]);
        if (star_s > sn)
            return false;
        si = star_s;
    }
    while (pi < L->n && L->wild[pi] == LIKE_ANY)
        pi++;
    return pi == L->n;
}

static int eval_like(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value s, pat;
    int rc;
    if ((rc = wire__expr_eval_node(st, n->kids[0], &s)) < 0)
        return rc;
    expr_like local;
    const expr_like *L = n->aux;
    if (!L) {
        if ((rc = wire__expr_eval_node(st, n->kids[1], &pat)) < 0)
            return rc;
        if (pat.type == WIRE_V_NULL) {
            expr_set_null(out);
            return 0;
        }
        if (pat.type != WIRE_V_STRING)
            return eval_err(st, "LIKE needs a string pattern, got %s", wire__expr_type_name(&pat));
        const char *pp, *msg;
        size_t pn;
        wire__expr_text(st, &pat, &pp, &pn);
        int esc = n->nkids > 2 ? (unsigned char)n->kids[2]->k.s.p[0] : -1;
        if (wire__expr_like_compile(st->ctx->arena, pp, pn, esc, n->simple, &local, &msg) < 0)
            return eval_err(st, "%s", msg);
        L = &local;
    }
    if (s.type != WIRE_V_STRING) {
        /* NULL stays NULL; other types do not match text patterns */
        expr_set_null(out);
        return 0;
    }
    const char *sp;
    size_t sn;
    wire__expr_text(st, &s, &sp, &sn);
    expr_set_bool(out, like_match(L, sp, sn) != (bool)n->neg);
    return 0;
}

static int eval_regex(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value s;
    int rc;
    if ((rc = wire__expr_eval_node(st, n->kids[0], &s)) < 0)
        return rc;
    if (s.type != WIRE_V_STRING) {
        expr_set_null(out);
        return 0;
    }
    const char *sp;
    size_t sn;
    wire__expr_text(st, &s, &sp, &sn);
    const expr_regex *re = n->aux;
    rc = pcre2_match(re->code, (PCRE2_SPTR)sp, sn, 0, 0, re->md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) {
        expr_set_bool(out, n->neg);
        return 0;
    }
    if (rc < 0) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        return eval_err(st, "regex match failed: %s", (const char *)msg);
    }
    expr_set_bool(out, !n->neg);
    return 0;
}

/* ---- Arithmetic ---- */

static int arith(expr_eval *st, int op, const wire_value *a, const wire_value *b, wire_value *out)
{
    static const char *const names[] = {
        [OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_DIV] = "/", [OP_MOD] = "%"};
    if (a->type == WIRE_V_NULL || b->type == WIRE_V_NULL) {
        expr_set_null(out);
        return 0;
    }
    if (!is_num(a) || !is_num(b))
        return eval_err(st, "operator %s needs numbers, got %s and %s", names[op],
                        wire__expr_type_name(a), wire__expr_type_name(b));
    if (a->type == WIRE_V_INT && b->type == WIRE_V_INT) {
        int64_t x = a->i, y = b->i, r;
        switch (op) {
        case OP_ADD:
            if (!__builtin_add_overflow(x, y, &r)) {
                expr_set_int(out, r);
                return 0;
            }
            break;
        case OP_SUB:
            if (!__builtin_sub_overflow(x, y, &r)) {
                expr_set_int(out, r);
                return 0;
            }
            break;
        case OP_MUL:
            if (!__builtin_mul_overflow(x, y, &r)) {
                expr_set_int(out, r);
                return 0;
            }
            break;
        case OP_DIV:
        case OP_MOD:
            if (y == 0)
                return eval_err(st, "division by zero");
            if (x == INT64_MIN && y == -1) {
                if (op == OP_MOD) {
                    expr_set_int(out, 0);
                    return 0;
                }
                break; /* overflows: falls to double */
            }
            expr_set_int(out, op == OP_DIV ? x / y : x % y);
            return 0;
        }
        /* int64 overflow: the result becomes a double, as in JSON */
    }
    double x = num_d(a), y = num_d(b), r;
    switch (op) {
    case OP_ADD: r = x + y; break;
    case OP_SUB: r = x - y; break;
    case OP_MUL: r = x * y; break;
    case OP_DIV:
        if (y == 0)
            return eval_err(st, "division by zero");
        r = x / y;
        break;
    default:
        if (y == 0)
            return eval_err(st, "division by zero");
        r = fmod(x, y);
        break;
    }
    expr_set_double(out, r);
    return 0;
}

/* A condition operand: 1 true, 0 false, -1 NULL; errors for non-booleans. */
static int truth(expr_eval *st, const expr_node *n, const char *what, int *t)
{
    wire_value v;
    int rc;
    if ((rc = wire__expr_eval_node(st, n, &v)) < 0)
        return rc;
    if (v.type == WIRE_V_NULL)
        *t = -1;
    else if (v.type == WIRE_V_BOOL)
        *t = v.b;
    else
        return eval_err(st, "%s needs a boolean, got %s", what, wire__expr_type_name(&v));
    return 0;
}

static void set_tristate(wire_value *out, int t)
{
    if (t < 0)
        expr_set_null(out);
    else
        expr_set_bool(out, t);
}

static int eval_in(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value x, v;
    int rc;
    if ((rc = wire__expr_eval_node(st, n->kids[0], &x)) < 0)
        return rc;
    if (x.type == WIRE_V_NULL) {
        expr_set_null(out);
        return 0;
    }
    bool unknown = false;
    for (uint32_t i = 1; i < n->nkids; i++) {
        if ((rc = wire__expr_eval_node(st, n->kids[i], &v)) < 0)
            return rc;
        int eq = wire__expr_equal(st, &x, &v);
        if (eq == 1) {
            expr_set_bool(out, !n->neg);
            return 0;
        }
        if (eq < 0)
            unknown = true;
    }
    /* SQL: no match but a NULL (or incomparable) in the list is unknown */
    if (unknown)
        expr_set_null(out);
    else
        expr_set_bool(out, n->neg);
    return 0;
}

static int eval_case(expr_eval *st, const expr_node *n, wire_value *out)
{
    int rc;
    uint32_t i = 0, arms_end = n->nkids - (n->has_else ? 1 : 0);
    wire_value subject;
    if (n->simple) {
        if ((rc = wire__expr_eval_node(st, n->kids[0], &subject)) < 0)
            return rc;
        i = 1;
    }
    for (; i + 1 < arms_end; i += 2) {
        bool hit;
        if (n->simple) {
            wire_value w;
            if ((rc = wire__expr_eval_node(st, n->kids[i], &w)) < 0)
                return rc;
            hit = wire__expr_equal(st, &subject, &w) == 1;
        } else {
            int t;
            if ((rc = truth(st, n->kids[i], "WHEN", &t)) < 0)
                return rc;
            hit = t == 1;
        }
        if (hit)
            return wire__expr_eval_node(st, n->kids[i + 1], out);
    }
    if (n->has_else)
        return wire__expr_eval_node(st, n->kids[n->nkids - 1], out);
    expr_set_null(out);
    return 0;
}

static int eval_concat_op(expr_eval *st, const wire_value *a, const wire_value *b, wire_value *out)
{
    /* SQL ||: NULL if either side is NULL; non-strings are errors */
    if (a->type == WIRE_V_NULL || b->type == WIRE_V_NULL) {
        expr_set_null(out);
        return 0;
    }
    if (a->type != WIRE_V_STRING || b->type != WIRE_V_STRING)
        return eval_err(st, "operator || needs strings, got %s and %s (concat() converts)",
                        wire__expr_type_name(a), wire__expr_type_name(b));
    const char *ap, *bp;
    size_t an, bn;
    wire__expr_text(st, a, &ap, &an);
    wire__expr_text(st, b, &bp, &bn);
    char *o = wire_arena_alloc_unaligned(st->ctx->arena, an + bn + 1);
    memcpy(o, ap, an);
    memcpy(o + an, bp, bn);
    o[an + bn] = '\0';
    expr_set_str(out, o, an + bn, false);
    return 0;
}

int wire__expr_eval_node(expr_eval *st, const expr_node *n, wire_value *out)
{
    int rc;
    switch (n->op) {
    case OP_CONST: *out = n->k; return 0;
    case OP_FIELD: *out = *lookup(st, n->slot); return 0;
    case OP_EQ_STR: {
        wire_value v;
        if (n->kids[0]->op == OP_FIELD) {
            v = *lookup(st, n->slot);
        } else if ((rc = wire__expr_eval_node(st, n->kids[0], &v)) < 0) {
            return rc;
        }
        if (v.type != WIRE_V_STRING)
            expr_set_null(out);
        else if (v.escaped)
            expr_set_bool(out, wire_json_str_eq(v.s.p, v.s.n, n->k.s.p, n->k.s.n));
        else
            expr_set_bool(out, v.s.n == n->k.s.n && memcmp(v.s.p, n->k.s.p, v.s.n) == 0);
        return 0;
    }
    case OP_NOT: {
        int t;
        if ((rc = truth(st, n->kids[0], "NOT", &t)) < 0)
            return rc;
        set_tristate(out, t < 0 ? -1 : !t);
        return 0;
    }
    case OP_AND:
    case OP_OR: {
        const char *what = n->op == OP_AND ? "AND" : "OR";
        int a, b;
        if ((rc = truth(st, n->kids[0], what, &a)) < 0)
            return rc;
        /* short circuit: false AND x = false, true OR x = true */
        if (n->op == OP_AND && a == 0) {
            expr_set_bool(out, false);
            return 0;
        }
        if (n->op == OP_OR && a == 1) {
            expr_set_bool(out, true);
            return 0;
        }
        if ((rc = truth(st, n->kids[1], what, &b)) < 0)
            return rc;
        if (n->op == OP_AND)
            set_tristate(out, b == 0 ? 0 : (a < 0 || b < 0) ? -1 : 1);
        else
            set_tristate(out, b == 1 ? 1 : (a < 0 || b < 0) ? -1 : 0);
        return 0;
    }
    case OP_NEG: {
        wire_value v;
        if ((rc = wire__expr_eval_node(st, n->kids[0], &v)) < 0)
            return rc;
        if (v.type == WIRE_V_NULL)
            expr_set_null(out);
        else if (v.type == WIRE_V_INT && v.i != INT64_MIN)
            expr_set_int(out, -v.i);
        else if (is_num(&v))
            expr_set_double(out, -num_d(&v));
        else
            return eval_err(st, "unary - needs a number, got %s", wire__expr_type_name(&v));
        return 0;
    }
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: {
        wire_value a, b;
        if ((rc = wire__expr_eval_node(st, n->kids[0], &a)) < 0 ||
            (rc = wire__expr_eval_node(st, n->kids[1], &b)) < 0)
            return rc;
        if (n->op == OP_EQ || n->op == OP_NE) {
            int eq = wire__expr_equal(st, &a, &b);
            set_tristate(out, eq < 0 ? -1 : n->op == OP_EQ ? eq : !eq);
            return 0;
        }
        int c;
        if (!compare(st, &a, &b, &c)) {
            expr_set_null(out);
            return 0;
        }
        bool r = n->op == OP_LT ? c < 0 : n->op == OP_LE ? c <= 0 : n->op == OP_GT ? c > 0 : c >= 0;
        expr_set_bool(out, r);
        return 0;
    }
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_CONCAT: {
        wire_value a, b;
        if ((rc = wire__expr_eval_node(st, n->kids[0], &a)) < 0 ||
            (rc = wire__expr_eval_node(st, n->kids[1], &b)) < 0)
            return rc;
        if (n->op == OP_CONCAT)
            return eval_concat_op(st, &a, &b, out);
        return arith(st, n->op, &a, &b, out);
    }
    case OP_ISNULL: {
        wire_value v;
        if ((rc = wire__expr_eval_node(st, n->kids[0], &v)) < 0)
            return rc;
        expr_set_bool(out, (v.type == WIRE_V_NULL) != (bool)n->neg);
        return 0;
    }
    case OP_IN: return eval_in(st, n, out);
    case OP_LIKE: return eval_like(st, n, out);
    case OP_REGEX: return eval_regex(st, n, out);
    case OP_CASE: return eval_case(st, n, out);
    case OP_FUNC: return n->func->fn(st, n, out);
    default: return eval_err(st, "internal error: bad expression node %d", n->op);
    }
}

/* ---- Entry points ---- */

int wire_expr_eval(const wire_expr *e, wire_eval_ctx *ctx, wire_value *out, wire_err *err)
{
    expr_eval st;
    wire__expr_begin(&st, e, ctx, err);
    int rc = wire__expr_eval_node(&st, e->root, out);
    if (rc < 0)
        expr_set_null(out);
    return rc;
}

/*
 * Does `a` (an >= 1 bytes) or `b` (bn >= 1) occur in h[0, n)? One pass:
 * sixteen candidate positions at a time are those whose first and last bytes
 * match (SSE2), then confirmed with memcmp. Several times faster than two
 * memmem calls on short lines.
 */
static bool occurs_either(const char *h, size_t n, const char *a, size_t an, const char *b,
                          size_t bn)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i a0 = _mm_set1_epi8(a[0]), a1 = _mm_set1_epi8(a[an - 1]);
    const __m128i b0 = _mm_set1_epi8(b[0]), b1 = _mm_set1_epi8(b[bn - 1]);
    size_t span = (an > bn ? an : bn) - 1;
    for (; i + span + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
        __m128i ya = _mm_loadu_si128((const __m128i *)(const void *)(h + i + an - 1));
        __m128i yb = _mm_loadu_si128((const __m128i *)(const void *)(h + i + bn - 1));
        unsigned ma = (unsigned)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(x, a0), _mm_cmpeq_epi8(ya, a1)));
        unsigned mb = (unsigned)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(x, b0), _mm_cmpeq_epi8(yb, b1)));
        for (; ma; ma &= ma - 1)
            if (memcmp(h + i + __builtin_ctz(ma), a, an) == 0)
                return true;
        for (; mb; mb &= mb - 1)
            if (memcmp(h + i + __builtin_ctz(mb), b, bn) == 0)
                return true;
    }
#endif
    for (; i < n; i++) {
        if (h[i] == a[0] && n - i >= an && memcmp(h + i, a, an) == 0)
            return true;
        if (h[i] == b[0] && n - i >= bn && memcmp(h + i, b, bn) == 0)
            return true;
    }
    return false;
}

/*
 * True when no JSON string in the event can decode to the literal, so
 * `field = 'literal'` cannot be true: the literal's bytes occur nowhere, and
 * no escape that could spell them does. A string body without backslashes
 * equal to the literal is the literal's bytes; one with backslashes must hold
 * `\u` unless the literal has a character with a short escape (" \ / and
 * control characters; `short_esc`), in which case any backslash counts.
 * One SIMD pass instead of a structural scan: most log lines do not mention
 * the value a filter looks for at all.
 */
static bool literal_impossible(const wire_event *ev, const wire_value *lit, bool short_esc)
{
    if (lit->s.n == 0)
        return false;
    return !occurs_either(ev->data, ev->len, lit->s.p, lit->s.n, "\\u", short_esc ? 1 : 2);
}

int wire_expr_eval_bool(const wire_expr *e, wire_eval_ctx *ctx, wire_err *err)
{
    const expr_node *r = e->root;
    const wire_event *ev = ctx->ev;
    /*
     * A condition that needs `field = 'literal'` (alone or ANDed) cannot be
     * true when the literal occurs nowhere in the event: answer 0 without a
     * structural scan. False and NULL are the same answer here; errors the
     * other conjuncts might have raised are not looked for.
     */
    if (ev) {
        for (uint32_t i = 0; i < e->npre; i++)
            if (literal_impossible(ev, &e->pre[i]->k, e->pre[i]->simple))
                return 0;
    }
    /*
     * The common filter, a top-level field equal to a literal: one scan of
     * the event and a comparison of the escaped bytes, nothing else.
     */
    if (r->op == OP_EQ_STR && r->kids[0]->op == OP_FIELD) {
        const expr_path *q = &e->sh->paths[r->slot];
        if (WIRE_UNLIKELY(ctx->meta != e->sh->meta)) {
            bind_meta(e->sh, ctx->meta);
            ctx->cache = NULL;
        }
        if (q->parent < 0 && q->index < 0 &&
            !(e->sh->has_meta && e->sh->meta_of[r->slot] != META_NONE)) {
            wire_json_val v;
            if (!ev || !wire_json_get(ev->data, ev->len, q->key, q->keylen, &v) ||
                v.kind != WIRE_JSON_STRING)
                return 0;
            return wire_json_str_eq(v.p + 1, v.n - 2, r->k.s.p, r->k.s.n);
        }
    }
    wire_value v;
    int rc = wire_expr_eval(e, ctx, &v, err);
    if (rc < 0)
        return rc;
    if (v.type == WIRE_V_BOOL)
        return v.b;
    if (v.type == WIRE_V_NULL)
        return 0;
    return wire_errf(err, WIRE_ETYPE, "condition must be a boolean, got %s",
                     wire__expr_type_name(&v));
}

bool wire_expr_is_field(const wire_expr *e)
{
    return e && e->root->op == OP_FIELD;
}

int wire_expr_field_raw(const wire_expr *e, wire_eval_ctx *ctx, wire_json_val *raw)
{
    expr_eval st;
    wire__expr_begin(&st, e, ctx, NULL);
    const expr_slot *s = locate(&st, e->root->slot);
    if (!s->found) {
        raw->kind = WIRE_JSON_INVALID;
        raw->p = NULL;
        raw->n = 0;
        return 0;
    }
    *raw = s->jv;
    return 1;
}

/* ---- Output ---- */

size_t wire__expr_fmt_double(double d, char out[32])
{
    if (!isfinite(d)) {
        memcpy(out, "null", 5);
        return 4;
    }
    /* shortest of %.15g..%.17g that reads back exactly */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return (size_t)n;
}

void wire_value_write_json(wire_buf *b, const wire_value *v)
{
    switch (v->type) {
    case WIRE_V_NULL: wire_buf_append(b, "null", 4); break;
    case WIRE_V_BOOL:
        if (v->b)
            wire_buf_append(b, "true", 4);
        else
            wire_buf_append(b, "false", 5);
        break;
    case WIRE_V_INT: wire_json_write_int(b, v->i); break;
    case WIRE_V_DOUBLE: wire_json_write_double(b, v->d); break;
    case WIRE_V_STRING:
        if (v->escaped) {
            wire_buf_reserve(b, v->s.n + 2);
            b->p[b->len++] = '"';
            memcpy(b->p + b->len, v->s.p, v->s.n);
            b->len += v->s.n;
            b->p[b->len++] = '"';
            b->p[b->len] = '\0';
        } else {
            wire_json_write_str(b, v->s.p, v->s.n);
        }
        break;
    default: wire_buf_append(b, v->s.p, v->s.n); break;
    }
}
