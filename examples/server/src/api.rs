//! The admin JSON API, behind `Authorization: Bearer $CALLHOOK_ADMIN_TOKEN`, and its
//! OpenAPI document (generated from these handlers and types with utoipa, so it cannot
//! drift from the code).
//!
//! Errors are always `{"error": {"code": "...", "message": "..."}}` with the codes
//! `unauthorized`, `api_disabled`, `not_found`, `bad_request` and `unavailable`.

use std::convert::Infallible;

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use callhook::event::ProviderId;
use callhook::storage::{EventDetail, EventFilter, EventId, EventRecord, EventStatus, StorageError};
use callhook::verify::{bearer_token, matches_any_token};
use callhook::worker::WorkerError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;

/// The OpenAPI document of the admin API.
#[derive(OpenApi)]
#[openapi(
    info(title = "callhook admin API", description = "The event log, its processing and the folded call and message state."),
    paths(list_events, get_event, reprocess_event, get_call, get_message, stream),
    components(schemas(EventSummary, EventPage, EventDetails, DeliveryView, AttemptView, ApiError, ErrorBody)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new("admin_token", Vec::<String>::new())]);
    }
}

/// The admin routes (all behind the bearer token) and the OpenAPI document (public).
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/api/events", get(list_events))
        .route("/api/events/{id}", get(get_event))
        .route("/api/events/{id}/reprocess", post(reprocess_event))
        .route("/api/calls/{provider}/{id}", get(get_call))
        .route("/api/messages/{provider}/{id}", get(get_message))
        .route("/api/stream", get(stream))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_admin))
        .with_state(state);
    protected.route("/api/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}

/// An error as the API reports it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    error: ErrorBody,
}

/// The error's code and message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `unauthorized`, `api_disabled`, `not_found`, `bad_request`, `unavailable`.
    code: &'static str,
    /// What happened.
    message: String,
}

/// An error response: status and body.
#[derive(Debug)]
pub struct Failure(StatusCode, &'static str, String);

impl Failure {
    fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, "not_found", message.into())
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, "bad_request", message.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(ApiError { error: ErrorBody { code: self.1, message: self.2 } })).into_response()
    }
}

impl From<StorageError> for Failure {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::EventNotFound(id) => Failure::not_found(format!("event {id} not found")),
            other => Self(StatusCode::SERVICE_UNAVAILABLE, "unavailable", other.to_string()),
        }
    }
}

impl From<WorkerError> for Failure {
    fn from(error: WorkerError) -> Self {
        match error {
            WorkerError::Storage(storage) => storage.into(),
            other => Self(StatusCode::SERVICE_UNAVAILABLE, "unavailable", other.to_string()),
        }
    }
}

async fn require_admin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = &state.admin_token else {
        let message = "the admin API is off: set CALLHOOK_ADMIN_TOKEN";
        return Failure(StatusCode::FORBIDDEN, "api_disabled", message.into()).into_response();
    };
    let presented = request.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(bearer_token);
    match presented {
        Some(presented) if matches_any_token(std::slice::from_ref(token), presented) => next.run(request).await,
        _ => {
            let message = "missing or wrong bearer token";
            let mut response = Failure(StatusCode::UNAUTHORIZED, "unauthorized", message.into()).into_response();
            response.headers_mut().insert("www-authenticate", "Bearer".parse().expect("a valid header value"));
            response
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// An event as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventSummary {
    id: i64,
    delivery_id: i64,
    provider: String,
    /// The provider's own event type.
    event_type: String,
    dedupe_key: String,
    /// `pending`, `processed` or `failed`.
    status: String,
    attempts: u32,
    last_error: Option<String>,
    /// RFC 3339.
    received_at: String,
    next_attempt_at: Option<String>,
    processed_at: Option<String>,
    /// The normalized event (null for a body that did not parse).
    #[schema(value_type = Object)]
    event: serde_json::Value,
}

impl From<&EventRecord> for EventSummary {
    fn from(record: &EventRecord) -> Self {
        Self {
            id: record.id.0,
            delivery_id: record.delivery_id.0,
            provider: record.provider.to_string(),
            event_type: record.event_type.clone(),
            dedupe_key: record.dedupe_key.clone(),
            status: record.status.as_str().to_owned(),
            attempts: record.attempts,
            last_error: record.last_error.clone(),
            received_at: rfc3339(record.received_at),
            next_attempt_at: record.next_attempt_at.map(rfc3339),
            processed_at: record.processed_at.map(rfc3339),
            event: serde_json::to_value(&record.event).unwrap_or_default(),
        }
    }
}

/// A page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    events: Vec<EventSummary>,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<i64>,
}

/// The filters of `GET /api/events`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventQuery {
    /// Only this provider's events.
    provider: Option<String>,
    /// Only this event type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// `pending`, `processed` or `failed`.
    status: Option<String>,
    /// Received at or after this RFC 3339 time.
    since: Option<String>,
    /// Received before this RFC 3339 time.
    until: Option<String>,
    /// Only ids below this (the previous page's `next_before`).
    before: Option<i64>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

fn parse_time(name: &str, value: &Option<String>) -> Result<Option<OffsetDateTime>, Failure> {
    value
        .as_deref()
        .map(|v| OffsetDateTime::parse(v, &Rfc3339).map_err(|e| Failure::bad_request(format!("{name}: {e}"))))
        .transpose()
}

/// Lists events, newest first.
#[utoipa::path(get, path = "/api/events", params(EventQuery), responses(
    (status = 200, body = EventPage), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
async fn list_events(
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventPage>, Failure> {
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let mut filter = EventFilter::default()
        .limit(limit)
        .received_between(parse_time("since", &query.since)?, parse_time("until", &query.until)?);
    if let Some(provider) = query.provider {
        filter = filter.provider(ProviderId::new(provider));
    }
    if let Some(event_type) = query.event_type {
        filter = filter.event_type(event_type);
    }
    if let Some(status) = &query.status {
        let status =
            EventStatus::from_name(status).ok_or_else(|| Failure::bad_request(format!("status: {status:?}")))?;
        filter = filter.status(status);
    }
    if let Some(before) = query.before {
        filter = filter.before(EventId(before));
    }
    let records = state.storage.list_events(&filter).await?;
    let next_before = (records.len() == limit).then(|| records.last().map(|r| r.id.0)).flatten();
    Ok(Json(EventPage { events: records.iter().map(EventSummary::from).collect(), next_before }))
}

/// The delivery an event came in.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    id: i64,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    /// `verified` or `skipped`.
    verification: String,
    parse_error: Option<String>,
    /// The body exactly as received, base64.
    body_base64: String,
    /// The body as text, when it is UTF-8.
    body_text: Option<String>,
}

/// One processing attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    number: u32,
    started_at: String,
    finished_at: String,
    error: Option<String>,
}

/// An event with its original payload and attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetails {
    event: EventSummary,
    delivery: DeliveryView,
    attempts: Vec<AttemptView>,
}

impl From<EventDetail> for EventDetails {
    fn from(detail: EventDetail) -> Self {
        let delivery = &detail.delivery;
        Self {
            event: EventSummary::from(&detail.event),
            delivery: DeliveryView {
                id: delivery.id.0,
                method: delivery.method.clone(),
                path: delivery.path.clone(),
                query: delivery.query.clone(),
                headers: delivery.headers.clone(),
                verification: delivery.verification.as_str().to_owned(),
                parse_error: delivery.parse_error.clone(),
                body_base64: base64::engine::general_purpose::STANDARD.encode(&delivery.body),
                body_text: std::str::from_utf8(&delivery.body).ok().map(str::to_owned),
            },
            attempts: detail
                .attempts
                .iter()
                .map(|a| AttemptView {
                    number: a.number,
                    started_at: rfc3339(a.started_at),
                    finished_at: rfc3339(a.finished_at),
                    error: a.error.clone(),
                })
                .collect(),
        }
    }
}

/// One event with the original payload and its attempts.
#[utoipa::path(get, path = "/api/events/{id}", params(("id" = i64, Path, description = "The event id")), responses(
    (status = 200, body = EventDetails), (status = 404, body = ApiError), (status = 401, body = ApiError)))]
async fn get_event(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<EventDetails>, Failure> {
    let detail =
        state.storage.event(EventId(id)).await?.ok_or_else(|| Failure::not_found(format!("event {id} not found")))?;
    Ok(Json(detail.into()))
}

/// Resets an event to pending and schedules it now; its history stays.
#[utoipa::path(post, path = "/api/events/{id}/reprocess", params(("id" = i64, Path, description = "The event id")), responses(
    (status = 200, body = EventSummary), (status = 404, body = ApiError), (status = 401, body = ApiError)))]
async fn reprocess_event(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<EventSummary>, Failure> {
    let record = state.worker.reprocess(EventId(id)).await?;
    tracing::info!(event_id = id, "reprocessing requested through the admin API");
    Ok(Json(EventSummary::from(&record)))
}

/// A call's folded state.
#[utoipa::path(get, path = "/api/calls/{provider}/{id}", params(
    ("provider" = String, Path, description = "twilio, whatsapp, retell, cloudtalk, wavoip"),
    ("id" = String, Path, description = "The provider's call id")), responses(
    (status = 200, body = Object), (status = 404, body = ApiError)))]
async fn get_call(
    State(state): State<AppState>,
    Path((provider, id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Failure> {
    let found = state.storage.call_state(&ProviderId::new(provider), &id).await?;
    let state = found.ok_or_else(|| Failure::not_found(format!("call {id} not found")))?;
    Ok(Json(serde_json::to_value(state).unwrap_or_default()))
}

/// A message's folded state.
#[utoipa::path(get, path = "/api/messages/{provider}/{id}", params(
    ("provider" = String, Path, description = "twilio, whatsapp"),
    ("id" = String, Path, description = "The provider's message id")), responses(
    (status = 200, body = Object), (status = 404, body = ApiError)))]
async fn get_message(
    State(state): State<AppState>,
    Path((provider, id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Failure> {
    let found = state.storage.message_state(&ProviderId::new(provider), &id).await?;
    let state = found.ok_or_else(|| Failure::not_found(format!("message {id} not found")))?;
    Ok(Json(serde_json::to_value(state).unwrap_or_default()))
}

/// Server-sent events: one `event: update` per processing attempt, its data an
/// [`EventSummary`] as JSON.
#[utoipa::path(get, path = "/api/stream", responses((status = 200, description = "text/event-stream of EventSummary")))]
async fn stream(State(state): State<AppState>) -> Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>> {
    let updates = BroadcastStream::new(state.worker.subscribe()).filter_map(|update| {
        let update = update.ok()?;
        let summary = EventSummary::from(&update.event);
        Some(Ok(SseEvent::default().event("update").json_data(summary).unwrap_or_default()))
    });
    Sse::new(updates).keep_alive(KeepAlive::default())
}
