#!/usr/bin/env bash
# The medaudit demo, in one command: builds what it needs, then
#   1. the Rust demo: a generated city-month (1M encounters, ~7.6M fee lines) checked with the sample
#      pack, findings by rule and facility, time taken, recall/precision against the ground truth;
#   2. the Python quickstart: the same engine from Python (the release wheel, built with maturin into a
#      venv at <repo>/.venv), findings as a pyarrow table, facilities to inspect first.
#
# Usage: bash examples/demo.sh [--encounters N] [--seed S]   (both parts; defaults: Rust 1,000,000, Python 100,000)
#   PYTHON=python3.X   the interpreter for the venv (3.9+; default python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

echo "== Rust: cargo run --release -p medaudit-core --example demo -- $*"
cargo run --release -q -p medaudit-core --example demo -- "$@"

echo
echo "== Python: the medaudit wheel (release) and examples/python/quickstart.py $*"
venv="$root/.venv"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
python -m pip install -q --disable-pip-version-check "maturin>=1.5,<2" pyarrow tqdm
wheels="${CARGO_TARGET_DIR:-$root/target}/wheels-demo"
rm -rf "$wheels"
(cd python && maturin build -q --release --interpreter "$venv/bin/python" --out "$wheels")
python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheels"/medaudit-*.whl
cd examples/python
python quickstart.py "$@"
