#!/usr/bin/env bash
# test_limits.sh — the limits a hostile or careless client meets on a node:
# a pipeline document too large (413, --max-pipeline-bytes), too many
# transforms (400, --max-transforms), more pipelines than the cluster has
# room for (429 + Retry-After, --max-pipelines; the scheduler never gives a
# node more), the flags' checks; the defaults in `wire serve --help`; and the
# same document limits in `wire validate` and `wire run`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
cd "$TMP" || exit 1

# doc NAME NTRANSFORMS: a small valid pipeline with that many filters
doc() {
    printf 'name: %s\nsource: {type: generate, config: {count: 0, rate: 10}}\n' "$1"
    if [ "$2" -gt 0 ]; then
        echo "transforms:"
        for i in $(seq 1 "$2"); do echo "  - {type: filter, config: {where: \"seq >= 0\"}}"; done
    fi
    echo "sink: {type: blackhole}"
}

"$WIRE" serve --help >help.out 2>&1
check "serve --help lists --max-pipelines (256)" grep -q -- '--max-pipelines N .*(256' help.out
check "serve --help lists --max-transforms (1000)" grep -q -- '--max-transforms N .*(1000' help.out
check "serve --help lists --max-pipeline-bytes (1MB)" grep -q -- '--max-pipeline-bytes SIZE .*(1MB' help.out
"$WIRE" serve --max-pipeline-bytes lots >bad.out 2>&1
check "--max-pipeline-bytes lots: exit 1" test $? = 1
check "  says what it takes" grep -q "fatal: --max-pipeline-bytes takes a size" bad.out
"$WIRE" serve --max-pipeline-bytes 20MB >bad.out 2>&1
check "--max-pipeline-bytes 20MB (over the HTTP body limit): exit 1" test $? = 1
check "  says the range" grep -q "fatal: --max-pipeline-bytes must be between 1 and 10MB" bad.out
"$WIRE" serve --max-pipelines -3 >bad.out 2>&1
check "--max-pipelines -3: exit 1" test $? = 1
"$WIRE" serve --max-transforms=x >bad.out 2>&1
check "--max-transforms=x: exit 1" test $? = 1
check "  says what it takes" grep -q "fatal: --max-transforms takes a non-negative integer" bad.out

# wire validate and wire run: the same limits, the same flags and defaults, as diagnostics
section validate
doc v1001 1001 >v1001.yaml
"$WIRE" validate v1001.yaml >v.out 2>v.err
check "validate: 1001 transforms (default 1000): exit 1" test $? = 1
check_eq "  one diagnostic at the transforms key, naming the flag" \
    "v1001.yaml:3:1: 1001 transforms; a pipeline has at most 1000 (--max-transforms)" "$(cat v.err)"
"$WIRE" validate --max-transforms 1001 v1001.yaml >v.out 2>v.err
check "validate --max-transforms 1001: ok" test $? = 0 -a "$(cat v.out)" = "v1001.yaml: ok"
"$WIRE" validate --max-transforms=0 -q v1001.yaml >v.out 2>v.err
check "validate --max-transforms=0 (no limit): ok" test $? = 0 -a ! -s v.err
"$WIRE" validate --max-pipeline-bytes 1KB v1001.yaml >v.out 2>v.err
check "validate --max-pipeline-bytes 1KB: exit 1" test $? = 1
check "  at 1:1, with the size and the flag" \
    grep -q "^v1001.yaml:1:1: the document is [0-9]* bytes; a pipeline document is at most 1024 (--max-pipeline-bytes)$" v.err
doc ok3 3 | "$WIRE" validate --max-transforms 2 - >v.out 2>v.err
check "validate - (standard input) applies the limit too" grep -q "^-:3:1: 3 transforms; a pipeline has at most 2" v.err
"$WIRE" validate --max-transforms >v.out 2>v.err
check "validate --max-transforms without a value: exit 1" test $? = 1
check "  says so" grep -q "fatal: --max-transforms needs a value" v.err
"$WIRE" validate --help >v.out 2>&1
check "validate --help lists both flags" eval 'grep -q -- "--max-transforms N" v.out && grep -q -- "--max-pipeline-bytes SIZE" v.out'
doc r3 3 | sed 's/count: 0, rate: 10/count: 1/' >r3.yaml
"$WIRE" run --data-dir run-data --max-transforms 2 r3.yaml >r.out 2>r.err
check "run --max-transforms 2 on 3 transforms: exit 1 before running" test $? = 1
check "  the diagnostic" grep -q "^r3.yaml:3:1: 3 transforms; a pipeline has at most 2 (--max-transforms)" r.err
"$WIRE" run --data-dir run-data --max-transforms 3 r3.yaml >r.out 2>r.err
check "run --max-transforms 3: runs to the end (exit 0)" test $? = 0

section limits
node_new n1 --max-pipelines 2 --max-transforms 3 --max-pipeline-bytes 2KB
node_start n1
check "a node with small limits is ready" wait_until 30 ready n1

doc big 100 >big.yaml
req POST n1 /v1/pipelines "$(cat big.yaml)"
check_eq "a 5 KB document on a 2 KB node: 413" 413 "$R_CODE"
check "  the error names the limit" eval 'echo "$R_BODY" | grep -q -- "--max-pipeline-bytes"'
doc many 4 >many.yaml
req POST n1 /v1/pipelines "$(cat many.yaml)"
check_eq "4 transforms on a node that takes 3: 400" 400 "$R_CODE"
check "  the error names the limit" eval 'echo "$R_BODY" | grep -q "at most 3 (--max-transforms)"'
check_eq "  at the transforms key (line 3)" "3:1: 4 transforms; a pipeline has at most 3 (--max-transforms)" \
    "$(echo "$R_BODY" | jget error)"
doc ok3 3 >ok3.yaml
req POST n1 /v1/pipelines "$(cat ok3.yaml)"
check_eq "3 transforms: 201" 201 "$R_CODE"
req PUT n1 /v1/pipelines/ok3 "$(cat many.yaml | sed 's/^name: many/name: ok3/')"
check_eq "an update to 4 transforms: 400 too" 400 "$R_CODE"
req PUT n1 /v1/pipelines/ok3 "$(cat big.yaml | sed 's/^name: big/name: ok3/')"
check_eq "an update over 2 KB: 413 too" 413 "$R_CODE"
check "  a JSON error naming the limit" eval 'echo "$R_BODY" | jget error | grep -q "at most 2048 (--max-pipeline-bytes)"'
doc ok3 3 >edge.yaml
while [ "$(wc -c <edge.yaml)" -lt 2048 ]; do echo "# padding" >>edge.yaml; done
truncate -s 2048 edge.yaml
put_file() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X PUT --data-binary "@$1" \
    "http://${C_HTTP[n1]}/v1/pipelines/ok3"; }
check_eq "an update of exactly 2048 bytes: 200 (the limit is inclusive)" 200 "$(put_file edge.yaml)"
echo "#" >>edge.yaml
check_eq "  of 2050 bytes: 413" 413 "$(put_file edge.yaml)"
doc two 0 >two.yaml
req POST n1 /v1/pipelines "$(cat two.yaml)"
check_eq "a second pipeline on a node of 2: 201" 201 "$R_CODE"
doc three 0 >three.yaml
hdr=$(curl -s -D - -o three.body --max-time 10 --data-binary @three.yaml \
    "http://${C_HTTP[n1]}/v1/pipelines" | tr -d '\r')
check "a third: 429" eval 'echo "$hdr" | grep -q "^HTTP/1.1 429"'
check "  with Retry-After" eval 'echo "$hdr" | grep -qi "^Retry-After: [1-9]"'
check "  and a JSON error naming --max-pipelines" grep -q '"error":"the cluster is full.*--max-pipelines' three.body
req GET n1 /v1/pipelines/three
check_eq "  nothing was stored" 404 "$R_CODE"
req DELETE n1 /v1/pipelines/two
check_eq "delete one: 200" 200 "$R_CODE"
req POST n1 /v1/pipelines "$(cat three.yaml)"
check_eq "then the third fits: 201" 201 "$R_CODE"
running() { [ "$(req GET n1 "/v1/pipelines/$1"; echo "$R_BODY" | jget state)" = running ]; }
check "ok3 runs" wait_until 30 running ok3
check "three runs" wait_until 30 running three
check "node stops (exit 0)" node_term n1

# the scheduler's cap: a node that allows 1 runs 1; the other waits, pending
section cap
node_new c1 --max-pipelines 1
node_start c1
check "a node of 1 is ready" wait_until 30 ready c1
req POST c1 /v1/pipelines "$(doc p1 0)"
check_eq "p1: 201" 201 "$R_CODE"
req POST c1 /v1/pipelines "$(doc p2 0)"
check_eq "p2 on a full one-node cluster: 429" 429 "$R_CODE"
check "p1 runs" wait_until 30 eval '[ "$(req GET c1 /v1/pipelines/p1; echo "$R_BODY" | jget state)" = running ]'
# one client holding many connections: its further requests get 429, health checks
# are still answered, and another address is served as usual
section conns
node_new k1 --max-conns-per-client 20
node_start k1
check "a node with --max-conns-per-client 20 is ready" wait_until 30 ready k1
python3 "$C_LIBDIR/conn_flood.py" "${C_HTTP[k1]}" 25 20 >flood.out 2>&1 &
FLOOD=$!
T_PIDS+=("$FLOOD")
check "25 idle connections from 127.0.0.1 are open" wait_until 10 grep -q ready flood.out
sleep 0.5 # let the node accept them before the requests below
code() { curl -s -o "$TMP/code.body" -w '%{http_code}' --max-time 5 "$@"; }
check_eq "a request from the same address: 429" 429 "$(code "http://${C_HTTP[k1]}/v1/kv/x?level=stale")"
check "  with a JSON error" grep -q '"error":"too many connections from this address"' "$TMP/code.body"
check_eq "/livez from the same address: 200" 200 "$(code "http://${C_HTTP[k1]}/livez")"
check_eq "/readyz from the same address: 200" 200 "$(code "http://${C_HTTP[k1]}/readyz")"
check_eq "another address (from 127.0.0.2) is served: 404 for an absent key" 404 \
    "$(code --interface 127.0.0.2 "http://${C_HTTP[k1]}/v1/kv/x?level=stale")"
kill "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null
check "once they are gone, that address is served again" \
    wait_until 10 eval '[ "$(code "http://${C_HTTP[k1]}/v1/kv/x?level=stale")" = 404 ]'
check "node stops (exit 0)" node_term k1

check "no sanitizer reports in node logs" logs_clean
finish
