//! CloudTalk (cloud call center): call started, answered, ended and missed webhooks.
//!
//! CloudTalk signs nothing. Its webhook action lets you add headers, so callhook checks
//! a shared secret sent as `Authorization: Bearer <token>` (constant-time, several
//! tokens allowed for rotation); missing or wrong: `401`, nothing stored. Running
//! without a token is possible only with
//! [`mount_insecure_without_verification`](crate::receiver::ReceiverBuilder::mount_insecure_without_verification),
//! which logs a warning when the receiver is built.
//!
//! ```
//! use std::sync::Arc;
//! use callhook::providers::cloudtalk::CloudTalk;
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/cloudtalk", Arc::new(CloudTalk::builder().bearer_token("long random token").build()))
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

/// The CloudTalk provider.
#[derive(Clone, Debug)]
pub struct CloudTalk {
    tokens: Arc<[Secret]>,
}

/// Configures a [`CloudTalk`] provider.
#[derive(Debug, Default)]
#[must_use]
pub struct CloudTalkBuilder {
    tokens: Vec<Secret>,
}

impl CloudTalkBuilder {
    /// Adds a token accepted in `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// The provider. Without a token every request is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> CloudTalk {
        CloudTalk { tokens: self.tokens.into() }
    }
}

impl CloudTalk {
    /// A builder.
    pub fn builder() -> CloudTalkBuilder {
        CloudTalkBuilder::default()
    }
}

impl Provider for CloudTalk {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), VerifyError> {
        if self.tokens.is_empty() {
            return Err(VerifyError::NotConfigured("no CloudTalk bearer token configured"));
        }
        let token = request.header("authorization").and_then(bearer_token).ok_or(VerifyError::MissingToken)?;
        if matches_any_token(&self.tokens, token) { Ok(()) } else { Err(VerifyError::TokenMismatch) }
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events_at(request.body(), Some(request.path()))
    }
}
