//! The [`EventLog`], [`JobQueue`] and [`Store`] contract as a reusable test suite
//! (feature `testing`): every implementation, in this crate or yours, runs the same
//! checks.
//!
//! Each check is an `async fn` taking a fresh, empty store; the
//! [`event_log_conformance_tests!`](crate::event_log_conformance_tests) and
//! [`job_queue_conformance_tests!`](crate::job_queue_conformance_tests) macros turn
//! them into one `#[tokio::test]` each, given an expression that builds a fresh store
//! (evaluated once per test):
//!
//! ```ignore
//! callhook::event_log_conformance_tests!(async { std::sync::Arc::new(my_crate::MyStore::open_temp().await) });
//! callhook::job_queue_conformance_tests!(async { std::sync::Arc::new(my_crate::MyStore::open_temp().await) });
//! // A store that is both (see `callhook::store`):
//! callhook::store_conformance_tests!(async { std::sync::Arc::new(my_crate::MyStore::open_temp().await) });
//! ```
//!
//! The macros need `tokio` (with the `macros` and `rt-multi-thread` features) among the
//! calling crate's dev-dependencies.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::event::{
    CallEvent, CallStatus, Event, MessageEvent, MessageKind, MessageStatus, ProviderId, StatusUpdate, UnmodeledEvent,
};
use crate::event_log::{
    Appended, AttemptReport, AttemptResult, EventCount, EventFilter, EventId, EventLog, EventLogError, EventRecord,
    EventStatus, NewDelivery, NewEvent, Verification,
};
use crate::job_queue::{JobKind, JobQueue, JobQueueError, NewJob, Queue};
use crate::store::{Store, StoreError};

const ACME: ProviderId = ProviderId::from_static("acme");
const OTHER: ProviderId = ProviderId::from_static("other");
const T0: OffsetDateTime = datetime!(2026-12-01 10:00:00.123456789 UTC);

fn at(seconds: i64) -> OffsetDateTime {
    T0 + time::Duration::seconds(seconds)
}

fn delivery(provider: ProviderId, received_at: OffsetDateTime, body: impl Into<Bytes>) -> NewDelivery {
    NewDelivery::new(provider, "/webhooks/test", received_at, body)
}

fn call(provider: ProviderId, call_id: &str, status: CallStatus) -> Event {
    let mut event = CallEvent::new(provider, call_id);
    event.status = Some(status);
    Event::Call(event)
}

fn ping(provider: ProviderId, key: &str) -> NewEvent {
    NewEvent::parsed("ping", key, Event::Unmodeled(UnmodeledEvent::new(provider, "ping")))
}

/// Every check of the storage contract, in order (what the macro expands to, as one
/// function).
pub async fn storage_all<S: EventLog>(new: impl AsyncFn() -> Arc<S>) {
    append_stores_delivery_and_events_atomically(new().await).await;
    duplicate_keys_are_reported_not_inserted(new().await).await;
    concurrent_appends_of_one_key_insert_once(new().await).await;
    listing_filters_and_pages_newest_first(new().await).await;
    searching_and_counting_events(new().await).await;
    state_folds_whatever_the_order(new().await).await;
    attempts_are_recorded_and_failed_events_reprocessed(new().await).await;
    unparsed_events_are_stored_failed(new().await).await;
    events_can_be_added_to_an_existing_delivery(new().await).await;
    several_events_are_read_at_once(new().await).await;
    accounts_and_contacts_are_kept_and_filtered(new().await).await;
    events_are_found_by_the_calls_they_link_to(new().await).await;
}

/// Events are found by the other calls they link to ([`EventFilter::links_to`]), and
/// a call's folded state keeps its links.
pub async fn events_are_found_by_the_calls_they_link_to<S: EventLog>(storage: Arc<S>) {
    use crate::event::{CallLink, LinkVia};
    let leg = |call_id: &str, links: Vec<CallLink>| {
        let mut event = CallEvent::new(ACME, call_id);
        event.links = links;
        Event::Call(event)
    };
    let retell = CallLink::new(OTHER, "call_1", LinkVia::SipUri);
    let parent = CallLink::new(ACME, "CA-parent", LinkVia::ParentCall);
    storage
        .append(
            delivery(ACME, T0, "a"),
            vec![NewEvent::parsed("leg", "k1", leg("CA-child", vec![parent.clone(), retell.clone()]))],
        )
        .await
        .unwrap();
    storage
        .append(delivery(ACME, at(1), "b"), vec![NewEvent::parsed("parent", "k2", leg("CA-parent", vec![]))])
        .await
        .unwrap();
    let mut other = CallEvent::new(OTHER, "call_1");
    other.links.push(CallLink::new(ACME, "CA-parent", LinkVia::TelephonyIdentifier));
    storage.append(delivery(OTHER, at(2), "c"), vec![NewEvent::parsed("ai", "k3", Event::Call(other))]).await.unwrap();

    let keys = |events: Vec<crate::event_log::EventRecord>| -> Vec<String> {
        events.into_iter().map(|e| e.dedupe_key).collect()
    };
    let to_parent = storage.list_events(&EventFilter::default().links_to("CA-parent")).await.unwrap();
    assert_eq!(keys(to_parent), ["k3", "k1"], "the child leg and the other provider's call name the parent");
    let to_retell = storage.list_events(&EventFilter::default().links_to("call_1")).await.unwrap();
    assert_eq!(keys(to_retell), ["k1"]);
    assert!(storage.list_events(&EventFilter::default().links_to("CA-child")).await.unwrap().is_empty());
    let counted = storage.event_counts(&EventFilter::default().links_to("CA-parent").provider(OTHER)).await.unwrap();
    assert_eq!(counted, [EventCount::new(OTHER, EventStatus::Pending, 1)]);
    let state = storage.call_state(&ACME, "CA-child").await.unwrap().unwrap();
    assert_eq!(state.links, [parent, retell]);
}

/// The account a delivery came from and the key that verified it are kept with it and
/// its events; events are listed and counted by account and by customer (contact).
pub async fn accounts_and_contacts_are_kept_and_filtered<S: EventLog>(storage: Arc<S>) {
    use crate::account::{AccountId, KeySlot};
    use crate::event::ContactId;
    let customer_call = |call_id: &str, number: &str| {
        let mut event = CallEvent::new(ACME, call_id);
        event.customer = Some(ContactId::phone(number));
        Event::Call(event)
    };
    let mut acme = delivery(ACME, T0, "a");
    acme.account = Some(AccountId::new("brand-a"));
    acme.key = Some(KeySlot::Next);
    let first = storage
        .append(acme, vec![NewEvent::parsed("call", "k1", customer_call("c1", "+5511987654321")), ping(ACME, "k2")])
        .await
        .unwrap();
    let mut unnamed = delivery(ACME, at(1), "b");
    unnamed.key = Some(KeySlot::Current);
    storage.append(unnamed, vec![NewEvent::parsed("call", "k3", customer_call("c2", "+14155550100"))]).await.unwrap();
    let mut other = delivery(OTHER, at(2), "c");
    other.account = Some(AccountId::new("brand-a"));
    storage.append(other, vec![NewEvent::parsed("call", "k4", customer_call("c3", "+5511987654321"))]).await.unwrap();

    let detail = storage.event(first.events[0].id()).await.unwrap().unwrap();
    assert_eq!(detail.event.account, Some(AccountId::new("brand-a")));
    assert_eq!(
        (detail.delivery.account.clone(), detail.delivery.key),
        (Some(AccountId::new("brand-a")), Some(KeySlot::Next))
    );
    let skipped = storage.append(delivery(ACME, at(3), "d"), vec![ping(ACME, "k5")]).await.unwrap();
    let skipped = storage.event(skipped.events[0].id()).await.unwrap().unwrap();
    assert_eq!((skipped.event.account, skipped.delivery.account, skipped.delivery.key), (None, None, None));

    let keys = |events: Vec<crate::event_log::EventRecord>| -> Vec<String> {
        events.into_iter().map(|e| e.dedupe_key).collect()
    };
    let by_account = storage.list_events(&EventFilter::default().account(AccountId::new("brand-a"))).await.unwrap();
    assert_eq!(keys(by_account), ["k4", "k2", "k1"], "both providers' events of the account, newest first");
    let acme_a = EventFilter::default().account(AccountId::new("brand-a")).provider(ACME);
    assert_eq!(keys(storage.list_events(&acme_a).await.unwrap()), ["k2", "k1"]);
    assert!(storage.list_events(&EventFilter::default().account(AccountId::new("nobody"))).await.unwrap().is_empty());
    let by_contact = storage.list_events(&EventFilter::default().contact("+5511987654321")).await.unwrap();
    assert_eq!(keys(by_contact), ["k4", "k1"], "the customer's events across providers");
    let counts = storage.event_counts(&EventFilter::default().contact("+14155550100")).await.unwrap();
    assert_eq!(counts, [EventCount::new(ACME, EventStatus::Pending, 1)]);
}

/// [`EventLog::events`] gives what [`EventLog::event`] gives for each id, in the order
/// asked, `None` for unknown ids.
pub async fn several_events_are_read_at_once<S: EventLog>(storage: Arc<S>) {
    let first = storage.append(delivery(ACME, T0, "a"), vec![ping(ACME, "k1"), ping(ACME, "k2")]).await.unwrap();
    let second = storage.append(delivery(OTHER, at(1), "b"), vec![ping(OTHER, "k3")]).await.unwrap();
    let (a, b, c) = (first.events[0].id(), first.events[1].id(), second.events[0].id());
    storage.record_attempt(b, AttemptReport::new(at(2), at(3), AttemptResult::Processed)).await.unwrap();
    let missing = EventId(c.0 + 1000);
    let details = storage.events(vec![c, missing, a, b]).await.unwrap();
    let mut expected = Vec::new();
    for id in [c, missing, a, b] {
        expected.push(storage.event(id).await.unwrap());
    }
    assert_eq!(details, expected);
    assert!(details[1].is_none());
    assert_eq!(details[3].as_ref().unwrap().attempts.len(), 1);
    assert!(storage.events(Vec::new()).await.unwrap().is_empty());
}

/// A delivery and its events are stored together and read back exactly: body bytes
/// (not UTF-8 too), headers, query, verification, times to the nanosecond.
pub async fn append_stores_delivery_and_events_atomically<S: EventLog>(storage: Arc<S>) {
    let body = Bytes::from_static(b"{\"a\":1}\xff\x00binary");
    let mut new = delivery(ACME, T0, body.clone());
    new.query = Some("x=1&y=%20".into());
    new.headers = vec![("content-type".into(), "application/json".into()), ("x-id".into(), "42".into())];
    new.verification = Verification::Skipped;
    let events = vec![
        NewEvent::parsed("call.ringing", "k1", call(ACME, "c1", CallStatus::Ringing)),
        NewEvent::parsed("call.completed", "k2", call(ACME, "c1", CallStatus::Completed)),
        ping(ACME, "k3"),
    ];
    let outcome = storage.append(new, events).await.expect("append");
    assert_eq!(outcome.events.len(), 3);
    let ids: Vec<EventId> = outcome
        .events
        .iter()
        .map(|appended| match appended {
            Appended::Inserted(id) => *id,
            Appended::Duplicate(_) => panic!("nothing was stored before"),
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow in append order: {ids:?}");

    let detail = storage.event(ids[1]).await.expect("read").expect("stored");
    assert_eq!(detail.event.id, ids[1]);
    assert_eq!(detail.event.delivery_id, outcome.delivery_id);
    assert_eq!(detail.event.provider, ACME);
    assert_eq!(detail.event.event_type, "call.completed");
    assert_eq!(detail.event.dedupe_key, "k2");
    assert_eq!(detail.event.event, Some(call(ACME, "c1", CallStatus::Completed)));
    assert_eq!(detail.event.status, EventStatus::Pending);
    assert_eq!(detail.event.attempts, 0);
    assert_eq!(detail.event.received_at, T0);
    assert_eq!(detail.event.next_attempt_at, Some(T0));
    assert_eq!(detail.delivery.id, outcome.delivery_id);
    assert_eq!(detail.delivery.body, body);
    assert_eq!(detail.delivery.query.as_deref(), Some("x=1&y=%20"));
    assert_eq!(detail.delivery.headers.len(), 2);
    assert_eq!(detail.delivery.headers[1], ("x-id".to_owned(), "42".to_owned()));
    assert_eq!(detail.delivery.verification, Verification::Skipped);
    assert_eq!(detail.delivery.received_at, T0);
    assert!(detail.attempts.is_empty());
    assert!(storage.event(EventId(ids[2].0 + 1000)).await.expect("read").is_none());
    storage.ping().await.expect("ping");
}

/// A `(provider, dedupe key)` seen before is a duplicate (of the first id), also
/// within one batch; the same key under another provider is a different event.
pub async fn duplicate_keys_are_reported_not_inserted<S: EventLog>(storage: Arc<S>) {
    let first = storage.append(delivery(ACME, T0, "1"), vec![ping(ACME, "k")]).await.unwrap();
    let first_id = first.events[0].id();
    let again = storage
        .append(delivery(ACME, at(1), "2"), vec![ping(ACME, "k"), ping(ACME, "new"), ping(ACME, "new")])
        .await
        .unwrap();
    assert_eq!(again.events[0], Appended::Duplicate(first_id));
    let Appended::Inserted(new_id) = again.events[1] else { panic!("new key inserted: {:?}", again.events) };
    assert_eq!(again.events[2], Appended::Duplicate(new_id), "a key repeated within a batch is stored once");
    assert_ne!(again.delivery_id, first.delivery_id, "the delivery itself is always stored");
    let other = storage.append(delivery(OTHER, at(2), "3"), vec![ping(OTHER, "k")]).await.unwrap();
    assert!(matches!(other.events[0], Appended::Inserted(_)), "keys are unique per provider");
    let all = storage.list_events(&EventFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
}

/// Many tasks appending the same key at once: exactly one inserts, the others see
/// its id as a duplicate.
pub async fn concurrent_appends_of_one_key_insert_once<S: EventLog>(storage: Arc<S>) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                let events = vec![ping(ACME, "contended"), ping(ACME, &format!("own-{i}"))];
                storage.append(delivery(ACME, at(i), format!("{i}")), events).await.unwrap()
            })
        })
        .collect();
    let mut inserted = Vec::new();
    let mut duplicates = Vec::new();
    for task in tasks {
        let outcome = task.await.unwrap();
        match outcome.events[0] {
            Appended::Inserted(id) => inserted.push(id),
            Appended::Duplicate(id) => duplicates.push(id),
        }
        assert!(matches!(outcome.events[1], Appended::Inserted(_)));
    }
    assert_eq!(inserted.len(), 1, "exactly one insert wins");
    assert!(duplicates.iter().all(|id| *id == inserted[0]), "duplicates point at the winner");
    let all = storage.list_events(&EventFilter::default().limit(1000)).await.unwrap();
    assert_eq!(all.len(), 33);
}

/// Filters by provider, type, status and time; newest first; `before` pages.
pub async fn listing_filters_and_pages_newest_first<S: EventLog>(storage: Arc<S>) {
    for i in 0..10 {
        let provider = if i % 2 == 0 { ACME } else { OTHER };
        let event = NewEvent::parsed(
            if i < 5 { "early" } else { "late" },
            format!("k{i}"),
            call(provider.clone(), "c", CallStatus::Ringing),
        );
        storage.append(delivery(provider, at(i * 60), "x"), vec![event]).await.unwrap();
    }
    storage.append(delivery(ACME, at(600), "bad"), vec![NewEvent::unparsed("bad", "no parse")]).await.unwrap();

    let all = storage.list_events(&EventFilter::default()).await.unwrap();
    assert_eq!(all.len(), 11);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");

    let acme = storage.list_events(&EventFilter::default().provider(ACME)).await.unwrap();
    assert_eq!(acme.len(), 6);
    assert!(acme.iter().all(|e| e.provider == ACME));
    let late = storage.list_events(&EventFilter::default().event_type("late")).await.unwrap();
    assert_eq!(late.len(), 5);
    let failed = storage.list_events(&EventFilter::default().status(EventStatus::Failed)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].dedupe_key, "bad");
    let window =
        storage.list_events(&EventFilter::default().received_between(Some(at(120)), Some(at(300)))).await.unwrap();
    assert_eq!(window.iter().map(|e| e.dedupe_key.as_str()).collect::<Vec<_>>(), ["k4", "k3", "k2"]);

    let page1 = storage.list_events(&EventFilter::default().limit(4)).await.unwrap();
    let page2 = storage.list_events(&EventFilter::default().limit(4).before(page1[3].id)).await.unwrap();
    assert_eq!(page1.len(), 4);
    assert_eq!(page2.len(), 4);
    assert!(page2[0].id < page1[3].id);
    let combined =
        storage.list_events(&EventFilter::default().provider(OTHER).event_type("late").limit(1)).await.unwrap();
    assert_eq!(combined[0].dedupe_key, "k9");
}

/// Events are found by subject (exact, across providers) and by search text (the
/// event id, or a substring of the dedupe key or subject id); counts group by provider
/// and status and honour every filter but the limit.
pub async fn searching_and_counting_events<S: EventLog>(storage: Arc<S>) {
    let events = [
        (ACME, "CA100:ringing", call(ACME, "CA100", CallStatus::Ringing)),
        (ACME, "CA100:completed", call(ACME, "CA100", CallStatus::Completed)),
        (OTHER, "o-1", call(OTHER, "CA100", CallStatus::Completed)),
        (ACME, "CA2000:ringing", call(ACME, "CA2000", CallStatus::Ringing)),
        (
            ACME,
            "wamid.XYZ:read",
            Event::Message(MessageEvent::new(
                ACME,
                "wamid.XYZ",
                MessageKind::Status(StatusUpdate::new(MessageStatus::Read)),
            )),
        ),
    ];
    let mut ids = Vec::new();
    for (i, (provider, key, event)) in events.into_iter().enumerate() {
        let outcome = storage
            .append(delivery(provider, at(i as i64), "x"), vec![NewEvent::parsed("status", key, event)])
            .await
            .unwrap();
        ids.push(outcome.events[0].id());
    }
    storage.append(delivery(ACME, at(9), "bad"), vec![NewEvent::unparsed("unparsed:CA100", "no parse")]).await.unwrap();
    let keys = async |filter: EventFilter| {
        storage.list_events(&filter).await.unwrap().into_iter().map(|e| e.dedupe_key).collect::<Vec<_>>()
    };

    assert_eq!(keys(EventFilter::default().subject("CA100")).await, ["o-1", "CA100:completed", "CA100:ringing"]);
    assert_eq!(keys(EventFilter::default().subject("CA10")).await, Vec::<String>::new(), "subject is exact");
    assert_eq!(keys(EventFilter::default().subject("wamid.XYZ")).await, ["wamid.XYZ:read"]);
    assert_eq!(
        keys(EventFilter::default().search("CA10")).await,
        ["unparsed:CA100", "o-1", "CA100:completed", "CA100:ringing"],
        "substring of dedupe key or subject"
    );
    assert_eq!(keys(EventFilter::default().search("XYZ").provider(ACME)).await, ["wamid.XYZ:read"]);
    // By event id (and, ids being numbers the store chooses, by any key containing it).
    let by_id = storage.list_events(&EventFilter::default().search(ids[3].to_string())).await.unwrap();
    assert!(by_id.iter().any(|e| e.id == ids[3]), "found by its id");
    assert!(by_id.iter().all(|e| e.id == ids[3] || e.dedupe_key.contains(&ids[3].to_string())));
    assert_eq!(keys(EventFilter::default().search("nothing")).await, Vec::<String>::new());

    let counts = storage.event_counts(&EventFilter::default().limit(1)).await.unwrap();
    assert_eq!(
        counts,
        [
            EventCount::new(ACME, EventStatus::Failed, 1),
            EventCount::new(ACME, EventStatus::Pending, 4),
            EventCount::new(OTHER, EventStatus::Pending, 1),
        ],
        "grouped, sorted, the limit ignored"
    );
    let counts =
        storage.event_counts(&EventFilter::default().search("CA100").status(EventStatus::Pending)).await.unwrap();
    assert_eq!(
        counts,
        [EventCount::new(ACME, EventStatus::Pending, 2), EventCount::new(OTHER, EventStatus::Pending, 1)]
    );
    let counts =
        storage.event_counts(&EventFilter::default().received_between(Some(at(1)), Some(at(3)))).await.unwrap();
    assert_eq!(
        counts,
        [EventCount::new(ACME, EventStatus::Pending, 1), EventCount::new(OTHER, EventStatus::Pending, 1)]
    );
    assert_eq!(storage.event_counts(&EventFilter::default().subject("none")).await.unwrap(), []);
}

/// Call and message state fold on append, whatever the order of arrival.
pub async fn state_folds_whatever_the_order<S: EventLog>(storage: Arc<S>) {
    let statuses = [CallStatus::Completed, CallStatus::Ringing, CallStatus::InProgress, CallStatus::Initiated];
    for (i, status) in statuses.into_iter().enumerate() {
        let event = NewEvent::parsed("call", format!("call-{i}"), call(ACME, "c9", status));
        storage.append(delivery(ACME, at(i as i64), "x"), vec![event]).await.unwrap();
    }
    let state = storage.call_state(&ACME, "c9").await.unwrap().expect("folded");
    assert_eq!(state.status, Some(CallStatus::Completed));
    assert!(storage.call_state(&OTHER, "c9").await.unwrap().is_none());

    for (i, status) in [MessageStatus::Read, MessageStatus::Sent, MessageStatus::Delivered].into_iter().enumerate() {
        let message = MessageEvent::new(ACME, "m1", MessageKind::Status(StatusUpdate::new(status)));
        let event = NewEvent::parsed("status", format!("m-{i}"), Event::Message(message));
        storage.append(delivery(ACME, at(i as i64), "x"), vec![event]).await.unwrap();
    }
    let state = storage.message_state(&ACME, "m1").await.unwrap().expect("folded");
    assert_eq!(state.status, Some(MessageStatus::Read));
    // A duplicate is not folded twice (and folding is idempotent anyway).
    let message = MessageEvent::new(ACME, "m1", MessageKind::Status(StatusUpdate::new(MessageStatus::Sent)));
    let duplicate = NewEvent::parsed("status", "m-1", Event::Message(message));
    storage.append(delivery(ACME, at(9), "x"), vec![duplicate]).await.unwrap();
    assert_eq!(storage.message_state(&ACME, "m1").await.unwrap().unwrap().status, Some(MessageStatus::Read));
}

/// Attempts are appended to the history; a failed event is reprocessed back to
/// pending with its history kept; unknown ids are reported.
pub async fn attempts_are_recorded_and_failed_events_reprocessed<S: EventLog>(storage: Arc<S>) {
    let outcome = storage.append(delivery(ACME, T0, "x"), vec![ping(ACME, "k")]).await.unwrap();
    let id = outcome.events[0].id();

    let retry = AttemptResult::Retry { error: "crm down".into(), next_attempt_at: at(10) };
    let record = storage.record_attempt(id, AttemptReport::new(at(1), at(2), retry)).await.unwrap();
    assert_eq!((record.status, record.attempts), (EventStatus::Pending, 1));
    assert_eq!(record.next_attempt_at, Some(at(10)));
    assert_eq!(record.last_error.as_deref(), Some("crm down"));

    let failed = AttemptResult::Failed { error: "gave up".into() };
    let record = storage.record_attempt(id, AttemptReport::new(at(10), at(11), failed)).await.unwrap();
    assert_eq!((record.status, record.attempts), (EventStatus::Failed, 2));
    assert_eq!(record.next_attempt_at, None);

    let record = storage.reprocess(id, at(20)).await.unwrap();
    assert_eq!(record.status, EventStatus::Pending);
    assert_eq!(record.next_attempt_at, Some(at(20)));
    assert_eq!(record.attempts, 2, "history kept");

    let done = storage.record_attempt(id, AttemptReport::new(at(20), at(21), AttemptResult::Processed)).await.unwrap();
    assert_eq!(done.status, EventStatus::Processed);
    assert!(done.processed());
    assert_eq!(done.processed_at, Some(at(21)));

    let detail = storage.event(id).await.unwrap().unwrap();
    assert_eq!(detail.attempts.len(), 3);
    assert_eq!(detail.attempts.iter().map(|a| a.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(detail.attempts[0].error.as_deref(), Some("crm down"));
    assert_eq!(detail.attempts[0].started_at, at(1));
    assert_eq!(detail.attempts[2].error, None);
    assert_eq!(detail.event, done);

    let missing = EventId(id.0 + 1000);
    let report = AttemptReport::new(at(1), at(2), AttemptResult::Processed);
    assert!(matches!(storage.record_attempt(missing, report).await, Err(EventLogError::EventNotFound(_))));
    assert!(matches!(storage.reprocess(missing, at(1)).await, Err(EventLogError::EventNotFound(_))));
}

/// A body that did not parse is kept as a failed placeholder with its error.
pub async fn unparsed_events_are_stored_failed<S: EventLog>(storage: Arc<S>) {
    let mut new = delivery(ACME, T0, "{not json");
    new.parse_error = Some("expected value".into());
    let outcome = storage.append(new, vec![NewEvent::unparsed("unparsed:abc", "expected value")]).await.unwrap();
    let detail = storage.event(outcome.events[0].id()).await.unwrap().unwrap();
    assert_eq!(detail.event.status, EventStatus::Failed);
    assert_eq!(detail.event.event, None);
    assert_eq!(detail.event.last_error.as_deref(), Some("expected value"));
    assert_eq!(detail.delivery.parse_error.as_deref(), Some("expected value"));
}

/// Reprocessing a placeholder adds the parsed events to its delivery.
pub async fn events_can_be_added_to_an_existing_delivery<S: EventLog>(storage: Arc<S>) {
    let outcome = storage.append(delivery(ACME, T0, "x"), vec![NewEvent::unparsed("u", "e")]).await.unwrap();
    let added =
        storage.append_to_delivery(outcome.delivery_id, vec![ping(ACME, "late-1"), ping(ACME, "u")]).await.unwrap();
    assert!(matches!(added[0], Appended::Inserted(_)));
    assert_eq!(added[1], Appended::Duplicate(outcome.events[0].id()));
    let detail = storage.event(added[0].id()).await.unwrap().unwrap();
    assert_eq!(detail.event.delivery_id, outcome.delivery_id);
    assert_eq!(detail.event.received_at, T0);
}

const LEASE: Duration = Duration::from_secs(30);

/// Every check of the scheduler contract, in order.
pub async fn scheduler_all<S: JobQueue>(new: impl AsyncFn() -> Arc<S>) {
    due_jobs_are_claimed_earliest_first(new().await).await;
    keys_are_unique_while_unfinished(new().await).await;
    retries_count_failures_and_requeue(new().await).await;
    expired_leases_are_claimed_again(new().await).await;
    concurrent_claimers_never_share_an_attempt(new().await).await;
    scheduling_many_skips_keys_already_queued(new().await).await;
}

/// Due jobs come out earliest first, future ones not at all.
pub async fn due_jobs_are_claimed_earliest_first<S: JobQueue>(scheduler: Arc<S>) {
    for (event, offset) in [(1, 5), (2, -5), (3, 0), (4, -1)] {
        scheduler.schedule(NewJob::process_event(EventId(event), at(offset))).await.unwrap().expect("new key");
    }
    assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), Some(at(-5)));
    let claimed = scheduler.claim_due(Queue::Events, T0, 2, LEASE).await.unwrap();
    let keys: Vec<_> = claimed.iter().map(|c| c.job.key.as_str()).collect();
    assert_eq!(keys, ["process-event:2", "process-event:4"]);
    let claimed = scheduler.claim_due(Queue::Events, T0, 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job.key, "process-event:3");
    assert_eq!(claimed[0].job.due_at, T0);
    assert_eq!(claimed[0].leased_until, T0 + LEASE);
    assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), Some(at(5)));
}

/// Scheduling a key that is already waiting or running does nothing; once the job is
/// finished the key can be scheduled again.
pub async fn keys_are_unique_while_unfinished<S: JobQueue>(scheduler: Arc<S>) {
    let job = || NewJob::process_event(EventId(7), T0);
    assert!(scheduler.schedule(job()).await.unwrap().is_some());
    assert!(scheduler.schedule(job()).await.unwrap().is_none(), "waiting");
    let claim = scheduler.claim_due(Queue::Events, T0, 10, LEASE).await.unwrap().remove(0);
    assert!(scheduler.schedule(job()).await.unwrap().is_none(), "running");
    scheduler.complete(&claim).await.unwrap();
    assert!(scheduler.schedule(job()).await.unwrap().is_some(), "finished: can run again");
    let claim = scheduler.claim_due(Queue::Events, T0, 10, LEASE).await.unwrap().remove(0);
    scheduler.fail(&claim, "no").await.unwrap();
    assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), None);
}

/// A retry counts the failure, keeps the error and makes the job due later.
pub async fn retries_count_failures_and_requeue<S: JobQueue>(scheduler: Arc<S>) {
    let deadline = Some(at(3600));
    scheduler.schedule(NewJob::process_event(EventId(1), T0).with_deadline(deadline)).await.unwrap();
    let claim = scheduler.claim_due(Queue::Events, T0, 1, LEASE).await.unwrap().remove(0);
    assert_eq!(claim.job.deadline, deadline);
    scheduler.retry(&claim, at(10), "boom").await.unwrap();
    assert!(scheduler.claim_due(Queue::Events, at(9), 1, LEASE).await.unwrap().is_empty());
    assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), Some(at(10)));
    let again = scheduler.claim_due(Queue::Events, at(10), 1, LEASE).await.unwrap().remove(0);
    assert_eq!(again.job.failed_attempts, 1);
    assert_eq!(again.job.last_error.as_deref(), Some("boom"));
    assert_eq!(again.job.due_at, at(10));
    assert_eq!(again.job.deadline, deadline);
    assert!(matches!(scheduler.retry(&claim, at(20), "stale").await, Err(JobQueueError::LeaseLost(_))));
}

/// Jobs are claimed from their own queue only: recording jobs never fill a claim for
/// events, and each queue has its own next due time.
pub async fn each_queue_is_claimed_on_its_own<S: JobQueue>(scheduler: Arc<S>) {
    let acme = ProviderId::from_static("acme");
    scheduler.schedule(NewJob::fetch_recording(acme.clone(), "CA1", at(-5))).await.unwrap();
    scheduler.schedule(NewJob::poll_recording(acme, "CA2", at(5))).await.unwrap();
    scheduler.schedule(NewJob::process_event(EventId(1), at(1))).await.unwrap();
    assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), Some(at(1)));
    assert_eq!(scheduler.next_due_at(Queue::Recordings).await.unwrap(), Some(at(-5)));
    let events = scheduler.claim_due(Queue::Events, at(10), 10, LEASE).await.unwrap();
    let keys: Vec<_> = events.iter().map(|c| c.job.key.as_str()).collect();
    assert_eq!(keys, ["process-event:1"]);
    let recordings = scheduler.claim_due(Queue::Recordings, at(10), 10, LEASE).await.unwrap();
    let keys: Vec<_> = recordings.iter().map(|c| c.job.key.as_str()).collect();
    assert_eq!(keys, ["fetch-recording:acme:CA1", "poll-recording:acme:CA2"]);
    assert!(recordings.iter().all(|c| c.job.kind.queue() == Queue::Recordings));
}

/// A released job is due again when asked, with no failed attempt counted; a stale
/// claim cannot release it.
pub async fn released_jobs_count_no_failure<S: JobQueue>(scheduler: Arc<S>) {
    scheduler.schedule(NewJob::fetch_recording(ProviderId::from_static("acme"), "CA1", T0)).await.unwrap();
    let claim = scheduler.claim_due(Queue::Recordings, T0, 1, LEASE).await.unwrap().remove(0);
    scheduler.release(&claim, at(3)).await.unwrap();
    assert_eq!(scheduler.next_due_at(Queue::Recordings).await.unwrap(), Some(at(3)));
    let again = scheduler.claim_due(Queue::Recordings, at(3), 1, LEASE).await.unwrap().remove(0);
    assert_eq!((again.job.failed_attempts, again.job.last_error.as_deref()), (0, None));
    assert!(matches!(scheduler.release(&claim, at(4)).await, Err(JobQueueError::LeaseLost(_))));
}

/// A claim whose lease ran out is claimed again; the stale claim can no longer
/// complete, retry or fail the job.
pub async fn expired_leases_are_claimed_again<S: JobQueue>(scheduler: Arc<S>) {
    scheduler.schedule(NewJob::process_event(EventId(1), T0)).await.unwrap();
    let first = scheduler.claim_due(Queue::Events, T0, 1, LEASE).await.unwrap().remove(0);
    assert!(scheduler.claim_due(Queue::Events, T0 + Duration::from_secs(29), 1, LEASE).await.unwrap().is_empty());
    let second = scheduler.claim_due(Queue::Events, T0 + LEASE, 1, LEASE).await.unwrap().remove(0);
    assert_eq!(first.job.id, second.job.id);
    assert_ne!(first.lease, second.lease);
    assert!(matches!(scheduler.complete(&first).await, Err(JobQueueError::LeaseLost(_))));
    assert!(matches!(scheduler.fail(&first, "x").await, Err(JobQueueError::LeaseLost(_))));
    scheduler.complete(&second).await.unwrap();
    assert_eq!(scheduler.next_due_at(Queue::Events).await.unwrap(), None);
}

/// [`JobQueue::schedule_all`] adds each new key once and skips those queued or
/// running, like one [`JobQueue::schedule`] per job.
pub async fn scheduling_many_skips_keys_already_queued<S: JobQueue>(scheduler: Arc<S>) {
    scheduler.schedule(NewJob::process_event(EventId(1), T0)).await.unwrap();
    scheduler.schedule(NewJob::process_event(EventId(2), T0)).await.unwrap();
    let running = scheduler.claim_due(Queue::Events, T0, 1, LEASE).await.unwrap().remove(0);
    let jobs = (1..=5).map(|i| NewJob::process_event(EventId(i), at(i))).collect();
    assert_eq!(scheduler.schedule_all(jobs).await.unwrap(), 3);
    assert_eq!(scheduler.schedule_all(Vec::new()).await.unwrap(), 0);
    let claimed = scheduler.claim_due(Queue::Events, at(10), 10, LEASE).await.unwrap();
    let mut keys: Vec<_> = claimed.iter().map(|c| c.job.key.clone()).collect();
    keys.sort();
    let queued_before = if running.job.key == "process-event:1" { "process-event:2" } else { "process-event:1" };
    let mut expected = vec![queued_before, "process-event:3", "process-event:4", "process-event:5"];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(claimed.iter().find(|c| c.job.key == "process-event:4").unwrap().job.due_at, at(4));
}

/// Eight workers claiming at once never get the same job attempt, and together they
/// get every job.
pub async fn concurrent_claimers_never_share_an_attempt<S: JobQueue>(scheduler: Arc<S>) {
    for i in 0..64 {
        scheduler.schedule(NewJob::process_event(EventId(i), T0)).await.unwrap();
    }
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let scheduler = scheduler.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claimed = scheduler.claim_due(Queue::Events, T0, 3, LEASE).await.unwrap();
                    if claimed.is_empty() {
                        break mine;
                    }
                    for claim in claimed {
                        mine.push(claim.job.id);
                        scheduler.complete(&claim).await.unwrap();
                    }
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for worker in workers {
        for id in worker.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    assert_eq!(total, 64);
}

/// Every check of the [`Store`] contract (storage and scheduler in one transaction).
pub async fn store_all<S: Store>(new: impl AsyncFn() -> Arc<S>) {
    appends_schedule_their_new_pending_events(new().await).await;
    concurrent_appends_and_schedules_keep_every_key_once(new().await).await;
    attempts_end_their_claims(new().await).await;
    concurrent_finishes_end_each_claim(new().await).await;
    appends_lease_their_first_jobs_to_the_caller(new().await).await;
    attempts_are_recorded_when_the_lease_was_lost(new().await).await;
}

/// Many appends at once, with keys in common (a store may write them together): each
/// key is inserted once and the others are its duplicates, each inserted event has its
/// one job, and the folded state has every call's events.
pub async fn concurrent_appends_and_schedules_keep_every_key_once<S: Store>(store: Arc<S>) {
    let mut tasks = Vec::new();
    for n in 0..32u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Each append: its own key, a key shared by every fourth, and a call status.
            let events = vec![
                ping(ACME, &format!("own-{n}")),
                ping(ACME, &format!("shared-{}", n / 4)),
                NewEvent::parsed("call", format!("call-{n}"), call(ACME, &format!("c{}", n % 8), CallStatus::Ringing)),
            ];
            store.append_and_schedule(delivery(ACME, at(i64::from(n)), vec![n]), events).await.unwrap()
        }));
    }
    let mut inserted = Vec::new();
    let mut shared: std::collections::HashMap<String, Vec<Appended>> = std::collections::HashMap::new();
    for (n, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        assert!(matches!(outcome.events[0], Appended::Inserted(_)), "{outcome:?}");
        assert!(matches!(outcome.events[2], Appended::Inserted(_)), "{outcome:?}");
        inserted.extend([outcome.events[0].id(), outcome.events[2].id()]);
        shared.entry(format!("shared-{}", n / 4)).or_default().push(outcome.events[1]);
    }
    for (key, appended) in &shared {
        let first = appended.iter().filter(|a| matches!(a, Appended::Inserted(_))).count();
        assert_eq!(first, 1, "{key}: {appended:?}");
        let ids: HashSet<EventId> = appended.iter().map(|a| a.id()).collect();
        assert_eq!(ids.len(), 1, "{key}: the duplicates are of the inserted one");
        inserted.push(appended[0].id());
    }
    let claimed = store.claim_due(Queue::Events, at(100), 1000, LEASE).await.unwrap();
    let mut jobs: Vec<EventId> = claimed
        .iter()
        .filter_map(|claim| match claim.job.kind {
            JobKind::ProcessEvent { event_id } => Some(event_id),
            _ => None,
        })
        .collect();
    jobs.sort();
    inserted.sort();
    assert_eq!(jobs, inserted, "one job per inserted event");
    for n in 0..8 {
        let state = store.call_state(&ACME, &format!("c{n}")).await.unwrap();
        assert_eq!(state.and_then(|state| state.status), Some(CallStatus::Ringing), "c{n}");
    }
}

/// Each inserted pending event gets its processing job, due when the delivery was
/// received; duplicates and an unparsable body's placeholder get none.
pub async fn appends_schedule_their_new_pending_events<S: Store>(store: Arc<S>) {
    let first =
        store.append_and_schedule(delivery(ACME, T0, "a"), vec![ping(ACME, "k1"), ping(ACME, "k2")]).await.unwrap();
    let again =
        store.append_and_schedule(delivery(ACME, at(1), "b"), vec![ping(ACME, "k2"), ping(ACME, "k3")]).await.unwrap();
    assert_eq!(again.events[0], Appended::Duplicate(first.events[1].id()));
    let mut unparsed = delivery(ACME, at(2), "{not json");
    unparsed.parse_error = Some("expected value".into());
    let placeholder =
        store.append_and_schedule(unparsed, vec![NewEvent::unparsed("bad", "expected value")]).await.unwrap();
    assert!(matches!(placeholder.events[0], Appended::Inserted(_)));

    // The account that sent a delivery is kept this way too.
    let mut from_account = delivery(ACME, at(3), "c");
    from_account.account = Some(crate::account::AccountId::new("brand-a"));
    from_account.key = Some(crate::account::KeySlot::Next);
    let accounted = store.append_and_schedule(from_account, vec![ping(ACME, "k4")]).await.unwrap();
    let detail = store.event(accounted.events[0].id()).await.unwrap().unwrap();
    assert_eq!(detail.event.account.as_ref().map(|a| a.as_str()), Some("brand-a"));
    assert_eq!(detail.delivery.key, Some(crate::account::KeySlot::Next));

    let claimed = store.claim_due(Queue::Events, at(10), 10, LEASE).await.unwrap();
    let mut jobs: Vec<_> = claimed.iter().map(|c| (c.job.kind.clone(), c.job.due_at)).collect();
    jobs.sort_by_key(|(_, due)| *due);
    let process = |id: EventId| JobKind::ProcessEvent { event_id: id };
    assert_eq!(jobs.len(), 4, "one job per inserted pending event: {jobs:?}");
    assert!(jobs.contains(&(process(first.events[0].id()), T0)));
    assert!(jobs.contains(&(process(first.events[1].id()), T0)));
    assert!(jobs.contains(&(process(again.events[1].id()), at(1))));
    // The job is an ordinary one: scheduling it again is a no-op while it is claimed.
    let job = NewJob::process_event(first.events[0].id(), T0);
    assert!(store.schedule(job).await.unwrap().is_none());
}

/// An attempt recorded with [`Store::finish_attempt`] ends its claim as its result says:
/// processed completes it, a retry makes it due at the next attempt's time with the
/// failure counted, failed for good removes it. The event records each attempt.
pub async fn attempts_end_their_claims<S: Store>(store: Arc<S>) {
    let outcome = store.append_and_schedule(delivery(ACME, T0, "a"), vec![ping(ACME, "k")]).await.unwrap();
    let id = outcome.events[0].id();
    let claim = store.claim_due(Queue::Events, T0, 1, LEASE).await.unwrap().remove(0);
    let retry = AttemptResult::Retry { error: "crm down".into(), next_attempt_at: at(30) };
    let record = store.finish_attempt(&claim, id, AttemptReport::new(at(1), at(2), retry)).await.unwrap();
    assert_eq!((record.status, record.attempts, record.next_attempt_at), (EventStatus::Pending, 1, Some(at(30))));
    assert!(store.claim_due(Queue::Events, at(29), 1, LEASE).await.unwrap().is_empty(), "due at the retry time");
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), Some(at(30)));
    let claim = store.claim_due(Queue::Events, at(30), 1, LEASE).await.unwrap().remove(0);
    assert_eq!((claim.job.failed_attempts, claim.job.last_error.as_deref()), (1, Some("crm down")));
    let failed = AttemptResult::Failed { error: "gave up".into() };
    let record = store.finish_attempt(&claim, id, AttemptReport::new(at(30), at(31), failed)).await.unwrap();
    assert_eq!((record.status, record.attempts), (EventStatus::Failed, 2));
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), None, "a failed job is finished");

    store.reprocess(id, at(40)).await.unwrap();
    store.schedule(NewJob::process_event(id, at(40))).await.unwrap().expect("the key is free again");
    let claim = store.claim_due(Queue::Events, at(40), 1, LEASE).await.unwrap().remove(0);
    let done = AttemptReport::new(at(40), at(41), AttemptResult::Processed);
    let record = store.finish_attempt(&claim, id, done).await.unwrap();
    assert_eq!((record.status, record.processed_at), (EventStatus::Processed, Some(at(41))));
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), None, "a processed job is finished");
    let detail = store.event(id).await.unwrap().unwrap();
    assert_eq!(detail.attempts.len(), 3);
    assert_eq!(detail.event, record);
}

/// [`Store::append_and_lease`]: the first new jobs come back claimed for the caller and
/// hidden from claims until their lease runs out; the others are scheduled; a duplicate
/// leases nothing. (A store that leases none, the default, passes too.)
pub async fn appends_lease_their_first_jobs_to_the_caller<S: Store>(store: Arc<S>) {
    use crate::store::LeaseRequest;
    let events = vec![ping(ACME, "k1"), ping(ACME, "k2"), ping(ACME, "k3")];
    let (outcome, claims) =
        store.append_and_lease(delivery(ACME, T0, "a"), events, LeaseRequest::new(2, at(60))).await.unwrap();
    let ids: Vec<EventId> = outcome.events.iter().map(|a| a.id()).collect();
    let leased: Vec<EventId> = claims
        .iter()
        .map(|claim| match claim.job.kind {
            JobKind::ProcessEvent { event_id } => event_id,
            _ => panic!("{claim:?}"),
        })
        .collect();
    if leased.is_empty() {
        // A store without leases: every job is claimable.
        assert_eq!(store.claim_due(Queue::Events, at(1), 10, LEASE).await.unwrap().len(), 3);
        return;
    }
    assert_eq!(leased, ids[..2], "the first two new jobs, claimed for the caller");
    assert!(claims.iter().all(|claim| claim.leased_until == at(60)));
    let others = store.claim_due(Queue::Events, at(1), 10, LEASE).await.unwrap();
    assert_eq!(others.len(), 1, "the leased jobs are hidden");
    assert_eq!(others[0].job.kind, JobKind::ProcessEvent { event_id: ids[2] });
    let done = AttemptReport::new(at(2), at(3), AttemptResult::Processed);
    store.finish_attempt(&claims[0], ids[0], done.clone()).await.unwrap();
    store.finish_attempt(&others[0], ids[2], done).await.unwrap();
    // The caller never finished the second: claimed again once its lease ran out.
    assert!(store.claim_due(Queue::Events, at(59), 10, LEASE).await.unwrap().is_empty());
    let again = store.claim_due(Queue::Events, at(60), 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].job.kind, JobKind::ProcessEvent { event_id: ids[1] });
    let (duplicate, none) = store
        .append_and_lease(delivery(ACME, at(61), "b"), vec![ping(ACME, "k1")], LeaseRequest::new(1, at(120)))
        .await
        .unwrap();
    assert!(matches!(duplicate.events[0], Appended::Duplicate(_)) && none.is_empty());
}

/// Many attempts finished at once (a store may write them together): each recorded on
/// its event and its job ended as its result says.
pub async fn concurrent_finishes_end_each_claim<S: Store>(store: Arc<S>) {
    let events = (0..40).map(|n| ping(ACME, &format!("k{n}"))).collect();
    let outcome = store.append_and_schedule(delivery(ACME, T0, "a"), events).await.unwrap();
    let claims = store.claim_due(Queue::Events, T0, 100, LEASE).await.unwrap();
    assert_eq!(claims.len(), 40);
    let mut tasks = Vec::new();
    for claim in claims {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let JobKind::ProcessEvent { event_id } = claim.job.kind else { unreachable!() };
            // Every third is retried, the others processed.
            let result = if event_id.0 % 3 == 0 {
                AttemptResult::Retry { error: "later".into(), next_attempt_at: at(60) }
            } else {
                AttemptResult::Processed
            };
            let record =
                store.finish_attempt(&claim, event_id, AttemptReport::new(at(1), at(2), result)).await.unwrap();
            (event_id, record)
        }));
    }
    let mut retried = 0;
    for task in tasks {
        let (id, record) = task.await.unwrap();
        assert_eq!(record.id, id);
        assert_eq!(record.attempts, 1);
        let expected = if id.0 % 3 == 0 { EventStatus::Pending } else { EventStatus::Processed };
        assert_eq!(record.status, expected, "{id}");
        retried += usize::from(id.0 % 3 == 0);
        let detail = store.event(id).await.unwrap().unwrap();
        assert_eq!((detail.event, detail.attempts.len()), (record, 1));
    }
    let again = store.claim_due(Queue::Events, at(60), 100, LEASE).await.unwrap();
    assert_eq!(again.len(), retried, "only the retried jobs are due again");
    assert!(again.iter().all(|claim| claim.job.failed_attempts == 1));
    assert_eq!(outcome.events.len(), 40);
}

/// A claim whose lease ran out and was claimed again: its attempt is still recorded
/// (the handlers ran) and counted, but the event's status and the job stay with the new
/// owner, and the answer says the lease was lost.
pub async fn attempts_are_recorded_when_the_lease_was_lost<S: Store>(store: Arc<S>) {
    let lost = |result: Result<EventRecord, StoreError>| {
        assert!(matches!(result, Err(StoreError::JobQueue(JobQueueError::LeaseLost(_)))), "{result:?}");
    };
    let outcome = store.append_and_schedule(delivery(ACME, T0, "a"), vec![ping(ACME, "k")]).await.unwrap();
    let id = outcome.events[0].id();
    let stale = store.claim_due(Queue::Events, T0, 1, LEASE).await.unwrap().remove(0);
    let current = store.claim_due(Queue::Events, T0 + LEASE, 1, LEASE).await.unwrap().remove(0);

    // A late failure neither fails the event nor ends its job.
    let late = AttemptReport::new(at(1), at(40), AttemptResult::Failed { error: "late".into() });
    lost(store.finish_attempt(&stale, id, late).await);
    let detail = store.event(id).await.unwrap().unwrap();
    assert_eq!((detail.event.status, detail.event.attempts, detail.event.last_error), (EventStatus::Pending, 1, None));
    assert_eq!(detail.attempts.iter().map(|a| a.error.as_deref()).collect::<Vec<_>>(), [Some("late")]);

    // The current holder's retry sets the status; a late success after it changes nothing.
    let retry = AttemptResult::Retry { error: "busy".into(), next_attempt_at: at(100) };
    let record = store.finish_attempt(&current, id, AttemptReport::new(at(31), at(32), retry)).await.unwrap();
    assert_eq!((record.status, record.attempts, record.next_attempt_at), (EventStatus::Pending, 2, Some(at(100))));
    lost(store.finish_attempt(&stale, id, AttemptReport::new(at(1), at(50), AttemptResult::Processed)).await);
    let detail = store.event(id).await.unwrap().unwrap();
    assert_eq!((detail.event.status, detail.event.attempts), (EventStatus::Pending, 3));
    assert_eq!((detail.event.last_error.as_deref(), detail.event.processed_at), (Some("busy"), None));
    assert_eq!(detail.attempts.len(), 3);
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), Some(at(100)), "the retry is still due");

    let again = store.claim_due(Queue::Events, at(100), 1, LEASE).await.unwrap().remove(0);
    let record = store.finish_attempt(&again, id, AttemptReport::new(at(100), at(101), AttemptResult::Processed));
    assert_eq!(record.await.unwrap().status, EventStatus::Processed);
    assert_eq!(store.next_due_at(Queue::Events).await.unwrap(), None);
}

/// One `#[tokio::test]` per storage check; `$new` builds a fresh `Arc` of a store.
/// With `optional` first, `$new` gives an `Option` and `None` skips the checks (for
/// backends whose server may be absent; say why where you return `None`).
#[macro_export]
macro_rules! event_log_conformance_tests {
    (optional $new:expr) => {
        $crate::__conformance_tests!(optional $new, storage:
            append_stores_delivery_and_events_atomically,
            duplicate_keys_are_reported_not_inserted,
            concurrent_appends_of_one_key_insert_once,
            listing_filters_and_pages_newest_first,
            searching_and_counting_events,
            state_folds_whatever_the_order,
            attempts_are_recorded_and_failed_events_reprocessed,
            unparsed_events_are_stored_failed,
            events_can_be_added_to_an_existing_delivery,
            several_events_are_read_at_once,
            accounts_and_contacts_are_kept_and_filtered,
            events_are_found_by_the_calls_they_link_to,
        );
    };
    ($new:expr) => {
        $crate::event_log_conformance_tests!(optional async { Some($new.await) });
    };
}

/// One `#[tokio::test]` per scheduler check; `$new` builds a fresh `Arc` of a
/// scheduler (or, after `optional`, an `Option` of one, `None` skipping).
#[macro_export]
macro_rules! job_queue_conformance_tests {
    (optional $new:expr) => {
        $crate::__conformance_tests!(optional $new, scheduler:
            due_jobs_are_claimed_earliest_first,
            keys_are_unique_while_unfinished,
            retries_count_failures_and_requeue,
            expired_leases_are_claimed_again,
            each_queue_is_claimed_on_its_own,
            released_jobs_count_no_failure,
            concurrent_claimers_never_share_an_attempt,
            scheduling_many_skips_keys_already_queued,
        );
    };
    ($new:expr) => {
        $crate::job_queue_conformance_tests!(optional async { Some($new.await) });
    };
}

/// One `#[tokio::test]` per [`Store`] check; `$new` builds a fresh `Arc` of a store
/// (or, after `optional`, an `Option` of one, `None` skipping).
#[macro_export]
macro_rules! store_conformance_tests {
    (optional $new:expr) => {
        $crate::__conformance_tests!(optional $new, store:
            appends_schedule_their_new_pending_events,
            concurrent_appends_and_schedules_keep_every_key_once,
            attempts_end_their_claims,
            concurrent_finishes_end_each_claim,
            appends_lease_their_first_jobs_to_the_caller,
            attempts_are_recorded_when_the_lease_was_lost,
        );
    };
    ($new:expr) => {
        $crate::store_conformance_tests!(optional async { Some($new.await) });
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (optional $new:expr, $kind:ident: $($check:ident),* $(,)?) => {
        mod $kind {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    if let Some(fresh) = $new.await {
                        $crate::conformance::$check(fresh).await;
                    }
                }
            )*
        }
    };
}
