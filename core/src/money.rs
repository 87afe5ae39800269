//! Money: a `rust_decimal::Decimal` amount with an ISO 4217 currency.
//!
//! Rules (see DESIGN.md "Money"): checked arithmetic only, no floats, rupiah amounts are whole.
//! On the wire a `Money` is `{"amount":"125000","currency":"IDR"}` — the amount is a JSON string.
//!
//! Internally every amount is held at exactly `currency.minor_units()` decimal places, so its
//! `Decimal` mantissa *is* the integer number of minor units. All arithmetic is done on that
//! integer with checked `i128`/`u128` operations and converted back through one range check,
//! which is why nothing here can overflow a `Decimal` (whose `+ - *` panic on overflow).

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why an amount, currency or locale was rejected. Typed (not a string) so the UI, the FFI
/// layer and the server can each map a reason to their own wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    /// Leading, trailing or inner whitespace: trimming silently would hide upstream bugs.
    #[error("amount must not contain spaces")]
    Whitespace,
    #[error("amount must not have an explicit '+' sign")]
    ExplicitPlus,
    /// `1e3`: usually a float leaked through a JSON number or a spreadsheet.
    #[error("amount must not use exponent notation; write out all digits")]
    Exponent,
    #[error("amount contains the invalid character {found:?}")]
    InvalidCharacter { found: char },
    #[error("amount is not a well-formed number (expected e.g. 125000, -5 or 12.50)")]
    MalformedNumber,
    #[error("{currency} amounts allow at most {allowed} decimal places")]
    TooManyFractionDigits { currency: Currency, allowed: u32 },
    /// More digits than a `Decimal` holds, or an arithmetic overflow.
    #[error("amount is out of range")]
    OutOfRange,
    /// Representable, but beyond what the wire carries ([`MAX_WIRE_INTEGER_DIGITS`]): a phone
    /// stores amounts as `i64` minor units and sums them, so the server refuses larger ones.
    #[error(
        "{currency} amounts on the wire have at most {MAX_WIRE_INTEGER_DIGITS} digits before the decimal point"
    )]
    BeyondWireRange { currency: Currency },
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("unknown locale {0:?}")]
    UnknownLocale(String),
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("percent must be between 0 and 100 with at most 4 decimal places")]
    InvalidPercent,
    #[error("allocation weights must be non-empty, non-negative and not all zero")]
    InvalidWeights,
    /// `parse_localized` input that `format` would not have produced (carries the input).
    #[error("{0:?} is not an amount in the expected display format")]
    InvalidFormatted(String),
}

/// The largest amount that crosses the wire has this many digits before the decimal point
/// (99,999,999,999,999 whole units: a hundred trillion rupiah). Defined here once: the server
/// refuses larger prices (422), its OpenAPI patterns say so, and the phone sets aside an entity
/// that carries one. Why 14: with two minor units that is below 10¹⁶ minor units, so a cart
/// line of 99 of the largest price stays below 10¹⁸, inside an `i64` (9.2·10¹⁸) with room for
/// other lines; 15 digits would let one such line overflow.
pub const MAX_WIRE_INTEGER_DIGITS: u32 = 14;

/// The currencies Warung knows. `minor_units` is what we accept and display, not always ISO's:
/// ISO 4217 gives IDR two minor units, but sen are not used in practice, so IDR is whole here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Currency {
    IDR,
    USD,
    SGD,
    MYR,
    EUR,
    JPY,
}

impl Currency {
    /// Every supported currency, for pickers and exhaustive tests.
    pub const ALL: [Currency; 6] = [
        Currency::IDR,
        Currency::USD,
        Currency::SGD,
        Currency::MYR,
        Currency::EUR,
        Currency::JPY,
    ];

    /// The ISO 4217 alphabetic code, e.g. `"IDR"`.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::IDR => "IDR",
            Currency::USD => "USD",
            Currency::SGD => "SGD",
            Currency::MYR => "MYR",
            Currency::EUR => "EUR",
            Currency::JPY => "JPY",
        }
    }

    /// Decimal places we accept and display. IDR is 0 although ISO 4217 says 2: rupiah prices
    /// are whole in practice, so a fractional rupiah is a bug to reject, not a value to keep.
    pub const fn minor_units(self) -> u32 {
        match self {
            Currency::IDR | Currency::JPY => 0,
            Currency::USD | Currency::SGD | Currency::MYR | Currency::EUR => 2,
        }
    }

    /// The symbol `Money::format` writes before the number.
    const fn symbol(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Currency::IDR, Locale::IdId) => "Rp",
            (Currency::IDR, Locale::En) => "IDR ",
            (Currency::USD, Locale::IdId) => "US$",
            (Currency::USD, Locale::En) => "$",
            (Currency::SGD, _) => "S$",
            (Currency::MYR, _) => "RM",
            (Currency::EUR, _) => "€",
            (Currency::JPY, _) => "¥",
        }
    }

    /// `10^minor_units` as an integer; `minor_units` is at most 2, so this cannot overflow.
    const fn unit(self) -> u128 {
        if self.minor_units() == 0 { 1 } else { 100 }
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    /// Exact uppercase ISO code only: codes are data, not user prose, so "idr" is a bug upstream.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| MoneyError::UnknownCurrency(s.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

/// A display locale. Only the two the product ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    /// Bahasa Indonesia (`id-ID`): `Rp125.000`.
    #[default]
    #[serde(rename = "id-ID")]
    IdId,
    /// English (`en`): `IDR 125,000`.
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// The BCP 47 tag, matching the serde name.
    pub const fn tag(self) -> &'static str {
        match self {
            Locale::IdId => "id-ID",
            Locale::En => "en",
        }
    }

    /// `(thousands separator, decimal separator)`.
    const fn separators(self) -> (char, char) {
        match self {
            Locale::IdId => ('.', ','),
            Locale::En => (',', '.'),
        }
    }
}

impl FromStr for Locale {
    type Err = MoneyError;

    /// Lenient (case-insensitive, `-` or `_`) because tags come from OS settings, which vary.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "id-id" | "id" | "id_id" => Ok(Locale::IdId),
            "en" | "en-us" | "en-gb" | "en_us" | "en_gb" => Ok(Locale::En),
            _ => Err(MoneyError::UnknownLocale(s.to_owned())),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.tag())
    }
}

/// An amount of one currency. Invariant: `amount` has at most `currency.minor_units()`
/// decimal places (enforced by every constructor).
///
/// Stronger still, the scale is *exactly* `minor_units`, so equal amounts are equal structurally
/// (derived `Eq`/`Hash` agree) and `Display`/serde always write the same text for a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Builds a `Money`, rejecting non-zero digits beyond the currency's minor units
    /// (`125000.00` IDR is fine, `125000.5` IDR is not) instead of silently rounding.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let allowed = currency.minor_units();
        let normal = amount.normalize();
        let pad = allowed
            .checked_sub(normal.scale())
            .ok_or(MoneyError::TooManyFractionDigits { currency, allowed })?;
        let minor = 10_i128
            .checked_pow(pad)
            .and_then(|f| normal.mantissa().checked_mul(f));
        Money::from_checked(minor, currency)
    }

    /// Zero of `currency`, the identity for `sum`.
    pub const fn zero(currency: Currency) -> Money {
        Money {
            amount: Decimal::from_parts(0, 0, 0, false, currency.minor_units()),
            currency,
        }
    }

    /// The amount, always at exactly `currency().minor_units()` decimal places.
    pub const fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency; arithmetic refuses to mix two of them.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// True for zero (there is no negative zero: constructors normalise it away).
    pub fn is_zero(&self) -> bool {
        self.minor() == 0
    }

    /// Negative amounts are valid deltas (refunds); callers needing a price check this.
    pub fn is_negative(&self) -> bool {
        self.minor() < 0
    }

    /// From an integer count of the smallest unit (cents, whole rupiah), as stored in SQL.
    pub fn from_minor_units(minor: i64, currency: Currency) -> Result<Money, MoneyError> {
        Money::from_minor(i128::from(minor), currency)
    }

    /// The integer count of the smallest unit, for SQL indexing and sorting. Amounts beyond
    /// `i64` (possible in a `Decimal`) are `OutOfRange` rather than truncated.
    pub fn to_minor_units(&self) -> Result<i64, MoneyError> {
        i64::try_from(self.minor()).map_err(|_| MoneyError::OutOfRange)
    }

    /// `Ok` if the amount's magnitude has at most [`MAX_WIRE_INTEGER_DIGITS`] digits before the
    /// decimal point: the range of an amount on the wire (prices, and every amount that will
    /// later be sent). Negative amounts are judged by their magnitude.
    pub fn check_wire_range(&self) -> Result<(), MoneyError> {
        let limit = 10_u128.pow(MAX_WIRE_INTEGER_DIGITS + self.currency.minor_units());
        if self.minor().unsigned_abs() < limit {
            Ok(())
        } else {
            Err(MoneyError::BeyondWireRange {
                currency: self.currency,
            })
        }
    }

    /// Parses the strict canonical grammar `-?[0-9]+(\.[0-9]+)?` (ASCII digits only).
    /// Strict on purpose: this is the wire/storage form, so anything a human might type
    /// (`+5`, `1,000`, `1e3`, stray spaces) is an upstream bug and gets a typed reason.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(MoneyError::Whitespace);
        }
        if text.starts_with('+') {
            return Err(MoneyError::ExplicitPlus);
        }
        let mut prev: Option<char> = None;
        for c in text.chars() {
            match c {
                '0'..='9' | '.' | '-' => {}
                'e' | 'E' if prev.is_some_and(|p| p.is_ascii_digit() || p == '.') => {
                    return Err(MoneyError::Exponent);
                }
                found => return Err(MoneyError::InvalidCharacter { found }),
            }
            prev = Some(c);
        }
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let has_point = unsigned.contains('.');
        if !is_digits(int) || (has_point && !is_digits(frac)) {
            return Err(MoneyError::MalformedNumber);
        }
        let allowed = currency.minor_units();
        let kept = usize::try_from(allowed).map_err(|_| MoneyError::OutOfRange)?;
        if frac.bytes().skip(kept).any(|b| b != b'0') {
            return Err(MoneyError::TooManyFractionDigits { currency, allowed });
        }
        let padded = (0..kept).map(|i| frac.as_bytes().get(i).copied().unwrap_or(b'0'));
        let minor = push_digits(push_digits(0, int.bytes())?, padded)?;
        Money::from_checked(Some(minor).and_then(|v| signed(v, negative)), currency)
    }

    /// `self + other`; `CurrencyMismatch` rather than an implicit conversion, `OutOfRange` on
    /// overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(other)?;
        Money::from_checked(self.minor().checked_add(other.minor()), currency)
    }

    /// `self - other`, with the same errors as `checked_add`.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(other)?;
        Money::from_checked(self.minor().checked_sub(other.minor()), currency)
    }

    /// Line total: unit price times a quantity; `OutOfRange` on overflow.
    pub fn checked_mul_qty(&self, quantity: u32) -> Result<Money, MoneyError> {
        let minor = self.minor().checked_mul(i128::from(quantity));
        Money::from_checked(minor, self.currency)
    }

    /// `-self` (a refund of a charge). Cannot overflow today since the range is symmetric,
    /// but stays checked so the contract does not depend on that.
    pub fn checked_neg(&self) -> Result<Money, MoneyError> {
        Money::from_checked(self.minor().checked_neg(), self.currency)
    }

    /// Sums amounts that must all be in `currency`; an empty iterator gives zero (hence the
    /// explicit currency rather than taking it from the first item).
    pub fn sum<'a>(
        items: impl IntoIterator<Item = &'a Money>,
        currency: Currency,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// `amount * percent / 100`, rounded to the currency's minor units HALF UP (a midpoint goes
    /// away from zero, i.e. `RoundingStrategy::MidpointAwayFromZero`): 10% of Rp 12.345 is
    /// Rp 1.235. Computed exactly on integers, so no intermediate `Decimal` rounding can creep
    /// in. `percent` must be in `0..=100` with at most 4 decimals (basis-point precision).
    pub fn percentage(&self, percent: Decimal) -> Result<Money, MoneyError> {
        let p = percent.normalize();
        if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED || p.scale() > 4 {
            return Err(MoneyError::InvalidPercent);
        }
        let denominator = 10_u128
            .checked_pow(p.scale())
            .and_then(|f| f.checked_mul(100))
            .ok_or(MoneyError::OutOfRange)?;
        let numerator = self
            .minor()
            .unsigned_abs()
            .checked_mul(p.mantissa().unsigned_abs())
            .ok_or(MoneyError::OutOfRange)?;
        let (quotient, remainder) = (numerator / denominator, numerator % denominator);
        // Half up: round away from zero when the remainder is at least half the divisor.
        let round_up = remainder >= denominator - remainder;
        let magnitude = quotient.checked_add(u128::from(round_up));
        Money::from_magnitude(magnitude, self.is_negative(), self.currency)
    }

    /// Splits the amount proportionally to `weights` with the largest-remainder (Hamilton)
    /// method in minor units: the parts always sum exactly to `self` (no lost or invented
    /// cent) and each is within one minor unit of its exact share. Leftover units go to the
    /// largest remainders, ties to the earlier index, so the result is deterministic. A
    /// negative amount is split by magnitude and negated. Zero weights get zero.
    pub fn allocate(&self, weights: &[Decimal]) -> Result<Vec<Money>, MoneyError> {
        if weights.is_empty() || weights.iter().any(|w| *w < Decimal::ZERO) {
            return Err(MoneyError::InvalidWeights);
        }
        // Bring every weight to one common scale so they become exact integers.
        let scale = weights
            .iter()
            .map(|w| w.normalize().scale())
            .max()
            .unwrap_or(0);
        let ints = weights
            .iter()
            .map(|w| {
                let n = w.normalize();
                let factor = 10_u128.checked_pow(scale.saturating_sub(n.scale()))?;
                n.mantissa().unsigned_abs().checked_mul(factor)
            })
            .collect::<Option<Vec<u128>>>()
            .ok_or(MoneyError::OutOfRange)?;
        let total_weight = ints
            .iter()
            .try_fold(0_u128, |acc, w| acc.checked_add(*w))
            .ok_or(MoneyError::OutOfRange)?;
        if total_weight == 0 {
            return Err(MoneyError::InvalidWeights);
        }
        let total = self.minor().unsigned_abs();
        // (floor of exact share, remainder) per part; share = total * w / W exactly.
        let mut shares = ints
            .iter()
            .map(|w| mul_div(total, *w, total_weight).ok_or(MoneyError::OutOfRange))
            .collect::<Result<Vec<(u128, u128)>, MoneyError>>()?;
        let given = shares
            .iter()
            .try_fold(0_u128, |acc, s| acc.checked_add(s.0))
            .ok_or(MoneyError::OutOfRange)?;
        let leftover = total.checked_sub(given).ok_or(MoneyError::OutOfRange)?;
        let mut order: Vec<(u128, usize)> = shares.iter().map(|s| s.1).zip(0..).collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let leftover = usize::try_from(leftover).unwrap_or(usize::MAX);
        for (_, index) in order.into_iter().take(leftover) {
            if let Some(share) = shares.get_mut(index) {
                share.0 = share.0.checked_add(1).ok_or(MoneyError::OutOfRange)?;
            }
        }
        shares
            .into_iter()
            .map(|(magnitude, _)| {
                Money::from_magnitude(Some(magnitude), self.is_negative(), self.currency)
            })
            .collect()
    }

    /// Locale-aware display with exactly `minor_units` decimals: `Rp125.000`, `IDR 125,000`,
    /// `US$12,50`, `$12.50`. A negative amount gets a leading `-` before the symbol.
    pub fn format(&self, locale: Locale) -> String {
        let (group, decimal) = locale.separators();
        let unit = self.currency.unit();
        let magnitude = self.minor().unsigned_abs();
        let digits = (magnitude / unit).to_string();
        let mut out = String::with_capacity(digits.len() * 2 + 8);
        if self.is_negative() {
            out.push('-');
        }
        out.push_str(self.currency.symbol(locale));
        let len = digits.len();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (len - i).is_multiple_of(3) {
                out.push(group);
            }
            out.push(c);
        }
        if self.currency.minor_units() > 0 {
            out.push(decimal);
            let fraction = (magnitude % unit).to_string();
            let width = usize::try_from(self.currency.minor_units()).unwrap_or(0);
            out.extend(std::iter::repeat_n(
                '0',
                width.saturating_sub(fraction.len()),
            ));
            out.push_str(&fraction);
        }
        out
    }

    /// The exact inverse of [`Money::format`] for `currency` and `locale`: only text that
    /// `format` could have produced is accepted (correct symbol, grouping and decimals), so a
    /// value shown to the user and read back can never change.
    pub fn parse_localized(
        text: &str,
        currency: Currency,
        locale: Locale,
    ) -> Result<Money, MoneyError> {
        let invalid = || MoneyError::InvalidFormatted(text.to_owned());
        let (group, decimal) = locale.separators();
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let rest = rest
            .strip_prefix(currency.symbol(locale))
            .ok_or_else(invalid)?;
        let width = usize::try_from(currency.minor_units()).map_err(|_| invalid())?;
        let (int, frac) = if width == 0 {
            (rest, "")
        } else {
            rest.split_once(decimal).ok_or_else(invalid)?
        };
        if frac.len() != width || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let mut groups = int.split(group);
        let first = groups.next().unwrap_or("");
        let leading_zero = first.starts_with('0') && int != "0";
        if !is_digits(first) || first.len() > 3 || leading_zero {
            return Err(invalid());
        }
        let mut minor = push_digits(0, first.bytes()).map_err(|_| invalid())?;
        for g in groups {
            if g.len() != 3 || !is_digits(g) {
                return Err(invalid());
            }
            minor = push_digits(minor, g.bytes()).map_err(|_| invalid())?;
        }
        minor = push_digits(minor, frac.bytes()).map_err(|_| invalid())?;
        if negative && minor == 0 {
            return Err(invalid()); // `format` never writes "-Rp0".
        }
        let magnitude = u128::try_from(minor).ok();
        Money::from_magnitude(magnitude, negative, currency).map_err(|_| invalid())
    }

    /// The amount's mantissa, which by the scale invariant is the count of minor units.
    const fn minor(&self) -> i128 {
        self.amount.mantissa()
    }

    /// The single range check: a minor-unit count fits iff it fits a `Decimal` mantissa.
    fn from_minor(minor: i128, currency: Currency) -> Result<Money, MoneyError> {
        Decimal::try_from_i128_with_scale(minor, currency.minor_units())
            .map(|amount| Money { amount, currency })
            .map_err(|_| MoneyError::OutOfRange)
    }

    /// `from_minor` for the result of a checked operation (`None` = overflowed).
    fn from_checked(minor: Option<i128>, currency: Currency) -> Result<Money, MoneyError> {
        Money::from_minor(minor.ok_or(MoneyError::OutOfRange)?, currency)
    }

    fn from_magnitude(
        magnitude: Option<u128>,
        negative: bool,
        c: Currency,
    ) -> Result<Money, MoneyError> {
        let minor = magnitude.and_then(|m| i128::try_from(m).ok());
        Money::from_checked(minor.and_then(|m| signed(m, negative)), c)
    }

    fn same_currency(&self, other: &Money) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

/// `value`, negated if `negative`; `None` on overflow.
fn signed(value: i128, negative: bool) -> Option<i128> {
    if negative {
        value.checked_neg()
    } else {
        Some(value)
    }
}

/// Non-empty and ASCII digits only (`char::is_numeric` would admit other scripts' digits).
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Appends decimal digits to `acc`, failing with `OutOfRange` instead of overflowing.
fn push_digits(acc: i128, digits: impl IntoIterator<Item = u8>) -> Result<i128, MoneyError> {
    digits.into_iter().try_fold(acc, |acc, b| {
        let d = char::from(b)
            .to_digit(10)
            .ok_or(MoneyError::MalformedNumber)?;
        acc.checked_mul(10)
            .and_then(|a| a.checked_add(i128::from(d)))
            .ok_or(MoneyError::OutOfRange)
    })
}

/// `(a * b / d, a * b % d)` with a 256-bit intermediate, so allocation stays exact for any
/// amount and weights. `None` if `d` is zero or the quotient does not fit in `u128`.
fn mul_div(a: u128, b: u128, d: u128) -> Option<(u128, u128)> {
    const LOW: u128 = u64::MAX as u128;
    if d == 0 {
        return None;
    }
    // Schoolbook multiply on 64-bit halves; no partial product or sum can overflow.
    let (a1, a0, b1, b0) = (a >> 64, a & LOW, b >> 64, b & LOW);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    let lo = (p00 & LOW) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    if hi == 0 {
        return Some((lo / d, lo % d));
    }
    if hi >= d {
        return None;
    }
    // Restoring long division of (hi:lo) by d, one bit at a time; invariant: rem < d.
    let (mut quotient, mut rem) = (0_u128, hi);
    for bit in (0..128).rev() {
        let carry = rem >> 127 == 1;
        rem = (rem << 1) | ((lo >> bit) & 1);
        quotient <<= 1;
        if carry || rem >= d {
            rem = rem.wrapping_sub(d);
            quotient |= 1;
        }
    }
    Some((quotient, rem))
}

/// Canonical text `"125000 IDR"` / `"12.50 USD"`: stable, locale-free, for logs and tests.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency.code())
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Parses exactly the `Display` form: strict amount, one space, uppercase code. A missing
    /// code is reported as `UnknownCurrency("")`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (amount, code) = s
            .rsplit_once(' ')
            .ok_or_else(|| MoneyError::UnknownCurrency(String::new()))?;
        Money::parse(amount, code.parse()?)
    }
}

/// Wire shape. The amount is a string so no JSON client ever routes it through a float.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct MoneyWire {
    /// A decimal string: no exponent, at most the currency's minor units (none for IDR).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "125000")
    )]
    amount: String,
    currency: Currency,
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <MoneyWire as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Money {}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            amount: self.amount.to_string(),
            currency: self.currency,
        }
        .serialize(serializer)
    }
}

/// Goes through `Money::parse`, so the wire gets the same strictness (and messages) as
/// every other edge: JSON numbers, `"1e3"` and fractional rupiah are all rejected.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(deserializer)?;
        Money::parse(&wire.amount, wire.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Currency::{EUR, IDR, JPY, MYR, SGD, USD};
    use Locale::{En, IdId};
    use MoneyError as E;
    use proptest::prelude::*;
    use rust_decimal::RoundingStrategy::MidpointAwayFromZero;
    use std::hash::{DefaultHasher, Hash, Hasher};

    /// Largest `Decimal` mantissa, i.e. the largest representable count of minor units.
    const MAX_MINOR: i128 = (1 << 96) - 1;
    const IDR_FRACTION: E = E::TooManyFractionDigits {
        currency: IDR,
        allowed: 0,
    };

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    fn m(s: &str, c: Currency) -> Money {
        Money::parse(s, c).unwrap()
    }

    fn max_idr() -> Money {
        Money::new(Decimal::MAX, IDR).unwrap()
    }

    fn hash_of(value: &Money) -> u64 {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        h.finish()
    }

    #[test]
    fn currency_codes_units_and_parsing() {
        let units: Vec<_> = Currency::ALL.map(|c| (c.code(), c.minor_units())).to_vec();
        let want = [
            ("IDR", 0),
            ("USD", 2),
            ("SGD", 2),
            ("MYR", 2),
            ("EUR", 2),
            ("JPY", 0),
        ];
        assert_eq!(units, want);
        for c in Currency::ALL {
            assert_eq!(
                (c.code().parse(), c.to_string()),
                (Ok(c), c.code().to_string())
            );
        }
        for bad in ["idr", "Idr", " IDR", "IDR ", "", "XXX", "RP"] {
            assert_eq!(bad.parse::<Currency>(), Err(E::UnknownCurrency(bad.into())));
        }
    }

    #[test]
    fn locale_parsing_and_tags() {
        for s in ["id-ID", "id", "id_ID", "ID-id", "ID"] {
            assert_eq!(s.parse(), Ok(IdId), "{s}");
        }
        for s in ["en", "en-US", "en-GB", "en_US", "EN-us"] {
            assert_eq!(s.parse(), Ok(En), "{s}");
        }
        assert_eq!("fr".parse::<Locale>(), Err(E::UnknownLocale("fr".into())));
        assert_eq!((IdId.tag(), En.tag()), ("id-ID", "en"));
        assert_eq!(serde_json::to_string(&IdId).unwrap(), "\"id-ID\"");
    }

    #[test]
    fn new_normalises_scale() {
        let a = Money::new(d("125000.00"), IDR).unwrap();
        let b = Money::new(d("125000"), IDR).unwrap();
        assert_eq!((a, hash_of(&a)), (b, hash_of(&b)));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"amount":"125000","currency":"IDR"}"#);
        let usd = Money::new(d("12.5"), USD).unwrap();
        assert_eq!(
            (usd.amount().scale(), usd.to_string()),
            (2, "12.50 USD".into())
        );
        assert_eq!(Money::new(d("125000.5"), IDR), Err(IDR_FRACTION));
        assert_eq!(max_idr().minor(), MAX_MINOR);
        assert_eq!(
            Money::new(Decimal::MIN, JPY).map(|m| m.minor()),
            Ok(-MAX_MINOR)
        );
        // At two decimals Decimal::MAX would need a mantissa beyond 96 bits.
        assert_eq!(Money::new(Decimal::MAX, USD), Err(E::OutOfRange));
        assert_eq!(Money::new(-Decimal::ZERO, USD), Ok(Money::zero(USD)));
    }

    #[test]
    fn accessors_and_minor_units() {
        let z = Money::zero(EUR);
        assert!(z.is_zero() && !z.is_negative());
        assert_eq!((z.amount(), z.currency()), (Decimal::ZERO, EUR));
        let cents = Money::from_minor_units(-1250, USD).unwrap();
        assert_eq!(
            (cents, cents.to_minor_units()),
            (m("-12.50", USD), Ok(-1250))
        );
        assert!(cents.is_negative() && !cents.is_zero());
        assert_eq!(m("125000", IDR).to_minor_units(), Ok(125_000));
        assert_eq!(max_idr().to_minor_units(), Err(E::OutOfRange));
        let extreme = Money::from_minor_units(i64::MIN, USD).unwrap();
        assert_eq!(extreme.to_minor_units(), Ok(i64::MIN));
    }

    #[test]
    fn wire_range_is_fourteen_integer_digits() {
        let beyond = |c| Err(E::BeyondWireRange { currency: c });
        assert_eq!(m("99999999999999", IDR).check_wire_range(), Ok(()));
        assert_eq!(m("-99999999999999", JPY).check_wire_range(), Ok(()));
        assert_eq!(m("99999999999999.99", USD).check_wire_range(), Ok(()));
        assert_eq!(m("100000000000000", IDR).check_wire_range(), beyond(IDR));
        assert_eq!(m("100000000000000.00", EUR).check_wire_range(), beyond(EUR));
        // The amounts of issue 10: representable, storable or not, and all refused.
        assert_eq!(
            m("9223372036854775808", IDR).check_wire_range(),
            beyond(IDR)
        );
        assert_eq!(
            m("92233720368547758.08", USD).check_wire_range(),
            beyond(USD)
        );
        assert_eq!(max_idr().check_wire_range(), beyond(IDR));
    }

    #[test]
    fn parse_accepts_the_strict_grammar() {
        let cases = [
            ("125000", IDR, 125_000),
            ("125000.00", IDR, 125_000),
            ("-5", IDR, -5),
            ("0", IDR, 0),
            ("-0", IDR, 0),
            ("007", JPY, 7),
            ("12.5", USD, 1250),
            ("12.50", USD, 1250),
            ("0.01000", EUR, 1),
            ("79228162514264337593543950335", IDR, MAX_MINOR),
        ];
        for (text, c, minor) in cases {
            assert_eq!(Money::parse(text, c), Money::from_minor(minor, c), "{text}");
        }
    }

    #[test]
    fn parse_rejects_with_typed_reasons() {
        let usd_fraction = E::TooManyFractionDigits {
            currency: USD,
            allowed: 2,
        };
        let cases = [
            ("125000.5", IDR, IDR_FRACTION),
            ("0.001", IDR, IDR_FRACTION),
            ("12.345", USD, usd_fraction),
            ("1e3", IDR, E::Exponent),
            ("1.5E3", IDR, E::Exponent),
            (" 100", IDR, E::Whitespace),
            ("100 ", IDR, E::Whitespace),
            ("1 000", IDR, E::Whitespace),
            ("100\u{a0}", IDR, E::Whitespace),
            ("+5", IDR, E::ExplicitPlus),
            ("", IDR, E::Empty),
            ("abc", IDR, E::InvalidCharacter { found: 'a' }),
            ("e5", IDR, E::InvalidCharacter { found: 'e' }),
            ("1,000", IDR, E::InvalidCharacter { found: ',' }),
            ("-+5", IDR, E::InvalidCharacter { found: '+' }),
            ("١٢", IDR, E::InvalidCharacter { found: '١' }),
            ("1.", IDR, E::MalformedNumber),
            (".5", IDR, E::MalformedNumber),
            ("1.2.3", IDR, E::MalformedNumber),
            ("--1", IDR, E::MalformedNumber),
            ("-", IDR, E::MalformedNumber),
            ("1-2", IDR, E::MalformedNumber),
            (
                "1234567890123456789012345678901234567890",
                IDR,
                E::OutOfRange,
            ),
            ("79228162514264337593543950336", IDR, E::OutOfRange),
            ("-79228162514264337593543950336", IDR, E::OutOfRange),
            ("792281625142643375935439503.36", USD, E::OutOfRange),
        ];
        for (text, currency, want) in cases {
            assert_eq!(Money::parse(text, currency), Err(want), "{text:?}");
        }
        assert_eq!(
            IDR_FRACTION.to_string(),
            "IDR amounts allow at most 0 decimal places"
        );
    }

    #[test]
    fn checked_arithmetic() {
        let (a, b, one) = (m("100", IDR), m("250", IDR), m("1", IDR));
        assert_eq!(a.checked_add(&b), Ok(m("350", IDR)));
        assert_eq!(a.checked_sub(&b), Ok(m("-150", IDR)));
        assert_eq!(b.checked_mul_qty(3), Ok(m("750", IDR)));
        assert_eq!(b.checked_mul_qty(0), Ok(Money::zero(IDR)));
        assert_eq!(b.checked_neg(), Ok(m("-250", IDR)));
        assert_eq!(Money::sum([&a, &b, &a], IDR), Ok(m("450", IDR)));
        assert_eq!(Money::sum([], JPY), Ok(Money::zero(JPY)));
        let usd = m("1", USD);
        let mismatch = E::CurrencyMismatch {
            left: IDR,
            right: USD,
        };
        assert_eq!(mismatch.to_string(), "cannot combine IDR with USD");
        assert_eq!(a.checked_add(&usd), Err(mismatch.clone()));
        assert_eq!(a.checked_sub(&usd), Err(mismatch.clone()));
        assert_eq!(Money::sum([&a, &usd], IDR), Err(mismatch));
        let max = max_idr();
        assert_eq!(max.checked_add(&one), Err(E::OutOfRange));
        assert_eq!(
            max.checked_neg().unwrap().checked_sub(&one),
            Err(E::OutOfRange)
        );
        assert_eq!(max.checked_mul_qty(2), Err(E::OutOfRange));
        assert_eq!(Money::sum([&max, &one], IDR), Err(E::OutOfRange));
    }

    #[test]
    fn percentage_rounds_half_up() {
        let cases = [
            ("12345", IDR, "10", "1235 IDR"),
            ("-12345", IDR, "10", "-1235 IDR"),
            ("12344", IDR, "10", "1234 IDR"),
            ("0.10", USD, "15", "0.02 USD"),
            ("0.99", USD, "12.5", "0.12 USD"),
            ("100000", IDR, "0.0001", "0 IDR"),
            ("125000", IDR, "11.0000", "13750 IDR"),
            ("125000", IDR, "0", "0 IDR"),
            ("125000", IDR, "100", "125000 IDR"),
        ];
        for (amount, c, percent, want) in cases {
            let got = m(amount, c).percentage(d(percent)).map(|r| r.to_string());
            assert_eq!(got, Ok(want.to_string()), "{percent}% of {amount}");
        }
        for bad in ["-1", "-0.0001", "100.0001", "1.23456", "101"] {
            assert_eq!(
                m("1", IDR).percentage(d(bad)),
                Err(E::InvalidPercent),
                "{bad}"
            );
        }
        assert_eq!(max_idr().percentage(Decimal::ONE_HUNDRED), Ok(max_idr()));
    }

    #[test]
    fn allocate_largest_remainder() {
        let split = |amount: &str, c, w: &[&str]| {
            let weights: Vec<Decimal> = w.iter().map(|s| d(s)).collect();
            let parts = m(amount, c).allocate(&weights);
            parts.map(|p| p.iter().map(Money::minor).collect::<Vec<_>>())
        };
        assert_eq!(split("100", IDR, &["1", "1", "1"]), Ok(vec![34, 33, 33]));
        assert_eq!(split("1.00", USD, &["1", "1", "1"]), Ok(vec![34, 33, 33]));
        assert_eq!(
            split("-100", IDR, &["1", "1", "1"]),
            Ok(vec![-34, -33, -33])
        );
        assert_eq!(
            split("10000", IDR, &["3", "3", "4"]),
            Ok(vec![3000, 3000, 4000])
        );
        assert_eq!(split("5", IDR, &["1", "0", "1"]), Ok(vec![3, 0, 2]));
        assert_eq!(
            split("10", IDR, &["0.5", "0.25", "0.25"]),
            Ok(vec![5, 3, 2])
        );
        // Shares 0.35 / 0.35 / 0.30: the tie goes to the earlier index.
        assert_eq!(split("1", JPY, &["35", "35", "30"]), Ok(vec![1, 0, 0]));
        assert_eq!(split("0", IDR, &["1", "2"]), Ok(vec![0, 0]));
        assert_eq!(split("7", IDR, &["1"]), Ok(vec![7]));
        for bad in [&[][..], &["-1", "2"], &["0", "0"], &["0.000"]] {
            assert_eq!(split("100", IDR, bad), Err(E::InvalidWeights), "{bad:?}");
        }
        // Extreme values go through the 256-bit path and stay exact.
        let parts = max_idr().allocate(&[Decimal::MAX, Decimal::MAX, Decimal::ONE]);
        assert_eq!(Money::sum(&parts.unwrap(), IDR), Ok(max_idr()));
        let tiny = Decimal::new(1, 28); // common scale 28 makes MAX's integer weight overflow
        assert_eq!(
            max_idr().allocate(&[Decimal::MAX, tiny]),
            Err(E::OutOfRange)
        );
    }

    #[test]
    fn mul_div_is_exact() {
        assert_eq!(mul_div(7, 5, 3), Some((11, 2)));
        assert_eq!(
            mul_div(u128::MAX, u128::MAX, u128::MAX),
            Some((u128::MAX, 0))
        );
        assert_eq!(mul_div(u128::MAX, 2, 3), Some((u128::MAX / 3 * 2, 0)));
        assert_eq!(mul_div(u128::MAX, 2, 1), None);
        assert_eq!(mul_div(1, 1, 0), None);
    }

    /// (currency, minor units, id-ID, en) — every currency, zero and negatives.
    const FORMATS: &[(Currency, i64, &str, &str)] = &[
        (IDR, 125_000, "Rp125.000", "IDR 125,000"),
        (IDR, -125_000, "-Rp125.000", "-IDR 125,000"),
        (IDR, 0, "Rp0", "IDR 0"),
        (IDR, 1_234_567_890, "Rp1.234.567.890", "IDR 1,234,567,890"),
        (USD, 1250, "US$12,50", "$12.50"),
        (USD, -5, "-US$0,05", "-$0.05"),
        (USD, 0, "US$0,00", "$0.00"),
        (USD, 123_456_789, "US$1.234.567,89", "$1,234,567.89"),
        (SGD, 1250, "S$12,50", "S$12.50"),
        (SGD, -1250, "-S$12,50", "-S$12.50"),
        (MYR, 1250, "RM12,50", "RM12.50"),
        (MYR, 0, "RM0,00", "RM0.00"),
        (EUR, 1250, "€12,50", "€12.50"),
        (EUR, -100_000, "-€1.000,00", "-€1,000.00"),
        (JPY, 1250, "¥1.250", "¥1,250"),
        (JPY, -999, "-¥999", "-¥999"),
        (JPY, 0, "¥0", "¥0"),
    ];

    #[test]
    fn format_table_round_trips() {
        for &(currency, minor, id, en) in FORMATS {
            let money = Money::from_minor_units(minor, currency).unwrap();
            for (locale, text) in [(IdId, id), (En, en)] {
                assert_eq!(money.format(locale), text);
                let back = Money::parse_localized(text, currency, locale);
                assert_eq!(back, Ok(money), "{text}");
            }
        }
    }

    #[test]
    fn parse_localized_rejects_anything_format_would_not_write() {
        let cases = [
            ("Rp125000", IDR, IdId),
            ("Rp 125.000", IDR, IdId),
            ("rp125.000", IDR, IdId),
            ("Rp125.000,00", IDR, IdId),
            ("Rp1.25.000", IDR, IdId),
            ("Rp1250.000", IDR, IdId),
            ("Rp.125", IDR, IdId),
            ("Rp0.125", IDR, IdId),
            ("Rp0125", IDR, IdId),
            ("-Rp0", IDR, IdId),
            ("Rp-5", IDR, IdId),
            ("+Rp5", IDR, IdId),
            ("Rp125.000 ", IDR, IdId),
            ("Rp", IDR, IdId),
            ("", IDR, IdId),
            ("IDR 125,000", IDR, IdId),
            ("Rp125.000", IDR, En),
            ("IDR125,000", IDR, En),
            ("IDR 79,228,162,514,264,337,593,543,950,336", IDR, En),
            ("$12.5", USD, En),
            ("$12.500", USD, En),
            ("$.50", USD, En),
            ("$12", USD, En),
            ("$12,50", USD, En),
            ("US$12,50", USD, En),
            ("$12.50", USD, IdId),
            ("S$12.50", USD, En),
            ("¥1,250", JPY, IdId),
            ("¥1.250,0", JPY, IdId),
        ];
        for (text, currency, locale) in cases {
            let got = Money::parse_localized(text, currency, locale);
            assert_eq!(
                got,
                Err(E::InvalidFormatted(text.into())),
                "{text:?} {locale}"
            );
        }
    }

    #[test]
    fn display_and_from_str() {
        assert_eq!(m("125000", IDR).to_string(), "125000 IDR");
        assert_eq!(m("12.5", USD).to_string(), "12.50 USD");
        assert_eq!(m("-5", IDR).to_string(), "-5 IDR");
        assert_eq!("125000 IDR".parse(), Ok(m("125000", IDR)));
        assert_eq!("-0.05 EUR".parse(), Ok(m("-0.05", EUR)));
        let err = |s: &str| s.parse::<Money>().unwrap_err();
        assert_eq!(err("125000"), E::UnknownCurrency(String::new()));
        assert_eq!(err("125000 idr"), E::UnknownCurrency("idr".into()));
        assert_eq!(err("125000  IDR"), E::Whitespace);
        assert_eq!(err("125000.5 IDR"), IDR_FRACTION);
    }

    #[test]
    fn serde_shape_and_round_trip() {
        let usd = m("12.5", USD);
        let json = serde_json::to_string(&usd).unwrap();
        assert_eq!(json, r#"{"amount":"12.50","currency":"USD"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), usd);
        let idr = r#"{"currency":"IDR","amount":"125000.00"}"#;
        assert_eq!(
            serde_json::from_str::<Money>(idr).unwrap(),
            m("125000", IDR)
        );
    }

    #[test]
    fn serde_rejects_invalid_amounts() {
        let cases = [
            (
                r#"{"amount":125000.5,"currency":"IDR"}"#,
                "expected a string".to_string(),
            ),
            (
                r#"{"amount":125000,"currency":"IDR"}"#,
                "expected a string".to_string(),
            ),
            (
                r#"{"amount":"1e3","currency":"IDR"}"#,
                E::Exponent.to_string(),
            ),
            (
                r#"{"amount":"125000.5","currency":"IDR"}"#,
                IDR_FRACTION.to_string(),
            ),
            (
                r#"{"amount":" 5","currency":"IDR"}"#,
                E::Whitespace.to_string(),
            ),
            (
                r#"{"amount":"5","currency":"XXX"}"#,
                "unknown variant".to_string(),
            ),
            (r#"{"amount":"5"}"#, "missing field".to_string()),
            (
                r#"{"amount":"5","currency":"IDR","fx":1}"#,
                "unknown field".to_string(),
            ),
        ];
        for (json, want) in cases {
            let err = serde_json::from_str::<Money>(json).unwrap_err().to_string();
            assert!(err.contains(&want), "{json}: {err}");
        }
    }

    fn currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(Currency::ALL.to_vec())
    }

    fn locale() -> impl Strategy<Value = Locale> {
        prop::sample::select(vec![IdId, En])
    }

    /// Minor-unit counts across the whole representable range, biased towards the edges.
    fn minor_units() -> impl Strategy<Value = i128> {
        prop_oneof![
            -10_000_000_i128..10_000_000,
            -MAX_MINOR..=MAX_MINOR,
            prop::sample::select(vec![0, 1, -1, MAX_MINOR, -MAX_MINOR, MAX_MINOR - 1]),
        ]
    }

    fn money() -> impl Strategy<Value = Money> {
        (minor_units(), currency()).prop_map(|(minor, c)| Money::from_minor(minor, c).unwrap())
    }

    /// (mantissa, scale) of a weight, zero-heavy so all-zero and zero parts both occur.
    fn weights() -> impl Strategy<Value = Vec<(u32, u32)>> {
        let mantissa = prop_oneof![Just(0_u32), 0_u32..10, any::<u32>()];
        prop::collection::vec((mantissa, 0_u32..=4), 1..10)
    }

    proptest! {
        #[test]
        fn allocate_is_exact_and_fair(
            minor in -(1_i128 << 62)..(1 << 62),
            c in currency(),
            raw in weights(),
        ) {
            let weights: Vec<Decimal> =
                raw.iter().map(|&(w, s)| Decimal::new(i64::from(w), s)).collect();
            let money = Money::from_minor(minor, c).unwrap();
            match money.allocate(&weights) {
                Err(e) => prop_assert!(e == E::InvalidWeights && raw.iter().all(|w| w.0 == 0)),
                Ok(parts) => {
                    prop_assert_eq!(parts.len(), weights.len());
                    prop_assert_eq!(Money::sum(&parts, c), Ok(money));
                    // Exact check on integers at scale 4: |part * W - amount * w| < W.
                    let ints: Vec<i128> =
                        raw.iter().map(|&(w, s)| i128::from(w) * 10_i128.pow(4 - s)).collect();
                    let total: i128 = ints.iter().sum();
                    for (part, w) in parts.iter().zip(&ints) {
                        prop_assert!((part.minor() * total - minor * w).abs() < total);
                    }
                }
            }
        }

        #[test]
        fn format_round_trips(money in money(), locale in locale()) {
            let text = money.format(locale);
            prop_assert_eq!(Money::parse_localized(&text, money.currency(), locale), Ok(money));
        }

        #[test]
        fn display_and_serde_round_trip(money in money()) {
            prop_assert_eq!(money.to_string().parse::<Money>(), Ok(money));
            let json = serde_json::to_string(&money).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
        }

        #[test]
        fn parsers_never_panic(text in ".*", c in currency(), locale in locale()) {
            let _ = Money::parse(&text, c);
            let _ = text.parse::<Money>();
            let _ = Money::parse_localized(&text, c, locale);
        }

        #[test]
        fn parse_of_number_like_text_never_panics(text in "[0-9.+e -]{0,45}", c in currency()) {
            if let Ok(money) = Money::parse(&text, c) {
                // Whatever is accepted re-parses from its canonical form to the same value.
                prop_assert_eq!(Money::parse(&money.amount().to_string(), c), Ok(money));
            }
        }

        #[test]
        /// What passes the wire check is storable by a phone, and 99 of it still sum.
        #[test]
        fn wire_range_amounts_fit_a_phone(
            minor in -10_i128.pow(18)..10_i128.pow(18),
            c in currency(),
        ) {
            let money = Money::from_minor(minor, c).unwrap();
            let limit = 10_i128.pow(MAX_WIRE_INTEGER_DIGITS + c.minor_units());
            prop_assert_eq!(money.check_wire_range().is_ok(), minor.abs() < limit);
            if money.check_wire_range().is_ok() {
                let minor = money.to_minor_units().unwrap();
                prop_assert!(minor.checked_mul(99).is_some());
                prop_assert!(money.checked_mul_qty(99).unwrap().to_minor_units().is_ok());
            }
        }

        fn checked_ops_never_panic(
            a in money(),
            b in minor_units(),
            qty in any::<u32>(),
            pct in 0_i64..=1_000_000,
        ) {
            let b = Money::from_minor(b, a.currency()).unwrap();
            // Expected result computed on plain i128, then range-checked like the real thing.
            let want = |x: Option<i128>| x.filter(|v| v.abs() <= MAX_MINOR).ok_or(E::OutOfRange);
            let (sum, diff) = (a.minor().checked_add(b.minor()), a.minor().checked_sub(b.minor()));
            prop_assert_eq!(a.checked_add(&b).map(|r| r.minor()), want(sum));
            prop_assert_eq!(a.checked_sub(&b).map(|r| r.minor()), want(diff));
            let product = want(a.minor().checked_mul(i128::from(qty)));
            prop_assert_eq!(a.checked_mul_qty(qty).map(|r| r.minor()), product);
            prop_assert_eq!(a.checked_neg().map(|r| r.minor()), Ok(-a.minor()));
            prop_assert_eq!(Money::sum([&a, &b], a.currency()), a.checked_add(&b));
            let share = a.percentage(Decimal::new(pct, 4)).unwrap();
            prop_assert!(share.minor().abs() <= a.minor().abs());
            for extreme in [Decimal::MAX, Decimal::MIN, a.amount()] {
                let _ = Money::new(extreme, a.currency());
                let _ = a.allocate(&[extreme, Decimal::ONE]);
            }
            let _ = a.to_minor_units();
        }

        #[test]
        fn percentage_matches_decimal_midpoint_away_from_zero(
            minor in -1_000_000_000_000_000_i128..1_000_000_000_000_000,
            c in currency(),
            pct in 0_i64..=1_000_000,
        ) {
            let money = Money::from_minor(minor, c).unwrap();
            let percent = Decimal::new(pct, 4);
            // Exact at these magnitudes, so Decimal's own rounding is the reference.
            let exact = money.amount().checked_mul(percent).unwrap() / Decimal::ONE_HUNDRED;
            let want = exact.round_dp_with_strategy(c.minor_units(), MidpointAwayFromZero);
            prop_assert_eq!(money.percentage(percent).map(|r| r.amount()), Ok(want));
        }
    }
}
