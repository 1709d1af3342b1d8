#!/usr/bin/env bash
# C1t: replicated KV writes with TLS between the nodes (issue 13's target:
# >= 0.8x of plain). The same 3-node cluster twice in one invocation —
# plain, then --peer-cert-file/--peer-key-file/--peer-trusted-ca-file with
# --peer-client-cert-auth — each measured by bench/kvload (C1_CONNS clients
# spread over all nodes, so followers forward through the inter-node port
# too) for C1_DURATION s; writes/s, p50/p99 and the ratio.
#   bench/kv_peer_tls.sh WIRE_BINARY BUILD_DIR
set -euo pipefail
WIRE=$1
BUILD=${2:-build/release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONNS=${C1_CONNS:-64}
DURATION=${C1_DURATION:-10}
make -s -C "$ROOT" -f bench/kvload.mk BUILD="$BUILD" "$BUILD/kvload" >/dev/null
KVLOAD="$ROOT/$BUILD/kvload"
D=$(mktemp -d "${C1_DIR:-/var/tmp}/wire-c1t.XXXXXX")
PIDS=()
cleanup() {
    local p
    set +e
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
P=$D/pki
mkdir -p "$P"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 2 -subj /CN=ca >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$P/node.key" -out "$P/node.csr" -subj /CN=node >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$P/node.ext"
openssl x509 -req -in "$P/node.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
    -out "$P/node.crt" -days 2 -extfile "$P/node.ext" >/dev/null 2>&1
free_ports() {
    python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
wait_until() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
voters3() {
    curl -s --max-time 2 "http://$1/status" | python3 -c '
import json, sys
v = json.load(sys.stdin)["raft"]["voters"]
sys.exit(0 if (len(v) if isinstance(v, (list, dict)) else int(v)) == 3 else 1)'
}
# arm LABEL [FLAGS]: a fresh 3-node cluster with FLAGS on every node, measured, stopped
arm() {
    local label=$1 id hp rp addrs="" n1raft="" pids=()
    shift
    for id in n1 n2 n3; do
        read -r hp rp < <(free_ports 2)
        local f=(--node-id "$id" --http-addr "127.0.0.1:$hp" --raft-addr "127.0.0.1:$rp"
            --raft-dir "$D/$label/$id" --raft-election-timeout 1s "$@")
        [ "$id" = n1 ] && n1raft=127.0.0.1:$rp || f+=(--join "$n1raft")
        "$WIRE" serve "${f[@]}" >>"$D/$label.$id.log" 2>&1 &
        pids+=("$!")
        PIDS+=("$!")
        addrs+="${addrs:+,}127.0.0.1:$hp"
        [ "$id" = n1 ] && wait_until 30 curl -sf -o /dev/null "http://127.0.0.1:$hp/readyz"
    done
    if ! wait_until 60 voters3 "${addrs%%,*}"; then
        echo "C1t  $label: no 3-node cluster in 60 s"
        tail -3 "$D"/"$label".*.log
        return 1
    fi
    "$KVLOAD" --conns "$CONNS" --duration "$DURATION" --prefix "$label" --mode wire --addr "$addrs" \
        >"$D/out.$label" 2>&1 || true
    echo "C1t  $label:"
    grep -v '^RESULT' "$D/out.$label" | sed 's/^/       /'
    grep '^RESULT' "$D/out.$label" | sed 's/^RESULT //' | tr ' ' '\n' | sed -n 's/^writes_per_s=//p' >"$D/rate.$label"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
arm plain
arm peer-tls --peer-cert-file "$P/node.crt" --peer-key-file "$P/node.key" \
    --peer-trusted-ca-file "$P/ca.crt" --peer-client-cert-auth
awk -v t="$(cat "$D/rate.peer-tls" 2>/dev/null || echo 0)" -v p="$(cat "$D/rate.plain" 2>/dev/null || echo 0)" 'BEGIN {
    if (p > 0) printf "C1t  peer TLS / plain writes/s: %.2f (issue 13 target >= 0.8)\n", t / p }'
