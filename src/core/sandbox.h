/*
 * sandbox.h — the directories a node's pipelines may touch.
 *
 * A pipeline submitted over the API runs sandboxed: every path one of its
 * options takes (WIRE_OPT_PATH) must lie inside one of the node's roots
 * (`<data dir>/files`, widened with --allowed-paths). It is checked when the
 * pipeline is created (wire_sandbox_check: after `..` and symlinks) and
 * again whenever a component opens it (wire_sandbox_open: openat2 with
 * RESOLVE_BENEATH from the root's descriptor, so a symlink swapped in after
 * the check cannot lead out). A relative path is the process's, relative to
 * its working directory, as for open(2).
 *
 * `wire run` of a local file is the user's own process: no sandbox. Every
 * function takes a NULL sandbox as "unrestricted" and then acts on the path
 * as given (relative to the working directory).
 */
#ifndef WIRE_SANDBOX_H
#define WIRE_SANDBOX_H

#include <dirent.h>
#include <sys/stat.h>

#include "core/core.h"

typedef struct wire_sandbox wire_sandbox;

/* The roots, each created if missing and resolved (realpath). NULL on error. */
wire_sandbox *wire_sandbox_new(const char *const *roots, size_t n, wire_err *err);
void wire_sandbox_free(wire_sandbox *sb);
/* The roots, comma-separated, for messages. */
const char *wire_sandbox_roots(const wire_sandbox *sb);

/*
 * 0 when `path` resolves inside a root — lexically (`..` taken out) and
 * through every symlink of the part that exists — else WIRE_EPERM with a
 * message naming the path and the roots.
 */
int wire_sandbox_check(const wire_sandbox *sb, const char *path, wire_err *err);
/*
 * open(2) inside the sandbox (through the I/O layer's fault points). With
 * O_CREAT the missing parent directories are created first, each beneath
 * the root. A descriptor, or -1 with err set (WIRE_EPERM: outside the roots
 * or escaping them; WIRE_ENOTFOUND: it does not exist; WIRE_EIO otherwise).
 */
int wire_sandbox_open(const wire_sandbox *sb, const char *path, int flags, int mode, wire_err *err);
/* stat(2) inside the sandbox: 0, or -1 with errno set (EXDEV: it leads out). */
int wire_sandbox_stat(const wire_sandbox *sb, const char *path, struct stat *st);
/* opendir(3) inside the sandbox; NULL with err set, as wire_sandbox_open. */
DIR *wire_sandbox_opendir(const wire_sandbox *sb, const char *dir, wire_err *err);

#endif
