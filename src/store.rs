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
//! Nothing is configured to get this: when the storage and the scheduler given to
//! [`ReceiverBuilder`] or [`Worker::builder`] are the same object (the same `Arc`)
//! and [`Storage::as_store`] says it is a `Store`, the combined operations are used.
//! The SQLite and PostgreSQL stores are; the in-memory pair is not.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use callhook::{InProcessScheduler, MemoryStorage, Storage};
//!
//! // The in-memory storage is only a storage: the receiver appends, then schedules.
//! let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
//! assert!(storage.as_store().is_none());
//! # });
//! ```
//!
//! [`Worker::recover`]: crate::Worker::recover
//! [`Worker::builder`]: crate::Worker::builder
//! [`ReceiverBuilder`]: crate::receiver::ReceiverBuilder

use std::sync::Arc;

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

/// `storage` as a [`Store`] when `scheduler` is the very same object, so that the
/// combined operations keep the jobs where `scheduler` looks for them.
pub(crate) fn combined(storage: &Arc<dyn Storage>, scheduler: &Arc<dyn Scheduler>) -> Option<Arc<dyn Store>> {
    storage.clone().as_store().filter(|store| std::ptr::addr_eq(Arc::as_ptr(store), Arc::as_ptr(scheduler)))
}
