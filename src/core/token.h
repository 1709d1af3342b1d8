/*
 * token.h — API tokens and roles (docs/security.md, Tokens and roles).
 *
 * A token is "wire_" and 64 hex digits: 256 random bits from getrandom(2),
 * shown once when it is created. Nodes keep only its SHA-256 (in the
 * replicated state machine); a request carries it as
 * `Authorization: Bearer TOKEN`, and is matched by hashing what it carries.
 *
 * Roles are ordered: viewer < operator < admin, each allowed what the ones
 * below are. `node` is apart: it lets a node join the cluster and nothing
 * on the API.
 */
#ifndef WIRE_TOKEN_H
#define WIRE_TOKEN_H

#include "core/core.h"

#define WIRE_TOKEN_LEN 69 /* "wire_" + 64 hex digits */
#define WIRE_TOKEN_HASH 32
#define WIRE_TOKEN_NAME_MAX 64
#define WIRE_TOKEN_MAX 512 /* the longest credential a request may carry */

enum { WIRE_ROLE_NONE = 0, WIRE_ROLE_VIEWER, WIRE_ROLE_OPERATOR, WIRE_ROLE_ADMIN, WIRE_ROLE_NODE };

/* A new random token (NUL-terminated). 0, or WIRE_EIO when the kernel has no randomness. */
int wire_token_new(char out[WIRE_TOKEN_LEN + 1], wire_err *err);
/* SHA-256 of the token's bytes. */
void wire_token_hash(const char *tok, size_t n, uint8_t out[WIRE_TOKEN_HASH]);
/*
 * The credential of an Authorization header value: "Bearer" (any case), one
 * or more spaces or tabs, then the token, optionally followed by white space.
 * The token must be 1..WIRE_TOKEN_MAX visible ASCII characters. Points into
 * `hdr`; false when it is not such a header.
 */
bool wire_token_bearer(const char *hdr, size_t n, const char **tok, size_t *tok_len);
/* A token name: 1..64 of [A-Za-z0-9_.-]. */
bool wire_token_name_ok(const char *s, size_t n);

/* "viewer", "operator", "admin", "node" → WIRE_ROLE_*, else WIRE_ROLE_NONE. */
int wire_role_parse(const char *s, size_t n);
const char *wire_role_name(int role);
/* Does a caller with role `have` get what a route needing `need` offers? */
bool wire_role_allows(int have, int need);

#endif
