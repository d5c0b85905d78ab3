//! `callhook-load serve`: the reference server's HTTP application
//! ([`callhook_server::app_with`] served by [`callhook_server::http_server::serve`], with
//! [`callhook_server::mounts::builder`], every provider
//! mounted with the load generator's secrets, the dashboard's counters observing) and a
//! worker, on a chosen store:
//!
//! - `sqlite`: [`callhook_sqlite::SqliteStore`] as the reference server opens it (group
//!   commit, every acknowledged write synced);
//! - `naive`: the same file store with `max_batch(1)`, one transaction per write: what a
//!   store without group commit costs (its syncs are still shared: the sync thread
//!   serves every commit made while one sync runs);
//! - `postgres`: [`callhook_postgres::PostgresStore`] (pool of 16), in a schema of its own;
//! - `noop`: [`NoopStore`], which keeps nothing: the ceiling.
//!
//! It differs from `callhook-server` only where a test needs it: the worker's handler
//! records its effects when `--effects` is given (see [`crate::effects`]); the lease,
//! concurrency and retry waits are settable so a killed server's jobs come back in
//! seconds; recordings are not fetched (no traffic leaves the machine); logs default
//! to `warn` (`RUST_LOG` overrides), since the reference server's `info` line per
//! request would be measured too. The Prometheus recorder is installed, as in
//! `callhook-server`.
//!
//! When ready it prints `listening <address>` on stdout.

use std::io::Write;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use callhook::alert::{LogAlert, RateLimitedAlert};
use callhook::receiver::ReceiverBuilder;
use callhook::worker::{HandlerError, WorkerBuilder, handler_fn};
use callhook::{EventLog, JobQueue, RetryPolicy, Store, Worker};
use callhook_server::AppState;
use callhook_server::stats::Stats;

use crate::args::Args;
use crate::effects::{Effects, pg_config};
use crate::noop::NoopStore;
use crate::workload::server_config;

/// Which store the server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// SQLite with group commit (the default store).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// Nothing kept.
    Noop,
    /// SQLite, one transaction per write.
    Naive,
}

impl StoreKind {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
            StoreKind::Noop => "noop",
            StoreKind::Naive => "naive",
        }
    }
}

impl FromStr for StoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [StoreKind::Sqlite, StoreKind::Postgres, StoreKind::Noop, StoreKind::Naive]
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| format!("unknown store {s:?}: sqlite, postgres, noop or naive"))
    }
}

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The store.
    pub store: StoreKind,
    /// The SQLite file, or the PostgreSQL URL.
    pub db: String,
    /// The PostgreSQL schema (created if absent).
    pub pg_schema: Option<String>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// `None`: the handler does nothing; a path: effects in that SQLite file;
    /// `postgres`: effects in the store's schema.
    pub effects: Option<String>,
    /// Whether a worker processes events.
    pub worker: bool,
    /// How many jobs the worker runs at once.
    pub concurrency: usize,
    /// How many processed events may wait for their outcome's write at once
    /// (`WorkerBuilder::outcome_writes`).
    pub outcome_writes: usize,
    /// Whether fresh events are handed straight to the worker (`--no-handoff`: every
    /// job is claimed from the store, as before the handoff existed).
    pub handoff: bool,
    /// The worker's lease.
    pub lease: Duration,
    /// Runtime threads.
    pub threads: usize,
    /// Stop gracefully when stdin closes (how the orchestrators stop it).
    pub exit_on_stdin_eof: bool,
    /// How often the worker looks for pending events without a job
    /// ([`callhook::worker::WorkerBuilder::recover_every`]; default 60 s, as in the
    /// reference server).
    pub recover_every: Option<Duration>,
}

impl ServeOptions {
    /// Reads `serve`'s options.
    pub fn parse(args: &mut Args) -> Result<Self, String> {
        let store: StoreKind = args.parsed("store")?.ok_or("serve needs --store sqlite|postgres|noop|naive")?;
        let db = match (store, args.value("db")?) {
            (_, Some(db)) => db,
            (StoreKind::Postgres, None) => std::env::var("CALLHOOK_TEST_POSTGRES_URL")
                .or_else(|_| std::env::var("DATABASE_URL"))
                .map_err(|_| "--store postgres needs --db URL (or CALLHOOK_TEST_POSTGRES_URL)")?,
            (_, None) => "loadgen.sqlite".to_owned(),
        };
        Ok(Self {
            store,
            db,
            pg_schema: args.value("pg-schema")?,
            listen: args.parsed("listen")?.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
            effects: args.value("effects")?,
            worker: !args.flag("no-worker"),
            concurrency: args.parsed("worker-concurrency")?.unwrap_or(8),
            outcome_writes: args.parsed("outcome-writes")?.unwrap_or(1024),
            handoff: !args.flag("no-handoff"),
            lease: Duration::from_secs_f64(args.parsed("lease-secs")?.unwrap_or(300.0)),
            threads: args
                .parsed("threads")?
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
            exit_on_stdin_eof: args.flag("exit-on-stdin-eof"),
            recover_every: args.parsed::<f64>("recover-every")?.map(Duration::from_secs_f64),
        })
    }

    /// The arguments that make a child `serve` with these options.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "serve".to_owned(),
            "--store".into(),
            self.store.name().into(),
            "--db".into(),
            self.db.clone(),
            "--listen".into(),
            self.listen.to_string(),
            "--worker-concurrency".into(),
            self.concurrency.to_string(),
            "--outcome-writes".into(),
            self.outcome_writes.to_string(),
            "--lease-secs".into(),
            self.lease.as_secs_f64().to_string(),
            "--threads".into(),
            self.threads.to_string(),
        ];
        if let Some(schema) = &self.pg_schema {
            args.extend(["--pg-schema".into(), schema.clone()]);
        }
        if let Some(effects) = &self.effects {
            args.extend(["--effects".into(), effects.clone()]);
        }
        if !self.handoff {
            args.push("--no-handoff".into());
        }
        if !self.worker {
            args.push("--no-worker".into());
        }
        if self.exit_on_stdin_eof {
            args.push("--exit-on-stdin-eof".into());
        }
        if let Some(every) = self.recover_every {
            args.extend(["--recover-every".into(), every.as_secs_f64().to_string()]);
        }
        args
    }
}

/// Creates `schema` if absent.
pub async fn create_schema(url: &str, schema: &str) -> Result<(), String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await.map_err(|e| e.to_string())
}

/// The backend a run serves from: the noop pair, or one database as both event log and
/// job queue.
enum Stores {
    Separate(Arc<dyn EventLog>, Arc<dyn JobQueue>),
    Combined(Arc<dyn Store>),
}

impl Stores {
    fn event_log(&self) -> Arc<dyn EventLog> {
        match self {
            Stores::Separate(storage, _) => storage.clone(),
            Stores::Combined(store) => store.clone(),
        }
    }

    fn receiver(&self, builder: ReceiverBuilder) -> ReceiverBuilder {
        match self {
            Stores::Separate(storage, scheduler) => builder.event_log(storage.clone()).job_queue(scheduler.clone()),
            Stores::Combined(store) => builder.store(store.clone()),
        }
    }

    fn worker(&self) -> WorkerBuilder {
        match self {
            Stores::Separate(storage, scheduler) => Worker::builder(storage.clone(), scheduler.clone()),
            Stores::Combined(store) => Worker::builder_with_store(store.clone()),
        }
    }
}

async fn open(options: &ServeOptions) -> Result<Stores, String> {
    Ok(match options.store {
        StoreKind::Noop => {
            let store = Arc::new(NoopStore::default());
            Stores::Separate(store.clone(), store)
        }
        StoreKind::Sqlite | StoreKind::Naive => {
            let mut sqlite = callhook_sqlite::Options::default();
            if options.store == StoreKind::Naive {
                sqlite = sqlite.max_batch(1);
            }
            let store = Arc::new(
                callhook_sqlite::SqliteStore::open_with(&options.db, sqlite).await.map_err(|e| e.to_string())?,
            );
            Stores::Combined(store)
        }
        StoreKind::Postgres => {
            let config = match &options.pg_schema {
                Some(schema) => {
                    create_schema(&options.db, schema).await?;
                    pg_config(&options.db, schema)?
                }
                None => options.db.parse().map_err(|e| format!("invalid PostgreSQL URL: {e}"))?,
            };
            let store = callhook_postgres::PostgresStore::connect_config(config, callhook_postgres::Options::default())
                .await
                .map_err(|e| e.to_string())?;
            Stores::Combined(Arc::new(store))
        }
    })
}

async fn effects(options: &ServeOptions) -> Result<Option<Effects>, String> {
    match options.effects.as_deref() {
        None | Some("none") => Ok(None),
        Some("postgres") => {
            let schema = options.pg_schema.as_deref().unwrap_or("public");
            Ok(Some(Effects::postgres(&options.db, schema).await?))
        }
        Some(path) => Ok(Some(Effects::sqlite(std::path::Path::new(path))?)),
    }
}

/// Runs the server until Ctrl-C (or stdin closing, with `--exit-on-stdin-eof`).
pub fn main(options: ServeOptions) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = runtime.block_on(serve(options));
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn serve(options: ServeOptions) -> Result<(), String> {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("metrics recorder: {e}"))?;
    let listener =
        tokio::net::TcpListener::bind(options.listen).await.map_err(|e| format!("bind {}: {e}", options.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let config = server_config(address, &options.db);
    let stores = open(&options).await?;
    // As `callhook_server::serve_with` assembles it, minus recordings.
    let stats = Stats::new();
    let (builder, _) = callhook_server::mounts::builder(&config);
    // Fresh events go straight to the worker (with a store; the naive and noop pairs
    // have none and ignore it).
    let (handoff, handed_off) = callhook::handoff::channel(callhook_server::HANDOFF_ROOM, options.lease);
    let builder = if options.handoff && options.worker { builder.handoff(handoff) } else { builder };
    let receiver = stores.receiver(builder).observer(stats.clone()).build().map_err(|e| e.to_string())?;
    let effects = effects(&options).await?;
    let worker = stores
        .worker()
        .alert(RateLimitedAlert::new(stats.recording(LogAlert), 10, Duration::from_secs(60)))
        .providers(receiver.providers())
        .concurrency(options.concurrency)
        .outcome_writes(options.outcome_writes)
        .handed_off(handed_off)
        .lease(options.lease)
        .handler_timeout((options.lease / 3).clamp(Duration::from_millis(100), Duration::from_secs(60)))
        .retry_policy(RetryPolicy::new(Duration::from_millis(500)).max_delay(Duration::from_secs(5)))
        .recover_every(Some(options.recover_every.unwrap_or(Duration::from_secs(60))))
        .handler(handler_fn(move |detail: callhook::event_log::EventDetail| {
            let effects = effects.clone();
            async move {
                match effects {
                    Some(effects) => effects.record(&detail).await,
                    None => Ok::<_, HandlerError>(()),
                }
            }
        }))
        .build();
    if options.worker {
        worker.recover().await.map_err(|e| e.to_string())?;
    }
    let state = AppState::new(&config, stores.event_log(), worker.clone(), Some(metrics), stats);
    let adapter = callhook_axum::Options::default().body_timeout(config.body_timeout);
    let app = callhook_server::app_with(receiver, state, adapter);

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = options.worker.then(|| {
        let worker = worker.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            worker
                .run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    });
    println!("listening {address}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let exit_on_eof = options.exit_on_stdin_eof;
    let shutdown = async move {
        let eof = async {
            if exit_on_eof {
                let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
                    let _ = closed.send(());
                });
                let _ = on_close.await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = eof => {},
        }
    };
    let served = callhook_server::http_server::serve(listener, app, config.header_timeout, shutdown).await;
    let _ = stop.send(true);
    if let Some(running) = running {
        let _ = running.await;
    }
    served.map_err(|e| e.to_string())
}
