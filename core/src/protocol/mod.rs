//! The wire format, defined once and shared by the core and the server.
//!
//! * **Down** (server → phone): [`CatalogOp`]s — PUT or REMOVE of one catalog entity, each with a
//!   strictly increasing `op_id`. The phone applies them through [`crate::catalog::Catalog::apply`].
//! * **Up** (phone → server): [`Intent`]s written by the outbox; their payloads are [`IntentBody`].
//! * [`sync`]: pages, checkpoints, device registration and intent batches; [`merchant`]: the
//!   merchant API's bodies and the error body every endpoint uses; [`identity`]: OTP,
//!   sessions, device binding, signed requests, PIN and TOTP.
//!
//! Amounts are [`Money`] (`{"amount":"125000","currency":"IDR"}`), timestamps RFC 3339 strings,
//! ratings decimal strings. No floats cross the wire.

pub mod identity;
pub mod merchant;
#[cfg(feature = "openapi")]
mod schemas;
pub mod sync;
pub mod text;

pub use identity::*;
pub use merchant::*;
pub use sync::*;

use crate::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Identifiers are opaque strings chosen by the server (e.g. `"p-000123"`).
pub type Id = String;

/// One change to the catalog bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogOp {
    /// Strictly increasing within a bucket; the phone's cursor is the last applied id.
    pub op_id: u64,
    #[serde(flatten)]
    pub action: CatalogAction,
}

// Nearly every op is a PUT, so boxing the entity would add an allocation per op and save
// nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CatalogAction {
    /// Insert or replace the whole entity.
    Put { entity: Entity },
    /// Delete the entity (and what only it owns: a product's variants). A tombstone.
    Remove { kind: EntityKind, id: Id },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Merchant,
    Category,
    Product,
    Variant,
    Voucher,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entity {
    Merchant(Merchant),
    Category(Category),
    Product(Product),
    Variant(Variant),
    Voucher(Voucher),
}

impl Entity {
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::Merchant(_) => EntityKind::Merchant,
            Entity::Category(_) => EntityKind::Category,
            Entity::Product(_) => EntityKind::Product,
            Entity::Variant(_) => EntityKind::Variant,
            Entity::Voucher(_) => EntityKind::Voucher,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Entity::Merchant(m) => &m.id,
            Entity::Category(c) => &c.id,
            Entity::Product(p) => &p.id,
            Entity::Variant(v) => &v.id,
            Entity::Voucher(v) => &v.code,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MerchantKind {
    /// A B2C shop (a registered business).
    Shop,
    /// A C2C individual seller.
    Seller,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::optional_short_text))]
    pub phone: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::optional_short_text))]
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::optional_short_text))]
    pub whatsapp: Option<String>,
}

/// The trust information buyers ask for before paying a merchant they do not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Policies {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::long_text))]
    pub shipping: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::long_text))]
    pub warranty: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::long_text))]
    pub returns: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Merchant {
    pub id: Id,
    pub name: String,
    pub kind: MerchantKind,
    pub city: String,
    pub contact: Contact,
    pub policies: Policies,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    pub id: Id,
    /// `None` for a top-level category.
    pub parent_id: Option<Id>,
    pub name: String,
    /// Display order among siblings.
    #[serde(default)]
    pub position: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingSummary {
    /// 0.0 ..= 5.0, one decimal place (a decimal string on the wire).
    pub average: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: Id,
    pub merchant_id: Id,
    pub category_id: Id,
    pub title: String,
    pub description: String,
    pub brand: Option<String>,
    /// Free-form facts such as `{"bahan": "katun", "origin": "Pekalongan"}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub image_urls: Vec<String>,
    #[serde(default)]
    pub rating: RatingSummary,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What a phone knows of stock: a band, never the exact count (merchants keep that).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StockBand {
    InStock,
    Low,
    Out,
}

impl StockBand {
    pub fn as_str(self) -> &'static str {
        match self {
            StockBand::InStock => "in_stock",
            StockBand::Low => "low",
            StockBand::Out => "out",
        }
    }

    pub fn parse(s: &str) -> Option<StockBand> {
        match s {
            "in_stock" => Some(StockBand::InStock),
            "low" => Some(StockBand::Low),
            "out" => Some(StockBand::Out),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::price_amount))]
    pub amount: Money,
    /// The "was" price shown struck through; must be in the same currency.
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::protocol::schemas::price_compare_at)
    )]
    pub compare_at: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    pub id: Id,
    pub product_id: Id,
    pub sku: String,
    /// Option values such as `{"ukuran": "M", "warna": "biru"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// At most one price per currency.
    pub prices: Vec<Price>,
    pub stock: StockBand,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub weight_grams: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Discount {
    /// `percent` of the eligible subtotal, at most `cap` when given.
    Percent {
        percent: Decimal,
        cap: Option<Money>,
    },
    /// A fixed amount off, never more than the eligible subtotal.
    Fixed { amount: Money },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Voucher {
    /// What the shopper types, e.g. `HEMAT10`. Unique, case-insensitive (stored upper-case).
    pub code: String,
    pub title: String,
    /// `None`: a platform voucher on the whole cart; `Some`: only that merchant's lines.
    pub merchant_id: Option<Id>,
    pub currency: Currency,
    pub discount: Discount,
    pub min_spend: Option<Money>,
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub valid_until: OffsetDateTime,
}

/// An intent's payload: what the phone wants the server to do. The kind string on the outbox
/// row is [`IntentBody::kind`]; the payload is this enum's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "payload")]
pub enum IntentBody {
    /// Set a cart line's quantity; `quantity == 0` removes the line.
    #[serde(rename = "cart.set_line")]
    CartSetLine {
        variant_id: Id,
        #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
        quantity: u32,
    },
    #[serde(rename = "cart.clear")]
    CartClear {},
    /// Apply a voucher code (a merchant voucher replaces that merchant's previous one).
    #[serde(rename = "voucher.apply")]
    VoucherApply { code: String },
    #[serde(rename = "voucher.remove")]
    VoucherRemove { code: String },
}

impl IntentBody {
    pub fn kind(&self) -> &'static str {
        match self {
            IntentBody::CartSetLine { .. } => "cart.set_line",
            IntentBody::CartClear {} => "cart.clear",
            IntentBody::VoucherApply { .. } => "voucher.apply",
            IntentBody::VoucherRemove { .. } => "voucher.remove",
        }
    }
}

/// One queued intent as it is sent up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Intent {
    pub device_id: String,
    /// Per device, gap-free, starting at 1.
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1, maximum = 9223372036854775807_i64)
    )]
    pub seq: u64,
    /// UUID v7; the server stores the result under it and returns it for a duplicate.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::idempotency_key))]
    pub idempotency_key: String,
    #[serde(flatten)]
    pub body: IntentBody,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// How the server answered an intent. `applied` and `rejected` are terminal (an intent ends
/// exactly once); `retry_later` is a transient refusal: the phone keeps the intent and sends it
/// again after a back-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IntentOutcome {
    Applied,
    /// `reason` is a stable code such as `unknown_variant` or `out_of_stock`.
    Rejected {
        reason: String,
    },
    RetryLater {
        reason: String,
    },
}

impl IntentOutcome {
    /// `applied` or `rejected`.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, IntentOutcome::RetryLater { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_op_json_shape() {
        let op = CatalogOp {
            op_id: 7,
            action: CatalogAction::Remove {
                kind: EntityKind::Product,
                id: "p-1".into(),
            },
        };
        let json = serde_json::to_value(&op).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"op_id": 7, "op": "remove", "kind": "product", "id": "p-1"})
        );
        let back: CatalogOp = serde_json::from_value(json).unwrap();
        assert_eq!(back, op);
    }

    #[test]
    fn intent_body_json_shape() {
        let body = IntentBody::CartSetLine {
            variant_id: "v-1".into(),
            quantity: 2,
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "cart.set_line", "payload": {"variant_id": "v-1", "quantity": 2}})
        );
        assert_eq!(body.kind(), "cart.set_line");
        let clear = serde_json::to_value(IntentBody::CartClear {}).unwrap();
        assert_eq!(
            clear,
            serde_json::json!({"kind": "cart.clear", "payload": {}})
        );
    }

    #[test]
    fn float_price_is_rejected() {
        let bad = r#"{"amount": 125000.5, "currency": "IDR"}"#;
        assert!(serde_json::from_str::<Money>(bad).is_err());
    }
}
