//! The outbox: typed intents waiting to be sent to the server.
//!
//! The phone never uploads rows. Each local change that the server must learn about (a cart
//! line, a voucher) writes an [`Intent`] here **in the same transaction** as the change, so the
//! two can never disagree — not even after `kill -9`. Each intent has this device's id, a
//! gap-free sequence number (1, 2, 3, …), a UUID v7 idempotency key, a kind and a JSON
//! payload. The sync client (a later issue) sends [`Outbox::next_batch`] and records what the
//! server answered with [`Outbox::record_results`]; an intent ends `applied` or `rejected`
//! exactly once, and a rejection never blocks the ones behind it.

use crate::catalog::{from_ms, ms};
use crate::error::{Error, Result};
use crate::protocol::{Intent, IntentBody, IntentOutcome};
use crate::store::{Store, meta_get, meta_set, meta_u64};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::sync::Arc;
use time::OffsetDateTime;

const META_DEVICE: &str = "device_id";
const META_SEQ: &str = "outbox_seq";
/// Set while this profile uses a device id it adopted and has not yet learnt the server's next
/// sequence number for it; the queued intents are renumbered before anything is sent.
const META_REBASE: &str = "outbox_rebase";
/// The sync client's cursor in this device's bucket.
const META_DEVICE_CURSOR: &str = "device_op_id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentState {
    Pending,
    Applied,
    Rejected { reason: String },
}

/// An intent as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedIntent {
    pub intent: Intent,
    pub state: IntentState,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub struct Outbox {
    store: Arc<Store>,
}

impl Outbox {
    pub fn new(store: Arc<Store>) -> Outbox {
        Outbox { store }
    }

    /// This profile's device id (a UUID v7 made when the profile was first used).
    pub fn device_id(&self) -> Result<String> {
        self.store.write(device_id)
    }

    /// Takes over a device id the server already knows: a reinstalled app whose secure storage
    /// kept its identity. Only a profile that has never sent anything may adopt (its intents
    /// are renumbered by [`Outbox::rebase`] before the first push). Returns whether it adopted.
    pub fn adopt_device(&self, device_id: &str) -> Result<bool> {
        self.store.write(|tx| {
            if meta_get(tx, META_DEVICE)?.as_deref() == Some(device_id) {
                return Ok(false);
            }
            let sent: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE state != 'pending')",
                [],
                |r| r.get(0),
            )?;
            if sent {
                return Ok(false);
            }
            meta_set(tx, META_DEVICE, device_id)?;
            meta_set(tx, META_REBASE, "1")?;
            tx.execute("UPDATE outbox SET device_id = ?1", [device_id])?;
            Ok(true)
        })
    }

    /// Whether [`Outbox::rebase`] must run before the next push.
    pub fn needs_rebase(&self) -> Result<bool> {
        self.store.read(|c| Ok(meta_get(c, META_REBASE)?.is_some()))
    }

    /// Renumbers the queued intents to start at `next_seq` (what the server expects from the
    /// adopted device id), in one transaction, and clears the rebase mark.
    pub fn rebase(&self, next_seq: u64) -> Result<()> {
        self.store.write(|tx| {
            let first: Option<i64> =
                tx.query_row("SELECT min(seq) FROM outbox", [], |r| r.get(0))?;
            let last = meta_u64(tx, META_SEQ)?;
            let offset = next_seq as i64 - first.unwrap_or(last as i64 + 1);
            if offset != 0 {
                // Two steps so the primary key never collides mid-update.
                tx.execute("UPDATE outbox SET seq = -seq", [])?;
                tx.execute("UPDATE outbox SET seq = -seq + ?1", [offset])?;
            }
            meta_set(tx, META_SEQ, &((last as i64 + offset).max(0)).to_string())?;
            tx.execute("DELETE FROM meta WHERE key = ?1", [META_REBASE])?;
            Ok(())
        })
    }

    /// The oldest pending intents, in sequence order.
    pub fn next_batch(&self, limit: u32) -> Result<Vec<Intent>> {
        self.store.read(|c| {
            Ok(query(c, "WHERE state = 'pending' ORDER BY seq", limit)?
                .into_iter()
                .map(|q| q.intent)
                .collect())
        })
    }

    /// Records the server's outcomes, all in one transaction. Recording the same outcome twice
    /// is a no-op; a different outcome for an intent that already ended is refused (an intent
    /// ends exactly once), as is an unknown key. Returns how many intents changed state.
    pub fn record_results(&self, results: &[(String, IntentOutcome)]) -> Result<usize> {
        self.record_results_at(results, OffsetDateTime::now_utc())
    }

    /// Records outcomes pulled from the device bucket: like [`Outbox::record_results`], but
    /// keys this profile never queued (results of a previous installation) are skipped and an
    /// outcome already recorded is left alone. Returns the keys whose state changed.
    pub fn record_known_results(&self, results: &[(String, IntentOutcome)]) -> Result<Vec<String>> {
        let now = OffsetDateTime::now_utc();
        self.store.write(|tx| {
            let mut changed = Vec::new();
            for (key, outcome) in results {
                let (state, reason) = match outcome {
                    IntentOutcome::Applied => ("applied", None),
                    IntentOutcome::Rejected { reason } => ("rejected", Some(reason.as_str())),
                    IntentOutcome::RetryLater { .. } => continue,
                };
                let n = tx
                    .prepare_cached(
                        "UPDATE outbox SET state = ?1, reason = ?2, updated_at = ?3
                         WHERE idempotency_key = ?4 AND state = 'pending'",
                    )?
                    .execute(params![state, reason, ms(now), key])?;
                if n > 0 {
                    changed.push(key.clone());
                }
            }
            Ok(changed)
        })
    }

    /// The sync client's cursor in this device's bucket (0 before the first pull).
    pub fn device_cursor(&self) -> Result<u64> {
        self.store.read(|c| meta_u64(c, META_DEVICE_CURSOR))
    }

    pub fn set_device_cursor(&self, cursor: u64) -> Result<()> {
        self.store
            .write(|tx| meta_set(tx, META_DEVICE_CURSOR, &cursor.to_string()))
    }

    pub fn record_results_at(
        &self,
        results: &[(String, IntentOutcome)],
        now: OffsetDateTime,
    ) -> Result<usize> {
        self.store.write(|tx| {
            let mut changed = 0;
            for (key, outcome) in results {
                let current: Option<(String, Option<String>)> = tx
                    .prepare_cached("SELECT state, reason FROM outbox WHERE idempotency_key = ?1")?
                    .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((state, reason)) = current else {
                    return Err(Error::Outbox(format!("no intent with key {key}")));
                };
                let (new_state, new_reason) = match outcome {
                    IntentOutcome::Applied => ("applied", None),
                    IntentOutcome::Rejected { reason } => ("rejected", Some(reason.clone())),
                    // Transient: the intent stays pending and is sent again later.
                    IntentOutcome::RetryLater { .. } => continue,
                };
                if state == "pending" {
                    tx.prepare_cached(
                        "UPDATE outbox SET state = ?1, reason = ?2, updated_at = ?3
                         WHERE idempotency_key = ?4",
                    )?
                    .execute(params![new_state, new_reason, ms(now), key])?;
                    changed += 1;
                } else if state != new_state || reason != new_reason {
                    return Err(Error::Outbox(format!(
                        "intent {key} already ended {state}; it cannot end {new_state}"
                    )));
                }
            }
            Ok(changed)
        })
    }

    pub fn pending_count(&self) -> Result<u64> {
        self.store.read(|c| {
            let n: i64 = c.query_row(
                "SELECT count(*) FROM outbox WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
    }

    /// Every intent, newest first (for diagnostics and the CLI).
    pub fn list(&self, limit: u32) -> Result<Vec<QueuedIntent>> {
        self.store.read(|c| query(c, "ORDER BY seq DESC", limit))
    }
}

/// Outbox rows in the order and selection `tail` gives (a WHERE/ORDER BY clause).
fn query(c: &Connection, tail: &str, limit: u32) -> Result<Vec<QueuedIntent>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT seq, device_id, idempotency_key, payload, created_at, state, reason, updated_at
         FROM outbox {tail} LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, i64>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, device_id, key, payload, created, state, reason, updated) = row?;
        out.push(QueuedIntent {
            intent: Intent {
                device_id,
                seq: seq as u64,
                idempotency_key: key,
                body: serde_json::from_str(&payload)?,
                created_at: from_ms(created),
            },
            state: match state.as_str() {
                "applied" => IntentState::Applied,
                "rejected" => IntentState::Rejected {
                    reason: reason.unwrap_or_default(),
                },
                _ => IntentState::Pending,
            },
            updated_at: from_ms(updated),
        });
    }
    Ok(out)
}

/// The device id, created on first use inside the caller's transaction.
pub(crate) fn device_id(tx: &Transaction<'_>) -> Result<String> {
    if let Some(id) = meta_get(tx, META_DEVICE)? {
        return Ok(id);
    }
    let id = uuid::Uuid::now_v7().to_string();
    tx.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)",
        params![META_DEVICE, id],
    )?;
    Ok(id)
}

/// Queues an intent inside the caller's transaction (the one making the local change).
pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    body: &IntentBody,
    now: OffsetDateTime,
) -> Result<Intent> {
    let now = from_ms(ms(now)); // what the row stores
    let device_id = device_id(tx)?;
    let seq = meta_u64(tx, META_SEQ)? + 1;
    meta_set(tx, META_SEQ, &seq.to_string())?;
    let key = uuid::Uuid::now_v7().to_string();
    tx.prepare_cached(
        "INSERT INTO outbox(seq, device_id, idempotency_key, kind, payload, created_at,
                            updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        seq as i64,
        device_id,
        key,
        body.kind(),
        serde_json::to_string(body)?,
        ms(now)
    ])?;
    Ok(Intent {
        device_id,
        seq,
        idempotency_key: key,
        body: body.clone(),
        created_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox() -> (tempfile::TempDir, Arc<Store>, Outbox) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("p.db")).unwrap());
        (dir, store.clone(), Outbox::new(store))
    }

    fn push(store: &Store, n: u32) -> Vec<Intent> {
        (0..n)
            .map(|i| {
                store
                    .write(|tx| {
                        enqueue(
                            tx,
                            &IntentBody::CartSetLine {
                                variant_id: format!("v-{i}"),
                                quantity: 1,
                            },
                            OffsetDateTime::now_utc(),
                        )
                    })
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn sequence_is_gap_free_and_keys_are_uuid_v7() {
        let (_d, store, ob) = outbox();
        let pushed = push(&store, 5);
        let seqs: Vec<u64> = pushed.iter().map(|i| i.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        for i in &pushed {
            let u = uuid::Uuid::parse_str(&i.idempotency_key).unwrap();
            assert_eq!(u.get_version_num(), 7);
            assert_eq!(i.device_id, ob.device_id().unwrap());
        }
        // A failed transaction does not burn a sequence number.
        let r: Result<()> = store.write(|tx| {
            enqueue(tx, &IntentBody::CartClear {}, OffsetDateTime::now_utc())?;
            Err(Error::Outbox("abort".into()))
        });
        assert!(r.is_err());
        assert_eq!(push(&store, 1)[0].seq, 6);
    }

    #[test]
    fn batches_results_and_exactly_once() {
        let (_d, store, ob) = outbox();
        let pushed = push(&store, 4);
        assert_eq!(ob.pending_count().unwrap(), 4);
        let batch = ob.next_batch(3).unwrap();
        assert_eq!(batch, pushed[..3].to_vec());
        let results = vec![
            (batch[0].idempotency_key.clone(), IntentOutcome::Applied),
            (
                batch[1].idempotency_key.clone(),
                IntentOutcome::Rejected {
                    reason: "variant gone".into(),
                },
            ),
        ];
        assert_eq!(ob.record_results(&results).unwrap(), 2);
        // Re-recording the same outcomes is a no-op.
        assert_eq!(ob.record_results(&results).unwrap(), 0);
        // A rejection does not block: the next batch starts after it.
        let next = ob.next_batch(10).unwrap();
        assert_eq!(next.iter().map(|i| i.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(ob.pending_count().unwrap(), 2);
        // A different outcome for an ended intent is refused, atomically.
        let flip = vec![
            (next[0].idempotency_key.clone(), IntentOutcome::Applied),
            (
                batch[0].idempotency_key.clone(),
                IntentOutcome::Rejected { reason: "x".into() },
            ),
        ];
        assert!(matches!(ob.record_results(&flip), Err(Error::Outbox(_))));
        assert_eq!(ob.pending_count().unwrap(), 2, "nothing half-written");
        assert!(matches!(
            ob.record_results(&[("nope".into(), IntentOutcome::Applied)]),
            Err(Error::Outbox(_))
        ));
        let listed = ob.list(10).unwrap();
        assert_eq!(listed.len(), 4);
        assert_eq!(
            listed[2].state,
            IntentState::Rejected {
                reason: "variant gone".into()
            }
        );
    }
}
