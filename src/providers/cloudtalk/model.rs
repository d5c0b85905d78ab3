//! CloudTalk webhook payloads: the contract's `{"event": "call.started", "data": {...}}`,
//! or the flat body a Workflow Automation template sends (`call_id`, `call_uuid`,
//! `internal_number`, `external_number`, `talking_time`, custom attributes, no `event`).
//!
//! CloudTalk's webhook body is a template its account owner fills with call variables,
//! so parsing is lenient: ids, numbers and durations as numbers or strings, empty
//! strings and `null` as absent, times in RFC 3339, `YYYY-MM-DD HH:MM:SS` (read as UTC)
//! or unix seconds; a value that cannot be read is absent rather than an error. Unknown
//! keys (custom attributes, in any language) are ignored. The payload itself is kept,
//! byte for byte, in the event log.

use std::borrow::Cow;

use serde::Deserialize;
use time::OffsetDateTime;

use crate::wire::borrowed;
use crate::wire::{lenient, open_enum};

open_enum! {
    /// The `event` of a webhook.
    pub enum EventName {
        /// A call started (ringing).
        CallStarted = "call.started",
        /// A call was answered.
        CallAnswered = "call.answered",
        /// A call ended.
        CallEnded = "call.ended",
        /// A call was missed.
        CallMissed = "call.missed",
        /// A call's recording was uploaded (the "Recording: Uploaded" trigger).
        RecordingUploaded = "recording.uploaded",
    }
}

/// A webhook body, read in one pass with its strings borrowed from the body where they
/// have no escapes: the model the pipeline itself uses.
///
/// ```
/// use callhook::providers::cloudtalk::model::{EventName, Webhook};
/// let body = br#"{"event":"call.ended","data":{"id":771201,"duration":"120","contact_name":""}}"#;
/// let webhook = Webhook::parse(body).unwrap();
/// assert_eq!(webhook.event, Some(EventName::CallEnded));
/// let data = webhook.data.unwrap();
/// assert_eq!(data.call_id(), Some("771201"));
/// assert_eq!(data.duration_secs, Some(120));
/// assert_eq!(data.contact_name, None);
///
/// // A Workflow Automation template: flat, numbers unquoted, no event.
/// let flat = br#"{"call_uuid":"5b0f6a2e","internal_number":34910000001,"external_number":34612345678}"#;
/// let webhook = Webhook::parse(flat).unwrap();
/// assert_eq!(webhook.event, None);
/// let data = webhook.data.unwrap();
/// assert_eq!((data.call_id(), data.external_number.as_deref()), (Some("5b0f6a2e"), Some("34612345678")));
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// The event, when the body names it (a text `event`; anything else is absent).
    #[serde(default, deserialize_with = "event_name")]
    pub event: Option<EventName>,
    /// The call's data: the contract's `data`, or else the body itself (a flat
    /// template). Boxed: it is large, and serde moves it several times while reading.
    #[serde(borrow, default)]
    pub data: Option<Box<CallData<'a>>>,
}

impl<'a> Webhook<'a> {
    /// Parses a body: the contract's envelope, or a flat template (read again as the
    /// call's data when it has no `data` object).
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        let mut webhook: Webhook<'a> = borrowed::from_json(body)?;
        if webhook.data.is_none() {
            webhook.data = Some(Box::new(borrowed::from_json(body)?));
        }
        Ok(webhook)
    }
}

/// The `data` of a call event.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CallData<'a> {
    /// CloudTalk's call id, as the contract names it.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub id: Option<Cow<'a, str>>,
    /// CloudTalk's call id, as the template variable names it.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub call_id: Option<Cow<'a, str>>,
    /// The call's UUID (some triggers send only this).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub call_uuid: Option<Cow<'a, str>>,
    /// The CloudTalk number (digits, often a JSON number).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub internal_number: Option<Cow<'a, str>>,
    /// The customer's number (digits, often a JSON number).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub external_number: Option<Cow<'a, str>>,
    /// The agent who took or made the call.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub agent_id: Option<Cow<'a, str>>,
    /// How long the call was talked, in seconds.
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub talking_time: Option<u64>,
    /// How long the caller waited, in seconds.
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub waiting_time: Option<u64>,
    /// `inbound` or `outbound`.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub direction: Option<Cow<'a, str>>,
    /// The caller.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub from: Option<Cow<'a, str>>,
    /// The callee.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub to: Option<Cow<'a, str>>,
    /// The contact in CloudTalk.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub contact_id: Option<Cow<'a, str>>,
    /// The contact's name.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub contact_name: Option<Cow<'a, str>>,
    /// How long the call lasted, in seconds.
    #[serde(default, rename = "duration", deserialize_with = "lenient::lossy::unsigned")]
    pub duration_secs: Option<u64>,
    /// When it started.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub started_at: Option<OffsetDateTime>,
    /// When it was answered.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub answered_at: Option<OffsetDateTime>,
    /// When it ended.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub ended_at: Option<OffsetDateTime>,
    /// `ringing`, `answered`, `missed`, `completed`, ...
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub status: Option<Cow<'a, str>>,
    /// The recording, when the call was recorded.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub recording_url: Option<Cow<'a, str>>,
}

/// The `event`: its text as sent, or else as an admin may have written a known name
/// (`Call Ended`, `call_ended`, `call-ended` are `call.ended`).
fn event_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<EventName>, D::Error> {
    Ok(lenient::lossy::text(deserializer)?.map(|name| {
        let exact = EventName::from(&*name);
        if exact.is_known() {
            return exact;
        }
        let written = EventName::from(name.to_ascii_lowercase().replace(['-', '_', ' '], ".").as_str());
        if written.is_known() { written } else { exact }
    }))
}

impl CallData<'_> {
    /// The call's id: `id`, else `call_id`, else `call_uuid`.
    pub fn call_id(&self) -> Option<&str> {
        self.id.as_deref().or(self.call_id.as_deref()).or(self.call_uuid.as_deref())
    }
}
