#!/usr/bin/env bash
# Kotlin suite: bindings generated from the library just built, compiled with kotlinc, and
# tests/kotlin/WarungTest.kts run on the JVM through JNA. Installs JNA (Debian) and kotlinc
# (npm, cached in $WARUNG_CACHE, default ~/.cache/warung) when missing. The tests sync with a
# real warung-server started here (see tests/sync-server.sh).
#   tests/kotlin/run.sh           the tests (debug library)
#   tests/kotlin/run.sh --bench   the FFI benchmark (release library), tests/kotlin/Bench.kts
set -euo pipefail
MODE=test
[ "${1:-}" = "--bench" ] && MODE=bench
cd "$(dirname "$0")/../.."
CACHE="${WARUNG_CACHE:-$HOME/.cache/warung}"
KOTLIN_VERSION=2.4.20
KH="$CACHE/kotlin/node_modules/kotlin-compiler"

if [ ! -f /usr/share/java/jna.jar ]; then
  echo "installing JNA (libjna-java)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjna-java) >/dev/null
fi
if [ ! -x "$KH/bin/kotlinc" ] || ! grep -q "\"version\": \"$KOTLIN_VERSION\"" "$KH/package.json" 2>/dev/null; then
  echo "installing kotlinc $KOTLIN_VERSION into $CACHE/kotlin…"
  mkdir -p "$CACHE/kotlin"
  npm install --silent --ignore-scripts --prefix "$CACHE/kotlin" "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
fi
. tests/sync-server.sh

CP="/usr/share/java/jna.jar:$KH/lib/kotlinx-coroutines-core-jvm.jar:$KH/lib/kotlin-test.jar"

# Bindings come from the debug library: release libraries are stripped, and uniffi reads its
# metadata from symbols. Both are built from the same sources, so the API checksums match.
cargo build -q -p uniffi-bindgen -p warung-ffi -p warung-server -p warung-e2e
if [ "$MODE" = bench ]; then
  cargo build -q --release -p warung-ffi
  LIBDIR=target/release
else
  cargo build -q -p warung-ffi
  LIBDIR=target/debug
fi

OUT=$(mktemp -d)
trap 'stop_sync_server; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM
target/debug/uniffi-bindgen generate --no-format --library target/debug/libwarung_ffi.so \
  --language kotlin --out-dir "$OUT/src"
"$KH/bin/kotlinc" -Werror -nowarn -cp "$CP" -d "$OUT/bindings.jar" \
  "$OUT"/src/id/warung/core/*.kt bindings/kotlin/*.kt 2>&1 | grep -v "^warning: unable to find kotlin-stdlib.jar" || true
[ -f "$OUT/bindings.jar" ] || { echo "kotlinc failed"; exit 1; }
SCRIPT=tests/kotlin/WarungTest.kts
[ "$MODE" = bench ] && SCRIPT=tests/kotlin/Bench.kts
[ "$MODE" = test ] && start_sync_server
JAVA_OPTS="-Djna.library.path=$PWD/$LIBDIR" \
  "$KH/bin/kotlinc" -cp "$OUT/bindings.jar:$CP" -J-ea -script "$SCRIPT"
