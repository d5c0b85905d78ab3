//! `callhook-load bench`: for each store, a fresh server child and database, flat out
//! for the phase's duration (the maximum acknowledged rate), then a fresh server again
//! at half that rate (the latency at a load the server carries). Prints each phase's
//! figures and a markdown table. The noop and naive baselines run in the same
//! invocation; the load generator runs on one thread of the same two cores.
//!
//! Defaults: 256 connections (fewer leave a durable store idle between commits: each
//! connection waits for its answer, so the rate is connections / latency), and the
//! worker at concurrency 64 (its handler does nothing, so this measures what the store
//! lets the worker do; the reference server's default of 8 suits real handlers). After
//! a flat-out phase, the bench waits for the backlog to be processed and reports the
//! end-to-end rate: acknowledging is not processing.
//!
//! With PostgreSQL, a last pair of phases runs two receiver processes on one database
//! (one schema), the connections split between them: their combined rate, and each
//! one's CPU (on two cores they cannot double the rate; the CPU shows where it goes).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::args::Args;
use crate::load::{self, LoadOptions, LoadReport};
use crate::serve::{ServeOptions, StoreKind};
use crate::server::{self, ServerProcess};
use crate::workload::{self, Mix};
use crate::{pg, request_budget};

/// The server options the bench uses: the reference server's worker settings
/// (concurrency 8, 5-minute lease; the bench sets its own concurrency), no effects
/// recorded.
pub fn serve_options(
    store: StoreKind,
    db: String,
    pg_schema: Option<String>,
    listen: std::net::SocketAddr,
) -> ServeOptions {
    ServeOptions {
        store,
        db,
        pg_schema,
        listen,
        effects: None,
        worker: true,
        concurrency: 8,
        outcome_writes: 1024,
        handoff: true,
        lease: Duration::from_secs(300),
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        exit_on_stdin_eof: true,
        recover_every: None,
    }
}

struct Phase {
    store: StoreKind,
    /// How many receiver processes shared the database.
    receivers: usize,
    max: LoadReport,
    /// What the worker got done in the flat-out phase (stores that keep events, worker on).
    processing: Option<Processing>,
    half: LoadReport,
}

/// The worker's side of a flat-out phase: acknowledging is not processing.
struct Processing {
    /// Events stored during the phase, and processed by its end.
    stored: u64,
    processed_by_end: u64,
    /// How long after the phase the last pending event was processed (`None`: not
    /// within the drain timeout).
    drained_after: Option<Duration>,
    phase: Duration,
}

impl Processing {
    /// Events processed per second from the phase's start until the backlog was gone.
    fn end_to_end_rate(&self) -> Option<f64> {
        self.drained_after.map(|drain| self.stored as f64 / (self.phase + drain).as_secs_f64())
    }

    fn summary(&self) -> String {
        let drained = match (self.drained_after, self.end_to_end_rate()) {
            (Some(drain), Some(rate)) => {
                format!("the rest {:.1} s after it: {rate:.0} events/s end to end", drain.as_secs_f64())
            }
            _ => "the rest not within the drain timeout".to_owned(),
        };
        format!(
            "  worker: {} of {} events processed by the end of the phase, {drained}",
            self.processed_by_end, self.stored
        )
    }
}

/// `(all events, done)` in the store: done is processed or failed for good, anything
/// not pending.
async fn tally(storage: &dyn callhook::EventLog) -> Result<(u64, u64), String> {
    let counts = storage.event_counts(&callhook::event_log::EventFilter::default()).await.map_err(|e| e.to_string())?;
    let total = counts.iter().map(|c| c.count).sum();
    let done = counts.iter().filter(|c| c.status != callhook::event_log::EventStatus::Pending).map(|c| c.count).sum();
    Ok((total, done))
}

const DRAIN_TIMEOUT: Duration = Duration::from_secs(300);

struct Settings {
    duration: Duration,
    warmup: Duration,
    mix: Mix,
    connections: usize,
    worker: bool,
    worker_concurrency: usize,
    /// How long to wait for a quiet machine before each phase.
    patience: Duration,
}

/// Runs the bench.
pub async fn main(mut args: Args) -> Result<(), String> {
    let short = args.flag("short");
    let duration = Duration::from_secs_f64(args.parsed("duration")?.unwrap_or(if short { 2.0 } else { 10.0 }));
    let mix = Mix::parse(&args.value("mix")?.unwrap_or_else(|| "single".into()))?;
    let connections = args.parsed("connections")?.unwrap_or(256);
    let worker = !args.flag("no-worker");
    let worker_concurrency = args.parsed("worker-concurrency")?.unwrap_or(64);
    let keep = args.flag("keep");
    let patience = Duration::from_secs_f64(args.parsed("wait-quiet")?.unwrap_or(0.0));
    let postgres = pg::test_url();
    let stores: Vec<StoreKind> = match args.value("stores")? {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => {
            let mut stores = vec![StoreKind::Noop, StoreKind::Naive, StoreKind::Sqlite];
            if postgres.is_some() {
                stores.push(StoreKind::Postgres);
            } else {
                eprintln!("note: CALLHOOK_TEST_POSTGRES_URL is not set: PostgreSQL is not measured");
            }
            stores
        }
    };
    args.finish()?;
    let settings = Settings {
        duration,
        warmup: Duration::from_secs_f64(if short { 0.5 } else { 1.0 }),
        mix,
        connections,
        worker,
        worker_concurrency,
        patience,
    };
    let dir = server::run_dir(None, "bench")?;
    let mut phases = Vec::new();
    // Two receivers on one database, after the single ones.
    let shared = stores.contains(&StoreKind::Postgres).then_some((StoreKind::Postgres, 2));
    for (store, receivers) in stores.into_iter().map(|store| (store, 1)).chain(shared) {
        let name = row_name(store, receivers);
        let (max, processing) = measure(store, receivers, None, &settings, &dir, postgres.as_deref()).await?;
        eprintln!("{name} flat out:\n{}", max.summary());
        if let Some(processing) = &processing {
            eprintln!("{}", processing.summary());
        }
        let half_rate = (max.ack_rate() / 2.0).max(1.0);
        let (half, _) = measure(store, receivers, Some(half_rate), &settings, &dir, postgres.as_deref()).await?;
        eprintln!("{name} at half the maximum:\n{}", half.summary());
        phases.push(Phase { store, receivers, max, processing, half });
    }
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{}", table(&phases, &settings));
    let failed: Vec<String> = phases
        .iter()
        .filter(|p| p.max.sent != p.max.acked || p.half.sent != p.half.acked)
        .map(|p| row_name(p.store, p.receivers))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("requests were refused or unanswered on: {} (see the phases above)", failed.join(", ")))
    }
}

/// A phase's name: the store, and the receivers when more than one.
fn row_name(store: StoreKind, receivers: usize) -> String {
    match receivers {
        1 => store.name().to_owned(),
        n => format!("{} ({n} receivers)", store.name()),
    }
}

async fn measure(
    store: StoreKind,
    receivers: usize,
    rate: Option<f64>,
    settings: &Settings,
    dir: &Path,
    postgres: Option<&str>,
) -> Result<(LoadReport, Option<Processing>), String> {
    let phase = if rate.is_some() { "half" } else { "max" };
    let (db, schema) = match store {
        StoreKind::Postgres => {
            let url = postgres.ok_or("PostgreSQL needs CALLHOOK_TEST_POSTGRES_URL")?;
            (url.to_owned(), Some(format!("loadgen_bench_{}", workload::run_id())))
        }
        _ => (dir.join(format!("{}-{phase}.sqlite", store.name())).display().to_string(), None),
    };
    // One after the other: the first one applies the migrations.
    let mut servers = Vec::with_capacity(receivers);
    for n in 0..receivers {
        let mut options = serve_options(store, db.clone(), schema.clone(), server::free_address()?);
        options.worker = settings.worker;
        options.concurrency = settings.worker_concurrency;
        let log = dir.join(format!("{}-{receivers}x-{phase}-{n}.log", store.name()));
        servers.push(ServerProcess::spawn(&options, &log)?);
    }
    let server = &servers[0];
    // Waiting comes before signing: Retell signatures expire after 5 minutes.
    if !settings.patience.is_zero() {
        let load = crate::cpu::wait_quiet(settings.patience).await;
        if load >= 0.25 {
            eprintln!("note: the machine is still busy ({load:.2} cores) after waiting; measuring anyway");
        }
    }
    let run = workload::run_id();
    let warmup =
        Arc::new(workload::generate(request_budget(None, settings.warmup, None), &settings.mix, &format!("{run}w"), 2));
    let requests = Arc::new(workload::generate(request_budget(rate, settings.duration, None), &settings.mix, &run, 2));
    let base = LoadOptions {
        target: server.address,
        rate: None,
        duration: settings.warmup,
        connections: settings.connections,
        timeout: Duration::from_secs(30),
        server_pid: Some(server.pid()),
        also: servers[1..].iter().map(|other| (other.address, other.pid())).collect(),
    };
    load::run(warmup, base.clone()).await;
    // Flat out with the worker on: also how far processing kept up.
    let watch = if rate.is_none() && settings.worker && store != StoreKind::Noop {
        let storage = crate::check::open_store(store, &db, schema.as_deref()).await?;
        let before = tally(&*storage).await?;
        Some((storage, before))
    } else {
        None
    };
    let report = load::run(requests, LoadOptions { rate, duration: settings.duration, ..base }).await;
    let processing = match watch {
        Some((storage, (stored_before, processed_before))) => {
            let (stored, processed) = tally(&*storage).await?;
            let drained_after = crate::check::wait_processed(&*storage, DRAIN_TIMEOUT).await.ok();
            Some(Processing {
                stored: stored - stored_before,
                processed_by_end: processed.saturating_sub(processed_before),
                drained_after,
                phase: report.elapsed,
            })
        }
        None => None,
    };
    let stopped: Vec<_> = servers.into_iter().map(ServerProcess::stop).collect();
    if let (Some(url), Some(schema)) = (postgres, &schema) {
        drop_schema(url, schema).await;
    }
    stopped.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok((report, processing))
}

async fn drop_schema(url: &str, schema: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(connection);
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
    }
}

/// "share processed by the phase's end / events per second until the backlog was gone".
fn processed(processing: Option<&Processing>) -> String {
    let Some(p) = processing else { return "-".to_owned() };
    let share = if p.stored == 0 { 100.0 } else { 100.0 * p.processed_by_end as f64 / p.stored as f64 };
    match p.end_to_end_rate() {
        Some(rate) => format!("{share:.0}% / {rate:.0}/s"),
        None => format!("{share:.0}% / not drained"),
    }
}

fn table(phases: &[Phase], settings: &Settings) -> String {
    let noop = phases.iter().find(|p| p.store == StoreKind::Noop).map(|p| p.max.ack_rate());
    let mut out = format!(
        "Mix `{}`, {} connections, {:.0} s per phase after a {:.1} s warm-up; worker {} (concurrency {}). \
         Load generator (1 thread) and server share the machine's cores.\n\n",
        if settings.mix == Mix::single() { "single" } else { "custom" },
        settings.connections,
        settings.duration.as_secs_f64(),
        settings.warmup.as_secs_f64(),
        if settings.worker { "on" } else { "off" },
        settings.worker_concurrency,
    );
    out.push_str(
        "| store | max ack/s | vs noop | processed by the end / end to end | p50 / p99 flat out | CPU ms / 1k req flat out | 50% rate | p50 / p99 at 50% | p99 at 50% from due time | CPU ms / 1k req at 50% | non-2xx | other processes |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for phase in phases {
        let ratio = noop.map_or("-".to_owned(), |noop| format!("{:.2}", phase.max.ack_rate() / noop));
        let cpu = |r: &LoadReport| r.server_cpu_per_1000().map_or("-".to_owned(), |c| format!("{c:.0}"));
        let failures = |r: &LoadReport| r.sent - r.acked;
        let other = |a: &LoadReport, b: &LoadReport| match (a.other_load(), b.other_load()) {
            (Some(a), Some(b)) => format!("{:.0}% / {:.0}% of a core", a, b),
            _ => "-".to_owned(),
        };
        out.push_str(&format!(
            "| {} | {:.0} | {} | {} | {:.2} / {:.2} ms | {} | {:.0}/s | {:.2} / {:.2} ms | {:.2} ms | {} | {} | {} |\n",
            row_name(phase.store, phase.receivers),
            phase.max.ack_rate(),
            ratio,
            processed(phase.processing.as_ref()),
            phase.max.service_ms(0.5),
            phase.max.service_ms(0.99),
            cpu(&phase.max),
            phase.half.rate.unwrap_or_default(),
            phase.half.service_ms(0.5),
            phase.half.service_ms(0.99),
            phase.half.corrected_ms(0.99),
            cpu(&phase.half),
            failures(&phase.max) + failures(&phase.half),
            other(&phase.max, &phase.half),
        ));
    }
    out
}
