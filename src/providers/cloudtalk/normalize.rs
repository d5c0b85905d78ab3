//! CloudTalk webhooks to normalized [`CallEvent`]s.
//!
//! # Which event
//!
//! The body's `event`; else the mount path's last segment (`/webhooks/cloudtalk/call-ended`
//! is `call.ended`); else what the fields say: a missed `status` is `call.missed`, an
//! `ended_at`, `duration` or `talking_time` is `call.ended`, a `recording_url` alone is
//! `recording.uploaded`, an `answered_at` is `call.answered`, a `started_at` is
//! `call.started`. A call's data that says none of these is a `call` event (numbers,
//! contact, no status); a body with no call id at all (`id`, `call_id` or `call_uuid`),
//! or an empty body, is CloudTalk's test request: a `test` event, acknowledged and kept.
//!
//! | event | [`CallStatus`] | time (`occurred_at`) |
//! |---|---|---|
//! | `call.started` | `Ringing`, or `InProgress` when `status` says `answered`/`in_progress` | `started_at` |
//! | `call.answered` | `InProgress`, `answered_at` set | `answered_at` (or `started_at`) |
//! | `call.ended` | `Completed` with the duration (`duration`, else `talking_time`); `NoAnswer` when `status` is `missed` | `ended_at` |
//! | `call.missed` | `NoAnswer` (missed: follow up) | `ended_at` (or `started_at`) |
//! | `recording.uploaded`, `call` | none (the recording, numbers, contact) | |
//! | anything else | an [`UnmodeledEvent`] with the whole body, about the call id | |
//!
//! `direction` `inbound`/`outbound` map to the same [`Direction`]; the contact name is
//! carried; a non-empty `recording_url` is a ready recording. The call's external id is
//! `cloudtalk-<id>` ([`Event::external_id`]). The dedupe key is `<id>:<event>`.
//!
//! # Numbers
//!
//! CloudTalk sends numbers as `+E.164`, as bare digits or as JSON numbers
//! (`34612345678`); every one that reads as a phone number is written in E.164
//! ([`e164`]: `+34612345678`), anything else as sent.
//!
//! | field | first | else, outbound (`direction` `outbound`/`outgoing`) | else, inbound or no direction |
//! |---|---|---|---|
//! | `from` | the contract's `from` | `internal_number` | `external_number` |
//! | `to` | the contract's `to` | `external_number` | `internal_number` |
//! | customer ([`ContactId`]) | `external_number` | `to` | `from` |
//! | business number | `internal_number` | `from` | `to` |
//!
//! A call without a direction is taken as inbound (a CloudTalk template names the
//! customer's number `external_number` whatever the direction). A customer's number
//! that is no phone number (`anonymous`, a SIP URI) gives no customer.

use sha2::{Digest, Sha256};

use super::model::{CallData, EventName, Webhook};
use crate::event::phone::e164;
use crate::event::{
    CallEvent, CallStatus, ContactId, Direction, Event, ProviderId, Recording, RecordingStatus, UnmodeledEvent,
};
use crate::provider::{ParseError, ParsedEvent};
use crate::wire::borrowed::join;

/// The provider id of every CloudTalk event.
pub const PROVIDER: ProviderId = ProviderId::from_static("cloudtalk");

/// The events of one webhook body.
///
/// ```
/// use callhook::event::{CallStatus, Event};
/// use callhook::providers::cloudtalk::normalize;
///
/// let body = br#"{"event":"call.missed","data":{"id":771305,"direction":"inbound","duration":0}}"#;
/// let events = normalize::events(body).unwrap();
/// let Event::Call(call) = &events[0].event else { unreachable!() };
/// assert_eq!(call.status, Some(CallStatus::NoAnswer));
/// assert_eq!(events[0].event.external_id(), "cloudtalk-771305");
/// assert_eq!(events[0].dedupe_key, "771305:call.missed");
/// ```
pub fn events(body: &[u8]) -> Result<Vec<ParsedEvent>, ParseError> {
    events_at(body, None)
}

/// The events of one webhook body received at `path`: the event is the body's `event`,
/// else the path's last segment (`/webhooks/cloudtalk/call-ended`), else what the
/// fields say (see the module docs).
///
/// ```
/// use callhook::event::{CallStatus, Event};
/// use callhook::providers::cloudtalk::normalize;
///
/// let body = br#"{"call_id":1002402487,"internal_number":34910000001,"external_number":"34612345678","talking_time":95}"#;
/// let events = normalize::events_at(body, Some("/webhooks/cloudtalk/call-ended")).unwrap();
/// let Event::Call(call) = &events[0].event else { unreachable!() };
/// assert_eq!((call.call_id.as_str(), call.status), ("1002402487", Some(CallStatus::Completed)));
/// assert_eq!((call.from.as_deref(), call.to.as_deref()), (Some("+34612345678"), Some("+34910000001")));
/// assert_eq!(call.duration_ms, Some(95_000));
/// ```
pub fn events_at(body: &[u8], path: Option<&str>) -> Result<Vec<ParsedEvent>, ParseError> {
    // An empty body (a test with an empty template) is a test request too.
    if body.trim_ascii().is_empty() {
        return Ok(vec![test_event(body, serde_json::Value::Null)]);
    }
    let webhook = Webhook::parse(body)?;
    let Some(data) = webhook.data.as_ref() else { return Err(ParseError::MissingField("data")) };
    let event = webhook.event.clone().or_else(|| path.and_then(event_from_path)).or_else(|| event_from_fields(data));
    let Some(id) = data.call_id() else {
        // No call at all: CloudTalk's test request, or a template with no call variable.
        return Ok(vec![test_event(body, serde_json::from_slice(body)?)]);
    };
    match event {
        Some(event) if event.is_known() => {
            let name = event.as_str();
            let call = call_event(Some(&event), id, data);
            Ok(vec![ParsedEvent::new(name, join([id, ":", name]), Event::Call(call))])
        }
        None => {
            // A call's data with nothing saying what happened: its numbers, contact and
            // agent, no status. The same body redelivered is stored once.
            let call = call_event(None, id, data);
            let key = format!("{id}:{CALL_EVENT_TYPE}:{}", &hex::encode(Sha256::digest(body))[..16]);
            Ok(vec![ParsedEvent::new(CALL_EVENT_TYPE, key, Event::Call(call))])
        }
        Some(other) => {
            let name = other.as_str();
            let mut event = UnmodeledEvent::new(PROVIDER, name);
            event.subject_id = Some(id.to_owned());
            event.data = serde_json::from_slice(body)?;
            Ok(vec![ParsedEvent::new(name, format!("{id}:{name}"), Event::Unmodeled(event))])
        }
    }
}

/// A body with no call in it, kept as a `test` event.
fn test_event(body: &[u8], data: serde_json::Value) -> ParsedEvent {
    let mut test = UnmodeledEvent::new(PROVIDER, TEST_EVENT_TYPE);
    test.data = data;
    let key = format!("{TEST_EVENT_TYPE}:{}", hex::encode(Sha256::digest(body)));
    ParsedEvent::new(TEST_EVENT_TYPE, key, Event::Unmodeled(test))
}

/// The event type of a body with no call id (CloudTalk's test request).
pub const TEST_EVENT_TYPE: &str = "test";

/// The event type of a call's data that says nothing of what happened.
pub const CALL_EVENT_TYPE: &str = "call";

/// The event a mount path names in its last segment (`call-ended`, `call.ended`,
/// `recording_uploaded`), if it names one.
fn event_from_path(path: &str) -> Option<EventName> {
    let segment = path.trim_end_matches('/').rsplit('/').next()?;
    let name = segment.to_ascii_lowercase().replace(['-', '_'], ".");
    Some(EventName::from(name.as_str())).filter(EventName::is_known)
}

/// The event the fields imply, for a body and path that name none.
fn event_from_fields(data: &CallData<'_>) -> Option<EventName> {
    let status = data.status.as_deref();
    if is_any(status, &["missed", "no_answer", "no-answer", "unanswered"]) {
        Some(EventName::CallMissed)
    } else if data.ended_at.is_some() || data.duration_secs.is_some() || data.talking_time.is_some() {
        Some(EventName::CallEnded)
    } else if data.recording_url.is_some() {
        Some(EventName::RecordingUploaded)
    } else if data.answered_at.is_some() {
        Some(EventName::CallAnswered)
    } else if data.started_at.is_some() {
        Some(EventName::CallStarted)
    } else {
        None
    }
}

/// A number in E.164 when it reads as one (templates send JSON numbers, digits without
/// `+`), else as sent.
fn number(raw: &str) -> String {
    e164(raw).unwrap_or_else(|| raw.to_owned())
}

/// Whether `value` is one of `names`, ignoring ASCII case.
fn is_any(value: Option<&str>, names: &[&str]) -> bool {
    value.is_some_and(|value| names.iter().any(|name| name.eq_ignore_ascii_case(value)))
}

fn call_event(event: Option<&EventName>, id: &str, data: &CallData<'_>) -> CallEvent {
    let owned = |value: &Option<std::borrow::Cow<'_, str>>| value.as_deref().map(str::to_owned);
    let mut out = CallEvent::new(PROVIDER, id);
    let direction = data.direction.as_deref();
    out.direction = if is_any(direction, &["inbound", "incoming"]) {
        Some(Direction::Inbound)
    } else if is_any(direction, &["outbound", "outgoing"]) {
        Some(Direction::Outbound)
    } else {
        None
    };
    // The contract's `from`/`to`, else a template's CloudTalk and customer numbers.
    let internal = data.internal_number.as_deref();
    let external = data.external_number.as_deref();
    let outbound = out.direction == Some(Direction::Outbound);
    let (caller, callee) = if outbound { (internal, external) } else { (external, internal) };
    out.from = data.from.as_deref().or(caller).map(number);
    out.to = data.to.as_deref().or(callee).map(number);
    let (customer, business) = if outbound { (&out.to, &out.from) } else { (&out.from, &out.to) };
    out.customer = external.or(customer.as_deref()).and_then(ContactId::from_phone);
    out.business_number = internal.or(business.as_deref()).and_then(e164);
    out.contact_name = owned(&data.contact_name);
    out.provider_status = owned(&data.status);
    out.started_at = data.started_at;
    out.answered_at = data.answered_at;
    let status = data.status.as_deref();
    let Some(event) = event else {
        add_recording(&mut out, data);
        return out;
    };
    match event {
        EventName::CallStarted => {
            let answered = is_any(status, &["answered", "in_progress", "in-progress"]);
            out.status = Some(if answered { CallStatus::InProgress } else { CallStatus::Ringing });
            out.occurred_at = data.started_at;
        }
        EventName::CallAnswered => {
            out.status = Some(CallStatus::InProgress);
            out.answered_at = data.answered_at.or(data.started_at);
            out.occurred_at = out.answered_at;
        }
        EventName::CallEnded => {
            let missed = is_any(status, &["missed"]);
            out.status = Some(if missed { CallStatus::NoAnswer } else { CallStatus::Completed });
            out.ended_at = data.ended_at;
            out.duration_ms = data.duration_secs.or(data.talking_time).map(|secs| secs.saturating_mul(1000));
            out.occurred_at = data.ended_at;
        }
        EventName::CallMissed => {
            out.status = Some(CallStatus::NoAnswer);
            out.ended_at = data.ended_at;
            out.occurred_at = data.ended_at.or(data.started_at);
        }
        EventName::RecordingUploaded | EventName::_Custom(_) => {}
    }
    add_recording(&mut out, data);
    out
}

/// The recording `data` says is ready, if any.
fn add_recording(out: &mut CallEvent, data: &CallData<'_>) {
    if let Some(url) = &data.recording_url {
        let mut recording = Recording::new(RecordingStatus::Ready);
        recording.url = Some(url.to_string());
        out.recording = Some(recording);
    }
}
