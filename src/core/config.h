/*
 * config.h — the configuration tree and option tables.
 *
 * A pipeline file (YAML, or the same document as JSON) is loaded into a tree
 * of maps, sequences and scalars, each node remembering its file, line and
 * column so every error can be reported as FILE:LINE:COL. `${ENV_VAR}` in
 * scalars is substituted at load.
 *
 * Every connector and transform declares its options in a static table of
 * wire_option. The same table drives parsing into the component's config
 * struct, validation (unknown key, wrong type, missing required, bad
 * expression with the column inside it), `wire help` and docs/reference.md.
 */
#ifndef WIRE_CONFIG_H
#define WIRE_CONFIG_H

#include <stdio.h>

#include "core/core.h"
#include "core/expr.h"

typedef enum wire_cfg_kind {
    WIRE_CFG_NULL = 0,
    WIRE_CFG_SCALAR,
    WIRE_CFG_MAP,
    WIRE_CFG_SEQ,
} wire_cfg_kind;

typedef struct wire_cfg wire_cfg;

typedef struct wire_cfg_pair {
    wire_cfg *key; /* always a scalar */
    wire_cfg *val;
} wire_cfg_pair;

struct wire_cfg {
    wire_cfg_kind kind;
    const char *file; /* shared, owned by the root */
    int line, col;    /* 1-based position of the node */
    /* Scalars. `text_col` is the column where the scalar's text starts
       (after an opening quote), for errors inside expressions. */
    char *str;
    size_t len;
    bool quoted; /* "..." or '...': never a number/bool/null */
    int text_line, text_col;
    /* Where each byte of `str` came from, as (line, col) pairs for bytes
       0..len (len + 1 pairs), when that is not simply text_line/text_col + k:
       multi-line and block scalars, escapes, multi-byte characters, ${VAR}
       substitution. NULL otherwise. Use wire_cfg_text_pos(). */
    int *text_pos;
    /* Maps. */
    wire_cfg_pair *pairs;
    size_t npairs;
    /* Sequences. */
    wire_cfg **items;
    size_t nitems;
};

/*
 * Load YAML (or JSON) text. Problems are appended to `d` as FILE:LINE:COL.
 * Returns 0; WIRE_EINVAL when the document parsed but has problems (duplicate
 * key, unset ${VAR}, alias): *out is still the whole tree, so callers can
 * go on checking it, and must free it; WIRE_EPARSE on a syntax error or a
 * second document, and WIRE_EIO when the file cannot be read (*out NULL). Line breaks are counted
 * as libyaml counts them; columns count characters, not bytes.
 */
int wire_cfg_load_file(const char *path, wire_cfg **out, wire_diags *d);
/* Read a whole file for loading; on failure one diagnostic ("cannot open: ...") and WIRE_EIO. */
int wire_cfg_read_file(const char *path, char **text, size_t *n, wire_diags *d);
int wire_cfg_load_mem(const char *name, const char *text, size_t n, wire_cfg **out, wire_diags *d);
void wire_cfg_free(wire_cfg *c);
/* Map lookup (NULL if absent or not a map). */
const wire_cfg *wire_cfg_get(const wire_cfg *map, const char *key);
/* Line and column of byte `k` of a scalar's text (k == len: just after it). */
void wire_cfg_text_pos(const wire_cfg *c, size_t k, int *line, int *col);
/* YAML 1.2 core-schema integer: [-+]?[0-9]+, 0o17, 0x1F. 0, or -1 if not one
   (or out of int64 range). */
int wire_cfg_parse_int(const char *s, size_t n, int64_t *out);
/* Serialize a subtree as JSON (scalars typed as YAML would: numbers, bools, null). */
void wire_cfg_to_json(const wire_cfg *c, wire_buf *out);

/* ---- Option tables ---- */

typedef enum wire_opt_type {
    WIRE_OPT_STRING,   /* char * */
    WIRE_OPT_INT,      /* int64_t */
    WIRE_OPT_DOUBLE,   /* double */
    WIRE_OPT_BOOL,     /* bool */
    WIRE_OPT_DURATION, /* int64_t milliseconds; "500ms", "1s", "2m" */
    WIRE_OPT_SIZE,     /* int64_t bytes; "64KB", "1MB" */
    WIRE_OPT_ENUM,     /* int: index into `choices` ("read|tail") */
    WIRE_OPT_EXPR,     /* wire_expr * (compiled; errors point inside the text) */
    WIRE_OPT_SELECT,   /* wire_select * */
    WIRE_OPT_STRLIST,  /* wire_strlist: a sequence, or one comma-separated string */
    WIRE_OPT_STRMAP,   /* wire_strmap: a map of string to string */
    WIRE_OPT_JSON,     /* char *: any value, serialized as JSON text */
    WIRE_OPT_TLS,      /* wire_tls_opts: the `tls:` block (below) */
} wire_opt_type;

/*
 * The one `tls:` block of every connector that opens or accepts a connection
 * (Vector's names; docs/security.md). Present (any key) means enabled unless
 * `enabled: false`; absent, all zero. verify_certificate: WIRE_TLS_VERIFY_AUTO
 * means the role's default — verify the server as a client; as a server,
 * true asks for and checks client certificates (mTLS).
 */
enum { WIRE_TLS_VERIFY_AUTO, WIRE_TLS_VERIFY_TRUE, WIRE_TLS_VERIFY_FALSE };
enum { WIRE_TLS_MIN_12, WIRE_TLS_MIN_13 };
typedef struct wire_tls_opts {
    bool enabled;
    char *ca_file, *crt_file, *key_file; /* paths (a node's sandbox confines them) */
    char *key_pass;                      /* a secret: ${env:..} or ${file:..} on a node */
    int verify_certificate;              /* WIRE_TLS_VERIFY_* */
    bool verify_hostname;                /* the certificate names the host (default true) */
    char *server_name;                   /* SNI and the name verified, instead of the host */
    int min_version;                     /* WIRE_TLS_MIN_*: TLS 1.2 (default) or 1.3 */
} wire_tls_opts;

enum {
    WIRE_OPT_REQUIRED = 1 << 0, /* must be given; a required string must not be empty */
    WIRE_OPT_SIGNED = 1 << 1,   /* INT/DOUBLE: negative values allowed (default: >= 0) */
    WIRE_OPT_PATH = 1 << 2,     /* STRING: a file path (a node's sandbox confines it) */
};

typedef struct wire_option {
    const char *name;
    wire_opt_type type;
    const char *def; /* default in config syntax, or NULL */
    unsigned flags;
    size_t offset;       /* offsetof(config struct, field) */
    const char *choices; /* ENUM: "read|tail" */
    const char *desc;
} wire_option;

/* The tls: block's own option table (for walkers: paths, secrets, help). */
extern const wire_option wire_tls_options[];

typedef struct wire_strlist {
    char **v;
    size_t n;
} wire_strlist;

typedef struct wire_strmap {
    char **keys;
    char **vals;
    size_t n;
} wire_strmap;

/*
 * Parse `cfg` (a map, or NULL for "no config") into `out` (a zeroed struct of
 * the component's config type) using `table` (terminated by a {NULL} entry).
 * Defaults are applied first. Every problem is appended to `d`; returns 0 if
 * there were none. `what` names the component in messages ("source 'file'").
 * A null value (`key:` or `key: ~`) keeps the default. Numbers and booleans
 * may be quoted (legacy configs are all strings). Messages:
 *   FILE:L:C: source 'file': unknown option 'pth' (did you mean 'path'?)   at the key
 *   FILE:L:C: source 'file': option 'mode' must be one of read, tail, got 'x'   at the value
 *   FILE:L:C: source 'file': missing required option 'path'   at the config map
 *   FILE:L:C: transform 'filter': option 'where': <compiler message>   inside the text
 */
int wire_options_parse(const wire_option *table, const wire_cfg *cfg, void *out, const char *what,
                       wire_diags *d);
/* The candidate closest to `word` by edit distance if it is close enough to
   be a typo ("pth" -> "path"), else NULL. For "did you mean 'x'?". */
const char *wire_cfg_suggest(const char *word, const char *const *candidates, size_t n);
/* Free whatever wire_options_parse allocated inside `out`. */
void wire_options_free(const wire_option *table, void *out);
/* Human-readable type name ("duration", "enum(read|tail)"). */
const char *wire_opt_type_name(wire_opt_type t);
/* Print an option table as text (`wire help TYPE`) or as a markdown table. */
void wire_options_print(const wire_option *table, FILE *f, bool markdown);

#endif
