//! PostgreSQL storage and scheduler for [callhook]: several receivers and
//! workers share one database. Works with Supabase (use its direct or session-pooler
//! connection string; TLS is on with the default `tls` feature).
//!
//! Everything lives in tables prefixed `callhook_` in the connection's schema
//! (`search_path`). [`PostgresStore::connect`] applies the versioned migrations it
//! has not seen, under an advisory lock so receivers starting together do not race;
//! with [`Options::migrate`] off it only checks the version and
//! [`PostgresStore::migrate`] applies them explicitly (for deploy pipelines that
//! migrate first).
//!
//! Appends are one transaction: the delivery, its events (insert-if-absent on
//! `(provider, dedupe_key)`), and the folded call and message state, locked row by row
//! in a fixed order so concurrent appends do not deadlock (and are retried if the
//! server still reports one). As a [`Store`](callhook::store::Store), appends that
//! arrive together share one transaction, written with one statement per table (group
//! commit; [`Options::group_commit_writers`]). Jobs are claimed with `FOR UPDATE SKIP LOCKED` and a
//! lease from a sequence: each attempt runs on one worker, and a crashed worker's job
//! is claimed again once its lease has run out. Nothing is ever deleted from the event
//! log; finished jobs are removed from the queue.
//!
//! The store is also a [`Store`](callhook::store::Store): given with `ReceiverBuilder::store`
//! and `Worker::builder_with_store` (as below), an append and the jobs of its new events
//! are written in one transaction, and so are an attempt and the end of its job.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use callhook::Receiver;
//! use callhook_postgres::PostgresStore;
//!
//! let store = Arc::new(PostgresStore::connect(&std::env::var("DATABASE_URL")?).await?);
//! let receiver = Receiver::builder().store(store.clone()).build()?;
//! # let _ = receiver; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod codec;
mod error;
mod listen;
mod scheduler;
mod schema;
mod storage;
mod store;

use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::Notify;
pub use tokio_postgres::Config;

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The connection string is not valid.
    #[error("invalid connection string: {0}")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// The pool could not be built.
    #[error("could not build the connection pool: {0}")]
    Pool(String),
    /// The server refused a connection or a migration.
    #[error("postgres: {0}")]
    Postgres(String),
    /// The database was migrated by a newer callhook.
    #[error("database schema version {found} is newer than this build's {known}")]
    NewerSchema {
        /// The version in the database.
        found: i32,
        /// The newest version this build knows.
        known: i32,
    },
    /// Migrations are off and the database is behind.
    #[error("database schema version {found} is older than {known}; run the migrations")]
    NotMigrated {
        /// The version in the database.
        found: i32,
        /// The version this build needs.
        known: i32,
    },
}

/// Options for [`PostgresStore::connect_with`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The most connections the pool opens (default 16).
    pub pool_size: usize,
    /// Whether connecting applies the migrations (default true).
    pub migrate: bool,
    /// How many transactions write queued appends at once, each taking what has queued
    /// up (group commit), and as many for finished attempts (default 1). One writer
    /// makes the largest batches: on two cores it used about 14% less CPU per webhook
    /// than two, for the same rate, and two receivers sharing a database acknowledged
    /// 14% more (`BENCHMARKS.md`). The cost: a slow batch (one waiting on a lock) holds
    /// up the appends queued behind it, where a second writer would go on. More may pay
    /// where each round trip to the database is long. 0 writes each append in its own
    /// transaction.
    pub group_commit_writers: usize,
    /// Whether the store keeps a connection listening for jobs that other processes
    /// add (`LISTEN`/`NOTIFY`), waking its workers at once (default true). Off, they
    /// find those jobs at their next poll.
    pub listen: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { pool_size: 16, migrate: true, group_commit_writers: 1, listen: true }
    }
}

impl Options {
    /// Sets [`Options::pool_size`] (at least 1).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Sets [`Options::migrate`].
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Sets [`Options::group_commit_writers`].
    pub fn group_commit_writers(mut self, writers: usize) -> Self {
        self.group_commit_writers = writers;
        self
    }

    /// Sets [`Options::listen`].
    pub fn listen(mut self, listen: bool) -> Self {
        self.listen = listen;
        self
    }
}

/// The event log and job queue in PostgreSQL; implements
/// [`EventLog`](callhook::EventLog), [`JobQueue`](callhook::JobQueue) and
/// [`Store`](callhook::store::Store). Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Wakes this process's workers: jobs it added, or (through `listen`) others did.
    wake: Arc<Notify>,
    /// The listening connection's task, stopped with the store.
    listener: Option<tokio::task::AbortHandle>,
    /// Group commit of `append_and_schedule` and `finish_attempt` (absent: one
    /// transaction each).
    appends: Option<batch::GroupCommit<batch::Appends>>,
    finishes: Option<batch::GroupCommit<batch::Finishes>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's configuration holds the password: never print it.
        f.debug_struct("PostgresStore").field("pool_status", &self.inner.pool.status()).finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?sslmode=...`) and
    /// applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, Options::default()).await
    }

    /// Connects to `url` with `options`.
    pub async fn connect_with(url: &str, options: Options) -> Result<Self, ConnectError> {
        let config = Config::from_str(url).map_err(ConnectError::InvalidUrl)?;
        Self::connect_config(config, options).await
    }

    /// Connects with a prepared [`Config`] (e.g. one that sets `search_path` through
    /// [`Config::options`]).
    pub async fn connect_config(config: Config, options: Options) -> Result<Self, ConnectError> {
        let wake = Arc::new(Notify::new());
        // Without a listening connection the store still works, on polls: a failure to
        // listen is logged and retried, never a refusal to connect.
        let listener = if options.listen { Some(listen::start(config.clone(), &wake).await) } else { None };
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = Manager::from_config(config, tls::connector(), manager_config);
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .build()
            .map_err(|e| ConnectError::Pool(e.to_string()))?;
        let writers = options.group_commit_writers;
        let appends = (writers > 0).then(|| batch::GroupCommit::start(pool.clone(), writers));
        let finishes = (writers > 0).then(|| batch::GroupCommit::start(pool.clone(), writers));
        let store = Self { inner: Arc::new(Inner { pool, wake, listener, appends, finishes }) };
        if options.migrate {
            store.migrate().await?;
        }
        let client = store.inner.pool.get().await.map_err(|e| ConnectError::Postgres(e.to_string()))?;
        let found = schema::applied_version(&client).await.unwrap_or(0);
        if found > schema::VERSION {
            return Err(ConnectError::NewerSchema { found, known: schema::VERSION });
        }
        if found < schema::VERSION {
            return Err(ConnectError::NotMigrated { found, known: schema::VERSION });
        }
        Ok(store)
    }

    /// Applies the migrations the database has not seen (what `connect` does unless
    /// [`Options::migrate`] is off). Safe to run from several processes at once.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        let mut client = self.inner.pool.get().await.map_err(|e| ConnectError::Postgres(e.to_string()))?;
        let found = schema::applied_version(&client).await.unwrap_or(0);
        if found > schema::VERSION {
            return Err(ConnectError::NewerSchema { found, known: schema::VERSION });
        }
        schema::migrate(&mut client).await.map_err(|e| ConnectError::Postgres(e.to_string()))
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }
}

#[cfg(feature = "tls")]
mod tls {
    /// TLS with the Mozilla root certificates; `sslmode` in the URL decides whether it
    /// is used (`prefer`, the default, falls back to plain text when the server has no
    /// TLS, as on a local test server).
    pub(crate) type Connector = tokio_postgres_rustls::MakeRustlsConnect;

    pub(crate) fn connector() -> Connector {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_postgres_rustls::MakeRustlsConnect::new(config)
    }
}

#[cfg(not(feature = "tls"))]
mod tls {
    /// Plain text only (the `tls` feature is off).
    pub(crate) type Connector = tokio_postgres::NoTls;

    pub(crate) fn connector() -> Connector {
        tokio_postgres::NoTls
    }
}
