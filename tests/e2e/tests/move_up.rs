//! Moving up (issue 11): an operator who started on SQLite moves everything to PostgreSQL with
//! `warung-server move-to-postgres`; the phones keep syncing from their cursors — no reset, no
//! op twice, no op missed — their queued intents continue their sequence, and signed-in users
//! stay signed in.
//!
//! Needs `WARUNG_TEST_DATABASE_URL` (tests/run's postgres suite sets it); in a SQLite-only run
//! it says so and passes without testing anything.

use std::path::Path;
use warung_core::outbox::IntentState;
use warung_core::protocol::{OtpPurpose, Price, PricesUpdate, SmsLanguage, StockBand};
use warung_core::sync::CancelFlag;
use warung_e2e::{Phone, snapshot};

const DEV_TOKEN: &str = "move-dev-token";
const MERCHANT: &str = "m-kopi-nusantara";

fn config(data_dir: &Path, database_url: Option<String>) -> warung_server::Config {
    let mut config = warung_server::Config::new(data_dir);
    config.database_url = database_url;
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.demo = true;
    config.sms.dev_token = Some(DEV_TOKEN.into());
    config
}

/// Variants in stock of the merchant whose key the test rotates.
fn in_stock_variants(phone: &Phone, n: usize) -> Vec<String> {
    snapshot(&phone.profile)
        .keys()
        .map(|id| phone.profile.catalog().product(id).unwrap())
        .filter(|d| d.product.merchant_id == MERCHANT)
        .flat_map(|d| d.variants)
        .filter(|v| v.stock == StockBand::InStock)
        .map(|v| v.id)
        .take(n)
        .collect()
}

#[test]
fn phones_keep_syncing_from_their_cursors_after_the_move_to_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pg_url) = warung_server::testing::database_url_for(&dir.path().join("pg")) else {
        eprintln!("skipped: set WARUNG_TEST_DATABASE_URL (tests/run's postgres suite does)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sqlite_config = config(&dir.path().join("sqlite"), None);

    // Life on SQLite: a phone syncs the catalog, queues and sends cart intents, signs in.
    let (addr, phone, variants, key, signed_in) = rt.block_on(async {
        let server = warung_server::start(sqlite_config.clone()).await.unwrap();
        let url = server.url();
        let phone = Phone::open(&dir.path().join("phone"), &url, 200);
        phone.sync.sync_now(&CancelFlag::new()).await.unwrap();
        let variants = in_stock_variants(&phone, 3);
        phone.profile.cart().set_quantity(&variants[0], 2).unwrap();
        phone.profile.cart().set_quantity(&variants[1], 1).unwrap();
        let report = phone.sync.sync_now(&CancelFlag::new()).await.unwrap();
        assert_eq!(report.intents_applied, 2, "{report:?}");
        let challenge = phone
            .sync
            .request_otp("081234567077", OtpPurpose::Register, SmsLanguage::Id)
            .await
            .unwrap();
        let code = server
            .admin()
            .latest_dev_otp(&challenge.phone)
            .await
            .unwrap()
            .unwrap();
        let signed_in = phone
            .sync
            .verify_otp(&challenge.challenge_id, &code)
            .await
            .unwrap();
        let (_, key) = server.admin().rotate_key(MERCHANT).await.unwrap();
        let addr = server.addr();
        server.shutdown().await;
        (addr, phone, variants, key, signed_in)
    });
    let cursor_before = phone.profile.catalog().cursor().unwrap();
    let before = snapshot(&phone.profile);

    // The move, then PostgreSQL behind the same address.
    let report = rt
        .block_on(warung_server::move_to_postgres(&sqlite_config, &pg_url))
        .unwrap();
    assert!(report.total_rows() > 1000, "{report:?}");
    let mut pg_config = config(&dir.path().join("pg"), Some(pg_url.clone()));
    pg_config.listen = addr;
    rt.block_on(async {
        let server = warung_server::start(pg_config).await.unwrap();
        // Nothing new: no reset, no op again, the cart untouched.
        let report = phone.sync.sync_now(&CancelFlag::new()).await.unwrap();
        assert!(!report.reset, "{report:?}");
        assert_eq!(report.catalog_ops, 0, "{report:?}");
        assert_eq!(phone.profile.catalog().cursor().unwrap(), cursor_before);
        assert_eq!(snapshot(&phone.profile), before);
        // Still signed in: the session moved.
        let account = phone.sync.account().await.unwrap();
        assert_eq!(account.user_id, signed_in.user_id);

        // The merchant (same key) changes one price: exactly that op arrives, after the cursor.
        let (tx, rx) = std::sync::mpsc::channel();
        let url = server.url();
        let key2 = key.clone();
        let variant = variants[2].clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let status = rt.block_on(async {
                reqwest::Client::new()
                    .put(format!("{url}/v1/merchant/variants/{variant}/prices"))
                    .bearer_auth(key2)
                    .json(&PricesUpdate {
                        prices: vec![Price {
                            amount: warung_core::money::Money::parse(
                                "123400",
                                warung_core::money::Currency::IDR,
                            )
                            .unwrap(),
                            compare_at: None,
                        }],
                    })
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
            tx.send(status).unwrap();
        });
        assert_eq!(rx.recv().unwrap(), 200, "the moved merchant key works");
        let report = phone.sync.sync_now(&CancelFlag::new()).await.unwrap();
        assert!(!report.reset, "{report:?}");
        assert_eq!(report.catalog_ops, 1, "{report:?}");
        assert!(phone.profile.catalog().cursor().unwrap() > cursor_before);

        // The queue continues its sequence on the new database: applied once, no gap.
        phone.profile.cart().set_quantity(&variants[0], 5).unwrap();
        let report = phone.sync.sync_now(&CancelFlag::new()).await.unwrap();
        assert_eq!(report.intents_applied, 1, "{report:?}");
        let all = phone.profile.outbox().list(100).unwrap();
        assert!(all.iter().all(|q| q.state == IntentState::Applied));
        let mut seqs: Vec<u64> = all.iter().map(|q| q.intent.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, vec![1, 2, 3]);

        // A phone installed after the move sees exactly what the old phone holds.
        let fresh = Phone::open(&dir.path().join("fresh"), &server.url(), 200);
        fresh.sync.sync_now(&CancelFlag::new()).await.unwrap();
        assert_eq!(snapshot(&fresh.profile), snapshot(&phone.profile));
        server.shutdown().await;
    });
}
