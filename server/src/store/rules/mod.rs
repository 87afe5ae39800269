//! The store's rules, once, for every backend.
//!
//! Each submodule is a domain: a **context trait** of primitive, synchronous reads and writes
//! inside one transaction (a backend implements it with its queries), and **rule functions**
//! that decide over it (a backend calls them inside its transaction and commits when they
//! return `Ok`, rolls back on `Err`).
//!
//! | module | context | rules |
//! |---|---|---|
//! | [`oplog`] | [`OpLogTx`] | op ids and their visibility order, publishing, pages, compaction |
//! | [`catalog`] | [`CatalogTx`] | merchant accounts, products, variants, stock, prices, seeding |
//! | [`sync`] | [`SyncTx`] | device registration, intent batches in order and exactly once |
//! | [`otp`] | [`OtpTx`], [`GrantTx`] | OTP send limits, attempt counter, step-up grants |
//! | [`session`] | [`SessionTx`] | access checks, refresh rotation, reuse revoking the family |
//! | [`binding`] | [`BindingTx`] | SIM bindings, device revocation, nonces |
//! | [`pin`] | [`PinTx`] | PIN lock-out, first PIN and change |
//! | [`totp`] | [`TotpTx`] | monotonic TOTP steps, failure window, reset |
//! | [`sms`] | [`SmsTx`] | inbound SMS (de-duplication, per-sender limit), dev outbox |
//!
//! Contexts are plain synchronous traits: SQLite runs a rule on its writer thread (or a read
//! connection); a client/server database runs the same rule in `spawn_blocking`, blocking on
//! its client per query. A unit test drives a rule with an in-memory context.
//!
//! ## Atomicity: one primitive
//!
//! A rule that reads something and then writes on the strength of what it read (a counter, a
//! state) calls [`Transaction::lock`] with a [`LockKey`] FIRST, before it reads. The contract:
//! until this transaction ends, no other transaction that locks the same key proceeds past its
//! own `lock` call. So two requests running the same rule on the same key are serialized, on
//! any backend, with any number of server processes:
//!
//! * **SQLite**: a no-op. Every write runs on the single writer thread inside one
//!   `BEGIN IMMEDIATE` transaction, which also holds the database's write lock against other
//!   processes (the admin CLI); nothing else can interleave, whatever the key.
//! * **PostgreSQL**: `pg_advisory_xact_lock(key.id())` ([`LockKey::id`], a stable hash of the
//!   key) — released at commit or rollback. Two keys may share an id: that only serializes
//!   more, never less. Write transactions run at READ COMMITTED: each statement sees what
//!   committed before it started, so the reads after `lock` see the previous holder's writes.
//!   (Under REPEATABLE READ or SERIALIZABLE the snapshot is taken by the first statement — the
//!   lock itself, before it waits — and the rule would decide on stale rows.)
//!
//! A rule that must find its key first (a refresh token's family, a binding token's user) reads
//! once to learn the key, locks, and reads again under the lock.
//!
//! A rule that needs two keys takes them in the order the [`LockKey`] variants are declared,
//! so two rules never wait on each other in a cycle. Reads that decide nothing (a page, a
//! profile) lock nothing; writes that are one conditional statement (an insert that does
//! nothing on conflict, an update guarded by its `WHERE`) need no lock either — each is noted
//! where it is used.
//!
//! Rules that must leave a trace when they refuse (a counted wrong code, a lock-out, a revoked
//! family) return `Ok(outcome)`: an `Err` rolls the whole transaction back.

pub mod binding;
pub mod catalog;
pub mod oplog;
pub mod otp;
pub mod pin;
pub mod session;
pub mod sms;
pub mod sync;
pub mod totp;

#[cfg(test)]
mod fake;

pub use binding::BindingTx;
pub use catalog::CatalogTx;
pub use oplog::OpLogTx;
pub use otp::{GrantTx, OtpTx};
pub use pin::PinTx;
pub use session::SessionTx;
pub use sms::SmsTx;
pub use sync::SyncTx;
pub use totp::TotpTx;

use super::StoreError;

/// What a rule locks before it reads what it will update. Declared in lock order: a rule that
/// takes two keys takes the earlier variant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockKey<'a> {
    /// The initial catalog content (seeding, the default taxonomy): "is it empty?" then fill.
    CatalogSeed,
    /// One merchant's catalog (profile, products, variants): read-modify-write of its rows and
    /// the ops that publish them.
    Merchant(&'a str),
    /// A device's intent pipeline: next sequence number, stored results, cart mirror.
    Device(&'a str),
    /// An inbound SMS by message id (de-duplication).
    InboundMessage(&'a str),
    /// The per-sender count of inbound SMS.
    InboundSender(&'a str),
    /// Every OTP send limit at once (per phone, device, address group, number block and the
    /// global budget). One key because the global budget is one counter every send checks
    /// anyway: finer keys would still all meet on it.
    OtpSend,
    /// A user's SIM bindings and bound devices.
    Bindings(&'a str),
    /// A user's PIN state (failure count, lock-out, hash).
    Pin(&'a str),
    /// A user's TOTP state (secret, last step, failure window).
    Totp(&'a str),
    /// One OTP challenge: its attempt counter, its verification, its step-up grant.
    OtpChallenge(&'a str),
    /// The account of a phone number (created by the first verified code).
    Phone(&'a str),
    /// A session family (refresh rotation and reuse).
    SessionFamily(&'a str),
}

impl LockKey<'_> {
    /// A stable text form (`otp_challenge:<id>`, `otp_send`).
    pub fn text(&self) -> String {
        let (scope, id) = match self {
            LockKey::CatalogSeed => ("catalog_seed", None),
            LockKey::Merchant(id) => ("merchant", Some(id)),
            LockKey::Device(id) => ("device", Some(id)),
            LockKey::InboundMessage(id) => ("inbound_message", Some(id)),
            LockKey::InboundSender(id) => ("inbound_sender", Some(id)),
            LockKey::OtpSend => ("otp_send", None),
            LockKey::Bindings(id) => ("bindings", Some(id)),
            LockKey::Pin(id) => ("pin", Some(id)),
            LockKey::Totp(id) => ("totp", Some(id)),
            LockKey::OtpChallenge(id) => ("otp_challenge", Some(id)),
            LockKey::Phone(id) => ("phone", Some(id)),
            LockKey::SessionFamily(id) => ("session_family", Some(id)),
        };
        match id {
            Some(id) => format!("{scope}:{id}"),
            None => scope.to_owned(),
        }
    }

    /// A stable 64-bit id of the key (the first 8 bytes of SHA-256 of [`LockKey::text`]):
    /// what a database's advisory lock takes (`pg_advisory_xact_lock(id)`). The same in every
    /// process and release; two keys may share an id, which only serializes more.
    pub fn id(&self) -> i64 {
        let digest = crate::auth::sha256(self.text().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(first)
    }
}

/// What every context shares: the transaction's one locking primitive.
pub trait Transaction {
    /// Until this transaction ends, no other transaction that locks the same `key` proceeds
    /// past its own `lock` (see the module docs for how each backend does it).
    fn lock(&mut self, key: LockKey<'_>) -> Result<(), StoreError>;
}

/// A unix time as an `OffsetDateTime` (stored times are unix seconds).
pub(crate) fn unix_time(unix: i64) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|e| StoreError::Internal(format!("stored time {unix}: {e}")))
}

/// [`unix_time`] of an optional time.
pub(crate) fn opt_unix_time(unix: Option<i64>) -> Result<Option<time::OffsetDateTime>, StoreError> {
    unix.map(unix_time).transpose()
}

#[cfg(test)]
mod tests {
    use super::LockKey;

    #[test]
    fn lock_keys_have_stable_distinct_ids() {
        let keys = [
            LockKey::CatalogSeed,
            LockKey::OtpSend,
            LockKey::Pin("u1"),
            LockKey::Totp("u1"),
            LockKey::Pin("u2"),
            LockKey::OtpChallenge("u1"),
        ];
        let ids: std::collections::HashSet<i64> = keys.iter().map(LockKey::id).collect();
        assert_eq!(ids.len(), keys.len());
        assert_eq!(LockKey::Pin("u1").id(), LockKey::Pin("u1").id());
        assert_eq!(LockKey::Pin("u1").text(), "pin:u1");
        assert_eq!(LockKey::OtpSend.text(), "otp_send");
        // Pinned: an advisory lock id must not change between releases running side by side
        // on one database.
        assert_eq!(LockKey::OtpSend.id(), 7964081970296907924);
        assert_eq!(LockKey::Pin("u1").id(), 2776101921050247265);
    }
}
