//! The op log's primitives in SQLite ([`OpLogTx`]); the rules are
//! [`crate::store::rules::oplog`]. The sequence is the single row of `op_sequence`,
//! incremented with `UPDATE … RETURNING` in the writer's transaction.

use super::SqlTx;
use crate::store::StoreError;
use crate::store::rules::oplog::{BucketState, OpLogTx, OpRow};
use rusqlite::params;

/// An op id or cursor as SQLite stores it (the rules keep them within `i64`).
fn sql_id(id: u64) -> i64 {
    id.min(i64::MAX as u64) as i64
}

impl OpLogTx for SqlTx<'_> {
    fn next_op_ids(&mut self, n: u64) -> Result<u64, StoreError> {
        let id: i64 = self.run(|c| {
            c.prepare_cached("UPDATE op_sequence SET last = last + ?1 WHERE id = 1 RETURNING last")?
                .query_row([sql_id(n)], |r| r.get(0))
        })?;
        Ok(id as u64)
    }

    fn delete_entity_op(
        &mut self,
        bucket: &str,
        kind: &str,
        entity_id: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM op_log WHERE bucket = ?1 AND kind = ?2 AND entity_id = ?3",
            params![bucket, kind, entity_id],
        )?;
        Ok(())
    }

    fn insert_op(&mut self, op: &OpRow<'_>) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO op_log (op_id, bucket, kind, entity_id, tombstone, json, checksum)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                sql_id(op.op_id),
                op.bucket,
                op.kind,
                op.entity_id,
                op.tombstone,
                op.json,
                op.checksum
            ],
        )?;
        Ok(())
    }

    fn set_head(&mut self, bucket: &str, head: u64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO bucket (name, head) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET head = excluded.head",
            params![bucket, sql_id(head)],
        )?;
        Ok(())
    }

    fn bucket(&mut self, bucket: &str) -> Result<Option<BucketState>, StoreError> {
        self.row(
            "SELECT head, horizon FROM bucket WHERE name = ?1",
            [bucket],
            |r| {
                Ok(BucketState {
                    head: r.get::<_, i64>(0)? as u64,
                    horizon: r.get::<_, i64>(1)? as u64,
                })
            },
        )
    }

    fn buckets(&mut self) -> Result<Vec<(String, BucketState)>, StoreError> {
        self.run(|c| {
            c.prepare("SELECT name, head, horizon FROM bucket")?
                .query_map([], |r| {
                    let state = BucketState {
                        head: r.get::<_, i64>(1)? as u64,
                        horizon: r.get::<_, i64>(2)? as u64,
                    };
                    Ok((r.get(0)?, state))
                })?
                .collect()
        })
    }

    fn count_after(&mut self, bucket: &str, after: u64) -> Result<u64, StoreError> {
        let n: i64 = self.run(|c| {
            c.prepare_cached("SELECT count(*) FROM op_log WHERE bucket = ?1 AND op_id > ?2")?
                .query_row(params![bucket, sql_id(after)], |r| r.get(0))
        })?;
        Ok(n as u64)
    }

    fn ops_after(
        &mut self,
        bucket: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String, u32)>, StoreError> {
        self.rows(
            "SELECT op_id, json, checksum FROM op_log WHERE bucket = ?1 AND op_id > ?2
             ORDER BY op_id LIMIT ?3",
            params![bucket, sql_id(after), i64::from(limit)],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)),
        )
    }

    fn delete_tombstones(&mut self, bucket: &str, up_to: u64) -> Result<Vec<u64>, StoreError> {
        self.rows(
            "DELETE FROM op_log WHERE bucket = ?1 AND tombstone = 1 AND op_id <= ?2
             RETURNING op_id",
            params![bucket, sql_id(up_to)],
            |r| Ok(r.get::<_, i64>(0)? as u64),
        )
    }

    fn raise_horizon(&mut self, bucket: &str, horizon: u64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE bucket SET horizon = max(horizon, ?2) WHERE name = ?1",
            params![bucket, sql_id(horizon)],
        )?;
        Ok(())
    }
}
