//! WaVoIP end to end: token in the URL (never stored), lenient fixtures, recording
//! states in any order.

mod support;

use std::sync::Arc;

use callhook::Receiver;
use callhook::event::{CallStatus, ContactId, Direction, Event, ProviderId, RecordingStatus};
use callhook::event_log::{EventFilter, EventLog, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::providers::wavoip::{WaVoip, normalize, testing};
use proptest::prelude::*;
use support::all_events;

const TOKEN: &str = "wavoip-url-token";
const PATH: &str = "/webhooks/wavoip";
const WAVOIP: ProviderId = ProviderId::from_static("wavoip");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/wavoip/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn call(name: &str) -> callhook::event::CallEvent {
    let events = normalize::events(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let Event::Call(call) = &events[0].event else { panic!("{name}: not a call") };
    call.clone()
}

#[test]
fn record_events_map_to_recording_states() {
    for (name, status) in [
        ("record_recording", RecordingStatus::Recording),
        ("record_mixing", RecordingStatus::Processing),
        ("record_ready", RecordingStatus::Ready),
        ("record_disabled", RecordingStatus::Disabled),
        ("record_empty", RecordingStatus::Empty),
        ("record_ready_string_id", RecordingStatus::Ready),
        ("record_ready_extra_fields", RecordingStatus::Ready),
    ] {
        let call = call(name);
        assert_eq!(call.recording.as_ref().unwrap().status, status, "{name}");
        assert_eq!(call.status, None, "{name}: a RECORD event says nothing of the call's status");
    }
    assert_eq!(call("record_ready").recording.unwrap().url.as_deref(), Some("https://storage.wavoip.com/123456"));
    assert_eq!(call("record_ready").call_id, "123456", "numeric ids become one string form");
    assert_eq!(call("record_ready_string_id").call_id, "test123");
}

#[test]
fn call_events_map_status_direction_and_duration() {
    let active = call("call_create_active");
    assert_eq!(active.status, Some(CallStatus::InProgress));
    assert_eq!(active.direction, Some(Direction::Inbound));
    let ended = call("call_update_ended");
    assert_eq!(ended.status, Some(CallStatus::Completed));
    assert_eq!(ended.duration_ms, Some(45_000));
    assert_eq!(call("call_outgoing").direction, Some(Direction::Outbound));

    let events = normalize::events(fixture("call_update_ended").as_bytes()).unwrap();
    assert_eq!(events[0].dedupe_key, "123456:CALL:UPDATE:ENDED");
    assert_eq!(events[0].event_type, "CALL.UPDATE");
}

#[test]
fn numbers_are_e164_customer_and_business() {
    // INCOMING: the caller is the customer, the receiver the device's number.
    let inbound = call("call_incoming_ring");
    assert_eq!((inbound.status, inbound.direction), (Some(CallStatus::Ringing), Some(Direction::Inbound)));
    assert_eq!((inbound.from.as_deref(), inbound.to.as_deref()), (Some("5511987650001"), Some("5511912340002")));
    assert_eq!(inbound.customer, Some(ContactId::phone("+5511987650001")));
    assert_eq!(inbound.business_number.as_deref(), Some("+5511912340002"));
    // OUTCOMING: the receiver is the customer. (This body repeats `type`: read as the
    // provider reads a request, the last value winning.)
    let body = fixture("call_update_repeated_type");
    let at = time::macros::datetime!(2026-12-01 10:00 UTC);
    let request = testing::signed(TOKEN, &format!("https://crm.example.com{PATH}"), &body, at);
    let view = callhook::provider::WebhookRequest::new(&request, at, None);
    let events = callhook::provider::parse_request(&WaVoip::builder().token(TOKEN).build(), &view).unwrap();
    let Event::Call(outbound) = &events[0].event else { panic!("{events:?}") };
    assert_eq!(outbound.direction, Some(Direction::Outbound));
    assert_eq!(outbound.customer, Some(ContactId::phone("+5511987650001")));
    assert_eq!(outbound.business_number.as_deref(), Some("+5511912340002"));
    // Numbers sent as JSON numbers read as their digits.
    let body = fixture("call_incoming_ring").replace(r#""caller":"5511987650001""#, r#""caller":5511987650001"#);
    let events = normalize::events(body.as_bytes()).unwrap();
    let Event::Call(numeric) = &events[0].event else { panic!("not a call") };
    assert_eq!(numeric, &inbound);

    // No numbers (null, or an UPDATE without them), no direction, or a caller that is no
    // number: no customer.
    let nulls = call("call_update_nulls");
    assert_eq!((&nulls.from, &nulls.customer, &nulls.business_number), (&None, &None, &None));
    assert_eq!((call("call_update_ended").customer, call("record_ready").customer), (None, None));
    let mut body: serde_json::Value = serde_json::from_str(&fixture("call_incoming_ring")).unwrap();
    body["direction"] = serde_json::Value::Null;
    let events = normalize::events(body.to_string().as_bytes()).unwrap();
    let Event::Call(undirected) = &events[0].event else { panic!("not a call") };
    assert_eq!(undirected.from.as_deref(), Some("5511987650001"));
    assert_eq!(
        (&undirected.customer, &undirected.business_number),
        (&None, &None),
        "either side could be the customer"
    );
    for caller in ["anonymous", "sip:caller@sip.example.com"] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_incoming_ring")).unwrap();
        body["caller"] = caller.into();
        let events = normalize::events(body.to_string().as_bytes()).unwrap();
        let Event::Call(hidden) = &events[0].event else { panic!("not a call") };
        assert_eq!(hidden.from.as_deref(), Some(caller), "kept as sent");
        assert_eq!((&hidden.customer, hidden.business_number.as_deref()), (&None, Some("+5511912340002")), "{caller}");
    }
}

#[test]
fn unknown_types_are_kept() {
    let events = normalize::events(fixture("unknown_type").as_bytes()).unwrap();
    let Event::Unmodeled(unmodeled) = &events[0].event else { panic!("not unmodeled") };
    assert_eq!(unmodeled.provider_type, "DEVICE");
    assert_eq!(unmodeled.data["name"], "Atendimento São Paulo");
}

fn setup() -> (Receiver, Arc<MemoryEventLog>) {
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .mount(PATH, Arc::new(WaVoip::builder().token(TOKEN).build()))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .build()
        .unwrap();
    (receiver, storage)
}

#[tokio::test]
async fn token_in_the_url_or_header_is_checked_and_never_stored() {
    let (receiver, storage) = setup();
    let body = fixture("record_ready");
    for _ in 0..2 {
        assert_eq!(
            receiver.handle(testing::signed(TOKEN, PATH, &body, time::OffsetDateTime::now_utc())).await.status(),
            200
        );
    }
    let events = all_events(&*storage).await;
    assert_eq!(events.len(), 1, "stored once when sent twice");
    let detail = storage.event(events[0].id).await.unwrap().unwrap();
    assert!(!detail.delivery.query.as_deref().unwrap_or_default().contains(TOKEN), "the token is not stored");

    let bearer = http::Request::post(PATH)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(bytes::Bytes::from(fixture("record_mixing")))
        .unwrap();
    assert_eq!(receiver.handle(bearer).await.status(), 200);

    assert_eq!(
        receiver.handle(testing::signed("guess", PATH, &body, time::OffsetDateTime::now_utc())).await.status(),
        401
    );
    let no_token = http::Request::post(PATH).body(bytes::Bytes::from(body)).unwrap();
    assert_eq!(receiver.handle(no_token).await.status(), 401);
    assert_eq!(storage.list_events(&EventFilter::default()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn record_ready_before_the_call_events_gives_the_same_state() {
    let bodies = [
        testing::call("9", "CREATE", "ACTIVE", 0),
        testing::record("9", "RECORDING"),
        testing::call("9", "UPDATE", "ENDED", 45),
        testing::record("9", "MIXING"),
        testing::record("9", "READY"),
    ];
    let mut states = Vec::new();
    for order in [vec![0, 1, 2, 3, 4], vec![4, 3, 2, 1, 0], vec![4, 0, 3, 2, 1]] {
        let (receiver, storage) = setup();
        for i in order {
            assert_eq!(
                receiver
                    .handle(testing::signed(TOKEN, PATH, &bodies[i], time::OffsetDateTime::now_utc()))
                    .await
                    .status(),
                200
            );
        }
        states.push(storage.call_state(&WAVOIP, "9").await.unwrap().unwrap());
    }
    assert!(states.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(states[0].status, Some(CallStatus::Completed));
    assert_eq!(states[0].recording.as_ref().unwrap().status, RecordingStatus::Ready);
    assert_eq!(states[0].recording.as_ref().unwrap().url.as_deref(), Some("https://storage.wavoip.com/9"));
}

/// The fixtures of modeled events: each, however reshaped, is still its call event.
const MODELED: [&str; 13] = [
    "call_create_active",
    "call_incoming_ring",
    "call_outgoing",
    "call_update_ended",
    "call_update_nulls",
    "call_update_float_numbers",
    "record_recording",
    "record_mixing",
    "record_ready",
    "record_disabled",
    "record_empty",
    "record_ready_string_id",
    "record_ready_float_ids",
];

/// What a `CALL` or `RECORD` body cannot do without.
const REQUIRED: [&str; 2] = ["/type", "/whatsapp_call_id"];

/// The call id a body's `whatsapp_call_id` stands for (`123456.0` is `123456`).
fn expected_id(value: &serde_json::Value) -> String {
    match &value["whatsapp_call_id"] {
        serde_json::Value::String(id) => id.clone(),
        id => (id.as_f64().unwrap() as u64).to_string(),
    }
}

#[test]
fn nulls_floats_and_numeric_strings_read_as_the_plain_payload() {
    let plain = call("call_update_ended");
    assert_eq!(call("call_update_float_numbers"), plain, "123456.0, \"789\" and \"45\" are the numbers they say");
    let events = normalize::events(fixture("call_update_float_numbers").as_bytes()).unwrap();
    assert_eq!(events[0].dedupe_key, "123456:CALL:UPDATE:ENDED");
    assert_eq!(call("record_ready_float_ids"), call("record_ready"));

    let nulls = call("call_update_nulls");
    assert_eq!((nulls.call_id.as_str(), nulls.status), ("123456", Some(CallStatus::Completed)));
    assert_eq!((nulls.direction, nulls.duration_ms, nulls.recording), (None, None, None));
}

#[test]
fn one_damaged_optional_field_drops_that_field_only() {
    let plain = call("call_update_ended");
    for (field, damage) in [
        ("duration", serde_json::json!({"weird": true})),
        ("duration", serde_json::json!("soon")),
        ("id_session", serde_json::json!([789])),
        ("direction", serde_json::json!(true)),
        ("record_status", serde_json::json!({"status": "MIXING"})),
        ("action", serde_json::json!({})),
        ("caller", serde_json::json!({"phone": "5511987650001"})),
        ("receiver", serde_json::json!(["5511912340002"])),
    ] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_update_ended")).unwrap();
        body[field] = damage.clone();
        let events = normalize::events(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{field}: {e}"));
        let Event::Call(event) = &events[0].event else { panic!("{field} {damage}: not a call") };
        assert_eq!((event.call_id.as_str(), event.status), ("123456", Some(CallStatus::Completed)), "{field}");
        match field {
            "duration" => assert_eq!(event.duration_ms, None),
            "direction" => assert_eq!(event.direction, None),
            "record_status" => assert_eq!(event.recording, None),
            "action" => assert_eq!(events[0].dedupe_key, "123456:CALL:-:ENDED"),
            _ => assert_eq!(event, &plain, "{field}: nothing the event keeps"),
        }
    }
}

#[test]
fn a_missing_or_unreadable_call_id_is_a_parse_error() {
    for body in [
        r#"{"type":"CALL","status":"ENDED"}"#,
        r#"{"type":"RECORD","whatsapp_call_id":null,"record_status":"READY"}"#,
        r#"{"type":"RECORD","whatsapp_call_id":{"id":1},"record_status":"READY"}"#,
        r#"{"whatsapp_call_id":1}"#,
    ] {
        assert!(normalize::events(body.as_bytes()).is_err(), "{body}");
    }
}

#[test]
fn a_call_with_its_type_repeated_missing_or_a_legacy_id_is_still_the_call() {
    // WaVoIP's documented call body names `type` twice; the last (`HUMANIZED`) wins, as
    // in most JSON parsers, and still says "a call".
    let body = fixture("call_update_repeated_type");
    let at = time::macros::datetime!(2026-12-01 10:00 UTC);
    let request = testing::signed(TOKEN, &format!("https://crm.example.com{PATH}"), &body, at);
    let view = callhook::provider::WebhookRequest::new(&request, at, None);
    let events = callhook::provider::parse_request(&WaVoip::builder().token(TOKEN).build(), &view).unwrap();
    let Event::Call(repeated) = &events[0].event else { panic!("{events:?}") };
    let id = "9F2C41AA07B3E5D1C0FFEE0012345678";
    assert_eq!((repeated.call_id.as_str(), repeated.status), (id, Some(CallStatus::Completed)));
    let outbound = (Some(Direction::Outbound), Some(73_000));
    assert_eq!((repeated.direction, repeated.duration_ms), outbound, "OUTCOMING is outbound");
    assert_eq!(events[0].event_type, "CALL.UPDATE");
    assert_eq!(repeated.notes.len(), 1, "the repeated key is noted");

    let no_type = call("call_update_no_type");
    assert_eq!((no_type.call_id.as_str(), no_type.status), ("123456", Some(CallStatus::NoAnswer)));
    let legacy = call("call_create_legacy_id");
    assert_eq!((legacy.call_id.as_str(), legacy.status), ("123456", Some(CallStatus::Ringing)));
    let record = normalize::events(br#"{"whatsapp_call_id":1,"record_status":"READY","record_url":"https://s/1"}"#);
    let Event::Call(record) = &record.unwrap()[0].event else { panic!() };
    assert_eq!(record.recording.as_ref().map(|r| r.status), Some(RecordingStatus::Ready), "no type: a recording");
}

fn reshaped_fixture()
-> impl Strategy<Value = (&'static str, serde_json::Value, Vec<(String, support::shapes::Reshape)>)> {
    (0..MODELED.len()).prop_flat_map(|i| {
        let name = MODELED[i];
        let value: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        support::shapes::reshaped(value, &REQUIRED, 6).prop_map(move |(value, done)| (name, value, done))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reshaped_payloads_still_parse_into_their_call_event((name, value, done) in reshaped_fixture()) {
        let events = normalize::events(value.to_string().as_bytes());
        let events = events.map_err(|e| TestCaseError::fail(format!("{name} {done:?}: {e}")))?;
        prop_assert_eq!(events.len(), 1);
        let Event::Call(event) = &events[0].event else {
            return Err(TestCaseError::fail(format!("{name} {done:?}: not a call event")));
        };
        prop_assert_eq!(&event.call_id, &expected_id(&value), "{} {:?}", name, done);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = normalize::events(&body);
    }
}
