//! Input validation of the merchant API: well-formed JSON that is still not acceptable gets a
//! 422 `invalid_data` with a message naming the field, before anything is written.
//!
//! Lengths and control characters are checked on the text as sent, then it is trimmed: the
//! same rules as the OpenAPI document's `maxLength`/`pattern` (`warung_core::protocol`).

use crate::store::StoreError;
use std::collections::{BTreeMap, HashSet};
use warung_core::protocol::{MerchantProfile, Price, ProductInput, VariantInput};

pub const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 20_000;
const MAX_SHORT: usize = 200;
const MAX_ENTRIES: usize = 50;
const MAX_URL: usize = 2048;

fn invalid(message: String) -> StoreError {
    StoreError::invalid("invalid_data", message)
}

/// Refuses `value` longer than `max` characters or with control characters, or blank; trims it.
pub fn non_empty(field: &str, value: &str, max: usize) -> Result<String, StoreError> {
    let v = bounded(field, value, max)?;
    if v.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    Ok(v)
}

/// Refuses `value` longer than `max` characters or with control characters (other than tab
/// and newline); trims it.
fn bounded(field: &str, value: &str, max: usize) -> Result<String, StoreError> {
    if value.chars().count() > max {
        return Err(invalid(format!("{field} is longer than {max} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(format!("{field} contains control characters")));
    }
    Ok(value.trim().to_owned())
}

fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, StoreError> {
    match value {
        None => Ok(None),
        Some(v) => bounded(field, &v, max).map(|v| Some(v).filter(|v| !v.is_empty())),
    }
}

fn map(field: &str, m: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, StoreError> {
    if m.len() > MAX_ENTRIES {
        return Err(invalid(format!(
            "{field} has more than {MAX_ENTRIES} entries"
        )));
    }
    m.into_iter()
        .map(|(k, v)| {
            let k = non_empty(&format!("{field} key"), &k, MAX_SHORT)?;
            let v = bounded(&format!("{field}.{k}"), &v, MAX_SHORT)?;
            Ok((k, v))
        })
        .collect()
}

pub fn profile(p: MerchantProfile) -> Result<MerchantProfile, StoreError> {
    let mut contact = p.contact;
    contact.phone = optional("contact.phone", contact.phone, MAX_SHORT)?;
    contact.email = optional("contact.email", contact.email, MAX_SHORT)?;
    contact.whatsapp = optional("contact.whatsapp", contact.whatsapp, MAX_SHORT)?;
    let mut policies = p.policies;
    policies.shipping = bounded("policies.shipping", &policies.shipping, MAX_TEXT)?;
    policies.warranty = bounded("policies.warranty", &policies.warranty, MAX_TEXT)?;
    policies.returns = bounded("policies.returns", &policies.returns, MAX_TEXT)?;
    Ok(MerchantProfile {
        name: non_empty("name", &p.name, MAX_NAME)?,
        city: bounded("city", &p.city, MAX_SHORT)?,
        contact,
        policies,
    })
}

pub fn product(p: ProductInput) -> Result<ProductInput, StoreError> {
    if p.image_urls.len() > MAX_ENTRIES {
        return Err(invalid(format!(
            "image_urls has more than {MAX_ENTRIES} entries"
        )));
    }
    let image_urls = p
        .image_urls
        .iter()
        .map(|u| {
            let u = non_empty("image_urls[]", u, MAX_URL)?;
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(invalid(format!("image URL {u:?} is not http(s)")));
            }
            Ok(u)
        })
        .collect::<Result<_, _>>()?;
    Ok(ProductInput {
        category_id: non_empty("category_id", &p.category_id, MAX_SHORT)?,
        title: non_empty("title", &p.title, MAX_NAME)?,
        description: bounded("description", &p.description, MAX_TEXT)?,
        brand: optional("brand", p.brand, MAX_SHORT)?,
        attributes: map("attributes", p.attributes)?,
        image_urls,
    })
}

pub fn variant(v: VariantInput) -> Result<VariantInput, StoreError> {
    Ok(VariantInput {
        sku: non_empty("sku", &v.sku, MAX_SHORT)?,
        options: map("options", v.options)?,
        prices: prices(v.prices)?,
        stock: v.stock,
        weight_grams: v.weight_grams,
    })
}

/// At least one price, one per currency, positive, `compare_at` in the same currency and above
/// the amount.
pub fn prices(prices: Vec<Price>) -> Result<Vec<Price>, StoreError> {
    if prices.is_empty() {
        return Err(invalid("prices must hold at least one price".into()));
    }
    let mut seen = HashSet::new();
    for p in &prices {
        let currency = p.amount.currency();
        if !seen.insert(currency) {
            return Err(invalid(format!("prices has two {currency} prices")));
        }
        if p.amount.is_negative() || p.amount.is_zero() {
            return Err(invalid(format!("the {currency} price must be above zero")));
        }
        if let Some(was) = &p.compare_at {
            if was.currency() != currency {
                return Err(invalid(format!(
                    "compare_at is in {} but the price is in {currency}",
                    was.currency()
                )));
            }
            if was.amount() <= p.amount.amount() {
                return Err(invalid(format!(
                    "compare_at {} must be above the price {}",
                    was.amount(),
                    p.amount.amount()
                )));
            }
        }
    }
    Ok(prices)
}
