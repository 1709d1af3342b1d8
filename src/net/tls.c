/*
 * tls.c — TLS contexts that reload their files, and server connections on
 * memory BIOs (tls.h).
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net/tls.h"

enum { NFILES = 3 };

typedef struct file_sig {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_sig;

struct wire_tls {
    char *path[NFILES]; /* cert, key, ca (NULL: none) */
    char *cn, *key_pass;
    bool client; /* connects (SSL_connect), verifying the server against ca_file */
    bool client_cert_auth;
    int min_version;
    SSL_CTX *ctx;
    file_sig sig[NFILES]; /* what the current context (or the last failed try) was built from */
    int64_t next_check_ms;
    atomic_bool force;
    uint64_t gen;
};

struct wire_tls_conn {
    SSL *ssl;
    BIO *rb, *wb; /* ciphertext in, ciphertext out */
    const char *cn;
    bool ready, shut;
};

static void oom(void)
{
    fprintf(stderr, "fatal: out of memory (OpenSSL)\n");
    abort();
}

/* The reason OpenSSL gives for the last failure, for messages. */
static const char *ssl_reason(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (!e)
        return "unknown error";
    ERR_error_string_n(e, buf, n);
    const char *r = ERR_reason_error_string(e);
    return r ? r : buf;
}

static void sig_of(const char *path, file_sig *s)
{
    struct stat st;
    memset(s, 0, sizeof(*s));
    if (!path || stat(path, &st) != 0)
        return;
    s->exists = true;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->size = st.st_size;
    s->mtime = st.st_mtim;
}

static bool sig_eq(const file_sig *a, const file_sig *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static SSL_CTX *build(const wire_tls *t, wire_err *err)
{
    char eb[256];
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(t->client ? TLS_client_method() : TLS_server_method());
    if (!ctx) {
        wire_errf(err, WIRE_EIO, "tls: %s", ssl_reason(eb, sizeof(eb)));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, t->min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"wire", 4);
    if (t->key_pass) /* PEM's default callback reads the passphrase from here */
        SSL_CTX_set_default_passwd_cb_userdata(ctx, t->key_pass);
    const char *what = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, t->path[0]) != 1)
        what = t->path[0];
    else if (SSL_CTX_use_PrivateKey_file(ctx, t->path[1], SSL_FILETYPE_PEM) != 1)
        what = t->path[1];
    else if (SSL_CTX_check_private_key(ctx) != 1)
        what = "the key and the certificate";
    else if (t->path[2] && SSL_CTX_load_verify_locations(ctx, t->path[2], NULL) != 1)
        what = t->path[2];
    if (what && ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
        what = "the key and the certificate";
    if (what) {
        const char *why = strcmp(what, "the key and the certificate") == 0
                              ? "the key does not match the certificate"
                              : ssl_reason(eb, sizeof(eb));
        wire_errf(err, WIRE_EINVAL, "tls: %s: %s", what, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (t->client) /* the server's certificate must chain to ca_file */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (t->client_cert_auth) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->path[2]);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
    }
    return ctx;
}

static wire_tls *tls_new(const wire_tls_files *f, bool client, wire_err *err);

wire_tls *wire_tls_server_new(const wire_tls_files *f, wire_err *err)
{
    return tls_new(f, false, err);
}

wire_tls *wire_tls_client_new(const wire_tls_files *f, wire_err *err)
{
    if (!f->ca_file)
        return wire_errf(err, WIRE_EINVAL,
                         "tls: a client needs the CA file that signs the "
                         "servers' certificates"),
               NULL;
    return tls_new(f, true, err);
}

static wire_tls *tls_new(const wire_tls_files *f, bool client, wire_err *err)
{
    if (!f->cert_file || !f->key_file)
        return wire_errf(err, WIRE_EINVAL,
                         "tls: a certificate needs its key (and a key its "
                         "certificate)"),
               NULL;
    if (f->client_cert_auth && !f->ca_file)
        return wire_errf(err, WIRE_EINVAL,
                         "tls: client certificate authentication needs a trusted CA file"),
               NULL;
    wire_tls *t = wire_xcalloc(1, sizeof(*t));
    t->path[0] = wire_xstrdup(f->cert_file);
    t->path[1] = wire_xstrdup(f->key_file);
    t->path[2] = f->ca_file ? wire_xstrdup(f->ca_file) : NULL;
    t->cn = f->allowed_cn ? wire_xstrdup(f->allowed_cn) : NULL;
    t->key_pass = f->key_pass ? wire_xstrdup(f->key_pass) : NULL;
    t->client = client;
    t->client_cert_auth = f->client_cert_auth && !client;
    t->min_version = f->min_version;
    for (int i = 0; i < NFILES; i++)
        sig_of(t->path[i], &t->sig[i]);
    t->ctx = build(t, err);
    if (!t->ctx) {
        wire_tls_free(t);
        return NULL;
    }
    t->gen = 1;
    t->next_check_ms = wire_now_ms() + 1000;
    return t;
}

void wire_tls_free(wire_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    for (int i = 0; i < NFILES; i++)
        free(t->path[i]);
    free(t->cn);
    if (t->key_pass) {
        memset(t->key_pass, 0, strlen(t->key_pass));
        free(t->key_pass);
    }
    free(t);
}

int wire_tls_reload(wire_tls *t, wire_err *err)
{
    int64_t now = wire_now_ms();
    bool force = atomic_exchange(&t->force, false);
    if (!force && now < t->next_check_ms)
        return 0;
    t->next_check_ms = now + 1000;
    file_sig s[NFILES];
    bool changed = force;
    for (int i = 0; i < NFILES; i++) {
        sig_of(t->path[i], &s[i]);
        changed |= !sig_eq(&s[i], &t->sig[i]);
    }
    if (!changed)
        return 0;
    memcpy(t->sig, s, sizeof(s)); /* a failed try is not repeated until the files change */
    SSL_CTX *ctx = build(t, err);
    if (!ctx)
        return -1;
    SSL_CTX_free(t->ctx); /* connections on it hold their own reference */
    t->ctx = ctx;
    t->gen++;
    return 1;
}

void wire_tls_request_reload(wire_tls *t)
{
    atomic_store(&t->force, true);
}

uint64_t wire_tls_generation(const wire_tls *t)
{
    return t->gen;
}

wire_tls_conn *wire_tls_conn_new(wire_tls *t)
{
    wire_tls_conn *c = wire_xcalloc(1, sizeof(*c));
    c->ssl = SSL_new(t->ctx);
    c->rb = BIO_new(BIO_s_mem());
    c->wb = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rb || !c->wb)
        oom();
    BIO_set_mem_eof_return(c->rb, -1); /* empty: "try again", not end of file */
    SSL_set_bio(c->ssl, c->rb, c->wb);
    if (t->client) {
        SSL_set_connect_state(c->ssl);
    } else {
        SSL_set_accept_state(c->ssl);
        c->cn = t->cn;
    }
    return c;
}

void wire_tls_conn_free(wire_tls_conn *c)
{
    if (!c)
        return;
    SSL_free(c->ssl); /* and both BIOs */
    free(c);
}

static void drain(wire_tls_conn *c, wire_buf *out)
{
    char buf[16384];
    int k;
    while (BIO_ctrl_pending(c->wb) > 0 && (k = BIO_read(c->wb, buf, sizeof(buf))) > 0)
        wire_buf_append(out, buf, (size_t)k);
}

/* Why the handshake failed: the certificate check's verdict, else OpenSSL's reason. */
static int failed(wire_tls_conn *c, wire_err *err)
{
    char eb[256];
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK)
        return wire_errf(err, WIRE_EPERM, "certificate refused: %s",
                         X509_verify_cert_error_string(v));
    return wire_errf(err, WIRE_EPERM, "%s", ssl_reason(eb, sizeof(eb)));
}

/* --peer-cert-allowed-cn: the client certificate's subject CN must be it. */
static int check_cn(wire_tls_conn *c, wire_err *err)
{
    if (!c->cn)
        return 0;
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    char cn[256] = "";
    if (x)
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
    if (x && strcmp(cn, c->cn) == 0)
        return 0;
    return wire_errf(err, WIRE_EPERM, "certificate CN '%s' is not the allowed '%s'", cn, c->cn);
}

int wire_tls_conn_read(wire_tls_conn *c, const void *in, size_t n, wire_buf *plain, wire_buf *out,
                       wire_err *err)
{
    ERR_clear_error();
    if (n && BIO_write(c->rb, in, (int)n) != (int)n)
        oom();
    if (!c->ready) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            drain(c, out); /* the alert, if any, still goes out */
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            failed(c, err);
            return -1;
        }
        c->ready = true;
        if (check_cn(c, err) != 0) {
            drain(c, out);
            return -1;
        }
    }
    char buf[16384];
    for (;;) {
        int k = SSL_read(c->ssl, buf, sizeof(buf));
        if (k > 0) {
            wire_buf_append(plain, buf, (size_t)k);
            continue;
        }
        int e = SSL_get_error(c->ssl, k);
        drain(c, out);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e == SSL_ERROR_ZERO_RETURN)
            return 1;
        failed(c, err);
        return -1;
    }
}

bool wire_tls_conn_ready(const wire_tls_conn *c)
{
    return c->ready;
}

int wire_tls_conn_write(wire_tls_conn *c, const void *p, size_t n, wire_buf *out)
{
    ERR_clear_error();
    while (n > 0) {
        int chunk = n > (1 << 30) ? (1 << 30) : (int)n;
        int k = SSL_write(c->ssl, p, chunk);
        if (k <= 0)
            return -1;
        p = (const char *)p + k;
        n -= (size_t)k;
    }
    drain(c, out);
    return 0;
}

void wire_tls_conn_close_notify(wire_tls_conn *c, wire_buf *out)
{
    if (c->shut || !c->ready)
        return;
    c->shut = true;
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    drain(c, out);
}
