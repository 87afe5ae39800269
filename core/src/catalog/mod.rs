//! The offline catalog: merchants, a category tree, products, variants with prices per currency
//! and stock bands, vouchers — and full-text search over them that works with no signal.
//!
//! Data enters **only** through [`Catalog::apply`], a batch of [`CatalogOp`]s applied in one
//! transaction (FTS rows included) — the same entry point the sync client uses. Everything else
//! here reads.

mod search;
pub mod stem_id;
pub mod text;

pub use search::{
    CategoryFacet, Facets, PriceBandFacet, SearchHit, SearchPage, SearchQuery, SortOrder,
};

use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::observe::Observers;
use crate::protocol::text::TextKind;
use crate::protocol::{
    CatalogAction, CatalogOp, Category, Contact, Discount, Entity, EntityKind, Merchant,
    MerchantKind, Policies, Price, Product, RatingSummary, StockBand, Variant, Voucher,
};
use crate::store::{Store, meta_set, meta_u64};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use text::Analyzer;
use time::OffsetDateTime;

const META_CURSOR: &str = "catalog_op_id";
const META_HORIZON: &str = "catalog_horizon";

/// What one [`Catalog::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyReport {
    /// Ops written.
    pub applied: usize,
    /// Ops at or below the stored cursor, skipped because they were applied before.
    pub skipped: usize,
    /// The cursor after the batch: the highest op id ever applied.
    pub cursor: u64,
    /// Ops of this batch set aside in quarantine (see [`Quarantined`]); the cursor passed them.
    pub quarantined: usize,
}

/// A catalog entity the phone could not store, set aside instead of failing its checkpoint.
///
/// Reasons: `validate` refused it (bad price, currency pairing, display text, …), a value
/// could not be written (an amount past i64 minor units), its op is a known kind whose fields
/// do not parse, or it referred to something still unresolved at the end of the checkpoint
/// (a variant whose product never arrived, a product whose merchant is quarantined). A
/// quarantined PUT is not written and a dangling one is removed again, so what was shown
/// before of that entity stays only if the bad op did not reach the tables. A later valid PUT
/// of the same kind + id, or a REMOVE, clears the row. Transport failures (checksum,
/// non-increasing op ids) still fail the whole batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub kind: EntityKind,
    pub id: String,
    pub op_id: u64,
    pub reason: String,
}

/// A product with everything its detail page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDetail {
    pub product: Product,
    pub merchant: Merchant,
    /// From the top-level category down to the product's own; empty if it has none.
    pub category_path: Vec<Category>,
    pub variants: Vec<Variant>,
    /// The best band among the variants.
    pub stock: StockBand,
}

/// A category with the number of products in it and all its sub-categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryNode {
    pub category: Category,
    pub product_count: u64,
    pub children: Vec<CategoryNode>,
}

#[derive(Clone, Debug)]
pub struct Catalog {
    store: Arc<Store>,
    observers: Arc<Observers>,
    df_cache: Arc<std::sync::Mutex<search::DfCache>>,
}

impl Catalog {
    pub fn new(store: Arc<Store>) -> Catalog {
        Catalog::with_observers(store, Arc::default())
    }

    /// A catalog that tells `observers` (the cart's) when an apply changed something.
    pub fn with_observers(store: Arc<Store>, observers: Arc<Observers>) -> Catalog {
        Catalog {
            store,
            observers,
            df_cache: Arc::default(),
        }
    }

    /// The highest op id applied so far (0 for an empty catalog): the sync cursor.
    pub fn cursor(&self) -> Result<u64> {
        self.store.read(read_cursor)
    }

    /// Applies a batch of ops in ONE transaction: all of it or none of it.
    ///
    /// Op ids must be strictly increasing within the batch. Ops at or below the stored cursor
    /// were applied before and are skipped, so re-applying a batch is a no-op. Entities are
    /// validated first (a bad price, an unknown currency pairing, a dangling reference) and a
    /// bad one fails the whole batch with a typed error.
    pub fn apply(&self, ops: &[CatalogOp]) -> Result<ApplyReport> {
        check_increasing(ops)?;
        for op in ops {
            if let CatalogAction::Put { entity } = &op.action {
                validate(entity)?;
                storable(entity)?;
            }
        }
        let report = self.store.write(|tx| {
            let mut run = ApplyRun::new(tx, false)?;
            for op in ops {
                run.op(op, None)?;
            }
            run.finish(|_| Ok(None))
        })?;
        if report.applied > 0 {
            self.observers.notify();
        }
        Ok(report)
    }

    /// What sync applies: raw `(op_id, JSON)` ops of one checkpoint in ONE transaction, where
    /// an entity the phone cannot store is quarantined (see [`Quarantined`]) and everything
    /// else is applied. A local import ([`Catalog::apply`]) refuses instead: a bad file is the
    /// user's to fix, while a synced op must never stop the bucket.
    pub fn apply_sync(&self, ops: &[(u64, String)]) -> Result<ApplyReport> {
        for pair in ops.windows(2) {
            if pair[1].0 <= pair[0].0 {
                return Err(Error::InvalidBatch(format!(
                    "op ids must increase: {} follows {}",
                    pair[1].0, pair[0].0
                )));
            }
        }
        let report = self.store.write(|tx| {
            let mut run = ApplyRun::new(tx, true)?;
            for (op_id, body) in ops {
                run.raw(*op_id, body)?;
            }
            run.finish(|id| Ok(ops.iter().find(|(o, _)| *o == id).map(|(_, b)| b.clone())))
        })?;
        if report.applied > 0 || report.quarantined > 0 {
            self.observers.notify();
        }
        Ok(report)
    }

    /// The entities set aside in quarantine, by kind and id.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>> {
        self.store.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT kind, id, op_id, reason FROM catalog_quarantine ORDER BY kind, id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for r in rows {
                let (kind, id, op_id, reason) = r?;
                out.push(Quarantined {
                    kind: kind_from_str(&kind)?,
                    id,
                    op_id: op_id as u64,
                    reason,
                });
            }
            Ok(out)
        })
    }

    /// How many entities are in quarantine.
    pub fn quarantined_count(&self) -> Result<u64> {
        self.store.read(|c| {
            Ok(
                c.query_row("SELECT count(*) FROM catalog_quarantine", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64,
            )
        })
    }

    // -- sync staging ---------------------------------------------------------------------
    //
    // A long pull (an initial sync) arrives in pages. Applying page by page would expose a
    // half-synced catalog and could fail on references: the server keeps only the latest op of
    // each entity, so a variant may come pages before the product it belongs to. Pages are
    // therefore staged (exact JSON text, with the stage cursor, one transaction per page) and
    // the whole checkpoint is applied at once when the last page is in.

    /// Where the staged pull stands: the last staged op id, or `None` when nothing is staged.
    pub fn staged_cursor(&self) -> Result<Option<u64>> {
        self.store.read(|c| {
            Ok(c.query_row("SELECT max(op_id) FROM sync_stage", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .map(|v| v as u64))
        })
    }

    /// Stages one page: `(op_id, JSON text)` pairs in increasing op id, all above the stage and
    /// the catalog cursor. One transaction: a killed process keeps whole pages only.
    pub fn stage(&self, ops: &[(u64, String)]) -> Result<()> {
        self.store.write(|tx| {
            let floor = read_cursor(tx)?.max(tx.query_row(
                "SELECT coalesce(max(op_id), 0) FROM sync_stage",
                [],
                |r| r.get::<_, i64>(0),
            )? as u64);
            let mut last = floor;
            for (op_id, body) in ops {
                if *op_id <= last {
                    return Err(Error::InvalidBatch(format!(
                        "staged op ids must increase: {op_id} follows {last}"
                    )));
                }
                last = *op_id;
                tx.prepare_cached("INSERT INTO sync_stage(op_id, body) VALUES (?1, ?2)")?
                    .execute(params![*op_id as i64, body])?;
            }
            Ok(())
        })
    }

    /// Applies everything staged, in ONE transaction through the same writer as
    /// [`Catalog::apply`], sets the cursor and empties the stage in that transaction. Ops are
    /// read and parsed a chunk at a time, so memory stays flat however large the checkpoint.
    pub fn apply_staged(&self) -> Result<ApplyReport> {
        const CHUNK: i64 = 2000;
        let report = self.store.write(|tx| {
            let mut run = ApplyRun::new(tx, true)?;
            let mut after = 0i64;
            loop {
                let rows: Vec<(i64, String)> = tx
                    .prepare_cached(
                        "SELECT op_id, body FROM sync_stage WHERE op_id > ?1 ORDER BY op_id
                         LIMIT ?2",
                    )?
                    .query_map(params![after, CHUNK], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let Some(last) = rows.last() else { break };
                after = last.0;
                for (op_id, body) in &rows {
                    run.raw(*op_id as u64, body)?;
                }
                run.flush()?;
            }
            let report = run.finish(|id| {
                Ok(tx
                    .prepare_cached("SELECT body FROM sync_stage WHERE op_id = ?1")?
                    .query_row([id as i64], |r| r.get::<_, String>(0))
                    .optional()?)
            })?;
            tx.execute("DELETE FROM sync_stage", [])?;
            Ok(report)
        })?;
        if report.applied > 0 || report.quarantined > 0 {
            self.observers.notify();
        }
        Ok(report)
    }

    /// The server's compaction horizon when this catalog was pulled from 0 (see
    /// `protocol::PullQuery::horizon`).
    pub fn sync_horizon(&self) -> Result<u64> {
        self.store.read(|c| meta_u64(c, META_HORIZON))
    }

    pub fn set_sync_horizon(&self, horizon: u64) -> Result<()> {
        self.store
            .write(|tx| meta_set(tx, META_HORIZON, &horizon.to_string()))
    }

    /// Forgets the whole catalog (the server said `reset`: our cursor is older than its
    /// compaction horizon), the stage and the cursor, in one transaction. Cart lines stay and
    /// show as unavailable until the next sync brings their variants back.
    pub fn reset(&self) -> Result<()> {
        self.store.write(|tx| {
            tx.execute_batch(
                "DELETE FROM sync_stage;
                 DELETE FROM catalog_quarantine;
                 DELETE FROM voucher;
                 DELETE FROM product;
                 DELETE FROM merchant;
                 DELETE FROM category;",
            )?;
            tx.execute(
                "DELETE FROM meta WHERE key IN (?1, ?2)",
                [META_CURSOR, META_HORIZON],
            )?;
            Ok(())
        })?;
        self.observers.notify();
        Ok(())
    }

    /// A product with its merchant, category path and variants.
    pub fn product(&self, id: &str) -> Result<ProductDetail> {
        self.store.read(|c| {
            let product = read_product(c, id)?.ok_or_else(|| Error::UnknownProduct(id.into()))?;
            let merchant = read_merchant(c, &product.merchant_id)?
                .ok_or_else(|| Error::Storage(format!("merchant of {id} missing")))?;
            let category_path = category_path(c, &product.category_id)?;
            let variants = read_variants_of(c, id)?;
            let stock = variants
                .iter()
                .map(|v| v.stock)
                .min_by_key(|s| band_rank(*s))
                .unwrap_or(StockBand::Out);
            Ok(ProductDetail {
                product,
                merchant,
                category_path,
                variants,
                stock,
            })
        })
    }

    pub fn variant(&self, id: &str) -> Result<Variant> {
        self.store
            .read(|c| read_variant(c, id)?.ok_or_else(|| Error::UnknownVariant(id.into())))
    }

    pub fn merchant(&self, id: &str) -> Result<Merchant> {
        self.store
            .read(|c| read_merchant(c, id)?.ok_or_else(|| Error::UnknownMerchant(id.into())))
    }

    pub fn merchants(&self) -> Result<Vec<Merchant>> {
        self.store.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, kind, city, contact, policies FROM merchant ORDER BY name",
            )?;
            let rows = stmt.query_map([], merchant_from_row)?;
            let mut out = Vec::new();
            for r in rows {
                out.push(r??);
            }
            Ok(out)
        })
    }

    /// A voucher by code (case-insensitive).
    pub fn voucher(&self, code: &str) -> Result<Option<Voucher>> {
        self.store.read(|c| read_voucher(c, code))
    }

    pub fn vouchers(&self) -> Result<Vec<Voucher>> {
        self.store.read(|c| {
            let mut stmt = c.prepare_cached("SELECT body FROM voucher ORDER BY code")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for r in rows {
                out.push(serde_json::from_str(&r?)?);
            }
            Ok(out)
        })
    }

    /// The category tree; each node counts the products in it and its sub-categories.
    pub fn categories(&self) -> Result<Vec<CategoryNode>> {
        self.store.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT c.id, c.parent_id, c.name, c.position,
                        (SELECT count(*) FROM product p WHERE p.category_id = c.id)
                 FROM category c ORDER BY c.position, c.name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    Category {
                        id: r.get(0)?,
                        parent_id: r.get(1)?,
                        name: r.get(2)?,
                        position: r.get(3)?,
                    },
                    r.get::<_, i64>(4)? as u64,
                ))
            })?;
            let mut all = Vec::new();
            for r in rows {
                all.push(r?);
            }
            Ok(build_tree(all))
        })
    }

    /// Full-text search and browse; see [`SearchQuery`].
    pub fn search(&self, query: &SearchQuery) -> Result<SearchPage> {
        self.store
            .read(|c| search::search(c, query, search::TUNING, &self.df_cache))
    }

    /// Counts per top-level category and per price band for a query's matches.
    pub fn facets(&self, query: &SearchQuery) -> Result<Facets> {
        self.store.read(|c| search::facets(c, query))
    }
}

fn build_tree(all: Vec<(Category, u64)>) -> Vec<CategoryNode> {
    let mut children: HashMap<Option<String>, Vec<(Category, u64)>> = HashMap::new();
    let ids: BTreeSet<String> = all.iter().map(|(c, _)| c.id.clone()).collect();
    for (c, n) in all {
        // An orphan (parent not synced yet) shows at the top rather than vanishing.
        let parent = c.parent_id.clone().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push((c, n));
    }
    fn build(
        parent: Option<String>,
        children: &mut HashMap<Option<String>, Vec<(Category, u64)>>,
        depth: usize,
    ) -> Vec<CategoryNode> {
        let Some(list) = children.remove(&parent) else {
            return Vec::new();
        };
        list.into_iter()
            .map(|(category, own)| {
                // depth bound: a cycle sent by a broken server cannot recurse forever
                let kids = if depth < 32 {
                    build(Some(category.id.clone()), children, depth + 1)
                } else {
                    Vec::new()
                };
                let product_count = own + kids.iter().map(|k| k.product_count).sum::<u64>();
                CategoryNode {
                    category,
                    product_count,
                    children: kids,
                }
            })
            .collect()
    }
    build(None, &mut children, 0)
}

fn band_rank(b: StockBand) -> u8 {
    match b {
        StockBand::InStock => 0,
        StockBand::Low => 1,
        StockBand::Out => 2,
    }
}

fn invalid(kind: &'static str, id: &str, reason: impl Into<String>) -> Error {
    Error::InvalidEntity {
        kind,
        id: id.to_string(),
        reason: reason.into(),
    }
}

fn check_id(kind: &'static str, id: &str) -> Result<()> {
    if id.trim().is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(invalid(kind, id, "id must be 1–128 printable characters"));
    }
    Ok(())
}

/// Display text a phone must not show: the server's rules (`protocol::text`) in their block
/// form — bidirectional controls, invisible-only or blank required text, control characters
/// other than tab and newline. The one-line layout rule stays the server's input policy, so an
/// older server's title with a newline is still shown. Lengths are the server's business.
fn display(kind: &'static str, id: &str, field: &str, value: &str, required: bool) -> Result<()> {
    crate::protocol::text::check(TextKind::Block, value, usize::MAX, required)
        .map_err(|problem| invalid(kind, id, format!("{field} {problem}")))
}

/// Checks what the schema cannot: money rules, ranges, internal consistency, display text.
fn validate(entity: &Entity) -> Result<()> {
    match entity {
        Entity::Merchant(m) => {
            check_id("merchant", &m.id)?;
            display("merchant", &m.id, "name", &m.name, true)?;
            display("merchant", &m.id, "city", &m.city, false)?;
        }
        Entity::Category(c) => {
            check_id("category", &c.id)?;
            if c.parent_id.as_deref() == Some(c.id.as_str()) {
                return Err(invalid(
                    "category",
                    &c.id,
                    "a category cannot be its own parent",
                ));
            }
            display("category", &c.id, "name", &c.name, true)?;
        }
        Entity::Product(p) => {
            check_id("product", &p.id)?;
            display("product", &p.id, "title", &p.title, true)?;
            display("product", &p.id, "description", &p.description, false)?;
            if let Some(brand) = &p.brand {
                display("product", &p.id, "brand", brand, false)?;
            }
            let avg = p.rating.average;
            if avg < Decimal::ZERO || avg > Decimal::from(5) {
                return Err(invalid(
                    "product",
                    &p.id,
                    "rating average must be within 0..=5",
                ));
            }
        }
        Entity::Variant(v) => {
            check_id("variant", &v.id)?;
            let mut seen = BTreeSet::new();
            for price in &v.prices {
                let cur = price.amount.currency();
                if !seen.insert(cur) {
                    return Err(invalid("variant", &v.id, format!("two prices in {cur}")));
                }
                if price.amount.is_negative() {
                    return Err(invalid("variant", &v.id, "a price cannot be negative"));
                }
                if let Some(cmp) = &price.compare_at
                    && cmp.currency() != cur
                {
                    return Err(invalid(
                        "variant",
                        &v.id,
                        "compare-at price must be in the price's currency",
                    ));
                }
                // The wire range (shared with the server) also guarantees to_minor_units.
                price.amount.check_wire_range()?;
                if let Some(cmp) = &price.compare_at {
                    cmp.check_wire_range()?;
                }
            }
        }
        Entity::Voucher(v) => {
            check_id("voucher", &v.code)?;
            if !v
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(invalid(
                    "voucher",
                    &v.code,
                    "code must be letters, digits, - or _",
                ));
            }
            if v.valid_until <= v.valid_from {
                return Err(invalid("voucher", &v.code, "validity window is empty"));
            }
            let same = |m: &Option<Money>| m.as_ref().is_none_or(|m| m.currency() == v.currency);
            let ok = match &v.discount {
                Discount::Percent { percent, cap } => {
                    if *percent <= Decimal::ZERO || *percent > Decimal::ONE_HUNDRED {
                        return Err(invalid(
                            "voucher",
                            &v.code,
                            "percent must be within (0, 100]",
                        ));
                    }
                    same(cap)
                }
                Discount::Fixed { amount } => {
                    if amount.is_negative() || amount.is_zero() {
                        return Err(invalid("voucher", &v.code, "amount must be positive"));
                    }
                    amount.currency() == v.currency
                }
            };
            if !ok || !same(&v.min_spend) {
                return Err(invalid(
                    "voucher",
                    &v.code,
                    "amounts must be in the voucher's currency",
                ));
            }
        }
    }
    Ok(())
}

fn check_increasing(ops: &[CatalogOp]) -> Result<()> {
    for pair in ops.windows(2) {
        if pair[1].op_id <= pair[0].op_id {
            return Err(Error::InvalidBatch(format!(
                "op ids must increase: {} follows {}",
                pair[1].op_id, pair[0].op_id
            )));
        }
    }
    Ok(())
}

/// The kind and id of what an op touches (a voucher by its upper-cased code).
fn op_key(action: &CatalogAction) -> (EntityKind, String) {
    match action {
        CatalogAction::Put { entity } => match entity {
            Entity::Merchant(m) => (EntityKind::Merchant, m.id.clone()),
            Entity::Category(c) => (EntityKind::Category, c.id.clone()),
            Entity::Product(p) => (EntityKind::Product, p.id.clone()),
            Entity::Variant(v) => (EntityKind::Variant, v.id.clone()),
            Entity::Voucher(v) => (EntityKind::Voucher, v.code.to_ascii_uppercase()),
        },
        CatalogAction::Remove { kind, id } => (
            *kind,
            if *kind == EntityKind::Voucher {
                id.to_ascii_uppercase()
            } else {
                id.clone()
            },
        ),
    }
}

fn kind_name(k: EntityKind) -> &'static str {
    match k {
        EntityKind::Merchant => "merchant",
        EntityKind::Category => "category",
        EntityKind::Product => "product",
        EntityKind::Variant => "variant",
        EntityKind::Voucher => "voucher",
    }
}

fn kind_from_str(s: &str) -> Result<EntityKind> {
    Ok(match s {
        "merchant" => EntityKind::Merchant,
        "category" => EntityKind::Category,
        "product" => EntityKind::Product,
        "variant" => EntityKind::Variant,
        "voucher" => EntityKind::Voucher,
        other => return Err(Error::Storage(format!("unknown quarantined kind {other}"))),
    })
}

/// What the writer would fail on for a validated entity: amounts must fit i64 minor units.
fn storable(entity: &Entity) -> Result<()> {
    if let Entity::Variant(v) = entity {
        for price in &v.prices {
            price.amount.to_minor_units()?;
        }
    }
    Ok(())
}

/// The kind and id of an op whose fields do not parse, read from its JSON as far as it goes.
fn raw_key(body: &str) -> Option<(EntityKind, String)> {
    let action: serde_json::Value = serde_json::from_str(body).ok()?;
    if let Some(e) = action.get("entity") {
        let kind: EntityKind = serde_json::from_value(e.get("type")?.clone()).ok()?;
        let id = match kind {
            EntityKind::Voucher => e.get("code")?.as_str()?.to_ascii_uppercase(),
            _ => e.get("id")?.as_str()?.to_string(),
        };
        return Some((kind, id));
    }
    let kind: EntityKind = serde_json::from_value(action.get("kind")?.clone()).ok()?;
    Some((kind, action.get("id")?.as_str()?.to_string()))
}

/// One apply transaction: skips ops at or below the stored cursor, writes the rest through a
/// [`Writer`] and stores the new cursor when finished. With `quarantine`, an entity that cannot
/// be stored is set aside (see [`Quarantined`]) instead of failing the run.
struct ApplyRun<'t> {
    tx: &'t Transaction<'t>,
    writer: Writer<'t>,
    start: u64,
    report: ApplyReport,
    quarantine: bool,
    /// The quarantined keys when the run began (one query per run, usually empty): only an op
    /// of one of these costs a DELETE.
    held: std::collections::HashSet<(EntityKind, String)>,
}

impl<'t> ApplyRun<'t> {
    fn new(tx: &'t Transaction<'t>, quarantine: bool) -> Result<Self> {
        let cursor = read_cursor(tx)?;
        let mut held = std::collections::HashSet::new();
        let mut stmt = tx.prepare_cached("SELECT kind, id FROM catalog_quarantine")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for r in rows {
            let (k, id) = r?;
            held.insert((kind_from_str(&k)?, id));
        }
        drop(stmt);
        Ok(ApplyRun {
            tx,
            writer: Writer::new(tx),
            start: cursor,
            report: ApplyReport {
                cursor,
                ..ApplyReport::default()
            },
            quarantine,
            held,
        })
    }

    /// Checks the op's place in the sequence: `Ok(false)` when it was applied before.
    fn sequence(&mut self, op_id: u64) -> Result<bool> {
        if op_id <= self.report.cursor {
            if op_id <= self.start {
                self.report.skipped += 1;
                return Ok(false);
            }
            return Err(Error::InvalidBatch(format!(
                "op ids must increase: {} follows {}",
                op_id, self.report.cursor
            )));
        }
        Ok(true)
    }

    /// One raw op of a synced checkpoint: parsed, checked, applied or quarantined.
    fn raw(&mut self, op_id: u64, body: &str) -> Result<()> {
        match serde_json::from_str::<CatalogOp>(body) {
            Ok(op) => {
                if op.op_id != op_id {
                    return Err(Error::InvalidBatch(format!(
                        "op {op_id} carries op id {}",
                        op.op_id
                    )));
                }
                self.op(&op, Some(body))
            }
            Err(e) => {
                let Some(key) = raw_key(body) else {
                    return Err(Error::SyncIntegrity(format!(
                        "op {op_id} is not a catalog op: {e}"
                    )));
                };
                if !self.sequence(op_id)? {
                    return Ok(());
                }
                self.set_aside(key, op_id, &format!("does not parse: {e}"), body)?;
                self.report.cursor = op_id;
                Ok(())
            }
        }
    }

    fn op(&mut self, op: &CatalogOp, body: Option<&str>) -> Result<()> {
        if !self.sequence(op.op_id)? {
            return Ok(());
        }
        if self.quarantine
            && let CatalogAction::Put { entity } = &op.action
            && let Err(e) = validate(entity).and_then(|()| storable(entity))
        {
            let body = match body {
                Some(b) => b.to_string(),
                None => serde_json::to_string(op)?,
            };
            self.set_aside(op_key(&op.action), op.op_id, &e.to_string(), &body)?;
            self.report.cursor = op.op_id;
            return Ok(());
        }
        self.writer.apply(&op.action, op.op_id)?;
        if !self.held.is_empty() {
            let key = op_key(&op.action);
            if self.held.remove(&key) {
                self.tx
                    .prepare_cached("DELETE FROM catalog_quarantine WHERE kind = ?1 AND id = ?2")?
                    .execute(params![kind_name(key.0), key.1])?;
            }
        }
        self.report.applied += 1;
        self.report.cursor = op.op_id;
        Ok(())
    }

    fn set_aside(
        &mut self,
        key: (EntityKind, String),
        op_id: u64,
        reason: &str,
        body: &str,
    ) -> Result<()> {
        quarantine_row(self.tx, &key, op_id, reason, body)?;
        self.held.insert(key);
        self.report.quarantined += 1;
        Ok(())
    }

    /// Writes derived rows (prices per currency, FTS) of what was applied so far.
    fn flush(&mut self) -> Result<()> {
        self.writer.flush()
    }

    /// `body_of` finds the raw JSON of an op of this run (for a dangling reference).
    fn finish(mut self, body_of: impl Fn(u64) -> Result<Option<String>>) -> Result<ApplyReport> {
        if self.quarantine {
            let n = self.writer.quarantine_dangling(&body_of)?;
            self.report.quarantined += n;
            self.report.applied -= n.min(self.report.applied);
        }
        self.writer.finish()?;
        if self.report.cursor != self.start {
            meta_set(self.tx, META_CURSOR, &self.report.cursor.to_string())?;
        }
        Ok(self.report)
    }
}

fn quarantine_row(
    tx: &Transaction<'_>,
    key: &(EntityKind, String),
    op_id: u64,
    reason: &str,
    body: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO catalog_quarantine(kind, id, op_id, reason, body) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(kind, id) DO UPDATE SET op_id = excluded.op_id, reason = excluded.reason,
           body = excluded.body",
    )?
    .execute(params![kind_name(key.0), key.1, op_id as i64, reason, body])?;
    Ok(())
}

fn read_cursor(c: &Connection) -> Result<u64> {
    meta_u64(c, META_CURSOR)
}

pub(crate) fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Applies ops inside one transaction and keeps per-product summaries up to date.
struct Writer<'t> {
    tx: &'t Transaction<'t>,
    analyzer: Analyzer,
    dirty_products: BTreeSet<String>,
    /// Analyzed title, brand and description of the products put in this batch: their FTS
    /// rows are written once each, at the end of the batch.
    analyzed: BTreeMap<i64, [String; 3]>,
    categories_removed: bool,
    /// References to check before commit: (kind of the referenced thing, its id, who refers,
    /// the referrer's kind, the op that wrote the referrer).
    refs: Vec<(&'static str, String, String, EntityKind, u64)>,
    /// The op being applied.
    op_id: u64,
}

impl<'t> Writer<'t> {
    fn new(tx: &'t Transaction<'t>) -> Self {
        Writer {
            tx,
            analyzer: Analyzer::default(),
            dirty_products: BTreeSet::new(),
            analyzed: BTreeMap::new(),
            categories_removed: false,
            refs: Vec::new(),
            op_id: 0,
        }
    }

    fn apply(&mut self, action: &CatalogAction, op_id: u64) -> Result<()> {
        self.op_id = op_id;
        let tx = self.tx;
        match action {
            CatalogAction::Put { entity } => match entity {
                Entity::Merchant(m) => {
                    tx.prepare_cached(
                        "INSERT INTO merchant(id, name, kind, city, contact, policies)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                           city = excluded.city, contact = excluded.contact,
                           policies = excluded.policies",
                    )?
                    .execute(params![
                        m.id,
                        m.name,
                        kind_str(m.kind),
                        m.city,
                        serde_json::to_string(&m.contact)?,
                        serde_json::to_string(&m.policies)?
                    ])?;
                }
                Entity::Category(c) => {
                    tx.prepare_cached(
                        "INSERT INTO category(id, parent_id, name, position) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT(id) DO UPDATE SET parent_id = excluded.parent_id,
                           name = excluded.name, position = excluded.position",
                    )?
                    .execute(params![c.id, c.parent_id, c.name, c.position])?;
                    if let Some(p) = &c.parent_id {
                        self.refs.push((
                            "category",
                            p.clone(),
                            c.id.clone(),
                            EntityKind::Category,
                            op_id,
                        ));
                    }
                }
                Entity::Product(p) => self.put_product(p)?,
                Entity::Variant(v) => self.put_variant(v)?,
                Entity::Voucher(v) => {
                    let code = v.code.to_ascii_uppercase();
                    let mut v = v.clone();
                    v.code = code.clone();
                    tx.prepare_cached(
                        "INSERT INTO voucher(code, body) VALUES (?1, ?2)
                         ON CONFLICT(code) DO UPDATE SET body = excluded.body",
                    )?
                    .execute(params![code, serde_json::to_string(&v)?])?;
                    if let Some(m) = &v.merchant_id {
                        self.refs
                            .push(("merchant", m.clone(), code, EntityKind::Voucher, op_id));
                    }
                }
            },
            CatalogAction::Remove { kind, id } => {
                let sql = match kind {
                    EntityKind::Merchant => "DELETE FROM merchant WHERE id = ?1",
                    EntityKind::Category => {
                        self.categories_removed = true;
                        "DELETE FROM category WHERE id = ?1"
                    }
                    EntityKind::Product => "DELETE FROM product WHERE id = ?1",
                    EntityKind::Variant => {
                        if let Some(pid) = tx
                            .prepare_cached("SELECT product_id FROM variant WHERE id = ?1")?
                            .query_row([id], |r| r.get::<_, String>(0))
                            .optional()?
                        {
                            self.dirty_products.insert(pid);
                        }
                        "DELETE FROM variant WHERE id = ?1"
                    }
                    EntityKind::Voucher => "DELETE FROM voucher WHERE code = upper(?1)",
                };
                // Removing what is already gone is fine: tombstones may be re-sent.
                tx.prepare_cached(sql)?.execute([id])?;
            }
        }
        Ok(())
    }

    fn put_product(&mut self, p: &Product) -> Result<()> {
        let tx = self.tx;
        let pk: i64 = tx
            .prepare_cached(
                "INSERT INTO product(id, merchant_id, category_id, rating_x10, rating_count,
                   created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET merchant_id = excluded.merchant_id,
                   category_id = excluded.category_id, rating_x10 = excluded.rating_x10,
                   rating_count = excluded.rating_count, created_at = excluded.created_at
                 RETURNING pk",
            )?
            .query_row(
                params![
                    p.id,
                    p.merchant_id,
                    p.category_id,
                    rating_x10(p.rating.average),
                    p.rating.count,
                    ms(p.created_at),
                ],
                |r| r.get(0),
            )?;
        tx.prepare_cached(
            "INSERT INTO product_detail(pk, title, description, brand, attributes, image_urls,
               rating_avg, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(pk) DO UPDATE SET title = excluded.title,
               description = excluded.description, brand = excluded.brand,
               attributes = excluded.attributes, image_urls = excluded.image_urls,
               rating_avg = excluded.rating_avg, updated_at = excluded.updated_at",
        )?
        .execute(params![
            pk,
            p.title,
            p.description,
            p.brand,
            serde_json::to_string(&p.attributes)?,
            serde_json::to_string(&p.image_urls)?,
            p.rating.average.normalize().to_string(),
            ms(p.updated_at)
        ])?;
        let analyzed = [
            self.analyzer.index_text(&p.title),
            self.analyzer.index_text(p.brand.as_deref().unwrap_or("")),
            self.analyzer.index_text(&p.description),
        ];
        self.analyzed.insert(pk, analyzed);
        let op_id = self.op_id;
        self.refs.push((
            "merchant",
            p.merchant_id.clone(),
            p.id.clone(),
            EntityKind::Product,
            op_id,
        ));
        self.refs.push((
            "category",
            p.category_id.clone(),
            p.id.clone(),
            EntityKind::Product,
            op_id,
        ));
        self.dirty_products.insert(p.id.clone());
        Ok(())
    }

    fn put_variant(&mut self, v: &Variant) -> Result<()> {
        let tx = self.tx;
        if let Some(old) = tx
            .prepare_cached("SELECT product_id FROM variant WHERE id = ?1")?
            .query_row([&v.id], |r| r.get::<_, String>(0))
            .optional()?
        {
            self.dirty_products.insert(old);
        }
        tx.prepare_cached(
            "INSERT INTO variant(id, product_id, sku, options, stock, weight_grams)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET product_id = excluded.product_id, sku = excluded.sku,
               options = excluded.options, stock = excluded.stock,
               weight_grams = excluded.weight_grams",
        )?
        .execute(params![
            v.id,
            v.product_id,
            v.sku,
            serde_json::to_string(&v.options)?,
            v.stock.as_str(),
            v.weight_grams
        ])?;
        tx.prepare_cached("DELETE FROM variant_price WHERE variant_id = ?1")?
            .execute([&v.id])?;
        let mut ins = tx.prepare_cached(
            "INSERT INTO variant_price(variant_id, currency, amount, amount_minor, compare_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for price in &v.prices {
            ins.execute(params![
                v.id,
                price.amount.currency().code(),
                price.amount.amount().to_string(),
                price.amount.to_minor_units()?,
                price.compare_at.map(|m| m.amount().to_string())
            ])?;
        }
        let op_id = self.op_id;
        self.refs.push((
            "product",
            v.product_id.clone(),
            v.id.clone(),
            EntityKind::Variant,
            op_id,
        ));
        self.dirty_products.insert(v.product_id.clone());
        Ok(())
    }

    /// Recomputes price and stock summaries of touched products, writes the FTS rows, and
    /// checks references.
    /// Sets aside, until none is left, every entity written in this run whose reference is
    /// still unresolved (a variant whose product never came, a product whose merchant is
    /// quarantined — and then that product's variants): its row is deleted and quarantined.
    /// Returns how many. The happy path costs the same lookups [`Writer::finish`] makes.
    fn quarantine_dangling(
        &mut self,
        body_of: &dyn Fn(u64) -> Result<Option<String>>,
    ) -> Result<usize> {
        let tx = self.tx;
        let mut count = 0;
        loop {
            let mut dangling = Vec::new();
            for (i, (kind, id, _, _, _)) in self.refs.iter().enumerate() {
                let sql = match *kind {
                    "merchant" => "SELECT 1 FROM merchant WHERE id = ?1",
                    "category" => "SELECT 1 FROM category WHERE id = ?1",
                    _ => "SELECT 1 FROM product WHERE id = ?1",
                };
                if !exists(tx, sql, id)? {
                    dangling.push(i);
                }
            }
            if dangling.is_empty() {
                // all resolved: finish need not look them up a second time
                self.refs.clear();
                return Ok(count);
            }
            let mut keep = vec![true; self.refs.len()];
            for &i in &dangling {
                keep[i] = false;
            }
            let all = std::mem::take(&mut self.refs);
            let mut gone = Vec::new();
            for (i, r) in all.into_iter().enumerate() {
                if keep[i] {
                    self.refs.push(r);
                } else {
                    gone.push(r);
                }
            }
            let mut done = std::collections::HashSet::new();
            for (kind, id, from, from_kind, op_id) in gone {
                // a product refers twice; a referrer is set aside once
                self.refs.retain(|r| !(r.3 == from_kind && r.2 == from));
                if !done.insert((from_kind, from.clone())) {
                    continue;
                }
                let sql = match from_kind {
                    EntityKind::Category => "DELETE FROM category WHERE id = ?1",
                    EntityKind::Product => "DELETE FROM product WHERE id = ?1",
                    EntityKind::Variant => "DELETE FROM variant WHERE id = ?1",
                    EntityKind::Voucher => "DELETE FROM voucher WHERE code = ?1",
                    EntityKind::Merchant => "DELETE FROM merchant WHERE id = ?1",
                };
                tx.prepare_cached(sql)?.execute([&from])?;
                let body = body_of(op_id)?.unwrap_or_default();
                quarantine_row(
                    tx,
                    &(from_kind, from.clone()),
                    op_id,
                    &format!("refers to unknown {kind} {id}"),
                    &body,
                )?;
                count += 1;
            }
        }
    }

    fn finish(mut self) -> Result<()> {
        let tx = self.tx;
        for (kind, id, from, _, _) in &self.refs {
            let sql = match *kind {
                "merchant" => "SELECT 1 FROM merchant WHERE id = ?1",
                "category" => "SELECT 1 FROM category WHERE id = ?1",
                _ => "SELECT 1 FROM product WHERE id = ?1",
            };
            if !exists(tx, sql, id)? {
                return Err(Error::InvalidBatch(format!(
                    "{from} refers to unknown {kind} {id}"
                )));
            }
        }
        self.flush()?;
        if self.categories_removed {
            // ON DELETE SET NULL cleared `product.category_id`; mirror it in the copies.
            tx.execute(
                "UPDATE product_price SET category_id = NULL WHERE category_id IS NOT NULL
                 AND category_id NOT IN (SELECT id FROM category)",
                [],
            )?;
        }
        Ok(())
    }

    /// Writes the derived rows of the products touched so far (best stock band, prices per
    /// currency, FTS) and forgets them; [`Writer::finish`] calls it, long applies call it
    /// every chunk to keep memory flat.
    fn flush(&mut self) -> Result<()> {
        let tx = self.tx;
        for pid in std::mem::take(&mut self.dirty_products) {
            let Some(pk) = tx
                .prepare_cached("SELECT pk FROM product WHERE id = ?1")?
                .query_row([&pid], |r| r.get::<_, i64>(0))
                .optional()?
            else {
                continue; // removed in this batch
            };
            tx.prepare_cached(
                "UPDATE product SET stock = coalesce((
                    SELECT CASE min(CASE stock WHEN 'in_stock' THEN 0 WHEN 'low' THEN 1 ELSE 2 END)
                           WHEN 0 THEN 'in_stock' WHEN 1 THEN 'low' ELSE 'out' END
                    FROM variant WHERE product_id = ?1), 'out')
                 WHERE pk = ?2",
            )?
            .execute(params![pid, pk])?;
            tx.prepare_cached("DELETE FROM product_price WHERE product_pk = ?1")?
                .execute([pk])?;
            tx.prepare_cached(
                "INSERT INTO product_price(product_pk, currency, min_minor, max_minor,
                   category_id, merchant_id, stock, rating_x10, created_at)
                 SELECT p.pk, vp.currency, min(vp.amount_minor), max(vp.amount_minor),
                   p.category_id, p.merchant_id, p.stock, p.rating_x10, p.created_at
                 FROM product p JOIN variant v ON v.product_id = p.id
                 JOIN variant_price vp ON vp.variant_id = v.id
                 WHERE p.pk = ?1 GROUP BY vp.currency",
            )?
            .execute([pk])?;
        }
        self.write_fts_rows()
    }

    /// Writes the FTS row of every product put in this batch, once each (a product and its
    /// variants usually come in the same batch).
    fn write_fts_rows(&mut self) -> Result<()> {
        let tx = self.tx;
        for (pk, text) in std::mem::take(&mut self.analyzed) {
            if !exists(tx, "SELECT 1 FROM product WHERE pk = ?1", pk)? {
                continue; // removed later in the batch; the delete trigger cleaned the index
            }
            tx.prepare_cached("DELETE FROM product_fts WHERE rowid = ?1")?
                .execute([pk])?;
            tx.prepare_cached(
                "INSERT INTO product_fts(rowid, title, brand, description) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![pk, text[0], text[1], text[2]])?;
        }
        Ok(())
    }
}

/// Whether `sql` (a `SELECT 1 … WHERE key = ?1`) finds a row.
pub(crate) fn exists(c: &Connection, sql: &str, key: impl rusqlite::ToSql) -> Result<bool> {
    Ok(c.prepare_cached(sql)?
        .query_row([key], |_| Ok(()))
        .optional()?
        .is_some())
}

fn kind_str(k: MerchantKind) -> &'static str {
    match k {
        MerchantKind::Shop => "shop",
        MerchantKind::Seller => "seller",
    }
}

fn rating_x10(avg: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    avg.checked_mul(Decimal::TEN)
        .and_then(|x| x.round().to_i64())
        .unwrap_or(0)
}

fn merchant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Merchant>> {
    let id: String = r.get(0)?;
    let name: String = r.get(1)?;
    let kind: String = r.get(2)?;
    let city: String = r.get(3)?;
    let contact: String = r.get(4)?;
    let policies: String = r.get(5)?;
    Ok((|| {
        Ok(Merchant {
            id,
            name,
            kind: if kind == "seller" {
                MerchantKind::Seller
            } else {
                MerchantKind::Shop
            },
            city,
            contact: serde_json::from_str::<Contact>(&contact)?,
            policies: serde_json::from_str::<Policies>(&policies)?,
        })
    })())
}

pub(crate) fn read_merchant(c: &Connection, id: &str) -> Result<Option<Merchant>> {
    c.prepare_cached("SELECT id, name, kind, city, contact, policies FROM merchant WHERE id = ?1")?
        .query_row([id], merchant_from_row)
        .optional()?
        .transpose()
}

fn read_product(c: &Connection, id: &str) -> Result<Option<Product>> {
    let row = c
        .prepare_cached(
            "SELECT p.id, p.merchant_id, coalesce(p.category_id, ''), d.title, d.description,
                    d.brand, d.attributes, d.image_urls, d.rating_avg, p.rating_count,
                    p.created_at, d.updated_at
             FROM product p JOIN product_detail d ON d.pk = p.pk WHERE p.id = ?1",
        )?
        .query_row([id], |r| {
            // The JSON columns are parsed after the row closure (it can only fail with
            // rusqlite's error type).
            let product = Product {
                id: r.get(0)?,
                merchant_id: r.get(1)?,
                category_id: r.get(2)?,
                title: r.get(3)?,
                description: r.get(4)?,
                brand: r.get(5)?,
                attributes: BTreeMap::new(),
                image_urls: Vec::new(),
                rating: RatingSummary {
                    average: r.get::<_, String>(8)?.parse().unwrap_or_default(),
                    count: r.get::<_, i64>(9)?.try_into().unwrap_or(0),
                },
                created_at: from_ms(r.get(10)?),
                updated_at: from_ms(r.get(11)?),
            };
            Ok((product, r.get::<_, String>(6)?, r.get::<_, String>(7)?))
        })
        .optional()?;
    let Some((mut product, attributes, image_urls)) = row else {
        return Ok(None);
    };
    product.attributes = serde_json::from_str(&attributes)?;
    product.image_urls = serde_json::from_str(&image_urls)?;
    Ok(Some(product))
}

fn category_path(c: &Connection, id: &str) -> Result<Vec<Category>> {
    let mut path = Vec::new();
    let mut next = Some(id.to_string());
    while let Some(id) = next.take() {
        if path.len() > 32 || path.iter().any(|p: &Category| p.id == id) {
            break; // a cycle from a broken server
        }
        let cat = c
            .prepare_cached("SELECT id, parent_id, name, position FROM category WHERE id = ?1")?
            .query_row([&id], |r| {
                Ok(Category {
                    id: r.get(0)?,
                    parent_id: r.get(1)?,
                    name: r.get(2)?,
                    position: r.get(3)?,
                })
            })
            .optional()?;
        if let Some(cat) = cat {
            next = cat.parent_id.clone();
            path.push(cat);
        }
    }
    path.reverse();
    Ok(path)
}

fn variant_prices(c: &Connection, variant_id: &str) -> Result<Vec<Price>> {
    let mut stmt = c.prepare_cached(
        "SELECT currency, amount, compare_at FROM variant_price WHERE variant_id = ?1
         ORDER BY currency",
    )?;
    let rows = stmt.query_map([variant_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (cur, amount, cmp) = row?;
        let cur: Currency = cur.parse()?;
        out.push(Price {
            amount: Money::parse(&amount, cur)?,
            compare_at: cmp.map(|a| Money::parse(&a, cur)).transpose()?,
        });
    }
    Ok(out)
}

const VARIANT_COLS: &str = "id, product_id, sku, options, stock, weight_grams";

fn variant_from_row(
    c: &Connection,
    r: (String, String, String, String, String, i64),
) -> Result<Variant> {
    let (id, product_id, sku, options, stock, weight) = r;
    let prices = variant_prices(c, &id)?;
    Ok(Variant {
        prices,
        id,
        product_id,
        sku,
        options: serde_json::from_str(&options)?,
        stock: StockBand::parse(&stock).unwrap_or(StockBand::Out),
        weight_grams: weight.try_into().unwrap_or(0),
    })
}

type VariantRow = (String, String, String, String, String, i64);

fn variant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VariantRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn read_variant(c: &Connection, id: &str) -> Result<Option<Variant>> {
    let row = c
        .prepare_cached(&format!("SELECT {VARIANT_COLS} FROM variant WHERE id = ?1"))?
        .query_row([id], variant_row)
        .optional()?;
    row.map(|r| variant_from_row(c, r)).transpose()
}

fn read_variants_of(c: &Connection, product_id: &str) -> Result<Vec<Variant>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {VARIANT_COLS} FROM variant WHERE product_id = ?1 ORDER BY id"
    ))?;
    let rows: Vec<VariantRow> = stmt
        .query_map([product_id], variant_row)?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|r| variant_from_row(c, r)).collect()
}

pub(crate) fn read_voucher(c: &Connection, code: &str) -> Result<Option<Voucher>> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM voucher WHERE code = upper(?1)")?
        .query_row([code.trim()], |r| r.get(0))
        .optional()?;
    body.map(|b| serde_json::from_str(&b).map_err(Error::from))
        .transpose()
}

#[cfg(test)]
mod tests;
