//! What the store knows about its own health, and what [`SqliteStore::ping`] checks:
//! whether storage can durably accept writes now.
//!
//! | condition | noticed by | writes | `ping` | until |
//! |---|---|---|---|---|
//! | an fsync of the WAL failed | the sync thread | refused | fails | the store is reopened |
//! | the database file deleted, or replaced by a rename over it (the file written is unlinked) | the sync thread, after each sync, before anyone is answered; `ping` | refused | fails | the file is restored and the store reopened |
//! | the WAL deleted or replaced, or either file moved away (its path no longer names the file written) | `ping`; the sync thread at most every 10 ms | refused | fails | the same |
//! | a write failed in the storage itself: full (disk or [`Options::max_size`](crate::Options::max_size)), I/O error, read-only, corrupt | the failing write | that group fails | fails | a later group that wrote something commits and syncs (a webhook's, or `ping`'s heartbeat) |
//! | the writer or sync thread on one group for longer than [`Options::stall_timeout`](crate::Options::stall_timeout) (a lock held elsewhere, a frozen disk) | each write, `ping` | fail at once, not queued | fails at once | the group ends |
//! | less than [`Options::min_free_space`](crate::Options::min_free_space) free on the file system, or under `max_size` | `ping` | go on (until they fail as full) | fails | space is freed |
//!
//! Refusals after a failed fsync or a vanished file are for good: what reached the disk
//! after such an event is unknown, or went into a file nobody will open again, so no
//! later write can be trusted to survive either.
//!
//! `ping` performs a real write, a heartbeat row committed and synced like any write, so
//! a probe both sees a failing store and clears the failure once writes work again (a
//! load balancer that took the instance out sends no webhook that could clear it). The
//! heartbeat rewrites one row in place: SQLite reuses its page, so it can succeed while
//! appends, which need new pages, fail as full. It exercises the same path an append
//! does (WAL frames, then an fsync), and room to grow is checked separately, against
//! `min_free_space`; and a write failure seen since the last successful commit fails
//! the probe that comes next even if its heartbeat then succeeds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};

use crate::SqliteStore;
use crate::error::DbError;
use crate::identity::{Check, FileIdentity};

/// Why writes are refused for good.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("an earlier fsync of the WAL failed: writes are refused until the store is reopened")]
    SyncFailed,
    #[error("the {0} was deleted or moved away while open: writes refused; restore it and restart")]
    Deleted(&'static str),
    #[error("the {0} was replaced by another file while open: writes refused; restore it and restart")]
    Replaced(&'static str),
}

/// Why the store is not healthy: what `ping` and refused writes report.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unhealthy {
    #[error("{0}")]
    Refused(Refusal),
    #[error("the {what} for {busy:.1?}, over the stall timeout of {timeout:?}")]
    Stalled { what: &'static str, busy: Duration, timeout: Duration },
    #[error("a write failed since the last successful commit: {0}")]
    WriteFailed(String),
    #[error("{available} bytes free on the database's file system, below the minimum of {minimum}")]
    LowDiskSpace { available: u64, minimum: u64 },
    #[error("{headroom} bytes left under the database's size cap, below the minimum of {minimum}")]
    NearSizeCap { headroom: u64, minimum: u64 },
    #[error("the heartbeat write did not commit within {0:?}")]
    HeartbeatTimeout(Duration),
    #[error("could not check the {file}: {error}")]
    Unverifiable { file: &'static str, error: std::io::Error },
}

/// The health state the writer, the sync thread and `ping` share.
#[derive(Debug)]
pub(crate) struct Health {
    db: FileIdentity,
    /// The WAL, once the sync thread has opened it.
    wal: OnceLock<FileIdentity>,
    refused: OnceLock<Refusal>,
    failing: Mutex<Option<Failure>>,
    stall_timeout: Duration,
    /// Running while the writer thread works on a group (waiting for the lock included).
    pub(crate) writer: Stopwatch,
    /// Running while the sync thread syncs and checks.
    pub(crate) syncer: Stopwatch,
}

/// A write group that failed in the storage itself.
#[derive(Debug)]
struct Failure {
    group: u64,
    reason: String,
}

impl Health {
    /// The health of the store whose database file is `db`.
    pub(crate) fn new(db: FileIdentity, stall_timeout: Duration) -> Self {
        Self {
            db,
            wal: OnceLock::new(),
            refused: OnceLock::new(),
            failing: Mutex::new(None),
            stall_timeout,
            writer: Stopwatch::default(),
            syncer: Stopwatch::default(),
        }
    }

    /// Refuses writes for good (the first reason is kept); logged once.
    pub(crate) fn refuse(&self, refusal: Refusal) {
        if self.refused.set(refusal.clone()).is_ok() {
            tracing::error!(path = %self.db.path().display(), "SQLite store: {refusal}");
        }
    }

    /// Why writes are refused for good, if they are.
    pub(crate) fn refusal(&self) -> Option<&Refusal> {
        self.refused.get()
    }

    /// Why a new write should fail at once rather than wait: refused for good, or a
    /// thread is stuck on one group.
    pub(crate) fn refusing(&self) -> Option<Unhealthy> {
        if let Some(refusal) = self.refusal() {
            return Some(Unhealthy::Refused(refusal.clone()));
        }
        let watches = [
            (&self.writer, "writer thread has been on one transaction"),
            (&self.syncer, "sync thread has been on one sync of the WAL"),
        ];
        watches.into_iter().find_map(|(watch, what)| {
            let busy = watch.busy_for()?;
            (busy > self.stall_timeout).then_some(Unhealthy::Stalled { what, busy, timeout: self.stall_timeout })
        })
    }

    /// Group `group` failed in the storage itself; logged when the store was healthy.
    pub(crate) fn failed(&self, group: u64, reason: String) {
        let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        if failing.is_none() {
            tracing::error!(path = %self.db.path().display(), %reason, "SQLite store: writes are failing");
        }
        *failing = Some(Failure { group, reason });
    }

    /// Group `group`, which wrote something, is committed and synced: failures of
    /// earlier groups are over.
    pub(crate) fn succeeded(&self, group: u64) {
        let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        if failing.as_ref().is_some_and(|failure| failure.group < group) {
            *failing = None;
            tracing::warn!(path = %self.db.path().display(), "SQLite store: writes succeed again");
        }
    }

    /// The last storage failure, unless a write committed since.
    pub(crate) fn failing(&self) -> Option<String> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|failure| failure.reason.clone())
    }

    /// The WAL the sync thread syncs, once opened.
    pub(crate) fn wal(&self) -> Option<&FileIdentity> {
        self.wal.get()
    }

    /// Keeps the WAL the sync thread opened.
    pub(crate) fn set_wal(&self, wal: FileIdentity) -> &FileIdentity {
        self.wal.get_or_init(|| wal)
    }

    /// Checks that the files written are still in place; refuses writes for good when
    /// they are not. [`Check::Linked`]: the database file only (the WAL, which the
    /// writer is appending to, is slower to `fstat` meanwhile: 3–4% of group commit's
    /// throughput when checked after every sync); [`Check::Path`]: both, by path.
    pub(crate) fn verify_files(&self, check: Check) -> Result<(), Unhealthy> {
        self.verify(&self.db, check)?;
        match self.wal.get() {
            Some(wal) if check == Check::Path => self.verify(wal, check),
            _ => Ok(()),
        }
    }

    /// Checks that `file` is still at its path (see [`Check`]); refuses writes for good
    /// when it is not.
    fn verify(&self, file: &FileIdentity, check: Check) -> Result<(), Unhealthy> {
        file.check(check).inspect_err(|unhealthy| {
            if let Unhealthy::Refused(refusal) = unhealthy {
                self.refuse(refusal.clone());
            }
        })
    }

    /// Bytes available to this process on the database's file system (`None` where it
    /// cannot be told).
    pub(crate) fn available_space(&self) -> Option<u64> {
        self.db.available_space()
    }
}

/// Measures how long a thread has been on its current piece of work.
#[derive(Debug)]
pub(crate) struct Stopwatch {
    base: Instant,
    /// Nanoseconds from `base` to the start of the current work, plus one; 0 when idle.
    since: AtomicU64,
}

impl Default for Stopwatch {
    fn default() -> Self {
        Self { base: Instant::now(), since: AtomicU64::new(0) }
    }
}

impl Stopwatch {
    /// Starts timing; stops when the guard is dropped.
    pub(crate) fn time(&self) -> Timing<'_> {
        let now = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.since.store(now + 1, Ordering::Release);
        Timing(self)
    }

    /// How long the current work has been going on, if any.
    fn busy_for(&self) -> Option<Duration> {
        let since = self.since.load(Ordering::Acquire).checked_sub(1)?;
        Some(self.base.elapsed().saturating_sub(Duration::from_nanos(since)))
    }
}

/// Stops its [`Stopwatch`] when dropped.
pub(crate) struct Timing<'a>(&'a Stopwatch);

impl Drop for Timing<'_> {
    fn drop(&mut self) {
        self.0.since.store(0, Ordering::Release);
    }
}

/// The reason, when `error` is a failure of the storage itself (full, I/O, read-only,
/// corrupt, cannot open) rather than of one write (a constraint) or of contention (busy).
pub(crate) fn storage_fault(error: &rusqlite::Error) -> Option<String> {
    match error.sqlite_error_code()? {
        ErrorCode::DiskFull
        | ErrorCode::SystemIoFailure
        | ErrorCode::ReadOnly
        | ErrorCode::DatabaseCorrupt
        | ErrorCode::NotADatabase
        | ErrorCode::CannotOpen => Some(error.to_string()),
        _ => None,
    }
}

/// How much the database may still grow, read on the writer's connection (the one
/// whose `max_page_count` caps it).
pub(crate) struct Room {
    page_size: u64,
    pages: u64,
    free_pages: u64,
    max_pages: u64,
}

impl Room {
    fn read(conn: &Connection) -> rusqlite::Result<Self> {
        let pragma = |name: &str| conn.pragma_query_value(None, name, |row| row.get::<_, i64>(0));
        let count = |name: &str| pragma(name).map(|n| u64::try_from(n).unwrap_or(0));
        Ok(Self {
            page_size: count("page_size")?,
            pages: count("page_count")?,
            free_pages: count("freelist_count")?,
            max_pages: count("max_page_count")?,
        })
    }

    fn headroom(&self) -> u64 {
        (self.max_pages.saturating_sub(self.pages) + self.free_pages).saturating_mul(self.page_size)
    }
}

/// `ping`'s write: one row rewritten, committed and synced like every write.
pub(crate) fn heartbeat(conn: &Connection) -> Result<Room, DbError> {
    let at = crate::codec::nanos(time::OffsetDateTime::now_utc());
    conn.prepare_cached("UPDATE heartbeat SET beats = beats + 1, at = ?1 WHERE id = 1")?.execute([at])?;
    Ok(Room::read(conn)?)
}

impl SqliteStore {
    /// `ping`: refusals, stalls, the file's identity, free space, then a heartbeat write
    /// bounded by the stall timeout, and any write failure seen before it.
    pub(crate) async fn check_health(&self) -> Result<(), DbError> {
        let health = &self.inner.health;
        let minimum = self.inner.options.min_free_space;
        if let Some(unhealthy) = health.refusing() {
            return Err(unhealthy.into());
        }
        // `stat` and `statvfs` can block on a hung disk (NFS, a stalled volume): off the
        // runtime, within the stall timeout.
        let timeout = self.inner.options.stall_timeout;
        let inner = self.inner.clone();
        let files = tokio::task::spawn_blocking(move || {
            inner.health.verify_files(Check::Path)?;
            Ok::<_, Unhealthy>(inner.health.available_space())
        });
        let available = match tokio::time::timeout(timeout, files).await {
            Ok(Ok(checked)) => checked?,
            Ok(Err(_)) => return Err(DbError::Reader("the file check panicked".to_owned())),
            Err(_) => return Err(Unhealthy::Stalled { what: "file check", busy: timeout, timeout }.into()),
        };
        if let Some(available) = available
            && available < minimum
        {
            return Err(Unhealthy::LowDiskSpace { available, minimum }.into());
        }
        let failing = health.failing();
        let room = tokio::time::timeout(timeout, self.write(heartbeat))
            .await
            .map_err(|_| Unhealthy::HeartbeatTimeout(timeout))??;
        let headroom = room.headroom();
        if headroom < minimum {
            return Err(Unhealthy::NearSizeCap { headroom, minimum }.into());
        }
        match failing {
            Some(reason) => Err(Unhealthy::WriteFailed(reason).into()),
            None => Ok(()),
        }
    }
}

/// Sets the writer connection's `max_page_count` for a cap of `max_size` bytes.
pub(crate) fn set_max_pages(conn: &Connection, max_size: Option<u64>, unlimited: u64) -> rusqlite::Result<()> {
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |row| row.get(0))?;
    let pages = max_size.map_or(unlimited, |bytes| bytes.div_ceil(page_size.max(1) as u64).max(1));
    conn.pragma_update(None, "max_page_count", i64::try_from(pages).unwrap_or(i64::MAX))
}
