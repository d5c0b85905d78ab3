//! Twilio's [`Registration`]: the auth token (and account SID), the five endpoints under
//! `/webhooks/twilio/`, recordings on `api.twilio.com` fetched as MP3 with HTTP Basic
//! credentials.

use std::sync::Arc;

use super::{Endpoint, Twilio, normalize};
use crate::verify::Secret;
use crate::providers::registry::{
    Mount, RecordingAccess, RecordingCredentials, Recordings, Registration, Setting, Settings,
};

/// Every endpoint, in the order of the Twilio console.
const ENDPOINTS: [Endpoint; 5] = [
    Endpoint::IncomingCall,
    Endpoint::CallStatus,
    Endpoint::RecordingStatus,
    Endpoint::MessageStatus,
    Endpoint::IncomingMessage,
];

/// Twilio, for code that serves every provider ([`crate::providers::all`]).
pub static REGISTRATION: Registration = Registration {
    id: normalize::PROVIDER,
    name: "Twilio",
    settings: &[
        Setting::required("auth_token", "TWILIO_AUTH_TOKEN", "the auth token Twilio signs webhooks with"),
        Setting::optional(
            "account_sid",
            "TWILIO_ACCOUNT_SID",
            "the account SID: recordings are fetched with it (else the one in each recording URL), and a named account is chosen by it",
        ),
    ],
    mount,
    recordings: Recordings { hosts: &["api.twilio.com", "*.twilio.com"], locate: None, access, credentials },
    call_at_sip_uri: None,
    #[cfg(feature = "testing")]
    test_settings,
    #[cfg(feature = "testing")]
    sign,
    #[cfg(feature = "testing")]
    samples: samples::samples,
};

fn mount(settings: &Settings) -> Option<Mount> {
    // A named account is chosen by its account SID; the unnamed one takes the others.
    let accounts = settings.accounts_by("auth_token", Some("account_sid"), Some);
    if accounts.is_empty() {
        return None;
    }
    let twilio = Arc::new(accounts.into_iter().fold(Twilio::builder(), |builder, account| builder.account(account)).build());
    Some(Mount::new(twilio, ENDPOINTS.map(|endpoint| format!("/webhooks/twilio/{}", endpoint.path_segment()))))
}

/// The first account's auth token (and SID: the unnamed account's, else the first named
/// one's), and every account's by its SID: a subaccount's recordings are fetched with
/// its own token.
fn credentials(settings: &Settings) -> Option<RecordingCredentials> {
    let accounts: Vec<(Option<String>, Secret)> = settings
        .accounts()
        .filter_map(|(_, account)| {
            let sid = account.get("account_sid").map(|sid| sid.expose().to_owned());
            Some((sid, account.get("auth_token")?.clone()))
        })
        .collect();
    let (sid, token) = accounts.first()?;
    let mut credentials = RecordingCredentials::new(token.clone());
    if let Some(sid) = sid {
        credentials = credentials.user(sid.clone());
    }
    for (sid, token) in &accounts {
        if let Some(sid) = sid {
            credentials = credentials.account(sid.clone(), token.clone());
        }
    }
    Some(credentials)
}

/// Twilio's recording URLs have no extension and pick the format by suffix: MP3 is asked
/// for (smaller than its default WAV). Credentials go as HTTP Basic, the user being the
/// account SID (configured, or the one in the URL: `/Accounts/AC.../Recordings/...`).
///
/// ```
/// use callhook::providers::registry::RecordingCredentials;
/// use callhook::providers::twilio::REGISTRATION;
/// let url = "https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/RE1";
/// let access = (REGISTRATION.recordings.access)(url, Some(&RecordingCredentials::new("token")));
/// assert_eq!(access.url, format!("{url}.mp3"));
/// assert_eq!(access.basic_auth, Some(("AC123".to_owned(), "token".to_owned())));
/// // A subaccount's recording is fetched with its own token.
/// let both = RecordingCredentials::new("token").account("AC456", "sub token");
/// let sub = "https://api.twilio.com/2010-04-01/Accounts/AC456/Recordings/RE2";
/// let access = (REGISTRATION.recordings.access)(sub, Some(&both));
/// assert_eq!(access.basic_auth, Some(("AC456".to_owned(), "sub token".to_owned())));
/// ```
fn access(url: &str, credentials: Option<&RecordingCredentials>) -> RecordingAccess {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').next().unwrap_or_default();
    let url = if last.contains('.') || path.ends_with('/') {
        url.to_owned()
    } else {
        match url.find(['?', '#']) {
            Some(at) => format!("{}.mp3{}", &url[..at], &url[at..]),
            None => format!("{url}.mp3"),
        }
    };
    let account_in_url = || {
        let mut segments = path.split('/');
        segments.find(|s| *s == "Accounts").and_then(|_| segments.next()).map(str::to_owned)
    };
    let basic_auth = credentials.and_then(|credentials| {
        // A named account's recording, by the SID in its URL.
        let url_account = account_in_url();
        if let Some((sid, token)) =
            credentials.accounts.iter().find(|(sid, _)| url_account.as_deref() == Some(sid.as_str()))
        {
            return Some((sid.clone(), token.expose().to_owned()));
        }
        let user = credentials.user.clone().or(url_account)?;
        Some((user, credentials.secret.expose().to_owned()))
    });
    let mut access = RecordingAccess::plain(&url, None);
    access.basic_auth = basic_auth;
    access
}

#[cfg(feature = "testing")]
mod samples {
    use super::super::testing;
    use crate::providers::registry::{Sample, SampleRun};

    /// A call from ringing to completed with its recording, three statuses of a sent
    /// message, and an incoming message.
    pub(super) fn samples(run: &SampleRun<'_>) -> Vec<Sample> {
        let Some(token) = run.settings.get("auth_token") else { return Vec::new() };
        let token = token.expose();
        let url = |endpoint: &str| format!("{}/webhooks/twilio/{endpoint}", run.base_url);
        let call = format!("CA{}", run.run);
        let mut out = Vec::new();
        let mut push = |name: String, endpoint: &str, params: testing::Params| {
            out.push(Sample::new(name, testing::signed_form(token, &url(endpoint), &params)));
        };
        push("incoming call".into(), "incoming-call", testing::incoming_call(&call, "+5511987654321", "+14155550100"));
        for (sequence, status) in ["initiated", "ringing", "in-progress", "completed"].into_iter().enumerate() {
            push(format!("call status {status}"), "call-status", testing::call_status(&call, status, sequence as u64, run.now));
        }
        let recording = format!("RE{}", run.run);
        let mut completed = testing::recording_status(&call, &recording, "completed", run.now);
        if let Some((_, url)) = completed.iter_mut().find(|(key, _)| key == "RecordingUrl") {
            *url = (run.recording_url)(&recording);
        }
        push("recording completed".into(), "recording-status", completed);
        for status in ["sent", "delivered", "read"] {
            let message = format!("SM{}", run.run);
            push(format!("message status {status}"), "message-status", testing::message_status(&message, status));
        }
        let incoming = format!("SM{}in", run.run);
        push("incoming message".into(), "incoming-message", testing::incoming_message(&incoming, "+5511987654321", "Olá!"));
        out
    }
}

#[cfg(feature = "testing")]
fn test_settings() -> Settings {
    Settings::default().with("auth_token", "test auth_token").with("account_sid", "AC00000000000000000000000000000000")
}

#[cfg(feature = "testing")]
fn sign(settings: &Settings, url: &str, body: &str, at: time::OffsetDateTime) -> http::Request<bytes::Bytes> {
    let secret = settings.get("auth_token").map_or("", |secret| secret.expose());
    super::testing::signed(secret, url, body, at)
}
