#!/usr/bin/env python3
"""cluster_kv.py — keep-alive HTTP client for Wire's /v1/kv, used by the
cluster tests (curl per request is too slow under ASan for thousands of keys).

  bulk ADDRS PREFIX N EXPECTED.json [--delete-every K] [--overwrite-every K]
      N sequential PUTs of PREFIX-i (round-robin over comma-separated ADDRS),
      some keys overwritten and some deleted; every request must answer 200.
      Writes the expected final state {key: value|null} to EXPECTED.json.
  check ADDR EXPECTED.json...  GET ?level=none every key of the union of the
      files (last file wins): value must match, null must be 404.
  chaos DIR ADDRS SECONDS WRITERS
      WRITERS threads write numbered keys (each its own), every 5th write
      overwriting one of its earlier keys; one thread increments a counter key
      and one reads it with level=strong. Every attempt and its answer is
      logged to DIR/*.log. Runs SECONDS or until DIR/stop exists.
  verify DIR ADDRS
      After the chaos: every acknowledged write present with its last
      acknowledged value on EVERY node (level=none), and strong reads never
      went back in time. Prints a summary; exit 1 on any violation.
"""
import http.client
import json
import os
import random
import sys
import threading
import time

TIMEOUT = float(os.environ.get("KV_TIMEOUT", "8"))


class Conn:
    """One keep-alive connection to one of several addresses; moves to another
    address after a failure."""

    def __init__(self, addrs, start=0):
        self.addrs = addrs
        self.i = start % len(addrs)
        self.c = None

    def request(self, method, path, body=None):
        """Returns (status, body bytes) or (0, error text) on no answer."""
        try:
            if self.c is None:
                h, p = self.addrs[self.i].rsplit(":", 1)
                self.c = http.client.HTTPConnection(h, int(p), timeout=TIMEOUT)
            self.c.request(method, path, body=body)
            r = self.c.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.reset()
            return r.status, data
        except Exception as e:  # refused, reset, timeout: the answer is unknown
            self.reset()
            return 0, str(e).encode()

    def reset(self, move=True):
        if self.c is not None:
            try:
                self.c.close()
            except Exception:
                pass
        self.c = None
        if move:
            self.i = (self.i + 1) % len(self.addrs)


def cmd_bulk(addrs, prefix, n, out, delete_every=0, overwrite_every=0):
    conns = [Conn([a]) for a in addrs]
    exp = {}
    for i in range(n):
        c = conns[i % len(conns)]
        key = "%s-%d" % (prefix, i)
        val = "v%d-%s" % (i, "x" * (i % 90))
        st, body = c.request("PUT", "/v1/kv/" + key, val.encode())
        if st != 200:
            sys.exit("bulk: PUT %s via %s -> %s %r" % (key, c.addrs[0], st, body[:200]))
        exp[key] = val
        if overwrite_every and i % overwrite_every == overwrite_every - 1:
            k2 = "%s-%d" % (prefix, i // 2)
            v2 = "over%d" % i
            st, body = c.request("PUT", "/v1/kv/" + k2, v2.encode())
            if st != 200:
                sys.exit("bulk: PUT %s -> %s %r" % (k2, st, body[:200]))
            exp[k2] = v2
        if delete_every and i % delete_every == delete_every - 1:
            k3 = "%s-%d" % (prefix, i - 1)
            st, body = c.request("DELETE", "/v1/kv/" + k3)
            if st != 200:
                sys.exit("bulk: DELETE %s -> %s %r" % (k3, st, body[:200]))
            exp[k3] = None
    with open(out, "w") as f:
        json.dump(exp, f)


def cmd_check(addr, files):
    exp = {}
    for fn in files:
        with open(fn) as f:
            exp.update(json.load(f))
    c = Conn([addr])
    bad = []
    for k, v in sorted(exp.items()):
        st, body = c.request("GET", "/v1/kv/%s?level=none" % k)
        if v is None:
            if st != 404:
                bad.append((k, "expected 404", st, body[:60]))
        elif st != 200 or body.decode("utf-8", "replace") != v:
            bad.append((k, "expected %r" % v[:30], st, body[:60]))
    print("check %s: %d keys, %d wrong %s" % (addr, len(exp), len(bad), bad[:5]))
    return 0 if not bad else 1


# ---- chaos ----

def now():
    return time.monotonic()  # CLOCK_MONOTONIC: comparable across processes


def chaos(d, addrs, secs, writers):
    stop_at = now() + secs
    stopping = threading.Event()

    def should_stop():
        return stopping.is_set() or now() > stop_at or os.path.exists(os.path.join(d, "stop"))

    def writer(w):
        # log line: attempt_no key value t_start t_end status
        rnd = random.Random(w)
        c = Conn(addrs, rnd.randrange(len(addrs)))
        n = 0
        with open(os.path.join(d, "w%d.log" % w), "w") as log:
            while not should_stop():
                if n % 5 == 4:
                    key = "c%d-%d" % (w, rnd.randrange(n))  # overwrite an earlier key
                else:
                    key = "c%d-%d" % (w, n)
                val = "w%d-a%d" % (w, n)  # every attempt has its own value
                t0 = now()
                st, body = c.request("PUT", "/v1/kv/" + key, val.encode())
                log.write("%s %s %.6f %.6f %d\n" % (key, val, t0, now(), st))
                log.flush()
                n += 1
                if st != 200:
                    c.reset()
                    time.sleep(0.05)

    def counter():
        # the counter key: strictly increasing values, one write at a time
        c = Conn(addrs, 1)
        n = 0
        with open(os.path.join(d, "ctr.log"), "w") as log:
            while not should_stop():
                n += 1
                t0 = now()
                st, _ = c.request("PUT", "/v1/kv/ctr", str(n).encode())
                log.write("%d %.6f %.6f %d\n" % (n, t0, now(), st))
                log.flush()
                if st != 200:
                    c.reset()
                    time.sleep(0.05)

    def reader():
        c = Conn(addrs, 2)
        with open(os.path.join(d, "reads.log"), "w") as log:
            while not should_stop():
                t0 = now()
                st, body = c.request("GET", "/v1/kv/ctr?level=strong")
                t1 = now()
                v = -1
                if st == 200:
                    try:
                        v = int(body)
                    except ValueError:
                        v = -2  # garbage: counted as a violation
                elif st == 404:
                    v = 0
                log.write("%.6f %.6f %d %d\n" % (t0, t1, st, v))
                log.flush()
                if st not in (200, 404):
                    c.reset()
                    time.sleep(0.05)
                else:
                    # another node next time: strong reads from every node
                    c.reset(move=True)

    ts = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    ts += [threading.Thread(target=counter), threading.Thread(target=reader)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def verify(d, addrs):
    ok = True
    # 1. acknowledged writes: key -> (last acked value, set of values whose
    # answer was unknown). A write with no 200 may or may not have been applied,
    # and, having no answer, may even be ordered after a later acknowledged one;
    # so the final value must be the last acked one or one of those unknowns.
    acked, unknown, attempts = {}, {}, 0
    for fn in sorted(os.listdir(d)):
        if not (fn.startswith("w") and fn.endswith(".log")):
            continue
        with open(os.path.join(d, fn)) as f:
            for line in f:
                p = line.split()
                if len(p) != 5:
                    continue  # a torn last line
                key, val, st = p[0], p[1], int(p[4])
                attempts += 1
                if st == 200:
                    acked[key] = val
                else:
                    unknown.setdefault(key, set()).add(val)
    n_acked = sum(1 for _ in acked)
    print("chaos: %d write attempts, %d keys with an acknowledged write, %d attempts not acknowledged"
          % (attempts, n_acked, sum(len(s) for s in unknown.values())))
    for a in addrs:
        c = Conn([a])
        missing, wrong, via_unknown = [], [], 0
        for k, v in sorted(acked.items()):
            st, body = c.request("GET", "/v1/kv/%s?level=none" % k)
            got = body.decode("utf-8", "replace")
            if st == 404:
                missing.append(k)
            elif st != 200:
                wrong.append((k, v, st, got[:40]))
            elif got != v:
                if got in unknown.get(k, ()):
                    via_unknown += 1
                else:
                    wrong.append((k, v, st, got[:40]))
        print("node %s: %d acknowledged keys: %d missing %s, %d wrong value %s, "
              "%d hold a later unacknowledged write" % (a, len(acked), len(missing), missing[:5],
                                                         len(wrong), wrong[:5], via_unknown))
        ok = ok and not missing and not wrong

    # 2. strong reads of the counter never go back in time: each read returns
    # at least the newest value acknowledged before the read began, and at
    # least what any earlier-finished read returned.
    acks = []  # (t_end, value) of acknowledged counter writes
    attempted = []  # (t_start, value) of all counter writes
    with open(os.path.join(d, "ctr.log")) as f:
        for line in f:
            p = line.split()
            if len(p) != 4:
                continue
            v, t0, t1, st = int(p[0]), float(p[1]), float(p[2]), int(p[3])
            attempted.append((t0, v))
            if st == 200:
                acks.append((t1, v))
    reads = []
    with open(os.path.join(d, "reads.log")) as f:
        for line in f:
            p = line.split()
            if len(p) != 4:
                continue
            reads.append((float(p[0]), float(p[1]), int(p[2]), int(p[3])))
    acks.sort()
    attempted_at = {v: t for t, v in attempted}
    good = [r for r in reads if r[2] in (200, 404)]
    back, stale, future, garbage = [], [], [], []
    last_read = 0  # the value of the latest read that finished before this one started
    finished = sorted((r[1], r[3]) for r in good)
    fi = 0
    ai = 0
    best_ack = 0
    for t0, t1, st, v in sorted(good):
        while fi < len(finished) and finished[fi][0] < t0:
            last_read = max(last_read, finished[fi][1])
            fi += 1
        while ai < len(acks) and acks[ai][0] < t0:
            best_ack = max(best_ack, acks[ai][1])
            ai += 1
        if v < 0:
            garbage.append((t0, v))
        elif v < last_read:
            back.append((t0, v, last_read))
        elif v < best_ack:
            stale.append((t0, v, best_ack))
        # a value never attempted before the read ended would come from nowhere
        if v > 0 and not (v in attempted_at and attempted_at[v] <= t1):
            future.append((t0, v))
    print("strong reads: %d answered (%d errors/timeouts), %d counter writes acknowledged; "
          "went back vs an earlier read: %d %s; older than an acknowledged write: %d %s; "
          "unknown values: %d %s; garbage: %d"
          % (len(good), len(reads) - len(good), len(acks), len(back), back[:3], len(stale),
             stale[:3], len(future), future[:3], len(garbage)))
    ok = ok and not back and not stale and not future and not garbage
    if len(good) < 20 or len(acks) < 20 or n_acked < 100:
        print("too little traffic to judge (reads %d, counter acks %d, acked keys %d)"
              % (len(good), len(acks), n_acked))
        ok = False
    return 0 if ok else 1


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "bulk":
        kw = {}
        rest = a[5:]
        for i in range(0, len(rest), 2):
            kw[rest[i].lstrip("-").replace("-", "_")] = int(rest[i + 1])
        cmd_bulk(a[1].split(","), a[2], int(a[3]), a[4], **kw)
        return 0
    if a[0] == "check":
        return cmd_check(a[1], a[2:])
    if a[0] == "chaos":
        chaos(a[1], a[2].split(","), float(a[3]), int(a[4]))
        return 0
    if a[0] == "verify":
        return verify(a[1], a[2].split(","))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
