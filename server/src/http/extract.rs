//! Extractors that answer with the API's error body: JSON, query and path wrappers over
//! axum's (whose rejections become [`ApiFailure`]s), the bearer authentications (device token,
//! merchant key, user access token) and the device-signed requests ([`Signed`], [`SignedJson`]).

use super::AppState;
use crate::auth::sha256;
use crate::auth::{DEVICE_TOKEN_PREFIX, MERCHANT_KEY_PREFIX, hash_secret};
use crate::error::ApiFailure;
use crate::identity::{ACCESS_TOKEN_PREFIX, hex, is_valid_nonce, verify_ed25519};
use crate::store::identity::{AccessOutcome, SessionCtx};
use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use warung_core::protocol::{
    DEVICE_HEADER, DeviceInfo, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signing_payload,
};

/// `axum::Json` with typed 4xx rejections.
///
/// In JSON Schema (and so in the OpenAPI 3.1 document) `2.0` is the same integer as `2`, so a
/// body that serde refuses only because an integer is spelled as a whole float is read again
/// with such numbers (up to 2^53, where floats stop being exact) written as integers.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiFailure> {
        // Content type, body limit and JSON syntax, with axum's rejections.
        let axum::Json(raw) = axum::Json::<Box<RawValue>>::from_request(req, state).await?;
        let first = match axum::Json::<T>::from_bytes(raw.get().as_bytes()) {
            Ok(axum::Json(value)) => return Ok(ApiJson(value)),
            Err(e) => e,
        };
        if matches!(first, JsonRejection::JsonDataError(_))
            && let Ok(mut value) = serde_json::from_str::<serde_json::Value>(raw.get())
            && integers_from_whole_floats(&mut value)
            && let Ok(text) = serde_json::to_vec(&value)
            && let Ok(axum::Json(v)) = axum::Json::<T>::from_bytes(&text)
        {
            return Ok(ApiJson(v));
        }
        Err(first.into())
    }
}

/// Rewrites whole floats within ±2^53 (`2.0`, `-0.0`) as integers; whether any changed.
fn integers_from_whole_floats(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() != 0.0 || f.abs() > EXACT {
                return false;
            }
            *value = if f >= 0.0 {
                Value::from(f as u64)
            } else {
                Value::from(f as i64)
            };
            true
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| integers_from_whole_floats(v) | changed),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |changed, v| integers_from_whole_floats(v) | changed),
        _ => false,
    }
}

/// `axum::extract::Query` with a 400 `invalid_query` rejection.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiFailure))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` with a 400 `invalid_path` rejection.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiFailure))]
pub struct ApiPath<T>(pub T);

/// The `Authorization: Bearer <secret>` value, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The device authenticated by its token.
pub struct DeviceAuth(pub DeviceInfo);

impl DeviceAuth {
    pub async fn from_parts(parts: &Parts, state: &AppState) -> Result<DeviceAuth, ApiFailure> {
        let token = bearer(parts)
            .filter(|t| t.starts_with(DEVICE_TOKEN_PREFIX))
            .ok_or_else(|| ApiFailure::unauthorized("send Authorization: Bearer <device token>"))?;
        let device = state
            .store
            .device_by_token(hash_secret(token))
            .await?
            .ok_or_else(|| ApiFailure::unauthorized("unknown device token"))?;
        Ok(DeviceAuth(device.info))
    }
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiFailure> {
        DeviceAuth::from_parts(parts, state).await
    }
}

/// The merchant authenticated by its API key: its id.
pub struct MerchantAuth(pub String);

impl FromRequestParts<AppState> for MerchantAuth {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiFailure> {
        let key = bearer(parts)
            .filter(|t| t.starts_with(MERCHANT_KEY_PREFIX))
            .ok_or_else(|| {
                ApiFailure::unauthorized("send Authorization: Bearer <merchant API key>")
            })?;
        let id = state
            .store
            .merchant_by_key(hash_secret(key))
            .await?
            .ok_or_else(|| ApiFailure::unauthorized("unknown merchant API key"))?;
        Ok(MerchantAuth(id))
    }
}

/// The user authenticated by an access token (`Authorization: Bearer wat_…`).
pub struct UserAuth(pub SessionCtx);

impl UserAuth {
    pub async fn from_parts(parts: &Parts, state: &AppState) -> Result<SessionCtx, ApiFailure> {
        let token = bearer(parts)
            .filter(|t| t.starts_with(ACCESS_TOKEN_PREFIX))
            .ok_or_else(|| ApiFailure::unauthorized("send Authorization: Bearer <access token>"))?;
        match state
            .store
            .session_by_access(hash_secret(token), state.clock.unix())
            .await?
        {
            AccessOutcome::Valid(session) => Ok(session),
            AccessOutcome::Expired => Err(ApiFailure::unauthenticated(
                "token_expired",
                "the access token has expired: refresh the session",
            )),
            AccessOutcome::Revoked => Err(ApiFailure::unauthenticated(
                "session_revoked",
                "this session was revoked: log in again",
            )),
            AccessOutcome::Unknown => Err(ApiFailure::unauthorized("unknown access token")),
        }
    }
}

impl FromRequestParts<AppState> for UserAuth {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiFailure> {
        Ok(UserAuth(UserAuth::from_parts(parts, state).await?))
    }
}

/// The raw body bytes (under the body limit), with the API's error body on failure.
pub async fn raw_body(parts: &Parts, body: Body, state: &AppState) -> Result<Bytes, ApiFailure> {
    let req = Request::from_parts(parts.clone(), body);
    Bytes::from_request(req, state).await.map_err(|r| {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "invalid_body"
        };
        ApiFailure::new(status, code, r.body_text())
    })
}

/// Parses JSON from bytes already read, exactly as [`ApiJson`] does (content type included).
pub async fn json_from_bytes<T: DeserializeOwned>(
    parts: Parts,
    bytes: Bytes,
    state: &AppState,
) -> Result<T, ApiFailure> {
    let req = Request::from_parts(parts, Body::from(bytes));
    let ApiJson(value) = ApiJson::<T>::from_request(req, state).await?;
    Ok(value)
}

/// Checks a signed request (see `protocol::identity::signing_payload`), in the order the API
/// promises: access token → device header is the session's → the device is bound → signature
/// headers present → timestamp within the skew → Ed25519 signature → nonce unused.
async fn verify_signed(
    req: Request,
    state: &AppState,
) -> Result<(SessionCtx, Parts, Bytes), ApiFailure> {
    let (parts, body) = req.into_parts();
    let session = UserAuth::from_parts(&parts, state).await?;
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let device = header(DEVICE_HEADER);
    if device.is_some_and(|d| d != session.device_id) {
        return Err(ApiFailure::forbidden(
            "device_mismatch",
            "the signing device is not this session's device",
        ));
    }
    let key = state
        .store
        .device_key(session.user_id.clone(), session.device_id.clone())
        .await?
        .ok_or_else(|| {
            ApiFailure::forbidden(
                "device_not_bound",
                "bind this device by SMS before making this request",
            )
        })?;
    let (Some(device), Some(timestamp), Some(nonce), Some(signature)) = (
        device,
        header(TIMESTAMP_HEADER),
        header(NONCE_HEADER),
        header(SIGNATURE_HEADER),
    ) else {
        return Err(ApiFailure::unauthenticated(
            "signature_required",
            "this request must be signed by the bound device key",
        ));
    };
    let invalid = |m: &str| ApiFailure::unauthenticated("signature_invalid", m);
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| invalid("the timestamp is not unix seconds"))?;
    let max_skew = state.identity.max_clock_skew_s.max(0) as u64;
    if state.clock.unix().abs_diff(timestamp) > max_skew {
        return Err(ApiFailure::unauthenticated(
            "signature_stale",
            "the request's timestamp is too far from the server's clock",
        ));
    }
    if !is_valid_nonce(nonce) {
        return Err(invalid("the nonce must be 16 to 64 base64url characters"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature.trim())
        .map_err(|_| invalid("the signature is not base64url"))?;
    let (device, nonce) = (device.to_owned(), nonce.to_owned());
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let bytes = raw_body(&parts, body, state).await?;
    let payload = signing_payload(
        parts.method.as_str(),
        &path,
        &hex(&sha256(&bytes)),
        timestamp,
        &nonce,
        &device,
    );
    if !verify_ed25519(&key, &payload, &signature) {
        return Err(invalid("the signature does not verify with the bound key"));
    }
    let keep = 2 * state.identity.max_clock_skew_s.max(1);
    if !state
        .store
        .use_nonce(device, nonce, state.clock.unix(), keep)
        .await?
    {
        return Err(ApiFailure::unauthenticated(
            "signature_replayed",
            "this nonce was used already",
        ));
    }
    Ok((session, parts, bytes))
}

/// A request signed by the session's bound device (its body is covered by the signature and
/// otherwise ignored).
pub struct Signed(pub SessionCtx);

impl FromRequest<AppState> for Signed {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiFailure> {
        let (session, _, _) = verify_signed(req, state).await?;
        Ok(Signed(session))
    }
}

/// A signed request with a JSON body (parsed from the verified bytes like [`ApiJson`]).
pub struct SignedJson<T>(pub SessionCtx, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for SignedJson<T> {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiFailure> {
        let (session, parts, bytes) = verify_signed(req, state).await?;
        let value = json_from_bytes(parts, bytes, state).await?;
        Ok(SignedJson(session, value))
    }
}
