//! OpenAPI schemas of the input fields whose rules the types alone do not say: what the
//! server's validation accepts, as JSON Schema (lengths in characters, patterns), so a
//! schema-driven client or tester knows which values are valid. Schema only: serde never sees
//! these. The text patterns come from [`crate::protocol::text::pattern`], built from the same
//! tables as the validation itself; the price patterns from [`crate::money`]'s wire range.

use crate::money::MAX_WIRE_INTEGER_DIGITS;
use crate::protocol::text::{TextKind, pattern};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};

const SHORT: usize = 200;
const LONG: usize = 20_000;
const ENTRIES: usize = 50;
const URL: usize = 2048;

/// What every display-text description adds.
const DISPLAY: &str = "no bidirectional controls (U+202A–U+202E, U+2066–U+2069) or line separators";

fn string(pattern: impl Into<String>, max: usize, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern.into()))
        .max_length(Some(max))
        .description(Some(description))
}

fn nullable(pattern: String, max: usize, description: &str) -> Schema {
    string(pattern, max, description)
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build()
        .into()
}

/// A name, title or SKU: one line with a visible character, at most 200 characters.
pub fn short_non_empty() -> RefOr<Schema> {
    string(
        pattern::of(TextKind::Line, true),
        SHORT,
        &format!(
            "One line of at most 200 characters with at least one visible character (not only white space or zero-width characters); no control characters, {DISPLAY}."
        ),
    )
    .build()
    .into()
}

/// One line of text, possibly empty.
pub fn short_text() -> RefOr<Schema> {
    string(
        pattern::of(TextKind::Line, false),
        SHORT,
        &format!(
            "One line of at most 200 characters, empty, or with a visible character; no control characters, {DISPLAY}."
        ),
    )
    .build()
    .into()
}

/// Long text (descriptions, policies), possibly empty.
pub fn long_text() -> RefOr<Schema> {
    string(
        pattern::of(TextKind::Block, false),
        LONG,
        &format!(
            "At most 20000 characters, empty, or with a visible character; no control characters but tab and newline, {DISPLAY}."
        ),
    )
    .build()
    .into()
}

/// Optional one-line text (`null` or empty: none).
pub fn optional_short_text() -> RefOr<Schema> {
    nullable(
        pattern::of(TextKind::Line, false),
        SHORT,
        &format!(
            "One line of at most 200 characters; null or empty for none; no control characters, {DISPLAY}."
        ),
    )
    .into()
}

/// An id a client names (a category id): visible ASCII.
pub fn identifier() -> RefOr<Schema> {
    string(
        pattern::of(TextKind::Identifier, true),
        SHORT,
        "An id: 1 to 200 visible ASCII characters (no spaces).",
    )
    .build()
    .into()
}

/// `attributes` and `options`: at most 50 entries of short text under non-blank names.
pub fn string_map() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(ENTRIES))
        .property_names(Some(
            string(pattern::of(TextKind::Line, true), SHORT, "Not blank").build(),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(short_text())))
        .description(Some(
            "At most 50 entries; names not blank, names and values at most 200 characters.",
        ))
        .build()
        .into()
}

/// `image_urls`: at most 50 http(s) URLs.
pub fn image_urls() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            string(
                pattern::http_url(),
                URL,
                "An http(s) URL on one line, at most 2048 characters.",
            )
            .build(),
        )
        .max_items(Some(ENTRIES))
        .build()
        .into()
}

/// A device id: a hyphenated UUID.
pub fn device_id() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uuid".to_owned())))
        .min_length(Some(36))
        .max_length(Some(36))
        .description(Some(
            "Chosen by the phone (a hyphenated UUID); the `device_id` of its intents.",
        ))
        .build()
        .into()
}

/// `android`, `ios` or `cli`.
pub fn platform() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["android", "ios", "cli"]))
        .description(Some("`android`, `ios` or `cli`: informational."))
        .build()
        .into()
}

/// An inbound SMS's id at the aggregator: visible ASCII, at most 128 characters.
pub fn message_id() -> RefOr<Schema> {
    string(
        pattern::of(TextKind::Identifier, true),
        128,
        "1 to 128 visible ASCII characters (no spaces).",
    )
    .build()
    .into()
}

/// An app version: one line of at most 64 characters.
pub fn app_version() -> RefOr<Schema> {
    nullable(
        pattern::of(TextKind::Line, false),
        64,
        &format!("Informational: one line of at most 64 characters; {DISPLAY}."),
    )
    .into()
}

/// An idempotency key: visible ASCII, at most 128 characters.
pub fn idempotency_key() -> RefOr<Schema> {
    string(
        pattern::of(TextKind::Identifier, true),
        128,
        "UUID v7 (any 1 to 128 visible ASCII characters, no spaces, are accepted); the server stores the result under it and returns it for a duplicate.",
    )
    .build()
    .into()
}

/// A positive amount of `currency` as a decimal string: no more fraction digits than the
/// currency has (trailing zeros aside), not zero, at most `MAX_WIRE_INTEGER_DIGITS` digits
/// before the point (leading zeros aside).
fn positive_amount_pattern(minor_units: u32) -> String {
    let more = MAX_WIRE_INTEGER_DIGITS - 1;
    match minor_units {
        0 => format!(r"^0*[1-9][0-9]{{0,{more}}}(\.0+)?$"),
        n => {
            // The first n fraction digits, not all zero: k zeros, a non-zero digit, the rest.
            let fraction = (0..n)
                .map(|k| {
                    let zeros = "0".repeat(k as usize);
                    match n - 1 - k {
                        0 => format!("{zeros}[1-9]"),
                        rest => format!("{zeros}[1-9][0-9]{{0,{rest}}}"),
                    }
                })
                .collect::<Vec<_>>()
                .join("|");
            format!(r"^(0*[1-9][0-9]{{0,{more}}}(\.[0-9]{{1,{n}}}0*)?|0+\.({fraction})0*)$")
        }
    }
}

/// A positive amount in one of the currencies, with at most its minor units.
fn positive_money_schema(nullable: bool, description: &str) -> RefOr<Schema> {
    let mut any = utoipa::openapi::schema::AnyOfBuilder::new();
    for currency in crate::money::Currency::ALL {
        let amount = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(positive_amount_pattern(currency.minor_units())))
            .build();
        let currency_schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([currency.code()]))
            .build();
        any = any.item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("amount", amount)
                .property("currency", currency_schema)
                .required("amount")
                .required("currency")
                .additional_properties(Some(AdditionalProperties::FreeForm(false))),
        );
    }
    if nullable {
        any = any.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    any.description(Some(description)).into()
}

/// `Price.amount`.
pub fn price_amount() -> RefOr<Schema> {
    positive_money_schema(
        false,
        &format!(
            "Above zero, with at most the currency's minor units (none for IDR and JPY, two for the others) and at most {MAX_WIRE_INTEGER_DIGITS} digits before the decimal point (`amount_out_of_range` otherwise)."
        ),
    )
}

/// `Price.compare_at`.
pub fn price_compare_at() -> RefOr<Schema> {
    positive_money_schema(
        true,
        &format!(
            "The \"was\" price shown struck through: in the same currency as `amount` and above it, at most {MAX_WIRE_INTEGER_DIGITS} digits before the decimal point."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::positive_amount_pattern;
    use crate::money::{Currency, Money};
    use proptest::prelude::*;

    proptest! {
        /// A price matches its currency's pattern exactly when the server accepts it: parses,
        /// is above zero and is within the wire range.
        #[test]
        fn price_patterns_agree_with_the_rules(
            text in prop_oneof![
                "0{0,2}[1-9][0-9]{0,16}(\\.[0-9]{0,3})?",
                "[0-9.]{1,20}",
                Just("99999999999999".to_owned()),
                Just("100000000000000".to_owned()),
                Just("9223372036854775808".to_owned()),
                Just("99999999999999.99".to_owned()),
            ],
            currency in prop::sample::select(Currency::ALL.to_vec()),
        ) {
            let re = regex_automata::meta::Regex::new(
                &positive_amount_pattern(currency.minor_units()),
            )
            .unwrap();
            let accepted = Money::parse(&text, currency)
                .is_ok_and(|m| !m.is_zero() && !m.is_negative() && m.check_wire_range().is_ok());
            prop_assert_eq!(re.is_match(&text), accepted, "{} {}", text, currency);
        }
    }
}
