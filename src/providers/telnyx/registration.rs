//! Telnyx's [`Registration`]: the account's public key that verifies webhooks, one URL
//! for every call and message event, recordings on Telnyx's S3 storage.

use std::sync::Arc;

use super::signature::PublicKey;
use super::{Telnyx, normalize};
use crate::account::Account;
use crate::providers::registry::{Mount, Recordings, Registration, Setting, Settings};

const PATH: &str = "/webhooks/telnyx";

/// callhook's **published** test public key, whose private key is
/// `testing::TEST_PRIVATE_KEY` (feature `testing`): the tests, the samples and the
/// quick start sign with it. Anyone can sign for it, so a receiver configured with it
/// accepts anyone's requests: never configure it outside tests (the registration's
/// mount says so at start-up).
///
/// ```
/// use callhook::providers::telnyx::{TEST_PUBLIC_KEY, signature::PublicKey};
/// assert!(TEST_PUBLIC_KEY.parse::<PublicKey>().is_ok());
/// ```
pub const TEST_PUBLIC_KEY: &str = "rs9U5CR5Y1hy6hFzaFxul1U7ALN5mAWaOG3D+K7Erpc=";

/// Telnyx, for code that serves every provider ([`crate::providers::all`]).
///
/// Recordings come as presigned S3 URLs (`https://s3.amazonaws.com/telephony-recorder-prod/...`,
/// and `s3.eu-central-1.amazonaws.com` for accounts recorded in Frankfurt), so those
/// hosts are allowed; a bucket of your own (Telnyx's custom storage) needs its host in
/// `CALLHOOK_RECORDING_HOSTS`.
///
/// ```
/// use callhook::providers::registry::Settings;
/// use callhook::providers::telnyx::{REGISTRATION, TEST_PUBLIC_KEY};
/// let mount = (REGISTRATION.mount)(&Settings::default().with("public_key", TEST_PUBLIC_KEY)).unwrap();
/// assert_eq!(mount.paths, ["/webhooks/telnyx"]);
/// assert!(mount.notes[0].contains("published test key"));
/// let bad = (REGISTRATION.mount)(&Settings::default().with("public_key", "not-a-key")).unwrap();
/// assert!(bad.notes[0].contains("its requests are refused"));
/// assert!((REGISTRATION.mount)(&Settings::default()).is_none());
/// ```
pub static REGISTRATION: Registration = Registration {
    id: normalize::PROVIDER,
    name: "Telnyx",
    settings: &[Setting::required(
        "public_key",
        "TELNYX_PUBLIC_KEY",
        "the account's Ed25519 public key (Mission Control, Keys & Credentials), base64; several separated by commas during a rotation",
    )],
    mount,
    recordings: Recordings::public(&["s3.amazonaws.com", "*.s3.amazonaws.com", "s3.eu-central-1.amazonaws.com"]),
    call_at_sip_uri: None,
    #[cfg(feature = "testing")]
    test_settings,
    #[cfg(feature = "testing")]
    sign,
    #[cfg(feature = "testing")]
    samples: samples::samples,
};

/// The public keys in a `public_key` setting: one, or several separated by commas.
fn public_keys(setting: &str) -> Result<Vec<PublicKey>, super::signature::InvalidPublicKey> {
    setting.split(',').map(str::trim).filter(|key| !key.is_empty()).map(str::parse).collect()
}

fn mount(settings: &Settings) -> Option<Mount> {
    let mut telnyx = Telnyx::builder();
    let mut notes = Vec::new();
    let mut configured = false;
    for (id, account) in settings.accounts() {
        let values = account.keys("public_key");
        if values.is_empty() {
            continue;
        }
        configured = true;
        let named = id.map(|id| format!(" (account {id})")).unwrap_or_default();
        let mut keys = Vec::new();
        for value in values {
            match public_keys(value.expose()) {
                Ok(parsed) => keys.extend(parsed),
                Err(error) => notes.push(format!(
                    "TELNYX_PUBLIC_KEY{named} is not a Telnyx public key ({error}): its requests are refused until it is fixed"
                )),
            }
        }
        if keys.iter().any(|key| key.to_base64() == TEST_PUBLIC_KEY) {
            notes.push(format!(
                "TELNYX_PUBLIC_KEY{named} is callhook's published test key: anyone can sign requests it accepts; use it only for tests"
            ));
        }
        if keys.is_empty() {
            notes.push(format!("TELNYX_PUBLIC_KEY{named} holds no key: its requests are refused"));
            continue;
        }
        let only_next = account.get("public_key").is_none();
        let keys = Account::with_keys(id.cloned(), keys);
        telnyx = telnyx.account(if only_next { keys.only_next_keys() } else { keys });
    }
    if !configured {
        return None;
    }
    let mount = Mount::new(Arc::new(telnyx.build()), [PATH]);
    Some(notes.into_iter().fold(mount, |mount, note| mount.note(note)))
}

#[cfg(feature = "testing")]
mod samples {
    use super::super::testing;
    use super::PATH;
    use crate::providers::registry::{Sample, SampleRun};

    /// A call initiated, answered, hung up and its recording saved; a message received
    /// and one sent, then finalized as delivered. Signed with the private key in the
    /// settings, or the test key when the configured public key is the test key; with
    /// neither, nothing can be signed that the configured key accepts, and there are no
    /// samples.
    pub(super) fn samples(run: &SampleRun<'_>) -> Vec<Sample> {
        let Some(private_key) = super::signing_key(run.settings) else { return Vec::new() };
        let leg = format!("leg-{}", run.run);
        let recording = (run.recording_url)(&format!("{leg}.mp3"));
        let mut out: Vec<Sample> = ["call.initiated", "call.answered", "call.hangup", "call.recording.saved"]
            .into_iter()
            .map(|event| {
                let mut body: serde_json::Value =
                    serde_json::from_str(&testing::call_event(event, &leg, run.now)).expect("the helper writes JSON");
                if event == "call.recording.saved" {
                    body["data"]["payload"]["recording_urls"] = serde_json::json!({"mp3": recording, "wav": null});
                }
                Sample::new(event, testing::signed(private_key, PATH, &body.to_string(), run.now))
            })
            .collect();
        let inbound = testing::message_event("message.received", &format!("msg-in-{}", run.run), "webhook_delivered", run.now);
        out.push(Sample::new("message.received", testing::signed(private_key, PATH, &inbound, run.now)));
        let outbound = format!("msg-out-{}", run.run);
        for (event, status) in [("message.sent", "sent"), ("message.finalized", "delivered")] {
            let body = testing::message_event(event, &outbound, status, run.now);
            out.push(Sample::new(format!("{event} {status}"), testing::signed(private_key, PATH, &body, run.now)));
        }
        out
    }
}

/// The private key that signs for `settings`' public key, if known: its `private_key`
/// (the test settings have one), or the test key's when the public key is the test key.
#[cfg(feature = "testing")]
fn signing_key(settings: &Settings) -> Option<&str> {
    if let Some(private_key) = settings.get("private_key") {
        return Some(private_key.expose());
    }
    let keys = public_keys(settings.get("public_key")?.expose()).ok()?;
    keys.iter().any(|key| key.to_base64() == TEST_PUBLIC_KEY).then_some(super::testing::TEST_PRIVATE_KEY)
}

#[cfg(feature = "testing")]
fn test_settings() -> Settings {
    Settings::default().with("public_key", TEST_PUBLIC_KEY).with("private_key", super::testing::TEST_PRIVATE_KEY)
}

#[cfg(feature = "testing")]
fn sign(settings: &Settings, url: &str, body: &str, at: time::OffsetDateTime) -> http::Request<bytes::Bytes> {
    let private_key = signing_key(settings).unwrap_or(super::testing::TEST_PRIVATE_KEY);
    super::testing::signed(private_key, url, body, at)
}
