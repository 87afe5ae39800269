//! The catalog's primitives in PostgreSQL ([`CatalogTx`]): plain queries on `merchant`,
//! `category`, `product`, `variant` and `voucher`. Validation, what gets published and the
//! per-merchant lock are the rules' ([`crate::store::rules::catalog`]).

use super::PgTx;
use crate::store::StoreError;
use crate::store::rules::catalog::{CatalogTx, MerchantRow};
use tokio_postgres::Row;

fn merchant_row(r: &Row) -> MerchantRow {
    MerchantRow {
        json: r.get(0),
        key_prefix: r.get(1),
        created_at: r.get(2),
    }
}

/// A stored stock count (never negative: the schema's CHECK).
fn count(r: &Row, i: usize) -> u32 {
    r.get::<_, i64>(i).clamp(0, i64::from(u32::MAX)) as u32
}

impl CatalogTx for PgTx<'_> {
    fn insert_merchant(
        &mut self,
        id: &str,
        json: &str,
        key: Option<(&[u8; 32], &str)>,
        created_at: &str,
    ) -> Result<(), StoreError> {
        let (hash, prefix) = key.map(|(h, p)| (&h[..], p)).unzip();
        self.execute(
            "INSERT INTO merchant (id, json, key_hash, key_prefix, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&id, &json, &hash, &prefix, &created_at],
        )?;
        Ok(())
    }

    fn merchants(&mut self) -> Result<Vec<MerchantRow>, StoreError> {
        Ok(self
            .query(
                "SELECT json, key_prefix, created_at FROM merchant ORDER BY created_at, id",
                &[],
            )?
            .iter()
            .map(merchant_row)
            .collect())
    }

    fn set_merchant_key(
        &mut self,
        id: &str,
        key_hash: &[u8; 32],
        key_prefix: &str,
    ) -> Result<Option<MerchantRow>, StoreError> {
        Ok(self
            .query_opt(
                "UPDATE merchant SET key_hash = $2, key_prefix = $3 WHERE id = $1
                 RETURNING json, key_prefix, created_at",
                &[&id, &&key_hash[..], &key_prefix],
            )?
            .as_ref()
            .map(merchant_row))
    }

    fn merchant_by_key(&mut self, key_hash: &[u8; 32]) -> Result<Option<String>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT id FROM merchant WHERE key_hash = $1",
                &[&&key_hash[..]],
            )?
            .map(|r| r.get(0)))
    }

    fn merchant_json(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query_opt("SELECT json FROM merchant WHERE id = $1", &[&id])?
            .map(|r| r.get(0)))
    }

    fn update_merchant_json(&mut self, id: &str, json: &str) -> Result<(), StoreError> {
        self.execute("UPDATE merchant SET json = $2 WHERE id = $1", &[&id, &json])?;
        Ok(())
    }

    fn categories(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .query("SELECT json FROM category ORDER BY seq", &[])?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn category_exists(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .query_opt("SELECT 1 FROM category WHERE id = $1", &[&id])?
            .is_some())
    }

    fn any_category(&mut self) -> Result<bool, StoreError> {
        Ok(self
            .query_opt("SELECT 1 FROM category LIMIT 1", &[])?
            .is_some())
    }

    fn insert_category(&mut self, id: &str, json: &str) -> Result<bool, StoreError> {
        let n = self.execute(
            "INSERT INTO category (id, json) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            &[&id, &json],
        )?;
        Ok(n == 1)
    }

    fn catalog_occupied(&mut self) -> Result<bool, StoreError> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM merchant UNION ALL SELECT 1 FROM product LIMIT 1",
                &[],
            )?
            .is_some())
    }

    fn product_json(
        &mut self,
        merchant_id: &str,
        product_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT json FROM product WHERE id = $1 AND merchant_id = $2",
                &[&product_id, &merchant_id],
            )?
            .map(|r| r.get(0)))
    }

    fn products_after(
        &mut self,
        merchant_id: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .query(
                "SELECT json FROM product WHERE merchant_id = $1 AND id > $2
                 ORDER BY id LIMIT $3",
                &[&merchant_id, &after, &i64::from(limit)],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn insert_product(
        &mut self,
        id: &str,
        merchant_id: &str,
        category_id: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO product (id, merchant_id, category_id, json) VALUES ($1, $2, $3, $4)",
            &[&id, &merchant_id, &category_id, &json],
        )?;
        Ok(())
    }

    fn update_product(
        &mut self,
        id: &str,
        category_id: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE product SET category_id = $2, json = $3 WHERE id = $1",
            &[&id, &category_id, &json],
        )?;
        Ok(())
    }

    fn delete_product(&mut self, id: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM variant WHERE product_id = $1", &[&id])?;
        self.execute("DELETE FROM product WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn variants_of(&mut self, product_id: &str) -> Result<Vec<(String, u32)>, StoreError> {
        Ok(self
            .query(
                "SELECT json, stock_count FROM variant WHERE product_id = $1 ORDER BY seq",
                &[&product_id],
            )?
            .iter()
            .map(|r| (r.get(0), count(r, 1)))
            .collect())
    }

    fn variant(
        &mut self,
        merchant_id: &str,
        variant_id: &str,
    ) -> Result<Option<(String, u32)>, StoreError> {
        Ok(self
            .query_opt(
                "SELECT v.json, v.stock_count FROM variant v JOIN product p ON p.id = v.product_id
                 WHERE v.id = $1 AND p.merchant_id = $2",
                &[&variant_id, &merchant_id],
            )?
            .map(|r| (r.get(0), count(&r, 1))))
    }

    fn insert_variant(
        &mut self,
        id: &str,
        product_id: &str,
        count: u32,
        json: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO variant (id, product_id, stock_count, json) VALUES ($1, $2, $3, $4)",
            &[&id, &product_id, &i64::from(count), &json],
        )?;
        Ok(())
    }

    fn update_variant(&mut self, id: &str, json: &str, count: u32) -> Result<(), StoreError> {
        self.execute(
            "UPDATE variant SET json = $2, stock_count = $3 WHERE id = $1",
            &[&id, &json, &i64::from(count)],
        )?;
        Ok(())
    }

    fn delete_variant(&mut self, id: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM variant WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn insert_voucher(&mut self, code: &str, json: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO voucher (code, json) VALUES ($1, $2)",
            &[&code, &json],
        )?;
        Ok(())
    }
}
