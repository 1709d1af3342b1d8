#!/usr/bin/env bash
# test_kafka.sh — the kafka source through the real binary, against
# librdkafka's mock cluster (tests/tools/kafka_mock; no broker is
# installable here) with Debian's kcat as the producer:
#   - 500,000 JSON messages in 6 partitions -> filter -> exactly-once file
#     sink, `wire run` killed -9 at random 20 times and restarted: every
#     matching message exactly once;
#   - stop_at: latest ends the run; a second run reads only what is new;
#   - format: text; values that are not JSON go to the DLQ with their topic,
#     partition and offset; commit_offsets + start_from: committed (a pipeline with
#     no checkpoint in the same group starts where the first one committed);
#   - _kafka.* metadata in expressions: a filter on _kafka.partition, a map copying
#     _kafka.offset/.key/.topic/.timestamp; nothing of it in the output unless copied;
#   - a full pipeline pauses its partitions and keeps polling: with
#     max.poll.interval.ms 7 s and a sink that holds the pipeline full for
#     longer, the consumer is not evicted and nothing is read twice;
#   - the kafka sink: file -> kafka, every line arrives (kcat reads them),
#     keys and templated topics; every broker down for 5 s mid-run: nothing
#     lost, the run recovers by itself.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
MOCK=$(dirname "$WIRE")/tools/kafka_mock
command -v kcat >/dev/null || { not_ok "kcat is not installed (make deps)"; finish; }
[ -x "$MOCK" ] || { not_ok "$MOCK is not built (make unit-tests)"; finish; }

mkfifo mock.ctl
"$MOCK" big:6 small:3 text:1 slow:2 <mock.ctl >mock.out 2>mock.err &
T_PIDS+=("$!")
exec 9>mock.ctl # keeps the mock's stdin open; commands go to fd 9
check "the mock cluster prints its bootstrap list" wait_for grep -q ':' mock.out
B=$(head -1 mock.out)
# the mock forgets a member that left only after its session timeout: keep it short
FAST='librdkafka: {session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}'

# ---- exactly once through 20 kill -9 ---------------------------------------------
N=500000
# small messages: the mock keeps only the newest 5 MiB of a partition
seq 0 $((N - 1)) | sed 's/.*/{"n":&}/' | kcat -P -b "$B" -t big
check "500,000 messages produced into 6 partitions" \
    test "$(kcat -C -b "$B" -t big -o beginning -e -q 2>/dev/null | wc -l)" = $N
cat >eo.yaml <<EOF
name: eo
source: {type: kafka, config: {brokers: "$B", topics: [big], stop_at: latest, $FAST}}
transforms: [{type: filter, config: {where: "n % 3 = 0"}}]
sink: {type: file, config: {path: out/eo.jsonl}}
delivery: exactly-once
checkpoint: {interval: 200ms}
EOF
lines() { [ -f out/eo.jsonl ] && wc -l <out/eo.jsonl || echo 0; }
kills=0
for i in $(seq 1 20); do
    "$WIRE" run --data-dir eod eo.yaml >eo.log 2>&1 &
    pid=$!
    # kill it while it writes: once the output passes a point a little further each time
    # (plus up to 50 ms), wherever that falls between two checkpoints
    target=$((i * 7000 + RANDOM % 3000))
    wait_until 60 eval '[ "$(lines)" -ge '$target' ] || ! kill -0 '$pid
    sleep "0.0$((RANDOM % 5))"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null
done
echo "  killed $kills of 20 runs before they finished"
check "most runs were killed while writing ($kills of 20)" [ "$kills" -ge 10 ]
"$WIRE" run --data-dir eod eo.yaml >eo.last.log 2>&1
check "exactly once: the last run finishes (exit 0)" test $? = 0
check "exactly once: every matching message exactly once after $kills kills" python3 - out/eo.jsonl $N <<'EOF'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    n = json.loads(line)["n"]
    seen[n] = seen.get(n, 0) + 1
want = set(range(0, int(sys.argv[2]), 3))
dup = [n for n, c in seen.items() if c > 1]
missing = want - set(seen)
extra = set(seen) - want
assert not dup and not missing and not extra, (len(dup), len(missing), len(extra))
print("  %d messages, each once" % len(seen))
EOF

# ---- stop_at latest, then only what is new ------------------------------------------
seq 1 300 | sed 's/.*/{"i":&}/' | kcat -P -b "$B" -t small
cat >small.yaml <<EOF
name: small
source: {type: kafka, config: {brokers: "$B", topics: small, stop_at: latest, $FAST}}
sink: {type: file, config: {path: out/small.jsonl}}
EOF
"$WIRE" run --data-dir smalld small.yaml >small1.log 2>&1
check "stop_at latest: exit 0" test $? = 0
check "stop_at latest: 300 lines" test "$(wc -l <out/small.jsonl)" = 300
seq 301 350 | sed 's/.*/{"i":&}/' | kcat -P -b "$B" -t small
"$WIRE" run --data-dir smalld small.yaml >small2.log 2>&1
check "a second run resumes from the checkpoint: 50 more, 350 in all" \
    test "$(wc -l <out/small.jsonl)" = 350 -a "$(sort -u out/small.jsonl | wc -l)" = 350
check "  and says so" grep -q "in=50 out=50" small2.log

# ---- format text ---------------------------------------------------------------------
printf 'plain line %s\n' 1 2 3 'with "quotes"' | kcat -P -b "$B" -t text
cat >text.yaml <<EOF
name: text
source: {type: kafka, config: {brokers: "$B", topics: [text], format: text, stop_at: latest, $FAST}}
sink: {type: file, config: {path: out/text.jsonl}}
EOF
"$WIRE" run --data-dir textd text.yaml >text.log 2>&1
check "format text: each value as {\"message\": ...}" \
    grep -qxF '{"message":"plain line with \"quotes\""}' out/text.jsonl
check "format text: 4 lines" test "$(wc -l <out/text.jsonl)" = 4

# ---- a value that is not JSON: to the dead-letter queue, with topic/partition/offset -----
echo "topic mixed:1" >&9
printf '{"ok":1}\nnot json\n{"ok":2}\n[1,2]\n' | kcat -P -b "$B" -t mixed
cat >mixed.yaml <<EOF
name: mixed
source: {type: kafka, config: {brokers: "$B", topics: [mixed], stop_at: latest, $FAST}}
sink: {type: file, config: {path: out/mixed.jsonl}}
dlq: {type: file, config: {path: out/mixed-dlq.jsonl}}
EOF
"$WIRE" run --data-dir mixedd mixed.yaml >mixed.log 2>&1
check "malformed values: exit 0" test $? = 0
check "malformed values: the two good ones delivered" test "$(wc -l <out/mixed.jsonl)" = 2
check "malformed values: two dead letters, each with topic, partition and offset" python3 - <<'EOF'
import json
d = [json.loads(l) for l in open("out/mixed-dlq.jsonl")]
assert len(d) == 2, d
assert d[0]["event"] == "not json" and "kafka topic mixed partition 0 offset 1" in d[0]["error"], d[0]
assert d[1]["event"] == [1, 2] and "offset 3" in d[1]["error"], d[1]
assert d[0]["stage"] == "source kafka (source)", d[0]
EOF
check "malformed values: counted as invalid" grep -q "invalid=2" mixed.log

# ---- _kafka.* metadata in expressions -------------------------------------------------
echo "topic meta:4" >&9
printf 'k%s:{"i":%s}\n' 1 1 2 2 3 3 | kcat -P -b "$B" -t meta -p 3 -K:
printf 'k%s:{"i":%s}\n' 7 7 8 8 | kcat -P -b "$B" -t meta -p 1 -K:
printf '{"i":9}\n' | kcat -P -b "$B" -t meta -p 3 # no key
cat >meta.yaml <<EOF
name: meta
source: {type: kafka, config: {brokers: "$B", topics: [meta], stop_at: latest, $FAST}}
transforms:
  - {type: filter, config: {where: "_kafka.partition = 3 AND _kafka.topic = 'meta'"}}
  - {type: map, config: {select: "i, _kafka.offset AS off, _kafka.key AS k, _kafka.partition AS p, _kafka.timestamp AS ts"}}
sink: {type: file, config: {path: out/meta.jsonl}}
EOF
"$WIRE" run --data-dir metad meta.yaml >meta.log 2>&1
check "_kafka metadata: exit 0" test $? = 0
check "_kafka metadata: filtered by _kafka.partition, offset/key/partition/timestamp copied" \
    python3 - <<'EOF'
import json, time
d = [json.loads(l) for l in open("out/meta.jsonl")]
got = [(x["i"], x["off"], x.get("k"), x["p"]) for x in d]
assert got == [(1, 0, "k1", 3), (2, 1, "k2", 3), (3, 2, "k3", 3), (9, 3, None, 3)], d
now = time.time() * 1000
assert all(now - 600000 < x["ts"] <= now + 1000 for x in d), d
EOF
cat >meta2.yaml <<EOF
name: meta2
source: {type: kafka, config: {brokers: "$B", topics: [meta], stop_at: latest, $FAST}}
transforms: [{type: filter, config: {where: "_kafka.key IN ('k7', 'k8')"}}]
sink: {type: file, config: {path: out/meta2.jsonl}}
EOF
"$WIRE" run --data-dir meta2d meta2.yaml >meta2.log 2>&1
check "_kafka metadata: a filter on _kafka.key, and nothing of _kafka in the output" \
    test "$(sort out/meta2.jsonl | tr '\n' ' ')" = '{"i":7} {"i":8} '

# ---- commit_offsets, then start_from committed in the same group ---------------------
cat >commit.yaml <<EOF
name: commit
source: {type: kafka, config: {brokers: "$B", topics: [small], group_id: lag, commit_offsets: true,
         stop_at: latest, $FAST}}
sink: {type: file, config: {path: out/commit.jsonl}}
checkpoint: {interval: 100ms}
EOF
"$WIRE" run --data-dir commitd commit.yaml >commit.log 2>&1
check "commit_offsets: the first pipeline reads 350" test "$(wc -l <out/commit.jsonl)" = 350
seq 351 360 | sed 's/.*/{"i":&}/' | kcat -P -b "$B" -t small
sed -e 's/name: commit/name: committed/' -e 's/commit_offsets: true/start_from: committed/' \
    -e 's|out/commit.jsonl|out/committed.jsonl|' commit.yaml >committed.yaml
"$WIRE" run --data-dir committedd committed.yaml >committed.log 2>&1
check "start_from committed (no checkpoint, same group): only the 10 after the commit" \
    test "$(wc -l <out/committed.jsonl 2>/dev/null || echo 0)" = 10

# ---- backpressure keeps the group session ----------------------------------------------
seq 1 2000 | sed 's/.*/{"s":&}/' | kcat -P -b "$B" -t slow
cat >slow.yaml <<EOF
name: slow
source: {type: kafka, config: {brokers: "$B", topics: [slow], stop_at: latest, batch: 100,
         librdkafka: {session.timeout.ms: "6000", heartbeat.interval.ms: "1000",
                      max.poll.interval.ms: "7000"}}}
sink: {type: blackhole, config: {delay: 600ms}}
buffer: {max_bytes: 4KB}
EOF
"$WIRE" run --data-dir slowd slow.yaml >slow.log 2>&1
check "backpressure: exit 0" test $? = 0
check "backpressure: 2000 in, 2000 out" grep -q "in=2000 out=2000" slow.log
check "backpressure: the partitions were paused" grep -q "partition(s) paused; still polling" slow.log
check "backpressure: never evicted (no revoke before the end)" \
    test "$(grep -c 'partition(s) revoked' slow.log)" -le 1
# ---- the kafka sink: file -> kafka, every line arrives (kcat reads them back) -------
echo "topic lines:3" >&9
echo "topic logs-info:1" >&9
echo "topic logs-warn:1" >&9
seq 0 49999 | sed 's/.*/{"n":&,"level":"info"}/' >in.jsonl
cat >tok.yaml <<EOF
name: tok
source: {type: file, config: {path: in.jsonl}}
sink: {type: kafka, config: {brokers: "$B", topic: lines, key: n, compression: lz4}}
EOF
"$WIRE" run --data-dir tokd tok.yaml >tok.log 2>&1
check "kafka sink: wire run exits 0" test $? = 0
kcat -C -b "$B" -t lines -o beginning -e -q -f '%k %s\n' 2>/dev/null >lines.out
check "kafka sink: all 50,000 lines arrived" test "$(cut -d' ' -f2- lines.out | sort -u | wc -l)" = 50000
check "kafka sink: the key is the field's value" grep -qx '7 {"n":7,"level":"info"}' lines.out
printf '{"level":"info","i":1}\n{"level":"warn","i":2}\n{"level":"info","i":3}\n' >lv.jsonl
cat >lv.yaml <<EOF
name: lv
source: {type: file, config: {path: lv.jsonl}}
sink: {type: kafka, config: {brokers: "$B", topic: "logs-{{level}}"}}
EOF
"$WIRE" run --data-dir lvd lv.yaml >lv.log 2>&1
check "kafka sink: a templated topic per event" \
    test "$(kcat -C -b "$B" -t logs-info -o beginning -e -q 2>/dev/null | wc -l)" = 2 -a \
    "$(kcat -C -b "$B" -t logs-warn -o beginning -e -q 2>/dev/null | wc -l)" = 1
cat >eok.yaml <<EOF
name: eok
source: {type: file, config: {path: in.jsonl}}
sink: {type: kafka, config: {brokers: "$B", topic: lines}}
delivery: exactly-once
EOF
"$WIRE" validate eok.yaml >eok.out 2>&1
check "kafka sink: exactly-once is accepted (sink-owned positions; test_kafka_eo.sh runs it)" \
    test "$(grep -c "cannot honour exactly-once delivery" eok.out)" = 0

# every broker down for 5 s in the middle of a run: nothing lost, it recovers by itself
echo "topic outage:3" >&9
cat >down.yaml <<EOF
name: down
source: {type: generate, config: {count: 100000, rate: 20000, template: '{"n": {{seq}}}'}}
sink: {type: kafka, config: {brokers: "$B", topic: outage}}
EOF
"$WIRE" run --data-dir downd down.yaml >down.log 2>&1 &
pid=$!
T_PIDS+=("$pid")
count_outage() { kcat -C -b "$B" -t outage -o beginning -e -q 2>/dev/null | wc -l; }
wait_until 30 eval '[ "$(count_outage)" -gt 10000 ]'
for id in 1 2 3; do echo "down $id" >&9; done
sleep 5
for id in 1 2 3; do echo "up $id" >&9; done
wait "$pid"
check "brokers down for 5 s: wire run still exits 0" test $? = 0
check "brokers down for 5 s: all 100,000 arrived" \
    test "$(kcat -C -b "$B" -t outage -o beginning -e -q -f '%s\n' 2>/dev/null | sort -u | wc -l)" = 100000
check "the mock took every command" bash -c "! grep -q '^error' mock.out"
check "no sanitizer reports" bash -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:' ./*.log"
finish
