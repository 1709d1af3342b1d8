# shellcheck shell=bash
# cluster_lib.sh — start, stop and inspect `wire serve` nodes on 127.0.0.1.
# Source it after lib.sh. Every node gets its own ports and its own dir under
# $TMP; every process is tracked in T_PIDS, so lib.sh's EXIT trap kills it.
# Every wait is bounded in count and time; every curl has --max-time.
#
#   node_new ID [FLAGS...]    allocate ports + dir, remember the flags
#   node_start ID             start (or restart) with exactly those flags
#   node_kill ID              kill -9 and reap
#   node_term ID [SECS]       SIGTERM, wait (default 20 s); rc = exit status
#   req METHOD ID PATH [BODY] HTTP request; sets R_CODE, R_BODY, R_TYPE
#   wait_leader SECS ID...    all IDs report one leader among them; prints it
#   cluster_join N [FLAGS...] n1 bootstraps, n2..nN --join; waits for a leader
#
# Per-node state: C_HTTP[ID] C_RAFT[ID] (host:port), C_DIR, C_PID, C_LOG.
# Nodes with --auth: set C_TOKEN and req/status_of send it as a Bearer token.

# Raft timing for tests: short enough to be quick, long enough for ASan on
# 2 busy cores not to cause spurious elections. Overridable.
C_TIMING=${C_TIMING:---raft-election-timeout 1s --raft-heartbeat-timeout 200ms}
C_CURL_TIME=${C_CURL_TIME:-10}
C_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) # scripts cd to $TMP
C_VERB=${C_VERB-serve} # `wire serve FLAGS`; empty = bare `wire FLAGS`
declare -A C_HTTP C_RAFT C_DIR C_PID C_LOG C_FLAGS
C_IDS=()
C_SECTION=main

# section NAME: kill what the previous section left running; new nodes get
# dirs and logs under $TMP/NAME, so node ids can be reused across sections.
section() {
    echo "# ---- $1"
    node_kill_all "${C_IDS[@]:-}"
    C_IDS=()
    C_SECTION=$1
    mkdir -p "$TMP/$C_SECTION"
}

# wait_until SECS CMD...: as lib.sh's, but bounded by the wall clock: a
# cluster probe (curl + python) takes a while itself under ASan.
wait_until() {
    local end=$((SECONDS + $1))
    shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.1
    done
}

# free_ports N: N distinct free loopback ports (all bound at once, so distinct)
free_ports() {
    python3 -c '
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# node_new ID [EXTRA FLAGS...]: the flags DESIGN.md names, on fresh ports.
# C_TIMING is added unless the extra flags set an election timeout.
# The pipelines tests submit read and write files under $TMP: nodes allow it
# (--allowed-paths) unless C_ALLOWED says otherwise (empty: the default roots only).
allowed_flag() { [ -n "${C_ALLOWED-$TMP}" ] && echo "--allowed-paths ${C_ALLOWED-$TMP}"; }
node_new() {
    local id=$1 hp rp timing=$C_TIMING
    shift
    read -r hp rp < <(free_ports 2)
    C_HTTP[$id]=127.0.0.1:$hp
    C_RAFT[$id]=127.0.0.1:$rp
    C_DIR[$id]=$TMP/$C_SECTION/$id # not created: wire must create its raft dir
    C_LOG[$id]=$TMP/$C_SECTION/$id.log
    C_PID[$id]=
    case " $* " in *" --raft-election-timeout "*) timing= ;; esac
    C_FLAGS[$id]="--node-id $id --http-addr ${C_HTTP[$id]} --raft-addr ${C_RAFT[$id]} --raft-dir ${C_DIR[$id]} $(allowed_flag) $timing $*"
    C_IDS+=("$id")
}

# node_new_at ID HTTPADDR RAFTADDR [FLAGS...]: same, on given addresses (re-add)
node_new_at() {
    local id=$1 h=$2 r=$3
    shift 3
    node_new "$id" "$@"
    C_HTTP[$id]=$h
    C_RAFT[$id]=$r
    C_FLAGS[$id]="--node-id $id --http-addr $h --raft-addr $r --raft-dir ${C_DIR[$id]} $(allowed_flag) $C_TIMING $*"
}

_untrack() { # drop a reaped pid from T_PIDS so cleanup never signals a reused pid
    local p out=()
    for p in "${T_PIDS[@]:-}"; do [ -n "$p" ] && [ "$p" != "$1" ] && out+=("$p"); done
    T_PIDS=("${out[@]:-}")
}

node_start() {
    local id=$1 flags
    read -ra flags <<<"${C_FLAGS[$id]}"
    echo "=== $(date +%T.%N | cut -c1-12) start: wire serve ${C_FLAGS[$id]}" >>"${C_LOG[$id]}"
    # shellcheck disable=SC2086 # empty C_VERB = bare form
    "$WIRE" $C_VERB "${flags[@]}" >>"${C_LOG[$id]}" 2>&1 &
    C_PID[$id]=$!
    T_PIDS+=("$!")
}

node_alive() { [ -n "${C_PID[$1]}" ] && kill -0 "${C_PID[$1]}" 2>/dev/null; }

node_kill() {
    [ -n "$1" ] || return 0
    local id=$1 p=${C_PID[$1]}
    [ -n "$p" ] || return 0
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    _untrack "$p"
    C_PID[$id]=
    echo "=== $(date +%T.%N | cut -c1-12) killed -9" >>"${C_LOG[$id]}"
}

# node_term ID [SECS]: SIGTERM and wait; returns the exit status (137 if it
# had to be killed after SECS). A clean ASan exit is 0.
node_term() {
    local id=$1 secs=${2:-20} p=${C_PID[$1]} i rc
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$p" 2>/dev/null; then
        echo "node $id: still running ${secs}s after SIGTERM; kill -9" >&2
        kill -9 "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
    rc=$?
    _untrack "$p"
    C_PID[$id]=
    echo "=== $(date +%T.%N | cut -c1-12) SIGTERM: exit $rc" >>"${C_LOG[$id]}"
    return "$rc"
}

# node_term_all ID...: SIGTERM all at once, then reap each; rc 1 if any exit != 0
node_term_all() {
    local id rc=0
    for id in "$@"; do [ -n "${C_PID[$id]}" ] && kill -TERM "${C_PID[$id]}" 2>/dev/null; done
    for id in "$@"; do
        node_term "$id" 20 || { echo "node $id: exit $? after SIGTERM" >&2; rc=1; }
    done
    return $rc
}

node_kill_all() { local id; for id in "$@"; do node_kill "$id"; done; }
live_ids() { local id out=(); for id in "${C_IDS[@]:-}"; do [ -n "$id" ] && node_alive "$id" && out+=("$id"); done; echo "${out[@]}"; }

# req METHOD ID PATH [BODY|@FILE]: sets R_CODE (000 on no answer), R_BODY, R_TYPE.
# Extra curl args may be given in R_CURL (array), e.g. R_CURL=(-L).
R_CURL=()
c_auth() { [ -n "${C_TOKEN:-}" ] && printf 'Authorization: Bearer %s' "$C_TOKEN"; }
req() {
    local m=$1 id=$2 path=$3 rf=$TMP/.req.$$ args=()
    [ $# -ge 4 ] && args=(--data-binary "$4")
    [ -n "${C_TOKEN:-}" ] && args+=(-H "$(c_auth)")
    R_TYPE=
    R_CODE=$(curl -s --max-time "$C_CURL_TIME" -X "$m" "${args[@]}" "${R_CURL[@]}" \
        -o "$rf" -w '%{http_code} %{content_type}' "http://${C_HTTP[$id]}$path" 2>/dev/null)
    R_TYPE=${R_CODE#* }
    R_CODE=${R_CODE%% *}
    [ -n "$R_CODE" ] || R_CODE=000
    R_BODY=$(cat "$rf" 2>/dev/null)
    rm -f "$rf"
}

# jget PATH: value at a dotted path (a.b, a.0) of the JSON on stdin; strings
# raw, others as JSON; exit 1 if absent or not JSON.
jget() {
    python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
    for k in sys.argv[1].split(".") if sys.argv[1] else []:
        v = v[int(k)] if isinstance(v, list) else v[k]
except Exception:
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1"
}

# status ID PATH: GET /status and print the field at PATH
status_of() {
    local a=()
    [ -n "${C_TOKEN:-}" ] && a=(-H "$(c_auth)")
    curl -s --max-time "$C_CURL_TIME" "${a[@]}" "http://${C_HTTP[$1]}/status" | jget "$2"
}
leader_of() { status_of "$1" leader.node_id; }

# count VALUE: a voters / non_voters field may be a number or a list
jcount() {
    python3 -c '
import json, sys
v = json.loads(sys.argv[1])
print(len(v) if isinstance(v, (list, dict)) else int(v))' "$1" 2>/dev/null
}

# same_leader ID...: every ID answers and names the same leader, one of IDs
same_leader() {
    local id l first=
    for id in "$@"; do
        l=$(leader_of "$id") || return 1
        [ -n "$l" ] || return 1
        [ -z "$first" ] && first=$l
        [ "$l" = "$first" ] || return 1
    done
    case " $* " in *" $first "*) echo "$first" ;; *) return 1 ;; esac
}

# wait_leader SECS ID...: prints the common leader, or fails after SECS
wait_leader() {
    local end=$((SECONDS + $1)) l
    shift
    while :; do
        if l=$(same_leader "$@"); then
            echo "$l"
            return 0
        fi
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# voters_are N ID...: each ID reports raft.voters == N (count or list)
voters_are() {
    local n=$1 id v
    shift
    for id in "$@"; do
        v=$(status_of "$id" raft.voters) || return 1
        [ "$(jcount "$v")" = "$n" ] || return 1
    done
}

# eventually SECS CMD...: wait_until, then once more with its output shown
# (the diagnostics of the last failed attempt)
eventually() {
    local secs=$1
    shift
    wait_until "$secs" "$@" && return 0
    "$@"
}

# caught_up ID...: every ID has applied at least the leader's commit index
# (read from /status: independent of /readyz?sync, which has its own check)
caught_up() {
    local l c id a
    l=$(same_leader "$@") || return 1
    c=$(status_of "$l" raft.commit_index) || return 1
    for id in "$@"; do
        a=$(status_of "$id" raft.applied_index) || return 1
        [ "$a" -ge "$c" ] || return 1
    done
}

ready() { # ready ID [QUERY]: /readyz answers 200
    [ "$(curl -s -o /dev/null --max-time "$C_CURL_TIME" -w '%{http_code}' \
        "http://${C_HTTP[$1]}/readyz${2:-}")" = 200 ]
}
all_ready() { local id; for id in "$@"; do ready "$id" "?sync" || return 1; done; }

# followers_of LEADER ID...: the IDs other than LEADER
followers_of() {
    local l=$1 id out=()
    shift
    for id in "$@"; do [ "$id" != "$l" ] && out+=("$id"); done
    echo "${out[@]}"
}

leader_pid() { local l; l=$(leader_of "$1") && echo "${C_PID[$l]}"; }

# cluster_join N [FLAGS...]: fresh nodes n1..nN; n1 bootstraps alone, the
# others --join n1. Waits until all agree on a leader and N voters.
cluster_join() {
    local n=$1 i
    shift
    node_new n1 "$@"
    node_start n1
    wait_until 30 ready n1 || return 1
    for ((i = 2; i <= n; i++)); do
        node_new "n$i" --join "${C_RAFT[n1]}" "$@"
        node_start "n$i"
    done
    local ids=()
    for ((i = 1; i <= n; i++)); do ids+=("n$i"); done
    wait_leader 60 "${ids[@]}" >/dev/null || return 1
    wait_until 60 voters_are "$n" "${ids[@]}"
}

# kv_put ID KEY VALUE: 200 expected
kv_put() { req PUT "$1" "/v1/kv/$2" "$3"; [ "$R_CODE" = 200 ]; }
# kv_is ID KEY VALUE [LEVEL]: GET answers 200 with exactly VALUE
kv_is() {
    req GET "$1" "/v1/kv/$2?level=${4:-none}"
    [ "$R_CODE" = 200 ] && [ "$R_BODY" = "$3" ]
}
kv_absent() { req GET "$1" "/v1/kv/$2?level=${3:-none}"; [ "$R_CODE" = 404 ]; }

# is_json_error: R_BODY is JSON with a non-empty "error" string
is_json_error() {
    printf '%s' "$R_BODY" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert isinstance(v.get("error"), str) and v["error"]' 2>/dev/null
}

# kv_tool ...: the Python keep-alive KV client (bulk writes and checks)
kv_tool() { python3 "$C_LIBDIR/cluster_kv.py" "$@"; }
# kv_tool_ryw ADDRS N: read-your-writes across nodes (kv_ryw.py)
kv_tool_ryw() { python3 "$C_LIBDIR/kv_ryw.py" "$@"; }

# show_logs ID...: the tail of each node's log, for a failing check
show_logs() {
    local id
    for id in "$@"; do
        echo "---- $id log (tail)"
        tail -n "${C_LOG_LINES:-15}" "${C_LOG[$id]}" 2>/dev/null
    done
}

# logs_clean: no sanitizer report in any node log of this run
logs_clean() {
    ! grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TMP"/*/*.log 2>/dev/null
}
