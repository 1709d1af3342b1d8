#!/usr/bin/env bash
# test_kv_reads.sh — KV read levels through the real binary: the default read
# is linearizable (a write acknowledged by one node is read back at once on
# another, on one connection each), ?level=stale (or none) reads the node's
# own copy and is what a node without a leader still answers, and an unknown
# level is a 400 naming the levels.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
cd "$TMP" || exit 1

section reads
check "3 nodes formed" cluster_join 3
ADDRS="${C_HTTP[n1]},${C_HTTP[n2]},${C_HTTP[n3]}"
check "read your writes: 200 PUTs, each read back at once on another node with the default level" \
    kv_tool_ryw "$ADDRS" 200
req PUT n2 /v1/kv/one 1
req GET n3 /v1/kv/one
check_eq "default GET on another node: the value" "200 1" "$R_CODE $R_BODY"
for lv in strong linearizable weak; do
    req GET n3 "/v1/kv/one?level=$lv"
    check_eq "?level=$lv: 200 with the value" "200 1" "$R_CODE $R_BODY"
done
reads_one() { req GET n3 "/v1/kv/one?level=$1"; [ "$R_CODE $R_BODY" = "200 1" ]; }
for lv in stale none; do
    check "?level=$lv: n3's own copy, which has the value once n3 applied it" eventually 10 reads_one "$lv"
done
req GET n1 "/v1/kv/one?level=bogus"
check_eq "?level=bogus: 400" 400 "$R_CODE"
check "  the error names the levels" eval 'echo "$R_BODY" | grep -q "strong (the default), weak or stale"'
# a node alone (the other two gone): the default read has no leader to ask; stale still answers
L=$(wait_leader 20 n1 n2 n3)
for id in n1 n2 n3; do [ "$id" != n3 ] && node_kill "$id"; done
req GET n3 "/v1/kv/one?level=stale"
check_eq "alone, ?level=stale: its own copy" "200 1" "$R_CODE $R_BODY"
req GET n3 /v1/kv/one
check "alone, the default read cannot be linearizable: 503 (got $R_CODE)" test "$R_CODE" = 503
# a write with no leader waits up to its ?timeout= (not the 5 s default), then 503 + Retry-After
hdr=$(curl -s -D - -o "$TMP/alone.body" --max-time 4 -X PUT --data-binary v \
    "http://${C_HTTP[n3]}/v1/kv/alone?timeout=300ms" 2>/dev/null | tr -d '\r')
check "alone, PUT ?timeout=300ms: 503 within the client's 4 s" eval 'echo "$hdr" | grep -q "^HTTP/1.1 503"'
check "  with Retry-After" eval 'echo "$hdr" | grep -qi "^Retry-After: [1-9]"'
check "  and a JSON error saying no leader took it" grep -q '"error":".*leader' "$TMP/alone.body"
req PUT n3 "/v1/kv/alone?timeout=soon" v
check_eq "PUT ?timeout=soon: 400" 400 "$R_CODE"
req POST n3 "/v1/pipelines?timeout=0s" "name: x"
check_eq "POST /v1/pipelines ?timeout=0s: 400 (1ms to 1h)" 400 "$R_CODE"
req PATCH n3 "/v1/kv/alone"
check_eq "PATCH /v1/kv/KEY: 405" 405 "$R_CODE"
check "  naming the methods it has" eval 'echo "$R_BODY" | grep -q "GET, PUT, DELETE"'
check "no sanitizer reports in node logs" logs_clean
finish
