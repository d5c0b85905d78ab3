//! [`Store`] on PostgreSQL: an append and its jobs, an attempt and its job's end, each
//! in one transaction (one commit instead of two).

use async_trait::async_trait;
use callhook::event_log::{
    AppendOutcome, AttemptReport, AttemptResult, EventId, EventLogError, EventRecord, NewDelivery, NewEvent,
};
use callhook::job_queue::{ClaimedJob, JobQueueError, NewJob};
use callhook::store::{LeaseRequest, Store, StoreError};

use crate::PostgresStore;
use crate::error::DbError;
use crate::scheduler::{insert_job, remove, requeue};
use crate::storage::{add_attempt, append, lock_event, retry_transient};

impl PostgresStore {
    /// One try of [`Store::append_and_schedule`]; also says whether a job was queued.
    async fn try_append_and_schedule(
        &self,
        delivery: &NewDelivery,
        events: &[NewEvent],
    ) -> Result<(AppendOutcome, bool), DbError> {
        let mut client = self.pool().get().await?;
        let tx = client.transaction().await?;
        let (outcome, pending) = append(&tx, delivery, events).await?;
        let mut scheduled = false;
        for id in pending {
            scheduled |= insert_job(&tx, &NewJob::process_event(id, delivery.received_at)).await?.is_some();
        }
        if scheduled {
            crate::listen::notify(&tx).await?;
        }
        tx.commit().await?;
        Ok((outcome, scheduled))
    }

    /// [`Store::finish_attempt`]'s transaction: the event as it now stands, and whether
    /// the claim's lease was still held.
    async fn try_finish_attempt(
        &self,
        claim: &ClaimedJob,
        id: EventId,
        report: &AttemptReport,
    ) -> Result<(EventRecord, bool), DbError> {
        let mut client = self.pool().get().await?;
        let tx = client.transaction().await?;
        // The event is locked before its job, as batched finishes lock them.
        let event = lock_event(&tx, id).await?;
        let held = match &report.result {
            AttemptResult::Retry { error, next_attempt_at } => requeue(&tx, claim, *next_attempt_at, error).await?,
            _ => remove(&tx, claim).await?,
        };
        if held && matches!(report.result, AttemptResult::Retry { .. }) {
            crate::listen::notify(&tx).await?;
        }
        // Committed even when the lease was lost (the handlers did run), but then the
        // event's status is the current holder's to set.
        let record = add_attempt(&tx, event, report, held).await?;
        tx.commit().await?;
        Ok((record, held))
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn append_and_schedule(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, EventLogError> {
        let (outcome, scheduled) = match &self.inner.appends {
            Some(appends) => {
                let none = LeaseRequest::new(0, delivery.received_at);
                let (outcome, scheduled, _) = appends.write((delivery, events, none)).await?;
                (outcome, scheduled)
            }
            None => retry_transient!(self.try_append_and_schedule(&delivery, &events))?,
        };
        if scheduled {
            self.inner.wake.notify_waiters();
        }
        Ok(outcome)
    }

    async fn append_and_lease(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
        lease: LeaseRequest,
    ) -> Result<(AppendOutcome, Vec<ClaimedJob>), EventLogError> {
        // Without group commit, nothing is leased: every job is scheduled for a claim.
        let Some(appends) = &self.inner.appends else {
            return Ok((self.append_and_schedule(delivery, events).await?, Vec::new()));
        };
        let (outcome, scheduled, claims) = appends.write((delivery, events, lease)).await?;
        if scheduled {
            self.inner.wake.notify_waiters();
        }
        Ok((outcome, claims))
    }

    async fn finish_attempt(
        &self,
        claim: &ClaimedJob,
        id: EventId,
        report: AttemptReport,
    ) -> Result<EventRecord, StoreError> {
        let retry = matches!(report.result, AttemptResult::Retry { .. });
        let (record, held) = match &self.inner.finishes {
            Some(finishes) => finishes.write((claim.clone(), id, report)).await,
            None => retry_transient!(self.try_finish_attempt(claim, id, &report)),
        }
        .map_err(EventLogError::from)?;
        if !held {
            return Err(JobQueueError::LeaseLost(claim.job.id).into());
        }
        if retry {
            // A worker waiting for the next due job learns of the new time.
            self.inner.wake.notify_waiters();
        }
        Ok(record)
    }
}
