//! The bundled demo catalog: ten merchants (B2C shops and C2C sellers), a two-level category
//! tree and a few hundred products with their variants and vouchers, in Indonesian and English.
//!
//! The data lives in `core/data/demo_catalog.json`, generated deterministically by
//! `core/data/gen_demo_catalog.py` (re-run it after editing the script; never edit the JSON by
//! hand). It is compiled into the library, so the demo works offline with no server:
//!
//! ```ignore
//! profile.catalog().apply(&warung_core::demo::demo_ops())?;
//! ```
//!
//! The entities come in dependency order — merchants, categories (parents first), each product
//! followed by its variants, then vouchers — so applying them one by one never refers forward.
//! One voucher, `LEBARAN2025`, is deliberately expired.

use crate::protocol::{CatalogAction, CatalogOp, Entity};

/// The demo catalog as shipped (a JSON array of [`Entity`]).
const DEMO_CATALOG_JSON: &str = include_str!("../data/demo_catalog.json");

/// Every entity of the demo catalog, in dependency order.
///
/// # Panics
///
/// Never in practice: the JSON is a build-time asset checked by this module's tests, so a parse
/// failure is a bug in the generator, not a runtime condition.
pub fn demo_entities() -> Vec<Entity> {
    serde_json::from_str(DEMO_CATALOG_JSON).expect(
        "core/data/demo_catalog.json is not a valid Entity array; re-run gen_demo_catalog.py",
    )
}

/// The demo catalog as a bucket's op log: one PUT per entity, `op_id` 1, 2, 3, …
pub fn demo_ops() -> Vec<CatalogOp> {
    demo_entities()
        .into_iter()
        .enumerate()
        .map(|(i, entity)| CatalogOp {
            op_id: i as u64 + 1,
            action: CatalogAction::Put { entity },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::protocol::{Discount, EntityKind, MerchantKind, StockBand};
    use std::collections::{HashMap, HashSet};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    fn count(entities: &[Entity], kind: EntityKind) -> usize {
        entities.iter().filter(|e| e.kind() == kind).count()
    }

    #[test]
    fn parses_with_expected_counts() {
        let entities = demo_entities();
        let products = count(&entities, EntityKind::Product);
        let categories = count(&entities, EntityKind::Category);
        let merchants = count(&entities, EntityKind::Merchant);
        let variants = count(&entities, EntityKind::Variant);
        let vouchers = count(&entities, EntityKind::Voucher);
        assert!((300..=400).contains(&products), "{products} products");
        assert!((15..=25).contains(&categories), "{categories} categories");
        assert!((8..=12).contains(&merchants), "{merchants} merchants");
        assert!(variants >= products, "{variants} variants");
        assert!(vouchers >= 6, "{vouchers} vouchers");
        let kinds: HashSet<_> = entities
            .iter()
            .filter_map(|e| match e {
                Entity::Merchant(m) => Some(m.kind),
                _ => None,
            })
            .collect();
        assert!(kinds.contains(&MerchantKind::Shop) && kinds.contains(&MerchantKind::Seller));
    }

    #[test]
    fn ops_wrap_entities_with_increasing_ids() {
        let entities = demo_entities();
        let ops = demo_ops();
        assert_eq!(ops.len(), entities.len());
        for (i, (op, entity)) in ops.iter().zip(&entities).enumerate() {
            assert_eq!(op.op_id, i as u64 + 1);
            assert_eq!(
                op.action,
                CatalogAction::Put {
                    entity: entity.clone()
                }
            );
        }
    }

    #[test]
    fn ids_are_unique_per_kind() {
        let mut seen = HashSet::new();
        for e in demo_entities() {
            assert!(
                seen.insert((e.kind(), e.id().to_owned())),
                "duplicate {}",
                e.id()
            );
        }
    }

    #[test]
    fn references_point_backwards() {
        let mut seen: HashSet<(EntityKind, String)> = HashSet::new();
        let has = |seen: &HashSet<(EntityKind, String)>, kind, id: &str| {
            seen.contains(&(kind, id.to_owned()))
        };
        let mut variants_per_product: HashMap<String, usize> = HashMap::new();
        for e in demo_entities() {
            match &e {
                Entity::Merchant(_) => {}
                Entity::Category(c) => {
                    if let Some(parent) = &c.parent_id {
                        assert!(has(&seen, EntityKind::Category, parent), "{}", c.id);
                    }
                }
                Entity::Product(p) => {
                    assert!(has(&seen, EntityKind::Merchant, &p.merchant_id), "{}", p.id);
                    assert!(has(&seen, EntityKind::Category, &p.category_id), "{}", p.id);
                    assert!(!p.title.is_empty() && !p.description.is_empty(), "{}", p.id);
                    assert!((1..=3).contains(&p.image_urls.len()), "{}", p.id);
                    assert!(p.created_at <= p.updated_at, "{}", p.id);
                }
                Entity::Variant(v) => {
                    assert!(has(&seen, EntityKind::Product, &v.product_id), "{}", v.id);
                    *variants_per_product
                        .entry(v.product_id.clone())
                        .or_default() += 1;
                }
                Entity::Voucher(v) => {
                    if let Some(m) = &v.merchant_id {
                        assert!(has(&seen, EntityKind::Merchant, m), "{}", v.code);
                    }
                }
            }
            seen.insert((e.kind(), e.id().to_owned()));
        }
        let products = seen
            .iter()
            .filter(|(k, _)| *k == EntityKind::Product)
            .count();
        assert_eq!(
            variants_per_product.len(),
            products,
            "a product without variants"
        );
        assert!(variants_per_product.values().all(|n| (1..=4).contains(n)));
    }

    #[test]
    fn every_variant_has_exactly_one_idr_price() {
        let mut bands: HashMap<StockBand, usize> = HashMap::new();
        for e in demo_entities() {
            let Entity::Variant(v) = e else { continue };
            let idr = v
                .prices
                .iter()
                .filter(|p| p.amount.currency() == Currency::IDR)
                .count();
            assert_eq!(idr, 1, "{}", v.id);
            let currencies: HashSet<_> = v.prices.iter().map(|p| p.amount.currency()).collect();
            assert_eq!(
                currencies.len(),
                v.prices.len(),
                "{}: two prices in one currency",
                v.id
            );
            for p in &v.prices {
                assert!(!p.amount.is_negative() && !p.amount.is_zero(), "{}", v.id);
                if let Some(was) = &p.compare_at {
                    assert_eq!(was.currency(), p.amount.currency(), "{}", v.id);
                    assert!(was.amount() > p.amount.amount(), "{}", v.id);
                }
            }
            *bands.entry(v.stock).or_default() += 1;
        }
        assert!(bands.len() == 3, "all three stock bands appear: {bands:?}");
    }

    #[test]
    fn vouchers_include_an_expired_one() {
        let now = OffsetDateTime::parse("2026-06-01T00:00:00Z", &Rfc3339).unwrap();
        let vouchers: Vec<_> = demo_entities()
            .into_iter()
            .filter_map(|e| match e {
                Entity::Voucher(v) => Some(v),
                _ => None,
            })
            .collect();
        assert!(vouchers.iter().any(|v| v.valid_until < now));
        let lebaran = vouchers.iter().find(|v| v.code == "LEBARAN2025").unwrap();
        assert!(lebaran.valid_until < now);
        let hemat = vouchers.iter().find(|v| v.code == "HEMAT10").unwrap();
        assert!(hemat.merchant_id.is_none() && hemat.valid_from <= now && now < hemat.valid_until);
        assert!(matches!(
            hemat.discount,
            Discount::Percent { cap: Some(_), .. }
        ));
        let merchants: HashSet<_> = vouchers
            .iter()
            .filter_map(|v| v.merchant_id.clone())
            .collect();
        assert!(merchants.len() >= 3);
        for v in &vouchers {
            assert_eq!(v.code, v.code.to_uppercase());
            assert!(v.valid_from < v.valid_until, "{}", v.code);
        }
    }
}
