//! The server's configuration, from environment variables (names in the README).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use callhook::providers::{self, Registration, registry::Settings};
use callhook::verify::Secret;

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
    /// `TWILIO_AUTH_TOKEN`, `WHATSAPP_APP_SECRET`, ...; see each [`Registration`]).
    pub providers: Vec<(&'static Registration, Settings)>,
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

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
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
        Ok(Self {
            header_timeout: seconds("CALLHOOK_HEADER_TIMEOUT", DEFAULT_TIMEOUT)?,
            body_timeout: seconds("CALLHOOK_BODY_TIMEOUT", DEFAULT_TIMEOUT)?,
            storage_timeout: seconds("CALLHOOK_STORAGE_TIMEOUT", DEFAULT_STORAGE_TIMEOUT)?,
            listen,
            database,
            public_url: get("CALLHOOK_PUBLIC_URL").map(|url| url.trim_end_matches('/').to_owned()),
            admin_token: secret("CALLHOOK_ADMIN_TOKEN"),
            providers: providers::all()
                .iter()
                .map(|registration| (*registration, Settings::from_lookup(registration, &lookup)))
                .collect(),
            trust_forwarded_headers: get("CALLHOOK_TRUST_FORWARDED_HEADERS").is_some_and(|v| v == "true" || v == "1"),
            recordings_dir: PathBuf::from(get("CALLHOOK_RECORDINGS_DIR").unwrap_or_else(|| "recordings".into())),
            recording_hosts: get("CALLHOOK_RECORDING_HOSTS")
                .map(|hosts| hosts.split(',').map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            alert_webhook_url: secret("CALLHOOK_ALERT_WEBHOOK_URL"),
        })
    }

    /// The origin providers call, as signatures are checked against it: the configured
    /// public URL, or else this server's own address (right for local tests; said at
    /// start-up).
    pub fn base_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The settings found for provider `id`, if it is compiled in.
    pub fn settings(&self, id: &str) -> Option<&Settings> {
        self.providers.iter().find(|(registration, _)| registration.id.as_str() == id).map(|(_, settings)| settings)
    }
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
}
