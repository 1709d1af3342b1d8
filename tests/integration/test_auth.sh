#!/usr/bin/env bash
# test_auth.sh — tokens and roles (issue 13) through the real `wire serve`:
#   - --auth-token-file: the founding node makes the first admin token (0600);
#     restarted, it reads it back and adds no second admin; --auth-token-file
#     without --auth is refused;
#   - joining an --auth cluster: with a node token (--join-token) it joins; a
#     rogue without one, or with a viewer token, is refused and logged with
#     its address;
#   - every route of the API's table (read from src/api/api.c, so a new route
#     cannot go untested) × {no token, viewer, operator, admin}: 401 without,
#     403 below the route's role, neither at or above it; /readyz and /livez
#     open; 401 carries WWW-Authenticate: Bearer and a JSON error;
#   - a revoked token is refused on all three nodes within 1 s;
#   - token secrets appear in no log, no Raft log or snapshot, no list;
#   - the three attacks of the issue, replayed with --auth: refused, nothing
#     written, read or removed;
#   - `wire token create/list/revoke`, --token and WIRE_TOKEN, the audit log
#     naming the caller.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TMP" || exit 1

section refuse
"$WIRE" serve --auth-token-file "$TMP/x" --raft-dir "$TMP/refuse/d" >refuse.out 2>&1
check_eq "--auth-token-file without --auth: exit 1" 1 $?
check "  saying so" grep -q -- "--auth-token-file needs --auth" refuse.out

section boot
mkdir -p "$TMP/secret"
TOKFILE=$TMP/secret/admin.token
# snapshots every few entries, so that the secrets check reads snapshots too
node_new n1 --auth --auth-token-file "$TOKFILE" --raft-snap 8
node_start n1
check "the founding node starts with --auth" wait_until 30 ready n1
check "it made the admin token file" wait_until 10 test -s "$TOKFILE"
check_eq "  mode 0600" 600 "$(stat -c %a "$TOKFILE")"
ADMIN=$(cat "$TOKFILE")
check "  holding a wire_ token" grep -qE '^wire_[0-9a-f]{64}$' "$TOKFILE"
tokens_of() { C_TOKEN=$ADMIN req GET "$1" /v1/tokens; jget tokens <<<"$R_BODY"; }
check "the admin token is registered" wait_until 10 eval 'tokens_of n1 | grep -q "\"admin\""'

export WIRE_ADDR=${C_HTTP[n1]}
NODETOK=$("$WIRE" token create --name joiners --role node --token "$ADMIN" 2>cli.err)
check "wire token create --role node prints the token" grep -qE '^wire_[0-9a-f]{64}$' <<<"$NODETOK"
check "  and says on stderr it is shown once" grep -q "not shown again" cli.err
# the token by the environment (WIRE_JOIN_TOKEN) and by the flag
node_new n2 --auth --join "${C_RAFT[n1]}" --raft-snap 8
WIRE_JOIN_TOKEN=$NODETOK node_start n2
node_new n3 --auth --join "${C_RAFT[n1]}" --join-token "$NODETOK" --raft-snap 8
node_start n3
C_TOKEN=$ADMIN
check "n2 and n3 join with --join-token" wait_until 60 voters_are 3 n1 n2 n3

# ---- joining without a node token ------------------------------------------------
VIEWTOK=$(WIRE_TOKEN=$ADMIN "$WIRE" token create --name watcher --role viewer 2>/dev/null)
check "WIRE_TOKEN authenticates the CLI" test -n "$VIEWTOK"
rogue() { # rogue NAME [FLAGS]: a node trying to join; returns its exit status
    local name=$1
    shift
    node_new "$name" --join "${C_RAFT[n2]}" --join-attempts 2 --join-interval 200ms "$@"
    node_start "$name"
    local p=${C_PID[$name]}
    wait_until 60 eval "! kill -0 $p"
    wait "$p"
    local rc=$?
    _untrack "$p"
    C_PID[$name]=
    return $rc
}
rogue r1
check_eq "a node without a join token cannot join (exits 1)" 1 $?
check "  it was told why" grep -q "join refused: no join token" "${C_LOG[r1]}"
check "  and the cluster logged the refusal with its address" \
    grep -qE "join refused: node r1 \(${C_RAFT[r1]}\) from 127\.0\.0\.1:[0-9]+: no join token" \
    "${C_LOG[n1]}" "${C_LOG[n2]}" "${C_LOG[n3]}"
rogue r2 --join-token "$VIEWTOK"
check_eq "a viewer token is no join token (exits 1)" 1 $?
check "  refused for its role" grep -q "role is neither node nor admin" "${C_LOG[r2]}"
rogue r3 --join-token "wire_$(printf '0%.0s' {1..64})"
check_eq "an unknown join token (exits 1)" 1 $?
check "still 3 voters" voters_are 3 n1 n2 n3
req GET n1 "/nodes?ver=2&nonvoters"
check "and no rogue among the nodes" eval '! grep -q "\"r[123]\"" <<<"$R_BODY"'

# ---- 401 / 403 ---------------------------------------------------------------------
C_TOKEN=
req GET n2 /status
check_eq "no token: 401" 401 "$R_CODE"
check "  with a JSON error" is_json_error
hdr=$(curl -s -D - -o /dev/null --max-time 10 "http://${C_HTTP[n2]}/status")
check "  and WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' <<<"$hdr"
R_CURL=(-H "Authorization: Basic YWRtaW46YWRtaW4=")
req GET n2 /status
check_eq "a Basic credential: 401" 401 "$R_CODE"
R_CURL=(-H "Authorization: Bearer wire_nope")
req GET n2 /status
check_eq "an unknown token: 401" 401 "$R_CODE"
R_CURL=()
req GET n2 /livez
check_eq "/livez is open" 200 "$R_CODE"
req GET n2 /readyz
check_eq "/readyz is open" 200 "$R_CODE"

# ---- the role matrix, over every route of the table --------------------------------
OPTOK=$(WIRE_TOKEN=$ADMIN "$WIRE" token create --name ops --role operator 2>/dev/null)
# the table's node routes: METHOD PATTERN ROLE
python3 - "$SRC/src/api/api.c" >table.txt <<'PY'
import re, sys
for m in re.finditer(r'\{"(GET|POST|PUT|DELETE)",\s*"([^"]+)",\s*WIRE_API_(NODE|BOTH),\s*(\w+),',
                     open(sys.argv[1]).read()):
    print(m.group(1), m.group(2), m.group(4).lower())
PY
check "the route table was read ($(wc -l <table.txt) node routes)" test "$(wc -l <table.txt)" -ge 20
# each route: METHOD PATTERN ROLE PATH (a pipeline or token named @ takes the caller's role)
cat >matrix.txt <<'EOF2'
GET /status viewer /status
GET /metrics viewer /metrics
GET /readyz open /readyz
GET /livez open /livez
GET /nodes viewer /nodes
DELETE /remove admin /remove
GET /v1/kv/* viewer /v1/kv/m-@
PUT /v1/kv/* operator /v1/kv/m-@
DELETE /v1/kv/* operator /v1/kv/m-@
GET /v1/pipelines viewer /v1/pipelines
POST /v1/pipelines operator /v1/pipelines
GET /v1/pipelines/{name} viewer /v1/pipelines/m-@
PUT /v1/pipelines/{name} operator /v1/pipelines/m-@
POST /v1/pipelines/{name}/pause operator /v1/pipelines/m-@/pause
POST /v1/pipelines/{name}/resume operator /v1/pipelines/m-@/resume
DELETE /v1/pipelines/{name} operator /v1/pipelines/m-@
GET /v1/tokens admin /v1/tokens
POST /v1/tokens admin /v1/tokens
DELETE /v1/tokens/{name} admin /v1/tokens/m-@
GET /connector viewer /connector
POST /connector/{name} operator /connector/c-@
DELETE /connector/{name} operator /connector/c-@
EOF2
check "the matrix covers exactly the table's routes and roles" \
    diff <(sort table.txt) <(cut -d' ' -f1-3 matrix.txt | sort)
rank() { case $1 in none) echo 0 ;; viewer) echo 1 ;; operator) echo 2 ;; admin) echo 3 ;; open) echo 0 ;; esac; }
body_for() { # body_for PATTERN CALLER
    case "$1" in
    /remove) echo '{"id":"nosuch"}' ;;
    /v1/pipelines | /v1/pipelines/{name})
        printf 'name: m-%s\nsource: {type: generate, config: {count: 1}}\nsink: {type: blackhole}\n' "$2" ;;
    /v1/tokens) printf '{"name":"m-%s","role":"viewer"}' "$2" ;;
    /connector/{name}) echo '{"name":"c-'"$2"'","config":{"connector.class":"generate","count":"1"}}' ;;
    /v1/kv/*) echo v ;;
    *) echo ;;
    esac
}
declare -A TOK=([none]="" [viewer]=$VIEWTOK [operator]=$OPTOK [admin]=$ADMIN)
bad=0
cells=0
while read -r method pattern need path; do
    for who in none viewer operator admin; do
        p=${path//@/$who}
        args=(-X "$method")
        [ "$method" = GET ] || args+=(--data-binary "$(body_for "$pattern" "$who")")
        [ -n "${TOK[$who]}" ] && args+=(-H "Authorization: Bearer ${TOK[$who]}")
        code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "${args[@]}" "http://${C_HTTP[n3]}$p")
        if [ "$need" = open ] || [ "$(rank "$who")" -ge "$(rank "$need")" ]; then
            want="not 401/403"
            case $code in 401 | 403 | 000) ;; *) want=$code ;; esac
        elif [ "$who" = none ]; then
            want=401
        else
            want=403
        fi
        cells=$((cells + 1))
        if [ "$want" != "$code" ]; then
            echo "  $method $p as $who: want $want, got $code"
            bad=$((bad + 1))
        fi
    done
done <matrix.txt
check_eq "role matrix: $cells cells (routes × none/viewer/operator/admin) as required" 0 "$bad"
check "an admin token revoked a token in the matrix (m-admin gone)" \
    eval '! tokens_of n1 | grep -q "\"m-admin\""'

# ---- a revoked token, on all three nodes within 1 s --------------------------------
TEMP=$(WIRE_TOKEN=$ADMIN "$WIRE" token create --name temp --role viewer 2>/dev/null)
code_on() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' -H "Authorization: Bearer $TEMP" "http://${C_HTTP[$1]}/status"; }
check "the new token works on n1, n2 and n3" \
    wait_until 10 eval '[ "$(code_on n1)$(code_on n2)$(code_on n3)" = 200200200 ]'
WIRE_TOKEN=$ADMIN "$WIRE" token revoke temp --addr "${C_HTTP[n2]}" >revoke.out
check "wire token revoke temp" grep -q "revoked temp" revoke.out
t0=$(date +%s%N)
refused_all() { [ "$(code_on n1)$(code_on n2)$(code_on n3)" = 401401401 ]; }
wait_until 5 refused_all
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "# revoked token refused on all three nodes $ms ms after the revoke was answered"
check "the revoked token is refused on all three nodes within 1 s ($ms ms)" \
    eval 'refused_all && [ "$ms" -le 1000 ]'

# ---- the CLI and the audit log -----------------------------------------------------
"$WIRE" token list --token "$ADMIN" >list.out
check "wire token list shows names and roles" grep -qE '^watcher +viewer +20' list.out
check "  and no secret" eval '! grep -q wire_ list.out'
"$WIRE" token list --token "$VIEWTOK" >/dev/null 2>list.err
check_eq "wire token list as a viewer: exit 1" 1 $?
check "  with the server's reason" grep -q "has role viewer" list.err
"$WIRE" cluster status --token "$VIEWTOK" >status.out
check "wire cluster status --token (viewer)" grep -q "^leader " status.out
"$WIRE" pipeline list --token "$OPTOK" >/dev/null
check_eq "wire pipeline list --token (operator)" 0 $?
check "the audit log names the caller's token and role" \
    grep -qE 'audit \{.*"token":"ops","role":"operator","method":"PUT"' "${C_LOG[n3]}"
check "  and refusals: unauthenticated" grep -qE 'audit \{.*"token":null.*"status":401,"outcome":"unauthenticated"' "${C_LOG[n3]}"
check "  and forbidden" grep -qE 'audit \{.*"token":"watcher","role":"viewer".*"status":403,"outcome":"forbidden"' "${C_LOG[n3]}"

# ---- the attacks of the issue, with --auth -----------------------------------------
C_TOKEN=
cat >a1.yaml <<EOF2
name: a1
source: {type: generate, config: {count: 10}}
sink: {type: file, config: {path: $TMP/evil/x.jsonl}}
EOF2
req POST n1 /v1/pipelines @a1.yaml
check_eq "attack 1 (file sink outside the data dir) without a token: 401" 401 "$R_CODE"
LISTEN=$(free_port)
mkdir -p "$TMP/stolen"
python3 "$C_LIBDIR/collector.py" "$LISTEN" "$TMP/stolen" &
T_PIDS+=("$!")
cat >a2.yaml <<EOF2
name: a2
source: {type: file, config: {path: /etc/shadow, read_from: beginning}}
sink: {type: http, config: {url: "http://127.0.0.1:$LISTEN/x"}}
EOF2
req POST n2 /v1/pipelines @a2.yaml
check_eq "attack 2 (/etc/shadow to an http sink) without a token: 401" 401 "$R_CODE"
R_CURL=(-H "Authorization: Bearer $VIEWTOK")
req POST n2 /v1/pipelines @a2.yaml
check_eq "  with a viewer token: 403" 403 "$R_CODE"
R_CURL=()
req DELETE n2 /remove '{"id": "n1"}'
check_eq "attack 3 (DELETE /remove n1) without a token: 401" 401 "$R_CODE"
R_CURL=(-H "Authorization: Bearer $OPTOK")
req DELETE n2 /remove '{"id": "n1"}'
check_eq "  with an operator token: 403" 403 "$R_CODE"
R_CURL=()
C_TOKEN=$ADMIN
sleep 1
check "nothing was written outside" test ! -e "$TMP/evil"
check "nothing was sent" eval '[ -z "$(ls -A "$TMP/stolen" | grep -v "^ready$")" ]'
req GET n1 /v1/pipelines
check "neither pipeline exists" eval '! grep -qE "\"a[12]\"" <<<"$R_BODY"'
check "n1 is still a voter" voters_are 3 n1 n2 n3

# ---- a restart reads the token file back -------------------------------------------
sum=$(sha256sum "$TOKFILE")
node_kill n1
node_start n1
check "n1 restarts (kill -9) with its token file" wait_until 30 ready n1
check "  and the admin token still works there" wait_until 10 eval 'C_TOKEN=$ADMIN req GET n1 /status; [ "$R_CODE" = 200 ]'
check_eq "  the file is unchanged" "$sum" "$(sha256sum "$TOKFILE")"
sleep 1
check "  and there is still one admin token" eval '[ "$(tokens_of n1 | grep -o "\"role\": \"admin\"" | wc -l)" = 1 ]'

# ---- no secret anywhere --------------------------------------------------------------
check "snapshots were taken" eval 'ls "$TMP"/boot/n*/ | grep -q snapshot'
leaks=0
# (the harness's own "=== start: wire serve FLAGS" lines hold --join-token as given)
for s in "$ADMIN" "$NODETOK" "$VIEWTOK" "$OPTOK" "$TEMP"; do
    if grep -raF -- "$s" "$TMP"/boot/n1 "$TMP"/boot/n2 "$TMP"/boot/n3 "$TMP"/boot/*.log |
        grep -qv '\.log:=== '; then
        leaks=$((leaks + 1))
    fi
done
check_eq "no token secret in any node's log, Raft log or snapshot" 0 "$leaks"
check "no sanitizer reports" logs_clean
finish
