//! The PIN: its lock-out after too many wrong entries, the first PIN and a change (which
//! consumes a step-up grant). The hash is computed and checked by the caller
//! ([`crate::identity`], PBKDF2); the store keeps the count.
//!
//! **Atomicity.** [`record`] and [`update`] lock [`LockKey::Pin`] before they read the user's
//! PIN state: the failure count is read, incremented and written back, and two wrong PINs
//! entered at once must count twice (otherwise parallel guesses would slip past the lock-out).
//! A change also takes the grant's [`LockKey::OtpChallenge`] (after, in lock order).

use super::LockKey;
use super::otp::{self, GrantTx};
use crate::store::StoreError;
use crate::store::identity::{PinAttempt, PinState, PinUpdate, PinUpdated};

/// A user's stored PIN state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRow {
    /// (hash, salt, iterations) when set.
    pub pin: Option<(Vec<u8>, Vec<u8>, u32)>,
    /// Consecutive wrong entries.
    pub failures: u32,
    pub locked_until: Option<i64>,
}

/// The PIN primitives, inside the caller's transaction.
pub trait PinTx: GrantTx {
    /// `None` for an unknown user.
    fn pin(&mut self, user_id: &str) -> Result<Option<PinRow>, StoreError>;
    fn set_pin_failures(
        &mut self,
        user_id: &str,
        failures: u32,
        locked_until: Option<i64>,
    ) -> Result<(), StoreError>;
    /// Stores a new PIN hash and clears the failure count and any lock.
    fn set_pin(
        &mut self,
        user_id: &str,
        hash: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<(), StoreError>;
}

fn pin_row(tx: &mut dyn PinTx, user_id: &str) -> Result<PinRow, StoreError> {
    tx.pin(user_id)?
        .ok_or_else(|| StoreError::NotFound("no such user".into()))
}

/// The stored PIN and lock (a read: locks nothing).
pub fn state(tx: &mut dyn PinTx, user_id: &str) -> Result<PinState, StoreError> {
    let row = pin_row(tx, user_id)?;
    Ok(PinState {
        pin: row.pin,
        locked_until: row.locked_until,
    })
}

/// Records a PIN check (`correct` computed by the caller). While locked, nothing is counted.
/// A lock that has run out starts a fresh count; the `max`-th consecutive wrong PIN locks
/// for `lock_s`; a right one clears the count. Locks [`LockKey::Pin`] before it reads the
/// count.
pub fn record(
    tx: &mut dyn PinTx,
    user_id: &str,
    correct: bool,
    now: i64,
    max: u32,
    lock_s: i64,
) -> Result<PinAttempt, StoreError> {
    tx.lock(LockKey::Pin(user_id))?;
    let row = pin_row(tx, user_id)?;
    if let Some(until) = row.locked_until.filter(|u| *u > now) {
        return Ok(PinAttempt::Locked { until });
    }
    let failures = if row.locked_until.is_some() {
        0
    } else {
        row.failures
    };
    if correct {
        tx.set_pin_failures(user_id, 0, None)?;
        return Ok(PinAttempt::Ok);
    }
    let failures = failures + 1;
    if failures >= max {
        let until = now + lock_s;
        tx.set_pin_failures(user_id, failures, Some(until))?;
        return Ok(PinAttempt::Locked { until });
    }
    tx.set_pin_failures(user_id, failures, None)?;
    Ok(PinAttempt::Incorrect {
        attempts_left: max - failures,
    })
}

/// Sets the first PIN (`step_up: None`) or changes it (consuming the step-up grant). Locks
/// [`LockKey::Pin`], then the grant's [`LockKey::OtpChallenge`].
pub fn update(tx: &mut dyn PinTx, u: &PinUpdate) -> Result<PinUpdated, StoreError> {
    tx.lock(LockKey::Pin(&u.user_id))?;
    let set = pin_row(tx, &u.user_id)?.pin.is_some();
    match (&u.step_up, set) {
        (None, true) => return Ok(PinUpdated::AlreadySet),
        (Some(_), false) => return Ok(PinUpdated::NotSet),
        (Some((challenge, digest)), true) => {
            if !otp::consume_step_up(tx, &u.user_id, challenge, digest, u.now)? {
                return Ok(PinUpdated::StepUpRequired);
            }
        }
        (None, false) => {}
    }
    tx.set_pin(&u.user_id, &u.hash, &u.salt, u.iterations)?;
    Ok(PinUpdated::Ok)
}

#[cfg(test)]
mod tests {
    use super::super::fake::Fake;
    use super::*;

    #[test]
    fn locks_after_exactly_max_failures_and_unlocks_with_a_fresh_count() {
        let mut tx = Fake::with_user("u1", "+628111");
        let wrong = |tx: &mut Fake, now| record(tx, "u1", false, now, 3, 600).unwrap();
        assert_eq!(
            wrong(&mut tx, 100),
            PinAttempt::Incorrect { attempts_left: 2 }
        );
        assert_eq!(tx.events, vec!["lock pin:u1", "read pin"]);
        assert_eq!(
            wrong(&mut tx, 101),
            PinAttempt::Incorrect { attempts_left: 1 }
        );
        assert_eq!(wrong(&mut tx, 102), PinAttempt::Locked { until: 702 });
        // While locked even the right PIN is refused and nothing moves.
        assert_eq!(
            record(&mut tx, "u1", true, 500, 3, 600).unwrap(),
            PinAttempt::Locked { until: 702 }
        );
        assert_eq!(wrong(&mut tx, 701), PinAttempt::Locked { until: 702 });
        // The lock has run out: a fresh count of three.
        assert_eq!(
            wrong(&mut tx, 702),
            PinAttempt::Incorrect { attempts_left: 2 }
        );
        assert_eq!(
            record(&mut tx, "u1", true, 703, 3, 600).unwrap(),
            PinAttempt::Ok
        );
        assert_eq!(
            wrong(&mut tx, 704),
            PinAttempt::Incorrect { attempts_left: 2 }
        );
        assert!(matches!(
            record(&mut tx, "nobody", true, 705, 3, 600),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn a_change_consumes_its_grant_once() {
        let mut tx = Fake::with_user("u1", "+628111");
        let first = PinUpdate {
            user_id: "u1".into(),
            hash: vec![1],
            salt: vec![2],
            iterations: 10,
            step_up: None,
            now: 100,
        };
        assert_eq!(update(&mut tx, &first).unwrap(), PinUpdated::Ok);
        assert_eq!(update(&mut tx, &first).unwrap(), PinUpdated::AlreadySet);
        tx.grant("g1", "u1", "digest", 400);
        let change = PinUpdate {
            hash: vec![3],
            step_up: Some(("g1".into(), "digest".into())),
            ..first.clone()
        };
        tx.locks.clear();
        assert_eq!(update(&mut tx, &change).unwrap(), PinUpdated::Ok);
        assert_eq!(tx.locks, vec!["pin:u1", "otp_challenge:g1"]);
        assert_eq!(
            update(&mut tx, &change).unwrap(),
            PinUpdated::StepUpRequired
        );
        assert_eq!(state(&mut tx, "u1").unwrap().pin.unwrap().0, vec![3]);
    }
}
