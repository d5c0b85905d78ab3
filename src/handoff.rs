//! Handing fresh events straight to the local worker.
//!
//! Without a handoff, every stored event is processed after a worker claims its job: a
//! write (to lease it) and a read (of the event) on top of the append that stored it.
//! With one, the receiver asks the store to lease the new events' jobs to this process
//! in the append's own transaction ([`Store::append_and_lease`]) and passes each job
//! with its event, through memory, to the worker: no claim, no read. The database's
//! claim stays for everything else: retries, jobs a restart or a lost lease left
//! behind, events other receivers stored, and the overflow when the worker is busy
//! (the receiver only leases as many jobs as the channel has room for).
//!
//! It needs a receiver given a [`Store`](crate::store::Store) that leases in its
//! append (SQLite; PostgreSQL with group commit, its default); with any other, every
//! job goes to a claim, as without a handoff. [`Worker::run`](crate::Worker::run)
//! takes the handed-over jobs as they come; [`Worker::run_due`](crate::Worker::run_due)
//! takes those waiting when it is called.
//!
//! At-least-once is unchanged: a handed-off job is leased in the database, so if this
//! process dies before finishing it, the job is claimed again when its lease runs out
//! and its handlers run again. Nothing is lost; at worst it runs twice.
//!
//! ```
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use callhook::{Receiver, Worker, handoff};
//!
//! let store = Arc::new(callhook_sqlite::SqliteStore::open("callhook.sqlite").await?);
//! // Room for a burst (jobs waiting here cost no claim); leased as long as the worker's.
//! let (handoff, handed_off) = handoff::channel(1024, std::time::Duration::from_secs(300));
//! let receiver = Receiver::builder().store(store.clone()).handoff(handoff).build()?;
//! let worker = Worker::builder_with_store(store).concurrency(8).handed_off(handed_off).build();
//! # let _ = (receiver, worker); Ok(()) }
//! ```
//!
//! [`Store::append_and_lease`]: crate::store::Store::append_and_lease

use std::fmt;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event_log::EventDetail;
use crate::job_queue::ClaimedJob;

/// A job leased to this process with its event, handed to the worker through memory.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HandedOff {
    /// The leased job.
    pub claim: ClaimedJob,
    /// Its event, as stored.
    pub detail: EventDetail,
}

/// The receiver's end: where it hands jobs over, and how long it leases them.
#[derive(Clone)]
pub struct Handoff {
    pub(crate) sender: mpsc::Sender<HandedOff>,
    pub(crate) lease: Duration,
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff").field("room", &self.sender.capacity()).field("lease", &self.lease).finish()
    }
}

/// The worker's end: the jobs handed over.
#[derive(Debug)]
pub struct HandedOffJobs {
    pub(crate) receiver: mpsc::Receiver<HandedOff>,
}

/// A handoff with room for `capacity` jobs at once, leased for `lease` (at most a
/// day): the worker's own lease is right. A job is only run from the handoff while its lease leaves time
/// for its handlers (the handler timeout for each); one that waited longer is left to
/// a claim once its lease has run out. When the worker's run shuts down, it closes the
/// handoff (the receiver then schedules every job for a claim) and hands the jobs still
/// waiting back to the store, due at once.
///
/// Jobs wait here, leased, until a handler slot is free: room for a burst (hundreds)
/// keeps fresh events off the claim path, which costs a write and a read each. The
/// price is on a crash: the jobs waiting here run once their lease has run out.
pub fn channel(capacity: usize, lease: Duration) -> (Handoff, HandedOffJobs) {
    // A lease beyond any date would overflow; a day is longer than any handler runs.
    let lease = lease.min(Duration::from_secs(24 * 60 * 60));
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    (Handoff { sender, lease }, HandedOffJobs { receiver })
}
