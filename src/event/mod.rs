//! The normalized event model: what every provider's payload becomes.
//!
//! A CRM should not need to know that Twilio says `no-answer`, Retell says
//! `dial_no_answer` and CloudTalk says `call.missed`: each provider folder maps its
//! wire payload into one [`Event`], either a [`CallEvent`] or a [`MessageEvent`].
//! Anything callhook does not model yet becomes an [`UnmodeledEvent`] that keeps the
//! provider and the provider's own type string, so nothing is ever dropped.
//!
//! Every call and message event names its two sides where the provider says: the
//! customer (a [`ContactId`]: a phone number in E.164, or a WhatsApp business-scoped
//! user id) and the business's own number (`business_number`, E.164), told apart by
//! the direction, so a CRM matches a lead by phone number across providers. [`phone`]
//! has the rules that turn each provider's way of writing a number into E.164; `from`
//! and `to` keep the provider's values as sent.
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

mod call;
mod message;
pub mod phone;

pub use call::{
    CallAnalysis, CallEvent, CallLink, CallStatus, LinkVia, Recording, RecordingStatus, Sentiment, StoredRecording,
};
pub use message::{
    Conversation, InboundMessage, MediaKind, MediaRef, MessageContent, MessageEvent, MessageKind, MessageStatus,
    Pricing, StatusUpdate,
};

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

    /// What callhook noticed while reading the payload and worked around (a duplicate
    /// key whose last value was used, ...).
    ///
    /// ```
    /// use callhook::event::{Event, ProviderId, UnmodeledEvent};
    /// let mut event = Event::Unmodeled(UnmodeledEvent::new(ProviderId::from_static("acme"), "ping"));
    /// assert!(event.notes().is_empty());
    /// event.note("duplicate key");
    /// assert_eq!(event.notes(), ["duplicate key"]);
    /// ```
    pub fn notes(&self) -> &[String] {
        match self {
            Event::Call(call) => &call.notes,
            Event::Message(message) => &message.notes,
            Event::Unmodeled(other) => &other.notes,
        }
    }

    /// Adds a note (see [`notes`](Self::notes)), once.
    pub fn note(&mut self, note: impl Into<String>) {
        let notes = match self {
            Event::Call(call) => &mut call.notes,
            Event::Message(message) => &mut message.notes,
            Event::Unmodeled(other) => &mut other.notes,
        };
        let note = note.into();
        if !notes.contains(&note) {
            notes.push(note);
        }
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
/// Who a customer is: what a CRM matches a lead on, the same across providers.
///
/// A phone number is in E.164 (`+5511999998888`) whichever way the provider wrote it
/// (WhatsApp's `wa_id` `5511999998888`, Twilio's `whatsapp:+5511999998888`, CloudTalk's
/// bare digits): see [`phone::e164`]. A WhatsApp user who shows a username instead of
/// their number is known by their business-scoped user id (BSUID).
///
/// ```
/// use callhook::event::ContactId;
/// let phone = ContactId::from_phone("whatsapp:+55 11 99999-8888").unwrap();
/// assert_eq!(phone, ContactId::phone("+5511999998888"));
/// assert_eq!(phone.phone_number(), Some("+5511999998888"));
/// assert_eq!(ContactId::from_phone("5511999998888"), Some(phone));
/// assert_eq!(ContactId::from_phone("sip:alice@pbx.example.com"), None);
/// let hidden = ContactId::BusinessScoped { user_id: "US.13491208655302741918".into(), parent_user_id: None };
/// assert_eq!(hidden.phone_number(), None);
/// assert_eq!(serde_json::to_value(&hidden).unwrap()["type"], "business_scoped");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContactId {
    /// A phone number in E.164: `+` and 8 to 15 digits (see [`phone::e164`]). Events
    /// stored before callhook normalized numbers keep the number as the provider wrote
    /// it (WhatsApp: digits without `+`).
    Phone {
        /// The number, `+5511999998888`.
        number: String,
    },
    /// A WhatsApp business-scoped user id (BSUID): what Meta sends instead of the phone
    /// number for users who show a username.
    BusinessScoped {
        /// The id (`US.13491208655302741918`), stable for this business.
        user_id: String,
        /// The id of the business portfolio's parent, when Meta sends it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent_user_id: Option<String>,
    },
}

impl ContactId {
    /// A phone number, kept as given: pass it in E.164 (`+5511999998888`), or use
    /// [`from_phone`](Self::from_phone) to normalize a provider's value.
    pub fn phone(number: impl Into<String>) -> Self {
        Self::Phone { number: number.into() }
    }

    /// A phone number from a provider's value, in E.164 ([`phone::e164`]); `None` for
    /// anything that is no phone number (a SIP URI, `anonymous`, a client name, ...).
    ///
    /// ```
    /// use callhook::event::ContactId;
    /// assert_eq!(ContactId::from_phone("0034 612 345 678"), Some(ContactId::phone("+34612345678")));
    /// assert_eq!(ContactId::from_phone("anonymous"), None);
    /// ```
    pub fn from_phone(raw: &str) -> Option<Self> {
        phone::e164(raw).map(|number| Self::Phone { number })
    }

    /// The phone number, when the provider gave one.
    pub fn phone_number(&self) -> Option<&str> {
        match self {
            Self::Phone { number } => Some(number),
            Self::BusinessScoped { .. } => None,
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
    /// What callhook noticed while reading the payload and worked around (a duplicate
    /// key whose last value was used, ...). Empty for a payload read as sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
            notes: Vec::new(),
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
    fn events_stored_before_the_contact_numbers_still_read() {
        // A call as stored before `business_number` (and with a number as WhatsApp wrote
        // it, before numbers were E.164): read as it was, the new field absent.
        let old = r#"{"kind":"call","provider":"whatsapp","call_id":"wacid.1","direction":"inbound","from":"5511987654321","customer":{"type":"phone","number":"5511987654321"}}"#;
        let Event::Call(call) = serde_json::from_str::<Event>(old).unwrap() else { panic!("not a call") };
        assert_eq!(call.customer, Some(ContactId::phone("5511987654321")));
        assert_eq!(call.business_number, None);
        assert_eq!(serde_json::to_string(&Event::Call(call)).unwrap(), old, "written back the same");

        // An inbound message as stored before the event had `customer`: the inbound
        // message's `customer` was written at the same place, and is now both.
        let old = r#"{"kind":"message","provider":"whatsapp","message_id":"wamid.1","type":"inbound","from":"5511987654321","to":"15550783881","content":{"content_type":"text","body":"Olá"},"customer":{"type":"phone","number":"5511987654321"}}"#;
        let Event::Message(message) = serde_json::from_str::<Event>(old).unwrap() else { panic!("not a message") };
        let customer = Some(ContactId::phone("5511987654321"));
        assert_eq!((&message.customer, &message.business_number), (&customer, &None));
        let MessageKind::Inbound(inbound) = &message.kind else { panic!("not inbound") };
        assert_eq!(inbound.customer, customer);
        assert_eq!(serde_json::to_string(&Event::Message(message)).unwrap(), old, "written back the same");

        // A status update as stored before: no customer, no business number.
        let old = r#"{"kind":"message","provider":"whatsapp","message_id":"wamid.2","type":"status","status":"read","recipient":"5511987654321"}"#;
        let Event::Message(status) = serde_json::from_str::<Event>(old).unwrap() else { panic!("not a message") };
        assert_eq!((&status.customer, &status.business_number), (&None, &None));
        assert_eq!(serde_json::to_string(&Event::Message(status)).unwrap(), old);
    }

    #[test]
    fn contact_numbers_round_trip_and_customer_is_written_once() {
        let mut call = CallEvent::new(ProviderId::from_static("twilio"), "CA1");
        call.direction = Some(Direction::Inbound);
        call.from = Some("+5511987654321".into());
        call.to = Some("+14155550100".into());
        call.fill_numbers_from_direction();
        let json = serde_json::to_value(Event::Call(call.clone())).unwrap();
        assert_eq!(json["customer"], serde_json::json!({"type": "phone", "number": "+5511987654321"}));
        assert_eq!(json["business_number"], "+14155550100");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), Event::Call(call));

        let inbound = InboundMessage::new("whatsapp:+5511987654321", MessageContent::text("Oi"));
        let mut message = MessageEvent::new(ProviderId::from_static("twilio"), "SM1", MessageKind::Inbound(inbound));
        message.set_customer(ContactId::from_phone("whatsapp:+5511987654321"));
        message.business_number = Some("+14155550100".into());
        let json = serde_json::to_string(&Event::Message(message.clone())).unwrap();
        assert_eq!(json.matches(r#""customer""#).count(), 1, "{json}");
        assert!(
            json.ends_with(
                r#""customer":{"type":"phone","number":"+5511987654321"},"business_number":"+14155550100"}"#
            ),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), Event::Message(message.clone()));

        // Set on the inbound message alone (an event built field by field), it is still
        // written, and read back into both.
        let MessageKind::Inbound(inbound) = &mut message.kind else { unreachable!() };
        let customer = inbound.customer.clone();
        message.customer = None;
        let back: MessageEvent = serde_json::from_str(&serde_json::to_string(&message).unwrap()).unwrap();
        assert_eq!(back.customer, customer);

        let mut status = MessageEvent::new(
            ProviderId::from_static("twilio"),
            "SM2",
            MessageKind::Status(StatusUpdate::new(MessageStatus::Delivered)),
        );
        status.customer = ContactId::from_phone("+5511987654321");
        status.business_number = Some("+14155550100".into());
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["customer"]["number"], "+5511987654321");
        assert_eq!(serde_json::from_value::<MessageEvent>(json).unwrap(), status);
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
