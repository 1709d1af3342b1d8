#!/usr/bin/env bash
# test_node_stop.sh — SIGTERM stops a node within 10 s in every state it can
# be in: a leader running a pipeline, a leader that lost its quorum (its
# followers SIGSTOPped) while running one, a follower whose cluster is gone
# (candidate), a node joining an address nobody answers, a node waiting for
# --bootstrap-expect peers. Each exit is timed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1

# stopped_in ID: SIGTERM, wait at most 20 s; passes if it exited within 10 s
stopped_in() {
    local t0 t rc
    t0=$(now_ms)
    node_term "$1" 20
    rc=$?
    t=$(($(now_ms) - t0))
    echo "  $1: exit $rc after ${t} ms"
    [ "$t" -le 10000 ]
}

section leader
node_new n1 --node-timeout 3s
node_start n1
check "leader: ready" wait_until 30 ready n1
numbers_yaml nums "$TMP/leader.out" 100 1s >"$TMP/nums.yaml"
check "leader: a pipeline created" create_pipeline n1 "$TMP/nums.yaml"
check "leader: it runs" wait_until 30 runs_on nums n1
check "leader running a pipeline: SIGTERM exits within 10 s" stopped_in n1

section noquorum
check "no quorum: 3 nodes" cluster_join 3 --node-timeout 3s
L=$(wait_leader 20 n1 n2 n3)
numbers_yaml nums "$TMP/nq.out" 100 1s >"$TMP/nums.yaml"
sed -i "s|^name: nums|name: nums\nplacement: {node: $L}|" "$TMP/nums.yaml"
check "no quorum: a pipeline on the leader $L" create_pipeline "$L" "$TMP/nums.yaml"
check "no quorum: it runs there" wait_until 30 runs_on nums "$L"
for id in n1 n2 n3; do [ "$id" != "$L" ] && kill -STOP "${C_PID[$id]}"; done
sleep 1
check "leader without a quorum, running a pipeline: SIGTERM exits within 10 s" stopped_in "$L"
for id in n1 n2 n3; do [ "$id" != "$L" ] && kill -CONT "${C_PID[$id]}"; done

section candidate
check "candidate: 3 nodes" cluster_join 3
node_kill n1
node_kill n2
sleep 2
check "a follower whose cluster is gone (candidate): SIGTERM exits within 10 s" stopped_in n3

section joining
read -r dead < <(free_ports 1)
node_new j1 --join "127.0.0.1:$dead" --join-attempts 100 --join-interval 1s
node_start j1
sleep 2
check "joining an address nobody answers: still trying" node_alive j1
check "joining: SIGTERM exits within 10 s" stopped_in j1

section expect
read -r p1 p2 < <(free_ports 2)
node_new e1 --bootstrap-expect 3 --join "127.0.0.1:$p1,127.0.0.1:$p2" --bootstrap-expect-timeout 60s
node_start e1
sleep 2
check "waiting for --bootstrap-expect peers: still waiting" node_alive e1
check "bootstrap-expect: SIGTERM exits within 10 s" stopped_in e1
check "no sanitizer reports in node logs" logs_clean
finish
