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

use std::sync::Arc;

use http::HeaderName;
use time::Duration;

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
    public_keys: Arc<[PublicKey]>,
    tolerance: Duration,
}

/// Configures a [`Telnyx`] provider.
#[derive(Debug)]
#[must_use]
pub struct TelnyxBuilder {
    public_keys: Vec<PublicKey>,
    tolerance: Duration,
}

impl TelnyxBuilder {
    /// Adds a public key signatures may be made with (several during a rotation: a
    /// request verifies under any of them).
    pub fn public_key(mut self, key: PublicKey) -> Self {
        if !self.public_keys.contains(&key) {
            self.public_keys.push(key);
        }
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
    pub fn build(self) -> Telnyx {
        Telnyx { public_keys: self.public_keys.into(), tolerance: self.tolerance }
    }
}

impl Telnyx {
    /// A builder.
    ///
    /// ```
    /// use callhook::providers::telnyx::{Telnyx, signature::PublicKey};
    /// let (old, new) = (PublicKey::from_private_key(&[1; 32]), PublicKey::from_private_key(&[2; 32]));
    /// let telnyx = Telnyx::builder().public_key(old).public_key(new).tolerance(time::Duration::minutes(2)).build();
    /// assert_eq!(telnyx.public_keys(), [old, new]);
    /// ```
    pub fn builder() -> TelnyxBuilder {
        TelnyxBuilder { public_keys: Vec::new(), tolerance: signature::DEFAULT_TOLERANCE }
    }

    /// The public keys requests are verified with.
    pub fn public_keys(&self) -> &[PublicKey] {
        &self.public_keys
    }
}

impl Provider for Telnyx {
    fn id(&self) -> ProviderId {
        normalize::PROVIDER
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), VerifyError> {
        if self.public_keys.is_empty() {
            return Err(VerifyError::NotConfigured("no Telnyx public key configured"));
        }
        let signature = single_header(request, signature::SIGNATURE_HEADER)?;
        let timestamp = single_header(request, signature::TIMESTAMP_HEADER)?;
        signature::verify(&self.public_keys, signature, timestamp, request.body(), request.received_at(), self.tolerance)
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
