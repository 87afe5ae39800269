//! Identity and verification on the wire: SMS OTP challenges, sessions, SIM-bound devices,
//! signed requests, PIN and the TOTP soft token. Shared by the core's client and the server.
//!
//! Endpoints (all JSON; errors are [`super::ApiError`]):
//!
//! | endpoint | auth | body → answer |
//! |---|---|---|
//! | `POST /v1/auth/otp` | none (rate-limited per phone and device) | [`OtpRequest`] → [`OtpChallenge`] |
//! | `POST /v1/auth/otp/verify` | none (the challenge) | [`OtpVerify`] → [`Session`] (register/login) or [`StepUpGrant`] (step-up) |
//! | `POST /v1/auth/refresh` | the refresh token | [`RefreshRequest`] → [`Session`] |
//! | `POST /v1/auth/logout` | access token | → 204 |
//! | `GET /v1/me` | access token | → [`Account`] |
//! | `POST /v1/me/binding` | access token | [`BindingStart`] → [`BindingInstructions`] |
//! | `GET /v1/me/binding/{binding_id}` | access token | → [`BindingStatus`] |
//! | `GET /v1/me/devices` | access token | → [`DeviceList`] |
//! | `DELETE /v1/me/devices/{device_id}` | access token + signature | → 204 |
//! | `PUT /v1/me/pin` | access token + signature | [`PinSet`] → 204 |
//! | `POST /v1/me/pin/verify` | access token + signature | [`PinCheck`] → [`PinVerified`] |
//! | `POST /v1/me/totp` | access token + signature | → [`TotpEnrollment`] (once) |
//! | `POST /v1/me/totp/verify` | access token + signature | [`TotpCheck`] → [`TotpVerified`] |
//! | `POST /v1/sms/inbound` | aggregator HMAC ([`INBOUND_SIGNATURE_HEADER`]) | [`InboundSms`] → [`InboundSmsResult`] |
//!
//! Access tokens go in `Authorization: Bearer wat_…`. A **signed** request also carries the
//! headers [`DEVICE_HEADER`], [`TIMESTAMP_HEADER`], [`NONCE_HEADER`] and [`SIGNATURE_HEADER`]:
//! an Ed25519 signature, by the device's bound key, over [`signing_payload`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Digits of an SMS OTP.
pub const OTP_DIGITS: usize = 6;
/// Digits of a PIN.
pub const PIN_DIGITS: usize = 6;

/// The device id of a signed request.
pub const DEVICE_HEADER: &str = "x-warung-device";
/// Unix seconds of a signed request (or of an inbound SMS delivery).
pub const TIMESTAMP_HEADER: &str = "x-warung-timestamp";
/// A fresh random value per signed request (base64url, 16–64 characters).
pub const NONCE_HEADER: &str = "x-warung-nonce";
/// base64url (no padding) Ed25519 signature over [`signing_payload`].
pub const SIGNATURE_HEADER: &str = "x-warung-signature";
/// Hex HMAC-SHA256 of an inbound SMS delivery over `timestamp + "." + body`.
pub const INBOUND_SIGNATURE_HEADER: &str = "x-warung-sms-signature";
/// How far a signed request's or an inbound delivery's timestamp may be from the server's clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// What an SMS OTP may be used for. A code only works for the purpose it was sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OtpPurpose {
    /// Create an account for a new phone number (logs in when it exists already).
    Register,
    /// Log in to an existing account (creates it when new: the phone is verified either way).
    Login,
    /// Confirm one sensitive action of a logged-in user; bound to its [`step_up_digest`].
    StepUp,
}

impl OtpPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPurpose::Register => "register",
            OtpPurpose::Login => "login",
            OtpPurpose::StepUp => "step_up",
        }
    }
}

/// Language of the messages the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmsLanguage {
    #[default]
    Id,
    En,
}

/// `POST /v1/auth/otp`. A step-up request also needs the caller's access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OtpRequest {
    /// `08…`, `628…` or `+628…` (spaces and dashes allowed); normalised to E.164.
    pub phone: String,
    pub purpose: OtpPurpose,
    /// The requesting installation (the sync device id).
    pub device_id: String,
    #[serde(default)]
    pub language: SmsLanguage,
    /// Step-up only: lowercase hex SHA-256 from [`step_up_digest`] of the action it confirms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_digest: Option<String>,
}

/// The answer to an OTP request: the code went out by SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpChallenge {
    pub challenge_id: String,
    /// The number the code was sent to, E.164.
    pub phone: String,
    pub purpose: OtpPurpose,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// No new code for this phone before this time.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_after: OffsetDateTime,
    pub digits: u32,
}

/// `POST /v1/auth/otp/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OtpVerify {
    pub challenge_id: String,
    pub code: String,
    /// Must be the device that asked for the code.
    pub device_id: String,
}

/// A logged-in session: short-lived access token, rotating refresh token. Both are secrets
/// shown once; the server keeps only their hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub user_id: String,
    pub phone: String,
    pub device_id: String,
    /// `wat_…`: `Authorization: Bearer` on user endpoints.
    pub access_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub access_expires_at: OffsetDateTime,
    /// `wrt_…`: single use; reusing a rotated one revokes the whole session.
    pub refresh_token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub refresh_expires_at: OffsetDateTime,
    /// The account was created by this verification.
    pub new_user: bool,
}

/// What a verified step-up OTP grants: the right to do the one action whose digest it was
/// bound to, once, before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepUpGrant {
    pub challenge_id: String,
    pub tx_digest: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /v1/auth/otp/verify` answers one of these, by the challenge's purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OtpVerified {
    Session(Session),
    StepUp(StepUpGrant),
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub user_id: String,
    pub phone: String,
    /// The calling device (the session's).
    pub device_id: String,
    /// The calling device holds a bound key: it may sign money-moving requests.
    pub device_bound: bool,
    pub pin_set: bool,
    /// Money movement is locked after too many wrong PINs, until this time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub pin_locked_until: Option<OffsetDateTime>,
    pub totp_enrolled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `POST /v1/me/binding`: the device's new Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BindingStart {
    /// base64url (no padding) of the 32-byte Ed25519 public key.
    pub public_key: String,
}

/// What the phone must do to bind: send `sms_body` from its SIM to `short_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BindingInstructions {
    pub binding_id: String,
    pub short_code: String,
    /// Exactly what the SMS must say, e.g. `WRG BIND 7F3KQ9`.
    pub sms_body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BindingState {
    /// Waiting for the SMS.
    Pending,
    /// The SMS arrived from the account's number: the key is bound.
    Bound,
    /// No valid SMS before the deadline.
    Expired,
    /// Replaced by a newer binding or revoked.
    Revoked,
}

impl BindingState {
    /// The wire name (`pending`, `bound`, `expired`, `revoked`).
    pub fn as_str(self) -> &'static str {
        match self {
            BindingState::Pending => "pending",
            BindingState::Bound => "bound",
            BindingState::Expired => "expired",
            BindingState::Revoked => "revoked",
        }
    }
}

/// `GET /v1/me/binding/{binding_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BindingStatus {
    pub binding_id: String,
    pub device_id: String,
    pub state: BindingState,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub bound_at: Option<OffsetDateTime>,
}

/// One of a user's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSummary {
    pub device_id: String,
    /// The caller's own device.
    pub current: bool,
    pub bound: bool,
    /// First 16 hex digits of SHA-256 of the bound public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub bound_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_login_at: OffsetDateTime,
}

/// `GET /v1/me/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceList {
    pub devices: Vec<DeviceSummary>,
}

/// `PUT /v1/me/pin`. The first PIN needs only a bound device; changing it also needs the old
/// PIN and a step-up OTP bound to `step_up_digest("pin.change", user_id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PinSet {
    pub pin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_pin: Option<String>,
    /// A verified step-up challenge (see [`StepUpGrant`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_up_challenge_id: Option<String>,
}

/// `POST /v1/me/pin/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PinCheck {
    pub pin: String,
}

/// The PIN was right (a wrong one is 403 `pin_incorrect` with `attempts_left`; a locked
/// account 423 `pin_locked` with `retry_after_s`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinVerified {
    pub verified: bool,
}

/// `POST /v1/me/totp`: the TOTP secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrollment {
    /// RFC 4648 base32 without padding.
    pub secret_base32: String,
    /// `SHA1`.
    pub algorithm: String,
    pub digits: u32,
    pub period_s: u32,
    pub issuer: String,
    /// The account label (the phone number).
    pub account: String,
    /// `otpauth://totp/…` for other authenticator apps.
    pub otpauth_uri: String,
}

/// `POST /v1/me/totp/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TotpCheck {
    pub code: String,
}

/// `DELETE /v1/me/totp`: removes the soft token after a lost enrolment answer, so the user
/// can enrol again. Needs the PIN and a step-up OTP bound to
/// `step_up_digest("totp.reset", user_id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TotpReset {
    pub pin: String,
    /// A verified step-up challenge for [`STEP_UP_TOTP_RESET`] (see [`StepUpGrant`]).
    pub step_up_challenge_id: String,
}

/// An accepted TOTP code (a wrong or replayed one is 403 `totp_invalid` / `totp_replayed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpVerified {
    /// The time step (unix seconds / period) the code matched.
    pub step: u64,
}

/// `POST /v1/sms/inbound`: one mobile-originated SMS as the aggregator delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InboundSms {
    /// The aggregator's id of the message: a redelivery is recognised and not acted on twice.
    /// 1 to 128 visible ASCII characters.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::protocol::schemas::message_id))]
    pub message_id: String,
    /// The sender's number as the network reports it.
    pub from: String,
    /// The short code it was sent to.
    pub to: String,
    pub text: String,
}

/// What the server did with an inbound SMS (always 200 for a well-signed delivery, so the
/// aggregator does not redeliver a message the server refused on purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundSmsResult {
    /// `bound`, `refused`, `ignored` or `duplicate`.
    pub result: String,
    /// Why, for `refused` / `ignored` (e.g. `wrong_sender`, `token_used`, `token_expired`,
    /// `unknown_token`, `unknown_command`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The step-up action of a PIN change (see [`step_up_text`]).
pub const STEP_UP_PIN_CHANGE: &str = "pin.change";
/// The step-up action of a TOTP reset (see [`step_up_text`]; subject: the user id).
pub const STEP_UP_TOTP_RESET: &str = "totp.reset";

/// Exactly `n` ASCII digits (`٣` and `３` are digits to Unicode, not to a keypad).
pub fn is_ascii_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Lowercase hex (digests on the wire, HMAC signatures).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Why a new PIN is refused before it leaves the phone or is hashed on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinProblem {
    /// Not exactly [`PIN_DIGITS`] ASCII digits (`invalid_pin`).
    Format,
    /// All one digit or a straight run up or down such as 123456 / 654321 (`weak_pin`).
    Weak,
}

/// The one PIN rule, applied by the phone (before any request) and by the server.
pub fn check_new_pin(pin: &str) -> Result<(), PinProblem> {
    if !is_ascii_digits(pin, PIN_DIGITS) {
        return Err(PinProblem::Format);
    }
    let d: Vec<i16> = pin.bytes().map(|b| i16::from(b - b'0')).collect();
    let steps: Vec<i16> = d.windows(2).map(|w| w[1] - w[0]).collect();
    if [0, 1, -1]
        .iter()
        .any(|step| steps.iter().all(|s| s == step))
    {
        return Err(PinProblem::Weak);
    }
    Ok(())
}

/// The bytes a device signs (and the server verifies) for one request:
/// `WARUNG-SIG-V1\n{METHOD}\n{path with query}\n{hex sha256 of body}\n{timestamp}\n{nonce}\n{device_id}`.
/// The body digest is computed by the caller (the server uses `ring`; so does the client).
pub fn signing_payload(
    method: &str,
    path_and_query: &str,
    body_sha256_hex: &str,
    timestamp: i64,
    nonce: &str,
    device_id: &str,
) -> Vec<u8> {
    format!(
        "WARUNG-SIG-V1\n{}\n{path_and_query}\n{body_sha256_hex}\n{timestamp}\n{nonce}\n{device_id}",
        method.to_ascii_uppercase()
    )
    .into_bytes()
}

/// The text whose SHA-256 a step-up OTP is bound to: `{action}\n{subject}`, where `action`
/// names the operation (`pin.change`, later `wallet.transfer`, …) and `subject` identifies its
/// exact content (the user id for a PIN change; a transfer's canonical JSON later). Callers hash
/// it with SHA-256 and send the lowercase hex.
pub fn step_up_text(action: &str, subject: &str) -> String {
    format!("{action}\n{subject}")
}

/// The bytes an aggregator's HMAC covers: `{timestamp}.{body}`.
pub fn inbound_signing_payload(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{timestamp}.").into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_payload_is_line_separated_and_upper_cases_the_method() {
        let p = signing_payload("put", "/v1/me/pin", "ab", 17, "n1", "dev");
        assert_eq!(
            String::from_utf8(p).unwrap(),
            "WARUNG-SIG-V1\nPUT\n/v1/me/pin\nab\n17\nn1\ndev"
        );
    }

    #[test]
    fn otp_verified_is_tagged() {
        let g = OtpVerified::StepUp(StepUpGrant {
            challenge_id: "c".into(),
            tx_digest: "d".into(),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        });
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!(v["kind"], "step_up");
        assert_eq!(
            serde_json::from_value::<OtpPurpose>("step_up".into()).unwrap(),
            OtpPurpose::StepUp
        );
    }

    #[test]
    fn weak_and_malformed_pins() {
        for weak in ["000000", "111111", "123456", "654321", "345678"] {
            assert_eq!(check_new_pin(weak), Err(PinProblem::Weak), "{weak}");
        }
        for bad in ["12345", "1234567", "12a456", "١٢٣٤٥٦", "１２３４５６", ""] {
            assert_eq!(check_new_pin(bad), Err(PinProblem::Format), "{bad}");
        }
        for ok in ["739154", "135790", "123457", "909090"] {
            assert_eq!(check_new_pin(ok), Ok(()), "{ok}");
        }
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
    }

    #[test]
    fn inbound_payload() {
        assert_eq!(inbound_signing_payload(5, b"{}"), b"5.{}".to_vec());
    }
}
