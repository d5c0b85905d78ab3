//! End-to-end through the Receiver and the Worker with the in-memory parts.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use callhook::alert::{Alert, alert_fn};
use callhook::clock::TokioClock;
use callhook::event::CallStatus;
use callhook::event_log::{EventFilter, EventLog, EventStatus, MemoryEventLog, UNPARSED_EVENT_TYPE, Verification};
use callhook::job_queue::{JobQueue, MemoryJobQueue, Queue};
use callhook::receiver::RequestOutcome;
use callhook::worker::{HandlerError, handler_fn};
use callhook::{Receiver, RetryPolicy, Worker};
use support::*;
use time::macros::datetime;

struct Setup {
    storage: Arc<MemoryEventLog>,
    scheduler: Arc<MemoryJobQueue>,
    provider: Arc<TestProvider>,
    receiver: Receiver,
    /// One clock for the receiver and the worker, so "due now" means the same to both.
    clock: TokioClock,
}

fn setup() -> Setup {
    let storage = Arc::new(MemoryEventLog::new());
    let scheduler = Arc::new(MemoryJobQueue::new());
    let provider = TestProvider::new();
    let clock = TokioClock::starting_at(datetime!(2026-12-01 10:00 UTC));
    let receiver = Receiver::builder()
        .event_log(storage.clone())
        .job_queue(scheduler.clone())
        .clock(clock)
        .body_limit(4096)
        .mount(PATH, provider.clone())
        .build()
        .unwrap();
    Setup { storage, scheduler, provider, receiver, clock }
}

impl Setup {
    fn worker(&self) -> callhook::worker::WorkerBuilder {
        Worker::builder(self.storage.clone(), self.scheduler.clone())
            .providers(self.receiver.providers())
            .clock(self.clock)
    }
}

/// A handler that records the event ids it saw.
fn recording_handler(seen: Arc<Mutex<Vec<i64>>>) -> impl callhook::worker::Handler {
    handler_fn(move |detail| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(detail.event.id.0);
            Ok::<_, HandlerError>(())
        }
    })
}

#[tokio::test]
async fn good_request_is_stored_acknowledged_and_processed_once() {
    let s = setup();
    let body = body(&[("e1", "c1", "ringing")]);
    let response = s.receiver.handle(signed(body.clone())).await;
    assert_eq!(response.status(), 200);

    let events = all_events(&*s.storage).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "call.ringing");
    assert_eq!(events[0].status, EventStatus::Pending);
    let detail = s.storage.event(events[0].id).await.unwrap().unwrap();
    assert_eq!(detail.delivery.body, body, "the exact bytes are kept");
    assert_eq!(detail.delivery.verification, Verification::Verified);
    assert_eq!(detail.delivery.headers, vec![("content-type".to_owned(), "application/json".to_owned())]);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = s.worker().handler(recording_handler(seen.clone())).build();
    let mut updates = worker.subscribe();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    assert_eq!(worker.run_due().await.unwrap(), 0, "nothing left to run");
    assert_eq!(*seen.lock().unwrap(), vec![events[0].id.0]);

    let record = s.storage.event(events[0].id).await.unwrap().unwrap().event;
    assert!(record.processed());
    assert_eq!(record.attempts, 1);
    assert_eq!(updates.try_recv().unwrap().event.status, EventStatus::Processed);
    let call = s.storage.call_state(&PROVIDER, "c1").await.unwrap().unwrap();
    assert_eq!(call.status, Some(CallStatus::Ringing));
}

#[tokio::test]
async fn same_delivery_twice_is_acknowledged_but_stored_and_handled_once() {
    let s = setup();
    let body = body(&[("e1", "c1", "ringing")]);
    assert_eq!(s.receiver.handle(signed(body.clone())).await.status(), 200);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = s.worker().handler(recording_handler(seen.clone())).build();
    worker.run_due().await.unwrap();

    assert_eq!(s.receiver.handle(signed(body)).await.status(), 200);
    assert_eq!(all_events(&*s.storage).await.len(), 1);
    assert_eq!(worker.run_due().await.unwrap(), 0, "a duplicate schedules nothing");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_batch_with_some_known_items_stores_only_the_new_ones() {
    let s = setup();
    s.receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await;
    let response = s.receiver.handle(signed(body(&[("e1", "c1", "ringing"), ("e2", "c1", "completed")]))).await;
    assert_eq!(response.status(), 200);
    let types: Vec<_> = all_events(&*s.storage).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(types, ["call.completed", "call.ringing"]);
}

#[tokio::test]
async fn wrong_or_missing_signature_is_401_and_stores_nothing() {
    let s = setup();
    let body = body(&[("e1", "c1", "ringing")]);

    let mut tampered = signed(body.clone());
    let mut changed = body.to_vec();
    changed[10] ^= 1;
    *tampered.body_mut() = Bytes::from(changed);
    assert_eq!(s.receiver.handle(tampered).await.status(), 401);

    let wrong_key = http::Request::post(PATH)
        .header(
            "x-test-signature",
            format!("sha256={}", hex::encode(callhook::verify::hmac_sha256(b"other", &[&body]))),
        )
        .body(body.clone())
        .unwrap();
    assert_eq!(s.receiver.handle(wrong_key).await.status(), 401);

    let missing = http::Request::post(PATH).body(body.clone()).unwrap();
    assert_eq!(s.receiver.handle(missing).await.status(), 401);

    let malformed = http::Request::post(PATH).header("x-test-signature", "md5=zz").body(body).unwrap();
    assert_eq!(s.receiver.handle(malformed).await.status(), 401);

    assert!(all_events(&*s.storage).await.is_empty());
    assert_eq!(s.scheduler.next_due_at(Queue::Events).await.unwrap(), None);
}

#[tokio::test]
async fn body_over_the_limit_is_413_and_stores_nothing() {
    let s = setup();
    let big = "x".repeat(5000);
    let body = body(&[("e1", "c1", &big)]);
    assert_eq!(s.receiver.handle(signed(body)).await.status(), 413);
    assert!(all_events(&*s.storage).await.is_empty());
}

#[tokio::test]
async fn unknown_path_is_404_and_wrong_method_is_405() {
    let s = setup();
    let other = http::Request::post("/webhooks/other").body(Bytes::new()).unwrap();
    assert_eq!(s.receiver.handle(other).await.status(), 404);
    let get = http::Request::get(PATH).body(Bytes::new()).unwrap();
    assert_eq!(s.receiver.handle(get).await.status(), 405);
    assert!(all_events(&*s.storage).await.is_empty());
}

#[tokio::test]
async fn verified_but_unparsable_body_is_kept_as_failed_and_reprocessable_after_an_upgrade() {
    let s = setup();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = s.worker().handler(recording_handler(seen.clone())).build();

    let garbage = Bytes::from_static(b"{\"events\": not json");
    assert_eq!(s.receiver.handle(signed(garbage.clone())).await.status(), 200);
    let v2 = body(&[("e1", "c1", "v2:completed")]);
    assert_eq!(s.receiver.handle(signed(v2.clone())).await.status(), 200);
    // The same garbage again is a duplicate, not a second failure.
    assert_eq!(s.receiver.handle(signed(garbage)).await.status(), 200);

    let failed = s.storage.list_events(&EventFilter::default().status(EventStatus::Failed)).await.unwrap();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|e| e.event_type == UNPARSED_EVENT_TYPE && e.event.is_none()));
    assert!(failed[0].last_error.as_deref().unwrap().contains("v2 status"), "{:?}", failed[0].last_error);
    let detail = s.storage.event(failed[0].id).await.unwrap().unwrap();
    assert_eq!(detail.delivery.body, v2);
    assert!(detail.delivery.parse_error.is_some());
    assert_eq!(worker.run_due().await.unwrap(), 0, "unparsable deliveries are not retried on their own");

    // Reprocessing before the upgrade fails again, at once, keeping the history.
    worker.reprocess(failed[0].id).await.unwrap();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let placeholder = s.storage.event(failed[0].id).await.unwrap().unwrap();
    assert_eq!(placeholder.event.status, EventStatus::Failed);
    assert_eq!(placeholder.attempts.len(), 1);

    // After the upgrade, reprocessing parses the stored bytes and handles the events.
    s.provider.upgrade();
    worker.reprocess(failed[0].id).await.unwrap();
    assert_eq!(worker.run_due().await.unwrap(), 1, "the placeholder is parsed again");
    assert_eq!(worker.run_due().await.unwrap(), 1, "the event it yielded is handled");
    let placeholder = s.storage.event(failed[0].id).await.unwrap().unwrap();
    assert_eq!(placeholder.event.status, EventStatus::Processed);
    assert_eq!(placeholder.attempts.len(), 2);
    let parsed = s.storage.list_events(&EventFilter::default().event_type("call.v2:completed")).await.unwrap();
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].delivery_id, placeholder.delivery.id);
    assert!(parsed[0].processed());
    assert_eq!(*seen.lock().unwrap(), vec![parsed[0].id.0]);
    let call = s.storage.call_state(&PROVIDER, "c1").await.unwrap().unwrap();
    assert_eq!(call.status, Some(CallStatus::Completed));
}

/// One item of a batch that cannot be read is stored on its own as failed, with its raw
/// JSON and error, while the others are handled; reprocessing it re-reads the delivery
/// (failing again until an upgrade, then handling the item).
#[tokio::test]
async fn an_unreadable_item_spoils_nothing_else_of_its_batch_and_is_reprocessable() {
    let s = setup();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = s.worker().handler(recording_handler(seen.clone())).build();

    let batch = body(&[("e1", "c1", "ringing"), ("e2", "c1", "item-v2:completed"), ("e3", "c2", "busy")]);
    assert_eq!(s.receiver.handle(signed(batch.clone())).await.status(), 200);
    assert_eq!(worker.run_due().await.unwrap(), 2, "the two readable items are handled, the other is not retried");
    let processed = s.storage.list_events(&EventFilter::default().status(EventStatus::Processed)).await.unwrap();
    assert_eq!(processed.iter().map(|e| e.dedupe_key.as_str()).collect::<Vec<_>>(), ["e3", "e1"]);
    let failed = s.storage.list_events(&EventFilter::default().status(EventStatus::Failed)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].event_type, UNPARSED_EVENT_TYPE);
    assert_eq!(failed[0].last_error.as_deref(), Some("item v2 status"));
    let Some(callhook::event::Event::Unmodeled(item)) = &failed[0].event else { panic!("{:?}", failed[0].event) };
    assert_eq!(item.data["status"], "item-v2:completed", "the item's raw JSON is kept");
    let detail = s.storage.event(failed[0].id).await.unwrap().unwrap();
    assert_eq!(detail.delivery.parse_error, None, "the delivery itself parsed");

    // Redelivered: nothing new, the unreadable item included.
    assert_eq!(s.receiver.handle(signed(batch)).await.status(), 200);
    assert_eq!(all_events(&*s.storage).await.len(), 3);

    // Reprocessing before the upgrade fails again with the item's error.
    worker.reprocess(failed[0].id).await.unwrap();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let placeholder = s.storage.event(failed[0].id).await.unwrap().unwrap();
    assert_eq!(placeholder.event.status, EventStatus::Failed);
    assert_eq!(placeholder.event.last_error.as_deref(), Some("item v2 status"));
    assert_eq!(all_events(&*s.storage).await.len(), 3, "its siblings are not stored twice");

    s.provider.upgrade();
    worker.reprocess(failed[0].id).await.unwrap();
    assert_eq!(worker.run_due().await.unwrap(), 1, "the placeholder re-reads the delivery");
    assert_eq!(worker.run_due().await.unwrap(), 1, "the item it now yields is handled");
    assert_eq!(s.storage.event(failed[0].id).await.unwrap().unwrap().event.status, EventStatus::Processed);
    let item = s.storage.list_events(&EventFilter::default().event_type("call.item-v2:completed")).await.unwrap();
    assert_eq!((item.len(), item[0].dedupe_key.as_str()), (1, "e2"));
    assert_eq!(seen.lock().unwrap().len(), 3);
    let call = s.storage.call_state(&PROVIDER, "c1").await.unwrap().unwrap();
    assert_eq!(call.status, Some(CallStatus::Completed));
}

#[tokio::test]
async fn storage_failure_is_503_and_nothing_is_acknowledged() {
    let storage = Arc::new(SwitchableStorage::default());
    let scheduler = Arc::new(MemoryJobQueue::new());
    let receiver = Receiver::builder()
        .event_log(storage.clone())
        .job_queue(scheduler.clone())
        .mount(PATH, TestProvider::new())
        .build()
        .unwrap();
    let body = body(&[("e1", "c1", "ringing")]);

    storage.down.store(true, Ordering::SeqCst);
    assert_eq!(receiver.handle(signed(body.clone())).await.status(), 503);
    assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), None, "nothing scheduled");

    // The provider retries once storage is back: stored exactly once.
    storage.down.store(false, Ordering::SeqCst);
    assert_eq!(receiver.handle(signed(body)).await.status(), 200);
    assert_eq!(all_events(&storage.inner).await.len(), 1);
}

/// A write slower than the storage timeout is answered 503 (outcome `unavailable`); it
/// commits later all the same, and the provider's retry is then a duplicate: one event.
#[tokio::test(start_paused = true)]
async fn a_write_slower_than_the_storage_timeout_is_503_and_its_retry_a_duplicate() {
    let storage = Arc::new(SlowStorage::closed());
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let seen = outcomes.clone();
    let receiver = Receiver::builder()
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .mount(PATH, TestProvider::new())
        .storage_timeout(Duration::from_secs(2))
        .observer(move |_: &callhook::event::ProviderId, outcome: &RequestOutcome| {
            seen.lock().unwrap().push(*outcome);
        })
        .build()
        .unwrap();
    let body = body(&[("e1", "c1", "ringing")]);

    // The paused clock runs the 2 s out as soon as nothing else can happen.
    let response = receiver.handle(signed(body.clone())).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.body().as_ref(), b"storage unavailable");
    assert!(all_events(&*storage.inner).await.is_empty(), "not committed yet");

    // The write commits after its caller gave up.
    storage.open();
    while all_events(&*storage.inner).await.is_empty() {
        tokio::task::yield_now().await;
    }
    // The provider's retry is acknowledged as a duplicate of it.
    assert_eq!(receiver.handle(signed(body)).await.status(), 200);
    assert_eq!(all_events(&*storage.inner).await.len(), 1, "one event");
    let outcomes = outcomes.lock().unwrap().clone();
    assert_eq!(outcomes, [RequestOutcome::Unavailable, RequestOutcome::Accepted { inserted: 0, duplicates: 1 }]);
    assert_eq!(outcomes[0].label(), "unavailable");
}

#[tokio::test(start_paused = true)]
async fn handler_failing_twice_then_succeeding_is_processed_after_three_attempts() {
    let s = setup();
    s.receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await;
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let alerts = Arc::new(AtomicU32::new(0));
    let alert_count = alerts.clone();
    let worker = s
        .worker()
        .retry_policy(RetryPolicy::new(Duration::from_secs(10)).max_attempts(5).jitter(0.0))
        .handler(handler_fn(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move { if n < 2 { Err::<(), HandlerError>(format!("crm down #{}", n + 1).into()) } else { Ok(()) } }
        }))
        .alert(alert_fn(move |_| {
            alert_count.fetch_add(1, Ordering::SeqCst);
            async {}
        }))
        .build();
    let mut updates = worker.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(async { stopped.await.unwrap_or(()) }).await }
    });
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(updates.recv().await.unwrap().event.status);
    }
    stop.send(()).unwrap();
    running.await.unwrap();

    assert_eq!(seen, [EventStatus::Pending, EventStatus::Pending, EventStatus::Processed]);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(alerts.load(Ordering::SeqCst), 0);
    let id = all_events(&*s.storage).await[0].id;
    let detail = s.storage.event(id).await.unwrap().unwrap();
    assert!(detail.event.processed());
    assert_eq!(detail.event.attempts, 3);
    let errors: Vec<_> = detail.attempts.iter().map(|a| a.error.as_deref()).collect();
    assert_eq!(errors, [Some("crm down #1"), Some("crm down #2"), None]);
    // Waits of 10 s then 20 s between attempts, on the injected clock.
    let starts: Vec<_> = detail.attempts.iter().map(|a| a.started_at).collect();
    assert_eq!(starts[1] - starts[0], time::Duration::seconds(10));
    assert_eq!(starts[2] - starts[1], time::Duration::seconds(20));
}

#[tokio::test(start_paused = true)]
async fn handler_always_failing_ends_failed_with_one_alert() {
    let s = setup();
    s.receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await;
    let alerts = Arc::new(Mutex::new(Vec::<Alert>::new()));
    let sink = alerts.clone();
    let worker = s
        .worker()
        .retry_policy(RetryPolicy::new(Duration::from_secs(60)).max_attempts(4))
        .handler(handler_fn(|_| async { Err::<(), HandlerError>("crm rejected the event".into()) }))
        .alert(alert_fn(move |alert| {
            sink.lock().unwrap().push(alert);
            async {}
        }))
        .build();
    let mut updates = worker.subscribe();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(std::future::pending()).await }
    });
    loop {
        if updates.recv().await.unwrap().event.status == EventStatus::Failed {
            break;
        }
    }
    // Give the worker the chance to (wrongly) do more: two virtual hours, longer than
    // any wait of this policy; time is paused, so this takes milliseconds.
    tokio::time::sleep(Duration::from_secs(7_200)).await;
    running.abort();

    {
        let alerts = alerts.lock().unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].error, "crm rejected the event");
        assert_eq!(alerts[0].event.attempts, 4);
    }
    let record = all_events(&*s.storage).await.remove(0);
    assert_eq!(record.status, EventStatus::Failed);
    assert_eq!(record.attempts, 4);
    assert_eq!(s.storage.event(record.id).await.unwrap().unwrap().attempts.len(), 4);

    // A failed event can be reprocessed: a fresh round, the history kept.
    worker.reprocess(record.id).await.unwrap();
    worker.run_due().await.unwrap();
    assert_eq!(s.storage.event(record.id).await.unwrap().unwrap().attempts.len(), 5);
}

#[tokio::test]
async fn a_panicking_handler_is_a_failed_attempt_not_a_dead_worker() {
    let s = setup();
    s.receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await;
    let worker = s
        .worker()
        .retry_policy(RetryPolicy::new(Duration::from_secs(1)).max_attempts(1))
        .handler(handler_fn(|_| async { panic!("handler bug") }))
        .alert(alert_fn(|_| async {}))
        .build();
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let record = all_events(&*s.storage).await.remove(0);
    assert_eq!(record.status, EventStatus::Failed);
    assert_eq!(record.last_error.as_deref(), Some("handler panicked"));
}

#[tokio::test]
async fn events_stored_without_a_job_are_recovered() {
    // A receiver whose scheduler is lost (process restart with an in-process queue).
    let s = setup();
    s.receiver.handle(signed(body(&[("e1", "c1", "ringing"), ("e2", "c1", "completed")]))).await;
    let fresh_scheduler = Arc::new(MemoryJobQueue::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = Worker::builder(s.storage.clone(), fresh_scheduler)
        .clock(s.clock)
        .handler(recording_handler(seen.clone()))
        .build();
    assert_eq!(worker.run_due().await.unwrap(), 0);
    assert_eq!(worker.recover().await.unwrap(), 2);
    assert_eq!(worker.recover().await.unwrap(), 0, "jobs are not duplicated");
    assert_eq!(worker.run_due().await.unwrap(), 2);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn insecure_mount_skips_verification_and_says_so_in_the_log() {
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .mount_insecure_without_verification(PATH, TestProvider::new())
        .build()
        .unwrap();
    let unsigned = http::Request::post(PATH).body(body(&[("e1", "c1", "ringing")])).unwrap();
    assert_eq!(receiver.handle(unsigned).await.status(), 200);
    let id = all_events(&*storage).await[0].id;
    assert_eq!(storage.event(id).await.unwrap().unwrap().delivery.verification, Verification::Skipped);
}

#[tokio::test]
async fn observers_are_told_every_routed_outcome() {
    let storage = Arc::new(MemoryEventLog::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let receiver = Receiver::builder()
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .body_limit(4096)
        .mount(PATH, TestProvider::new())
        .observer(move |provider: &callhook::event::ProviderId, outcome: &RequestOutcome| {
            record.lock().unwrap().push((provider.to_string(), *outcome));
        })
        .build()
        .unwrap();
    let body = body(&[("e1", "c1", "ringing"), ("e2", "c1", "completed")]);
    receiver.handle(signed(body.clone())).await;
    receiver.handle(signed(body.clone())).await;
    receiver.handle(http::Request::post(PATH).body(body).unwrap()).await;
    receiver.handle(signed(Bytes::from_static(b"not json"))).await;
    receiver.handle(signed(Bytes::from(vec![b'x'; 5000]))).await;
    receiver.handle(http::Request::post("/elsewhere").body(Bytes::new()).unwrap()).await;

    let seen = seen.lock().unwrap().clone();
    let outcomes: Vec<_> = seen.iter().map(|(_, outcome)| *outcome).collect();
    assert_eq!(
        outcomes,
        [
            RequestOutcome::Accepted { inserted: 2, duplicates: 0 },
            RequestOutcome::Accepted { inserted: 0, duplicates: 2 },
            RequestOutcome::Rejected { reason: "missing_signature" },
            RequestOutcome::Unparsable,
            RequestOutcome::Rejected { reason: "too_large" },
        ],
        "an unrouted path is not reported"
    );
    assert!(seen.iter().all(|(provider, _)| provider == "test"));
    assert_eq!(outcomes[1].label(), "duplicate");
}

#[tokio::test(start_paused = true)]
async fn a_running_worker_finds_events_stored_without_a_job() {
    // Stored, but the job was lost (the scheduler's database went away in between).
    let s = setup();
    s.receiver.handle(signed(body(&[("e1", "c1", "ringing")]))).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = Worker::builder(s.storage.clone(), Arc::new(MemoryJobQueue::new()))
        .clock(s.clock)
        .handler(recording_handler(seen.clone()))
        .recover_every(Some(Duration::from_secs(30)))
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        worker
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(seen.lock().unwrap().is_empty(), "no job yet: nothing runs before the recovery pass");
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(seen.lock().unwrap().len(), 1, "found and processed without a restart");
    stop.send(()).unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn a_slow_handler_does_not_hold_back_the_other_slots() {
    // Concurrency 2: one event's handler hangs until released; the other slot keeps
    // taking events as they come instead of waiting for the slow one.
    let s = setup();
    s.receiver.handle(signed(body(&[("slow", "c0", "ringing")]))).await;
    let (release, released) = tokio::sync::watch::channel(false);
    let done = Arc::new(Mutex::new(Vec::new()));
    let handler = {
        let done = done.clone();
        handler_fn(move |detail| {
            let (done, mut released) = (done.clone(), released.clone());
            async move {
                if detail.event.dedupe_key.starts_with("slow") {
                    released.wait_for(|released| *released).await.unwrap();
                }
                done.lock().unwrap().push(detail.event.dedupe_key.clone());
                Ok::<_, HandlerError>(())
            }
        })
    };
    let worker = s.worker().concurrency(2).idle_poll(Duration::from_millis(20)).handler(handler).build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move { worker.run(async { stopped.await.unwrap_or(()) }).await });
    for i in 0..5 {
        let id = format!("fast{i}");
        s.receiver.handle(signed(body(&[(&id, "c1", "ringing")]))).await;
        tokio::time::timeout(Duration::from_secs(5), async {
            while !done.lock().unwrap().iter().any(|key| key.starts_with(&id)) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{id} waited for the slow handler"));
    }
    assert!(!done.lock().unwrap().iter().any(|key| key.starts_with("slow")));
    release.send(true).unwrap();
    stop.send(()).unwrap();
    running.await.unwrap();
    assert!(done.lock().unwrap().iter().any(|key| key.starts_with("slow")), "started jobs finish before run returns");
}
