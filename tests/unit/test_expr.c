/*
 * test_expr.c — the expression language: parsing and its error messages and
 * offsets, evaluation semantics (NULL logic, paths, escapes, numbers, LIKE,
 * regex, CASE, IN, functions), the per-event field cache, select lists.
 */
#include <math.h>

#include "core/expr.h"
#include "core/json.h"
#include "test.h"

static char out_text[4096];
static wire_arena arena;
static wire_batch *batch;

/* Evaluate `src` on `json` and render the result as JSON text, or "error: msg". */
static const char *ev(const char *json, const char *src)
{
    wire_expr *e;
    wire_err err;
    wire_err_clear(&err);
    if (wire_expr_compile(src, strlen(src), &e, &err) != 0) {
        snprintf(out_text, sizeof(out_text), "compile error @%ld: %s", err.offset, err.msg);
        return out_text;
    }
    wire_batch_clear(batch);
    wire_event *event = wire_batch_push(batch, json, (uint32_t)strlen(json));
    wire_eval_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.ev = event;
    ctx.batch = batch;
    ctx.arena = &arena;
    ctx.now_ms = 1764402458123;
    wire_value v;
    int rc = wire_expr_eval(e, &ctx, &v, &err);
    if (rc < 0) {
        snprintf(out_text, sizeof(out_text), "error: %s", err.msg);
    } else {
        wire_buf b;
        wire_buf_init(&b);
        wire_value_write_json(&b, &v);
        snprintf(out_text, sizeof(out_text), "%.*s", (int)b.len, b.p ? b.p : "");
        wire_buf_free(&b);
    }
    wire_expr_free(e);
    wire_arena_reset(&arena);
    return out_text;
}

/* The condition view: "1", "0", or "error: ...". */
static const char *cond(const char *json, const char *src)
{
    wire_expr *e;
    wire_err err;
    wire_err_clear(&err);
    if (wire_expr_compile(src, strlen(src), &e, &err) != 0) {
        snprintf(out_text, sizeof(out_text), "compile error @%ld: %s", err.offset, err.msg);
        return out_text;
    }
    wire_event event = {.data = json, .len = (uint32_t)strlen(json)};
    wire_eval_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.ev = &event;
    ctx.arena = &arena;
    int rc = wire_expr_eval_bool(e, &ctx, &err);
    if (rc < 0)
        snprintf(out_text, sizeof(out_text), "error: %s", err.msg);
    else
        snprintf(out_text, sizeof(out_text), "%d", rc);
    wire_expr_free(e);
    wire_arena_reset(&arena);
    return out_text;
}

/* Compile must fail at `offset` with a message containing `msg`. */
static void check_parse_error(const char *src, long offset, const char *msg, int line)
{
    wire_expr *e = NULL;
    wire_err err;
    wire_err_clear(&err);
    int rc = wire_expr_compile(src, strlen(src), &e, &err);
    if (rc != WIRE_EPARSE || err.offset != offset || !strstr(err.msg, msg)) {
        fprintf(stderr,
                "%s:%d: %s: compiling \"%s\": rc %d offset %ld msg \"%s\"; expected @%ld \"%s\"\n",
                __FILE__, line, test_current, src, rc, err.offset, err.msg, offset, msg);
        test_failed_checks++;
    }
    wire_expr_free(e);
}
#define PARSE_ERR(src, off, msg) check_parse_error(src, off, msg, __LINE__)

static const char *doc =
    "{\"level\":\"error\",\"n\":42,\"d\":2.5,\"neg\":-7,\"t\":true,\"f\":false,\"z\":null,"
    "\"s\":\"Hello World\",\"esc\":\"a\\\"b\\\\c\\n\",\"uni\":\"caf\\u00e9 \xe2\x9c\x93\","
    "\"a\":{\"b\":{\"c\":3},\"arr\":[10,{\"x\":\"y\"},[1,2]]},\"tags\":[\"p\",\"q\"],"
    "\"big\":9223372036854775807,\"odd key\":1,\"@timestamp\":\"2026-11-29T07:47:38.123Z\","
    "\"js\":\"{\\\"k\\\":{\\\"v\\\":[5,6]}}\",\"empty\":\"\"}";

TEST(literals)
{
    CHECK_EQ_STR(ev(doc, "1"), "1");
    CHECK_EQ_STR(ev(doc, "1.5"), "1.5");
    CHECK_EQ_STR(ev(doc, "1e3"), "1000.0"); /* doubles stay doubles in JSON */
    CHECK_EQ_STR(ev(doc, "'it''s'"), "\"it's\"");
    CHECK_EQ_STR(ev(doc, "''"), "\"\"");
    CHECK_EQ_STR(ev(doc, "TRUE"), "true");
    CHECK_EQ_STR(ev(doc, "false"), "false");
    CHECK_EQ_STR(ev(doc, "Null"), "null");
    CHECK_EQ_STR(ev(doc, "-5"), "-5");
    CHECK_EQ_STR(ev(doc, "- -5"), "5");
    CHECK_EQ_STR(ev(doc, "99999999999999999999"), "1e+20");
    CHECK_EQ_STR(ev(doc, "'tab\there'"), "\"tab\\there\"");
}

TEST(paths)
{
    CHECK_EQ_STR(ev(doc, "level"), "\"error\"");
    CHECK_EQ_STR(ev(doc, "n"), "42");
    CHECK_EQ_STR(ev(doc, "a.b.c"), "3");
    CHECK_EQ_STR(ev(doc, "a.b"), "{\"c\":3}");
    CHECK_EQ_STR(ev(doc, "a.arr[0]"), "10");
    CHECK_EQ_STR(ev(doc, "a.arr[1].x"), "\"y\"");
    CHECK_EQ_STR(ev(doc, "a.arr[2][1]"), "2");
    CHECK_EQ_STR(ev(doc, "a.arr[3]"), "null");
    CHECK_EQ_STR(ev(doc, "tags[1]"), "\"q\"");
    CHECK_EQ_STR(ev(doc, "`odd key`"), "1");
    CHECK_EQ_STR(ev(doc, "@timestamp"), "\"2026-11-29T07:47:38.123Z\"");
    CHECK_EQ_STR(ev(doc, "missing"), "null");
    CHECK_EQ_STR(ev(doc, "missing.deeper[3]"), "null");
    CHECK_EQ_STR(ev(doc, "n.x"), "null");               /* not an object */
    CHECK_EQ_STR(ev(doc, "a[0]"), "null");              /* not an array */
    CHECK_EQ_STR(ev(doc, "tags.x"), "null");            /* array has no keys */
    CHECK_EQ_STR(ev(doc, "esc"), "\"a\\\"b\\\\c\\n\""); /* escaped bytes pass through */
    CHECK_EQ_STR(ev(doc, "big"), "9223372036854775807");
    CHECK_EQ_STR(ev("{\"a\":1,\"a\":2}", "a"), "2"); /* last duplicate wins */
    CHECK_EQ_STR(ev("{\"a b\":{\"c`d\":5}}", "`a b`.`c``d`"), "5");
    CHECK_EQ_STR(ev("{\"x\":1}", "X"), "null"); /* keys are case-sensitive */
    /* several top-level keys are located in one pass: duplicates, escaped keys */
    CHECK_EQ_STR(ev("{\"a\":1,\"b\\u0041\":3,\"a\":2}", "a + bA"), "5");
    CHECK_EQ_STR(ev(" {\"a\":1, \"c\" : {\"d\":[7]}} ", "a + c.d[0] + coalesce(e, 0)"), "8");
    CHECK_EQ_STR(ev("{\"a\":\"x\",\"ab\":\"y\"}", "concat(a, ab, b)"), "\"xy\"");
}

TEST(comparisons)
{
    CHECK_EQ_STR(ev(doc, "level = 'error'"), "true");
    CHECK_EQ_STR(ev(doc, "'error' = level"), "true");
    CHECK_EQ_STR(ev(doc, "level == 'error'"), "true");
    CHECK_EQ_STR(ev(doc, "level = 'Error'"), "false");
    CHECK_EQ_STR(ev(doc, "level != 'error'"), "false");
    CHECK_EQ_STR(ev(doc, "level <> 'info'"), "true");
    CHECK_EQ_STR(ev(doc, "n = 42"), "true");
    CHECK_EQ_STR(ev(doc, "n = 42.0"), "true");
    CHECK_EQ_STR(ev(doc, "n < 42.5"), "true");
    CHECK_EQ_STR(ev(doc, "n >= 42"), "true");
    CHECK_EQ_STR(ev(doc, "n > 41.999"), "true");
    CHECK_EQ_STR(ev(doc, "d <= 2.5"), "true");
    CHECK_EQ_STR(ev(doc, "neg < 0"), "true");
    CHECK_EQ_STR(ev(doc, "big > 9223372036854775806"), "true");
    CHECK_EQ_STR(ev(doc, "big < 9223372036854775807.0"), "true"); /* exact int vs double */
    CHECK_EQ_STR(ev(doc, "-1 < -0.5"), "true");
    CHECK_EQ_STR(ev(doc, "-2 < -1.5"), "true");
    CHECK_EQ_STR(ev(doc, "'abc' < 'abd'"), "true");
    CHECK_EQ_STR(ev(doc, "'ab' < 'abc'"), "true");
    CHECK_EQ_STR(ev(doc, "'b' > 'abc'"), "true");
    CHECK_EQ_STR(ev(doc, "t = true"), "true");
    CHECK_EQ_STR(ev(doc, "f < t"), "true");
    /* strings compare on their unescaped text */
    CHECK_EQ_STR(ev(doc, "esc = 'a\"b\\c\n'"), "true");
    CHECK_EQ_STR(ev(doc, "uni = 'caf\xc3\xa9 \xe2\x9c\x93'"), "true");
    CHECK_EQ_STR(ev(doc, "uni > 'caf'"), "true");
    CHECK_EQ_STR(ev("{\"a\":\"\\u0041\",\"b\":\"A\"}", "a = b"), "true");
    CHECK_EQ_STR(ev("{\"a\":\"\\u0041x\",\"b\":\"\\u0041y\"}", "a < b"), "true");
    /* different types: unknown (NULL), never an error */
    CHECK_EQ_STR(ev(doc, "n = '42'"), "null");
    CHECK_EQ_STR(ev(doc, "level = 1"), "null");
    CHECK_EQ_STR(ev(doc, "level < 1"), "null");
    CHECK_EQ_STR(ev(doc, "t = 1"), "null");
    CHECK_EQ_STR(ev(doc, "a = a"), "true"); /* objects: equal when byte-identical */
    CHECK_EQ_STR(ev(doc, "a < a"), "null");
    CHECK_EQ_STR(ev(doc, "missing = 'x'"), "null");
    CHECK_EQ_STR(ev(doc, "z = null"), "null");
    CHECK_EQ_STR(ev(doc, "n = n"), "true");
}

TEST(null_logic)
{
    CHECK_EQ_STR(ev(doc, "null AND false"), "false");
    CHECK_EQ_STR(ev(doc, "null AND true"), "null");
    CHECK_EQ_STR(ev(doc, "false AND null"), "false");
    CHECK_EQ_STR(ev(doc, "null OR true"), "true");
    CHECK_EQ_STR(ev(doc, "null OR false"), "null");
    CHECK_EQ_STR(ev(doc, "NOT null"), "null");
    CHECK_EQ_STR(ev(doc, "NOT (missing = 1)"), "null");
    CHECK_EQ_STR(ev(doc, "missing = 1 OR n = 42"), "true");
    CHECK_EQ_STR(ev(doc, "missing = 1 AND n = 42"), "null");
    CHECK_EQ_STR(ev(doc, "z IS NULL"), "true");
    CHECK_EQ_STR(ev(doc, "missing IS NULL"), "true");
    CHECK_EQ_STR(ev(doc, "n IS NULL"), "false");
    CHECK_EQ_STR(ev(doc, "n IS NOT NULL"), "true");
    CHECK_EQ_STR(ev(doc, "missing is not null"), "false");
    CHECK_EQ_STR(ev(doc, "(1/0 IS NULL) OR true"), "compile error @2: division by zero");
    /* conditions: NULL is false for filters */
    CHECK_EQ_STR(cond(doc, "missing = 'x'"), "0");
    CHECK_EQ_STR(cond(doc, "NOT (missing = 'x')"), "0");
    CHECK_EQ_STR(cond(doc, "n"), "error: condition must be a boolean, got integer");
    CHECK_EQ_STR(cond(doc, "n AND true"), "error: AND needs a boolean, got integer");
    CHECK_EQ_STR(cond(doc, "NOT s"), "error: NOT needs a boolean, got string");
    CHECK_EQ_STR(cond(doc, "t"), "1");
    CHECK_EQ_STR(cond(doc, "z"), "0");
    /* short circuit: the right side is not evaluated */
    CHECK_EQ_STR(cond(doc, "false AND s + 1 = 2"), "0");
    CHECK_EQ_STR(cond(doc, "true OR s + 1 = 2"), "1");
    CHECK_EQ_STR(cond(doc, "true AND s + 1 = 2"),
                 "error: operator + needs numbers, got string and integer");
}

TEST(precedence)
{
    CHECK_EQ_STR(ev(doc, "1 + 2 * 3"), "7");
    CHECK_EQ_STR(ev(doc, "(1 + 2) * 3"), "9");
    CHECK_EQ_STR(ev(doc, "10 - 4 - 3"), "3");
    CHECK_EQ_STR(ev(doc, "2 * 3 % 4"), "2");
    CHECK_EQ_STR(ev(doc, "-2 * 3"), "-6");
    CHECK_EQ_STR(ev(doc, "true OR false AND false"), "true");
    CHECK_EQ_STR(ev(doc, "(true OR false) AND false"), "false");
    CHECK_EQ_STR(ev(doc, "NOT false AND false"), "false");
    CHECK_EQ_STR(ev(doc, "NOT n = 41"), "true");
    CHECK_EQ_STR(ev(doc, "n + 1 = 43 AND level = 'error'"), "true");
    CHECK_EQ_STR(ev(doc, "'a' || 'b' = 'ab'"), "true");
    CHECK_EQ_STR(ev(doc, "n between"), "compile error @2: unexpected 'between': expected an "
                                       "operator or the end of the expression");
    CHECK_EQ_STR(ev(doc, "level = 'error' and N = 42"), "null"); /* N is another field */
    CHECK_EQ_STR(ev(doc, "level = 'error' aNd n = 42"), "true");
}

TEST(arithmetic)
{
    CHECK_EQ_STR(ev(doc, "n + 1"), "43");
    CHECK_EQ_STR(ev(doc, "n * d"), "105.0");
    CHECK_EQ_STR(ev(doc, "n / 5"), "8"); /* integer division truncates, as in SQL */
    CHECK_EQ_STR(ev(doc, "-7 / 2"), "-3");
    CHECK_EQ_STR(ev(doc, "n / 5.0"), "8.4");
    CHECK_EQ_STR(ev(doc, "n % 5"), "2");
    CHECK_EQ_STR(ev(doc, "neg % 4"), "-3");
    CHECK_EQ_STR(ev(doc, "d % 1"), "0.5");
    CHECK_EQ_STR(ev(doc, "n / 0"), "error: division by zero");
    CHECK_EQ_STR(ev(doc, "n % 0"), "error: division by zero");
    CHECK_EQ_STR(ev(doc, "d / 0"), "error: division by zero");
    CHECK_EQ_STR(ev(doc, "big + 1"), "9.223372036854776e+18"); /* overflow falls to double */
    CHECK_EQ_STR(ev(doc, "big * 2"), "1.8446744073709552e+19");
    CHECK_EQ_STR(ev(doc, "-big - 2"), "-9.223372036854776e+18");
    CHECK_EQ_STR(ev(doc, "5.5 % 2"), "1.5");
    CHECK_EQ_STR(ev(doc, "-5.5 % 2"), "-1.5");
    CHECK_EQ_STR(ev(doc, "1e300 * 1e300"), "null"); /* infinite: JSON has no such number */
    CHECK_EQ_STR(ev(doc, "1e300 * 1e300 > 1"), "true");
    CHECK_EQ_STR(ev(doc, "missing + 1"), "null");
    CHECK_EQ_STR(ev(doc, "-missing"), "null");
    CHECK_EQ_STR(ev(doc, "s * 2"), "error: operator * needs numbers, got string and integer");
    CHECK_EQ_STR(ev(doc, "t + 1"), "error: operator + needs numbers, got boolean and integer");
    CHECK_EQ_STR(ev(doc, "-s"), "error: unary - needs a number, got string");
    CHECK_EQ_STR(ev(doc, "a + 1"), "error: operator + needs numbers, got object and integer");
    CHECK_EQ_STR(ev(doc, "level || '!'"), "\"error!\"");
    CHECK_EQ_STR(ev(doc, "missing || '!'"), "null");
    CHECK_EQ_STR(ev(doc, "n || '!'"),
                 "error: operator || needs strings, got integer and string (concat() converts)");
}

TEST(in_lists)
{
    CHECK_EQ_STR(ev(doc, "level IN ('warn', 'error')"), "true");
    CHECK_EQ_STR(ev(doc, "level in ('warn')"), "false");
    CHECK_EQ_STR(ev(doc, "level NOT IN ('warn', 'info')"), "true");
    CHECK_EQ_STR(ev(doc, "level NOT IN ('error')"), "false");
    CHECK_EQ_STR(ev(doc, "n IN (1, 2, 42.0)"), "true");
    CHECK_EQ_STR(ev(doc, "n IN (1, null)"), "null");
    CHECK_EQ_STR(ev(doc, "n IN (42, null)"), "true");
    CHECK_EQ_STR(ev(doc, "n NOT IN (1, null)"), "null");
    CHECK_EQ_STR(ev(doc, "missing IN (1, 2)"), "null");
    CHECK_EQ_STR(ev(doc, "n IN ('42')"), "null");
    CHECK_EQ_STR(ev(doc, "n IN (n - 1, n)"), "true");
    CHECK_EQ_STR(ev(doc, "esc IN ('x', 'a\"b\\c\n')"), "true");
}

TEST(like)
{
    CHECK_EQ_STR(ev(doc, "s LIKE 'Hello%'"), "true");
    CHECK_EQ_STR(ev(doc, "s LIKE '%World'"), "true");
    CHECK_EQ_STR(ev(doc, "s LIKE '%lo W%'"), "true");
    CHECK_EQ_STR(ev(doc, "s LIKE 'Hello World'"), "true");
    CHECK_EQ_STR(ev(doc, "s LIKE 'hello%'"), "false");
    CHECK_EQ_STR(ev(doc, "s ILIKE 'hello%'"), "true");
    CHECK_EQ_STR(ev(doc, "s LIKE 'H_llo%'"), "true");
    CHECK_EQ_STR(ev(doc, "s LIKE 'H%o%d'"), "true");
    CHECK_EQ_STR(ev(doc, "s LIKE 'H%o%x'"), "false");
    CHECK_EQ_STR(ev(doc, "s LIKE '%'"), "true");
    CHECK_EQ_STR(ev(doc, "empty LIKE '%'"), "true");
    CHECK_EQ_STR(ev(doc, "empty LIKE '_'"), "false");
    CHECK_EQ_STR(ev(doc, "s NOT LIKE 'x%'"), "true");
    CHECK_EQ_STR(ev(doc, "uni LIKE 'caf_ _'"), "true"); /* _ is one character, not one byte */
    CHECK_EQ_STR(ev(doc, "uni LIKE 'caf__ _'"), "false");
    CHECK_EQ_STR(ev(doc, "esc LIKE 'a\"b\\c%'"), "true");
    CHECK_EQ_STR(ev("{\"p\":\"100%\"}", "p LIKE '100!%' ESCAPE '!'"), "true");
    CHECK_EQ_STR(ev("{\"p\":\"1000\"}", "p LIKE '100!%' ESCAPE '!'"), "false");
    CHECK_EQ_STR(ev("{\"p\":\"a_c\"}", "p LIKE 'a\\_c' ESCAPE '\\'"), "true");
    CHECK_EQ_STR(ev("{\"p\":\"abc\"}", "p LIKE 'a\\_c' ESCAPE '\\'"), "false");
    CHECK_EQ_STR(ev("{\"p\":\"aXbXc\"}", "p LIKE '%X%X%'"), "true");
    CHECK_EQ_STR(ev("{\"p\":\"aaa\"}", "p LIKE '%a%a%a%a%'"), "false");
    CHECK_EQ_STR(ev(doc, "missing LIKE 'x'"), "null");
    CHECK_EQ_STR(ev(doc, "n LIKE '4%'"), "null"); /* numbers are not text */
    CHECK_EQ_STR(ev("{\"p\":\"ab%\",\"q\":\"abc\"}", "q LIKE p"), "true"); /* runtime pattern */
    CHECK_EQ_STR(ev("{\"q\":\"abc\"}", "q LIKE n"), "null");
    CHECK_EQ_STR(ev("{\"q\":\"abc\",\"n\":1}", "q LIKE n"),
                 "error: LIKE needs a string pattern, got integer");
}

TEST(regex)
{
    CHECK_EQ_STR(ev(doc, "s ~ '^Hel+o'"), "true");
    CHECK_EQ_STR(ev(doc, "s ~ 'world'"), "false");
    CHECK_EQ_STR(ev(doc, "s ~ '(?i)world'"), "true");
    CHECK_EQ_STR(ev(doc, "s !~ 'world'"), "true");
    CHECK_EQ_STR(ev(doc, "uni ~ '^caf. .$'"), "true"); /* UTF mode: . is a character */
    CHECK_EQ_STR(ev(doc, "esc ~ '\"b\\\\c\\n$'"), "true");
    CHECK_EQ_STR(ev(doc, "missing ~ 'x'"), "null");
    CHECK_EQ_STR(ev(doc, "n ~ '4'"), "null");
    CHECK_EQ_STR(ev(doc, "'abc' ~ 'b'"), "true"); /* folded */
    /* match data is reused across evaluations */
    wire_expr *e;
    wire_err err;
    CHECK(wire_expr_compile("m ~ '^x[0-9]+$'", 15, &e, &err) == 0);
    int hits = 0;
    for (int i = 0; i < 1000; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "{\"m\":\"%s%d\"}", i % 2 ? "x" : "y", i);
        wire_event event = {.data = buf, .len = (uint32_t)strlen(buf)};
        wire_eval_ctx ctx = {.ev = &event, .arena = &arena};
        hits += wire_expr_eval_bool(e, &ctx, &err);
    }
    CHECK_EQ_INT(hits, 500);
    wire_expr_free(e);
}

TEST(case_expr)
{
    CHECK_EQ_STR(ev(doc, "CASE WHEN n > 40 THEN 'big' ELSE 'small' END"), "\"big\"");
    CHECK_EQ_STR(ev(doc, "CASE WHEN n > 50 THEN 'big' WHEN n > 10 THEN 'mid' END"), "\"mid\"");
    CHECK_EQ_STR(ev(doc, "CASE WHEN n > 50 THEN 'big' END"), "null");
    CHECK_EQ_STR(ev(doc, "CASE WHEN missing = 1 THEN 1 ELSE 2 END"), "2");
    CHECK_EQ_STR(ev(doc, "case level when 'warn' then 1 when 'error' then 2 else 3 end"), "2");
    CHECK_EQ_STR(ev(doc, "CASE missing WHEN null THEN 1 ELSE 0 END"), "0");
    CHECK_EQ_STR(ev(doc, "CASE n WHEN 42.0 THEN 'yes' END"), "\"yes\"");
    CHECK_EQ_STR(ev(doc, "CASE WHEN true THEN 1 ELSE 1/0 END"),
                 "compile error @28: division by zero");
    CHECK_EQ_STR(ev(doc, "CASE WHEN n = 42 THEN 1 ELSE n / 0 END"), "1"); /* lazy */
    CHECK_EQ_STR(ev(doc, "CASE WHEN s THEN 1 END"), "error: WHEN needs a boolean, got string");
    CHECK_EQ_STR(ev(doc, "CASE WHEN 1 = 1 THEN 'folded' END"), "\"folded\"");
}

TEST(functions)
{
    CHECK_EQ_STR(ev(doc, "lower(s)"), "\"hello world\"");
    CHECK_EQ_STR(ev(doc, "UPPER(s)"), "\"HELLO WORLD\"");
    CHECK_EQ_STR(ev(doc, "upper(esc)"), "\"A\\\"B\\\\C\\n\""); /* escapes kept intact */
    CHECK_EQ_STR(ev(doc, "upper(uni)"), "\"CAF\\u00e9 \xe2\x9c\x93\"");
    CHECK_EQ_STR(ev(doc, "lower(missing)"), "null");
    CHECK_EQ_STR(ev(doc, "lower(n)"), "error: lower() needs a string, got integer");
    CHECK_EQ_STR(ev(doc, "length(s)"), "11");
    CHECK_EQ_STR(ev(doc, "length(uni)"), "6");
    CHECK_EQ_STR(ev(doc, "length(esc)"), "6");
    CHECK_EQ_STR(ev(doc, "length(tags)"), "2");
    CHECK_EQ_STR(ev(doc, "length(a)"), "2");
    CHECK_EQ_STR(ev(doc, "length(empty)"), "0");
    CHECK_EQ_STR(ev(doc, "length(n)"),
                 "error: length() needs a string, array or object, got integer");
    CHECK_EQ_STR(ev(doc, "concat(level, ':', n, ':', d, ':', t, missing, ':', tags)"),
                 "\"error:42:2.5:true:[\\\"p\\\",\\\"q\\\"]\"");
    CHECK_EQ_STR(ev(doc, "concat(esc, '!')"), "\"a\\\"b\\\\c\\n!\"");
    CHECK_EQ_STR(ev(doc, "concat(missing)"), "\"\"");
    CHECK_EQ_STR(ev(doc, "substr(s, 1, 5)"), "\"Hello\"");
    CHECK_EQ_STR(ev(doc, "substr(s, 7)"), "\"World\"");
    CHECK_EQ_STR(ev(doc, "substr(s, 0, 3)"), "\"He\""); /* PostgreSQL: positions 0..2 */
    CHECK_EQ_STR(ev(doc, "substr(s, -5, 3)"), "\"\"");
    CHECK_EQ_STR(ev(doc, "substr(s, 100)"), "\"\"");
    CHECK_EQ_STR(ev(doc, "substr(s, 11, 5)"), "\"d\"");
    CHECK_EQ_STR(ev(doc, "substr(uni, 4, 1)"), "\"\xc3\xa9\"");
    CHECK_EQ_STR(ev(doc, "substr(uni, 6)"), "\"\xe2\x9c\x93\"");
    CHECK_EQ_STR(ev(doc, "substr(s, 1, -1)"),
                 "error: substr() length must not be negative, got -1");
    CHECK_EQ_STR(ev(doc, "substr(s, 'a')"), "error: substr() needs an integer, got string");
    CHECK_EQ_STR(ev(doc, "substr(s, 2.0, 1)"), "\"e\"");
    CHECK_EQ_STR(ev(doc, "substr(missing, 1)"), "null");
    CHECK_EQ_STR(ev(doc, "coalesce(missing, z, n, 1/0)"), "compile error @25: division by zero");
    CHECK_EQ_STR(ev(doc, "coalesce(missing, z, n, n/0)"), "42");
    CHECK_EQ_STR(ev(doc, "coalesce(missing, z)"), "null");
    CHECK_EQ_STR(ev(doc, "abs(neg)"), "7");
    CHECK_EQ_STR(ev(doc, "abs(-2.5)"), "2.5");
    CHECK_EQ_STR(ev(doc, "abs(-big - 1)"), "9.223372036854776e+18");
    CHECK_EQ_STR(ev(doc, "abs(s)"), "error: abs() needs a number, got string");
    CHECK_EQ_STR(ev(doc, "round(d)"), "3");
    CHECK_EQ_STR(ev(doc, "round(-2.5)"), "-3");
    CHECK_EQ_STR(ev(doc, "round(2.4)"), "2");
    CHECK_EQ_STR(ev(doc, "round(3.14159, 2)"), "3.14");
    CHECK_EQ_STR(ev(doc, "round(1234, -2)"), "1200");
    CHECK_EQ_STR(ev(doc, "round(n)"), "42");
    CHECK_EQ_STR(ev(doc, "round(1e300)"), "1e+300");
    CHECK_EQ_STR(ev(doc, "round(s)"), "error: round() needs a number, got string");
    CHECK_EQ_STR(ev(doc, "now_ms()"), "1764402458123");
    CHECK_EQ_STR(ev(doc, "to_timestamp(1764402458123)"), "\"2025-11-29T07:47:38.123Z\"");
    CHECK_EQ_STR(ev(doc, "to_timestamp(0)"), "\"1970-01-01T00:00:00.000Z\"");
    CHECK_EQ_STR(ev(doc, "to_timestamp(-1)"), "\"1969-12-31T23:59:59.999Z\"");
    CHECK_EQ_STR(ev(doc, "to_timestamp(951782400000)"), "\"2000-02-29T00:00:00.000Z\"");
    CHECK_EQ_STR(ev(doc, "to_timestamp(1.5e12)"), "\"2017-07-14T02:40:00.000Z\"");
    CHECK_EQ_STR(ev(doc, "to_timestamp(1e20)"), "null");
    CHECK_EQ_STR(ev(doc, "to_timestamp(`@timestamp`)"), "1795938458123");
    CHECK_EQ_STR(ev(doc, "to_timestamp('2026-11-29T07:47:38.123Z')"), "1795938458123");
    CHECK_EQ_STR(ev(doc, "to_timestamp('2026-11-29T08:47:38.123456+01:00')"), "1795938458123");
    CHECK_EQ_STR(ev(doc, "to_timestamp('2026-11-29 07:47:38z')"), "1795938458000");
    CHECK_EQ_STR(ev(doc, "to_timestamp('1970-01-01')"), "0");
    CHECK_EQ_STR(ev(doc, "to_timestamp('2026-02-30T00:00:00Z')"), "null");
    CHECK_EQ_STR(ev(doc, "to_timestamp('yesterday')"), "null");
    CHECK_EQ_STR(ev(doc, "to_timestamp(to_timestamp(1764402458123))"), "1764402458123");
    CHECK_EQ_STR(
        ev(doc, "to_timestamp(t)"),
        "error: to_timestamp() needs a number of milliseconds or an RFC 3339 string, got boolean");
    CHECK_EQ_STR(ev(doc, "json_extract(a, '$.b.c')"), "3");
    CHECK_EQ_STR(ev(doc, "json_extract(a, 'arr[1].x')"), "\"y\"");
    CHECK_EQ_STR(ev(doc, "json_extract(a, '$[''arr''][2]')"), "[1,2]");
    CHECK_EQ_STR(ev(doc, "json_extract(a, '$')"),
                 "{\"b\":{\"c\":3},\"arr\":[10,{\"x\":\"y\"},[1,2]]}");
    CHECK_EQ_STR(ev(doc, "json_extract(a, '$.nope')"), "null");
    CHECK_EQ_STR(ev(doc, "json_extract(js, '$.k.v[1]')"), "6"); /* JSON text inside a string */
    CHECK_EQ_STR(ev(doc, "json_extract(js, 'k')"), "{\"v\":[5,6]}");
    CHECK_EQ_STR(ev(doc, "json_extract(s, '$.k')"), "null"); /* not JSON text */
    CHECK_EQ_STR(ev(doc, "json_extract(n, '$')"), "null");
    CHECK_EQ_STR(ev("{\"d\":{\"k\":1},\"p\":\"$.k\"}", "json_extract(d, p)"), "1");
    CHECK_EQ_STR(ev("{\"d\":{\"k\":1},\"p\":\"$.[\"}", "json_extract(d, p)"),
                 "error: json_extract(): invalid path '$.['");
    CHECK_EQ_STR(ev(doc, "json_extract('{\"a\":[1,2]}', '$.a[1]')"), "2");
}

TEST(event_id)
{
    wire_expr *e;
    wire_err err;
    CHECK(wire_expr_compile("event_id()", 10, &e, &err) == 0);
    wire_batch *b = wire_batch_new(0);
    wire_event *x = wire_batch_push(b, "{}", 2);
    x->offset = 77;
    wire_position pos = {.split = 0, .identity = {1, 2}, .epoch_ms = 1764402458123, .offset = 99};
    wire_batch_set_position(b, &pos);
    wire_eval_ctx ctx = {.ev = x, .batch = b, .arena = &arena, .id_seed = 5};
    wire_value v;
    CHECK(wire_expr_eval(e, &ctx, &v, &err) == 0);
    CHECK_EQ_INT(v.type, WIRE_V_STRING);
    char want[37];
    wire_event_id(x, b, 5, want);
    CHECK(v.s.n == 36 && memcmp(v.s.p, want, 36) == 0);
    CHECK(v.s.p[14] == '7'); /* UUIDv7 */
    /* without a batch there is no id */
    ctx.batch = NULL;
    CHECK(wire_expr_eval(e, &ctx, &v, &err) == 0);
    CHECK_EQ_INT(v.type, WIRE_V_NULL);
    wire_expr_free(e);
    wire_batch_free(b);
}

TEST(parse_errors)
{
    PARSE_ERR("level = 'error' AND", 19, "expected an expression after 'AND', found end of input");
    PARSE_ERR("", 0, "empty expression");
    PARSE_ERR("   ", 0, "empty expression");
    PARSE_ERR("foo(1)", 0, "unknown function 'foo'");
    PARSE_ERR("a = 1 AND bogus_fn(x)", 10, "unknown function 'bogus_fn'");
    PARSE_ERR("lower(a, b)", 0, "lower() takes 1 argument, got 2");
    PARSE_ERR("substr(a)", 0, "substr() takes 2 to 3 arguments, got 1");
    PARSE_ERR("concat()", 0, "concat() takes at least 1 argument, got 0");
    PARSE_ERR("now_ms(1)", 0, "now_ms() takes 0 arguments, got 1");
    {
        char many[2000] = "x = 1 OR concat(";
        for (int i = 0; i < 300; i++)
            strcat(many, i ? ",1" : "1");
        strcat(many, ")");
        PARSE_ERR(many, 9, "concat() takes at most 255 arguments, got 300");
    }
    PARSE_ERR("level = 'error", 8, "unterminated string: missing closing '");
    PARSE_ERR("`odd", 0, "unterminated name: missing closing `");
    PARSE_ERR("level = \"error\"", 8, "strings are quoted with single quotes");
    PARSE_ERR("(a = 1", 6, "expected ')' to close the '(' at offset 0, found end of input");
    PARSE_ERR("a IN (1, 2", 10, "expected ',' or ')' in the IN list opened at offset 5");
    PARSE_ERR("a IN 1", 5, "expected '(' after IN, found '1'");
    PARSE_ERR("a IN ()", 6, "the IN list is empty");
    PARSE_ERR("a = = 1", 4, "expected an expression after '=', found '='");
    PARSE_ERR("a = 1 b", 6, "unexpected 'b': expected an operator or the end of the expression");
    PARSE_ERR("a = 1)", 5, "unexpected ')'");
    PARSE_ERR("a < b < c", 6, "comparisons cannot be chained");
    PARSE_ERR("a IS 1", 5, "expected NULL after IS, found '1'");
    PARSE_ERR("a IS NOT x", 9, "expected NULL after IS NOT, found 'x'");
    PARSE_ERR("a.", 2, "expected a field name after '.'");
    PARSE_ERR("a.1", 2, "expected a field name after '.'");
    PARSE_ERR("a[x]", 2, "array index must be a non-negative integer");
    PARSE_ERR("a[-1]", 2, "array index must be a non-negative integer");
    PARSE_ERR("a[1", 3, "expected ']' after the array index");
    PARSE_ERR("a # b", 2, "unexpected character '#'");
    PARSE_ERR("a & b", 2, "unexpected '&': use AND");
    PARSE_ERR("a | b", 2, "unexpected '|'");
    PARSE_ERR("!a", 0, "unexpected '!': use NOT, != or !~");
    PARSE_ERR("12abc", 0, "invalid number '12a'");
    PARSE_ERR("CASE WHEN a THEN 1", 18, "expected END to close the CASE at offset 0");
    PARSE_ERR("CASE WHEN a 1 END", 12, "expected THEN after the WHEN condition, found '1'");
    PARSE_ERR("CASE END", 5, "expected WHEN in CASE, found 'END'");
    PARSE_ERR("a ~ b", 4, "the right side of ~ must be a string literal");
    PARSE_ERR("a !~ b", 5, "the right side of !~ must be a string literal");
    PARSE_ERR("a ~ 'x('", 7, "invalid regex: missing closing parenthesis");
    PARSE_ERR("a LIKE 'x!' ESCAPE '!'", 7, "LIKE pattern ends with its escape character");
    PARSE_ERR("a LIKE 'x' ESCAPE 'ab'", 18, "ESCAPE takes a one-character string");
    PARSE_ERR("a LIKE 5", 7, "LIKE needs a string pattern, got integer");
    PARSE_ERR("1 / 0", 2, "division by zero");
    PARSE_ERR("a = 'x' AND 'abc' * 2 > 1", 18, "operator * needs numbers, got string and integer");
    PARSE_ERR("json_extract(a, '$.[')", 16, "json_extract(): invalid path");
    PARSE_ERR("json_extract(a, 5)", 16, "json_extract() needs a string path, got integer");
    PARSE_ERR("lower(a, )", 9, "expected an expression after ',', found ')'");
    PARSE_ERR("lower(a b)", 8, "expected ',' or ')' in the arguments of lower(), found 'b'");
    PARSE_ERR("a AND", 5, "expected an expression after 'AND'");
    PARSE_ERR("NOT", 3, "expected an expression after 'NOT', found end of input");
    PARSE_ERR("a = AND", 4, "expected an expression after '=', found 'AND'");
    PARSE_ERR("\x01", 0, "unexpected character (byte 0x01)");
    {
        static char chain[30000];
        strcpy(chain, "a");
        for (int i = 0; i < 3000; i++)
            strcat(chain, "+a");
        PARSE_ERR(chain, 3999, "expression too deep");
        /* a long chain of constants folds as it goes */
        strcpy(chain, "1");
        for (int i = 0; i < 3000; i++)
            strcat(chain, "+1");
        CHECK_EQ_STR(ev(doc, chain), "3001");
    }
    char deep[2000];
    memset(deep, '(', 1000);
    deep[1000] = '1';
    memset(deep + 1001, ')', 998);
    deep[1999] = '\0';
    wire_expr *e = NULL;
    wire_err err;
    CHECK(wire_expr_compile(deep, strlen(deep), &e, &err) == WIRE_EPARSE);
    CHECK(strstr(err.msg, "nested too deeply") != NULL);
}

TEST(folding_and_text)
{
    wire_expr *e;
    wire_err err;
    const char *src = "  lower('ABC') || 'd' = 'abcd' ";
    CHECK(wire_expr_compile(src, strlen(src), &e, &err) == 0);
    CHECK_EQ_STR(wire_expr_text(e), src);
    /* a constant expression evaluates with no event at all */
    wire_eval_ctx ctx = {.arena = &arena};
    CHECK_EQ_INT(wire_expr_eval_bool(e, &ctx, &err), 1);
    wire_expr_free(e);
    /* keywords are case-insensitive; function names too */
    CHECK_EQ_STR(ev(doc, "LoWeR(level) iN ('error') aNd NoT FaLsE"), "true");
}

TEST(field_cache)
{
    /* one expression naming a field twice; the same ctx across events */
    wire_expr *e;
    wire_err err;
    const char *src = "a.b + a.b * 2 + a.c";
    CHECK(wire_expr_compile(src, strlen(src), &e, &err) == 0);
    char b1[] = "{\"a\":{\"b\":1,\"c\":10}}";
    char b2[] = "{\"a\":{\"b\":2,\"c\":20}}";
    wire_event e1 = {.data = b1, .len = sizeof(b1) - 1};
    wire_event e2 = {.data = b2, .len = sizeof(b2) - 1};
    wire_eval_ctx ctx = {.arena = &arena};
    wire_value v;
    ctx.ev = &e1;
    CHECK(wire_expr_eval(e, &ctx, &v, &err) == 0 && v.i == 13);
    ctx.ev = &e2;
    CHECK(wire_expr_eval(e, &ctx, &v, &err) == 0 && v.i == 26);
    /* same wire_event, bytes changed in place: bumping cache_gen forgets the old lookups */
    memcpy(b2, "{\"a\":{\"b\":3,\"c\":30}}", sizeof(b2));
    ctx.cache_gen++;
    CHECK(wire_expr_eval(e, &ctx, &v, &err) == 0 && v.i == 39);
    /* a different event struct pointing at new bytes is noticed too */
    wire_event e3 = {.data = b1, .len = sizeof(b1) - 1};
    ctx.ev = &e3;
    CHECK(wire_expr_eval(e, &ctx, &v, &err) == 0 && v.i == 13);
    wire_expr_free(e);
}

/*
 * The one-pass top-level lookup (several keys in one unit) must agree with
 * wire_json_get on every event: duplicates (last wins), escaped keys, keys
 * that are prefixes of each other, spacing.
 */
TEST(top_level_pass_matches_json_get)
{
    static const char *const keys[] = {"a", "ab", "b", "\\u0061", "a\\u0062", "\\\"", "c"};
    static const char *const plain[] = {"a", "ab", "b", "\"", "c"};
    wire_select *s;
    wire_err err;
    const char *src = "a, ab, b, `\"`, c";
    CHECK(wire_select_compile(src, strlen(src), &s, &err) == 0);
    unsigned seed = 7;
    char doc_buf[512];
    for (int round = 0; round < 2000; round++) {
        size_t at = 0;
        doc_buf[at++] = '{';
        seed = seed * 1103515245 + 12345;
        int nmem = (int)((seed >> 16) % 6);
        for (int i = 0; i < nmem; i++) {
            seed = seed * 1103515245 + 12345;
            unsigned r = seed >> 8;
            at += (size_t)snprintf(doc_buf + at, sizeof(doc_buf) - at, "%s%s\"%s\"%s:%u",
                                   i ? "," : "", r & 1 ? " " : "", keys[r % 7], r & 2 ? " " : "",
                                   r % 100);
        }
        doc_buf[at++] = '}';
        wire_event event = {.data = doc_buf, .len = (uint32_t)at};
        wire_eval_ctx ctx = {.ev = &event, .arena = &arena, .cache_gen = (uint32_t)round};
        for (size_t k = 0; k < s->n; k++) {
            wire_json_val a, b;
            int fa = wire_expr_field_raw(s->items[k].expr, &ctx, &a);
            int fb = wire_json_get(doc_buf, at, plain[k], strlen(plain[k]), &b);
            if (fa != fb || (fa && (a.p != b.p || a.n != b.n))) {
                fprintf(stderr, "  key '%s' in %.*s: pass %d, get %d\n", plain[k], (int)at, doc_buf,
                        fa, fb);
                CHECK(0);
            }
        }
    }
    wire_select_free(s);
}

TEST(fast_path_eq)
{
    const char *d1 = "{\"msg\":\"\\\"level\\\":\\\"error\\\"\",\"level\":\"error\"}";
    const char *d2 = "{\"ctx\":{\"level\":\"error\"},\"level\":\"info\"}";
    const char *d3 = "{\"level\" : \"err\\u006fr\"}";
    const char *d4 = "{\"level\":1}";
    const char *d5 = "{}";
    CHECK_EQ_STR(cond(d1, "level = 'error'"), "1");
    CHECK_EQ_STR(cond(d2, "level = 'error'"), "0");
    CHECK_EQ_STR(cond(d3, "level = 'error'"), "1");
    CHECK_EQ_STR(cond(d4, "level = 'error'"), "0");
    CHECK_EQ_STR(cond(d5, "level = 'error'"), "0");
    CHECK_EQ_STR(cond(d2, "ctx.level = 'error'"), "1");
    CHECK_EQ_STR(cond(d3, "'error' = level"), "1");
    CHECK_EQ_STR(ev(d4, "level = 'error'"), "null");
    /* the substring prefilter must not hide values spelled with escapes */
    CHECK_EQ_STR(cond("{\"p\":\"a\\/b\"}", "p = 'a/b'"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"a\\u002fb\"}", "p = 'a/b'"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"x\\\"y\"}", "p = 'x\"y'"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"a\\tb\"}", "p = 'a\tb'"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"caf\\u00e9\"}", "p = 'caf\xc3\xa9'"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"caf\xc3\xa9\"}", "p = 'caf\xc3\xa9'"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"\\u0065rror\"}", "p = 'error'"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"\"}", "p = ''"), "1");
    CHECK_EQ_STR(cond("{\"p\":\"erro\"}", "p = 'error'"), "0");
    /* a conjunct that cannot be true settles a condition before the rest runs */
    CHECK_EQ_STR(cond(doc, "level = 'nope' AND s * 2 > 1"), "0");
    CHECK_EQ_STR(cond(doc, "level = 'error' AND s * 2 > 1"),
                 "error: operator * needs numbers, got string and integer");
}

/* eval_bool's fast path (with its prefilter) agrees with full evaluation. */
TEST(fast_path_differential)
{
    static const char *const spellings[] = {
        "error",     "err\\u006fr", "\\u0065rror", "errors", "Error", "a\\/b", "a/b",
        "a\\u002fb", "x\\\"y",      "x\\u0022y",   "",       "err",   "\\n",   "error\\n"};
    static const char *const exprs[] = {
        "p = 'error'",
        "p = 'a/b'",
        "p = 'x\"y'",
        "p = ''",
        "p = '\n'",
        "'error' = p",
        "p = 'error' AND q IS NOT NULL",
        "q = 'a/b' AND (z = 1 OR p = 'error') AND n.p = 'error'",
        "NOT (p = 'error') AND q = 'err'",
    };
    unsigned seed = 99;
    for (size_t x = 0; x < WIRE_ARRAY_LEN(exprs); x++) {
        wire_expr *e;
        wire_err err;
        CHECK(wire_expr_compile(exprs[x], strlen(exprs[x]), &e, &err) == 0);
        for (int round = 0; round < 300; round++) {
            char d[256];
            seed = seed * 1103515245 + 12345;
            unsigned r = seed >> 8;
            snprintf(d, sizeof(d), "{\"q\":\"%s\",%s\"p\":\"%s\"%s}",
                     spellings[(r / 7) % WIRE_ARRAY_LEN(spellings)],
                     r & 1 ? "\"n\":{\"p\":\"error\"}," : "",
                     spellings[r % WIRE_ARRAY_LEN(spellings)], r & 2 ? ",\"z\":1" : "");
            wire_event event = {.data = d, .len = (uint32_t)strlen(d)};
            wire_eval_ctx ctx = {.ev = &event, .arena = &arena, .cache_gen = (uint32_t)round};
            wire_value v;
            CHECK(wire_expr_eval(e, &ctx, &v, &err) == 0);
            int full = v.type == WIRE_V_BOOL && v.b;
            int fast = wire_expr_eval_bool(e, &ctx, &err);
            if (full != fast) {
                fprintf(stderr, "  %s on %s: full %d fast %d\n", exprs[x], d, full, fast);
                CHECK(0);
            }
        }
        wire_expr_free(e);
    }
}

/* ---- select lists ---- */

static void check_select_error(const char *src, long offset, const char *msg, int line)
{
    wire_select *s = NULL;
    wire_err err;
    wire_err_clear(&err);
    int rc = wire_select_compile(src, strlen(src), &s, &err);
    if (rc != WIRE_EPARSE || err.offset != offset || !strstr(err.msg, msg)) {
        fprintf(stderr,
                "%s:%d: %s: select \"%s\": rc %d offset %ld msg \"%s\"; expected @%ld \"%s\"\n",
                __FILE__, line, test_current, src, rc, err.offset, err.msg, offset, msg);
        test_failed_checks++;
    }
    wire_select_free(s);
}
#define SELECT_ERR(src, off, msg) check_select_error(src, off, msg, __LINE__)

TEST(select_lists)
{
    wire_select *s;
    wire_err err;
    const char *src = "ts, host, msg AS message, latency_ms * 1000 AS latency_us, a.b.c, "
                      "tags[0] AS first, `odd key`, lower(x) `Low`, y yy";
    CHECK(wire_select_compile(src, strlen(src), &s, &err) == 0);
    CHECK_EQ_INT(s->n, 9);
    CHECK(!s->star);
    CHECK_EQ_STR(s->items[0].name, "ts");
    CHECK_EQ_STR(s->items[1].name, "host");
    CHECK_EQ_STR(s->items[2].name, "message");
    CHECK_EQ_STR(s->items[3].name, "latency_us");
    CHECK_EQ_STR(wire_expr_text(s->items[3].expr), "latency_ms * 1000");
    CHECK_EQ_STR(s->items[4].name, "c");
    CHECK_EQ_STR(s->items[5].name, "first");
    CHECK_EQ_STR(s->items[6].name, "odd key");
    CHECK_EQ_STR(s->items[7].name, "Low");
    CHECK_EQ_STR(s->items[8].name, "yy");
    wire_select_free(s);

    CHECK(wire_select_compile("*, n + 1 AS n1", 14, &s, &err) == 0);
    CHECK(s->star);
    CHECK_EQ_INT(s->n, 2);
    CHECK(s->items[0].expr == NULL && s->items[0].name == NULL);
    CHECK_EQ_STR(s->items[1].name, "n1");
    wire_select_free(s);

    /* items of one list share field lookups: a.b is located once per event */
    CHECK(wire_select_compile("a.b AS x, a.b + 1 AS y", 22, &s, &err) == 0);
    const char *d = "{\"a\":{\"b\":5}}";
    wire_event event = {.data = d, .len = (uint32_t)strlen(d)};
    wire_eval_ctx ctx = {.ev = &event, .arena = &arena};
    wire_value v;
    CHECK(wire_expr_eval(s->items[0].expr, &ctx, &v, &err) == 0 && v.i == 5);
    CHECK(wire_expr_eval(s->items[1].expr, &ctx, &v, &err) == 0 && v.i == 6);
    wire_select_free(s);

    SELECT_ERR("", 0, "empty select list");
    SELECT_ERR("a, n + 1", 3, "select item 'n + 1' needs a name: add AS name");
    SELECT_ERR("tags[0]", 0, "select item 'tags[0]' needs a name");
    SELECT_ERR("a, b AS", 7, "expected a name after AS, found end of input");
    SELECT_ERR("a, b AS a", 3, "duplicate output name 'a'");
    SELECT_ERR("*, *", 3, "'*' appears twice");
    SELECT_ERR("a,", 2, "expected a select item after ','");
    SELECT_ERR("a b c", 4, "expected ',' or the end of the select list, found 'c'");
    SELECT_ERR("a, lower(", 9, "expected an expression after '(', found end of input");
    SELECT_ERR("a, x = \"y\"", 7, "strings are quoted with single quotes");
}

TEST(large_inputs_compile)
{
    /* many distinct fields and very long paths compile in linear time */
    wire_buf b;
    wire_buf_init(&b);
    for (int i = 0; i < 20000; i++)
        wire_buf_printf(&b, "%sf%d", i ? ", " : "", i);
    wire_select *s;
    wire_err err;
    CHECK(wire_select_compile(b.p, b.len, &s, &err) == 0);
    CHECK_EQ_INT(s->n, 20000);
    CHECK_EQ_STR(s->items[19999].name, "f19999");
    wire_select_free(s);
    wire_buf_reset(&b);
    wire_buf_append(&b, "a", 1);
    for (int i = 0; i < 20000; i++)
        wire_buf_printf(&b, i % 3 ? ".a" : "[%d]", i % 5);
    wire_expr *e;
    CHECK(wire_expr_compile(b.p, b.len, &e, &err) == WIRE_EPARSE);
    CHECK(strstr(err.msg, "field path too deep (more than 512 segments)") != NULL);
    /* 512 segments are fine (and cannot overflow the evaluator's stack) */
    wire_buf_reset(&b);
    wire_buf_append(&b, "a", 1);
    for (int i = 0; i < 511; i++)
        wire_buf_append(&b, ".a", 2);
    CHECK(wire_expr_compile(b.p, b.len, &e, &err) == 0);
    wire_expr_free(e);
    CHECK_EQ_STR(ev("{\"a\":{\"a\":1}}", b.p), "null");
    wire_buf_free(&b);
}

TEST(write_json)
{
    wire_buf b;
    wire_buf_init(&b);
    wire_value v;
    v.type = WIRE_V_STRING;
    v.escaped = 0;
    v.s.p = "a\"b\n";
    v.s.n = 4;
    wire_value_write_json(&b, &v);
    CHECK_EQ_STR(b.p, "\"a\\\"b\\n\"");
    wire_buf_reset(&b);
    v.escaped = 1;
    v.s.p = "a\\\"b";
    v.s.n = 4;
    wire_value_write_json(&b, &v);
    CHECK_EQ_STR(b.p, "\"a\\\"b\"");
    wire_buf_reset(&b);
    v.type = WIRE_V_DOUBLE;
    v.d = NAN;
    wire_value_write_json(&b, &v);
    CHECK_EQ_STR(b.p, "null");
    wire_buf_free(&b);
}

/* ---- metadata namespaces: `_t.part` from the event's fields, not its JSON ---- */

static const char *const t_fields[] = {"part", "off", "key", "name", NULL};
static int t_calls;

static bool t_get(const void *self, const wire_event *ev, unsigned field, wire_arena *a,
                  wire_json_val *out)
{
    t_calls++;
    CHECK(self == &t_calls);
    char *o = wire_arena_alloc_unaligned(a, 64);
    out->p = o;
    switch (field) {
    case 0:
        out->kind = WIRE_JSON_NUMBER;
        out->n = (size_t)snprintf(o, 64, "%u", ev->split);
        return true;
    case 1:
        out->kind = WIRE_JSON_NUMBER;
        out->n = (size_t)snprintf(o, 64, "%llu", (unsigned long long)ev->offset);
        return true;
    case 2:
        if (!ev->key)
            return false;
        out->kind = WIRE_JSON_STRING;
        out->n = wire_json_quote(o, ev->key, ev->key_len); /* test keys are short */
        return true;
    default:
        out->kind = WIRE_JSON_STRING;
        out->p = "\"orders\"";
        out->n = 8;
        return true;
    }
}

static const wire_meta_ns t_ns = {"_t", t_fields, t_get};

/* Evaluate on an event with split/offset/key set, with (ns) or without the namespace. */
static const char *meta_eval(const wire_expr *e, const char *json, const wire_meta_ns *ns,
                             bool as_cond)
{
    static uint32_t gen;
    wire_event event = {.data = json,
                        .len = (uint32_t)strlen(json),
                        .split = 3,
                        .offset = 42,
                        .key = "k\"1",
                        .key_len = 3};
    wire_eval_ctx ctx = {
        .ev = &event, .arena = &arena, .cache_gen = ++gen, .meta = ns, .meta_self = &t_calls};
    wire_err err;
    wire_err_clear(&err);
    if (as_cond) {
        snprintf(out_text, sizeof(out_text), "%d", wire_expr_eval_bool(e, &ctx, &err));
        return out_text;
    }
    wire_value v;
    if (wire_expr_eval(e, &ctx, &v, &err) < 0)
        return "error";
    wire_buf b;
    wire_buf_init(&b);
    wire_value_write_json(&b, &v);
    snprintf(out_text, sizeof(out_text), "%.*s", (int)b.len, b.p ? b.p : "");
    wire_buf_free(&b);
    return out_text;
}

static const char *meta_of(const char *json, const char *src, const wire_meta_ns *ns, bool as_cond)
{
    wire_expr *e;
    wire_err err;
    if (wire_expr_compile(src, strlen(src), &e, &err) != 0)
        return "compile error";
    meta_eval(e, json, ns, as_cond);
    wire_expr_free(e);
    wire_arena_reset(&arena);
    return out_text;
}

TEST(metadata_namespace)
{
    const char *j = "{\"level\":\"error\",\"_t\":{\"part\":9},\"n\":1}";
    /* resolved from the event, whatever the JSON says under the same name */
    CHECK_EQ_STR(meta_of(j, "_t.part", &t_ns, false), "3");
    CHECK_EQ_STR(meta_of(j, "_t.part = 3", &t_ns, true), "1");
    CHECK_EQ_STR(meta_of(j, "_t.part == 4", &t_ns, true), "0");
    CHECK_EQ_STR(meta_of(j, "_t.off + 1", &t_ns, false), "43");
    CHECK_EQ_STR(meta_of(j, "_t.key", &t_ns, false), "\"k\\\"1\"");
    CHECK_EQ_STR(meta_of(j, "_t.key = 'k\"1'", &t_ns, true), "1");
    CHECK_EQ_STR(meta_of(j, "_t.name = 'orders'", &t_ns, true), "1"); /* the = 'literal' path */
    CHECK_EQ_STR(meta_of(j, "level = 'error' AND _t.part = 3", &t_ns, true), "1");
    CHECK_EQ_STR(meta_of(j, "concat(_t.name, '-', _t.part)", &t_ns, false), "\"orders-3\"");
    /* the bare name, an unknown field and a path below a field are null */
    CHECK_EQ_STR(meta_of(j, "_t", &t_ns, false), "null");
    CHECK_EQ_STR(meta_of(j, "_t IS NULL AND _t.nope IS NULL AND _t.part.x IS NULL", &t_ns, true),
                 "1");
    /* several top-level names (one pass over the event) with the namespace among them */
    CHECK_EQ_STR(meta_of(j, "CASE WHEN n = 1 AND _t IS NULL THEN _t.part END", &t_ns, false), "3");
    /* without a namespace the same path is an ordinary field */
    CHECK_EQ_STR(meta_of(j, "_t.part", NULL, false), "9");
    CHECK_EQ_STR(meta_of("{\"_t\":\"x\"}", "_t = 'x'", NULL, true), "1");
    CHECK_EQ_STR(meta_of("{\"_t\":\"x\"}", "_t = 'x'", &t_ns, true), "0");
    /* another namespace's name is not this one's */
    static const wire_meta_ns other = {"_u", t_fields, t_get};
    CHECK_EQ_STR(meta_of(j, "_t.part", &other, false), "9");
    CHECK_EQ_STR(meta_of(j, "_u.off", &other, false), "42");

    /* one compiled expression: rebinding when the context's namespace changes */
    wire_expr *e;
    wire_err err;
    CHECK(wire_expr_compile("_t.part", 7, &e, &err) == 0);
    CHECK_EQ_STR(meta_eval(e, j, &t_ns, false), "3");
    CHECK_EQ_STR(meta_eval(e, j, NULL, false), "9");
    CHECK_EQ_STR(meta_eval(e, j, &t_ns, false), "3");
    wire_expr_free(e);

    /* a namespace costs nothing to an expression that does not name it */
    t_calls = 0;
    CHECK_EQ_STR(meta_of(j, "level = 'error' AND n = 1", &t_ns, true), "1");
    CHECK_EQ_INT(t_calls, 0);

    /* select lists (map): raw JSON of a metadata field, named after its last segment */
    wire_select *sel;
    const char *src = "_t.off, _t.key AS k, level";
    CHECK(wire_select_compile(src, strlen(src), &sel, &err) == 0);
    CHECK_EQ_STR(sel->items[0].name, "off");
    wire_event event = {.data = j, .len = (uint32_t)strlen(j), .offset = 7};
    wire_eval_ctx ctx = {
        .ev = &event, .arena = &arena, .cache_gen = 1, .meta = &t_ns, .meta_self = &t_calls};
    wire_json_val raw;
    CHECK(wire_expr_is_field(sel->items[0].expr));
    CHECK_EQ_INT(wire_expr_field_raw(sel->items[0].expr, &ctx, &raw), 1);
    CHECK(raw.n == 1 && raw.p[0] == '7');
    CHECK_EQ_INT(wire_expr_field_raw(sel->items[1].expr, &ctx, &raw), 0); /* no key: null */
    CHECK_EQ_INT(wire_expr_field_raw(sel->items[2].expr, &ctx, &raw), 1);
    CHECK(raw.n == 7 && memcmp(raw.p, "\"error\"", 7) == 0);
    wire_select_free(sel);
    wire_arena_reset(&arena);
}

int main(void)
{
    wire_arena_init(&arena, 4096);
    batch = wire_batch_new(0);
    RUN(literals);
    RUN(metadata_namespace);
    RUN(paths);
    RUN(comparisons);
    RUN(null_logic);
    RUN(precedence);
    RUN(arithmetic);
    RUN(in_lists);
    RUN(like);
    RUN(regex);
    RUN(case_expr);
    RUN(functions);
    RUN(event_id);
    RUN(parse_errors);
    RUN(folding_and_text);
    RUN(field_cache);
    RUN(top_level_pass_matches_json_get);
    RUN(fast_path_eq);
    RUN(fast_path_differential);
    RUN(select_lists);
    RUN(large_inputs_compile);
    RUN(write_json);
    wire_batch_free(batch);
    wire_arena_free(&arena);
    TEST_MAIN_END();
}
