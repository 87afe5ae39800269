//! The HTTP layer: routes, middleware and the operational endpoints.
//!
//! Middleware, outermost first: request id (set `x-request-id` when absent, propagate it to the
//! response), tracing span, metrics by matched route, panic → 500 JSON, error-body
//! normalisation (any 4xx/5xx that is not already our JSON body gets one: 404/405 fallbacks,
//! timeouts), compression (gzip, zstd), request timeout. The body limit is axum's
//! `DefaultBodyLimit`, so an oversized body is a 413 with the JSON error body.

pub mod dev;
pub mod extract;
pub mod identity;
pub mod merchant;
pub mod sms;
pub mod sync;

use crate::error::ApiFailure;
use crate::metrics::{Metrics, RequestLabels};
use crate::store::Storage;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Storage>,
    pub metrics: Arc<Metrics>,
    pub openapi: Arc<String>,
    /// Lifetimes and limits of the identity flows.
    pub identity: Arc<crate::identity::IdentityConfig>,
    /// The outbound SMS gateway.
    pub sms: Arc<dyn crate::sms::SmsGateway>,
    pub sms_config: Arc<crate::sms::SmsConfig>,
    /// The server's one clock (see [`crate::clock`]).
    pub clock: crate::clock::Clock,
    /// Whether `POST /v1/dev/clock` may move it (`--dev-clock`).
    pub dev_clock: bool,
}

/// Limits of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub body_limit: usize,
    pub request_timeout: Duration,
}

/// The whole application.
pub fn router(state: AppState, limits: HttpLimits) -> Router {
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/buckets/{bucket}/ops", get(sync::pull))
        .route("/v1/devices", post(sync::register_device))
        .route("/v1/devices/me", get(sync::device_me))
        .route("/v1/intents", post(sync::post_intents))
        .route("/v1/categories", get(merchant::categories))
        .route(
            "/v1/merchant",
            get(merchant::get_merchant).put(merchant::put_merchant),
        )
        .route(
            "/v1/merchant/products",
            get(merchant::list_products).post(merchant::create_product),
        )
        .route(
            "/v1/merchant/products/{id}",
            get(merchant::get_product)
                .put(merchant::put_product)
                .delete(merchant::delete_product),
        )
        .route(
            "/v1/merchant/products/{id}/variants",
            post(merchant::create_variant),
        )
        .route(
            "/v1/merchant/variants/{id}",
            put(merchant::put_variant).delete(merchant::delete_variant),
        )
        .route("/v1/merchant/variants/{id}/stock", put(merchant::put_stock))
        .route(
            "/v1/merchant/variants/{id}/prices",
            put(merchant::put_prices),
        )
        .route("/v1/auth/otp", post(identity::request_otp))
        .route("/v1/auth/otp/verify", post(identity::verify_otp))
        .route("/v1/auth/refresh", post(identity::refresh))
        .route("/v1/auth/logout", post(identity::logout))
        .route("/v1/me", get(identity::me))
        .route("/v1/me/binding", post(identity::start_binding))
        .route("/v1/me/binding/{binding_id}", get(identity::binding_status))
        .route("/v1/me/devices", get(identity::list_devices))
        .route(
            "/v1/me/devices/{device_id}",
            delete(identity::revoke_device),
        )
        .route("/v1/me/pin", put(identity::set_pin))
        .route("/v1/me/pin/verify", post(identity::verify_pin_handler))
        .route(
            "/v1/me/totp",
            post(identity::enroll_totp).delete(identity::reset_totp),
        )
        .route("/v1/me/totp/verify", post(identity::verify_totp_handler))
        .route("/v1/sms/inbound", post(sms::inbound))
        .route("/v1/dev/sms", get(sms::dev_outbox))
        .route("/v1/dev/clock", post(dev::advance_clock))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());

    // Router::layer wraps what is already there: innermost first.
    api.layer(DefaultBodyLimit::max(limits.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(CompressionLayer::new().gzip(true).zstd(true))
        .layer(middleware::map_response(normalize_errors))
        .layer(CatchPanicLayer::custom(|_| {
            ApiFailure::for_status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
        }))
        .layer(middleware::from_fn_with_state(state, record_metrics))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn not_found() -> ApiFailure {
    ApiFailure::for_status(StatusCode::NOT_FOUND)
}

async fn method_not_allowed() -> ApiFailure {
    ApiFailure::for_status(StatusCode::METHOD_NOT_ALLOWED)
}

/// Gives every error response the JSON error body (layers such as the timeout answer with an
/// empty one).
async fn normalize_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let fresh = ApiFailure::for_status(status).into_response();
    let (fresh_parts, body) = fresh.into_parts();
    parts.headers.extend(fresh_parts.headers);
    Response::from_parts(parts, body)
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Liveness and readiness answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    pub status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = Status)))]
pub async fn healthz() -> axum::Json<Status> {
    axum::Json(Status {
        status: "ok".into(),
    })
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = warung_core::protocol::ApiError),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<axum::Json<Status>, ApiFailure> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "not ready");
        ApiFailure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is not reachable",
        )
    })?;
    Ok(axum::Json(Status {
        status: "ready".into(),
    }))
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", body = String,
        content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.encode();
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS))],
        text,
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from(state.openapi.as_str().to_owned()),
    )
        .into_response()
}
