/*
 * serve_auth.c — `wire serve --auth --auth-token-file FILE`: the cluster's
 * first admin token (docs/security.md, Bootstrap).
 *
 * Before the node starts: if FILE exists its token is read; if not, and the
 * node founds the cluster (no --join, or --bootstrap-expect), a new token is
 * made and written there, mode 0600, created exclusively. Then, while the
 * node runs, the token is proposed as `admin` with WIRE_TOKEN_FIRST — the
 * state machine takes it only while the cluster has no token at all, so a
 * file found later (another node's, or one put back) never adds an admin.
 * A proposal without a leader yet is tried again every half second.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "core/io.h"

enum { B_IDLE, B_FLYING, B_DONE };

struct wire_bootstrap_token {
    char *file;
    char token[WIRE_TOKEN_MAX + 1];
    uint8_t hash[WIRE_TOKEN_HASH];
    wire_node_op op;
    wire_node *node;
    atomic_int state;
    int64_t next_ms;
};

static int read_token(wire_bootstrap_token *b, wire_err *err)
{
    char *text;
    size_t n;
    if (wire_io_read_file(b->file, &text, &n, err) != 0)
        return -1;
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    bool ok = n > 0 && n <= WIRE_TOKEN_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = text[i] > 0x20 && text[i] < 0x7f;
    if (ok) {
        memcpy(b->token, text, n);
        b->token[n] = 0;
    }
    memset(text, 0, n);
    free(text);
    if (!ok)
        return wire_errf(err, WIRE_EINVAL,
                         "%s: not a token (one line of 1 to %d visible characters)", b->file,
                         WIRE_TOKEN_MAX);
    return 0;
}

static int make_token(wire_bootstrap_token *b, wire_err *err)
{
    if (wire_token_new(b->token, err) != 0)
        return -1;
    int fd = open(b->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return wire_errf(err, WIRE_EIO, "%s: %s", b->file, strerror(errno));
    char line[WIRE_TOKEN_LEN + 2];
    int len = snprintf(line, sizeof(line), "%s\n", b->token);
    bool ok = write(fd, line, (size_t)len) == len && fsync(fd) == 0;
    memset(line, 0, sizeof(line));
    if (close(fd) != 0 || !ok) {
        unlink(b->file);
        return wire_errf(err, WIRE_EIO, "%s: could not write the token", b->file);
    }
    wire_info("auth: made the first admin token and wrote it to %s (mode 0600)", b->file);
    return 0;
}

wire_bootstrap_token *wire_bootstrap_token_open(const char *file, bool founder, wire_err *err)
{
    wire_bootstrap_token *b = wire_xcalloc(1, sizeof(*b));
    b->file = wire_xstrdup(file);
    int rc;
    if (access(file, F_OK) == 0) {
        rc = read_token(b, err);
    } else if (founder) {
        rc = make_token(b, err);
    } else {
        wire_info("auth: %s does not exist and this node joins a cluster: it registers no "
                  "token",
                  file);
        atomic_store(&b->state, B_DONE);
        rc = 0;
    }
    if (rc != 0) {
        wire_bootstrap_token_free(b);
        return NULL;
    }
    wire_token_hash(b->token, strlen(b->token), b->hash);
    return b;
}

static void proposed(wire_node_op *op)
{
    wire_bootstrap_token *b = op->arg;
    if (op->status != 0) { /* no leader yet: the next tick tries again */
        atomic_store(&b->state, B_IDLE);
        return;
    }
    wire_token_info ti;
    if (op->result == WIRE_APPLY_OK)
        wire_info("auth: the token of %s is the cluster's first admin token (\"admin\")", b->file);
    else if (!wire_node_token_find(b->node, b->hash, &ti))
        wire_warn("auth: the cluster has tokens already; the token of %s was not registered",
                  b->file);
    atomic_store(&b->state, B_DONE);
}

void wire_bootstrap_token_tick(wire_bootstrap_token *b, wire_node *n)
{
    int64_t now = wire_now_ms();
    if (!b || atomic_load(&b->state) != B_IDLE || now < b->next_ms)
        return;
    b->next_ms = now + 500;
    b->node = n;
    memset(&b->op, 0, sizeof(b->op));
    b->op.type = WIRE_OP_CMD;
    b->op.cmd.type = WIRE_CMD_TOKEN_PUT;
    b->op.cmd.a = "admin";
    b->op.cmd.alen = 5;
    b->op.cmd.b = (const char *)b->hash;
    b->op.cmd.blen = WIRE_TOKEN_HASH;
    b->op.cmd.c = "admin";
    b->op.cmd.clen = 5;
    b->op.cmd.u1 = (uint64_t)now;
    b->op.cmd.u2 = WIRE_TOKEN_FIRST;
    b->op.timeout_ms = 2000;
    b->op.done = proposed;
    b->op.arg = b;
    atomic_store(&b->state, B_FLYING);
    wire_node_submit(n, &b->op);
}

void wire_bootstrap_token_free(wire_bootstrap_token *b)
{
    if (!b)
        return;
    memset(b->token, 0, sizeof(b->token));
    free(b->file);
    free(b);
}
