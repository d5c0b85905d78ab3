//! `callhook-load`: load, crash and outage tests of the callhook reference server, over
//! real HTTP on loopback.
//!
//! ```text
//! callhook-load serve  --store sqlite|postgres|noop|naive [--db PATH|URL] [--listen ADDR] [--effects PATH|postgres]
//! callhook-load run    [--target URL | --store KIND] (--rate N | --max) [--duration S] [--mix single|batches|...]
//!                      [--connections 64] [--server-pid PID] [--ack-log callhook-load-acked.tsv]
//! callhook-load bench  [--short] [--duration S] [--stores noop,naive,sqlite,postgres] [--connections 256]
//!                      [--worker-concurrency 64] [--no-worker]
//! callhook-load crash  --store sqlite|postgres [--short] [--kills 3] [--rate N] [--duration S]
//! callhook-load outage [--short] [--rate N] [--duration S] [--stop-mode fast|immediate] [--recover-every S]
//! ```
//!
//! `crash` and `outage` exit non-zero when their check fails. PostgreSQL comes from
//! `CALLHOOK_TEST_POSTGRES_URL` (or `DATABASE_URL`); `outage` starts a throwaway
//! cluster of its own, since it stops and starts it. See `RELIABILITY.md` and
//! `BENCHMARKS.md` at the repository root for what each measures and the figures.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod bench;
mod check;
mod cpu;
mod crash;
mod effects;
mod load;
mod noop;
mod outage;
mod pg;
mod serve;
mod server;
mod workload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::args::Args;
use crate::load::LoadOptions;
use crate::serve::{ServeOptions, StoreKind};
use crate::server::ServerProcess;
use crate::workload::Mix;

const USAGE: &str = "usage: callhook-load serve|run|bench|crash|outage [options] (see the source's module docs)";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let mut args = Args::new(argv.collect());
    let result = match command.as_str() {
        "serve" => ServeOptions::parse(&mut args).and_then(|options| {
            args.finish()?;
            serve::main(options)
        }),
        "run" | "bench" | "crash" | "outage" => client_runtime().and_then(|runtime| {
            runtime.block_on(async {
                match command.as_str() {
                    "run" => run(args).await,
                    "bench" => bench::main(args).await,
                    "crash" => crash::main(args).await,
                    _ => outage::main(args).await,
                }
            })
        }),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The load generator's runtime: one thread, so it takes at most one of the cores it
/// shares with the server.
fn client_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())
}

/// `http://127.0.0.1:3000` (or `127.0.0.1:3000`) as an address.
fn parse_target(target: &str) -> Result<SocketAddr, String> {
    let authority = target.trim_start_matches("http://").trim_end_matches('/');
    authority.parse().map_err(|e| format!("--target {target:?}: expected http://IP:PORT ({e})"))
}

/// How many requests to prepare for a run: the rate times the duration, or flat out a
/// generous guess (`--requests` overrides).
fn request_budget(rate: Option<f64>, duration: Duration, requests: Option<usize>) -> usize {
    requests.unwrap_or_else(|| match rate {
        Some(rate) => (rate * duration.as_secs_f64()).ceil() as usize + 1,
        None => ((45_000.0 * duration.as_secs_f64()) as usize).min(3_000_000),
    })
}

async fn run(mut args: Args) -> Result<(), String> {
    let rate: Option<f64> = args.parsed("rate")?;
    let max = args.flag("max");
    if rate.is_some() == max {
        return Err("run needs exactly one of --rate N and --max".into());
    }
    let duration = Duration::from_secs_f64(args.parsed("duration")?.unwrap_or(10.0));
    let mix = Mix::parse(&args.value("mix")?.unwrap_or_else(|| "single".into()))?;
    let connections = args.parsed("connections")?.unwrap_or(64);
    let timeout = Duration::from_secs_f64(args.parsed("timeout")?.unwrap_or(10.0));
    let ack_log = PathBuf::from(args.value("ack-log")?.unwrap_or_else(|| "callhook-load-acked.tsv".into()));
    let requests: Option<usize> = args.parsed("requests")?;
    let target = args.value("target")?;
    let server_pid: Option<u32> = args.parsed("server-pid")?;
    let store: Option<StoreKind> = args.parsed("store")?;
    let db = args.value("db")?;
    args.finish()?;

    // Without --target, start a server of our own.
    let mut own_server = None;
    let (target, server_pid) = match target {
        Some(target) => (parse_target(&target)?, server_pid),
        None => {
            let store = store.unwrap_or(StoreKind::Sqlite);
            let dir = server::run_dir(None, "run")?;
            let db = match (store, db) {
                (_, Some(db)) => db,
                (StoreKind::Postgres, None) => {
                    pg::test_url().ok_or("--store postgres needs CALLHOOK_TEST_POSTGRES_URL")?
                }
                (_, None) => dir.join("events.sqlite").display().to_string(),
            };
            let schema = (store == StoreKind::Postgres).then(|| format!("loadgen_{}", workload::run_id()));
            let options = bench::serve_options(store, db, schema, server::free_address()?);
            let server = ServerProcess::spawn(&options, &dir.join("server.log"))?;
            eprintln!(
                "started a {} server, pid {}, at {} (files in {})",
                store.name(),
                server.pid(),
                server.address,
                dir.display()
            );
            let started = (server.address, Some(server.pid()));
            own_server = Some(server);
            started
        }
    };

    let count = request_budget(rate, duration, requests);
    eprintln!("preparing {count} signed requests...");
    let prepared = Arc::new(workload::generate(count, &mix, &workload::run_id(), 2));
    let report = load::run(
        prepared.clone(),
        LoadOptions { target, rate, duration, connections, timeout, server_pid, also: Vec::new() },
    )
    .await;
    print!("{}", report.summary());
    report.write_ack_log(&prepared, &ack_log).map_err(|e| format!("{}: {e}", ack_log.display()))?;
    eprintln!("the events of every acknowledged request are in {}", ack_log.display());
    if let Some(server) = own_server {
        server.stop()?;
    }
    Ok(())
}
