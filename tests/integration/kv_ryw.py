#!/usr/bin/env python3
"""kv_ryw.py ADDRS N — read your writes: N times PUT a key on one node and
at once GET it (default level) on the next node, each on its own keep-alive
connection; every GET must return the value just written. Prints a summary;
exit 1 on any stale read."""
import http.client
import sys

addrs = sys.argv[1].split(",")
n = int(sys.argv[2])
conns = []
for a in addrs:
    h, p = a.rsplit(":", 1)
    conns.append(http.client.HTTPConnection(h, int(p), timeout=10))
stale = []
for i in range(n):
    w, r = conns[i % len(conns)], conns[(i + 1) % len(conns)]
    key, val = "ryw-%d" % (i % 7), "v%d" % i  # keys are overwritten: an old value is visible
    w.request("PUT", "/v1/kv/" + key, body=val.encode())
    resp = w.getresponse()
    resp.read()
    if resp.status != 200:
        sys.exit("kv_ryw: PUT %s -> %d" % (key, resp.status))
    r.request("GET", "/v1/kv/" + key)
    resp = r.getresponse()
    got = resp.read().decode()
    if resp.status != 200 or got != val:
        stale.append((i, key, val, resp.status, got))
print("kv_ryw: %d writes, each read back at once on another node: %d stale %s" % (n, len(stale), stale[:3]))
sys.exit(1 if stale else 0)
