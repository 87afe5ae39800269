// Hand-written Swift conveniences over the generated bindings (shipped with them).
import Foundation

/// Bridges the cart listener to an AsyncStream continuation.
final class CartStreamListener: CartListener, @unchecked Sendable {
    private let continuation: AsyncStream<CartView>.Continuation

    init(_ continuation: AsyncStream<CartView>.Continuation) {
        self.continuation = continuation
    }

    func onCartChanged(cart: CartView) {
        continuation.yield(cart)
    }
}

extension Warung {
    /// The cart after every change; iterating subscribes, ending the iteration unsubscribes.
    public func cartChanges() -> AsyncStream<CartView> {
        AsyncStream { continuation in
            let subscription = self.observeCart(listener: CartStreamListener(continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }
}

extension Warung {
    /// Imports catalog ops (wire-format JSON); cancelling the calling task stops the import
    /// after the batch in flight.
    public func importCatalog(json: String) async throws -> ImportReport {
        let token = CancelToken()
        return try await withTaskCancellationHandler {
            try await importCatalogJson(opsJson: json, cancel: token)
        } onCancel: {
            token.cancel()
        }
    }
}

extension Warung {
    /// One sync round (see `syncNow`); cancelling the calling task stops it at its next step.
    public func sync() async throws -> SyncReport {
        let token = CancelToken()
        return try await withTaskCancellationHandler {
            try await syncNow(cancel: token)
        } onCancel: {
            token.cancel()
        }
    }

    /// Sync progress (rejected intents and quarantine counts are dropped). Iterating installs
    /// the sync listener (replacing one set with `setSyncListener`); ending the iteration
    /// removes it.
    public func syncProgress() -> AsyncStream<SyncProgress> {
        AsyncStream { continuation in
            self.setSyncListener(listener: SyncStreamListener(continuation))
            continuation.onTermination = { _ in self.setSyncListener(listener: nil) }
        }
    }
}

/// Bridges the sync listener to an AsyncStream continuation.
final class SyncStreamListener: SyncListener, @unchecked Sendable {
    private let continuation: AsyncStream<SyncProgress>.Continuation

    init(_ continuation: AsyncStream<SyncProgress>.Continuation) {
        self.continuation = continuation
    }

    func onProgress(progress: SyncProgress) {
        continuation.yield(progress)
    }

    func onRejected(rejected: RejectedIntent) {}

    func onQuarantined(count: UInt64) {}
}

/// A search query with the usual defaults (sorted by relevance).
public func searchQuery(_ text: String = "", sort: SortOrder = .relevance, limit: UInt32 = 20) -> SearchQuery {
    SearchQuery(text: text, sort: sort, limit: limit)
}

extension Warung {
    /// Waits for the binding SMS (see `waitUntilBound`); cancelling the calling task stops the
    /// wait with `WarungError.Cancelled`.
    public func waitForBinding(_ bindingId: String, timeoutSeconds: UInt32) async throws -> BindingStatus {
        let token = CancelToken()
        return try await withTaskCancellationHandler {
            try await waitUntilBound(bindingId: bindingId, timeoutSeconds: timeoutSeconds, cancel: token)
        } onCancel: {
            token.cancel()
        }
    }
}
