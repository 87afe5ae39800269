#!/usr/bin/env bash
# Checks that the app packaging (android/, ios/) agrees with the bindings the Kotlin and Swift
# suites build and test. The packaging itself needs the Android SDK/NDK or Xcode, so this
# compares names, paths and versions instead: it generates the Kotlin and Swift bindings from
# target/debug/libwarung_ffi.so as tests/kotlin/run.sh and tests/swift/run.sh do, and reads
# bindings/uniffi.toml, the Gradle files, Package.swift and the two build scripts.
# Fast and offline. Prints one line per check and, last, "packaging: N passed, M failed";
# exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1${2:+: $2}"; }
# expect DESCRIPTION ACTUAL EXPECTED
expect() {
  if [ -n "$2" ] && [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}
# cond DESCRIPTION TEST...: the test command succeeds
cond() {
  local description=$1
  shift
  if "$@"; then pass "$description"; else fail "$description"; fi
}
# has DESCRIPTION FILE FIXED-STRING: the file contains the string
has() {
  if grep -qF -- "$3" "$2" 2>/dev/null; then pass "$1"; else fail "$1" "'$3' not in $2"; fi
}
finish() {
  echo "packaging: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit
}

# value of KEY = "..." in [SECTION] of a TOML file
toml() {
  awk -v sec="[$2]" -v key="$3" '
    /^[[:space:]]*\[/ { in_sec = ($1 == sec); next }
    in_sec && $1 == key { sub(/^[^=]*=[[:space:]]*"/, ""); sub(/".*$/, ""); print; exit }
  ' "$1"
}
# value of NAME=... (first line) in a shell script, without quotes or a trailing comment
shvar() { sed -n "s/^$2=\\([^#]*\\).*/\\1/p" "$1" | head -n1 | sed "s/[[:space:]]*\$//; s/^['\"]//; s/['\"]\$//"; }

GRADLE=android/warung/build.gradle.kts
ANDROID_SH=android/build-rust.sh
PACKAGE=ios/Package.swift
IOS_SH=ios/build-xcframework.sh
UNIFFI=bindings/uniffi.toml

# --- the bindings, as the test suites generate them -----------------------------------------
if ! cargo build -q -p warung-ffi -p uniffi-bindgen; then
  fail "cargo build -p warung-ffi -p uniffi-bindgen"
  finish
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for lang in kotlin swift; do
  if target/debug/uniffi-bindgen generate --no-format --library target/debug/libwarung_ffi.so \
    --language "$lang" --out-dir "$OUT/$lang" >"$OUT/$lang.log" 2>&1; then
    pass "uniffi-bindgen generates the $lang bindings from target/debug/libwarung_ffi.so"
  else
    fail "uniffi-bindgen generates the $lang bindings" "$(head -n1 "$OUT/$lang.log")"
  fi
done

# --- Android -----------------------------------------------------------------------------
LIB_NAME=$(toml bindings/Cargo.toml lib name)
KT_PACKAGE=$(toml "$UNIFFI" bindings.kotlin package_name)
CDYLIB=$(toml "$UNIFFI" bindings.kotlin cdylib_name)
KT_FILE="$OUT/kotlin/${KT_PACKAGE//.//}/$LIB_NAME.kt"
cond "Kotlin bindings are ${KT_PACKAGE//.//}/$LIB_NAME.kt" [ -f "$KT_FILE" ]

NAMESPACE=$(sed -n 's/^[[:space:]]*namespace = "\(.*\)"/\1/p' "$GRADLE")
expect "Gradle namespace = uniffi.toml Kotlin package_name" "$NAMESPACE" "$KT_PACKAGE"
expect "generated Kotlin package = Gradle namespace" \
  "$(sed -n 's/^package \([A-Za-z0-9_.]*\).*/\1/p' "$KT_FILE" 2>/dev/null | head -n1)" "$NAMESPACE"
for f in bindings/kotlin/*.kt; do
  expect "$f is in package $NAMESPACE" "$(sed -n 's/^package \([A-Za-z0-9_.]*\).*/\1/p' "$f" | head -n1)" "$NAMESPACE"
done
expect "uniffi.toml cdylib_name = the crate's lib name (libwarung_ffi.so)" "$CDYLIB" "$LIB_NAME"
expect "generated Kotlin loads the library \"$CDYLIB\"" \
  "$(sed -n '/fun findLibraryName/,/^}/s/^[[:space:]]*return "\(.*\)"/\1/p' "$KT_FILE" 2>/dev/null)" "$CDYLIB"

# kotlin.srcDirs(...): names resolved through `val name = "..."`, paths relative to the module.
gradle_dirs() {
  local list item
  list=$(sed -n "s/^[[:space:]]*$1\\.srcDirs(\\(.*\\))[[:space:]]*\$/\\1/p" "$GRADLE")
  IFS=',' read -ra items <<<"$list"
  for item in "${items[@]}"; do
    item=$(echo "$item" | tr -d ' ')
    case "$item" in
      \"*\") echo "${item//\"/}" ;;
      *) sed -n "s/^val $item = \"\\(.*\\)\"/\\1/p" "$GRADLE" ;;
    esac
  done
}
KT_DIRS=$(gradle_dirs kotlin)
GEN_DIR=$(echo "$KT_DIRS" | grep '^build/' | head -n1)
expect "Gradle's generated Kotlin dir = KOTLIN_OUT in build-rust.sh" \
  "android/warung/$GEN_DIR" "$(shvar "$ANDROID_SH" KOTLIN_OUT)"
expect "Gradle checks for the generated file uniffi writes" \
  "$(grep -o '/[A-Za-z0-9_/]*\.kt' "$GRADLE" | head -n1)" "/${KT_PACKAGE//.//}/$LIB_NAME.kt"
for d in $(echo "$KT_DIRS" | grep -v '^build/'); do
  if [ -d "android/warung/$d" ] && ls "android/warung/$d"/*.kt >/dev/null 2>&1; then
    pass "Gradle Kotlin srcDir $d exists and holds .kt files"
  else
    fail "Gradle Kotlin srcDir $d exists and holds .kt files"
  fi
  expect "Gradle Kotlin srcDir $d is bindings/kotlin (what tests/kotlin/run.sh compiles)" \
    "$(cd "android/warung/$d" 2>/dev/null && pwd -P)" "$(cd bindings/kotlin && pwd -P)"
done
has "tests/kotlin/run.sh compiles bindings/kotlin/*.kt" tests/kotlin/run.sh "bindings/kotlin/*.kt"
expect "Gradle jniLibs dir = JNI_LIBS in build-rust.sh" \
  "android/warung/$(gradle_dirs jniLibs)" "$(shvar "$ANDROID_SH" JNI_LIBS)"
expect "Gradle ABIs = ABIS in build-rust.sh" \
  "$(sed -n 's/^val abis = listOf(\(.*\))/\1/p' "$GRADLE" | tr -d '" ')" \
  "$(shvar "$ANDROID_SH" ABIS | tr -d '()' | tr ' ' ',')"
expect "Gradle minSdk = MIN_SDK (cargo ndk --platform) in build-rust.sh" \
  "$(sed -n 's/^[[:space:]]*minSdk = \([0-9]*\).*/\1/p' "$GRADLE")" "$(shvar "$ANDROID_SH" MIN_SDK)"
expect "Gradle version = workspace version in Cargo.toml" \
  "$(sed -n 's/^version = "\(.*\)"/\1/p' "$GRADLE")" "$(toml Cargo.toml workspace.package version)"
has "build-rust.sh builds the warung-ffi package" "$ANDROID_SH" "build --release -p warung-ffi"
has "build-rust.sh links with 16 KB max page size" "$ANDROID_SH" "-Wl,-z,max-page-size=16384"
has "build-rust.sh generates Kotlin from the $LIB_NAME static library" "$ANDROID_SH" "/release/lib$LIB_NAME.a"
has "Gradle depends on JNA as an AAR (Android natives)" "$GRADLE" '"net.java.dev.jna:jna:5.17.0@aar"'
has "Gradle depends on kotlinx-coroutines-android" "$GRADLE" '"org.jetbrains.kotlinx:kotlinx-coroutines-android:'
has "Gradle ships consumer-rules.pro" "$GRADLE" 'consumerProguardFiles("consumer-rules.pro")'
has "consumer-rules.pro keeps JNA" android/warung/consumer-rules.pro "-keep class com.sun.jna.** { *; }"
has "consumer-rules.pro keeps the bindings package" android/warung/consumer-rules.pro "-keep class $KT_PACKAGE.** { *; }"
has "settings.gradle.kts includes :warung" android/settings.gradle.kts 'include(":warung")'
has "android/.gitignore ignores the built .so files" android/.gitignore "warung/src/main/jniLibs/"

# --- iOS ---------------------------------------------------------------------------------
SWIFT_MODULE=$(toml "$UNIFFI" bindings.swift module_name)
FFI_MODULE=$(toml "$UNIFFI" bindings.swift ffi_module_name)
FFI_FILE=$(toml "$UNIFFI" bindings.swift ffi_module_filename)
for f in "$SWIFT_MODULE.swift" "$FFI_FILE.h" "$FFI_FILE.modulemap"; do
  cond "Swift bindings include $f" [ -f "$OUT/swift/$f" ]
done
expect "build-xcframework.sh FFI_MODULE = uniffi.toml ffi_module_name" "$(shvar "$IOS_SH" FFI_MODULE)" "$FFI_MODULE"
expect "build-xcframework.sh FFI_MODULE = uniffi.toml ffi_module_filename (.h/.modulemap names)" \
  "$(shvar "$IOS_SH" FFI_MODULE)" "$FFI_FILE"
has "build-xcframework.sh copies the generated $SWIFT_MODULE.swift" "$IOS_SH" "/swift/$SWIFT_MODULE.swift"
has "build-xcframework.sh copies bindings/swift/*.swift" "$IOS_SH" "bindings/swift/*.swift"
has "tests/swift/run.sh compiles bindings/swift/*.swift" tests/swift/run.sh "bindings/swift/*.swift"
has "generated $SWIFT_MODULE.swift imports $FFI_MODULE" "$OUT/swift/$SWIFT_MODULE.swift" "import $FFI_MODULE"
# The module map as build-xcframework.sh installs it: its own sed expression, applied here.
MAP_SED=$(sed -n "s/^sed '\\([^']*\\)' .*module\\.modulemap.*/\\1/p" "$IOS_SH")
if [ -n "$MAP_SED" ] && sed "$MAP_SED" "$OUT/swift/$FFI_FILE.modulemap" >"$OUT/module.modulemap" 2>/dev/null; then
  pass "build-xcframework.sh's module.modulemap rewrite applies to the generated map"
else
  fail "build-xcframework.sh's module.modulemap rewrite applies to the generated map"
fi
has "module.modulemap defines module $FFI_MODULE" "$OUT/module.modulemap" "module $FFI_MODULE {"
has "module.modulemap names the header $FFI_FILE.h" "$OUT/module.modulemap" "header \"$FFI_FILE.h\""
if grep -q '_Builtin_' "$OUT/module.modulemap" 2>/dev/null; then
  fail "module.modulemap has no _Builtin_ module uses (uniffi-rs#2917)"
else
  pass "module.modulemap has no _Builtin_ module uses (uniffi-rs#2917)"
fi

expect "Package.swift swift-tools-version 5.9" "$(head -n1 "$PACKAGE")" "// swift-tools-version: 5.9"
FLAT=$(grep -v '^[[:space:]]*//' "$PACKAGE" | tr -d ' \n\t')
flat_has() {
  case "$FLAT" in *"$2"*) pass "$1" ;; *) fail "$1" "no $2" ;; esac
}
flat_has "Package.swift product library $SWIFT_MODULE" ".library(name:\"$SWIFT_MODULE\",targets:[\"$SWIFT_MODULE\"])"
flat_has "Package.swift binary target $FFI_MODULE at $FFI_MODULE.xcframework" \
  ".binaryTarget(name:\"$FFI_MODULE\",path:\"$FFI_MODULE.xcframework\")"
flat_has "Package.swift target $SWIFT_MODULE depends on $FFI_MODULE" \
  ".target(name:\"$SWIFT_MODULE\",dependencies:[\"$FFI_MODULE\"],path:\"Sources/$SWIFT_MODULE\")"
has "build-xcframework.sh's release rewrite matches Package.swift's binary target" \
  "$PACKAGE" "$(shvar "$IOS_SH" BINARY_TARGET)"
expect "build-xcframework.sh writes the XCFramework Package.swift uses" \
  "$(shvar "$IOS_SH" XCFRAMEWORK)" "ios/$FFI_MODULE.xcframework"
expect "build-xcframework.sh writes the sources Package.swift compiles" \
  "$(shvar "$IOS_SH" SOURCES)" "ios/Sources/$SWIFT_MODULE"
cond "ios/Sources/$SWIFT_MODULE exists" [ -d "ios/Sources/$SWIFT_MODULE" ]
swift_version() { echo "$1" | sed 's/\.0$//; s/\./_/g'; }
flat_has "Package.swift iOS platform = IOS_MIN in build-xcframework.sh" \
  ".iOS(.v$(swift_version "$(shvar "$IOS_SH" IOS_MIN)"))"
flat_has "Package.swift macOS platform = MACOS_MIN in build-xcframework.sh" \
  ".macOS(.v$(swift_version "$(shvar "$IOS_SH" MACOS_MIN)"))"
has "ios/.gitignore ignores the generated Swift" ios/.gitignore "/Sources/WarungCore/*.swift"
has "ios/.gitignore ignores the XCFramework" ios/.gitignore "/WarungCoreFFI.xcframework/"

# --- the READMEs' examples use the real API -----------------------------------------------
# api DESCRIPTION FILE DECLARATION: the file declares it (whitespace ignored)
api() {
  # (grep without -q reads to the end: an early exit would SIGPIPE tr and fail the pipeline)
  if tr -d ' \t' <"$2" 2>/dev/null | grep -F -- "$(echo "$3" | tr -d ' \t')" >/dev/null; then
    pass "$1"
  else
    fail "$1" "not in $2"
  fi
}
KT_API=("$KT_FILE" "constructor(\`config\`: WarungConfig, \`storage\`: SecureStorage)"
  "$KT_FILE" "var \`profilePath\`: kotlin.String"
  "$KT_FILE" "suspend fun \`importDemoCatalog\`(\`cancel\`: CancelToken? = null)"
  "$KT_FILE" "fun \`search\`(\`query\`: SearchQuery): SearchPage"
  "$KT_FILE" "fun \`product\`(\`productId\`: kotlin.String): ProductDetail"
  "$KT_FILE" "fun \`cartAdd\`(\`variantId\`: kotlin.String, \`quantity\`: kotlin.Long): CartView"
  "$KT_FILE" "fun \`format\`(\`money\`: Money): kotlin.String"
  "$KT_FILE" "fun \`get\`(\`key\`: kotlin.String): kotlin.ByteArray?"
  "$KT_FILE" "fun \`put\`(\`key\`: kotlin.String, \`value\`: kotlin.ByteArray)"
  "$KT_FILE" "fun \`delete\`(\`key\`: kotlin.String)"
  "$KT_FILE" "fun \`configureSync\`(\`serverUrl\`: kotlin.String, \`options\`: SyncOptions? = null)"
  "$KT_FILE" "suspend fun \`syncNow\`(\`cancel\`: CancelToken? = null): SyncReport"
  "$KT_FILE" "fun \`startBackgroundSync\`(\`intervalSeconds\`: kotlin.UInt)"
  "$KT_FILE" "fun \`stopBackgroundSync\`()"
  "$KT_FILE" "fun \`requestSync\`()"
  "$KT_FILE" "fun \`pendingIntents\`(): kotlin.ULong"
  "$KT_FILE" "fun \`lastSyncError\`(): WarungException?"
  "$KT_FILE" "fun \`setSyncListener\`(\`listener\`: SyncListener?)"
  "$KT_FILE" "fun \`onQuarantined\`(\`count\`: kotlin.ULong)"
  "$KT_FILE" "fun \`catalogQuarantined\`(): List<QuarantinedEntity>"
  "$KT_FILE" "fun \`normalizePhone\`(\`text\`: kotlin.String): kotlin.String"
  "$KT_FILE" "fun \`checkNewPin\`(\`pin\`: kotlin.String)"
  "$KT_FILE" "suspend fun \`requestOtp\`(\`phone\`: kotlin.String, \`purpose\`: OtpPurpose, \`language\`: SmsLanguage, \`cancel\`: CancelToken? = null): OtpChallenge"
  "$KT_FILE" "suspend fun \`verifyOtp\`(\`challengeId\`: kotlin.String, \`code\`: kotlin.String, \`cancel\`: CancelToken? = null): SignedIn"
  "$KT_FILE" "suspend fun \`beginDeviceBinding\`(\`cancel\`: CancelToken? = null): BindingInstructions"
  "$KT_FILE" "suspend fun \`waitUntilBound\`(\`bindingId\`: kotlin.String, \`timeoutSeconds\`: kotlin.UInt, \`cancel\`: CancelToken? = null): BindingStatus"
  "$KT_FILE" "suspend fun \`setPin\`(\`pin\`: kotlin.String, \`cancel\`: CancelToken? = null)"
  "$KT_FILE" "suspend fun \`verifyPin\`(\`pin\`: kotlin.String, \`cancel\`: CancelToken? = null)"
  "$KT_FILE" "suspend fun \`enrollTotp\`(\`cancel\`: CancelToken? = null): TotpEnrollment"
  "$KT_FILE" "fun \`totpCode\`(): TotpCode"
  "$KT_FILE" "suspend fun \`requestStepUp\`(\`action\`: StepUpAction, \`cancel\`: CancelToken? = null): OtpChallenge"
  "$KT_FILE" "suspend fun \`verifyStepUp\`(\`challengeId\`: kotlin.String, \`code\`: kotlin.String, \`cancel\`: CancelToken? = null): StepUpGrant"
  "$KT_FILE" "suspend fun \`changePin\`(\`oldPin\`: kotlin.String, \`newPin\`: kotlin.String, \`stepUpChallengeId\`: kotlin.String, \`cancel\`: CancelToken? = null)"
  "$KT_FILE" "var \`shortCode\`: kotlin.String"
  "$KT_FILE" "var \`smsBody\`: kotlin.String"
  "$KT_FILE" "PIN_CHANGE"
  bindings/kotlin/WarungExtensions.kt "fun Warung.cartChanges(): Flow<CartView>"
  bindings/kotlin/WarungExtensions.kt "fun Warung.syncProgress(): Flow<SyncProgress>"
  bindings/kotlin/WarungExtensions.kt "fun searchQuery(")
for ((i = 0; i < ${#KT_API[@]}; i += 2)); do
  api "android/README.md API: ${KT_API[i + 1]}" "${KT_API[i]}" "${KT_API[i + 1]}"
done
SW_FILE="$OUT/swift/$SWIFT_MODULE.swift"
SW_API=("$SW_FILE" "public convenience init(config: WarungConfig, storage: SecureStorage) throws"
  "$SW_FILE" "func importDemoCatalog(cancel: CancelToken? = nil) async throws -> ImportReport"
  "$SW_FILE" "func search(query: SearchQuery) throws -> SearchPage"
  "$SW_FILE" "func product(productId: String) throws -> ProductDetail"
  "$SW_FILE" "func cartAdd(variantId: String, quantity: Int64) throws -> CartView"
  "$SW_FILE" "func format(money: Money) throws -> String"
  "$SW_FILE" "func get(key: String) throws -> Data?"
  "$SW_FILE" "func put(key: String, value: Data) throws"
  "$SW_FILE" "func delete(key: String) throws"
  "$SW_FILE" "case Failed(reason: String"
  "$SW_FILE" "func configureSync(serverUrl: String, options: SyncOptions? = nil) throws"
  "$SW_FILE" "func startBackgroundSync(intervalSeconds: UInt32) throws"
  "$SW_FILE" "func stopBackgroundSync()"
  "$SW_FILE" "func requestSync()"
  "$SW_FILE" "func pendingIntents() throws -> UInt64"
  "$SW_FILE" "func lastSyncError() -> WarungError?"
  "$SW_FILE" "func setSyncListener(listener: SyncListener?)"
  "$SW_FILE" "func onQuarantined(count: UInt64)"
  "$SW_FILE" "func catalogQuarantined() throws -> [QuarantinedEntity]"
  "$SW_FILE" "case Network(message: String"
  "$SW_FILE" "public func normalizePhone(text: String) throws -> String"
  "$SW_FILE" "public func checkNewPin(pin: String) throws"
  "$SW_FILE" "func requestOtp(phone: String, purpose: OtpPurpose, language: SmsLanguage, cancel: CancelToken? = nil) async throws -> OtpChallenge"
  "$SW_FILE" "func verifyOtp(challengeId: String, code: String, cancel: CancelToken? = nil) async throws -> SignedIn"
  "$SW_FILE" "func beginDeviceBinding(cancel: CancelToken? = nil) async throws -> BindingInstructions"
  "$SW_FILE" "func setPin(pin: String, cancel: CancelToken? = nil) async throws"
  "$SW_FILE" "func verifyPin(pin: String, cancel: CancelToken? = nil) async throws"
  "$SW_FILE" "func enrollTotp(cancel: CancelToken? = nil) async throws -> TotpEnrollment"
  "$SW_FILE" "func totpCode() throws -> TotpCode"
  "$SW_FILE" "func requestStepUp(action: StepUpAction, cancel: CancelToken? = nil) async throws -> OtpChallenge"
  "$SW_FILE" "func verifyStepUp(challengeId: String, code: String, cancel: CancelToken? = nil) async throws -> StepUpGrant"
  "$SW_FILE" "func changePin(oldPin: String, newPin: String, stepUpChallengeId: String, cancel: CancelToken? = nil) async throws"
  "$SW_FILE" "case pinChange"
  "$SW_FILE" "case InvalidPhone(message: String"
  bindings/swift/WarungExtensions.swift "public func waitForBinding(_ bindingId: String, timeoutSeconds: UInt32) async throws -> BindingStatus"
  bindings/swift/WarungExtensions.swift "public func cartChanges() -> AsyncStream<CartView>"
  bindings/swift/WarungExtensions.swift "public func sync() async throws -> SyncReport"
  bindings/swift/WarungExtensions.swift "public func syncProgress() -> AsyncStream<SyncProgress>"
  bindings/swift/WarungExtensions.swift "public func importCatalog(json: String) async throws -> ImportReport"
  bindings/swift/WarungExtensions.swift "public func searchQuery(")
for ((i = 0; i < ${#SW_API[@]}; i += 2)); do
  api "ios/README.md API: ${SW_API[i + 1]}" "${SW_API[i]}" "${SW_API[i + 1]}"
done

# --- the scripts -----------------------------------------------------------------------------
for s in "$ANDROID_SH" "$IOS_SH" tests/packaging/check.sh; do
  if bash -n "$s" 2>"$OUT/syntax"; then pass "$s passes bash -n"; else fail "$s passes bash -n" "$(head -n1 "$OUT/syntax")"; fi
  cond "$s is executable" [ -x "$s" ]
done

finish
