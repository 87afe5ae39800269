//! End to end: a real warung-server on loopback and real core clients (profiles with sync
//! clients), as the phones use them.
//!
//! Processes that must die by SIGKILL (a phone mid-sync, the server mid-run) are this same test
//! binary re-run on one `#[ignore]`d child test, selected with `--ignored --exact`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use warung_core::protocol::{Price, PricesUpdate};
use warung_core::sync::CancelFlag;
use warung_e2e::{Phone, snapshot};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn demo_server(dir: &Path) -> warung_server::RunningServer {
    let mut config = warung_server::Config::new(dir.join("server"));
    config.database_url = warung_server::testing::database_url_for(&config.data_dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.demo = true;
    warung_server::start(config).await.unwrap()
}

/// Blocking merchant-API calls (on their own thread and runtime) so tests read top to bottom.
mod http {
    use reqwest::{Client, Method};

    pub fn put(url: &str, key: &str, path: &str, body: &impl serde::Serialize) -> u16 {
        send(
            Method::PUT,
            url,
            key,
            path,
            Some(serde_json::to_value(body).unwrap()),
        )
    }

    pub fn delete(url: &str, key: &str, path: &str) -> u16 {
        send(Method::DELETE, url, key, path, None)
    }

    pub fn send(
        method: Method,
        url: &str,
        key: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> u16 {
        let url = format!("{url}{path}");
        let key = key.to_string();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut req = Client::new().request(method, url).bearer_auth(key);
                if let Some(b) = body {
                    req = req.json(&b);
                }
                req.send().await.unwrap().status().as_u16()
            })
        })
        .join()
        .unwrap()
    }
}

#[test]
fn initial_sync_then_a_merchant_changes_a_price_and_deletes_a_product() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(demo_server(dir.path()));
    let phone = Phone::open(&dir.path().join("phone"), &server.url(), 100);

    let report = rt
        .block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    // The demo catalog: 10 merchants, 23 categories, 351 products, 779 variants, 8 vouchers.
    assert_eq!(report.catalog_ops, 10 + 23 + 351 + 779 + 8);
    let before = snapshot(&phone.profile);
    assert_eq!(before.len(), 351);
    // What the phone holds is exactly the bundled demo catalog.
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = warung_core::Profile::open(
        reference_dir.path().join("r.db"),
        warung_core::money::Currency::IDR,
    )
    .unwrap();
    reference
        .catalog()
        .apply(&warung_core::demo::demo_ops())
        .unwrap();
    assert_eq!(before, snapshot(&reference));
    assert!(
        !phone
            .profile
            .catalog()
            .search(&warung_core::catalog::SearchQuery::text("kopi"))
            .unwrap()
            .hits
            .is_empty()
    );

    // The merchant of a product changes a price and deletes another product.
    let detail = phone.profile.catalog().product("p-0024").unwrap();
    let merchant = detail.merchant.id.clone();
    let (_, key) = rt.block_on(server.admin().rotate_key(&merchant)).unwrap();
    let variant = &detail.variants[0];
    let new_price =
        warung_core::money::Money::parse("77000", warung_core::money::Currency::IDR).unwrap();
    let status = http::put(
        &server.url(),
        &key,
        &format!("/v1/merchant/variants/{}/prices", variant.id),
        &PricesUpdate {
            prices: vec![Price {
                amount: new_price,
                compare_at: None,
            }],
        },
    );
    assert_eq!(status, 200);
    let doomed = snapshot(&phone.profile)
        .keys()
        .find(|id| {
            *id != "p-0024" && phone.profile.catalog().product(id).unwrap().merchant.id == merchant
        })
        .cloned()
        .unwrap();
    let status = http::delete(
        &server.url(),
        &key,
        &format!("/v1/merchant/products/{doomed}"),
    );
    assert_eq!(status, 204, "delete {doomed}");

    let report = rt
        .block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert!(report.catalog_ops >= 2, "{report:?}");
    let after = phone.profile.catalog().product("p-0024").unwrap();
    assert_eq!(after.variants[0].prices[0].amount, new_price);
    assert!(matches!(
        phone.profile.catalog().product(&doomed),
        Err(warung_core::Error::UnknownProduct(_))
    ));
    assert_eq!(snapshot(&phone.profile).len(), 350);
    phone.profile.store().check_integrity().unwrap();
    rt.block_on(server.shutdown());
}

#[test]
fn reset_after_compaction_pulls_the_catalog_again() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(demo_server(dir.path()));
    let phone = Phone::open(&dir.path().join("phone"), &server.url(), 500);
    rt.block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    let synced = snapshot(&phone.profile);

    // Two products are deleted while the phone is away; compaction then drops the tombstones.
    let merchant = phone
        .profile
        .catalog()
        .product("p-0001")
        .unwrap()
        .merchant
        .id;
    let (_, key) = rt.block_on(server.admin().rotate_key(&merchant)).unwrap();
    let gone: Vec<String> = synced
        .keys()
        .filter(|id| phone.profile.catalog().product(id).unwrap().merchant.id == merchant)
        .take(2)
        .cloned()
        .collect();
    for id in &gone {
        let s = http::delete(&server.url(), &key, &format!("/v1/merchant/products/{id}"));
        assert_eq!(s, 204);
    }
    let compacted = rt.block_on(server.admin().compact(0)).unwrap();
    assert!(compacted.tombstones_removed >= 2, "{compacted:?}");

    let report = rt
        .block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert!(report.reset, "{report:?}");
    let now = snapshot(&phone.profile);
    assert_eq!(now.len(), synced.len() - 2);
    for id in &gone {
        assert!(!now.contains_key(id));
    }
    // A fresh phone agrees.
    let fresh = Phone::open(&dir.path().join("fresh"), &server.url(), 500);
    rt.block_on(fresh.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(snapshot(&fresh.profile), now);
    rt.block_on(server.shutdown());
}

/// The child side of the kill test: syncs the phone in WARUNG_E2E_PHONE from WARUNG_E2E_URL
/// until killed (or done).
#[test]
#[ignore = "child process of killed_sync_resumes_without_duplicates_or_gaps"]
fn child_phone_sync() {
    let Ok(dir) = std::env::var("WARUNG_E2E_PHONE") else {
        return;
    };
    let url = std::env::var("WARUNG_E2E_URL").unwrap();
    let phone = Phone::open(Path::new(&dir), &url, 40);
    rt().block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    println!("child sync done");
}

fn spawn_child(test: &str, envs: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        test,
        "--nocapture",
        "--test-threads=1",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

#[test]
fn killed_sync_resumes_without_duplicates_or_gaps() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(demo_server(dir.path()));
    let url = server.url();
    let phone_dir = dir.path().join("phone");
    std::fs::create_dir_all(&phone_dir).unwrap();
    let phone_env = phone_dir.to_str().unwrap().to_string();

    // Kill the syncing child at random moments until one run completes. Pages of 40 ops make
    // ~30 staged pages, so most kills land mid-sync.
    let mut kills = 0;
    let mut saw_staged = false;
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..12 {
        let mut child = spawn_child(
            "child_phone_sync",
            &[("WARUNG_E2E_PHONE", &phone_env), ("WARUNG_E2E_URL", &url)],
        );
        std::thread::sleep(Duration::from_millis(rng.u64(30..250)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let status = child.wait().unwrap();
        let phone = Phone::open(&phone_dir, &url, 40);
        phone.profile.store().check_integrity().unwrap();
        saw_staged |= phone.profile.catalog().staged_cursor().unwrap().is_some();
        if status.success() {
            break;
        }
    }
    assert!(kills > 0, "no run was killed: the test proves nothing");
    assert!(
        saw_staged,
        "no kill landed mid-sync (nothing was ever staged)"
    );

    // Whatever state the kills left, one more sync completes it: the same catalog as a phone
    // that synced without interruption — no duplicates (snapshot asserts), no gaps.
    let phone = Phone::open(&phone_dir, &url, 40);
    rt.block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(phone.profile.catalog().staged_cursor().unwrap(), None);
    let clean = Phone::open(&dir.path().join("clean"), &url, 1000);
    rt.block_on(clean.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(snapshot(&phone.profile), snapshot(&clean.profile));
    assert_eq!(
        phone.profile.catalog().cursor().unwrap(),
        clean.profile.catalog().cursor().unwrap()
    );
    println!("killed {kills} syncs mid-way");
    rt.block_on(server.shutdown());
}

#[test]
fn intents_are_applied_exactly_once_across_two_devices_and_concurrent_rounds() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(demo_server(dir.path()));
    let a = Phone::open(&dir.path().join("a"), &server.url(), 1000);
    let b = Phone::open(&dir.path().join("b"), &server.url(), 1000);
    rt.block_on(a.sync.sync_now(&CancelFlag::new())).unwrap();
    rt.block_on(b.sync.sync_now(&CancelFlag::new())).unwrap();
    assert_ne!(
        a.profile.outbox().device_id().unwrap(),
        b.profile.outbox().device_id().unwrap()
    );
    let variants: Vec<String> = snapshot(&a.profile)
        .keys()
        .flat_map(|id| a.profile.catalog().product(id).unwrap().variants)
        .filter(|v| v.stock == warung_core::protocol::StockBand::InStock)
        .map(|v| v.id)
        .take(12)
        .collect();
    for (i, v) in variants.iter().enumerate() {
        a.profile
            .cart()
            .set_quantity(v, (i % 3 + 1) as i64)
            .unwrap();
        if i % 2 == 0 {
            b.profile.cart().add(v, 1).unwrap();
        }
    }
    a.profile.cart().remove(&variants[0]).unwrap();
    // Several rounds at once from each phone (and a second client on the same profile, as an
    // app's background loop and a pull-to-refresh would): each intent ends exactly once.
    let a2 = Phone::open(&dir.path().join("a"), &server.url(), 1000);
    rt.block_on(async {
        let c = CancelFlag::new();
        let (r1, r2, r3, r4) = tokio::join!(
            a.sync.sync_now(&c),
            a2.sync.sync_now(&c),
            b.sync.sync_now(&c),
            b.sync.sync_now(&c)
        );
        for r in [r1, r2, r3, r4] {
            r.unwrap();
        }
    });
    for phone in [&a, &b] {
        assert_eq!(phone.profile.outbox().pending_count().unwrap(), 0);
        let all = phone.profile.outbox().list(1000).unwrap();
        assert!(
            all.iter()
                .all(|q| q.state == warung_core::outbox::IntentState::Applied)
        );
        let mut seqs: Vec<u64> = all.iter().map(|q| q.intent.seq).collect();
        seqs.sort();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    }
    // The server mirrors each cart separately: a reinstalled phone A (new profile, same
    // Keychain) gets A's cart back, not B's.
    let reinstall = Phone::open_with(
        &dir.path().join("a-reinstalled"),
        &dir.path().join("a").join("keys"),
        &server.url(),
        1000,
    );
    let report = rt
        .block_on(reinstall.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert!(report.cart_restored, "{report:?}");
    let lines = |p: &Phone| -> Vec<(String, u32)> {
        let mut v: Vec<_> = p
            .profile
            .cart()
            .view()
            .unwrap()
            .groups
            .iter()
            .flat_map(|g| g.lines.iter().map(|l| (l.variant_id.clone(), l.quantity)))
            .collect();
        v.sort();
        v
    };
    assert_eq!(lines(&reinstall), lines(&a));
    assert_ne!(lines(&reinstall), lines(&b));
    // The reinstalled phone continues A's sequence: its next intent is applied, not a gap.
    reinstall.profile.cart().clear().unwrap();
    rt.block_on(reinstall.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(reinstall.profile.outbox().pending_count().unwrap(), 0);
    rt.block_on(server.shutdown());
}

/// The child side of the server-kill test: a server on WARUNG_E2E_LISTEN over
/// WARUNG_E2E_SERVER_DIR until killed.
#[test]
#[ignore = "child process of server_killed_mid_run_loses_no_acknowledged_intent"]
fn child_server() {
    let Ok(dir) = std::env::var("WARUNG_E2E_SERVER_DIR") else {
        return;
    };
    let rt = rt();
    rt.block_on(async {
        let mut config = warung_server::Config::new(dir);
        config.database_url = warung_server::testing::database_url_for(&config.data_dir);
        config.listen = std::env::var("WARUNG_E2E_LISTEN").unwrap().parse().unwrap();
        config.demo = true;
        let server = warung_server::start(config).await.unwrap();
        println!("listening on {}", server.url());
        std::future::pending::<()>().await;
    });
}

fn start_child_server(dir: &str, listen: &str) -> (Child, String) {
    let mut child = spawn_child(
        "child_server",
        &[
            ("WARUNG_E2E_SERVER_DIR", dir),
            ("WARUNG_E2E_LISTEN", listen),
        ],
    );
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        // The test harness prints "test child_server ... " on the same line first.
        let line = lines.next().expect("server child exited").unwrap();
        if let Some((_, u)) = line.split_once("listening on ") {
            break u.trim().to_string();
        }
    };
    (child, url)
}

#[test]
fn server_killed_mid_run_loses_no_acknowledged_intent() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let server_dir = dir.path().join("server");
    let server_dir = server_dir.to_str().unwrap();
    let (mut server, url) = start_child_server(server_dir, "127.0.0.1:0");
    let listen = url.trim_start_matches("http://").to_string();
    let phone = Phone::open(&dir.path().join("phone"), &url, 1000);
    rt.block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    let variants: Vec<String> = snapshot(&phone.profile)
        .keys()
        .flat_map(|id| phone.profile.catalog().product(id).unwrap().variants)
        .filter(|v| v.stock == warung_core::protocol::StockBand::InStock)
        .map(|v| v.id)
        .take(30)
        .collect();

    let mut rounds = 0;
    for chunk in variants.chunks(5) {
        for v in chunk {
            phone.profile.cart().add(v, 1).unwrap();
        }
        // Sync while the server is SIGKILLed at a random moment, then restarted on the same
        // port and data directory.
        let sync = phone.sync.clone();
        let handle = rt.spawn(async move { sync.sync_now(&CancelFlag::new()).await });
        std::thread::sleep(Duration::from_millis(fastrand::u64(0..15)));
        server.kill().unwrap();
        server.wait().unwrap();
        let _ = rt.block_on(handle).unwrap(); // may have failed: that is the point
        let (s, u) = start_child_server(server_dir, &listen);
        assert_eq!(u, url);
        server = s;
        rounds += 1;
    }
    rt.block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert!(rounds >= 6);

    // Every intent ended applied exactly once, and the server's record agrees: a fresh
    // install of this phone (same Keychain) restores exactly the local cart.
    let all = phone.profile.outbox().list(1000).unwrap();
    assert_eq!(all.len(), variants.len());
    assert!(
        all.iter()
            .all(|q| q.state == warung_core::outbox::IntentState::Applied)
    );
    let reinstall = Phone::open_with(
        &dir.path().join("phone-again"),
        &dir.path().join("phone").join("keys"),
        &url,
        1000,
    );
    let report = rt
        .block_on(reinstall.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert!(report.cart_restored);
    assert_eq!(
        reinstall.profile.cart().view().unwrap().item_count,
        variants.len() as u32
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_rejected_intent_reaches_the_listener_and_never_blocks_the_queue() {
    use std::sync::{Arc, Mutex};
    use warung_core::sync::{RejectedIntent, SyncListener};

    #[derive(Default)]
    struct Heard(Mutex<Vec<RejectedIntent>>);
    impl SyncListener for Heard {
        fn on_rejected(&self, r: &RejectedIntent) {
            self.0.lock().unwrap().push(r.clone());
        }
    }

    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(demo_server(dir.path()));
    let phone = Phone::open(&dir.path().join("phone"), &server.url(), 1000);
    let heard = Arc::new(Heard::default());
    phone.sync.set_listener(Some(heard.clone()));
    rt.block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();

    let detail = phone.profile.catalog().product("p-0024").unwrap();
    let sold_out = detail.variants[0].id.clone();
    let other = detail.variants[1].id.clone();
    // The phone adds a variant while offline; meanwhile the merchant sells the last one.
    phone.profile.cart().add(&sold_out, 1).unwrap();
    phone.profile.cart().add(&other, 1).unwrap();
    let (_, key) = rt
        .block_on(server.admin().rotate_key(&detail.merchant.id))
        .unwrap();
    let status = http::put(
        &server.url(),
        &key,
        &format!("/v1/merchant/variants/{sold_out}/stock"),
        &serde_json::json!({"stock": 0}),
    );
    assert_eq!(status, 200);

    let report = rt
        .block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(
        (report.intents_rejected, report.intents_applied),
        (1, 1),
        "{report:?}"
    );
    let first = heard.0.lock().unwrap().clone();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].reason, "out_of_stock");
    assert_eq!(first[0].kind, "cart.set_line");
    assert_eq!(phone.profile.outbox().pending_count().unwrap(), 0);
    // The sold-out band reached the phone in the same round.
    assert_eq!(
        phone.profile.catalog().variant(&sold_out).unwrap().stock,
        warung_core::protocol::StockBand::Out
    );
    // A second round re-hears nothing: the rejection ended the intent exactly once.
    rt.block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(heard.0.lock().unwrap().len(), 1);
    rt.block_on(server.shutdown());
}

#[test]
fn a_catalog_op_the_phone_cannot_store_is_quarantined_and_the_rest_of_the_checkpoint_applies() {
    use std::sync::{Arc, Mutex};
    use warung_core::money::{Currency, Money};
    use warung_core::protocol::EntityKind;
    use warung_core::sync::SyncListener;

    #[derive(Default)]
    struct Heard(Mutex<Vec<u64>>);
    impl SyncListener for Heard {
        fn on_quarantined(&self, count: u64) {
            self.0.lock().unwrap().push(count);
        }
    }
    let idr = |s: &str| Money::parse(s, Currency::IDR).unwrap();
    let price_of =
        |phone: &Phone, id: &str| phone.profile.catalog().variant(id).unwrap().prices[0].amount;

    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(demo_server(dir.path()));
    let db = warung_e2e::server_database(&dir.path().join("server"));
    let phone = Phone::open(&dir.path().join("phone"), &server.url(), 1000);
    let heard = Arc::new(Heard::default());
    phone.sync.set_listener(Some(heard.clone()));
    let first = rt
        .block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(first.catalog_quarantined, 0);

    // Three ops in one checkpoint: a valid price change, a variant whose price is past what a
    // phone stores (i64::MAX + 1 rupiah: only an older server or a bug can publish it, so it
    // is written to the server's op log directly), and another valid price change.
    let bad = "v-0125-2";
    let (a, b) = ("v-0024-1", "v-0006-1");
    let merchant = phone
        .profile
        .catalog()
        .product("p-0024")
        .unwrap()
        .merchant
        .id;
    for p in ["p-0125", "p-0006"] {
        assert_eq!(
            phone.profile.catalog().product(p).unwrap().merchant.id,
            merchant
        );
    }
    let (_, key) = rt.block_on(server.admin().rotate_key(&merchant)).unwrap();
    let set_price = |variant: &str, amount: &str| {
        http::put(
            &server.url(),
            &key,
            &format!("/v1/merchant/variants/{variant}/prices"),
            &PricesUpdate {
                prices: vec![Price {
                    amount: idr(amount),
                    compare_at: None,
                }],
            },
        )
    };
    let old_bad = price_of(&phone, bad);
    assert_eq!(set_price(a, "77000"), 200);
    let planted = warung_e2e::plant_variant_price(&db, bad, "9223372036854775808").unwrap();
    assert_eq!(set_price(b, "41000"), 200);
    // The op as served parses, and the apply path without quarantine (sync's before it, a
    // local import's still) refuses the whole batch over it.
    let mut served = warung_e2e::current_catalog_op(&db, "variant", bad)
        .unwrap()
        .unwrap();
    served["op_id"] = planted.into();
    let served: warung_core::protocol::CatalogOp = serde_json::from_value(served).unwrap();
    let scratch = warung_core::Profile::open(dir.path().join("scratch.db"), Currency::IDR).unwrap();
    assert!(
        matches!(
            scratch.catalog().apply(&[served]),
            Err(warung_core::Error::Money(_))
        ),
        "a local apply accepted the bad op"
    );

    // Without the quarantine this round failed with that money error, on every phone, for
    // good: the cursor could never pass the op.
    let report = rt
        .block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(report.catalog_ops, 3, "{report:?}");
    assert_eq!(report.catalog_quarantined, 1, "{report:?}");
    assert_eq!(*heard.0.lock().unwrap(), vec![1]);
    let q = phone.profile.catalog().quarantined().unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(
        (q[0].kind, q[0].id.as_str(), q[0].op_id),
        (EntityKind::Variant, bad, planted)
    );
    assert!(q[0].reason.contains("amount"), "{}", q[0].reason);
    assert_eq!(phone.profile.catalog().quarantined_count().unwrap(), 1);
    // The rest of the checkpoint applied and the cursor passed the bad op.
    assert_eq!(price_of(&phone, a), idr("77000"));
    assert_eq!(price_of(&phone, b), idr("41000"));
    assert!(report.catalog_cursor > planted, "{report:?}");
    // What the phone showed of the variant before stays.
    assert_eq!(price_of(&phone, bad), old_bad);
    assert!(
        phone
            .profile
            .catalog()
            .product("p-0125")
            .unwrap()
            .variants
            .iter()
            .any(|v| v.id == bad)
    );
    // A round with nothing new neither hears nor clears it.
    let again = rt
        .block_on(phone.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!((again.catalog_ops, again.catalog_quarantined), (0, 0));
    assert_eq!(heard.0.lock().unwrap().len(), 1);
    assert_eq!(phone.profile.catalog().quarantined_count().unwrap(), 1);

    // A phone installed now never had the variant: it quarantines it too (through the staged,
    // many-page path) and has the rest of the catalog, that product included.
    let fresh = Phone::open(&dir.path().join("fresh"), &server.url(), 100);
    let r = rt
        .block_on(fresh.sync.sync_now(&CancelFlag::new()))
        .unwrap();
    assert_eq!(r.catalog_quarantined, 1, "{r:?}");
    assert!(matches!(
        fresh.profile.catalog().variant(bad),
        Err(warung_core::Error::UnknownVariant(_))
    ));
    assert_eq!(snapshot(&fresh.profile).len(), 351);
    assert_eq!(
        fresh
            .profile
            .catalog()
            .product("p-0125")
            .unwrap()
            .variants
            .len(),
        2
    );

    // The merchant sets a valid price: the next round clears the quarantine on both phones.
    assert_eq!(set_price(bad, "61000"), 200);
    for p in [&phone, &fresh] {
        let r = rt.block_on(p.sync.sync_now(&CancelFlag::new())).unwrap();
        assert_eq!((r.catalog_ops, r.catalog_quarantined), (1, 0), "{r:?}");
        assert!(p.profile.catalog().quarantined().unwrap().is_empty());
        assert_eq!(price_of(p, bad), idr("61000"));
        p.profile.store().check_integrity().unwrap();
    }
    assert_eq!(snapshot(&phone.profile), snapshot(&fresh.profile));
    assert_eq!(heard.0.lock().unwrap().len(), 1);
    rt.block_on(server.shutdown());
}
