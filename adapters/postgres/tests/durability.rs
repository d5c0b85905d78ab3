//! Durability on a real PostgreSQL server: what was acknowledged survives the client
//! being killed with SIGKILL, a worker killed mid-job does not lose the job, and two
//! stores (two receivers) sharing a database never run the same job attempt twice.
//!
//! The crash tests run this test binary again as a child process (the `child_*` tests,
//! ignored unless started that way), read what it acknowledges on stdout, kill it, and
//! check the database. Skipped, saying so, without `CALLHOOK_TEST_POSTGRES_URL`.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callhook::Worker;
use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{EventFilter, EventId, EventLog, EventStatus, NewDelivery, NewEvent};
use callhook::job_queue::{JobQueue, NewJob, Queue};
use callhook::worker::{HandlerError, handler_fn};

const ACME: ProviderId = ProviderId::from_static("acme");
const CHILD_SCHEMA: &str = "CALLHOOK_TEST_CHILD_SCHEMA";

fn body_for(key: &str) -> String {
    format!(r#"{{"key":"{key}","text":"Olá \u0000 nul","padding":"{}"}}"#, "p".repeat(200))
}

fn new(key: &str) -> (NewDelivery, Vec<NewEvent>) {
    let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::now_utc(), body_for(key));
    (delivery, vec![NewEvent::parsed("ping", key, Event::Unmodeled(UnmodeledEvent::new(ACME, "ping")))])
}

fn spawn_child(test: &str, schema: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_SCHEMA, schema)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child")
}

fn read_lines(child: &mut Child, prefix: &str, count: usize) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while lines.len() < count {
        match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            // libtest prints "test name ... " without a newline before the first line.
            Ok(line) if line.contains(prefix) => lines.push(line[line.find(prefix).unwrap()..].to_owned()),
            Ok(_) => {}
            Err(_) => panic!("the child printed only {} {prefix:?} lines", lines.len()),
        }
    }
    lines
}

async fn child_store() -> Arc<callhook_postgres::PostgresStore> {
    let url = support::server_url().expect("the parent checked the server");
    Arc::new(support::store_in(&url, &std::env::var(CHILD_SCHEMA).unwrap()).await)
}

#[tokio::test]
#[ignore = "run as a child process by acknowledged_appends_survive_sigkill"]
async fn child_appends_until_killed() {
    let store = child_store().await;
    let tasks: Vec<_> = (0..16)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0.. {
                    let key = format!("w{writer}-{n}");
                    let (delivery, events) = new(&key);
                    let outcome = store.append(delivery, events).await.unwrap();
                    println!("acked {} {key}", outcome.events[0].id());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn acknowledged_appends_survive_sigkill() {
    let Some(url) = support::server_url() else { return };
    let schema = support::new_schema(&url).await;
    drop(support::store_in(&url, &schema).await); // migrate before the child starts
    let mut child = spawn_child("child_appends_until_killed", &schema);
    let acked = read_lines(&mut child, "acked ", 500);
    child.kill().expect("SIGKILL");
    child.wait().unwrap();

    let store = support::store_in(&url, &schema).await;
    for line in &acked {
        let mut parts = line.split(' ').skip(1);
        let id = EventId(parts.next().unwrap().parse().unwrap());
        let key = parts.next().unwrap();
        let detail = store.event(id).await.unwrap().unwrap_or_else(|| panic!("acknowledged event {id} lost"));
        assert_eq!(detail.event.dedupe_key, key);
        assert_eq!(detail.delivery.body, body_for(key).as_bytes(), "event {id} intact");
    }
    let stored = store.list_events(&EventFilter::default().limit(1_000_000)).await.unwrap().len();
    assert!(stored >= acked.len(), "{stored} stored, {} acknowledged", acked.len());
}

#[tokio::test]
#[ignore = "run as a child process by a_worker_killed_mid_job_does_not_lose_the_job"]
async fn child_hangs_in_a_handler() {
    let store = child_store().await;
    let (delivery, events) = new("slow");
    let id = store.append(delivery, events).await.unwrap().events[0].id();
    store.schedule(NewJob::process_event(id, time::OffsetDateTime::now_utc())).await.unwrap();
    let worker = Worker::builder_with_store(store.clone())
        .lease(Duration::from_secs(2))
        .handler(handler_fn(|detail: callhook::event_log::EventDetail| async move {
            println!("started {}", detail.event.id);
            std::future::pending::<()>().await;
            Ok::<_, HandlerError>(())
        }))
        .build();
    worker.run_due().await.unwrap();
}

#[tokio::test]
async fn a_worker_killed_mid_job_does_not_lose_the_job() {
    let Some(url) = support::server_url() else { return };
    let schema = support::new_schema(&url).await;
    drop(support::store_in(&url, &schema).await);
    let mut child = spawn_child("child_hangs_in_a_handler", &schema);
    let started = read_lines(&mut child, "started ", 1);
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let id = EventId(started[0].trim_start_matches("started ").parse().unwrap());

    let store = Arc::new(support::store_in(&url, &schema).await);
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = ran.clone();
    let worker = Worker::builder_with_store(store.clone())
        .handler(handler_fn(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, HandlerError>(()) }
        }))
        .build();
    assert_eq!(worker.run_due().await.unwrap(), 0, "still leased to the dead worker");
    let deadline = Instant::now() + Duration::from_secs(20);
    while worker.run_due().await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "the job never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(store.event(id).await.unwrap().unwrap().event.status, EventStatus::Processed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_sharing_a_database_never_run_one_attempt_twice() {
    let Some(url) = support::server_url() else { return };
    let schema = support::new_schema(&url).await;
    let a = Arc::new(support::store_in(&url, &schema).await);
    let b = Arc::new(support::store_in(&url, &schema).await);
    let now = time::OffsetDateTime::now_utc();
    for i in 0..200 {
        a.schedule(NewJob::process_event(EventId(i), now)).await.unwrap();
    }
    let claimers: Vec<_> = [a.clone(), b.clone(), a, b]
        .into_iter()
        .map(|store| {
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claimed = store.claim_due(Queue::Events, now, 7, Duration::from_secs(60)).await.unwrap();
                    if claimed.is_empty() {
                        break mine;
                    }
                    for claim in claimed {
                        mine.push(claim.job.id);
                        store.complete(&claim).await.unwrap();
                    }
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for claimer in claimers {
        for id in claimer.await.unwrap() {
            assert!(seen.insert(id), "job {id} ran twice");
        }
    }
    assert_eq!(seen.len(), 200);
}

#[tokio::test]
async fn migrations_run_once_and_a_newer_schema_is_refused() {
    let Some(url) = support::server_url() else { return };
    let schema = support::new_schema(&url).await;
    // Several receivers starting together: the advisory lock serializes the migration.
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let (url, schema) = (url.clone(), schema.clone());
            async move { support::store_in(&url, &schema).await }
        })
        .collect();
    for store in futures_join(starts).await {
        store.ping().await.unwrap();
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let applied: i64 = client
        .query_one(&format!("SELECT count(*) FROM {schema}.callhook_schema_migrations"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 4, "every migration recorded once");
    client
        .batch_execute(&format!("INSERT INTO {schema}.callhook_schema_migrations (version) VALUES (999)"))
        .await
        .unwrap();
    let mut config: callhook_postgres::Config = url.parse().unwrap();
    config.options(format!("-c search_path={schema}"));
    let error = callhook_postgres::PostgresStore::connect_config(config, Default::default()).await.unwrap_err();
    assert!(error.to_string().contains("newer"), "{error}");
}

async fn futures_join<F: std::future::Future + Send + 'static>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// A database that answers but takes no writes (a standby after a failover, a session
/// forced read-only) is not healthy: `ping` fails, as appends do.
#[tokio::test]
async fn a_read_only_database_fails_ping() {
    let Some(url) = support::server_url() else { return };
    let schema = support::new_schema(&url).await;
    support::store_in(&url, &schema).await.ping().await.expect("a writable database is healthy");
    let mut config: callhook_postgres::Config = url.parse().unwrap();
    config.options(format!("-c search_path={schema} -c default_transaction_read_only=on"));
    let options = callhook_postgres::Options::default().migrate(false);
    let store = callhook_postgres::PostgresStore::connect_config(config, options).await.unwrap();
    let error = store.ping().await.unwrap_err();
    assert!(error.to_string().contains("read-only"), "{error}");
    let (delivery, events) = new("read-only");
    assert!(store.append(delivery, events).await.is_err(), "and appends fail");
}
