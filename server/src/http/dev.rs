//! Development routes that move the server's state for test suites driving a server process:
//! the clock. Each exists only for the dev token (`--dev-token`: 401 to anyone else) and only
//! when enabled at start (`--dev-clock`; 404 otherwise).

use super::AppState;
use super::extract::ApiJson;
use super::sms::require_dev_token;
use crate::error::ApiFailure;
use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use std::time::Duration;
use warung_core::protocol::ApiError;

/// The longest single move of the dev clock: 30 days.
pub const MAX_ADVANCE_S: u64 = 30 * 86_400;

/// `POST /v1/dev/clock` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevClockAdvance {
    /// Seconds to move the server's clock forward (1 to 2,592,000).
    #[schema(minimum = 1, maximum = 2_592_000)]
    pub advance_s: u64,
}

/// The server's time after the move.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DevClock {
    /// Unix seconds.
    pub now: i64,
}

/// Move the server's clock forward (development only: needs `--dev-clock` and `--dev-token`;
/// otherwise 404). Expiries, cool-downs and lock-outs then behave as if that time had passed;
/// the clock never goes back.
#[utoipa::path(post, path = "/v1/dev/clock", tag = "dev", request_body = DevClockAdvance,
    security(("dev_token" = [])),
    responses(
        (status = 200, description = "The server's time now", body = DevClock),
        (status = 401, description = "Wrong or missing dev token (`unauthorized`)", body = ApiError),
        (status = 404, description = "No dev token configured, or `--dev-clock` not given (`not_found`)", body = ApiError),
        (status = 422, description = "`advance_s` out of range (`invalid_data`)", body = ApiError),
    ))]
pub async fn advance_clock(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(req): ApiJson<DevClockAdvance>,
) -> Result<Json<DevClock>, ApiFailure> {
    require_dev_token(&state, &parts, state.dev_clock)?;
    if !(1..=MAX_ADVANCE_S).contains(&req.advance_s) {
        return Err(ApiFailure::invalid_data(format!(
            "advance_s must be between 1 and {MAX_ADVANCE_S}"
        )));
    }
    state.clock.advance(Duration::from_secs(req.advance_s));
    Ok(Json(DevClock {
        now: state.clock.unix(),
    }))
}
