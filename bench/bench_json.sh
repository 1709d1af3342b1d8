#!/bin/sh
# Build bench/bench_json.c with -O2 against the release library and run it.
#   bench/bench_json.sh [LINES] [ROUNDS]
set -e
cd "$(dirname "$0")/.."
make --no-print-directory -s MODE=release build/release/libwire.a
mkdir -p build/release/bench
${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -g -DNDEBUG -Isrc -o build/release/bench/bench_json \
    bench/bench_json.c build/release/libwire.a -lcjson -lpthread -lm
exec build/release/bench/bench_json "$@"
