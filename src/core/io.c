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

#include <pthread.h>
#include <stdatomic.h>

/* ---- fault injection ---- */

typedef struct fault {
    atomic_bool armed;
    long after, count; /* guarded by fault_lock */
    int err;
    char match[256];
    atomic_long hits;
} fault;

static fault faults[WIRE_FAULT_NPOINTS];
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool any_fault;

void wire_fault_set(wire_fault_point pt, long after, long count, int err, const char *match)
{
    pthread_mutex_lock(&fault_lock);
    fault *f = &faults[pt];
    f->after = after;
    f->count = count;
    f->err = err ? err : EIO;
    snprintf(f->match, sizeof(f->match), "%s", match ? match : "");
    atomic_store(&f->armed, true);
    atomic_store(&any_fault, true);
    pthread_mutex_unlock(&fault_lock);
}

void wire_fault_clear_all(void)
{
    pthread_mutex_lock(&fault_lock);
    for (int i = 0; i < WIRE_FAULT_NPOINTS; i++) {
        atomic_store(&faults[i].armed, false);
        atomic_store(&faults[i].hits, 0);
    }
    atomic_store(&any_fault, false);
    pthread_mutex_unlock(&fault_lock);
}

long wire_fault_hits(wire_fault_point pt)
{
    return atomic_load(&faults[pt].hits);
}

/* Should this call fail? Sets errno when it should. */
static bool fault_fires(wire_fault_point pt, const char *path)
{
    if (WIRE_LIKELY(!atomic_load_explicit(&any_fault, memory_order_relaxed)))
        return false;
    fault *f = &faults[pt];
    if (!atomic_load(&f->armed))
        return false;
    bool fire = false;
    pthread_mutex_lock(&fault_lock);
    if (!f->match[0] || (path && strstr(path, f->match))) {
        if (f->after > 0) {
            f->after--;
        } else if (f->count != 0) {
            if (f->count > 0)
                f->count--;
            fire = true;
        }
    }
    pthread_mutex_unlock(&fault_lock);
    if (fire) {
        atomic_fetch_add(&f->hits, 1);
        errno = f->err;
    }
    return fire;
}

int wire_fault_parse(const char *spec, wire_err *err)
{
    static const char *const names[] = {"write", "short_write", "fsync", "rename", "open"};
    char *copy = wire_xstrdup(spec), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        char *save2 = NULL;
        char *name = strtok_r(item, ":", &save2);
        int pt = -1;
        for (int i = 0; name && i < WIRE_FAULT_NPOINTS; i++)
            if (strcmp(name, names[i]) == 0)
                pt = i;
        if (pt < 0) {
            rc = wire_errf(err, WIRE_EINVAL, "WIRE_FAULTS: unknown fault point '%s'",
                           name ? name : "");
            break;
        }
        long after = 0, count = 1;
        int e = EIO;
        const char *match = NULL;
        for (char *kv = strtok_r(NULL, ":", &save2); kv; kv = strtok_r(NULL, ":", &save2)) {
            if (strncmp(kv, "after=", 6) == 0)
                after = atol(kv + 6);
            else if (strncmp(kv, "count=", 6) == 0)
                count = atol(kv + 6);
            else if (strcmp(kv, "errno=EIO") == 0)
                e = EIO;
            else if (strcmp(kv, "errno=ENOSPC") == 0)
                e = ENOSPC;
            else if (strncmp(kv, "match=", 6) == 0)
                match = kv + 6;
            else {
                rc = wire_errf(err, WIRE_EINVAL, "WIRE_FAULTS: unknown setting '%s'", kv);
                break;
            }
        }
        if (rc == 0)
            wire_fault_set((wire_fault_point)pt, after, count, e, match);
    }
    free(copy);
    return rc;
}

bool wire_io_fault(wire_fault_point pt, const char *path)
{
    return fault_fires(pt, path);
}

int wire_io_open(const char *path, int flags, int mode)
{
    if (fault_fires(WIRE_FAULT_OPEN, path))
        return -1;
    return open(path, flags, mode);
}

int wire_io_fsync_dir(const char *dir, wire_err *err)
{
    int fd = open(dir && *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wire_errf(err, WIRE_EIO, "open directory %s: %s", dir, strerror(errno));
    int rc = 0;
    if (fault_fires(WIRE_FAULT_FSYNC, dir) || fsync(fd) != 0)
        rc = wire_errf(err, WIRE_EIO, "fsync directory %s: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

static void dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, n, ".");
    } else if (slash == path) {
        snprintf(dir, n, "/");
    } else {
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
    }
}

int wire_io_rename_durable(const char *from, const char *to, wire_err *err)
{
    if (fault_fires(WIRE_FAULT_RENAME, to) || rename(from, to) != 0)
        return wire_errf(err, WIRE_EIO, "rename %s -> %s: %s", from, to, strerror(errno));
    char dir[4096];
    dir_of(to, dir, sizeof(dir));
    return wire_io_fsync_dir(dir, err);
}

int wire_io_write_file_atomic(const char *path, const void *p, size_t n, wire_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = wire_io_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return wire_errf(err, WIRE_EIO, "open %s: %s", tmp, strerror(errno));
    int rc = wire_io_write_all(fd, p, n, tmp, err);
    if (rc == 0)
        rc = wire_io_fsync(fd, tmp, err);
    close(fd);
    if (rc == 0)
        rc = wire_io_rename_durable(tmp, path, err);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* Write as much as possible; *done = bytes that reached the file. */
static int write_counted(int fd, const void *p, size_t n, size_t *done, const char *what,
                         wire_err *err)
{
    const char *s = p;
    *done = 0;
    if (WIRE_UNLIKELY(atomic_load_explicit(&any_fault, memory_order_relaxed))) {
        if (fault_fires(WIRE_FAULT_SHORT_WRITE, what)) {
            int e = errno;
            ssize_t w = write(fd, s, n / 2);
            *done = w > 0 ? (size_t)w : 0;
            return wire_errf(err, WIRE_EIO, "write %s: %s (after a short write)", what,
                             strerror(e));
        }
        if (fault_fires(WIRE_FAULT_WRITE, what))
            return wire_errf(err, WIRE_EIO, "write %s: %s", what, strerror(errno));
    }
    while (*done < n) {
        ssize_t w = write(fd, s + *done, n - *done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            /* the reader went away (`wire run | head`): no retry brings it back */
            int code = errno == EPIPE ? WIRE_EPERM : WIRE_EIO;
            return wire_errf(err, code, "write %s: %s", what, strerror(errno));
        }
        *done += (size_t)w;
    }
    return 0;
}

int wire_io_write_all(int fd, const void *p, size_t n, const char *what, wire_err *err)
{
    size_t done;
    return write_counted(fd, p, n, &done, what, err);
}

int wire_io_fsync(int fd, const char *what, wire_err *err)
{
    if (fault_fires(WIRE_FAULT_FSYNC, what))
        return wire_errf(err, WIRE_EIO, "fsync %s: %s", what, strerror(errno));
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
    int rc = wire_io_read_fd(fd, out, len, err);
    close(fd);
    return rc;
}

int wire_io_read_fd(int fd, char **out, size_t *len, wire_err *err)
{
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
            wire_buf_free(&b);
            return wire_errf(err, WIRE_EIO, "read: %s", strerror(e));
        }
        if (r == 0)
            break;
        b.len += (size_t)r;
    }
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
    int fd = wire_io_open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
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
    size_t done;
    int rc = write_counted(w->fd, w->buf.p, w->buf.len, &done, w->path, err);
    w->bytes_written += done;
    if (rc != 0) {
        /* keep only what did not reach the file: a retry continues exactly
           where the failed write stopped (a full disk may free up) */
        memmove(w->buf.p, w->buf.p + done, w->buf.len - done);
        w->buf.len -= done;
        if (rc == WIRE_EPERM)
            return rc;
        if (err)
            err->code = WIRE_EAGAIN;
        return WIRE_EAGAIN;
    }
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
