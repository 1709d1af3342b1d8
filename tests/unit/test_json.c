/*
 * test_json.c — unit tests for the JSON scanner and writer (src/core/json.c,
 * json_write.c): validation, lookups, iteration, strings, numbers, writer.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "core/json.h"
#include "json_oracle.h"
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
    CHECK(valid("{ }"));
    CHECK(valid("[ ]"));
    CHECK(valid("{ \"a\" : { } , \"b\" : [ ] }"));
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
    /* found by the fuzzer (an oracle bug): a key with \u0000 is a different key */
    const char *nul = "{\"host\":1,\"host\\u0000\":2}";
    CHECK_EQ_STR(get(nul, "host"), "1");
    wire_json_val hv;
    CHECK(wire_json_get(nul, strlen(nul), "host\0", 5, &hv) && hv.n == 1 && hv.p[0] == '2');
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
        /* sometimes wide, so that lookups take the block-scanning path (>= 128 bytes) */
        unsigned n = depth == 0 && rn(r, 4) == 0 ? 6 + rn(r, 16) : rn(r, 7);
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

TEST(random_valid_vs_cjson)
{
    rng r = {20261129};
    wire_buf b;
    wire_buf_init(&b);
    size_t bytes = 0;
    for (int iter = 0; iter < 12000; iter++) {
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
    CHECK(bytes > 600000); /* the generator makes documents of some size */
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
    for (int iter = 0; iter < 40000; iter++) {
        gen_doc(&b, &r);
        mutate(&b, &r);
        char *t = malloc(b.len ? b.len : 1);
        memcpy(t, b.p, b.len);
        wire_err err;
        int ours = wire_json_validate(t, b.len, &err) == 0;
        int reason = ref_check(t, b.len);
        if (b.len && b.p[0] == '{')
            CHECK((wire_json_validate_object(t, b.len, NULL) == 0) == ours);
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

/* The structured writer places commas and quotes; cJSON reads back what was written. */
TEST(structured_writer)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_jw w;
    wire_jw_init(&w, &b);
    wire_jw_obj(&w);
    wire_jw_kstr(&w, "name", "a \"q\" \\ \n");
    wire_jw_kint(&w, "neg", -42);
    wire_jw_kuint(&w, "big", UINT64_MAX);
    wire_jw_kdouble(&w, "d", 0.1);
    wire_jw_kbool(&w, "t", true);
    wire_jw_key(&w, "nothing");
    wire_jw_null(&w);
    wire_jw_kstr(&w, "nullstr", NULL);
    wire_jw_key(&w, "empty_arr");
    wire_jw_arr(&w);
    wire_jw_end(&w);
    wire_jw_key(&w, "empty_obj");
    wire_jw_obj(&w);
    wire_jw_end(&w);
    wire_jw_key(&w, "list");
    wire_jw_arr(&w);
    for (int i = 0; i < 3; i++) {
        wire_jw_obj(&w);
        wire_jw_kint(&w, "i", i);
        wire_jw_key(&w, "raw");
        wire_jw_raw(&w, "{\"x\":[1,2]}", 11);
        wire_jw_end(&w);
    }
    wire_jw_str(&w, "tail");
    wire_jw_end(&w);
    wire_jw_end(&w);
    CHECK_EQ_STR(b.p, "{\"name\":\"a \\\"q\\\" \\\\ \\n\",\"neg\":-42,"
                      "\"big\":18446744073709551615,\"d\":0.1,\"t\":true,\"nothing\":null,"
                      "\"nullstr\":null,\"empty_arr\":[],\"empty_obj\":{},\"list\":[{\"i\":0,"
                      "\"raw\":{\"x\":[1,2]}},{\"i\":1,\"raw\":{\"x\":[1,2]}},{\"i\":2,"
                      "\"raw\":{\"x\":[1,2]}},\"tail\"]}");
    CHECK(wire_json_validate_object(b.p, b.len, NULL) == 0);
    cJSON *j = cJSON_ParseWithLength(b.p, b.len);
    CHECK(j != NULL);
    CHECK_EQ_STR(cJSON_GetObjectItem(j, "name")->valuestring, "a \"q\" \\ \n");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "list")) == 4);
    cJSON_Delete(j);
    /* a writer at depth 0 writes a bare value; an extra end is ignored */
    wire_buf_reset(&b);
    wire_jw_init(&w, &b);
    wire_jw_arr(&w);
    wire_jw_int(&w, 1);
    wire_jw_int(&w, 2);
    wire_jw_end(&w);
    wire_jw_end(&w);
    CHECK_EQ_STR(b.p, "[1,2]");
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

/*
 * The scanner reads strings 16 bytes at a time and the lookups 64 at a time,
 * carrying state (escapes, strings, UTF-8 sequences, surrogate pairs) across
 * those edges: slide each snippet over every alignment and compare the
 * verdict with the reference, and the lookups with what must be found.
 */
TEST(block_boundaries)
{
    static const struct {
        const char *pre, *snippet, *post;
    } cases[] = {
        {"{\"p\":\"", "\\u00e9", "\"}"},
        {"{\"p\":\"", "\\ud83d\\ude00", "\"}"},
        {"{\"p\":\"", "\\ud83d", "\"}"},
        {"{\"p\":\"", "\\ud83d\\u0041", "\"}"},
        {"{\"p\":\"", "\\ude00", "\"}"},
        {"{\"p\":\"", "\\u12x4", "\"}"},
        {"{\"p\":\"", "\xc3\xa9", "\"}"},
        {"{\"p\":\"", "\xe2\x82\xac", "\"}"},
        {"{\"p\":\"", "\xf0\x9f\x98\x80", "\"}"},
        {"{\"p\":\"", "\xc3", "\"}"},
        {"{\"p\":\"", "\xed\xa0\x80", "\"}"},
        {"{\"p\":\"", "\xf0\x9f\x98", "\"}"},
        {"{\"p\":\"", "\x01", "\"}"},
        {"{\"p\":\"", "\x7f", "\"}"},
        {"{\"p\":\"", "\\\\", "\"}"},
        {"{\"p\":\"", "\\\\\\\"", "\"}"},
        {"{\"p\":\"", "\\\"", "\"}"},
        {"{\"p\":\"", "\\", "\"}"},
        {"{\"p\":\"", "\\x", "\"}"},
        {"{\"p\":\"", "{[:,]}", "\"}"},
        {"{\"p\":\"", "\"", ""},
        {"[", "123.5e7", "]"},
        {"[", "-0", "]"},
        {"[", "true", "]"},
        {"[", "nul", "]"},
        {"[", "tru e", "]"},
        {"[", "1 2", "]"},
        {"[", "01", "]"},
        {"[", "1.", "]"},
        {"[", "\"a\"x", "]"},
        {"[", "\"a\",\t\"b\"", "]"},
        {"[", "\x0c", "]"},
        {"[", "\\", "]"},
        {"[", "\xc3\xa9", "]"},
        {"[", "{\"a\":[1,{}]}", "]"},
        {"[", "{\"a\" : 1 , \"b\" :2}", "]"},
        {"[", "{\"a\":1,}", "]"},
        {"[", "]", "]"},
        {"[", "", ""},
    };
    wire_buf b;
    wire_buf_init(&b);
    for (size_t c = 0; c < WIRE_ARRAY_LEN(cases); c++) {
        int string_pad = cases[c].pre[0] == '{';
        for (int k = 0; k < 600; k++) {
            if (k > 140 && k < 440)
                k = 440; /* around the first 64-byte blocks and the 512-byte window */
            wire_buf_reset(&b);
            wire_buf_append(&b, cases[c].pre, strlen(cases[c].pre));
            for (int i = 0; i < k; i++)
                wire_buf_append(&b, string_pad ? "x" : " ", 1);
            wire_buf_append(&b, cases[c].snippet, strlen(cases[c].snippet));
            wire_buf_append(&b, cases[c].post, strlen(cases[c].post));
            char *t = malloc(b.len);
            memcpy(t, b.p, b.len);
            int ours = wire_json_validate(t, b.len, NULL) == 0;
            int rfc = ref_check(t, b.len) == R_OK;
            if (ours != rfc) {
                fprintf(stderr, "  case %zu at %d: wire %d reference %d\n", c, k, ours, rfc);
                CHECK(0);
            }
            if (ours) {
                /* the padded member is found, and so is one after it */
                wire_json_val v;
                wire_json_val top;
                CHECK(wire_json_value(t, b.len, &top));
                if (top.kind == WIRE_JSON_OBJECT)
                    CHECK(wire_json_get(t, b.len, "p", 1, &v) && v.kind == WIRE_JSON_STRING &&
                          v.p + v.n == t + b.len - 1);
                else
                    CHECK(top.n == b.len);
            }
            free(t);
            if (test_failed_checks > 20)
                break;
        }
    }
    wire_buf_free(&b);
}

/* Keys (plain, escaped, with escaped quotes) at every alignment of the 64-byte blocks. */
TEST(get_key_alignment)
{
    wire_buf b;
    wire_buf_init(&b);
    for (int k = 0; k < 200; k++) {
        for (int variant = 0; variant < 4; variant++) {
            wire_buf_reset(&b);
            wire_buf_append(&b, "{\"", 2);
            for (int i = 0; i < k; i++)
                wire_buf_putc(&b, (char)('a' + i % 26));
            static const char *const tails[] = {
                "\":1,\"level\":2,\"x\":\"level\"}",
                "\":1,\"lev\\u0065l\" : 2 ,\"x\":[\"level\",{\"level\":3}]}",
                "\\\"\":{\"level\":3},\"level\":2}",
                "\":\"\\\\\",\"level\":0,\"level\":2}",
            };
            wire_buf_append(&b, tails[variant], strlen(tails[variant]));
            char *t = malloc(b.len);
            memcpy(t, b.p, b.len);
            CHECK(wire_json_validate(t, b.len, NULL) == 0);
            wire_json_val v;
            int ok = wire_json_get(t, b.len, "level", 5, &v) && v.n == 1 && v.p[0] == '2';
            if (!ok)
                fprintf(stderr, "  variant %d, key length %d: %s\n", variant, k, b.p);
            CHECK(ok);
            free(t);
        }
        if (test_failed_checks > 20)
            break;
    }
    wire_buf_free(&b);
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
    RUN(structured_writer);
    RUN(block_boundaries);
    RUN(get_key_alignment);
    TEST_MAIN_END();
}
