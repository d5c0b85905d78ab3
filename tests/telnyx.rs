//! Telnyx end to end: the official SDK's signature vectors, fixtures, the Receiver with
//! an injected clock, duplicates, out-of-order deliveries, the registration's samples.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use callhook::clock::TokioClock;
use callhook::event::{
    CallEvent, CallStatus, ContactId, Direction, Event, MessageKind, MessageStatus, ProviderId, RecordingStatus,
};
use callhook::event_log::{EventLog, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::provider::ParsedEvent;
use callhook::providers::registry::SampleRun;
use callhook::providers::telnyx::signature::{self, PublicKey};
use callhook::providers::telnyx::{REGISTRATION, Telnyx, normalize, testing};
use callhook::verify::VerifyError;
use proptest::prelude::*;
use serde::Deserialize;
use support::all_events;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const PATH: &str = "/webhooks/telnyx";
const TELNYX: ProviderId = ProviderId::from_static("telnyx");
const NOW: OffsetDateTime = datetime!(2025-12-01 12:00:50 UTC);
const LEG: &str = "9a4d2c16-ce5a-11f0-8f1e-02420a1f0b6c";

#[derive(Deserialize)]
struct Vectors {
    generator: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    public_key: String,
    body: String,
    signature: Option<String>,
    timestamp: Option<String>,
    now_ms: i64,
    valid: bool,
    sdk_error: Option<String>,
    #[serde(default)]
    callhook_differs: Option<serde_json::Value>,
}

/// callhook accepts exactly what telnyx-node's `TelnyxWebhook.verify` accepts, and
/// refuses for the same reason, except where it is stricter on purpose (a weak public
/// key, with which anyone can forge).
#[test]
fn agrees_with_the_official_sdk_on_every_vector() {
    let path = format!("{}/tests/fixtures/telnyx/signature_vectors.json", env!("CARGO_MANIFEST_DIR"));
    let vectors: Vectors = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(vectors.generator.starts_with("telnyx@"), "{}", vectors.generator);
    assert!(vectors.vectors.len() >= 40);
    let mut stricter = 0;
    for v in &vectors.vectors {
        let now = OffsetDateTime::from_unix_timestamp_nanos(i128::from(v.now_ms) * 1_000_000).unwrap();
        let Ok(key) = v.public_key.parse::<PublicKey>() else {
            assert!(v.callhook_differs.is_some(), "{}: the key is refused but the vector does not say why", v.name);
            stricter += 1;
            continue;
        };
        let result = signature::verify(
            &[key],
            v.signature.as_deref(),
            v.timestamp.as_deref(),
            v.body.as_bytes(),
            now,
            signature::DEFAULT_TOLERANCE,
        );
        assert_eq!(result.is_ok(), v.valid, "{}: {result:?}", v.name);
        let Err(error) = result else { continue };
        let sdk = v.sdk_error.as_deref().unwrap_or_default();
        let same_reason = match &error {
            VerifyError::SignatureMismatch => sdk.starts_with("Signature verification failed"),
            VerifyError::TimestampOutsideTolerance { .. } => sdk.starts_with("Webhook timestamp too old or too new"),
            VerifyError::MissingHeader(_) => sdk.starts_with("Missing required header"),
            VerifyError::MalformedHeader { header, .. } if *header == signature::TIMESTAMP_HEADER => {
                sdk.starts_with("Invalid timestamp format")
            }
            VerifyError::MalformedHeader { .. } => sdk.starts_with("Invalid signature format"),
            other => panic!("{}: unexpected {other:?}", v.name),
        };
        assert!(same_reason, "{}: callhook says {error:?}, the SDK {sdk:?}", v.name);
    }
    assert_eq!(stricter, 1, "only the identity-key forgery is refused where the SDK accepts");
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/telnyx/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn parsed(name: &str) -> ParsedEvent {
    let mut events = normalize::events(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(events.len(), 1, "{name}");
    events.remove(0)
}

fn call(name: &str) -> CallEvent {
    let event = parsed(name);
    let Event::Call(call) = event.event else { panic!("{name}: not a call: {:?}", event.event) };
    call
}

#[test]
fn call_fixtures_normalize_as_the_table_says() {
    for (name, status) in [
        ("call_initiated", Some(CallStatus::Ringing)),
        ("call_initiated_outgoing", Some(CallStatus::Initiated)),
        ("call_answered", Some(CallStatus::InProgress)),
        ("call_bridged", Some(CallStatus::InProgress)),
        ("call_hangup", Some(CallStatus::Completed)),
        ("call_hangup_busy", Some(CallStatus::Busy)),
        ("call_hangup_rejected", Some(CallStatus::Busy)),
        ("call_hangup_timeout", Some(CallStatus::NoAnswer)),
        ("call_hangup_originator_cancel", Some(CallStatus::Canceled)),
        ("call_hangup_not_found", Some(CallStatus::Failed)),
        ("call_hangup_unknown_cause", Some(CallStatus::Completed)),
        ("call_hangup_extra_fields", Some(CallStatus::Completed)),
        ("call_recording_saved", None),
        ("call_recording_error", None),
        ("call_machine_detection_ended", None),
    ] {
        assert_eq!(call(name).status, status, "{name}");
    }
    let initiated = call("call_initiated");
    assert_eq!(initiated.call_id, LEG, "a call is its leg");
    assert_eq!(initiated.direction, Some(Direction::Inbound));
    assert_eq!(call("call_initiated_outgoing").direction, Some(Direction::Outbound));
    let hangup = call("call_hangup");
    assert_eq!(hangup.provider_status.as_deref(), Some("normal_clearing"));
    assert_eq!(hangup.ended_at, Some(datetime!(2025-12-01 12:00:47.118902 UTC)));
    assert_ne!(
        call("call_hangup_unknown_cause").provider_status.as_deref(),
        Some("normal_clearing"),
        "an unknown cause is kept as it came"
    );

    let saved = call("call_recording_saved").recording.unwrap();
    assert_eq!(saved.status, RecordingStatus::Ready);
    assert!(saved.url.unwrap().starts_with("https://s3.amazonaws.com/telephony-recorder-prod/"));
    assert!(call("call_recording_saved_public_urls").recording.unwrap().url.is_some());
    assert_eq!(call("call_recording_error").recording.unwrap().status, RecordingStatus::Failed);
    assert!(call("call_machine_detection_ended").analysis.is_some());
}

#[test]
fn message_fixtures_normalize_to_inbound_messages_and_statuses() {
    let received = parsed("message_received");
    let Event::Message(message) = &received.event else { panic!("not a message") };
    assert_eq!(message.message_id, "b0c4e3a2-7f11-4d5e-9a0b-3c2d1e0f9a8b");
    let MessageKind::Inbound(inbound) = &message.kind else { panic!("not inbound: {:?}", message.kind) };
    assert_eq!(inbound.from, testing::CUSTOMER_NUMBER);
    for name in ["message_received_mms", "message_received_whatsapp"] {
        let Event::Message(message) = parsed(name).event else { panic!("{name}: not a message") };
        assert!(matches!(message.kind, MessageKind::Inbound(_)), "{name}");
    }
    for (name, status) in [
        ("message_finalized_delivered", MessageStatus::Delivered),
        ("message_finalized_delivery_failed", MessageStatus::Failed),
        ("message_sent", MessageStatus::Sent),
    ] {
        let Event::Message(message) = parsed(name).event else { panic!("{name}: not a message") };
        let MessageKind::Status(update) = &message.kind else { panic!("{name}: not a status") };
        assert_eq!(update.status, status, "{name}");
    }
    let Event::Message(message) = parsed("message_finalized_unknown_status").event else { panic!("not a message") };
    let MessageKind::Status(update) = &message.kind else { panic!("not a status") };
    assert!(!update.status.is_known(), "a status Telnyx adds later is kept, not refused: {:?}", update.status);
}

#[test]
fn numbers_are_e164_customer_and_business() {
    let customer = Some(ContactId::phone("+5511999998888"));
    let business = Some("+553322980007");
    // call.initiated says the direction: incoming, from is the customer; outgoing, to.
    let incoming = call("call_initiated");
    assert_eq!((&incoming.customer, incoming.business_number.as_deref()), (&customer, business));
    let outgoing = call("call_initiated_outgoing");
    assert_eq!((outgoing.from.as_deref(), outgoing.to.as_deref()), (business, Some("+5511999998888")));
    assert_eq!((&outgoing.customer, outgoing.business_number.as_deref()), (&customer, business));
    // The leg's other events do not say which way it goes: no one is named.
    for name in ["call_answered", "call_hangup", "call_hangup_busy"] {
        let call = call(name);
        assert!(call.from.is_some(), "{name}: the raw numbers are kept");
        assert_eq!((&call.customer, &call.business_number), (&None, &None), "{name}");
    }

    // A received message: from is the customer, the first `to` the business; a status
    // of a sent one: the other way round. WhatsApp's single `to` string reads the same.
    for name in ["message_received", "message_received_whatsapp", "message_finalized_delivered", "message_sent"] {
        let Event::Message(message) = parsed(name).event else { panic!("{name}: not a message") };
        assert_eq!((&message.customer, message.business_number.as_deref()), (&customer, business), "{name}");
        if let MessageKind::Inbound(inbound) = &message.kind {
            assert_eq!(inbound.customer, customer, "{name}");
        }
    }

    // A SIP or withheld caller is no customer number; the business number stays.
    for caller in ["sip:alice@example.sip.telnyx.com", "anonymous"] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_initiated")).unwrap();
        body["data"]["payload"]["from"] = caller.into();
        let events = normalize::events(body.to_string().as_bytes()).unwrap();
        let Event::Call(call) = &events[0].event else { panic!("not a call") };
        assert_eq!(call.from.as_deref(), Some(caller), "kept as sent");
        assert_eq!((&call.customer, call.business_number.as_deref()), (&None, business), "{caller}");
    }
}

#[test]
fn unknown_events_are_unmodeled_with_their_json() {
    for name in ["unknown_event", "unknown_event_no_call", "call_playback_started"] {
        let event = parsed(name);
        let Event::Unmodeled(unmodeled) = &event.event else { panic!("{name}: {:?}", event.event) };
        assert_eq!(unmodeled.provider, TELNYX);
        assert!(unmodeled.data.is_object(), "{name}: the body is kept");
    }
    let Event::Unmodeled(sentiment) = parsed("unknown_event").event else { unreachable!() };
    assert_eq!(sentiment.provider_type, "call.sentiment.scored");
    assert_eq!(sentiment.subject_id.as_deref(), Some(LEG));
}

struct Setup {
    receiver: Receiver,
    storage: Arc<MemoryEventLog>,
}

fn setup() -> Setup {
    let storage = Arc::new(MemoryEventLog::new());
    let key = testing::TEST_PRIVATE_KEY;
    let telnyx = Telnyx::builder().public_key(public_key(key)).build();
    let receiver = Receiver::builder()
        .mount(PATH, Arc::new(telnyx))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .clock(TokioClock::starting_at(NOW))
        .build()
        .unwrap();
    Setup { receiver, storage }
}

fn public_key(private_key: &str) -> PublicKey {
    use base64::Engine;
    let seed = base64::engine::general_purpose::STANDARD.decode(private_key).unwrap();
    PublicKey::from_private_key(seed[..32].try_into().unwrap())
}

const OTHER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[tokio::test(start_paused = true)]
async fn a_signed_call_is_stored_and_folds_to_completed_with_its_recording() {
    let s = setup();
    for name in ["call_initiated", "call_answered", "call_hangup", "call_recording_saved"] {
        let request = testing::signed(testing::TEST_PRIVATE_KEY, PATH, &fixture(name), NOW);
        assert_eq!(s.receiver.handle(request).await.status(), 200, "{name}");
    }
    assert_eq!(all_events(&*s.storage).await.len(), 4);
    let state = s.storage.call_state(&TELNYX, LEG).await.unwrap().unwrap();
    assert_eq!(state.status, Some(CallStatus::Completed));
    assert_eq!(state.recording.unwrap().status, RecordingStatus::Ready);
}

#[tokio::test(start_paused = true)]
async fn wrong_missing_stale_and_tampered_requests_are_refused_with_nothing_stored() {
    let s = setup();
    let body = fixture("call_hangup");
    let wrong = testing::signed(OTHER_KEY, PATH, &body, NOW);
    assert_eq!(s.receiver.handle(wrong).await.status(), 401);
    let mut missing = testing::signed(testing::TEST_PRIVATE_KEY, PATH, &body, NOW);
    missing.headers_mut().remove(signature::SIGNATURE_HEADER);
    assert_eq!(s.receiver.handle(missing).await.status(), 401);
    for skew in [Duration::minutes(-6), Duration::minutes(6)] {
        let stale = testing::signed(testing::TEST_PRIVATE_KEY, PATH, &body, NOW + skew);
        assert_eq!(s.receiver.handle(stale).await.status(), 401, "{skew}");
    }
    let (parts, _) = testing::signed(testing::TEST_PRIVATE_KEY, PATH, &body, NOW).into_parts();
    let tampered = http::Request::from_parts(parts, Bytes::from(body.replace("normal_clearing", "user_busy")));
    assert_eq!(s.receiver.handle(tampered).await.status(), 401);
    assert!(all_events(&*s.storage).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn malformed_bodies_are_kept_as_unparsed_and_duplicates_stored_once() {
    let s = setup();
    let request = testing::signed(testing::TEST_PRIVATE_KEY, PATH, "{\"data\": [", NOW);
    let status = s.receiver.handle(request).await.status();
    assert!(status.is_success(), "a verified but unparsable body is kept, not refused: {status}");
    let events = all_events(&*s.storage).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, callhook::event_log::UNPARSED_EVENT_TYPE);

    let body = fixture("message_received");
    for at in [NOW, NOW + Duration::seconds(3)] {
        // A retry is signed anew with the same event id: one event.
        let request = testing::signed(testing::TEST_PRIVATE_KEY, PATH, &body, at);
        assert_eq!(s.receiver.handle(request).await.status(), 200);
    }
    assert_eq!(all_events(&*s.storage).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_late_answered_never_reopens_a_hung_up_call() {
    let s = setup();
    for name in ["call_hangup", "call_answered", "call_initiated"] {
        let request = testing::signed(testing::TEST_PRIVATE_KEY, PATH, &fixture(name), NOW);
        assert_eq!(s.receiver.handle(request).await.status(), 200, "{name}");
    }
    let state = s.storage.call_state(&TELNYX, LEG).await.unwrap().unwrap();
    assert_eq!(state.status, Some(CallStatus::Completed));
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
    assert!(samples.len() >= 4);
    for sample in samples {
        assert_eq!(receiver.handle(sample.request).await.status(), 200, "{}", sample.name);
    }
    let state = storage.call_state(&TELNYX, "leg-s1").await.unwrap().unwrap();
    assert_eq!(state.status, Some(CallStatus::Completed));
    let recording = state.recording.unwrap();
    assert_eq!(recording.url.as_deref(), Some("https://crm.example.com/samples/recordings/leg-s1.mp3"));

    let signed = (REGISTRATION.sign)(&settings, "https://crm.example.com/webhooks/telnyx", "{}", NOW);
    assert_eq!(signed.uri().path(), PATH);
}

/// Every fixture of a modeled event (not the unknown ones, nor `call.playback.started`).
fn modeled() -> Vec<String> {
    let dir = format!("{}/tests/fixtures/telnyx", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .filter(|name| !matches!(name.as_str(), "signature_vectors" | "unknown_event" | "unknown_event_no_call"))
        .filter(|name| !matches!(parsed(name).event, Event::Unmodeled(_)))
        .collect();
    names.sort();
    names
}

/// What a Telnyx body cannot do without: the event type, and the call's leg id or the
/// message's id (and sender).
const REQUIRED: [&str; 4] =
    ["/data/event_type", "/data/payload/call_leg_id", "/data/payload/id", "/data/payload/from/phone_number"];

/// The kind and subject of an event.
fn subject(event: &Event) -> Option<(&'static str, String)> {
    match event {
        Event::Call(call) => Some(("call", call.call_id.clone())),
        Event::Message(message) => Some(("message", message.message_id.clone())),
        _ => None,
    }
}

#[test]
fn unix_times_reencoded_numbers_and_single_recipients_read_as_the_plain_payload() {
    let plain = call("call_recording_saved");
    let unix = call("call_recording_saved_unix_times");
    assert_eq!(unix.recording, plain.recording, "unix seconds and unix ms as text give the same recording");
    let at = unix.occurred_at.unwrap();
    assert!((at - datetime!(2025-12-01 12:00:48.73351 UTC)).abs() < time::Duration::microseconds(1), "{at}");

    let delivered = parsed("message_finalized_delivered");
    let reencoded = parsed("message_finalized_reencoded");
    assert_eq!(reencoded.event, delivered.event, "\"parts\":\"1\", one `to` object, null lists, unix ms");
    assert_eq!(reencoded.dedupe_key, delivered.dedupe_key);
    let body = fixture("message_finalized_reencoded");
    let webhook = callhook::providers::telnyx::model::Webhook::parse(body.as_bytes()).unwrap();
    assert_eq!(webhook.meta.unwrap().attempt, Some(1));
    let message = webhook.data.message().unwrap().unwrap();
    assert_eq!((message.parts, message.sent_at), (Some(1), Some(datetime!(2025-12-01 12:20:00.904 UTC))));
    assert_eq!(message.received_at, Some(datetime!(2025-12-01 12:20:00.102 UTC)), "no offset: UTC");
}

#[test]
fn nulls_for_optional_fields_are_absent() {
    let plain = call("call_hangup");
    let nulls = call("call_hangup_nulls");
    assert_eq!((nulls.call_id.as_str(), nulls.status), (LEG, plain.status));
    assert_eq!((nulls.from, nulls.to, nulls.started_at), (None, None, None));
    assert_eq!(nulls.ended_at, plain.ended_at);
}

#[test]
fn one_damaged_optional_field_drops_that_field_only() {
    let plain = call("call_hangup");
    for (pointer, damage) in [
        ("/data/occurred_at", serde_json::json!("not a time")),
        ("/data/payload/start_time", serde_json::json!({"weird": true})),
        ("/data/payload/hangup_source", serde_json::json!(["caller"])),
        ("/data/payload/sip_hangup_cause", serde_json::json!({})),
        ("/data/payload/from", serde_json::json!(true)),
        ("/data/payload/call_session_id", serde_json::json!(7.5)),
        ("/meta/attempt", serde_json::json!("soon")),
        ("/meta/delivered_to", serde_json::json!(false)),
    ] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_hangup")).unwrap();
        *body.pointer_mut(pointer).unwrap() = damage.clone();
        let events = normalize::events(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{pointer}: {e}"));
        let Event::Call(event) = &events[0].event else { panic!("{pointer} {damage}: not a call") };
        assert_eq!((event.call_id.as_str(), event.status), (LEG, Some(CallStatus::Completed)), "{pointer}");
        assert_eq!(events[0].dedupe_key, "0c1f5a3e-8d2b-4c6a-9e7f-1a2b3c4d5e04", "{pointer}");
        match pointer {
            "/data/occurred_at" => assert_eq!(event.ended_at, None),
            "/data/payload/start_time" => assert_eq!(event.started_at, None),
            "/data/payload/from" => assert_eq!(event.from, None),
            "/data/payload/sip_hangup_cause" | "/data/payload/hangup_source" => {
                assert_eq!(event.provider_status, plain.provider_status)
            }
            _ => assert_eq!(event, &plain, "{pointer}: nothing the event keeps"),
        }
    }
    let mut body: serde_json::Value = serde_json::from_str(&fixture("message_received_mms")).unwrap();
    body["data"]["payload"]["parts"] = serde_json::json!({"weird": true});
    body["data"]["payload"]["media"][0]["size"] = serde_json::json!("big");
    body["data"]["payload"]["received_at"] = serde_json::json!([]);
    let events = normalize::events(body.to_string().as_bytes()).unwrap();
    assert_eq!(subject(&events[0].event), subject(&parsed("message_received_mms").event));
}

#[test]
fn a_missing_or_unreadable_identity_is_a_parse_error() {
    for pointer in ["/data/event_type", "/data/payload/call_leg_id"] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_hangup_nulls")).unwrap();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
        assert!(normalize::events(body.to_string().as_bytes()).is_err(), "without {pointer}");
    }
    let mut body: serde_json::Value = serde_json::from_str(&fixture("message_received")).unwrap();
    body["data"]["payload"]["id"] = serde_json::json!({"weird": true});
    assert!(normalize::events(body.to_string().as_bytes()).is_err(), "an unreadable message id");
    body["data"]["payload"]["id"] = serde_json::Value::Null;
    assert!(normalize::events(body.to_string().as_bytes()).is_err(), "a null message id");
}

fn reshaped_fixture() -> impl Strategy<Value = (String, serde_json::Value, Vec<(String, support::shapes::Reshape)>)> {
    let names = modeled();
    (0..names.len()).prop_flat_map(move |i| {
        let name = names[i].clone();
        let value: serde_json::Value = serde_json::from_str(&fixture(&name)).unwrap();
        support::shapes::reshaped(value, &REQUIRED, 8).prop_map(move |(value, done)| (name.clone(), value, done))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reshaped_payloads_still_parse_into_their_event((name, value, done) in reshaped_fixture()) {
        let events = normalize::events(value.to_string().as_bytes());
        let events = events.map_err(|e| TestCaseError::fail(format!("{name} {done:?}: {e}")))?;
        prop_assert_eq!(events.len(), 1);
        prop_assert_eq!(subject(&events[0].event), subject(&parsed(&name).event), "{} {:?}", name, done);
    }
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics_nor_verifies(
        body in prop::collection::vec(any::<u8>(), 0..512),
        header in "\\PC{0,100}",
        timestamp in "[0-9]{0,12}",
    ) {
        let keys = [public_key(testing::TEST_PRIVATE_KEY)];
        let now = datetime!(2025-12-01 12:00 UTC);
        let result = signature::verify(&keys, Some(&header), Some(&timestamp), &body, now, signature::DEFAULT_TOLERANCE);
        prop_assert!(result.is_err());
        let _ = normalize::events(&body);
    }
}
