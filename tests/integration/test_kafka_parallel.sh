#!/usr/bin/env bash
# test_kafka_parallel.sh — `parallelism: 3` on 3 `wire serve` nodes, from a
# 6-partition topic of librdkafka's mock cluster (tests/tools/kafka_mock):
#   - the three instances run on three distinct nodes, each owns partitions
#     (GET /v1/pipelines/NAME lists instances, nodes and splits);
#   - one node is killed -9: its partitions are consumed elsewhere (every
#     message produced after the kill arrives; the time it took is printed),
#     its instance is placed on a live node;
#   - with an exactly-once file sink per instance (out/part-{{instance}}.jsonl,
#     one directory shared by the nodes as a shared volume would be), the
#     union of the outputs holds every message exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1
MOCK=$(dirname "$WIRE")/tools/kafka_mock
command -v kcat >/dev/null || { not_ok "kcat is not installed (make deps)"; finish; }
[ -x "$MOCK" ] || { not_ok "$MOCK is not built (make unit-tests)"; finish; }
NT_MS=3000

mkfifo mock.ctl
"$MOCK" par:6 <mock.ctl >mock.out 2>mock.err &
T_PIDS+=("$!")
exec 9>mock.ctl
check "the mock cluster prints its bootstrap list" wait_for grep -q ':' mock.out
B=$(head -1 mock.out)
produce() { seq "$1" "$2" | sed 's/.*/{"n":&}/' | kcat -P -b "$B" -t par; }
N1=30000
N2=60000
produce 0 $((N1 - 1))

section par
check "3 nodes formed" cluster_join 3 --node-timeout ${NT_MS}ms
mkdir -p "$TMP/out"
cat >p.yaml <<EOF
name: kp
source:
  type: kafka
  config:
    brokers: "$B"
    topics: [par]
    librdkafka: {session.timeout.ms: "4000", heartbeat.interval.ms: "1000"}
sink: {type: file, config: {path: "$TMP/out/part-{{instance}}.jsonl"}}
delivery: exactly-once
checkpoint: {interval: 200ms}
parallelism: 3
EOF
check "a parallelism 3 pipeline is created" create_pipeline n1 p.yaml
pget() { curl -s --max-time 5 "http://${C_HTTP[$1]}/v1/pipelines/kp"; }
# "node:nsplits" per running instance, from any live node
inst() {
    local id
    for id in $(live_ids); do
        pget "$id" | python3 -c '
import json, sys
p = json.load(sys.stdin)
for i in p["instances"]:
    if i["state"] == "running":
        print("%s:%d" % (i["node"], len(i["splits"])))' && return 0
    done
    return 1
}
three_distinct() {
    local v
    v=$(inst) || return 1
    [ "$(echo "$v" | wc -l)" = 3 ] && [ "$(echo "$v" | cut -d: -f1 | sort -u | wc -l)" = 3 ] &&
        ! echo "$v" | grep -q ':0$'
}
check "three instances run on three nodes, each owning partitions" wait_until 60 three_distinct
check "GET shows parallelism 3 and instance numbers 0..2" \
    test "$(pget n1 | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["parallelism"], sorted(i["instance"] for i in p["instances"]))')" = "3 [0, 1, 2]"
total() { cat "$TMP"/out/part-*.jsonl 2>/dev/null | wc -l; }
check "the instances consume the backlog" wait_until 60 eval '[ "$(total)" -ge '$N1' ]'

# kill -9 a node that runs an instance, not the leader (elections are tested elsewhere)
leader=$(leader_of n1)
victim=
for id in n1 n2 n3; do [ "$id" != "$leader" ] && victim=$id && break; done
node_kill "$victim"
t0=$(now_ms)
produce $N1 $((N2 - 1))
# (the group gives a dead member's partitions away after its session timeout, 4 s here)
# every partition is consumed again: all N2 numbers arrive (those of the dead node's
# partitions only once its partitions moved)
check "after kill -9 of $victim every partition is consumed elsewhere" \
    wait_until 60 eval '[ "$(cat "$TMP"/out/part-*.jsonl | sort -u | wc -l)" -ge '$N2' ]'
took=$(($(now_ms) - t0))
echo "  all $N2 messages out $took ms after the kill (--node-timeout ${NT_MS} ms)"
# a figure, not an assertion (no timing assertions in make test): the closing note and
# docs/kafka.md report it against the issue's node-timeout + 5 s
on_live() {
    local v
    v=$(inst) || return 1
    [ "$(echo "$v" | wc -l)" = 3 ] && ! echo "$v" | grep -q "^$victim:"
}
check "the dead node's instance runs on a live node" wait_until 30 on_live
sleep 2 # a few checkpoints: nothing more may arrive
check "the union of the outputs holds every message exactly once" \
    test "$(cat "$TMP"/out/part-*.jsonl | wc -l)" = "$N2" -a \
    "$(cat "$TMP"/out/part-*.jsonl | python3 -c 'import sys,json; print(len({json.loads(l)["n"] for l in sys.stdin}))')" = "$N2"
check "nodes stop cleanly" node_term_all $(live_ids)
finish
