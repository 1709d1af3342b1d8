#!/usr/bin/env bash
# End-to-end tests of `wire run` with the generate, file and stdin sources,
# the file, stdout and blackhole sinks, and the filter and map transforms:
# ordering, byte-for-byte passthrough, malformed input, tail with rotation
# and truncation, backpressure with bounded memory, signals and summaries.
. "$(dirname "$0")/lib.sh"

cd "$TMP"

# --- generate -> file: count, order, valid JSON --------------------------
cat >gen.yaml <<'EOF'
name: gen
source:
  type: generate
  config: { count: 50000, template: '{"n": {{seq}}, "lvl": "{{pick a b}}", "r": {{rand_int 1 6}}}' }
sink:
  type: file
  config: { path: out/gen.jsonl }
EOF
"$WIRE" run gen.yaml 2>gen.log
check "generate: exit 0" [ $? = 0 ]
check "generate: 50000 lines" [ "$(wc -l <out/gen.jsonl)" = 50000 ]
check "generate: in order, valid JSON" python3 -c '
import json,sys
for i,l in enumerate(open("out/gen.jsonl")):
    d=json.loads(l)
    assert d["n"]==i, (i,d)
    assert d["lvl"] in ("a","b") and 1<=d["r"]<=6
'
check "generate: summary line" grep -q 'pipeline gen finished: in=50000 out=50000 filtered=0 invalid=0' gen.log

# --- file read -> file: byte for byte ---------------------------------------
python3 - <<'EOF'
import json, random
r = random.Random(7)
with open("in.jsonl", "w", encoding="utf-8") as f:
    for i in range(20000):
        d = {"i": i, "s": "caf\u00e9 \"q\" \\ \u2603", "a": [1, 2.5, None, True], "o": {"k": "v"}}
        sep = (", ", ": ") if i % 3 == 0 else (",", ":")
        f.write(json.dumps(d, separators=sep, ensure_ascii=(i % 2 == 0)) + "\n")
EOF
cat >copy.yaml <<'EOF'
name: copy
source: { type: file, config: { path: in.jsonl } }
sink: { type: file, config: { path: out/copy.jsonl } }
EOF
"$WIRE" run copy.yaml 2>copy.log
check "file copy: exit 0" [ $? = 0 ]
check "file copy: byte for byte" cmp in.jsonl out/copy.jsonl

# --- malformed input: counted, dropped, others delivered ---------------------
printf '{"a":1}\n{"a":2\nnot json\n{"a":3}\n[1,2]\n{"a":"\xff"}\n{"a":4}' >bad.jsonl
cat >bad.yaml <<'EOF'
name: bad
source: { type: file, config: { path: bad.jsonl } }
sink: { type: file, config: { path: out/bad.jsonl } }
EOF
"$WIRE" run bad.yaml 2>bad.log
check "malformed: exit 0" [ $? = 0 ]
check "malformed: valid lines delivered in order (final line without newline too)" \
    [ "$(cat out/bad.jsonl | tr '\n' ' ')" = '{"a":1} {"a":3} {"a":4} ' ]
check "malformed: 4 invalid counted" grep -q 'in=3 out=3 filtered=0 invalid=4' bad.log
check "malformed: logged with offset" grep -q 'malformed event at offset 8' bad.log

# --- stdin -> stdout, lines format --------------------------------------------
cat >stdin.yaml <<'EOF'
name: stdin
source: { type: stdin, config: { format: lines } }
sink: { type: stdout }
EOF
printf 'hello\nsay "hi"\tnow\nlast' | "$WIRE" run stdin.yaml >stdin.out 2>stdin.log
check "stdin: exit 0" [ $? = 0 ]
check "stdin lines: wrapped as message" [ "$(cat stdin.out)" = '{"message":"hello"}
{"message":"say \"hi\"\tnow"}
{"message":"last"}' ]

# --- filter and map ---------------------------------------------------------------
cat >fm.yaml <<'EOF'
name: fm
source:
  type: generate
  config: { count: 1000, template: '{"seq": {{seq}}, "level": "{{pick info error}}", "latency_ms": {{rand_int 1 200}}, "host": "h{{rand_int 1 3}}", "msg": "m"}' }
transforms:
  - type: filter
    config: { where: "level = 'error' AND latency_ms > 100" }
  - type: map
    config: { select: "seq, host, msg AS message, latency_ms * 1000 AS latency_us" }
sink: { type: file, config: { path: out/fm.jsonl } }
EOF
"$WIRE" run fm.yaml 2>fm.log
check "filter+map: exit 0" [ $? = 0 ]
sed -e 's/^name: fm/name: fmraw/' -e '/^transforms:/,/^sink:/{/^sink:/!d}' -e 's#out/fm.jsonl#out/fmraw.jsonl#' fm.yaml >fmraw.yaml
"$WIRE" run fmraw.yaml 2>/dev/null
check "filter+map: output equals Python's evaluation of the same events" python3 -c '
import json
raw=[json.loads(l) for l in open("out/fmraw.jsonl")]
assert len(raw)==1000
exp=[{"seq":d["seq"],"host":d["host"],"message":d["msg"],"latency_us":d["latency_ms"]*1000}
     for d in raw if d["level"]=="error" and d["latency_ms"]>100]
out=[json.loads(l) for l in open("out/fm.jsonl")]
assert out==exp, (out[:3], exp[:3])
assert [list(o) for o in out]==[["seq","host","message","latency_us"]]*len(out)
'
n_out=$(wc -l <out/fm.jsonl)
check "filter+map: summary accounts for every event" grep -q "in=1000 out=$n_out filtered=$((1000 - n_out)) invalid=0 errors=0" fm.log

# --- tail: appends, rotation by rename, truncation, SIGTERM -------------------------
cat >tail.yaml <<'EOF'
name: tail
source: { type: file, config: { path: app.jsonl, mode: tail, poll_interval: 50ms } }
sink: { type: file, config: { path: out/tail.jsonl } }
EOF
: >app.jsonl
"$WIRE" run tail.yaml 2>tail.log &
pid=$!
T_PIDS+=("$pid")
for i in $(seq 1 100); do echo "{\"i\":$i}" >>app.jsonl; done
wait_for grep -q '"i":100' out/tail.jsonl
mv app.jsonl app.jsonl.1
for i in $(seq 101 200); do echo "{\"i\":$i}" >>app.jsonl; done
wait_for grep -q '"i":200' out/tail.jsonl
: >app.jsonl # truncate
sleep 0.3
for i in $(seq 201 250); do echo "{\"i\":$i}" >>app.jsonl; done
printf '{"i":251}' >>app.jsonl # partial line: not yet an event
wait_for grep -q '"i":250' out/tail.jsonl
kill -TERM "$pid"
wait "$pid"
rc=$?
check "tail: SIGTERM exits 0" [ "$rc" = 0 ]
check "tail: appends, rotation and truncation all delivered once, in order" \
    [ "$(python3 -c 'import json; print([json.loads(l)["i"] for l in open("out/tail.jsonl")] == list(range(1,251)))')" = True ]
check "tail: summary printed" grep -q 'pipeline tail stopped: in=250 out=250' tail.log

# --- backpressure: slow sink, memory flat, nothing lost ------------------------------
cat >slow.yaml <<'EOF'
name: slow
source: { type: generate, config: { batch: 1000 } }
sink: { type: blackhole, config: { delay: 20ms } }
buffer: { max_bytes: 1MB }
EOF
# a small ASan quarantine, so freed batches do not look like growth
ASAN_OPTIONS=${ASAN_OPTIONS:-}:quarantine_size_mb=4 "$WIRE" run slow.yaml 2>slow.log &
pid=$!
T_PIDS+=("$pid")
sleep 1.5
rss1=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
sleep 2
rss2=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
kill -INT "$pid"
wait "$pid"
check "backpressure: SIGINT exits 0" [ $? = 0 ]
echo "rss after 1s: ${rss1} KB, after 3s: ${rss2} KB"
check "backpressure: memory stays flat" [ "$rss2" -lt $((rss1 + 8192)) ]
line=$(grep 'wire: pipeline slow' slow.log)
echo "$line"
in=$(echo "$line" | sed -E 's/.*in=([0-9]+).*/\1/')
out=$(echo "$line" | sed -E 's/.* out=([0-9]+).*/\1/')
check "backpressure: source was held back (< 400 batches in 3 s)" [ "$in" -lt 400000 ]
check "backpressure: every accepted event delivered (in = out)" [ "$in" = "$out" ]

# --- checkpoints: a finished pipeline resumes at its end; enabled: false starts over --
"$WIRE" run gen.yaml 2>gen2.log
check "checkpoint: a second run of a finished pipeline resumes at its end" \
    grep -q 'pipeline gen finished: in=0 out=0' gen2.log
cat >nockpt.yaml <<'EOF'
name: nockpt
source: { type: generate, config: { count: 100 } }
sink: { type: blackhole }
checkpoint: { enabled: false }
EOF
"$WIRE" run --data-dir nock nockpt.yaml 2>nock1.log && "$WIRE" run --data-dir nock nockpt.yaml 2>nock2.log
check "checkpoint: enabled false runs from the start every time" \
    grep -q 'pipeline nockpt finished: in=100 out=100' nock2.log
check "checkpoint: enabled false writes no checkpoint" [ ! -d nock/checkpoints/nockpt ]
sed 's/^checkpoint:.*/checkpoint: { enabled: false }\ndelivery: exactly-once/' nockpt.yaml >eo-nock.yaml
sed -i 's/type: blackhole/type: file, config: { path: out\/x.jsonl }/' eo-nock.yaml
"$WIRE" validate eo-nock.yaml >eo-nock.out 2>&1
check "checkpoint: exactly-once without checkpoints is rejected" grep -q 'exactly-once needs checkpoints' eo-nock.out

# --- bad files: nothing runs ---------------------------------------------------------
cat >broken.yaml <<'EOF'
name: broken
source: { type: nosuch }
sink: { type: stdout }
EOF
"$WIRE" run broken.yaml >broken.out 2>&1
check "invalid pipeline: exit 1" [ $? = 1 ]
check "invalid pipeline: FILE:LINE:COL message" grep -q '^broken.yaml:2:' broken.out
"$WIRE" run >/dev/null 2>&1
check "no files: exit 1" [ $? = 1 ]
"$WIRE" run --nope gen.yaml >/dev/null 2>nope.err
check "unknown flag: fatal message, exit 1" grep -q "fatal: unknown flag '--nope'" nope.err

# --- honest endings: a reader that goes away, a sink that never takes the data ------
cat >forever.yaml <<'EOF'
name: forever
source: { type: generate, config: { count: 0 } }
sink: { type: stdout }
EOF
timeout 30 "$WIRE" run --data-dir ep forever.yaml 2>epipe.log | head -1 >/dev/null
rc=${PIPESTATUS[0]}
check "EPIPE: 'wire run | head' exits (not killed by the timeout)" [ "$rc" != 124 ]
check "EPIPE: exit 1" [ "$rc" = 1 ]
check "EPIPE: says why" grep -q 'Broken pipe' epipe.log
check "EPIPE: no retry loop" bash -c "! grep -q 'retrying in' epipe.log"

if [ -w /dev/full ]; then
    cat >full.yaml <<'EOF'
name: full
source: { type: generate, config: { count: 1000 } }
sink: { type: file, config: { path: /dev/full } }
EOF
    "$WIRE" run --data-dir fulld full.yaml 2>full.log &
    pid=$!
    wait_until 10 grep -q 'No space left on device' full.log
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    check "full disk + SIGTERM: exit 1" [ "$rc" = 1 ]
    check "full disk + SIGTERM: says 'stopped with 1000 undelivered'" \
        grep -q 'pipeline full stopped with 1000 undelivered events' full.log
    check "full disk + SIGTERM: state stopped, not finished" \
        grep -q 'pipeline full stopped: in=1000 out=0' full.log
fi

# --- dropped events say why, rate-limited -------------------------------------------
cat >dz.yaml <<'EOF'
name: dz
source: { type: generate, config: { count: 30000 } }
transforms: [{ type: map, config: { select: "*, seq / (seq % 2) AS x" } }]
sink: { type: blackhole }
EOF
"$WIRE" run --data-dir dzd dz.yaml 2>dz.log
check "division by zero: exit 0 (on_error: drop)" [ $? = 0 ]
check "division by zero: the reason is logged" grep -q 'event dropped (on_error: drop): .*division by zero' dz.log
check "division by zero: the first 5 one by one, no more" [ "$(grep -c 'event dropped' dz.log)" = 5 ]
check "division by zero: the rest summarized with a count" \
    grep -q '14995 more events dropped (on_error: drop); last error: .*division by zero' dz.log
check "division by zero: the summary counts them" grep -q 'dropped=15000' dz.log

# --- a tailed file that is not there yet: said, then read when it appears ------------
mkdir -p late
cat >late.yaml <<'EOF'
name: late
source: { type: file, config: { path: late/later.jsonl, mode: tail } }
sink: { type: file, config: { path: late/out.jsonl } }
EOF
"$WIRE" run --data-dir lated late.yaml 2>late.log &
pid=$!
check "missing tailed file: a warning names it" \
    wait_until 10 grep -q 'warn file late/later.jsonl: does not exist; waiting for it' late.log
echo '{"a":1}' >late/later.jsonl
check "missing tailed file: read when it appears" wait_until 10 grep -q '"a":1' late/out.jsonl
check "missing tailed file: its appearance is logged" grep -q 'file late/later.jsonl: appeared' late.log
kill -TERM "$pid"
wait "$pid"
check "missing tailed file: SIGTERM exits 0" [ $? = 0 ]
check "wire run prints its state directory" grep -q "state directory $PWD/lated " late.log

finish
