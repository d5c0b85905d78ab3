//! The adapter's internal error, turned into [`EventLogError`] or [`JobQueueError`] at
//! the trait boundary.

use callhook::event_log::{EventId, EventLogError};
use callhook::job_queue::JobQueueError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("event {0} not found")]
    EventNotFound(EventId),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("the database accepts no writes: {0}")]
    ReadOnly(&'static str),
    /// The group-commit transaction this write shared failed (the error it failed with).
    #[error("the batch this write was in failed: {0}")]
    Batch(String),
}

impl DbError {
    /// Whether the error may come from one item of a batch: a value the server refuses
    /// (SQLSTATE classes 22 and 23) or a row one item names that isn't there. Not a lost
    /// connection or an unknown commit outcome: writing the items again one by one then
    /// could store them twice.
    pub(crate) fn may_be_one_items(&self) -> bool {
        match self {
            DbError::Postgres(e) => e.code().is_some_and(|c| matches!(&c.code()[..2], "22" | "23")),
            DbError::EventNotFound(_) | DbError::Corrupt(_) => true,
            _ => false,
        }
    }

    /// Whether retrying the whole transaction may succeed (deadlock, serialization).
    pub(crate) fn is_transient(&self) -> bool {
        use tokio_postgres::error::SqlState;
        matches!(self, DbError::Postgres(e)
            if e.code().is_some_and(|c| *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE))
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
        JobQueueError::Unavailable(Box::new(error))
    }
}
