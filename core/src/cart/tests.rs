use super::*;
use crate::fixtures::*;
use crate::outbox::IntentState;
use crate::protocol::{CatalogAction, CatalogOp, EntityKind};
use time::macros::datetime;

fn loaded() -> (tempfile::TempDir, crate::Profile) {
    let (d, p) = profile();
    p.catalog().apply(&small_catalog()).unwrap();
    (d, p)
}

#[test]
fn add_set_remove_and_group_by_merchant() {
    let (_d, p) = loaded();
    let cart = p.cart();
    cart.add("v-gayo-250", 2).unwrap();
    cart.add("v-gayo-250", 1).unwrap(); // adds up
    cart.add("v-kemeja-m", 1).unwrap();
    cart.add("v-toraja", 1).unwrap();
    let v = cart.view_at(now()).unwrap();
    assert_eq!(v.groups.len(), 2);
    let kopi = &v.groups[0];
    assert_eq!(kopi.merchant_name, "Kopi Nusantara");
    assert_eq!(kopi.lines.len(), 2);
    assert_eq!(kopi.lines[0].quantity, 3);
    assert_eq!(kopi.subtotal, idr(3 * 85_000 + 120_000));
    assert_eq!(v.groups[1].subtotal, idr(450_000));
    assert_eq!(v.subtotal, idr(825_000));
    assert_eq!(v.total, v.subtotal);
    assert_eq!(v.item_count, 5);

    cart.set_quantity("v-gayo-250", 1).unwrap();
    cart.remove("v-toraja").unwrap();
    let v = cart.view_at(now()).unwrap();
    assert_eq!(v.subtotal, idr(85_000 + 450_000));
    assert!(matches!(cart.remove("v-toraja"), Err(Error::NotInCart(_))));
    cart.clear().unwrap();
    let v = cart.view_at(now()).unwrap();
    assert!(v.groups.is_empty());
    assert_eq!(v.total, idr(0));
}

#[test]
fn quantity_and_stock_rules() {
    let (_d, p) = loaded();
    let cart = p.cart();
    for q in [0, -1, 100, i64::MIN, i64::MAX] {
        assert!(
            matches!(
                cart.add("v-gayo-250", q),
                Err(Error::InvalidQuantity { .. })
            ),
            "{q}"
        );
        assert!(matches!(
            cart.set_quantity("v-gayo-250", q),
            Err(Error::InvalidQuantity { .. })
        ));
    }
    cart.set_quantity("v-gayo-250", 99).unwrap();
    assert!(matches!(
        cart.add("v-gayo-250", 1),
        Err(Error::InvalidQuantity {
            quantity: 100,
            max: 99
        })
    ));
    assert!(matches!(cart.add("nope", 1), Err(Error::UnknownVariant(_))));
    assert!(matches!(cart.add("v-kain", 1), Err(Error::OutOfStock(_))));
    // Low stock: at most 5 per line.
    cart.add("v-gayo-1k", 5).unwrap();
    assert!(matches!(
        cart.add("v-gayo-1k", 1),
        Err(Error::InvalidQuantity {
            quantity: 6,
            max: 5
        })
    ));
    // Nothing of the refused calls reached the outbox: 2 successful mutations only.
    assert_eq!(p.outbox().pending_count().unwrap(), 2);
}

#[test]
fn price_changes_and_unavailable_lines() {
    let (_d, p) = loaded();
    let cart = p.cart();
    cart.add("v-gayo-250", 1).unwrap();
    cart.add("v-toraja", 2).unwrap();
    cart.add("v-kemeja-m", 1).unwrap();
    // The merchant raises a price, sells out one variant and removes another.
    p.catalog()
        .apply(&[
            CatalogOp {
                op_id: 100,
                action: CatalogAction::Put {
                    entity: variant("v-gayo-250", "p-gayo", 90_000, StockBand::InStock),
                },
            },
            CatalogOp {
                op_id: 101,
                action: CatalogAction::Put {
                    entity: variant("v-kemeja-m", "p-kemeja", 450_000, StockBand::Out),
                },
            },
            CatalogOp {
                op_id: 102,
                action: CatalogAction::Remove {
                    kind: EntityKind::Product,
                    id: "p-toraja".into(),
                },
            },
        ])
        .unwrap();
    let v = cart.view_at(now()).unwrap();
    assert_eq!(v.groups.len(), 1);
    let line = &v.groups[0].lines[0];
    assert_eq!(line.status, LineStatus::PriceChanged);
    assert_eq!(line.seen_price, idr(85_000));
    assert_eq!(line.unit_price, Some(idr(90_000)));
    assert_eq!(v.unavailable.len(), 2);
    assert!(
        v.unavailable
            .iter()
            .all(|l| l.status == LineStatus::Unavailable)
    );
    assert_eq!(v.total, idr(90_000), "unavailable lines count in no total");
    // Re-adding refreshes the seen price.
    cart.add("v-gayo-250", 1).unwrap();
    assert_eq!(
        cart.view_at(now()).unwrap().groups[0].lines[0].status,
        LineStatus::Available
    );
}

#[test]
fn platform_percent_voucher_with_cap_and_min_spend() {
    let (_d, p) = loaded();
    let cart = p.cart();
    cart.add("v-gayo-250", 1).unwrap();
    let err = cart.apply_voucher_at("hemat10", now()).unwrap_err();
    assert!(matches!(
        err,
        Error::Voucher {
            reason: VoucherRejection::MinSpendNotMet { .. },
            ..
        }
    ));
    cart.add("v-toraja", 1).unwrap(); // 205.000
    let v = cart.apply_voucher_at("hemat10", now()).unwrap();
    let pv = v.platform_voucher.as_ref().unwrap();
    assert_eq!(pv.code, "HEMAT10");
    assert_eq!(pv.discount, idr(20_500));
    assert_eq!(v.total, idr(205_000 - 20_500));
    // Line discounts add up exactly to the voucher.
    let lines: Vec<&CartLine> = v.groups.iter().flat_map(|g| &g.lines).collect();
    assert_eq!(
        Money::sum(lines.iter().map(|l| &l.discount), Currency::IDR).unwrap(),
        idr(20_500)
    );
    // Cap: 10% of 3 × 450.000 + … would be > 50.000.
    cart.add("v-kemeja-m", 3).unwrap();
    let v = cart.view_at(now()).unwrap();
    assert_eq!(v.platform_voucher.unwrap().discount, idr(50_000));
}

#[test]
fn merchant_vouchers_one_per_merchant_plus_platform() {
    let (_d, p) = loaded();
    let cart = p.cart();
    cart.add("v-gayo-250", 1).unwrap(); // 85.000 kopi
    cart.add("v-kemeja-m", 1).unwrap(); // 450.000 batik
    cart.apply_voucher_at("KOPI5K", now()).unwrap();
    cart.apply_voucher_at("BATIK15", now()).unwrap();
    let v = cart.apply_voucher_at("HEMAT10", now()).unwrap();
    let kopi = &v.groups[0];
    let batik = &v.groups[1];
    assert_eq!(kopi.voucher.as_ref().unwrap().discount, idr(5_000));
    assert_eq!(batik.voucher.as_ref().unwrap().discount, idr(67_500));
    // Platform: 10% of what is left (535.000 − 72.500 = 462.500) = 46.250, under the cap.
    assert_eq!(v.platform_voucher.as_ref().unwrap().discount, idr(46_250));
    assert_eq!(v.discount, idr(5_000 + 67_500 + 46_250));
    assert_eq!(v.total, idr(535_000 - 118_750));
    assert_eq!(kopi.total.checked_add(&batik.total).unwrap(), v.total);
    // A merchant voucher for a merchant not in the cart is refused with a reason.
    cart.remove("v-kemeja-m").unwrap();
    let e = cart.apply_voucher_at("BATIK15", now()).unwrap_err();
    assert!(matches!(
        e,
        Error::Voucher {
            reason: VoucherRejection::MerchantNotInCart(_),
            ..
        }
    ));
}

#[test]
fn voucher_validity_and_unknown_codes() {
    let (_d, p) = loaded();
    let cart = p.cart();
    cart.add("v-kemeja-m", 1).unwrap();
    let late = datetime!(2031-01-01 00:00 UTC);
    let early = datetime!(2025-01-01 00:00 UTC);
    assert!(matches!(
        cart.apply_voucher_at("HEMAT10", late),
        Err(Error::Voucher {
            reason: VoucherRejection::Expired(_),
            ..
        })
    ));
    assert!(matches!(
        cart.apply_voucher_at("HEMAT10", early),
        Err(Error::Voucher {
            reason: VoucherRejection::NotYetValid(_),
            ..
        })
    ));
    assert!(matches!(
        cart.apply_voucher_at("NOPE", now()),
        Err(Error::Voucher {
            reason: VoucherRejection::Unknown,
            ..
        })
    ));
    // A failed apply leaves the earlier voucher in place and writes no intent.
    cart.apply_voucher_at("HEMAT10", now()).unwrap();
    let pending = p.outbox().pending_count().unwrap();
    assert!(cart.apply_voucher_at("HEMAT10", late).is_err());
    assert_eq!(p.outbox().pending_count().unwrap(), pending);
    assert!(cart.view_at(now()).unwrap().platform_voucher.is_some());
    // Once expired it stays visible with its reason and no discount.
    let v = cart.view_at(late).unwrap();
    let pv = v.platform_voucher.unwrap();
    assert!(matches!(pv.rejection, Some(VoucherRejection::Expired(_))));
    assert_eq!(pv.discount, idr(0));
    assert_eq!(v.total, idr(450_000));
}

#[test]
fn every_mutation_queues_one_intent() {
    let (_d, p) = loaded();
    let cart = p.cart();
    cart.add("v-gayo-250", 2).unwrap();
    cart.set_quantity("v-gayo-250", 3).unwrap();
    cart.add("v-toraja", 1).unwrap();
    cart.apply_voucher_at("HEMAT10", now()).unwrap();
    cart.remove("v-toraja").unwrap();
    cart.clear().unwrap();
    let intents: Vec<_> = p.outbox().list(100).unwrap().into_iter().rev().collect();
    let bodies: Vec<IntentBody> = intents.iter().map(|q| q.intent.body.clone()).collect();
    assert_eq!(
        bodies,
        vec![
            IntentBody::CartSetLine {
                variant_id: "v-gayo-250".into(),
                quantity: 2
            },
            IntentBody::CartSetLine {
                variant_id: "v-gayo-250".into(),
                quantity: 3
            },
            IntentBody::CartSetLine {
                variant_id: "v-toraja".into(),
                quantity: 1
            },
            IntentBody::VoucherApply {
                code: "HEMAT10".into()
            },
            IntentBody::CartSetLine {
                variant_id: "v-toraja".into(),
                quantity: 0
            },
            IntentBody::CartClear {},
        ]
    );
    assert!(intents.iter().all(|q| q.state == IntentState::Pending));
    assert_eq!(
        intents.iter().map(|q| q.intent.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
}

#[test]
fn subscribers_hear_cart_edits_and_catalog_updates() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (_d, p) = loaded();
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let sub = p.cart().subscribe(move || {
        h.fetch_add(1, Ordering::SeqCst);
    });
    p.cart().add("v-gayo-250", 1).unwrap();
    assert!(p.cart().add("v-gayo-250", 0).is_err()); // refused: no notification
    p.cart().set_quantity("v-gayo-250", 2).unwrap();
    p.cart().apply_voucher_at("KOPI5K", now()).unwrap();
    p.cart().remove_voucher("KOPI5K").unwrap();
    p.cart().remove("v-gayo-250").unwrap();
    p.cart().clear().unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 6);
    // A price change from the catalog also tells the cart's subscribers.
    p.catalog()
        .apply(&ops(
            vec![variant("v-toraja", "p-toraja", 1, StockBand::InStock)],
            900,
        ))
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 7);
    sub.cancel();
    p.cart().add("v-gayo-250", 1).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 7);
}
