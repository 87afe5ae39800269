//! SMS OTP challenges: the send limits, the attempt counter, single use, and the step-up
//! grants a verified challenge becomes. Challenges are kept after use: the send limits count
//! them.
//!
//! **Atomicity.**
//! * [`create`] locks [`LockKey::OtpSend`] and only then reads the cool-down and the five
//!   hourly counts, and inserts: the check and the insert cannot race, so no limit is ever
//!   exceeded by concurrent requests, in one process or several. One key for every limit,
//!   because the global budget is one counter every send checks anyway (finer keys would all
//!   meet on it); sends are rare enough (the global budget is around a thousand an hour) that
//!   serializing them costs nothing.
//! * [`verify`] locks [`LockKey::OtpChallenge`]: the attempt counter is read, compared and
//!   written back, and the challenge is used at most once (invariant 8). A first code for a
//!   new phone then locks [`LockKey::Phone`] to create the account exactly once.
//! * [`consume_step_up`] locks [`LockKey::OtpChallenge`]: a grant is checked and consumed by
//!   one action only.

use super::session::{self, SessionTx};
use super::{LockKey, Transaction};
use crate::store::StoreError;
use crate::store::identity::{NewOtp, OtpAttempt, OtpCreated, OtpOutcome};
use warung_core::protocol::OtpPurpose;

/// What one send limit counts: challenges created for…
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpScope<'a> {
    /// …this phone number;
    Phone(&'a str),
    /// …this (caller-chosen) device id;
    Device(&'a str),
    /// …this client address group (`identity::client_key`);
    Address(&'a str),
    /// …this number block (`identity::phone_prefix`);
    Prefix(&'a str),
    /// …anyone.
    Global,
}

/// A stored challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub phone: String,
    /// `OtpPurpose::as_str`.
    pub purpose: String,
    pub device_id: String,
    pub user_id: Option<String>,
    pub tx_digest: Option<String>,
    pub code_hash: Vec<u8>,
    pub expires_at: i64,
    /// Wrong codes so far.
    pub attempts: u32,
    pub verified_at: Option<i64>,
}

/// Step-up grants (verified `step_up` challenges), inside the caller's transaction.
pub trait GrantTx: Transaction {
    /// A verified, unconsumed grant of this user for this digest whose deadline is after
    /// `now` exists.
    fn grant_valid(
        &mut self,
        user_id: &str,
        challenge_id: &str,
        tx_digest: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Marks the grant used.
    fn consume_grant(&mut self, challenge_id: &str, now: i64) -> Result<(), StoreError>;
}

/// The OTP primitives, inside the caller's transaction.
pub trait OtpTx: SessionTx {
    /// When the newest challenge for this phone was created.
    fn last_sent_at(&mut self, phone: &str) -> Result<Option<i64>, StoreError>;
    /// How many challenges of the scope were created strictly after `since`, and when the
    /// oldest of them was.
    fn count_since(
        &mut self,
        scope: OtpScope<'_>,
        since: i64,
    ) -> Result<(u64, Option<i64>), StoreError>;
    /// Inserts the challenge (created at `o.now`, no attempts).
    fn insert_challenge(&mut self, o: &NewOtp, expires_at: i64) -> Result<(), StoreError>;
    fn delete_challenge(&mut self, id: &str) -> Result<(), StoreError>;
    fn challenge(&mut self, id: &str) -> Result<Option<Challenge>, StoreError>;
    fn set_attempts(&mut self, id: &str, attempts: u32) -> Result<(), StoreError>;
    /// Marks the challenge used; a step-up one with its grant's deadline.
    fn mark_verified(
        &mut self,
        id: &str,
        now: i64,
        grant_expires_at: Option<i64>,
    ) -> Result<(), StoreError>;
    fn user_by_phone(&mut self, phone: &str) -> Result<Option<String>, StoreError>;
    fn insert_user(&mut self, id: &str, phone: &str, now: i64) -> Result<(), StoreError>;
    /// Records a login of the user on the device (creating the device row if new).
    fn touch_user_device(
        &mut self,
        user_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError>;
}

/// The hourly window of the send limits.
const HOUR: i64 = 3600;

/// Inserts a challenge unless the resend cool-down or an hourly limit refuses it. Locks
/// [`LockKey::OtpSend`] before it counts, so the counts and the insert are one step.
pub fn create(tx: &mut dyn OtpTx, o: &NewOtp) -> Result<OtpCreated, StoreError> {
    tx.lock(LockKey::OtpSend)?;
    // Resend cool-down per phone.
    if let Some(last) = tx.last_sent_at(&o.phone)?
        && last + o.resend_s > o.now
    {
        return Ok(OtpCreated::RateLimited {
            retry_after_s: (last + o.resend_s - o.now) as u64,
            reason: "resend_cooldown",
        });
    }
    let limits = [
        (
            OtpScope::Phone(&o.phone),
            o.per_phone_hour,
            "phone_hourly_limit",
        ),
        (
            OtpScope::Device(&o.device_id),
            o.per_device_hour,
            "device_hourly_limit",
        ),
        (
            OtpScope::Address(&o.client_key),
            o.per_address_hour,
            "address_hourly_limit",
        ),
        (
            OtpScope::Prefix(&o.phone_prefix),
            o.per_prefix_hour,
            "prefix_hourly_limit",
        ),
        (OtpScope::Global, o.global_hour, "global_hourly_limit"),
    ];
    for (scope, limit, reason) in limits {
        let (count, oldest) = tx.count_since(scope, o.now - HOUR)?;
        if count >= u64::from(limit) {
            // The window frees a slot when its oldest send turns an hour old.
            let retry = oldest.map_or(HOUR, |t| (t + HOUR - o.now).max(1));
            return Ok(OtpCreated::RateLimited {
                retry_after_s: retry as u64,
                reason,
            });
        }
    }
    let expires_at = o.now + o.ttl_s;
    tx.insert_challenge(o, expires_at)?;
    Ok(OtpCreated::Created {
        expires_at,
        resend_after: o.now + o.resend_s,
    })
}

/// Removes a challenge whose SMS could not be sent (it must not count toward the limits).
/// One statement: locks nothing.
pub fn discard(tx: &mut dyn OtpTx, challenge_id: &str) -> Result<(), StoreError> {
    tx.delete_challenge(challenge_id)
}

/// Checks a code. A wrong one is counted (and the count is kept: `Ok`); the last allowed
/// wrong one locks the challenge. A right one uses the challenge and, for register/login,
/// creates the account if new, records the device and opens the session; for a step-up, it
/// starts the grant. Locks [`LockKey::OtpChallenge`] before it reads the counter, then
/// [`LockKey::Phone`] before "find or create the account".
pub fn verify(tx: &mut dyn OtpTx, a: &OtpAttempt) -> Result<OtpOutcome, StoreError> {
    tx.lock(LockKey::OtpChallenge(&a.challenge_id))?;
    let Some(c) = tx.challenge(&a.challenge_id)? else {
        return Ok(OtpOutcome::NotFound);
    };
    if c.verified_at.is_some() {
        return Ok(OtpOutcome::Used);
    }
    if c.attempts >= a.max_attempts {
        return Ok(OtpOutcome::Locked);
    }
    if a.now >= c.expires_at {
        return Ok(OtpOutcome::Expired);
    }
    if !crate::identity::ct_eq(c.device_id.as_bytes(), a.device_id.as_bytes()) {
        return Ok(OtpOutcome::WrongDevice);
    }
    if !crate::identity::ct_eq(&c.code_hash, &a.code_hash) {
        let attempts = c.attempts + 1;
        tx.set_attempts(&a.challenge_id, attempts)?;
        let left = a.max_attempts.saturating_sub(attempts);
        return Ok(if left == 0 {
            OtpOutcome::Locked
        } else {
            OtpOutcome::Invalid {
                attempts_left: left,
            }
        });
    }
    if c.purpose == OtpPurpose::StepUp.as_str() {
        let grant_expires_at = a.now + a.grant_ttl_s;
        if c.user_id.is_none() {
            return Err(StoreError::Internal(
                "step-up challenge without user".into(),
            ));
        }
        tx.mark_verified(&a.challenge_id, a.now, Some(grant_expires_at))?;
        return Ok(OtpOutcome::StepUp {
            tx_digest: c.tx_digest.unwrap_or_default(),
            grant_expires_at,
        });
    }
    tx.mark_verified(&a.challenge_id, a.now, None)?;
    tx.lock(LockKey::Phone(&c.phone))?;
    let (user_id, new_user) = match tx.user_by_phone(&c.phone)? {
        Some(id) => (id, false),
        None => {
            let id = uuid::Uuid::now_v7().to_string();
            tx.insert_user(&id, &c.phone, a.now)?;
            (id, true)
        }
    };
    tx.touch_user_device(&user_id, &c.device_id, a.now)?;
    session::create(tx, &user_id, &c.device_id, &a.session, a.now)?;
    Ok(OtpOutcome::Session {
        user_id,
        phone: c.phone,
        new_user,
    })
}

/// Whether a usable step-up grant exists (a read: locks nothing; the action that uses it
/// calls [`consume_step_up`]).
pub fn step_up_valid(
    tx: &mut dyn GrantTx,
    user_id: &str,
    challenge_id: &str,
    tx_digest: &str,
    now: i64,
) -> Result<bool, StoreError> {
    tx.grant_valid(user_id, challenge_id, tx_digest, now)
}

/// Checks and consumes a step-up grant in the caller's transaction; `false` when it is not
/// (or no longer) valid. Used once, even by two concurrent actions.
pub fn consume_step_up(
    tx: &mut dyn GrantTx,
    user_id: &str,
    challenge_id: &str,
    tx_digest: &str,
    now: i64,
) -> Result<bool, StoreError> {
    tx.lock(LockKey::OtpChallenge(challenge_id))?;
    if !tx.grant_valid(user_id, challenge_id, tx_digest, now)? {
        return Ok(false);
    }
    tx.consume_grant(challenge_id, now)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::fake::Fake;
    use super::*;
    use crate::store::identity::NewSession;

    fn otp(id: &str, phone: &str, now: i64) -> NewOtp {
        NewOtp {
            id: id.into(),
            phone: phone.into(),
            purpose: OtpPurpose::Login,
            device_id: format!("dev-{id}"),
            client_key: format!("10.0.0.{}", id.len()),
            phone_prefix: phone[..phone.len() - 3].into(),
            user_id: None,
            tx_digest: None,
            code_hash: [7; 32],
            now,
            ttl_s: 300,
            resend_s: 30,
            per_phone_hour: 3,
            per_device_hour: 100,
            per_address_hour: 100,
            per_prefix_hour: 100,
            global_hour: 100,
        }
    }

    fn limited(r: OtpCreated) -> (u64, &'static str) {
        match r {
            OtpCreated::RateLimited {
                retry_after_s,
                reason,
            } => (retry_after_s, reason),
            other => panic!("not limited: {other:?}"),
        }
    }

    #[test]
    fn cool_down_then_the_hourly_limit_with_retry_after() {
        let mut tx = Fake::default();
        let t0 = 1_000_000;
        assert!(matches!(
            create(&mut tx, &otp("a", "+62811000001", t0)).unwrap(),
            OtpCreated::Created { expires_at, resend_after }
                if expires_at == t0 + 300 && resend_after == t0 + 30
        ));
        assert_eq!(tx.events[..2], ["lock otp_send", "read last_sent_at"]);
        // Within the cool-down: refused, and told exactly how long to wait.
        assert_eq!(
            limited(create(&mut tx, &otp("b", "+62811000001", t0 + 10)).unwrap()),
            (20, "resend_cooldown")
        );
        create(&mut tx, &otp("c", "+62811000001", t0 + 30)).unwrap();
        create(&mut tx, &otp("d", "+62811000001", t0 + 100)).unwrap();
        // The fourth in the hour: the slot frees when the first send turns an hour old.
        assert_eq!(
            limited(create(&mut tx, &otp("e", "+62811000001", t0 + 200)).unwrap()),
            (3600 - 200, "phone_hourly_limit")
        );
        // Exactly an hour after the first send it counts no more.
        assert!(matches!(
            create(&mut tx, &otp("f", "+62811000001", t0 + 3600)).unwrap(),
            OtpCreated::Created { .. }
        ));
        // A refused send inserted nothing: only a, c, d, f exist.
        assert_eq!(tx.challenges.len(), 4);
    }

    #[test]
    fn every_limit_has_its_reason() {
        type Tighten = fn(&mut NewOtp);
        let cases: [(Tighten, &str); 4] = [
            (|o| o.per_device_hour = 1, "device_hourly_limit"),
            (|o| o.per_address_hour = 1, "address_hourly_limit"),
            (|o| o.per_prefix_hour = 1, "prefix_hourly_limit"),
            (|o| o.global_hour = 1, "global_hourly_limit"),
        ];
        for (tighten, reason) in cases {
            let mut tx = Fake::default();
            let mut first = otp("a", "+62811000001", 5_000);
            tighten(&mut first);
            create(&mut tx, &first).unwrap();
            // Another phone of the same block, device and address, a minute later.
            let mut second = otp("b", "+62811000002", 5_060);
            second.device_id = first.device_id.clone();
            second.client_key = first.client_key.clone();
            tighten(&mut second);
            assert_eq!(
                limited(create(&mut tx, &second).unwrap()),
                (3600 - 60, reason)
            );
        }
    }

    fn attempt(code: u8, now: i64) -> OtpAttempt {
        OtpAttempt {
            challenge_id: "a".into(),
            code_hash: [code; 32],
            device_id: "dev-a".into(),
            now,
            max_attempts: 3,
            session: NewSession {
                family_id: "f1".into(),
                access_hash: [1; 32],
                access_expires_at: now + 900,
                refresh_hash: [2; 32],
                refresh_expires_at: now + 86_400,
            },
            grant_ttl_s: 300,
        }
    }

    #[test]
    fn wrong_codes_count_and_the_last_allowed_one_locks() {
        let mut tx = Fake::default();
        create(&mut tx, &otp("a", "+62811000001", 1_000)).unwrap();
        tx.events.clear();
        assert_eq!(
            verify(&mut tx, &attempt(0, 1_010)).unwrap(),
            OtpOutcome::Invalid { attempts_left: 2 }
        );
        assert_eq!(tx.events, vec!["lock otp_challenge:a", "read challenge"]);
        assert_eq!(
            verify(&mut tx, &attempt(0, 1_011)).unwrap(),
            OtpOutcome::Invalid { attempts_left: 1 }
        );
        assert_eq!(
            verify(&mut tx, &attempt(0, 1_012)).unwrap(),
            OtpOutcome::Locked
        );
        // Locked for good: even the right code is refused, and nothing more is counted.
        assert_eq!(
            verify(&mut tx, &attempt(7, 1_013)).unwrap(),
            OtpOutcome::Locked
        );
        assert_eq!(tx.challenges["a"].row.attempts, 3);
        assert!(tx.users.is_empty());
    }

    #[test]
    fn a_right_code_is_used_once_and_creates_the_account_once() {
        let mut tx = Fake::default();
        create(&mut tx, &otp("a", "+62811000001", 1_000)).unwrap();
        let mut wrong_device = attempt(7, 1_010);
        wrong_device.device_id = "other".into();
        assert_eq!(
            verify(&mut tx, &wrong_device).unwrap(),
            OtpOutcome::WrongDevice
        );
        let OtpOutcome::Session {
            user_id, new_user, ..
        } = verify(&mut tx, &attempt(7, 1_020)).unwrap()
        else {
            panic!("no session")
        };
        assert!(new_user);
        assert_eq!(
            tx.locks,
            vec![
                "otp_send",
                "otp_challenge:a",
                "otp_challenge:a",
                "phone:+62811000001"
            ]
        );
        assert_eq!(
            verify(&mut tx, &attempt(7, 1_030)).unwrap(),
            OtpOutcome::Used
        );
        // The next sign-in of the phone finds the same account.
        create(&mut tx, &otp("b", "+62811000001", 1_100)).unwrap();
        let mut again = attempt(7, 1_110);
        again.challenge_id = "b".into();
        again.device_id = "dev-b".into();
        again.session.family_id = "f2".into();
        again.session.access_hash = [3; 32];
        again.session.refresh_hash = [4; 32];
        assert_eq!(
            verify(&mut tx, &again).unwrap(),
            OtpOutcome::Session {
                user_id,
                phone: "+62811000001".into(),
                new_user: false
            }
        );
        // An expired challenge is refused.
        create(&mut tx, &otp("c", "+62811000001", 1_200)).unwrap();
        let mut late = attempt(7, 1_200 + 300);
        late.challenge_id = "c".into();
        late.device_id = "dev-c".into();
        assert_eq!(verify(&mut tx, &late).unwrap(), OtpOutcome::Expired);
    }
}
