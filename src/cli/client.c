/*
 * client.c — what the client commands (`wire cluster`, `wire pipeline`)
 * share: one HTTP call to a node with libcurl, the server's error message on
 * stderr, JSON fields as display text, aligned tables, and the common flags
 * (--addr, -o table|json, the TLS files, --token).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    wire_buf_append(arg, p, size * n);
    return size * n;
}

const char *wire_cli_default_addr(void)
{
    const char *a = getenv("WIRE_ADDR");
    return a && *a ? a : "localhost:4001";
}

long wire_cli_http(const wire_cli_opts *o, const char *method, const char *path, const char *body,
                   size_t n, const char *content_type, wire_buf *out)
{
    const char *addr = o->addr;
    CURL *c = curl_easy_init();
    if (!c) {
        wire_buf_printf(out, "curl_easy_init failed");
        return -1;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s%s%s", strstr(addr, "://") ? "" : "http://", addr, path);
    struct curl_slist *hdrs = NULL;
    /* No "Expect: 100-continue" round trip on larger bodies. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (content_type) {
        char h[256];
        snprintf(h, sizeof(h), "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, h);
    } else if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type:"); /* not curl's form-encoded default */
    }
    if (o->token && *o->token) {
        wire_buf h;
        wire_buf_init(&h);
        wire_buf_printf(&h, "Authorization: Bearer %s", o->token);
        hdrs = curl_slist_append(hdrs, h.p);
        memset(h.p, 0, h.len);
        wire_buf_free(&h);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
    if (o->cert)
        curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
    if (o->key)
        curl_easy_setopt(c, CURLOPT_SSLKEY, o->key);
    if (body) {
        /* Sized, so a body may hold any bytes; "" sends Content-Length: 0. */
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    CURLcode rc = curl_easy_perform(c);
    long status = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        wire_buf_printf(out, "cannot reach %s: %s", addr, curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return status;
}

int wire_cli_fail(long status, const wire_buf *body)
{
    wire_json_val v;
    if (status > 0 && body->len && wire_json_validate_object(body->p, body->len, NULL) == 0 &&
        wire_json_get(body->p, body->len, "error", 5, &v) && v.kind == WIRE_JSON_STRING) {
        char *msg = wire_xmalloc(v.n + 1);
        size_t n = wire_json_unescape(v.p + 1, v.n - 2, msg);
        fprintf(stderr, "error: %.*s\n", (int)n, msg);
        free(msg);
    } else if (status > 0) {
        fprintf(stderr, "error: HTTP %ld: %.*s\n", status, (int)body->len, body->p ? body->p : "");
    } else {
        fprintf(stderr, "error: %.*s\n", (int)body->len, body->p ? body->p : "");
    }
    return 1;
}

void wire_cli_scalar(const wire_json_val *v, char *out, size_t n)
{
    if (v->kind == WIRE_JSON_STRING) {
        char *tmp = wire_xmalloc(v->n + 1);
        size_t k = wire_json_unescape(v->p + 1, v->n - 2, tmp);
        snprintf(out, n, "%.*s", (int)k, tmp);
        free(tmp);
    } else if (v->kind == WIRE_JSON_NULL) {
        out[0] = '\0';
    } else {
        snprintf(out, n, "%.*s", (int)v->n, v->p);
    }
}

void wire_cli_field(const char *obj, size_t n, const char *key, char *out, size_t outn)
{
    wire_json_val v;
    out[0] = 0;
    if (wire_json_get(obj, n, key, strlen(key), &v))
        wire_cli_scalar(&v, out, outn);
}

void wire_cli_table(size_t ncols, size_t nrows, char **cells)
{
    size_t *width = wire_xcalloc(ncols, sizeof(*width));
    for (size_t r = 0; r < nrows; r++)
        for (size_t k = 0; k < ncols; k++) {
            char *s = cells[r * ncols + k];
            for (char *q = s; *q; q++) /* one row per line, whatever a cell holds */
                if ((unsigned char)*q < 0x20)
                    *q = ' ';
            size_t w = strlen(s);
            if (w > width[k])
                width[k] = w;
        }
    for (size_t r = 0; r < nrows; r++) {
        /* The last column is not padded (no trailing blanks). */
        size_t last = ncols;
        while (last > 1 && cells[r * ncols + last - 1][0] == '\0')
            last--;
        for (size_t k = 0; k < last; k++) {
            if (k + 1 < last)
                printf("%-*s  ", (int)width[k], cells[r * ncols + k]);
            else
                fputs(cells[r * ncols + k], stdout);
        }
        putchar('\n');
    }
    free(width);
}

int wire_cli_common_flag(int argc, char **argv, int *i, wire_cli_opts *o)
{
    const char *a = argv[*i];
    if ((strcmp(a, "--addr") == 0 || strcmp(a, "-addr") == 0) && *i + 1 < argc)
        o->addr = argv[++*i];
    else if (strncmp(a, "--addr=", 7) == 0)
        o->addr = a + 7;
    else if (strcmp(a, "--cacert") == 0 && *i + 1 < argc)
        o->cacert = argv[++*i];
    else if (strcmp(a, "--cert") == 0 && *i + 1 < argc)
        o->cert = argv[++*i];
    else if (strcmp(a, "--key") == 0 && *i + 1 < argc)
        o->key = argv[++*i];
    else if (strncmp(a, "--cacert=", 9) == 0)
        o->cacert = a + 9;
    else if (strncmp(a, "--cert=", 7) == 0)
        o->cert = a + 7;
    else if (strncmp(a, "--key=", 6) == 0)
        o->key = a + 6;
    else if (strcmp(a, "--token") == 0 && *i + 1 < argc)
        o->token = argv[++*i];
    else if (strncmp(a, "--token=", 8) == 0)
        o->token = a + 8;
    else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && *i + 1 < argc)
        o->fmt = argv[++*i];
    else if (strncmp(a, "-o=", 3) == 0)
        o->fmt = a + 3;
    else if (strncmp(a, "--output=", 9) == 0)
        o->fmt = a + 9;
    else
        return 0;
    o->json = strcmp(o->fmt, "json") == 0;
    return 1;
}
