//! Which providers the server mounts, at the reference paths, from the secrets set.
//! A provider without its secret is not mounted (its path answers 404), and the
//! start-up report says so: the server never accepts unverified requests.

use std::sync::Arc;

use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use callhook::receiver::{BuildError, ReceiverBuilder};
use callhook::{Receiver, Scheduler, Storage};

use crate::config::Config;

/// The Twilio endpoints, under `/webhooks/twilio/`.
pub const TWILIO_ENDPOINTS: [&str; 5] =
    ["incoming-call", "call-status", "recording-status", "message-status", "incoming-message"];

/// The receiver with every configured provider, and one line per provider for the
/// start-up log.
pub fn receiver(
    config: &Config,
    storage: Arc<dyn Storage>,
    scheduler: Arc<dyn Scheduler>,
) -> Result<(Receiver, Vec<String>), BuildError> {
    let (builder, report) = builder(config, storage, scheduler);
    Ok((builder.build()?, report))
}

/// [`receiver`]'s builder, to add to (observers) before building.
pub fn builder(
    config: &Config,
    storage: Arc<dyn Storage>,
    scheduler: Arc<dyn Scheduler>,
) -> (ReceiverBuilder, Vec<String>) {
    let mut report = Vec::new();
    let mut builder: ReceiverBuilder =
        Receiver::builder().storage(storage).scheduler(scheduler).storage_timeout(config.storage_timeout);
    if let Some(url) = &config.public_url {
        builder = builder.public_base_url(url.clone());
    }

    match &config.twilio_auth_token {
        Some(token) => {
            let provider = Arc::new(twilio::Twilio::new(token.clone()));
            for endpoint in TWILIO_ENDPOINTS {
                builder = builder.mount(format!("/webhooks/twilio/{endpoint}"), provider.clone());
            }
            if config.public_url.is_none() {
                // Twilio signs the public URL; without one, check against our own address.
                builder = builder.public_base_url(config.twilio_base_url());
                report.push(format!(
                    "twilio: mounted; signatures checked against {} (set CALLHOOK_PUBLIC_URL to the URL Twilio calls)",
                    config.twilio_base_url()
                ));
            } else {
                report.push("twilio: mounted at /webhooks/twilio/*".to_owned());
            }
        }
        None => report.push("twilio: NOT mounted (TWILIO_AUTH_TOKEN is not set)".to_owned()),
    }
    match (&config.whatsapp_app_secret, &config.whatsapp_verify_token) {
        (Some(secret), verify) => {
            let mut provider = whatsapp::WhatsApp::builder().app_secret(secret.clone());
            if let Some(token) = verify {
                provider = provider.verify_token(token.clone());
            } else {
                report
                    .push("whatsapp: WHATSAPP_VERIFY_TOKEN is not set: the setup handshake will be refused".to_owned());
            }
            builder = builder.mount("/webhooks/whatsapp", Arc::new(provider.build()));
            report.push("whatsapp: mounted at /webhooks/whatsapp".to_owned());
        }
        (None, _) => report.push("whatsapp: NOT mounted (WHATSAPP_APP_SECRET is not set)".to_owned()),
    }
    match &config.retell_api_key {
        Some(key) => {
            builder = builder.mount(
                "/webhooks/retell/call-events",
                Arc::new(retell::Retell::builder().api_key(key.clone()).build()),
            );
            report.push("retell: mounted at /webhooks/retell/call-events".to_owned());
        }
        None => report.push("retell: NOT mounted (RETELL_API_KEY is not set)".to_owned()),
    }
    match &config.cloudtalk_token {
        Some(token) => {
            let provider = cloudtalk::CloudTalk::builder().bearer_token(token.clone()).build();
            builder = builder.mount("/webhooks/cloudtalk", Arc::new(provider));
            report.push("cloudtalk: mounted at /webhooks/cloudtalk (Authorization: Bearer)".to_owned());
        }
        None => report.push("cloudtalk: NOT mounted (CLOUDTALK_WEBHOOK_TOKEN is not set)".to_owned()),
    }
    match &config.wavoip_token {
        Some(token) => {
            builder =
                builder.mount("/webhooks/wavoip", Arc::new(wavoip::WaVoip::builder().token(token.clone()).build()));
            report.push("wavoip: mounted at /webhooks/wavoip (?token=)".to_owned());
        }
        None => report.push("wavoip: NOT mounted (WAVOIP_WEBHOOK_TOKEN is not set)".to_owned()),
    }
    (builder, report)
}
