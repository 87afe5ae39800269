//! The intent pipeline: what each intent kind does to a device's server-side state.
//!
//! The batch rule ([`crate::store::rules::sync`]) owns ordering, idempotency and the
//! transaction; this module owns the *rules* of each kind, against the small
//! [`IntentContext`] that batch rule provides over a backend's reads. A new kind (orders,
//! payments) is a new [`IntentBody`] variant and one more arm in [`apply`]: storage does not
//! change.

use crate::store::StoreError;
use time::OffsetDateTime;
use warung_core::protocol::{CartMirror, CartMirrorLine, IntentBody, IntentOutcome, Voucher};

/// The most of one variant a cart line may hold (the phone's cart has the same limit).
pub const MAX_LINE_QUANTITY: u32 = 99;

/// What intent rules may read, inside the batch's transaction.
pub trait IntentContext {
    /// The exact stock count of a variant, `None` when it does not exist.
    fn variant_stock(&mut self, variant_id: &str) -> Result<Option<u32>, StoreError>;
    /// A voucher by its upper-case code.
    fn voucher(&mut self, code: &str) -> Result<Option<Voucher>, StoreError>;
    /// The transaction's clock.
    fn now(&self) -> OffsetDateTime;
}

/// The device state an intent may change.
#[derive(Debug, Clone, Default)]
pub struct DeviceState {
    pub cart: CartMirror,
    /// Set when an intent changed the cart (its mirror op must be re-written).
    pub cart_changed: bool,
}

fn rejected(reason: &str) -> IntentOutcome {
    IntentOutcome::Rejected {
        reason: reason.to_owned(),
    }
}

/// Applies one intent's body. `Ok(Rejected)` is a terminal business refusal (stored, it consumes
/// the sequence number); `Err` is a storage failure that aborts the whole batch.
pub fn apply(
    ctx: &mut dyn IntentContext,
    state: &mut DeviceState,
    body: &IntentBody,
) -> Result<IntentOutcome, StoreError> {
    match body {
        IntentBody::CartSetLine {
            variant_id,
            quantity,
        } => cart_set_line(ctx, state, variant_id, *quantity),
        IntentBody::CartClear {} => {
            if !state.cart.lines.is_empty() || !state.cart.vouchers.is_empty() {
                state.cart = CartMirror::default();
                state.cart_changed = true;
            }
            Ok(IntentOutcome::Applied)
        }
        IntentBody::VoucherApply { code } => voucher_apply(ctx, state, code),
        IntentBody::VoucherRemove { code } => {
            let code = code.trim().to_uppercase();
            let before = state.cart.vouchers.len();
            state.cart.vouchers.retain(|c| *c != code);
            state.cart_changed |= state.cart.vouchers.len() != before;
            Ok(IntentOutcome::Applied)
        }
    }
}

fn cart_set_line(
    ctx: &mut dyn IntentContext,
    state: &mut DeviceState,
    variant_id: &str,
    quantity: u32,
) -> Result<IntentOutcome, StoreError> {
    let lines = &mut state.cart.lines;
    if quantity == 0 {
        // Removing a line always works, even for a variant deleted since it was added.
        let before = lines.len();
        lines.retain(|l| l.variant_id != variant_id);
        state.cart_changed |= lines.len() != before;
        return Ok(IntentOutcome::Applied);
    }
    let Some(stock) = ctx.variant_stock(variant_id)? else {
        return Ok(rejected("unknown_variant"));
    };
    if quantity > MAX_LINE_QUANTITY {
        return Ok(rejected("invalid_quantity"));
    }
    if stock == 0 {
        return Ok(rejected("out_of_stock"));
    }
    match lines.iter_mut().find(|l| l.variant_id == variant_id) {
        Some(line) => line.quantity = quantity,
        None => lines.push(CartMirrorLine {
            variant_id: variant_id.to_owned(),
            quantity,
        }),
    }
    state.cart_changed = true;
    Ok(IntentOutcome::Applied)
}

fn voucher_apply(
    ctx: &mut dyn IntentContext,
    state: &mut DeviceState,
    code: &str,
) -> Result<IntentOutcome, StoreError> {
    let code = code.trim().to_uppercase();
    let Some(voucher) = ctx.voucher(&code)? else {
        return Ok(rejected("unknown_voucher"));
    };
    let now = ctx.now();
    if now < voucher.valid_from {
        return Ok(rejected("voucher_not_started"));
    }
    if now > voucher.valid_until {
        return Ok(rejected("voucher_expired"));
    }
    if state.cart.vouchers.contains(&code) {
        return Ok(IntentOutcome::Applied);
    }
    // One voucher per merchant, and at most one platform voucher (merchant_id None): drop the
    // applied voucher with the same scope.
    let mut kept = Vec::with_capacity(state.cart.vouchers.len() + 1);
    for applied in std::mem::take(&mut state.cart.vouchers) {
        let same_scope = match ctx.voucher(&applied)? {
            Some(other) => other.merchant_id == voucher.merchant_id,
            None => false, // deleted since: keep what the phone has, it is harmless
        };
        if !same_scope {
            kept.push(applied);
        }
    }
    kept.push(code);
    state.cart.vouchers = kept;
    state.cart_changed = true;
    Ok(IntentOutcome::Applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::datetime;
    use warung_core::money::{Currency, Money};
    use warung_core::protocol::Discount;

    struct Ctx {
        stock: HashMap<&'static str, u32>,
        vouchers: HashMap<String, Voucher>,
    }

    impl IntentContext for Ctx {
        fn variant_stock(&mut self, id: &str) -> Result<Option<u32>, StoreError> {
            Ok(self.stock.get(id).copied())
        }
        fn voucher(&mut self, code: &str) -> Result<Option<Voucher>, StoreError> {
            Ok(self.vouchers.get(code).cloned())
        }
        fn now(&self) -> OffsetDateTime {
            datetime!(2026-06-01 00:00 UTC)
        }
    }

    fn voucher(code: &str, merchant: Option<&str>, from: OffsetDateTime) -> Voucher {
        Voucher {
            code: code.into(),
            title: code.into(),
            merchant_id: merchant.map(Into::into),
            currency: Currency::IDR,
            discount: Discount::Fixed {
                amount: Money::parse("1000", Currency::IDR).unwrap(),
            },
            min_spend: None,
            valid_from: from,
            valid_until: datetime!(2026-12-31 00:00 UTC),
        }
    }

    fn ctx() -> Ctx {
        let start = datetime!(2026-01-01 00:00 UTC);
        let vouchers = [
            voucher("A1", Some("m-a"), start),
            voucher("A2", Some("m-a"), start),
            voucher("B1", Some("m-b"), start),
            voucher("P1", None, start),
            voucher("P2", None, start),
            voucher("LATER", None, datetime!(2026-07-01 00:00 UTC)),
        ];
        Ctx {
            stock: HashMap::from([("v-1", 10), ("v-out", 0)]),
            vouchers: vouchers.into_iter().map(|v| (v.code.clone(), v)).collect(),
        }
    }

    fn set(id: &str, q: u32) -> IntentBody {
        IntentBody::CartSetLine {
            variant_id: id.into(),
            quantity: q,
        }
    }

    #[test]
    fn cart_rules() {
        let (mut c, mut s) = (ctx(), DeviceState::default());
        assert_eq!(
            apply(&mut c, &mut s, &set("v-1", 2)).unwrap(),
            IntentOutcome::Applied
        );
        assert_eq!(
            apply(&mut c, &mut s, &set("nope", 1)).unwrap(),
            rejected("unknown_variant")
        );
        assert_eq!(
            apply(&mut c, &mut s, &set("v-1", 100)).unwrap(),
            rejected("invalid_quantity")
        );
        assert_eq!(
            apply(&mut c, &mut s, &set("v-out", 1)).unwrap(),
            rejected("out_of_stock")
        );
        assert_eq!(s.cart.lines.len(), 1);
        assert_eq!(s.cart.lines[0].quantity, 2);
        apply(&mut c, &mut s, &set("v-1", 0)).unwrap();
        assert!(s.cart.lines.is_empty());
    }

    #[test]
    fn voucher_scopes_replace() {
        let (mut c, mut s) = (ctx(), DeviceState::default());
        let ap = |code: &str| IntentBody::VoucherApply { code: code.into() };
        for code in ["a1", "B1", "P1", "A2", "P2"] {
            assert_eq!(
                apply(&mut c, &mut s, &ap(code)).unwrap(),
                IntentOutcome::Applied
            );
        }
        assert_eq!(s.cart.vouchers, vec!["B1", "A2", "P2"]);
        assert_eq!(
            apply(&mut c, &mut s, &ap("ZZZ")).unwrap(),
            rejected("unknown_voucher")
        );
        assert_eq!(
            apply(&mut c, &mut s, &ap("LATER")).unwrap(),
            rejected("voucher_not_started")
        );
        apply(&mut c, &mut s, &IntentBody::CartClear {}).unwrap();
        assert!(s.cart.vouchers.is_empty());
    }
}
