/*
 * io.c — whole writes, fsync, directories and the buffered line writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io.h"

int wire_io_write_all(int fd, const void *p, size_t n, const char *what, wire_err *err)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return wire_errf(err, WIRE_EIO, "write %s: %s", what, strerror(errno));
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int wire_io_fsync(int fd, const char *what, wire_err *err)
{
    if (fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS)
        return wire_errf(err, WIRE_EIO, "fsync %s: %s", what, strerror(errno));
    return 0;
}

int wire_io_mkdir_p(const char *dir, wire_err *err)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(tmp))
        return n == 0 ? 0 : wire_errf(err, WIRE_EINVAL, "path too long: %s", dir);
    memcpy(tmp, dir, n + 1);
    for (char *c = tmp + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return wire_errf(err, WIRE_EIO, "mkdir %s: %s", tmp, strerror(errno));
        *c = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return wire_errf(err, WIRE_EIO, "mkdir %s: %s", tmp, strerror(errno));
    return 0;
}

int wire_io_mkdir_parents(const char *path, wire_err *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
        return wire_errf(err, WIRE_EINVAL, "path too long: %s", path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    return wire_io_mkdir_p(dir, err);
}

int wire_io_read_file(const char *path, char **out, size_t *len, wire_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wire_errf(err, WIRE_EIO, "cannot open: %s", strerror(errno));
    wire_buf b;
    wire_buf_init(&b);
    wire_buf_reserve(&b, 4096);
    for (;;) {
        wire_buf_reserve(&b, 65536);
        ssize_t r = read(fd, b.p + b.len, b.cap - b.len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            wire_buf_free(&b);
            return wire_errf(err, WIRE_EIO, "read: %s", strerror(e));
        }
        if (r == 0)
            break;
        b.len += (size_t)r;
    }
    close(fd);
    b.p[b.len] = '\0';
    *out = b.p;
    *len = b.len;
    return 0;
}

int wire_io_writer_open(wire_io_writer *w, const char *path, size_t flush_at, wire_err *err)
{
    memset(w, 0, sizeof(*w));
    int rc = wire_io_mkdir_parents(path, err);
    if (rc != 0)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return wire_errf(err, WIRE_EIO, "open %s: %s", path, strerror(errno));
    wire_io_writer_from_fd(w, fd, path, flush_at);
    w->owns_fd = true;
    return 0;
}

void wire_io_writer_from_fd(wire_io_writer *w, int fd, const char *name, size_t flush_at)
{
    w->fd = fd;
    w->owns_fd = false;
    w->path = wire_xstrdup(name);
    wire_buf_init(&w->buf);
    w->flush_at = flush_at ? flush_at : 1 << 20;
    w->bytes_written = 0;
}

int wire_io_writer_line(wire_io_writer *w, const char *p, size_t n)
{
    wire_buf *b = &w->buf;
    if (WIRE_UNLIKELY(b->len + n + 2 > b->cap))
        wire_buf_reserve(b, n + 1 > w->flush_at ? n + 1 : w->flush_at + n + 1);
    memcpy(b->p + b->len, p, n);
    b->p[b->len + n] = '\n';
    b->len += n + 1;
    return b->len >= w->flush_at;
}

int wire_io_writer_flush(wire_io_writer *w, wire_err *err)
{
    if (w->buf.len == 0)
        return 0;
    int rc = wire_io_write_all(w->fd, w->buf.p, w->buf.len, w->path, err);
    if (rc != 0)
        return rc; /* keep the buffer: a retry rewrites it whole */
    w->bytes_written += w->buf.len;
    w->buf.len = 0;
    return 0;
}

void wire_io_writer_close(wire_io_writer *w)
{
    if (w->owns_fd && w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    wire_buf_free(&w->buf);
    free(w->path);
    w->path = NULL;
}
