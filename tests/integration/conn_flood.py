#!/usr/bin/env python3
"""conn_flood.py HOST:PORT N SECONDS — open N idle TCP connections from
127.0.0.1 to HOST:PORT, print "ready" once all are connected, hold them
SECONDS, then close them. For test_limits.sh: one client holding many
connections must not take the node."""
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
n, secs = int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.connect((host, int(port)))
    socks.append(s)
print("ready", flush=True)
time.sleep(secs)
for s in socks:
    s.close()
