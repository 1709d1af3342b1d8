/*
 * socket.c — the one place where Wire makes listening sockets: address
 * parsing ("host:port"), resolution, bind and listen. TLS (issue: security)
 * will wrap accepted streams here too, so the HTTP server, the node API and
 * the inter-node port all get it the same way.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

int wire_net_parse_addr(const char *addr, struct sockaddr_storage *out, wire_err *err)
{
    char host[256];
    const char *port;
    if (!addr || !*addr)
        return wire_errf(err, WIRE_EINVAL, "empty address: expected host:port");
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':')
            return wire_errf(err, WIRE_EINVAL, "bad address '%s': expected [v6addr]:port", addr);
        size_t n = (size_t)(end - addr - 1);
        if (n >= sizeof(host))
            return wire_errf(err, WIRE_EINVAL, "bad address '%s': host too long", addr);
        memcpy(host, addr + 1, n);
        host[n] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon)
            return wire_errf(err, WIRE_EINVAL, "bad address '%s': expected host:port", addr);
        size_t n = (size_t)(colon - addr);
        if (n >= sizeof(host))
            return wire_errf(err, WIRE_EINVAL, "bad address '%s': host too long", addr);
        memcpy(host, addr, n);
        host[n] = '\0';
        port = colon + 1;
    }
    char *endp;
    long p = strtol(port, &endp, 10);
    if (!*port || *endp || p < 0 || p > 65535)
        return wire_errf(err, WIRE_EINVAL, "bad port in address '%s': expected 0-65535", addr);
    if (strstr(addr, "://"))
        return wire_errf(err, WIRE_EINVAL, "address '%s' must not carry a scheme", addr);

    memset(out, 0, sizeof(*out));
    if (!host[0]) {
        struct sockaddr_in *in = (struct sockaddr_in *)out;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_ANY);
        in->sin_port = htons((uint16_t)p);
        return 0;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res)
        return wire_errf(err, WIRE_EINVAL, "cannot resolve host '%s' in address '%s': %s", host,
                         addr, gai_strerror(rc));
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

void wire_net_format_addr(const struct sockaddr *sa, char *out, size_t n)
{
    char ip[64] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        uv_ip4_name(in, ip, sizeof(ip));
        port = ntohs(in->sin_port);
        snprintf(out, n, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(in6, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
        snprintf(out, n, "[%s]:%d", ip, port);
    } else {
        snprintf(out, n, "?");
    }
}

int wire_net_listen(uv_tcp_t *tcp, const char *addr, int backlog, uv_connection_cb on_conn,
                    int *port, wire_err *err)
{
    struct sockaddr_storage ss;
    int rc = wire_net_parse_addr(addr, &ss, err);
    if (rc < 0)
        return rc;
    /* libuv sets SO_REUSEADDR on bind, so a restarted node can rebind at once */
    rc = uv_tcp_bind(tcp, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)tcp, backlog > 0 ? backlog : 511, on_conn);
    if (rc < 0)
        return wire_errf(err, WIRE_EIO, "cannot listen on %s: %s", addr, uv_strerror(rc));
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    if (port) {
        *port = 0;
        if (uv_tcp_getsockname(tcp, (struct sockaddr *)&bound, &len) == 0) {
            if (bound.ss_family == AF_INET)
                *port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
            else if (bound.ss_family == AF_INET6)
                *port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
        }
    }
    return 0;
}
