#!/usr/bin/env bash
# Installs the pinned cbindgen into target/tools (once) and prints its path.
# Usage: bash ffi/scripts/cbindgen.sh            -> prints the binary path
# The version is pinned here and nowhere else; bump it together with include/medaudit.h.
set -euo pipefail
CBINDGEN_VERSION=0.29.4
root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="${CARGO_TARGET_DIR:-$root/target}/tools"
bin="$tools/bin/cbindgen"
if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
  echo "installing cbindgen $CBINDGEN_VERSION into $tools" >&2
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --root "$tools" >&2
fi
echo "$bin"
