// Hand-written Kotlin conveniences over the generated bindings (shipped with them).
package id.warung.core

import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow

/** The cart after every change, as a cold Flow; collecting subscribes, cancelling unsubscribes. */
fun Warung.cartChanges(): Flow<CartView> = callbackFlow {
    val subscription = observeCart(object : CartListener {
        override fun onCartChanged(cart: CartView) {
            trySend(cart)
        }
    })
    awaitClose { subscription.cancel() }
}

/** A search query with the usual defaults (sorted by relevance). */
fun searchQuery(
    text: String = "",
    sort: SortOrder = SortOrder.RELEVANCE,
    limit: UInt = 20u,
): SearchQuery = SearchQuery(text = text, sort = sort, limit = limit)

/**
 * Sync progress as a cold Flow (rejected intents and quarantine counts are dropped). Collecting
 * installs the sync listener (replacing one set with [Warung.setSyncListener]); cancelling
 * removes it.
 */
fun Warung.syncProgress(): Flow<SyncProgress> = callbackFlow {
    setSyncListener(object : SyncListener {
        override fun onProgress(progress: SyncProgress) {
            trySend(progress)
        }

        override fun onRejected(rejected: RejectedIntent) {}

        override fun onQuarantined(count: ULong) {}
    })
    awaitClose { setSyncListener(null) }
}
