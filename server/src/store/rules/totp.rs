//! TOTP: enrolment, the monotonic last accepted step (a step is never accepted twice for a
//! user, invariant 8), the failure window, and reset (which consumes a step-up grant). The
//! code is checked by the caller against the secret; the store records what it matched.
//!
//! **Atomicity.** [`record`] and [`reset`] lock [`LockKey::Totp`] before they read the user's
//! TOTP state: "step > last step" then "last step = step" must not interleave (two requests
//! carrying the same code would both be accepted), nor may two failures count once. A reset
//! also takes the grant's [`LockKey::OtpChallenge`] (after, in lock order). Enrolment is one
//! conditional update (only while no secret is set) and needs no lock.

use super::LockKey;
use super::otp::{self, GrantTx};
use crate::store::StoreError;
use crate::store::identity::{TotpAttempt, TotpOutcome, TotpReset, TotpResetOutcome};

/// A user's stored TOTP state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRow {
    pub secret: Option<Vec<u8>>,
    /// The last accepted step; survives resets and new enrolments.
    pub last_step: Option<u64>,
    pub failures: u32,
    /// Start of the current failure window.
    pub window_start: Option<i64>,
}

/// The TOTP primitives, inside the caller's transaction.
pub trait TotpTx: GrantTx {
    /// `None` for an unknown user.
    fn totp(&mut self, user_id: &str) -> Result<Option<TotpRow>, StoreError>;
    fn set_totp_last_step(&mut self, user_id: &str, step: u64) -> Result<(), StoreError>;
    fn set_totp_failures(
        &mut self,
        user_id: &str,
        failures: u32,
        window_start: Option<i64>,
    ) -> Result<(), StoreError>;
    /// Stores the secret and clears the failure window, only if no secret is set (one
    /// conditional update); `true` when stored. The last step stays.
    fn enroll_totp(&mut self, user_id: &str, secret: &[u8]) -> Result<bool, StoreError>;
    /// Removes the secret and clears the failure window. The last step stays.
    fn clear_totp(&mut self, user_id: &str) -> Result<(), StoreError>;
}

/// Stores the secret; `false` when the user is enrolled already. One conditional update:
/// locks nothing.
pub fn enroll(tx: &mut dyn TotpTx, user_id: &str, secret: &[u8]) -> Result<bool, StoreError> {
    tx.enroll_totp(user_id, secret)
}

/// The secret, when enrolled (a read: locks nothing).
pub fn secret(tx: &mut dyn TotpTx, user_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(tx.totp(user_id)?.and_then(|r| r.secret))
}

/// Records a TOTP check: an accepted step, or a failure toward the rate limit. Failures count
/// within a fixed window that starts at the first failure; at the limit every check is
/// refused until the window ends. A replay (a step at or below the last accepted one) is
/// refused without counting. Locks [`LockKey::Totp`] before it reads the last step and the
/// failure count.
pub fn record(tx: &mut dyn TotpTx, a: &TotpAttempt) -> Result<TotpOutcome, StoreError> {
    tx.lock(LockKey::Totp(&a.user_id))?;
    let Some(row) = tx.totp(&a.user_id)? else {
        return Err(StoreError::NotFound("no such user".into()));
    };
    if row.secret.is_none() {
        return Ok(TotpOutcome::NotEnrolled);
    }
    let (failures, window_start) = match row.window_start {
        Some(start) if start + a.window_s > a.now => (row.failures, Some(start)),
        _ => (0, None),
    };
    if failures >= a.max_failures {
        let start = window_start.unwrap_or(a.now);
        return Ok(TotpOutcome::RateLimited {
            retry_after_s: (start + a.window_s - a.now).max(1) as u64,
        });
    }
    let outcome = match a.matched_step {
        Some(step) if row.last_step.is_some_and(|l| step <= l) => TotpOutcome::Replayed,
        Some(step) => TotpOutcome::Accepted { step },
        None => TotpOutcome::Invalid,
    };
    match &outcome {
        TotpOutcome::Accepted { step } => tx.set_totp_last_step(&a.user_id, *step)?,
        // A replay is the right code sent twice (a double tap, a retried request), not a
        // guess: refused, but it must not push the user toward the lock-out. Guessing gains
        // nothing from this: only a code that matches the secret can be a replay.
        TotpOutcome::Replayed => {}
        _ => tx.set_totp_failures(
            &a.user_id,
            failures + 1,
            Some(window_start.unwrap_or(a.now)),
        )?,
    }
    Ok(outcome)
}

/// Consumes the step-up grant and removes the secret, in one transaction. The last accepted
/// step stays, so no step is ever accepted twice for the user, whatever secret comes next.
/// Locks [`LockKey::Totp`], then the grant's [`LockKey::OtpChallenge`].
pub fn reset(tx: &mut dyn TotpTx, r: &TotpReset) -> Result<TotpResetOutcome, StoreError> {
    tx.lock(LockKey::Totp(&r.user_id))?;
    let row = tx
        .totp(&r.user_id)?
        .ok_or_else(|| StoreError::NotFound("no such user".into()))?;
    if row.secret.is_none() {
        return Ok(TotpResetOutcome::NotEnrolled);
    }
    if !otp::consume_step_up(tx, &r.user_id, &r.challenge_id, &r.tx_digest, r.now)? {
        return Ok(TotpResetOutcome::StepUpRequired);
    }
    tx.clear_totp(&r.user_id)?;
    Ok(TotpResetOutcome::Reset)
}

#[cfg(test)]
mod tests {
    use super::super::fake::Fake;
    use super::*;

    fn check(step: Option<u64>, now: i64) -> TotpAttempt {
        TotpAttempt {
            user_id: "u1".into(),
            matched_step: step,
            now,
            max_failures: 2,
            window_s: 300,
        }
    }

    #[test]
    fn steps_only_move_forward_and_replays_do_not_count() {
        let mut tx = Fake::with_user("u1", "+628111");
        assert_eq!(
            record(&mut tx, &check(Some(10), 1_000)).unwrap(),
            TotpOutcome::NotEnrolled
        );
        assert!(enroll(&mut tx, "u1", b"secret").unwrap());
        assert!(!enroll(&mut tx, "u1", b"other").unwrap());
        tx.events.clear();
        assert_eq!(
            record(&mut tx, &check(Some(10), 1_000)).unwrap(),
            TotpOutcome::Accepted { step: 10 }
        );
        assert_eq!(tx.events, vec!["lock totp:u1", "read totp"]);
        // The same step, and an earlier one, again and again: refused, never counted.
        for _ in 0..5 {
            for step in [10, 9] {
                assert_eq!(
                    record(&mut tx, &check(Some(step), 1_001)).unwrap(),
                    TotpOutcome::Replayed
                );
            }
        }
        assert_eq!(
            record(&mut tx, &check(Some(11), 1_030)).unwrap(),
            TotpOutcome::Accepted { step: 11 }
        );
    }

    #[test]
    fn failures_rate_limit_within_their_window() {
        let mut tx = Fake::with_user("u1", "+628111");
        enroll(&mut tx, "u1", b"secret").unwrap();
        assert_eq!(
            record(&mut tx, &check(None, 1_000)).unwrap(),
            TotpOutcome::Invalid
        );
        assert_eq!(
            record(&mut tx, &check(None, 1_100)).unwrap(),
            TotpOutcome::Invalid
        );
        // Two failures in the window: even a right code waits until the window (from the
        // first failure) ends.
        assert_eq!(
            record(&mut tx, &check(Some(50), 1_200)).unwrap(),
            TotpOutcome::RateLimited { retry_after_s: 100 }
        );
        assert_eq!(
            record(&mut tx, &check(Some(50), 1_300)).unwrap(),
            TotpOutcome::Accepted { step: 50 }
        );
    }

    #[test]
    fn a_reset_keeps_the_last_step() {
        let mut tx = Fake::with_user("u1", "+628111");
        enroll(&mut tx, "u1", b"secret").unwrap();
        record(&mut tx, &check(Some(10), 1_000)).unwrap();
        let r = TotpReset {
            user_id: "u1".into(),
            challenge_id: "g1".into(),
            tx_digest: "d".into(),
            now: 1_010,
        };
        assert_eq!(
            reset(&mut tx, &r).unwrap(),
            TotpResetOutcome::StepUpRequired
        );
        tx.grant("g1", "u1", "d", 2_000);
        assert_eq!(reset(&mut tx, &r).unwrap(), TotpResetOutcome::Reset);
        assert_eq!(reset(&mut tx, &r).unwrap(), TotpResetOutcome::NotEnrolled);
        assert!(enroll(&mut tx, "u1", b"new").unwrap());
        assert_eq!(
            record(&mut tx, &check(Some(10), 1_020)).unwrap(),
            TotpOutcome::Replayed
        );
    }
}
