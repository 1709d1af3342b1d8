/*
 * lines.h — JSON lines in and out: turning a byte stream (file, stdin) into
 * line events, shared by the file and stdin sources; and writing events as
 * lines, shared by the file and stdout sinks.
 *
 * Each read goes straight into the batch's arena, after the partial line
 * carried over from the previous read; complete lines become events pointing
 * into that buffer (format json: zero copy) or are wrapped as
 * {"message": "..."} (format lines). The batch's position is the offset just
 * after its last complete line, so a resume never splits a line.
 */
#ifndef WIRE_LINES_H
#define WIRE_LINES_H

#include <sys/types.h>

#include "core/event.h"

enum { WIRE_LINES_JSON = 0, WIRE_LINES_TEXT = 1 };

typedef struct wire_line_reader {
    int format;
    size_t read_size;
    size_t max_line;
    char *carry; /* partial line from the previous read */
    size_t carry_len, carry_cap;
    bool skipping;     /* inside an over-long line: drop bytes until '\n' */
    uint64_t offset;   /* stream offset of the next byte read() returns */
    uint64_t too_long; /* lines dropped for exceeding max_line */
    wire_buf tmp;      /* reused to escape text lines */
} wire_line_reader;

void wire_lines_init(wire_line_reader *r, int format, size_t read_size, size_t max_line,
                     uint64_t offset);
void wire_lines_free(wire_line_reader *r);
/* Text as an event: {"message":"..."} with the text escaped, built in `tmp` (reused) and
   copied into the batch's arena; *len is its length. */
const char *wire_lines_wrap_text(wire_buf *tmp, wire_batch *b, const char *p, size_t n,
                                 uint32_t *len);
/* Forget the carried partial line and restart at `offset`. */
void wire_lines_reset(wire_line_reader *r, uint64_t offset);
/*
 * read() once from fd into b (events appended, split = `split`). Returns bytes
 * read (0 at EOF) or -1 with errno. *end_offset = stream offset after the last
 * complete line in the batch.
 */
ssize_t wire_lines_read(wire_line_reader *r, int fd, wire_batch *b, uint32_t split,
                        uint64_t *end_offset);
/* At EOF of a bounded input, a final line without '\n' becomes an event. */
void wire_lines_finish(wire_line_reader *r, wire_batch *b, uint32_t split, uint64_t *end_offset);

/*
 * The writing side: sink callbacks for an instance that starts with a
 * wire_io_writer (core/io.h). Each event's bytes go out unchanged, one per
 * line; write asks for a flush (1) once the buffer is past its size.
 */
int wire_lines_sink_write(void *self, const wire_batch *b, wire_err *err);
int wire_lines_sink_flush(void *self, wire_err *err);
/* Close the writer and free the instance. */
void wire_lines_sink_close(void *self);

#endif
