//! Appends per second of single-event deliveries from 64 concurrent writers on
//! PostgreSQL, against a baseline in the same run: the same appends through one
//! connection, one transaction after another. Needs `CALLHOOK_TEST_POSTGRES_URL`
//! (`.ci/postgres.sh` starts a server); without it the bench says so and does nothing.
//!
//! `CALLHOOK_TEST_POSTGRES_URL=$(.ci/postgres.sh) cargo bench -p callhook-postgres`

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{EventLog, NewDelivery, NewEvent};
use callhook_postgres::{Config, Options, PostgresStore};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const WRITERS: u64 = 64;
const ACME: ProviderId = ProviderId::from_static("acme");

fn delivery(n: u64) -> (NewDelivery, Vec<NewEvent>) {
    let body = format!(r#"{{"id":"{n}","status":"delivered","padding":"{}"}}"#, "x".repeat(540));
    let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::now_utc(), body);
    let event = NewEvent::parsed("status", format!("k{n}"), Event::Unmodeled(UnmodeledEvent::new(ACME, "status")));
    (delivery, vec![event])
}

async fn append_concurrently(store: &PostgresStore, next: &Arc<AtomicU64>, iters: u64) -> Duration {
    let per_writer = iters.div_ceil(WRITERS);
    let start = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (store, next) = (store.clone(), next.clone());
            tokio::spawn(async move {
                for _ in 0..per_writer {
                    let (delivery, events) = delivery(next.fetch_add(1, Ordering::Relaxed));
                    store.append(delivery, events).await.expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    start.elapsed().mul_f64(iters as f64 / (per_writer * WRITERS) as f64)
}

async fn store_in_fresh_schema(url: &str, pool_size: usize) -> PostgresStore {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let schema = format!("callhook_bench_{}", fastrand::u64(..));
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("schema");
    let mut config = Config::from_str(url).expect("valid URL");
    config.options(format!("-c search_path={schema}"));
    PostgresStore::connect_config(config, Options::default().pool_size(pool_size)).await.expect("store")
}

fn appends(c: &mut Criterion) {
    let Ok(url) = std::env::var("CALLHOOK_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: CALLHOOK_TEST_POSTGRES_URL is not set");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut group = c.benchmark_group("postgres_append_64_writers");
    group.throughput(Throughput::Elements(1)).sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, pool_size) in [("one_connection_serial", 1), ("pool_of_16", 16)] {
        let store = runtime.block_on(store_in_fresh_schema(&url, pool_size));
        let next = Arc::new(AtomicU64::new(0));
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (store, next) = (store.clone(), next.clone());
                async move { append_concurrently(&store, &next, iters).await }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, appends);
criterion_main!(benches);
