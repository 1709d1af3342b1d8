#!/usr/bin/env bash
# make bench: run Wire's workloads and print figures (never verdicts).
#   bench/run.sh BUILD_DIR [W1 W2 ...]
# Data lives on tmpfs (/dev/shm): this VM drops page cache within seconds.
set -euo pipefail
BUILD=${1:-build/release}
shift || true
WORKLOADS=${*:-W1 NX W2 W2n W2e W3 W4 W4t C1 C1t C2 K1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WIRE="$ROOT/$BUILD/wire"
export BENCH_DIR=${BENCH_DIR:-/dev/shm/wire-bench}
mkdir -p "$BENCH_DIR/out"
LINES=${BENCH_LINES:-2000000}

# Input for W2/W3 (kept between runs; regenerated if the size changes).
if [ ! -f "$BENCH_DIR/events.jsonl" ] || [ "$(cat "$BENCH_DIR/lines" 2>/dev/null)" != "$LINES" ]; then
    echo "generating $LINES events into $BENCH_DIR/events.jsonl (one-off, ~1 min)..."
    python3 "$ROOT/bench/gen_events.py" "$LINES" "$BENCH_DIR/events.jsonl" \
        --expect-error "$BENCH_DIR/expected-w2.jsonl"
    echo "$LINES" >"$BENCH_DIR/lines"
fi
INPUT_BYTES=$(stat -c %s "$BENCH_DIR/events.jsonl")

# run_pipeline NAME EVENTS BYTES FILE: runs `wire run`, prints one figure line
run_pipeline() {
    local name=$1 events=$2 bytes=$3 file=$4
    local tf="$BENCH_DIR/time.$name" log="$BENCH_DIR/log.$name"
    rm -f "$BENCH_DIR/out/"*
    rm -rf "$BENCH_DIR/data" # a fresh start: no checkpoint to resume from
    /usr/bin/time -f '%e %U %S %M' -o "$tf" "$WIRE" run --data-dir "$BENCH_DIR/data" "$file" 2>"$log"
    read -r wall user sys rss <"$tf"
    local lat
    lat=$(grep -o 'batch latency p50=[0-9.]*ms p99=[0-9.]*ms' "$log" | sed 's/batch latency //')
    echo "$name $(awk -v e="$events" -v w="$wall" 'BEGIN { printf "%.0f", e / w }')" >>"$BENCH_DIR/rates"
    awk -v n="$name" -v e="$events" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" \
        -v r="$rss" -v l="$lat" 'BEGIN {
        printf "%-4s %10d events %6.2f s  %9.0f events/s  %7.1f MB/s  cpu %.2f s (user %.2f sys %.2f)  peak RSS %.1f MB  %s\n",
            n, e, w, e / w, b / w / 1e6, u + s, u, s, r / 1024, l }'
}

rm -f "$BENCH_DIR/rates"
echo "wire bench ($(nproc) cores, $("$WIRE" version), input $LINES lines / $((INPUT_BYTES / 1000000)) MB on tmpfs)"
for w in $WORKLOADS; do
    case $w in
    W1)
        run_pipeline W1 10000000 0 "$ROOT/bench/pipelines/w1.yaml"
        ;;
    NX)
        # the Nexmark generator alone (issue 14): what q0-q8 will read
        run_pipeline NX 10000000 0 "$ROOT/bench/pipelines/nx.yaml"
        ;;
    W2 | W2n | W2e)
        # W2: defaults (at-least-once, 1s checkpoints); W2n: no checkpoints;
        # W2e: exactly-once with 1s checkpoints
        lc=$(echo "$w" | tr 'A-Z' 'a-z')
        run_pipeline "$w" "$LINES" "$INPUT_BYTES" "$ROOT/bench/pipelines/$lc.yaml"
        if cmp -s "$BENCH_DIR/out/$lc.jsonl" "$BENCH_DIR/expected-w2.jsonl"; then
            echo "     $w output equals the lines whose top-level level is 'error' (Python json): yes ($(wc -l <"$BENCH_DIR/out/$lc.jsonl") lines)"
        else
            echo "     $w output equals the lines whose top-level level is 'error' (Python json): NO"
        fi
        ;;
    W3)
        run_pipeline W3 "$LINES" "$INPUT_BYTES" "$ROOT/bench/pipelines/w3.yaml"
        ;;
    W4)
        "$ROOT/bench/w4.sh" "$WIRE" "$BUILD"
        ;;
    W4t)
        # W4's pipeline with TLS on and off, the same wrk client (issue 13)
        "$ROOT/bench/w4tls.sh" "$WIRE" || echo "W4t  failed (rc $?)"
        ;;
    C1)
        # 3-node cluster writes vs etcd 3.4, same client; leader failover
        "$ROOT/bench/cluster.sh" "$WIRE" "$BUILD" || echo "C1   failed (rc $?)"
        ;;
    C1t)
        # C1's writes with TLS between the nodes and without, one invocation (issue 13)
        "$ROOT/bench/kv_peer_tls.sh" "$WIRE" "$BUILD" || echo "C1t  failed (rc $?)"
        ;;
    K1)
        # mock Kafka -> filter -> mock Kafka beside kcat -C on the same topic
        "$ROOT/bench/kafka.sh" "$WIRE" "$BUILD" || echo "K1   failed (rc $?)"
        ;;
    C2)
        # W2 as a cluster pipeline (3 nodes, checkpoints through Raft) vs wire run
        "$ROOT/bench/cluster_pipeline.sh" "$WIRE" "$BUILD" || echo "C2   failed (rc $?)"
        ;;
    *) echo "unknown workload $w" >&2 ;;
    esac
done

# ratios between workloads of this same run
if [ -f "$BENCH_DIR/rates" ]; then
    awk '{ r[$1] = $2 } END {
        if (("W2e" in r) && ("W2n" in r))
            printf "W2e / W2n (exactly-once with 1s checkpoints vs no checkpoints): %.2f\n", r["W2e"] / r["W2n"]
        if (("W2" in r) && ("W2n" in r))
            printf "W2 / W2n (at-least-once with 1s checkpoints vs no checkpoints): %.2f\n", r["W2"] / r["W2n"]
    }' "$BENCH_DIR/rates"
fi
