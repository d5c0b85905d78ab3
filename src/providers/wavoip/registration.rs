//! WaVoIP's [`Registration`]: the token in the webhook URL, one URL, recordings on
//! `storage.wavoip.com`, where a call's recording can be polled for by its id.

use std::sync::Arc;

use super::{WaVoip, normalize};
use crate::providers::registry::{Mount, Recordings, Registration, Setting, Settings};
use crate::state::CallState;

const PATH: &str = "/webhooks/wavoip";

/// WaVoIP, for code that serves every provider ([`crate::providers::all`]).
pub static REGISTRATION: Registration = Registration {
    id: normalize::PROVIDER,
    name: "WaVoIP",
    settings: &[Setting::required("token", "WAVOIP_WEBHOOK_TOKEN", "the token in the webhook URL (?token=)")],
    mount,
    recordings: Recordings { locate: Some(locate), ..Recordings::public(&["storage.wavoip.com", "*.wavoip.com"]) },
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
    let wavoip = accounts.into_iter().fold(WaVoip::builder(), |builder, account| builder.account(account)).build();
    Some(Mount::new(Arc::new(wavoip), [PATH]).note("authenticated by ?token= in the URL, not a signature"))
}

/// The URL WaVoIP's `READY` events carry for a call: it can be polled before then.
fn locate(call: &CallState) -> Option<String> {
    Some(format!("https://storage.wavoip.com/{}", call.call_id))
}

#[cfg(feature = "testing")]
mod samples {
    use super::super::testing;
    use super::PATH;
    use crate::providers::registry::{Sample, SampleRun};

    /// A call from active to ended, its recording from recording to ready.
    pub(super) fn samples(run: &SampleRun<'_>) -> Vec<Sample> {
        let Some(token) = run.settings.get("token") else { return Vec::new() };
        let call = format!("wv{}", run.run);
        let mut ready: serde_json::Value =
            serde_json::from_str(&testing::record(&call, "READY")).expect("the helper writes JSON");
        ready["record_url"] = (run.recording_url)(&call).into();
        let bodies = [
            ("call active", testing::call(&call, "CREATE", "ACTIVE", 0)),
            ("recording", testing::record(&call, "RECORDING")),
            ("call ended", testing::call(&call, "UPDATE", "ENDED", 45)),
            ("recording mixing", testing::record(&call, "MIXING")),
            ("recording ready", ready.to_string()),
        ];
        bodies.into_iter().map(|(name, body)| Sample::new(name, testing::signed(token.expose(), PATH, &body, run.now))).collect()
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
