//! The storage boundary: the domain operations the HTTP handlers and admin commands call.
//!
//! Handlers never see SQL. Everything they need is a method of [`Storage`], phrased in wire
//! types, so a PostgreSQL backend can implement the same trait later without touching the
//! handlers. The SQLite implementation lives in [`sqlite`]: one writer thread doing group
//! commit, a small pool of read connections.
//!
//! Authentication secrets reach the store only as SHA-256 hashes ([`crate::auth`]).

pub mod identity;
pub mod postgres;
pub mod sqlite;
pub mod transfer;

pub use identity::IdentityStore;

use std::future::Future;
use std::pin::Pin;
use warung_core::protocol::{
    CatalogOp, Category, Intent, IntentBatchResult, Merchant, MerchantAccount, MerchantKind,
    MerchantProduct, MerchantProfile, MerchantVariant, PricesUpdate, ProductInput, ProductList,
    RegisterDevice, VariantInput,
};
use warung_core::protocol::{DeviceInfo, DeviceRegistration};

/// A boxed `Send` future: what the object-safe [`Storage`] methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What a storage operation can fail with. Domain errors carry the stable error code the API
/// answers with; `Internal` is a bug or a broken database (a 5xx).
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
    /// The writer's queue is full: try again shortly.
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

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> StoreError {
        StoreError::Internal(format!("stored JSON: {e}"))
    }
}

/// Which op log a pull reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketKey {
    Catalog,
    Device(String),
}

impl BucketKey {
    /// The bucket's name in the op log (`catalog`, `device:<id>`).
    pub fn storage_name(&self) -> String {
        match self {
            BucketKey::Catalog => "catalog".to_owned(),
            BucketKey::Device(id) => format!("device:{id}"),
        }
    }
}

/// A page read from the op log: the stored op texts, served verbatim.
#[derive(Debug)]
pub struct RawPage {
    pub ops: Vec<Box<serde_json::value::RawValue>>,
    /// Wrapping sum of the stored checksums of `ops`.
    pub checksum: u32,
    /// The last op id of the page, or the request's cursor when empty.
    pub last_op_id: u64,
    pub has_more: bool,
    pub reset: bool,
    pub head: u64,
    pub horizon: u64,
    pub remaining: u64,
}

/// A device found by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthDevice {
    pub info: DeviceInfo,
}

/// What the intent handler needs besides the batch.
#[derive(Debug, Clone)]
pub struct IntentBatchOutcome {
    pub result: IntentBatchResult,
    /// Intents newly processed by this request (not stored results sent back).
    pub newly_applied: u64,
    pub newly_rejected: u64,
}

/// How much a compaction removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactReport {
    /// Tombstones deleted.
    pub tombstones_removed: u64,
    /// Buckets whose horizon moved, with the new horizon.
    pub horizons: Vec<(String, u64)>,
}

/// Group-commit counters of the writer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Write transactions committed (or attempted).
    pub transactions: u64,
    /// Jobs run inside them; `jobs / transactions` is the batching factor.
    pub jobs: u64,
}

/// The domain operations of the server. Object-safe (`Arc<dyn Storage>`).
pub trait Storage: IdentityStore + Send + Sync + 'static {
    /// The database answers (readiness).
    fn ping(&self) -> StoreFuture<'_, ()>;

    // ---- sync ----
    /// Ops of `bucket` after `after`, at most `limit`; `reset` when `after` is below the
    /// compaction horizon and the client's data is older than it (`client_horizon`).
    fn pull(
        &self,
        bucket: BucketKey,
        after: u64,
        client_horizon: u64,
        limit: u32,
    ) -> StoreFuture<'_, RawPage>;
    /// Registers a device; `Conflict(device_exists)` when the id is taken.
    fn register_device(
        &self,
        request: RegisterDevice,
        token_hash: [u8; 32],
    ) -> StoreFuture<'_, DeviceRegistration>;
    /// The device holding a token with this hash.
    fn device_by_token(&self, token_hash: [u8; 32]) -> StoreFuture<'_, Option<AuthDevice>>;
    /// Runs a batch (already checked to belong to `device_id`) in one transaction.
    fn apply_intents(
        &self,
        device_id: String,
        intents: Vec<Intent>,
    ) -> StoreFuture<'_, IntentBatchOutcome>;

    // ---- merchant API ----
    /// The merchant holding a key with this hash.
    fn merchant_by_key(&self, key_hash: [u8; 32]) -> StoreFuture<'_, Option<String>>;
    fn merchant(&self, merchant_id: String) -> StoreFuture<'_, Merchant>;
    fn update_merchant(
        &self,
        merchant_id: String,
        profile: MerchantProfile,
    ) -> StoreFuture<'_, Merchant>;
    fn categories(&self) -> StoreFuture<'_, Vec<Category>>;
    fn list_products(
        &self,
        merchant_id: String,
        after: Option<String>,
        limit: u32,
    ) -> StoreFuture<'_, ProductList>;
    fn product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, MerchantProduct>;
    fn create_product(
        &self,
        merchant_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct>;
    fn update_product(
        &self,
        merchant_id: String,
        product_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct>;
    fn delete_product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, ()>;
    fn create_variant(
        &self,
        merchant_id: String,
        product_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant>;
    fn update_variant(
        &self,
        merchant_id: String,
        variant_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant>;
    fn delete_variant(&self, merchant_id: String, variant_id: String) -> StoreFuture<'_, ()>;
    fn set_stock(
        &self,
        merchant_id: String,
        variant_id: String,
        stock: u32,
    ) -> StoreFuture<'_, MerchantVariant>;
    fn set_prices(
        &self,
        merchant_id: String,
        variant_id: String,
        update: PricesUpdate,
    ) -> StoreFuture<'_, MerchantVariant>;

    // ---- admin ----
    fn create_merchant_account(
        &self,
        name: String,
        kind: MerchantKind,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount>;
    fn list_merchant_accounts(&self) -> StoreFuture<'_, Vec<MerchantAccount>>;
    /// Replaces a merchant's key; `NotFound` for an unknown merchant.
    fn rotate_key(
        &self,
        merchant_id: String,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount>;
    /// Loads catalog PUT ops (their op ids are reassigned) into an empty catalog; `false`
    /// when it already holds merchants or products. Variants get the exact count their demo
    /// band stands for (in_stock 50, low 3, out 0).
    fn seed(&self, ops: Vec<CatalogOp>) -> StoreFuture<'_, bool>;
    /// Publishes `categories` as the shared taxonomy when there are none yet.
    fn ensure_categories(&self, categories: Vec<Category>) -> StoreFuture<'_, ()>;
    /// Deletes tombstones older than the newest `keep_ops` ops of their bucket.
    fn compact(&self, keep_ops: u64) -> StoreFuture<'_, CompactReport>;
    /// Group-commit counters.
    fn writer_stats(&self) -> WriterStats;
}
