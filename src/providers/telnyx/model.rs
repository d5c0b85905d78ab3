//! Telnyx API v2 webhook payloads: `{"data": {"record_type": "event", "id",
//! "event_type", "occurred_at", "payload": {...}}, "meta": {"attempt", "delivered_to"}}`.
//!
//! The envelope is typed and its `payload` kept raw ([`Data::payload`]); the payload is
//! typed on demand as a [`CallPayload`] (every `call.*` event shares one shape, each
//! filling the fields it has) or a [`MessagePayload`]. Shapes and enum values follow
//! the official SDK's generated types (`telnyx@7.24.0`, `resources/webhooks.d.ts` and
//! `resources/messages/messages.d.ts`). Every field is optional, unknown fields are
//! ignored (they stay in the raw payload), strings borrow from the body where they
//! have no escapes, enum values Telnyx adds later parse as a value that is not
//! [`is_known`](EventType::is_known), kept verbatim (`as_str()`).
//!
//! Every optional field is read leniently (issue 21): `null` for any field or list,
//! numbers as floats or strings, text as numbers, times as RFC 3339 (also with a space
//! for the `T`), other ISO 8601, or unix seconds or milliseconds; a value that still
//! cannot be read (`"start_time": "yesterday"`, `"parts": {}`) reads as absent rather
//! than failing the whole event. Only `data.event_type` is required by the model; the
//! normalizer also needs a call id, or a message id (and the sender, inbound).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::wire::borrowed::{self, from_json};
use crate::wire::{lenient, open_enum};

open_enum! {
    /// `data.event_type`: the events callhook normalizes (every other one parses as an
    /// unknown value, kept verbatim: read it with `as_str()`).
    pub enum EventType {
        /// A call leg was created: an incoming call arrived, or a dial began.
        CallInitiated = "call.initiated",
        /// The leg was answered.
        CallAnswered = "call.answered",
        /// The leg was bridged to another.
        CallBridged = "call.bridged",
        /// The leg ended.
        CallHangup = "call.hangup",
        /// A recording is ready to download.
        CallRecordingSaved = "call.recording.saved",
        /// Recording failed.
        CallRecordingError = "call.recording.error",
        /// Answering-machine detection finished.
        CallMachineDetectionEnded = "call.machine.detection.ended",
        /// Premium answering-machine detection finished.
        CallMachinePremiumDetectionEnded = "call.machine.premium.detection.ended",
        /// A message arrived at one of the account's numbers.
        MessageReceived = "message.received",
        /// A sent message was handed to the carrier.
        MessageSent = "message.sent",
        /// A sent message reached a final status.
        MessageFinalized = "message.finalized",
        /// A sent message (RCS, WhatsApp) was read.
        MessageRead = "message.read",
    }
}

impl EventType {
    /// Whether the payload is a call's ([`CallPayload`]).
    pub fn is_call(&self) -> bool {
        matches!(
            self,
            Self::CallInitiated
                | Self::CallAnswered
                | Self::CallBridged
                | Self::CallHangup
                | Self::CallRecordingSaved
                | Self::CallRecordingError
                | Self::CallMachineDetectionEnded
                | Self::CallMachinePremiumDetectionEnded
        )
    }

    /// Whether the payload is a message's ([`MessagePayload`]).
    pub fn is_message(&self) -> bool {
        matches!(self, Self::MessageReceived | Self::MessageSent | Self::MessageFinalized | Self::MessageRead)
    }
}

open_enum! {
    /// A call's `direction`.
    pub enum CallDirection {
        /// To one of the account's numbers or SIP connections.
        Incoming = "incoming",
        /// Dialed by the account.
        Outgoing = "outgoing",
    }
}

open_enum! {
    /// `hangup_cause` of `call.hangup`.
    pub enum HangupCause {
        /// The callee declined (SIP 603 and the like).
        CallRejected = "call_rejected",
        /// A normal hang-up after the call was answered.
        NormalClearing = "normal_clearing",
        /// The caller hung up before it was answered.
        OriginatorCancel = "originator_cancel",
        /// Nobody answered in time.
        Timeout = "timeout",
        /// The call reached its time limit.
        TimeLimit = "time_limit",
        /// The callee was busy.
        UserBusy = "user_busy",
        /// The destination does not exist.
        NotFound = "not_found",
        /// Nobody answered.
        NoAnswer = "no_answer",
        /// Telnyx does not say.
        Unspecified = "unspecified",
    }
}

open_enum! {
    /// `hangup_source` of `call.hangup`: who ended the call.
    pub enum HangupSource {
        /// The caller.
        Caller = "caller",
        /// The callee.
        Callee = "callee",
        /// Telnyx does not know.
        Unknown = "unknown",
    }
}

open_enum! {
    /// `result` of (premium) answering-machine detection.
    pub enum MachineDetectionResult {
        /// A person answered.
        Human = "human",
        /// A machine answered.
        Machine = "machine",
        /// Detection could not tell.
        NotSure = "not_sure",
        /// A person at a residence (premium).
        HumanResidence = "human_residence",
        /// A person at a business (premium).
        HumanBusiness = "human_business",
        /// Silence (premium).
        Silence = "silence",
        /// A fax machine (premium).
        FaxDetected = "fax_detected",
    }
}

open_enum! {
    /// `channels` of a recording.
    pub enum RecordingChannels {
        /// Both parties mixed.
        Single = "single",
        /// One channel per party.
        Dual = "dual",
    }
}

open_enum! {
    /// A message's `direction`.
    pub enum MessageDirection {
        /// Sent to the account.
        Inbound = "inbound",
        /// Sent by the account.
        Outbound = "outbound",
    }
}

open_enum! {
    /// A message's `type`.
    pub enum MessageType {
        /// SMS.
        Sms = "SMS",
        /// MMS.
        Mms = "MMS",
        /// WhatsApp.
        Whatsapp = "WHATSAPP",
        /// RCS.
        Rcs = "RCS",
    }
}

open_enum! {
    /// A recipient's (or sender's) `status`.
    pub enum DeliveryStatus {
        /// Accepted, waiting to be sent.
        Queued = "queued",
        /// Being sent to the carrier.
        Sending = "sending",
        /// Handed to the carrier.
        Sent = "sent",
        /// The carrier confirmed delivery.
        Delivered = "delivered",
        /// Read (RCS, WhatsApp).
        Read = "read",
        /// Telnyx could not send it.
        SendingFailed = "sending_failed",
        /// The carrier could not deliver it.
        DeliveryFailed = "delivery_failed",
        /// Sent, and the carrier never confirmed delivery.
        DeliveryUnconfirmed = "delivery_unconfirmed",
        /// Not sent before its `valid_until`.
        Expired = "expired",
        /// An inbound message, received.
        Received = "received",
        /// An inbound message, delivered to the webhook.
        WebhookDelivered = "webhook_delivered",
    }
}

/// A webhook body.
///
/// ```
/// use callhook::providers::telnyx::model::{EventType, Webhook};
/// let body = br#"{"data":{"record_type":"event","id":"0ccc7b54","event_type":"call.answered",
///   "occurred_at":"2025-12-01T12:00:05.123456Z","payload":{"call_leg_id":"428c31b6","from":"+15550001"}},
///   "meta":{"attempt":2,"delivered_to":"https://crm.example.com/webhooks/telnyx"}}"#;
/// let webhook = Webhook::parse(body).unwrap();
/// assert_eq!(webhook.data.event_type, EventType::CallAnswered);
/// assert_eq!(webhook.meta.unwrap().attempt, Some(2));
/// let call = webhook.data.call().unwrap().unwrap();
/// assert_eq!(call.call_leg_id.as_deref(), Some("428c31b6"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// The event.
    pub data: Data<'a>,
    /// About this delivery.
    pub meta: Option<Meta<'a>>,
}

impl<'a> Webhook<'a> {
    /// Parses a body (its `data` is required).
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            data: &'a RawValue,
            #[serde(borrow, default)]
            meta: Option<Meta<'a>>,
        }
        let envelope: Envelope<'a> = from_json(body)?;
        Ok(Self { data: Data::parse(envelope.data)?, meta: envelope.meta })
    }
}

/// `data`: one event.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Data<'a> {
    /// `event` for events.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub record_type: Option<Cow<'a, str>>,
    /// The event's id (a UUID), the same in every delivery attempt.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub id: Option<Cow<'a, str>>,
    /// What happened.
    #[serde(deserialize_with = "borrowed::open_enum")]
    pub event_type: EventType,
    /// When it happened.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub occurred_at: Option<OffsetDateTime>,
    /// The event's payload, as received.
    #[serde(borrow, default)]
    pub payload: Option<&'a RawValue>,
    /// The whole `data` object, as received.
    #[serde(skip)]
    pub raw: Option<&'a RawValue>,
}

impl<'a> Data<'a> {
    /// Parses a raw `data` object, keeping it in `raw`.
    pub fn parse(raw: &'a RawValue) -> Result<Self, serde_json::Error> {
        let mut data: Self = serde_json::from_str(raw.get())?;
        data.raw = Some(raw);
        Ok(data)
    }

    /// The payload as a call's, for every `call.*` event (those callhook normalizes,
    /// [`EventType::is_call`], and the others, which share the call ids); `None` for
    /// other events or without a payload.
    pub fn call(&self) -> Option<Result<CallPayload<'a>, serde_json::Error>> {
        let raw = self.payload.filter(|_| self.event_type.is_call() || self.event_type.as_str().starts_with("call."))?;
        Some(serde_json::from_str(raw.get()))
    }

    /// The payload as a message's, for `message.*` events ([`EventType::is_message`]);
    /// `None` for other events or without a payload.
    pub fn message(&self) -> Option<Result<MessagePayload<'a>, serde_json::Error>> {
        let raw = self.payload.filter(|_| self.event_type.is_message())?;
        Some(serde_json::from_str(raw.get()))
    }
}

/// `meta`: about this delivery.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Meta<'a> {
    /// Which delivery attempt this is, from 1.
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub attempt: Option<u64>,
    /// The URL it was sent to.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub delivered_to: Option<Cow<'a, str>>,
}

/// The payload of a `call.*` event: the fields every call event shares, and those of
/// hang-ups, recordings and answering-machine detection.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CallPayload<'a> {
    /// The id commands are sent to (`v3:...`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub call_control_id: Option<Cow<'a, str>>,
    /// The id of this call leg, the same in every event about it.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub call_leg_id: Option<Cow<'a, str>>,
    /// The id of the session the leg belongs to (an inbound leg and the outbound leg it
    /// was bridged or transferred to share it).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub call_session_id: Option<Cow<'a, str>>,
    /// The Call Control application (connection) id.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub connection_id: Option<Cow<'a, str>>,
    /// The state given with the last command (base64), echoed back.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub client_state: Option<Cow<'a, str>>,
    /// The number or SIP URI placing the call.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub from: Option<Cow<'a, str>>,
    /// The number or SIP URI called.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub to: Option<Cow<'a, str>>,
    /// The caller's name (`call.initiated`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub caller_id_name: Option<Cow<'a, str>>,
    /// Incoming or outgoing (`call.initiated`).
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub direction: Option<CallDirection>,
    /// `parked`, `bridging`, `answered`, `hangup`, ...
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub state: Option<Cow<'a, str>>,
    /// When the call started.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub start_time: Option<OffsetDateTime>,
    /// Why it ended (`call.hangup`).
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub hangup_cause: Option<HangupCause>,
    /// Who ended it (`call.hangup`).
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub hangup_source: Option<HangupSource>,
    /// The SIP response code that ended it, or `unspecified` (`call.hangup`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub sip_hangup_cause: Option<Cow<'a, str>>,
    /// Answering-machine detection's result.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub result: Option<MachineDetectionResult>,
    /// The recording's id (`call.recording.saved`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub recording_id: Option<Cow<'a, str>>,
    /// Single or dual channel (`call.recording.saved`).
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub channels: Option<RecordingChannels>,
    /// `mp3` or `wav` (`call.recording.saved`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub format: Option<Cow<'a, str>>,
    /// When recording started.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub recording_started_at: Option<OffsetDateTime>,
    /// When recording ended.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub recording_ended_at: Option<OffsetDateTime>,
    /// The recording's presigned URLs, valid for 10 minutes.
    #[serde(borrow, default)]
    pub recording_urls: Option<RecordingUrls<'a>>,
    /// The recording's lasting URLs, for accounts that have them enabled.
    #[serde(borrow, default)]
    pub public_recording_urls: Option<RecordingUrls<'a>>,
    /// What went wrong (`call.recording.error`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub reason: Option<Cow<'a, str>>,
}

impl<'a> CallPayload<'a> {
    /// The id callhook files the call under: the leg's `call_leg_id`, or failing that
    /// `call_control_id`, or `call_session_id`.
    pub fn call_id(&self) -> Option<&str> {
        [&self.call_leg_id, &self.call_control_id, &self.call_session_id]
            .into_iter()
            .find_map(|id| id.as_deref().filter(|id| !id.is_empty()))
    }
}

/// A recording's URLs by format; `null` where that format was not made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RecordingUrls<'a> {
    /// MP3.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub mp3: Option<Cow<'a, str>>,
    /// WAV.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub wav: Option<Cow<'a, str>>,
}

impl RecordingUrls<'_> {
    /// The MP3 URL, else the WAV one (empty ones do not count).
    pub fn preferred(&self) -> Option<&str> {
        [&self.mp3, &self.wav].into_iter().find_map(|url| url.as_deref().filter(|url| !url.is_empty()))
    }
}

/// The payload of a `message.*` event.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct MessagePayload<'a> {
    /// The message's id (a UUID): the same in every event about it.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub id: Option<Cow<'a, str>>,
    /// Inbound or outbound.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub direction: Option<MessageDirection>,
    /// SMS, MMS, WhatsApp, RCS.
    #[serde(default, rename = "type", deserialize_with = "lenient::lossy::open_enum")]
    pub message_type: Option<MessageType>,
    /// The messaging profile.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub messaging_profile_id: Option<Cow<'a, str>>,
    /// The sender.
    #[serde(borrow, default)]
    pub from: Option<Party<'a>>,
    /// The recipients, each with its delivery status (a WhatsApp inbound message gives
    /// one number as a string: read as one recipient).
    #[serde(borrow, default, deserialize_with = "parties")]
    pub to: Vec<Party<'a>>,
    /// Copied recipients (group MMS).
    #[serde(borrow, default, deserialize_with = "parties")]
    pub cc: Vec<Party<'a>>,
    /// The text.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub text: Option<Cow<'a, str>>,
    /// An MMS subject.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub subject: Option<Cow<'a, str>>,
    /// Attachments.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub media: Vec<Media<'a>>,
    /// Why delivery failed or is unconfirmed.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub errors: Vec<MessagingError<'a>>,
    /// The encoding (`GSM-7`, `UCS-2`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub encoding: Option<Cow<'a, str>>,
    /// How many parts it was split into.
    #[serde(default, deserialize_with = "parts")]
    pub parts: Option<u32>,
    /// When Telnyx received the request (outbound) or the message (inbound).
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub received_at: Option<OffsetDateTime>,
    /// When it was sent.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub sent_at: Option<OffsetDateTime>,
    /// When it reached its final status.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub completed_at: Option<OffsetDateTime>,
    /// START, STOP, HELP: the keyword an automatic reply answered.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub autoresponse_type: Option<Cow<'a, str>>,
}

/// A sender or recipient.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Party<'a> {
    /// The number (+E.164), short code or alphanumeric sender id.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub phone_number: Option<Cow<'a, str>>,
    /// The delivery status to this recipient.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub status: Option<DeliveryStatus>,
    /// The carrier.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub carrier: Option<Cow<'a, str>>,
    /// `Wireless`, `Wireline`, `VoIP`, ...
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub line_type: Option<Cow<'a, str>>,
    /// An RCS agent's id.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub agent_id: Option<Cow<'a, str>>,
}

/// An attachment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Media<'a> {
    /// Where Telnyx serves it.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub url: Option<Cow<'a, str>>,
    /// Its MIME type.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub content_type: Option<Cow<'a, str>>,
    /// Its SHA-256, as outbound messages name it.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub sha256: Option<Cow<'a, str>>,
    /// Its SHA-256, as inbound messages name it.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub hash_sha256: Option<Cow<'a, str>>,
    /// Its size in bytes.
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub size: Option<u64>,
}

/// One of a message's `errors`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MessagingError<'a> {
    /// Telnyx's error code (`40008`), a string or a number.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub code: Option<Cow<'a, str>>,
    /// A short title.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub title: Option<Cow<'a, str>>,
    /// What happened.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub detail: Option<Cow<'a, str>>,
}

/// A part count, dropped when unreadable or out of range.
fn parts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(lenient::lossy::unsigned(deserializer)?.and_then(|n| u32::try_from(n).ok()))
}

/// Parties as a list, one party object, one number as a string or a JSON number, or
/// `null`; anything else (a boolean) is none.
fn parties<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Party<'de>>, D::Error> {
    struct PartiesVisitor;

    impl<'de> Visitor<'de> for PartiesVisitor {
        type Value = Vec<Party<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of recipients or a phone number")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
            while let Some(party) = seq.next_element()? {
                out.push(party);
            }
            Ok(out)
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(vec![Party { phone_number: Some(Cow::Borrowed(v)), ..Party::default() }])
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Ok(vec![Party::deserialize(de::value::MapAccessDeserializer::new(map))?])
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(vec![Party { phone_number: Some(Cow::Owned(v.to_string())), ..Party::default() }])
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(vec![Party { phone_number: Some(Cow::Owned(v.to_string())), ..Party::default() }])
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(vec![Party { phone_number: Some(Cow::Owned(v.to_string())), ..Party::default() }])
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![Party { phone_number: Some(Cow::Owned(v.to_owned())), ..Party::default() }])
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(PartiesVisitor)
        }
    }

    deserializer.deserialize_any(PartiesVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_is_a_list_a_string_or_null() {
        fn parse(json: &str) -> Vec<Party<'_>> {
            serde_json::from_str::<MessagePayload<'_>>(json).unwrap().to
        }
        let listed = parse(r#"{"to":[{"phone_number":"+1555","status":"delivered"},{"phone_number":"+1666"}]}"#);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].status, Some(DeliveryStatus::Delivered));
        let one = parse(r#"{"to":"+15550001"}"#);
        assert_eq!(one[0].phone_number.as_deref(), Some("+15550001"));
        assert!(matches!(one[0].phone_number, Some(Cow::Borrowed(_))));
        assert!(parse(r#"{"to":null}"#).is_empty());
        assert!(parse("{}").is_empty());
        assert_eq!(parse(r#"{"to":15550001}"#)[0].phone_number.as_deref(), Some("15550001"));
        assert_eq!(parse(r#"{"to":{"phone_number":"+1555"}}"#)[0].phone_number.as_deref(), Some("+1555"));
        assert!(parse(r#"{"to":true}"#).is_empty());
        assert!(serde_json::from_str::<MessagePayload<'_>>(r#"{"to":[5]}"#).is_err());
    }

    #[test]
    fn times_read_leniently() {
        let parse = |json: &str| serde_json::from_str::<CallPayload<'_>>(json).unwrap().start_time;
        let at = time::macros::datetime!(2025-12-01 12:00:00.521992 UTC);
        assert_eq!(parse(r#"{"start_time":"2025-12-01T12:00:00.521992Z"}"#), Some(at));
        assert_eq!(parse(r#"{"start_time":"2025-12-01 12:00:00.521992Z"}"#), Some(at));
        assert_eq!(parse(r#"{"start_time":"yesterday"}"#), None);
        assert_eq!(parse(r#"{"start_time":"é"}"#), None);
        assert_eq!(parse(r#"{"start_time":null}"#), None);
        assert_eq!(parse(r#"{"start_time":{"weird":true}}"#), None);
        let half = time::macros::datetime!(2025-12-01 12:00:00.5 UTC);
        assert_eq!(parse(r#"{"start_time":1764590400.5}"#), Some(half), "unix seconds, as a float");
        assert_eq!(parse(r#"{"start_time":"1764590400500"}"#), Some(half), "unix ms, as a string");
    }

    #[test]
    fn the_call_id_prefers_the_leg() {
        let parse = |json: &str| serde_json::from_str::<CallPayload<'_>>(json).unwrap().call_id().map(str::to_owned);
        assert_eq!(parse(r#"{"call_control_id":"v3:a","call_leg_id":"leg","call_session_id":"s"}"#).unwrap(), "leg");
        assert_eq!(parse(r#"{"call_control_id":"v3:a","call_leg_id":"","call_session_id":"s"}"#).unwrap(), "v3:a");
        assert_eq!(parse(r#"{"call_session_id":"s"}"#).unwrap(), "s");
        assert_eq!(parse("{}"), None);
    }
}
