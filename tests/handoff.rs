//! Fresh events handed straight to the worker (`callhook::handoff`), on a real SQLite
//! store: leased in their append, hidden from claims, processed from memory; the
//! overflow is claimed as before; a job handed over but never run is claimed again once
//! its lease runs out, so nothing is lost.

mod support;

use std::sync::Arc;
use std::time::Duration;

use callhook::clock::{Clock, ManualClock};
use callhook::event_log::EventStatus;
use callhook::job_queue::{JobQueue, Queue};
use callhook::worker::{HandlerError, handler_fn};
use callhook::{Receiver, Worker, handoff};
use support::*;
use time::macros::datetime;

const LEASE: Duration = Duration::from_secs(300);

/// A receiver handing over to a channel with `room` places, on a fresh SQLite file, with
/// a manual clock.
struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<callhook_sqlite::SqliteStore>,
    clock: ManualClock,
    receiver: Receiver,
    handed_off: handoff::HandedOffJobs,
}

async fn setup(room: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(callhook_sqlite::SqliteStore::open(dir.path().join("handoff.sqlite")).await.unwrap());
    let clock = ManualClock::new(datetime!(2026-12-01 10:00 UTC));
    let (handoff, handed_off) = handoff::channel(room, LEASE);
    let receiver = Receiver::builder()
        .mount(PATH, TestProvider::new())
        .store(store.clone())
        .handoff(handoff)
        .clock(clock.clone())
        .build()
        .unwrap();
    Setup { _dir: dir, store, clock, receiver, handed_off }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_events_go_to_the_worker_and_the_overflow_to_claims() {
    // Room for two: the third and later events of this burst are left for a claim.
    let Setup { _dir, store, clock, receiver, handed_off } = setup(2).await;
    for n in 0..5 {
        let body = body(&[(&format!("e{n}"), &format!("c{n}"), "ringing")]);
        assert_eq!(receiver.handle(signed(body)).await.status(), 200);
    }
    let claimable = store.claim_due(Queue::Events, clock.now(), 10, LEASE).await.unwrap();
    assert_eq!(claimable.len(), 3, "two leased to this process, three for a claim");
    for claim in &claimable {
        store.release(claim, clock.now()).await.unwrap();
    }

    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    let worker = Worker::builder_with_store(store.clone())
        .clock(clock.clone())
        .lease(LEASE)
        .handed_off(handed_off)
        .handler(handler_fn(move |detail: callhook::event_log::EventDetail| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(detail.event.dedupe_key.clone());
                Ok::<_, HandlerError>(())
            }
        }))
        .build();
    run_until_processed(&worker, &store, 5).await;
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["e0", "e1", "e2", "e3", "e4"], "each handler ran once");
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), None, "every job ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_handed_over_but_never_run_is_claimed_after_its_lease() {
    let Setup { _dir, store, clock, receiver, handed_off } = setup(8).await;
    assert_eq!(receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await.status(), 200);
    // The process dies before its worker runs the job: the handed-over job is gone.
    drop(handed_off);
    assert!(store.claim_due(Queue::Events, clock.now_plus(299), 10, LEASE).await.unwrap().is_empty());
    let again = store.claim_due(Queue::Events, clock.now_plus(300), 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1, "claimed again once the lease ran out");
    let events = all_events(&*store).await;
    assert_eq!(events[0].status, EventStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handed_over_job_whose_lease_ran_out_is_run_once_from_its_claim() {
    let Setup { _dir, store, clock, receiver, handed_off } = setup(8).await;
    assert_eq!(receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await.status(), 200);
    // The worker comes too late: the lease is over, so the store offers the job to any
    // claim, and the copy in memory must not run as well.
    clock.advance(time::Duration::seconds(301));
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    let worker = Worker::builder_with_store(store.clone())
        .clock(clock.clone())
        .lease(LEASE)
        .handed_off(handed_off)
        .handler(handler_fn(move |_: callhook::event_log::EventDetail| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, HandlerError>(()) }
        }))
        .build();
    run_until_processed(&worker, &store, 1).await;
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1, "the handler ran once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_still_in_the_handoff_at_shutdown_are_handed_back_due_at_once() {
    let Setup { _dir, store, clock, receiver, handed_off } = setup(8).await;
    for n in 0..3 {
        let body = body(&[(&format!("e{n}"), &format!("c{n}"), "ringing")]);
        assert_eq!(receiver.handle(signed(body)).await.status(), 200);
    }
    assert!(store.claim_due(Queue::Events, clock.now(), 10, LEASE).await.unwrap().is_empty(), "all three leased");
    let worker =
        Worker::builder_with_store(store.clone()).clock(clock.clone()).lease(LEASE).handed_off(handed_off).build();
    // Shut down before running anything.
    worker.run(async {}).await;
    // After the shutdown the receiver no longer hands over: its jobs are for a claim.
    assert_eq!(receiver.handle(signed(body(&[("e3", "c3", "ringing")]))).await.status(), 200);
    let claimable = store.claim_due(Queue::Events, clock.now(), 10, LEASE).await.unwrap();
    assert_eq!(claimable.len(), 4, "the three handed back and the one scheduled after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_due_runs_the_jobs_waiting_in_the_handoff() {
    let Setup { _dir, store, clock, receiver, handed_off } = setup(8).await;
    for n in 0..3 {
        let body = body(&[(&format!("e{n}"), &format!("c{n}"), "ringing")]);
        assert_eq!(receiver.handle(signed(body)).await.status(), 200);
    }
    let worker =
        Worker::builder_with_store(store.clone()).clock(clock.clone()).lease(LEASE).handed_off(handed_off).build();
    assert_eq!(worker.run_due().await.unwrap(), 3, "the three handed over, not left leased");
    let events = all_events(&*store).await;
    assert!(events.iter().all(|event| event.status == EventStatus::Processed), "{events:?}");
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), None, "every job ended");
    assert_eq!(worker.run_due().await.unwrap(), 0, "nothing left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_due_claims_only_for_the_slots_the_handoff_left() {
    // Room for one: the first event is handed over, the second scheduled for a claim.
    let Setup { _dir, store, clock, receiver, handed_off } = setup(1).await;
    for n in 0..2 {
        let body = body(&[(&format!("e{n}"), &format!("c{n}"), "ringing")]);
        assert_eq!(receiver.handle(signed(body)).await.status(), 200);
    }
    let worker = Worker::builder_with_store(store.clone())
        .clock(clock.clone())
        .lease(LEASE)
        .concurrency(1)
        .handed_off(handed_off)
        .build();
    assert_eq!(worker.run_due().await.unwrap(), 1, "the handed-over job took the one slot");
    assert_eq!(worker.run_due().await.unwrap(), 1, "then the claim");
    let events = all_events(&*store).await;
    assert!(events.iter().all(|event| event.status == EventStatus::Processed), "{events:?}");
}

/// Runs `worker` until `count` events are processed (failing after 20 s), then stops it.
async fn run_until_processed(worker: &Worker, store: &Arc<callhook_sqlite::SqliteStore>, count: usize) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move {
            worker
                .run(async {
                    let _ = stopped.await;
                })
                .await
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let events = all_events(&**store).await;
        if events.len() == count && events.iter().all(|event| event.status == EventStatus::Processed) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not all processed: {events:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    running.await.unwrap();
}

trait Later {
    fn now_plus(&self, seconds: i64) -> time::OffsetDateTime;
}

impl Later for ManualClock {
    fn now_plus(&self, seconds: i64) -> time::OffsetDateTime {
        self.now() + time::Duration::seconds(seconds)
    }
}
