//! WaVoIP webhook payloads: `RECORD` (recording state) and `CALL` (call lifecycle)
//! events.
//!
//! `whatsapp_call_id` and `id_session` are numbers in WaVoIP's examples and strings in
//! hand-made tests: both are read, as one string form (`123456`). Fields may be
//! missing; types, actions and statuses callhook does not know are kept as they came (`as_str()`, `is_known()` false). The
//! payload itself is kept, byte for byte, in the event log.
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

/// A webhook body, read in one pass with its strings borrowed from the body where they
/// have no escapes: the model the pipeline itself uses.
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
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub action: Option<Cow<'a, str>>,
    /// The WhatsApp call's id at WaVoIP.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub whatsapp_call_id: Option<Cow<'a, str>>,
    /// The session (device connection) id.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub id_session: Option<Cow<'a, str>>,
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
}
