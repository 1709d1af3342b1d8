/* test_lines.c — line splitting for file/stdin: carry across reads, CRLF,
 * blank lines, over-long lines, text wrapping, positions. */
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "connectors/connectors.h"
#include "connectors/lines.h"
#include "core/json.h"
#include "test.h"

static int pipe_with(const char *data)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    ssize_t n = write(fds[1], data, strlen(data));
    (void)n;
    close(fds[1]);
    return fds[0];
}

static int event_is(const wire_event *e, const char *s)
{
    return e->len == strlen(s) && memcmp(e->data, s, e->len) == 0;
}

TEST(split_across_small_reads)
{
    int fd = pipe_with("{\"a\":1}\n{\"b\":22}\r\n\n   \n{\"c\":333}\n{\"partial\":");
    wire_line_reader r;
    wire_lines_init(&r, WIRE_LINES_JSON, 5, 1024, 0); /* 5-byte reads */
    wire_batch *b = wire_batch_new(4096);
    uint64_t end = 0, last_end = 0;
    ssize_t got;
    while ((got = wire_lines_read(&r, fd, b, 0, &end)) > 0)
        last_end = end;
    CHECK_EQ_INT(got, 0);
    CHECK_EQ_INT(b->n, 3);
    CHECK(event_is(&b->ev[0], "{\"a\":1}"));
    CHECK(event_is(&b->ev[1], "{\"b\":22}")); /* \r stripped */
    CHECK(event_is(&b->ev[2], "{\"c\":333}"));
    CHECK_EQ_INT(b->ev[0].offset, 0);
    CHECK_EQ_INT(b->ev[1].offset, 8);
    CHECK_EQ_INT(b->ev[2].offset, 23);
    /* position after the last complete line, before the partial one */
    CHECK_EQ_INT(last_end, 33);
    wire_lines_finish(&r, b, 0, &end);
    CHECK_EQ_INT(b->n, 4);
    CHECK(event_is(&b->ev[3], "{\"partial\":"));
    CHECK_EQ_INT(end, 44);
    wire_batch_free(b);
    wire_lines_free(&r);
    close(fd);
}

TEST(overlong_lines_skipped)
{
    char data[600];
    memset(data, 'x', sizeof(data));
    data[0] = '{';
    memcpy(data + 300, "\n{\"ok\":1}\n", 10);
    data[310] = '\0';
    int fd = pipe_with(data);
    wire_line_reader r;
    wire_lines_init(&r, WIRE_LINES_JSON, 64, 100, 0);
    wire_batch *b = wire_batch_new(4096);
    uint64_t end;
    while (wire_lines_read(&r, fd, b, 0, &end) > 0)
        ;
    CHECK_EQ_INT(b->n, 1);
    CHECK(event_is(&b->ev[0], "{\"ok\":1}"));
    CHECK_EQ_INT(r.too_long, 1);
    CHECK_EQ_INT(end, 310);
    wire_batch_free(b);
    wire_lines_free(&r);
    close(fd);
}

TEST(text_lines_wrapped_as_message)
{
    int fd = pipe_with("hello \"world\"\ttab\nsecond\n");
    wire_line_reader r;
    wire_lines_init(&r, WIRE_LINES_TEXT, 4096, 1024, 0);
    wire_batch *b = wire_batch_new(4096);
    uint64_t end;
    while (wire_lines_read(&r, fd, b, 0, &end) > 0)
        ;
    CHECK_EQ_INT(b->n, 2);
    CHECK(event_is(&b->ev[0], "{\"message\":\"hello \\\"world\\\"\\ttab\"}"));
    CHECK(event_is(&b->ev[1], "{\"message\":\"second\"}"));
    CHECK_EQ_INT(wire_json_validate_object(b->ev[0].data, b->ev[0].len, NULL), 0);
    wire_batch_free(b);
    wire_lines_free(&r);
    close(fd);
}

/* The file sink's path names the instance: parallel instances write apart. */
TEST(file_sink_path_names_the_instance)
{
    char dir[] = "/tmp/wire-lines-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char tmpl[128], want[128];
    snprintf(tmpl, sizeof(tmpl), "%s/part-{{instance}}-of-{{instance}}.jsonl", dir);
    snprintf(want, sizeof(want), "%s/part-2-of-2.jsonl", dir);
    struct {
        char *path;
        int64_t buffer;
    } cfg = {tmpl, 1024};
    wire_component_env env = {.pipeline = "p", .name = "sink", .instance = 2, .parallelism = 3};
    void *self = NULL;
    wire_err err;
    wire_err_clear(&err);
    CHECK_EQ_INT(wire_sink_file.base.create(&self, &cfg, &env, &err), 0);
    struct stat st;
    CHECK_EQ_INT(stat(want, &st), 0);
    wire_sink_file.base.destroy(self);
    unlink(want);
    rmdir(dir);
}

int main(void)
{
    RUN(split_across_small_reads);
    RUN(overlong_lines_skipped);
    RUN(text_lines_wrapped_as_message);
    RUN(file_sink_path_names_the_instance);
    TEST_MAIN_END();
}
