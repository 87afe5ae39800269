//! Sync messages: pulling a bucket (down), registering a device and sending intents (up).
//!
//! * `GET /v1/buckets/{bucket}/ops?after=…&limit=…` answers a [`Page`]: the bucket's ops after
//!   the cursor in op-id order, a [`Checkpoint`] whose checksum the client verifies, `has_more`,
//!   and `reset` when the cursor is older than the compaction horizon (drop the bucket's data
//!   and pull again from 0; not an error).
//! * `POST /v1/devices` registers a device ([`RegisterDevice`] → [`DeviceRegistration`]); the
//!   device token then authenticates as `Authorization: Bearer <token>`.
//! * `POST /v1/intents` takes an [`IntentBatch`] from the outbox and answers an
//!   [`IntentBatchResult`].

use super::{Id, Intent, IntentOutcome};
use serde::{Deserialize, Serialize};

/// Ops per page when the client does not say.
pub const DEFAULT_PAGE_LIMIT: u32 = 1000;
/// The largest page a server serves.
pub const MAX_PAGE_LIMIT: u32 = 5000;
/// The most intents one batch may carry.
pub const MAX_INTENT_BATCH: usize = 500;

/// A bucket: an append-only op log with strictly increasing op ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Shared by every phone: merchants, categories, products, variants (prices, stock bands)
    /// and vouchers. Ops are [`super::CatalogOp`]s.
    Catalog,
    /// One per device: intent results and the server's mirror of the cart. Ops are
    /// [`DeviceOp`]s.
    Device,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Catalog => "catalog",
            Bucket::Device => "device",
        }
    }
}

/// Where a page ends, and a checksum over its ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Checkpoint {
    /// The cursor to send next: the last op id of the page (or the request's cursor when the
    /// page is empty).
    pub op_id: u64,
    /// Wrapping sum of [`op_checksum`] over the JSON text of each op of the page, as sent.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub checksum: u32,
}

/// One page of a bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<Op> {
    /// Ops after the request's cursor, in increasing op id, at most the request's limit.
    pub ops: Vec<Op>,
    pub checkpoint: Checkpoint,
    /// More ops follow this page: pull again from `checkpoint.op_id`.
    pub has_more: bool,
    /// The cursor is older than the compaction horizon: tombstones it needs are gone. Drop the
    /// bucket's local data and pull again from 0. `ops` is empty.
    pub reset: bool,
    /// The bucket's latest op id when the page was read.
    pub head: u64,
    /// The compaction horizon: tombstones at or below it are gone. A client starting from 0
    /// keeps the horizon of its first page and sends it back as `horizon` on every later pull.
    #[serde(default)]
    pub horizon: u64,
    /// Ops after this page, for progress bars (exact when the page was read).
    pub remaining: u64,
}

/// The checksum of one op: the low 32 bits of FNV-1a over its JSON text. Not a security
/// boundary (TLS is); it catches truncated, reordered or mangled pages.
pub fn op_checksum(json: &[u8]) -> u32 {
    fnv1a64(json) as u32
}

/// The checksum of a page, from the JSON text of each op.
pub fn page_checksum<'a>(ops: impl IntoIterator<Item = &'a [u8]>) -> u32 {
    ops.into_iter()
        .fold(0u32, |sum, op| sum.wrapping_add(op_checksum(op)))
}

/// FNV-1a, 64 bits: a tiny stable hash (a dependency would be heavier than these lines).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Query of a pull: the client sends it, the server reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PullQuery {
    /// The client's cursor: the last op id it applied (0 for none).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 0, maximum = 9223372036854775807_i64)
    )]
    pub after: u64,
    /// Ops per page, 1 ..= 5000 (default 1000).
    #[serde(default = "default_limit")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 5000))]
    pub limit: u32,
    /// The horizon the client's data is complete against (the `horizon` of the first page of
    /// its pull from 0). A cursor below the current horizon gets `reset` only if this is older:
    /// a client that started after the compaction missed no tombstone.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 0, maximum = 9223372036854775807_i64)
    )]
    pub horizon: u64,
}

fn default_limit() -> u32 {
    DEFAULT_PAGE_LIMIT
}

/// An op of a device bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceOp {
    pub op_id: u64,
    #[serde(flatten)]
    pub action: DeviceAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DeviceAction {
    /// How the server ended one of this device's intents.
    IntentResult { result: IntentResult },
    /// The server's copy of this device's cart (the latest one replaces the others): what a
    /// reinstalled app restores.
    Cart { cart: CartMirror },
}

/// The cart as the server mirrors it from `cart.*` and `voucher.*` intents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartMirror {
    pub lines: Vec<CartMirrorLine>,
    /// Applied voucher codes, upper-case.
    pub vouchers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartMirrorLine {
    pub variant_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub quantity: u32,
}

/// `POST /v1/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterDevice {
    /// Chosen by the phone (a UUID); the `device_id` of its intents.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::device_id))]
    pub device_id: String,
    /// `android`, `ios` or `cli`: informational.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::platform))]
    pub platform: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::app_version))]
    pub app_version: Option<String>,
}

/// The answer to a registration. The token is shown once; the server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRegistration {
    pub device_id: String,
    /// Secret: `Authorization: Bearer <device_token>` on device endpoints.
    pub device_token: String,
    /// The sequence number the server expects next from this device.
    pub next_seq: u64,
}

/// `GET /v1/devices/me`: what the server knows of the calling device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    pub device_id: String,
    pub platform: String,
    pub next_seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: time::OffsetDateTime,
}

/// `POST /v1/intents`: pending intents from the outbox, at most [`MAX_INTENT_BATCH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntentBatch {
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub intents: Vec<Intent>,
}

/// The result of one intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntentResult {
    pub seq: u64,
    pub idempotency_key: String,
    pub outcome: IntentOutcome,
}

/// The answer to a batch: a result for every intent up to the first sequence gap (intents
/// after a gap are not processed; send them again after the missing ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntentBatchResult {
    pub results: Vec<IntentResult>,
    /// The sequence number the server expects next from this device.
    pub next_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_checksum_is_order_independent_sum() {
        let a = br#"{"op_id":1}"#.as_slice();
        let b = br#"{"op_id":2}"#.as_slice();
        assert_eq!(page_checksum([a, b]), page_checksum([b, a]));
        assert_eq!(
            page_checksum([a, b]),
            op_checksum(a).wrapping_add(op_checksum(b))
        );
        assert_ne!(page_checksum([a]), page_checksum([b]));
        assert_eq!(page_checksum(std::iter::empty()), 0);
    }

    #[test]
    fn device_op_json_shape() {
        let op = DeviceOp {
            op_id: 3,
            action: DeviceAction::IntentResult {
                result: IntentResult {
                    seq: 1,
                    idempotency_key: "k".into(),
                    outcome: IntentOutcome::Rejected {
                        reason: "unknown_variant".into(),
                    },
                },
            },
        };
        let json = serde_json::to_value(&op).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"op_id": 3, "op": "intent_result", "result": {"seq": 1,
                "idempotency_key": "k", "outcome": {"status": "rejected", "reason": "unknown_variant"}}})
        );
        assert_eq!(serde_json::from_value::<DeviceOp>(json).unwrap(), op);
    }
}
