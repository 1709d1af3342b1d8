#!/usr/bin/env bash
# `wire serve` as a cluster, black-box through its flags and HTTP API
# (DESIGN.md, issue 4): flag validation; single-node bootstrap and restart;
# 3 nodes by --join (through any member, twice is a no-op); the KV API with
# forwarding and read levels; /nodes /status /readyz /livez /metrics;
# malformed requests and garbage on both ports; --bootstrap-expect 3 in
# random order, 10 times; 5 nodes with a non-voter; remove and re-add; a
# follower catching up through snapshot install; quorum loss; full-cluster
# restart; leadership handover on SIGTERM; remove-on-shutdown.
# Every node runs on 127.0.0.1 with its own ports and dir under $TMP.
# Knobs: CLUSTER_ONLY="join snap" (sections: flags single join expect nonvoter
# snap stepdown), CLUSTER_SEED (start orders), CLUSTER_BE_TRIES (10),
# C_TIMING (raft timing flags for every node).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
cd "$TMP" || exit 1
SEED=${CLUSTER_SEED:-$RANDOM}
RANDOM=$SEED
echo "seed $SEED (CLUSTER_SEED=$SEED to repeat the random start orders)"

# ---- checks used below
READY_TEXT=$'[+]node ok\n[+]leader ok\n[+]store ok'
fatal() { # fatal ARGS...: wire ARGS exits 1 with a `fatal: ` line on stderr
    local rc
    timeout -s KILL 10 "$WIRE" "$@" >"$TMP/flags/out" 2>"$TMP/flags/err"
    rc=$?
    if [ $rc = 1 ] && grep -q '^fatal: ' "$TMP/flags/err"; then return 0; fi
    echo "  wire $*: rc=$rc, stderr: $(head -c 300 "$TMP/flags/err")"
    return 1
}

state_is() { # state_is ID STATE: raft.state, case-insensitive
    local s
    s=$(status_of "$1" raft.state) || return 1
    [ "${s,,}" = "$2" ]
}

put_index() { # put_index ID KEY VALUE: 200 {"index":N>0}; N in PUT_INDEX
    kv_put "$1" "$2" "$3" || { echo "  PUT $2 -> $R_CODE $R_BODY"; return 1; }
    PUT_INDEX=$(printf '%s' "$R_BODY" | jget index) || return 1
    [[ $PUT_INDEX =~ ^[0-9]+$ ]] && [ "$PUT_INDEX" -gt 0 ]
}

nodes_ok() { # nodes_ok ID QUERY LEADER EXPECT...: EXPECT = id:voter (true|false)
    local id=$1 q=$2 leader=$3
    shift 3
    local spec="" e
    for e in "$@"; do spec+="$e=${C_HTTP[${e%%:*}]}=${C_RAFT[${e%%:*}]} "; done
    curl -s --max-time "$C_CURL_TIME" "http://${C_HTTP[$id]}/nodes$q" | python3 -c '
import json, sys
q, leader, spec = sys.argv[1], sys.argv[2], sys.argv[3].split()
doc = json.load(sys.stdin)
if "ver=2" in q:
    nodes = doc["nodes"]
    assert isinstance(nodes, list), "ver=2: nodes is not a list"
else:
    assert isinstance(doc, dict), "not a map"
    for k, v in doc.items():
        assert v["id"] == k, "key %s holds id %s" % (k, v["id"])
    nodes = list(doc.values())
got = {n["id"]: n for n in nodes}
want = {}
for s in spec:
    idv, http, raft = s.split("=")
    i, voter = idv.split(":")
    want[i] = (voter == "true", http, raft)
assert set(got) == set(want), "ids %s, want %s" % (sorted(got), sorted(want))
for i, (voter, http, raft) in want.items():
    n = got[i]
    assert n["voter"] is voter, "%s voter=%r" % (i, n["voter"])
    assert n["addr"] == raft, "%s addr=%r want %s" % (i, n["addr"], raft)
    assert str(n["api_addr"]).endswith(http), "%s api_addr=%r want ...%s" % (i, n["api_addr"], http)
    assert n["reachable"] is True, "%s not reachable" % i
    assert n["leader"] is (i == leader), "%s leader=%r" % (i, n["leader"])
' "$q" "$leader" "$spec" || { echo "  /nodes$q on $id: $(curl -s --max-time 5 "http://${C_HTTP[$id]}/nodes$q" | head -c 600)"; return 1; }
}

status_ok() { # status_ok ID LEADER
    curl -s --max-time "$C_CURL_TIME" "http://${C_HTTP[$1]}/status" | python3 -c '
import json, sys
me, leader, laddr, lhttp = sys.argv[1:5]
s = json.load(sys.stdin)
assert "node" in s and me in json.dumps(s["node"]), "node: %r" % s.get("node")
assert s["leader"]["node_id"] == leader, s["leader"]
assert s["leader"]["addr"] in (laddr, lhttp) or s["leader"]["addr"].endswith(laddr), s["leader"]
r = s["raft"]
for k in ("state", "term", "commit_index", "applied_index", "last_snapshot_index", "voters", "non_voters"):
    assert k in r, "raft.%s missing" % k
for k in ("term", "commit_index", "applied_index", "last_snapshot_index"):
    assert isinstance(r[k], int) and r[k] >= 0, "raft.%s=%r" % (k, r[k])
assert r["term"] >= 1
assert r["applied_index"] <= r["commit_index"] or me != leader, (r["applied_index"], r["commit_index"])
cnt = lambda v: len(v) if isinstance(v, (list, dict)) else int(v)
assert cnt(r["voters"]) == 3 and cnt(r["non_voters"]) == 0, (r["voters"], r["non_voters"])
' "$1" "$2" "${C_RAFT[$2]}" "${C_HTTP[$2]}" || { echo "  /status on $1: $(curl -s --max-time 5 "http://${C_HTTP[$1]}/status" | head -c 800)"; return 1; }
}

pretty_ok() {
    req GET "$1" "/status?pretty"
    [ "$R_CODE" = 200 ] && [ "$(printf '%s' "$R_BODY" | wc -l)" -gt 5 ] &&
        printf '%s' "$R_BODY" | jget raft.term >/dev/null
}

key_ok() {
    local t
    t=$(status_of "$1" raft.term) || return 1
    req GET "$1" "/status?key=raft.term"
    [ "$R_CODE" = 200 ] && [ "$(printf '%s' "$R_BODY" | jget "")" = "$t" ] && return 0
    echo "  ?key=raft.term -> $R_CODE '$R_BODY', raft.term is $t"
    return 1
}

key_obj_ok() { req GET "$1" "/status?key=leader"; [ "$R_CODE" = 200 ] && [ "$(printf '%s' "$R_BODY" | jget node_id)" = "$L" ]; }
readyz_ok() { # readyz_ok ID QUERY
    req GET "$1" "/readyz$2"
    [ "$R_CODE" = 200 ] && [ "${R_BODY%$'\n'}" = "$READY_TEXT" ] && [[ $R_TYPE == text/plain* ]] && return 0
    echo "  /readyz$2 on $1: $R_CODE ($R_TYPE) '$R_BODY'"
    return 1
}

metrics_ok() {
    req GET "$1" /metrics
    [ "$R_CODE" = 200 ] || return 1
    printf '%s\n' "$R_BODY" | python3 -c '
import re, sys
names = set()
for line in sys.stdin.read().splitlines():
    if not line or line.startswith("#"):
        continue
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( [0-9]+)?$", line)
    assert m, "not Prometheus text: %r" % line
    names.add(m.group(1))
assert any("raft" in n for n in names), "no raft metric in %s" % sorted(names)[:20]
assert any("http" in n for n in names), "no http metric in %s" % sorted(names)[:20]
'
}

bin_ok() {
    req PUT "$1" /v1/kv/bin "@$TMP/join/bin"
    [ "$R_CODE" = 200 ] || return 1
    curl -s --max-time 10 -o "$TMP/join/bin.out" "http://${C_HTTP[$2]}/v1/kv/bin?level=strong" -L &&
        cmp -s "$TMP/join/bin" "$TMP/join/bin.out"
}

bad_req() { # bad_req METHOD PATH [BODY]
    req "$@"
    [[ $R_CODE == 4* ]] && is_json_error && return 0
    echo "  $1 $2 -> $R_CODE '$(printf '%s' "$R_BODY" | head -c 200)'"
    return 1
}

raw_send() { # raw_send HOST:PORT HEX: send, then wait up to 3 s for the peer to close
    python3 - "$1" "$2" <<'EOF'
import socket, sys, time
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=3)
try:
    s.sendall(bytes.fromhex(sys.argv[2]))
    end = time.time() + 3
    while time.time() < end:
        if not s.recv(4096):
            sys.exit(0)  # closed by the node
except (ConnectionResetError, BrokenPipeError):
    sys.exit(0)
except socket.timeout:
    sys.exit(3)  # still open
sys.exit(0)
EOF
}

hex_of() { python3 -c 'import sys; print(sys.argv[1].encode().decode("unicode_escape").encode("latin1").hex())' "$1"; }
nv_count() { local v; v=$(status_of "$1" raft.non_voters) && [ "$(jcount "$v")" = 1 ]; }
no_leader_ready() {
    req GET "$Q" /readyz
    [ "$R_CODE" = 503 ] && [[ $R_BODY == *leader* ]]
}

# want SECTION: CLUSTER_ONLY="join snap" runs only those sections (default: all)
want() { case " ${CLUSTER_ONLY:-all} " in *" all "* | *" $1 "*) return 0 ;; esac; return 1; }

# ---------------------------------------------------------------------------
# Flags: a bad flag or combination prints `fatal: message` and exits 1.
if want flags; then
section flags
read -r FP1 FP2 < <(free_ports 2)
FD=$TMP/flags/d
BASE=(--node-id f1 --raft-dir "$FD")
check "flags: same --http-addr and --raft-addr -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP1
check "flags: bare form (no 'serve') validates too" \
    fatal "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP1
check "flags: --http-adv-addr 0.0.0.0 -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 --http-adv-addr 0.0.0.0:$FP1
check "flags: --raft-adv-addr 0.0.0.0 -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 --raft-adv-addr 0.0.0.0:$FP2
check "flags: --http-addr on every interface without authentication -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 0.0.0.0:$FP1 --http-adv-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2
check "  naming --insecure-no-auth" grep -q 'not a loopback address.*--insecure-no-auth' "$TMP/flags/err"
check "flags: a non-loopback host name without authentication -> fatal" \
    fatal serve "${BASE[@]}" --http-addr example.invalid:$FP1 --raft-addr 127.0.0.1:$FP2
check "flags: --insecure-no-auth lets it past (the next check, --node-timeout, stops it)" \
    fatal serve "${BASE[@]}" --insecure-no-auth --http-addr 0.0.0.0:$FP1 --http-adv-addr 127.0.0.1:$FP1 \
    --raft-addr 127.0.0.1:$FP2 --node-timeout 500ms
check "  there" grep -q 'node-timeout must be at least 1s' "$TMP/flags/err"
check "flags: so does --auth" \
    fatal serve "${BASE[@]}" --auth --http-addr 0.0.0.0:$FP1 --http-adv-addr 127.0.0.1:$FP1 \
    --raft-addr 127.0.0.1:$FP2 --node-timeout 500ms
check "  there too" grep -q 'node-timeout must be at least 1s' "$TMP/flags/err"
check "flags: --http-addr with a scheme -> fatal" \
    fatal serve "${BASE[@]}" --http-addr http://127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2
check "flags: --raft-addr with a scheme -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr tcp://127.0.0.1:$FP2
check "flags: --bootstrap-expect with --raft-non-voter -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 \
    --bootstrap-expect 3 --raft-non-voter --join 127.0.0.1:$FP2
check "flags: unknown flag -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 --no-such-flag
check "flags: bad duration -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 --raft-election-timeout soon
check "flags: non-numeric --bootstrap-expect -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 --bootstrap-expect three
check "flags: --node-timeout below 1s -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 --node-timeout 500ms
check "flags: --node-timeout not longer than the election timeout -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 \
    --node-timeout 2s --raft-election-timeout 2s
check "flags: a cert without its key -> fatal" \
    fatal serve "${BASE[@]}" --http-addr 127.0.0.1:$FP1 --raft-addr 127.0.0.1:$FP2 --http-cert "$TMP/none.pem"

fi
# ---------------------------------------------------------------------------
# Single node: no --join and no state -> bootstrap alone; restart keeps state.
if want single; then
section single
node_new s1
C_VERB='' node_start s1 # bare `wire --flags` means serve
check "single: ready (/readyz 200) within 30 s" wait_until 30 ready s1
check "single: leads itself" [ "$(leader_of s1)" = s1 ]
check "single: raft.state is leader" state_is s1 leader
check "single: one voter" voters_are 1 s1
check "single: the raft dir was created" [ -d "${C_DIR[s1]}" ]
check "single: PUT -> 200 {\"index\":N}" put_index s1 hello world
I1=${PUT_INDEX:-0}
check "single: GET level=strong" kv_is s1 hello world strong
check "single: GET level=weak" kv_is s1 hello world weak
check "single: GET level=none" kv_is s1 hello world none
check "single: GET without level" kv_is s1 hello world ""
check "single: SIGTERM -> exit 0 (ASan clean)" node_term s1
C_VERB='' node_start s1
check "single: restarted with the same flags, ready" wait_until 30 ready s1 "?sync"
check "single: state kept over the restart" kv_is s1 hello world none
check "single: still its own leader" [ "$(leader_of s1)" = s1 ]
check "single: next PUT has a higher index" eval 'put_index s1 hello again && [ "$PUT_INDEX" -gt "$I1" ]'
check "single: SIGTERM -> exit 0" node_term s1

fi
# ---------------------------------------------------------------------------
# 3 nodes by --join: n2 joins n1; n3 joins through a dead address and n2 (a
# follower: join must be redirected to the leader).
if want join; then
section join
read -r DEADP < <(free_ports 1)
node_new n1
node_start n1
check "join: n1 bootstraps alone" wait_until 30 ready n1
node_new n2 --join "${C_RAFT[n1]}"
node_start n2
check "join: n2 joins through n1" wait_until 60 voters_are 2 n1 n2
node_new n3 --join "127.0.0.1:$DEADP,${C_RAFT[n2]}" --join-interval 500ms
node_start n3
check "join: n3 joins through a follower (and past a dead address)" wait_until 60 voters_are 3 n1 n2 n3
L=$(wait_leader 30 n1 n2 n3)
check "join: all three name the same leader" [ -n "$L" ]
[ -n "$L" ] || { show_logs n1 n2 n3; L=n1; }
read -ra F <<<"$(followers_of "$L" n1 n2 n3)"
echo "leader $L, followers ${F[*]}"
check "join: leader reports raft.state leader" state_is "$L" leader
check "join: a follower reports raft.state follower" state_is "${F[0]}" follower

# /nodes: id -> {id, api_addr, addr, voter, reachable, leader}
for id in n1 n2 n3; do
    check "nodes: /nodes on $id lists n1 n2 n3 with addresses, voter, reachable, leader" \
        wait_until 10 nodes_ok "$id" "" "$L" n1:true n2:true n3:true
done
check "nodes: ?ver=2 -> {\"nodes\":[...]}" nodes_ok "${F[0]}" "?ver=2" "$L" n1:true n2:true n3:true
check "nodes: ?nonvoters with none" nodes_ok "${F[1]}" "?nonvoters" "$L" n1:true n2:true n3:true

# /status fields
check "status: leader's /status has node, leader{node_id,addr}, raft{...}" status_ok "$L" "$L"
check "status: a follower's /status names the leader" status_ok "${F[0]}" "$L"
check "status: ?pretty is indented JSON" pretty_ok "$L"
check "status: ?key=raft.term -> just the term" key_ok "${F[1]}"
check "status: ?key=leader -> the leader object" key_obj_ok "${F[0]}"

# /readyz, /livez, /metrics
check "readyz: leader 200 with the three [+] lines, text/plain" readyz_ok "$L" ""
check "readyz: follower 200" readyz_ok "${F[0]}" ""
check "readyz: ?sync 200" readyz_ok "${F[1]}" "?sync"
check "readyz: ?noleader 200" eval 'req GET "${F[1]}" "/readyz?noleader"; [ "$R_CODE" = 200 ]'
check "livez: 200" eval 'req GET "${F[0]}" /livez; [ "$R_CODE" = 200 ]'
check "metrics: Prometheus text with raft and http counters" metrics_ok "${F[0]}"

# KV through a follower: forwarded to the leader, 200 {"index":N}
FA=${F[0]} FB=${F[1]}
check "kv: PUT to a follower -> 200 {\"index\":N}" put_index "$FA" k1 v1
check "kv: readyz?sync on that follower, then level=none sees it" \
    eval 'ready "$FA" "?sync" && kv_is "$FA" k1 v1 none'
check "kv: GET level=strong on the leader" kv_is "$L" k1 v1 strong
check "kv: GET level=weak on the leader" kv_is "$L" k1 v1 weak
R_CURL=(-L) # a follower may forward or redirect strong/weak reads
check "kv: GET level=strong on a follower" kv_is "$FB" k1 v1 strong
check "kv: GET level=weak on a follower" kv_is "$FB" k1 v1 weak
R_CURL=()
check "kv: level=none on every node (eventually)" \
    eval 'wait_until 10 kv_is n1 k1 v1 && wait_until 10 kv_is n2 k1 v1 && wait_until 10 kv_is n3 k1 v1'
check "kv: overwrite via the other follower" eval 'put_index "$FB" k1 v2 && I2=$PUT_INDEX'
check "kv: strong read sees the overwrite at once" kv_is "$L" k1 v2 strong
check "kv: PUT to the leader -> higher index" eval 'put_index "$L" k1 v3 && [ "$PUT_INDEX" -gt "${I2:-0}" ]'
check "kv: absent key -> 404" kv_absent "$FA" no-such-key strong
check "kv: absent key -> 404 with JSON error" eval 'kv_absent "$L" no-such-key strong && is_json_error'
check "kv: DELETE via a follower -> 200" eval 'req DELETE "$FA" /v1/kv/k1; [ "$R_CODE" = 200 ]'
check "kv: deleted key -> 404 (strong)" kv_absent "$L" k1 strong
check "kv: deleted key -> 404 everywhere (none, after sync)" \
    eval 'all_ready n1 n2 n3 && kv_absent n1 k1 && kv_absent n2 k1 && kv_absent n3 k1'
check "kv: DELETE of an absent key is not a 5xx" \
    eval 'req DELETE "$FB" /v1/kv/never-was; [ "$R_CODE" -lt 500 ] && [ "$R_CODE" != 000 ]'
# raw bytes in and out: quotes, newline, NUL-free binary, 20 KB
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(1, 256)) * 80 + b"\n\"end\"")' >"$TMP/join/bin"
check "kv: a 20 KB binary value round-trips byte for byte" bin_ok "$FA" "$L"

# Malformed requests: 4xx with {"error"}, never a crash.
check "malformed: ?level=bogus -> 4xx JSON" bad_req GET "$FA" "/v1/kv/x?level=bogus"
check "malformed: PUT with an empty key -> 4xx JSON" bad_req PUT "$FA" "/v1/kv/" v
check "malformed: PATCH /v1/kv/x -> 4xx JSON" bad_req PATCH "$L" "/v1/kv/x" v
check "malformed: POST /v1/kv/x -> 4xx JSON (writes are PUT)" bad_req POST "$L" "/v1/kv/x" v
check "malformed: unknown path -> 4xx JSON" bad_req GET "$FB" "/v1/nope"
check "malformed: DELETE /remove with non-JSON -> 4xx JSON" bad_req DELETE "$FA" /remove 'not json'
check "malformed: DELETE /remove without id -> 4xx JSON" bad_req DELETE "$FA" /remove '{}'
check "malformed: DELETE /remove with a numeric id -> 4xx JSON" bad_req DELETE "$L" /remove '{"id":5}'
check "malformed: DELETE /remove with truncated JSON -> 4xx JSON" bad_req DELETE "$FB" /remove '{"id":"n'
check "malformed: /status?key=no.such -> 4xx" eval 'req GET "$FA" "/status?key=no.such"; [[ $R_CODE == 4* ]]'
# a long key and a large value: any definite answer, the node survives
LONGKEY=$(printf 'k%.0s' $(seq 1 6000))
req PUT "$FA" "/v1/kv/$LONGKEY" v
echo "  6000-byte key -> $R_CODE"
check "malformed: a 6000-byte key gets an answer" [ "$R_CODE" != 000 ]
head -c 3000000 /dev/zero | tr '\0' 'z' >"$TMP/join/big"
req PUT "$FB" /v1/kv/big "@$TMP/join/big"
echo "  3 MB value -> $R_CODE"
check "malformed: a 3 MB value gets an answer (200 or 413)" eval '[ "$R_CODE" = 200 ] || [ "$R_CODE" = 413 ]'
# garbage on the sockets (python: raw bytes, bounded by timeouts)
raw_send "${C_HTTP[$FA]}" "$(hex_of 'GARBAGE \x00\xff\r\n\r\n')" >/dev/null 2>&1
raw_send "${C_HTTP[$FA]}" "$(hex_of 'PUT /v1/kv/x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\nabc')" >/dev/null 2>&1
raw_send "${C_HTTP[$FB]}" "$(hex_of 'PUT /v1/kv/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')" >/dev/null 2>&1
check "mux: an unknown first byte -> the node closes the connection" raw_send "${C_RAFT[$FA]}" 09deadbeef
raw_send "${C_RAFT[$FB]}" 01ffffffffffffffff0000 >/dev/null 2>&1     # Raft service, garbage handshake
raw_send "${C_RAFT[$FB]}" 02ffffffff0102030405 >/dev/null 2>&1       # RPC service, absurd length
raw_send "${C_RAFT[$L]}" 0200000010ffffffffffffffffffffffff >/dev/null 2>&1 # RPC, garbage frame to the leader
for id in n1 n2 n3; do
    check "malformed: $id alive after all that (/livez)" eval 'req GET '"$id"' /livez; [ "$R_CODE" = 200 ]'
done
check "malformed: the cluster still has a leader and accepts writes" \
    eval 'wait_leader 20 n1 n2 n3 >/dev/null && put_index "$FB" after-garbage ok'

# Joining twice is a no-op: restart n3 with its --join, and a new process
# with n3's id and address but an empty dir.
check "join twice: n3 SIGTERM -> exit 0" node_term n3
node_start n3
check "join twice: n3 restarted with --join again, ready" wait_until 60 ready n3 "?sync"
check "join twice: still 3 voters on every node" wait_until 20 voters_are 3 n1 n2 n3
check "join twice: n3 still sees the data" kv_is n3 after-garbage ok
check "join twice: /nodes unchanged" wait_until 10 nodes_ok "$L" "" "$(leader_of n1)" n1:true n2:true n3:true
node_kill n3
rm -rf "${C_DIR[n3]}"
node_start n3
check "join twice: same id and address with a fresh dir rejoins (no-op join), catches up" \
    eval 'wait_until 60 ready n3 "?sync" && wait_until 20 kv_is n3 after-garbage ok'
check "join twice: still 3 voters" wait_until 20 voters_are 3 n1 n2 n3
check "join: SIGTERM all three -> exit 0 (ASan clean)" node_term_all n1 n2 n3

fi
# ---------------------------------------------------------------------------
# --bootstrap-expect 3, started in random order with random delays, 10 times:
# exactly one 3-node cluster each time.
if want expect; then
BE_OK=0
BE_FAIL=0
BE_TRIES=${CLUSTER_BE_TRIES:-10}
for t in $(seq 1 "$BE_TRIES"); do
    [ "$BE_FAIL" -ge 2 ] && { echo "  (stopping after 2 failed tries)"; break; }
    section "expect$t"
    node_new b1
    node_new b2
    node_new b3
    JOIN="${C_RAFT[b1]},${C_RAFT[b2]},${C_RAFT[b3]}"
    for id in b1 b2 b3; do C_FLAGS[$id]+=" --bootstrap-expect 3 --join $JOIN --join-interval 500ms"; done
    ord=(b1 b2 b3) # Fisher-Yates on $RANDOM, seeded above: repeatable with CLUSTER_SEED
    for ((i = 2; i > 0; i--)); do
        j=$((RANDOM % (i + 1)))
        x=${ord[i]} ord[i]=${ord[j]} ord[j]=$x
    done
    order="${ord[*]}"
    for id in "${ord[@]}"; do
        node_start "$id"
        sleep "0.$((RANDOM % 5))"
    done
    why=
    if ! L=$(wait_leader 30 b1 b2 b3); then
        why="no common leader: $(for id in b1 b2 b3; do printf '%s->%s ' "$id" "$(leader_of "$id")"; done)"
    elif ! wait_until 20 voters_are 3 b1 b2 b3; then
        why="voters: $(for id in b1 b2 b3; do printf '%s ' "$(status_of "$id" raft.voters)"; done)"
    else
        # a write through a random node is seen by all: one state machine
        w=b$((RANDOM % 3 + 1))
        if ! kv_put "$w" try "$t"; then
            why="PUT via $w -> $R_CODE $R_BODY"
        elif ! wait_until 20 kv_is b1 try "$t" || ! wait_until 20 kv_is b2 try "$t" || ! wait_until 20 kv_is b3 try "$t"; then
            why="20 s after it, the write via $w is not on every node (level=none):$(for id in b1 b2 b3; do req GET $id "/v1/kv/try?level=none"; printf ' %s=%s/%s' $id "$R_CODE" "$R_BODY"; done)"
        else
            for id in b1 b2 b3; do nodes_ok "$id" "" "$L" b1:true b2:true b3:true >/dev/null || why="/nodes on $id"; done
        fi
    fi
    if [ -n "$why" ]; then # what each node believes
        for id in b1 b2 b3; do
            why+=$'\n'"    $id /status: $(curl -s --max-time 5 "http://${C_HTTP[$id]}/status" | python3 -c '
import json, sys
s = json.load(sys.stdin); r = s["raft"]
print("leader", s["leader"], "state", r["state"], "term", r["term"], "commit", r["commit_index"],
      "applied", r["applied_index"], "voters", r["voters"])' 2>&1 | tail -1)"
        done
    fi
    if [ -z "$why" ]; then
        BE_OK=$((BE_OK + 1))
        echo "  try $t: start order $order, leader $L"
    else
        BE_FAIL=$((BE_FAIL + 1))
        echo "  try $t: start order $order: $why"
        show_logs b1 b2 b3
    fi
    node_kill_all b1 b2 b3
done
check "bootstrap-expect: one 3-node cluster in $BE_OK/$BE_TRIES tries" [ "$BE_OK" = "$BE_TRIES" ]

fi
# ---------------------------------------------------------------------------
# 5 nodes: 4 voters and a non-voter; remove a voter from another node, re-add
# it under a new id with a fresh dir on the same addresses.
if want nonvoter; then
section nonvoter
node_new v1
node_start v1
check "nonvoter: v1 bootstraps" wait_until 30 ready v1
for id in v2 v3 v4; do
    node_new "$id" --join "${C_RAFT[v1]}"
    node_start "$id"
done
node_new v5 --raft-non-voter --join "${C_RAFT[v2]}"
node_start v5
check "nonvoter: 4 voters on every node" wait_until 60 voters_are 4 v1 v2 v3 v4 v5
L=$(wait_leader 30 v1 v2 v3 v4 v5)
check "nonvoter: all five name the same leader (a voter)" eval '[ -n "$L" ] && [ "$L" != v5 ]'
[ -n "$L" ] || L=v1
check "nonvoter: the leader counts one non-voter" wait_until 20 nv_count "$L"
check "nonvoter: /nodes lists the voters only" wait_until 10 nodes_ok v5 "" "$L" v1:true v2:true v3:true v4:true
check "nonvoter: /nodes?nonvoters lists it with voter=false" \
    wait_until 10 nodes_ok v3 "?nonvoters" "$L" v1:true v2:true v3:true v4:true v5:false
check "nonvoter: ?ver=2&nonvoters too" wait_until 10 nodes_ok v1 "?ver=2&nonvoters" "$L" v1:true v2:true v3:true v4:true v5:false
check "nonvoter: a PUT to the non-voter is forwarded (200)" put_index v5 via-nv 1
check "nonvoter: bulk writes through the voters" \
    kv_tool bulk "${C_HTTP[v1]},${C_HTTP[v2]},${C_HTTP[v4]}" nv 300 "$TMP/nonvoter/exp.json" --delete-every 10
check "nonvoter: it replicates: level=none reads there see every write" \
    eval 'eventually 30 kv_tool check "${C_HTTP[v5]}" "$TMP/nonvoter/exp.json" && kv_is v5 via-nv 1'
check "nonvoter: reports raft.state other than leader/candidate" \
    eval 's=$(status_of v5 raft.state) && [ "${s,,}" != leader ] && [ "${s,,}" != candidate ]'

# remove v3 from the non-voter (any node: forwarded to the leader)
[ "$L" = v3 ] && echo "  (v3 leads: removing the leader)"
check "remove: DELETE /remove {\"id\":\"v3\"} via v5 -> 200" \
    eval 'req DELETE v5 /remove "{\"id\":\"v3\"}"; [ "$R_CODE" = 200 ] || { echo "  -> $R_CODE $R_BODY"; false; }'
check "remove: 3 voters left on every remaining node" wait_until 30 voters_are 3 v1 v2 v4 v5
L=$(wait_leader 30 v1 v2 v4 v5)
check "remove: a leader among the remaining voters" eval '[ -n "$L" ] && [ "$L" != v5 ]'
[ -n "$L" ] || L=v1
check "remove: /nodes no longer lists v3" wait_until 10 nodes_ok v1 "?nonvoters" "$L" v1:true v2:true v4:true v5:false
check "remove: writes go on" put_index v2 after-remove 1
node_kill v3
node_new_at v6 "${C_HTTP[v3]}" "${C_RAFT[v3]}" --join "${C_RAFT[v4]}"
node_start v6
check "re-add: v6 (v3's addresses, fresh dir) joins as a voter" wait_until 60 voters_are 4 v1 v2 v4 v6
L=$(wait_leader 30 v1 v2 v4 v5 v6)
check "re-add: /nodes lists v6 and not v3" \
    wait_until 10 nodes_ok v4 "?nonvoters" "$L" v1:true v2:true v4:true v5:false v6:true
check "re-add: v6 holds the whole state" \
    eval 'eventually 30 kv_tool check "${C_HTTP[v6]}" "$TMP/nonvoter/exp.json" && kv_is v6 after-remove 1'
# remove the leader itself (through another node): it steps down once the
# change commits; the answer is still 200 and the next leader drops its record
L=$(wait_leader 30 v1 v2 v4 v5 v6)
O=v5
[ "$L" = v5 ] && O=v4
check "remove leader: DELETE /remove {\"id\":\"$L\"} via $O -> 200" \
    eval 'req DELETE $O /remove "{\"id\":\"$L\"}"; [ "$R_CODE" = 200 ] || { echo "  -> $R_CODE $R_BODY"; false; }'
REST=()
for id in v1 v2 v4 v5 v6; do [ "$id" != "$L" ] && REST+=("$id"); done
check "remove leader: a new leader among the rest" eval '[ -n "$(wait_leader 30 "${REST[@]}")" ]'
dropped() { grep -q "dropping the record of node $L" "$TMP"/nonvoter/*.log; }
check "remove leader: the new leader drops $L's record" wait_until 20 dropped
check "nonvoter: SIGTERM all -> exit 0 (ASan clean)" node_term_all v1 v2 v4 v5 v6

fi
# ---------------------------------------------------------------------------
# Snapshots: a follower stopped while the cluster writes past many snapshots
# (--raft-snap 64) comes back through snapshot install with exactly the state.
if want snap; then
section snap
check "snap: 3 nodes with --raft-snap 64 --raft-snap-int 2s" cluster_join 3 --raft-snap 64 --raft-snap-int 2s
L=$(wait_leader 30 n1 n2 n3)
[ -n "$L" ] || L=n1
read -ra F <<<"$(followers_of "$L" n1 n2 n3)"
S=${F[0]} # the follower to stop
A=($(followers_of "$S" n1 n2 n3)) # the two that keep running
check "snap: first batch written" kv_tool bulk "${C_HTTP[${A[0]}]}" s1 200 "$TMP/snap/e1.json"
check "snap: $S in sync before the stop" eventually 20 kv_tool check "${C_HTTP[$S]}" "$TMP/snap/e1.json"
S_APPLIED=$(status_of "$S" raft.applied_index)
check "snap: $S SIGTERM -> exit 0" node_term "$S"
check "snap: 2000 writes (overwrites, deletes) while $S is down" \
    kv_tool bulk "${C_HTTP[${A[0]}]},${C_HTTP[${A[1]}]}" s2 2000 "$TMP/snap/e2.json" --delete-every 9 --overwrite-every 7
LSNAP=$(status_of "$L" raft.last_snapshot_index)
echo "  $S stopped at applied_index $S_APPLIED; leader's last_snapshot_index now $LSNAP"
check "snap: the leader snapshotted well past $S's position" \
    eval '[ "${LSNAP:-0}" -gt $((${S_APPLIED:-0} + 1000)) ]'
LCOMMIT=$(status_of "$L" raft.commit_index)
node_start "$S"
check "snap: $S restarted, /readyz within 60 s" wait_until 60 ready "$S" ""
sync_ok() { # /readyz answered 200: the node has applied what the leader had committed
    local a
    a=$(status_of "$S" raft.applied_index) || return 1
    [ "$a" -ge "${LCOMMIT:-0}" ] && return 0
    echo "  $S: /readyz$1 200 at applied_index $a; the leader had committed $LCOMMIT before the restart"
    return 1
}
check "readyz: a restarted follower answers 200 only once it applied the leader's commit index" sync_ok ""
check "snap: $S /readyz?sync" wait_until 60 ready "$S" "?sync"
check "readyz: ?sync on a restarted follower answers 200 only once it applied the leader's commit index" sync_ok "?sync"
check "snap: $S caught up (applied_index >= the leader's commit_index)" wait_until 60 caught_up n1 n2 n3
check "snap: $S installed a snapshot (last_snapshot_index past its old position)" \
    eval 'v=$(status_of "$S" raft.last_snapshot_index) && [ "$v" -gt "${S_APPLIED:-0}" ]'
for id in n1 n2 n3; do
    check "snap: $id holds exactly the expected state (level=none, every key)" \
        eventually 20 kv_tool check "${C_HTTP[$id]}" "$TMP/snap/e1.json" "$TMP/snap/e2.json"
done

# Quorum loss: with two of three stopped the survivor is alive, not ready.
Q=${A[0]}
read -ra OTHERS <<<"$(followers_of "$Q" n1 n2 n3)"
check "quorum: stop the other two (exit 0)" node_term_all "${OTHERS[@]}"
check "quorum: survivor's /readyz -> 503 naming the leader" wait_until 30 no_leader_ready
check "quorum: ?noleader -> 200" eval 'req GET "$Q" "/readyz?noleader"; [ "$R_CODE" = 200 ]'
check "quorum: /livez -> 200" eval 'req GET "$Q" /livez; [ "$R_CODE" = 200 ]'
C_CURL_TIME=5 req PUT "$Q" /v1/kv/noquorum x
check "quorum: a PUT is not acknowledged (got $R_CODE)" [ "$R_CODE" != 200 ]
check "quorum: level=none reads still served" kv_is "$Q" s1-5 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["s1-5"])' "$TMP/snap/e1.json")"

# Full-cluster stop and restart with no extra flags keeps all state.
check "restart: stop the last node (exit 0)" node_term "$Q"
for id in n3 n1 n2; do node_start "$id"; done
check "restart: a leader after the full restart" eval 'wait_leader 60 n1 n2 n3 >/dev/null'
check "restart: every node ready (?sync)" wait_until 60 all_ready n1 n2 n3
for id in n1 n2 n3; do
    check "restart: $id holds every key" eventually 20 kv_tool check "${C_HTTP[$id]}" "$TMP/snap/e1.json" "$TMP/snap/e2.json"
done
check "restart: 3 voters" voters_are 3 n1 n2 n3
check "restart: writes go on" put_index n2 after-restart 1
check "snap: SIGTERM all -> exit 0 (ASan clean)" node_term_all n1 n2 n3

fi
# ---------------------------------------------------------------------------
# SIGTERM of the leader with --raft-shutdown-stepdown hands leadership over
# before the process exits: with a 5 s election timeout a plain election
# would take >= 5 s, a handover well under that. --raft-cluster-remove-shutdown
# takes a node out of the configuration on its way out.
if want stepdown; then
section stepdown
C_TIMING="--raft-election-timeout 5s --raft-heartbeat-timeout 500ms --node-timeout 10s"
check "stepdown: 3 nodes with --raft-shutdown-stepdown (election timeout 5 s)" \
    cluster_join 3 --raft-shutdown-stepdown
node_new n4 --join "${C_RAFT[n1]}" --raft-cluster-remove-shutdown
node_start n4
check "stepdown: n4 (--raft-cluster-remove-shutdown) joins" wait_until 60 voters_are 4 n1 n2 n3 n4
L=$(wait_leader 30 n1 n2 n3 n4)
[ -n "$L" ] && [ "$L" != n4 ] || L=n1
read -ra F <<<"$(followers_of "$L" n1 n2 n3)"
check "stepdown: a write before" put_index "${F[0]}" before-stepdown 1
t0=$(date +%s%N)
check "stepdown: the leader ($L) exits 0 on SIGTERM" node_term "$L"
NL=$(wait_leader 20 "${F[@]}" n4)
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "  new leader ${NL:-none} ${ms} ms after SIGTERM of $L"
check "stepdown: a new leader within 3 s of SIGTERM (handover, not an election)" \
    eval '[ -n "$NL" ] && [ "$ms" -lt 3000 ]'
check "stepdown: writes go on" put_index "${F[1]}" after-stepdown 1
check "remove-shutdown: n4 SIGTERM -> exit 0" node_term n4
check "remove-shutdown: n4 left the configuration (3 voters)" wait_until 20 voters_are 3 "${F[@]}"
check "remove-shutdown: /nodes no longer lists n4" \
    wait_until 10 eval '! curl -s --max-time 5 "http://${C_HTTP[${F[0]}]}/nodes?nonvoters" | grep -q "\"n4\""'
node_start "$L"
check "stepdown: the old leader rejoins" eval 'wait_until 60 ready "$L" "?sync" && kv_is "$L" after-stepdown 1'
check "stepdown: SIGTERM all -> exit 0" node_term_all n1 n2 n3

fi
section end
check "no sanitizer report in any node log" logs_clean
finish
