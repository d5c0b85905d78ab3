//! The jobs a worker has started: one task each, counted per [`Queue`] they were
//! claimed from so that each queue's pool fills only its own slots, with the claims of
//! running downloads kept to hand back when a shutdown gives up on them.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::{AbortHandle, Id, JoinError, JoinSet};

use super::WorkerError;
use crate::job_queue::{ClaimedJob, JobQueueError, Queue};

pub(super) struct Running {
    tasks: JoinSet<Result<(), WorkerError>>,
    queues: HashMap<Id, Queue>,
    busy: HashMap<Queue, usize>,
    /// Running recording jobs: their abort handles and claims.
    downloads: HashMap<Id, (AbortHandle, ClaimedJob)>,
}

impl Running {
    pub(super) fn new() -> Self {
        Self { tasks: JoinSet::new(), queues: HashMap::new(), busy: HashMap::new(), downloads: HashMap::new() }
    }

    /// How many jobs of `queue` run.
    pub(super) fn count(&self, queue: Queue) -> usize {
        self.busy.get(&queue).copied().unwrap_or(0)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Runs `job` on `claim`, claimed from `queue`, in a task of its own.
    pub(super) fn spawn<F>(&mut self, queue: Queue, claim: ClaimedJob, job: impl FnOnce(ClaimedJob) -> F)
    where
        F: Future<Output = Result<(), WorkerError>> + Send + 'static,
    {
        let kept = (queue == Queue::Recordings).then(|| claim.clone());
        let handle = self.tasks.spawn(job(claim));
        self.queues.insert(handle.id(), queue);
        *self.busy.entry(queue).or_default() += 1;
        if let Some(claim) = kept {
            self.downloads.insert(handle.id(), (handle, claim));
        }
    }

    /// How many more jobs of `queue` fit in its `slots`.
    pub(super) fn free(&self, queue: Queue, slots: usize) -> usize {
        slots.saturating_sub(self.count(queue))
    }

    /// Waits for the next job to end; `None` when none runs.
    pub(super) async fn join_next(&mut self) -> Option<Ended> {
        let joined = self.tasks.join_next_with_id().await?;
        Some(self.ended(joined))
    }

    /// A job that has already ended, if any.
    pub(super) fn try_join_next(&mut self) -> Option<Ended> {
        let joined = self.tasks.try_join_next_with_id()?;
        Some(self.ended(joined))
    }

    /// Whether a download is still running.
    pub(super) fn downloading(&self) -> bool {
        !self.downloads.is_empty()
    }

    /// Cancels the running downloads; each one's claim comes back with its end
    /// ([`Ended::cancelled`]), for the caller to hand back. Returns how many.
    pub(super) fn abort_downloads(&mut self) -> usize {
        self.downloads.values().for_each(|(handle, _)| handle.abort());
        self.downloads.len()
    }

    fn ended(&mut self, joined: Result<(Id, Result<(), WorkerError>), JoinError>) -> Ended {
        let id = match &joined {
            Ok((id, _)) => *id,
            Err(error) => error.id(),
        };
        if let Some(queue) = self.queues.remove(&id)
            && let Some(busy) = self.busy.get_mut(&queue)
        {
            *busy = busy.saturating_sub(1);
        }
        let download = self.downloads.remove(&id);
        let cancelled = matches!(&joined, Err(error) if error.is_cancelled());
        Ended {
            result: settle(joined.map(|(_, result)| result)),
            cancelled: download.filter(|_| cancelled).map(|(_, claim)| claim),
        }
    }
}

/// How a job's task ended.
pub(super) struct Ended {
    /// Its bookkeeping error, if any.
    pub(super) result: Result<(), WorkerError>,
    /// The claim of a download cancelled before it finished (still leased to it).
    pub(super) cancelled: Option<ClaimedJob>,
}

/// Logs how a job's task ended; its bookkeeping error, if any, is returned.
pub(super) fn settle(joined: Result<Result<(), WorkerError>, JoinError>) -> Result<(), WorkerError> {
    match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error @ WorkerError::JobQueue(JobQueueError::LeaseLost(_)))) => {
            tracing::warn!(%error, "the job's lease ran out before it finished; it belongs to another claim now");
            Err(error)
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "job bookkeeping failed; the job runs again after its lease");
            Err(error)
        }
        Err(join_error) if join_error.is_cancelled() => Ok(()),
        Err(join_error) => {
            tracing::error!(%join_error, "job task died; it runs again after its lease");
            Ok(())
        }
    }
}
