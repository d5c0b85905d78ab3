//! Vonage Voice API event webhooks to normalized [`CallEvent`]s.
//!
//! # The call
//!
//! The call id is the **`conversation_uuid`** (`CON-...`), not the leg's `uuid`: the
//! recording event names only the conversation, and a CRM's "call" is the
//! conversation (an inbound leg and the agent leg it was connected to). Every leg's
//! events fold into it: the highest-ranked status of any leg wins (a connected leg
//! that was `busy` makes the conversation `busy`), times span the legs, and `from`/`to`
//! follow [`CallState`](crate::state::CallState)'s rule for two different values. An
//! event without `conversation_uuid` uses its leg's `uuid`.
//!
//! # Events
//!
//! | event | [`CallStatus`] | also |
//! |---|---|---|
//! | `started` | `Initiated` | `started_at` = `timestamp` |
//! | `ringing` | `Ringing` | |
//! | `answered` | `InProgress` | `answered_at` = `timestamp` |
//! | `completed` | `Completed` | `started_at` = `start_time`, `ended_at` = `end_time` (else `timestamp`), `duration_ms` = `duration` × 1000 |
//! | `busy` | `Busy` | `ended_at` = `timestamp`; error code = `detail` |
//! | `cancelled` | `Canceled` | as `busy` |
//! | `unanswered`, `timeout` | `NoAnswer` | as `busy` |
//! | `rejected`, `failed` | `Failed` | as `busy`; error code = `detail`, else the status |
//! | `disconnected` (a WebSocket leg) | none: the call goes on | |
//! | `human`, `machine` | none | `analysis.in_voicemail` = (`machine`) |
//! | recording (`recording_url`) | none | recording `Ready` with its URL, `recording_uuid` and length (`end_time` − `start_time`) |
//! | `input`, `transfer`, errors (`reason`), any other `status` | an [`UnmodeledEvent`] with the whole body | subject = the conversation (`transfer`: `conversation_uuid_to`) |
//!
//! Every call event keeps `status` verbatim in `provider_status` (`record`, `human`,
//! `machine` for those events), `direction`, `from`, `to`, and `occurred_at` =
//! `timestamp`. The event type is `status`, `record` for recordings, `error` for
//! errors.
//!
//! # Numbers
//!
//! `from` and `to` are the leg's, as Vonage writes them (digits without `+`,
//! `447700900000`; a WebSocket or SIP leg's URI). By the leg's `direction`, the customer
//! ([`ContactId`](crate::event::ContactId)) and the business number (the Vonage number)
//! are them in E.164 ([`e164`](crate::event::phone::e164): `+447700900000`):
//!
//! | leg `direction` | customer | business number |
//! |---|---|---|
//! | `inbound` | `from` | `to` |
//! | `outbound` | `to` | `from` |
//! | none (machine detection, recording, `disconnected`), another value | none | none |
//!
//! A URI (`wss://...`, `sip:...`) or `unknown` gives none. The customer is the leg's
//! other party: on an outbound leg that an inbound call's NCCO `connect`s to an agent,
//! that is the agent's number. The conversation's caller is the customer its inbound
//! leg names.
//!
//! # Dedupe keys
//!
//! `<uuid>:<status>:<timestamp in RFC 3339>` for status, machine detection, `input` and
//! `transfer` events (one conversation has several legs, each sending each status
//! once); `<recording_uuid>:record` for recordings; an event without those fields uses
//! its type and the body's SHA-256.

use sha2::{Digest, Sha256};

use super::model::{Kind, Status, Webhook};
use crate::event::{
    CallAnalysis, CallEvent, CallStatus, Direction, Event, ProviderError, ProviderId, Recording, RecordingStatus,
    UnmodeledEvent,
};
use crate::provider::{ParseError, ParsedEvent};
use crate::wire::borrowed::join;

/// The provider id of every Vonage event.
pub const PROVIDER: ProviderId = ProviderId::from_static("vonage");

/// The normalized status of a call status event (`None`: the event reports no change
/// of the call's status, e.g. `disconnected`).
///
/// ```
/// use callhook::event::CallStatus;
/// use callhook::providers::vonage::{model::Status, normalize::status_for};
/// assert_eq!(status_for(&Status::Timeout), Some(CallStatus::NoAnswer));
/// assert_eq!(status_for(&Status::Disconnected), None);
/// ```
pub fn status_for(status: &Status) -> Option<CallStatus> {
    Some(match status {
        Status::Started => CallStatus::Initiated,
        Status::Ringing => CallStatus::Ringing,
        Status::Answered => CallStatus::InProgress,
        Status::Completed => CallStatus::Completed,
        Status::Busy => CallStatus::Busy,
        Status::Cancelled => CallStatus::Canceled,
        Status::Unanswered | Status::Timeout => CallStatus::NoAnswer,
        Status::Rejected | Status::Failed => CallStatus::Failed,
        _ => return None,
    })
}

/// The event of one webhook body.
///
/// ```
/// use callhook::event::{CallStatus, Event};
/// use callhook::providers::vonage::normalize;
///
/// let body = br#"{"uuid":"63f6","conversation_uuid":"CON-f972","status":"busy","detail":"declined","timestamp":"2025-12-01T12:00:09.000Z"}"#;
/// let events = normalize::events(body).unwrap();
/// let Event::Call(call) = &events[0].event else { unreachable!() };
/// assert_eq!((call.call_id.as_str(), call.status), ("CON-f972", Some(CallStatus::Busy)));
/// assert_eq!(call.error.as_ref().unwrap().code.as_deref(), Some("declined"));
/// assert_eq!(events[0].dedupe_key, "63f6:busy:2025-12-01T12:00:09Z");
/// ```
pub fn events(body: &[u8]) -> Result<Vec<ParsedEvent>, ParseError> {
    let webhook = Webhook::parse(body)?;
    let kind = webhook.kind();
    let name = match (&kind, &webhook.status) {
        (Kind::Recording, _) => "record",
        (Kind::Error, _) => "error",
        (Kind::Transfer, None) => "transfer",
        (Kind::Input, None) => "input",
        (_, Some(status)) => status.as_str(),
        (_, None) => "unknown",
    };
    let conversation = webhook.conversation_uuid.as_deref().or(webhook.leg());
    let body_key = || join([name, ":", &hex::encode(Sha256::digest(body))]);

    let (key, event) = match kind {
        Kind::CallStatus | Kind::MachineDetection => {
            let call_id = conversation.ok_or(ParseError::MissingField("conversation_uuid"))?;
            let key = match (webhook.leg(), key_time(&webhook)) {
                (Some(leg), Some(at)) => join([leg, ":", name, ":", &at]),
                _ => body_key(),
            };
            (key, call_event(&webhook, call_id))
        }
        Kind::Recording => {
            let call_id = conversation.ok_or(ParseError::MissingField("conversation_uuid"))?;
            let key = webhook.recording_uuid.as_deref().map_or_else(body_key, |id| join([id, ":record"]));
            (key, recording_event(&webhook, call_id))
        }
        Kind::Input | Kind::Transfer | Kind::Error | Kind::Other => {
            let mut event = UnmodeledEvent::new(PROVIDER, name);
            event.subject_id = match kind {
                Kind::Transfer => webhook.conversation_uuid_to.as_deref().or(conversation),
                _ => conversation,
            }
            .map(str::to_owned);
            event.occurred_at = webhook.timestamp;
            event.data = serde_json::from_slice(body)?;
            let key = match (webhook.leg(), key_time(&webhook), &kind) {
                (Some(leg), Some(at), Kind::Input | Kind::Transfer) => join([leg, ":", name, ":", &at]),
                _ => body_key(),
            };
            return Ok(vec![ParsedEvent::new(name, key, Event::Unmodeled(event))]);
        }
    };
    Ok(vec![ParsedEvent::new(name, key, Event::Call(event))])
}

/// `timestamp` in RFC 3339: the same body always gives the same text.
fn key_time(webhook: &Webhook<'_>) -> Option<String> {
    webhook.timestamp?.format(&time::format_description::well_known::Rfc3339).ok()
}

fn base(webhook: &Webhook<'_>, call_id: &str) -> CallEvent {
    let mut out = CallEvent::new(PROVIDER, call_id);
    out.direction = webhook.direction.as_ref().and_then(|direction| match direction {
        super::model::Direction::Inbound => Some(Direction::Inbound),
        super::model::Direction::Outbound => Some(Direction::Outbound),
        super::model::Direction::_Custom(_) => None,
    });
    out.from = webhook.from.as_deref().map(str::to_owned);
    out.to = webhook.to.as_deref().map(str::to_owned);
    out.fill_numbers_from_direction();
    out.occurred_at = webhook.timestamp;
    out.provider_status = webhook.status.as_ref().map(|status| status.as_str().to_owned());
    out
}

/// The call event of a status or machine detection event.
fn call_event(webhook: &Webhook<'_>, call_id: &str) -> CallEvent {
    let mut out = base(webhook, call_id);
    let Some(status) = &webhook.status else { return out };
    out.status = status_for(status);
    match status {
        Status::Started => out.started_at = webhook.timestamp,
        Status::Answered => out.answered_at = webhook.timestamp,
        Status::Completed => {
            out.started_at = webhook.start_time;
            out.ended_at = webhook.end_time.or(webhook.timestamp);
            out.duration_ms = webhook.duration.map(|secs| secs.saturating_mul(1000));
        }
        Status::Busy | Status::Cancelled | Status::Unanswered | Status::Timeout | Status::Rejected | Status::Failed => {
            out.ended_at = webhook.timestamp;
            let code = match (&webhook.detail, status) {
                (Some(detail), _) => Some(detail.as_str()),
                (None, Status::Rejected | Status::Failed) => Some(status.as_str()),
                (None, _) => None,
            };
            out.error = code.map(ProviderError::with_code);
        }
        Status::Human | Status::Machine => {
            out.analysis =
                Some(CallAnalysis { in_voicemail: Some(*status == Status::Machine), ..CallAnalysis::default() });
        }
        _ => {}
    }
    out
}

/// The call event of a recording event: the recording is ready.
fn recording_event(webhook: &Webhook<'_>, call_id: &str) -> CallEvent {
    let mut out = base(webhook, call_id);
    out.provider_status = Some("record".to_owned());
    let mut recording = Recording::new(RecordingStatus::Ready);
    recording.url = webhook.recording_url.as_deref().map(str::to_owned);
    recording.recording_id = webhook.recording_uuid.as_deref().map(str::to_owned);
    recording.duration_secs = match (webhook.start_time, webhook.end_time) {
        (Some(start), Some(end)) if end >= start => u64::try_from((end - start).whole_seconds()).ok(),
        _ => None,
    };
    out.recording = Some(recording);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_has_a_deliberate_mapping() {
        let cases = [
            ("started", Some(CallStatus::Initiated)),
            ("ringing", Some(CallStatus::Ringing)),
            ("answered", Some(CallStatus::InProgress)),
            ("completed", Some(CallStatus::Completed)),
            ("busy", Some(CallStatus::Busy)),
            ("cancelled", Some(CallStatus::Canceled)),
            ("unanswered", Some(CallStatus::NoAnswer)),
            ("timeout", Some(CallStatus::NoAnswer)),
            ("rejected", Some(CallStatus::Failed)),
            ("failed", Some(CallStatus::Failed)),
            ("disconnected", None),
            ("human", None),
            ("machine", None),
        ];
        for (name, expected) in cases {
            assert_eq!(status_for(&Status::from(name)), expected, "{name}");
        }
    }

    #[test]
    fn redeliveries_share_a_key_and_legs_do_not() {
        let a = br#"{"uuid":"leg-a","conversation_uuid":"CON-1","status":"answered","timestamp":"2025-12-01T12:00:05.000Z"}"#;
        let b = br#"{"uuid":"leg-b","conversation_uuid":"CON-1","status":"answered","timestamp":"2025-12-01T12:00:05.000Z"}"#;
        let key = |body: &[u8]| events(body).unwrap().remove(0).dedupe_key;
        assert_eq!(key(a), key(a));
        assert_ne!(key(a), key(b));
        assert_eq!(key(a), "leg-a:answered:2025-12-01T12:00:05Z");
    }

    #[test]
    fn events_without_ids_are_parse_errors_not_panics() {
        assert!(matches!(events(br#"{"status":"ringing"}"#), Err(ParseError::MissingField("conversation_uuid"))));
        assert!(events(b"[]").is_err());
        assert!(events(b"").is_err());
    }
}
