# lib.sh — helpers for integration scripts. Source it; call check/finish.
#   check "description" command...   runs the command, counts pass/fail
#   finish                           prints "N passed, N failed", exits
set -u
WIRE=${WIRE_BIN:?WIRE_BIN must point at the wire binary}
T_PASS=0
T_FAIL=0
TMP=$(mktemp -d /tmp/wire-it.XXXXXX)
T_PIDS=()
cleanup() {
    for p in "${T_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

ok() { T_PASS=$((T_PASS + 1)); echo "ok   $1"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1"; }
check() {
    local desc=$1; shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# check_eq "description" WANT GOT: passes when equal; shows both when not
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (want '$2', got '$3')"; fi
}
finish() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" = 0 ]
    exit $?
}
# free_port: a TCP port nobody listens on (loopback)
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# wait_for CMD...: retry for up to 10 s
wait_for() {
    local i
    for i in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
# wait_until SECONDS CMD...: retry every 0.1 s for up to SECONDS
wait_until() {
    local secs=$1 i
    shift
    for i in $(seq 1 $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
