/*
 * json_oracle.h — what the JSON unit test and the JSON fuzzer check Wire's
 * scanner against: an independent RFC 8259 reference validator, cJSON (with
 * its known leniencies classified), and a walk comparing Wire's lazy view of
 * a document with cJSON's tree. Header-only (static functions): it is
 * included by tests/unit/test_json.c and fuzz/fuzz_json.c, nothing else.
 */
#ifndef WIRE_JSON_ORACLE_H
#define WIRE_JSON_ORACLE_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* ---------------------------------------------------------------------------
 * The RFC 8259 reference: a plain recursive-descent validator, written
 * independently of json.c (code points are decoded and range-checked rather
 * than matched against byte tables) and slow on purpose. It also says WHY a
 * document is invalid, so the differential tests can tell cJSON's known
 * leniencies from real disagreements.
 *
 * cJSON 1.7.15 is more lenient than the RFC in exactly these ways:
 *   R_NUMBER  numbers are whatever strtod accepts from [0-9+-.eE]: "01",
 *             "-01", "1.", "1.e5", "-.5" are accepted;
 *   R_WS      every byte 0x00..0x20 is whitespace (\f, \v, NUL, ...);
 *   R_CTRL    raw control characters (0x00..0x1F) inside strings;
 *   R_UTF8    invalid UTF-8 inside strings (overlongs, surrogates, stray
 *             continuation bytes, > U+10FFFF, truncated sequences);
 *   R_BADHEX  a \u escape with non-hex digits ("\u12g4") reads as U+0000
 *             (cJSON's parse_hex4 returns 0 on error) unless it was meant
 *             as the low half of a surrogate pair;
 *   R_BOM     a UTF-8 byte order mark before the value is skipped (RFC 8259
 *             allows a parser to ignore it; Wire does not: an event with a
 *             BOM is rejected, a source may strip one at the start of a file).
 * and different in one: R_DEPTH, cJSON nests to 1000, Wire to 512.
 * For those, the reference (the RFC) is the oracle, not cJSON.
 */
enum { R_OK, R_SYNTAX, R_NUMBER, R_WS, R_CTRL, R_UTF8, R_BADHEX, R_BOM, R_DEPTH };

typedef struct ref {
    const unsigned char *s;
    size_t n, i;
    int depth;
    int reason;
} ref;

static int ref_fail(ref *r, int reason)
{
    if (!r->reason)
        r->reason = reason;
    return 0;
}

static int ref_is_ws(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void ref_ws(ref *r)
{
    while (r->i < r->n && ref_is_ws(r->s[r->i]))
        r->i++;
}

/* An unexpected byte at a token boundary: cJSON would have skipped it as whitespace. */
static int ref_unexpected(ref *r)
{
    if (r->i < r->n && r->s[r->i] <= 0x20)
        return ref_fail(r, R_WS);
    return ref_fail(r, R_SYNTAX);
}

static int ref_isdigit(ref *r)
{
    return r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9';
}

static int ref_hex(ref *r, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        if (r->i >= r->n)
            return 0;
        unsigned c = r->s[r->i++], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static int ref_string(ref *r)
{
    r->i++; /* opening quote */
    for (;;) {
        if (r->i >= r->n)
            return ref_fail(r, R_SYNTAX);
        unsigned c = r->s[r->i];
        if (c == '"') {
            r->i++;
            return 1;
        }
        if (c < 0x20)
            return ref_fail(r, R_CTRL);
        if (c == '\\') {
            r->i++;
            if (r->i >= r->n)
                return ref_fail(r, R_SYNTAX);
            c = r->s[r->i++];
            if (strchr("\"\\/bfnrt", (int)c) && c != 0)
                continue;
            if (c != 'u')
                return ref_fail(r, R_SYNTAX);
            unsigned u, lo;
            if (!ref_hex(r, &u))
                return ref_fail(r, R_BADHEX);
            if (u >= 0xDC00 && u <= 0xDFFF)
                return ref_fail(r, R_SYNTAX);
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (r->i + 1 >= r->n || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u')
                    return ref_fail(r, R_SYNTAX);
                r->i += 2;
                if (!ref_hex(r, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return ref_fail(r, R_SYNTAX);
            }
            continue;
        }
        if (c < 0x80) {
            r->i++;
            continue;
        }
        /* Decode one UTF-8 sequence and range-check the code point. */
        int len;
        unsigned cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return ref_fail(r, R_UTF8);
        }
        for (int k = 1; k < len; k++) {
            if (r->i + (size_t)k >= r->n || (r->s[r->i + (size_t)k] & 0xC0) != 0x80)
                return ref_fail(r, R_UTF8);
            cp = (cp << 6) | (r->s[r->i + (size_t)k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return ref_fail(r, R_UTF8);
        r->i += (size_t)len;
    }
}

static int ref_number(ref *r)
{
    if (r->s[r->i] == '-')
        r->i++;
    if (!ref_isdigit(r))
        return ref_fail(r, R_NUMBER);
    if (r->s[r->i] == '0') {
        r->i++;
        if (ref_isdigit(r))
            return ref_fail(r, R_NUMBER);
    } else {
        while (ref_isdigit(r))
            r->i++;
    }
    if (r->i < r->n && r->s[r->i] == '.') {
        r->i++;
        if (!ref_isdigit(r))
            return ref_fail(r, R_NUMBER);
        while (ref_isdigit(r))
            r->i++;
    }
    if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
        r->i++;
        if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
            r->i++;
        if (!ref_isdigit(r))
            return ref_fail(r, R_NUMBER);
        while (ref_isdigit(r))
            r->i++;
    }
    return 1;
}

static int ref_value(ref *r);

static int ref_container(ref *r, int is_object)
{
    char close = is_object ? '}' : ']';
    if (++r->depth > WIRE_JSON_MAX_DEPTH)
        return ref_fail(r, R_DEPTH);
    r->i++;
    ref_ws(r);
    if (r->i < r->n && r->s[r->i] == close) {
        r->i++;
        r->depth--;
        return 1;
    }
    for (;;) {
        if (is_object) {
            if (r->i >= r->n || r->s[r->i] != '"')
                return ref_unexpected(r);
            if (!ref_string(r))
                return 0;
            ref_ws(r);
            if (r->i >= r->n || r->s[r->i] != ':')
                return ref_unexpected(r);
            r->i++;
            ref_ws(r);
        }
        if (!ref_value(r))
            return 0;
        ref_ws(r);
        if (r->i < r->n && r->s[r->i] == ',') {
            r->i++;
            ref_ws(r);
            continue;
        }
        if (r->i < r->n && r->s[r->i] == close) {
            r->i++;
            r->depth--;
            return 1;
        }
        return ref_unexpected(r);
    }
}

static int ref_literal(ref *r, const char *lit)
{
    size_t k = strlen(lit);
    if (r->n - r->i < k || memcmp(r->s + r->i, lit, k) != 0)
        return ref_fail(r, R_SYNTAX);
    r->i += k;
    return 1;
}

static int ref_value(ref *r)
{
    if (r->i >= r->n)
        return ref_fail(r, R_SYNTAX);
    switch (r->s[r->i]) {
    case '{': return ref_container(r, 1);
    case '[': return ref_container(r, 0);
    case '"': return ref_string(r);
    case 't': return ref_literal(r, "true");
    case 'f': return ref_literal(r, "false");
    case 'n': return ref_literal(r, "null");
    default:
        if (r->s[r->i] == '-' || ref_isdigit(r))
            return ref_number(r);
        if (r->s[r->i] == '.')
            return ref_fail(r, R_NUMBER); /* strtod takes ".5" */
        return ref_unexpected(r);
    }
}

/* Returns R_OK or the reason the text is not one RFC 8259 JSON value. */
static int ref_check(const char *s, size_t n)
{
    ref r = {(const unsigned char *)s, n, 0, 0, 0};
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        return R_BOM;
    ref_ws(&r);
    if (!ref_value(&r))
        return r.reason;
    ref_ws(&r);
    if (r.i != n)
        return (ref_unexpected(&r), r.reason);
    return R_OK;
}

static int cjson_lenient_reason(int reason)
{
    return reason == R_NUMBER || reason == R_WS || reason == R_CTRL || reason == R_UTF8 ||
           reason == R_BADHEX || reason == R_BOM || reason == R_DEPTH;
}

/* cJSON's verdict on exactly [s, s+n): it needs a NUL-terminated copy. */
static cJSON *cjson_parse(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    cJSON *j = cJSON_ParseWithLengthOpts(c, n + 1, NULL, 1);
    free(c);
    return j;
}

/* ---------------------------------------------------------------------------
 * Walking both trees. Returns 1 if Wire's view of `v` equals cJSON's `c`,
 * else prints what differs and returns 0.
 */
static const char *diff_doc; /* for messages */

/* Print a document on one line, non-printable bytes as \xNN. */
static void print_doc(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputc('\n', stderr);
}

static int diff_fail(const char *what, const wire_json_val *v)
{
    fprintf(stderr, "  tree mismatch (%s) at value '%.*s'\n  in document: %s\n", what,
            (int)(v->n > 80 ? 80 : v->n), v->p, diff_doc);
    return 0;
}

static int same_string(const char *raw, size_t rawn, const char *cs)
{
    char *u = malloc(rawn + 1);
    size_t un = wire_json_unescape(raw, rawn, u);
    /* cJSON's strings end at the first NUL (from \u0000); compare up to there */
    size_t cut = strnlen(u, un);
    int ok = strlen(cs) == cut && memcmp(u, cs, cut) == 0 && wire_json_str_eq(raw, rawn, u, un);
    free(u);
    return ok;
}

/*
 * wire_json_get must return, for each key, the LAST member with that key
 * (cJSON's GetObjectItem would give the first). Keys are compared unescaped,
 * NULs included (cJSON cuts its names at a NUL, so it cannot be the judge
 * here). Checked for the first 64 members, against all members.
 */
static int gets_find_last(const wire_json_val *v)
{
    typedef struct member {
        char *key;
        size_t keylen;
        wire_json_val val;
    } member;
    size_t n = 0, cap = 16;
    member *m = malloc(cap * sizeof(*m));
    wire_json_iter it;
    wire_json_val k, e, g;
    int ok = 1;
    wire_json_iter_init(&it, v);
    while (wire_json_iter_next(&it, &k, &e)) {
        if (n == cap)
            m = realloc(m, (cap *= 2) * sizeof(*m));
        m[n].key = malloc(k.n);
        m[n].keylen = wire_json_unescape(k.p + 1, k.n - 2, m[n].key);
        m[n].val = e;
        n++;
    }
    for (size_t i = 0; i < n && i < 64 && ok; i++) {
        size_t last = i;
        for (size_t j = i + 1; j < n; j++)
            if (m[j].keylen == m[i].keylen && memcmp(m[j].key, m[i].key, m[i].keylen) == 0)
                last = j;
        if (!wire_json_get(v->p, v->n, m[i].key, m[i].keylen, &g))
            ok = diff_fail("get missing", v);
        else if (g.p != m[last].val.p || g.n != m[last].val.n || g.kind != m[last].val.kind)
            ok = diff_fail("get is not the last member with the key", v);
    }
    for (size_t i = 0; i < n; i++)
        free(m[i].key);
    free(m);
    return ok;
}

static int tree_eq(const wire_json_val *v, const cJSON *c, int depth)
{
    switch (v->kind) {
    case WIRE_JSON_NULL: return cJSON_IsNull(c) ? 1 : diff_fail("null", v);
    case WIRE_JSON_TRUE: return cJSON_IsTrue(c) ? 1 : diff_fail("true", v);
    case WIRE_JSON_FALSE: return cJSON_IsFalse(c) ? 1 : diff_fail("false", v);
    case WIRE_JSON_NUMBER: {
        if (!cJSON_IsNumber(c))
            return diff_fail("number kind", v);
        int64_t i;
        double d;
        int k = wire_json_number(v->p, v->n, &i, &d);
        double w = k == WIRE_JSON_NUM_INT ? (double)i : d;
        if (k == WIRE_JSON_NUM_INT && memchr(v->p, '.', v->n))
            return diff_fail("fraction read as int", v);
        return w == c->valuedouble ? 1 : diff_fail("number value", v);
    }
    case WIRE_JSON_STRING:
        if (!cJSON_IsString(c))
            return diff_fail("string kind", v);
        if (v->n < 2 || v->p[0] != '"' || v->p[v->n - 1] != '"')
            return diff_fail("string slice", v);
        return same_string(v->p + 1, v->n - 2, c->valuestring) ? 1 : diff_fail("string", v);
    case WIRE_JSON_ARRAY: {
        if (!cJSON_IsArray(c))
            return diff_fail("array kind", v);
        wire_json_iter it;
        wire_json_val e, x;
        wire_json_iter_init(&it, v);
        const cJSON *ch = c->child;
        size_t idx = 0;
        while (wire_json_iter_next(&it, NULL, &e)) {
            if (!ch)
                return diff_fail("array longer", v);
            if (!wire_json_index(v->p, v->n, idx, &x) || x.p != e.p || x.n != e.n ||
                x.kind != e.kind)
                return diff_fail("index vs iter", v);
            if (!tree_eq(&e, ch, depth + 1))
                return 0;
            ch = ch->next;
            idx++;
        }
        if (wire_json_index(v->p, v->n, idx, &x))
            return diff_fail("index past end", v);
        return ch ? diff_fail("array shorter", v) : 1;
    }
    case WIRE_JSON_OBJECT: {
        if (!cJSON_IsObject(c))
            return diff_fail("object kind", v);
        wire_json_iter it;
        wire_json_val k, e;
        wire_json_iter_init(&it, v);
        const cJSON *ch = c->child;
        while (wire_json_iter_next(&it, &k, &e)) {
            if (!ch)
                return diff_fail("object longer", v);
            if (k.kind != WIRE_JSON_STRING || !same_string(k.p + 1, k.n - 2, ch->string))
                return diff_fail("key", v);
            if (!tree_eq(&e, ch, depth + 1))
                return 0;
            ch = ch->next;
        }
        if (ch)
            return diff_fail("object shorter", v);
        return gets_find_last(v);
    }
    default: return diff_fail("invalid kind", v);
    }
}

/* Run every lookup on possibly-invalid text: ASan checks they stay in bounds. */
static void poke_lookups(const char *t, size_t n)
{
    wire_json_val v, k, x;
    (void)wire_json_get(t, n, "level", 5, &v);
    (void)wire_json_get(t, n, "", 0, &v);
    (void)wire_json_index(t, n, 3, &v);
    if (wire_json_value(t, n, &v)) {
        wire_json_iter it;
        wire_json_iter_init(&it, &v);
        int guard = 0;
        while (wire_json_iter_next(&it, &k, &x) && guard++ < 1000) {
            if (x.kind == WIRE_JSON_STRING && x.n >= 2) {
                char *u = malloc(x.n);
                (void)wire_json_unescape(x.p + 1, x.n - 2, u);
                (void)wire_json_str_eq(x.p + 1, x.n - 2, "level", 5);
                free(u);
            } else if (x.kind == WIRE_JSON_NUMBER) {
                int64_t i;
                double d;
                (void)wire_json_number(x.p, x.n, &i, &d);
            }
        }
    }
}

#endif
