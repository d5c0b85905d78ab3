//! [`HttpFetcher`]: recordings over HTTP with reqwest and rustls (feature `recordings`).
//!
//! A recording URL arrives in a webhook, so it is treated as untrusted: it is fetched
//! only from the hosts allowed for its provider (and redirects only to allowed hosts),
//! only over HTTPS unless the host is explicitly allowed plain HTTP, never beyond a size
//! limit, and within a time limit per attempt. Host names are matched, not addresses: a
//! URL with an IP literal or an internal name is refused unless you allowed it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::Url;

use super::{Download, FetchError, RecordingBody, RecordingFetcher, RecordingSource};
use crate::event::ProviderId;
use crate::verify::Secret;

/// The audio format asked of Twilio (its recording URLs choose it by suffix).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TwilioFormat {
    /// `.mp3` (smaller; the default here).
    #[default]
    Mp3,
    /// `.wav` (Twilio's own default).
    Wav,
}

/// Which hosts recordings may come from.
#[derive(Clone, Debug, Default)]
struct HostRules {
    per_provider: HashMap<ProviderId, Vec<String>>,
    /// `host` or `host:port` allowed for every provider, plain HTTP included.
    trusted: HashSet<String>,
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

    fn allowed(&self, provider: &ProviderId, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        self.trusted(url)
            || self.per_provider.get(provider).is_some_and(|patterns| patterns.iter().any(|p| Self::matches(p, host)))
    }

    fn allowed_by_any(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        self.trusted(url) || self.per_provider.values().flatten().any(|p| Self::matches(p, host))
    }

    fn check(&self, provider: &ProviderId, url: &Url) -> Result<(), FetchError> {
        if !self.allowed(provider, url) {
            return Err(FetchError::HostNotAllowed(url.host_str().unwrap_or_default().to_owned()));
        }
        if url.scheme() != "https" && !(url.scheme() == "http" && self.trusted(url)) {
            return Err(FetchError::InsecureUrl(url.to_string()));
        }
        Ok(())
    }
}

/// Configures an [`HttpFetcher`].
#[derive(Debug)]
#[must_use]
pub struct HttpFetcherBuilder {
    rules: HostRules,
    twilio: Option<(Option<String>, Secret)>,
    twilio_format: TwilioFormat,
    max_size: u64,
    timeout: Duration,
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

    /// Twilio's account SID and auth token, sent as HTTP Basic with Twilio recordings.
    pub fn twilio_credentials(mut self, account_sid: impl Into<String>, auth_token: impl Into<Secret>) -> Self {
        self.twilio = Some((Some(account_sid.into()), auth_token.into()));
        self
    }

    /// Twilio's auth token, sent as HTTP Basic with the account SID read from each
    /// recording URL (`/Accounts/AC.../Recordings/...`).
    pub fn twilio_auth_token(mut self, auth_token: impl Into<Secret>) -> Self {
        self.twilio = Some((None, auth_token.into()));
        self
    }

    /// The format asked of Twilio (default MP3).
    pub fn twilio_format(mut self, format: TwilioFormat) -> Self {
        self.twilio_format = format;
        self
    }

    /// The largest recording accepted, in bytes (default 200 MiB).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// The longest one download may take (default 5 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The fetcher.
    pub fn build(self) -> Result<HttpFetcher, FetchError> {
        let rules = Arc::new(self.rules);
        let redirect_rules = rules.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if redirect_rules.allowed_by_any(attempt.url())
                && (attempt.url().scheme() == "https" || redirect_rules.trusted(attempt.url()))
            {
                attempt.follow()
            } else {
                attempt.error("redirect to a host that is not allowed")
            }
        });
        let client = reqwest::Client::builder()
            .redirect(redirects)
            .timeout(self.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| FetchError::Transport(Box::new(e)))?;
        Ok(HttpFetcher {
            client,
            rules,
            twilio: self.twilio,
            twilio_format: self.twilio_format,
            max_size: self.max_size,
        })
    }
}

/// Fetches recordings over HTTP(S); see the module docs for what it refuses.
///
/// ```
/// use callhook::recording::http::HttpFetcher;
/// let fetcher = HttpFetcher::builder()
///     .twilio_credentials("AC00000000000000000000000000000000", "auth token")
///     .build()
///     .unwrap();
/// # let _ = fetcher;
/// ```
#[derive(Clone, Debug)]
pub struct HttpFetcher {
    client: reqwest::Client,
    rules: Arc<HostRules>,
    twilio: Option<(Option<String>, Secret)>,
    twilio_format: TwilioFormat,
    max_size: u64,
}

impl HttpFetcher {
    /// A builder with each provider's storage hosts allowed: Twilio `api.twilio.com`,
    /// `*.twilio.com`; Retell `*.retellai.com`, `dxc03zgurdly9.cloudfront.net`; WaVoIP
    /// `storage.wavoip.com`, `*.wavoip.com`; CloudTalk `*.cloudtalk.io`.
    pub fn builder() -> HttpFetcherBuilder {
        let defaults: [(&'static str, &[&str]); 4] = [
            ("twilio", &["api.twilio.com", "*.twilio.com"]),
            ("retell", &["*.retellai.com", "dxc03zgurdly9.cloudfront.net"]),
            ("wavoip", &["storage.wavoip.com", "*.wavoip.com"]),
            ("cloudtalk", &["*.cloudtalk.io"]),
        ];
        let mut rules = HostRules::default();
        for (provider, hosts) in defaults {
            rules
                .per_provider
                .insert(ProviderId::from_static(provider), hosts.iter().map(|h| (*h).to_owned()).collect());
        }
        HttpFetcherBuilder {
            rules,
            twilio: None,
            twilio_format: TwilioFormat::default(),
            max_size: 200 * 1024 * 1024,
            timeout: Duration::from_secs(300),
        }
    }
}

struct HttpBody {
    response: reqwest::Response,
    read: u64,
    limit: u64,
}

#[async_trait]
impl RecordingBody for HttpBody {
    async fn chunk(&mut self) -> Result<Option<Bytes>, FetchError> {
        let chunk = self.response.chunk().await.map_err(transport)?;
        if let Some(chunk) = &chunk {
            self.read += chunk.len() as u64;
            if self.read > self.limit {
                return Err(FetchError::TooLarge { limit: self.limit });
            }
        }
        Ok(chunk)
    }
}

fn transport(error: reqwest::Error) -> FetchError {
    if error.is_timeout() { FetchError::Timeout } else { FetchError::Transport(Box::new(error)) }
}

#[async_trait]
impl RecordingFetcher for HttpFetcher {
    async fn fetch(&self, source: &RecordingSource) -> Result<Download, FetchError> {
        let mut url = Url::parse(&source.url).map_err(|_| FetchError::HostNotAllowed(source.url.clone()))?;
        self.rules.check(&source.provider, &url)?;
        let mut request = self.client.get(url.clone());
        if source.provider.as_str() == "twilio" {
            // Twilio's recording URLs have no extension; the suffix picks the format.
            let last = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or_default();
            if !last.contains('.') {
                let suffix = match self.twilio_format {
                    TwilioFormat::Mp3 => ".mp3",
                    TwilioFormat::Wav => ".wav",
                };
                url.set_path(&format!("{}{suffix}", url.path()));
                request = self.client.get(url);
            }
            if let Some((account_sid, token)) = &self.twilio {
                let from_url = || {
                    let mut segments = source.url.split('/');
                    segments.find(|s| *s == "Accounts").and_then(|_| segments.next()).map(str::to_owned)
                };
                if let Some(account_sid) = account_sid.clone().or_else(from_url) {
                    request = request.basic_auth(account_sid, Some(token.expose()));
                }
            }
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(FetchError::NotReady(format!("{} answered 404", source.provider)));
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response.content_length().is_some_and(|length| length > self.max_size) {
            return Err(FetchError::TooLarge { limit: self.max_size });
        }
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_length = response.content_length();
        Ok(Download::new(content_type, content_length, Box::new(HttpBody { response, read: 0, limit: self.max_size })))
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
}
