//! The adapter's internal error, turned into [`EventLogError`] or [`JobQueueError`] at
//! the trait boundary.

use callhook::event_log::{EventId, EventLogError};
use callhook::job_queue::{JobId, JobQueueError};

use crate::health::{Unhealthy, storage_fault};

#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("the writer thread has stopped")]
    WriterStopped,
    #[error("reader task failed: {0}")]
    Reader(String),
    #[error("event {0} not found")]
    EventNotFound(EventId),
    #[error("lease lost for job {0}")]
    LeaseLost(JobId),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Refused before running (see the `health` module), or a failed health check.
    #[error(transparent)]
    Unhealthy(#[from] Unhealthy),
}

impl DbError {
    /// The reason, when this is a failure of the storage itself (see [`storage_fault`]).
    pub(crate) fn storage_fault(&self) -> Option<String> {
        match self {
            DbError::Sqlite(error) => storage_fault(error),
            _ => None,
        }
    }
}

impl From<DbError> for EventLogError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::EventNotFound(id) => EventLogError::EventNotFound(id),
            DbError::Corrupt(what) => EventLogError::Corrupt(what),
            other => EventLogError::Unavailable(Box::new(other)),
        }
    }
}

impl From<DbError> for JobQueueError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::LeaseLost(id) => JobQueueError::LeaseLost(id),
            other => JobQueueError::Unavailable(Box::new(other)),
        }
    }
}
