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

/// Records every callback; optionally cancels `token` once catalog ops start arriving, and
/// can be slow (a slow network).
final class RecordingSyncListener: SyncListener, @unchecked Sendable {
    private let lock = NSLock()
    private var _progress: [SyncProgress] = []
    private var _rejected: [RejectedIntent] = []
    let cancelOnPull: CancelToken?
    let delay: TimeInterval
    init(cancelOnPull: CancelToken? = nil, delay: TimeInterval = 0) {
        self.cancelOnPull = cancelOnPull
        self.delay = delay
    }
    var progress: [SyncProgress] { lock.lock(); defer { lock.unlock() }; return _progress }
    func onProgress(progress: SyncProgress) {
        lock.lock(); _progress.append(progress); lock.unlock()
        if progress.opsReceived > 0 { cancelOnPull?.cancel() }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
    }
    func onRejected(rejected: RejectedIntent) { lock.lock(); _rejected.append(rejected); lock.unlock() }
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

await test("sync: a merchant's price change arrives with the next round") {
    let old = try s.variant(variantId: "v-0024-1").prices[0].amount.amount
    let price = old + 1000
    let status = try await merchantPut("/v1/merchant/variants/v-0024-1/prices",
        #"{"prices":[{"amount":{"amount":"\#(price)","currency":"IDR"},"compare_at":null}]}"#)
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

try? FileManager.default.removeItem(at: dir)
print("")
print("swift: \(passed) passed, \(failed) failed")
exit(failed > 0 ? 1 : 0)
