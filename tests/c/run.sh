#!/usr/bin/env bash
# The C suite of medaudit: builds libmedaudit (debug), checks that include/medaudit.h is what
# cbindgen generates from ffi/ now, compiles the C tests and examples with
# -std=c11 -Wall -Wextra -Werror -fsanitize=address,undefined against the shared and the static
# library, and runs them: the ABI tests, the thread tests, every conformance vector in
# tests/conformance/ (both the JSON and the Arrow call), the pre-alert example, and the latency
# benchmark with a tiny iteration count.
# Usage: bash tests/c/run.sh            (from anywhere; needs cargo, gcc, python3, pkg-config)
#        MEDAUDIT_VALGRIND=1 bash tests/c/run.sh   also runs the ABI and thread tests under valgrind
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
lib="$target/debug"
out="$target/c-tests"
mkdir -p "$out"

echo "-- build libmedaudit (debug)"
cargo build -p medaudit-ffi

echo "-- header: include/medaudit.h must match cbindgen's output"
tmp_header="$(mktemp "${TMPDIR:-/tmp}/medaudit.h.XXXXXX")"
trap 'rm -f "$tmp_header"' EXIT
bash ffi/scripts/gen_header.sh "$tmp_header"
if ! diff -u include/medaudit.h "$tmp_header"; then
  echo "include/medaudit.h is stale: run bash ffi/scripts/gen_header.sh and commit the result" >&2
  exit 1
fi

echo "-- pkg-config"
test -f "$lib/medaudit.pc"
pc_flags="$(PKG_CONFIG_PATH="$lib" pkg-config --cflags --libs medaudit)"
echo "   pkg-config --cflags --libs medaudit: $pc_flags"

CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -Iinclude -Iexamples/c -Itests/c)
SHARED=(-L"$lib" -Wl,-rpath,"$lib" -lmedaudit -pthread)
STATIC=("$lib/libmedaudit.a" -pthread -ldl -lm -lrt -lutil)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "-- compile (gcc ${CFLAGS[*]})"
# shellcheck disable=SC2086
gcc "${CFLAGS[@]}" examples/c/prealert.c $pc_flags -o "$out/prealert"
gcc "${CFLAGS[@]}" tests/c/test_abi.c "${SHARED[@]}" -o "$out/test_abi"
gcc "${CFLAGS[@]}" tests/c/test_abi.c "${STATIC[@]}" -o "$out/test_abi_static"
gcc "${CFLAGS[@]}" tests/c/test_threads.c "${SHARED[@]}" -o "$out/test_threads"
gcc "${CFLAGS[@]}" tests/c/test_national.c "${SHARED[@]}" -o "$out/test_national"
gcc "${CFLAGS[@]}" tests/c/conformance_runner.c "${SHARED[@]}" -o "$out/conformance_runner"
gcc "${CFLAGS[@]}" examples/c/bench_latency.c "${SHARED[@]}" -lm -o "$out/bench_latency"
# The header combines with another Arrow-aware header (structs declared first, under the standard
# guards), is idempotent, is pedantic C11, and compiles as C++.
gcc "${CFLAGS[@]}" -Wpedantic tests/c/header_compat.c "${SHARED[@]}" -o "$out/header_compat"
"$out/header_compat"
if command -v g++ >/dev/null; then
  g++ -std=c++17 -Wall -Wextra -Werror -Wpedantic -Iinclude -x c++ tests/c/header_compat.c "${SHARED[@]}" -o "$out/header_compat_cxx"
  "$out/header_compat_cxx"
fi

echo "-- ABI tests (shared library)"
"$out/test_abi"
echo "-- ABI tests (static library)"
"$out/test_abi_static"
echo "-- national knowledge import (with the published records when ../shared/data has them)"
records="$root/../shared/data/nhsa-liangku-2025/all_records.json"
if [ -f "$records" ]; then "$out/test_national" "$records"; else "$out/test_national"; fi
echo "-- threads"
"$out/test_threads"
echo "-- conformance vectors"
python3 tests/c/conformance.py "$out/conformance_runner" tests/conformance
echo "-- example: examples/c/prealert.c"
"$out/prealert" | tee "$out/prealert.txt"
grep -q "违规项" "$out/prealert.txt"
echo "-- JSON Schemas of the 3101 request and response"
python3 tests/c/check_schemas.py "$out/prealert"
echo "-- benchmark smoke run: examples/c/bench_latency.c"
"$out/bench_latency" --iterations 200 --knowledge-points 2000
if [ "${MEDAUDIT_VALGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
  echo "-- valgrind (MEDAUDIT_VALGRIND=1): the same tests without sanitizers"
  for t in test_abi test_threads; do
    gcc -std=c11 -Wall -Wextra -Werror -g -O1 -Iinclude -Iexamples/c -Itests/c "tests/c/$t.c" "${SHARED[@]}" -o "$out/${t}_vg"
    valgrind --quiet --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite "$out/${t}_vg"
  done
fi
echo "c suite: all passed"
