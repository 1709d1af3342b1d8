#!/bin/sh
# make run: start a one-node Wire cluster, submit examples/cluster-quickstart.yaml
# to it, and keep the node in the foreground until Ctrl-C.
#
#   scripts/run-example.sh [WIRE_BINARY]      (default build/release/wire)
#   WIRE_HTTP_ADDR=localhost:5001 WIRE_RAFT_ADDR=localhost:5002 make run
#                                             other ports (defaults 4001, 4002)
#
# Everything lives under ./wire-data: the node's Raft log and checkpoints
# (node1/), its log (node.log) and the pipeline's output (out/). A second
# `make run` restarts the same node: the pipeline is already there (the
# node answers 409) and resumes from its last checkpoint.
set -u
WIRE=${1:-build/release/wire}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
HTTP=${WIRE_HTTP_ADDR:-localhost:4001}
RAFT=${WIRE_RAFT_ADDR:-localhost:4002}
DATA=./wire-data
LOG=$DATA/node.log
EXAMPLE=examples/cluster-quickstart.yaml

[ -x "$WIRE" ] || { echo "run: $WIRE not found (make builds it)" >&2; exit 1; }
# The pipeline's relative paths are the node's, and the node runs here; its
# pipelines may write only below its allowed paths (--allowed-paths).
mkdir -p "$DATA/node1" "$DATA/out" || exit 1

ready() {
    if command -v curl >/dev/null 2>&1; then
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/readyz" 2>/dev/null)" = 200 ]
    else
        "$WIRE" cluster status --addr "$HTTP" >/dev/null 2>&1
    fi
}

if ready; then
    echo "run: something already answers on $HTTP (a node from another make run?); stop it first" >&2
    exit 1
fi
LOG_START=$( (cat "$LOG" 2>/dev/null || true) | wc -l)
echo "== starting node node1: HTTP API $HTTP, inter-node $RAFT, data $DATA/node1, log $LOG"
"$WIRE" serve --node-id node1 --http-addr "$HTTP" --raft-addr "$RAFT" \
    --raft-dir "$DATA/node1" --allowed-paths "$DATA/out" >>"$LOG" 2>&1 &
NODE=$!
STOPPING=0
# A background job of a script ignores Ctrl-C's SIGINT, so pass it (or a
# SIGTERM) on: the node stops gracefully and we wait for it below.
forward() {
    [ "$STOPPING" = 1 ] && return
    STOPPING=1
    echo
    echo "== stopping the node (SIG$1)"
    kill -"$1" "$NODE" 2>/dev/null
}
trap 'forward INT' INT
trap 'forward TERM' TERM

give_up() {
    echo "run: $1; the node's log ($LOG):" >&2
    tail -n +"$((LOG_START + 1))" "$LOG" | tail -n 40 >&2
    kill -TERM "$NODE" 2>/dev/null
    wait "$NODE" 2>/dev/null
    exit 1
}

i=0
while :; do
    [ "$STOPPING" = 1 ] && { wait "$NODE"; exit 1; }
    kill -0 "$NODE" 2>/dev/null || give_up "the node exited before it was ready (is $HTTP or $RAFT in use?)"
    ready && break
    i=$((i + 1))
    [ "$i" -ge 300 ] && give_up "the node was not ready after 30 s"
    sleep 0.1
done
echo "== node1 is ready"

if out=$("$WIRE" pipeline create -f "$EXAMPLE" --addr "$HTTP" 2>&1); then
    echo "== $out"
else
    case $out in
    *"already exists"*)
        echo "== pipeline quickstart already exists (from an earlier make run): the node"
        echo "   resumes it from its last checkpoint. To run an edited $EXAMPLE:"
        echo "   $WIRE pipeline apply -f $EXAMPLE --addr $HTTP (resumes from the checkpoint)."
        ;;
    *)
        [ "$STOPPING" = 1 ] && { wait "$NODE"; exit 1; }
        echo "$out" >&2
        give_up "could not submit $EXAMPLE"
        ;;
    esac
fi

cat <<EOF2
== pipeline quickstart: generate (10 events/s) -> filter level = 'error' OR latency_ms > 500
   -> $DATA/out/quickstart.jsonl, checkpointed every second

Look at it from another terminal:
  $WIRE pipeline list --addr $HTTP
  $WIRE pipeline get quickstart --addr $HTTP
  curl -s $HTTP/v1/pipelines
  tail -f $DATA/out/quickstart.jsonl
  $WIRE pipeline pause quickstart --addr $HTTP    # and: resume, delete
  tail -f $LOG    # the node's log

Ctrl-C stops the node; make run again restarts it and the pipeline resumes.
EOF2

# `wait` returns early when a trapped signal arrives; wait again until the node is gone.
wait "$NODE"
rc=$?
while kill -0 "$NODE" 2>/dev/null; do
    wait "$NODE"
    rc=$?
done
echo "== node stopped (exit $rc)"
[ "$STOPPING" = 1 ] && exit 0
exit "$rc"
