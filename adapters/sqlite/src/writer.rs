//! The writer thread: the one connection that writes, with group commit.
//!
//! Every write (append, attempt, job change) is a closure sent to this thread. It takes
//! all the closures waiting, runs each in its own savepoint inside one transaction,
//! commits once (one fsync for the whole batch), and only then answers each caller:
//! acknowledged means committed. A closure that fails is rolled back to its savepoint
//! without affecting the others. A dedicated thread (rather than a pool of writers)
//! because SQLite has one writer at a time anyway: one thread keeps the async runtime
//! free, never waits on SQLite's write lock, and batches naturally while it syncs.

use std::sync::mpsc;
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::DbError;

/// A caller's answer, released once the batch's commit is known.
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
    /// Starts the thread on `conn`; at most `max_batch` writes share a commit.
    pub(crate) fn start(conn: Connection, max_batch: usize) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Work>();
        thread::Builder::new().name("callhook-sqlite-writer".into()).spawn(move || run(conn, receiver, max_batch))?;
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

fn run(conn: Connection, receiver: mpsc::Receiver<Work>, max_batch: usize) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(work) => batch.push(work),
                Err(_) => break,
            }
        }
        if let Err(error) = statement(&conn, "BEGIN IMMEDIATE") {
            let message = error.to_string();
            for work in batch {
                let (_, completion) = work(None);
                completion(Err(message.clone()));
            }
            continue;
        }
        let mut completions = Vec::with_capacity(batch.len());
        // Alone in its transaction, a write needs no savepoint: if it fails, the whole
        // transaction is rolled back instead (the common case when the load is light).
        let alone = batch.len() == 1;
        let mut all_ok = true;
        for work in batch {
            let savepoint = if alone { Ok(()) } else { statement(&conn, "SAVEPOINT op") };
            let (ok, completion) = work(Some(&conn));
            all_ok &= ok;
            if !alone && savepoint.is_ok() {
                let ended = if ok {
                    statement(&conn, "RELEASE op")
                } else {
                    statement(&conn, "ROLLBACK TO op").and_then(|()| statement(&conn, "RELEASE op"))
                };
                if let Err(error) = ended {
                    tracing::error!(%error, "could not end a savepoint");
                }
            }
            completions.push(completion);
        }
        let commit = if alone && !all_ok {
            // The failed write answers with its own error; nothing is kept.
            let _ = statement(&conn, "ROLLBACK");
            Ok(())
        } else {
            statement(&conn, "COMMIT").map_err(|error| {
                let _ = conn.execute_batch("ROLLBACK");
                error.to_string()
            })
        };
        for completion in completions {
            completion(commit.clone());
        }
    }
}

/// Runs a transaction-control statement through the statement cache (parsed once).
fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}
