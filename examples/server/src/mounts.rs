//! Which providers the server mounts, at the reference paths, from the secrets set
//! (named accounts with their provider, or on URLs of their own).
//! A provider without its secret is not mounted (its path answers 404), and the
//! start-up report says so: the server never accepts unverified requests.

use callhook::Receiver;
use callhook::providers::registry::Settings;
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
    for (registration, account, settings) in &config.own_path_accounts {
        let id = registration.id.as_str();
        // Alone in its provider: only its own secrets verify requests at its paths.
        let alone = Settings::default().account(account.clone(), settings.clone());
        match (registration.mount)(&alone) {
            Some(mount) => {
                let paths: Vec<String> = mount.paths.iter().map(|path| own_path(id, account.as_str(), path)).collect();
                for path in &paths {
                    builder = builder.mount(path.clone(), mount.provider.clone());
                }
                report.push(format!("{id} account {account}: mounted at {}", paths.join(", ")));
                report.extend(mount.notes.iter().map(|note| format!("{id} account {account}: {note}")));
            }
            None => report.push(format!("{id} account {account}: NOT mounted (its secret is not set)")),
        }
    }
    let accounts = config.account_labels();
    if !accounts.is_empty() {
        report.push(format!("named accounts: {}", accounts.join(", ")));
    }
    (builder, report)
}

/// `path` (one of the provider's paths) for an account on URLs of its own: its label
/// after `/webhooks/<provider>` (`/webhooks/cloudtalk/call-ended` for `acme` is
/// `/webhooks/cloudtalk/acme/call-ended`).
fn own_path(provider: &str, account: &str, path: &str) -> String {
    let prefix = format!("/webhooks/{provider}");
    match path.strip_prefix(&prefix) {
        Some(rest) => format!("{prefix}/{account}{rest}"),
        None => format!("{}/{account}", path.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_own_path_puts_the_account_after_the_provider() {
        assert_eq!(super::own_path("cloudtalk", "acme", "/webhooks/cloudtalk"), "/webhooks/cloudtalk/acme");
        assert_eq!(
            super::own_path("cloudtalk", "acme", "/webhooks/cloudtalk/call-ended"),
            "/webhooks/cloudtalk/acme/call-ended"
        );
        assert_eq!(super::own_path("x", "acme", "/hooks/x"), "/hooks/x/acme");
    }
}
