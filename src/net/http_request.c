/*
 * http_request.c — making, freeing and reading a request of the HTTP server
 * (http_request.h): the accessors handlers call (method, path, query and
 * its parameters, headers, body).
 */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_request.h"

wire_http_req *http_req_new(wire_http_server *s, conn *c)
{
    wire_http_req *r = wire_xcalloc(1, sizeof(*r));
    r->srv = s;
    r->c = c;
    r->head_cap = 256;
    r->head = wire_xmalloc(r->head_cap);
    r->head[0] = '\0'; /* offset 0 is the empty string */
    r->head_len = 1;
    r->url = 1;
    return r;
}

void http_req_free(wire_http_req *r)
{
    if (!r)
        return;
    if (r->on_answer) /* never answered (the server stopped): the hook still frees */
        r->on_answer(r, 0, r->on_answer_arg);
    free(r->head);
    free(r->hdrs);
    free(r->body);
    free(r->out);
    free(r);
}

int http_head_append(wire_http_req *r, const char *p, size_t n, size_t limit)
{
    if (r->head_len + n + 1 > limit + 1)
        return -1;
    if (r->head_len + n + 1 > r->head_cap) {
        while (r->head_len + n + 1 > r->head_cap)
            r->head_cap *= 2;
        r->head = wire_xrealloc(r->head, r->head_cap);
    }
    memcpy(r->head + r->head_len, p, n);
    r->head_len += n;
    return 0;
}

const char *wire_http_req_method(const wire_http_req *r)
{
    return http_method_str((enum http_method)r->method);
}

const char *wire_http_req_path(const wire_http_req *r)
{
    return r->head + r->url;
}

const char *wire_http_req_query(const wire_http_req *r)
{
    return r->head + r->query;
}

const char *wire_http_req_header(const wire_http_req *r, const char *name)
{
    for (uint32_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->head + r->hdrs[i].name, name) == 0)
            return r->head + r->hdrs[i].value;
    return NULL;
}

const char *wire_http_req_body(const wire_http_req *r, size_t *len)
{
    if (len)
        *len = r->body_len;
    return r->body ? r->body : "";
}

long wire_http_req_param(const wire_http_req *r, const char *name, char *out, size_t n)
{
    const char *q = wire_http_req_query(r);
    size_t nlen = strlen(name);
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        char key[256];
        size_t kd = wire_http_query_decode(q, klen, key, sizeof(key));
        if (kd == nlen && memcmp(key, name, nlen) == 0) {
            if (!eq) {
                if (n)
                    out[0] = '\0';
                return 0;
            }
            return (long)wire_http_query_decode(eq + 1, len - klen - 1, out, n);
        }
        if (!amp)
            break;
        q = amp + 1;
    }
    return -1;
}
