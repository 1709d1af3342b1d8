/*
 * fuzz_auth.c — libFuzzer target for what an unauthenticated caller
 * controls under --auth (issue 13): the Authorization header
 * (wire_token_bearer), token names and roles as POST /v1/tokens reads them,
 * and the token table's snapshot decoder (wire_token_table_decode).
 *
 * The header must be accepted only as "Bearer" + blanks + 1..512 visible
 * characters + blanks, with the token pointing inside the input; whatever a
 * decode accepts must encode back to the bytes it read. The input is copied
 * to an exact-size buffer so any over-read is caught. Built and run by
 * scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster/internal.h"
#include "core/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bearer(const char *p, size_t n)
{
    const char *t;
    size_t tl;
    if (!wire_token_bearer(p, n, &t, &tl))
        return;
    if (t < p || t + tl > p + n || tl == 0 || tl > WIRE_TOKEN_MAX)
        abort();
    for (size_t i = 0; i < tl; i++)
        if (t[i] <= 0x20 || t[i] >= 0x7f)
            abort();
    const char *b = p;
    while (*b == ' ' || *b == '\t')
        b++;
    if (strncasecmp(b, "bearer", 6) != 0)
        abort();
    for (const char *q = t + tl; q < p + n; q++)
        if (*q != ' ' && *q != '\t')
            abort();
    uint8_t h[WIRE_TOKEN_HASH];
    wire_token_hash(t, tl, h);
}

static void check_decode(const uint8_t *p, size_t n)
{
    wire_rd r = {p, p + n, false};
    wire_token_rec *v;
    size_t k = wire_token_table_decode(&r, &v);
    if (!r.bad) {
        wire_token_table *t = wire_token_table_new();
        wire_token_table_set(t, v, k);
        wire_buf b;
        wire_buf_init(&b);
        wire_token_table_encode(t, &b);
        if (b.len != (size_t)(r.p - p) || memcmp(b.p, p, b.len) != 0)
            abort();
        wire_buf_free(&b);
        wire_token_table_free(t);
    } else {
        free(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    check_bearer(p, size);
    if (wire_token_name_ok(p, size))
        for (size_t i = 0; i < size; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
                        p[i]) ||
                !p[i])
                abort();
    int role = wire_role_parse(p, size);
    if (role && (strlen(wire_role_name(role)) != size || memcmp(wire_role_name(role), p, size)))
        abort();
    check_decode((const uint8_t *)p, size);
    free(p);
    return 0;
}
