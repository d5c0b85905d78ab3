//! Retell end to end: the SDK's signature vectors, fixtures, the Receiver with an
//! injected clock, out-of-order deliveries, arbitrary input.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use callhook::clock::TokioClock;
use callhook::event::{CallStatus, Event, ProviderId, RecordingStatus, Sentiment};
use callhook::event_log::{EventLog, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::provider::ParsedEvent;
use callhook::providers::retell::{Retell, normalize, signature, testing};
use callhook::verify::{Secret, VerifyError};
use proptest::prelude::*;
use serde::Deserialize;
use support::all_events;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const KEY: &str = "key_retell_webhook";
const PATH: &str = "/webhooks/retell/call-events";
const RETELL: ProviderId = ProviderId::from_static("retell");
const NOW: OffsetDateTime = datetime!(2025-12-01 12:00 UTC);

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    api_key: String,
    body: String,
    signature: String,
    now_ms: i64,
    valid: bool,
}

#[test]
fn agrees_with_the_official_sdk_on_every_vector() {
    let path = format!("{}/tests/fixtures/retell/signature_vectors.json", env!("CARGO_MANIFEST_DIR"));
    let vectors: Vectors = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(vectors.vectors.len() >= 20);
    for v in vectors.vectors {
        let now = OffsetDateTime::from_unix_timestamp_nanos(i128::from(v.now_ms) * 1_000_000).unwrap();
        let keys = [Secret::new(v.api_key.clone())];
        let result = signature::verify(&keys, &v.signature, v.body.as_bytes(), now, signature::DEFAULT_TOLERANCE);
        assert_eq!(result.is_ok(), v.valid, "{}: {result:?}", v.name);
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/retell/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn call(name: &str) -> (ParsedEvent, callhook::event::CallEvent) {
    let mut events = normalize::events(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(events.len(), 1);
    let event = events.remove(0);
    let Event::Call(call) = event.event.clone() else { panic!("{name}: not a call") };
    (event, call)
}

#[test]
fn fixtures_normalize_as_the_table_says() {
    let cases = [
        ("call_started", Some(CallStatus::InProgress)),
        ("web_call_started", Some(CallStatus::InProgress)),
        ("transcript_updated", Some(CallStatus::InProgress)),
        ("call_ended", Some(CallStatus::Completed)),
        ("call_ended_voicemail", Some(CallStatus::Completed)),
        ("call_ended_dial_busy", Some(CallStatus::Busy)),
        ("call_ended_dial_no_answer", Some(CallStatus::NoAnswer)),
        ("call_ended_error", Some(CallStatus::Failed)),
        ("call_ended_unknown_reason", Some(CallStatus::Completed)),
        ("call_ended_extra_fields", Some(CallStatus::Completed)),
        ("call_analyzed", Some(CallStatus::Completed)),
        ("call_analyzed_40_turns", Some(CallStatus::Completed)),
        ("transfer_started", Some(CallStatus::InProgress)),
        ("transfer_bridged", Some(CallStatus::InProgress)),
    ];
    for (name, status) in cases {
        let (parsed, call) = call(name);
        assert_eq!(call.status, status, "{name}");
        let wire: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        assert_eq!(parsed.event_type, wire["event"], "{name}");
    }
}

#[test]
fn ended_and_analyzed_carry_times_recording_transcript_and_analysis() {
    let (parsed, ended) = call("call_ended");
    assert_eq!(parsed.dedupe_key, "call_7f3a9c2e1b4d:call_ended");
    assert!(ended.started_at.is_some() && ended.ended_at.is_some());
    assert_eq!(ended.duration_ms, Some(42_000));
    assert_eq!(ended.recording.as_ref().unwrap().status, RecordingStatus::Ready);
    assert!(ended.recording.as_ref().unwrap().url.as_deref().unwrap().starts_with("https://"));
    assert!(ended.analysis.as_ref().unwrap().transcript.as_deref().unwrap().contains("Agent:"));
    assert_eq!(ended.provider_status.as_deref(), Some("user_hangup"));

    let (_, analyzed) = call("call_analyzed");
    let analysis = analyzed.analysis.unwrap();
    assert_eq!(analysis.sentiment, Some(Sentiment::Positive));
    assert_eq!(analysis.successful, Some(true));
    assert_eq!(analysis.in_voicemail, Some(false));
    assert!(analysis.summary.is_some());
    assert_eq!(analysis.custom.unwrap()["lead_score"], 8);

    let (_, unknown) = call("call_ended_unknown_reason");
    assert_eq!(unknown.provider_status.as_deref(), Some("some_future_reason"), "unknown reasons are kept");
    let (_, error) = call("call_ended_error");
    assert_eq!(error.error.unwrap().code.as_deref(), Some("error_llm_websocket_open"));
}

#[test]
fn the_model_keeps_unknown_fields_and_events() {
    let body = fixture("call_ended_extra_fields");
    let webhook = callhook::providers::retell::model::Webhook::parse(body.as_bytes()).unwrap();
    let raw = webhook.call.unwrap().raw.unwrap().get();
    assert!(raw.contains("future_field"), "unknown call fields stay in the raw call");

    let events = normalize::events(fixture("unknown_event").as_bytes()).unwrap();
    assert_eq!(events[0].event_type, "chat_started");
    let Event::Unmodeled(unmodeled) = &events[0].event else { panic!("not unmodeled") };
    assert_eq!(unmodeled.provider_type, "chat_started");
    assert!(unmodeled.data["chat"].is_object());
}

#[test]
fn transcript_updates_are_each_kept() {
    let first = testing::call_event("transcript_updated", "call_9", "", NOW);
    let second = first.replace("agent_test", "agent_test2");
    let a = normalize::events(first.as_bytes()).unwrap();
    let b = normalize::events(second.as_bytes()).unwrap();
    assert_ne!(a[0].dedupe_key, b[0].dedupe_key);
    assert_eq!(a[0].dedupe_key, normalize::events(first.as_bytes()).unwrap()[0].dedupe_key);
}

struct Setup {
    receiver: Receiver,
    storage: Arc<MemoryEventLog>,
}

fn setup() -> Setup {
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .mount(PATH, Arc::new(Retell::builder().api_key("key_old").api_key(KEY).build()))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .clock(TokioClock::starting_at(NOW))
        .build()
        .unwrap();
    Setup { receiver, storage }
}

#[tokio::test(start_paused = true)]
async fn accepted_once_when_sent_twice() {
    let s = setup();
    let body = fixture("call_ended");
    for _ in 0..2 {
        assert_eq!(s.receiver.handle(testing::signed(KEY, PATH, &body, NOW)).await.status(), 200);
    }
    assert_eq!(all_events(&*s.storage).await.len(), 1);
    let old_key = testing::signed("key_old", PATH, &fixture("call_started"), NOW);
    assert_eq!(s.receiver.handle(old_key).await.status(), 200, "a second key verifies (rotation)");
}

#[tokio::test(start_paused = true)]
async fn wrong_missing_stale_and_future_signatures_are_refused_with_nothing_stored() {
    let s = setup();
    let body = fixture("call_ended");
    let wrong = testing::signed("not-the-key", PATH, &body, NOW);
    assert_eq!(s.receiver.handle(wrong).await.status(), 401);
    let mut missing = testing::signed(KEY, PATH, &body, NOW);
    missing.headers_mut().remove("x-retell-signature");
    assert_eq!(s.receiver.handle(missing).await.status(), 401);
    for skew in [Duration::minutes(-6), Duration::minutes(6)] {
        let request = testing::signed(KEY, PATH, &body, NOW + skew);
        assert_eq!(s.receiver.handle(request).await.status(), 401, "{skew}");
    }
    let (parts, _) = testing::signed(KEY, PATH, &body, NOW).into_parts();
    let tampered = http::Request::from_parts(parts, Bytes::from(body.replace("user_hangup", "dial_busy")));
    assert_eq!(s.receiver.handle(tampered).await.status(), 401);
    assert!(all_events(&*s.storage).await.is_empty());

    // Within the tolerance either way is fine.
    for skew in [Duration::minutes(-4), Duration::minutes(4)] {
        assert_eq!(s.receiver.handle(testing::signed(KEY, PATH, &body, NOW + skew)).await.status(), 200);
    }
}

#[test]
fn verify_error_says_how_far_off_the_clock_is() {
    let header = signature::sign(KEY, b"{}", NOW - Duration::minutes(10));
    assert_eq!(
        signature::verify(&[Secret::new(KEY)], &header, b"{}", NOW, signature::DEFAULT_TOLERANCE),
        Err(VerifyError::TimestampOutsideTolerance { skew_secs: -600 })
    );
}

#[tokio::test(start_paused = true)]
async fn analyzed_before_ended_gives_the_same_final_state() {
    let in_order = setup();
    let reversed = setup();
    let names = ["call_started", "call_ended", "call_analyzed"];
    for name in names {
        in_order.receiver.handle(testing::signed(KEY, PATH, &fixture(name), NOW)).await;
    }
    for name in names.iter().rev() {
        reversed.receiver.handle(testing::signed(KEY, PATH, &fixture(name), NOW)).await;
    }
    let a = in_order.storage.call_state(&RETELL, "call_7f3a9c2e1b4d").await.unwrap().unwrap();
    let b = reversed.storage.call_state(&RETELL, "call_7f3a9c2e1b4d").await.unwrap().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.status, Some(CallStatus::Completed));
    assert_eq!(a.analysis.as_ref().unwrap().sentiment, Some(Sentiment::Positive));
    assert_eq!(a.recording.as_ref().unwrap().status, RecordingStatus::Ready);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_input_never_panics(body in prop::collection::vec(any::<u8>(), 0..512), header in "\\PC{0,90}") {
        let _ = normalize::events(&body);
        let _ = signature::verify(&[Secret::new(KEY)], &header, &body, NOW, signature::DEFAULT_TOLERANCE);
    }

    #[test]
    fn arbitrary_well_formed_headers_never_panic(v in "[vV]=[0-9]{0,25}", d in "[dD]=[0-9a-fA-F]{0,70}") {
        let _ = signature::verify(&[Secret::new(KEY)], &format!("{v},{d}"), b"{}", NOW, signature::DEFAULT_TOLERANCE);
    }
}
