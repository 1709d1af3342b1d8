#!/usr/bin/env bash
# test_http_source.sh — the `http` source end to end through `wire run`:
# object / array / NDJSON accepted (200) and written; a bad line rejects the
# whole request (400 naming the line, nothing written); 413 over max_body;
# 404/405; 429 + Retry-After while a slow sink holds the pipeline full, with
# every accepted event delivered exactly once; SIGTERM stops it cleanly.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

PORT=$(free_port)
OUT=$TMP/out.jsonl
cat >"$TMP/p1.yaml" <<EOF
name: p1
source: {type: http, config: {address: "127.0.0.1:$PORT", path: /ingest, max_body: 4KB}}
sink: {type: file, config: {path: $OUT}}
EOF
"$WIRE" run --data-dir "$TMP/data" "$TMP/p1.yaml" >"$TMP/p1.log" 2>&1 &
WPID=$!
T_PIDS+=("$WPID")
URL="http://127.0.0.1:$PORT/ingest"
check "source listens" wait_for curl -s -o /dev/null "$URL"

# post BODY -> prints the status code; the answer body is in $TMP/body
post() {
    curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X POST --data-binary "$1" "$URL"
}
lines() { if [ -f "$OUT" ]; then wc -l <"$OUT"; else echo 0; fi; }
# wait until the output has N lines (the file sink writes asynchronously)
has_lines() { [ "$(lines)" -ge "$1" ]; }

check "object -> 200" test "$(post '{"n":1,"msg":"one"}')" = 200
check "answer counts it" grep -q '"accepted":1' "$TMP/body"
check "array -> 200" test "$(post '[{"n":2},{"n":3},{"n":4}]')" = 200
check "array answer" grep -q '"accepted":3' "$TMP/body"
check "ndjson -> 200" test "$(post $'{"n":5}\n\n{"n":6}\r\n{"n":7}\n')" = 200
check "pretty object -> 200" test "$(post $'{\n  "n": 8\n}\n')" = 200
check "8 events written" wait_for has_lines 8
check "written in order, one line each" \
    test "$(python3 -c 'import json,sys; print(",".join(str(json.loads(l)["n"]) for l in open(sys.argv[1])))' "$OUT")" = "1,2,3,4,5,6,7,8"
check "object bytes kept verbatim" grep -qx '{"n":1,"msg":"one"}' "$OUT"

check "bad line 3 -> 400" test "$(post $'{"n":9}\n{"n":10}\n{"n":,}\n{"n":12}\n')" = 400
check "error names line 3" grep -q '"error":"line 3' "$TMP/body"
check "bad array element -> 400" test "$(post '[{"n":9}, 5]')" = 400
check "error names element 2" grep -q 'element 2' "$TMP/body"
check "not JSON -> 400" test "$(post 'hello')" = 400
check "empty body -> 200, 0 events" test "$(post '')" = 200
BIG=$(python3 -c 'print("{\"pad\":\"" + "x"*5000 + "\"}")')
check "oversized -> 413" test "$(post "$BIG")" = 413
check "413 has a JSON error" grep -q '"error"' "$TMP/body"
check "GET -> 405" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 405
check "other path -> 404" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "http://127.0.0.1:$PORT/x")" = 404
sleep 0.3
check "nothing from rejected requests written" test "$(lines)" = 8

kill -TERM "$WPID"
wait "$WPID"
RC=$?
check "SIGTERM -> exit 0" test "$RC" = 0
check "summary line: in=8 out=8 invalid=3" grep -q "pipeline p1 .*in=8 out=8.*invalid=3" "$TMP/p1.log"

# ---- backpressure: a slow http sink behind a tiny buffer -> 429 + Retry-After
CPORT=$(free_port)
CDIR=$TMP/collector
mkdir -p "$CDIR"
echo "slow 0.3" >"$CDIR/mode"
python3 "$HERE/collector.py" "$CPORT" "$CDIR" &
T_PIDS+=("$!")
check "collector up" wait_for test -f "$CDIR/ready"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/ingest"
cat >"$TMP/p2.yaml" <<EOF
name: p2
source: {type: http, config: {address: "127.0.0.1:$PORT", path: /ingest, retry_after: 2s}}
sink: {type: http, config: {url: "http://127.0.0.1:$CPORT/bulk", batch_events: 100, linger: 0s}}
buffer: {max_bytes: 16KB}
EOF
"$WIRE" run --data-dir "$TMP/data" "$TMP/p2.yaml" >"$TMP/p2.log" 2>&1 &
WPID=$!
T_PIDS+=("$WPID")
check "p2 listens" wait_for curl -s -o /dev/null "$URL"
BATCH=$(python3 -c 'import json; print("\n".join(json.dumps({"i": i, "pad": "y"*150}) for i in range(100)))')
ok200=0
n429=0
for i in $(seq 1 30); do
    code=$(post "$BATCH")
    case $code in
    200) ok200=$((ok200 + 1)) ;;
    429) n429=$((n429 + 1)); grep -qi '^Retry-After: 2' "$TMP/headers" && ra=yes ;;
    esac
done
check "pipeline full -> 429 ($n429 of 30)" test "$n429" -gt 0
check "429 carries Retry-After: 2" test "${ra:-no}" = yes
echo ok >"$CDIR/mode"
delivered() { [ -f "$CDIR/bodies" ] && [ "$(wc -l <"$CDIR/bodies")" -ge $((ok200 * 100)) ]; }
check "every accepted event delivered ($ok200 requests)" wait_for delivered
sleep 0.3
check "exactly once" test "$(wc -l <"$CDIR/bodies")" = $((ok200 * 100))
kill -TERM "$WPID"
wait "$WPID"
check "p2 exits 0" test $? = 0

# ---- ack: committed: 200 only once the sink has durably accepted the events
rm -f "$CDIR/bodies"
echo "503 100000" >"$CDIR/mode"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/"
cat >"$TMP/p3.yaml" <<EOF
name: p3
source: {type: http, config: {address: "127.0.0.1:$PORT", ack: committed}}
sink: {type: http, config: {url: "http://127.0.0.1:$CPORT/bulk", linger: 0s}}
EOF
"$WIRE" run --data-dir "$TMP/data3" "$TMP/p3.yaml" >"$TMP/p3.log" 2>&1 &
WPID=$!
T_PIDS+=("$WPID")
check "p3 listens" wait_for curl -s -o /dev/null "$URL"
# bg_post NAME BODY: POST in the background; NAME.code gets the status once answered
bg_post() {
    (curl -s -o "$TMP/$1.body" -D "$TMP/$1.headers" -w '%{http_code}' --max-time 30 \
        -X POST --data-binary "$2" "$URL" >"$TMP/$1.tmp"; mv "$TMP/$1.tmp" "$TMP/$1.code") &
}
bg_post c1 $'{"k":1}\n{"k":2}'
sleep 1.5
check "committed: no answer while the sink is down" test ! -e "$TMP/c1.code"
echo ok >"$CDIR/mode"
check "committed: 200 once the sink accepted" wait_for grep -qx 200 "$TMP/c1.code"
check "committed: the events were delivered before the answer" \
    test "$(grep -c '"k"' "$CDIR/bodies")" = 2
echo "503 100000" >"$CDIR/mode"
bg_post c2 '{"k":3}'
sleep 1
check "committed: waiting again while the sink is down" test ! -e "$TMP/c2.code"
kill -TERM "$WPID"
check "committed: 503 for what was not committed at stop" wait_for grep -qx 503 "$TMP/c2.code"
check "committed: 503 carries Retry-After" grep -qi '^Retry-After:' "$TMP/c2.headers"
wait "$WPID"
finish
