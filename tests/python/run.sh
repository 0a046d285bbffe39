#!/usr/bin/env bash
# The Python suite of medaudit: makes a venv (<repo>/.venv, gitignored) with what the tests need,
# builds the abi3 wheel with maturin, installs it, and runs pytest over tests/python (the API, every
# conformance vector, every input flavour, errors, what-if, synth, local Spark, the example notebook
# and the quickstart).
#
# Usage: bash tests/python/run.sh [pytest args]
#   MEDAUDIT_PYTHON_PROFILE=release   build the wheel with --release (default: debug, faster to build)
#   PYTHON=python3.X                  the interpreter to make the venv with (default: python3, 3.9+)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
venv="$root/.venv"
profile="${MEDAUDIT_PYTHON_PROFILE:-debug}"
case "$profile" in
  debug) build_flags=() ;;
  release) build_flags=(--release) ;;
  *) echo "MEDAUDIT_PYTHON_PROFILE must be debug or release, not $profile" >&2; exit 2 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  echo "-- create venv $venv"
  "${PYTHON:-python3}" -m venv "$venv"
fi
export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
echo "-- pip install (test dependencies)"
python -m pip install -q --disable-pip-version-check \
  "maturin>=1.5,<2" pytest pyarrow polars pandas duckdb nanoarrow pyspark tqdm nbclient nbformat ipykernel matplotlib

echo "-- maturin build ($profile)"
wheels="${CARGO_TARGET_DIR:-$root/target}/wheels-python"
rm -rf "$wheels"
(cd python && maturin build -q "${build_flags[@]}" --interpreter "$venv/bin/python" --out "$wheels")
python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheels"/medaudit-*.whl

echo "-- pytest tests/python"
# Run from tests/python so that `import medaudit` is the installed wheel, not python/medaudit.
cd tests/python
python -m pytest -q -p no:cacheprovider "$@"
