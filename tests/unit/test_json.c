/*
 * test_json.c — unit tests for the JSON scanner and writer (src/core/json.c,
 * json_write.c): validation, lookups, iteration, strings, numbers, writer.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "core/json.h"
#include "test.h"

static int valid(const char *s)
{
    return wire_json_validate(s, strlen(s), NULL) == 0;
}

/* Lookup helper: get `key` from NUL-terminated `doc`, return the value text in a static buffer. */
static const char *get(const char *doc, const char *key)
{
    static char buf[256];
    wire_json_val v;
    if (!wire_json_get(doc, strlen(doc), key, strlen(key), &v))
        return NULL;
    snprintf(buf, sizeof(buf), "%.*s", (int)v.n, v.p);
    return buf;
}

TEST(validate_basic)
{
    CHECK(valid("{}"));
    CHECK(valid("[]"));
    CHECK(valid(" {\"a\": [1, 2.5, -3e10, true, false, null, \"x\"]} \n"));
    CHECK(valid("\"str\""));
    CHECK(valid("0"));
    CHECK(valid("-0.0e+1"));
    CHECK(valid("{\"a\":{\"b\":{\"c\":[[],[{}]]}}}"));
    CHECK(!valid(""));
    CHECK(!valid("   "));
    CHECK(!valid("{"));
    CHECK(!valid("{\"a\":1,}"));
    CHECK(!valid("[1,]"));
    CHECK(!valid("[1 2]"));
    CHECK(!valid("{\"a\" 1}"));
    CHECK(!valid("{a:1}"));
    CHECK(!valid("01"));
    CHECK(!valid("1."));
    CHECK(!valid(".5"));
    CHECK(!valid("+1"));
    CHECK(!valid("1e"));
    CHECK(!valid("-"));
    CHECK(!valid("tru"));
    CHECK(!valid("nul"));
    CHECK(!valid("{} x"));
    CHECK(!valid("\"a\tb\""));
    CHECK(!valid("\"\\x\""));
    CHECK(!valid("\"\\u12\""));
    CHECK(!valid("\"\\ud800\""));
    CHECK(!valid("\"\\udc00\""));
    CHECK(valid("\"\\ud83d\\ude00\""));
    CHECK(valid("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""));
    CHECK(!valid("\"\xc0\xaf\""));         /* overlong */
    CHECK(!valid("\"\xed\xa0\x80\""));     /* surrogate */
    CHECK(!valid("\"\xf4\x90\x80\x80\"")); /* > U+10FFFF */
    CHECK(!valid("\"\xc3\""));             /* truncated */

    wire_err err;
    CHECK_EQ_INT(wire_json_validate("[1,}", 4, &err), WIRE_EPARSE);
    CHECK_EQ_INT(err.offset, 3);
    CHECK_EQ_INT(wire_json_validate_object("[1]", 3, &err), WIRE_EPARSE);
    CHECK_EQ_INT(wire_json_validate_object(" {} ", 4, &err), 0);
}

TEST(validate_depth)
{
    char buf[2 * WIRE_JSON_MAX_DEPTH + 4];
    size_t n = 0;
    for (int i = 0; i < WIRE_JSON_MAX_DEPTH; i++)
        buf[n++] = '[';
    for (int i = 0; i < WIRE_JSON_MAX_DEPTH; i++)
        buf[n++] = ']';
    CHECK(wire_json_validate(buf, n, NULL) == 0);
    n = 0;
    for (int i = 0; i <= WIRE_JSON_MAX_DEPTH; i++)
        buf[n++] = '[';
    for (int i = 0; i <= WIRE_JSON_MAX_DEPTH; i++)
        buf[n++] = ']';
    CHECK(wire_json_validate(buf, n, NULL) == WIRE_EPARSE);
}

TEST(get_basic)
{
    const char *doc = "{\"ts\":1, \"msg\":\"a \\\"level\\\":\\\"error\\\" b\", "
                      "\"nested\":{\"level\":\"x\",\"arr\":[\"}\",{\"q\":\"]\"}]}, "
                      "\"level\" : \"error\" , \"n\":null}";
    CHECK(valid(doc));
    CHECK_EQ_STR(get(doc, "level"), "\"error\"");
    CHECK_EQ_STR(get(doc, "ts"), "1");
    CHECK_EQ_STR(get(doc, "n"), "null");
    CHECK_EQ_STR(get(doc, "nested"), "{\"level\":\"x\",\"arr\":[\"}\",{\"q\":\"]\"}]}");
    CHECK(get(doc, "missing") == NULL);
    CHECK(get(doc, "leve") == NULL);
    CHECK(get("{\"lev\\u0065l\":\"e\"}", "level") != NULL);
    CHECK_EQ_STR(get("{\"a\":1,\"a\":2}", "a"), "2");
    CHECK(get("{}", "a") == NULL);
    CHECK(get("[1]", "a") == NULL);

    wire_json_val v;
    CHECK(wire_json_get(doc, strlen(doc), "level", 5, &v));
    CHECK_EQ_INT(v.kind, WIRE_JSON_STRING);
    CHECK(wire_json_get(doc, strlen(doc), "nested", 6, &v));
    CHECK_EQ_INT(v.kind, WIRE_JSON_OBJECT);
    wire_json_val arr;
    CHECK(wire_json_get(v.p, v.n, "arr", 3, &arr));
    CHECK_EQ_INT(arr.kind, WIRE_JSON_ARRAY);
    wire_json_val e;
    CHECK(wire_json_index(arr.p, arr.n, 1, &e));
    CHECK_EQ_INT(e.kind, WIRE_JSON_OBJECT);
    CHECK(!wire_json_index(arr.p, arr.n, 2, &e));
    CHECK(wire_json_index("[ 1 , [2] ]", 11, 1, &e));
    CHECK(e.n == 3 && memcmp(e.p, "[2]", 3) == 0);
    CHECK(!wire_json_index("[]", 2, 0, &e));
}

TEST(value_and_iter)
{
    wire_json_val v;
    CHECK(wire_json_value("  true,", 7, &v) && v.kind == WIRE_JSON_TRUE && v.n == 4);
    CHECK(wire_json_value("-12.5e3]", 8, &v) && v.kind == WIRE_JSON_NUMBER && v.n == 7);
    CHECK(!wire_json_value("   ", 3, &v));

    const char *doc = "{ \"a\" : 1 , \"b\":[true, {}], \"c\":\"x\\\"y\" }";
    CHECK(wire_json_value(doc, strlen(doc), &v) && v.kind == WIRE_JSON_OBJECT);
    wire_json_iter it;
    wire_json_val k, x;
    wire_json_iter_init(&it, &v);
    const char *keys[] = {"\"a\"", "\"b\"", "\"c\""};
    const char *vals[] = {"1", "[true, {}]", "\"x\\\"y\""};
    int i = 0;
    while (wire_json_iter_next(&it, &k, &x)) {
        CHECK(i < 3);
        if (i >= 3)
            break;
        CHECK(k.n == strlen(keys[i]) && memcmp(k.p, keys[i], k.n) == 0);
        CHECK(x.n == strlen(vals[i]) && memcmp(x.p, vals[i], x.n) == 0);
        i++;
    }
    CHECK_EQ_INT(i, 3);

    CHECK(wire_json_value("[ ]", 3, &v));
    wire_json_iter_init(&it, &v);
    CHECK(!wire_json_iter_next(&it, NULL, &x));
    CHECK(wire_json_value("[1,\"2\",[3]]", 11, &v));
    wire_json_iter_init(&it, &v);
    i = 0;
    while (wire_json_iter_next(&it, NULL, &x))
        i++;
    CHECK_EQ_INT(i, 3);
}

TEST(strings)
{
    char out[64];
    const char *raw = "a\\n\\\"b\\u00e9\\ud83d\\ude00\\/";
    size_t n = wire_json_unescape(raw, strlen(raw), out);
    CHECK(n == strlen("a\n\"b\xc3\xa9\xf0\x9f\x98\x80/"));
    CHECK(memcmp(out, "a\n\"b\xc3\xa9\xf0\x9f\x98\x80/", n) == 0);
    CHECK(wire_json_str_eq(raw, strlen(raw), "a\n\"b\xc3\xa9\xf0\x9f\x98\x80/", n));
    CHECK(!wire_json_str_eq(raw, strlen(raw), "a\n\"b\xc3\xa9\xf0\x9f\x98\x80", n - 1));
    CHECK(wire_json_str_eq("abc", 3, "abc", 3));
    CHECK(!wire_json_str_eq("abc", 3, "abcd", 4));
    CHECK(!wire_json_str_eq("abcd", 4, "abc", 3));
    CHECK(wire_json_str_eq("", 0, "", 0));
}

TEST(numbers)
{
    int64_t i = 0;
    double d = 0;
    CHECK_EQ_INT(wire_json_number("42", 2, &i, &d), WIRE_JSON_NUM_INT);
    CHECK_EQ_INT(i, 42);
    CHECK_EQ_INT(wire_json_number("-9223372036854775808", 20, &i, &d), WIRE_JSON_NUM_INT);
    CHECK(i == INT64_MIN);
    CHECK_EQ_INT(wire_json_number("9223372036854775807", 19, &i, &d), WIRE_JSON_NUM_INT);
    CHECK(i == INT64_MAX);
    CHECK_EQ_INT(wire_json_number("9223372036854775808", 19, &i, &d), WIRE_JSON_NUM_DOUBLE);
    CHECK(d == 9223372036854775808.0);
    CHECK_EQ_INT(wire_json_number("1.5", 3, &i, &d), WIRE_JSON_NUM_DOUBLE);
    CHECK(d == 1.5);
    CHECK_EQ_INT(wire_json_number("1e3", 3, &i, &d), WIRE_JSON_NUM_DOUBLE);
    CHECK(d == 1000.0);
    /* the slice ends where the number does, even if digits follow in memory */
    CHECK_EQ_INT(wire_json_number("12345", 2, &i, &d), WIRE_JSON_NUM_INT);
    CHECK_EQ_INT(i, 12);
    CHECK_EQ_INT(wire_json_number("0.25999", 4, &i, &d), WIRE_JSON_NUM_DOUBLE);
    CHECK(d == 0.25);
}

TEST(writer)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_json_write_str(&b, "a\"b\\c\n\x01\xc3\xa9\xff", 10);
    CHECK_EQ_STR(b.p, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xef\xbf\xbd\"");
    CHECK(valid(b.p));
    wire_buf_reset(&b);
    wire_json_write_int(&b, INT64_MIN);
    CHECK_EQ_STR(b.p, "-9223372036854775808");
    wire_buf_reset(&b);
    wire_json_write_int(&b, 0);
    CHECK_EQ_STR(b.p, "0");
    wire_buf_reset(&b);
    wire_json_write_double(&b, 0.1);
    CHECK_EQ_STR(b.p, "0.1");
    wire_buf_reset(&b);
    wire_json_write_double(&b, 3.0);
    CHECK_EQ_STR(b.p, "3.0");
    wire_buf_reset(&b);
    wire_json_write_double(&b, 1e300);
    CHECK_EQ_STR(b.p, "1e+300");
    wire_buf_reset(&b);
    wire_json_write_double(&b, NAN);
    CHECK_EQ_STR(b.p, "null");
    wire_buf_reset(&b);
    wire_json_write_double(&b, 0.1 + 0.2);
    CHECK_EQ_STR(b.p, "0.30000000000000004");
    wire_buf_free(&b);
}

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
        wire_json_val k, e, g;
        wire_json_iter_init(&it, v);
        const cJSON *ch = c->child;
        while (wire_json_iter_next(&it, &k, &e)) {
            if (!ch)
                return diff_fail("object longer", v);
            if (k.kind != WIRE_JSON_STRING || !same_string(k.p + 1, k.n - 2, ch->string))
                return diff_fail("key", v);
            if (!tree_eq(&e, ch, depth + 1))
                return 0;
            /* get() must find the LAST member with this key (cJSON would give the first) */
            const cJSON *last = ch;
            for (const cJSON *o = ch->next; o; o = o->next)
                if (strcmp(o->string, ch->string) == 0)
                    last = o;
            size_t keylen = strlen(ch->string);
            if (!memmem(k.p, k.n, "\\u0000", 6)) { /* cJSON cuts keys at NUL */
                if (!wire_json_get(v->p, v->n, ch->string, keylen, &g))
                    return diff_fail("get missing", v);
                if (last == ch && (g.p != e.p || g.n != e.n || g.kind != e.kind))
                    return diff_fail("get slice", v);
                if (!tree_eq(&g, last, depth + 1))
                    return 0;
            }
            ch = ch->next;
        }
        return ch ? diff_fail("object shorter", v) : 1;
    }
    default: return diff_fail("invalid kind", v);
    }
}

/* ---------------------------------------------------------------------------
 * The hand-written corpus: each document with its RFC 8259 verdict.
 */
typedef struct corpus_case {
    const char *text;
    size_t n; /* 0: strlen(text) */
    int valid;
} corpus_case;

static const corpus_case corpus[] = {
    /* valid */
    {"{}", 0, 1},
    {"[]", 0, 1},
    {"0", 0, 1},
    {"-0", 0, 1},
    {"-0.0", 0, 1},
    {"1E5", 0, 1},
    {"1e+5", 0, 1},
    {"1e-5", 0, 1},
    {"1.5E-0005", 0, 1},
    {"123456789012345678901234567890", 0, 1},
    {"-9223372036854775809", 0, 1},
    {"1e400", 0, 1},
    {"4.9e-325", 0, 1},
    {"true", 0, 1},
    {"false", 0, 1},
    {"null", 0, 1},
    {"\"\"", 0, 1},
    {" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n", 0, 1},
    {"{\"\":\"\"}", 0, 1},
    {"{\"a\":1,\"a\":2}", 0, 1},
    {"[[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]]", 0, 1},
    {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 0, 1},
    {"\"\\u0000\"", 0, 1},
    {"\"\\u001F\\u007f\\u0080\\u07FF\\u0800\\uFFFF\\uFeFf\"", 0, 1},
    {"\"\\uD834\\uDD1E\"", 0, 1},
    {"\"\\udbff\\udfff\"", 0, 1},
    {"\"\x7f\"", 0, 1},
    {"\"\xc2\x80\xdf\xbf\"", 0, 1},
    {"\"\xe0\xa0\x80\xef\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"", 0, 1},
    {"\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xf3\xbf\xbf\xbf\"", 0, 1},
    {"\"\xef\xbb\xbf\"", 0, 1}, /* a BOM inside a string is just U+FEFF */
    {"\"0123456789abcdef0123456789abcdef\\n0123456789abcdef\xc3\xa9xyz\"", 0, 1},
    {"{\"a\":[1,{\"b\":[true,false,null]},\"}\"],\"c\":\"]\"}", 0, 1},
    {"[\"a\\\\\"]", 0, 1},
    {"[\"\\\\\\\"\"]", 0, 1},
    {"{\"level\":\"error\",\"msg\":\"\\\"level\\\":\\\"error\\\"\"}", 0, 1},
    {"[1e1,0.1e1,-0e-0,0E+0]", 0, 1},
    /* invalid: structure */
    {"", 0, 0},
    {" ", 0, 0},
    {"{", 0, 0},
    {"}", 0, 0},
    {"[", 0, 0},
    {"[1", 0, 0},
    {"[1,", 0, 0},
    {"[1,]", 0, 0},
    {"[,1]", 0, 0},
    {"[1,,2]", 0, 0},
    {"[1 2]", 0, 0},
    {"[1:2]", 0, 0},
    {"{\"a\"}", 0, 0},
    {"{\"a\":}", 0, 0},
    {"{\"a\" 1}", 0, 0},
    {"{\"a\":1,}", 0, 0},
    {"{,}", 0, 0},
    {"{\"a\":1 \"b\":2}", 0, 0},
    {"{1:1}", 0, 0},
    {"{a:1}", 0, 0},
    {"{'a':1}", 0, 0},
    {"{\"a\":1]", 0, 0},
    {"[1}", 0, 0},
    {"[]]", 0, 0},
    {"{}}", 0, 0},
    {"[][]", 0, 0},
    {"1 2", 0, 0},
    {"\"a\" \"b\"", 0, 0},
    {"{} x", 0, 0},
    {"[] /* c */", 0, 0},
    {"\xef\xbb\xbf{}", 0, 0}, /* BOM */
    {"tru", 0, 0},
    {"True", 0, 0},
    {"nulll", 0, 0},
    {"NaN", 0, 0},
    {"Infinity", 0, 0},
    {"-Infinity", 0, 0},
    {"[undefined]", 0, 0},
    {"'a'", 0, 0},
    /* invalid: numbers (cJSON takes several of these: R_NUMBER) */
    {"01", 0, 0},
    {"-01", 0, 0},
    {"00", 0, 0},
    {"1.", 0, 0},
    {"1.e5", 0, 0},
    {".5", 0, 0},
    {"-.5", 0, 0},
    {"+1", 0, 0},
    {"-", 0, 0},
    {"- 1", 0, 0},
    {"1e", 0, 0},
    {"1e+", 0, 0},
    {"1E-", 0, 0},
    {"1.5.3", 0, 0},
    {"0x10", 0, 0},
    {"1_000", 0, 0},
    {"[1.]", 0, 0},
    {"[01]", 0, 0},
    {"2.e3", 0, 0},
    /* invalid: strings */
    {"\"", 0, 0},
    {"\"abc", 0, 0},
    {"\"\\\"", 0, 0},
    {"\"\\", 0, 0},
    {"\"\\x\"", 0, 0},
    {"\"\\a\"", 0, 0},
    {"\"\\'\"", 0, 0},
    {"\"\\U0041\"", 0, 0},
    {"\"\\u\"", 0, 0},
    {"\"\\u12\"", 0, 0},
    {"\"\\u12g4\"", 0, 0},
    {"\"\\uD800\"", 0, 0},
    {"\"\\uD800x\"", 0, 0},
    {"\"\\uD800\\n\"", 0, 0},
    {"\"\\uD800\\u0041\"", 0, 0},
    {"\"\\uD800\\uD800\"", 0, 0},
    {"\"\\uDC00\"", 0, 0},
    {"\"\\uDFFF\\uD800\"", 0, 0},
    {"\"\\uD800\\", 0, 0},
    {"\"a\x01\"", 0, 0},
    {"\"a\tb\"", 0, 0},
    {"\"a\nb\"", 0, 0},
    {"\"\x1f\"", 0, 0},
    {"\"a\0b\"", 5, 0},
    {"\"\x80\"", 0, 0},
    {"\"\xbf\"", 0, 0},
    {"\"\xc0\x80\"", 0, 0},
    {"\"\xc1\xbf\"", 0, 0},
    {"\"\xc2\"", 0, 0},
    {"\"\xc2\x41\"", 0, 0},
    {"\"\xe0\x80\x80\"", 0, 0},
    {"\"\xe0\x9f\xbf\"", 0, 0},
    {"\"\xed\xa0\x80\"", 0, 0},
    {"\"\xed\xbf\xbf\"", 0, 0},
    {"\"\xe2\x82\"", 0, 0},
    {"\"\xf0\x80\x80\x80\"", 0, 0},
    {"\"\xf0\x8f\xbf\xbf\"", 0, 0},
    {"\"\xf4\x90\x80\x80\"", 0, 0},
    {"\"\xf5\x80\x80\x80\"", 0, 0},
    {"\"\xf8\x88\x80\x80\x80\"", 0, 0},
    {"\"\xfe\"", 0, 0},
    {"\"\xff\"", 0, 0},
    {"\"\xf0\x9f\x98\"", 0, 0},
    {"\"0123456789abcdef0123456789\x01\"", 0, 0},
    {"\"0123456789abcdef0123456789\xc3\"", 0, 0},
    {"\"0123456789abcdef0123456789\xed\xa0\x80\"", 0, 0},
    /* invalid: whitespace RFC 8259 does not allow (cJSON does: R_WS) */
    {"\f1", 0, 0},
    {"[1,\v2]", 0, 0},
    {"1\x01", 0, 0},
    {"{\"a\"\x1f:1}", 0, 0},
    {"[1,\0 2]", 7, 0},
    {"1\0", 2, 0},
    {"\xc2\xa0[]", 0, 0}, /* NBSP */
};

TEST(corpus_vs_rfc_and_cjson)
{
    for (size_t i = 0; i < WIRE_ARRAY_LEN(corpus); i++) {
        const corpus_case *c = &corpus[i];
        size_t n = c->n ? c->n : strlen(c->text);
        /* exact-size heap copy so ASan sees any over-read */
        char *t = malloc(n ? n : 1);
        memcpy(t, c->text, n);
        wire_err err;
        int ours = wire_json_validate(t, n, &err) == 0;
        int reason = ref_check(t, n);
        cJSON *cj = cjson_parse(t, n);
        if (ours != c->valid)
            fprintf(stderr, "  corpus %zu '%s': wire says %d, RFC %d (%s)\n", i, c->text, ours,
                    c->valid, ours ? "" : err.msg);
        CHECK(ours == c->valid);
        CHECK((reason == R_OK) == c->valid);
        if (!ours)
            CHECK(err.offset >= 0 && (size_t)err.offset <= n);
        if (!!cj != c->valid) {
            /* cJSON disagrees with the RFC: only for its documented leniencies */
            if (!cjson_lenient_reason(reason))
                fprintf(stderr, "  corpus %zu '%s': cJSON %d, reason %d\n", i, c->text, !!cj,
                        reason);
            CHECK(cj && cjson_lenient_reason(reason));
        }
        if (ours && cj) {
            wire_json_val v;
            diff_doc = c->text;
            CHECK(wire_json_value(t, n, &v));
            CHECK(tree_eq(&v, cj, 0));
            CHECK((wire_json_validate_object(t, n, NULL) == 0) == (v.kind == WIRE_JSON_OBJECT));
        }
        cJSON_Delete(cj);
        free(t);
    }
}

/* ---------------------------------------------------------------------------
 * Random documents (fixed seeds: deterministic).
 */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned rn(rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

static void gen_ws(wire_buf *b, rng *r)
{
    if (rn(r, 4))
        return;
    for (unsigned k = 1 + rn(r, 3); k; k--)
        wire_buf_putc(b, " \t\n\r"[rn(r, 4)]);
}

static void put_utf8(wire_buf *b, unsigned cp)
{
    char tmp[8];
    size_t n = 0;
    if (cp < 0x80) {
        tmp[n++] = (char)cp;
    } else if (cp < 0x800) {
        tmp[n++] = (char)(0xC0 | (cp >> 6));
        tmp[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        tmp[n++] = (char)(0xE0 | (cp >> 12));
        tmp[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
        tmp[n++] = (char)(0xF0 | (cp >> 18));
        tmp[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[n++] = (char)(0x80 | (cp & 0x3F));
    }
    wire_buf_append(b, tmp, n);
}

static void put_u_escape(wire_buf *b, rng *r, unsigned u)
{
    const char *hex = rn(r, 2) ? "0123456789abcdef" : "0123456789ABCDEF";
    char tmp[6] = {'\\',       'u', hex[(u >> 12) & 15], hex[(u >> 8) & 15], hex[(u >> 4) & 15],
                   hex[u & 15]};
    wire_buf_append(b, tmp, 6);
}

/* A random code point that is not a surrogate (and not NUL: cJSON truncates at it). */
static unsigned rand_cp(rng *r)
{
    for (;;) {
        unsigned cp;
        switch (rn(r, 4)) {
        case 0: cp = 1 + rn(r, 0x7F); break;
        case 1: cp = 0x80 + rn(r, 0x800 - 0x80); break;
        case 2: cp = 0x800 + rn(r, 0x10000 - 0x800); break;
        default: cp = 0x10000 + rn(r, 0x110000 - 0x10000); break;
        }
        if (cp < 0xD800 || cp > 0xDFFF)
            return cp;
    }
}

static void gen_string_body(wire_buf *b, rng *r)
{
    unsigned len = rn(r, 8) == 0 ? rn(r, 80) : rn(r, 12);
    for (unsigned k = 0; k < len; k++) {
        unsigned what = rn(r, 24);
        if (what == 0) {
            wire_buf_putc(b, '\\');
            wire_buf_putc(b, "\"\\/bfnrt"[rn(r, 8)]);
        } else if (what == 1) {
            unsigned cp = rand_cp(r);
            if (cp >= 0x10000) {
                put_u_escape(b, r, 0xD800 + ((cp - 0x10000) >> 10));
                put_u_escape(b, r, 0xDC00 + ((cp - 0x10000) & 0x3FF));
            } else {
                put_u_escape(b, r, cp);
            }
        } else if (what == 2) {
            put_utf8(b, rand_cp(r) | 0x80);
        } else {
            char c = (char)(0x20 + rn(r, 0x5F));
            if (c == '"' || c == '\\')
                c = 'q';
            wire_buf_putc(b, c);
        }
    }
}

static void gen_number(wire_buf *b, rng *r)
{
    static const char *const special[] = {"0",
                                          "-0",
                                          "9223372036854775807",
                                          "-9223372036854775808",
                                          "9223372036854775808",
                                          "-9223372036854775809",
                                          "18446744073709551616",
                                          "1e308",
                                          "2e308",
                                          "-0.0",
                                          "5e-324",
                                          "0.1",
                                          "123456789012345678901234567890.5e-10"};
    if (rn(r, 6) == 0) {
        const char *s = special[rn(r, WIRE_ARRAY_LEN(special))];
        wire_buf_append(b, s, strlen(s));
        return;
    }
    if (rn(r, 3) == 0)
        wire_buf_putc(b, '-');
    unsigned digits = 1 + (rn(r, 4) == 0 ? rn(r, 22) : rn(r, 6));
    wire_buf_putc(b, (char)('1' + rn(r, 9)));
    for (unsigned k = 1; k < digits; k++)
        wire_buf_putc(b, (char)('0' + rn(r, 10)));
    if (rn(r, 3) == 0) {
        wire_buf_putc(b, '.');
        for (unsigned k = 1 + rn(r, 8); k; k--)
            wire_buf_putc(b, (char)('0' + rn(r, 10)));
    }
    if (rn(r, 5) == 0) {
        wire_buf_putc(b, "eE"[rn(r, 2)]);
        if (rn(r, 2))
            wire_buf_putc(b, "+-"[rn(r, 2)]);
        wire_buf_printf(b, "%u", rn(r, 40));
    }
}

static const char *const key_pool[] = {"level",
                                       "lev\\u0065l",
                                       "\\u006cevel",
                                       "msg",
                                       "ts",
                                       "a",
                                       "b",
                                       "",
                                       "x y",
                                       "caf\xc3\xa9",
                                       "caf\\u00e9",
                                       "\\ud83d\\ude00",
                                       "\xf0\x9f\x98\x80",
                                       "q\\\"uote",
                                       "nested",
                                       "arr"};

static void gen_value(wire_buf *b, rng *r, int depth)
{
    unsigned what = depth >= 6 ? rn(r, 6) : rn(r, 9);
    switch (what) {
    case 0: wire_buf_append(b, "null", 4); break;
    case 1: wire_buf_append(b, "true", 4); break;
    case 2: wire_buf_append(b, "false", 5); break;
    case 3:
    case 4: gen_number(b, r); break;
    case 5:
        wire_buf_putc(b, '"');
        gen_string_body(b, r);
        wire_buf_putc(b, '"');
        break;
    case 6:
    case 7: {
        wire_buf_putc(b, '{');
        unsigned n = rn(r, 7);
        for (unsigned k = 0; k < n; k++) {
            if (k)
                wire_buf_putc(b, ',');
            gen_ws(b, r);
            wire_buf_putc(b, '"');
            if (rn(r, 3)) {
                const char *key = key_pool[rn(r, WIRE_ARRAY_LEN(key_pool))];
                wire_buf_append(b, key, strlen(key));
            } else {
                gen_string_body(b, r);
            }
            wire_buf_putc(b, '"');
            gen_ws(b, r);
            wire_buf_putc(b, ':');
            gen_ws(b, r);
            gen_value(b, r, depth + 1);
            gen_ws(b, r);
        }
        if (!n)
            gen_ws(b, r);
        wire_buf_putc(b, '}');
        break;
    }
    default: {
        wire_buf_putc(b, '[');
        unsigned n = rn(r, 6);
        for (unsigned k = 0; k < n; k++) {
            if (k)
                wire_buf_putc(b, ',');
            gen_ws(b, r);
            gen_value(b, r, depth + 1);
            gen_ws(b, r);
        }
        if (!n)
            gen_ws(b, r);
        wire_buf_putc(b, ']');
    }
    }
}

/* A random document: usually an object (like an event), sometimes any value. */
static void gen_doc(wire_buf *b, rng *r)
{
    wire_buf_reset(b);
    gen_ws(b, r);
    if (rn(r, 4)) {
        /* force an object at the top, as events are */
        wire_buf p;
        wire_buf_init(&p);
        do {
            wire_buf_reset(&p);
            gen_value(&p, r, 0);
        } while (p.p[0] != '{');
        wire_buf_append(b, p.p, p.len);
        wire_buf_free(&p);
    } else {
        gen_value(b, r, 0);
    }
    gen_ws(b, r);
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

TEST(random_valid_vs_cjson)
{
    rng r = {20261129};
    wire_buf b;
    wire_buf_init(&b);
    size_t bytes = 0;
    for (int iter = 0; iter < 20000; iter++) {
        gen_doc(&b, &r);
        char *t = malloc(b.len);
        memcpy(t, b.p, b.len);
        bytes += b.len;
        wire_err err;
        int ours = wire_json_validate(t, b.len, &err) == 0;
        if (!ours)
            fprintf(stderr, "  rejected generated doc (%s): %s\n", err.msg, b.p);
        CHECK(ours);
        CHECK(ref_check(t, b.len) == R_OK);
        cJSON *cj = cjson_parse(t, b.len);
        CHECK(cj != NULL);
        if (ours && cj) {
            wire_json_val v;
            diff_doc = b.p;
            CHECK(wire_json_value(t, b.len, &v));
            CHECK(tree_eq(&v, cj, 0));
        }
        cJSON_Delete(cj);
        free(t);
        if (test_failed_checks > 20)
            break;
    }
    CHECK(bytes > 1000000); /* the generator makes documents of some size */
    wire_buf_free(&b);
}

static const char mutation_bytes[] = "{}[]\",:\\ 0-.eEu1tfn\x00\x01\x1f\x7f\x80\xbf\xc0\xc3\xed\xef"
                                     "\xf0\xf4\xf5\xff\t\n\f\v";

static void mutate(wire_buf *b, rng *r)
{
    for (unsigned m = 1 + rn(r, 3); m; m--) {
        size_t n = b->len;
        size_t at = n ? rn(r, (unsigned)n) : 0;
        char c = rn(r, 4) ? mutation_bytes[rn(r, sizeof(mutation_bytes) - 1)] : (char)rn(r, 256);
        switch (rn(r, 5)) {
        case 0: /* replace */
            if (n)
                b->p[at] = c;
            break;
        case 1: /* insert */
            wire_buf_reserve(b, 1);
            memmove(b->p + at + 1, b->p + at, n - at);
            b->p[at] = c;
            b->len++;
            break;
        case 2: /* delete */
            if (n) {
                memmove(b->p + at, b->p + at + 1, n - at - 1);
                b->len--;
            }
            break;
        case 3: /* truncate */ b->len = at; break;
        default: { /* duplicate a short span */
            size_t len = rn(r, 8);
            if (at + len <= n) {
                wire_buf_reserve(b, len);
                memmove(b->p + at + len, b->p + at, n - at);
                b->len += len;
            }
        }
        }
    }
}

TEST(random_mutations_vs_rfc_and_cjson)
{
    rng r = {8259};
    wire_buf b;
    wire_buf_init(&b);
    int accepted = 0, rejected = 0, lenient = 0;
    for (int iter = 0; iter < 60000; iter++) {
        gen_doc(&b, &r);
        mutate(&b, &r);
        char *t = malloc(b.len ? b.len : 1);
        memcpy(t, b.p, b.len);
        wire_err err;
        int ours = wire_json_validate(t, b.len, &err) == 0;
        int reason = ref_check(t, b.len);
        cJSON *cj = cjson_parse(t, b.len);
        if (ours != (reason == R_OK)) {
            fprintf(stderr, "  wire %d vs RFC reference %d (reason %d, wire: %s) on: ", ours,
                    reason == R_OK, reason, ours ? "" : err.msg);
            print_doc(t, b.len);
        }
        CHECK(ours == (reason == R_OK));
        if (!ours)
            CHECK(err.offset >= 0 && (size_t)err.offset <= b.len);
        if (reason == R_OK) {
            CHECK(cj != NULL);
        } else if (cj) {
            lenient++;
            if (!cjson_lenient_reason(reason)) {
                fprintf(stderr, "  cJSON accepts, RFC reference rejects (reason %d): ", reason);
                print_doc(t, b.len);
            }
            CHECK(cjson_lenient_reason(reason));
        }
        if (ours && cj) {
            wire_json_val v;
            b.p[b.len] = '\0';
            diff_doc = b.p;
            CHECK(wire_json_value(t, b.len, &v));
            CHECK(tree_eq(&v, cj, 0));
        }
        poke_lookups(t, b.len);
        accepted += ours;
        rejected += !ours;
        cJSON_Delete(cj);
        free(t);
        if (test_failed_checks > 20)
            break;
    }
    /* both outcomes must be well represented, or the test proves little */
    CHECK(accepted > 3000 && rejected > 30000);
    printf("mutations: %d accepted, %d rejected (%d of them accepted by cJSON as leniencies)\n",
           accepted, rejected, lenient);
    wire_buf_free(&b);
}

/* The writer's output always validates and reads back as what was written. */
TEST(writer_roundtrip)
{
    rng r = {42};
    wire_buf b, s;
    wire_buf_init(&b);
    wire_buf_init(&s);
    for (int iter = 0; iter < 20000; iter++) {
        /* random bytes, including invalid UTF-8 and control characters */
        wire_buf_reset(&s);
        unsigned len = rn(&r, 40);
        for (unsigned k = 0; k < len; k++) {
            if (rn(&r, 3) == 0)
                put_utf8(&s, rand_cp(&r));
            else
                wire_buf_putc(&s, (char)rn(&r, 256));
        }
        wire_buf_reset(&b);
        wire_json_write_str(&b, s.p ? s.p : "", s.len);
        CHECK(wire_json_validate(b.p, b.len, NULL) == 0);
        CHECK(ref_check(b.p, b.len) == R_OK);
        char *u = malloc(b.len);
        size_t un = wire_json_unescape(b.p + 1, b.len - 2, u);
        /* equal iff the input was valid UTF-8 */
        int input_valid = 1;
        for (size_t k = 0; k < s.len;) {
            size_t q = wire_utf8_seq(s.p + k, s.len - k);
            if (!q) {
                input_valid = 0;
                break;
            }
            k += q;
        }
        CHECK((un == s.len && memcmp(u, s.p, un) == 0) == input_valid);
        free(u);

        /* doubles: shortest text that reads back exactly */
        union {
            uint64_t u;
            double d;
        } x = {rnd(&r)};
        wire_buf_reset(&b);
        wire_json_write_double(&b, x.d);
        CHECK(wire_json_validate(b.p, b.len, NULL) == 0);
        if (isfinite(x.d)) {
            int64_t i;
            double d;
            CHECK_EQ_INT(wire_json_number(b.p, b.len, &i, &d), WIRE_JSON_NUM_DOUBLE);
            CHECK(d == x.d);
        } else {
            CHECK_EQ_STR(b.p, "null");
        }
        int64_t iv = (int64_t)rnd(&r) >> rn(&r, 64);
        wire_buf_reset(&b);
        wire_json_write_int(&b, iv);
        int64_t i2 = 0;
        CHECK(wire_json_validate(b.p, b.len, NULL) == 0);
        CHECK_EQ_INT(wire_json_number(b.p, b.len, &i2, NULL), WIRE_JSON_NUM_INT);
        CHECK(i2 == iv);
        if (test_failed_checks > 20)
            break;
    }
    wire_buf_free(&b);
    wire_buf_free(&s);
}

int main(void)
{
    RUN(validate_basic);
    RUN(validate_depth);
    RUN(get_basic);
    RUN(value_and_iter);
    RUN(strings);
    RUN(numbers);
    RUN(writer);
    RUN(corpus_vs_rfc_and_cjson);
    RUN(random_valid_vs_cjson);
    RUN(random_mutations_vs_rfc_and_cjson);
    RUN(writer_roundtrip);
    TEST_MAIN_END();
}
