// The Swift API of warung-core, run on Linux in a Debian trixie chroot against the library
// just built. Run by tests/swift/run.sh; the last line is "swift: N passed, M failed".
import Foundation

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

try? FileManager.default.removeItem(at: dir)
print("")
print("swift: \(passed) passed, \(failed) failed")
exit(failed > 0 ? 1 : 0)
