#!/usr/bin/env bash
# The Java suite of medaudit: builds libmedaudit, then runs the JUnit 5 tests of the JNI binding
# (ffi/java: conformance vectors through checkClaimsJson and through the Arrow batch call, bad
# inputs, close/use-after-close, 16 threads on one engine) with `mvn -B verify`, and prints
# Surefire's summary. Needs cargo, a JDK 11+ and Maven (dependencies come from Maven Central).
#
# Usage: bash tests/java/run.sh
#   MEDAUDIT_JAVA_PROFILE=release   test against target/release (default: debug)
#   MEDAUDIT_THREAD_ITERATIONS=N    calls per thread of the 16-thread test (default: 10000 with
#                                   release; 2500 with debug, whose engine is ~10x slower)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
profile="${MEDAUDIT_JAVA_PROFILE:-debug}"
case "$profile" in
  debug) cargo_flags=(); default_iters=2500 ;;
  release) cargo_flags=(--release); default_iters=10000 ;;
  *) echo "MEDAUDIT_JAVA_PROFILE must be debug or release, not $profile" >&2; exit 2 ;;
esac
iters="${MEDAUDIT_THREAD_ITERATIONS:-$default_iters}"
libdir="$target/$profile"

echo "-- build libmedaudit ($profile)"
cargo build -p medaudit-ffi "${cargo_flags[@]}"
test -f "$libdir/libmedaudit.so"

echo "-- mvn -B verify (ffi/java; java.library.path=$libdir; 16 threads x $iters calls)"
cd ffi/java
status=0
mvn -q -B verify -Dmedaudit.native.dir="$libdir" -Dmedaudit.threads.iterations="$iters" || status=$?

echo "-- surefire summary"
python3 - target/surefire-reports <<'PY' || true
import glob, os, sys, xml.etree.ElementTree as ET
tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
time = 0.0
for f in sorted(glob.glob(os.path.join(sys.argv[1], "TEST-*.xml"))):
    s = ET.parse(f).getroot()
    n = {k: int(s.get(k, 0)) for k in tot}
    for k in tot:
        tot[k] += n[k]
    time += float(s.get("time", 0))
    print(f"   {s.get('name')}: {n['tests']} tests, {n['failures']} failures, {n['errors']} errors, "
          f"{n['skipped']} skipped ({float(s.get('time', 0)):.1f} s)")
print(f"Tests run: {tot['tests']}, Failures: {tot['failures']}, Errors: {tot['errors']}, "
      f"Skipped: {tot['skipped']} ({time:.1f} s in tests)")
PY
if [ "$status" -ne 0 ]; then
  echo "java suite: FAILED" >&2
  exit "$status"
fi
echo "java suite: all passed"
