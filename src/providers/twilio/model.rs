//! Twilio's webhook requests as typed views over their form parameters.
//!
//! Each model borrows from a [`FormParams`] and keeps it whole in `params`, so the
//! parameters callhook does not model (geographic data, `CallToken`, new ones Twilio
//! adds) stay readable. Status values Twilio adds later are kept as they came (`as_str()`, `is_known()` false), not an error.
//! Models know nothing of HTTP or storage.

use time::OffsetDateTime;

use super::FormParams;
use crate::provider::ParseError;
use crate::wire::{open_enum, parse_rfc2822, parse_rfc3339, parse_unix_secs};

open_enum! {
    /// `CallStatus` of a voice request.
    pub enum CallStatus {
        /// Waiting to be dialled.
        Queued = "queued",
        /// Dialling has started.
        Initiated = "initiated",
        /// The destination is ringing.
        Ringing = "ringing",
        /// Answered.
        InProgress = "in-progress",
        /// Ended normally after being answered.
        Completed = "completed",
        /// The destination was busy.
        Busy = "busy",
        /// Nobody answered.
        NoAnswer = "no-answer",
        /// Hung up while queued or ringing.
        Canceled = "canceled",
        /// Could not be connected (e.g. invalid number).
        Failed = "failed",
    }
}

open_enum! {
    /// `Direction` of a voice request.
    pub enum CallDirection {
        /// A call to one of the account's numbers.
        Inbound = "inbound",
        /// A call created through the REST API.
        OutboundApi = "outbound-api",
        /// A call created by `<Dial>` (the child leg of an inbound call).
        OutboundDial = "outbound-dial",
    }
}

open_enum! {
    /// `RecordingStatus` of a recording status callback.
    pub enum RecordingStatus {
        /// Recording has started.
        InProgress = "in-progress",
        /// The recording is available at its URL.
        Completed = "completed",
        /// No audio was captured; there is nothing to download.
        Absent = "absent",
        /// Recording failed.
        Failed = "failed",
    }
}

open_enum! {
    /// `MessageStatus` of a message status callback.
    pub enum MessageStatus {
        /// Accepted by a messaging service, not yet queued.
        Accepted = "accepted",
        /// Scheduled for later sending.
        Scheduled = "scheduled",
        /// A scheduled message was canceled.
        Canceled = "canceled",
        /// Queued to send.
        Queued = "queued",
        /// Being sent.
        Sending = "sending",
        /// Sent to the carrier.
        Sent = "sent",
        /// Could not be sent.
        Failed = "failed",
        /// Delivered to the handset.
        Delivered = "delivered",
        /// The carrier could not deliver it.
        Undelivered = "undelivered",
        /// An inbound message is being received.
        Receiving = "receiving",
        /// An inbound message was received.
        Received = "received",
        /// Read by the recipient (WhatsApp and RCS).
        Read = "read",
        /// Some parts were delivered (RCS).
        PartiallyDelivered = "partially_delivered",
    }
}

/// Parameters common to every voice request.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct VoiceCall<'p> {
    /// `CallSid`: `CA` and 32 hex digits.
    pub call_sid: &'p str,
    /// `AccountSid`.
    pub account_sid: Option<&'p str>,
    /// `From`: the caller.
    pub from: Option<&'p str>,
    /// `To`: the called number.
    pub to: Option<&'p str>,
    /// `CallStatus`.
    pub status: CallStatus,
    /// `Direction`.
    pub direction: Option<CallDirection>,
    /// `CallerName`, when caller-name lookup is on.
    pub caller_name: Option<&'p str>,
    /// `ForwardedFrom`.
    pub forwarded_from: Option<&'p str>,
    /// `ParentCallSid`, on child legs.
    pub parent_call_sid: Option<&'p str>,
    /// `ApiVersion`.
    pub api_version: Option<&'p str>,
}

impl<'p> VoiceCall<'p> {
    fn from_params(params: &'p FormParams<'_>) -> Result<Self, ParseError> {
        Ok(Self {
            call_sid: required(params, "CallSid")?,
            account_sid: params.non_empty("AccountSid"),
            from: params.non_empty("From"),
            to: params.non_empty("To"),
            status: CallStatus::from(required(params, "CallStatus")?),
            direction: params.non_empty("Direction").map(CallDirection::from),
            caller_name: params.non_empty("CallerName"),
            forwarded_from: params.non_empty("ForwardedFrom"),
            parent_call_sid: params.non_empty("ParentCallSid"),
            api_version: params.non_empty("ApiVersion"),
        })
    }
}

/// The "a call comes in" request, answered with TwiML.
///
/// ```
/// use callhook::providers::twilio::{FormParams, model::{CallStatus, IncomingCall}};
///
/// let params = FormParams::parse(b"CallSid=CA1&CallStatus=ringing&From=%2B1555&Direction=inbound");
/// let call = IncomingCall::from_params(&params).unwrap();
/// assert_eq!(call.call.status, CallStatus::Ringing);
/// assert_eq!(call.call.from, Some("+1555"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct IncomingCall<'p> {
    /// The call's parameters.
    pub call: VoiceCall<'p>,
    /// Every parameter received.
    pub params: &'p FormParams<'p>,
}

impl<'p> IncomingCall<'p> {
    /// Reads an incoming call from its parameters.
    pub fn from_params(params: &'p FormParams<'p>) -> Result<Self, ParseError> {
        Ok(Self { call: VoiceCall::from_params(params)?, params })
    }
}

/// A recording reference carried on a call's own status callback (`record=true`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallRecordingRef<'p> {
    /// `RecordingSid`.
    pub sid: Option<&'p str>,
    /// `RecordingUrl` (without extension).
    pub url: &'p str,
    /// `RecordingDuration`, in seconds.
    pub duration_secs: Option<u64>,
}

/// A call status callback.
///
/// ```
/// use callhook::providers::twilio::{FormParams, model::{CallStatus, CallStatusCallback}};
///
/// let params = FormParams::parse(
///     b"CallSid=CA1&CallStatus=completed&CallDuration=42&SequenceNumber=3\
///       &Timestamp=Tue%2C+01+Dec+2026+10%3A00%3A42+%2B0000&CallbackSource=call-progress-events",
/// );
/// let callback = CallStatusCallback::from_params(&params).unwrap();
/// assert_eq!(callback.call.status, CallStatus::Completed);
/// assert_eq!(callback.call_duration_secs, Some(42));
/// assert_eq!(callback.sequence_number, Some(3));
/// assert_eq!(callback.timestamp.unwrap().unix_timestamp(), 1_796_119_242);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CallStatusCallback<'p> {
    /// The call's parameters.
    pub call: VoiceCall<'p>,
    /// `CallbackSource` (`call-progress-events`).
    pub callback_source: Option<&'p str>,
    /// `SequenceNumber`: the order of this call's callbacks, from 0.
    pub sequence_number: Option<u64>,
    /// `Timestamp` (RFC 2822), when the status changed.
    pub timestamp: Option<OffsetDateTime>,
    /// `CallDuration`, in seconds (on `completed`).
    pub call_duration_secs: Option<u64>,
    /// `SipResponseCode` (SIP calls).
    pub sip_response_code: Option<u16>,
    /// `ErrorCode`, when Twilio reports one.
    pub error_code: Option<&'p str>,
    /// The recording, when the call was recorded with `record=true`.
    pub recording: Option<CallRecordingRef<'p>>,
    /// Every parameter received.
    pub params: &'p FormParams<'p>,
}

impl<'p> CallStatusCallback<'p> {
    /// Reads a call status callback from its parameters.
    pub fn from_params(params: &'p FormParams<'p>) -> Result<Self, ParseError> {
        let recording = params.non_empty("RecordingUrl").map(|url| {
            Ok::<_, ParseError>(CallRecordingRef {
                sid: params.non_empty("RecordingSid"),
                url,
                duration_secs: seconds(params, "RecordingDuration")?,
            })
        });
        Ok(Self {
            call: VoiceCall::from_params(params)?,
            callback_source: params.non_empty("CallbackSource"),
            sequence_number: number(params, "SequenceNumber")?,
            timestamp: rfc2822(params, "Timestamp")?,
            call_duration_secs: seconds(params, "CallDuration")?,
            sip_response_code: number(params, "SipResponseCode")?,
            error_code: params.non_empty("ErrorCode"),
            recording: recording.transpose()?,
            params,
        })
    }
}

/// A recording status callback.
///
/// ```
/// use callhook::providers::twilio::{FormParams, model::{RecordingStatus, RecordingStatusCallback}};
///
/// let params = FormParams::parse(
///     b"CallSid=CA1&RecordingSid=RE1&RecordingStatus=completed&RecordingDuration=7\
///       &RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FRecordings%2FRE1",
/// );
/// let callback = RecordingStatusCallback::from_params(&params).unwrap();
/// assert_eq!(callback.status, RecordingStatus::Completed);
/// assert_eq!(callback.duration_secs, Some(7));
/// assert_eq!(callback.recorded(), "CA1");
///
/// // A conference's recording names the conference, not a call.
/// let params = FormParams::parse(b"ConferenceSid=CF1&RecordingSid=RE2&RecordingStatus=completed");
/// let callback = RecordingStatusCallback::from_params(&params).unwrap();
/// assert_eq!((callback.call_sid, callback.recorded()), (None, "CF1"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RecordingStatusCallback<'p> {
    /// `AccountSid`.
    pub account_sid: Option<&'p str>,
    /// `CallSid`: the recorded call; absent for a conference's recording.
    pub call_sid: Option<&'p str>,
    /// `ConferenceSid`: the recorded conference (`<Conference record=...>`).
    pub conference_sid: Option<&'p str>,
    /// `RecordingSid`: `RE` and 32 hex digits.
    pub recording_sid: &'p str,
    /// `RecordingUrl`, without extension (`.mp3` or `.wav` chooses the format).
    pub url: Option<&'p str>,
    /// `RecordingStatus`.
    pub status: RecordingStatus,
    /// `RecordingDuration`, in seconds.
    pub duration_secs: Option<u64>,
    /// `RecordingChannels` (1 or 2).
    pub channels: Option<u8>,
    /// `RecordingSource` (`DialVerb`, `RecordVerb`, `OutboundAPI`, ...).
    pub source: Option<&'p str>,
    /// `RecordingStartTime` (RFC 2822).
    pub start_time: Option<OffsetDateTime>,
    /// `RecordingTrack` (`inbound`, `outbound`, `both`).
    pub track: Option<&'p str>,
    /// `ErrorCode`; `0` means none.
    pub error_code: Option<&'p str>,
    /// Every parameter received.
    pub params: &'p FormParams<'p>,
}

impl<'p> RecordingStatusCallback<'p> {
    /// Reads a recording status callback from its parameters: it names the recorded
    /// call (`CallSid`) or conference (`ConferenceSid`), or is refused.
    pub fn from_params(params: &'p FormParams<'p>) -> Result<Self, ParseError> {
        if params.non_empty("CallSid").is_none() && params.non_empty("ConferenceSid").is_none() {
            return Err(ParseError::MissingField("CallSid"));
        }
        Ok(Self {
            account_sid: params.non_empty("AccountSid"),
            call_sid: params.non_empty("CallSid"),
            conference_sid: params.non_empty("ConferenceSid"),
            recording_sid: required(params, "RecordingSid")?,
            url: params.non_empty("RecordingUrl"),
            status: RecordingStatus::from(required(params, "RecordingStatus")?),
            duration_secs: seconds(params, "RecordingDuration")?,
            channels: number(params, "RecordingChannels")?,
            source: params.non_empty("RecordingSource"),
            start_time: rfc2822(params, "RecordingStartTime")?,
            track: params.non_empty("RecordingTrack"),
            error_code: params.non_empty("ErrorCode").filter(|code| *code != "0"),
            params,
        })
    }

    /// What was recorded: the call (`CallSid`), or else the conference (`ConferenceSid`).
    pub fn recorded(&self) -> &'p str {
        self.call_sid.or(self.conference_sid).unwrap_or_default()
    }
}

/// A message status callback.
///
/// ```
/// use callhook::providers::twilio::{FormParams, model::{MessageStatus, MessageStatusCallback}};
///
/// let params = FormParams::parse(b"MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003");
/// let callback = MessageStatusCallback::from_params(&params).unwrap();
/// assert_eq!(callback.status, MessageStatus::Undelivered);
/// assert_eq!(callback.error_code, Some("30003"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MessageStatusCallback<'p> {
    /// `MessageSid` (`SM...` or `MM...`).
    pub message_sid: &'p str,
    /// `AccountSid`.
    pub account_sid: Option<&'p str>,
    /// `From`.
    pub from: Option<&'p str>,
    /// `To`: the recipient.
    pub to: Option<&'p str>,
    /// `MessageStatus` (or the legacy `SmsStatus`).
    pub status: MessageStatus,
    /// `ErrorCode`, on `failed` and `undelivered`.
    pub error_code: Option<&'p str>,
    /// `MessagingServiceSid`.
    pub messaging_service_sid: Option<&'p str>,
    /// Every parameter received.
    pub params: &'p FormParams<'p>,
}

impl<'p> MessageStatusCallback<'p> {
    /// Reads a message status callback from its parameters.
    pub fn from_params(params: &'p FormParams<'p>) -> Result<Self, ParseError> {
        let status = params.non_empty("MessageStatus").or(params.non_empty("SmsStatus"));
        Ok(Self {
            message_sid: message_sid(params)?,
            account_sid: params.non_empty("AccountSid"),
            from: params.non_empty("From"),
            to: params.non_empty("To"),
            status: MessageStatus::from(status.ok_or(ParseError::MissingField("MessageStatus"))?),
            error_code: params.non_empty("ErrorCode").filter(|code| *code != "0"),
            messaging_service_sid: params.non_empty("MessagingServiceSid"),
            params,
        })
    }
}

/// One attachment of an incoming message (`MediaUrlN`, `MediaContentTypeN`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Media<'p> {
    /// Where to fetch it (needs the account's credentials).
    pub url: &'p str,
    /// Its MIME type.
    pub content_type: Option<&'p str>,
}

/// An incoming SMS, MMS or WhatsApp message.
///
/// ```
/// use callhook::providers::twilio::{FormParams, model::IncomingMessage};
///
/// let params = FormParams::parse(
///     b"MessageSid=MM1&From=whatsapp%3A%2B5511999&To=whatsapp%3A%2B1555&Body=Oi&NumMedia=1\
///       &MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm%2F1&MediaContentType0=image%2Fjpeg&ProfileName=Ana&WaId=5511999",
/// );
/// let message = IncomingMessage::from_params(&params).unwrap();
/// assert_eq!(message.body, "Oi");
/// assert_eq!(message.media[0].content_type, Some("image/jpeg"));
/// assert_eq!(message.wa_id, Some("5511999"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct IncomingMessage<'p> {
    /// `MessageSid`.
    pub message_sid: &'p str,
    /// `AccountSid`.
    pub account_sid: Option<&'p str>,
    /// `MessagingServiceSid`.
    pub messaging_service_sid: Option<&'p str>,
    /// `From` (`whatsapp:+E164` for WhatsApp).
    pub from: &'p str,
    /// `To`.
    pub to: Option<&'p str>,
    /// `Body` (empty for media-only messages).
    pub body: &'p str,
    /// `NumSegments`.
    pub num_segments: Option<u32>,
    /// The attachments, `NumMedia` of them.
    pub media: Vec<Media<'p>>,
    /// `ProfileName` (WhatsApp).
    pub profile_name: Option<&'p str>,
    /// `WaId`: the sender's WhatsApp id.
    pub wa_id: Option<&'p str>,
    /// `ButtonText` (a WhatsApp quick-reply button).
    pub button_text: Option<&'p str>,
    /// `ButtonPayload`.
    pub button_payload: Option<&'p str>,
    /// `Latitude` and `Longitude` (a shared WhatsApp location).
    pub location: Option<(f64, f64)>,
    /// `Address` and `Label` of a shared location, when given.
    pub location_label: Option<&'p str>,
    /// `OriginalRepliedMessageSid`: the message this one replies to.
    pub replied_message_sid: Option<&'p str>,
    /// Every parameter received.
    pub params: &'p FormParams<'p>,
}

impl<'p> IncomingMessage<'p> {
    /// Reads an incoming message from its parameters.
    pub fn from_params(params: &'p FormParams<'p>) -> Result<Self, ParseError> {
        let num_media: u32 = number(params, "NumMedia")?.unwrap_or(0);
        // Never trust the count for allocation: read what is actually there.
        let media = (0..num_media.min(100))
            .filter_map(|i| {
                let url = params.non_empty(&format!("MediaUrl{i}"))?;
                Some(Media { url, content_type: params.non_empty(&format!("MediaContentType{i}")) })
            })
            .collect();
        let latitude: Option<f64> = number(params, "Latitude")?;
        let longitude: Option<f64> = number(params, "Longitude")?;
        Ok(Self {
            message_sid: message_sid(params)?,
            account_sid: params.non_empty("AccountSid"),
            messaging_service_sid: params.non_empty("MessagingServiceSid"),
            from: required(params, "From")?,
            to: params.non_empty("To"),
            body: params.get("Body").unwrap_or_default(),
            num_segments: number(params, "NumSegments")?,
            media,
            profile_name: params.non_empty("ProfileName"),
            wa_id: params.non_empty("WaId"),
            button_text: params.non_empty("ButtonText"),
            button_payload: params.non_empty("ButtonPayload"),
            location: latitude.zip(longitude),
            location_label: params.non_empty("Label").or(params.non_empty("Address")),
            replied_message_sid: params.non_empty("OriginalRepliedMessageSid"),
            params,
        })
    }
}

fn required<'p>(params: &'p FormParams<'_>, key: &'static str) -> Result<&'p str, ParseError> {
    params.non_empty(key).ok_or(ParseError::MissingField(key))
}

fn message_sid<'p>(params: &'p FormParams<'_>) -> Result<&'p str, ParseError> {
    params.non_empty("MessageSid").or(params.non_empty("SmsSid")).ok_or(ParseError::MissingField("MessageSid"))
}

/// An optional number: as written, or a whole number written as a float (`120.0`). One
/// that cannot be read is absent: it must not cost the callback its call.
fn number<T: std::str::FromStr>(params: &FormParams<'_>, key: &'static str) -> Result<Option<T>, ParseError> {
    let Some(value) = params.non_empty(key).map(str::trim) else { return Ok(None) };
    let whole = || {
        let float: f64 = value.parse().ok()?;
        // Whole and within i64: written back without its fraction.
        (float.fract() == 0.0 && float.abs() < 9.0e18).then(|| (float as i64).to_string())?.parse().ok()
    };
    let read = value.parse().ok().or_else(whole);
    if read.is_none() {
        tracing::debug!(field = key, "a Twilio parameter that is no number was ignored");
    }
    Ok(read)
}

/// A duration in seconds; Twilio writes `-1` while a recording is still in progress,
/// which means "not known yet".
fn seconds(params: &FormParams<'_>, key: &'static str) -> Result<Option<u64>, ParseError> {
    Ok(number::<i64>(params, key)?.and_then(|secs| u64::try_from(secs).ok()))
}

/// An optional time: RFC 2822 as Twilio writes it, or RFC 3339, or unix seconds. One
/// that cannot be read is absent.
fn rfc2822(params: &FormParams<'_>, key: &'static str) -> Result<Option<OffsetDateTime>, ParseError> {
    let Some(value) = params.non_empty(key) else { return Ok(None) };
    Ok(parse_rfc2822(value).or_else(|| parse_rfc3339(value)).or_else(|| parse_unix_secs(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_and_extra_parameters_are_kept() {
        let params = FormParams::parse(b"CallSid=CA1&CallStatus=answering-machine&FromCity=SAO+PAULO&Brand=New");
        let callback = CallStatusCallback::from_params(&params).unwrap();
        assert_eq!(callback.call.status, CallStatus::from("answering-machine"));
        assert_eq!(callback.params.get("FromCity"), Some("SAO PAULO"));
        assert_eq!(callback.params.get("Brand"), Some("New"));
    }

    #[test]
    fn unreadable_numbers_and_dates_are_absent_and_other_shapes_read() {
        let params = FormParams::parse(b"CallSid=CA1&CallStatus=completed&CallDuration=ten&Timestamp=yesterday");
        let callback = CallStatusCallback::from_params(&params).unwrap();
        assert_eq!((callback.call_duration_secs, callback.timestamp), (None, None));
        assert_eq!(callback.call.status, CallStatus::Completed, "the rest of the callback is read");
        let params =
            FormParams::parse(b"CallSid=CA1&CallStatus=completed&CallDuration=42.0&Timestamp=2026-12-01T10%3A00%3A42Z");
        let callback = CallStatusCallback::from_params(&params).unwrap();
        assert_eq!(callback.call_duration_secs, Some(42));
        assert_eq!(callback.timestamp, Some(time::macros::datetime!(2026-12-01 10:00:42 UTC)));
        let params = FormParams::parse(b"CallSid=CA1&CallStatus=completed&Timestamp=1796119242&SequenceNumber=3.0");
        let callback = CallStatusCallback::from_params(&params).unwrap();
        assert_eq!((callback.timestamp.map(|t| t.unix_timestamp()), callback.sequence_number), (Some(1_796_119_242), Some(3)));
        let params = FormParams::parse(b"CallStatus=completed");
        assert!(matches!(CallStatusCallback::from_params(&params), Err(ParseError::MissingField("CallSid"))));
    }

    #[test]
    fn a_negative_duration_means_not_known_yet() {
        let params =
            FormParams::parse(b"CallSid=CA1&RecordingSid=RE1&RecordingStatus=in-progress&RecordingDuration=-1");
        assert_eq!(RecordingStatusCallback::from_params(&params).unwrap().duration_secs, None);
    }

    #[test]
    fn media_count_larger_than_the_media_sent_is_harmless() {
        let params = FormParams::parse(b"MessageSid=MM1&From=%2B1&NumMedia=4000000000&MediaUrl0=https%3A%2F%2Fm");
        let message = IncomingMessage::from_params(&params).unwrap();
        assert_eq!(message.media.len(), 1);
    }
}
