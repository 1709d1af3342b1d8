/*
 * test_config.c — the configuration tree: YAML and JSON loading, positions
 * of nodes and of bytes inside scalars, ${ENV} substitution, the JSON view,
 * and every loader error message with its line:col.
 */
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "test.h"

/* Load `text`; return the tree (maybe NULL) and the diagnostics as one string. */
static wire_cfg *load(const char *text, int *rc, char *diag, size_t dn)
{
    wire_diags d = {0};
    wire_cfg *c = NULL;
    *rc = wire_cfg_load_mem("t.yaml", text, strlen(text), &c, &d);
    diag[0] = '\0';
    size_t off = 0;
    for (size_t i = 0; i < d.n && off < dn; i++)
        off += (size_t)snprintf(diag + off, dn - off, "%s%s:%d:%d: %s", i ? "\n" : "", d.v[i].file,
                                d.v[i].line, d.v[i].col, d.v[i].msg);
    wire_diags_free(&d);
    return c;
}

/* The error output of loading `text` (the tree is freed). */
static const char *errors_of(const char *text)
{
    static char diag[4096];
    int rc;
    wire_cfg *c = load(text, &rc, diag, sizeof(diag));
    wire_cfg_free(c);
    return diag;
}

static char *json_of(const wire_cfg *c)
{
    static char out[4096];
    wire_buf b;
    wire_buf_init(&b);
    wire_cfg_to_json(c, &b);
    snprintf(out, sizeof(out), "%s", b.p ? b.p : "");
    wire_buf_free(&b);
    return out;
}

/* Round trip: text -> tree -> JSON. */
static const char *to_json(const char *text)
{
    static char out[4096];
    char diag[1024];
    int rc;
    wire_cfg *c = load(text, &rc, diag, sizeof(diag));
    if (!c || rc) {
        snprintf(out, sizeof(out), "ERROR rc=%d %s", rc, diag);
    } else {
        snprintf(out, sizeof(out), "%s", json_of(c));
    }
    wire_cfg_free(c);
    return out;
}

TEST(yaml_tree_and_positions)
{
    char diag[1024];
    int rc;
    wire_cfg *c = load("name: errors\n"
                       "source:\n"
                       "  type: file\n"
                       "  config: { path: ./app.jsonl, mode: tail }\n"
                       "transforms:\n"
                       "  - type: filter\n"
                       "    config: {where: \"level = 'error'\"}\n",
                       &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(diag, "");
    CHECK(c && c->kind == WIRE_CFG_MAP);
    CHECK_EQ_INT(c->npairs, 3);
    const wire_cfg *name = wire_cfg_get(c, "name");
    CHECK(name && name->kind == WIRE_CFG_SCALAR);
    CHECK_EQ_STR(name->str, "errors");
    CHECK_EQ_INT(name->line, 1);
    CHECK_EQ_INT(name->col, 7);
    CHECK_EQ_INT(c->pairs[1].key->line, 2);
    CHECK_EQ_INT(c->pairs[1].key->col, 1);
    const wire_cfg *src = wire_cfg_get(c, "source");
    CHECK(src && src->kind == WIRE_CFG_MAP);
    CHECK_EQ_INT(src->line, 3);
    CHECK_EQ_INT(src->col, 3);
    const wire_cfg *cfg = wire_cfg_get(src, "config");
    CHECK(cfg && cfg->kind == WIRE_CFG_MAP);
    CHECK_EQ_INT(cfg->line, 4);
    CHECK_EQ_INT(cfg->col, 11);
    const wire_cfg *mode = wire_cfg_get(cfg, "mode");
    CHECK_EQ_STR(mode->str, "tail");
    CHECK_EQ_INT(mode->line, 4);
    CHECK_EQ_INT(mode->col, 38);
    const wire_cfg *tr = wire_cfg_get(c, "transforms");
    CHECK(tr && tr->kind == WIRE_CFG_SEQ && tr->nitems == 1);
    const wire_cfg *where = wire_cfg_get(wire_cfg_get(tr->items[0], "config"), "where");
    CHECK(where && where->quoted);
    CHECK_EQ_STR(where->str, "level = 'error'");
    CHECK_EQ_INT(where->line, 7);
    CHECK_EQ_INT(where->col, 21);
    CHECK_EQ_INT(where->text_line, 7);
    CHECK_EQ_INT(where->text_col, 22);
    CHECK(where->text_pos == NULL);
    int l, co;
    wire_cfg_text_pos(where, 8, &l, &co);
    CHECK_EQ_INT(l, 7);
    CHECK_EQ_INT(co, 30);
    CHECK(wire_cfg_get(c, "nope") == NULL);
    CHECK(wire_cfg_get(name, "x") == NULL);
    CHECK_EQ_STR(c->file, "t.yaml");
    CHECK_EQ_STR(where->file, "t.yaml");
    wire_cfg_free(c);
}

TEST(json_documents)
{
    CHECK_EQ_STR(to_json("{\"a\": 1, \"b\": [true, false, null], \"c\": \"x\", \"d\": -2.5e3}"),
                 "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\",\"d\":-2.5e3}");
    /* compact JSON, no spaces after ':' or ',' */
    CHECK_EQ_STR(to_json("{\"a\":1,\"b\":{\"c\":[1,2]},\"u\":\"http://x:80/y\"}"),
                 "{\"a\":1,\"b\":{\"c\":[1,2]},\"u\":\"http://x:80/y\"}");
    /* tabs as whitespace, including the indentation of the first line */
    CHECK_EQ_STR(to_json("\t{\n\t\"name\":\t\"x\",\n\t\"a\":\t[1,\t2]\t}\t\n"),
                 "{\"name\":\"x\",\"a\":[1,2]}");
    CHECK_EQ_STR(to_json("{\r\n\t\"a\": {\r\n\t\t\"b\": \"t\\tab\"\r\n\t}\r\n}\r\n"),
                 "{\"a\":{\"b\":\"t\\tab\"}}");
    /* a tab inside a string is kept */
    CHECK_EQ_STR(to_json("{\"a\":\t\"x\ty\"}"), "{\"a\":\"x\\ty\"}");
    /* JSON escapes, including \/ and \u */
    CHECK_EQ_STR(to_json("{\"s\": \"a\\/b\\u00e9\\\"q\\\\\"}"), "{\"s\":\"a/b\xc3\xa9\\\"q\\\\\"}");
    CHECK_EQ_STR(to_json("[]"), "[]");
    CHECK_EQ_STR(to_json("{}"), "{}");
    CHECK_EQ_STR(to_json("[{\"a\": []}, {}]"), "[{\"a\":[]},{}]");
    /* a UTF-8 byte-order mark is accepted */
    CHECK_EQ_STR(to_json("\xEF\xBB\xBF{\"a\": 1}"), "{\"a\":1}");
}

TEST(core_schema_typing)
{
    CHECK_EQ_STR(to_json("[1, -2, +3, 0o17, 0x1F, 007]"), "[1,-2,3,15,31,7]");
    CHECK_EQ_STR(to_json("[1.5, .5, 1., -0.25, 1e3, +2.5E-2, 00.5]"),
                 "[1.5,0.5,1.0,-0.25,1e3,2.5E-2,0.5]");
    CHECK_EQ_STR(to_json("[true, True, TRUE, false, False, FALSE, yes, no, on]"),
                 "[true,true,true,false,false,false,\"yes\",\"no\",\"on\"]");
    CHECK_EQ_STR(to_json("[null, Null, NULL, ~, \"null\", '1', \"true\"]"),
                 "[null,null,null,null,\"null\",\"1\",\"true\"]");
    CHECK_EQ_STR(to_json("a:\nb: ''\n"), "{\"a\":null,\"b\":\"\"}");
    CHECK_EQ_STR(to_json("[.inf, .nan, 1_000, 1.2.3, 0x, 12abc]"),
                 "[\".inf\",\".nan\",\"1_000\",\"1.2.3\",\"0x\",\"12abc\"]");
    /* beyond int64: still a JSON number */
    CHECK_EQ_STR(to_json("[9223372036854775807, -9223372036854775808, 99999999999999999999]"),
                 "[9223372036854775807,-9223372036854775808,99999999999999999999]");
    CHECK_EQ_STR(to_json("!!str 12"), "\"12\"");
    CHECK_EQ_STR(to_json("s: |\n  a\"b\n  \\c\t\n"), "{\"s\":\"a\\\"b\\n\\\\c\\t\\n\"}");
    CHECK_EQ_STR(to_json("s: \"\\x01\\x7f\\r\\b\\f\""), "{\"s\":\"\\u0001\\u007f\\r\\b\\f\"}");
    CHECK_EQ_STR(to_json(""), "null");
    CHECK_EQ_STR(to_json("# only a comment\n"), "null");

    int64_t v;
    CHECK_EQ_INT(wire_cfg_parse_int("42", 2, &v), 0);
    CHECK_EQ_INT(v, 42);
    CHECK_EQ_INT(wire_cfg_parse_int("-0x1", 4, &v), -1);
    CHECK_EQ_INT(wire_cfg_parse_int("9223372036854775808", 19, &v), -1);
    CHECK_EQ_INT(wire_cfg_parse_int("", 0, &v), -1);
    CHECK_EQ_INT(wire_cfg_parse_int("+", 1, &v), -1);
}

TEST(null_and_empty_nodes)
{
    char diag[256];
    int rc;
    wire_cfg *c = load("a:\nb: ~\nc: \"\"\n", &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(wire_cfg_get(c, "a")->kind, WIRE_CFG_NULL);
    CHECK_EQ_INT(wire_cfg_get(c, "b")->kind, WIRE_CFG_NULL);
    CHECK_EQ_INT(wire_cfg_get(c, "c")->kind, WIRE_CFG_SCALAR);
    CHECK(wire_cfg_get(c, "c")->quoted);
    wire_cfg_free(c);
    c = load("", &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, 0);
    CHECK(c && c->kind == WIRE_CFG_NULL);
    CHECK_EQ_INT(c->line, 1);
    CHECK_EQ_INT(c->col, 1);
    wire_cfg_free(c);
}

/* Position of byte k of scalar `key` in `text`, as "L:C". */
static const char *pos_in(const char *text, const char *key, size_t k)
{
    static char out[600];
    char diag[512];
    int rc;
    wire_cfg *c = load(text, &rc, diag, sizeof(diag));
    const wire_cfg *s = wire_cfg_get(c, key);
    if (!s) {
        snprintf(out, sizeof(out), "missing (%s)", diag);
    } else {
        int l, co;
        wire_cfg_text_pos(s, k, &l, &co);
        snprintf(out, sizeof(out), "%d:%d", l, co);
    }
    wire_cfg_free(c);
    return out;
}

TEST(positions_inside_scalars)
{
    /* plain and quoted single-line */
    CHECK_EQ_STR(pos_in("w: a = 1\n", "w", 0), "1:4");
    CHECK_EQ_STR(pos_in("w: a = 1\n", "w", 4), "1:8");
    CHECK_EQ_STR(pos_in("w: 'a = 1'\n", "w", 4), "1:9");
    CHECK_EQ_STR(pos_in("w:    \"a = 1\"\n", "w", 2), "1:10");
    /* end of text */
    CHECK_EQ_STR(pos_in("w: abc\n", "w", 3), "1:7");
    /* escapes: '' is one byte; \t and \u00e9 are one character */
    CHECK_EQ_STR(pos_in("w: 'it''s x'\n", "w", 5), "1:11");
    CHECK_EQ_STR(pos_in("w: \"a\\tb c\"\n", "w", 2), "1:8");
    CHECK_EQ_STR(pos_in("w: \"\\u00e9 x\"\n", "w", 2), "1:11");
    CHECK_EQ_STR(pos_in("w: \"\\u00e9 x\"\n", "w", 3), "1:12");
    CHECK_EQ_STR(pos_in("w: \"\\u00e9 x\"\n", "w", 1), "1:5");
    /* multi-byte characters count as one column */
    CHECK_EQ_STR(pos_in("w: \"\xc3\xa9\xc3\xa9 x\"\n", "w", 5), "1:8");
    /* literal block scalar: lines and their own indentation */
    const char *lit = "w: |\n"
                      "  a = 1\n"
                      "    AND b\n"
                      "  c\n";
    CHECK_EQ_STR(pos_in(lit, "w", 0), "2:3");
    CHECK_EQ_STR(pos_in(lit, "w", 5), "2:8");  /* the first \n */
    CHECK_EQ_STR(pos_in(lit, "w", 6), "3:3");  /* leading spaces belong to the text */
    CHECK_EQ_STR(pos_in(lit, "w", 8), "3:5");  /* A of AND */
    CHECK_EQ_STR(pos_in(lit, "w", 14), "4:3"); /* c */
    CHECK_EQ_STR(pos_in(lit, "w", 15), "4:4"); /* the last \n */
    /* folded with blank lines and a header comment */
    const char *fold = "x: 1\n"
                       "w: >-   # comment\n"
                       "    f1\n"
                       "\n"
                       "    f2 g\n";
    CHECK_EQ_STR(pos_in(fold, "w", 0), "3:5");
    CHECK_EQ_STR(pos_in(fold, "w", 3), "5:5");
    CHECK_EQ_STR(pos_in(fold, "w", 6), "5:8");
    /* multi-line plain and quoted scalars fold lines */
    const char *ml = "w: a = 1\n"
                     "   AND  b\n";
    CHECK_EQ_STR(pos_in(ml, "w", 6), "2:4");
    CHECK_EQ_STR(pos_in(ml, "w", 11), "2:9");
    const char *mq = "w: \"a = 1\n"
                     "      AND b \\\n"
                     "   c\"\n";
    CHECK_EQ_STR(pos_in(mq, "w", 6), "2:7");
    CHECK_EQ_STR(pos_in(mq, "w", 12), "3:4");
    /* inside JSON and flow collections */
    CHECK_EQ_STR(pos_in("{\"w\": \"ab\"}", "w", 1), "1:9");
    CHECK_EQ_STR(pos_in("{\"w\":\t\"ab\"}", "w", 1), "1:9");
    /* after a tag */
    CHECK_EQ_STR(pos_in("w: !!str abc\n", "w", 1), "1:11");
    /* after an anchor, which may touch the scalar (anchor "a", scalar ":e") */
    CHECK_EQ_STR(pos_in("w: &a:e\n", "w", 0), "1:6");
    CHECK_EQ_STR(pos_in("w: &anc-1  !!str   xy\n", "w", 1), "1:21");
    /* CRLF line ends */
    CHECK_EQ_STR(pos_in("a: 1\r\nw: |\r\n  xy\r\n  z\r\n", "w", 3), "4:3");
}

TEST(env_substitution)
{
    setenv("WIRE_T_PATH", "/var/log/app.log", 1);
    setenv("WIRE_T_EMPTY", "", 1);
    setenv("WIRE_T_N", "42", 1);
    unsetenv("WIRE_T_UNSET");
    CHECK_EQ_STR(to_json("p: ${WIRE_T_PATH}\n"), "{\"p\":\"/var/log/app.log\"}");
    CHECK_EQ_STR(to_json("p: \"dir=${WIRE_T_PATH}!\"\n"), "{\"p\":\"dir=/var/log/app.log!\"}");
    CHECK_EQ_STR(to_json("p: ${WIRE_T_UNSET:-./x.log}\n"), "{\"p\":\"./x.log\"}");
    CHECK_EQ_STR(to_json("p: ${WIRE_T_EMPTY:-dflt}\n"), "{\"p\":\"dflt\"}");
    CHECK_EQ_STR(to_json("p: a${WIRE_T_EMPTY}b\n"), "{\"p\":\"ab\"}");
    CHECK_EQ_STR(to_json("p: ${WIRE_T_UNSET:-}\n"), "{\"p\":null}");
    /* a plain scalar is typed after substitution */
    CHECK_EQ_STR(to_json("n: ${WIRE_T_N}\nq: '${WIRE_T_N}'\n"), "{\"n\":42,\"q\":\"42\"}");
    CHECK_EQ_STR(to_json("p: $${WIRE_T_PATH} $HOME $\n"), "{\"p\":\"${WIRE_T_PATH} $HOME $\"}");
    CHECK_EQ_STR(to_json("{\"p\": \"${WIRE_T_N}${WIRE_T_N}\"}"), "{\"p\":\"4242\"}");
    /* keys are not substituted */
    CHECK_EQ_STR(to_json("${WIRE_T_N}: 1\n"), "{\"${WIRE_T_N}\":1}");

    /* positions after substitution: literal text keeps its columns */
    CHECK_EQ_STR(pos_in("w: ${WIRE_T_N} = x\n", "w", 0), "1:4");
    CHECK_EQ_STR(pos_in("w: ${WIRE_T_N} = x\n", "w", 1), "1:4");
    CHECK_EQ_STR(pos_in("w: ${WIRE_T_N} = x\n", "w", 3), "1:16");
    CHECK_EQ_STR(pos_in("w: ${WIRE_T_UNSET:-abc}!\n", "w", 1), "1:21");
    CHECK_EQ_STR(pos_in("w: ${WIRE_T_UNSET:-abc}!\n", "w", 3), "1:24");

    /* errors, at the '$' */
    CHECK_EQ_STR(errors_of("a: 1\np: x ${WIRE_T_UNSET}\n"),
                 "t.yaml:2:6: environment variable 'WIRE_T_UNSET' is not set (write "
                 "${WIRE_T_UNSET:-default} to give a default)");
    CHECK_EQ_STR(errors_of("p: \"${WIRE_T_PATH\"\n"),
                 "t.yaml:1:5: unterminated variable reference: missing '}'");
    CHECK_EQ_STR(errors_of("p: ${1X}\n"),
                 "t.yaml:1:4: bad variable reference: expected ${NAME} with NAME made of "
                 "letters, digits and _");
    CHECK_EQ_STR(errors_of("p: ${}\n"),
                 "t.yaml:1:4: bad variable reference: expected ${NAME} with NAME made of "
                 "letters, digits and _");
    CHECK_EQ_STR(errors_of("p: |\n  line\n  x ${WIRE_T_UNSET}\n"),
                 "t.yaml:3:5: environment variable 'WIRE_T_UNSET' is not set (write "
                 "${WIRE_T_UNSET:-default} to give a default)");
    /* after a malformed reference the text stays whole, and so does its map
       (fuzz: an expression error at the end of such a text read past the map) */
    CHECK_EQ_STR(pos_in("w: a${ b\n", "w", 4), "1:8");
    CHECK_EQ_STR(pos_in("w: a${ b\n", "w", 5), "1:9");
    CHECK_EQ_STR(pos_in("w: |\n  a${ b\n  c ${X\n", "w", 10), "3:7");
    CHECK_EQ_STR(pos_in("w: |\n  a${ b\n  c ${X\n", "w", 11), "3:8");
    /* every unset variable is reported, and the tree is still returned */
    char diag[1024];
    int rc;
    wire_cfg *c = load("a: ${WIRE_T_UNSET}\nb: ${WIRE_T_UNSET2}\nc: 1\n", &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, WIRE_EINVAL);
    CHECK(c != NULL);
    CHECK_EQ_STR(wire_cfg_get(c, "c")->str, "1");
    CHECK_EQ_STR(diag, "t.yaml:1:4: environment variable 'WIRE_T_UNSET' is not set (write "
                       "${WIRE_T_UNSET:-default} to give a default)\n"
                       "t.yaml:2:4: environment variable 'WIRE_T_UNSET2' is not set (write "
                       "${WIRE_T_UNSET2:-default} to give a default)");
    wire_cfg_free(c);
}

TEST(syntax_errors)
{
    CHECK_EQ_STR(errors_of("a:\n  b: 1\n c: 2\n"),
                 "t.yaml:3:2: YAML syntax error: did not find expected key (while parsing a "
                 "block mapping at line 1)");
    CHECK_EQ_STR(errors_of("a: [1, 2\n"),
                 "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' (while "
                 "parsing a flow sequence at line 1)");
    CHECK_EQ_STR(errors_of("{\"a\": 1,, }"),
                 "t.yaml:1:9: YAML syntax error: did not find expected node content (while "
                 "parsing a flow node at line 1)");
    CHECK_EQ_STR(errors_of("a: \"x\n"),
                 "t.yaml:2:1: YAML syntax error: found unexpected end of stream (while "
                 "scanning a quoted scalar at line 1)");
    CHECK_EQ_STR(errors_of("a:\n\tb: 1\n"),
                 "t.yaml:2:1: YAML syntax error: found character that cannot start any token "
                 "(while scanning for the next token at line 2); YAML indents with spaces, not "
                 "tabs");
    CHECK_EQ_STR(errors_of("a: 1\x00\n"), ""); /* strlen stops at the NUL: fine */
    wire_diags d = {0};
    wire_cfg *c = NULL;
    CHECK_EQ_INT(wire_cfg_load_mem("n.yaml", "a: 1\nb:\x00 2\n", 10, &c, &d), WIRE_EPARSE);
    CHECK(c == NULL);
    CHECK_EQ_INT(d.n, 1);
    CHECK_EQ_STR(d.v[0].msg, "NUL byte in the document");
    CHECK_EQ_INT(d.v[0].line, 2);
    CHECK_EQ_INT(d.v[0].col, 3);
    wire_diags_free(&d);
    int rc;
    char diag[256];
    c = load("a: [\n", &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, WIRE_EPARSE);
    CHECK(c == NULL);
    CHECK_EQ_STR(to_json("a: \xff\n"),
                 "ERROR rc=-4 t.yaml:1:4: YAML syntax error: invalid leading UTF-8 octet");
}

TEST(structural_errors)
{
    CHECK_EQ_STR(errors_of("a: 1\nb: 2\na: 3\n"),
                 "t.yaml:3:1: duplicate key 'a' (first defined at line 1, column 1)");
    CHECK_EQ_STR(errors_of("{\"a\": 1, \"b\": {\"x\": 1, \"x\": 2}}"),
                 "t.yaml:1:24: duplicate key 'x' (first defined at line 1, column 16)");
    CHECK_EQ_STR(errors_of("a: &anchor 1\nb: *anchor\n"),
                 "t.yaml:2:4: aliases (*anchor) are not supported: write the value out in full");
    CHECK_EQ_STR(errors_of("? [a, b]\n: 1\n"),
                 "t.yaml:1:3: a map key must be a plain value, not a sequence");
    CHECK_EQ_STR(errors_of("a: 1\n---\nb: 2\n"),
                 "t.yaml:2:1: a second YAML document: a pipeline file holds exactly one "
                 "pipeline (split it into several files)");
    /* one explicit document is fine */
    CHECK_EQ_STR(errors_of("---\na: 1\n...\n"), "");
    /* duplicate keys keep the first value, and the tree is returned */
    char diag[256];
    int rc;
    wire_cfg *c = load("a: 1\na: 2\n", &rc, diag, sizeof(diag));
    CHECK_EQ_INT(rc, WIRE_EINVAL);
    CHECK_EQ_STR(json_of(c), "{\"a\":1}");
    wire_cfg_free(c);
}

TEST(deep_nesting)
{
    char *t = malloc(2000);
    for (int i = 0; i < 999; i++)
        t[i] = '[';
    t[999] = '\0';
    const char *e = errors_of(t);
    CHECK_EQ_STR(e, "t.yaml:1:202: document nested too deeply (more than 200 levels)");
    free(t);
}

TEST(load_file)
{
    wire_diags d = {0};
    wire_cfg *c = NULL;
    CHECK_EQ_INT(wire_cfg_load_file("/nonexistent/x.yaml", &c, &d), WIRE_EIO);
    CHECK(c == NULL);
    CHECK_EQ_INT(d.n, 1);
    CHECK_EQ_STR(d.v[0].msg, "cannot open: No such file or directory");
    CHECK_EQ_INT(d.v[0].line, 0);
    wire_diags_free(&d);
    char path[] = "/tmp/wire-test-config-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("a: [1, 2]\n", f);
    fclose(f);
    CHECK_EQ_INT(wire_cfg_load_file(path, &c, &d), 0);
    CHECK_EQ_STR(json_of(c), "{\"a\":[1,2]}");
    CHECK_EQ_STR(c->file, path);
    wire_cfg_free(c);
    unlink(path);
    wire_diags_free(&d);
}

int main(void)
{
    RUN(yaml_tree_and_positions);
    RUN(json_documents);
    RUN(core_schema_typing);
    RUN(null_and_empty_nodes);
    RUN(positions_inside_scalars);
    RUN(env_substitution);
    RUN(syntax_errors);
    RUN(structural_errors);
    RUN(deep_nesting);
    RUN(load_file);
    TEST_MAIN_END();
}
