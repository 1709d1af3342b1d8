/*
 * json_write.c — Wire's JSON writer: strings (quoted, escaped, always valid
 * UTF-8), integers and doubles appended to a wire_buf as compact JSON.
 * Transforms that rewrite an event build its new bytes with these.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define JSON_SSE2 1
#endif

static const char hexdig[] = "0123456789abcdef";

void wire_json_write_str(wire_buf *b, const char *s, size_t n)
{
    wire_buf_reserve(b, WIRE_JSON_QUOTE_MAX(n));
    b->len += wire_json_quote(b->p + b->len, s, n);
    b->p[b->len] = '\0';
}

size_t wire_json_quote(char *out, const char *s, size_t n)
{
    char *o = out;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    *o++ = '"';
    while (p < end) {
        const unsigned char *run = p;
#ifdef JSON_SSE2
        const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                     _mm_cmplt_epi8(v, sp));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (mask) {
                p += __builtin_ctz(mask);
                goto special;
            }
            p += 16;
        }
#endif
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
#ifdef JSON_SSE2
    special:
#endif
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p >= end)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t k = wire_utf8_seq((const char *)p, (size_t)(end - p));
            if (k) {
                memcpy(o, p, k);
                o += k;
                p += k;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD for a byte that is not UTF-8 */
                o += 3;
                p++;
            }
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hexdig[c >> 4];
            *o++ = hexdig[c & 15];
        }
        p++;
    }
    *o++ = '"';
    return (size_t)(o - out);
}

void wire_json_write_int(wire_buf *b, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof(tmp), *o = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--o = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--o = '-';
    wire_buf_append(b, o, (size_t)(e - o));
}

/*
 * Shortest of %.15g, %.16g, %.17g that reads back as the same double (17
 * always does). A double with an integral value keeps a ".0" so that reading
 * it back yields a double again, not an integer (as Python's json does).
 * Wire never calls setlocale(LC_NUMERIC), so printf's decimal point is '.'.
 */
void wire_json_write_double(wire_buf *b, double v)
{
    if (!isfinite(v)) {
        wire_buf_append(b, "null", 4);
        return;
    }
    char tmp[40];
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    if (!strpbrk(tmp, ".eE")) {
        tmp[len++] = '.';
        tmp[len++] = '0';
        tmp[len] = '\0';
    }
    wire_buf_append(b, tmp, (size_t)len);
}

/* ---- the structured writer ---- */

void wire_jw_init(wire_jw *w, wire_buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
}

/* Before a value or a key: the comma, unless it is the first or follows a key. */
static void jw_sep(wire_jw *w)
{
    int d = w->depth < WIRE_JW_DEPTH ? w->depth : WIRE_JW_DEPTH;
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->has_item[d])
        wire_buf_putc(w->b, ',');
    w->has_item[d] = true;
}

static void jw_open(wire_jw *w, char open, char close)
{
    jw_sep(w);
    wire_buf_putc(w->b, open);
    w->depth++;
    int d = w->depth < WIRE_JW_DEPTH ? w->depth : WIRE_JW_DEPTH;
    w->has_item[d] = false;
    w->close[d] = close;
}

void wire_jw_obj(wire_jw *w)
{
    jw_open(w, '{', '}');
}
void wire_jw_arr(wire_jw *w)
{
    jw_open(w, '[', ']');
}

void wire_jw_end(wire_jw *w)
{
    if (w->depth <= 0)
        return;
    int d = w->depth < WIRE_JW_DEPTH ? w->depth : WIRE_JW_DEPTH;
    wire_buf_putc(w->b, w->close[d]);
    w->depth--;
    w->after_key = false;
}

void wire_jw_keyn(wire_jw *w, const char *k, size_t n)
{
    jw_sep(w);
    wire_json_write_str(w->b, k, n);
    wire_buf_putc(w->b, ':');
    w->after_key = true;
}

void wire_jw_key(wire_jw *w, const char *k)
{
    wire_jw_keyn(w, k, strlen(k));
}

void wire_jw_strn(wire_jw *w, const char *s, size_t n)
{
    jw_sep(w);
    wire_json_write_str(w->b, s, n);
}

void wire_jw_str(wire_jw *w, const char *s)
{
    if (!s)
        wire_jw_null(w);
    else
        wire_jw_strn(w, s, strlen(s));
}

void wire_jw_int(wire_jw *w, int64_t v)
{
    jw_sep(w);
    wire_json_write_int(w->b, v);
}

void wire_jw_uint(wire_jw *w, uint64_t v)
{
    jw_sep(w);
    char tmp[24];
    char *e = tmp + sizeof(tmp), *o = e;
    do {
        *--o = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    wire_buf_append(w->b, o, (size_t)(e - o));
}

void wire_jw_double(wire_jw *w, double v)
{
    jw_sep(w);
    wire_json_write_double(w->b, v);
}

void wire_jw_bool(wire_jw *w, bool v)
{
    jw_sep(w);
    wire_buf_append(w->b, v ? "true" : "false", v ? 4 : 5);
}

void wire_jw_null(wire_jw *w)
{
    jw_sep(w);
    wire_buf_append(w->b, "null", 4);
}

void wire_jw_raw(wire_jw *w, const char *json, size_t n)
{
    jw_sep(w);
    wire_buf_append(w->b, json, n);
}

/* key + value: one definition for each value type */
#define JW_KEYED(name, type)                                                                       \
    void wire_jw_k##name(wire_jw *w, const char *k, type v)                                        \
    {                                                                                              \
        wire_jw_key(w, k);                                                                         \
        wire_jw_##name(w, v);                                                                      \
    }
JW_KEYED(str, const char *)
JW_KEYED(int, int64_t)
JW_KEYED(uint, uint64_t)
JW_KEYED(double, double)
JW_KEYED(bool, bool)
#undef JW_KEYED
