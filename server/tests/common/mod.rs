//! Helpers of the server's HTTP tests (`api.rs`, `identity.rs`, `identity_log.rs`): a real
//! server on loopback, a reqwest client, and for identity the phones played by the test
//! (device keys, signed requests, inbound SMS signed as an aggregator would).
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use warung_core::protocol::hex;
use warung_server::{Config, RunningServer};

pub const INBOUND_SECRET: &str = "test-inbound-secret";
pub const DEV_TOKEN: &str = "test-dev-token";

pub struct Srv {
    pub server: RunningServer,
    pub url: String,
    pub http: reqwest::Client,
    /// The data directory, removed with the server (`None`: the test owns it).
    pub _dir: Option<tempfile::TempDir>,
    /// The server's clock: it stands still until a test moves it ([`Srv::advance`]).
    pub clock: warung_server::clock::Clock,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.text);
    }
}

/// Test defaults: cheap PIN hashing, no resend cool-down, inbound SMS and the dev outbox on,
/// and a clock that stands at the start time until a test moves it.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config::new(dir);
    config.database_url = warung_server::testing::database_url_for(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.identity.pin_iterations = 1_000;
    config.identity.otp_resend_s = 0;
    config.sms.inbound_secret = Some(INBOUND_SECRET.into());
    config.sms.dev_token = Some(DEV_TOKEN.into());
    config.clock = warung_server::clock::Clock::fixed_now();
    config
}

pub async fn spawn_with(tune: impl FnOnce(&mut Config)) -> Srv {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    tune(&mut config);
    let server = warung_server::start(config).await.unwrap();
    Srv {
        clock: server.clock(),
        url: server.url(),
        server,
        http: reqwest::Client::new(),
        _dir: Some(dir),
    }
}

pub async fn spawn() -> Srv {
    spawn_with(|_| {}).await
}

impl Srv {
    /// The server's time, unix seconds: what signatures, TOTP codes and inbound SMS carry.
    pub fn now(&self) -> i64 {
        self.clock.unix()
    }

    /// Moves the server's clock forward instead of sleeping.
    pub fn advance(&self, seconds: u64) {
        self.clock.advance(std::time::Duration::from_secs(seconds));
    }
}

pub fn new_device_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A phone's Ed25519 device key.
pub struct DeviceKey(pub Ed25519KeyPair);

impl DeviceKey {
    pub fn generate() -> DeviceKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        DeviceKey(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
    }

    pub fn public_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.public_key().as_ref())
    }
}

/// A logged-in phone.
pub struct Phone {
    pub phone: String,
    pub device_id: String,
    pub user_id: String,
    pub access: String,
    pub refresh: String,
    pub key: DeviceKey,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

pub fn nonce() -> String {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut b).unwrap();
    URL_SAFE_NO_PAD.encode(b)
}

/// Signature headers of one request.
pub struct Sig {
    pub device: String,
    pub timestamp: i64,
    pub nonce: String,
    pub signature: String,
}

pub fn sign(
    key: &DeviceKey,
    device: &str,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: i64,
    nonce: &str,
) -> Sig {
    let payload = warung_core::protocol::signing_payload(
        method,
        path,
        &sha256_hex(body),
        timestamp,
        nonce,
        device,
    );
    Sig {
        device: device.to_owned(),
        timestamp,
        nonce: nonce.to_owned(),
        signature: URL_SAFE_NO_PAD.encode(key.0.sign(&payload).as_ref()),
    }
}

impl Srv {
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call("GET", path, token, None).await
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        self.send(req).await
    }

    /// A request with explicit signature headers (`sig: None` sends it unsigned).
    pub async fn signed_raw(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
        sig: Option<&Sig>,
    ) -> Resp {
        self.signed_raw_to(&self.url, method, path, token, body, sig)
            .await
    }

    /// [`Srv::signed_raw`] to another server process on the same database (`base`: its URL).
    pub async fn signed_raw_to(
        &self,
        base: &str,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
        sig: Option<&Sig>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        if let Some(s) = sig {
            req = req
                .header("x-warung-device", &s.device)
                .header("x-warung-timestamp", s.timestamp.to_string())
                .header("x-warung-nonce", &s.nonce)
                .header("x-warung-signature", &s.signature);
        }
        self.send(req).await
    }

    /// A correctly signed request by the phone's key, sent to another server process on the
    /// same database (`base`: its URL).
    pub async fn signed_to(
        &self,
        base: &str,
        p: &Phone,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        let bytes = body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        let sig = sign(
            &p.key,
            &p.device_id,
            method,
            path,
            bytes.as_bytes(),
            self.now(),
            &nonce(),
        );
        self.signed_raw_to(base, method, path, &p.access, body.as_ref(), Some(&sig))
            .await
    }

    /// A correctly signed request by the phone's key.
    pub async fn signed(&self, p: &Phone, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.signed_to(&self.url, p, method, path, body).await
    }

    pub async fn request_otp(&self, phone: &str, purpose: &str, device: &str) -> Resp {
        self.call(
            "POST",
            "/v1/auth/otp",
            None,
            Some(json!({"phone": phone, "purpose": purpose, "device_id": device})),
        )
        .await
    }

    /// The newest code in the dev outbox for `phone`.
    pub async fn dev_code(&self, phone: &str) -> String {
        self.server
            .admin()
            .latest_dev_otp(phone)
            .await
            .unwrap()
            .expect("an OTP in the dev outbox")
    }

    pub async fn verify_otp(&self, challenge: &str, code: &str, device: &str) -> Resp {
        self.call(
            "POST",
            "/v1/auth/otp/verify",
            None,
            Some(json!({"challenge_id": challenge, "code": code, "device_id": device})),
        )
        .await
    }

    /// Registers/logs in `phone` on a new device through the dev outbox.
    pub async fn login(&self, phone: &str) -> Phone {
        self.login_on(phone, &new_device_id()).await
    }

    pub async fn login_on(&self, phone: &str, device: &str) -> Phone {
        let r = self.request_otp(phone, "login", device).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let challenge = r.body["challenge_id"].as_str().unwrap().to_owned();
        let code = self.dev_code(phone).await;
        let r = self.verify_otp(&challenge, &code, device).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["kind"], "session");
        Phone {
            phone: r.body["phone"].as_str().unwrap().to_owned(),
            device_id: device.to_owned(),
            user_id: r.body["user_id"].as_str().unwrap().to_owned(),
            access: r.body["access_token"].as_str().unwrap().to_owned(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_owned(),
            key: DeviceKey::generate(),
        }
    }

    /// Delivers an inbound SMS as the aggregator would, `skew` seconds off, HMAC by `secret`.
    pub async fn inbound_with(
        &self,
        message_id: &str,
        from: &str,
        text: &str,
        skew: i64,
        secret: &str,
    ) -> Resp {
        let body =
            json!({"message_id": message_id, "from": from, "to": "3345", "text": text}).to_string();
        let ts = self.now() + skew;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
        let mut signed = format!("{ts}.").into_bytes();
        signed.extend_from_slice(body.as_bytes());
        let sig = hex(ring::hmac::sign(&key, &signed).as_ref());
        let req = self
            .http
            .post(format!("{}/v1/sms/inbound", self.url))
            .header("content-type", "application/json")
            .header("x-warung-timestamp", ts.to_string())
            .header("x-warung-sms-signature", sig)
            .body(body);
        self.send(req).await
    }

    pub async fn inbound(&self, from: &str, text: &str) -> Resp {
        self.inbound_with(&new_device_id(), from, text, 0, INBOUND_SECRET)
            .await
    }

    /// Starts a binding for the phone's key; returns (binding_id, sms_body).
    pub async fn start_binding(&self, p: &Phone) -> (String, String) {
        let r = self
            .call(
                "POST",
                "/v1/me/binding",
                Some(&p.access),
                Some(json!({"public_key": p.key.public_b64()})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        (
            r.body["binding_id"].as_str().unwrap().to_owned(),
            r.body["sms_body"].as_str().unwrap().to_owned(),
        )
    }

    /// Sets `pin` (signed), checks it is accepted and that `wrong` is refused.
    pub async fn set_and_check_pin(&self, p: &Phone, pin: &str, wrong: &str) {
        let r = self
            .signed(p, "PUT", "/v1/me/pin", Some(json!({ "pin": pin })))
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        let r = self
            .signed(p, "POST", "/v1/me/pin/verify", Some(json!({ "pin": pin })))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        self.signed(
            p,
            "POST",
            "/v1/me/pin/verify",
            Some(json!({ "pin": wrong })),
        )
        .await
        .expect(403, "pin_incorrect");
    }

    /// Binds the phone's key by "sending" the SMS from its own number.
    pub async fn bind(&self, p: &Phone) {
        let (id, body) = self.start_binding(p).await;
        let r = self.inbound(&p.phone, &body).await;
        assert_eq!(r.body["result"], "bound", "{}", r.text);
        let r = self
            .call(
                "GET",
                &format!("/v1/me/binding/{id}"),
                Some(&p.access),
                None,
            )
            .await;
        assert_eq!(r.body["state"], "bound", "{}", r.text);
    }
}
