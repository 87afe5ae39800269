//! Several server processes on one database: every counter and limit holds across processes
//! (issue 11, DESIGN.md invariants 7, 8 and 12). Three servers share one database — this test's
//! own in-process server and two `warung-server` child processes — on whichever backend the
//! run uses (SQLite by default; PostgreSQL with `WARUNG_TEST_DATABASE_URL`). Fifty requests
//! race across the three, and each test asserts both the outcome and that the race happened
//! (the requests were in flight together and reached every process).

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_warung-server");
const RACERS: usize = 50;

/// A child `warung-server` on the same data directory / database as `s`, with the same
/// identity settings as [`test_config`]; killed on drop.
struct ChildServer {
    child: Child,
    url: String,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn child_server(data_dir: &std::path::Path, tune: &[&str]) -> ChildServer {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0", "--pin-iterations", "1000"])
        .args(["--otp-resend-s", "0", "--sms-gateway", "dev"])
        .args(tune)
        .env("WARUNG_SMS_INBOUND_SECRET", INBOUND_SECRET)
        .env("WARUNG_DEV_TOKEN", DEV_TOKEN)
        .env("WARUNG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = warung_server::testing::database_url_for(data_dir) {
        cmd.env("WARUNG_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no address from the child server: {line:?}"))
        .to_owned();
    ChildServer { child, url }
}

/// The in-process server (system clock: the children have one too) and two children.
async fn three_servers(tune: &[&str]) -> (Srv, Vec<ChildServer>, Vec<String>) {
    let s = spawn_with(|c| c.clock = warung_server::clock::Clock::system()).await;
    let dir = s._dir.as_ref().unwrap().path().to_owned();
    let children: Vec<ChildServer> = (0..2).map(|_| child_server(&dir, tune)).collect();
    let mut urls = vec![s.url.clone()];
    urls.extend(children.iter().map(|c| c.url.clone()));
    (s, children, urls)
}

/// Runs `RACERS` requests at once, the i-th against `urls[i % 3]`; returns the responses and
/// the most requests seen in flight together (the race happened when it is above 1).
async fn race<F, Fut>(urls: &[String], request: F) -> (Vec<Resp>, usize)
where
    F: Fn(usize, String) -> Fut,
    Fut: std::future::Future<Output = Resp> + Send + 'static,
{
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let fut = request(i, urls[i % urls.len()].clone());
        let (in_flight, most, start) = (in_flight.clone(), most.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            let r = fut.await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            r
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    (out, most.load(Ordering::SeqCst))
}

/// How many responses had each (status, code).
fn tally(rs: &[Resp]) -> BTreeMap<(u16, String), usize> {
    let mut m = BTreeMap::new();
    for r in rs {
        *m.entry((r.status, r.code().to_owned())).or_insert(0) += 1;
    }
    m
}

fn attempts_left(rs: &[Resp], code: &str) -> Vec<u64> {
    let mut v: Vec<u64> = rs
        .iter()
        .filter(|r| r.code() == code)
        .map(|r| r.body["error"]["attempts_left"].as_u64().unwrap())
        .collect();
    v.sort_unstable();
    v
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn fifty_wrong_pins_over_three_processes_lock_after_exactly_the_limit() {
    multi_thread().block_on(async {
        let (s, _children, urls) = three_servers(&[]).await;
        let p = s.login("081277770001").await;
        s.bind(&p).await;
        let r = s
            .signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "482916"})))
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        let (p, s) = (Arc::new(p), Arc::new(s));
        let (rs, most) = race(&urls, |_, url| {
            let (p, s) = (p.clone(), s.clone());
            async move {
                s.signed_to(
                    &url,
                    &p,
                    "POST",
                    "/v1/me/pin/verify",
                    Some(json!({"pin": "000001"})),
                )
                .await
            }
        })
        .await;
        assert!(most > 1, "the requests never overlapped");
        let t = tally(&rs);
        // Exactly 5 failures were counted: 4 answered with the attempts left (each value
        // once: no lost update), the 5th and every later one locked.
        assert_eq!(
            attempts_left(&rs, "pin_incorrect"),
            vec![1, 2, 3, 4],
            "{t:?}"
        );
        assert_eq!(
            t.get(&(423, "pin_locked".into())),
            Some(&(RACERS - 4)),
            "{t:?}"
        );
        // Locked everywhere, even for the right PIN.
        for url in &urls {
            s.signed_to(
                url,
                &p,
                "POST",
                "/v1/me/pin/verify",
                Some(json!({"pin": "482916"})),
            )
            .await
            .expect(423, "pin_locked");
        }
    });
}

#[test]
fn fifty_otp_guesses_over_three_processes_evaluate_at_most_the_attempt_limit() {
    multi_thread().block_on(async {
        let (s, _children, urls) = three_servers(&[]).await;
        let device = new_device_id();
        let r = s.request_otp("081277770002", "login", &device).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let challenge = r.body["challenge_id"].as_str().unwrap().to_owned();
        let right = s.dev_code("081277770002").await;
        let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
        let s = Arc::new(s);
        let (rs, most) = race(&urls, |_, url| {
            let (s, challenge, wrong, device) =
                (s.clone(), challenge.clone(), wrong.clone(), device.clone());
            async move {
                let body = json!({"challenge_id": challenge, "code": wrong, "device_id": device});
                s.send(s.http.post(format!("{url}/v1/auth/otp/verify")).json(&body))
                    .await
            }
        })
        .await;
        assert!(most > 1, "the requests never overlapped");
        let t = tally(&rs);
        // Five guesses evaluated: four answered with the attempts left (each value once: no
        // lost update), the fifth killed the challenge; the rest were refused unseen.
        assert_eq!(attempts_left(&rs, "otp_invalid"), vec![1, 2, 3, 4], "{t:?}");
        assert_eq!(
            t.get(&(403, "otp_locked".into())),
            Some(&(RACERS - 4)),
            "{t:?}"
        );
        // The right code is refused now, on every process.
        for url in &urls {
            let body = json!({"challenge_id": challenge, "code": right, "device_id": device});
            s.send(s.http.post(format!("{url}/v1/auth/otp/verify")).json(&body))
                .await
                .expect(403, "otp_locked");
        }
    });
}

#[test]
fn otp_send_limits_are_shared_by_the_processes() {
    multi_thread().block_on(async {
        // The per-phone hourly limit (5) with no cool-down; every process must agree.
        let (s, _children, urls) = three_servers(&[]).await;
        let s = Arc::new(s);
        let (rs, most) = race(&urls, |_, url| {
            let s = s.clone();
            async move {
                let body =
                    json!({"phone": "081277770003", "purpose": "login", "device_id": new_device_id()});
                s.send(s.http.post(format!("{url}/v1/auth/otp")).json(&body))
                    .await
            }
        })
        .await;
        assert!(most > 1, "the requests never overlapped");
        let t = tally(&rs);
        assert_eq!(t.get(&(200, String::new())), Some(&5), "{t:?}");
        assert_eq!(t.get(&(429, "rate_limited".into())), Some(&(RACERS - 5)), "{t:?}");
        let sent = s
            .server
            .admin()
            .dev_sms_outbox(Some("081277770003"), 100)
            .await
            .unwrap();
        assert_eq!(sent.len(), 5, "one SMS per accepted request");
    });
}

#[test]
fn one_intent_batch_sent_to_three_processes_at_once_is_applied_once() {
    multi_thread().block_on(async {
        let (s, _children, urls) = three_servers(&["--demo"]).await;
        // (the in-process server seeded the demo catalog: the children found it non-empty)
        let device = new_device_id();
        let r = s
            .call(
                "POST",
                "/v1/devices",
                None,
                Some(json!({"device_id": device, "platform": "android", "app_version": "1.0"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let token = r.body["device_token"].as_str().unwrap().to_owned();
        let variant = first_variant(&s).await;
        let batch: Value = json!({"intents": (1..=5).map(|seq| json!({
            "device_id": device, "seq": seq, "idempotency_key": format!("k-{seq}"),
            "created_at": "2026-06-01T10:00:00Z",
            "kind": "cart.set_line", "payload": {"variant_id": variant, "quantity": seq},
        })).collect::<Vec<_>>()});
        let s = Arc::new(s);
        let (rs, most) = race(&urls, |_, url| {
            let (s, token, batch) = (s.clone(), token.clone(), batch.clone());
            async move {
                s.send(
                    s.http
                        .post(format!("{url}/v1/intents"))
                        .bearer_auth(token)
                        .json(&batch),
                )
                .await
            }
        })
        .await;
        assert!(most > 1, "the requests never overlapped");
        // Every answer is the same stored result; the server applied each intent once.
        let first = &rs[0];
        assert_eq!(first.status, 200, "{}", first.text);
        for r in &rs {
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.body["results"], first.body["results"], "{}", r.text);
        }
        let r = s.get("/v1/buckets/device/ops?after=0", Some(&token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let ops = r.body["ops"].as_array().unwrap();
        let results = ops.iter().filter(|o| o["op"] == "intent_result").count();
        assert_eq!(results, 5, "one result op per intent: {}", r.text);
        let cart = ops.iter().find(|o| o["op"] == "cart").unwrap();
        assert_eq!(
            cart["cart"]["lines"][0]["quantity"], 5,
            "the last set_line wins once: {cart}"
        );
    });
}

async fn first_variant(s: &Srv) -> String {
    let r = s
        .get("/v1/buckets/catalog/ops?after=0&limit=500", None)
        .await;
    r.body["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["entity"]["type"] == "variant" && o["entity"]["stock"] == "in_stock")
        .map(|o| o["entity"]["id"].as_str().unwrap().to_owned())
        .expect("a variant in stock")
}

/// Pulls the catalog bucket from `after` to its end, in pages of `limit`; returns the ops.
async fn pull_all(s: &Srv, url: &str, mut after: u64, limit: u32) -> (Vec<Value>, u64) {
    let mut ops = Vec::new();
    loop {
        let r = s
            .send(s.http.get(format!(
                "{url}/v1/buckets/catalog/ops?after={after}&limit={limit}"
            )))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page = r.body["ops"].as_array().unwrap().clone();
        for op in &page {
            let id = op["op_id"].as_u64().unwrap();
            assert!(
                id > after,
                "op {id} after cursor {after}: ids must increase"
            );
            after = id;
        }
        ops.extend(page);
        if r.body["has_more"] != true {
            return (ops, after);
        }
    }
}

#[test]
fn op_ids_become_visible_in_order_under_concurrent_writers_and_pullers() {
    multi_thread().block_on(async {
        let (s, _children, urls) = three_servers(&[]).await;
        let (_, key) = s
            .server
            .admin()
            .create_merchant("Toko Balap", warung_core::protocol::MerchantKind::Shop)
            .await
            .unwrap();
        // One product with 30 variants: one per writer.
        let r = s
            .call(
                "POST",
                "/v1/merchant/products",
                Some(&key),
                Some(
                    json!({"category_id": "c-fashion", "title": "Kaos", "description": "",
                    "brand": "", "attributes": {}, "image_urls": []}),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let pid = r.body["product"]["id"].as_str().unwrap().to_owned();
        let mut variants = Vec::new();
        for i in 0..30 {
            let r = s
                .call(
                    "POST",
                    &format!("/v1/merchant/products/{pid}/variants"),
                    Some(&key),
                    Some(
                        json!({"sku": format!("K-{i}"), "options": {"no": i.to_string()},
                        "prices": [{"amount": {"amount": "1000", "currency": "IDR"}}],
                        "stock": 5, "weight_grams": 100}),
                    ),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            variants.push(r.body["variant"]["id"].as_str().unwrap().to_owned());
        }
        let s = Arc::new(s);
        let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
        // Pullers follow the log with small pages while the writers run, then catch up.
        let pullers: Vec<_> = (0..4)
            .map(|i| {
                let (s, url, writing) = (s.clone(), urls[i % 3].clone(), writing.clone());
                tokio::spawn(async move {
                    let (mut seen, mut after, mut rounds) = (BTreeMap::new(), 0u64, 0u32);
                    loop {
                        let done = !writing.load(Ordering::SeqCst);
                        let (ops, cursor) = pull_all(&s, &url, after, 7).await;
                        after = cursor;
                        rounds += 1;
                        for op in ops {
                            let id = op["entity"]["id"].as_str().unwrap_or("").to_owned();
                            seen.insert(id, op["entity"].clone());
                        }
                        if done {
                            return (seen, rounds);
                        }
                    }
                })
            })
            .collect();
        // 30 writers, 20 price changes each, spread over the three processes.
        let writers: Vec<_> = variants
            .iter()
            .enumerate()
            .map(|(w, vid)| {
                let (s, url, key, vid) = (s.clone(), urls[w % 3].clone(), key.clone(), vid.clone());
                tokio::spawn(async move {
                    for n in 1..=20 {
                        let body = json!({"prices": [{"amount":
                            {"amount": (1000 + n).to_string(), "currency": "IDR"}}]});
                        let r = s
                            .send(
                                s.http
                                    .put(format!("{url}/v1/merchant/variants/{vid}/prices"))
                                    .bearer_auth(&key)
                                    .json(&body),
                            )
                            .await;
                        assert_eq!(r.status, 200, "{}", r.text);
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        writing.store(false, Ordering::SeqCst);
        // What a phone starting now would get: the truth.
        let (truth, _) = pull_all(&s, &urls[0], 0, 500).await;
        let truth: BTreeMap<String, Value> = truth
            .into_iter()
            .map(|op| {
                (
                    op["entity"]["id"].as_str().unwrap_or("").to_owned(),
                    op["entity"].clone(),
                )
            })
            .collect();
        for p in pullers {
            let (seen, rounds) = p.await.unwrap();
            assert!(
                rounds > 1,
                "a puller ran only once: no overlap with the writers"
            );
            // A puller that skipped an op (one committed late under an id below its cursor)
            // would hold an older version of that variant forever.
            for vid in &variants {
                assert_eq!(seen.get(vid), truth.get(vid), "variant {vid}");
                assert_eq!(truth[vid]["prices"][0]["amount"]["amount"], "1020");
            }
        }
    });
}
