/*
 * sink_http.c — the `http` sink: POSTs events as NDJSON batches with libcurl.
 *
 * write() appends each event's bytes and a newline to a pending buffer
 * (events are written byte for byte) and asks for a flush once batch_events
 * or batch_bytes is reached. flush() POSTs everything pending, in requests of
 * at most batch_events events / batch_bytes bytes (an event larger than
 * batch_bytes goes alone), over one reused easy handle (keep-alive).
 *
 * Each request that got a 2xx is dropped from the buffer; the first one that
 * did not stops the flush and stays pending, so the retry resends exactly
 * what was not accepted:
 *   connection errors, timeouts, 408, 429, 5xx  -> WIRE_EAGAIN (retryable;
 *     a Retry-After of the answer goes to the runner's backoff in
 *     wire_err.retry_after_ms)
 *   other 3xx/4xx                                -> WIRE_EPERM (permanent)
 * The error message names the status, the URL and the start of the answer.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/connectors.h"

typedef struct http_sink_config {
    char *url;
    int64_t batch_events;
    int64_t batch_bytes;
    int64_t linger_ms;
    wire_strmap headers;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    char *content_type;
    int method;
    wire_tls_opts tls;
} http_sink_config;

static const wire_option http_sink_options[] = {
    {"url", WIRE_OPT_STRING, NULL, WIRE_OPT_REQUIRED, offsetof(http_sink_config, url), NULL,
     "where to POST batches (http:// or https://)"},
    {"batch_events", WIRE_OPT_INT, "1000", 0, offsetof(http_sink_config, batch_events), NULL,
     "most events in one request"},
    {"batch_bytes", WIRE_OPT_SIZE, "1MB", 0, offsetof(http_sink_config, batch_bytes), NULL,
     "most bytes in one request (a larger single event goes alone)"},
    {"linger", WIRE_OPT_DURATION, "100ms", 0, offsetof(http_sink_config, linger_ms), NULL,
     "longest time events may wait for a fuller batch before they are sent"},
    {"headers", WIRE_OPT_STRMAP, NULL, 0, offsetof(http_sink_config, headers), NULL,
     "extra request headers (e.g. Authorization)"},
    {"timeout", WIRE_OPT_DURATION, "30s", 0, offsetof(http_sink_config, timeout_ms), NULL,
     "whole-request timeout; a timeout is retryable"},
    {"connect_timeout", WIRE_OPT_DURATION, "10s", 0, offsetof(http_sink_config, connect_timeout_ms),
     NULL, "TCP/TLS connect timeout"},
    {"content_type", WIRE_OPT_STRING, "application/x-ndjson", 0,
     offsetof(http_sink_config, content_type), NULL, "Content-Type of the requests"},
    {"method", WIRE_OPT_ENUM, "POST", 0, offsetof(http_sink_config, method), "POST|PUT",
     "request method"},
    {"tls", WIRE_OPT_TLS, NULL, 0, offsetof(http_sink_config, tls), NULL,
     "TLS for https:// (docs/security.md); without it the system's CAs verify the server"},
    {NULL},
};

typedef struct http_sink {
    const http_sink_config *cfg;
    CURL *curl;
    struct curl_slist *hdrs;
    struct curl_slist *connect_to; /* tls.server_name: where the renamed host really is */
    char *url;                     /* tls.server_name: the url with that host */
    wire_buf pending;              /* NDJSON: event bytes + '\n' each */
    size_t *ends;                  /* end offset (after '\n') of each pending event */
    size_t nev, ev_cap;
    size_t sent_ev, sent_off; /* prefix already accepted by the server */
    char answer[256];         /* start of the last response body */
    size_t answer_len;
    char curl_err[CURL_ERROR_SIZE];
} http_sink;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_answer(char *p, size_t size, size_t nmemb, void *arg)
{
    http_sink *s = arg;
    size_t n = size * nmemb;
    size_t room = sizeof(s->answer) - 1 - s->answer_len;
    size_t k = n < room ? n : room;
    memcpy(s->answer + s->answer_len, p, k);
    s->answer_len += k;
    s->answer[s->answer_len] = '\0';
    return n; /* the rest is discarded, not an error */
}

static void sink_free(http_sink *s)
{
    if (s->curl)
        curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->hdrs);
    curl_slist_free_all(s->connect_to);
    free(s->url);
    wire_buf_free(&s->pending);
    free(s->ends);
    free(s);
}

static int apply_tls(http_sink *s, const wire_tls_opts *t, wire_err *err);

static int http_open(void **self, const void *config, const wire_component_env *env, wire_err *err)
{
    (void)env;
    const http_sink_config *cfg = config;
    pthread_once(&curl_once, curl_init_once);
    if (strncasecmp(cfg->url, "http://", 7) != 0 && strncasecmp(cfg->url, "https://", 8) != 0)
        return wire_errf(err, WIRE_EINVAL,
                         "sink 'http': url '%s' must start with http:// or "
                         "https://",
                         cfg->url);
    if (cfg->batch_events <= 0 || cfg->batch_bytes <= 0)
        return wire_errf(err, WIRE_EINVAL,
                         "sink 'http': batch_events and batch_bytes must be positive");
    http_sink *s = wire_xcalloc(1, sizeof(*s));
    s->cfg = cfg;
    wire_buf_init(&s->pending);
    s->curl = curl_easy_init();
    if (!s->curl) {
        sink_free(s);
        return wire_errf(err, WIRE_ENOMEM, "sink 'http': curl_easy_init failed");
    }
    bool has_ct = false;
    for (size_t i = 0; i < cfg->headers.n; i++) {
        char line[1024];
        snprintf(line, sizeof(line), "%s: %s", cfg->headers.keys[i], cfg->headers.vals[i]);
        s->hdrs = curl_slist_append(s->hdrs, line);
        if (strcasecmp(cfg->headers.keys[i], "Content-Type") == 0)
            has_ct = true;
    }
    if (!has_ct) {
        char line[300];
        snprintf(line, sizeof(line), "Content-Type: %s", cfg->content_type);
        s->hdrs = curl_slist_append(s->hdrs, line);
    }
    /* no "Expect: 100-continue" round trip before large bodies */
    s->hdrs = curl_slist_append(s->hdrs, "Expect:");
    CURL *c = s->curl;
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_err);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "wire/" WIRE_VERSION);
    if (cfg->method == 1)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    int rc = apply_tls(s, &cfg->tls, err);
    if (rc != 0) {
        sink_free(s);
        return rc;
    }
    *self = s;
    return 0;
}

/*
 * The tls: block onto libcurl. server_name: the URL's host becomes it (SNI,
 * verification, Host) while CURLOPT_CONNECT_TO still connects to the
 * address the URL named.
 */
static int apply_tls(http_sink *s, const wire_tls_opts *t, wire_err *err)
{
    CURL *c = s->curl;
    curl_easy_setopt(c, CURLOPT_SSLVERSION,
                     (long)(t->enabled && t->min_version == WIRE_TLS_MIN_13
                                ? CURL_SSLVERSION_TLSv1_3
                                : CURL_SSLVERSION_TLSv1_2));
    if (!t->enabled)
        return 0;
    if (t->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
    if (t->crt_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, t->crt_file);
    if (t->key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, t->key_file);
    if (t->key_pass)
        curl_easy_setopt(c, CURLOPT_KEYPASSWD, t->key_pass);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER,
                     t->verify_certificate == WIRE_TLS_VERIFY_FALSE ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, t->verify_hostname ? 2L : 0L);
    if (!t->server_name || !*t->server_name)
        return 0;
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *url = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, s->cfg->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_HOST, t->server_name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        rc = wire_errf(err, WIRE_EINVAL, "sink 'http': tls.server_name '%s' with url '%s'",
                       t->server_name, s->cfg->url);
    } else {
        char to[600];
        snprintf(to, sizeof(to), "%s:%s:%s:%s", t->server_name, port, host, port);
        s->connect_to = curl_slist_append(NULL, to);
        s->url = wire_xstrdup(url);
        curl_easy_setopt(c, CURLOPT_URL, s->url);
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, s->connect_to);
    }
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return rc;
}

static int http_write(void *self, const wire_batch *b, wire_err *err)
{
    http_sink *s = self;
    if (s->nev + b->n > s->ev_cap) {
        while (s->nev + b->n > s->ev_cap)
            s->ev_cap = s->ev_cap ? s->ev_cap * 2 : 1024;
        s->ends = wire_xrealloc(s->ends, s->ev_cap * sizeof(*s->ends));
    }
    wire_buf_reserve(&s->pending, b->bytes + b->n);
    for (uint32_t i = 0; i < b->n; i++) {
        const wire_event *ev = &b->ev[i];
        wire_buf_append(&s->pending, ev->data, ev->len);
        wire_buf_putc(&s->pending, '\n');
        s->ends[s->nev++] = s->pending.len;
    }
    size_t events = s->nev - s->sent_ev, bytes = s->pending.len - s->sent_off;
    return (events >= (size_t)s->cfg->batch_events || bytes >= (size_t)s->cfg->batch_bytes) ? 1 : 0;
}

/* POST [off, off+len). 0, WIRE_EAGAIN or WIRE_EPERM. */
static int post(http_sink *s, size_t off, size_t len, size_t nevents, wire_err *err)
{
    CURL *c = s->curl;
    s->answer_len = 0;
    s->answer[0] = '\0';
    s->curl_err[0] = '\0';
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->pending.p + off);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        return wire_errf(err, WIRE_EAGAIN, "sink 'http': POST %s (%zu events) failed: %s",
                         s->cfg->url, nevents,
                         s->curl_err[0] ? s->curl_err : curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        return 0;
    curl_off_t ra = 0;
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK || ra < 0)
        ra = 0;
    /* keep the answer's text on one line */
    for (size_t i = 0; i < s->answer_len; i++)
        if (s->answer[i] == '\n' || s->answer[i] == '\r')
            s->answer[i] = ' ';
    bool retry = status == 408 || status == 429 || status >= 500;
    char extra[64] = "";
    if (ra > 0)
        snprintf(extra, sizeof(extra), " (Retry-After %llds)", (long long)ra);
    int code = wire_errf(err, retry ? WIRE_EAGAIN : WIRE_EPERM,
                         "sink 'http': POST %s (%zu events) answered %ld%s%s%.200s", s->cfg->url,
                         nevents, status, extra, s->answer_len ? ": " : "", s->answer);
    if (err)
        err->retry_after_ms = (int64_t)ra * 1000; /* the runner's backoff honours it */
    return code;
}

static int http_flush(void *self, wire_err *err)
{
    http_sink *s = self;
    const size_t max_ev = (size_t)s->cfg->batch_events, max_bytes = (size_t)s->cfg->batch_bytes;
    while (s->sent_ev < s->nev) {
        size_t first = s->sent_ev, last = first; /* [first, last) */
        size_t start = s->sent_off;
        while (last < s->nev && last - first < max_ev &&
               (last == first || s->ends[last] - start <= max_bytes))
            last++;
        size_t end = s->ends[last - 1];
        int rc = post(s, start, end - start, last - first, err);
        if (rc < 0)
            return rc;
        s->sent_ev = last;
        s->sent_off = end;
    }
    /* everything accepted */
    s->nev = s->sent_ev = s->sent_off = 0;
    wire_buf_reset(&s->pending);
    if (s->pending.cap > 4 * (size_t)s->cfg->batch_bytes + 65536)
        wire_buf_free(&s->pending); /* do not hoard memory after a burst */
    return 0;
}

/* Forget what is pending; the events before sent_ev were accepted. */
static size_t http_discard(void *self)
{
    http_sink *s = self;
    size_t accepted = s->sent_ev;
    s->nev = s->sent_ev = s->sent_off = 0;
    wire_buf_reset(&s->pending);
    return accepted;
}

static int64_t http_linger_ms(void *self)
{
    http_sink *s = self;
    return s->cfg->linger_ms;
}

static void http_close(void *self)
{
    if (self)
        sink_free(self);
}

const wire_sink_def wire_sink_http = {
    .base = {WIRE_KIND_SINK, "http", "POST events as NDJSON batches (libcurl, keep-alive)",
             http_sink_options, sizeof(http_sink_config), 0, http_open, http_close},
    .write = http_write,
    .flush = http_flush,
    .linger_ms = http_linger_ms,
    .discard = http_discard,
};
