//! The PostgreSQL backend: several stateless server processes in front of one database.
//!
//! It implements [`Backend`] — how a rule runs in a transaction here — so every capability
//! trait of [`crate::store`] comes from [`crate::store::backend`], and the shared rules
//! ([`crate::store::rules`]) run over [`PgTx`], its implementation of the rules' transaction
//! contexts (one file per domain: [`oplog`], [`catalog`], [`sync`], [`identity`]), exactly as
//! the SQLite backend does.
//!
//! * Connections: a deadpool pool of tokio-postgres clients per process ([`connect`]), TLS
//!   through rustls; schema migrations at start ([`connect::migrate`]).
//! * Transactions: a rule runs in `spawn_blocking` inside one transaction, blocking on the
//!   client for each query (the rules are synchronous so that both backends share them); it
//!   commits when the rule returns `Ok` and rolls back on `Err`. Writes run at READ COMMITTED;
//!   reads in a `REPEATABLE READ READ ONLY` transaction (one snapshot: a page and the bucket's
//!   head agree).
//! * Locks: [`Transaction::lock`] is `pg_advisory_xact_lock(key.id())`, held to the end of the
//!   transaction: two transactions running a rule on the same key are serialized, in this
//!   process or another. Op ids come from the `op_sequence` row, updated in the writing
//!   transaction: its row lock orders commits by op id (see [`crate::store::rules::oplog`]).
//! * Errors: a lost or refused connection is [`StoreError::Unavailable`] (503 with the JSON
//!   body; the pool reconnects by itself when the database is back); a deadlock or
//!   serialization failure is [`StoreError::Overloaded`] (retry later); nothing is
//!   half-written, the transaction rolls back.
//! * Stored op JSON is `TEXT`, served byte for byte.

mod catalog;
pub mod connect;
mod identity;
pub mod import;
mod oplog;
mod sync;

use crate::store::rules::{LockKey, Transaction};
use crate::store::*;
use connect::{PgOptions, pg_error, pool_error};
use deadpool_postgres::Pool;
use std::future::Future;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// A query parameter.
pub type Param<'a> = &'a (dyn ToSql + Sync);

/// The rules' transaction contexts on one PostgreSQL transaction. Runs on a blocking thread:
/// each query blocks on the runtime that drives the connection.
pub struct PgTx<'t> {
    tx: &'t deadpool_postgres::Transaction<'t>,
    rt: tokio::runtime::Handle,
}

impl PgTx<'_> {
    fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        self.rt
            .block_on(self.tx.prepare_cached(sql))
            .map_err(pg_error)
    }

    /// Every row of a query.
    pub fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        self.rt
            .block_on(self.tx.query(&stmt, params))
            .map_err(pg_error)
    }

    /// At most one row.
    pub fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        self.rt
            .block_on(self.tx.query_opt(&stmt, params))
            .map_err(pg_error)
    }

    /// Exactly one row.
    pub fn query_one(&self, sql: &str, params: &[Param<'_>]) -> Result<Row, StoreError> {
        let stmt = self.statement(sql)?;
        self.rt
            .block_on(self.tx.query_one(&stmt, params))
            .map_err(pg_error)
    }

    /// The number of rows changed.
    pub fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        self.rt
            .block_on(self.tx.execute(&stmt, params))
            .map_err(pg_error)
    }
}

impl Transaction for PgTx<'_> {
    /// `pg_advisory_xact_lock`: held until this transaction commits or rolls back.
    fn lock(&mut self, key: LockKey<'_>) -> Result<(), StoreError> {
        self.execute("SELECT pg_advisory_xact_lock($1)", &[&key.id()])?;
        Ok(())
    }
}

/// An op id, count or cursor as PostgreSQL stores it (BIGINT; the rules keep them within
/// `i64`).
fn big(n: u64) -> i64 {
    n.min(i64::MAX as u64) as i64
}

/// The PostgreSQL store. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: Pool,
    clock: crate::clock::Clock,
}

#[derive(Clone, Copy)]
enum Mode {
    Write,
    Read,
}

impl PgStore {
    /// Builds the pool, migrates the schema (waiting for the database up to the connect
    /// timeout) and returns the store.
    pub async fn open(
        options: &PgOptions,
        clock: crate::clock::Clock,
    ) -> Result<PgStore, StoreError> {
        let pool = connect::pool(options)?;
        connect::migrate(&pool).await?;
        Ok(PgStore { pool, clock })
    }

    /// The pool's gauges as Prometheus metrics (`db_pool_size`, `db_pool_available`,
    /// `db_pool_waiting`), read at each scrape.
    pub fn metrics_collector(&self) -> Box<dyn prometheus_client::collector::Collector> {
        Box::new(connect::PoolCollector(self.pool.clone()))
    }

    async fn run<T, F>(&self, mode: Mode, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let mut client = self.pool.get().await.map_err(pool_error)?;
        tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Handle::current();
            let builder = client.build_transaction();
            let builder = match mode {
                Mode::Write => builder,
                Mode::Read => builder
                    .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                    .read_only(true),
            };
            let tx = rt.block_on(builder.start()).map_err(pg_error)?;
            let result = f(&mut PgTx {
                tx: &tx,
                rt: rt.clone(),
            });
            match result {
                Ok(v) => {
                    rt.block_on(tx.commit()).map_err(pg_error)?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = rt.block_on(tx.rollback());
                    Err(e)
                }
            }
        })
        .await
        .map_err(|e| StoreError::Internal(format!("database task failed: {e}")))?
    }
}

impl Backend for PgStore {
    type Tx<'t> = PgTx<'t>;

    fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    /// One read-write transaction (READ COMMITTED); commits on `Ok`.
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send + '_
    where
        T: Send + 'static,
        F: FnOnce(&mut PgTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(Mode::Write, f)
    }

    /// One read-only snapshot (REPEATABLE READ READ ONLY).
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send + '_
    where
        T: Send + 'static,
        F: FnOnce(&mut PgTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(Mode::Read, f)
    }

    fn ping_database(&self) -> impl Future<Output = Result<(), StoreError>> + Send + '_ {
        self.run(Mode::Read, |tx| {
            tx.query_one("SELECT last FROM op_sequence WHERE id = 1", &[])?;
            Ok(())
        })
    }
}
