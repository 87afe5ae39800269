//! Test support shared by the server's, the e2e and the CLI test suites: which database a test
//! server runs on.
//!
//! By default a test server uses SQLite in its data directory. With
//! `WARUNG_TEST_DATABASE_URL=postgres://…` (set by `tests/run` for its postgres suite, after
//! `tests/postgres.sh` started a private cluster) every call of [`database_url`] creates a new,
//! empty schema in that database and returns a URL whose connections use it
//! (`options=-csearch_path=…`), so tests running in parallel never see each other's rows.

use crate::store::postgres::connect::is_postgres_url;

/// The environment variable naming the PostgreSQL database of a test run.
pub const DATABASE_ENV: &str = "WARUNG_TEST_DATABASE_URL";

/// Which backend this test run uses: `"postgres"` or `"sqlite"`.
pub fn backend() -> &'static str {
    match std::env::var(DATABASE_ENV) {
        Ok(url) if is_postgres_url(&url) => "postgres",
        _ => "sqlite",
    }
}

/// `None` for SQLite (the server's default file in its data dir), or a fresh PostgreSQL schema.
/// Panics when the PostgreSQL database cannot be reached: a test run that asked for it must
/// not silently fall back.
pub async fn database_url() -> Option<String> {
    let url = std::env::var(DATABASE_ENV)
        .ok()
        .filter(|u| is_postgres_url(u))?;
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("{DATABASE_ENV}={url}: {e}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap_or_else(|e| panic!("creating schema {schema}: {e}"));
    drop(client);
    let _ = task.await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-csearch_path%3D{schema}"))
}
