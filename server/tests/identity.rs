//! End-to-end tests of identity and verification: the whole flow and every attack of issue 5,
//! against a real server on loopback (dev SMS gateway, or the HTTP gateway talking to a fake
//! aggregator the test starts).

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use warung_core::otp::{TotpParams, base32_decode, totp};

fn totp_at(secret: &[u8], t: i64) -> String {
    totp(secret, t as u64, &TotpParams::default()).unwrap()
}

fn step_up_digest(action: &str, subject: &str) -> String {
    sha256_hex(warung_core::protocol::step_up_text(action, subject).as_bytes())
}

#[tokio::test]
async fn register_otp_bind_pin_totp_flow() {
    let s = spawn().await;
    let device = new_device_id();
    let r = s.request_otp("0812-3456-7890", "register", &device).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["phone"], "+6281234567890");
    assert_eq!(r.body["digits"], 6);
    let challenge = r.body["challenge_id"].as_str().unwrap().to_owned();
    // The dev outbox (HTTP, with the dev token) holds the Indonesian text.
    let r = s
        .call(
            "GET",
            "/v1/dev/sms?to=081234567890&limit=5",
            Some(DEV_TOKEN),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let text = r.body["messages"][0]["text"].as_str().unwrap().to_owned();
    assert!(text.starts_with("Kode OTP Warung: "), "{text}");
    assert_eq!(r.body["messages"][0]["sender"], "WARUNG");
    s.call("GET", "/v1/dev/sms", Some("wrong"), None)
        .await
        .expect(401, "unauthorized");
    s.call("GET", "/v1/dev/sms", None, None)
        .await
        .expect(401, "unauthorized");
    let code = s.dev_code("+6281234567890").await;
    assert!(text.contains(&code));

    let r = s.verify_otp(&challenge, &code, &device).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["kind"], "session");
    assert_eq!(r.body["new_user"], true);
    assert!(r.body["access_token"].as_str().unwrap().starts_with("wat_"));
    assert!(
        r.body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("wrt_")
    );
    let p = Phone {
        phone: "+6281234567890".into(),
        device_id: device.clone(),
        user_id: r.body["user_id"].as_str().unwrap().to_owned(),
        access: r.body["access_token"].as_str().unwrap().to_owned(),
        refresh: r.body["refresh_token"].as_str().unwrap().to_owned(),
        key: DeviceKey::generate(),
    };
    let me = s.call("GET", "/v1/me", Some(&p.access), None).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["device_bound"], false);
    assert_eq!(me.body["pin_set"], false);

    // Binding: the phone sends the SMS from its SIM; the aggregator delivers it.
    let (binding, body) = s.start_binding(&p).await;
    assert!(body.starts_with("WRG BIND "), "{body}");
    let st = s
        .call(
            "GET",
            &format!("/v1/me/binding/{binding}"),
            Some(&p.access),
            None,
        )
        .await;
    assert_eq!(st.body["state"], "pending");
    let r = s.inbound("6281234567890", &body.to_lowercase()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["result"], "bound", "{}", r.text);
    let st = s
        .call(
            "GET",
            &format!("/v1/me/binding/{binding}"),
            Some(&p.access),
            None,
        )
        .await;
    assert_eq!(st.body["state"], "bound");
    assert!(st.body["bound_at"].is_string());
    // The confirmation went to the phone.
    let outbox = s
        .server
        .admin()
        .dev_sms_outbox(Some("081234567890"), 1)
        .await
        .unwrap();
    assert!(outbox[0].text.contains("Warung"), "{:?}", outbox);
    assert!(!outbox[0].text.contains(&code));

    // PIN, signed by the bound key.
    s.signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "123456"})))
        .await
        .expect(422, "weak_pin");
    s.signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "12345a"})))
        .await
        .expect(422, "invalid_pin");
    s.signed(
        &p,
        "POST",
        "/v1/me/pin/verify",
        Some(json!({"pin": "739154"})),
    )
    .await
    .expect(403, "pin_not_set");
    let r = s
        .signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "739154"})))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .signed(
            &p,
            "POST",
            "/v1/me/pin/verify",
            Some(json!({"pin": "739154"})),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["verified"]),
        (200, &json!(true)),
        "{}",
        r.text
    );

    // TOTP soft token.
    s.signed(
        &p,
        "POST",
        "/v1/me/totp/verify",
        Some(json!({"code": "000000"})),
    )
    .await
    .expect(403, "totp_not_enrolled");
    let r = s.signed(&p, "POST", "/v1/me/totp", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["algorithm"], "SHA1");
    assert_eq!(r.body["issuer"], "Warung");
    assert_eq!(r.body["account"], "+6281234567890");
    assert!(
        r.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let secret = base32_decode(r.body["secret_base32"].as_str().unwrap()).unwrap();
    assert_eq!(secret.len(), 20);
    s.signed(&p, "POST", "/v1/me/totp", None)
        .await
        .expect(409, "totp_already_enrolled");
    let t = s.now();
    let r = s
        .signed(
            &p,
            "POST",
            "/v1/me/totp/verify",
            Some(json!({"code": totp_at(&secret, t)})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["step"], json!(t / 30));

    let me = s.call("GET", "/v1/me", Some(&p.access), None).await;
    assert_eq!(
        (
            &me.body["device_bound"],
            &me.body["pin_set"],
            &me.body["totp_enrolled"]
        ),
        (&json!(true), &json!(true), &json!(true)),
        "{}",
        me.text
    );
    // Logging in again is not a new user.
    let again = s.login("+62 812 3456 7890").await;
    assert_eq!(again.user_id, p.user_id);
    s.server.shutdown().await;
}

/// The fake aggregator: records each POST (authorization header, JSON) and answers 200, or
/// 500 while `failing`.
#[derive(Clone, Default)]
struct Aggregator {
    received: Arc<Mutex<Vec<(String, Value)>>>,
    failing: Arc<Mutex<bool>>,
}

async fn start_aggregator() -> (String, Aggregator) {
    use axum::http::{HeaderMap, StatusCode};
    let agg = Aggregator::default();
    let state = agg.clone();
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let state = state.clone();
            async move {
                if *state.failing.lock().unwrap() {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                state.received.lock().unwrap().push((auth, body.0));
                StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, agg)
}

#[tokio::test]
async fn http_gateway_posts_to_the_aggregator_and_a_failure_keeps_no_challenge() {
    let (url, agg) = start_aggregator().await;
    let s = spawn_with(|c| {
        c.sms.gateway = warung_server::sms::GatewayConfig::Http {
            url,
            api_key: "agg-key".into(),
        };
        c.sms.sender_id = "WRGTEST".into();
        c.identity.otp_resend_s = 30; // the default cool-down
    })
    .await;
    // The dev outbox does not exist with the http gateway.
    s.call("GET", "/v1/dev/sms", Some(DEV_TOKEN), None)
        .await
        .expect(404, "not_found");

    *agg.failing.lock().unwrap() = true;
    let device = new_device_id();
    let r = s.request_otp("081298765432", "login", &device).await;
    r.expect(503, "sms_unavailable");
    *agg.failing.lock().unwrap() = false;
    // No challenge was kept: no cool-down applies to the retry.
    let r = s
        .call(
            "POST",
            "/v1/auth/otp",
            None,
            Some(json!({"phone": "081298765432", "purpose": "login", "device_id": device, "language": "en"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let challenge = r.body["challenge_id"].as_str().unwrap().to_owned();
    let (auth, msg) = agg.received.lock().unwrap().last().cloned().unwrap();
    assert_eq!(auth, "Bearer agg-key");
    assert_eq!(msg["from"], "WRGTEST");
    assert_eq!(msg["to"], "+6281298765432");
    assert_eq!(msg["reference"], json!(challenge));
    let text = msg["text"].as_str().unwrap();
    assert!(text.starts_with("Your Warung code is "), "{text}");
    let code: String = text
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(6)
        .collect();
    let r = s.verify_otp(&challenge, &code, &device).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["kind"], "session");
    s.server.shutdown().await;
}

#[tokio::test]
async fn otp_replay_wrong_device_other_phone_attempts_and_format() {
    let s = spawn().await;
    let d = new_device_id();
    // Replay.
    let r = s.request_otp("081211110001", "login", &d).await;
    let c1 = r.body["challenge_id"].as_str().unwrap().to_owned();
    let code1 = s.dev_code("081211110001").await;
    assert_eq!(s.verify_otp(&c1, &code1, &d).await.status, 200);
    s.verify_otp(&c1, &code1, &d).await.expect(403, "otp_used");
    // Another device.
    let r = s.request_otp("081211110001", "login", &d).await;
    let c2 = r.body["challenge_id"].as_str().unwrap().to_owned();
    let code2 = s.dev_code("081211110001").await;
    s.verify_otp(&c2, &code2, &new_device_id())
        .await
        .expect(403, "otp_wrong_device");
    // Another phone's code on this challenge (codes are bound to their challenge).
    s.request_otp("081211110002", "login", &d).await;
    let other = s.dev_code("081211110002").await;
    if other != code2 {
        let r = s.verify_otp(&c2, &other, &d).await;
        r.expect(403, "otp_invalid");
        assert_eq!(r.body["error"]["attempts_left"], 4);
    }
    // Malformed codes are not attempts.
    for bad in ["12345", "1234567", "١٢٣٤٥٦", "１２３４５６", "12 345"] {
        s.verify_otp(&c2, bad, &d).await.expect(422, "invalid_code");
    }
    s.verify_otp("no-such-challenge", "123456", &d)
        .await
        .expect(404, "not_found");
    // More than 5 wrong codes kill the challenge, even for the right code afterwards.
    let r = s.request_otp("081211110003", "login", &d).await;
    let c3 = r.body["challenge_id"].as_str().unwrap().to_owned();
    let right = s.dev_code("081211110003").await;
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for left in (1..=4).rev() {
        let r = s.verify_otp(&c3, wrong, &d).await;
        r.expect(403, "otp_invalid");
        assert_eq!(r.body["error"]["attempts_left"], left);
    }
    s.verify_otp(&c3, wrong, &d).await.expect(403, "otp_locked");
    s.verify_otp(&c3, &right, &d)
        .await
        .expect(403, "otp_locked");
    s.server.shutdown().await;
}

#[tokio::test]
async fn expired_otp_is_refused() {
    let s = spawn_with(|c| c.identity.otp_ttl_s = 1).await;
    let d = new_device_id();
    let r = s.request_otp("081211110004", "register", &d).await;
    let c = r.body["challenge_id"].as_str().unwrap().to_owned();
    let code = s.dev_code("081211110004").await;
    s.advance(1);
    s.verify_otp(&c, &code, &d).await.expect(403, "otp_expired");
    s.server.shutdown().await;
}

#[tokio::test]
async fn resend_cooldown_and_hourly_limits() {
    let s = spawn_with(|c| c.identity.otp_resend_s = 30).await;
    let d = new_device_id();
    assert_eq!(s.request_otp("081211110005", "login", &d).await.status, 200);
    let r = s.request_otp("0812-1111-0005", "login", &d).await;
    r.expect(429, "rate_limited");
    let retry = r.body["error"]["retry_after_s"].as_u64().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(
        r.headers["retry-after"].to_str().unwrap(),
        retry.to_string()
    );
    // The cool-down ends when the server's clock says so, not before.
    s.advance(retry - 1);
    s.request_otp("081211110005", "login", &d)
        .await
        .expect(429, "rate_limited");
    s.advance(1);
    assert_eq!(s.request_otp("081211110005", "login", &d).await.status, 200);
    // An hour later the per-phone window has emptied again.
    for _ in 0..3 {
        s.advance(30);
        let r = s.request_otp("081211110005", "login", &d).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    s.advance(30);
    s.request_otp("081211110005", "login", &d)
        .await
        .expect(429, "rate_limited");
    s.advance(3600);
    assert_eq!(s.request_otp("081211110005", "login", &d).await.status, 200);
    s.server.shutdown().await;

    // Per phone per hour: 5 (no cool-down here).
    let s = spawn().await;
    for _ in 0..5 {
        assert_eq!(
            s.request_otp("081211110006", "login", &new_device_id())
                .await
                .status,
            200
        );
    }
    let r = s
        .request_otp("081211110006", "login", &new_device_id())
        .await;
    r.expect(429, "rate_limited");
    assert!(r.body["error"]["retry_after_s"].as_u64().unwrap() > 3000);
    // Per device per hour: 10.
    let d = new_device_id();
    for i in 0..10 {
        let r = s.request_otp(&format!("08131111{i:04}"), "login", &d).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    s.request_otp("081311119999", "login", &d)
        .await
        .expect(429, "rate_limited");
    s.server.shutdown().await;
}

#[tokio::test]
async fn malformed_phone_numbers_are_422() {
    let s = spawn().await;
    let d = new_device_id();
    for bad in [
        "",
        "12345",
        "0812٣٤٥٦٧٨٩٠",
        "０８１２３４５６７８９０",
        "+0812345678",
        "0712345678",
        "08123",
        "0812345678901234",
        "0812abc45678",
    ] {
        s.request_otp(bad, "login", &d)
            .await
            .expect(422, "invalid_phone");
    }
    // Non-ASCII digits in the dev outbox filter too.
    s.call("GET", "/v1/dev/sms?to=%D9%A0812", Some(DEV_TOKEN), None)
        .await
        .expect(422, "invalid_phone");
    // Device ids are checked; unknown purposes are schema errors.
    s.request_otp("081212120000", "login", "")
        .await
        .expect(422, "invalid_data");
    s.request_otp("081212120000", "admin", &d)
        .await
        .expect(422, "invalid_data");
    s.server.shutdown().await;
}

#[tokio::test]
async fn binding_attacks_and_inbound_webhook_checks() {
    let s = spawn().await;
    let p = s.login("081222220001").await;
    let (binding, body) = s.start_binding(&p).await;
    // From another number: refused, still pending.
    let r = s.inbound("081299990000", &body).await;
    assert_eq!(
        (&r.body["result"], &r.body["reason"]),
        (&json!("refused"), &json!("wrong_sender")),
        "{}",
        r.text
    );
    let st = s
        .call(
            "GET",
            &format!("/v1/me/binding/{binding}"),
            Some(&p.access),
            None,
        )
        .await;
    assert_eq!(st.body["state"], "pending");
    // Bad HMAC, stale timestamp, missing headers: 401, nothing done.
    s.inbound_with("m-bad", &p.phone, &body, 0, "not-the-secret")
        .await
        .expect(401, "bad_signature");
    s.inbound_with("m-stale", &p.phone, &body, -301, INBOUND_SECRET)
        .await
        .expect(401, "stale_timestamp");
    s.inbound_with("m-future", &p.phone, &body, 400, INBOUND_SECRET)
        .await
        .expect(401, "stale_timestamp");
    let r = s
        .call(
            "POST",
            "/v1/sms/inbound",
            None,
            Some(json!({"message_id": "m-x", "from": p.phone, "to": "3345", "text": body})),
        )
        .await;
    r.expect(401, "bad_signature");
    let st = s
        .call(
            "GET",
            &format!("/v1/me/binding/{binding}"),
            Some(&p.access),
            None,
        )
        .await;
    assert_eq!(st.body["state"], "pending");
    // The right sender binds; a duplicate delivery does nothing; the token cannot be reused.
    let r = s
        .inbound_with("m-1", "081222220001", &body, 0, INBOUND_SECRET)
        .await;
    assert_eq!(r.body["result"], "bound", "{}", r.text);
    let r = s
        .inbound_with("m-1", "081222220001", &body, 0, INBOUND_SECRET)
        .await;
    assert_eq!(r.body["result"], "duplicate", "{}", r.text);
    let r = s.inbound(&p.phone, &body).await;
    assert_eq!(r.body["reason"], "token_used", "{}", r.text);
    let r = s.inbound(&p.phone, "WRG BIND 234567").await;
    assert_eq!(r.body["reason"], "unknown_token", "{}", r.text);
    let r = s.inbound(&p.phone, "halo apa kabar").await;
    assert_eq!(
        (&r.body["result"], &r.body["reason"]),
        (&json!("ignored"), &json!("not_warung"))
    );
    // A new binding revokes the pending one before it.
    let (first, first_body) = s.start_binding(&p).await;
    let (_second, _) = s.start_binding(&p).await;
    let st = s
        .call(
            "GET",
            &format!("/v1/me/binding/{first}"),
            Some(&p.access),
            None,
        )
        .await;
    assert_eq!(st.body["state"], "revoked");
    let r = s.inbound(&p.phone, &first_body).await;
    assert_eq!(r.body["reason"], "token_used", "{}", r.text);
    // Bad keys.
    for key in ["", "AAAA", "not base64!", &"A".repeat(44)] {
        s.call(
            "POST",
            "/v1/me/binding",
            Some(&p.access),
            Some(json!({"public_key": key})),
        )
        .await
        .expect(422, "invalid_public_key");
    }
    // Per-sender limit: 10 per minute.
    let spam = "081233330000";
    let mut results = Vec::new();
    for _ in 0..11 {
        let r = s.inbound(spam, "WRG BIND 234567").await;
        results.push(r.body["reason"].as_str().unwrap_or("").to_owned());
    }
    assert_eq!(results[9], "unknown_token");
    assert_eq!(results[10], "rate_limited");
    s.server.shutdown().await;
}

#[tokio::test]
async fn expired_binding_token_is_refused() {
    let s = spawn_with(|c| c.identity.binding_ttl_s = 1).await;
    let p = s.login("081222220002").await;
    let (binding, body) = s.start_binding(&p).await;
    s.advance(1);
    let r = s.inbound(&p.phone, &body).await;
    assert_eq!(r.body["reason"], "token_expired", "{}", r.text);
    let st = s
        .call(
            "GET",
            &format!("/v1/me/binding/{binding}"),
            Some(&p.access),
            None,
        )
        .await;
    assert_eq!(st.body["state"], "expired");
    s.server.shutdown().await;
}

#[tokio::test]
async fn inbound_route_is_404_without_a_secret() {
    let s = spawn_with(|c| {
        c.sms.inbound_secret = None;
        c.sms.dev_token = None;
    })
    .await;
    s.inbound("081222220003", "WRG BIND 234567")
        .await
        .expect(404, "not_found");
    s.call("GET", "/v1/dev/sms", Some(DEV_TOKEN), None)
        .await
        .expect(404, "not_found");
    s.server.shutdown().await;
}

#[tokio::test]
async fn unsigned_forged_replayed_stale_and_mismatched_signatures() {
    let s = spawn().await;
    let p = s.login("081244440001").await;
    let pin = json!({"pin": "739154"});
    // Not bound yet: refused even when signed.
    s.signed(&p, "PUT", "/v1/me/pin", Some(pin.clone()))
        .await
        .expect(403, "device_not_bound");
    s.bind(&p).await;
    // Unsigned.
    s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), None)
        .await
        .expect(401, "signature_required");
    let body = pin.to_string();
    // Forged: another key.
    let forger = DeviceKey::generate();
    let sig = sign(
        &forger,
        &p.device_id,
        "PUT",
        "/v1/me/pin",
        body.as_bytes(),
        s.now(),
        &nonce(),
    );
    s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
        .await
        .expect(401, "signature_invalid");
    // Tampered body: signed for another PIN.
    let sig = sign(
        &p.key,
        &p.device_id,
        "PUT",
        "/v1/me/pin",
        br#"{"pin":"862093"}"#,
        s.now(),
        &nonce(),
    );
    s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
        .await
        .expect(401, "signature_invalid");
    // Another path.
    let sig = sign(
        &p.key,
        &p.device_id,
        "PUT",
        "/v1/me/pin/verify",
        body.as_bytes(),
        s.now(),
        &nonce(),
    );
    s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
        .await
        .expect(401, "signature_invalid");
    // Stale, both ways.
    for skew in [-301, 301] {
        let sig = sign(
            &p.key,
            &p.device_id,
            "PUT",
            "/v1/me/pin",
            body.as_bytes(),
            s.now() + skew,
            &nonce(),
        );
        s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
            .await
            .expect(401, "signature_stale");
    }
    // Another device's header.
    let sig = sign(
        &p.key,
        &new_device_id(),
        "PUT",
        "/v1/me/pin",
        body.as_bytes(),
        s.now(),
        &nonce(),
    );
    s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
        .await
        .expect(403, "device_mismatch");
    // A bad nonce.
    let sig = sign(
        &p.key,
        &p.device_id,
        "PUT",
        "/v1/me/pin",
        body.as_bytes(),
        s.now(),
        "short",
    );
    s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
        .await
        .expect(401, "signature_invalid");
    // Valid once; the same nonce again is a replay.
    let sig = sign(
        &p.key,
        &p.device_id,
        "PUT",
        "/v1/me/pin",
        body.as_bytes(),
        s.now(),
        &nonce(),
    );
    let r = s
        .signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.signed_raw("PUT", "/v1/me/pin", &p.access, Some(&pin), Some(&sig))
        .await
        .expect(401, "signature_replayed");
    // A signed request's JSON errors are the usual typed 4xx.
    let bad = json!({"pin": 739154});
    let sig = sign(
        &p.key,
        &p.device_id,
        "POST",
        "/v1/me/pin/verify",
        bad.to_string().as_bytes(),
        s.now(),
        &nonce(),
    );
    s.signed_raw(
        "POST",
        "/v1/me/pin/verify",
        &p.access,
        Some(&bad),
        Some(&sig),
    )
    .await
    .expect(422, "invalid_data");
    s.server.shutdown().await;
}

#[tokio::test]
async fn rotated_refresh_token_reuse_revokes_the_family() {
    let s = spawn().await;
    let p = s.login("081255550001").await;
    let r = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": p.refresh})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let access2 = r.body["access_token"].as_str().unwrap().to_owned();
    let refresh2 = r.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, p.refresh);
    assert_eq!(
        s.call("GET", "/v1/me", Some(&access2), None).await.status,
        200
    );
    // The old refresh token again: the whole family is revoked.
    s.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": p.refresh})),
    )
    .await
    .expect(401, "refresh_reused");
    s.call("GET", "/v1/me", Some(&access2), None)
        .await
        .expect(401, "session_revoked");
    s.call("GET", "/v1/me", Some(&p.access), None)
        .await
        .expect(401, "session_revoked");
    s.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh2})),
    )
    .await
    .expect(401, "session_revoked");
    // Unknown tokens; an access token is not a refresh token.
    s.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": "wrt_nope"})),
    )
    .await
    .expect(401, "unauthorized");
    let q = s.login("081255550002").await;
    s.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": q.access})),
    )
    .await
    .expect(401, "unauthorized");
    // Logout ends the session.
    assert_eq!(
        s.call("POST", "/v1/auth/logout", Some(&q.access), None)
            .await
            .status,
        204
    );
    s.call("GET", "/v1/me", Some(&q.access), None)
        .await
        .expect(401, "session_revoked");
    s.server.shutdown().await;
}

#[tokio::test]
async fn expired_access_token_is_token_expired() {
    let s = spawn_with(|c| c.identity.access_ttl_s = 1).await;
    let p = s.login("081255550003").await;
    s.advance(1);
    s.call("GET", "/v1/me", Some(&p.access), None)
        .await
        .expect(401, "token_expired");
    let r = s
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": p.refresh})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.server.shutdown().await;
}

#[tokio::test]
async fn every_user_endpoint_anonymously_and_as_another_user() {
    let s = spawn().await;
    let a = s.login("081266660001").await;
    let b = s.login("081266660002").await;
    s.bind(&a).await;
    s.bind(&b).await;
    let (a_binding, _) = s.start_binding(&a).await;
    let endpoints: [(&str, String); 14] = [
        ("POST", "/v1/auth/logout".into()),
        ("GET", "/v1/me".into()),
        ("POST", "/v1/me/binding".into()),
        ("GET", format!("/v1/me/binding/{a_binding}")),
        ("GET", "/v1/me/devices".into()),
        ("DELETE", format!("/v1/me/devices/{}", a.device_id)),
        ("PUT", "/v1/me/pin".into()),
        ("POST", "/v1/me/pin/verify".into()),
        ("POST", "/v1/me/totp".into()),
        ("POST", "/v1/me/totp/verify".into()),
        ("DELETE", "/v1/me/totp".into()),
        ("GET", "/v1/me".into()),
        ("GET", "/v1/me/devices".into()),
        ("POST", "/v1/me/pin/verify".into()),
    ];
    for (method, path) in &endpoints {
        let body = (*method != "GET" && *method != "DELETE").then(|| json!({}));
        let r = s.call(method, path, None, body.clone()).await;
        r.expect(401, "unauthorized");
        let r = s.call(method, path, Some("wat_forged"), body).await;
        r.expect(401, "unauthorized");
    }
    // A merchant key or device token is not an access token.
    s.call("GET", "/v1/me", Some("wmk_x"), None)
        .await
        .expect(401, "unauthorized");
    // B cannot see A's binding or revoke A's device (404: never reveal).
    s.call(
        "GET",
        &format!("/v1/me/binding/{a_binding}"),
        Some(&b.access),
        None,
    )
    .await
    .expect(404, "not_found");
    s.signed(
        &b,
        "DELETE",
        &format!("/v1/me/devices/{}", a.device_id),
        None,
    )
    .await
    .expect(404, "not_found");
    assert_eq!(
        s.call("GET", "/v1/me", Some(&a.access), None).await.status,
        200
    );
    // B cannot sign with A's device header, nor ask a step-up code for A's phone.
    let sig = sign(
        &b.key,
        &a.device_id,
        "POST",
        "/v1/me/totp",
        b"",
        s.now(),
        &nonce(),
    );
    s.signed_raw("POST", "/v1/me/totp", &b.access, None, Some(&sig))
        .await
        .expect(403, "device_mismatch");
    let digest = step_up_digest("pin.change", &b.user_id);
    let r = s
        .call(
            "POST",
            "/v1/auth/otp",
            Some(&b.access),
            Some(json!({"phone": a.phone, "purpose": "step_up", "device_id": b.device_id, "tx_digest": digest})),
        )
        .await;
    r.expect(403, "forbidden");
    // A step-up code for the user's own phone, asked in the name of another device.
    let r = s
        .call(
            "POST",
            "/v1/auth/otp",
            Some(&b.access),
            Some(json!({"phone": b.phone, "purpose": "step_up", "device_id": a.device_id, "tx_digest": digest})),
        )
        .await;
    r.expect(403, "device_mismatch");
    // Step-up needs a token and a digest.
    let r = s
        .call(
            "POST",
            "/v1/auth/otp",
            None,
            Some(json!({"phone": b.phone, "purpose": "step_up", "device_id": b.device_id, "tx_digest": digest})),
        )
        .await;
    r.expect(401, "unauthorized");
    let r = s
        .call(
            "POST",
            "/v1/auth/otp",
            Some(&b.access),
            Some(json!({"phone": b.phone, "purpose": "step_up", "device_id": b.device_id, "tx_digest": "ABC"})),
        )
        .await;
    r.expect(422, "invalid_data");
    s.server.shutdown().await;
}

async fn step_up(s: &Srv, p: &Phone, digest: &str) -> (String, Resp) {
    let r = s
        .call(
            "POST",
            "/v1/auth/otp",
            Some(&p.access),
            Some(json!({"phone": p.phone, "purpose": "step_up", "device_id": p.device_id, "tx_digest": digest})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let challenge = r.body["challenge_id"].as_str().unwrap().to_owned();
    let code = s.dev_code(&p.phone).await;
    let v = s.verify_otp(&challenge, &code, &p.device_id).await;
    (challenge, v)
}

#[tokio::test]
async fn pin_lockout_and_change_with_step_up() {
    let s = spawn().await;
    let p = s.login("081277770001").await;
    s.bind(&p).await;
    let r = s
        .signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "739154"})))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Change: without a step-up; with one for another action; with a login challenge.
    s.signed(
        &p,
        "PUT",
        "/v1/me/pin",
        Some(json!({"pin": "582046", "old_pin": "739154"})),
    )
    .await
    .expect(403, "step_up_required");
    let (other, v) = step_up(&s, &p, &step_up_digest("wallet.transfer", "x")).await;
    assert_eq!(v.body["kind"], "step_up", "{}", v.text);
    assert!(v.body.get("access_token").is_none());
    s.signed(
        &p,
        "PUT",
        "/v1/me/pin",
        Some(json!({"pin": "582046", "old_pin": "739154", "step_up_challenge_id": other})),
    )
    .await
    .expect(403, "step_up_required");
    let r = s.request_otp(&p.phone, "login", &p.device_id).await;
    let login_challenge = r.body["challenge_id"].as_str().unwrap().to_owned();
    let code = s.dev_code(&p.phone).await;
    assert_eq!(
        s.verify_otp(&login_challenge, &code, &p.device_id)
            .await
            .status,
        200
    );
    s.signed(
        &p,
        "PUT",
        "/v1/me/pin",
        Some(
            json!({"pin": "582046", "old_pin": "739154", "step_up_challenge_id": login_challenge}),
        ),
    )
    .await
    .expect(403, "step_up_required");
    // The right grant but a wrong old PIN (an attempt), then right.
    let (grant, v) = step_up(&s, &p, &step_up_digest("pin.change", &p.user_id)).await;
    assert_eq!(v.status, 200, "{}", v.text);
    let r = s
        .signed(
            &p,
            "PUT",
            "/v1/me/pin",
            Some(json!({"pin": "582046", "old_pin": "111222", "step_up_challenge_id": grant})),
        )
        .await;
    r.expect(403, "pin_incorrect");
    assert_eq!(r.body["error"]["attempts_left"], 4);
    let r = s
        .signed(
            &p,
            "PUT",
            "/v1/me/pin",
            Some(json!({"pin": "582046", "old_pin": "739154", "step_up_challenge_id": grant})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // The grant is used up.
    s.signed(
        &p,
        "PUT",
        "/v1/me/pin",
        Some(json!({"pin": "739154", "old_pin": "582046", "step_up_challenge_id": grant})),
    )
    .await
    .expect(403, "step_up_required");
    s.signed(
        &p,
        "POST",
        "/v1/me/pin/verify",
        Some(json!({"pin": "739154"})),
    )
    .await
    .expect(403, "pin_incorrect");
    let r = s
        .signed(
            &p,
            "POST",
            "/v1/me/pin/verify",
            Some(json!({"pin": "582046"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Lock-out: 5 wrong → 423, and the right PIN is refused while locked.
    for left in (1..=4).rev() {
        let r = s
            .signed(
                &p,
                "POST",
                "/v1/me/pin/verify",
                Some(json!({"pin": "000111"})),
            )
            .await;
        r.expect(403, "pin_incorrect");
        assert_eq!(r.body["error"]["attempts_left"], left);
    }
    let r = s
        .signed(
            &p,
            "POST",
            "/v1/me/pin/verify",
            Some(json!({"pin": "000111"})),
        )
        .await;
    r.expect(423, "pin_locked");
    assert!(r.body["error"]["retry_after_s"].as_u64().unwrap() > 1700);
    let r = s
        .signed(
            &p,
            "POST",
            "/v1/me/pin/verify",
            Some(json!({"pin": "582046"})),
        )
        .await;
    r.expect(423, "pin_locked");
    assert!(r.headers.get("retry-after").is_some());
    let me = s.call("GET", "/v1/me", Some(&p.access), None).await;
    assert!(me.body["pin_locked_until"].is_string(), "{}", me.text);
    // Malformed PINs are 422, not attempts.
    s.signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "٧٣٩١٥٤"})))
        .await
        .expect(422, "invalid_pin");
    s.server.shutdown().await;
}

#[tokio::test]
async fn pin_with_the_default_iterations() {
    let s =
        spawn_with(|c| c.identity.pin_iterations = warung_server::identity::DEFAULT_PIN_ITERATIONS)
            .await;
    let p = s.login("081277770002").await;
    s.bind(&p).await;
    s.set_and_check_pin(&p, "739154", "739155").await;
    s.server.shutdown().await;
}

#[tokio::test]
async fn totp_skew_replay_and_rate_limit() {
    let s = spawn().await;
    let p = s.login("081288880001").await;
    s.bind(&p).await;
    let r = s.signed(&p, "POST", "/v1/me/totp", None).await;
    let secret = base32_decode(r.body["secret_base32"].as_str().unwrap()).unwrap();
    let check = |code: String| {
        let s = &s;
        let p = &p;
        async move {
            s.signed(
                p,
                "POST",
                "/v1/me/totp/verify",
                Some(json!({ "code": code })),
            )
            .await
        }
    };
    let t = s.now();
    // ±2 steps are refused (failures 1 and 2).
    check(totp_at(&secret, t - 60))
        .await
        .expect(403, "totp_invalid");
    check(totp_at(&secret, t + 60))
        .await
        .expect(403, "totp_invalid");
    // −1, 0, +1 are accepted, in order.
    for (offset, step) in [(-30, t / 30 - 1), (0, t / 30), (30, t / 30 + 1)] {
        let r = check(totp_at(&secret, t + offset)).await;
        assert_eq!(r.status, 200, "{offset}: {}", r.text);
        assert_eq!(r.body["step"], json!(step));
    }
    // An accepted step (or an older one) never again; a replay is not a failure.
    check(totp_at(&secret, t + 30))
        .await
        .expect(403, "totp_replayed");
    check(totp_at(&secret, t))
        .await
        .expect(403, "totp_replayed");
    check("12345".into()).await.expect(422, "invalid_code");
    // Failures 3 to 5 (codes of no step in the window), then even a fresh valid-looking
    // attempt is rate limited.
    let window: Vec<String> = (-1..=1).map(|k| totp_at(&secret, t + 30 * k)).collect();
    let wrong: Vec<String> = (0..100)
        .map(|n| format!("{n:06}"))
        .filter(|c| !window.contains(c))
        .take(3)
        .collect();
    for w in wrong {
        check(w).await.expect(403, "totp_invalid");
    }
    let r = check(totp_at(&secret, t + 30)).await;
    r.expect(429, "rate_limited");
    assert!(r.body["error"]["retry_after_s"].as_u64().unwrap() >= 1);
    s.server.shutdown().await;
}

#[tokio::test]
async fn new_device_binding_revokes_the_old_one_and_users_manage_devices() {
    let s = spawn().await;
    let old = s.login("081299990001").await;
    s.bind(&old).await;
    let new = s.login("081299990001").await;
    assert_eq!(new.user_id, old.user_id);
    // Before the new device binds, the old one still works.
    assert_eq!(
        s.call("GET", "/v1/me", Some(&old.access), None)
            .await
            .status,
        200
    );
    s.bind(&new).await;
    s.call("GET", "/v1/me", Some(&old.access), None)
        .await
        .expect(401, "session_revoked");
    s.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": old.refresh})),
    )
    .await
    .expect(401, "session_revoked");
    let r = s
        .call("GET", "/v1/me/devices", Some(&new.access), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let devices = r.body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    let find = |id: &str| {
        devices
            .iter()
            .find(|d| d["device_id"] == id)
            .unwrap()
            .clone()
    };
    let (o, n) = (find(&old.device_id), find(&new.device_id));
    assert_eq!((&o["bound"], &o["current"]), (&json!(false), &json!(false)));
    assert!(o["revoked_at"].is_string());
    assert_eq!((&n["bound"], &n["current"]), (&json!(true), &json!(true)));
    assert_eq!(n["key_fingerprint"].as_str().unwrap().len(), 16);
    // The old device logs in again: it is not bound, so it cannot sign.
    // (login_on gives it a fresh key, never bound)
    let old2 = s.login_on("081299990001", &old.device_id).await;
    s.signed(&old2, "POST", "/v1/me/totp", None)
        .await
        .expect(403, "device_not_bound");
    // The user revokes the old device from the new one (signed); unknown ids are 404.
    let r = s
        .signed(
            &new,
            "DELETE",
            &format!("/v1/me/devices/{}", old.device_id),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.call("GET", "/v1/me", Some(&old2.access), None)
        .await
        .expect(401, "session_revoked");
    s.signed(&new, "DELETE", "/v1/me/devices/no-such-device", None)
        .await
        .expect(404, "not_found");
    assert_eq!(
        s.call("GET", "/v1/me", Some(&new.access), None)
            .await
            .status,
        200
    );
    s.server.shutdown().await;
}

#[tokio::test]
async fn sms_outbox_command_reads_the_database() {
    let s = spawn().await;
    s.request_otp("081211112222", "login", &new_device_id())
        .await;
    let messages = s
        .server
        .admin()
        .dev_sms_outbox(Some("+6281211112222"), 10)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].text.contains("Kode OTP Warung"));
    assert!(
        s.server
            .admin()
            .dev_sms_outbox(Some("0812abc"), 10)
            .await
            .is_err()
    );
    s.server.shutdown().await;
}

/// Asks for a login code as a client whose proxy reports it at `forwarded_for`.
async fn otp_from(s: &Srv, phone: &str, device: &str, forwarded_for: &str) -> Resp {
    let req = s
        .http
        .post(format!("{}/v1/auth/otp", s.url))
        .header("content-type", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .body(json!({"phone": phone, "purpose": "login", "device_id": device}).to_string());
    s.send(req).await
}

/// `n` login codes that must all be sent: the number and the forwarded client address of the
/// i-th, each from a new device id.
async fn sends_pass(s: &Srv, n: usize, each: impl Fn(usize) -> (String, String)) {
    for i in 0..n {
        let (phone, addr) = each(i);
        let r = otp_from(s, &phone, &new_device_id(), &addr).await;
        assert_eq!(r.status, 200, "{phone} from {addr}: {}", r.text);
    }
}

/// A 429 `rate_limited` whose `retry_after_s` and `Retry-After` agree; returns the seconds.
#[track_caller]
fn expect_limited(r: &Resp) -> u64 {
    r.expect(429, "rate_limited");
    let retry = r.body["error"]["retry_after_s"].as_u64().unwrap();
    assert_eq!(
        r.headers["retry-after"].to_str().unwrap(),
        retry.to_string(),
        "{}",
        r.text
    );
    retry
}

/// Only the limit under test is low.
fn send_limits(c: &mut warung_server::Config, address: u32, prefix: u32, global: u32) {
    c.identity.otp_per_address_hour = address;
    c.identity.otp_per_prefix_hour = prefix;
    c.identity.otp_global_hour = global;
}

#[tokio::test]
async fn otp_address_limit_holds_whatever_the_device_id() {
    let s = spawn_with(|c| send_limits(c, 3, 1000, 1000)).await;
    // New number, new block, new device id each time: only the address (127.0.0.1) repeats.
    for i in 0..3 {
        let r = s
            .request_otp(&format!("0812{i}0000000"), "login", &new_device_id())
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // X-Forwarded-For is not trusted by default: a forged one changes nothing.
    let r = otp_from(&s, "081290000000", &new_device_id(), "198.51.100.7").await;
    assert!(expect_limited(&r) > 3000);
    // The refused request sent nothing.
    let admin = s.server.admin();
    let sent = admin.dev_sms_outbox(Some("081290000000"), 5).await.unwrap();
    assert!(sent.is_empty());
    s.server.shutdown().await;

    // Behind a trusted proxy: the forwarded address counts, an IPv6 /64 as one address.
    let s = spawn_with(|c| {
        send_limits(c, 3, 1000, 1000);
        c.identity.trust_forwarded_for = true;
    })
    .await;
    sends_pass(&s, 3, |i| {
        (format!("0812{i}0000000"), format!("2001:db8:7:1::{i}"))
    })
    .await;
    let r = otp_from(
        &s,
        "081250000000",
        &new_device_id(),
        "2001:db8:7:1:ffff:1:2:3",
    )
    .await;
    expect_limited(&r);
    // What the client writes before the proxy's entry is not believed.
    let r = otp_from(
        &s,
        "081260000000",
        &new_device_id(),
        "203.0.113.99, 2001:db8:7:1::9",
    )
    .await;
    expect_limited(&r);
    // Another /64 and an IPv4 client have budgets of their own.
    for (i, addr) in ["2001:db8:7:2::1", "203.0.113.5"].iter().enumerate() {
        let r = otp_from(&s, &format!("0813{i}0000000"), &new_device_id(), addr).await;
        assert_eq!(r.status, 200, "{addr}: {}", r.text);
    }
    s.server.shutdown().await;
}

#[tokio::test]
async fn otp_number_block_limit_counts_distinct_numbers() {
    let s = spawn_with(|c| {
        send_limits(c, 1000, 3, 1000);
        c.identity.trust_forwarded_for = true;
    })
    .await;
    // Distinct numbers of one block (+6281234567xxx), each from its own address and device.
    sends_pass(&s, 3, |i| {
        (format!("0812345670{i:02}"), format!("198.51.100.{i}"))
    })
    .await;
    let r = otp_from(&s, "081234567999", &new_device_id(), "198.51.100.50").await;
    let retry = expect_limited(&r);
    assert!(retry > 3000);
    // The window slides: when the oldest send turns an hour old, the block has room again.
    s.advance(retry);
    sends_pass(&s, 1, |_| ("081234567999".into(), "198.51.100.50".into())).await;
    // The next block is another budget.
    let r = otp_from(&s, "081234568000", &new_device_id(), "198.51.100.51").await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.server.shutdown().await;
}

#[tokio::test]
async fn otp_global_budget_holds_across_addresses_and_blocks() {
    let s = spawn_with(|c| {
        send_limits(c, 1000, 1000, 4);
        c.identity.trust_forwarded_for = true;
    })
    .await;
    sends_pass(&s, 4, |i| {
        (format!("0812{i}0000000"), format!("203.0.113.{i}"))
    })
    .await;
    let r = otp_from(&s, "081390000000", &new_device_id(), "192.0.2.1").await;
    assert!(expect_limited(&r) > 3000);
    let r = otp_from(&s, "081490000000", &new_device_id(), "2001:db8:9::1").await;
    expect_limited(&r);
    s.server.shutdown().await;
}

#[tokio::test]
async fn totp_replays_do_not_count_toward_the_lock_out() {
    let s = spawn().await;
    let p = s.login("081288880002").await;
    s.bind(&p).await;
    let r = s.signed(&p, "POST", "/v1/me/totp", None).await;
    let secret = base32_decode(r.body["secret_base32"].as_str().unwrap()).unwrap();
    let check = |code: String| {
        let s = &s;
        let p = &p;
        async move {
            s.signed(
                p,
                "POST",
                "/v1/me/totp/verify",
                Some(json!({ "code": code })),
            )
            .await
        }
    };
    // The server's clock stands still: every check below sees the step of `t`.
    let t = s.now();
    let code = totp_at(&secret, t);
    let r = check(code.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A double tap, many times over (twice the failure limit).
    for _ in 0..10 {
        check(code.clone()).await.expect(403, "totp_replayed");
    }
    // Not locked out: the next step's code is accepted.
    let r = check(totp_at(&secret, t + 30)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["step"], json!(t / 30 + 1));
    s.server.shutdown().await;
}

#[tokio::test]
async fn totp_reset_needs_the_pin_and_a_step_up_then_enrols_again() {
    let s = spawn().await;
    let p = s.login("081288880003").await;
    s.bind(&p).await;
    let r = s
        .signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "739154"})))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let reset = |pin: &str, grant: &str| {
        let body = json!({"pin": pin, "step_up_challenge_id": grant});
        let s = &s;
        let p = &p;
        async move { s.signed(p, "DELETE", "/v1/me/totp", Some(body)).await }
    };
    let check = |secret: Vec<u8>, t: i64| {
        let s = &s;
        let p = &p;
        async move {
            let code = totp_at(&secret, t);
            s.signed(
                p,
                "POST",
                "/v1/me/totp/verify",
                Some(json!({ "code": code })),
            )
            .await
        }
    };
    reset("739154", "none")
        .await
        .expect(403, "totp_not_enrolled");
    let r = s.signed(&p, "POST", "/v1/me/totp", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let first = base32_decode(r.body["secret_base32"].as_str().unwrap()).unwrap();
    s.signed(&p, "POST", "/v1/me/totp", None)
        .await
        .expect(409, "totp_already_enrolled");
    let t = s.now();
    assert_eq!(check(first.clone(), t).await.status, 200);

    // Unsigned; no grant; a grant for another action.
    let body = json!({"pin": "739154", "step_up_challenge_id": "none"});
    s.signed_raw("DELETE", "/v1/me/totp", &p.access, Some(&body), None)
        .await
        .expect(401, "signature_required");
    reset("739154", "none")
        .await
        .expect(403, "step_up_required");
    let (pin_grant, v) = step_up(&s, &p, &step_up_digest("pin.change", &p.user_id)).await;
    assert_eq!(v.status, 200, "{}", v.text);
    reset("739154", &pin_grant)
        .await
        .expect(403, "step_up_required");

    // The right grant: a wrong PIN is an attempt toward the lock-out and keeps the grant.
    let digest = step_up_digest(warung_core::protocol::STEP_UP_TOTP_RESET, &p.user_id);
    let (grant, v) = step_up(&s, &p, &digest).await;
    assert_eq!(v.status, 200, "{}", v.text);
    let r = reset("111222", &grant).await;
    r.expect(403, "pin_incorrect");
    assert_eq!(r.body["error"]["attempts_left"], 4);
    reset("12345", &grant).await.expect(422, "invalid_pin");
    let r = reset("739154", &grant).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let me = s.call("GET", "/v1/me", Some(&p.access), None).await;
    assert_eq!(me.body["totp_enrolled"], false, "{}", me.text);
    check(first.clone(), t + 30)
        .await
        .expect(403, "totp_not_enrolled");

    // Enrol again: a new secret. The grant worked once.
    let r = s.signed(&p, "POST", "/v1/me/totp", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = base32_decode(r.body["secret_base32"].as_str().unwrap()).unwrap();
    assert_ne!(first, second);
    reset("739154", &grant)
        .await
        .expect(403, "step_up_required");
    // A step accepted under the old secret is not accepted again (invariant 8); the next is.
    check(second.clone(), t).await.expect(403, "totp_replayed");
    let r = check(second.clone(), t + 30).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A locked PIN refuses the reset, even with the right PIN and a fresh grant.
    for _ in 0..5 {
        s.signed(
            &p,
            "POST",
            "/v1/me/pin/verify",
            Some(json!({"pin": "000111"})),
        )
        .await;
    }
    let (grant, v) = step_up(&s, &p, &digest).await;
    assert_eq!(v.status, 200, "{}", v.text);
    let r = reset("739154", &grant).await;
    r.expect(423, "pin_locked");
    assert!(r.headers.get("retry-after").is_some());
    s.server.shutdown().await;
}

#[tokio::test]
async fn the_dev_clock_route_moves_time_only_when_enabled_and_only_for_the_dev_token() {
    let body = json!({"advance_s": 31});
    // Off by default: as if the route did not exist (to the dev token holder; anyone else is
    // refused first, and without a dev token nothing dev exists).
    let s = spawn().await;
    s.call("POST", "/v1/dev/clock", Some(DEV_TOKEN), Some(body.clone()))
        .await
        .expect(404, "not_found");
    s.call("POST", "/v1/dev/clock", None, Some(body.clone()))
        .await
        .expect(401, "unauthorized");
    s.server.shutdown().await;
    let s = spawn_with(|c| {
        c.sms.dev_token = None;
        c.dev_clock = true;
    })
    .await;
    s.call("POST", "/v1/dev/clock", None, Some(body.clone()))
        .await
        .expect(404, "not_found");
    s.server.shutdown().await;

    let s = spawn_with(|c| {
        c.dev_clock = true;
        c.identity.otp_resend_s = 30;
    })
    .await;
    let start = s.now();
    s.call("POST", "/v1/dev/clock", Some("wrong"), Some(body.clone()))
        .await
        .expect(401, "unauthorized");
    s.call("POST", "/v1/dev/clock", None, Some(body.clone()))
        .await
        .expect(401, "unauthorized");
    for bad in [
        json!({"advance_s": 0}),
        json!({"advance_s": 2_592_001}),
        json!({"advance_s": -1}),
    ] {
        let r = s
            .call("POST", "/v1/dev/clock", Some(DEV_TOKEN), Some(bad))
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
    }
    assert_eq!(s.now(), start, "refused moves leave the clock alone");
    // A client waits out the resend cool-down through the route.
    let d = new_device_id();
    assert_eq!(s.request_otp("081211119990", "login", &d).await.status, 200);
    s.request_otp("081211119990", "login", &d)
        .await
        .expect(429, "rate_limited");
    let r = s
        .call("POST", "/v1/dev/clock", Some(DEV_TOKEN), Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["now"].as_i64(), Some(start + 31));
    assert_eq!(s.request_otp("081211119990", "login", &d).await.status, 200);
    s.server.shutdown().await;
}
