//! The SQLite backend: the embedded default. It implements every capability trait of
//! [`crate::store`] by running the shared rules ([`crate::store::rules`]) over [`SqlTx`], its
//! implementation of the rules' transaction contexts (one file per domain: `catalog.rs`,
//! `oplog.rs`, `sync.rs`, `identity.rs`).
//!
//! * Schema: `server/migrations/*.sql`, applied in order by `PRAGMA user_version`.
//! * Connections: WAL (readers never block the writer), foreign keys on, `synchronous=FULL`
//!   (group commit pays for the fsync), a busy timeout for the admin CLI writing next to a
//!   running server.
//! * Writes: one writer thread with group commit (`writer.rs`); each operation is one job, one
//!   savepoint of the group's `BEGIN IMMEDIATE` transaction.
//! * Reads: a small pool of read connections used from `spawn_blocking`, each read in one
//!   read transaction (a consistent snapshot).
//! * Locks: [`Transaction::lock`] is a no-op, and that is correct: every write runs on the
//!   single writer thread, one job after the other, inside a `BEGIN IMMEDIATE` transaction that
//!   holds the database's write lock against other processes (the admin CLI) until it
//!   commits. No other transaction can run between a rule's read and its write, whatever the
//!   key. Reads take no locks and need none.
//! * Errors: `rusqlite` errors become [`StoreError::Internal`] here (`db_error`); no SQLite
//!   type leaves this module.

mod catalog;
pub mod export;
mod identity;
mod oplog;
mod sync;
mod writer;

pub use writer::WriterStats;

use crate::store::rules::{self, LockKey, Transaction};
use crate::store::*;
use rusqlite::types::{FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Params, Row};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use warung_core::protocol::{
    CatalogOp, Category, DeviceRegistration, Intent, Merchant, MerchantAccount, MerchantKind,
    MerchantProduct, MerchantProfile, MerchantVariant, PricesUpdate, ProductInput, ProductList,
    RegisterDevice, VariantInput,
};
use writer::Writer;

/// The migrations, in order; migration `i` brings the schema to `user_version = i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_init.sql"),
    include_str!("../../../migrations/0002_identity.sql"),
    include_str!("../../../migrations/0003_otp_send_limits.sql"),
];

/// The schema version this server migrates a database to.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

const READERS: usize = 4;

/// A SQLite error as a store error (a broken database or a bug: constraints the rules rely on
/// are never expected to fail).
fn db_error(e: rusqlite::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// The rules' transaction contexts on one SQLite connection: the writer's (inside its
/// savepoint) or a pooled reader's (inside a read transaction).
pub(crate) struct SqlTx<'c> {
    conn: &'c Connection,
}

impl<'c> SqlTx<'c> {
    fn new(conn: &'c Connection) -> SqlTx<'c> {
        SqlTx { conn }
    }

    /// Runs queries on the connection, mapping their error.
    fn run<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        f(self.conn).map_err(db_error)
    }

    /// Runs one (cached) statement; returns how many rows it changed.
    fn exec(&self, sql: &str, params: impl Params) -> Result<usize, StoreError> {
        self.run(|c| c.prepare_cached(sql)?.execute(params))
    }

    /// The first row of a (cached) query, if any.
    fn row<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        self.run(|c| c.prepare_cached(sql)?.query_row(params, map).optional())
    }

    /// Every row of a (cached) query.
    fn rows<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        self.run(|c| c.prepare_cached(sql)?.query_map(params, map)?.collect())
    }

    /// Whether a (cached) query returns a row.
    fn exists(&self, sql: &str, params: impl Params) -> Result<bool, StoreError> {
        self.run(|c| c.prepare_cached(sql)?.exists(params))
    }
}

/// Reads a stored enum's text through its `parse`.
fn enum_column<T>(value: ValueRef<'_>, parse: fn(&str) -> Option<T>) -> FromSqlResult<T> {
    let text = value.as_str()?;
    parse(text).ok_or_else(|| FromSqlError::Other(format!("unknown stored value {text:?}").into()))
}

impl Transaction for SqlTx<'_> {
    /// A no-op: see the module docs (the single writer inside `BEGIN IMMEDIATE` serializes
    /// every write transaction, in this process and against others).
    fn lock(&mut self, _key: LockKey<'_>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The SQLite store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    path: PathBuf,
    /// The server's clock: timestamps written to rows.
    clock: crate::clock::Clock,
    writer: Writer,
    readers: Arc<ReadPool>,
}

struct ReadPool {
    conns: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

fn open_conn(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_error)?;
    if version as usize > MIGRATIONS.len() {
        return Err(StoreError::Unavailable(format!(
            "the database schema (version {version}) is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let apply = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()
        };
        apply(conn).map_err(db_error)?;
        tracing::info!(version = i + 1, "applied migration");
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates it and starts the writer.
    pub fn open(path: &Path, clock: crate::clock::Clock) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = open_conn(path, false)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        migrate(&mut conn)?;
        let readers = (0..READERS)
            .map(|_| open_conn(path, true))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        let writer = Writer::spawn(conn)
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(SqliteStore {
            path: path.to_owned(),
            clock,
            writer,
            readers: Arc::new(ReadPool {
                conns: Mutex::new(readers),
                permits: Semaphore::new(READERS),
            }),
        })
    }

    /// Group-commit counters of this process's writer.
    pub fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }

    /// The writer's counters as Prometheus gauges (`writer_transactions`, `writer_jobs`),
    /// read at each scrape.
    pub fn metrics_collector(&self) -> Box<dyn prometheus_client::collector::Collector> {
        Box::new(self.writer.collector())
    }

    /// Runs `f` as one job of the writer (one savepoint of a group transaction) and returns
    /// its result after the commit.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqlTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(move |c| f(&mut SqlTx::new(c))).await
    }

    /// Runs `f` on a pooled read connection inside a read transaction, off the async runtime.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqlTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .readers
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the read pool is closed".into()))?;
        let conn = self.readers.conns.lock().map_err(poisoned)?.pop();
        let path = self.path.clone();
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let conn = match conn {
                Some(c) => c,
                None => open_conn(&path, true).map_err(db_error)?, // replaces one lost to a panic
            };
            let result = (|| {
                conn.execute_batch("BEGIN").map_err(db_error)?;
                let r = f(&mut SqlTx::new(&conn));
                conn.execute_batch("COMMIT").map_err(db_error)?;
                r
            })();
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Ok::<_, StoreError>((conn, result))
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))??;
        self.readers.conns.lock().map_err(poisoned)?.push(conn);
        result
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Internal("the read pool lock is poisoned".into())
}

impl SyncStore for SqliteStore {
    fn pull(
        &self,
        bucket: BucketKey,
        after: u64,
        client_horizon: u64,
        limit: u32,
    ) -> StoreFuture<'_, RawPage> {
        let name = bucket.storage_name();
        Box::pin(self.read(move |tx| rules::oplog::page(tx, &name, after, client_horizon, limit)))
    }

    fn register_device(
        &self,
        request: RegisterDevice,
        token_hash: [u8; 32],
    ) -> StoreFuture<'_, DeviceRegistration> {
        let now = self.clock.now();
        Box::pin(self.write(move |tx| rules::sync::register_device(tx, request, &token_hash, now)))
    }

    fn device_by_token(&self, token_hash: [u8; 32]) -> StoreFuture<'_, Option<AuthDevice>> {
        Box::pin(self.read(move |tx| rules::sync::device_by_token(tx, &token_hash)))
    }

    fn apply_intents(
        &self,
        device_id: String,
        batch: Vec<Intent>,
    ) -> StoreFuture<'_, IntentBatchOutcome> {
        let now = self.clock.now();
        Box::pin(self.write(move |tx| rules::sync::apply_batch(tx, &device_id, batch, now)))
    }
}

impl MerchantStore for SqliteStore {
    fn merchant_by_key(&self, key_hash: [u8; 32]) -> StoreFuture<'_, Option<String>> {
        Box::pin(self.read(move |tx| rules::catalog::merchant_by_key(tx, &key_hash)))
    }

    fn merchant(&self, merchant_id: String) -> StoreFuture<'_, Merchant> {
        Box::pin(self.read(move |tx| rules::catalog::merchant(tx, &merchant_id)))
    }

    fn update_merchant(
        &self,
        merchant_id: String,
        profile: MerchantProfile,
    ) -> StoreFuture<'_, Merchant> {
        Box::pin(self.write(move |tx| rules::catalog::update_merchant(tx, &merchant_id, profile)))
    }

    fn categories(&self) -> StoreFuture<'_, Vec<Category>> {
        Box::pin(self.read(|tx| rules::catalog::categories(tx)))
    }

    fn list_products(
        &self,
        merchant_id: String,
        after: Option<String>,
        limit: u32,
    ) -> StoreFuture<'_, ProductList> {
        Box::pin(self.read(move |tx| {
            rules::catalog::list_products(tx, &merchant_id, after.as_deref(), limit)
        }))
    }

    fn product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, MerchantProduct> {
        Box::pin(self.read(move |tx| rules::catalog::product(tx, &merchant_id, &product_id)))
    }

    fn create_product(
        &self,
        merchant_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct> {
        let now = self.clock.now();
        Box::pin(self.write(move |tx| rules::catalog::create_product(tx, &merchant_id, input, now)))
    }

    fn update_product(
        &self,
        merchant_id: String,
        product_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct> {
        let now = self.clock.now();
        Box::pin(self.write(move |tx| {
            rules::catalog::update_product(tx, &merchant_id, &product_id, input, now)
        }))
    }

    fn delete_product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, ()> {
        Box::pin(
            self.write(move |tx| rules::catalog::delete_product(tx, &merchant_id, &product_id)),
        )
    }

    fn create_variant(
        &self,
        merchant_id: String,
        product_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.write(move |tx| {
                rules::catalog::create_variant(tx, &merchant_id, &product_id, input)
            }),
        )
    }

    fn update_variant(
        &self,
        merchant_id: String,
        variant_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.write(move |tx| {
                rules::catalog::update_variant(tx, &merchant_id, &variant_id, input)
            }),
        )
    }

    fn delete_variant(&self, merchant_id: String, variant_id: String) -> StoreFuture<'_, ()> {
        Box::pin(
            self.write(move |tx| rules::catalog::delete_variant(tx, &merchant_id, &variant_id)),
        )
    }

    fn set_stock(
        &self,
        merchant_id: String,
        variant_id: String,
        stock: u32,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.write(move |tx| rules::catalog::set_stock(tx, &merchant_id, &variant_id, stock)),
        )
    }

    fn set_prices(
        &self,
        merchant_id: String,
        variant_id: String,
        update: PricesUpdate,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(self.write(move |tx| {
            rules::catalog::set_prices(tx, &merchant_id, &variant_id, update.prices)
        }))
    }
}

impl AdminStore for SqliteStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(
            self.read(|tx| {
                tx.run(|c| c.query_row("SELECT count(*) FROM op_sequence", [], |_| Ok(())))
            }),
        )
    }

    fn create_merchant_account(
        &self,
        name: String,
        kind: MerchantKind,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount> {
        let now = self.clock.now();
        Box::pin(self.write(move |tx| {
            rules::catalog::create_merchant_account(tx, &name, kind, &key_hash, &key_prefix, now)
        }))
    }

    fn list_merchant_accounts(&self) -> StoreFuture<'_, Vec<MerchantAccount>> {
        Box::pin(self.read(|tx| rules::catalog::list_merchant_accounts(tx)))
    }

    fn rotate_key(
        &self,
        merchant_id: String,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount> {
        Box::pin(
            self.write(move |tx| {
                rules::catalog::rotate_key(tx, &merchant_id, &key_hash, &key_prefix)
            }),
        )
    }

    fn seed(&self, ops: Vec<CatalogOp>) -> StoreFuture<'_, bool> {
        let now = self.clock.now();
        Box::pin(self.write(move |tx| rules::catalog::seed(tx, &ops, now)))
    }

    fn ensure_categories(&self, categories: Vec<Category>) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |tx| rules::catalog::ensure_categories(tx, &categories)))
    }

    fn compact(&self, keep_ops: u64) -> StoreFuture<'_, CompactReport> {
        Box::pin(self.write(move |tx| rules::oplog::compact(tx, keep_ops)))
    }
}
