//! The authoritative catalog in SQLite: merchants, categories, products, variants (with the
//! exact stock count) and vouchers. Every change publishes its catalog op(s) through
//! [`super::oplog`] in the same transaction, so the log never disagrees with the tables.
//!
//! All functions take the caller's connection: writes run inside the writer's savepoint,
//! reads inside a read transaction.

use super::oplog;
use crate::store::StoreError;
use crate::validate;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warung_core::protocol::{
    CatalogAction, CatalogOp, Category, Contact, Entity, EntityKind, Merchant, MerchantAccount,
    MerchantKind, MerchantProduct, MerchantProfile, MerchantVariant, Policies, Price, Product,
    ProductInput, ProductList, RatingSummary, StockBand, Variant, VariantInput, Voucher,
};

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn not_found(what: &str, id: &str) -> StoreError {
    StoreError::NotFound(format!("no {what} {id:?}"))
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7())
}

// ---------- merchants ----------

fn account_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Option<String>, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn account(
    json: &str,
    key_prefix: Option<String>,
    created_at: &str,
) -> Result<MerchantAccount, StoreError> {
    let m: Merchant = serde_json::from_str(json)?;
    Ok(MerchantAccount {
        id: m.id,
        name: m.name,
        kind: m.kind,
        key_prefix: key_prefix.unwrap_or_default(),
        created_at: OffsetDateTime::parse(created_at, &Rfc3339)
            .map_err(|e| StoreError::Internal(format!("stored timestamp: {e}")))?,
    })
}

pub fn create_merchant_account(
    conn: &Connection,
    name: &str,
    kind: MerchantKind,
    key_hash: &[u8; 32],
    key_prefix: &str,
    now: OffsetDateTime,
) -> Result<MerchantAccount, StoreError> {
    let name = validate::non_empty("name", name, validate::MAX_NAME)?;
    let merchant = Merchant {
        id: new_id("m"),
        name,
        kind,
        city: String::new(),
        contact: Contact::default(),
        policies: Policies::default(),
    };
    let created_at = rfc3339(now);
    let json = serde_json::to_string(&merchant)?;
    conn.prepare_cached(
        "INSERT INTO merchant (id, json, key_hash, key_prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![merchant.id, json, &key_hash[..], key_prefix, created_at])?;
    oplog::put(conn, &Entity::Merchant(merchant.clone()))?;
    account(&json, Some(key_prefix.to_owned()), &created_at)
}

pub fn list_merchant_accounts(conn: &Connection) -> Result<Vec<MerchantAccount>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT json, key_prefix, created_at FROM merchant ORDER BY created_at, id")?;
    let rows = stmt
        .query_map([], account_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(json, prefix, created)| account(&json, prefix, &created))
        .collect()
}

pub fn rotate_key(
    conn: &Connection,
    merchant_id: &str,
    key_hash: &[u8; 32],
    key_prefix: &str,
) -> Result<MerchantAccount, StoreError> {
    let row = conn
        .prepare_cached(
            "UPDATE merchant SET key_hash = ?2, key_prefix = ?3 WHERE id = ?1
             RETURNING json, key_prefix, created_at",
        )?
        .query_row(
            params![merchant_id, &key_hash[..], key_prefix],
            account_from_row,
        )
        .optional()?
        .ok_or_else(|| not_found("merchant", merchant_id))?;
    account(&row.0, row.1, &row.2)
}

pub fn merchant_by_key(
    conn: &Connection,
    key_hash: &[u8; 32],
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM merchant WHERE key_hash = ?1")?
        .query_row([&key_hash[..]], |r| r.get(0))
        .optional()?)
}

pub fn merchant(conn: &Connection, merchant_id: &str) -> Result<Merchant, StoreError> {
    let json: String = conn
        .prepare_cached("SELECT json FROM merchant WHERE id = ?1")?
        .query_row([merchant_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| not_found("merchant", merchant_id))?;
    Ok(serde_json::from_str(&json)?)
}

pub fn update_merchant(
    conn: &Connection,
    merchant_id: &str,
    profile: MerchantProfile,
) -> Result<Merchant, StoreError> {
    let mut m = merchant(conn, merchant_id)?;
    let profile = validate::profile(profile)?;
    m.name = profile.name;
    m.city = profile.city;
    m.contact = profile.contact;
    m.policies = profile.policies;
    conn.prepare_cached("UPDATE merchant SET json = ?2 WHERE id = ?1")?
        .execute(params![m.id, serde_json::to_string(&m)?])?;
    oplog::put(conn, &Entity::Merchant(m.clone()))?;
    Ok(m)
}

// ---------- categories ----------

pub fn categories(conn: &Connection) -> Result<Vec<Category>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT json FROM category ORDER BY rowid")?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(Into::into))
        .collect()
}

fn category_exists(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM category WHERE id = ?1")?
        .exists([id])?)
}

// ---------- products and variants ----------

fn product_row(
    conn: &Connection,
    merchant_id: &str,
    product_id: &str,
) -> Result<Product, StoreError> {
    let json: String = conn
        .prepare_cached("SELECT json FROM product WHERE id = ?1 AND merchant_id = ?2")?
        .query_row(params![product_id, merchant_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| not_found("product", product_id))?;
    Ok(serde_json::from_str(&json)?)
}

fn variants_of(conn: &Connection, product_id: &str) -> Result<Vec<MerchantVariant>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT json, stock_count FROM variant WHERE product_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([product_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(json, stock_count)| {
            Ok(MerchantVariant {
                variant: serde_json::from_str(&json)?,
                stock_count,
            })
        })
        .collect()
}

pub fn product(
    conn: &Connection,
    merchant_id: &str,
    product_id: &str,
) -> Result<MerchantProduct, StoreError> {
    let product = product_row(conn, merchant_id, product_id)?;
    let variants = variants_of(conn, &product.id)?;
    Ok(MerchantProduct { product, variants })
}

pub fn list_products(
    conn: &Connection,
    merchant_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<ProductList, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT json FROM product WHERE merchant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(
            params![merchant_id, after.unwrap_or(""), limit as i64 + 1],
            |r| r.get::<_, String>(0),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let more = rows.len() > limit as usize;
    let mut products = Vec::with_capacity(rows.len().min(limit as usize));
    for json in rows.iter().take(limit as usize) {
        let product: Product = serde_json::from_str(json)?;
        let variants = variants_of(conn, &product.id)?;
        products.push(MerchantProduct { product, variants });
    }
    let next_after = if more {
        products.last().map(|p| p.product.id.clone())
    } else {
        None
    };
    Ok(ProductList {
        products,
        next_after,
    })
}

fn check_category(conn: &Connection, id: &str) -> Result<(), StoreError> {
    if category_exists(conn, id)? {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "unknown_category",
            format!("no category {id:?}; pick one from GET /v1/categories"),
        ))
    }
}

pub fn create_product(
    conn: &Connection,
    merchant_id: &str,
    input: ProductInput,
    now: OffsetDateTime,
) -> Result<MerchantProduct, StoreError> {
    let input = validate::product(input)?;
    check_category(conn, &input.category_id)?;
    let at = now;
    let product = Product {
        id: new_id("p"),
        merchant_id: merchant_id.to_owned(),
        category_id: input.category_id,
        title: input.title,
        description: input.description,
        brand: input.brand,
        attributes: input.attributes,
        image_urls: input.image_urls,
        rating: RatingSummary::default(),
        created_at: at,
        updated_at: at,
    };
    insert_product(conn, &product)?;
    oplog::put(conn, &Entity::Product(product.clone()))?;
    Ok(MerchantProduct {
        product,
        variants: Vec::new(),
    })
}

fn insert_product(conn: &Connection, p: &Product) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO product (id, merchant_id, category_id, json) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        p.id,
        p.merchant_id,
        p.category_id,
        serde_json::to_string(p)?
    ])?;
    Ok(())
}

pub fn update_product(
    conn: &Connection,
    merchant_id: &str,
    product_id: &str,
    input: ProductInput,
    now: OffsetDateTime,
) -> Result<MerchantProduct, StoreError> {
    let mut product = product_row(conn, merchant_id, product_id)?;
    let input = validate::product(input)?;
    check_category(conn, &input.category_id)?;
    product.category_id = input.category_id;
    product.title = input.title;
    product.description = input.description;
    product.brand = input.brand;
    product.attributes = input.attributes;
    product.image_urls = input.image_urls;
    product.updated_at = now.max(product.created_at);
    conn.prepare_cached("UPDATE product SET category_id = ?2, json = ?3 WHERE id = ?1")?
        .execute(params![
            product.id,
            product.category_id,
            serde_json::to_string(&product)?
        ])?;
    oplog::put(conn, &Entity::Product(product.clone()))?;
    let variants = variants_of(conn, &product.id)?;
    Ok(MerchantProduct { product, variants })
}

pub fn delete_product(
    conn: &Connection,
    merchant_id: &str,
    product_id: &str,
) -> Result<(), StoreError> {
    let product = product_row(conn, merchant_id, product_id)?;
    for v in variants_of(conn, &product.id)? {
        oplog::remove(conn, EntityKind::Variant, &v.variant.id)?;
    }
    conn.prepare_cached("DELETE FROM variant WHERE product_id = ?1")?
        .execute([&product.id])?;
    conn.prepare_cached("DELETE FROM product WHERE id = ?1")?
        .execute([&product.id])?;
    oplog::remove(conn, EntityKind::Product, &product.id)?;
    Ok(())
}

/// A variant of this merchant: (variant, exact count).
fn variant_row(
    conn: &Connection,
    merchant_id: &str,
    variant_id: &str,
) -> Result<(Variant, u32), StoreError> {
    let (json, count): (String, u32) = conn
        .prepare_cached(
            "SELECT v.json, v.stock_count FROM variant v JOIN product p ON p.id = v.product_id
             WHERE v.id = ?1 AND p.merchant_id = ?2",
        )?
        .query_row(params![variant_id, merchant_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .ok_or_else(|| not_found("variant", variant_id))?;
    Ok((serde_json::from_str(&json)?, count))
}

fn save_variant(
    conn: &Connection,
    v: &Variant,
    count: u32,
    publish: bool,
) -> Result<MerchantVariant, StoreError> {
    conn.prepare_cached("UPDATE variant SET json = ?2, stock_count = ?3 WHERE id = ?1")?
        .execute(params![v.id, serde_json::to_string(v)?, count])?;
    if publish {
        oplog::put(conn, &Entity::Variant(v.clone()))?;
    }
    Ok(MerchantVariant {
        variant: v.clone(),
        stock_count: count,
    })
}

fn insert_variant(conn: &Connection, v: &Variant, count: u32) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO variant (id, product_id, stock_count, json) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        v.id,
        v.product_id,
        count,
        serde_json::to_string(v)?
    ])?;
    Ok(())
}

pub fn create_variant(
    conn: &Connection,
    merchant_id: &str,
    product_id: &str,
    input: VariantInput,
) -> Result<MerchantVariant, StoreError> {
    let product = product_row(conn, merchant_id, product_id)?;
    let input = validate::variant(input)?;
    let variant = Variant {
        id: new_id("v"),
        product_id: product.id,
        sku: input.sku,
        options: input.options,
        prices: input.prices,
        stock: StockBand::from_count(input.stock),
        weight_grams: input.weight_grams,
    };
    insert_variant(conn, &variant, input.stock)?;
    oplog::put(conn, &Entity::Variant(variant.clone()))?;
    Ok(MerchantVariant {
        variant,
        stock_count: input.stock,
    })
}

pub fn update_variant(
    conn: &Connection,
    merchant_id: &str,
    variant_id: &str,
    input: VariantInput,
) -> Result<MerchantVariant, StoreError> {
    let (mut v, _) = variant_row(conn, merchant_id, variant_id)?;
    let input = validate::variant(input)?;
    v.sku = input.sku;
    v.options = input.options;
    v.prices = input.prices;
    v.stock = StockBand::from_count(input.stock);
    v.weight_grams = input.weight_grams;
    save_variant(conn, &v, input.stock, true)
}

pub fn delete_variant(
    conn: &Connection,
    merchant_id: &str,
    variant_id: &str,
) -> Result<(), StoreError> {
    let (v, _) = variant_row(conn, merchant_id, variant_id)?;
    conn.prepare_cached("DELETE FROM variant WHERE id = ?1")?
        .execute([&v.id])?;
    oplog::remove(conn, EntityKind::Variant, &v.id)?;
    Ok(())
}

/// Sets the exact count. A catalog op is published only when the band changes: phones never
/// learn more than the band, not even that the count moved.
pub fn set_stock(
    conn: &Connection,
    merchant_id: &str,
    variant_id: &str,
    stock: u32,
) -> Result<MerchantVariant, StoreError> {
    let (mut v, _) = variant_row(conn, merchant_id, variant_id)?;
    let band = StockBand::from_count(stock);
    let publish = band != v.stock;
    v.stock = band;
    save_variant(conn, &v, stock, publish)
}

pub fn set_prices(
    conn: &Connection,
    merchant_id: &str,
    variant_id: &str,
    prices: Vec<Price>,
) -> Result<MerchantVariant, StoreError> {
    let (mut v, count) = variant_row(conn, merchant_id, variant_id)?;
    v.prices = validate::prices(prices)?;
    save_variant(conn, &v, count, true)
}

// ---------- what intents read ----------

pub fn variant_stock(conn: &Connection, variant_id: &str) -> Result<Option<u32>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT stock_count FROM variant WHERE id = ?1")?
        .query_row([variant_id], |r| r.get(0))
        .optional()?)
}

pub fn voucher(conn: &Connection, code: &str) -> Result<Option<Voucher>, StoreError> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM voucher WHERE code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?;
    json.map(|j| serde_json::from_str(&j).map_err(Into::into))
        .transpose()
}

// ---------- seeding ----------

/// The exact count a demo stock band stands for.
pub fn demo_count(band: StockBand) -> u32 {
    match band {
        StockBand::InStock => 50,
        StockBand::Low => 3,
        StockBand::Out => 0,
    }
}

/// Loads PUT ops into an empty catalog (no merchant, no product). Categories already present
/// (the default taxonomy) are kept. Returns `false` and changes nothing when not empty.
pub fn seed(conn: &Connection, ops: &[CatalogOp], now: OffsetDateTime) -> Result<bool, StoreError> {
    let occupied = conn
        .prepare("SELECT 1 FROM merchant UNION ALL SELECT 1 FROM product LIMIT 1")?
        .exists([])?;
    if occupied {
        return Ok(false);
    }
    let created_at = rfc3339(now);
    for op in ops {
        let CatalogAction::Put { entity } = &op.action else {
            continue;
        };
        match entity {
            Entity::Merchant(m) => {
                conn.prepare_cached(
                    "INSERT INTO merchant (id, json, created_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![m.id, serde_json::to_string(m)?, created_at])?;
            }
            Entity::Category(c) => {
                if !insert_category(conn, c)? {
                    continue;
                }
            }
            Entity::Product(p) => insert_product(conn, p)?,
            Entity::Variant(v) => insert_variant(conn, v, demo_count(v.stock))?,
            Entity::Voucher(v) => {
                let mut v = v.clone();
                v.code = v.code.to_uppercase();
                conn.prepare_cached("INSERT INTO voucher (code, json) VALUES (?1, ?2)")?
                    .execute(params![v.code, serde_json::to_string(&v)?])?;
                oplog::put(conn, &Entity::Voucher(v))?;
                continue;
            }
        }
        oplog::put(conn, entity)?;
    }
    Ok(true)
}

/// Inserts a category unless one with its id exists; `true` when inserted.
pub fn insert_category(conn: &Connection, c: &Category) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("INSERT OR IGNORE INTO category (id, json) VALUES (?1, ?2)")?
        .execute(params![c.id, serde_json::to_string(c)?])?;
    Ok(n == 1)
}

/// Publishes the default category tree when there is none (a fresh non-demo server still
/// gives merchants categories to choose from).
pub fn ensure_categories(conn: &Connection, categories: &[Category]) -> Result<(), StoreError> {
    let any = conn.prepare("SELECT 1 FROM category LIMIT 1")?.exists([])?;
    if any {
        return Ok(());
    }
    for c in categories {
        if insert_category(conn, c)? {
            oplog::put(conn, &Entity::Category(c.clone()))?;
        }
    }
    Ok(())
}
