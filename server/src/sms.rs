//! SMS: the outbound gateway boundary ([`SmsGateway`]) with its two real implementations,
//! the message texts (Indonesian and English), and the inbound webhook's HMAC check.
//!
//! * [`DevGateway`] keeps every message in the database (`dev_sms`): development, tests and
//!   the unattended demo read codes through `GET /v1/dev/sms` or `warung-server sms outbox`.
//! * [`HttpGateway`] posts `{"from","to","text","reference"}` with `Authorization: Bearer` to
//!   an aggregator; anything but a 2xx within the timeout is a failure (the OTP request then
//!   answers 503 `sms_unavailable` and keeps no challenge).
//!
//! Inbound deliveries are signed by the aggregator: lowercase hex HMAC-SHA256(secret,
//! `{timestamp}.{raw body}`), verified with `ring::hmac::verify` (constant time).

use crate::store::identity::SmsStore;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use warung_core::protocol::SmsLanguage;

/// Why a message could not be sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("SMS not sent: {0}")]
pub struct SmsError(pub String);

pub type SmsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

/// One outbound message.
#[derive(Debug, Clone)]
pub struct OutboundSms {
    /// E.164.
    pub to: String,
    pub text: String,
    /// Our id of the message (the challenge or binding it belongs to).
    pub reference: String,
}

/// Sends SMS. Object-safe (`Arc<dyn SmsGateway>`).
pub trait SmsGateway: Send + Sync + 'static {
    fn send(&self, message: OutboundSms) -> SmsFuture<'_>;
    /// `dev` or `http`.
    fn kind(&self) -> &'static str;
}

/// Which gateway to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayConfig {
    Dev,
    Http { url: String, api_key: String },
}

/// SMS settings of the server.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    pub gateway: GatewayConfig,
    /// The sender id outbound messages show (`WARUNG`).
    pub sender_id: String,
    /// The short code phones send binding SMS to.
    pub short_code: String,
    /// The aggregator's inbound HMAC secret; `None` disables `POST /v1/sms/inbound` (404).
    pub inbound_secret: Option<String>,
    /// Enables `GET /v1/dev/sms` (dev gateway only) for `Authorization: Bearer <token>`.
    pub dev_token: Option<String>,
    /// Timeout of one HTTP gateway call.
    pub http_timeout: Duration,
}

impl Default for SmsConfig {
    fn default() -> SmsConfig {
        SmsConfig {
            gateway: GatewayConfig::Dev,
            sender_id: "WARUNG".into(),
            short_code: "3345".into(),
            inbound_secret: None,
            dev_token: None,
            http_timeout: Duration::from_secs(10),
        }
    }
}

/// Builds the configured gateway.
pub fn gateway(
    config: &SmsConfig,
    store: Arc<dyn SmsStore>,
    clock: crate::clock::Clock,
) -> Result<Arc<dyn SmsGateway>, crate::Error> {
    Ok(match &config.gateway {
        GatewayConfig::Dev => Arc::new(DevGateway {
            store,
            clock,
            sender_id: config.sender_id.clone(),
        }),
        GatewayConfig::Http { url, api_key } => Arc::new(HttpGateway::new(
            url.clone(),
            api_key.clone(),
            config.sender_id.clone(),
            config.http_timeout,
        )?),
    })
}

/// Keeps messages in the database's `dev_sms` table.
pub struct DevGateway {
    store: Arc<dyn SmsStore>,
    clock: crate::clock::Clock,
    sender_id: String,
}

impl SmsGateway for DevGateway {
    fn send(&self, m: OutboundSms) -> SmsFuture<'_> {
        Box::pin(async move {
            self.store
                .dev_sms_insert(m.to, self.sender_id.clone(), m.text, self.clock.unix())
                .await
                .map(|_| ())
                .map_err(|e| SmsError(e.to_string()))
        })
    }

    fn kind(&self) -> &'static str {
        "dev"
    }
}

/// Posts messages to an SMS aggregator.
pub struct HttpGateway {
    client: reqwest::Client,
    url: String,
    api_key: String,
    sender_id: String,
}

impl HttpGateway {
    pub fn new(
        url: String,
        api_key: String,
        sender_id: String,
        timeout: Duration,
    ) -> Result<HttpGateway, crate::Error> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(crate::Error::Config(format!(
                "--sms-url {url:?} is not an http(s) URL"
            )));
        }
        if api_key.is_empty() {
            return Err(crate::Error::Config(
                "the http SMS gateway needs --sms-api-key".into(),
            ));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| crate::Error::Config(format!("SMS HTTP client: {e}")))?;
        Ok(HttpGateway {
            client,
            url,
            api_key,
            sender_id,
        })
    }
}

impl SmsGateway for HttpGateway {
    fn send(&self, m: OutboundSms) -> SmsFuture<'_> {
        Box::pin(async move {
            let body = serde_json::json!({
                "from": self.sender_id,
                "to": m.to,
                "text": m.text,
                "reference": m.reference,
            });
            let response = self
                .client
                .post(&self.url)
                .bearer_auth(&self.api_key)
                .json(&body)
                .send()
                .await
                .map_err(|e| SmsError(format!("aggregator unreachable: {e}")))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(SmsError(format!(
                    "aggregator answered {}",
                    response.status()
                )))
            }
        })
    }

    fn kind(&self) -> &'static str {
        "http"
    }
}

/// The OTP message.
pub fn otp_text(language: SmsLanguage, code: &str, ttl_s: i64) -> String {
    let minutes = (ttl_s + 59) / 60;
    match language {
        SmsLanguage::Id => format!(
            "Kode OTP Warung: {code}. Berlaku {minutes} menit. JANGAN berikan kode ini kepada siapa pun, termasuk pihak Warung."
        ),
        SmsLanguage::En => format!(
            "Your Warung code is {code}. It expires in {minutes} minutes. Never share it with anyone, Warung staff included."
        ),
    }
}

/// The confirmation after a SIM binding (the language of the phone is not known then: both).
pub fn bound_text() -> String {
    "Warung: perangkat baru terhubung ke nomor ini. Bukan Anda? Hubungi Warung. / \
     Warung: a new device is now bound to this number. Not you? Contact Warung."
        .to_owned()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Whether `signature_hex` is HMAC-SHA256(secret, `{timestamp}.{body}`) (constant time).
pub fn inbound_signature_valid(
    secret: &str,
    timestamp: i64,
    body: &[u8],
    signature_hex: &str,
) -> bool {
    let Some(tag) = from_hex(signature_hex.trim()) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let payload = warung_core::protocol::inbound_signing_payload(timestamp, body);
    ring::hmac::verify(&key, &payload, &tag).is_ok()
}

/// The signature an aggregator sends (tests and the CLI's demo play the aggregator).
pub fn inbound_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let payload = warung_core::protocol::inbound_signing_payload(timestamp, body);
    crate::identity::hex(ring::hmac::sign(&key, &payload).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_hmac_round_trip_and_refusals() {
        let sig = inbound_signature("s3cret", 100, b"{}");
        assert!(inbound_signature_valid("s3cret", 100, b"{}", &sig));
        assert!(!inbound_signature_valid("s3cret", 101, b"{}", &sig));
        assert!(!inbound_signature_valid("other", 100, b"{}", &sig));
        assert!(!inbound_signature_valid("s3cret", 100, b"{ }", &sig));
        assert!(!inbound_signature_valid("s3cret", 100, b"{}", "zz"));
        assert!(!inbound_signature_valid("s3cret", 100, b"{}", "é1"));
    }

    #[test]
    fn texts_in_both_languages() {
        assert!(otp_text(SmsLanguage::Id, "123456", 300).contains("Berlaku 5 menit"));
        assert!(otp_text(SmsLanguage::En, "123456", 300).contains("expires in 5 minutes"));
    }
}
