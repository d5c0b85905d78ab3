//! The [`Receiver`]: one webhook request in, one response out, on the `http` crate's
//! types, so any web framework can host it.
//!
//! The flow of one request:
//!
//! 1. **route**: the path selects a mounted provider;
//! 2. **size**: a body over the limit (default 1 MiB) is refused;
//! 3. **handshake**: setup requests (WhatsApp's `hub.challenge`) are answered by the
//!    provider, nothing stored;
//! 4. **verify**: the provider's signature or token; failure stores nothing;
//! 5. **parse**: the body becomes normalized events (a batch gives many); a verified
//!    body that does not parse is kept as a failed placeholder event;
//! 6. **persist**: the delivery and its events in one atomic storage step, with
//!    insert-if-absent on `(provider, dedupe key)`;
//! 7. **acknowledge**: only after step 6 succeeded, with the provider's reply;
//! 8. **schedule**: one processing job per new event; duplicates get none. When the
//!    storage and the scheduler are one [`Store`] (given with [`ReceiverBuilder::store`]), this
//!    happens in step 6's transaction instead (see [`crate::store`]).
//!
//! # Responses
//!
//! | outcome | status | stored |
//! |---|---|---|
//! | no provider mounted at the path | `404 Not Found` | nothing |
//! | method the provider never uses | `405 Method Not Allowed` | nothing |
//! | body (or `Content-Length`) over the limit | `413 Payload Too Large` | nothing |
//! | handshake | the provider's answer (WhatsApp: `200` with the challenge, `403` on a wrong token) | nothing |
//! | missing, malformed or wrong signature or token; stale timestamp | `401 Unauthorized` | nothing |
//! | the request names an account that is not configured, or two accounts ([`crate::account`]) | `401 Unauthorized`, saying so (naming no secret) | nothing |
//! | verification not configured (e.g. no public URL for Twilio) | `500 Internal Server Error` | nothing |
//! | verified but unparsable body | the provider's reply with no events (default `200 OK`, empty) | delivery + failed placeholder event |
//! | a batch with items that cannot be read | the provider's reply, as for new events | delivery + the readable items' events + a failed `callhook.unparsed` event per unreadable item (its error and raw JSON) |
//! | new events | the provider's reply (default `200 OK`, empty; Twilio: TwiML) | delivery + events |
//! | only duplicates | the provider's reply, as for new events | delivery only |
//! | storage failed | `503 Service Unavailable` | nothing acknowledged; the provider retries |
//! | storage slower than the storage timeout (default 5 s, [`ReceiverBuilder::storage_timeout`]) | `503 Service Unavailable` | nothing acknowledged; the write may still commit (its events are then processed, handed over as usual), and the provider's retry is stored as a duplicate (delivery only) |
//!
//! With a separate scheduler, a failure to schedule after a successful persist (or a
//! schedule slower than the storage timeout) is logged, not reported to the provider:
//! the event is durably pending and [`Worker::recover`](crate::Worker::recover)
//! schedules it again.
//!
//! # Metrics
//!
//! `callhook_verified_total{provider, account, key}` for every verified request (the
//! account's label, empty for a provider's unnamed account; `key` `current` or `next`:
//! when `current` stops growing during a rotation, the old secret can go);
//! `callhook_requests_total{provider, outcome}` with outcome `accepted`, `duplicate`,
//! `unparsable`, `rejected` or `unavailable` (storage failed or timed out); `callhook_rejected_total{provider, reason}`
//! (reasons from [`VerifyError::reason`], plus `too_large` and `method`);
//! `callhook_events_received_total{provider}` and
//! `callhook_events_duplicate_total{provider}`; `callhook_items_unparsed_total{provider}`
//! (unreadable items of batches that otherwise parsed); `callhook_request_seconds{provider}`.
//!
//! The same outcomes reach any [`Observer`] added with [`ReceiverBuilder::observer`]
//! (a dashboard's own counters, without a global metrics recorder).

use std::collections::HashMap;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::account::AccountId;
use crate::clock::{Clock, SystemClock};
use crate::event::ProviderId;
use crate::event_log::{
    AppendOutcome, Appended, DeliveryRecord, EventDetail, EventId, EventLog, EventRecord, EventStatus, NewDelivery,
    NewEvent, Verification,
};
use crate::handoff::{HandedOff, Handoff};
use crate::job_queue::{JobKind, JobQueue, NewJob};
use crate::provider::{Provider, WebhookRequest, parse_request};
use crate::store::{LeaseRequest, Store};
use crate::verify::VerifyError;

mod outcome;

pub use outcome::{Observer, RequestOutcome};

/// The default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// How long storing a delivery may take by default before the receiver answers `503`:
/// 5 s, well under providers' own webhook timeouts (10–15 s), so the provider sees a
/// clear `503` and retries rather than timing out itself.
pub const DEFAULT_STORAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Receives webhook requests. Cheap to clone; clones share everything.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
///
/// let receiver = Receiver::builder()
///     .event_log(Arc::new(MemoryEventLog::new()))
///     .job_queue(Arc::new(MemoryJobQueue::new()))
///     .build()
///     .unwrap();
/// let request = http::Request::post("/nowhere").body(Bytes::new()).unwrap();
/// assert_eq!(receiver.handle(request).await.status(), 404);
/// # });
/// ```
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    routes: HashMap<String, Route>,
    storage: Arc<dyn EventLog>,
    scheduler: Arc<dyn JobQueue>,
    /// The storage again when it is also the scheduler: appends schedule in the same step.
    store: Option<Arc<dyn Store>>,
    /// Where fresh events go straight to the local worker (with a store).
    handoff: Option<Handoff>,
    clock: Arc<dyn Clock>,
    body_limit: usize,
    storage_timeout: Duration,
    public_base_url: Option<String>,
    observers: Vec<Arc<dyn Observer>>,
}

struct Route {
    provider: Arc<dyn Provider>,
    verification: Verification,
}

/// Why a [`ReceiverBuilder`] could not build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No event log was given.
    #[error("an event log is required (ReceiverBuilder::event_log or ::store)")]
    MissingEventLog,
    /// No job queue was given.
    #[error("a job queue is required (ReceiverBuilder::job_queue or ::store)")]
    MissingJobQueue,
    /// Two providers were mounted at one path.
    #[error("two providers mounted at {0}")]
    DuplicatePath(String),
    /// A path does not start with `/`.
    #[error("mount path must start with '/': {0}")]
    InvalidPath(String),
    /// The public base URL is not `http(s)://host[:port]`.
    #[error("public base URL must be http(s)://host[:port] without a path: {0}")]
    InvalidPublicUrl(String),
}

/// Configures a [`Receiver`].
#[derive(Default)]
pub struct ReceiverBuilder {
    routes: Vec<(String, Route)>,
    storage: Option<Arc<dyn EventLog>>,
    scheduler: Option<Arc<dyn JobQueue>>,
    store: Option<Arc<dyn Store>>,
    handoff: Option<Handoff>,
    clock: Option<Arc<dyn Clock>>,
    body_limit: Option<usize>,
    storage_timeout: Option<Duration>,
    public_base_url: Option<String>,
    observers: Vec<Arc<dyn Observer>>,
}

impl ReceiverBuilder {
    /// Mounts a provider at an exact path, with verification on. The same provider
    /// (an `Arc`) may be mounted at several paths (Twilio's endpoints).
    pub fn mount(self, path: impl Into<String>, provider: Arc<dyn Provider>) -> Self {
        self.route(path.into(), provider, Verification::Verified)
    }

    /// Mounts a provider **without verifying signatures or tokens**: anyone who can
    /// reach the path can inject events. Only for local experiments; logged loudly at
    /// build time, and stored deliveries are marked [`Verification::Skipped`].
    pub fn mount_insecure_without_verification(self, path: impl Into<String>, provider: Arc<dyn Provider>) -> Self {
        self.route(path.into(), provider, Verification::Skipped)
    }

    fn route(mut self, path: String, provider: Arc<dyn Provider>, verification: Verification) -> Self {
        self.routes.push((path, Route { provider, verification }));
        self
    }

    /// The event log (required, or given with [`store`](Self::store)).
    pub fn event_log(mut self, event_log: Arc<dyn EventLog>) -> Self {
        self.storage = Some(event_log);
        self.store = None;
        self
    }

    /// The job queue (required, or given with [`store`](Self::store)).
    pub fn job_queue(mut self, job_queue: Arc<dyn JobQueue>) -> Self {
        self.scheduler = Some(job_queue);
        self.store = None;
        self
    }

    /// One backend as both the event log and the job queue: each delivery and the jobs
    /// of its new events are written in one transaction (see [`crate::store`]).
    ///
    /// ```no_run
    /// # async fn run(store: std::sync::Arc<dyn callhook::Store>) {
    /// let receiver = callhook::Receiver::builder().store(store).build().unwrap();
    /// # let _ = receiver; }
    /// ```
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.storage = Some(store.clone());
        self.scheduler = Some(store.clone());
        self.store = Some(store);
        self
    }

    /// Hands the jobs of fresh events straight to the local worker, leased in the
    /// append's transaction, instead of leaving them for a claim (with a
    /// [`store`](Self::store) only; see [`crate::handoff`]).
    pub fn handoff(mut self, handoff: Handoff) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The largest body accepted, in bytes (default [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// How long storing a delivery (and, with a separate scheduler, scheduling each of its
    /// events) may take before the receiver gives up on it (default
    /// [`DEFAULT_STORAGE_TIMEOUT`]; `Duration::MAX` waits forever). A slower store answers
    /// `503` like a failed one, so the provider retries instead of hanging on; the write
    /// may still commit, and the retry is then stored as a duplicate. The timer needs
    /// tokio's time driver, but only for a store that does not answer at once.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
    /// let receiver = Receiver::builder()
    ///     .event_log(Arc::new(MemoryEventLog::new()))
    ///     .job_queue(Arc::new(MemoryJobQueue::new()))
    ///     .storage_timeout(Duration::from_secs(2))
    ///     .build()
    ///     .unwrap();
    /// # let _ = receiver;
    /// ```
    pub fn storage_timeout(mut self, timeout: Duration) -> Self {
        self.storage_timeout = Some(timeout);
        self
    }

    /// The scheme and authority providers call, e.g. `https://crm.example.com`, for
    /// schemes that sign the URL (Twilio). Behind a proxy the service sees another
    /// host; the signed one must be configured, never guessed from `Host`.
    pub fn public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = Some(url.into());
        self
    }

    /// Adds an [`Observer`] told every routed request's [`RequestOutcome`] (several
    /// may be added; each is told in the order added).
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observers.push(Arc::new(observer));
        self
    }

    /// The receiver.
    pub fn build(self) -> Result<Receiver, BuildError> {
        let storage = self.storage.ok_or(BuildError::MissingEventLog)?;
        let scheduler = self.scheduler.ok_or(BuildError::MissingJobQueue)?;
        if let Some(url) = &self.public_base_url {
            validate_public_base_url(url)?;
        }
        let mut routes = HashMap::new();
        for (path, route) in self.routes {
            if !path.starts_with('/') {
                return Err(BuildError::InvalidPath(path));
            }
            if route.verification == Verification::Skipped {
                tracing::warn!(%path, provider = %route.provider.id(), "VERIFICATION DISABLED: anyone can inject events at this path");
            }
            if routes.insert(path.clone(), route).is_some() {
                return Err(BuildError::DuplicatePath(path));
            }
        }
        Ok(Receiver {
            inner: Arc::new(Inner {
                routes,
                handoff: self.handoff.filter(|_| self.store.is_some()),
                store: self.store,
                storage,
                scheduler,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                body_limit: self.body_limit.unwrap_or(DEFAULT_BODY_LIMIT),
                storage_timeout: self.storage_timeout.unwrap_or(DEFAULT_STORAGE_TIMEOUT),
                public_base_url: self.public_base_url.map(|url| url.trim_end_matches('/').to_owned()),
                observers: self.observers,
            }),
        })
    }
}

/// Appends with a store and hands the jobs of as many new events as the worker has room
/// for straight to it, leased in the append's transaction.
async fn hand_off(
    store: &dyn Store,
    handoff: &Handoff,
    delivery: NewDelivery,
    events: Vec<NewEvent>,
    candidates: usize,
    received_at: time::OffsetDateTime,
) -> Result<AppendOutcome, crate::event_log::EventLogError> {
    let mut permits = Vec::with_capacity(candidates);
    while permits.len() < candidates {
        match handoff.sender.try_reserve() {
            Ok(permit) => permits.push(permit),
            Err(_) => break,
        }
    }
    if permits.is_empty() {
        return store.append_and_schedule(delivery, events).await;
    }
    let (kept_delivery, kept_events) = (delivery.clone(), events.clone());
    let lease = LeaseRequest::new(permits.len(), received_at + handoff.lease);
    let (outcome, claims) = store.append_and_lease(delivery, events, lease).await?;
    if claims.is_empty() {
        return Ok(outcome);
    }
    let stored = DeliveryRecord::from_new(outcome.delivery_id, kept_delivery);
    let mut by_id: HashMap<EventId, NewEvent> = outcome
        .events
        .iter()
        .zip(kept_events)
        .filter_map(|(appended, event)| match appended {
            Appended::Inserted(id) => Some((*id, event)),
            Appended::Duplicate(_) => None,
        })
        .collect();
    for (claim, permit) in claims.into_iter().zip(permits) {
        let JobKind::ProcessEvent { event_id } = claim.job.kind else { continue };
        // A leased job this process cannot describe is claimed again after its lease.
        let Some(event) = by_id.remove(&event_id) else { continue };
        let record = EventRecord::from_new(event_id, &stored, event);
        permit.send(HandedOff { claim, detail: EventDetail::new(record, stored.clone(), Vec::new()) });
    }
    Ok(outcome)
}

fn validate_public_base_url(url: &str) -> Result<(), BuildError> {
    let invalid = || BuildError::InvalidPublicUrl(url.to_owned());
    let uri: http::Uri = url.parse().map_err(|_| invalid())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let path_ok = matches!(uri.path(), "" | "/") && uri.query().is_none();
    if scheme_ok && uri.authority().is_some() && path_ok { Ok(()) } else { Err(invalid()) }
}

impl Receiver {
    /// Starts configuring a receiver.
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder::default()
    }

    /// The largest body accepted, for adapters that bound reading the body.
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// The mounted paths, sorted (for adapters that route each path explicitly).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
    /// let receiver = Receiver::builder()
    ///     .event_log(Arc::new(MemoryEventLog::new()))
    ///     .job_queue(Arc::new(MemoryJobQueue::new()))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(receiver.paths().len(), 0);
    /// ```
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.inner.routes.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }

    /// Every mounted provider, once each (for [`WorkerBuilder::providers`](crate::worker::WorkerBuilder::providers)).
    pub fn providers(&self) -> Vec<Arc<dyn Provider>> {
        let mut seen = HashMap::new();
        for route in self.inner.routes.values() {
            seen.entry(route.provider.id()).or_insert_with(|| Arc::clone(&route.provider));
        }
        seen.into_values().collect()
    }

    /// Handles one request; see the module docs for the flow and the responses.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let Some(route) = self.inner.routes.get(request.uri().path()) else {
            return text_response(StatusCode::NOT_FOUND, "no webhook endpoint at this path");
        };
        let provider = route.provider.id();
        let span = tracing::info_span!("callhook.request", %provider, path = request.uri().path());
        let started = std::time::Instant::now();
        let response = self.handle_routed(route, &provider, &request).instrument(span).await;
        metrics::histogram!("callhook_request_seconds", "provider" => provider.to_string())
            .record(started.elapsed().as_secs_f64());
        response
    }

    async fn handle_routed(
        &self,
        route: &Route,
        provider_id: &ProviderId,
        request: &Request<Bytes>,
    ) -> Response<Bytes> {
        let inner = &self.inner;
        let provider = &route.provider;
        let label = provider_id.to_string();

        if exceeds_limit(request, inner.body_limit) {
            self.report(provider_id, &label, RequestOutcome::Rejected { reason: "too_large" });
            return text_response(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
        }
        let received_at = inner.clock.now();
        let view = WebhookRequest::new(request, received_at, inner.public_base_url.as_deref());
        if let Some(response) = provider.handshake(&view) {
            return response;
        }
        if !provider.accepts_method(request.method()) {
            self.report(provider_id, &label, RequestOutcome::Rejected { reason: "method" });
            return text_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let verified = match route.verification {
            Verification::Skipped => None,
            Verification::Verified => match provider.verify(&view) {
                Ok(verified) => Some(verified),
                Err(error) => {
                    self.report(provider_id, &label, RequestOutcome::Rejected { reason: error.reason() });
                    tracing::warn!(%error, "webhook rejected");
                    return match error {
                        VerifyError::NotConfigured(_) => {
                            text_response(StatusCode::INTERNAL_SERVER_ERROR, "verification not configured")
                        }
                        // Says which check failed, never with what.
                        VerifyError::UnknownAccount => {
                            text_response(StatusCode::UNAUTHORIZED, "the account this request names is not configured")
                        }
                        VerifyError::AccountMismatch => {
                            text_response(StatusCode::UNAUTHORIZED, "the request names two different accounts")
                        }
                        _ => text_response(StatusCode::UNAUTHORIZED, "invalid signature"),
                    };
                }
            },
        };
        if let Some(verified) = &verified {
            let account = verified.account.as_ref().map_or_else(String::new, AccountId::to_string);
            metrics::counter!(
                "callhook_verified_total",
                "provider" => label.clone(), "account" => account, "key" => verified.key.as_str()
            )
            .increment(1);
        }

        let parsed = parse_request(provider.as_ref(), &view);
        let mut delivery = self.delivery(route, provider_id, request, received_at);
        if let Some(verified) = verified {
            delivery.account = verified.account;
            delivery.key = Some(verified.key);
        }
        let account = delivery.account.clone();
        let events: Vec<NewEvent> = match &parsed {
            Ok(events) => {
                let unreadable = events.iter().filter(|p| p.unreadable.is_some()).count();
                if unreadable > 0 {
                    tracing::warn!(unreadable, "items of a batch did not parse; stored as failed, the rest goes on");
                    metrics::counter!("callhook_items_unparsed_total", "provider" => label.clone())
                        .increment(unreadable as u64);
                }
                events.iter().cloned().map(|event| NewEvent::from(event).sent_by(account.as_ref())).collect()
            }
            Err(error) => {
                tracing::warn!(%error, "verified body did not parse; stored as failed");
                delivery.parse_error = Some(error.to_string());
                let key = format!("unparsed:{}", hex::encode(Sha256::digest(request.body())));
                vec![NewEvent::unparsed(key, error.to_string()).sent_by(account.as_ref())]
            }
        };

        let pending: Vec<bool> = events.iter().map(|e| e.initial_status() == EventStatus::Pending).collect();
        let appended = match (&inner.store, &inner.handoff) {
            (Some(store), Some(handoff)) => {
                let candidates = pending.iter().filter(|pending| **pending).count();
                let (store, handoff) = (store.clone(), handoff.clone());
                let appending =
                    async move { hand_off(store.as_ref(), &handoff, delivery, events, candidates, received_at).await };
                // Not dropped at the timeout: an append that commits after the 503 still
                // hands its leased jobs to the worker (they would wait for their lease).
                within_or_detach(inner.storage_timeout, appending).await
            }
            (Some(store), None) => within(inner.storage_timeout, store.append_and_schedule(delivery, events)).await,
            (None, _) => within(inner.storage_timeout, inner.storage.append(delivery, events)).await,
        };
        let outcome = match appended {
            Some(Ok(outcome)) => outcome,
            Some(Err(error)) => {
                tracing::error!(%error, "could not store the delivery; answering 503 so the provider retries");
                self.report(provider_id, &label, RequestOutcome::Unavailable);
                return text_response(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable");
            }
            None => {
                tracing::error!(
                    timeout = ?inner.storage_timeout,
                    "storing the delivery took longer than the storage timeout; answering 503 so the provider \
                     retries (if the write still commits, the retry is stored as a duplicate)"
                );
                self.report(provider_id, &label, RequestOutcome::Unavailable);
                return text_response(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable");
            }
        };

        let mut inserted = 0u64;
        for (appended, pending) in outcome.events.iter().zip(pending) {
            if let Appended::Inserted(id) = appended {
                inserted += 1;
                // What did not parse (a body, an item) waits for an explicit reprocess.
                if inner.store.is_none() && pending {
                    let scheduled = within(
                        inner.storage_timeout,
                        inner.scheduler.schedule(NewJob::process_event(*id, received_at)),
                    );
                    match scheduled.await {
                        Some(Ok(_)) => {}
                        Some(Err(error)) => tracing::error!(
                            %error, event_id = %id, "stored but not scheduled; Worker::recover will schedule it"
                        ),
                        None => tracing::error!(
                            event_id = %id, "stored but not scheduled within the storage timeout; Worker::recover will schedule it"
                        ),
                    }
                }
            }
        }
        let duplicates = outcome.events.len() as u64 - inserted;
        metrics::counter!("callhook_events_received_total", "provider" => label.clone()).increment(inserted);
        metrics::counter!("callhook_events_duplicate_total", "provider" => label.clone()).increment(duplicates);
        tracing::info!(delivery_id = %outcome.delivery_id, inserted, duplicates, "delivery stored");

        match parsed {
            Ok(events) => {
                self.report(provider_id, &label, RequestOutcome::Accepted { inserted, duplicates });
                provider.reply(&view, &events)
            }
            Err(_) => {
                self.report(provider_id, &label, RequestOutcome::Unparsable);
                // The provider still gets its reply (Twilio needs TwiML for a call).
                provider.reply(&view, &[])
            }
        }
    }

    /// Counts `outcome` in the metrics and tells the observers.
    fn report(&self, provider: &ProviderId, label: &str, outcome: RequestOutcome) {
        let requests =
            metrics::counter!("callhook_requests_total", "provider" => label.to_owned(), "outcome" => outcome.label());
        requests.increment(1);
        if let RequestOutcome::Rejected { reason } = outcome {
            metrics::counter!("callhook_rejected_total", "provider" => label.to_owned(), "reason" => reason)
                .increment(1);
        }
        for observer in &self.inner.observers {
            observer.observe(provider, &outcome);
        }
    }

    /// What is kept of the request: method, path, the query without secrets, the
    /// content type and the provider's chosen headers, and the exact body.
    fn delivery(
        &self,
        route: &Route,
        provider: &ProviderId,
        request: &Request<Bytes>,
        received_at: time::OffsetDateTime,
    ) -> NewDelivery {
        let kept = std::iter::once(&CONTENT_TYPE).chain(route.provider.kept_headers());
        let headers = kept
            .filter_map(|name| {
                let value = request.headers().get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect();
        let mut delivery =
            NewDelivery::new(provider.clone(), request.uri().path(), received_at, request.body().clone());
        delivery.method = request.method().as_str().to_owned();
        delivery.query = request.uri().query().and_then(|q| strip_params(q, route.provider.secret_query_params()));
        delivery.headers = headers;
        delivery.verification = route.verification;
        delivery
    }
}

/// The URI a framework adapter hands the [`Receiver`]: the request's path and query
/// (a client may write an absolute URI on its request line; it is never taken as the
/// URL a provider signed), or, when `trust_forwarded_headers` is set and both
/// `X-Forwarded-Proto` (`http` or `https`) and `X-Forwarded-Host` are present, the
/// absolute URL they describe (first value of each).
///
/// ```
/// use callhook::receiver::adapter_uri;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-forwarded-proto", "https, http".parse().unwrap());
/// headers.insert("x-forwarded-host", "crm.example.com".parse().unwrap());
/// let uri: http::Uri = "http://evil.example/hook?a=1".parse().unwrap();
/// assert_eq!(adapter_uri(&headers, &uri, false), "/hook?a=1");
/// assert_eq!(adapter_uri(&headers, &uri, true), "https://crm.example.com/hook?a=1");
/// ```
pub fn adapter_uri(headers: &http::HeaderMap, uri: &http::Uri, trust_forwarded_headers: bool) -> http::Uri {
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let first = |name: &str| {
        headers.get(name)?.to_str().ok()?.split(',').next().map(str::trim).filter(|value| !value.is_empty())
    };
    let forwarded = trust_forwarded_headers
        .then(|| {
            let proto = first("x-forwarded-proto").filter(|proto| matches!(*proto, "http" | "https"))?;
            let host = first("x-forwarded-host")?;
            format!("{proto}://{host}{path_and_query}").parse().ok()
        })
        .flatten();
    forwarded.unwrap_or_else(|| path_and_query.parse().unwrap_or_else(|_| http::Uri::from_static("/")))
}

/// `future`'s output, or `None` if it takes longer than `limit`. A future ready at once
/// (an in-memory store) needs no timer, so runtimes without tokio's time driver keep
/// working with such stores.
async fn within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    if let Poll::Ready(output) = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
        return Some(output);
    }
    tokio::time::timeout(limit, future).await.ok()
}

/// [`within`], but a future that takes longer is not dropped: it runs on to its end in a
/// task of its own, and only then (on the slow path) costs a task.
async fn within_or_detach<T: Send + 'static>(
    limit: Duration,
    future: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    let mut future = Box::pin(future);
    let output = within(limit, &mut future).await;
    if output.is_none() {
        tokio::spawn(future);
    }
    output
}

/// Whether the declared or actual body size exceeds the limit.
fn exceeds_limit(request: &Request<Bytes>, limit: usize) -> bool {
    let declared =
        request.headers().get(http::header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    request.body().len() > limit || declared.is_some_and(|length| length > limit as u64)
}

/// The query string without the named parameters; `None` if nothing is left.
fn strip_params(query: &str, secret: &[&str]) -> Option<String> {
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !secret.contains(&name)
        })
        .collect();
    (!kept.is_empty() && kept.iter().any(|pair| !pair.is_empty())).then(|| kept.join("&"))
}

fn text_response(status: StatusCode, text: &'static str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(text.as_bytes()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_uri_trusts_only_complete_forwarded_headers() {
        let uri: http::Uri = "/webhooks/twilio/call-status?a=1".parse().unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-forwarded-host", "crm.example.com".parse().unwrap());
        assert_eq!(adapter_uri(&headers, &uri, true), "/webhooks/twilio/call-status?a=1", "no proto");
        headers.insert("x-forwarded-proto", "gopher".parse().unwrap());
        assert_eq!(adapter_uri(&headers, &uri, true), "/webhooks/twilio/call-status?a=1", "unknown proto");
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(adapter_uri(&headers, &uri, true), "https://crm.example.com/webhooks/twilio/call-status?a=1");
        assert_eq!(adapter_uri(&http::HeaderMap::new(), &"http://h".parse().unwrap(), false), "/");
    }

    #[test]
    fn secret_query_parameters_are_not_stored() {
        assert_eq!(strip_params("token=s3cret&x=1", &["token"]).as_deref(), Some("x=1"));
        assert_eq!(strip_params("token=s3cret", &["token"]), None);
        assert_eq!(strip_params("a=1&b=2", &[]).as_deref(), Some("a=1&b=2"));
    }

    #[test]
    fn public_base_url_must_be_scheme_and_authority() {
        assert!(validate_public_base_url("https://crm.example.com").is_ok());
        assert!(validate_public_base_url("http://127.0.0.1:3000/").is_ok());
        assert!(validate_public_base_url("crm.example.com").is_err());
        assert!(validate_public_base_url("https://crm.example.com/webhooks").is_err());
        assert!(validate_public_base_url("ftp://crm.example.com").is_err());
    }

    #[test]
    fn declared_length_over_the_limit_is_refused_before_reading() {
        let request = Request::post("/").header("content-length", "2000").body(Bytes::new()).unwrap();
        assert!(exceeds_limit(&request, 1000));
        let request = Request::post("/").body(Bytes::from(vec![0; 1001])).unwrap();
        assert!(exceeds_limit(&request, 1000));
        let request = Request::post("/").body(Bytes::from(vec![0; 1000])).unwrap();
        assert!(!exceeds_limit(&request, 1000));
    }
}
