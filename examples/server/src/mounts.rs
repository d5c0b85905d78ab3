//! Which providers the server mounts, at the reference paths, from the secrets set.
//! A provider without its secret is not mounted (its path answers 404), and the
//! start-up report says so: the server never accepts unverified requests.

use callhook::Receiver;
use callhook::receiver::ReceiverBuilder;

use crate::config::Config;

/// The receiver's builder with every provider whose required settings are set, at the
/// paths its registration gives, and one line per provider for the start-up log. Give
/// it its store (`.store(..)`, or `.event_log(..).job_queue(..)`) and observers, then build.
pub fn builder(config: &Config) -> (ReceiverBuilder, Vec<String>) {
    let mut report = Vec::new();
    let mut builder: ReceiverBuilder = Receiver::builder().storage_timeout(config.storage_timeout);
    // Providers that sign the URL they called (Twilio) check it against this.
    builder = builder.public_base_url(config.base_url());
    if config.public_url.is_none() {
        report.push(format!(
            "signatures over the URL (Twilio) are checked against {} (set CALLHOOK_PUBLIC_URL to the URL providers call)",
            config.base_url()
        ));
    }
    for (registration, settings) in &config.providers {
        let id = registration.id.as_str();
        match (registration.mount)(settings) {
            Some(mount) => {
                for path in &mount.paths {
                    builder = builder.mount(path.clone(), mount.provider.clone());
                }
                report.push(format!("{id}: mounted at {}", mount.paths.join(", ")));
                report.extend(mount.notes.iter().map(|note| format!("{id}: {note}")));
            }
            None => {
                let missing: Vec<_> = registration
                    .settings
                    .iter()
                    .filter(|setting| setting.required && settings.get(setting.key).is_none())
                    .map(|setting| setting.env)
                    .collect();
                report.push(format!("{id}: NOT mounted ({} not set)", missing.join(", ")));
            }
        }
    }
    (builder, report)
}
