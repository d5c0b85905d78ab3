//! The writer thread: the one connection that writes, with group commit; and the sync
//! thread, which makes each commit durable before anyone is told it happened.
//!
//! Every write (append, attempt, job change) is a closure sent to the writer thread. It
//! opens a transaction for the first closure waiting, runs it, then runs each closure
//! that arrives while the transaction is open (until none arrives for a short linger,
//! or a longer cap is reached), and commits once: one copy of each touched page for the
//! whole group. A closure that fails before changing anything fails alone; one that
//! fails part-way fails its whole group (see [`run_one`]).
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
//! later write fails (and health checks with it) until the store is reopened. After each
//! sync, before answering, the sync thread also checks that the database file written
//! is still linked (one `fstat`, off the writer's path), and at most every 10 ms that
//! the database's and the WAL's paths still name the files written: a write into a
//! deleted database file, or one replaced by a rename, is never acknowledged, and such
//! a store refuses every later write (see the `health` module, which also keeps write
//! failures and stalls).
//!
//! Dedicated threads (rather than a pool of writers) because SQLite has one writer at a
//! time anyway: they keep the async runtime free and never wait on SQLite's write lock.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::DbError;
use crate::health::{Health, Refusal};
use crate::identity::{Check, FileIdentity, PATH_CHECK_EVERY};

/// A caller's answer, released once the batch's commit is known to be durable (or failed).
type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One write, run on the writer thread inside the open transaction (or, given `None`,
/// not run because the transaction could not start); says how it went.
type Work = Box<dyn FnOnce(Option<&Connection>) -> (Ran, Completion) + Send>;

/// How one write went.
enum Ran {
    Ok,
    /// It failed; `fault` is the reason when the storage itself failed (disk full, I/O).
    Failed {
        fault: Option<String>,
    },
}

/// A committed group, handed to the sync thread.
struct Committed {
    /// The group's number (groups are numbered in commit order).
    group: u64,
    /// Whether it changed any row (then its sync proves the storage takes writes).
    wrote: bool,
    completions: Vec<Completion>,
}

/// The handle to the writer thread; dropping every clone stops it.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    sender: mpsc::Sender<Work>,
    health: Arc<Health>,
}

impl Writer {
    /// Starts the writer thread on `conn` (whose WAL file is `wal`; `None` when its
    /// commits are synchronous themselves), grouping writes into transactions as
    /// `grouping` says, and the sync thread behind it; both report to `health`.
    pub(crate) fn start(
        conn: Connection,
        wal: Option<PathBuf>,
        grouping: Grouping,
        health: Arc<Health>,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Work>();
        let (committed, to_sync) = mpsc::channel::<Committed>();
        // Opened now if it exists (a wrong path then shows at the first write at the
        // latest, as a refused write, never as an unsynced acknowledgement).
        if let Some(file) = wal.as_ref().and_then(|wal| open_wal(wal).ok()) {
            health.set_wal(file);
        }
        let syncer = Syncer { wal, paths_checked: None };
        let syncer_health = health.clone();
        thread::Builder::new()
            .name("callhook-sqlite-sync".into())
            .spawn(move || syncer.run(to_sync, &syncer_health))?;
        let writer_health = health.clone();
        thread::Builder::new()
            .name("callhook-sqlite-writer".into())
            .spawn(move || run(conn, receiver, grouping, committed, &writer_health))?;
        Ok(Self { sender, health })
    }

    /// Runs `op` in the next batch and waits for its commit; fails at once, without
    /// queueing, while writes are refused or a thread is stuck (see the `health` module).
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        if let Some(unhealthy) = self.health.refusing() {
            return Err(unhealthy.into());
        }
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            let ran_it = conn.is_some();
            let result = conn.map_or(Err(DbError::WriterStopped), op);
            let ran = match &result {
                Ok(_) => Ran::Ok,
                Err(error) => Ran::Failed { fault: error.storage_fault() },
            };
            let completion: Completion = Box::new(move |commit| {
                // A write's own error says more than the rollback it caused; without a
                // connection, the BEGIN error is all there is.
                let answer = match (result, commit) {
                    (Err(error), _) if ran_it => Err(error),
                    (_, Err(why)) => Err(DbError::Commit(why)),
                    (result, Ok(())) => result,
                };
                let _ = reply.send(answer);
            });
            (ran, completion)
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
    committed: mpsc::Sender<Committed>,
    health: &Health,
) {
    // Whether the last transaction had company: lingering only pays when writes arrive
    // together; a lone caller writing one thing after another would only be slowed.
    let mut crowded = false;
    let mut group = 0u64;
    while let Ok(first) = receiver.recv() {
        // Timed from here: waiting for another process's write lock counts as a stall.
        let _busy = health.writer.time();
        group += 1;
        let began = match health.refusal() {
            Some(refusal) => Err(refusal.to_string()),
            None => statement(&conn, "BEGIN IMMEDIATE").map_err(|error| {
                if let Some(fault) = crate::health::storage_fault(&error) {
                    health.failed(group, fault);
                }
                error.to_string()
            }),
        };
        if let Err(message) = began {
            if !conn.is_autocommit() {
                let _ = statement(&conn, "ROLLBACK");
            }
            let (_, completion) = first(None);
            completion(Err(message.clone()));
            for work in receiver.try_iter() {
                let (_, completion) = work(None);
                completion(Err(message.clone()));
            }
            continue;
        }
        let opened = Instant::now();
        let changes = conn.total_changes();
        let mut completions = Vec::new();
        let mut spoiled = run_one(&conn, first, &mut completions, health, group);
        // Under load, writes arrive while this one runs: they join the transaction until
        // none comes for `linger`, so that one commit, one fsync and one copy of each
        // touched page serve them all. After a transaction of one write, nothing lingers.
        let mut last_arrival = opened;
        while spoiled.is_none() && completions.len() < grouping.max_batch {
            let work = match receiver.try_recv() {
                Ok(work) => work,
                Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) if !crowded => break,
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
            spoiled = run_one(&conn, work, &mut completions, health, group);
        }
        crowded = completions.len() > 1;
        let wrote = conn.total_changes() != changes;
        let committed_or = match spoiled {
            Some(why) => Err(why),
            None => statement(&conn, "COMMIT").map_err(|error| {
                if let Some(fault) = crate::health::storage_fault(&error) {
                    health.failed(group, fault);
                }
                error.to_string()
            }),
        };
        match committed_or {
            // The sync thread answers once the commit is on disk.
            Ok(()) => {
                if let Err(mpsc::SendError(Committed { completions, .. })) =
                    committed.send(Committed { group, wrote, completions })
                {
                    for completion in completions {
                        completion(Err("the sync thread has stopped".to_owned()));
                    }
                }
            }
            Err(why) => {
                if !conn.is_autocommit() {
                    let _ = statement(&conn, "ROLLBACK");
                }
                for completion in completions {
                    completion(Err(why.clone()));
                }
            }
        }
    }
}

/// Runs one write in the open transaction and keeps its completion. A write that fails
/// before changing anything fails alone (its caller gets its error, the others go on);
/// one that fails after changing rows, or that made SQLite abandon the transaction,
/// spoils the whole transaction, which is then rolled back and fails every write in it.
/// Savepoints would isolate such failures too, but cost a copy of every page each
/// write touches, for every write; failures part-way are I/O-level and rare.
/// A write failing in the storage itself (disk full, I/O) is reported to `health`.
fn run_one(
    conn: &Connection,
    work: Work,
    completions: &mut Vec<Completion>,
    health: &Health,
    group: u64,
) -> Option<String> {
    let before = conn.total_changes();
    // A write that panics loses its caller's answer (the caller is told the writer
    // stopped) but not the writer: its group is rolled back, and the writer goes on.
    let Ok((ran, completion)) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(Some(conn)))) else {
        return Some("a write in the same transaction panicked; nothing of it was kept".to_owned());
    };
    completions.push(completion);
    let fault = match ran {
        Ran::Ok => return None,
        Ran::Failed { fault } => fault,
    };
    if let Some(fault) = &fault {
        health.failed(group, fault.clone());
    }
    if conn.is_autocommit() {
        // SQLite does so after some errors, a full store's among them.
        Some(match fault {
            Some(fault) => format!("SQLite rolled the transaction back after a failed write: {fault}"),
            None => "SQLite rolled the transaction back after a failed write".to_owned(),
        })
    } else if conn.total_changes() != before {
        Some("a write in the same transaction failed part-way; nothing of it was kept".to_owned())
    } else {
        None
    }
}

/// Makes commits durable: syncs the WAL file, checks that the files written are still
/// the ones at their paths, then answers the commits' callers.
struct Syncer {
    /// `None`: the commits were synced by SQLite itself (no WAL). The WAL file is kept
    /// in [`Health`], opened at the start or else at the first sync (SQLite creates it
    /// with the first write).
    wal: Option<PathBuf>,
    /// When the files' paths were last checked (see [`Check::Path`]).
    paths_checked: Option<Instant>,
}

impl Syncer {
    fn run(mut self, to_sync: mpsc::Receiver<Committed>, health: &Health) {
        while let Ok(first) = to_sync.recv() {
            let _busy = health.syncer.time();
            // Every commit made while the last sync ran shares this one.
            let groups: Vec<_> = std::iter::once(first).chain(to_sync.try_iter()).collect();
            let synced = self.sync(health);
            match &synced {
                Ok(()) => {
                    if let Some(group) = groups.iter().filter(|c| c.wrote).map(|c| c.group).max() {
                        health.succeeded(group);
                    }
                }
                // Not refused for good (a file that could not be checked): these groups failed.
                Err(reason) if health.refusal().is_none() => {
                    let last = groups.iter().map(|c| c.group).max().unwrap_or_default();
                    health.failed(last, reason.clone());
                }
                Err(_) => {}
            }
            for completion in groups.into_iter().flat_map(|committed| committed.completions) {
                completion(synced.clone());
            }
        }
    }

    fn sync(&mut self, health: &Health) -> Result<(), String> {
        if let Some(refusal) = health.refusal() {
            return Err(refusal.to_string());
        }
        if let Some(wal) = &self.wal {
            let file = match health.wal() {
                Some(file) => file,
                None => match open_wal(wal) {
                    Ok(file) => health.set_wal(file),
                    Err(error) => {
                        health.refuse(Refusal::SyncFailed);
                        return Err(format!("could not open {} to sync it: {error}", wal.display()));
                    }
                },
            };
            if let Err(error) = file.file().sync_data() {
                health.refuse(Refusal::SyncFailed);
                return Err(format!("fsync of {} failed: {error}", wal.display()));
            }
        }
        // After the sync, before anyone is answered: the database file is still linked;
        // and the paths, the WAL's included, at most every `PATH_CHECK_EVERY`.
        let check = match self.paths_checked {
            Some(at) if at.elapsed() < PATH_CHECK_EVERY => Check::Linked,
            _ => {
                self.paths_checked = Some(Instant::now());
                Check::Path
            }
        };
        health.verify_files(check).map_err(|unhealthy| unhealthy.to_string())
    }
}

/// Opens the WAL to sync it (write access: some systems refuse to sync a file opened
/// read-only).
fn open_wal(wal: &std::path::Path) -> std::io::Result<FileIdentity> {
    FileIdentity::new("WAL file", wal, OpenOptions::new().write(true).open(wal)?)
}

/// Runs a transaction-control statement through the statement cache (parsed once).
fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer on a fresh file with a table `t (v UNIQUE)`; writes that arrive within
    /// 200 ms of each other share a transaction.
    fn writer(dir: &tempfile::TempDir, wal: Option<PathBuf>) -> Writer {
        let path = dir.path().join("w.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (v INTEGER UNIQUE);",
        )
        .unwrap();
        let grouping = Grouping { max_batch: 64, linger: Duration::from_millis(200), max_wait: Duration::from_secs(2) };
        let health = Arc::new(Health::new(FileIdentity::open("database file", &path).unwrap(), Duration::from_secs(5)));
        Writer::start(conn, Some(wal.unwrap_or_else(|| dir.path().join("w.sqlite-wal"))), grouping, health).unwrap()
    }

    fn insert(writer: &Writer, values: &'static [i64]) -> impl Future<Output = Result<(), DbError>> + use<> {
        let writer = writer.clone();
        async move {
            writer
                .write(move |conn| {
                    for v in values {
                        conn.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                    }
                    Ok(())
                })
                .await
        }
    }

    async fn stored(writer: &Writer) -> Vec<i64> {
        writer
            .write(|conn| {
                let mut statement = conn.prepare("SELECT v FROM t ORDER BY v")?;
                Ok(statement.query_map([], |row| row.get(0))?.collect::<Result<Vec<i64>, _>>()?)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_write_failing_before_any_change_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir, None);
        insert(&writer, &[1]).await.unwrap();
        // One group: the middle write's only insert violates the unique constraint.
        let (a, b, c) = tokio::join!(insert(&writer, &[2]), insert(&writer, &[1]), insert(&writer, &[3]));
        assert!(a.is_ok() && c.is_ok(), "{a:?} {c:?}");
        assert!(matches!(b, Err(DbError::Sqlite(_))), "{b:?}");
        assert_eq!(stored(&writer).await, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_write_failing_part_way_fails_its_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir, None);
        insert(&writer, &[1]).await.unwrap();
        // The second write inserts 5, then fails: its 5 must not be kept, so its group
        // is rolled back and each write in it is told so; the others report what
        // happened to them truthfully.
        let (a, b, c) = tokio::join!(insert(&writer, &[2]), insert(&writer, &[5, 1]), insert(&writer, &[3]));
        assert!(b.is_err(), "{b:?}");
        let mut expected = vec![1];
        expected.extend(a.is_ok().then_some(2));
        expected.extend(c.is_ok().then_some(3));
        assert_eq!(stored(&writer).await, expected, "{a:?} {c:?}");
        if let Err(error) = &a {
            assert!(matches!(error, DbError::Commit(why) if why.contains("part-way")), "{error:?}");
        }
        // The next group is unaffected.
        insert(&writer, &[4]).await.unwrap();
    }

    #[tokio::test]
    async fn a_panicking_write_fails_its_group_but_not_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir, None);
        insert(&writer, &[1]).await.unwrap();
        let panicking = writer.clone();
        let (a, b) = tokio::join!(
            insert(&writer, &[2]),
            panicking.write(|conn| -> Result<(), DbError> {
                conn.execute("INSERT INTO t (v) VALUES (9)", [])?;
                panic!("a bug in a write")
            })
        );
        assert!(matches!(b, Err(DbError::WriterStopped)), "{b:?}");
        insert(&writer, &[3]).await.unwrap();
        let expected: Vec<i64> = if a.is_ok() { vec![1, 2, 3] } else { vec![1, 3] };
        assert_eq!(stored(&writer).await, expected, "{a:?}; 9 is never kept");
    }

    #[tokio::test]
    async fn a_failed_sync_fails_its_writes_and_every_later_one() {
        let dir = tempfile::tempdir().unwrap();
        // A WAL path that cannot be opened: the sync after the first commit fails.
        let writer = writer(&dir, Some(dir.path().join("missing").join("w.sqlite-wal")));
        let first = insert(&writer, &[1]).await;
        assert!(matches!(&first, Err(DbError::Commit(why)) if why.contains("could not open")), "{first:?}");
        let later = insert(&writer, &[2]).await;
        assert!(matches!(&later, Err(error) if error.to_string().contains("fsync of the WAL failed")), "{later:?}");
        assert!(writer.health.refusal().is_some(), "health checks see it");
    }
}
