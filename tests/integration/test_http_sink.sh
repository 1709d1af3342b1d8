#!/usr/bin/env bash
# test_http_sink.sh — the `http` sink end to end through `wire run`, against
# tests/integration/collector.py: every event delivered exactly once and in
# order, split by batch_events and batch_bytes, NDJSON content type; a
# collector answering 503 for a while loses nothing and duplicates nothing;
# a 400 fails the pipeline with a message naming the status and the URL.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

CPORT=$(free_port)
CDIR=$TMP/collector
mkdir -p "$CDIR"
python3 "$HERE/collector.py" "$CPORT" "$CDIR" &
T_PIDS+=("$!")
check "collector up" wait_for test -f "$CDIR/ready"
CURL="http://127.0.0.1:$CPORT/bulk"

reset() { rm -f "$CDIR/bodies" "$CDIR/requests" "$CDIR/seen" "$CDIR/mode"; }
# pipeline NAME COUNT SINK_CONFIG -> runs it to completion, returns its exit code
pipeline() {
    cat >"$TMP/$1.yaml" <<EOF
name: $1
source: {type: generate, config: {count: $2, batch: 300, template: '{"seq":{{seq}},"msg":"event number {{seq}}"}'}}
sink: {type: http, config: $3}
EOF
    timeout 60 "$WIRE" run --data-dir "$TMP/data" "$TMP/$1.yaml" >"$TMP/$1.log" 2>&1
}
# exact COUNT: the collector got seq 0..COUNT-1 once each, in order
exact() {
    python3 - "$CDIR/bodies" "$1" <<'EOF'
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1], "rb")]
want = list(range(int(sys.argv[2])))
if seqs != want:
    print("got %d events, first mismatch at %s" % (len(seqs),
          next((i for i, (a, b) in enumerate(zip(seqs, want)) if a != b), min(len(seqs), len(want)))))
    sys.exit(1)
EOF
}
max_lines_per_request() { awk 'BEGIN{m=0} {if ($1>m) m=$1} END{print m}' "$CDIR/requests"; }

reset
check "2500 events -> exit 0" pipeline s1 2500 "{url: \"$CURL\", batch_events: 1000, headers: {X-Token: t0k}}"
check "exactly once, in order" exact 2500
check "no request over batch_events" test "$(max_lines_per_request)" -le 1000
check "split into >= 3 requests" test "$(wc -l <"$CDIR/requests")" -ge 3
check "Content-Type application/x-ndjson" grep -q ' application/x-ndjson$' "$CDIR/requests"
check "configured header sent" grep -q ' t0k ' "$CDIR/requests"

reset
check "batch_bytes 4KB -> exit 0" pipeline s2 1000 "{url: \"$CURL\", batch_bytes: 4KB}"
check "exactly once (batch_bytes)" exact 1000
check "no request over 4KB" test "$(awk 'BEGIN{m=0} {if ($2>m) m=$2} END{print m}' "$CDIR/requests")" -le 4096

reset
echo "503 3" >"$CDIR/mode"
check "503 x3 then ok -> exit 0" pipeline s3 2000 "{url: \"$CURL\", batch_events: 500, content_type: application/json}"
check "exactly once after 503s" exact 2000
check "collector answered 503 three times" test "$(grep -c 503 "$CDIR/seen")" = 3
check "retries logged with the status" grep -q 'answered 503' "$TMP/s3.log"
check "custom content_type" grep -q ' application/json$' "$CDIR/requests"

reset
echo "400" >"$CDIR/mode"
pipeline s4 100 "{url: \"$CURL\"}"
RC=$?
check "400 -> pipeline fails (exit $RC)" test "$RC" != 0
check "error names status and URL" grep -q "answered 400.*bad batch" "$TMP/s4.log"
check "error names the URL" grep -q "$CURL" "$TMP/s4.log"

reset
DEAD=$(free_port)
cat >"$TMP/s5.yaml" <<EOF
name: s5
source: {type: generate, config: {count: 10}}
sink: {type: http, config: {url: "http://127.0.0.1:$DEAD/", connect_timeout: 200ms}}
EOF
"$WIRE" run --data-dir "$TMP/data" "$TMP/s5.yaml" >"$TMP/s5.log" 2>&1 &
WPID=$!
T_PIDS+=("$WPID")
check "connection refused is retried" wait_for grep -q 'retrying' "$TMP/s5.log"
kill -TERM "$WPID"
wait "$WPID"
check "stops on SIGTERM while the collector is down" test $? -le 1
finish
