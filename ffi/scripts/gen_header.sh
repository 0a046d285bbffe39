#!/usr/bin/env bash
# Generates the C header from ffi/src with the pinned cbindgen.
# Usage: bash ffi/scripts/gen_header.sh [OUTPUT]   (default include/medaudit.h)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/include/medaudit.h}"
cbindgen="$(bash "$root/ffi/scripts/cbindgen.sh")"
cd "$root"
"$cbindgen" --quiet --config ffi/cbindgen.toml --crate medaudit-ffi --output "$out" ffi
