/*
 * io.h — the I/O layer every file-writing component goes through: whole
 * writes, fsync, durable rename, directory creation, and a buffered line
 * writer. Fault injection hooks (issue 3) live here so tests can make writes,
 * fsyncs and renames fail, in the manner of SQLite's test VFS.
 */
#ifndef WIRE_IO_H
#define WIRE_IO_H

#include <sys/types.h>

#include "core/core.h"

/*
 * Fault injection. A fault point fails the matching I/O calls: it lets
 * `after` matching calls succeed, then fails the next `count` (-1: all) with
 * errno `err`. `match` (optional) restricts it to paths containing that text.
 * From the environment: WIRE_FAULTS="fsync:after=3:count=1:errno=EIO:match=out,
 * write:count=-1" (points: write, short_write, fsync, rename, open).
 */
typedef enum {
    WIRE_FAULT_WRITE,
    WIRE_FAULT_SHORT_WRITE, /* write only half of the buffer, then fail */
    WIRE_FAULT_FSYNC,
    WIRE_FAULT_RENAME,
    WIRE_FAULT_OPEN,
    WIRE_FAULT_NPOINTS
} wire_fault_point;

void wire_fault_set(wire_fault_point pt, long after, long count, int err, const char *match);
void wire_fault_clear_all(void);
/* Parse WIRE_FAULTS-style text; 0 or WIRE_EINVAL with a message. */
int wire_fault_parse(const char *spec, wire_err *err);
/* Whether a call on `path` at point `pt` fails now (sets errno), for I/O
   done outside this file (core/sandbox.c). */
bool wire_io_fault(wire_fault_point pt, const char *path);
/* How many calls a point has failed so far. */
long wire_fault_hits(wire_fault_point pt);

/* Write all n bytes (retrying short writes and EINTR). 0 or WIRE_EIO (err names path). */
int wire_io_write_all(int fd, const void *p, size_t n, const char *what, wire_err *err);
int wire_io_fsync(int fd, const char *what, wire_err *err);
/* open(2) through the fault layer. */
int wire_io_open(const char *path, int flags, int mode);
/* rename + fsync of the directory: the new name is durable when this returns 0. */
int wire_io_rename_durable(const char *from, const char *to, wire_err *err);
/* Write a whole file atomically: temp file, write, fsync, rename, fsync dir. */
int wire_io_write_file_atomic(const char *path, const void *p, size_t n, wire_err *err);
int wire_io_fsync_dir(const char *dir, wire_err *err);

/* mkdir -p of the directory part of `path` (the file itself is not created). */
int wire_io_mkdir_parents(const char *path, wire_err *err);
int wire_io_mkdir_p(const char *dir, wire_err *err);
/* Read a whole file into a NUL-terminated malloc'd buffer. */
int wire_io_read_file(const char *path, char **out, size_t *len, wire_err *err);
/* The same from an open descriptor (standard input: 0), to its end; fd stays open. */
int wire_io_read_fd(int fd, char **out, size_t *len, wire_err *err);

/* Buffered writer of newline-terminated records to an fd. */
typedef struct wire_io_writer {
    int fd;
    bool owns_fd;
    char *path; /* for messages */
    wire_buf buf;
    size_t flush_at; /* ask for a flush beyond this many buffered bytes */
    uint64_t bytes_written;
} wire_io_writer;

int wire_io_writer_open(wire_io_writer *w, const char *path, size_t flush_at, wire_err *err);
void wire_io_writer_from_fd(wire_io_writer *w, int fd, const char *name, size_t flush_at);
/* Append one record plus '\n'. Returns 1 when the buffer passed flush_at. */
int wire_io_writer_line(wire_io_writer *w, const char *p, size_t n);
int wire_io_writer_flush(wire_io_writer *w, wire_err *err);
void wire_io_writer_close(wire_io_writer *w);

#endif
