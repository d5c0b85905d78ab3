//! The [`JobQueue`] trait: a queue of jobs due at given times, claimed with a lease.
//!
//! The receiver schedules a [`JobKind::ProcessEvent`] job per new event; the
//! [`Worker`](crate::Worker) claims due jobs, runs them, and completes, reschedules or
//! fails them. Jobs belong to a [`Queue`] (event processing, recordings), claimed
//! separately so that each of the worker's pools has its own concurrency. A claim holds a lease: a job whose worker died is claimed again once the
//! lease runs out, so it runs again rather than being lost. Jobs are unique by key
//! while not finished, so scheduling the same work twice is harmless.
//!
//! Implementations: [`MemoryJobQueue`] here (tokio, in memory), SQLite and
//! PostgreSQL in their own crates (durable: jobs due while the process was down run
//! when it comes back).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::event::ProviderId;
use crate::event_log::{BoxError, EventId};

mod memory;

pub use memory::MemoryJobQueue;

/// The id a scheduler gave a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which of the worker's pools runs a job. Each has its own concurrency and is claimed
/// on its own, so recordings hanging on a slow provider never hold up event processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Queue {
    /// Running handlers for stored events ([`JobKind::ProcessEvent`]).
    Events,
    /// Downloading and polling for recordings ([`JobKind::FetchRecording`],
    /// [`JobKind::PollRecording`]).
    Recordings,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Queue; 2] = [Queue::Events, Queue::Recordings];

    /// Its name (`events`, `recordings`), as durable schedulers store it.
    ///
    /// ```
    /// use callhook::job_queue::Queue;
    /// assert_eq!(Queue::Recordings.as_str(), "recordings");
    /// assert_eq!(Queue::parse("events"), Some(Queue::Events));
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Queue::Events => "events",
            Queue::Recordings => "recordings",
        }
    }

    /// The queue named `name`.
    pub fn parse(name: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|queue| queue.as_str() == name)
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a job does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobKind {
    /// Run the handlers for a stored event.
    ProcessEvent {
        /// The event.
        event_id: EventId,
    },
    /// Download a call's recording, which the provider says is ready.
    FetchRecording {
        /// The call's provider.
        provider: ProviderId,
        /// The provider's call id.
        call_id: String,
    },
    /// Look for a call's recording that should exist but was not reported ready.
    PollRecording {
        /// The call's provider.
        provider: ProviderId,
        /// The provider's call id.
        call_id: String,
    },
}

impl JobKind {
    /// The queue that runs it. Durable schedulers may derive it from the job's key
    /// instead: only [`NewJob::process_event`] keys, and all of them, start with
    /// `process-event:`.
    ///
    /// ```
    /// use callhook::job_queue::{JobKind, Queue};
    /// use callhook::event_log::EventId;
    /// assert_eq!(JobKind::ProcessEvent { event_id: EventId(1) }.queue(), Queue::Events);
    /// ```
    pub fn queue(&self) -> Queue {
        match self {
            JobKind::ProcessEvent { .. } => Queue::Events,
            JobKind::FetchRecording { .. } | JobKind::PollRecording { .. } => Queue::Recordings,
        }
    }
}

/// A job to schedule.
///
/// ```
/// use callhook::job_queue::{JobKind, NewJob};
/// use callhook::event_log::EventId;
/// let job = NewJob::process_event(EventId(7), time::OffsetDateTime::UNIX_EPOCH);
/// assert_eq!(job.key, "process-event:7");
/// assert_eq!(job.kind, JobKind::ProcessEvent { event_id: EventId(7) });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewJob {
    /// Unique among unfinished jobs: scheduling a key that is queued or running again
    /// is a no-op.
    pub key: String,
    /// What to do.
    pub kind: JobKind,
    /// When it is due.
    pub due_at: OffsetDateTime,
    /// When to stop retrying it, if ever.
    pub deadline: Option<OffsetDateTime>,
}

impl NewJob {
    /// A job of any kind.
    pub fn new(key: impl Into<String>, kind: JobKind, due_at: OffsetDateTime) -> Self {
        Self { key: key.into(), kind, due_at, deadline: None }
    }

    /// Processing of a stored event, due at `due_at`.
    pub fn process_event(event_id: EventId, due_at: OffsetDateTime) -> Self {
        Self::new(format!("process-event:{event_id}"), JobKind::ProcessEvent { event_id }, due_at)
    }

    /// The job that downloads the ready recording of `call_id` (one per call while
    /// unfinished).
    pub fn fetch_recording(provider: ProviderId, call_id: &str, due_at: OffsetDateTime) -> Self {
        let key = format!("fetch-recording:{provider}:{call_id}");
        Self::new(key, JobKind::FetchRecording { provider, call_id: call_id.to_owned() }, due_at)
    }

    /// The job that polls for the recording of `call_id` (one per call while unfinished).
    pub fn poll_recording(provider: ProviderId, call_id: &str, due_at: OffsetDateTime) -> Self {
        let key = format!("poll-recording:{provider}:{call_id}");
        Self::new(key, JobKind::PollRecording { provider, call_id: call_id.to_owned() }, due_at)
    }

    /// The same job with a deadline for its retries.
    pub fn with_deadline(mut self, deadline: Option<OffsetDateTime>) -> Self {
        self.deadline = deadline;
        self
    }
}

/// A job as the scheduler keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Its unique key.
    pub key: String,
    /// What it does.
    pub kind: JobKind,
    /// When it is (or was) due.
    pub due_at: OffsetDateTime,
    /// When to stop retrying it.
    pub deadline: Option<OffsetDateTime>,
    /// How many attempts failed so far.
    pub failed_attempts: u32,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
}

impl Job {
    /// A job with no deadline and no failed attempt yet.
    pub fn new(id: JobId, key: impl Into<String>, kind: JobKind, due_at: OffsetDateTime) -> Self {
        Self { id, key: key.into(), kind, due_at, deadline: None, failed_attempts: 0, last_error: None }
    }
}

/// A job claimed by a worker, with the lease that makes the claim exclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimedJob {
    /// The job.
    pub job: Job,
    /// Identifies this claim: completing or rescheduling with a stale lease fails with
    /// [`JobQueueError::LeaseLost`].
    pub lease: u64,
    /// When the lease runs out and the job can be claimed again.
    pub leased_until: OffsetDateTime,
}

impl ClaimedJob {
    /// A claim on `job`.
    pub fn new(job: Job, lease: u64, leased_until: OffsetDateTime) -> Self {
        Self { job, lease, leased_until }
    }
}

/// Why a scheduler operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobQueueError {
    /// The backend could not be reached or refused the operation.
    #[error("scheduler unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The claim's lease ran out and the job was claimed again (or finished) by someone
    /// else; this worker's result is discarded.
    #[error("lease lost for job {0}")]
    LeaseLost(JobId),
}

/// A queue of due jobs with leased claims.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Queues a job; `None` when an unfinished job with the same key exists.
    async fn schedule(&self, job: NewJob) -> Result<Option<JobId>, JobQueueError>;

    /// Queues several jobs, each as [`JobQueue::schedule`] would; returns how many were
    /// added (keys already queued or running are skipped). The default schedules them one
    /// by one; durable schedulers queue them in one transaction.
    async fn schedule_all(&self, jobs: Vec<NewJob>) -> Result<usize, JobQueueError> {
        let mut added = 0;
        for job in jobs {
            added += usize::from(self.schedule(job).await?.is_some());
        }
        Ok(added)
    }

    /// Claims up to `limit` jobs of `queue` due at `now`, earliest first, leased for
    /// `lease`. Jobs whose lease ran out are claimable again.
    async fn claim_due(
        &self,
        queue: Queue,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>, JobQueueError>;

    /// Marks a claimed job done.
    async fn complete(&self, claim: &ClaimedJob) -> Result<(), JobQueueError>;

    /// Counts a failed attempt and makes the job due again at `due_at`.
    async fn retry(&self, claim: &ClaimedJob, due_at: OffsetDateTime, error: &str) -> Result<(), JobQueueError>;

    /// Hands a claimed job back, due at `due_at`, without counting a failed attempt (a
    /// worker shutting down gives up on what it started). The default counts one, by
    /// [`retry`](JobQueue::retry); the shipped schedulers do not.
    async fn release(&self, claim: &ClaimedJob, due_at: OffsetDateTime) -> Result<(), JobQueueError> {
        self.retry(claim, due_at, "released unfinished").await
    }

    /// Counts a failed attempt and gives up on the job.
    async fn fail(&self, claim: &ClaimedJob, error: &str) -> Result<(), JobQueueError>;

    /// When the earliest job of `queue` (or lease expiry) is due, if any.
    async fn next_due_at(&self, queue: Queue) -> Result<Option<OffsetDateTime>, JobQueueError>;

    /// Waits until new work may be there, at most `timeout`. The default just sleeps;
    /// an in-process scheduler wakes up as soon as a job is scheduled.
    async fn wait_for_work(&self, timeout: Duration) {
        tokio::time::sleep(timeout).await;
    }
}
