//! CloudTalk's [`Registration`]: the bearer token its webhook action sends, one URL,
//! recordings on CloudTalk's storage.

use std::sync::Arc;

use super::{CloudTalk, normalize};
use crate::providers::registry::{Mount, Recordings, Registration, Setting, Settings};

const PATH: &str = "/webhooks/cloudtalk";

/// A path per trigger, for templates that do not name their event: the event is the
/// path's last segment.
const EVENT_PATHS: [&str; 5] = [
    "/webhooks/cloudtalk/call-started",
    "/webhooks/cloudtalk/call-answered",
    "/webhooks/cloudtalk/call-ended",
    "/webhooks/cloudtalk/call-missed",
    "/webhooks/cloudtalk/recording-uploaded",
];

/// CloudTalk, for code that serves every provider ([`crate::providers::all`]).
pub static REGISTRATION: Registration = Registration {
    id: normalize::PROVIDER,
    name: "CloudTalk",
    settings: &[Setting::required(
        "token",
        "CLOUDTALK_WEBHOOK_TOKEN",
        "the token CloudTalk's webhook action sends as Authorization: Bearer",
    )],
    mount,
    recordings: Recordings::public(&["*.cloudtalk.io"]),
    call_at_sip_uri: None,
    #[cfg(feature = "testing")]
    test_settings,
    #[cfg(feature = "testing")]
    sign,
    #[cfg(feature = "testing")]
    samples: samples::samples,
};

fn mount(settings: &Settings) -> Option<Mount> {
    let accounts = settings.accounts_by("token", None, Some);
    if accounts.is_empty() {
        return None;
    }
    let cloudtalk = accounts.into_iter().fold(CloudTalk::builder(), |builder, account| builder.account(account)).build();
    let paths = std::iter::once(PATH).chain(EVENT_PATHS);
    Some(Mount::new(Arc::new(cloudtalk), paths).note("authenticated by Authorization: Bearer, not a signature"))
}

#[cfg(feature = "testing")]
mod samples {
    use super::super::testing;
    use super::PATH;
    use crate::providers::registry::{Sample, SampleRun};

    /// A call started, answered and ended.
    pub(super) fn samples(run: &SampleRun<'_>) -> Vec<Sample> {
        let Some(token) = run.settings.get("token") else { return Vec::new() };
        // CloudTalk's call ids are numbers.
        let id = run.run.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) % 1_000_000_000;
        ["call.started", "call.answered", "call.ended"]
            .into_iter()
            .map(|event| {
                let body = testing::call_event(event, id, run.now);
                Sample::new(event, testing::signed(token.expose(), PATH, &body, run.now))
            })
            .collect()
    }
}

#[cfg(feature = "testing")]
fn test_settings() -> Settings {
    Settings::default().with("token", "test token")
}

#[cfg(feature = "testing")]
fn sign(settings: &Settings, url: &str, body: &str, at: time::OffsetDateTime) -> http::Request<bytes::Bytes> {
    let secret = settings.get("token").map_or("", |secret| secret.expose());
    super::testing::signed(secret, url, body, at)
}
