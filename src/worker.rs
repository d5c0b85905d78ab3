//! The [`Worker`]: runs the user's [`Handler`]s for stored events, records every
//! attempt, retries with a [`RetryPolicy`], and calls the [`AlertHook`] when an event
//! fails for good.
//!
//! Delivery to handlers is at least once: a handler that succeeded may run again if
//! the process dies before the success is recorded, so handlers should be idempotent
//! (key their effects by [`EventRecord::id`] or the event's own ids). A handler that
//! panics or exceeds its timeout counts as a failed attempt.
//!
//! Every attempt's outcome is also published as an [`EventUpdate`] on a broadcast
//! channel ([`Worker::subscribe`]), which a server can push to a front end.
//!
//! Metrics: `callhook_events_processed_total`, `callhook_events_failed_total`,
//! `callhook_event_retries_total` (counters) and `callhook_processing_seconds`
//! (histogram), each labelled by `provider`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use tracing::Instrument;

use crate::alert::{Alert, AlertHook, LogAlert};
use crate::clock::{Clock, SystemClock};
use crate::event::ProviderId;
use crate::event_log::{
    Appended, AttemptReport, AttemptResult, BoxError, EventDetail, EventFilter, EventId, EventLog, EventLogError,
    EventRecord, EventStatus, NewEvent,
};
use crate::handoff::{HandedOff, HandedOffJobs};
use crate::job_queue::{ClaimedJob, JobKind, JobQueue, JobQueueError, NewJob, Queue};
use crate::provider::{Provider, UNPARSED_EVENT_TYPE, WebhookRequest, parse_request};
use crate::recording::Recordings;
use crate::retry::RetryPolicy;
use crate::store::{Store, StoreError};

/// The error a handler returns to have its event retried.
pub type HandlerError = BoxError;

/// Processes stored events: the user's business logic (write to the CRM, ...).
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles one event. An error schedules a retry per the worker's policy.
    async fn handle(&self, event: &EventDetail) -> Result<(), HandlerError>;
}

/// A [`Handler`] made from an async closure; see [`handler_fn`].
#[derive(Clone, Copy, Debug)]
pub struct HandlerFn<F>(F);

/// Makes a [`Handler`] from an async closure that takes the event by value.
///
/// ```
/// use callhook::worker::{handler_fn, HandlerError};
/// use callhook::event_log::EventDetail;
///
/// let handler = handler_fn(|detail: EventDetail| async move {
///     println!("{} {}", detail.event.provider, detail.event.event_type);
///     Ok::<_, HandlerError>(())
/// });
/// # let _ = handler;
/// ```
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F>
where
    F: Fn(EventDetail) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    HandlerFn(f)
}

#[async_trait]
impl<F, Fut> Handler for HandlerFn<F>
where
    F: Fn(EventDetail) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    async fn handle(&self, event: &EventDetail) -> Result<(), HandlerError> {
        (self.0)(event.clone()).await
    }
}

/// An event's state after a processing attempt, as published to subscribers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EventUpdate {
    /// The event after the attempt (processed, pending a retry, or failed).
    pub event: EventRecord,
}

/// Why [`Worker::run_due`] or [`Worker::recover`] could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The event log failed.
    #[error(transparent)]
    EventLog(#[from] EventLogError),
    /// The scheduler failed.
    #[error(transparent)]
    JobQueue(#[from] JobQueueError),
}

impl From<StoreError> for WorkerError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EventLog(error) => Self::EventLog(error),
            StoreError::JobQueue(error) => Self::JobQueue(error),
        }
    }
}

/// Runs handlers for due events. Cheap to clone; clones share everything.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use callhook::{MemoryJobQueue, MemoryEventLog, Worker};
/// use callhook::worker::{handler_fn, HandlerError};
///
/// let worker = Worker::builder(Arc::new(MemoryEventLog::new()), Arc::new(MemoryJobQueue::new()))
///     .handler(handler_fn(|_event| async { Ok::<_, HandlerError>(()) }))
///     .build();
/// assert_eq!(worker.run_due().await.unwrap(), 0); // nothing stored yet
/// # });
/// ```
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn EventLog>,
    scheduler: Arc<dyn JobQueue>,
    /// The storage again when it is also the scheduler: an attempt and its job's end
    /// are written in one step.
    store: Option<Arc<dyn Store>>,
    handlers: Vec<Arc<dyn Handler>>,
    providers: HashMap<ProviderId, Arc<dyn Provider>>,
    alert: Arc<dyn AlertHook>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    updates: broadcast::Sender<EventUpdate>,
    concurrency: usize,
    recording_concurrency: usize,
    outcome_writes: usize,
    lease: Duration,
    handler_timeout: Duration,
    idle_poll: Duration,
    recover_every: Option<Duration>,
    shutdown_grace: Duration,
    recordings: Option<Recordings>,
    /// Set when this worker schedules a recording job: [`Worker::run`] claims the
    /// recordings queue at its next turn instead of waiting for the idle poll.
    recordings_scheduled: AtomicBool,
    /// Jobs the receiver leased to this process and handed over with their events
    /// (taken by [`Worker::run`] while it runs).
    handed_off: tokio::sync::Mutex<Option<HandedOffJobs>>,
}

/// Configures a [`Worker`].
pub struct WorkerBuilder {
    storage: Arc<dyn EventLog>,
    scheduler: Arc<dyn JobQueue>,
    store: Option<Arc<dyn Store>>,
    handlers: Vec<Arc<dyn Handler>>,
    providers: HashMap<ProviderId, Arc<dyn Provider>>,
    alert: Arc<dyn AlertHook>,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    concurrency: usize,
    recording_concurrency: usize,
    outcome_writes: usize,
    lease: Duration,
    handler_timeout: Duration,
    idle_poll: Duration,
    recover_every: Option<Duration>,
    shutdown_grace: Duration,
    recordings: Option<Recordings>,
    handed_off: Option<HandedOffJobs>,
}

impl WorkerBuilder {
    /// Runs the jobs the receiver hands over with their events (see
    /// [`crate::handoff`]) besides the ones it claims: fresh events cost no claim and
    /// no read.
    pub fn handed_off(mut self, jobs: HandedOffJobs) -> Self {
        self.handed_off = Some(jobs);
        self
    }

    /// Adds a handler. Handlers run in the order added; the first error ends the
    /// attempt.
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.handlers.push(Arc::new(handler));
        self
    }

    /// Registers the providers, so deliveries stored with a parse error can be parsed
    /// again when reprocessed (see [`Receiver::providers`](crate::Receiver::providers)).
    pub fn providers(mut self, providers: impl IntoIterator<Item = Arc<dyn Provider>>) -> Self {
        self.providers.extend(providers.into_iter().map(|provider| (provider.id(), provider)));
        self
    }

    /// Where events that fail for good are reported (default: [`LogAlert`]).
    pub fn alert(mut self, alert: impl AlertHook) -> Self {
        self.alert = Arc::new(alert);
        self
    }

    /// The retry policy of event processing (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How many events' handlers run at once (default 8). An event whose handlers are
    /// done gives up its slot while its outcome is written (see
    /// [`outcome_writes`](Self::outcome_writes)).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// How many processed events may wait at once for their outcome to be written
    /// (default 1024), beside the [`concurrency`](Self::concurrency) running handlers.
    ///
    /// An event's handlers hold one of the concurrency's slots; the write of its outcome
    /// waits for the store's next group commit and holds none, so a busy store's commit
    /// time does not cap processing at the concurrency per commit. The job stays leased
    /// until the write is done.
    ///
    /// ```no_run
    /// # fn run(store: std::sync::Arc<dyn callhook::Store>) {
    /// let worker = callhook::Worker::builder_with_store(store).concurrency(16).outcome_writes(256).build();
    /// # let _ = worker; }
    /// ```
    pub fn outcome_writes(mut self, writes: usize) -> Self {
        self.outcome_writes = writes.max(1);
        self
    }

    /// How many recording downloads and polls run at once (default 4), beside and
    /// apart from event processing: downloads hanging on a slow provider take these
    /// slots only, and events keep being processed at full rate.
    pub fn recording_concurrency(mut self, concurrency: usize) -> Self {
        self.recording_concurrency = concurrency.max(1);
        self
    }

    /// How long [`Worker::run`] waits for running downloads once shut down (default
    /// 10 s). Event processing always finishes (each attempt is bounded by the handler
    /// timeout); downloads still running after the grace period are cancelled, their
    /// partial files removed and their jobs handed back, due at once, to be resumed by
    /// the next start.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// How long a claim is exclusive (default 5 minutes). A job whose worker died is
    /// run again after this; keep it well above the handler timeout.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long one handler attempt may take (default 60 s).
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    /// The longest idle wait between looks at the scheduler (default 1 s), for jobs
    /// added by other processes sharing a durable scheduler.
    pub fn idle_poll(mut self, idle_poll: Duration) -> Self {
        self.idle_poll = idle_poll;
        self
    }

    /// How often [`Worker::run`] calls [`Worker::recover`] (default every 60 s; `None`
    /// never): an event stored while the scheduler was unreachable (a database outage
    /// between the append and the schedule) has no job, and would otherwise wait for the
    /// next restart. Each pass lists the pending events and schedules those without a
    /// job (scheduling an existing job's key is a no-op).
    pub fn recover_every(mut self, every: Option<Duration>) -> Self {
        self.recover_every = every;
        self
    }

    /// Retrieves call recordings: downloads when ready, polls until the deadline (see
    /// [`recording`](crate::recording)).
    pub fn recordings(mut self, recordings: Recordings) -> Self {
        self.recordings = Some(recordings);
        self
    }

    /// The worker.
    pub fn build(self) -> Worker {
        let (updates, _) = broadcast::channel(1024);
        Worker {
            inner: Arc::new(Inner {
                store: self.store,
                storage: self.storage,
                scheduler: self.scheduler,
                handlers: self.handlers,
                providers: self.providers,
                alert: self.alert,
                policy: self.policy,
                clock: self.clock,
                updates,
                concurrency: self.concurrency,
                recording_concurrency: self.recording_concurrency,
                outcome_writes: self.outcome_writes,
                lease: self.lease,
                handler_timeout: self.handler_timeout,
                idle_poll: self.idle_poll,
                recover_every: self.recover_every,
                shutdown_grace: self.shutdown_grace,
                recordings: self.recordings,
                recordings_scheduled: AtomicBool::new(false),
                handed_off: tokio::sync::Mutex::new(self.handed_off),
            }),
        }
    }
}

impl Worker {
    /// Starts configuring a worker over this storage and scheduler.
    pub fn builder(storage: Arc<dyn EventLog>, scheduler: Arc<dyn JobQueue>) -> WorkerBuilder {
        WorkerBuilder {
            storage,
            scheduler,
            store: None,
            handlers: Vec::new(),
            providers: HashMap::new(),
            alert: Arc::new(LogAlert),
            policy: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            concurrency: 8,
            recording_concurrency: 4,
            outcome_writes: 1024,
            lease: Duration::from_secs(300),
            handler_timeout: Duration::from_secs(60),
            idle_poll: Duration::from_secs(1),
            recover_every: Some(Duration::from_secs(60)),
            shutdown_grace: Duration::from_secs(10),
            recordings: None,
            handed_off: None,
        }
    }

    /// Starts configuring a worker over one backend that is both the event log and the
    /// job queue: each attempt and its job's end are written in one transaction (see
    /// [`crate::store`]).
    ///
    /// ```no_run
    /// # fn run(store: std::sync::Arc<dyn callhook::Store>) {
    /// let worker = callhook::Worker::builder_with_store(store).build();
    /// # let _ = worker; }
    /// ```
    pub fn builder_with_store(store: Arc<dyn Store>) -> WorkerBuilder {
        let mut builder = Self::builder(store.clone(), store.clone());
        builder.store = Some(store);
        builder
    }

    /// Every attempt's outcome from now on. A subscriber that falls more than 1,024
    /// updates behind misses the oldest (and is told so by the channel).
    pub fn subscribe(&self) -> broadcast::Receiver<EventUpdate> {
        self.inner.updates.subscribe()
    }

    /// Schedules a job for every pending event that may have lost its job (after a
    /// restart with an in-process scheduler, or a scheduler outage). Jobs already
    /// queued are not duplicated. Returns how many jobs were added.
    pub async fn recover(&self) -> Result<usize, WorkerError> {
        let mut filter = EventFilter::default().status(EventStatus::Pending).limit(500);
        let mut added = 0;
        loop {
            let page = self.inner.storage.list_events(&filter).await?;
            let now = self.inner.clock.now();
            let jobs = page
                .iter()
                .map(|record| NewJob::process_event(record.id, record.next_attempt_at.unwrap_or(now)))
                .collect();
            added += self.inner.scheduler.schedule_all(jobs).await?;
            match page.last() {
                Some(last) if page.len() == filter.limit => filter = filter.before(last.id),
                _ => return Ok(added),
            }
        }
    }

    /// Resets an event to pending and schedules it now: a failed event gets a fresh
    /// round of attempts; its history stays.
    pub async fn reprocess(&self, id: EventId) -> Result<EventRecord, WorkerError> {
        let now = self.inner.clock.now();
        let record = self.inner.storage.reprocess(id, now).await?;
        self.inner.scheduler.schedule(NewJob::process_event(id, now)).await?;
        Ok(record)
    }

    /// Runs the jobs handed over and waiting (see [`WorkerBuilder::handed_off`];
    /// none while [`run`](Self::run) holds the handoff), then claims the jobs due now
    /// (up to each queue's concurrency, less what already runs), and runs them all to
    /// completion. Returns how many ran, or the first error once every job started has
    /// ended (a failed claim doesn't cut short the jobs already running).
    pub async fn run_due(&self) -> Result<usize, WorkerError> {
        let now = self.inner.clock.now();
        let mut running = Running::new(self.inner.outcome_writes);
        {
            let mut handed = self.inner.handed_off.lock().await;
            self.start_handed_off(&mut running, handed.as_mut());
        }
        let mut count = running.count(Queue::Events);
        let mut first_error = None;
        for (queue, slots, lease) in self.pools() {
            let free = slots.saturating_sub(running.count(queue));
            if free == 0 {
                continue;
            }
            match self.inner.scheduler.claim_due(queue, now, free, lease).await {
                Ok(claimed) => {
                    count += claimed.len();
                    self.start(&mut running, queue, claimed).await;
                }
                // Returning now would drop the jobs running: their outcomes unwritten,
                // they would run again after their lease.
                Err(error) => {
                    first_error.get_or_insert(error.into());
                }
            }
        }
        while let Some(ended) = running.join_next().await {
            if let Err(error) = ended.result {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(count), Err)
    }

    /// Runs due jobs until `shutdown` completes, sleeping while there are none. Event
    /// processing already started when `shutdown` completes is finished first;
    /// downloads get the shutdown grace period, then are handed back (see
    /// [`WorkerBuilder::shutdown_grace`]).
    ///
    /// Each queue has its own slots (the concurrency for events, the recording
    /// concurrency for downloads), refilled as jobs finish (one claim for all the slots
    /// of a queue free at that moment), so slow jobs hold back neither the others of
    /// their queue nor the other queue. A queue whose claim fails is left alone for the
    /// idle poll, the other goes on. The recordings queue, rarely busy, is claimed when
    /// this worker scheduled a recording job, when its last claim filled its slots, and
    /// otherwise once per idle poll.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut running = Running::new(self.inner.outcome_writes);
        let mut last_recovery = self.inner.clock.now();
        // When each queue may be claimed next (absent: at once).
        let mut next_claim: HashMap<Queue, tokio::time::Instant> = HashMap::new();
        // Jobs handed over by the receiver, while this loop runs.
        let mut handed = self.inner.handed_off.lock().await.take();
        // With fresh events handed over, the events queue holds only retries, jobs left
        // behind and the overflow: claimed at this pace once a claim finds it short.
        let claim_pace = self.inner.idle_poll.min(Duration::from_millis(50));
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = std::future::ready(()) => {}
            }
            if let Some(every) = self.inner.recover_every
                && self.inner.clock.now() - last_recovery >= every
            {
                last_recovery = self.inner.clock.now();
                match self.recover().await {
                    Ok(0) => {}
                    Ok(added) => tracing::warn!(added, "scheduled pending events that had no job"),
                    Err(error) => tracing::warn!(%error, "could not look for pending events without a job"),
                }
            }
            // Handed-over jobs first: their leases run while they wait, and a claim that
            // finds a backlog would otherwise take every slot turn after turn.
            self.start_handed_off(&mut running, handed.as_mut());
            for (queue, slots, lease) in self.pools() {
                let free = running.free(queue, slots);
                let asked = queue == Queue::Recordings && self.inner.recordings_scheduled.swap(false, Ordering::AcqRel);
                let waiting = next_claim.get(&queue).is_some_and(|at| tokio::time::Instant::now() < *at);
                if free == 0 || (waiting && !asked) {
                    continue;
                }
                match self.inner.scheduler.claim_due(queue, self.inner.clock.now(), free, lease).await {
                    Ok(claimed) => {
                        // A queue drained of due jobs is looked at again after the idle
                        // poll (events at once: their jobs come with every webhook; or,
                        // when the webhooks' jobs are handed over, at the claim pace).
                        if claimed.len() < free && queue != Queue::Events {
                            next_claim.insert(queue, tokio::time::Instant::now() + self.inner.idle_poll);
                        } else if claimed.len() < free && handed.is_some() {
                            next_claim.insert(queue, tokio::time::Instant::now() + claim_pace);
                        } else {
                            next_claim.remove(&queue);
                        }
                        self.start(&mut running, queue, claimed).await;
                    }
                    Err(error) => {
                        // Back off this queue rather than retry at once: a database that
                        // refuses writes would make this loop spin. The rest goes on.
                        tracing::warn!(%error, %queue, "worker could not claim due jobs; retrying");
                        next_claim.insert(queue, tokio::time::Instant::now() + self.inner.idle_poll);
                    }
                }
            }
            self.start_handed_off(&mut running, handed.as_mut());
            if running.is_empty() {
                let wait = self.idle_wait(&running, &next_claim).await;
                tokio::select! {
                    () = &mut shutdown => break,
                    () = self.inner.scheduler.wait_for_work(wait) => {}
                    Some(job) = next_handed_off(handed.as_mut()) => self.start_one_handed_off(&mut running, job),
                }
                continue;
            }
            // Wait for a slot; while a queue has slots free (it had fewer due jobs than
            // that), also for new work. Never only for a slot: the running jobs may all
            // be downloads that take minutes, and new events must not wait for them.
            let listen = self.pools().any(|(queue, slots, _)| running.free(queue, slots) > 0);
            let freed = running.freed();
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = running.join_next() => {
                    // Jobs that finished meanwhile free their slots for the same claim.
                    while running.try_join_next().is_some() {}
                }
                () = freed.notified() => {}
                () = self.inner.scheduler.wait_for_work(self.inner.idle_poll), if listen => {}
                Some(job) = next_handed_off(handed.as_mut()), if self.events_free(&running) => {
                    self.start_one_handed_off(&mut running, job);
                }
            }
        }
        self.drain(running).await;
        if let Some(handed) = handed.as_mut() {
            self.hand_back(handed).await;
        }
        *self.inner.handed_off.lock().await = handed;
    }

    /// After a shutdown: closes the handoff (the receiver schedules for a claim from
    /// now on) and hands the jobs still waiting in it back to the store, due at once,
    /// rather than leave them leased to a worker that no longer runs.
    async fn hand_back(&self, handed: &mut HandedOffJobs) {
        handed.receiver.close();
        while let Ok(job) = handed.receiver.try_recv() {
            match self.inner.scheduler.release(&job.claim, self.inner.clock.now()).await {
                Ok(()) | Err(JobQueueError::LeaseLost(_)) => {}
                Err(error) => tracing::warn!(
                    %error, job_id = %job.claim.job.id, "could not hand back a handed-over job; it runs after its lease"
                ),
            }
        }
    }

    /// Whether the events queue has a free slot.
    fn events_free(&self, running: &Running) -> bool {
        running.free(Queue::Events, self.inner.concurrency) > 0
    }

    /// Starts the handed-over jobs already waiting, while the events queue has slots.
    fn start_handed_off(&self, running: &mut Running, handed: Option<&mut HandedOffJobs>) {
        let Some(handed) = handed else { return };
        while self.events_free(running) {
            match handed.receiver.try_recv() {
                Ok(job) => self.start_one_handed_off(running, job),
                Err(_) => break,
            }
        }
    }

    /// Starts one handed-over job with its event (no read), unless its lease would run
    /// out before its handlers could: then it is (or will be) claimed from the store,
    /// and running this copy as well would run the handlers twice.
    fn start_one_handed_off(&self, running: &mut Running, job: HandedOff) {
        let HandedOff { claim, detail } = job;
        let handlers = u32::try_from(self.inner.handlers.len().max(1)).unwrap_or(u32::MAX);
        let needed = self.inner.handler_timeout.saturating_mul(handlers);
        let needed = time::Duration::try_from(needed).unwrap_or(time::Duration::MAX);
        if self.inner.clock.now().checked_add(needed).is_none_or(|done_by| claim.leased_until <= done_by) {
            tracing::warn!(
                job_id = %claim.job.id,
                "a handed-over job waited too long for the worker; left to a claim once its lease runs out"
            );
            return;
        }
        let worker = self.clone();
        running.spawn(Queue::Events, claim, |claim, slot| async move {
            worker.run_job(claim, slot, Some(Some(detail))).await
        });
    }

    /// After a shutdown: lets event processing finish, gives downloads the grace
    /// period, then cancels those still running and hands each job back, due at once
    /// and with no failed try counted, as soon as its task has ended.
    async fn drain(&self, mut running: Running) {
        let grace = tokio::time::sleep(self.inner.shutdown_grace);
        tokio::pin!(grace);
        let mut aborted = false;
        while !running.is_empty() {
            tokio::select! {
                Some(ended) = running.join_next() => {
                    let Some(claim) = ended.cancelled else { continue };
                    // A download that finished at the last moment has ended its job already.
                    match self.inner.scheduler.release(&claim, self.inner.clock.now()).await {
                        Ok(()) | Err(JobQueueError::LeaseLost(_)) => {}
                        Err(error) => tracing::warn!(
                            %error, job_id = %claim.job.id, "could not hand back a download; it runs again after its lease"
                        ),
                    }
                }
                () = &mut grace, if running.downloading() && !aborted => {
                    aborted = true;
                    let downloads = running.abort_downloads();
                    tracing::warn!(downloads, "shutdown grace period over: cancelling downloads, to be resumed at the next start");
                }
            }
        }
    }

    /// Each queue this worker runs, with its slots and lease: events always, recordings
    /// when retrieval is configured (else another worker's recordings are left alone).
    fn pools(&self) -> impl Iterator<Item = (Queue, usize, Duration)> + use<'_> {
        let inner = &self.inner;
        let recordings = inner.recordings.as_ref().map(|r| (Queue::Recordings, inner.recording_concurrency, r.lease()));
        std::iter::once((Queue::Events, inner.concurrency, inner.lease)).chain(recordings)
    }

    /// Starts the jobs claimed from `queue` in `running`.
    async fn start(&self, running: &mut Running, queue: Queue, claimed: Vec<ClaimedJob>) {
        let mut details = self.prefetch(&claimed).await;
        for claim in claimed {
            let prefetched = match claim.job.kind {
                JobKind::ProcessEvent { event_id } => details.remove(&event_id),
                _ => None,
            };
            let worker = self.clone();
            running.spawn(queue, claim, |claim, slot| async move { worker.run_job(claim, slot, prefetched).await });
        }
    }

    /// How long to wait with nothing running: until the earliest due job of a queue
    /// with free slots (not before it may be claimed again), at most the idle poll.
    async fn idle_wait(&self, running: &Running, next_claim: &HashMap<Queue, tokio::time::Instant>) -> Duration {
        let now = self.inner.clock.now();
        let mut wait = self.inner.idle_poll;
        for (queue, slots, _) in self.pools() {
            if running.free(queue, slots) == 0 {
                continue;
            }
            let not_before = next_claim
                .get(&queue)
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(tokio::time::Instant::now()));
            if let Ok(Some(due)) = self.inner.scheduler.next_due_at(queue).await {
                let due = Duration::try_from(due - now).unwrap_or(Duration::ZERO);
                wait = wait.min(due.max(not_before));
            }
        }
        wait
    }

    /// Reads the events of a claimed batch's processing jobs in one storage call
    /// (rather than one each when the jobs start); empty if that fails, and each job
    /// then reads its own.
    async fn prefetch(&self, claimed: &[ClaimedJob]) -> HashMap<EventId, Option<EventDetail>> {
        let ids: Vec<EventId> = claimed
            .iter()
            .filter_map(|claim| match claim.job.kind {
                JobKind::ProcessEvent { event_id } => Some(event_id),
                _ => None,
            })
            .collect();
        if ids.len() < 2 {
            return HashMap::new();
        }
        match self.inner.storage.events(ids.clone()).await {
            Ok(details) => ids.into_iter().zip(details).collect(),
            Err(error) => {
                tracing::warn!(%error, "could not read a claimed batch's events; each job reads its own");
                HashMap::new()
            }
        }
    }

    /// Runs one claimed job; `prefetched` is its event when already read.
    async fn run_job(
        &self,
        claim: ClaimedJob,
        slot: Slot,
        prefetched: Option<Option<EventDetail>>,
    ) -> Result<(), WorkerError> {
        match claim.job.kind {
            JobKind::ProcessEvent { event_id } => {
                let span = tracing::info_span!("callhook.job", job_id = %claim.job.id, %event_id);
                self.process_event(&claim, slot, event_id, prefetched).instrument(span).await
            }
            JobKind::FetchRecording { ref provider, ref call_id }
            | JobKind::PollRecording { ref provider, ref call_id } => {
                let span = tracing::info_span!("callhook.recording", job_id = %claim.job.id, %provider, %call_id);
                let _slot = slot;
                self.retrieve_recording(&claim, provider, call_id).instrument(span).await
            }
        }
    }

    async fn process_event(
        &self,
        claim: &ClaimedJob,
        slot: Slot,
        id: EventId,
        prefetched: Option<Option<EventDetail>>,
    ) -> Result<(), WorkerError> {
        let inner = &self.inner;
        let detail = match prefetched {
            Some(detail) => detail,
            None => inner.storage.event(id).await?,
        };
        let Some(detail) = detail else {
            inner.scheduler.fail(claim, "event not found").await?;
            return Ok(());
        };
        if detail.event.status != EventStatus::Pending {
            // Already processed (a duplicate job) or failed before: nothing to run.
            inner.scheduler.complete(claim).await?;
            return Ok(());
        }
        let started_at = inner.clock.now();
        let clock = std::time::Instant::now();
        let unparsed = detail.event.event.is_none() || detail.event.event_type == UNPARSED_EVENT_TYPE;
        let outcome = if unparsed {
            self.parse_again(&detail).await.map_err(|error| (error, Retry::Pointless))
        } else {
            self.run_handlers(&detail).await.map_err(|error| (error, Retry::Allowed))
        };
        let finished_at = inner.clock.now();
        // Only the outcome's write is left: the next event may run its handlers.
        drop(slot);
        let provider = detail.event.provider.to_string();
        metrics::histogram!("callhook_processing_seconds", "provider" => provider.clone())
            .record(clock.elapsed().as_secs_f64());

        let (record, alert) = match outcome {
            Ok(()) => {
                let report = AttemptReport::new(started_at, finished_at, AttemptResult::Processed);
                let record = self.finish_attempt(claim, id, report).await?;
                metrics::counter!("callhook_events_processed_total", "provider" => provider).increment(1);
                // A recording outcome callhook recorded itself asks for nothing more:
                // following it would try a failed recording all over again.
                if let Some(crate::event::Event::Call(call)) = &detail.event.event
                    && !recording_jobs::is_outcome(&detail.event.event_type)
                {
                    self.follow_recording(&call.provider, &call.call_id, detail.event.received_at).await;
                }
                (record, None)
            }
            Err((error, retry)) => {
                let failures = claim.job.failed_attempts + 1;
                let next = match retry {
                    Retry::Allowed => inner.policy.next_attempt_at(failures, finished_at, claim.job.deadline),
                    Retry::Pointless => None,
                };
                if let Some(next_attempt_at) = next {
                    tracing::warn!(%error, attempt = failures, %next_attempt_at, "handler failed; will retry");
                    let result = AttemptResult::Retry { error: error.clone(), next_attempt_at };
                    let record =
                        self.finish_attempt(claim, id, AttemptReport::new(started_at, finished_at, result)).await?;
                    metrics::counter!("callhook_event_retries_total", "provider" => provider).increment(1);
                    (record, None)
                } else {
                    let result = AttemptResult::Failed { error: error.clone() };
                    let record =
                        self.finish_attempt(claim, id, AttemptReport::new(started_at, finished_at, result)).await?;
                    metrics::counter!("callhook_events_failed_total", "provider" => provider).increment(1);
                    (record.clone(), Some(Alert { event: record, error }))
                }
            }
        };
        // No subscribers is fine: the update is simply not observed.
        let _ = inner.updates.send(EventUpdate { event: record });
        if let Some(alert) = alert {
            inner.alert.alert(&alert).await;
        }
        Ok(())
    }

    /// Records the attempt and ends the claim as its result says: in one transaction
    /// when the storage is also the scheduler, else one after the other (the attempt
    /// first, so a crash between them runs it again rather than losing it; there, an
    /// attempt whose lease was lost still sets the event's status).
    async fn finish_attempt(
        &self,
        claim: &ClaimedJob,
        id: EventId,
        report: AttemptReport,
    ) -> Result<EventRecord, WorkerError> {
        let inner = &self.inner;
        if let Some(store) = &inner.store {
            return Ok(store.finish_attempt(claim, id, report).await?);
        }
        let record = inner.storage.record_attempt(id, report.clone()).await?;
        match &report.result {
            AttemptResult::Processed => inner.scheduler.complete(claim).await?,
            AttemptResult::Retry { error, next_attempt_at } => {
                inner.scheduler.retry(claim, *next_attempt_at, error).await?
            }
            AttemptResult::Failed { error } => inner.scheduler.fail(claim, error).await?,
        }
        Ok(record)
    }

    /// Runs every handler in its own task, so a panic is an error, not a dead worker.
    async fn run_handlers(&self, detail: &EventDetail) -> Result<(), String> {
        for handler in &self.inner.handlers {
            let handler = Arc::clone(handler);
            let detail = detail.clone();
            // Stored, logged and alerted: a URL the handler quotes loses its credentials.
            let mut task = tokio::spawn(async move {
                handler.handle(&detail).await.map_err(|e| crate::redact::url_credentials(&e.to_string()).into_owned())
            });
            match tokio::time::timeout(self.inner.handler_timeout, &mut task).await {
                Ok(Ok(result)) => result?,
                Ok(Err(join_error)) if join_error.is_panic() => return Err("handler panicked".into()),
                Ok(Err(join_error)) => return Err(format!("handler task failed: {join_error}")),
                Err(_) => {
                    task.abort();
                    return Err(format!("handler timed out after {:?}", self.inner.handler_timeout));
                }
            }
        }
        Ok(())
    }

    /// Parses the delivery of what did not parse (a whole body, or one item of a batch)
    /// again, after an upgrade: the events it now yields are stored (those stored
    /// before are duplicates) and scheduled, and the placeholder is processed; an item
    /// that still does not parse fails again with its error.
    async fn parse_again(&self, detail: &EventDetail) -> Result<(), String> {
        let inner = &self.inner;
        let delivery = &detail.delivery;
        let provider = inner
            .providers
            .get(&delivery.provider)
            .ok_or_else(|| format!("provider {} is not registered with the worker", delivery.provider))?;
        let request = delivery.to_request().map_err(|error| format!("stored request is invalid: {error}"))?;
        let view = WebhookRequest::new(&request, delivery.received_at, None);
        let parsed = parse_request(provider.as_ref(), &view).map_err(|error| error.to_string())?;
        // Keyed as the receiver keyed them: by the account that sent the delivery.
        let account = delivery.account.as_ref();
        let events: Vec<(NewEvent, Option<String>)> = parsed
            .into_iter()
            .map(|parsed| {
                let unreadable = parsed.unreadable.clone();
                (NewEvent::from(parsed).sent_by(account), unreadable)
            })
            .collect();
        if let Some(error) = events
            .iter()
            .find(|(event, _)| event.dedupe_key == detail.event.dedupe_key)
            .and_then(|(_, still)| still.clone())
        {
            return Err(error);
        }
        let events: Vec<NewEvent> = events.into_iter().map(|(event, _)| event).collect();
        let pending: Vec<bool> = events.iter().map(|e| e.initial_status() == EventStatus::Pending).collect();
        let appended = inner.storage.append_to_delivery(delivery.id, events).await.map_err(|e| e.to_string())?;
        let now = inner.clock.now();
        for id in appended.into_iter().zip(pending).filter_map(|(a, pending)| match a {
            Appended::Inserted(id) if pending => Some(id),
            _ => None,
        }) {
            // A failure here leaves the event pending; `recover` schedules it later.
            if let Err(error) = inner.scheduler.schedule(NewJob::process_event(id, now)).await {
                tracing::warn!(%error, event_id = %id, "could not schedule a re-parsed event");
            }
        }
        Ok(())
    }
}

/// The next handed-over job; never, without a handoff (or once the receiver is gone).
async fn next_handed_off(handed: Option<&mut HandedOffJobs>) -> Option<HandedOff> {
    match handed {
        Some(handed) => handed.receiver.recv().await,
        None => std::future::pending().await,
    }
}

mod recording_jobs;
mod running;

use running::{Running, Slot};

#[derive(Clone, Copy)]
enum Retry {
    Allowed,
    Pointless,
}
