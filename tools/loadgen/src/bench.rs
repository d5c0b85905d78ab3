//! `callhook-load bench`: for each store, a fresh server child and database, flat out
//! for the phase's duration (the maximum acknowledged rate), then a fresh server again
//! at half that rate (the latency at a load the server carries). Prints each phase's
//! figures and a markdown table. The noop and naive baselines run in the same
//! invocation; the load generator runs on one thread of the same two cores.

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
/// (concurrency 8, 5-minute lease), no effects recorded.
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
        lease: Duration::from_secs(300),
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        exit_on_stdin_eof: true,
        recover_every: None,
    }
}

struct Phase {
    store: StoreKind,
    max: LoadReport,
    half: LoadReport,
}

struct Settings {
    duration: Duration,
    warmup: Duration,
    mix: Mix,
    connections: usize,
    worker: bool,
    /// How long to wait for a quiet machine before each phase.
    patience: Duration,
}

/// Runs the bench.
pub async fn main(mut args: Args) -> Result<(), String> {
    let short = args.flag("short");
    let duration = Duration::from_secs_f64(args.parsed("duration")?.unwrap_or(if short { 2.0 } else { 10.0 }));
    let mix = Mix::parse(&args.value("mix")?.unwrap_or_else(|| "single".into()))?;
    let connections = args.parsed("connections")?.unwrap_or(64);
    let worker = !args.flag("no-worker");
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
        patience,
    };
    let dir = server::run_dir(None, "bench")?;
    let mut phases = Vec::new();
    for store in stores {
        let max = measure(store, None, &settings, &dir, postgres.as_deref()).await?;
        eprintln!("{} flat out:\n{}", store.name(), max.summary());
        let half_rate = (max.ack_rate() / 2.0).max(1.0);
        let half = measure(store, Some(half_rate), &settings, &dir, postgres.as_deref()).await?;
        eprintln!("{} at half the maximum:\n{}", store.name(), half.summary());
        phases.push(Phase { store, max, half });
    }
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{}", table(&phases, &settings));
    let failed: Vec<&str> = phases
        .iter()
        .filter(|p| p.max.sent != p.max.acked || p.half.sent != p.half.acked)
        .map(|p| p.store.name())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("requests were refused or unanswered on: {} (see the phases above)", failed.join(", ")))
    }
}

async fn measure(
    store: StoreKind,
    rate: Option<f64>,
    settings: &Settings,
    dir: &Path,
    postgres: Option<&str>,
) -> Result<LoadReport, String> {
    let phase = if rate.is_some() { "half" } else { "max" };
    let (db, schema) = match store {
        StoreKind::Postgres => {
            let url = postgres.ok_or("PostgreSQL needs CALLHOOK_TEST_POSTGRES_URL")?;
            (url.to_owned(), Some(format!("loadgen_bench_{}", workload::run_id())))
        }
        _ => (dir.join(format!("{}-{phase}.sqlite", store.name())).display().to_string(), None),
    };
    let mut options = serve_options(store, db.clone(), schema.clone(), server::free_address()?);
    options.worker = settings.worker;
    let server = ServerProcess::spawn(&options, &dir.join(format!("{}-{phase}.log", store.name())))?;
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
    };
    load::run(warmup, base.clone()).await;
    let report = load::run(requests, LoadOptions { rate, duration: settings.duration, ..base }).await;
    let stopped = server.stop();
    if let (Some(url), Some(schema)) = (postgres, &schema) {
        drop_schema(url, schema).await;
    }
    stopped?;
    Ok(report)
}

async fn drop_schema(url: &str, schema: &str) {
    if let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(connection);
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
    }
}

fn table(phases: &[Phase], settings: &Settings) -> String {
    let noop = phases.iter().find(|p| p.store == StoreKind::Noop).map(|p| p.max.ack_rate());
    let mut out = format!(
        "Mix `{}`, {} connections, {:.0} s per phase after a {:.1} s warm-up; worker {}. \
         Load generator (1 thread) and server share the machine's cores.\n\n",
        if settings.mix == Mix::single() { "single" } else { "custom" },
        settings.connections,
        settings.duration.as_secs_f64(),
        settings.warmup.as_secs_f64(),
        if settings.worker { "on" } else { "off" },
    );
    out.push_str(
        "| store | max ack/s | vs noop | p50 / p99 flat out | CPU ms / 1k req flat out | 50% rate | p50 / p99 at 50% | p99 at 50% from due time | CPU ms / 1k req at 50% | non-2xx | other processes |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
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
            "| {} | {:.0} | {} | {:.2} / {:.2} ms | {} | {:.0}/s | {:.2} / {:.2} ms | {:.2} ms | {} | {} | {} |\n",
            phase.store.name(),
            phase.max.ack_rate(),
            ratio,
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
