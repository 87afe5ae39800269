//! The SQLite backend of [`Storage`]: the embedded default.
//!
//! * Schema: `server/migrations/*.sql`, applied in order by `PRAGMA user_version`.
//! * Connections: WAL (readers never block the writer), foreign keys on, `synchronous=FULL`
//!   (group commit pays for the fsync), a busy timeout for the admin CLI writing next to a
//!   running server.
//! * Writes: one writer thread with group commit ([`writer`]).
//! * Reads: a small pool of read connections used from `spawn_blocking`, each read in one
//!   read transaction (a consistent snapshot).

mod catalog;
pub mod export;
mod identity;
mod intents;
mod oplog;
mod writer;

pub use catalog::demo_count;

use crate::store::*;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::format_description::well_known::Rfc3339;
use tokio::sync::Semaphore;
use warung_core::protocol::{
    CartMirror, CatalogOp, Category, DeviceInfo, DeviceRegistration, Intent, Merchant,
    MerchantAccount, MerchantKind, MerchantProduct, MerchantProfile, MerchantVariant, PricesUpdate,
    ProductInput, ProductList, RegisterDevice, VariantInput,
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
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version as usize > MIGRATIONS.len() {
        return Err(StoreError::Unavailable(format!(
            "the database schema (version {version}) is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
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
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&mut conn)?;
        let readers = (0..READERS)
            .map(|_| open_conn(path, true))
            .collect::<rusqlite::Result<Vec<_>>>()?;
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

    /// Runs `f` on a pooled read connection inside a read transaction, off the async runtime.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
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
                None => open_conn(&path, true)?, // replaces one lost to a panic
            };
            let result = (|| {
                conn.execute_batch("BEGIN")?;
                let r = f(&conn);
                conn.execute_batch("COMMIT")?;
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

fn device_info(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

impl Storage for SqliteStore {
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.read(|c| {
            c.query_row("SELECT count(*) FROM op_sequence", [], |_| Ok(()))?;
            Ok(())
        }))
    }

    fn pull(
        &self,
        bucket: BucketKey,
        after: u64,
        client_horizon: u64,
        limit: u32,
    ) -> StoreFuture<'_, RawPage> {
        let name = bucket.storage_name();
        Box::pin(self.read(move |c| oplog::page(c, &name, after, client_horizon, limit)))
    }

    fn register_device(
        &self,
        request: RegisterDevice,
        token_hash: [u8; 32],
    ) -> StoreFuture<'_, DeviceRegistration> {
        let at = self.clock.now().format(&Rfc3339).unwrap_or_default();
        // One conditional insert, not a check then an insert: two registrations of one id
        // cannot both pass, whatever the backend's concurrency.
        Box::pin(self.writer.write(move |c| {
            let inserted = c
                .prepare_cached(
                    "INSERT INTO device (id, token_hash, platform, app_version, next_seq, registered_at, cart_json)
                     VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6) ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![
                    request.device_id,
                    &token_hash[..],
                    request.platform,
                    request.app_version,
                    at,
                    serde_json::to_string(&CartMirror::default())?
                ])?;
            if inserted == 0 {
                return Err(StoreError::conflict(
                    "device_exists",
                    format!("device {} is already registered", request.device_id),
                ));
            }
            Ok(DeviceRegistration {
                device_id: request.device_id,
                device_token: String::new(), // the handler fills in the secret
                next_seq: 1,
            })
        }))
    }

    fn device_by_token(&self, token_hash: [u8; 32]) -> StoreFuture<'_, Option<AuthDevice>> {
        Box::pin(self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT id, platform, next_seq, registered_at FROM device WHERE token_hash = ?1",
                )?
                .query_row([&token_hash[..]], device_info)
                .optional()?;
            row.map(|(device_id, platform, next_seq, at)| {
                Ok(AuthDevice {
                    info: DeviceInfo {
                        device_id,
                        platform,
                        next_seq: next_seq as u64,
                        registered_at: time::OffsetDateTime::parse(&at, &Rfc3339).map_err(
                            |e| StoreError::Internal(format!("stored timestamp: {e}")),
                        )?,
                    },
                })
            })
            .transpose()
        }))
    }

    fn apply_intents(
        &self,
        device_id: String,
        batch: Vec<Intent>,
    ) -> StoreFuture<'_, IntentBatchOutcome> {
        let now = self.clock.now();
        Box::pin(
            self.writer
                .write(move |c| intents::apply_batch(c, &device_id, batch, now)),
        )
    }

    fn merchant_by_key(&self, key_hash: [u8; 32]) -> StoreFuture<'_, Option<String>> {
        Box::pin(self.read(move |c| catalog::merchant_by_key(c, &key_hash)))
    }

    fn merchant(&self, merchant_id: String) -> StoreFuture<'_, Merchant> {
        Box::pin(self.read(move |c| catalog::merchant(c, &merchant_id)))
    }

    fn update_merchant(
        &self,
        merchant_id: String,
        profile: MerchantProfile,
    ) -> StoreFuture<'_, Merchant> {
        Box::pin(
            self.writer
                .write(move |c| catalog::update_merchant(c, &merchant_id, profile)),
        )
    }

    fn categories(&self) -> StoreFuture<'_, Vec<Category>> {
        Box::pin(self.read(catalog::categories))
    }

    fn list_products(
        &self,
        merchant_id: String,
        after: Option<String>,
        limit: u32,
    ) -> StoreFuture<'_, ProductList> {
        Box::pin(
            self.read(move |c| catalog::list_products(c, &merchant_id, after.as_deref(), limit)),
        )
    }

    fn product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, MerchantProduct> {
        Box::pin(self.read(move |c| catalog::product(c, &merchant_id, &product_id)))
    }

    fn create_product(
        &self,
        merchant_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct> {
        let now = self.clock.now();
        Box::pin(
            self.writer
                .write(move |c| catalog::create_product(c, &merchant_id, input, now)),
        )
    }

    fn update_product(
        &self,
        merchant_id: String,
        product_id: String,
        input: ProductInput,
    ) -> StoreFuture<'_, MerchantProduct> {
        let now = self.clock.now();
        Box::pin(
            self.writer
                .write(move |c| catalog::update_product(c, &merchant_id, &product_id, input, now)),
        )
    }

    fn delete_product(&self, merchant_id: String, product_id: String) -> StoreFuture<'_, ()> {
        Box::pin(
            self.writer
                .write(move |c| catalog::delete_product(c, &merchant_id, &product_id)),
        )
    }

    fn create_variant(
        &self,
        merchant_id: String,
        product_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.writer
                .write(move |c| catalog::create_variant(c, &merchant_id, &product_id, input)),
        )
    }

    fn update_variant(
        &self,
        merchant_id: String,
        variant_id: String,
        input: VariantInput,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.writer
                .write(move |c| catalog::update_variant(c, &merchant_id, &variant_id, input)),
        )
    }

    fn delete_variant(&self, merchant_id: String, variant_id: String) -> StoreFuture<'_, ()> {
        Box::pin(
            self.writer
                .write(move |c| catalog::delete_variant(c, &merchant_id, &variant_id)),
        )
    }

    fn set_stock(
        &self,
        merchant_id: String,
        variant_id: String,
        stock: u32,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.writer
                .write(move |c| catalog::set_stock(c, &merchant_id, &variant_id, stock)),
        )
    }

    fn set_prices(
        &self,
        merchant_id: String,
        variant_id: String,
        update: PricesUpdate,
    ) -> StoreFuture<'_, MerchantVariant> {
        Box::pin(
            self.writer
                .write(move |c| catalog::set_prices(c, &merchant_id, &variant_id, update.prices)),
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
        Box::pin(self.writer.write(move |c| {
            catalog::create_merchant_account(c, &name, kind, &key_hash, &key_prefix, now)
        }))
    }

    fn list_merchant_accounts(&self) -> StoreFuture<'_, Vec<MerchantAccount>> {
        Box::pin(self.read(catalog::list_merchant_accounts))
    }

    fn rotate_key(
        &self,
        merchant_id: String,
        key_hash: [u8; 32],
        key_prefix: String,
    ) -> StoreFuture<'_, MerchantAccount> {
        Box::pin(
            self.writer
                .write(move |c| catalog::rotate_key(c, &merchant_id, &key_hash, &key_prefix)),
        )
    }

    fn seed(&self, ops: Vec<CatalogOp>) -> StoreFuture<'_, bool> {
        let now = self.clock.now();
        Box::pin(self.writer.write(move |c| catalog::seed(c, &ops, now)))
    }

    fn ensure_categories(&self, categories: Vec<Category>) -> StoreFuture<'_, ()> {
        Box::pin(
            self.writer
                .write(move |c| catalog::ensure_categories(c, &categories)),
        )
    }

    fn compact(&self, keep_ops: u64) -> StoreFuture<'_, CompactReport> {
        Box::pin(self.writer.write(move |c| oplog::compact(c, keep_ops)))
    }

    fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }
}
