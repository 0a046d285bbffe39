#!/usr/bin/env bash
# Bounded fuzzing of libmedaudit with cargo-fuzz (libFuzzer + AddressSanitizer, nightly toolchain).
# Runs every target for FUZZ_SECONDS (default 20) seconds from the seed corpus in
# ffi/fuzz/corpus/<target>/; a crash (or timeout/OOM) is copied into ffi/fuzz/regressions/<target>/,
# where the stable test ffi/tests/fuzz_regressions.rs replays it, and the script exits non-zero.
# Usage: bash ffi/fuzz/run.sh [target...]      (default: all targets)
# Env:   FUZZ_SECONDS (per target, default 20), FUZZ_TIMEOUT (per input, seconds, default 10)
set -euo pipefail
export CARGO_TERM_COLOR=never
FUZZ_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$FUZZ_DIR/../.." && pwd)"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
INPUT_TIMEOUT="${FUZZ_TIMEOUT:-10}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(prealert_json rule_pack claims_json)
start=$(date +%s)

echo "== fuzz: checking the nightly toolchain"
if ! cargo +nightly --version; then
  echo "fuzz: 'cargo +nightly' does not work; install it with: rustup toolchain install nightly" >&2
  exit 2
fi

CARGO_FUZZ="$(command -v cargo-fuzz || true)"
if [ -z "$CARGO_FUZZ" ]; then
  CARGO_FUZZ="$ROOT/target/tools/bin/cargo-fuzz"
  if [ ! -x "$CARGO_FUZZ" ]; then
    echo "== fuzz: installing cargo-fuzz into $ROOT/target/tools"
    cargo install cargo-fuzz --locked --root "$ROOT/target/tools"
  fi
fi
# `cargo +nightly fuzz` runs the `cargo-fuzz` found on PATH.
export PATH="$(dirname "$CARGO_FUZZ"):$PATH"
echo "== fuzz: using $CARGO_FUZZ ($(cargo +nightly fuzz --version))"

# Generated inputs go to a scratch corpus under target/ (first corpus dir, the one libFuzzer
# writes to); the checked-in seeds (second dir) are only read.
WORK="$ROOT/target/fuzz"
failed=()
cd "$ROOT/ffi"
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/corpus/$t" "$FUZZ_DIR/artifacts/$t" "$FUZZ_DIR/regressions/$t"
  marker="$WORK/.start-$t"
  touch "$marker"
  echo "== fuzz: $t for ${SECONDS_PER_TARGET}s (seeds: ffi/fuzz/corpus/$t, scratch corpus: target/fuzz/corpus/$t)"
  # libFuzzer's progress goes to a log (thousands of lines); its final stats are printed, and the
  # log's tail too when the run fails.
  log="$WORK/$t.log"
  echo "+ cargo +nightly fuzz run --fuzz-dir $FUZZ_DIR $t ... -max_total_time=$SECONDS_PER_TARGET (log: $log)"
  status=0
  cargo +nightly fuzz run --fuzz-dir "$FUZZ_DIR" --target-dir "$WORK/target" "$t" \
    "$WORK/corpus/$t" "$FUZZ_DIR/corpus/$t" \
    -- -max_total_time="$SECONDS_PER_TARGET" -timeout="$INPUT_TIMEOUT" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done [0-9]+ runs' "$log" | sed 's/^/    /' || true
  if [ "$status" -ne 0 ]; then tail -n 60 "$log"; fi
  found=0
  while IFS= read -r -d '' f; do
    cp "$f" "$FUZZ_DIR/regressions/$t/"
    echo "fuzz: $t: FOUND $(basename "$f") -> ffi/fuzz/regressions/$t/$(basename "$f")"
    found=1
  done < <(find "$FUZZ_DIR/artifacts/$t" -type f -newer "$marker" -print0)
  if [ "$found" -ne 0 ]; then
    echo "fuzz: $t: FAILED (exit $status): crash input saved"
    failed+=("$t")
  elif [ "$status" -ne 0 ]; then
    echo "fuzz: $t: FAILED (exit $status, no crash file: a build or setup error, see above)"
    failed+=("$t")
  else
    echo "fuzz: $t: no crash in ${SECONDS_PER_TARGET}s"
  fi
done

echo "== fuzz: done in $(( $(date +%s) - start ))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]}; replay with: cargo test -p medaudit-ffi --test fuzz_regressions" >&2
  exit 1
fi
echo "== fuzz: no crashes"
