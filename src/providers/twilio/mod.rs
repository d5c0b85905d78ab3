//! Twilio: voice calls, call recordings and messaging (SMS, MMS, WhatsApp via Twilio).
//!
//! Twilio posts `application/x-www-form-urlencoded` bodies, signs them over the URL it
//! called ([`signature`]), and expects TwiML ([`twiml`]) in reply to an incoming call.
//! Mount one [`Twilio`] at each endpoint you configure in the Twilio console:
//!
//! | path (suggested) | Twilio setting | reply |
//! |---|---|---|
//! | `/webhooks/twilio/incoming-call` | number: "A call comes in" | TwiML from your [`IncomingCallHook`], or the default |
//! | `/webhooks/twilio/call-status` | call `StatusCallback` | empty `200` |
//! | `/webhooks/twilio/recording-status` | `RecordingStatusCallback` | empty `200` |
//! | `/webhooks/twilio/message-status` | message `StatusCallback` | empty `200` |
//! | `/webhooks/twilio/incoming-message` | number: "A message comes in" | `<Response/>` |
//!
//! The kind of request is taken from the path's last segment when it is one of those
//! names, and otherwise from the parameters ([`Endpoint::detect`]).
//!
//! Signatures cover the public URL Twilio called, so the [`Receiver`](crate::Receiver)
//! needs [`public_base_url`](crate::receiver::ReceiverBuilder::public_base_url) (e.g.
//! `https://crm.example.com`); without it every request is refused with `500`
//! (verification not configured), never checked against a guessed URL.
//!
//! # Dedupe keys
//!
//! Twilio retries a failed request with the same `I-Twilio-Idempotency-Token` header;
//! when present, `idempotency:<token>` is the key. Without it the key is built from the
//! payload, so the same callback twice is stored once:
//!
//! | request | key |
//! |---|---|
//! | incoming call | `incoming-call:<CallSid>` |
//! | call status | `call-status:<CallSid>:<CallStatus>:<SequenceNumber or ->` |
//! | recording status | `recording-status:<RecordingSid>:<RecordingStatus>` |
//! | message status | `message-status:<MessageSid>:<MessageStatus>` |
//! | incoming message | `incoming-message:<MessageSid>` |
//!
//! The event type is `incoming-call`, `call-status.<status>`,
//! `recording-status.<status>`, `message-status.<status>` or `incoming-message`.
//!
//! ```
//! use std::sync::Arc;
//! use callhook::providers::twilio::{Twilio, twiml::{Dial, Sip, VoiceResponse}};
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let twilio = Arc::new(
//!     Twilio::builder()
//!         .auth_token("primary auth token")
//!         .auth_token("secondary auth token") // during rotation
//!         .on_incoming_call(|_call: &callhook::providers::twilio::model::IncomingCall<'_>| {
//!             VoiceResponse::new().verb(Dial::new().sip(Sip::new("sip:agent@voice.example.com")))
//!         })
//!         .build(),
//! );
//! let receiver = Receiver::builder()
//!     .public_base_url("https://crm.example.com")
//!     .mount("/webhooks/twilio/incoming-call", twilio.clone())
//!     .mount("/webhooks/twilio/call-status", twilio.clone())
//!     .mount("/webhooks/twilio/recording-status", twilio)
//!     .event_log(Arc::new(MemoryEventLog::new()))
//!     .job_queue(Arc::new(MemoryJobQueue::new()))
//!     .build()
//!     .unwrap();
//! # let _ = receiver;
//! ```

mod form;
pub mod model;
pub mod normalize;
mod registration;
pub mod signature;
#[cfg(feature = "testing")]
pub mod testing;

pub use registration::REGISTRATION;
pub mod twiml;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderName, Method, Response};

pub use form::FormParams;
use model::{CallStatusCallback, IncomingCall, IncomingMessage, MessageStatusCallback, RecordingStatusCallback};
use twiml::{MessagingResponse, VoiceResponse};

use crate::account::{Account, Accounts, AccountsBuilder, Verified};
use crate::event::{Event, ProviderId};
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
use crate::wire::borrowed::join;
use crate::verify::{Secret, VerifyError};

/// The header a retried request repeats.
const IDEMPOTENCY_HEADER: HeaderName = HeaderName::from_static("i-twilio-idempotency-token");
static KEPT_HEADERS: [HeaderName; 1] = [IDEMPOTENCY_HEADER];

/// Decides the TwiML reply to an incoming call. Any
/// `Fn(&IncomingCall<'_>) -> VoiceResponse` is one.
///
/// The call is already stored when the hook runs. Keep it fast: Twilio waits 15 s at
/// most. A hook that panics is logged and the default reply is sent.
pub trait IncomingCallHook: Send + Sync + 'static {
    /// The reply to `call`.
    fn reply(&self, call: &IncomingCall<'_>) -> VoiceResponse;
}

impl<F> IncomingCallHook for F
where
    F: Fn(&IncomingCall<'_>) -> VoiceResponse + Send + Sync + 'static,
{
    fn reply(&self, call: &IncomingCall<'_>) -> VoiceResponse {
        self(call)
    }
}

/// Which Twilio webhook a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// "A call comes in": answered with TwiML.
    IncomingCall,
    /// A call's status callback.
    CallStatus,
    /// A recording's status callback.
    RecordingStatus,
    /// A message's status callback.
    MessageStatus,
    /// "A message comes in".
    IncomingMessage,
}

impl Endpoint {
    /// The suggested last path segment, e.g. `call-status`.
    pub fn path_segment(self) -> &'static str {
        match self {
            Endpoint::IncomingCall => "incoming-call",
            Endpoint::CallStatus => "call-status",
            Endpoint::RecordingStatus => "recording-status",
            Endpoint::MessageStatus => "message-status",
            Endpoint::IncomingMessage => "incoming-message",
        }
    }

    /// The endpoint named by the path's last segment, or else the one the parameters
    /// show: `RecordingSid` with `RecordingStatus` is a recording callback; a
    /// `MessageSid` with an outbound `MessageStatus` a message status; another
    /// `MessageSid` an incoming message; a `CallSid` with `CallbackSource`,
    /// `SequenceNumber` or `Timestamp` a call status; another `CallSid` an incoming call.
    /// The path loses to the parameters only when it names a kind whose id the request
    /// lacks (an SMS posted to the voice URL is still read as the message it is).
    ///
    /// ```
    /// use callhook::providers::twilio::{Endpoint, FormParams};
    /// let params = FormParams::parse(b"CallSid=CA1&CallStatus=ringing");
    /// assert_eq!(Endpoint::detect("/hooks/call-status", &params), Some(Endpoint::CallStatus));
    /// assert_eq!(Endpoint::detect("/hooks/voice", &params), Some(Endpoint::IncomingCall));
    /// let sms = FormParams::parse(b"MessageSid=SM1&From=%2B15550001&Body=Hi");
    /// assert_eq!(Endpoint::detect("/hooks/incoming-call", &sms), Some(Endpoint::IncomingMessage));
    /// ```
    pub fn detect(path: &str, params: &FormParams<'_>) -> Option<Self> {
        let segment = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        let by_path = [
            Endpoint::IncomingCall,
            Endpoint::CallStatus,
            Endpoint::RecordingStatus,
            Endpoint::MessageStatus,
            Endpoint::IncomingMessage,
        ]
        .into_iter()
        .find(|endpoint| endpoint.path_segment() == segment);
        let has = |key| params.non_empty(key).is_some();
        let by_params = || {
            if has("RecordingSid") && has("RecordingStatus") {
                return Some(Endpoint::RecordingStatus);
            }
            if has("MessageSid") || has("SmsSid") || has("SmsMessageSid") {
                let status = params.non_empty("MessageStatus").or(params.non_empty("SmsStatus"));
                let inbound = matches!(status, None | Some("received" | "receiving"));
                return Some(if inbound { Endpoint::IncomingMessage } else { Endpoint::MessageStatus });
            }
            if has("CallSid") {
                let callback = has("CallbackSource") || has("SequenceNumber") || has("Timestamp");
                return Some(if callback { Endpoint::CallStatus } else { Endpoint::IncomingCall });
            }
            None
        };
        let has_its_id = |endpoint: Endpoint| match endpoint {
            Endpoint::IncomingCall | Endpoint::CallStatus => has("CallSid"),
            Endpoint::RecordingStatus => has("RecordingSid"),
            Endpoint::MessageStatus | Endpoint::IncomingMessage => {
                has("MessageSid") || has("SmsSid") || has("SmsMessageSid")
            }
        };
        match by_path {
            Some(endpoint) if has_its_id(endpoint) => Some(endpoint),
            by_path => by_params().or(by_path),
        }
    }
}

/// The Twilio provider: verification with the account's auth tokens, parsing and
/// normalization of every endpoint, and the incoming-call reply.
#[derive(Clone)]
pub struct Twilio {
    accounts: Accounts<Secret>,
    incoming_call: Option<Arc<dyn IncomingCallHook>>,
    default_reply: VoiceResponse,
}

impl fmt::Debug for Twilio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Twilio")
            .field("accounts", &self.accounts)
            .field("incoming_call_hook", &self.incoming_call.is_some())
            .field("default_reply", &self.default_reply)
            .finish()
    }
}

/// Configures a [`Twilio`] provider.
#[derive(Default)]
#[must_use]
pub struct TwilioBuilder {
    accounts: AccountsBuilder<Secret>,
    incoming_call: Option<Arc<dyn IncomingCallHook>>,
    default_reply: Option<VoiceResponse>,
}

impl TwilioBuilder {
    /// Adds an auth token that signatures may be made with. Call it twice during a
    /// rotation (primary and secondary): either verifies.
    pub fn auth_token(mut self, token: impl Into<Secret>) -> Self {
        self.accounts.key(token.into());
        self
    }

    /// Adds an account: a Twilio account or subaccount (subaccounts sign with their own
    /// auth token), named by its `AccountSid`, with its auth token (and, while rotating,
    /// the secondary one). A request's `AccountSid` parameter chooses the account whose
    /// tokens verify it: one account's token never authenticates a request that claims
    /// another's SID. Tokens given with [`auth_token`](Self::auth_token) form an
    /// unnamed account that verifies the requests of SIDs no account is named by.
    ///
    /// ```
    /// use callhook::account::Account;
    /// use callhook::providers::twilio::Twilio;
    /// let twilio = Twilio::builder()
    ///     .account(Account::new("acme", "acme auth token").named("AC00000000000000000000000000000001"))
    ///     .account(Account::new("globex", "globex auth token").named("AC00000000000000000000000000000002"))
    ///     .build();
    /// # let _ = twilio;
    /// ```
    pub fn account(mut self, account: Account<Secret>) -> Self {
        self.accounts.account(account);
        self
    }

    /// Sets the hook that decides the reply to an incoming call.
    pub fn on_incoming_call(mut self, hook: impl IncomingCallHook) -> Self {
        self.incoming_call = Some(Arc::new(hook));
        self
    }

    /// The reply to an incoming call when there is no hook, the hook panicked, or the
    /// request did not parse. Defaults to `<Reject/>`: the call is not answered (nor
    /// billed) until you decide what to do with calls.
    pub fn default_incoming_call_reply(mut self, reply: VoiceResponse) -> Self {
        self.default_reply = Some(reply);
        self
    }

    /// The provider. Without an auth token every request is refused as "verification
    /// not configured" (`500`), unless mounted without verification.
    pub fn build(self) -> Twilio {
        Twilio {
            accounts: self.accounts.build(),
            incoming_call: self.incoming_call,
            default_reply: self.default_reply.unwrap_or_else(|| VoiceResponse::new().reject()),
        }
    }
}

impl Twilio {
    /// A builder.
    pub fn builder() -> TwilioBuilder {
        TwilioBuilder::default()
    }

    /// A provider with one auth token and the default incoming-call reply.
    pub fn new(auth_token: impl Into<Secret>) -> Self {
        Self::builder().auth_token(auth_token).build()
    }

    fn incoming_call_reply(&self, request: &WebhookRequest<'_>) -> VoiceResponse {
        let Some(hook) = &self.incoming_call else { return self.default_reply.clone() };
        let params = request_params(request);
        let Ok(call) = IncomingCall::from_params(&params) else { return self.default_reply.clone() };
        catch_unwind(AssertUnwindSafe(|| hook.reply(&call))).unwrap_or_else(|_| {
            tracing::error!(call_sid = call.call.call_sid, "incoming-call hook panicked; sending the default reply");
            self.default_reply.clone()
        })
    }
}

/// The request's parameters: the query string of a GET, the form body of a POST.
fn request_params<'r>(request: &WebhookRequest<'r>) -> FormParams<'r> {
    if request.method() == Method::GET {
        FormParams::parse(request.query().unwrap_or_default().as_bytes())
    } else {
        FormParams::parse(request.body())
    }
}

/// Whether the request is a JSON body signed with `bodySHA256` in the URL.
fn is_json(request: &WebhookRequest<'_>) -> bool {
    request
        .query()
        .is_some_and(|query| form_urlencoded::parse(query.as_bytes()).any(|(key, _)| key == signature::BODY_HASH_PARAM))
}

impl Provider for Twilio {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    /// Twilio webhooks are `POST` by default and `GET` when so configured.
    fn accepts_method(&self, method: &Method) -> bool {
        method == Method::POST || method == Method::GET
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        if self.accounts.is_empty() {
            return Err(VerifyError::NotConfigured("no Twilio auth token configured"));
        }
        let url = request.public_url().ok_or(VerifyError::NotConfigured("the public base URL Twilio calls"))?;
        let header =
            request.header(signature::SIGNATURE_HEADER).ok_or(VerifyError::MissingHeader("X-Twilio-Signature"))?;
        // Which account the request names: its `AccountSid` (read only when some
        // account is named by one).
        let named = self.accounts.any_named();
        let sid = |params: &FormParams<'_>| params.non_empty("AccountSid").filter(|_| named).map(str::to_owned);
        let verify = |claim: Option<String>, check: &dyn Fn(&[Secret]) -> Result<usize, VerifyError>| {
            let claims: Vec<&str> = claim.as_deref().into_iter().collect();
            self.accounts.verify(&claims, check)
        };
        let query = || FormParams::parse(request.query().unwrap_or_default().as_bytes());
        if is_json(request) {
            // The account is in the signed URL's query, if anywhere.
            verify(sid(&query()), &|tokens| signature::verify_with_body(tokens, header, &url, request.body()))
        } else if request.method() == Method::GET {
            // The parameters are in the signed URL; nothing is appended.
            verify(sid(&query()), &|tokens| signature::verify(tokens, header, &url, &FormParams::default()))
        } else {
            let params = FormParams::parse(request.body());
            verify(sid(&params), &|tokens| signature::verify(tokens, header, &url, &params))
        }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        if request.method() != Method::GET {
            let content_type = request.header(CONTENT_TYPE.as_str()).unwrap_or("application/x-www-form-urlencoded");
            if is_json(request) || !content_type.starts_with("application/x-www-form-urlencoded") {
                return Err(ParseError::UnsupportedContentType(content_type.to_owned()));
            }
        }
        let params = request_params(request);
        let endpoint = Endpoint::detect(request.path(), &params).ok_or(ParseError::MissingField("CallSid"))?;
        let idempotency = request.header(IDEMPOTENCY_HEADER.as_str()).map(|token| format!("idempotency:{token}"));
        let (event_type, key, event) = match endpoint {
            Endpoint::IncomingCall => {
                let call = IncomingCall::from_params(&params)?;
                let key = join(["incoming-call:", call.call.call_sid]);
                ("incoming-call".to_owned(), key, Event::Call(normalize::incoming_call(&call, request.received_at())))
            }
            Endpoint::CallStatus => {
                let callback = CallStatusCallback::from_params(&params)?;
                let status = callback.call.status.as_str();
                let sequence = callback.sequence_number.map_or_else(|| "-".to_owned(), |n| n.to_string());
                let key = join(["call-status:", callback.call.call_sid, ":", status, ":", &sequence]);
                (join(["call-status.", status]), key, Event::Call(normalize::call_status_callback(&callback)))
            }
            Endpoint::RecordingStatus => {
                let callback = RecordingStatusCallback::from_params(&params)?;
                let status = callback.status.as_str();
                let key = join(["recording-status:", callback.recording_sid, ":", status]);
                (join(["recording-status.", status]), key, Event::Call(normalize::recording_status_callback(&callback)))
            }
            Endpoint::MessageStatus => {
                let callback = MessageStatusCallback::from_params(&params)?;
                let status = callback.status.as_str();
                let key = join(["message-status:", callback.message_sid, ":", status]);
                (join(["message-status.", status]), key, Event::Message(normalize::message_status_callback(&callback)))
            }
            Endpoint::IncomingMessage => {
                let message = IncomingMessage::from_params(&params)?;
                let key = join(["incoming-message:", message.message_sid]);
                let event = normalize::incoming_message(&message, request.received_at());
                ("incoming-message".to_owned(), key, Event::Message(event))
            }
        };
        Ok(vec![ParsedEvent::new(event_type, idempotency.unwrap_or(key), event)])
    }

    fn reply(&self, request: &WebhookRequest<'_>, _events: &[ParsedEvent]) -> Response<Bytes> {
        let params = request_params(request);
        match Endpoint::detect(request.path(), &params) {
            Some(Endpoint::IncomingCall) => self.incoming_call_reply(request).into_http_response(),
            Some(Endpoint::IncomingMessage) => MessagingResponse::new().into_http_response(),
            _ => crate::provider::empty_response(http::StatusCode::OK),
        }
    }

    fn kept_headers(&self) -> &[HeaderName] {
        &KEPT_HEADERS
    }
}
