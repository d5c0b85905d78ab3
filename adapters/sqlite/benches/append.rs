//! Appends per second of single-event deliveries from 64 concurrent writers: group
//! commit against one transaction per append (the baseline), in the same run.
//!
//! `cargo bench -p callhook-sqlite`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{EventLog, NewDelivery, NewEvent};
use callhook_sqlite::{DEFAULT_MAX_BATCH, Options, SqliteStore};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const WRITERS: u64 = 64;
const ACME: ProviderId = ProviderId::from_static("acme");

/// A realistic single-event delivery: a ~600-byte body.
fn delivery(n: u64) -> (NewDelivery, Vec<NewEvent>) {
    let body = format!(r#"{{"id":"{n}","status":"delivered","padding":"{}"}}"#, "x".repeat(540));
    let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::now_utc(), body);
    let event = NewEvent::parsed("status", format!("k{n}"), Event::Unmodeled(UnmodeledEvent::new(ACME, "status")));
    (delivery, vec![event])
}

async fn append_concurrently(store: &SqliteStore, next: &Arc<AtomicU64>, iters: u64) -> Duration {
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
    // Scale to the number of appends criterion asked for.
    start.elapsed().mul_f64(iters as f64 / (per_writer * WRITERS) as f64)
}

fn appends(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut group = c.benchmark_group("sqlite_append_64_writers");
    group.throughput(Throughput::Elements(1)).sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, max_batch) in [("one_transaction_each", 1), ("group_commit", DEFAULT_MAX_BATCH)] {
        let dir = tempfile::tempdir().unwrap();
        let options = Options::default().max_batch(max_batch);
        let store = runtime.block_on(SqliteStore::open_with(dir.path().join("bench.sqlite"), options)).unwrap();
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
