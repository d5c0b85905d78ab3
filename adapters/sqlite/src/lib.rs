//! SQLite storage and scheduler for [callhook]: the embedded default.
//!
//! One file holds the event log (every delivery's exact bytes, its events, their
//! attempts), the folded call and message state, and the job queue. It is created and
//! migrated when opened ([`SqliteStore::open`]), in WAL mode. A write is acknowledged
//! only once its transaction is on disk (the WAL synced with `fdatasync`).
//!
//! Writes go to one dedicated thread that groups the writes arriving together into one
//! transaction (group commit), and a second thread syncs the WAL behind it: under
//! load, many webhooks share one commit and one fsync instead of paying one each, the
//! next group is built while the last one syncs, and the async runtime never blocks on
//! SQLite. The store is also the job queue, and as one [`Store`](callhook::Store) it
//! appends an event and schedules its processing in one transaction (pass the same
//! `Arc` as storage and scheduler). Reads run on a small pool of read connections in
//! tokio's blocking pool, concurrently with writes.
//!
//! Several processes may open the same file (SQLite serializes their writers), but for
//! receivers on several machines use `callhook-postgres`. Nothing is ever deleted from
//! the event log; finished jobs are removed from the queue (the log keeps their story).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use callhook::Receiver;
//! use callhook_sqlite::SqliteStore;
//!
//! let store = Arc::new(SqliteStore::open("callhook.sqlite").await?);
//! let receiver = Receiver::builder().storage(store.clone()).scheduler(store).build()?;
//! # let _ = receiver; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod error;
mod scheduler;
mod schema;
mod storage;
mod store;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Notify;

use crate::error::DbError;
use crate::writer::{Grouping, Writer};

/// How many writes share one transaction at most (the group-commit batch).
pub const DEFAULT_MAX_BATCH: usize = 512;
/// The writer connection's page cache, in KiB.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// How long an open transaction waits for one more write (see [`Options::commit_linger`]).
pub const DEFAULT_COMMIT_LINGER: Duration = Duration::from_micros(200);
/// How long a transaction stays open at most (see [`Options::commit_max_wait`]).
pub const DEFAULT_COMMIT_MAX_WAIT: Duration = Duration::from_millis(2);

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// SQLite refused to open or migrate the file.
    #[error("could not open {path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The writer thread could not be started.
    #[error("could not start the writer thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Options for [`SqliteStore::open_with`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The most writes committed together (default [`DEFAULT_MAX_BATCH`]); `1` gives
    /// one transaction per write, the baseline group commit is measured against (their
    /// WAL syncs are still shared: one sync serves every commit made while it ran).
    pub max_batch: usize,
    /// How long an open transaction waits for one more write before it commits
    /// (default [`DEFAULT_COMMIT_LINGER`]). Under load, writes keep arriving within it
    /// and share one commit. Only after a transaction that had more than one write: a
    /// caller writing one thing after another never waits for it.
    pub commit_linger: Duration,
    /// How long a transaction stays open at most, from its first write (default
    /// [`DEFAULT_COMMIT_MAX_WAIT`]): the most group commit adds to a write's latency.
    pub commit_max_wait: Duration,
    /// How long a connection waits for another process's write lock (default 5 s).
    pub busy_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_batch: DEFAULT_MAX_BATCH,
            commit_linger: DEFAULT_COMMIT_LINGER,
            commit_max_wait: DEFAULT_COMMIT_MAX_WAIT,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl Options {
    /// Sets [`Options::max_batch`] (at least 1).
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    /// Sets [`Options::commit_linger`] and [`Options::commit_max_wait`]: `ZERO` for
    /// both commits whatever is waiting at once, without waiting for more.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = callhook_sqlite::Options::default().commit_grouping(Duration::ZERO, Duration::ZERO);
    /// assert_eq!(options.commit_max_wait, Duration::ZERO);
    /// ```
    pub fn commit_grouping(mut self, linger: Duration, max_wait: Duration) -> Self {
        self.commit_linger = linger;
        self.commit_max_wait = max_wait;
        self
    }
}

/// The event log and job queue in one SQLite file; implements
/// [`Storage`](callhook::Storage) and [`Scheduler`](callhook::Scheduler). Cheap to
/// clone; clones share the writer thread and the read connections.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    options: Options,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    wake: Notify,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the store at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, Options::default()).await
    }

    /// Opens the store at `path` with `options`.
    pub async fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        let opened = {
            let path = path.clone();
            let options = options.clone();
            tokio::task::spawn_blocking(move || -> Result<(Connection, Option<PathBuf>), rusqlite::Error> {
                let mut conn = connect(&path, &options)?;
                schema::migrate(&mut conn)?;
                // The writer touches index pages all over the file (dedupe keys, call
                // ids): a larger cache than the default 2 MiB keeps them in memory.
                conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
                let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    // No WAL (a file system without shared memory, say): commits stay
                    // synchronous=FULL and the sync thread has nothing to add.
                    return Ok((conn, None));
                }
                // The writer's commits skip the fsync: the sync thread does it before
                // any of them is acknowledged (see the `writer` module). The WAL sits
                // next to the file SQLite opened (symbolic links resolved), whose name
                // SQLite tells.
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                let opened = match conn.path() {
                    Some(name) if !name.is_empty() => PathBuf::from(name),
                    _ => std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone()),
                };
                let mut wal = opened.into_os_string();
                wal.push("-wal");
                Ok((conn, Some(wal.into())))
            })
            .await
            .expect("opening does not panic")
        };
        let (conn, wal) = opened.map_err(|source| OpenError::Sqlite { path: path.clone(), source })?;
        let grouping =
            Grouping { max_batch: options.max_batch, linger: options.commit_linger, max_wait: options.commit_max_wait };
        let writer = Writer::start(conn, wal, grouping)?;
        Ok(Self {
            inner: Arc::new(Inner { path, options, writer, readers: Mutex::new(Vec::new()), wake: Notify::new() }),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs a write on the writer thread, committed before it returns.
    async fn write<T, F>(&self, op: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        self.inner.writer.write(op).await
    }

    /// Runs a read on a pooled read connection, off the async runtime.
    async fn read<T, F>(&self, op: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => connect(&inner.path, &inner.options)?,
            };
            let result = op(&conn);
            inner.readers.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await
        .map_err(|e| DbError::Reader(e.to_string()))?
    }
}

fn connect(path: &Path, options: &Options) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(options.busy_timeout)?;
    // WAL: readers never block the writer. FULL: a commit is on disk when it returns
    // (the writer's connection trades it for a sync of its own, off its thread).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Statement journals (a multi-row statement's undo copies) in memory, not in a
    // temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}
