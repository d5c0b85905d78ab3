//! `callhook-load outage`: stop PostgreSQL under load and start it again, with the
//! server left running throughout.
//!
//! A throwaway cluster of our own is started (stopping the one other tests use would
//! break them). Under a steady load, the cluster is stopped (`pg_ctl stop -m fast`, or
//! `--stop-mode immediate`) at a quarter of the run and started again at 55%. The
//! checks, each failing the run:
//!
//! - while it is down, no request is acknowledged whose events are then not stored (in
//!   fact none is acknowledged at all: each needs the database), requests get `503`,
//!   `GET /healthz` answers `503`, and the server process stays up;
//! - once it is back, the server recovers without a restart: `2xx` again and
//!   `/healthz` `200`;
//! - at the end every acknowledged request's events are stored and processed, with
//!   their handler's effect recorded ([`crate::check`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::bench::serve_options;
use crate::check;
use crate::effects::EffectsSource;
use crate::load::{self, LoadOptions};
use crate::pg::Cluster;
use crate::request_budget;
use crate::serve::{StoreKind, create_schema};
use crate::server::{self, ServerProcess};
use crate::workload::{self, Mix};

/// Runs the outage test.
pub async fn main(mut args: Args) -> Result<(), String> {
    let short = args.flag("short");
    let rate: f64 = args.parsed("rate")?.unwrap_or(500.0);
    let duration = Duration::from_secs_f64(args.parsed("duration")?.unwrap_or(if short { 12.0 } else { 30.0 }));
    let stop_mode = args.value("stop-mode")?.unwrap_or_else(|| "fast".into());
    let mix = Mix::parse(&args.value("mix")?.unwrap_or_else(|| "batches".into()))?;
    // The worker's default is 60 s; a short run cannot wait that long for its drain.
    let recover_every =
        args.parsed::<f64>("recover-every")?.map(Duration::from_secs_f64).or(short.then_some(Duration::from_secs(5)));
    args.finish()?;
    if !matches!(stop_mode.as_str(), "fast" | "immediate" | "smart") {
        return Err("--stop-mode is fast, immediate or smart".into());
    }

    let cluster = Arc::new(Cluster::start_private()?);
    let url = cluster.url();
    let schema = format!("loadgen_outage_{}", workload::run_id());
    create_schema(&url, &schema).await?;
    let dir = server::run_dir(None, "outage")?;
    let mut options = serve_options(StoreKind::Postgres, url.clone(), Some(schema.clone()), server::free_address()?);
    options.effects = Some("postgres".into());
    options.concurrency = 32;
    options.lease = Duration::from_secs(3);
    options.recover_every = recover_every;
    if let Some(every) = recover_every {
        println!(
            "note: the worker looks for pending events without a job every {:.0} s (default 60 s)",
            every.as_secs_f64()
        );
    }
    println!(
        "outage test: PostgreSQL at {url} ({}), {rate:.0} req/s for {:.0} s, stopped ({stop_mode}) from {:.1} s to {:.1} s",
        cluster.dir().display(),
        duration.as_secs_f64(),
        duration.as_secs_f64() * 0.25,
        duration.as_secs_f64() * 0.55
    );
    let mut server = ServerProcess::spawn(&options, &dir.join("server.log"))?;
    let address = server.address;
    let requests =
        Arc::new(workload::generate(request_budget(Some(rate), duration, None), &mix, &workload::run_id(), 2));

    let start = Instant::now();
    let controller = {
        let cluster = cluster.clone();
        std::thread::spawn(move || -> Result<[Duration; 4], String> {
            std::thread::sleep(duration.mul_f64(0.25).saturating_sub(start.elapsed()));
            let stopping = start.elapsed();
            cluster.stop(&stop_mode)?;
            let stopped = start.elapsed();
            std::thread::sleep(duration.mul_f64(0.55).saturating_sub(start.elapsed()));
            let starting = start.elapsed();
            cluster.start()?;
            Ok([stopping, stopped, starting, start.elapsed()])
        })
    };
    // /healthz every 100 ms, beside the load.
    let prober = tokio::spawn(async move {
        let mut probes = Vec::new();
        while start.elapsed() < duration {
            probes.push((start.elapsed(), server::healthz(address).await));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        probes
    });
    let report = load::run(
        requests.clone(),
        LoadOptions {
            target: address,
            rate: Some(rate),
            duration,
            connections: 64,
            timeout: Duration::from_secs(10),
            server_pid: Some(server.pid()),
            also: Vec::new(),
        },
    )
    .await;
    let probes = prober.await.map_err(|e| e.to_string())?;
    let [stopping, stopped, starting, started] = controller.join().map_err(|_| "the controller thread panicked")??;
    let offset = report.started.saturating_duration_since(start);
    let mut failures = Vec::new();
    print!("{}", report.summary());
    println!(
        "PostgreSQL stopping at {:.2} s, down at {:.2} s, starting at {:.2} s, up at {:.2} s",
        stopping.as_secs_f64(),
        stopped.as_secs_f64(),
        starting.as_secs_f64(),
        started.as_secs_f64()
    );

    // Requests sent while the database was certainly down.
    let down = |at: Duration| at >= stopped && at < starting;
    let during: Vec<_> = report.outcomes.iter().filter(|o| down(o.sent_at + offset)).collect();
    let during_2xx = during.iter().filter(|o| o.acked()).count();
    let during_503 = during.iter().filter(|o| o.status == Some(503)).count();
    let after = report.outcomes.iter().filter(|o| o.sent_at + offset >= started);
    let after_2xx = after.filter(|o| o.acked()).count();
    println!(
        "while down: {} requests, {during_503} answered 503, {during_2xx} acknowledged; after the restart: {after_2xx} acknowledged",
        during.len()
    );
    if during_503 == 0 {
        failures.push("no request got 503 while PostgreSQL was down".to_owned());
    }
    if after_2xx == 0 {
        failures.push("no request was acknowledged after PostgreSQL came back".to_owned());
    }
    let health_down: Vec<Option<u16>> = probes.iter().filter(|(at, _)| down(*at)).map(|(_, s)| *s).collect();
    let health_up =
        probes.iter().filter(|(at, status)| *at >= started && *status == Some(200)).map(|(at, _)| *at).next();
    println!(
        "/healthz while down: {} probes, {} answered 503, {} answered 200, {} did not answer",
        health_down.len(),
        health_down.iter().filter(|s| **s == Some(503)).count(),
        health_down.iter().filter(|s| **s == Some(200)).count(),
        health_down.iter().filter(|s| s.is_none()).count()
    );
    if health_down.is_empty() || health_down.iter().any(|s| *s != Some(503)) {
        failures.push("/healthz did not answer 503 throughout the outage".to_owned());
    }
    let recovered = match health_up {
        Some(at) => Some(at),
        None => server::wait_health(address, 200, Duration::from_secs(30)).await.map(|_| start.elapsed()),
    };
    match recovered {
        Some(at) => {
            println!("/healthz 200 again {:.2} s after PostgreSQL was up", at.saturating_sub(started).as_secs_f64())
        }
        None => failures.push("/healthz never answered 200 after PostgreSQL came back".to_owned()),
    }

    let ack_log = dir.join("acked.tsv");
    report.write_ack_log(&requests, &ack_log).map_err(|e| format!("{}: {e}", ack_log.display()))?;
    let drain_timeout = Duration::from_secs(if short { 45 } else { 120 });
    let storage = check::open_store(StoreKind::Postgres, &url, Some(&schema)).await?;
    match check::wait_processed(storage.as_ref(), drain_timeout).await {
        Ok(took) => println!("all stored events processed {:.1} s after the load ended", took.as_secs_f64()),
        Err(pending) => println!("{pending} events still pending {} s after the load ended", drain_timeout.as_secs()),
    }
    let alive_at_end = server.alive();
    let stopped_cleanly = server.stop();
    if !alive_at_end {
        failures.push("the server process died".to_owned());
    }
    let effects = EffectsSource::Postgres { url: url.clone(), schema: schema.clone() };
    let verdict = check::check(storage.as_ref(), &effects, &requests, &report.outcomes).await?;
    // Acknowledged while down and not stored: counted per request.
    let stored: std::collections::HashSet<(String, String)> = check::all_events(storage.as_ref())
        .await?
        .into_iter()
        .map(|e| (e.provider.to_string(), e.dedupe_key))
        .collect();
    let acked_down_lost = during
        .iter()
        .filter(|o| o.acked())
        .filter(|o| {
            let request = &requests[o.index as usize];
            request.keys.iter().any(|key| !stored.contains(&(request.provider.to_owned(), key.clone())))
        })
        .count();
    println!("acknowledged while down but not stored: {acked_down_lost}");
    if acked_down_lost > 0 {
        failures.push(format!("{acked_down_lost} requests acknowledged during the outage were not stored"));
    }
    print!("{}", verdict.summary());
    if !verdict.passed() {
        failures.push("the store check failed".to_owned());
    }
    let unscheduled = std::fs::read_to_string(dir.join("server.log"))
        .map(|log| log.matches("stored but not scheduled").count())
        .unwrap_or(0);
    if unscheduled > 0 {
        println!(
            "{unscheduled} events were stored but their job could not be scheduled (the database went away \
             between the append and the schedule); the worker's periodic Worker::recover schedules them, \
             here every {} s",
            recover_every.unwrap_or(Duration::from_secs(60)).as_secs()
        );
    }
    if let Err(error) = stopped_cleanly {
        failures.push(format!("the server did not stop cleanly: {error}"));
    }
    drop(storage);
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        println!("OUTAGE TEST PASSED");
        Ok(())
    } else {
        Err(format!("outage test failed: {} (server log in {})", failures.join("; "), dir.display()))
    }
}
