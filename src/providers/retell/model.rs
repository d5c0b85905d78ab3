//! Retell AI webhook payloads: `{"event": ..., "call": {...}}`.
//!
//! The call object keeps its raw JSON ([`Call::raw`]) beside the typed fields, so the
//! fields callhook does not model (latency, tool calls, new ones) stay available byte
//! for byte. Strings borrow from the body where they have no escapes. Event names,
//! statuses and disconnection reasons Retell adds later are kept as they came (`as_str()`, `is_known()` false).
//!
//! Optional fields are read leniently (issue 21): `null` for any of them or any list;
//! numbers as floats (`1764590400000.0`) or strings (`"120000"`); times as unix
//! milliseconds, seconds or ISO 8601 text. An optional value that still cannot be read
//! (`"duration_ms": {"weird": true}`) is dropped, not an error: the event keeps
//! everything else. Optional text is kept as sent, a number as its text. Only `event` and `call.call_id` are required.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::wire::open_enum;
use crate::wire::{borrowed, lenient};

open_enum! {
    /// The `event` of a webhook.
    pub enum EventName {
        /// The call connected.
        CallStarted = "call_started",
        /// The call ended; transcript and recording are attached.
        CallEnded = "call_ended",
        /// Post-call analysis is done.
        CallAnalyzed = "call_analyzed",
        /// The live transcript changed.
        TranscriptUpdated = "transcript_updated",
        /// A transfer began.
        TransferStarted = "transfer_started",
        /// A transfer connected.
        TransferBridged = "transfer_bridged",
        /// A transfer was cancelled.
        TransferCancelled = "transfer_cancelled",
        /// A transfer ended.
        TransferEnded = "transfer_ended",
    }
}

open_enum! {
    /// `call_status`.
    pub enum CallStatus {
        /// Created, not started.
        Registered = "registered",
        /// Never connected.
        NotConnected = "not_connected",
        /// In progress.
        Ongoing = "ongoing",
        /// Ended.
        Ended = "ended",
        /// Ended by an error.
        Error = "error",
    }
}

open_enum! {
    /// `call_type`.
    pub enum CallType {
        /// A browser call.
        WebCall = "web_call",
        /// A telephone call.
        PhoneCall = "phone_call",
    }
}

open_enum! {
    /// `direction` of a phone call.
    pub enum Direction {
        /// To the agent's number.
        Inbound = "inbound",
        /// Placed by the agent.
        Outbound = "outbound",
    }
}

open_enum! {
    /// `disconnection_reason`: why the call ended (`retell-sdk` 5.66.1's list).
    pub enum DisconnectionReason {
        /// The user hung up.
        UserHangup = "user_hangup",
        /// The agent hung up.
        AgentHangup = "agent_hangup",
        /// Transferred.
        CallTransfer = "call_transfer",
        /// Reached voicemail.
        VoicemailReached = "voicemail_reached",
        /// Reached an IVR.
        IvrReached = "ivr_reached",
        /// Nobody spoke for too long.
        Inactivity = "inactivity",
        /// The maximum duration was reached.
        MaxDurationReached = "max_duration_reached",
        /// Too many concurrent calls.
        ConcurrencyLimitReached = "concurrency_limit_reached",
        /// Over the limit with no fallback.
        NoConcurrencyFallback = "no_concurrency_fallback",
        /// No valid payment method.
        NoValidPayment = "no_valid_payment",
        /// Ended by scam detection.
        ScamDetected = "scam_detected",
        /// The number was busy.
        DialBusy = "dial_busy",
        /// Dialling failed.
        DialFailed = "dial_failed",
        /// Nobody answered.
        DialNoAnswer = "dial_no_answer",
        /// The destination is invalid.
        InvalidDestination = "invalid_destination",
        /// The telephony provider refused.
        TelephonyProviderPermissionDenied = "telephony_provider_permission_denied",
        /// The telephony provider is down.
        TelephonyProviderUnavailable = "telephony_provider_unavailable",
        /// SIP routing failed.
        SipRoutingError = "sip_routing_error",
        /// Marked as spam by the carrier.
        MarkedAsSpam = "marked_as_spam",
        /// The callee declined.
        UserDeclined = "user_declined",
        /// The LLM websocket did not open.
        ErrorLlmWebsocketOpen = "error_llm_websocket_open",
        /// The LLM websocket dropped.
        ErrorLlmWebsocketLostConnection = "error_llm_websocket_lost_connection",
        /// The LLM websocket failed at run time.
        ErrorLlmWebsocketRuntime = "error_llm_websocket_runtime",
        /// The LLM websocket sent a corrupt payload.
        ErrorLlmWebsocketCorruptPayload = "error_llm_websocket_corrupt_payload",
        /// No audio arrived.
        ErrorNoAudioReceived = "error_no_audio_received",
        /// Speech recognition failed.
        ErrorAsr = "error_asr",
        /// Retell failed.
        ErrorRetell = "error_retell",
        /// An unknown error.
        ErrorUnknown = "error_unknown",
        /// The web-call user never joined.
        ErrorUserNotJoined = "error_user_not_joined",
        /// A registered call was never started.
        RegisteredCallTimeout = "registered_call_timeout",
        /// Ended after a bridged transfer.
        TransferBridged = "transfer_bridged",
        /// Ended after a cancelled transfer.
        TransferCancelled = "transfer_cancelled",
        /// Stopped manually.
        ManualStopped = "manual_stopped",
        /// A human took over.
        CallTakeOver = "call_take_over",
    }
}

open_enum! {
    /// `user_sentiment` from the post-call analysis.
    pub enum UserSentiment {
        /// Negative.
        Negative = "Negative",
        /// Positive.
        Positive = "Positive",
        /// Neutral.
        Neutral = "Neutral",
        /// Unknown.
        Unknown = "Unknown",
    }
}

/// A webhook body. Events without a `call` (chat events) leave it `None`.
///
/// ```
/// use callhook::providers::retell::model::{EventName, Webhook};
/// let body = br#"{"event":"call_started","call":{"call_id":"call_1","call_status":"ongoing","start_timestamp":1764590400000}}"#;
/// let webhook = Webhook::parse(body).unwrap();
/// assert_eq!(webhook.event, EventName::CallStarted);
/// assert_eq!(webhook.call.unwrap().call_id, "call_1");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Webhook<'a> {
    /// The event.
    pub event: EventName,
    /// The call, typed.
    pub call: Option<Call<'a>>,
}

impl<'a> Webhook<'a> {
    /// Parses a body.
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Envelope<'a> {
            #[serde(deserialize_with = "borrowed::open_enum")]
            event: EventName,
            #[serde(borrow, default)]
            call: Option<&'a RawValue>,
        }
        let envelope: Envelope<'a> = serde_json::from_slice(body)?;
        let call = envelope.call.map(Call::parse).transpose()?;
        Ok(Self { event: envelope.event, call })
    }
}

/// The call object.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Call<'a> {
    /// The call id.
    #[serde(borrow)]
    pub call_id: Cow<'a, str>,
    /// `web_call` or `phone_call`.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub call_type: Option<CallType>,
    /// The agent.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub agent_id: Option<Cow<'a, str>>,
    /// The agent's version (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::int")]
    pub agent_version: Option<i64>,
    /// The call's status.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub call_status: Option<CallStatus>,
    /// The caller (phone calls).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub from_number: Option<Cow<'a, str>>,
    /// The callee (phone calls).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub to_number: Option<Cow<'a, str>>,
    /// Inbound or outbound (phone calls).
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub direction: Option<Direction>,
    /// When it started: unix ms on the wire (also read as unix seconds or ISO 8601;
    /// dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub start_timestamp: Option<OffsetDateTime>,
    /// When it ended, read as `start_timestamp` is.
    #[serde(default, deserialize_with = "lenient::lossy::timestamp")]
    pub end_timestamp: Option<OffsetDateTime>,
    /// How long it lasted, ms (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub duration_ms: Option<u64>,
    /// Why it ended.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub disconnection_reason: Option<DisconnectionReason>,
    /// The transcript, `Agent:`/`User:` lines.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub transcript: Option<Cow<'a, str>>,
    /// The transcript as turns (`null` is none).
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub transcript_object: Vec<Utterance<'a>>,
    /// The recording (mono or mixed).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub recording_url: Option<Cow<'a, str>>,
    /// The multi-channel recording.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub recording_multi_channel_url: Option<Cow<'a, str>>,
    /// The public call log.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub public_log_url: Option<Cow<'a, str>>,
    /// Post-call analysis (`call_analyzed`); dropped when it is not an object.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::object")]
    pub call_analysis: Option<CallAnalysis<'a>>,
    /// What the call cost; dropped when it is not an object.
    #[serde(default, deserialize_with = "lenient::lossy::object")]
    pub call_cost: Option<CallCost>,
    /// The caller's own metadata, as given when the call was created.
    #[serde(borrow, default)]
    pub metadata: Option<&'a RawValue>,
    /// Dynamic variables given to the agent's LLM.
    #[serde(borrow, default)]
    pub retell_llm_dynamic_variables: Option<&'a RawValue>,
    /// The telephony provider's ids (e.g. a Twilio call sid).
    #[serde(borrow, default)]
    pub telephony_identifier: Option<&'a RawValue>,
    /// The whole call object as received.
    #[serde(skip)]
    pub raw: Option<&'a RawValue>,
}

impl<'a> Call<'a> {
    /// Parses a raw call object, keeping it in `raw`.
    pub fn parse(raw: &'a RawValue) -> Result<Self, serde_json::Error> {
        let mut call: Self = serde_json::from_str(raw.get())?;
        call.raw = Some(raw);
        Ok(call)
    }
}

/// One turn of the transcript.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Utterance<'a> {
    /// `agent` or `user` (empty when missing or `null`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim_or_empty")]
    pub role: Cow<'a, str>,
    /// What was said (empty when missing or `null`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim_or_empty")]
    pub content: Cow<'a, str>,
    /// Word timings (`null` is none).
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub words: Vec<Word<'a>>,
}

/// A word and when it was said, in seconds from the start.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Word<'a> {
    /// The word (empty when missing or `null`).
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim_or_empty")]
    pub word: Cow<'a, str>,
    /// Start, seconds (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::float")]
    pub start: Option<f64>,
    /// End, seconds (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::float")]
    pub end: Option<f64>,
}

/// `call_analysis`.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CallAnalysis<'a> {
    /// A summary of the call.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::verbatim")]
    pub call_summary: Option<Cow<'a, str>>,
    /// Whether it reached voicemail (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::boolean")]
    pub in_voicemail: Option<bool>,
    /// The user's sentiment.
    #[serde(default, deserialize_with = "lenient::lossy::open_enum")]
    pub user_sentiment: Option<UserSentiment>,
    /// Whether the agent achieved its goal (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::boolean")]
    pub call_successful: Option<bool>,
    /// The agent's custom analysis fields.
    #[serde(borrow, default)]
    pub custom_analysis_data: Option<&'a RawValue>,
}

/// `call_cost`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CallCost {
    /// The total, in cents (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::float")]
    pub combined_cost: Option<f64>,
    /// The billed duration (dropped when unreadable).
    #[serde(default, deserialize_with = "lenient::lossy::float")]
    pub total_duration_seconds: Option<f64>,
}

