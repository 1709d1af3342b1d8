/*
 * sandbox.c — paths confined to a node's roots; see sandbox.h.
 *
 * A path is first made absolute (relative: to the working directory) and
 * normalised lexically (`.`, `..`, repeated slashes); it must then lie in a
 * root, as the rest of the path below it. That rest is what is opened —
 * never the text as given — with openat2(RESOLVE_BENEATH) from the root's
 * directory descriptor: the kernel refuses any `..` or symlink (absolute,
 * or relative and climbing) that would leave the root (EXDEV), however
 * the tree changed since the check.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/io.h"
#include "core/sandbox.h"

typedef struct sb_root {
    char *path; /* resolved, no trailing slash ("/" itself allowed) */
    size_t len;
    int fd; /* O_PATH | O_DIRECTORY */
} sb_root;

struct wire_sandbox {
    sb_root *roots;
    size_t n;
    char *names; /* "a, b" */
};

static int openat2_beneath(int dirfd, const char *rel, int flags, int mode)
{
    struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
                           .mode = (flags & O_CREAT) ? (unsigned long long)mode : 0,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
}

/* `path` absolute (relative: below `base`) and without `.`, `..` or "//". */
static int normalise(const char *base, const char *path, char *out, size_t cap)
{
    char tmp[PATH_MAX * 2];
    int n = path[0] == '/' ? snprintf(tmp, sizeof(tmp), "%s", path)
                           : snprintf(tmp, sizeof(tmp), "%s/%s", base, path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -1;
    size_t len = 0;
    out[len] = 0;
    for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the slash */
            out[len] = 0;
            continue;
        }
        size_t cl = strlen(c);
        if (len + 1 + cl + 1 > cap)
            return -1;
        out[len++] = '/';
        memcpy(out + len, c, cl + 1);
        len += cl;
    }
    if (len == 0) {
        if (cap < 2)
            return -1;
        out[0] = '/';
        out[1] = 0;
    }
    return 0;
}

/* The root `abs` lies in, and the rest below it ("." for the root itself). */
static const sb_root *locate(const wire_sandbox *sb, const char *abs, const char **rel)
{
    for (size_t i = 0; i < sb->n; i++) {
        const sb_root *r = &sb->roots[i];
        if (r->len == 1) { /* "/" */
            *rel = abs[1] ? abs + 1 : ".";
            return r;
        }
        if (strncmp(abs, r->path, r->len) == 0 && (abs[r->len] == '/' || abs[r->len] == 0)) {
            *rel = abs[r->len] ? abs + r->len + 1 : ".";
            return r;
        }
    }
    return NULL;
}

static int outside(const wire_sandbox *sb, const char *path, const char *why, wire_err *err)
{
    return wire_errf(err, WIRE_EPERM,
                     "%s %s the allowed paths (%s; a node widens them with --allowed-paths)", path,
                     why, sb->names);
}

void wire_sandbox_free(wire_sandbox *sb)
{
    if (!sb)
        return;
    for (size_t i = 0; i < sb->n; i++) {
        free(sb->roots[i].path);
        if (sb->roots[i].fd >= 0)
            close(sb->roots[i].fd);
    }
    free(sb->roots);
    free(sb->names);
    free(sb);
}

wire_sandbox *wire_sandbox_new(const char *const *roots, size_t n, wire_err *err)
{
    wire_sandbox *sb = wire_xcalloc(1, sizeof(*sb));
    sb->roots = wire_xcalloc(n ? n : 1, sizeof(*sb->roots));
    wire_buf names;
    wire_buf_init(&names);
    for (size_t i = 0; i < n; i++) {
        sb_root *r = &sb->roots[sb->n];
        r->fd = -1;
        char real[PATH_MAX];
        if (wire_io_mkdir_p(roots[i], err) != 0 || !realpath(roots[i], real)) {
            if (!err->msg[0])
                wire_errf(err, WIRE_EIO, "allowed path %s: %s", roots[i], strerror(errno));
            wire_buf_free(&names);
            wire_sandbox_free(sb);
            return NULL;
        }
        r->path = wire_xstrdup(real);
        r->len = strlen(real);
        r->fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
        sb->n++;
        if (r->fd < 0) {
            wire_errf(err, WIRE_EIO, "allowed path %s: %s", real, strerror(errno));
            wire_buf_free(&names);
            wire_sandbox_free(sb);
            return NULL;
        }
        wire_buf_printf(&names, "%s%s", i ? ", " : "", real);
    }
    wire_buf_putc(&names, '\0');
    sb->names = names.p;
    return sb;
}

const char *wire_sandbox_roots(const wire_sandbox *sb)
{
    return sb ? sb->names : "";
}

/* Normalise and locate; WIRE_EPERM when it is in no root. */
static const sb_root *resolve(const wire_sandbox *sb, const char *path, char *abs, size_t cap,
                              const char **rel, wire_err *err)
{
    if (!sb->n) {
        outside(sb, path, "is outside", err);
        return NULL;
    }
    char cwd[PATH_MAX];
    if (path[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
        wire_errf(err, WIRE_EIO, "%s: the working directory: %s", path, strerror(errno));
        return NULL;
    }
    if (normalise(path[0] == '/' ? "" : cwd, path, abs, cap) != 0) {
        wire_errf(err, WIRE_EPERM, "path too long: %s", path);
        return NULL;
    }
    const sb_root *r = locate(sb, abs, rel);
    if (!r)
        outside(sb, path, "is outside", err);
    return r;
}

int wire_sandbox_check(const wire_sandbox *sb, const char *path, wire_err *err)
{
    if (!sb)
        return 0;
    char abs[PATH_MAX];
    const char *rel;
    const sb_root *r = resolve(sb, path, abs, sizeof(abs), &rel, err);
    if (!r)
        return WIRE_EPERM;
    /* the longest part that exists must resolve beneath the root too */
    char part[PATH_MAX];
    snprintf(part, sizeof(part), "%s", rel);
    for (;;) {
        int fd = openat2_beneath(r->fd, part, O_PATH, 0);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno == EXDEV || errno == ELOOP)
            return outside(sb, path, "resolves (through a symlink) outside", err);
        if (errno != ENOENT && errno != ENOTDIR)
            return wire_errf(err, WIRE_EIO, "%s: %s", path, strerror(errno));
        char *slash = strrchr(part, '/');
        if (!slash)
            return 0; /* nothing of it exists yet: it will be created beneath */
        *slash = 0;
    }
}

/* mkdir -p of rel's directory part, one component at a time beneath the root. */
static int mkdir_beneath(const wire_sandbox *sb, const sb_root *r, const char *path,
                         const char *rel, wire_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", rel);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = 0;
    int at = dup(r->fd);
    if (at < 0)
        return wire_errf(err, WIRE_EIO, "%s: %s", path, strerror(errno));
    int rc = 0;
    for (char *save = NULL, *c = strtok_r(dir, "/", &save); c && rc == 0;
         c = strtok_r(NULL, "/", &save)) {
        if (mkdirat(at, c, 0755) != 0 && errno != EEXIST) {
            rc = wire_errf(err, WIRE_EIO, "mkdir for %s: %s", path, strerror(errno));
            break;
        }
        int next = openat2_beneath(at, c, O_PATH | O_DIRECTORY, 0);
        if (next < 0)
            rc = errno == EXDEV || errno == ELOOP
                     ? outside(sb, path, "resolves (through a symlink) outside", err)
                     : wire_errf(err, WIRE_EIO, "%s: %s", path, strerror(errno));
        close(at);
        at = next;
    }
    if (at >= 0)
        close(at);
    return rc;
}

int wire_sandbox_open(const wire_sandbox *sb, const char *path, int flags, int mode, wire_err *err)
{
    int fd;
    if (!sb) {
        if ((flags & O_CREAT) && wire_io_mkdir_parents(path, err) != 0)
            return -1;
        fd = wire_io_open(path, flags, mode);
    } else {
        char abs[PATH_MAX];
        const char *rel;
        const sb_root *r = resolve(sb, path, abs, sizeof(abs), &rel, err);
        if (!r)
            return -1;
        if ((flags & O_CREAT) && mkdir_beneath(sb, r, path, rel, err) != 0)
            return -1;
        fd = wire_io_fault(WIRE_FAULT_OPEN, path) ? -1 : openat2_beneath(r->fd, rel, flags, mode);
        if (fd < 0 && (errno == EXDEV || errno == ELOOP)) {
            outside(sb, path, "resolves (through a symlink) outside", err);
            return -1;
        }
    }
    if (fd < 0)
        wire_errf(err, errno == ENOENT ? WIRE_ENOTFOUND : WIRE_EIO, "open %s: %s", path,
                  strerror(errno));
    return fd;
}

int wire_sandbox_stat(const wire_sandbox *sb, const char *path, struct stat *st)
{
    if (!sb)
        return stat(path, st);
    wire_err err;
    wire_err_clear(&err);
    char abs[PATH_MAX];
    const char *rel;
    const sb_root *r = resolve(sb, path, abs, sizeof(abs), &rel, &err);
    if (!r) {
        errno = EXDEV;
        return -1;
    }
    int fd = openat2_beneath(r->fd, rel, O_PATH, 0);
    if (fd < 0)
        return -1;
    int rc = fstat(fd, st);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

DIR *wire_sandbox_opendir(const wire_sandbox *sb, const char *dir, wire_err *err)
{
    if (!sb) {
        DIR *d = opendir(dir);
        if (!d)
            wire_errf(err, errno == ENOENT ? WIRE_ENOTFOUND : WIRE_EIO, "opendir %s: %s", dir,
                      strerror(errno));
        return d;
    }
    int fd = wire_sandbox_open(sb, dir, O_RDONLY | O_DIRECTORY, 0, err);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        wire_errf(err, WIRE_EIO, "opendir %s: %s", dir, strerror(errno));
        close(fd);
    }
    return d;
}
