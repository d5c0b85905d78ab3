//! What one call or message went through: its folded state, and the timeline of every
//! event about it and about the calls linked to it (one conversation across providers).

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Path, State};
use callhook::backend::event_subject;
use callhook::event::{Event, ProviderId};
use callhook::event_log::{EventFilter, EventId, EventRecord};
use serde::Serialize;
use time::OffsetDateTime;
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

/// Every event about one call or message id, and about the calls linked to it (the
/// Twilio call that answered and the Retell call it connected to are one
/// conversation), across providers, in the order the providers say they happened, with
/// each call's and message's folded state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// The call, message or other id asked for.
    subject: String,
    /// Every call or message id of the conversation, the one asked for first.
    conversation: Vec<String>,
    /// How they were joined: `{provider, call_id, linked_provider, linked_call_id, via}`,
    /// `via` one of `parent_call`, `sip_uri`, `telephony_identifier`, `metadata` (the
    /// payloads say so) or `number_and_time` (the same customer's number on two
    /// providers' calls received within two minutes of each other; a guess, shown as
    /// one).
    #[schema(value_type = Vec<Object>)]
    links: Vec<serde_json::Value>,
    /// The events, by the provider's time (`occurred_at`), then by arrival.
    events: Vec<EventSummary>,
    /// Each provider's folded call state, for every call of the conversation.
    #[schema(value_type = Vec<Object>)]
    calls: Vec<serde_json::Value>,
    /// Each provider's folded message state (with its status history), where it is a message.
    #[schema(value_type = Vec<Object>)]
    messages: Vec<serde_json::Value>,
    /// Whether there were more events (or linked calls) than shown.
    truncated: bool,
}

/// The most calls and messages one conversation joins.
const CONVERSATION_LIMIT: usize = 12;
/// How far apart two providers' calls of one customer may be received and still be
/// joined by number and time.
const NUMBER_AND_TIME_WINDOW: time::Duration = time::Duration::minutes(2);

/// The timeline of one call or message id, joined with the calls linked to it.
#[utoipa::path(get, path = "/api/timeline/{id}", params(("id" = String, Path, description = "A call or message id")),
    responses((status = 200, body = Timeline), (status = 404, body = ApiError)))]
pub(super) async fn timeline(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Timeline>, Failure> {
    let storage = &state.storage;
    let mut records: BTreeMap<EventId, EventRecord> = BTreeMap::new();
    let mut conversation: Vec<String> = vec![id.clone()];
    let mut links: Vec<serde_json::Value> = Vec::new();
    let mut truncated = false;
    // Breadth first over the links both ways: what each call's events name, and the
    // events that name it.
    let mut next = 0;
    while next < conversation.len() {
        let subject = conversation[next].clone();
        next += 1;
        for filter in
            [EventFilter::default().subject(subject.clone()), EventFilter::default().links_to(subject.clone())]
        {
            let found = storage.list_events(&filter.limit(TIMELINE_LIMIT)).await?;
            truncated |= found.len() == TIMELINE_LIMIT;
            for record in found {
                if let Some(Event::Call(call)) = &record.event {
                    for link in &call.links {
                        let via = serde_json::to_value(link.via).unwrap_or_default();
                        add_link(&mut links, (&call.provider, &call.call_id), (&link.provider, &link.call_id), via);
                    }
                    for other in std::iter::once(&call.call_id).chain(call.links.iter().map(|link| &link.call_id)) {
                        truncated |= !join(&mut conversation, other);
                    }
                }
                records.insert(record.id, record);
            }
        }
    }
    if records.is_empty() {
        return Err(Failure::not_found(format!("no events about {id}")));
    }
    // No payload said which other provider's call this was: the same customer's number
    // on another provider's call received around the same time.
    let joined_by_payloads = records.values().map(|record| &record.provider).collect::<BTreeSet<_>>().len() > 1;
    if !joined_by_payloads {
        for (provider, call_id, number, first, last) in customer_calls(&records) {
            let window = EventFilter::default()
                .contact(number.clone())
                .received_between(Some(first - NUMBER_AND_TIME_WINDOW), Some(last + NUMBER_AND_TIME_WINDOW))
                .limit(TIMELINE_LIMIT);
            for record in storage.list_events(&window).await? {
                let Some(Event::Call(call)) = &record.event else { continue };
                if call.provider == provider {
                    continue;
                }
                let via = serde_json::json!("number_and_time");
                add_link(&mut links, (&provider, &call_id), (&call.provider, &call.call_id), via);
                if join(&mut conversation, &call.call_id) {
                    let theirs = EventFilter::default().subject(call.call_id.clone()).limit(TIMELINE_LIMIT);
                    for record in storage.list_events(&theirs).await? {
                        records.insert(record.id, record);
                    }
                } else {
                    truncated = true;
                }
            }
        }
    }

    let mut records: Vec<EventRecord> = records.into_values().collect();
    // Provider order: the provider's own time where given; arrival order breaks ties
    // and places events without one.
    records.sort_by_key(|record| (record.event.as_ref().and_then(|e| e.occurred_at()), record.id));
    let mut pairs: Vec<(ProviderId, String)> = records
        .iter()
        .filter_map(|record| Some((record.provider.clone(), event_subject(record.event.as_ref()?)?.to_owned())))
        .collect();
    pairs.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    pairs.dedup();
    let (mut calls, mut messages) = (Vec::new(), Vec::new());
    for (provider, subject) in &pairs {
        if let Some(call) = storage.call_state(provider, subject).await? {
            calls.push(serde_json::json!({ "provider": provider.as_str(), "call_id": subject, "state": call }));
        }
        if let Some(message) = storage.message_state(provider, subject).await? {
            messages
                .push(serde_json::json!({ "provider": provider.as_str(), "message_id": subject, "state": message }));
        }
    }
    let events = records.iter().map(EventSummary::from).collect();
    Ok(Json(Timeline { subject: id, conversation, links, events, calls, messages, truncated }))
}

/// Adds `id` to the conversation unless it is there; `false` when it is full.
fn join(conversation: &mut Vec<String>, id: &str) -> bool {
    if conversation.iter().any(|known| known == id) {
        return true;
    }
    if conversation.len() >= CONVERSATION_LIMIT {
        return false;
    }
    conversation.push(id.to_owned());
    true
}

fn add_link(
    links: &mut Vec<serde_json::Value>,
    from: (&ProviderId, &str),
    to: (&ProviderId, &str),
    via: serde_json::Value,
) {
    let link = serde_json::json!({
        "provider": from.0.as_str(), "call_id": from.1,
        "linked_provider": to.0.as_str(), "linked_call_id": to.1, "via": via,
    });
    if !links.contains(&link) {
        links.push(link);
    }
}

/// Each call of `records` with its customer's number and the first and last time one of
/// its events was received.
fn customer_calls(
    records: &BTreeMap<EventId, EventRecord>,
) -> Vec<(ProviderId, String, String, OffsetDateTime, OffsetDateTime)> {
    let mut calls: BTreeMap<(String, String), (String, OffsetDateTime, OffsetDateTime)> = BTreeMap::new();
    for record in records.values() {
        let Some(Event::Call(call)) = &record.event else { continue };
        let Some(number) = call.customer.as_ref().and_then(|customer| customer.phone_number()) else { continue };
        let key = (call.provider.to_string(), call.call_id.clone());
        let entry = calls.entry(key).or_insert((number.to_owned(), record.received_at, record.received_at));
        entry.1 = entry.1.min(record.received_at);
        entry.2 = entry.2.max(record.received_at);
    }
    calls
        .into_iter()
        .map(|((provider, call_id), (number, first, last))| (ProviderId::new(provider), call_id, number, first, last))
        .collect()
}
