#!/usr/bin/env bash
# Runs every test suite of medaudit: Rust (unit, conformance, properties, ground truth), lint,
# and the C suite when the C ABI is present. Installs what it needs itself.
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
# set -e stops at the first failing suite, so reaching here means every suite passed.
echo "suites: $suites passed, 0 failed"
