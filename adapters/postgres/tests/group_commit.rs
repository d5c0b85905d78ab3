//! Group commit on a real PostgreSQL server: appends that arrive together share a
//! transaction, and one that the server refuses fails alone, its neighbours stored.

mod support;

use std::sync::Arc;

use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{EventFilter, EventLog, NewDelivery, NewEvent};
use callhook::store::Store;

const ACME: ProviderId = ProviderId::from_static("acme");

fn append(key: &str) -> (NewDelivery, Vec<NewEvent>) {
    let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::UNIX_EPOCH, key.to_owned());
    (delivery, vec![NewEvent::parsed("ping", key, Event::Unmodeled(UnmodeledEvent::new(ACME, "ping")))])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_append_fails_alone_and_its_batch_is_stored() {
    let Some(store) = support::fresh().await else { return };
    let mut tasks = Vec::new();
    for n in 0..64 {
        let store: Arc<_> = store.clone();
        // PostgreSQL refuses a NUL character in text: this one append cannot be stored.
        let key = if n == 17 { "bad\u{0}key".to_owned() } else { format!("key-{n}") };
        tasks.push(tokio::spawn(async move {
            let (delivery, events) = append(&key);
            (n, store.append_and_schedule(delivery, events).await)
        }));
    }
    for task in tasks {
        let (n, result) = task.await.unwrap();
        assert_eq!(result.is_err(), n == 17, "append {n}: {result:?}");
    }
    let stored = store.list_events(&EventFilter::default().limit(1000)).await.unwrap();
    assert_eq!(stored.len(), 63, "every other append is stored");
    let mut ids: Vec<i64> = stored.iter().map(|e| e.id.0).collect();
    ids.dedup();
    assert_eq!(ids.len(), 63);
}

fn at(seconds: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds)
}

/// A finish under a lease that ran out, batched with the finish of the job's new
/// owner: only the owner holds the lease, whatever shares their transaction, and only
/// the owner's attempt sets the event's status (the stale one is kept in the history).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_finish_in_the_same_batch_as_the_owners_is_told_its_lease_was_lost() {
    use callhook::event_log::{AttemptReport, AttemptResult};
    use callhook::job_queue::{JobKind, JobQueue, JobQueueError, Queue};
    use callhook::store::StoreError;
    let Some(url) = support::server_url() else { return };
    let schema = support::new_schema(&url).await;
    let mut config = <callhook_postgres::Config as std::str::FromStr>::from_str(&url).unwrap();
    config.options(format!("-c search_path={schema}"));
    // One writer, kept busy by other finishes, so the two queue up into one batch.
    let options = callhook_postgres::Options::default().pool_size(8).group_commit_writers(1);
    let store = Arc::new(callhook_postgres::PostgresStore::connect_config(config, options).await.unwrap());
    let long = std::time::Duration::from_secs(100_000);
    let short = std::time::Duration::from_secs(10);
    for round in 0..10i64 {
        let base = round * 1_000_000;
        let (delivery, _) = append(&format!("r{round}"));
        let others: Vec<NewEvent> = (0..32).map(|n| append(&format!("r{round}-{n}")).1.remove(0)).collect();
        store.append_and_schedule(delivery, others).await.unwrap();
        let others = store.claim_due(Queue::Events, at(base), 32, long).await.unwrap();
        let (delivery, events) = append(&format!("r{round}-target"));
        let target = store.append_and_schedule(delivery, events).await.unwrap().events[0].id();
        let stale = store.claim_due(Queue::Events, at(base), 1, short).await.unwrap().remove(0);
        assert_eq!(stale.job.kind, JobKind::ProcessEvent { event_id: target });
        let owner = store.claim_due(Queue::Events, at(base + 11), 1, short).await.unwrap().remove(0);
        assert_eq!((owner.job.id, owner.lease != stale.lease), (stale.job.id, true));
        let busy: Vec<_> = others
            .into_iter()
            .map(|claim| {
                let store = store.clone();
                tokio::spawn(async move {
                    let JobKind::ProcessEvent { event_id } = claim.job.kind else { return };
                    let report = AttemptReport::new(at(base), at(base), AttemptResult::Processed);
                    store.finish_attempt(&claim, event_id, report).await.unwrap();
                })
            })
            .collect();
        let failed = AttemptResult::Failed { error: "late".into() };
        let (late, owned) = tokio::join!(
            store.finish_attempt(&stale, target, AttemptReport::new(at(base + 12), at(base + 12), failed)),
            store.finish_attempt(
                &owner,
                target,
                AttemptReport::new(at(base + 12), at(base + 12), AttemptResult::Processed)
            )
        );
        for task in busy {
            task.await.unwrap();
        }
        assert!(owned.is_ok(), "round {round}: {owned:?}");
        assert!(
            matches!(late, Err(StoreError::JobQueue(JobQueueError::LeaseLost(_)))),
            "round {round}: the stale finish was answered {late:?}"
        );
        let detail = store.event(target).await.unwrap().unwrap();
        let event = &detail.event;
        assert_eq!(
            (event.status, event.attempts, event.last_error.as_deref(), detail.attempts.len()),
            (callhook::event_log::EventStatus::Processed, 2, None, 2),
            "round {round}"
        );
    }
}
