//! The sync primitives in SQLite ([`SyncTx`]): `device` and `intent` rows, and what intent
//! rules read from the catalog. Ordering and exactly-once are the rules'
//! ([`crate::store::rules::sync`]).

use super::SqlTx;
use crate::store::StoreError;
use crate::store::rules::sync::{DeviceRow, NewDevice, StoredIntent, SyncTx};
use rusqlite::params;

impl SyncTx for SqlTx<'_> {
    fn insert_device(&mut self, d: &NewDevice<'_>) -> Result<bool, StoreError> {
        let inserted = self.exec("INSERT INTO device (id, token_hash, platform, app_version, next_seq, registered_at, cart_json)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6) ON CONFLICT (id) DO NOTHING", params![
                d.id,
                &d.token_hash[..],
                d.platform,
                d.app_version,
                d.registered_at,
                d.cart_json
            ])?;
        Ok(inserted == 1)
    }

    fn device_by_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<DeviceRow>, StoreError> {
        self.row(
            "SELECT id, platform, next_seq, registered_at FROM device WHERE token_hash = ?1",
            [&token_hash[..]],
            |r| {
                Ok(DeviceRow {
                    id: r.get(0)?,
                    platform: r.get(1)?,
                    next_seq: r.get::<_, i64>(2)? as u64,
                    registered_at: r.get(3)?,
                })
            },
        )
    }

    fn device_state(&mut self, device_id: &str) -> Result<Option<(u64, String)>, StoreError> {
        self.row(
            "SELECT next_seq, cart_json FROM device WHERE id = ?1",
            [device_id],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )
    }

    fn save_device_state(
        &mut self,
        device_id: &str,
        next_seq: u64,
        cart_json: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE device SET next_seq = ?2, cart_json = ?3 WHERE id = ?1",
            params![device_id, next_seq as i64, cart_json],
        )?;
        Ok(())
    }

    fn stored_intent(
        &mut self,
        device_id: &str,
        seq: u64,
    ) -> Result<Option<StoredIntent>, StoreError> {
        self.row(
            "SELECT idempotency_key, payload_hash, result_json FROM intent
             WHERE device_id = ?1 AND seq = ?2",
            params![device_id, seq as i64],
            |r| {
                Ok(StoredIntent {
                    idempotency_key: r.get(0)?,
                    payload_hash: r.get(1)?,
                    result_json: r.get(2)?,
                })
            },
        )
    }

    fn seq_by_key(&mut self, device_id: &str, key: &str) -> Result<Option<u64>, StoreError> {
        let seq: Option<i64> = self.row(
            "SELECT seq FROM intent WHERE device_id = ?1 AND idempotency_key = ?2",
            params![device_id, key],
            |r| r.get(0),
        )?;
        Ok(seq.map(|s| s as u64))
    }

    fn insert_intent(
        &mut self,
        device_id: &str,
        seq: u64,
        stored: &StoredIntent,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO intent (device_id, seq, idempotency_key, payload_hash, result_json)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                device_id,
                seq as i64,
                stored.idempotency_key,
                stored.payload_hash,
                stored.result_json
            ],
        )?;
        Ok(())
    }

    fn variant_stock(&mut self, variant_id: &str) -> Result<Option<u32>, StoreError> {
        self.row(
            "SELECT stock_count FROM variant WHERE id = ?1",
            [variant_id],
            |r| r.get(0),
        )
    }

    fn voucher_json(&mut self, code: &str) -> Result<Option<String>, StoreError> {
        self.row("SELECT json FROM voucher WHERE code = ?1", [code], |r| {
            r.get(0)
        })
    }
}
