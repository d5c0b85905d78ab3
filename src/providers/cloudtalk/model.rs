//! CloudTalk webhook payloads: `{"event": "call.started", "data": {...}}`.
//!
//! CloudTalk's webhook body is a template its account owner fills with call variables,
//! so parsing is lenient: ids and durations as numbers or strings, empty strings as
//! absent, times in RFC 3339 (or `YYYY-MM-DD HH:MM:SS`, read as UTC). The payload
//! itself is kept, byte for byte, in the event log.

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
    }
}

/// A webhook body, read in one pass with its strings borrowed from the body where they
/// have no escapes: the model the pipeline itself uses.
///
/// ```
/// use callhook::providers::cloudtalk::model::{EventName, Webhook};
/// let body = br#"{"event":"call.ended","data":{"id":771201,"duration":"120","contact_name":""}}"#;
/// let webhook = Webhook::parse(body).unwrap();
/// assert_eq!(webhook.event, EventName::CallEnded);
/// let data = webhook.data.unwrap();
/// assert_eq!(data.id.as_deref(), Some("771201"));
/// assert_eq!(data.duration_secs, Some(120));
/// assert_eq!(data.contact_name, None);
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// The event.
    #[serde(deserialize_with = "borrowed::open_enum")]
    pub event: EventName,
    /// The call's data.
    #[serde(borrow, default)]
    pub data: Option<CallData<'a>>,
}

impl<'a> Webhook<'a> {
    /// Parses a body.
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        borrowed::from_json(body)
    }
}

/// The `data` of a call event.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CallData<'a> {
    /// CloudTalk's call id.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub id: Option<Cow<'a, str>>,
    /// `inbound` or `outbound`.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub direction: Option<Cow<'a, str>>,
    /// The caller.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub from: Option<Cow<'a, str>>,
    /// The callee.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub to: Option<Cow<'a, str>>,
    /// The contact in CloudTalk.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub contact_id: Option<Cow<'a, str>>,
    /// The contact's name.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub contact_name: Option<Cow<'a, str>>,
    /// How long the call lasted, in seconds.
    #[serde(default, rename = "duration", deserialize_with = "lenient::unsigned")]
    pub duration_secs: Option<u64>,
    /// When it started.
    #[serde(default, deserialize_with = "lenient::time")]
    pub started_at: Option<OffsetDateTime>,
    /// When it was answered.
    #[serde(default, deserialize_with = "lenient::time")]
    pub answered_at: Option<OffsetDateTime>,
    /// When it ended.
    #[serde(default, deserialize_with = "lenient::time")]
    pub ended_at: Option<OffsetDateTime>,
    /// `ringing`, `answered`, `missed`, `completed`, ...
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub status: Option<Cow<'a, str>>,
    /// The recording, when the call was recorded.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub recording_url: Option<Cow<'a, str>>,
}
