//! Retell AI: webhooks of AI voice agents' calls (`call_started`, `call_ended`,
//! `call_analyzed`, transcript and transfer events).
//!
//! Retell signs each request with the account's API key ([`signature`]) and waits at
//! most 10 s for a 2xx before retrying, so the reply is an empty `200` as soon as the
//! event is stored. The signature's timestamp is checked against the receiver's clock
//! (injectable, so tests are exact) within a tolerance of 5 minutes either way.
//!
//! ```
//! use std::sync::Arc;
//! use callhook::providers::retell::Retell;
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let retell = Retell::builder().api_key("key_with_the_webhook_badge").build();
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/retell/call-events", Arc::new(retell))
//!     .event_log(Arc::new(MemoryEventLog::new()))
//!     .job_queue(Arc::new(MemoryJobQueue::new()))
//!     .build()
//!     .unwrap();
//! # let _ = receiver;
//! ```

pub mod model;
pub mod normalize;
mod registration;
pub mod signature;
#[cfg(feature = "testing")]
pub mod testing;

pub use registration::REGISTRATION;

use time::Duration;

use crate::account::{Account, Accounts, AccountsBuilder, Verified};
use crate::event::ProviderId;
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
use crate::verify::{Secret, VerifyError};

/// The Retell provider.
#[derive(Clone, Debug)]
pub struct Retell {
    accounts: Accounts<Secret>,
    tolerance: Duration,
}

/// Configures a [`Retell`] provider.
#[derive(Debug)]
#[must_use]
pub struct RetellBuilder {
    accounts: AccountsBuilder<Secret>,
    tolerance: Duration,
}

impl RetellBuilder {
    /// Adds an API key signatures may be made with (a second one while rotating). Empty
    /// keys are ignored: an empty HMAC key would accept forgeries.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.accounts.key(key.into());
        self
    }

    /// Adds an account: a Retell workspace, whose webhooks are signed with its API key
    /// (and, while rotating, the next). Retell's requests name no workspace, so the key
    /// whose signature matches says which account sent a request. Empty keys are
    /// ignored.
    ///
    /// ```
    /// use callhook::account::Account;
    /// use callhook::providers::retell::Retell;
    /// let retell = Retell::builder()
    ///     .account(Account::new("brand-a", "key_a").next_key("key_a_2"))
    ///     .account(Account::new("brand-b", "key_b"))
    ///     .build();
    /// # let _ = retell;
    /// ```
    pub fn account(mut self, account: Account<Secret>) -> Self {
        self.accounts.account(account);
        self
    }

    /// How far the signed timestamp may be from now, either way (default 5 minutes).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance.abs();
        self
    }

    /// The provider. Without an API key every request is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> Retell {
        Retell { accounts: self.accounts.build(), tolerance: self.tolerance }
    }
}

impl Retell {
    /// A builder.
    pub fn builder() -> RetellBuilder {
        RetellBuilder { accounts: AccountsBuilder::default(), tolerance: signature::DEFAULT_TOLERANCE }
    }
}

impl Provider for Retell {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        if self.accounts.is_empty() {
            return Err(VerifyError::NotConfigured("no Retell API key configured"));
        }
        let header = request
            .header(signature::SIGNATURE_HEADER)
            .ok_or(VerifyError::MissingHeader(signature::SIGNATURE_HEADER))?;
        let (body, now) = (request.body(), request.received_at());
        self.accounts.verify(&[], |keys| signature::verify(keys, header, body, now, self.tolerance))
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events(request.body())
    }
}
