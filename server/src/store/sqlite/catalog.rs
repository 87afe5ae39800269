//! The catalog's primitives in SQLite ([`CatalogTx`]): plain queries on `merchant`,
//! `category`, `product`, `variant` and `voucher`. Validation and what gets published are the
//! rules' ([`crate::store::rules::catalog`]).

use super::SqlTx;
use crate::store::StoreError;
use crate::store::rules::catalog::{CatalogTx, MerchantRow};
use rusqlite::params;

fn merchant_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<MerchantRow> {
    Ok(MerchantRow {
        json: row.get(0)?,
        key_prefix: row.get(1)?,
        created_at: row.get(2)?,
    })
}

impl CatalogTx for SqlTx<'_> {
    fn insert_merchant(
        &mut self,
        id: &str,
        json: &str,
        key: Option<(&[u8; 32], &str)>,
        created_at: &str,
    ) -> Result<(), StoreError> {
        let (hash, prefix) = key.map(|(h, p)| (&h[..], p)).unzip();
        self.exec(
            "INSERT INTO merchant (id, json, key_hash, key_prefix, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, json, hash, prefix, created_at],
        )?;
        Ok(())
    }

    fn merchants(&mut self) -> Result<Vec<MerchantRow>, StoreError> {
        self.run(|c| {
            c.prepare("SELECT json, key_prefix, created_at FROM merchant ORDER BY created_at, id")?
                .query_map([], merchant_row)?
                .collect()
        })
    }

    fn set_merchant_key(
        &mut self,
        id: &str,
        key_hash: &[u8; 32],
        key_prefix: &str,
    ) -> Result<Option<MerchantRow>, StoreError> {
        self.row(
            "UPDATE merchant SET key_hash = ?2, key_prefix = ?3 WHERE id = ?1
             RETURNING json, key_prefix, created_at",
            params![id, &key_hash[..], key_prefix],
            merchant_row,
        )
    }

    fn merchant_by_key(&mut self, key_hash: &[u8; 32]) -> Result<Option<String>, StoreError> {
        self.row(
            "SELECT id FROM merchant WHERE key_hash = ?1",
            [&key_hash[..]],
            |r| r.get(0),
        )
    }

    fn merchant_json(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        self.row("SELECT json FROM merchant WHERE id = ?1", [id], |r| {
            r.get(0)
        })
    }

    fn update_merchant_json(&mut self, id: &str, json: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE merchant SET json = ?2 WHERE id = ?1",
            params![id, json],
        )?;
        Ok(())
    }

    fn categories(&mut self) -> Result<Vec<String>, StoreError> {
        self.rows("SELECT json FROM category ORDER BY rowid", [], |r| r.get(0))
    }

    fn category_exists(&mut self, id: &str) -> Result<bool, StoreError> {
        self.exists("SELECT 1 FROM category WHERE id = ?1", [id])
    }

    fn any_category(&mut self) -> Result<bool, StoreError> {
        self.run(|c| c.prepare("SELECT 1 FROM category LIMIT 1")?.exists([]))
    }

    fn insert_category(&mut self, id: &str, json: &str) -> Result<bool, StoreError> {
        let n = self.exec(
            "INSERT OR IGNORE INTO category (id, json) VALUES (?1, ?2)",
            params![id, json],
        )?;
        Ok(n == 1)
    }

    fn catalog_occupied(&mut self) -> Result<bool, StoreError> {
        self.run(|c| {
            c.prepare("SELECT 1 FROM merchant UNION ALL SELECT 1 FROM product LIMIT 1")?
                .exists([])
        })
    }

    fn product_json(
        &mut self,
        merchant_id: &str,
        product_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.row(
            "SELECT json FROM product WHERE id = ?1 AND merchant_id = ?2",
            params![product_id, merchant_id],
            |r| r.get(0),
        )
    }

    fn products_after(
        &mut self,
        merchant_id: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        self.rows(
            "SELECT json FROM product WHERE merchant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            params![merchant_id, after, i64::from(limit)],
            |r| r.get(0),
        )
    }

    fn insert_product(
        &mut self,
        id: &str,
        merchant_id: &str,
        category_id: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO product (id, merchant_id, category_id, json) VALUES (?1, ?2, ?3, ?4)",
            params![id, merchant_id, category_id, json],
        )?;
        Ok(())
    }

    fn update_product(
        &mut self,
        id: &str,
        category_id: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            "UPDATE product SET category_id = ?2, json = ?3 WHERE id = ?1",
            params![id, category_id, json],
        )?;
        Ok(())
    }

    fn delete_product(&mut self, id: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM variant WHERE product_id = ?1", [id])?;
        self.exec("DELETE FROM product WHERE id = ?1", [id])?;
        Ok(())
    }

    fn variants_of(&mut self, product_id: &str) -> Result<Vec<(String, u32)>, StoreError> {
        self.rows(
            "SELECT json, stock_count FROM variant WHERE product_id = ?1 ORDER BY seq",
            [product_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn variant(
        &mut self,
        merchant_id: &str,
        variant_id: &str,
    ) -> Result<Option<(String, u32)>, StoreError> {
        self.row(
            "SELECT v.json, v.stock_count FROM variant v JOIN product p ON p.id = v.product_id
             WHERE v.id = ?1 AND p.merchant_id = ?2",
            params![variant_id, merchant_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn insert_variant(
        &mut self,
        id: &str,
        product_id: &str,
        count: u32,
        json: &str,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO variant (id, product_id, stock_count, json) VALUES (?1, ?2, ?3, ?4)",
            params![id, product_id, count, json],
        )?;
        Ok(())
    }

    fn update_variant(&mut self, id: &str, json: &str, count: u32) -> Result<(), StoreError> {
        self.exec(
            "UPDATE variant SET json = ?2, stock_count = ?3 WHERE id = ?1",
            params![id, json, count],
        )?;
        Ok(())
    }

    fn delete_variant(&mut self, id: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM variant WHERE id = ?1", [id])?;
        Ok(())
    }

    fn insert_voucher(&mut self, code: &str, json: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO voucher (code, json) VALUES (?1, ?2)",
            params![code, json],
        )?;
        Ok(())
    }
}
