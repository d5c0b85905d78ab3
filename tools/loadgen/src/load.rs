//! The load generator: sends prepared requests to a server over loopback HTTP/1.1 on a
//! fixed number of keep-alive connections, either flat out or at a fixed rate, and
//! records each request's outcome.
//!
//! Each connection is a task that takes the next request from a shared counter, so the
//! requests go out in the generated order. At a fixed rate, request `i` is due at
//! `start + i / rate` (open loop: a slow server does not slow the schedule down); two
//! latencies are kept: from sending to the full response (*service*), and from the
//! request's due time to the full response (*corrected*: includes any wait for a free
//! connection, so a stalling server is not hidden; tokio's timer adds up to 1 ms).
//! Flat out, each connection sends its next request as soon as the previous one is
//! answered. A connection that fails is reopened; requests that fail to connect, time
//! out or lose their connection are counted as errors, never as acknowledged.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::cpu::{machine_busy, process_cpu, processes_named};
use crate::workload::Prepared;

/// How to send.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The server.
    pub target: SocketAddr,
    /// Requests per second, or `None` for flat out.
    pub rate: Option<f64>,
    /// How long to send.
    pub duration: Duration,
    /// How many connections.
    pub connections: usize,
    /// The longest wait for one response.
    pub timeout: Duration,
    /// The server's process, to read its CPU time.
    pub server_pid: Option<u32>,
    /// More servers sharing the load (receivers on one database), each with its
    /// process: connection `i` goes to server `i` modulo their number.
    pub also: Vec<(SocketAddr, u32)>,
}

impl LoadOptions {
    /// Every server, `target` first.
    fn targets(&self) -> Vec<SocketAddr> {
        std::iter::once(self.target).chain(self.also.iter().map(|(address, _)| *address)).collect()
    }

    /// Every server's process known.
    fn pids(&self) -> Vec<u32> {
        self.server_pid.into_iter().chain(self.also.iter().map(|(_, pid)| *pid)).collect()
    }
}

/// What happened to one request.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// Its index in the prepared requests.
    pub index: u32,
    /// When it was sent, since the start of the run.
    pub sent_at: Duration,
    /// The HTTP status, or `None` when no response came (see `error`).
    pub status: Option<u16>,
    /// Why no response came.
    pub error: Option<&'static str>,
}

impl Outcome {
    /// Whether the server acknowledged it (2xx).
    pub fn acked(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The figures of one run.
#[derive(Debug)]
pub struct LoadReport {
    /// Requests sent (or attempted).
    pub sent: u64,
    /// Requests answered 2xx.
    pub acked: u64,
    /// Events in the acknowledged requests.
    pub acked_events: u64,
    /// Responses by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests with no response, by reason (`connect`, `io`, `timeout`).
    pub errors: BTreeMap<&'static str, u64>,
    /// From the first send to the last response.
    pub elapsed: Duration,
    /// Latency of acknowledged requests, send to response, in µs.
    pub service: Histogram<u64>,
    /// Latency of acknowledged requests, due time to response, in µs (fixed rate only).
    pub corrected: Histogram<u64>,
    /// The server's CPU time over the run (every server's, with [`LoadOptions::also`]).
    pub server_cpu: Option<Duration>,
    /// Each server's CPU time over the run, in [`LoadOptions::server_pid`]'s then
    /// [`LoadOptions::also`]'s order.
    pub servers_cpu: Vec<Duration>,
    /// This process's CPU time over the run (the generator).
    pub own_cpu: Option<Duration>,
    /// CPU time PostgreSQL's processes used over the run (when any run here).
    pub postgres_cpu: Duration,
    /// CPU time the rest of the machine used over the run (other processes: a
    /// measurement with much of it was disturbed).
    pub other_cpu: Option<Duration>,
    /// Every request's outcome, in the order they finished.
    pub outcomes: Vec<Outcome>,
    /// Whether the prepared requests ran out before the duration did.
    pub exhausted: bool,
    /// The rate asked for.
    pub rate: Option<f64>,
    /// When the run started (`Outcome::sent_at` counts from here).
    pub started: Instant,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

impl LoadReport {
    /// Acknowledged requests per second.
    pub fn ack_rate(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Server CPU milliseconds per 1,000 requests answered (PostgreSQL's processes
    /// included when they ran).
    pub fn server_cpu_per_1000(&self) -> Option<f64> {
        let answered: u64 = self.statuses.values().sum();
        self.server_cpu
            .filter(|_| answered > 0)
            .map(|cpu| (cpu + self.postgres_cpu).as_secs_f64() * 1e6 / answered as f64)
    }

    /// A percentile of the service latency, in ms.
    pub fn service_ms(&self, quantile: f64) -> f64 {
        self.service.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// A percentile of the corrected latency, in ms.
    pub fn corrected_ms(&self, quantile: f64) -> f64 {
        self.corrected.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// A human-readable summary.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let mode = match self.rate {
            Some(rate) => format!("at {rate:.0} req/s"),
            None => "flat out".to_owned(),
        };
        out.push_str(&format!(
            "{mode}: sent {}, acknowledged {} ({} events), {:.1} s, {:.0} ack/s{}\n",
            self.sent,
            self.acked,
            self.acked_events,
            self.elapsed.as_secs_f64(),
            self.ack_rate(),
            if self.exhausted { " (prepared requests ran out first)" } else { "" }
        ));
        let non_2xx: Vec<String> =
            self.statuses.iter().filter(|(s, _)| !(200..300).contains(*s)).map(|(s, n)| format!("{s}: {n}")).collect();
        let errors: Vec<String> = self.errors.iter().map(|(e, n)| format!("{e}: {n}")).collect();
        out.push_str(&format!(
            "  non-2xx: {}; no response: {}\n",
            if non_2xx.is_empty() { "none".to_owned() } else { non_2xx.join(", ") },
            if errors.is_empty() { "none".to_owned() } else { errors.join(", ") }
        ));
        out.push_str(&format!(
            "  latency (send to response): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
            self.service_ms(0.5),
            self.service_ms(0.9),
            self.service_ms(0.99),
            self.service.max() as f64 / 1000.0
        ));
        if self.rate.is_some() && !self.corrected.is_empty() {
            out.push_str(&format!(
                "  latency (due time to response): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
                self.corrected_ms(0.5),
                self.corrected_ms(0.9),
                self.corrected_ms(0.99),
                self.corrected.max() as f64 / 1000.0
            ));
        }
        let mut cpu = Vec::new();
        if let Some(per_1000) = self.server_cpu_per_1000() {
            cpu.push(format!(
                "server {:.2} s in all, {per_1000:.1} ms per 1,000 requests{}",
                self.server_cpu.unwrap_or_default().as_secs_f64(),
                if self.postgres_cpu.is_zero() { "" } else { " with PostgreSQL's" }
            ));
        }
        if self.servers_cpu.len() > 1 {
            let each: Vec<String> = self.servers_cpu.iter().map(|cpu| format!("{:.2} s", cpu.as_secs_f64())).collect();
            cpu.push(format!("each server {}", each.join(" + ")));
        }
        if let Some(own) = self.own_cpu {
            cpu.push(format!("load generator {:.2} s (same cores as the server)", own.as_secs_f64()));
        }
        if !self.postgres_cpu.is_zero() {
            cpu.push(format!("PostgreSQL {:.2} s", self.postgres_cpu.as_secs_f64()));
        }
        if let Some(other) = self.other_load() {
            cpu.push(format!("other processes {other:.0}% of a core"));
        }
        if !cpu.is_empty() {
            out.push_str(&format!("  CPU: {}\n", cpu.join("; ")));
        }
        out
    }

    /// The share of a core other processes used during the run, in percent.
    pub fn other_load(&self) -> Option<f64> {
        self.other_cpu.map(|other| 100.0 * other.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9))
    }

    /// Writes the events of every acknowledged request, one `provider<TAB>dedupe key`
    /// line per event (a request acknowledged twice appears twice).
    pub fn write_ack_log(&self, requests: &[Prepared], path: &Path) -> std::io::Result<()> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        for outcome in self.outcomes.iter().filter(|o| o.acked()) {
            let request = &requests[outcome.index as usize];
            for key in request.keys.iter() {
                writeln!(file, "{}\t{}", request.provider, key)?;
            }
        }
        file.flush()
    }
}

struct Shared {
    requests: Arc<Vec<Prepared>>,
    next: AtomicUsize,
    options: LoadOptions,
    start: Instant,
    deadline: Instant,
}

struct TaskResult {
    service: Histogram<u64>,
    corrected: Histogram<u64>,
    outcomes: Vec<Outcome>,
}

/// Sends `requests` per `options` and reports.
pub async fn run(requests: Arc<Vec<Prepared>>, options: LoadOptions) -> LoadReport {
    let pids = options.pids();
    let servers_before: Option<Vec<Duration>> = pids.iter().map(|pid| process_cpu(*pid)).collect();
    let own_before = process_cpu(std::process::id());
    let machine_before = machine_busy();
    let postgres_before = processes_named("postgres");
    let start = Instant::now();
    let shared = Arc::new(Shared {
        deadline: start + options.duration,
        start,
        next: AtomicUsize::new(0),
        requests,
        options: options.clone(),
    });
    let targets = options.targets();
    let tasks: Vec<_> = (0..options.connections.max(1))
        .map(|n| tokio::spawn(connection_task(shared.clone(), targets[n % targets.len()])))
        .collect();
    let mut service = histogram();
    let mut corrected = histogram();
    let mut outcomes = Vec::new();
    for task in tasks {
        let result = task.await.expect("a connection task does not panic");
        service.add(&result.service).expect("same bounds");
        corrected.add(&result.corrected).expect("same bounds");
        outcomes.extend(result.outcomes);
    }
    let elapsed = start.elapsed();
    let servers_after: Option<Vec<Duration>> = pids.iter().map(|pid| process_cpu(*pid)).collect();
    let servers_cpu: Vec<Duration> = servers_before
        .zip(servers_after)
        .map(|(before, after)| after.iter().zip(before).map(|(a, b)| a.saturating_sub(b)).collect())
        .unwrap_or_default();
    let server_cpu = (!servers_cpu.is_empty()).then(|| servers_cpu.iter().sum());
    let own_cpu = own_before.zip(process_cpu(std::process::id())).map(|(b, a)| a.saturating_sub(b));
    let machine = machine_before.zip(machine_busy()).map(|(b, a)| a.saturating_sub(b));
    let postgres_cpu = processes_named("postgres").saturating_sub(postgres_before);
    let other_cpu = machine
        .zip(server_cpu)
        .map(|(machine, server)| machine.saturating_sub(server + own_cpu.unwrap_or_default() + postgres_cpu));
    outcomes.sort_by_key(|o| o.sent_at);
    let mut statuses = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut acked = 0;
    let mut acked_events = 0;
    for outcome in &outcomes {
        if let Some(status) = outcome.status {
            *statuses.entry(status).or_insert(0) += 1;
        }
        if let Some(error) = outcome.error {
            *errors.entry(error).or_insert(0) += 1;
        }
        if outcome.acked() {
            acked += 1;
            acked_events += shared.requests[outcome.index as usize].keys.len() as u64;
        }
    }
    LoadReport {
        sent: outcomes.len() as u64,
        acked,
        acked_events,
        statuses,
        errors,
        elapsed,
        service,
        corrected,
        server_cpu,
        servers_cpu,
        own_cpu,
        postgres_cpu,
        other_cpu,
        exhausted: shared.next.load(Ordering::Relaxed) >= shared.requests.len()
            && match options.rate {
                Some(rate) => (shared.requests.len() as f64) < rate * options.duration.as_secs_f64(),
                None => elapsed < options.duration,
            },
        outcomes,
        rate: options.rate,
        started: start,
    }
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(target: SocketAddr) -> Result<Sender, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(target).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when either side closes; the task sees the sender closed and reconnects.
        let _ = connection.await;
    });
    Ok(sender)
}

async fn connection_task(shared: Arc<Shared>, target: SocketAddr) -> TaskResult {
    let options = &shared.options;
    let host = http::HeaderValue::from_str(&target.to_string()).expect("an address is a valid header");
    let mut result = TaskResult { service: histogram(), corrected: histogram(), outcomes: Vec::new() };
    let mut sender: Option<Sender> = None;
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(prepared) = shared.requests.get(index) else { break };
        let due = match options.rate {
            Some(rate) => shared.start + Duration::from_secs_f64(index as f64 / rate),
            None => Instant::now(),
        };
        if due >= shared.deadline || Instant::now() >= shared.deadline {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let sent = Instant::now();
        let mut outcome = Outcome { index: index as u32, sent_at: sent - shared.start, status: None, error: None };
        if sender.as_ref().is_none_or(|s| s.is_closed()) {
            match connect(target).await {
                Ok(fresh) => sender = Some(fresh),
                Err(_) => {
                    outcome.error = Some("connect");
                    result.outcomes.push(outcome);
                    if options.rate.is_none() {
                        // Flat out against a server that is down: do not spin.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    continue;
                }
            }
        }
        let live = sender.as_mut().expect("connected above");
        let mut request = http::Request::new(Full::new(prepared.body.clone()));
        *request.method_mut() = prepared.method();
        *request.uri_mut() = prepared.uri.clone();
        *request.headers_mut() = prepared.headers.clone();
        request.headers_mut().insert(http::header::HOST, host.clone());
        let exchange = async {
            live.ready().await?;
            let response = live.send_request(request).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await?;
            Ok::<u16, hyper::Error>(status)
        };
        match tokio::time::timeout(options.timeout, exchange).await {
            Ok(Ok(status)) => {
                outcome.status = Some(status);
                if (200..300).contains(&status) {
                    let done = Instant::now();
                    result.service.saturating_record((done - sent).as_micros() as u64);
                    if options.rate.is_some() {
                        result.corrected.saturating_record((done - due).as_micros() as u64);
                    }
                }
            }
            Ok(Err(_)) => {
                outcome.error = Some("io");
                sender = None;
            }
            Err(_) => {
                outcome.error = Some("timeout");
                sender = None;
            }
        }
        result.outcomes.push(outcome);
    }
    result
}
