//! The [`Provider`] trait every provider folder implements, and the request view it
//! works on.
//!
//! A provider knows its wire format and nothing else: it answers handshakes, verifies
//! signatures, parses bodies into normalized [`Event`]s with dedupe keys, and shapes
//! its reply. It does no I/O; the [`Receiver`](crate::Receiver) persists and schedules.
//!
//! ```
//! use bytes::Bytes;
//! use callhook::account::{Accounts, Verified};
//! use callhook::event::{Event, ProviderId, UnmodeledEvent};
//! use callhook::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
//! use callhook::verify::{Secret, VerifyError, which_token};
//!
//! /// A provider that authenticates with a shared token header and sends
//! /// `{"id": "...", "type": "..."}`.
//! struct Acme { accounts: Accounts<Secret> }
//!
//! impl Provider for Acme {
//!     fn id(&self) -> ProviderId { ProviderId::from_static("acme") }
//!
//!     fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
//!         let token = request.header("x-acme-token").ok_or(VerifyError::MissingToken)?;
//!         // Acme's requests name no account: each account's tokens are tried.
//!         self.accounts.verify(&[], |tokens| which_token(tokens, token).ok_or(VerifyError::TokenMismatch))
//!     }
//!
//!     fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
//!         #[derive(serde::Deserialize)]
//!         struct Wire { id: String, r#type: String }
//!         let wire: Wire = serde_json::from_slice(request.body())?;
//!         let event = Event::Unmodeled(UnmodeledEvent::new(self.id(), wire.r#type.clone()));
//!         Ok(vec![ParsedEvent::new(wire.r#type, wire.id, event)])
//!     }
//! }
//! ```

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, Request, Response, StatusCode};
use time::OffsetDateTime;

use crate::account::Verified;
use crate::event::{Event, ProviderId, UnmodeledEvent};
use crate::verify::VerifyError;

/// A webhook provider: its handshake, signature scheme, payload parser and reply.
pub trait Provider: Send + Sync + 'static {
    /// The provider's id (`twilio`, `whatsapp`, ...).
    fn id(&self) -> ProviderId;

    /// Whether the provider sends webhooks with this method. Others get `405`.
    /// The default accepts `POST` only.
    fn accepts_method(&self, method: &Method) -> bool {
        method == Method::POST
    }

    /// Answers a request that is not a webhook delivery but a setup handshake (e.g.
    /// WhatsApp's `GET ?hub.challenge=`). Returning `Some` ends the request: nothing is
    /// verified or stored. The default answers nothing.
    fn handshake(&self, request: &WebhookRequest<'_>) -> Option<Response<Bytes>> {
        let _ = request;
        None
    }

    /// Checks the request's signature or token, and says which account sent it and
    /// which of its keys matched (see [`crate::account`]; a provider without accounts
    /// answers `Verified::default()`).
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError>;

    /// Parses a verified body into normalized events, one per item in a batch. An item
    /// that cannot be read should become a [`ParsedEvent::unreadable`] (kept, failed,
    /// reprocessable) rather than an error that costs the batch its other items; an
    /// error is for a body that cannot be read at all.
    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError>;

    /// The reply once the delivery is durably stored (new or duplicate). The default is
    /// an empty `200 OK`; Twilio answers TwiML here.
    fn reply(&self, request: &WebhookRequest<'_>, events: &[ParsedEvent]) -> Response<Bytes> {
        let _ = (request, events);
        empty_response(StatusCode::OK)
    }

    /// Request headers worth keeping with the stored delivery, besides `content-type`
    /// (e.g. a retry's idempotency token). Never list a header that carries a secret.
    fn kept_headers(&self) -> &[HeaderName] {
        &[]
    }

    /// Query parameters that carry secrets (e.g. WaVoIP's `token`): removed from the
    /// query string before it is stored.
    fn secret_query_params(&self) -> &[&str] {
        &[]
    }
}

/// A read-only view of one incoming request, as providers see it.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    request: &'a Request<Bytes>,
    received_at: OffsetDateTime,
    public_base_url: Option<&'a str>,
}

impl<'a> WebhookRequest<'a> {
    /// A view of `request`, received at `received_at`. `public_base_url` is the scheme
    /// and authority the provider called (e.g. `https://crm.example.com`), when known.
    pub fn new(request: &'a Request<Bytes>, received_at: OffsetDateTime, public_base_url: Option<&'a str>) -> Self {
        Self { request, received_at, public_base_url }
    }

    /// The HTTP method.
    pub fn method(&self) -> &'a Method {
        self.request.method()
    }

    /// The request path, e.g. `/webhooks/twilio/call-status`.
    pub fn path(&self) -> &'a str {
        self.request.uri().path()
    }

    /// The raw query string, if any.
    pub fn query(&self) -> Option<&'a str> {
        self.request.uri().query()
    }

    /// All headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.request.headers()
    }

    /// A header's value, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.request.headers().get(name).and_then(|value| value.to_str().ok())
    }

    /// The exact body bytes received.
    pub fn body(&self) -> &'a Bytes {
        self.request.body()
    }

    /// When the receiver got the request (the injected clock's time).
    pub fn received_at(&self) -> OffsetDateTime {
        self.received_at
    }

    /// The full URL the provider called: the configured public base URL, or else the
    /// request URI if it is absolute, followed by the path and query as received.
    /// `None` when neither is known; never guessed from the `Host` header.
    pub fn public_url(&self) -> Option<String> {
        let uri = self.request.uri();
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        match self.public_base_url {
            Some(base) => Some(format!("{}{}", base.trim_end_matches('/'), path_and_query)),
            None if uri.scheme().is_some() && uri.authority().is_some() => Some(uri.to_string()),
            None => None,
        }
    }
}

/// One normalized event parsed from a delivery, with what makes it unique.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParsedEvent {
    /// The provider's own name for the event type (`call-status:ringing`,
    /// `statuses.read`, `call_ended`): what the event log shows and filters on.
    pub event_type: String,
    /// Unique per provider for the same real-world event: a redelivery produces the
    /// same key and is stored once.
    pub dedupe_key: String,
    /// The normalized event.
    pub event: Event,
    /// Why this item of a batch could not be read, when it could not: it is then an
    /// [`UNPARSED_EVENT_TYPE`] event holding the item's raw JSON, stored as failed with
    /// this error, while the batch's other items are processed.
    pub unreadable: Option<String>,
}

/// The `event_type` of what could not be read: a whole body, or one item of a batch.
pub const UNPARSED_EVENT_TYPE: &str = "callhook.unparsed";

impl ParsedEvent {
    /// A parsed event.
    pub fn new(event_type: impl Into<String>, dedupe_key: impl Into<String>, event: Event) -> Self {
        Self { event_type: event_type.into(), dedupe_key: dedupe_key.into(), event, unreadable: None }
    }

    /// An item of a batch that could not be read (`error`), kept with its raw JSON so
    /// that nothing is lost and its siblings still go through. `item` names what it is
    /// (`messages`, `statuses`, ...); `subject_id` is its id if that much could be read.
    /// The dedupe key is the item's kind and the SHA-256 of its JSON, so a redelivery
    /// stores it once.
    ///
    /// ```
    /// use callhook::event::{Event, ProviderId};
    /// use callhook::provider::{ParsedEvent, UNPARSED_EVENT_TYPE};
    ///
    /// let raw = serde_json::json!({"id": "wamid.1", "type": "order", "order": {"product_items": "?"}});
    /// let item = ParsedEvent::unreadable(ProviderId::from_static("whatsapp"), "messages", raw, "bad order", Some("wamid.1"));
    /// assert_eq!(item.event_type, UNPARSED_EVENT_TYPE);
    /// assert!(item.dedupe_key.starts_with("unparsed:messages:"));
    /// assert_eq!(item.unreadable.as_deref(), Some("bad order"));
    /// let Event::Unmodeled(event) = &item.event else { unreachable!() };
    /// assert_eq!((event.provider_type.as_str(), event.subject_id.as_deref()), ("messages", Some("wamid.1")));
    /// ```
    pub fn unreadable(
        provider: ProviderId,
        item: &str,
        raw: serde_json::Value,
        error: impl std::fmt::Display,
        subject_id: Option<&str>,
    ) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(raw.to_string().as_bytes());
        let mut event = UnmodeledEvent::new(provider, item);
        event.subject_id = subject_id.map(str::to_owned);
        event.data = raw;
        Self {
            event_type: UNPARSED_EVENT_TYPE.into(),
            dedupe_key: format!("unparsed:{item}:{}", hex::encode(digest)),
            event: Event::Unmodeled(event),
            unreadable: Some(error.to_string()),
        }
    }

    /// Adds a note to the event (see [`Event::notes`]).
    pub fn note(&mut self, note: impl Into<String>) {
        self.event.note(note);
    }
}

/// Why a verified body could not be turned into events. The delivery is still stored
/// with this error and acknowledged, so it can be reprocessed after an upgrade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is not valid JSON, or not the JSON shape expected.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The body is not a valid form encoding.
    #[error("invalid form body: {0}")]
    Form(String),
    /// A field every payload of this kind carries is absent.
    #[error("missing field {0}")]
    MissingField(&'static str),
    /// A field has a value that cannot be understood.
    #[error("invalid value for {field}: {reason}")]
    InvalidValue {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The content type is not one this provider sends.
    #[error("unsupported content type {0:?}")]
    UnsupportedContentType(String),
}

/// Parses a verified request as the receiver and the worker do: with
/// [`Provider::parse`], and when a JSON body is refused because an object repeats a
/// key, once more with the last value of each key (as most JSON parsers read it), the
/// events then noting it ([`Event::notes`]).
///
/// ```
/// # use callhook::event::{Event, ProviderId, UnmodeledEvent};
/// # use callhook::provider::{ParseError, ParsedEvent, Provider, WebhookRequest, parse_request};
/// # use callhook::verify::VerifyError;
/// # use callhook::account::Verified;
/// struct Acme;
/// impl Provider for Acme {
///     fn id(&self) -> ProviderId { ProviderId::from_static("acme") }
///     fn verify(&self, _: &WebhookRequest<'_>) -> Result<Verified, VerifyError> { Ok(Verified::default()) }
///     fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
///         #[derive(serde::Deserialize)]
///         struct Wire { id: String }
///         let wire: Wire = serde_json::from_slice(request.body())?;
///         Ok(vec![ParsedEvent::new("ping", wire.id, Event::Unmodeled(UnmodeledEvent::new(self.id(), "ping")))])
///     }
/// }
/// let request = http::Request::post("/acme").body(bytes::Bytes::from(r#"{"id":"a","id":"b"}"#)).unwrap();
/// let view = WebhookRequest::new(&request, time::OffsetDateTime::UNIX_EPOCH, None);
/// assert!(Acme.parse(&view).is_err());
/// let events = parse_request(&Acme, &view).unwrap();
/// assert_eq!(events[0].dedupe_key, "b");
/// assert_eq!(events[0].event.notes().len(), 1);
/// ```
pub fn parse_request(provider: &dyn Provider, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
    use crate::wire::duplicate_keys;
    match provider.parse(request) {
        Err(ParseError::Json(error)) if duplicate_keys::refused_for_a_repeated_key(&error, request.body()) => {
            let Some(body) = duplicate_keys::last_wins(request.body()) else { return Err(ParseError::Json(error)) };
            let mut rebuilt = Request::new(Bytes::from(body));
            *rebuilt.method_mut() = request.method().clone();
            *rebuilt.uri_mut() = request.request.uri().clone();
            *rebuilt.headers_mut() = request.headers().clone();
            let view = WebhookRequest { request: &rebuilt, ..*request };
            let mut events = provider.parse(&view)?;
            for event in &mut events {
                event.note(duplicate_keys::NOTE);
            }
            Ok(events)
        }
        parsed => parsed,
    }
}

/// An empty response with the given status.
pub fn empty_response(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn public_url_uses_configured_base_not_host_header() {
        let request = Request::post("/webhooks/twilio/call-status?x=1")
            .header("host", "127.0.0.1:3000")
            .body(Bytes::new())
            .unwrap();
        let at = datetime!(2026-12-01 0:00 UTC);
        let view = WebhookRequest::new(&request, at, Some("https://crm.example.com/"));
        assert_eq!(view.public_url().as_deref(), Some("https://crm.example.com/webhooks/twilio/call-status?x=1"));
        assert_eq!(WebhookRequest::new(&request, at, None).public_url(), None);

        let absolute = Request::post("http://proxy.local:8080/a?b=c").body(Bytes::new()).unwrap();
        assert_eq!(
            WebhookRequest::new(&absolute, at, None).public_url().as_deref(),
            Some("http://proxy.local:8080/a?b=c")
        );
    }
}
