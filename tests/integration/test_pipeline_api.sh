#!/usr/bin/env bash
# Pipelines as replicated state, through the real nodes' HTTP API and the
# `wire pipeline` CLI, on 3 `wire serve` nodes on 127.0.0.1: create on a
# follower (201, then visible on every node), 409, a bad document rejected
# with the same line and column as `wire validate`, placement honoured,
# pause (output stops) / resume (continues from the checkpoint, nothing
# lost), update to version 2 with a changed filter (visible from a point on,
# resuming from version 1's position), delete (stops everywhere, state
# gone, the name reusable), finished and failed states, the original's
# /connector API (create, list, delete, unknown type → 400 naming it,
# malformed bodies → 400), and the CLI's tables, -o json and exit codes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1

section api
check "api: 3 nodes formed" cluster_join 3 --node-timeout 3s
leader=$(leader_of n1)
follower=
for id in n1 n2 n3; do [ "$id" != "$leader" ] && { follower=$id; break; }; done
D=$TMP/api

# ---- create on a follower; visible everywhere; 409
cat >"$D/evens.yaml" <<EOF
name: evens
source:
  type: generate
  config: { rate: 2000, template: '{"n": {{seq}}, "k": "{{pick a b}}"}' }
transforms:
  - type: filter
    config: { where: "n % 2 = 0" }
sink:
  type: file
  config: { path: $D/evens.jsonl }
checkpoint: { interval: 200ms }
EOF
R_CURL=(-H 'Content-Type: application/yaml')
req POST "$follower" /v1/pipelines "@$D/evens.yaml"
check_eq "create on follower $follower: 201" 201 "$R_CODE"
check_eq "create: body names the pipeline and version 1" '{"name":"evens","version":1}' "$R_BODY"
req POST "$leader" /v1/pipelines "@$D/evens.yaml"
check_eq "create again: 409" 409 "$R_CODE"
check "create again: JSON error" is_json_error
R_CURL=()
for id in n1 n2 n3; do
    check "evens running, seen from $id" wait_until 30 state_is "$id" evens running
done
check "evens: output grows" wait_until 20 has_lines "$D/evens.jsonl" 200
check "evens: only even numbers (the filter runs)" python3 -c '
import json, sys
ns = [json.loads(l)["n"] for l in open(sys.argv[1])]
sys.exit(0 if ns and all(n % 2 == 0 for n in ns) else 1)' "$D/evens.jsonl"
req GET n2 /v1/pipelines
check "list: evens with version, state, node, counters" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["pipelines"]
p = [x for x in v if x["name"] == "evens"][0]
assert p["version"] == 1 and p["state"] == "running" and p["node"] in ("n1", "n2", "n3")
c = p["counters"]
for k in ("events_in", "events_out", "filtered", "dead_lettered", "dropped", "invalid", "errors"):
    assert isinstance(c[k], int), k
assert "spec" not in p' "$R_BODY"
req GET n3 /v1/pipelines/evens
check "get: adds the spec as stored" python3 -c '
import json, sys
p = json.loads(sys.argv[1])
assert p["spec"] == open(sys.argv[2]).read()' "$R_BODY" "$D/evens.yaml"
counted() { # counters reach the node that does not run it, through checkpoints
    local id=$1 v
    v=$(pfield "$id" evens counters.events_in) && [ "$v" -gt 0 ]
}
for id in n1 n2 n3; do check "counters visible on $id" wait_until 20 counted "$id"; done
runner=$(pfield n1 evens node)
req GET "$runner" /status
check "status of $runner: the pipelines it runs, as wire run shows them" python3 -c '
import json, sys
p = [x for x in json.loads(sys.argv[1])["pipelines"] if x["name"] == "evens"][0]
assert p["state"] == "running" and p["events"]["in"] > 0 and p["stages"], p' "$R_BODY"
req GET "$runner" /metrics
check "metrics of $runner: the pipeline series" grep -qE '^wire_pipeline_events_in_total\{pipeline="evens"\} [1-9]' <<<"$R_BODY"

# ---- a bad document: 400 with the same positions as `wire validate`
cat >"$D/bad.yaml" <<'EOF'
name: bad
source:
  type: generate
  config: { rate: nope }
sink:
  type: nosuchsink
EOF
req POST n1 /v1/pipelines "@$D/bad.yaml"
check_eq "bad document: 400" 400 "$R_CODE"
"$WIRE" validate "$D/bad.yaml" >"$D/validate.out" 2>&1
check "bad document: every problem with the line and column wire validate gives" python3 - "$R_BODY" "$D/validate.out" <<'EOF'
import json, re, sys
body = json.loads(sys.argv[1])
got = [(e["line"], e["col"], e["message"]) for e in body["errors"]]
want = []
for l in open(sys.argv[2]):
    m = re.match(r".*?:(\d+):(\d+): (.*)", l.rstrip("\n"))
    if m:
        want.append((int(m.group(1)), int(m.group(2)), m.group(3)))
print(got, want)
assert got and got == want, (got, want)
assert all(f"{l}:{c}: {m}" in body["error"] for l, c, m in got)
EOF
req GET n1 /v1/pipelines/bad
check_eq "bad document: not stored" 404 "$R_CODE"
req POST n1 /v1/pipelines '{"name": "js", "source": {"type": "generate", "config": {"count": 10}}, "sink": {"type": "nosuch"}}'
check_eq "bad JSON document: 400" 400 "$R_CODE"
check "bad JSON document: names the sink type" grep -q "nosuch" <<<"$R_BODY"

# ---- placement
other=
for id in n3 n2 n1; do [ "$id" != "$leader" ] && { other=$id; break; }; done
cat >"$D/pinned.yaml" <<EOF
name: pinned
source:
  type: generate
  config: { rate: 100, template: '{"n": {{seq}}}' }
sink:
  type: blackhole
placement: { node: $other }
EOF
req POST "$leader" /v1/pipelines "@$D/pinned.yaml"
check_eq "placement: created" 201 "$R_CODE"
check "placement: runs on $other" wait_until 30 state_is n1 pinned running
check_eq "placement: node is $other" "$other" "$(pfield n1 pinned node)"
cat >"$D/nowhere.yaml" <<EOF
name: nowhere
source:
  type: generate
  config: { rate: 100 }
sink:
  type: blackhole
placement: { node: n9 }
EOF
req POST n1 /v1/pipelines "@$D/nowhere.yaml"
sleep 1
check_eq "placement on an unknown node: stays pending, unassigned" "pending " \
    "$(pfield n1 nowhere state) $(pfield n1 nowhere node)"
# a new placement: the old node stops it and hands it back, then it runs on
# the new one; no epoch ever started twice
sed "s/node: $other/node: $leader/" "$D/pinned.yaml" >"$D/pinned2.yaml"
req PUT n1 /v1/pipelines/pinned "@$D/pinned2.yaml"
check_eq "placement change: 200" 200 "$R_CODE"
moved_to_leader() { [ "$(pfield n1 pinned node)" = "$leader" ] && state_is n1 pinned running; }
check "placement change: runs on $leader" wait_until 30 moved_to_leader
check "placement change: $other stopped it and handed it back first" \
    grep -q "pipeline pinned: released for another node" "${C_LOG[$other]}"
starts_once() {
    python3 - "$TMP"/api/n*.log <<'EOF2'
import re, sys, collections
c = collections.Counter()
for p in sys.argv[1:]:
    for l in open(p, errors="replace"):
        m = re.search(r"pipeline pinned: version \d+ started here \(epoch (\d+)\)", l)
        if m:
            c[m.group(1)] += 1
sys.exit(0 if c and all(v == 1 for v in c.values()) else 1)
EOF2
}
check "placement change: every epoch started once" starts_once

# ---- pause / resume: output stops, then continues from the checkpoint
req POST "$follower" /v1/pipelines/evens/pause
check_eq "pause: 200" '{"name":"evens","state":"paused"}' "$R_BODY"
check "pause: state paused" state_is n1 evens paused
sleep 0.5
check "pause: output stopped" still "$D/evens.jsonl" 1
req POST n1 /v1/pipelines/evens/resume
check_eq "resume: 200" 200 "$R_CODE"
check "resume: running again" wait_until 30 state_is n1 evens running
check "resume: output grows" wait_until 10 grows "$D/evens.jsonl" 0.5
check "pause+resume: no even number lost" python3 -c '
import json, sys
ns = sorted(set(json.loads(l)["n"] for l in open(sys.argv[1])))
sys.exit(0 if ns == list(range(0, ns[-1] + 1, 2)) else 1)' "$D/evens.jsonl"

# ---- update to version 2: a changed filter, visible from a point on
mark=$(lines "$D/evens.jsonl")
sed 's/n % 2 = 0/n % 2 = 1/' "$D/evens.yaml" >"$D/odds.yaml"
req PUT n3 /v1/pipelines/evens "@$D/odds.yaml"
check_eq "update: 200 version 2" '{"name":"evens","version":2}' "$R_BODY"
v2running() { [ "$(pfield n1 evens version)" = 2 ] && state_is n1 evens running; }
check "update: version 2 running" wait_until 30 v2running
check "update: output grows" wait_until 10 grows "$D/evens.jsonl" 0.5
sleep 1
check "update: evens, then from one point on odds only, resuming where v1 stopped" python3 - "$D/evens.jsonl" <<'EOF'
import json, sys
ns = [json.loads(l)["n"] for l in open(sys.argv[1])]
first_odd = next(i for i, n in enumerate(ns) if n % 2 == 1)
before, after = ns[:first_odd], ns[first_odd:]
assert all(n % 2 == 0 for n in before) and all(n % 2 == 1 for n in after), "mixed"
# version 2 resumed from version 1's position: no number before it is replayed
assert after[0] > before[-1] - 2000, (before[-1], after[0])
assert len(after) > 10
print(f"v1 up to {before[-1]}, v2 from {after[0]}")
EOF
cat >"$D/wrongname.yaml" <<'EOF'
name: other
source: { type: generate }
sink: { type: blackhole }
EOF
req PUT n1 /v1/pipelines/evens "@$D/wrongname.yaml"
check_eq "update: a document with another name is 400" 400 "$R_CODE"
req PUT n1 /v1/pipelines/ghost "@$D/odds.yaml"
check "update: an absent pipeline is 400 or 404" test "$R_CODE" = 404 -o "$R_CODE" = 400

# ---- finished and failed
cat >"$D/short.yaml" <<EOF
name: short
source:
  type: generate
  config: { count: 50 }
sink:
  type: file
  config: { path: $D/short.jsonl }
EOF
req POST n2 /v1/pipelines "@$D/short.yaml"
check "finished: state" wait_until 30 state_is n1 short finished
check_eq "finished: 50 events out" "50 50" "$(lines "$D/short.jsonl") $(pfield n1 short counters.events_out)"
cat >"$D/broken.yaml" <<EOF
name: broken
source:
  type: file
  config: { path: $D/does-not-exist.jsonl }
sink:
  type: blackhole
EOF
req POST n2 /v1/pipelines "@$D/broken.yaml"
check "failed: state" wait_until 30 state_is n1 broken failed
check "failed: the error names the file" grep -q "does-not-exist" <<<"$(pfield n3 broken error)"
echo '{"x": 1}' >"$D/does-not-exist.jsonl"
req POST n1 /v1/pipelines/broken/resume
check "failed → resume: runs once the file exists" wait_until 30 state_is n1 broken finished

# ---- delete: stops everywhere, state gone, name reusable
req DELETE "$follower" /v1/pipelines/evens
check_eq "delete: 200" '{"name":"evens","deleted":true}' "$R_BODY"
for id in n1 n2 n3; do
    req GET "$id" /v1/pipelines/evens
    check_eq "delete: gone on $id" 404 "$R_CODE"
done
sleep 0.5
check "delete: output stopped" still "$D/evens.jsonl" 1
check "delete: no node logs an error for an ordinary delete" \
    eval '! grep -h "evens" "${C_LOG[n1]}" "${C_LOG[n2]}" "${C_LOG[n3]}" | grep -q " error "'
check "delete: the running node logs it at info" \
    eval 'grep -h "pipeline evens" "${C_LOG[n1]}" "${C_LOG[n2]}" "${C_LOG[n3]}" | grep -q " info .*deleted"'
req DELETE n1 /v1/pipelines/evens
check_eq "delete again: 404" 404 "$R_CODE"
req POST n1 /v1/pipelines "@$D/short.yaml"
check_eq "name of a finished pipeline: 409" 409 "$R_CODE"

# ---- malformed requests
req GET n1 /v1/pipelines/NoSuch
check_eq "bad name in path: 404" 404 "$R_CODE"
req POST n1 /v1/pipelines/short/explode
check_eq "unknown action: 404" 404 "$R_CODE"
req PATCH n1 /v1/pipelines
check_eq "PATCH /v1/pipelines: 405" 405 "$R_CODE"
req POST n1 /v1/pipelines ''
check_eq "empty document: 400" 400 "$R_CODE"
req POST n1 /v1/pipelines $'\x01\x02{{{'
check_eq "garbage document: 400" 400 "$R_CODE"
R_CURL=(-H 'Content-Type: image/png')
req POST n1 /v1/pipelines "@$D/short.yaml"
R_CURL=()
check_eq "wrong content type: 415" 415 "$R_CODE"

# ---- the original's /connector API
printf '{"a": 1}\n{"a": 2}\n{"a": 3}\n' >"$D/legacy-in.jsonl"
req POST "$follower" /connector/legacy "{\"source\":{\"name\":\"in\",\"type\":\"file\",\"key\":\"id\",\"config\":{\"file_path\":\"$D/legacy-in.jsonl\"}},\"sink\":{\"name\":\"out\",\"type\":\"file\",\"config\":{\"file_path\":\"$D/legacy-out.jsonl\"}}}"
check_eq "legacy create: 201" 201 "$R_CODE"
check "legacy: copies the file" wait_until 30 cmp -s "$D/legacy-in.jsonl" "$D/legacy-out.jsonl"
req GET n3 /connector
check "legacy list: name and types" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["connectors"]
c = [x for x in v if x["name"] == "legacy"][0]
assert c["source"]["type"] == "file" and c["sink"]["type"] == "file", c' "$R_BODY"
req GET n1 /v1/pipelines/legacy
check_eq "legacy: also a pipeline" legacy "$(jget name <<<"$R_BODY")"
req POST n1 /connector/mongo1 '{"source":{"name":"m","type":"mongodb","config":{"uri":"mongodb://127.0.0.1","database":"d","collection":"c"}},"sink":{"name":"o","type":"file","config":{"file_path":"/tmp/x"}}}'
check_eq "legacy unknown type: 400" 400 "$R_CODE"
check "legacy unknown type: names mongodb" grep -q "unknown source type 'mongodb'" <<<"$R_BODY"
req POST n1 /connector/broken '{"source": 7}'
check_eq "legacy malformed body: 400" 400 "$R_CODE"
req POST n1 /connector/broken 'not json'
check_eq "legacy non-JSON body: 400" 400 "$R_CODE"
req DELETE n2 /connector/legacy
check_eq "legacy delete: 200" 200 "$R_CODE"
req GET n1 /v1/pipelines/legacy
check_eq "legacy delete: gone" 404 "$R_CODE"

# ---- the CLI against the real nodes
WP=("$WIRE" pipeline --addr "${C_HTTP[$follower]}")
"${WP[@]}" create -f "$D/evens.yaml" >"$D/cli.out" 2>&1
check_eq "cli create: exit 0" 0 $?
check_eq "cli create: message" "pipeline evens created (version 1)" "$(cat "$D/cli.out")"
"${WP[@]}" create -f "$D/evens.yaml" >"$D/cli.out" 2>"$D/cli.err"
check_eq "cli create again: exit 1" 1 $?
check "cli create again: the server's message" grep -q "already exists" "$D/cli.err"
"${WP[@]}" create -f "$D/bad.yaml" >"$D/cli.out" 2>"$D/cli.err"
check_eq "cli create bad: exit 1" 1 $?
check "cli create bad: FILE:LINE:COL lines as wire validate prints" diff <(sed -E 's/^[^:]*://' "$D/validate.out") <(sed -E 's/^[^:]*://' "$D/cli.err")
check "cli list: running soon" wait_until 30 state_is n1 evens running
"${WP[@]}" list >"$D/cli.out" 2>&1
check "cli list: header" grep -qE '^NAME +VERSION +STATE +NODE' "$D/cli.out"
check "cli list: evens row" grep -qE '^evens +1 +running +n[123] ' "$D/cli.out"
"${WP[@]}" list -o json >"$D/cli.out"
check "cli list -o json: parses, lists evens" python3 -c '
import json, sys
assert any(p["name"] == "evens" for p in json.load(open(sys.argv[1]))["pipelines"])' "$D/cli.out"
"${WP[@]}" get evens >"$D/cli.out"
check "cli get: fields" grep -qE "^state +running$" "$D/cli.out"
check "cli get: the spec" grep -q "n % 2 = 0" "$D/cli.out"
"${WP[@]}" pause evens >"$D/cli.out"
check_eq "cli pause" "pipeline evens paused" "$(cat "$D/cli.out")"
"${WP[@]}" resume evens >"$D/cli.out"
check_eq "cli resume" "pipeline evens resumed" "$(cat "$D/cli.out")"
"${WP[@]}" delete evens >"$D/cli.out"
check_eq "cli delete" "pipeline evens deleted" "$(cat "$D/cli.out")"
"${WP[@]}" get evens >"$D/cli.out" 2>"$D/cli.err"
check_eq "cli get missing: exit 1" 1 $?
check "cli get missing: error message" grep -q "error: pipeline evens not found" "$D/cli.err"

check "api: nodes stop cleanly" node_term_all n1 n2 n3
finish
