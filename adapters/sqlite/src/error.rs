//! The adapter's internal error, turned into [`StorageError`] or [`SchedulerError`] at
//! the trait boundary.

use callhook::scheduler::{JobId, SchedulerError};
use callhook::storage::{EventId, StorageError};

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
}

impl From<DbError> for StorageError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::EventNotFound(id) => StorageError::EventNotFound(id),
            DbError::Corrupt(what) => StorageError::Corrupt(what),
            other => StorageError::Unavailable(Box::new(other)),
        }
    }
}

impl From<DbError> for SchedulerError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::LeaseLost(id) => SchedulerError::LeaseLost(id),
            other => SchedulerError::Unavailable(Box::new(other)),
        }
    }
}
