//! The callhook reference server: every provider's webhooks on one axum service, the
//! event log in SQLite (default) or PostgreSQL, a worker processing events, and an admin
//! API. `main.rs` is the command line; this library is what the tests drive.

#![forbid(unsafe_code)]

pub mod actions;
pub mod api;
pub mod config;
pub mod dashboard;
pub mod http_server;
pub mod mounts;
pub mod sample_recordings;
pub mod samples;
pub mod session;
pub mod stats;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use callhook::alert::{JsonWebhookAlert, LogAlert, RateLimitedAlert};
use callhook::recording::http::HttpFetcher;
use callhook::recording::{FileSink, Recordings};
use callhook::verify::Secret;
use callhook::worker::{HandlerError, WorkerBuilder, handler_fn};
use callhook::{EventLog, Receiver, Store, Worker};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::{Config, Database};
use crate::stats::Stats;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The event log.
    pub storage: Arc<dyn EventLog>,
    /// The worker (for reprocessing and the live stream).
    pub worker: Worker,
    /// The admin API's token; `None` turns the API off.
    pub admin_token: Option<Secret>,
    /// The Prometheus recorder's handle, when one is installed.
    pub metrics: Option<PrometheusHandle>,
    /// The dashboard's request counters and recent alerts.
    pub stats: Stats,
    /// Whether the session cookie is marked `Secure` (the public URL is `https`).
    pub secure_cookies: bool,
    /// How long `/healthz` waits for the storage check (`CALLHOOK_STORAGE_TIMEOUT`).
    pub storage_timeout: std::time::Duration,
}

impl AppState {
    /// The state for `storage` and `worker`, with the token and counters of `config`.
    pub fn new(
        config: &Config,
        storage: Arc<dyn EventLog>,
        worker: Worker,
        metrics: Option<PrometheusHandle>,
        stats: Stats,
    ) -> Self {
        let secure_cookies = config.public_url.as_deref().is_some_and(|url| url.starts_with("https://"));
        Self {
            storage,
            worker,
            admin_token: config.admin_token.clone(),
            metrics,
            stats,
            secure_cookies,
            storage_timeout: config.storage_timeout,
        }
    }
}

/// Opens the configured store, the event log and job queue in one database (SQLite
/// counts a writer stuck longer than the storage timeout as stalled).
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, String> {
    match &config.database {
        Database::Sqlite(path) => {
            let options = callhook_sqlite::Options::default().stall_timeout(config.storage_timeout);
            let store =
                Arc::new(callhook_sqlite::SqliteStore::open_with(path, options).await.map_err(|e| e.to_string())?);
            Ok(store)
        }
        Database::Postgres(url) => {
            Ok(Arc::new(callhook_postgres::PostgresStore::connect(url).await.map_err(|e| e.to_string())?))
        }
    }
}

const ALERT_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
/// How many events the worker processes at once.
const WORKER_CONCURRENCY: usize = 8;
/// How many fresh events may wait in memory for the worker, leased to this process.
/// Beyond the handler slots: a job waiting here costs no claim; if the process dies,
/// they are claimed again once their lease runs out.
pub const HANDOFF_ROOM: usize = 1024;
/// How long a claimed (or handed-over) job is the worker's before another may run it.
const WORKER_LEASE: std::time::Duration = std::time::Duration::from_secs(300);

/// Recording retrieval into `CALLHOOK_RECORDINGS_DIR`, from each provider's storage
/// hosts, `CALLHOOK_RECORDING_HOSTS`, and this server's own sample recordings.
pub fn recordings(config: &Config) -> Result<Recordings, String> {
    let mut fetcher = HttpFetcher::builder().allow_url_prefix(sample_recordings::base_url(config));
    for host in &config.recording_hosts {
        fetcher = fetcher.allow_insecure_host(host.clone());
    }
    for (registration, settings) in &config.providers {
        // Accounts on paths of their own download their recordings with their own
        // credentials too.
        let own = config.own_path_accounts.iter().filter(|(own, ..)| own.id == registration.id);
        let settings = own.fold(settings.clone(), |all, (_, id, account)| all.account(id.clone(), account.clone()));
        if let Some(credentials) = (registration.recordings.credentials)(&settings) {
            fetcher = fetcher.credentials(registration.id.clone(), credentials);
        }
    }
    let fetcher = fetcher.build().map_err(|e| e.to_string())?;
    Ok(Recordings::new(fetcher, FileSink::new(config.recordings_dir.clone())))
}

/// The worker's builder: logs each event it processes (a real CRM adds its handler
/// here) and retrieves recordings. Alerts go to `CALLHOOK_ALERT_WEBHOOK_URL` (or the log)
/// and are listed in `stats`.
pub fn worker_builder(
    config: &Config,
    receiver: &Receiver,
    store: Arc<dyn Store>,
    stats: &Stats,
) -> Result<WorkerBuilder, String> {
    // At most 10 alerts a minute; a storm of failures becomes one summary.
    let builder = Worker::builder_with_store(store).concurrency(WORKER_CONCURRENCY).lease(WORKER_LEASE);
    let builder = match &config.alert_webhook_url {
        Some(url) => {
            let sink = JsonWebhookAlert::new(url.expose()).map_err(|e| e.to_string())?;
            builder.alert(RateLimitedAlert::new(stats.recording(sink), 10, ALERT_WINDOW))
        }
        None => builder.alert(RateLimitedAlert::new(stats.recording(LogAlert), 10, ALERT_WINDOW)),
    };
    Ok(builder.recordings(recordings(config)?).providers(receiver.providers()).handler(handler_fn(
        |detail: callhook::event_log::EventDetail| async move {
            let event = &detail.event;
            tracing::info!(id = %event.id, provider = %event.provider, event_type = %event.event_type, "processed");
            Ok::<_, HandlerError>(())
        },
    )))
}

/// The whole HTTP application: webhooks, dashboard, admin API, health and metrics.
///
/// Health: `GET /livez` answers `200` while the process serves HTTP (liveness: restart
/// it when this fails); `GET /healthz` (or `/readyz`) answers `200` only while storage
/// can durably accept writes, checked within the storage timeout, and `503` with the
/// reason otherwise (readiness: send it no webhooks while this fails).
pub fn app(receiver: Receiver, state: AppState, trust_forwarded_headers: bool) -> Router {
    app_with(receiver, state, callhook_axum::Options::default().trust_forwarded_headers(trust_forwarded_headers))
}

/// [`app`] with the webhook adapter's options (body timeout, forwarded headers).
pub fn app_with(receiver: Receiver, state: AppState, options: callhook_axum::Options) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/healthz", get(healthz))
        .route("/readyz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state.clone())
        .merge(dashboard::router(state.clone()))
        .merge(sample_recordings::router())
        .merge(api::router(state))
        .merge(callhook_axum::router_with(receiver, options))
}

async fn livez() -> &'static str {
    "ok"
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let why = match tokio::time::timeout(state.storage_timeout, state.storage.ping()).await {
        Ok(Ok(())) => return (StatusCode::OK, "ok".to_owned()),
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("storage unavailable: the check took longer than {:?}", state.storage_timeout),
    };
    tracing::error!(reason = %why, "health check failed");
    (StatusCode::SERVICE_UNAVAILABLE, why)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match &state.metrics {
        Some(handle) => ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response(),
        None => (StatusCode::NOT_FOUND, "no metrics recorder installed").into_response(),
    }
}

/// Serves `config` on `listener` until `shutdown` completes, with a worker beside it;
/// then stops accepting, finishes in-flight requests and jobs, and returns.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    metrics: Option<PrometheusHandle>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    serve_with(config, listener, metrics, |worker| worker, shutdown).await
}

/// [`serve`], with `customize` applied to the worker's builder (your own handler
/// after the server's logging one, another retry policy).
pub async fn serve_with(
    config: Config,
    listener: tokio::net::TcpListener,
    metrics: Option<PrometheusHandle>,
    customize: impl FnOnce(WorkerBuilder) -> WorkerBuilder,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let store = open_store(&config).await?;
    let stats = Stats::new();
    let (builder, report) = mounts::builder(&config);
    // Fresh events go straight to this process's worker, leased in their append.
    let (handoff, handed_off) = callhook::handoff::channel(HANDOFF_ROOM, WORKER_LEASE);
    let receiver =
        builder.store(store.clone()).handoff(handoff).observer(stats.clone()).build().map_err(|e| e.to_string())?;
    for line in &report {
        tracing::info!("{line}");
    }
    if config.admin_token.is_none() {
        tracing::warn!("CALLHOOK_ADMIN_TOKEN is not set: the admin API is off");
    }
    let worker = customize(worker_builder(&config, &receiver, store.clone(), &stats)?.handed_off(handed_off)).build();
    let recovered = worker.recover().await.map_err(|e| e.to_string())?;
    if recovered > 0 {
        tracing::info!(recovered, "scheduled pending events that had no job");
    }
    let state = AppState::new(&config, store, worker.clone(), metrics, stats);
    let options = callhook_axum::Options::default()
        .trust_forwarded_headers(config.trust_forwarded_headers)
        .body_timeout(config.body_timeout);
    let app = app_with(receiver, state, options);

    let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        worker
            .run(async {
                let _ = worker_stopped.await;
            })
            .await
    });
    tracing::info!(address = %listener.local_addr().map_err(|e| e.to_string())?, "listening");
    let served = http_server::serve(listener, app, config.header_timeout, shutdown).await;
    // HTTP is drained; now let the worker finish the jobs it started.
    let _ = stop_worker.send(());
    let _ = running.await;
    served.map_err(|e| e.to_string())
}

/// Runs only the worker (no HTTP), until `shutdown`: for receivers that cannot process
/// (AWS Lambda) writing to the same PostgreSQL database.
pub async fn work(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), String> {
    let store = open_store(&config).await?;
    let receiver = mounts::builder(&config).0.store(store.clone()).build().map_err(|e| e.to_string())?;
    let worker = worker_builder(&config, &receiver, store, &Stats::new())?.build();
    worker.recover().await.map_err(|e| e.to_string())?;
    tracing::info!("worker only: processing stored events, no HTTP listener");
    worker.run(shutdown).await;
    Ok(())
}
