//! End-to-end tests of the HTTP API: a real server on an ephemeral loopback port, a reqwest
//! client, a temporary data directory per test.

use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use warung_core::protocol::{MerchantKind, Page, page_checksum};
use warung_server::{Config, RunningServer};

mod common;

use common::{Resp, Srv};

async fn start_at(dir: &Path, demo: bool) -> RunningServer {
    let mut config = Config::new(dir);
    config.database_url = warung_server::testing::database_url_for(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.demo = demo;
    warung_server::start(config).await.unwrap()
}

async fn spawn(demo: bool) -> Srv {
    let dir = tempfile::tempdir().unwrap();
    let server = start_at(dir.path(), demo).await;
    Srv {
        clock: server.clock(),
        url: server.url(),
        server,
        http: reqwest::Client::new(),
        _dir: Some(dir),
    }
}

impl Srv {
    async fn merchant(&self, name: &str) -> (String, String) {
        let (account, key) = self
            .server
            .admin()
            .create_merchant(name, MerchantKind::Shop)
            .await
            .unwrap();
        (account.id, key)
    }

    async fn device(&self) -> (String, String) {
        let id = uuid::Uuid::now_v7().to_string();
        let r = self
            .call(
                "POST",
                "/v1/devices",
                None,
                Some(json!({"device_id": id, "platform": "android"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        (id, r.body["device_token"].as_str().unwrap().to_owned())
    }

    /// Pulls a bucket as raw ops, checking the checksum.
    async fn pull(
        &self,
        bucket: &str,
        after: u64,
        limit: u32,
        token: Option<&str>,
    ) -> (Page<Box<RawValue>>, Vec<Value>) {
        let r = self
            .get(
                &format!("/v1/buckets/{bucket}/ops?after={after}&limit={limit}"),
                token,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page: Page<Box<RawValue>> = serde_json::from_str(&r.text).unwrap();
        assert_eq!(
            page.checkpoint.checksum,
            page_checksum(page.ops.iter().map(|o| o.get().as_bytes())),
            "checksum over the ops as sent"
        );
        let ops = page
            .ops
            .iter()
            .map(|o| serde_json::from_str(o.get()).unwrap())
            .collect();
        (page, ops)
    }
}

fn error_code(r: &Resp) -> &str {
    r.body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error body: {} {}", r.status, r.text))
}

fn idr(amount: &str) -> Value {
    json!({"amount": amount, "currency": "IDR"})
}

fn variant_input(stock: u32) -> Value {
    json!({"sku": "SKU-1", "options": {"ukuran": "M"}, "prices": [{"amount": idr("125000"), "compare_at": idr("150000")}], "stock": stock, "weight_grams": 300})
}

fn product_input(title: &str) -> Value {
    json!({"category_id": "c-fashion", "title": title, "description": "Batik tulis"})
}

#[tokio::test]
async fn operational_endpoints_and_openapi() {
    let s = spawn(false).await;
    assert_eq!(s.get("/healthz", None).await.body["status"], "ok");
    assert_eq!(s.get("/readyz", None).await.body["status"], "ready");
    let r = s.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let doc = r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/v1/buckets/{bucket}/ops",
        "/v1/devices",
        "/v1/devices/me",
        "/v1/intents",
        "/v1/categories",
        "/v1/merchant",
        "/v1/merchant/products",
        "/v1/merchant/products/{id}",
        "/v1/merchant/products/{id}/variants",
        "/v1/merchant/variants/{id}",
        "/v1/merchant/variants/{id}/stock",
        "/v1/merchant/variants/{id}/prices",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Page_CatalogOp",
        "Page_DeviceOp",
        "ApiError",
        "IntentBatch",
        "MerchantProduct",
    ] {
        assert!(schemas[name].is_object(), "schema {name}");
    }
    assert!(doc["components"]["securitySchemes"]["device_token"].is_object());
    assert!(doc["components"]["securitySchemes"]["merchant_key"].is_object());
    assert!(doc["paths"]["/v1/merchant/products"]["post"]["responses"]["413"].is_object());
    // Request ids: set when absent, propagated when sent.
    let r = s.get("/healthz", None).await;
    assert!(r.headers.get("x-request-id").is_some());
    let r = s
        .send(
            s.http
                .get(format!("{}/healthz", s.url))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "abc-123");
    let m = s.get("/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(m.text.contains("warung_http_requests_total"), "{}", m.text);
    assert!(m.text.contains("route=\"/healthz\""));
    // The backend's own gauges: the SQLite writer's group commits or the PostgreSQL pool.
    match warung_server::testing::backend() {
        "postgres" => assert!(m.text.contains("warung_db_pool_size"), "{}", m.text),
        _ => assert!(m.text.contains("warung_writer_jobs"), "{}", m.text),
    }
    s.server.shutdown().await;
}

#[tokio::test]
async fn merchant_crud_publishes_catalog_ops_in_order() {
    let s = spawn(false).await;
    let (_, head0) = s.pull("catalog", 0, 5000, None).await;
    let start = head0.len() as u64; // the default categories
    assert!(start > 0);
    let cursor = s.pull("catalog", 0, 5000, None).await.0.checkpoint.op_id;
    let (mid, key) = s.merchant("Batik Pesona").await;
    let k = Some(key.as_str());

    let r = s
        .call(
            "PUT",
            "/v1/merchant",
            k,
            Some(json!({"name": "Batik Pesona", "city": "Pekalongan"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["city"], "Pekalongan");
    let r = s
        .call(
            "POST",
            "/v1/merchant/products",
            k,
            Some(product_input("Kemeja batik")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = r.body["product"]["id"].as_str().unwrap().to_owned();
    assert!(pid.starts_with("p-"));
    assert_eq!(r.body["product"]["merchant_id"], mid.as_str());
    let r = s
        .call(
            "POST",
            &format!("/v1/merchant/products/{pid}/variants"),
            k,
            Some(variant_input(3)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["stock_count"], 3);
    assert_eq!(r.body["variant"]["stock"], "low");
    let vid = r.body["variant"]["id"].as_str().unwrap().to_owned();
    // Stock within the band: no new op; across a band: a new op.
    let r = s
        .call(
            "PUT",
            &format!("/v1/merchant/variants/{vid}/stock"),
            k,
            Some(json!({"stock": 4})),
        )
        .await;
    assert_eq!(r.status, 200);
    let (p1, _) = s.pull("catalog", cursor, 100, None).await;
    let r = s
        .call(
            "PUT",
            &format!("/v1/merchant/variants/{vid}/stock"),
            k,
            Some(json!({"stock": 1234})),
        )
        .await;
    assert_eq!(r.body["stock_count"], 1234);
    let (p2, _) = s.pull("catalog", cursor, 100, None).await;
    assert_eq!(
        p1.ops.len(),
        p2.ops.len(),
        "the variant's op is replaced, not added"
    );
    assert!(p2.head > p1.head);
    let r = s
        .call(
            "PUT",
            &format!("/v1/merchant/variants/{vid}/prices"),
            k,
            Some(json!({"prices": [{"amount": idr("99000"), "compare_at": null}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&format!("/v1/merchant/products/{pid}"), k).await;
    assert_eq!(r.body["variants"][0]["stock_count"], 1234);
    let r = s.get("/v1/merchant/products?limit=10", k).await;
    assert_eq!(r.body["products"].as_array().unwrap().len(), 1);
    assert!(r.body["next_after"].is_null());

    let (page, ops) = s.pull("catalog", cursor, 100, None).await;
    // merchant (once: the PUT replaced the create's op), product, variant — in op id order.
    let kinds: Vec<_> = ops
        .iter()
        .map(|o| o["entity"]["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["merchant", "product", "variant"]);
    let ids: Vec<u64> = ops.iter().map(|o| o["op_id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(page.checkpoint.op_id, *ids.last().unwrap());
    assert!(!page.has_more);
    assert_eq!(page.remaining, 0);
    assert_eq!(ops[2]["entity"]["stock"], "in_stock");
    assert_eq!(ops[2]["entity"]["prices"][0]["amount"]["amount"], "99000");
    assert!(
        !page
            .ops
            .iter()
            .any(|o| o.get().contains("1234") || o.get().contains("stock_count")),
        "the exact count never reaches the catalog"
    );

    // Delete: tombstones for the product and its variant replace their PUTs.
    let r = s
        .call("DELETE", &format!("/v1/merchant/products/{pid}"), k, None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        s.get(&format!("/v1/merchant/products/{pid}"), k)
            .await
            .status,
        404
    );
    let (_, ops) = s.pull("catalog", cursor, 100, None).await;
    let shapes: Vec<_> = ops
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["op"].as_str().unwrap(),
                o["kind"].as_str().or(o["entity"]["type"].as_str()).unwrap()
            )
        })
        .collect();
    assert_eq!(shapes, ["put merchant", "remove variant", "remove product"]);
    s.server.shutdown().await;
}

#[tokio::test]
async fn merchants_never_see_or_touch_each_other() {
    let s = spawn(false).await;
    let (_, ka) = s.merchant("A").await;
    let (_, kb) = s.merchant("B").await;
    let (a, b) = (Some(ka.as_str()), Some(kb.as_str()));
    let r = s
        .call(
            "POST",
            "/v1/merchant/products",
            a,
            Some(product_input("A's")),
        )
        .await;
    let pid = r.body["product"]["id"].as_str().unwrap().to_owned();
    let r = s
        .call(
            "POST",
            &format!("/v1/merchant/products/{pid}/variants"),
            a,
            Some(variant_input(10)),
        )
        .await;
    let vid = r.body["variant"]["id"].as_str().unwrap().to_owned();
    let attempts = [
        ("GET", format!("/v1/merchant/products/{pid}"), None),
        (
            "PUT",
            format!("/v1/merchant/products/{pid}"),
            Some(product_input("stolen")),
        ),
        ("DELETE", format!("/v1/merchant/products/{pid}"), None),
        (
            "POST",
            format!("/v1/merchant/products/{pid}/variants"),
            Some(variant_input(1)),
        ),
        (
            "PUT",
            format!("/v1/merchant/variants/{vid}"),
            Some(variant_input(1)),
        ),
        ("DELETE", format!("/v1/merchant/variants/{vid}"), None),
        (
            "PUT",
            format!("/v1/merchant/variants/{vid}/stock"),
            Some(json!({"stock": 0})),
        ),
        (
            "PUT",
            format!("/v1/merchant/variants/{vid}/prices"),
            Some(json!({"prices": [{"amount": idr("1"), "compare_at": null}]})),
        ),
    ];
    for (method, path, body) in attempts {
        let r = s.call(method, &path, b, body).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
        assert_eq!(error_code(&r), "not_found");
    }
    assert!(
        s.get("/v1/merchant/products", b).await.body["products"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = s.get(&format!("/v1/merchant/products/{pid}"), a).await;
    assert_eq!(r.body["product"]["title"], "A's");
    assert_eq!(r.body["variants"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["variants"][0]["stock_count"], 10);
    s.server.shutdown().await;
}

#[tokio::test]
async fn client_mistakes_get_typed_4xx() {
    let s = spawn(false).await;
    let (_, key) = s.merchant("M").await;
    let k = Some(key.as_str());
    let post = |body: &'static str, ct: Option<&'static str>| {
        let mut req = s
            .http
            .post(format!("{}/v1/merchant/products", s.url))
            .bearer_auth(&key)
            .body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        s.send(req)
    };
    let r = post("{not json", Some("application/json")).await;
    assert_eq!((r.status, error_code(&r)), (400, "invalid_json"));
    let r = post(
        r#"{"category_id": 5, "title": "x"}"#,
        Some("application/json"),
    )
    .await;
    assert_eq!((r.status, error_code(&r)), (422, "invalid_data"));
    let r = post(r#"{"category_id": "c-fashion", "title": "x"}"#, None).await;
    assert_eq!((r.status, error_code(&r)), (415, "unsupported_media_type"));
    let huge = format!(
        r#"{{"category_id":"c-fashion","title":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let r = s
        .send(
            s.http
                .post(format!("{}/v1/merchant/products", s.url))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!((r.status, error_code(&r)), (413, "payload_too_large"));

    for q in [
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=5001",
        "after=-3",
        "after=x",
        "after=9223372036854775808",
        "horizon=9223372036854775808",
        "horizon=-1",
    ] {
        let r = s.get(&format!("/v1/buckets/catalog/ops?{q}"), None).await;
        assert_eq!((r.status, error_code(&r)), (400, "invalid_query"), "{q}");
    }
    let r = s.get("/v1/buckets/orders/ops", None).await;
    assert_eq!((r.status, error_code(&r)), (404, "unknown_bucket"));
    let r = s.get("/v1/nope", None).await;
    assert_eq!((r.status, error_code(&r)), (404, "not_found"));
    let r = s.call("DELETE", "/v1/categories", None, None).await;
    assert_eq!((r.status, error_code(&r)), (405, "method_not_allowed"));
    for token in [None, Some("wmk_nope"), Some("garbage"), Some("wdt_x")] {
        let r = s.get("/v1/merchant", token).await;
        assert_eq!((r.status, error_code(&r)), (401, "unauthorized"));
    }
    let r = s.get("/v1/buckets/device/ops", None).await;
    assert_eq!((r.status, error_code(&r)), (401, "unauthorized"));
    let r = s.get("/v1/buckets/device/ops", k).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (401, "unauthorized"),
        "a merchant key is not a device token"
    );

    // Validation.
    let cases = [
        (
            json!({"category_id": "c-fashion", "title": "  "}),
            "invalid_text",
        ),
        (
            json!({"category_id": "c-nope", "title": "ok"}),
            "unknown_category",
        ),
    ];
    for (body, code) in cases {
        let r = s.call("POST", "/v1/merchant/products", k, Some(body)).await;
        assert_eq!((r.status, error_code(&r)), (422, code));
    }
    let pid = s
        .call(
            "POST",
            "/v1/merchant/products",
            k,
            Some(product_input("ok")),
        )
        .await
        .body["product"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad_variants = [
        json!({"sku": "", "prices": [{"amount": idr("1"), "compare_at": null}], "stock": 1, "weight_grams": 1}),
        json!({"sku": "a", "prices": [], "stock": 1, "weight_grams": 1}),
        json!({"sku": "a", "prices": [{"amount": idr("1"), "compare_at": null}, {"amount": idr("2"), "compare_at": null}], "stock": 1, "weight_grams": 1}),
        json!({"sku": "a", "prices": [{"amount": idr("100"), "compare_at": idr("90")}], "stock": 1, "weight_grams": 1}),
        json!({"sku": "a", "prices": [{"amount": idr("100"), "compare_at": {"amount": "200", "currency": "USD"}}], "stock": 1, "weight_grams": 1}),
        json!({"sku": "a", "prices": [{"amount": idr("100.5"), "compare_at": null}], "stock": 1, "weight_grams": 1}),
        json!({"sku": "a", "prices": [{"amount": idr("0"), "compare_at": null}], "stock": 1, "weight_grams": 1}),
        json!({"sku": "a", "prices": [{"amount": idr("5"), "compare_at": null}], "stock": -1, "weight_grams": 1}),
    ];
    for body in bad_variants {
        let r = s
            .call(
                "POST",
                &format!("/v1/merchant/products/{pid}/variants"),
                k,
                Some(body.clone()),
            )
            .await;
        let code = if body["sku"] == "" {
            "invalid_text"
        } else {
            "invalid_data"
        };
        assert_eq!((r.status, error_code(&r)), (422, code), "{body}");
    }
    assert!(
        s.get(&format!("/v1/merchant/products/{pid}"), k).await.body["variants"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    s.server.shutdown().await;
}

#[tokio::test]
async fn paging_compaction_reset_and_tombstones() {
    let s = spawn(true).await;
    let (first, _) = s.pull("catalog", 0, 100, None).await;
    assert_eq!(first.ops.len(), 100);
    assert!(first.has_more);
    let total = 10 + 23 + 351 + 779 + 8;
    assert_eq!(first.remaining, total - 100);
    assert_eq!(first.head, total);
    let mut cursor = 0;
    let mut seen = HashSet::new();
    loop {
        let (page, ops) = s.pull("catalog", cursor, 500, None).await;
        for o in &ops {
            assert!(seen.insert(o["op_id"].as_u64().unwrap()));
        }
        cursor = page.checkpoint.op_id;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen.len() as u64, total);
    assert_eq!(cursor, total);
    // Demo bands map to counts; a demo merchant gets a key by rotation.
    let admin = s.server.admin();
    let (_, key1) = admin.rotate_key("m-batik-pesona").await.unwrap();
    let r = s.get("/v1/merchant/products?limit=200", Some(&key1)).await;
    assert_eq!(r.status, 200);
    let products = r.body["products"].as_array().unwrap().clone();
    assert!(!products.is_empty());
    for p in &products {
        for v in p["variants"].as_array().unwrap() {
            let want = match v["variant"]["stock"].as_str().unwrap() {
                "in_stock" => 50,
                "low" => 3,
                _ => 0,
            };
            assert_eq!(v["stock_count"], want);
        }
    }
    let (_, key2) = admin.rotate_key("m-batik-pesona").await.unwrap();
    assert_eq!(
        s.get("/v1/merchant", Some(&key1)).await.status,
        401,
        "the old key stops working"
    );
    assert_eq!(s.get("/v1/merchant", Some(&key2)).await.status, 200);
    assert!(admin.rotate_key("m-nope").await.is_err());

    // Delete a product: tombstones; compaction drops them and resets old cursors.
    let pid = products[0]["product"]["id"].as_str().unwrap();
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/v1/merchant/products/{pid}"),
            Some(&key2),
            None
        )
        .await
        .status,
        204
    );
    let (page, ops) = s.pull("catalog", cursor, 100, None).await;
    assert!(ops.iter().all(|o| o["op"] == "remove"));
    assert!(!ops.is_empty());
    let report = admin.compact(0).await.unwrap();
    assert_eq!(report.tombstones_removed, ops.len() as u64);
    let (reset, _) = s.pull("catalog", 1, 100, None).await;
    assert!(reset.reset);
    assert!(reset.ops.is_empty());
    let (fresh, ops0) = s.pull("catalog", 0, 5000, None).await;
    assert!(!fresh.reset);
    assert!(ops0.iter().all(|o| o["op"] == "put"));
    assert!(!ops0.iter().any(|o| o["entity"]["id"] == pid));
    // A cursor at or after the horizon needs no reset.
    let (up_to_date, _) = s.pull("catalog", page.checkpoint.op_id, 100, None).await;
    assert!(!up_to_date.reset);
    s.server.shutdown().await;
}

#[tokio::test]
async fn devices_register_conflict_and_me() {
    let s = spawn(false).await;
    let (id, token) = s.device().await;
    assert!(token.starts_with("wdt_"));
    let r = s
        .call(
            "POST",
            "/v1/devices",
            None,
            Some(json!({"device_id": id, "platform": "ios"})),
        )
        .await;
    assert_eq!((r.status, error_code(&r)), (409, "device_exists"));
    for body in [
        json!({"device_id": "not-a-uuid", "platform": "ios"}),
        json!({"device_id": uuid::Uuid::now_v7().to_string(), "platform": "windows"}),
    ] {
        let r = s.call("POST", "/v1/devices", None, Some(body)).await;
        assert_eq!((r.status, error_code(&r)), (422, "invalid_data"));
    }
    let r = s.get("/v1/devices/me", Some(&token)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["device_id"], id.as_str());
    assert_eq!(r.body["next_seq"], 1);
    assert_eq!(s.get("/v1/devices/me", None).await.status, 401);
    let (page, _) = s.pull("device", 0, 10, Some(&token)).await;
    assert!(page.ops.is_empty());
    s.server.shutdown().await;
}

fn intent(device: &str, seq: u64, body: Value) -> Value {
    let mut i = json!({"device_id": device, "seq": seq, "idempotency_key": format!("k-{device}-{seq}"),
        "created_at": "2026-06-01T10:00:00Z"});
    for (k, v) in body.as_object().unwrap() {
        i[k] = v.clone();
    }
    i
}

fn set_line(variant: &str, q: u32) -> Value {
    json!({"kind": "cart.set_line", "payload": {"variant_id": variant, "quantity": q}})
}

#[tokio::test]
async fn intents_apply_exactly_once_under_concurrency() {
    let s = spawn(true).await;
    let (dev, token) = s.device().await;
    let n = 40u64;
    let all: Vec<Value> = (1..=n)
        .map(|seq| intent(&dev, seq, set_line("v-0001-1", (seq % 5 + 1) as u32)))
        .collect();
    // 8 tasks send overlapping, reordered windows of the sequence, repeatedly.
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let (http, url, token, all) = (s.http.clone(), s.url.clone(), token.clone(), all.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..12u64 {
                let lo = ((t * 3 + round * 4) % n) as usize;
                let mut window: Vec<Value> = all[..(lo + 8).min(n as usize)].to_vec();
                window.reverse();
                window.push(window[0].clone()); // a duplicate seq within the batch
                let r = http
                    .post(format!("{url}/v1/intents"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(json!({"intents": window}).to_string())
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                assert!(status == 200, "{status} {}", r.text().await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Finish the tail in one batch, then resend everything: stored results come back.
    let r = s
        .call(
            "POST",
            "/v1/intents",
            Some(&token),
            Some(json!({"intents": all})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["next_seq"], n + 1);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len() as u64, n);
    assert!(results.iter().all(|x| x["outcome"]["status"] == "applied"));
    assert_eq!(
        s.get("/v1/devices/me", Some(&token)).await.body["next_seq"],
        n + 1
    );
    // Device bucket: one intent_result per seq, and the single cart op.
    let (_, ops) = s.pull("device", 0, 5000, Some(&token)).await;
    let results: Vec<_> = ops.iter().filter(|o| o["op"] == "intent_result").collect();
    assert_eq!(results.len() as u64, n);
    let carts: Vec<_> = ops.iter().filter(|o| o["op"] == "cart").collect();
    assert_eq!(carts.len(), 1);
    assert_eq!(
        carts[0]["cart"]["lines"],
        json!([{"variant_id": "v-0001-1", "quantity": n % 5 + 1}])
    );
    let m = s.get("/metrics", None).await.text;
    assert!(
        m.contains(&format!("warung_intents_total{{outcome=\"applied\"}} {n}")),
        "{m}"
    );
    s.server.shutdown().await;
}

#[tokio::test]
async fn gaps_conflicts_rejections_and_cart_mirror() {
    let s = spawn(true).await;
    let (dev, token) = s.device().await;
    let t = Some(token.as_str());
    // A gap with nothing processable.
    let r = s
        .call(
            "POST",
            "/v1/intents",
            t,
            Some(json!({"intents": [intent(&dev, 3, set_line("v-0001-1", 1))]})),
        )
        .await;
    assert_eq!((r.status, error_code(&r)), (409, "sequence_gap"));
    assert_eq!(r.body["error"]["expected_seq"], 1);
    // Another device's intent.
    let r = s
        .call(
            "POST",
            "/v1/intents",
            t,
            Some(json!({"intents": [intent("someone-else", 1, set_line("v-0001-1", 1))]})),
        )
        .await;
    assert_eq!((r.status, error_code(&r)), (403, "forbidden"));
    // Applied, rejections, and a gap after some progress.
    let batch = json!({"intents": [
        intent(&dev, 1, set_line("v-0001-1", 2)),
        intent(&dev, 2, set_line("v-nope", 1)),
        intent(&dev, 3, set_line("v-0020-2", 1)),
        intent(&dev, 4, set_line("v-0001-1", 100)),
        intent(&dev, 5, json!({"kind": "voucher.apply", "payload": {"code": "hemat10"}})),
        intent(&dev, 6, json!({"kind": "voucher.apply", "payload": {"code": "LEBARAN2025"}})),
        intent(&dev, 7, json!({"kind": "voucher.apply", "payload": {"code": "NOPE"}})),
        intent(&dev, 8, json!({"kind": "voucher.apply", "payload": {"code": "WARUNG25K"}})),
        intent(&dev, 10, set_line("v-0001-1", 1)),
    ]});
    let r = s.call("POST", "/v1/intents", t, Some(batch.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let outcomes: Vec<String> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let o = &x["outcome"];
            format!(
                "{}{}",
                o["status"].as_str().unwrap(),
                o["reason"]
                    .as_str()
                    .map(|r| format!(":{r}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "applied",
            "rejected:unknown_variant",
            "rejected:out_of_stock",
            "rejected:invalid_quantity",
            "applied",
            "rejected:voucher_expired",
            "rejected:unknown_voucher",
            "applied"
        ]
    );
    assert_eq!(r.body["next_seq"], 9);
    // Resend: the same stored results, nothing re-applied.
    let again = s.call("POST", "/v1/intents", t, Some(batch)).await;
    assert_eq!(again.body["results"], r.body["results"]);
    // Same seq, different payload → conflict, and nothing in that request is applied.
    let r = s
        .call(
            "POST",
            "/v1/intents",
            t,
            Some(json!({"intents": [
                intent(&dev, 9, json!({"kind": "cart.clear", "payload": {}})),
                intent(&dev, 1, set_line("v-0001-1", 7)),
            ]})),
        )
        .await;
    assert_eq!((r.status, error_code(&r)), (409, "idempotency_conflict"));
    assert_eq!(
        s.get("/v1/devices/me", t).await.body["next_seq"],
        9,
        "seq 9 was rolled back"
    );
    // A reused idempotency key on a new seq → conflict.
    let mut reuse = intent(&dev, 9, set_line("v-0001-1", 3));
    reuse["idempotency_key"] = json!(format!("k-{dev}-1"));
    let r = s
        .call("POST", "/v1/intents", t, Some(json!({"intents": [reuse]})))
        .await;
    assert_eq!((r.status, error_code(&r)), (409, "idempotency_conflict"));
    // The cart mirror: one line, the platform voucher replaced by the newer one.
    let (_, ops) = s.pull("device", 0, 5000, Some(&token)).await;
    let cart = ops.iter().find(|o| o["op"] == "cart").unwrap();
    assert_eq!(
        cart["cart"],
        json!({"lines": [{"variant_id": "v-0001-1", "quantity": 2}], "vouchers": ["WARUNG25K"]})
    );
    assert_eq!(ops.iter().filter(|o| o["op"] == "intent_result").count(), 8);
    // Too many intents.
    let big: Vec<Value> = (1..=501)
        .map(|i| intent(&dev, i, set_line("v-0001-1", 1)))
        .collect();
    let r = s
        .call("POST", "/v1/intents", t, Some(json!({"intents": big})))
        .await;
    assert_eq!((r.status, error_code(&r)), (413, "batch_too_large"));
    s.server.shutdown().await;
}

#[tokio::test]
async fn group_commit_batches_concurrent_writes() {
    let s = spawn(false).await;
    // The SQLite writer's group commit; PostgreSQL has no writer thread to measure.
    let Some(before) = s.server.admin().writer_stats() else {
        eprintln!(
            "skipped on {}: no writer thread",
            warung_server::testing::backend()
        );
        return;
    };
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (http, url) = (s.http.clone(), s.url.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"device_id": uuid::Uuid::now_v7().to_string(), "platform": "cli"});
            http.post(format!("{url}/v1/devices"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let after = s.server.admin().writer_stats().unwrap();
    let jobs = after.jobs - before.jobs;
    let txs = after.transactions - before.transactions;
    assert_eq!(jobs, 64);
    assert!(
        txs < jobs,
        "{jobs} jobs in {txs} transactions: group commit should batch"
    );
    s.server.shutdown().await;
}

#[tokio::test]
async fn restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_at(dir.path(), true).await;
    let s = Srv {
        clock: server.clock(),
        url: server.url(),
        server,
        http: reqwest::Client::new(),
        _dir: None,
    };
    let (mid, key) = s.merchant("Persisted").await;
    let pid = s
        .call(
            "POST",
            "/v1/merchant/products",
            Some(&key),
            Some(product_input("kept")),
        )
        .await
        .body["product"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (dev, token) = s.device().await;
    let r = s
        .call(
            "POST",
            "/v1/intents",
            Some(&token),
            Some(json!({"intents": [intent(&dev, 1, set_line("v-0001-1", 2))]})),
        )
        .await;
    assert_eq!(r.status, 200);
    let (before, _) = s.pull("catalog", 0, 5000, None).await;
    s.server.shutdown().await;

    let server = start_at(dir.path(), true).await; // --demo again: not re-seeded
    let s = Srv {
        clock: server.clock(),
        url: server.url(),
        server,
        http: reqwest::Client::new(),
        _dir: None,
    };
    let (after, _) = s.pull("catalog", 0, 5000, None).await;
    assert_eq!(after.head, before.head);
    assert_eq!(after.checkpoint, before.checkpoint);
    assert_eq!(
        s.get(&format!("/v1/merchant/products/{pid}"), Some(&key))
            .await
            .status,
        200
    );
    assert_eq!(
        s.get("/v1/merchant", Some(&key)).await.body["id"],
        mid.as_str()
    );
    assert_eq!(
        s.get("/v1/devices/me", Some(&token)).await.body["next_seq"],
        2
    );
    let r = s
        .call(
            "POST",
            "/v1/intents",
            Some(&token),
            Some(json!({"intents": [intent(&dev, 1, set_line("v-0001-1", 2))]})),
        )
        .await;
    assert_eq!(r.body["results"][0]["outcome"]["status"], "applied");
    s.server.shutdown().await;
}

#[tokio::test]
async fn large_pages_are_compressed() {
    let s = spawn(true).await;
    for enc in ["gzip", "zstd"] {
        let r = reqwest::Client::builder()
            .no_gzip()
            .no_zstd()
            .build()
            .unwrap()
            .get(format!("{}/v1/buckets/catalog/ops?limit=2000", s.url))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], enc);
    }
    s.server.shutdown().await;
}

#[tokio::test]
async fn serves_tls_with_rustls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("openssl not available: TLS test skipped");
        return;
    }
    let mut config = Config::new(dir.path());
    config.database_url = warung_server::testing::database_url_for(dir.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(warung_server::TlsPaths { cert, key });
    let server = warung_server::start(config).await.unwrap();
    assert!(server.url().starts_with("https://"));
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/healthz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.shutdown().await;
}

/// Every `$ref` of a document, with where it is.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    out.push((at.to_owned(), v.as_str().unwrap_or("").to_owned()));
                } else {
                    refs(v, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// What Schemathesis (tests/schemathesis) found: the document and the server must agree.
#[tokio::test]
async fn openapi_document_and_server_agree() {
    let s = spawn(false).await;
    let doc = s.get("/openapi.json", None).await.body;
    // Every reference resolves (`Bucket` once did not).
    let mut all = Vec::new();
    refs(&doc, "", &mut all);
    assert!(!all.is_empty());
    for (at, r) in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{at}: unexpected $ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{at}: $ref {r} does not resolve"
        );
    }
    // The category of a product is one of the published taxonomy.
    let categories =
        doc["components"]["schemas"]["ProductInput"]["properties"]["category_id"]["enum"]
            .as_array()
            .expect("category_id enum");
    assert!(categories.contains(&json!("c-fashion")));
    // u32 fields are documented as such, not as int32.
    let stock = &doc["components"]["schemas"]["StockUpdate"]["properties"]["stock"];
    assert_eq!(stock["maximum"], json!(u32::MAX), "{stock}");

    let (_, key) = s.merchant("Toko Angka").await;
    let k = Some(key.as_str());
    let r = s
        .call(
            "POST",
            "/v1/merchant/products",
            k,
            Some(product_input("Kain")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = r.body["product"]["id"].as_str().unwrap().to_owned();
    // `2.0` is the integer 2 in JSON Schema.
    let mut input = variant_input(3);
    input["stock"] = json!(3.0);
    input["weight_grams"] = json!(250.0);
    let r = s
        .call(
            "POST",
            &format!("/v1/merchant/products/{pid}/variants"),
            k,
            Some(input),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["stock_count"], 3);
    assert_eq!(r.body["variant"]["weight_grams"], 250);
    let vid = r.body["variant"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/merchant/variants/{vid}/stock");
    let r = s.call("PUT", &path, k, Some(json!({"stock": 7.0}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["stock_count"], 7);
    let r = s.call("PUT", &path, k, Some(json!({"stock": 7.5}))).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (422, "invalid_data"),
        "{}",
        r.text
    );
    let r = s
        .call("PUT", &path, k, Some(json!({"stock": u32::MAX})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Lengths and control characters are checked as sent, before trimming.
    let r = s
        .call(
            "PUT",
            "/v1/merchant",
            k,
            Some(json!({"name": "\u{b}Toko", "city": "Bogor"})),
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r)),
        (422, "invalid_text"),
        "{}",
        r.text
    );
    let r = s
        .call(
            "PUT",
            "/v1/merchant",
            k,
            Some(json!({"name": format!(" {}", "x".repeat(200)), "city": "Bogor"})),
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r)),
        (422, "invalid_text"),
        "{}",
        r.text
    );
    // Device ids are hyphenated UUIDs (`format: uuid`).
    let simple = uuid::Uuid::now_v7().simple().to_string();
    let r = s
        .call(
            "POST",
            "/v1/devices",
            None,
            Some(json!({"device_id": simple, "platform": "ios"})),
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r)),
        (422, "invalid_data"),
        "{}",
        r.text
    );
    s.server.shutdown().await;
}
