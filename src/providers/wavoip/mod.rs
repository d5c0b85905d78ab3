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

use crate::account::{Account, Accounts, AccountsBuilder, Verified};
use crate::event::ProviderId;
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
use crate::verify::{Secret, VerifyError, bearer_token, which_token};

/// The query parameter that carries the token.
pub const TOKEN_PARAM: &str = "token";

/// The WaVoIP provider.
#[derive(Clone, Debug)]
pub struct WaVoip {
    accounts: Accounts<Secret>,
}

/// Configures a [`WaVoip`] provider.
#[derive(Debug, Default)]
#[must_use]
pub struct WaVoipBuilder {
    accounts: AccountsBuilder<Secret>,
}

impl WaVoipBuilder {
    /// Adds an accepted token (a second one while rotating).
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.accounts.key(token.into());
        self
    }

    /// Adds an account: a WaVoIP device (or customer) whose webhook URL carries its own
    /// token. WaVoIP's requests name no account, so the token that matches says which
    /// account sent a request; for an account on a URL of its own, mount a provider
    /// holding only that account there.
    ///
    /// ```
    /// use callhook::account::Account;
    /// use callhook::providers::wavoip::WaVoip;
    /// let wavoip = WaVoip::builder().account(Account::new("sao-paulo", "token one")).build();
    /// # let _ = wavoip;
    /// ```
    pub fn account(mut self, account: Account<Secret>) -> Self {
        self.accounts.account(account);
        self
    }

    /// The provider. Without a token every request is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> WaVoip {
        WaVoip { accounts: self.accounts.build() }
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

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        if self.accounts.is_empty() {
            return Err(VerifyError::NotConfigured("no WaVoIP token configured"));
        }
        let from_query = request.query().and_then(|query| {
            form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == TOKEN_PARAM).map(|(_, value)| value)
        });
        let from_header = request.header("authorization").and_then(bearer_token);
        let token = from_query.as_deref().or(from_header).ok_or(VerifyError::MissingToken)?;
        self.accounts.verify(&[], |tokens| which_token(tokens, token).ok_or(VerifyError::TokenMismatch))
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events(request.body())
    }

    fn secret_query_params(&self) -> &[&str] {
        &[TOKEN_PARAM]
    }
}
