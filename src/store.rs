//! [`Store`]: one backend that keeps both the event log ([`EventLog`]) and the job queue
//! ([`JobQueue`]), and so can do in one transaction what otherwise takes two.
//!
//! Given separately, an event log and a job queue cost two commits where one would do: the
//! receiver appends, then schedules each new event's processing; the worker records an
//! attempt, then completes the job. A store that is both does each pair in one
//! transaction: half the commits on the request path and in the worker, and no window in
//! which an event is stored without its job (the one [`Worker::recover`] exists to
//! close).
//!
//! Say so explicitly: [`ReceiverBuilder::store`] and [`Worker::builder_with_store`]
//! take the one object as both and use the combined operations. The SQLite and
//! PostgreSQL stores are `Store`s; the in-memory pair is not (give it with
//! `event_log(..)` and `job_queue(..)`).
//!
//! [`Worker::recover`]: crate::Worker::recover
//! [`Worker::builder_with_store`]: crate::Worker::builder_with_store
//! [`ReceiverBuilder::store`]: crate::receiver::ReceiverBuilder::store

use async_trait::async_trait;

use crate::event_log::{
    AppendOutcome, AttemptReport, EventId, EventLog, EventLogError, EventRecord, NewDelivery, NewEvent,
};
#[cfg(doc)]
use crate::job_queue::NewJob;
use crate::job_queue::{ClaimedJob, JobQueue, JobQueueError};

/// An [`EventLog`] that is also a [`JobQueue`] over the same database, with the two
/// operations that span both done in one transaction.
#[async_trait]
pub trait Store: EventLog + JobQueue {
    /// [`EventLog::append`] and, in the same transaction, [`JobQueue::schedule`] of
    /// [`NewJob::process_event`] for every inserted event that is pending
    /// ([`NewEvent::initial_status`]), due at the delivery's receive time. Duplicates
    /// and the failed placeholder of an unparsable body get no job.
    async fn append_and_schedule(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, EventLogError>;

    /// [`append_and_schedule`](Self::append_and_schedule), with the jobs of up to
    /// `lease.count` of the inserted pending events (the first ones) claimed for the
    /// caller in the same transaction, leased until `lease.until`: the caller runs them
    /// from memory (see [`crate::handoff`]) instead of another write claiming them. Other
    /// workers skip leased jobs until the lease runs out, so a crash before they run
    /// loses nothing: they are claimed again then. The default leases none (every job
    /// is scheduled for a claim).
    async fn append_and_lease(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
        lease: LeaseRequest,
    ) -> Result<(AppendOutcome, Vec<ClaimedJob>), EventLogError> {
        let _ = lease;
        Ok((self.append_and_schedule(delivery, events).await?, Vec::new()))
    }

    /// [`EventLog::record_attempt`] of `report` on event `id` and, in the same
    /// transaction, the end of `claim` that the report's result calls for:
    /// [`JobQueue::complete`] when processed, [`JobQueue::retry`] at the next attempt's
    /// time when it will be retried, [`JobQueue::fail`] when it failed for good.
    ///
    /// The attempt is recorded even when the claim's lease was lost (its handlers did
    /// run), but only counted ([`EventRecord::count_stale_attempt`]): the event's status
    /// and the job are left to whoever holds it now, and the answer is
    /// [`JobQueueError::LeaseLost`].
    async fn finish_attempt(
        &self,
        claim: &ClaimedJob,
        id: EventId,
        report: AttemptReport,
    ) -> Result<EventRecord, StoreError>;
}

/// How many of an append's new jobs to claim for the caller, and until when
/// ([`Store::append_and_lease`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseRequest {
    /// At most this many jobs.
    pub count: usize,
    /// The lease runs until then.
    pub until: time::OffsetDateTime,
}

impl LeaseRequest {
    /// Up to `count` jobs leased until `until`.
    pub fn new(count: usize, until: time::OffsetDateTime) -> Self {
        Self { count, until }
    }
}

/// Why a [`Store`] operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The event log part failed.
    #[error(transparent)]
    EventLog(#[from] EventLogError),
    /// The job queue part failed (or the lease was lost).
    #[error(transparent)]
    JobQueue(#[from] JobQueueError),
}
