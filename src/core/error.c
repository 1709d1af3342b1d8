/*
 * error.c — the error buffer and the diagnostics list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int wire_errf(wire_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
        err->offset = -1;
        err->retry_after_ms = 0;
    }
    return code;
}

int wire_errf_at(wire_err *err, int code, long offset, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
        err->offset = offset;
        err->retry_after_ms = 0;
    }
    return code;
}

void wire_err_clear(wire_err *err)
{
    err->code = 0;
    err->offset = -1;
    err->retry_after_ms = 0;
    err->msg[0] = '\0';
}

const char *wire_strerror(int code)
{
    switch (code) {
    case WIRE_OK: return "ok";
    case WIRE_EINVAL: return "invalid argument";
    case WIRE_ENOMEM: return "out of memory";
    case WIRE_EIO: return "I/O error";
    case WIRE_EPARSE: return "parse error";
    case WIRE_EAGAIN: return "temporary failure";
    case WIRE_ECLOSED: return "closed";
    case WIRE_ENOTFOUND: return "not found";
    case WIRE_EPERM: return "permanent failure";
    case WIRE_ESTOPPED: return "stopped";
    case WIRE_ETYPE: return "type error";
    default: return "unknown error";
    }
}

void wire_diags_vadd(wire_diags *d, const char *file, int line, int col, const char *fmt,
                     va_list ap)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->v = wire_xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    wire_diag *g = &d->v[d->n++];
    g->file = wire_xstrdup(file ? file : "-");
    g->line = line;
    g->col = col;
    g->msg = wire_xstrdup(msg);
}

void wire_diags_add(wire_diags *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wire_diags_vadd(d, file, line, col, fmt, ap);
    va_end(ap);
}

void wire_diags_print(const wire_diags *d, void *stream)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stream, "%s:%d:%d: %s\n", d->v[i].file, d->v[i].line, d->v[i].col, d->v[i].msg);
}

static bool diag_after(const wire_diag *a, const wire_diag *b)
{
    return a->line > b->line || (a->line == b->line && a->col > b->col);
}

/*
 * A bottom-up merge sort: stable, and O(n log n) however the problems
 * arrive (an insertion sort took 30 s for 100,000 problems found in an order
 * far from the file's).
 */
void wire_diags_sort(wire_diags *d, size_t from)
{
    if (from >= d->n || d->n - from < 2)
        return;
    size_t n = d->n - from;
    wire_diag *src = d->v + from, *tmp = wire_xmalloc(n * sizeof(*tmp)), *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n,
                   hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = diag_after(&src[i], &src[j]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        wire_diag *t = src;
        src = dst;
        dst = t;
    }
    if (src != d->v + from)
        memcpy(d->v + from, src, n * sizeof(*src));
    free(tmp);
}

void wire_diags_free(wire_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}
