//! Sync benchmark, over real HTTP on loopback against a real `warung-server` process:
//!
//! * initial sync of a synthetic catalog (default 100,000 products) into a fresh core store
//!   through the core's sync client (target ≥ 50,000 products/s);
//! * bytes on the wire per product (gzip, as the client asks for it);
//! * a 1,000-op delta (merchant price changes) pulled and applied by that phone (target ≤ 20 ms);
//! * intents applied per second from 50 concurrent devices.
//!
//! `cargo bench -p warung-server --bench sync` (WARUNG_BENCH_PRODUCTS=… for another size).
//! The last line is the machine-readable summary. Without `--bench` (as `cargo test
//! --all-targets` runs it) it is a smoke run on 2,000 products.

use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;
use warung_core::protocol::{CatalogAction, Entity, Page, Price, PricesUpdate, page_checksum};
use warung_core::sync::{CancelFlag, SyncClient, SyncConfig};

const DEVICES: usize = 50;
const INTENTS_PER_DEVICE: u64 = 200;
const INTENT_BATCH: u64 = 50;
const DELTA_OPS: usize = 1000;

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
    rt.block_on(run(products));
}

async fn run(products: usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");

    // Seed the server's database in-process, then serve it from the real binary.
    let t = Instant::now();
    let ops: Vec<_> = warung_core::synth::synthetic_ops(products, 7).collect();
    let mut delta_targets: Vec<(String, String, Price)> = Vec::new(); // (merchant, variant, price)
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
    let n_ops = ops.len();
    let config = warung_server::Config::new(&data);
    let admin = warung_server::Admin::open(&config).await.unwrap();
    assert!(admin.seed(ops).await.unwrap());
    let mut keys = HashMap::new();
    for (merchant, _, _) in &delta_targets {
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

    let mut server = Command::new(env!("CARGO_BIN_EXE_warung-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--compact-every",
            "0",
            "--data-dir",
        ])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(u) = line.strip_prefix("listening on ") {
            break u.to_string();
        }
    };

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

    // A 1,000-op delta: merchants change 1,000 prices; the phone pulls and applies them.
    let http = reqwest::Client::new();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for chunk in delta_targets.chunks(DELTA_OPS / 8) {
        let chunk = chunk.to_vec();
        let (http, url, keys) = (http.clone(), url.clone(), keys.clone());
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

    // Intents from 50 concurrent devices.
    let variant = delta_targets[0].1.clone();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..DEVICES {
        let (http, url, variant) = (http.clone(), url.clone(), variant.clone());
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
        "intents: {total} from {DEVICES} devices in batches of {INTENT_BATCH}: {intents_s:.2}s"
    );

    let _ = server.kill();
    let _ = server.wait();
    println!(
        "sync: products={products} initial_sync_s={initial_s:.2} products_per_s={:.0} bytes_per_product={:.0} delta_1k_apply_ms={delta_ms:.1} intents_per_s={intents_per_s:.0}",
        products as f64 / initial_s,
        wire_bytes as f64 / products as f64
    );
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}
