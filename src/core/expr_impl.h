/*
 * expr_impl.h — internals of the expression language shared by its files:
 * the compiled tree (expr_parse.c builds and folds it), the field-path table
 * and per-event lookup cache (expr_eval.c), and the function table
 * (expr_func.c). Nothing outside src/core/expr_*.c includes this.
 *
 * `wire__` marks names that cross those files but are not Wire's API.
 */
#ifndef WIRE_EXPR_IMPL_H
#define WIRE_EXPR_IMPL_H

#include "core/expr.h"

typedef enum expr_op {
    OP_CONST,
    OP_FIELD,
    OP_EQ_STR, /* field = 'literal': compared on the escaped bytes, no allocation */
    OP_NOT,
    OP_AND,
    OP_OR,
    OP_NEG,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_CONCAT, /* || */
    OP_ISNULL, /* neg: IS NOT NULL */
    OP_IN,     /* neg: NOT IN; kids[0] IN (kids[1..]) */
    OP_LIKE,   /* neg: NOT LIKE; kids: subject, pattern[, escape] */
    OP_REGEX,  /* neg: !~ */
    OP_CASE,   /* kids: [subject] (when, then)* [else] */
    OP_FUNC,
} expr_op;

/* A compiled LIKE pattern: each byte of `lit` is literal, '%' or '_' per `wild`. */
enum { LIKE_LIT = 0, LIKE_ANY = 1, LIKE_ONE = 2 };
enum { LIKE_GENERAL, LIKE_EXACT, LIKE_PREFIX, LIKE_SUFFIX, LIKE_CONTAINS };
typedef struct expr_like {
    char *lit;
    uint8_t *wild;
    size_t n;
    int kind;          /* LIKE_EXACT.. when the pattern allows a shortcut */
    const char *fixed; /* the literal part for the shortcuts */
    size_t fixed_n;
    bool nocase; /* ILIKE */
} expr_like;

typedef struct expr_regex {
    void *code; /* pcre2_code_8 */
    void *md;   /* pcre2_match_data_8, one per compiled regex: no allocation per event */
    struct expr_regex *next;
} expr_regex;

/* A parsed JSON path for json_extract: keys and indexes. */
typedef struct expr_jseg {
    const char *key; /* NULL for an index */
    size_t keylen;
    size_t index;
} expr_jseg;
typedef struct expr_jpath {
    expr_jseg *seg;
    size_t n;
} expr_jpath;

typedef struct expr_func expr_func;

typedef struct expr_node expr_node;
struct expr_node {
    uint8_t op;       /* expr_op */
    uint8_t neg;      /* NOT IN, NOT LIKE, !~, IS NOT NULL */
    uint8_t simple;   /* CASE x WHEN; ILIKE; OP_EQ_STR: literal has a short-escape char */
    uint8_t has_else; /* CASE ... ELSE */
    uint32_t off;     /* byte offset in the source (operator, function name, ...) */
    uint32_t height;  /* of the subtree: bounds the evaluator's recursion */
    uint32_t nkids;
    expr_node **kids;
    int32_t slot;          /* OP_FIELD, OP_EQ_STR: field slot */
    const expr_func *func; /* OP_FUNC */
    void *aux;             /* OP_LIKE: expr_like; OP_REGEX: expr_regex; json_extract: expr_jpath */
    wire_value k;          /* OP_CONST; OP_EQ_STR: the literal */
};

/*
 * Field paths of one compilation unit (an expression, or every item of a
 * select list) form a trie: a.b and a.c share the slot of a. Each slot caches
 * its lookup for the current event; `epoch` says which event that was.
 */
typedef struct expr_path {
    int32_t parent; /* -1: the event's top level */
    int32_t index;  /* >= 0: array index; -1: object key */
    const char *key;
    uint32_t keylen;
} expr_path;

typedef struct expr_slot {
    uint32_t epoch;  /* located for this epoch */
    uint32_t vepoch; /* v converted for this epoch */
    bool found;
    wire_json_val jv;
    wire_value v;
} expr_slot;

enum { META_NONE = -1, META_ROOT = -2, META_NULL = -3 };

typedef struct expr_shared {
    unsigned refs;
    expr_path *paths;
    uint32_t npaths, cap;
    expr_slot *slots; /* npaths entries, allocated when compilation ends */
    uint32_t nslots;
    /* Top-level keys: when there are several, one pass over the event's
       members locates them all, instead of one scan each. */
    struct expr_topkey {
        const char *key;
        uint32_t len;
        int32_t slot;
    } * top;
    uint32_t ntop;
    uint64_t top_lens; /* bit L: some top-level key is L bytes long (L < 64) */
    bool top_long;     /* some top-level key is 64 bytes or longer */
    uint32_t top_minlen;
    /* A metadata namespace bound to the slots (wire_meta_ns): per slot, META_NONE
       (an ordinary path), META_ROOT, META_NULL or the namespace's field index. */
    const wire_meta_ns *meta;
    int16_t *meta_of; /* nslots entries once a namespace was bound */
    bool has_meta;    /* some slot is not META_NONE */
    int32_t meta_root;
    /* Which evaluation the slots belong to. */
    uint32_t epoch;
    const wire_event *ev;
    const char *data;
    uint32_t len;
    uint32_t gen;
    wire_arena names; /* path keys */
    uint32_t *htab;   /* while compiling: path index + 1, by (parent, segment) */
    uint32_t hcap;
} expr_shared;

struct wire_expr {
    expr_node *root;
    char *text; /* NUL-terminated copy of the source */
    size_t textlen;
    wire_arena arena; /* nodes, constants, folded strings */
    expr_shared *sh;
    expr_regex *regexes; /* to free */
    /* Conjuncts `top_level_field = 'literal'` of a root AND (or the root
       itself): if one cannot be true, a condition is false without a scan. */
    const expr_node **pre;
    uint32_t npre;
};

/* Evaluation state: one per top-level call. */
typedef struct expr_eval {
    wire_eval_ctx *ctx;
    expr_shared *sh;
    wire_err *err;
} expr_eval;

/* Functions. `eval` gets the node to evaluate its arguments lazily (coalesce). */
typedef int (*expr_fn)(expr_eval *st, const expr_node *n, wire_value *out);
struct expr_func {
    const char *name;
    uint8_t min_args, max_args;
    bool pure; /* may be folded when its arguments are constant */
    expr_fn fn;
};

const expr_func *wire__expr_func_find(const char *name, size_t n);
/* Called at compile time for a function node; may precompute n->aux. */
int wire__expr_func_check(wire_arena *a, expr_node *n, wire_err *err);

int wire__expr_eval_node(expr_eval *st, const expr_node *n, wire_value *out);
void wire__expr_begin(expr_eval *st, const wire_expr *e, wire_eval_ctx *ctx, wire_err *err);
/* Plain (unescaped) text of a string value; unescapes into the arena only if needed. */
void wire__expr_text(expr_eval *st, const wire_value *v, const char **p, size_t *n);
/* Look a path up inside a JSON value (json_extract); fills out (NULL if absent). */
void wire__expr_json_to_value(const wire_json_val *jv, wire_value *out);
int wire__expr_jpath_parse(wire_arena *a, const char *s, size_t n, expr_jpath *out);
/* Shared by = and IN and CASE: 1 equal, 0 not, -1 unknown (NULL or types differ). */
int wire__expr_equal(expr_eval *st, const wire_value *a, const wire_value *b);
const char *wire__expr_type_name(const wire_value *v);
/* Format a double like the JSON writer would (shortest round trip). */
size_t wire__expr_fmt_double(double d, char out[32]);
int wire__expr_like_compile(wire_arena *a, const char *pat, size_t n, int esc, bool nocase,
                            expr_like *out, const char **errmsg);

static inline void expr_set_null(wire_value *v)
{
    v->type = WIRE_V_NULL;
    v->escaped = 0;
}
static inline void expr_set_bool(wire_value *v, bool b)
{
    v->type = WIRE_V_BOOL;
    v->escaped = 0;
    v->b = b;
}
static inline void expr_set_int(wire_value *v, int64_t i)
{
    v->type = WIRE_V_INT;
    v->escaped = 0;
    v->i = i;
}
static inline void expr_set_double(wire_value *v, double d)
{
    v->type = WIRE_V_DOUBLE;
    v->escaped = 0;
    v->d = d;
}
static inline void expr_set_str(wire_value *v, const char *p, size_t n, bool escaped)
{
    v->type = WIRE_V_STRING;
    v->escaped = escaped;
    v->s.p = p;
    v->s.n = n;
}

#endif
