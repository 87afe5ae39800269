//! What only the PostgreSQL backend has to prove (the rest of the server suite runs on it as
//! well, through `tests/run`'s postgres suite): a failing migration leaves the schema as it
//! was, and a database that goes away gives 503s with the JSON error body and a failing
//! `/readyz`, then the server recovers by itself when it is back; TLS to the database goes
//! through rustls and checks the certificate.
//!
//! These tests need `WARUNG_TEST_DATABASE_URL` (tests/run sets it for its postgres suite); in
//! a SQLite run they say so and pass without testing anything.

mod common;

use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use warung_server::store::postgres::connect::{PgOptions, migrate_with, pool};

fn postgres_url(dir: &std::path::Path) -> Option<String> {
    let url = warung_server::testing::database_url_for(dir);
    if url.is_none() {
        eprintln!("skipped: set WARUNG_TEST_DATABASE_URL (tests/run's postgres suite does)");
    }
    url
}

#[tokio::test]
async fn a_failing_migration_leaves_the_schema_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = postgres_url(dir.path()) else {
        return;
    };
    let pool = pool(&PgOptions::new(&url)).unwrap();
    let good: &[(&str, &str)] = &[("0001_a", "CREATE TABLE a (x INTEGER)")];
    assert_eq!(migrate_with(&pool, good).await.unwrap(), 1);
    // The second migration creates a table, then fails: nothing of it may stay.
    let bad: &[(&str, &str)] = &[
        good[0],
        (
            "0002_b",
            "CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1); SELECT 1 / 0;",
        ),
    ];
    let err = migrate_with(&pool, bad).await.unwrap_err().to_string();
    assert!(
        err.contains("0002_b") && err.contains("nothing applied"),
        "{err}"
    );
    let client = pool.get().await.unwrap();
    let b: Option<String> = client
        .query_one("SELECT to_regclass('b')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(b, None, "table b was rolled back");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "the insert into a was rolled back");
    let version: i32 = client
        .query_one("SELECT max(version) FROM schema_migration", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 1);
    drop(client);
    // Fixed, it applies; a server newer than the schema is refused, never downgraded.
    let fixed: &[(&str, &str)] = &[good[0], ("0002_b", "CREATE TABLE b (x INTEGER)")];
    assert_eq!(migrate_with(&pool, fixed).await.unwrap(), 2);
    let err = migrate_with(&pool, good).await.unwrap_err().to_string();
    assert!(err.contains("newer than this server"), "{err}");
}

/// A TCP relay between the server and PostgreSQL that the test can cut: while down it drops
/// every relayed connection and refuses new ones (as a database host that went away).
struct Relay {
    up: Arc<AtomicBool>,
    port: u16,
    cut: tokio::sync::broadcast::Sender<()>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = tokio::sync::broadcast::channel(4);
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let mut cut = cut2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.recv() => {}
                    }
                });
            }
        });
        Relay { up, port, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_that_goes_away_gives_503_and_the_server_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = postgres_url(dir.path()) else {
        return;
    };
    // postgres://user@HOST:PORT/db?options=… → the same through the relay.
    let target = host_port(&url);
    let relay = Relay::start(target.clone()).await;
    let relayed = url.replacen(&target, &format!("127.0.0.1:{}", relay.port), 1);
    let s = spawn_with(|c| {
        c.database_url = Some(relayed);
        c.database_pool = 4;
        c.demo = true;
    })
    .await;
    assert_eq!(s.get("/readyz", None).await.status, 200);
    assert_eq!(s.get("/v1/categories", None).await.status, 200);

    relay.down();
    // Every request that needs the database: 503 with the JSON error body, never a hang or a
    // 500; readiness says so.
    for path in [
        "/v1/categories",
        "/v1/buckets/catalog/ops?after=0",
        "/readyz",
    ] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, 503, "{path}: {}", r.text);
        assert!(r.body["error"]["code"].is_string(), "{path}: {}", r.text);
    }
    let r = s
        .call(
            "POST",
            "/v1/devices",
            None,
            Some(serde_json::json!({"device_id": new_device_id(), "platform": "cli"})),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(
        s.get("/healthz", None).await.status,
        200,
        "the process is alive"
    );

    relay.up();
    // Back by itself: the pool replaces its dead connections (a request that still held one
    // may fail once; none may fail after the pool has cycled them).
    let mut ok = 0;
    for _ in 0..10 {
        if s.get("/readyz", None).await.status == 200 {
            ok += 1;
        }
    }
    assert!(ok >= 6, "readyz recovered in {ok} of 10 tries");
    assert_eq!(s.get("/v1/categories", None).await.status, 200);
    let r = s
        .call(
            "POST",
            "/v1/devices",
            None,
            Some(serde_json::json!({"device_id": new_device_id(), "platform": "cli"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.server.shutdown().await;
}

/// The `host:port` of a `postgres://user@host:port/db?…` URL.
fn host_port(url: &str) -> String {
    let after_at = url.split_once('@').map_or(url, |(_, r)| r);
    after_at.split('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn tls_to_the_database_goes_through_rustls_and_checks_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = postgres_url(dir.path()) else {
        return;
    };
    let Ok(ca) = std::env::var("WARUNG_TEST_DATABASE_CA") else {
        eprintln!("skipped: the test cluster has no TLS (WARUNG_TEST_DATABASE_CA unset)");
        return;
    };
    let url = url.replace("sslmode=disable", "sslmode=require");
    // Trusting the cluster's CA: the connection is encrypted.
    let mut options = PgOptions::new(&url);
    options.ca_file = Some(ca.clone().into());
    let trusted = pool(&options).unwrap();
    let client = trusted.get().await.unwrap();
    let ssl: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ssl, "sslmode=require gave a plain connection");
    drop(client);
    // The webpki roots alone do not trust a private CA: refused, not downgraded.
    let untrusted = pool(&PgOptions::new(&url)).unwrap();
    let err = untrusted.get().await.unwrap_err().to_string();
    assert!(err.contains("TLS") || err.contains("certificate"), "{err}");
    // A whole server on it.
    let s = spawn_with(|c| {
        c.database_url = Some(url.clone());
        c.database_ca = Some(ca.clone().into());
    })
    .await;
    assert_eq!(s.get("/readyz", None).await.status, 200);
    s.server.shutdown().await;
}
