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

use super::model::EventName;
use crate::event::{CallEvent, CallStatus, Direction, Event, ProviderId, Recording, RecordingStatus, UnmodeledEvent};
use crate::provider::{ParseError, ParsedEvent};
use crate::providers::borrowed::{from_json, join};

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
    // One pass into a borrowed view (the event does not need `CallData::raw`).
    let webhook: view::Webhook<'_> = from_json(body)?;
    let name = webhook.event.as_str();
    let data = webhook.data.as_ref();
    match (data.and_then(|d| d.id.as_deref()), &webhook.event) {
        (Some(id), event) if !matches!(event, EventName::Other(_)) => {
            let call = call_event(event, id, data.expect("an id comes from data"));
            Ok(vec![ParsedEvent::new(name, join([id, ":", name]), Event::Call(call))])
        }
        (None, event) if !matches!(event, EventName::Other(_)) => Err(ParseError::MissingField("data.id")),
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

fn call_event(event: &EventName, id: &str, data: &view::CallData<'_>) -> CallEvent {
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
        EventName::Other(_) => {}
    }
    if let Some(url) = &data.recording_url {
        let mut recording = Recording::new(RecordingStatus::Ready);
        recording.url = Some(url.to_string());
        out.recording = Some(recording);
    }
    out
}

/// A borrowed view of a webhook body: [`Webhook`](super::model::Webhook) with
/// [`CallData`](super::model::CallData)'s fields, in its order, read the same way,
/// with strings borrowed from the body where they have no escapes.
mod view {
    use std::borrow::Cow;

    use serde::Deserialize;
    use time::OffsetDateTime;

    use super::super::model::EventName;
    use crate::providers::borrowed;
    use crate::wire::lenient;

    #[derive(Deserialize)]
    pub(super) struct Webhook<'a> {
        #[serde(deserialize_with = "borrowed::open_enum")]
        pub(super) event: EventName,
        #[serde(borrow, default)]
        pub(super) data: Option<CallData<'a>>,
    }

    #[derive(Deserialize)]
    pub(super) struct CallData<'a> {
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        pub(super) id: Option<Cow<'a, str>>,
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        pub(super) direction: Option<Cow<'a, str>>,
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        pub(super) from: Option<Cow<'a, str>>,
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        pub(super) to: Option<Cow<'a, str>>,
        #[serde(default, rename = "contact_id", deserialize_with = "lenient::ignored")]
        _contact_id: (),
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        pub(super) contact_name: Option<Cow<'a, str>>,
        #[serde(default, rename = "duration", deserialize_with = "lenient::unsigned")]
        pub(super) duration_secs: Option<u64>,
        #[serde(default, deserialize_with = "lenient::time")]
        pub(super) started_at: Option<OffsetDateTime>,
        #[serde(default, deserialize_with = "lenient::time")]
        pub(super) answered_at: Option<OffsetDateTime>,
        #[serde(default, deserialize_with = "lenient::time")]
        pub(super) ended_at: Option<OffsetDateTime>,
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        pub(super) status: Option<Cow<'a, str>>,
        #[serde(borrow, default, deserialize_with = "lenient::text")]
        pub(super) recording_url: Option<Cow<'a, str>>,
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Webhook;
    use super::*;

    #[test]
    fn the_view_reads_every_fixture_as_the_model_does() {
        let mut bodies = crate::providers::borrowed::json_fixtures("cloudtalk");
        bodies.extend([
            br#"{"event":"call.ended","data":{"id":1,"contact_id":[]}}"#.to_vec(),
            br#"{"event":"call.ended","data":null}"#.to_vec(),
            br#"{"event":"call.ended","data":[7,"OUTGOING","+1","+2",9,"Ana","60"]}"#.to_vec(),
            br#"["call.started",{"id":" 8 ","status":"In_Progress","started_at":"2026-11-28 10:30:00"}]"#.to_vec(),
        ]);
        for body in &bodies {
            let model = Webhook::parse(body);
            let view = serde_json::from_slice::<view::Webhook<'_>>(body);
            let text = String::from_utf8_lossy(body);
            match (model, view) {
                (Ok(m), Ok(v)) => {
                    assert_eq!(m.event, v.event, "{text}");
                    let (Some(m), Some(v)) = (m.data, v.data) else { continue };
                    let strings = |d: [&Option<String>; 6]| d.map(|s| s.as_deref().map(str::to_owned));
                    let view_strings =
                        |d: [&Option<std::borrow::Cow<'_, str>>; 6]| d.map(|s| s.as_deref().map(str::to_owned));
                    assert_eq!(
                        strings([&m.id, &m.direction, &m.from, &m.to, &m.contact_name, &m.status]),
                        view_strings([&v.id, &v.direction, &v.from, &v.to, &v.contact_name, &v.status]),
                        "{text}"
                    );
                    assert_eq!(m.recording_url.as_deref(), v.recording_url.as_deref(), "{text}");
                    assert_eq!(
                        (m.duration_secs, m.started_at, m.answered_at, m.ended_at),
                        (v.duration_secs, v.started_at, v.answered_at, v.ended_at),
                        "{text}"
                    );
                }
                // Positions differ: the model's are within `data`, the view's within the body.
                (Err(m), Err(v)) => {
                    let what = |e: serde_json::Error| e.to_string().split(" at line ").next().unwrap().to_owned();
                    assert_eq!(what(m), what(v), "{text}")
                }
                (m, v) => panic!("{text}: model {m:?}, view ok: {}", v.is_ok()),
            }
        }
    }
}
