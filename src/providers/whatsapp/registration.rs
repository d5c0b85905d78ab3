//! WhatsApp Business's [`Registration`]: the app secret (and the verify token of the
//! setup handshake), one URL for every notification, no recordings.

use std::sync::Arc;

use super::{WhatsApp, normalize};
use crate::account::Account;
use crate::providers::registry::{Mount, Recordings, Registration, Setting, Settings};

const PATH: &str = "/webhooks/whatsapp";

/// WhatsApp Business, for code that serves every provider ([`crate::providers::all`]).
pub static REGISTRATION: Registration = Registration {
    id: normalize::PROVIDER,
    name: "WhatsApp Business",
    settings: &[
        Setting::required("app_secret", "WHATSAPP_APP_SECRET", "the Meta app's secret, which signs every notification"),
        Setting::optional("verify_token", "WHATSAPP_VERIFY_TOKEN", "the token Meta's setup handshake must present"),
        Setting::optional(
            "business_ids",
            "WHATSAPP_BUSINESS_IDS",
            "the WhatsApp Business Account and phone number ids a named app serves, comma-separated: its notifications are verified with its secret only",
        ),
    ],
    mount,
    recordings: Recordings::NONE,
    call_at_sip_uri: None,
    #[cfg(feature = "testing")]
    test_settings,
    #[cfg(feature = "testing")]
    sign,
    #[cfg(feature = "testing")]
    samples: samples::samples,
};

fn mount(settings: &Settings) -> Option<Mount> {
    let mut whatsapp = WhatsApp::builder();
    let mut apps = 0;
    let mut verify_tokens = 0;
    for (id, app) in settings.accounts() {
        let mut account = Account::with_keys(id.cloned(), app.keys("app_secret"));
        if account.keys().is_empty() {
            continue;
        }
        if app.get("app_secret").is_none() {
            account = account.only_next_keys();
        }
        // An app is chosen by the businesses it serves; one that names none takes the
        // notifications of businesses no app names.
        // Alone, the unnamed app takes every notification, as before accounts existed.
        let alone = id.is_none() && settings.accounts().count() == 1;
        let ids = app.get("business_ids").filter(|_| !alone).map(|ids| ids.expose().to_owned()).unwrap_or_default();
        for business in ids.split(',').map(str::trim).filter(|id| !id.is_empty()) {
            account = account.named(business);
        }
        whatsapp = whatsapp.account(account);
        apps += 1;
        for token in app.keys("verify_token") {
            whatsapp = whatsapp.verify_token(token);
            verify_tokens += 1;
        }
    }
    if apps == 0 {
        return None;
    }
    let mount = Mount::new(Arc::new(whatsapp.build()), [PATH]);
    Some(if verify_tokens > 0 {
        mount
    } else {
        mount.note("WHATSAPP_VERIFY_TOKEN is not set: the setup handshake will be refused")
    })
}

#[cfg(feature = "testing")]
mod samples {
    use super::super::testing;
    use super::PATH;
    use crate::providers::registry::{Sample, SampleRun};

    /// An inbound text, a batch of statuses out of order, a call's connect and
    /// terminate, and (with a verify token) the setup handshake.
    pub(super) fn samples(run: &SampleRun<'_>) -> Vec<Sample> {
        let Some(secret) = run.settings.get("app_secret") else { return Vec::new() };
        let at = run.now.unix_timestamp();
        let signed = |field: &str, value| testing::signed(secret.expose(), PATH, &testing::notification(field, value), run.now);
        let customer = "5511999998888";
        let wamid = format!("wamid.out{}", run.run);
        let call = format!("wacid.{}", run.run);
        let text = testing::text_message(&format!("wamid.in{}", run.run), customer, "Olá, quero um orçamento", at);
        let statuses = testing::statuses(&[(&wamid, "read", at + 3), (&wamid, "sent", at + 1), (&wamid, "delivered", at + 2)]);
        let mut out = vec![
            Sample::new("inbound text", signed("messages", text)),
            Sample::new("statuses out of order", signed("messages", statuses)),
            Sample::new("call connect", signed("calls", testing::call_connect(&call, customer, at))),
            Sample::new("call terminate", signed("calls", testing::call_terminate(&call, customer, "COMPLETED", at + 60, 55))),
        ];
        if let Some(verify) = run.settings.get("verify_token") {
            out.push(Sample::new("verification handshake", testing::handshake(PATH, verify.expose(), "1158201444")));
        }
        out
    }
}

#[cfg(feature = "testing")]
fn test_settings() -> Settings {
    Settings::default().with("app_secret", "test app_secret").with("verify_token", "test verify token")
}

#[cfg(feature = "testing")]
fn sign(settings: &Settings, url: &str, body: &str, at: time::OffsetDateTime) -> http::Request<bytes::Bytes> {
    let secret = settings.get("app_secret").map_or("", |secret| secret.expose());
    super::testing::signed(secret, url, body, at)
}
