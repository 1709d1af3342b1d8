/*
 * core.h — the things every layer of Wire uses: error codes and the error
 * buffer, diagnostics lists (FILE:LINE:COL messages), growable byte buffers,
 * arenas, time, and the logger.
 *
 * Core knows nothing above it: no engine, no connectors, no cluster.
 */
#ifndef WIRE_CORE_H
#define WIRE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION "0.1.0"

#define WIRE_LIKELY(x) __builtin_expect(!!(x), 1)
#define WIRE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WIRE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define WIRE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Error codes: functions return 0 or one of these (negative). */
enum {
    WIRE_OK = 0,
    WIRE_EINVAL = -1,  /* bad argument or configuration */
    WIRE_ENOMEM = -2,  /* allocation failed */
    WIRE_EIO = -3,     /* I/O error (errno-style detail in the message) */
    WIRE_EPARSE = -4,  /* malformed input (JSON, YAML, expression) */
    WIRE_EAGAIN = -5,  /* try again later (retryable) */
    WIRE_ECLOSED = -6, /* queue or connection closed */
    WIRE_ENOTFOUND = -7,
    WIRE_EPERM = -8,    /* permanent failure: retrying will not help */
    WIRE_ESTOPPED = -9, /* the operation was interrupted by a stop request */
    WIRE_ETYPE = -10,   /* type error during evaluation */
};

/*
 * The one error type. A function that fails fills `msg` (what, where, what to
 * do) and returns its code. `offset` is optional extra context: a byte offset
 * inside the text being parsed, or -1.
 */
typedef struct wire_err {
    int code;
    long offset;
    int64_t
        retry_after_ms; /* retryable errors: the server asked us to wait this long (0: no hint) */
    char msg[512];
} wire_err;

int wire_errf(wire_err *err, int code, const char *fmt, ...) WIRE_PRINTF(3, 4);
int wire_errf_at(wire_err *err, int code, long offset, const char *fmt, ...) WIRE_PRINTF(4, 5);
void wire_err_clear(wire_err *err);
const char *wire_strerror(int code);

/*
 * Diagnostics: an ordered list of "FILE:LINE:COL: message" problems, so that
 * `wire validate` can report every problem, not just the first.
 */
typedef struct wire_diag {
    char *file; /* owned */
    int line, col;
    char *msg; /* owned */
} wire_diag;

typedef struct wire_diags {
    wire_diag *v;
    size_t n, cap;
} wire_diags;

void wire_diags_add(wire_diags *d, const char *file, int line, int col, const char *fmt, ...)
    WIRE_PRINTF(5, 6);
void wire_diags_vadd(wire_diags *d, const char *file, int line, int col, const char *fmt,
                     va_list ap);
void wire_diags_print(const wire_diags *d, void *stream /* FILE* */);
/* Sort d->v[from..] by line, then column; stable (one position keeps the order found). */
void wire_diags_sort(wire_diags *d, size_t from);
void wire_diags_free(wire_diags *d);

/* Growable byte buffer. `p` is always NUL-terminated when len > 0. */
typedef struct wire_buf {
    char *p;
    size_t len, cap;
} wire_buf;

void wire_buf_init(wire_buf *b);
void wire_buf_free(wire_buf *b);
void wire_buf_reserve(wire_buf *b, size_t extra); /* aborts only on OOM */
void wire_buf_append(wire_buf *b, const void *p, size_t n);
void wire_buf_putc(wire_buf *b, char c);
void wire_buf_printf(wire_buf *b, const char *fmt, ...) WIRE_PRINTF(2, 3);
static inline void wire_buf_reset(wire_buf *b)
{
    b->len = 0;
}

/*
 * Arena: a chain of chunks with bump allocation; everything is freed at once
 * by reset/free. Per-batch data lives in arenas, so the hot path does no
 * malloc per event.
 */
typedef struct wire_arena_chunk wire_arena_chunk;
typedef struct wire_arena {
    wire_arena_chunk *head;  /* current chunk */
    wire_arena_chunk *spare; /* kept across reset for reuse */
    size_t chunk_size;
    size_t used; /* total bytes handed out since reset */
} wire_arena;

void wire_arena_init(wire_arena *a, size_t chunk_size);
void *wire_arena_alloc(wire_arena *a, size_t n);           /* 8-byte aligned */
void *wire_arena_alloc_unaligned(wire_arena *a, size_t n); /* byte aligned */
char *wire_arena_strndup(wire_arena *a, const char *s, size_t n);
void wire_arena_reset(wire_arena *a);
void wire_arena_free(wire_arena *a);
/* Bytes allocated from the system (for memory accounting). */
size_t wire_arena_footprint(const wire_arena *a);

/* Time. */
int64_t wire_now_ms(void); /* wall clock, ms since the epoch */
/* `ms` since the epoch as UTC ISO 8601 with milliseconds: 2026-12-08T00:45:12.345Z */
void wire_time_iso(int64_t ms, char out[32]);
/* RFC 3339 (and the date-only and no-zone forms people write; no zone = UTC) -> ms since the
   epoch; false if it is not one. With the calendar of the expression functions (expr_func.c). */
bool wire_time_parse_rfc3339(const char *p, size_t n, int64_t *ms);
int64_t wire_mono_ns(void); /* monotonic */
void wire_sleep_ms(int64_t ms);
/* Parse "500ms", "1s", "2m", "1h", "250us" -> milliseconds (>= 0). */
int wire_parse_duration_ms(const char *s, int64_t *out);
/* Parse "64KB", "1MB", "1GiB", "512" -> bytes. */
int wire_parse_size(const char *s, int64_t *out);

/* Logging: one logger, to stderr, "2026-11-29T07:47:38.123Z level msg". */
enum { WIRE_LOG_DEBUG, WIRE_LOG_INFO, WIRE_LOG_WARN, WIRE_LOG_ERROR };
void wire_log_set_level(int level);
void wire_log(int level, const char *fmt, ...) WIRE_PRINTF(2, 3);
#define wire_debug(...) wire_log(WIRE_LOG_DEBUG, __VA_ARGS__)
#define wire_info(...) wire_log(WIRE_LOG_INFO, __VA_ARGS__)
#define wire_warn(...) wire_log(WIRE_LOG_WARN, __VA_ARGS__)
#define wire_error(...) wire_log(WIRE_LOG_ERROR, __VA_ARGS__)

/* Allocation that aborts on OOM (for control-path objects, not input-driven sizes). */
void *wire_xmalloc(size_t n);
void *wire_xcalloc(size_t n, size_t m);
void *wire_xrealloc(void *p, size_t n);
char *wire_xstrdup(const char *s);
char *wire_xstrndup(const char *s, size_t n);

/* Hash (FNV-1a 64) for ids and partitioning. */
uint64_t wire_hash64(const void *p, size_t n, uint64_t seed);

#endif
