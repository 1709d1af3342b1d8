#!/usr/bin/env bash
# Run every unit-test binary and every integration script; end with one line
# "N passed, N failed" summing them all.
#   tests/run.sh BUILD_DIR [FILTER]
set -u
BUILD=${1:-build/asan}
FILTER=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export WIRE_BIN="$ROOT/$BUILD/wire"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LOGDIR=$(mktemp -d /tmp/wire-test-logs.XXXXXX)
pass=0
fail=0
failed_names=()

count() { # $1 = log file, $2 = rc, $3 = name
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    else
        p=0; f=1
    fi
    if [ "$2" != 0 ] && [ "$f" = 0 ]; then f=1; fi  # crashed or leaked after its summary
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" != 0 ]; then
        failed_names+=("$3")
        echo "---- $3 (rc=$2): last lines of $1"
        tail -30 "$1"
    fi
    printf '%-40s %s\n' "$3" "${line:-no summary (rc=$2)}"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    [ -n "$FILTER" ] && [[ "$name" != *$FILTER* ]] && continue
    log="$LOGDIR/$name.log"
    timeout 600 "$t" >"$log" 2>&1
    count "$log" $? "$name"
done

for s in tests/integration/test_*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    [ -n "$FILTER" ] && [[ "$name" != *$FILTER* ]] && continue
    log="$LOGDIR/$name.log"
    timeout 900 bash "$s" >"$log" 2>&1
    count "$log" $? "$name"
done

if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "logs: $LOGDIR"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
