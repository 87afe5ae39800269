//! The authoritative catalog: merchants, categories, products, variants (with the exact stock
//! count) and vouchers. Every change is validated here ([`crate::validate`]) and publishes its
//! catalog op(s) through [`super::oplog`] in the same transaction, so the log never disagrees
//! with the tables; what a change publishes is decided here, once.
//!
//! Entities are stored as their wire JSON next to the columns queries need; the context moves
//! JSON text, the rules (de)serialize it.
//!
//! **Atomicity.** Every write to a merchant's catalog locks [`LockKey::Merchant`] first: it
//! reads rows (a product, a variant's band) and writes on the strength of them (set_stock
//! publishes only when the band changes), so two writes to one merchant must not interleave.
//! Seeding and the default taxonomy lock [`LockKey::CatalogSeed`] ("empty?" then fill). A new
//! merchant account and a key rotation are single statements and lock nothing.

use super::LockKey;
use super::oplog::{self, OpLogTx};
use crate::store::StoreError;
use crate::validate;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warung_core::protocol::{
    CatalogAction, CatalogOp, Category, Contact, Entity, EntityKind, Merchant, MerchantAccount,
    MerchantKind, MerchantProduct, MerchantProfile, MerchantVariant, Policies, Price, Product,
    ProductInput, ProductList, RatingSummary, StockBand, Variant, VariantInput,
};

/// A merchant row as the account listing reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRow {
    /// `protocol::Merchant`.
    pub json: String,
    pub key_prefix: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// The catalog's primitives, inside the caller's transaction.
pub trait CatalogTx: OpLogTx {
    // ---- merchants ----
    /// Inserts a merchant; `key`: (SHA-256 of the API key, its display prefix).
    fn insert_merchant(
        &mut self,
        id: &str,
        json: &str,
        key: Option<(&[u8; 32], &str)>,
        created_at: &str,
    ) -> Result<(), StoreError>;
    /// Every merchant, by creation time then id.
    fn merchants(&mut self) -> Result<Vec<MerchantRow>, StoreError>;
    /// Replaces a merchant's key in one statement; `None` for an unknown merchant.
    fn set_merchant_key(
        &mut self,
        id: &str,
        key_hash: &[u8; 32],
        key_prefix: &str,
    ) -> Result<Option<MerchantRow>, StoreError>;
    /// The id of the merchant holding a key with this hash.
    fn merchant_by_key(&mut self, key_hash: &[u8; 32]) -> Result<Option<String>, StoreError>;
    fn merchant_json(&mut self, id: &str) -> Result<Option<String>, StoreError>;
    fn update_merchant_json(&mut self, id: &str, json: &str) -> Result<(), StoreError>;

    // ---- categories ----
    /// Every category's JSON, in insertion order.
    fn categories(&mut self) -> Result<Vec<String>, StoreError>;
    fn category_exists(&mut self, id: &str) -> Result<bool, StoreError>;
    fn any_category(&mut self) -> Result<bool, StoreError>;
    /// Inserts unless a category with this id exists (one conditional insert); `true` when
    /// inserted.
    fn insert_category(&mut self, id: &str, json: &str) -> Result<bool, StoreError>;

    // ---- products and variants ----
    /// Whether any merchant or product exists.
    fn catalog_occupied(&mut self) -> Result<bool, StoreError>;
    /// The product's JSON if it belongs to the merchant.
    fn product_json(
        &mut self,
        merchant_id: &str,
        product_id: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Up to `limit` of the merchant's products with an id above `after`, by id.
    fn products_after(
        &mut self,
        merchant_id: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;
    fn insert_product(
        &mut self,
        id: &str,
        merchant_id: &str,
        category_id: &str,
        json: &str,
    ) -> Result<(), StoreError>;
    fn update_product(&mut self, id: &str, category_id: &str, json: &str)
    -> Result<(), StoreError>;
    /// Deletes a product and its variants.
    fn delete_product(&mut self, id: &str) -> Result<(), StoreError>;
    /// A product's variants (JSON, exact count), in insertion order.
    fn variants_of(&mut self, product_id: &str) -> Result<Vec<(String, u32)>, StoreError>;
    /// A variant (JSON, exact count) if its product belongs to the merchant.
    fn variant(
        &mut self,
        merchant_id: &str,
        variant_id: &str,
    ) -> Result<Option<(String, u32)>, StoreError>;
    fn insert_variant(
        &mut self,
        id: &str,
        product_id: &str,
        count: u32,
        json: &str,
    ) -> Result<(), StoreError>;
    fn update_variant(&mut self, id: &str, json: &str, count: u32) -> Result<(), StoreError>;
    fn delete_variant(&mut self, id: &str) -> Result<(), StoreError>;
    /// Inserts a voucher under its (upper-case) code.
    fn insert_voucher(&mut self, code: &str, json: &str) -> Result<(), StoreError>;
}

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

fn account(row: MerchantRow) -> Result<MerchantAccount, StoreError> {
    let m: Merchant = serde_json::from_str(&row.json)?;
    Ok(MerchantAccount {
        id: m.id,
        name: m.name,
        kind: m.kind,
        key_prefix: row.key_prefix.unwrap_or_default(),
        created_at: OffsetDateTime::parse(&row.created_at, &Rfc3339)
            .map_err(|e| StoreError::Internal(format!("stored timestamp: {e}")))?,
    })
}

/// Creates a merchant with its key and publishes it. A new id and one insert: locks nothing.
pub fn create_merchant_account(
    tx: &mut dyn CatalogTx,
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
    tx.insert_merchant(
        &merchant.id,
        &json,
        Some((key_hash, key_prefix)),
        &created_at,
    )?;
    oplog::put(tx, &Entity::Merchant(merchant))?;
    account(MerchantRow {
        json,
        key_prefix: Some(key_prefix.to_owned()),
        created_at,
    })
}

/// Every merchant account (a read).
pub fn list_merchant_accounts(tx: &mut dyn CatalogTx) -> Result<Vec<MerchantAccount>, StoreError> {
    tx.merchants()?.into_iter().map(account).collect()
}

/// Replaces a merchant's key. One conditional update: locks nothing.
pub fn rotate_key(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    key_hash: &[u8; 32],
    key_prefix: &str,
) -> Result<MerchantAccount, StoreError> {
    let row = tx
        .set_merchant_key(merchant_id, key_hash, key_prefix)?
        .ok_or_else(|| not_found("merchant", merchant_id))?;
    account(row)
}

/// The merchant holding a key with this hash (a read).
pub fn merchant_by_key(
    tx: &mut dyn CatalogTx,
    key_hash: &[u8; 32],
) -> Result<Option<String>, StoreError> {
    tx.merchant_by_key(key_hash)
}

/// A merchant's profile (a read).
pub fn merchant(tx: &mut dyn CatalogTx, merchant_id: &str) -> Result<Merchant, StoreError> {
    let json = tx
        .merchant_json(merchant_id)?
        .ok_or_else(|| not_found("merchant", merchant_id))?;
    Ok(serde_json::from_str(&json)?)
}

/// Validates and stores a profile, publishing the merchant. Locks [`LockKey::Merchant`].
pub fn update_merchant(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    profile: MerchantProfile,
) -> Result<Merchant, StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let mut m = merchant(tx, merchant_id)?;
    let profile = validate::profile(profile)?;
    m.name = profile.name;
    m.city = profile.city;
    m.contact = profile.contact;
    m.policies = profile.policies;
    tx.update_merchant_json(&m.id, &serde_json::to_string(&m)?)?;
    oplog::put(tx, &Entity::Merchant(m.clone()))?;
    Ok(m)
}

// ---------- categories ----------

/// The taxonomy, in insertion order (a read).
pub fn categories(tx: &mut dyn CatalogTx) -> Result<Vec<Category>, StoreError> {
    tx.categories()?
        .iter()
        .map(|j| serde_json::from_str(j).map_err(Into::into))
        .collect()
}

fn check_category(tx: &mut dyn CatalogTx, id: &str) -> Result<(), StoreError> {
    if tx.category_exists(id)? {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "unknown_category",
            format!("no category {id:?}; pick one from GET /v1/categories"),
        ))
    }
}

// ---------- products and variants ----------

fn product_row(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    product_id: &str,
) -> Result<Product, StoreError> {
    let json = tx
        .product_json(merchant_id, product_id)?
        .ok_or_else(|| not_found("product", product_id))?;
    Ok(serde_json::from_str(&json)?)
}

fn variants_of(
    tx: &mut dyn CatalogTx,
    product_id: &str,
) -> Result<Vec<MerchantVariant>, StoreError> {
    tx.variants_of(product_id)?
        .into_iter()
        .map(|(json, stock_count)| {
            Ok(MerchantVariant {
                variant: serde_json::from_str(&json)?,
                stock_count,
            })
        })
        .collect()
}

/// A product of the merchant with its variants (a read).
pub fn product(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    product_id: &str,
) -> Result<MerchantProduct, StoreError> {
    let product = product_row(tx, merchant_id, product_id)?;
    let variants = variants_of(tx, &product.id)?;
    Ok(MerchantProduct { product, variants })
}

/// A page of the merchant's products by id (a read).
pub fn list_products(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<ProductList, StoreError> {
    let rows = tx.products_after(merchant_id, after.unwrap_or(""), limit.saturating_add(1))?;
    let more = rows.len() > limit as usize;
    let mut products = Vec::with_capacity(rows.len().min(limit as usize));
    for json in rows.iter().take(limit as usize) {
        let product: Product = serde_json::from_str(json)?;
        let variants = variants_of(tx, &product.id)?;
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

fn insert_product(tx: &mut dyn CatalogTx, p: &Product) -> Result<(), StoreError> {
    tx.insert_product(
        &p.id,
        &p.merchant_id,
        &p.category_id,
        &serde_json::to_string(p)?,
    )
}

/// Validates and creates a product, publishing it. Locks [`LockKey::Merchant`].
pub fn create_product(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    input: ProductInput,
    now: OffsetDateTime,
) -> Result<MerchantProduct, StoreError> {
    let input = validate::product(input)?;
    tx.lock(LockKey::Merchant(merchant_id))?;
    check_category(tx, &input.category_id)?;
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
        created_at: now,
        updated_at: now,
    };
    insert_product(tx, &product)?;
    oplog::put(tx, &Entity::Product(product.clone()))?;
    Ok(MerchantProduct {
        product,
        variants: Vec::new(),
    })
}

/// Validates and replaces a product's fields, publishing it. Locks [`LockKey::Merchant`].
pub fn update_product(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    product_id: &str,
    input: ProductInput,
    now: OffsetDateTime,
) -> Result<MerchantProduct, StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let mut product = product_row(tx, merchant_id, product_id)?;
    let input = validate::product(input)?;
    check_category(tx, &input.category_id)?;
    product.category_id = input.category_id;
    product.title = input.title;
    product.description = input.description;
    product.brand = input.brand;
    product.attributes = input.attributes;
    product.image_urls = input.image_urls;
    product.updated_at = now.max(product.created_at);
    tx.update_product(
        &product.id,
        &product.category_id,
        &serde_json::to_string(&product)?,
    )?;
    oplog::put(tx, &Entity::Product(product.clone()))?;
    let variants = variants_of(tx, &product.id)?;
    Ok(MerchantProduct { product, variants })
}

/// Deletes a product and its variants, publishing a tombstone for each. Locks
/// [`LockKey::Merchant`].
pub fn delete_product(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    product_id: &str,
) -> Result<(), StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let product = product_row(tx, merchant_id, product_id)?;
    for v in variants_of(tx, &product.id)? {
        oplog::remove(tx, EntityKind::Variant, &v.variant.id)?;
    }
    tx.delete_product(&product.id)?;
    oplog::remove(tx, EntityKind::Product, &product.id)?;
    Ok(())
}

/// A variant of this merchant: (variant, exact count).
fn variant_row(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    variant_id: &str,
) -> Result<(Variant, u32), StoreError> {
    let (json, count) = tx
        .variant(merchant_id, variant_id)?
        .ok_or_else(|| not_found("variant", variant_id))?;
    Ok((serde_json::from_str(&json)?, count))
}

fn save_variant(
    tx: &mut dyn CatalogTx,
    v: &Variant,
    count: u32,
    publish: bool,
) -> Result<MerchantVariant, StoreError> {
    tx.update_variant(&v.id, &serde_json::to_string(v)?, count)?;
    if publish {
        oplog::put(tx, &Entity::Variant(v.clone()))?;
    }
    Ok(MerchantVariant {
        variant: v.clone(),
        stock_count: count,
    })
}

fn insert_variant(tx: &mut dyn CatalogTx, v: &Variant, count: u32) -> Result<(), StoreError> {
    tx.insert_variant(&v.id, &v.product_id, count, &serde_json::to_string(v)?)
}

/// Validates and creates a variant (the band from the count), publishing it. Locks
/// [`LockKey::Merchant`].
pub fn create_variant(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    product_id: &str,
    input: VariantInput,
) -> Result<MerchantVariant, StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let product = product_row(tx, merchant_id, product_id)?;
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
    insert_variant(tx, &variant, input.stock)?;
    oplog::put(tx, &Entity::Variant(variant.clone()))?;
    Ok(MerchantVariant {
        variant,
        stock_count: input.stock,
    })
}

/// Validates and replaces a variant's fields and count, publishing it. Locks
/// [`LockKey::Merchant`].
pub fn update_variant(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    variant_id: &str,
    input: VariantInput,
) -> Result<MerchantVariant, StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let (mut v, _) = variant_row(tx, merchant_id, variant_id)?;
    let input = validate::variant(input)?;
    v.sku = input.sku;
    v.options = input.options;
    v.prices = input.prices;
    v.stock = StockBand::from_count(input.stock);
    v.weight_grams = input.weight_grams;
    save_variant(tx, &v, input.stock, true)
}

/// Deletes a variant, publishing its tombstone. Locks [`LockKey::Merchant`].
pub fn delete_variant(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    variant_id: &str,
) -> Result<(), StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let (v, _) = variant_row(tx, merchant_id, variant_id)?;
    tx.delete_variant(&v.id)?;
    oplog::remove(tx, EntityKind::Variant, &v.id)?;
    Ok(())
}

/// Sets the exact count. A catalog op is published only when the band changes: phones never
/// learn more than the band, not even that the count moved. Locks [`LockKey::Merchant`]: the
/// band compared is the one stored, not one a concurrent change is replacing.
pub fn set_stock(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    variant_id: &str,
    stock: u32,
) -> Result<MerchantVariant, StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let (mut v, _) = variant_row(tx, merchant_id, variant_id)?;
    let band = StockBand::from_count(stock);
    let publish = band != v.stock;
    v.stock = band;
    save_variant(tx, &v, stock, publish)
}

/// Validates and stores a variant's prices, publishing it. Locks [`LockKey::Merchant`].
pub fn set_prices(
    tx: &mut dyn CatalogTx,
    merchant_id: &str,
    variant_id: &str,
    prices: Vec<Price>,
) -> Result<MerchantVariant, StoreError> {
    tx.lock(LockKey::Merchant(merchant_id))?;
    let (mut v, count) = variant_row(tx, merchant_id, variant_id)?;
    v.prices = validate::prices(prices)?;
    save_variant(tx, &v, count, true)
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
/// Locks [`LockKey::CatalogSeed`]: "empty?" then fill.
pub fn seed(
    tx: &mut dyn CatalogTx,
    ops: &[CatalogOp],
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    tx.lock(LockKey::CatalogSeed)?;
    if tx.catalog_occupied()? {
        return Ok(false);
    }
    let created_at = rfc3339(now);
    let mut published = Vec::with_capacity(ops.len());
    for op in ops {
        let CatalogAction::Put { entity } = &op.action else {
            continue;
        };
        match entity {
            Entity::Merchant(m) => {
                tx.insert_merchant(&m.id, &serde_json::to_string(m)?, None, &created_at)?
            }
            Entity::Category(c) => {
                if !tx.insert_category(&c.id, &serde_json::to_string(c)?)? {
                    continue;
                }
            }
            Entity::Product(p) => insert_product(tx, p)?,
            Entity::Variant(v) => insert_variant(tx, v, demo_count(v.stock))?,
            Entity::Voucher(v) => {
                let mut v = v.clone();
                v.code = v.code.to_uppercase();
                tx.insert_voucher(&v.code, &serde_json::to_string(&v)?)?;
                published.push(Entity::Voucher(v));
                continue;
            }
        }
        published.push(entity.clone());
    }
    // One block of op ids and one head update for the whole seed (see `oplog::put_all`).
    oplog::put_all(tx, &published)?;
    Ok(true)
}

/// Publishes the default category tree when there is none (a fresh non-demo server still
/// gives merchants categories to choose from). Locks [`LockKey::CatalogSeed`] (two servers
/// starting at once publish the tree once).
pub fn ensure_categories(
    tx: &mut dyn CatalogTx,
    categories: &[Category],
) -> Result<(), StoreError> {
    tx.lock(LockKey::CatalogSeed)?;
    if tx.any_category()? {
        return Ok(());
    }
    for c in categories {
        if tx.insert_category(&c.id, &serde_json::to_string(c)?)? {
            oplog::put(tx, &Entity::Category(c.clone()))?;
        }
    }
    Ok(())
}
