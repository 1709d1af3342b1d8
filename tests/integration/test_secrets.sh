#!/usr/bin/env bash
# test_secrets.sh — secret references in pipeline options, through the real
# binary: ${env:NAME} and ${file:PATH} resolved where the pipeline runs (an
# http sink's headers carry them to a listener that records what it got),
# malformed references refused by `wire validate`, a missing variable failing
# the run without a value in the message; on a node: a literal secret
# refused at create, a reference accepted and resolved by the node, never in
# GET /v1/pipelines or the node's log, ${file:} outside the allowed paths
# refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1

SECRET="Bearer s3cr3t-$RANDOM$RANDOM"
FILE_SECRET="k3y-$RANDOM$RANDOM"
export WIRE_TEST_TOKEN=$SECRET
printf '%s\n' "$FILE_SECRET" >"$TMP/key.txt"

# a listener that appends each request's Authorization and X-Key headers to a file
LISTEN=$(free_port)
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "a") as f:
            f.write("%s|%s\n" % (self.headers.get("Authorization"), self.headers.get("X-Key")))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' \
    "$LISTEN" "$TMP/got" &
T_PIDS+=("$!")
listening() { curl -s -o /dev/null -X POST --data x "http://127.0.0.1:$LISTEN/"; }
check "the listener is up" wait_for listening
: >"$TMP/got"

# ---- wire run: both kinds resolved where it runs ---------------------------------------
cat >run.yaml <<EOF
name: run
source: {type: generate, config: {count: 3}}
sink:
  type: http
  config:
    url: "http://127.0.0.1:$LISTEN/in"
    headers: {Authorization: "\${env:WIRE_TEST_TOKEN}", X-Key: "\${file:$TMP/key.txt}"}
EOF
"$WIRE" validate run.yaml >validate.out 2>&1
check "wire validate accepts references" test $? = 0
"$WIRE" run --data-dir rund run.yaml >run.log 2>&1
check "wire run with references: exit 0" test $? = 0
check "the sink sent the variable's and the file's values (newline dropped)" \
    grep -qxF "$SECRET|$FILE_SECRET" "$TMP/got"

cat >bad.yaml <<EOF
name: bad
source: {type: generate, config: {count: 1}}
sink: {type: http, config: {url: "http://127.0.0.1:$LISTEN/in", headers: {X: "\${env:not-a-name}"}}}
EOF
"$WIRE" validate bad.yaml >bad.out 2>&1
check "wire validate refuses a malformed reference" test $? != 0
check "  saying how to write one" grep -q "option 'headers.X': a secret is written" bad.out
sed 's/env:not-a-name/vault:x/' bad.yaml >bad2.yaml
"$WIRE" validate bad2.yaml >bad2.out 2>&1
check "wire validate refuses an unknown kind of reference" test $? != 0

cat >miss.yaml <<EOF
name: miss
source: {type: generate, config: {count: 1}}
sink: {type: http, config: {url: "http://127.0.0.1:$LISTEN/in", headers: {Authorization: "\${env:WIRE_TEST_UNSET}"}}}
EOF
"$WIRE" run --data-dir missd miss.yaml >miss.log 2>&1
check "a variable that is not set: wire run fails" test $? != 0
check "  saying which option and variable" \
    grep -q "option 'headers.Authorization': \${env:WIRE_TEST_UNSET} is not set" miss.log

# ---- on a node ----------------------------------------------------------------------------
section node
check "a node" cluster_join 1
R_CURL=(-H 'Content-Type: application/yaml')
cat >lit.yaml <<EOF
name: lit
source: {type: generate, config: {count: 1}}
sink: {type: http, config: {url: "http://127.0.0.1:$LISTEN/in", headers: {Authorization: "Bearer literal"}}}
EOF
req POST n1 /v1/pipelines "@lit.yaml"
check_eq "a literal secret in a document for a node: 400" 400 "$R_CODE"
check "  the error says how to write it" grep -qF 'write it as ${env:NAME} or ${file:PATH}' <<<"$R_BODY"

: >"$TMP/got"
sed 's/^name: run/name: ref/; s/count: 3/count: 3/' run.yaml >ref.yaml
req POST n1 /v1/pipelines "@ref.yaml"
check_eq "references: 201" 201 "$R_CODE"
got_it() { grep -qxF "$SECRET|$FILE_SECRET" "$TMP/got"; }
check "the node resolved them and the sink sent the values" wait_until 20 got_it
req GET n1 /v1/pipelines/ref
check_eq "GET the pipeline: 200" 200 "$R_CODE"
no_secret_in_body() { ! grep -qF -e "s3cr3t" -e "$FILE_SECRET" <<<"$R_BODY"; }
check "  no secret value in it" no_secret_in_body
req GET n1 /v1/pipelines
check "  nor in the list" no_secret_in_body
check "nor in the node's log" bash -c "! grep -qF -e 's3cr3t' -e '$FILE_SECRET' '${C_LOG[n1]}'"

cat >shadow.yaml <<EOF
name: shadow
source: {type: generate, config: {count: 1}}
sink: {type: http, config: {url: "http://127.0.0.1:$LISTEN/in", headers: {Authorization: "\${file:/etc/shadow}"}}}
EOF
req POST n1 /v1/pipelines "@shadow.yaml"
check_eq "\${file:/etc/shadow} on a node: 400 (outside the allowed paths)" 400 "$R_CODE"
check "  saying so" grep -q 'outside the allowed paths' <<<"$R_BODY"

sed 's/^name: miss/name: nodemiss/' miss.yaml >nodemiss.yaml
req POST n1 /v1/pipelines "@nodemiss.yaml"
check_eq "a reference the node cannot resolve is accepted (it resolves where it runs)" 201 "$R_CODE"
check "  and the pipeline fails there" wait_until 20 state_is n1 nodemiss failed
miss_error() { pfield n1 nodemiss error | grep -qF '${env:WIRE_TEST_UNSET} is not set on this node'; }
check "  naming the variable" miss_error
check "no sanitizer reports" bash -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:' ./*.log" 
check "the node's log is free of sanitizer reports" logs_clean
finish
