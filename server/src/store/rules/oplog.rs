//! The op log: allocating op ids, appending ops, reading pages, compacting.
//!
//! * **One sequence.** Op ids come from one sequence row, incremented inside the writing
//!   transaction ([`OpLogTx::next_op_id`]), so ids increase within every bucket even after
//!   rows are deleted.
//! * **Visibility in order.** Because the increment is an update of that one row, the
//!   transaction holds the row's write lock until it commits: the next transaction that
//!   allocates an id waits for the commit. So ids become visible in order — a puller never
//!   sees op N+1 committed while N is still pending, and a client's cursor never skips an op.
//!   SQLite gets this from its single writer; PostgreSQL from the row lock of
//!   `UPDATE op_sequence … RETURNING` (a `SEQUENCE` would NOT do: its values are handed out
//!   outside the transaction and commit in any order). Every transaction that publishes is
//!   therefore serialized from its first op id to its commit: allocate ids late.
//! * **Latest op per entity.** Appending an op for an entity deletes that entity's previous op
//!   in the bucket (compaction done eagerly); tombstones stay until [`compact`].
//! * **Served verbatim.** Each row stores the op's exact JSON and its checksum; a pull serves
//!   the stored text byte for byte.

use super::Transaction;
use crate::store::sync::device_bucket;
use crate::store::{CompactReport, RawPage, StoreError};
use serde_json::value::RawValue;
use warung_core::protocol::{
    CatalogAction, CatalogOp, DeviceAction, DeviceOp, Entity, EntityKind, op_checksum,
};

/// The catalog's bucket.
pub const CATALOG: &str = "catalog";

/// One stored op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRow<'a> {
    pub op_id: u64,
    pub bucket: &'a str,
    /// Entity kind, `intent_result` or `cart`.
    pub kind: &'a str,
    pub entity_id: &'a str,
    /// A REMOVE op (compaction may delete it).
    pub tombstone: bool,
    /// The op exactly as served.
    pub json: &'a str,
    /// `op_checksum(json)`.
    pub checksum: u32,
}

/// A bucket's bookkeeping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketState {
    /// The latest op id ever appended.
    pub head: u64,
    /// Tombstones at or below it may be gone.
    pub horizon: u64,
}

/// The op log's primitives, inside the caller's transaction. Op ids are stored as signed
/// 64-bit integers (both backends): cursors above `i64::MAX` are clamped by the rules.
pub trait OpLogTx: Transaction {
    /// Advances the one sequence row by `n` (≥ 1) and returns the new value, the last of the
    /// `n` ids reserved, holding that row's write lock until the transaction ends (see the
    /// module docs: this is what orders visibility).
    fn next_op_ids(&mut self, n: u64) -> Result<u64, StoreError>;
    /// One op id ([`OpLogTx::next_op_ids`] of 1).
    fn next_op_id(&mut self) -> Result<u64, StoreError> {
        self.next_op_ids(1)
    }
    /// Deletes the op of `(bucket, kind, entity_id)`, if any.
    fn delete_entity_op(
        &mut self,
        bucket: &str,
        kind: &str,
        entity_id: &str,
    ) -> Result<(), StoreError>;
    fn insert_op(&mut self, op: &OpRow<'_>) -> Result<(), StoreError>;
    /// Sets the bucket's head, creating the bucket (horizon 0) if needed.
    fn set_head(&mut self, bucket: &str, head: u64) -> Result<(), StoreError>;

    // ---- reading ----
    fn bucket(&mut self, bucket: &str) -> Result<Option<BucketState>, StoreError>;
    /// Every bucket with its state.
    fn buckets(&mut self) -> Result<Vec<(String, BucketState)>, StoreError>;
    /// How many ops of the bucket have an id above `after`.
    fn count_after(&mut self, bucket: &str, after: u64) -> Result<u64, StoreError>;
    /// Up to `limit` ops above `after`, by id: (op id, stored JSON, stored checksum).
    fn ops_after(
        &mut self,
        bucket: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String, u32)>, StoreError>;

    // ---- compaction ----
    /// Deletes the bucket's tombstones with an id at or below `up_to`; returns their ids.
    fn delete_tombstones(&mut self, bucket: &str, up_to: u64) -> Result<Vec<u64>, StoreError>;
    /// Raises the bucket's horizon to `horizon` (never lowers it).
    fn raise_horizon(&mut self, bucket: &str, horizon: u64) -> Result<(), StoreError>;
}

/// Stores an op in place of the entity's previous one (the bucket's head is the caller's).
fn store_op(
    tx: &mut (impl OpLogTx + ?Sized),
    op_id: u64,
    bucket: &str,
    kind: &str,
    entity_id: &str,
    tombstone: bool,
    json: &str,
) -> Result<(), StoreError> {
    tx.delete_entity_op(bucket, kind, entity_id)?;
    tx.insert_op(&OpRow {
        op_id,
        bucket,
        kind,
        entity_id,
        tombstone,
        json,
        checksum: op_checksum(json.as_bytes()),
    })
}

fn append(
    tx: &mut (impl OpLogTx + ?Sized),
    op_id: u64,
    bucket: &str,
    kind: &str,
    entity_id: &str,
    tombstone: bool,
    json: &str,
) -> Result<(), StoreError> {
    store_op(tx, op_id, bucket, kind, entity_id, tombstone, json)?;
    tx.set_head(bucket, op_id)
}

/// The op log's name of an entity kind.
pub fn kind_str(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Merchant => "merchant",
        EntityKind::Category => "category",
        EntityKind::Product => "product",
        EntityKind::Variant => "variant",
        EntityKind::Voucher => "voucher",
    }
}

/// Publishes a PUT of `entity` to the catalog bucket, in the caller's transaction (atomic with
/// the change it publishes; ordered by [`OpLogTx::next_op_id`]).
pub fn put(tx: &mut (impl OpLogTx + ?Sized), entity: &Entity) -> Result<u64, StoreError> {
    let op_id = tx.next_op_id()?;
    let op = CatalogOp {
        op_id,
        action: CatalogAction::Put {
            entity: entity.clone(),
        },
    };
    let json = serde_json::to_string(&op)?;
    let kind = kind_str(entity.kind());
    append(tx, op_id, CATALOG, kind, entity.id(), false, &json)?;
    Ok(op_id)
}

/// Publishes PUTs of many entities at once (seeding a catalog), in the caller's transaction:
/// each op is what [`put`] would publish, in order, but the ids come as one block from the
/// sequence and the bucket's head is set once. One update of the sequence and bucket rows per
/// op would leave PostgreSQL, inside one long transaction, a growing chain of versions of
/// those two rows to walk at every update (a 100,000-product seed took 36 minutes).
pub fn put_all(tx: &mut (impl OpLogTx + ?Sized), entities: &[Entity]) -> Result<(), StoreError> {
    let Some(n) = u64::try_from(entities.len()).ok().filter(|n| *n > 0) else {
        return Ok(());
    };
    let last = tx.next_op_ids(n)?;
    for (op_id, entity) in (last + 1 - n..).zip(entities) {
        let op = CatalogOp {
            op_id,
            action: CatalogAction::Put {
                entity: entity.clone(),
            },
        };
        let json = serde_json::to_string(&op)?;
        store_op(
            tx,
            op_id,
            CATALOG,
            kind_str(entity.kind()),
            entity.id(),
            false,
            &json,
        )?;
    }
    tx.set_head(CATALOG, last)
}

/// Publishes a REMOVE (tombstone) of an entity to the catalog bucket, in the caller's
/// transaction.
pub fn remove(
    tx: &mut (impl OpLogTx + ?Sized),
    kind: EntityKind,
    id: &str,
) -> Result<u64, StoreError> {
    let op_id = tx.next_op_id()?;
    let op = CatalogOp {
        op_id,
        action: CatalogAction::Remove {
            kind,
            id: id.to_owned(),
        },
    };
    let json = serde_json::to_string(&op)?;
    append(tx, op_id, CATALOG, kind_str(kind), id, true, &json)?;
    Ok(op_id)
}

/// Appends a device op (`intent_result` keyed by seq, or the single `cart`), in the caller's
/// transaction.
pub fn device_op(
    tx: &mut (impl OpLogTx + ?Sized),
    device_id: &str,
    action: DeviceAction,
) -> Result<u64, StoreError> {
    let op_id = tx.next_op_id()?;
    let (kind, entity_id) = match &action {
        DeviceAction::IntentResult { result } => ("intent_result", result.seq.to_string()),
        DeviceAction::Cart { .. } => ("cart", "cart".to_owned()),
    };
    let json = serde_json::to_string(&DeviceOp { op_id, action })?;
    let bucket = device_bucket(device_id);
    append(tx, op_id, &bucket, kind, &entity_id, false, &json)?;
    Ok(op_id)
}

/// The largest cursor a backend stores.
fn clamp(cursor: u64) -> u64 {
    cursor.min(i64::MAX as u64)
}

/// Reads one page of a bucket. Run it inside one read transaction with one snapshot (SQLite:
/// a read transaction; PostgreSQL: REPEATABLE READ, READ ONLY), so the head, the ops and the
/// remaining count agree. Locks nothing.
pub fn page(
    tx: &mut (impl OpLogTx + ?Sized),
    bucket: &str,
    after: u64,
    client_horizon: u64,
    limit: u32,
) -> Result<RawPage, StoreError> {
    let BucketState { head, horizon } = tx.bucket(bucket)?.unwrap_or_default();
    // Tombstones at or below the horizon are gone. A client holding data from before that
    // compaction (its horizon is older) may hold entities whose deletes it can no longer see;
    // one that started from 0 since then holds none of them and just pages on.
    if after > 0 && after < horizon && client_horizon < horizon {
        return Ok(RawPage {
            ops: Vec::new(),
            checksum: 0,
            last_op_id: 0,
            has_more: false,
            reset: true,
            head,
            horizon,
            remaining: tx.count_after(bucket, 0)?,
        });
    }
    let mut ops = Vec::new();
    let mut checksum = 0u32;
    let mut last = after;
    for (op_id, json, sum) in tx.ops_after(bucket, clamp(after), limit)? {
        checksum = checksum.wrapping_add(sum);
        last = op_id;
        ops.push(RawValue::from_string(json)?);
    }
    let remaining = tx.count_after(bucket, clamp(last))?;
    Ok(RawPage {
        ops,
        checksum,
        last_op_id: last,
        has_more: remaining > 0,
        reset: false,
        head,
        horizon,
        remaining,
    })
}

/// Deletes tombstones that are not among the newest `keep_ops` op ids of their bucket and
/// moves each bucket's horizon to the newest tombstone it deleted. Needs no lock: deletes are
/// idempotent and [`OpLogTx::raise_horizon`] only raises, so concurrent compactions agree.
pub fn compact(
    tx: &mut (impl OpLogTx + ?Sized),
    keep_ops: u64,
) -> Result<CompactReport, StoreError> {
    let mut report = CompactReport::default();
    for (name, state) in tx.buckets()? {
        let up_to = state.head.saturating_sub(keep_ops);
        let deleted = tx.delete_tombstones(&name, up_to)?;
        if let Some(&newest) = deleted.iter().max() {
            report.tombstones_removed += deleted.len() as u64;
            if newest > state.horizon {
                tx.raise_horizon(&name, newest)?;
                report.horizons.push((name, newest));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::fake::Fake;
    use super::*;
    use warung_core::protocol::Category;

    fn category(id: &str) -> Entity {
        Entity::Category(Category {
            id: id.into(),
            parent_id: None,
            name: id.into(),
            position: 0,
        })
    }

    #[test]
    fn ids_increase_and_only_the_latest_op_of_an_entity_stays() {
        let mut tx = Fake::default();
        assert_eq!(put(&mut tx, &category("a")).unwrap(), 1);
        assert_eq!(put(&mut tx, &category("b")).unwrap(), 2);
        assert_eq!(put(&mut tx, &category("a")).unwrap(), 3);
        assert_eq!(remove(&mut tx, EntityKind::Category, "b").unwrap(), 4);
        let page = page(&mut tx, CATALOG, 0, 0, 10).unwrap();
        let ids: Vec<u64> = page
            .ops
            .iter()
            .map(|o| serde_json::from_str::<CatalogOp>(o.get()).unwrap().op_id)
            .collect();
        assert_eq!(ids, vec![3, 4]);
        assert_eq!((page.head, page.last_op_id, page.has_more), (4, 4, false));
        // The stored text is what is served, and the checksum is the sum of the stored ones.
        let sum = page
            .ops
            .iter()
            .fold(0u32, |s, o| s.wrapping_add(op_checksum(o.get().as_bytes())));
        assert_eq!(page.checksum, sum);
    }

    #[test]
    fn put_all_publishes_what_put_would_with_one_id_block_and_one_head_update() {
        let entities: Vec<Entity> = ["a", "b", "c"].into_iter().map(category).collect();
        let mut one_by_one = Fake::default();
        put(&mut one_by_one, &category("x")).unwrap();
        for e in &entities {
            put(&mut one_by_one, e).unwrap();
        }
        let mut batched = Fake::default();
        put(&mut batched, &category("x")).unwrap();
        put_all(&mut batched, &entities).unwrap();
        put_all(&mut batched, &[]).unwrap();
        let served = |tx: &mut Fake| {
            let p = page(tx, CATALOG, 0, 0, 10).unwrap();
            let ops: Vec<String> = p.ops.iter().map(|o| o.get().to_owned()).collect();
            (ops, p.head, p.checksum)
        };
        assert_eq!(served(&mut batched), served(&mut one_by_one));
        assert_eq!(served(&mut batched).1, 4);
        // The next single op continues after the block.
        assert_eq!(put(&mut batched, &category("y")).unwrap(), 5);
    }

    #[test]
    fn compaction_moves_the_horizon_and_stale_clients_reset() {
        let mut tx = Fake::default();
        for id in ["a", "b", "c"] {
            put(&mut tx, &category(id)).unwrap();
        }
        remove(&mut tx, EntityKind::Category, "a").unwrap(); // op 4
        put(&mut tx, &category("d")).unwrap(); // op 5
        let report = compact(&mut tx, 1).unwrap();
        assert_eq!(report.tombstones_removed, 1);
        assert_eq!(report.horizons, vec![(CATALOG.to_owned(), 4)]);
        // A client that saw op 2 with data from before the compaction must start over.
        let p = page(&mut tx, CATALOG, 2, 0, 10).unwrap();
        assert!(p.reset && p.ops.is_empty());
        assert_eq!(p.remaining, 3);
        // One that started from 0 after it (its horizon is 4) pages on.
        let p = page(&mut tx, CATALOG, 2, 4, 10).unwrap();
        assert!(!p.reset);
        assert_eq!(p.ops.len(), 2);
        // A cursor beyond i64 does not fail.
        assert!(
            page(&mut tx, CATALOG, u64::MAX, 4, 10)
                .unwrap()
                .ops
                .is_empty()
        );
    }
}
