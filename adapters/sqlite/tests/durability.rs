//! Durability on a real file: what was acknowledged survives a restart and a SIGKILL,
//! a job due while the process was down runs when it comes back, and a worker killed
//! mid-job does not lose the job.
//!
//! The crash tests run this test binary again as a child process (the `child_*` tests,
//! ignored unless started that way), read what it acknowledges on stdout, kill it with
//! SIGKILL, and check the file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callhook::Worker;
use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{EventFilter, EventId, EventLog, EventStatus, NewDelivery, NewEvent};
use callhook::job_queue::{JobQueue, NewJob, Queue};
use callhook::worker::{HandlerError, handler_fn};
use callhook_sqlite::SqliteStore;

const ACME: ProviderId = ProviderId::from_static("acme");
const CHILD_DB: &str = "CALLHOOK_TEST_CHILD_DB";

fn body_for(key: &str) -> String {
    format!(r#"{{"key":"{key}","text":"Olá, \u00e9 isso","padding":"{}"}}"#, "p".repeat(200))
}

fn new(key: &str) -> (NewDelivery, Vec<NewEvent>) {
    let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::now_utc(), body_for(key));
    (delivery, vec![NewEvent::parsed("ping", key, Event::Unmodeled(UnmodeledEvent::new(ACME, "ping")))])
}

fn spawn_child(test: &str, db: &std::path::Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child")
}

/// Lines the child printed that start with `prefix`, until `count` of them (or a
/// timeout), leaving the child running.
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
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            // libtest prints "test name ... " without a newline before the first line.
            Ok(line) if line.contains(prefix) => lines.push(line[line.find(prefix).unwrap()..].to_owned()),
            Ok(_) => {}
            Err(_) => panic!("the child printed only {} {prefix:?} lines", lines.len()),
        }
    }
    lines
}

#[tokio::test]
#[ignore = "run as a child process by acknowledged_appends_survive_sigkill"]
async fn child_appends_until_killed() {
    let store = SqliteStore::open(std::env::var(CHILD_DB).unwrap()).await.unwrap();
    // Sixteen concurrent writers, so acknowledgements come from group commits.
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
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.sqlite");
    let mut child = spawn_child("child_appends_until_killed", &db);
    let acked = read_lines(&mut child, "acked ", 500);
    child.kill().expect("SIGKILL");
    child.wait().unwrap();

    let store = SqliteStore::open(&db).await.expect("reopen after the crash");
    for line in &acked {
        let mut parts = line.split(' ').skip(1);
        let id = EventId(parts.next().unwrap().parse().unwrap());
        let key = parts.next().unwrap();
        let detail = store.event(id).await.unwrap().unwrap_or_else(|| panic!("acknowledged event {id} lost"));
        assert_eq!(detail.event.dedupe_key, key);
        assert_eq!(detail.delivery.body, body_for(key).as_bytes(), "event {id} intact");
    }
    let stored = store.list_events(&EventFilter::default().limit(usize::MAX)).await.unwrap().len();
    assert!(stored >= acked.len(), "{stored} stored, {} acknowledged", acked.len());
}

#[tokio::test]
#[ignore = "run as a child process by a_worker_killed_mid_job_does_not_lose_the_job"]
async fn child_hangs_in_a_handler() {
    let store = Arc::new(SqliteStore::open(std::env::var(CHILD_DB).unwrap()).await.unwrap());
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
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("worker.sqlite");
    let mut child = spawn_child("child_hangs_in_a_handler", &db);
    let started = read_lines(&mut child, "started ", 1);
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let id = EventId(started[0].trim_start_matches("started ").parse().unwrap());

    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = ran.clone();
    let worker = Worker::builder_with_store(store.clone())
        .handler(handler_fn(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, HandlerError>(()) }
        }))
        .build();
    // The dead worker's lease (2 s) must run out before the job is claimed again.
    assert_eq!(worker.run_due().await.unwrap(), 0, "still leased to the dead worker");
    let deadline = Instant::now() + Duration::from_secs(20);
    while worker.run_due().await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "the job never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 1);
    let record = store.event(id).await.unwrap().unwrap().event;
    assert_eq!(record.status, EventStatus::Processed);
}

#[tokio::test]
async fn a_job_due_while_the_process_was_down_runs_when_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("restart.sqlite");
    let due = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let id = {
        let store = SqliteStore::open(&db).await.unwrap();
        let (delivery, events) = new("later");
        let id = store.append(delivery, events).await.unwrap().events[0].id();
        store.schedule(NewJob::process_event(id, due)).await.unwrap();
        id
    };
    // The process is "down" past the due time.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    assert!(store.next_due_at(Queue::Events).await.unwrap().is_some_and(|at| at <= time::OffsetDateTime::now_utc()));
    let worker =
        Worker::builder_with_store(store.clone()).handler(handler_fn(|_| async { Ok::<_, HandlerError>(()) })).build();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    assert!(store.event(id).await.unwrap().unwrap().event.processed());
}

#[tokio::test]
async fn a_newer_schema_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("future.sqlite");
    drop(SqliteStore::open(&db).await.unwrap());
    rusqlite::Connection::open(&db).unwrap().pragma_update(None, "user_version", 999).unwrap();
    let error = SqliteStore::open(&db).await.unwrap_err();
    assert!(error.to_string().contains("newer"), "{error}");
}

#[tokio::test]
async fn upgrading_from_schema_1_indexes_the_subjects_of_stored_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.sqlite");
    let store = SqliteStore::open(&db).await.unwrap();
    let call = Event::Call(callhook::event::CallEvent::new(ACME, "CA77"));
    let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::now_utc(), "{}");
    store.append(delivery, vec![NewEvent::parsed("call", "CA77:ringing", call)]).await.unwrap();
    drop(store);
    // Back to exactly schema 1: migrations 2, 3 and 5 only added columns and indexes, 4
    // the heartbeat table.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&format!(
            "{TO_SCHEMA_4} {TO_SCHEMA_3} {TO_SCHEMA_2} DROP INDEX events_by_subject; DROP INDEX events_by_provider_status;
             ALTER TABLE events DROP COLUMN subject; PRAGMA user_version = 1;"
        ))
        .unwrap();

    let store = SqliteStore::open(&db).await.unwrap();
    let found = store.list_events(&EventFilter::default().subject("CA77")).await.unwrap();
    assert_eq!(found.len(), 1, "the stored event's subject was filled in by the migration");
    let version: i64 =
        rusqlite::Connection::open(&db).unwrap().query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(version, 5, "and every later migration applied");
}

/// Undoes migration 5 (accounts and contacts).
const TO_SCHEMA_4: &str = "DROP TABLE event_links; DROP INDEX events_by_account; DROP INDEX events_by_contact;
    ALTER TABLE events DROP COLUMN account; ALTER TABLE events DROP COLUMN contact;
    ALTER TABLE deliveries DROP COLUMN account; ALTER TABLE deliveries DROP COLUMN key_slot; PRAGMA user_version = 4;";

/// Undoes migration 4 (the heartbeat table).
const TO_SCHEMA_3: &str = "DROP TABLE heartbeat; PRAGMA user_version = 3;";

/// Undoes migration 3 (job queues).
const TO_SCHEMA_2: &str = "DROP INDEX jobs_by_queue; ALTER TABLE jobs DROP COLUMN queue;
    CREATE INDEX jobs_by_visible_at ON jobs (visible_at, id); PRAGMA user_version = 2;";

#[tokio::test]
async fn upgrading_from_schema_2_puts_queued_recording_jobs_in_their_queue() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v2.sqlite");
    let now = time::OffsetDateTime::now_utc();
    let store = SqliteStore::open(&db).await.unwrap();
    store.schedule(NewJob::fetch_recording(ACME, "CA78", now)).await.unwrap();
    store.schedule(NewJob::process_event(callhook::event_log::EventId(1), now)).await.unwrap();
    drop(store);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&format!("{TO_SCHEMA_4} {TO_SCHEMA_3} {TO_SCHEMA_2}"))
        .unwrap();

    let store = SqliteStore::open(&db).await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    let recordings = store.claim_due(Queue::Recordings, now, 10, lease).await.unwrap();
    assert_eq!(recordings.len(), 1);
    assert_eq!(recordings[0].job.key, "fetch-recording:acme:CA78");
    let events = store.claim_due(Queue::Events, now, 10, lease).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].job.key, "process-event:1");
}

/// Opened through a symbolic link, the store syncs the WAL SQLite actually writes (next
/// to the link's target): a sync of the wrong path would fail every write.
#[cfg(unix)]
#[tokio::test]
async fn a_store_opened_through_a_symlink_syncs_the_real_wal() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.sqlite");
    std::fs::File::create(&real).unwrap();
    let link = dir.path().join("link.sqlite");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let store = SqliteStore::open(&link).await.unwrap();
    let (delivery, events) = new("via-link");
    store.append(delivery, events).await.expect("acknowledged once synced");
    let listed = store.list_events(&EventFilter::default()).await.unwrap();
    assert_eq!(listed.len(), 1);
    // SQLite puts the WAL next to the target, not the link.
    assert!(dir.path().join("real.sqlite-wal").exists());
    assert!(!dir.path().join("link.sqlite-wal").exists());
}

/// A call state that cannot be read (a damaged row, say) fails the append of an event for
/// that call, before anything of it is written; appends for other calls, in the same
/// group commit or not, are stored.
#[tokio::test]
async fn an_unreadable_state_fails_only_the_append_that_needs_it() {
    use callhook::event::{CallEvent, CallStatus};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callhook.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    let acme = ProviderId::from_static("acme");
    let call = |id: &str, key: &str| {
        let mut event = CallEvent::new(acme.clone(), id);
        event.status = Some(CallStatus::Ringing);
        let delivery =
            NewDelivery::new(acme.clone(), "/webhooks/acme", time::OffsetDateTime::now_utc(), key.to_owned());
        (delivery, vec![NewEvent::parsed("call.ringing", key, Event::Call(event))])
    };
    let (delivery, events) = call("damaged", "k0");
    store.append(delivery, events).await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE call_states SET state = 'not json' WHERE call_id = 'damaged'", [])
        .unwrap();

    let appends: Vec<_> = ["damaged", "fine-1", "fine-2", "fine-3"]
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let store = store.clone();
            let (delivery, events) = call(id, &format!("k{}", i + 1));
            tokio::spawn(async move { store.append(delivery, events).await })
        })
        .collect();
    let mut results = Vec::new();
    for append in appends {
        results.push(append.await.unwrap());
    }
    assert!(results[0].is_err(), "{:?}", results[0]);
    assert!(results[1..].iter().all(Result::is_ok), "{results:?}");
    let stored: Vec<_> = store.list_events(&EventFilter::default()).await.unwrap();
    let keys: Vec<_> = stored.iter().map(|e| e.dedupe_key.as_str()).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(!keys.contains(&"k1"), "nothing of the failed append is kept");
    assert!(store.call_state(&acme, "fine-2").await.unwrap().is_some());
}
