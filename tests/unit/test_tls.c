/*
 * test_tls.c — net/tls.c without sockets: a client and a server session
 * pumped into each other in memory, on certificates made by the openssl
 * command in a temporary directory. Handshake (with and without client
 * certificates), data both ways, close_notify; a client without a
 * certificate, one from another CA and one with a CN not allowed are
 * refused with a reason; a context reloads when its files change, and a
 * broken replacement keeps the old one.
 */
#include <stdlib.h>
#include <unistd.h>

#include "net/tls.h"
#include "test.h"

#define WHY 600 /* room for an error message (wire_err.msg) and a prefix */

static char dir[] = "/tmp/wire-tls-unit.XXXXXX";

static void sh(const char *fmt, const char *a)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), fmt, a, a, a, a, a, a, a, a);
    if (system(cmd) != 0)
        fprintf(stderr, "failed: %s\n", cmd);
}

static char *path(const char *name)
{
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

static void make_certs(void)
{
    if (!mkdtemp(dir))
        abort();
    sh("cd %s && for c in ca other; do openssl req -x509 -newkey rsa:2048 -nodes -keyout $c.key "
       "-out $c.crt -days 2 -subj /CN=$c >/dev/null 2>&1; done",
       dir);
    sh("cd %s && mk() { openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj "
       "/CN=$3 >/dev/null 2>&1 && openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key "
       "-CAcreateserial -out $1.crt -days 2 >/dev/null 2>&1; }; mk server ca server && mk "
       "server2 ca server && mk client ca wire-node && mk stranger ca somebody && mk rogue "
       "other wire-node",
       dir);
}

/* Pump records between the two until neither has anything to say; -1 if one fails. */
static int pump(wire_tls_conn *c, wire_tls_conn *s, wire_buf *cp, wire_buf *sp, char *why)
{
    wire_buf c2s, s2c;
    wire_buf_init(&c2s);
    wire_buf_init(&s2c);
    wire_err err;
    int rc = wire_tls_conn_read(c, NULL, 0, cp, &c2s, &err);
    for (int round = 0; rc >= 0 && round < 20 && (c2s.len || s2c.len); round++) {
        wire_buf in = c2s;
        wire_buf_init(&c2s);
        rc = wire_tls_conn_read(s, in.p, in.len, sp, &s2c, &err);
        wire_buf_free(&in);
        if (rc < 0) {
            snprintf(why, WHY, "server: %s", err.msg);
            break;
        }
        in = s2c;
        wire_buf_init(&s2c);
        rc = wire_tls_conn_read(c, in.p, in.len, cp, &c2s, &err);
        wire_buf_free(&in);
        if (rc < 0)
            snprintf(why, WHY, "client: %s", err.msg);
    }
    wire_buf_free(&c2s);
    wire_buf_free(&s2c);
    return rc < 0 ? -1 : 0;
}

static wire_tls *server(bool mtls, const char *cn)
{
    wire_tls_files f = {.cert_file = path("server.crt"),
                        .key_file = path("server.key"),
                        .ca_file = path("ca.crt"),
                        .client_cert_auth = mtls,
                        .allowed_cn = cn};
    wire_err err;
    wire_tls *t = wire_tls_server_new(&f, &err);
    if (!t)
        fprintf(stderr, "server: %s\n", err.msg);
    return t;
}

static wire_tls *client(const char *who)
{
    char crt[64], key[64];
    snprintf(crt, sizeof(crt), "%s.crt", who);
    snprintf(key, sizeof(key), "%s.key", who);
    wire_tls_files f = {.cert_file = path(crt), .key_file = path(key), .ca_file = path("ca.crt")};
    wire_err err;
    wire_tls *t = wire_tls_client_new(&f, &err);
    if (!t)
        fprintf(stderr, "client: %s\n", err.msg);
    return t;
}

/* A session between them; 0 and data both ways, or -1 with why. */
static int session(wire_tls *st, wire_tls *ct, char *why)
{
    wire_tls_conn *s = wire_tls_conn_new(st), *c = wire_tls_conn_new(ct);
    wire_buf cp, sp, out;
    wire_buf_init(&cp);
    wire_buf_init(&sp);
    wire_buf_init(&out);
    int rc = pump(c, s, &cp, &sp, why);
    if (rc == 0 && !(wire_tls_conn_ready(c) && wire_tls_conn_ready(s))) {
        snprintf(why, WHY, "not ready");
        rc = -1;
    }
    if (rc == 0) {
        wire_err err;
        wire_tls_conn_write(c, "ping", 4, &out);
        wire_tls_conn_read(s, out.p, out.len, &sp, &cp, &err);
        CHECK(sp.len == 4 && memcmp(sp.p, "ping", 4) == 0);
        wire_buf_reset(&out);
        wire_buf_reset(&cp);
        wire_tls_conn_close_notify(s, &out);
        CHECK_EQ_INT(wire_tls_conn_read(c, out.p, out.len, &cp, &sp, &err), 1); /* ended */
    }
    wire_buf_free(&cp);
    wire_buf_free(&sp);
    wire_buf_free(&out);
    wire_tls_conn_free(s);
    wire_tls_conn_free(c);
    return rc;
}

TEST(tls_sessions)
{
    char why[WHY] = "";
    wire_tls *plain = server(false, NULL), *mtls = server(true, "wire-node");
    wire_tls *good = client("client"), *stranger = client("stranger"), *rogue = client("rogue");
    CHECK(plain && mtls && good && stranger && rogue);
    if (!(plain && mtls && good && stranger && rogue))
        return;
    CHECK_EQ_INT(session(plain, good, why), 0);
    CHECK_EQ_INT(session(mtls, good, why), 0);
    CHECK_EQ_INT(session(mtls, stranger, why), -1);
    CHECK(strstr(why, "CN 'somebody' is not the allowed 'wire-node'") != NULL);
    CHECK_EQ_INT(session(mtls, rogue, why), -1); /* another CA: the server refuses it */
    CHECK(strstr(why, "server: certificate refused") != NULL);
    wire_tls_free(plain);
    wire_tls_free(mtls);
    wire_tls_free(good);
    wire_tls_free(stranger);
    wire_tls_free(rogue);
}

TEST(tls_reload)
{
    wire_tls_files f = {.cert_file = path("live.crt"), .key_file = path("live.key")};
    sh("cp %s/server.crt %s/live.crt && cp %s/server.key %s/live.key", dir);
    wire_err err;
    wire_tls *t = wire_tls_server_new(&f, &err);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ_INT(wire_tls_generation(t), 1);
    wire_tls_request_reload(t); /* SIGHUP: rebuilt though nothing changed */
    CHECK_EQ_INT(wire_tls_reload(t, &err), 1);
    CHECK_EQ_INT(wire_tls_generation(t), 2);
    CHECK_EQ_INT(wire_tls_reload(t, &err), 0); /* within the second: not looked at */
    sh("cp %s/rogue.key %s/live.key", dir);    /* a key of another certificate */
    wire_tls_request_reload(t);
    CHECK_EQ_INT(wire_tls_reload(t, &err), -1);
    CHECK(strstr(err.msg, "does not match") != NULL);
    CHECK_EQ_INT(wire_tls_generation(t), 2); /* the old context stays */
    wire_tls_free(t);
    wire_tls_files bad = {.cert_file = path("server.crt"), .key_file = path("rogue.key")};
    CHECK(wire_tls_server_new(&bad, &err) == NULL);
    wire_tls_files none = {.cert_file = path("server.crt")};
    CHECK(wire_tls_server_new(&none, &err) == NULL);
    wire_tls_files nocas = {.cert_file = path("client.crt"), .key_file = path("client.key")};
    CHECK(wire_tls_client_new(&nocas, &err) == NULL);
}

int main(void)
{
    make_certs();
    RUN(tls_sessions);
    RUN(tls_reload);
    sh("rm -rf %s", dir);
    TEST_MAIN_END();
}
