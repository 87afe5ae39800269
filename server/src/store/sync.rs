//! The sync part of the storage boundary: pulls from the op log, device registration and
//! tokens, intent batches. The rules behind it are [`super::rules::sync`] (exactly-once intents)
//! and [`super::rules::oplog`] (op ids, pages).

use super::StoreFuture;
use warung_core::protocol::{
    DeviceInfo, DeviceRegistration, Intent, IntentBatchResult, RegisterDevice,
};

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
            BucketKey::Device(id) => device_bucket(id),
        }
    }
}

/// The name of a device's bucket.
pub fn device_bucket(device_id: &str) -> String {
    format!("device:{device_id}")
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

/// Sync operations. Object-safe; part of [`super::Storage`].
pub trait SyncStore: Send + Sync + 'static {
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
}
