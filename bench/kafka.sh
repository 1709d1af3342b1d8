#!/usr/bin/env bash
# K1: mock Kafka (6 partitions) -> filter -> mock Kafka, beside kcat -C
# consuming the same topic to /dev/null in the same run.
#   bench/kafka.sh WIRE_BINARY BUILD_DIR
# Knobs: K1_MESSAGES (600000: the mock keeps only 5 MiB per partition; the
# topic is produced snappy-compressed, which fits 100k per partition), K1_ROUNDS (3).
# Prints messages/s, MB/s, CPU seconds and peak RSS for each, and the ratio.
set -euo pipefail
WIRE=$1
BUILD=${2:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${K1_MESSAGES:-600000}
ROUNDS=${K1_ROUNDS:-3}
MOCK="$ROOT/$BUILD/tools/kafka_mock"
make -s -C "$ROOT" MODE=release BUILD="$BUILD" "$BUILD/tools/kafka_mock" >/dev/null
command -v kcat >/dev/null || { echo "K1   kcat not installed: skipped"; exit 0; }
D=$(mktemp -d /dev/shm/wire-k1.XXXXXX)
MPID=
cleanup() {
    set +e
    exec 9>&- 2>/dev/null
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
mkfifo "$D/ctl"
"$MOCK" in:6 <"$D/ctl" >"$D/mock.out" 2>"$D/mock.err" &
MPID=$!
exec 9>"$D/ctl"
for _ in $(seq 1 50); do grep -q : "$D/mock.out" 2>/dev/null && break; sleep 0.1; done
B=$(head -1 "$D/mock.out")

# 200-byte JSON messages: {"n":..,"level":..,"host":..,"msg":"xxx..."}
python3 - "$N" >"$D/in.jsonl" <<'EOF'
import sys
n = int(sys.argv[1])
levels = ["info", "warn", "error", "debug"]
for i in range(n):
    base = '{"n":%d,"level":"%s","host":"web-%d","msg":"' % (i, levels[i % 4], i % 16)
    print(base + "x" * (199 - len(base) - 2) + '"}')
EOF
kcat -P -b "$B" -t in -z snappy <"$D/in.jsonl"
BYTES=$(stat -c %s "$D/in.jsonl")
echo "K1   $N messages of $((BYTES / N)) bytes in 6 partitions on librdkafka's mock cluster (in this machine's memory), $ROUNDS rounds, best shown"

fig() { # NAME WALL USER SYS RSS_KB
    awk -v n="$1" -v e="$N" -v b="$BYTES" -v w="$2" -v u="$3" -v s="$4" -v r="$5" 'BEGIN {
        printf "K1   %-26s %8.0f msgs/s  %6.1f MB/s  %5.2f s  cpu %.2f s  peak RSS %.1f MB\n",
            n, e / w, b / w / 1e6, w, u + s, r / 1024 }'
}
best_kcat=999 best_wire=999
for r in $(seq 1 "$ROUNDS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$D/t.kcat" \
        kcat -C -b "$B" -t in -o beginning -e -q -c "$N" >/dev/null 2>&1
    read -r kw ku ks kr <"$D/t.kcat"
    echo "topic out$r:6" >&9
    cat >"$D/k1.yaml" <<EOF
name: k1
source: {type: kafka, config: {brokers: "$B", topics: [in], stop_at: latest, group_id: "k1-$r",
         librdkafka: {session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}}}
transforms: [{type: filter, config: {where: "level != 'debug'"}}]
sink: {type: kafka, config: {brokers: "$B", topic: "out$r", compression: lz4}}
checkpoint: {interval: 1s}
EOF
    rm -rf "$D/data"
    /usr/bin/time -f '%e %U %S %M' -o "$D/t.wire" "$WIRE" run --data-dir "$D/data" "$D/k1.yaml" \
        2>"$D/wire.log" || { echo "K1   wire run failed:"; tail -5 "$D/wire.log"; exit 0; }
    read -r ww wu ws wr <"$D/t.wire"
    # the consumer group join (about 3 s on the mock) is not throughput: take it out
    join=$(python3 - "$D/wire.log" <<'EOF'
import re, sys, datetime
t = {}
for l in open(sys.argv[1]):
    m = re.match(r"(\S+) info (pipeline k1 version|kafka: assigned)", l)
    if m:
        t[m.group(2)] = datetime.datetime.fromisoformat(m.group(1).rstrip("Z"))
a, b = t.get("pipeline k1 version"), t.get("kafka: assigned")
print("%.3f" % ((b - a).total_seconds() if a and b else 0))
EOF
)
    ww_net=$(awk -v w="$ww" -v j="$join" 'BEGIN { printf "%.3f", w - j }')
    fig "kcat -C (round $r)" "$kw" "$ku" "$ks" "$kr"
    fig "wire kafka->filter->kafka" "$ww_net" "$wu" "$ws" "$wr"
    echo "       (wire's wall time without its $join s consumer-group join: $ww_net of $ww s)"
    awk -v a="$kw" -v b="$best_kcat" 'BEGIN { exit !(a < b) }' && best_kcat=$kw
    awk -v a="$ww_net" -v b="$best_wire" 'BEGIN { exit !(a < b) }' && best_wire=$ww_net
done
awk -v n="$N" -v k="$best_kcat" -v w="$best_wire" 'BEGIN {
    printf "K1   best: wire %.0f msgs/s (consume, filter, produce) vs kcat %.0f msgs/s (consume only): %.2fx\n",
        n / w, n / k, k / w }'
