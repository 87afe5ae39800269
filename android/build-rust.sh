#!/usr/bin/env bash
# Builds the Rust side of the Android library, ready for `gradle :warung:assembleRelease`:
#
#   1. libwarung_ffi.so (release profile) for arm64-v8a, armeabi-v7a and x86_64 with cargo-ndk,
#      copied into android/warung/src/main/jniLibs/<abi>/, linked for 16 KB pages;
#   2. the Kotlin bindings (uniffi library mode, so bindings/uniffi.toml applies) into
#      android/warung/build/generated/uniffi/kotlin;
#   3. a check that every LOAD segment of the 64-bit libraries is 16 KB aligned.
#
# Needs ANDROID_NDK_HOME (NDK r27 or newer) and rustup; installs cargo-ndk and the Rust
# Android targets when missing. Runs from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_SDK=24 # = minSdk in android/warung/build.gradle.kts (tests/packaging/check.sh checks)
ABIS=(arm64-v8a armeabi-v7a x86_64)
TRIPLES=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
JNI_LIBS=android/warung/src/main/jniLibs
KOTLIN_OUT=android/warung/build/generated/uniffi/kotlin
# Android 15+ devices may use 16 KB memory pages; Google Play requires 64-bit libraries to
# load there, i.e. LOAD segments aligned to 16 KB. NDK r28+ links that way by default, r27
# needs the flag (recent cargo-ndk adds it too; passing it again is harmless). It is a maximum,
# so such libraries still load on 4 KB-page devices. 32-bit ABIs never run with 16 KB pages.
PAGE_FLAG="-C link-arg=-Wl,-z,max-page-size=16384"

die() { echo "error: $*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------------------------
[ -n "${ANDROID_NDK_HOME:-}" ] ||
  die "ANDROID_NDK_HOME is not set; point it at an NDK r27+ (e.g. \$ANDROID_HOME/ndk/27.2.12479018)"
[ -f "$ANDROID_NDK_HOME/source.properties" ] ||
  die "ANDROID_NDK_HOME=$ANDROID_NDK_HOME is not an NDK (no source.properties)"
NDK_VERSION=$(sed -n 's/^Pkg\.Revision *= *//p' "$ANDROID_NDK_HOME/source.properties" | tr -d '\r')
NDK_MAJOR=${NDK_VERSION%%.*}
[[ "$NDK_MAJOR" =~ ^[0-9]+$ ]] || die "cannot read the NDK version from $ANDROID_NDK_HOME/source.properties"
[ "$NDK_MAJOR" -ge 27 ] || die "NDK $NDK_VERSION is too old; r27 or newer is required"
echo "NDK $NDK_VERSION at $ANDROID_NDK_HOME"

command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
rustup target add "${TRIPLES[@]}"
if ! cargo ndk --version >/dev/null 2>&1; then
  echo "installing cargo-ndk…"
  cargo install cargo-ndk --locked
fi

# RUSTFLAGS and CARGO_ENCODED_RUSTFLAGS replace per-target rustflags instead of adding to them,
# so the page-size flag must go where cargo will actually read it.
[ -z "${CARGO_ENCODED_RUSTFLAGS:-}" ] ||
  die "unset CARGO_ENCODED_RUSTFLAGS: it would drop the 16 KB page-size linker flag"
if [ -n "${RUSTFLAGS:-}" ]; then
  export RUSTFLAGS="$RUSTFLAGS $PAGE_FLAG"
fi
export CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS="${CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS:+$CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS }$PAGE_FLAG"
export CARGO_TARGET_X86_64_LINUX_ANDROID_RUSTFLAGS="${CARGO_TARGET_X86_64_LINUX_ANDROID_RUSTFLAGS:+$CARGO_TARGET_X86_64_LINUX_ANDROID_RUSTFLAGS }$PAGE_FLAG"

# --- 1. native libraries -------------------------------------------------------------------
# --platform is the API level the libraries link against: the module's minSdk.
TARGET_ARGS=()
for abi in "${ABIS[@]}"; do TARGET_ARGS+=(-t "$abi"); done
cargo ndk "${TARGET_ARGS[@]}" --platform "$MIN_SDK" -o "$JNI_LIBS" build --release -p warung-ffi

# --- 2. Kotlin bindings --------------------------------------------------------------------
# The generated Kotlin is the same for every ABI. It is generated from the arm64-v8a build's
# static library, not from the .so: the release profile strips symbols from the .so, and
# uniffi library mode reads its metadata from the symbol table ("No UniFFI metadata found").
# The .a comes out of the same cargo invocation (crate-type includes staticlib), unstripped.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$TARGET_DIR" ] || die "cannot find cargo's target directory"
STATIC_LIB="$TARGET_DIR/aarch64-linux-android/release/libwarung_ffi.a"
[ -f "$STATIC_LIB" ] || die "$STATIC_LIB was not built"
rm -rf "$KOTLIN_OUT"
mkdir -p "$KOTLIN_OUT"
cargo run -q -p uniffi-bindgen -- generate --no-format --library "$STATIC_LIB" \
  --language kotlin --out-dir "$KOTLIN_OUT"
[ -f "$KOTLIN_OUT/id/warung/core/warung_ffi.kt" ] || die "uniffi-bindgen did not produce id/warung/core/warung_ffi.kt"

# --- 3. 16 KB alignment --------------------------------------------------------------------
READELF=
for candidate in "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-readelf; do
  if [ -x "$candidate" ]; then READELF=$candidate; break; fi
done
[ -n "$READELF" ] || READELF=$(command -v llvm-readelf || command -v readelf || true)
if [ -z "$READELF" ]; then
  echo "warning: no llvm-readelf in the NDK or readelf on PATH; 16 KB alignment not verified" >&2
else
  for abi in "${ABIS[@]}"; do
    case "$abi" in arm64-v8a | x86_64) ;; *) continue ;; esac # the 64-bit ABIs
    so="$JNI_LIBS/$abi/libwarung_ffi.so"
    aligns=$("$READELF" -l -W "$so" | awk '$1 == "LOAD" { print $NF }')
    [ -n "$aligns" ] || die "$so: no LOAD segments found by $READELF"
    for a in $aligns; do
      [ $((a % 16384)) -eq 0 ] || die "$so: a LOAD segment is aligned to $a, not 16 KB (0x4000)"
    done
    echo "16 KB aligned: $so ($(echo "$aligns" | paste -sd, -))"
  done
fi

echo
for abi in "${ABIS[@]}"; do
  ls -l "$JNI_LIBS/$abi/libwarung_ffi.so"
done
echo "Kotlin bindings: $KOTLIN_OUT/id/warung/core/warung_ffi.kt"
echo "Next: (cd android && gradle :warung:assembleRelease)"
