/*
 * token.c — making, hashing and reading API tokens, and the role order
 * (token.h). SHA-256 is OpenSSL's.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <string.h>
#include <sys/random.h>

#include "core/token.h"

int wire_token_new(char out[WIRE_TOKEN_LEN + 1], wire_err *err)
{
    uint8_t r[32];
    size_t got = 0;
    while (got < sizeof(r)) {
        ssize_t k = getrandom(r + got, sizeof(r) - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return wire_errf(err, WIRE_EIO, "getrandom: %s", strerror(errno));
        got += (size_t)k;
    }
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "wire_", 5);
    for (size_t i = 0; i < sizeof(r); i++) {
        out[5 + 2 * i] = hex[r[i] >> 4];
        out[6 + 2 * i] = hex[r[i] & 15];
    }
    out[WIRE_TOKEN_LEN] = 0;
    memset(r, 0, sizeof(r));
    return 0;
}

void wire_token_hash(const char *tok, size_t n, uint8_t out[WIRE_TOKEN_HASH])
{
    SHA256((const unsigned char *)tok, n, out);
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

bool wire_token_bearer(const char *hdr, size_t n, const char **tok, size_t *tok_len)
{
    size_t i = 0;
    while (i < n && blank(hdr[i]))
        i++;
    if (n - i < 7 || strncasecmp(hdr + i, "bearer", 6) != 0 || !blank(hdr[i + 6]))
        return false;
    i += 6;
    while (i < n && blank(hdr[i]))
        i++;
    size_t start = i;
    while (i < n && hdr[i] > 0x20 && hdr[i] < 0x7f)
        i++;
    size_t len = i - start;
    while (i < n && blank(hdr[i]))
        i++;
    if (i != n || len == 0 || len > WIRE_TOKEN_MAX)
        return false;
    *tok = hdr + start;
    *tok_len = len;
    return true;
}

bool wire_token_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > WIRE_TOKEN_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static const char *const role_names[] = {NULL, "viewer", "operator", "admin", "node"};

int wire_role_parse(const char *s, size_t n)
{
    for (int r = WIRE_ROLE_VIEWER; r <= WIRE_ROLE_NODE; r++)
        if (strlen(role_names[r]) == n && memcmp(role_names[r], s, n) == 0)
            return r;
    return WIRE_ROLE_NONE;
}

const char *wire_role_name(int role)
{
    return role > WIRE_ROLE_NONE && role <= WIRE_ROLE_NODE ? role_names[role] : "none";
}

bool wire_role_allows(int have, int need)
{
    if (need == WIRE_ROLE_NONE)
        return true;
    if (have == WIRE_ROLE_NODE || need == WIRE_ROLE_NODE)
        return have == need;
    return have >= need;
}
