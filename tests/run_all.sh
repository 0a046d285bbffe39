#!/usr/bin/env bash
# Runs every test suite of medaudit: Rust (unit, conformance, properties, ground truth, fuzz
# regressions), lint, the C suite, the Java suite, and bounded fuzzing. Installs what it needs itself
# (cbindgen and cargo-fuzz into target/tools, Maven dependencies into ~/.m2).
# Usage: bash tests/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

suites=0
echo "== rust: fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
suites=$((suites + 1))

echo "== rust: tests (unit, conformance vectors, reference properties, ground truth, api, ffi)"
cargo test --workspace
suites=$((suites + 1))

if [ -x tests/c/run.sh ]; then
  echo "== c: header, ABI tests, examples"
  bash tests/c/run.sh
  suites=$((suites + 1))
fi
if [ -x tests/java/run.sh ]; then
  echo "== java: JNI binding, mvn verify (conformance vectors, errors, lifecycle, 16 threads x 10,000 checks)"
  MEDAUDIT_THREAD_ITERATIONS="${MEDAUDIT_THREAD_ITERATIONS:-10000}" bash tests/java/run.sh
  suites=$((suites + 1))
fi

if [ -x tests/python/run.sh ]; then
  echo "== python: wheel (maturin), pytest (API, conformance vectors, pyarrow/polars/pandas/DuckDB, Spark, notebook)"
  bash tests/python/run.sh
  suites=$((suites + 1))
fi

if [ -f ffi/fuzz/run.sh ]; then
  echo "== fuzz: JSON request, rule pack, claims/Arrow validation (bounded time, nightly + cargo-fuzz)"
  FUZZ_SECONDS="${FUZZ_SECONDS:-15}" bash ffi/fuzz/run.sh
  suites=$((suites + 1))
fi

# set -e stops at the first failing suite, so reaching here means every suite passed.
echo "suites: $suites passed, 0 failed"
