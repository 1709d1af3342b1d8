#!/usr/bin/env bash
# test_node_state.sh — a node refuses damaged Raft state instead of lying.
# One node writes keys and stops; copies of its --raft-dir are then damaged
# one way each (metadata truncated, oversized, of another disk format, gone
# beside a log; a log segment cut short) and `wire serve` must exit 1 within
# 10 s with `fatal:` naming the damaged file. A short metadata file beside a
# sound one is what a crash while writing leaves: that node starts, keeps
# its keys, and takes writes. (Under ASan a refused segment also prints a
# 40-byte leak report from libraft's own load error path; the exit is 1 either way.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
cd "$TMP" || exit 1

section state
node_new n1
node_start n1
check "a one-node cluster is ready" wait_until 30 ready n1
for i in 1 2 3 4 5; do kv_put n1 "k$i" "v$i" || not_ok "put k$i ($R_CODE)"; done
check "writes: 5 keys" kv_is n1 k5 v5
check "SIGTERM: exit 0" node_term n1
GOOD=$TMP/good
cp -r "${C_DIR[n1]}" "$GOOD"

# damaged NAME SHELL-CMD PATTERN: a fresh copy of the good dir, damaged by CMD
# (run in it), must make wire serve exit 1 in 10 s with fatal: and PATTERN
damaged() {
    local desc=$1 cmd=$2 pattern=$3 rc t0 t
    rm -rf "${C_DIR[n1]}" && cp -r "$GOOD" "${C_DIR[n1]}"
    (cd "${C_DIR[n1]}" && eval "$cmd")
    : >"$TMP/serve.err"
    t0=$SECONDS
    # shellcheck disable=SC2086
    timeout 20 "$WIRE" serve ${C_FLAGS[n1]} >"$TMP/serve.out" 2>"$TMP/serve.err"
    rc=$?
    t=$((SECONDS - t0))
    check "$desc: exit 1 (got $rc)" test "$rc" = 1
    check "$desc: within 10 s (took ${t}s)" test "$t" -le 10
    check "$desc: fatal names $pattern" grep -q "^fatal: .*$pattern" "$TMP/serve.err"
    sed 's/^/    /' "$TMP/serve.err" | head -3
}
damaged "metadata1 truncated to 5 bytes" "truncate -s 5 metadata1" "metadata1 is 5 bytes"
damaged "metadata1 grown to 40 bytes" "truncate -s 40 metadata1" "metadata1 is 40 bytes"
damaged "metadata1 of disk format 9" \
    "printf '\\011\\000\\000\\000\\000\\000\\000\\000' | dd of=metadata1 conv=notrunc status=none" \
    "metadata1 has disk format 9"
damaged "metadata files removed beside the log" "rm -f metadata1 metadata2" \
    "is a Raft log file but the directory has no metadata"
damaged "a log segment cut short" \
    "s=\$(ls | grep -E '^[0-9]{16}-[0-9]{16}\$' | tail -1); truncate -s 100 \"\$s\"" \
    "segment"

# a short metadata file beside a sound one: the crash libraft recovers from
rm -rf "${C_DIR[n1]}" && cp -r "$GOOD" "${C_DIR[n1]}"
if [ -f "${C_DIR[n1]}/metadata1" ] && [ ! -f "${C_DIR[n1]}/metadata2" ]; then
    cp "${C_DIR[n1]}/metadata1" "${C_DIR[n1]}/metadata2"
    printf '\002' | dd of="${C_DIR[n1]}/metadata2" bs=1 seek=8 conv=notrunc status=none
fi
truncate -s 5 "${C_DIR[n1]}/metadata1"
node_start n1
check "short metadata1 beside a sound metadata2: the node is ready" wait_until 30 ready n1
check "  it kept its keys" kv_is n1 k3 v3
check "  it takes writes" kv_put n1 k6 v6
check "  SIGTERM: exit 0" node_term n1
check "no sanitizer reports in node logs" logs_clean
finish
