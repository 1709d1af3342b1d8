/*
 * lexer.c — SQL tokens (lexer.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/lexer.h"

void wire_sql_lexer_init(wire_sql_lexer *lx, const char *src, size_t len)
{
    lx->src = src;
    lx->len = len;
    lx->i = 0;
    lx->line = 1;
    lx->col = 1;
}

static void advance(wire_sql_lexer *lx, size_t n)
{
    for (size_t k = 0; k < n && lx->i < lx->len; k++) {
        if (lx->src[lx->i++] == '\n') {
            lx->line++;
            lx->col = 1;
        } else {
            lx->col++;
        }
    }
}

static bool word_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool word_char(unsigned char c)
{
    return word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int fail(wire_sql_lexer *lx, size_t at, int line, int col, wire_err *err, const char *what)
{
    int rc = wire_errf_at(err, WIRE_EPARSE, (long)at, "%d:%d: %s", line, col, what);
    lx->i = lx->len; /* nothing after an error */
    return rc;
}

/* Skip blanks and comments; -1 for an unterminated block comment. */
static int skip(wire_sql_lexer *lx, wire_err *err)
{
    for (;;) {
        while (lx->i < lx->len && strchr(" \t\r\n\f\v", lx->src[lx->i]) && lx->src[lx->i])
            advance(lx, 1);
        if (lx->i + 1 < lx->len && lx->src[lx->i] == '-' && lx->src[lx->i + 1] == '-') {
            while (lx->i < lx->len && lx->src[lx->i] != '\n')
                advance(lx, 1);
            continue;
        }
        if (lx->i + 1 < lx->len && lx->src[lx->i] == '/' && lx->src[lx->i + 1] == '*') {
            size_t at = lx->i;
            int line = lx->line, col = lx->col;
            advance(lx, 2);
            while (lx->i + 1 < lx->len && !(lx->src[lx->i] == '*' && lx->src[lx->i + 1] == '/'))
                advance(lx, 1);
            if (lx->i + 1 >= lx->len)
                return fail(lx, at, line, col, err, "comment never closed (*/)");
            advance(lx, 2);
            continue;
        }
        return 0;
    }
}

int wire_sql_next(wire_sql_lexer *lx, wire_sql_tok *t, wire_err *err)
{
    if (skip(lx, err) != 0)
        return -1;
    const char *s = lx->src;
    size_t start = lx->i;
    t->p = s + start;
    t->line = lx->line;
    t->col = lx->col;
    t->n = 0;
    if (start >= lx->len) {
        t->kind = WIRE_SQL_EOF;
        return 0;
    }
    unsigned char c = (unsigned char)s[start];
    size_t j = start;
    if (word_start(c)) {
        while (j < lx->len && word_char((unsigned char)s[j]))
            j++;
        t->kind = WIRE_SQL_IDENT;
    } else if (digit(c) || (c == '.' && j + 1 < lx->len && digit((unsigned char)s[j + 1]))) {
        while (j < lx->len && digit((unsigned char)s[j]))
            j++;
        if (j < lx->len && s[j] == '.') {
            j++;
            while (j < lx->len && digit((unsigned char)s[j]))
                j++;
        }
        if (j < lx->len && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < lx->len && (s[k] == '+' || s[k] == '-'))
                k++;
            if (k < lx->len && digit((unsigned char)s[k])) {
                while (k < lx->len && digit((unsigned char)s[k]))
                    k++;
                j = k;
            }
        }
        t->kind = WIRE_SQL_NUMBER;
    } else if (c == '\'' || c == '"') {
        j++;
        for (;;) {
            if (j >= lx->len)
                return fail(lx, start, t->line, t->col, err,
                            c == '\'' ? "string never closed (')"
                                      : "quoted name never closed (\")");
            if ((unsigned char)s[j] == c) {
                if (j + 1 < lx->len && (unsigned char)s[j + 1] == c) {
                    j += 2; /* a doubled quote */
                    continue;
                }
                break;
            }
            j++;
        }
        t->kind = c == '\'' ? WIRE_SQL_STRING : WIRE_SQL_QIDENT;
        t->p = s + start + 1;
        t->n = j - start - 1;
        advance(lx, j + 1 - start);
        return 0;
    } else {
        static const char *const two[] = {"<=", ">=", "<>", "!=", "||"};
        t->kind = WIRE_SQL_OP;
        for (size_t k = 0; k < WIRE_ARRAY_LEN(two); k++)
            if (j + 1 < lx->len && s[j] == two[k][0] && s[j + 1] == two[k][1]) {
                t->n = 2;
                advance(lx, 2);
                return 0;
            }
        if (!c || !strchr("(),;.*+-/%=<>", c)) {
            char msg[64];
            if (c >= 0x20 && c < 0x7f)
                snprintf(msg, sizeof(msg), "unexpected character '%c'", c);
            else
                snprintf(msg, sizeof(msg), "unexpected byte 0x%02x", c);
            return fail(lx, start, t->line, t->col, err, msg);
        }
        j++;
    }
    t->n = j - start;
    advance(lx, j - start);
    return 0;
}

bool wire_sql_is(const wire_sql_tok *t, const char *kw)
{
    return t->kind == WIRE_SQL_IDENT && strlen(kw) == t->n && strncasecmp(t->p, kw, t->n) == 0;
}

bool wire_sql_is_op(const wire_sql_tok *t, const char *op)
{
    return t->kind == WIRE_SQL_OP && strlen(op) == t->n && memcmp(t->p, op, t->n) == 0;
}

size_t wire_sql_unquote(const wire_sql_tok *t, char *out)
{
    char q = t->kind == WIRE_SQL_QIDENT ? '"' : '\'';
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        out[k++] = t->p[i];
        if (t->p[i] == q && i + 1 < t->n && t->p[i + 1] == q)
            i++;
    }
    out[k] = 0;
    return k;
}
