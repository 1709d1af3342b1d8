#!/usr/bin/env bash
# W4t: W4's pipeline (`http` source -> `file` sink) with TLS on and off in
# the same invocation, the same client (wrk, 2 threads, 8 keep-alive
# connections, 100-event NDJSON batches: bench/ingest.lua), so the ratio is
# the cost of TLS alone. Issue 13's target: TLS >= 0.7x of plain. Prints
# events/s, MB/s, p50/p99/p99.9 and wire's CPU seconds and peak RSS per arm.
#   bench/w4tls.sh WIRE_BINARY
# Knobs: W4T_DURATION (s, 10), W4T_CONNS (8).
set -euo pipefail
WIRE=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/dev/shm/wire-bench}
DURATION=${W4T_DURATION:-10}
CONNS=${W4T_CONNS:-8}
PKI=$BENCH_DIR/pki
mkdir -p "$BENCH_DIR/out" "$PKI"
if [ ! -s "$PKI/server.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 30 \
        -subj /CN=bench-ca >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -keyout "$PKI/server.key" -out "$PKI/server.csr" \
        -subj /CN=127.0.0.1 >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1\n' >"$PKI/server.ext"
    openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
        -CAcreateserial -out "$PKI/server.crt" -days 30 -extfile "$PKI/server.ext" >/dev/null 2>&1
fi
arm() { # arm LABEL SCHEME TLSBLOCK: prints the figure line; RESULT_<LABEL> the events/s
    local label=$1 scheme=$2 tls=$3 port out="$BENCH_DIR/out/w4t.jsonl"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    rm -f "$out"
    rm -rf "$BENCH_DIR/data-w4t"
    cat >"$BENCH_DIR/w4t.yaml" <<EOF2
name: w4t
source: {type: http, config: {address: "127.0.0.1:$port"$tls}}
sink: {type: file, config: {path: $out}}
EOF2
    /usr/bin/time -f '%e %U %S %M' -o "$BENCH_DIR/time.W4t" \
        "$WIRE" run --data-dir "$BENCH_DIR/data-w4t" "$BENCH_DIR/w4t.yaml" 2>"$BENCH_DIR/log.W4t" &
    local tpid=$!
    for _ in $(seq 1 100); do
        curl -sk -o /dev/null "$scheme://127.0.0.1:$port/" && break
        sleep 0.1
    done
    local res
    res=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/ingest.lua" "$scheme://127.0.0.1:$port/" |
        grep '^RESULT' || true)
    local wpid
    wpid=$(pgrep -P "$tpid" || true)
    kill -INT "${wpid:-$tpid}" 2>/dev/null || true
    wait "$tpid" || true
    local wall user sys rss
    # the last line: `time` says first when the exit status was not 0 (SIGINT)
    read -r wall user sys rss < <(tail -n 1 "$BENCH_DIR/time.W4t")
    local events_per_s=0 mb_per_s=0 p50_ms=0 p99_ms=0 p999_ms=0 max_ms=0 errors='?' kv
    for kv in ${res#RESULT }; do local "$kv"; done
    awk -v l="$label" -v e="$events_per_s" -v m="$mb_per_s" -v a="$p50_ms" -v b="$p99_ms" \
        -v c="$p999_ms" -v x="$errors" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
        printf "W4t  %-5s %9.0f events/s  %6.1f MB/s  p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  non-2xx+errors %s (429: the pipeline full)  wire cpu %.2f s  peak RSS %.1f MB\n",
            l, e, m, a, b, c, x, u + s, r / 1024 }'
    printf -v "RESULT_$label" %s "$events_per_s"
}
arm plain http ""
arm tls https ", tls: {crt_file: $PKI/server.crt, key_file: $PKI/server.key}"
awk -v t="$RESULT_tls" -v p="$RESULT_plain" 'BEGIN {
    if (p > 0) printf "W4t  TLS / plain: %.2f (issue 13 target >= 0.7)\n", t / p }'
