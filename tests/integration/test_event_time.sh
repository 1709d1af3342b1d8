#!/usr/bin/env bash
# test_event_time.sh — a source's `event_time:` (issue 14, STREAMING.md §3.1,
# §3.3) through `wire run`:
#   - the time from a nested field, as ms or RFC 3339; an event without a
#     valid one (missing, null, not a time) goes to the DLQ with
#     reason "event_time" and does not move the watermark;
#   - the watermark (max ts - watermark_delay) in /status and /metrics,
#     before any transform: a filter that drops every event still moves it;
#     an out-of-order event does not move it back;
#   - an unknown option in the block is a validation error with its line.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
PORT=$(free_port)
cat >p.yaml <<EOF
name: et
source:
  type: file
  config: {path: $TMP/in.jsonl, mode: tail, poll_interval: 20ms}
  event_time: {field: t.at, watermark_delay: 2s}
transforms:
  - {type: filter, config: {where: 'n < 0'}}
sink: {type: file, config: {path: $TMP/out.jsonl}}
dlq: {type: file, config: {path: $TMP/dlq.jsonl}}
EOF
: >in.jsonl
"$WIRE" run --data-dir "$TMP/d" --http-addr "127.0.0.1:$PORT" p.yaml >run.log 2>&1 &
P=$!
T_PIDS+=("$P")
wm() { curl -s --max-time 5 "http://127.0.0.1:$PORT/status" | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = [x for x in d["pipelines"] if x["name"] == "et"][0]
print(json.dumps(p["event_time"]["watermark_ms"]))'; }
check "wire run with event_time answers /status" wait_until 20 eval '[ "$(wm)" = null ]'
printf '%s\n' '{"t":{"at":1700000010000},"n":1}' >>in.jsonl
check "the watermark is max(ts) - 2s, though the filter dropped the event" \
    wait_until 10 eval '[ "$(wm)" = 1700000008000 ]'
printf '%s\n' '{"t":{"at":"2023-11-14T22:13:40.000Z"},"n":2}' >>in.jsonl
check "an RFC 3339 time moves it (22:13:40Z - 2s)" wait_until 10 eval '[ "$(wm)" = 1700000018000 ]'
printf '%s\n' '{"t":{"at":1700000001000},"n":3}' >>in.jsonl
sleep 0.5
check_eq "an out-of-order event does not move it back" 1700000018000 "$(wm)"
printf '%s\n' '{"n":4}' '{"t":{"at":null},"n":5}' '{"t":{"at":"soon"},"n":6}' '{"t":{"at":9999999999999999}}' >>in.jsonl
check "events without a valid time go to the DLQ" wait_until 10 eval '[ "$(wc -l <dlq.jsonl 2>/dev/null || echo 0)" = 3 ]'
check "  with reason event_time and what is wrong" \
    python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert all(x["reason"] == "event_time" for x in r), r
assert "no field" in r[0]["error"] and "null" in r[1]["error"] and "soon" in r[2]["error"], r
assert r[0]["event"] == {"n": 4}' dlq.jsonl
check "  and do not move the watermark (a far-future valid one does)" \
    wait_until 10 eval '[ "$(wm)" = 9999999999997999 ]'
curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" >metrics.txt
check "/metrics has wire_pipeline_watermark_ms" grep -q '^wire_pipeline_watermark_ms{pipeline="et"} 9999999999997999$' metrics.txt
check_eq "the filter still dropped everything" 0 "$(wc -l <out.jsonl 2>/dev/null || echo 0)"
kill -TERM "$P"
wait "$P"
check_eq "stops cleanly" 0 $?
cat >bad.yaml <<EOF
name: b
source:
  type: generate
  event_time: {field: ts, watermark_dealy: 2s}
sink: {type: blackhole}
EOF
"$WIRE" validate bad.yaml >v.out 2>&1
check_eq "a misspelt event_time option: wire validate exits 1" 1 $?
check "  naming it at its line" grep -q "bad.yaml:4:.*watermark_dealy" v.out
cat >bad2.yaml <<EOF
name: b
source:
  type: generate
  event_time: {watermark_delay: 2s}
sink: {type: blackhole}
EOF
"$WIRE" validate bad2.yaml >v2.out 2>&1
check "event_time without field: refused" grep -q "field" v2.out
finish
