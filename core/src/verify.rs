//! Identity and verification on the phone: SMS OTP sign-in, sessions, the SIM-bound device
//! key, signed requests, PIN and the TOTP soft token. Methods on [`SyncClient`], so identity
//! calls share its one HTTP path (TLS, timeouts, back-off) and its [`SecureStorage`].
//!
//! Flow: [`SyncClient::request_otp`] → [`SyncClient::verify_otp`] (a session) →
//! [`SyncClient::begin_device_binding`] (the app sends the returned SMS from the SIM) →
//! [`SyncClient::wait_until_bound`] → [`SyncClient::set_pin`] → [`SyncClient::enroll_totp`]
//! → [`SyncClient::totp_code`] (offline).
//!
//! **Secrets** live only in secure storage, never in SQLite and never in a return value:
//! the session (access + refresh token, [`SESSION_KEY`]), the device's Ed25519 private key
//! (PKCS#8, [`DEVICE_KEY_KEY`]; [`PENDING_DEVICE_KEY_KEY`] while a binding waits for its
//! SMS) and the TOTP secret ([`TOTP_KEY`]). Each record names the server (and the user) it
//! belongs to; a different user signing in on this installation drops the previous user's
//! key and TOTP secret. Logging out keeps them (they are useless without a session, and the
//! same user signing in again keeps the bound device).
//!
//! **Sessions** refresh transparently: proactively when the access token expires within
//! [`REFRESH_MARGIN`], reactively on 401 `token_expired` (the call is retried once). Refreshes
//! are serialised by a mutex: two concurrent refreshes with the same single-use refresh token
//! would look like token theft to the server, which then revokes the whole session. A refused
//! refresh removes the session: [`Error::SessionExpired`], sign in again. Expiry is judged on
//! the server's clock, estimated from the `Date` header of its answers, so a phone whose clock
//! is off neither refreshes on every call nor signs stale timestamps.
//!
//! **Retries**: calls that send an SMS, consume a code or rotate a token are retried only when
//! the connection was never made; reads are retried on transport errors and 5xx. A 429 is
//! never retried: it is [`Error::RateLimited`] with the server's wait.
//!
//! **Signed requests** carry the headers of [`crate::protocol::identity`] and an Ed25519
//! signature over [`signing_payload`] (method, path and query as sent — including any path
//! prefix of the configured server URL — hex SHA-256 of the exact body bytes, unix seconds on
//! the server's clock, a 16-byte random nonce, the device id).

use crate::error::{Error, Result};
use crate::otp;
use crate::protocol::{
    Account, ApiError, BindingInstructions, BindingStart, BindingState, BindingStatus,
    DEVICE_HEADER, DeviceList, DeviceSummary, NONCE_HEADER, OtpChallenge, OtpPurpose, OtpRequest,
    OtpVerified, OtpVerify, PIN_DIGITS, PinCheck, PinProblem, PinSet, PinVerified, RefreshRequest,
    SIGNATURE_HEADER, Session, SmsLanguage, StepUpGrant, TIMESTAMP_HEADER, TotpCheck, TotpVerified,
    hex, is_ascii_digits, signing_payload, step_up_text,
};
use crate::secrets::SecureStorage;
use crate::sync::{Answer, CancelFlag, Retry, SyncClient, server_error};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::Method;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use time::OffsetDateTime;

/// Secure-storage key of the session (JSON, with the server URL).
pub const SESSION_KEY: &str = "warung.session.v1";
/// Secure-storage key of the bound device key (JSON around the PKCS#8 document).
pub const DEVICE_KEY_KEY: &str = "warung.device_key.v1";
/// Secure-storage key of the key waiting for its binding SMS.
pub const PENDING_DEVICE_KEY_KEY: &str = "warung.device_key.pending.v1";
/// Secure-storage key of the TOTP soft token's secret.
pub const TOTP_KEY: &str = "warung.totp.v1";
/// An access token expiring within this margin is refreshed before use.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// How often [`SyncClient::wait_until_bound`] asks the server.
pub const BINDING_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Identity state shared by a client's clones.
#[derive(Default)]
pub(crate) struct IdentityState {
    /// Held while a refresh is in flight.
    refresh: tokio::sync::Mutex<()>,
    /// Server clock minus local clock, in seconds (from `Date` headers).
    clock_offset_s: AtomicI64,
    /// The language of the last OTP request, kept with the session it leads to.
    language: std::sync::Mutex<Option<SmsLanguage>>,
}

/// The result of a register / login verification. The tokens went to secure storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: String,
    /// E.164.
    pub phone: String,
    /// The account was created by this verification.
    pub new_user: bool,
}

/// A sensitive action a step-up OTP confirms. The OTP is bound to [`StepUpAction::digest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepUpAction {
    /// Changing the PIN ([`SyncClient::change_pin`]).
    PinChange,
    /// Removing the TOTP soft token ([`SyncClient::reset_totp`]).
    TotpReset,
}

impl StepUpAction {
    /// The action's name in [`step_up_text`].
    pub fn name(self) -> &'static str {
        match self {
            StepUpAction::PinChange => crate::protocol::STEP_UP_PIN_CHANGE,
            StepUpAction::TotpReset => crate::protocol::STEP_UP_TOTP_RESET,
        }
    }

    /// Lowercase hex SHA-256 of `step_up_text(name, subject)`; the subject of a PIN change is
    /// the user id.
    pub fn digest(self, user_id: &str) -> String {
        sha256_hex(step_up_text(self.name(), user_id).as_bytes())
    }
}

/// A TOTP soft token just enrolled. The secret itself stays in secure storage; `otpauth_uri`
/// carries it for export to another authenticator app (show it only on request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrollment {
    pub issuer: String,
    /// The account label (the phone number).
    pub account: String,
    pub algorithm: otp::Algorithm,
    pub digits: u32,
    pub period_s: u64,
    pub otpauth_uri: String,
}

/// The soft token's code at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpCode {
    pub code: String,
    /// The time step (unix seconds / period).
    pub step: u64,
    /// Seconds until the next code.
    pub valid_for_s: u64,
}

// -- stored records ------------------------------------------------------------------------

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredSession {
    server_url: String,
    user_id: String,
    phone: String,
    device_id: String,
    access_token: String,
    #[serde(with = "time::serde::rfc3339")]
    access_expires_at: OffsetDateTime,
    refresh_token: String,
    #[serde(with = "time::serde::rfc3339")]
    refresh_expires_at: OffsetDateTime,
    /// The language of the sign-in, reused for step-up messages.
    #[serde(default)]
    language: SmsLanguage,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("access_expires_at", &self.access_expires_at)
            .finish_non_exhaustive()
    }
}

impl StoredSession {
    fn new(server_url: &str, s: Session, language: SmsLanguage) -> StoredSession {
        StoredSession {
            server_url: server_url.to_string(),
            user_id: s.user_id,
            phone: s.phone,
            device_id: s.device_id,
            access_token: s.access_token,
            access_expires_at: s.access_expires_at,
            refresh_token: s.refresh_token,
            refresh_expires_at: s.refresh_expires_at,
            language,
        }
    }

    /// The access token expires within [`REFRESH_MARGIN`] of `server_now`.
    fn refresh_due(&self, server_now: OffsetDateTime) -> bool {
        self.access_expires_at - server_now <= REFRESH_MARGIN
    }

    fn refresh_expired(&self, server_now: OffsetDateTime) -> bool {
        server_now >= self.refresh_expires_at
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredKey {
    server_url: String,
    user_id: String,
    device_id: String,
    /// The binding this key was sent with (pending keys).
    #[serde(default)]
    binding_id: Option<String>,
    /// base64url of the PKCS#8 v2 document.
    pkcs8: String,
}

impl StoredKey {
    fn key_pair(&self) -> Result<Ed25519KeyPair> {
        let der = B64
            .decode(&self.pkcs8)
            .map_err(|e| Error::Storage(format!("secure storage: device key: {e}")))?;
        Ed25519KeyPair::from_pkcs8(&der)
            .map_err(|e| Error::Storage(format!("secure storage: device key: {e}")))
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredTotp {
    server_url: String,
    user_id: String,
    /// base32.
    secret: String,
    algorithm: String,
    digits: u32,
    period_s: u64,
    issuer: String,
    account: String,
}

impl StoredTotp {
    fn params(&self) -> Result<otp::TotpParams> {
        let algorithm = parse_algorithm(&self.algorithm).ok_or_else(|| {
            Error::Storage(format!("TOTP algorithm {:?} is not known", self.algorithm))
        })?;
        Ok(otp::TotpParams {
            algorithm,
            digits: self.digits,
            period_s: self.period_s,
        })
    }

    fn secret(&self) -> Result<Vec<u8>> {
        otp::base32_decode(&self.secret)
            .map_err(|e| Error::Storage(format!("secure storage: TOTP secret: {e}")))
    }
}

fn parse_algorithm(text: &str) -> Option<otp::Algorithm> {
    match text.to_ascii_uppercase().as_str() {
        "SHA1" => Some(otp::Algorithm::Sha1),
        "SHA256" => Some(otp::Algorithm::Sha256),
        "SHA512" => Some(otp::Algorithm::Sha512),
        _ => None,
    }
}

fn load<T: serde::de::DeserializeOwned>(
    storage: &dyn SecureStorage,
    key: &str,
) -> Result<Option<T>> {
    let Some(raw) = storage
        .get(key)
        .map_err(|e| Error::Storage(format!("secure storage: {e}")))?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&raw)
        .map(Some)
        .map_err(|e| Error::Storage(format!("secure storage: {key}: {e}")))
}

fn save<T: Serialize>(storage: &dyn SecureStorage, key: &str, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| Error::Storage(format!("{key}: {e}")))?;
    storage
        .put(key, &bytes)
        .map_err(|e| Error::Storage(format!("secure storage: {e}")))
}

fn remove(storage: &dyn SecureStorage, key: &str) -> Result<()> {
    storage
        .delete(key)
        .map_err(|e| Error::Storage(format!("secure storage: {e}")))
}

// -- pure helpers --------------------------------------------------------------------------

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// `pin` is exactly [`PIN_DIGITS`] ASCII digits.
fn check_pin_format(pin: &str) -> Result<()> {
    if is_ascii_digits(pin, PIN_DIGITS) {
        Ok(())
    } else {
        Err(Error::InvalidPin)
    }
}

/// A new PIN against the server's rule ([`protocol::check_new_pin`]), so the user hears it
/// before any request.
pub fn check_new_pin(pin: &str) -> Result<()> {
    crate::protocol::check_new_pin(pin).map_err(|p| match p {
        PinProblem::Format => Error::InvalidPin,
        PinProblem::Weak => Error::WeakPin,
    })
}

/// A path segment made safe for a URL (ids are opaque server strings).
fn segment(id: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The headers of one signed request: (device, timestamp, nonce, signature).
fn sign_request(
    key: &Ed25519KeyPair,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp: i64,
    nonce: &[u8; 16],
    device_id: &str,
) -> [(&'static str, String); 4] {
    let nonce = B64.encode(nonce);
    let payload = signing_payload(
        method,
        path_and_query,
        &sha256_hex(body),
        timestamp,
        &nonce,
        device_id,
    );
    let signature = B64.encode(key.sign(&payload).as_ref());
    [
        (DEVICE_HEADER, device_id.to_string()),
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (NONCE_HEADER, nonce),
        (SIGNATURE_HEADER, signature),
    ]
}

/// A refused identity call as a typed error (the server's code; [`Error::Server`] for the
/// rest).
fn identity_error(answer: &Answer) -> Error {
    let Ok(ApiError { error: d }) = serde_json::from_slice::<ApiError>(&answer.body) else {
        if answer.status == 429 {
            return Error::RateLimited {
                retry_after_s: answer.retry_after_s.unwrap_or(0),
            };
        }
        return server_error(answer.status, &answer.body);
    };
    let retry_after_s = d.retry_after_s.or(answer.retry_after_s).unwrap_or(0);
    match d.code.as_str() {
        _ if answer.status == 429 => Error::RateLimited { retry_after_s },
        "invalid_phone" => Error::InvalidPhone(d.message),
        "invalid_pin" => Error::InvalidPin,
        "weak_pin" => Error::WeakPin,
        "otp_invalid" | "otp_expired" | "otp_used" | "otp_locked" | "otp_wrong_device"
        | "invalid_code" => Error::OtpRejected {
            code: d.code,
            attempts_left: d.attempts_left,
        },
        "pin_incorrect" => Error::PinIncorrect {
            attempts_left: d.attempts_left.unwrap_or(0),
        },
        "pin_locked" => Error::PinLocked { retry_after_s },
        "pin_not_set" => Error::PinNotSet,
        "step_up_required" => Error::StepUpRequired,
        "totp_not_enrolled" => Error::TotpNotEnrolled,
        "totp_already_enrolled" => Error::TotpAlreadyEnrolled,
        "totp_invalid" | "totp_replayed" => Error::TotpRejected { code: d.code },
        "device_not_bound" => Error::DeviceNotBound,
        "signature_required" | "signature_stale" | "signature_invalid" | "signature_replayed"
        | "device_mismatch" => Error::SignatureRejected { code: d.code },
        "token_expired" | "session_revoked" | "session_expired" | "refresh_reused" => {
            Error::SessionExpired
        }
        _ => Error::Server {
            status: answer.status,
            code: d.code,
            message: d.message,
        },
    }
}

fn error_code(answer: &Answer) -> Option<String> {
    serde_json::from_slice::<ApiError>(&answer.body)
        .ok()
        .map(|e| e.error.code)
}

fn decode<T: serde::de::DeserializeOwned>(answer: &Answer) -> Result<T> {
    serde_json::from_slice(&answer.body)
        .map_err(|e| Error::SyncIntegrity(format!("unexpected answer: {e}")))
}

/// How an identity call authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// No credentials (register / login).
    None,
    /// `Authorization: Bearer` with the session's access token.
    Bearer,
    /// Bearer plus the device signature.
    Signed,
}

struct Call<'a> {
    method: Method,
    path: &'a str,
    /// Exact JSON bytes (signed over), or none.
    body: Option<Vec<u8>>,
    auth: Auth,
    retry: Retry,
}

impl<'a> Call<'a> {
    fn new(method: Method, path: &'a str, auth: Auth, retry: Retry) -> Call<'a> {
        Call {
            method,
            path,
            body: None,
            auth,
            retry,
        }
    }

    fn json(mut self, body: &impl Serialize) -> Result<Call<'a>> {
        self.body = Some(
            serde_json::to_vec(body).map_err(|e| Error::Storage(format!("request body: {e}")))?,
        );
        Ok(self)
    }
}

// -- the client ----------------------------------------------------------------------------

impl SyncClient {
    // -- sign-in --

    /// Asks the server to text a 6-digit code to `phone` (`08…`, `628…`, `+628…`; normalised
    /// to E.164 first, an unusable number is [`Error::InvalidPhone`] without a request) for
    /// `purpose` `Register` or `Login` (step-up codes: [`SyncClient::request_step_up`]). The
    /// code is bound to this installation (the outbox device id). A resend within the
    /// cool-down or past the hourly limits is [`Error::RateLimited`].
    pub async fn request_otp(
        &self,
        phone: &str,
        purpose: OtpPurpose,
        language: SmsLanguage,
    ) -> Result<OtpChallenge> {
        if purpose == OtpPurpose::StepUp {
            return Err(Error::OtpRejected {
                code: "wrong_purpose".into(),
                attempts_left: None,
            });
        }
        let phone =
            crate::phone::normalize(phone).map_err(|e| Error::InvalidPhone(e.to_string()))?;
        let device_id = self.blocking(|p| p.outbox().device_id()).await?;
        *self
            .identity_state()
            .language
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(language);
        let body = OtpRequest {
            phone,
            purpose,
            device_id,
            language,
            tx_digest: None,
        };
        let call =
            Call::new(Method::POST, "/v1/auth/otp", Auth::None, Retry::Unsent).json(&body)?;
        let answer = self.call(call).await?;
        decode(&answer)
    }

    /// Checks the SMS code of a register / login challenge. On success the session (access
    /// and refresh token) is stored in secure storage — never returned — and what the app may
    /// show comes back. A wrong, expired, used or locked code is [`Error::OtpRejected`] (with
    /// `attempts_left` for a wrong one). If another user was signed in on this installation,
    /// that user's device key and TOTP secret are removed.
    pub async fn verify_otp(&self, challenge_id: &str, code: &str) -> Result<SignedIn> {
        check_otp_code(code)?;
        let device_id = self.blocking(|p| p.outbox().device_id()).await?;
        let body = OtpVerify {
            challenge_id: challenge_id.to_string(),
            code: code.to_string(),
            device_id,
        };
        let call = Call::new(
            Method::POST,
            "/v1/auth/otp/verify",
            Auth::None,
            Retry::Unsent,
        )
        .json(&body)?;
        let answer = self.call(call).await.map_err(unknown_challenge)?;
        let session = match decode::<OtpVerified>(&answer)? {
            OtpVerified::Session(s) => s,
            OtpVerified::StepUp(_) => {
                return Err(Error::OtpRejected {
                    code: "wrong_purpose".into(),
                    attempts_left: None,
                });
            }
        };
        let requested = *self
            .identity_state()
            .language
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let language = match requested {
            Some(l) => l,
            None => self.session()?.map(|p| p.language).unwrap_or_default(),
        };
        let stored = StoredSession::new(self.server_url(), session.clone(), language);
        self.forget_other_users(&stored.user_id)?;
        save(self.storage(), SESSION_KEY, &stored)?;
        Ok(SignedIn {
            user_id: session.user_id,
            phone: session.phone,
            new_user: session.new_user,
        })
    }

    /// Sends a step-up code to the signed-in user's phone, bound to `action` (its digest).
    pub async fn request_step_up(&self, action: StepUpAction) -> Result<OtpChallenge> {
        let session = self.fresh_session(&CancelFlag::new()).await?;
        let body = OtpRequest {
            phone: session.phone.clone(),
            purpose: OtpPurpose::StepUp,
            device_id: session.device_id.clone(),
            language: session.language,
            tx_digest: Some(action.digest(&session.user_id)),
        };
        let call =
            Call::new(Method::POST, "/v1/auth/otp", Auth::Bearer, Retry::Unsent).json(&body)?;
        decode(&self.call(call).await?)
    }

    /// Checks a step-up code. The grant lets the action it was bound to happen once, within
    /// its expiry (pass `challenge_id` to the action, e.g. [`SyncClient::change_pin`]).
    pub async fn verify_step_up(&self, challenge_id: &str, code: &str) -> Result<StepUpGrant> {
        check_otp_code(code)?;
        let session = self.fresh_session(&CancelFlag::new()).await?;
        let body = OtpVerify {
            challenge_id: challenge_id.to_string(),
            code: code.to_string(),
            device_id: session.device_id,
        };
        let call = Call::new(
            Method::POST,
            "/v1/auth/otp/verify",
            Auth::Bearer,
            Retry::Unsent,
        )
        .json(&body)?;
        let answer = self.call(call).await.map_err(unknown_challenge)?;
        match decode::<OtpVerified>(&answer)? {
            OtpVerified::StepUp(grant) => Ok(grant),
            OtpVerified::Session(_) => Err(Error::OtpRejected {
                code: "wrong_purpose".into(),
                attempts_left: None,
            }),
        }
    }

    /// Ends the session on the server and removes it here. The local session is gone either
    /// way; a server that cannot be reached is reported after removing it. The device key and
    /// TOTP secret stay (the same user signing in again keeps the bound device).
    pub async fn logout(&self) -> Result<()> {
        if self.session()?.is_none() {
            return Ok(());
        }
        let call = Call::new(Method::POST, "/v1/auth/logout", Auth::Bearer, Retry::Unsent);
        let result = self.call(call).await;
        self.clear_session()?;
        match result {
            Ok(_) | Err(Error::SessionExpired) | Err(Error::NotSignedIn) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A session for this server is stored and its refresh token has not expired (no request).
    pub fn is_signed_in(&self) -> Result<bool> {
        let now = self.server_now();
        Ok(self.session()?.is_some_and(|s| !s.refresh_expired(now)))
    }

    // -- device binding --

    /// Creates a new Ed25519 key pair (ring; the private key goes only to secure storage, as
    /// the pending key) and asks the server for a binding. The app must then send
    /// `sms_body` to `short_code` from the phone's SIM; once the server has it, the pending
    /// key becomes the device key ([`SyncClient::binding_status`] /
    /// [`SyncClient::wait_until_bound`]). A newer binding replaces an older pending one.
    pub async fn begin_device_binding(&self) -> Result<BindingInstructions> {
        let session = self.fresh_session(&CancelFlag::new()).await?;
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| Error::Storage("no randomness for the device key".into()))?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map_err(|e| Error::Storage(format!("device key: {e}")))?;
        let mut pending = StoredKey {
            server_url: self.server_url().to_string(),
            user_id: session.user_id.clone(),
            device_id: session.device_id.clone(),
            binding_id: None,
            pkcs8: B64.encode(pkcs8.as_ref()),
        };
        // Kept before the server hears of it: a binding whose key was lost is useless.
        save(self.storage(), PENDING_DEVICE_KEY_KEY, &pending)?;
        let body = BindingStart {
            public_key: B64.encode(pair.public_key().as_ref()),
        };
        let call =
            Call::new(Method::POST, "/v1/me/binding", Auth::Bearer, Retry::Unsent).json(&body)?;
        let instructions: BindingInstructions = decode(&self.call(call).await?)?;
        pending.binding_id = Some(instructions.binding_id.clone());
        save(self.storage(), PENDING_DEVICE_KEY_KEY, &pending)?;
        Ok(instructions)
    }

    /// The server's view of a binding. When it is `Bound` and it is this installation's
    /// pending binding, the pending key becomes the device key.
    pub async fn binding_status(&self, binding_id: &str) -> Result<BindingStatus> {
        let path = format!("/v1/me/binding/{}", segment(binding_id));
        let call = Call::new(Method::GET, &path, Auth::Bearer, Retry::TransientExcept429);
        let status: BindingStatus = decode(&self.call(call).await?)?;
        if status.state == BindingState::Bound {
            self.promote_pending(&status.binding_id)?;
        }
        Ok(status)
    }

    /// Polls [`SyncClient::binding_status`] every [`BINDING_POLL_INTERVAL`] until the binding
    /// is bound (Ok), expired or revoked ([`Error::BindingFailed`]), `timeout` passes
    /// ([`Error::BindingTimedOut`]; the binding may still complete) or `cancel` is set
    /// ([`Error::Cancelled`]).
    pub async fn wait_until_bound(
        &self,
        binding_id: &str,
        timeout: Duration,
        cancel: &CancelFlag,
    ) -> Result<BindingStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let status = self.binding_status(binding_id).await?;
            match status.state {
                BindingState::Bound => return Ok(status),
                BindingState::Expired | BindingState::Revoked => {
                    return Err(Error::BindingFailed(status.state));
                }
                BindingState::Pending => {}
            }
            let next = tokio::time::Instant::now() + BINDING_POLL_INTERVAL;
            if next > deadline {
                return Err(Error::BindingTimedOut);
            }
            // Short sleeps, so a cancel is heard quickly.
            while tokio::time::Instant::now() < next {
                if cancel.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// This installation holds a bound device key for this server (and for the signed-in
    /// user, if any). Local: no request.
    pub fn is_device_bound(&self) -> Result<bool> {
        Ok(self.device_key()?.is_some())
    }

    /// The user's devices.
    pub async fn devices(&self) -> Result<Vec<DeviceSummary>> {
        let call = Call::new(
            Method::GET,
            "/v1/me/devices",
            Auth::Bearer,
            Retry::TransientExcept429,
        );
        Ok(decode::<DeviceList>(&self.call(call).await?)?.devices)
    }

    /// Revokes one of the user's devices (its binding and sessions); signed. Revoking this
    /// installation also drops its device key.
    pub async fn revoke_device(&self, device_id: &str) -> Result<()> {
        let path = format!("/v1/me/devices/{}", segment(device_id));
        let call = Call::new(Method::DELETE, &path, Auth::Signed, Retry::Unsent);
        self.call(call).await?;
        if self.session()?.is_some_and(|s| s.device_id == device_id) {
            remove(self.storage(), DEVICE_KEY_KEY)?;
        }
        Ok(())
    }

    /// The signed-in account.
    pub async fn account(&self) -> Result<Account> {
        let call = Call::new(
            Method::GET,
            "/v1/me",
            Auth::Bearer,
            Retry::TransientExcept429,
        );
        decode(&self.call(call).await?)
    }

    // -- PIN --

    /// Sets the first PIN (signed; needs a bound device). Checked here first:
    /// [`Error::InvalidPin`] (not 6 ASCII digits), [`Error::WeakPin`].
    pub async fn set_pin(&self, pin: &str) -> Result<()> {
        check_new_pin(pin)?;
        let body = PinSet {
            pin: pin.to_string(),
            old_pin: None,
            step_up_challenge_id: None,
        };
        let call = Call::new(Method::PUT, "/v1/me/pin", Auth::Signed, Retry::Unsent).json(&body)?;
        self.call(call).await.map(drop)
    }

    /// Changes the PIN: the old PIN plus a verified step-up for [`StepUpAction::PinChange`]
    /// (else [`Error::StepUpRequired`]); signed.
    pub async fn change_pin(
        &self,
        old_pin: &str,
        new_pin: &str,
        step_up_challenge_id: &str,
    ) -> Result<()> {
        check_pin_format(old_pin)?;
        check_new_pin(new_pin)?;
        let body = PinSet {
            pin: new_pin.to_string(),
            old_pin: Some(old_pin.to_string()),
            step_up_challenge_id: Some(step_up_challenge_id.to_string()),
        };
        let call = Call::new(Method::PUT, "/v1/me/pin", Auth::Signed, Retry::Unsent).json(&body)?;
        self.call(call).await.map(drop)
    }

    /// Checks the PIN with the server (signed). Ok means right; a wrong one is
    /// [`Error::PinIncorrect`] with the attempts left, a locked account [`Error::PinLocked`].
    pub async fn verify_pin(&self, pin: &str) -> Result<()> {
        check_pin_format(pin)?;
        let body = PinCheck {
            pin: pin.to_string(),
        };
        let call = Call::new(
            Method::POST,
            "/v1/me/pin/verify",
            Auth::Signed,
            Retry::Unsent,
        )
        .json(&body)?;
        let verified: PinVerified = decode(&self.call(call).await?)?;
        if verified.verified {
            Ok(())
        } else {
            Err(Error::PinIncorrect { attempts_left: 0 })
        }
    }

    // -- TOTP soft token --

    /// Enrols the TOTP soft token (signed; the server issues the secret once — a second
    /// enrolment is [`Error::TotpAlreadyEnrolled`]). The secret goes to secure storage.
    pub async fn enroll_totp(&self) -> Result<TotpEnrollment> {
        let session = self.fresh_session(&CancelFlag::new()).await?;
        let call = Call::new(Method::POST, "/v1/me/totp", Auth::Signed, Retry::Unsent);
        let e: crate::protocol::TotpEnrollment = decode(&self.call(call).await?)?;
        let stored = StoredTotp {
            server_url: self.server_url().to_string(),
            user_id: session.user_id,
            secret: e.secret_base32,
            algorithm: e.algorithm,
            digits: e.digits,
            period_s: u64::from(e.period_s),
            issuer: e.issuer,
            account: e.account,
        };
        // Unusable parameters are refused before they are kept.
        let params = stored
            .params()
            .map_err(|e| Error::SyncIntegrity(format!("TOTP enrolment: {e}")))?;
        let secret = stored
            .secret()
            .map_err(|e| Error::SyncIntegrity(format!("TOTP enrolment: {e}")))?;
        otp::totp(&secret, 0, &params)
            .map_err(|e| Error::SyncIntegrity(format!("TOTP enrolment: {e}")))?;
        save(self.storage(), TOTP_KEY, &stored)?;
        Ok(TotpEnrollment {
            otpauth_uri: otp::otpauth_uri(&secret, &stored.issuer, &stored.account, &params),
            issuer: stored.issuer,
            account: stored.account,
            algorithm: params.algorithm,
            digits: params.digits,
            period_s: params.period_s,
        })
    }

    /// Removes the TOTP soft token on the server (signed; the PIN plus a verified step-up for
    /// [`StepUpAction::TotpReset`], else [`Error::StepUpRequired`]), then its secret here, so
    /// [`SyncClient::enroll_totp`] works again. A wrong PIN is [`Error::PinIncorrect`] and
    /// counts toward the PIN lock-out.
    pub async fn reset_totp(&self, pin: &str, step_up_challenge_id: &str) -> Result<()> {
        check_pin_format(pin)?;
        let body = crate::protocol::TotpReset {
            pin: pin.to_string(),
            step_up_challenge_id: step_up_challenge_id.to_string(),
        };
        let call =
            Call::new(Method::DELETE, "/v1/me/totp", Auth::Signed, Retry::Unsent).json(&body)?;
        self.call(call).await?;
        remove(self.storage(), TOTP_KEY)
    }

    /// The soft token's code at `unix_time`, offline (no request, no session needed).
    /// [`Error::TotpNotEnrolled`] when this installation holds no secret (for the signed-in
    /// user).
    pub fn totp_code(&self, unix_time: u64) -> Result<TotpCode> {
        let stored = self.totp_secret()?.ok_or(Error::TotpNotEnrolled)?;
        let params = stored.params()?;
        let code = otp::totp(&stored.secret()?, unix_time, &params)
            .map_err(|e| Error::Storage(format!("TOTP: {e}")))?;
        Ok(TotpCode {
            code,
            step: otp::step(unix_time, params.period_s),
            valid_for_s: params.period_s - unix_time % params.period_s,
        })
    }

    /// The `otpauth://` URI of the enrolled soft token, for another authenticator app.
    pub fn totp_uri(&self) -> Result<String> {
        let stored = self.totp_secret()?.ok_or(Error::TotpNotEnrolled)?;
        Ok(otp::otpauth_uri(
            &stored.secret()?,
            &stored.issuer,
            &stored.account,
            &stored.params()?,
        ))
    }

    /// Has the server check a TOTP code (signed); returns the step it matched. A wrong code is
    /// [`Error::TotpRejected`] `totp_invalid`, a step already accepted `totp_replayed`.
    pub async fn confirm_totp(&self, code: &str) -> Result<u64> {
        if code.is_empty() || code.len() > 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::TotpRejected {
                code: "invalid_code".into(),
            });
        }
        let body = TotpCheck {
            code: code.to_string(),
        };
        let call = Call::new(
            Method::POST,
            "/v1/me/totp/verify",
            Auth::Signed,
            Retry::Unsent,
        )
        .json(&body)?;
        let answer = self.call(call).await.map_err(|e| match e {
            // The server's 422 `invalid_code` is about this TOTP code, not an SMS one.
            Error::OtpRejected { code, .. } => Error::TotpRejected { code },
            other => other,
        })?;
        Ok(decode::<TotpVerified>(&answer)?.step)
    }

    // -- sessions (crate) --

    /// Called by each sync round: refreshes a session that is due. The round goes on without
    /// a session (the catalog needs none), so only a cancel stops it.
    pub(crate) async fn refresh_session_in_round(&self, cancel: &CancelFlag) -> Result<()> {
        let Some(session) = self.session()? else {
            return Ok(());
        };
        if !session.refresh_due(self.server_now()) {
            return Ok(());
        }
        match self.refresh(cancel, &session.access_token).await {
            Err(Error::Cancelled) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    fn session(&self) -> Result<Option<StoredSession>> {
        self.stored(SESSION_KEY)
    }

    fn clear_session(&self) -> Result<()> {
        remove(self.storage(), SESSION_KEY)
    }

    /// A record of `key` that belongs to this server.
    fn stored<T: serde::de::DeserializeOwned + HasServer>(&self, key: &str) -> Result<Option<T>> {
        Ok(load::<T>(self.storage(), key)?.filter(|r| r.server_url() == self.server_url()))
    }

    fn device_key(&self) -> Result<Option<StoredKey>> {
        let key: Option<StoredKey> = self.stored(DEVICE_KEY_KEY)?;
        let user = self.session()?.map(|s| s.user_id);
        Ok(key.filter(|k| user.as_ref().is_none_or(|u| *u == k.user_id)))
    }

    fn totp_secret(&self) -> Result<Option<StoredTotp>> {
        let totp: Option<StoredTotp> = self.stored(TOTP_KEY)?;
        let user = self.session()?.map(|s| s.user_id);
        Ok(totp.filter(|t| user.as_ref().is_none_or(|u| *u == t.user_id)))
    }

    /// Drops another user's device key, pending key and TOTP secret.
    fn forget_other_users(&self, user_id: &str) -> Result<()> {
        let storage = self.storage();
        if load::<StoredKey>(storage, DEVICE_KEY_KEY)?.is_some_and(|k| k.user_id != user_id) {
            remove(storage, DEVICE_KEY_KEY)?;
        }
        if load::<StoredKey>(storage, PENDING_DEVICE_KEY_KEY)?.is_some_and(|k| k.user_id != user_id)
        {
            remove(storage, PENDING_DEVICE_KEY_KEY)?;
        }
        if load::<StoredTotp>(storage, TOTP_KEY)?.is_some_and(|t| t.user_id != user_id) {
            remove(storage, TOTP_KEY)?;
        }
        Ok(())
    }

    fn promote_pending(&self, binding_id: &str) -> Result<()> {
        let pending: Option<StoredKey> = self.stored(PENDING_DEVICE_KEY_KEY)?;
        if let Some(mut key) = pending.filter(|k| k.binding_id.as_deref() == Some(binding_id)) {
            key.key_pair()?;
            key.binding_id = None;
            save(self.storage(), DEVICE_KEY_KEY, &key)?;
            remove(self.storage(), PENDING_DEVICE_KEY_KEY)?;
        }
        Ok(())
    }

    fn server_now(&self) -> OffsetDateTime {
        let offset = self.identity_state().clock_offset_s.load(Ordering::Relaxed);
        OffsetDateTime::now_utc() + time::Duration::seconds(offset)
    }

    fn note_clock(&self, answer: &Answer) {
        if let Some(date) = answer.date {
            let offset = (date - OffsetDateTime::now_utc()).whole_seconds();
            self.identity_state()
                .clock_offset_s
                .store(offset, Ordering::Relaxed);
        }
    }

    /// The session, refreshed first if its access token is (nearly) expired.
    async fn fresh_session(&self, cancel: &CancelFlag) -> Result<StoredSession> {
        let session = self.session()?.ok_or(Error::NotSignedIn)?;
        let now = self.server_now();
        if session.refresh_expired(now) {
            self.clear_session()?;
            return Err(Error::SessionExpired);
        }
        if session.refresh_due(now) {
            return self.refresh(cancel, &session.access_token).await;
        }
        Ok(session)
    }

    /// Rotates the session's tokens, one refresh at a time: a caller that waited for another's
    /// refresh uses its result instead of presenting the (now rotated) refresh token again.
    /// `stale_access` is the access token the caller found wanting.
    async fn refresh(&self, cancel: &CancelFlag, stale_access: &str) -> Result<StoredSession> {
        let _one_at_a_time = self.identity_state().refresh.lock().await;
        let session = self.session()?.ok_or(Error::NotSignedIn)?;
        let now = self.server_now();
        if session.access_token != stale_access && !session.refresh_due(now) {
            return Ok(session);
        }
        if session.refresh_expired(now) {
            self.clear_session()?;
            return Err(Error::SessionExpired);
        }
        let body = serde_json::to_vec(&RefreshRequest {
            refresh_token: session.refresh_token.clone(),
        })
        .map_err(|e| Error::Storage(format!("request body: {e}")))?;
        let answer = self
            .exchange(cancel, Retry::Unsent, || {
                self.http(Method::POST, "/v1/auth/refresh")
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        self.note_clock(&answer);
        if answer.is_success() {
            let fresh = StoredSession::new(self.server_url(), decode(&answer)?, session.language);
            save(self.storage(), SESSION_KEY, &fresh)?;
            return Ok(fresh);
        }
        if answer.status == 401 {
            // Expired, revoked or reused: this session is over.
            self.clear_session()?;
            return Err(Error::SessionExpired);
        }
        Err(identity_error(&answer))
    }

    /// One identity call: credentials per `call.auth`, a reactive refresh and one retry on 401
    /// `token_expired`, and the server's refusal as a typed error.
    async fn call(&self, call: Call<'_>) -> Result<Answer> {
        let cancel = CancelFlag::new();
        let body = call.body.unwrap_or_default();
        let mut session = match call.auth {
            Auth::None => None,
            Auth::Bearer | Auth::Signed => Some(self.fresh_session(&cancel).await?),
        };
        let key = match (&session, call.auth) {
            (Some(s), Auth::Signed) => {
                let key = self.device_key()?.ok_or(Error::DeviceNotBound)?;
                if key.device_id != s.device_id {
                    return Err(Error::DeviceNotBound);
                }
                Some(key.key_pair()?)
            }
            _ => None,
        };
        let url = reqwest::Url::parse(&format!("{}{}", self.server_url(), call.path))
            .map_err(|e| Error::InvalidSyncConfig(format!("{}: {e}", call.path)))?;
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let mut retried = false;
        loop {
            let bearer = session.as_ref().map(|s| s.access_token.clone());
            let signature = match (&key, &session) {
                (Some(key), Some(s)) => {
                    let mut nonce = [0u8; 16];
                    getrandom::fill(&mut nonce)
                        .map_err(|e| Error::Storage(format!("no randomness: {e}")))?;
                    Some(sign_request(
                        key,
                        call.method.as_str(),
                        &path_and_query,
                        &body,
                        self.server_now().unix_timestamp(),
                        &nonce,
                        &s.device_id,
                    ))
                }
                _ => None,
            };
            // Retries of a signed call happen only when the request never left (Retry::Unsent),
            // so its nonce was never seen.
            let answer = self
                .exchange(&cancel, call.retry, || {
                    let mut req = self.http(call.method.clone(), call.path);
                    if let Some(token) = &bearer {
                        req = req.bearer_auth(token);
                    }
                    if let Some(headers) = &signature {
                        for (name, value) in headers {
                            req = req.header(*name, value);
                        }
                    }
                    if !body.is_empty() {
                        req = req
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(body.clone());
                    }
                    req
                })
                .await?;
            self.note_clock(&answer);
            if answer.is_success() {
                return Ok(answer);
            }
            if answer.status == 401
                && let Some(s) = &session
            {
                match error_code(&answer).as_deref() {
                    Some("token_expired") if !retried => {
                        retried = true;
                        let stale = s.access_token.clone();
                        session = Some(self.refresh(&cancel, &stale).await?);
                        continue;
                    }
                    Some("token_expired" | "session_revoked" | "unauthorized") => {
                        self.clear_session()?;
                        return Err(Error::SessionExpired);
                    }
                    _ => {}
                }
            }
            let error = identity_error(&answer);
            if error == Error::DeviceNotBound {
                // The server no longer accepts this key (replaced or revoked): drop it.
                remove(self.storage(), DEVICE_KEY_KEY)?;
            }
            return Err(error);
        }
    }
}

/// An unknown challenge id is an OTP refusal, not a generic 404.
fn unknown_challenge(e: Error) -> Error {
    match e {
        Error::Server {
            status: 404, code, ..
        } if code == "not_found" => Error::OtpRejected {
            code,
            attempts_left: None,
        },
        other => other,
    }
}

/// An SMS code is exactly [`crate::protocol::OTP_DIGITS`] ASCII digits (checked before any
/// request, so a typo does not cost an attempt).
fn check_otp_code(code: &str) -> Result<()> {
    if code.len() == crate::protocol::OTP_DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::OtpRejected {
            code: "invalid_code".into(),
            attempts_left: None,
        })
    }
}

trait HasServer {
    fn server_url(&self) -> &str;
}

impl HasServer for StoredSession {
    fn server_url(&self) -> &str {
        &self.server_url
    }
}

impl HasServer for StoredKey {
    fn server_url(&self) -> &str {
        &self.server_url
    }
}

impl HasServer for StoredTotp {
    fn server_url(&self) -> &str {
        &self.server_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Profile;
    use crate::protocol::ApiErrorDetail;
    use crate::secrets::MemoryStorage;
    use crate::sync::{RetryPolicy, SyncConfig};
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::{Arc, Mutex};

    // -- a scripted HTTP/1.1 server on loopback (one thread per connection) --

    #[derive(Debug, Clone)]
    struct Req {
        method: String,
        path: String,
        headers: HashMap<String, String>,
        body: Vec<u8>,
    }

    impl Req {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name).map(String::as_str)
        }
        fn bearer(&self) -> Option<&str> {
            self.header("authorization")?.strip_prefix("Bearer ")
        }
    }

    type Handler = dyn Fn(&Req) -> (u16, String) + Send + Sync;

    struct Fake {
        url: String,
        log: Arc<Mutex<Vec<Req>>>,
    }

    impl Fake {
        fn start(handler: impl Fn(&Req) -> (u16, String) + Send + Sync + 'static) -> Fake {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let handler: Arc<Handler> = Arc::new(handler);
            let log = Arc::new(Mutex::new(Vec::new()));
            let log2 = log.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let handler = handler.clone();
                    let log = log2.clone();
                    std::thread::spawn(move || serve_one(stream, &*handler, &log));
                }
            });
            Fake { url, log }
        }

        fn requests(&self) -> Vec<Req> {
            self.log.lock().unwrap().clone()
        }

        fn count(&self, method: &str, path: &str) -> usize {
            self.requests()
                .iter()
                .filter(|r| r.method == method && r.path == path)
                .count()
        }
    }

    fn serve_one(stream: std::net::TcpStream, handler: &Handler, log: &Mutex<Vec<Req>>) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let req = Req {
            method,
            path,
            headers,
            body,
        };
        let (status, answer) = handler(&req);
        log.lock().unwrap().push(req);
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        );
    }

    fn api_error(code: &str) -> String {
        api_error_with(code, None, None)
    }

    fn api_error_with(
        code: &str,
        attempts_left: Option<u32>,
        retry_after_s: Option<u64>,
    ) -> String {
        serde_json::to_string(&ApiError {
            error: ApiErrorDetail {
                code: code.into(),
                message: format!("{code} (test)"),
                expected_seq: None,
                attempts_left,
                retry_after_s,
            },
        })
        .unwrap()
    }

    fn session_json(access: &str, refresh: &str, access_in: time::Duration) -> String {
        let now = OffsetDateTime::now_utc();
        serde_json::to_string(&Session {
            user_id: "u-1".into(),
            phone: "+6281234567890".into(),
            device_id: "dev-1".into(),
            access_token: access.into(),
            access_expires_at: now + access_in,
            refresh_token: refresh.into(),
            refresh_expires_at: now + time::Duration::days(30),
            new_user: false,
        })
        .unwrap()
    }

    fn account_json() -> String {
        serde_json::to_string(&Account {
            user_id: "u-1".into(),
            phone: "+6281234567890".into(),
            device_id: "dev-1".into(),
            device_bound: false,
            pin_set: false,
            pin_locked_until: None,
            totp_enrolled: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
        })
        .unwrap()
    }

    fn client_with_storage(
        url: &str,
        storage: Arc<MemoryStorage>,
    ) -> (SyncClient, Arc<MemoryStorage>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let profile = Profile::open(dir.path().join("p.db"), crate::money::Currency::IDR).unwrap();
        let mut config = SyncConfig::new(url, "cli");
        config.retry = RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        };
        let client = SyncClient::new(profile, storage.clone(), config).unwrap();
        (client, storage, dir)
    }

    fn client(url: &str) -> (SyncClient, Arc<MemoryStorage>, tempfile::TempDir) {
        client_with_storage(url, Arc::new(MemoryStorage::default()))
    }

    /// Stores a session as `verify_otp` would.
    fn sign_in(client: &SyncClient, access: &str, refresh: &str, access_in: time::Duration) {
        let session: Session =
            serde_json::from_str(&session_json(access, refresh, access_in)).unwrap();
        let stored = StoredSession::new(client.server_url(), session, SmsLanguage::En);
        save(client.storage(), SESSION_KEY, &stored).unwrap();
    }

    fn stored_session(storage: &MemoryStorage) -> Option<StoredSession> {
        load(storage, SESSION_KEY).unwrap()
    }

    fn new_key(client: &SyncClient, binding_id: Option<&str>) -> StoredKey {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        StoredKey {
            server_url: client.server_url().into(),
            user_id: "u-1".into(),
            device_id: "dev-1".into(),
            binding_id: binding_id.map(str::to_string),
            pkcs8: B64.encode(pkcs8.as_ref()),
        }
    }

    // -- pure parts --

    #[test]
    fn signature_verifies_with_the_public_key_and_covers_every_field() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ED25519,
            key.public_key().as_ref().to_vec(),
        );
        let body = br#"{"pin":"135790"}"#;
        let nonce = [7u8; 16];
        let headers = sign_request(
            &key,
            "put",
            "/v1/me/pin",
            body,
            1_700_000_000,
            &nonce,
            "dev-1",
        );
        let h: HashMap<_, _> = headers.iter().cloned().collect();
        assert_eq!(h[DEVICE_HEADER], "dev-1");
        assert_eq!(h[TIMESTAMP_HEADER], "1700000000");
        assert_eq!(
            h[NONCE_HEADER].len(),
            22,
            "16 bytes, base64url without padding"
        );
        assert_eq!(B64.decode(&h[NONCE_HEADER]).unwrap(), nonce);
        let signature = B64.decode(&h[SIGNATURE_HEADER]).unwrap();
        assert_eq!(signature.len(), 64);
        let payload = |method: &str, path: &str, body: &[u8], ts: i64, nonce: &str, dev: &str| {
            signing_payload(method, path, &sha256_hex(body), ts, nonce, dev)
        };
        let n = h[NONCE_HEADER].as_str();
        public
            .verify(
                &payload("PUT", "/v1/me/pin", body, 1_700_000_000, n, "dev-1"),
                &signature,
            )
            .expect("the server's check passes");
        // Any changed field fails.
        for wrong in [
            payload("POST", "/v1/me/pin", body, 1_700_000_000, n, "dev-1"),
            payload("PUT", "/v1/me/pin?x=1", body, 1_700_000_000, n, "dev-1"),
            payload(
                "PUT",
                "/v1/me/pin",
                br#"{"pin":"135791"}"#,
                1_700_000_000,
                n,
                "dev-1",
            ),
            payload("PUT", "/v1/me/pin", body, 1_700_000_001, n, "dev-1"),
            payload(
                "PUT",
                "/v1/me/pin",
                body,
                1_700_000_000,
                "AAAAAAAAAAAAAAAAAAAAAA",
                "dev-1",
            ),
            payload("PUT", "/v1/me/pin", body, 1_700_000_000, n, "dev-2"),
        ] {
            assert!(public.verify(&wrong, &signature).is_err());
        }
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn pin_format_and_weak_pins() {
        check_new_pin("135790").unwrap();
        check_new_pin("123457").unwrap();
        check_new_pin("909090").unwrap();
        for weak in [
            "000000", "777777", "123456", "012345", "456789", "654321", "987654",
        ] {
            assert_eq!(check_new_pin(weak), Err(Error::WeakPin), "{weak}");
        }
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            " 13579",
            "１３５７９０",
            "١٣٥٧٩٠",
        ] {
            assert_eq!(check_new_pin(bad), Err(Error::InvalidPin), "{bad:?}");
        }
        // An existing PIN is only checked for format (it passed the weakness rule when set).
        check_pin_format("123456").unwrap();
    }

    #[test]
    fn step_up_digest_is_sha256_of_the_step_up_text() {
        assert_eq!(
            StepUpAction::PinChange.digest("u-1"),
            sha256_hex(b"pin.change\nu-1")
        );
        assert_eq!(StepUpAction::PinChange.digest("u-1").len(), 64);
        assert_ne!(
            StepUpAction::PinChange.digest("u-1"),
            StepUpAction::PinChange.digest("u-2")
        );
        assert_eq!(
            StepUpAction::TotpReset.digest("u-1"),
            sha256_hex(b"totp.reset\nu-1")
        );
        assert_ne!(
            StepUpAction::TotpReset.digest("u-1"),
            StepUpAction::PinChange.digest("u-1")
        );
    }

    #[test]
    fn refresh_is_due_within_the_margin() {
        let now = OffsetDateTime::now_utc();
        let session: Session =
            serde_json::from_str(&session_json("wat_a", "wrt_a", time::Duration::minutes(15)))
                .unwrap();
        let mut s = StoredSession::new("http://x", session, SmsLanguage::Id);
        s.access_expires_at = now + time::Duration::seconds(61);
        assert!(!s.refresh_due(now));
        s.access_expires_at = now + time::Duration::seconds(60);
        assert!(s.refresh_due(now));
        s.access_expires_at = now - time::Duration::seconds(5);
        assert!(s.refresh_due(now));
        assert!(!s.refresh_expired(now));
        s.refresh_expires_at = now;
        assert!(s.refresh_expired(now));
        // Tokens never reach a Debug line.
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("wat_a") && !debug.contains("wrt_a"),
            "{debug}"
        );
    }

    #[test]
    fn server_codes_map_to_typed_errors() {
        let answer = |status: u16, body: String, retry_after_s: Option<u64>| Answer {
            status,
            body: body.into_bytes(),
            retry_after_s,
            date: None,
        };
        let otp = |code: &str, attempts_left| Error::OtpRejected {
            code: code.into(),
            attempts_left,
        };
        let cases: Vec<(Answer, Error)> = vec![
            (
                answer(422, api_error("invalid_phone"), None),
                Error::InvalidPhone("invalid_phone (test)".into()),
            ),
            (
                answer(422, api_error("invalid_pin"), None),
                Error::InvalidPin,
            ),
            (answer(422, api_error("weak_pin"), None), Error::WeakPin),
            (
                answer(403, api_error_with("otp_invalid", Some(3), None), None),
                otp("otp_invalid", Some(3)),
            ),
            (
                answer(403, api_error("otp_locked"), None),
                otp("otp_locked", None),
            ),
            (
                answer(403, api_error("otp_used"), None),
                otp("otp_used", None),
            ),
            (
                answer(422, api_error("invalid_code"), None),
                otp("invalid_code", None),
            ),
            (
                answer(403, api_error_with("pin_incorrect", Some(2), None), None),
                Error::PinIncorrect { attempts_left: 2 },
            ),
            (
                answer(423, api_error_with("pin_locked", None, Some(1800)), None),
                Error::PinLocked {
                    retry_after_s: 1800,
                },
            ),
            (
                answer(
                    429,
                    api_error_with("rate_limited", None, Some(17)),
                    Some(30),
                ),
                Error::RateLimited { retry_after_s: 17 },
            ),
            // The header when the body has no figure; a non-JSON 429 too.
            (
                answer(429, api_error("rate_limited"), Some(30)),
                Error::RateLimited { retry_after_s: 30 },
            ),
            (
                answer(429, "slow down".into(), Some(9)),
                Error::RateLimited { retry_after_s: 9 },
            ),
            (
                answer(403, api_error("pin_not_set"), None),
                Error::PinNotSet,
            ),
            (
                answer(403, api_error("step_up_required"), None),
                Error::StepUpRequired,
            ),
            (
                answer(403, api_error("totp_not_enrolled"), None),
                Error::TotpNotEnrolled,
            ),
            (
                answer(409, api_error("totp_already_enrolled"), None),
                Error::TotpAlreadyEnrolled,
            ),
            (
                answer(403, api_error("totp_replayed"), None),
                Error::TotpRejected {
                    code: "totp_replayed".into(),
                },
            ),
            (
                answer(403, api_error("device_not_bound"), None),
                Error::DeviceNotBound,
            ),
            (
                answer(401, api_error("signature_stale"), None),
                Error::SignatureRejected {
                    code: "signature_stale".into(),
                },
            ),
            (
                answer(403, api_error("device_mismatch"), None),
                Error::SignatureRejected {
                    code: "device_mismatch".into(),
                },
            ),
            (
                answer(401, api_error("refresh_reused"), None),
                Error::SessionExpired,
            ),
            (
                answer(403, api_error("forbidden"), None),
                Error::Server {
                    status: 403,
                    code: "forbidden".into(),
                    message: "forbidden (test)".into(),
                },
            ),
        ];
        for (a, expected) in cases {
            assert_eq!(
                identity_error(&a),
                expected,
                "{}",
                String::from_utf8_lossy(&a.body)
            );
        }
        assert_eq!(
            unknown_challenge(identity_error(&answer(404, api_error("not_found"), None))),
            otp("not_found", None)
        );
    }

    #[test]
    fn http_dates_parse() {
        let d = crate::sync::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(d.unix_timestamp(), 784111777);
        assert!(crate::sync::parse_http_date("yesterday").is_none());
    }

    // -- storage, no server --

    #[test]
    fn records_belong_to_their_server_and_user() {
        let (client, storage, _dir) = client("http://127.0.0.1:9");
        assert!(!client.is_signed_in().unwrap());
        assert!(!client.is_device_bound().unwrap());
        assert_eq!(client.totp_code(0), Err(Error::TotpNotEnrolled));
        sign_in(&client, "wat_a", "wrt_a", time::Duration::minutes(15));
        assert!(client.is_signed_in().unwrap());

        save(
            client.storage(),
            PENDING_DEVICE_KEY_KEY,
            &new_key(&client, Some("b-1")),
        )
        .unwrap();
        // Another binding's completion does not promote this key; its own does.
        client.promote_pending("b-0").unwrap();
        assert!(!client.is_device_bound().unwrap());
        client.promote_pending("b-1").unwrap();
        assert!(client.is_device_bound().unwrap());
        assert!(storage.get(PENDING_DEVICE_KEY_KEY).unwrap().is_none());

        let totp = StoredTotp {
            server_url: client.server_url().into(),
            user_id: "u-1".into(),
            secret: otp::base32_encode(b"12345678901234567890"),
            algorithm: "SHA1".into(),
            digits: 6,
            period_s: 30,
            issuer: "Warung".into(),
            account: "+6281234567890".into(),
        };
        save(client.storage(), TOTP_KEY, &totp).unwrap();
        let code = client.totp_code(59).unwrap();
        assert_eq!(code.code, "287082", "RFC 6238 at 59 s, 6 digits");
        assert_eq!(code.step, 1);
        assert_eq!(code.valid_for_s, 1);
        assert_eq!(client.totp_code(60).unwrap().valid_for_s, 30);
        assert!(
            client
                .totp_uri()
                .unwrap()
                .starts_with("otpauth://totp/Warung:%2B6281234567890?secret=GEZDGNBV")
        );

        // Another user signed in here: the first user's key and secret do not count…
        let mut other: StoredSession = stored_session(&storage).unwrap();
        other.user_id = "u-2".into();
        save(client.storage(), SESSION_KEY, &other).unwrap();
        assert!(!client.is_device_bound().unwrap());
        assert_eq!(client.totp_code(59), Err(Error::TotpNotEnrolled));
        // …and are dropped when that user signs in.
        client.forget_other_users("u-2").unwrap();
        assert!(storage.get(DEVICE_KEY_KEY).unwrap().is_none());
        assert!(storage.get(TOTP_KEY).unwrap().is_none());

        // A session for another server does not count.
        let (elsewhere, _, _d2) = client_with_storage("http://127.0.0.1:10", storage.clone());
        assert!(!elsewhere.is_signed_in().unwrap());
        assert!(client.is_signed_in().unwrap());
    }

    // -- against a scripted server --

    #[tokio::test(flavor = "current_thread")]
    async fn expired_access_token_is_refreshed_once_for_concurrent_calls() {
        let refreshes = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = refreshes.clone();
        let fake = Fake::start(move |req| match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/v1/me") if req.bearer() == Some("wat_new") => (200, account_json()),
            ("GET", "/v1/me") => (401, api_error("token_expired")),
            ("POST", "/v1/auth/refresh") => {
                let r: RefreshRequest = serde_json::from_slice(&req.body).unwrap();
                seen.lock().unwrap().push(r.refresh_token.clone());
                // Slow, so the second caller waits on the mutex meanwhile.
                std::thread::sleep(Duration::from_millis(100));
                if r.refresh_token == "wrt_1" {
                    (
                        200,
                        session_json("wat_new", "wrt_2", time::Duration::minutes(15)),
                    )
                } else {
                    (401, api_error("refresh_reused"))
                }
            }
            _ => (404, api_error("not_found")),
        });
        let (client, storage, _dir) = client(&fake.url);
        // The stored token looks valid locally; the server says it expired (reactive path).
        sign_in(&client, "wat_old", "wrt_1", time::Duration::minutes(10));
        let (a, b) = tokio::join!(client.account(), client.account());
        assert_eq!(a.unwrap().user_id, "u-1");
        assert_eq!(b.unwrap().user_id, "u-1");
        assert_eq!(
            *refreshes.lock().unwrap(),
            vec!["wrt_1".to_string()],
            "one refresh"
        );
        let s = stored_session(&storage).unwrap();
        assert_eq!(
            (s.access_token.as_str(), s.refresh_token.as_str()),
            ("wat_new", "wrt_2")
        );
        assert_eq!(s.language, SmsLanguage::En, "kept across refreshes");
        assert_eq!(
            fake.count("GET", "/v1/me"),
            4,
            "each call: refused once, retried once"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn due_token_refreshes_first_and_a_refused_refresh_signs_out() {
        let fake = Fake::start(|req| match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/v1/auth/refresh") => (401, api_error("refresh_reused")),
            _ => (200, account_json()),
        });
        let (client, storage, _dir) = client(&fake.url);
        sign_in(&client, "wat_old", "wrt_1", time::Duration::seconds(30));
        assert_eq!(client.account().await, Err(Error::SessionExpired));
        assert_eq!(fake.count("GET", "/v1/me"), 0, "refreshed before the call");
        assert_eq!(
            fake.count("POST", "/v1/auth/refresh"),
            1,
            "a refused refresh is final"
        );
        assert!(stored_session(&storage).is_none());
        assert!(!client.is_signed_in().unwrap());
        assert_eq!(client.account().await, Err(Error::NotSignedIn));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn revoked_session_is_cleared_and_not_retried() {
        let fake = Fake::start(|_| (401, api_error("session_revoked")));
        let (client, storage, _dir) = client(&fake.url);
        sign_in(&client, "wat_a", "wrt_a", time::Duration::minutes(10));
        assert_eq!(client.devices().await, Err(Error::SessionExpired));
        assert_eq!(fake.requests().len(), 1);
        assert!(stored_session(&storage).is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn rate_limit_is_a_typed_error_and_not_retried() {
        let fake = Fake::start(|_| (429, api_error_with("rate_limited", None, Some(17))));
        let (client, _storage, _dir) = client(&fake.url);
        assert_eq!(
            client
                .request_otp("0812-3456-7890", OtpPurpose::Login, SmsLanguage::Id)
                .await,
            Err(Error::RateLimited { retry_after_s: 17 })
        );
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 1, "429 is not retried");
        let sent: OtpRequest = serde_json::from_slice(&reqs[0].body).unwrap();
        assert_eq!(sent.phone, "+6281234567890", "normalised before sending");
        assert_eq!(sent.purpose, OtpPurpose::Login);
        let device_id = client.blocking(|p| p.outbox().device_id()).await.unwrap();
        assert_eq!(sent.device_id, device_id);
        // Bad input never reaches the server.
        assert!(matches!(
            client
                .request_otp("0812-34x6-7890", OtpPurpose::Login, SmsLanguage::Id)
                .await,
            Err(Error::InvalidPhone(_))
        ));
        assert!(matches!(
            client.verify_otp("c-1", "12345").await,
            Err(Error::OtpRejected { code, .. }) if code == "invalid_code"
        ));
        assert_eq!(client.set_pin("123456").await, Err(Error::WeakPin));
        assert_eq!(client.verify_pin("12 456").await, Err(Error::InvalidPin));
        assert_eq!(fake.requests().len(), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sign_in_binding_and_signed_requests() {
        // A server that keeps the bound public key and checks signatures like the real one.
        #[derive(Default)]
        struct State {
            public_key: Option<Vec<u8>>,
            nonces: Vec<String>,
            bound: bool,
        }
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let fake = Fake::start(move |req| {
            let mut st = st.lock().unwrap();
            match (req.method.as_str(), req.path.as_str()) {
                ("POST", "/v1/auth/otp") => {
                    let r: OtpRequest = serde_json::from_slice(&req.body).unwrap();
                    assert_eq!(r.language, SmsLanguage::En);
                    let now = OffsetDateTime::now_utc();
                    let c = OtpChallenge {
                        challenge_id: "c-1".into(),
                        phone: r.phone,
                        purpose: r.purpose,
                        expires_at: now + time::Duration::minutes(5),
                        resend_after: now + time::Duration::seconds(30),
                        digits: 6,
                    };
                    (201, serde_json::to_string(&c).unwrap())
                }
                ("POST", "/v1/auth/otp/verify") => {
                    let v: OtpVerify = serde_json::from_slice(&req.body).unwrap();
                    if v.code != "424242" {
                        return (403, api_error_with("otp_invalid", Some(4), None));
                    }
                    let mut s: Session = serde_json::from_str(&session_json(
                        "wat_1",
                        "wrt_1",
                        time::Duration::minutes(15),
                    ))
                    .unwrap();
                    s.device_id = v.device_id;
                    s.new_user = true;
                    (
                        200,
                        serde_json::to_string(&OtpVerified::Session(s)).unwrap(),
                    )
                }
                ("POST", "/v1/me/binding") => {
                    let b: BindingStart = serde_json::from_slice(&req.body).unwrap();
                    st.public_key = Some(B64.decode(b.public_key).unwrap());
                    let i = BindingInstructions {
                        binding_id: "b-1".into(),
                        short_code: "3345".into(),
                        sms_body: "WRG BIND 7F3KQ9".into(),
                        expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(10),
                    };
                    (201, serde_json::to_string(&i).unwrap())
                }
                ("GET", "/v1/me/binding/b-1") => {
                    let state = if st.bound {
                        BindingState::Bound
                    } else {
                        BindingState::Pending
                    };
                    // The SMS "arrives" after the first poll.
                    st.bound = true;
                    let s = BindingStatus {
                        binding_id: "b-1".into(),
                        device_id: "dev".into(),
                        state,
                        expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(10),
                        bound_at: None,
                    };
                    (200, serde_json::to_string(&s).unwrap())
                }
                (method, path @ ("/v1/me/pin" | "/v1/me/pin/verify")) => {
                    let Some(sig) = req.header(SIGNATURE_HEADER) else {
                        return (401, api_error("signature_required"));
                    };
                    let nonce = req.header(NONCE_HEADER).unwrap().to_string();
                    if st.nonces.contains(&nonce) {
                        return (401, api_error("signature_replayed"));
                    }
                    let payload = signing_payload(
                        method,
                        path,
                        &sha256_hex(&req.body),
                        req.header(TIMESTAMP_HEADER).unwrap().parse().unwrap(),
                        &nonce,
                        req.header(DEVICE_HEADER).unwrap(),
                    );
                    let key = ring::signature::UnparsedPublicKey::new(
                        &ring::signature::ED25519,
                        st.public_key.clone().unwrap(),
                    );
                    if key.verify(&payload, &B64.decode(sig).unwrap()).is_err() {
                        return (401, api_error("signature_invalid"));
                    }
                    st.nonces.push(nonce);
                    if path == "/v1/me/pin" {
                        (204, String::new())
                    } else {
                        let pin: PinCheck = serde_json::from_slice(&req.body).unwrap();
                        if pin.pin == "135790" {
                            (200, r#"{"verified":true}"#.into())
                        } else {
                            (403, api_error_with("pin_incorrect", Some(4), None))
                        }
                    }
                }
                _ => (404, api_error("not_found")),
            }
        });
        let (client, storage, _dir) = client(&fake.url);
        let challenge = client
            .request_otp("+62 812 3456 7890", OtpPurpose::Register, SmsLanguage::En)
            .await
            .unwrap();
        assert_eq!(challenge.phone, "+6281234567890");
        assert_eq!(
            client.verify_otp(&challenge.challenge_id, "111111").await,
            Err(Error::OtpRejected {
                code: "otp_invalid".into(),
                attempts_left: Some(4)
            })
        );
        let signed_in = client.verify_otp("c-1", "424242").await.unwrap();
        assert_eq!(
            signed_in,
            SignedIn {
                user_id: "u-1".into(),
                phone: "+6281234567890".into(),
                new_user: true
            }
        );
        let stored = stored_session(&storage).unwrap();
        assert_eq!(stored.access_token, "wat_1");
        assert_eq!(
            stored.language,
            SmsLanguage::En,
            "step-up texts follow the sign-in"
        );
        let device_id = client.blocking(|p| p.outbox().device_id()).await.unwrap();
        assert_eq!(stored.device_id, device_id);

        // Not bound yet: signed calls are refused locally.
        assert_eq!(client.set_pin("135790").await, Err(Error::DeviceNotBound));
        let instructions = client.begin_device_binding().await.unwrap();
        assert_eq!(instructions.sms_body, "WRG BIND 7F3KQ9");
        assert!(!client.is_device_bound().unwrap());
        let status = client
            .wait_until_bound(
                &instructions.binding_id,
                Duration::from_secs(10),
                &CancelFlag::new(),
            )
            .await
            .unwrap();
        assert_eq!(status.state, BindingState::Bound);
        assert!(client.is_device_bound().unwrap());

        client.set_pin("135790").await.unwrap();
        client.verify_pin("135790").await.unwrap();
        assert_eq!(
            client.verify_pin("135791").await,
            Err(Error::PinIncorrect { attempts_left: 4 })
        );
        let signed: Vec<Req> = fake
            .requests()
            .into_iter()
            .filter(|r| r.header(SIGNATURE_HEADER).is_some())
            .collect();
        assert_eq!(signed.len(), 3);
        for r in &signed {
            assert_eq!(r.bearer(), Some("wat_1"));
            assert_eq!(r.header(DEVICE_HEADER), Some(device_id.as_str()));
            let ts: i64 = r.header(TIMESTAMP_HEADER).unwrap().parse().unwrap();
            assert!((ts - OffsetDateTime::now_utc().unix_timestamp()).abs() < 60);
        }
        assert_eq!(
            state.lock().unwrap().nonces.len(),
            3,
            "a fresh nonce per request"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn server_saying_not_bound_drops_the_key() {
        let fake = Fake::start(|_| (403, api_error("device_not_bound")));
        let (client, storage, _dir) = client(&fake.url);
        sign_in(&client, "wat_a", "wrt_a", time::Duration::minutes(10));
        save(client.storage(), DEVICE_KEY_KEY, &new_key(&client, None)).unwrap();
        assert!(client.is_device_bound().unwrap());
        assert_eq!(
            client.verify_pin("135790").await,
            Err(Error::DeviceNotBound)
        );
        assert!(!client.is_device_bound().unwrap());
        assert!(storage.get(DEVICE_KEY_KEY).unwrap().is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn binding_that_expires_or_never_arrives_is_a_typed_error() {
        let fake = Fake::start(|req| {
            let state = if req.path.ends_with("b-x") {
                BindingState::Expired
            } else {
                BindingState::Pending
            };
            let s = BindingStatus {
                binding_id: req.path.rsplit('/').next().unwrap().into(),
                device_id: "dev-1".into(),
                state,
                expires_at: OffsetDateTime::now_utc(),
                bound_at: None,
            };
            (200, serde_json::to_string(&s).unwrap())
        });
        let (client, _storage, _dir) = client(&fake.url);
        sign_in(&client, "wat_a", "wrt_a", time::Duration::minutes(10));
        let cancel = CancelFlag::new();
        assert_eq!(
            client
                .wait_until_bound("b-x", Duration::from_secs(5), &cancel)
                .await,
            Err(Error::BindingFailed(BindingState::Expired))
        );
        assert_eq!(
            client
                .wait_until_bound("b-p", Duration::from_millis(500), &cancel)
                .await,
            Err(Error::BindingTimedOut)
        );
        cancel.cancel();
        assert_eq!(
            client
                .wait_until_bound("b-p", Duration::from_secs(5), &cancel)
                .await,
            Err(Error::Cancelled)
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sync_round_refreshes_a_due_session_only() {
        let fake = Fake::start(|req| match req.path.as_str() {
            "/v1/auth/refresh" => (
                200,
                session_json("wat_new", "wrt_2", time::Duration::minutes(15)),
            ),
            _ => (500, api_error("unexpected")),
        });
        let (client, storage, _dir) = client(&fake.url);
        let cancel = CancelFlag::new();
        client.refresh_session_in_round(&cancel).await.unwrap();
        assert!(fake.requests().is_empty(), "not signed in: nothing to do");
        sign_in(&client, "wat_a", "wrt_a", time::Duration::minutes(10));
        client.refresh_session_in_round(&cancel).await.unwrap();
        assert!(fake.requests().is_empty(), "not due");
        sign_in(&client, "wat_a", "wrt_a", time::Duration::seconds(10));
        client.refresh_session_in_round(&cancel).await.unwrap();
        assert_eq!(fake.count("POST", "/v1/auth/refresh"), 1);
        assert_eq!(stored_session(&storage).unwrap().access_token, "wat_new");
    }
}
