//! Vonage's [`Registration`]: the signature secret that signs webhooks, one event URL,
//! recordings on Vonage's API hosts.
//!
//! Recordings: a `record` event gives a URL on `api.nexmo.com` (or a regional
//! `api-us`/`api-eu`/`api-ap` host, on `nexmo.com` or `vonage.com`). Vonage serves it
//! only with `Authorization: Bearer <JWT>`, the JWT signed RS256 with the
//! application's private key. [`RecordingAccess`](crate::providers::registry::RecordingAccess)
//! carries HTTP Basic credentials only, so the hosts are declared and no credentials
//! are added: until the fetcher can send a bearer token, Vonage answers the download
//! `401` and it is marked failed. The event log still has the recording's URL and id.

use std::sync::Arc;

use super::{Vonage, normalize};
use crate::providers::registry::{Mount, Recordings, Registration, Setting, Settings};

const PATH: &str = "/webhooks/vonage/events";

/// Vonage, for code that serves every provider ([`crate::providers::all`]).
///
/// ```
/// use callhook::providers::vonage::REGISTRATION;
/// assert_eq!(REGISTRATION.settings[0].env, "VONAGE_SIGNATURE_SECRET");
/// assert!(REGISTRATION.recordings.hosts.contains(&"api.nexmo.com"));
/// ```
pub static REGISTRATION: Registration = Registration {
    id: normalize::PROVIDER,
    name: "Vonage",
    settings: &[Setting::required(
        "signature_secret",
        "VONAGE_SIGNATURE_SECRET",
        "the account's signature secret, which signs the Voice API's webhook JWTs",
    ),
    Setting::optional(
        "api_key",
        "VONAGE_API_KEY",
        "the account's API key: a named account is chosen by the api_key its tokens carry",
    )],
    mount,
    recordings: Recordings::public(&["api.nexmo.com", "*.nexmo.com", "*.vonage.com"]),
    call_at_sip_uri: None,
    #[cfg(feature = "testing")]
    test_settings,
    #[cfg(feature = "testing")]
    sign,
    #[cfg(feature = "testing")]
    samples: samples::samples,
};

fn mount(settings: &Settings) -> Option<Mount> {
    let accounts = settings.accounts_by("signature_secret", Some("api_key"), Some);
    if accounts.is_empty() {
        return None;
    }
    let vonage = accounts.into_iter().fold(Vonage::builder(), |builder, account| builder.account(account)).build();
    Some(Mount::new(Arc::new(vonage), [PATH]).note(
        "recording downloads from Vonage fail (401): they need a JWT signed with the application's private key, which callhook does not send yet",
    ))
}

#[cfg(feature = "testing")]
mod samples {
    use time::Duration;

    use super::super::testing;
    use super::PATH;
    use crate::providers::registry::{Sample, SampleRun};

    /// A call started, ringing, answered and completed, and its recording.
    pub(super) fn samples(run: &SampleRun<'_>) -> Vec<Sample> {
        let Some(secret) = run.settings.get("signature_secret") else { return Vec::new() };
        let secret = secret.expose();
        let conversation = format!("CON-{}", run.run);
        let leg = format!("leg-{}", run.run);
        // Provider times lead up to the run's time, so each token's `iat` is `run.now`.
        let at = |offset: i64| run.now - Duration::seconds(48 - offset);
        let mut out: Vec<Sample> = [("started", 0), ("ringing", 1), ("answered", 6), ("completed", 48)]
            .into_iter()
            .map(|(status, offset)| {
                let body = testing::call_event(status, &conversation, &leg, at(offset));
                Sample::new(format!("call {status}"), testing::signed(secret, PATH, &body, run.now))
            })
            .collect();
        let recording = format!("rec-{}", run.run);
        let url = (run.recording_url)(&format!("{recording}.mp3"));
        let body = testing::recording_event(&conversation, &recording, &url, at(48));
        out.push(Sample::new("recording", testing::signed(secret, PATH, &body, run.now)));
        out
    }
}

#[cfg(feature = "testing")]
fn test_settings() -> Settings {
    Settings::default().with("signature_secret", "test signature_secret")
}

#[cfg(feature = "testing")]
fn sign(settings: &Settings, url: &str, body: &str, at: time::OffsetDateTime) -> http::Request<bytes::Bytes> {
    let secret = settings.get("signature_secret").map_or("", |secret| secret.expose());
    super::testing::signed(secret, url, body, at)
}
