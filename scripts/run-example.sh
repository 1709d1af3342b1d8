#!/bin/sh
# make run: run the example pipeline with `wire run` and show its output.
# The demo starts from scratch each time: its checkpoint directory is reset
# (a second run would otherwise resume after the 200 events it already did).
set -e
WIRE=${1:-build/release/wire}
rm -rf ./wire-data/quickstart
echo "== wire run examples/quickstart.yaml  (200 generated events at 50/s; Ctrl-C stops early)"
echo "== pipeline: generate -> filter level = 'error' OR latency_ms > 800 -> map -> stdout"
exec "$WIRE" run --data-dir ./wire-data/quickstart examples/quickstart.yaml
