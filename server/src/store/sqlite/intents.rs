//! Intent batches in SQLite: ordering, exactly-once and idempotency around
//! [`crate::intents::apply`]. The whole batch is one writer job, so it is one savepoint of one
//! transaction: a conflict anywhere rolls back everything it did, and concurrent batches of
//! one device are serialized by the single writer.

use super::{catalog, oplog};
use crate::auth::sha256;
use crate::intents::{self, DeviceState, IntentContext};
use crate::store::{IntentBatchOutcome, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use warung_core::protocol::{
    CartMirror, DeviceAction, Intent, IntentBatchResult, IntentOutcome, IntentResult, Voucher,
};

struct SqlContext<'c> {
    conn: &'c Connection,
    now: OffsetDateTime,
}

impl IntentContext for SqlContext<'_> {
    fn variant_stock(&mut self, variant_id: &str) -> Result<Option<u32>, StoreError> {
        catalog::variant_stock(self.conn, variant_id)
    }
    fn voucher(&mut self, code: &str) -> Result<Option<Voucher>, StoreError> {
        catalog::voucher(self.conn, code)
    }
    fn now(&self) -> OffsetDateTime {
        self.now
    }
}

pub fn apply_batch(
    conn: &Connection,
    device_id: &str,
    mut batch: Vec<Intent>,
    now: OffsetDateTime,
) -> Result<IntentBatchOutcome, StoreError> {
    batch.sort_by_key(|i| i.seq); // stable: duplicates keep their order
    let (next_seq, cart_json): (i64, String) = conn
        .prepare_cached("SELECT next_seq, cart_json FROM device WHERE id = ?1")?
        .query_row([device_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no device {device_id:?}")))?;
    let mut next_seq = next_seq as u64;
    let mut state = DeviceState {
        cart: serde_json::from_str::<CartMirror>(&cart_json)?,
        cart_changed: false,
    };
    let mut ctx = SqlContext { conn, now };
    let mut results = Vec::with_capacity(batch.len());
    let (mut applied, mut rejected) = (0u64, 0u64);
    for intent in &batch {
        let payload_hash = sha256(&serde_json::to_vec(&intent.body)?);
        if intent.seq < next_seq {
            let stored: Option<(String, Vec<u8>, String)> = conn
                .prepare_cached(
                    "SELECT idempotency_key, payload_hash, result_json FROM intent
                     WHERE device_id = ?1 AND seq = ?2",
                )?
                .query_row(params![device_id, intent.seq as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((key, hash, result_json)) = stored else {
                return Err(StoreError::Internal(format!(
                    "device {device_id} has no stored result for seq {}",
                    intent.seq
                )));
            };
            if key != intent.idempotency_key || hash != payload_hash {
                return Err(StoreError::conflict(
                    "idempotency_conflict",
                    format!(
                        "seq {} was already processed with a different idempotency key or payload",
                        intent.seq
                    ),
                ));
            }
            results.push(serde_json::from_str::<IntentResult>(&result_json)?);
        } else if intent.seq == next_seq {
            let reused: Option<i64> = conn
                .prepare_cached(
                    "SELECT seq FROM intent WHERE device_id = ?1 AND idempotency_key = ?2",
                )?
                .query_row(params![device_id, intent.idempotency_key], |r| r.get(0))
                .optional()?;
            if let Some(other) = reused {
                return Err(StoreError::conflict(
                    "idempotency_conflict",
                    format!(
                        "idempotency key {:?} was already used by seq {other}",
                        intent.idempotency_key
                    ),
                ));
            }
            let outcome = intents::apply(&mut ctx, &mut state, &intent.body)?;
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
            conn.prepare_cached(
                "INSERT INTO intent (device_id, seq, idempotency_key, payload_hash, result_json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                device_id,
                intent.seq as i64,
                intent.idempotency_key,
                &payload_hash[..],
                serde_json::to_string(&result)?
            ])?;
            oplog::device_op(
                conn,
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
    conn.prepare_cached("UPDATE device SET next_seq = ?2, cart_json = ?3 WHERE id = ?1")?
        .execute(params![
            device_id,
            next_seq as i64,
            serde_json::to_string(&state.cart)?
        ])?;
    if state.cart_changed {
        oplog::device_op(conn, device_id, DeviceAction::Cart { cart: state.cart })?;
    }
    Ok(IntentBatchOutcome {
        result: IntentBatchResult { results, next_seq },
        newly_applied: applied,
        newly_rejected: rejected,
    })
}
