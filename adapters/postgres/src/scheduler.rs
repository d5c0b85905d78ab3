//! [`JobQueue`] on PostgreSQL: claims take due rows with `FOR UPDATE SKIP LOCKED`
//! (so concurrent workers, in any process, never take the same row), stamp a lease
//! from a sequence, and hide the job until the lease runs out (`visible_at`). Finished
//! jobs are deleted; the event log is the record.

use std::time::Duration;

use async_trait::async_trait;
use callhook::job_queue::{ClaimedJob, JobId, JobQueue, JobQueueError, NewJob, Queue};
use deadpool_postgres::GenericClient;
use time::OffsetDateTime;

use crate::PostgresStore;
use crate::codec::{self, JOB_COLUMNS, json, nanos};
use crate::error::DbError;

#[async_trait]
impl JobQueue for PostgresStore {
    async fn schedule(&self, job: NewJob) -> Result<Option<JobId>, JobQueueError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        let id = insert_job(&client, &job).await?;
        if id.is_some() {
            crate::listen::notify_after(&client).await;
            self.inner.wake.notify_waiters();
        }
        Ok(id)
    }

    async fn schedule_all(&self, jobs: Vec<NewJob>) -> Result<usize, JobQueueError> {
        let mut client = self.pool().get().await.map_err(DbError::from)?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let mut added = 0;
        for job in &jobs {
            added += usize::from(insert_job(&tx, job).await?.is_some());
        }
        if added > 0 {
            crate::listen::notify(&tx).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
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
        let client = self.pool().get().await.map_err(DbError::from)?;
        let columns = JOB_COLUMNS.split(", ").map(|c| format!("j.{c}")).collect::<Vec<_>>().join(", ");
        let statement = client
            .prepare_cached(&format!(
                "WITH due AS (
                     SELECT id, visible_at FROM callhook_jobs WHERE queue = $4 AND visible_at <= $1
                     ORDER BY visible_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
                 )
                 UPDATE callhook_jobs AS j SET lease = nextval('callhook_leases'), visible_at = $3
                 FROM due WHERE j.id = due.id
                 RETURNING {columns}, j.lease, due.visible_at"
            ))
            .await
            .map_err(DbError::from)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&statement, &[&nanos(now), &limit, &nanos(until), &queue.as_str()])
            .await
            .map_err(DbError::from)?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                let job = codec::job(row)?;
                let lease: i64 = row.try_get(7)?;
                let was_visible: i64 = row.try_get(8)?;
                Ok((was_visible, ClaimedJob::new(job, lease as u64, until)))
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        // RETURNING has no order: give the claims in due order.
        claimed.sort_by_key(|(was_visible, claim)| (*was_visible, claim.job.id));
        Ok(claimed.into_iter().map(|(_, claim)| claim).collect())
    }

    async fn complete(&self, claim: &ClaimedJob) -> Result<(), JobQueueError> {
        self.finish(claim).await
    }

    async fn retry(&self, claim: &ClaimedJob, due_at: OffsetDateTime, error: &str) -> Result<(), JobQueueError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        if !requeue(&client, claim, due_at, error).await? {
            return Err(JobQueueError::LeaseLost(claim.job.id));
        }
        crate::listen::notify_after(&client).await;
        self.inner.wake.notify_waiters();
        Ok(())
    }

    async fn release(&self, claim: &ClaimedJob, due_at: OffsetDateTime) -> Result<(), JobQueueError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        let statement = client
            .prepare_cached(
                "UPDATE callhook_jobs SET due_at = $3, visible_at = $3, lease = NULL WHERE id = $1 AND lease = $2",
            )
            .await
            .map_err(DbError::from)?;
        let lease = claim.lease as i64;
        let updated =
            client.execute(&statement, &[&claim.job.id.0, &lease, &nanos(due_at)]).await.map_err(DbError::from)?;
        if updated != 1 {
            return Err(JobQueueError::LeaseLost(claim.job.id));
        }
        crate::listen::notify_after(&client).await;
        self.inner.wake.notify_waiters();
        Ok(())
    }

    async fn fail(&self, claim: &ClaimedJob, _error: &str) -> Result<(), JobQueueError> {
        // The event log records the failure and its history.
        self.finish(claim).await
    }

    async fn next_due_at(&self, queue: Queue) -> Result<Option<OffsetDateTime>, JobQueueError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        let statement = client
            .prepare_cached("SELECT MIN(visible_at) FROM callhook_jobs WHERE queue = $1")
            .await
            .map_err(DbError::from)?;
        let row = client.query_one(&statement, &[&queue.as_str()]).await.map_err(DbError::from)?;
        let next: Option<i64> = row.try_get(0).map_err(DbError::from)?;
        Ok(next.map(codec::time).transpose()?)
    }

    async fn wait_for_work(&self, timeout: Duration) {
        // Jobs scheduled by any process sharing the database wake it at once (this
        // process's directly, the others' through LISTEN/NOTIFY; see `listen`); the
        // timeout is the poll that covers a missed notification.
        let _ = tokio::time::timeout(timeout, self.inner.wake.notified()).await;
    }
}

impl PostgresStore {
    async fn finish(&self, claim: &ClaimedJob) -> Result<(), JobQueueError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        if remove(&client, claim).await? { Ok(()) } else { Err(JobQueueError::LeaseLost(claim.job.id)) }
    }
}

/// Queues `job` unless its key is queued or running; the new job's id if it was added.
pub(crate) async fn insert_job(client: &impl GenericClient, job: &NewJob) -> Result<Option<JobId>, DbError> {
    let statement = client
        .prepare_cached(
            "INSERT INTO callhook_jobs (key, kind, due_at, visible_at, deadline) VALUES ($1, $2, $3, $3, $4)
             ON CONFLICT (key) DO NOTHING RETURNING id",
        )
        .await?;
    let row = client
        .query_opt(&statement, &[&job.key, &json(&job.kind), &nanos(job.due_at), &job.deadline.map(nanos)])
        .await?;
    Ok(row.map(|row| row.try_get(0).map(JobId)).transpose()?)
}

/// Removes a claimed job (completed or failed for good); false if the lease was lost.
pub(crate) async fn remove(client: &impl GenericClient, claim: &ClaimedJob) -> Result<bool, DbError> {
    let statement = client.prepare_cached("DELETE FROM callhook_jobs WHERE id = $1 AND lease = $2").await?;
    let lease = claim.lease as i64;
    let deleted = client.execute(&statement, &[&claim.job.id.0, &lease]).await?;
    Ok(deleted == 1)
}

/// Counts a claimed job's failure and makes it due again at `due_at`; false if the
/// lease was lost.
pub(crate) async fn requeue(
    client: &impl GenericClient,
    claim: &ClaimedJob,
    due_at: OffsetDateTime,
    error: &str,
) -> Result<bool, DbError> {
    let statement = client
        .prepare_cached(
            "UPDATE callhook_jobs SET failed_attempts = failed_attempts + 1, last_error = $3, due_at = $4,
                 visible_at = $4, lease = NULL
             WHERE id = $1 AND lease = $2",
        )
        .await?;
    let lease = claim.lease as i64;
    let updated = client.execute(&statement, &[&claim.job.id.0, &lease, &error, &nanos(due_at)]).await?;
    Ok(updated == 1)
}
