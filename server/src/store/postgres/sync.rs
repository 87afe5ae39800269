//! The sync primitives in PostgreSQL ([`SyncTx`]): `device` and `intent` rows, and what intent
//! rules read from the catalog. Ordering and exactly-once are the rules'
//! ([`crate::store::rules::sync`]: they lock the device before reading its next sequence).

use super::{PgTx, big};
use crate::store::StoreError;
use crate::store::rules::sync::{DeviceRow, NewDevice, StoredIntent, SyncTx};

impl SyncTx for PgTx<'_> {
    fn insert_device(&mut self, d: &NewDevice<'_>) -> Result<bool, StoreError> {
        let inserted = self.execute(
            "INSERT INTO device (id, token_hash, platform, app_version, next_seq, registered_at, cart_json)
             VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &d.id,
                &&d.token_hash[..],
                &d.platform,
                &d.app_version,
                &d.registered_at,
                &d.cart_json,
            ],
        )?;
        Ok(inserted == 1)
    }

    fn device_by_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<DeviceRow>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT id, platform, next_seq, registered_at FROM device WHERE token_hash = $1",
                &[&&token_hash[..]],
            )?
            .map(|r| DeviceRow {
                id: r.get(0),
                platform: r.get(1),
                next_seq: r.get::<_, i64>(2) as u64,
                registered_at: r.get(3),
            }))
    }

    fn device_state(&mut self, device_id: &str) -> Result<Option<(u64, String)>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT next_seq, cart_json FROM device WHERE id = $1",
                &[&device_id],
            )?
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
    }

    fn save_device_state(
        &mut self,
        device_id: &str,
        next_seq: u64,
        cart_json: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE device SET next_seq = $2, cart_json = $3 WHERE id = $1",
            &[&device_id, &big(next_seq), &cart_json],
        )?;
        Ok(())
    }

    fn stored_intent(
        &mut self,
        device_id: &str,
        seq: u64,
    ) -> Result<Option<StoredIntent>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT idempotency_key, payload_hash, result_json FROM intent
                 WHERE device_id = $1 AND seq = $2",
                &[&device_id, &big(seq)],
            )?
            .map(|r| StoredIntent {
                idempotency_key: r.get(0),
                payload_hash: r.get(1),
                result_json: r.get(2),
            }))
    }

    fn seq_by_key(&mut self, device_id: &str, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT seq FROM intent WHERE device_id = $1 AND idempotency_key = $2",
                &[&device_id, &key],
            )?
            .map(|r| r.get::<_, i64>(0) as u64))
    }

    fn insert_intent(
        &mut self,
        device_id: &str,
        seq: u64,
        stored: &StoredIntent,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO intent (device_id, seq, idempotency_key, payload_hash, result_json)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &device_id,
                &big(seq),
                &stored.idempotency_key,
                &stored.payload_hash,
                &stored.result_json,
            ],
        )?;
        Ok(())
    }

    fn variant_stock(&mut self, variant_id: &str) -> Result<Option<u32>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT stock_count FROM variant WHERE id = $1",
                &[&variant_id],
            )?
            .map(|r| r.get::<_, i64>(0).clamp(0, i64::from(u32::MAX)) as u32))
    }

    fn voucher_json(&mut self, code: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query_opt("SELECT json FROM voucher WHERE code = $1", &[&code])?
            .map(|r| r.get(0)))
    }
}
