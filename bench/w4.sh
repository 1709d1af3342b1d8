#!/usr/bin/env bash
# W4: `http` source -> `file` sink, fed by bench/loadgen (NDJSON batches of
# 100 events of ~200 B over keep-alive connections). Prints the loadgen's
# figures for a fixed offered rate (latency from request to write, p50/p99)
# and for a max-rate run, plus wire's CPU seconds and peak RSS; then the
# fixed rate again with `ack: committed` (answers after fdatasync + checkpoint).
#   bench/w4.sh WIRE_BINARY BUILD_DIR
# Knobs: W4_RATE (events/s, default 100000), W4_DURATION (s, 10), W4_CONNS (8).
set -euo pipefail
WIRE=$1
BUILD=${2:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/dev/shm/wire-bench}
RATE=${W4_RATE:-100000}
DURATION=${W4_DURATION:-10}
CONNS=${W4_CONNS:-8}
mkdir -p "$BENCH_DIR/out"
make -s -C "$ROOT" -f bench/loadgen.mk BUILD="$BUILD" "$BUILD/loadgen" >/dev/null
LOADGEN="$ROOT/$BUILD/loadgen"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
OUT="$BENCH_DIR/out/w4.jsonl"
rm -f "$OUT"
cat >"$BENCH_DIR/w4.yaml" <<EOF
name: w4
source: {type: http, config: {address: "127.0.0.1:$PORT"}}
sink: {type: file, config: {path: $OUT}}
EOF
/usr/bin/time -f '%e %U %S %M' -o "$BENCH_DIR/time.W4" \
    "$WIRE" run --data-dir "$BENCH_DIR/data" "$BENCH_DIR/w4.yaml" 2>"$BENCH_DIR/log.W4" &
TPID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.1
done
run() { # label, loadgen args...
    local label=$1
    shift
    echo "W4   $label"
    "$LOADGEN" --addr "127.0.0.1:$PORT" --duration "$DURATION" --conns "$CONNS" --out "$OUT" "$@" |
        sed 's/^/       /' || true
}
run "fixed rate $RATE events/s" --rate "$RATE"
run "max rate" --drain 10
# `time` runs wire as its child: signal wire itself
WPID=$(pgrep -P "$TPID" || true)
kill -INT "${WPID:-$TPID}" 2>/dev/null || true
wait "$TPID" || true
read -r wall user sys rss <"$BENCH_DIR/time.W4"
awk -v u="$user" -v s="$sys" -v r="$rss" -v w="$wall" 'BEGIN {
    printf "     wire over both runs: %.1f s wall, cpu %.2f s (user %.2f sys %.2f), peak RSS %.1f MB\n",
        w, u + s, u, s, r / 1024 }'

# the same fixed rate with ack: committed
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat >"$BENCH_DIR/w4c.yaml" <<EOF
name: w4c
source: {type: http, config: {address: "127.0.0.1:$PORT", ack: committed}}
sink: {type: file, config: {path: $OUT}}
EOF
"$WIRE" run --data-dir "$BENCH_DIR/data" "$BENCH_DIR/w4c.yaml" 2>"$BENCH_DIR/log.W4c" &
WPID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.1
done
run "fixed rate $RATE events/s, ack: committed" --rate "$RATE"
kill -INT "$WPID" 2>/dev/null || true
wait "$WPID" || true
