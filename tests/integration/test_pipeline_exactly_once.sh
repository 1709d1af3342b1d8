#!/usr/bin/env bash
# Exactly-once across nodes: a cluster pipeline with `delivery: exactly-once`
# into a file every node shares. kill -9 the node that runs it, 3 times
# (restarting each); the node that takes over truncates the file to the
# length recorded in the last checkpoint committed through Raft before it
# writes, so at the end the file holds every number exactly once, in order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1
EVENTS=${EXACTLY_EVENTS:-150000}

section exactly
check "exactly: 3 nodes formed" cluster_join 3 --node-timeout 3s
OUT=$TMP/exactly/out.jsonl
{ numbers_yaml exact "$OUT" 10000 300ms "$EVENTS"; echo "delivery: exactly-once"; } >"$TMP/exactly/p.yaml"
req POST n2 /v1/pipelines "@$TMP/exactly/p.yaml"
check_eq "exactly: created" 201 "$R_CODE"
check "exactly: running" wait_until 30 running_on exact
for k in 1 2 3; do
    wait_until 120 has_lines "$OUT" $((EVENTS * k / 5)) || echo "no progress before kill $k" >&2
    victim=$(running_on exact) || { echo "not running before kill $k" >&2; break; }
    node_kill "$victim"
    moved() { local n; n=$(running_on exact) && [ "$n" != "$victim" ]; }
    check "exactly: kill $k of $victim: runs elsewhere" wait_until 60 moved
    node_start "$victim"
    check "exactly: $victim back" wait_until 60 curl -sf --max-time 2 "http://${C_HTTP[$victim]}/readyz"
done
finished() { [ "$(pfield_any exact state)" = finished ]; }
check "exactly: finished" wait_until 120 finished
check "exactly: every number once, in order" python3 - "$OUT" "$EVENTS" <<'EOF'
import json, sys
ns = [json.loads(l)["n"] for l in open(sys.argv[1])]
ok = ns == list(range(int(sys.argv[2])))
print(f"{len(ns)} lines, in order and complete: {ok}")
sys.exit(0 if ok else 1)
EOF
check "exactly: nodes stop cleanly" node_term_all n1 n2 n3
finish
