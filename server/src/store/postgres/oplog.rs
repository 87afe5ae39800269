//! The op log's primitives in PostgreSQL ([`OpLogTx`]); the rules are
//! [`crate::store::rules::oplog`]. The sequence is the single row of `op_sequence`,
//! incremented with `UPDATE … RETURNING` in the writing transaction: its row lock, held to
//! the commit, makes the next allocation wait, so op ids become visible in order across every
//! connection and process (a `SEQUENCE` would hand ids out outside the transaction).

use super::{PgTx, big};
use crate::store::StoreError;
use crate::store::rules::oplog::{BucketState, OpLogTx, OpRow};

fn bucket_state(head: i64, horizon: i64) -> BucketState {
    BucketState {
        head: head.max(0) as u64,
        horizon: horizon.max(0) as u64,
    }
}

impl OpLogTx for PgTx<'_> {
    fn next_op_ids(&mut self, n: u64) -> Result<u64, StoreError> {
        let id: i64 = self
            .query_one(
                "UPDATE op_sequence SET last = last + $1 WHERE id = 1 RETURNING last",
                &[&big(n)],
            )?
            .get(0);
        Ok(id as u64)
    }

    fn delete_entity_op(
        &mut self,
        bucket: &str,
        kind: &str,
        entity_id: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM op_log WHERE bucket = $1 AND kind = $2 AND entity_id = $3",
            &[&bucket, &kind, &entity_id],
        )?;
        Ok(())
    }

    fn insert_op(&mut self, op: &OpRow<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO op_log (op_id, bucket, kind, entity_id, tombstone, json, checksum)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &big(op.op_id),
                &op.bucket,
                &op.kind,
                &op.entity_id,
                &op.tombstone,
                &op.json,
                &i64::from(op.checksum),
            ],
        )?;
        Ok(())
    }

    fn set_head(&mut self, bucket: &str, head: u64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO bucket (name, head) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET head = excluded.head",
            &[&bucket, &big(head)],
        )?;
        Ok(())
    }

    fn bucket(&mut self, bucket: &str) -> Result<Option<BucketState>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT head, horizon FROM bucket WHERE name = $1",
                &[&bucket],
            )?
            .map(|r| bucket_state(r.get(0), r.get(1))))
    }

    fn buckets(&mut self) -> Result<Vec<(String, BucketState)>, StoreError> {
        Ok(self
            .query("SELECT name, head, horizon FROM bucket ORDER BY name", &[])?
            .into_iter()
            .map(|r| (r.get(0), bucket_state(r.get(1), r.get(2))))
            .collect())
    }

    fn count_after(&mut self, bucket: &str, after: u64) -> Result<u64, StoreError> {
        let n: i64 = self
            .query_one(
                "SELECT count(*) FROM op_log WHERE bucket = $1 AND op_id > $2",
                &[&bucket, &big(after)],
            )?
            .get(0);
        Ok(n as u64)
    }

    fn ops_after(
        &mut self,
        bucket: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String, u32)>, StoreError> {
        Ok(self
            .query(
                "SELECT op_id, json, checksum FROM op_log WHERE bucket = $1 AND op_id > $2
                 ORDER BY op_id LIMIT $3",
                &[&bucket, &big(after), &i64::from(limit)],
            )?
            .into_iter()
            .map(|r| {
                let (id, json, sum): (i64, String, i64) = (r.get(0), r.get(1), r.get(2));
                (id as u64, json, sum as u32)
            })
            .collect())
    }

    fn delete_tombstones(&mut self, bucket: &str, up_to: u64) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .query(
                "DELETE FROM op_log WHERE bucket = $1 AND tombstone AND op_id <= $2
                 RETURNING op_id",
                &[&bucket, &big(up_to)],
            )?
            .into_iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect())
    }

    fn raise_horizon(&mut self, bucket: &str, horizon: u64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE bucket SET horizon = GREATEST(horizon, $2) WHERE name = $1",
            &[&bucket, &big(horizon)],
        )?;
        Ok(())
    }
}
