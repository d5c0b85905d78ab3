//! CloudTalk webhook payloads: `{"event": "call.started", "data": {...}}`.
//!
//! CloudTalk's webhook body is a template its account owner fills with call variables,
//! so parsing is lenient: ids and durations as numbers or strings, empty strings as
//! absent, times in RFC 3339 (or `YYYY-MM-DD HH:MM:SS`, read as UTC). The whole `data`
//! object stays available raw ([`CallData::raw`]): a CRM keeps CloudTalk's payload
//! with the call.

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::providers::borrowed;
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

/// A webhook body.
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
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// The event.
    pub event: EventName,
    /// The call's data.
    pub data: Option<CallData<'a>>,
}

impl<'a> Webhook<'a> {
    /// Parses a body.
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Envelope<'a> {
            #[serde(deserialize_with = "borrowed::open_enum")]
            event: EventName,
            #[serde(borrow, default)]
            data: Option<&'a RawValue>,
        }
        let envelope: Envelope<'a> = serde_json::from_slice(body)?;
        let data = envelope.data.map(CallData::parse).transpose()?;
        Ok(Self { event: envelope.event, data })
    }
}

/// The `data` of a call event.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CallData<'a> {
    /// CloudTalk's call id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: Option<String>,
    /// `inbound` or `outbound`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub direction: Option<String>,
    /// The caller.
    #[serde(default, deserialize_with = "lenient::string")]
    pub from: Option<String>,
    /// The callee.
    #[serde(default, deserialize_with = "lenient::string")]
    pub to: Option<String>,
    /// The contact in CloudTalk.
    #[serde(default, deserialize_with = "lenient::string")]
    pub contact_id: Option<String>,
    /// The contact's name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub contact_name: Option<String>,
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
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: Option<String>,
    /// The recording, when the call was recorded.
    #[serde(default, deserialize_with = "lenient::string")]
    pub recording_url: Option<String>,
    /// The whole `data` object as received.
    #[serde(skip)]
    pub raw: Option<&'a RawValue>,
}

impl<'a> CallData<'a> {
    /// Parses a raw `data` object, keeping it in `raw`.
    pub fn parse(raw: &'a RawValue) -> Result<Self, serde_json::Error> {
        let mut data: Self = serde_json::from_str(raw.get())?;
        data.raw = Some(raw);
        Ok(data)
    }
}
