//! CloudTalk webhooks to normalized [`CallEvent`]s.
//!
//! | `event` | [`CallStatus`] | time (`occurred_at`) |
//! |---|---|---|
//! | `call.started` | `Ringing`, or `InProgress` when `status` says `answered`/`in_progress` | `started_at` |
//! | `call.answered` | `InProgress`, `answered_at` set | `answered_at` (or `started_at`) |
//! | `call.ended` | `Completed` with the duration; `NoAnswer` when `status` is `missed` | `ended_at` |
//! | `call.missed` | `NoAnswer` (missed: follow up) | `ended_at` (or `started_at`) |
//! | anything else | an [`UnmodeledEvent`] with the whole body, about `data.id` | |
//!
//! `direction` `inbound`/`outbound` map to the same [`Direction`]; the contact name is
//! carried; a non-empty `recording_url` is a ready recording. The call's external id
//! is `cloudtalk-<id>` ([`Event::external_id`]). The dedupe key is `<id>:<event>`.

use sha2::{Digest, Sha256};

use super::model::{CallData, EventName, Webhook};
use crate::event::{CallEvent, CallStatus, Direction, Event, ProviderId, Recording, RecordingStatus, UnmodeledEvent};
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
    let webhook = Webhook::parse(body)?;
    let name = webhook.event.as_str();
    let data = webhook.data.as_ref();
    match (data.and_then(|d| d.id.as_deref()), &webhook.event) {
        (Some(id), event) if !matches!(event, EventName::_Custom(_)) => {
            let call = call_event(event, id, data.expect("an id comes from data"));
            Ok(vec![ParsedEvent::new(name, join([id, ":", name]), Event::Call(call))])
        }
        (None, event) if !matches!(event, EventName::_Custom(_)) => Err(ParseError::MissingField("data.id")),
        (id, _) => {
            let mut event = UnmodeledEvent::new(PROVIDER, name);
            event.subject_id = id.map(str::to_owned);
            event.data = serde_json::from_slice(body)?;
            let key = match id {
                Some(id) => format!("{id}:{name}"),
                None => format!("{name}:{}", hex::encode(Sha256::digest(body))),
            };
            Ok(vec![ParsedEvent::new(name, key, Event::Unmodeled(event))])
        }
    }
}

/// Whether `value` is one of `names`, ignoring ASCII case.
fn is_any(value: Option<&str>, names: &[&str]) -> bool {
    value.is_some_and(|value| names.iter().any(|name| name.eq_ignore_ascii_case(value)))
}

fn call_event(event: &EventName, id: &str, data: &CallData<'_>) -> CallEvent {
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
    out.from = owned(&data.from);
    out.to = owned(&data.to);
    out.contact_name = owned(&data.contact_name);
    out.provider_status = owned(&data.status);
    out.started_at = data.started_at;
    out.answered_at = data.answered_at;
    let status = data.status.as_deref();
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
            out.duration_ms = data.duration_secs.map(|secs| secs.saturating_mul(1000));
            out.occurred_at = data.ended_at;
        }
        EventName::CallMissed => {
            out.status = Some(CallStatus::NoAnswer);
            out.ended_at = data.ended_at;
            out.occurred_at = data.ended_at.or(data.started_at);
        }
        EventName::_Custom(_) => {}
    }
    if let Some(url) = &data.recording_url {
        let mut recording = Recording::new(RecordingStatus::Ready);
        recording.url = Some(url.to_string());
        out.recording = Some(recording);
    }
    out
}
