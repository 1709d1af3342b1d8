/*
 * lexer.h — the tokens of Wire's SQL dialect (../shared/STREAMING.md §4;
 * docs/sql.md): identifiers and keywords (case-insensitive), "quoted
 * identifiers", 'strings' ('' for a quote), numbers, operators and
 * punctuation; -- and block comments are skipped. Every token knows its
 * line and column (1-based, in bytes), for FILE:LINE:COL errors as YAML has.
 */
#ifndef WIRE_SQL_LEXER_H
#define WIRE_SQL_LEXER_H

#include "core/core.h"

typedef enum {
    WIRE_SQL_EOF,
    WIRE_SQL_IDENT,  /* a word: keyword or name; compare with wire_sql_is */
    WIRE_SQL_QIDENT, /* "a name" (p, n: between the quotes, "" still doubled) */
    WIRE_SQL_STRING, /* 'text' (p, n: between the quotes, '' still doubled) */
    WIRE_SQL_NUMBER, /* 12, 1.5, 2e3 */
    WIRE_SQL_OP,     /* ( ) , ; . * + - / % = < > <= >= <> != || */
} wire_sql_kind;

typedef struct wire_sql_tok {
    wire_sql_kind kind;
    const char *p; /* into the source */
    size_t n;
    int line, col;
} wire_sql_tok;

typedef struct wire_sql_lexer {
    const char *src;
    size_t len, i;
    int line, col;
} wire_sql_lexer;

void wire_sql_lexer_init(wire_sql_lexer *lx, const char *src, size_t len);
/* The next token (EOF at the end, again and again). -1 with err (its offset set) for an
   unterminated string, identifier or comment, or a character the dialect has no use for. */
int wire_sql_next(wire_sql_lexer *lx, wire_sql_tok *t, wire_err *err);
/* Is the token the word `kw` (any case)? */
bool wire_sql_is(const wire_sql_tok *t, const char *kw);
/* Is it the operator or punctuation `op`? */
bool wire_sql_is_op(const wire_sql_tok *t, const char *op);
/* A STRING's or QIDENT's value, the doubled quotes undone, into out (t->n + 1 bytes);
   its length. */
size_t wire_sql_unquote(const wire_sql_tok *t, char *out);

#endif
