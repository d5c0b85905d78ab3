//! WaVoIP (WhatsApp voice calls for businesses): `CALL` and `RECORD` webhooks.
//!
//! # Authentication, and why it is weaker than a signature
//!
//! WaVoIP signs nothing and lets you configure only a URL. callhook therefore checks a
//! shared token you put in that URL (`/webhooks/wavoip?token=<token>`), or, from
//! senders that can set headers, `Authorization: Bearer <token>`; constant-time,
//! several tokens allowed; missing or wrong: `401`, nothing stored. The token is
//! removed from the query string before the request is stored.
//!
//! A token in a URL proves only that the sender knows the URL: it does not bind the
//! body (a proxy that logs URLs leaks it, and a leaked token lets anyone inject
//! events until it is rotated). Keep the URL private, use HTTPS, rotate the token by
//! configuring the new one beside the old, and, where you can, allow only WaVoIP's
//! addresses at your proxy or firewall.
//!
//! ```
//! use std::sync::Arc;
//! use callhook::providers::wavoip::WaVoip;
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/wavoip", Arc::new(WaVoip::builder().token("long random token").build()))
//!     .event_log(Arc::new(MemoryEventLog::new()))
//!     .job_queue(Arc::new(MemoryJobQueue::new()))
//!     .build()
//!     .unwrap();
//! # let _ = receiver;
//! ```

pub mod model;
pub mod normalize;
mod registration;
#[cfg(feature = "testing")]
pub mod testing;

pub use registration::REGISTRATION;

use std::sync::Arc;

use crate::event::ProviderId;
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
use crate::verify::{Secret, VerifyError, bearer_token, matches_any_token};

/// The query parameter that carries the token.
pub const TOKEN_PARAM: &str = "token";

/// The WaVoIP provider.
#[derive(Clone, Debug)]
pub struct WaVoip {
    tokens: Arc<[Secret]>,
}

/// Configures a [`WaVoip`] provider.
#[derive(Debug, Default)]
#[must_use]
pub struct WaVoipBuilder {
    tokens: Vec<Secret>,
}

impl WaVoipBuilder {
    /// Adds an accepted token (several during a rotation).
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// The provider. Without a token every request is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> WaVoip {
        WaVoip { tokens: self.tokens.into() }
    }
}

impl WaVoip {
    /// A builder.
    pub fn builder() -> WaVoipBuilder {
        WaVoipBuilder::default()
    }
}

impl Provider for WaVoip {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), VerifyError> {
        if self.tokens.is_empty() {
            return Err(VerifyError::NotConfigured("no WaVoIP token configured"));
        }
        let from_query = request.query().and_then(|query| {
            form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == TOKEN_PARAM).map(|(_, value)| value)
        });
        let from_header = request.header("authorization").and_then(bearer_token);
        let token = from_query.as_deref().or(from_header).ok_or(VerifyError::MissingToken)?;
        if matches_any_token(&self.tokens, token) { Ok(()) } else { Err(VerifyError::TokenMismatch) }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events(request.body())
    }

    fn secret_query_params(&self) -> &[&str] {
        &[TOKEN_PARAM]
    }
}
