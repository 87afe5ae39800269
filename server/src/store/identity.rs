//! The identity part of the storage boundary: users, OTP challenges, sessions, device
//! bindings, nonces, PIN and TOTP state, inbound SMS and the development SMS outbox.
//!
//! Every operation that must leave a trace when it FAILS (an OTP attempt counter, a PIN
//! lock-out, a consumed nonce, a revoked session family) returns `Ok(outcome)` — a backend
//! rolls back a transaction that returns `Err` — and the HTTP layer maps the outcome to its
//! error. Secrets arrive already hashed; times are unix seconds passed in by the caller. The
//! rules behind each trait live once, in [`super::rules`].

use super::StoreFuture;
use warung_core::protocol::{BindingStatus, DeviceSummary, OtpPurpose};

/// A new OTP challenge and the limits it must respect (checked atomically with the insert:
/// every counter is a count of challenge rows, read in the same write transaction that
/// inserts the new row, under one lock, so concurrent requests and several server processes
/// agree; see [`super::rules::otp::create`]).
#[derive(Debug, Clone)]
pub struct NewOtp {
    pub id: String,
    pub phone: String,
    pub purpose: OtpPurpose,
    pub device_id: String,
    /// The client address group (`identity::client_key`), or `unknown`.
    pub client_key: String,
    /// The number block (`identity::phone_prefix`).
    pub phone_prefix: String,
    pub user_id: Option<String>,
    pub tx_digest: Option<String>,
    pub code_hash: [u8; 32],
    pub now: i64,
    pub ttl_s: i64,
    pub resend_s: i64,
    pub per_phone_hour: u32,
    pub per_device_hour: u32,
    pub per_address_hour: u32,
    pub per_prefix_hour: u32,
    pub global_hour: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpCreated {
    Created {
        expires_at: i64,
        resend_after: i64,
    },
    RateLimited {
        retry_after_s: u64,
        reason: &'static str,
    },
}

/// What verifying a code needs besides the challenge id.
#[derive(Debug, Clone)]
pub struct OtpAttempt {
    pub challenge_id: String,
    /// SHA-256(challenge_id ":" code) of the code sent.
    pub code_hash: [u8; 32],
    pub device_id: String,
    pub now: i64,
    pub max_attempts: u32,
    /// For a register/login success: the new session's tokens.
    pub session: NewSession,
    /// For a step-up success: how long the grant lasts.
    pub grant_ttl_s: i64,
}

/// A session to create: hashes of its tokens and their deadlines.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub family_id: String,
    pub access_hash: [u8; 32],
    pub access_expires_at: i64,
    pub refresh_hash: [u8; 32],
    pub refresh_expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpOutcome {
    NotFound,
    Used,
    Locked,
    Expired,
    WrongDevice,
    Invalid {
        attempts_left: u32,
    },
    Session {
        user_id: String,
        phone: String,
        new_user: bool,
    },
    StepUp {
        tx_digest: String,
        grant_expires_at: i64,
    },
}

/// The identity behind a valid access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCtx {
    pub user_id: String,
    pub phone: String,
    pub device_id: String,
    pub family_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessOutcome {
    Valid(SessionCtx),
    Expired,
    Revoked,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    Rotated(SessionCtx),
    /// A rotated token came back: the family is now revoked.
    Reused,
    Expired,
    Revoked,
    Unknown,
}

/// The account as `GET /v1/me` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub created_at: i64,
    pub device_bound: bool,
    pub pin_set: bool,
    pub pin_locked_until: Option<i64>,
    pub totp_enrolled: bool,
}

#[derive(Debug, Clone)]
pub struct NewBinding {
    pub id: String,
    pub user_id: String,
    pub device_id: String,
    pub public_key: Vec<u8>,
    pub token_hash: [u8; 32],
    pub now: i64,
    pub ttl_s: i64,
}

/// What an inbound SMS asks for, after parsing its text.
#[derive(Debug, Clone)]
pub enum InboundCommand {
    Bind {
        token_hash: [u8; 32],
    },
    /// Not actionable: recorded (for de-duplication) with this reason.
    Ignore {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub message_id: String,
    /// The sender, normalised to E.164 when it parses; `None` when it does not.
    pub sender: Option<String>,
    /// The sender as received (for the per-sender limit when it does not normalise).
    pub raw_sender: String,
    pub command: InboundCommand,
    pub now: i64,
    pub per_minute: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundOutcome {
    pub result: &'static str,
    pub reason: Option<String>,
    /// Send a confirmation to this number (a successful binding).
    pub confirm_to: Option<String>,
}

/// The stored PIN state of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinState {
    /// (hash, salt, iterations) when set.
    pub pin: Option<(Vec<u8>, Vec<u8>, u32)>,
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinAttempt {
    Ok,
    Incorrect { attempts_left: u32 },
    Locked { until: i64 },
}

/// A new PIN hash; with `step_up` the change must consume that verified step-up grant.
#[derive(Debug, Clone)]
pub struct PinUpdate {
    pub user_id: String,
    pub hash: Vec<u8>,
    pub salt: Vec<u8>,
    pub iterations: u32,
    /// `Some((challenge_id, tx_digest))` for a change; `None` for the first PIN.
    pub step_up: Option<(String, String)>,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinUpdated {
    Ok,
    /// The first PIN was asked for but one is set already (or the reverse).
    AlreadySet,
    NotSet,
    StepUpRequired,
}

/// A TOTP reset: the step-up grant it consumes (bound to `identity::totp_reset_digest`).
#[derive(Debug, Clone)]
pub struct TotpReset {
    pub user_id: String,
    pub challenge_id: String,
    pub tx_digest: String,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TotpResetOutcome {
    /// The secret is gone; the user may enrol again.
    Reset,
    NotEnrolled,
    /// The grant is not (or no longer) valid for this reset.
    StepUpRequired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TotpOutcome {
    Accepted { step: u64 },
    Replayed,
    Invalid,
    RateLimited { retry_after_s: u64 },
    NotEnrolled,
}

/// A TOTP verification to record: the step the code matched (if any), under the limits.
#[derive(Debug, Clone)]
pub struct TotpAttempt {
    pub user_id: String,
    pub matched_step: Option<u64>,
    pub now: i64,
    pub max_failures: u32,
    pub window_s: i64,
}

/// A message of the development gateway's outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DevSms {
    pub id: String,
    pub to: String,
    pub sender: String,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// SMS OTP challenges and the step-up grants they become. Object-safe; part of
/// [`super::Storage`]. Rules: [`super::rules::otp`].
pub trait OtpStore: Send + Sync + 'static {
    /// Inserts a challenge unless a send limit refuses it.
    fn otp_create(&self, otp: NewOtp) -> StoreFuture<'_, OtpCreated>;
    /// Removes a challenge whose SMS could not be sent.
    fn otp_discard(&self, challenge_id: String) -> StoreFuture<'_, ()>;
    /// Checks a code; counts a wrong one; on success creates the user/session or the grant.
    fn otp_verify(&self, attempt: OtpAttempt) -> StoreFuture<'_, OtpOutcome>;
    /// A verified, unconsumed, unexpired step-up grant of this user for this digest exists.
    fn step_up_valid(
        &self,
        user_id: String,
        challenge_id: String,
        tx_digest: String,
        now: i64,
    ) -> StoreFuture<'_, bool>;
}

/// Sessions (access and refresh tokens) and the signed-in account. Object-safe; part of
/// [`super::Storage`]. Rules: [`super::rules::session`].
pub trait SessionStore: Send + Sync + 'static {
    fn session_by_access(&self, token_hash: [u8; 32], now: i64) -> StoreFuture<'_, AccessOutcome>;
    /// Rotates a refresh token into `next` (same family).
    fn session_refresh(
        &self,
        token_hash: [u8; 32],
        next: NewSession,
        now: i64,
    ) -> StoreFuture<'_, RefreshOutcome>;
    fn session_revoke(&self, family_id: String, reason: String, now: i64) -> StoreFuture<'_, ()>;
    fn account(&self, user_id: String, device_id: String) -> StoreFuture<'_, AccountRow>;
}

/// SIM bindings, the bound device keys, signed-request nonces and a user's devices.
/// Object-safe; part of [`super::Storage`]. Rules: [`super::rules::binding`].
pub trait BindingStore: Send + Sync + 'static {
    /// Starts a binding (revoking earlier pending ones of the device).
    fn binding_start(&self, binding: NewBinding) -> StoreFuture<'_, ()>;
    /// `NotFound` for another user's binding.
    fn binding_status(
        &self,
        user_id: String,
        binding_id: String,
        now: i64,
    ) -> StoreFuture<'_, BindingStatus>;
    /// The bound public key of the user's device, if bound.
    fn device_key(&self, user_id: String, device_id: String) -> StoreFuture<'_, Option<Vec<u8>>>;
    /// Records a nonce; `false` when the device used it already. Prunes nonces older than
    /// `keep_s`.
    fn use_nonce(
        &self,
        device_id: String,
        nonce: String,
        now: i64,
        keep_s: i64,
    ) -> StoreFuture<'_, bool>;
    fn devices(
        &self,
        user_id: String,
        current_device: String,
    ) -> StoreFuture<'_, Vec<DeviceSummary>>;
    /// Revokes a device's binding and sessions; `NotFound` for an unknown or foreign device.
    fn revoke_device(&self, user_id: String, device_id: String, now: i64) -> StoreFuture<'_, ()>;
}

/// PIN state and its lock-out. Object-safe; part of [`super::Storage`]. Rules:
/// [`super::rules::pin`].
pub trait PinStore: Send + Sync + 'static {
    fn pin_state(&self, user_id: String) -> StoreFuture<'_, PinState>;
    /// Records a PIN check (`correct` computed by the caller) under the lock-out rule.
    fn pin_record(
        &self,
        user_id: String,
        correct: bool,
        now: i64,
        max_failures: u32,
        lock_s: i64,
    ) -> StoreFuture<'_, PinAttempt>;
    fn pin_update(&self, update: PinUpdate) -> StoreFuture<'_, PinUpdated>;
}

/// TOTP enrolment, verification records and reset. Object-safe; part of
/// [`super::Storage`]. Rules: [`super::rules::totp`].
pub trait TotpStore: Send + Sync + 'static {
    /// Stores the TOTP secret; `false` when the user is enrolled already.
    fn totp_enroll(&self, user_id: String, secret: Vec<u8>) -> StoreFuture<'_, bool>;
    /// The TOTP secret, when enrolled.
    fn totp_secret(&self, user_id: String) -> StoreFuture<'_, Option<Vec<u8>>>;
    /// Records a TOTP check: an accepted step, or a failure toward the rate limit. A replay
    /// (a step accepted before) is refused without counting as a failure.
    fn totp_record(&self, attempt: TotpAttempt) -> StoreFuture<'_, TotpOutcome>;
    /// Consumes the step-up grant and removes the TOTP secret, in one transaction. The last
    /// accepted step stays, so no step is ever accepted twice for the user (invariant 8).
    fn totp_reset(&self, reset: TotpReset) -> StoreFuture<'_, TotpResetOutcome>;
}

/// Inbound SMS and the development gateway's outbox. Object-safe; part of
/// [`super::Storage`]. Rules: [`super::rules::sms`].
pub trait SmsStore: Send + Sync + 'static {
    /// Records and acts on an inbound SMS (de-duplicated by message id).
    fn inbound_sms(&self, message: InboundMessage) -> StoreFuture<'_, InboundOutcome>;
    fn dev_sms_insert(
        &self,
        to: String,
        sender: String,
        text: String,
        now: i64,
    ) -> StoreFuture<'_, String>;
    /// Newest first; all recipients when `to` is `None`.
    fn dev_sms_list(&self, to: Option<String>, limit: u32) -> StoreFuture<'_, Vec<DevSms>>;
}

/// Every identity operation: the union of the identity capability traits, implemented for
/// every type that implements them all.
pub trait IdentityStore:
    OtpStore + SessionStore + BindingStore + PinStore + TotpStore + SmsStore
{
}

impl<T: OtpStore + SessionStore + BindingStore + PinStore + TotpStore + SmsStore> IdentityStore
    for T
{
}
