// Plugin versions for the whole build, applied in the modules that need them.
// AGP 8.7 needs Gradle 8.9+ and supports compileSdk 35; Kotlin 2.1 is tested with AGP 8.7.
plugins {
    id("com.android.library") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.1.21" apply false
}
