#!/bin/sh
# Build bench/bench_expr.c with -O2 against the release library and run it.
#   bench/bench_expr.sh [NAME-FILTER]     e.g. bench/bench_expr.sh map
set -e
cd "$(dirname "$0")/.."
make --no-print-directory -s MODE=release build/release/libwire.a
mkdir -p build/release/bench
${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -g -DNDEBUG -Isrc -o build/release/bench/bench_expr \
    bench/bench_expr.c build/release/libwire.a $(pkg-config --libs libpcre2-8) -lpthread -lm
exec build/release/bench/bench_expr "$@"
