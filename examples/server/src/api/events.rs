//! The event log: listing, counting, one event with its payload, reprocessing.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use callhook::backend::event_subject;
use callhook::event::ProviderId;
use callhook::event_log::{EventCount, EventDetail, EventFilter, EventId, EventRecord, EventStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, Failure, parse_time, rfc3339};
use crate::{AppState, actions};

/// An event as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventSummary {
    id: i64,
    delivery_id: i64,
    provider: String,
    /// The account that sent it (absent: the provider's unnamed account).
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    /// The provider's own event type.
    event_type: String,
    dedupe_key: String,
    /// The call, message or other id the event is about.
    subject: Option<String>,
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
            account: record.account.as_ref().map(ToString::to_string),
            event_type: record.event_type.clone(),
            dedupe_key: record.dedupe_key.clone(),
            subject: record.event.as_ref().and_then(event_subject).map(str::to_owned),
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
    /// Only events about this call, message or other id (exact).
    subject: Option<String>,
    /// Only events this account sent (its label).
    account: Option<String>,
    /// Only events about this customer: a phone number (any spelling; read as E.164) or
    /// a WhatsApp business-scoped id.
    number: Option<String>,
    /// Free text: the event id, or part of a dedupe key or subject id.
    q: Option<String>,
    /// Only ids below this (the previous page's `next_before`).
    before: Option<i64>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<usize>,
}

impl EventQuery {
    /// The storage filter these parameters describe (`limit` and `before` included).
    fn filter(&self) -> Result<EventFilter, Failure> {
        let mut filter = EventFilter::default()
            .limit(self.limit.unwrap_or(50).clamp(1, 500))
            .received_between(parse_time("since", &self.since)?, parse_time("until", &self.until)?);
        let given =
            |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        if let Some(provider) = given(&self.provider) {
            filter = filter.provider(ProviderId::new(provider));
        }
        if let Some(event_type) = given(&self.event_type) {
            filter = filter.event_type(event_type);
        }
        if let Some(status) = given(&self.status) {
            let parsed =
                EventStatus::from_name(&status).ok_or_else(|| Failure::bad_request(format!("status: {status:?}")))?;
            filter = filter.status(parsed);
        }
        if let Some(subject) = given(&self.subject) {
            filter = filter.subject(subject);
        }
        if let Some(account) = given(&self.account) {
            filter = filter.account(account.as_str().into());
        }
        if let Some(number) = given(&self.number) {
            filter = filter.contact(number);
        }
        if let Some(text) = given(&self.q) {
            filter = filter.search(text);
        }
        if let Some(before) = self.before {
            filter = filter.before(EventId(before));
        }
        Ok(filter)
    }
}

/// Lists events, newest first.
#[utoipa::path(get, path = "/api/events", params(EventQuery), responses(
    (status = 200, body = EventPage), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub(super) async fn list_events(
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventPage>, Failure> {
    let filter = query.filter()?;
    let records = state.storage.list_events(&filter).await?;
    let next_before = (records.len() == filter.limit).then(|| records.last().map(|r| r.id.0)).flatten();
    Ok(Json(EventPage { events: records.iter().map(EventSummary::from).collect(), next_before }))
}

/// How many events match, in total and by status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct EventCounts {
    total: u64,
    pending: u64,
    processed: u64,
    failed: u64,
}

impl EventCounts {
    fn from_counts(counts: &[EventCount]) -> Self {
        let mut sums = Self::default();
        for count in counts {
            sums.total += count.count;
            match count.status {
                EventStatus::Pending => sums.pending += count.count,
                EventStatus::Processed => sums.processed += count.count,
                EventStatus::Failed => sums.failed += count.count,
            }
        }
        sums
    }
}

/// Counts the events matching the filters (`before` and `limit` ignored).
#[utoipa::path(get, path = "/api/events/count", params(EventQuery), responses(
    (status = 200, body = EventCounts), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub(super) async fn count_events(
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventCounts>, Failure> {
    let mut filter = query.filter()?;
    filter.before = None;
    Ok(Json(EventCounts::from_counts(&state.storage.event_counts(&filter).await?)))
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
    /// Which of the account's keys verified it: `current` or `next` (absent when
    /// verification was skipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
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
                key: delivery.key.map(|key| key.as_str().to_owned()),
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
pub(super) async fn get_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<EventDetails>, Failure> {
    let detail =
        state.storage.event(EventId(id)).await?.ok_or_else(|| Failure::not_found(format!("event {id} not found")))?;
    Ok(Json(detail.into()))
}

/// Resets an event to pending and schedules it now; its history stays. The action is
/// recorded in the event log.
#[utoipa::path(post, path = "/api/events/{id}/reprocess", params(("id" = i64, Path, description = "The event id")), responses(
    (status = 200, body = EventSummary), (status = 404, body = ApiError), (status = 401, body = ApiError)))]
pub(super) async fn reprocess_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<EventSummary>, Failure> {
    let before =
        state.storage.event(EventId(id)).await?.ok_or_else(|| Failure::not_found(format!("event {id} not found")))?;
    let record = state.worker.reprocess(EventId(id)).await?;
    tracing::info!(event_id = id, "reprocessing requested through the admin API");
    let details = serde_json::json!({ "event_id": id, "previous_status": before.event.status.as_str() });
    actions::record(&*state.storage, "reprocess", Some(id.to_string()), details).await?;
    Ok(Json(EventSummary::from(&record)))
}

/// What `POST /api/events/reprocess` is asked to do.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReprocessRequest {
    /// The count the user confirmed (from `GET /api/events/count?status=failed&...`):
    /// when given and the matching failed events are now more, nothing is done (`409`),
    /// so a confirmation never covers more than it said.
    expected: Option<u64>,
}

/// What a bulk reprocess did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reprocessed {
    /// How many failed events were set back to pending and scheduled.
    reprocessed: u64,
    /// The event-log id of the recorded action.
    action_id: i64,
}

/// Reprocesses every **failed** event matching the filters (whatever `status` says),
/// oldest first; records the action, with the filters and the count, in the event log.
#[utoipa::path(post, path = "/api/events/reprocess", params(EventQuery), request_body = ReprocessRequest, responses(
    (status = 200, body = Reprocessed), (status = 409, body = ApiError), (status = 400, body = ApiError),
    (status = 401, body = ApiError)))]
pub(super) async fn reprocess_matching(
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
    body: Option<Json<ReprocessRequest>>,
) -> Result<Json<Reprocessed>, Failure> {
    let request = body.map(|Json(request)| request).unwrap_or_default();
    let mut filter = query.filter()?.status(EventStatus::Failed).limit(500);
    filter.before = None;
    let matching = EventCounts::from_counts(&state.storage.event_counts(&filter).await?).total;
    if let Some(expected) = request.expected
        && matching > expected
    {
        return Err(Failure::conflict(format!("{matching} failed events match now, not {expected}: confirm again")));
    }
    // Pages newest first by id, so events failing again meanwhile are not picked up twice.
    let mut reprocessed = 0u64;
    loop {
        let page = state.storage.list_events(&filter).await?;
        for record in &page {
            state.worker.reprocess(record.id).await?;
            reprocessed += 1;
        }
        match page.last() {
            Some(last) if page.len() == filter.limit => filter.before = Some(last.id),
            _ => break,
        }
    }
    tracing::info!(reprocessed, "bulk reprocessing requested through the admin API");
    let details = serde_json::json!({
        "filter": {
            "provider": query.provider, "type": query.event_type, "since": query.since, "until": query.until,
            "subject": query.subject, "q": query.q,
        },
        "confirmed": request.expected,
        "reprocessed": reprocessed,
    });
    let action_id = actions::record(&*state.storage, "reprocess_matching", None, details).await?;
    Ok(Json(Reprocessed { reprocessed, action_id: action_id.0 }))
}

/// The body of the event's delivery, byte for byte, as a download (but for credentials
/// in URLs, which the API never shows).
#[utoipa::path(get, path = "/api/events/{id}/body", params(("id" = i64, Path, description = "The event id")), responses(
    (status = 200, description = "The raw body", content_type = "application/octet-stream"),
    (status = 404, body = ApiError), (status = 401, body = ApiError)))]
pub(super) async fn event_body(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, Failure> {
    let detail =
        state.storage.event(EventId(id)).await?.ok_or_else(|| Failure::not_found(format!("event {id} not found")))?;
    let disposition = format!("attachment; filename=\"event-{id}-body.bin\"");
    Ok((
        [
            (http::header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (http::header::CONTENT_DISPOSITION, disposition),
            (http::header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        detail.delivery.body,
    )
        .into_response())
}
