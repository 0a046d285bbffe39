#!/usr/bin/env bash
# Runs every test suite of medaudit: Rust (unit, conformance, properties, ground truth), lint,
# and the C suite when the C ABI is present. Installs what it needs itself.
# Usage: bash tests/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

echo "== rust: fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== rust: tests"
cargo test --workspace

if [ -x tests/c/run.sh ]; then
  echo "== c: header, ABI tests, examples"
  bash tests/c/run.sh
fi
echo "== all suites passed"
