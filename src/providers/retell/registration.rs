//! Retell AI's [`Registration`]: the API key that signs webhooks, one URL for every call
//! event, recordings on Retell's storage.

use std::sync::Arc;

use super::{Retell, normalize};
use crate::providers::registry::{Mount, Recordings, Registration, Setting, Settings};

const PATH: &str = "/webhooks/retell/call-events";

/// Retell AI, for code that serves every provider ([`crate::providers::all`]).
pub static REGISTRATION: Registration = Registration {
    id: normalize::PROVIDER,
    name: "Retell AI",
    settings: &[Setting::required("api_key", "RETELL_API_KEY", "the API key with webhook permission that signs webhooks")],
    mount,
    recordings: Recordings::public(&["*.retellai.com", "dxc03zgurdly9.cloudfront.net"]),
    call_at_sip_uri: Some(call_at_sip_uri),
    #[cfg(feature = "testing")]
    test_settings,
    #[cfg(feature = "testing")]
    sign,
    #[cfg(feature = "testing")]
    samples: samples::samples,
};

/// The Retell call a SIP URI dials: Retell's "dial to SIP URI" integration registers a
/// call, then dials `sip:{call_id}@sip.retellai.com` (older accounts:
/// `sip:{call_id}@5t4n6j0wnrl.sip.livekit.cloud`). Retell's call ids start with `call_`;
/// any other user (a phone number, on an elastic SIP trunk) names no call.
///
/// ```
/// use callhook::providers::call_dialed_at;
/// let (provider, call) = call_dialed_at("sip:call_a1b2c3@sip.retellai.com;transport=tcp").unwrap();
/// assert_eq!((provider.as_str(), call.as_str()), ("retell", "call_a1b2c3"));
/// assert!(call_dialed_at("sip:+14155550100@sip.retellai.com").is_none());
/// ```
fn call_at_sip_uri(user: &str, host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let retell = host == "sip.retellai.com" || host.ends_with(".sip.livekit.cloud");
    (retell && user.starts_with("call_") && user.len() > 5).then(|| user.to_owned())
}

fn mount(settings: &Settings) -> Option<Mount> {
    let accounts = settings.accounts_by("api_key", None, Some);
    if accounts.is_empty() {
        return None;
    }
    let retell = accounts.into_iter().fold(Retell::builder(), |builder, account| builder.account(account)).build();
    Some(Mount::new(Arc::new(retell), [PATH]))
}

#[cfg(feature = "testing")]
mod samples {
    use super::super::testing;
    use super::PATH;
    use crate::providers::registry::{Sample, SampleRun};

    /// A call started, ended (with its recording) and analyzed.
    pub(super) fn samples(run: &SampleRun<'_>) -> Vec<Sample> {
        let Some(key) = run.settings.get("api_key") else { return Vec::new() };
        let call = format!("call_{}", run.run);
        let recording = (run.recording_url)(&format!("{call}.wav"));
        ["call_started", "call_ended", "call_analyzed"]
            .into_iter()
            .map(|event| {
                let mut body: serde_json::Value =
                    serde_json::from_str(&testing::call_event(event, &call, "user_hangup", run.now))
                        .expect("the helper writes JSON");
                if body["call"]["recording_url"].is_string() {
                    body["call"]["recording_url"] = recording.clone().into();
                }
                Sample::new(event, testing::signed(key.expose(), PATH, &body.to_string(), run.now))
            })
            .collect()
    }
}

#[cfg(feature = "testing")]
fn test_settings() -> Settings {
    Settings::default().with("api_key", "test api_key")
}

#[cfg(feature = "testing")]
fn sign(settings: &Settings, url: &str, body: &str, at: time::OffsetDateTime) -> http::Request<bytes::Bytes> {
    let secret = settings.get("api_key").map_or("", |secret| secret.expose());
    super::testing::signed(secret, url, body, at)
}
