//! [`HttpFetcher`]: recordings over HTTP with reqwest and rustls (feature `recordings`).
//!
//! A recording URL arrives in a webhook, so it is treated as untrusted: it is fetched
//! only from the hosts allowed for its provider (and redirects only to allowed hosts),
//! only over HTTPS unless the host is explicitly allowed plain HTTP, never beyond a size
//! limit. Host names are matched, not addresses: a URL with an IP literal or an internal
//! name is refused unless you allowed it.
//!
//! A provider that answers slowly must not hold a download slot for long, so each
//! attempt is bounded four ways: connecting (default 10 s), the response's first byte
//! (30 s), the whole download (5 min), and a minimum transfer rate once the body flows
//! (1 KiB/s over each 30 s). Each ends the attempt with a [`FetchError`] that is retried
//! later; a refused host, redirect or `4xx` is not retried (see
//! [`FetchError::is_permanent`]). Errors and logs never show credentials a URL carries.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::Url;

use super::{Download, FetchError, RecordingBody, RecordingFetcher, RecordingSource};
use crate::event::ProviderId;
use crate::providers::registry::{RecordingAccess, RecordingCredentials};

/// Which hosts recordings may come from.
#[derive(Clone, Debug, Default)]
struct HostRules {
    per_provider: HashMap<ProviderId, Vec<String>>,
    /// `host` or `host:port` allowed for every provider, plain HTTP included.
    trusted: HashSet<String>,
    /// URL prefixes (normalized, ending in `/`) allowed for every provider, plain HTTP
    /// included, never sent provider credentials.
    prefixes: Vec<String>,
}

impl HostRules {
    fn matches(pattern: &str, host: &str) -> bool {
        match pattern.strip_prefix("*.") {
            Some(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix) && host[..host.len() - suffix.len()].ends_with('.')
            }
            None => pattern == host,
        }
    }

    fn trusted(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let with_port = url.port().map(|port| format!("{host}:{port}"));
        self.trusted.contains(host) || with_port.is_some_and(|hp| self.trusted.contains(&hp))
    }

    /// Whether `url` is under an allowed prefix (compared after parsing, so `..`,
    /// `user@` or an encoded host cannot slip past it; encoded slashes, which the
    /// server might decode into a path outside it, are refused).
    fn under_prefix(&self, url: &Url) -> bool {
        let path = url.path().to_ascii_lowercase();
        url.username().is_empty()
            && url.password().is_none()
            && !path.contains("%2f")
            && !path.contains("%5c")
            && self.prefixes.iter().any(|prefix| url.as_str().starts_with(prefix.as_str()))
    }

    fn allowed(&self, provider: &ProviderId, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        self.trusted(url)
            || self.under_prefix(url)
            || self.per_provider.get(provider).is_some_and(|patterns| patterns.iter().any(|p| Self::matches(p, host)))
    }

    fn allowed_by_any(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        self.trusted(url)
            || self.under_prefix(url)
            || self.per_provider.values().flatten().any(|p| Self::matches(p, host))
    }

    fn plain_allowed(&self, url: &Url) -> bool {
        url.scheme() == "https" || (url.scheme() == "http" && (self.trusted(url) || self.under_prefix(url)))
    }

    fn check(&self, provider: &ProviderId, url: &Url) -> Result<(), FetchError> {
        if !self.allowed(provider, url) {
            return Err(FetchError::HostNotAllowed(url.host_str().unwrap_or_default().to_owned()));
        }
        if !self.plain_allowed(url) {
            return Err(FetchError::InsecureUrl(redacted(url)));
        }
        Ok(())
    }
}

/// `url` without the credentials it may carry, for errors and logs.
fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        // Only URLs without a host refuse these; such a URL was never fetched.
        let _ = url.set_username("redacted");
        let _ = url.set_password(None);
    }
    url.to_string()
}

/// The bounds on one download attempt.
#[derive(Clone, Copy, Debug)]
struct Limits {
    max_size: u64,
    first_byte: Duration,
    total: Duration,
    /// Bytes per second, measured over `rate_window`; 0 turns the check off.
    min_rate: u64,
    rate_window: Duration,
}

/// Configures an [`HttpFetcher`].
#[derive(Debug)]
#[must_use]
pub struct HttpFetcherBuilder {
    rules: HostRules,
    credentials: HashMap<ProviderId, RecordingCredentials>,
    limits: Limits,
    connect_timeout: Duration,
    invalid_prefixes: Vec<String>,
}

impl HttpFetcherBuilder {
    /// Allows `pattern` (`host`, or `*.domain` for its subdomains) for `provider`, HTTPS only.
    pub fn allow_host(mut self, provider: ProviderId, pattern: impl Into<String>) -> Self {
        self.rules.per_provider.entry(provider).or_default().push(pattern.into());
        self
    }

    /// Trusts `host` or `host:port` for every provider, plain HTTP included (a
    /// provider's storage behind your own proxy, a test server).
    pub fn allow_insecure_host(mut self, host: impl Into<String>) -> Self {
        self.rules.trusted.insert(host.into());
        self
    }

    /// Allows every URL under `prefix` (`http://127.0.0.1:3000/samples/recordings/`),
    /// plain HTTP included, for every provider; such URLs are never sent provider
    /// credentials. Narrower than [`allow_insecure_host`](Self::allow_insecure_host):
    /// the reference server allows its own sample recordings this way. A prefix that is
    /// not a URL makes [`build`](Self::build) fail.
    ///
    /// ```
    /// use callhook::recording::http::HttpFetcher;
    /// assert!(HttpFetcher::builder().allow_url_prefix("http://127.0.0.1:3000/samples/").build().is_ok());
    /// assert!(HttpFetcher::builder().allow_url_prefix("not a url").build().is_err());
    /// ```
    pub fn allow_url_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        match Url::parse(&prefix) {
            Ok(url)
                if url.host_str().is_some()
                    && url.username().is_empty()
                    && url.password().is_none()
                    && url.query().is_none()
                    && url.fragment().is_none() =>
            {
                let mut normalized = url.to_string();
                if !normalized.ends_with('/') {
                    normalized.push('/');
                }
                self.rules.prefixes.push(normalized);
            }
            _ => self.invalid_prefixes.push(prefix),
        }
        self
    }

    /// The credentials `provider`'s recordings are downloaded with (Twilio: its auth
    /// token, and the account SID unless read from each URL); the provider's
    /// [`Registration`](crate::providers::Registration) says how they are sent.
    ///
    /// ```
    /// use callhook::providers::registry::RecordingCredentials;
    /// use callhook::recording::http::HttpFetcher;
    /// let fetcher = HttpFetcher::builder()
    ///     .credentials(callhook::providers::twilio::REGISTRATION.id.clone(), RecordingCredentials::new("auth token"))
    ///     .build();
    /// assert!(fetcher.is_ok());
    /// ```
    pub fn credentials(mut self, provider: ProviderId, credentials: RecordingCredentials) -> Self {
        self.credentials.insert(provider, credentials);
        self
    }

    /// The largest recording accepted, in bytes (default 200 MiB).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.limits.max_size = bytes;
        self
    }

    /// The longest one download may take, body included (default 5 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.total = timeout;
        self
    }

    /// The longest wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest wait from sending the request to the response's headers (default
    /// 30 s): a provider that accepts the connection and then says nothing.
    pub fn first_byte_timeout(mut self, timeout: Duration) -> Self {
        self.limits.first_byte = timeout;
        self
    }

    /// The slowest body accepted: at least `bytes_per_second` on average over each
    /// `window` (default 1 KiB/s over 30 s; `0` turns the check off). A body that
    /// stops flowing fails after one window.
    ///
    /// ```
    /// use std::time::Duration;
    /// use callhook::recording::http::HttpFetcher;
    /// let fetcher = HttpFetcher::builder().min_transfer_rate(16 * 1024, Duration::from_secs(10)).build();
    /// assert!(fetcher.is_ok());
    /// ```
    pub fn min_transfer_rate(mut self, bytes_per_second: u64, window: Duration) -> Self {
        self.limits.min_rate = bytes_per_second;
        self.limits.rate_window = window.max(Duration::from_millis(1));
        self
    }

    /// The fetcher.
    pub fn build(self) -> Result<HttpFetcher, FetchError> {
        if let Some(prefix) = self.invalid_prefixes.first() {
            return Err(FetchError::InvalidUrl(crate::redact::url_credentials(prefix).into_owned()));
        }
        let rules = Arc::new(self.rules);
        let redirect_rules = rules.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if redirect_rules.allowed_by_any(attempt.url()) && redirect_rules.plain_allowed(attempt.url()) {
                attempt.follow()
            } else {
                let refused = attempt.url().host_str().unwrap_or_default().to_owned();
                attempt.error(format!("redirect to {refused}, a host that is not allowed"))
            }
        });
        let client = reqwest::Client::builder()
            .redirect(redirects)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| FetchError::Transport(Box::new(e.without_url())))?;
        Ok(HttpFetcher { client, rules, credentials: Arc::new(self.credentials), limits: self.limits })
    }
}

/// Fetches recordings over HTTP(S); see the module docs for what it refuses.
///
/// ```
/// use callhook::recording::http::HttpFetcher;
/// let fetcher = HttpFetcher::builder()
///     .allow_insecure_host("127.0.0.1:8080")
///     .build()
///     .unwrap();
/// # let _ = fetcher;
/// ```
#[derive(Clone, Debug)]
pub struct HttpFetcher {
    client: reqwest::Client,
    rules: Arc<HostRules>,
    credentials: Arc<HashMap<ProviderId, RecordingCredentials>>,
    limits: Limits,
}

impl HttpFetcher {
    /// A builder with each provider's storage hosts allowed (HTTPS only), as its
    /// [`Registration`](crate::providers::Registration) lists them: Twilio
    /// `api.twilio.com`, `*.twilio.com`; Retell `*.retellai.com`,
    /// `dxc03zgurdly9.cloudfront.net`; WaVoIP `storage.wavoip.com`, `*.wavoip.com`;
    /// CloudTalk `*.cloudtalk.io`.
    pub fn builder() -> HttpFetcherBuilder {
        let mut rules = HostRules::default();
        for registration in crate::providers::all() {
            let hosts = registration.recordings.hosts.iter().map(|h| (*h).to_owned()).collect();
            rules.per_provider.insert(registration.id.clone(), hosts);
        }
        HttpFetcherBuilder {
            rules,
            credentials: HashMap::new(),
            limits: Limits {
                max_size: 200 * 1024 * 1024,
                first_byte: Duration::from_secs(30),
                total: Duration::from_secs(300),
                min_rate: 1024,
                rate_window: Duration::from_secs(30),
            },
            connect_timeout: Duration::from_secs(10),
            invalid_prefixes: Vec::new(),
        }
    }
}

/// A response body read within the attempt's deadline and above its minimum rate.
struct HttpBody {
    response: reqwest::Response,
    read: u64,
    limits: Limits,
    /// When the whole download must be done.
    deadline: Instant,
    /// The rate window in progress: when it started and what it received.
    window_start: Instant,
    window_read: u64,
}

#[async_trait]
impl RecordingBody for HttpBody {
    async fn chunk(&mut self) -> Result<Option<Bytes>, FetchError> {
        loop {
            // Checked before each read: a provider whose bytes are always buffered
            // would otherwise never let the timer fire.
            if Instant::now() >= self.deadline {
                return Err(FetchError::Timeout("the whole download"));
            }
            let window_end = self.window_start + self.limits.rate_window;
            let wake = if self.limits.min_rate > 0 { window_end.min(self.deadline) } else { self.deadline };
            let (read, chunk) = match tokio::time::timeout_at(wake, self.response.chunk()).await {
                Ok(chunk) => (true, chunk.map_err(transport)?),
                Err(_) => (false, None),
            };
            if let Some(chunk) = &chunk {
                self.read += chunk.len() as u64;
                self.window_read += chunk.len() as u64;
                if self.read > self.limits.max_size {
                    return Err(FetchError::TooLarge { limit: self.limits.max_size });
                }
            }
            let now = Instant::now();
            let ended = read && chunk.is_none();
            if self.limits.min_rate > 0 && now >= window_end && !ended {
                // A whole window has passed (this read counted): did it bring enough?
                let window = self.limits.rate_window.as_millis();
                let needed = u128::from(self.limits.min_rate) * window / 1000;
                if u128::from(self.window_read) < needed {
                    return Err(FetchError::TooSlow {
                        bytes: self.window_read,
                        millis: u64::try_from(window).unwrap_or(u64::MAX),
                        minimum: self.limits.min_rate,
                    });
                }
                self.window_start = now;
                self.window_read = 0;
            }
            if read {
                return Ok(chunk);
            }
            // The rate window ended with enough received, or the deadline passed
            // (checked at the top): go on.
        }
    }
}

/// A reqwest error, without the URL it names (which may carry credentials).
fn transport(error: reqwest::Error) -> FetchError {
    if error.is_redirect() {
        let why = std::error::Error::source(&error).map_or_else(|| "redirect refused".to_owned(), ToString::to_string);
        FetchError::RedirectRefused(why)
    } else if error.is_timeout() {
        FetchError::Timeout(if error.is_connect() { "a connection" } else { "the provider" })
    } else {
        FetchError::Transport(Box::new(error.without_url()))
    }
}

#[async_trait]
impl RecordingFetcher for HttpFetcher {
    async fn fetch(&self, source: &RecordingSource) -> Result<Download, FetchError> {
        let started = Instant::now();
        let parse = |url: &str| {
            Url::parse(url).map_err(|_| FetchError::InvalidUrl(crate::redact::url_credentials(url).into_owned()))
        };
        let url = parse(&source.url)?;
        self.rules.check(&source.provider, &url)?;
        // The provider says how to ask (a format suffix, credentials); never for a URL
        // allowed by prefix (the server's own samples), which gets no credentials.
        let access = match crate::providers::find(&source.provider) {
            Some(registration) if !self.rules.under_prefix(&url) => {
                (registration.recordings.access)(url.as_str(), self.credentials.get(&source.provider))
            }
            _ => RecordingAccess::plain(url.as_str(), None),
        };
        let url = parse(&access.url)?;
        self.rules.check(&source.provider, &url)?;
        let mut request = self.client.get(url);
        if let Some((user, password)) = &access.basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        let first_byte = started + self.limits.first_byte.min(self.limits.total);
        let response = tokio::time::timeout_at(first_byte, request.send())
            .await
            .map_err(|_| FetchError::Timeout("the provider's first byte"))?
            .map_err(transport)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(FetchError::NotReady(format!("{} answered 404", source.provider)));
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response.content_length().is_some_and(|length| length > self.limits.max_size) {
            return Err(FetchError::TooLarge { limit: self.limits.max_size });
        }
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_length = response.content_length();
        let now = Instant::now();
        let body = HttpBody {
            response,
            read: 0,
            limits: self.limits,
            deadline: started + self.limits.total,
            window_start: now,
            window_read: 0,
        };
        Ok(Download::new(content_type, content_length, Box::new(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_matched_by_name_and_suffix_only() {
        let rules = HttpFetcher::builder().allow_insecure_host("127.0.0.1:8080").rules;
        let twilio = ProviderId::from_static("twilio");
        let check = |url: &str| rules.check(&twilio, &Url::parse(url).unwrap());
        assert!(check("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1").is_ok());
        assert!(check("https://media.twilio.com/x").is_ok());
        assert!(matches!(check("https://eviltwilio.com/x"), Err(FetchError::HostNotAllowed(_))));
        assert!(matches!(check("https://twilio.com.evil.net/x"), Err(FetchError::HostNotAllowed(_))));
        assert!(matches!(check("http://api.twilio.com/x"), Err(FetchError::InsecureUrl(_))));
        assert!(matches!(check("https://169.254.169.254/latest/meta-data"), Err(FetchError::HostNotAllowed(_))));
        assert!(matches!(check("http://127.0.0.1:9999/x"), Err(FetchError::HostNotAllowed(_))));
        assert!(check("http://127.0.0.1:8080/x").is_ok(), "explicitly trusted");
        let wavoip = ProviderId::from_static("wavoip");
        assert!(rules.check(&wavoip, &Url::parse("https://api.twilio.com/x").unwrap()).is_err(), "per provider");
    }

    #[test]
    fn a_prefix_allows_only_what_is_under_it() {
        let rules = HttpFetcher::builder().allow_url_prefix("http://127.0.0.1:3000/samples/recordings").rules;
        let wavoip = ProviderId::from_static("wavoip");
        let check = |url: &str| rules.check(&wavoip, &Url::parse(url).unwrap());
        assert!(check("http://127.0.0.1:3000/samples/recordings/RE1.mp3").is_ok());
        for refused in [
            "http://127.0.0.1:3000/samples/recordingsX/RE1",
            "http://127.0.0.1:3000/samples/recordings/../../api/events",
            "http://127.0.0.1:3000/samples/recordings/%2e%2e/%2e%2e/api/events",
            "http://127.0.0.1:3000@evil.example/samples/recordings/RE1",
            "http://user:pw@127.0.0.1:3000/samples/recordings/RE1",
            "http://127.0.0.1:3001/samples/recordings/RE1",
            "http://127.0.0.1:3000/api/events",
            "http://127.0.0.1:3000/samples/recordings/..%2F..%2Fapi%2Fevents",
            "http://127.0.0.1:3000/samples/recordings/x%5c..%5capi",
        ] {
            assert!(check(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn errors_never_show_url_credentials() {
        let rules = HttpFetcher::builder().rules;
        let twilio = ProviderId::from_static("twilio");
        for url in ["http://user:s&cret@api.twilio.com/x", "http://user:s%40cret,(x)@api.twilio.com/x"] {
            let error = rules.check(&twilio, &Url::parse(url).unwrap()).unwrap_err();
            assert!(matches!(error, FetchError::InsecureUrl(_)));
            let shown = error.to_string();
            assert!(!shown.contains("cret") && !shown.contains("user"), "{shown}");
            assert!(shown.contains("api.twilio.com/x"), "{shown}");
        }
        let prefix = HttpFetcher::builder().allow_url_prefix("http://127.0.0.1:3000/samples/?x=1").build();
        assert!(matches!(prefix, Err(FetchError::InvalidUrl(_))), "a prefix with a query is refused");
    }
}
