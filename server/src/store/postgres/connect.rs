//! Connecting to PostgreSQL: the URL, the pool, TLS and the schema migrations.
//!
//! * URL: anything `tokio_postgres::Config` parses (`postgres://user:pass@host:port/db?…`);
//!   `sslmode=disable|prefer|require` as libpq. TLS goes through rustls (ring) with the
//!   webpki roots plus, optionally, the operator's own CA (`--database-ca`).
//! * Pool: deadpool, `--database-pool` connections per process (several stateless server
//!   processes share one database: size the pools under the server's `max_connections`).
//! * Migrations: `server/migrations/postgres/*.sql`, applied in order at start and by
//!   `warung-server migrate`, each in its own transaction together with its row in
//!   `schema_migration` (PostgreSQL's DDL is transactional: a failing migration leaves the
//!   schema as it was). A session advisory lock serialises processes that start together.

use crate::store::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`. The SQLite
/// twins under `server/migrations/` describe the same tables and change together.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        "0002_identity",
        include_str!("../../../migrations/postgres/0002_identity.sql"),
    ),
    (
        "0003_otp_send_limits",
        include_str!("../../../migrations/postgres/0003_otp_send_limits.sql"),
    ),
];

/// Key of the advisory lock held while migrating (any constant of our own).
const MIGRATION_LOCK: i64 = 0x5741_5255_4E47_0001; // "WARUNG" 1

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `postgres://…` (or `postgresql://…`).
    pub url: String,
    /// Connections in this process's pool.
    pub pool_size: usize,
    /// A PEM file of CA certificates trusted besides the webpki roots.
    pub ca_file: Option<PathBuf>,
    /// How long a request waits for a pooled connection (or a new one) before 503.
    pub connect_timeout: Duration,
}

impl PgOptions {
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            pool_size: 16,
            ca_file: None,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Parses the URL and builds the pool; connects lazily (the first `get`).
pub fn pool(options: &PgOptions) -> Result<Pool, StoreError> {
    let config = tokio_postgres::Config::from_str(&options.url).map_err(|e| {
        StoreError::Unavailable(format!(
            "database URL: {e} (expected postgres://user@host:port/db)"
        ))
    })?;
    let tls = MakeRustlsConnect::new(tls_config(options.ca_file.as_deref())?);
    let manager = Manager::from_config(
        config,
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(options.pool_size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(options.connect_timeout))
        .create_timeout(Some(options.connect_timeout))
        .recycle_timeout(Some(options.connect_timeout))
        .build()
        .map_err(|e| StoreError::Unavailable(format!("database pool: {e}")))
}

fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let bad =
            |e: String| StoreError::Unavailable(format!("database CA {}: {e}", path.display()));
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
            let cert = cert.map_err(|e| bad(e.to_string()))?;
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no certificate in the file".into()));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Maps a driver error: a lost or refused connection is `Unavailable` (503, retried by
/// clients); a deadlock or serialization failure `Overloaded` (503: the transaction rolled
/// back, retry later); anything else `Internal`.
pub fn pg_error(e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        _ if e.is_closed() => StoreError::Unavailable(format!("database: {e}")),
        None => StoreError::Unavailable(format!("database: {e}")),
        Some(c)
            if *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::T_R_SERIALIZATION_FAILURE =>
        {
            StoreError::Overloaded
        }
        Some(c) if c.code().starts_with("08") || c.code().starts_with("57P") => {
            // connection exceptions, admin shutdown / cannot connect now
            StoreError::Unavailable(format!("database: {e}"))
        }
        Some(_) => StoreError::Internal(format!("database: {e}")),
    }
}

/// Maps a pool error (no connection within the timeout, database down).
pub fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("database: {e}"))
}

/// Applies the pending migrations; returns the schema version. Refuses a database whose
/// schema is newer than this server.
pub async fn migrate(pool: &Pool) -> Result<usize, StoreError> {
    migrate_with(pool, MIGRATIONS).await
}

/// [`migrate`] with a given list (tests: a failing migration leaves the schema as it was).
pub async fn migrate_with(pool: &Pool, migrations: &[(&str, &str)]) -> Result<usize, StoreError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error)?;
    let result = migrate_locked(&mut client, migrations).await;
    // Unlock even after a failure; a lost connection releases it anyway.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result
}

async fn migrate_locked(
    client: &mut deadpool_postgres::Client,
    migrations: &[(&str, &str)],
) -> Result<usize, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migration') IS NOT NULL", &[])
        .await
        .map_err(pg_error)?
        .get(0);
    if !exists {
        client
            .batch_execute(
                "CREATE TABLE schema_migration (
                     version     INTEGER PRIMARY KEY,
                     name        TEXT NOT NULL,
                     applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
                 )",
            )
            .await
            .map_err(pg_error)?;
    }
    let current: i32 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migration",
            &[],
        )
        .await
        .map_err(pg_error)?
        .get(0);
    let current = current.max(0) as usize;
    if current > migrations.len() {
        return Err(StoreError::Unavailable(format!(
            "the database schema (version {current}) is newer than this server ({})",
            migrations.len()
        )));
    }
    for (i, (name, sql)) in migrations.iter().enumerate().skip(current) {
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::Unavailable(format!("migration {name} failed (nothing applied): {e}"))
        })?;
        tx.execute(
            "INSERT INTO schema_migration (version, name) VALUES ($1, $2)",
            &[&((i + 1) as i32), name],
        )
        .await
        .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
        tracing::info!(version = i + 1, name, "applied migration");
    }
    Ok(migrations.len())
}

/// The pool's state on `/metrics`: open connections, idle ones, requests waiting for one.
#[derive(Debug)]
pub struct PoolCollector(pub Pool);

impl prometheus_client::collector::Collector for PoolCollector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::gauge::ConstGauge;
        let status = self.0.status();
        let gauges = [
            (
                "db_pool_size",
                "Open database connections of this process",
                status.size as i64,
            ),
            (
                "db_pool_available",
                "Idle database connections (negative: requests waiting)",
                status.available as i64,
            ),
            (
                "db_pool_waiting",
                "Requests waiting for a database connection",
                status.waiting as i64,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
