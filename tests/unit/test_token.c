/*
 * test_token.c — API tokens (issue 13): making and hashing them (SHA-256
 * checked against a published vector), reading Authorization headers, the
 * role order, and the state machine's token table — TOKEN_PUT/TOKEN_DEL
 * results, the bootstrap rule (WIRE_TOKEN_FIRST), lookups by hash, and
 * snapshot round trips that keep the table (and never a secret).
 */
#include "cluster/internal.h"
#include "core/token.h"
#include "test.h"

TEST(token_new_and_hash)
{
    char a[WIRE_TOKEN_LEN + 1], b[WIRE_TOKEN_LEN + 1];
    wire_err err;
    CHECK_EQ_INT(wire_token_new(a, &err), 0);
    CHECK_EQ_INT(wire_token_new(b, &err), 0);
    CHECK_EQ_INT(strlen(a), WIRE_TOKEN_LEN);
    CHECK(strncmp(a, "wire_", 5) == 0);
    CHECK(strcmp(a, b) != 0);
    for (size_t i = 5; i < WIRE_TOKEN_LEN; i++)
        CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    /* FIPS 180-2's "abc" */
    static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                    0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                    0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t h[WIRE_TOKEN_HASH];
    wire_token_hash("abc", 3, h);
    CHECK(memcmp(h, abc, 32) == 0);
}

static bool bearer_is(const char *hdr, const char *want)
{
    const char *t;
    size_t n;
    if (!wire_token_bearer(hdr, strlen(hdr), &t, &n))
        return want == NULL;
    return want && n == strlen(want) && memcmp(t, want, n) == 0;
}

TEST(token_bearer_header)
{
    CHECK(bearer_is("Bearer abc", "abc"));
    CHECK(bearer_is("bearer abc", "abc"));
    CHECK(bearer_is("BEARER \t abc  ", "abc"));
    CHECK(bearer_is("  Bearer wire_00ff", "wire_00ff"));
    CHECK(bearer_is("Bearer", NULL));
    CHECK(bearer_is("Bearer ", NULL));
    CHECK(bearer_is("Bearerabc", NULL));
    CHECK(bearer_is("Basic YWxhZGRpbjpvcGVuc2VzYW1l", NULL));
    CHECK(bearer_is("Bearer a b", NULL));
    CHECK(bearer_is("Bearer a\x01", NULL));
    CHECK(bearer_is("Bearer a\xc3\xa9", NULL));
    CHECK(bearer_is("", NULL));
    char big[WIRE_TOKEN_MAX + 16];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'x', WIRE_TOKEN_MAX);
    big[7 + WIRE_TOKEN_MAX] = 0;
    CHECK(bearer_is(big, big + 7));
    big[7 + WIRE_TOKEN_MAX] = 'x';
    big[8 + WIRE_TOKEN_MAX] = 0;
    CHECK(bearer_is(big, NULL));
    /* a header with a NUL inside is not read past its length */
    const char *t;
    size_t n;
    CHECK(!wire_token_bearer("Bearer ab\0cd", 12, &t, &n));
}

TEST(token_names_and_roles)
{
    CHECK(wire_token_name_ok("ci-bot_1.prod", 13));
    CHECK(!wire_token_name_ok("", 0));
    CHECK(!wire_token_name_ok("a/b", 3));
    CHECK(!wire_token_name_ok("a b", 3));
    char long_name[66];
    memset(long_name, 'a', 65);
    CHECK(wire_token_name_ok(long_name, 64));
    CHECK(!wire_token_name_ok(long_name, 65));
    CHECK_EQ_INT(wire_role_parse("viewer", 6), WIRE_ROLE_VIEWER);
    CHECK_EQ_INT(wire_role_parse("operator", 8), WIRE_ROLE_OPERATOR);
    CHECK_EQ_INT(wire_role_parse("admin", 5), WIRE_ROLE_ADMIN);
    CHECK_EQ_INT(wire_role_parse("node", 4), WIRE_ROLE_NODE);
    CHECK_EQ_INT(wire_role_parse("root", 4), WIRE_ROLE_NONE);
    CHECK_EQ_INT(wire_role_parse("admi", 4), WIRE_ROLE_NONE);
    CHECK_EQ_STR(wire_role_name(WIRE_ROLE_OPERATOR), "operator");
    int roles[] = {WIRE_ROLE_VIEWER, WIRE_ROLE_OPERATOR, WIRE_ROLE_ADMIN};
    for (int h = 0; h < 3; h++)
        for (int n = 0; n < 3; n++)
            CHECK_EQ_INT(wire_role_allows(roles[h], roles[n]), h >= n);
    CHECK(!wire_role_allows(WIRE_ROLE_NODE, WIRE_ROLE_VIEWER));
    CHECK(!wire_role_allows(WIRE_ROLE_ADMIN, WIRE_ROLE_NODE));
    CHECK(wire_role_allows(WIRE_ROLE_NODE, WIRE_ROLE_NODE));
    CHECK(wire_role_allows(WIRE_ROLE_NONE, WIRE_ROLE_NONE));
    CHECK(!wire_role_allows(WIRE_ROLE_NONE, WIRE_ROLE_VIEWER));
}

/* One TOKEN_PUT (hash of `secret`) or, with role NULL, TOKEN_DEL in its own entry. */
static uint8_t apply_token(wire_fsm *f, uint64_t index, const char *name, const char *secret,
                           const char *role, uint64_t flags)
{
    uint8_t h[WIRE_TOKEN_HASH];
    wire_buf e;
    wire_buf_init(&e);
    wire_entry_begin(&e, 1, 1);
    wire_cmd c = {.type = role ? WIRE_CMD_TOKEN_PUT : WIRE_CMD_TOKEN_DEL, .version = 1};
    c.a = name;
    c.alen = strlen(name);
    if (role) {
        wire_token_hash(secret, strlen(secret), h);
        c.b = (const char *)h;
        c.blen = WIRE_TOKEN_HASH;
        c.c = role;
        c.clen = strlen(role);
        c.u1 = 1000 + index;
        c.u2 = flags;
    }
    wire_cmd_encode(&e, &c);
    CHECK_EQ_INT(wire_fsm_apply_entry(f, index, e.p, e.len), 0);
    wire_buf_free(&e);
    uint32_t n;
    return wire_fsm_last_results(f, &n)[0];
}

static int role_of(wire_fsm *f, const char *secret)
{
    uint8_t h[WIRE_TOKEN_HASH];
    wire_token_hash(secret, strlen(secret), h);
    wire_token_info ti;
    return wire_token_table_find(wire_fsm_tokens(f), h, &ti) ? ti.role : 0;
}

TEST(fsm_token_table)
{
    wire_fsm *f = wire_fsm_new();
    CHECK_EQ_INT(apply_token(f, 1, "admin", "s-admin", "admin", WIRE_TOKEN_FIRST), WIRE_APPLY_OK);
    /* the bootstrap rule: a second first admin is refused, whatever its name */
    CHECK_EQ_INT(apply_token(f, 2, "other", "s-other", "admin", WIRE_TOKEN_FIRST),
                 WIRE_APPLY_EXISTS);
    CHECK_EQ_INT(apply_token(f, 3, "ci", "s-ci", "operator", 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(apply_token(f, 4, "ci", "s-ci2", "viewer", 0), WIRE_APPLY_EXISTS);
    CHECK_EQ_INT(apply_token(f, 5, "bad name", "s", "viewer", 0), WIRE_APPLY_INVALID);
    CHECK_EQ_INT(apply_token(f, 6, "x", "s", "root", 0), WIRE_APPLY_INVALID);
    CHECK_EQ_INT(apply_token(f, 7, "b-node", "s-node", "node", 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(role_of(f, "s-admin"), WIRE_ROLE_ADMIN);
    CHECK_EQ_INT(role_of(f, "s-ci"), WIRE_ROLE_OPERATOR);
    CHECK_EQ_INT(role_of(f, "s-other"), 0);
    CHECK_EQ_INT(role_of(f, "s-ci2"), 0);
    wire_token_info *v;
    size_t n = wire_token_table_list(wire_fsm_tokens(f), &v);
    CHECK_EQ_INT(n, 3);
    if (n == 3) { /* by name */
        CHECK_EQ_STR(v[0].name, "admin");
        CHECK_EQ_STR(v[1].name, "b-node");
        CHECK_EQ_STR(v[2].name, "ci");
        CHECK_EQ_INT(v[2].created_ms, 1003);
    }
    free(v);

    /* snapshots keep the table, and hold no secret */
    wire_buf s;
    wire_buf_init(&s);
    wire_fsm_encode(f, &s);
    CHECK(!memmem(s.p, s.len, "s-admin", 7) && !memmem(s.p, s.len, "s-ci", 4));
    wire_fsm *g = wire_fsm_new();
    wire_err err;
    CHECK_EQ_INT(wire_fsm_decode(g, s.p, s.len, &err), 0);
    CHECK_EQ_INT(role_of(g, "s-admin"), WIRE_ROLE_ADMIN);
    CHECK_EQ_INT(role_of(g, "s-node"), WIRE_ROLE_NODE);
    CHECK_EQ_INT(wire_fsm_digest(f), wire_fsm_digest(g));
    CHECK(wire_fsm_decode(g, s.p, s.len - 5, &err) != 0); /* truncated tokens: refused */
    CHECK_EQ_INT(role_of(g, "s-ci"), WIRE_ROLE_OPERATOR); /* and the table is as it was */

    /* revoke */
    CHECK_EQ_INT(apply_token(f, 8, "ci", NULL, NULL, 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(apply_token(f, 9, "ci", NULL, NULL, 0), WIRE_APPLY_NOTFOUND);
    CHECK_EQ_INT(role_of(f, "s-ci"), 0);
    CHECK(wire_fsm_digest(f) != wire_fsm_digest(g));
    /* the first-admin rule looks at the table, not at who was first */
    CHECK_EQ_INT(apply_token(f, 10, "admin", NULL, NULL, 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(apply_token(f, 11, "b-node", NULL, NULL, 0), WIRE_APPLY_OK);
    CHECK_EQ_INT(apply_token(f, 12, "again", "s-again", "admin", WIRE_TOKEN_FIRST), WIRE_APPLY_OK);
    wire_buf_free(&s);
    wire_fsm_free(f);
    wire_fsm_free(g);
}

int main(void)
{
    RUN(token_new_and_hash);
    RUN(token_bearer_header);
    RUN(token_names_and_roles);
    RUN(fsm_token_table);
    TEST_MAIN_END();
}
