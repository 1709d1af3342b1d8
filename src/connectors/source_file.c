/*
 * source_file.c — the `file` source.
 *
 * mode read: read the file to its end, then finish.
 * mode tail: follow appends; notice rotation by rename (the path now names
 * another inode: finish the old file, then start the new one from its
 * beginning) and truncation (the file shrank below our offset: start over).
 *
 * The position of a split is the file's identity (device, inode) and the
 * byte offset after the last complete line handed to the pipeline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "connectors/lines.h"
#include "core/sandbox.h"

enum { MODE_READ = 0, MODE_TAIL = 1 };
enum { START_BEGINNING = 0, START_END = 1 };

typedef struct file_source_config {
    char *path;
    int mode;
    int format;
    int start_at;
    int64_t poll_ms;
    int64_t read_size;
    int64_t max_line;
} file_source_config;

static const wire_option file_options[] = {
    {"path", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED | WIRE_OPT_PATH,
     offsetof(file_source_config, path), NULL,
     "File to read. On a node, inside its allowed paths (--allowed-paths)."},
    {"mode", WIRE_OPT_ENUM, "read", 0, offsetof(file_source_config, mode), "read|tail",
     "read: to the end, then finish; tail: follow appends, rotation and truncation."},
    {"format", WIRE_OPT_ENUM, "json", 0, offsetof(file_source_config, format), "json|lines",
     "json: one JSON object per line; lines: each line becomes {\"message\": line}."},
    {"start_at", WIRE_OPT_ENUM, "beginning", 0, offsetof(file_source_config, start_at),
     "beginning|end",
     "tail mode, first open without a checkpoint: read from the start or "
     "only what is appended."},
    {"poll_interval", WIRE_OPT_DURATION, "100ms", 0, offsetof(file_source_config, poll_ms), NULL,
     "tail mode: how often to look for appended data and rotation."},
    {"read_size", WIRE_OPT_SIZE, "256KB", 0, offsetof(file_source_config, read_size), NULL,
     "Bytes per read(); one read makes one batch."},
    {"max_line", WIRE_OPT_SIZE, "1MB", 0, offsetof(file_source_config, max_line), NULL,
     "Longer lines are skipped and counted."},
    {NULL},
};

typedef struct file_source {
    const file_source_config *c;
    int fd;
    dev_t dev;
    ino_t ino;
    int64_t epoch_ms;
    wire_line_reader reader;
    const wire_sandbox *sandbox; /* a node's: every open stays inside */
} file_source;

static int file_create(void **self, const void *config, const wire_component_env *env,
                       wire_err *err)
{
    file_source *s = wire_xcalloc(1, sizeof(*s));
    s->c = config;
    s->sandbox = env ? env->sandbox : NULL;
    s->fd = -1;
    *self = s;
    return 0;
}

static void file_destroy(void *self)
{
    file_source *s = self;
    if (s->fd >= 0)
        close(s->fd);
    wire_lines_free(&s->reader);
    free(s);
}

/* Open `path`; 1 if opened, 0 if it does not exist (yet), <0 error. */
static int open_path(file_source *s, const char *path, bool at_end, wire_err *err)
{
    wire_err oe;
    wire_err_clear(&oe);
    int fd = wire_sandbox_open(s->sandbox, path, O_RDONLY | O_CLOEXEC, 0, &oe);
    if (fd < 0) {
        if (oe.code == WIRE_ENOTFOUND)
            return 0;
        return wire_errf(err, oe.code, "%s", oe.msg);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return wire_errf(err, WIRE_EIO, "stat %s: %s", path, strerror(e));
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = fd;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->epoch_ms = wire_now_ms();
    uint64_t start = 0;
    if (at_end && S_ISREG(st.st_mode)) {
        start = (uint64_t)st.st_size;
        lseek(fd, (off_t)start, SEEK_SET);
    }
    wire_lines_reset(&s->reader, start);
    return 1;
}

static int open_current(file_source *s, bool at_end, wire_err *err)
{
    return open_path(s, s->c->path, at_end, err);
}

/* Continue the opened file from a checkpointed position of the same file. */
static void seek_to(file_source *s, const wire_position *pos)
{
    lseek(s->fd, (off_t)pos->offset, SEEK_SET);
    wire_lines_reset(&s->reader, pos->offset);
    s->epoch_ms = pos->epoch_ms;
}

static bool same_file(const file_source *s, const wire_position *pos)
{
    return pos->identity[0] == (uint64_t)s->dev && pos->identity[1] == (uint64_t)s->ino;
}

/* The directory of `path` into dir (or "."); returns the file name part. */
static const char *split_path(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, n, ".");
    return slash ? slash + 1 : path;
}

static void set_position(file_source *s, wire_batch *b, uint64_t end)
{
    wire_position pos = {0};
    pos.split = 0;
    pos.identity[0] = (uint64_t)s->dev;
    pos.identity[1] = (uint64_t)s->ino;
    pos.epoch_ms = s->epoch_ms;
    pos.offset = end;
    wire_batch_set_position(b, &pos);
}

/* Emit what one read() produced. Returns bytes read, 0 at EOF, <0 error/stop. */
static ssize_t read_once(file_source *s, wire_source_ctx *ctx, wire_err *err, int *rc)
{
    wire_batch *b = wire_source_batch(ctx);
    uint64_t end;
    ssize_t got = wire_lines_read(&s->reader, s->fd, b, 0, &end);
    if (got < 0) {
        *rc = wire_errf(err, WIRE_EIO, "read %s: %s", s->c->path, strerror(errno));
        wire_batch_release(b);
        return -1;
    }
    if (got == 0) {
        wire_batch_release(b);
        return 0;
    }
    set_position(s, b, end);
    if (wire_source_emit(ctx, b, false) != 0) {
        *rc = WIRE_ESTOPPED;
        return -1;
    }
    return got;
}

static int emit_final_line(file_source *s, wire_source_ctx *ctx)
{
    if (s->reader.carry_len == 0)
        return 0;
    wire_batch *b = wire_source_batch(ctx);
    uint64_t end;
    wire_lines_finish(&s->reader, b, 0, &end);
    set_position(s, b, end);
    return wire_source_emit(ctx, b, false);
}

static int read_to_end(file_source *s, wire_source_ctx *ctx, wire_err *err);

static int run_read(file_source *s, wire_source_ctx *ctx, wire_err *err)
{
    int rc = open_current(s, false, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return wire_errf(err, WIRE_EIO, "open %s: no such file", s->c->path);
    const wire_position *resume = wire_source_resume(ctx, 0);
    if (resume && same_file(s, resume)) {
        seek_to(s, resume);
    } else if (resume) {
        wire_warn("file %s: not the file of the last checkpoint (replaced?); reading it from "
                  "the start",
                  s->c->path);
    }
    return read_to_end(s, ctx, err);
}

static int read_to_end(file_source *s, wire_source_ctx *ctx, wire_err *err)
{
    int rc;
    for (;;) {
        if (wire_source_stopping(ctx))
            return WIRE_ESTOPPED;
        int erc = 0;
        ssize_t got = read_once(s, ctx, err, &erc);
        if (got < 0)
            return erc;
        if (got == 0)
            break;
    }
    rc = emit_final_line(s, ctx);
    if (rc != 0)
        return rc;
    if (s->reader.too_long)
        wire_warn("file %s: %llu lines longer than max_line were skipped", s->c->path,
                  (unsigned long long)s->reader.too_long);
    return 0;
}

/* Tail: has the path been rotated (renamed away or replaced) or truncated? */
static int check_rotation(file_source *s, wire_err *err)
{
    struct stat st;
    if (wire_sandbox_stat(s->sandbox, s->c->path, &st) == 0 &&
        (st.st_ino != s->ino || st.st_dev != s->dev)) {
        /* rotated: the old file is drained (we just saw EOF); the final
           partial line of the old file is complete by definition */
        return 1;
    }
    struct stat fst;
    if (fstat(s->fd, &fst) == 0 && S_ISREG(fst.st_mode) &&
        (uint64_t)fst.st_size < s->reader.offset) {
        wire_warn("file %s: truncated (size %lld < offset %llu); reading from the start",
                  s->c->path, (long long)fst.st_size, (unsigned long long)s->reader.offset);
        lseek(s->fd, 0, SEEK_SET);
        wire_lines_reset(&s->reader, 0);
    }
    return 0;
}

/* Read an opened file to its end (it no longer grows: it was rotated away), then close it. */
static int drain_open_file(file_source *s, wire_source_ctx *ctx, wire_err *err)
{
    int erc = 0;
    ssize_t got;
    while ((got = read_once(s, ctx, err, &erc)) > 0)
        ;
    if (got < 0)
        return erc;
    if (emit_final_line(s, ctx) != 0)
        return WIRE_ESTOPPED;
    close(s->fd);
    s->fd = -1;
    return 0;
}

static bool compressed_name(const char *name)
{
    static const char *const ext[] = {".gz", ".zst", ".bz2", ".xz", ".lz4", ".zip"};
    size_t n = strlen(name);
    for (size_t i = 0; i < WIRE_ARRAY_LEN(ext); i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(name + n - e, ext[i]) == 0)
            return true;
    }
    return false;
}

/* A file beside ours whose name starts with ours: a rotated generation (app.log.1, ...). */
typedef struct rotated_file {
    char path[8200];
    struct stat st;
} rotated_file;

/* The rotated generations beside our file, in directory order, with their stat. */
static size_t list_generations(const file_source *s, rotated_file **out)
{
    char dir[4096];
    const char *base = split_path(s->c->path, dir, sizeof(dir));
    *out = NULL;
    wire_err err;
    wire_err_clear(&err);
    DIR *d = wire_sandbox_opendir(s->sandbox, dir, &err);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, strlen(base)) != 0 || strcmp(e->d_name, base) == 0)
            continue;
        rotated_file f;
        snprintf(f.path, sizeof(f.path), "%s/%s", dir, e->d_name);
        if (wire_sandbox_stat(s->sandbox, f.path, &f.st) != 0)
            continue;
        *out = wire_xrealloc(*out, (n + 1) * sizeof(**out));
        (*out)[n++] = f;
    }
    closedir(d);
    return n;
}

/*
 * Find the checkpointed file after a rotation while we were stopped: a
 * generation whose inode is the checkpoint's. Writes its path to `out`; 1 if
 * found.
 */
static int find_rotated(const file_source *s, const wire_position *pos, char *out, size_t n)
{
    rotated_file *gens;
    size_t ngens = list_generations(s, &gens);
    int found = 0;
    for (size_t i = 0; i < ngens && !found; i++) {
        if ((uint64_t)gens[i].st.st_dev == pos->identity[0] &&
            (uint64_t)gens[i].st.st_ino == pos->identity[1]) {
            snprintf(out, n, "%s", gens[i].path);
            found = 1;
        }
    }
    free(gens);
    return found;
}

static int cmp_time(struct timespec x, struct timespec y)
{
    if (x.tv_sec != y.tv_sec)
        return x.tv_sec < y.tv_sec ? -1 : 1;
    return x.tv_nsec < y.tv_nsec ? -1 : x.tv_nsec > y.tv_nsec;
}

static int by_mtime(const void *a, const void *b)
{
    const rotated_file *x = a, *y = b;
    return cmp_time(x->st.st_mtim, y->st.st_mtim);
}

/*
 * Rotated generations written after `after` (the file we resumed in): other
 * files named like ours whose last write is newer, oldest first. Compressed
 * generations are skipped (they are copies of lines already read).
 */
static size_t newer_generations(const file_source *s, struct timespec after, ino_t skip,
                                rotated_file **out)
{
    size_t n = list_generations(s, out), kept = 0;
    for (size_t i = 0; i < n; i++) {
        const rotated_file *f = &(*out)[i];
        if (compressed_name(f->path) || !S_ISREG(f->st.st_mode) || f->st.st_ino == skip ||
            cmp_time(f->st.st_mtim, after) <= 0)
            continue;
        (*out)[kept++] = *f;
    }
    if (kept > 1)
        qsort(*out, kept, sizeof(**out), by_mtime);
    return kept;
}

/*
 * Tail start from a checkpoint: the same file continues at its offset. If it
 * was rotated away while we were stopped, finish it, then every generation
 * rotated after it, oldest first; the loop then opens the current file from
 * its beginning.
 */
static int tail_resume(file_source *s, wire_source_ctx *ctx, const wire_position *resume,
                       wire_err *err)
{
    int rc = open_current(s, false, err);
    if (rc < 0)
        return rc;
    if (rc == 1 && same_file(s, resume)) {
        struct stat st;
        if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size >= resume->offset)
            seek_to(s, resume); /* else truncated meanwhile: from the start */
        return 0;
    }
    ino_t current_ino = rc == 1 ? s->ino : 0;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    char rotated[8200];
    if (!find_rotated(s, resume, rotated, sizeof(rotated))) {
        wire_warn("file %s: the file of the last checkpoint is gone (rotated and removed while "
                  "stopped?); reading the current file from the start",
                  s->c->path);
        return 0;
    }
    rc = open_path(s, rotated, false, err);
    if (rc <= 0)
        return rc;
    struct stat st;
    struct timespec after = {0, 0};
    if (fstat(s->fd, &st) == 0)
        after = st.st_mtim;
    wire_info("file %s: finishing %s (rotated while stopped) from offset %llu", s->c->path, rotated,
              (unsigned long long)resume->offset);
    seek_to(s, resume);
    if ((rc = drain_open_file(s, ctx, err)) != 0)
        return rc;
    rotated_file *gens;
    size_t n = newer_generations(s, after, current_ino, &gens);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (open_path(s, gens[i].path, false, err) != 1)
            continue;
        wire_info("file %s: reading %s (rotated while stopped)", s->c->path, gens[i].path);
        rc = drain_open_file(s, ctx, err);
    }
    free(gens);
    return rc;
}

static int run_tail(file_source *s, wire_source_ctx *ctx, wire_err *err)
{
    bool first = true;
    const wire_position *resume = wire_source_resume(ctx, 0);
    if (resume) {
        int rc = tail_resume(s, ctx, resume, err);
        if (rc != 0)
            return rc;
        first = false;
    }
    bool waiting = false; /* said that the file is missing; say when it appears */
    while (!wire_source_stopping(ctx)) {
        if (s->fd < 0) {
            int rc = open_current(s, first && s->c->start_at == START_END, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                if (!waiting) {
                    /* a missing file at start is probably a typo: warn; after a
                       rotation the next file is usually a moment away */
                    wire_log(first ? WIRE_LOG_WARN : WIRE_LOG_INFO,
                             "file %s: does not exist%s; waiting for it (checking every %lld ms)",
                             s->c->path, first ? "" : " (rotated away)", (long long)s->c->poll_ms);
                    waiting = true;
                }
                wire_sleep_ms(s->c->poll_ms);
                continue;
            }
            if (waiting)
                wire_info("file %s: appeared; reading it", s->c->path);
            waiting = false;
            first = false;
        }
        int erc = 0;
        ssize_t got = read_once(s, ctx, err, &erc);
        if (got < 0)
            return erc;
        if (got > 0)
            continue;
        /* at EOF: look for rotation or truncation, then wait */
        int rot = check_rotation(s, err);
        if (rot < 0)
            return rot;
        if (rot == 1) {
            /* drain anything appended to the old file since our last read */
            int rc = drain_open_file(s, ctx, err);
            if (rc != 0)
                return rc;
            continue; /* open the new file from its beginning */
        }
        wire_sleep_ms(s->c->poll_ms);
    }
    return WIRE_ESTOPPED;
}

static int file_run(void *self, wire_source_ctx *ctx, wire_err *err)
{
    file_source *s = self;
    wire_lines_init(&s->reader, s->c->format, (size_t)s->c->read_size, (size_t)s->c->max_line, 0);
    return s->c->mode == MODE_READ ? run_read(s, ctx, err) : run_tail(s, ctx, err);
}

const wire_source_def wire_source_file = {
    .base = {WIRE_KIND_SOURCE, "file",
             "Read JSON lines (or text lines) from a file, to its end or tailing it", file_options,
             sizeof(file_source_config), WIRE_CAP_BOUNDED | WIRE_CAP_REPLAYABLE, file_create,
             file_destroy},
    .run = file_run,
};
