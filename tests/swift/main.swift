// The Swift API of warung-core, run on Linux in a Debian trixie chroot against the library
// just built. Run by tests/swift/run.sh; the last line is "swift: N passed, M failed".
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

var passed = 0
var failed = 0

@MainActor
func test(_ name: String, _ body: () async throws -> Void) async {
    do {
        try await body()
        passed += 1
        print("ok   \(name)")
    } catch {
        failed += 1
        print("FAIL \(name): \(error)")
    }
}

struct CheckFailed: Error, CustomStringConvertible {
    let description: String
}

func check(_ cond: Bool, _ msg: @autoclosure () -> String = "check failed") throws {
    if !cond { throw CheckFailed(description: msg()) }
}

func expectError(_ matches: (WarungError) -> Bool, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as WarungError {
        if matches(e) { return }
        throw CheckFailed(description: "unexpected error \(e)")
    }
    throw CheckFailed(description: "expected an error, nothing thrown")
}

/// In-memory secure storage (an app uses the Keychain).
final class MemoryStorage: SecureStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: Data] = [:]
    private(set) var puts = 0
    func get(key: String) throws -> Data? { lock.lock(); defer { lock.unlock() }; return map[key] }
    func put(key: String, value: Data) throws { lock.lock(); defer { lock.unlock() }; puts += 1; map[key] = value }
    func delete(key: String) throws { lock.lock(); defer { lock.unlock() }; map[key] = nil }
}

final class LockedStorage: SecureStorage, @unchecked Sendable {
    func get(key: String) throws -> Data? { throw SecureStorageError.Failed(reason: "keychain locked") }
    func put(key: String, value: Data) throws { throw SecureStorageError.Failed(reason: "keychain locked") }
    func delete(key: String) throws {}
}

let storage = MemoryStorage()
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warung-swift-\(getpid())")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
func profile(_ name: String) throws -> Warung {
    try Warung(config: WarungConfig(profilePath: dir.appendingPathComponent("\(name).db").path, locale: "id-ID", currency: "IDR"), storage: storage)
}

// README example (kept in sync with README.md "Swift").
await test("readme example") {
    let warung = try Warung(config: WarungConfig(profilePath: dir.appendingPathComponent("readme.db").path), storage: MemoryStorage())
    _ = try await warung.importDemoCatalog()
    let page = try warung.search(query: searchQuery("kopi arabika"))
    let detail = try warung.product(productId: page.hits[0].productId)
    let variant = detail.variants.first { $0.stock != .out }!
    let cart = try warung.cartAdd(variantId: variant.id, quantity: 2)
    print("  total: " + (try warung.format(money: cart.total)))
    try check(try warung.format(money: cart.total).hasPrefix("Rp"))
}

let w = try profile("main")

await test("import the demo catalog (async) and re-import idempotently") {
    let r = try await w.importDemoCatalog()
    try check(r.applied > 1000, "applied \(r.applied)")
    let again = try await w.importDemoCatalog()
    try check(again.applied == 0 && again.skipped == r.applied, "\(again)")
    try check(try w.catalogCursor() == r.cursor)
}

await test("search with filters, sorts, snippet and pagination") {
    let page = try w.search(query: searchQuery("kopi"))
    try check(!page.hits.isEmpty)
    try check(page.hits[0].snippet?.contains("**") == true)
    let filtered = try w.search(query: SearchQuery(text: "kopi", categoryId: "c-kopi-minuman",
        minPrice: Decimal(50000), maxPrice: Decimal(300000), inStockOnly: true, sort: .priceAsc, limit: 5))
    try check(!filtered.hits.isEmpty)
    let prices = filtered.hits.map { $0.priceMin.amount }
    try check(prices == prices.sorted(), "\(prices)")
    try check(prices.allSatisfy { $0 >= 50000 && $0 <= 300000 })
    try check(filtered.hits.allSatisfy { $0.stock != .out })
    var q = searchQuery("batik", limit: 7)
    var seen: [String] = []
    while true {
        let p = try w.search(query: q)
        seen += p.hits.map { $0.productId }
        guard let next = p.nextCursor else { break }
        q.cursor = next
    }
    try check(Set(seen).count == seen.count && seen.count > 7, "\(seen.count)")
    try check(!(try w.search(query: searchQuery("pembelian "))).hits.isEmpty)
}

await test("facets and categories") {
    let f = try w.facets(query: searchQuery("batik"))
    try check(f.total > 0 && f.priceBands.count == 5)
    try check(f.priceBands.reduce(0) { $0 + $1.count } == f.total)
    let cats = try w.categories()
    try check(cats.contains { $0.depth == 0 } && cats.contains { $0.depth == 1 })
    try check(cats.first { $0.id == "c-kopi-minuman" }!.productCount > 0)
}

await test("product detail with variants, Decimal prices") {
    let d = try w.product(productId: "p-0024")
    try check(!d.variants.isEmpty)
    let price = d.variants[0].prices.first { $0.amount.currency == "IDR" }!.amount
    try check(price.amount > 0)
    try check(!d.merchant.shippingPolicy.isEmpty)
    try check(!d.categoryPath.isEmpty)
    try check(d.createdAt.timeIntervalSince1970 > 0)
}

await test("cart add, set, remove, vouchers, grouped by merchant") {
    _ = try w.cartClear()
    var cart = try w.cartAdd(variantId: "v-0024-1", quantity: 2)
    try check(cart.itemCount == 2)
    cart = try w.cartSetQuantity(variantId: "v-0024-1", quantity: 3)
    try check(cart.groups[0].lines[0].quantity == 3)
    let first = cart.groups[0].merchantId
    let batik = try w.search(query: searchQuery("kemeja batik")).hits.first { $0.merchantId != first }!
    let variant = try w.product(productId: batik.productId).variants.first { $0.stock == .inStock }!
    cart = try w.cartAdd(variantId: variant.id, quantity: 1)
    try check(cart.groups.count == 2, "\(cart.groups.count) groups")
    cart = try w.applyVoucher(code: "hemat10")
    try check(cart.platformVoucher?.code == "HEMAT10")
    try check(cart.discount.amount > 0)
    try check(cart.total.amount == cart.subtotal.amount - cart.discount.amount)
    cart = try w.removeVoucher(code: "HEMAT10")
    try check(cart.platformVoucher == nil)
    cart = try w.cartRemove(variantId: variant.id)
    try check(cart.groups.count == 1)
    try check(try w.pendingIntents() >= 5)
}

await test("id-ID and en formatting, strict parsing") {
    let m = Money(amount: Decimal(125000), currency: "IDR")
    let shown = try w.format(money: m)
    try check(shown == "Rp125.000", shown)
    try check(try formatMoney(money: m, localeTag: "en") == "IDR 125,000")
    try check(try parseMoney(text: "125000.00", currencyCode: "IDR") == m)
    try await expectError({ if case .InvalidMoney = $0 { return true }; return false }) {
        _ = try parseMoney(text: "125000.5", currencyCode: "IDR")
    }
    try await expectError({ if case .InvalidMoney = $0 { return true }; return false }) {
        _ = try parseMoney(text: "1e3", currencyCode: "IDR")
    }
    try await expectError({ if case .InvalidArgument = $0 { return true }; return false }) {
        _ = try parseMoney(text: "5", currencyCode: "XYZ")
    }
}

await test("typed errors: bad quantity, unknown variant, voucher, bad query") {
    for q: Int64 in [0, 100, -1] {
        try await expectError({ if case .InvalidQuantity = $0 { return true }; return false }) {
            _ = try w.cartSetQuantity(variantId: "v-0024-1", quantity: q)
        }
    }
    try await expectError({ if case .UnknownVariant = $0 { return true }; return false }) {
        _ = try w.cartAdd(variantId: "v-nope", quantity: 1)
    }
    try await expectError({ if case .UnknownProduct = $0 { return true }; return false }) {
        _ = try w.product(productId: "p-nope")
    }
    try await expectError({ if case .VoucherRejected = $0 { return true }; return false }) {
        _ = try w.applyVoucher(code: "LEBARAN2025")
    }
    try await expectError({ if case .InvalidQuery = $0 { return true }; return false }) {
        _ = try w.search(query: searchQuery("kopi", limit: 0))
    }
    try await expectError({ if case .UnknownCategory = $0 { return true }; return false }) {
        var q = searchQuery("kopi")
        q.categoryId = "c-nope"
        _ = try w.search(query: q)
    }
    try await expectError({ if case .InvalidCatalog = $0 { return true }; return false }) {
        _ = try await w.importCatalogJson(opsJson: "{not json")
    }
    _ = try w.search(query: searchQuery("\"kopi* NEAR(-:"))
    let corrupt = dir.appendingPathComponent("corrupt.db")
    try Data(repeating: 7, count: 4096).write(to: corrupt)
    try await expectError({ if case .CorruptDatabase = $0 { return true }; return false }) {
        _ = try Warung(config: WarungConfig(profilePath: corrupt.path), storage: storage)
    }
}

await test("cancel token, device id, vouchers, suspend") {
    let fresh = try profile("fresh")
    let token = CancelToken()
    token.cancel()
    try check(token.isCancelled())
    try await expectError({ if case .Cancelled = $0 { return true }; return false }) {
        _ = try await fresh.importDemoCatalog(cancel: token)
    }
    try check(try fresh.catalogCursor() == 0)
    try check(try w.deviceId().count == 36)
    try check(try w.vouchers().contains { $0.code == "HEMAT10" && $0.merchantId == nil })
    try check(try w.voucher(code: "hemat10")?.code == "HEMAT10")
    try check(try w.voucher(code: "NOPE") == nil)
    try check(try w.merchants().count == 10)
    try check(try w.merchant(merchantId: "m-kopi-nusantara").name == "Nusantara Coffee Roasters")
    try await expectError({ if case .UnknownMerchant = $0 { return true }; return false }) {
        _ = try w.merchant(merchantId: "m-nope")
    }
    try check(try w.variant(variantId: "v-0024-1").productId == "p-0024")
    try await expectError({ if case .UnknownVariant = $0 { return true }; return false }) {
        _ = try w.variant(variantId: "v-nope")
    }
    let intents = try w.outbox(limit: 5)
    try check(intents.count == 5 && intents.first!.seq > intents.last!.seq)
    try check(intents.allSatisfy { $0.state == "pending" })
    try check(intents.first!.payloadJson.contains("\"kind\""))
    try w.checkIntegrity()
    w.suspend()
    try check(!(try w.search(query: searchQuery("kopi"))).hits.isEmpty)
}

await test("secure storage keeps the installation secret; failures surface; panics become errors") {
    try check((try storage.get(key: "warung.installation_secret.v1"))?.count == 32)
    let before = storage.puts
    _ = try profile("again")
    try check(storage.puts == before, "secret re-created")
    try await expectError({ if case .Storage(let m) = $0 { return m.contains("keychain locked") }; return false }) {
        _ = try Warung(config: WarungConfig(profilePath: dir.appendingPathComponent("locked.db").path), storage: LockedStorage())
    }
    try check(!coreVersion().isEmpty)
    try check(ffiEcho(value: 42) == 42)
    try check(try selfCheck(triggerPanic: false).hasPrefix("warung-core"))
    try await expectError({ if case .Internal(let m) = $0 { return m.contains("self-check panic") }; return false }) {
        _ = try selfCheck(triggerPanic: true)
    }
}

final class Counter: CartListener, @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
    func onCartChanged(cart: CartView) { lock.lock(); n += 1; lock.unlock() }
}

await test("listener and AsyncStream receive cart changes; cancel stops them") {
    let counter = Counter()
    let sub = w.observeCart(listener: counter)
    _ = try w.cartAdd(variantId: "v-0024-1", quantity: 1)
    try check(counter.count == 1, "\(counter.count)")
    sub.cancel()
    _ = try w.cartAdd(variantId: "v-0024-1", quantity: 1)
    try check(counter.count == 1, "listener called after cancel")
    let stream = w.cartChanges()
    let collector = Task { () -> [UInt32] in
        var qs: [UInt32] = []
        for await cart in stream {
            qs.append(cart.groups[0].lines.first { $0.variantId == "v-0024-1" }!.quantity)
            if qs.count == 2 { break }
        }
        return qs
    }
    try await Task.sleep(nanoseconds: 200_000_000)
    _ = try w.cartSetQuantity(variantId: "v-0024-1", quantity: 4)
    _ = try w.cartSetQuantity(variantId: "v-0024-1", quantity: 5)
    let qs = await collector.value
    try check(qs == [4, 5], "\(qs)")
}

await test("8 tasks at once") {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for i in 0..<8 {
            group.addTask {
                for j in 0..<20 {
                    let hits = try w.search(query: searchQuery(i % 2 == 0 ? "kopi" : "batik")).hits
                    try check(!hits.isEmpty)
                    _ = try w.cartSetQuantity(variantId: "v-0024-1", quantity: Int64(j % 5 + 1))
                    _ = try w.cart()
                }
            }
        }
        try await group.waitForAll()
    }
}

await test("cancelling the import task stops the work") {
    let big = try profile("big")
    var json = "["
    json += #"{"op_id":1,"op":"put","entity":{"type":"merchant","id":"m","name":"M","kind":"shop","city":"Bandung","contact":{},"policies":{"shipping":"","warranty":"","returns":""}}},"#
    json += #"{"op_id":2,"op":"put","entity":{"type":"category","id":"c","parent_id":null,"name":"C"}}"#
    var op = 3
    for i in 0..<20000 {
        json += #",{"op_id":\#(op),"op":"put","entity":{"type":"product","id":"p\#(i)","merchant_id":"m","category_id":"c","title":"Produk \#(i) kopi","description":"Deskripsi produk nomor \#(i)","brand":null,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}}"#
        op += 1
        json += #",{"op_id":\#(op),"op":"put","entity":{"type":"variant","id":"v\#(i)","product_id":"p\#(i)","sku":"S\#(i)","prices":[{"amount":{"amount":"10000","currency":"IDR"},"compare_at":null}],"stock":"in_stock","weight_grams":100}}"#
        op += 1
    }
    json += "]"
    let total = UInt64(op - 1)
    let opsJson = json
    let task = Task { try await big.importCatalog(json: opsJson) }
    try await Task.sleep(nanoseconds: 300_000_000)
    task.cancel()
    _ = try? await task.value
    try await Task.sleep(nanoseconds: 500_000_000)
    let cursor = try big.catalogCursor()
    try await Task.sleep(nanoseconds: 500_000_000)
    try check(try big.catalogCursor() == cursor, "import kept going after cancel")
    try check(cursor < total, "cursor \(cursor) of \(total): nothing was cancelled")
    let r = try await big.importCatalogJson(opsJson: opsJson)
    try check(r.cursor == total && r.skipped == cursor, "\(r)")
}

// --- sync against the real warung-server that tests/swift/run.sh started (on the host: the
// chroot shares its loopback) ----------------------------------------------------------------
let env = ProcessInfo.processInfo.environment
guard let serverUrl = env["WARUNG_TEST_SERVER_URL"], let merchantKey = env["WARUNG_TEST_MERCHANT_KEY"],
      let deadUrl = env["WARUNG_TEST_DEAD_URL"] else {
    fatalError("WARUNG_TEST_SERVER_URL, WARUNG_TEST_MERCHANT_KEY, WARUNG_TEST_DEAD_URL are not set (run tests/swift/run.sh)")
}
// A variant whose catalog op tests/sync-server.sh planted with a price no phone can store.
guard let quarantinedVariant = env["WARUNG_TEST_QUARANTINED_VARIANT"] else {
    fatalError("WARUNG_TEST_QUARANTINED_VARIANT is not set (run tests/swift/run.sh)")
}

/// Records every callback; optionally cancels `token` once catalog ops start arriving, and
/// can be slow (a slow network).
final class RecordingSyncListener: SyncListener, @unchecked Sendable {
    private let lock = NSLock()
    private var _progress: [SyncProgress] = []
    private var _rejected: [RejectedIntent] = []
    private var _quarantined: [UInt64] = []
    let cancelOnPull: CancelToken?
    let delay: TimeInterval
    init(cancelOnPull: CancelToken? = nil, delay: TimeInterval = 0) {
        self.cancelOnPull = cancelOnPull
        self.delay = delay
    }
    var progress: [SyncProgress] { lock.lock(); defer { lock.unlock() }; return _progress }
    var quarantined: [UInt64] { lock.lock(); defer { lock.unlock() }; return _quarantined }
    func onProgress(progress: SyncProgress) {
        lock.lock(); _progress.append(progress); lock.unlock()
        if progress.opsReceived > 0 { cancelOnPull?.cancel() }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
    }
    func onRejected(rejected: RejectedIntent) { lock.lock(); _rejected.append(rejected); lock.unlock() }
    func onQuarantined(count: UInt64) { lock.lock(); _quarantined.append(count); lock.unlock() }
}

/// A profile with its own secure storage (so its own device identity) syncing with the server.
func syncProfile(_ name: String, url: String = serverUrl, options: SyncOptions = SyncOptions(platform: "ios", pageLimit: 200)) throws -> Warung {
    let p = try Warung(config: WarungConfig(profilePath: dir.appendingPathComponent("\(name).db").path), storage: MemoryStorage())
    try p.configureSync(serverUrl: url, options: options)
    return p
}

func waitUntil(_ seconds: Double, _ what: String, _ cond: () throws -> Bool) async throws {
    let end = Date().addingTimeInterval(seconds)
    while !(try cond()) {
        if Date() > end { throw CheckFailed(description: "timed out waiting for \(what)") }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
}

func isNetwork(_ e: WarungError?) -> Bool { if case .Network = e { return true }; return false }
func isCancelled(_ e: WarungError?) -> Bool { if case .Cancelled = e { return true }; return false }

let s = try syncProfile("sync")

await test("sync: the first round pulls the demo catalog; progress rises to Done") {
    try await expectError({ if case .SyncNotConfigured = $0 { return true }; return false }) {
        _ = try await w.syncNow()
    }
    try check(w.lastSyncError() == nil && !w.isBackgroundSyncRunning())
    try check(!(try s.isSyncRegistered()) && (try s.catalogCursor()) == 0)
    let listener = RecordingSyncListener()
    s.setSyncListener(listener: listener)
    let report = try await s.syncNow()
    try check(report.catalogOps > 1000 && report.catalogCursor == (try s.catalogCursor()), "\(report)")
    try check(!(try s.search(query: searchQuery("kopi arabika"))).hits.isEmpty)
    try check(try s.merchants().count == 10)
    try check(try s.isSyncRegistered())
    try check(s.lastSyncError() == nil)
    let progress = listener.progress
    let received = progress.map { $0.opsReceived }
    try check(received == received.sorted() && Set(received).count >= 3, "\(received)")
    try check(progress.last?.phase == .done, "\(String(describing: progress.last))")
    try check(progress.contains { $0.phase == .pulling } && progress.contains { $0.phase == .applying })
    try check(progress.last!.opsReceived == progress.last!.opsEstimatedTotal)
    try check(try await s.syncNow().catalogOps == 0)
    s.setSyncListener(listener: nil)
}

await test("sync: a cart edit is pushed; pending intents go to 0 (AsyncStream of progress)") {
    _ = try s.cartAdd(variantId: "v-0024-1", quantity: 2)
    _ = try s.cartSetQuantity(variantId: "v-0024-1", quantity: 3)
    let pending = try s.pendingIntents()
    try check(pending >= 2, "\(pending)")
    let stream = s.syncProgress()
    let collector = Task { () -> [SyncProgress] in
        var seen: [SyncProgress] = []
        for await p in stream {
            seen.append(p)
            if p.phase == .done { break }
        }
        return seen
    }
    try await Task.sleep(nanoseconds: 200_000_000)
    let report = try await s.sync()
    try check(report.intentsApplied >= 2 && report.intentsRejected == 0, "\(report)")
    let progress = await collector.value
    try check(progress.contains { $0.phase == .pushing }, "\(progress)")
    let left = try s.pendingIntents()
    try check(left == 0, "\(left) pending")
    try check(try s.outbox(limit: 2).allSatisfy { $0.state == "applied" })
}

/// PUT with the merchant key, through FoundationNetworking (libcurl).
func merchantPut(_ path: String, _ body: String) async throws -> Int {
    var request = URLRequest(url: URL(string: serverUrl + path)!)
    request.httpMethod = "PUT"
    request.setValue("Bearer \(merchantKey)", forHTTPHeaderField: "Authorization")
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = body.data(using: .utf8)
    return try await withCheckedThrowingContinuation { continuation in
        URLSession.shared.dataTask(with: request) { _, response, error in
            if let error = error {
                continuation.resume(throwing: error)
            } else {
                continuation.resume(returning: (response as? HTTPURLResponse)?.statusCode ?? 0)
            }
        }.resume()
    }
}

/// Sets a variant's one IDR price through the merchant API; returns the HTTP status.
func merchantSetPrice(_ variantId: String, _ price: Decimal) async throws -> Int {
    try await merchantPut("/v1/merchant/variants/\(variantId)/prices",
        #"{"prices":[{"amount":{"amount":"\#(price)","currency":"IDR"},"compare_at":null}]}"#)
}

await test("sync: a merchant's price change arrives with the next round") {
    let old = try s.variant(variantId: "v-0024-1").prices[0].amount.amount
    let price = old + 1000
    let status = try await merchantSetPrice("v-0024-1", price)
    try check(status == 200, "merchant API answered \(status)")
    try check(try s.variant(variantId: "v-0024-1").prices[0].amount.amount == old)
    let report = try await s.syncNow()
    try check(report.catalogOps >= 1, "\(report)")
    let now = try s.variant(variantId: "v-0024-1").prices[0].amount.amount
    try check(now == price, "price \(now), expected \(price)")
    let line = try s.cart().groups.flatMap { $0.lines }.first { $0.variantId == "v-0024-1" }!
    try check(line.status == .priceChanged && line.unitPrice?.amount == price, "\(line)")
}

await test("sync: background loop runs rounds, request_sync wakes it, stop stops it") {
    let listener = RecordingSyncListener()
    s.setSyncListener(listener: listener)
    try s.startBackgroundSync(intervalSeconds: 60)
    try check(s.isBackgroundSyncRunning())
    try await waitUntil(10, "the first background round") { listener.progress.contains { $0.phase == .done } }
    _ = try s.cartSetQuantity(variantId: "v-0024-1", quantity: 1)
    try check(try s.pendingIntents() > 0)
    s.requestSync()
    try await waitUntil(10, "the requested round to push the edit") { try s.pendingIntents() == 0 }
    try check(s.lastSyncError() == nil)
    s.stopBackgroundSync()
    try check(!s.isBackgroundSyncRunning())
    _ = try s.cartSetQuantity(variantId: "v-0024-1", quantity: 2)
    s.requestSync()
    try await Task.sleep(nanoseconds: 500_000_000)
    try check(try s.pendingIntents() > 0)
    s.setSyncListener(listener: nil)
    _ = try await s.syncNow()
    try check(try s.pendingIntents() == 0)
}

await test("sync: an unreachable server is a Network error, kept as the last error") {
    let dead = try syncProfile("dead", url: deadUrl, options: SyncOptions(platform: "ios", maxAttempts: 2, retryBaseMs: 10, retryMaxMs: 50))
    try await expectError({ if case .Network(let m) = $0 { return !m.isEmpty }; return false }) {
        _ = try await dead.syncNow()
    }
    try check(isNetwork(dead.lastSyncError()), "\(String(describing: dead.lastSyncError()))")
    try check(!(try dead.isSyncRegistered()))
    try dead.startBackgroundSync(intervalSeconds: 1)
    try await Task.sleep(nanoseconds: 300_000_000)
    dead.stopBackgroundSync()
    try check(isNetwork(dead.lastSyncError()))
    try await expectError({ if case .InvalidSyncConfig = $0 { return true }; return false }) {
        try dead.configureSync(serverUrl: "ftp://example.com")
    }
    try await expectError({ _ in true }) {
        try dead.configureSync(serverUrl: serverUrl, options: SyncOptions(pageLimit: 0))
    }
    try dead.configureSync(serverUrl: serverUrl, options: SyncOptions(platform: "ios"))
    _ = try await dead.syncNow()
    try check(dead.lastSyncError() == nil && (try dead.catalogCursor()) > 0)
}

await test("sync: cancel token and task cancellation stop a round; the next one resumes") {
    let c = try syncProfile("cancel", options: SyncOptions(platform: "ios", pageLimit: 100))
    let token = CancelToken()
    c.setSyncListener(listener: RecordingSyncListener(cancelOnPull: token))
    try await expectError({ if case .Cancelled = $0 { return true }; return false }) {
        _ = try await c.syncNow(cancel: token)
    }
    try check(isCancelled(c.lastSyncError()), "\(String(describing: c.lastSyncError()))")
    try check(try c.catalogCursor() == 0)
    // Swift does not forward task cancellation to uniffi: the sync() extension does.
    let slow = RecordingSyncListener(delay: 0.1)
    c.setSyncListener(listener: slow)
    let task = Task { try await c.sync() }
    try await waitUntil(10, "the round to start pulling") { slow.progress.contains { $0.opsReceived > 0 } }
    task.cancel()
    do {
        _ = try await task.value
        throw CheckFailed(description: "the cancelled round finished")
    } catch let e as WarungError {
        try check(isCancelled(e), "\(e)")
    }
    try await Task.sleep(nanoseconds: 300_000_000)
    try check(try c.catalogCursor() == 0, "the cancelled round was applied")
    c.setSyncListener(listener: nil)
    let report = try await c.syncNow()
    try check((try c.catalogCursor()) > 0 && (try c.catalogCursor()) == report.catalogCursor, "\(report)")
    try check(!(try c.search(query: searchQuery("kopi"))).hits.isEmpty)
    try check(c.lastSyncError() == nil)
}

await test("sync: a catalog entity the phone cannot store is quarantined; a valid price clears it") {
    let q = try syncProfile("quarantine")
    let listener = RecordingSyncListener()
    q.setSyncListener(listener: listener)
    try check(try q.catalogQuarantinedCount() == 0 && (try q.catalogQuarantined()).isEmpty)
    let report = try await q.syncNow()
    try check(report.catalogQuarantined == 1, "\(report)")
    try check(listener.quarantined == [1], "\(listener.quarantined)")
    try check(try q.catalogQuarantinedCount() == 1)
    let list = try q.catalogQuarantined()
    try check(list.count == 1, "\(list)")
    let entity = list[0]
    try check(entity.kind == .variant && entity.id == quarantinedVariant, "\(entity)")
    try check(entity.opId > 0 && entity.opId <= report.catalogCursor, "\(entity) \(report)")
    try check(entity.reason.contains("amount"), entity.reason)
    // The rest of the catalog applied, the variant's product and its other variants included.
    try await expectError({ if case .UnknownVariant = $0 { return true }; return false }) {
        _ = try q.variant(variantId: quarantinedVariant)
    }
    let demo = try w.product(productId: try w.variant(variantId: quarantinedVariant).productId) // the bundled demo catalog
    let synced = try q.product(productId: demo.id)
    try check(synced.variants.map { $0.id } == demo.variants.map { $0.id }.filter { $0 != quarantinedVariant }, "\(synced.variants)")
    try check(try q.search(query: searchQuery(demo.title)).hits.contains { $0.productId == demo.id })
    try check(!(try q.search(query: searchQuery("kopi arabika"))).hits.isEmpty && (try q.merchants()).count == 10)
    try check(q.lastSyncError() == nil && report.catalogCursor == (try q.catalogCursor()))

    // The merchant sets a valid price: the next round clears the quarantine.
    let status = try await merchantSetPrice(quarantinedVariant, Decimal(61000))
    try check(status == 200, "merchant API answered \(status)")
    let fixed = try await q.syncNow()
    try check(fixed.catalogQuarantined == 0 && fixed.catalogOps >= 1, "\(fixed)")
    try check((try q.catalogQuarantined()).isEmpty && (try q.catalogQuarantinedCount()) == 0)
    try check(try q.variant(variantId: quarantinedVariant).prices.map { $0.amount.amount } == [Decimal(61000)])
    try check(try q.product(productId: demo.id).variants.map { $0.id } == demo.variants.map { $0.id })
    try check(listener.quarantined == [1], "\(listener.quarantined)")
    q.setSyncListener(listener: nil)
}

// --- identity: SMS OTP sign-in, SIM binding, PIN, TOTP soft token, against the real server.
// The tests play the phone's SMS side: codes are read from the server's development outbox
// (GET /v1/dev/sms with the dev token) and the binding SMS is delivered to the inbound webhook
// signed with HMAC-SHA256 as an SMS aggregator would.
guard let smsSecret = env["WARUNG_TEST_SMS_SECRET"], let devToken = env["WARUNG_TEST_DEV_TOKEN"],
      let shortCode = env["WARUNG_TEST_SHORT_CODE"], let resendSeconds = env["WARUNG_TEST_OTP_RESEND_S"].flatMap({ Double($0) }) else {
    fatalError("WARUNG_TEST_SMS_SECRET, WARUNG_TEST_DEV_TOKEN, WARUNG_TEST_SHORT_CODE, WARUNG_TEST_OTP_RESEND_S are not set (run tests/swift/run.sh)")
}

// TEST-ONLY CODE: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), because Swift on Linux has
// no CryptoKit and the tests must sign inbound SMS deliveries as the aggregator does. Not for
// production use (no constant-time guarantees, no streaming). Checked against the FIPS and
// RFC 4231 vectors by the first identity test, and by the server accepting the signatures.
let sha256K: [UInt32] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]

func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

func sha256(_ message: [UInt8]) -> [UInt8] {
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var m = message
    let bitLength = UInt64(message.count) * 8
    m.append(0x80)
    while m.count % 64 != 56 { m.append(0) }
    for i in (0..<8).reversed() { m.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: m.count, by: 64) {
        for i in 0..<16 {
            let b0 = UInt32(m[chunk + 4 * i]) << 24
            let b1 = UInt32(m[chunk + 4 * i + 1]) << 16
            let b2 = UInt32(m[chunk + 4 * i + 2]) << 8
            let b3 = UInt32(m[chunk + 4 * i + 3])
            w[i] = b0 | b1 | b2 | b3
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        for i in 0..<64 {
            let bigS1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ bigS1 &+ ch &+ sha256K[i] &+ w[i]
            let bigS0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = bigS0 &+ maj
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
        h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
    }
    var out: [UInt8] = []
    for word in h {
        out.append(UInt8(truncatingIfNeeded: word >> 24))
        out.append(UInt8(truncatingIfNeeded: word >> 16))
        out.append(UInt8(truncatingIfNeeded: word >> 8))
        out.append(UInt8(truncatingIfNeeded: word))
    }
    return out
}

func hmacSha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var k = key.count > 64 ? sha256(key) : key
    k += [UInt8](repeating: 0, count: 64 - k.count)
    let inner = sha256(k.map { $0 ^ 0x36 } + message)
    return sha256(k.map { $0 ^ 0x5c } + inner)
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// One HTTP exchange through FoundationNetworking: (status, body).
func exchange(_ request: URLRequest) async throws -> (Int, Data) {
    try await withCheckedThrowingContinuation { continuation in
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error = error {
                continuation.resume(throwing: error)
            } else {
                continuation.resume(returning: ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            }
        }.resume()
    }
}

// One fresh number per use: the server rate-limits per phone.
let phoneBase = Int.random(in: 1000...9999)
var phoneCounter = 0
/// A new Indonesian mobile number: (national 08… form, E.164).
func newPhone() -> (national: String, e164: String) {
    phoneCounter += 1
    let rest = String(format: "%04d%04d", phoneBase, phoneCounter)
    return ("0812" + rest, "+62812" + rest)
}

/// The text of the newest SMS the server "sent" to `e164`, or nil.
func newestSms(_ e164: String) async throws -> String? {
    var components = URLComponents(string: serverUrl + "/v1/dev/sms")!
    components.queryItems = [URLQueryItem(name: "to", value: e164), URLQueryItem(name: "limit", value: "1")]
    // URLComponents leaves "+" alone in queries; the server would read it as a space.
    components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
    var request = URLRequest(url: components.url!)
    request.setValue("Bearer \(devToken)", forHTTPHeaderField: "Authorization")
    let (status, data) = try await exchange(request)
    try check(status == 200, "dev outbox: \(status) \(String(decoding: data, as: UTF8.self))")
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let messages = json?["messages"] as? [[String: Any]] ?? []
    return messages.first?["text"] as? String
}

/// The 6-digit code of the newest SMS to `e164`.
func smsCode(_ e164: String) async throws -> String {
    guard let text = try await newestSms(e164) else { throw CheckFailed(description: "no SMS to \(e164)") }
    let regex = try NSRegularExpression(pattern: "\\b(\\d{6})\\b")
    guard let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
          let r = Range(m.range(at: 1), in: text) else {
        throw CheckFailed(description: "no code in SMS to \(e164): \(text)")
    }
    return String(text[r])
}

/// Moves the test server's clock forward (POST /v1/dev/clock, the server runs with
/// --dev-clock) instead of sleeping through a cool-down.
func advanceServerClock(_ seconds: Double) async throws {
    var request = URLRequest(url: URL(string: serverUrl + "/v1/dev/clock")!)
    request.httpMethod = "POST"
    request.setValue("Bearer \(devToken)", forHTTPHeaderField: "Authorization")
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = Data("{\"advance_s\": \(Int(seconds.rounded(.up)))}".utf8)
    let (status, data) = try await exchange(request)
    try check(status == 200, "dev clock: \(status) \(String(decoding: data, as: UTF8.self))")
}

/// Another 6-digit code than `code`.
func wrongCode(_ code: String) -> String { String(format: "%06d", (Int(code)! + 1) % 1_000_000) }

/// Delivers a mobile-originated SMS as the aggregator does; returns `result` or `result/reason`.
func deliverSms(from: String, text: String, to: String = shortCode) async throws -> String {
    let body = try JSONSerialization.data(withJSONObject: [
        "message_id": UUID().uuidString, "from": from, "to": to, "text": text,
    ])
    let ts = String(Int(Date().timeIntervalSince1970))
    let signature = hex(hmacSha256(key: Array(smsSecret.utf8), message: Array((ts + ".").utf8) + Array(body)))
    var request = URLRequest(url: URL(string: serverUrl + "/v1/sms/inbound")!)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue(ts, forHTTPHeaderField: "x-warung-timestamp")
    request.setValue(signature, forHTTPHeaderField: "x-warung-sms-signature")
    request.httpBody = body
    let (status, data) = try await exchange(request)
    try check(status == 200, "inbound SMS: \(status) \(String(decoding: data, as: UTF8.self))")
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let result = json?["result"] as? String ?? "?"
    if let reason = json?["reason"] as? String { return result + "/" + reason }
    return result
}

/// Signs `phone` in on `p` through its SMS code.
func signIn(_ p: Warung, _ phone: (national: String, e164: String), purpose: OtpPurpose = .register) async throws -> SignedIn {
    let challenge = try await p.requestOtp(phone: phone.national, purpose: purpose, language: .id)
    return try await p.verifyOtp(challengeId: challenge.challengeId, code: try await smsCode(phone.e164))
}

/// Binds `p`'s device by the SMS from its own number.
func bind(_ p: Warung, _ phone: (national: String, e164: String)) async throws {
    let b = try await p.beginDeviceBinding()
    try check(try await deliverSms(from: phone.national, text: b.smsBody) == "bound")
    let status = try await p.waitUntilBound(bindingId: b.bindingId, timeoutSeconds: 15)
    try check(status.state == .bound)
}

/// `body` throws the WarungError case `name` (e.g. "OtpRejected"); returns its description.
@discardableResult
func expectCase(_ name: String, _ body: () async throws -> Void) async throws -> String {
    do {
        try await body()
    } catch let e as WarungError {
        let text = "\(e)"
        if text.hasPrefix(name + "(") { return text }
        throw CheckFailed(description: "expected \(name), got \(text)")
    }
    throw CheckFailed(description: "expected \(name), nothing thrown")
}

await test("input rules shared with the server: cleanText and checkMoneyWireRange") {
    try check(try cleanText(field: "title", kind: .line, value: "  Kopi Gayo ", maxChars: 200, required: true) == "Kopi Gayo")
    try check(try cleanText(field: "description", kind: .block, value: "baris 1\nbaris 2", maxChars: 20000, required: false) == "baris 1\nbaris 2")
    try check(try cleanText(field: "brand", kind: .line, value: "   ", maxChars: 200, required: false) == "")
    let rlo = try await expectCase("InvalidText") {
        _ = try cleanText(field: "title", kind: .line, value: "invoice\u{202E}fdp.exe", maxChars: 200, required: true)
    }
    try check(rlo.contains("title") && rlo.contains("U+202E"), rlo)
    for (kind, bad) in [(TextKind.line, "\u{200B}\u{200C}"), (.line, "a\nb"), (.identifier, "k\u{0}")] {
        _ = try await expectCase("InvalidText") {
            _ = try cleanText(field: "f", kind: kind, value: bad, maxChars: 128, required: true)
        }
    }
    try checkMoneyWireRange(money: Money(amount: Decimal(string: "99999999999999")!, currency: "IDR"))
    let far = try await expectCase("InvalidMoney") {
        try checkMoneyWireRange(money: Money(amount: Decimal(string: "9223372036854775808")!, currency: "IDR"))
    }
    try check(far.contains("14 digits"), far)
    _ = try await expectCase("InvalidMoney") {
        try checkMoneyWireRange(money: Money(amount: Decimal(string: "92233720368547758.08")!, currency: "USD"))
    }
}


func matches(_ text: String, _ pattern: String) -> Bool {
    text.range(of: pattern, options: .regularExpression) != nil
}

await test("identity: test-only SHA-256 / HMAC match FIPS 180-4 and RFC 4231 vectors") {
    try check(hex(sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    try check(hex(sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    try check(hex(sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    try check(hex(hmacSha256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    try check(hex(hmacSha256(key: [UInt8](repeating: 0xaa, count: 131),
                             message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
        == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
}

await test("identity: normalizePhone and checkNewPin (typed errors, non-ASCII digits)") {
    try check(try normalizePhone(text: "0812-3456-7890") == "+6281234567890")
    try check(try normalizePhone(text: "6281234567890") == "+6281234567890")
    try check(try normalizePhone(text: "+62 812 3456 7890") == "+6281234567890")
    for bad in ["", "12345", "0812", "٠٨١٢٣٤٥٦٧٨٩٠", "０８１２３４５６７８９０", "0812345678901234"] {
        let text = try await expectCase("InvalidPhone") { _ = try normalizePhone(text: bad) }
        try check(text.contains("phone"), text)
    }
    try checkNewPin(pin: "482916")
    for weak in ["123456", "654321", "111111", "000000", "345678"] {
        try await expectCase("WeakPin") { try checkNewPin(pin: weak) }
    }
    for bad in ["12345", "1234567", "12a456", "١٢٣٤٥٦", ""] {
        try await expectCase("InvalidPin") { try checkNewPin(pin: bad) }
    }
}

await test("otp: RFC 4226 and RFC 6238 vectors, otpauth, base32; phone mask; SMS grammar") {
    let seed20 = Data("12345678901234567890".utf8)
    let seed32 = Data("12345678901234567890123456789012".utf8)
    let seed64 = Data("1234567890123456789012345678901234567890123456789012345678901234".utf8)
    // RFC 4226 appendix D: HOTP-SHA1, 6 digits, counters 0..9.
    let hotp = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
    for (counter, code) in hotp.enumerated() {
        try check(try otpHotp(secret: seed20, counter: UInt64(counter), algorithm: .sha1, digits: 6) == code, "HOTP counter \(counter)")
    }
    // RFC 6238 appendix B: (time, SHA1, SHA256, SHA512), 8 digits, 30 s.
    let table: [(UInt64, String, String, String)] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ]
    for (time, sha1, sha256, sha512) in table {
        try check(otpStep(unixTime: time, periodS: 30) == time / 30)
        let rows: [(TotpAlgorithm, Data, String)] = [(.sha1, seed20, sha1), (.sha256, seed32, sha256), (.sha512, seed64, sha512)]
        for (algorithm, seed, code) in rows {
            let got = try otpTotp(secret: seed, unixTime: time, algorithm: algorithm, digits: 8, periodS: 30)
            try check(got == code, "\(algorithm) at \(time): \(got), RFC 6238 says \(code)")
            try check(try otpVerifyTotp(secret: seed, code: code, unixTime: time, algorithm: algorithm, digits: 8, periodS: 30, skew: 0) == time / 30,
                      "\(algorithm) at \(time)")
        }
    }
    // The verify window: ±1 step accepted (at that step), ±2 refused, a wrong code refused.
    let now: UInt64 = 1_700_000_000
    let origin = otpStep(unixTime: now, periodS: 30)
    for delta in -2...2 {
        let at = UInt64(Int64(now) + Int64(delta) * 30)
        let code = try otpTotp(secret: seed20, unixTime: at, algorithm: .sha1, digits: 6, periodS: 30)
        let found = try otpVerifyTotp(secret: seed20, code: code, unixTime: now, algorithm: .sha1, digits: 6, periodS: 30, skew: 1)
        if abs(delta) <= 1 {
            try check(found == UInt64(Int64(origin) + Int64(delta)), "delta \(delta): \(String(describing: found))")
        } else {
            try check(found == nil, "delta \(delta) accepted at \(String(describing: found))")
        }
    }
    let right = try otpTotp(secret: seed20, unixTime: now, algorithm: .sha1, digits: 6, periodS: 30)
    let wrong = String(format: "%06d", (Int(right)! + 1) % 1_000_000)
    try check(try otpVerifyTotp(secret: seed20, code: wrong, unixTime: now, algorithm: .sha1, digits: 6, periodS: 30, skew: 0) == nil)
    // Bad input is InvalidOtpInput, and the message says which input.
    for digits: UInt32 in [0, 5, 9, 10] {
        let text = try await expectCase("InvalidOtpInput") { _ = try otpHotp(secret: seed20, counter: 0, algorithm: .sha1, digits: digits) }
        try check(text.contains("message: \"digits:"), text)
        try await expectCase("InvalidOtpInput") { _ = try otpTotp(secret: seed20, unixTime: 59, algorithm: .sha1, digits: digits, periodS: 30) }
        try await expectCase("InvalidOtpInput") {
            _ = try otpVerifyTotp(secret: seed20, code: "123456", unixTime: 59, algorithm: .sha1, digits: digits, periodS: 30, skew: 1)
        }
    }
    let short = try await expectCase("InvalidOtpInput") {
        _ = try otpTotp(secret: Data(count: 15), unixTime: 59, algorithm: .sha1, digits: 6, periodS: 30)
    }
    try check(short.contains("message: \"secret:"), short)
    let period = try await expectCase("InvalidOtpInput") { _ = try otpTotp(secret: seed20, unixTime: 59, algorithm: .sha1, digits: 6, periodS: 0) }
    try check(period.contains("message: \"period:"), period)
    for bad in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"] {
        let text = try await expectCase("InvalidOtpInput") {
            _ = try otpVerifyTotp(secret: seed20, code: bad, unixTime: now, algorithm: .sha1, digits: 6, periodS: 30, skew: 1)
        }
        try check(text.contains("message: \"code:"), "\(bad): \(text)")
    }
    // otpauth URI: secret in base32, issuer and account percent-encoded, parameters always written.
    try check(otpauthUri(secret: seed20, issuer: "Warung Pay", account: "+6281234567890", algorithm: .sha256, digits: 8, periodS: 60)
        == "otpauth://totp/Warung%20Pay:%2B6281234567890?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        + "&issuer=Warung%20Pay&algorithm=SHA256&digits=8&period=60")
    let uri = otpauthUri(secret: seed64, issuer: "Warung", account: "budi", algorithm: .sha512, digits: 6, periodS: 30)
    try check(uri.contains("secret=" + base32Encode(bytes: seed64) + "&") && uri.contains("issuer=Warung") && uri.contains("algorithm=SHA512"), uri)
    // base32: RFC 4648 section 10 vectors (unpadded), lenient decoding, round trips, refusals.
    for (text, b32) in [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"),
                        ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")] {
        try check(base32Encode(bytes: Data(text.utf8)) == b32, "base32(\(text)) = \(base32Encode(bytes: Data(text.utf8)))")
        try check(try base32Decode(text: b32) == Data(text.utf8))
    }
    try check(try base32Decode(text: "mzxw 6ytb oi======") == Data("foobar".utf8))
    for len in 0...41 {
        let bytes = Data((0..<len).map { _ in UInt8.random(in: 0...255) })
        try check(try base32Decode(text: base32Encode(bytes: bytes)) == bytes, "round trip of \(len) bytes")
    }
    for bad in ["GEZD1", "GEZDGNBV0", "A", "ABC", "MZXW6YTBOJ", "MZXW6YTBO٩"] {
        let text = try await expectCase("InvalidOtpInput") { _ = try base32Decode(text: bad) }
        try check(text.contains("message: \"secret:"), "\(bad): \(text)")
    }
    // Phone masking.
    try check(maskPhone(e164: "+6281234567890") == "+62812****890")
    try check(maskPhone(e164: try normalizePhone(text: "0812-3456-7890")) == "+62812****890")
    try check(maskPhone(e164: "+14155550123") == "+14155****123")
    try check(maskPhone(e164: "+1") == "**")
    // SMS grammar.
    try check(try parseSmsCommand(text: "wrg bind 7f3kq9") == .bind(token: "7F3KQ9"))
    try check(try parseSmsCommand(text: "  Wrg   Bind\t7F3KQ9\r\n") == .bind(token: "7F3KQ9"))
    try check(smsBindBody(token: "ABC234") == "WRG BIND ABC234")
    try check(try parseSmsCommand(text: smsBindBody(token: "ABC234")) == .bind(token: "ABC234"))
    try check(isSmsBindToken(token: "7F3KQ9") && !isSmsBindToken(token: "7F3KQ0") && !isSmsBindToken(token: "7f3kq9")
        && !isSmsBindToken(token: "7F3KQ"))
    for (text, code) in [("Halo", "not_warung"), ("", "not_warung"), ("WRG", "unknown_command"),
                         ("WRG SALDO", "unknown_command"), ("WRG BIND", "bad_arguments"),
                         ("WRG BIND 7F3KQ0", "bad_arguments"), ("WRG BIND 7F3KQ9 X", "bad_arguments")] {
        let e = try await expectCase("InvalidSmsCommand") { _ = try parseSmsCommand(text: text) }
        try check(e.contains("message: \"\(code):"), "\(text): \(e)")
    }
}

await test("identity: calls without a session are NotSignedIn; without configureSync SyncNotConfigured") {
    try await expectCase("SyncNotConfigured") {
        _ = try await w.requestOtp(phone: "081234567890", purpose: .register, language: .id)
    }
    let p = try syncProfile("anon")
    try check(!(try p.isSignedIn()) && !(try p.isDeviceBound()))
    try await expectCase("NotSignedIn") { _ = try await p.account() }
    try await expectCase("NotSignedIn") { _ = try await p.beginDeviceBinding() }
    try await expectCase("NotSignedIn") { _ = try await p.devices() }
    try await expectCase("NotSignedIn") { _ = try await p.requestStepUp(action: .pinChange) }
    try await expectCase("NotSignedIn") { try await p.verifyPin(pin: "482916") }
    try await expectCase("NotSignedIn") { try await p.setPin(pin: "482916") }
    try await expectCase("NotSignedIn") { _ = try await p.enrollTotp() }
    try await expectCase("TotpNotEnrolled") { _ = try p.totpCode() }
    try await expectCase("TotpNotEnrolled") { _ = try p.totpUri() }
    try await p.logout() // nothing to end: not an error
}

await test("identity: requestOtp refuses bad numbers; wrong code OtpRejected with attempts left; resend RateLimited") {
    let p = try syncProfile("otp")
    for bad in ["12345", "０８１２３４５６７８９０", "08١٢٣٤٥٦٧٨٩٠"] {
        try await expectCase("InvalidPhone") { _ = try await p.requestOtp(phone: bad, purpose: .register, language: .id) }
    }
    let phone = newPhone()
    try check(try await newestSms(phone.e164) == nil, "fresh number already has SMS")
    let c = try await p.requestOtp(phone: phone.national, purpose: .login, language: .en)
    try check(c.phone == phone.e164 && c.purpose == .login && c.digits == 6, "\(c)")
    // A second code at once: the resend cool-down (asked right away, well inside it).
    let limited = try await expectCase("RateLimited") { _ = try await p.requestOtp(phone: phone.national, purpose: .login, language: .en) }
    try check(matches(limited, "try again in [1-9][0-9]* s"), limited)
    try check(c.expiresAt > Date() && c.resendAfter > Date(), "\(c)")
    try check((try await newestSms(phone.e164))?.hasPrefix("Your Warung code is") == true, "English text")
    let code = try await smsCode(phone.e164)
    let wrong = try await expectCase("OtpRejected") { _ = try await p.verifyOtp(challengeId: c.challengeId, code: wrongCode(code)) }
    try check(wrong.contains("otp_invalid") && wrong.contains("4 attempts left"), wrong)
    try check(!(try p.isSignedIn()))
    let signedIn = try await p.verifyOtp(challengeId: c.challengeId, code: code)
    try check(signedIn.phone == phone.e164 && signedIn.newUser, "\(signedIn)")
    try check(try p.isSignedIn())
    let used = try await expectCase("OtpRejected") { _ = try await p.verifyOtp(challengeId: c.challengeId, code: code) }
    try check(used.contains("otp_used"), used)
}

await test("identity: the full flow — OTP, SIM binding by SMS, PIN, TOTP, devices, logout") {
    let p = try syncProfile("flow")
    let phone = newPhone()
    let c = try await p.requestOtp(phone: phone.national, purpose: .register, language: .id)
    try check(c.purpose == .register && c.phone == phone.e164)
    try check((try await newestSms(phone.e164))?.hasPrefix("Kode OTP Warung") == true, "Indonesian text")
    let signedIn = try await p.verifyOtp(challengeId: c.challengeId, code: try await smsCode(phone.e164))
    try check(signedIn.newUser && signedIn.phone == phone.e164 && !signedIn.userId.isEmpty)
    try check((try p.isSignedIn()) && !(try p.isDeviceBound()))
    let account = try await p.account()
    try check(account.userId == signedIn.userId && account.phone == phone.e164, "\(account)")
    try check(account.deviceId == (try p.deviceId()) && !account.deviceBound && !account.pinSet && !account.totpEnrolled, "\(account)")
    try check(account.pinLockedUntil == nil)
    // Money-moving calls need the bound device.
    try await expectCase("DeviceNotBound") { try await p.setPin(pin: "482916") }

    let b = try await p.beginDeviceBinding()
    try check(b.shortCode == shortCode && matches(b.smsBody, "^WRG BIND [0-9A-Z]{6}$"), "\(b)")
    try check(b.expiresAt > Date())
    // The binding SMS from another number is refused; the binding stays pending.
    try check(try await deliverSms(from: newPhone().national, text: b.smsBody) == "refused/wrong_sender")
    try check(try await p.bindingStatus(bindingId: b.bindingId).state == .pending)
    try await expectCase("BindingTimedOut") { _ = try await p.waitUntilBound(bindingId: b.bindingId, timeoutSeconds: 1) }
    try check(!(try p.isDeviceBound()))
    // Cancelling the waiting task (the waitForBinding extension) ends it with Cancelled.
    let started = Date()
    let waiting = Task { try await p.waitForBinding(b.bindingId, timeoutSeconds: 30) }
    try await Task.sleep(nanoseconds: 300_000_000)
    waiting.cancel()
    try await expectCase("Cancelled") { _ = try await waiting.value }
    try check(Date().timeIntervalSince(started) < 5, "cancel was slow")
    // From the account's own number (as the network may report it: national form) it binds.
    try check(try await deliverSms(from: phone.national, text: b.smsBody) == "bound")
    let status = try await p.waitUntilBound(bindingId: b.bindingId, timeoutSeconds: 15)
    try check(status.state == .bound && status.boundAt != nil && status.deviceId == (try p.deviceId()), "\(status)")
    try check(try p.isDeviceBound())
    try check(try await deliverSms(from: phone.national, text: b.smsBody) == "refused/token_used")

    try await expectCase("PinNotSet") { try await p.verifyPin(pin: "482916") }
    try await expectCase("WeakPin") { try await p.setPin(pin: "123456") }
    try await expectCase("InvalidPin") { try await p.setPin(pin: "12345") }
    try await p.setPin(pin: "482916")
    try await p.verifyPin(pin: "482916")
    let wrong = try await expectCase("PinIncorrect") { try await p.verifyPin(pin: "482917") }
    try check(wrong.contains("4 attempts left"), wrong)
    try await p.verifyPin(pin: "482916") // right again: the counter resets
    let wrong2 = try await expectCase("PinIncorrect") { try await p.verifyPin(pin: "000001") }
    try check(wrong2.contains("4 attempts left"), wrong2)
    try await p.verifyPin(pin: "482916")

    let e = try await p.enrollTotp()
    try check(e.issuer == "Warung" && e.account == phone.e164 && e.algorithm == .sha1, "\(e)")
    try check(e.digits == 6 && e.periodS == 30 && e.otpauthUri.hasPrefix("otpauth://totp/") && e.otpauthUri.contains("secret="), "\(e)")
    try check(try p.totpUri() == e.otpauthUri)
    try await expectCase("TotpAlreadyEnrolled") { _ = try await p.enrollTotp() }
    // Offline codes: a pure function of the step.
    let t: UInt64 = 1_700_000_000
    let at = try p.totpCodeAt(unixSeconds: t)
    try check(at.step == t / 30 && at.validForS == 30 - t % 30 && matches(at.code, "^[0-9]{6}$"), "\(at)")
    try check(try p.totpCodeAt(unixSeconds: t - t % 30).code == at.code && (try p.totpCodeAt(unixSeconds: t - t % 30 + 29).code) == at.code)
    var code = try p.totpCode()
    if code.validForS < 3 {
        try await Task.sleep(nanoseconds: code.validForS * 1_000_000_000 + 200_000_000)
        code = try p.totpCode()
    }
    try check(matches(code.code, "^[0-9]{6}$") && (1...30).contains(code.validForS), "\(code)")
    let nowStep = UInt64(Date().timeIntervalSince1970) / 30
    try check(code.step == nowStep || code.step + 1 == nowStep, "\(code)")
    // A code that matches none of the accepted steps is refused.
    let near = Set(try (code.step - 1...code.step + 1).map { try p.totpCodeAt(unixSeconds: $0 * 30).code })
    let bad = (0..<10).map { String(format: "%06d", $0 * 111_111 + 7) }.first { !near.contains($0) }!
    let rejected = try await expectCase("TotpRejected") { _ = try await p.confirmTotp(code: bad) }
    try check(rejected.contains("totp_invalid"), rejected)
    let step = try await p.confirmTotp(code: code.code)
    try check(step == code.step, "matched \(step), code of \(code.step)")
    let replay = try await expectCase("TotpRejected") { _ = try await p.confirmTotp(code: code.code) }
    try check(replay.contains("totp_replayed"), replay)

    let after = try await p.account()
    try check(after.deviceBound && after.pinSet && after.totpEnrolled, "\(after)")
    let devices = try await p.devices()
    try check(devices.count == 1, "\(devices)")
    let d = devices[0]
    try check(d.deviceId == (try p.deviceId()) && d.current && d.bound && d.revokedAt == nil && d.boundAt != nil, "\(d)")
    try check(matches(d.keyFingerprint ?? "", "^[0-9a-f]{16}$"), "\(d)")

    try await p.logout()
    try check(!(try p.isSignedIn()))
    try await expectCase("NotSignedIn") { _ = try await p.account() }
}

await test("identity: TOTP reset with the PIN and a step-up code, then enrol again") {
    let p = try syncProfile("totp-reset")
    let phone = newPhone()
    _ = try await signIn(p, phone)
    try await bind(p, phone)
    try await p.setPin(pin: "482916")
    _ = try await p.enrollTotp()
    // The enrolment answer was lost: enrolling again is refused until a reset.
    try await expectCase("TotpAlreadyEnrolled") { _ = try await p.enrollTotp() }
    try await expectCase("StepUpRequired") {
        try await p.resetTotp(pin: "482916", stepUpChallengeId: "no-such-challenge")
    }
    try await advanceServerClock(resendSeconds) // the per-phone resend cool-down
    let c = try await p.requestStepUp(action: .totpReset)
    let grant = try await p.verifyStepUp(challengeId: c.challengeId, code: try await smsCode(phone.e164))
    let wrong = try await expectCase("PinIncorrect") {
        try await p.resetTotp(pin: "000001", stepUpChallengeId: grant.challengeId)
    }
    try check(wrong.contains("4 attempts left"), wrong)
    _ = try p.totpCode() // a refused reset keeps the secret
    try await p.resetTotp(pin: "482916", stepUpChallengeId: grant.challengeId)
    try await expectCase("TotpNotEnrolled") { _ = try p.totpCode() }
    try check(!(try await p.account()).totpEnrolled)
    let e = try await p.enrollTotp()
    try check(e.otpauthUri.hasPrefix("otpauth://totp/"), e.otpauthUri)
    // The grant was used up by the reset.
    try await expectCase("StepUpRequired") {
        try await p.resetTotp(pin: "482916", stepUpChallengeId: grant.challengeId)
    }
}

await test("identity: step-up PIN change; a second device signs in and is revoked") {
    let p = try syncProfile("stepup")
    let phone = newPhone()
    let me = try await signIn(p, phone)
    try await bind(p, phone)
    try await p.setPin(pin: "482916")
    try await expectCase("StepUpRequired") {
        try await p.changePin(oldPin: "482916", newPin: "730158", stepUpChallengeId: "no-such-challenge")
    }
    try await advanceServerClock(resendSeconds) // the per-phone resend cool-down
    let c = try await p.requestStepUp(action: .pinChange)
    try check(c.purpose == .stepUp && c.phone == phone.e164, "\(c)")
    let code = try await smsCode(phone.e164)
    let wrong = try await expectCase("OtpRejected") { _ = try await p.verifyStepUp(challengeId: c.challengeId, code: wrongCode(code)) }
    try check(wrong.contains("attempts left"), wrong)
    // A step-up code does not sign anyone in.
    let thief = try syncProfile("thief")
    try await expectCase("OtpRejected") { _ = try await thief.verifyOtp(challengeId: c.challengeId, code: code) }
    let grant = try await p.verifyStepUp(challengeId: c.challengeId, code: code)
    try check(grant.challengeId == c.challengeId && matches(grant.txDigest, "^[0-9a-f]{64}$"), "\(grant)")
    try check(grant.expiresAt > Date())
    try await expectCase("PinIncorrect") {
        try await p.changePin(oldPin: "000001", newPin: "730158", stepUpChallengeId: grant.challengeId)
    }
    try await p.changePin(oldPin: "482916", newPin: "730158", stepUpChallengeId: grant.challengeId)
    try await p.verifyPin(pin: "730158")
    try await expectCase("PinIncorrect") { try await p.verifyPin(pin: "482916") }
    // The grant was consumed.
    try await expectCase("StepUpRequired") {
        try await p.changePin(oldPin: "730158", newPin: "294817", stepUpChallengeId: grant.challengeId)
    }
    // Wrong PINs lock money movement: then even the right PIN is refused, with the wait.
    var locked: String? = nil
    for _ in 1...6 where locked == nil {
        do {
            try await p.verifyPin(pin: "000001")
            throw CheckFailed(description: "wrong PIN accepted")
        } catch let e as WarungError {
            let text = "\(e)"
            if text.hasPrefix("PinLocked(") { locked = text } else if !text.hasPrefix("PinIncorrect(") { throw e }
        }
    }
    try check(locked.map { matches($0, "try again in [1-9][0-9]* s") } == true, "\(String(describing: locked))")
    let right = try await expectCase("PinLocked") { try await p.verifyPin(pin: "730158") }
    try check(right.contains("try again in"), right)
    try check((try await p.account()).pinLockedUntil.map { $0 > Date() } == true)

    // The same user on a second installation: a login, not a new account.
    try await advanceServerClock(resendSeconds)
    let q = try syncProfile("stepup-2")
    let again = try await signIn(q, phone, purpose: .login)
    try check(again.userId == me.userId && !again.newUser, "\(again)")
    let list = try await p.devices()
    try check(Set(list.map { $0.deviceId }) == Set([try p.deviceId(), try q.deviceId()]), "\(list)")
    try check(list.filter { $0.current }.map { $0.deviceId } == [try p.deviceId()])
    try await p.revokeDevice(deviceId: try q.deviceId())
    try await expectCase("SessionExpired") { _ = try await q.account() }
    try check(!(try q.isSignedIn()))
}

try? FileManager.default.removeItem(at: dir)
print("")
print("swift: \(passed) passed, \(failed) failed")
exit(failed > 0 ? 1 : 0)
