//! [`Store`]: one backend that keeps both the event log ([`Storage`]) and the job queue
//! ([`Scheduler`]), and so can do in one transaction what otherwise takes two.
//!
//! Given separately, a storage and a scheduler cost two commits where one would do: the
//! receiver appends, then schedules each new event's processing; the worker records an
//! attempt, then completes the job. A store that is both does each pair in one
//! transaction: half the commits on the request path and in the worker, and no window in
//! which an event is stored without its job (the one [`Worker::recover`] exists to
//! close).
//!
//! Say so explicitly: [`ReceiverBuilder::store`] and [`Worker::builder_with_store`]
//! take the one object as both and use the combined operations. The SQLite and
//! PostgreSQL stores are `Store`s; the in-memory pair is not (give it as storage and
//! scheduler).
//!
//! [`Worker::recover`]: crate::Worker::recover
//! [`Worker::builder_with_store`]: crate::Worker::builder_with_store
//! [`ReceiverBuilder::store`]: crate::receiver::ReceiverBuilder::store

use async_trait::async_trait;

#[cfg(doc)]
use crate::scheduler::NewJob;
use crate::scheduler::{ClaimedJob, Scheduler, SchedulerError};
use crate::storage::{
    AppendOutcome, AttemptReport, EventId, EventRecord, NewDelivery, NewEvent, Storage, StorageError,
};

/// A [`Storage`] that is also a [`Scheduler`] over the same database, with the two
/// operations that span both done in one transaction.
#[async_trait]
pub trait Store: Storage + Scheduler {
    /// [`Storage::append`] and, in the same transaction, [`Scheduler::schedule`] of
    /// [`NewJob::process_event`] for every inserted event that is pending
    /// ([`NewEvent::initial_status`]), due at the delivery's receive time. Duplicates
    /// and the failed placeholder of an unparsable body get no job.
    async fn append_and_schedule(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StorageError>;

    /// [`Storage::record_attempt`] of `report` on event `id` and, in the same
    /// transaction, the end of `claim` that the report's result calls for:
    /// [`Scheduler::complete`] when processed, [`Scheduler::retry`] at the next attempt's
    /// time when it will be retried, [`Scheduler::fail`] when it failed for good.
    ///
    /// The attempt is recorded even when the claim's lease was lost (its handlers did
    /// run); the job is then left to whoever holds it now and the answer is
    /// [`SchedulerError::LeaseLost`].
    async fn finish_attempt(
        &self,
        claim: &ClaimedJob,
        id: EventId,
        report: AttemptReport,
    ) -> Result<EventRecord, StoreError>;
}

/// Why a [`Store`] operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The event log part failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The job queue part failed (or the lease was lost).
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
}
