//! The shopping cart: one per profile, kept in SQLite, surviving app kills.
//!
//! Rules:
//! * A line is a variant with a quantity in `1..=99` ([`MAX_QUANTITY`]). `add` adds to an
//!   existing line; `set_quantity` replaces it.
//! * Stock: an `out` variant cannot be added; a `low` one can, at most
//!   [`LOW_STOCK_MAX_QUANTITY`] per line (the phone only knows the band, the server reserves
//!   stock when the order is placed).
//! * Each line keeps the price seen when it was added and shows the current catalog price;
//!   it says [`LineStatus::PriceChanged`] when they differ and [`LineStatus::Unavailable`]
//!   when the variant was removed, sold out or has no price in the cart's currency.
//!   Unavailable lines are listed apart and count in no total.
//! * Lines are grouped by merchant: a marketplace cart becomes one shipment per merchant.
//! * Vouchers: at most one per merchant plus one platform voucher. A merchant voucher
//!   discounts that merchant's subtotal; the platform voucher discounts the total left after
//!   merchant discounts, and its minimum spend is checked against the cart's item total before
//!   any discount. Percentages round half up to the currency's unit (see [`Money::percentage`]);
//!   a fixed discount never exceeds what it applies to. Each discount is allocated to lines in
//!   proportion to their totals by largest remainder, so line discounts add up exactly.
//!   A voucher that stops applying (cart changed, expired) stays on the cart with its reason
//!   and a zero discount, so the shopper sees why.
//! * Every mutation writes its intent to the outbox in the same transaction.

use crate::catalog::{self, ms};
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::observe::{Observers, Subscription};
use crate::outbox;
use crate::protocol::{CartMirror, Discount, IntentBody, StockBand, Voucher};
use crate::store::Store;
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;

pub const MAX_QUANTITY: u32 = 99;

fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
pub const LOW_STOCK_MAX_QUANTITY: u32 = 5;

/// Why a voucher does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherRejection {
    #[error("no such voucher")]
    Unknown,
    #[error("not valid before {}", rfc3339(.0))]
    NotYetValid(OffsetDateTime),
    #[error("expired on {}", rfc3339(.0))]
    Expired(OffsetDateTime),
    #[error("needs a minimum spend of {required}, the eligible subtotal is {subtotal}")]
    MinSpendNotMet { required: Money, subtotal: Money },
    #[error("the voucher is in {voucher}, the cart in {cart}")]
    WrongCurrency { voucher: Currency, cart: Currency },
    #[error("the cart has nothing from merchant {0}")]
    MerchantNotInCart(String),
    #[error("the cart is empty")]
    EmptyCart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStatus {
    Available,
    /// The catalog price differs from the price seen when the line was added.
    PriceChanged,
    /// Removed from the catalog, sold out, or not priced in the cart's currency.
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub variant_id: String,
    pub product_id: Option<String>,
    pub merchant_id: Option<String>,
    /// Product title (empty if the variant is gone from the catalog).
    pub title: String,
    pub options: BTreeMap<String, String>,
    pub quantity: u32,
    pub stock: Option<StockBand>,
    pub seen_price: Money,
    /// The current catalog price, `None` when unavailable.
    pub unit_price: Option<Money>,
    /// `unit_price × quantity`; zero when unavailable.
    pub line_total: Money,
    /// This line's share of the vouchers' discounts.
    pub discount: Money,
    pub status: LineStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedVoucher {
    pub code: String,
    pub title: String,
    /// Zero when `rejection` is set.
    pub discount: Money,
    pub rejection: Option<VoucherRejection>,
}

/// One merchant's part of the cart: one shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantGroup {
    pub merchant_id: String,
    pub merchant_name: String,
    pub lines: Vec<CartLine>,
    pub voucher: Option<AppliedVoucher>,
    pub subtotal: Money,
    /// Merchant voucher plus this group's share of the platform voucher.
    pub discount: Money,
    pub total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    pub currency: Currency,
    pub groups: Vec<MerchantGroup>,
    pub unavailable: Vec<CartLine>,
    pub platform_voucher: Option<AppliedVoucher>,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
    /// Sum of quantities of available lines.
    pub item_count: u32,
}

#[derive(Clone, Debug)]
pub struct Cart {
    store: Arc<Store>,
    currency: Currency,
    observers: Arc<Observers>,
}

fn check_quantity(quantity: i64, max: u32) -> Result<u32> {
    if quantity < 1 || quantity > max as i64 {
        return Err(Error::InvalidQuantity { quantity, max });
    }
    Ok(quantity as u32)
}

impl Cart {
    pub fn new(store: Arc<Store>, currency: Currency) -> Cart {
        Cart::with_observers(store, currency, Arc::default())
    }

    pub fn with_observers(
        store: Arc<Store>,
        currency: Currency,
        observers: Arc<Observers>,
    ) -> Cart {
        Cart {
            store,
            currency,
            observers,
        }
    }

    /// Calls `callback` after every committed change to the cart, and after catalog updates
    /// that may change its prices or availability, until the subscription is cancelled or
    /// dropped. Read the new state with [`Cart::view`].
    pub fn subscribe(&self, callback: impl Fn() + Send + Sync + 'static) -> Subscription {
        self.observers.subscribe(callback)
    }

    fn changed<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_ok() {
            self.observers.notify();
        }
        result
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Adds `quantity` of a variant (to the line's quantity if it is already in the cart).
    pub fn add(&self, variant_id: &str, quantity: i64) -> Result<()> {
        check_quantity(quantity, MAX_QUANTITY)?;
        self.changed(self.mutate_line(variant_id, |existing| existing as i64 + quantity))
    }

    /// Sets a line's quantity, adding the line if needed.
    pub fn set_quantity(&self, variant_id: &str, quantity: i64) -> Result<()> {
        check_quantity(quantity, MAX_QUANTITY)?;
        self.changed(self.mutate_line(variant_id, |_| quantity))
    }

    fn mutate_line(&self, variant_id: &str, new_qty: impl Fn(u32) -> i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        self.store.write(|tx| {
            let variant = catalog::read_variant(tx, variant_id)?
                .ok_or_else(|| Error::UnknownVariant(variant_id.into()))?;
            let price = variant
                .prices
                .iter()
                .find(|p| p.amount.currency() == self.currency)
                .ok_or_else(|| Error::NoPrice {
                    variant_id: variant_id.into(),
                    currency: self.currency.code().into(),
                })?
                .amount;
            let max = match variant.stock {
                StockBand::Out => return Err(Error::OutOfStock(variant_id.into())),
                StockBand::Low => LOW_STOCK_MAX_QUANTITY,
                StockBand::InStock => MAX_QUANTITY,
            };
            let existing: Option<u32> = tx
                .prepare_cached("SELECT quantity FROM cart_line WHERE variant_id = ?1")?
                .query_row([variant_id], |r| r.get(0))
                .optional()?;
            let quantity = check_quantity(new_qty(existing.unwrap_or(0)), max)?;
            tx.prepare_cached(
                "INSERT INTO cart_line(variant_id, quantity, seen_amount, currency, added_at,
                                       position)
                 VALUES (?1, ?2, ?3, ?4, ?5,
                         (SELECT coalesce(max(position), 0) + 1 FROM cart_line))
                 ON CONFLICT(variant_id) DO UPDATE SET quantity = excluded.quantity,
                   seen_amount = excluded.seen_amount",
            )?
            .execute(params![
                variant_id,
                quantity,
                price.amount().to_string(),
                self.currency.code(),
                ms(now)
            ])?;
            outbox::enqueue(
                tx,
                &IntentBody::CartSetLine {
                    variant_id: variant_id.into(),
                    quantity,
                },
                now,
            )?;
            Ok(())
        })
    }

    /// Removes a line.
    pub fn remove(&self, variant_id: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let result = self.store.write(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM cart_line WHERE variant_id = ?1")?
                .execute([variant_id])?;
            if n == 0 {
                return Err(Error::NotInCart(variant_id.into()));
            }
            outbox::enqueue(
                tx,
                &IntentBody::CartSetLine {
                    variant_id: variant_id.into(),
                    quantity: 0,
                },
                now,
            )?;
            Ok(())
        });
        self.changed(result)
    }

    /// Empties the cart (lines and vouchers).
    pub fn clear(&self) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let result = self.store.write(|tx| {
            tx.execute("DELETE FROM cart_line", [])?;
            tx.execute("DELETE FROM cart_voucher", [])?;
            outbox::enqueue(tx, &IntentBody::CartClear {}, now)?;
            Ok(())
        });
        self.changed(result)
    }

    /// Applies a voucher code if it applies to the cart now; a merchant voucher replaces that
    /// merchant's previous one, a platform voucher the previous platform voucher.
    pub fn apply_voucher(&self, code: &str) -> Result<CartView> {
        self.apply_voucher_at(code, OffsetDateTime::now_utc())
    }

    pub fn apply_voucher_at(&self, code: &str, now: OffsetDateTime) -> Result<CartView> {
        let code = code.trim().to_ascii_uppercase();
        let result = self.store.write(|tx| {
            let voucher = catalog::read_voucher(tx, &code)?.ok_or_else(|| Error::Voucher {
                code: code.clone(),
                reason: VoucherRejection::Unknown,
            })?;
            // Evaluate against the cart as it would be with this voucher in place.
            let scope = voucher.merchant_id.clone().unwrap_or_default();
            tx.prepare_cached("DELETE FROM cart_voucher WHERE scope = ?1 OR code = ?2")?
                .execute(params![scope, code])?;
            tx.prepare_cached(
                "INSERT INTO cart_voucher(code, scope, applied_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![code, scope, ms(now)])?;
            let view = compute_view(tx, self.currency, now)?;
            let applied = if voucher.merchant_id.is_some() {
                view.groups
                    .iter()
                    .find_map(|g| g.voucher.as_ref().filter(|v| v.code == code).cloned())
            } else {
                view.platform_voucher.clone()
            };
            let rejection = match applied {
                Some(a) => a.rejection,
                None => Some(match voucher.merchant_id {
                    Some(m) => VoucherRejection::MerchantNotInCart(m),
                    None => VoucherRejection::EmptyCart,
                }),
            };
            if let Some(reason) = rejection {
                // Returning the error rolls the transaction back: the old voucher stays.
                return Err(Error::Voucher { code, reason });
            }
            outbox::enqueue(tx, &IntentBody::VoucherApply { code: code.clone() }, now)?;
            Ok(view)
        });
        self.changed(result)
    }

    pub fn remove_voucher(&self, code: &str) -> Result<()> {
        let code = code.trim().to_ascii_uppercase();
        let now = OffsetDateTime::now_utc();
        let result = self.store.write(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM cart_voucher WHERE code = ?1")?
                .execute([&code])?;
            if n == 0 {
                return Err(Error::Voucher {
                    code,
                    reason: VoucherRejection::Unknown,
                });
            }
            outbox::enqueue(tx, &IntentBody::VoucherRemove { code: code.clone() }, now)?;
            Ok(())
        });
        self.changed(result)
    }

    /// Restores the server's copy of this device's cart (a reinstalled app) — only into an
    /// empty cart with nothing queued, so it never overwrites newer local edits. Lines whose
    /// variant the catalog lacks, or that have no price in the cart currency, are skipped;
    /// nothing is queued (the server already has this cart). Returns whether it restored.
    pub fn restore(&self, mirror: &CartMirror) -> Result<bool> {
        let now = OffsetDateTime::now_utc();
        let restored = self.store.write(|tx| {
            let busy: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM cart_line) OR EXISTS (SELECT 1 FROM cart_voucher)
                   OR EXISTS (SELECT 1 FROM outbox WHERE state = 'pending')",
                [],
                |r| r.get(0),
            )?;
            if busy || (mirror.lines.is_empty() && mirror.vouchers.is_empty()) {
                return Ok(false);
            }
            for (position, line) in mirror.lines.iter().enumerate() {
                let Some(variant) = catalog::read_variant(tx, &line.variant_id)? else {
                    continue;
                };
                let Some(price) = variant
                    .prices
                    .iter()
                    .find(|p| p.amount.currency() == self.currency)
                else {
                    continue;
                };
                if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO cart_line(variant_id, quantity, seen_amount, currency, added_at,
                                           position)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    line.variant_id,
                    line.quantity,
                    price.amount.amount().to_string(),
                    self.currency.code(),
                    ms(now),
                    position as i64 + 1
                ])?;
            }
            for code in &mirror.vouchers {
                let code = code.to_ascii_uppercase();
                if let Some(v) = catalog::read_voucher(tx, &code)? {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO cart_voucher(code, scope, applied_at)
                         VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![
                        code,
                        v.merchant_id.unwrap_or_default(),
                        ms(now)
                    ])?;
                }
            }
            Ok(true)
        });
        if let Ok(true) = restored {
            self.observers.notify();
        }
        restored
    }

    /// The cart now: lines priced from the catalog, grouped by merchant, vouchers evaluated.
    pub fn view(&self) -> Result<CartView> {
        self.view_at(OffsetDateTime::now_utc())
    }

    pub fn view_at(&self, now: OffsetDateTime) -> Result<CartView> {
        self.store.read(|c| compute_view(c, self.currency, now))
    }
}

struct RawLine {
    variant_id: String,
    quantity: u32,
    seen_amount: String,
    seen_currency: String,
}

fn compute_view(
    c: &rusqlite::Connection,
    currency: Currency,
    now: OffsetDateTime,
) -> Result<CartView> {
    let zero = Money::zero(currency);
    let raw: Vec<RawLine> = c
        .prepare_cached(
            "SELECT variant_id, quantity, seen_amount, currency FROM cart_line ORDER BY position",
        )?
        .query_map([], |r| {
            Ok(RawLine {
                variant_id: r.get(0)?,
                quantity: r.get(1)?,
                seen_amount: r.get(2)?,
                seen_currency: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    let mut groups: Vec<MerchantGroup> = Vec::new();
    let mut unavailable = Vec::new();
    for line in raw {
        let seen_cur: Currency = line.seen_currency.parse()?;
        let seen_price = Money::parse(&line.seen_amount, seen_cur)?;
        let variant = catalog::read_variant(c, &line.variant_id)?;
        let product = match &variant {
            Some(v) => c
                .prepare_cached(
                    "SELECT d.title, p.merchant_id FROM product p
                     JOIN product_detail d ON d.pk = p.pk WHERE p.id = ?1",
                )?
                .query_row([&v.product_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?,
            None => None,
        };
        let unit_price = variant.as_ref().and_then(|v| {
            v.prices
                .iter()
                .find(|p| p.amount.currency() == currency)
                .map(|p| p.amount)
        });
        let stock = variant.as_ref().map(|v| v.stock);
        let available = unit_price.is_some() && product.is_some() && stock != Some(StockBand::Out);
        let line_total = match (available, unit_price) {
            (true, Some(p)) => p.checked_mul_qty(line.quantity)?,
            _ => zero,
        };
        let status = if !available {
            LineStatus::Unavailable
        } else if Some(seen_price) != unit_price {
            LineStatus::PriceChanged
        } else {
            LineStatus::Available
        };
        let (title, merchant_id) = match product {
            Some((t, m)) => (t, Some(m)),
            None => (String::new(), None),
        };
        let cart_line = CartLine {
            variant_id: line.variant_id,
            product_id: variant.as_ref().map(|v| v.product_id.clone()),
            merchant_id: merchant_id.clone(),
            title,
            options: variant.map(|v| v.options).unwrap_or_default(),
            quantity: line.quantity,
            stock,
            seen_price,
            unit_price: if available { unit_price } else { None },
            line_total,
            discount: zero,
            status,
        };
        match (available, merchant_id) {
            (true, Some(mid)) => {
                if let Some(g) = groups.iter_mut().find(|g| g.merchant_id == mid) {
                    g.lines.push(cart_line);
                } else {
                    let name = catalog::read_merchant(c, &mid)?
                        .map(|m| m.name)
                        .unwrap_or_default();
                    groups.push(MerchantGroup {
                        merchant_id: mid,
                        merchant_name: name,
                        lines: vec![cart_line],
                        voucher: None,
                        subtotal: zero,
                        discount: zero,
                        total: zero,
                    });
                }
            }
            _ => unavailable.push(cart_line),
        }
    }

    // Subtotals.
    let mut subtotal = zero;
    let mut item_count: u32 = 0;
    for g in &mut groups {
        g.subtotal = Money::sum(g.lines.iter().map(|l| &l.line_total), currency)?;
        subtotal = subtotal.checked_add(&g.subtotal)?;
        item_count = item_count.saturating_add(g.lines.iter().map(|l| l.quantity).sum());
    }

    // Vouchers.
    let codes: Vec<(String, String)> = c
        .prepare_cached("SELECT code, scope FROM cart_voucher ORDER BY scope")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut platform_voucher = None;
    let mut platform: Option<Voucher> = None;
    for (code, scope) in codes {
        let Some(v) = catalog::read_voucher(c, &code)? else {
            // Removed from the catalog since it was applied.
            let applied = AppliedVoucher {
                code: code.clone(),
                title: String::new(),
                discount: zero,
                rejection: Some(VoucherRejection::Unknown),
            };
            if scope.is_empty() {
                platform_voucher = Some(applied);
            } else if let Some(g) = groups.iter_mut().find(|g| g.merchant_id == scope) {
                g.voucher = Some(applied);
            }
            continue;
        };
        match &v.merchant_id {
            None => platform = Some(v),
            Some(mid) => {
                if let Some(g) = groups.iter_mut().find(|g| &g.merchant_id == mid) {
                    let (discount, rejection) =
                        evaluate(&v, currency, g.subtotal, g.subtotal, now)?;
                    g.discount = discount;
                    let weights: Vec<Decimal> =
                        g.lines.iter().map(|l| l.line_total.amount()).collect();
                    if !discount.is_zero() {
                        for (l, d) in g.lines.iter_mut().zip(discount.allocate(&weights)?) {
                            l.discount = d;
                        }
                    }
                    g.voucher = Some(AppliedVoucher {
                        code: v.code.clone(),
                        title: v.title.clone(),
                        discount,
                        rejection,
                    });
                }
                // A merchant voucher whose merchant left the cart is simply not shown; it
                // applies again if the merchant's items come back.
            }
        }
    }
    if let Some(v) = platform {
        let mut after_merchant = zero;
        for g in &groups {
            after_merchant = after_merchant.checked_add(&g.subtotal.checked_sub(&g.discount)?)?;
        }
        let (discount, rejection) = evaluate(&v, currency, subtotal, after_merchant, now)?;
        if !discount.is_zero() {
            let lines: Vec<&mut CartLine> =
                groups.iter_mut().flat_map(|g| g.lines.iter_mut()).collect();
            let mut weights = Vec::with_capacity(lines.len());
            for l in &lines {
                weights.push(l.line_total.checked_sub(&l.discount)?.amount());
            }
            for (l, d) in lines.into_iter().zip(discount.allocate(&weights)?) {
                l.discount = l.discount.checked_add(&d)?;
            }
            for g in &mut groups {
                g.discount = Money::sum(g.lines.iter().map(|l| &l.discount), currency)?;
            }
        }
        platform_voucher = Some(AppliedVoucher {
            code: v.code.clone(),
            title: v.title.clone(),
            discount,
            rejection,
        });
    }

    let mut discount = zero;
    for g in &mut groups {
        g.total = g.subtotal.checked_sub(&g.discount)?;
        discount = discount.checked_add(&g.discount)?;
    }
    Ok(CartView {
        currency,
        total: subtotal.checked_sub(&discount)?,
        groups,
        unavailable,
        platform_voucher,
        subtotal,
        discount,
        item_count,
    })
}

/// The discount a voucher gives on `base`, with `min_spend` checked against `spend`.
fn evaluate(
    v: &Voucher,
    currency: Currency,
    spend: Money,
    base: Money,
    now: OffsetDateTime,
) -> Result<(Money, Option<VoucherRejection>)> {
    let zero = Money::zero(currency);
    let rejection = if v.currency != currency {
        Some(VoucherRejection::WrongCurrency {
            voucher: v.currency,
            cart: currency,
        })
    } else if now < v.valid_from {
        Some(VoucherRejection::NotYetValid(v.valid_from))
    } else if now > v.valid_until {
        Some(VoucherRejection::Expired(v.valid_until))
    } else if spend.is_zero() {
        Some(VoucherRejection::EmptyCart)
    } else {
        v.min_spend
            .filter(|m| spend.amount() < m.amount())
            .map(|min| VoucherRejection::MinSpendNotMet {
                required: min,
                subtotal: spend,
            })
    };
    if rejection.is_some() {
        return Ok((zero, rejection));
    }
    let raw = match &v.discount {
        Discount::Percent { percent, cap } => {
            let d = base.percentage(*percent)?;
            match cap {
                Some(cap) if cap.amount() < d.amount() => *cap,
                _ => d,
            }
        }
        Discount::Fixed { amount } => *amount,
    };
    // Never more than what it applies to, never negative.
    let d = if raw.amount() > base.amount() {
        base
    } else {
        raw
    };
    Ok((if d.is_negative() { zero } else { d }, None))
}

#[cfg(test)]
mod tests;
