//! SMS endpoints: the aggregator's inbound webhook (HMAC-signed) and the development outbox.

use super::AppState;
use super::extract::{ApiQuery, bearer, json_from_bytes, raw_body};
use crate::error::ApiFailure;
use crate::identity::ct_eq;
use crate::sms::{OutboundSms, bound_text, inbound_signature_valid};
use crate::store::identity::{DevSms, InboundCommand, InboundMessage};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use warung_core::protocol::text::{self, TextKind};
use warung_core::protocol::{
    ApiError, INBOUND_SIGNATURE_HEADER, InboundSms, InboundSmsResult, TIMESTAMP_HEADER,
};
use warung_core::sms::SmsCommand;

/// Receive a mobile-originated SMS from the aggregator.
///
/// Signed with `x-warung-sms-signature`: lowercase hex HMAC-SHA256(secret,
/// `{x-warung-timestamp}.{raw body}`). A well-signed delivery always gets 200 with what was
/// done (`bound`, `refused`, `ignored`, `duplicate`), so the aggregator does not redeliver.
/// Without a configured inbound secret the route does not exist (404).
#[utoipa::path(post, path = "/v1/sms/inbound", tag = "sms", request_body = InboundSms,
    params(
        ("x-warung-timestamp" = i64, Header, description = "Unix seconds of the delivery"),
        ("x-warung-sms-signature" = String, Header, description = "Hex HMAC-SHA256 over `{timestamp}.{body}`"),
    ),
    security(("sms_hmac" = [])),
    responses(
        (status = 200, description = "What the server did", body = InboundSmsResult),
        (status = 401, description = "`bad_signature` (missing or wrong), `stale_timestamp` (more than 300 s off)", body = ApiError),
        (status = 404, description = "Inbound SMS is not configured (`not_found`)", body = ApiError),
    ))]
pub async fn inbound(
    State(state): State<AppState>,
    parts: Parts,
    body: Body,
) -> Result<Json<InboundSmsResult>, ApiFailure> {
    let Some(secret) = state.sms_config.inbound_secret.clone() else {
        return Err(ApiFailure::for_status(StatusCode::NOT_FOUND));
    };
    let bytes = raw_body(&parts, body, &state).await?;
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let bad = || {
        ApiFailure::unauthenticated(
            "bad_signature",
            "the delivery's signature is missing or wrong",
        )
    };
    let timestamp: i64 = header(TIMESTAMP_HEADER)
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(bad)?;
    let signature = header(INBOUND_SIGNATURE_HEADER).ok_or_else(bad)?;
    if !inbound_signature_valid(&secret, timestamp, &bytes, signature) {
        tracing::warn!("inbound SMS with a bad signature");
        return Err(bad());
    }
    let now = state.clock.unix();
    if now.abs_diff(timestamp) > state.identity.max_clock_skew_s.max(0) as u64 {
        return Err(ApiFailure::unauthenticated(
            "stale_timestamp",
            "the delivery's timestamp is too far from the server's clock",
        ));
    }
    let sms: InboundSms = json_from_bytes(parts, bytes, &state).await?;
    text::clean(
        "message_id",
        TextKind::Identifier,
        &sms.message_id,
        128,
        true,
    )?;
    let sender = warung_core::phone::normalize(&sms.from).ok();
    let command = match warung_core::sms::parse(&sms.text) {
        Ok(SmsCommand::Bind { token }) => InboundCommand::Bind {
            token_hash: crate::auth::sha256(token.as_bytes()),
        },
        Err(e) => InboundCommand::Ignore {
            reason: e.code().to_owned(),
        },
    };
    let outcome = state
        .store
        .inbound_sms(InboundMessage {
            message_id: sms.message_id.clone(),
            sender,
            raw_sender: sms.from.chars().take(64).collect(),
            command,
            now,
            per_minute: state.identity.inbound_per_minute,
        })
        .await?;
    tracing::info!(message_id = %sms.message_id, result = outcome.result, reason = ?outcome.reason, "inbound SMS");
    if let Some(to) = outcome.confirm_to {
        let sent = state
            .sms
            .send(OutboundSms {
                to,
                text: bound_text(),
                reference: sms.message_id,
            })
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "binding confirmation SMS not sent");
        }
    }
    Ok(Json(InboundSmsResult {
        result: outcome.result.to_owned(),
        reason: outcome.reason,
    }))
}

/// `GET /v1/dev/sms` query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DevSmsQuery {
    /// Only messages to this number (any accepted spelling).
    pub to: Option<String>,
    /// At most this many (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The development gateway's outbox.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DevSmsList {
    /// Newest first.
    pub messages: Vec<DevSms>,
}

/// Messages the development gateway "sent", newest first (development only: needs the dev
/// gateway and `--dev-token`; otherwise 404).
#[utoipa::path(get, path = "/v1/dev/sms", tag = "sms", params(DevSmsQuery),
    security(("dev_token" = [])),
    responses(
        (status = 200, description = "The outbox", body = DevSmsList),
        (status = 401, description = "Wrong or missing dev token (`unauthorized`)", body = ApiError),
        (status = 404, description = "Not enabled (`not_found`)", body = ApiError),
        (status = 422, description = "`to` is not a phone number (`invalid_phone`)", body = ApiError),
    ))]
pub async fn dev_outbox(
    State(state): State<AppState>,
    parts: Parts,
    ApiQuery(query): ApiQuery<DevSmsQuery>,
) -> Result<Json<DevSmsList>, ApiFailure> {
    require_dev_token(&state, &parts, state.sms.kind() == "dev")?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiFailure::invalid_query("limit must be between 1 and 100"));
    }
    let to = query
        .to
        .as_deref()
        .map(super::identity::normalize_phone)
        .transpose()?;
    Ok(Json(DevSmsList {
        messages: state.store.dev_sms_list(to, limit).await?,
    }))
}

/// A development route exists only for the dev token: without a configured dev token it is
/// 404 (as if it did not exist), to anyone else 401, and to the token holder 404 again when
/// the route is not `enabled` (`--dev-clock`, the dev gateway).
pub fn require_dev_token(state: &AppState, parts: &Parts, enabled: bool) -> Result<(), ApiFailure> {
    let Some(token) = state.sms_config.dev_token.as_deref() else {
        return Err(ApiFailure::for_status(StatusCode::NOT_FOUND));
    };
    let given = bearer(parts).unwrap_or("");
    if !ct_eq(
        &crate::auth::hash_secret(given),
        &crate::auth::hash_secret(token),
    ) {
        return Err(ApiFailure::unauthorized(
            "send Authorization: Bearer <dev token>",
        ));
    }
    if !enabled {
        return Err(ApiFailure::for_status(StatusCode::NOT_FOUND));
    }
    Ok(())
}
