//! The merchant API's bodies (`/v1/merchant/…`, authenticated by a merchant API key as
//! `Authorization: Bearer <key>`). Merchants keep exact stock counts; phones only ever see
//! the [`StockBand`] derived from them by [`StockBand::from_count`].

use super::{Contact, Id, MerchantKind, Policies, Price, Product, StockBand, Variant};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A count at or below this (and above zero) is shown as [`StockBand::Low`].
pub const LOW_STOCK_MAX: u32 = 5;

impl StockBand {
    /// The band a phone sees for an exact count.
    pub fn from_count(count: u32) -> StockBand {
        match count {
            0 => StockBand::Out,
            1..=LOW_STOCK_MAX => StockBand::Low,
            _ => StockBand::InStock,
        }
    }
}

/// `PUT /v1/merchant`: the merchant's own profile, policies and contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MerchantProfile {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::short_non_empty))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::short_text))]
    pub city: String,
    #[serde(default)]
    pub contact: Contact,
    #[serde(default)]
    pub policies: Policies,
}

/// `POST /v1/merchant/products` (the server picks the id) and `PUT …/products/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// One of the shared categories (`GET /v1/categories`).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::identifier))]
    pub category_id: Id,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::short_non_empty))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::long_text))]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::optional_short_text))]
    pub brand: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::string_map))]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::image_urls))]
    pub image_urls: Vec<String>,
}

/// `POST /v1/merchant/products/{id}/variants` and `PUT /v1/merchant/variants/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::short_non_empty))]
    pub sku: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::string_map))]
    pub options: BTreeMap<String, String>,
    /// At most one price per currency; at least one.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub prices: Vec<Price>,
    /// The exact count on hand.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub stock: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub weight_grams: u32,
}

/// `PUT /v1/merchant/variants/{id}/stock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockUpdate {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub stock: u32,
}

/// `PUT /v1/merchant/variants/{id}/prices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PricesUpdate {
    /// At most one price per currency; at least one.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub prices: Vec<Price>,
}

/// A variant as its merchant sees it: with the exact stock count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantVariant {
    pub variant: Variant,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4294967295_i64))]
    pub stock_count: u32,
}

/// A product as its merchant sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantProduct {
    pub product: Product,
    pub variants: Vec<MerchantVariant>,
}

/// `GET /v1/merchant/products?after=…&limit=…`: the merchant's products by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductList {
    pub products: Vec<MerchantProduct>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<Id>,
}

/// A merchant account as the admin commands show it (never the key's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MerchantAccount {
    pub id: Id,
    pub name: String,
    pub kind: MerchantKind,
    /// The first characters of the key, to tell keys apart.
    pub key_prefix: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// Every 4xx/5xx body: `{"error":{"code":…,"message":…}}`. `code` is stable and
/// machine-readable; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub error: ApiErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiErrorDetail {
    pub code: String,
    pub message: String,
    /// For `sequence_gap`: the sequence number the server expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
    /// For `pin_incorrect` / `otp_invalid`: tries left before the lock-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// For `rate_limited` / `pin_locked`: seconds until a retry can succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            error: ApiErrorDetail {
                code: code.into(),
                message: message.into(),
                expected_seq: None,
                attempts_left: None,
                retry_after_s: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_bands_from_counts() {
        assert_eq!(StockBand::from_count(0), StockBand::Out);
        assert_eq!(StockBand::from_count(1), StockBand::Low);
        assert_eq!(StockBand::from_count(LOW_STOCK_MAX), StockBand::Low);
        assert_eq!(StockBand::from_count(LOW_STOCK_MAX + 1), StockBand::InStock);
    }

    #[test]
    fn error_body_shape() {
        let e = ApiError::new("not_found", "no such product");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": {"code": "not_found", "message": "no such product"}})
        );
    }
}
