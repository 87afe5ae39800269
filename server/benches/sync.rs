//! Sync benchmark, over real HTTP on loopback against real `warung-server` processes, once per
//! backend in the same run:
//!
//! * SQLite: one server process on a data directory;
//! * PostgreSQL: three server processes on one database (a fresh schema of its own, dropped
//!   afterwards), when `WARUNG_BENCH_DATABASE_URL` or `WARUNG_TEST_DATABASE_URL` names one
//!   (`tests/run --bench sync` starts a private cluster for it); otherwise skipped.
//!
//! On each:
//!
//! * initial sync of a synthetic catalog (default 100,000 products) into a fresh core store
//!   through the core's sync client, from the first process (target ≥ 50,000 products/s);
//! * bytes on the wire per product (gzip, as the client asks for it);
//! * a 1,000-op delta (merchant price changes, spread over the processes) pulled and applied
//!   by that phone (target ≤ 20 ms);
//! * intents applied per second from 50 concurrent devices, spread over the processes.
//!
//! Both backends are seeded the same way: in-process through [`warung_server::Admin::seed`].
//!
//! `cargo bench -p warung-server --bench sync` (WARUNG_BENCH_PRODUCTS=… for another size).
//! The last two lines are the machine-readable summary, `sync: backend=sqlite processes=1 …`
//! and `sync: backend=postgres processes=3 …` (or `sync: backend=postgres skipped …`).
//! Without `--bench` (as `cargo test --all-targets` runs it) it is a smoke run on 2,000
//! products, on PostgreSQL too only when a database URL is set.

use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;
use warung_core::protocol::{
    CatalogAction, CatalogOp, Entity, Page, Price, PricesUpdate, page_checksum,
};
use warung_core::sync::{CancelFlag, SyncClient, SyncConfig};
use warung_server::store::postgres::connect::{PgOptions, is_postgres_url, pool};

const DEVICES: usize = 50;
const INTENTS_PER_DEVICE: u64 = 200;
const INTENT_BATCH: u64 = 50;
const DELTA_OPS: usize = 1000;
/// Server processes sharing the PostgreSQL database.
const PG_PROCESSES: usize = 3;

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a quick smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let products: usize = std::env::var("WARUNG_BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 100_000 } else { 2_000 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let catalog = Catalog::new(products);
    let mut summary = vec![rt.block_on(run(&catalog, None))];
    summary.push(match postgres_url() {
        Some(url) => rt.block_on(async {
            let schema = BenchSchema::create(&url).await;
            let line = run(&catalog, Some(&schema.url)).await;
            schema.drop_schema().await;
            line
        }),
        None => "sync: backend=postgres skipped (set WARUNG_TEST_DATABASE_URL or run tests/run --bench sync)".to_owned(),
    });
    for line in summary {
        println!("{line}");
    }
}

/// The PostgreSQL database to benchmark on, if any.
fn postgres_url() -> Option<String> {
    ["WARUNG_BENCH_DATABASE_URL", "WARUNG_TEST_DATABASE_URL"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .map(|url| url.trim().to_owned())
        .find(|url| is_postgres_url(url))
}

/// A fresh schema in the benchmark's PostgreSQL database, and a URL whose connections use it,
/// so the seed finds an empty database and a shared one is left as it was.
struct BenchSchema {
    base: String,
    name: String,
    url: String,
}

impl BenchSchema {
    async fn create(base: &str) -> BenchSchema {
        let name = format!("warung_bench_{}", uuid::Uuid::now_v7().simple());
        Self::execute(base, &format!("CREATE SCHEMA {name}")).await;
        BenchSchema {
            base: base.to_owned(),
            url: warung_server::testing::schema_url(base, &name),
            name,
        }
    }

    async fn drop_schema(self) {
        Self::execute(&self.base, &format!("DROP SCHEMA {} CASCADE", self.name)).await;
    }

    async fn execute(url: &str, sql: &str) {
        let mut options = PgOptions::new(url);
        options.pool_size = 1;
        let client = pool(&options)
            .unwrap()
            .get()
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL {url}: {e}"));
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// The synthetic catalog, and the variants the delta reprices (merchant, variant, price).
struct Catalog {
    products: usize,
    ops: Vec<CatalogOp>,
    delta_targets: Vec<(String, String, Price)>,
}

impl Catalog {
    fn new(products: usize) -> Catalog {
        let ops: Vec<_> = warung_core::synth::synthetic_ops(products, 7).collect();
        let mut delta_targets = Vec::new();
        let mut product_merchant: HashMap<String, String> = HashMap::new();
        for op in &ops {
            if let CatalogAction::Put { entity } = &op.action {
                match entity {
                    Entity::Product(p) => {
                        product_merchant.insert(p.id.clone(), p.merchant_id.clone());
                    }
                    Entity::Variant(v) if delta_targets.len() < DELTA_OPS => {
                        let merchant = product_merchant[&v.product_id].clone();
                        delta_targets.push((merchant, v.id.clone(), v.prices[0].clone()));
                    }
                    _ => {}
                }
            }
        }
        Catalog {
            products,
            ops,
            delta_targets,
        }
    }
}

/// Server processes, killed on drop (a failed run leaves none behind).
struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `n` `warung-server` processes on `data` (SQLite) or on `database` (PostgreSQL);
/// returns them and their base URLs.
fn start_servers(data: &Path, database: Option<&str>, n: usize) -> (Servers, Vec<String>) {
    let mut servers = Servers(Vec::new());
    for _ in 0..n {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_warung-server"));
        cmd.args(["--listen", "127.0.0.1:0", "--compact-every", "0"])
            .arg("--data-dir")
            .arg(data)
            .env_remove("WARUNG_DATABASE_URL")
            .env("WARUNG_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(url) = database {
            cmd.arg("--database").arg(url);
        }
        servers.0.push(cmd.spawn().unwrap());
    }
    let urls = servers
        .0
        .iter_mut()
        .map(|child| {
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            loop {
                let line = lines.next().expect("server exited").unwrap();
                if let Some(u) = line.strip_prefix("listening on ") {
                    break u.to_string();
                }
            }
        })
        .collect();
    (servers, urls)
}

/// The whole benchmark on one backend (`database`: `None` for SQLite, or a PostgreSQL URL);
/// returns its summary line.
async fn run(catalog: &Catalog, database: Option<&str>) -> String {
    let (backend, processes) = match database {
        None => ("sqlite", 1),
        Some(_) => ("postgres", PG_PROCESSES),
    };
    let products = catalog.products;
    let delta_targets = &catalog.delta_targets;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    println!("--- backend={backend} processes={processes}");

    // Seed the server's database in-process (the same code path on either backend), then
    // serve it from the real binary.
    let t = Instant::now();
    let n_ops = catalog.ops.len();
    let mut config = warung_server::Config::new(&data);
    config.database_url = database.map(str::to_owned);
    let admin = warung_server::Admin::open(&config).await.unwrap();
    assert!(admin.seed(catalog.ops.clone()).await.unwrap());
    let mut keys = HashMap::new();
    for (merchant, _, _) in delta_targets {
        if !keys.contains_key(merchant) {
            let (_, key) = admin.rotate_key(merchant).await.unwrap();
            keys.insert(merchant.clone(), key);
        }
    }
    drop(admin);
    println!(
        "seed: {products} products, {n_ops} ops in {:.2?}",
        t.elapsed()
    );

    let (servers, urls) = start_servers(&data, database, processes);
    let url = urls[0].clone();

    // Initial sync into a fresh store, through the same client the apps use.
    let phone_dir = dir.path().join("phone");
    std::fs::create_dir_all(&phone_dir).unwrap();
    let profile = warung_core::Profile::open(
        phone_dir.join("profile.db"),
        warung_core::money::Currency::IDR,
    )
    .unwrap();
    let mut sync_config = SyncConfig::new(&url, "cli");
    sync_config.page_limit = warung_core::protocol::MAX_PAGE_LIMIT;
    let storage = Arc::new(warung_core::secrets::MemoryStorage::default());
    let client = SyncClient::new(profile.clone(), storage, sync_config).unwrap();
    let t = Instant::now();
    let report = client.sync_now(&CancelFlag::new()).await.unwrap();
    let initial_s = t.elapsed().as_secs_f64();
    // A fresh server database also holds the 23 shared categories.
    assert!(report.catalog_ops as usize >= n_ops, "{report:?}");
    println!(
        "initial sync: {} ops in {initial_s:.2}s ({:.0} products/s)",
        report.catalog_ops,
        products as f64 / initial_s
    );

    // Bytes on the wire: the same pull, gzip as the client negotiates it, bodies not decoded.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let (mut cursor, mut wire_bytes, mut json_bytes) = (0u64, 0usize, 0usize);
    loop {
        let resp = raw
            .get(format!(
                "{url}/v1/buckets/catalog/ops?after={cursor}&limit=5000"
            ))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            Some("gzip")
        );
        let body = resp.bytes().await.unwrap();
        wire_bytes += body.len();
        let text = gunzip(&body);
        json_bytes += text.len();
        let page: Page<Box<serde_json::value::RawValue>> = serde_json::from_str(&text).unwrap();
        assert_eq!(
            page.checkpoint.checksum,
            page_checksum(page.ops.iter().map(|o| o.get().as_bytes()))
        );
        cursor = page.checkpoint.op_id;
        if !page.has_more {
            break;
        }
    }
    println!(
        "wire: {:.1} MB gzip ({:.1} MB JSON) for {products} products",
        wire_bytes as f64 / 1e6,
        json_bytes as f64 / 1e6
    );

    // A 1,000-op delta: merchants change 1,000 prices (8 writers, spread over the
    // processes); the phone pulls and applies them.
    let http = reqwest::Client::new();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (i, chunk) in delta_targets.chunks(DELTA_OPS / 8).enumerate() {
        let chunk = chunk.to_vec();
        let (http, url, keys) = (http.clone(), urls[i % urls.len()].clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            for (merchant, variant, price) in chunk {
                let amount = price
                    .amount
                    .checked_add(
                        &warung_core::money::Money::parse("1000", price.amount.currency()).unwrap(),
                    )
                    .unwrap();
                let body = PricesUpdate {
                    prices: vec![Price {
                        amount,
                        compare_at: None,
                    }],
                };
                let r = http
                    .put(format!("{url}/v1/merchant/variants/{variant}/prices"))
                    .bearer_auth(&keys[&merchant])
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    println!(
        "delta: {DELTA_OPS} price changes made in {:.2?}",
        t.elapsed()
    );
    let t = Instant::now();
    let report = client.sync_now(&CancelFlag::new()).await.unwrap();
    let delta_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(report.catalog_ops as usize, DELTA_OPS);
    println!(
        "delta sync: {} ops pulled and applied in {delta_ms:.1} ms",
        report.catalog_ops
    );

    // Intents from 50 concurrent devices, the i-th on process i mod n.
    let variant = delta_targets[0].1.clone();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for d in 0..DEVICES {
        let (http, url, variant) = (http.clone(), urls[d % urls.len()].clone(), variant.clone());
        tasks.push(tokio::spawn(async move {
            let id = uuid::Uuid::now_v7().to_string();
            let reg: serde_json::Value = http
                .post(format!("{url}/v1/devices"))
                .json(&json!({"device_id": id, "platform": "cli"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let token = reg["device_token"].as_str().unwrap().to_owned();
            for start in (1..=INTENTS_PER_DEVICE).step_by(INTENT_BATCH as usize) {
                let intents: Vec<_> = (start..start + INTENT_BATCH)
                    .map(|seq| {
                        json!({"device_id": id, "seq": seq,
                            "idempotency_key": uuid::Uuid::now_v7().to_string(),
                            "kind": "cart.set_line",
                            "payload": {"variant_id": variant, "quantity": seq % 9 + 1},
                            "created_at": "2026-06-01T00:00:00Z"})
                    })
                    .collect();
                let r = http
                    .post(format!("{url}/v1/intents"))
                    .bearer_auth(&token)
                    .json(&json!({ "intents": intents }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let body: serde_json::Value = r.json().await.unwrap();
                assert_eq!(
                    body["results"].as_array().unwrap().len(),
                    INTENT_BATCH as usize
                );
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let intents_s = t.elapsed().as_secs_f64();
    let total = DEVICES as u64 * INTENTS_PER_DEVICE;
    let intents_per_s = total as f64 / intents_s;
    println!(
        "intents: {total} from {DEVICES} devices in batches of {INTENT_BATCH} over {processes} process(es): {intents_s:.2}s"
    );

    drop(servers);
    format!(
        "sync: backend={backend} processes={processes} products={products} initial_sync_s={initial_s:.2} products_per_s={:.0} bytes_per_product={:.0} delta_1k_apply_ms={delta_ms:.1} intents_per_s={intents_per_s:.0}",
        products as f64 / initial_s,
        wire_bytes as f64 / products as f64
    )
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}
