#!/usr/bin/env bash
# Builds what the Swift package in ios/ needs (macOS with Xcode):
#
#   ios/WarungCoreFFI.xcframework   the Rust static library (release profile) for iOS devices,
#                                   the iOS simulator (arm64 + x86_64) and macOS (arm64 +
#                                   x86_64), each slice with WarungCoreFFI.h and module.modulemap
#   ios/Sources/WarungCore/*.swift  the uniffi-generated WarungCore.swift and the hand-written
#                                   bindings/swift/*.swift (the files the Swift suite compiles)
#
#   ios/build-xcframework.sh          build both
#   ios/build-xcframework.sh --zip    also ios/WarungCoreFFI.xcframework.zip and its SwiftPM
#                                     checksum, for a release (see ios/README.md)
#
# Installs the Rust Apple targets when missing. Runs from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIP=0
for arg in "$@"; do
  case "$arg" in
    --zip) ZIP=1 ;;
    *) echo "usage: ios/build-xcframework.sh [--zip]" >&2; exit 2 ;;
  esac
done

# The minimum OS versions of ios/Package.swift's `platforms` (tests/packaging/check.sh checks).
# Passed to the target builds as IPHONEOS_/MACOSX_DEPLOYMENT_TARGET, which rustc and the cc
# crate (bundled SQLite) read, so every object file agrees with the package and Xcode does not
# warn about objects built for a newer OS than the app.
IOS_MIN=15.0
MACOS_MIN=12.0

DEVICE=aarch64-apple-ios
SIMULATOR=(aarch64-apple-ios-sim x86_64-apple-ios)
MACOS=(aarch64-apple-darwin x86_64-apple-darwin)
XCFRAMEWORK=ios/WarungCoreFFI.xcframework
SOURCES=ios/Sources/WarungCore
FFI_MODULE=WarungCoreFFI # = ffi_module_name / ffi_module_filename in bindings/uniffi.toml

die() { echo "error: $*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------------------------
[ "$(uname -s)" = Darwin ] || die "building the XCFramework needs macOS with Xcode"
xcrun --sdk iphoneos --show-sdk-path >/dev/null 2>&1 ||
  die "no iOS SDK: install Xcode and run 'sudo xcode-select -s /Applications/Xcode.app'"
command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
rustup target add "$DEVICE" "${SIMULATOR[@]}" "${MACOS[@]}"

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$TARGET_DIR" ] || die "cannot find cargo's target directory"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# --- static libraries ----------------------------------------------------------------------
# `cargo rustc --crate-type staticlib` builds only the .a: the cdylib that `cargo build` would
# also link (with fat LTO) is of no use on Apple platforms here.
for target in "$DEVICE" "${SIMULATOR[@]}" "${MACOS[@]}"; do
  echo "building $target…"
  IPHONEOS_DEPLOYMENT_TARGET=$IOS_MIN MACOSX_DEPLOYMENT_TARGET=$MACOS_MIN \
    cargo rustc --release -p warung-ffi --lib --crate-type staticlib --target "$target"
done
lib() { echo "$TARGET_DIR/$1/release/libwarung_ffi.a"; }

# One library per platform in an XCFramework: the architectures of a platform share a fat .a.
mkdir -p "$WORK/ios-simulator" "$WORK/macos"
lipo -create "$(lib "${SIMULATOR[0]}")" "$(lib "${SIMULATOR[1]}")" -output "$WORK/ios-simulator/libwarung_ffi.a"
lipo -create "$(lib "${MACOS[0]}")" "$(lib "${MACOS[1]}")" -output "$WORK/macos/libwarung_ffi.a"

# --- Swift bindings and headers --------------------------------------------------------------
# uniffi library mode reads the metadata from the device .a (the Swift is the same for every
# slice) and picks up bindings/uniffi.toml by itself.
cargo run -q -p uniffi-bindgen -- generate --no-format --library "$(lib "$DEVICE")" \
  --language swift --out-dir "$WORK/swift"
for f in WarungCore.swift "$FFI_MODULE.h" "$FFI_MODULE.modulemap"; do
  [ -f "$WORK/swift/$f" ] || die "uniffi-bindgen did not produce $f"
done

mkdir -p "$SOURCES"
rm -f "$SOURCES"/*.swift
cp "$WORK/swift/WarungCore.swift" bindings/swift/*.swift "$SOURCES/"

# Clang finds the module of a library's headers only in a file named module.modulemap next to
# them. The generated map's `use "_Builtin_stdbool"` / `use "_Builtin_stdint"` lines are
# dropped: they only matter to strict dependency checking, which Xcode and SwiftPM do not
# enable, and Xcode 26 toolchains fail to resolve them (uniffi-rs#2917), which silently turns
# `#if canImport(WarungCoreFFI)` off in WarungCore.swift.
mkdir -p "$WORK/headers"
cp "$WORK/swift/$FFI_MODULE.h" "$WORK/headers/"
sed '/^[[:space:]]*use "_Builtin_/d' "$WORK/swift/$FFI_MODULE.modulemap" > "$WORK/headers/module.modulemap"
grep -q "^module $FFI_MODULE " "$WORK/headers/module.modulemap" ||
  die "the generated module map does not define module $FFI_MODULE"

# --- XCFramework ---------------------------------------------------------------------------
rm -rf "$XCFRAMEWORK"
xcodebuild -create-xcframework \
  -library "$(lib "$DEVICE")" -headers "$WORK/headers" \
  -library "$WORK/ios-simulator/libwarung_ffi.a" -headers "$WORK/headers" \
  -library "$WORK/macos/libwarung_ffi.a" -headers "$WORK/headers" \
  -output "$XCFRAMEWORK"

echo
echo "built $XCFRAMEWORK:"
ls "$XCFRAMEWORK"
echo "Swift sources in $SOURCES:"
ls "$SOURCES"

if [ "$ZIP" = 1 ]; then
  # ditto keeps the layout Xcode expects; the checksum SwiftPM verifies is the zip's SHA-256
  # (what `swift package compute-checksum` prints).
  rm -f "$XCFRAMEWORK.zip"
  (cd "$(dirname "$XCFRAMEWORK")" && ditto -c -k --sequesterRsrc --keepParent \
    "$(basename "$XCFRAMEWORK")" "$(basename "$XCFRAMEWORK").zip")
  echo "release archive: $XCFRAMEWORK.zip"
  echo "checksum: $(shasum -a 256 "$XCFRAMEWORK.zip" | cut -d' ' -f1)"
fi
