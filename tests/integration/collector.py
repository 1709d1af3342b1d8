#!/usr/bin/env python3
"""collector.py — a test HTTP collector for the `http` sink.

    collector.py PORT DIR [CERT KEY [CLIENT_CA]]

With CERT and KEY it speaks HTTPS (TLS 1.2 or newer); with CLIENT_CA too, it
asks for a client certificate signed by that CA and refuses the handshake
without one (mTLS).

Appends every accepted request body to DIR/bodies and one line per accepted
request ("<lines> <bytes> <content-type>") to DIR/requests. Behaviour is
switched at run time through DIR/mode (re-read on every request):

    ok            answer 200 (default, also when the file is absent)
    503 [N]       answer 503 with Retry-After: 1 (N times, then ok)
    400           answer 400 {"error": ...}
    reject TEXT   answer 400 to any request whose body contains TEXT
    503-retry-after SECONDS   answer 503 with Retry-After: SECONDS
    slow SECONDS  sleep, then accept

Every request is also counted in DIR/seen ("<status>" per line).
DIR/ready is created once the port is open.
"""
import http.server
import os
import sys
import threading
import time

PORT = int(sys.argv[1])
DIR = sys.argv[2]
lock = threading.Lock()


def read_mode():
    try:
        with open(os.path.join(DIR, "mode")) as f:
            return f.read().split()
    except FileNotFoundError:
        return ["ok"]


def consume_one_failure(mode):
    """For '503 N': decrement N in the mode file; back to ok at 0."""
    if len(mode) < 2:
        return
    n = int(mode[1]) - 1
    with open(os.path.join(DIR, "mode"), "w") as f:
        f.write("ok\n" if n <= 0 else "503 %d\n" % n)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the sink expects

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"{}", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        with lock, open(os.path.join(DIR, "seen"), "a") as f:
            f.write("%d\n" % status)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            mode = read_mode()
            if mode and mode[0] == "503":
                consume_one_failure(mode)
        kind = mode[0] if mode else "ok"
        if kind == "503":
            return self.answer(503, b'{"error":"try later"}', [("Retry-After", "1")])
        if kind == "400":
            return self.answer(400, b'{"error":"bad batch"}')
        if kind == "reject" and mode[1].encode() in body:
            return self.answer(400, b'{"error":"poison event refused"}')
        if kind == "503-retry-after":
            return self.answer(503, b'{"error":"busy"}', [("Retry-After", mode[1])])
        if kind == "slow":
            time.sleep(float(mode[1]))
        with lock:
            with open(os.path.join(DIR, "bodies"), "ab") as f:
                f.write(body)
            with open(os.path.join(DIR, "requests"), "a") as f:
                f.write("%d %d %s %s\n" % (body.count(b"\n"), len(body),
                                           self.headers.get("X-Token", "-"),
                                           self.headers.get("Content-Type", "-")))
        self.answer(200)

    do_PUT = do_POST


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
if len(sys.argv) > 4:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    if len(sys.argv) > 5:
        ctx.load_verify_locations(sys.argv[5])
        ctx.verify_mode = ssl.CERT_REQUIRED
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
open(os.path.join(DIR, "ready"), "w").close()
server.serve_forever()
