//! `callhook-load crash`: kill the server with SIGKILL under load, several times,
//! restart it on the same database each time, then check that nothing acknowledged was
//! lost and every stored event was processed (see [`crate::check`]).
//!
//! The server runs with its handler recording effects, a worker concurrency of 32 and
//! a 3-second lease (so jobs a killed server had claimed are claimed again 3 s after
//! the restart). It keeps its port across restarts; the load generator reconnects.
//! A handler that ran but whose success the killed server had not yet recorded runs
//! again: such events are reported apart. At most the jobs running their handlers (the
//! worker concurrency, 32) and those waiting for their outcome's write (32 here,
//! `--outcome-writes`) can be caught that way per kill, so more than `kills x 64`
//! re-run events fails the check too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::bench::serve_options;
use crate::check;
use crate::effects::EffectsSource;
use crate::load::{self, LoadOptions};
use crate::serve::StoreKind;
use crate::server::{self, ServerProcess};
use crate::workload::{self, Mix};
use crate::{pg, request_budget};

const CONCURRENCY: usize = 32;
const LEASE: Duration = Duration::from_secs(3);

/// Runs the crash test.
pub async fn main(mut args: Args) -> Result<(), String> {
    let short = args.flag("short");
    let store: StoreKind = args.parsed("store")?.ok_or("crash needs --store sqlite|postgres")?;
    let kills: u32 = args.parsed("kills")?.unwrap_or(3);
    // Below each store's maximum on this 2-core machine (BENCHMARKS.md), so the server
    // is loaded but keeps up between kills.
    let default_rate = if store == StoreKind::Postgres { 500.0 } else { 2000.0 };
    let rate: f64 = args.parsed("rate")?.unwrap_or(default_rate);
    let duration = Duration::from_secs_f64(args.parsed("duration")?.unwrap_or(if short { 6.0 } else { 20.0 }));
    let mix = Mix::parse(&args.value("mix")?.unwrap_or_else(|| "batches".into()))?;
    let keep = args.flag("keep");
    args.finish()?;

    let dir = server::run_dir(None, "crash")?;
    let (db, schema, effects) = match store {
        StoreKind::Sqlite => {
            let effects = dir.join("effects.sqlite");
            (dir.join("events.sqlite").display().to_string(), None, EffectsSource::Sqlite(effects))
        }
        StoreKind::Postgres => {
            let url = pg::test_url().ok_or("crash --store postgres needs CALLHOOK_TEST_POSTGRES_URL")?;
            let schema = format!("loadgen_crash_{}", workload::run_id());
            (url.clone(), Some(schema.clone()), EffectsSource::Postgres { url, schema })
        }
        other => return Err(format!("crash runs on sqlite or postgres, not {}", other.name())),
    };
    let mut options = serve_options(store, db.clone(), schema.clone(), server::free_address()?);
    options.effects = Some(match &effects {
        EffectsSource::Sqlite(path) => path.display().to_string(),
        EffectsSource::Postgres { .. } => "postgres".into(),
    });
    options.concurrency = CONCURRENCY;
    options.outcome_writes = CONCURRENCY;
    options.lease = LEASE;
    let log = dir.join("server.log");
    println!(
        "crash test: {} store, {rate:.0} req/s for {:.0} s, {kills} SIGKILLs; files in {}",
        store.name(),
        duration.as_secs_f64(),
        dir.display()
    );
    let server = ServerProcess::spawn(&options, &log)?;
    let requests =
        Arc::new(workload::generate(request_budget(Some(rate), duration, None), &mix, &workload::run_id(), 2));

    // The killer works with blocking calls (spawning, waiting for the port), so on a
    // thread of its own, beside the load generator's runtime.
    let killer_options = options.clone();
    let killer_log = log.clone();
    let start = Instant::now();
    let killer = std::thread::spawn(move || -> Result<(ServerProcess, Vec<String>), String> {
        let mut server = server;
        let mut notes = Vec::new();
        for kill in 1..=kills {
            let at =
                duration.mul_f64(f64::from(kill) / f64::from(kills + 1)) + Duration::from_millis(fastrand::u64(0..300));
            std::thread::sleep(at.saturating_sub(start.elapsed()));
            let pid = server.pid();
            server.kill();
            let killed = start.elapsed();
            std::thread::sleep(Duration::from_millis(200));
            server = ServerProcess::spawn(&killer_options, &killer_log)?;
            notes.push(format!(
                "kill {kill}: SIGKILL to pid {pid} at {:.2} s; back up (pid {}) at {:.2} s",
                killed.as_secs_f64(),
                server.pid(),
                start.elapsed().as_secs_f64()
            ));
        }
        Ok((server, notes))
    });
    let report = load::run(
        requests.clone(),
        LoadOptions {
            target: options.listen,
            rate: Some(rate),
            duration,
            connections: 64,
            timeout: Duration::from_secs(10),
            server_pid: None,
            also: Vec::new(),
        },
    )
    .await;
    let (server, notes) = killer.join().map_err(|_| "the killer thread panicked")??;
    for note in &notes {
        println!("{note}");
    }
    print!("{}", report.summary());

    let ack_log = dir.join("acked.tsv");
    report.write_ack_log(&requests, &ack_log).map_err(|e| format!("{}: {e}", ack_log.display()))?;
    let drain_timeout = Duration::from_secs(if short { 45 } else { 120 });
    let storage = check::open_store(store, &db, schema.as_deref()).await?;
    let drained = check::wait_processed(storage.as_ref(), drain_timeout).await;
    match drained {
        Ok(took) => println!("all stored events processed {:.1} s after the load ended", took.as_secs_f64()),
        Err(pending) => println!("{pending} events still pending {} s after the load ended", drain_timeout.as_secs()),
    }
    server.stop()?;
    let verdict = check::check(storage.as_ref(), &effects, &requests, &report.outcomes).await?;
    let rerun_bound = kills as usize * 2 * CONCURRENCY;
    print!("{}", verdict.summary());
    println!(
        "re-run events {} (bound: {kills} kills x ({CONCURRENCY} handlers + {CONCURRENCY} outcome writes) = {rerun_bound}); \
         the effects table has one row per event (keyed by event id): {}",
        verdict.effected_more,
        if verdict.no_effect == 0 && verdict.orphan_effects == 0 { "yes" } else { "NO" }
    );
    if !keep && verdict.passed() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if verdict.passed() && verdict.effected_more <= rerun_bound && report.acked > 0 {
        println!("CRASH TEST PASSED");
        Ok(())
    } else {
        Err(format!("crash test failed (files kept in {})", dir.display()))
    }
}
