/*
 * json.c — Wire's JSON scanner: the validator run once per event at ingest,
 * and the lazy lookups (get, index, iterate) run by transforms on validated
 * text, plus string unescaping and number parsing. The writer lives in
 * json_write.c.
 *
 * Nothing here builds a tree or allocates (except wire_json_number on a
 * number longer than 127 bytes). The validator is a single pass with an
 * explicit stack of open brackets; string bodies are scanned 16 bytes at a
 * time with SSE2 (always there on x86-64) and checked byte by byte only where
 * a quote, backslash, control character or non-ASCII byte shows up. Lookups
 * trust the validator: they skip strings by looking for quote and backslash
 * only, and skip containers by counting brackets outside strings — but every
 * loop is still bounded by the slice, so invalid text cannot make them read
 * out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define JSON_SSE2 1
#endif

/* Byte classes, one table for the validator's and the skippers' questions. */
enum {
    C_WS = 1 << 0,    /* space, tab, LF, CR */
    C_DIGIT = 1 << 1, /* 0-9 */
    C_NUM = 1 << 2,   /* any byte that may continue a number: 0-9 + - . e E */
    C_STR = 1 << 3,   /* plain string byte: ASCII, not '"', '\\' or a control char */
    C_DELIM = 1 << 4, /* ends a scalar in validated text: ws , ] } */
};

static uint8_t cls[256];
static int8_t hexv[256];

/* The tables are built once, before main, so the hot path has no init check. */
__attribute__((constructor)) static void json_tables_init(void)
{
    for (int c = 0; c < 256; c++) {
        uint8_t k = 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            k |= C_WS | C_DELIM;
        if (c >= '0' && c <= '9')
            k |= C_DIGIT | C_NUM;
        if (c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E')
            k |= C_NUM;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
            k |= C_STR;
        if (c == ',' || c == ']' || c == '}')
            k |= C_DELIM;
        cls[c] = k;
        hexv[c] = -1;
    }
    for (int c = '0'; c <= '9'; c++)
        hexv[c] = (int8_t)(c - '0');
    for (int c = 'a'; c <= 'f'; c++)
        hexv[c] = (int8_t)(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; c++)
        hexv[c] = (int8_t)(c - 'A' + 10);
}

typedef const unsigned char *ptr;

static inline ptr skip_ws(ptr p, ptr end)
{
    while (p < end && (cls[*p] & C_WS))
        p++;
    return p;
}

/* Four hex digits at p (caller checked there are four bytes); -1 if not hex. */
static inline int hex4(ptr p)
{
    int a = hexv[p[0]], b = hexv[p[1]], c = hexv[p[2]], d = hexv[p[3]];
    if ((a | b | c | d) < 0)
        return -1;
    return (a << 12) | (b << 8) | (c << 4) | d;
}

/*
 * Raw (escaped) string text equals plain text of the same length only if the
 * bytes are equal and there is no backslash: an escape always decodes to
 * fewer bytes than it takes. Inline loop for the short keys and values of
 * events; libc beyond that.
 */
static inline int same_plain(ptr raw, ptr s, size_t n)
{
    if (n > 32)
        return memcmp(raw, s, n) == 0 && !memchr(raw, '\\', n);
    unsigned diff = 0, bs = 0;
    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned)(raw[i] ^ s[i]);
        bs |= raw[i] == '\\';
    }
    return !diff && !bs;
}

/* ---------------------------------------------------------------------------
 * Validation
 */

typedef struct vstate {
    ptr base;
    wire_err *err;
} vstate;

static int verr(vstate *s, ptr at, const char *what)
{
    return wire_errf_at(s->err, WIRE_EPARSE, (long)(at - s->base), "invalid JSON at offset %ld: %s",
                        (long)(at - s->base), what);
}

/*
 * Length of the well-formed UTF-8 sequence starting at p (a byte >= 0x80),
 * or 0 if it is not one: no overlongs, no surrogates (ED A0..BF), nothing
 * above U+10FFFF (Unicode table 3-7).
 */
static inline size_t utf8_seq(ptr p, ptr end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail >= 2 && (p[1] & 0xC0) == 0x80)
            return 2;
        return 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[2] & 0xC0) != 0x80)
            return 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
        return (p[1] >= lo && p[1] <= hi) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
        return (p[1] >= lo && p[1] <= hi) ? 4 : 0;
    }
    return 0; /* continuation byte, C0/C1 (overlong), F5..FF */
}

size_t wire_utf8_seq(const char *p, size_t n)
{
    return n ? utf8_seq((ptr)p, (ptr)p + n) : 0;
}

/*
 * Validate a string body; p points just after the opening quote. Returns the
 * pointer after the closing quote, or NULL after filling the error.
 */
static __attribute__((noinline)) ptr validate_string_slow(vstate *s, ptr p, ptr end)
{
    for (;;) {
#ifdef JSON_SSE2
        /*
         * One signed compare against 0x20 flags both control characters
         * (0..0x1F) and non-ASCII bytes (negative as int8), so three compares
         * find every byte the scalar code must look at.
         */
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
        while (p < end && (cls[*p] & C_STR))
            p++;
        if (p >= end) {
            verr(s, p, "unterminated string");
            return NULL;
        }
#ifdef JSON_SSE2
    special:
#endif
        if (*p == '"')
            return p + 1;
        if (*p == '\\') {
            if (end - p < 2) {
                verr(s, p, "unterminated string");
                return NULL;
            }
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': p += 2; continue;
            case 'u': break;
            default: verr(s, p, "invalid escape in string"); return NULL;
            }
            int u = end - p >= 6 ? hex4(p + 2) : -1;
            if (u < 0) {
                verr(s, p, "invalid \\u escape (want 4 hex digits)");
                return NULL;
            }
            if (u >= 0xDC00 && u <= 0xDFFF) {
                verr(s, p, "unpaired low surrogate in \\u escape");
                return NULL;
            }
            if (u >= 0xD800 && u <= 0xDBFF) {
                int lo = (end - p >= 12 && p[6] == '\\' && p[7] == 'u') ? hex4(p + 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    verr(s, p, "unpaired high surrogate in \\u escape");
                    return NULL;
                }
                p += 12;
            } else {
                p += 6;
            }
            continue;
        }
        if (*p < 0x20) {
            verr(s, p, "control character in string (must be escaped)");
            return NULL;
        }
        size_t k = utf8_seq(p, end);
        if (!k) {
            verr(s, p, "invalid UTF-8 in string");
            return NULL;
        }
        p += k;
    }
}

/*
 * The common case inline: a string whose closing quote is in the next 16
 * bytes with no escape, control character or non-ASCII byte before it (most
 * keys and short values) costs one load, three compares and no loop.
 */
static inline __attribute__((always_inline)) ptr validate_string(vstate *s, ptr p, ptr end)
{
#ifdef JSON_SSE2
    if (WIRE_LIKELY(end - p >= 16)) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
        unsigned ms = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')), _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
        if (mq && !(ms & ((mq & (0u - mq)) - 1)))
            return p + __builtin_ctz(mq) + 1;
        if (!(mq | ms))
            p += 16;
    }
#endif
    return validate_string_slow(s, p, end);
}

/* Validate a number starting at p (a '-' or digit). Returns the end or NULL. */
static ptr validate_number(vstate *s, ptr p, ptr end)
{
    ptr start = p;
    if (*p == '-')
        p++;
    if (p >= end || !(cls[*p] & C_DIGIT)) {
        verr(s, start, "invalid number (want a digit after '-')");
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (p < end && (cls[*p] & C_DIGIT)) {
            verr(s, start, "invalid number (leading zero)");
            return NULL;
        }
    } else {
        while (p < end && (cls[*p] & C_DIGIT))
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !(cls[*p] & C_DIGIT)) {
            verr(s, start, "invalid number (want a digit after '.')");
            return NULL;
        }
        while (p < end && (cls[*p] & C_DIGIT))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !(cls[*p] & C_DIGIT)) {
            verr(s, start, "invalid number (want a digit in the exponent)");
            return NULL;
        }
        while (p < end && (cls[*p] & C_DIGIT))
            p++;
    }
    return p;
}

/* Whitespace is rare in machine-written JSON: test one byte inline, loop out of line. */
#define SKIP_WS(p)                                                                                 \
    do {                                                                                           \
        if (p < end && WIRE_UNLIKELY(cls[*p] & C_WS))                                              \
            p = skip_ws(p + 1, end);                                                               \
    } while (0)

static int validate(const char *text, size_t n, int want_object, wire_err *err)
{
    ptr p = (ptr)text, end = p + n;
    vstate s = {p, err};
    /* The closing bracket expected at each open level. */
    unsigned char stack[WIRE_JSON_MAX_DEPTH];
    int depth = 0;

    if (!text && n)
        return verr(&s, p, "NULL text");
    p = skip_ws(p, end);
    if (p >= end)
        return verr(&s, p, "empty document");
    if (want_object && *p != '{')
        return verr(&s, p, "expected a JSON object");

value:
    if (p >= end)
        return verr(&s, p, "unexpected end, expected a value");
    if (*p == '"') {
        p = validate_string(&s, p + 1, end);
        if (!p)
            return WIRE_EPARSE;
        goto after_value;
    }
    switch (*p) {
    case '{':
        if (depth == WIRE_JSON_MAX_DEPTH)
            return verr(&s, p, "nesting too deep");
        stack[depth++] = '}';
        p++;
        SKIP_WS(p);
        if (p < end && *p == '}') {
            p++;
            depth--;
            goto after_value;
        }
        goto key;
    case '[':
        if (depth == WIRE_JSON_MAX_DEPTH)
            return verr(&s, p, "nesting too deep");
        stack[depth++] = ']';
        p++;
        SKIP_WS(p);
        if (p < end && *p == ']') {
            p++;
            depth--;
            goto after_value;
        }
        goto value;
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0)
            return verr(&s, p, "invalid literal");
        p += 4;
        goto after_value;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0)
            return verr(&s, p, "invalid literal");
        p += 5;
        goto after_value;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0)
            return verr(&s, p, "invalid literal");
        p += 4;
        goto after_value;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        p = validate_number(&s, p, end);
        if (!p)
            return WIRE_EPARSE;
        goto after_value;
    default: return verr(&s, p, "unexpected character, expected a value");
    }

key:
    if (p >= end || *p != '"')
        return verr(&s, p, "expected a string key or '}'");
    p = validate_string(&s, p + 1, end);
    if (!p)
        return WIRE_EPARSE;
    SKIP_WS(p);
    if (p >= end || *p != ':')
        return verr(&s, p, "expected ':' after key");
    p++;
    SKIP_WS(p);
    goto value;

after_value:
    SKIP_WS(p);
    if (depth == 0) {
        if (p != end)
            return verr(&s, p, "trailing characters after the JSON value");
        return 0;
    }
    if (p >= end)
        return verr(&s, p, "unexpected end inside a container");
    if (*p == ',') {
        p++;
        SKIP_WS(p);
        if (stack[depth - 1] == '}')
            goto key;
        goto value;
    }
    if (*p == stack[depth - 1]) {
        p++;
        depth--;
        goto after_value;
    }
    return verr(&s, p, stack[depth - 1] == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

/* ---------------------------------------------------------------------------
 * Skipping over validated text
 */

/*
 * p points just after an opening quote; return the pointer after the closing
 * quote (or end). *esc is set if the body holds a backslash.
 */
static inline ptr skip_string(ptr p, ptr end, int *esc)
{
#ifdef JSON_SSE2
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned mask =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
        if (!mask) {
            p += 16;
            continue;
        }
        p += __builtin_ctz(mask);
        if (*p == '"')
            return p + 1;
        *esc = 1;
        if (end - p < 2)
            return end;
        p += 2; /* the backslash and the byte it escapes */
    }
#endif
    while (p < end) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\') {
            *esc = 1;
            if (end - p < 2)
                return end;
            p += 2;
            continue;
        }
        p++;
    }
    return end;
}

/*
 * Block scanning: containers are skipped, and objects searched for a key, 64
 * bytes at a time with bit masks, as in simdjson's first stage. For each block
 * we compute which bytes are quotes, backslashes, brackets and colons; which
 * bytes are escaped (by an odd run of backslashes, carried across blocks);
 * and, by a prefix XOR over the unescaped quotes, which bytes are inside a
 * string (also carried). Brackets and colons outside strings are then the only
 * bytes we visit one by one; string bodies are never walked.
 */
typedef struct block {
    uint64_t quote; /* unescaped '"' */
    uint64_t instr; /* inside a string: opening quote and body, not the closing quote */
    uint64_t open;  /* '{' or '[' outside strings */
    uint64_t close; /* '}' or ']' outside strings */
    uint64_t colon; /* ':' outside strings */
} block;

typedef struct blockscan {
    uint64_t prev_escaped; /* 1 if the next block's first byte is escaped */
    uint64_t prev_instr;   /* all ones if the next block starts inside a string */
} blockscan;

/* Bytes escaped by a backslash (simdjson's branchless odd-run detection). */
static inline uint64_t escaped_bytes(uint64_t bs, uint64_t *prev_escaped)
{
    if (!bs && !*prev_escaped)
        return 0;
    bs &= ~*prev_escaped;
    uint64_t follows = (bs << 1) | *prev_escaped;
    const uint64_t even = 0x5555555555555555ULL;
    uint64_t odd_starts = bs & ~even & ~follows;
    uint64_t seq_even;
    *prev_escaped = __builtin_add_overflow(odd_starts, bs, &seq_even);
    return (even ^ (seq_even << 1)) & follows;
}

static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

#ifdef JSON_SSE2
static inline uint64_t mask16(__m128i v)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(v);
}
#endif

/*
 * Fill *m for the 64 bytes at p. Fewer than 64 left before end: if the slice
 * holds 64 bytes before end (`start` is its beginning), the last 64 are
 * classified and the masks shifted down, so no byte past end is read and none
 * before p counts twice; otherwise the bytes are copied into a padded buffer.
 */
static inline void block_scan(blockscan *s, ptr start, ptr p, ptr end, block *m)
{
    unsigned char pad[64];
    int shift = 0;
    if (end - p < 64) {
        if (end - start >= 64) {
            shift = (int)(64 - (end - p));
            p = end - 64;
        } else {
            memset(pad, ' ', sizeof(pad));
            memcpy(pad, p, (size_t)(end - p));
            p = pad;
        }
    }
    uint64_t q = 0, bs = 0, op = 0, cl = 0, co = 0;
#ifdef JSON_SSE2
    /* OR-ing 0x20 folds '[' onto '{' and ']' onto '}': bracket kinds match in valid text. */
    const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'), v20 = _mm_set1_epi8(0x20),
                  vo = _mm_set1_epi8('{'), vc = _mm_set1_epi8('}'), vcol = _mm_set1_epi8(':');
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i f = _mm_or_si128(v, v20);
        q |= mask16(_mm_cmpeq_epi8(v, vq)) << (16 * k);
        bs |= mask16(_mm_cmpeq_epi8(v, vb)) << (16 * k);
        op |= mask16(_mm_cmpeq_epi8(f, vo)) << (16 * k);
        cl |= mask16(_mm_cmpeq_epi8(f, vc)) << (16 * k);
        co |= mask16(_mm_cmpeq_epi8(v, vcol)) << (16 * k);
    }
#else
    for (int i = 0; i < 64; i++) {
        uint64_t bit = 1ULL << i;
        unsigned c = p[i];
        q |= c == '"' ? bit : 0;
        bs |= c == '\\' ? bit : 0;
        op |= (c | 0x20) == '{' ? bit : 0;
        cl |= (c | 0x20) == '}' ? bit : 0;
        co |= c == ':' ? bit : 0;
    }
#endif
    if (shift) {
        q >>= shift;
        bs >>= shift;
        op >>= shift;
        cl >>= shift;
        co >>= shift;
    }
    q &= ~escaped_bytes(bs, &s->prev_escaped);
    uint64_t instr = prefix_xor(q) ^ s->prev_instr;
    s->prev_instr = (uint64_t)((int64_t)instr >> 63);
    m->quote = q;
    m->instr = instr;
    m->open = op & ~instr;
    m->close = cl & ~instr;
    m->colon = co & ~instr;
}

/*
 * p points at '{' or '['; return the pointer after the matching bracket (or
 * end). Brackets are counted 16 bytes at a time, strings skipped as they come:
 * cheaper than block masks for the small containers events mostly hold.
 */
static ptr skip_container(ptr p, ptr end)
{
    size_t depth = 0;
    int esc;
#ifdef JSON_SSE2
    /* OR-ing 0x20 folds '[' onto '{' and ']' onto '}': bracket kinds match in valid text. */
    const __m128i q = _mm_set1_epi8('"'), x20 = _mm_set1_epi8(0x20), open = _mm_set1_epi8('{'),
                  close = _mm_set1_epi8('}');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i f = _mm_or_si128(v, x20);
        unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, q));
        unsigned mo = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(f, open));
        unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(f, close));
        unsigned all = mq | mo | mc;
        while (all) {
            unsigned bit = all & -all;
            if (bit & mq) {
                esc = 0;
                p = skip_string(p + __builtin_ctz(bit) + 1, end, &esc);
                goto reload;
            }
            if (bit & mo) {
                depth++;
            } else if (--depth == 0) {
                return p + __builtin_ctz(bit) + 1;
            }
            all &= all - 1;
        }
        p += 16;
    reload:;
    }
#endif
    while (p < end) {
        unsigned c = *p | 0x20;
        if (*p == '"') {
            esc = 0;
            p = skip_string(p + 1, end, &esc);
            continue;
        }
        if (c == '{') {
            depth++;
        } else if (c == '}') {
            if (depth <= 1)
                return p + 1;
            depth--;
        }
        p++;
    }
    return end;
}

int wire_json_validate(const char *p, size_t n, wire_err *err)
{
    return validate(p, n, 0, err);
}

int wire_json_validate_object(const char *p, size_t n, wire_err *err)
{
    return validate(p, n, 1, err);
}

/* p points at the first byte of a value; return its end and set *kind. */
static inline ptr skip_value(ptr p, ptr end, wire_json_kind *kind)
{
    int esc = 0;
    switch (*p) {
    case '"': *kind = WIRE_JSON_STRING; return skip_string(p + 1, end, &esc);
    case '{': *kind = WIRE_JSON_OBJECT; return skip_container(p, end);
    case '[': *kind = WIRE_JSON_ARRAY; return skip_container(p, end);
    case 't': *kind = WIRE_JSON_TRUE; return end - p >= 4 ? p + 4 : end;
    case 'f': *kind = WIRE_JSON_FALSE; return end - p >= 5 ? p + 5 : end;
    case 'n': *kind = WIRE_JSON_NULL; return end - p >= 4 ? p + 4 : end;
    default:
        if (*p == '-' || (cls[*p] & C_DIGIT)) {
            *kind = WIRE_JSON_NUMBER;
            p++;
            while (p < end && (cls[*p] & C_NUM))
                p++;
            return p;
        }
        *kind = WIRE_JSON_INVALID;
        return p + 1;
    }
}

static inline void set_val(wire_json_val *out, wire_json_kind kind, ptr a, ptr b)
{
    if (out) {
        out->kind = kind;
        out->p = (const char *)a;
        out->n = (size_t)(b - a);
    }
}

int wire_json_value(const char *text, size_t n, wire_json_val *out)
{
    ptr p = (ptr)text, end = p + n;
    p = skip_ws(p, end);
    if (p >= end) {
        set_val(out, WIRE_JSON_INVALID, p, p);
        return 0;
    }
    wire_json_kind kind;
    ptr e = skip_value(p, end, &kind);
    set_val(out, kind, p, e);
    return kind != WIRE_JSON_INVALID;
}

/*
 * Does the raw key body [k, k+klen) (escaped form) name `key`? The escaped
 * form is never shorter than the text it stands for, so equal lengths mean
 * equal bytes and no backslash.
 */
static inline int key_matches(ptr k, size_t klen, const char *key, size_t keylen)
{
    if (klen == keylen)
        return same_plain(k, (ptr)key, klen);
    if (klen < keylen)
        return 0;
    return wire_json_str_eq((const char *)k, klen, key, keylen);
}

/* Objects shorter than this are searched member by member, longer ones by block masks. */
#define GET_BLOCK_MIN 128

/* Member-by-member lookup; p is just after the '{'. */
static int get_walk(ptr p, ptr end, const char *key, size_t keylen, wire_json_val *out)
{
    int found = 0;
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return found;
        ptr k = p + 1;
        int esc = 0;
        p = skip_string(k, end, &esc);
        if (p >= end)
            return found;
        size_t klen = (size_t)(p - 1 - k);
        int match = esc ? wire_json_str_eq((const char *)k, klen, key, keylen)
                        : (klen == keylen && memcmp(k, key, keylen) == 0);
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return found;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return found;
        wire_json_kind kind;
        ptr v = p;
        p = skip_value(p, end, &kind);
        /* Keep going after a match: with duplicate keys the last one wins. */
        if (match) {
            set_val(out, kind, v, p);
            found = 1;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return found;
        p++;
    }
}

/*
 * Lookup by block scanning; p points at the '{'. Only colons and brackets
 * outside strings are visited, and colons only while the scan may be at
 * depth 1. A colon at depth 1 ends a key, whose opening quote is the last
 * unescaped quote that started a string before it. A matched container value
 * ends at the close that brings the depth back to 1, which the scan meets
 * anyway, so it is not skipped twice.
 */
static int get_blocks(ptr p, ptr end, const char *key, size_t keylen, wire_json_val *out)
{
    blockscan s = {0, 0};
    size_t depth = 0;
    ptr key_open = NULL; /* opening quote of the last string started */
    ptr found_v = NULL, found_e = NULL;
    int pending = 0; /* the matched value is a container not closed yet */
    wire_json_kind found_kind = WIRE_JSON_INVALID;
    for (ptr base = p; base < end; base += 64) {
        block m;
        block_scan(&s, p, base, end, &m);
        uint64_t starts = m.quote & m.instr;
        uint64_t ev = m.open | m.close | (depth <= 1 || m.close ? m.colon : 0);
        for (; ev; ev &= ev - 1) {
            int i = __builtin_ctzll(ev);
            uint64_t bit = 1ULL << i;
            /* depth without branching on the event's kind: they come in no predictable order */
            size_t closing = (m.close >> i) & 1;
            depth += ((m.open >> i) & 1) - closing;
            if (WIRE_UNLIKELY(depth == 0))
                goto done;
            if (depth != 1)
                continue;
            if (closing) {
                if (pending) {
                    found_e = base + i + 1;
                    pending = 0;
                }
                continue;
            }
            if (!(m.colon & bit))
                continue;
            uint64_t before = starts & (bit - 1);
            if (before)
                key_open = base + 63 - __builtin_clzll(before);
            if (!key_open)
                continue;
            ptr kc = base + i; /* back over whitespace to the closing quote */
            while (kc > key_open + 1 && kc[-1] != '"')
                kc--;
            if (kc <= key_open + 1)
                continue;
            ptr k = key_open + 1;
            if (!key_matches(k, (size_t)(kc - 1 - k), key, keylen))
                continue;
            ptr v = skip_ws(base + i + 1, end);
            if (v >= end)
                continue;
            found_v = v;
            pending = *v == '{' || *v == '[';
            if (pending)
                found_kind = *v == '{' ? WIRE_JSON_OBJECT : WIRE_JSON_ARRAY;
            else
                found_e = skip_value(v, end, &found_kind);
        }
        if (starts)
            key_open = base + 63 - __builtin_clzll(starts);
        if (end - base <= 64)
            break;
    }
done:
    if (!found_v)
        return 0;
    set_val(out, found_kind, found_v, pending ? end : found_e);
    return 1;
}

int wire_json_get(const char *obj, size_t n, const char *key, size_t keylen, wire_json_val *out)
{
    ptr p = (ptr)obj, end = p + n;
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return 0;
    if (end - p < GET_BLOCK_MIN)
        return get_walk(p + 1, end, key, keylen, out);
    return get_blocks(p, end, key, keylen, out);
}

int wire_json_index(const char *arr, size_t n, size_t idx, wire_json_val *out)
{
    ptr p = (ptr)arr, end = p + n;
    p = skip_ws(p, end);
    if (p >= end || *p != '[')
        return 0;
    p = skip_ws(p + 1, end);
    if (p >= end || *p == ']')
        return 0;
    for (size_t i = 0;; i++) {
        wire_json_kind kind;
        ptr v = p;
        p = skip_value(p, end, &kind);
        if (i == idx) {
            if (kind == WIRE_JSON_INVALID)
                return 0;
            set_val(out, kind, v, p);
            return 1;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return 0;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return 0;
    }
}

void wire_json_iter_init(wire_json_iter *it, const wire_json_val *c)
{
    it->is_object = c->kind == WIRE_JSON_OBJECT;
    if ((c->kind == WIRE_JSON_OBJECT || c->kind == WIRE_JSON_ARRAY) && c->n >= 2) {
        it->p = c->p + 1;
        it->end = c->p + c->n - 1; /* the closing bracket */
    } else {
        it->p = it->end = c->p;
    }
}

int wire_json_iter_next(wire_json_iter *it, wire_json_val *key, wire_json_val *val)
{
    ptr p = (ptr)it->p, end = (ptr)it->end;
    p = skip_ws(p, end);
    if (p < end && *p == ',')
        p = skip_ws(p + 1, end);
    if (p >= end) {
        it->p = it->end;
        return 0;
    }
    if (it->is_object) {
        if (*p != '"') {
            it->p = it->end;
            return 0;
        }
        int esc = 0;
        ptr k = p;
        p = skip_string(p + 1, end, &esc);
        if (key)
            set_val(key, WIRE_JSON_STRING, k, p);
        p = skip_ws(p, end);
        if (p >= end || *p != ':') {
            it->p = it->end;
            return 0;
        }
        p = skip_ws(p + 1, end);
        if (p >= end) {
            it->p = it->end;
            return 0;
        }
    }
    wire_json_kind kind;
    ptr v = p;
    p = skip_value(p, end, &kind);
    if (kind == WIRE_JSON_INVALID) {
        it->p = it->end;
        return 0;
    }
    set_val(val, kind, v, p);
    it->p = (const char *)p;
    return 1;
}

/* ---------------------------------------------------------------------------
 * Strings
 */

/* Encode a code point as UTF-8 at out; returns the length (1..4). */
static inline size_t utf8_put(unsigned cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Decode the escape at p (p[0] == '\\') into out (up to 4 bytes). Returns the
 * number of escaped bytes consumed (>= 1) and sets *outn. On malformed text
 * (never the case after validation) it degrades safely: a lone surrogate
 * becomes U+FFFD, a truncated escape is copied as is; the output is never
 * longer than the input consumed.
 */
static size_t decode_escape(ptr p, ptr end, unsigned char *out, size_t *outn)
{
    if (end - p < 2) {
        out[0] = '\\';
        *outn = 1;
        return 1;
    }
    unsigned char c;
    switch (p[1]) {
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u': {
        int u = end - p >= 6 ? hex4(p + 2) : -1;
        if (u < 0) {
            out[0] = '\\';
            *outn = 1;
            return 1;
        }
        if (u >= 0xD800 && u <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
            int lo = hex4(p + 8);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                unsigned cp = 0x10000 + (((unsigned)u - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
                *outn = utf8_put(cp, out);
                return 12;
            }
        }
        if (u >= 0xD800 && u <= 0xDFFF)
            u = 0xFFFD;
        *outn = utf8_put((unsigned)u, out);
        return 6;
    }
    default: c = p[1]; break; /* " \ / (and anything else, verbatim) */
    }
    out[0] = c;
    *outn = 1;
    return 2;
}

size_t wire_json_unescape(const char *raw, size_t n, char *outp)
{
    ptr p = (ptr)raw, end = p + n;
    unsigned char *out = (unsigned char *)outp, *o = out;
    while (p < end) {
        ptr bsl = memchr(p, '\\', (size_t)(end - p));
        if (!bsl) {
            memmove(o, p, (size_t)(end - p));
            o += end - p;
            break;
        }
        memmove(o, p, (size_t)(bsl - p));
        o += bsl - p;
        size_t k;
        p = bsl + decode_escape(bsl, end, o, &k);
        o += k;
    }
    return (size_t)(o - out);
}

int wire_json_str_eq(const char *raw, size_t n, const char *str, size_t slen)
{
    if (n <= slen)
        return n == slen && same_plain((ptr)raw, (ptr)str, n);
    ptr p = (ptr)raw, end = p + n;
    ptr s = (ptr)str, send = s + slen;
    while (p < end) {
        ptr bsl = memchr(p, '\\', (size_t)(end - p));
        size_t plain = (size_t)((bsl ? bsl : end) - p);
        if ((size_t)(send - s) < plain || memcmp(p, s, plain) != 0)
            return 0;
        p += plain;
        s += plain;
        if (!bsl)
            break;
        unsigned char buf[4];
        size_t k;
        p += decode_escape(p, end, buf, &k);
        if ((size_t)(send - s) < k || memcmp(buf, s, k) != 0)
            return 0;
        s += k;
    }
    return s == send;
}

/* ---------------------------------------------------------------------------
 * Numbers
 */

int wire_json_number(const char *text, size_t n, int64_t *i, double *d)
{
    ptr p = (ptr)text, end = p + n;
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    /* Integer fast path: digits only, accumulated with an overflow check. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    ptr q = p;
    while (q < end && (cls[*q] & C_DIGIT)) {
        unsigned dg = (unsigned)(*q - '0');
        if (v > (limit - dg) / 10)
            break;
        v = v * 10 + dg;
        q++;
    }
    if (q == end && q > p) {
        if (i)
            *i = neg ? (int64_t)(0 - v) : (int64_t)v;
        return WIRE_JSON_NUM_INT;
    }
    /*
     * strtod wants a NUL-terminated string, and the byte after a number in a
     * document may be anything (or past the buffer): copy it. Wire never calls
     * setlocale(LC_NUMERIC), so the decimal point is '.'.
     */
    char small[128];
    char *buf = n < sizeof(small) ? small : malloc(n + 1);
    double r = 0;
    if (buf) {
        memcpy(buf, text, n);
        buf[n] = '\0';
        r = strtod(buf, NULL);
        if (buf != small)
            free(buf);
    }
    if (d)
        *d = r;
    return WIRE_JSON_NUM_DOUBLE;
}
