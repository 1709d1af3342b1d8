#!/usr/bin/env bash
# test_kafka_eo.sh — the kafka sink's exactly-once (one transaction per
# checkpoint, the source positions in a compacted positions topic inside the
# same transaction) through the real binary, against librdkafka's mock
# cluster (tests/tools/kafka_mock):
#   - generate -> kafka, `wire run` killed -9 at random while it writes and
#     restarted: every line arrives, each restart resumes from the positions
#     the sink committed (read back from __wire_positions), not from the start;
#   - the positions record: keyed by the transactional id
#     wire-<pipeline>-<sink>-<instance>, with its checkpoint id and positions;
#   - the sink's positions override a lost checkpoint: with the state directory
#     deleted, a rerun writes nothing again;
#   - kafka -> filter -> kafka with kill -9: every matching message arrives.
# What the mock cannot show (CONNECTORS.md 3): it writes no transaction
# markers, so a read_committed consumer also sees what an aborted transaction
# wrote; the duplicates a kill leaves are exactly those. Here "exactly once"
# is checked as: nothing lost, and every restart starts at the committed
# positions. Fencing and aborts are tested in process (tests/unit/test_kafka_eo.c).
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
MOCK=$(dirname "$WIRE")/tools/kafka_mock
command -v kcat >/dev/null || { not_ok "kcat is not installed (make deps)"; finish; }
[ -x "$MOCK" ] || { not_ok "$MOCK is not built (make unit-tests)"; finish; }

mkfifo mock.ctl
"$MOCK" out:3 src:3 sel:3 <mock.ctl >mock.out 2>mock.err &
T_PIDS+=("$!")
exec 9>mock.ctl # keeps the mock's stdin open
check "the mock cluster prints its bootstrap list" wait_for grep -q ':' mock.out
B=$(head -1 mock.out)
# a member killed -9 holds its partitions until its session times out: keep it
# short (below 6 s the mock never assigns)
FAST='librdkafka: {session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}'
count() { kcat -C -b "$B" -t "$1" -o beginning -e -q -X isolation.level=read_committed 2>/dev/null | wc -l; }
uniq_count() {
    kcat -C -b "$B" -t "$1" -o beginning -e -q -X isolation.level=read_committed 2>/dev/null |
        sort -u | wc -l
}

# kill_loop NAME YAML KILLS MIN_MS SPREAD_MS [READY]: run, kill -9 after MIN_MS
# plus up to SPREAD_MS (wherever that falls: writing, committing) from the
# moment its log says READY (default: from the start), KILLS times; then one
# run to its end (its status is returned)
kill_loop() {
    local name=$1 yaml=$2 kills=$3 min=$4 spread=$5 ready=${6:-} i pid ms
    KILLED=0
    for i in $(seq 1 "$kills"); do
        "$WIRE" run --data-dir "$name.d" "$yaml" >"$name.$i.log" 2>&1 &
        pid=$!
        [ -z "$ready" ] ||
            wait_until 60 eval "grep -q '$ready' $name.$i.log || ! kill -0 $pid"
        ms=$((min + RANDOM % spread))
        sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
        if kill -9 "$pid" 2>/dev/null; then KILLED=$((KILLED + 1)); fi
        wait "$pid" 2>/dev/null
    done
    "$WIRE" run --data-dir "$name.d" "$yaml" >"$name.last.log" 2>&1
    local rc=$?
    if [ "$rc" != 0 ]; then # the evidence, before the temp dir goes (seen once: an abort)
        echo "  the last run exited $rc; its log ends:"
        tail -n 25 "$name.last.log" | sed 's/^/    /'
    fi
    return "$rc"
}

# ---- generate -> kafka, exactly-once, through kill -9 --------------------------------
# 60,000 events at 10,000/s: each run lives long enough to be killed while it writes
N=60000
cat >fk.yaml <<EOF
name: fk
source: {type: generate, config: {count: $N, rate: 10000, template: '{"n": {{seq}}}'}}
sink: {type: kafka, config: {brokers: "$B", topic: out}}
delivery: exactly-once
checkpoint: {interval: 100ms}
EOF
kill_loop fk fk.yaml 8 800 1500
check "generate -> kafka: the last run finishes (exit 0)" test $? = 0
echo "  killed $KILLED of 8 runs while they wrote"
check "generate -> kafka: most runs were killed while writing ($KILLED of 8)" [ "$KILLED" -ge 4 ]
check_eq "generate -> kafka: every event arrived" $N "$(uniq_count out)"
total=$(count out)
echo "  $total messages for $N events (the mock shows aborted transactions' messages too)"
check "generate -> kafka: restarts resumed at the committed positions, not the start ($total < 2N)" \
    [ "$total" -lt $((2 * N)) ]
check "generate -> kafka: each restart read its positions back from __wire_positions" \
    test "$(grep -l 'wire-fk-sink-0: positions of checkpoint [0-9]* read back from __wire_positions' fk.*.log | wc -l)" -ge 4
kcat -C -b "$B" -t __wire_positions -o beginning -e -q -f '%k %s\n' 2>/dev/null >positions.out
check "the positions record: keyed by the transactional id, with checkpoint and positions" \
    python3 - positions.out <<'EOF'
import json, sys
recs = [l.split(' ', 1) for l in open(sys.argv[1]) if l.startswith('wire-fk-sink-0 ')]
assert recs, 'no record keyed wire-fk-sink-0'
last = json.loads(recs[-1][1])
assert last['pipeline'] == 'fk' and last['instance'] == 0, last
assert last['transactional_id'] == 'wire-fk-sink-0', last
assert last['checkpoint'] > 0 and last['positions'], last
EOF

# ---- the sink's positions override a lost checkpoint ----------------------------------
before=$(count out)
rm -rf fk.d
"$WIRE" run --data-dir fk.d fk.yaml >fk.lost.log 2>&1
check "positions override: a rerun without its state directory exits 0" test $? = 0
check_eq "positions override: it wrote nothing again" "$before" "$(count out)"
check "positions override: it says where it resumed" \
    grep -q 'wire-fk-sink-0: positions of checkpoint [0-9]* read back' fk.lost.log

# ---- kafka -> filter -> kafka, exactly-once, through kill -9 ---------------------------
M=300000
seq 0 $((M - 1)) | sed 's/.*/{"n":&}/' | kcat -P -b "$B" -t src
check "kafka -> kafka: 300,000 messages produced into 3 partitions" test "$(count src)" = $M
cat >kk.yaml <<EOF
name: kk
source: {type: kafka, config: {brokers: "$B", topics: [src], stop_at: latest, $FAST}}
transforms: [{type: filter, config: {where: "n % 2 = 0"}}]
sink: {type: kafka, config: {brokers: "$B", topic: sel, compression: lz4}}
delivery: exactly-once
checkpoint: {interval: 100ms}
EOF
kill_loop kk kk.yaml 4 50 300 "assigned 3 partition"
check "kafka -> kafka: the last run finishes (exit 0)" test $? = 0
echo "  killed $KILLED of 4 runs while they read"
check "kafka -> kafka: a run was killed while it read ($KILLED of 4)" [ "$KILLED" -ge 1 ]
check_eq "kafka -> kafka: every matching message arrived" $((M / 2)) "$(uniq_count sel)"
check "kafka -> kafka: nothing that the filter drops" \
    bash -c "! kcat -C -b '$B' -t sel -o beginning -e -q 2>/dev/null | grep -q '[13579]}'"
check "kafka -> kafka: restarts resumed at the committed positions ($(count sel) < 3M/4)" \
    [ "$(count sel)" -lt $((3 * M / 4)) ]

check "the mock took every command" bash -c "! grep -q '^error' mock.out"
check "no sanitizer reports" bash -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:' ./*.log"
finish
