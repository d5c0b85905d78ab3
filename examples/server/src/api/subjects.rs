//! What one call or message went through: its folded state, and the timeline of every
//! event about it.

use axum::Json;
use axum::extract::{Path, State};
use callhook::event::ProviderId;
use callhook::event_log::EventFilter;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, EventSummary, Failure};
use crate::AppState;

/// The most events a timeline shows.
const TIMELINE_LIMIT: usize = 1000;

/// A call's folded state.
#[utoipa::path(get, path = "/api/calls/{provider}/{id}", params(
    ("provider" = String, Path, description = "the provider's id (twilio, whatsapp, retell, ...)"),
    ("id" = String, Path, description = "The provider's call id")), responses(
    (status = 200, body = Object), (status = 404, body = ApiError)))]
pub(super) async fn get_call(
    State(state): State<AppState>,
    Path((provider, id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Failure> {
    let found = state.storage.call_state(&ProviderId::new(provider), &id).await?;
    let state = found.ok_or_else(|| Failure::not_found(format!("call {id} not found")))?;
    Ok(Json(serde_json::to_value(state).unwrap_or_default()))
}

/// A message's folded state.
#[utoipa::path(get, path = "/api/messages/{provider}/{id}", params(
    ("provider" = String, Path, description = "the provider's id (twilio, whatsapp, ...)"),
    ("id" = String, Path, description = "The provider's message id")), responses(
    (status = 200, body = Object), (status = 404, body = ApiError)))]
pub(super) async fn get_message(
    State(state): State<AppState>,
    Path((provider, id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Failure> {
    let found = state.storage.message_state(&ProviderId::new(provider), &id).await?;
    let state = found.ok_or_else(|| Failure::not_found(format!("message {id} not found")))?;
    Ok(Json(serde_json::to_value(state).unwrap_or_default()))
}

/// Every event about one call or message id, across providers, in the order the
/// providers say they happened, with each provider's folded state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// The call, message or other id.
    subject: String,
    /// The events, by the provider's time (`occurred_at`), then by arrival.
    events: Vec<EventSummary>,
    /// Each provider's folded call state, where the id is a call.
    #[schema(value_type = Vec<Object>)]
    calls: Vec<serde_json::Value>,
    /// Each provider's folded message state (with its status history), where it is a message.
    #[schema(value_type = Vec<Object>)]
    messages: Vec<serde_json::Value>,
    /// Whether there were more events than shown.
    truncated: bool,
}

/// The timeline of one call or message id.
#[utoipa::path(get, path = "/api/timeline/{id}", params(("id" = String, Path, description = "A call or message id")),
    responses((status = 200, body = Timeline), (status = 404, body = ApiError)))]
pub(super) async fn timeline(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Timeline>, Failure> {
    let mut records =
        state.storage.list_events(&EventFilter::default().subject(id.clone()).limit(TIMELINE_LIMIT)).await?;
    if records.is_empty() {
        return Err(Failure::not_found(format!("no events about {id}")));
    }
    let truncated = records.len() == TIMELINE_LIMIT;
    // Provider order: the provider's own time where given; arrival order breaks ties
    // and places events without one.
    records.sort_by_key(|record| (record.event.as_ref().and_then(|e| e.occurred_at()), record.id));
    let mut providers: Vec<ProviderId> = records.iter().map(|record| record.provider.clone()).collect();
    providers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    providers.dedup();
    let (mut calls, mut messages) = (Vec::new(), Vec::new());
    for provider in &providers {
        if let Some(call) = state.storage.call_state(provider, &id).await? {
            calls.push(serde_json::json!({ "provider": provider.as_str(), "state": call }));
        }
        if let Some(message) = state.storage.message_state(provider, &id).await? {
            messages.push(serde_json::json!({ "provider": provider.as_str(), "state": message }));
        }
    }
    let events = records.iter().map(EventSummary::from).collect();
    Ok(Json(Timeline { subject: id, events, calls, messages, truncated }))
}
