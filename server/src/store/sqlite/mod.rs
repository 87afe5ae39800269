//! The SQLite backend: the embedded default. It implements [`Backend`] — how a rule runs in a
//! transaction here — so every capability trait of [`crate::store`] comes from
//! [`crate::store::backend`], and the shared rules ([`crate::store::rules`]) run over [`SqlTx`],
//! its implementation of the rules' transaction contexts (one file per domain: `catalog.rs`,
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

use crate::store::rules::{LockKey, Transaction};
use crate::store::*;
use rusqlite::types::{FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Params, Row};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
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
pub struct SqlTx<'c> {
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
    async fn write_job<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqlTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(move |c| f(&mut SqlTx::new(c))).await
    }

    /// Runs `f` on a pooled read connection inside a read transaction, off the async runtime.
    async fn read_snapshot<T, F>(&self, f: F) -> Result<T, StoreError>
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

impl Backend for SqliteStore {
    type Tx<'t> = SqlTx<'t>;

    fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send + '_
    where
        T: Send + 'static,
        F: FnOnce(&mut SqlTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_job(f)
    }

    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send + '_
    where
        T: Send + 'static,
        F: FnOnce(&mut SqlTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.read_snapshot(f)
    }

    fn ping_database(&self) -> impl Future<Output = Result<(), StoreError>> + Send + '_ {
        self.read_snapshot(|tx| {
            tx.run(|c| c.query_row("SELECT count(*) FROM op_sequence", [], |_| Ok(())))
        })
    }
}
