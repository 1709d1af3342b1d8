/*
 * test_sql_lexer.c — the SQL dialect's tokens (src/sql/lexer.c): words and
 * keywords in any case, quoted names and strings with doubled quotes,
 * numbers, every operator, comments, line:col of each token, and the
 * errors (unterminated string, name, comment; a stray character) with
 * their positions.
 */
#include "sql/lexer.h"
#include "test.h"

/* The tokens of src as "KIND:text@line:col" joined by spaces (or "ERR:message"). */
static const char *lex(const char *src)
{
    static char out[4096];
    static const char *const kinds[] = {"EOF", "ID", "QID", "STR", "NUM", "OP"};
    wire_sql_lexer lx;
    wire_sql_lexer_init(&lx, src, strlen(src));
    size_t k = 0;
    out[0] = 0;
    for (;;) {
        wire_sql_tok t;
        wire_err err;
        if (wire_sql_next(&lx, &t, &err) != 0) {
            snprintf(out + k, sizeof(out) - k, "%sERR:%s", k ? " " : "", err.msg);
            return out;
        }
        if (t.kind == WIRE_SQL_EOF)
            return out;
        k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%s:%.*s@%d:%d", k ? " " : "",
                              kinds[t.kind], (int)t.n, t.p, t.line, t.col);
    }
}

TEST(sql_tokens)
{
    CHECK_EQ_STR(lex("SELECT a, b FROM t;"),
                 "ID:SELECT@1:1 ID:a@1:8 OP:,@1:9 ID:b@1:11 ID:FROM@1:13 ID:t@1:18 OP:;@1:19");
    CHECK_EQ_STR(lex("x<=1 AND y<>2 OR z!=3 || 'a'"),
                 "ID:x@1:1 OP:<=@1:2 NUM:1@1:4 ID:AND@1:6 ID:y@1:10 OP:<>@1:11 NUM:2@1:13 "
                 "ID:OR@1:15 ID:z@1:18 OP:!=@1:19 NUM:3@1:21 OP:||@1:23 STR:a@1:26");
    CHECK_EQ_STR(lex("1.5 2e3 .5 7E-2 3."),
                 "NUM:1.5@1:1 NUM:2e3@1:5 NUM:.5@1:9 NUM:7E-2@1:12 NUM:3.@1:17");
    CHECK_EQ_STR(lex("ts - INTERVAL '2' SECOND"),
                 "ID:ts@1:1 OP:-@1:4 ID:INTERVAL@1:6 STR:2@1:15 ID:SECOND@1:19");
    CHECK_EQ_STR(lex("-- a comment\n  /* and\n another */ a.b -- end"),
                 "ID:a@3:13 OP:.@3:14 ID:b@3:15");
    CHECK_EQ_STR(lex("'it''s' \"a \"\"b\"\"\""), "STR:it''s@1:1 QID:a \"\"b\"\"@1:9");
    CHECK_EQ_STR(lex("region TEXT FROM 'geo.region'"),
                 "ID:region@1:1 ID:TEXT@1:8 ID:FROM@1:13 STR:geo.region@1:18");
    CHECK_EQ_STR(lex("a\n\tb"), "ID:a@1:1 ID:b@2:2");
    CHECK_EQ_STR(lex(""), "");
}

TEST(sql_errors)
{
    CHECK_EQ_STR(lex("SELECT 'abc"), "ID:SELECT@1:1 ERR:1:8: string never closed (')");
    CHECK_EQ_STR(lex("a \"b"), "ID:a@1:1 ERR:1:3: quoted name never closed (\")");
    CHECK_EQ_STR(lex("a /* b"), "ID:a@1:1 ERR:1:3: comment never closed (*/)");
    CHECK_EQ_STR(lex("a\n  #"), "ID:a@1:1 ERR:2:3: unexpected character '#'");
    CHECK_EQ_STR(lex("a ?"), "ID:a@1:1 ERR:1:3: unexpected character '?'");
}

TEST(sql_keywords_and_unquote)
{
    wire_sql_lexer lx;
    const char *src = "select 'it''s' \"x\"\"y\" <=";
    wire_sql_lexer_init(&lx, src, strlen(src));
    wire_sql_tok t;
    wire_err err;
    char buf[64];
    CHECK_EQ_INT(wire_sql_next(&lx, &t, &err), 0);
    CHECK(wire_sql_is(&t, "SELECT") && wire_sql_is(&t, "select") && !wire_sql_is(&t, "SELEC"));
    CHECK_EQ_INT(wire_sql_next(&lx, &t, &err), 0);
    CHECK_EQ_INT(wire_sql_unquote(&t, buf), 4);
    CHECK_EQ_STR(buf, "it's");
    CHECK_EQ_INT(wire_sql_next(&lx, &t, &err), 0);
    wire_sql_unquote(&t, buf);
    CHECK_EQ_STR(buf, "x\"y");
    CHECK(!wire_sql_is(&t, "x\"y")); /* a quoted name is no keyword */
    CHECK_EQ_INT(wire_sql_next(&lx, &t, &err), 0);
    CHECK(wire_sql_is_op(&t, "<=") && !wire_sql_is_op(&t, "<"));
    CHECK_EQ_INT(wire_sql_next(&lx, &t, &err), 0);
    CHECK_EQ_INT(t.kind, WIRE_SQL_EOF);
    CHECK_EQ_INT(wire_sql_next(&lx, &t, &err), 0); /* EOF again */
    CHECK_EQ_INT(t.kind, WIRE_SQL_EOF);
}

int main(void)
{
    RUN(sql_tokens);
    RUN(sql_errors);
    RUN(sql_keywords_and_unquote);
    TEST_MAIN_END();
}
