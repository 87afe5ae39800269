// Gradle build of the Warung Android library (AAR). The Rust side is built by build-rust.sh,
// which must run first: it puts the .so files in warung/src/main/jniLibs and the generated
// Kotlin bindings in warung/build/generated/uniffi/kotlin.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "warung-android"
include(":warung")
