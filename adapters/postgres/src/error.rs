//! The adapter's internal error, turned into [`StorageError`] or [`SchedulerError`] at
//! the trait boundary.

use callhook::scheduler::SchedulerError;
use callhook::storage::{EventId, StorageError};

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
}

impl DbError {
    /// Whether retrying the whole transaction may succeed (deadlock, serialization).
    pub(crate) fn is_transient(&self) -> bool {
        use tokio_postgres::error::SqlState;
        matches!(self, DbError::Postgres(e)
            if e.code().is_some_and(|c| *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE))
    }
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
        SchedulerError::Unavailable(Box::new(error))
    }
}
