//! The writer thread: the one connection that writes, with group commit; and the sync
//! thread, which makes each commit durable before anyone is told it happened.
//!
//! Every write (append, attempt, job change) is a closure sent to the writer thread. It
//! opens a transaction for the first closure waiting, runs it, then runs each closure
//! that arrives while the transaction is open in its own savepoint (until none arrives
//! for a short linger, or a longer cap is reached), and commits once: one copy of each
//! touched page for the whole group. A closure that fails is rolled back to its
//! savepoint without affecting the others.
//!
//! The commit itself does not wait for the disk (`synchronous=NORMAL`): it hands its
//! callers to the sync thread, which calls `fdatasync` on the WAL file and only then
//! answers them. Acknowledged still means on disk, as with `synchronous=FULL`: the WAL
//! is appended in commit order and one sync covers every commit before it, and a torn
//! tail is discarded on recovery by the frames' checksums. But the writer builds the
//! next group while the disk syncs the last one, and one sync serves every commit made
//! during the previous one. Anything that reads through a write (a job claim, a
//! processing attempt) is therefore only answered once what it read is durable too;
//! plain reads may see a commit a moment before its sync. A sync that fails poisons the
//! writer: after `fsync` reports an error, what reached the disk is unknown, so every
//! later write fails (and health checks with it) until the store is reopened.
//!
//! Dedicated threads (rather than a pool of writers) because SQLite has one writer at a
//! time anyway: they keep the async runtime free and never wait on SQLite's write lock.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::DbError;

/// A caller's answer, released once the batch's commit is known to be durable (or failed).
type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One write, run on the writer thread inside a savepoint (or, given `None`, not run
/// because the transaction could not start); says whether it succeeded.
type Work = Box<dyn FnOnce(Option<&Connection>) -> (bool, Completion) + Send>;

/// The handle to the writer thread; dropping every clone stops it.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    sender: mpsc::Sender<Work>,
}

impl Writer {
    /// Starts the writer thread on `conn` (whose WAL file is `wal`), grouping writes
    /// into transactions as `grouping` says, and the sync thread behind it.
    pub(crate) fn start(conn: Connection, wal: PathBuf, grouping: Grouping) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Work>();
        let (committed, to_sync) = mpsc::channel::<Vec<Completion>>();
        let poisoned = Arc::new(AtomicBool::new(false));
        let syncer = Syncer { wal, file: None, poisoned: poisoned.clone() };
        thread::Builder::new().name("callhook-sqlite-sync".into()).spawn(move || syncer.run(to_sync))?;
        thread::Builder::new()
            .name("callhook-sqlite-writer".into())
            .spawn(move || run(conn, receiver, grouping, committed, poisoned))?;
        Ok(Self { sender })
    }

    /// Runs `op` in the next batch and waits for its commit.
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            // Without a connection the completion carries the BEGIN error instead.
            let result = conn.map_or(Err(DbError::WriterStopped), op);
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                let _ = reply.send(commit.map_err(DbError::Commit).and(result));
            });
            (ok, completion)
        });
        self.sender.send(work).map_err(|_| DbError::WriterStopped)?;
        answer.await.map_err(|_| DbError::WriterStopped)?
    }
}

/// How the writer groups writes into transactions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grouping {
    /// The most writes in one transaction.
    pub max_batch: usize,
    /// How long an open transaction waits for one more write before committing.
    pub linger: Duration,
    /// How long a transaction stays open at most, from its first write.
    pub max_wait: Duration,
}

fn run(
    conn: Connection,
    receiver: mpsc::Receiver<Work>,
    grouping: Grouping,
    committed: mpsc::Sender<Vec<Completion>>,
    poisoned: Arc<AtomicBool>,
) {
    while let Ok(first) = receiver.recv() {
        let began = if poisoned.load(Ordering::Acquire) {
            Err(POISONED.to_owned())
        } else {
            statement(&conn, "BEGIN IMMEDIATE").map_err(|error| error.to_string())
        };
        if let Err(message) = began {
            let (_, completion) = first(None);
            completion(Err(message.clone()));
            for work in receiver.try_iter() {
                let (_, completion) = work(None);
                completion(Err(message.clone()));
            }
            continue;
        }
        // The first write needs no savepoint: if it fails, the transaction is rolled
        // back whole and it answers with its own error.
        let opened = Instant::now();
        let (ok, completion) = first(Some(&conn));
        if !ok {
            let _ = statement(&conn, "ROLLBACK");
            completion(Ok(()));
            continue;
        }
        let mut completions = vec![completion];
        // Under load, writes arrive while this one runs: they join the transaction
        // (each in its savepoint) until none comes for `linger`, so that one commit, one
        // fsync and one copy of each touched page serve them all. Alone, a write waits
        // `linger` at most.
        let mut last_arrival = opened;
        while completions.len() < grouping.max_batch {
            let work = match receiver.try_recv() {
                Ok(work) => work,
                Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) => {
                    let deadline = (last_arrival + grouping.linger).min(opened + grouping.max_wait);
                    let Some(wait) = deadline.checked_duration_since(Instant::now()) else { break };
                    match receiver.recv_timeout(wait) {
                        Ok(work) => work,
                        Err(_) => break,
                    }
                }
            };
            last_arrival = Instant::now();
            completions.push(in_savepoint(&conn, work));
        }
        match statement(&conn, "COMMIT") {
            // The sync thread answers once the commit is on disk.
            Ok(()) => {
                if let Err(mpsc::SendError(completions)) = committed.send(completions) {
                    for completion in completions {
                        completion(Err("the sync thread has stopped".to_owned()));
                    }
                }
            }
            Err(error) => {
                let _ = conn.execute_batch("ROLLBACK");
                for completion in completions {
                    completion(Err(error.to_string()));
                }
            }
        }
    }
}

const POISONED: &str = "an earlier fsync of the WAL failed: writes are refused until the store is reopened";

/// Makes commits durable: syncs the WAL file, then answers the commits' callers.
struct Syncer {
    wal: PathBuf,
    /// The WAL file, opened at the first sync (SQLite creates it with the first write).
    file: Option<File>,
    poisoned: Arc<AtomicBool>,
}

impl Syncer {
    fn run(mut self, to_sync: mpsc::Receiver<Vec<Completion>>) {
        while let Ok(first) = to_sync.recv() {
            // Every commit made while the last sync ran shares this one.
            let groups: Vec<_> = std::iter::once(first).chain(to_sync.try_iter()).collect();
            let synced = self.sync();
            if synced.is_err() {
                self.poisoned.store(true, Ordering::Release);
            }
            for completion in groups.into_iter().flatten() {
                completion(synced.clone());
            }
        }
    }

    fn sync(&mut self) -> Result<(), String> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(POISONED.to_owned());
        }
        let file = match &mut self.file {
            Some(file) => file,
            // Write access: some systems refuse to sync a file opened read-only.
            None => self.file.insert(
                OpenOptions::new()
                    .write(true)
                    .open(&self.wal)
                    .map_err(|error| format!("could not open {} to sync it: {error}", self.wal.display()))?,
            ),
        };
        file.sync_data().map_err(|error| format!("fsync of {} failed: {error}", self.wal.display()))
    }
}

/// Runs one write in a savepoint of the open transaction, rolled back if it fails.
fn in_savepoint(conn: &Connection, work: Work) -> Completion {
    let savepoint = statement(conn, "SAVEPOINT op");
    let (ok, completion) = work(Some(conn));
    if savepoint.is_ok() {
        let ended = if ok {
            statement(conn, "RELEASE op")
        } else {
            statement(conn, "ROLLBACK TO op").and_then(|()| statement(conn, "RELEASE op"))
        };
        if let Err(error) = ended {
            tracing::error!(%error, "could not end a savepoint");
        }
    }
    completion
}

/// Runs a transaction-control statement through the statement cache (parsed once).
fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}
