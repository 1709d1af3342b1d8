#!/usr/bin/env bash
# test_layering.sh — the house stays as built: scripts/check-layers.py passes
# on src/, and fails on copies of src/ with one wrong include each (so the
# check itself can fail: core -> engine, engine -> cluster, connectors ->
# cluster, transforms <-> connectors, Raft outside the cluster, a room the
# table does not know, and a header include cycle).
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/scripts/check-layers.py"

python3 "$CHECK" "$ROOT/src" >"$TMP/out" 2>&1
check "src/ follows the layers (check-layers.py exits 0)" test $? = 0
grep -v '^check-layers:' "$TMP/out" | sed 's/^/    /'

# bad NAME FILE LINE [NAMED]: a fresh copy of src/ with LINE added to FILE
# must fail, and the report must name NAMED (default FILE)
bad() {
    local desc=$1 file=$2 line=$3 named=${4:-$2}
    rm -rf "$TMP/src" && cp -r "$ROOT/src" "$TMP/src"
    mkdir -p "$(dirname "$TMP/src/$file")"
    printf '%s\n' "$line" >>"$TMP/src/$file"
    python3 "$CHECK" "$TMP/src" >"$TMP/bad.out" 2>&1
    local rc=$?
    check "$desc: refused" test "$rc" = 1
    check "$desc: the report names $named" grep -q "src/$named" "$TMP/bad.out"
}
bad "core includes the engine" core/util.c '#include "engine/engine.h"'
bad "engine includes the cluster" engine/queue.c '#include "cluster/cluster.h"'
bad "engine includes the API" engine/queue.c '#include "api/api.h"'
bad "a connector includes the CLI" connectors/sink_file.c '#include "cli/cli.h"'
bad "a connector includes the cluster" connectors/sink_file.c '#include "cluster/cluster.h"'
bad "a transform includes a connector" transforms/filter.c '#include "connectors/connectors.h"'
bad "a connector includes a transform" connectors/sink_file.c '#include "transforms/x.h"'
bad "the engine includes Raft" engine/queue.c '#include <raft.h>'
bad "a room the table does not know" zeta/parse.c '#include "core/core.h"' zeta/
bad "a header include cycle" core/core.h '#include "core/event.h"'
finish
