//! Recording retrieval: download a call's recording as soon as the provider says it
//! is ready, otherwise poll for it with growing waits until a deadline (4 hours after
//! the call ended by default), then mark it failed and alert.
//!
//! The 4 hours start at the later of the provider's end time and the moment callhook
//! received the event that asked for the recording: a call reported hours late (a
//! provider retrying, a replay) still gets the whole window, whatever the provider's
//! clock says. Whatever the deadline, a recording job gets at least
//! [`Recordings::min_attempts`] tries (default 5) with backoff before it fails, so a
//! ready recording reprocessed days later is still fetched despite a passing error.
//!
//! A [`RecordingFetcher`] gets the bytes from the provider (the shipped
//! [`HttpFetcher`](http::HttpFetcher), feature `recordings`, checks each URL against a
//! per-provider host allowlist, HTTPS only unless a host is explicitly allowed plain,
//! and adds Twilio's Basic credentials); a [`RecordingSink`] keeps them (the shipped
//! [`FileSink`] writes under a directory, atomically). [`Recordings`] ties them to the
//! [`Worker`](crate::Worker) (`WorkerBuilder::recordings`):
//!
//! 1. after an event of a call is processed, the folded call state decides: a ready
//!    recording with a URL and no stored copy schedules a download job at once; an
//!    ended call whose recording is still recording or processing schedules a poll job
//!    (first try after [`Recordings::first_poll_after`], default 30 s), with the
//!    deadline; `empty`, `disabled`, `absent` or `failed` end it with nothing to do;
//! 2. a download or poll job fetches and stores the recording, streaming, bounded in
//!    size and time; "not ready yet" (a 404, or no URL known) and transient errors are
//!    retried with exponential backoff until the deadline; a refused URL (host not
//!    allowed, plain HTTP, too large) fails at once;
//! 3. the outcome is appended to the event log as an event of the call
//!    (`callhook.recording.stored` or `callhook.recording.failed`, deduplicated per
//!    call), which folds the stored location, size and content type, or the failure,
//!    into the call's state and is processed by your handlers like any event; a failure
//!    also calls the worker's alert hook.
//!
//! A "ready" webhook that arrives while a poll is waiting makes the download job run at
//! once; the poll, when it comes, finds the recording stored and stops. The same
//! recording is never stored twice: the sink writes to a temporary file renamed into
//! place (a partial download never counts), the file name is fixed per call and
//! recording, and the "stored" event is deduplicated.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use time::OffsetDateTime;

use crate::event::{ProviderId, RecordingStatus, StoredRecording};
use crate::event_log::BoxError;
use crate::retry::RetryPolicy;
use crate::state::CallState;

mod fs;
#[cfg(feature = "recordings")]
pub mod http;

pub use fs::FileSink;

/// What to download: a call's recording at a URL the provider gave. Its `Debug` leaves
/// out credentials in the URL.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordingSource {
    /// The call's provider.
    pub provider: ProviderId,
    /// The provider's call id.
    pub call_id: String,
    /// The provider's recording id, when known.
    pub recording_id: Option<String>,
    /// Where the provider serves it.
    pub url: String,
}

impl fmt::Debug for RecordingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingSource")
            .field("provider", &self.provider)
            .field("call_id", &self.call_id)
            .field("recording_id", &self.recording_id)
            .field("url", &crate::redact::url_credentials(&self.url))
            .finish()
    }
}

impl RecordingSource {
    /// A source.
    pub fn new(provider: ProviderId, call_id: impl Into<String>, url: impl Into<String>) -> Self {
        Self { provider, call_id: call_id.into(), recording_id: None, url: url.into() }
    }
}

/// A body being downloaded, read chunk by chunk (never held whole in memory).
#[async_trait]
pub trait RecordingBody: Send {
    /// The next chunk, or `None` at the end.
    async fn chunk(&mut self) -> Result<Option<Bytes>, FetchError>;
}

/// A download in progress.
#[non_exhaustive]
pub struct Download {
    /// The content type the provider declared.
    pub content_type: Option<String>,
    /// The length the provider declared.
    pub content_length: Option<u64>,
    /// The bytes.
    pub body: Box<dyn RecordingBody>,
}

impl Download {
    /// A download of `body`.
    pub fn new(content_type: Option<String>, content_length: Option<u64>, body: Box<dyn RecordingBody>) -> Self {
        Self { content_type, content_length, body }
    }
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

/// Why a recording could not be fetched. URLs in these errors never carry credentials
/// (see [`redact::url_credentials`](crate::redact::url_credentials)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The provider does not have it yet (e.g. a 404 while it is still mixing).
    #[error("not ready yet: {0}")]
    NotReady(String),
    /// The URL's host is not on the provider's allowlist: never fetched.
    #[error("host not allowed: {0}")]
    HostNotAllowed(String),
    /// The URL is not HTTPS and its host is not allowed plain HTTP.
    #[error("refusing a non-HTTPS URL: {0}")]
    InsecureUrl(String),
    /// The URL could not be read.
    #[error("not a valid URL: {0}")]
    InvalidUrl(String),
    /// The provider redirected to a host that is not allowed (or too many times).
    #[error("redirect refused: {0}")]
    RedirectRefused(String),
    /// Bigger than the size limit.
    #[error("recording larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The provider answered with an error status.
    #[error("provider answered {0}")]
    Status(u16),
    /// The attempt took too long (`what`: connecting, the first byte, the whole download).
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The body arrived slower than the minimum transfer rate.
    #[error("transfer too slow: {bytes} bytes in {millis} ms, below the minimum of {minimum} bytes/s")]
    TooSlow {
        /// Bytes received in the window measured.
        bytes: u64,
        /// The window's length, in milliseconds.
        millis: u64,
        /// The minimum rate, in bytes per second.
        minimum: u64,
    },
    /// The connection failed.
    #[error("transport: {0}")]
    Transport(#[source] BoxError),
}

impl FetchError {
    /// Whether trying again later cannot help: a refused URL or redirect, a recording
    /// too large, or a `4xx` answer other than `404`, `409` and `429` (which say "not
    /// yet" or "later").
    ///
    /// ```
    /// use callhook::recording::FetchError;
    /// assert!(FetchError::Status(403).is_permanent());
    /// assert!(!FetchError::Status(429).is_permanent());
    /// assert!(!FetchError::Status(503).is_permanent());
    /// ```
    pub fn is_permanent(&self) -> bool {
        match self {
            FetchError::HostNotAllowed(_)
            | FetchError::InsecureUrl(_)
            | FetchError::InvalidUrl(_)
            | FetchError::RedirectRefused(_)
            | FetchError::TooLarge { .. } => true,
            FetchError::Status(status) => (400..500).contains(status) && !matches!(status, 404 | 409 | 429),
            FetchError::NotReady(_)
            | FetchError::Timeout(_)
            | FetchError::TooSlow { .. }
            | FetchError::Transport(_) => false,
        }
    }
}

/// Gets recordings from providers.
#[async_trait]
pub trait RecordingFetcher: Send + Sync + 'static {
    /// Starts downloading `source`.
    async fn fetch(&self, source: &RecordingSource) -> Result<Download, FetchError>;
}

/// Why a sink could not store a recording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Reading the download failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Writing failed.
    #[error("could not store the recording: {0}")]
    Io(#[from] std::io::Error),
}

impl SinkError {
    /// Whether trying again later cannot help: a permanent [`FetchError`], or a local
    /// file error that stays until an operator acts (a name the file system refuses,
    /// no permission, a read-only file system, a file where a directory should be).
    /// A full disk is not permanent: space can be freed.
    ///
    /// ```
    /// use std::io::{Error, ErrorKind};
    /// use callhook::recording::SinkError;
    /// assert!(SinkError::Io(Error::from(ErrorKind::PermissionDenied)).is_permanent());
    /// assert!(!SinkError::Io(Error::from(ErrorKind::StorageFull)).is_permanent());
    /// ```
    pub fn is_permanent(&self) -> bool {
        use std::io::ErrorKind;
        match self {
            SinkError::Fetch(error) => error.is_permanent(),
            SinkError::Io(error) => matches!(
                error.kind(),
                ErrorKind::InvalidFilename
                    | ErrorKind::InvalidInput
                    | ErrorKind::PermissionDenied
                    | ErrorKind::ReadOnlyFilesystem
                    | ErrorKind::NotADirectory
                    | ErrorKind::IsADirectory
                    | ErrorKind::FileTooLarge
            ),
        }
    }
}

/// Keeps downloaded recordings.
#[async_trait]
pub trait RecordingSink: Send + Sync + 'static {
    /// Stores the whole of `download` for `source`, or nothing: a failed or partial
    /// download must leave no stored recording behind. Storing the same source again
    /// replaces, never duplicates.
    async fn store(&self, source: &RecordingSource, download: Download) -> Result<StoredRecording, SinkError>;
}

/// Builds a provider's recording URL for a call whose URL no webhook gave (polling).
pub type Locator = Arc<dyn Fn(&CallState) -> Option<String> + Send + Sync>;

/// What a recording job came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Stored now.
    Stored(StoredRecording),
    /// Nothing to do: stored before, or ended without a recording.
    Nothing,
    /// Not there yet (or a transient error): try again later.
    NotYet(String),
    /// Refused for good.
    Refused(String),
}

/// Recording retrieval, for [`WorkerBuilder::recordings`](crate::worker::WorkerBuilder::recordings).
///
/// ```
/// use callhook::recording::{FileSink, Recordings};
/// # use callhook::recording::{Download, FetchError, RecordingFetcher, RecordingSource};
/// # struct NoFetch;
/// # #[async_trait::async_trait]
/// # impl RecordingFetcher for NoFetch {
/// #     async fn fetch(&self, _: &RecordingSource) -> Result<Download, FetchError> { Err(FetchError::NotReady("".into())) }
/// # }
/// # let fetcher = NoFetch;
/// let recordings = Recordings::new(fetcher, FileSink::new("./recordings"))
///     .window(time::Duration::hours(4));
/// # let _ = recordings;
/// ```
#[derive(Clone)]
pub struct Recordings {
    pub(crate) fetcher: Arc<dyn RecordingFetcher>,
    pub(crate) sink: Arc<dyn RecordingSink>,
    pub(crate) policy: RetryPolicy,
    pub(crate) window: time::Duration,
    pub(crate) first_poll_after: Duration,
    pub(crate) min_attempts: u32,
    job_timeout: Duration,
    locators: HashMap<ProviderId, Locator>,
}

impl fmt::Debug for Recordings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recordings")
            .field("policy", &self.policy)
            .field("window", &self.window)
            .field("first_poll_after", &self.first_poll_after)
            .field("min_attempts", &self.min_attempts)
            .field("job_timeout", &self.job_timeout)
            .field("locators", &self.locators.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Recordings {
    /// Retrieval with `fetcher` into `sink`: polls every 30 s at first, doubling up to
    /// 15 minutes between tries, for 4 hours after the call ended. A provider whose
    /// [`Registration`](crate::providers::Registration) can predict a recording's URL
    /// (WaVoIP: `https://storage.wavoip.com/<call id>`) is polled there when no webhook
    /// gave one.
    pub fn new(fetcher: impl RecordingFetcher, sink: impl RecordingSink) -> Self {
        let mut locators: HashMap<ProviderId, Locator> = HashMap::new();
        for registration in crate::providers::all() {
            if let Some(locate) = registration.recordings.locate {
                locators.insert(registration.id.clone(), Arc::new(locate));
            }
        }
        Self {
            fetcher: Arc::new(fetcher),
            sink: Arc::new(sink),
            policy: RetryPolicy::new(Duration::from_secs(30)).max_delay(Duration::from_secs(15 * 60)).jitter(0.1),
            window: time::Duration::hours(4),
            first_poll_after: Duration::from_secs(30),
            min_attempts: 5,
            job_timeout: Duration::from_secs(600),
            locators,
        }
    }

    /// The fewest tries a recording gets before it fails, even past its deadline
    /// (default 5; at least 1). The retry policy's attempt limit, if any, still applies.
    pub fn min_attempts(mut self, attempts: u32) -> Self {
        self.min_attempts = attempts.max(1);
        self
    }

    /// The longest one download or poll may take, whatever the fetcher and sink do
    /// (default 10 minutes; the shipped `HttpFetcher` bounds its own attempts well
    /// within it). A try that takes longer counts as failed and is retried.
    pub fn job_timeout(mut self, timeout: Duration) -> Self {
        self.job_timeout = timeout;
        self
    }

    /// How long a worker's claim on a recording job lasts: past the job timeout, so a
    /// running try is never claimed twice.
    pub(crate) fn lease(&self) -> Duration {
        self.job_timeout.saturating_add(Duration::from_secs(60))
    }

    /// How long after the call ended to keep trying (default 4 hours).
    pub fn window(mut self, window: time::Duration) -> Self {
        self.window = window;
        self
    }

    /// The waits between tries (default 30 s doubling to 15 minutes, 10 % jitter). Its
    /// attempt limit, if any, applies too.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How soon after a call ends the first poll runs (default 30 s).
    pub fn first_poll_after(mut self, wait: Duration) -> Self {
        self.first_poll_after = wait;
        self
    }

    /// How to find a `provider`'s recording URL when no webhook gave one.
    pub fn locate(
        mut self,
        provider: ProviderId,
        locator: impl Fn(&CallState) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.locators.insert(provider, Arc::new(locator));
        self
    }

    /// When to give up on `call`'s recording: the window after the later of the call's
    /// end as the provider reports it and `seen_at`, when callhook received the event
    /// asking for the recording (neither later than `now`).
    pub(crate) fn deadline(&self, call: &CallState, seen_at: OffsetDateTime, now: OffsetDateTime) -> OffsetDateTime {
        let seen_at = seen_at.min(now);
        call.ended_at.map_or(seen_at, |ended| ended.min(now).max(seen_at)) + self.window
    }

    /// When to try again after `failures` failed tries at `now`, or `None` to give up:
    /// the retry policy within `deadline`, and past it until the minimum of tries.
    pub(crate) fn next_try(
        &self,
        failures: u32,
        now: OffsetDateTime,
        deadline: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        self.policy
            .next_attempt_at(failures, now, deadline)
            .or_else(|| (failures < self.min_attempts).then(|| self.policy.next_attempt_at(failures, now, None))?)
    }

    /// What the call's state asks for: `Some(true)` download now, `Some(false)` poll,
    /// `None` nothing.
    pub(crate) fn wanted(call: &CallState) -> Option<bool> {
        let recording = call.recording.as_ref()?;
        if recording.stored.is_some() {
            return None;
        }
        match recording.status {
            RecordingStatus::Ready if recording.url.is_some() => Some(true),
            RecordingStatus::Recording | RecordingStatus::Processing | RecordingStatus::Ready
                if call.status.is_some_and(|s| s.is_terminal()) =>
            {
                Some(false)
            }
            _ => None,
        }
    }

    /// Runs one download or poll for `call`, within the job timeout.
    pub(crate) async fn retrieve(&self, call: &CallState) -> Outcome {
        match tokio::time::timeout(self.job_timeout, self.try_retrieve(call)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::NotYet(format!("the try took longer than {:?}", self.job_timeout)),
        }
    }

    async fn try_retrieve(&self, call: &CallState) -> Outcome {
        let Some(recording) = &call.recording else { return Outcome::NotYet("no recording reported yet".into()) };
        if recording.stored.is_some() {
            return Outcome::Nothing;
        }
        if recording.status.is_final() && recording.status != RecordingStatus::Ready {
            return Outcome::Nothing;
        }
        let url = match &recording.url {
            Some(url) => Some(url.clone()),
            None => self.locators.get(&call.provider).and_then(|locate| locate(call)),
        };
        let Some(url) = url else { return Outcome::NotYet("the provider has not given a recording URL yet".into()) };
        let mut source = RecordingSource::new(call.provider.clone(), call.call_id.clone(), url);
        source.recording_id = recording.recording_id.clone();
        let download = match self.fetcher.fetch(&source).await {
            Ok(download) => download,
            Err(error) if error.is_permanent() => return Outcome::Refused(error.to_string()),
            Err(error) => return Outcome::NotYet(error.to_string()),
        };
        match self.sink.store(&source, download).await {
            Ok(stored) => Outcome::Stored(stored),
            Err(error) if error.is_permanent() => Outcome::Refused(error.to_string()),
            Err(error) => Outcome::NotYet(error.to_string()),
        }
    }
}
