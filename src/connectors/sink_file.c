/*
 * sink_file.c — the `file` sink: appends events as JSON lines to a file,
 * creating parent directories. Events are buffered and written with one
 * write() per flush; an event no transform changed is written byte for byte.
 *
 * Durability: at each checkpoint barrier the file is fdatasync'd and its
 * length recorded in the checkpoint. Under exactly-once delivery, recovery
 * truncates the file to that length, so the uncommitted tail a crash left
 * behind disappears and the replay writes it again exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "connectors/lines.h"
#include "core/io.h"
#include "core/sandbox.h"

typedef struct file_sink_config {
    char *path;
    int64_t buffer;
} file_sink_config;

static const wire_option file_options[] = {
    {"path", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED | WIRE_OPT_PATH,
     offsetof(file_sink_config, path), NULL,
     "File to append JSON lines to; parent directories are created. {{instance}} is replaced "
     "by the instance number (0 .. parallelism-1), so parallel instances write apart. On a "
     "node, inside its allowed paths (--allowed-paths)."},
    {"buffer", WIRE_OPT_SIZE, "1MB", 0, offsetof(file_sink_config, buffer), NULL,
     "Bytes buffered before a write() is forced."},
    {NULL},
};

typedef struct file_sink {
    wire_io_writer w; /* first: the line writer's callbacks take the instance as it */
    uint64_t base;    /* file length when opened (or restored) */
} file_sink;
_Static_assert(offsetof(file_sink, w) == 0, "the line writer comes first");

/*
 * A crash in the middle of a write() leaves a partial last line. Its batch
 * was never acknowledged, so it will be written again: cut the fragment off,
 * or the next line would be glued to it (invalid JSON for readers).
 */
static int cut_partial_line(int fd, const char *path, uint64_t *size, wire_err *err)
{
    char buf[4096];
    uint64_t end = *size;
    while (end > 0) {
        size_t n = end > sizeof(buf) ? sizeof(buf) : (size_t)end;
        ssize_t r = pread(fd, buf, n, (off_t)(end - n));
        if (r != (ssize_t)n)
            return wire_errf(err, WIRE_EIO, "read %s: %s", path, strerror(errno));
        char *nl = memrchr(buf, '\n', n);
        if (nl) {
            end = end - n + (uint64_t)(nl - buf) + 1;
            break;
        }
        end -= n;
    }
    if (end == *size)
        return 0;
    if (ftruncate(fd, (off_t)end) != 0)
        return wire_errf(err, WIRE_EIO, "truncate %s: %s", path, strerror(errno));
    wire_warn("file sink %s: removed a partial last line (%llu bytes) left by an interrupted "
              "write; its events will be written again",
              path, (unsigned long long)(*size - end));
    *size = end;
    return 0;
}

/* The path with every {{instance}} replaced by the instance number (malloc'd). */
static char *instance_path(const char *path, const wire_component_env *env)
{
    static const char tag[] = "{{instance}}";
    wire_buf b;
    wire_buf_init(&b);
    for (const char *p = path;;) {
        const char *t = strstr(p, tag);
        if (!t) {
            wire_buf_append(&b, p, strlen(p));
            break;
        }
        wire_buf_append(&b, p, (size_t)(t - p));
        wire_buf_printf(&b, "%u", env ? env->instance : 0);
        p = t + sizeof(tag) - 1;
    }
    wire_buf_putc(&b, '\0');
    return b.p; /* owned by the caller */
}

static int file_open(void **self, const void *config, const wire_component_env *env, wire_err *err)
{
    const file_sink_config *c = config;
    file_sink *s = wire_xcalloc(1, sizeof(*s));
    char *path = instance_path(c->path, env);
    int fd = wire_sandbox_open(env ? env->sandbox : NULL, path,
                               O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644, err);
    if (fd < 0) {
        free(path);
        free(s);
        return err->code == WIRE_EPERM ? WIRE_EPERM : WIRE_EIO;
    }
    wire_io_writer_from_fd(&s->w, fd, path, (size_t)c->buffer);
    s->w.owns_fd = true;
    free(path);
    struct stat st;
    if (fstat(s->w.fd, &st) == 0 && S_ISREG(st.st_mode)) {
        s->base = (uint64_t)st.st_size;
        int rc = cut_partial_line(s->w.fd, s->w.path, &s->base, err);
        if (rc != 0) {
            wire_io_writer_close(&s->w);
            free(s);
            return rc;
        }
    }
    *self = s;
    return 0;
}

static int file_sync(void *self, wire_err *err)
{
    file_sink *s = self;
    return wire_io_fsync(s->w.fd, s->w.path, err);
}

static void file_snapshot(void *self, wire_buf *out)
{
    file_sink *s = self;
    wire_jw w;
    wire_jw_init(&w, out);
    wire_jw_obj(&w);
    wire_jw_kuint(&w, "length", s->base + s->w.bytes_written);
    wire_jw_end(&w);
}

static int file_restore(void *self, const char *state, size_t n, wire_err *err)
{
    file_sink *s = self;
    const char *p = memmem(state, n, "\"length\":", 9);
    if (!p)
        return 0; /* "null": nothing recorded */
    unsigned long long len = strtoull(p + 9, NULL, 10);
    struct stat st;
    if (fstat(s->w.fd, &st) != 0)
        return wire_errf(err, WIRE_EIO, "stat %s: %s", s->w.path, strerror(errno));
    if ((unsigned long long)st.st_size > len) {
        if (ftruncate(s->w.fd, (off_t)len) != 0)
            return wire_errf(err, WIRE_EIO, "truncate %s to %llu: %s", s->w.path, len,
                             strerror(errno));
        wire_info("file sink %s: truncated uncommitted tail (%llu -> %llu bytes)", s->w.path,
                  (unsigned long long)st.st_size, len);
    } else if ((unsigned long long)st.st_size < len) {
        wire_warn("file sink %s: shorter (%llu bytes) than its checkpoint says (%llu): was it "
                  "truncated by someone else?",
                  s->w.path, (unsigned long long)st.st_size, len);
        len = (unsigned long long)st.st_size;
    }
    s->base = len;
    s->w.bytes_written = 0;
    return 0;
}

const wire_sink_def wire_sink_file = {
    .base = {WIRE_KIND_SINK, "file", "Append events as JSON lines to a file", file_options,
             sizeof(file_sink_config), WIRE_CAP_EO_2PC, file_open, wire_lines_sink_close},
    .write = wire_lines_sink_write,
    .flush = wire_lines_sink_flush,
    .sync = file_sync,
    .snapshot = file_snapshot,
    .restore = file_restore,
};
