//! Extractors that answer with the API's error body: JSON, query and path wrappers over
//! axum's (whose rejections become [`ApiFailure`]s) and the two bearer authentications.

use super::AppState;
use crate::auth::{DEVICE_TOKEN_PREFIX, MERCHANT_KEY_PREFIX, hash_secret};
use crate::error::ApiFailure;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use warung_core::protocol::DeviceInfo;

/// `axum::Json` with typed 4xx rejections.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiFailure))]
pub struct ApiJson<T>(pub T);

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
