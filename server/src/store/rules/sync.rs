//! Devices and their intent batches: ordering, exactly-once and idempotency around
//! [`crate::intents::apply`] (the rules of each intent kind).
//!
//! **Atomicity.** A batch locks [`LockKey::Device`] first: it reads the device's next
//! sequence number and stored results and writes on the strength of them, so two batches of
//! one device must run one after the other (SQLite: the single writer; PostgreSQL: the
//! advisory lock). The whole batch is one transaction: a conflict anywhere rolls back
//! everything it did. Registration is one conditional insert (it does nothing when the id is
//! taken), so two registrations of one id cannot both pass and no lock is needed.

use super::LockKey;
use super::oplog::{self, OpLogTx};
use crate::auth::sha256;
use crate::intents::{self, DeviceState, IntentContext};
use crate::store::{AuthDevice, IntentBatchOutcome, StoreError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warung_core::protocol::{
    CartMirror, DeviceAction, DeviceInfo, DeviceRegistration, Intent, IntentBatchResult,
    IntentOutcome, IntentResult, RegisterDevice, Voucher,
};

/// A device row as the token lookup reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: String,
    pub platform: String,
    pub next_seq: u64,
    /// RFC 3339.
    pub registered_at: String,
}

/// An intent's stored result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIntent {
    pub idempotency_key: String,
    /// SHA-256 of the intent body's JSON.
    pub payload_hash: Vec<u8>,
    /// `protocol::IntentResult`.
    pub result_json: String,
}

/// A new device row.
#[derive(Debug, Clone, Copy)]
pub struct NewDevice<'a> {
    pub id: &'a str,
    pub token_hash: &'a [u8; 32],
    pub platform: &'a str,
    pub app_version: Option<&'a str>,
    /// RFC 3339.
    pub registered_at: &'a str,
    /// The empty `CartMirror`.
    pub cart_json: &'a str,
}

/// The sync primitives, inside the caller's transaction.
pub trait SyncTx: OpLogTx {
    /// Inserts the device with `next_seq` 1 unless the id exists (one conditional insert);
    /// `true` when inserted.
    fn insert_device(&mut self, device: &NewDevice<'_>) -> Result<bool, StoreError>;
    fn device_by_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<DeviceRow>, StoreError>;
    /// (next sequence number, cart mirror JSON).
    fn device_state(&mut self, device_id: &str) -> Result<Option<(u64, String)>, StoreError>;
    fn save_device_state(
        &mut self,
        device_id: &str,
        next_seq: u64,
        cart_json: &str,
    ) -> Result<(), StoreError>;
    fn stored_intent(
        &mut self,
        device_id: &str,
        seq: u64,
    ) -> Result<Option<StoredIntent>, StoreError>;
    /// The seq that used this idempotency key on the device.
    fn seq_by_key(&mut self, device_id: &str, key: &str) -> Result<Option<u64>, StoreError>;
    fn insert_intent(
        &mut self,
        device_id: &str,
        seq: u64,
        stored: &StoredIntent,
    ) -> Result<(), StoreError>;

    // ---- what intent rules read ----
    /// The exact stock count of a variant.
    fn variant_stock(&mut self, variant_id: &str) -> Result<Option<u32>, StoreError>;
    /// A voucher's JSON by its upper-case code.
    fn voucher_json(&mut self, code: &str) -> Result<Option<String>, StoreError>;
}

/// Registers a device. One conditional insert (nothing when the id is taken, answered
/// `Conflict(device_exists)`): locks nothing.
pub fn register_device(
    tx: &mut dyn SyncTx,
    request: RegisterDevice,
    token_hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<DeviceRegistration, StoreError> {
    let registered_at = now.format(&Rfc3339).unwrap_or_default();
    let cart_json = serde_json::to_string(&CartMirror::default())?;
    let inserted = tx.insert_device(&NewDevice {
        id: &request.device_id,
        token_hash,
        platform: &request.platform,
        app_version: request.app_version.as_deref(),
        registered_at: &registered_at,
        cart_json: &cart_json,
    })?;
    if !inserted {
        return Err(StoreError::conflict(
            "device_exists",
            format!("device {} is already registered", request.device_id),
        ));
    }
    Ok(DeviceRegistration {
        device_id: request.device_id,
        device_token: String::new(), // the handler fills in the secret
        next_seq: 1,
    })
}

/// The device holding a token (a read).
pub fn device_by_token(
    tx: &mut dyn SyncTx,
    token_hash: &[u8; 32],
) -> Result<Option<AuthDevice>, StoreError> {
    tx.device_by_token(token_hash)?
        .map(|row| {
            Ok(AuthDevice {
                info: DeviceInfo {
                    device_id: row.id,
                    platform: row.platform,
                    next_seq: row.next_seq,
                    registered_at: OffsetDateTime::parse(&row.registered_at, &Rfc3339)
                        .map_err(|e| StoreError::Internal(format!("stored timestamp: {e}")))?,
                },
            })
        })
        .transpose()
}

/// What intent rules read, over the batch's transaction.
struct Reads<'t> {
    tx: &'t mut dyn SyncTx,
    now: OffsetDateTime,
}

impl IntentContext for Reads<'_> {
    fn variant_stock(&mut self, variant_id: &str) -> Result<Option<u32>, StoreError> {
        self.tx.variant_stock(variant_id)
    }
    fn voucher(&mut self, code: &str) -> Result<Option<Voucher>, StoreError> {
        self.tx
            .voucher_json(code)?
            .map(|j| serde_json::from_str(&j).map_err(Into::into))
            .transpose()
    }
    fn now(&self) -> OffsetDateTime {
        self.now
    }
}

/// Applies a batch in sequence order: a seq below the next one answers its stored result (a
/// different key or payload is a conflict), the next one is applied and stored with its
/// result op, a gap stops the batch (an error when nothing was processed). Locks
/// [`LockKey::Device`] before it reads the device's next sequence number.
pub fn apply_batch(
    tx: &mut dyn SyncTx,
    device_id: &str,
    mut batch: Vec<Intent>,
    now: OffsetDateTime,
) -> Result<IntentBatchOutcome, StoreError> {
    tx.lock(LockKey::Device(device_id))?;
    batch.sort_by_key(|i| i.seq); // stable: duplicates keep their order
    let (mut next_seq, cart_json) = tx
        .device_state(device_id)?
        .ok_or_else(|| StoreError::NotFound(format!("no device {device_id:?}")))?;
    let mut state = DeviceState {
        cart: serde_json::from_str::<CartMirror>(&cart_json)?,
        cart_changed: false,
    };
    let mut results = Vec::with_capacity(batch.len());
    let (mut applied, mut rejected) = (0u64, 0u64);
    for intent in &batch {
        let payload_hash = sha256(&serde_json::to_vec(&intent.body)?);
        if intent.seq < next_seq {
            let Some(stored) = tx.stored_intent(device_id, intent.seq)? else {
                return Err(StoreError::Internal(format!(
                    "device {device_id} has no stored result for seq {}",
                    intent.seq
                )));
            };
            if stored.idempotency_key != intent.idempotency_key
                || stored.payload_hash != payload_hash
            {
                return Err(StoreError::conflict(
                    "idempotency_conflict",
                    format!(
                        "seq {} was already processed with a different idempotency key or payload",
                        intent.seq
                    ),
                ));
            }
            results.push(serde_json::from_str::<IntentResult>(&stored.result_json)?);
        } else if intent.seq == next_seq {
            if let Some(other) = tx.seq_by_key(device_id, &intent.idempotency_key)? {
                return Err(StoreError::conflict(
                    "idempotency_conflict",
                    format!(
                        "idempotency key {:?} was already used by seq {other}",
                        intent.idempotency_key
                    ),
                ));
            }
            let outcome =
                intents::apply(&mut Reads { tx: &mut *tx, now }, &mut state, &intent.body)?;
            match outcome {
                IntentOutcome::Applied => applied += 1,
                IntentOutcome::Rejected { .. } => rejected += 1,
                IntentOutcome::RetryLater { .. } => {
                    // Transient: not stored, the seq is not consumed; stop here.
                    results.push(IntentResult {
                        seq: intent.seq,
                        idempotency_key: intent.idempotency_key.clone(),
                        outcome,
                    });
                    break;
                }
            }
            let result = IntentResult {
                seq: intent.seq,
                idempotency_key: intent.idempotency_key.clone(),
                outcome,
            };
            tx.insert_intent(
                device_id,
                intent.seq,
                &StoredIntent {
                    idempotency_key: intent.idempotency_key.clone(),
                    payload_hash: payload_hash.to_vec(),
                    result_json: serde_json::to_string(&result)?,
                },
            )?;
            oplog::device_op(
                tx,
                device_id,
                DeviceAction::IntentResult {
                    result: result.clone(),
                },
            )?;
            results.push(result);
            next_seq += 1;
        } else {
            break; // a gap: later intents wait for the missing ones
        }
    }
    if results.is_empty() && !batch.is_empty() {
        return Err(StoreError::SequenceGap { expected: next_seq });
    }
    tx.save_device_state(device_id, next_seq, &serde_json::to_string(&state.cart)?)?;
    if state.cart_changed {
        oplog::device_op(tx, device_id, DeviceAction::Cart { cart: state.cart })?;
    }
    Ok(IntentBatchOutcome {
        result: IntentBatchResult { results, next_seq },
        newly_applied: applied,
        newly_rejected: rejected,
    })
}
