// The Kotlin API of warung-core, exercised on the JVM through JNA against the library just
// built. Run by tests/kotlin/run.sh; the last line is "kotlin: N passed, M failed".
import id.warung.core.*
import java.io.File
import java.math.BigDecimal
import java.nio.file.Files
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.*
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.flow.toList

var passed = 0
var failed = 0

fun test(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("ok   $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
        e.printStackTrace(System.out)
    }
}

fun check(cond: Boolean, msg: () -> String = { "check failed" }) {
    if (!cond) throw AssertionError(msg())
}

inline fun <reified T : Throwable> expectThrows(body: () -> Unit): T {
    try {
        body()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${T::class.simpleName}, nothing thrown")
}

/** In-memory secure storage (an app uses the Android Keystore). */
class MemoryStorage : SecureStorage {
    val map = java.util.concurrent.ConcurrentHashMap<String, ByteArray>()
    val puts = AtomicInteger()
    override fun get(key: String): ByteArray? = map[key]
    override fun put(key: String, value: ByteArray) { puts.incrementAndGet(); map[key] = value }
    override fun delete(key: String) { map.remove(key) }
}

class LockedStorage : SecureStorage {
    override fun get(key: String): ByteArray? = throw SecureStorageException.Failed("keystore locked")
    override fun put(key: String, value: ByteArray) = throw SecureStorageException.Failed("keystore locked")
    override fun delete(key: String) {}
}

val storage = MemoryStorage()
val dir = Files.createTempDirectory("warung-kotlin").toFile()
fun profile(name: String) = Warung(WarungConfig(profilePath = File(dir, "$name.db").path, locale = "id-ID", currency = "IDR"), storage)

// README example (kept in sync with README.md "Kotlin").
test("readme example") {
    val warung = Warung(WarungConfig(profilePath = File(dir, "readme.db").path), MemoryStorage())
    runBlocking { warung.importDemoCatalog() }
    val page = warung.search(searchQuery("kopi arabika"))
    val detail = warung.product(page.hits.first().productId)
    val cart = warung.cartAdd(detail.variants.first { it.stock != StockBand.OUT }.id, 2)
    println("  total: " + warung.format(cart.total))
    check(warung.format(cart.total).startsWith("Rp"))
}

val w = profile("main")

test("import the demo catalog (async) and re-import idempotently") {
    val r = runBlocking { w.importDemoCatalog() }
    check(r.applied > 1000u) { "applied ${r.applied}" }
    val again = runBlocking { w.importDemoCatalog() }
    check(again.applied == 0uL && again.skipped == r.applied) { "$again" }
    check(w.catalogCursor() == r.cursor)
}

test("search with filters, sorts, snippet and pagination") {
    val page = w.search(searchQuery("kopi"))
    check(page.hits.isNotEmpty())
    check(page.hits.first().snippet?.contains("**") == true) { "${page.hits.first().snippet}" }
    val filtered = w.search(SearchQuery(text = "kopi", categoryId = "c-kopi-minuman", minPrice = BigDecimal("50000"),
        maxPrice = BigDecimal("300000"), inStockOnly = true, sort = SortOrder.PRICE_ASC, limit = 5u))
    check(filtered.hits.isNotEmpty())
    val prices = filtered.hits.map { it.priceMin.amount }
    check(prices == prices.sorted()) { "$prices" }
    check(prices.all { it >= BigDecimal("50000") && it <= BigDecimal("300000") })
    check(filtered.hits.all { it.stock != StockBand.OUT })
    // Pages never repeat.
    var q = searchQuery("batik", limit = 7u)
    val seen = mutableListOf<String>()
    while (true) {
        val p = w.search(q)
        seen += p.hits.map { it.productId }
        q = q.copy(cursor = p.nextCursor ?: break)
    }
    check(seen.size == seen.toSet().size && seen.size > 7) { "${seen.size}" }
    // Indonesian affixes: "pembelian" finds products that say "membeli"/"beli".
    check(w.search(searchQuery("pembelian ")).hits.isNotEmpty())
}

test("facets and categories") {
    val f = w.facets(searchQuery("batik"))
    check(f.total > 0uL && f.priceBands.size == 5)
    check(f.priceBands.sumOf { it.count.toLong() } == f.total.toLong())
    val cats = w.categories()
    check(cats.any { it.depth == 0u } && cats.any { it.depth == 1u })
    check(cats.first { it.id == "c-kopi-minuman" }.productCount > 0uL)
}

test("product detail with variants, BigDecimal prices") {
    val d = w.product("p-0024")
    check(d.variants.isNotEmpty())
    val price = d.variants.first().prices.first { it.amount.currency == "IDR" }.amount
    check(price.amount.signum() > 0 && price.amount.scale() <= 0)
    check(d.merchant.shippingPolicy.isNotBlank())
    check(d.categoryPath.isNotEmpty())
    check(d.createdAt.epochSecond > 0)
}

test("cart add, set, remove, vouchers, grouped by merchant") {
    w.cartClear()
    var cart = w.cartAdd("v-0024-1", 2)
    check(cart.itemCount == 2u)
    cart = w.cartSetQuantity("v-0024-1", 3)
    check(cart.groups.single().lines.single().quantity == 3u)
    val batik = w.search(searchQuery("kemeja batik")).hits.first { it.merchantId != cart.groups.single().merchantId }
    val variant = w.product(batik.productId).variants.first { it.stock == StockBand.IN_STOCK }
    cart = w.cartAdd(variant.id, 1)
    check(cart.groups.size == 2) { "${cart.groups.size} groups" }
    cart = w.applyVoucher("hemat10")
    check(cart.platformVoucher?.code == "HEMAT10")
    check(cart.discount.amount.signum() > 0)
    check(cart.total.amount == cart.subtotal.amount - cart.discount.amount)
    cart = w.removeVoucher("HEMAT10")
    check(cart.platformVoucher == null)
    cart = w.cartRemove(variant.id)
    check(cart.groups.size == 1)
    check(w.pendingIntents() >= 5uL)
}

test("id-ID and en formatting, strict parsing") {
    val m = Money(BigDecimal("125000"), "IDR")
    check(w.format(m) == "Rp125.000") { w.format(m) }
    check(formatMoney(m, "en") == "IDR 125,000")
    check(parseMoney("125000.00", "IDR") == m)
    expectThrows<WarungException.InvalidMoney> { parseMoney("125000.5", "IDR") }
    expectThrows<WarungException.InvalidMoney> { parseMoney("1e3", "IDR") }
    expectThrows<WarungException.InvalidMoney> { formatMoney(Money(BigDecimal("1.5"), "IDR"), "id-ID") }
}

test("input rules shared with the server: cleanText and checkMoneyWireRange") {
    check(cleanText("title", TextKind.LINE, "  Kopi Gayo ", 200u, true) == "Kopi Gayo")
    check(cleanText("description", TextKind.BLOCK, "baris 1\nbaris 2", 20000u, false) == "baris 1\nbaris 2")
    check(cleanText("brand", TextKind.LINE, "   ", 200u, false) == "")
    val rlo = expectThrows<WarungException.InvalidText> { cleanText("title", TextKind.LINE, "invoice\u202Efdp.exe", 200u, true) }
    check(rlo.message!!.contains("title") && rlo.message!!.contains("U+202E")) { "message: ${rlo.message}" }
    expectThrows<WarungException.InvalidText> { cleanText("name", TextKind.LINE, "\u200B\u200C", 200u, true) }
    expectThrows<WarungException.InvalidText> { cleanText("name", TextKind.LINE, "a\nb", 200u, true) }
    expectThrows<WarungException.InvalidText> { cleanText("key", TextKind.IDENTIFIER, "k\u0000", 128u, true) }
    expectThrows<WarungException.InvalidText> { cleanText("title", TextKind.LINE, "abc", 2u, true) }
    checkMoneyWireRange(Money(BigDecimal("99999999999999"), "IDR"))
    val far = expectThrows<WarungException.InvalidMoney> { checkMoneyWireRange(Money(BigDecimal("9223372036854775808"), "IDR")) }
    check(far.message!!.contains("14 digits")) { "message: ${far.message}" }
    expectThrows<WarungException.InvalidMoney> { checkMoneyWireRange(Money(BigDecimal("92233720368547758.08"), "USD")) }
}

test("typed errors: bad quantity, unknown variant, voucher, bad query") {
    expectThrows<WarungException.InvalidQuantity> { w.cartAdd("v-0024-1", 0) }
    expectThrows<WarungException.InvalidQuantity> { w.cartAdd("v-0024-1", 100) }
    expectThrows<WarungException.InvalidQuantity> { w.cartSetQuantity("v-0024-1", -1) }
    expectThrows<WarungException.UnknownVariant> { w.cartAdd("v-nope", 1) }
    expectThrows<WarungException.UnknownProduct> { w.product("p-nope") }
    expectThrows<WarungException.VoucherRejected> { w.applyVoucher("LEBARAN2025") }
    expectThrows<WarungException.InvalidQuery> { w.search(searchQuery("kopi", limit = 0u)) }
    expectThrows<WarungException.UnknownCategory> { w.search(searchQuery("kopi").copy(categoryId = "c-nope")) }
    expectThrows<WarungException.InvalidQuery> { w.search(searchQuery("kopi").copy(cursor = "garbage")) }
    expectThrows<WarungException.InvalidCatalog> { runBlocking { w.importCatalogJson("{not json") } }
    // FTS syntax is just words.
    w.search(searchQuery("\"kopi* NEAR(-:"))
    val corrupt = File(dir, "corrupt.db").apply { writeBytes(ByteArray(4096) { 7 }) }
    expectThrows<WarungException.CorruptDatabase> { Warung(WarungConfig(profilePath = corrupt.path), storage) }
    expectThrows<WarungException.InvalidArgument> { Warung(WarungConfig(profilePath = File(dir, "x.db").path, locale = "fr"), storage) }
    expectThrows<WarungException.InvalidArgument> { parseMoney("5", "XYZ") }
}

test("cancel token, device id, vouchers, suspend") {
    val fresh = profile("fresh")
    val token = CancelToken()
    token.cancel()
    check(token.isCancelled())
    expectThrows<WarungException.Cancelled> { runBlocking { fresh.importDemoCatalog(token) } }
    check(fresh.catalogCursor() == 0uL)
    check(w.deviceId().length == 36)
    check(w.vouchers().any { it.code == "HEMAT10" && it.merchantId == null })
    check(w.voucher("hemat10")?.code == "HEMAT10" && w.voucher("NOPE") == null)
    check(w.merchants().size == 10)
    check(w.merchant("m-kopi-nusantara").name == "Nusantara Coffee Roasters")
    expectThrows<WarungException.UnknownMerchant> { w.merchant("m-nope") }
    check(w.variant("v-0024-1").productId == "p-0024")
    expectThrows<WarungException.UnknownVariant> { w.variant("v-nope") }
    val intents = w.outbox(5u)
    check(intents.size == 5 && intents.first().seq > intents.last().seq)
    check(intents.all { it.state == "pending" && (it.kind.startsWith("cart.") || it.kind.startsWith("voucher.")) })
    check(intents.first().payloadJson.contains("\"kind\""))
    w.checkIntegrity()
    w.suspend() // closes idle connections; the next call reopens them
    check(w.search(searchQuery("kopi")).hits.isNotEmpty())
}

test("secure storage keeps the installation secret; failures surface; panics become errors") {
    val key = "warung.installation_secret.v1"
    check(storage.map[key]?.size == 32) { "secret not stored" }
    val before = storage.puts.get()
    profile("again")
    check(storage.puts.get() == before) { "secret re-created" }
    val e = expectThrows<WarungException.Storage> { Warung(WarungConfig(profilePath = File(dir, "locked.db").path), LockedStorage()) }
    check(e.message!!.contains("keystore locked")) { "${e.message}" }
    check(coreVersion().isNotBlank())
    check(ffiEcho(42uL) == 42uL)
    check(selfCheck(false).startsWith("warung-core"))
    val p = expectThrows<WarungException.Internal> { selfCheck(true) }
    check(p.message!!.contains("self-check panic")) { "${p.message}" }
}

test("listener and Flow receive cart changes; cancel stops them") {
    val received = AtomicInteger()
    val latch = CountDownLatch(1)
    val sub = w.observeCart(object : CartListener {
        override fun onCartChanged(cart: CartView) {
            received.incrementAndGet()
            latch.countDown()
        }
    })
    w.cartAdd("v-0024-1", 1)
    check(latch.await(5, TimeUnit.SECONDS))
    sub.cancel()
    val before = received.get()
    w.cartAdd("v-0024-1", 1)
    check(received.get() == before) { "listener called after cancel" }
    val carts = runBlocking {
        coroutineScope {
            val collected = async { w.cartChanges().take(2).toList() }
            delay(200) // let the collector subscribe
            w.cartSetQuantity("v-0024-1", 4)
            w.cartSetQuantity("v-0024-1", 5)
            withTimeout(5000) { collected.await() }
        }
    }
    check(carts.map { it.groups.first().lines.first { l -> l.variantId == "v-0024-1" }.quantity } == listOf(4u, 5u))
}

test("8 threads at once") {
    val pool = Executors.newFixedThreadPool(8)
    val errors = AtomicInteger()
    val done = CountDownLatch(8)
    repeat(8) { i ->
        pool.submit {
            try {
                repeat(20) {
                    check(w.search(searchQuery(if (i % 2 == 0) "kopi" else "batik")).hits.isNotEmpty())
                    w.cartSetQuantity("v-0024-1", (it % 5 + 1).toLong())
                    w.cart()
                }
            } catch (e: Throwable) {
                errors.incrementAndGet()
                e.printStackTrace()
            } finally {
                done.countDown()
            }
        }
    }
    check(done.await(60, TimeUnit.SECONDS))
    pool.shutdown()
    check(errors.get() == 0) { "${errors.get()} errors" }
}

test("cancelling the import coroutine stops the work") {
    val big = profile("big")
    // 20,000 products with a variant each, in the wire format.
    val sb = StringBuilder("[")
    sb.append("""{"op_id":1,"op":"put","entity":{"type":"merchant","id":"m","name":"M","kind":"shop","city":"Bandung","contact":{},"policies":{"shipping":"","warranty":"","returns":""}}},""")
    sb.append("""{"op_id":2,"op":"put","entity":{"type":"category","id":"c","parent_id":null,"name":"C"}}""")
    var op = 3
    for (i in 0 until 20000) {
        sb.append(""",{"op_id":${op++},"op":"put","entity":{"type":"product","id":"p$i","merchant_id":"m","category_id":"c","title":"Produk $i kopi","description":"Deskripsi produk nomor $i","brand":null,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}}""")
        sb.append(""",{"op_id":${op++},"op":"put","entity":{"type":"variant","id":"v$i","product_id":"p$i","sku":"S$i","prices":[{"amount":{"amount":"10000","currency":"IDR"},"compare_at":null}],"stock":"in_stock","weight_grams":100}}""")
    }
    sb.append("]")
    val json = sb.toString()
    val total = (op - 1).toULong()
    runBlocking {
        val job = launch(Dispatchers.Default) { big.importCatalogJson(json) }
        delay(300)
        job.cancelAndJoin()
    }
    Thread.sleep(500) // the batch in flight finishes, then the import stops
    val cursor = big.catalogCursor()
    Thread.sleep(500)
    check(big.catalogCursor() == cursor) { "import kept going after cancel" }
    check(cursor < total) { "cursor $cursor of $total: nothing was cancelled" }
    // Resuming applies the rest; what was applied is skipped.
    val r = runBlocking { big.importCatalogJson(json) }
    check(r.cursor == total && r.skipped == cursor) { "$r" }
}

// --- sync against the real warung-server that tests/kotlin/run.sh started ------------------
val serverUrl = System.getenv("WARUNG_TEST_SERVER_URL") ?: error("WARUNG_TEST_SERVER_URL is not set (run tests/kotlin/run.sh)")
val merchantKey = System.getenv("WARUNG_TEST_MERCHANT_KEY") ?: error("WARUNG_TEST_MERCHANT_KEY is not set")
val deadUrl = System.getenv("WARUNG_TEST_DEAD_URL") ?: error("WARUNG_TEST_DEAD_URL is not set")
// A variant whose catalog op tests/sync-server.sh planted with a price no phone can store.
val quarantinedVariant = System.getenv("WARUNG_TEST_QUARANTINED_VARIANT") ?: error("WARUNG_TEST_QUARANTINED_VARIANT is not set")

/** Records every callback; optionally cancels `token` once catalog ops start arriving. */
class RecordingSyncListener(val cancelOnPull: CancelToken? = null) : SyncListener {
    val progress = java.util.concurrent.CopyOnWriteArrayList<SyncProgress>()
    val rejected = java.util.concurrent.CopyOnWriteArrayList<RejectedIntent>()
    val quarantined = java.util.concurrent.CopyOnWriteArrayList<ULong>()
    override fun onProgress(progress: SyncProgress) {
        this.progress += progress
        if (progress.opsReceived > 0uL) cancelOnPull?.cancel()
    }
    override fun onRejected(rejected: RejectedIntent) { this.rejected += rejected }
    override fun onQuarantined(count: ULong) { quarantined += count }
}

/** A profile with its own secure storage (so its own device identity) syncing with the server. */
fun syncProfile(name: String, url: String = serverUrl, options: SyncOptions = SyncOptions(pageLimit = 200u)): Warung {
    val p = Warung(WarungConfig(profilePath = File(dir, "$name.db").path), MemoryStorage())
    p.configureSync(url, options)
    return p
}

fun waitUntil(timeoutMs: Long, what: String, cond: () -> Boolean) {
    val end = System.currentTimeMillis() + timeoutMs
    while (!cond()) {
        if (System.currentTimeMillis() > end) throw AssertionError("timed out waiting for $what")
        Thread.sleep(50)
    }
}

val s = syncProfile("sync")

test("sync: the first round pulls the demo catalog; progress rises to Done") {
    expectThrows<WarungException.SyncNotConfigured> { runBlocking { w.syncNow() } }
    check(w.lastSyncError() == null && !w.isBackgroundSyncRunning())
    check(!s.isSyncRegistered() && s.catalogCursor() == 0uL)
    val listener = RecordingSyncListener()
    s.setSyncListener(listener)
    val report = runBlocking { s.syncNow() }
    check(report.catalogOps > 1000uL && report.catalogCursor == s.catalogCursor()) { "$report" }
    check(s.search(searchQuery("kopi arabika")).hits.isNotEmpty())
    check(s.merchants().size == 10)
    check(s.isSyncRegistered() && s.lastSyncError() == null)
    val received = listener.progress.map { it.opsReceived }
    check(received == received.sorted() && received.toSet().size >= 3) { "$received" }
    check(listener.progress.last().phase == SyncPhase.DONE) { "${listener.progress.last()}" }
    check(listener.progress.any { it.phase == SyncPhase.PULLING } && listener.progress.any { it.phase == SyncPhase.APPLYING })
    check(listener.progress.last().opsReceived == listener.progress.last().opsEstimatedTotal)
    // A second round has nothing new.
    check(runBlocking { s.syncNow() }.catalogOps == 0uL)
    s.setSyncListener(null)
}

test("sync: a cart edit is pushed; pending intents go to 0 (Flow of progress)") {
    s.cartAdd("v-0024-1", 2)
    s.cartSetQuantity("v-0024-1", 3)
    check(s.pendingIntents() >= 2uL) { "${s.pendingIntents()}" }
    val progress = runBlocking {
        coroutineScope {
            val done = async { s.syncProgress().takeWhile { it.phase != SyncPhase.DONE }.toList() }
            delay(200) // let the collector install its listener
            val report = s.syncNow()
            check(report.intentsApplied >= 2uL && report.intentsRejected == 0uL) { "$report" }
            withTimeout(5000) { done.await() }
        }
    }
    check(progress.any { it.phase == SyncPhase.PUSHING }) { "$progress" }
    check(s.pendingIntents() == 0uL) { "${s.pendingIntents()} pending" }
    check(s.outbox(2u).all { it.state == "applied" }) { "${s.outbox(2u)}" }
}

/** Sets a variant's one IDR price through the merchant API; returns the HTTP status. */
fun merchantSetPrice(variantId: String, price: BigDecimal): Int {
    val conn = java.net.URL("$serverUrl/v1/merchant/variants/$variantId/prices").openConnection() as java.net.HttpURLConnection
    conn.requestMethod = "PUT"
    conn.doOutput = true
    conn.setRequestProperty("Authorization", "Bearer $merchantKey")
    conn.setRequestProperty("Content-Type", "application/json")
    conn.outputStream.use {
        it.write("""{"prices":[{"amount":{"amount":"${price.toPlainString()}","currency":"IDR"},"compare_at":null}]}""".toByteArray())
    }
    try {
        return conn.responseCode
    } finally {
        conn.disconnect()
    }
}

test("sync: a merchant's price change arrives with the next round") {
    val old = s.variant("v-0024-1").prices.first().amount.amount
    val price = old + BigDecimal(1000)
    val status = merchantSetPrice("v-0024-1", price)
    check(status == 200) { "merchant API answered $status" }
    check(s.variant("v-0024-1").prices.first().amount.amount.compareTo(old) == 0) // not before a sync
    val report = runBlocking { s.syncNow() }
    check(report.catalogOps >= 1uL) { "$report" }
    val now = s.variant("v-0024-1").prices.first().amount.amount
    check(now.compareTo(price) == 0) { "price $now, expected $price" }
    val line = s.cart().groups.flatMap { it.lines }.first { it.variantId == "v-0024-1" }
    check(line.status == LineStatus.PRICE_CHANGED && line.unitPrice?.amount?.compareTo(price) == 0) { "$line" }
}

test("sync: background loop runs rounds, request_sync wakes it, stop stops it") {
    val listener = RecordingSyncListener()
    s.setSyncListener(listener)
    s.startBackgroundSync(60u)
    check(s.isBackgroundSyncRunning())
    waitUntil(10_000, "the first background round") { listener.progress.any { it.phase == SyncPhase.DONE } }
    s.cartSetQuantity("v-0024-1", 1)
    check(s.pendingIntents() > 0uL)
    s.requestSync() // long before the 60 s interval
    waitUntil(10_000, "the requested round to push the edit") { s.pendingIntents() == 0uL }
    check(s.lastSyncError() == null)
    s.stopBackgroundSync()
    check(!s.isBackgroundSyncRunning())
    s.cartSetQuantity("v-0024-1", 2)
    s.requestSync() // no loop: nothing happens
    Thread.sleep(500)
    check(s.pendingIntents() > 0uL)
    s.setSyncListener(null)
    runBlocking { s.syncNow() }
    check(s.pendingIntents() == 0uL)
}

test("sync: an unreachable server is a Network error, kept as the last error") {
    val dead = syncProfile("dead", deadUrl, SyncOptions(maxAttempts = 2u, retryBaseMs = 10uL, retryMaxMs = 50uL))
    val e = expectThrows<WarungException.Network> { runBlocking { dead.syncNow() } }
    check(e.message!!.isNotBlank())
    val last = dead.lastSyncError()
    check(last is WarungException.Network) { "$last" }
    check(!dead.isSyncRegistered())
    // The background loop records its failures too.
    dead.startBackgroundSync(1u)
    Thread.sleep(300)
    dead.stopBackgroundSync()
    check(dead.lastSyncError() is WarungException.Network)
    expectThrows<WarungException.InvalidSyncConfig> { dead.configureSync("ftp://example.com") }
    expectThrows<WarungException> { dead.configureSync(serverUrl, SyncOptions(pageLimit = 0u)) }
    // A working configuration replaces the broken one.
    dead.configureSync(serverUrl)
    runBlocking { dead.syncNow() }
    check(dead.lastSyncError() == null && dead.catalogCursor() > 0uL)
}

test("sync: cancel token and coroutine cancellation stop a round; the next one resumes") {
    val c = syncProfile("cancel", options = SyncOptions(pageLimit = 100u))
    val token = CancelToken()
    c.setSyncListener(RecordingSyncListener(cancelOnPull = token))
    expectThrows<WarungException.Cancelled> { runBlocking { c.syncNow(token) } }
    check(c.lastSyncError() is WarungException.Cancelled) { "${c.lastSyncError()}" }
    check(c.catalogCursor() == 0uL) // pages are staged: nothing half-applied
    // Cancelling the coroutine drops the call, which cancels the round.
    val started = CountDownLatch(1)
    val listener = object : SyncListener {
        override fun onProgress(progress: SyncProgress) {
            if (progress.opsReceived > 0uL) started.countDown()
            Thread.sleep(100) // a slow network: the round takes seconds
        }
        override fun onRejected(rejected: RejectedIntent) {}
        override fun onQuarantined(count: ULong) {}
    }
    c.setSyncListener(listener)
    runBlocking {
        val job = launch(Dispatchers.Default) { c.syncNow() }
        check(started.await(10, TimeUnit.SECONDS))
        job.cancelAndJoin()
        check(job.isCancelled)
    }
    Thread.sleep(300)
    check(c.catalogCursor() == 0uL) { "the cancelled round was applied" }
    c.setSyncListener(null)
    val report = runBlocking { c.syncNow() }
    check(c.catalogCursor() > 0uL && c.catalogCursor() == report.catalogCursor) { "$report" }
    check(c.search(searchQuery("kopi")).hits.isNotEmpty())
    check(c.lastSyncError() == null)
}

test("sync: a catalog entity the phone cannot store is quarantined; a valid price clears it") {
    val q = syncProfile("quarantine")
    val listener = RecordingSyncListener()
    q.setSyncListener(listener)
    check(q.catalogQuarantinedCount() == 0uL && q.catalogQuarantined().isEmpty())
    val report = runBlocking { q.syncNow() }
    check(report.catalogQuarantined == 1uL) { "$report" }
    check(listener.quarantined.toList() == listOf(1uL)) { "${listener.quarantined}" }
    check(q.catalogQuarantinedCount() == 1uL)
    val entity = q.catalogQuarantined().single()
    check(entity.kind == EntityKind.VARIANT && entity.id == quarantinedVariant) { "$entity" }
    check(entity.opId > 0uL && entity.opId <= report.catalogCursor) { "$entity $report" }
    check(entity.reason.contains("amount")) { entity.reason }
    // The rest of the catalog applied, the variant's product and its other variants included.
    expectThrows<WarungException.UnknownVariant> { q.variant(quarantinedVariant) }
    val demo = w.product(w.variant(quarantinedVariant).productId) // the bundled demo catalog
    val synced = q.product(demo.id)
    check(synced.variants.map { it.id } == demo.variants.map { it.id }.filter { it != quarantinedVariant }) { "${synced.variants}" }
    check(q.search(searchQuery(demo.title)).hits.any { it.productId == demo.id })
    check(q.search(searchQuery("kopi arabika")).hits.isNotEmpty() && q.merchants().size == 10)
    check(q.lastSyncError() == null && report.catalogCursor == q.catalogCursor())

    // The merchant sets a valid price: the next round clears the quarantine.
    val status = merchantSetPrice(quarantinedVariant, BigDecimal("61000"))
    check(status == 200) { "merchant API answered $status" }
    val fixed = runBlocking { q.syncNow() }
    check(fixed.catalogQuarantined == 0uL && fixed.catalogOps >= 1uL) { "$fixed" }
    check(q.catalogQuarantined().isEmpty() && q.catalogQuarantinedCount() == 0uL) { "${q.catalogQuarantined()}" }
    check(q.variant(quarantinedVariant).prices.single().amount.amount.compareTo(BigDecimal("61000")) == 0)
    check(q.product(demo.id).variants.map { it.id } == demo.variants.map { it.id })
    check(listener.quarantined.toList() == listOf(1uL)) { "${listener.quarantined}" }
    q.setSyncListener(null)
}

// ---------------------------------------------------------------------------------------------
// Identity: SMS OTP sign-in, SIM binding, PIN, TOTP soft token — against the real server. The
// tests play the phone's SMS side: codes are read from the server's development outbox
// (GET /v1/dev/sms with the dev token) and the binding SMS is delivered to the inbound webhook
// signed with HMAC-SHA256 as an SMS aggregator would.

val smsSecret = System.getenv("WARUNG_TEST_SMS_SECRET") ?: error("WARUNG_TEST_SMS_SECRET is not set")
val devToken = System.getenv("WARUNG_TEST_DEV_TOKEN") ?: error("WARUNG_TEST_DEV_TOKEN is not set")
val shortCode = System.getenv("WARUNG_TEST_SHORT_CODE") ?: error("WARUNG_TEST_SHORT_CODE is not set")
val resendSeconds = (System.getenv("WARUNG_TEST_OTP_RESEND_S") ?: error("WARUNG_TEST_OTP_RESEND_S is not set")).toLong()
val http: java.net.http.HttpClient = java.net.http.HttpClient.newHttpClient()

// One fresh number per use: the server rate-limits per phone.
val phoneBase = java.security.SecureRandom().nextInt(9000) + 1000
val phoneCounter = AtomicInteger()
/** A new Indonesian mobile number in national form (08…) and its E.164 form. */
fun newPhone(): Pair<String, String> {
    val rest = "%04d%04d".format(phoneBase, phoneCounter.incrementAndGet())
    return "0812$rest" to "+62812$rest"
}

fun hex(bytes: ByteArray) = bytes.joinToString("") { "%02x".format(it) }

/** The newest SMS the server "sent" to `e164` (JSON string field `text`), or null. */
fun newestSms(e164: String): String? {
    val url = "$serverUrl/v1/dev/sms?to=" + java.net.URLEncoder.encode(e164, "UTF-8") + "&limit=1"
    val req = java.net.http.HttpRequest.newBuilder(java.net.URI(url))
        .header("Authorization", "Bearer $devToken").GET().build()
    val res = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString())
    check(res.statusCode() == 200) { "dev outbox: ${res.statusCode()} ${res.body()}" }
    val m = Regex("\"text\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").find(res.body()) ?: return null
    return m.groupValues[1]
}

/** The 6-digit code of the newest SMS to `e164` (an OTP text is expected). */
fun smsCode(e164: String): String {
    val text = newestSms(e164) ?: throw AssertionError("no SMS to $e164")
    return Regex("\\b(\\d{6})\\b").find(text)?.groupValues?.get(1)
        ?: throw AssertionError("no code in SMS to $e164: $text")
}

/**
 * Moves the test server's clock forward (POST /v1/dev/clock, the server runs with --dev-clock)
 * instead of sleeping through a cool-down.
 */
fun advanceServerClock(seconds: Long) {
    val req = java.net.http.HttpRequest.newBuilder(java.net.URI("$serverUrl/v1/dev/clock"))
        .header("Authorization", "Bearer $devToken").header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"advance_s\": $seconds}")).build()
    val res = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString())
    check(res.statusCode() == 200) { "dev clock: ${res.statusCode()} ${res.body()}" }
}

/** Another 6-digit code than `code`. */
fun wrongCode(code: String) = "%06d".format((code.toInt() + 1) % 1_000_000)

fun jsonString(s: String) = "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""

/** Delivers a mobile-originated SMS as the aggregator does; returns `result` or `result/reason`. */
fun deliverSms(from: String, text: String, to: String = shortCode): String {
    val body = "{\"message_id\":${jsonString(java.util.UUID.randomUUID().toString())}," +
        "\"from\":${jsonString(from)},\"to\":${jsonString(to)},\"text\":${jsonString(text)}}"
    val ts = System.currentTimeMillis() / 1000
    val mac = javax.crypto.Mac.getInstance("HmacSHA256")
    mac.init(javax.crypto.spec.SecretKeySpec(smsSecret.toByteArray(), "HmacSHA256"))
    val signature = hex(mac.doFinal("$ts.$body".toByteArray()))
    val req = java.net.http.HttpRequest.newBuilder(java.net.URI("$serverUrl/v1/sms/inbound"))
        .header("content-type", "application/json")
        .header("x-warung-timestamp", ts.toString())
        .header("x-warung-sms-signature", signature)
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build()
    val res = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString())
    check(res.statusCode() == 200) { "inbound SMS: ${res.statusCode()} ${res.body()}" }
    val result = Regex("\"result\"\\s*:\\s*\"(\\w+)\"").find(res.body())!!.groupValues[1]
    val reason = Regex("\"reason\"\\s*:\\s*\"(\\w+)\"").find(res.body())?.groupValues?.get(1)
    return if (reason == null) result else "$result/$reason"
}

/** Registers `phone` on `p` through the SMS code; returns its E.164 form. */
fun signIn(p: Warung, phone: Pair<String, String>, purpose: OtpPurpose = OtpPurpose.REGISTER): SignedIn {
    val challenge = runBlocking { p.requestOtp(phone.first, purpose, SmsLanguage.ID) }
    return runBlocking { p.verifyOtp(challenge.challengeId, smsCode(phone.second)) }
}

/** Binds `p`'s device by the SMS from its own number. */
fun bind(p: Warung, phone: Pair<String, String>) {
    val b = runBlocking { p.beginDeviceBinding() }
    check(deliverSms(phone.first, b.smsBody) == "bound")
    val status = runBlocking { p.waitUntilBound(b.bindingId, 15u) }
    check(status.state == BindingState.BOUND)
}

test("identity: normalizePhone and checkNewPin (typed errors, non-ASCII digits)") {
    check(normalizePhone("0812-3456-7890") == "+6281234567890")
    check(normalizePhone("6281234567890") == "+6281234567890")
    check(normalizePhone("+62 812 3456 7890") == "+6281234567890")
    for (bad in listOf("", "12345", "0812", "٠٨١٢٣٤٥٦٧٨٩٠", "０８１２３４５６７８９０", "0812345678901234")) {
        val e = expectThrows<WarungException.InvalidPhone> { normalizePhone(bad) }
        check(e.message!!.contains("phone")) { "message: ${e.message}" }
    }
    checkNewPin("482916")
    for (weak in listOf("123456", "654321", "111111", "000000", "345678"))
        expectThrows<WarungException.WeakPin> { checkNewPin(weak) }
    for (bad in listOf("12345", "1234567", "12a456", "١٢٣٤٥٦", ""))
        expectThrows<WarungException.InvalidPin> { checkNewPin(bad) }
}

test("otp: RFC 4226 and RFC 6238 vectors, otpauth, base32; phone mask; SMS grammar") {
    val seed20 = "12345678901234567890".toByteArray()
    val seed32 = "12345678901234567890123456789012".toByteArray()
    val seed64 = "1234567890123456789012345678901234567890123456789012345678901234".toByteArray()
    // RFC 4226 appendix D: HOTP-SHA1, 6 digits, counters 0..9.
    val hotp = listOf("755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489")
    for ((counter, code) in hotp.withIndex())
        check(otpHotp(seed20, counter.toULong(), TotpAlgorithm.SHA1, 6u) == code) { "HOTP counter $counter" }
    // RFC 6238 appendix B: (time, SHA1, SHA256, SHA512), 8 digits, 30 s.
    val table = listOf(
        listOf("59", "94287082", "46119246", "90693936"),
        listOf("1111111109", "07081804", "68084774", "25091201"),
        listOf("1111111111", "14050471", "67062674", "99943326"),
        listOf("1234567890", "89005924", "91819424", "93441116"),
        listOf("2000000000", "69279037", "90698825", "38618901"),
        listOf("20000000000", "65353130", "77737706", "47863826"),
    )
    for (row in table) {
        val time = row[0].toULong()
        check(otpStep(time, 30uL) == time / 30uL)
        for ((algorithm, seed, code) in listOf(
            Triple(TotpAlgorithm.SHA1, seed20, row[1]),
            Triple(TotpAlgorithm.SHA256, seed32, row[2]),
            Triple(TotpAlgorithm.SHA512, seed64, row[3]),
        )) {
            val got = otpTotp(seed, time, algorithm, 8u, 30uL)
            check(got == code) { "$algorithm at $time: $got, RFC 6238 says $code" }
            check(otpVerifyTotp(seed, code, time, algorithm, 8u, 30uL, 0uL) == time / 30uL) { "$algorithm at $time" }
        }
    }
    // The verify window: ±1 step accepted (at that step), ±2 refused, a wrong code refused.
    val now = 1_700_000_000uL
    val origin = otpStep(now, 30uL)
    for (delta in -2..2) {
        val at = (now.toLong() + delta * 30).toULong()
        val code = otpTotp(seed20, at, TotpAlgorithm.SHA1, 6u, 30uL)
        val found = otpVerifyTotp(seed20, code, now, TotpAlgorithm.SHA1, 6u, 30uL, 1uL)
        if (delta in -1..1) check(found == (origin.toLong() + delta).toULong()) { "delta $delta: $found" }
        else check(found == null) { "delta $delta accepted at $found" }
    }
    val right = otpTotp(seed20, now, TotpAlgorithm.SHA1, 6u, 30uL)
    val wrong = "%06d".format((right.toInt() + 1) % 1_000_000)
    check(otpVerifyTotp(seed20, wrong, now, TotpAlgorithm.SHA1, 6u, 30uL, 0uL) == null)
    // Bad input is InvalidOtpInput, and the message says which input.
    for (digits in listOf(0u, 5u, 9u, 10u)) {
        val e = expectThrows<WarungException.InvalidOtpInput> { otpHotp(seed20, 0uL, TotpAlgorithm.SHA1, digits) }
        check(e.message!!.startsWith("digits:")) { "message: ${e.message}" }
        expectThrows<WarungException.InvalidOtpInput> { otpTotp(seed20, 59uL, TotpAlgorithm.SHA1, digits, 30uL) }
        expectThrows<WarungException.InvalidOtpInput> { otpVerifyTotp(seed20, "123456", 59uL, TotpAlgorithm.SHA1, digits, 30uL, 1uL) }
    }
    val short = expectThrows<WarungException.InvalidOtpInput> { otpTotp(ByteArray(15), 59uL, TotpAlgorithm.SHA1, 6u, 30uL) }
    check(short.message!!.startsWith("secret:")) { "message: ${short.message}" }
    val period = expectThrows<WarungException.InvalidOtpInput> { otpTotp(seed20, 59uL, TotpAlgorithm.SHA1, 6u, 0uL) }
    check(period.message!!.startsWith("period:")) { "message: ${period.message}" }
    for (bad in listOf("", "12345", "1234567", "12a456", "١٢٣٤٥٦")) {
        val e = expectThrows<WarungException.InvalidOtpInput> { otpVerifyTotp(seed20, bad, now, TotpAlgorithm.SHA1, 6u, 30uL, 1uL) }
        check(e.message!!.startsWith("code:")) { "$bad: ${e.message}" }
    }
    // otpauth URI: secret in base32, issuer and account percent-encoded, parameters always written.
    check(otpauthUri(seed20, "Warung Pay", "+6281234567890", TotpAlgorithm.SHA256, 8u, 60uL) ==
        "otpauth://totp/Warung%20Pay:%2B6281234567890?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
        "&issuer=Warung%20Pay&algorithm=SHA256&digits=8&period=60")
    val uri = otpauthUri(seed64, "Warung", "budi", TotpAlgorithm.SHA512, 6u, 30uL)
    check(uri.contains("secret=" + base32Encode(seed64) + "&") && uri.contains("issuer=Warung") && uri.contains("algorithm=SHA512")) { uri }
    // base32: RFC 4648 section 10 vectors (unpadded), lenient decoding, round trips, refusals.
    for ((text, b32) in listOf("" to "", "f" to "MY", "fo" to "MZXQ", "foo" to "MZXW6", "foob" to "MZXW6YQ",
                               "fooba" to "MZXW6YTB", "foobar" to "MZXW6YTBOI")) {
        check(base32Encode(text.toByteArray()) == b32) { "base32($text) = ${base32Encode(text.toByteArray())}" }
        check(String(base32Decode(b32)) == text)
    }
    check(base32Decode("mzxw 6ytb oi======").contentEquals("foobar".toByteArray()))
    val random = java.util.Random(20260515)
    for (len in 0..41) {
        val bytes = ByteArray(len).also { random.nextBytes(it) }
        check(base32Decode(base32Encode(bytes)).contentEquals(bytes)) { "round trip of $len bytes" }
    }
    for (bad in listOf("GEZD1", "GEZDGNBV0", "A", "ABC", "MZXW6YTBOJ", "MZXW6YTBO٩")) {
        val e = expectThrows<WarungException.InvalidOtpInput> { base32Decode(bad) }
        check(e.message!!.startsWith("secret:")) { "$bad: ${e.message}" }
    }
    // Phone masking.
    check(maskPhone("+6281234567890") == "+62812****890")
    check(maskPhone(normalizePhone("0812-3456-7890")) == "+62812****890")
    check(maskPhone("+14155550123") == "+14155****123")
    check(maskPhone("+1") == "**")
    // SMS grammar.
    check(parseSmsCommand("wrg bind 7f3kq9") == SmsCommand.Bind("7F3KQ9"))
    check(parseSmsCommand("  Wrg   Bind\t7F3KQ9\r\n") == SmsCommand.Bind("7F3KQ9"))
    check(smsBindBody("ABC234") == "WRG BIND ABC234")
    check(parseSmsCommand(smsBindBody("ABC234")) == SmsCommand.Bind("ABC234"))
    check(isSmsBindToken("7F3KQ9") && !isSmsBindToken("7F3KQ0") && !isSmsBindToken("7f3kq9") && !isSmsBindToken("7F3KQ"))
    for ((text, code) in listOf("Halo" to "not_warung", "" to "not_warung", "WRG" to "unknown_command",
                                "WRG SALDO" to "unknown_command", "WRG BIND" to "bad_arguments",
                                "WRG BIND 7F3KQ0" to "bad_arguments", "WRG BIND 7F3KQ9 X" to "bad_arguments")) {
        val e = expectThrows<WarungException.InvalidSmsCommand> { parseSmsCommand(text) }
        check(e.message!!.startsWith("$code:")) { "$text: ${e.message}" }
    }
}

test("identity: calls without a session are NotSignedIn; without configureSync SyncNotConfigured") {
    expectThrows<WarungException.SyncNotConfigured> {
        runBlocking { w.requestOtp("081234567890", OtpPurpose.REGISTER, SmsLanguage.ID) }
    }
    val p = syncProfile("anon")
    check(!p.isSignedIn())
    check(!p.isDeviceBound())
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.account() } }
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.beginDeviceBinding() } }
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.devices() } }
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.requestStepUp(StepUpAction.PIN_CHANGE) } }
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.verifyPin("482916") } }
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.setPin("482916") } }
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.enrollTotp() } }
    expectThrows<WarungException.TotpNotEnrolled> { p.totpCode() }
    expectThrows<WarungException.TotpNotEnrolled> { p.totpUri() }
    runBlocking { p.logout() } // nothing to end: not an error
}

test("identity: requestOtp refuses bad numbers; wrong code OtpRejected with attempts left; resend RateLimited") {
    val p = syncProfile("otp")
    for (bad in listOf("12345", "０８１２３４５６７８９０", "08١٢٣٤٥٦٧٨٩٠"))
        expectThrows<WarungException.InvalidPhone> {
            runBlocking { p.requestOtp(bad, OtpPurpose.REGISTER, SmsLanguage.ID) }
        }
    val phone = newPhone()
    check(newestSms(phone.second) == null) { "fresh number already has SMS" }
    val c = runBlocking { p.requestOtp(phone.first, OtpPurpose.LOGIN, SmsLanguage.EN) }
    check(c.phone == phone.second && c.purpose == OtpPurpose.LOGIN && c.digits == 6u) { "$c" }
    // A second code at once: the resend cool-down (asked right away, well inside it).
    val r = expectThrows<WarungException.RateLimited> {
        runBlocking { p.requestOtp(phone.first, OtpPurpose.LOGIN, SmsLanguage.EN) }
    }
    check(Regex("try again in [1-9]\\d* s").containsMatchIn(r.message!!)) { "message: ${r.message}" }
    val now = java.time.Instant.now()
    check(c.expiresAt.isAfter(now) && c.resendAfter.isAfter(now)) { "$c" }
    check(newestSms(phone.second)!!.startsWith("Your Warung code is")) { "English text" }
    val code = smsCode(phone.second)
    val e = expectThrows<WarungException.OtpRejected> { runBlocking { p.verifyOtp(c.challengeId, wrongCode(code)) } }
    check(e.message!!.contains("otp_invalid") && e.message!!.contains("4 attempts left")) { "message: ${e.message}" }
    check(!p.isSignedIn())
    val signedIn = runBlocking { p.verifyOtp(c.challengeId, code) }
    check(signedIn.phone == phone.second && signedIn.newUser) { "$signedIn" }
    check(p.isSignedIn())
    // Single use.
    val used = expectThrows<WarungException.OtpRejected> { runBlocking { p.verifyOtp(c.challengeId, code) } }
    check(used.message!!.contains("otp_used")) { "message: ${used.message}" }
}

test("identity: the full flow — OTP, SIM binding by SMS, PIN, TOTP, devices, logout") {
    val p = syncProfile("flow")
    val phone = newPhone()
    val c = runBlocking { p.requestOtp(phone.first, OtpPurpose.REGISTER, SmsLanguage.ID) }
    check(c.purpose == OtpPurpose.REGISTER && c.phone == phone.second)
    check(newestSms(phone.second)!!.startsWith("Kode OTP Warung")) { "Indonesian text" }
    val signedIn = runBlocking { p.verifyOtp(c.challengeId, smsCode(phone.second)) }
    check(signedIn.newUser && signedIn.phone == phone.second && signedIn.userId.isNotEmpty())
    check(p.isSignedIn() && !p.isDeviceBound())
    val account = runBlocking { p.account() }
    check(account.userId == signedIn.userId && account.phone == phone.second) { "$account" }
    check(account.deviceId == p.deviceId() && !account.deviceBound && !account.pinSet && !account.totpEnrolled) { "$account" }
    check(account.pinLockedUntil == null)
    // Money-moving calls need the bound device.
    expectThrows<WarungException.DeviceNotBound> { runBlocking { p.setPin("482916") } }

    val b = runBlocking { p.beginDeviceBinding() }
    check(b.shortCode == shortCode && Regex("^WRG BIND [0-9A-Z]{6}$").matches(b.smsBody)) { "$b" }
    check(b.expiresAt.isAfter(java.time.Instant.now()))
    // The binding SMS from another number is refused; the binding stays pending.
    check(deliverSms(newPhone().first, b.smsBody) == "refused/wrong_sender")
    check(runBlocking { p.bindingStatus(b.bindingId) }.state == BindingState.PENDING)
    expectThrows<WarungException.BindingTimedOut> { runBlocking { p.waitUntilBound(b.bindingId, 1u) } }
    check(!p.isDeviceBound())
    // A cancelled wait ends with Cancelled.
    val token = CancelToken()
    // A daemon thread: a non-daemon executor left behind would keep the JVM (and CI) waiting.
    Thread { Thread.sleep(300); token.cancel() }.apply { isDaemon = true }.start()
    val started = System.nanoTime()
    expectThrows<WarungException.Cancelled> { runBlocking { p.waitUntilBound(b.bindingId, 30u, token) } }
    check((System.nanoTime() - started) / 1_000_000 < 5_000) { "cancel was slow" }
    // So does cancelling the coroutine (no token).
    runBlocking {
        val job = launch(Dispatchers.Default) { p.waitUntilBound(b.bindingId, 30u) }
        delay(300)
        withTimeout(5_000) { job.cancelAndJoin() }
        check(job.isCancelled)
    }
    // From the account's own number (as the network may report it: national form) it binds.
    check(deliverSms(phone.first, b.smsBody) == "bound")
    val status = runBlocking { p.waitUntilBound(b.bindingId, 15u) }
    check(status.state == BindingState.BOUND && status.boundAt != null && status.deviceId == p.deviceId()) { "$status" }
    check(p.isDeviceBound())
    // The same token again is not a second binding.
    check(deliverSms(phone.first, b.smsBody) == "refused/token_used")

    expectThrows<WarungException.PinNotSet> { runBlocking { p.verifyPin("482916") } }
    expectThrows<WarungException.WeakPin> { runBlocking { p.setPin("123456") } }
    expectThrows<WarungException.InvalidPin> { runBlocking { p.setPin("12345") } }
    runBlocking { p.setPin("482916") }
    runBlocking { p.verifyPin("482916") }
    val wrong = expectThrows<WarungException.PinIncorrect> { runBlocking { p.verifyPin("482917") } }
    check(wrong.message!!.contains("4 attempts left")) { "message: ${wrong.message}" }
    runBlocking { p.verifyPin("482916") } // right again: the counter resets
    val wrong2 = expectThrows<WarungException.PinIncorrect> { runBlocking { p.verifyPin("000001") } }
    check(wrong2.message!!.contains("4 attempts left")) { "message: ${wrong2.message}" }
    runBlocking { p.verifyPin("482916") }

    val e = runBlocking { p.enrollTotp() }
    check(e.issuer == "Warung" && e.account == phone.second && e.algorithm == TotpAlgorithm.SHA1) { "$e" }
    check(e.digits == 6u && e.periodS == 30uL && e.otpauthUri.startsWith("otpauth://totp/")) { "$e" }
    check(e.otpauthUri.contains("secret=")) { e.otpauthUri }
    check(p.totpUri() == e.otpauthUri)
    expectThrows<WarungException.TotpAlreadyEnrolled> { runBlocking { p.enrollTotp() } }
    // Offline codes: a pure function of the step.
    val t = 1_700_000_000uL
    val at = p.totpCodeAt(t)
    check(at.step == t / 30uL && at.validForS == 30uL - t % 30uL && Regex("^\\d{6}$").matches(at.code)) { "$at" }
    check(p.totpCodeAt(t - t % 30uL).code == at.code && p.totpCodeAt(t - t % 30uL + 29uL).code == at.code)
    var code = p.totpCode()
    if (code.validForS < 3uL) { Thread.sleep(code.validForS.toLong() * 1000 + 200); code = p.totpCode() }
    check(Regex("^\\d{6}$").matches(code.code) && code.validForS in 1uL..30uL) { "$code" }
    val nowS = System.currentTimeMillis() / 1000
    check(code.step == nowS.toULong() / 30uL || code.step + 1uL == nowS.toULong() / 30uL) { "$code" }
    // A code that matches none of the accepted steps is refused.
    val near = (code.step - 1uL..code.step + 1uL).map { p.totpCodeAt(it * 30uL).code }.toSet()
    val bad = (0..9).map { "%06d".format(it * 111_111 + 7) }.first { it !in near }
    val rej = expectThrows<WarungException.TotpRejected> { runBlocking { p.confirmTotp(bad) } }
    check(rej.message!!.contains("totp_invalid")) { "message: ${rej.message}" }
    val step = runBlocking { p.confirmTotp(code.code) }
    check(step == code.step) { "matched $step, code of ${code.step}" }
    val replay = expectThrows<WarungException.TotpRejected> { runBlocking { p.confirmTotp(code.code) } }
    check(replay.message!!.contains("totp_replayed")) { "message: ${replay.message}" }

    val after = runBlocking { p.account() }
    check(after.deviceBound && after.pinSet && after.totpEnrolled) { "$after" }
    val devices = runBlocking { p.devices() }
    check(devices.size == 1) { "$devices" }
    val d = devices.single()
    check(d.deviceId == p.deviceId() && d.current && d.bound && d.revokedAt == null && d.boundAt != null) { "$d" }
    check(Regex("^[0-9a-f]{16}$").matches(d.keyFingerprint ?: "")) { "$d" }

    runBlocking { p.logout() }
    check(!p.isSignedIn())
    expectThrows<WarungException.NotSignedIn> { runBlocking { p.account() } }
}

test("identity: TOTP reset with the PIN and a step-up code, then enrol again") {
    val p = syncProfile("totp-reset")
    val phone = newPhone()
    signIn(p, phone)
    bind(p, phone)
    runBlocking { p.setPin("482916") }
    runBlocking { p.enrollTotp() }
    // The enrolment answer was lost: enrolling again is refused until a reset.
    expectThrows<WarungException.TotpAlreadyEnrolled> { runBlocking { p.enrollTotp() } }
    expectThrows<WarungException.StepUpRequired> { runBlocking { p.resetTotp("482916", "no-such-challenge") } }
    advanceServerClock(resendSeconds) // the per-phone resend cool-down
    val c = runBlocking { p.requestStepUp(StepUpAction.TOTP_RESET) }
    val grant = runBlocking { p.verifyStepUp(c.challengeId, smsCode(phone.second)) }
    val wrong = expectThrows<WarungException.PinIncorrect> { runBlocking { p.resetTotp("000001", grant.challengeId) } }
    check(wrong.message!!.contains("4 attempts left")) { "message: ${wrong.message}" }
    p.totpCode() // a refused reset keeps the secret
    runBlocking { p.resetTotp("482916", grant.challengeId) }
    expectThrows<WarungException.TotpNotEnrolled> { p.totpCode() }
    check(!runBlocking { p.account() }.totpEnrolled)
    val e = runBlocking { p.enrollTotp() }
    check(e.otpauthUri.startsWith("otpauth://totp/")) { "$e" }
    // The grant was used up by the reset.
    expectThrows<WarungException.StepUpRequired> { runBlocking { p.resetTotp("482916", grant.challengeId) } }
}

test("identity: step-up PIN change; a second device signs in and is revoked") {
    val p = syncProfile("stepup")
    val phone = newPhone()
    val me = signIn(p, phone)
    bind(p, phone)
    runBlocking { p.setPin("482916") }
    // Changing without a step-up grant is refused.
    expectThrows<WarungException.StepUpRequired> { runBlocking { p.changePin("482916", "730158", "no-such-challenge") } }
    advanceServerClock(resendSeconds) // the per-phone resend cool-down
    val c = runBlocking { p.requestStepUp(StepUpAction.PIN_CHANGE) }
    check(c.purpose == OtpPurpose.STEP_UP && c.phone == phone.second) { "$c" }
    val code = smsCode(phone.second)
    val e = expectThrows<WarungException.OtpRejected> { runBlocking { p.verifyStepUp(c.challengeId, wrongCode(code)) } }
    check(e.message!!.contains("attempts left")) { "message: ${e.message}" }
    // A step-up code does not sign anyone in.
    expectThrows<WarungException.OtpRejected> { runBlocking { syncProfile("thief").verifyOtp(c.challengeId, code) } }
    val grant = runBlocking { p.verifyStepUp(c.challengeId, code) }
    check(grant.challengeId == c.challengeId && Regex("^[0-9a-f]{64}$").matches(grant.txDigest)) { "$grant" }
    check(grant.expiresAt.isAfter(java.time.Instant.now()))
    expectThrows<WarungException.PinIncorrect> { runBlocking { p.changePin("000001", "730158", grant.challengeId) } }
    runBlocking { p.changePin("482916", "730158", grant.challengeId) }
    runBlocking { p.verifyPin("730158") }
    expectThrows<WarungException.PinIncorrect> { runBlocking { p.verifyPin("482916") } }
    // The grant was consumed.
    expectThrows<WarungException.StepUpRequired> { runBlocking { p.changePin("730158", "294817", grant.challengeId) } }
    // Wrong PINs lock money movement: then even the right PIN is refused, with the wait.
    val locked = (1..6).firstNotNullOfOrNull {
        try { runBlocking { p.verifyPin("000001") }; throw AssertionError("wrong PIN accepted") }
        catch (e: WarungException.PinIncorrect) { null }
        catch (e: WarungException.PinLocked) { e }
    } ?: throw AssertionError("no PinLocked after 6 wrong PINs")
    check(Regex("try again in [1-9]\\d* s").containsMatchIn(locked.message!!)) { "message: ${locked.message}" }
    val right = expectThrows<WarungException.PinLocked> { runBlocking { p.verifyPin("730158") } }
    check(right.message!!.contains("try again in")) { "message: ${right.message}" }
    check(runBlocking { p.account() }.pinLockedUntil?.isAfter(java.time.Instant.now()) == true)

    // The same user on a second installation: a login, not a new account.
    advanceServerClock(resendSeconds)
    val q = syncProfile("stepup-2")
    val again = signIn(q, phone, OtpPurpose.LOGIN)
    check(again.userId == me.userId && !again.newUser) { "$again" }
    val list = runBlocking { p.devices() }
    check(list.map { it.deviceId }.toSet() == setOf(p.deviceId(), q.deviceId())) { "$list" }
    check(list.single { it.current }.deviceId == p.deviceId())
    runBlocking { p.revokeDevice(q.deviceId()) }
    expectThrows<WarungException.SessionExpired> { runBlocking { q.account() } }
    check(!q.isSignedIn())
}

dir.deleteRecursively()
println()
println("kotlin: $passed passed, $failed failed")
// Exit explicitly: a thread some test left running must not keep the JVM alive.
kotlin.system.exitProcess(if (failed > 0) 1 else 0)
