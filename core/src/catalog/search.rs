//! Search and browse over the local catalog.
//!
//! * Full text through FTS5, ranked by bm25 with title (×10) above brand (×4) above
//!   description (×1). See [`super::text`] for folding, stemming and why user input can never
//!   be FTS syntax.
//! * Filters (category with its sub-categories, merchant, price range, in stock) are plain
//!   SQL on the product's narrow row and its price row, never part of the MATCH. (Filter
//!   tokens inside the MATCH were tried: bm25 then computes an IDF for each token by walking
//!   its posting list — tens of thousands of rows for "in stock" — which made filtered
//!   searches twice as slow as the join.)
//! * The FTS table always drives the join (`CROSS JOIN`), only row ids and sort keys go
//!   through the sorter, and the hit columns are read afterwards for the page's rows only.
//! * Keyset pagination: a page's `next_cursor` carries the last row's tier and sort key; the
//!   next page starts strictly after it, so pages never repeat or skip rows while the data
//!   stands still.
//! * Broad queries: plain bm25 must score every match before it can return the best 20, which
//!   costs tens of milliseconds once a query matches a fifth of 100,000 products. When the
//!   index says a query matches more than [`BROAD_MATCHES`] products, relevance is ranked in
//!   tiers: products whose *title or brand* matches come first, then the others. Title and
//!   brand hits weigh 10 and 4 against the description's 1, so for one word this is the order
//!   bm25 itself gives (a description-only match scores below any title or brand match), and
//!   for several words it puts "all words in the title" first, which is what shoppers mean. When
//!   even the title tier is huge (a word in most titles), its first tier is the
//!   [`TITLE_WINDOW`] most recently added title matches, ranked by bm25, then the older ones:
//!   for such a word bm25 barely tells products apart, and recency is the tie-breaker shops
//!   use. Every matching product is still reachable by paging. Narrow queries use plain bm25.

use super::from_ms;
use super::text::{self, Analyzer, TextQuery};
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::protocol::{RatingSummary, StockBand};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;

/// Above this many estimated matches a relevance query is ranked in tiers (see module docs).
pub const BROAD_MATCHES: u64 = 2_000;
/// The most title matches the first tier of a broad query scores.
pub const TITLE_WINDOW: i64 = 1_000;
/// Page size bounds.
pub const MAX_LIMIT: u32 = 100;
const SNIPPET_WORDS: usize = 14;
const BM25: &str = "bm25(product_fts, 10.0, 4.0, 1.0)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Best match first; with no text, best rated first.
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
    Rating,
}

impl SortOrder {
    fn code(self) -> &'static str {
        match self {
            SortOrder::Relevance => "r",
            SortOrder::PriceAsc => "pa",
            SortOrder::PriceDesc => "pd",
            SortOrder::Newest => "n",
            SortOrder::Rating => "s",
        }
    }
}

/// A search or browse request. Only products priced in `currency` are listed (a shopper can
/// only pay in one currency), and prices come back in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// What the shopper typed; empty browses.
    pub text: String,
    /// Restrict to this category and all its sub-categories.
    pub category_id: Option<String>,
    pub merchant_id: Option<String>,
    pub currency: Currency,
    /// Inclusive bounds on the product's lowest variant price.
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    pub in_stock_only: bool,
    pub sort: SortOrder,
    /// 1..=100.
    pub limit: u32,
    /// `next_cursor` of the previous page of the same query.
    pub cursor: Option<String>,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: String::new(),
            category_id: None,
            merchant_id: None,
            currency: Currency::IDR,
            min_price: None,
            max_price: None,
            in_stock_only: false,
            sort: SortOrder::Relevance,
            limit: 20,
            cursor: None,
        }
    }
}

impl SearchQuery {
    pub fn text(text: impl Into<String>) -> SearchQuery {
        SearchQuery {
            text: text.into(),
            ..SearchQuery::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub product_id: String,
    pub title: String,
    pub brand: Option<String>,
    pub merchant_id: String,
    pub merchant_name: String,
    pub category_id: Option<String>,
    /// Lowest and highest variant price in the query's currency.
    pub price_min: Money,
    pub price_max: Money,
    pub rating: RatingSummary,
    pub stock: StockBand,
    pub image_url: Option<String>,
    /// A few words around the first match, matches wrapped in `**`; `None` when browsing.
    pub snippet: Option<String>,
    pub created_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryFacet {
    pub category_id: String,
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBandFacet {
    pub min: Money,
    /// Exclusive; `None` for the top band.
    pub max: Option<Money>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facets {
    pub total: u64,
    /// Per top-level category, most products first.
    pub categories: Vec<CategoryFacet>,
    /// Fixed bands per currency, cheapest first; empty bands included.
    pub price_bands: Vec<PriceBandFacet>,
}

thread_local! {
    // Forms of words seen by queries and snippets on this thread (bounded inside Analyzer).
    static ANALYZER: RefCell<Analyzer> = RefCell::new(Analyzer::default());
}

fn with_analyzer<T>(f: impl FnOnce(&mut Analyzer) -> T) -> T {
    ANALYZER.with(|a| f(&mut a.borrow_mut()))
}

/// A query, parsed and validated, as SQL pieces.
struct Plan {
    text: Option<TextQuery>,
    /// The user's words as an FTS5 expression, without column filter.
    user_match: Option<String>,
    /// `AND …` conditions on `p` (product) and `pp` (product_price), with their parameters.
    filters: String,
    filter_params: Vec<Value>,
    /// Whether the filters or the sort need the product row (not just the FTS row and price).
    needs_product: bool,
}

/// Which of the text matches a page reads: all, or one tier of a broad query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    /// Title matches, optionally restricted to a row id range (the recency window).
    Title {
        rowid_gt: Option<i64>,
        rowid_le: Option<i64>,
    },
    /// Matches whose title does not match.
    NotTitle,
}

impl Plan {
    /// The MATCH expression for a scope (None when browsing).
    fn match_expr(&self, scope: Scope) -> Option<String> {
        let u = self.user_match.as_ref()?;
        Some(match scope {
            Scope::All => u.clone(),
            Scope::Title { .. } => format!("{{title brand}} : ({u})"),
            Scope::NotTitle => format!("({u}) NOT ({{title brand}} : ({u}))"),
        })
    }

    /// FROM + WHERE for every matching row of `scope`. The FTS table drives the join (CROSS
    /// JOIN fixes the order): left to itself, SQLite may start from a category index and run
    /// the MATCH once per product, a hundred times slower. `index_only`: no join at all (see
    /// [`page_keys`]).
    fn sql_from_where(
        &self,
        currency: Currency,
        scope: Scope,
        with_product: bool,
        index_only: bool,
    ) -> (String, Vec<Value>) {
        let mut params = Vec::new();
        let product = with_product || self.needs_product;
        let mut sql = match self.match_expr(scope) {
            Some(m) if index_only => {
                params.push(Value::Text(m));
                "FROM product_fts WHERE product_fts MATCH ?".to_string()
            }
            Some(m) => {
                params.push(Value::Text(currency.code().into()));
                params.push(Value::Text(m));
                format!(
                    "FROM product_fts CROSS JOIN product_price pp
                       ON pp.product_pk = product_fts.rowid AND pp.currency = ?
                     {} WHERE product_fts MATCH ?",
                    if product {
                        "CROSS JOIN product p ON p.pk = product_fts.rowid"
                    } else {
                        ""
                    }
                )
            }
            None => {
                params.push(Value::Text(currency.code().into()));
                "FROM product p JOIN product_price pp
                   ON pp.product_pk = p.pk AND pp.currency = ? WHERE 1"
                    .to_string()
            }
        };
        if let Scope::Title { rowid_gt, rowid_le } = scope {
            if let Some(r) = rowid_gt {
                sql.push_str(" AND product_fts.rowid > ?");
                params.push(Value::Integer(r));
            }
            if let Some(r) = rowid_le {
                sql.push_str(" AND product_fts.rowid <= ?");
                params.push(Value::Integer(r));
            }
        }
        params.extend(self.filter_params.iter().cloned());
        (format!("{sql}{}", self.filters), params)
    }

    /// The row id column of the driving table.
    fn pk_col(&self) -> &'static str {
        if self.user_match.is_some() {
            "product_fts.rowid"
        } else {
            "p.pk"
        }
    }
}

fn plan(q: &SearchQuery) -> Result<Plan> {
    for m in [&q.min_price, &q.max_price].into_iter().flatten() {
        if m.currency() != q.currency {
            return Err(Error::InvalidQuery(format!(
                "price bound {m} is not in the query currency {}",
                q.currency
            )));
        }
    }
    if let (Some(lo), Some(hi)) = (&q.min_price, &q.max_price)
        && lo.amount() > hi.amount()
    {
        return Err(Error::InvalidQuery("min_price is above max_price".into()));
    }
    let text = with_analyzer(|a| a.query(&q.text));
    let user_match = text.as_ref().map(TextQuery::fts_match);
    let mut filters = String::new();
    let mut filter_params: Vec<Value> = Vec::new();
    // With words, filters read the copies on the price row; browsing reads `product`.
    let (t, needs_product) = if text.is_some() {
        ("pp", false)
    } else {
        ("p", true)
    };
    if let Some(c) = &q.category_id {
        filters.push_str(&format!(
            " AND {t}.category_id IN (WITH RECURSIVE sub(id) AS (SELECT ?
                UNION SELECT c.id FROM category c JOIN sub ON c.parent_id = sub.id)
              SELECT id FROM sub)"
        ));
        filter_params.push(Value::Text(c.clone()));
    }
    if let Some(m) = &q.merchant_id {
        filters.push_str(&format!(" AND {t}.merchant_id = ?"));
        filter_params.push(Value::Text(m.clone()));
    }
    if q.in_stock_only {
        filters.push_str(&format!(" AND {t}.stock <> 'out'"));
    }
    if let Some(lo) = &q.min_price {
        filters.push_str(" AND pp.min_minor >= ?");
        filter_params.push(Value::Integer(lo.to_minor_units()?));
    }
    if let Some(hi) = &q.max_price {
        filters.push_str(" AND pp.min_minor <= ?");
        filter_params.push(Value::Integer(hi.to_minor_units()?));
    }
    Ok(Plan {
        text,
        user_match,
        filters,
        filter_params,
        needs_product,
    })
}

/// Document counts of index terms, valid for one catalog cursor. FTS5 does not store a term's
/// document count: the vocabulary table walks the term's posting list to count it, which for
/// a word in most products costs milliseconds. A shopper types the same prefixes over and
/// over, and the index only changes when the catalog does, so counts are kept until the
/// cursor moves.
#[derive(Debug, Default)]
pub(super) struct DfCache {
    cursor: Option<u64>,
    counts: HashMap<String, u64>,
}

const DF_CACHE_MAX: usize = 10_000;

fn doc_count(
    c: &Connection,
    cache: &Mutex<DfCache>,
    cursor: u64,
    key: &str,
    sql: &str,
    arg: &str,
) -> Result<u64> {
    {
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.cursor != Some(cursor) || cache.counts.len() > DF_CACHE_MAX {
            cache.cursor = Some(cursor);
            cache.counts.clear();
        }
        if let Some(n) = cache.counts.get(key) {
            return Ok(*n);
        }
    }
    let n: i64 = c.prepare_cached(sql)?.query_row([arg], |r| r.get(0))?;
    let n = n.max(0) as u64;
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .counts
        .insert(key.to_string(), n);
    Ok(n)
}

/// Estimated number of products matching `t`, from the index's vocabulary (no row is read):
/// each term's document count (summed over its forms and, while typing, its prefix), combined
/// as if terms were independent (`N × Π dfᵢ/N`), since every term must match.
fn estimate_matches(c: &Connection, t: &TextQuery, cache: &Mutex<DfCache>) -> Result<u64> {
    // max(pk) is O(1) and close enough to the product count for an estimate.
    let n: i64 = c.query_row("SELECT coalesce(max(pk), 0) FROM product", [], |r| r.get(0))?;
    let cursor = super::read_cursor(c)?;
    let n = n.max(1) as u128;
    let mut estimate: u128 = n;
    for term in &t.terms {
        let mut df: u128 = 0;
        for f in &term.forms {
            let d = doc_count(
                c,
                cache,
                cursor,
                &format!("={f}"),
                "SELECT coalesce(sum(doc), 0) FROM product_fts_vocab WHERE term = ?1",
                f,
            )?;
            df = df.saturating_add(d as u128);
        }
        if let Some(p) = &term.prefix {
            let d = doc_count(
                c,
                cache,
                cursor,
                &format!("*{p}"),
                "SELECT coalesce(sum(doc), 0) FROM product_fts_vocab
                 WHERE term >= ?1 AND term < ?1 || char(1114111)",
                p,
            )?;
            df = df.saturating_add(d as u128);
        }
        estimate = estimate.saturating_mul(df.min(n)) / n;
    }
    Ok(estimate.min(u64::MAX as u128) as u64)
}

/// The sort key column(s) and direction for a sort order.
/// With words every key comes from the price row (`pp`); browsing reads `product`, whose
/// indexes serve the sorts.
fn sort_key(sort: SortOrder, has_text: bool) -> (&'static str, bool) {
    match (sort, has_text) {
        (SortOrder::Relevance, true) => (BM25, false),
        (SortOrder::Rating, true) => ("pp.rating_x10", true),
        (SortOrder::Relevance | SortOrder::Rating, false) => ("p.rating_x10", true),
        (SortOrder::PriceAsc, _) => ("pp.min_minor", false),
        (SortOrder::PriceDesc, _) => ("pp.min_minor", true),
        (SortOrder::Newest, true) => ("pp.created_at", true),
        (SortOrder::Newest, false) => ("p.created_at", true),
    }
}

/// A decoded cursor: tier (0 when untiered; see [`search`]), key, pk.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cursor {
    tier: u8,
    key: Key,
    pk: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Int(i64),
    /// bm25 score (a ranking weight, not money: the only float in the core). Kept as its
    /// bits so it round-trips exactly through the cursor text.
    Score(f64),
}

/// Ties the cursor to the query it came from, so a cursor pasted onto another query is refused
/// rather than silently returning a wrong page. FNV-1a: tiny, stable, not a security boundary.
fn fingerprint(q: &SearchQuery) -> u64 {
    let s = format!(
        "{}|{:?}|{:?}|{}|{:?}|{:?}|{}|{}",
        q.text.trim(),
        q.category_id,
        q.merchant_id,
        q.currency,
        q.min_price.map(|m| m.to_string()),
        q.max_price.map(|m| m.to_string()),
        q.in_stock_only,
        q.sort.code()
    );
    text::fnv64(s.as_bytes())
}

fn encode_cursor(q: &SearchQuery, c: Cursor) -> String {
    let key = match c.key {
        Key::Int(i) => format!("i{i}"),
        Key::Score(f) => format!("f{:x}", f.to_bits()),
    };
    format!("{:x}.{}.{}.{}", fingerprint(q), c.tier, key, c.pk)
}

fn decode_cursor(q: &SearchQuery, s: &str) -> Result<Cursor> {
    let bad = || Error::InvalidQuery("cursor is malformed".into());
    let parts: Vec<&str> = s.split('.').collect();
    let [fp, tier, key, pk] = parts.as_slice() else {
        return Err(bad());
    };
    if u64::from_str_radix(fp, 16).map_err(|_| bad())? != fingerprint(q) {
        return Err(Error::InvalidQuery(
            "cursor belongs to another query or sort order".into(),
        ));
    }
    let tier: u8 = tier.parse().map_err(|_| bad())?;
    let key = if let Some(i) = key.strip_prefix('i') {
        Key::Int(i.parse().map_err(|_| bad())?)
    } else if let Some(f) = key.strip_prefix('f') {
        Key::Score(f64::from_bits(
            u64::from_str_radix(f, 16).map_err(|_| bad())?,
        ))
    } else {
        return Err(bad());
    };
    Ok(Cursor {
        tier: tier.min(2),
        key,
        pk: pk.parse().map_err(|_| bad())?,
    })
}

/// One page of one tier: the sort keys and row ids of up to `limit` rows after `after`.
/// Only ids and keys go through the sorter; the hits are read afterwards for the few rows
/// kept (see [`read_hit`]).
fn page_keys(
    c: &Connection,
    q: &SearchQuery,
    plan: &Plan,
    scope: Scope,
    after: Option<Cursor>,
    limit: u32,
) -> Result<Vec<(i64, Key)>> {
    let unfiltered_relevance = plan.user_match.is_some()
        && q.sort == SortOrder::Relevance
        && plan.filters.is_empty()
        && !plan.needs_product;
    if !unfiltered_relevance {
        return page_keys_joined(c, q, plan, scope, after, limit, false);
    }
    // The common case — words, best match first, no filter — ranks on the index alone and
    // joins only the winners: take the best `batch` rows by bm25, keep those priced in the
    // query's currency, and continue after the last one until the page is full. Nearly every
    // product has a price, so one round is the norm.
    let mut out = Vec::with_capacity(limit as usize);
    let mut cursor = after;
    let mut batch = (limit * 2).max(32);
    loop {
        let ranked = page_keys_joined(c, q, plan, scope, cursor, batch, true)?;
        let exhausted = (ranked.len() as u32) < batch;
        for &(pk, key) in &ranked {
            let priced = c
                .prepare_cached(
                    "SELECT 1 FROM product_price WHERE product_pk = ?1 AND currency = ?2",
                )?
                .query_row(params![pk, q.currency.code()], |_| Ok(()))
                .optional()?
                .is_some();
            if priced {
                out.push((pk, key));
                if out.len() as u32 == limit {
                    return Ok(out);
                }
            }
        }
        match ranked.last() {
            Some(&(pk, key)) if !exhausted => {
                cursor = Some(Cursor { tier: 0, key, pk });
                batch = batch.saturating_mul(4);
            }
            _ => return Ok(out),
        }
    }
}

/// [`page_keys`] as one statement over the FTS rows joined with what the filters need.
fn page_keys_joined(
    c: &Connection,
    q: &SearchQuery,
    plan: &Plan,
    scope: Scope,
    after: Option<Cursor>,
    limit: u32,
    index_only: bool,
) -> Result<Vec<(i64, Key)>> {
    let has_text = plan.text.is_some();
    let (key_col, desc) = sort_key(q.sort, has_text);
    let (from_where, mut params) = plan.sql_from_where(q.currency, scope, false, index_only);
    let pk = plan.pk_col();
    let mut sql = format!("SELECT {pk}, {key_col} {from_where}");
    if let Some(cur) = after {
        let op = if desc { "<" } else { ">" };
        sql.push_str(&format!(" AND ({key_col}, {pk}) {op} (?, ?)"));
        params.push(match cur.key {
            Key::Int(i) => Value::Integer(i),
            Key::Score(f) => Value::Real(f),
        });
        params.push(Value::Integer(cur.pk));
    }
    let dir = if desc { "DESC" } else { "ASC" };
    sql.push_str(&format!(" ORDER BY 2 {dir}, 1 {dir} LIMIT ?"));
    params.push(Value::Integer(limit as i64));
    let score = has_text && q.sort == SortOrder::Relevance;
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
        let key = if score {
            Key::Score(r.get::<_, f64>(1)?)
        } else {
            Key::Int(r.get::<_, i64>(1)?)
        };
        Ok((r.get::<_, i64>(0)?, key))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The hit for one product row, and its description (for the snippet).
fn read_hit(c: &Connection, pk: i64, currency: Currency) -> Result<Option<(SearchHit, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT p.id, d.title, d.brand, p.merchant_id, m.name, p.category_id,
                pp.min_minor, pp.max_minor, d.rating_avg, p.rating_count, p.stock,
                json_extract(d.image_urls, '$[0]'), d.description, p.created_at
         FROM product p JOIN product_detail d ON d.pk = p.pk
         JOIN merchant m ON m.id = p.merchant_id
         JOIN product_price pp ON pp.product_pk = p.pk AND pp.currency = ?2
         WHERE p.pk = ?1",
    )?;
    let zero = Money::zero(currency);
    let row = stmt
        .query_row(params![pk, currency.code()], |r| {
            // Prices are converted after the row closure (it can only fail with rusqlite's
            // error type).
            let hit = SearchHit {
                product_id: r.get(0)?,
                title: r.get(1)?,
                brand: r.get(2)?,
                merchant_id: r.get(3)?,
                merchant_name: r.get(4)?,
                category_id: r.get(5)?,
                price_min: zero,
                price_max: zero,
                rating: RatingSummary {
                    average: r.get::<_, String>(8)?.parse().unwrap_or_default(),
                    count: r.get::<_, i64>(9)?.try_into().unwrap_or(0),
                },
                stock: StockBand::parse(&r.get::<_, String>(10)?).unwrap_or(StockBand::Out),
                image_url: r.get(11)?,
                snippet: None,
                created_at: from_ms(r.get(13)?),
            };
            let description: String = r.get(12)?;
            Ok((hit, r.get::<_, i64>(6)?, r.get::<_, i64>(7)?, description))
        })
        .optional()?;
    let Some((mut hit, lo, hi, description)) = row else {
        return Ok(None);
    };
    hit.price_min = Money::from_minor_units(lo, currency)?;
    hit.price_max = Money::from_minor_units(hi, currency)?;
    Ok(Some((hit, description)))
}

/// The thresholds of the broad-query strategy (constants in production; small in tests).
#[derive(Debug, Clone, Copy)]
pub(super) struct Tuning {
    pub broad_matches: u64,
    pub title_window: i64,
}

pub(super) const TUNING: Tuning = Tuning {
    broad_matches: BROAD_MATCHES,
    title_window: TITLE_WINDOW,
};

/// A filter naming a category or merchant that does not exist is a mistake to report, not a
/// query with no results.
fn check_filter_ids(c: &Connection, q: &SearchQuery) -> Result<()> {
    if let Some(id) = &q.category_id
        && !super::exists(c, "SELECT 1 FROM category WHERE id = ?1", id)?
    {
        return Err(Error::UnknownCategory(id.clone()));
    }
    if let Some(id) = &q.merchant_id
        && !super::exists(c, "SELECT 1 FROM merchant WHERE id = ?1", id)?
    {
        return Err(Error::UnknownMerchant(id.clone()));
    }
    Ok(())
}

pub(super) fn search(
    c: &Connection,
    q: &SearchQuery,
    tuning: Tuning,
    df_cache: &Mutex<DfCache>,
) -> Result<SearchPage> {
    if q.limit == 0 || q.limit > MAX_LIMIT {
        return Err(Error::InvalidQuery(format!(
            "limit must be within 1..={MAX_LIMIT}, got {}",
            q.limit
        )));
    }
    check_filter_ids(c, q)?;
    let after = q
        .cursor
        .as_deref()
        .map(|s| decode_cursor(q, s))
        .transpose()?;
    let plan = plan(q)?;
    // The tiers this query is read in, in order (see the module docs).
    let tiers: Vec<(u8, Scope)> = match &plan.text {
        // With filters the title tier fills a page less often (and then the rest is read
        // too), so tiering pays off only for larger sets.
        Some(t)
            if q.sort == SortOrder::Relevance
                && estimate_matches(c, t, df_cache)?
                    > tuning.broad_matches * if plan.filters.is_empty() { 1 } else { 4 } =>
        {
            let title = plan
                .match_expr(Scope::Title {
                    rowid_gt: None,
                    rowid_le: None,
                })
                .unwrap_or_default();
            // The row id below the newest TITLE_WINDOW title matches, if there are more.
            let edge: Option<i64> = c
                .prepare_cached(
                    "SELECT rowid FROM product_fts WHERE product_fts MATCH ?1
                     ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
                )?
                .query_row(params![title, tuning.title_window], |r| r.get(0))
                .optional()?;
            let mut tiers = vec![(
                0,
                Scope::Title {
                    rowid_gt: edge,
                    rowid_le: None,
                },
            )];
            if edge.is_some() {
                tiers.push((
                    1,
                    Scope::Title {
                        rowid_gt: None,
                        rowid_le: edge,
                    },
                ));
            }
            tiers.push((2, Scope::NotTitle));
            tiers
        }
        _ => vec![(0, Scope::All)],
    };
    // One extra row tells whether there is a next page.
    let want = q.limit + 1;
    let mut keys: Vec<(u8, i64, Key)> = Vec::new();
    for (tier, scope) in tiers {
        let from = match after {
            Some(a) if a.tier > tier => continue, // already read
            Some(a) if a.tier == tier => Some(a),
            _ => None,
        };
        let more = want - keys.len() as u32;
        for (pk, k) in page_keys(c, q, &plan, scope, from, more)? {
            keys.push((tier, pk, k));
        }
        if keys.len() as u32 >= want {
            break;
        }
    }
    let next_cursor = if keys.len() as u32 > q.limit {
        keys.truncate(q.limit as usize);
        keys.last()
            .map(|&(tier, pk, key)| encode_cursor(q, Cursor { tier, key, pk }))
    } else {
        None
    };
    let mut hits = Vec::with_capacity(keys.len());
    for (_, pk, _) in keys {
        let Some((mut hit, description)) = read_hit(c, pk, q.currency)? else {
            continue; // unreachable within one read transaction
        };
        if let Some(t) = &plan.text {
            hit.snippet = with_analyzer(|a| {
                text::snippet(a, t, &description, SNIPPET_WORDS)
                    .or_else(|| text::snippet(a, t, &hit.title, SNIPPET_WORDS))
            });
        }
        hits.push(hit);
    }
    Ok(SearchPage { hits, next_cursor })
}

/// Band edges in major units per currency: [0, e1), [e1, e2), … [eN, ∞).
fn band_edges(cur: Currency) -> [i64; 4] {
    match cur {
        Currency::IDR => [50_000, 200_000, 1_000_000, 5_000_000],
        Currency::JPY => [500, 2_000, 10_000, 50_000],
        Currency::MYR => [20, 80, 400, 2_000],
        Currency::USD | Currency::SGD | Currency::EUR => [5, 20, 100, 500],
    }
}

pub(super) fn facets(c: &Connection, q: &SearchQuery) -> Result<Facets> {
    check_filter_ids(c, q)?;
    let p = plan(q)?;
    let (from_where, plan_params) = p.sql_from_where(q.currency, Scope::All, true, false);
    let total: i64 = c
        .prepare_cached(&format!("SELECT count(*) {from_where}"))?
        .query_row(rusqlite::params_from_iter(plan_params.iter()), |r| r.get(0))?;

    let sql = format!(
        "WITH RECURSIVE root(id, top) AS (
            SELECT id, id FROM category WHERE parent_id IS NULL
            UNION SELECT c.id, root.top FROM category c JOIN root ON c.parent_id = root.id)
         SELECT root.top, tc.name, count(*) AS n
         FROM (SELECT p.category_id AS cid {from_where}) hits
         JOIN root ON root.id = hits.cid JOIN category tc ON tc.id = root.top
         GROUP BY root.top ORDER BY n DESC, tc.name"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let categories = stmt
        .query_map(rusqlite::params_from_iter(plan_params.iter()), |r| {
            Ok(CategoryFacet {
                category_id: r.get(0)?,
                name: r.get(1)?,
                count: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let edges = band_edges(q.currency);
    let mut minor_edges = Vec::with_capacity(edges.len());
    for e in edges {
        minor_edges.push(Money::new(e.into(), q.currency)?.to_minor_units()?);
    }
    let sql = format!(
        "SELECT CASE WHEN pp.min_minor < ? THEN 0 WHEN pp.min_minor < ? THEN 1
                     WHEN pp.min_minor < ? THEN 2 WHEN pp.min_minor < ? THEN 3 ELSE 4 END AS band,
                count(*) {from_where} GROUP BY band"
    );
    // The band edges come first in the statement text, then the plan's parameters.
    let mut params: Vec<Value> = minor_edges.iter().map(|e| Value::Integer(*e)).collect();
    params.extend(plan_params.iter().cloned());
    let mut counts = [0u64; 5];
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (band, n) = row?;
        if let Some(slot) = counts.get_mut(band as usize) {
            *slot = n as u64;
        }
    }
    let mut price_bands = Vec::with_capacity(5);
    let mut lo = Money::zero(q.currency);
    for (i, count) in counts.iter().enumerate() {
        let hi = match minor_edges.get(i) {
            Some(e) => Some(Money::from_minor_units(*e, q.currency)?),
            None => None,
        };
        price_bands.push(PriceBandFacet {
            min: lo,
            max: hi,
            count: *count,
        });
        if let Some(h) = hi {
            lo = h;
        }
    }
    Ok(Facets {
        total: total as u64,
        categories,
        price_bands,
    })
}
