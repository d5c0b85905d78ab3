//! LISTEN/NOTIFY on a real PostgreSQL server: a store's workers are woken by jobs that
//! another store (another process) adds to the same schema, without waiting for their
//! poll.

mod support;

use std::sync::Arc;
use std::time::Duration;

use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{EventId, NewDelivery, NewEvent};
use callhook::job_queue::{JobQueue, NewJob};
use callhook::store::Store;
use callhook_postgres::PostgresStore;

const ACME: ProviderId = ProviderId::from_static("acme");
/// Far longer than any test: a waiter that returns was woken, not timed out.
const FOREVER: Duration = Duration::from_secs(3600);

/// Two stores on one schema, as two receivers sharing a database.
async fn two_stores() -> Option<(PostgresStore, Arc<PostgresStore>)> {
    let url = support::server_url()?;
    let schema = support::new_schema(&url).await;
    let adding = support::store_in(&url, &schema).await;
    let waiting = Arc::new(support::store_in(&url, &schema).await);
    Some((adding, waiting))
}

/// Adds jobs through `add` until `waiting` wakes (its wait may begin after the first
/// notification went by); fails if it never does.
async fn wakes(waiting: Arc<PostgresStore>, mut add: impl AsyncFnMut(u32)) {
    let woken = tokio::spawn(async move { waiting.wait_for_work(FOREVER).await });
    for n in 0..1000 {
        if woken.is_finished() {
            return;
        }
        add(n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the other store's worker was never woken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stores_append_wakes_this_stores_workers() {
    let Some((adding, waiting)) = two_stores().await else { return };
    wakes(waiting, async |n| {
        let key = format!("key-{n}");
        let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::UNIX_EPOCH, key.clone());
        let event = NewEvent::parsed("ping", key, Event::Unmodeled(UnmodeledEvent::new(ACME, "ping")));
        adding.append_and_schedule(delivery, vec![event]).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stores_scheduled_job_wakes_this_stores_workers() {
    let Some((adding, waiting)) = two_stores().await else { return };
    wakes(waiting, async |n| {
        let job = NewJob::process_event(EventId(i64::from(n) + 1), time::OffsetDateTime::UNIX_EPOCH);
        adding.schedule(job).await.unwrap();
    })
    .await;
}
