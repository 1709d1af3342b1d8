#!/usr/bin/env bash
# test_cli_apply.sh — the client as a user meets it against a real node:
# `wire pipeline apply -f` creates a pipeline and then updates it in place
# (version 2 resumes from version 1's checkpoint: the output has every number
# exactly once, where delete + create started over and duplicated it),
# WIRE_ADDR is the default address of every client command, and --help works
# on every subcommand (exit 0, usage on stdout).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/pipeline_lib.sh"
cd "$TMP" || exit 1

for c in run validate serve pipeline cluster help; do
    "$WIRE" $c --help >"$TMP/h.out" 2>"$TMP/h.err"
    check "wire $c --help: exit 0" test $? = 0
    check "wire $c --help: usage on stdout" grep -qi usage "$TMP/h.out"
done

section apply
node_new n1
node_start n1
check "a node is ready" wait_until 30 ready n1
export WIRE_ADDR=${C_HTTP[n1]}
OUT=$TMP/apply.out
numbers_yaml nums "$OUT" 200 500ms >"$TMP/v1.yaml"
"$WIRE" pipeline apply -f "$TMP/v1.yaml" >"$TMP/a1" 2>&1
check "apply (WIRE_ADDR, no --addr): created, version 1" grep -q 'pipeline nums created (version 1)' "$TMP/a1"
check "it runs and writes" wait_until 30 has_lines "$OUT" 300
numbers_yaml nums "$OUT" 300 500ms >"$TMP/v2.yaml"
"$WIRE" pipeline apply -f "$TMP/v2.yaml" >"$TMP/a2" 2>&1
check "apply again: updated, version 2 ($(cat "$TMP/a2"))" grep -q 'pipeline nums updated (version 2)' "$TMP/a2"
check "version 2 runs" eventually 30 eval '[ "$(pfield n1 nums version)" = 2 ] && [ "$(pfield n1 nums state)" = running ]'
n_before=$(lines "$OUT")
check "version 2 writes on" wait_until 30 has_lines "$OUT" $((n_before + 300))
"$WIRE" pipeline pause nums >/dev/null 2>&1
check "paused" eventually 30 state_is n1 nums paused
python3 - "$OUT" >"$TMP/dups" <<'PY'
import json, sys
ns = [json.loads(l)["n"] for l in open(sys.argv[1])]
print(len(ns), len(set(ns)), max(ns) + 1 if ns else 0)
PY
read -r total distinct span <"$TMP/dups"
check_eq "every number exactly once across the update (lines = distinct)" "$total" "$distinct"
check_eq "  and none missing (distinct = 0..max)" "$span" "$distinct"
"$WIRE" pipeline list >"$TMP/list" 2>&1
check "wire pipeline list uses WIRE_ADDR" grep -q '^nums' "$TMP/list"
"$WIRE" cluster status >"$TMP/cs" 2>&1
check "wire cluster status uses WIRE_ADDR" grep -q 'n1' "$TMP/cs"
WIRE_ADDR=127.0.0.1:1 "$WIRE" pipeline list --addr "${C_HTTP[n1]}" >/dev/null 2>&1
check "--addr wins over WIRE_ADDR" test $? = 0
WIRE_ADDR=127.0.0.1:1 "$WIRE" pipeline list >"$TMP/bad" 2>&1
check_eq "a WIRE_ADDR nobody answers: exit 1" 1 $?
check "  the error names it" grep -q 127.0.0.1:1 "$TMP/bad"
unset WIRE_ADDR
check "no sanitizer reports in node logs" logs_clean
finish
