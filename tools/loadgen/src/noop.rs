//! [`NoopStore`]: an [`EventLog`] and [`JobQueue`] that keeps nothing and acknowledges
//! every write at once. The best any store could do, so the load test's baseline: the
//! cost of HTTP, verification, parsing and the receiver itself.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use callhook::event::ProviderId;
use callhook::event_log::{
    AppendOutcome, Appended, AttemptReport, DeliveryId, EventDetail, EventFilter, EventId, EventLog, EventLogError,
    EventRecord, NewDelivery, NewEvent,
};
use callhook::job_queue::{ClaimedJob, JobId, JobQueue, JobQueueError, NewJob, Queue};
use callhook::state::{CallState, MessageState};
use time::OffsetDateTime;

/// Stores nothing: every event is "inserted" under a fresh id (no dedupe), every job
/// "scheduled" and never due.
#[derive(Debug, Default)]
pub struct NoopStore {
    next_id: AtomicI64,
}

impl NoopStore {
    fn id(&self) -> i64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[async_trait]
impl EventLog for NoopStore {
    async fn append(&self, _delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError> {
        let delivery = DeliveryId(self.id());
        Ok(AppendOutcome::new(delivery, events.iter().map(|_| Appended::Inserted(EventId(self.id()))).collect()))
    }

    async fn append_to_delivery(
        &self,
        _delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError> {
        Ok(events.iter().map(|_| Appended::Inserted(EventId(self.id()))).collect())
    }

    async fn event(&self, _id: EventId) -> Result<Option<EventDetail>, EventLogError> {
        Ok(None)
    }

    async fn list_events(&self, _filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError> {
        Ok(Vec::new())
    }

    async fn record_attempt(&self, id: EventId, _report: AttemptReport) -> Result<EventRecord, EventLogError> {
        Err(EventLogError::EventNotFound(id))
    }

    async fn reprocess(&self, id: EventId, _at: OffsetDateTime) -> Result<EventRecord, EventLogError> {
        Err(EventLogError::EventNotFound(id))
    }

    async fn call_state(&self, _provider: &ProviderId, _call_id: &str) -> Result<Option<CallState>, EventLogError> {
        Ok(None)
    }

    async fn message_state(
        &self,
        _provider: &ProviderId,
        _message_id: &str,
    ) -> Result<Option<MessageState>, EventLogError> {
        Ok(None)
    }

    async fn ping(&self) -> Result<(), EventLogError> {
        Ok(())
    }
}

#[async_trait]
impl JobQueue for NoopStore {
    async fn schedule(&self, _job: NewJob) -> Result<Option<JobId>, JobQueueError> {
        Ok(Some(JobId(self.id())))
    }

    async fn claim_due(
        &self,
        _queue: Queue,
        _now: OffsetDateTime,
        _limit: usize,
        _lease: Duration,
    ) -> Result<Vec<ClaimedJob>, JobQueueError> {
        Ok(Vec::new())
    }

    async fn complete(&self, _claim: &ClaimedJob) -> Result<(), JobQueueError> {
        Ok(())
    }

    async fn retry(&self, _claim: &ClaimedJob, _due_at: OffsetDateTime, _error: &str) -> Result<(), JobQueueError> {
        Ok(())
    }

    async fn fail(&self, _claim: &ClaimedJob, _error: &str) -> Result<(), JobQueueError> {
        Ok(())
    }

    async fn next_due_at(&self, _queue: Queue) -> Result<Option<OffsetDateTime>, JobQueueError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn acknowledges_and_keeps_nothing() {
        let store = NoopStore::default();
        let acme = ProviderId::from_static("acme");
        let delivery = NewDelivery::new(acme.clone(), "/", OffsetDateTime::UNIX_EPOCH, "{}");
        let event = NewEvent::parsed(
            "ping",
            "k",
            callhook::Event::Unmodeled(callhook::event::UnmodeledEvent::new(acme, "ping")),
        );
        let outcome = store.append(delivery, vec![event.clone(), event]).await.unwrap();
        assert!(outcome.events.iter().all(|e| matches!(e, Appended::Inserted(_))));
        assert!(store.list_events(&EventFilter::default()).await.unwrap().is_empty());
        let job = NewJob::process_event(outcome.events[0].id(), OffsetDateTime::UNIX_EPOCH);
        assert!(store.schedule(job).await.unwrap().is_some());
        let claimed =
            store.claim_due(Queue::Events, OffsetDateTime::now_utc(), 8, Duration::from_secs(1)).await.unwrap();
        assert!(claimed.is_empty());
    }
}
