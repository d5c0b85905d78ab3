//! WaVoIP webhooks to normalized [`CallEvent`]s.
//!
//! # `CALL` events
//!
//! | `status` | [`CallStatus`] |
//! |---|---|
//! | `INCOMING_RING`, `OUTGOING_RING`, `OUTGOING_CALLING`, `RINGING`, `CALLING`, `OFFER` | `Ringing` |
//! | `ACTIVE`, `ACCEPTED`, `IN_PROGRESS` | `InProgress` |
//! | `ENDED`, `FINISHED`, `COMPLETED`, `TERMINATED` | `Completed` |
//! | `REJECTED`, `BUSY` | `Busy` |
//! | `MISSED`, `NOT_ANSWERED`, `NO_ANSWER`, `TIMEOUT` | `NoAnswer` |
//! | `CANCELED`, `CANCELLED` | `Canceled` |
//! | `FAILED`, `ERROR` | `Failed` |
//! | anything else | none (kept in `provider_status`) |
//!
//! WaVoIP's webhook documentation lists `INCOMING_RING`, `OUTGOING_RING`,
//! `OUTGOING_CALLING`, `ACTIVE`, `ENDED`, `REJECTED`, `FAILED` and `NOT_ANSWERED` (and
//! `NONE`, `CONNECTING`, `CONNECTION_LOST`, `HANDLED_REMOTELY`,
//! `REMOTE_CALL_IN_PROGRESS`, whose meaning it does not give: kept, not mapped); its SDK
//! adds `RINGING` and `CALLING`; the others are names WhatsApp call states are likely
//! to take. All are matched case-insensitively. `INCOMING` is inbound, `OUTGOING` and
//! `OUTCOMING` (the documentation's spelling) outbound; `duration` (seconds) becomes
//! `duration_ms`. A `record_status` on a `CALL`
//! event is carried as on `RECORD` events.
//!
//! # Numbers
//!
//! `from` is the `CALL` event's `caller` and `to` its `receiver`, as sent (digits,
//! usually without `+`). By `direction`, the customer ([`ContactId`](crate::event::ContactId))
//! and the business number (the device's WhatsApp number) are them in E.164
//! ([`e164`](crate::event::phone::e164): `5511987650001` is `+5511987650001`):
//!
//! | `direction` | customer | business number |
//! |---|---|---|
//! | `INCOMING` | `caller` | `receiver` |
//! | `OUTGOING`, `OUTCOMING` | `receiver` | `caller` |
//! | none (an `UPDATE` may omit it), another value | none | none |
//!
//! `RECORD` events carry no numbers.
//!
//! # `RECORD` events: the call's recording
//!
//! | `record_status` | [`RecordingStatus`] |
//! |---|---|
//! | `RECORDING` | `Recording` |
//! | `MIXING` | `Processing` |
//! | `READY` | `Ready`, with `record_url` |
//! | `DISABLED` | `Disabled` |
//! | `EMPTY_RECORDING` | `Empty` |
//! | anything else | `Processing` (not final) |
//!
//! What the event is comes from [`Webhook::kind`](super::model::Webhook::kind) (a
//! repeated `type` ending in `HUMANIZED` or `ROBOTIC` is a `CALL`; a body without
//! `type` is read from its fields). Other event types become an [`UnmodeledEvent`]
//! about the call id. The call id is `whatsapp_call_id`, or a legacy `id`. The dedupe
//! key is `<call id>:<type>:<action>:<status or record status>`.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::model::{CallDirection, EventType, RecordStatus, Webhook};
use crate::event::{CallEvent, CallStatus, Direction, Event, ProviderId, Recording, RecordingStatus, UnmodeledEvent};
use crate::provider::{ParseError, ParsedEvent};
use crate::wire::borrowed::join;

/// The provider id of every WaVoIP event.
pub const PROVIDER: ProviderId = ProviderId::from_static("wavoip");

/// The normalized status of a `CALL` event's `status`.
pub fn call_status(status: &str) -> Option<CallStatus> {
    const STATUSES: [(&str, CallStatus); 23] = [
        ("INCOMING_RING", CallStatus::Ringing),
        ("OUTGOING_RING", CallStatus::Ringing),
        ("OUTGOING_CALLING", CallStatus::Ringing),
        ("RINGING", CallStatus::Ringing),
        ("CALLING", CallStatus::Ringing),
        ("OFFER", CallStatus::Ringing),
        ("ACTIVE", CallStatus::InProgress),
        ("ACCEPTED", CallStatus::InProgress),
        ("IN_PROGRESS", CallStatus::InProgress),
        ("ENDED", CallStatus::Completed),
        ("FINISHED", CallStatus::Completed),
        ("COMPLETED", CallStatus::Completed),
        ("TERMINATED", CallStatus::Completed),
        ("REJECTED", CallStatus::Busy),
        ("BUSY", CallStatus::Busy),
        ("MISSED", CallStatus::NoAnswer),
        ("NOT_ANSWERED", CallStatus::NoAnswer),
        ("NO_ANSWER", CallStatus::NoAnswer),
        ("TIMEOUT", CallStatus::NoAnswer),
        ("CANCELED", CallStatus::Canceled),
        ("CANCELLED", CallStatus::Canceled),
        ("FAILED", CallStatus::Failed),
        ("ERROR", CallStatus::Failed),
    ];
    // Case-insensitively, without an uppercased copy.
    STATUSES.iter().find(|(name, _)| name.eq_ignore_ascii_case(status)).map(|&(_, normalized)| normalized)
}

/// The normalized recording status of a `record_status`.
pub fn recording_status(status: &RecordStatus) -> RecordingStatus {
    match status {
        RecordStatus::Recording => RecordingStatus::Recording,
        RecordStatus::Mixing | RecordStatus::_Custom(_) => RecordingStatus::Processing,
        RecordStatus::Ready => RecordingStatus::Ready,
        RecordStatus::Disabled => RecordingStatus::Disabled,
        RecordStatus::EmptyRecording => RecordingStatus::Empty,
    }
}

/// The events of one webhook body.
///
/// ```
/// use callhook::event::{Event, RecordingStatus};
/// use callhook::providers::wavoip::normalize;
///
/// let body = br#"{"type":"RECORD","action":"UPDATE","whatsapp_call_id":"123","record_status":"EMPTY_RECORDING"}"#;
/// let events = normalize::events(body).unwrap();
/// let Event::Call(call) = &events[0].event else { unreachable!() };
/// assert_eq!(call.recording.as_ref().unwrap().status, RecordingStatus::Empty);
/// assert_eq!(events[0].dedupe_key, "123:RECORD:UPDATE:EMPTY_RECORDING");
/// ```
pub fn events(body: &[u8]) -> Result<Vec<ParsedEvent>, ParseError> {
    let mut webhook = Webhook::parse(body)?;
    let kind = webhook.kind().ok_or(ParseError::MissingField("type"))?;
    let action = webhook.action.as_deref().unwrap_or("-");
    let state = match kind {
        EventType::Record => webhook.record_status.as_ref().map(RecordStatus::as_str),
        _ => webhook.status.as_deref(),
    };
    let event_type = join([kind.as_str(), ".", action]);
    let Some(call_id) = webhook.call_id() else {
        if matches!(kind, EventType::_Custom(_)) {
            let mut event = UnmodeledEvent::new(PROVIDER, kind.as_str());
            event.data = serde_json::from_slice(body)?;
            let key = format!("{}:{}", kind.as_str(), hex::encode(Sha256::digest(body)));
            return Ok(vec![ParsedEvent::new(event_type, key, Event::Unmodeled(event))]);
        }
        return Err(ParseError::MissingField("whatsapp_call_id"));
    };
    let key = join([call_id, ":", kind.as_str(), ":", action, ":", state.unwrap_or("-")]);
    if let EventType::_Custom(_) = kind {
        let mut event = UnmodeledEvent::new(PROVIDER, kind.as_str());
        event.subject_id = Some(call_id.to_owned());
        event.data = serde_json::from_slice(body)?;
        return Ok(vec![ParsedEvent::new(event_type, key, Event::Unmodeled(event))]);
    }
    // A numeric id was made a string while parsing: moved, not copied.
    let call_id = webhook.whatsapp_call_id.take().or(webhook.id.take()).map(Cow::into_owned).unwrap_or_default();
    // Filled in place: a call event is large, and each move of it is a copy.
    let mut events = vec![ParsedEvent::new(event_type, key, Event::Call(CallEvent::new(PROVIDER, call_id)))];
    if let Event::Call(call) = &mut events[0].event {
        fill_call_event(call, &webhook, &kind);
    }
    Ok(events)
}

fn fill_call_event(out: &mut CallEvent, webhook: &Webhook<'_>, kind: &EventType) {
    if *kind == EventType::Call {
        out.status = webhook.status.as_deref().and_then(call_status);
        out.provider_status = webhook.status.as_deref().map(str::to_owned);
        out.direction = webhook.direction.as_ref().and_then(|d| match d {
            CallDirection::Incoming => Some(Direction::Inbound),
            CallDirection::Outgoing | CallDirection::Outcoming => Some(Direction::Outbound),
            CallDirection::_Custom(_) => None,
        });
        out.duration_ms = webhook.duration.filter(|secs| *secs > 0).map(|secs| secs.saturating_mul(1000));
        out.from = webhook.caller.as_deref().map(str::to_owned);
        out.to = webhook.receiver.as_deref().map(str::to_owned);
        out.fill_numbers_from_direction();
    }
    if let Some(status) = &webhook.record_status {
        let mut recording = Recording::new(recording_status(status));
        if *status == RecordStatus::Ready {
            recording.url = webhook.record_url.as_deref().map(str::to_owned);
        }
        out.recording = Some(recording);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_statuses_match_case_insensitively() {
        assert_eq!(call_status("active"), Some(CallStatus::InProgress));
        assert_eq!(call_status("No_Answer"), Some(CallStatus::NoAnswer));
        assert_eq!(call_status("cancelled"), Some(CallStatus::Canceled));
        assert_eq!(call_status("ACTIVE "), None);
        assert_eq!(call_status("ringing-ish"), None);
    }
}
