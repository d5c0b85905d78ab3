//! [`JobQueue`] on SQLite: jobs are rows; a claim writes a random lease id and hides
//! the job until the lease runs out (`visible_at`), so a crashed worker's job is
//! claimed again. Finished jobs are deleted: the event log, not the queue, is the
//! record.

use std::time::Duration;

use async_trait::async_trait;
use callhook::job_queue::{ClaimedJob, JobId, JobQueue, JobQueueError, NewJob, Queue};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use crate::SqliteStore;
use crate::codec::{self, JOB_COLUMNS, json, nanos};
use crate::error::DbError;

/// A lease id unique enough across processes and restarts.
fn new_lease() -> i64 {
    fastrand::i64(1..i64::MAX)
}

#[async_trait]
impl JobQueue for SqliteStore {
    async fn schedule(&self, job: NewJob) -> Result<Option<JobId>, JobQueueError> {
        let id = self.write(move |conn| insert_job(conn, &job)).await?;
        if id.is_some() {
            self.inner.wake.notify_waiters();
        }
        Ok(id)
    }

    async fn schedule_all(&self, jobs: Vec<NewJob>) -> Result<usize, JobQueueError> {
        let added = self
            .write(move |conn| {
                let mut added = 0;
                for job in &jobs {
                    added += usize::from(insert_job(conn, job)?.is_some());
                }
                Ok(added)
            })
            .await?;
        if added > 0 {
            self.inner.wake.notify_waiters();
        }
        Ok(added)
    }

    async fn claim_due(
        &self,
        queue: Queue,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>, JobQueueError> {
        let until = now + lease;
        Ok(self
            .write(move |conn| {
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let mut statement = conn.prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE queue = ?3 AND visible_at <= ?1 ORDER BY visible_at, id LIMIT ?2"
                ))?;
                let jobs = statement
                    .query_map(params![nanos(now), limit, queue.as_str()], |row| Ok(codec::job(row)))?
                    .map(|row| row?)
                    .collect::<Result<Vec<_>, DbError>>()?;
                let mut claimed = Vec::with_capacity(jobs.len());
                for job in jobs {
                    let lease = new_lease();
                    conn.prepare_cached("UPDATE jobs SET lease = ?2, visible_at = ?3 WHERE id = ?1")?
                        .execute(params![job.id.0, lease, nanos(until)])?;
                    claimed.push(ClaimedJob::new(job, lease as u64, until));
                }
                Ok(claimed)
            })
            .await?)
    }

    async fn complete(&self, claim: &ClaimedJob) -> Result<(), JobQueueError> {
        self.finish(claim).await
    }

    async fn retry(&self, claim: &ClaimedJob, due_at: OffsetDateTime, error: &str) -> Result<(), JobQueueError> {
        let (held, error) = (Held::of(claim), error.to_owned());
        self.write(move |conn| held.still(requeue(conn, held, due_at, &error)?)).await?;
        self.inner.wake.notify_waiters();
        Ok(())
    }

    async fn release(&self, claim: &ClaimedJob, due_at: OffsetDateTime) -> Result<(), JobQueueError> {
        let held = Held::of(claim);
        self.write(move |conn| {
            let updated = conn
                .prepare_cached(
                    "UPDATE jobs SET due_at = ?3, visible_at = ?3, lease = NULL WHERE id = ?1 AND lease = ?2",
                )?
                .execute(params![held.id.0, held.lease, nanos(due_at)])?;
            held.still(updated == 1)
        })
        .await?;
        self.inner.wake.notify_waiters();
        Ok(())
    }

    async fn fail(&self, claim: &ClaimedJob, _error: &str) -> Result<(), JobQueueError> {
        // The event log records the failure and its history.
        self.finish(claim).await
    }

    async fn next_due_at(&self, queue: Queue) -> Result<Option<OffsetDateTime>, JobQueueError> {
        let next: Option<i64> = self
            .read(move |conn| {
                Ok(conn
                    .prepare_cached("SELECT MIN(visible_at) FROM jobs WHERE queue = ?1")?
                    .query_row([queue.as_str()], |row| row.get(0))
                    .optional()?
                    .flatten())
            })
            .await?;
        Ok(next.map(codec::time).transpose()?)
    }

    async fn wait_for_work(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.inner.wake.notified()).await;
    }
}

impl SqliteStore {
    async fn finish(&self, claim: &ClaimedJob) -> Result<(), JobQueueError> {
        let held = Held::of(claim);
        self.write(move |conn| held.still(remove(conn, held)?)).await?;
        Ok(())
    }
}

/// Queues `job` unless its key is queued or running; the new job's id if it was added.
pub(crate) fn insert_job(conn: &Connection, job: &NewJob) -> Result<Option<JobId>, DbError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO jobs (key, kind, due_at, visible_at, deadline) VALUES (?1, ?2, ?3, ?3, ?4)
             ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![job.key, json(&job.kind), nanos(job.due_at), job.deadline.map(nanos)])?;
    Ok((inserted == 1).then(|| JobId(conn.last_insert_rowid())))
}

/// Inserts `job` already claimed, leased until `until` (a job handed to the process
/// that stored its event); `None` if a job of that key is queued already.
pub(crate) fn insert_leased_job(
    conn: &Connection,
    job: &NewJob,
    until: OffsetDateTime,
) -> Result<Option<ClaimedJob>, DbError> {
    let lease = new_lease();
    let inserted = conn
        .prepare_cached(
            "INSERT INTO jobs (key, kind, due_at, visible_at, deadline, lease) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![job.key, json(&job.kind), nanos(job.due_at), nanos(until), job.deadline.map(nanos), lease])?;
    if inserted == 0 {
        return Ok(None);
    }
    let mut queued =
        callhook::job_queue::Job::new(JobId(conn.last_insert_rowid()), job.key.clone(), job.kind.clone(), job.due_at);
    queued.deadline = job.deadline;
    Ok(Some(ClaimedJob::new(queued, lease as u64, until)))
}

/// Removes a claimed job (completed or failed for good); false if the lease was lost.
pub(crate) fn remove(conn: &Connection, held: Held) -> Result<bool, DbError> {
    let deleted = conn
        .prepare_cached("DELETE FROM jobs WHERE id = ?1 AND lease = ?2")?
        .execute(params![held.id.0, held.lease])?;
    Ok(deleted == 1)
}

/// Counts a claimed job's failure and makes it due again at `due_at`; false if the
/// lease was lost.
pub(crate) fn requeue(conn: &Connection, held: Held, due_at: OffsetDateTime, error: &str) -> Result<bool, DbError> {
    let updated = conn
        .prepare_cached(
            "UPDATE jobs SET failed_attempts = failed_attempts + 1, last_error = ?3, due_at = ?4,
                 visible_at = ?4, lease = NULL
             WHERE id = ?1 AND lease = ?2",
        )?
        .execute(params![held.id.0, held.lease, error, nanos(due_at)])?;
    Ok(updated == 1)
}

/// What identifies a claim in the queue: its job and its lease.
#[derive(Clone, Copy)]
pub(crate) struct Held {
    id: JobId,
    lease: i64,
}

impl Held {
    pub(crate) fn of(claim: &ClaimedJob) -> Self {
        Self { id: claim.job.id, lease: claim.lease as i64 }
    }

    /// `Ok` if the claim's row was still there to change, else the lease was lost.
    pub(crate) fn still(self, held: bool) -> Result<(), DbError> {
        if held { Ok(()) } else { Err(DbError::LeaseLost(self.id)) }
    }
}
