/* test_io.c — the I/O layer: atomic file writes, durable renames, buffered
 * writers and fault injection (write, short write, fsync, rename, open). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io.h"
#include "test.h"

static char dir[256];

static void path_in(char *out, const char *name)
{
    sprintf(out, "%s/%s", dir, name);
}

static char *slurp(const char *path)
{
    char *p;
    size_t n;
    wire_err err;
    if (wire_io_read_file(path, &p, &n, &err) != 0)
        return NULL;
    return p;
}

TEST(atomic_write_and_replace)
{
    char p[512];
    path_in(p, "a/b/state.json");
    wire_err err;
    CHECK_EQ_INT(wire_io_mkdir_parents(p, &err), 0);
    CHECK_EQ_INT(wire_io_write_file_atomic(p, "one", 3, &err), 0);
    char *s = slurp(p);
    CHECK_EQ_STR(s, "one");
    free(s);
    CHECK_EQ_INT(wire_io_write_file_atomic(p, "two!", 4, &err), 0);
    s = slurp(p);
    CHECK_EQ_STR(s, "two!");
    free(s);
}

TEST(rename_fault_keeps_old_file)
{
    char p[512], tmp[600];
    path_in(p, "keep.json");
    wire_err err;
    CHECK_EQ_INT(wire_io_write_file_atomic(p, "old", 3, &err), 0);
    wire_fault_set(WIRE_FAULT_RENAME, 0, 1, EIO, "keep.json");
    CHECK_EQ_INT(wire_io_write_file_atomic(p, "new", 3, &err), WIRE_EIO);
    CHECK(strstr(err.msg, "rename") != NULL);
    char *s = slurp(p);
    CHECK_EQ_STR(s, "old");
    free(s);
    sprintf(tmp, "%s.tmp", p);
    CHECK(access(tmp, F_OK) != 0); /* temp file cleaned up */
    CHECK_EQ_INT(wire_fault_hits(WIRE_FAULT_RENAME), 1);
    /* the fault was one-shot */
    CHECK_EQ_INT(wire_io_write_file_atomic(p, "new", 3, &err), 0);
    wire_fault_clear_all();
}

TEST(fsync_fault_after_n)
{
    char p[512];
    path_in(p, "f.log");
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    wire_err err;
    wire_fault_set(WIRE_FAULT_FSYNC, 1, 1, EIO, NULL);
    CHECK_EQ_INT(wire_io_fsync(fd, "f.log", &err), 0);
    CHECK_EQ_INT(wire_io_fsync(fd, "f.log", &err), WIRE_EIO);
    CHECK(strstr(err.msg, "fsync f.log") != NULL);
    CHECK_EQ_INT(wire_io_fsync(fd, "f.log", &err), 0);
    close(fd);
    wire_fault_clear_all();
}

TEST(writer_short_write_then_retry)
{
    char p[512];
    path_in(p, "w.jsonl");
    wire_io_writer w;
    wire_err err;
    CHECK_EQ_INT(wire_io_writer_open(&w, p, 1 << 16, &err), 0);
    wire_io_writer_line(&w, "{\"a\":1}", 7);
    wire_io_writer_line(&w, "{\"b\":2}", 7);
    wire_fault_set(WIRE_FAULT_SHORT_WRITE, 0, 1, ENOSPC, "w.jsonl");
    CHECK_EQ_INT(wire_io_writer_flush(&w, &err), WIRE_EAGAIN); /* retryable: disk may free up */
    CHECK(strstr(err.msg, "short write") != NULL);
    struct stat st;
    stat(p, &st);
    CHECK_EQ_INT(st.st_size, 8); /* half of 16 bytes reached the file */
    CHECK_EQ_INT(w.bytes_written, 8);
    wire_fault_clear_all();
    /* the retry continues where the short write stopped: nothing twice */
    CHECK_EQ_INT(wire_io_writer_flush(&w, &err), 0);
    CHECK_EQ_INT(w.bytes_written, 16);
    wire_io_writer_close(&w);
    char *s = slurp(p);
    CHECK_EQ_STR(s, "{\"a\":1}\n{\"b\":2}\n");
    free(s);
}

TEST(open_and_write_faults)
{
    char p[512];
    path_in(p, "o.jsonl");
    wire_io_writer w;
    wire_err err;
    wire_fault_set(WIRE_FAULT_OPEN, 0, 1, EIO, "o.jsonl");
    CHECK_EQ_INT(wire_io_writer_open(&w, p, 0, &err), WIRE_EIO);
    CHECK_EQ_INT(wire_io_writer_open(&w, p, 0, &err), 0);
    wire_fault_set(WIRE_FAULT_WRITE, 0, -1, EIO, NULL);
    wire_io_writer_line(&w, "{}", 2);
    CHECK_EQ_INT(wire_io_writer_flush(&w, &err), WIRE_EAGAIN);
    CHECK_EQ_INT(wire_io_writer_flush(&w, &err), WIRE_EAGAIN);
    wire_fault_clear_all();
    CHECK_EQ_INT(wire_io_writer_flush(&w, &err), 0); /* buffer kept for the retry */
    wire_io_writer_close(&w);
    char *s = slurp(p);
    CHECK_EQ_STR(s, "{}\n");
    free(s);
}

TEST(fault_spec_parsing)
{
    wire_err err;
    CHECK_EQ_INT(
        wire_fault_parse("fsync:after=2:count=1:errno=ENOSPC:match=out,write:count=-1", &err), 0);
    wire_fault_clear_all();
    CHECK_EQ_INT(wire_fault_parse("explode:count=1", &err), WIRE_EINVAL);
    CHECK_EQ_STR(err.msg, "WIRE_FAULTS: unknown fault point 'explode'");
    CHECK_EQ_INT(wire_fault_parse("write:sometimes", &err), WIRE_EINVAL);
    CHECK_EQ_STR(err.msg, "WIRE_FAULTS: unknown setting 'sometimes'");
    wire_fault_clear_all();
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/wire-test-io.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(atomic_write_and_replace);
    RUN(rename_fault_keeps_old_file);
    RUN(fsync_fault_after_n);
    RUN(writer_short_write_then_retry);
    RUN(open_and_write_faults);
    RUN(fault_spec_parsing);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    TEST_MAIN_END();
}
