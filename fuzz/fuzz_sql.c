/*
 * fuzz_sql.c — libFuzzer target for the SQL dialect's lexer
 * (src/sql/lexer.c; the parser will join it here).
 *
 * Any input: tokens lie inside the input, in order and without overlap;
 * each token's line:col is what counting the bytes before it gives; an
 * error carries an offset inside the input and ends the stream; unquoting
 * never writes more than the token's length. The input is copied to an
 * exact-size buffer so any over-read is caught. Built and run by
 * scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql/lexer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size ? size : 1);
    memcpy(src, data, size);
    wire_sql_lexer lx;
    wire_sql_lexer_init(&lx, src, size);
    const char *prev_end = src;
    for (int guard = 0; guard <= (int)size + 1; guard++) {
        wire_sql_tok t;
        wire_err err;
        if (wire_sql_next(&lx, &t, &err) != 0) {
            if (err.offset < 0 || (size_t)err.offset > size)
                abort();
            break;
        }
        if (t.kind == WIRE_SQL_EOF)
            break;
        const char *begin = t.kind == WIRE_SQL_STRING || t.kind == WIRE_SQL_QIDENT ? t.p - 1 : t.p;
        if (begin < prev_end || t.p + t.n > src + size)
            abort();
        int line = 1, col = 1;
        for (const char *q = src; q < begin; q++) {
            if (*q == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        if (line != t.line || col != t.col)
            abort();
        if (t.kind == WIRE_SQL_STRING || t.kind == WIRE_SQL_QIDENT) {
            char *out = malloc(t.n + 1);
            if (wire_sql_unquote(&t, out) > t.n)
                abort();
            free(out);
        }
        prev_end = t.p + t.n;
    }
    free(src);
    return 0;
}
