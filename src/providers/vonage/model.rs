//! Vonage Voice API event webhooks: the JSON bodies Vonage posts to an application's
//! `event_url`.
//!
//! Every event is one flat object (Vonage's Voice API webhook reference; the Java SDK's
//! `EventWebhook` maps the same fields): call status events (`status` from `started`
//! to `completed`), the recording event of a `record` action (no `status`, a
//! `recording_url`), `input`, `transfer`, answering machine detection (`human` /
//! `machine`, with `call_uuid` instead of `uuid`) and errors (a `reason`). [`Webhook`]
//! holds every field any of them carries, and [`Webhook::kind`] says which one it is.
//!
//! Vonage writes `duration`, `size`, `rate` and `price` as strings (`"duration": "5"`);
//! numbers are read too, and empty strings and `null` (the `answered` event's empty
//! `start_time`, `rate` and `network`) are absent. Times are ISO 8601
//! (`2020-01-01T12:00:00.000Z`); unix seconds or milliseconds are read too. A field that
//! says neither what the event is nor which call it belongs to (everything but
//! `status`, the ids, `recording_url`, `dtmf`, `speech` and `reason`) is absent when its
//! value cannot be read (another type, a time that is no time): it costs only itself.
//! Statuses, directions and details Vonage adds later are kept as they came
//! (`as_str()`, `is_known()` false), not an error, and fields
//! callhook does not model stay in the stored body.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::wire::{borrowed, lenient, open_enum};

open_enum! {
    /// `status`: where the leg is, or what an event reports.
    pub enum Status {
        /// The leg was created.
        Started = "started",
        /// The destination is ringing.
        Ringing = "ringing",
        /// The leg was answered.
        Answered = "answered",
        /// The destination was busy.
        Busy = "busy",
        /// The originator hung up before an answer.
        Cancelled = "cancelled",
        /// The destination did not answer or declined.
        Unanswered = "unanswered",
        /// A WebSocket leg was disconnected by the application side.
        Disconnected = "disconnected",
        /// Vonage rejected the call before connecting it.
        Rejected = "rejected",
        /// The call could not be connected.
        Failed = "failed",
        /// Ringing lasted longer than `ringing_timeout`.
        Timeout = "timeout",
        /// The leg is over; the event carries its summary.
        Completed = "completed",
        /// Machine detection: a person answered.
        Human = "human",
        /// Machine detection: voicemail or another machine answered.
        Machine = "machine",
        /// An `input` action finished.
        Input = "input",
        /// The leg moved to another conversation.
        Transfer = "transfer",
    }
}

open_enum! {
    /// `direction` of a leg.
    pub enum Direction {
        /// Into the application.
        Inbound = "inbound",
        /// Placed by the application.
        Outbound = "outbound",
    }
}

open_enum! {
    /// `detail`: why a leg did not connect (the Java SDK's `CallStatusDetail`).
    pub enum Detail {
        /// The number is invalid.
        InvalidNumber = "invalid_number",
        /// Refused by the carrier.
        Restricted = "restricted",
        /// Declined by the callee.
        Declined = "declined",
        /// No route to the number.
        CannotRoute = "cannot_route",
        /// The number is no longer in service.
        NumberOutOfService = "number_out_of_service",
        /// Vonage failed.
        InternalError = "internal_error",
        /// The carrier timed out.
        CarrierTimeout = "carrier_timeout",
        /// The callee is temporarily unavailable.
        Unavailable = "unavailable",
    }
}

open_enum! {
    /// `disconnected_by` on `completed`: who ended the leg.
    pub enum DisconnectedBy {
        /// The platform (the NCCO ended).
        Platform = "platform",
        /// The user hung up, rejected or did not answer.
        User = "user",
    }
}

/// What an event is, from its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A leg's status changed (`started` ... `completed`, `disconnected`).
    CallStatus,
    /// A `record` action's recording is ready (`recording_url`).
    Recording,
    /// Machine detection's verdict (`human`, `machine`).
    MachineDetection,
    /// An `input` action finished (`dtmf` or `speech`).
    Input,
    /// A leg moved between conversations (`conversation_uuid_from`/`_to`).
    Transfer,
    /// Vonage reports an error (a `reason`, no `status`).
    Error,
    /// Anything else (a `status` callhook does not know).
    Other,
}

/// One event webhook body, every field optional.
///
/// ```
/// use callhook::providers::vonage::model::{Kind, Status, Webhook};
/// let body = br#"{"uuid":"63f61863","conversation_uuid":"CON-f972836a","status":"completed","duration":"42","rate":"0.00450000","timestamp":"2025-12-01T12:00:42.000Z"}"#;
/// let event = Webhook::parse(body).unwrap();
/// assert_eq!(event.status, Some(Status::Completed));
/// assert_eq!(event.kind(), Kind::CallStatus);
/// assert_eq!(event.duration, Some(42));
/// assert_eq!(event.rate.as_deref(), Some("0.00450000"));
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// The status, or what the event reports.
    #[serde(default, deserialize_with = "borrowed::option_open_enum")]
    pub status: Option<Status>,
    /// The leg (`uuid`).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub uuid: Option<Cow<'a, str>>,
    /// The leg, in machine detection events (`call_uuid`).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub call_uuid: Option<Cow<'a, str>>,
    /// The conversation (`CON-...`): every leg of a call and its recordings.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub conversation_uuid: Option<Cow<'a, str>>,
    /// The caller.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub from: Option<Cow<'a, str>>,
    /// The callee.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub to: Option<Cow<'a, str>>,
    /// Inbound or outbound.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub direction: Option<Direction>,
    /// When the event happened.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub timestamp: Option<OffsetDateTime>,
    /// When the leg (`completed`) or the recording started.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub start_time: Option<OffsetDateTime>,
    /// When the leg (`completed`) or the recording ended.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub end_time: Option<OffsetDateTime>,
    /// The leg's length in seconds (`completed`).
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub duration: Option<u64>,
    /// The price per minute (`completed`), as written (`"0.00450000"`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub rate: Option<Cow<'a, str>>,
    /// The leg's total price (`completed`), as written.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub price: Option<Cow<'a, str>>,
    /// The network used (`completed`, e.g. `GB-FIXED` or a mobile network code).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub network: Option<Cow<'a, str>>,
    /// Why the leg did not connect.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub detail: Option<Detail>,
    /// Who ended the leg (`completed`).
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub disconnected_by: Option<DisconnectedBy>,
    /// Where to download the recording (recording events).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub recording_url: Option<Cow<'a, str>>,
    /// The recording's id (recording events).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub recording_uuid: Option<Cow<'a, str>>,
    /// The recording's size in bytes (recording events).
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub size: Option<u64>,
    /// The keys pressed (`input`): a string, or `{"digits", "timed_out"}`.
    #[serde(borrow, default)]
    pub dtmf: Option<&'a RawValue>,
    /// Speech recognition results (`input`).
    #[serde(borrow, default)]
    pub speech: Option<&'a RawValue>,
    /// Machine detection's sub-state (`beep_start`, ...).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub sub_state: Option<Cow<'a, str>>,
    /// The conversation a transferred leg left.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub conversation_uuid_from: Option<Cow<'a, str>>,
    /// The conversation a transferred leg joined.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub conversation_uuid_to: Option<Cow<'a, str>>,
    /// What went wrong (error events).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub reason: Option<Cow<'a, str>>,
}

impl<'a> Webhook<'a> {
    /// Parses a body (a JSON object; unknown fields are ignored here and kept in the
    /// stored body).
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        // Serde would read `[]` as an object with every field absent.
        if body.trim_ascii_start().first().is_some_and(|&first| first != b'{') {
            return Err(serde::de::Error::invalid_type(serde::de::Unexpected::Other("not an object"), &"a JSON object"));
        }
        borrowed::from_json(body)
    }

    /// Which event this is.
    ///
    /// ```
    /// use callhook::providers::vonage::model::{Kind, Webhook};
    /// let record = Webhook::parse(br#"{"recording_url":"https://api.nexmo.com/v1/files/1","conversation_uuid":"CON-1"}"#).unwrap();
    /// assert_eq!(record.kind(), Kind::Recording);
    /// let error = Webhook::parse(br#"{"reason":"Syntax error in NCCO.","conversation_uuid":"CON-1"}"#).unwrap();
    /// assert_eq!(error.kind(), Kind::Error);
    /// assert_eq!(Webhook::parse(br#"{"status":"on_hold"}"#).unwrap().kind(), Kind::Other);
    /// ```
    pub fn kind(&self) -> Kind {
        if self.recording_url.is_some() {
            return Kind::Recording;
        }
        match &self.status {
            Some(
                Status::Started
                | Status::Ringing
                | Status::Answered
                | Status::Busy
                | Status::Cancelled
                | Status::Unanswered
                | Status::Disconnected
                | Status::Rejected
                | Status::Failed
                | Status::Timeout
                | Status::Completed,
            ) => Kind::CallStatus,
            Some(Status::Human | Status::Machine) => Kind::MachineDetection,
            Some(Status::Input) => Kind::Input,
            Some(Status::Transfer) => Kind::Transfer,
            Some(Status::_Custom(_)) => Kind::Other,
            None if self.conversation_uuid_from.is_some() || self.conversation_uuid_to.is_some() => Kind::Transfer,
            None if self.dtmf.is_some() || self.speech.is_some() => Kind::Input,
            None if self.reason.is_some() => Kind::Error,
            None => Kind::Other,
        }
    }

    /// The leg: `uuid`, else `call_uuid`.
    pub fn leg(&self) -> Option<&str> {
        self.uuid.as_deref().or(self.call_uuid.as_deref())
    }
}
