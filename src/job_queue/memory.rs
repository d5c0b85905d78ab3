//! [`MemoryJobQueue`]: the [`JobQueue`] contract in memory, woken by tokio.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::Notify;

use super::{ClaimedJob, Job, JobId, JobQueue, JobQueueError, NewJob, Queue};

/// An in-memory job queue. Jobs are lost when the process exits: use it for tests and
/// for services whose events are re-queued from durable storage on start
/// ([`Worker::recover`](crate::Worker::recover)).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use callhook::job_queue::{MemoryJobQueue, NewJob, Queue, JobQueue};
/// use callhook::event_log::EventId;
/// use time::macros::datetime;
///
/// let scheduler = MemoryJobQueue::new();
/// let now = datetime!(2026-12-01 10:00 UTC);
/// assert!(scheduler.schedule(NewJob::process_event(EventId(1), now)).await.unwrap().is_some());
/// // The same key again while unfinished: ignored.
/// assert!(scheduler.schedule(NewJob::process_event(EventId(1), now)).await.unwrap().is_none());
/// let claimed = scheduler.claim_due(Queue::Events, now, 10, Duration::from_secs(30)).await.unwrap();
/// assert_eq!(claimed.len(), 1);
/// scheduler.complete(&claimed[0]).await.unwrap();
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryJobQueue {
    inner: Mutex<Inner>,
    wake: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: i64,
    next_lease: u64,
    jobs: HashMap<JobId, Entry>,
    /// Unfinished jobs by key.
    keys: HashMap<String, JobId>,
    /// Per queue: queued jobs by due time, and leased jobs by lease expiry.
    due: HashMap<Queue, BTreeSet<(OffsetDateTime, JobId)>>,
}

#[derive(Debug)]
struct Entry {
    job: Job,
    lease: Option<(u64, OffsetDateTime)>,
}

impl MemoryJobQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn due(&mut self, queue: Queue) -> &mut BTreeSet<(OffsetDateTime, JobId)> {
        self.due.entry(queue).or_default()
    }

    /// The claimed entry, if `claim` still holds its lease.
    fn leased(&mut self, claim: &ClaimedJob) -> Result<&mut Entry, JobQueueError> {
        let id = claim.job.id;
        match self.jobs.get_mut(&id) {
            Some(entry) if entry.lease.is_some_and(|(lease, _)| lease == claim.lease) => Ok(entry),
            _ => Err(JobQueueError::LeaseLost(id)),
        }
    }

    fn finish(&mut self, claim: &ClaimedJob) -> Result<(), JobQueueError> {
        let entry = self.leased(claim)?;
        let (_, until) = entry.lease.take().expect("leased() checked the lease");
        let key = entry.job.key.clone();
        self.due(claim.job.kind.queue()).remove(&(until, claim.job.id));
        self.jobs.remove(&claim.job.id);
        self.keys.remove(&key);
        Ok(())
    }
}

#[async_trait]
impl JobQueue for MemoryJobQueue {
    async fn schedule(&self, job: NewJob) -> Result<Option<JobId>, JobQueueError> {
        let mut inner = self.lock();
        if inner.keys.contains_key(&job.key) {
            return Ok(None);
        }
        inner.next_id += 1;
        let id = JobId(inner.next_id);
        inner.keys.insert(job.key.clone(), id);
        inner.due(job.kind.queue()).insert((job.due_at, id));
        let job = Job {
            id,
            key: job.key,
            kind: job.kind,
            due_at: job.due_at,
            deadline: job.deadline,
            failed_attempts: 0,
            last_error: None,
        };
        inner.jobs.insert(id, Entry { job, lease: None });
        drop(inner);
        self.wake.notify_one();
        Ok(Some(id))
    }

    async fn claim_due(
        &self,
        queue: Queue,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>, JobQueueError> {
        let mut inner = self.lock();
        let due: Vec<_> = inner.due(queue).range(..=(now, JobId(i64::MAX))).take(limit).copied().collect();
        let mut claimed = Vec::with_capacity(due.len());
        for (at, id) in due {
            inner.due(queue).remove(&(at, id));
            inner.next_lease += 1;
            let lease_id = inner.next_lease;
            let until = now + lease;
            inner.due(queue).insert((until, id));
            let entry = inner.jobs.get_mut(&id).expect("indexed jobs exist");
            entry.lease = Some((lease_id, until));
            claimed.push(ClaimedJob::new(entry.job.clone(), lease_id, until));
        }
        Ok(claimed)
    }

    async fn complete(&self, claim: &ClaimedJob) -> Result<(), JobQueueError> {
        self.lock().finish(claim)
    }

    async fn retry(&self, claim: &ClaimedJob, due_at: OffsetDateTime, error: &str) -> Result<(), JobQueueError> {
        let mut inner = self.lock();
        let entry = inner.leased(claim)?;
        let (_, until) = entry.lease.take().expect("leased() checked the lease");
        entry.job.failed_attempts += 1;
        entry.job.last_error = Some(error.to_owned());
        entry.job.due_at = due_at;
        let due = inner.due(claim.job.kind.queue());
        due.remove(&(until, claim.job.id));
        due.insert((due_at, claim.job.id));
        drop(inner);
        self.wake.notify_one();
        Ok(())
    }

    async fn release(&self, claim: &ClaimedJob, due_at: OffsetDateTime) -> Result<(), JobQueueError> {
        let mut inner = self.lock();
        let entry = inner.leased(claim)?;
        let (_, until) = entry.lease.take().expect("leased() checked the lease");
        entry.job.due_at = due_at;
        let due = inner.due(claim.job.kind.queue());
        due.remove(&(until, claim.job.id));
        due.insert((due_at, claim.job.id));
        drop(inner);
        self.wake.notify_one();
        Ok(())
    }

    async fn fail(&self, claim: &ClaimedJob, _error: &str) -> Result<(), JobQueueError> {
        // Nothing to keep: the event log records the failure and its history.
        self.lock().finish(claim)
    }

    async fn next_due_at(&self, queue: Queue) -> Result<Option<OffsetDateTime>, JobQueueError> {
        Ok(self.lock().due(queue).first().map(|(at, _)| *at))
    }

    async fn wait_for_work(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.wake.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_log::EventId;
    use time::macros::datetime;

    const LEASE: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn claims_due_jobs_earliest_first_and_not_future_ones() {
        let scheduler = MemoryJobQueue::new();
        let now = datetime!(2026-12-01 10:00 UTC);
        for (event, offset) in [(1, 5), (2, -5), (3, 0)] {
            let due = now + time::Duration::seconds(offset);
            scheduler.schedule(NewJob::process_event(EventId(event), due)).await.unwrap();
        }
        let claimed = scheduler.claim_due(Queue::Events, now, 10, LEASE).await.unwrap();
        let keys: Vec<_> = claimed.iter().map(|c| c.job.key.as_str()).collect();
        assert_eq!(keys, ["process-event:2", "process-event:3"]);
        assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), Some(now + time::Duration::seconds(5)));
    }

    #[tokio::test]
    async fn expired_lease_is_claimed_again_and_the_stale_claim_is_refused() {
        let scheduler = MemoryJobQueue::new();
        let now = datetime!(2026-12-01 10:00 UTC);
        scheduler.schedule(NewJob::process_event(EventId(1), now)).await.unwrap();
        let first = scheduler.claim_due(Queue::Events, now, 1, LEASE).await.unwrap().remove(0);
        assert!(
            scheduler.claim_due(Queue::Events, now + time::Duration::seconds(29), 1, LEASE).await.unwrap().is_empty()
        );
        let second =
            scheduler.claim_due(Queue::Events, now + time::Duration::seconds(30), 1, LEASE).await.unwrap().remove(0);
        assert_eq!(first.job.id, second.job.id);
        assert!(matches!(scheduler.complete(&first).await, Err(JobQueueError::LeaseLost(_))));
        scheduler.complete(&second).await.unwrap();
        assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), None);
    }

    #[tokio::test]
    async fn retry_counts_the_failure_and_requeues() {
        let scheduler = MemoryJobQueue::new();
        let now = datetime!(2026-12-01 10:00 UTC);
        scheduler.schedule(NewJob::process_event(EventId(1), now)).await.unwrap();
        let claim = scheduler.claim_due(Queue::Events, now, 1, LEASE).await.unwrap().remove(0);
        let later = now + time::Duration::seconds(10);
        scheduler.retry(&claim, later, "boom").await.unwrap();
        assert!(scheduler.claim_due(Queue::Events, now, 1, LEASE).await.unwrap().is_empty());
        let again = scheduler.claim_due(Queue::Events, later, 1, LEASE).await.unwrap().remove(0);
        assert_eq!(again.job.failed_attempts, 1);
        assert_eq!(again.job.last_error.as_deref(), Some("boom"));
        // A finished key can be scheduled again.
        scheduler.fail(&again, "boom").await.unwrap();
        assert!(scheduler.schedule(NewJob::process_event(EventId(1), now)).await.unwrap().is_some());
    }
}
