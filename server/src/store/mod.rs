//! The storage boundary: the domain operations the HTTP handlers and admin commands call, split
//! by capability, and the backend-neutral rules behind them.
//!
//! Handlers never see SQL. Everything they need is a method of one of the capability traits,
//! phrased in wire types:
//!
//! | trait | what it covers |
//! |---|---|
//! | [`SyncStore`] | pulls, device registration and tokens, intent batches |
//! | [`MerchantStore`] | the merchant API (profile, products, variants, stock, prices) |
//! | [`AdminStore`] | readiness, merchant accounts, seeding, the taxonomy, compaction |
//! | [`identity::OtpStore`] | SMS OTP challenges and step-up grants |
//! | [`identity::SessionStore`] | access and refresh tokens, the signed-in account |
//! | [`identity::BindingStore`] | SIM bindings, bound device keys, nonces, a user's devices |
//! | [`identity::PinStore`], [`identity::TotpStore`] | PIN and TOTP state |
//! | [`identity::SmsStore`] | inbound SMS and the development outbox |
//!
//! [`Storage`] is their union (implemented for every type that implements them all), so
//! `Arc<dyn Storage>` serves the handlers; a component that needs one capability can take the
//! narrower trait object (the development SMS gateway takes `Arc<dyn SmsStore>`).
//!
//! **Rules live once.** Every rule with a decision in it — send limits, lock-outs, attempt
//! counters, refresh rotation, bindings, op id allocation, catalog validation and what gets
//! published — is plain Rust in [`rules`], written against narrow synchronous transaction
//! contexts ([`rules::OtpTx`], [`rules::OpLogTx`], …) that each backend implements with its own
//! queries. What must be atomic is written next to each rule, with how each backend gets it:
//! the one locking primitive [`rules::Transaction::lock`], a conditional write, or a row lock.
//! **Operations live once** too: [`backend`] implements every capability trait for any
//! [`Backend`] (how a backend runs one rule in one transaction), so a backend is only its
//! transaction runner and its contexts' queries. The SQLite backend lives in [`sqlite`] (one
//! writer thread doing group commit, a small pool of read connections; nothing outside it
//! names a SQLite type), the PostgreSQL one in [`postgres`] (a pool, advisory locks).
//!
//! Authentication secrets reach the store only as SHA-256 hashes ([`crate::auth`]); times
//! reach it as values read from the server's one clock ([`crate::clock`]).

pub mod backend;
pub mod catalog;
pub mod identity;
pub mod postgres;
pub mod rules;
pub mod sqlite;
pub mod sync;
pub mod transfer;

pub use backend::{AllTx, Backend};
pub use catalog::{AdminStore, CompactReport, MerchantStore};
pub use identity::IdentityStore;
pub use sync::{AuthDevice, BucketKey, IntentBatchOutcome, RawPage, SyncStore};

use std::future::Future;
use std::pin::Pin;

/// A boxed `Send` future: what the object-safe store methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What a storage operation can fail with. Domain errors carry the stable error code the API
/// answers with; `Internal` is a bug or a broken database (a 5xx). Backends map their driver's
/// errors to these variants inside their own module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The entity does not exist or belongs to someone else (never reveal which).
    #[error("{0}")]
    NotFound(String),
    /// Input that is well-formed JSON but not acceptable (422).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// The request conflicts with stored state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// An intent batch starts after the next expected sequence number (409).
    #[error("sequence gap: the server expects seq {expected} next")]
    SequenceGap { expected: u64 },
    /// The backend cannot take more work right now: try again shortly.
    #[error("the server is busy; retry later")]
    Overloaded,
    /// The database cannot be used at all (closed, unreachable).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal storage error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> StoreError {
        StoreError::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> StoreError {
        StoreError::Internal(format!("stored JSON: {e}"))
    }
}

/// Every operation of the server: the union of the capability traits. Object-safe
/// (`Arc<dyn Storage>`); implemented for every backend that implements them all.
pub trait Storage: SyncStore + MerchantStore + AdminStore + IdentityStore {}

impl<T: SyncStore + MerchantStore + AdminStore + IdentityStore> Storage for T {}
