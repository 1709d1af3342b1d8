/* test_checkpoint.c — checkpoint encoding and the local store: round trip,
 * newest kept, torn/corrupt newest falls back to the previous one, all
 * corrupt refuses to restart from zero. */
#include <stdlib.h>
#include <unistd.h>

#include "core/io.h"
#include "engine/checkpoint.h"
#include "test.h"

static char dir[256];

static void make_cp(wire_checkpoint *cp, uint64_t id)
{
    wire_checkpoint_init(cp);
    cp->id = id;
    cp->version = 3;
    cp->spec_hash = 0xfedcba9876543210ULL;
    cp->time_ms = 1764400000123;
    cp->pos = wire_xcalloc(2, sizeof(wire_position));
    cp->npos = 2;
    cp->pos[0].split = 0;
    cp->pos[0].identity[0] = 0xffffffffffffffffULL;
    cp->pos[0].identity[1] = 12345;
    cp->pos[0].epoch_ms = 1764400000000;
    cp->pos[0].offset = id * 1000;
    cp->pos[1].split = 7;
    cp->pos[1].offset = 99;
    wire_checkpoint_add_sink(cp, "sink", "file", "{\"length\":4096}");
    wire_checkpoint_add_sink(cp, "sinks[1] \"q\"", "http", "null");
}

TEST(encode_decode_round_trip)
{
    wire_checkpoint cp, back;
    make_cp(&cp, 5);
    wire_buf b;
    wire_buf_init(&b);
    wire_checkpoint_encode(&cp, "p1", &b);
    wire_err err;
    CHECK_EQ_INT(wire_checkpoint_decode(b.p, b.len, &back, &err), 0);
    CHECK_EQ_INT(back.id, 5);
    CHECK_EQ_INT(back.version, 3);
    CHECK(back.spec_hash == cp.spec_hash);
    CHECK_EQ_INT(back.time_ms, cp.time_ms);
    CHECK_EQ_INT(back.npos, 2);
    CHECK(back.pos[0].identity[0] == 0xffffffffffffffffULL);
    CHECK_EQ_INT(back.pos[0].offset, 5000);
    CHECK_EQ_INT(wire_checkpoint_position(&back, 7)->offset, 99);
    CHECK_EQ_INT(back.nsinks, 2);
    CHECK_EQ_STR(wire_checkpoint_sink(&back, "sink", "file")->json, "{\"length\":4096}");
    CHECK(wire_checkpoint_sink(&back, "sinks[1] \"q\"", "http") != NULL);
    CHECK(wire_checkpoint_sink(&back, "sink", "http") == NULL);
    wire_checkpoint_clear(&back);
    /* malformed payloads are errors, not crashes */
    CHECK_EQ_INT(wire_checkpoint_decode("{\"id\":1}", 8, &back, &err), WIRE_EPARSE);
    CHECK_EQ_INT(wire_checkpoint_decode("nope", 4, &back, &err), WIRE_EPARSE);
    wire_buf_free(&b);
    wire_checkpoint_clear(&cp);
}

TEST(store_keeps_newest_three)
{
    wire_checkpoint_store *st = wire_checkpoint_store_local(dir);
    wire_err err;
    wire_checkpoint cp, back;
    CHECK_EQ_INT(st->load(st, "keep", &back, &err), WIRE_ENOTFOUND);
    for (uint64_t id = 1; id <= 5; id++) {
        make_cp(&cp, id);
        CHECK_EQ_INT(st->save(st, "keep", &cp, &err), 0);
        wire_checkpoint_clear(&cp);
    }
    CHECK_EQ_INT(st->load(st, "keep", &back, &err), 0);
    CHECK_EQ_INT(back.id, 5);
    wire_checkpoint_clear(&back);
    char path[512];
    snprintf(path, sizeof(path), "%s/checkpoints/keep/cp-%020d.ckpt", dir, 2);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof(path), "%s/checkpoints/keep/cp-%020d.ckpt", dir, 3);
    CHECK(access(path, F_OK) == 0);
    st->free(st);
}

static void damage(const char *pipeline, int id, const char *how)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/checkpoints/%s/cp-%020d.ckpt", dir, pipeline, id);
    char *data;
    size_t len;
    wire_err err;
    if (wire_io_read_file(path, &data, &len, &err) != 0)
        return;
    if (strcmp(how, "torn") == 0)
        len /= 2;
    else
        data[len - 3] ^= 0x20; /* flip a bit in the payload */
    wire_io_write_file_atomic(path, data, len, &err);
    free(data);
}

TEST(torn_or_corrupt_newest_falls_back)
{
    wire_checkpoint_store *st = wire_checkpoint_store_local(dir);
    wire_err err;
    wire_checkpoint cp, back;
    for (uint64_t id = 1; id <= 3; id++) {
        make_cp(&cp, id);
        st->save(st, "fb", &cp, &err);
        wire_checkpoint_clear(&cp);
    }
    damage("fb", 3, "torn");
    CHECK_EQ_INT(st->load(st, "fb", &back, &err), 0);
    CHECK_EQ_INT(back.id, 2);
    wire_checkpoint_clear(&back);
    damage("fb", 2, "flip");
    CHECK_EQ_INT(st->load(st, "fb", &back, &err), 0);
    CHECK_EQ_INT(back.id, 1);
    wire_checkpoint_clear(&back);
    damage("fb", 1, "flip");
    CHECK_EQ_INT(st->load(st, "fb", &back, &err), WIRE_EPARSE);
    CHECK(strstr(err.msg, "none is valid; refusing to restart from zero") != NULL);
    CHECK_EQ_INT(st->remove(st, "fb", &err), 0);
    CHECK_EQ_INT(st->load(st, "fb", &back, &err), WIRE_ENOTFOUND);
    st->free(st);
}

TEST(failed_save_keeps_previous)
{
    wire_checkpoint_store *st = wire_checkpoint_store_local(dir);
    wire_err err;
    wire_checkpoint cp, back;
    make_cp(&cp, 1);
    CHECK_EQ_INT(st->save(st, "fs", &cp, &err), 0);
    wire_checkpoint_clear(&cp);
    make_cp(&cp, 2);
    wire_fault_set(WIRE_FAULT_FSYNC, 0, 1, 0, "checkpoints/fs");
    CHECK(st->save(st, "fs", &cp, &err) != 0);
    wire_fault_clear_all();
    wire_checkpoint_clear(&cp);
    CHECK_EQ_INT(st->load(st, "fs", &back, &err), 0);
    CHECK_EQ_INT(back.id, 1);
    wire_checkpoint_clear(&back);
    st->free(st);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/wire-test-ckpt.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(encode_decode_round_trip);
    RUN(store_keeps_newest_three);
    RUN(torn_or_corrupt_newest_falls_back);
    RUN(failed_save_keeps_previous);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    TEST_MAIN_END();
}
