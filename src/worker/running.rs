//! The jobs a worker has started: one task each, counted per [`Queue`] they were
//! claimed from so that each queue's pool fills only its own slots, with the claims of
//! running downloads kept to hand back when a shutdown gives up on them.
//!
//! A job holds its queue's slot (a [`Slot`]) while its handlers run, and gives it up
//! when only the write of its outcome is left: that write waits for the store's next
//! group commit, and a slot held meanwhile would cap processing at the slots' number
//! per commit, however fast the handlers are. Jobs past their handlers are bounded
//! separately ([`Running::new`]'s `settling`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;
use tokio::task::{AbortHandle, Id, JoinError, JoinSet};

use super::WorkerError;
use crate::job_queue::{ClaimedJob, JobQueueError, Queue};

pub(super) struct Running {
    tasks: JoinSet<Result<(), WorkerError>>,
    queues: HashMap<Id, Queue>,
    busy: HashMap<Queue, usize>,
    /// Per queue, how many of its jobs hold a slot.
    holding: HashMap<Queue, Arc<AtomicUsize>>,
    /// Told when a job gives up its slot before its task ends.
    freed: Arc<Notify>,
    /// How many jobs of a queue may wait for their outcome's write, slot given up.
    settling: usize,
    /// Running recording jobs: their abort handles and claims.
    downloads: HashMap<Id, (AbortHandle, ClaimedJob)>,
}

/// A job's hold on one of its queue's slots, given up when dropped (see the module).
#[must_use = "the slot is free once this is dropped"]
pub(crate) struct Slot {
    holding: Arc<AtomicUsize>,
    freed: Arc<Notify>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.holding.fetch_sub(1, Ordering::AcqRel);
        self.freed.notify_one();
    }
}

impl Running {
    /// No job running; at most `settling` jobs of a queue waiting for their outcome's
    /// write beside those holding its slots.
    pub(super) fn new(settling: usize) -> Self {
        Self {
            tasks: JoinSet::new(),
            queues: HashMap::new(),
            busy: HashMap::new(),
            holding: HashMap::new(),
            freed: Arc::new(Notify::new()),
            settling,
            downloads: HashMap::new(),
        }
    }

    /// Told when a job gives up its slot before its task ends.
    pub(super) fn freed(&self) -> Arc<Notify> {
        self.freed.clone()
    }

    fn holding(&self, queue: Queue) -> usize {
        self.holding.get(&queue).map_or(0, |holding| holding.load(Ordering::Acquire))
    }

    /// How many jobs of `queue` run.
    pub(super) fn count(&self, queue: Queue) -> usize {
        self.busy.get(&queue).copied().unwrap_or(0)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Runs `job` on `claim`, claimed from `queue`, in a task of its own, holding one
    /// of the queue's slots until it drops the [`Slot`] (at the latest when it ends).
    pub(super) fn spawn<F>(&mut self, queue: Queue, claim: ClaimedJob, job: impl FnOnce(ClaimedJob, Slot) -> F)
    where
        F: Future<Output = Result<(), WorkerError>> + Send + 'static,
    {
        let kept = (queue == Queue::Recordings).then(|| claim.clone());
        let holding = self.holding.entry(queue).or_default().clone();
        holding.fetch_add(1, Ordering::AcqRel);
        let slot = Slot { holding, freed: self.freed.clone() };
        let handle = self.tasks.spawn(job(claim, slot));
        self.queues.insert(handle.id(), queue);
        *self.busy.entry(queue).or_default() += 1;
        if let Some(claim) = kept {
            self.downloads.insert(handle.id(), (handle, claim));
        }
    }

    /// How many more jobs of `queue` fit in its `slots` (and beside those settling).
    pub(super) fn free(&self, queue: Queue, slots: usize) -> usize {
        let holding = self.holding(queue);
        let settling = self.count(queue).saturating_sub(holding);
        slots.saturating_sub(holding).min(self.settling.saturating_sub(settling))
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
