#!/usr/bin/env python3
"""fake_pipelines.py — a stand-in for a node's /v1/pipelines API, for testing
`wire pipeline` without a cluster.

    fake_pipelines.py PORT DIR

Answers the contract of DESIGN.md / docs/cluster.md from an in-memory table:
POST /v1/pipelines (a body containing "BAD" -> 400 with two errors at
line/col; a body without "name: X" -> 400 without line), GET list and one,
DELETE, POST .../pause and .../resume, 404 and 409 as the real node.
Every request is logged to DIR/requests as "METHOD PATH CONTENT-TYPE LENGTH".
DIR/ready is created once the port is open.
"""
import http.server
import json
import os
import re
import sys
import threading

PORT = int(sys.argv[1])
DIR = sys.argv[2]
lock = threading.Lock()
pipes = {
    "failing": {
        "name": "failing", "version": 2, "state": "failed",
        "error": "sink 'file': open /nope/x.jsonl: No such file or directory",
        "node": "node-two", "epoch": 7,
        "counters": {"events_in": 5, "events_out": 0, "filtered": 0, "dead_lettered": 0,
                     "dropped": 0, "invalid": 0, "errors": 5},
        "checkpoint": {"id": 0, "time_ms": 0},
        "spec": "name: failing\nsource: {type: generate}\nsink: {type: file, config: {path: /nope/x.jsonl}}\n",
    },
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, n):
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write("%s %s %s %d\n" % (self.command, self.path,
                                       self.headers.get("Content-Type", "-"), n))

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        data = self.rfile.read(n) if n else b""
        self.record(len(data))
        return data

    def summary(self, p):
        return {k: v for k, v in p.items() if k != "spec"}

    def do_GET(self):
        self.body()
        with lock:
            if self.path == "/v1/pipelines":
                names = sorted(pipes)
                return self.answer(200, {"pipelines": [self.summary(pipes[n]) for n in names]})
            m = re.fullmatch(r"/v1/pipelines/([^/]+)", self.path)
            if m:
                p = pipes.get(m.group(1))
                if p is None:
                    return self.answer(404, {"error": "pipeline %s not found" % m.group(1)})
                return self.answer(200, p)
        self.answer(404, {"error": "no route " + self.path})

    def do_POST(self):
        data = self.body().decode("utf-8", "replace")
        with lock:
            if self.path == "/v1/pipelines":
                if "BAD" in data:
                    return self.answer(400, {
                        "error": "p.yaml:3:5: unknown source type 'kafak'; ...",
                        "errors": [
                            {"line": 3, "col": 5, "message": "unknown source type 'kafak' (did you mean 'kafka'?)"},
                            {"line": 7, "col": 11, "message": "sink 'file': missing required option 'path'"},
                        ]})
                m = re.search(r'"?name"?\s*:\s*"?([A-Za-z0-9_-]+)', data)
                if not m:
                    return self.answer(400, {"error": "missing name",
                                             "errors": [{"line": 0, "col": 0, "message": "missing required key 'name'"}]})
                name = m.group(1)
                if name in pipes:
                    return self.answer(409, {"error": "pipeline %s already exists" % name})
                pipes[name] = {
                    "name": name, "version": 1, "state": "running", "error": "",
                    "node": "n1", "epoch": 3,
                    "counters": {"events_in": 10, "events_out": 9, "filtered": 1,
                                 "dead_lettered": 0, "dropped": 0, "invalid": 0, "errors": 0},
                    "checkpoint": {"id": 4, "time_ms": 1700000000123},
                    "spec": data,
                }
                return self.answer(201, {"name": name, "version": 1})
            m = re.fullmatch(r"/v1/pipelines/([^/]+)/(pause|resume)", self.path)
            if m:
                p = pipes.get(m.group(1))
                if p is None:
                    return self.answer(404, {"error": "pipeline %s not found" % m.group(1)})
                p["state"] = "paused" if m.group(2) == "pause" else "running"
                return self.answer(200, {"name": p["name"], "state": p["state"]})
        self.answer(404, {"error": "no route " + self.path})

    def do_DELETE(self):
        self.body()
        with lock:
            m = re.fullmatch(r"/v1/pipelines/([^/]+)", self.path)
            if m:
                if pipes.pop(m.group(1), None) is None:
                    return self.answer(404, {"error": "pipeline %s not found" % m.group(1)})
                return self.answer(200, {"name": m.group(1), "deleted": True})
        self.answer(404, {"error": "no route " + self.path})


srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
open(os.path.join(DIR, "ready"), "w").close()
srv.serve_forever()
