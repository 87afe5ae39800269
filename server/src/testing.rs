//! Test support shared by the server's, the e2e and the CLI test suites: which database a test
//! server runs on.
//!
//! By default a test server uses SQLite in its data directory. With
//! `WARUNG_TEST_DATABASE_URL=postgres://…` (set by `tests/run` for its postgres suite, after
//! `tests/postgres.sh` started a private cluster) [`database_url_for`] gives each test data
//! directory a schema of its own in that database and a URL whose connections use it
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

/// `None` for SQLite (the server's default file in `data_dir`), or the PostgreSQL schema of
/// `data_dir`: named after the directory, so a server restarted on the same directory (or a
/// child process given it) finds the same data, and created when missing. Blocking (it runs
/// its own small runtime on a thread), so sync and async tests alike can call it. Panics when
/// the PostgreSQL database cannot be reached: a test run that asked for it must not silently
/// fall back to SQLite.
pub fn database_url_for(data_dir: &std::path::Path) -> Option<String> {
    let url = std::env::var(DATABASE_ENV)
        .ok()
        .filter(|u| is_postgres_url(u))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, data_dir.to_string_lossy().as_bytes());
    let schema = format!("t_{}", warung_core::protocol::hex(&digest.as_ref()[..12]));
    let admin_url = url.clone();
    let create = schema.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the test database");
        rt.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("{DATABASE_ENV}={admin_url}: {e}"));
            let task = tokio::spawn(connection);
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {create}"))
                .await
                .unwrap_or_else(|e| panic!("creating schema {create}: {e}"));
            drop(client);
            let _ = task.await;
        })
    })
    .join()
    .expect("creating the test schema");
    // Plain TCP on loopback unless the URL asks otherwise: the test cluster also speaks TLS
    // with a private CA, which only the TLS test trusts (with `sslmode=require`).
    let tls = if url.contains("sslmode=") {
        ""
    } else {
        "&sslmode=disable"
    };
    Some(format!("{}{tls}", schema_url(&url, &schema)))
}

/// `url` whose connections use `schema` (`options=-csearch_path=…`).
pub fn schema_url(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}
