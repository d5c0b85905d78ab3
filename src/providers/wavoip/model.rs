//! WaVoIP webhook payloads: `RECORD` (recording state) and `CALL` (call lifecycle)
//! events.
//!
//! `whatsapp_call_id` and `id_session` are numbers in WaVoIP's examples and strings in
//! hand-made tests: both are read, as one string form (`123456`). Fields may be
//! missing; types, actions and statuses callhook does not know parse as `Other`, and
//! the whole event stays available raw ([`Webhook::raw`]).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::providers::borrowed;
use crate::wire::{lenient, open_enum};

open_enum! {
    /// The event's `type`.
    pub enum EventType {
        /// A recording's state changed.
        Record = "RECORD",
        /// A call's state changed.
        Call = "CALL",
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
        /// From the device.
        Outgoing = "OUTGOING",
    }
}

/// A webhook body.
///
/// ```
/// use callhook::providers::wavoip::model::{EventType, RecordStatus, Webhook};
/// let body = br#"{"type":"RECORD","whatsapp_call_id":123456,"record_status":"READY","record_url":"https://s/1"}"#;
/// let webhook = Webhook::parse(body).unwrap();
/// assert_eq!(webhook.kind, EventType::Record);
/// assert_eq!(webhook.whatsapp_call_id.as_deref(), Some("123456"));
/// assert_eq!(webhook.record_status, Some(RecordStatus::Ready));
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// `RECORD`, `CALL`, ...
    #[serde(rename = "type", deserialize_with = "borrowed::open_enum")]
    pub kind: EventType,
    /// `CREATE`, `UPDATE`, ...
    #[serde(default, deserialize_with = "lenient::string")]
    pub action: Option<String>,
    /// The WhatsApp call's id at WaVoIP.
    #[serde(default, deserialize_with = "lenient::string")]
    pub whatsapp_call_id: Option<String>,
    /// The session (device connection) id.
    #[serde(default, deserialize_with = "lenient::string")]
    pub id_session: Option<String>,
    /// The call's status (`ACTIVE`, ...), on `CALL` events.
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: Option<String>,
    /// The call's direction.
    #[serde(default, deserialize_with = "borrowed::option_open_enum")]
    pub direction: Option<CallDirection>,
    /// How long the call has lasted, in seconds.
    #[serde(default, deserialize_with = "lenient::unsigned")]
    pub duration: Option<u64>,
    /// The recording's state.
    #[serde(default, deserialize_with = "borrowed::option_open_enum")]
    pub record_status: Option<RecordStatus>,
    /// Where the recording is, once `READY`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub record_url: Option<String>,
    /// The whole event as received.
    #[serde(skip)]
    pub raw: Option<&'a RawValue>,
}

impl<'a> Webhook<'a> {
    /// Parses a body, keeping it in `raw`.
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        let raw: &'a RawValue = serde_json::from_slice(body)?;
        let mut webhook: Self = serde_json::from_str(raw.get())?;
        webhook.raw = Some(raw);
        Ok(webhook)
    }
}
