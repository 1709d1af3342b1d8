#!/usr/bin/env bash
# test_pipeline_cli.sh — `wire pipeline` against a fake node
# (fake_pipelines.py, which answers the /v1/pipelines contract): the lines
# people see, -o json as the server sent it, the request each subcommand
# makes, exit codes, and every error path (400 with line/col, 404, 409,
# node unreachable, usage mistakes). Tests against the real node live with
# the cluster tests.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

PORT=$(free_port)
ADDR=127.0.0.1:$PORT
python3 "$HERE/fake_pipelines.py" "$PORT" "$TMP" &
T_PIDS+=($!)
wait_for test -f "$TMP/ready" || { echo "fake node did not start"; exit 1; }

# wp ARGS...: run `wire pipeline ARGS --addr $ADDR`; stdout $TMP/out, stderr $TMP/err, rc $RC
wp() {
    "$WIRE" pipeline "$@" --addr "$ADDR" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}
same() { diff -u "$2" "$1" >&2; } # same ACTUAL EXPECTED
expect_out() { printf '%s\n' "$@" >"$TMP/exp"; same "$TMP/out" "$TMP/exp"; }
expect_err() { printf '%s\n' "$@" >"$TMP/exp"; same "$TMP/err" "$TMP/exp"; }
last_request() { tail -1 "$TMP/requests"; }

cat >"$TMP/quick.yaml" <<'YAML'
name: quick
source:
  type: generate
sink:
  type: stdout
YAML
printf '{"name":"jq","source":{"type":"generate"},"sink":{"type":"stdout"}}' >"$TMP/jq.json"
printf 'name: bad\nsource:\n  type: BAD\nsink:\n  type: file\n' >"$TMP/bad.yaml"
printf 'source: {type: generate}\n' >"$TMP/noname.yaml"

# ---- create
wp create -f "$TMP/quick.yaml"
check "create: exit 0" test "$RC" = 0
check "create: confirmation line" expect_out "pipeline quick created (version 1)"
check "create: nothing on stderr" test ! -s "$TMP/err"
check "create: POST /v1/pipelines as YAML with the whole file" \
    test "$(last_request)" = "POST /v1/pipelines application/yaml $(wc -c <"$TMP/quick.yaml")"

wp create -f "$TMP/jq.json" -o json
check "create -o json: exit 0" test "$RC" = 0
check "create -o json: the server's JSON" expect_out '{"name": "jq", "version": 1}'
check "create: a .json file goes as application/json" \
    test "$(last_request)" = "POST /v1/pipelines application/json $(wc -c <"$TMP/jq.json")"

"$WIRE" pipeline create --addr "$ADDR" -f - <"$TMP/quick.yaml" >"$TMP/out" 2>"$TMP/err"
RC=$?
check "create -f - (stdin): 409 exits 1" test "$RC" = 1
check "create: 409 prints the server's message" expect_err "error: pipeline quick already exists"
check "create: 409 prints nothing on stdout" test ! -s "$TMP/out"

wp create -f "$TMP/bad.yaml"
check "create: 400 exits 1" test "$RC" = 1
check "create: 400 prints FILE:LINE:COL: message per problem" expect_err \
    "$TMP/bad.yaml:3:5: unknown source type 'kafak' (did you mean 'kafka'?)" \
    "$TMP/bad.yaml:7:11: sink 'file': missing required option 'path'"
check "create: 400 prints nothing on stdout" test ! -s "$TMP/out"

wp create -f "$TMP/noname.yaml"
check "create: 400 without a position: FILE: message" expect_err \
    "$TMP/noname.yaml: missing required key 'name'"

wp create -f "$TMP/missing.yaml"
check "create: unreadable file exits 1" test "$RC" = 1
check "create: unreadable file names it" grep -q "^error: $TMP/missing.yaml: cannot open" "$TMP/err"

# ---- list
wp list
check "list: exit 0" test "$RC" = 0
check "list: aligned table, failed pipeline shows its error, no node shown as is" expect_out \
    "NAME     VERSION  STATE    NODE      IN  OUT  ERROR" \
    "failing  2        failed   node-two  5   0    sink 'file': open /nope/x.jsonl: No such file or directory" \
    "jq       1        running  n1        10  9" \
    "quick    1        running  n1        10  9"
check "list: GET /v1/pipelines" test "$(last_request)" = "GET /v1/pipelines - 0"
wp list -o json
check "list -o json: the server's JSON as it came" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [p["name"] for p in d["pipelines"]]==["failing","jq","quick"]' "$TMP/out"
check "list -o json: one line" test "$(wc -l <"$TMP/out")" = 1

# ---- get
wp get quick
check "get: exit 0" test "$RC" = 0
check "get: key: value lines, counters, checkpoint, the spec indented" expect_out \
    "name        quick" \
    "version     1" \
    "state       running" \
    "node        n1" \
    "epoch       3" \
    "counters    events_in=10 events_out=9 filtered=1 dead_lettered=0 dropped=0 invalid=0 errors=0" \
    "checkpoint  4 at 2023-11-14T22:13:20.123Z" \
    "spec:" \
    "    name: quick" \
    "    source:" \
    "      type: generate" \
    "    sink:" \
    "      type: stdout"
wp get failing
check "get: a failed pipeline shows its error; no checkpoint yet" \
    grep -qx "error       sink 'file': open /nope/x.jsonl: No such file or directory" "$TMP/out"
check "get: no checkpoint yet reads none" grep -qx "checkpoint  none" "$TMP/out"
wp get quick -o json
check "get -o json: has the spec" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["spec"].startswith("name: quick")' "$TMP/out"
wp get nosuch
check "get: 404 exits 1" test "$RC" = 1
check "get: 404 prints the server's message" expect_err "error: pipeline nosuch not found"
wp get 'a b/c'
check "get: the name is escaped in the path" test "$(last_request)" = "GET /v1/pipelines/a%20b%2Fc - 0"

# ---- pause, resume, delete
wp pause quick
check "pause: exit 0 and confirmation" expect_out "pipeline quick paused"
check "pause: POST .../pause with an empty body" test "$(last_request)" = "POST /v1/pipelines/quick/pause - 0"
wp list
check "pause: list shows paused" grep -q "^quick  *1  *paused " "$TMP/out"
wp resume quick -o json
check "resume -o json: the server's JSON" expect_out '{"name": "quick", "state": "running"}'
wp resume quick
check "resume: confirmation" expect_out "pipeline quick resumed"
wp pause nosuch
check "pause: 404 exits 1 with the message" test "$RC" = 1 -a "$(cat "$TMP/err")" = "error: pipeline nosuch not found"
wp delete quick
check "delete: exit 0 and confirmation" expect_out "pipeline quick deleted"
check "delete: DELETE /v1/pipelines/quick" test "$(last_request)" = "DELETE /v1/pipelines/quick - 0"
wp delete quick
check "delete again: 404 exits 1" test "$RC" = 1 -a "$(cat "$TMP/err")" = "error: pipeline quick not found"
wp delete jq
wp delete failing
wp list
check "list: no pipelines, only the header" expect_out "NAME  VERSION  STATE  NODE  IN  OUT  ERROR"

# ---- the node cannot be reached
DEAD=127.0.0.1:$(free_port)
for args in "list" "get x" "create -f $TMP/quick.yaml" "delete x" "pause x" "resume x"; do
    # shellcheck disable=SC2086
    "$WIRE" pipeline $args --addr "$DEAD" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    check "unreachable ($args): exit 1" test "$RC" = 1
    check "unreachable ($args): says so" grep -q "^error: cannot reach $DEAD: " "$TMP/err"
done

# ---- usage mistakes: fatal, exit 1, no request made
before=$(wc -l <"$TMP/requests")
usage_case() { # DESCRIPTION EXPECTED-FATAL-LINE ARGS...
    local desc=$1 exp=$2
    shift 2
    "$WIRE" pipeline "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    check "usage: $desc: exit 1" test "$RC" = 1
    check "usage: $desc: message" test "$(head -1 "$TMP/err")" = "$exp"
    check "usage: $desc: usage line" grep -q "^usage: wire pipeline create -f FILE" "$TMP/err"
}
usage_case "no subcommand" "fatal: missing subcommand" --addr "$ADDR"
usage_case "unknown subcommand" "fatal: unknown subcommand 'start'" start x --addr "$ADDR"
usage_case "get without NAME" "fatal: get needs a pipeline NAME" get --addr "$ADDR"
usage_case "delete without NAME" "fatal: delete needs a pipeline NAME" delete
usage_case "pause without NAME" "fatal: pause needs a pipeline NAME" pause
usage_case "resume without NAME" "fatal: resume needs a pipeline NAME" resume
usage_case "create without -f" "fatal: create needs -f FILE" create --addr "$ADDR"
usage_case "-f elsewhere" "fatal: -f is only for create and apply" get x -f y
usage_case "extra argument" "fatal: unexpected argument 'z'" get x z
usage_case "bad -o" "fatal: -o takes table or json, not 'yaml'" list -o yaml
usage_case "unknown flag" "fatal: --force: unknown flag or missing value" delete x --force
check "usage mistakes make no request" test "$(wc -l <"$TMP/requests")" = "$before"
"$WIRE" pipeline --help >"$TMP/out" 2>&1
check "--help: usage on stdout, exit 0" grep -q "^usage: wire pipeline" "$TMP/out"

# ---- wire cluster still works through the shared client (unreachable path)
"$WIRE" cluster status --addr "$DEAD" >"$TMP/out" 2>"$TMP/err"
check "cluster status unreachable: exit 1 with error" \
    test $? = 1 -a -n "$(grep "^error: cannot reach $DEAD" "$TMP/err")"

# ---- a list of 10,000 pipelines: every row, in one pass (it used to index each row
# from the start of the array: 25 s of CPU where curl took 0.03 s)
mkdir -p "$TMP/big/v1"
python3 - "$TMP/big/v1/pipelines" <<'EOF'
import json, sys
ps = [{"name": "p%05d" % i, "version": 1, "state": "running", "error": "", "node": "n1",
       "epoch": i + 1, "placement": "", "counters": {"events_in": i, "events_out": i},
       "counters_live": True, "checkpoint": None} for i in range(10000)]
open(sys.argv[1], "w").write(json.dumps({"pipelines": ps}))
EOF
BPORT=$(free_port)
(cd "$TMP/big" && exec python3 -m http.server "$BPORT" --bind 127.0.0.1 >/dev/null 2>&1) &
T_PIDS+=("$!")
wait_for curl -sf "http://127.0.0.1:$BPORT/v1/pipelines" -o /dev/null
timeout 120 "$WIRE" pipeline list --addr "127.0.0.1:$BPORT" >"$TMP/big.out" 2>&1
check "list of 10,000: exit 0" test $? = 0
check "list of 10,000: a header and 10,000 rows" test "$(wc -l <"$TMP/big.out")" = 10001
check "list of 10,000: the last row complete" grep -q "^p09999  *1  *running  *n1  *9999  *9999$" "$TMP/big.out"

finish
