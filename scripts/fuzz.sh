#!/usr/bin/env bash
# Build every libFuzzer target fuzz/fuzz_*.c with clang (fuzzer + ASan +
# UBSan) against the library sources, then run each for SECONDS seconds.
#   scripts/fuzz.sh [SECONDS]        (make fuzz passes FUZZ_SECONDS; default 20)
#   FUZZ_TARGETS="json expr" scripts/fuzz.sh 60    only some targets
#   FUZZ_JOBS=2 scripts/fuzz.sh                    parallel workers per target
# Outputs live under build/fuzz/: bin/ (targets), obj/ (library objects),
# corpus/NAME/ (the growing corpus, seeded from fuzz/corpus/NAME/ if present),
# crash/NAME/ (reproducers) and log/NAME.log. Exit status 1 if any target
# failed to build or found a crash.
#
# Reproduce a crash: build/fuzz/bin/fuzz_NAME build/fuzz/crash/NAME/crash-...
set -uo pipefail
SECONDS_PER_TARGET=${1:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=build/fuzz
CC=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-1}
# The Makefile's package list, so that a library added there links here too.
PKGS=$(sed -n 's/^PKGS *:= *//p' Makefile)
PKGS=${PKGS:-libuv yaml-0.1 libpcre2-8 libcurl}

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (make deps installs clang)" >&2; exit 1; }
# -Werror is left to the gcc build (make/make test); clang may warn differently on code
# that gcc accepts, and a fuzz run should not die on that.
CFLAGS="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter
        -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
        -Isrc $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lhttp_parser -lcjson -lpthread -lm"

mkdir -p "$OUT/bin" "$OUT/obj" "$OUT/log"

# 1. Library objects, rebuilt when the source or any header is newer (parallel).
# Every library directory (src/core, engine, net, connectors, transforms, api, and any
# added later), i.e. all of src/ but the CLI, which holds main().
srcs=$(ls src/*/*.c 2>/dev/null | grep -v '^src/cli/')
build_obj() { # $1 = source
    local o="$OUT/obj/${1%.c}.o"
    if [ ! -f "$o" ] || [ "$1" -nt "$o" ] || [ -n "$(find src -name '*.h' -newer "$o" -print -quit)" ]; then
        mkdir -p "$(dirname "$o")"
        if ! $CC $CFLAGS -c "$1" -o "$o" 2>"$o.log"; then
            echo "fuzz: failed to compile $1" >&2
            cat "$o.log" >&2
            return 1
        fi
    fi
}
export -f build_obj
export CC CFLAGS OUT
if ! printf '%s\n' $srcs | xargs -P "$(nproc)" -I{} bash -c 'build_obj {}'; then
    echo "fuzz: library build failed" >&2
    exit 1
fi
# An archive, as in the Makefile: a target links only the objects it needs, so a
# module whose dependencies are not merged yet does not break every target.
lib="$OUT/libwire-fuzz.a"
rm -f "$lib"
ar rcs "$lib" $(for s in $srcs; do echo "$OUT/obj/${s%.c}.o"; done)

# 2. Targets, then 3. runs.
targets=()
for f in fuzz/fuzz_*.c; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .c)
    name=${name#fuzz_}
    if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
    targets+=("$name")
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in fuzz/"; exit 0; }

failed=()
for name in "${targets[@]}"; do
    bin="$OUT/bin/fuzz_$name"
    if ! $CC $CFLAGS -fsanitize=fuzzer -Itests/unit -o "$bin" "fuzz/fuzz_$name.c" "$lib" $LIBS \
        2>"$OUT/log/$name.build.log"; then
        echo "fuzz_$name: BUILD FAILED (see $OUT/log/$name.build.log)"
        tail -20 "$OUT/log/$name.build.log"
        failed+=("$name")
        continue
    fi
    corpus="$OUT/corpus/$name"
    crash="$OUT/crash/$name"
    mkdir -p "$corpus" "$crash"
    seeds=()
    [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
    dict=()
    [ -f "fuzz/$name.dict" ] && dict=("-dict=fuzz/$name.dict")
    log="$OUT/log/$name.log"
    par=()
    [ "$JOBS" -gt 1 ] && par=("-jobs=$JOBS" "-workers=$JOBS")
    marker="$OUT/log/$name.start"
    touch "$marker"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$bin" "$corpus" "${seeds[@]}" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$crash/" \
        "${par[@]}" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    # with -jobs, libFuzzer writes per-worker logs fuzz-N.log in the current directory
    if [ "$JOBS" -gt 1 ]; then cat fuzz-*.log >>"$log" 2>/dev/null; rm -f fuzz-*.log; fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
    ncorpus=$(find "$corpus" -type f | wc -l)
    if [ $rc -ne 0 ] || [ -n "$(find "$crash" -type f -newer "$marker" -print -quit)" ]; then
        echo "fuzz_$name: FAILED after $execs runs (rc=$rc); reproducers in $crash/, log $log"
        grep -m5 -E 'ERROR|SUMMARY|runtime error|abort' "$log"
        failed+=("$name")
    else
        echo "fuzz_$name: ok, $execs runs in ${SECONDS_PER_TARGET}s, corpus $ncorpus files"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
echo "fuzz: ${#targets[@]} target(s) ok"
