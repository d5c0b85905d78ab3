//! Twilio requests to normalized [`Event`](crate::Event)s.
//!
//! # Calls (incoming call, call status callback)
//!
//! | Twilio `CallStatus` | [`CallStatus`] | time set from `Timestamp` |
//! |---|---|---|
//! | `queued`, `initiated` | `Initiated` | `started_at` |
//! | `ringing` | `Ringing` | `started_at` |
//! | `in-progress` | `InProgress` | `answered_at` |
//! | `completed` | `Completed` | `ended_at` |
//! | `busy` | `Busy` | `ended_at` |
//! | `no-answer` | `NoAnswer` | `ended_at` |
//! | `canceled` | `Canceled` | `ended_at` |
//! | `failed` | `Failed` | `ended_at` |
//! | anything else | none (kept in `provider_status`) | |
//!
//! `Direction` `inbound` is inbound; `outbound-api`, `outbound-dial` (and any other
//! `outbound-*`) are outbound. `CallDuration` (seconds) becomes `duration_ms`;
//! `SequenceNumber` becomes `sequence`; `ErrorCode` (or, failing that, a SIP
//! `SipResponseCode` of 400 and above) on busy, no-answer and failed calls becomes the
//! error. `RecordingUrl` on a status callback is a ready recording. The incoming-call
//! request has no `Timestamp`: its time is when callhook received it (Twilio waits for
//! the reply, so the two are the same moment).
//!
//! # Recordings (recording status callback)
//!
//! A call event for `CallSid` (a conference's recording: its `ConferenceSid`) with no
//! call status and a recording:
//!
//! | `RecordingStatus` | [`RecordingStatus`] |
//! |---|---|
//! | `in-progress` | `Recording` |
//! | `completed` | `Ready`, with `RecordingUrl`, `RecordingSid`, duration |
//! | `absent` | `Absent` (nothing to download) |
//! | `failed` | `Failed`, with `ErrorCode` |
//! | anything else | `Processing` (not final: a later callback settles it) |
//!
//! # Messages
//!
//! | `MessageStatus` | [`MessageStatus`] |
//! |---|---|
//! | `accepted`, `scheduled`, `queued`, `sending` | `Queued` |
//! | `sent` | `Sent` |
//! | `delivered` | `Delivered` |
//! | `read` | `Read` |
//! | `failed`, `undelivered` | `Failed`, with `ErrorCode` |
//! | anything else (`canceled`, `partially_delivered`, ...) | `Other`, verbatim |
//!
//! An incoming message is inbound from `From` to `To` (`whatsapp:` prefixes kept, so a
//! CRM can tell the channel), `ProfileName` as the contact name; its content is media
//! when `NumMedia > 0` (with `Body` as caption), a location when `Latitude` and
//! `Longitude` are present, a button reply when `ButtonPayload` or `ButtonText` is,
//! and text otherwise.
//!
//! # Numbers
//!
//! `from`, `to`, the inbound message's `from`/`to` and the status update's `recipient`
//! keep Twilio's values as sent. The customer ([`ContactId`]) and the business number
//! are those values in E.164 ([`e164`]: `whatsapp:` and `tel:` prefixes dropped), by
//! direction:
//!
//! | request | customer | business number |
//! |---|---|---|
//! | call, `Direction` `inbound` | `From` | `To` |
//! | call, `outbound-api`, `outbound-dial` (any `outbound-*`) | `To` | `From` |
//! | call, no or another `Direction` | none | none |
//! | recording status callback | none (no numbers) | none |
//! | incoming message | `From` (else `WaId`) | `To` |
//! | message status callback | `To` | `From` |
//!
//! A side that is no phone number gives none: a SIP URI (`sip:...`), a Twilio Client
//! identity (`client:...`), a withheld caller (`anonymous`, or the digits Twilio used to
//! write for one, `+266696687`, ...), an alphanumeric sender id or short code.

use time::OffsetDateTime;

use super::model::{
    self, CallDirection, CallStatusCallback, IncomingCall, IncomingMessage, MessageStatusCallback,
    RecordingStatusCallback, VoiceCall,
};
use crate::event::phone::e164;
use crate::event::{
    CallEvent, CallLink, CallStatus, ContactId, Direction, InboundMessage, MediaKind, MediaRef, MessageContent, MessageEvent,
    LinkVia, MessageKind, MessageStatus, ProviderError, ProviderId, Recording, RecordingStatus, StatusUpdate,
};

/// The provider id of every Twilio event.
pub const PROVIDER: ProviderId = ProviderId::from_static("twilio");

/// The normalized status of a Twilio `CallStatus`.
pub fn call_status(status: &model::CallStatus) -> Option<CallStatus> {
    use model::CallStatus as Twilio;
    Some(match status {
        Twilio::Queued | Twilio::Initiated => CallStatus::Initiated,
        Twilio::Ringing => CallStatus::Ringing,
        Twilio::InProgress => CallStatus::InProgress,
        Twilio::Completed => CallStatus::Completed,
        Twilio::Busy => CallStatus::Busy,
        Twilio::NoAnswer => CallStatus::NoAnswer,
        Twilio::Canceled => CallStatus::Canceled,
        Twilio::Failed => CallStatus::Failed,
        Twilio::_Custom(_) => return None,
    })
}

/// The normalized direction of a Twilio `Direction`.
pub fn direction(direction: &CallDirection) -> Option<Direction> {
    match direction {
        CallDirection::Inbound => Some(Direction::Inbound),
        CallDirection::OutboundApi | CallDirection::OutboundDial => Some(Direction::Outbound),
        CallDirection::_Custom(other) if other.as_str().starts_with("outbound") => Some(Direction::Outbound),
        CallDirection::_Custom(_) => None,
    }
}

/// The normalized status of a Twilio `MessageStatus`.
pub fn message_status(status: &model::MessageStatus) -> MessageStatus {
    use model::MessageStatus as Twilio;
    match status {
        Twilio::Accepted | Twilio::Scheduled | Twilio::Queued | Twilio::Sending => MessageStatus::Queued,
        Twilio::Sent => MessageStatus::Sent,
        Twilio::Delivered => MessageStatus::Delivered,
        Twilio::Read => MessageStatus::Read,
        Twilio::Failed | Twilio::Undelivered => MessageStatus::Failed,
        other => MessageStatus::from(other.as_str()),
    }
}

fn call_event(call: &VoiceCall<'_>, at: Option<OffsetDateTime>) -> CallEvent {
    let mut event = CallEvent::new(PROVIDER, call.call_sid);
    event.status = call_status(&call.status);
    event.provider_status = Some(call.status.as_str().to_owned());
    event.direction = call.direction.as_ref().and_then(direction);
    event.from = call.from.map(str::to_owned);
    event.to = call.to.map(str::to_owned);
    event.fill_numbers_from_direction();
    event.contact_name = call.caller_name.map(str::to_owned);
    // A child leg names its parent; a leg dialed to another provider's SIP URI names
    // that provider's call (Twilio answering with `<Dial><Sip>` to Retell).
    if let Some(parent) = call.parent_call_sid {
        event.links.push(CallLink::new(PROVIDER, parent, LinkVia::ParentCall));
    }
    if let Some((provider, dialed)) = call.to.and_then(crate::providers::call_dialed_at) {
        event.links.push(CallLink::new(provider, dialed, LinkVia::SipUri));
    }
    event.occurred_at = at;
    match event.status {
        Some(CallStatus::Initiated | CallStatus::Ringing) => event.started_at = at,
        Some(CallStatus::InProgress) => event.answered_at = at,
        Some(status) if status.is_terminal() => event.ended_at = at,
        _ => {}
    }
    event
}

/// The incoming-call request as a call event, at `received_at`.
pub fn incoming_call(call: &IncomingCall<'_>, received_at: OffsetDateTime) -> CallEvent {
    call_event(&call.call, Some(received_at))
}

/// A call status callback as a call event.
pub fn call_status_callback(callback: &CallStatusCallback<'_>) -> CallEvent {
    let mut event = call_event(&callback.call, callback.timestamp);
    event.sequence = callback.sequence_number;
    event.duration_ms = callback.call_duration_secs.map(|secs| secs.saturating_mul(1000));
    if matches!(event.status, Some(CallStatus::Busy | CallStatus::NoAnswer | CallStatus::Failed)) {
        event.error = match (callback.error_code, callback.sip_response_code) {
            (Some(code), _) => Some(ProviderError::with_code(code)),
            (None, Some(sip)) if sip >= 400 => {
                let mut error = ProviderError::with_code(format!("sip:{sip}"));
                error.title = Some("SIP response code".into());
                Some(error)
            }
            _ => None,
        };
    }
    if let Some(reference) = &callback.recording {
        let mut recording = Recording::new(RecordingStatus::Ready);
        recording.url = Some(reference.url.to_owned());
        recording.recording_id = reference.sid.map(str::to_owned);
        recording.duration_secs = reference.duration_secs;
        event.recording = Some(recording);
    }
    event
}

/// A recording status callback as a call event that carries only the recording.
pub fn recording_status_callback(callback: &RecordingStatusCallback<'_>) -> CallEvent {
    use model::RecordingStatus as Twilio;
    let status = match callback.status {
        Twilio::InProgress => RecordingStatus::Recording,
        Twilio::Completed => RecordingStatus::Ready,
        Twilio::Absent => RecordingStatus::Absent,
        Twilio::Failed => RecordingStatus::Failed,
        Twilio::_Custom(_) => RecordingStatus::Processing,
    };
    let mut recording = Recording::new(status);
    recording.recording_id = Some(callback.recording_sid.to_owned());
    recording.url = callback.url.map(str::to_owned);
    recording.duration_secs = callback.duration_secs;
    recording.error = callback.error_code.map(ProviderError::with_code);
    let mut event = CallEvent::new(PROVIDER, callback.recorded());
    event.recording = Some(recording);
    event
}

/// A message status callback as a status update.
pub fn message_status_callback(callback: &MessageStatusCallback<'_>) -> MessageEvent {
    let mut update = StatusUpdate::new(message_status(&callback.status));
    update.recipient = callback.to.map(str::to_owned);
    update.errors = callback.error_code.map(ProviderError::with_code).into_iter().collect();
    let mut event = MessageEvent::new(PROVIDER, callback.message_sid, MessageKind::Status(update));
    // The business sent the message: `To` is the customer.
    event.customer = callback.to.and_then(ContactId::from_phone);
    event.business_number = callback.from.and_then(e164);
    event
}

/// An incoming message as an inbound message event, at `received_at`.
pub fn incoming_message(message: &IncomingMessage<'_>, received_at: OffsetDateTime) -> MessageEvent {
    let caption = Some(message.body).filter(|body| !body.is_empty()).map(str::to_owned);
    let content = if !message.media.is_empty() {
        let media = message
            .media
            .iter()
            .map(|item| {
                let mut media = MediaRef::new(media_kind(item.content_type));
                media.url = Some(item.url.to_owned());
                media.mime_type = item.content_type.map(str::to_owned);
                media
            })
            .collect();
        MessageContent::Media { media, caption }
    } else if let Some((latitude, longitude)) = message.location {
        MessageContent::Location { latitude, longitude, name: message.location_label.map(str::to_owned), address: None }
    } else if message.button_payload.is_some() || message.button_text.is_some() {
        MessageContent::InteractiveReply {
            reply_id: message.button_payload.map(str::to_owned),
            title: message.button_text.map(str::to_owned),
            payload: None,
        }
    } else {
        MessageContent::text(message.body)
    };
    let mut inbound = InboundMessage::new(message.from, content);
    inbound.to = message.to.map(str::to_owned);
    inbound.contact_name = message.profile_name.map(str::to_owned);
    inbound.reply_to = message.replied_message_sid.map(str::to_owned);
    let mut event = MessageEvent::new(PROVIDER, message.message_sid, MessageKind::Inbound(inbound));
    event.set_customer(ContactId::from_phone(message.from).or_else(|| message.wa_id.and_then(ContactId::from_phone)));
    event.business_number = message.to.and_then(e164);
    event.occurred_at = Some(received_at);
    event
}

fn media_kind(content_type: Option<&str>) -> MediaKind {
    match content_type.and_then(|ct| ct.split('/').next()) {
        Some("image") => MediaKind::Image,
        Some("audio") => MediaKind::Audio,
        Some("video") => MediaKind::Video,
        _ => MediaKind::Document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::twilio::FormParams;
    use time::macros::datetime;

    #[test]
    fn failed_call_carries_the_sip_code_and_its_end_time() {
        let params = FormParams::parse(
            b"CallSid=CA1&CallStatus=failed&Direction=outbound-api&SipResponseCode=404\
              &Timestamp=Tue%2C+01+Dec+2026+10%3A00%3A42+%2B0000&SequenceNumber=1",
        );
        let event = call_status_callback(&CallStatusCallback::from_params(&params).unwrap());
        assert_eq!(event.status, Some(CallStatus::Failed));
        assert_eq!(event.direction, Some(Direction::Outbound));
        assert_eq!(event.ended_at, Some(datetime!(2026-12-01 10:00:42 UTC)));
        assert_eq!(event.error.unwrap().code.as_deref(), Some("sip:404"));
        assert_eq!(event.sequence, Some(1));
    }

    #[test]
    fn unknown_call_status_keeps_the_provider_value_only() {
        let params = FormParams::parse(b"CallSid=CA1&CallStatus=answered-by-robot");
        let event = call_status_callback(&CallStatusCallback::from_params(&params).unwrap());
        assert_eq!(event.status, None);
        assert_eq!(event.provider_status.as_deref(), Some("answered-by-robot"));
    }

    #[test]
    fn message_statuses_map_as_the_table_says() {
        use model::MessageStatus as T;
        let cases = [
            (T::Accepted, MessageStatus::Queued),
            (T::Sending, MessageStatus::Queued),
            (T::Sent, MessageStatus::Sent),
            (T::Delivered, MessageStatus::Delivered),
            (T::Read, MessageStatus::Read),
            (T::Undelivered, MessageStatus::Failed),
            (T::Canceled, MessageStatus::from("canceled")),
            (T::from("new"), MessageStatus::from("new")),
        ];
        for (twilio, normalized) in cases {
            assert_eq!(message_status(&twilio), normalized, "{twilio}");
        }
    }

    #[test]
    fn media_kinds_follow_the_content_type() {
        assert_eq!(media_kind(Some("image/jpeg")), MediaKind::Image);
        assert_eq!(media_kind(Some("audio/ogg")), MediaKind::Audio);
        assert_eq!(media_kind(Some("video/mp4")), MediaKind::Video);
        assert_eq!(media_kind(Some("application/pdf")), MediaKind::Document);
        assert_eq!(media_kind(None), MediaKind::Document);
    }
}
