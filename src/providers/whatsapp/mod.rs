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

use crate::account::{Account, Accounts, AccountsBuilder, Verified};
use crate::event::ProviderId;
use crate::provider::{ParseError, ParsedEvent, Provider, WebhookRequest, empty_response};
use crate::verify::{Secret, VerifyError, matches_any_token};

/// The WhatsApp provider: the verification handshake, `X-Hub-Signature-256` with one
/// or more app secrets, and the notification parser.
#[derive(Clone, Debug)]
pub struct WhatsApp {
    accounts: Accounts<Secret>,
    verify_tokens: Arc<[Secret]>,
}

/// Configures a [`WhatsApp`] provider.
#[derive(Debug, Default)]
#[must_use]
pub struct WhatsAppBuilder {
    accounts: AccountsBuilder<Secret>,
    verify_tokens: Vec<Secret>,
}

impl WhatsAppBuilder {
    /// Adds a Meta app secret signatures may be made with. Add several for an endpoint
    /// shared by several apps, or during a rotation.
    pub fn app_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.accounts.key(secret.into());
        self
    }

    /// Adds an account: a Meta app, with its app secret (and, while rotating, the next),
    /// named by the WhatsApp Business Account ids and phone number ids it serves. A
    /// notification naming one of those (its entries' `id`, its changes'
    /// `metadata.phone_number_id`) is verified with that app's secrets only; one that
    /// names none is verified with each app's in turn (the one that matches says which
    /// app sent it). Add the app's verify token with [`verify_token`](Self::verify_token).
    ///
    /// ```
    /// use callhook::account::Account;
    /// use callhook::providers::whatsapp::WhatsApp;
    /// let whatsapp = WhatsApp::builder()
    ///     .account(Account::new("brand-a", "app secret a").named("102290129340398"))
    ///     .account(Account::new("brand-b", "app secret b").named("106540352242922"))
    ///     .verify_token("verify a")
    ///     .verify_token("verify b")
    ///     .build();
    /// # let _ = whatsapp;
    /// ```
    pub fn account(mut self, account: Account<Secret>) -> Self {
        self.accounts.account(account);
        self
    }

    /// Adds a verify token accepted in the setup handshake (any app's). Without one,
    /// every handshake is refused (`403`).
    pub fn verify_token(mut self, token: impl Into<Secret>) -> Self {
        self.verify_tokens.push(token.into());
        self
    }

    /// The provider. Without an app secret, every POST is refused as "verification not
    /// configured" (`500`), unless mounted without verification.
    pub fn build(self) -> WhatsApp {
        WhatsApp { accounts: self.accounts.build(), verify_tokens: self.verify_tokens.into() }
    }
}

impl WhatsApp {
    /// A builder.
    pub fn builder() -> WhatsAppBuilder {
        WhatsAppBuilder::default()
    }
}

/// The ids a notification names its business by: each entry's WhatsApp Business Account
/// id and each change's phone number id. Read before the signature is checked, only to
/// choose which app's secrets check it, and as permissively as anything that could
/// later read the body into events (any JSON shape; ids as strings or numbers; a
/// repeated key's last value, as serde_json's `Value` keeps it): a body whose events
/// name a business must name it here too, or another app's secret could verify it.
fn named_businesses(body: &[u8]) -> Vec<String> {
    use serde_json::Value;
    let Ok(notification) = serde_json::from_slice::<Value>(body) else { return Vec::new() };
    let id = |value: Option<&Value>| match value {
        Some(Value::String(text)) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    // A list, or one object where a list belongs.
    fn as_list(value: Option<&serde_json::Value>) -> &[serde_json::Value] {
        match value {
            Some(Value::Array(items)) => items,
            Some(item @ Value::Object(_)) => std::slice::from_ref(item),
            _ => &[],
        }
    }
    let mut names = Vec::new();
    for entry in as_list(notification.get("entry")) {
        names.extend(id(entry.get("id")));
        for change in as_list(entry.get("changes")) {
            names.extend(id(change.pointer("/value/metadata/phone_number_id")));
        }
    }
    names.sort_unstable();
    names.dedup();
    names
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

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        if self.accounts.is_empty() {
            return Err(VerifyError::NotConfigured("no WhatsApp app secret configured"));
        }
        let header = request
            .header(signature::SIGNATURE_HEADER)
            .ok_or(VerifyError::MissingHeader(signature::SIGNATURE_HEADER))?;
        let body = request.body();
        // Reading which business the body names costs a pass over it: only when an app
        // is named by one.
        let names = if self.accounts.any_named() { named_businesses(body) } else { Vec::new() };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.accounts.verify(&names, |secrets| signature::verify(secrets, header, body))
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        normalize::events(request.body())
    }

    fn reply(&self, _request: &WebhookRequest<'_>, _events: &[ParsedEvent]) -> Response<Bytes> {
        empty_response(StatusCode::OK)
    }
}
