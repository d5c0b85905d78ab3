//! Telnyx webhooks to normalized [`Event`]s: one per body.
//!
//! Every event's dedupe key is its `data.id` (the same in every delivery attempt, which
//! only increments `meta.attempt`), or, without one, `sha256:` and the SHA-256 of the
//! `data` object. The event type is `data.event_type` as Telnyx writes it.
//!
//! # Calls
//!
//! A call is one **leg**: its id is `call_leg_id` (in every call event, including
//! `call.recording.saved`, which has no `call_control_id`), else `call_control_id`, else
//! `call_session_id`. The session id is not used: an inbound leg and the outbound leg it
//! is bridged to share it, and folding both into one call would mix two outcomes.
//! `occurred_at` is the event's time; `start_time` is `started_at`; `from`, `to` and
//! `direction` (`incoming` inbound, `outgoing` outbound; only `call.initiated` says)
//! are carried.
//!
//! | `event_type` | [`CallStatus`] | also |
//! |---|---|---|
//! | `call.initiated`, `incoming` | `Ringing` (offered to the application, not yet answered) | `started_at` = `start_time` or the event time; contact name = `caller_id_name` |
//! | `call.initiated`, `outgoing` or no direction | `Initiated` | as above |
//! | `call.answered` | `InProgress` | `answered_at` = the event time |
//! | `call.bridged` | `InProgress` | |
//! | `call.hangup` | by `hangup_cause` (below) | `ended_at` = the event time |
//! | `call.recording.saved` | none | recording `Ready` (below) |
//! | `call.recording.error` | none | recording `Failed`, `reason` as the error message |
//! | `call.machine.detection.ended`, `call.machine.premium.detection.ended` | none | analysis `in_voicemail`: `machine` true, `human*` false, otherwise unknown |
//! | any other event | an [`UnmodeledEvent`] with the whole body | subject: the call id, or the payload's `id` |
//!
//! `provider_status` is the `hangup_cause` on hang-ups and the event type otherwise.
//!
//! # Hang-up causes
//!
//! | `hangup_cause` | [`CallStatus`] |
//! |---|---|
//! | `normal_clearing`, `time_limit` | `Completed` |
//! | `originator_cancel` | `Canceled` |
//! | `user_busy`, `call_rejected` | `Busy` (declined, as carriers report it) |
//! | `timeout`, `no_answer` | `NoAnswer` |
//! | `not_found` | `Failed` |
//! | `unspecified`, none, any cause Telnyx adds later | `Completed` (the call ended; nothing says it failed), the raw cause kept in `provider_status` |
//!
//! Busy, no-answer and failed hang-ups carry the error: the cause as its code and, when
//! Telnyx has one, the SIP response as its details (`sip 486`).
//!
//! # Recordings
//!
//! `call.recording.saved` is a ready recording: its URL is the first of
//! `public_recording_urls.mp3`, `public_recording_urls.wav`, `recording_urls.mp3`,
//! `recording_urls.wav` (the public URLs, where an account has them, do not expire; the
//! others are presigned for 10 minutes, so a download retried later than that fails),
//! with `recording_id` and the length from `recording_started_at` to
//! `recording_ended_at`. Without any URL it is `Absent`.
//!
//! # Messages
//!
//! The message id is the payload's `id`, the same in every event about a message.
//!
//! `message.received` is an inbound message from `from.phone_number` to the first
//! `to[].phone_number` (a WhatsApp message's `to` string also); its content is media
//! when `media[]` is not empty (kind from each `content_type`, `text` as the caption),
//! else text, else `Other` with the message `type`.
//!
//! `message.sent`, `message.finalized` and `message.read` are status updates. The status
//! is the most advanced of the recipients' `to[].status` (a group message with one
//! failed recipient reads as failed; every recipient's status stays in the raw payload),
//! the recipient the first `to[]` number, and `errors[]` (code, title, detail as the
//! message) the errors:
//!
//! | `to[].status` | [`MessageStatus`] |
//! |---|---|
//! | `queued`, `sending` | `Queued` |
//! | `sent` | `Sent` |
//! | `delivered` | `Delivered` |
//! | `read` | `Read` |
//! | `sending_failed`, `delivery_failed`, `expired` | `Failed` |
//! | `delivery_unconfirmed`, anything else | the value verbatim, not [`is_known`](MessageStatus::is_known) (ranks below every known status, so a `sent` already seen stays) |
//! | none | by the event: `message.sent` `Sent`, `message.read` `Read`, `message.finalized` `finalized` (unknown) |
//!
//! # Numbers
//!
//! `from`, `to`, the inbound message's `from`/`to` and the status update's `recipient`
//! keep Telnyx's values as sent. The customer ([`ContactId`]) and the business number
//! are those values in E.164 ([`e164`]), by direction:
//!
//! | event | customer | business number |
//! |---|---|---|
//! | call event with `direction` `incoming` (`call.initiated`) | `from` | `to` |
//! | call event with `direction` `outgoing` (`call.initiated`) | `to` | `from` |
//! | call event without `direction` (every other `call.*`) | none | none |
//! | `message.received` | `from.phone_number` | the first `to[].phone_number` |
//! | `message.sent`, `message.finalized`, `message.read` | the first `to[].phone_number` | `from.phone_number` |
//!
//! Only `call.initiated` says which way a call goes, so only it names the customer (a
//! call leg's `from` is the customer on an incoming leg and the business on an outgoing
//! one); the leg's other events carry none, which says nothing new. A SIP URI
//! (`sip:...`), a withheld caller (`anonymous`), a short code or an alphanumeric sender
//! id gives none.

use sha2::{Digest, Sha256};

use super::model::{
    CallDirection, CallPayload, Data, DeliveryStatus, EventType, HangupCause, MachineDetectionResult,
    MessagePayload, MessagingError, Webhook,
};
use crate::event::phone::e164;
use crate::event::{
    CallAnalysis, CallEvent, CallStatus, ContactId, Direction, Event, InboundMessage, MediaKind, MediaRef,
    MessageContent, MessageEvent, MessageKind, MessageStatus, ProviderError, ProviderId, Recording, RecordingStatus,
    StatusUpdate, UnmodeledEvent,
};
use crate::provider::{ParseError, ParsedEvent};

/// The provider id of every Telnyx event.
pub const PROVIDER: ProviderId = ProviderId::from_static("telnyx");

/// The events of one webhook body (always one).
///
/// ```
/// use callhook::event::{CallStatus, Event};
/// use callhook::providers::telnyx::normalize;
///
/// let body = br#"{"data":{"record_type":"event","id":"5e0c1a2b","event_type":"call.hangup",
///   "occurred_at":"2025-12-01T12:00:47Z","payload":{"call_leg_id":"leg-1","hangup_cause":"user_busy",
///   "sip_hangup_cause":"486"}},"meta":{"attempt":1}}"#;
/// let events = normalize::events(body).unwrap();
/// let Event::Call(call) = &events[0].event else { unreachable!() };
/// assert_eq!(call.status, Some(CallStatus::Busy));
/// assert_eq!(call.call_id, "leg-1");
/// assert_eq!(events[0].dedupe_key, "5e0c1a2b");
/// assert_eq!(events[0].event_type, "call.hangup");
/// ```
pub fn events(body: &[u8]) -> Result<Vec<ParsedEvent>, ParseError> {
    let webhook = Webhook::parse(body)?;
    let data = &webhook.data;
    let name = data.event_type.as_str();
    let key = dedupe_key(data);
    let event = if data.event_type.is_call() {
        let payload = data.call().ok_or(ParseError::MissingField("data.payload"))??;
        Event::Call(call_event(data, &payload)?)
    } else if data.event_type.is_message() {
        let payload = data.message().ok_or(ParseError::MissingField("data.payload"))??;
        Event::Message(message_event(data, &payload)?)
    } else {
        Event::Unmodeled(unmodeled(data, body)?)
    };
    Ok(vec![ParsedEvent::new(name, key, event)])
}

fn dedupe_key(data: &Data<'_>) -> String {
    match data.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => id.to_owned(),
        None => {
            let raw = data.raw.map_or("", |raw| raw.get());
            format!("sha256:{}", hex::encode(Sha256::digest(raw.as_bytes())))
        }
    }
}

/// The normalized status of a hang-up cause.
///
/// ```
/// use callhook::event::CallStatus;
/// use callhook::providers::telnyx::{model::HangupCause, normalize};
/// assert_eq!(normalize::status_for_hangup(Some(&HangupCause::OriginatorCancel)), CallStatus::Canceled);
/// assert_eq!(normalize::status_for_hangup(Some(&HangupCause::from("cause_from_2027"))), CallStatus::Completed);
/// ```
pub fn status_for_hangup(cause: Option<&HangupCause>) -> CallStatus {
    match cause {
        Some(HangupCause::OriginatorCancel) => CallStatus::Canceled,
        Some(HangupCause::UserBusy | HangupCause::CallRejected) => CallStatus::Busy,
        Some(HangupCause::Timeout | HangupCause::NoAnswer) => CallStatus::NoAnswer,
        Some(HangupCause::NotFound) => CallStatus::Failed,
        _ => CallStatus::Completed,
    }
}

/// The normalized status of a recipient's delivery status.
///
/// ```
/// use callhook::event::MessageStatus;
/// use callhook::providers::telnyx::{model::DeliveryStatus, normalize};
/// assert_eq!(normalize::message_status(&DeliveryStatus::DeliveryFailed), MessageStatus::Failed);
/// assert_eq!(normalize::message_status(&DeliveryStatus::DeliveryUnconfirmed), MessageStatus::from("delivery_unconfirmed"));
/// ```
pub fn message_status(status: &DeliveryStatus) -> MessageStatus {
    match status {
        DeliveryStatus::Queued | DeliveryStatus::Sending => MessageStatus::Queued,
        DeliveryStatus::Sent => MessageStatus::Sent,
        DeliveryStatus::Delivered => MessageStatus::Delivered,
        DeliveryStatus::Read => MessageStatus::Read,
        DeliveryStatus::SendingFailed | DeliveryStatus::DeliveryFailed | DeliveryStatus::Expired => {
            MessageStatus::Failed
        }
        other => MessageStatus::from(other.as_str()),
    }
}

/// The call event for a call webhook (`data` with its typed `payload`).
pub fn call_event(data: &Data<'_>, payload: &CallPayload<'_>) -> Result<CallEvent, ParseError> {
    let call_id = payload.call_id().ok_or(ParseError::MissingField("data.payload.call_leg_id"))?;
    let mut out = CallEvent::new(PROVIDER, call_id);
    let at = data.occurred_at;
    out.occurred_at = at;
    out.started_at = payload.start_time;
    out.from = payload.from.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    out.to = payload.to.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    out.direction = payload.direction.as_ref().and_then(|direction| match direction {
        CallDirection::Incoming => Some(Direction::Inbound),
        CallDirection::Outgoing => Some(Direction::Outbound),
        CallDirection::_Custom(_) => None,
    });
    out.fill_numbers_from_direction();
    out.provider_status = Some(data.event_type.as_str().to_owned());
    match &data.event_type {
        EventType::CallInitiated => {
            out.status = Some(match payload.direction {
                Some(CallDirection::Incoming) => CallStatus::Ringing,
                _ => CallStatus::Initiated,
            });
            out.started_at = payload.start_time.or(at);
            out.contact_name = payload.caller_id_name.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        }
        EventType::CallAnswered => {
            out.status = Some(CallStatus::InProgress);
            out.answered_at = at;
        }
        EventType::CallBridged => out.status = Some(CallStatus::InProgress),
        EventType::CallHangup => {
            let status = status_for_hangup(payload.hangup_cause.as_ref());
            out.status = Some(status);
            out.ended_at = at;
            if let Some(cause) = &payload.hangup_cause {
                out.provider_status = Some(cause.as_str().to_owned());
            }
            if matches!(status, CallStatus::Busy | CallStatus::NoAnswer | CallStatus::Failed) {
                let mut error = ProviderError::with_code(out.provider_status.clone().unwrap_or_default());
                error.details = payload
                    .sip_hangup_cause
                    .as_deref()
                    .filter(|sip| *sip != "unspecified")
                    .map(|sip| format!("sip {sip}"));
                out.error = Some(error);
            }
        }
        EventType::CallRecordingSaved => out.recording = Some(recording(payload)),
        EventType::CallRecordingError => {
            let mut recording = Recording::new(RecordingStatus::Failed);
            recording.error = Some(ProviderError {
                message: payload.reason.as_deref().map(str::to_owned),
                ..ProviderError::default()
            });
            out.recording = Some(recording);
        }
        EventType::CallMachineDetectionEnded | EventType::CallMachinePremiumDetectionEnded => {
            let in_voicemail = payload.result.as_ref().and_then(|result| match result {
                MachineDetectionResult::Machine => Some(true),
                MachineDetectionResult::Human
                | MachineDetectionResult::HumanResidence
                | MachineDetectionResult::HumanBusiness => Some(false),
                _ => None,
            });
            if let Some(result) = &payload.result {
                out.provider_status = Some(format!("{}:{result}", data.event_type));
            }
            out.analysis = in_voicemail.map(|in_voicemail| CallAnalysis {
                in_voicemail: Some(in_voicemail),
                ..CallAnalysis::default()
            });
        }
        _ => {}
    }
    Ok(out)
}

fn recording(payload: &CallPayload<'_>) -> Recording {
    let url = [&payload.public_recording_urls, &payload.recording_urls]
        .into_iter()
        .find_map(|urls| urls.as_ref().and_then(|urls| urls.preferred()));
    let mut recording = Recording::new(if url.is_some() { RecordingStatus::Ready } else { RecordingStatus::Absent });
    recording.url = url.map(str::to_owned);
    recording.recording_id = payload.recording_id.as_deref().filter(|id| !id.is_empty()).map(str::to_owned);
    // The length to the nearest second.
    recording.duration_secs = match (payload.recording_started_at, payload.recording_ended_at) {
        (Some(start), Some(end)) if end >= start => u64::try_from(((end - start).whole_milliseconds() + 500) / 1000).ok(),
        _ => None,
    };
    recording
}

/// The message event for a message webhook (`data` with its typed `payload`).
pub fn message_event(data: &Data<'_>, payload: &MessagePayload<'_>) -> Result<MessageEvent, ParseError> {
    let message_id = payload.id.as_deref().filter(|id| !id.is_empty()).ok_or(ParseError::MissingField("data.payload.id"))?;
    let first_to = payload.to.iter().find_map(|to| to.phone_number.as_deref()).map(str::to_owned);
    let sender = payload.from.as_ref().and_then(|from| from.phone_number.as_deref());
    // The customer sent a received message; the business sent the others.
    let (customer, business) = match data.event_type {
        EventType::MessageReceived => (sender, first_to.as_deref()),
        _ => (first_to.as_deref(), sender),
    };
    let customer = customer.and_then(ContactId::from_phone);
    let business_number = business.and_then(e164);
    let kind = match data.event_type {
        EventType::MessageReceived => {
            let from = sender.ok_or(ParseError::MissingField("data.payload.from.phone_number"))?;
            let mut inbound = InboundMessage::new(from, content(payload));
            inbound.to = first_to;
            MessageKind::Inbound(inbound)
        }
        _ => {
            let status = payload
                .to
                .iter()
                .filter_map(|to| to.status.as_ref().map(message_status))
                .max_by(|a, b| (a.precedence(), a.as_str()).cmp(&(b.precedence(), b.as_str())))
                .unwrap_or_else(|| match data.event_type {
                    EventType::MessageSent => MessageStatus::Sent,
                    EventType::MessageRead => MessageStatus::Read,
                    _ => MessageStatus::from("finalized"),
                });
            let mut update = StatusUpdate::new(status);
            update.recipient = first_to;
            update.errors = payload.errors.iter().map(provider_error).collect();
            MessageKind::Status(update)
        }
    };
    let mut event = MessageEvent::new(PROVIDER, message_id, kind);
    event.set_customer(customer);
    event.business_number = business_number;
    event.occurred_at = data.occurred_at.or(match data.event_type {
        EventType::MessageReceived => payload.received_at,
        _ => payload.completed_at.or(payload.sent_at),
    });
    Ok(event)
}

fn content(payload: &MessagePayload<'_>) -> MessageContent {
    let text = payload.text.as_deref().filter(|text| !text.is_empty()).map(str::to_owned);
    if !payload.media.is_empty() {
        let media = payload
            .media
            .iter()
            .map(|media| {
                let mime = media.content_type.as_deref().filter(|mime| !mime.is_empty());
                let mut out = MediaRef::new(media_kind(mime));
                out.url = media.url.as_deref().map(str::to_owned);
                out.mime_type = mime.map(str::to_owned);
                out.sha256 = media.hash_sha256.as_deref().or(media.sha256.as_deref()).map(str::to_owned);
                out
            })
            .collect();
        return MessageContent::Media { media, caption: text };
    }
    match text {
        Some(body) => MessageContent::Text { body },
        None => MessageContent::Other {
            provider_type: payload.message_type.as_ref().map_or("unknown", |t| t.as_str()).to_owned(),
        },
    }
}

fn media_kind(mime: Option<&str>) -> MediaKind {
    match mime.and_then(|mime| mime.split('/').next()) {
        Some("image") => MediaKind::Image,
        Some("audio") => MediaKind::Audio,
        Some("video") => MediaKind::Video,
        Some("application" | "text") => MediaKind::Document,
        _ => MediaKind::Other,
    }
}

fn provider_error(error: &MessagingError<'_>) -> ProviderError {
    ProviderError {
        code: error.code.as_deref().map(str::to_owned),
        title: error.title.as_deref().map(str::to_owned),
        message: error.detail.as_deref().map(str::to_owned),
        details: None,
    }
}

/// An event callhook does not normalize: its type, what it is about, when, and the
/// whole body.
fn unmodeled(data: &Data<'_>, body: &[u8]) -> Result<UnmodeledEvent, ParseError> {
    #[derive(serde::Deserialize)]
    struct Subject<'a> {
        #[serde(borrow, default, deserialize_with = "crate::wire::borrowed::option_str")]
        id: Option<std::borrow::Cow<'a, str>>,
    }
    let mut event = UnmodeledEvent::new(PROVIDER, data.event_type.as_str());
    let call_id = data.call().and_then(Result::ok).and_then(|call| call.call_id().map(str::to_owned));
    let payload_id = || {
        let raw = data.payload?;
        let subject: Subject<'_> = serde_json::from_str(raw.get()).ok()?;
        subject.id.map(|id| id.into_owned())
    };
    event.subject_id = call_id.or_else(payload_id);
    event.occurred_at = data.occurred_at;
    event.data = serde_json::from_slice(body)?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_cause_has_a_deliberate_status() {
        for (cause, status) in [
            ("normal_clearing", CallStatus::Completed),
            ("time_limit", CallStatus::Completed),
            ("originator_cancel", CallStatus::Canceled),
            ("user_busy", CallStatus::Busy),
            ("call_rejected", CallStatus::Busy),
            ("timeout", CallStatus::NoAnswer),
            ("no_answer", CallStatus::NoAnswer),
            ("not_found", CallStatus::Failed),
            ("unspecified", CallStatus::Completed),
            ("a_cause_from_2027", CallStatus::Completed),
        ] {
            assert_eq!(status_for_hangup(Some(&HangupCause::from(cause))), status, "{cause}");
        }
        assert_eq!(status_for_hangup(None), CallStatus::Completed);
    }

    #[test]
    fn every_documented_delivery_status_has_a_deliberate_status() {
        for (wire, status) in [
            ("queued", MessageStatus::Queued),
            ("sending", MessageStatus::Queued),
            ("sent", MessageStatus::Sent),
            ("delivered", MessageStatus::Delivered),
            ("read", MessageStatus::Read),
            ("sending_failed", MessageStatus::Failed),
            ("delivery_failed", MessageStatus::Failed),
            ("expired", MessageStatus::Failed),
            ("delivery_unconfirmed", MessageStatus::from("delivery_unconfirmed")),
            ("a_status_from_2027", MessageStatus::from("a_status_from_2027")),
        ] {
            assert_eq!(message_status(&DeliveryStatus::from(wire)), status, "{wire}");
        }
    }

    #[test]
    fn a_group_message_reads_as_its_most_advanced_recipient() {
        let body = br#"{"data":{"id":"e1","event_type":"message.finalized","occurred_at":"2025-12-01T12:00:09Z",
            "payload":{"id":"m1","to":[{"phone_number":"+1","status":"delivered"},{"phone_number":"+2","status":"delivery_failed"}],
            "errors":[{"code":"40008","title":"Undeliverable","detail":"The destination is unreachable."}]}}}"#;
        let events = events(body).unwrap();
        let Event::Message(message) = &events[0].event else { panic!("not a message") };
        let MessageKind::Status(update) = &message.kind else { panic!("not a status") };
        assert_eq!(update.status, MessageStatus::Failed);
        assert_eq!(update.recipient.as_deref(), Some("+1"));
        assert_eq!(update.errors[0].code.as_deref(), Some("40008"));
        assert_eq!(update.errors[0].message.as_deref(), Some("The destination is unreachable."));
        assert!(message.occurred_at.is_some());
    }

    #[test]
    fn without_an_event_id_the_key_is_the_hash_of_data() {
        let body = |attempt: u32| {
            format!(r#"{{"data":{{"event_type":"call.answered","payload":{{"call_leg_id":"l"}}}},"meta":{{"attempt":{attempt}}}}}"#)
        };
        let first = events(body(1).as_bytes()).unwrap();
        assert!(first[0].dedupe_key.starts_with("sha256:"));
        assert_eq!(first[0].dedupe_key, events(body(2).as_bytes()).unwrap()[0].dedupe_key, "a retry is a duplicate");
    }

    #[test]
    fn known_events_without_what_identifies_them_do_not_parse() {
        let cases = [
            (r#"{"data":{"id":"e","event_type":"call.hangup"}}"#, "data.payload"),
            (r#"{"data":{"id":"e","event_type":"call.hangup","payload":{"hangup_cause":"normal_clearing"}}}"#, "data.payload.call_leg_id"),
            (r#"{"data":{"id":"e","event_type":"message.sent","payload":{"to":[]}}}"#, "data.payload.id"),
            (r#"{"data":{"id":"e","event_type":"message.received","payload":{"id":"m"}}}"#, "data.payload.from.phone_number"),
        ];
        for (body, field) in cases {
            match events(body.as_bytes()) {
                Err(ParseError::MissingField(missing)) => assert_eq!(missing, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(events(br#"{"meta":{}}"#), Err(ParseError::Json(_))));
        assert!(matches!(events(b"event_type=call.hangup"), Err(ParseError::Json(_))));
    }
}
