//! Extractors that answer with the API's error body: JSON, query and path wrappers over
//! axum's (whose rejections become [`ApiFailure`]s) and the two bearer authentications.

use super::AppState;
use crate::auth::{DEVICE_TOKEN_PREFIX, MERCHANT_KEY_PREFIX, hash_secret};
use crate::error::ApiFailure;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use warung_core::protocol::DeviceInfo;

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
