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
