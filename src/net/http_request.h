/*
 * http_request.h — the request object of the HTTP server (http_server.c),
 * shared with http_request.c, which makes, frees and reads it: the parsed
 * head (url, query, headers in one buffer), the body, and the response
 * bytes once answered. Nothing outside src/net sees this.
 */
#ifndef WIRE_HTTP_REQUEST_H
#define WIRE_HTTP_REQUEST_H

#include "net/net.h"

typedef struct conn conn;

enum req_state {
    REQ_PARSING, /* headers/body still arriving */
    REQ_HANDLER, /* handed to the handler, not answered yet */
    REQ_DONE,    /* response bytes ready in out */
};

enum { CB_NONE, CB_FIELD, CB_VALUE };

typedef struct hdr {
    uint32_t name, value; /* offsets into head */
} hdr;

struct wire_http_req {
    wire_http_server *srv;
    conn *c;
    wire_http_req *next;      /* conn FIFO */
    wire_http_req *done_next; /* server's queue of answers from other threads */
    int state;
    bool orphan; /* its connection closed while the handler held it */
    /* parsed request: head = "\0" url "\0" name "\0" value "\0" ... */
    char *head;
    size_t head_len, head_cap;
    uint32_t url, query; /* offsets; query 0 = "" */
    hdr *hdrs;
    uint32_t nhdrs, hdrs_cap;
    int last_cb;
    char *body;
    size_t body_len, body_cap;
    unsigned method;
    unsigned short http_major, http_minor;
    bool keep_alive;
    /* response */
    char *out;
    size_t out_len;
    int status;
    bool close_after;
    wire_http_answer_fn on_answer; /* once, at the answer */
    void *on_answer_arg;
};

wire_http_req *http_req_new(wire_http_server *s, conn *c);
/* Free it (its answer hook is called first if it never ran: the server stopped). */
void http_req_free(wire_http_req *r);
/* Append n bytes to the head, which may not grow past limit: -1 then. */
int http_head_append(wire_http_req *r, const char *p, size_t n, size_t limit);

#endif
