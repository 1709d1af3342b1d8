/*
 * expr_func.c — the built-in functions of the expression language and their
 * table: lower upper length concat substr coalesce abs round now_ms
 * to_timestamp json_extract event_id.
 *
 * Functions get their node and evaluate arguments themselves, so coalesce()
 * stops at the first non-NULL one. A NULL argument gives NULL unless the
 * function says otherwise (concat skips NULLs, coalesce picks past them).
 * Text results go to the evaluation arena. Documented in docs/expressions.md.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/expr_impl.h"

static int ferr(expr_eval *st, const char *fmt, ...) WIRE_PRINTF(2, 3);
static int ferr(expr_eval *st, const char *fmt, ...)
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

static int arg(expr_eval *st, const expr_node *n, uint32_t i, wire_value *v)
{
    return wire__expr_eval_node(st, n->kids[i], v);
}

static int want(expr_eval *st, const expr_node *n, const wire_value *v, const char *what)
{
    return ferr(st, "%s() needs %s, got %s", n->func->name, what, wire__expr_type_name(v));
}

/* An integer argument: ints, or doubles with an integral value. */
static int int_arg(expr_eval *st, const expr_node *n, const wire_value *v, int64_t *out)
{
    if (v->type == WIRE_V_INT) {
        *out = v->i;
        return 0;
    }
    if (v->type == WIRE_V_DOUBLE && v->d == floor(v->d) && fabs(v->d) < 9.0e18) {
        *out = (int64_t)v->d;
        return 0;
    }
    return want(st, n, v, "an integer");
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
}

static size_t utf8_count(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)p[i] & 0xC0) != 0x80;
    return c;
}

/* lower()/upper(): ASCII letters only. Work on the escaped form directly,
   leaving escape sequences as they are, so the result stays escaped. */
static int change_case(expr_eval *st, const expr_node *n, wire_value *out, bool up)
{
    wire_value v;
    int rc;
    if ((rc = arg(st, n, 0, &v)) < 0)
        return rc;
    if (v.type == WIRE_V_NULL) {
        expr_set_null(out);
        return 0;
    }
    if (v.type != WIRE_V_STRING)
        return want(st, n, &v, "a string");
    char *o = wire_arena_alloc_unaligned(st->ctx->arena, v.s.n + 1);
    for (size_t i = 0; i < v.s.n; i++) {
        char c = v.s.p[i];
        if (c == '\\' && v.escaped && i + 1 < v.s.n) {
            size_t len = v.s.p[i + 1] == 'u' ? 6 : 2;
            if (i + len > v.s.n)
                len = v.s.n - i;
            memcpy(o + i, v.s.p + i, len);
            i += len - 1;
            continue;
        }
        o[i] = (char)(up ? toupper((unsigned char)c) : tolower((unsigned char)c));
    }
    o[v.s.n] = '\0';
    expr_set_str(out, o, v.s.n, v.escaped);
    return 0;
}

static int fn_lower(expr_eval *st, const expr_node *n, wire_value *out)
{
    return change_case(st, n, out, false);
}
static int fn_upper(expr_eval *st, const expr_node *n, wire_value *out)
{
    return change_case(st, n, out, true);
}

static int fn_length(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value v;
    int rc;
    if ((rc = arg(st, n, 0, &v)) < 0)
        return rc;
    if (v.type == WIRE_V_NULL) {
        expr_set_null(out);
        return 0;
    }
    if (v.type == WIRE_V_STRING) {
        const char *p;
        size_t len;
        wire__expr_text(st, &v, &p, &len);
        expr_set_int(out, (int64_t)utf8_count(p, len));
        return 0;
    }
    if (v.type == WIRE_V_JSON) {
        wire_json_val c;
        wire_json_value(v.s.p, v.s.n, &c);
        wire_json_iter it;
        wire_json_iter_init(&it, &c);
        wire_json_val k, x;
        int64_t count = 0;
        while (wire_json_iter_next(&it, &k, &x))
            count++;
        expr_set_int(out, count);
        return 0;
    }
    return want(st, n, &v, "a string, array or object");
}

/* Text of any scalar for concat(): numbers and booleans as JSON writes them. */
static void any_text(expr_eval *st, const wire_value *v, const char **p, size_t *len)
{
    char buf[32];
    switch (v->type) {
    case WIRE_V_STRING: wire__expr_text(st, v, p, len); return;
    case WIRE_V_BOOL:
        *p = v->b ? "true" : "false";
        *len = v->b ? 4 : 5;
        return;
    case WIRE_V_INT: *len = (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)v->i); break;
    case WIRE_V_DOUBLE: *len = wire__expr_fmt_double(v->d, buf); break;
    case WIRE_V_JSON:
        *p = v->s.p;
        *len = v->s.n;
        return;
    default:
        *p = "";
        *len = 0;
        return;
    }
    *p = wire_arena_strndup(st->ctx->arena, buf, *len);
}

static int fn_concat(expr_eval *st, const expr_node *n, wire_value *out)
{
    const char *ps[UINT8_MAX];
    size_t ls[UINT8_MAX], total = 0;
    int rc;
    for (uint32_t i = 0; i < n->nkids; i++) {
        wire_value v;
        if ((rc = arg(st, n, i, &v)) < 0)
            return rc;
        any_text(st, &v, &ps[i], &ls[i]); /* NULL contributes nothing */
        total += ls[i];
    }
    char *o = wire_arena_alloc_unaligned(st->ctx->arena, total + 1);
    size_t at = 0;
    for (uint32_t i = 0; i < n->nkids; i++) {
        memcpy(o + at, ps[i], ls[i]);
        at += ls[i];
    }
    o[at] = '\0';
    expr_set_str(out, o, total, false);
    return 0;
}

/* substr(s, start[, len]): 1-based, in characters, as in PostgreSQL. */
static int fn_substr(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value v, a, b;
    int rc;
    int64_t start, len = INT64_MAX;
    if ((rc = arg(st, n, 0, &v)) < 0 || (rc = arg(st, n, 1, &a)) < 0)
        return rc;
    if (n->nkids > 2 && (rc = arg(st, n, 2, &b)) < 0)
        return rc;
    if (v.type == WIRE_V_NULL || a.type == WIRE_V_NULL || (n->nkids > 2 && b.type == WIRE_V_NULL)) {
        expr_set_null(out);
        return 0;
    }
    if (v.type != WIRE_V_STRING)
        return want(st, n, &v, "a string");
    if ((rc = int_arg(st, n, &a, &start)) < 0)
        return rc;
    if (n->nkids > 2) {
        if ((rc = int_arg(st, n, &b, &len)) < 0)
            return rc;
        if (len < 0)
            return ferr(st, "substr() length must not be negative, got %lld", (long long)len);
    }
    /* characters [start, start+len) intersected with [1, n] */
    int64_t from = start < 1 ? 1 : start;
    int64_t to; /* exclusive */
    if (__builtin_add_overflow(start, len, &to))
        to = INT64_MAX;
    const char *p;
    size_t tn;
    wire__expr_text(st, &v, &p, &tn);
    size_t i = 0, bfrom = tn, bto = tn;
    int64_t ch = 1;
    for (; i < tn; ch++) {
        if (ch == from)
            bfrom = i;
        if (ch == to) {
            bto = i;
            break;
        }
        i += utf8_len((unsigned char)p[i]);
        if (i > tn)
            i = tn;
    }
    if (to <= from || bfrom >= tn) {
        expr_set_str(out, "", 0, false);
        return 0;
    }
    expr_set_str(out, p + bfrom, bto - bfrom, false);
    return 0;
}

static int fn_coalesce(expr_eval *st, const expr_node *n, wire_value *out)
{
    int rc;
    for (uint32_t i = 0; i < n->nkids; i++) {
        if ((rc = arg(st, n, i, out)) < 0)
            return rc;
        if (out->type != WIRE_V_NULL)
            return 0;
    }
    expr_set_null(out);
    return 0;
}

static int fn_abs(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value v;
    int rc;
    if ((rc = arg(st, n, 0, &v)) < 0)
        return rc;
    if (v.type == WIRE_V_NULL)
        expr_set_null(out);
    else if (v.type == WIRE_V_INT && v.i != INT64_MIN)
        expr_set_int(out, v.i < 0 ? -v.i : v.i);
    else if (v.type == WIRE_V_INT)
        expr_set_double(out, 9223372036854775808.0);
    else if (v.type == WIRE_V_DOUBLE)
        expr_set_double(out, fabs(v.d));
    else
        return want(st, n, &v, "a number");
    return 0;
}

/*
 * round(x): half away from zero, to an integer (an int when it fits).
 * round(x, d): to d decimal places (a double; d < 0 rounds to tens, hundreds).
 */
static int fn_round(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value v, dv;
    int rc;
    int64_t digits = 0;
    if ((rc = arg(st, n, 0, &v)) < 0)
        return rc;
    if (n->nkids > 1 && (rc = arg(st, n, 1, &dv)) < 0)
        return rc;
    if (v.type == WIRE_V_NULL || (n->nkids > 1 && dv.type == WIRE_V_NULL)) {
        expr_set_null(out);
        return 0;
    }
    if (v.type != WIRE_V_INT && v.type != WIRE_V_DOUBLE)
        return want(st, n, &v, "a number");
    if (n->nkids > 1 && (rc = int_arg(st, n, &dv, &digits)) < 0)
        return rc;
    if (digits > 300 || digits < -300)
        return ferr(st, "round() digits out of range: %lld", (long long)digits);
    if (v.type == WIRE_V_INT && digits >= 0) {
        *out = v;
        return 0;
    }
    double x = v.type == WIRE_V_INT ? (double)v.i : v.d;
    double r;
    if (digits == 0) {
        r = round(x);
        if (r >= -9.2e18 && r <= 9.2e18) {
            expr_set_int(out, (int64_t)r);
            return 0;
        }
    } else if (digits > 0) {
        double m = pow(10.0, (double)digits);
        r = round(x * m) / m;
        if (!isfinite(r))
            r = x;
    } else {
        double m = pow(10.0, (double)-digits);
        r = round(x / m) * m;
        if (v.type == WIRE_V_INT && r >= -9.2e18 && r <= 9.2e18) {
            expr_set_int(out, (int64_t)r);
            return 0;
        }
    }
    expr_set_double(out, r);
    return 0;
}

static int fn_now_ms(expr_eval *st, const expr_node *n, wire_value *out)
{
    expr_set_int(out, st->ctx->now_ms ? st->ctx->now_ms : wire_now_ms());
    return 0;
}

/* ---- Time: proleptic Gregorian calendar, UTC (H. Hinnant's algorithms) ---- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static bool digits_at(const char *p, size_t n, size_t at, int count, int64_t *out)
{
    int64_t v = 0;
    if (at + (size_t)count > n)
        return false;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)p[at + i]))
            return false;
        v = v * 10 + (p[at + i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 (and the date-only and no-zone forms people write) -> ms since the epoch. */
bool wire_time_parse_rfc3339(const char *p, size_t n, int64_t *ms)
{
    int64_t y, mo, d, h = 0, mi = 0, s = 0, frac = 0, off = 0;
    size_t i = 0;
    if (!digits_at(p, n, 0, 4, &y) || n < 10 || p[4] != '-' || !digits_at(p, n, 5, 2, &mo) ||
        p[7] != '-' || !digits_at(p, n, 8, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    i = 10;
    if (i < n) {
        if (p[i] != 'T' && p[i] != 't' && p[i] != ' ')
            return false;
        if (!digits_at(p, n, i + 1, 2, &h) || i + 3 >= n || p[i + 3] != ':' ||
            !digits_at(p, n, i + 4, 2, &mi) || i + 6 >= n || p[i + 6] != ':' ||
            !digits_at(p, n, i + 7, 2, &s))
            return false;
        if (h > 23 || mi > 59 || s > 60)
            return false;
        i += 9;
        if (i < n && p[i] == '.') {
            i++;
            int nd = 0;
            while (i < n && isdigit((unsigned char)p[i])) {
                if (nd < 3)
                    frac = frac * 10 + (p[i] - '0');
                nd++;
                i++;
            }
            if (nd == 0)
                return false;
            for (; nd < 3; nd++)
                frac *= 10;
        }
        if (i < n) {
            if (p[i] == 'Z' || p[i] == 'z') {
                i++;
            } else if (p[i] == '+' || p[i] == '-') {
                int64_t oh, om;
                int sign = p[i] == '-' ? -1 : 1;
                if (!digits_at(p, n, i + 1, 2, &oh))
                    return false;
                size_t j = i + 3;
                if (j < n && p[j] == ':')
                    j++;
                if (!digits_at(p, n, j, 2, &om) || oh > 23 || om > 59)
                    return false;
                off = sign * (oh * 60 + om);
                i = j + 2;
            } else {
                return false;
            }
        }
        if (i != n)
            return false;
    }
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + s) - off * 60) * 1000 + frac;
    return true;
}

/*
 * to_timestamp(x): a number (ms since the epoch) becomes an RFC 3339 string
 * in UTC with milliseconds ("2026-11-29T07:47:38.123Z"); a string in RFC 3339
 * becomes ms since the epoch. An unparseable string gives NULL.
 */
static int fn_to_timestamp(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value v;
    int rc;
    if ((rc = arg(st, n, 0, &v)) < 0)
        return rc;
    if (v.type == WIRE_V_NULL) {
        expr_set_null(out);
        return 0;
    }
    if (v.type == WIRE_V_STRING) {
        const char *p;
        size_t len;
        int64_t ms;
        wire__expr_text(st, &v, &p, &len);
        if (wire_time_parse_rfc3339(p, len, &ms))
            expr_set_int(out, ms);
        else
            expr_set_null(out);
        return 0;
    }
    if (v.type != WIRE_V_INT && v.type != WIRE_V_DOUBLE)
        return want(st, n, &v, "a number of milliseconds or an RFC 3339 string");
    double dms = v.type == WIRE_V_INT ? (double)v.i : floor(v.d);
    /* years 0000..9999 only: RFC 3339 has four-digit years */
    if (!(dms >= -62167219200000.0 && dms <= 253402300799999.0)) {
        expr_set_null(out);
        return 0;
    }
    int64_t ms = v.type == WIRE_V_INT ? v.i : (int64_t)dms;
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    char *o = wire_arena_alloc_unaligned(st->ctx->arena, 32);
    int len = snprintf(o, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d,
                       (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                       (int)(rem % 1000));
    expr_set_str(out, o, (size_t)len, false);
    return 0;
}

/* ---- json_extract ---- */

/*
 * Paths: '$.a.b[0]', "$['odd key'][2]", or the field-path form 'a.b[0]'.
 * '$' or '' is the whole value.
 */
int wire__expr_jpath_parse(wire_arena *a, const char *s, size_t n, expr_jpath *out)
{
    size_t cap = 1;
    for (size_t i = 0; i < n; i++)
        cap += s[i] == '.' || s[i] == '[';
    out->seg = wire_arena_alloc(a, cap * sizeof(*out->seg));
    out->n = 0;
    size_t i = 0;
    if (i < n && s[i] == '$')
        i++;
    else if (i < n && s[i] != '[' && s[i] != '.')
        goto name; /* path form: starts with a name */
    while (i < n) {
        if (s[i] == '.') {
            i++;
        name:;
            size_t st = i;
            while (i < n && s[i] != '.' && s[i] != '[')
                i++;
            if (i == st)
                return -1;
            out->seg[out->n++] = (expr_jseg){s + st, i - st, 0};
        } else if (s[i] == '[') {
            i++;
            if (i < n && (s[i] == '\'' || s[i] == '"')) {
                char q = s[i++];
                size_t st = i;
                while (i < n && s[i] != q)
                    i++;
                if (i + 1 >= n || s[i + 1] != ']')
                    return -1;
                out->seg[out->n++] = (expr_jseg){s + st, i - st, 0};
                i += 2;
            } else {
                size_t idx = 0, st = i;
                while (i < n && isdigit((unsigned char)s[i])) {
                    if (idx > (SIZE_MAX - 9) / 10)
                        return -1;
                    idx = idx * 10 + (size_t)(s[i] - '0');
                    i++;
                }
                if (i == st || i >= n || s[i] != ']')
                    return -1;
                i++;
                out->seg[out->n++] = (expr_jseg){NULL, 0, idx};
            }
        } else {
            return -1;
        }
    }
    return 0;
}

static int fn_json_extract(expr_eval *st, const expr_node *n, wire_value *out)
{
    wire_value v, pv;
    int rc;
    if ((rc = arg(st, n, 0, &v)) < 0)
        return rc;
    expr_jpath local;
    const expr_jpath *jp = n->aux;
    if (!jp) {
        if ((rc = arg(st, n, 1, &pv)) < 0)
            return rc;
        if (pv.type == WIRE_V_NULL) {
            expr_set_null(out);
            return 0;
        }
        if (pv.type != WIRE_V_STRING)
            return want(st, n, &pv, "a string path");
        const char *p;
        size_t len;
        wire__expr_text(st, &pv, &p, &len);
        if (wire__expr_jpath_parse(st->ctx->arena, p, len, &local) < 0)
            return ferr(st, "json_extract(): invalid path '%.*s'", (int)(len > 60 ? 60 : len), p);
        jp = &local;
    }
    wire_json_val cur;
    if (v.type == WIRE_V_JSON) {
        cur.kind = v.s.p[0] == '[' ? WIRE_JSON_ARRAY : WIRE_JSON_OBJECT;
        cur.p = v.s.p;
        cur.n = v.s.n;
    } else if (v.type == WIRE_V_STRING) {
        /* a string holding JSON text, as logs often embed it */
        const char *p;
        size_t len;
        wire__expr_text(st, &v, &p, &len);
        if (wire_json_validate(p, len, NULL) != 0 || !wire_json_value(p, len, &cur)) {
            expr_set_null(out);
            return 0;
        }
    } else {
        expr_set_null(out);
        return 0;
    }
    for (size_t i = 0; i < jp->n; i++) {
        const expr_jseg *sg = &jp->seg[i];
        wire_json_val next;
        int ok = sg->key ? cur.kind == WIRE_JSON_OBJECT &&
                               wire_json_get(cur.p, cur.n, sg->key, sg->keylen, &next)
                         : cur.kind == WIRE_JSON_ARRAY &&
                               wire_json_index(cur.p, cur.n, sg->index, &next);
        if (!ok) {
            expr_set_null(out);
            return 0;
        }
        cur = next;
    }
    wire__expr_json_to_value(&cur, out);
    return 0;
}

static int fn_event_id(expr_eval *st, const expr_node *n, wire_value *out)
{
    const wire_eval_ctx *c = st->ctx;
    if (!c->ev || !c->batch) {
        expr_set_null(out);
        return 0;
    }
    char *o = wire_arena_alloc_unaligned(c->arena, 37);
    wire_event_id(c->ev, c->batch, c->id_seed, o);
    expr_set_str(out, o, 36, false);
    return 0;
}

static const expr_func funcs[] = {
    {"lower", 1, 1, true, fn_lower},
    {"upper", 1, 1, true, fn_upper},
    {"length", 1, 1, true, fn_length},
    {"concat", 1, UINT8_MAX, true, fn_concat},
    {"substr", 2, 3, true, fn_substr},
    {"coalesce", 1, UINT8_MAX, true, fn_coalesce},
    {"abs", 1, 1, true, fn_abs},
    {"round", 1, 2, true, fn_round},
    {"now_ms", 0, 0, false, fn_now_ms},
    {"to_timestamp", 1, 1, true, fn_to_timestamp},
    {"json_extract", 2, 2, true, fn_json_extract},
    {"event_id", 0, 0, false, fn_event_id},
};

const expr_func *wire__expr_func_find(const char *name, size_t n)
{
    for (size_t i = 0; i < WIRE_ARRAY_LEN(funcs); i++)
        if (strlen(funcs[i].name) == n && strncasecmp(funcs[i].name, name, n) == 0)
            return &funcs[i];
    return NULL;
}

int wire__expr_func_check(wire_arena *a, expr_node *n, wire_err *err)
{
    if (n->func->fn == fn_json_extract) {
        const expr_node *p = n->kids[1];
        if (p->op == OP_CONST && p->k.type == WIRE_V_STRING) {
            expr_jpath *jp = wire_arena_alloc(a, sizeof(*jp));
            if (wire__expr_jpath_parse(a, p->k.s.p, p->k.s.n, jp) < 0)
                return wire_errf_at(err, WIRE_EPARSE, p->off,
                                    "json_extract(): invalid path; write '$.a.b[0]' or 'a.b[0]'");
            n->aux = jp;
        } else if (p->op == OP_CONST && p->k.type != WIRE_V_NULL) {
            return wire_errf_at(err, WIRE_EPARSE, p->off,
                                "json_extract() needs a string path, got %s",
                                wire__expr_type_name(&p->k));
        }
    }
    return 0;
}
