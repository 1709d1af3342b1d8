/*
 * test_json.c — unit tests for the JSON scanner and writer (src/core/json.c,
 * json_write.c): validation, lookups, iteration, strings, numbers, writer.
 */
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

int main(void)
{
    RUN(validate_basic);
    RUN(validate_depth);
    RUN(get_basic);
    RUN(value_and_iter);
    RUN(strings);
    RUN(numbers);
    RUN(writer);
    TEST_MAIN_END();
}
