#!/usr/bin/env bash
# test_write_elections.sh — writes ride through leader elections (issue 11).
# Three nodes, election timeout 1 s. A client writes 300 keys one at a time,
# each to the next node (any node), with a 3 s client timeout; meanwhile the
# leader is killed -9 twice and restarted. Every one of the 300 must be
# acknowledged, and afterwards present on every node.
# Then a forward whose leader dies after committing it, before answering
# (the WIRE_FAULT_EXIT_AFTER_COMMIT test hook): the follower sends it again to
# the next leader, and the client session makes it apply once — a pipeline
# create answers 201, not 409, and the pipeline is at version 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
cd "$TMP" || exit 1

section elections
check "3 nodes formed" cluster_join 3 --raft-election-timeout 1s --raft-heartbeat-timeout 100ms
ADDRS="${C_HTTP[n1]},${C_HTTP[n2]},${C_HTTP[n3]}"
python3 "$C_LIBDIR/kv_writer.py" "$ADDRS" 300 "$TMP/w.json" 3 >"$TMP/w.out" 2>&1 &
WP=$!
T_PIDS+=("$WP")
killed=()
for k in 1 2; do
    sleep 2.5
    L=$(wait_leader 20 n1 n2 n3) || { not_ok "kill $k: no leader"; break; }
    echo "  kill $k: leader $L"
    node_kill "$L"
    killed+=("$L")
    sleep 2
    node_start "$L"
done
wait "$WP"
cat "$TMP/w.out"
acked=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["acked"]))' "$TMP/w.json")
check_eq "300 of 300 writes acknowledged through two leader kills" 300 "$acked"
check "two different leaders were killed or the same twice (${killed[*]})" test "${#killed[@]}" = 2
check "all three nodes back with one leader" wait_leader 30 n1 n2 n3
python3 - "$TMP/w.json" >"$TMP/exp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump({k: "v%s" % k.split("-")[1] for k in d["acked"]}, sys.stdout)
PY
for id in n1 n2 n3; do
    check "every acknowledged key present on $id" eventually 30 kv_tool check "${C_HTTP[$id]}" "$TMP/exp.json"
done
check "no sanitizer reports in node logs" logs_clean

section once
# every node has the hook at first; whoever leads dies at the create
export WIRE_FAULT_EXIT_AFTER_COMMIT=once
check "3 nodes formed (with the exit-after-commit hook)" cluster_join 3 --raft-election-timeout 1s --raft-heartbeat-timeout 100ms
unset WIRE_FAULT_EXIT_AFTER_COMMIT
L=$(wait_leader 20 n1 n2 n3)
F=n1
[ "$L" = n1 ] && F=n2
# only the leader keeps the hook: restart the followers without it, one at a time
for id in n1 n2 n3; do
    [ "$id" = "$L" ] && continue
    node_term "$id" >/dev/null
    node_start "$id"
    wait_until 30 ready "$id" "?sync" || not_ok "$id back after its restart"
done
check_eq "the leader is still $L" "$L" "$(wait_leader 20 n1 n2 n3)"
cat >"$TMP/once.yaml" <<'YAML'
name: once
source: {type: generate, config: {count: 1}}
sink: {type: blackhole}
YAML
t0=$SECONDS
req POST "$F" /v1/pipelines "@$TMP/once.yaml"
echo "  POST via follower $F (leader $L): $R_CODE $R_BODY after $((SECONDS - t0))s"
check_eq "the create through a follower whose leader died mid-commit answers 201" 201 "$R_CODE"
wait "${C_PID[$L]}" 2>/dev/null
rc=$?
_untrack "${C_PID[$L]}"
C_PID[$L]=
check_eq "the leader $L exited by the hook (75), after committing" 75 "$rc"
check "its log says it committed and did not answer" grep -q 'exiting after committing index' "${C_LOG[$L]}"
node_start "$L" # without the hook now
check "the cluster has a leader again" wait_leader 30 n1 n2 n3
req GET "$F" /v1/pipelines/once
check_eq "pipeline once exists" 200 "$R_CODE"
check_eq "at version 1: the retried create did not apply again" 1 "$(echo "$R_BODY" | jget version)"
# membership rides through elections too: the leader killed -9, then at once a removal
# of it through a follower: answered 200 once a new leader took it; every live node logs it
section membership
check "3 nodes formed" cluster_join 3 --raft-election-timeout 1s --raft-heartbeat-timeout 100ms
L=$(wait_leader 20 n1 n2 n3)
read -ra F <<<"$(followers_of "$L" n1 n2 n3)"
node_kill "$L"
t0=$SECONDS
req DELETE "${F[0]}" /remove "{\"id\":\"$L\"}"
echo "  DELETE /remove $L via ${F[0]} right after killing it: $R_CODE $R_BODY after $((SECONDS - t0))s"
check_eq "removing the dead leader through a follower, at once: 200" 200 "$R_CODE"
check "  two voters left" wait_until 20 eval '[ "$(status_of "${F[0]}" raft.voters)" = 2 ]'
for id in "${F[@]}"; do
    check "  $id logs the removal of $L" wait_until 10 grep -q "cluster: member $L (.*) removed" "${C_LOG[$id]}"
done
# a live follower removed: it hears it from the leader and says so; the others log it
L=$(wait_leader 20 "${F[@]}")
read -ra G <<<"$(followers_of "$L" "${F[@]}")"
V=${G[0]}
req DELETE "$L" /remove "{\"id\":\"$V\"}"
check_eq "removing the live follower $V: 200" 200 "$R_CODE"
check "  $V logs that it was removed" wait_until 10 grep -q "removed this node from the cluster" "${C_LOG[$V]}"
check "  the leader $L logs it" wait_until 10 grep -q "cluster: member $V (.*) removed" "${C_LOG[$L]}"
req DELETE "$L" "/remove?timeout=soon" "{\"id\":\"$V\"}"
check_eq "/remove ?timeout=soon: 400" 400 "$R_CODE"
check "no sanitizer reports in node logs" logs_clean
finish
