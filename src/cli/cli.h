/*
 * cli.h — subcommands of the `wire` binary. Each lives in its own cmd_*.c
 * and is listed in commands.c.
 */
#ifndef WIRE_CLI_H
#define WIRE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <stdlib.h>

#include "core/core.h"

typedef struct wire_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the command name */
} wire_command;

extern const wire_command wire_commands[];
extern const size_t wire_ncommands;

int wire_cmd_run(int argc, char **argv);
int wire_cmd_validate(int argc, char **argv);
int wire_cmd_help(int argc, char **argv);
int wire_cmd_serve(int argc, char **argv);
int wire_cmd_cluster(int argc, char **argv);
int wire_cmd_pipeline(int argc, char **argv);
int wire_cmd_token(int argc, char **argv);

/* ---- wire serve --auth-token-file (serve_auth.c) ---- */
struct wire_node;
typedef struct wire_bootstrap_token wire_bootstrap_token;
/* Read FILE's token, or make one there (0600) when missing and `founder`; NULL on error. */
wire_bootstrap_token *wire_bootstrap_token_open(const char *file, bool founder, wire_err *err);
/* From the serve loop: propose the token as the first admin until that is settled. */
void wire_bootstrap_token_tick(wire_bootstrap_token *b, struct wire_node *n);
void wire_bootstrap_token_free(wire_bootstrap_token *b);

/* ---- limits.c: the document limits' flags, shared by validate and run ---- */

struct wire_spec_limits;
/* The defaults, as `wire serve` has them: 1MB, 1000 transforms (0: no limit). */
#define WIRE_CLI_LIMITS_INIT                                                                       \
    {                                                                                              \
        WIRE_SPEC_MAX_BYTES, WIRE_SPEC_MAX_TRANSFORMS                                              \
    }
/*
 * If argv[*i] is --max-transforms N or --max-pipeline-bytes SIZE (or
 * --flag=VALUE), set it in `lim`, advance *i past its value and return 1; a
 * bad value prints `fatal: ...` and returns -1; anything else returns 0.
 */
int wire_cli_limit_flag(int argc, char **argv, int *i, struct wire_spec_limits *lim);

/* ---- client.c: shared by the client commands (cluster, pipeline) ---- */

struct wire_json_val;

typedef struct wire_cli_opts {
    const char *addr; /* --addr, else $WIRE_ADDR, else localhost:4001; https:// for TLS */
    const char *fmt;  /* -o table|json */
    bool json;
    /* TLS to the node (etcdctl's names): --cacert verifies it (default: the
       system's CAs), --cert/--key present a client certificate (mTLS) */
    const char *cacert, *cert, *key;
    /* --token, else $WIRE_TOKEN: sent as Authorization: Bearer (nodes with --auth) */
    const char *token;
} wire_cli_opts;
#define WIRE_CLI_OPTS_INIT                                                                         \
    {                                                                                              \
        wire_cli_default_addr(), "table", false, NULL, NULL, NULL, getenv("WIRE_TOKEN")            \
    }
/* $WIRE_ADDR if set and not empty, else localhost:4001. */
const char *wire_cli_default_addr(void);

/* If argv[*i] is --addr, -o, --cacert, --cert, --key or --token (with its value), take
   it, advance *i, return 1. */
int wire_cli_common_flag(int argc, char **argv, int *i, wire_cli_opts *o);
/*
 * One request to the node o->addr (with o's TLS files): METHOD
 * http://ADDR/PATH (or ADDR as given when it has a scheme) with `body` (n bytes, or
 * NULL for none) of `content_type` (or NULL). The answer's body is appended
 * to `out`. Returns the HTTP status, or -1 if the node could not be reached
 * (the reason is then in `out`). Call curl_global_init first.
 */
long wire_cli_http(const wire_cli_opts *o, const char *method, const char *path, const char *body,
                   size_t n, const char *content_type, wire_buf *out);
/* Print "error: <the server's message>" (or the transport error) on stderr; returns 1. */
int wire_cli_fail(long status, const wire_buf *body);
/* A JSON scalar as display text (strings unescaped, null empty). */
void wire_cli_scalar(const struct wire_json_val *v, char *out, size_t n);
/* The display text of member `key` of an object slice ("" if absent). */
void wire_cli_field(const char *obj, size_t n, const char *key, char *out, size_t outn);
/* Print nrows rows of ncols cells (row-major, row 0 the header) in aligned
   columns two blanks apart. Control characters in cells become blanks. */
void wire_cli_table(size_t ncols, size_t nrows, char **cells);
/* `fatal: MESSAGE` on stderr, then `usage` if not NULL; returns 1 (main.c). */
int wire_cli_fatal(const char *usage, const char *fmt, ...) WIRE_PRINTF(2, 3);

#endif
