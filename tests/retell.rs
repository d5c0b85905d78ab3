//! Retell end to end: the SDK's signature vectors, fixtures, the Receiver with an
//! injected clock, out-of-order deliveries, arbitrary input.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use callhook::clock::TokioClock;
use callhook::event::{CallStatus, ContactId, Direction, Event, LinkVia, ProviderId, RecordingStatus, Sentiment};
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
        ("call_ended_nulls", Some(CallStatus::Completed)),
        ("call_ended_float_times", Some(CallStatus::Completed)),
        ("call_analyzed_iso_times", Some(CallStatus::Completed)),
    ];
    for (name, status) in cases {
        let (parsed, call) = call(name);
        assert_eq!(call.status, status, "{name}");
        let wire: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        assert_eq!(parsed.event_type, wire["event"], "{name}");
    }
}

#[test]
fn numbers_are_e164_customer_and_business() {
    let clinic = Some("+551140028922");
    // Inbound: from_number is the customer, to_number the agent's number.
    let (_, inbound) = call("call_started");
    assert_eq!(inbound.direction, Some(Direction::Inbound));
    assert_eq!(inbound.customer, Some(ContactId::phone("+5511987654321")));
    assert_eq!(inbound.business_number.as_deref(), clinic);
    // Outbound: to_number is the customer.
    let (_, outbound) = call("call_ended_dial_busy");
    assert_eq!(outbound.direction, Some(Direction::Outbound));
    assert_eq!((outbound.from.as_deref(), outbound.to.as_deref()), (clinic, Some("+5521987001122")));
    assert_eq!(outbound.customer, Some(ContactId::phone("+5521987001122")));
    assert_eq!(outbound.business_number.as_deref(), clinic);

    // A web call has no numbers and no direction.
    let (_, web) = call("web_call_started");
    assert_eq!((&web.customer, &web.business_number), (&None, &None));
    // A withheld or SIP caller is no customer number; the agent's number stays.
    for caller in ["anonymous", "sip:caller@sip.example.com"] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_started")).unwrap();
        body["call"]["from_number"] = caller.into();
        let events = normalize::events(body.to_string().as_bytes()).unwrap();
        let Event::Call(call) = &events[0].event else { panic!("not a call") };
        assert_eq!(call.from.as_deref(), Some(caller), "kept as sent");
        assert_eq!((&call.customer, call.business_number.as_deref()), (&None, clinic), "{caller}");
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

/// The fixtures of modeled events: each, however reshaped, is still its call event.
const MODELED: [&str; 17] = [
    "call_started",
    "web_call_started",
    "transcript_updated",
    "call_ended",
    "call_ended_voicemail",
    "call_ended_dial_busy",
    "call_ended_dial_no_answer",
    "call_ended_error",
    "call_ended_unknown_reason",
    "call_ended_extra_fields",
    "call_ended_nulls",
    "call_ended_float_times",
    "call_analyzed",
    "call_analyzed_40_turns",
    "call_analyzed_iso_times",
    "transfer_started",
    "transfer_bridged",
];

/// What a Retell body cannot do without.
const REQUIRED: [&str; 2] = ["/event", "/call/call_id"];

#[test]
fn numbers_as_floats_or_strings_and_iso_times_read_as_the_plain_payload() {
    let (_, plain) = call("call_ended");
    let (_, floats) = call("call_ended_float_times");
    assert_eq!(floats, plain, "1764590403117.0, \"42000\" and \"6.476\" read as the numbers they are");
    let (_, analyzed) = call("call_analyzed");
    let (_, iso) = call("call_analyzed_iso_times");
    assert_eq!(iso, analyzed, "ISO 8601 times, \"true\" and 0 read as the unix ms and booleans they stand for");
    assert_eq!(iso.started_at, Some(datetime!(2025-12-01 12:00:03.117 UTC)));

    let body = fixture("call_ended_float_times");
    let webhook = callhook::providers::retell::model::Webhook::parse(body.as_bytes());
    let call = webhook.unwrap().call.unwrap();
    assert_eq!((call.agent_version, call.duration_ms), (Some(3), Some(42_000)));
    assert_eq!(call.call_cost.unwrap().combined_cost, Some(6.476));
}

#[test]
fn nulls_for_optional_fields_and_lists_are_absent() {
    let (parsed, ended) = call("call_ended_nulls");
    let (_, plain) = call("call_ended");
    assert_eq!(parsed.dedupe_key, "call_7f3a9c2e1b4d:call_ended");
    assert_eq!((ended.started_at, ended.ended_at, ended.duration_ms), (plain.started_at, plain.ended_at, Some(42_000)));
    assert_eq!(ended.analysis, plain.analysis, "the transcript text is still there");
    let body = fixture("call_ended_nulls");
    let webhook = callhook::providers::retell::model::Webhook::parse(body.as_bytes()).unwrap();
    let call = webhook.call.unwrap();
    assert!(call.transcript_object.is_empty() && call.call_analysis.is_none() && call.metadata.is_none());
    assert!(call.retell_llm_dynamic_variables.is_none() && call.call_cost.is_none() && call.agent_version.is_none());
}

#[test]
fn one_damaged_optional_field_drops_that_field_only() {
    let (_, plain) = call("call_analyzed");
    let damages: [(&str, serde_json::Value); 12] = [
        ("duration_ms", serde_json::json!({"weird": true})),
        ("duration_ms", serde_json::json!("forty-two seconds")),
        ("start_timestamp", serde_json::json!("not a time")),
        ("start_timestamp", serde_json::json!([1764590403117u64])),
        ("end_timestamp", serde_json::json!(true)),
        ("end_timestamp", serde_json::json!(1e300)),
        ("agent_version", serde_json::json!("v3")),
        ("call_analysis", serde_json::json!("pending")),
        ("call_cost", serde_json::json!(6.476)),
        ("transcript_object", serde_json::Value::Null),
        ("metadata", serde_json::Value::Null),
        ("retell_llm_dynamic_variables", serde_json::Value::Null),
    ];
    for (field, damage) in damages {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_analyzed")).unwrap();
        body["call"][field] = damage.clone();
        let events = normalize::events(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{field}: {e}"));
        let Event::Call(event) = &events[0].event else { panic!("{field} {damage}: not a call") };
        assert_eq!((event.call_id.as_str(), event.status), ("call_7f3a9c2e1b4d", Some(CallStatus::Completed)));
        assert_eq!(events[0].dedupe_key, "call_7f3a9c2e1b4d:call_analyzed", "{field}");
        match field {
            "duration_ms" => assert_eq!(event.duration_ms, None),
            "start_timestamp" => assert_eq!((event.started_at, event.answered_at), (None, None)),
            "end_timestamp" => assert_eq!((event.ended_at, event.occurred_at), (None, plain.started_at)),
            "call_analysis" => assert_eq!(event.analysis.as_ref().unwrap().summary, None),
            _ => assert_eq!(event, &plain, "{field}: nothing the event keeps"),
        }
        if field != "duration_ms" {
            assert_eq!(event.duration_ms, plain.duration_ms, "{field}");
        }
    }
    // Damage in a transcript turn or word spoils neither the turn nor the call.
    let mut body: serde_json::Value = serde_json::from_str(&fixture("call_ended")).unwrap();
    body["call"]["transcript_object"][0]["words"][0]["start"] = serde_json::json!({"weird": true});
    body["call"]["transcript_object"][1]["role"] = serde_json::Value::Null;
    body["call"]["transcript_object"][2]["words"] = serde_json::Value::Null;
    let text = body.to_string();
    let webhook = callhook::providers::retell::model::Webhook::parse(text.as_bytes()).unwrap();
    let turns = webhook.call.unwrap().transcript_object;
    assert_eq!((turns.len(), turns[0].words[0].start, turns[0].words[0].end), (4, None, Some(0.975)));
    assert_eq!((&*turns[1].role, turns[2].words.len()), ("", 0));
}

#[test]
fn missing_or_unreadable_identity_is_a_parse_error() {
    for body in [
        r#"{"call":{"call_id":"call_1"}}"#,
        r#"{"event":"call_ended","call":{"call_status":"ended"}}"#,
        r#"{"event":"call_ended","call":{"call_id":{"weird":true}}}"#,
        r#"{"event":7,"call":{"call_id":"call_1"}}"#,
        r#"{"event":"call_ended","call":"call_1"}"#,
    ] {
        assert!(normalize::events(body.as_bytes()).is_err(), "{body}");
    }
}

fn reshaped_fixture()
-> impl Strategy<Value = (&'static str, serde_json::Value, Vec<(String, support::shapes::Reshape)>)> {
    (0..MODELED.len()).prop_flat_map(|i| {
        let name = MODELED[i];
        let value: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        support::shapes::reshaped(value, &REQUIRED, 8).prop_map(move |(value, done)| (name, value, done))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reshaped_payloads_still_parse_into_their_call_event((name, value, done) in reshaped_fixture()) {
        let body = value.to_string();
        let events = normalize::events(body.as_bytes());
        let events = events.map_err(|e| TestCaseError::fail(format!("{name} {done:?}: {e}")))?;
        prop_assert_eq!(events.len(), 1);
        let Event::Call(event) = &events[0].event else {
            return Err(TestCaseError::fail(format!("{name} {done:?}: not a call event")));
        };
        prop_assert_eq!(event.call_id.as_str(), value["call"]["call_id"].as_str().unwrap(), "{} {:?}", name, done);
        prop_assert_eq!(events[0].event_type.as_str(), value["event"].as_str().unwrap());
    }
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

#[test]
fn a_call_on_a_twilio_number_links_the_twilio_call() {
    let events = callhook::providers::retell::normalize::events(fixture("call_started").as_bytes()).unwrap();
    let Event::Call(call) = &events[0].event else { panic!("{events:?}") };
    let links: Vec<(&str, &str, LinkVia)> =
        call.links.iter().map(|link| (link.provider.as_str(), link.call_id.as_str(), link.via)).collect();
    assert_eq!(links, [("twilio", "CA4f8adbf4da65819114e6ed6f4afdf2ee", LinkVia::TelephonyIdentifier)]);

    // Set by the caller when registering a call dialed from Twilio, without Retell's own.
    let mut body: serde_json::Value = serde_json::from_str(&fixture("call_started")).unwrap();
    body["call"]["telephony_identifier"] = serde_json::Value::Null;
    body["call"]["metadata"] = serde_json::json!({"twilio_call_sid": "CA00000000000000000000000000000042"});
    let events = callhook::providers::retell::normalize::events(body.to_string().as_bytes()).unwrap();
    let Event::Call(call) = &events[0].event else { panic!("{events:?}") };
    assert_eq!(call.links.len(), 1);
    assert_eq!(
        (call.links[0].call_id.as_str(), call.links[0].via),
        ("CA00000000000000000000000000000042", LinkVia::Metadata)
    );
    // A web call names none.
    let events = callhook::providers::retell::normalize::events(fixture("web_call_started").as_bytes()).unwrap();
    let Event::Call(call) = &events[0].event else { panic!("{events:?}") };
    assert!(call.links.is_empty());
}

/// An empty API key is dropped (an empty HMAC key would accept a signature anyone can
/// make): a Retell with no other key is not configured, and a signature made with the
/// empty key verifies with none.
#[test]
fn an_empty_api_key_verifies_nothing() {
    use callhook::Provider;
    use callhook::account::Account;
    use callhook::provider::WebhookRequest;
    let body = fixture("call_started");
    let forged = testing::signed("", PATH, &body, NOW);
    let view = WebhookRequest::new(&forged, NOW, None);
    for retell in [Retell::builder().api_key("").build(), Retell::builder().account(Account::new("a", "")).build()] {
        assert!(matches!(retell.verify(&view), Err(VerifyError::NotConfigured(_))), "{:?}", retell.verify(&view));
    }
    let with_a_real_key = Retell::builder().api_key("").api_key(KEY).build();
    assert_eq!(with_a_real_key.verify(&view), Err(VerifyError::SignatureMismatch));
}
