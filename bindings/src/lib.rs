//! # warung-ffi
//!
//! The thin uniffi facade that exposes `warung-core` to Kotlin (`id.warung.core`) and Swift
//! (`WarungCore`). No business logic lives here: records mirror the core's types, methods call
//! the core, and every core error becomes one [`WarungError`] variant (its name is the stable
//! code, its message the core's).
//!
//! * Money crosses as [`Money`] `{ amount: Decimal, currency: String }`, where `Decimal` is
//!   `java.math.BigDecimal` in Kotlin and `Foundation.Decimal` in Swift (a decimal string on
//!   the wire between them, so no float ever touches an amount).
//! * Timestamps are `java.time.Instant` / `Date`.
//! * Cheap reads (search, product, cart) are synchronous: they take milliseconds. Imports are
//!   `async`, run on a tokio runtime owned by the [`Warung`] object, in batches of
//!   [`IMPORT_BATCH`] ops; cancelling the Kotlin coroutine or Swift task stops the import after
//!   the batch in flight (each batch is one transaction, so nothing is half-written).
//! * A Rust panic never crosses the boundary: every call runs under `catch_unwind` and a panic
//!   becomes [`WarungError::Internal`].

use rust_decimal::Decimal;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::SystemTime;
use warung_core::catalog as core_catalog;
use warung_core::money::{self as core_money, Currency, Locale};
use warung_core::protocol as wire;
use warung_core::sync::{self as core_sync, CancelFlag};

uniffi::setup_scaffolding!();

/// Ops per transaction when importing (and the granularity of cancellation).
pub const IMPORT_BATCH: usize = 500;

uniffi::custom_type!(Decimal, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(Decimal::from_str_exact(&s)?),
});

// ---------------------------------------------------------------------------------------------
// Errors

/// Every failure, by kind. The variant name is the stable code apps switch on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum WarungError {
    #[error("{0}")]
    InvalidMoney(String),
    #[error("{0}")]
    InvalidArgument(String),
    /// A text field the shared input rules refuse (the server's 422 `invalid_text`).
    #[error("{0}")]
    InvalidText(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    InvalidCatalog(String),
    #[error("{0}")]
    UnknownProduct(String),
    #[error("{0}")]
    UnknownVariant(String),
    #[error("{0}")]
    UnknownCategory(String),
    #[error("{0}")]
    UnknownMerchant(String),
    #[error("{0}")]
    InvalidQuantity(String),
    #[error("{0}")]
    OutOfStock(String),
    #[error("{0}")]
    NoPrice(String),
    #[error("{0}")]
    NotInCart(String),
    #[error("{0}")]
    VoucherRejected(String),
    #[error("{0}")]
    SchemaTooNew(String),
    #[error("{0}")]
    CorruptDatabase(String),
    #[error("{0}")]
    Storage(String),
    #[error("{0}")]
    Cancelled(String),
    /// The sync server could not be reached (after the retries), or the connection broke.
    #[error("{0}")]
    Network(String),
    /// The sync server refused a request; the message has its HTTP status and error code.
    #[error("{0}")]
    Server(String),
    /// Data from the sync server failed verification; nothing of it was applied.
    #[error("{0}")]
    SyncIntegrity(String),
    /// A sync call before [`Warung::configure_sync`].
    #[error("{0}")]
    SyncNotConfigured(String),
    /// `configure_sync` got a URL, page size, batch size or certificate it cannot use.
    #[error("{0}")]
    InvalidSyncConfig(String),
    /// A bug: a panic inside the core, caught at the boundary.
    #[error("{0}")]
    Internal(String),
    // -- identity: the message carries the details (attempts left, wait, server code) ------
    /// Not a phone number Warung accepts (also non-ASCII digits).
    #[error("{0}")]
    InvalidPhone(String),
    /// A PIN is exactly 6 ASCII digits.
    #[error("{0}")]
    InvalidPin(String),
    /// All one digit or a straight run such as 123456 / 654321.
    #[error("{0}")]
    WeakPin(String),
    /// The call needs a signed-in session and there is none.
    #[error("{0}")]
    NotSignedIn(String),
    /// The session ended (refresh refused, revoked or expired): sign in again.
    #[error("{0}")]
    SessionExpired(String),
    /// The call needs a device bound to the SIM.
    #[error("{0}")]
    DeviceNotBound(String),
    /// An SMS code was refused; the message has the server's code (`otp_invalid`,
    /// `otp_expired`, `otp_used`, `otp_locked`, …) and the attempts left when known.
    #[error("{0}")]
    OtpRejected(String),
    /// Wrong PIN; the message has the attempts left.
    #[error("{0}")]
    PinIncorrect(String),
    /// Too many wrong PINs: money movement is locked; the message has the wait in seconds.
    #[error("{0}")]
    PinLocked(String),
    /// No PIN has been set yet.
    #[error("{0}")]
    PinNotSet(String),
    /// The action needs a verified step-up OTP bound to it.
    #[error("{0}")]
    StepUpRequired(String),
    /// Too many requests; the message has the wait in seconds. Not retried automatically.
    #[error("{0}")]
    RateLimited(String),
    /// No TOTP soft token is enrolled (on the server, or on this device).
    #[error("{0}")]
    TotpNotEnrolled(String),
    /// The server issues the TOTP secret once.
    #[error("{0}")]
    TotpAlreadyEnrolled(String),
    /// A TOTP code was refused; the message has `totp_invalid` or `totp_replayed`.
    #[error("{0}")]
    TotpRejected(String),
    /// The server refused the device signature; the message has its code.
    #[error("{0}")]
    SignatureRejected(String),
    /// The device binding ended without binding (expired or revoked).
    #[error("{0}")]
    BindingFailed(String),
    /// No binding SMS arrived before the deadline (the binding may still complete).
    #[error("{0}")]
    BindingTimedOut(String),
    /// An OTP function got input it cannot use; the message starts with which: `secret:`
    /// (shorter than 16 bytes, or not base32), `digits:` (not 6 to 8), `period:` (0 s) or
    /// `code:` (not `digits` ASCII digits).
    #[error("{0}")]
    InvalidOtpInput(String),
    /// Not a Warung SMS command; the message starts with the core's stable code:
    /// `not_warung:`, `unknown_command:` or `bad_arguments:`.
    #[error("{0}")]
    InvalidSmsCommand(String),
}

impl From<warung_core::Error> for WarungError {
    fn from(e: warung_core::Error) -> Self {
        use warung_core::Error as E;
        let m = e.to_string();
        match e {
            E::Money(_) => WarungError::InvalidMoney(m),
            E::SchemaTooNew { .. } => WarungError::SchemaTooNew(m),
            E::Corrupt(_) => WarungError::CorruptDatabase(m),
            E::Storage(_) | E::Outbox(_) => WarungError::Storage(m),
            E::InvalidBatch(_) | E::InvalidEntity { .. } => WarungError::InvalidCatalog(m),
            E::InvalidQuery(_) => WarungError::InvalidQuery(m),
            E::UnknownCategory(_) => WarungError::UnknownCategory(m),
            E::UnknownMerchant(_) => WarungError::UnknownMerchant(m),
            E::UnknownProduct(_) => WarungError::UnknownProduct(m),
            E::UnknownVariant(_) => WarungError::UnknownVariant(m),
            E::InvalidQuantity { .. } => WarungError::InvalidQuantity(m),
            E::OutOfStock(_) => WarungError::OutOfStock(m),
            E::NoPrice { .. } => WarungError::NoPrice(m),
            E::NotInCart(_) => WarungError::NotInCart(m),
            E::Voucher { .. } => WarungError::VoucherRejected(m),
            E::Network(_) => WarungError::Network(m),
            E::Server { .. } => WarungError::Server(m),
            E::SyncIntegrity(_) => WarungError::SyncIntegrity(m),
            E::Cancelled => WarungError::Cancelled(m),
            E::InvalidSyncConfig(_) => WarungError::InvalidSyncConfig(m),
            E::InvalidPhone(_) => WarungError::InvalidPhone(m),
            E::InvalidPin => WarungError::InvalidPin(m),
            E::WeakPin => WarungError::WeakPin(m),
            E::NotSignedIn => WarungError::NotSignedIn(m),
            E::SessionExpired => WarungError::SessionExpired(m),
            E::DeviceNotBound => WarungError::DeviceNotBound(m),
            E::OtpRejected { attempts_left, .. } => WarungError::OtpRejected(match attempts_left {
                Some(n) => format!("{m} ({n} attempts left)"),
                None => m,
            }),
            E::PinIncorrect { .. } => WarungError::PinIncorrect(m),
            E::PinLocked { .. } => WarungError::PinLocked(m),
            E::PinNotSet => WarungError::PinNotSet(m),
            E::StepUpRequired => WarungError::StepUpRequired(m),
            E::RateLimited { .. } => WarungError::RateLimited(m),
            E::TotpNotEnrolled => WarungError::TotpNotEnrolled(m),
            E::TotpAlreadyEnrolled => WarungError::TotpAlreadyEnrolled(m),
            E::TotpRejected { .. } => WarungError::TotpRejected(m),
            E::SignatureRejected { .. } => WarungError::SignatureRejected(m),
            E::BindingFailed(_) => WarungError::BindingFailed(m),
            E::BindingTimedOut => WarungError::BindingTimedOut(m),
        }
    }
}

impl From<warung_core::otp::OtpError> for WarungError {
    fn from(e: warung_core::otp::OtpError) -> Self {
        use warung_core::otp::OtpError as E;
        let which = match e {
            E::InvalidSecret(_) => "secret",
            E::InvalidDigits(_) => "digits",
            E::InvalidPeriod => "period",
            E::InvalidCode => "code",
        };
        WarungError::InvalidOtpInput(format!("{which}: {e}"))
    }
}

impl From<warung_core::sms::SmsParseError> for WarungError {
    fn from(e: warung_core::sms::SmsParseError) -> Self {
        WarungError::InvalidSmsCommand(format!("{}: {e}", e.code()))
    }
}

impl From<core_money::MoneyError> for WarungError {
    fn from(e: core_money::MoneyError) -> Self {
        WarungError::InvalidMoney(e.to_string())
    }
}

type Result<T, E = WarungError> = std::result::Result<T, E>;

/// Runs `f`, turning a panic into [`WarungError::Internal`].
fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(WarungError::Internal(format!("internal error: {msg}")))
    })
}

fn currency(code: &str) -> Result<Currency> {
    Currency::from_str(code).map_err(|e| WarungError::InvalidArgument(e.to_string()))
}

fn locale(tag: &str) -> Result<Locale> {
    Locale::from_str(tag).map_err(|e| WarungError::InvalidArgument(e.to_string()))
}

fn instant(t: time::OffsetDateTime) -> SystemTime {
    SystemTime::from(t)
}

// ---------------------------------------------------------------------------------------------
// Money

/// An amount of one currency (`currency` is an ISO 4217 code such as "IDR").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Money {
    pub amount: Decimal,
    pub currency: String,
}

impl From<core_money::Money> for Money {
    fn from(m: core_money::Money) -> Self {
        Money {
            amount: m.amount(),
            currency: m.currency().code().to_string(),
        }
    }
}

impl TryFrom<Money> for core_money::Money {
    type Error = WarungError;
    fn try_from(m: Money) -> Result<Self> {
        Ok(core_money::Money::new(m.amount, currency(&m.currency)?)?)
    }
}

/// The core's version, e.g. "0.1.0" (cheap: also the benchmark's trivial call).
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Returns its argument: the cheapest possible call, for measuring the FFI crossing itself.
#[uniffi::export]
pub fn ffi_echo(value: u64) -> u64 {
    value
}

/// Diagnostics for an app's support screen. With `trigger_panic`, panics inside the core on
/// purpose, to prove a panic comes back as [`WarungError::Internal`] instead of crashing.
#[uniffi::export]
pub fn self_check(trigger_panic: bool) -> Result<String> {
    guard(|| {
        if trigger_panic {
            panic!("self-check panic requested");
        }
        Ok(format!("warung-core {}", env!("CARGO_PKG_VERSION")))
    })
}

/// Parses user-typed amount text strictly ("125000", not "125.000,5" or "1e3").
#[uniffi::export]
pub fn parse_money(text: String, currency_code: String) -> Result<Money> {
    guard(|| Ok(core_money::Money::parse(&text, currency(&currency_code)?)?.into()))
}

/// Formats for display: `Rp125.000` (id-ID), `IDR 125,000` (en).
#[uniffi::export]
pub fn format_money(money: Money, locale_tag: String) -> Result<String> {
    guard(|| {
        let m: core_money::Money = money.try_into()?;
        Ok(m.format(locale(&locale_tag)?))
    })
}

// ---------------------------------------------------------------------------------------------
// Catalog records

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StockBand {
    InStock,
    Low,
    Out,
}

impl From<wire::StockBand> for StockBand {
    fn from(s: wire::StockBand) -> Self {
        match s {
            wire::StockBand::InStock => StockBand::InStock,
            wire::StockBand::Low => StockBand::Low,
            wire::StockBand::Out => StockBand::Out,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SortOrder {
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
    Rating,
}

impl From<SortOrder> for core_catalog::SortOrder {
    fn from(s: SortOrder) -> Self {
        match s {
            SortOrder::Relevance => core_catalog::SortOrder::Relevance,
            SortOrder::PriceAsc => core_catalog::SortOrder::PriceAsc,
            SortOrder::PriceDesc => core_catalog::SortOrder::PriceDesc,
            SortOrder::Newest => core_catalog::SortOrder::Newest,
            SortOrder::Rating => core_catalog::SortOrder::Rating,
        }
    }
}

/// A search or browse request; see the core's `SearchQuery`. Prices are in the profile's
/// currency.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SearchQuery {
    #[uniffi(default = "")]
    pub text: String,
    #[uniffi(default = None)]
    pub category_id: Option<String>,
    #[uniffi(default = None)]
    pub merchant_id: Option<String>,
    #[uniffi(default = None)]
    pub min_price: Option<Decimal>,
    #[uniffi(default = None)]
    pub max_price: Option<Decimal>,
    #[uniffi(default = false)]
    pub in_stock_only: bool,
    pub sort: SortOrder,
    #[uniffi(default = 20)]
    pub limit: u32,
    #[uniffi(default = None)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Rating {
    pub average: Decimal,
    pub count: u32,
}

impl From<wire::RatingSummary> for Rating {
    fn from(r: wire::RatingSummary) -> Self {
        Rating {
            average: r.average,
            count: r.count,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct SearchHit {
    pub product_id: String,
    pub title: String,
    pub brand: Option<String>,
    pub merchant_id: String,
    pub merchant_name: String,
    pub category_id: Option<String>,
    pub price_min: Money,
    pub price_max: Money,
    pub rating: Rating,
    pub stock: StockBand,
    pub image_url: Option<String>,
    /// Words around the first match, matches wrapped in `**`.
    pub snippet: Option<String>,
    pub created_at: SystemTime,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

impl From<core_catalog::SearchPage> for SearchPage {
    fn from(p: core_catalog::SearchPage) -> Self {
        SearchPage {
            hits: p
                .hits
                .into_iter()
                .map(|h| SearchHit {
                    product_id: h.product_id,
                    title: h.title,
                    brand: h.brand,
                    merchant_id: h.merchant_id,
                    merchant_name: h.merchant_name,
                    category_id: h.category_id,
                    price_min: h.price_min.into(),
                    price_max: h.price_max.into(),
                    rating: h.rating.into(),
                    stock: h.stock.into(),
                    image_url: h.image_url,
                    snippet: h.snippet,
                    created_at: instant(h.created_at),
                })
                .collect(),
            next_cursor: p.next_cursor,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct FacetCount {
    pub id: String,
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct PriceBand {
    pub min: Money,
    pub max: Option<Money>,
    pub count: u64,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Facets {
    pub total: u64,
    pub categories: Vec<FacetCount>,
    pub price_bands: Vec<PriceBand>,
}

/// A category in the tree, flattened depth-first (`depth` 0 for top level).
#[derive(Debug, Clone, uniffi::Record)]
pub struct CategoryNode {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub depth: u32,
    /// Products in it and all its sub-categories.
    pub product_count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MerchantKind {
    Shop,
    Seller,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub kind: MerchantKind,
    pub city: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub whatsapp: Option<String>,
    pub shipping_policy: String,
    pub warranty_policy: String,
    pub returns_policy: String,
}

impl From<wire::Merchant> for Merchant {
    fn from(m: wire::Merchant) -> Self {
        Merchant {
            id: m.id,
            name: m.name,
            kind: match m.kind {
                wire::MerchantKind::Shop => MerchantKind::Shop,
                wire::MerchantKind::Seller => MerchantKind::Seller,
            },
            city: m.city,
            phone: m.contact.phone,
            email: m.contact.email,
            whatsapp: m.contact.whatsapp,
            shipping_policy: m.policies.shipping,
            warranty_policy: m.policies.warranty,
            returns_policy: m.policies.returns,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Price {
    pub amount: Money,
    pub compare_at: Option<Money>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Variant {
    pub id: String,
    pub product_id: String,
    pub sku: String,
    pub options: HashMap<String, String>,
    pub prices: Vec<Price>,
    pub stock: StockBand,
    pub weight_grams: u32,
}

impl From<wire::Variant> for Variant {
    fn from(v: wire::Variant) -> Self {
        Variant {
            id: v.id,
            product_id: v.product_id,
            sku: v.sku,
            options: v.options.into_iter().collect(),
            prices: v
                .prices
                .into_iter()
                .map(|p| Price {
                    amount: p.amount.into(),
                    compare_at: p.compare_at.map(Into::into),
                })
                .collect(),
            stock: v.stock.into(),
            weight_grams: v.weight_grams,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct ProductDetail {
    pub id: String,
    pub title: String,
    pub description: String,
    pub brand: Option<String>,
    pub attributes: HashMap<String, String>,
    pub image_urls: Vec<String>,
    pub rating: Rating,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub merchant: Merchant,
    /// Names from the top-level category down to the product's own.
    pub category_path: Vec<String>,
    pub variants: Vec<Variant>,
    pub stock: StockBand,
}

/// The kind of a catalog entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EntityKind {
    Merchant,
    Category,
    Product,
    Variant,
    Voucher,
}

impl From<wire::EntityKind> for EntityKind {
    fn from(k: wire::EntityKind) -> Self {
        match k {
            wire::EntityKind::Merchant => EntityKind::Merchant,
            wire::EntityKind::Category => EntityKind::Category,
            wire::EntityKind::Product => EntityKind::Product,
            wire::EntityKind::Variant => EntityKind::Variant,
            wire::EntityKind::Voucher => EntityKind::Voucher,
        }
    }
}

/// A synced catalog entity the phone could not store (a price past the wire range, a field
/// that does not parse, a reference still missing at the end of its checkpoint…), set aside
/// instead of failing the sync; see the core's `Quarantined`. A later valid version of it, or
/// its removal, clears it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuarantinedEntity {
    pub kind: EntityKind,
    /// The entity's id (a voucher's code, upper-cased).
    pub id: String,
    /// The catalog op that carried it.
    pub op_id: u64,
    /// Why it could not be stored (the core's message).
    pub reason: String,
}

impl From<core_catalog::Quarantined> for QuarantinedEntity {
    fn from(q: core_catalog::Quarantined) -> Self {
        QuarantinedEntity {
            kind: q.kind.into(),
            id: q.id,
            op_id: q.op_id,
            reason: q.reason,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportReport {
    pub applied: u64,
    pub skipped: u64,
    pub cursor: u64,
}

// ---------------------------------------------------------------------------------------------
// Cart records

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LineStatus {
    Available,
    PriceChanged,
    Unavailable,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct CartLine {
    pub variant_id: String,
    pub product_id: Option<String>,
    pub merchant_id: Option<String>,
    pub title: String,
    pub options: HashMap<String, String>,
    pub quantity: u32,
    pub seen_price: Money,
    pub unit_price: Option<Money>,
    pub line_total: Money,
    pub discount: Money,
    pub status: LineStatus,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct AppliedVoucher {
    pub code: String,
    pub title: String,
    pub discount: Money,
    /// Why it gives nothing right now (expired, minimum spend…), if so.
    pub rejection: Option<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct MerchantGroup {
    pub merchant_id: String,
    pub merchant_name: String,
    pub lines: Vec<CartLine>,
    pub voucher: Option<AppliedVoucher>,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct CartView {
    pub currency: String,
    pub groups: Vec<MerchantGroup>,
    pub unavailable: Vec<CartLine>,
    pub platform_voucher: Option<AppliedVoucher>,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
    pub item_count: u32,
}

fn voucher_info(v: wire::Voucher) -> VoucherInfo {
    VoucherInfo {
        code: v.code,
        title: v.title,
        merchant_id: v.merchant_id,
        valid_until: instant(v.valid_until),
    }
}

fn line(l: warung_core::cart::CartLine) -> CartLine {
    use warung_core::cart::LineStatus as S;
    CartLine {
        variant_id: l.variant_id,
        product_id: l.product_id,
        merchant_id: l.merchant_id,
        title: l.title,
        options: l.options.into_iter().collect(),
        quantity: l.quantity,
        seen_price: l.seen_price.into(),
        unit_price: l.unit_price.map(Into::into),
        line_total: l.line_total.into(),
        discount: l.discount.into(),
        status: match l.status {
            S::Available => LineStatus::Available,
            S::PriceChanged => LineStatus::PriceChanged,
            S::Unavailable => LineStatus::Unavailable,
        },
    }
}

fn voucher(v: warung_core::cart::AppliedVoucher) -> AppliedVoucher {
    AppliedVoucher {
        code: v.code,
        title: v.title,
        discount: v.discount.into(),
        rejection: v.rejection.map(|r| r.to_string()),
    }
}

impl From<warung_core::cart::CartView> for CartView {
    fn from(c: warung_core::cart::CartView) -> Self {
        CartView {
            currency: c.currency.code().to_string(),
            groups: c
                .groups
                .into_iter()
                .map(|g| MerchantGroup {
                    merchant_id: g.merchant_id,
                    merchant_name: g.merchant_name,
                    lines: g.lines.into_iter().map(line).collect(),
                    voucher: g.voucher.map(voucher),
                    subtotal: g.subtotal.into(),
                    discount: g.discount.into(),
                    total: g.total.into(),
                })
                .collect(),
            unavailable: c.unavailable.into_iter().map(line).collect(),
            platform_voucher: c.platform_voucher.map(voucher),
            subtotal: c.subtotal.into(),
            discount: c.discount.into(),
            total: c.total.into(),
            item_count: c.item_count,
        }
    }
}

/// An intent in the outbox (for diagnostics screens).
#[derive(Debug, Clone, uniffi::Record)]
pub struct QueuedIntent {
    pub seq: u64,
    pub idempotency_key: String,
    pub kind: String,
    /// The intent's payload as wire JSON.
    pub payload_json: String,
    /// "pending", "applied" or "rejected".
    pub state: String,
    pub rejection_reason: Option<String>,
    pub created_at: SystemTime,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct VoucherInfo {
    pub code: String,
    pub title: String,
    /// `None` for a platform voucher.
    pub merchant_id: Option<String>,
    pub valid_until: SystemTime,
}

// ---------------------------------------------------------------------------------------------
// Listeners

/// Implemented by the app to hear about cart changes (edits, and catalog updates that change
/// prices or availability). Called on the thread that made the change.
#[uniffi::export(with_foreign)]
pub trait CartListener: Send + Sync {
    fn on_cart_changed(&self, cart: CartView);
}

/// Keeps a listener registered; `cancel()` (or dropping it) stops it.
#[derive(uniffi::Object)]
pub struct Subscription {
    inner: warung_core::observe::Subscription,
}

#[uniffi::export]
impl Subscription {
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

// ---------------------------------------------------------------------------------------------
// Secure storage

/// A failure reported by the app's secure storage (Keystore locked, Keychain denied…).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SecureStorageError {
    #[error("{reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SecureStorageError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SecureStorageError::Failed { reason: e.reason }
    }
}

/// Implemented by the app with the Android Keystore / iOS Keychain. The core keeps secrets
/// only here.
#[uniffi::export(with_foreign)]
pub trait SecureStorage: Send + Sync {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, SecureStorageError>;
    fn put(&self, key: String, value: Vec<u8>) -> Result<(), SecureStorageError>;
    fn delete(&self, key: String) -> Result<(), SecureStorageError>;
}

/// Adapts the foreign storage to the core's trait.
struct ForeignStorage(Arc<dyn SecureStorage>);

impl warung_core::secrets::SecureStorage for ForeignStorage {
    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        self.0.get(key.to_string()).map_err(|e| e.to_string())
    }
    fn put(&self, key: &str, value: &[u8]) -> std::result::Result<(), String> {
        self.0
            .put(key.to_string(), value.to_vec())
            .map_err(|e| e.to_string())
    }
    fn delete(&self, key: &str) -> std::result::Result<(), String> {
        self.0.delete(key.to_string()).map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// The object apps hold

#[derive(Debug, Clone, uniffi::Record)]
pub struct WarungConfig {
    /// The profile's SQLite file (created if missing).
    pub profile_path: String,
    /// "id-ID" or "en".
    #[uniffi(default = "id-ID")]
    pub locale: String,
    /// The cart's and prices' ISO 4217 currency.
    #[uniffi(default = "IDR")]
    pub currency: String,
}

/// One app profile. Thread-safe: share it.
#[derive(uniffi::Object)]
pub struct Warung {
    profile: warung_core::Profile,
    locale: Locale,
    runtime: tokio::runtime::Runtime,
    storage: Arc<dyn warung_core::secrets::SecureStorage>,
    /// Set by [`Warung::configure_sync`].
    sync: Mutex<Option<core_sync::SyncClient>>,
    /// Kept here so it survives a new [`Warung::configure_sync`].
    sync_listener: Mutex<Option<Arc<dyn core_sync::SyncListener>>>,
}

/// Stops a long operation (an import or a sync round). Kotlin does not need it (cancelling
/// the coroutine drops the call, which cancels); Swift's uniffi bindings do not forward task
/// cancellation, so the Swift extensions `Warung.importCatalog(json:)` and `Warung.sync()`
/// pass one and cancel it from the task's cancellation handler.
#[derive(uniffi::Object, Default)]
pub struct CancelToken {
    flag: CancelFlag,
}

#[uniffi::export]
impl CancelToken {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelToken::default())
    }

    pub fn cancel(&self) {
        self.flag.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.is_cancelled()
    }
}

/// Sets a flag when dropped: a cancelled foreign task drops the future, which stops the work.
struct CancelOnDrop(CancelFlag);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Warung {
    fn currency(&self) -> Currency {
        self.profile.cart().currency()
    }

    fn core_query(&self, q: SearchQuery) -> Result<core_catalog::SearchQuery> {
        Ok(core_catalog::SearchQuery {
            text: q.text,
            category_id: q.category_id,
            merchant_id: q.merchant_id,
            currency: self.currency(),
            min_price: self.price(q.min_price)?,
            max_price: self.price(q.max_price)?,
            in_stock_only: q.in_stock_only,
            sort: q.sort.into(),
            limit: q.limit,
            cursor: q.cursor,
        })
    }

    fn price(&self, amount: Option<Decimal>) -> Result<Option<core_money::Money>> {
        amount
            .map(|a| core_money::Money::new(a, self.currency()).map_err(Into::into))
            .transpose()
    }

    /// Applies `ops` in batches on the runtime's blocking pool, stopping between batches
    /// once the caller is gone.
    async fn import(
        &self,
        ops: Vec<wire::CatalogOp>,
        token: Option<Arc<CancelToken>>,
    ) -> Result<ImportReport> {
        let cancelled = token.map(|t| t.flag.clone()).unwrap_or_default();
        let _guard = CancelOnDrop(cancelled.clone());
        let catalog = self.profile.catalog().clone();
        let task = self.runtime.spawn_blocking(move || {
            guard(|| {
                let mut report = ImportReport {
                    applied: 0,
                    skipped: 0,
                    cursor: catalog.cursor()?,
                };
                for chunk in ops.chunks(IMPORT_BATCH) {
                    if cancelled.is_cancelled() {
                        return Err(WarungError::Cancelled(format!(
                            "import cancelled after {} ops",
                            report.applied + report.skipped
                        )));
                    }
                    let r = catalog.apply(chunk)?;
                    report.applied += r.applied as u64;
                    report.skipped += r.skipped as u64;
                    report.cursor = r.cursor;
                }
                Ok(report)
            })
        });
        task.await
            .map_err(|e| WarungError::Internal(format!("import task failed: {e}")))?
    }
}

#[uniffi::export]
impl Warung {
    /// Opens (or creates) the profile. `storage` is the app's secure storage; the core
    /// creates this install's secret there on first open.
    #[uniffi::constructor]
    pub fn new(config: WarungConfig, storage: Arc<dyn SecureStorage>) -> Result<Arc<Self>> {
        guard(|| {
            let locale = locale(&config.locale)?;
            let storage = Arc::new(ForeignStorage(storage));
            warung_core::secrets::installation_secret(storage.as_ref())?;
            let profile =
                warung_core::Profile::open(&config.profile_path, currency(&config.currency)?)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .max_blocking_threads(2)
                .thread_name("warung-core")
                .enable_all()
                .build()
                .map_err(|e| WarungError::Internal(format!("cannot start runtime: {e}")))?;
            Ok(Arc::new(Warung {
                profile,
                locale,
                runtime,
                storage,
                sync: Mutex::new(None),
                sync_listener: Mutex::new(None),
            }))
        })
    }

    /// Formats an amount in the profile's locale.
    pub fn format(&self, money: Money) -> Result<String> {
        guard(|| {
            let m: core_money::Money = money.try_into()?;
            Ok(m.format(self.locale))
        })
    }

    /// This install's device id (it signs the outbox's intents).
    pub fn device_id(&self) -> Result<String> {
        guard(|| Ok(self.profile.outbox().device_id()?))
    }

    /// Benchmark support: runs `query` `iterations` times inside Rust and returns the median
    /// time of one search in nanoseconds, so a benchmark can set the crossing cost of
    /// [`Warung::search`] against the same work without the FFI, in the same run.
    pub fn bench_native_search(&self, query: SearchQuery, iterations: u32) -> Result<u64> {
        guard(|| {
            let mut times = Vec::with_capacity(iterations.max(1) as usize);
            for _ in 0..iterations.max(1) {
                let q = query.clone();
                let started = std::time::Instant::now();
                std::hint::black_box(self.search(q)?);
                times.push(started.elapsed().as_nanos() as u64);
            }
            times.sort_unstable();
            Ok(times[times.len() / 2])
        })
    }

    /// The last catalog op applied (the sync cursor); 0 for an empty catalog.
    pub fn catalog_cursor(&self) -> Result<u64> {
        guard(|| Ok(self.profile.catalog().cursor()?))
    }

    /// Intents waiting to be sent to the server.
    pub fn pending_intents(&self) -> Result<u64> {
        guard(|| Ok(self.profile.outbox().pending_count()?))
    }

    /// Closes idle database connections; call when the app goes to the background.
    pub fn suspend(&self) {
        self.profile.store().suspend();
    }

    // -- catalog --------------------------------------------------------------------------

    pub fn search(&self, query: SearchQuery) -> Result<SearchPage> {
        guard(|| {
            Ok(self
                .profile
                .catalog()
                .search(&self.core_query(query)?)?
                .into())
        })
    }

    pub fn facets(&self, query: SearchQuery) -> Result<Facets> {
        guard(|| {
            let q = self.core_query(query)?;
            let f = self.profile.catalog().facets(&q)?;
            Ok(Facets {
                total: f.total,
                categories: f
                    .categories
                    .into_iter()
                    .map(|c| FacetCount {
                        id: c.category_id,
                        name: c.name,
                        count: c.count,
                    })
                    .collect(),
                price_bands: f
                    .price_bands
                    .into_iter()
                    .map(|b| PriceBand {
                        min: b.min.into(),
                        max: b.max.map(Into::into),
                        count: b.count,
                    })
                    .collect(),
            })
        })
    }

    pub fn product(&self, product_id: String) -> Result<ProductDetail> {
        guard(|| {
            let d = self.profile.catalog().product(&product_id)?;
            Ok(ProductDetail {
                id: d.product.id,
                title: d.product.title,
                description: d.product.description,
                brand: d.product.brand,
                attributes: d.product.attributes.into_iter().collect(),
                image_urls: d.product.image_urls,
                rating: d.product.rating.into(),
                created_at: instant(d.product.created_at),
                updated_at: instant(d.product.updated_at),
                merchant: d.merchant.into(),
                category_path: d.category_path.into_iter().map(|c| c.name).collect(),
                variants: d.variants.into_iter().map(Into::into).collect(),
                stock: d.stock.into(),
            })
        })
    }

    /// The category tree, depth-first.
    pub fn categories(&self) -> Result<Vec<CategoryNode>> {
        guard(|| {
            fn walk(
                nodes: Vec<core_catalog::CategoryNode>,
                depth: u32,
                out: &mut Vec<CategoryNode>,
            ) {
                for n in nodes {
                    out.push(CategoryNode {
                        id: n.category.id,
                        parent_id: n.category.parent_id,
                        name: n.category.name,
                        depth,
                        product_count: n.product_count,
                    });
                    walk(n.children, depth + 1, out);
                }
            }
            let mut out = Vec::new();
            walk(self.profile.catalog().categories()?, 0, &mut out);
            Ok(out)
        })
    }

    pub fn vouchers(&self) -> Result<Vec<VoucherInfo>> {
        guard(|| {
            Ok(self
                .profile
                .catalog()
                .vouchers()?
                .into_iter()
                .map(voucher_info)
                .collect())
        })
    }

    /// A voucher by code (case-insensitive), `None` if the catalog has no such code.
    pub fn voucher(&self, code: String) -> Result<Option<VoucherInfo>> {
        guard(|| Ok(self.profile.catalog().voucher(&code)?.map(voucher_info)))
    }

    pub fn merchant(&self, merchant_id: String) -> Result<Merchant> {
        guard(|| Ok(self.profile.catalog().merchant(&merchant_id)?.into()))
    }

    pub fn merchants(&self) -> Result<Vec<Merchant>> {
        guard(|| {
            Ok(self
                .profile
                .catalog()
                .merchants()?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    pub fn variant(&self, variant_id: String) -> Result<Variant> {
        guard(|| Ok(self.profile.catalog().variant(&variant_id)?.into()))
    }

    /// The synced catalog entities set aside because the phone cannot store them, by kind
    /// and id (usually none).
    pub fn catalog_quarantined(&self) -> Result<Vec<QuarantinedEntity>> {
        guard(|| {
            Ok(self
                .profile
                .catalog()
                .quarantined()?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// How many synced catalog entities are set aside (see [`Warung::catalog_quarantined`]).
    pub fn catalog_quarantined_count(&self) -> Result<u64> {
        guard(|| Ok(self.profile.catalog().quarantined_count()?))
    }

    /// The newest `limit` intents of the outbox, newest first.
    pub fn outbox(&self, limit: u32) -> Result<Vec<QueuedIntent>> {
        guard(|| {
            use warung_core::outbox::IntentState;
            let mut out = Vec::new();
            for q in self.profile.outbox().list(limit)? {
                let (state, reason) = match q.state {
                    IntentState::Pending => ("pending", None),
                    IntentState::Applied => ("applied", None),
                    IntentState::Rejected { reason } => ("rejected", Some(reason)),
                };
                out.push(QueuedIntent {
                    seq: q.intent.seq,
                    idempotency_key: q.intent.idempotency_key,
                    kind: q.intent.body.kind().to_string(),
                    payload_json: serde_json::to_string(&q.intent.body)
                        .map_err(|e| WarungError::Internal(e.to_string()))?,
                    state: state.to_string(),
                    rejection_reason: reason,
                    created_at: instant(q.intent.created_at),
                });
            }
            Ok(out)
        })
    }

    /// SQLite's integrity and foreign-key checks on the profile (for a support screen).
    pub fn check_integrity(&self) -> Result<()> {
        guard(|| Ok(self.profile.store().check_integrity()?))
    }

    /// Imports the bundled demo catalog (the same `apply` path as sync).
    #[uniffi::method(default(cancel = None))]
    pub async fn import_demo_catalog(
        &self,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<ImportReport> {
        self.import(warung_core::demo::demo_ops(), cancel).await
    }

    /// Imports catalog ops given as the wire format's JSON array.
    #[uniffi::method(default(cancel = None))]
    pub async fn import_catalog_json(
        &self,
        ops_json: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<ImportReport> {
        let ops: Vec<wire::CatalogOp> = serde_json::from_str(&ops_json)
            .map_err(|e| WarungError::InvalidCatalog(format!("ops JSON: {e}")))?;
        self.import(ops, cancel).await
    }

    // -- cart -----------------------------------------------------------------------------

    pub fn cart(&self) -> Result<CartView> {
        guard(|| Ok(self.profile.cart().view()?.into()))
    }

    pub fn cart_add(&self, variant_id: String, quantity: i64) -> Result<CartView> {
        guard(|| {
            self.profile.cart().add(&variant_id, quantity)?;
            Ok(self.profile.cart().view()?.into())
        })
    }

    pub fn cart_set_quantity(&self, variant_id: String, quantity: i64) -> Result<CartView> {
        guard(|| {
            self.profile.cart().set_quantity(&variant_id, quantity)?;
            Ok(self.profile.cart().view()?.into())
        })
    }

    pub fn cart_remove(&self, variant_id: String) -> Result<CartView> {
        guard(|| {
            self.profile.cart().remove(&variant_id)?;
            Ok(self.profile.cart().view()?.into())
        })
    }

    pub fn cart_clear(&self) -> Result<CartView> {
        guard(|| {
            self.profile.cart().clear()?;
            Ok(self.profile.cart().view()?.into())
        })
    }

    pub fn apply_voucher(&self, code: String) -> Result<CartView> {
        guard(|| Ok(self.profile.cart().apply_voucher(&code)?.into()))
    }

    pub fn remove_voucher(&self, code: String) -> Result<CartView> {
        guard(|| {
            self.profile.cart().remove_voucher(&code)?;
            Ok(self.profile.cart().view()?.into())
        })
    }

    /// Calls `listener` with the new cart after every change, until the returned
    /// subscription is cancelled or dropped.
    pub fn observe_cart(&self, listener: Arc<dyn CartListener>) -> Arc<Subscription> {
        let cart = self.profile.cart().clone();
        let inner = self.profile.cart().subscribe(move || {
            if let Ok(view) = cart.view() {
                listener.on_cart_changed(view.into());
            }
        });
        Arc::new(Subscription { inner })
    }
}

// ---------------------------------------------------------------------------------------------
// Sync

/// How [`Warung::configure_sync`] talks to the server; every field has a default.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncOptions {
    /// "android", "ios" or "cli"; by default "ios" on Apple platforms, "android" elsewhere.
    #[uniffi(default = None)]
    pub platform: Option<String>,
    /// Sent when the device registers; by default the core's version.
    #[uniffi(default = None)]
    pub app_version: Option<String>,
    /// Catalog ops per pulled page (1..=5000).
    #[uniffi(default = 1000)]
    pub page_limit: u32,
    /// Intents per pushed batch (1..=500).
    #[uniffi(default = 100)]
    pub intent_batch: u32,
    /// Tries per request, the first included (transient failures only).
    #[uniffi(default = 5)]
    pub max_attempts: u32,
    /// Exponential back-off with full jitter between `retry_base_ms` and `retry_max_ms`.
    #[uniffi(default = 200)]
    pub retry_base_ms: u64,
    #[uniffi(default = 10000)]
    pub retry_max_ms: u64,
    /// Per HTTP request.
    #[uniffi(default = 30)]
    pub request_timeout_seconds: u32,
    /// Extra trusted root certificates (PEM), e.g. a self-signed development server.
    #[uniffi(default = None)]
    pub extra_root_cert_pem: Option<String>,
}

impl Default for SyncOptions {
    /// The same values as the record's foreign defaults.
    fn default() -> Self {
        SyncOptions {
            platform: None,
            app_version: None,
            page_limit: 1000,
            intent_batch: 100,
            max_attempts: 5,
            retry_base_ms: 200,
            retry_max_ms: 10_000,
            request_timeout_seconds: 30,
            extra_root_cert_pem: None,
        }
    }
}

impl SyncOptions {
    fn core_config(self, server_url: String) -> core_sync::SyncConfig {
        let default_platform = if cfg!(any(target_os = "ios", target_os = "macos")) {
            "ios"
        } else {
            "android"
        };
        let mut c = core_sync::SyncConfig::new(
            server_url,
            self.platform.unwrap_or_else(|| default_platform.into()),
        );
        if self.app_version.is_some() {
            c.app_version = self.app_version;
        }
        c.page_limit = self.page_limit;
        c.intent_batch = self.intent_batch;
        c.retry = core_sync::RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            base: Duration::from_millis(self.retry_base_ms),
            max: Duration::from_millis(self.retry_max_ms),
        };
        c.request_timeout = Duration::from_secs(u64::from(self.request_timeout_seconds.max(1)));
        c.extra_root_certs_pem = self
            .extra_root_cert_pem
            .map(|p| vec![p.into_bytes()])
            .unwrap_or_default();
        c
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncPhase {
    Registering,
    Pushing,
    Pulling,
    Applying,
    Done,
}

/// Where a sync round stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    /// Catalog ops received so far in this round.
    pub ops_received: u64,
    /// Ops received plus what the server said remains: the total to expect.
    pub ops_estimated_total: u64,
    /// Intents sent so far in this round.
    pub intents_sent: u64,
}

impl From<&core_sync::SyncProgress> for SyncProgress {
    fn from(p: &core_sync::SyncProgress) -> Self {
        use core_sync::SyncPhase as P;
        SyncProgress {
            phase: match p.phase {
                P::Registering => SyncPhase::Registering,
                P::Pushing => SyncPhase::Pushing,
                P::Pulling => SyncPhase::Pulling,
                P::Applying => SyncPhase::Applying,
                P::Done => SyncPhase::Done,
            },
            ops_received: p.ops_received,
            ops_estimated_total: p.ops_estimated_total,
            intents_sent: p.intents_sent,
        }
    }
}

/// An intent the server rejected for good (it will not be retried).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedIntent {
    pub seq: u64,
    pub idempotency_key: String,
    /// e.g. "cart.set_line".
    pub kind: String,
    /// The server's stable reason code, e.g. "out_of_stock".
    pub reason: String,
}

/// What one sync round did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    pub intents_applied: u64,
    pub intents_rejected: u64,
    /// Sent but answered "retry later": still pending.
    pub intents_deferred: u64,
    pub catalog_ops: u64,
    pub device_ops: u64,
    pub catalog_cursor: u64,
    /// The server asked for a reset and the catalog was pulled again from scratch.
    pub reset: bool,
    pub cart_restored: bool,
    /// Catalog entities this round set aside instead of failing the checkpoint (see
    /// [`Warung::catalog_quarantined`]); the rest of the catalog was applied.
    pub catalog_quarantined: u64,
}

impl From<core_sync::SyncReport> for SyncReport {
    fn from(r: core_sync::SyncReport) -> Self {
        SyncReport {
            intents_applied: r.intents_applied,
            intents_rejected: r.intents_rejected,
            intents_deferred: r.intents_deferred,
            catalog_ops: r.catalog_ops,
            device_ops: r.device_ops,
            catalog_cursor: r.catalog_cursor,
            reset: r.reset,
            cart_restored: r.cart_restored,
            catalog_quarantined: r.catalog_quarantined,
        }
    }
}

/// Implemented by the app to follow sync rounds. Called on a core thread; keep it short
/// (post to the UI thread).
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress);
    fn on_rejected(&self, rejected: RejectedIntent);
    /// A catalog checkpoint was applied with `count` entities set aside that the phone cannot
    /// store ([`Warung::catalog_quarantined`] lists them); the rest of it was applied.
    fn on_quarantined(&self, count: u64);
}

/// Adapts the foreign listener to the core's trait; a throwing listener cannot stop a round.
struct ForeignSyncListener(Arc<dyn SyncListener>);

impl core_sync::SyncListener for ForeignSyncListener {
    fn on_progress(&self, progress: &core_sync::SyncProgress) {
        let p = SyncProgress::from(progress);
        let _ = catch_unwind(AssertUnwindSafe(|| self.0.on_progress(p)));
    }
    fn on_rejected(&self, r: &core_sync::RejectedIntent) {
        let r = RejectedIntent {
            seq: r.seq,
            idempotency_key: r.idempotency_key.clone(),
            kind: r.kind.clone(),
            reason: r.reason.clone(),
        };
        let _ = catch_unwind(AssertUnwindSafe(|| self.0.on_rejected(r)));
    }
    fn on_quarantined(&self, count: u64) {
        let _ = catch_unwind(AssertUnwindSafe(|| self.0.on_quarantined(count)));
    }
}

impl Warung {
    fn sync_client(&self) -> Result<core_sync::SyncClient> {
        self.sync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| {
                WarungError::SyncNotConfigured("sync is not configured: call configure_sync".into())
            })
    }
}

/// How often a sync round checks that its caller is still there.
const CANCEL_POLL: Duration = Duration::from_millis(50);

#[uniffi::export]
impl Warung {
    /// Sets the sync server (e.g. "https://sync.warung.id"); replaces an earlier configuration
    /// and stops its background loop. The device registers on the first round; its identity
    /// lives in the app's secure storage.
    #[uniffi::method(default(options = None))]
    pub fn configure_sync(&self, server_url: String, options: Option<SyncOptions>) -> Result<()> {
        guard(|| {
            let options = options.unwrap_or_default();
            // The HTTP client needs a runtime context to be built.
            let _enter = self.runtime.enter();
            let client = core_sync::SyncClient::new(
                self.profile.clone(),
                self.storage.clone(),
                options.core_config(server_url),
            )?;
            client.set_listener(
                self.sync_listener
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
            );
            let old = self
                .sync
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .replace(client);
            if let Some(old) = old {
                old.stop_background();
            }
            Ok(())
        })
    }

    /// One sync round now: register if needed, push the outbox, pull the catalog and this
    /// device's results. Waits for a running round to end first. Cancelling the coroutine
    /// (Kotlin) or `cancel` stops it at its next step; every database step is atomic.
    #[uniffi::method(default(cancel = None))]
    pub async fn sync_now(&self, cancel: Option<Arc<CancelToken>>) -> Result<SyncReport> {
        let client = self.sync_client()?;
        let flag = cancel.map(|t| t.flag.clone()).unwrap_or_default();
        let _guard = CancelOnDrop(flag.clone());
        let task = self.runtime.spawn(async move {
            let round = client.sync_now(&flag);
            tokio::pin!(round);
            loop {
                tokio::select! {
                    r = &mut round => return r.map(Into::into).map_err(Into::into),
                    _ = tokio::time::sleep(CANCEL_POLL) => {
                        // A round waiting on the network notices the flag only after the
                        // request: drop it instead (the core allows that at any await).
                        if flag.is_cancelled() {
                            return Err(WarungError::Cancelled("cancelled".into()));
                        }
                    }
                }
            }
        });
        match task.await {
            Ok(r) => r,
            Err(e) if e.is_panic() => {
                let panic = e.into_panic();
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(WarungError::Internal(format!("internal error: {msg}")))
            }
            Err(e) => Err(WarungError::Internal(format!("sync task failed: {e}"))),
        }
    }

    /// Runs a round every `interval_seconds` (at least 1), and at once on
    /// [`Warung::request_sync`], on the core's own threads until
    /// [`Warung::stop_background_sync`]. A failed round is retried sooner, with back-off.
    pub fn start_background_sync(&self, interval_seconds: u32) -> Result<()> {
        guard(|| {
            let client = self.sync_client()?;
            client.start_background(
                self.runtime.handle(),
                Duration::from_secs(u64::from(interval_seconds.max(1))),
            );
            Ok(())
        })
    }

    /// Stops the background loop (a round in flight stops at its next step). No-op if none.
    pub fn stop_background_sync(&self) {
        if let Ok(client) = self.sync_client() {
            client.stop_background();
        }
    }

    pub fn is_background_sync_running(&self) -> bool {
        self.sync_client()
            .map(|c| c.is_background_running())
            .unwrap_or(false)
    }

    /// Asks the background loop for a round now (e.g. after a cart edit). No-op without one.
    pub fn request_sync(&self) {
        if let Ok(client) = self.sync_client() {
            client.request_sync();
        }
    }

    /// Hears about every round (progress, rejected intents, quarantined catalog entities);
    /// `None` removes it.
    pub fn set_sync_listener(&self, listener: Option<Arc<dyn SyncListener>>) {
        let listener =
            listener.map(|l| Arc::new(ForeignSyncListener(l)) as Arc<dyn core_sync::SyncListener>);
        *self.sync_listener.lock().unwrap_or_else(|p| p.into_inner()) = listener.clone();
        if let Ok(client) = self.sync_client() {
            client.set_listener(listener);
        }
    }

    /// The error of the last round (foreground or background), `None` if it succeeded or none
    /// ran yet.
    pub fn last_sync_error(&self) -> Option<WarungError> {
        self.sync_client()
            .ok()
            .and_then(|c| c.last_error())
            .map(Into::into)
    }

    /// Whether this device has registered with the configured server.
    pub fn is_sync_registered(&self) -> Result<bool> {
        guard(|| Ok(self.sync_client()?.is_registered()?))
    }
}

// ---------------------------------------------------------------------------------------------
// Identity and verification (the core's `verify`): SMS OTP sign-in, the SIM-bound device key,
// PIN and the TOTP soft token. Secrets (tokens, keys, the TOTP secret) stay in the app's secure
// storage and never cross the boundary, except the `otpauth://` URI asked for on purpose.

use warung_core::otp as core_otp;
use warung_core::sms as core_sms;
use warung_core::verify as core_verify;

/// What an SMS OTP is for. `request_otp` takes `Register` or `Login`; `StepUp` challenges come
/// from `request_step_up` (and `request_otp` refuses it with `OtpRejected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OtpPurpose {
    Register,
    Login,
    StepUp,
}

impl From<OtpPurpose> for wire::OtpPurpose {
    fn from(p: OtpPurpose) -> Self {
        match p {
            OtpPurpose::Register => wire::OtpPurpose::Register,
            OtpPurpose::Login => wire::OtpPurpose::Login,
            OtpPurpose::StepUp => wire::OtpPurpose::StepUp,
        }
    }
}

impl From<wire::OtpPurpose> for OtpPurpose {
    fn from(p: wire::OtpPurpose) -> Self {
        match p {
            wire::OtpPurpose::Register => OtpPurpose::Register,
            wire::OtpPurpose::Login => OtpPurpose::Login,
            wire::OtpPurpose::StepUp => OtpPurpose::StepUp,
        }
    }
}

/// The language of the SMS texts the server sends (Indonesian or English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SmsLanguage {
    Id,
    En,
}

impl From<SmsLanguage> for wire::SmsLanguage {
    fn from(l: SmsLanguage) -> Self {
        match l {
            SmsLanguage::Id => wire::SmsLanguage::Id,
            SmsLanguage::En => wire::SmsLanguage::En,
        }
    }
}

/// A sensitive action a step-up OTP confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StepUpAction {
    /// Changing the PIN (`change_pin`).
    PinChange,
    /// Removing the TOTP soft token (`reset_totp`).
    TotpReset,
}

impl From<StepUpAction> for core_verify::StepUpAction {
    fn from(a: StepUpAction) -> Self {
        match a {
            StepUpAction::PinChange => core_verify::StepUpAction::PinChange,
            StepUpAction::TotpReset => core_verify::StepUpAction::TotpReset,
        }
    }
}

/// An SMS code went out.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OtpChallenge {
    pub challenge_id: String,
    /// The number the code was sent to, E.164.
    pub phone: String,
    pub purpose: OtpPurpose,
    pub expires_at: SystemTime,
    /// No new code for this phone before this time.
    pub resend_after: SystemTime,
    pub digits: u32,
}

impl From<wire::OtpChallenge> for OtpChallenge {
    fn from(c: wire::OtpChallenge) -> Self {
        OtpChallenge {
            challenge_id: c.challenge_id,
            phone: c.phone,
            purpose: c.purpose.into(),
            expires_at: instant(c.expires_at),
            resend_after: instant(c.resend_after),
            digits: c.digits,
        }
    }
}

/// A verified register / login code. The session itself went to secure storage.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignedIn {
    pub user_id: String,
    /// E.164.
    pub phone: String,
    /// The account was created by this verification.
    pub new_user: bool,
}

impl From<core_verify::SignedIn> for SignedIn {
    fn from(s: core_verify::SignedIn) -> Self {
        SignedIn {
            user_id: s.user_id,
            phone: s.phone,
            new_user: s.new_user,
        }
    }
}

/// A verified step-up code: lets the action it was bound to happen once, before `expires_at`
/// (pass `challenge_id` to the action, e.g. `change_pin`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StepUpGrant {
    pub challenge_id: String,
    pub tx_digest: String,
    pub expires_at: SystemTime,
}

impl From<wire::StepUpGrant> for StepUpGrant {
    fn from(g: wire::StepUpGrant) -> Self {
        StepUpGrant {
            challenge_id: g.challenge_id,
            tx_digest: g.tx_digest,
            expires_at: instant(g.expires_at),
        }
    }
}

/// What the phone must do to bind: send `sms_body` from its SIM to `short_code`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BindingInstructions {
    pub binding_id: String,
    pub short_code: String,
    /// Exactly what the SMS must say, e.g. `WRG BIND 7F3KQ9`.
    pub sms_body: String,
    pub expires_at: SystemTime,
}

impl From<wire::BindingInstructions> for BindingInstructions {
    fn from(b: wire::BindingInstructions) -> Self {
        BindingInstructions {
            binding_id: b.binding_id,
            short_code: b.short_code,
            sms_body: b.sms_body,
            expires_at: instant(b.expires_at),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BindingState {
    /// Waiting for the SMS.
    Pending,
    /// The SMS arrived from the account's number: the key is bound.
    Bound,
    /// No valid SMS before the deadline.
    Expired,
    /// Replaced by a newer binding or revoked.
    Revoked,
}

impl From<wire::BindingState> for BindingState {
    fn from(s: wire::BindingState) -> Self {
        match s {
            wire::BindingState::Pending => BindingState::Pending,
            wire::BindingState::Bound => BindingState::Bound,
            wire::BindingState::Expired => BindingState::Expired,
            wire::BindingState::Revoked => BindingState::Revoked,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BindingStatus {
    pub binding_id: String,
    pub device_id: String,
    pub state: BindingState,
    pub expires_at: SystemTime,
    pub bound_at: Option<SystemTime>,
}

impl From<wire::BindingStatus> for BindingStatus {
    fn from(b: wire::BindingStatus) -> Self {
        BindingStatus {
            binding_id: b.binding_id,
            device_id: b.device_id,
            state: b.state.into(),
            expires_at: instant(b.expires_at),
            bound_at: b.bound_at.map(instant),
        }
    }
}

/// The signed-in account, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Account {
    pub user_id: String,
    pub phone: String,
    /// This installation (the session's device).
    pub device_id: String,
    /// This installation holds a bound key: it may sign money-moving requests.
    pub device_bound: bool,
    pub pin_set: bool,
    /// Money movement is locked after too many wrong PINs, until this time.
    pub pin_locked_until: Option<SystemTime>,
    pub totp_enrolled: bool,
    pub created_at: SystemTime,
}

impl From<wire::Account> for Account {
    fn from(a: wire::Account) -> Self {
        Account {
            user_id: a.user_id,
            phone: a.phone,
            device_id: a.device_id,
            device_bound: a.device_bound,
            pin_set: a.pin_set,
            pin_locked_until: a.pin_locked_until.map(instant),
            totp_enrolled: a.totp_enrolled,
            created_at: instant(a.created_at),
        }
    }
}

/// One of the user's devices.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceSummary {
    pub device_id: String,
    /// This installation.
    pub current: bool,
    pub bound: bool,
    /// First 16 hex digits of SHA-256 of the bound public key.
    pub key_fingerprint: Option<String>,
    pub bound_at: Option<SystemTime>,
    pub revoked_at: Option<SystemTime>,
    pub last_login_at: SystemTime,
}

impl From<wire::DeviceSummary> for DeviceSummary {
    fn from(d: wire::DeviceSummary) -> Self {
        DeviceSummary {
            device_id: d.device_id,
            current: d.current,
            bound: d.bound,
            key_fingerprint: d.key_fingerprint,
            bound_at: d.bound_at.map(instant),
            revoked_at: d.revoked_at.map(instant),
            last_login_at: instant(d.last_login_at),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TotpAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// A TOTP soft token just enrolled. The secret stays in secure storage; `otpauth_uri` carries
/// it for export to another authenticator app (show it only on the user's request).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TotpEnrollment {
    pub issuer: String,
    /// The account label (the phone number).
    pub account: String,
    pub algorithm: TotpAlgorithm,
    pub digits: u32,
    pub period_s: u64,
    pub otpauth_uri: String,
}

impl From<core_otp::Algorithm> for TotpAlgorithm {
    fn from(a: core_otp::Algorithm) -> Self {
        match a {
            core_otp::Algorithm::Sha1 => TotpAlgorithm::Sha1,
            core_otp::Algorithm::Sha256 => TotpAlgorithm::Sha256,
            core_otp::Algorithm::Sha512 => TotpAlgorithm::Sha512,
        }
    }
}

impl From<TotpAlgorithm> for core_otp::Algorithm {
    fn from(a: TotpAlgorithm) -> Self {
        match a {
            TotpAlgorithm::Sha1 => core_otp::Algorithm::Sha1,
            TotpAlgorithm::Sha256 => core_otp::Algorithm::Sha256,
            TotpAlgorithm::Sha512 => core_otp::Algorithm::Sha512,
        }
    }
}

impl From<core_verify::TotpEnrollment> for TotpEnrollment {
    fn from(e: core_verify::TotpEnrollment) -> Self {
        TotpEnrollment {
            issuer: e.issuer,
            account: e.account,
            algorithm: e.algorithm.into(),
            digits: e.digits,
            period_s: e.period_s,
            otpauth_uri: e.otpauth_uri,
        }
    }
}

/// The soft token's code at a moment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TotpCode {
    pub code: String,
    /// The time step (unix seconds / period).
    pub step: u64,
    /// Seconds until the next code.
    pub valid_for_s: u64,
}

impl From<core_verify::TotpCode> for TotpCode {
    fn from(c: core_verify::TotpCode) -> Self {
        TotpCode {
            code: c.code,
            step: c.step,
            valid_for_s: c.valid_for_s,
        }
    }
}

/// `08…`, `628…`, `+628…` (spaces, dashes allowed) → E.164 `+628…`; anything else (non-ASCII
/// digits included) is `InvalidPhone`. No request.
#[uniffi::export]
pub fn normalize_phone(text: String) -> Result<String> {
    guard(|| {
        warung_core::phone::normalize(&text)
            .map_err(|e| warung_core::Error::InvalidPhone(e.to_string()).into())
    })
}

/// Checks a new PIN before any request: 6 ASCII digits (`InvalidPin`), not all one digit nor a
/// straight run such as 123456 / 654321 (`WeakPin`).
#[uniffi::export]
pub fn check_new_pin(pin: String) -> Result<()> {
    guard(|| Ok(core_verify::check_new_pin(&pin)?))
}

// ---------------------------------------------------------------------------------------------
// Input rules shared with the server (`warung_core::protocol::text`, `Money::check_wire_range`):
// an app checks a form before sending it and gets the message the server would give.

/// What a text field may contain: one line of display text, several lines, or a visible-ASCII id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TextKind {
    Line,
    Block,
    Identifier,
}

impl From<TextKind> for warung_core::protocol::text::TextKind {
    fn from(k: TextKind) -> Self {
        use warung_core::protocol::text::TextKind as K;
        match k {
            TextKind::Line => K::Line,
            TextKind::Block => K::Block,
            TextKind::Identifier => K::Identifier,
        }
    }
}

/// `value` trimmed if the server would accept it for a field of `kind` (at most `max_chars`,
/// and a visible character when `required`); otherwise `InvalidText` naming `field` and the
/// offending code point (a right-to-left override, a NUL, zero-width-only text…).
#[uniffi::export]
pub fn clean_text(
    field: String,
    kind: TextKind,
    value: String,
    max_chars: u32,
    required: bool,
) -> Result<String> {
    guard(|| {
        warung_core::protocol::text::clean(
            &field,
            kind.into(),
            &value,
            max_chars as usize,
            required,
        )
        .map_err(|e| WarungError::InvalidText(e.to_string()))
    })
}

/// `Ok` if `money` is within what the wire carries (at most 14 digits before the decimal
/// point); `InvalidMoney` otherwise.
#[uniffi::export]
pub fn check_money_wire_range(money: Money) -> Result<()> {
    guard(|| {
        let m: core_money::Money = money.try_into()?;
        Ok(m.check_wire_range()?)
    })
}

// ---------------------------------------------------------------------------------------------
// One-time passwords, phone masking and the SMS grammar: the core's shared functions (the
// server computes and parses with the same ones). Pure and offline. Secrets are raw bytes
// (at least 16); `base32_decode` turns a typed or scanned secret into them.

fn totp_params(algorithm: TotpAlgorithm, digits: u32, period_s: u64) -> core_otp::TotpParams {
    core_otp::TotpParams {
        algorithm: algorithm.into(),
        digits,
        period_s,
    }
}

/// The HOTP code (RFC 4226) of `counter`: `digits` (6..=8) ASCII digits, leading zeros kept.
/// A secret under 16 bytes or other digits is `InvalidOtpInput`.
#[uniffi::export]
pub fn otp_hotp(
    secret: Vec<u8>,
    counter: u64,
    algorithm: TotpAlgorithm,
    digits: u32,
) -> Result<String> {
    guard(|| Ok(core_otp::hotp(&secret, counter, algorithm.into(), digits)?))
}

/// The TOTP code (RFC 6238) at `unix_time`: HOTP of `unix_time / period_s`.
/// `InvalidOtpInput` for a short secret, digits outside 6..=8 or a period of 0.
#[uniffi::export]
pub fn otp_totp(
    secret: Vec<u8>,
    unix_time: u64,
    algorithm: TotpAlgorithm,
    digits: u32,
    period_s: u64,
) -> Result<String> {
    guard(|| {
        Ok(core_otp::totp(
            &secret,
            unix_time,
            &totp_params(algorithm, digits, period_s),
        )?)
    })
}

/// The time step of `unix_time`: `unix_time / period_s` (0 for a period of 0).
#[uniffi::export]
pub fn otp_step(unix_time: u64, period_s: u64) -> u64 {
    core_otp::step(unix_time, period_s)
}

/// The step within `skew` steps (at most 10) of `unix_time`'s whose code is `code`, or null
/// when none matches (constant-time). A `code` that is not `digits` ASCII digits is
/// `InvalidOtpInput`. The caller must refuse a step it accepted before: this has no memory.
#[uniffi::export]
pub fn otp_verify_totp(
    secret: Vec<u8>,
    code: String,
    unix_time: u64,
    algorithm: TotpAlgorithm,
    digits: u32,
    period_s: u64,
    skew: u64,
) -> Result<Option<u64>> {
    guard(|| {
        Ok(core_otp::verify_totp(
            &secret,
            &code,
            unix_time,
            &totp_params(algorithm, digits, period_s),
            skew,
        )?)
    })
}

/// `otpauth://totp/{issuer}:{account}?secret=…&issuer=…&algorithm=…&digits=…&period=…` for
/// authenticator apps (issuer and account percent-encoded, secret base32 without padding).
#[uniffi::export]
pub fn otpauth_uri(
    secret: Vec<u8>,
    issuer: String,
    account: String,
    algorithm: TotpAlgorithm,
    digits: u32,
    period_s: u64,
) -> String {
    core_otp::otpauth_uri(
        &secret,
        &issuer,
        &account,
        &totp_params(algorithm, digits, period_s),
    )
}

/// RFC 4648 base32, upper case, without padding.
#[uniffi::export]
pub fn base32_encode(bytes: Vec<u8>) -> String {
    core_otp::base32_encode(&bytes)
}

/// RFC 4648 base32, case-insensitive, spaces and `=` ignored; another character, an impossible
/// length or non-zero trailing bits is `InvalidOtpInput` (`secret: …`).
#[uniffi::export]
pub fn base32_decode(text: String) -> Result<Vec<u8>> {
    guard(|| Ok(core_otp::base32_decode(&text)?))
}

/// `+6281234567890` → `+62812****890`, for logs and screens other people see. Expects the
/// E.164 form `normalize_phone` returns.
#[uniffi::export]
pub fn mask_phone(e164: String) -> String {
    warung_core::phone::mask(&e164)
}

/// A parsed Warung SMS command.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SmsCommand {
    /// `WRG BIND <token>`: bind the device given `token` (upper case) to the sender's SIM.
    Bind { token: String },
}

impl From<core_sms::SmsCommand> for SmsCommand {
    fn from(c: core_sms::SmsCommand) -> Self {
        match c {
            core_sms::SmsCommand::Bind { token } => SmsCommand::Bind { token },
        }
    }
}

/// Parses an SMS body (`WRG BIND 7F3KQ9`; case and spacing forgiven). Anything else is
/// `InvalidSmsCommand` with the code `not_warung`, `unknown_command` or `bad_arguments`.
#[uniffi::export]
pub fn parse_sms_command(text: String) -> Result<SmsCommand> {
    guard(|| Ok(core_sms::parse(&text)?.into()))
}

/// The exact body of a binding SMS: `WRG BIND <token>`.
#[uniffi::export]
pub fn sms_bind_body(token: String) -> String {
    core_sms::bind_body(&token)
}

/// True when `token` could have been issued as a binding token (6 characters of
/// `23456789ABCDEFGHJKMNPQRSTUVWXYZ`).
#[uniffi::export]
pub fn is_sms_bind_token(token: String) -> bool {
    core_sms::is_bind_token(&token)
}

impl Warung {
    /// Runs one identity call on the core's runtime. `cancel` (or dropping the caller's
    /// coroutine / task) abandons it at its next await: a request in flight may still reach
    /// the server. A panic comes back as `Internal`.
    async fn identity<T, F, Fut>(&self, cancel: Option<Arc<CancelToken>>, call: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(core_sync::SyncClient, CancelFlag) -> Fut,
        Fut: std::future::Future<Output = warung_core::Result<T>> + Send + 'static,
    {
        let client = self.sync_client()?;
        let flag = cancel.map(|t| t.flag.clone()).unwrap_or_default();
        let _guard = CancelOnDrop(flag.clone());
        let work = call(client, flag.clone());
        let task = self.runtime.spawn(async move {
            tokio::pin!(work);
            loop {
                if flag.is_cancelled() {
                    return Err(WarungError::Cancelled("cancelled".into()));
                }
                tokio::select! {
                    r = &mut work => return r.map_err(Into::into),
                    _ = tokio::time::sleep(CANCEL_POLL) => {}
                }
            }
        });
        join_result(task.await)
    }
}

/// A spawned task's outcome, its panic as `Internal`.
fn join_result<T>(r: std::result::Result<Result<T>, tokio::task::JoinError>) -> Result<T> {
    match r {
        Ok(r) => r,
        Err(e) if e.is_panic() => {
            let panic = e.into_panic();
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(WarungError::Internal(format!("internal error: {msg}")))
        }
        Err(e) => Err(WarungError::Internal(format!("task failed: {e}"))),
    }
}

/// Identity calls go to the server set with `configure_sync` (else `SyncNotConfigured`).
/// Async calls take an optional `CancelToken`; cancelling the Kotlin coroutine or Swift task
/// (with the extension wrappers) does the same.
#[uniffi::export]
impl Warung {
    /// Texts a 6-digit code to `phone` (`08…`, `628…`, `+628…`) for `Register` or `Login`. An
    /// unusable number is `InvalidPhone` (no request); a resend within the cool-down or past
    /// the hourly limits is `RateLimited` (the message has the wait).
    #[uniffi::method(default(cancel = None))]
    pub async fn request_otp(
        &self,
        phone: String,
        purpose: OtpPurpose,
        language: SmsLanguage,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<OtpChallenge> {
        self.identity(cancel, move |c, _| async move {
            c.request_otp(&phone, purpose.into(), language.into())
                .await
                .map(Into::into)
        })
        .await
    }

    /// Checks the code of a register / login challenge; the session goes to secure storage.
    /// A wrong, expired, used or locked code is `OtpRejected` (with the attempts left).
    #[uniffi::method(default(cancel = None))]
    pub async fn verify_otp(
        &self,
        challenge_id: String,
        code: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<SignedIn> {
        self.identity(cancel, move |c, _| async move {
            c.verify_otp(&challenge_id, &code).await.map(Into::into)
        })
        .await
    }

    /// Texts a step-up code to the signed-in user's phone, bound to `action`.
    #[uniffi::method(default(cancel = None))]
    pub async fn request_step_up(
        &self,
        action: StepUpAction,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<OtpChallenge> {
        self.identity(cancel, move |c, _| async move {
            c.request_step_up(action.into()).await.map(Into::into)
        })
        .await
    }

    /// Checks a step-up code; the grant allows its action once.
    #[uniffi::method(default(cancel = None))]
    pub async fn verify_step_up(
        &self,
        challenge_id: String,
        code: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<StepUpGrant> {
        self.identity(cancel, move |c, _| async move {
            c.verify_step_up(&challenge_id, &code).await.map(Into::into)
        })
        .await
    }

    /// Ends the session on the server and removes it here (the local session is gone even if
    /// the server cannot be reached; that is still reported). The device key and TOTP secret
    /// stay for the same user's next sign-in.
    #[uniffi::method(default(cancel = None))]
    pub async fn logout(&self, cancel: Option<Arc<CancelToken>>) -> Result<()> {
        self.identity(cancel, |c, _| async move { c.logout().await })
            .await
    }

    /// A session for this server is stored and not expired (no request).
    pub fn is_signed_in(&self) -> Result<bool> {
        guard(|| Ok(self.sync_client()?.is_signed_in()?))
    }

    /// The signed-in account (`NotSignedIn` without a session).
    #[uniffi::method(default(cancel = None))]
    pub async fn account(&self, cancel: Option<Arc<CancelToken>>) -> Result<Account> {
        self.identity(
            cancel,
            |c, _| async move { c.account().await.map(Into::into) },
        )
        .await
    }

    /// Creates this installation's device key (kept in secure storage) and asks for a
    /// binding: the app must then send `sms_body` to `short_code` from the phone's SIM.
    #[uniffi::method(default(cancel = None))]
    pub async fn begin_device_binding(
        &self,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<BindingInstructions> {
        self.identity(cancel, |c, _| async move {
            c.begin_device_binding().await.map(Into::into)
        })
        .await
    }

    /// The server's view of a binding (once `Bound`, the key becomes this device's key).
    #[uniffi::method(default(cancel = None))]
    pub async fn binding_status(
        &self,
        binding_id: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<BindingStatus> {
        self.identity(cancel, move |c, _| async move {
            c.binding_status(&binding_id).await.map(Into::into)
        })
        .await
    }

    /// Polls the binding every second until it is bound (returned), expired or revoked
    /// (`BindingFailed`), `timeout_seconds` pass (`BindingTimedOut`: it may still complete) or
    /// it is cancelled (`Cancelled`).
    #[uniffi::method(default(cancel = None))]
    pub async fn wait_until_bound(
        &self,
        binding_id: String,
        timeout_seconds: u32,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<BindingStatus> {
        self.identity(cancel, move |c, flag| async move {
            c.wait_until_bound(
                &binding_id,
                Duration::from_secs(u64::from(timeout_seconds)),
                &flag,
            )
            .await
            .map(Into::into)
        })
        .await
    }

    /// This installation holds a bound device key (no request).
    pub fn is_device_bound(&self) -> Result<bool> {
        guard(|| Ok(self.sync_client()?.is_device_bound()?))
    }

    /// The user's devices.
    #[uniffi::method(default(cancel = None))]
    pub async fn devices(&self, cancel: Option<Arc<CancelToken>>) -> Result<Vec<DeviceSummary>> {
        self.identity(cancel, |c, _| async move {
            c.devices()
                .await
                .map(|d| d.into_iter().map(Into::into).collect())
        })
        .await
    }

    /// Revokes one of the user's devices (signed; needs this device bound).
    #[uniffi::method(default(cancel = None))]
    pub async fn revoke_device(
        &self,
        device_id: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<()> {
        self.identity(cancel, move |c, _| async move {
            c.revoke_device(&device_id).await
        })
        .await
    }

    /// Sets the first PIN (signed; needs a bound device). `InvalidPin` / `WeakPin` are
    /// checked before any request.
    #[uniffi::method(default(cancel = None))]
    pub async fn set_pin(&self, pin: String, cancel: Option<Arc<CancelToken>>) -> Result<()> {
        self.identity(cancel, move |c, _| async move { c.set_pin(&pin).await })
            .await
    }

    /// Changes the PIN: the old one plus a verified step-up for `StepUpAction.PinChange`
    /// (else `StepUpRequired`).
    #[uniffi::method(default(cancel = None))]
    pub async fn change_pin(
        &self,
        old_pin: String,
        new_pin: String,
        step_up_challenge_id: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<()> {
        self.identity(cancel, move |c, _| async move {
            c.change_pin(&old_pin, &new_pin, &step_up_challenge_id)
                .await
        })
        .await
    }

    /// Checks the PIN with the server (signed): Ok when right, `PinIncorrect` (attempts left
    /// in the message), `PinLocked` (the wait), `PinNotSet`.
    #[uniffi::method(default(cancel = None))]
    pub async fn verify_pin(&self, pin: String, cancel: Option<Arc<CancelToken>>) -> Result<()> {
        self.identity(cancel, move |c, _| async move { c.verify_pin(&pin).await })
            .await
    }

    /// Enrols the TOTP soft token (signed; once per account, then `TotpAlreadyEnrolled`).
    #[uniffi::method(default(cancel = None))]
    pub async fn enroll_totp(&self, cancel: Option<Arc<CancelToken>>) -> Result<TotpEnrollment> {
        self.identity(cancel, |c, _| async move {
            c.enroll_totp().await.map(Into::into)
        })
        .await
    }

    /// Removes the TOTP soft token (signed): the PIN plus a verified step-up for
    /// `StepUpAction.TotpReset` (else `StepUpRequired`; a wrong PIN is `PinIncorrect` and
    /// counts toward the lock-out). The secret leaves secure storage; `enroll_totp` works again.
    #[uniffi::method(default(cancel = None))]
    pub async fn reset_totp(
        &self,
        pin: String,
        step_up_challenge_id: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<()> {
        self.identity(cancel, move |c, _| async move {
            c.reset_totp(&pin, &step_up_challenge_id).await
        })
        .await
    }

    /// The soft token's current code, offline (`TotpNotEnrolled` without a secret here).
    pub fn totp_code(&self) -> Result<TotpCode> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| WarungError::Internal("the clock is before 1970".into()))?
            .as_secs();
        self.totp_code_at(now)
    }

    /// The soft token's code at `unix_seconds` (for tests and clock-skew displays).
    pub fn totp_code_at(&self, unix_seconds: u64) -> Result<TotpCode> {
        guard(|| Ok(self.sync_client()?.totp_code(unix_seconds)?.into()))
    }

    /// The `otpauth://` URI of the soft token, for another authenticator app. It contains the
    /// secret: show it only on the user's request.
    pub fn totp_uri(&self) -> Result<String> {
        guard(|| Ok(self.sync_client()?.totp_uri()?))
    }

    /// Has the server check a TOTP code (signed); returns the time step it matched. A wrong
    /// code or a step already accepted is `TotpRejected` (`totp_invalid` / `totp_replayed`).
    #[uniffi::method(default(cancel = None))]
    pub async fn confirm_totp(
        &self,
        code: String,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<u64> {
        self.identity(
            cancel,
            move |c, _| async move { c.confirm_totp(&code).await },
        )
        .await
    }
}

#[cfg(test)]
mod identity_error_tests {
    use super::*;
    use warung_core::Error as E;

    fn text(e: E) -> (String, String) {
        let w = WarungError::from(e);
        let name = format!("{w:?}");
        (name[..name.find('(').unwrap()].to_string(), w.to_string())
    }

    #[test]
    fn identity_errors_keep_their_details() {
        let (n, m) = text(E::OtpRejected {
            code: "otp_invalid".into(),
            attempts_left: Some(4),
        });
        assert_eq!(n, "OtpRejected");
        assert!(
            m.contains("otp_invalid") && m.contains("4 attempts left"),
            "{m}"
        );
        let (n, m) = text(E::PinIncorrect { attempts_left: 2 });
        assert_eq!(n, "PinIncorrect");
        assert!(m.contains("2 attempts left"), "{m}");
        let (n, m) = text(E::PinLocked {
            retry_after_s: 1800,
        });
        assert_eq!(n, "PinLocked");
        assert!(m.contains("1800 s"), "{m}");
        let (n, m) = text(E::RateLimited { retry_after_s: 27 });
        assert_eq!(n, "RateLimited");
        assert!(m.contains("27 s"), "{m}");
        let (n, m) = text(E::TotpRejected {
            code: "totp_replayed".into(),
        });
        assert_eq!(n, "TotpRejected");
        assert!(m.contains("totp_replayed"), "{m}");
        let (n, m) = text(E::SignatureRejected {
            code: "signature_stale".into(),
        });
        assert_eq!(n, "SignatureRejected");
        assert!(m.contains("signature_stale"), "{m}");
        let (n, m) = text(E::BindingFailed(wire::BindingState::Expired));
        assert_eq!(n, "BindingFailed");
        assert!(m.ends_with("expired"), "{m}");
        for (e, name) in [
            (E::InvalidPhone("x".into()), "InvalidPhone"),
            (E::InvalidPin, "InvalidPin"),
            (E::WeakPin, "WeakPin"),
            (E::NotSignedIn, "NotSignedIn"),
            (E::SessionExpired, "SessionExpired"),
            (E::DeviceNotBound, "DeviceNotBound"),
            (E::PinNotSet, "PinNotSet"),
            (E::StepUpRequired, "StepUpRequired"),
            (E::TotpNotEnrolled, "TotpNotEnrolled"),
            (E::TotpAlreadyEnrolled, "TotpAlreadyEnrolled"),
            (E::BindingTimedOut, "BindingTimedOut"),
        ] {
            assert_eq!(text(e).0, name);
        }
    }

    #[test]
    fn free_functions_are_typed() {
        assert_eq!(
            normalize_phone("0812-3456-7890".into()).unwrap(),
            "+6281234567890"
        );
        assert!(matches!(
            normalize_phone("０８１２３４５６７８９０".into()),
            Err(WarungError::InvalidPhone(_))
        ));
        assert!(matches!(
            check_new_pin("654321".into()),
            Err(WarungError::WeakPin(_))
        ));
        assert!(matches!(
            check_new_pin("12345".into()),
            Err(WarungError::InvalidPin(_))
        ));
        assert!(check_new_pin("482916".into()).is_ok());
    }

    #[test]
    fn otp_and_sms_errors_say_which_input() {
        let seed = b"12345678901234567890".to_vec();
        let err = |r: Result<String>| match r {
            Err(WarungError::InvalidOtpInput(m)) => m,
            other => panic!("expected InvalidOtpInput, got {other:?}"),
        };
        assert!(
            err(otp_hotp(b"short".to_vec(), 0, TotpAlgorithm::Sha1, 6)).starts_with("secret: ")
        );
        assert!(err(otp_hotp(seed.clone(), 0, TotpAlgorithm::Sha1, 9)).starts_with("digits: "));
        assert!(err(otp_totp(seed.clone(), 0, TotpAlgorithm::Sha1, 6, 0)).starts_with("period: "));
        assert!(matches!(
            otp_verify_totp(seed.clone(), "12a456".into(), 0, TotpAlgorithm::Sha1, 6, 30, 1),
            Err(WarungError::InvalidOtpInput(m)) if m.starts_with("code: ")
        ));
        assert!(matches!(
            base32_decode("AB1".into()),
            Err(WarungError::InvalidOtpInput(m)) if m.starts_with("secret: ")
        ));
        // The algorithm crosses unchanged (RFC 6238 appendix B, 59 s).
        for (algorithm, seed, code) in [
            (
                TotpAlgorithm::Sha1,
                &b"12345678901234567890"[..],
                "94287082",
            ),
            (
                TotpAlgorithm::Sha256,
                &b"12345678901234567890123456789012"[..],
                "46119246",
            ),
        ] {
            assert_eq!(otp_totp(seed.to_vec(), 59, algorithm, 8, 30).unwrap(), code);
        }
        for (text, code) in [
            ("Halo", "not_warung"),
            ("WRG SALDO", "unknown_command"),
            ("WRG BIND 7F3KQ0", "bad_arguments"),
        ] {
            assert!(matches!(
                parse_sms_command(text.into()),
                Err(WarungError::InvalidSmsCommand(m)) if m.starts_with(&format!("{code}: "))
            ));
        }
        assert_eq!(
            parse_sms_command("wrg bind 7f3kq9".into()).unwrap(),
            SmsCommand::Bind {
                token: "7F3KQ9".into()
            }
        );
    }
}
