//! The jobs a worker has started: one task each, counted per [`Queue`] so that each
//! queue's pool fills only its own slots, with the claims of running downloads kept to
//! hand back when a shutdown gives up on them.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::{AbortHandle, Id, JoinError, JoinSet};

use super::WorkerError;
use crate::scheduler::{ClaimedJob, Queue, SchedulerError};

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

    /// Runs `job` on `claim` in a task of its own.
    pub(super) fn spawn<F>(&mut self, claim: ClaimedJob, job: impl FnOnce(ClaimedJob) -> F)
    where
        F: Future<Output = Result<(), WorkerError>> + Send + 'static,
    {
        let queue = claim.job.kind.queue();
        let kept = (queue == Queue::Recordings).then(|| claim.clone());
        let handle = self.tasks.spawn(job(claim));
        self.queues.insert(handle.id(), queue);
        *self.busy.entry(queue).or_default() += 1;
        if let Some(claim) = kept {
            self.downloads.insert(handle.id(), (handle, claim));
        }
    }

    /// Waits for the next job to end; `None` when none runs.
    pub(super) async fn join_next(&mut self) -> Option<Result<(), WorkerError>> {
        let joined = self.tasks.join_next_with_id().await?;
        Some(self.ended(joined))
    }

    /// A job that has already ended, if any.
    pub(super) fn try_join_next(&mut self) -> Option<Result<(), WorkerError>> {
        let joined = self.tasks.try_join_next_with_id()?;
        Some(self.ended(joined))
    }

    /// Whether a download is still running.
    pub(super) fn downloading(&self) -> bool {
        !self.downloads.is_empty()
    }

    /// Whether anything but downloads still runs.
    pub(super) fn processing(&self) -> bool {
        self.tasks.len() > self.downloads.len()
    }

    /// Cancels the running downloads; returns their claims, for the caller to hand back.
    pub(super) fn abort_downloads(&mut self) -> Vec<ClaimedJob> {
        self.downloads
            .values()
            .map(|(handle, claim)| {
                handle.abort();
                claim.clone()
            })
            .collect()
    }

    fn ended(&mut self, joined: Result<(Id, Result<(), WorkerError>), JoinError>) -> Result<(), WorkerError> {
        let id = match &joined {
            Ok((id, _)) => *id,
            Err(error) => error.id(),
        };
        if let Some(queue) = self.queues.remove(&id) {
            *self.busy.entry(queue).or_default() -= 1;
        }
        self.downloads.remove(&id);
        settle(joined.map(|(_, result)| result))
    }
}

/// Logs how a job's task ended; its bookkeeping error, if any, is returned.
pub(super) fn settle(joined: Result<Result<(), WorkerError>, JoinError>) -> Result<(), WorkerError> {
    match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error @ WorkerError::Scheduler(SchedulerError::LeaseLost(_)))) => {
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
