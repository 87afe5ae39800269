//! The catalog part of the storage boundary: the merchant API and the operator's commands.
//! The rules behind it (validation, what gets published as a catalog op) are
//! [`super::rules::catalog`].

use super::StoreFuture;
use warung_core::protocol::{
    CatalogOp, Category, Merchant, MerchantAccount, MerchantKind, MerchantProduct, MerchantProfile,
    MerchantVariant, PricesUpdate, ProductInput, ProductList, VariantInput,
};

/// How much a compaction removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompactReport {
    /// Tombstones deleted.
    pub tombstones_removed: u64,
    /// Buckets whose horizon moved, with the new horizon.
    pub horizons: Vec<(String, u64)>,
}

/// The merchant API. Every write is one transaction that also publishes its catalog op(s).
/// Object-safe; part of [`super::Storage`].
pub trait MerchantStore: Send + Sync + 'static {
    /// The merchant holding a key with this hash.
    fn merchant_by_key(&self, key_hash: [u8; 32]) -> StoreFuture<'_, Option<String>>;
    fn merchant(&self, merchant_id: String) -> StoreFuture<'_, Merchant>;
    fn update_merchant(
        &self,
        merchant_id: String,
        profile: MerchantProfile,
    ) -> StoreFuture<'_, Merchant>;
    fn categories(&self) -> StoreFuture<'_, Vec<Category>>;
    fn list_products(
        &self,
        merchant_id: String,
        after: Option<String>,
        limit: u32,
    ) -> StoreFuture<'_, ProductList>;
    fn product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, MerchantProduct>;
    fn create_product(
        &self,
        merchant_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct>;
    fn update_product(
        &self,
        merchant_id: String,
        product_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct>;
    fn delete_product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, ()>;
    fn create_variant(
        &self,
        merchant_id: String,
        product_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant>;
    fn update_variant(
        &self,
        merchant_id: String,
        variant_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant>;
    fn delete_variant(&self, merchant_id: String, variant_id: String) -> StoreFuture<'_, ()>;
    fn set_stock(
        &self,
        merchant_id: String,
        variant_id: String,
        stock: u32,
    ) -> StoreFuture<'_, MerchantVariant>;
    fn set_prices(
        &self,
        merchant_id: String,
        variant_id: String,
        update: PricesUpdate,
    ) -> StoreFuture<'_, MerchantVariant>;
}

/// The operator's commands (the `merchant` and `compact` subcommands, start-up).
/// Object-safe; part of [`super::Storage`].
pub trait AdminStore: Send + Sync + 'static {
    /// The database answers (readiness).
    fn ping(&self) -> StoreFuture<'_, ()>;
    fn create_merchant_account(
        &self,
        name: String,
        kind: MerchantKind,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount>;
    fn list_merchant_accounts(&self) -> StoreFuture<'_, Vec<MerchantAccount>>;
    /// Replaces a merchant's key; `NotFound` for an unknown merchant.
    fn rotate_key(
        &self,
        merchant_id: String,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount>;
    /// Loads catalog PUT ops (their op ids are reassigned) into an empty catalog; `false`
    /// when it already holds merchants or products. Variants get the exact count their demo
    /// band stands for (in_stock 50, low 3, out 0).
    fn seed(&self, ops: Vec<CatalogOp>) -> StoreFuture<'_, bool>;
    /// Publishes `categories` as the shared taxonomy when there are none yet.
    fn ensure_categories(&self, categories: Vec<Category>) -> StoreFuture<'_, ()>;
    /// Deletes tombstones older than the newest `keep_ops` ops of their bucket.
    fn compact(&self, keep_ops: u64) -> StoreFuture<'_, CompactReport>;
}
