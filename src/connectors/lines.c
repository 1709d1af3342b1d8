/*
 * lines.c — line splitting for the file and stdin sources, line writing for
 * the file and stdout sinks; see lines.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/lines.h"
#include "core/io.h"
#include "core/json.h"

void wire_lines_init(wire_line_reader *r, int format, size_t read_size, size_t max_line,
                     uint64_t offset)
{
    memset(r, 0, sizeof(*r));
    r->format = format;
    r->read_size = read_size ? read_size : 256 * 1024;
    r->max_line = max_line ? max_line : 1 << 20;
    r->offset = offset;
}

void wire_lines_free(wire_line_reader *r)
{
    free(r->carry);
    wire_buf_free(&r->tmp);
    r->carry = NULL;
    r->carry_len = r->carry_cap = 0;
}

void wire_lines_reset(wire_line_reader *r, uint64_t offset)
{
    r->carry_len = 0;
    r->skipping = false;
    r->offset = offset;
}

const char *wire_lines_wrap_text(wire_buf *tmp, wire_batch *b, const char *p, size_t n,
                                 uint32_t *len)
{
    wire_buf_reset(tmp);
    wire_jw w;
    wire_jw_init(&w, tmp);
    wire_jw_obj(&w);
    wire_jw_key(&w, "message");
    wire_jw_strn(&w, p, n);
    wire_jw_end(&w);
    char *dst = wire_arena_alloc_unaligned(&b->arena, tmp->len);
    memcpy(dst, tmp->p, tmp->len);
    *len = (uint32_t)tmp->len;
    return dst;
}

static void add_line(wire_line_reader *r, wire_batch *b, const char *p, size_t n, uint32_t split,
                     uint64_t off)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (r->format == WIRE_LINES_JSON) {
        /* skip blank lines */
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n)
            return;
        wire_event *e = wire_batch_push(b, p, (uint32_t)n);
        e->split = split;
        e->offset = off;
        e->time_ms = b->ingest_ms;
        return;
    }
    uint32_t len;
    const char *dst = wire_lines_wrap_text(&r->tmp, b, p, n, &len);
    wire_event *e = wire_batch_push(b, dst, len);
    e->split = split;
    e->offset = off;
    e->time_ms = b->ingest_ms;
}

ssize_t wire_lines_read(wire_line_reader *r, int fd, wire_batch *b, uint32_t split,
                        uint64_t *end_offset)
{
    size_t carry = r->carry_len;
    char *buf = wire_arena_alloc_unaligned(&b->arena, carry + r->read_size);
    if (carry)
        memcpy(buf, r->carry, carry);
    ssize_t got;
    do {
        got = read(fd, buf + carry, r->read_size);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        *end_offset = r->offset - r->carry_len;
        return got;
    }
    uint64_t base = r->offset - carry; /* stream offset of buf[0] */
    r->offset += (uint64_t)got;
    size_t total = carry + (size_t)got;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(buf + start, '\n', total - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - buf);
        if (r->skipping)
            r->skipping = false; /* the tail of an over-long line */
        else
            add_line(r, b, buf + start, end - start, split, base + start);
        start = end + 1;
    }
    /* keep the partial line */
    size_t rest = total - start;
    if (r->skipping) {
        rest = 0;
    } else if (rest > r->max_line) {
        r->too_long++;
        r->skipping = true;
        rest = 0;
    }
    if (rest) {
        if (rest > r->carry_cap) {
            r->carry_cap = rest * 2;
            r->carry = wire_xrealloc(r->carry, r->carry_cap);
        }
        memmove(r->carry, buf + start, rest);
    }
    r->carry_len = rest;
    /* a skipped tail is consumed: resume after it */
    *end_offset = r->offset - rest;
    return got;
}

void wire_lines_finish(wire_line_reader *r, wire_batch *b, uint32_t split, uint64_t *end_offset)
{
    if (r->carry_len && !r->skipping) {
        char *p = wire_arena_alloc_unaligned(&b->arena, r->carry_len);
        memcpy(p, r->carry, r->carry_len);
        add_line(r, b, p, r->carry_len, split, r->offset - r->carry_len);
    }
    r->carry_len = 0;
    r->skipping = false;
    *end_offset = r->offset;
}

int wire_lines_sink_write(void *self, const wire_batch *b, wire_err *err)
{
    wire_io_writer *w = self;
    int full = 0;
    for (uint32_t i = 0; i < b->n; i++)
        full |= wire_io_writer_line(w, b->ev[i].data, b->ev[i].len);
    return full;
}

int wire_lines_sink_flush(void *self, wire_err *err)
{
    return wire_io_writer_flush(self, err);
}

void wire_lines_sink_close(void *self)
{
    wire_io_writer_close(self);
    free(self);
}
