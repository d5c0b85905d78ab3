//! Messages: inbound messages with their content, and status updates of sent ones.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ContactId, ProviderError, ProviderId};

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
    /// What callhook noticed while reading the payload and worked around (a duplicate
    /// key whose last value was used, ...). Empty for a payload read as sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
        Self {
            provider,
            message_id: message_id.into(),
            occurred_at: None,
            conversation: None,
            pricing: None,
            kind,
            notes: Vec::new(),
        }
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
    /// The sender's address as the provider gives it: a phone number or WhatsApp id,
    /// or (a WhatsApp user who shows a username, not a number) their business-scoped
    /// user id. [`customer`](Self::customer) says which.
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
    /// Who sent it, where the provider says: a phone number or a WhatsApp
    /// business-scoped user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<ContactId>,
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
        Self { from: from.into(), to: None, contact_name: None, reply_to: None, content, customer: None }
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
