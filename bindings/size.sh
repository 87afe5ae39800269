#!/usr/bin/env bash
# Builds the release FFI library (LTO, one codegen unit, stripped: see [profile.release]) and
# prints its size; the last line is `ffi-size: bytes=…`. Target: ≤ 5 MB (5,242,880 bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p warung-ffi
LIB=target/release/libwarung_ffi.so
# The profile strips symbols already; strip again in case a caller overrode the profile.
cp "$LIB" "$LIB.stripped" && strip --strip-unneeded "$LIB.stripped"
bytes=$(stat -c %s "$LIB.stripped")
rm -f "$LIB.stripped"
echo "library: $LIB (x86_64 Linux; Android arm64 is of the same order)"
echo "ffi-size: bytes=$bytes"
