#!/usr/bin/env bash
# Lossless delivery through the real binary: a sink down for a while (503),
# a sink refusing some events (400 -> dead letters), transform errors to the
# DLQ, an injected fsync failure, hot reload (SIGHUP, --watch, an invalid
# file), and the standalone HTTP endpoints with the accounting invariant.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
HERE=$(cd "$(dirname "$0")" && pwd)
OUTAGE=${OUTAGE_SECONDS:-30}

start_collector() { # DIR -> sets CPORT
    mkdir -p "$1"
    CPORT=$(free_port)
    python3 "$HERE/collector.py" "$CPORT" "$1" &
    T_PIDS+=("$!")
    wait_for test -f "$1/ready"
}
summary() { grep "wire: pipeline $1 " "$2" | tail -1; }
field() { echo "$1" | sed -E "s/.* $2=([0-9]+).*/\1/"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# --- a collector that answers 503 for OUTAGE seconds, then recovers -----------
start_collector col1
echo "503" >col1/mode
cat >outage.yaml <<EOF
name: outage
source:
  type: generate
  config: { count: 200000, rate: 20000, template: '{"n": {{seq}}, "pad": "$(printf '%0180d' 0)"}' }
sink:
  type: http
  config: { url: "http://127.0.0.1:$CPORT/", batch_events: 1000, linger: 50ms }
  retry: { initial: 100ms, max: 2s }
buffer: { max_bytes: 1MB }
checkpoint: { interval: 500ms }
EOF
ASAN_OPTIONS=${ASAN_OPTIONS:-}:quarantine_size_mb=4 "$WIRE" run --data-dir data1 outage.yaml 2>outage.log &
pid=$!
T_PIDS+=("$pid")
sleep $((OUTAGE / 3))
rss_a=$(rss_kb "$pid")
sleep $((OUTAGE - OUTAGE / 3))
rss_b=$(rss_kb "$pid")
echo "ok" >col1/mode
wait "$pid"
check "outage: exit 0 after the sink recovers" [ $? = 0 ]
echo "rss during the outage: ${rss_a} KB, then ${rss_b} KB"
check "outage: memory bounded while the sink is down" [ "$rss_b" -lt $((rss_a + 16384)) ]
check "outage: every event delivered" python3 -c '
got = set()
for l in open("col1/bodies"):
    l = l.strip()
    if l: got.add(l.split(",")[0])
assert len(got) == 200000, len(got)
'
s=$(summary outage outage.log)
echo "$s"
check "outage: retries counted" [ "$(field "$s" retries)" -gt 5 ]
check "outage: in = out" [ "$(field "$s" in)" = "$(field "$s" out)" ]
check "outage: 503s seen by the collector" grep -q 503 col1/seen

# --- a collector that refuses some events: those go to the DLQ ----------------
start_collector col2
echo "reject poison" >col2/mode
cat >poison.yaml <<EOF
name: poison
source:
  type: generate
  config: { count: 5000, template: '{"n": {{seq}}, "tag": "{{pick ok ok ok ok ok ok ok ok ok ok ok poison}}"}' }
sink:
  type: http
  config: { url: "http://127.0.0.1:$CPORT/", batch_events: 200 }
dlq: { type: file, config: { path: out/poison-dlq.jsonl } }
EOF
"$WIRE" run --data-dir data2 poison.yaml 2>poison.log
check "poison: exit 0" [ $? = 0 ]
check "poison: good events delivered, refused ones dead-lettered with the reason" python3 -c '
import json
good = [json.loads(l) for l in open("col2/bodies") if l.strip()]
dead = [json.loads(l) for l in open("out/poison-dlq.jsonl")]
assert all(e["tag"] == "ok" for e in good), "a poison event was delivered"
assert all(d["event"]["tag"] == "poison" for d in dead), "a good event was dead-lettered"
ns = sorted([e["n"] for e in good] + [d["event"]["n"] for d in dead])
assert ns == list(range(5000)), "lost or duplicated: %d" % len(ns)
d = dead[0]
assert "400" in d["error"] and "poison event refused" in d["error"], d["error"]
assert d["stage"] == "sink http (sink)" and d["pipeline"] == "poison" and d["version"] == 1, d
assert d["attempts"] >= 1 and d["first_failed_at"].endswith("Z"), d
print("delivered %d, dead-lettered %d" % (len(good), len(dead)))
'
s=$(summary poison poison.log)
check "poison: in = out + dlq" [ "$(field "$s" in)" = $(($(field "$s" out) + $(field "$s" dlq))) ]

# --- transform errors with on_error: dlq --------------------------------------
cat >terr.yaml <<'EOF'
name: terr
source:
  type: generate
  config: { count: 1000, template: '{"n": {{seq}}}' }
transforms:
  - type: map
    config: { select: "n, 100 / (n % 5) AS x" }
    on_error: dlq
sink: { type: file, config: { path: out/terr.jsonl } }
dlq: { type: file, config: { path: out/terr-dlq.jsonl } }
EOF
"$WIRE" run --data-dir data3 terr.yaml 2>terr.log
check "transform dlq: exit 0" [ $? = 0 ]
check "transform dlq: failing events dead-lettered, others mapped" python3 -c '
import json
out = [json.loads(l) for l in open("out/terr.jsonl")]
dead = [json.loads(l) for l in open("out/terr-dlq.jsonl")]
assert [o["n"] for o in out] == [n for n in range(1000) if n % 5], "wrong output"
assert [d["event"]["n"] for d in dead] == list(range(0, 1000, 5)), "wrong dead letters"
assert dead[0]["stage"] == "transform map (transforms[0])", dead[0]["stage"]
assert "zero" in dead[0]["error"], dead[0]["error"]
'
s=$(summary terr terr.log)
check "transform dlq: summary dlq=200" [ "$(field "$s" dlq)" = 200 ]

# --- an injected fsync failure stops the pipeline; a restart completes exactly -
python3 -c '
with open("fs-in.jsonl","w") as f:
    for i in range(200000): f.write("{\"n\":%d}\n" % i)'
cat >fs.yaml <<'EOF'
name: fs
source: { type: file, config: { path: fs-in.jsonl, read_size: 16KB } }
sink: { type: file, config: { path: out/fs.jsonl } }
delivery: exactly-once
checkpoint: { interval: 50ms }
EOF
WIRE_FAULTS="fsync:after=3:count=1:match=out/fs.jsonl" "$WIRE" run --data-dir data4 fs.yaml >fs.log 2>&1
check "fsync failure: the pipeline stops (exit 1)" [ $? = 1 ]
check "fsync failure: the error names fsync and the file" grep -q "fsync out/fs.jsonl" fs.log
"$WIRE" run --data-dir data4 fs.yaml 2>>fs.log
check "fsync failure: a restart finishes" [ $? = 0 ]
check "fsync failure: output exact after recovery" cmp out/fs.jsonl fs-in.jsonl

# --- hot reload: SIGHUP with a changed, an invalid and an unchanged file ------------
HPORT=$(free_port)
cat >reload.yaml <<'EOF'
name: reload
source: { type: file, config: { path: app.jsonl, mode: tail, poll_interval: 50ms } }
transforms:
  - type: filter
    config: { where: "level = 'error'" }
sink: { type: file, config: { path: out/reload.jsonl } }
checkpoint: { interval: 200ms }
EOF
: >app.jsonl
emit() { for i in $(seq "$1" "$2"); do
    [ $((i % 2)) = 0 ] && l=error || l=info
    echo "{\"i\":$i,\"level\":\"$l\"}" >>app.jsonl
done; }
"$WIRE" run --data-dir data5 --http-addr "127.0.0.1:$HPORT" reload.yaml 2>reload.log &
pid=$!
T_PIDS+=("$pid")
emit 1 10
wait_for grep -q '"i":10' out/reload.jsonl
sed -i "s/level = 'error'/level = 'info'/" reload.yaml
kill -HUP "$pid"
wait_for grep -q 'pipeline reload version 2 started' reload.log
check "reload: a changed file restarts as version 2" grep -q 'pipeline reload version 2 started' reload.log
emit 11 20
wait_for grep -q '"i":19' out/reload.jsonl
check "reload: new filter from the change on, old positions kept (no replay)" [ \
    "$(python3 -c 'import json; print([json.loads(l)["i"] for l in open("out/reload.jsonl")])')" = \
    "[2, 4, 6, 8, 10, 11, 13, 15, 17, 19]" ]
cp reload.yaml reload.good
sed -i "s/level = 'info'/level = = 'info'/" reload.yaml
kill -HUP "$pid"
wait_for grep -q 'reload rejected' reload.log
check "reload: an invalid file is rejected with its position" grep -q "reload rejected: reload.yaml:5:" reload.log
check "reload: and the old version keeps running" grep -q "pipeline reload version 2 keeps running" reload.log
emit 21 22
wait_for grep -q '"i":21' out/reload.jsonl
check "reload: version 2 still delivering" grep -q '"i":21' out/reload.jsonl
cp reload.good reload.yaml
kill -HUP "$pid"
sleep 0.5
check "reload: an unchanged file is untouched (no version 3)" sh -c "! grep -q 'version 3 started' reload.log"

# the standalone HTTP endpoints and the accounting invariant at a quiescent point
check "http: /livez" curl -fsS "http://127.0.0.1:$HPORT/livez"
check "http: /readyz 200 with its lines" sh -c "curl -fsS http://127.0.0.1:$HPORT/readyz | grep -q '\[+\]pipelines ok'"
check "http: /status?key=pipelines.0.version" [ "$(curl -fsS "http://127.0.0.1:$HPORT/status?key=pipelines.0.version")" = 2 ]
curl -fsS "http://127.0.0.1:$HPORT/metrics" >metrics.txt
check "http: /metrics has per-pipeline counters" grep -q '^wire_pipeline_events_in_total{pipeline="reload"} 12$' metrics.txt
check "http: /metrics has per-stage counters" grep -q '^wire_stage_events_filtered_total{pipeline="reload",stage="transforms\[0\]",type="filter",kind="transform"} 6$' metrics.txt
check "http: /metrics has a checkpoint age" grep -q '^wire_pipeline_checkpoint_age_seconds{pipeline="reload"}' metrics.txt
check "http: in = out + filtered + dlq + dropped" python3 -c "
import json, urllib.request
s = json.load(urllib.request.urlopen('http://127.0.0.1:$HPORT/status'))
e = s['pipelines'][0]['events']
assert e['in'] == e['out'] + e['filtered'] + e['dead_lettered'] + e['dropped'], e
"
code=$(curl -s -o nope.json -w '%{http_code}' "http://127.0.0.1:$HPORT/nope")
check "http: unknown path -> 404 with a JSON error" [ "$code" = 404 ] && grep -q '"error"' nope.json
kill -TERM "$pid"
wait "$pid"
check "reload: SIGTERM exits 0" [ $? = 0 ]

# --- --watch picks up a change by itself ----------------------------------------
"$WIRE" run --data-dir data5 --watch reload.yaml 2>watch.log &
pid=$!
T_PIDS+=("$pid")
wait_for grep -q 'pipeline reload version 2 started' watch.log
sleep 1.1 # a different mtime second
sed -i "s/level = 'info'/level = 'error'/" reload.yaml
wait_for grep -q 'pipeline reload version 3 started' watch.log
check "--watch: the change is picked up as version 3" grep -q 'pipeline reload version 3 started' watch.log
kill -TERM "$pid"
wait "$pid"
check "--watch: SIGTERM exits 0" [ $? = 0 ]

finish
