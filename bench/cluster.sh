#!/usr/bin/env bash
# C1: replicated writes. A 3-node Wire cluster on loopback, concurrent
# keep-alive clients doing PUT /v1/kv (bench/kvload) -> writes/s, p50, p99;
# then a 3-member etcd 3.4 cluster on loopback measured by the same client at
# the same concurrency through its gateway (POST /v3/kv/put); both printed
# with the ratio. Then leader failover: C1_KILLS times kill -9 the Wire leader
# (election timeout 1 s) and time until a write through a surviving node is
# answered 200; the median is printed.
#   bench/cluster.sh WIRE_BINARY BUILD_DIR
# The same on the leader with wrk -t2 -c64 (bench/kvput.lua), as issue 11 measured.
# Knobs: C1_CONNS (64), C1_DURATION (s, 10), C1_KILLS (10), C1_DIR (parent of
# the data dirs; default /var/tmp: disk, like a real node, for both systems).
# etcd-server is installed here when missing (as root), not by `make deps`.
set -euo pipefail
WIRE=$1
BUILD=${2:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONNS=${C1_CONNS:-64}
DURATION=${C1_DURATION:-10}
KILLS=${C1_KILLS:-10}
make -s -C "$ROOT" -f bench/kvload.mk BUILD="$BUILD" "$BUILD/kvload" >/dev/null
KVLOAD="$ROOT/$BUILD/kvload"
D=$(mktemp -d "${C1_DIR:-/var/tmp}/wire-c1.XXXXXX")
PIDS=()
cleanup() { # set -e: a pid already gone must not end the cleanup early
    local p
    set +e
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT

free_ports() {
    python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
# bounded: up to SECS, every 0.1 s
wait_until() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
http_ok() { [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$1")" = 200 ]; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "n/a"}'; }
result() { grep '^RESULT' | sed 's/^RESULT //'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# ---- Wire: 3 nodes, n1 bootstraps, n2 and n3 join it ----
declare -A WHTTP WRAFT WPID WFLAGS
for id in n1 n2 n3; do
    read -r hp rp < <(free_ports 2)
    WHTTP[$id]=127.0.0.1:$hp
    WRAFT[$id]=127.0.0.1:$rp
done
for id in n1 n2 n3; do
    WFLAGS[$id]="--node-id $id --http-addr ${WHTTP[$id]} --raft-addr ${WRAFT[$id]} --raft-dir $D/$id --raft-election-timeout 1s"
    [ $id != n1 ] && WFLAGS[$id]+=" --join ${WRAFT[n1]}"
done
wire_start() {
    local f
    read -ra f <<<"${WFLAGS[$1]}"
    "$WIRE" serve "${f[@]}" >>"$D/$1.log" 2>&1 &
    WPID[$1]=$!
    PIDS+=("$!")
}
wire_leader() { # the leader's id as n1 names it... or any node that answers
    local id l
    for id in "$@"; do
        l=$(curl -s --max-time 2 "http://${WHTTP[$id]}/status" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"]["node_id"])' 2>/dev/null) &&
            [ -n "$l" ] && { echo "$l"; return 0; }
    done
    return 1
}
voters3() {
    curl -s --max-time 2 "http://${WHTTP[$1]}/status" | python3 -c '
import json, sys
v = json.load(sys.stdin)["raft"]["voters"]
sys.exit(0 if (len(v) if isinstance(v, (list, dict)) else int(v)) == 3 else 1)'
}
# measure NAME KVLOAD-ARGS...: prints kvload's summary indented; RESULT line in $D/NAME
measure() {
    local name=$1
    shift
    "$KVLOAD" --conns "$CONNS" --duration "$DURATION" --prefix "$name" "$@" >"$D/out.$name" 2>&1 || true
    grep -v '^RESULT' "$D/out.$name" | sed 's/^/       /'
    grep '^RESULT' "$D/out.$name" | sed 's/^RESULT //' >"$D/$name" || echo "writes_per_s=0" >"$D/$name"
}
# measure_wrk NAME HOST:PORT wire|etcd: wrk 2 threads x 32 connections (the issue's
# measurement), $DURATION s, one new key per request; RESULT line in $D/NAME
measure_wrk() {
    if ! command -v wrk >/dev/null; then
        echo "       wrk not installed: skipped" && return 0
    fi
    wrk -t2 -c64 -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/kvput.lua" "http://$2" -- "$3" \
        >"$D/out.$1" 2>&1 || true
    grep -E 'Requests/sec|RESULT' "$D/out.$1" | sed 's/^/       /'
    grep '^RESULT' "$D/out.$1" | sed 's/^RESULT //' >"$D/$1" || echo "writes_per_s=0" >"$D/$1"
}
get() { [ -f "$D/$1" ] && tr ' ' '\n' <"$D/$1" | sed -n "s/^$2=//p"; }
echo "C1   $CONNS concurrent keep-alive clients, one PUT of a unique key (100-byte value) at a time each, $DURATION s per run; data dirs on $(df --output=fstype "$D" | tail -1)"

run_wire() {
    wire_start n1
    wait_until 30 http_ok "http://${WHTTP[n1]}/readyz" || { echo "C1   wire: n1 not ready; log:"; tail -5 "$D/n1.log"; return 1; }
    wire_start n2
    wire_start n3
    if ! wait_until 60 voters3 n1 || ! wait_until 30 http_ok "http://${WHTTP[n3]}/readyz"; then
        echo "C1   wire: no 3-node cluster in 60 s"
        tail -5 "$D"/n*.log
        return 1
    fi
    ALL_WIRE="${WHTTP[n1]},${WHTTP[n2]},${WHTTP[n3]}"
    L=$(wire_leader n1 n2 n3 || echo n1)
    echo "C1   wire, 3 nodes, clients spread over all nodes (followers forward):"
    measure wire_all --mode wire --addr "$ALL_WIRE"
    echo "C1   wire, clients on the leader ($L) only:"
    measure wire_leader --mode wire --addr "${WHTTP[$L]}"
    echo "C1   wire, wrk -t2 -c64 on the leader ($L):"
    measure_wrk wire_wrk "${WHTTP[$L]}" wire

    # ---- failover: kill -9 the leader, time until a survivor answers a write 200 ----
    put_ok() { [ "$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' -X PUT --data-binary x "http://$1/v1/kv/failover")" = 200 ]; }
    FO=()
    for k in $(seq 1 "$KILLS"); do
        L=$(wire_leader n1 n2 n3) || { echo "C1   failover: no leader before kill $k"; break; }
        SURV=()
        for id in n1 n2 n3; do [ "$id" != "$L" ] && SURV+=("${WHTTP[$id]}"); done
        t0=$(date +%s%N)
        kill -9 "${WPID[$L]}"
        wait "${WPID[$L]}" 2>/dev/null || true
        ok=
        for _ in $(seq 1 300); do # bounded: 300 tries of <= 1 s each
            for a in "${SURV[@]}"; do put_ok "$a" && { ok=1; break; }; done
            [ -n "$ok" ] && break
            [ $(($(date +%s%N) - t0)) -gt 20000000000 ] && break
        done
        t1=$(date +%s%N)
        if [ -n "$ok" ]; then FO+=($(((t1 - t0) / 1000000))); else echo "C1   failover: no write within 20 s after kill $k"; fi
        wire_start "$L" # rejoin with its state, then let the cluster settle
        wait_until 30 http_ok "http://${WHTTP[$L]}/readyz?sync" || echo "C1   failover: $L not ready after restart"
        sleep 1
    done
    FO_MED=$(echo "${FO[*]:-}" | median)
    echo "C1   wire failover, kill -9 of the leader -> a write answered 200 by a survivor (election timeout 1 s): median $FO_MED ms over ${#FO[@]} kills (${FO[*]:-} ms)"
    for id in n1 n2 n3; do kill -TERM "${WPID[$id]}" 2>/dev/null || true; done
    for id in n1 n2 n3; do wait "${WPID[$id]}" 2>/dev/null || true; done
}

run_etcd() {
    # ---- etcd 3.4: 3 members on loopback, same client, same concurrency ----
    if ! command -v etcd >/dev/null; then
        "$ROOT/scripts/deps.sh" etcd-server >&2 || true
    fi
    if ! command -v etcd >/dev/null; then
        echo "C1   etcd: not installed and could not be installed (needs root): no comparison"
        return 1
    fi
    declare -A ECL EPE
    CLUSTER=
    for m in e1 e2 e3; do
        read -r cp pp < <(free_ports 2)
        ECL[$m]=127.0.0.1:$cp
        EPE[$m]=127.0.0.1:$pp
        CLUSTER+="${CLUSTER:+,}$m=http://${EPE[$m]}"
    done
    for m in e1 e2 e3; do
        etcd --name "$m" --data-dir "$D/$m" --logger zap --log-outputs stderr \
            --listen-client-urls "http://${ECL[$m]}" --advertise-client-urls "http://${ECL[$m]}" \
            --listen-peer-urls "http://${EPE[$m]}" --initial-advertise-peer-urls "http://${EPE[$m]}" \
            --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token "wire-c1-$$" \
            >"$D/$m.log" 2>&1 &
        PIDS+=("$!")
    done
    etcd_healthy() { curl -s --max-time 2 "http://$1/health" | grep -q '"health":"true"'; }
    for m in e1 e2 e3; do
        wait_until 30 etcd_healthy "${ECL[$m]}" || { echo "C1   etcd: $m not healthy in 30 s"; tail -3 "$D/$m.log"; return 1; }
    done
    ALL_ETCD="${ECL[e1]},${ECL[e2]},${ECL[e3]}"
    echo "C1   etcd $(etcd --version | sed -n 's/^etcd Version: //p'), 3 members, clients spread over all members:"
    measure etcd_all --mode etcd --addr "$ALL_ETCD"
    ELEAD=e1
    for m in e1 e2 e3; do
        s=$(curl -s --max-time 2 -X POST -d '{}' "http://${ECL[$m]}/v3/maintenance/status" |
            python3 -c 'import json,sys; s=json.load(sys.stdin); print(int(s["leader"]==s["header"]["member_id"]))' 2>/dev/null || echo 0)
        [ "$s" = 1 ] && ELEAD=$m
    done
    echo "C1   etcd, clients on the leader ($ELEAD) only:"
    measure etcd_leader --mode etcd --addr "${ECL[$ELEAD]}"
    echo "C1   etcd, wrk -t2 -c64 on the leader ($ELEAD):"
    measure_wrk etcd_wrk "${ECL[$ELEAD]}" etcd
}

# C1_SYSTEMS="wire etcd" (default) or just one of them
case " ${C1_SYSTEMS:-wire etcd} " in *" wire "*) run_wire || echo "C1   wire: run failed (logs were in $D)" ;; esac
case " ${C1_SYSTEMS:-wire etcd} " in *" etcd "*) run_etcd || true ;; esac

# ---- the comparison ----
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
for how in all leader wrk; do
    ww=$(get "wire_$how" writes_per_s) ew=$(get "etcd_$how" writes_per_s)
    wp=$(get "wire_$how" p99_ms) ep=$(get "etcd_$how" p99_ms)
    if [ -z "$ww" ] || [ -z "$ew" ]; then
        echo "C1   clients on $how: wire ${ww:-not measured} writes/s, etcd ${ew:-not measured} writes/s"
        continue
    fi
    for sys in wire etcd; do
        printf 'C1   clients on %-6s %-4s %8s writes/s  p50 %7s ms  p99 %7s ms  p99.9 %7s ms  max %8s ms\n' \
            "$how:" "$sys" "$(get "${sys}_$how" writes_per_s)" "$(get "${sys}_$how" p50_ms)" \
            "$(get "${sys}_$how" p99_ms)" "$(get "${sys}_$how" p999_ms)" "$(get "${sys}_$how" max_ms)"
    done
    echo "C1   clients on $how: wire/etcd throughput $(ratio "${ww:-0}" "${ew:-0}")x, p99 $(ratio "${wp:-0}" "${ep:-0}")x (below 1: Wire's tail is shorter)"
done
