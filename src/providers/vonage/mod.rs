//! Vonage Voice API: the event webhooks of calls (`started` ... `completed`, failures,
//! recordings, machine detection, `input`, `transfer`, errors) posted to an
//! application's `event_url`.
//!
//! Vonage signs each request with a JWT in `Authorization: Bearer`, HS256 with the
//! account's signature secret, carrying the body's SHA-256 ([`signature`]: the exact
//! rules and how they compare with the official SDK). Several secrets can be
//! configured for a rotation. The JWT's `iat` is checked against the receiver's clock
//! ([`WebhookRequest::received_at`]), within 5 minutes either way by default. The
//! reply is an empty `200` once the event is stored.
//!
//! Limits, from Vonage's docs:
//! - Voice signed callbacks must be on for the application (`signed_callbacks` in the
//!   Applications API); an unsigned event is refused (`401`), and Vonage does not
//!   retry a `401`.
//! - Only `POST` event webhooks with a JSON body are accepted (an application
//!   configured with `event_method: GET` sends the payload in the query string).
//! - The answer webhook, and `input` events that expect an NCCO back, are not served:
//!   callhook answers every event with an empty body.
//! - Recordings are listed with their URL, but downloading one needs a JWT signed with
//!   the application's private key, which the recording fetcher cannot send yet (see
//!   [`REGISTRATION`]).
//!
//! ```
//! use std::sync::Arc;
//! use callhook::providers::vonage::Vonage;
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let vonage = Vonage::builder().signature_secret("the account's signature secret").build();
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/vonage/events", Arc::new(vonage))
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

/// The Vonage provider.
#[derive(Clone, Debug)]
pub struct Vonage {
    accounts: Accounts<Secret>,
    tolerance: Duration,
}

/// Configures a [`Vonage`] provider.
#[derive(Debug)]
#[must_use]
pub struct VonageBuilder {
    accounts: AccountsBuilder<Secret>,
    tolerance: Duration,
}

impl VonageBuilder {
    /// Adds a signature secret tokens may be signed with (a second one while rotating).
    /// Empty secrets are ignored: an empty HMAC key would accept forgeries.
    ///
    /// ```
    /// use callhook::providers::vonage::Vonage;
    /// let vonage = Vonage::builder().signature_secret("old").signature_secret("new").build();
    /// # let _ = vonage;
    /// ```
    pub fn signature_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.accounts.key(secret.into());
        self
    }

    /// Adds an account: a Vonage account (or subaccount) with its signature secret (and,
    /// while rotating, the next), named by its API key and, if you like, its
    /// applications' ids. A token's `api_key` (or `application_id`) claim chooses the
    /// account whose secrets verify it. Empty secrets are ignored.
    ///
    /// ```
    /// use callhook::account::Account;
    /// use callhook::providers::vonage::Vonage;
    /// let vonage = Vonage::builder()
    ///     .account(Account::new("acme", "acme secret").named("a1b2c3d4"))
    ///     .account(Account::new("globex", "globex secret").named("e5f6a7b8"))
    ///     .build();
    /// # let _ = vonage;
    /// ```
    pub fn account(mut self, account: Account<Secret>) -> Self {
        self.accounts.account(account);
        self
    }

    /// How far the token's `iat` may be from now, either way (default 5 minutes).
    ///
    /// ```
    /// use callhook::providers::vonage::Vonage;
    /// let vonage = Vonage::builder().signature_secret("s").tolerance(time::Duration::minutes(2)).build();
    /// # let _ = vonage;
    /// ```
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance.abs();
        self
    }

    /// The provider. Without a secret every request is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> Vonage {
        Vonage { accounts: self.accounts.build(), tolerance: self.tolerance }
    }
}

impl Vonage {
    /// A builder.
    pub fn builder() -> VonageBuilder {
        VonageBuilder { accounts: AccountsBuilder::default(), tolerance: signature::DEFAULT_TOLERANCE }
    }
}

impl Provider for Vonage {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        if self.accounts.is_empty() {
            return Err(VerifyError::NotConfigured("no Vonage signature secret configured"));
        }
        let header = request
            .header(signature::AUTHORIZATION_HEADER)
            .ok_or(VerifyError::MissingHeader(signature::AUTHORIZATION_HEADER))?;
        let names = signature::unverified_account_names(header);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let (body, now) = (request.body(), request.received_at());
        self.accounts.verify(&names, |secrets| {
            signature::verify(secrets, header, body, now, self.tolerance).map(|claims| claims.key_index)
        })
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events(request.body())
    }
}
