//! Identity endpoints: SMS OTP (register, login, step-up), sessions (refresh, logout), the
//! account, SIM binding, devices, PIN and TOTP. Rules live in [`crate::identity`], state in
//! the store ([`crate::store::IdentityStore`], rules in [`crate::store::rules`]); these handlers
//! map outcomes to answers.

use super::AppState;
use super::extract::{ApiJson, ApiPath, Signed, SignedJson, UserAuth};
use crate::auth::{hash_secret, new_secret, sha256};
use crate::error::ApiFailure;
use crate::identity::*;
use crate::sms::{OutboundSms, otp_text};
use crate::store::identity::*;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use warung_core::protocol::{
    Account, ApiError, BindingInstructions, BindingStart, BindingStatus, DeviceList, OtpChallenge,
    OtpPurpose, OtpRequest, OtpVerified, OtpVerify, PinCheck, PinSet, PinVerified, RefreshRequest,
    Session, StepUpGrant, TotpCheck, TotpEnrollment, TotpVerified,
};

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A device id as the sync API issues them: 1 to 64 of `[A-Za-z0-9._-]`.
fn check_device_id(id: &str) -> Result<(), ApiFailure> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiFailure::invalid_data(
            "device_id must be 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// `invalid_phone` for a number that does not normalise.
pub fn normalize_phone(phone: &str) -> Result<String, ApiFailure> {
    warung_core::phone::normalize(phone).map_err(|e| {
        ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
            e.to_string(),
        )
    })
}

/// Fresh access and refresh tokens for a session of `family_id`.
fn new_tokens(family_id: String, state: &AppState) -> (NewSession, String, String) {
    let config = &state.identity;
    let access = new_secret(ACCESS_TOKEN_PREFIX);
    let refresh = new_secret(REFRESH_TOKEN_PREFIX);
    let now = state.clock.unix();
    (
        NewSession {
            family_id,
            access_hash: hash_secret(&access),
            access_expires_at: now + config.access_ttl_s,
            refresh_hash: hash_secret(&refresh),
            refresh_expires_at: now + config.refresh_ttl_s,
        },
        access,
        refresh,
    )
}

fn session_body(
    ctx_user: String,
    phone: String,
    device_id: String,
    tokens: &NewSession,
    access: String,
    refresh: String,
    new_user: bool,
) -> Session {
    Session {
        user_id: ctx_user,
        phone,
        device_id,
        access_token: access,
        access_expires_at: at(tokens.access_expires_at),
        refresh_token: refresh,
        refresh_expires_at: at(tokens.refresh_expires_at),
        new_user,
    }
}

/// Send an SMS OTP.
///
/// Register and login behave alike (the phone is verified either way). A step-up code needs
/// the caller's access token, the caller's own phone and `tx_digest`.
///
/// Send limits (defaults; each configurable, each a 429 `rate_limited` with `retry_after_s`
/// and `Retry-After`): one code per phone per 30 s; per hour 5 per phone, 10 per device id,
/// 30 per client address (an IPv4 address, an IPv6 /64; the TCP peer, or the last
/// `X-Forwarded-For` entry only when the server is told to trust a proxy), 10 per block of
/// 1,000 numbers (the E.164 number without its last 3 digits) and 1,000 over the whole
/// service. Changing the device id resets none of the address, block or global counts.
#[utoipa::path(post, path = "/v1/auth/otp", tag = "identity", request_body = OtpRequest,
    security((), ("access_token" = [])),
    responses(
        (status = 200, description = "The code was sent", body = OtpChallenge),
        (status = 401, description = "Step-up without a valid access token (`unauthorized`, `token_expired`, `session_revoked`)", body = ApiError),
        (status = 403, description = "Step-up for another phone (`forbidden`) or from another device than the session's (`device_mismatch`)", body = ApiError),
        (status = 422, description = "Invalid phone (`invalid_phone`), device id or tx_digest (`invalid_data`)", body = ApiError),
        (status = 429, description = "Cool-down, or an hourly limit per phone, device, client address, number block or the global budget (`rate_limited`, `retry_after_s`, `Retry-After` header)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds until a code may be requested"))),
        (status = 503, description = "The SMS gateway failed (`sms_unavailable`); no challenge was kept", body = ApiError),
    ))]
pub async fn request_otp(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<OtpRequest>,
) -> Result<Json<OtpChallenge>, ApiFailure> {
    let phone = normalize_phone(&req.phone)?;
    check_device_id(&req.device_id)?;
    let (user_id, tx_digest) = if req.purpose == OtpPurpose::StepUp {
        let session = UserAuth::from_parts(&parts, &state).await?;
        if session.phone != phone {
            return Err(ApiFailure::forbidden(
                "forbidden",
                "a step-up code goes only to your own phone",
            ));
        }
        // The code is bound to the device that asks: the session's, not whatever the body says.
        if req.device_id != session.device_id {
            return Err(ApiFailure::forbidden(
                "device_mismatch",
                "a step-up code is asked for by the session's own device",
            ));
        }
        let digest = req
            .tx_digest
            .clone()
            .filter(|d| is_sha256_hex(d))
            .ok_or_else(|| {
                ApiFailure::invalid_data("step_up needs tx_digest: 64 lowercase hex characters")
            })?;
        (Some(session.user_id), Some(digest))
    } else {
        (None, None)
    };
    let config = &state.identity;
    // Keyed by what the caller cannot invent: the address it connects from.
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let client = client_ip(peer, &parts.headers, config.trust_forwarded_for)
        .map_or_else(|| "unknown".to_owned(), client_key);
    let id = uuid::Uuid::now_v7().to_string();
    let code = new_otp_code();
    let created = state
        .store
        .otp_create(NewOtp {
            id: id.clone(),
            phone: phone.clone(),
            purpose: req.purpose,
            device_id: req.device_id.clone(),
            client_key: client,
            phone_prefix: phone_prefix(&phone, config.otp_prefix_drop_digits),
            user_id,
            tx_digest,
            code_hash: otp_code_hash(&id, &code),
            now: state.clock.unix(),
            ttl_s: config.otp_ttl_s,
            resend_s: config.otp_resend_s,
            per_phone_hour: config.otp_per_phone_hour,
            per_device_hour: config.otp_per_device_hour,
            per_address_hour: config.otp_per_address_hour,
            per_prefix_hour: config.otp_per_prefix_hour,
            global_hour: config.otp_global_hour,
        })
        .await?;
    let (expires_at, resend_after) = match created {
        OtpCreated::Created {
            expires_at,
            resend_after,
        } => (expires_at, resend_after),
        OtpCreated::RateLimited {
            retry_after_s,
            reason,
        } => {
            return Err(ApiFailure::rate_limited(
                retry_after_s,
                format!("too many codes requested ({reason}); retry later"),
            ));
        }
    };
    let sent = state
        .sms
        .send(OutboundSms {
            to: phone.clone(),
            text: otp_text(req.language, &code, config.otp_ttl_s),
            reference: id.clone(),
        })
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, phone = %warung_core::phone::mask(&phone), "OTP SMS not sent");
        state.store.otp_discard(id).await?;
        return Err(ApiFailure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sms_unavailable",
            "the SMS could not be sent; try again later",
        ));
    }
    tracing::info!(challenge = %id, purpose = req.purpose.as_str(), phone = %warung_core::phone::mask(&phone), "OTP sent");
    Ok(Json(OtpChallenge {
        challenge_id: id,
        phone,
        purpose: req.purpose,
        expires_at: at(expires_at),
        resend_after: at(resend_after),
        digits: warung_core::protocol::OTP_DIGITS as u32,
    }))
}

/// Verify an SMS OTP.
///
/// A register/login code answers a [`Session`] (creating the user when the phone is new); a
/// step-up code answers a [`StepUpGrant`]. Five wrong codes kill the challenge.
#[utoipa::path(post, path = "/v1/auth/otp/verify", tag = "identity", request_body = OtpVerify,
    responses(
        (status = 200, description = "Verified", body = OtpVerified),
        (status = 403, description = "`otp_invalid` (with `attempts_left`), `otp_expired`, `otp_used`, `otp_locked`, `otp_wrong_device`", body = ApiError),
        (status = 404, description = "Unknown challenge (`not_found`)", body = ApiError),
        (status = 422, description = "The code is not 6 ASCII digits (`invalid_code`)", body = ApiError),
    ))]
pub async fn verify_otp(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<OtpVerify>,
) -> Result<Json<OtpVerified>, ApiFailure> {
    if !is_ascii_digits(&req.code, warung_core::protocol::OTP_DIGITS) {
        return Err(ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_code",
            "the code is 6 digits 0-9",
        ));
    }
    let (tokens, access, refresh) = new_tokens(uuid::Uuid::now_v7().to_string(), &state);
    let outcome = state
        .store
        .otp_verify(OtpAttempt {
            challenge_id: req.challenge_id.clone(),
            code_hash: otp_code_hash(&req.challenge_id, &req.code),
            device_id: req.device_id.clone(),
            now: state.clock.unix(),
            max_attempts: state.identity.otp_max_attempts,
            session: tokens.clone(),
            grant_ttl_s: state.identity.step_up_ttl_s,
        })
        .await?;
    let refused = |code: &str, m: &str| Err(ApiFailure::forbidden(code, m));
    match outcome {
        OtpOutcome::NotFound => Err(ApiFailure::not_found("no such challenge")),
        OtpOutcome::Used => refused("otp_used", "this code was used already"),
        OtpOutcome::Locked => refused("otp_locked", "too many wrong codes: request a new one"),
        OtpOutcome::Expired => refused("otp_expired", "the code has expired: request a new one"),
        OtpOutcome::WrongDevice => refused(
            "otp_wrong_device",
            "the code must be entered on the device that asked for it",
        ),
        OtpOutcome::Invalid { attempts_left } => {
            Err(ApiFailure::forbidden("otp_invalid", "wrong code").attempts_left(attempts_left))
        }
        OtpOutcome::Session {
            user_id,
            phone,
            new_user,
        } => {
            tracing::info!(user = %user_id, new_user, "logged in by OTP");
            Ok(Json(OtpVerified::Session(session_body(
                user_id,
                phone,
                req.device_id,
                &tokens,
                access,
                refresh,
                new_user,
            ))))
        }
        OtpOutcome::StepUp {
            tx_digest,
            grant_expires_at,
        } => Ok(Json(OtpVerified::StepUp(StepUpGrant {
            challenge_id: req.challenge_id,
            tx_digest,
            expires_at: at(grant_expires_at),
        }))),
    }
}

/// Exchange a refresh token for a new session (the old refresh token stops working).
///
/// Presenting a refresh token that was already exchanged revokes the whole session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "identity", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = Session),
        (status = 401, description = "`refresh_reused` (the session is now revoked), `session_expired`, `session_revoked`, `unauthorized`", body = ApiError),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<Session>, ApiFailure> {
    if !req.refresh_token.starts_with(REFRESH_TOKEN_PREFIX) {
        return Err(ApiFailure::unauthorized("unknown refresh token"));
    }
    let (tokens, access, refresh) = new_tokens(String::new(), &state);
    let outcome = state
        .store
        .session_refresh(
            hash_secret(&req.refresh_token),
            tokens.clone(),
            state.clock.unix(),
        )
        .await?;
    match outcome {
        RefreshOutcome::Rotated(ctx) => Ok(Json(session_body(
            ctx.user_id,
            ctx.phone,
            ctx.device_id,
            &tokens,
            access,
            refresh,
            false,
        ))),
        RefreshOutcome::Reused => {
            tracing::warn!("a rotated refresh token was presented again: session revoked");
            Err(ApiFailure::unauthenticated(
                "refresh_reused",
                "this refresh token was used already; the session is revoked: log in again",
            ))
        }
        RefreshOutcome::Expired => Err(ApiFailure::unauthenticated(
            "session_expired",
            "the session has expired: log in again",
        )),
        RefreshOutcome::Revoked => Err(ApiFailure::unauthenticated(
            "session_revoked",
            "this session was revoked: log in again",
        )),
        RefreshOutcome::Unknown => Err(ApiFailure::unauthorized("unknown refresh token")),
    }
}

/// End this session (its access and refresh tokens).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "identity", security(("access_token" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid access token", body = ApiError),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    UserAuth(session): UserAuth,
) -> Result<StatusCode, ApiFailure> {
    state
        .store
        .session_revoke(session.family_id, "logout".into(), state.clock.unix())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/me", tag = "identity", security(("access_token" = [])),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 401, description = "No valid access token (`unauthorized`, `token_expired`, `session_revoked`)", body = ApiError),
    ))]
pub async fn me(
    State(state): State<AppState>,
    UserAuth(session): UserAuth,
) -> Result<Json<Account>, ApiFailure> {
    let row = state
        .store
        .account(session.user_id.clone(), session.device_id.clone())
        .await?;
    Ok(Json(Account {
        user_id: session.user_id,
        phone: session.phone,
        device_id: session.device_id,
        device_bound: row.device_bound,
        pin_set: row.pin_set,
        pin_locked_until: row.pin_locked_until.map(at),
        totp_enrolled: row.totp_enrolled,
        created_at: at(row.created_at),
    }))
}

/// Start binding this device's key to the SIM: send `sms_body` to `short_code` from the
/// phone. Earlier pending bindings of the device stop working.
#[utoipa::path(post, path = "/v1/me/binding", tag = "identity", request_body = BindingStart,
    security(("access_token" = [])),
    responses(
        (status = 200, description = "What to send by SMS", body = BindingInstructions),
        (status = 401, description = "No valid access token", body = ApiError),
        (status = 422, description = "Not a base64url 32-byte Ed25519 key (`invalid_public_key`)", body = ApiError),
    ))]
pub async fn start_binding(
    State(state): State<AppState>,
    UserAuth(session): UserAuth,
    ApiJson(req): ApiJson<BindingStart>,
) -> Result<Json<BindingInstructions>, ApiFailure> {
    let key = URL_SAFE_NO_PAD
        .decode(req.public_key.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            ApiFailure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_public_key",
                "public_key is base64url (no padding) of a 32-byte Ed25519 key",
            )
        })?;
    let token = new_bind_token();
    let id = uuid::Uuid::now_v7().to_string();
    let now = state.clock.unix();
    state
        .store
        .binding_start(NewBinding {
            id: id.clone(),
            user_id: session.user_id,
            device_id: session.device_id,
            public_key: key,
            token_hash: sha256(token.as_bytes()),
            now,
            ttl_s: state.identity.binding_ttl_s,
        })
        .await?;
    Ok(Json(BindingInstructions {
        binding_id: id,
        short_code: state.sms_config.short_code.clone(),
        sms_body: warung_core::sms::bind_body(&token),
        expires_at: at(now + state.identity.binding_ttl_s),
    }))
}

/// Where a binding stands (poll until `bound`).
#[utoipa::path(get, path = "/v1/me/binding/{binding_id}", tag = "identity",
    params(("binding_id" = String, Path)), security(("access_token" = [])),
    responses(
        (status = 200, description = "The binding", body = BindingStatus),
        (status = 401, description = "No valid access token", body = ApiError),
        (status = 404, description = "No such binding of yours (`not_found`)", body = ApiError),
    ))]
pub async fn binding_status(
    State(state): State<AppState>,
    UserAuth(session): UserAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BindingStatus>, ApiFailure> {
    Ok(Json(
        state
            .store
            .binding_status(session.user_id, id, state.clock.unix())
            .await?,
    ))
}

/// The caller's devices.
#[utoipa::path(get, path = "/v1/me/devices", tag = "identity", security(("access_token" = [])),
    responses(
        (status = 200, description = "Devices, most recently used first", body = DeviceList),
        (status = 401, description = "No valid access token", body = ApiError),
    ))]
pub async fn list_devices(
    State(state): State<AppState>,
    UserAuth(session): UserAuth,
) -> Result<Json<DeviceList>, ApiFailure> {
    Ok(Json(DeviceList {
        devices: state
            .store
            .devices(session.user_id, session.device_id)
            .await?,
    }))
}

/// Revoke one of the caller's devices: its binding and its sessions end.
#[utoipa::path(delete, path = "/v1/me/devices/{device_id}", tag = "identity",
    params(("device_id" = String, Path)),
    security(("access_token" = [], "device_signature" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid access token or signature (`signature_required`, `signature_stale`, `signature_invalid`, `signature_replayed`)", body = ApiError),
        (status = 403, description = "`device_not_bound`, `device_mismatch`", body = ApiError),
        (status = 404, description = "No such device of yours (`not_found`)", body = ApiError),
    ))]
pub async fn revoke_device(
    State(state): State<AppState>,
    ApiPath(device_id): ApiPath<String>,
    Signed(session): Signed,
) -> Result<StatusCode, ApiFailure> {
    state
        .store
        .revoke_device(session.user_id, device_id, state.clock.unix())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn pin_failure(p: PinProblem) -> ApiFailure {
    match p {
        PinProblem::Format => ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_pin",
            "a PIN is exactly 6 digits 0-9",
        ),
        PinProblem::Weak => ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_pin",
            "choose a PIN that is not one repeated digit or a straight run",
        ),
    }
}

fn locked(until: i64, now: i64) -> ApiFailure {
    ApiFailure::new(
        StatusCode::LOCKED,
        "pin_locked",
        "too many wrong PINs: money movement is locked for a while",
    )
    .retry_after((until - now).max(1) as u64)
}

/// A verified, unconsumed, unexpired step-up grant of the user for `digest`, or
/// `step_up_required()`. Sensitive changes check it BEFORE the PIN: no PIN guess without a
/// fresh SMS code.
async fn require_step_up(
    state: &AppState,
    user_id: &str,
    challenge_id: &str,
    digest: &str,
    step_up_required: impl Fn() -> ApiFailure,
) -> Result<(), ApiFailure> {
    let valid = state
        .store
        .step_up_valid(
            user_id.to_owned(),
            challenge_id.to_owned(),
            digest.to_owned(),
            state.clock.unix(),
        )
        .await?;
    if valid {
        Ok(())
    } else {
        Err(step_up_required())
    }
}

/// Checks the user's PIN under the lock-out rule (a locked user is refused even with the
/// right PIN). The PIN itself is never logged.
async fn check_pin(state: &AppState, user_id: &str, pin: &str) -> Result<(), ApiFailure> {
    let stored = state.store.pin_state(user_id.to_owned()).await?;
    let Some((hash, salt, iterations)) = stored.pin else {
        return Err(ApiFailure::forbidden("pin_not_set", "set a PIN first"));
    };
    let now = state.clock.unix();
    if let Some(until) = stored.locked_until.filter(|u| *u > now) {
        return Err(locked(until, state.clock.unix()));
    }
    if !is_ascii_digits(pin, warung_core::protocol::PIN_DIGITS) {
        return Err(pin_failure(PinProblem::Format));
    }
    let pin = pin.to_owned();
    let correct = tokio::task::spawn_blocking(move || verify_pin(&pin, &hash, &salt, iterations))
        .await
        .map_err(|_| ApiFailure::for_status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let config = &state.identity;
    match state
        .store
        .pin_record(
            user_id.to_owned(),
            correct,
            state.clock.unix(),
            config.pin_max_attempts,
            config.pin_lock_s,
        )
        .await?
    {
        PinAttempt::Ok => Ok(()),
        PinAttempt::Incorrect { attempts_left } => {
            tracing::info!(user = %user_id, attempts_left, "wrong PIN");
            Err(ApiFailure::forbidden("pin_incorrect", "wrong PIN").attempts_left(attempts_left))
        }
        PinAttempt::Locked { until } => {
            tracing::warn!(user = %user_id, "PIN locked");
            Err(locked(until, state.clock.unix()))
        }
    }
}

/// Set the PIN (signed). The first PIN needs only the bound device; a change also needs
/// `old_pin` and a verified step-up OTP bound to `sha256("pin.change\n" + user_id)`.
#[utoipa::path(put, path = "/v1/me/pin", tag = "identity", request_body = PinSet,
    security(("access_token" = [], "device_signature" = [])),
    responses(
        (status = 204, description = "The PIN is set"),
        (status = 401, description = "No valid access token or signature", body = ApiError),
        (status = 403, description = "`step_up_required`, `pin_incorrect` (old PIN), `device_not_bound`, `device_mismatch`", body = ApiError),
        (status = 422, description = "`invalid_pin` (not 6 ASCII digits), `weak_pin`", body = ApiError),
        (status = 423, description = "Locked after too many wrong PINs (`pin_locked`, `retry_after_s`)", body = ApiError),
    ))]
pub async fn set_pin(
    State(state): State<AppState>,
    SignedJson(session, req): SignedJson<PinSet>,
) -> Result<StatusCode, ApiFailure> {
    check_new_pin(&req.pin).map_err(pin_failure)?;
    let stored = state.store.pin_state(session.user_id.clone()).await?;
    let step_up = if stored.pin.is_some() {
        let digest = pin_change_digest(&session.user_id);
        let step_up_required = || {
            ApiFailure::forbidden(
                "step_up_required",
                "changing the PIN needs a verified step-up OTP for pin.change",
            )
        };
        let challenge = req
            .step_up_challenge_id
            .clone()
            .ok_or_else(step_up_required)?;
        require_step_up(
            &state,
            &session.user_id,
            &challenge,
            &digest,
            step_up_required,
        )
        .await?;
        let old = req.old_pin.as_deref().ok_or_else(|| {
            ApiFailure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_pin",
                "old_pin is required to change the PIN",
            )
        })?;
        check_pin(&state, &session.user_id, old).await?;
        Some((challenge, digest))
    } else {
        None
    };
    let (pin, iterations) = (req.pin.clone(), state.identity.pin_iterations);
    let (hash, salt) = tokio::task::spawn_blocking(move || hash_pin(&pin, iterations))
        .await
        .map_err(|_| ApiFailure::for_status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let updated = state
        .store
        .pin_update(PinUpdate {
            user_id: session.user_id.clone(),
            hash,
            salt,
            iterations,
            step_up,
            now: state.clock.unix(),
        })
        .await?;
    match updated {
        PinUpdated::Ok => {
            tracing::info!(user = %session.user_id, "PIN set");
            Ok(StatusCode::NO_CONTENT)
        }
        PinUpdated::AlreadySet | PinUpdated::NotSet | PinUpdated::StepUpRequired => {
            Err(ApiFailure::forbidden(
                "step_up_required",
                "changing the PIN needs the old PIN and a verified step-up OTP",
            ))
        }
    }
}

/// Check the PIN (signed). Five wrong PINs lock money movement for 30 minutes.
#[utoipa::path(post, path = "/v1/me/pin/verify", tag = "identity", request_body = PinCheck,
    security(("access_token" = [], "device_signature" = [])),
    responses(
        (status = 200, description = "The PIN is right", body = PinVerified),
        (status = 401, description = "No valid access token or signature", body = ApiError),
        (status = 403, description = "`pin_incorrect` (with `attempts_left`), `pin_not_set`, `device_not_bound`, `device_mismatch`", body = ApiError),
        (status = 422, description = "Not 6 ASCII digits (`invalid_pin`)", body = ApiError),
        (status = 423, description = "Locked (`pin_locked`, `retry_after_s`)", body = ApiError),
    ))]
pub async fn verify_pin_handler(
    State(state): State<AppState>,
    SignedJson(session, req): SignedJson<PinCheck>,
) -> Result<Json<PinVerified>, ApiFailure> {
    check_pin(&state, &session.user_id, &req.pin).await?;
    Ok(Json(PinVerified { verified: true }))
}

/// Enrol the TOTP soft token (signed): the secret is shown once.
#[utoipa::path(post, path = "/v1/me/totp", tag = "identity",
    security(("access_token" = [], "device_signature" = [])),
    responses(
        (status = 200, description = "The secret and its otpauth URI", body = TotpEnrollment),
        (status = 401, description = "No valid access token or signature", body = ApiError),
        (status = 403, description = "`device_not_bound`, `device_mismatch`", body = ApiError),
        (status = 409, description = "Enrolled already (`totp_already_enrolled`; DELETE /v1/me/totp resets it)", body = ApiError),
    ))]
pub async fn enroll_totp(
    State(state): State<AppState>,
    Signed(session): Signed,
) -> Result<Json<TotpEnrollment>, ApiFailure> {
    let mut secret = [0u8; 20];
    random_bytes(&mut secret);
    if !state
        .store
        .totp_enroll(session.user_id.clone(), secret.to_vec())
        .await?
    {
        return Err(ApiFailure::new(
            StatusCode::CONFLICT,
            "totp_already_enrolled",
            "a TOTP secret was issued already",
        ));
    }
    let params = warung_core::otp::TotpParams::default();
    Ok(Json(TotpEnrollment {
        secret_base32: warung_core::otp::base32_encode(&secret),
        algorithm: params.algorithm.as_str().to_owned(),
        digits: params.digits,
        period_s: params.period_s as u32,
        issuer: TOTP_ISSUER.to_owned(),
        otpauth_uri: warung_core::otp::otpauth_uri(&secret, TOTP_ISSUER, &session.phone, &params),
        account: session.phone,
    }))
}

/// Remove the TOTP soft token (signed), e.g. after its enrolment answer was lost, so that
/// `POST /v1/me/totp` works again. Needs the PIN (a wrong one counts toward the PIN lock-out)
/// and a verified step-up OTP bound to `sha256("totp.reset\n" + user_id)`, used up by the
/// reset. A step accepted before the reset is never accepted again.
#[utoipa::path(delete, path = "/v1/me/totp", tag = "identity", request_body = warung_core::protocol::TotpReset,
    security(("access_token" = [], "device_signature" = [])),
    responses(
        (status = 204, description = "The soft token is removed; enrol again with POST /v1/me/totp"),
        (status = 401, description = "No valid access token or signature", body = ApiError),
        (status = 403, description = "`step_up_required`, `pin_incorrect` (with `attempts_left`), `pin_not_set`, `totp_not_enrolled`, `device_not_bound`, `device_mismatch`", body = ApiError),
        (status = 422, description = "Not 6 ASCII digits (`invalid_pin`)", body = ApiError),
        (status = 423, description = "Locked after too many wrong PINs (`pin_locked`, `retry_after_s`)", body = ApiError),
    ))]
pub async fn reset_totp(
    State(state): State<AppState>,
    SignedJson(session, req): SignedJson<warung_core::protocol::TotpReset>,
) -> Result<StatusCode, ApiFailure> {
    let not_enrolled = || ApiFailure::forbidden("totp_not_enrolled", "no soft token to reset");
    let step_up_required = || {
        ApiFailure::forbidden(
            "step_up_required",
            "resetting the soft token needs a verified step-up OTP for totp.reset",
        )
    };
    if state
        .store
        .totp_secret(session.user_id.clone())
        .await?
        .is_none()
    {
        return Err(not_enrolled());
    }
    let digest = totp_reset_digest(&session.user_id);
    // The grant first, as for a PIN change: no PIN guess without a fresh SMS code.
    require_step_up(
        &state,
        &session.user_id,
        &req.step_up_challenge_id,
        &digest,
        step_up_required,
    )
    .await?;
    check_pin(&state, &session.user_id, &req.pin).await?;
    match state
        .store
        .totp_reset(TotpReset {
            user_id: session.user_id.clone(),
            challenge_id: req.step_up_challenge_id,
            tx_digest: digest,
            now: state.clock.unix(),
        })
        .await?
    {
        TotpResetOutcome::Reset => {
            tracing::info!(user = %session.user_id, "TOTP soft token reset");
            Ok(StatusCode::NO_CONTENT)
        }
        TotpResetOutcome::NotEnrolled => Err(not_enrolled()),
        // Another request used the grant between the check above and here.
        TotpResetOutcome::StepUpRequired => Err(step_up_required()),
    }
}

/// The issuer shown by authenticator apps.
pub const TOTP_ISSUER: &str = "Warung";

/// Check a TOTP code (signed): ±1 step; a step accepted before is refused (`totp_replayed`,
/// not counted as a failure: a double tap is not a guess); 5 failures per 5 minutes
/// rate-limit the user.
#[utoipa::path(post, path = "/v1/me/totp/verify", tag = "identity", request_body = TotpCheck,
    security(("access_token" = [], "device_signature" = [])),
    responses(
        (status = 200, description = "Accepted", body = TotpVerified),
        (status = 401, description = "No valid access token or signature", body = ApiError),
        (status = 403, description = "`totp_invalid` (counts as a failure), `totp_replayed` (a step accepted before; not a failure), `totp_not_enrolled`, `device_not_bound`, `device_mismatch`", body = ApiError),
        (status = 422, description = "Not 6 ASCII digits (`invalid_code`)", body = ApiError),
        (status = 429, description = "Too many failures (`rate_limited`, `retry_after_s`)", body = ApiError),
    ))]
pub async fn verify_totp_handler(
    State(state): State<AppState>,
    SignedJson(session, req): SignedJson<TotpCheck>,
) -> Result<Json<TotpVerified>, ApiFailure> {
    let params = warung_core::otp::TotpParams::default();
    if !is_ascii_digits(&req.code, params.digits as usize) {
        return Err(ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_code",
            "a TOTP code is 6 digits 0-9",
        ));
    }
    let Some(secret) = state.store.totp_secret(session.user_id.clone()).await? else {
        return Err(ApiFailure::forbidden(
            "totp_not_enrolled",
            "enrol the soft token first",
        ));
    };
    let now = state.clock.unix();
    let matched = warung_core::otp::verify_totp(&secret, &req.code, now.max(0) as u64, &params, 1)
        .unwrap_or(None);
    let outcome = state
        .store
        .totp_record(TotpAttempt {
            user_id: session.user_id,
            matched_step: matched,
            now,
            max_failures: state.identity.totp_max_failures,
            window_s: state.identity.totp_window_s,
        })
        .await?;
    match outcome {
        TotpOutcome::Accepted { step } => Ok(Json(TotpVerified { step })),
        TotpOutcome::Replayed => Err(ApiFailure::forbidden(
            "totp_replayed",
            "this code's time step was used already",
        )),
        TotpOutcome::Invalid => Err(ApiFailure::forbidden("totp_invalid", "wrong code")),
        TotpOutcome::RateLimited { retry_after_s } => Err(ApiFailure::rate_limited(
            retry_after_s,
            "too many wrong codes; retry later",
        )),
        TotpOutcome::NotEnrolled => Err(ApiFailure::forbidden(
            "totp_not_enrolled",
            "enrol the soft token first",
        )),
    }
}
