# shellcheck shell=bash
# pipeline_lib.sh — probes for cluster pipeline tests. Source after
# cluster_lib.sh. Every probe is one bounded curl (plus jget).
#
#   pfield ID NAME FIELD        a field of GET /v1/pipelines/NAME on node ID
#   pfield_any NAME FIELD       the same from the first live node that answers
#   state_is ID NAME STATE      node ID sees NAME in STATE
#   running_on NAME             the node that runs NAME (state running), or fail
#   runs_on NAME NODE           NAME is running on NODE
#   create_pipeline ID FILE     POST FILE to node ID; 201 expected
#   lines FILE / has_lines FILE N / grows FILE [SECS] / still FILE [SECS]
#   now_ms                      wall clock in ms
#   numbers_yaml NAME OUT RATE INTERVAL [COUNT]   a pipeline: {"n": 0, 1, ...}
#                               from generate at RATE/s into file OUT,
#                               checkpoints every INTERVAL (append more keys)

pfield() { curl -s --max-time "$C_CURL_TIME" "http://${C_HTTP[$1]}/v1/pipelines/$2" | jget "$3"; }
pfield_any() {
    local id v
    for id in $(live_ids); do
        v=$(pfield "$id" "$1" "$2") && { echo "$v"; return 0; }
    done
    return 1
}
state_is() { [ "$(pfield "$1" "$2" state)" = "$3" ]; }
running_on() {
    local s n
    s=$(pfield_any "$1" state) && [ "$s" = running ] || return 1
    n=$(pfield_any "$1" node) && [ -n "$n" ] && echo "$n"
}
runs_on() { [ "$(running_on "$1")" = "$2" ]; }
create_pipeline() {
    req POST "$1" /v1/pipelines "@$2"
    [ "$R_CODE" = 201 ] || { echo "create: $R_CODE $R_BODY" >&2; return 1; }
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
grows() { local a; a=$(lines "$1"); sleep "${2:-0.5}"; [ "$(lines "$1")" -gt "$a" ]; }
still() { local a; a=$(lines "$1"); sleep "${2:-1}"; [ "$(lines "$1")" -eq "$a" ]; }
now_ms() { date +%s%3N; }
numbers_yaml() {
    local count=
    [ -n "${5:-}" ] && count="count: $5, "
    cat <<EOF
name: $1
source:
  type: generate
  config: { ${count}rate: $3, template: '{"n": {{seq}}}' }
sink:
  type: file
  config: { path: $2 }
checkpoint: { interval: $4 }
EOF
}
