#!/usr/bin/env bash
# test_tls.sh — TLS of the connectors' `tls:` block and of the CLI, through the
# real binary, with certificates made here by openssl and HTTPS collectors
# (tests/integration/collector.py with a certificate):
#   - http sink: ca_file trusts the server; without it (system CAs) and with a
#     certificate from another CA the write fails; verify_certificate: false;
#     mTLS (crt_file/key_file; refused without); an encrypted key with
#     key_pass from ${env:}; a certificate for another name: refused unless
#     server_name names it or verify_hostname is false; min_version 1.3;
#   - kafka: tls.server_name refused with a clear message; the block listed
#     in `wire help`;
#   - on a node: tls paths are sandboxed, key_pass must be a reference;
#   - the CLI: `wire pipeline`/`wire cluster` with https:// in --addr,
#     --cacert, --cert, --key against an mTLS server; refused without the
#     client certificate, without the CA, and in plain HTTP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
COLLECTOR=$(cd "$(dirname "$0")" && pwd)/collector.py
cd "$TMP" || exit 1
command -v openssl >/dev/null || { not_ok "openssl is not installed"; finish; }

# ---- certificates ------------------------------------------------------------------------
mkdir -p pki && cd pki || exit 1
ca() { # ca NAME
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 2 \
        -subj "/CN=$1" >/dev/null 2>&1
}
cert() { # cert NAME CA SAN [extra req args...]
    local name=$1 ca=$2 san=$3
    shift 3
    openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" \
        >/dev/null 2>&1
    printf 'subjectAltName=%s\n' "$san" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
        -out "$name.crt" -days 2 -extfile "$name.ext" >/dev/null 2>&1
}
ca ca
ca other
cert server ca "IP:127.0.0.1,DNS:localhost"
cert named ca "DNS:wire.test"
cert rogue other "IP:127.0.0.1"
cert client ca "DNS:client"
openssl pkey -in client.key -aes256 -passout pass:sesame -out client-enc.key 2>/dev/null
cd "$TMP" || exit 1
check "openssl made the certificates" test -s pki/server.crt -a -s pki/client-enc.key -a -s pki/rogue.crt
P=$TMP/pki

# collector NAME CERT KEY [CLIENT_CA]: an HTTPS collector; its port in PORT_<NAME>
collector() {
    local name=$1 port
    shift
    port=$(free_port)
    mkdir -p "col-$name"
    python3 "$COLLECTOR" "$port" "col-$name" "$@" >"col-$name.log" 2>&1 &
    T_PIDS+=("$!")
    wait_for test -e "col-$name/ready"
    printf -v "PORT_$name" %s "$port"
}
collector plain "$P/server.crt" "$P/server.key"
collector mtls "$P/server.crt" "$P/server.key" "$P/ca.crt"
collector named "$P/named.crt" "$P/named.key"
collector rogue "$P/rogue.crt" "$P/rogue.key"

# send NAME PORT 'TLS BLOCK' [url host]: wire run of 3 events to the collector;
# returns wire's status
N=0
send() {
    local name=$1 port=$2 tls=$3 host=${4:-127.0.0.1}
    N=$((N + 1))
    cat >"s$N.yaml" <<EOF
name: s$N
source: {type: generate, config: {count: 3}}
sink:
  type: http
  config: {url: "https://$host:$port/in", $tls}
  retry: {initial: 50ms, max: 100ms, max_attempts: 2}
EOF
    timeout 60 "$WIRE" run --data-dir "d$N" "s$N.yaml" >"s$N.log" 2>&1
}
got() { [ -f "col-$1/bodies" ] && wc -l <"col-$1/bodies" || echo 0; }

send plain "$PORT_plain" "tls: {ca_file: $P/ca.crt}"
check "ca_file: the server is trusted, wire run exits 0" test $? = 0
check_eq "  3 events arrived over TLS" 3 "$(got plain)"
send plain "$PORT_plain" "headers: {X: y}"
check "no tls block: the system's CAs do not know ours, the write fails" test $? != 0
check "  saying why" grep -qi 'certificate' "s$N.log"
send rogue "$PORT_rogue" "tls: {ca_file: $P/ca.crt}"
check "a server certificate from another CA: refused" test $? != 0
check_eq "  nothing arrived there" 0 "$(got rogue)"
send rogue "$PORT_rogue" "tls: {verify_certificate: false}"
check "verify_certificate: false accepts it" test $? = 0
check_eq "  3 arrived" 3 "$(got rogue)"

send mtls "$PORT_mtls" "tls: {ca_file: $P/ca.crt}"
check "mTLS server, no client certificate: refused" test $? != 0
send mtls "$PORT_mtls" "tls: {ca_file: $P/ca.crt, crt_file: $P/client.crt, key_file: $P/client.key}"
check "mTLS with crt_file and key_file: exit 0" test $? = 0
check_eq "  3 arrived" 3 "$(got mtls)"
export WIRE_TEST_KEYPASS=sesame
send mtls "$PORT_mtls" "tls: {ca_file: $P/ca.crt, crt_file: $P/client.crt, key_file: $P/client-enc.key, key_pass: \"\${env:WIRE_TEST_KEYPASS}\"}"
check "an encrypted key with key_pass from \${env:}: exit 0" test $? = 0
check_eq "  3 more arrived" 6 "$(got mtls)"

send named "$PORT_named" "tls: {ca_file: $P/ca.crt}"
check "a certificate for another name (wire.test at 127.0.0.1): refused" test $? != 0
send named "$PORT_named" "tls: {ca_file: $P/ca.crt, server_name: wire.test}"
check "server_name: wire.test verifies it: exit 0" test $? = 0
check_eq "  3 arrived" 3 "$(got named)"
send named "$PORT_named" "tls: {ca_file: $P/ca.crt, verify_hostname: false}"
check "verify_hostname: false: exit 0" test $? = 0
send plain "$PORT_plain" "tls: {ca_file: $P/ca.crt, min_version: \"1.3\"}"
check "min_version 1.3 against a TLS 1.3 server: exit 0" test $? = 0
send plain "$PORT_plain" "tls: {ca_file: $P/ca.crt, min_version: \"1.1\"}"
check "min_version 1.1: refused by validation" grep -q "min_version' must be one of 1.2, 1.3" "s$N.log"

# ---- kafka ----------------------------------------------------------------------------------
cat >k.yaml <<EOF
name: k
source: {type: generate, config: {count: 1}}
sink: {type: kafka, config: {brokers: "127.0.0.1:1", topic: t, tls: {ca_file: $P/ca.crt, server_name: x}}}
EOF
timeout 60 "$WIRE" run --data-dir kd k.yaml >k.log 2>&1
check "kafka: tls.server_name is refused with a clear message" grep -q 'tls.server_name has no librdkafka setting' k.log
"$WIRE" help sink kafka >khelp.out
check "kafka: wire help lists the tls block's keys" grep -q 'tls.key_pass' khelp.out

# ---- on a node: tls paths in the sandbox, key_pass a reference -------------------------------
section node
check "a node" cluster_join 1
R_CURL=(-H 'Content-Type: application/yaml')
cat >n1.yaml <<EOF
name: n1
source: {type: generate, config: {count: 1}}
sink: {type: http, config: {url: "https://127.0.0.1:1/", tls: {ca_file: /etc/ssl/certs/ca-certificates.crt}}}
EOF
req POST n1 /v1/pipelines "@n1.yaml"
check_eq "a node: tls.ca_file outside the allowed paths: 400" 400 "$R_CODE"
check "  naming tls.ca_file" grep -qF "option 'tls.ca_file'" <<<"$R_BODY"
cat >n2.yaml <<EOF
name: n2
source: {type: generate, config: {count: 1}}
sink: {type: http, config: {url: "https://127.0.0.1:1/", tls: {key_file: $P/client-enc.key, key_pass: sesame}}}
EOF
req POST n1 /v1/pipelines "@n2.yaml"
check_eq "a node: a literal tls.key_pass: 400" 400 "$R_CODE"
check "  naming it a secret" grep -qF "option 'tls.key_pass' names a secret" <<<"$R_BODY"
# ---- the CLI over TLS -------------------------------------------------------------------------
API=$(free_port)
python3 -c '
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"{\"pipelines\": []}" if self.path.startswith("/v1/pipelines") else b"{\"node_id\": \"tls1\"}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2] + "/server.crt", sys.argv[2] + "/server.key")
ctx.load_verify_locations(sys.argv[2] + "/ca.crt")
ctx.verify_mode = ssl.CERT_REQUIRED
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()' "$API" "$P" >api.log 2>&1 &
T_PIDS+=("$!")
api_up() { curl -s -o /dev/null --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "https://127.0.0.1:$API/status"; }
check "an mTLS API stand-in is up" wait_for api_up
"$WIRE" pipeline list --addr "https://127.0.0.1:$API" --cacert "$P/ca.crt" --cert "$P/client.crt" \
    --key "$P/client.key" -o json >cli1.out 2>&1
check "wire pipeline list over https with --cacert/--cert/--key: exit 0" test $? = 0
check "  the answer printed" grep -q '"pipelines"' cli1.out
"$WIRE" cluster status --addr="https://127.0.0.1:$API" --cacert="$P/ca.crt" --cert="$P/client.crt" \
    --key="$P/client.key" -o json >cli2.out 2>&1
check "wire cluster status over https (--flag=value forms): exit 0" test $? = 0
"$WIRE" pipeline list --addr "https://127.0.0.1:$API" --cacert "$P/ca.crt" -o json >cli3.out 2>&1
check "without a client certificate: refused (exit 1)" test $? = 1
check "  saying the node could not be reached over TLS" grep -q 'cannot reach' cli3.out
"$WIRE" pipeline list --addr "https://127.0.0.1:$API" --cert "$P/client.crt" --key "$P/client.key" \
    -o json >cli4.out 2>&1
check "without --cacert (the system's CAs do not know ours): refused" test $? = 1
"$WIRE" pipeline list --addr "127.0.0.1:$API" -o json >cli5.out 2>&1
check "plain HTTP to the TLS port: fails" test $? != 0
"$WIRE" pipeline --help >phelp.out 2>&1
check "wire pipeline --help names --cacert, --cert and --key" \
    bash -c "grep -q -- --cacert phelp.out && grep -q -- '--cert FILE --key FILE' phelp.out"
check "no sanitizer reports" bash -c "! grep -l 'ERROR: AddressSanitizer\|runtime error:' ./*.log"
finish
