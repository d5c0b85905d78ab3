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

use crate::account::{Account, Accounts, AccountsBuilder, Verified};
use crate::event::ProviderId;
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
use crate::verify::{Secret, VerifyError, bearer_token, which_token};

/// The CloudTalk provider.
#[derive(Clone, Debug)]
pub struct CloudTalk {
    accounts: Accounts<Secret>,
}

/// Configures a [`CloudTalk`] provider.
#[derive(Debug, Default)]
#[must_use]
pub struct CloudTalkBuilder {
    accounts: AccountsBuilder<Secret>,
}

impl CloudTalkBuilder {
    /// Adds a token accepted in `Authorization: Bearer <token>` (a second one while
    /// rotating).
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        self.accounts.key(token.into());
        self
    }

    /// Adds an account: a CloudTalk company whose webhooks send its own bearer token
    /// (and, while rotating, the next). CloudTalk's requests name no account, so the
    /// token that matches says which account sent a request; for an account on a URL of
    /// its own, mount a provider holding only that account there.
    ///
    /// ```
    /// use callhook::account::Account;
    /// use callhook::providers::cloudtalk::CloudTalk;
    /// let cloudtalk = CloudTalk::builder()
    ///     .account(Account::new("acme", "acme token").next_key("acme token 2"))
    ///     .account(Account::new("globex", "globex token"))
    ///     .build();
    /// # let _ = cloudtalk;
    /// ```
    pub fn account(mut self, account: Account<Secret>) -> Self {
        self.accounts.account(account);
        self
    }

    /// The provider. Without a token every request is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> CloudTalk {
        CloudTalk { accounts: self.accounts.build() }
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

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        if self.accounts.is_empty() {
            return Err(VerifyError::NotConfigured("no CloudTalk bearer token configured"));
        }
        let token = request.header("authorization").and_then(bearer_token).ok_or(VerifyError::MissingToken)?;
        self.accounts.verify(&[], |tokens| which_token(tokens, token).ok_or(VerifyError::TokenMismatch))
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events_at(request.body(), Some(request.path()))
    }
}
