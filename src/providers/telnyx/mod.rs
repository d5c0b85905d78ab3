//! Telnyx: Call Control voice events (`call.initiated`, `call.answered`, `call.hangup`,
//! `call.recording.saved`, answering-machine detection, ...) and messaging events
//! (`message.received`, `message.sent`, `message.finalized`), API v2 webhooks.
//!
//! Telnyx signs each request with the account's Ed25519 private key ([`signature`]);
//! callhook verifies it with the account's public key (Mission Control → Keys &
//! Credentials → Public Key), several during a rotation. The signed timestamp is checked
//! against the receiver's clock ([`WebhookRequest::received_at`], injectable, so tests
//! are exact) within a tolerance of 5 minutes either way, as the official SDK does.
//! Telnyx wants a `200` (anything else is retried, at the failover URL if one is set),
//! so the reply is an empty `200` as soon as the event is stored. The signature and
//! timestamp headers are kept with the stored delivery: an Ed25519 signature proves the
//! delivery came from Telnyx to anyone holding the public key, at any time.
//!
//! Only JSON (API v2) webhooks are understood; TeXML's form-encoded callbacks are not
//! (they would be stored as unparsable).
//!
//! ```
//! use std::sync::Arc;
//! use callhook::providers::telnyx::{Telnyx, signature::PublicKey};
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! // From the environment in real code: `std::env::var("TELNYX_PUBLIC_KEY")?.parse()?`.
//! // callhook's test key here; yours is in Mission Control (Keys & Credentials).
//! let key: PublicKey = callhook::providers::telnyx::TEST_PUBLIC_KEY.parse().unwrap();
//! let telnyx = Telnyx::builder().public_key(key).build();
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/telnyx", Arc::new(telnyx))
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

pub use registration::{REGISTRATION, TEST_PUBLIC_KEY};

use http::HeaderName;
use time::Duration;

use crate::account::{Account, Accounts, AccountsBuilder, Verified};
use crate::event::ProviderId;
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
use crate::verify::VerifyError;
use signature::PublicKey;

/// The signature headers, kept with each stored delivery.
static KEPT_HEADERS: [HeaderName; 2] = [
    HeaderName::from_static(signature::SIGNATURE_HEADER),
    HeaderName::from_static(signature::TIMESTAMP_HEADER),
];

/// The Telnyx provider.
#[derive(Clone, Debug)]
pub struct Telnyx {
    accounts: Accounts<PublicKey>,
    tolerance: Duration,
}

/// Configures a [`Telnyx`] provider.
#[derive(Debug)]
#[must_use]
pub struct TelnyxBuilder {
    unnamed: Vec<PublicKey>,
    accounts: AccountsBuilder<PublicKey>,
    tolerance: Duration,
}

impl TelnyxBuilder {
    /// Adds a public key signatures may be made with (a second one while rotating: a
    /// request verifies under either).
    pub fn public_key(mut self, key: PublicKey) -> Self {
        if !self.unnamed.contains(&key) {
            self.unnamed.push(key);
        }
        self
    }

    /// Adds an account: a Telnyx account, whose webhooks are signed with its own key
    /// pair. Telnyx's requests name no account, so the public key whose signature
    /// verifies says which account sent a request.
    ///
    /// ```
    /// use callhook::account::Account;
    /// use callhook::providers::telnyx::{Telnyx, signature::PublicKey};
    /// let telnyx = Telnyx::builder()
    ///     .account(Account::new("acme", PublicKey::from_private_key(&[1; 32])))
    ///     .account(Account::new("globex", PublicKey::from_private_key(&[2; 32])))
    ///     .build();
    /// assert_eq!(telnyx.accounts().iter().count(), 2);
    /// ```
    pub fn account(mut self, account: Account<PublicKey>) -> Self {
        self.accounts.account(account);
        self
    }

    /// How far the signed timestamp may be from now, either way, in whole seconds
    /// (default 5 minutes, as the SDK).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance.abs();
        self
    }

    /// The provider. Without a public key every request is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(mut self) -> Telnyx {
        for key in self.unnamed {
            self.accounts.key(key);
        }
        Telnyx { accounts: self.accounts.build(), tolerance: self.tolerance }
    }
}

impl Telnyx {
    /// A builder.
    ///
    /// ```
    /// use callhook::providers::telnyx::{Telnyx, signature::PublicKey};
    /// let (old, new) = (PublicKey::from_private_key(&[1; 32]), PublicKey::from_private_key(&[2; 32]));
    /// let telnyx = Telnyx::builder().public_key(old).public_key(new).tolerance(time::Duration::minutes(2)).build();
    /// let account = telnyx.accounts().iter().next().unwrap();
    /// assert_eq!((account.id(), account.keys()), (None, &[old, new][..]));
    /// ```
    pub fn builder() -> TelnyxBuilder {
        TelnyxBuilder { unnamed: Vec::new(), accounts: AccountsBuilder::default(), tolerance: signature::DEFAULT_TOLERANCE }
    }

    /// The accounts requests are verified with.
    pub fn accounts(&self) -> &Accounts<PublicKey> {
        &self.accounts
    }
}

impl Provider for Telnyx {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        if self.accounts.is_empty() {
            return Err(VerifyError::NotConfigured("no Telnyx public key configured"));
        }
        let signature = single_header(request, signature::SIGNATURE_HEADER)?;
        let timestamp = single_header(request, signature::TIMESTAMP_HEADER)?;
        let (body, now) = (request.body(), request.received_at());
        self.accounts.verify(&[], |keys| signature::verify(keys, signature, timestamp, body, now, self.tolerance))
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events(request.body())
    }

    fn kept_headers(&self) -> &[HeaderName] {
        &KEPT_HEADERS
    }
}

/// A header's only value; sent twice it is ambiguous, and refused.
fn single_header<'a>(request: &WebhookRequest<'a>, name: &'static str) -> Result<Option<&'a str>, VerifyError> {
    let mut values = request.headers().get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(_), Some(_)) => Err(VerifyError::MalformedHeader { header: name, reason: "sent more than once" }),
        _ => Ok(request.header(name)),
    }
}
