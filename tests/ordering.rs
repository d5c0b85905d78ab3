//! Out-of-order and duplicate deliveries through the Receiver: the folded call state
//! depends only on which events arrived, never on their order or repetition.

mod support;

use std::sync::Arc;

use callhook::Receiver;
use callhook::event::CallStatus;
use callhook::event_log::{EventLog, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::state::CallState;
use proptest::prelude::*;
use support::*;

const STATUSES: [&str; 8] =
    ["initiated", "ringing", "in_progress", "completed", "canceled", "busy", "no_answer", "failed"];

/// Delivers each `(event id, status)` for call `c1` in the given order, each delivery
/// possibly twice, and returns the folded state and the number of stored events.
async fn deliver(deliveries: &[(usize, &str, bool)]) -> (CallState, usize) {
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .mount(PATH, TestProvider::new())
        .build()
        .unwrap();
    for (id, status, twice) in deliveries {
        let id = format!("e{id}");
        let body = body(&[(&id, "c1", status)]);
        for _ in 0..if *twice { 2 } else { 1 } {
            assert_eq!(receiver.handle(signed(body.clone())).await.status(), 200);
        }
    }
    let state = storage.call_state(&PROVIDER, "c1").await.unwrap().expect("call state exists");
    (state, all_events(&*storage).await.len())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_and_any_duplicates_give_the_same_call_state(
        (in_order, shuffled) in prop::collection::vec((prop::sample::select(STATUSES.to_vec()), any::<bool>()), 1..10)
            .prop_map(|items| items.into_iter().enumerate().map(|(i, (s, twice))| (i, s, twice)).collect::<Vec<_>>())
            .prop_flat_map(|items| (Just(items.clone()), Just(items).prop_shuffle()))
    ) {
        let rt = runtime();
        let (expected, stored) = rt.block_on(deliver(&in_order));
        let (actual, stored_shuffled) = rt.block_on(deliver(&shuffled));
        prop_assert_eq!(&expected, &actual);
        prop_assert_eq!(stored, in_order.len());
        prop_assert_eq!(stored_shuffled, in_order.len());
        // The winner is the highest-precedence status delivered.
        let highest = in_order
            .iter()
            .map(|(_, s, _)| serde_json::from_value::<CallStatus>(serde_json::json!(s)).unwrap())
            .max_by_key(|s| s.precedence());
        prop_assert_eq!(expected.status, highest);
    }
}

#[test]
fn late_ringing_after_completed_leaves_the_call_completed() {
    let (state, _) =
        runtime().block_on(deliver(&[(1, "in_progress", false), (2, "completed", false), (3, "ringing", true)]));
    assert_eq!(state.status, Some(CallStatus::Completed));
}
