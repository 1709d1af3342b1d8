#!/usr/bin/env bash
# test_peer_tls.sh — TLS on the inter-node port (issue 13), through the real
# `wire serve`, with certificates made here by openssl:
#   - three nodes with --peer-cert-file/--peer-key-file/--peer-trusted-ca-file
#     and --peer-client-cert-auth form a cluster (joining with no token
#     under --auth: the certificate is the credential), replicate KV writes,
#     and elect a new leader after kill -9;
#   - a node without a certificate, with another CA's, and with one of the
#     right CA but a CN not in --peer-cert-allowed-cn cannot join; each
#     refusal is logged with the peer's address and reason; plaintext bytes
#     sent to the port get nothing;
#   - the issue's attacks against a peer-mTLS + --auth cluster: refused, and
#     no node is removed;
#   - the peer certificate replaced and SIGHUP: the cluster keeps working
#     and a new node joins with the new certificate;
#   - snapshots installed over TLS (a node that joins late catches up).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
cd "$TMP" || exit 1
command -v openssl >/dev/null || { not_ok "openssl is not installed"; finish; }

mkdir -p pki && cd pki || exit 1
ca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=$1" >/dev/null 2>&1; }
cert() { # cert NAME CA CN
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1\n' >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" \
        -days 2 -extfile "$1.ext" >/dev/null 2>&1
}
ca ca
ca other
cert node ca wire-node
cert node2 ca wire-node
cert stranger ca somebody
cert rogue other wire-node
cd "$TMP" || exit 1
P=$TMP/pki
check "openssl made the certificates" test -s "$P/node2.crt" -a -s "$P/rogue.crt"
for i in 1 2 3; do
    cp "$P/node.crt" "$TMP/n$i.crt"
    cp "$P/node.key" "$TMP/n$i.key"
done
peer() { echo "--peer-cert-file $TMP/$1.crt --peer-key-file $TMP/$1.key --peer-trusted-ca-file $P/ca.crt --peer-client-cert-auth --peer-cert-allowed-cn wire-node"; }

section peers
node_new n1 $(peer n1) --auth --auth-token-file "$TMP/admin.token" --raft-snap 16
node_start n1
check "n1 starts with peer mTLS and --auth" wait_until 30 ready n1
for i in 2 3; do
    node_new "n$i" $(peer "n$i") --auth --join "${C_RAFT[n1]}" --raft-snap 16
    node_start "n$i"
done
C_TOKEN=$(cat "$TMP/admin.token")
check "n2 and n3 join over TLS with their certificates (no join token)" wait_until 60 voters_are 3 n1 n2 n3
check "a KV write on a follower" kv_put n3 k1 v1
check "  read on every node" wait_until 10 eval 'kv_is n1 k1 v1 && kv_is n2 k1 v1 && kv_is n3 k1 v1'
for k in $(seq 1 40); do kv_put n2 "bulk$k" "$k" || break; done
check "40 more writes through a follower" kv_is n1 bulk40 40 strong

# ---- who cannot join ----------------------------------------------------------------------
rogue() { # rogue NAME [FLAGS]: a node trying to join; returns its exit status
    local name=$1 p rc
    shift
    node_new "$name" --join "${C_RAFT[n2]}" --join-attempts 2 --join-interval 200ms "$@"
    node_start "$name"
    p=${C_PID[$name]}
    wait_until 60 eval "! kill -0 $p"
    wait "$p"
    rc=$?
    _untrack "$p"
    C_PID[$name]=
    return $rc
}
logs() { cat "${C_LOG[n1]}" "${C_LOG[n2]}" "${C_LOG[n3]}"; }
rogue r1
check_eq "a node without peer TLS cannot join (exit 1)" 1 $?
check "  the refusal is logged with its address and reason" \
    eval 'logs | grep -qE "peer TLS from 127\.0\.0\.1:[0-9]+ refused: (wrong version number|http request|.*packet)"'
rogue r2 --peer-cert-file "$P/rogue.crt" --peer-key-file "$P/rogue.key" --peer-trusted-ca-file "$P/ca.crt"
check_eq "a node with another CA's certificate cannot join (exit 1)" 1 $?
check "  logged: certificate refused" eval 'logs | grep -q "refused: certificate refused: unable to get local issuer certificate"'
rogue r3 --peer-cert-file "$P/stranger.crt" --peer-key-file "$P/stranger.key" --peer-trusted-ca-file "$P/ca.crt"
check_eq "a certificate of the right CA with a CN not allowed cannot join (exit 1)" 1 $?
check "  logged: the CN" eval 'logs | grep -q "certificate CN .somebody. is not the allowed .wire-node."'
python3 - "${C_RAFT[n1]}" <<'PY'
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=5)
s.sendall(b"\x02" + b"\x00" * 64)  # an RPC frame in plaintext
s.settimeout(5)
try:
    data = s.recv(100)
except Exception:
    data = b""
sys.exit(0 if not data.startswith(b"\x02") else 1)
PY
check "plaintext RPC bytes get no RPC answer" test $? = 0
check "still 3 voters" voters_are 3 n1 n2 n3

# ---- the attacks with --auth and peer mTLS --------------------------------------------------
T=$C_TOKEN
C_TOKEN=
req DELETE n2 /remove '{"id": "n1"}'
check_eq "DELETE /remove n1 without a token: 401" 401 "$R_CODE"
req POST n2 /v1/pipelines "name: a
source: {type: file, config: {path: /etc/shadow}}
sink: {type: stdout}"
check_eq "a pipeline reading /etc/shadow without a token: 401" 401 "$R_CODE"
C_TOKEN=$T
check "n1 is still a voter" voters_are 3 n1 n2 n3

# ---- rotation ------------------------------------------------------------------------------
cp "$P/node2.crt" "$TMP/n1.crt.new" && cp "$P/node2.key" "$TMP/n1.key.new"
mv "$TMP/n1.key.new" "$TMP/n1.key" && mv "$TMP/n1.crt.new" "$TMP/n1.crt"
kill -HUP "${C_PID[n1]}"
check "n1 reloads its peer certificate (SIGHUP)" wait_until 10 grep -q "peer TLS: server certificate reloaded" "${C_LOG[n1]}"
check "  and is still up" node_alive n1
check "writes go on" kv_put n2 after-rotation yes
node_new n4 $(peer n1) --auth --join "${C_RAFT[n1]}" --raft-snap 16
node_start n4
check "a fourth node joins through n1's new certificate, and catches up" \
    wait_until 60 eval 'voters_are 4 n1 n2 n3 n4 && kv_is n4 after-rotation yes && kv_is n4 bulk40 40'

# ---- failover over TLS -------------------------------------------------------------------
L=$(leader_of n1)
node_kill "$L"
rest=()
for i in n1 n2 n3 n4; do [ "$i" != "$L" ] && rest+=("$i"); done
check "the leader killed (-9): a new one among the rest" wait_until 60 wait_leader 30 "${rest[@]}"
check "  and writes go on" wait_until 30 kv_put "${rest[0]}" after-failover yes
check "the rest stop cleanly on SIGTERM (exit 0: no leak, TLS bridges closed)" node_term_all "${rest[@]}"
check "no sanitizer reports" logs_clean
finish
