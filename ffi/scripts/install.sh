#!/usr/bin/env bash
# Builds libmedaudit (release) and installs it under PREFIX: lib/libmedaudit.{so,a},
# include/medaudit.h and the JSON schemas, lib/pkgconfig/medaudit.pc.
# Usage: bash ffi/scripts/install.sh PREFIX
set -euo pipefail
prefix="${1:?usage: install.sh PREFIX}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cargo build --release -p medaudit-ffi
target="${CARGO_TARGET_DIR:-$root/target}/release"
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include/medaudit"
install -m 0644 "$target/libmedaudit.a" "$prefix/lib/"
install -m 0755 "$target/libmedaudit.so" "$prefix/lib/"
install -m 0644 include/medaudit.h "$prefix/include/"
install -m 0644 include/medaudit_3101_request.schema.json include/medaudit_3101_response.schema.json "$prefix/include/medaudit/"
version="$(sed -n 's/^Version: //p' "$target/medaudit.pc")"
cat > "$prefix/lib/pkgconfig/medaudit.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: medaudit
Description: medaudit: China's national medical-insurance supervision rules over Apache Arrow (C ABI)
Version: $version
Libs: -L\${libdir} -lmedaudit
Libs.private: -lpthread -ldl -lm -lrt -lutil -lgcc_s
Cflags: -I\${includedir}
PC
echo "installed into $prefix"
