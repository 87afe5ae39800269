//! Change notifications: apps re-render the cart when it changes, whether the shopper changed
//! it or a catalog update changed its prices. Callbacks run on the thread that made the
//! change, after its transaction committed, with no lock held.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

type Callback = Arc<dyn Fn() + Send + Sync>;

#[derive(Default)]
pub struct Observers {
    callbacks: Mutex<Vec<(u64, Callback)>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observers").finish_non_exhaustive()
    }
}

impl Observers {
    /// Registers `callback`; it is called until the returned [`Subscription`] is cancelled or
    /// dropped.
    pub fn subscribe(
        self: &Arc<Self>,
        callback: impl Fn() + Send + Sync + 'static,
    ) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, Arc::new(callback)));
        Subscription {
            id,
            observers: Arc::downgrade(self),
        }
    }

    /// Calls every callback. A panicking callback does not stop the others.
    pub fn notify(&self) {
        let callbacks: Vec<Callback> = self.lock().iter().map(|(_, c)| c.clone()).collect();
        for c in callbacks {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c()));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Callback)>> {
        self.callbacks.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Keeps a callback registered; cancel or drop it to stop.
#[derive(Debug)]
pub struct Subscription {
    id: u64,
    observers: Weak<Observers>,
}

impl Subscription {
    pub fn cancel(&self) {
        if let Some(o) = self.observers.upgrade() {
            o.lock().retain(|(id, _)| *id != self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn subscribe_notify_cancel_drop() {
        let o = Arc::new(Observers::default());
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let sub = o.subscribe(move || {
            h.fetch_add(1, Ordering::SeqCst);
        });
        let broken_calls = Arc::new(AtomicUsize::new(0));
        let b = broken_calls.clone();
        let sub2 = o.subscribe(move || {
            b.fetch_add(1, Ordering::SeqCst);
            panic!("a broken listener");
        });
        o.notify();
        o.notify();
        assert_eq!(
            hits.load(Ordering::SeqCst),
            2,
            "a panicking listener does not stop others"
        );
        sub.cancel();
        o.notify();
        assert_eq!(hits.load(Ordering::SeqCst), 2, "cancelled");
        assert_eq!(broken_calls.load(Ordering::SeqCst), 3);
        drop(sub2);
        o.notify();
        assert_eq!(broken_calls.load(Ordering::SeqCst), 3, "dropped");
    }
}
