//! One error type for the core's public API. Every variant is a typed reason that the
//! bindings map to a stable code; none of them is "something went wrong".

use crate::money::MoneyError;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error("money: {0}")]
    Money(#[from] MoneyError),

    #[error(
        "the database was written by a newer Warung (schema {found}, this build knows {supported}); update the app"
    )]
    SchemaTooNew { found: i64, supported: i64 },

    #[error("the database file is corrupt or not a Warung database: {0}")]
    Corrupt(String),

    #[error("storage error: {0}")]
    Storage(String),

    #[error("invalid catalog batch: {0}")]
    InvalidBatch(String),

    #[error("invalid catalog data for {kind} {id}: {reason}")]
    InvalidEntity {
        kind: &'static str,
        id: String,
        reason: String,
    },

    #[error("invalid search: {0}")]
    InvalidQuery(String),

    #[error("unknown product {0}")]
    UnknownProduct(String),

    #[error("unknown variant {0}")]
    UnknownVariant(String),

    #[error("unknown category {0}")]
    UnknownCategory(String),

    #[error("unknown merchant {0}")]
    UnknownMerchant(String),

    #[error("quantity {quantity} is out of range (1..={max})")]
    InvalidQuantity { quantity: i64, max: u32 },

    #[error("variant {0} is out of stock")]
    OutOfStock(String),

    #[error("variant {variant_id} has no price in {currency}")]
    NoPrice {
        variant_id: String,
        currency: String,
    },

    #[error("variant {0} is not in the cart")]
    NotInCart(String),

    #[error("voucher {code}: {reason}")]
    Voucher {
        code: String,
        reason: crate::cart::VoucherRejection,
    },

    #[error("outbox: {0}")]
    Outbox(String),

    /// The server could not be reached (after the retries), or the connection broke.
    #[error("network: {0}")]
    Network(String),

    /// The server refused a request; `code` is the stable code of its error body.
    #[error("server answered {status} {code}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },

    /// A page failed its checkpoint (checksum, order) or was not the wire format: nothing of
    /// it was applied.
    #[error("sync data failed verification: {0}")]
    SyncIntegrity(String),

    #[error("cancelled")]
    Cancelled,

    /// A sync configuration the client cannot use (URL, page size, batch size, certificate).
    #[error("invalid sync configuration: {0}")]
    InvalidSyncConfig(String),

    // -- identity (see `verify`): server codes mapped to reasons the app can act on -------
    /// Not a phone number Warung accepts (server code `invalid_phone`).
    #[error("invalid phone number: {0}")]
    InvalidPhone(String),

    /// A PIN is exactly 6 ASCII digits (`invalid_pin`).
    #[error("a PIN is exactly 6 digits (0-9)")]
    InvalidPin,

    /// All one digit or a straight run such as 123456 / 654321 (`weak_pin`).
    #[error("this PIN is too easy to guess (one repeated digit or a straight run)")]
    WeakPin,

    /// The call needs a signed-in session and there is none.
    #[error("not signed in")]
    NotSignedIn,

    /// The session ended (refresh refused, revoked, or expired): sign in again. The stored
    /// session has been removed.
    #[error("the session has expired; sign in again")]
    SessionExpired,

    /// The call needs a device bound to the SIM (`device_not_bound`, or no bound key here).
    #[error("this device is not bound to the account's SIM")]
    DeviceNotBound,

    /// An SMS code was refused: `code` is `otp_invalid` (with `attempts_left`),
    /// `otp_expired`, `otp_used`, `otp_locked`, `otp_wrong_device`, `invalid_code`,
    /// `not_found` (unknown challenge) or `wrong_purpose`.
    #[error("one-time code refused: {code}")]
    OtpRejected {
        code: String,
        attempts_left: Option<u32>,
    },

    /// Wrong PIN (`pin_incorrect`).
    #[error("wrong PIN ({attempts_left} attempts left)")]
    PinIncorrect { attempts_left: u32 },

    /// Too many wrong PINs: money movement is locked (`pin_locked`).
    #[error("PIN locked; try again in {retry_after_s} s")]
    PinLocked { retry_after_s: u64 },

    /// No PIN set yet (`pin_not_set`).
    #[error("no PIN has been set")]
    PinNotSet,

    /// The action needs a verified step-up OTP bound to it (`step_up_required`).
    #[error("this action needs a one-time code confirmation")]
    StepUpRequired,

    /// Too many requests (HTTP 429 `rate_limited`); not retried automatically.
    #[error("too many attempts; try again in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },

    /// No TOTP soft token enrolled (`totp_not_enrolled`, or no secret on this device).
    #[error("no TOTP soft token is enrolled")]
    TotpNotEnrolled,

    /// The server issues the TOTP secret once (`totp_already_enrolled`).
    #[error("a TOTP soft token is already enrolled")]
    TotpAlreadyEnrolled,

    /// A TOTP code was refused: `totp_invalid` or `totp_replayed`.
    #[error("TOTP code refused: {code}")]
    TotpRejected { code: String },

    /// The server refused the device signature: `signature_required`, `signature_stale`
    /// (check the phone's clock), `signature_invalid`, `signature_replayed` or
    /// `device_mismatch`.
    #[error("device signature refused: {code}")]
    SignatureRejected { code: String },

    /// The device binding ended without binding (expired or revoked).
    #[error("device binding failed: {}", .0.as_str())]
    BindingFailed(crate::protocol::BindingState),

    /// No binding SMS arrived before the caller's deadline (the binding may still complete).
    #[error("the binding SMS has not arrived yet")]
    BindingTimedOut,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
                Error::Corrupt(e.to_string())
            }
            _ => Error::Storage(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Storage(format!("stored JSON is unreadable: {e}"))
    }
}
