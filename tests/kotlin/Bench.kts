// FFI crossing costs, measured from Kotlin against the release library. Last line:
// "ffi: trivial_call_ns_p50=… search_call_us_p50=… native_search_us_p50=… jna_load_ms=…"
import id.warung.core.*
import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking

class NoStorage : SecureStorage {
    val map = java.util.concurrent.ConcurrentHashMap<String, ByteArray>()
    override fun get(key: String): ByteArray? = map[key]
    override fun put(key: String, value: ByteArray) { map[key] = value }
    override fun delete(key: String) { map.remove(key) }
}

fun p50(xs: LongArray): Long { xs.sort(); return xs[xs.size / 2] }

val t0 = System.nanoTime()
coreVersion() // loads the library through JNA
val loadMs = (System.nanoTime() - t0) / 1_000_000.0

// The trivial call: a u64 in, a u64 out. Timed in blocks of 100 calls (nanoTime itself costs
// tens of ns), p50 over the blocks.
repeat(50_000) { ffiEcho(it.toULong()) } // warm-up (JIT)
val trivial = LongArray(2_000)
for (i in trivial.indices) {
    val s = System.nanoTime()
    for (j in 0 until 100) ffiEcho(j.toULong())
    trivial[i] = (System.nanoTime() - s) / 100
}

val dir = Files.createTempDirectory("warung-bench").toFile()
val w = Warung(WarungConfig(profilePath = File(dir, "bench.db").path), NoStorage())
runBlocking { w.importDemoCatalog() }
val query = searchQuery("kopi arabika")
repeat(200) { w.search(query) }
val search = LongArray(1000)
for (i in search.indices) {
    val s = System.nanoTime()
    w.search(query)
    search[i] = System.nanoTime() - s
}
val native = w.benchNativeSearch(query, 1000u)
dir.deleteRecursively()
println("ffi: trivial_call_ns_p50=${p50(trivial)} search_call_us_p50=${"%.1f".format(p50(search) / 1000.0)} " +
    "native_search_us_p50=${"%.1f".format(native.toLong() / 1000.0)} jna_load_ms=${"%.1f".format(loadMs)}")
