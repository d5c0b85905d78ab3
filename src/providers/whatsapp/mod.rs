//! WhatsApp Business Platform (Meta Cloud API): inbound messages, message statuses and
//! calls (Calling API).
//!
//! Mount one [`WhatsApp`] at the callback URL configured in the Meta app dashboard; it
//! answers both the `GET` verification handshake and the signed `POST` notifications:
//!
//! | request | answer | stored |
//! |---|---|---|
//! | `GET ?hub.mode=subscribe&hub.verify_token=<yours>&hub.challenge=<c>` | `200 text/plain` with `<c>` exactly | nothing |
//! | the same with another token or mode | `403` | nothing |
//! | any other `GET` (missing `hub.*` parameters) | `400` | nothing |
//! | `POST` with a valid `X-Hub-Signature-256` | `200`, empty | the body and one event per item |
//! | `POST` with a missing, malformed or wrong signature | `401` | nothing |
//!
//! One POST batches many items (up to 1,000); each message, status and call update
//! becomes its own event with its own dedupe key ([`normalize`] has the table), so a
//! redelivered batch in which some items were seen before stores only the new ones.
//! Meta retries for up to 7 days, so duplicates are normal.
//!
//! ```
//! use std::sync::Arc;
//! use callhook::providers::whatsapp::WhatsApp;
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let whatsapp = WhatsApp::builder()
//!     .app_secret("app secret of the Meta app")
//!     .verify_token("the verify token you typed in the dashboard")
//!     .build();
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/whatsapp", Arc::new(whatsapp))
//!     .event_log(Arc::new(MemoryEventLog::new()))
//!     .job_queue(Arc::new(MemoryJobQueue::new()))
//!     .build()
//!     .unwrap();
//! # let _ = receiver;
//! ```

pub mod model;
pub mod normalize;
mod one_by_one;
mod registration;
pub mod signature;
#[cfg(feature = "testing")]
pub mod testing;

pub use registration::REGISTRATION;

use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Response, StatusCode};

use crate::event::ProviderId;
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest, empty_response};
use crate::verify::{Secret, VerifyError, matches_any_token};

/// The WhatsApp provider: the verification handshake, `X-Hub-Signature-256` with one
/// or more app secrets, and the notification parser.
#[derive(Clone, Debug)]
pub struct WhatsApp {
    app_secrets: Arc<[Secret]>,
    verify_tokens: Arc<[Secret]>,
}

/// Configures a [`WhatsApp`] provider.
#[derive(Debug, Default)]
#[must_use]
pub struct WhatsAppBuilder {
    app_secrets: Vec<Secret>,
    verify_tokens: Vec<Secret>,
}

impl WhatsAppBuilder {
    /// Adds a Meta app secret signatures may be made with. Add several for an endpoint
    /// shared by several apps, or during a rotation.
    pub fn app_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.app_secrets.push(secret.into());
        self
    }

    /// Adds a verify token accepted in the setup handshake. Without one, every
    /// handshake is refused (`403`).
    pub fn verify_token(mut self, token: impl Into<Secret>) -> Self {
        self.verify_tokens.push(token.into());
        self
    }

    /// The provider. Without an app secret, every POST is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> WhatsApp {
        WhatsApp { app_secrets: self.app_secrets.into(), verify_tokens: self.verify_tokens.into() }
    }
}

impl WhatsApp {
    /// A builder.
    pub fn builder() -> WhatsAppBuilder {
        WhatsAppBuilder::default()
    }
}

fn plain(status: StatusCode, text: impl Into<Bytes>) -> Response<Bytes> {
    let mut response = Response::new(text.into());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

impl Provider for WhatsApp {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    /// Every `GET` is a handshake: answered here, never stored.
    fn handshake(&self, request: &WebhookRequest<'_>) -> Option<Response<Bytes>> {
        if request.method() != Method::GET {
            return None;
        }
        let (mut mode, mut token, mut challenge) = (None, None, None);
        for (key, value) in form_urlencoded::parse(request.query().unwrap_or_default().as_bytes()) {
            let slot = match &*key {
                "hub.mode" => &mut mode,
                "hub.verify_token" => &mut token,
                "hub.challenge" => &mut challenge,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        let (Some(mode), Some(token), Some(challenge)) = (mode, token, challenge) else {
            return Some(plain(StatusCode::BAD_REQUEST, "expected hub.mode, hub.verify_token and hub.challenge"));
        };
        if mode == "subscribe" && matches_any_token(&self.verify_tokens, &token) {
            Some(plain(StatusCode::OK, challenge.into_owned()))
        } else {
            tracing::warn!("WhatsApp verification handshake refused: wrong verify token or mode");
            Some(plain(StatusCode::FORBIDDEN, "verification refused"))
        }
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), VerifyError> {
        if self.app_secrets.is_empty() {
            return Err(VerifyError::NotConfigured("no WhatsApp app secret configured"));
        }
        let header = request
            .header(signature::SIGNATURE_HEADER)
            .ok_or(VerifyError::MissingHeader(signature::SIGNATURE_HEADER))?;
        signature::verify(&self.app_secrets, header, request.body())
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events(request.body())
    }

    fn reply(&self, _request: &WebhookRequest<'_>, _events: &[ParsedEvent]) -> Response<Bytes> {
        empty_response(StatusCode::OK)
    }
}
