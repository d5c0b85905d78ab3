//! Vonage end to end: the SDK's signature vectors, fixtures, the Receiver with an
//! injected clock, rotation, duplicates, out-of-order deliveries, arbitrary input.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use callhook::clock::TokioClock;
use callhook::event::{CallEvent, CallStatus, ContactId, Direction, Event, ProviderId, RecordingStatus};
use callhook::event_log::{EventLog, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::provider::ParsedEvent;
use callhook::providers::registry::SampleRun;
use callhook::providers::vonage::{REGISTRATION, Vonage, model, normalize, signature, testing};
use callhook::verify::{Secret, VerifyError};
use proptest::prelude::*;
use serde::Deserialize;
use support::all_events;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const SECRET: &str = "vonage signature secret";
const PATH: &str = "/webhooks/vonage/events";
const VONAGE: ProviderId = ProviderId::from_static("vonage");
const NOW: OffsetDateTime = datetime!(2025-12-01 12:00:44 UTC);
const CON: &str = "CON-f972836a-550f-45fa-956c-12a2ab5b7d22";

#[derive(Deserialize)]
struct Vectors {
    generator: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    secret: String,
    token: String,
    body: String,
    now_ms: i64,
    sdk_valid: bool,
    callhook_valid: bool,
    callhook_error: Option<String>,
}

#[test]
fn agrees_with_the_official_sdk_on_every_vector() {
    let path = format!("{}/tests/fixtures/vonage/signature_vectors.json", env!("CARGO_MANIFEST_DIR"));
    let vectors: Vectors = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(vectors.generator.starts_with("@vonage/jwt@"), "{}", vectors.generator);
    assert!(vectors.vectors.len() >= 40);
    for v in &vectors.vectors {
        let now = OffsetDateTime::from_unix_timestamp_nanos(i128::from(v.now_ms) * 1_000_000).unwrap();
        let secrets = [Secret::new(v.secret.clone())];
        let header = format!("Bearer {}", v.token);
        let result = signature::verify(&secrets, &header, v.body.as_bytes(), now, signature::DEFAULT_TOLERANCE);
        assert_eq!(result.is_ok(), v.callhook_valid, "{}: {result:?}", v.name);
        // callhook never accepts what the SDK refuses.
        assert!(!v.callhook_valid || v.sdk_valid, "{}", v.name);
        if let Err(error) = &result {
            let kind = match error {
                VerifyError::MalformedHeader { .. } => "malformed",
                VerifyError::SignatureMismatch => "signature",
                VerifyError::TimestampOutsideTolerance { .. } => "stale",
                VerifyError::BodyHashMismatch => "body_hash",
                other => panic!("{}: unexpected {other:?}", v.name),
            };
            assert_eq!(Some(kind), v.callhook_error.as_deref(), "{}: {error:?}", v.name);
        }
    }
    // What the SDK leaves to the caller and callhook refuses: a body that does not match
    // `payload_hash` (the SDK never reads it).
    let tampered = vectors.vectors.iter().find(|v| v.name == "body_hash_tampered_body").unwrap();
    assert!(tampered.sdk_valid && !tampered.callhook_valid);
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/vonage/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn parsed(name: &str) -> ParsedEvent {
    let mut events = normalize::events(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(events.len(), 1, "{name}");
    events.remove(0)
}

fn call(name: &str) -> (ParsedEvent, CallEvent) {
    let event = parsed(name);
    let Event::Call(call) = event.event.clone() else { panic!("{name}: not a call: {:?}", event.event) };
    (event, call)
}

#[test]
fn fixtures_normalize_as_the_table_says() {
    let cases = [
        ("started", Some(CallStatus::Initiated), None),
        ("ringing", Some(CallStatus::Ringing), None),
        ("answered", Some(CallStatus::InProgress), None),
        ("completed", Some(CallStatus::Completed), None),
        ("completed_extra_fields", Some(CallStatus::Completed), None),
        ("busy", Some(CallStatus::Busy), Some("declined")),
        ("cancelled", Some(CallStatus::Canceled), None),
        ("unanswered", Some(CallStatus::NoAnswer), Some("unavailable")),
        ("timeout", Some(CallStatus::NoAnswer), None),
        ("rejected", Some(CallStatus::Failed), Some("restricted")),
        ("failed", Some(CallStatus::Failed), Some("cannot_route")),
        ("disconnected", None, None),
        ("human", None, None),
        ("machine", None, None),
    ];
    for (name, status, error) in cases {
        let (parsed, call) = call(name);
        assert_eq!(call.status, status, "{name}");
        assert_eq!(call.error.as_ref().and_then(|e| e.code.as_deref()), error, "{name}");
        let wire: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        assert_eq!(parsed.event_type, wire["status"], "{name}");
        assert_eq!(call.provider_status.as_deref(), wire["status"].as_str(), "{name}");
        assert_eq!(call.call_id, wire["conversation_uuid"].as_str().unwrap(), "{name}: the conversation is the call");
        let leg = wire["uuid"].as_str().or(wire["call_uuid"].as_str()).unwrap();
        assert!(parsed.dedupe_key.starts_with(&format!("{leg}:{}:", wire["status"].as_str().unwrap())), "{name}");
    }
}

#[test]
fn numbers_are_e164_customer_and_business() {
    let business = Some("+447700900001");
    // The caller's inbound leg: from is the customer, to the Vonage number (digits
    // without `+` on the wire).
    for name in ["started", "ringing", "answered", "completed"] {
        let (_, inbound) = call(name);
        assert_eq!(inbound.from.as_deref(), Some("447700900000"), "{name}: kept as sent");
        assert_eq!(inbound.customer, Some(ContactId::phone("+447700900000")), "{name}");
        assert_eq!(inbound.business_number.as_deref(), business, "{name}");
    }
    // An outbound leg: to is the one called, from the Vonage number.
    for name in ["busy", "unanswered", "failed"] {
        let (_, outbound) = call(name);
        assert_eq!(outbound.direction, Some(Direction::Outbound), "{name}");
        assert_eq!(outbound.customer, Some(ContactId::phone("+447700900002")), "{name}");
        assert_eq!(outbound.business_number.as_deref(), business, "{name}");
    }

    // No direction (machine detection, the recording, a WebSocket leg) names no one, and
    // a URI or a withheld caller is no number.
    for name in ["human", "record", "disconnected"] {
        let (_, call) = call(name);
        assert_eq!((&call.customer, &call.business_number), (&None, &None), "{name}");
    }
    for (caller, direction) in [("wss://ws.example.com/socket", "inbound"), ("unknown", "inbound")] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("ringing")).unwrap();
        body["from"] = caller.into();
        body["direction"] = direction.into();
        let events = normalize::events(body.to_string().as_bytes()).unwrap();
        let Event::Call(call) = &events[0].event else { panic!("not a call") };
        assert_eq!(call.from.as_deref(), Some(caller), "kept as sent");
        assert_eq!((&call.customer, call.business_number.as_deref()), (&None, business), "{caller}");
    }
}

#[test]
fn completed_carries_times_duration_and_the_answer_time_comes_from_answered() {
    let (_, completed) = call("completed");
    assert_eq!(completed.started_at, Some(datetime!(2025-12-01 12:00:01 UTC)));
    assert_eq!(completed.ended_at, Some(datetime!(2025-12-01 12:00:43 UTC)));
    assert_eq!(completed.duration_ms, Some(42_000));
    assert_eq!(completed.direction, Some(Direction::Inbound));
    assert_eq!((completed.from.as_deref(), completed.to.as_deref()), (Some("447700900000"), Some("447700900001")));
    assert_eq!(completed.occurred_at, Some(datetime!(2025-12-01 12:00:43.012 UTC)));

    let (_, answered) = call("answered");
    assert_eq!(answered.answered_at, Some(datetime!(2025-12-01 12:00:01.51 UTC)));
    let (parsed, extra) = call("completed_extra_fields");
    assert_eq!(extra.duration_ms, Some(42_000), "numbers are read as well as strings");
    assert!(parsed.dedupe_key.starts_with("0a1b2c3d-"));

    let (_, machine) = call("machine");
    assert_eq!(machine.analysis.unwrap().in_voicemail, Some(true));
    let (_, human) = call("human");
    assert_eq!(human.analysis.unwrap().in_voicemail, Some(false));
}

#[test]
fn the_recording_event_is_a_ready_recording_of_the_conversation() {
    let (parsed, event) = call("record");
    assert_eq!(parsed.event_type, "record");
    assert_eq!(parsed.dedupe_key, "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70:record");
    assert_eq!(event.call_id, CON);
    assert_eq!(event.status, None);
    let recording = event.recording.unwrap();
    assert_eq!(recording.status, RecordingStatus::Ready);
    assert_eq!(recording.url.as_deref(), Some("https://api.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab"));
    assert_eq!(recording.recording_id.as_deref(), Some("d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"));
    assert_eq!(recording.duration_secs, Some(41));

    let body = fixture("record");
    let webhook = model::Webhook::parse(body.as_bytes()).unwrap();
    assert_eq!((webhook.kind(), webhook.size), (model::Kind::Recording, Some(336_044)));
}

#[test]
fn unknown_statuses_and_unmodeled_events_keep_their_json() {
    let body = fixture("unknown_status");
    let webhook = model::Webhook::parse(body.as_bytes()).unwrap();
    let status = webhook.status.unwrap();
    assert_eq!((status.as_str(), status.is_known()), ("on_hold", false), "unknown statuses parse, kept verbatim");
    assert_eq!(status, model::Status::from("on_hold"));
    for (name, event_type, subject) in [
        ("unknown_status", "on_hold", CON),
        ("input", "input", CON),
        ("transfer", "transfer", "CON-1c9e5a7b-2d4f-4a6c-8e0b-3f5d7a9c1e2b"),
        ("error", "error", CON),
    ] {
        let parsed = parsed(name);
        assert_eq!(parsed.event_type, event_type, "{name}");
        let Event::Unmodeled(unmodeled) = &parsed.event else { panic!("{name}: not unmodeled") };
        assert_eq!(unmodeled.provider_type, event_type, "{name}");
        assert_eq!(unmodeled.subject_id.as_deref(), Some(subject), "{name}");
        let wire: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        assert_eq!(unmodeled.data, wire, "{name}: the whole body is kept");
        assert!(unmodeled.occurred_at.is_some(), "{name}");
    }
    let Event::Unmodeled(input) = parsed("input").event else { unreachable!() };
    assert_eq!(input.data["dtmf"]["digits"], "42");
    // Unknown fields parse and stay in the stored body (checked through the receiver below).
    let body = fixture("completed_extra_fields");
    let webhook = model::Webhook::parse(body.as_bytes()).unwrap();
    assert_eq!(webhook.rate.as_deref(), Some("0.0045"));
}

#[test]
fn the_testing_helpers_write_what_the_fixtures_show() {
    let at = datetime!(2025-12-01 12:00:43 UTC);
    for status in ["started", "ringing", "answered", "completed", "busy", "failed"] {
        let body = testing::call_event(status, CON, "leg-1", at);
        let events = normalize::events(body.as_bytes()).unwrap();
        let Event::Call(call) = &events[0].event else { panic!("{status}") };
        assert_eq!(call.status, normalize::status_for(&model::Status::from(status)), "{status}");
        assert_eq!(call.occurred_at, Some(at), "{status}");
    }
    let body = testing::recording_event(CON, "rec-1", "https://api.nexmo.com/v1/files/1", at);
    let Event::Call(call) = &normalize::events(body.as_bytes()).unwrap()[0].event else { unreachable!() };
    assert_eq!(call.recording.as_ref().unwrap().duration_secs, Some(42));
}

struct Setup {
    receiver: Receiver,
    storage: Arc<MemoryEventLog>,
}

fn setup() -> Setup {
    let storage = Arc::new(MemoryEventLog::new());
    let vonage = Vonage::builder().signature_secret("the old secret").signature_secret(SECRET).build();
    let receiver = Receiver::builder()
        .mount(PATH, Arc::new(vonage))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .clock(TokioClock::starting_at(NOW))
        .build()
        .unwrap();
    Setup { receiver, storage }
}

#[tokio::test(start_paused = true)]
async fn a_signed_call_is_stored_and_folds_into_the_conversation() {
    let s = setup();
    for name in ["started", "ringing", "answered", "completed", "record"] {
        let response = s.receiver.handle(testing::signed(SECRET, PATH, &fixture(name), NOW)).await;
        assert_eq!(response.status(), 200, "{name}");
        assert!(response.body().is_empty());
    }
    assert_eq!(all_events(&*s.storage).await.len(), 5);
    let state = s.storage.call_state(&VONAGE, CON).await.unwrap().unwrap();
    assert_eq!(state.status, Some(CallStatus::Completed));
    assert_eq!(state.provider_status.as_deref(), Some("completed"));
    assert_eq!(state.started_at, Some(datetime!(2025-12-01 12:00:00.104 UTC)));
    assert_eq!(state.answered_at, Some(datetime!(2025-12-01 12:00:01.51 UTC)));
    assert_eq!(state.ended_at, Some(datetime!(2025-12-01 12:00:43 UTC)));
    assert_eq!(state.duration_ms, Some(42_000));
    let recording = state.recording.unwrap();
    assert_eq!(recording.status, RecordingStatus::Ready);
    assert!(recording.url.unwrap().starts_with("https://api.nexmo.com/v1/files/"));
}

#[tokio::test(start_paused = true)]
async fn wrong_missing_stale_and_tampered_requests_are_refused_with_nothing_stored() {
    let s = setup();
    let body = fixture("completed");
    let wrong = testing::signed("not the secret", PATH, &body, NOW);
    assert_eq!(s.receiver.handle(wrong).await.status(), 401);
    let mut missing = testing::signed(SECRET, PATH, &body, NOW);
    missing.headers_mut().remove("authorization");
    assert_eq!(s.receiver.handle(missing).await.status(), 401);
    let mut basic = testing::signed(SECRET, PATH, &body, NOW);
    basic.headers_mut().insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    assert_eq!(s.receiver.handle(basic).await.status(), 401);
    for skew in [Duration::minutes(-6), Duration::minutes(6)] {
        let request = testing::signed(SECRET, PATH, &body, NOW + skew);
        assert_eq!(s.receiver.handle(request).await.status(), 401, "{skew}");
    }
    let (parts, _) = testing::signed(SECRET, PATH, &body, NOW).into_parts();
    let tampered = http::Request::from_parts(parts, Bytes::from(body.replace("\"42\"", "\"4200\"")));
    assert_eq!(s.receiver.handle(tampered).await.status(), 401);
    // A token for one body does not authenticate another, even from the same call.
    let (parts, _) = testing::signed(SECRET, PATH, &fixture("ringing"), NOW).into_parts();
    let swapped = http::Request::from_parts(parts, Bytes::from(fixture("started")));
    assert_eq!(s.receiver.handle(swapped).await.status(), 401);
    assert!(all_events(&*s.storage).await.is_empty());

    for skew in [Duration::minutes(-4), Duration::minutes(4)] {
        assert_eq!(s.receiver.handle(testing::signed(SECRET, PATH, &body, NOW + skew)).await.status(), 200);
    }
}

#[tokio::test(start_paused = true)]
async fn duplicates_are_stored_once_and_either_secret_verifies() {
    let s = setup();
    let body = fixture("completed");
    for at in [NOW, NOW + Duration::seconds(1)] {
        // A retry is signed anew: a fresh token, the same body, one event.
        assert_eq!(s.receiver.handle(testing::signed(SECRET, PATH, &body, at)).await.status(), 200);
    }
    assert_eq!(all_events(&*s.storage).await.len(), 1);
    let old = testing::signed("the old secret", PATH, &fixture("started"), NOW);
    assert_eq!(s.receiver.handle(old).await.status(), 200, "a second secret verifies (rotation)");
    assert_eq!(all_events(&*s.storage).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn late_statuses_never_regress_the_folded_state() {
    let in_order = setup();
    let reversed = setup();
    let names = ["started", "ringing", "answered", "completed", "record"];
    for name in names {
        in_order.receiver.handle(testing::signed(SECRET, PATH, &fixture(name), NOW)).await;
    }
    for name in names.iter().rev() {
        reversed.receiver.handle(testing::signed(SECRET, PATH, &fixture(name), NOW)).await;
    }
    let a = in_order.storage.call_state(&VONAGE, CON).await.unwrap().unwrap();
    let b = reversed.storage.call_state(&VONAGE, CON).await.unwrap().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.status, Some(CallStatus::Completed), "a late ringing does not overwrite completed");
    assert_eq!(a.recording.unwrap().status, RecordingStatus::Ready);
}

#[tokio::test(start_paused = true)]
async fn unknown_events_are_stored_with_their_body() {
    let s = setup();
    for name in ["unknown_status", "completed_extra_fields", "error"] {
        assert_eq!(s.receiver.handle(testing::signed(SECRET, PATH, &fixture(name), NOW)).await.status(), 200, "{name}");
    }
    let events = all_events(&*s.storage).await;
    assert_eq!(events.len(), 3);
    let unknown = events.iter().find(|e| e.event_type == "on_hold").unwrap();
    let Some(Event::Unmodeled(unmodeled)) = &unknown.event else { panic!("not unmodeled") };
    assert_eq!(unmodeled.data["status"], "on_hold");
    let extra = events.iter().find(|e| e.event_type == "completed").unwrap();
    let detail = s.storage.event(extra.id).await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&detail.delivery.body).contains("a_future_field"),
        "unknown fields stay in the body"
    );
}

#[tokio::test(start_paused = true)]
async fn the_registration_mounts_signs_and_its_samples_fold_to_a_completed_call() {
    let settings = (REGISTRATION.test_settings)();
    let mount = (REGISTRATION.mount)(&settings).unwrap();
    assert_eq!(mount.paths, [PATH]);
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .mount(PATH, mount.provider)
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .clock(TokioClock::starting_at(NOW))
        .build()
        .unwrap();
    let recording_url = |name: &str| format!("https://crm.example.com/samples/recordings/{name}");
    let run = SampleRun::new(&settings, "https://crm.example.com", "s1", NOW, &recording_url);
    let samples = (REGISTRATION.samples)(&run);
    assert_eq!(samples.len(), 5);
    for sample in samples {
        assert_eq!(receiver.handle(sample.request).await.status(), 200, "{}", sample.name);
    }
    let state = storage.call_state(&VONAGE, "CON-s1").await.unwrap().unwrap();
    assert_eq!(state.status, Some(CallStatus::Completed));
    assert_eq!(state.duration_ms, Some(42_000));
    let recording = state.recording.unwrap();
    assert_eq!(recording.url.as_deref(), Some("https://crm.example.com/samples/recordings/rec-s1.mp3"));

    let signed = (REGISTRATION.sign)(&settings, "https://crm.example.com/webhooks/vonage/events", "{}", NOW);
    assert_eq!(signed.uri().path(), PATH);
}

#[test]
fn verify_error_says_how_far_off_the_clock_is() {
    let header = format!("Bearer {}", signature::sign(SECRET, b"{}", NOW - Duration::minutes(10)));
    assert_eq!(
        signature::verify(&[Secret::new(SECRET)], &header, b"{}", NOW, signature::DEFAULT_TOLERANCE),
        Err(VerifyError::TimestampOutsideTolerance { skew_secs: -600 })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_input_never_panics(body in prop::collection::vec(any::<u8>(), 0..512), header in "\\PC{0,200}") {
        let _ = normalize::events(&body);
        let _ = signature::verify(&[Secret::new(SECRET)], &header, &body, NOW, signature::DEFAULT_TOLERANCE);
    }

    #[test]
    fn arbitrary_jwt_shaped_tokens_never_panic_nor_verify(
        header in "[A-Za-z0-9_-]{0,60}",
        claims in "[A-Za-z0-9_-]{0,120}",
        mac in "[A-Za-z0-9_-]{0,50}",
    ) {
        let token = format!("Bearer {header}.{claims}.{mac}");
        let result = signature::verify(&[Secret::new(SECRET)], &token, b"{}", NOW, signature::DEFAULT_TOLERANCE);
        prop_assert!(result.is_err());
    }

    #[test]
    fn arbitrary_json_objects_parse_or_fail_cleanly(
        status in prop::option::of(prop::sample::select(vec!["started", "completed", "record", "zzz", ""])),
        duration in prop::option::of(prop_oneof![Just(serde_json::json!("42")), Just(serde_json::json!(7)), Just(serde_json::json!(null)), Just(serde_json::json!(-1))]),
        with_ids in any::<bool>(),
    ) {
        let mut body = serde_json::json!({"timestamp": "2025-12-01T12:00:00.000Z"});
        if let Some(status) = status { body["status"] = status.into(); }
        if let Some(duration) = duration { body["duration"] = duration; }
        if with_ids { body["uuid"] = "leg".into(); body["conversation_uuid"] = "CON-1".into(); }
        let _ = normalize::events(body.to_string().as_bytes());
    }
}

// Real-world shapes (issue 21): optional fields removed, `null`, numbers re-encoded or
// damaged cost only themselves.

/// What a Vonage body cannot do without: what it is (`status`, or the recording's URL,
/// an input's `dtmf` or `speech`, an error's `reason`), and the conversation it belongs
/// to (a transfer's is the one it moved to).
const REQUIRED: [&str; 7] =
    ["/status", "/conversation_uuid", "/recording_url", "/dtmf", "/speech", "/reason", "/conversation_uuid_to"];

/// Every fixture but the signature vectors.
fn event_fixtures() -> Vec<String> {
    let dir = format!("{}/tests/fixtures/vonage", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .filter(|name| name != "signature_vectors")
        .collect();
    names.sort();
    names
}

/// The kind, type and subject of an event: what reshaping optional fields must not change.
fn subject(event: &ParsedEvent) -> (String, Option<String>) {
    let subject = match &event.event {
        Event::Call(call) => Some(call.call_id.clone()),
        Event::Unmodeled(unmodeled) => unmodeled.subject_id.clone(),
        other => panic!("a Vonage body gave {other:?}"),
    };
    (event.event_type.clone(), subject)
}

#[test]
fn nulls_for_optional_fields_are_absent() {
    let (_, plain) = call("completed");
    let mut body: serde_json::Value = serde_json::from_str(&fixture("completed")).unwrap();
    for key in ["uuid", "from", "to", "start_time", "end_time", "duration", "rate", "price", "network", "direction"] {
        body[key] = serde_json::Value::Null;
    }
    let events = normalize::events(body.to_string().as_bytes()).unwrap();
    let Event::Call(nulls) = &events[0].event else { panic!("{events:?}") };
    assert_eq!((nulls.call_id.as_str(), nulls.status), (CON, plain.status));
    assert_eq!((&nulls.from, &nulls.to, nulls.started_at, nulls.duration_ms), (&None, &None, None, None));
    assert_eq!(nulls.ended_at, Some(datetime!(2025-12-01 12:00:43.012 UTC)), "`timestamp` stands in for `end_time`");
}

#[test]
fn one_damaged_optional_field_drops_that_field_only() {
    let (plain_parsed, plain) = call("completed");
    for (key, damage) in [
        ("duration", serde_json::json!("forty-two")),
        ("start_time", serde_json::json!({"weird": true})),
        ("end_time", serde_json::json!("not a time")),
        ("from", serde_json::json!(["447700900000"])),
        ("rate", serde_json::json!({})),
        ("direction", serde_json::json!(7)),
        ("disconnected_by", serde_json::json!(false)),
        ("network", serde_json::json!(1.5)),
    ] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("completed")).unwrap();
        body[key] = damage.clone();
        let events = normalize::events(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{key}: {e}"));
        let Event::Call(event) = &events[0].event else { panic!("{key} {damage}: not a call") };
        assert_eq!((event.call_id.as_str(), event.status), (CON, Some(CallStatus::Completed)), "{key}");
        assert_eq!(events[0].dedupe_key, plain_parsed.dedupe_key, "{key}");
        match key {
            "duration" => assert_eq!(event.duration_ms, None),
            "start_time" => assert_eq!(event.started_at, None),
            "end_time" => assert_eq!(event.ended_at, Some(datetime!(2025-12-01 12:00:43.012 UTC)), "from `timestamp`"),
            "from" => assert_eq!(event.from, None),
            "direction" => assert_eq!(event.direction, None),
            _ => assert_eq!(event, &plain, "{key}: nothing the event keeps"),
        }
    }
    // The recording keeps its URL when its length cannot be worked out.
    let mut body: serde_json::Value = serde_json::from_str(&fixture("record")).unwrap();
    body["size"] = serde_json::json!("big");
    body["start_time"] = serde_json::json!([]);
    let events = normalize::events(body.to_string().as_bytes()).unwrap();
    let Event::Call(event) = &events[0].event else { panic!("{events:?}") };
    let recording = event.recording.as_ref().unwrap();
    assert_eq!(recording.status, RecordingStatus::Ready);
    assert_eq!(recording.duration_secs, None);
    assert!(recording.url.as_deref().is_some_and(|url| url.starts_with("https://api.nexmo.com/v1/files/")));
}

fn reshaped_fixture() -> impl Strategy<Value = (String, serde_json::Value, Vec<(String, support::shapes::Reshape)>)> {
    let names = event_fixtures();
    (0..names.len()).prop_flat_map(move |i| {
        let name = names[i].clone();
        let value: serde_json::Value = serde_json::from_str(&fixture(&name)).unwrap();
        support::shapes::reshaped(value, &REQUIRED, 8).prop_map(move |(value, done)| (name.clone(), value, done))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Optional members removed, `null`, or numbers re-encoded: the body still parses
    /// into the same kind of event about the same conversation.
    #[test]
    fn reshaped_payloads_still_parse_into_their_event((name, value, done) in reshaped_fixture()) {
        let events = normalize::events(value.to_string().as_bytes());
        let events = events.map_err(|e| TestCaseError::fail(format!("{name} {done:?}: {e}")))?;
        prop_assert_eq!(events.len(), 1);
        prop_assert!(events[0].unreadable.is_none(), "{} {:?}", name, done);
        prop_assert_eq!(subject(&events[0]), subject(&parsed(&name)), "{} {:?}", name, done);
    }
}
