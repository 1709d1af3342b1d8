#!/usr/bin/env python3
"""kv_writer.py ADDRS N OUT [TIMEOUT] — the issue's client: N keys written one
at a time, each PUT to the next address (round robin, "any node"), with a
client timeout (3 s). A refused connection (a node that is down) moves on to
the next address: nothing reached a server. Anything else but 200 — a timeout,
a reset after sending, a 5xx — is a write not acknowledged. Writes OUT as JSON
{"acked": [...keys], "failed": [[key, why], ...]}.
"""
import http.client
import json
import sys
import time

addrs = sys.argv[1].split(",")
n = int(sys.argv[2])
out = sys.argv[3]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
acked, failed = [], []
i = 0
for k in range(n):
    key = "e-%d" % k
    deadline = time.monotonic() + timeout
    why = None
    while True:
        h, p = addrs[i % len(addrs)].rsplit(":", 1)
        i += 1
        left = deadline - time.monotonic()
        if left <= 0:
            why = "no node accepted the connection in %.1f s" % timeout
            break
        c = http.client.HTTPConnection(h, int(p), timeout=left)
        try:
            c.connect()
        except ConnectionRefusedError:
            c.close()
            time.sleep(0.02)
            continue
        except Exception as e:
            c.close()
            why = "connect: %s" % e
            break
        try:
            c.request("PUT", "/v1/kv/" + key, body=("v%d" % k).encode())
            r = c.getresponse()
            body = r.read()
            if r.status == 200:
                why = None
            else:
                why = "%d %s" % (r.status, body[:120].decode("utf-8", "replace"))
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as e:
            c.close()
            why = "no answer: %s" % e
            time.sleep(0.02)
            continue  # that node died under us: another one, within the budget
        except Exception as e:
            why = "no answer: %s" % e
        finally:
            c.close()
        break
    if why is None:
        acked.append(key)
    else:
        failed.append([key, why])
    time.sleep(0.02)
json.dump({"acked": acked, "failed": failed}, open(out, "w"))
print("kv_writer: %d acknowledged, %d failed %s" % (len(acked), len(failed), failed[:3]))
