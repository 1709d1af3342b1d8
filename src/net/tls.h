/*
 * tls.h — TLS for Wire's own listeners (OpenSSL 3): the node's HTTP API, the
 * http source, and (next) the inter-node port. Connections stay libuv
 * streams; OpenSSL runs on memory BIOs beside them — ciphertext read from
 * the socket goes in, plaintext comes out for the HTTP parser, and what
 * OpenSSL has to send (handshake, records, close_notify) is handed back to
 * be written — so nothing of libuv's I/O model changes.
 *
 * TLS 1.2 is the minimum (1.3 on request), renegotiation is off, and a
 * context is rebuilt from its files when they change (checked at most once
 * a second by wire_tls_reload, or forced after SIGHUP): connections already
 * open keep the context they were accepted with, new ones get the new
 * certificate. A rebuild that fails (a key not matching its certificate
 * while files are being replaced) keeps the old context and is tried again
 * when the files change again.
 */
#ifndef WIRE_TLS_H
#define WIRE_TLS_H

#include <stdatomic.h>

#include "core/core.h"

typedef struct wire_tls_files {
    const char *cert_file, *key_file; /* PEM: the certificate (chain) presented, its key */
    const char *key_pass;             /* the key's passphrase, or NULL */
    const char *ca_file;              /* PEM: who signs the certificates we accept */
    bool client_cert_auth;            /* a server: refuse clients without one signed by ca_file */
    const char *allowed_cn;           /* and whose subject CN is this (NULL: any) */
    int min_version;                  /* 12 (default) or 13 */
} wire_tls_files;

typedef struct wire_tls wire_tls;

/* A server context from the files (copied). NULL on error (err says which file and why). */
wire_tls *wire_tls_server_new(const wire_tls_files *f, wire_err *err);
/* A client context: ca_file (required) verifies the server; cert_file/key_file, if given,
   are presented (mTLS). allowed_cn and client_cert_auth are a server's. */
wire_tls *wire_tls_client_new(const wire_tls_files *f, wire_err *err);
void wire_tls_free(wire_tls *t);
/*
 * On the thread that makes connections: rebuild if a file changed (or a
 * reload was requested). 1 rebuilt, 0 nothing to do, -1 failed (the old
 * context stays; err says why).
 */
int wire_tls_reload(wire_tls *t, wire_err *err);
/* Any thread (a SIGHUP): the next wire_tls_reload rebuilds even if no file looks changed. */
void wire_tls_request_reload(wire_tls *t);
/* Contexts built so far (1 at start): a test and /metrics can see a reload happen. */
uint64_t wire_tls_generation(const wire_tls *t);

typedef struct wire_tls_conn wire_tls_conn;

/* A connection on the current context: a server's accepts, a client's connects (its first
   wire_tls_conn_read, with no input, yields the ClientHello). */
wire_tls_conn *wire_tls_conn_new(wire_tls *t);
/* The handshake is done: application data flows. */
bool wire_tls_conn_ready(const wire_tls_conn *c);
void wire_tls_conn_free(wire_tls_conn *c);
/*
 * Ciphertext received: the plaintext it completes is appended to `plain`,
 * what must be sent back to `out`. 0 fine, 1 the peer ended the session
 * (close_notify), -1 the connection must close (a failed handshake: err
 * says why, e.g. "no client certificate" or "certificate expired").
 */
int wire_tls_conn_read(wire_tls_conn *c, const void *in, size_t n, wire_buf *plain, wire_buf *out,
                       wire_err *err);
/* Plaintext to send: its records appended to `out`. -1 if the session cannot send. */
int wire_tls_conn_write(wire_tls_conn *c, const void *p, size_t n, wire_buf *out);
/* The close_notify alert, appended to `out` (before shutting the socket down). */
void wire_tls_conn_close_notify(wire_tls_conn *c, wire_buf *out);

#endif
