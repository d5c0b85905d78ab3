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
