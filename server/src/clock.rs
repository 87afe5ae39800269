//! The server's one clock.
//!
//! Every rule that reads the time — OTP and token expiries, resend cool-downs, lock-outs,
//! rate-limit windows, signature skew, timestamps written to rows and ops — reads it from the
//! [`Clock`] in [`crate::Config::clock`], handed to the HTTP state and to the store. Nothing else
//! in the server calls `OffsetDateTime::now_utc()` or `SystemTime::now()` for a rule.
//!
//! Tests move time instead of sleeping: [`Clock::fixed`] stands still until
//! [`Clock::advance`] moves it; a server started with `--dev-clock` runs on the system time plus
//! an offset that `POST /v1/dev/clock` (dev token) moves forward, so out-of-process suites
//! (Kotlin, Swift, the CLI) can wait out a cool-down in no time. Time only moves forward.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use time::OffsetDateTime;

/// The furthest a clock can be moved ahead of its base: 100 years.
pub const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 86_400);

/// A shared, cheap-to-clone clock: the system time or a fixed start, plus an offset.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None`: the system time.
    base: Option<OffsetDateTime>,
    /// Milliseconds added by [`Clock::advance`].
    offset_ms: AtomicI64,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("fixed", &self.inner.base.is_some())
            .field("offset_ms", &self.inner.offset_ms.load(Ordering::Relaxed))
            .finish()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Clock {
        Clock::with_base(None)
    }

    /// A clock that stands at `start` until it is advanced (tests).
    pub fn fixed(start: OffsetDateTime) -> Clock {
        Clock::with_base(Some(start))
    }

    /// A fixed clock at the current system time (tests that also sign with real timestamps).
    pub fn fixed_now() -> Clock {
        Clock::fixed(OffsetDateTime::now_utc())
    }

    fn with_base(base: Option<OffsetDateTime>) -> Clock {
        Clock {
            inner: Arc::new(Inner {
                base,
                offset_ms: AtomicI64::new(0),
            }),
        }
    }

    /// Now, at millisecond precision (what timestamps on the wire carry).
    pub fn now(&self) -> OffsetDateTime {
        let base = self.inner.base.unwrap_or_else(OffsetDateTime::now_utc);
        let t = base + time::Duration::milliseconds(self.inner.offset_ms.load(Ordering::SeqCst));
        t.replace_nanosecond(t.millisecond() as u32 * 1_000_000)
            .unwrap_or(t)
    }

    /// Now, in whole seconds since the Unix epoch (what the identity rules store).
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves the clock forward by `by`; every holder of a clone sees it. The total offset is
    /// capped at [`MAX_OFFSET`] so `now()` can never overflow a date.
    pub fn advance(&self, by: Duration) {
        let cap = MAX_OFFSET.as_millis() as i64;
        let ms = i64::try_from(by.as_millis()).unwrap_or(cap);
        let _ = self
            .inner
            .offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                Some(o.saturating_add(ms).min(cap))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_advanced_and_clones_share_it() {
        let start = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let clock = Clock::fixed(start);
        let other = clock.clone();
        assert_eq!(clock.unix(), 1_700_000_000);
        assert_eq!(clock.now(), clock.now());
        other.advance(Duration::from_millis(30_500));
        assert_eq!(clock.unix(), 1_700_000_030);
        assert_eq!(clock.now() - start, time::Duration::milliseconds(30_500));
    }

    #[test]
    fn advance_is_capped_instead_of_overflowing() {
        let clock = Clock::system();
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        let cap = MAX_OFFSET.as_millis() as i64;
        assert_eq!(clock.inner.offset_ms.load(Ordering::SeqCst), cap);
        assert!(clock.now() > OffsetDateTime::now_utc());
    }
}
