#!/usr/bin/env bash
# Planned moves: a node stopped with SIGTERM drains its pipelines, commits
# their final checkpoints and hands the assignments back, so they resume on
# other nodes at once (well inside a long --node-timeout), where the last
# one stopped: across a rolling restart of all three nodes an at-least-once
# pipeline's output has no gap and no duplicate. And a node removed from the
# cluster (DELETE /remove) while it runs a pipeline fences itself; the
# pipeline moves to a member after --node-timeout with nothing missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1

section handover
check "handover: 3 nodes formed (--node-timeout 15s)" cluster_join 3 --node-timeout 15s
OUT=$TMP/handover/out.jsonl
numbers_yaml rolling "$OUT" 3000 1s >"$TMP/handover/p.yaml"
req POST n1 /v1/pipelines "@$TMP/handover/p.yaml"
check_eq "handover: created" 201 "$R_CODE"
check "handover: running" wait_until 30 running_on rolling
moves=()
for k in 1 2 3; do
    sleep 1
    victim=$(running_on rolling) || { echo "not running before stop $k" >&2; break; }
    t0=$(now_ms)
    check "handover: SIGTERM $victim: clean exit" node_term "$victim" 30
    moved() { local n; n=$(running_on rolling) && [ "$n" != "$victim" ]; }
    if wait_until 30 moved; then
        moves+=($(($(now_ms) - t0)))
    else
        moves+=(999999)
    fi
    check "handover: output grows after stop $k" wait_until 10 grows "$OUT"
    node_start "$victim"
    check "handover: $victim back" wait_until 60 curl -sf --max-time 2 "http://${C_HTTP[$victim]}/readyz"
done
echo "SIGTERM -> running elsewhere (ms, including the drain): ${moves[*]}"
slow=0
for m in "${moves[@]}"; do [ "$m" -lt 8000 ] || slow=$((slow + 1)); done
check_eq "handover: every move well inside --node-timeout (15 s)" 0 "$slow"
req POST n2 /v1/pipelines/rolling/pause
paused() { [ "$(pfield_any rolling state)" = paused ]; }
check "handover: paused" wait_until 30 paused
sleep 1
check "handover: no gap and no duplicate across 3 planned moves" python3 - "$OUT" <<'EOF'
import json, sys
ns = [json.loads(l)["n"] for l in open(sys.argv[1])]
print(f"{len(ns)} lines, up to {ns[-1] if ns else None}")
sys.exit(0 if ns and ns == list(range(len(ns))) else 1)
EOF
check "handover: nodes stop cleanly" node_term_all n1 n2 n3

# A node removed from the cluster while it runs a pipeline: it stops getting
# heartbeats and fences itself; after --node-timeout the pipeline runs on a
# member, and nothing is missing.
section removed
check "removed: 3 nodes formed" cluster_join 3 --node-timeout 3s
OUT=$TMP/removed/out.jsonl
leader=$(leader_of n1)
victim=
other=
for id in n1 n2 n3; do
    [ "$id" = "$leader" ] && continue
    if [ -z "$victim" ]; then victim=$id; else other=$id; fi
done
{ numbers_yaml rolling "$OUT" 3000 1s; echo "placement: { node: $victim }"; } >"$TMP/removed/p.yaml"
check "removed: created" create_pipeline "$leader" "$TMP/removed/p.yaml"
check "removed: running on $victim" wait_until 30 runs_on rolling "$victim"
# unpin (version 2 stays where it runs), so that it may move when $victim goes
numbers_yaml rolling "$OUT" 3000 1s >"$TMP/removed/p2.yaml"
req PUT "$leader" /v1/pipelines/rolling "@$TMP/removed/p2.yaml"
check_eq "removed: unpinned (version 2)" 200 "$R_CODE"
v2_on_victim() { [ "$(pfield "$leader" rolling version)" = 2 ] && runs_on rolling "$victim"; }
check "removed: version 2 runs on $victim" wait_until 30 v2_on_victim
sleep 1
req DELETE "$other" /remove "{\"id\":\"$victim\"}"
check_eq "removed: DELETE /remove $victim" 200 "$R_CODE"
member_runs() { local n; n=$(pfield "$other" rolling node) && [ "$n" != "$victim" ] && state_is "$other" rolling running; }
check "removed: runs on a member" wait_until 30 member_runs
fenced() { grep -q "pipeline rolling: version 2 stopped here: fenced" "${C_LOG[$victim]}"; }
check "removed: the removed node fenced itself" wait_until 20 fenced
check "removed: output grows" wait_until 10 grows "$OUT"
req POST "$other" /v1/pipelines/rolling/pause
paused_here() { state_is "$other" rolling paused; }
check "removed: paused" wait_until 30 paused_here
sleep 1
check "removed: no number missing" python3 - "$OUT" <<'EOF2'
import json, sys
ns = sorted(set(json.loads(l)["n"] for l in open(sys.argv[1])))
print(f"{len(ns)} distinct, up to {ns[-1] if ns else None}")
sys.exit(0 if ns and ns == list(range(len(ns))) else 1)
EOF2
check "removed: nodes stop cleanly" node_term_all n1 n2 n3
finish
