#!/usr/bin/env bash
# Crash loops: a file (read) -> filter -> file pipeline over 1,000,000
# numbered events, killed with SIGKILL at 20 random moments and restarted
# each time until it finishes. At-least-once: every expected event is in the
# output. Exactly-once: the output equals the expected lines exactly, in
# order. Also: a corrupt latest checkpoint is skipped with a log line, and
# SIGTERM under load drains and checkpoints so a restart duplicates nothing.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$TMP"

N=${CRASH_EVENTS:-1000000}
KILLS=${CRASH_KILLS:-20}
python3 - "$N" <<'EOF'
import sys
n = int(sys.argv[1])
with open("in.jsonl", "w") as f, open("expected.jsonl", "w") as e:
    for i in range(n):
        lvl = "debug" if i % 10 == 3 else ("error" if i % 7 == 0 else "info")
        line = '{"n":%d,"level":"%s","pad":"%s"}' % (i, lvl, "x" * (i % 50))
        f.write(line + "\n")
        if lvl != "debug":
            e.write(line + "\n")
EOF

pipeline() { # NAME DELIVERY
    cat >"$1.yaml" <<EOF
name: $1
source: { type: file, config: { path: in.jsonl, mode: read, read_size: 64KB } }
transforms:
  - type: filter
    config: { where: "level != 'debug'" }
sink: { type: file, config: { path: out/$1.jsonl } }
delivery: $2
checkpoint: { interval: 20ms }
EOF
}

# Calibrate: how long does one uninterrupted run take here (ms)? Kill
# moments are drawn from [T/25, T/10] after each start so that the kills land
# mid-run (checkpoints every 20 ms let each run make some progress).
pipeline calib at-least-once
t0=$(date +%s%N)
"$WIRE" run --data-dir data-calib calib.yaml 2>/dev/null
T_MS=$((($(date +%s%N) - t0) / 1000000))
echo "one uninterrupted run: $T_MS ms"
rm -rf data-calib out/calib.jsonl

# crash_loop NAME: kill -9 at KILLS random moments, then run to the end
crash_loop() {
    local name=$1 i rc pid ms
    local seed=${CRASH_SEED:-$RANDOM}
    local lo=$((T_MS / 25 + 10)) span=$((T_MS / 10 - T_MS / 25 + 1))
    echo "crash loop $name: seed $seed"
    RANDOM=$seed
    for i in $(seq 1 "$KILLS"); do
        "$WIRE" run --data-dir "data-$name" "$name.yaml" 2>>"$name.log" &
        pid=$!
        T_PIDS+=("$pid")
        ms=$((lo + RANDOM % span))
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for i in 1 2 3; do
        timeout 300 "$WIRE" run --data-dir "data-$name" "$name.yaml" 2>>"$name.log" && return 0
    done
    return 1
}

pipeline alo at-least-once
check "at-least-once: finishes after $KILLS kills" crash_loop alo
check "at-least-once: every expected event delivered" python3 -c '
exp = open("expected.jsonl").read().splitlines()
got = set(open("out/alo.jsonl").read().splitlines())
missing = [l for l in exp if l not in got]
assert not missing, (len(missing), missing[:3])
extra = got - set(exp)
assert not extra, list(extra)[:3]
print("at-least-once: %d lines out for %d expected" % (len(open("out/alo.jsonl").read().splitlines()), len(exp)))
'

pipeline eo exactly-once
check "exactly-once: finishes after $KILLS kills" crash_loop eo
check "exactly-once: output equals the expected lines exactly" cmp out/eo.jsonl expected.jsonl
check "exactly-once: the uncommitted tail was truncated on recovery" grep -q 'truncated uncommitted tail' eo.log
# a run that was killed printed no summary: most of the 20 must have been
check "exactly-once: most kills interrupted a running pipeline" \
    [ "$(grep -c 'wire: pipeline eo finished' eo.log)" -le $((KILLS / 2)) ]
check "at-least-once: most kills interrupted a running pipeline" \
    [ "$(grep -c 'wire: pipeline alo finished' alo.log)" -le $((KILLS / 2)) ]

# --- a corrupt newest checkpoint: the previous one is used, with a log line --
pipeline corrupt exactly-once
"$WIRE" run --data-dir data-corrupt corrupt.yaml 2>corrupt.log &
pid=$!
T_PIDS+=("$pid")
ms=$((T_MS * 2 / 3))
sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
kill -9 "$pid"
wait "$pid" 2>/dev/null
newest=$(ls data-corrupt/checkpoints/corrupt/*.ckpt | sort | tail -1)
count=$(ls data-corrupt/checkpoints/corrupt/*.ckpt | wc -l)
check "corrupt: several checkpoints were kept" [ "$count" -ge 2 ]
printf 'garbage' >>"$newest"
"$WIRE" run --data-dir data-corrupt corrupt.yaml 2>>corrupt.log
check "corrupt: run finishes" [ $? = 0 ]
check "corrupt: the bad checkpoint is named in the log" grep -q "is unusable: torn" corrupt.log
check "corrupt: the previous checkpoint is used" grep -q "using checkpoint" corrupt.log
check "corrupt: exactly-once output still exact" cmp out/corrupt.jsonl expected.jsonl
# all checkpoints unusable: refuse to start from zero
for f in data-corrupt/checkpoints/corrupt/*.ckpt; do printf 'x' >>"$f"; done
"$WIRE" run --data-dir data-corrupt corrupt.yaml >refuse.out 2>&1
check "corrupt: all checkpoints bad -> refuses to start (exit 1)" [ $? = 1 ]
check "corrupt: and says why" grep -q "none is valid; refusing to restart from zero" refuse.out

# --- SIGTERM under load drains, checkpoints, and a restart duplicates nothing --
pipeline term at-least-once
"$WIRE" run --data-dir data-term term.yaml 2>term.log &
pid=$!
T_PIDS+=("$pid")
ms=$((T_MS / 3))
sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: exits 0 after draining" [ $? = 0 ]
check "SIGTERM: stopped, not finished" grep -q "pipeline term stopped" term.log
"$WIRE" run --data-dir data-term term.yaml 2>>term.log
check "SIGTERM: restart finishes the rest" [ $? = 0 ]
check "SIGTERM: output exact even at-least-once (final checkpoint at stop)" cmp out/term.jsonl expected.jsonl

# --- the crash loop with the http sink pointed at a test collector -------------
mkdir -p col
CPORT=$(free_port)
python3 "$HERE/collector.py" "$CPORT" col &
T_PIDS+=("$!")
wait_for test -f col/ready
cat >hc.yaml <<EOF
name: hc
source: { type: generate, config: { count: 200000, rate: 100000, template: '{"n": {{seq}}}' } }
sink: { type: http, config: { url: "http://127.0.0.1:$CPORT/", batch_events: 1000 } }
checkpoint: { interval: 200ms }
EOF
KILLS_SAVED=$KILLS
KILLS=${CRASH_HTTP_KILLS:-10}
check "http sink: finishes after $KILLS kills" crash_loop hc
KILLS=$KILLS_SAVED
check "http sink: every event reached the collector" python3 -c '
got = set(l.strip() for l in open("col/bodies") if l.strip())
assert len(got) == 200000, len(got)
total = sum(1 for l in open("col/bodies") if l.strip())
print("collector: %d lines, %d distinct" % (total, len(got)))
'

# --- the crash loop with a tail source whose file keeps growing and rotates ----
cat >tail.yaml <<'YAML'
name: tail
source: { type: file, config: { path: app.log, mode: tail, poll_interval: 20ms } }
sink: { type: file, config: { path: out/tail.jsonl } }
checkpoint: { interval: 200ms }
YAML
TOTAL=${CRASH_TAIL_LINES:-200000}
cat >writer.py <<'PY'
import os, sys, time
total = int(sys.argv[1]); gen = 0; t0 = time.time()
f = open("app.log", "a")
for i in range(total):
    f.write('{"n":%d}\n' % i)
    if i % 1000 == 999:
        f.flush()
        delay = t0 + (i + 1) / 25000.0 - time.time()  # about 25k lines/s
        if delay > 0:
            time.sleep(delay)
    if i % 40000 == 39999:  # rotate by rename, as logrotate does
        f.close()
        gen += 1
        os.rename("app.log", "app.log.%d" % gen)
        f = open("app.log", "a")
f.close()
PY
python3 writer.py "$TOTAL" &
writer=$!
T_PIDS+=("$writer")
tail_loop() {
    local i pid
    for i in $(seq 1 "${CRASH_TAIL_KILLS:-10}"); do
        "$WIRE" run --data-dir data-tail tail.yaml 2>>tail.log &
        pid=$!
        T_PIDS+=("$pid")
        sleep "0.$((RANDOM % 9 + 1))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    wait "$writer"
    "$WIRE" run --data-dir data-tail tail.yaml 2>>tail.log &
    pid=$!
    T_PIDS+=("$pid")
    wait_until 180 grep -q "\"n\":$((TOTAL - 1))}" out/tail.jsonl
    kill -TERM "$pid"
    wait "$pid"
}
check "tail: a growing, rotating file survives ${CRASH_TAIL_KILLS:-10} kills" tail_loop
check "tail: every line delivered" python3 -c "
got = set(l.strip() for l in open('out/tail.jsonl') if l.strip())
want = set('{\"n\":%d}' % i for i in range($TOTAL))
missing = want - got
assert not missing, (len(missing), sorted(missing)[:5])
print('tail: %d lines out for %d written' % (sum(1 for _ in open('out/tail.jsonl')), $TOTAL))
"

finish
