//! Messages: inbound messages with their content, and status updates of sent ones.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ContactId, ProviderError, ProviderId};

/// A normalized messaging event: an inbound message, or a status update of a message
/// the business sent.
///
/// In JSON the event is one object: its own fields, then the [`kind`](Self::kind)'s
/// (`"type": "inbound"` or `"status"` and theirs), then `customer`, `business_number`
/// and `notes`. An inbound message's [`InboundMessage::customer`] is the event's
/// [`customer`](Self::customer), written once.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MessageEvent {
    /// The provider that reported the message.
    pub provider: ProviderId,
    /// The provider's message id (WhatsApp `wamid`, Twilio `MessageSid`).
    pub message_id: String,
    /// When this event happened, per the provider.
    pub occurred_at: Option<OffsetDateTime>,
    /// The conversation (billing window) the message belongs to, where given.
    pub conversation: Option<Conversation>,
    /// Pricing information, where given.
    pub pricing: Option<Pricing>,
    /// An inbound message or a status update.
    pub kind: MessageKind,
    /// Who the customer is (the sender of an inbound message, the recipient of a status
    /// update's message), where the provider says: a phone number in E.164 or a WhatsApp
    /// business-scoped user id. `None` when the customer's address is no phone number
    /// (an alphanumeric sender id, a short code).
    pub customer: Option<ContactId>,
    /// The business's own number (the recipient of an inbound message, the sender of a
    /// status update's message) in E.164, where the provider says.
    pub business_number: Option<String>,
    /// What callhook noticed while reading the payload and worked around (a duplicate
    /// key whose last value was used, ...). Empty for a payload read as sent.
    pub notes: Vec<String>,
}

impl MessageEvent {
    /// A message event with nothing but its identity and kind; an inbound message's
    /// [`customer`](InboundMessage::customer) becomes the event's too.
    ///
    /// ```
    /// use callhook::event::*;
    /// let status = StatusUpdate::new(MessageStatus::Read);
    /// let event = MessageEvent::new(
    ///     ProviderId::from_static("whatsapp"), "wamid.A1", MessageKind::Status(status));
    /// assert!(matches!(event.kind, MessageKind::Status(_)));
    /// ```
    pub fn new(provider: ProviderId, message_id: impl Into<String>, kind: MessageKind) -> Self {
        let customer = match &kind {
            MessageKind::Inbound(inbound) => inbound.customer.clone(),
            MessageKind::Status(_) => None,
        };
        Self {
            provider,
            message_id: message_id.into(),
            occurred_at: None,
            conversation: None,
            pricing: None,
            kind,
            customer,
            business_number: None,
            notes: Vec::new(),
        }
    }

    /// Sets the [`customer`](Self::customer), and an inbound message's
    /// [`InboundMessage::customer`] with it.
    ///
    /// ```
    /// use callhook::event::*;
    /// let inbound = InboundMessage::new("5511999998888", MessageContent::text("Olá"));
    /// let mut event = MessageEvent::new(ProviderId::from_static("whatsapp"), "wamid.A2", MessageKind::Inbound(inbound));
    /// event.set_customer(ContactId::from_phone("5511999998888"));
    /// let MessageKind::Inbound(inbound) = &event.kind else { unreachable!() };
    /// assert_eq!(inbound.customer, event.customer);
    /// assert_eq!(event.customer.unwrap().phone_number(), Some("+5511999998888"));
    /// ```
    pub fn set_customer(&mut self, customer: Option<ContactId>) {
        if let MessageKind::Inbound(inbound) = &mut self.kind {
            inbound.customer.clone_from(&customer);
        }
        self.customer = customer;
    }
}

/// [`MessageEvent`]'s JSON form, borrowed to write it.
#[derive(Serialize)]
struct MessageEventOut<'a> {
    provider: &'a ProviderId,
    message_id: &'a str,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    occurred_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation: Option<&'a Conversation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pricing: Option<&'a Pricing>,
    #[serde(flatten)]
    kind: &'a MessageKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<&'a ContactId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    business_number: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

impl Serialize for MessageEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // One `customer` key: the event's, else (an event built field by field) the
        // inbound message's. The inbound message does not write its own.
        let inbound = match &self.kind {
            MessageKind::Inbound(inbound) => inbound.customer.as_ref(),
            MessageKind::Status(_) => None,
        };
        MessageEventOut {
            provider: &self.provider,
            message_id: &self.message_id,
            occurred_at: self.occurred_at,
            conversation: self.conversation.as_ref(),
            pricing: self.pricing.as_ref(),
            kind: &self.kind,
            customer: self.customer.as_ref().or(inbound),
            business_number: self.business_number.as_deref(),
            notes: &self.notes,
        }
        .serialize(serializer)
    }
}

/// [`MessageEvent`]'s JSON form, read. Events stored before `customer` and
/// `business_number` were the event's read too: an inbound message's `customer` was
/// written at the same place.
#[derive(Deserialize)]
struct MessageEventIn {
    provider: ProviderId,
    message_id: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    occurred_at: Option<OffsetDateTime>,
    #[serde(default)]
    conversation: Option<Conversation>,
    #[serde(default)]
    pricing: Option<Pricing>,
    #[serde(flatten)]
    kind: MessageKind,
    #[serde(default)]
    customer: Option<ContactId>,
    #[serde(default)]
    business_number: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
}

impl<'de> Deserialize<'de> for MessageEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = MessageEventIn::deserialize(deserializer)?;
        let mut event = MessageEvent {
            provider: stored.provider,
            message_id: stored.message_id,
            occurred_at: stored.occurred_at,
            conversation: stored.conversation,
            pricing: stored.pricing,
            kind: stored.kind,
            customer: None,
            business_number: stored.business_number,
            notes: stored.notes,
        };
        event.set_customer(stored.customer);
        Ok(event)
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
    /// The business number it was sent to, as the provider wrote it
    /// ([`MessageEvent::business_number`] has it in E.164).
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
    /// Who sent it, where the provider says: a phone number in E.164 or a WhatsApp
    /// business-scoped user id. The same as the event's
    /// [`MessageEvent::customer`] (set both with [`MessageEvent::set_customer`]); in
    /// JSON it is the event's `customer`, written once.
    #[serde(skip)]
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
    /// The recipient of the message, as the provider wrote it
    /// ([`MessageEvent::customer`] has it in E.164).
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
