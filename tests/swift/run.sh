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

cargo build -q -p warung-ffi -p uniffi-bindgen -p warung-server -p warung-e2e

. tests/sync-server.sh
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
