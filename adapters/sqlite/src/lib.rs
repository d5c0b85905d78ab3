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
//! [`ping`](callhook::EventLog::ping) (a health endpoint's check) says whether the store
//! can durably accept writes now, and writes fail (a webhook gets `503`) rather than
//! pretend: a failed fsync or the database file deleted or replaced while open refuses
//! writes until a restart; a full store or an I/O error fails `ping` until a write
//! succeeds again (`ping` writes a heartbeat row, so a probe can tell); a writer stuck
//! longer than [`Options::stall_timeout`] fails `ping` and new writes at once; and
//! `ping` fails below [`Options::min_free_space`]. [`Options::max_size`] caps the file.
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
//! let receiver = Receiver::builder().store(store.clone()).build()?;
//! # let _ = receiver; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod error;
mod health;
mod identity;
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
use crate::health::Health;
use crate::identity::FileIdentity;
use crate::writer::{Grouping, Writer};

/// How many writes share one transaction at most (the group-commit batch).
pub const DEFAULT_MAX_BATCH: usize = 512;
/// The writer connection's page cache, in KiB.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// How long an open transaction waits for one more write (see [`Options::commit_linger`]).
pub const DEFAULT_COMMIT_LINGER: Duration = Duration::from_micros(200);
/// How long a transaction stays open at most (see [`Options::commit_max_wait`]).
pub const DEFAULT_COMMIT_MAX_WAIT: Duration = Duration::from_millis(2);
/// How long the writer may work on one transaction before the store counts as stalled
/// (see [`Options::stall_timeout`]): 5 s.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The free space below which [`ping`](callhook::EventLog::ping) fails (see
/// [`Options::min_free_space`]): 64 MiB.
pub const DEFAULT_MIN_FREE_SPACE: u64 = 64 * 1024 * 1024;

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
    /// The database file could not be opened to watch it (see [`EventLog::ping`](callhook::EventLog::ping)).
    #[error("could not open {path} to watch it: {source}")]
    Watch {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
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
    /// How long the writer thread may work on one transaction (waiting for the write
    /// lock included), or the sync thread on one sync, before the store counts as
    /// stalled (default [`DEFAULT_STALL_TIMEOUT`]): then `ping` fails at once and new
    /// writes fail at once instead of queueing behind it, until it ends. Also bounds
    /// `ping`'s heartbeat write.
    pub stall_timeout: Duration,
    /// `ping` fails when less than this many bytes are free for the database to grow
    /// into, on its file system or under [`Options::max_size`] (default
    /// [`DEFAULT_MIN_FREE_SPACE`]; `0` turns the check off). Keep it well above the
    /// largest delivery (the receiver's body limit, 1 MiB by default), so the instance
    /// is reported before writes fail.
    pub min_free_space: u64,
    /// The most bytes the database file may hold (SQLite's `max_page_count`; default
    /// `None`: no cap beyond SQLite's own). Writes that would grow it further fail as
    /// full (a webhook then gets `503`); see [`SqliteStore::set_max_size`].
    pub max_size: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_batch: DEFAULT_MAX_BATCH,
            commit_linger: DEFAULT_COMMIT_LINGER,
            commit_max_wait: DEFAULT_COMMIT_MAX_WAIT,
            busy_timeout: Duration::from_secs(5),
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            min_free_space: DEFAULT_MIN_FREE_SPACE,
            max_size: None,
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

    /// Sets [`Options::stall_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = callhook_sqlite::Options::default().stall_timeout(Duration::from_secs(2));
    /// assert_eq!(options.stall_timeout, Duration::from_secs(2));
    /// ```
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// Sets [`Options::min_free_space`], in bytes.
    ///
    /// ```
    /// let options = callhook_sqlite::Options::default().min_free_space(1 << 30); // 1 GiB
    /// assert_eq!(options.min_free_space, 1 << 30);
    /// ```
    pub fn min_free_space(mut self, bytes: u64) -> Self {
        self.min_free_space = bytes;
        self
    }

    /// Sets [`Options::max_size`], in bytes.
    ///
    /// ```
    /// let options = callhook_sqlite::Options::default().max_size(Some(10 << 30)); // 10 GiB
    /// assert_eq!(options.max_size, Some(10 << 30));
    /// ```
    pub fn max_size(mut self, bytes: Option<u64>) -> Self {
        self.max_size = bytes;
        self
    }
}

/// The event log and job queue in one SQLite file; implements
/// [`EventLog`](callhook::EventLog) and [`JobQueue`](callhook::JobQueue). Cheap to
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
    health: Arc<Health>,
    /// SQLite's own `max_page_count`, for a store without a size cap.
    unlimited_pages: u64,
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
            tokio::task::spawn_blocking(move || -> Result<Opened, rusqlite::Error> {
                let mut conn = connect(&path, &options)?;
                schema::migrate(&mut conn)?;
                // The writer touches index pages all over the file (dedupe keys, call
                // ids): a larger cache than the default 2 MiB keeps them in memory.
                conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
                let unlimited_pages = conn.pragma_query_value(None, "max_page_count", |row| row.get::<_, i64>(0))?;
                let unlimited_pages = u64::try_from(unlimited_pages).unwrap_or(u64::MAX);
                health::set_max_pages(&conn, options.max_size, unlimited_pages)?;
                let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    // No WAL (a file system without shared memory, say): commits stay
                    // synchronous=FULL and the sync thread has nothing to add.
                    return Ok(Opened { conn, wal: None, unlimited_pages });
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
                Ok(Opened { conn, wal: Some(wal.into()), unlimited_pages })
            })
            .await
            .expect("opening does not panic")
        };
        let Opened { conn, wal, unlimited_pages } =
            opened.map_err(|source| OpenError::Sqlite { path: path.clone(), source })?;
        // Opened after SQLite did: the file it writes, whose path `ping` and every sync
        // check still names it.
        let db = FileIdentity::open("database file", &path)
            .map_err(|source| OpenError::Watch { path: path.clone(), source })?;
        let health = Arc::new(Health::new(db, options.stall_timeout));
        let grouping =
            Grouping { max_batch: options.max_batch, linger: options.commit_linger, max_wait: options.commit_max_wait };
        let writer = Writer::start(conn, wal, grouping, health.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                options,
                writer,
                health,
                unlimited_pages,
                readers: Mutex::new(Vec::new()),
                wake: Notify::new(),
            }),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Caps the database at `max_size` bytes (`None`: no cap beyond SQLite's own), as
    /// [`Options::max_size`](crate::Options::max_size) does at open; a cap below the
    /// current size holds the file at its current size. Writes the heartbeat in the same
    /// transaction, so a store that was failing as full is healthy again once this
    /// commits.
    ///
    /// ```no_run
    /// # async fn run(store: callhook_sqlite::SqliteStore) -> Result<(), callhook::event_log::EventLogError> {
    /// store.set_max_size(Some(8 << 30)).await?; // 8 GiB
    /// # Ok(()) }
    /// ```
    pub async fn set_max_size(&self, max_size: Option<u64>) -> Result<(), callhook::event_log::EventLogError> {
        let unlimited = self.inner.unlimited_pages;
        Ok(self
            .write(move |conn| {
                health::set_max_pages(conn, max_size, unlimited)?;
                health::heartbeat(conn).map(drop)
            })
            .await?)
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

/// What opening gives the writer: its connection, its WAL, SQLite's own page limit.
struct Opened {
    conn: Connection,
    wal: Option<PathBuf>,
    unlimited_pages: u64,
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
