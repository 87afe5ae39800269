//! The op log in SQLite: appending ops in the caller's transaction and reading pages.
//!
//! One global sequence (`op_sequence`) hands out op ids, so they increase within every bucket
//! even after rows are deleted. Appending an op for an entity deletes that entity's previous
//! op in the bucket (only the latest op per entity is kept: compaction done eagerly). Each row
//! stores the op's exact JSON and its checksum, so a pull serves stored text verbatim.

use crate::store::{RawPage, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::value::RawValue;
use warung_core::protocol::{
    CatalogAction, CatalogOp, DeviceAction, DeviceOp, Entity, EntityKind, op_checksum,
};

fn next_op_id(conn: &Connection) -> Result<u64, StoreError> {
    let id: i64 = conn
        .prepare_cached("UPDATE op_sequence SET last = last + 1 WHERE id = 1 RETURNING last")?
        .query_row([], |r| r.get(0))?;
    Ok(id as u64)
}

fn append(
    conn: &Connection,
    bucket: &str,
    kind: &str,
    entity_id: &str,
    tombstone: bool,
    op_id: u64,
    json: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM op_log WHERE bucket = ?1 AND kind = ?2 AND entity_id = ?3")?
        .execute(params![bucket, kind, entity_id])?;
    conn.prepare_cached(
        "INSERT INTO op_log (op_id, bucket, kind, entity_id, tombstone, json, checksum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        op_id as i64,
        bucket,
        kind,
        entity_id,
        tombstone,
        json,
        op_checksum(json.as_bytes())
    ])?;
    conn.prepare_cached(
        "INSERT INTO bucket (name, head) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET head = excluded.head",
    )?
    .execute(params![bucket, op_id as i64])?;
    Ok(())
}

pub fn kind_str(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Merchant => "merchant",
        EntityKind::Category => "category",
        EntityKind::Product => "product",
        EntityKind::Variant => "variant",
        EntityKind::Voucher => "voucher",
    }
}

/// Publishes a PUT of `entity` to the catalog bucket.
pub fn put(conn: &Connection, entity: &Entity) -> Result<u64, StoreError> {
    let op_id = next_op_id(conn)?;
    let op = CatalogOp {
        op_id,
        action: CatalogAction::Put {
            entity: entity.clone(),
        },
    };
    let json = serde_json::to_string(&op)?;
    append(
        conn,
        "catalog",
        kind_str(entity.kind()),
        entity.id(),
        false,
        op_id,
        &json,
    )?;
    Ok(op_id)
}

/// Publishes a REMOVE (tombstone) of an entity to the catalog bucket.
pub fn remove(conn: &Connection, kind: EntityKind, id: &str) -> Result<u64, StoreError> {
    let op_id = next_op_id(conn)?;
    let op = CatalogOp {
        op_id,
        action: CatalogAction::Remove {
            kind,
            id: id.to_owned(),
        },
    };
    let json = serde_json::to_string(&op)?;
    append(conn, "catalog", kind_str(kind), id, true, op_id, &json)?;
    Ok(op_id)
}

/// Appends a device op (`intent_result` keyed by seq, or the single `cart`).
pub fn device_op(
    conn: &Connection,
    device_id: &str,
    action: DeviceAction,
) -> Result<u64, StoreError> {
    let op_id = next_op_id(conn)?;
    let (kind, entity_id) = match &action {
        DeviceAction::IntentResult { result } => ("intent_result", result.seq.to_string()),
        DeviceAction::Cart { .. } => ("cart", "cart".to_owned()),
    };
    let json = serde_json::to_string(&DeviceOp { op_id, action })?;
    append(
        conn,
        &format!("device:{device_id}"),
        kind,
        &entity_id,
        false,
        op_id,
        &json,
    )?;
    Ok(op_id)
}

/// Reads one page of a bucket. Run it inside a read transaction for a consistent snapshot.
pub fn page(
    conn: &Connection,
    bucket: &str,
    after: u64,
    client_horizon: u64,
    limit: u32,
) -> Result<RawPage, StoreError> {
    // Cursors beyond i64 cannot exist in SQLite; clamp instead of failing the bind.
    let after_sql = after.min(i64::MAX as u64) as i64;
    let (head, horizon): (i64, i64) = conn
        .prepare_cached("SELECT head, horizon FROM bucket WHERE name = ?1")?
        .query_row([bucket], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0));
    let (head, horizon) = (head as u64, horizon as u64);
    let count_after = |cursor: i64| -> Result<u64, StoreError> {
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM op_log WHERE bucket = ?1 AND op_id > ?2")?
            .query_row(params![bucket, cursor], |r| r.get(0))?;
        Ok(n as u64)
    };
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
            remaining: count_after(0)?,
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT op_id, json, checksum FROM op_log WHERE bucket = ?1 AND op_id > ?2
         ORDER BY op_id LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![bucket, after_sql, limit as i64])?;
    let mut ops = Vec::new();
    let mut checksum = 0u32;
    let mut last = after;
    while let Some(row) = rows.next()? {
        let op_id: i64 = row.get(0)?;
        let json: String = row.get(1)?;
        let sum: u32 = row.get(2)?;
        checksum = checksum.wrapping_add(sum);
        last = op_id as u64;
        ops.push(RawValue::from_string(json)?);
    }
    drop(rows);
    let remaining = count_after(last.min(i64::MAX as u64) as i64)?;
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
/// moves each bucket's horizon to the newest tombstone it deleted.
pub fn compact(
    conn: &Connection,
    keep_ops: u64,
) -> Result<crate::store::CompactReport, StoreError> {
    let buckets: Vec<(String, i64, i64)> = conn
        .prepare("SELECT name, head, horizon FROM bucket")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut report = crate::store::CompactReport::default();
    for (name, head, horizon) in buckets {
        let limit = (head as u64).saturating_sub(keep_ops) as i64;
        let deleted: Vec<i64> = conn
            .prepare_cached(
                "DELETE FROM op_log WHERE bucket = ?1 AND tombstone = 1 AND op_id <= ?2
                 RETURNING op_id",
            )?
            .query_map(params![name, limit], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if let Some(&newest) = deleted.iter().max() {
            report.tombstones_removed += deleted.len() as u64;
            if newest > horizon {
                conn.prepare_cached("UPDATE bucket SET horizon = ?2 WHERE name = ?1")?
                    .execute(params![name, newest])?;
                report.horizons.push((name, newest as u64));
            }
        }
    }
    Ok(report)
}
