//! End to end: identity with a real warung-server on loopback and real core clients — the
//! phone's side of every step goes through `SyncClient`, exactly as the apps call it; the
//! SMS network is played by the dev gateway (codes the "phone receives") and by the signed
//! inbound webhook (the SMS the phone sends), as an aggregator would deliver it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use warung_core::Error;
use warung_core::protocol::{BindingState, InboundSms, OtpPurpose, SmsLanguage};
use warung_core::sync::CancelFlag;
use warung_core::verify::StepUpAction;
use warung_e2e::Phone;

const SECRET: &str = "e2e-inbound-secret";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn server(dir: &Path, access_ttl_s: i64) -> warung_server::RunningServer {
    let mut config = warung_server::Config::new(dir.join("server"));
    config.database_url = warung_server::testing::database_url_for(&config.data_dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.demo = true;
    config.sms.inbound_secret = Some(SECRET.into());
    config.identity.pin_iterations = 10_000;
    config.identity.access_ttl_s = access_ttl_s;
    // One second between codes to the same phone (30 s in production); the tests move the
    // server's clock past it and past token expiries instead of sleeping.
    config.identity.otp_resend_s = 1;
    config.clock = warung_server::clock::Clock::fixed_now();
    warung_server::start(config).await.unwrap()
}

/// The SMS a phone sends to the short code, delivered as the aggregator does: signed with the
/// shared secret over `timestamp.body`, stamped with the server's (test-moved) clock.
async fn deliver_sms(
    server: &warung_server::RunningServer,
    from: &str,
    to: &str,
    text: &str,
) -> serde_json::Value {
    let url = server.url();
    let body = serde_json::to_vec(&InboundSms {
        message_id: format!("mo-{}", fastrand::u64(..)),
        from: from.into(),
        to: to.into(),
        text: text.into(),
    })
    .unwrap();
    let ts = server.clock().unix();
    let sig = warung_server::sms::inbound_signature(SECRET, ts, &body);
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/sms/inbound"))
        .header("content-type", "application/json")
        .header(warung_core::protocol::TIMESTAMP_HEADER, ts.to_string())
        .header(warung_core::protocol::INBOUND_SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// The code the dev gateway sent to `number` last.
async fn sms_code(server: &warung_server::RunningServer, number: &str) -> String {
    server
        .admin()
        .latest_dev_otp(number)
        .await
        .unwrap()
        .expect("the dev gateway kept the SMS")
}

/// Signs `phone` in (`purpose`: register or login) through an SMS OTP read from the dev
/// gateway.
async fn sign_in(
    server: &warung_server::RunningServer,
    phone: &Phone,
    number: &str,
    purpose: OtpPurpose,
) -> warung_core::verify::SignedIn {
    let challenge = phone
        .sync
        .request_otp(number, purpose, SmsLanguage::Id)
        .await
        .unwrap();
    let code = sms_code(server, &challenge.phone).await;
    phone
        .sync
        .verify_otp(&challenge.challenge_id, &code)
        .await
        .unwrap()
}

/// Binds `phone`'s device by the SMS its SIM (`sim`) sends.
async fn bind(server: &warung_server::RunningServer, phone: &Phone, sim: &str) {
    let how = phone.sync.begin_device_binding().await.unwrap();
    let answer = deliver_sms(server, sim, &how.short_code, &how.sms_body).await;
    assert_eq!(answer["result"], "bound", "{answer}");
    let status = phone
        .sync
        .wait_until_bound(&how.binding_id, Duration::from_secs(10), &CancelFlag::new())
        .await
        .unwrap();
    assert_eq!(status.state, BindingState::Bound);
}

fn oathtool(args: &[&str]) -> String {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .expect("oathtool is not installed: apt-get install oathtool (tests/run installs it)");
    assert!(out.status.success(), "oathtool {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_whole_journey_through_the_core_client() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let server = server(dir.path(), 900).await;
        let phone = Phone::open(&dir.path().join("phone"), &server.url(), 500);
        assert!(!phone.sync.is_signed_in().unwrap());
        assert!(matches!(
            phone.sync.account().await,
            Err(Error::NotSignedIn)
        ));

        // Register with the national form of the number; the server answers E.164.
        let who = sign_in(&server, &phone, "0812-3456-7001", OtpPurpose::Register).await;
        assert!(who.new_user);
        assert_eq!(who.phone, "+6281234567001");
        let account = phone.sync.account().await.unwrap();
        assert!(!account.device_bound && !account.pin_set && !account.totp_enrolled);

        // Money-moving and security calls need a SIM-bound device first.
        assert!(matches!(
            phone.sync.set_pin("258036").await,
            Err(Error::DeviceNotBound)
        ));

        // A binding SMS from another SIM is refused; the binding stays pending.
        let how = phone.sync.begin_device_binding().await.unwrap();
        assert!(how.sms_body.starts_with("WRG BIND "));
        let refused = deliver_sms(&server, "+6281299998888", &how.short_code, &how.sms_body).await;
        assert_eq!(refused["reason"], "wrong_sender");
        let status = phone.sync.binding_status(&how.binding_id).await.unwrap();
        assert_eq!(status.state, BindingState::Pending);
        // The real SIM sends it (the network reports the 62… form): bound.
        let ok = deliver_sms(&server, "6281234567001", &how.short_code, &how.sms_body).await;
        assert_eq!(ok["result"], "bound", "{ok}");
        let status = phone
            .sync
            .wait_until_bound(&how.binding_id, Duration::from_secs(10), &CancelFlag::new())
            .await
            .unwrap();
        assert_eq!(status.state, BindingState::Bound);
        assert!(phone.sync.is_device_bound().unwrap());
        // The same token again: used.
        let again = deliver_sms(&server, "+6281234567001", &how.short_code, &how.sms_body).await;
        assert_eq!(again["reason"], "token_used");

        // PIN: weak refused locally, set, verified, a wrong one counts.
        assert!(matches!(
            phone.sync.set_pin("123456").await,
            Err(Error::WeakPin)
        ));
        phone.sync.set_pin("258036").await.unwrap();
        phone.sync.verify_pin("258036").await.unwrap();
        match phone.sync.verify_pin("111222").await {
            Err(Error::PinIncorrect { attempts_left }) => assert_eq!(attempts_left, 4),
            other => panic!("{other:?}"),
        }
        phone.sync.verify_pin("258036").await.unwrap();

        // Changing the PIN needs the old one and a step-up OTP bound to this change.
        assert!(matches!(
            phone
                .sync
                .change_pin("258036", "314159", "no-such-challenge")
                .await,
            Err(Error::StepUpRequired)
        ));
        server.clock().advance(Duration::from_secs(1)); // the resend cool-down
        let challenge = phone
            .sync
            .request_step_up(StepUpAction::PinChange)
            .await
            .unwrap();
        let code = sms_code(&server, &challenge.phone).await;
        // A wrong code is refused with the attempts left; the right one grants the change.
        match phone
            .sync
            .verify_step_up(&challenge.challenge_id, "000000")
            .await
        {
            Err(Error::OtpRejected {
                code,
                attempts_left,
            }) => {
                assert_eq!((code.as_str(), attempts_left), ("otp_invalid", Some(4)))
            }
            other => panic!("{other:?}"),
        }
        let grant = phone
            .sync
            .verify_step_up(&challenge.challenge_id, &code)
            .await
            .unwrap();
        assert!(matches!(
            phone
                .sync
                .change_pin("999999", "314159", &grant.challenge_id)
                .await,
            Err(Error::PinIncorrect { .. })
        ));
        phone
            .sync
            .change_pin("258036", "314159", &grant.challenge_id)
            .await
            .unwrap();
        phone.sync.verify_pin("314159").await.unwrap();
        assert!(matches!(
            phone.sync.verify_pin("258036").await,
            Err(Error::PinIncorrect { .. })
        ));
        // The grant was for one change only.
        assert!(matches!(
            phone
                .sync
                .change_pin("314159", "271828", &grant.challenge_id)
                .await,
            Err(Error::StepUpRequired)
        ));
        // The OTP itself cannot be used again either.
        assert!(matches!(
            phone
                .sync
                .verify_step_up(&challenge.challenge_id, &code)
                .await,
            Err(Error::OtpRejected { .. })
        ));

        // TOTP soft token: the core's offline code equals oathtool's for the same secret and
        // the server accepts oathtool's code; the same step twice is refused.
        let enrollment = phone.sync.enroll_totp().await.unwrap();
        let secret = enrollment
            .otpauth_uri
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("secret="))
            .unwrap()
            .to_owned();
        // The server's clock stands still in this test: codes are made for its time.
        let now = server.clock().unix() as u64;
        for t in [now, now - 30, 1_000_000_000, 59] {
            let ours = phone.sync.totp_code(t).unwrap();
            let theirs = oathtool(&["--totp", "-b", &secret, "--now", &format!("@{t}")]);
            assert_eq!(ours.code, theirs, "at {t}");
        }
        let code = oathtool(&["--totp", "-b", &secret, "--now", &format!("@{now}")]);
        let step = phone.sync.confirm_totp(&code).await.unwrap();
        assert!(step >= now / 30 - 1);
        assert!(matches!(
            phone.sync.confirm_totp(&code).await,
            Err(Error::TotpRejected { .. })
        ));

        let account = phone.sync.account().await.unwrap();
        assert!(account.device_bound && account.pin_set && account.totp_enrolled);
        let devices = phone.sync.devices().await.unwrap();
        assert_eq!(devices.len(), 1);
        assert!(devices[0].current && devices[0].bound);

        // Catalog sync goes on next to the session.
        let report = phone.sync.sync_now(&CancelFlag::new()).await.unwrap();
        assert!(report.catalog_ops > 0);

        // A lost enrolment answer: reset needs the PIN and a totp.reset step-up, removes the
        // secret here too, and enrolment works again.
        assert!(matches!(
            phone.sync.enroll_totp().await,
            Err(Error::TotpAlreadyEnrolled)
        ));
        assert!(matches!(
            phone.sync.reset_totp("314159", "no-such-challenge").await,
            Err(Error::StepUpRequired)
        ));
        server.clock().advance(Duration::from_secs(1)); // the resend cool-down
        let challenge = phone
            .sync
            .request_step_up(StepUpAction::TotpReset)
            .await
            .unwrap();
        let code = sms_code(&server, &challenge.phone).await;
        let grant = phone
            .sync
            .verify_step_up(&challenge.challenge_id, &code)
            .await
            .unwrap();
        assert!(matches!(
            phone.sync.reset_totp("999999", &grant.challenge_id).await,
            Err(Error::PinIncorrect { .. })
        ));
        assert!(
            phone.sync.totp_code(now).is_ok(),
            "a refused reset keeps the secret"
        );
        phone
            .sync
            .reset_totp("314159", &grant.challenge_id)
            .await
            .unwrap();
        assert_eq!(phone.sync.totp_code(now), Err(Error::TotpNotEnrolled));
        assert!(!phone.sync.account().await.unwrap().totp_enrolled);
        phone.sync.enroll_totp().await.unwrap();
        assert!(matches!(
            phone.sync.reset_totp("314159", &grant.challenge_id).await,
            Err(Error::StepUpRequired)
        ));

        phone.sync.logout().await.unwrap();
        assert!(!phone.sync.is_signed_in().unwrap());
        assert!(matches!(
            phone.sync.account().await,
            Err(Error::NotSignedIn)
        ));
        server.shutdown().await;
    });
}

#[test]
fn sessions_refresh_transparently_and_a_new_phone_takes_over_the_binding() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        // Access tokens live 2 s here: every call after that needs a refresh.
        let server = server(dir.path(), 2).await;
        let old = Phone::open(&dir.path().join("old"), &server.url(), 500);
        sign_in(&server, &old, "081234567002", OtpPurpose::Register).await;
        bind(&server, &old, "+6281234567002").await;
        old.sync.set_pin("258036").await.unwrap();
        let session_before = std::fs::read(dir.path().join("old/keys/warung.session.v1")).unwrap();

        server.clock().advance(Duration::from_secs(3));
        // Expired access token: the call refreshes (rotating the refresh token) and succeeds.
        old.sync.verify_pin("258036").await.unwrap();
        let session_after = std::fs::read(dir.path().join("old/keys/warung.session.v1")).unwrap();
        assert_ne!(
            session_before, session_after,
            "the refresh rotated the stored tokens"
        );
        // Concurrent calls on an expired token share one refresh (a second one would look like
        // reuse and revoke the whole session).
        server.clock().advance(Duration::from_secs(3));
        let (a, b, c) = tokio::join!(old.sync.account(), old.sync.devices(), old.sync.account());
        a.unwrap();
        b.unwrap();
        c.unwrap();
        // The sync round keeps the session alive too.
        server.clock().advance(Duration::from_secs(3));
        old.sync.sync_now(&CancelFlag::new()).await.unwrap();
        old.sync.account().await.unwrap();

        // A new phone signs in to the same account and binds its SIM: the old device's binding
        // and sessions are revoked.
        server.clock().advance(Duration::from_secs(1)); // the resend cool-down
        let new = Phone::open(&dir.path().join("new"), &server.url(), 500);
        let who = sign_in(&server, &new, "+6281234567002", OtpPurpose::Login).await;
        assert!(!who.new_user);
        bind(&server, &new, "+6281234567002").await;
        let devices = new.sync.devices().await.unwrap();
        assert_eq!(devices.len(), 2);
        let old_entry = devices.iter().find(|d| !d.current).unwrap();
        assert!(!old_entry.bound && old_entry.revoked_at.is_some());
        // The old phone is signed out: its next call fails and it must sign in again.
        assert!(matches!(
            old.sync.verify_pin("258036").await,
            Err(Error::SessionExpired)
        ));
        // The PIN belongs to the account, not to the device.
        new.sync.verify_pin("258036").await.unwrap();
        server.shutdown().await;
    });
}
