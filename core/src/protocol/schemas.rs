//! OpenAPI schemas of the input fields whose rules the types alone do not say: what the
//! server's validation accepts, as JSON Schema (lengths in characters, patterns), so a
//! schema-driven client or tester knows which values are valid. Schema only: serde never sees
//! these.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};

/// No control characters other than tab and newline.
const TEXT: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$";
/// [`TEXT`] with at least one character that is not white space.
const NON_EMPTY: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$";
/// Any text with at least one character that is not white space.
const NOT_BLANK: &str =
    r"[^\x09-\x0D\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
/// An http(s) URL, optionally surrounded by white space.
const HTTP_URL: &str = r"^[\x09\x0A\x20\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*https?://[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$";

const SHORT: usize = 200;
const LONG: usize = 20_000;
const ENTRIES: usize = 50;
const URL: usize = 2048;

fn string(pattern: &str, max: usize, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .max_length(Some(max))
        .description(Some(description))
}

fn nullable(pattern: &str, max: usize, description: &str) -> Schema {
    string(pattern, max, description)
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build()
        .into()
}

/// A name or code: not blank, at most 200 characters, no control characters.
pub fn short_non_empty() -> RefOr<Schema> {
    string(
        NON_EMPTY,
        SHORT,
        "Not blank, at most 200 characters, no control characters (tab and newline allowed).",
    )
    .build()
    .into()
}

/// Short text, possibly empty.
pub fn short_text() -> RefOr<Schema> {
    string(
        TEXT,
        SHORT,
        "At most 200 characters, no control characters (tab and newline allowed).",
    )
    .build()
    .into()
}

/// Long text (descriptions, policies), possibly empty.
pub fn long_text() -> RefOr<Schema> {
    string(
        TEXT,
        LONG,
        "At most 20000 characters, no control characters (tab and newline allowed).",
    )
    .build()
    .into()
}

/// Optional short text (`null` or empty: none).
pub fn optional_short_text() -> RefOr<Schema> {
    nullable(
        TEXT,
        SHORT,
        "At most 200 characters, no control characters; null or empty for none.",
    )
    .into()
}

/// `attributes` and `options`: at most 50 entries of short text under non-blank names.
pub fn string_map() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(ENTRIES))
        .property_names(Some(string(NON_EMPTY, SHORT, "Not blank").build()))
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
        .items(string(HTTP_URL, URL, "An http(s) URL, at most 2048 characters.").build())
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

/// An app version: at most 64 characters.
pub fn app_version() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(64))
        .build()
        .into()
}

/// An idempotency key: not blank, at most 128 characters.
pub fn idempotency_key() -> RefOr<Schema> {
    string(
        NOT_BLANK,
        128,
        "UUID v7 (any non-blank text of at most 128 characters is accepted); the server stores the result under it and returns it for a duplicate.",
    )
    .build()
    .into()
}

/// A positive amount of `currency` as a decimal string: no more fraction digits than the
/// currency has (trailing zeros aside), not zero.
fn positive_amount_pattern(minor_units: u32) -> String {
    match minor_units {
        0 => r"^0*[1-9][0-9]*(\.0+)?$".to_owned(),
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
            format!(r"^(0*[1-9][0-9]*(\.[0-9]{{1,{n}}}0*)?|0+\.({fraction})0*)$")
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
        "Above zero, with at most the currency's minor units (none for IDR and JPY, two for the others).",
    )
}

/// `Price.compare_at`.
pub fn price_compare_at() -> RefOr<Schema> {
    positive_money_schema(
        true,
        "The \"was\" price shown struck through: in the same currency as `amount` and above it.",
    )
}
