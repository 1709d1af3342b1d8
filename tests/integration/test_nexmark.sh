#!/usr/bin/env bash
# test_nexmark.sh — the `nexmark` source (issue 14) through `wire run`:
#   - proportions 1:3:46 exactly per 50 events; event n's id 1 + n and time
#     base_time + n * 1000 / event_rate; person and auction ids as the
#     NEXMARK.md numbers them (epoch * proportion + offset + 1000), bids' auctions and
#     bidders within the reference's bounds, categories 10..14, states among
#     the six, prices 100 .. 1e8, reserve > initialBid, expires > dateTime;
#   - reproducible: the same seed gives the same bytes, another seed other
#     events with the same kinds and times; base_time and event_rate;
#   - a restart resumes at its checkpointed position: every event once.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
run() { # run NAME COUNT [EXTRA CONFIG]: nexmark -> file NAME.jsonl
    cat >"$1.yaml" <<EOF
name: $1
source: {type: nexmark, config: {count: $2${3:-}}}
sink: {type: file, config: {path: $TMP/$1.jsonl}}
EOF
    "$WIRE" run --data-dir "$TMP/d-$1" "$1.yaml" >"$1.log" 2>&1
}
run a 20000
check_eq "wire run of 20,000 nexmark events: exit 0" 0 $?
check_eq "  20,000 lines" 20000 "$(wc -l <a.jsonl)"
cat >rules.py <<'PY'
import json, sys
path, base, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kinds = {0: "person", 1: "auction", 2: "bid"}
persons = auctions = 0
for n, line in enumerate(open(path)):
    e = json.loads(line)
    i = 1 + n
    rem = i % 50
    want = 0 if rem < 1 else 1 if rem < 4 else 2
    assert e["event_type"] == want, (n, e["event_type"], want)
    k = kinds[want]
    for other in kinds.values():
        assert (e[other] is None) == (other != k), (n, other)
    row = e[k]
    ts = base + n * 1000 // rate
    assert e["dateTime"] == ts and row["dateTime"] == ts, (n, e["dateTime"], ts)
    if want == 0:
        # NEXMARK.md: epoch * proportion + offset + 1000, epoch = id / 50
        assert row["id"] == 1000 + i // 50, (n, row["id"])
        persons += 1
        assert row["state"] in ("AZ", "CA", "ID", "OR", "WA", "WY")
        assert len(row["creditCard"]) == 19
    elif want == 1:
        assert row["id"] == 1000 + auctions, (n, row["id"], auctions)  # id/50*3 + rem-1
        auctions += 1
        assert 10 <= row["category"] <= 14
        assert 100 <= row["initialBid"] <= 10**8 and row["reserve"] > row["initialBid"]
        assert row["expires"] > ts
        # a seller among the people that exist by now, and the reference's lead of 10
        assert 1000 <= row["seller"] <= 1000 + i // 50 + 10, (n, row["seller"])
    else:
        assert 100 <= row["price"] <= 10**8
        epoch, off = divmod(i, 50)
        last_auction = epoch * 3 + (2 if off >= 4 else off - 1) if off >= 1 else (epoch - 1) * 3 + 2
        assert 1000 <= row["auction"] <= 1000 + last_auction + 10, (n, row["auction"], last_auction)
        # the reference's quirk: FIRST_PERSON_ID added twice
        assert 2000 <= row["bidder"] <= 2000 + i // 50 + 10, (n, row["bidder"])
        assert row["channel"] in ("Google", "Facebook", "Baidu", "Apple") or row["channel"].startswith("channel-")
        assert row["url"].startswith("https://")
print("ok", persons, auctions)
PY
python3 rules.py a.jsonl 1700000000000 10000 >check.out 2>&1
check "every event follows the reference's rules ($(tail -1 check.out))" grep -q "^ok 400 1200" check.out
run b 20000
check "the same seed: the same bytes" cmp -s a.jsonl b.jsonl
run c 20000 ", seed: 7"
check "another seed: other events" eval '! cmp -s a.jsonl c.jsonl'
kinds_times() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l); print(e["event_type"], e["dateTime"])' "$1" | md5sum; }
check_eq "  with the same kinds and times" "$(kinds_times a.jsonl)" "$(kinds_times c.jsonl)"
run t 100 ", base_time: 0, event_rate: 1000"
check_eq "base_time and event_rate: the 100th event at 99 ms" 99 "$(tail -1 t.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["dateTime"])')"
python3 rules.py t.jsonl 0 1000 >check2.out 2>&1
check "  and follows the rules" grep -q "^ok" check2.out

# resume: an unbounded, rate-limited run stopped, then run again on the same data dir
cat >r.yaml <<EOF
name: r
source: {type: nexmark, config: {rate: 20000}}
sink: {type: file, config: {path: $TMP/r.jsonl}}
EOF
lines() { wc -l <r.jsonl 2>/dev/null || echo 0; }
"$WIRE" run --data-dir "$TMP/d-r" r.yaml >r1.log 2>&1 &
P=$!
T_PIDS+=("$P")
wait_until 30 eval '[ "$(lines)" -gt 5000 ]'
kill -TERM "$P"
wait "$P"
check_eq "an unbounded rate-limited run stops on SIGTERM" 0 $?
first=$(lines)
"$WIRE" run --data-dir "$TMP/d-r" r.yaml >r2.log 2>&1 &
P=$!
T_PIDS+=("$P")
wait_until 30 eval '[ "$(lines)" -gt $((first + 5000)) ]'
kill -TERM "$P"
wait "$P"
python3 rules.py r.jsonl 1700000000000 10000 >resume.out 2>&1
check "a restart resumes where it stopped: every event once, in order ($(tail -1 resume.out))" grep -q "^ok" resume.out
finish
