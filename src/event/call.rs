//! Calls: a call's state, its recording and the provider's analysis of it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ContactId, Direction, ProviderError, ProviderId};

/// A normalized call lifecycle event.
///
/// Every field but the provider and the call id is optional: a provider tells what it
/// knows in each callback, and [`crate::state::CallState`] folds them together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallEvent {
    /// The provider that reported the call.
    pub provider: ProviderId,
    /// The provider's id of the call (Twilio `CallSid`, Retell `call_id`, ...).
    pub call_id: String,
    /// The call's normalized status, when this event reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CallStatus>,
    /// The provider's own status or reason string, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_status: Option<String>,
    /// Whether the call came in or went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The caller, as the provider wrote it (a number, a SIP URI, `anonymous`, ...);
    /// [`customer`](Self::customer) and [`business_number`](Self::business_number) have
    /// the numbers in E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The callee, as the provider wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The contact's name, when the provider knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// When this event happened, per the provider.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<OffsetDateTime>,
    /// The provider's ordering of events for this call (Twilio `SequenceNumber`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// When the call started.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<OffsetDateTime>,
    /// When the call was answered.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<OffsetDateTime>,
    /// When the call ended.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<OffsetDateTime>,
    /// How long the call lasted, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The state of the call's recording, when this event reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    /// Post-call analysis (summary, sentiment, transcript), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<CallAnalysis>,
    /// The provider's error, on failed calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProviderError>,
    /// Who the customer on the call is (the caller of an inbound call, the callee of an
    /// outbound one), where the provider says: a phone number in E.164 or a WhatsApp
    /// business-scoped user id. `None` when the direction is not known or the
    /// customer's side is no phone number (a SIP URI, a withheld caller id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<ContactId>,
    /// The business's own number on the call (the callee of an inbound call, the caller
    /// of an outbound one) in E.164, where the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_number: Option<String>,
    /// Other calls this one is part of one conversation with, where the payload says
    /// (a Twilio leg's parent call and the Retell call it dialed, the Twilio call a
    /// Retell call came in on). A timeline joins them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<CallLink>,
    /// What callhook noticed while reading the payload and worked around (a duplicate
    /// key whose last value was used, ...). Empty for a payload read as sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Another call a call is linked to: the same conversation seen by another leg or
/// another provider.
///
/// ```
/// use callhook::event::{CallLink, LinkVia, ProviderId};
/// let link = CallLink::new(ProviderId::from_static("retell"), "call_a1b2", LinkVia::SipUri);
/// assert_eq!(serde_json::to_value(&link).unwrap()["via"], "sip_uri");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallLink {
    /// The other call's provider.
    pub provider: ProviderId,
    /// The other call's id at that provider.
    pub call_id: String,
    /// How the payload names it.
    pub via: LinkVia,
}

impl CallLink {
    /// A link to `call_id` at `provider`, found `via`.
    pub fn new(provider: ProviderId, call_id: impl Into<String>, via: LinkVia) -> Self {
        Self { provider, call_id: call_id.into(), via }
    }
}

/// How a payload names a linked call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LinkVia {
    /// The call is a leg of this parent call (Twilio's `ParentCallSid`).
    ParentCall,
    /// The call was dialed to a SIP URI naming this call (Twilio `<Dial><Sip>` to
    /// `sip:{call_id}@sip.retellai.com`).
    SipUri,
    /// The provider names the telephony call it came in on (Retell's
    /// `telephony_identifier.twilio_call_sid`).
    TelephonyIdentifier,
    /// The caller put the other call's id in the call's metadata (Retell's
    /// `metadata.twilio_call_sid`).
    Metadata,
}

impl CallEvent {
    /// A call event with only the provider and call id set.
    ///
    /// ```
    /// use callhook::event::{CallEvent, CallStatus, ProviderId};
    /// let mut event = CallEvent::new(ProviderId::from_static("retell"), "call_1");
    /// event.status = Some(CallStatus::InProgress);
    /// assert_eq!(event.call_id, "call_1");
    /// ```
    pub fn new(provider: ProviderId, call_id: impl Into<String>) -> Self {
        Self {
            provider,
            call_id: call_id.into(),
            status: None,
            provider_status: None,
            direction: None,
            from: None,
            to: None,
            contact_name: None,
            occurred_at: None,
            sequence: None,
            started_at: None,
            answered_at: None,
            ended_at: None,
            duration_ms: None,
            recording: None,
            analysis: None,
            error: None,
            customer: None,
            business_number: None,
            links: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets [`customer`](Self::customer) and [`business_number`](Self::business_number)
    /// from [`from`](Self::from) and [`to`](Self::to) by [`direction`](Self::direction):
    /// the caller of an inbound call is the customer and the callee the business, the
    /// other way round for an outbound call. Each side is read with
    /// [`phone::e164`](super::phone::e164), so a SIP URI or a withheld caller gives
    /// `None`. Without a direction nothing is set: either side could be the customer.
    ///
    /// ```
    /// use callhook::event::{CallEvent, ContactId, Direction, ProviderId};
    /// let mut call = CallEvent::new(ProviderId::from_static("acme"), "c1");
    /// call.direction = Some(Direction::Outbound);
    /// call.from = Some("+1 415 555 0100".into());
    /// call.to = Some("5511987654321".into());
    /// call.fill_numbers_from_direction();
    /// assert_eq!(call.customer, Some(ContactId::phone("+5511987654321")));
    /// assert_eq!(call.business_number.as_deref(), Some("+14155550100"));
    /// ```
    pub fn fill_numbers_from_direction(&mut self) {
        let (customer, business) = match self.direction {
            Some(Direction::Inbound) => (&self.from, &self.to),
            Some(Direction::Outbound) => (&self.to, &self.from),
            None => return,
        };
        self.business_number = business.as_deref().and_then(super::phone::e164);
        self.customer = customer.as_deref().and_then(ContactId::from_phone);
    }
}

/// A call's normalized status.
///
/// Statuses are ranked (see [`CallStatus::precedence`]) so a late, lower-ranked status
/// never overwrites a higher one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallStatus {
    /// Created or queued, not yet ringing.
    Initiated,
    /// Ringing at the callee.
    Ringing,
    /// Answered and ongoing.
    InProgress,
    /// Ended after being answered.
    Completed,
    /// Canceled before it was answered.
    Canceled,
    /// The callee was busy.
    Busy,
    /// Not answered (a missed call).
    NoAnswer,
    /// Could not be placed or ended in an error.
    Failed,
}

impl CallStatus {
    /// Every status, lowest precedence first.
    pub const ALL: [CallStatus; 8] = [
        CallStatus::Initiated,
        CallStatus::Ringing,
        CallStatus::InProgress,
        CallStatus::Completed,
        CallStatus::Canceled,
        CallStatus::Busy,
        CallStatus::NoAnswer,
        CallStatus::Failed,
    ];

    /// The status's rank when events are folded: the highest wins.
    ///
    /// The live statuses rank by progress (initiated < ringing < in progress) and every
    /// terminal status outranks them. Two different terminal statuses for one call (a
    /// provider reporting `completed` and also `no-answer`) are resolved by the more
    /// specific outcome: completed < canceled < busy < no answer < failed. This makes the
    /// fold independent of arrival order.
    ///
    /// ```
    /// use callhook::event::CallStatus;
    /// assert!(CallStatus::Completed.precedence() > CallStatus::Ringing.precedence());
    /// assert!(CallStatus::Failed.precedence() > CallStatus::Completed.precedence());
    /// ```
    pub fn precedence(self) -> u8 {
        match self {
            CallStatus::Initiated => 0,
            CallStatus::Ringing => 1,
            CallStatus::InProgress => 2,
            CallStatus::Completed => 3,
            CallStatus::Canceled => 4,
            CallStatus::Busy => 5,
            CallStatus::NoAnswer => 6,
            CallStatus::Failed => 7,
        }
    }

    /// Whether the call is over in this status.
    pub fn is_terminal(self) -> bool {
        self.precedence() >= CallStatus::Completed.precedence()
    }

    /// The `snake_case` name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Initiated => "initiated",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in_progress",
            CallStatus::Completed => "completed",
            CallStatus::Canceled => "canceled",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no_answer",
            CallStatus::Failed => "failed",
        }
    }
}

/// The state of a call's recording at the provider.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recording {
    /// Where the recording is.
    pub status: RecordingStatus,
    /// The provider's URL of the recording, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The provider's recording id (Twilio `RecordingSid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<String>,
    /// Length of the recording in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// Why the recording failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProviderError>,
    /// Where callhook stored its copy, once downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredRecording>,
}

/// A recording callhook downloaded and stored.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredRecording {
    /// Where it is (a file path, an object key), as the sink names it.
    pub location: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Its content type, as the provider served it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl StoredRecording {
    /// A stored recording at `location` of `size_bytes`.
    pub fn new(location: impl Into<String>, size_bytes: u64, content_type: Option<String>) -> Self {
        Self { location: location.into(), size_bytes, content_type }
    }
}

impl Recording {
    /// A recording in the given status with nothing else known.
    ///
    /// ```
    /// use callhook::event::{Recording, RecordingStatus};
    /// let mut recording = Recording::new(RecordingStatus::Ready);
    /// recording.url = Some("https://example.com/rec.wav".into());
    /// assert!(recording.status.is_final());
    /// ```
    pub fn new(status: RecordingStatus) -> Self {
        Self { status, url: None, recording_id: None, duration_secs: None, error: None, stored: None }
    }
}

/// Where a recording is in its life at the provider.
///
/// Ordered by precedence (declaration order): a late `recording` never overwrites
/// `ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordingStatus {
    /// The call is being recorded.
    Recording,
    /// The provider is processing (mixing, transcoding) the audio.
    Processing,
    /// The recording failed at the provider.
    Failed,
    /// No audio was captured (Twilio `absent`).
    Absent,
    /// The call was too short to record anything (WaVoIP `EMPTY_RECORDING`).
    Empty,
    /// Recording is turned off.
    Disabled,
    /// The recording can be downloaded from its URL.
    Ready,
}

impl RecordingStatus {
    /// Whether the provider will report nothing more about this recording.
    pub fn is_final(self) -> bool {
        !matches!(self, RecordingStatus::Recording | RecordingStatus::Processing)
    }
}

/// What an AI voice agent or a provider's analysis says about a call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallAnalysis {
    /// A short summary of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The caller's sentiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
    /// Whether the call reached its goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful: Option<bool>,
    /// Whether the call reached a voicemail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_voicemail: Option<bool>,
    /// The transcript as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// Provider-specific analysis data, kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
}

/// A caller's sentiment as judged by the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Sentiment {
    /// Negative.
    Negative,
    /// Neither positive nor negative.
    Neutral,
    /// Positive.
    Positive,
    /// The provider could not tell (also used for values callhook does not know).
    Unknown,
}
