#!/usr/bin/env bash
# Builds what the Swift package in ios/ needs (macOS with Xcode):
#
#   ios/WarungCoreFFI.xcframework   the Rust static library (release profile) for iOS devices,
#                                   the iOS simulator (arm64 + x86_64) and macOS (arm64 +
#                                   x86_64), each slice with WarungCoreFFI.h and module.modulemap
#   ios/Sources/WarungCore/*.swift  the uniffi-generated WarungCore.swift and the hand-written
#                                   bindings/swift/*.swift (the files the Swift suite compiles)
#
#   ios/build-xcframework.sh                build both
#   ios/build-xcframework.sh --release URL  also ios/release/: the XCFramework zipped for upload
#                                           to URL, and a copy of the package whose binary
#                                           target downloads it from there (see ios/README.md)
#
# Installs the Rust Apple targets when missing. Runs from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: ios/build-xcframework.sh [--release URL]" >&2; exit 2; }
RELEASE_URL=
while [ $# -gt 0 ]; do
  case "$1" in
    --release)
      if [ $# -lt 2 ] || [ -z "$2" ]; then usage; fi
      RELEASE_URL=$2
      shift 2
      ;;
    *) usage ;;
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
RELEASE=ios/release
FFI_MODULE=WarungCoreFFI # = ffi_module_name / ffi_module_filename in bindings/uniffi.toml
# The local binary target in ios/Package.swift, swapped for a download in the release copy.
BINARY_TARGET='.binaryTarget(name: "WarungCoreFFI", path: "WarungCoreFFI.xcframework")'

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

if [ -n "$RELEASE_URL" ]; then
  # A remote package is the same package with the generated sources checked in and the
  # XCFramework fetched from RELEASE_URL. SwiftPM verifies the download against the checksum,
  # the zip's SHA-256 (what `swift package compute-checksum` prints). ditto keeps the
  # XCFramework's layout and symlinks as Xcode expects them.
  grep -qF "$BINARY_TARGET" ios/Package.swift || die "ios/Package.swift has no $BINARY_TARGET"
  rm -rf "$RELEASE"
  mkdir -p "$RELEASE/Sources/WarungCore"
  ditto -c -k --sequesterRsrc --keepParent "$XCFRAMEWORK" "$RELEASE/WarungCoreFFI.xcframework.zip"
  CHECKSUM=$(shasum -a 256 "$RELEASE/WarungCoreFFI.xcframework.zip" | cut -d' ' -f1)
  cp "$SOURCES"/*.swift "$RELEASE/Sources/WarungCore/"
  REMOTE_TARGET=".binaryTarget(name: \"WarungCoreFFI\", url: \"$RELEASE_URL\", checksum: \"$CHECKSUM\")"
  awk -v old="$BINARY_TARGET" -v new="$REMOTE_TARGET" '
    { i = index($0, old); if (i) $0 = substr($0, 1, i - 1) new substr($0, i + length(old)); print }
  ' ios/Package.swift > "$RELEASE/Package.swift"
  echo
  echo "release package in $RELEASE (checksum $CHECKSUM):"
  echo "  upload $RELEASE/WarungCoreFFI.xcframework.zip to $RELEASE_URL, then publish"
  echo "  $RELEASE/Package.swift and $RELEASE/Sources/ as the package's release tag"
fi
