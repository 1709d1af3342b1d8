#!/bin/sh
# make run: run the example pipeline with `wire run` and show its output.
set -e
WIRE=${1:-build/release/wire}
echo "== wire run examples/quickstart.yaml  (200 generated events at 50/s; Ctrl-C stops early)"
echo "== pipeline: generate -> filter level = 'error' OR latency_ms > 800 -> map -> stdout"
exec "$WIRE" run --data-dir ./wire-data examples/quickstart.yaml
