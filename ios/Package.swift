// swift-tools-version: 5.9
// WarungCore: warung-core for Swift apps. The Rust core ships as a static-library XCFramework
// (WarungCoreFFI) and the Swift API is the uniffi-generated WarungCore.swift plus the
// hand-written bindings/swift/*.swift, compiled as one module. ios/build-xcframework.sh
// produces both (macOS with Xcode); see ios/README.md.
import PackageDescription

let package = Package(
    name: "WarungCore",
    platforms: [
        // Keep in step with IOS_MIN / MACOS_MIN in build-xcframework.sh.
        .iOS(.v15),
        .macOS(.v12),
    ],
    products: [
        .library(name: "WarungCore", targets: ["WarungCore"]),
    ],
    targets: [
        // The name must be the module in the XCFramework's module.modulemap
        // (ffi_module_name in bindings/uniffi.toml), which WarungCore.swift imports.
        .binaryTarget(name: "WarungCoreFFI", path: "WarungCoreFFI.xcframework"),
        .target(
            name: "WarungCore",
            dependencies: ["WarungCoreFFI"],
            path: "Sources/WarungCore"
        ),
    ]
)
