/*
 * fuzz_expr.c — libFuzzer target for the expression compiler and evaluator.
 *
 * The input is compiled as an expression (and, from its first byte, as a
 * select list); whatever compiles is evaluated against a few fixed events
 * that cover nesting, arrays, escapes, unicode, numbers at the int64 edges
 * and missing fields. Compile errors must carry an offset inside the input.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc fuzz/fuzz_expr.c \
 *       src/core/[a-z]*.c $(pkg-config --cflags --libs libpcre2-8) -lm -o fuzz_expr
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/expr.h"

static const char *const events[] = {
    "{\"level\":\"error\",\"n\":42,\"d\":-2.5e3,\"s\":\"Hello \\\"W\\u00f6rld\\\"\\n\","
    "\"a\":{\"b\":{\"c\":[1,2,{\"x\":null}]}},\"t\":true,\"big\":9223372036854775807,"
    "\"neg\":-9223372036854775808,\"js\":\"{\\\"k\\\":[1,{\\\"v\\\":\\\"w\\\"}]}\","
    "\"ts\":\"2026-11-29T07:47:38.123+02:00\",\"e\":\"\",\"u\":\"\\ud83d\\ude00 \xe2\x9c\x93\"}",
    "{}",
    "{\"level\":1,\"a\":[[],{}],\"s\":null,\"n\":\"42\",\"d\":1e308}",
};

static void eval_all(const wire_expr *e, wire_arena *arena, wire_batch *b)
{
    wire_err err;
    wire_buf out;
    wire_buf_init(&out);
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        wire_eval_ctx ctx;
        memset(&ctx, 0, sizeof(ctx));
        ctx.ev = &b->ev[i];
        ctx.batch = b;
        ctx.arena = arena;
        ctx.now_ms = 1764402458123;
        wire_value v;
        int rc = wire_expr_eval(e, &ctx, &v, &err);
        if (rc == 0) {
            wire_buf_reset(&out);
            wire_value_write_json(&out, &v);
        }
        /* the condition view (fast paths, prefilter) agrees with evaluation */
        int b = wire_expr_eval_bool(e, &ctx, &err);
        if (rc == 0 && v.type == WIRE_V_BOOL && b != v.b)
            abort();
        if (rc == 0 && v.type == WIRE_V_NULL && b != 0)
            abort();
        if (rc < 0 && b > 0)
            abort();
    }
    wire_buf_free(&out);
    wire_arena_reset(arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wire_batch *b;
    static wire_arena arena;
    if (!b) {
        b = wire_batch_new(0);
        for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
            wire_batch_push(b, events[i], (uint32_t)strlen(events[i]));
        wire_arena_init(&arena, 4096);
    }
    /* a copy with no terminator, so reading past the end is caught */
    char *src = malloc(size ? size : 1);
    memcpy(src, data, size);
    wire_err err;
    wire_expr *e = NULL;
    if (wire_expr_compile(src, size, &e, &err) == 0) {
        eval_all(e, &arena, b);
        wire_expr_free(e);
    } else if (err.offset < 0 || (size_t)err.offset > size || !err.msg[0]) {
        fprintf(stderr, "bad error offset %ld for input of %zu bytes: %s\n", err.offset, size,
                err.msg);
        abort();
    }
    wire_select *s = NULL;
    if (wire_select_compile(src, size, &s, &err) == 0) {
        for (size_t i = 0; i < s->n; i++)
            if (s->items[i].expr)
                eval_all(s->items[i].expr, &arena, b);
        wire_select_free(s);
    } else if (err.offset < 0 || (size_t)err.offset > size) {
        abort();
    }
    free(src);
    return 0;
}
