//! WaVoIP webhook payloads: `RECORD` (recording state) and `CALL` (call lifecycle)
//! events.
//!
//! `whatsapp_call_id` and `id_session` are numbers in WaVoIP's examples and strings in
//! hand-made tests: both are read, as one string form (`123456`). Fields may be
//! missing; types, actions and statuses callhook does not know are kept as they came (`as_str()`, `is_known()` false). The
//! payload itself is kept, byte for byte, in the event log.
//!
//! `type` says what the event is, as [`Webhook::kind`] reads it (WaVoIP documents a
//! call body with `type` twice, `CALL` then `HUMANIZED` or `ROBOTIC`).
//!
//! Every field but `type` and `whatsapp_call_id` is optional and read leniently
//! (issue 21): `null` or empty is absent, numbers may come as floats or strings, and a
//! value that still cannot be read (an object, a boolean, `"duration": "soon"`) is
//! dropped rather than failing the event.

use std::borrow::Cow;

use serde::Deserialize;

use crate::wire::borrowed;
use crate::wire::{lenient, open_enum};

open_enum! {
    /// The event's `type`.
    pub enum EventType {
        /// A recording's state changed.
        Record = "RECORD",
        /// A call's state changed.
        Call = "CALL",
        /// WaVoIP's documented second `type` of a `CALL` body (its webhook sketch lists
        /// `type` twice): the call is with a person. A body whose last `type` is this
        /// is a call ([`Webhook::kind`]).
        Humanized = "HUMANIZED",
        /// As [`EventType::Humanized`], for a call with a machine.
        Robotic = "ROBOTIC",
    }
}

open_enum! {
    /// `record_status`.
    pub enum RecordStatus {
        /// The call is being recorded.
        Recording = "RECORDING",
        /// The audio is being mixed.
        Mixing = "MIXING",
        /// Ready at `record_url`.
        Ready = "READY",
        /// Recording is off for the device.
        Disabled = "DISABLED",
        /// The call was too short: nothing to download.
        EmptyRecording = "EMPTY_RECORDING",
    }
}

open_enum! {
    /// A call's `direction`.
    pub enum CallDirection {
        /// To the device.
        Incoming = "INCOMING",
        /// From the device (the SDK's and the contract's spelling).
        Outgoing = "OUTGOING",
        /// From the device, as WaVoIP's webhook documentation spells it.
        Outcoming = "OUTCOMING",
    }
}

/// A webhook body, read in one pass with its strings borrowed from the body where they
/// have no escapes: the model the pipeline itself uses.
///
/// ```
/// use callhook::providers::wavoip::model::{EventType, RecordStatus, Webhook};
/// let body = br#"{"type":"RECORD","whatsapp_call_id":123456,"record_status":"READY","record_url":"https://s/1"}"#;
/// let webhook = Webhook::parse(body).unwrap();
/// assert_eq!(webhook.kind(), Some(EventType::Record));
/// assert_eq!(webhook.call_id(), Some("123456"));
/// assert_eq!(webhook.record_status, Some(RecordStatus::Ready));
///
/// let body = br#"{"type":"CALL","whatsapp_call_id":1,"caller":"5511987650001","receiver":5511912340002}"#;
/// let webhook = Webhook::parse(body).unwrap();
/// assert_eq!(webhook.caller.as_deref(), Some("5511987650001"));
/// assert_eq!(webhook.receiver.as_deref(), Some("5511912340002"));
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// `type` as sent (the last one, if the body repeats it): `RECORD`, `CALL`,
    /// `HUMANIZED`, ... [`Webhook::kind`] says what the event is.
    #[serde(rename = "type", default, deserialize_with = "lenient::lossy::open_enum")]
    pub declared_type: Option<EventType>,
    /// `CREATE`, `UPDATE`, ...
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub action: Option<Cow<'a, str>>,
    /// The WhatsApp call's id at WaVoIP.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub whatsapp_call_id: Option<Cow<'a, str>>,
    /// A legacy name of the call's id, used when `whatsapp_call_id` is absent.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub id: Option<Cow<'a, str>>,
    /// The session (device connection) id.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub id_session: Option<Cow<'a, str>>,
    /// Who placed the call, on `CALL` events: a phone number, digits usually without
    /// `+` (`5511987650001`), a JSON number read as its digits.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub caller: Option<Cow<'a, str>>,
    /// Who was called, on `CALL` events, written as [`caller`](Self::caller) is.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub receiver: Option<Cow<'a, str>>,
    /// The call's status (`ACTIVE`, ...), on `CALL` events.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub status: Option<Cow<'a, str>>,
    /// The call's direction.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub direction: Option<CallDirection>,
    /// How long the call has lasted, in seconds.
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub duration: Option<u64>,
    /// The recording's state.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub record_status: Option<RecordStatus>,
    /// Where the recording is, once `READY`.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub record_url: Option<Cow<'a, str>>,
}

impl<'a> Webhook<'a> {
    /// Parses a body.
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        borrowed::from_json(body)
    }

    /// What the event is, by the rule that survives WaVoIP's repeated `type` key:
    /// `CALL` and `RECORD` (in any case) are themselves; `HUMANIZED` or `ROBOTIC` (the
    /// second `type` of a call) is a `CALL`; with no `type`, a body with a call
    /// `status` or `direction` is a `CALL`, one with a `record_status` or `record_url`
    /// a `RECORD`; another `type` is kept as sent. `None`: nothing says what it is.
    ///
    /// ```
    /// use callhook::providers::wavoip::model::{EventType, Webhook};
    /// let kind = |body: &[u8]| Webhook::parse(body).unwrap().kind();
    /// assert_eq!(kind(br#"{"type":"HUMANIZED","whatsapp_call_id":1,"status":"ENDED"}"#), Some(EventType::Call));
    /// assert_eq!(kind(br#"{"whatsapp_call_id":1,"record_status":"READY"}"#), Some(EventType::Record));
    /// assert_eq!(kind(br#"{"type":"DEVICE","status":"open"}"#), Some(EventType::from("DEVICE")));
    /// assert_eq!(kind(br#"{"whatsapp_call_id":1}"#), None);
    /// ```
    pub fn kind(&self) -> Option<EventType> {
        match &self.declared_type {
            Some(EventType::Call | EventType::Humanized | EventType::Robotic) => Some(EventType::Call),
            Some(EventType::Record) => Some(EventType::Record),
            Some(other) if other.as_str().eq_ignore_ascii_case("CALL") => Some(EventType::Call),
            Some(other) if other.as_str().eq_ignore_ascii_case("RECORD") => Some(EventType::Record),
            Some(other) => Some(other.clone()),
            None if self.status.is_some() || self.direction.is_some() => Some(EventType::Call),
            None if self.record_status.is_some() || self.record_url.is_some() => Some(EventType::Record),
            None => None,
        }
    }

    /// The call's id: `whatsapp_call_id`, else the legacy `id`.
    pub fn call_id(&self) -> Option<&str> {
        self.whatsapp_call_id.as_deref().or(self.id.as_deref())
    }
}
