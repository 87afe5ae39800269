//! A deterministic synthetic catalog for benchmarks and load tests.
//!
//! [`synthetic_ops`] streams the PUT ops of a catalog with any number of products (100,000 and
//! more) without ever holding it in memory: it yields [`MERCHANTS`] merchants, then
//! [`TOP_CATEGORIES`] top-level categories and [`SUBCATEGORIES_PER_TOP`] sub-categories under
//! each, then every product immediately followed by its 1–3 variants. Op ids run 1, 2, 3, …
//! The same `(n_products, seed)` always yields the same ops (it depends on `fastrand`'s pinned
//! generator, not on the platform).
//!
//! The text is built to behave like a real catalog under full-text search: titles (4–8 words)
//! and descriptions (20–40 words) are drawn from a mixed Indonesian / English vocabulary of
//! several thousand real words (`core/data/synth_vocab.txt`, one word a line, in rank order)
//! with Zipf weights (`1/rank`). So a benchmark can pick query words by how common they are
//! ([`word_at_rank`]): the top five words each appear in well over 20% of products, a word at
//! rank 100–300 in roughly 1–5%, and words far down the list in a handful. (The catalog's
//! analyzer also stems, so `phones` and `phone` match each other: a stemmed query can match a
//! little more than the exact-word frequencies measured in this module's tests.)
//!
//! Prices are IDR only, from Rp5.000 to Rp20.000.000 on a roughly logarithmic spread; stock
//! bands are about 80% in stock, 12% low and 8% out. No floats anywhere.

use crate::money::{Currency, Money};
use crate::protocol::{
    CatalogAction, CatalogOp, Category, Contact, Entity, Merchant, MerchantKind, Policies, Price,
    Product, RatingSummary, StockBand, Variant,
};
use fastrand::Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use time::OffsetDateTime;

/// Merchants in every synthetic catalog (`m-0001` …).
pub const MERCHANTS: usize = 200;
/// Top-level categories (`c-01` …).
pub const TOP_CATEGORIES: usize = 10;
/// Sub-categories under each top-level one (`c-01-1` …); products live in these.
pub const SUBCATEGORIES_PER_TOP: usize = 5;
/// Lowest and highest IDR price of a variant.
pub const MIN_PRICE_IDR: i64 = 5_000;
pub const MAX_PRICE_IDR: i64 = 20_000_000;

const VOCAB_TXT: &str = include_str!("../data/synth_vocab.txt");

/// The vocabulary in rank order: the most frequent word first.
pub fn vocabulary() -> &'static [&'static str] {
    static VOCAB: OnceLock<Vec<&'static str>> = OnceLock::new();
    VOCAB.get_or_init(|| {
        VOCAB_TXT
            .lines()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect()
    })
}

/// The word of 1-based Zipf `rank` (1 is the most frequent).
///
/// # Panics
///
/// If `rank` is 0 or greater than `vocabulary().len()`.
pub fn word_at_rank(rank: usize) -> &'static str {
    let vocab = vocabulary();
    assert!(
        (1..=vocab.len()).contains(&rank),
        "rank {rank} outside 1..={}",
        vocab.len()
    );
    vocab[rank - 1]
}

/// All the ops of a synthetic catalog with `n_products` products, generated lazily.
pub fn synthetic_ops(n_products: usize, seed: u64) -> impl Iterator<Item = CatalogOp> {
    let merchants = (0..MERCHANTS).map(|i| Entity::Merchant(merchant(i)));
    let tops = (0..TOP_CATEGORIES).map(|t| Entity::Category(top_category(t)));
    let subs =
        (0..TOP_CATEGORIES * SUBCATEGORIES_PER_TOP).map(|s| Entity::Category(sub_category(s)));
    let mut products = ProductGen::new(seed);
    let products = (1..=n_products).flat_map(move |n| products.product(n));
    merchants
        .chain(tops)
        .chain(subs)
        .chain(products)
        .zip(1u64..)
        .map(|(entity, op_id)| CatalogOp {
            op_id,
            action: CatalogAction::Put { entity },
        })
}

/// Zipf sampling with exponent 1 on integers: weight `1_000_000_000 / rank`, a cumulative table
/// and a binary search for a uniform draw below the total.
struct Zipf {
    cumulative: Vec<u64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        assert!(n > 0, "an empty Zipf table");
        let mut total = 0u64;
        let cumulative = (1..=n as u64)
            .map(|rank| {
                total += 1_000_000_000 / rank;
                total
            })
            .collect();
        Zipf { cumulative }
    }

    /// A 0-based index (rank − 1).
    fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("non-empty table");
        let u = rng.u64(0..total);
        self.cumulative.partition_point(|&c| c <= u)
    }
}

const CITIES: [&str; 20] = [
    "Jakarta",
    "Bandung",
    "Surabaya",
    "Yogyakarta",
    "Semarang",
    "Medan",
    "Makassar",
    "Denpasar",
    "Solo",
    "Pekalongan",
    "Malang",
    "Palembang",
    "Bogor",
    "Tangerang",
    "Bekasi",
    "Padang",
    "Pontianak",
    "Balikpapan",
    "Manado",
    "Kupang",
];

/// Brand names are two parts, neither of them a vocabulary word (brands are indexed for search
/// too, and must not skew the vocabulary's frequencies).
const BRAND_FIRST: [&str; 20] = [
    "Sinar", "Mitra", "Cahaya", "Nusa", "Bumi", "Tirta", "Surya", "Mega", "Duta", "Citra", "Karya",
    "Permata", "Urban", "Golden", "Nova", "Terra", "Aero", "Kirana", "Lumen", "Vega",
];
const BRAND_SECOND: [&str; 20] = [
    "Abadi",
    "Makmur",
    "Sentosa",
    "Lestari",
    "Jaya",
    "Prima",
    "Sejahtera",
    "Mulia",
    "Raya",
    "Agung",
    "Berkah",
    "Mandiri",
    "Gemilang",
    "Sentral",
    "Global",
    "Zenith",
    "Vista",
    "Orbit",
    "Pixel",
    "Nexa",
];
const BRANDS: usize = BRAND_FIRST.len() * BRAND_SECOND.len();

fn brand_name(index: usize) -> String {
    let first = BRAND_FIRST[index % BRAND_FIRST.len()];
    let second = BRAND_SECOND[(index / BRAND_FIRST.len()) % BRAND_SECOND.len()];
    format!("{first} {second}")
}

const MERCHANT_WORDS: [&str; 8] = [
    "Toko", "Grosir", "Lapak", "Rumah", "Gudang", "Pusat", "Galeri", "Official",
];

fn merchant(i: usize) -> Merchant {
    let seller = i % 3 == 2;
    let city = CITIES[(i * 7) % CITIES.len()];
    Merchant {
        id: format!("m-{:04}", i + 1),
        // 37 is coprime to BRANDS, so names never repeat.
        name: format!(
            "{} {}",
            MERCHANT_WORDS[i % MERCHANT_WORDS.len()],
            brand_name(i * 37 % BRANDS)
        ),
        kind: if seller {
            MerchantKind::Seller
        } else {
            MerchantKind::Shop
        },
        city: city.to_owned(),
        contact: Contact {
            phone: Some(format!("+62812{:08}", 10_000_000 + i * 7_919)),
            email: Some(format!("m{:04}@example.com", i + 1)),
            whatsapp: seller.then(|| format!("+62857{:08}", 20_000_000 + i * 104_729)),
        },
        policies: Policies {
            shipping: format!(
                "Dikirim dari {city} dalam 1x24 jam via JNE/J&T/SiCepat; gratis ongkir di atas Rp150.000."
            ),
            warranty: if seller {
                "Barang dicek sebelum dikirim; tanpa garansi pabrik.".to_owned()
            } else {
                "Garansi resmi 1 tahun untuk elektronik; produk lain diganti jika cacat.".to_owned()
            },
            returns: "Retur 7 hari untuk barang rusak atau salah kirim, dengan video unboxing."
                .to_owned(),
        },
    }
}

const CATEGORY_NAMES: [(&str, [&str; SUBCATEGORIES_PER_TOP]); TOP_CATEGORIES] = [
    (
        "Sembako",
        [
            "Beras",
            "Minyak Goreng",
            "Gula & Tepung",
            "Bumbu Dapur",
            "Mie Instan",
        ],
    ),
    (
        "Fashion Pria",
        ["Kemeja", "Kaos", "Celana", "Batik Pria", "Sepatu Pria"],
    ),
    (
        "Fashion Wanita",
        ["Dress", "Blouse", "Hijab", "Batik Wanita", "Tas Wanita"],
    ),
    (
        "Kopi & Minuman",
        ["Kopi Biji", "Kopi Bubuk", "Teh", "Minuman Instan", "Sirup"],
    ),
    (
        "Handphone & Tablet",
        [
            "Smartphone",
            "Tablet",
            "Power Bank",
            "Charger & Kabel",
            "Casing",
        ],
    ),
    (
        "Elektronik",
        ["Audio", "Kipas Angin", "Rice Cooker", "Lampu", "Televisi"],
    ),
    (
        "Rumah Tangga",
        [
            "Peralatan Dapur",
            "Kebersihan",
            "Perlengkapan Tidur",
            "Dekorasi",
            "Penyimpanan",
        ],
    ),
    (
        "Kecantikan",
        [
            "Skincare",
            "Makeup",
            "Perawatan Rambut",
            "Parfum",
            "Perawatan Tubuh",
        ],
    ),
    (
        "Olahraga",
        ["Lari", "Fitness", "Badminton", "Sepak Bola", "Outdoor"],
    ),
    (
        "Ibu & Bayi",
        [
            "Popok",
            "Susu Formula",
            "Pakaian Bayi",
            "Mainan",
            "Perlengkapan Mandi",
        ],
    ),
];

fn top_category(t: usize) -> Category {
    Category {
        id: format!("c-{:02}", t + 1),
        parent_id: None,
        name: CATEGORY_NAMES[t].0.to_owned(),
        position: t as i32,
    }
}

fn sub_category(s: usize) -> Category {
    let (t, k) = (s / SUBCATEGORIES_PER_TOP, s % SUBCATEGORIES_PER_TOP);
    Category {
        id: format!("c-{:02}-{}", t + 1, k + 1),
        parent_id: Some(format!("c-{:02}", t + 1)),
        name: CATEGORY_NAMES[t].1[k].to_owned(),
        position: k as i32,
    }
}

/// Log-spaced "shop" prices from Rp5.000 to Rp20.000.000 (about four steps a decade).
const PRICE_STEPS: [i64; 37] = [
    5_000, 7_500, 10_000, 12_500, 15_000, 20_000, 25_000, 35_000, 45_000, 60_000, 75_000, 99_000,
    125_000, 150_000, 199_000, 250_000, 350_000, 450_000, 599_000, 750_000, 999_000, 1_250_000,
    1_500_000, 1_999_000, 2_500_000, 3_500_000, 4_500_000, 5_999_000, 7_500_000, 9_999_000,
    12_500_000, 15_000_000, 17_500_000, 19_999_000, 20_000_000, 20_000_000, 20_000_000,
];

const SIZES: [&str; 5] = ["S", "M", "L", "XL", "XXL"];
const COLOURS: [&str; 8] = [
    "hitam", "putih", "merah", "biru", "hijau", "abu-abu", "coklat", "navy",
];
const WEIGHTS: [&str; 5] = ["250 g", "500 g", "1 kg", "2 kg", "5 kg"];

/// 2025-01-01T00:00:00Z.
const EPOCH_2025: i64 = 1_735_689_600;
const DAY: i64 = 86_400;

struct ProductGen {
    rng: Rng,
    words: Zipf,
    merchants: Zipf,
    categories: Zipf,
    brands: Zipf,
}

impl ProductGen {
    fn new(seed: u64) -> ProductGen {
        ProductGen {
            rng: Rng::with_seed(seed),
            words: Zipf::new(vocabulary().len()),
            merchants: Zipf::new(MERCHANTS),
            categories: Zipf::new(TOP_CATEGORIES * SUBCATEGORIES_PER_TOP),
            brands: Zipf::new(BRANDS),
        }
    }

    fn word(&mut self) -> &'static str {
        vocabulary()[self.words.sample(&mut self.rng)]
    }

    /// Product number `n` (1-based) and its variants.
    fn product(&mut self, n: usize) -> Vec<Entity> {
        let id = format!("p-{n:07}");
        let merchant = self.merchants.sample(&mut self.rng);
        let category = self.categories.sample(&mut self.rng);
        let title = self.title();
        let description = self.description();
        let brand = if self.rng.u8(0..100) < 10 {
            None // a C2C seller's unbranded item
        } else {
            Some(brand_name(self.brands.sample(&mut self.rng)))
        };
        let mut attributes = BTreeMap::new();
        if self.rng.bool() {
            attributes.insert(
                "asal".to_owned(),
                CITIES[self.rng.usize(..CITIES.len())].to_owned(),
            );
        }
        if self.rng.u8(0..100) < 30 {
            attributes.insert("bahan".to_owned(), self.word().to_owned());
        }
        let image_urls = (1..=self.rng.usize(1..=3))
            .map(|k| format!("https://img.example.com/synth/{id}/{k}.jpg"))
            .collect();
        let rating = if self.rng.u8(0..100) < 8 {
            RatingSummary::default()
        } else {
            RatingSummary {
                average: Decimal::new(self.rng.i64(30..=50), 1),
                count: self.rng.u32(1..=60) * self.rng.u32(1..=40),
            }
        };
        let created = EPOCH_2025 + self.rng.i64(0..365 * DAY);
        let updated = created + self.rng.i64(0..=180 * DAY);
        let variant_count = self.rng.usize(1..=3);
        let mut out = Vec::with_capacity(1 + variant_count);
        out.push(Entity::Product(Product {
            id: id.clone(),
            merchant_id: format!("m-{:04}", merchant + 1),
            category_id: format!(
                "c-{:02}-{}",
                category / SUBCATEGORIES_PER_TOP + 1,
                category % SUBCATEGORIES_PER_TOP + 1
            ),
            title,
            description,
            brand,
            attributes,
            image_urls,
            rating,
            created_at: timestamp(created),
            updated_at: timestamp(updated),
        }));
        self.variants(n, &id, variant_count, &mut out);
        out
    }

    fn variants(&mut self, n: usize, product_id: &str, count: usize, out: &mut Vec<Entity>) {
        // Triangular over the log-spaced steps: most products cost tens to hundreds of
        // thousands of rupiah, a few millions.
        let steps = PRICE_STEPS.len();
        let step = (self.rng.usize(..steps) + self.rng.usize(..steps)) / 2;
        let base = PRICE_STEPS[step] * self.rng.i64(90..=110) / 100;
        let (key, values): (&str, &[&str]) = match self.rng.u8(0..3) {
            0 => ("ukuran", &SIZES),
            1 => ("warna", &COLOURS),
            _ => ("berat", &WEIGHTS),
        };
        let first = self.rng.usize(..values.len() - count + 1);
        let weight = self.rng.u32(50..=5_000);
        for k in 0..count {
            let price = round_to(base * (100 + 15 * k as i64) / 100, 100)
                .clamp(MIN_PRICE_IDR, MAX_PRICE_IDR);
            let compare_at = (self.rng.u8(0..100) < 20).then(|| {
                let was = round_to(price * self.rng.i64(110..=150) / 100, 1_000).max(price + 1_000);
                idr(was)
            });
            let roll = self.rng.u8(0..100);
            let stock = match roll {
                0..80 => StockBand::InStock,
                80..92 => StockBand::Low,
                _ => StockBand::Out,
            };
            let mut options = BTreeMap::new();
            options.insert(key.to_owned(), values[first + k].to_owned());
            out.push(Entity::Variant(Variant {
                id: format!("v-{n:07}-{}", k + 1),
                product_id: product_id.to_owned(),
                sku: format!("SYN-{n:07}-{}", k + 1),
                options,
                prices: vec![Price {
                    amount: idr(price),
                    compare_at,
                }],
                stock,
                weight_grams: weight + 50 * k as u32,
            }));
        }
    }

    /// 4–8 distinct words in title case.
    fn title(&mut self) -> String {
        let n = self.rng.usize(4..=8);
        let mut words: Vec<&'static str> = Vec::with_capacity(n);
        while words.len() < n {
            let w = self.word();
            if !words.contains(&w) {
                words.push(w);
            }
        }
        let mut title = String::with_capacity(n * 10);
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                title.push(' ');
            }
            push_capitalized(&mut title, w);
        }
        title
    }

    /// 20–40 words in sentences of 5–12 words.
    fn description(&mut self) -> String {
        let n = self.rng.usize(20..=40);
        let mut text = String::with_capacity(n * 10);
        let mut left_in_sentence = 0;
        for i in 0..n {
            let w = self.word();
            if left_in_sentence == 0 {
                if i > 0 {
                    text.push_str(". ");
                }
                left_in_sentence = self.rng.usize(5..=12);
                push_capitalized(&mut text, w);
            } else {
                text.push(' ');
                text.push_str(w);
            }
            left_in_sentence -= 1;
        }
        text.push('.');
        text
    }
}

fn push_capitalized(out: &mut String, word: &str) {
    let mut chars = word.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

fn round_to(amount: i64, step: i64) -> i64 {
    (amount + step / 2) / step * step
}

fn idr(amount: i64) -> Money {
    Money::from_minor_units(amount, Currency::IDR).expect("whole rupiah within range")
}

fn timestamp(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a 2025–2026 timestamp is in range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::EntityKind;
    use std::collections::{HashMap, HashSet};

    const SAMPLE: usize = 20_000;

    fn entities(n: usize, seed: u64) -> impl Iterator<Item = Entity> {
        synthetic_ops(n, seed).map(|op| match op.action {
            CatalogAction::Put { entity } => entity,
            CatalogAction::Remove { .. } => panic!("synthetic ops only PUT"),
        })
    }

    #[test]
    fn vocabulary_is_large_distinct_lowercase_ascii() {
        let vocab = vocabulary();
        assert!(vocab.len() >= 3_000, "{} words", vocab.len());
        let distinct: HashSet<_> = vocab.iter().collect();
        assert_eq!(distinct.len(), vocab.len(), "duplicate words");
        assert!(
            vocab
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        );
        for w in [
            "pembelian",
            "membeli",
            "pengiriman",
            "dikirim",
            "shipping",
            "brewed",
            "phones",
        ] {
            assert!(distinct.contains(&w), "{w} missing");
        }
        assert_eq!(word_at_rank(1), vocab[0]);
        assert_eq!(word_at_rank(vocab.len()), vocab[vocab.len() - 1]);
        // Brand names must not collide with vocabulary words (brands are indexed too).
        for part in BRAND_FIRST.iter().chain(&BRAND_SECOND) {
            assert!(!distinct.contains(&part.to_lowercase().as_str()), "{part}");
        }
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn rank_zero_panics() {
        word_at_rank(0);
    }

    #[test]
    fn zipf_tables_are_integer_and_skewed() {
        let z = Zipf::new(4);
        assert_eq!(
            z.cumulative,
            vec![1_000_000_000, 1_500_000_000, 1_833_333_333, 2_083_333_333]
        );
        let mut rng = Rng::with_seed(7);
        let mut counts = [0u32; 4];
        for _ in 0..10_000 {
            counts[z.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > counts[1] && counts[1] > counts[2] && counts[2] > counts[3]);
    }

    #[test]
    fn same_seed_same_ops_other_seed_other_ops() {
        let a: Vec<_> = synthetic_ops(2_000, 42).collect();
        let b: Vec<_> = synthetic_ops(2_000, 42).collect();
        assert_eq!(a, b);
        let c: Vec<_> = synthetic_ops(2_000, 43).collect();
        assert_ne!(a, c);
        // A longer run starts with the shorter one.
        let longer: Vec<_> = synthetic_ops(2_500, 42).take(a.len()).collect();
        assert_eq!(a, longer);
    }

    #[test]
    fn streams_lazily() {
        // Nothing is generated up front: even an absurd size yields its first ops at once.
        let first: Vec<_> = synthetic_ops(usize::MAX, 1).take(300).collect();
        assert_eq!(first.len(), 300);
        assert_eq!(first[299].op_id, 300);
    }

    #[test]
    fn structure_ids_references_prices_and_stock() {
        let n = 5_000;
        let mut seen: HashSet<(EntityKind, String)> = HashSet::new();
        let mut counts: HashMap<EntityKind, usize> = HashMap::new();
        let mut bands: HashMap<StockBand, usize> = HashMap::new();
        let mut last_product = String::new();
        for (op, expected_op) in synthetic_ops(n, 9).zip(1u64..) {
            assert_eq!(op.op_id, expected_op);
            let CatalogAction::Put { entity } = op.action else {
                panic!("only PUTs")
            };
            match &entity {
                Entity::Merchant(_) | Entity::Voucher(_) => {}
                Entity::Category(c) => {
                    if let Some(p) = &c.parent_id {
                        assert!(seen.contains(&(EntityKind::Category, p.clone())));
                    }
                }
                Entity::Product(p) => {
                    assert!(seen.contains(&(EntityKind::Merchant, p.merchant_id.clone())));
                    assert!(seen.contains(&(EntityKind::Category, p.category_id.clone())));
                    assert_eq!(p.category_id.matches('-').count(), 2, "a leaf category");
                    let words = p.title.split(' ').count();
                    assert!((4..=8).contains(&words), "{}", p.title);
                    let words = p.description.split(' ').count();
                    assert!((20..=40).contains(&words), "{}", p.description);
                    assert!(p.created_at <= p.updated_at);
                    last_product = p.id.clone();
                }
                Entity::Variant(v) => {
                    assert_eq!(v.product_id, last_product, "a variant follows its product");
                    assert_eq!(v.prices.len(), 1);
                    let price = &v.prices[0];
                    assert_eq!(price.amount.currency(), Currency::IDR);
                    let rupiah = price.amount.to_minor_units().unwrap();
                    assert!(
                        (MIN_PRICE_IDR..=MAX_PRICE_IDR).contains(&rupiah),
                        "{rupiah}"
                    );
                    if let Some(was) = &price.compare_at {
                        assert!(was.to_minor_units().unwrap() > rupiah);
                    }
                    *bands.entry(v.stock).or_default() += 1;
                }
            }
            assert!(
                seen.insert((entity.kind(), entity.id().to_owned())),
                "duplicate id"
            );
            *counts.entry(entity.kind()).or_default() += 1;
        }
        assert_eq!(counts[&EntityKind::Merchant], MERCHANTS);
        assert_eq!(
            counts[&EntityKind::Category],
            TOP_CATEGORIES * (1 + SUBCATEGORIES_PER_TOP)
        );
        assert_eq!(counts[&EntityKind::Product], n);
        let variants = counts[&EntityKind::Variant];
        assert!((n..=3 * n).contains(&variants));
        let share = |b| bands.get(&b).copied().unwrap_or(0) * 100 / variants;
        assert!((75..=85).contains(&share(StockBand::InStock)), "{bands:?}");
        assert!((9..=15).contains(&share(StockBand::Low)), "{bands:?}");
        assert!((5..=11).contains(&share(StockBand::Out)), "{bands:?}");
    }

    /// Share of products (percent × 100) whose title or description contains the word of each
    /// rank, over `SAMPLE` products.
    fn document_frequencies(ranks: &[usize]) -> Vec<u64> {
        let rank_of: HashMap<&str, usize> = vocabulary()
            .iter()
            .enumerate()
            .map(|(i, w)| (*w, i + 1))
            .collect();
        let mut docs = vec![0u64; ranks.len()];
        let mut in_doc: Vec<usize> = Vec::with_capacity(64);
        for entity in entities(SAMPLE, 2026) {
            let Entity::Product(p) = entity else { continue };
            in_doc.clear();
            let text = format!("{} {}", p.title, p.description).to_lowercase();
            for token in text.split(|c: char| !c.is_ascii_alphanumeric()) {
                if let Some(&rank) = rank_of.get(token) {
                    in_doc.push(rank);
                }
            }
            in_doc.sort_unstable();
            in_doc.dedup();
            for (slot, rank) in ranks.iter().enumerate() {
                if in_doc.binary_search(rank).is_ok() {
                    docs[slot] += 1;
                }
            }
        }
        docs.iter().map(|d| d * 10_000 / SAMPLE as u64).collect()
    }

    #[test]
    fn zipf_document_frequencies_are_calibrated() {
        let ranks = [1, 2, 3, 4, 5, 100, 150, 200, 250, 300, 1_000, 3_000];
        let df = document_frequencies(&ranks);
        for (rank, bp) in ranks.iter().zip(&df) {
            println!(
                "rank {rank:>5} {:>12}: {}.{:02}% of products",
                word_at_rank(*rank),
                bp / 100,
                bp % 100
            );
        }
        for (rank, &bp) in ranks.iter().zip(&df) {
            match rank {
                1..=5 => assert!(bp >= 2_000, "rank {rank}: {bp} bp"),
                100..=300 => assert!((100..=500).contains(&bp), "rank {rank}: {bp} bp"),
                _ => assert!(bp < 100, "rank {rank}: {bp} bp"),
            }
        }
    }
}
