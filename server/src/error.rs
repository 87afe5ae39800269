//! The one error body of the HTTP API: `{"error":{"code":…,"message":…}}`.
//!
//! [`ApiFailure`] is what handlers return; every axum rejection (JSON syntax or type errors,
//! a missing content type, bad query or path, an oversized body) converts into it, so no
//! client mistake is ever answered with axum's plain-text bodies or a 5xx.

use crate::store::StoreError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use warung_core::protocol::ApiError;

#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub body: ApiError,
}

impl ApiFailure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiFailure {
        ApiFailure {
            status,
            body: ApiError::new(code, message),
        }
    }

    pub fn unauthorized(message: &str) -> ApiFailure {
        ApiFailure::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid_query(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::BAD_REQUEST, "invalid_query", message)
    }

    pub fn invalid_data(message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_data", message)
    }

    /// 403 with a code.
    pub fn forbidden(code: &str, message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 401 with a code.
    pub fn unauthenticated(code: &str, message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 429 `rate_limited` with `retry_after_s` (and a `Retry-After` header).
    pub fn rate_limited(retry_after_s: u64, message: impl Into<String>) -> ApiFailure {
        ApiFailure::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            .retry_after(retry_after_s)
    }

    /// Adds `retry_after_s` (answered with a `Retry-After` header too).
    pub fn retry_after(mut self, seconds: u64) -> ApiFailure {
        self.body.error.retry_after_s = Some(seconds.max(1));
        self
    }

    /// Adds `attempts_left`.
    pub fn attempts_left(mut self, left: u32) -> ApiFailure {
        self.body.error.attempts_left = Some(left);
        self
    }

    /// The generic body for a bare status (fallbacks, timeouts, layers that answer alone).
    pub fn for_status(status: StatusCode) -> ApiFailure {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this endpoint does not take that method",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "send Content-Type: application/json",
            ),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the server is busy; retry later"),
            s if s.is_server_error() => ("internal", "internal server error"),
            _ => ("bad_request", "the request is not acceptable"),
        };
        ApiFailure::new(status, code, message)
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let retry = self.body.error.retry_after_s;
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(seconds) = retry {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

impl From<StoreError> for ApiFailure {
    fn from(e: StoreError) -> ApiFailure {
        match e {
            StoreError::NotFound(m) => ApiFailure::not_found(m),
            StoreError::Invalid { code, message } => {
                ApiFailure::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            StoreError::Conflict { code, message } => {
                ApiFailure::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::SequenceGap { expected } => {
                let mut f = ApiFailure::new(
                    StatusCode::CONFLICT,
                    "sequence_gap",
                    format!("intents must start at seq {expected}; send the missing ones first"),
                );
                f.body.error.expected_seq = Some(expected);
                f
            }
            StoreError::Overloaded => ApiFailure::for_status(StatusCode::SERVICE_UNAVAILABLE),
            StoreError::Unavailable(m) => {
                tracing::error!(error = %m, "storage unavailable");
                ApiFailure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "storage is unavailable",
                )
            }
            StoreError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ApiFailure::for_status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// A text field the shared rules refuse (`warung_core::protocol::text`): 422 `invalid_text`.
impl From<warung_core::protocol::text::TextError> for ApiFailure {
    fn from(e: warung_core::protocol::text::TextError) -> ApiFailure {
        ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
            e.to_string(),
        )
    }
}

impl From<JsonRejection> for ApiFailure {
    fn from(r: JsonRejection) -> ApiFailure {
        let status = r.status();
        let code = match &r {
            JsonRejection::JsonDataError(_) => "invalid_data",
            JsonRejection::JsonSyntaxError(_) => "invalid_json",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "invalid_body",
        };
        // body_text() carries serde's message: the field and what was expected.
        ApiFailure::new(status, code, r.body_text())
    }
}

impl From<QueryRejection> for ApiFailure {
    fn from(r: QueryRejection) -> ApiFailure {
        ApiFailure::invalid_query(r.body_text())
    }
}

impl From<PathRejection> for ApiFailure {
    fn from(r: PathRejection) -> ApiFailure {
        ApiFailure::new(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
    }
}
