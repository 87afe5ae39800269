//! Input validation of the merchant API: well-formed JSON that is still not acceptable gets a
//! 422 before anything is written, with a message naming the field.
//!
//! What text may contain is `warung_core::protocol::text` (shared with the phone and stated by
//! the OpenAPI patterns): names, titles and SKUs are one line, descriptions and policies may
//! span lines, ids are visible ASCII; bidirectional overrides and invisible-only text are
//! refused (422 `invalid_text`). Lengths are counted on the text as sent, then it is trimmed.
//! Prices must be within the wire range, `Money::check_wire_range` (422 `amount_out_of_range`).

use crate::store::StoreError;
use std::collections::{BTreeMap, HashSet};
use warung_core::protocol::text::{self, TextError, TextKind};
use warung_core::protocol::{MerchantProfile, Price, ProductInput, VariantInput};

pub const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 20_000;
const MAX_SHORT: usize = 200;
const MAX_ENTRIES: usize = 50;
const MAX_URL: usize = 2048;

fn invalid(message: String) -> StoreError {
    StoreError::invalid("invalid_data", message)
}

/// The 422 of a text field: `invalid_text`, the message naming the field and the character.
pub fn text_error(e: TextError) -> StoreError {
    StoreError::invalid("invalid_text", e.to_string())
}

fn clean(
    field: &str,
    kind: TextKind,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, StoreError> {
    text::clean(field, kind, value, max, required).map_err(text_error)
}

/// A required one-line display text (a name, a title), trimmed.
pub fn non_empty(field: &str, value: &str, max: usize) -> Result<String, StoreError> {
    clean(field, TextKind::Line, value, max, true)
}

/// An optional one-line display text, trimmed; white space only is kept as empty.
fn line(field: &str, value: &str, max: usize) -> Result<String, StoreError> {
    clean(field, TextKind::Line, value, max, false)
}

/// An optional text of several lines (tab and newline allowed), trimmed.
fn block(field: &str, value: &str, max: usize) -> Result<String, StoreError> {
    clean(field, TextKind::Block, value, max, false)
}

fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, StoreError> {
    match value {
        None => Ok(None),
        Some(v) => line(field, &v, max).map(|v| Some(v).filter(|v| !v.is_empty())),
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
            let v = line(&format!("{field}.{k}"), &v, MAX_SHORT)?;
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
    policies.shipping = block("policies.shipping", &policies.shipping, MAX_TEXT)?;
    policies.warranty = block("policies.warranty", &policies.warranty, MAX_TEXT)?;
    policies.returns = block("policies.returns", &policies.returns, MAX_TEXT)?;
    Ok(MerchantProfile {
        name: non_empty("name", &p.name, MAX_NAME)?,
        city: line("city", &p.city, MAX_SHORT)?,
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
        category_id: clean(
            "category_id",
            TextKind::Identifier,
            &p.category_id,
            MAX_SHORT,
            true,
        )?,
        title: non_empty("title", &p.title, MAX_NAME)?,
        description: block("description", &p.description, MAX_TEXT)?,
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

/// At least one price, one per currency, positive and within the wire range, `compare_at` in
/// the same currency, within the range and above the amount.
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
        let in_range = |field: &str, m: &warung_core::money::Money| {
            m.check_wire_range().map_err(|e| {
                StoreError::invalid(
                    "amount_out_of_range",
                    format!("{field} {}: {e}", m.amount()),
                )
            })
        };
        in_range("price", &p.amount)?;
        if let Some(was) = &p.compare_at {
            in_range("compare_at", was)?;
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
