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
