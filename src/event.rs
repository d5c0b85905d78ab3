//! The normalized event model: what every provider's payload becomes.
//!
//! A CRM should not need to know that Twilio says `no-answer`, Retell says
//! `dial_no_answer` and CloudTalk says `call.missed`: each provider folder maps its
//! wire payload into one [`Event`], either a [`CallEvent`] or a [`MessageEvent`].
//! Anything callhook does not model yet becomes an [`UnmodeledEvent`] that keeps the
//! provider and the provider's own type string, so nothing is ever dropped.
//!
//! The serde JSON form of these types is stable: it is what storage keeps and what the
//! JSON API shows. Times are RFC 3339 strings, enums are `snake_case` strings, absent
//! values are omitted.
//!
//! ```
//! use callhook::event::{CallEvent, CallStatus, Event, ProviderId};
//!
//! let mut call = CallEvent::new(ProviderId::from_static("twilio"), "CA123");
//! call.status = Some(CallStatus::Ringing);
//! let event = Event::Call(call);
//! assert_eq!(event.external_id(), "twilio-CA123");
//! let json = serde_json::to_value(&event).unwrap();
//! assert_eq!(json["kind"], "call");
//! assert_eq!(json["status"], "ringing");
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The name of a provider (`twilio`, `whatsapp`, ...), as used in routes, storage and
/// external ids.
///
/// ```
/// use callhook::event::ProviderId;
/// const TWILIO: ProviderId = ProviderId::from_static("twilio");
/// assert_eq!(TWILIO.as_str(), "twilio");
/// assert_eq!(ProviderId::new(String::from("twilio")), TWILIO);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderId(Cow<'static, str>);

impl ProviderId {
    /// A provider id from a string known at compile time (no allocation).
    pub const fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// A provider id from any string.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// The provider's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One normalized event.
///
/// ```
/// use callhook::event::{Event, ProviderId, UnmodeledEvent};
/// let event = Event::Unmodeled(UnmodeledEvent::new(
///     ProviderId::from_static("whatsapp"),
///     "message_template_status_update",
/// ));
/// assert_eq!(event.provider().as_str(), "whatsapp");
/// assert!(event.subject().is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
// Events are built once per delivery item and moved a few times; boxing the call
// variant would add an allocation per event to save a few hundred bytes of stack.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// Something happened to a call.
    Call(CallEvent),
    /// A message arrived, or a sent message changed status.
    Message(MessageEvent),
    /// A provider event callhook does not model yet, kept with its type string.
    Unmodeled(UnmodeledEvent),
}

impl Event {
    /// The provider that sent this event.
    pub fn provider(&self) -> &ProviderId {
        match self {
            Event::Call(call) => &call.provider,
            Event::Message(message) => &message.provider,
            Event::Unmodeled(other) => &other.provider,
        }
    }

    /// The call or message this event is about, if any.
    pub fn subject(&self) -> Option<Subject<'_>> {
        match self {
            Event::Call(call) => Some(Subject::Call(&call.call_id)),
            Event::Message(message) => Some(Subject::Message(&message.message_id)),
            Event::Unmodeled(other) => other.subject_id.as_deref().map(Subject::Other),
        }
    }

    /// A stable id a CRM can store: `{provider}-{call or message id}`, e.g.
    /// `cloudtalk-771201`. Unmodeled events without a subject give `{provider}-`.
    pub fn external_id(&self) -> String {
        let id = match self.subject() {
            Some(Subject::Call(id) | Subject::Message(id) | Subject::Other(id)) => id,
            None => "",
        };
        format!("{}-{}", self.provider(), id)
    }

    /// When the provider says the event happened, if it says.
    pub fn occurred_at(&self) -> Option<OffsetDateTime> {
        match self {
            Event::Call(call) => call.occurred_at,
            Event::Message(message) => message.occurred_at,
            Event::Unmodeled(other) => other.occurred_at,
        }
    }
}

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A call, by the provider's call id.
    Call(&'a str),
    /// A message, by the provider's message id.
    Message(&'a str),
    /// Something else the provider identifies (a template, an account, ...).
    Other(&'a str),
}

/// A normalized call lifecycle event.
///
/// Every field but the provider and the call id is optional: a provider tells what it
/// knows in each callback, and [`crate::state::CallState`] folds them together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallEvent {
    /// The provider that reported the call.
    pub provider: ProviderId,
    /// The provider's id of the call (Twilio `CallSid`, Retell `call_id`, ...).
    pub call_id: String,
    /// The call's normalized status, when this event reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CallStatus>,
    /// The provider's own status or reason string, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_status: Option<String>,
    /// Whether the call came in or went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The callee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The contact's name, when the provider knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// When this event happened, per the provider.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<OffsetDateTime>,
    /// The provider's ordering of events for this call (Twilio `SequenceNumber`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// When the call started.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<OffsetDateTime>,
    /// When the call was answered.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<OffsetDateTime>,
    /// When the call ended.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<OffsetDateTime>,
    /// How long the call lasted, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The state of the call's recording, when this event reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    /// Post-call analysis (summary, sentiment, transcript), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<CallAnalysis>,
    /// The provider's error, on failed calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProviderError>,
}

impl CallEvent {
    /// A call event with only the provider and call id set.
    ///
    /// ```
    /// use callhook::event::{CallEvent, CallStatus, ProviderId};
    /// let mut event = CallEvent::new(ProviderId::from_static("retell"), "call_1");
    /// event.status = Some(CallStatus::InProgress);
    /// assert_eq!(event.call_id, "call_1");
    /// ```
    pub fn new(provider: ProviderId, call_id: impl Into<String>) -> Self {
        Self {
            provider,
            call_id: call_id.into(),
            status: None,
            provider_status: None,
            direction: None,
            from: None,
            to: None,
            contact_name: None,
            occurred_at: None,
            sequence: None,
            started_at: None,
            answered_at: None,
            ended_at: None,
            duration_ms: None,
            recording: None,
            analysis: None,
            error: None,
        }
    }
}

/// A call's normalized status.
///
/// Statuses are ranked (see [`CallStatus::precedence`]) so a late, lower-ranked status
/// never overwrites a higher one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallStatus {
    /// Created or queued, not yet ringing.
    Initiated,
    /// Ringing at the callee.
    Ringing,
    /// Answered and ongoing.
    InProgress,
    /// Ended after being answered.
    Completed,
    /// Canceled before it was answered.
    Canceled,
    /// The callee was busy.
    Busy,
    /// Not answered (a missed call).
    NoAnswer,
    /// Could not be placed or ended in an error.
    Failed,
}

impl CallStatus {
    /// Every status, lowest precedence first.
    pub const ALL: [CallStatus; 8] = [
        CallStatus::Initiated,
        CallStatus::Ringing,
        CallStatus::InProgress,
        CallStatus::Completed,
        CallStatus::Canceled,
        CallStatus::Busy,
        CallStatus::NoAnswer,
        CallStatus::Failed,
    ];

    /// The status's rank when events are folded: the highest wins.
    ///
    /// The live statuses rank by progress (initiated < ringing < in progress) and every
    /// terminal status outranks them. Two different terminal statuses for one call (a
    /// provider reporting `completed` and also `no-answer`) are resolved by the more
    /// specific outcome: completed < canceled < busy < no answer < failed. This makes the
    /// fold independent of arrival order.
    ///
    /// ```
    /// use callhook::event::CallStatus;
    /// assert!(CallStatus::Completed.precedence() > CallStatus::Ringing.precedence());
    /// assert!(CallStatus::Failed.precedence() > CallStatus::Completed.precedence());
    /// ```
    pub fn precedence(self) -> u8 {
        match self {
            CallStatus::Initiated => 0,
            CallStatus::Ringing => 1,
            CallStatus::InProgress => 2,
            CallStatus::Completed => 3,
            CallStatus::Canceled => 4,
            CallStatus::Busy => 5,
            CallStatus::NoAnswer => 6,
            CallStatus::Failed => 7,
        }
    }

    /// Whether the call is over in this status.
    pub fn is_terminal(self) -> bool {
        self.precedence() >= CallStatus::Completed.precedence()
    }

    /// The `snake_case` name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Initiated => "initiated",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in_progress",
            CallStatus::Completed => "completed",
            CallStatus::Canceled => "canceled",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no_answer",
            CallStatus::Failed => "failed",
        }
    }
}

/// Whether a call or message came in to the business or went out from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From a customer to the business.
    Inbound,
    /// From the business to a customer.
    Outbound,
}

/// The state of a call's recording at the provider.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recording {
    /// Where the recording is.
    pub status: RecordingStatus,
    /// The provider's URL of the recording, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The provider's recording id (Twilio `RecordingSid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<String>,
    /// Length of the recording in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// Why the recording failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProviderError>,
    /// Where callhook stored its copy, once downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredRecording>,
}

/// A recording callhook downloaded and stored.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredRecording {
    /// Where it is (a file path, an object key), as the sink names it.
    pub location: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Its content type, as the provider served it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl StoredRecording {
    /// A stored recording at `location` of `size_bytes`.
    pub fn new(location: impl Into<String>, size_bytes: u64, content_type: Option<String>) -> Self {
        Self { location: location.into(), size_bytes, content_type }
    }
}

impl Recording {
    /// A recording in the given status with nothing else known.
    ///
    /// ```
    /// use callhook::event::{Recording, RecordingStatus};
    /// let mut recording = Recording::new(RecordingStatus::Ready);
    /// recording.url = Some("https://example.com/rec.wav".into());
    /// assert!(recording.status.is_final());
    /// ```
    pub fn new(status: RecordingStatus) -> Self {
        Self { status, url: None, recording_id: None, duration_secs: None, error: None, stored: None }
    }
}

/// Where a recording is in its life at the provider.
///
/// Ordered by precedence (declaration order): a late `recording` never overwrites
/// `ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordingStatus {
    /// The call is being recorded.
    Recording,
    /// The provider is processing (mixing, transcoding) the audio.
    Processing,
    /// The recording failed at the provider.
    Failed,
    /// No audio was captured (Twilio `absent`).
    Absent,
    /// The call was too short to record anything (WaVoIP `EMPTY_RECORDING`).
    Empty,
    /// Recording is turned off.
    Disabled,
    /// The recording can be downloaded from its URL.
    Ready,
}

impl RecordingStatus {
    /// Whether the provider will report nothing more about this recording.
    pub fn is_final(self) -> bool {
        !matches!(self, RecordingStatus::Recording | RecordingStatus::Processing)
    }
}

/// What an AI voice agent or a provider's analysis says about a call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallAnalysis {
    /// A short summary of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The caller's sentiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
    /// Whether the call reached its goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful: Option<bool>,
    /// Whether the call reached a voicemail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_voicemail: Option<bool>,
    /// The transcript as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// Provider-specific analysis data, kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
}

/// A caller's sentiment as judged by the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Sentiment {
    /// Negative.
    Negative,
    /// Neither positive nor negative.
    Neutral,
    /// Positive.
    Positive,
    /// The provider could not tell (also used for values callhook does not know).
    Unknown,
}

/// An error as the provider reported it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProviderError {
    /// The provider's error code (Twilio `ErrorCode`, Meta `code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A short title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Further details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl ProviderError {
    /// An error with only a code.
    ///
    /// ```
    /// use callhook::event::ProviderError;
    /// assert_eq!(ProviderError::with_code("131026").code.as_deref(), Some("131026"));
    /// ```
    pub fn with_code(code: impl Into<String>) -> Self {
        Self { code: Some(code.into()), ..Self::default() }
    }
}

/// A normalized messaging event: an inbound message, or a status update of a message
/// the business sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageEvent {
    /// The provider that reported the message.
    pub provider: ProviderId,
    /// The provider's message id (WhatsApp `wamid`, Twilio `MessageSid`).
    pub message_id: String,
    /// When this event happened, per the provider.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<OffsetDateTime>,
    /// The conversation (billing window) the message belongs to, where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    /// Pricing information, where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// An inbound message or a status update.
    #[serde(flatten)]
    pub kind: MessageKind,
}

impl MessageEvent {
    /// A message event with nothing but its identity and kind.
    ///
    /// ```
    /// use callhook::event::*;
    /// let status = StatusUpdate::new(MessageStatus::Read);
    /// let event = MessageEvent::new(
    ///     ProviderId::from_static("whatsapp"), "wamid.A1", MessageKind::Status(status));
    /// assert!(matches!(event.kind, MessageKind::Status(_)));
    /// ```
    pub fn new(provider: ProviderId, message_id: impl Into<String>, kind: MessageKind) -> Self {
        Self { provider, message_id: message_id.into(), occurred_at: None, conversation: None, pricing: None, kind }
    }
}

/// Whether a message event is a new inbound message or a status update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageKind {
    /// A customer sent the business a message.
    Inbound(InboundMessage),
    /// A message the business sent changed status.
    Status(StatusUpdate),
}

/// A message a customer sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundMessage {
    /// The sender (phone number or WhatsApp id).
    pub from: String,
    /// The business number it was sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The sender's profile name, when the provider gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// The id of the message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// What the message says or carries.
    pub content: MessageContent,
}

impl InboundMessage {
    /// An inbound message from a sender with the given content.
    ///
    /// ```
    /// use callhook::event::{InboundMessage, MessageContent};
    /// let message = InboundMessage::new("5511999998888", MessageContent::text("Olá"));
    /// assert_eq!(message.from, "5511999998888");
    /// ```
    pub fn new(from: impl Into<String>, content: MessageContent) -> Self {
        Self { from: from.into(), to: None, contact_name: None, reply_to: None, content }
    }
}

/// The content of an inbound message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "content_type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageContent {
    /// Plain text.
    Text {
        /// The text.
        body: String,
    },
    /// One or more media attachments, with an optional caption or text.
    Media {
        /// The attachments.
        media: Vec<MediaRef>,
        /// A caption or accompanying text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    /// A shared location.
    Location {
        /// Latitude in degrees.
        latitude: f64,
        /// Longitude in degrees.
        longitude: f64,
        /// A place name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// A postal address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
    },
    /// A reaction to an earlier message (an empty emoji removes it).
    Reaction {
        /// The message reacted to.
        message_id: String,
        /// The emoji.
        emoji: String,
    },
    /// A reply to buttons, lists or flows the business sent.
    InteractiveReply {
        /// The id of the chosen option, or the flow's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_id: Option<String>,
        /// The option's title or the flow's body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Further data (a flow's response JSON, a button payload).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<String>,
    },
    /// A message type callhook does not normalize (contacts, orders, system, unknown):
    /// the provider's type name; the full payload stays in the event log.
    Other {
        /// The provider's message type.
        provider_type: String,
    },
}

impl MessageContent {
    /// Text content.
    pub fn text(body: impl Into<String>) -> Self {
        MessageContent::Text { body: body.into() }
    }
}

/// A media attachment, by the provider's reference (fetched separately).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaRef {
    /// What kind of media it is.
    pub kind: MediaKind,
    /// The provider's media id (WhatsApp media id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the provider serves it (Twilio `MediaUrlN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The SHA-256 of the file, as the provider gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The file name (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Whether an audio attachment is a voice note.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub voice: bool,
}

impl MediaRef {
    /// A media reference of a kind with nothing else known.
    pub fn new(kind: MediaKind) -> Self {
        Self { kind, id: None, url: None, mime_type: None, sha256: None, filename: None, voice: false }
    }
}

/// The kind of a media attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaKind {
    /// A picture.
    Image,
    /// Audio, including voice notes.
    Audio,
    /// Video.
    Video,
    /// A document (PDF, ...).
    Document,
    /// A sticker.
    Sticker,
    /// Anything else.
    Other,
}

/// A status change of a message the business sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusUpdate {
    /// The new status.
    pub status: MessageStatus,
    /// The recipient of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The provider's errors, on failed messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProviderError>,
}

impl StatusUpdate {
    /// A status update with only the status known.
    pub fn new(status: MessageStatus) -> Self {
        Self { status, recipient: None, errors: Vec::new() }
    }
}

crate::wire::open_enum! {
    /// A sent message's normalized status; values callhook does not know are kept as
    /// they are (read them with [`as_str`](MessageStatus::as_str)).
    ///
    /// ```
    /// use callhook::event::MessageStatus;
    /// let status: MessageStatus = serde_json::from_str("\"played\"").unwrap();
    /// assert_eq!((status.as_str(), status.is_known()), ("played", false));
    /// assert_eq!(serde_json::to_string(&MessageStatus::Read).unwrap(), "\"read\"");
    /// ```
    pub enum MessageStatus {
        /// Accepted by the provider, not yet sent.
        Queued = "queued",
        /// Sent to the carrier or network.
        Sent = "sent",
        /// Delivered to the recipient's device.
        Delivered = "delivered",
        /// Read by the recipient.
        Read = "read",
        /// Could not be delivered; terminal.
        Failed = "failed",
    }
}

impl MessageStatus {
    /// The status's rank when folding: queued < sent < delivered < read < failed.
    /// Unknown statuses rank below all known ones, so they never hide a known status.
    pub fn precedence(&self) -> u8 {
        match self {
            MessageStatus::Queued => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Delivered => 3,
            MessageStatus::Read => 4,
            MessageStatus::Failed => 5,
            MessageStatus::_Custom(_) => 0,
        }
    }
}

/// The conversation (Meta's billing window) a message belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Conversation {
    /// The conversation id.
    pub id: String,
    /// Who opened it (`service`, `marketing`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// When the conversation window closes.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Conversation {
    /// A conversation with only its id known.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), origin: None, expires_at: None }
    }
}

/// What a message costs, as the provider reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pricing {
    /// Whether the message is billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    /// The pricing model (`CBP`, `PMP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The pricing category (`service`, `marketing`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// A provider event callhook does not model: kept with the provider's type name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnmodeledEvent {
    /// The provider that sent it.
    pub provider: ProviderId,
    /// The provider's own type or event name.
    pub provider_type: String,
    /// What it is about, when the provider says (a call id, a template id, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    /// When it happened, per the provider.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<OffsetDateTime>,
    /// The provider's data for this event (for a batch item, that item's JSON).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

impl UnmodeledEvent {
    /// An unmodeled event with its provider and type name.
    pub fn new(provider: ProviderId, provider_type: impl Into<String>) -> Self {
        Self {
            provider,
            provider_type: provider_type.into(),
            subject_id: None,
            occurred_at: None,
            data: serde_json::Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn call_event_json_is_stable() {
        let mut call = CallEvent::new(ProviderId::from_static("twilio"), "CA1");
        call.status = Some(CallStatus::NoAnswer);
        call.direction = Some(Direction::Inbound);
        call.occurred_at = Some(datetime!(2026-12-01 10:00:42 UTC));
        call.duration_ms = Some(42_000);
        let json = serde_json::to_string(&Event::Call(call.clone())).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"call","provider":"twilio","call_id":"CA1","status":"no_answer","direction":"inbound","occurred_at":"2026-12-01T10:00:42Z","duration_ms":42000}"#
        );
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Event::Call(call));
    }

    #[test]
    fn message_event_round_trips_with_content_and_unknown_status() {
        let mut inbound = InboundMessage::new("5511", MessageContent::text("Olá"));
        inbound.contact_name = Some("Ana".into());
        let event = Event::Message(MessageEvent::new(
            ProviderId::from_static("whatsapp"),
            "wamid.1",
            MessageKind::Inbound(inbound),
        ));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "inbound");
        assert_eq!(json["content"]["content_type"], "text");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);

        let mut update = StatusUpdate::new(MessageStatus::from("warning"));
        update.errors.push(ProviderError::with_code("1"));
        let event = Event::Message(MessageEvent::new(
            ProviderId::from_static("whatsapp"),
            "wamid.2",
            MessageKind::Status(update),
        ));
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(r#""status":"warning""#), "{json}");
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
    }

    #[test]
    fn external_id_is_provider_dash_id() {
        let event = Event::Call(CallEvent::new(ProviderId::from_static("cloudtalk"), "771201"));
        assert_eq!(event.external_id(), "cloudtalk-771201");
    }

    #[test]
    fn terminal_statuses_outrank_live_ones() {
        for live in [CallStatus::Initiated, CallStatus::Ringing, CallStatus::InProgress] {
            assert!(!live.is_terminal());
            for terminal in CallStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
                assert!(terminal.precedence() > live.precedence());
            }
        }
    }
}
