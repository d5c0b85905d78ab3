//! Fresh events handed straight to the worker (`callhook::handoff`), on a real SQLite
//! store: leased in their append, hidden from claims, processed from memory; the
//! overflow is claimed as before; a job handed over but never run is claimed again once
//! its lease runs out, so nothing is lost.

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use callhook::clock::{Clock, ManualClock};
use callhook::event::ProviderId;
use callhook::event_log::{
    AppendOutcome, Appended, AttemptReport, DeliveryId, EventDetail, EventFilter, EventId, EventLog, EventLogError,
    EventRecord, EventStatus, NewDelivery, NewEvent,
};
use callhook::job_queue::{ClaimedJob, JobId, JobQueue, JobQueueError, NewJob, Queue};
use callhook::receiver::ReceiverBuilder;
use callhook::state::{CallState, MessageState};
use callhook::store::{LeaseRequest, Store, StoreError};
use callhook::worker::{HandlerError, handler_fn};
use callhook::{Receiver, Worker, handoff};
use support::*;
use time::macros::datetime;

const LEASE: Duration = Duration::from_secs(300);

/// A receiver handing over to a channel with `room` places, on a fresh SQLite file, with
/// a manual clock.
struct Setup<S = callhook_sqlite::SqliteStore> {
    _dir: tempfile::TempDir,
    store: Arc<S>,
    clock: ManualClock,
    receiver: Receiver,
    handed_off: handoff::HandedOffJobs,
}

async fn setup(room: usize) -> Setup {
    setup_with(room, |sqlite| sqlite, |receiver| receiver).await
}

/// [`setup`] on `wrap` of the SQLite store, with `configure` applied to the receiver.
async fn setup_with<S: Store>(
    room: usize,
    wrap: impl FnOnce(callhook_sqlite::SqliteStore) -> S,
    configure: impl FnOnce(ReceiverBuilder) -> ReceiverBuilder,
) -> Setup<S> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = callhook_sqlite::SqliteStore::open(dir.path().join("handoff.sqlite")).await.unwrap();
    let store = Arc::new(wrap(sqlite));
    let clock = ManualClock::new(datetime!(2026-12-01 10:00 UTC));
    let (handoff, handed_off) = handoff::channel(room, LEASE);
    let receiver =
        Receiver::builder().mount(PATH, TestProvider::new()).store(store.clone()).handoff(handoff).clock(clock.clone());
    let receiver = configure(receiver).build().unwrap();
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

/// An append that commits after the receiver's storage timeout (the provider was
/// answered 503) still hands its leased job to the worker, which runs it at once rather
/// than after the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_slower_than_the_storage_timeout_still_hands_its_job_over() {
    let Setup { _dir, store, clock, receiver, handed_off } = setup_with(
        8,
        |inner| SlowAnswers { inner, gate: tokio::sync::Semaphore::new(0) },
        |receiver| receiver.storage_timeout(Duration::from_millis(50)),
    )
    .await;
    // The append commits, but its answer waits behind the gate: past the timeout.
    assert_eq!(receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await.status(), 503);
    assert!(store.claim_due(Queue::Events, clock.now(), 10, LEASE).await.unwrap().is_empty(), "leased by the append");
    store.gate.add_permits(1);

    // The clock never moves, so the job can only reach the worker through the handoff.
    let worker =
        Worker::builder_with_store(store.clone()).clock(clock.clone()).lease(LEASE).handed_off(handed_off).build();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while worker.run_due().await.unwrap() == 0 {
        assert!(std::time::Instant::now() < deadline, "the job stayed leased to nobody");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let events = all_events(&*store).await;
    assert_eq!(events.iter().map(|event| event.status).collect::<Vec<_>>(), [EventStatus::Processed]);
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), None, "its job ended");
}

/// A SQLite store whose appends with leases commit, then answer only once the gate lets
/// them: a database slow to confirm a write it made.
struct SlowAnswers {
    inner: callhook_sqlite::SqliteStore,
    gate: tokio::sync::Semaphore,
}

#[async_trait]
impl Store for SlowAnswers {
    async fn append_and_schedule(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, EventLogError> {
        self.inner.append_and_schedule(delivery, events).await
    }
    async fn append_and_lease(
        &self,
        delivery: NewDelivery,
        events: Vec<NewEvent>,
        lease: LeaseRequest,
    ) -> Result<(AppendOutcome, Vec<ClaimedJob>), EventLogError> {
        let appended = self.inner.append_and_lease(delivery, events, lease).await;
        let _open = self.gate.acquire().await.expect("the gate is never closed");
        appended
    }
    async fn finish_attempt(
        &self,
        claim: &ClaimedJob,
        id: EventId,
        report: AttemptReport,
    ) -> Result<EventRecord, StoreError> {
        self.inner.finish_attempt(claim, id, report).await
    }
}

#[async_trait]
impl EventLog for SlowAnswers {
    async fn append(&self, delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError> {
        self.inner.append(delivery, events).await
    }
    async fn append_to_delivery(
        &self,
        delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError> {
        self.inner.append_to_delivery(delivery, events).await
    }
    async fn event(&self, id: EventId) -> Result<Option<EventDetail>, EventLogError> {
        self.inner.event(id).await
    }
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError> {
        self.inner.list_events(filter).await
    }
    async fn record_attempt(&self, id: EventId, report: AttemptReport) -> Result<EventRecord, EventLogError> {
        self.inner.record_attempt(id, report).await
    }
    async fn reprocess(&self, id: EventId, at: time::OffsetDateTime) -> Result<EventRecord, EventLogError> {
        self.inner.reprocess(id, at).await
    }
    async fn call_state(&self, provider: &ProviderId, call_id: &str) -> Result<Option<CallState>, EventLogError> {
        self.inner.call_state(provider, call_id).await
    }
    async fn message_state(&self, provider: &ProviderId, id: &str) -> Result<Option<MessageState>, EventLogError> {
        self.inner.message_state(provider, id).await
    }
    async fn ping(&self) -> Result<(), EventLogError> {
        self.inner.ping().await
    }
}

#[async_trait]
impl JobQueue for SlowAnswers {
    async fn schedule(&self, job: NewJob) -> Result<Option<JobId>, JobQueueError> {
        self.inner.schedule(job).await
    }
    async fn schedule_all(&self, jobs: Vec<NewJob>) -> Result<usize, JobQueueError> {
        self.inner.schedule_all(jobs).await
    }
    async fn claim_due(
        &self,
        queue: Queue,
        now: time::OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>, JobQueueError> {
        self.inner.claim_due(queue, now, limit, lease).await
    }
    async fn complete(&self, claim: &ClaimedJob) -> Result<(), JobQueueError> {
        self.inner.complete(claim).await
    }
    async fn retry(&self, claim: &ClaimedJob, due_at: time::OffsetDateTime, error: &str) -> Result<(), JobQueueError> {
        self.inner.retry(claim, due_at, error).await
    }
    async fn release(&self, claim: &ClaimedJob, due_at: time::OffsetDateTime) -> Result<(), JobQueueError> {
        self.inner.release(claim, due_at).await
    }
    async fn fail(&self, claim: &ClaimedJob, error: &str) -> Result<(), JobQueueError> {
        self.inner.fail(claim, error).await
    }
    async fn next_due_at(&self, queue: Queue) -> Result<Option<time::OffsetDateTime>, JobQueueError> {
        self.inner.next_due_at(queue).await
    }
    async fn wait_for_work(&self, timeout: Duration) {
        self.inner.wait_for_work(timeout).await
    }
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
