#!/usr/bin/env python3
"""tls_load.py URL CAFILE SECONDS [CERT KEY]: HTTPS GETs against URL for SECONDS,
half on fresh connections, half keep-alive, from 4 threads. Prints one JSON
line: requests answered 200, failures (any exception or other status), and the
distinct server certificate serials seen (a rotation shows two)."""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse

url, cafile, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
u = urllib.parse.urlparse(url)
ctx = ssl.create_default_context(cafile=cafile)
if len(sys.argv) > 5:
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
headers = {}
lock = threading.Lock()
stats = {"ok": 0, "failed": 0, "errors": [], "serials": set()}


def serial(conn):
    der = conn.sock.getpeercert(binary_form=True)
    return der[-64:].hex() if der else ""


def worker(fresh):
    end = time.time() + secs
    conn = None
    while time.time() < end:
        try:
            if conn is None or fresh:
                if conn:
                    conn.close()
                conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
            conn.request("GET", u.path or "/", headers=headers)
            r = conn.getresponse()
            r.read()
            s = serial(conn)
            with lock:
                if r.status == 200:
                    stats["ok"] += 1
                    stats["serials"].add(s)
                else:
                    stats["failed"] += 1
                    stats["errors"].append("status %d" % r.status)
        except Exception as e:  # noqa: BLE001 - every failure counts
            with lock:
                stats["failed"] += 1
                stats["errors"].append(repr(e)[:200])
            conn = None


ts = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps({"ok": stats["ok"], "failed": stats["failed"], "errors": stats["errors"][:5],
                  "serials": len(stats["serials"])}))
