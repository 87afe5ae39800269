#!/usr/bin/env bash
# Swift suite: bindings generated from the library just built, compiled with swiftc inside a
# Debian trixie chroot (set up once by setup-chroot.sh, cached outside the repo) together with
# bindings/swift/*.swift and tests/swift/main.swift, and run there against the .so. The tests
# sync with a real warung-server started here on the host (the chroot shares its loopback).
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${WARUNG_CACHE:-$HOME/.cache/warung}"
R="$CACHE/trixie"
tests/swift/setup-chroot.sh

cargo build -q -p warung-ffi -p uniffi-bindgen -p warung-server

# A real sync server for the sync tests: the demo catalog on an ephemeral port, a temporary
# data dir, and an API key for the merchant whose price a test changes. Stopped on exit.
start_sync_server() {
  SERVER_DIR=$(mktemp -d)
  mkdir -p "$SERVER_DIR/data"
  target/debug/warung-server --listen 127.0.0.1:0 --data-dir "$SERVER_DIR/data" --demo \
    >"$SERVER_DIR/stdout" 2>"$SERVER_DIR/server.log" &
  SERVER_PID=$!
  local url="" i
  for i in $(seq 150); do
    url=$(sed -n 's/^listening on //p' "$SERVER_DIR/stdout")
    [ -n "$url" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "warung-server did not start:"; cat "$SERVER_DIR/server.log"; exit 1
  fi
  export WARUNG_TEST_SERVER_URL="$url"
  export WARUNG_TEST_MERCHANT_ID=m-kopi-nusantara
  WARUNG_TEST_MERCHANT_KEY=$(target/debug/warung-server merchant rotate-key \
    --id "$WARUNG_TEST_MERCHANT_ID" --data-dir "$SERVER_DIR/data" | sed -n 's/^api key: *//p')
  [ -n "$WARUNG_TEST_MERCHANT_KEY" ] || { echo "no merchant key"; exit 1; }
  export WARUNG_TEST_MERCHANT_KEY
  # A port nothing listens on (bound, then released), for the unreachable-server test.
  export WARUNG_TEST_DEAD_URL="http://127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "sync server $url (pid $SERVER_PID)"
}
stop_sync_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  [ -n "${SERVER_DIR:-}" ] && rm -rf "$SERVER_DIR"
  return 0
}
W="$R/warung-swift-test"
rm -rf "$W"
mkdir -p "$W"
target/debug/uniffi-bindgen generate --no-format --library target/debug/libwarung_ffi.so \
  --language swift --out-dir "$W"
cp target/debug/libwarung_ffi.so bindings/swift/*.swift tests/swift/main.swift "$W/"

mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
trap 'stop_sync_server; umount "$R/proc" 2>/dev/null || true; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
start_sync_server
chroot "$R" /bin/sh -c '
  set -e
  cd /warung-swift-test
  swiftc -swift-version 5 -module-name WarungCore \
    -Xcc -fmodule-map-file=/warung-swift-test/WarungCoreFFI.modulemap \
    -I /warung-swift-test -L /warung-swift-test -lwarung_ffi \
    main.swift WarungCore.swift WarungExtensions.swift -o warung-tests 2>&1 | grep -v "^warning:" || true
  test -x warung-tests
  LD_LIBRARY_PATH=/warung-swift-test ./warung-tests
'
