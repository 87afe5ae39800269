//! `cargo bench -p warung-core --bench catalog`
//!
//! Builds a 100k-product store from the synthetic generator through `Catalog::apply`, then the
//! same rows with plain SQL on the same schema (the floor), and times a fixed mixed query set
//! through `Catalog::search` and as hand-written SQL on the same store. Last line:
//! `catalog: products=… import_per_s=… raw_insert_per_s=… search_p50_us=… search_p95_us=…
//!  search_p99_us=… raw_fts_p95_us=… search_ratio=… broad_first_page_us=… rss_mb=…`
//!
//! `WARUNG_BENCH_PRODUCTS` overrides the product count (for a quick run). Run by `cargo test
//! --all-targets` (no `--bench` argument) it does a 3,000-product smoke run.

use rusqlite::{Connection, params};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use warung_core::catalog::{Catalog, SearchQuery, SortOrder};
use warung_core::money::{Currency, Money};
use warung_core::protocol::{CatalogAction, CatalogOp, Entity};
use warung_core::store::Store;
use warung_core::synth;

const BATCH: usize = 1_000;
const SEED: u64 = 42;

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and then this is a
    // quick smoke run that keeps the benchmark compiling and working.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let products: usize = std::env::var("WARUNG_BENCH_PRODUCTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke { 3_000 } else { 100_000 });
    let dir = tempfile::tempdir().expect("temp dir");
    // WARUNG_BENCH_KEEP=1 keeps the built store for inspection.
    let dir_path = if std::env::var_os("WARUNG_BENCH_KEEP").is_some() {
        let kept = dir.keep();
        eprintln!("keeping {}", kept.display());
        kept
    } else {
        dir.path().to_path_buf()
    };
    let dir = &dir_path;

    // 1. Import through the public entry point, in sync-sized batches.
    let store = Arc::new(Store::open(dir.join("apply.db")).expect("open"));
    let catalog = Catalog::new(store.clone());
    let started = Instant::now();
    let mut batch: Vec<CatalogOp> = Vec::with_capacity(BATCH);
    for op in synth::synthetic_ops(products, SEED) {
        batch.push(op);
        if batch.len() == BATCH {
            catalog.apply(&batch).expect("apply");
            batch.clear();
        }
    }
    catalog.apply(&batch).expect("apply");
    let import_s = started.elapsed().as_secs_f64();
    let import_per_s = products as f64 / import_s;
    eprintln!("import: {products} products in {import_s:.2} s");

    // 2. The same rows with plain SQL on the same schema: the floor.
    let raw_path = dir.join("raw.db");
    drop(Store::open(&raw_path).expect("schema"));
    let raw_insert_s = raw_insert(&raw_path, products);
    let raw_insert_per_s = products as f64 / raw_insert_s;
    eprintln!("raw insert: {raw_insert_s:.2} s");
    let _ = std::fs::remove_file(&raw_path);

    // 3. Query words chosen by how many products they match (from the index vocabulary).
    let conn = Connection::open(dir.join("apply.db")).expect("open");
    let n = products as i64;
    let common = words_with_df(&conn, n / 100, n / 20, 40); // 1–5 % of the catalog
    // ≥ 20 %: the least frequent such word, a realistic broad query ("kopi" in a coffee shop),
    // not the generator's near-stopwords that match almost everything.
    let mut broad = words_with_df(&conn, n / 5, n, usize::MAX);
    broad.reverse();
    assert!(
        common.len() >= 10,
        "generator too uniform: {} common words",
        common.len()
    );
    let broad = broad
        .first()
        .cloned()
        .expect("a word matching ≥ 20 % of products");
    let cats: Vec<String> = conn
        .prepare("SELECT id FROM category WHERE parent_id IS NULL ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("categories");

    let queries = query_set(&common, &cats);
    // Warm-up: page cache and statement caches, as in an app that has been used.
    for q in &queries {
        catalog.search(&q.api).expect("search");
        raw_search(&conn, q);
    }
    let mut api = Vec::new();
    let mut raw = Vec::new();
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    for _ in 0..5 {
        for q in &queries {
            let t = Instant::now();
            let page = catalog.search(&q.api).expect("search");
            api.push(t.elapsed());
            slowest.push((t.elapsed(), format!("{:?} {:?}", q.api.text, q.api.sort)));
            std::hint::black_box(page);
            let t = Instant::now();
            std::hint::black_box(raw_search(&conn, q));
            raw.push(t.elapsed());
        }
    }
    // Per query class (the set cycles through 5 classes), for diagnosis.
    for (i, class) in ["one word", "two words", "prefix", "filtered", "sorted"]
        .iter()
        .enumerate()
    {
        let mut a: Vec<Duration> = api.iter().skip(i).step_by(5).copied().collect();
        let mut r: Vec<Duration> = raw.iter().skip(i).step_by(5).copied().collect();
        a.sort();
        r.sort();
        eprintln!(
            "  {class:<10} search p50 {:>7} us p95 {:>7} us | raw p50 {:>7} us p95 {:>7} us",
            pct(&a, 50).as_micros(),
            pct(&a, 95).as_micros(),
            pct(&r, 50).as_micros(),
            pct(&r, 95).as_micros()
        );
    }
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (d, q) in slowest.iter().take(12).step_by(2) {
        eprintln!("  slow: {:>7} us {q}", d.as_micros());
    }
    api.sort();
    raw.sort();
    let (p50, p95, p99) = (pct(&api, 50), pct(&api, 95), pct(&api, 99));
    let raw_p95 = pct(&raw, 95);

    // 4. A broad query's first page.
    let broad_q = SearchQuery::text(format!("{broad} "));
    let matched: i64 = conn
        .query_row(
            "SELECT count(*) FROM product_fts WHERE product_fts MATCH ?1",
            [format!("\"{broad}\"")],
            |r| r.get(0),
        )
        .expect("count");
    let mut broad_t = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        let page = catalog.search(&broad_q).expect("broad search");
        broad_t.push(t.elapsed());
        assert_eq!(page.hits.len(), 20);
    }
    broad_t.sort();
    eprintln!(
        "broad word {broad:?} matches {matched} products ({:.0} %)",
        matched as f64 * 100.0 / n as f64
    );

    let rss_mb = peak_rss_mb();
    println!(
        "catalog: products={products} import_per_s={import_per_s:.0} raw_insert_per_s={raw_insert_per_s:.0} \
         search_p50_us={} search_p95_us={} search_p99_us={} raw_fts_p95_us={} search_ratio={:.2} \
         broad_first_page_us={} rss_mb={rss_mb:.1}",
        p50.as_micros(),
        p95.as_micros(),
        p99.as_micros(),
        raw_p95.as_micros(),
        p95.as_secs_f64() / raw_p95.as_secs_f64(),
        pct(&broad_t, 50).as_micros(),
    );
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    let i = ((sorted.len() * p).div_ceil(100)).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)]
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Plain words (no digits) whose document frequency is within [lo, hi], most frequent first.
fn words_with_df(c: &Connection, lo: i64, hi: i64, max: usize) -> Vec<String> {
    let mut stmt = c
        .prepare(
            "SELECT term FROM product_fts_vocab WHERE doc BETWEEN ?1 AND ?2
             AND length(term) >= 4 ORDER BY doc DESC",
        )
        .expect("vocab");
    let words: Vec<String> = stmt
        .query_map(params![lo, hi], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .expect("vocab rows");
    words
        .into_iter()
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        .take(max)
        .collect()
}

struct BenchQuery {
    api: SearchQuery,
    /// The equivalent FTS MATCH (or none for browse) and SQL filters.
    raw_match: String,
    raw_filter: String,
    raw_order: &'static str,
}

/// A fixed mix: one word, two words, prefix, filtered, sorted — 8 of each.
fn query_set(words: &[String], cats: &[String]) -> Vec<BenchQuery> {
    let mut out = Vec::new();
    let w = |i: usize| words[i % words.len()].clone();
    let bm25 = "bm25(product_fts, 10.0, 4.0, 1.0)";
    for i in 0..8 {
        out.push(BenchQuery {
            api: SearchQuery::text(format!("{} ", w(i))),
            raw_match: format!("\"{}\"", w(i)),
            raw_filter: String::new(),
            raw_order: bm25,
        });
        out.push(BenchQuery {
            api: SearchQuery::text(format!("{} {} ", w(i), w(i + 7))),
            raw_match: format!("\"{}\" AND \"{}\"", w(i), w(i + 7)),
            raw_filter: String::new(),
            raw_order: bm25,
        });
        let prefix: String = w(i + 3).chars().take(4).collect();
        out.push(BenchQuery {
            api: SearchQuery::text(prefix.clone()),
            raw_match: format!("\"{prefix}\"*"),
            raw_filter: String::new(),
            raw_order: bm25,
        });
        let cat = &cats[i % cats.len()];
        out.push(BenchQuery {
            api: SearchQuery {
                category_id: Some(cat.clone()),
                min_price: Some(Money::new(50_000.into(), Currency::IDR).expect("money")),
                max_price: Some(Money::new(2_000_000.into(), Currency::IDR).expect("money")),
                in_stock_only: true,
                ..SearchQuery::text(format!("{} ", w(i + 1)))
            },
            raw_match: format!("\"{}\"", w(i + 1)),
            raw_filter: format!(
                " AND p.category_id IN (SELECT id FROM category WHERE id = '{cat}' OR parent_id = '{cat}')
                  AND pp.min_minor BETWEEN 50000 AND 2000000 AND p.stock <> 'out'"
            ),
            raw_order: bm25,
        });
        out.push(BenchQuery {
            api: SearchQuery {
                sort: SortOrder::PriceAsc,
                ..SearchQuery::text(format!("{} ", w(i + 2)))
            },
            raw_match: format!("\"{}\"", w(i + 2)),
            raw_filter: String::new(),
            raw_order: "pp.min_minor, p.pk",
        });
    }
    out
}

/// The same query as one hand-written SQL statement returning the hit columns, with the
/// join order a careful SQL author would force (FTS first); no stemming, snippet or cursor.
fn raw_search(c: &Connection, q: &BenchQuery) -> Vec<(String, String, i64)> {
    let sql = format!(
        "SELECT p.id, d.title, pp.min_minor, m.name, d.description FROM product_fts
         CROSS JOIN product p ON p.pk = product_fts.rowid
         CROSS JOIN product_detail d ON d.pk = p.pk
         CROSS JOIN product_price pp ON pp.product_pk = p.pk AND pp.currency = 'IDR'
         CROSS JOIN merchant m ON m.id = p.merchant_id
         WHERE product_fts MATCH ?1 {} ORDER BY {} LIMIT 21",
        q.raw_filter, q.raw_order
    );
    let mut stmt = c.prepare_cached(&sql).expect("raw sql");
    stmt.query_map([&q.raw_match], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .and_then(|rows| rows.collect())
        .expect("raw rows")
}

/// Inserts the generator's rows with plain prepared statements (the floor for `apply`):
/// no validation, no stemming, FTS gets the raw text.
fn raw_insert(path: &std::path::Path, products: usize) -> f64 {
    let mut c = Connection::open(path).expect("open raw");
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .expect("pragmas");
    let started = Instant::now();
    let mut ops = synth::synthetic_ops(products, SEED).peekable();
    while ops.peek().is_some() {
        let tx = c.transaction().expect("tx");
        let mut touched: BTreeSet<String> = BTreeSet::new();
        for op in ops.by_ref().take(BATCH) {
            let CatalogAction::Put { entity } = op.action else {
                continue;
            };
            match entity {
                Entity::Merchant(m) => {
                    tx.prepare_cached(
                        "INSERT INTO merchant(id, name, kind, city, contact, policies) VALUES (?1, ?2, 'shop', ?3, '{}', '{}')",
                    )
                    .and_then(|mut s| s.execute(params![m.id, m.name, m.city]))
                    .expect("merchant");
                }
                Entity::Category(cat) => {
                    tx.prepare_cached(
                        "INSERT INTO category(id, parent_id, name) VALUES (?1, ?2, ?3)",
                    )
                    .and_then(|mut s| s.execute(params![cat.id, cat.parent_id, cat.name]))
                    .expect("category");
                }
                Entity::Product(p) => {
                    let pk: i64 = tx
                        .prepare_cached(
                            "INSERT INTO product(id, merchant_id, category_id, rating_x10, rating_count, created_at)
                             VALUES (?1, ?2, ?3, 40, ?4, 0) RETURNING pk",
                        )
                        .and_then(|mut s| {
                            s.query_row(params![p.id, p.merchant_id, p.category_id, p.rating.count], |r| r.get(0))
                        })
                        .expect("product");
                    tx.prepare_cached(
                        "INSERT INTO product_detail(pk, title, description, brand, attributes, image_urls, rating_avg, updated_at)
                         VALUES (?1, ?2, ?3, ?4, '{}', '[]', ?5, 0)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![pk, p.title, p.description, p.brand, p.rating.average.to_string()])
                    })
                    .expect("product detail");
                    tx.prepare_cached("INSERT INTO product_fts(rowid, title, brand, description) VALUES (?1, ?2, ?3, ?4)")
                        .and_then(|mut s| s.execute(params![pk, p.title, p.brand, p.description]))
                        .expect("fts");
                }
                Entity::Variant(v) => {
                    tx.prepare_cached(
                        "INSERT INTO variant(id, product_id, sku, options, stock, weight_grams) VALUES (?1, ?2, ?3, '{}', ?4, ?5)",
                    )
                    .and_then(|mut s| s.execute(params![v.id, v.product_id, v.sku, v.stock.as_str(), v.weight_grams]))
                    .expect("variant");
                    for price in &v.prices {
                        tx.prepare_cached(
                            "INSERT INTO variant_price(variant_id, currency, amount, amount_minor) VALUES (?1, ?2, ?3, ?4)",
                        )
                        .and_then(|mut s| {
                            s.execute(params![
                                v.id,
                                price.amount.currency().code(),
                                price.amount.amount().to_string(),
                                price.amount.to_minor_units().expect("minor")
                            ])
                        })
                        .expect("price");
                    }
                    touched.insert(v.product_id);
                }
                Entity::Voucher(_) => {}
            }
        }
        for pid in &touched {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO product_price(product_pk, currency, min_minor, max_minor,
                   category_id, merchant_id, stock, rating_x10, created_at)
                 SELECT p.pk, vp.currency, min(vp.amount_minor), max(vp.amount_minor),
                   p.category_id, p.merchant_id, p.stock, p.rating_x10, p.created_at
                 FROM product p JOIN variant v ON v.product_id = p.id JOIN variant_price vp ON vp.variant_id = v.id
                 WHERE p.id = ?1 GROUP BY vp.currency",
            )
            .and_then(|mut s| s.execute([pid]))
            .expect("summary");
        }
        tx.commit().expect("commit");
    }
    started.elapsed().as_secs_f64()
}
