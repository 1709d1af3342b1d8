#!/usr/bin/env bash
# Distributed pipelines under node loss, on 3 `wire serve` nodes on 127.0.0.1:
#
#  1. kill -9 whichever node runs the pipeline, 5 times (restarting each):
#     500,000 numbered events at a bounded rate into a file every node
#     shares; every number arrives, duplicates are confined to at most one
#     replay window per kill, each no longer than the events of a few
#     checkpoint intervals; the pipeline runs again elsewhere within
#     --node-timeout + 2 s (median reported); no assignment epoch ever
#     started twice, so a restarted node never ran its old pipelines.
#  2. A paused-then-revived node (SIGSTOP past --node-timeout, SIGCONT):
#     its checkpoints are refused (stale epoch), it stops its copy, and the
#     state keeps the new owner's epoch and progress.
#  3. kill -9 of the leader while another node runs the pipeline: the
#     pipeline keeps its node and epoch (not restarted), and its output
#     never stalls longer than a checkpoint interval (plus scheduling slack).
# Knobs: FAILOVER_EVENTS (500000), FAILOVER_RATE (10000/s),
# FAILOVER_NODE_TIMEOUT_MS (3000).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1
EVENTS=${FAILOVER_EVENTS:-500000}
RATE=${FAILOVER_RATE:-10000}
NT_MS=${FAILOVER_NODE_TIMEOUT_MS:-3000} # --node-timeout (the default is 5s; 3s keeps the test short)
NT="--node-timeout ${NT_MS}ms"

section kill5
check "kill5: 3 nodes formed" cluster_join 3 $NT
OUT=$TMP/kill5/out.jsonl
numbers_yaml numbers "$OUT" "$RATE" 500ms "$EVENTS" >"$TMP/kill5/p.yaml"
check "kill5: pipeline created" create_pipeline n1 "$TMP/kill5/p.yaml"
check "kill5: pipeline running" wait_until 30 running_on numbers
resume_ms=()
killed=()
for k in 1 2 3 4 5; do
    # let it make progress between kills
    target=$((EVENTS * k / 7))
    wait_until 120 has_lines "$OUT" "$target" || { echo "no progress to $target" >&2; break; }
    victim=$(running_on numbers) || { echo "not running before kill $k" >&2; break; }
    epoch=$(pfield_any numbers epoch)
    node_kill "$victim"
    t0=$(now_ms)
    killed+=("$victim")
    # running again, on another node, with a newer epoch
    moved() {
        local n e
        n=$(running_on numbers) && [ "$n" != "$victim" ] || return 1
        e=$(pfield_any numbers epoch) && [ "$e" -gt "$epoch" ]
    }
    if wait_until 60 moved; then
        ms=$(($(now_ms) - t0))
        resume_ms+=("$ms")
        echo "kill $k: $victim (epoch $epoch) -> $(running_on numbers) after $ms ms"
    else
        echo "kill $k: pipeline did not resume" >&2
        resume_ms+=(999999)
    fi
    node_start "$victim"
    check "kill5: $victim restarted and ready" wait_until 60 curl -sf --max-time 2 "http://${C_HTTP[$victim]}/readyz"
done
check_eq "kill5: 5 kills done" 5 "${#resume_ms[@]}"
median=$(printf '%s\n' "${resume_ms[@]}" | sort -n | sed -n 3p)
echo "resume after kill -9 (ms): ${resume_ms[*]}; median $median (bar: node-timeout ${NT_MS} + 2000)"
check "kill5: median resume within node-timeout + 2 s" test "$median" -le $((NT_MS + 2000))
finished() { [ "$(pfield_any numbers state)" = finished ]; }
check "kill5: pipeline finished" wait_until 240 finished
check "kill5: all numbers present, duplicates only in <= 5 replay windows" python3 - "$OUT" "$EVENTS" "$RATE" <<'EOF'
import json, sys
path, total, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = {}
bad = 0
with open(path) as f:
    for line in f:
        try:
            n = json.loads(line)["n"]
        except Exception:
            bad += 1
            continue
        seen[n] = seen.get(n, 0) + 1
missing = [n for n in range(total) if n not in seen]
dups = sorted(n for n, c in seen.items() if c > 1)
windows = []
for n in dups:
    if windows and n <= windows[-1][1] + 1:
        windows[-1][1] = n
    else:
        windows.append([n, n])
limit = rate * 3  # a window is what was produced since the last committed checkpoint
print(f"lines {sum(seen.values())}, distinct {len(seen)}, malformed {bad}, missing {len(missing)}, "
      f"duplicates {len(dups)} in windows {windows[:8]}")
ok = not missing and bad == 0 and len(windows) <= 5 and all(b - a + 1 <= limit for a, b in windows)
ok = ok and all(0 <= n < total for n in seen)
sys.exit(0 if ok else 1)
EOF
# no epoch was started twice: a restarted node ran none of its old assignments
check "kill5: every assignment epoch started exactly once" python3 - "$TMP"/kill5/n*.log <<'EOF'
import re, sys, collections
c = collections.Counter()
for p in sys.argv[1:]:
    for line in open(p, errors="replace"):
        m = re.search(r"pipeline numbers: version \d+ started here \(epoch (\d+)\)", line)
        if m:
            c[int(m.group(1))] += 1
print(dict(sorted(c.items())))
sys.exit(0 if c and all(v == 1 for v in c.values()) else 1)
EOF
check "kill5: nodes stop cleanly" node_term_all n1 n2 n3

section revived
check "revived: 3 nodes formed" cluster_join 3 $NT
OUT=$TMP/revived/out.jsonl
numbers_yaml sleeper "$OUT" 2000 200ms >"$TMP/revived/p.yaml"
check "revived: pipeline created" create_pipeline n2 "$TMP/revived/p.yaml"
check "revived: running" wait_until 30 running_on sleeper
victim=$(running_on sleeper)
epoch=$(pfield_any sleeper epoch)
kill -STOP "${C_PID[$victim]}"
moved_away() { local n; n=$(running_on sleeper) && [ "$n" != "$victim" ]; }
check "revived: moved while $victim was frozen" wait_until 30 moved_away
new_epoch=$(pfield_any sleeper epoch)
new_node=$(running_on sleeper)
kill -CONT "${C_PID[$victim]}"
stopped_there() { grep -q "pipeline sleeper: version 1 stopped here" "${C_LOG[$victim]}"; }
check "revived: the revived node stops its stale copy" wait_until 20 stopped_there
sleep 1
check_eq "revived: the state keeps the new owner" "$new_node $new_epoch" \
    "$(pfield "$new_node" sleeper node) $(pfield "$new_node" sleeper epoch)"
cp_epoch_ok() { # the newest checkpoint keeps advancing under the new owner
    local a b
    a=$(pfield "$new_node" sleeper checkpoint.id) && sleep 1 && b=$(pfield "$new_node" sleeper checkpoint.id) && [ "$b" -gt "$a" ]
}
check "revived: checkpoints still advance under the new owner" cp_epoch_ok
check "revived: the new epoch is newer" test "$new_epoch" -gt "$epoch"
check "revived: nodes stop cleanly" node_term_all n1 n2 n3

section leaderchange
check "leaderchange: 3 nodes formed" cluster_join 3 $NT
leader=$(leader_of n1)
follower=
for id in n1 n2 n3; do [ "$id" != "$leader" ] && { follower=$id; break; }; done
OUT=$TMP/leaderchange/out.jsonl
{ numbers_yaml steady "$OUT" 5000 1s; echo "placement: { node: $follower }"; } >"$TMP/leaderchange/p.yaml"
check "leaderchange: pipeline created" create_pipeline "$leader" "$TMP/leaderchange/p.yaml"
check "leaderchange: running on $follower" wait_until 30 runs_on steady "$follower"
epoch=$(pfield "$follower" steady epoch)
sleep 1
# sample the output size every 50 ms for 8 s around the leader's death
python3 - "$OUT" 8 >"$TMP/leaderchange/samples" <<'EOF' &
import os, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
end = time.time() + secs
while time.time() < end:
    print(f"{time.time():.3f} {os.path.getsize(path)}", flush=True)
    time.sleep(0.05)
EOF
SAMPLER=$!
sleep 1
node_kill "$leader"
wait "$SAMPLER"
others=()
for id in n1 n2 n3; do [ "$id" != "$leader" ] && others+=("$id"); done
check "leaderchange: a new leader" wait_leader 30 "${others[@]}"
check_eq "leaderchange: same node, same epoch (not restarted)" "$follower $epoch running" \
    "$(pfield "$follower" steady node) $(pfield "$follower" steady epoch) $(pfield "$follower" steady state)"
check "leaderchange: output never stalled longer than one checkpoint interval (+0.5 s)" \
    python3 - "$TMP/leaderchange/samples" <<'EOF'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
stall, last_t, last_s = 0.0, rows[0][0], rows[0][1]
for t, s in rows[1:]:
    if s > last_s:
        stall = max(stall, t - last_t)
        last_t, last_s = t, s
stall = max(stall, rows[-1][0] - last_t)
print(f"longest stall {stall:.3f} s over {rows[-1][0] - rows[0][0]:.1f} s")
sys.exit(0 if stall <= 1.5 else 1)
EOF
starts=$(grep -c "pipeline steady: version 1 started here" "$TMP"/leaderchange/n*.log | awk -F: '{s += $2} END {print s}')
check_eq "leaderchange: started once in all" 1 "$starts"
node_start "$leader"
check "leaderchange: old leader back" wait_until 60 curl -sf --max-time 2 "http://${C_HTTP[$leader]}/readyz"
check "leaderchange: nodes stop cleanly" node_term_all n1 n2 n3
finish
