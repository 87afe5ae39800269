//! Sync endpoints: pulling a bucket, registering a device, sending intents.

use super::AppState;
use super::extract::{ApiJson, ApiPath, ApiQuery, DeviceAuth};
use crate::auth::{DEVICE_TOKEN_PREFIX, hash_secret, new_secret};
use crate::error::ApiFailure;
use crate::metrics::BucketLabels;
use crate::store::{BucketKey, StoreError};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use warung_core::protocol::text::{self, TextKind};
use warung_core::protocol::{
    ApiError, Bucket, Checkpoint, DeviceInfo, DeviceRegistration, IntentBatch, IntentBatchResult,
    IntentOutcome, IntentResult, MAX_INTENT_BATCH, MAX_PAGE_LIMIT, Page, PullQuery, RegisterDevice,
};

/// The page of either bucket: `Page_CatalogOp` for `catalog`, `Page_DeviceOp` for `device`.
pub struct AnyPage;

impl utoipa::PartialSchema for AnyPage {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, Ref};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("Page_CatalogOp"))
            .item(Ref::from_schema_name("Page_DeviceOp"))
            .description(Some(
                "A page of the bucket: catalog ops for `catalog`, device ops for `device`.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for AnyPage {
    fn name() -> std::borrow::Cow<'static, str> {
        "AnyPage".into()
    }
}

/// Pull a bucket's ops after a cursor.
///
/// `catalog` is public; `device` is the calling device's own bucket (intent results and the
/// cart mirror) and needs its token. The ops are stored JSON, sent verbatim; the checkpoint's
/// checksum is the wrapping sum of each op's FNV-1a (low 32 bits). A cursor older than the
/// compaction horizon gets `reset: true` and no ops: drop the bucket and pull from 0.
#[utoipa::path(
    get,
    path = "/v1/buckets/{bucket}/ops",
    tag = "sync",
    params(("bucket" = Bucket, Path, description = "`catalog` or `device`"), PullQuery),
    security((), ("device_token" = [])),
    responses(
        (status = 200, description = "A page of ops", body = AnyPage),
        (status = 400, description = "Invalid `after`/`limit` (`invalid_query`)", body = ApiError),
        (status = 401, description = "`device` bucket without a valid device token (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such bucket (`unknown_bucket`)", body = ApiError),
    )
)]
pub async fn pull(
    State(state): State<AppState>,
    ApiPath(bucket): ApiPath<String>,
    ApiQuery(query): ApiQuery<PullQuery>,
    parts: Parts,
) -> Result<Json<Page<Box<serde_json::value::RawValue>>>, ApiFailure> {
    let limit = query.limit;
    if limit == 0 || limit > MAX_PAGE_LIMIT {
        return Err(ApiFailure::invalid_query(format!(
            "limit must be between 1 and {MAX_PAGE_LIMIT}"
        )));
    }
    let (after, horizon) = (query.after, query.horizon);
    for (name, value) in [("after", after), ("horizon", horizon)] {
        if value > i64::MAX as u64 {
            return Err(ApiFailure::invalid_query(format!(
                "{name} must be at most {}",
                i64::MAX
            )));
        }
    }
    let key = match bucket.as_str() {
        "catalog" => BucketKey::Catalog,
        "device" => {
            let DeviceAuth(device) = DeviceAuth::from_parts(&parts, &state).await?;
            BucketKey::Device(device.device_id)
        }
        other => {
            return Err(ApiFailure::new(
                StatusCode::NOT_FOUND,
                "unknown_bucket",
                format!("no bucket {other:?}; buckets are catalog and device"),
            ));
        }
    };
    let label = match key {
        BucketKey::Catalog => "catalog",
        BucketKey::Device(_) => "device",
    };
    let page = state.store.pull(key, after, horizon, limit).await?;
    state
        .metrics
        .ops_served
        .get_or_create(&BucketLabels {
            bucket: label.to_owned(),
        })
        .inc_by(page.ops.len() as u64);
    Ok(Json(Page {
        ops: page.ops,
        checkpoint: Checkpoint {
            op_id: page.last_op_id,
            checksum: page.checksum,
        },
        has_more: page.has_more,
        reset: page.reset,
        head: page.head,
        horizon: page.horizon,
        remaining: page.remaining,
    }))
}

/// Register a device.
///
/// The device id is chosen by the phone (a UUID). The token in the answer is shown once; the
/// server keeps only its SHA-256.
#[utoipa::path(
    post,
    path = "/v1/devices",
    tag = "sync",
    request_body = RegisterDevice,
    responses(
        (status = 201, description = "Registered", body = DeviceRegistration),
        (status = 409, description = "The device id is taken (`device_exists`)", body = ApiError),
        (status = 422, description = "Not a UUID, unknown platform (`invalid_data`); control or bidirectional characters in `app_version` (`invalid_text`)", body = ApiError),
    )
)]
pub async fn register_device(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegisterDevice>,
) -> Result<(StatusCode, Json<DeviceRegistration>), ApiFailure> {
    // The hyphenated form only (`format: uuid`), in any case.
    let id = uuid::Uuid::try_parse(&request.device_id)
        .ok()
        .filter(|_| request.device_id.len() == 36)
        .ok_or_else(|| ApiFailure::invalid_data("device_id must be a hyphenated UUID"))?;
    if !matches!(request.platform.as_str(), "android" | "ios" | "cli") {
        return Err(ApiFailure::invalid_data(
            "platform must be android, ios or cli",
        ));
    }
    if let Some(version) = &request.app_version {
        text::clean("app_version", TextKind::Line, version, 64, false)?;
    }
    let request = RegisterDevice {
        device_id: id.hyphenated().to_string(),
        ..request
    };
    let token = new_secret(DEVICE_TOKEN_PREFIX);
    let mut registration = state
        .store
        .register_device(request, hash_secret(&token))
        .await?;
    registration.device_token = token;
    Ok((StatusCode::CREATED, Json(registration)))
}

/// What the server knows of the calling device.
#[utoipa::path(
    get,
    path = "/v1/devices/me",
    tag = "sync",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "The device", body = DeviceInfo),
        (status = 401, description = "Missing or unknown device token (`unauthorized`)", body = ApiError),
    )
)]
pub async fn device_me(DeviceAuth(device): DeviceAuth) -> Json<DeviceInfo> {
    Json(device)
}

/// Send queued intents.
///
/// Intents run in `seq` order, each exactly once, in one transaction. A seq already processed
/// gets its stored result back (409 `idempotency_conflict` if its key or payload differ,
/// nothing applied). Processing stops at the first gap; a batch that starts after the expected
/// seq is 409 `sequence_gap` with `expected_seq`.
#[utoipa::path(
    post,
    path = "/v1/intents",
    tag = "sync",
    request_body = IntentBatch,
    security(("device_token" = [])),
    responses(
        (status = 200, description = "A result for every intent up to the first gap", body = IntentBatchResult),
        (status = 401, description = "Missing or unknown device token (`unauthorized`)", body = ApiError),
        (status = 403, description = "An intent of another device (`forbidden`)", body = ApiError),
        (status = 409, description = "`sequence_gap` (with `expected_seq`) or `idempotency_conflict`", body = ApiError),
        (status = 413, description = "More than 500 intents (`batch_too_large`) or body too large", body = ApiError),
        (status = 422, description = "Malformed intent (`invalid_data`); an idempotency key that is not 1 to 128 visible ASCII characters (`invalid_text`)", body = ApiError),
    )
)]
pub async fn post_intents(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(batch): ApiJson<IntentBatch>,
) -> Result<Json<IntentBatchResult>, ApiFailure> {
    if batch.intents.len() > MAX_INTENT_BATCH {
        return Err(ApiFailure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("at most {MAX_INTENT_BATCH} intents per batch"),
        ));
    }
    for intent in &batch.intents {
        if intent.device_id != device.device_id {
            return Err(ApiFailure::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "every intent must carry the authenticated device's id",
            ));
        }
        if intent.seq == 0 || intent.seq > i64::MAX as u64 {
            return Err(ApiFailure::invalid_data("seq starts at 1"));
        }
        // Stored and echoed back: visible ASCII, so no NUL or control character reaches a
        // log, the database or another client.
        text::check(TextKind::Identifier, &intent.idempotency_key, 128, true).map_err(
            |problem| text::TextError {
                field: format!("intents[seq {}].idempotency_key", intent.seq),
                problem,
            },
        )?;
    }
    let intents = batch.intents;
    match state
        .store
        .apply_intents(device.device_id.clone(), intents.clone())
        .await
    {
        Ok(outcome) => {
            state.metrics.intent("applied", outcome.newly_applied);
            state.metrics.intent("rejected", outcome.newly_rejected);
            Ok(Json(outcome.result))
        }
        Err(StoreError::Overloaded) => {
            // Transient: nothing was stored; every intent comes back `retry_later`.
            state.metrics.intent("retry_later", intents.len() as u64);
            let results = intents
                .into_iter()
                .map(|i| IntentResult {
                    seq: i.seq,
                    idempotency_key: i.idempotency_key,
                    outcome: IntentOutcome::RetryLater {
                        reason: "overloaded".into(),
                    },
                })
                .collect();
            Ok(Json(IntentBatchResult {
                results,
                next_seq: device.next_seq,
            }))
        }
        Err(e) => Err(e.into()),
    }
}
