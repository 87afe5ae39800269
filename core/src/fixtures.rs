//! Small hand-made catalogs for unit tests.

use crate::Profile;
use crate::money::{Currency, Money};
use crate::protocol::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::macros::datetime;

pub fn idr(n: i64) -> Money {
    Money::new(Decimal::from(n), Currency::IDR).unwrap()
}

pub fn profile() -> (tempfile::TempDir, Profile) {
    let dir = tempfile::tempdir().unwrap();
    let p = Profile::open(dir.path().join("profile.db"), Currency::IDR).unwrap();
    (dir, p)
}

pub fn merchant(id: &str, name: &str) -> Entity {
    Entity::Merchant(Merchant {
        id: id.into(),
        name: name.into(),
        kind: MerchantKind::Shop,
        city: "Bandung".into(),
        contact: Contact::default(),
        policies: Policies {
            shipping: "1x24 jam".into(),
            warranty: "7 hari".into(),
            returns: "Retur 7 hari".into(),
        },
    })
}

pub fn category(id: &str, parent: Option<&str>, name: &str) -> Entity {
    Entity::Category(Category {
        id: id.into(),
        parent_id: parent.map(Into::into),
        name: name.into(),
        position: 0,
    })
}

pub fn product(
    id: &str,
    merchant: &str,
    cat: &str,
    title: &str,
    desc: &str,
    rating10: i64,
    created_day: u8,
) -> Entity {
    Entity::Product(Product {
        id: id.into(),
        merchant_id: merchant.into(),
        category_id: cat.into(),
        title: title.into(),
        description: desc.into(),
        brand: Some("Nusantara".into()),
        attributes: BTreeMap::new(),
        image_urls: vec![format!("https://img.example.com/{id}.jpg")],
        rating: RatingSummary {
            average: Decimal::new(rating10, 1),
            count: 10,
        },
        created_at: datetime!(2026-01-01 00:00 UTC) + time::Duration::days(created_day as i64),
        updated_at: datetime!(2026-01-01 00:00 UTC),
    })
}

pub fn variant(id: &str, product: &str, price: i64, stock: StockBand) -> Entity {
    Entity::Variant(Variant {
        id: id.into(),
        product_id: product.into(),
        sku: id.to_uppercase(),
        options: BTreeMap::from([("ukuran".to_string(), "M".to_string())]),
        prices: vec![Price {
            amount: idr(price),
            compare_at: None,
        }],
        stock,
        weight_grams: 500,
    })
}

pub fn voucher(
    code: &str,
    merchant: Option<&str>,
    discount: Discount,
    min_spend: Option<i64>,
) -> Entity {
    Entity::Voucher(Voucher {
        code: code.into(),
        title: format!("Voucher {code}"),
        merchant_id: merchant.map(Into::into),
        currency: Currency::IDR,
        discount,
        min_spend: min_spend.map(idr),
        valid_from: datetime!(2026-01-01 00:00 UTC),
        valid_until: datetime!(2030-12-31 23:59 UTC),
    })
}

pub fn ops(entities: Vec<Entity>, first_id: u64) -> Vec<CatalogOp> {
    entities
        .into_iter()
        .enumerate()
        .map(|(i, entity)| CatalogOp {
            op_id: first_id + i as u64,
            action: CatalogAction::Put { entity },
        })
        .collect()
}

/// A two-merchant catalog: coffee and batik, Indonesian and English text.
pub fn small_catalog() -> Vec<CatalogOp> {
    use StockBand::*;
    ops(
        vec![
            merchant("m-kopi", "Kopi Nusantara"),
            merchant("m-batik", "Batik Pekalongan"),
            category("c-food", None, "Makanan & Minuman"),
            category("c-coffee", Some("c-food"), "Kopi"),
            category("c-fashion", None, "Fashion"),
            category("c-batik", Some("c-fashion"), "Batik"),
            product(
                "p-gayo",
                "m-kopi",
                "c-coffee",
                "Kopi Arabika Gayo 250g",
                "Biji kopi pilihan dari Aceh. Pembelian di atas dua bungkus gratis ongkir.",
                48,
                1,
            ),
            variant("v-gayo-250", "p-gayo", 85_000, InStock),
            variant("v-gayo-1k", "p-gayo", 300_000, Low),
            product(
                "p-toraja",
                "m-kopi",
                "c-coffee",
                "Toraja coffee beans",
                "Freshly roasted beans, shipped the same day. Great for brewing.",
                45,
                2,
            ),
            variant("v-toraja", "p-toraja", 120_000, InStock),
            product(
                "p-kemeja",
                "m-batik",
                "c-batik",
                "Kemeja Batik Tulis Pria",
                "Batik tulis asli Pekalongan, dikirim dengan kemasan aman.",
                49,
                3,
            ),
            variant("v-kemeja-m", "p-kemeja", 450_000, InStock),
            variant("v-kemeja-l", "p-kemeja", 475_000, Out),
            product(
                "p-kain",
                "m-batik",
                "c-batik",
                "Kain Batik Cap Café Motif",
                "Kain katun primisima untuk membeli oleh-oleh.",
                40,
                4,
            ),
            variant("v-kain", "p-kain", 150_000, Out),
            voucher(
                "HEMAT10",
                None,
                Discount::Percent {
                    percent: Decimal::TEN,
                    cap: Some(idr(50_000)),
                },
                Some(100_000),
            ),
            voucher(
                "KOPI5K",
                Some("m-kopi"),
                Discount::Fixed { amount: idr(5_000) },
                None,
            ),
            voucher(
                "BATIK15",
                Some("m-batik"),
                Discount::Percent {
                    percent: Decimal::from(15),
                    cap: None,
                },
                Some(400_000),
            ),
        ],
        1,
    )
}

pub fn now() -> OffsetDateTime {
    datetime!(2026-06-01 12:00 UTC)
}
