//! [`Store`] on SQLite: an append and its jobs, an attempt and its job's end, each in
//! one write (one commit on the writer thread instead of two).

use async_trait::async_trait;
use callhook::event_log::{
    AppendOutcome, AttemptReport, AttemptResult, EventId, EventLogError, EventRecord, NewDelivery, NewEvent,
};
use callhook::job_queue::JobQueueError;
use callhook::job_queue::{ClaimedJob, NewJob};
use callhook::store::{LeaseRequest, Store, StoreError};

use crate::SqliteStore;
use crate::codec::json;
use crate::scheduler::{Held, insert_job, insert_leased_job, remove, requeue};
use crate::storage::{add_attempt, append, encode, event_to_update, with_event};

#[async_trait]
impl Store for SqliteStore {
    async fn append_and_schedule(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, EventLogError> {
        let (headers, events) = (json(&delivery.headers), encode(events));
        let received_at = delivery.received_at;
        let (outcome, scheduled) = self
            .write(move |conn| {
                let (outcome, pending) = append(conn, delivery, &headers, events)?;
                for id in &pending {
                    insert_job(conn, &NewJob::process_event(*id, received_at))?;
                }
                Ok((outcome, !pending.is_empty()))
            })
            .await?;
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
        let (headers, events) = (json(&delivery.headers), encode(events));
        let received_at = delivery.received_at;
        let (outcome, claims, scheduled) = self
            .write(move |conn| {
                let (outcome, pending) = append(conn, delivery, &headers, events)?;
                let (mut claims, mut scheduled) = (Vec::new(), false);
                for (n, id) in pending.iter().enumerate() {
                    let job = NewJob::process_event(*id, received_at);
                    if n < lease.count {
                        claims.extend(insert_leased_job(conn, &job, lease.until)?);
                    } else {
                        scheduled |= insert_job(conn, &job)?.is_some();
                    }
                }
                Ok((outcome, claims, scheduled))
            })
            .await?;
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
        let held = Held::of(claim);
        let retried = matches!(report.result, AttemptResult::Retry { .. });
        // The attempt is committed even when the lease turns out lost (its handlers ran),
        // but then the event's status is the current holder's to set.
        let (unparsed, still_held) = self
            .write(move |conn| {
                // The event first: an unknown one fails before the job is touched.
                let event = event_to_update(conn, id)?;
                let still_held = match &report.result {
                    AttemptResult::Retry { error, next_attempt_at } => requeue(conn, held, *next_attempt_at, error)?,
                    _ => remove(conn, held)?,
                };
                let unparsed = add_attempt(conn, event, &report, still_held)?;
                Ok((unparsed, still_held))
            })
            .await
            .map_err(EventLogError::from)?;
        held.still(still_held).map_err(JobQueueError::from)?;
        if retried {
            // A worker waiting for the next due job learns of the new time.
            self.inner.wake.notify_waiters();
        }
        Ok(with_event(unparsed).map_err(EventLogError::from)?)
    }
}
