//! Sync server benchmark: seeds a synthetic catalog, then measures a full catalog pull (gzip,
//! pages of 5000) and intent throughput from concurrent devices, over real HTTP on loopback.
//!
//! `cargo bench -p warung-server --bench sync [-- PRODUCTS]` (default 20,000 products).

use serde_json::json;
use std::time::Instant;
use warung_core::protocol::{Page, page_checksum};

fn main() {
    let products: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(products));
}

async fn run(products: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = warung_server::Config::new(dir.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let server = warung_server::start(config).await.unwrap();
    let url = server.url();

    let t = Instant::now();
    let ops: Vec<_> = warung_core::synth::synthetic_ops(products, 7).collect();
    let n_ops = ops.len();
    assert!(server.admin().seed(ops).await.unwrap());
    println!("seed: {n_ops} ops in {:.2?}", t.elapsed());

    let http = reqwest::Client::new();
    let t = Instant::now();
    let (mut cursor, mut pulled, mut bytes) = (0u64, 0usize, 0usize);
    loop {
        let text = http
            .get(format!(
                "{url}/v1/buckets/catalog/ops?after={cursor}&limit=5000"
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        bytes += text.len();
        let page: Page<Box<serde_json::value::RawValue>> = serde_json::from_str(&text).unwrap();
        assert_eq!(
            page.checkpoint.checksum,
            page_checksum(page.ops.iter().map(|o| o.get().as_bytes()))
        );
        pulled += page.ops.len();
        cursor = page.checkpoint.op_id;
        if !page.has_more {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "full pull: {pulled} ops, {:.1} MB JSON in {secs:.2}s ({:.0} ops/s)",
        bytes as f64 / 1e6,
        pulled as f64 / secs
    );

    let (devices, per_device, batch) = (16usize, 400u64, 50u64);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..devices {
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let id = uuid::Uuid::now_v7().to_string();
            let reg: serde_json::Value = serde_json::from_str(
                &http
                    .post(format!("{url}/v1/devices"))
                    .header("content-type", "application/json")
                    .body(json!({"device_id": id, "platform": "cli"}).to_string())
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            )
            .unwrap();
            let token = reg["device_token"].as_str().unwrap().to_owned();
            for start in (1..=per_device).step_by(batch as usize) {
                let intents: Vec<_> = (start..start + batch)
                    .map(|seq| {
                        json!({"device_id": id, "seq": seq, "idempotency_key": format!("{id}-{seq}"),
                        "kind": "cart.set_line", "payload": {"variant_id": "v-0000001-1", "quantity": seq % 9 + 1},
                        "created_at": "2026-06-01T00:00:00Z"})
                    })
                    .collect();
                let r = http
                    .post(format!("{url}/v1/intents"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(json!({ "intents": intents }).to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let total = devices as u64 * per_device;
    let stats = server.admin().writer_stats();
    println!(
        "intents: {total} from {devices} devices in batches of {batch}: {secs:.2}s ({:.0} intents/s); writer {} jobs in {} transactions",
        total as f64 / secs,
        stats.jobs,
        stats.transactions
    );
    server.shutdown().await;
}
