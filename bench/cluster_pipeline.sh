#!/usr/bin/env bash
# C2: W2 (file -> filter level = 'error' -> file, 1s checkpoints) as a
# cluster pipeline on 3 `wire serve` nodes, against the same document under
# `wire run`, alternating, C2_ROUNDS times each (default 3); medians.
#   bench/cluster_pipeline.sh WIRE BUILD      (run.sh calls it; BENCH_DIR set)
# The cluster figure is the runner's own: from the moment its node starts
# the pipeline to the moment its last thread ends (logged by runners.c), so
# both sides count the same work; submit→finished (placement and the state
# polling included) is printed beside it.
set -uo pipefail
WIRE=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:?}
export BENCH_DIR
ROUNDS=${C2_ROUNDS:-3}
LINES=$(cat "$BENCH_DIR/lines")
D=$BENCH_DIR/c2
rm -rf "$D"
mkdir -p "$D" "$BENCH_DIR/out"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

read -r -a PORTS < <(python3 -c '
import socket
ss = []
for _ in range(6):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))')
http() { echo "127.0.0.1:${PORTS[$((2 * ($1 - 1)))]}"; }
raft() { echo "127.0.0.1:${PORTS[$((2 * ($1 - 1) + 1))]}"; }
start() {
    local i=$1
    shift
    "$WIRE" serve --node-id "n$i" --http-addr "$(http "$i")" --raft-addr "$(raft "$i")" \
        --raft-dir "$D/n$i" --allowed-paths "$D" "$@" >>"$D/n$i.log" 2>&1 &
    PIDS+=($!)
}
ready() { curl -sf --max-time 2 "http://$(http "$1")/readyz" >/dev/null; }
waitfor() { # waitfor SECS CMD...
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}
start 1
waitfor 30 ready 1 || { echo "C2   node n1 did not start"; exit 1; }
start 2 --join "$(raft 1)"
start 3 --join "$(raft 1)"
waitfor 60 ready 2 && waitfor 60 ready 3 || { echo "C2   cluster did not form"; exit 1; }
sleep 1

# light polling (curl + grep, 5 a second): the harness must not steal the 2 cores
finished() {
    curl -s --max-time 5 "http://$(http 1)/v1/pipelines/w2" | grep -q '"state":"finished"'
}
now() { date +%s.%N; }

run_rates=()
cluster_rates=()
submit_secs=()
ok=yes
for r in $(seq 1 "$ROUNDS"); do
    # wire run (standalone, local checkpoints)
    rm -f "$BENCH_DIR/out/w2.jsonl"
    rm -rf "$D/run-data"
    t0=$(now)
    "$WIRE" run --data-dir "$D/run-data" "$ROOT/bench/pipelines/w2.yaml" 2>"$D/run.log"
    t1=$(now)
    run_rates+=("$(python3 -c "print(round($LINES / ($t1 - $t0)))")")
    cmp -s "$BENCH_DIR/out/w2.jsonl" "$BENCH_DIR/expected-w2.jsonl" || ok=no

    # the same document as a cluster pipeline (checkpoints through Raft)
    rm -f "$BENCH_DIR/out/w2.jsonl"
    curl -s --max-time 10 -X DELETE "http://$(http 2)/v1/pipelines/w2" >/dev/null
    t0=$(now)
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
        -H 'Content-Type: application/yaml' --data-binary @"$ROOT/bench/pipelines/w2.yaml" \
        "http://$(http 2)/v1/pipelines")
    [ "$code" = 201 ] || { echo "C2   submit answered $code"; exit 1; }
    waitfor 120 finished || { echo "C2   pipeline did not finish"; exit 1; }
    t1=$(now)
    submit_secs+=("$(python3 -c "print(f'{$t1 - $t0:.2f}')")")
    rate=$(cat "$D"/n*.log | grep -o 'pipeline w2: finished after [0-9.]*s, [0-9]* events in ([0-9]* events/s)' |
        tail -1 | sed -E 's/.*\(([0-9]+) events\/s\)/\1/')
    cluster_rates+=("${rate:-0}")
    cmp -s "$BENCH_DIR/out/w2.jsonl" "$BENCH_DIR/expected-w2.jsonl" || ok=no
done
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mr=$(med "${run_rates[@]}")
mc=$(med "${cluster_rates[@]}")
echo "C2   W2 under wire run:                       median $mr events/s (rounds: ${run_rates[*]})"
echo "C2   W2 as a pipeline of a 3-node cluster:    median $mc events/s (rounds: ${cluster_rates[*]}); submit -> finished ${submit_secs[*]} s"
awk -v c="$mc" -v r="$mr" 'BEGIN { printf "C2   cluster / wire run: %.2f\n", c / r }'
echo "C2   outputs equal the expected W2 lines in every round: $ok"
