#!/usr/bin/env bash
# test_api_tls.sh — the node's own HTTP API over TLS (issue 13), through the
# real `wire serve` and `wire run`, with certificates made here by openssl:
#   - HTTPS with the CA works; plain HTTP to the TLS port gets no answer; a
#     client that does not trust the CA refuses the node; TLS 1.1 is refused;
#   - --client-cert-auth --trusted-ca-file: a client without a certificate,
#     with one from another CA, and with an expired one are refused (and the
#     refusal logged with the reason); with one the CA signed it is served;
#   - the CLI with https:// --cacert --cert --key, and with --auth a token on
#     top of the client certificate;
#   - certificate rotation under load: the files replaced (rename) and
#     SIGHUP, while 4 clients send requests: every request answered, the new
#     certificate served afterwards;
#   - `wire run --http-addr` with --cert-file/--key-file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
LOAD=$(cd "$(dirname "$0")" && pwd)/tls_load.py
cd "$TMP" || exit 1
command -v openssl >/dev/null || { not_ok "openssl is not installed"; finish; }

# ---- certificates ------------------------------------------------------------------------
mkdir -p pki/db && cd pki || exit 1
ca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=$1" >/dev/null 2>&1; }
cert() { # cert NAME CA SAN
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" >/dev/null 2>&1
    printf 'subjectAltName=%s\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" \
        -days 2 -extfile "$1.ext" >/dev/null 2>&1
}
ca ca
ca other
cert server ca "IP:127.0.0.1,DNS:localhost"
cert server2 ca "IP:127.0.0.1,DNS:localhost"
cert client ca "DNS:client"
cert rogue other "DNS:rogue"
# expired: valid for one day in 2020, signed by the right CA
touch db/index.txt
echo 01 >db/serial
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=db/index.txt\nserial=db/serial\nnew_certs_dir=db\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' >ca.cnf
openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=expired" >/dev/null 2>&1
openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr -out expired.crt \
    -startdate 20200101000000Z -enddate 20200102000000Z -notext >/dev/null 2>&1
cd "$TMP" || exit 1
P=$TMP/pki
check "openssl made the certificates (an expired one too)" \
    eval 'test -s $P/server2.crt -a -s $P/rogue.crt && openssl x509 -in $P/expired.crt -noout -checkend 0 | grep -q "will expire"'

# live copies the node reads, replaced during the rotation
cp "$P/server.crt" "$TMP/live.crt"
cp "$P/server.key" "$TMP/live.key"
hget() { # hget ID PATH [curl args]: the status code over https (000: no answer)
    local id=$1 path=$2
    shift 2
    curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@" "https://${C_HTTP[$id]}$path"
}
https_ready() { [ "$(hget "$1" /readyz --cacert "$P/ca.crt" "${@:2}")" = 200 ]; }

section tls
node_new n1 --cert-file "$TMP/live.crt" --key-file "$TMP/live.key"
node_start n1
check "a node serves HTTPS (--cert-file, --key-file)" wait_until 30 https_ready n1
check_eq "  GET /status with the CA: 200" 200 "$(hget n1 /status --cacert "$P/ca.crt")"
check "  the log says HTTPS" grep -q "serving HTTPS on" "${C_LOG[n1]}"
code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "http://${C_HTTP[n1]}/status")
check_eq "plain HTTP to the TLS port: no answer" 000 "$code"
check "  logged as a refused TLS handshake" grep -q "TLS with 127.0.0.1.* refused" "${C_LOG[n1]}"
curl -s -o /dev/null --max-time 5 "https://${C_HTTP[n1]}/status"
check_eq "a client without the CA refuses the node (curl exit 60)" 60 $?
curl -s -o /dev/null --max-time 5 --cacert "$P/ca.crt" --tlsv1.0 --tls-max 1.1 "https://${C_HTTP[n1]}/status"
check "TLS 1.1 is refused" test $? -ne 0
check_eq "TLS 1.3 works" 200 "$(hget n1 /status --cacert "$P/ca.crt" --tlsv1.3)"
check_eq "TLS 1.2 works" 200 "$(hget n1 /status --cacert "$P/ca.crt" --tlsv1.2 --tls-max 1.2)"
"$WIRE" cluster status --addr "https://${C_HTTP[n1]}" --cacert "$P/ca.crt" >st.out 2>&1
check "wire cluster status over https:// with --cacert" grep -q "^state  *Leader" st.out
kv_https() { curl -s --max-time 10 --cacert "$P/ca.crt" -X PUT --data-binary "$2" "https://${C_HTTP[n1]}/v1/kv/$1" -o /dev/null -w '%{http_code}'; }
check_eq "a KV write over HTTPS" 200 "$(kv_https k1 v1)"
head -c 300000 /dev/zero | tr '\0' x >big.txt
check_eq "  and one of 300 KB (Expect: 100-continue over TLS)" 200 "$(kv_https big @big.txt)"
check_eq "  read back whole" 300000 "$(curl -s --max-time 10 --cacert "$P/ca.crt" "https://${C_HTTP[n1]}/v1/kv/big" | wc -c)"

# ---- rotation under load -------------------------------------------------------------------
python3 "$LOAD" "https://${C_HTTP[n1]}/livez" "$P/ca.crt" 6 >load1.json &
LP=$!
sleep 1.5
cp "$P/server2.crt" "$TMP/new.crt" && cp "$P/server2.key" "$TMP/new.key"
mv "$TMP/new.key" "$TMP/live.key" && mv "$TMP/new.crt" "$TMP/live.crt"
wait $LP
echo "# rotation (files replaced): $(cat load1.json)"
check "rotation under load: every request answered" \
    python3 -c 'import json,sys; d=json.load(open("load1.json")); sys.exit(not (d["failed"] == 0 and d["ok"] > 20))'
check "  the certificate changed under the clients (two seen)" \
    python3 -c 'import json,sys; sys.exit(json.load(open("load1.json"))["serials"] != 2)'
check "  and the reload was logged" grep -q "TLS certificate reloaded" "${C_LOG[n1]}"
served_is() { # the node serves certificate $1 now
    local got want
    got=$(openssl s_client -connect "${C_HTTP[n1]}" -CAfile "$P/ca.crt" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint 2>/dev/null)
    want=$(openssl x509 -in "$1" -noout -fingerprint)
    [ -n "$got" ] && [ "$got" = "$want" ]
}
check "  new connections get the new certificate" served_is "$P/server2.crt"
# SIGHUP: the files back in place with their old times, so only the signal tells
cp -p "$P/server.crt" "$TMP/live.crt"
cp -p "$P/server.key" "$TMP/live.key"
touch -r "$P/server2.crt" "$TMP/live.crt" "$TMP/live.key" 2>/dev/null
python3 "$LOAD" "https://${C_HTTP[n1]}/livez" "$P/ca.crt" 4 >load2.json &
LP=$!
sleep 1
kill -HUP "${C_PID[n1]}"
wait $LP
echo "# rotation (SIGHUP): $(cat load2.json)"
check "SIGHUP under load: every request answered" \
    python3 -c 'import json,sys; d=json.load(open("load2.json")); sys.exit(not (d["failed"] == 0 and d["ok"] > 20))'
check "  the node is still up" node_alive n1
check "  and serves the certificate in the files" wait_until 5 served_is "$P/server.crt"
# a broken replacement keeps the certificate in use
cp "$P/rogue.key" "$TMP/live.key"
check "a key not matching the certificate: the reload fails, logged" \
    wait_until 10 grep -q "TLS reload failed, keeping the certificate in use" "${C_LOG[n1]}"
check_eq "  and the node still answers with the old one" 200 "$(hget n1 /status --cacert "$P/ca.crt")"
cp "$P/server.key" "$TMP/live.key"

# ---- client certificates -------------------------------------------------------------------
section mtls
node_new m1 --cert-file "$P/server.crt" --key-file "$P/server.key" \
    --trusted-ca-file "$P/ca.crt" --client-cert-auth --auth --auth-token-file "$TMP/mtls.token"
node_start m1
MC=(--cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")
check "--client-cert-auth: served with a client certificate the CA signed" \
    wait_until 30 https_ready m1 --cert "$P/client.crt" --key "$P/client.key"
check_eq "  no client certificate: refused" 000 "$(hget m1 /readyz --cacert "$P/ca.crt")"
check_eq "  a certificate from another CA: refused" 000 \
    "$(hget m1 /readyz --cacert "$P/ca.crt" --cert "$P/rogue.crt" --key "$P/rogue.key")"
check_eq "  an expired certificate: refused" 000 \
    "$(hget m1 /readyz --cacert "$P/ca.crt" --cert "$P/expired.crt" --key "$P/expired.key")"
check "  the refusals are logged with their reasons" \
    eval 'grep -q "refused: .*certificate" "${C_LOG[m1]}" && grep -q "certificate has expired" "${C_LOG[m1]}"'
check_eq "mTLS and --auth: the certificate is not a token (401)" 401 "$(hget m1 /status "${MC[@]}")"
ADMIN=$(cat "$TMP/mtls.token")
check "  with the token too: 200" wait_until 10 eval '[ "$(hget m1 /status "${MC[@]}" -H "Authorization: Bearer $ADMIN")" = 200 ]'
"$WIRE" token list --addr "https://${C_HTTP[m1]}" "${MC[@]}" --token "$ADMIN" >tl.out 2>&1
check "wire token list over mTLS (--cacert --cert --key --token)" grep -q "^admin  *admin" tl.out
"$WIRE" cluster status --addr "https://${C_HTTP[m1]}" --cacert "$P/ca.crt" --token "$ADMIN" >/dev/null 2>&1
check "  without --cert the CLI is refused (exit 1)" test $? -eq 1

# ---- flags -------------------------------------------------------------------------------
"$WIRE" serve --cert-file "$P/server.crt" --raft-dir "$TMP/f1" >f.out 2>&1
check_eq "--cert-file without --key-file: exit 1" 1 $?
check "  saying so" grep -q "must be given together" f.out
"$WIRE" serve --cert-file "$P/server.crt" --key-file "$P/server.key" --client-cert-auth --raft-dir "$TMP/f2" >f.out 2>&1
check_eq "--client-cert-auth without --trusted-ca-file: exit 1" 1 $?
check "  saying so" grep -q "needs --trusted-ca-file" f.out
read -r hp rp < <(free_ports 2)
"$WIRE" serve --cert-file "$P/server.crt" --key-file "$P/rogue.key" --http-addr 127.0.0.1:$hp \
    --raft-addr 127.0.0.1:$rp --raft-dir "$TMP/f3" >f.out 2>&1
check_eq "a key that does not match the certificate: exit 1" 1 $?
check "  saying so" grep -q "the key does not match the certificate" f.out

# ---- wire run --http-addr --------------------------------------------------------------------
cat >run.yaml <<EOF2
name: r
source: {type: generate, config: {count: 100000000, rate: 10}}
sink: {type: blackhole}
EOF2
RP=$(free_port)
"$WIRE" run --data-dir "$TMP/run" --http-addr 127.0.0.1:$RP --cert-file "$P/server.crt" \
    --key-file "$P/server.key" run.yaml >run.log 2>&1 &
RUNPID=$!
T_PIDS+=("$RUNPID")
run_up() { [ "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' --cacert "$P/ca.crt" "https://127.0.0.1:$RP/status")" = 200 ]; }
check "wire run --http-addr with --cert-file/--key-file serves HTTPS" wait_until 20 run_up
kill -TERM "$RUNPID"
wait "$RUNPID"
check_eq "  and stops cleanly" 0 $?
# ---- the http source's tls: block ------------------------------------------------------------
openssl pkey -in "$P/server.key" -aes256 -passout pass:sesame -out "$P/server-enc.key" 2>/dev/null
SP=$(free_port)
cat >src.yaml <<EOF2
name: s
source:
  type: http
  config:
    address: 127.0.0.1:$SP
    tls: {crt_file: $P/server.crt, key_file: $P/server-enc.key, key_pass: "\${env:KEYPASS}", ca_file: $P/ca.crt, verify_certificate: true}
sink: {type: file, config: {path: $TMP/src-out.jsonl}}
EOF2
KEYPASS=sesame "$WIRE" run --data-dir "$TMP/srcd" src.yaml >src.log 2>&1 &
SRCPID=$!
T_PIDS+=("$SRCPID")
post() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' --cacert "$P/ca.crt" "$@" --data-binary '{"n":1}' "https://127.0.0.1:$SP/"; }
check "http source with tls (an encrypted key, key_pass from \${env:}), mTLS: accepted with a client certificate" \
    wait_until 20 eval '[ "$(post --cert "$P/client.crt" --key "$P/client.key")" = 200 ]'
check_eq "  refused without one" 000 "$(post)"
check_eq "  refused with one from another CA" 000 "$(post --cert "$P/rogue.crt" --key "$P/rogue.key")"
check_eq "  plain HTTP: no answer" 000 "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' --data-binary x "http://127.0.0.1:$SP/")"
kill -TERM "$SRCPID"
wait "$SRCPID"
check_eq "  stops cleanly" 0 $?
check_eq "  and wrote exactly the accepted events" 1 "$(wc -l <"$TMP/src-out.jsonl")"
cat >src2.yaml <<EOF2
name: s2
source: {type: http, config: {address: 127.0.0.1:0, tls: {ca_file: $P/ca.crt}}}
sink: {type: blackhole}
EOF2
timeout 20 "$WIRE" run --data-dir "$TMP/srcd2" src2.yaml >src2.log 2>&1
check "an http source tls block without crt_file fails, saying so" grep -q "tls needs crt_file and key_file" src2.log
check "no sanitizer reports" logs_clean
finish
