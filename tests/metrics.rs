//! The Receiver's metrics, read from a real `metrics` recorder. One test per binary:
//! the recorder is process-global.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use callhook::event_log::MemoryEventLog;
use callhook::job_queue::MemoryJobQueue;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use support::*;

/// One counter as read from the snapshot: name, labels, value.
type CounterRow = (String, Vec<(String, String)>, u64);

fn counter(snapshot: &[CounterRow], name: &str, labels: &[(&str, &str)]) -> u64 {
    snapshot
        .iter()
        .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v)))
        .map(|(_, _, value)| value)
        .sum()
}

#[tokio::test]
async fn receiver_counts_received_duplicates_and_rejections() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let receiver = Receiver::builder()
        .event_log(Arc::new(MemoryEventLog::new()))
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .mount(PATH, TestProvider::new())
        .mount(
            "/webhooks/cloudtalk",
            Arc::new(
                callhook::providers::cloudtalk::CloudTalk::builder()
                    .account(callhook::account::Account::new("acme", "old token").next_key("new token"))
                    .build(),
            ),
        )
        .build()
        .unwrap();
    let body = body(&[("e1", "c1", "ringing"), ("e2", "c1", "completed")]);
    receiver.handle(signed(body.clone())).await;
    receiver.handle(signed(body.clone())).await;
    let damaged = support::body(&[("e3", "c2", "ringing"), ("e4", "c2", "item-v2:completed")]);
    assert_eq!(receiver.handle(signed(damaged)).await.status(), 200);
    let unsigned = http::Request::post(PATH).body(body.clone()).unwrap();
    assert_eq!(receiver.handle(unsigned).await.status(), 401);
    let mut wrong = signed(body);
    *wrong.body_mut() = Bytes::from_static(b"{}");
    assert_eq!(receiver.handle(wrong).await.status(), 401);

    // An account mid-rotation: the provider signs with the next token now.
    let at = time::macros::datetime!(2026-12-01 10:00 UTC);
    let call = callhook::providers::cloudtalk::testing::call_event("call.ended", 7, at);
    let rotated = callhook::providers::cloudtalk::testing::signed("new token", "/webhooks/cloudtalk", &call, at);
    assert_eq!(receiver.handle(rotated).await.status(), 200);

    let snapshot: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Counter(n) => {
                let key = key.key();
                let labels = key.labels().map(|l| (l.key().to_owned(), l.value().to_owned())).collect();
                Some((key.name().to_owned(), labels, n))
            }
            _ => None,
        })
        .collect();
    let p = [("provider", "test")];
    assert_eq!(counter(&snapshot, "callhook_events_received_total", &p), 4, "the unreadable item is stored too");
    assert_eq!(counter(&snapshot, "callhook_items_unparsed_total", &p), 1);
    assert_eq!(counter(&snapshot, "callhook_events_duplicate_total", &p), 2);
    assert_eq!(counter(&snapshot, "callhook_requests_total", &[("provider", "test"), ("outcome", "accepted")]), 2);
    assert_eq!(counter(&snapshot, "callhook_requests_total", &[("provider", "test"), ("outcome", "duplicate")]), 1);
    assert_eq!(counter(&snapshot, "callhook_rejected_total", &[("reason", "missing_signature")]), 1);
    assert_eq!(counter(&snapshot, "callhook_rejected_total", &[("reason", "bad_signature")]), 1);
    // Which account and key verified each request: what tells a rotation is over.
    let verified = |labels: &[(&str, &str)]| counter(&snapshot, "callhook_verified_total", labels);
    assert_eq!(verified(&[("provider", "test"), ("account", ""), ("key", "current")]), 3);
    assert_eq!(verified(&[("provider", "cloudtalk"), ("account", "acme"), ("key", "next")]), 1);
    assert_eq!(verified(&[("provider", "cloudtalk"), ("key", "current")]), 0);
}
