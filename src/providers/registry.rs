//! What every provider declares about itself, for the code that serves them all: the
//! settings that configure it, where it is mounted, where its recordings may be fetched
//! from and how, and (feature `testing`) how to sign a request for it and what sample
//! traffic looks like.
//!
//! Each provider folder defines one [`Registration`] (its `REGISTRATION` constant) and
//! [`all`](super::all) lists them, one line per provider. The reference server, the AWS
//! Lambda example, the recording fetcher, the load tool, the benchmarks and the fuzz
//! targets loop over that list: adding a provider touches nothing else.
//!
//! ```
//! use callhook::providers::{self, registry::Settings};
//!
//! // Mount every provider whose settings are in the environment (here, a map).
//! let env = [("WAVOIP_WEBHOOK_TOKEN", "long random token")];
//! for registration in providers::all() {
//!     let settings = Settings::from_lookup(registration, |name| {
//!         env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
//!     });
//!     if let Some(mount) = (registration.mount)(&settings) {
//!         assert_eq!(mount.paths, ["/webhooks/wavoip"]);
//!     }
//! }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::account::{Account, AccountId};
use crate::event::ProviderId;
use crate::provider::Provider;
use crate::state::CallState;
use crate::verify::Secret;

/// One provider, as the code serving every provider sees it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Registration {
    /// Its id, as events carry it.
    pub id: ProviderId,
    /// Its name for people (`"Twilio"`).
    pub name: &'static str,
    /// What configures it.
    pub settings: &'static [Setting],
    /// The provider built from `settings`, and where to mount it; `None` when a required
    /// setting is absent (the provider is then not mounted: nothing unverified is ever
    /// accepted).
    pub mount: fn(&Settings) -> Option<Mount>,
    /// Where its recordings may be fetched from, and how.
    pub recordings: Recordings,
    /// The id of this provider's call that a SIP URI dials, if it is one of this
    /// provider's (Retell: `sip:{call_id}@sip.retellai.com`), given the URI's user and
    /// host: how another provider's leg that dialed it is linked to it (see
    /// [`super::call_dialed_at`]).
    pub call_at_sip_uri: Option<fn(user: &str, host: &str) -> Option<String>>,
    /// Settings for tests (feature `testing`): every setting set, and whatever else
    /// [`sign`](Self::sign) needs (a provider that signs with a private key keeps a
    /// test key here).
    #[cfg(feature = "testing")]
    pub test_settings: fn() -> Settings,
    /// Signs `body` for `url` as the provider would, with the secrets in `settings`,
    /// sent at `at` (feature `testing`): each provider's `testing::signed`.
    #[cfg(feature = "testing")]
    pub sign: fn(settings: &Settings, url: &str, body: &str, at: time::OffsetDateTime) -> http::Request<bytes::Bytes>,
    /// Signed sample webhooks of every event kind, as a configured provider would send
    /// them (feature `testing`).
    #[cfg(feature = "testing")]
    pub samples: fn(&SampleRun<'_>) -> Vec<Sample>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .field("settings", &self.settings.iter().map(|s| s.key).collect::<Vec<_>>())
            .field("recording_hosts", &self.recordings.hosts)
            .finish_non_exhaustive()
    }
}

/// One setting of a provider.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Setting {
    /// Its key in a configuration file (`auth_token`).
    pub key: &'static str,
    /// Its environment variable (`TWILIO_AUTH_TOKEN`).
    pub env: &'static str,
    /// Whether the provider cannot be mounted without it.
    pub required: bool,
    /// What it is, for a start-up report or `--help`.
    pub help: &'static str,
}

impl Setting {
    /// A setting the provider needs.
    pub const fn required(key: &'static str, env: &'static str, help: &'static str) -> Self {
        Self { key, env, required: true, help }
    }

    /// A setting the provider can do without.
    pub const fn optional(key: &'static str, env: &'static str, help: &'static str) -> Self {
        Self { key, env, required: false, help }
    }
}

/// A provider's setting values, by key. Every value is a [`Secret`]: settings are
/// mostly secrets, and none is ever printed.
///
/// The values are those of the provider's unnamed account; [`account`](Self::account)
/// adds named accounts (see [`crate::account`]), each with settings of its own. A
/// secret being rotated has a second value, its next one
/// ([`with_next`](Self::with_next); in the environment, the variable's name with
/// `_NEXT`, e.g. `TWILIO_AUTH_TOKEN_NEXT`): both verify.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    values: HashMap<&'static str, Secret>,
    next: HashMap<&'static str, Secret>,
    accounts: Vec<(AccountId, Settings)>,
}

impl Settings {
    /// The values of `registration`'s settings that `lookup` finds by environment
    /// variable name (and their next values, by the name with `_NEXT`); blank values
    /// count as absent.
    pub fn from_lookup(registration: &Registration, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut settings = Self::default();
        let found = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        for setting in registration.settings {
            if let Some(value) = found(setting.env) {
                settings.values.insert(setting.key, Secret::new(value));
            }
            if let Some(value) = found(&format!("{}_NEXT", setting.env)) {
                settings.next.insert(setting.key, Secret::new(value));
            }
        }
        settings
    }

    /// Sets the next value of `key`: the secret being rotated in, accepted beside the
    /// current one.
    ///
    /// ```
    /// use callhook::providers::registry::Settings;
    /// let settings = Settings::default().with("token", "old").with_next("token", "new");
    /// let keys = settings.keys("token");
    /// assert_eq!(keys.iter().map(|s| s.expose()).collect::<Vec<_>>(), ["old", "new"]);
    /// ```
    pub fn with_next(mut self, key: &'static str, value: impl Into<Secret>) -> Self {
        self.next.insert(key, value.into());
        self
    }

    /// These settings, with `other`'s values (and next values) where these have none,
    /// and `other`'s named accounts after these'. A secret these settings set is theirs
    /// alone: `other`'s next value of it is dropped too (an overridden secret's old
    /// rotation must not verify).
    ///
    /// ```
    /// use callhook::providers::registry::Settings;
    /// let env = Settings::default().with("token", "from the environment");
    /// let file = Settings::default().with("token", "from a file").with("user", "u");
    /// let merged = env.or(file);
    /// assert_eq!(merged.get("token").unwrap().expose(), "from the environment");
    /// assert_eq!(merged.get("user").unwrap().expose(), "u");
    /// ```
    pub fn or(mut self, other: Settings) -> Self {
        for (key, value) in other.values {
            self.values.entry(key).or_insert(value);
        }
        for (key, value) in other.next {
            if !self.values.contains_key(key) {
                self.next.entry(key).or_insert(value);
            }
        }
        self.accounts.extend(other.accounts);
        self
    }

    /// The current value of `key` and, while it is rotated, the next (current first;
    /// empty when neither is set).
    pub fn keys(&self, key: &str) -> Vec<Secret> {
        self.values.get(key).into_iter().chain(self.next.get(key)).cloned().collect()
    }

    /// Adds a named account with its own settings (a builder, for tests and code).
    ///
    /// ```
    /// use callhook::providers::registry::Settings;
    /// let settings = Settings::default()
    ///     .account("acme", Settings::default().with("token", "acme token"))
    ///     .account("globex", Settings::default().with("token", "globex token"));
    /// let labels: Vec<String> = settings.accounts().map(|(id, _)| id.map(|id| id.to_string()).unwrap_or_default()).collect();
    /// assert_eq!(labels, ["acme", "globex"], "no unnamed account: it has no value");
    /// ```
    pub fn account(mut self, id: impl Into<AccountId>, settings: Settings) -> Self {
        self.accounts.push((id.into(), settings));
        self
    }

    /// Every account with its settings: the unnamed one (`None`, if any of its settings
    /// is set), then the named ones in the order added.
    pub fn accounts(&self) -> impl Iterator<Item = (Option<&AccountId>, &Settings)> {
        let unnamed = (!self.values.is_empty() || !self.next.is_empty()).then_some((None, self));
        unnamed.into_iter().chain(self.accounts.iter().map(|(id, settings)| (Some(id), settings)))
    }

    /// The [`Account`] of each account that has a value for `key`: its values of `key`
    /// as its keys, named by its value of `name` when it has one (Twilio's
    /// `account_sid`; an account without one takes the requests of every name no account
    /// has). The unnamed account is named only when named accounts are configured too:
    /// alone, it takes every request. What most registrations build their provider from.
    pub fn accounts_by<K>(
        &self,
        key: &str,
        name: Option<&str>,
        key_of: impl Fn(Secret) -> Option<K>,
    ) -> Vec<Account<K>> {
        let mut out = Vec::new();
        for (id, settings) in self.accounts() {
            let keys: Vec<K> = settings.keys(key).into_iter().filter_map(&key_of).collect();
            if keys.is_empty() {
                continue;
            }
            let mut account = Account::with_keys(id.cloned(), keys);
            if settings.get(key).is_none() {
                account = account.only_next_keys();
            }
            // The unnamed account alone takes every request, as before accounts existed;
            // beside named ones it is named by its own name too, so no other account's
            // key verifies a request that names it.
            let named = id.is_some() || !self.accounts.is_empty();
            if let Some(name) = name.and_then(|name| settings.get(name)).filter(|_| named) {
                account = account.named(name.expose());
            }
            out.push(account);
        }
        out
    }

    /// Sets `key` (a builder, for tests and code).
    ///
    /// ```
    /// use callhook::providers::registry::Settings;
    /// let settings = Settings::default().with("token", "t");
    /// assert_eq!(settings.get("token").map(|s| s.expose()), Some("t"));
    /// ```
    pub fn with(mut self, key: &'static str, value: impl Into<Secret>) -> Self {
        self.values.insert(key, value.into());
        self
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Secret> {
        self.values.get(key)
    }

    /// Whether no setting has a value, in any account.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.next.is_empty() && self.accounts.iter().all(|(_, settings)| settings.is_empty())
    }
}

/// A configured provider and the paths it answers at.
#[non_exhaustive]
pub struct Mount {
    /// The provider.
    pub provider: Arc<dyn Provider>,
    /// The paths, all served by it (`/webhooks/twilio/call-status`, ...).
    pub paths: Vec<String>,
    /// What an operator should know (a missing optional setting), for the start-up log.
    pub notes: Vec<String>,
}

impl Mount {
    /// `provider` at `paths`.
    pub fn new(provider: Arc<dyn Provider>, paths: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { provider, paths: paths.into_iter().map(Into::into).collect(), notes: Vec::new() }
    }

    /// The same with a note for the operator.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount").field("paths", &self.paths).field("notes", &self.notes).finish_non_exhaustive()
    }
}

/// Where a provider serves recordings, and how to ask for one.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Recordings {
    /// The hosts recordings may come from, HTTPS only: `host` or `*.domain`.
    pub hosts: &'static [&'static str],
    /// The URL of a call's recording when no webhook gave one (polling), if the
    /// provider's URLs can be predicted.
    pub locate: Option<fn(&CallState) -> Option<String>>,
    /// Prepares the download of `url` with the operator's credentials for this provider,
    /// if any: the URL to ask for and the HTTP Basic credentials to send.
    pub access: fn(url: &str, credentials: Option<&RecordingCredentials>) -> RecordingAccess,
    /// The credentials to download with, from the provider's settings.
    pub credentials: fn(&Settings) -> Option<RecordingCredentials>,
}

impl Recordings {
    /// Recordings served from `hosts` to anyone holding the URL.
    pub const fn public(hosts: &'static [&'static str]) -> Self {
        Self { hosts, locate: None, access: RecordingAccess::plain, credentials: |_| None }
    }

    /// No recordings.
    pub const NONE: Self = Self::public(&[]);
}

/// Credentials a provider's recordings are downloaded with.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RecordingCredentials {
    /// The user (Twilio: the account SID), when it is not taken from the URL.
    pub user: Option<String>,
    /// The secret (Twilio: the auth token).
    pub secret: Secret,
    /// Other accounts' credentials, by the user their recordings' URLs name (Twilio:
    /// each named account's SID and auth token): a provider's `access` picks the one a
    /// URL names, else uses [`user`](Self::user) and [`secret`](Self::secret).
    pub accounts: Vec<(String, Secret)>,
}

impl RecordingCredentials {
    /// Credentials with `secret`, the user to be found by the provider.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self { user: None, secret: secret.into(), accounts: Vec::new() }
    }

    /// The same with another account's credentials (its user, as its URLs name it).
    pub fn account(mut self, user: impl Into<String>, secret: impl Into<Secret>) -> Self {
        self.accounts.push((user.into(), secret.into()));
        self
    }

    /// The same with `user`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

/// How to ask for one recording.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordingAccess {
    /// The URL to fetch (a provider may pick the format by suffix).
    pub url: String,
    /// HTTP Basic credentials: the user and the password.
    pub basic_auth: Option<(String, String)>,
}

impl RecordingAccess {
    /// `url` as it is, without credentials.
    pub fn plain(url: &str, _credentials: Option<&RecordingCredentials>) -> Self {
        Self { url: url.to_owned(), basic_auth: None }
    }
}

/// The path and query of `url` (`https://crm.example.com/a?b` → `/a?b`; a path stays as
/// it is): what a request behind a proxy carries.
#[cfg(feature = "testing")]
#[allow(dead_code)] // used by the providers' testing helpers, each behind its feature
pub(crate) fn path_and_query(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else { return url };
    let after_scheme = scheme_end + 3;
    url[after_scheme..].find('/').map_or("/", |i| &url[after_scheme + i..])
}

/// What a provider's sample traffic is built from (feature `testing`).
#[cfg(feature = "testing")]
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct SampleRun<'a> {
    /// The provider's settings (its secrets sign the samples).
    pub settings: &'a Settings,
    /// The origin the provider calls (`https://crm.example.com`): Twilio signs it.
    pub base_url: &'a str,
    /// Makes ids unique to this run.
    pub run: &'a str,
    /// When the samples are sent: their provider times.
    pub now: time::OffsetDateTime,
    /// Where a sample recording named by its argument can be downloaded.
    pub recording_url: &'a dyn Fn(&str) -> String,
}

#[cfg(feature = "testing")]
impl<'a> SampleRun<'a> {
    /// A run signed with `settings`, for a server at `base_url`, at `now`.
    pub fn new(
        settings: &'a Settings,
        base_url: &'a str,
        run: &'a str,
        now: time::OffsetDateTime,
        recording_url: &'a dyn Fn(&str) -> String,
    ) -> Self {
        Self { settings, base_url, run, now, recording_url }
    }
}

#[cfg(feature = "testing")]
impl fmt::Debug for SampleRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SampleRun").field("base_url", &self.base_url).field("run", &self.run).finish_non_exhaustive()
    }
}

/// One signed sample webhook (feature `testing`).
#[cfg(feature = "testing")]
#[derive(Debug)]
#[non_exhaustive]
pub struct Sample {
    /// What it is (`call status completed`).
    pub name: String,
    /// The request, path and query only (send it to the server under test).
    pub request: http::Request<bytes::Bytes>,
}

#[cfg(feature = "testing")]
impl Sample {
    /// A sample.
    pub fn new(name: impl Into<String>, request: http::Request<bytes::Bytes>) -> Self {
        Self { name: name.into(), request }
    }
}
