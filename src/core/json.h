/*
 * json.h — Wire's own JSON scanner and writer.
 *
 * No packaged JSON library is fast enough for the data path (cJSON parses
 * about 130 MB/s here). Events stay as their raw bytes: ingest validates each
 * one once with a structural scan (no tree is built), and later stages locate
 * only the fields they need, lazily, by skipping over what they do not.
 * Everything here works on (pointer, length) slices; nothing allocates except
 * the writer's buffer.
 *
 * Tested differentially against cJSON and fuzzed (fuzz/fuzz_json.c).
 */
#ifndef WIRE_JSON_H
#define WIRE_JSON_H

#include "core/core.h"

typedef enum wire_json_kind {
    WIRE_JSON_INVALID = 0,
    WIRE_JSON_NULL,
    WIRE_JSON_FALSE,
    WIRE_JSON_TRUE,
    WIRE_JSON_NUMBER,
    WIRE_JSON_STRING,
    WIRE_JSON_ARRAY,
    WIRE_JSON_OBJECT,
} wire_json_kind;

/*
 * A value inside a document: its kind and its raw slice. For strings the slice
 * includes the quotes; for containers it spans from the opening to the
 * closing bracket.
 */
typedef struct wire_json_val {
    wire_json_kind kind;
    const char *p;
    size_t n;
} wire_json_val;

/* Maximum nesting depth accepted by the validator (deeper is an error). */
#define WIRE_JSON_MAX_DEPTH 512

/*
 * Validate that [p, p+n) is exactly one JSON value (RFC 8259) with optional
 * surrounding whitespace: strict grammar, valid UTF-8 in strings, no control
 * characters in strings, valid escapes (including surrogate pairs), numbers
 * per the grammar. Returns 0 if valid; otherwise WIRE_EPARSE with
 * err->offset = byte offset of the problem and a short message.
 * `err` may be NULL.
 */
int wire_json_validate(const char *p, size_t n, wire_err *err);

/* Same, but also require the top-level value to be an object. */
int wire_json_validate_object(const char *p, size_t n, wire_err *err);

/*
 * Lookups on VALIDATED text (behaviour on invalid text is memory-safe but
 * unspecified). `obj` is the slice of an object value; returns 1 and fills
 * *out if a member with the given (unescaped) key exists, else 0. With
 * duplicate keys the last one wins (as in most parsers, cJSON excepted).
 */
int wire_json_get(const char *obj, size_t n, const char *key, size_t keylen, wire_json_val *out);
/* Element `idx` of an array slice; 1 if present. */
int wire_json_index(const char *arr, size_t n, size_t idx, wire_json_val *out);
/*
 * Classify a slice that starts at a value (leading whitespace allowed): 1 and
 * *out = the value (kind, and its slice, which ends where the value does), or
 * 0 if no value starts there.
 */
int wire_json_value(const char *p, size_t n, wire_json_val *out);

/* Iterate members of an object slice, or elements of an array slice. */
typedef struct wire_json_iter {
    const char *p, *end;
    int is_object;
} wire_json_iter;
void wire_json_iter_init(wire_json_iter *it, const wire_json_val *container);
/* Returns 1 and fills key (objects only; raw string slice with quotes) and val; 0 at end. */
int wire_json_iter_next(wire_json_iter *it, wire_json_val *key, wire_json_val *val);

/*
 * Strings. `raw` is the slice between the quotes (escaped form). Unescape
 * into `out` (which must hold at least `n` bytes; the unescaped text is never
 * longer than the escaped) and return its length.
 */
size_t wire_json_unescape(const char *raw, size_t n, char *out);
/* Compare an escaped raw string body with plain text; 1 if equal. */
int wire_json_str_eq(const char *raw, size_t n, const char *s, size_t slen);

/*
 * Numbers: parse a validated number slice. Returns WIRE_JSON_NUM_INT with *i
 * set when it is an integer that fits int64 (no fraction or exponent), else
 * WIRE_JSON_NUM_DOUBLE with *d set.
 */
enum { WIRE_JSON_NUM_INT = 1, WIRE_JSON_NUM_DOUBLE = 2 };
int wire_json_number(const char *p, size_t n, int64_t *i, double *d);

/*
 * UTF-8: length (1..4) of the well-formed sequence starting at p (at most n
 * bytes available), or 0 if there is none (overlong, surrogate, above
 * U+10FFFF, truncated, stray continuation byte, or n == 0).
 */
size_t wire_utf8_seq(const char *p, size_t n);

/*
 * Writer: appends compact JSON to a wire_buf. wire_json_write_str escapes
 * '"', '\\' and control characters and replaces each byte that is not part
 * of well-formed UTF-8 with U+FFFD, so its output always validates.
 */
void wire_json_write_str(wire_buf *b, const char *s, size_t n); /* quotes + escapes */
/* The same into `out`, which holds at least WIRE_JSON_QUOTE_MAX(n) bytes; returns the
   length written (no NUL). Worst case: every byte becomes \u00XX. */
#define WIRE_JSON_QUOTE_MAX(n) ((n)*6 + 2)
size_t wire_json_quote(char *out, const char *s, size_t n);
void wire_json_write_int(wire_buf *b, int64_t v);
void wire_json_write_double(wire_buf *b, double v); /* shortest round-trip; NaN/Inf -> null */

/*
 * Structured writer: objects and arrays with the commas and quoting done
 * for you, so no caller counts bytes or places separators by hand. Every
 * HTTP response, the CLI's JSON and the stored records use it.
 *
 *   wire_jw w;
 *   wire_jw_init(&w, &buf);
 *   wire_jw_obj(&w);
 *   wire_jw_kstr(&w, "name", p->name);
 *   wire_jw_key(&w, "stages"); wire_jw_arr(&w); ... wire_jw_end(&w);
 *   wire_jw_end(&w);
 *
 * Nesting is limited to WIRE_JW_DEPTH levels (deeper values are still
 * written, with commas decided at the deepest tracked level).
 */
#define WIRE_JW_DEPTH 32
typedef struct wire_jw {
    wire_buf *b;
    int depth;
    bool after_key;                   /* a key was written: the value needs no comma */
    bool has_item[WIRE_JW_DEPTH + 1]; /* at each depth: something was written already */
    char close[WIRE_JW_DEPTH + 1];    /* '}' or ']' */
} wire_jw;

void wire_jw_init(wire_jw *w, wire_buf *b);
void wire_jw_obj(wire_jw *w);
void wire_jw_arr(wire_jw *w);
void wire_jw_end(wire_jw *w); /* closes the innermost object or array */
void wire_jw_key(wire_jw *w, const char *k);
void wire_jw_keyn(wire_jw *w, const char *k, size_t n);
void wire_jw_str(wire_jw *w, const char *s); /* NULL -> null */
void wire_jw_strn(wire_jw *w, const char *s, size_t n);
void wire_jw_int(wire_jw *w, int64_t v);
void wire_jw_uint(wire_jw *w, uint64_t v);
void wire_jw_double(wire_jw *w, double v);
void wire_jw_bool(wire_jw *w, bool v);
void wire_jw_null(wire_jw *w);
void wire_jw_raw(wire_jw *w, const char *json, size_t n); /* a value that is JSON text already */
/* key + value */
void wire_jw_kstr(wire_jw *w, const char *k, const char *s);
void wire_jw_kint(wire_jw *w, const char *k, int64_t v);
void wire_jw_kuint(wire_jw *w, const char *k, uint64_t v);
void wire_jw_kdouble(wire_jw *w, const char *k, double v);
void wire_jw_kbool(wire_jw *w, const char *k, bool v);

/* Re-indent valid JSON text for people (two spaces, "key": value). */
void wire_json_pretty(const char *p, size_t n, wire_buf *out);

#endif
