/*
 * raft_dir.c — what a node's --raft-dir holds, checked before libraft opens it.
 *
 * libraft keeps its term and vote in two alternating 32-byte files,
 * metadata1 and metadata2 ({disk format 1, version, term, voted for}, u64
 * little-endian each), beside the log segments and snapshots. It forgives a
 * metadata file shorter than 32 bytes by deleting it, assuming a crash while
 * it was written: right when the other file holds the previous state, but
 * when it is the only one the node forgets its term and vote and, with a log
 * beside it, comes up as a leader at term 0 that can commit nothing. So the
 * node refuses to start unless the directory is either pristine or has at
 * least one sound metadata file, and names the file that is not.
 *
 * It also keeps the node's incarnation (dir/incarnation): a number that grows
 * with every start, the epoch of the client sessions its forwards carry.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/internal.h"

#define METADATA_SIZE 32
#define METADATA_FORMAT 1

enum { MD_ABSENT, MD_SOUND, MD_SHORT, MD_BAD };

static uint64_t get_u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Classify metadataN; *why says what is wrong with a file that is not sound. */
static int metadata_state(const char *dir, int n, char *why, size_t whylen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/metadata%d", dir, n);
    struct stat st;
    if (stat(path, &st) != 0)
        return MD_ABSENT;
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s is not a regular file", path);
        return MD_BAD;
    }
    if (st.st_size != METADATA_SIZE) {
        snprintf(why, whylen, "%s is %lld bytes; a Raft metadata file has %d", path,
                 (long long)st.st_size, METADATA_SIZE);
        return st.st_size < METADATA_SIZE ? MD_SHORT : MD_BAD;
    }
    unsigned char b[METADATA_SIZE];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, b, sizeof(b)) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof(b)) {
        snprintf(why, whylen, "%s cannot be read: %s", path, strerror(errno));
        return MD_BAD;
    }
    uint64_t format = get_u64le(b), version = get_u64le(b + 8);
    if (format != METADATA_FORMAT) {
        snprintf(why, whylen, "%s has disk format %llu; this libraft writes %d", path,
                 (unsigned long long)format, METADATA_FORMAT);
        return MD_BAD;
    }
    if (version == 0) {
        snprintf(why, whylen, "%s has version 0, which libraft never writes", path);
        return MD_BAD;
    }
    return MD_SOUND;
}

/* A log segment (closed "N-M" or open "open-N") or a snapshot lives in dir. */
static bool has_log(const char *dir, char *name, size_t namelen)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        unsigned long long a, b;
        char tail;
        if (sscanf(e->d_name, "%llu-%llu%c", &a, &b, &tail) == 2 ||
            strncmp(e->d_name, "open-", 5) == 0 || strncmp(e->d_name, "snapshot-", 9) == 0) {
            snprintf(name, namelen, "%s", e->d_name);
            found = true;
        }
    }
    closedir(d);
    return found;
}

int wire_raft_dir_check(const char *dir, bool *has_state, wire_err *err)
{
    char why1[4200] = "", why2[4200] = "", log[256] = "";
    int m1 = metadata_state(dir, 1, why1, sizeof(why1));
    int m2 = metadata_state(dir, 2, why2, sizeof(why2));
    const char *fix = "the node's Raft state is damaged; restore --raft-dir from a backup, or "
                      "remove the node from the cluster (wire cluster remove ID) and start it "
                      "again with an empty --raft-dir";
    *has_state = m1 == MD_SOUND || m2 == MD_SOUND;
    if (m1 == MD_BAD)
        return wire_errf(err, WIRE_EINVAL, "%s: %s", why1, fix);
    if (m2 == MD_BAD)
        return wire_errf(err, WIRE_EINVAL, "%s: %s", why2, fix);
    /* a short file beside a sound one is a crash while writing it: libraft recovers */
    if (!*has_state && (m1 == MD_SHORT || m2 == MD_SHORT))
        return wire_errf(err, WIRE_EINVAL, "%s, and no other metadata file is sound: %s",
                         m1 == MD_SHORT ? why1 : why2, fix);
    if (!*has_state && has_log(dir, log, sizeof(log)))
        return wire_errf(err, WIRE_EINVAL,
                         "%s/%s is a Raft log file but the directory has no metadata file "
                         "(metadata1, metadata2): %s",
                         dir, log, fix);
    return 0;
}

int wire_raft_dir_incarnation(const char *dir, uint64_t *out, wire_err *err)
{
    char path[4096], tmp[4200], text[32] = "";
    snprintf(path, sizeof(path), "%s/incarnation", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    uint64_t last = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (got > 0)
            last = strtoull(text, NULL, 10);
    }
    uint64_t now = (uint64_t)wire_now_ms();
    uint64_t inc = last + 1 > now ? last + 1 : now;
    int len = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)inc);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return wire_errf(err, WIRE_EIO, "%s: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return wire_errf(err, WIRE_EIO, "rename %s: %s", tmp, strerror(errno));
    *out = inc;
    return 0;
}
