//! Retell webhooks to normalized [`CallEvent`]s.
//!
//! # Events
//!
//! | `event` | [`CallStatus`] | also |
//! |---|---|---|
//! | `call_started` | `InProgress` | `started_at` = `answered_at` = `start_timestamp` |
//! | `call_ended` | by `disconnection_reason` (below) | end time, duration, transcript, recording |
//! | `call_analyzed` | as `call_ended` (the call object is complete) | the analysis |
//! | `transcript_updated` | `InProgress` | the transcript so far |
//! | `transfer_*` | from `call_status` | `provider_status` = the event |
//! | anything else | an [`UnmodeledEvent`] with the whole body | |
//!
//! `call_status` alone (no reason): `registered` is `Initiated`, `ongoing`
//! `InProgress`, `not_connected` and `error` `Failed`, `ended` `Completed`.
//!
//! # Disconnection reasons
//!
//! | reason | [`CallStatus`] |
//! |---|---|
//! | `dial_busy`, `user_declined` | `Busy` |
//! | `dial_no_answer`, `registered_call_timeout`, `error_user_not_joined` | `NoAnswer` |
//! | `dial_failed`, `invalid_destination`, `telephony_provider_permission_denied`, `telephony_provider_unavailable`, `sip_routing_error`, `marked_as_spam`, `concurrency_limit_reached`, `no_concurrency_fallback`, `no_valid_payment`, every `error_*` but `error_user_not_joined` | `Failed`, with the reason as the error code |
//! | `user_hangup`, `agent_hangup`, `call_transfer`, `voicemail_reached`, `ivr_reached`, `inactivity`, `max_duration_reached`, `scam_detected`, `transfer_bridged`, `transfer_cancelled`, `manual_stopped`, `call_take_over` | `Completed` |
//! | any reason Retell adds later | `Completed`, the raw reason kept in `provider_status` |
//!
//! # Numbers
//!
//! `from` and `to` are `from_number` and `to_number` as sent. By `direction`, the
//! customer ([`ContactId`](crate::event::ContactId)) and the business number are them
//! in E.164 ([`e164`](crate::event::phone::e164)):
//!
//! | `direction` | customer | business number |
//! |---|---|---|
//! | `inbound` | `from_number` | `to_number` (the agent's number) |
//! | `outbound` | `to_number` | `from_number` (the agent's number) |
//! | none (a web call), another value | none | none |
//!
//! A number that is no phone number (a SIP URI, `anonymous`) gives none.
//!
//! A `recording_url` makes the recording `Ready`. The dedupe key is
//! `<call_id>:<event>`; `transcript_updated`, sent many times per call, adds the
//! body's SHA-256 so each update is kept.

use sha2::{Digest, Sha256};

use serde::Deserialize;

use super::model::{self, Call, DisconnectionReason as Reason, EventName, UserSentiment};
use crate::event::{
    CallAnalysis, CallEvent, CallLink, CallStatus, Direction, Event, ProviderError, ProviderId, Recording, RecordingStatus,
    LinkVia, Sentiment, UnmodeledEvent,
};
use crate::provider::{ParseError, ParsedEvent};
use crate::wire::borrowed::{self, from_json, join};

/// The provider id of every Retell event.
pub const PROVIDER: ProviderId = ProviderId::from_static("retell");

/// The normalized status a disconnection reason means.
pub fn status_for_reason(reason: &Reason) -> CallStatus {
    match reason {
        Reason::DialBusy | Reason::UserDeclined => CallStatus::Busy,
        Reason::DialNoAnswer | Reason::RegisteredCallTimeout | Reason::ErrorUserNotJoined => CallStatus::NoAnswer,
        Reason::DialFailed
        | Reason::InvalidDestination
        | Reason::TelephonyProviderPermissionDenied
        | Reason::TelephonyProviderUnavailable
        | Reason::SipRoutingError
        | Reason::MarkedAsSpam
        | Reason::ConcurrencyLimitReached
        | Reason::NoConcurrencyFallback
        | Reason::NoValidPayment
        | Reason::ErrorLlmWebsocketOpen
        | Reason::ErrorLlmWebsocketLostConnection
        | Reason::ErrorLlmWebsocketRuntime
        | Reason::ErrorLlmWebsocketCorruptPayload
        | Reason::ErrorNoAudioReceived
        | Reason::ErrorAsr
        | Reason::ErrorRetell
        | Reason::ErrorUnknown => CallStatus::Failed,
        _ => CallStatus::Completed,
    }
}

fn status_for_call_status(status: &model::CallStatus) -> Option<CallStatus> {
    match status {
        model::CallStatus::Registered => Some(CallStatus::Initiated),
        model::CallStatus::Ongoing => Some(CallStatus::InProgress),
        model::CallStatus::NotConnected | model::CallStatus::Error => Some(CallStatus::Failed),
        model::CallStatus::Ended => Some(CallStatus::Completed),
        model::CallStatus::_Custom(_) => None,
    }
}

/// The events of one webhook body (one, or none for an empty body).
///
/// ```
/// use callhook::event::{CallStatus, Event};
/// use callhook::providers::retell::normalize;
///
/// let body = br#"{"event":"call_ended","call":{"call_id":"call_1","call_status":"ended","disconnection_reason":"dial_busy"}}"#;
/// let events = normalize::events(body).unwrap();
/// let Event::Call(call) = &events[0].event else { unreachable!() };
/// assert_eq!(call.status, Some(CallStatus::Busy));
/// assert_eq!(events[0].dedupe_key, "call_1:call_ended");
/// ```
pub fn events(body: &[u8]) -> Result<Vec<ParsedEvent>, ParseError> {
    // One pass: the call typed in place ([`Webhook::parse`] keeps it raw, then parses
    // it again to fill `Call::raw`, which the event does not need).
    let webhook: OnePass<'_> = from_json(body)?;
    let name = webhook.event.as_str();
    let (Some(call), false) = (&webhook.call, matches!(webhook.event, EventName::_Custom(_))) else {
        let mut event = UnmodeledEvent::new(PROVIDER, name);
        event.subject_id = webhook.call.as_ref().map(|call| call.call_id.to_string());
        event.data = serde_json::from_slice(body)?;
        let key = format!("{name}:{}", hex::encode(Sha256::digest(body)));
        return Ok(vec![ParsedEvent::new(name, key, Event::Unmodeled(event))]);
    };
    let key = match webhook.event {
        EventName::TranscriptUpdated => format!("{}:{name}:{}", call.call_id, hex::encode(Sha256::digest(body))),
        _ => join([&call.call_id, ":", name]),
    };
    Ok(vec![ParsedEvent::new(name, key, Event::Call(call_event(&webhook.event, call)))])
}

/// [`Webhook`](super::model::Webhook)'s envelope with the call typed in place.
#[derive(Deserialize)]
struct OnePass<'a> {
    #[serde(deserialize_with = "borrowed::open_enum")]
    event: EventName,
    #[serde(borrow, default)]
    call: Option<Call<'a>>,
}

/// The call event for `event` about `call`.
pub fn call_event(event: &EventName, call: &Call<'_>) -> CallEvent {
    let mut out = CallEvent::new(PROVIDER, &*call.call_id);
    out.direction = call.direction.as_ref().and_then(|d| match d {
        model::Direction::Inbound => Some(Direction::Inbound),
        model::Direction::Outbound => Some(Direction::Outbound),
        model::Direction::_Custom(_) => None,
    });
    out.from = call.from_number.as_deref().map(str::to_owned);
    out.to = call.to_number.as_deref().map(str::to_owned);
    out.fill_numbers_from_direction();
    let started = call.start_timestamp;
    let ended = call.end_timestamp;
    out.started_at = started;
    out.duration_ms = call.duration_ms;
    out.ended_at = ended;
    out.provider_status = call.call_status.as_ref().map(|s| s.as_str().to_owned());

    match event {
        EventName::CallStarted | EventName::TranscriptUpdated => {
            out.status = Some(CallStatus::InProgress);
            out.answered_at = started;
            out.occurred_at = started;
        }
        EventName::CallEnded | EventName::CallAnalyzed => {
            out.occurred_at = ended.or(started);
            match &call.disconnection_reason {
                Some(reason) => {
                    let status = status_for_reason(reason);
                    if status == CallStatus::Completed {
                        out.answered_at = started;
                    }
                    if status == CallStatus::Failed {
                        out.error = Some(ProviderError::with_code(reason.as_str()));
                    }
                    out.status = Some(status);
                    out.provider_status = Some(reason.as_str().to_owned());
                }
                None => out.status = call.call_status.as_ref().and_then(status_for_call_status),
            }
        }
        _ => {
            out.status = call.call_status.as_ref().and_then(status_for_call_status);
            out.provider_status = Some(event.as_str().to_owned());
        }
    }
    if let Some(url) = call.recording_url.as_deref().filter(|url| !url.is_empty()) {
        let mut recording = Recording::new(RecordingStatus::Ready);
        recording.url = Some(url.to_owned());
        out.recording = Some(recording);
    }
    out.analysis = analysis(call);
    out.links = links(call);
    out
}

/// The telephony call a Retell call came in on: Retell's `telephony_identifier`
/// (`{"twilio_call_sid": "CA..."}` for calls on Twilio numbers), or the caller's
/// `metadata.twilio_call_sid` (set when registering a call dialed from Twilio).
fn links(call: &Call<'_>) -> Vec<CallLink> {
    #[derive(serde::Deserialize)]
    struct TwilioSid<'a> {
        #[serde(borrow, default, deserialize_with = "crate::wire::lenient::lossy::text")]
        twilio_call_sid: Option<std::borrow::Cow<'a, str>>,
    }
    const TWILIO: ProviderId = ProviderId::from_static("twilio");
    let sid = |raw: Option<&serde_json::value::RawValue>| {
        raw.and_then(|raw| serde_json::from_str::<TwilioSid<'_>>(raw.get()).ok())
            .and_then(|ids| ids.twilio_call_sid)
            .map(std::borrow::Cow::into_owned)
    };
    let mut links = Vec::new();
    if let Some(sid) = sid(call.telephony_identifier) {
        links.push(CallLink::new(TWILIO, sid, LinkVia::TelephonyIdentifier));
    }
    if let Some(sid) = sid(call.metadata).filter(|sid| links.iter().all(|link| link.call_id != *sid)) {
        links.push(CallLink::new(TWILIO, sid, LinkVia::Metadata));
    }
    links
}

fn analysis(call: &Call<'_>) -> Option<CallAnalysis> {
    let transcript = call.transcript.as_deref().filter(|t| !t.is_empty()).map(str::to_owned);
    let Some(analysis) = &call.call_analysis else {
        return transcript.map(|transcript| CallAnalysis { transcript: Some(transcript), ..CallAnalysis::default() });
    };
    Some(CallAnalysis {
        summary: analysis.call_summary.as_deref().map(str::to_owned),
        sentiment: analysis.user_sentiment.as_ref().map(|s| match s {
            UserSentiment::Positive => Sentiment::Positive,
            UserSentiment::Neutral => Sentiment::Neutral,
            UserSentiment::Negative => Sentiment::Negative,
            UserSentiment::Unknown | UserSentiment::_Custom(_) => Sentiment::Unknown,
        }),
        successful: analysis.call_successful,
        in_voicemail: analysis.in_voicemail,
        transcript,
        custom: analysis.custom_analysis_data.and_then(|raw| serde_json::from_str(raw.get()).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_reason_has_a_deliberate_status() {
        let busy = ["dial_busy", "user_declined"];
        let no_answer = ["dial_no_answer", "registered_call_timeout", "error_user_not_joined"];
        for (name, expected) in [
            ("user_hangup", CallStatus::Completed),
            ("voicemail_reached", CallStatus::Completed),
            ("error_asr", CallStatus::Failed),
            ("sip_routing_error", CallStatus::Failed),
            ("a_reason_from_2027", CallStatus::Completed),
        ] {
            assert_eq!(status_for_reason(&Reason::from(name)), expected, "{name}");
        }
        for name in busy {
            assert_eq!(status_for_reason(&Reason::from(name)), CallStatus::Busy);
        }
        for name in no_answer {
            assert_eq!(status_for_reason(&Reason::from(name)), CallStatus::NoAnswer);
        }
    }
}
