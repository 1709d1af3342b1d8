#!/usr/bin/env python3
"""Generate the W2/W3 benchmark input: N JSON lines of ~200 bytes.

About 10% have top-level "level" equal to "error". Realistic variety: key
order varies, some lines have spaces after ':' and ',', nested objects and
arrays, escaped quotes, \\u escapes and raw UTF-8, and decoys: the text
"level":"error" inside strings and inside nested objects, where a filter on
the top-level field must not match.

    gen_events.py N OUT [--expect-error OUT_EXPECTED]

With --expect-error, also writes the lines whose top-level level == "error"
according to Python's json module (the oracle for W2's output).
"""
import json
import random
import sys


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    expect = None
    if len(sys.argv) > 4 and sys.argv[3] == "--expect-error":
        expect = open(sys.argv[4], "w", encoding="utf-8", newline="\n")
    rnd = random.Random(42)
    hosts = ["web-%02d" % i for i in range(1, 21)]
    paths = ["/api/v1/users", "/api/v1/orders", "/login", "/static/app.js", "/health"]
    msgs = [
        "request served",
        "cache miss for key \"user:42\"",
        "timeout talking to db",
        "naïve café – ünïcödé",
        "path C:\\\\temp\\\\x",
        "decoy \"level\":\"error\" in text",
        "emoji \U0001F600 ok",
        "tab\tand newline\n escaped",
    ]
    levels = ["info"] * 6 + ["warn"] * 2 + ["debug"]
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for i in range(n):
            r = rnd.random()
            level = "error" if r < 0.10 else rnd.choice(levels)
            ev = {
                "ts": 1764400000000 + i,
                "level": level,
                "host": rnd.choice(hosts),
                "msg": rnd.choice(msgs),
                "latency_ms": rnd.randint(1, 2000),
                "req": {"path": rnd.choice(paths), "status": rnd.choice([200, 200, 201, 404, 500])},
                "tags": rnd.sample(["a", "b", "c", "d", "e"], rnd.randint(0, 3)),
            }
            d = rnd.random()
            if d < 0.05:
                ev["meta"] = {"level": "error", "note": "nested decoy"}
            elif d < 0.10:
                ev["note"] = '"level":"error"'
            elif d < 0.13:
                ev["ctx"] = [{"level": "error"}, 1.5e3, None, True]
            if rnd.random() < 0.3:
                ev["user"] = {"id": rnd.randint(1, 10**6), "name": "u\u00e9%d" % rnd.randint(1, 99)}
            keys = list(ev.keys())
            if rnd.random() < 0.5:
                rnd.shuffle(keys)
            ev = {k: ev[k] for k in keys}
            spaced = rnd.random() < 0.3
            ascii_only = rnd.random() < 0.3  # \u escapes instead of raw UTF-8
            line = json.dumps(
                ev,
                ensure_ascii=ascii_only,
                separators=(", ", ": ") if spaced else (",", ":"),
            )
            f.write(line + "\n")
            if expect is not None and json.loads(line).get("level") == "error":
                expect.write(line + "\n")
    if expect is not None:
        expect.close()


if __name__ == "__main__":
    main()
