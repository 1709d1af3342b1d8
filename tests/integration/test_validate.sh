#!/usr/bin/env bash
# test_validate.sh — `wire validate` and `wire help` as a user runs them:
# good files pass, every bad file prints exactly its expected problems
# (pipelines/bad_*.expected), exit codes, several files at once.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/pipelines" || exit 1
unset WIRE_IT_LOG WIRE_IT_OUT WIRE_IT_UNSET_DIR WIRE_IT_UNSET_OUT

# validate FILES...: run wire validate, stdout -> $TMP/out, stderr -> $TMP/err, rc -> $RC
validate() {
    "$WIRE" validate "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}
same() { diff -u "$2" "$1" >&2; } # same ACTUAL EXPECTED (prints the diff on failure)

for f in good_*; do
    validate "$f"
    check "$f is valid (exit 0)" test "$RC" = 0
    check "$f prints '$f: ok'" test "$(cat "$TMP/out")" = "$f: ok"
    check "$f prints nothing on stderr" test ! -s "$TMP/err"
done

validate -q good_minimal.yaml good_json.json
check "-q: exit 0, prints nothing" test "$RC" = 0 -a ! -s "$TMP/out" -a ! -s "$TMP/err"

for f in bad_*.yaml bad_*.json; do
    exp="${f%.*}.expected"
    [ -f "$exp" ] || continue
    validate "$f"
    check "$f is invalid (exit 1)" test "$RC" = 1
    check "$f: every problem, exactly" same "$TMP/err" "$exp"
    check "$f: nothing on stdout" test ! -s "$TMP/out"
done

# An unknown type names the known ones (their list grows with the registry).
validate bad_type_name.yaml
check "unknown type: exit 1" test "$RC" = 1
check "unknown type: suggestion and known types" \
    grep -q "^bad_type_name.yaml:2:17: unknown source type 'generat' (did you mean 'generate'? source types: .*generate" "$TMP/err"

# Environment variables fill values, defaults apply.
WIRE_IT_LOG=/var/log/x.jsonl validate good_full.yaml
check "env: set variable accepted" test "$RC" = 0
WIRE_IT_UNSET_DIR=/tmp validate bad_env.yaml
check "env: setting the missing variable fixes the file" test "$RC" = 0

# Several files: all problems of all files; a missing file; valid ones quiet.
validate good_minimal.yaml bad_syntax.yaml missing.yaml bad_env.yaml
check "several files: exit 1" test "$RC" = 1
{
    cat bad_syntax.expected
    echo "missing.yaml:0:0: cannot open: No such file or directory"
    cat bad_env.expected
} >"$TMP/several.expected"
check "several files: every problem in order" same "$TMP/err" "$TMP/several.expected"
check "several files: no ok lines when something failed" test ! -s "$TMP/out"

# Two files with the same pipeline name cannot run together.
validate dup_a.yaml dup_b.yaml
check "duplicate names across files: exit 1" test "$RC" = 1
check "duplicate names across files: message" \
    test "$(cat "$TMP/err")" = "dup_b.yaml:1:1: pipeline name 'same' is also used by dup_a.yaml"

# Standard input.
"$WIRE" validate - <good_minimal.yaml >"$TMP/out" 2>"$TMP/err"
check "stdin: valid" test "$?" = 0 -a "$(cat "$TMP/out")" = "-: ok"
"$WIRE" validate - <bad_syntax.yaml >"$TMP/out" 2>"$TMP/err"
check "stdin: problems name '-'" grep -q "^-:4:2: YAML syntax error" "$TMP/err"

validate
check "no files: usage, exit 1" test "$RC" = 1 -a -s "$TMP/err"
validate --bogus x.yaml
check "unknown flag: exit 1" test "$RC" = 1

# Expression errors point inside the expression (when the filter transform exists).
if "$WIRE" help transform filter >/dev/null 2>&1; then
    printf 'name: expr\nsource: {type: generate}\ntransforms:\n  - type: filter\n    config:\n      where: |\n        level = '"'"'error'"'"'\n          AND latency_ms ? 2\nsink: {type: stdout}\n' >"$TMP/expr.yaml"
    "$WIRE" validate "$TMP/expr.yaml" >/dev/null 2>"$TMP/err"
    check "expression error: exit 1" test "$?" = 1
    check "expression error: line and column inside the block scalar" \
        grep -q "^$TMP/expr.yaml:8:26: transform 'filter' (transforms\[0\]): option 'where': " "$TMP/err"
fi

# wire help
"$WIRE" help >"$TMP/out" 2>&1
check "help: topics" grep -q "sources" "$TMP/out"
"$WIRE" help sources >"$TMP/out" 2>&1
check "help sources: lists generate with its summary" grep -q "^  generate  *Generate" "$TMP/out"
"$WIRE" help sinks >"$TMP/out" 2>&1
check "help sinks: lists stdout" grep -q "^  stdout " "$TMP/out"
"$WIRE" help file >"$TMP/out" 2>&1
check "help file: source and sink" test "$(grep -c '^source file:\|^sink file:' "$TMP/out")" = 2
check "help file: options with type, default, required" grep -q "^  path (string, required)" "$TMP/out"
"$WIRE" help source/file >"$TMP/out" 2>&1
check "help source/file: only the source" test "$(grep -c '^sink file:' "$TMP/out")" = 0
"$WIRE" help generat >"$TMP/out" 2>&1
check "help unknown type: exit 1 with a suggestion" test "$?" = 1
check "help unknown type: message" grep -q "did you mean 'generate'" "$TMP/out"
"$WIRE" help --markdown >"$TMP/out" 2>&1
check "help --markdown: sections" grep -q "^## Sources" "$TMP/out"
check "help --markdown: option tables" grep -q "^| \`path\` | string |  | yes |" "$TMP/out"
# docs/reference.md is generated from the same tables: it must be current.
check "docs/reference.md is current (run: make docs)" \
    diff -q "$TMP/out" ../../../docs/reference.md

# The guarantee matrix, from the declared capabilities; docs/guarantees.md is the same.
"$WIRE" help >"$TMP/out" 2>&1
check "help: topics list guarantees" grep -q "^  guarantees " "$TMP/out"
"$WIRE" help guarantees >"$TMP/out" 2>&1
check "help guarantees: the file sink's mechanism" \
    grep -q "^file  *sink  *yes  *yes  *no  *resumable two-phase commit (state in the checkpoint)" "$TMP/out"
check "help guarantees: stdin cannot replay" grep -q "^stdin  *source  *no (not replayable)  *no " "$TMP/out"
check "help guarantees: kafka is splittable and replays" \
    grep -q "^kafka  *source  *yes  *with an exactly-once sink .*replays from checkpointed positions.* yes$" "$TMP/out"
"$WIRE" help guarantees --markdown >"$TMP/out" 2>&1
check "docs/guarantees.md is current (run: make docs)" diff -q "$TMP/out" ../../../docs/guarantees.md

# delivery: exactly-once from a source that cannot replay: refused, saying why
printf 'name: eo\nsource: {type: stdin}\nsink: {type: file, config: {path: /tmp/x}}\ndelivery: exactly-once\n' >"$TMP/eo.yaml"
"$WIRE" validate "$TMP/eo.yaml" >/dev/null 2>"$TMP/err"
check "exactly-once from stdin: exit 1" test "$?" = 1
check "exactly-once from stdin: why, and the sources that can" \
    grep -q "source 'stdin' cannot honour exactly-once delivery: it cannot replay from a checkpointed position.*(source types that can: generate, nexmark, file, kafka; or use delivery: at-least-once)" "$TMP/err"

# parallelism: more than one instance needs a source that can be split
printf 'name: par\nsource: {type: file, config: {path: /tmp/x}}\nsink: {type: stdout}\nparallelism: 2\n' >"$TMP/par.yaml"
"$WIRE" validate "$TMP/par.yaml" >/dev/null 2>"$TMP/err"
check "parallelism 2 from a file: exit 1" test "$?" = 1
check "parallelism 2 from a file: why, and the sources that can" \
    grep -q "parallelism 2 needs a source whose input can be split between instances; source 'file' cannot be split (sources that can: kafka)" "$TMP/err"
printf 'name: par\nsource: {type: kafka, config: {brokers: "127.0.0.1:1", topics: [t]}}\nsink: {type: stdout}\nparallelism: 3\n' >"$TMP/par.yaml"
check "parallelism 3 from kafka: valid" "$WIRE" validate "$TMP/par.yaml"
finish
