//! The server's configuration, from environment variables (names in the README) and,
//! for several accounts per provider, a TOML file (`CALLHOOK_CONFIG`).
//!
//! # Accounts
//!
//! Each provider's environment variables (`TWILIO_AUTH_TOKEN`, ...) configure its
//! unnamed account; `<VARIABLE>_NEXT` is a secret's next value during a rotation. Named
//! accounts come from the file:
//!
//! ```toml
//! [providers.whatsapp]            # the unnamed account's settings (the environment wins)
//! verify_token = "..."
//!
//! [[accounts]]
//! provider = "twilio"             # a provider id
//! name = "acme"                   # the label stored with its events
//! auth_token = "..."              # the provider's settings, by key (see `--help`)
//! auth_token_next = "..."         # a secret's next value, during a rotation
//! account_sid = "AC..."           # what names the account in Twilio's requests
//!
//! [[accounts]]
//! provider = "cloudtalk"
//! name = "sao-paulo"
//! token = "..."
//! own_path = true                 # its own URL: /webhooks/cloudtalk/sao-paulo
//! ```
//!
//! or from the environment: `CALLHOOK_ACCOUNTS=twilio:acme,cloudtalk:sao-paulo`, each
//! account's settings in the provider's variables with the label appended in capitals
//! (`TWILIO_AUTH_TOKEN_ACME`, `TWILIO_AUTH_TOKEN_ACME_NEXT`, `CLOUDTALK_WEBHOOK_TOKEN_SAO_PAULO`).
//! Adding an account is a configuration change, never a code change.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use callhook::account::AccountId;
use callhook::providers::{self, Registration, registry::Settings};
use callhook::verify::Secret;
use serde::Deserialize;

/// Where the event log and job queue live.
#[derive(Clone, Debug, PartialEq)]
pub enum Database {
    /// A SQLite file (the default: `callhook.sqlite` in the working directory).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`DATABASE_URL=postgres://...`).
    Postgres(String),
}

/// Everything the server reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// `CALLHOOK_LISTEN`, default `127.0.0.1:3000`.
    pub listen: SocketAddr,
    /// `DATABASE_URL`: a `postgres://` URL, or a SQLite path (`sqlite://` optional).
    pub database: Database,
    /// `CALLHOOK_PUBLIC_URL`: the origin providers call (Twilio signs it).
    pub public_url: Option<String>,
    /// `CALLHOOK_ADMIN_TOKEN`: the admin API's bearer token; unset, the API is off.
    pub admin_token: Option<Secret>,
    /// Every provider compiled in, with the settings found for it (its secrets:
    /// `TWILIO_AUTH_TOKEN`, `WHATSAPP_APP_SECRET`, ...; see each [`Registration`]) and
    /// its named accounts that share its paths.
    pub providers: Vec<(&'static Registration, Settings)>,
    /// Named accounts on URLs of their own (`own_path = true`): each is mounted alone,
    /// at its provider's paths with its label after `/webhooks/<provider>`.
    pub own_path_accounts: Vec<(&'static Registration, AccountId, Settings)>,
    /// `CALLHOOK_TRUST_FORWARDED_HEADERS=true`: rebuild URLs from `X-Forwarded-*`.
    pub trust_forwarded_headers: bool,
    /// `CALLHOOK_RECORDINGS_DIR`, default `./recordings`.
    pub recordings_dir: PathBuf,
    /// `CALLHOOK_RECORDING_HOSTS`: extra `host[:port]` recordings may come from, plain
    /// HTTP allowed (comma-separated).
    pub recording_hosts: Vec<String>,
    /// `CALLHOOK_ALERT_WEBHOOK_URL`: a Slack/Teams-style incoming webhook for failures.
    pub alert_webhook_url: Option<Secret>,
    /// `CALLHOOK_HEADER_TIMEOUT` (seconds, default 30): a client that has not sent its
    /// request headers by then is disconnected (slow-loris).
    pub header_timeout: Duration,
    /// `CALLHOOK_BODY_TIMEOUT` (seconds, default 30): a webhook body not received by then
    /// is answered `408`.
    pub body_timeout: Duration,
    /// `CALLHOOK_STORAGE_TIMEOUT` (seconds, default 5): a webhook whose storing takes
    /// longer is answered `503` (the provider retries), `/healthz` fails when its storage
    /// check takes longer, and SQLite counts a writer stuck that long as stalled.
    pub storage_timeout: Duration,
}

/// A configuration variable with an invalid value.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// The header and body read timeouts unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The storage timeout unless configured (`CALLHOOK_STORAGE_TIMEOUT`): the receiver's
/// default, well under providers' own webhook timeouts.
pub const DEFAULT_STORAGE_TIMEOUT: Duration = callhook::receiver::DEFAULT_STORAGE_TIMEOUT;

/// The config file: providers' unnamed accounts and named accounts. Not `Debug`: its
/// values are secrets, held as plain strings until they become settings.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    providers: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    accounts: Vec<FileAccount>,
}

/// One `[[accounts]]` table.
#[derive(Deserialize)]
struct FileAccount {
    provider: String,
    name: String,
    #[serde(default)]
    own_path: bool,
    /// The provider's settings, by key (`_next` for a secret's next value).
    #[serde(flatten)]
    settings: BTreeMap<String, String>,
}

impl Config {
    /// Reads the process environment, and the file `CALLHOOK_CONFIG` names.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (tests pass a map), and the file
    /// `CALLHOOK_CONFIG` names.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match lookup("CALLHOOK_CONFIG").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|error| ConfigError { name: "CALLHOOK_CONFIG", reason: format!("{path}: {error}") })?,
            ),
            None => None,
        };
        Self::from_parts(lookup, file.as_deref())
    }

    /// Reads variables through `lookup` and the config file's text, if any.
    pub fn from_parts(lookup: impl Fn(&str) -> Option<String>, file: Option<&str>) -> Result<Self, ConfigError> {
        let file: File = match file {
            Some(text) => toml::from_str(text)
                .map_err(|error| ConfigError { name: "CALLHOOK_CONFIG", reason: toml_error(text, &error) })?,
            None => File::default(),
        };
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let secret = |name: &str| get(name).map(Secret::new);
        let listen = match get("CALLHOOK_LISTEN") {
            Some(value) => {
                value.parse().map_err(|e| ConfigError { name: "CALLHOOK_LISTEN", reason: format!("{e}: {value:?}") })?
            }
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        let database = match get("DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Database::Postgres(url),
            Some(url) => Database::Sqlite(PathBuf::from(url.trim_start_matches("sqlite://"))),
            None => Database::Sqlite(PathBuf::from("callhook.sqlite")),
        };
        let seconds = |name: &'static str, default: Duration| match get(name) {
            None => Ok(default),
            Some(value) => value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| ConfigError { name, reason: format!("a positive number of seconds, not {value:?}") }),
        };
        Self {
            header_timeout: seconds("CALLHOOK_HEADER_TIMEOUT", DEFAULT_TIMEOUT)?,
            body_timeout: seconds("CALLHOOK_BODY_TIMEOUT", DEFAULT_TIMEOUT)?,
            storage_timeout: seconds("CALLHOOK_STORAGE_TIMEOUT", DEFAULT_STORAGE_TIMEOUT)?,
            listen,
            database,
            public_url: get("CALLHOOK_PUBLIC_URL").map(|url| url.trim_end_matches('/').to_owned()),
            admin_token: secret("CALLHOOK_ADMIN_TOKEN"),
            providers: Vec::new(),
            own_path_accounts: Vec::new(),
            trust_forwarded_headers: get("CALLHOOK_TRUST_FORWARDED_HEADERS").is_some_and(|v| v == "true" || v == "1"),
            recordings_dir: PathBuf::from(get("CALLHOOK_RECORDINGS_DIR").unwrap_or_else(|| "recordings".into())),
            recording_hosts: get("CALLHOOK_RECORDING_HOSTS")
                .map(|hosts| hosts.split(',').map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            alert_webhook_url: secret("CALLHOOK_ALERT_WEBHOOK_URL"),
        }
        .with_accounts(&lookup, file)
    }

    /// Every provider's settings: its unnamed account from the environment (then the
    /// file's `[providers.<id>]`), its named accounts from the file and from
    /// `CALLHOOK_ACCOUNTS`.
    fn with_accounts(mut self, lookup: &impl Fn(&str) -> Option<String>, file: File) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError { name: "CALLHOOK_CONFIG", reason };
        let mut named: Vec<(&'static Registration, AccountId, bool, Settings)> = Vec::new();
        for account in file.accounts {
            let registration = find(&account.provider).ok_or_else(|| {
                invalid(format!("account {:?}: no provider {:?} in this build", account.name, account.provider))
            })?;
            let label = account.name.trim();
            check_label(label).map_err(invalid)?;
            if named.iter().any(|(r, id, ..)| r.id == registration.id && id.as_str() == label) {
                return Err(invalid(format!("{} account {label:?}: the name is used twice", account.provider)));
            }
            let settings = from_table(registration, &account.settings).map_err(invalid)?;
            named.push((registration, AccountId::new(label), account.own_path, settings));
        }
        if let Some(list) = lookup("CALLHOOK_ACCOUNTS") {
            let mut suffixes: Vec<(&'static str, String)> = Vec::new();
            for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
                let bad = |reason: String| ConfigError { name: "CALLHOOK_ACCOUNTS", reason };
                let (provider, label) =
                    entry.split_once(':').ok_or_else(|| bad(format!("{entry:?}: expected provider:name")))?;
                let (provider, label) = (provider.trim(), label.trim());
                check_label(label).map_err(bad)?;
                let registration =
                    find(provider).ok_or_else(|| bad(format!("no provider {provider:?} in this build")))?;
                // Each setting's variable with the label appended: TWILIO_AUTH_TOKEN_ACME.
                let suffix: String = label
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
                    .collect();
                if suffixes.iter().any(|(id, taken)| *id == registration.id.as_str() && *taken == suffix) {
                    return Err(bad(format!("{entry}: another {provider} account's variables end in _{suffix} too")));
                }
                suffixes.push((registration.id.as_str(), suffix.clone()));
                let settings = Settings::from_lookup(registration, |name| match name.strip_suffix("_NEXT") {
                    Some(base) => lookup(&format!("{base}_{suffix}_NEXT")),
                    None => lookup(&format!("{name}_{suffix}")),
                });
                if settings.is_empty() {
                    return Err(bad(format!(
                        "{entry}: none of its variables (e.g. {}_{suffix}) is set",
                        registration.settings[0].env
                    )));
                }
                // The environment's account replaces the file's of the same name, whole:
                // a secret revoked in the environment must not verify from the file.
                let own_path = named
                    .iter()
                    .find(|(r, id, ..)| r.id == registration.id && id.as_str() == label)
                    .is_some_and(|(_, _, own, _)| *own);
                named.retain(|(r, id, ..)| !(r.id == registration.id && id.as_str() == label));
                named.push((registration, AccountId::new(label), own_path, settings));
            }
        }
        for registration in providers::all() {
            let mut settings = Settings::from_lookup(registration, lookup);
            if let Some(table) = file.providers.get(registration.id.as_str()) {
                let from_file = from_table(registration, table).map_err(invalid)?;
                settings = settings.or(from_file);
            }
            for (_, id, _, account) in named.iter().filter(|(r, _, own, _)| r.id == registration.id && !own) {
                settings = settings.account(id.clone(), account.clone());
            }
            self.providers.push((registration, settings));
        }
        for (registration, id, _, settings) in named.into_iter().filter(|(_, _, own, _)| *own) {
            self.own_path_accounts.push((registration, id, settings));
        }
        if let Some(unknown) = file.providers.keys().find(|id| find(id).is_none()) {
            return Err(invalid(format!("[providers.{unknown}]: no such provider in this build")));
        }
        Ok(self)
    }

    /// The origin providers call, as signatures are checked against it: the configured
    /// public URL, or else this server's own address (right for local tests; said at
    /// start-up).
    pub fn base_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The named accounts configured, `provider:name` (for the start-up report).
    pub fn account_labels(&self) -> Vec<String> {
        let shared = self.providers.iter().flat_map(|(registration, settings)| {
            settings.accounts().filter_map(move |(id, _)| id.map(|id| format!("{}:{id}", registration.id)))
        });
        let own =
            self.own_path_accounts.iter().map(|(registration, id, _)| format!("{}:{id} (own path)", registration.id));
        shared.chain(own).collect()
    }

    /// The settings found for provider `id`, if it is compiled in.
    pub fn settings(&self, id: &str) -> Option<&Settings> {
        self.providers.iter().find(|(registration, _)| registration.id.as_str() == id).map(|(_, settings)| settings)
    }
}

/// An account's name, as stored with its events and put in its own paths: letters,
/// digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters.
fn check_label(label: &str) -> Result<(), String> {
    let valid = !label.is_empty()
        && label.len() <= 64
        && label.starts_with(|c: char| c.is_ascii_alphanumeric())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(format!("account name {label:?}: letters, digits, '.', '_' and '-' only (at most 64)"))
    }
}

/// Where a config file is wrong, without quoting it: its values are secrets.
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let Some(span) = error.span() else { return "not a valid config file (TOML)".into() };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    format!("line {line}, column {column}: not valid here (the value is not shown: it may be a secret)")
}

fn find(id: &str) -> Option<&'static Registration> {
    providers::all().iter().copied().find(|registration| registration.id.as_str() == id)
}

/// A table of settings by key (`<key>_next`: the key's next value) as `registration`'s
/// settings; an unknown key is an error, so a typo is not a silently missing secret.
fn from_table(registration: &Registration, table: &BTreeMap<String, String>) -> Result<Settings, String> {
    let mut settings = Settings::default();
    for (key, value) in table {
        let value = value.trim();
        let (base, next) = match key.strip_suffix("_next") {
            Some(base) => (base, true),
            None => (key.as_str(), false),
        };
        let setting = registration.settings.iter().find(|setting| setting.key == base).ok_or_else(|| {
            let known: Vec<_> = registration.settings.iter().map(|setting| setting.key).collect();
            format!("{}: no setting {key:?} (it has {})", registration.id, known.join(", "))
        })?;
        if value.is_empty() {
            continue;
        }
        settings = if next { settings.with_next(setting.key, value) } else { settings.with(setting.key, value) };
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_database_kinds() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 3000)));
        assert_eq!(config.database, Database::Sqlite("callhook.sqlite".into()));
        assert!(config.admin_token.is_none() && config.providers.iter().all(|(_, settings)| settings.is_empty()));
        let pg = Config::from_lookup(|n| (n == "DATABASE_URL").then(|| "postgres://u@h/db".to_owned())).unwrap();
        assert_eq!(pg.database, Database::Postgres("postgres://u@h/db".into()));
        let bad = Config::from_lookup(|n| (n == "CALLHOOK_LISTEN").then(|| "nowhere".to_owned()));
        assert_eq!(bad.unwrap_err().name, "CALLHOOK_LISTEN");
        let blank = Config::from_lookup(|n| (n == "TWILIO_AUTH_TOKEN").then(|| "  ".to_owned())).unwrap();
        assert!(blank.settings("twilio").unwrap().get("auth_token").is_none(), "a blank secret is no secret");
        let set = Config::from_lookup(|n| (n == "TWILIO_AUTH_TOKEN").then(|| "t".to_owned())).unwrap();
        assert_eq!(set.settings("twilio").unwrap().get("auth_token").map(|s| s.expose()), Some("t"));
        assert_eq!((config.header_timeout, config.body_timeout), (DEFAULT_TIMEOUT, DEFAULT_TIMEOUT));
        assert_eq!(config.storage_timeout, Duration::from_secs(5));
        let storage = Config::from_lookup(|n| (n == "CALLHOOK_STORAGE_TIMEOUT").then(|| "1.5".to_owned())).unwrap();
        assert_eq!(storage.storage_timeout, Duration::from_millis(1500));
        let quick = Config::from_lookup(|n| (n == "CALLHOOK_BODY_TIMEOUT").then(|| "0.5".to_owned())).unwrap();
        assert_eq!(quick.body_timeout, Duration::from_millis(500));
        for bad in ["0", "-1", "soon", "inf"] {
            let error = Config::from_lookup(|n| (n == "CALLHOOK_HEADER_TIMEOUT").then(|| bad.to_owned())).unwrap_err();
            assert_eq!(error.name, "CALLHOOK_HEADER_TIMEOUT");
        }
    }

    #[test]
    fn accounts_come_from_the_file_and_the_environment() {
        let file = r#"
            [providers.whatsapp]
            app_secret = "from the file"
            verify_token = "verify"

            [[accounts]]
            provider = "twilio"
            name = "acme"
            auth_token = "a"
            auth_token_next = "a2"
            account_sid = "AC1"

            [[accounts]]
            provider = "cloudtalk"
            name = "sp"
            token = "t"
            own_path = true
        "#;
        let env = [
            ("WHATSAPP_APP_SECRET", "from the environment"),
            ("CALLHOOK_ACCOUNTS", "twilio:globex-br"),
            ("TWILIO_AUTH_TOKEN_GLOBEX_BR", "g"),
        ];
        let lookup = |name: &str| env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string());
        let config = Config::from_parts(lookup, Some(file)).unwrap();
        let whatsapp = config.settings("whatsapp").unwrap();
        assert_eq!(whatsapp.get("app_secret").unwrap().expose(), "from the environment", "the environment wins");
        assert_eq!(whatsapp.get("verify_token").unwrap().expose(), "verify", "the file fills what it leaves unset");
        let twilio = config.settings("twilio").unwrap();
        let accounts: Vec<(String, usize)> = twilio
            .accounts()
            .map(|(id, settings)| (id.unwrap().to_string(), settings.keys("auth_token").len()))
            .collect();
        assert_eq!(accounts, [("acme".to_owned(), 2), ("globex-br".to_owned(), 1)]);
        assert_eq!(config.own_path_accounts.len(), 1);
        assert_eq!(config.own_path_accounts[0].1.as_str(), "sp");
        assert_eq!(config.account_labels(), ["twilio:acme", "twilio:globex-br", "cloudtalk:sp (own path)"]);
    }

    #[test]
    fn a_mistake_in_the_file_is_an_error_that_says_where() {
        let error = |file: &str| Config::from_parts(|_| None, Some(file)).unwrap_err().reason;
        let unknown_key = error("[[accounts]]\nprovider = \"twilio\"\nname = \"a\"\nauth_tokn = \"s3cret\"");
        assert!(
            unknown_key.contains("no setting \"auth_tokn\"") && unknown_key.contains("auth_token"),
            "{unknown_key}"
        );
        assert!(!unknown_key.contains("s3cret"), "a value is never repeated: {unknown_key}");
        let unknown_provider = error("[[accounts]]\nprovider = \"nope\"\nname = \"a\"");
        assert!(unknown_provider.contains("no provider \"nope\""), "{unknown_provider}");
        let twice =
            "[[accounts]]\nprovider = \"twilio\"\nname = \"a\"\n[[accounts]]\nprovider = \"twilio\"\nname = \"a\"";
        assert!(error(twice).contains("used twice"));
        assert!(error("[providers.nope]\nx = \"1\"").contains("nope"));
        assert!(!error("not toml at all").is_empty());
        let ghost = Config::from_parts(|name| (name == "CALLHOOK_ACCOUNTS").then(|| "twilio:ghost".to_owned()), None);
        assert_eq!(ghost.unwrap_err().name, "CALLHOOK_ACCOUNTS", "an account with no variable set");
    }

    #[test]
    fn the_environment_replaces_what_the_file_says_of_a_secret_or_an_account() {
        let file = r#"
            [providers.cloudtalk]
            token = "revoked"
            token_next = "revoked too"

            [[accounts]]
            provider = "twilio"
            name = "acme"
            auth_token = "file token"
            auth_token_next = "file next"
            own_path = true
        "#;
        let env = [
            ("CLOUDTALK_WEBHOOK_TOKEN", "current"),
            ("CALLHOOK_ACCOUNTS", " twilio : acme "),
            ("TWILIO_AUTH_TOKEN_ACME", "env token"),
        ];
        let lookup = |name: &str| env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string());
        let config = Config::from_parts(lookup, Some(file)).unwrap();
        let tokens: Vec<String> =
            config.settings("cloudtalk").unwrap().keys("token").iter().map(|s| s.expose().to_owned()).collect();
        assert_eq!(tokens, ["current"], "an overridden secret's old rotation does not verify");
        let (_, id, acme) = &config.own_path_accounts[0];
        assert_eq!(config.own_path_accounts.len(), 1);
        assert_eq!(id.as_str(), "acme");
        let keys: Vec<String> = acme.keys("auth_token").iter().map(|s| s.expose().to_owned()).collect();
        assert_eq!(keys, ["env token"], "the environment's account replaces the file's, whole");
    }

    #[test]
    fn config_errors_never_quote_a_value_and_names_are_checked() {
        let error = |file: &str| Config::from_parts(|_| None, Some(file)).unwrap_err().reason;
        let broken = error("[[accounts]]\nprovider = \"twilio\"\nname = \"a\"\nauth_token = \"s3cret-value\" oops");
        assert!(!broken.contains("s3cret-value") && broken.contains("line 4"), "{broken}");
        let typed = error("[[accounts]]\nprovider = \"twilio\"\nname = \"a\"\nauth_token = [\"s3cret-value\"]");
        assert!(!typed.contains("s3cret-value"), "{typed}");
        assert!(error("[[accounts]]\nprovider = \"twilio\"\nname = \"a/b\"\nauth_token = \"t\"").contains("a/b"));
        let env = |value: &'static str| {
            move |name: &str| match name {
                "CALLHOOK_ACCOUNTS" => Some(value.to_owned()),
                name if name.starts_with("TWILIO_AUTH_TOKEN") => Some("t".to_owned()),
                _ => None,
            }
        };
        assert_eq!(
            Config::from_parts(env("twilio:acme-br,twilio:acme_br"), None).unwrap_err().name,
            "CALLHOOK_ACCOUNTS"
        );
        assert_eq!(Config::from_parts(env("twilio:../x"), None).unwrap_err().name, "CALLHOOK_ACCOUNTS");
    }
}
