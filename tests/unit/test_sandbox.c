/* test_sandbox.c — paths confined to a node's roots: `..`, absolute paths,
 * symlinks at check time and swapped in after it, directories created
 * beneath, a second root, and no sandbox at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "test.h"

static char base[64], root[128], other[128], outside_dir[128];

static void at(char *out, const char *dir, const char *name)
{
    snprintf(out, 600, "%.300s/%.250s", dir, name);
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static wire_sandbox *two_roots(void)
{
    wire_err err;
    wire_err_clear(&err);
    const char *roots[] = {root, other};
    wire_sandbox *sb = wire_sandbox_new(roots, 2, &err);
    CHECK(sb != NULL);
    return sb;
}

TEST(roots_are_created_and_named)
{
    wire_sandbox *sb = two_roots();
    CHECK(exists(root) && exists(other));
    CHECK(strstr(wire_sandbox_roots(sb), root) != NULL);
    CHECK(strstr(wire_sandbox_roots(sb), other) != NULL);
    wire_sandbox_free(sb);
}

TEST(check_inside_and_outside)
{
    wire_sandbox *sb = two_roots();
    wire_err err;
    char p[600];
    at(p, root, "out/a.jsonl");
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), 0);
    at(p, other, "b.jsonl");
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), 0);    /* the second root */
    CHECK_EQ_INT(wire_sandbox_check(sb, root, &err), 0); /* the root itself */
    CHECK_EQ_INT(wire_sandbox_check(sb, "/etc/shadow", &err), WIRE_EPERM);
    CHECK(strstr(err.msg, "/etc/shadow is outside the allowed paths") != NULL);
    at(p, root, "../../etc/x"); /* lexically out */
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), WIRE_EPERM);
    at(p, root, "x/../../y"); /* out through a directory that does not exist */
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), WIRE_EPERM);
    at(p, root, "x/../y"); /* in */
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), 0);
    char prefix[600]; /* a sibling whose name starts with the root's is not the root */
    snprintf(prefix, sizeof(prefix), "%s-evil/x", root);
    CHECK_EQ_INT(wire_sandbox_check(sb, prefix, &err), WIRE_EPERM);
    /* relative: to the working directory, which is the test's base (outside) */
    CHECK_EQ_INT(wire_sandbox_check(sb, "relative.jsonl", &err), WIRE_EPERM);
    CHECK_EQ_INT(wire_sandbox_check(sb, "files/relative.jsonl", &err), 0);
    wire_sandbox_free(sb);
}

TEST(symlinks_that_escape)
{
    wire_sandbox *sb = two_roots();
    wire_err err;
    char link[600], p[600];
    at(link, root, "etc");
    CHECK_EQ_INT(symlink(outside_dir, link), 0);
    at(p, root, "etc/passwd");
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), WIRE_EPERM);
    CHECK(strstr(err.msg, "through a symlink") != NULL);
    at(p, root, "etc/new/deeper.jsonl"); /* below it, nothing exists yet */
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), WIRE_EPERM);
    CHECK_EQ_INT(wire_sandbox_open(sb, p, O_WRONLY | O_CREAT, 0644, &err), -1);
    CHECK_EQ_INT(err.code, WIRE_EPERM);
    char made[600];
    at(made, outside_dir, "new");
    CHECK(!exists(made)); /* not even the directory */
    /* a symlink that stays inside is fine */
    char in_link[600], target[600];
    at(target, root, "real");
    CHECK_EQ_INT(mkdir(target, 0755), 0);
    at(in_link, root, "alias");
    CHECK_EQ_INT(symlink("real", in_link), 0);
    at(p, root, "alias/x.jsonl");
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), 0);
    int fd = wire_sandbox_open(sb, p, O_WRONLY | O_CREAT, 0644, &err);
    CHECK(fd >= 0);
    close(fd);
    at(p, target, "x.jsonl");
    CHECK(exists(p));
    wire_sandbox_free(sb);
}

TEST(open_creates_beneath_and_refuses_a_later_swap)
{
    wire_sandbox *sb = two_roots();
    wire_err err;
    char p[600], dir[600];
    at(p, root, "late/sub/out.jsonl");
    CHECK_EQ_INT(wire_sandbox_check(sb, p, &err), 0);
    int fd = wire_sandbox_open(sb, p, O_WRONLY | O_CREAT | O_APPEND, 0644, &err);
    CHECK(fd >= 0);
    CHECK_EQ_INT((int)write(fd, "x\n", 2), 2);
    close(fd);
    /* checked, then the directory becomes a symlink out: the open refuses */
    at(dir, root, "late");
    char cmd[3000];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && ln -s '%s' '%s' && mkdir -p '%s/sub'", dir,
             outside_dir, dir, outside_dir);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(wire_sandbox_open(sb, p, O_WRONLY | O_CREAT | O_APPEND, 0644, &err), -1);
    CHECK_EQ_INT(err.code, WIRE_EPERM);
    char escaped[600];
    at(escaped, outside_dir, "sub/out.jsonl");
    CHECK(!exists(escaped));
    CHECK(wire_sandbox_opendir(sb, dir, &err) == NULL);
    struct stat st;
    CHECK_EQ_INT(wire_sandbox_stat(sb, p, &st), -1);
    /* a missing file is ENOTFOUND, not a refusal */
    at(p, root, "absent.jsonl");
    CHECK_EQ_INT(wire_sandbox_open(sb, p, O_RDONLY, 0, &err), -1);
    CHECK_EQ_INT(err.code, WIRE_ENOTFOUND);
    wire_sandbox_free(sb);
}

TEST(no_sandbox_is_unrestricted)
{
    wire_err err;
    char p[600];
    at(p, outside_dir, "free/x.jsonl");
    CHECK_EQ_INT(wire_sandbox_check(NULL, "/etc/shadow", &err), 0);
    int fd = wire_sandbox_open(NULL, p, O_WRONLY | O_CREAT, 0644, &err);
    CHECK(fd >= 0);
    close(fd);
    CHECK(exists(p));
    DIR *d = wire_sandbox_opendir(NULL, outside_dir, &err);
    CHECK(d != NULL);
    if (d)
        closedir(d);
}

int main(void)
{
    snprintf(base, sizeof(base), "/tmp/wire-sandbox-XXXXXX");
    if (!mkdtemp(base))
        return 1;
    if (chdir(base) != 0)
        return 1;
    snprintf(root, sizeof(root), "%s/files", base);
    snprintf(other, sizeof(other), "%s/more/allowed", base);
    snprintf(outside_dir, sizeof(outside_dir), "%s/outside", base);
    mkdir(outside_dir, 0755);
    RUN(roots_are_created_and_named);
    RUN(check_inside_and_outside);
    RUN(symlinks_that_escape);
    RUN(open_creates_beneath_and_refuses_a_later_swap);
    RUN(no_sandbox_is_unrestricted);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        return 1;
    TEST_MAIN_END();
}
