//! CloudTalk end to end: bearer authentication, lenient fixtures, order independence.

mod support;

use std::sync::Arc;

use callhook::Receiver;
use callhook::event::{CallStatus, ContactId, Direction, Event, ProviderId};
use callhook::event_log::{EventLog, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::providers::cloudtalk::{CloudTalk, normalize, testing};
use proptest::prelude::*;
use support::all_events;
use time::macros::datetime;

const TOKEN: &str = "cloudtalk-shared-token";
const PATH: &str = "/webhooks/cloudtalk";
const CLOUDTALK: ProviderId = ProviderId::from_static("cloudtalk");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/cloudtalk/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn call(name: &str) -> callhook::event::CallEvent {
    let events = normalize::events(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let Event::Call(call) = &events[0].event else { panic!("{name}: not a call") };
    call.clone()
}

#[test]
fn fixtures_normalize_as_the_table_says() {
    let started = call("call_started");
    assert_eq!(started.status, Some(CallStatus::Ringing));
    assert_eq!(started.contact_name.as_deref(), Some("María Peña"));
    assert_eq!(started.direction, Some(Direction::Inbound));
    assert_eq!(started.started_at, Some(datetime!(2026-11-28 10:30 UTC)));

    let answered = call("call_answered");
    assert_eq!(answered.status, Some(CallStatus::InProgress));
    assert!(answered.answered_at.is_some());

    let ended = call("call_ended");
    assert_eq!(ended.status, Some(CallStatus::Completed));
    assert_eq!(ended.duration_ms, Some(120_000), "a duration sent as a string");
    assert_eq!(ended.recording, None, "an empty recording_url is no recording");

    let missed = call("call_missed");
    assert_eq!(missed.status, Some(CallStatus::NoAnswer));
    assert_eq!(missed.contact_name, None, "an empty name is absent");
    assert_eq!(missed.started_at, Some(datetime!(2026-11-28 11:00 +01:00)));

    let spaced = call("call_ended_space_times");
    assert!(spaced.ended_at.is_some(), "YYYY-MM-DD HH:MM:SS accepted");
    assert_eq!(call("call_outbound_ended").direction, Some(Direction::Outbound));
    assert_eq!(call("call_ended_extra_fields").status, Some(CallStatus::Completed));
}

#[test]
fn numbers_are_e164_customer_and_business() {
    // Inbound (the contract's from/to): from is the customer, to the CloudTalk number.
    let inbound = call("call_ended");
    assert_eq!(inbound.customer, Some(ContactId::phone("+34612345678")));
    assert_eq!(inbound.business_number.as_deref(), Some("+34987654321"));
    // Outbound: to is the customer, from the CloudTalk number.
    let outbound = call("call_outbound_ended");
    assert_eq!(outbound.customer, Some(ContactId::phone("+34699887766")));
    assert_eq!(outbound.business_number.as_deref(), Some("+34987654321"));
    // A template's numbers, sent as JSON numbers or bare digits: external_number is the
    // customer, internal_number the business, both in E.164.
    let flat = call_at("flat_call_ended", "/webhooks/cloudtalk/call-ended");
    assert_eq!(flat.customer, Some(ContactId::phone("+34612345678")));
    assert_eq!(flat.business_number.as_deref(), Some("+34910000001"));
    let missed = call_at("flat_missed_strings_and_nulls", PATH);
    assert_eq!(missed.customer, Some(ContactId::phone("+34612345679")), "digits in a string");
    assert_eq!(missed.business_number.as_deref(), Some("+34910000001"));

    // A withheld or SIP caller is no customer number; the CloudTalk number stays.
    for caller in ["anonymous", "sip:1001@pbx.example.es"] {
        let mut body: serde_json::Value = serde_json::from_str(&fixture("call_missed")).unwrap();
        body["data"]["from"] = caller.into();
        let events = normalize::events(body.to_string().as_bytes()).unwrap();
        let Event::Call(missed) = &events[0].event else { panic!("not a call") };
        assert_eq!(missed.from.as_deref(), Some(caller), "kept as sent");
        assert_eq!((&missed.customer, missed.business_number.as_deref()), (&None, Some("+34987654321")), "{caller}");
        let mut body: serde_json::Value = serde_json::from_str(&fixture("flat_call_ended")).unwrap();
        body["external_number"] = caller.into();
        let events = normalize::events_at(body.to_string().as_bytes(), Some(PATH)).unwrap();
        let Event::Call(flat) = &events[0].event else { panic!("not a call") };
        assert_eq!((&flat.customer, flat.business_number.as_deref()), (&None, Some("+34910000001")), "{caller}");
    }
}

#[test]
fn ids_as_numbers_or_strings_give_one_call_and_external_id() {
    let started = normalize::events(fixture("call_started").as_bytes()).unwrap();
    let ended = normalize::events(fixture("call_ended").as_bytes()).unwrap();
    assert_eq!(started[0].event.external_id(), "cloudtalk-771201");
    assert_eq!(ended[0].event.external_id(), "cloudtalk-771201");
    assert_eq!(started[0].dedupe_key, "771201:call.started");
}

#[test]
fn unknown_events_and_fields_are_kept() {
    let events = normalize::events(fixture("unknown_event").as_bytes()).unwrap();
    let Event::Unmodeled(unmodeled) = &events[0].event else { panic!("not unmodeled") };
    assert_eq!(unmodeled.provider_type, "call.tagged");
    assert_eq!(unmodeled.subject_id.as_deref(), Some("771201"));
    assert!(unmodeled.data["data"]["tags"].is_array());

    // Extra fields are no error, and the stored delivery keeps them byte for byte.
    let body = fixture("call_ended_extra_fields");
    let webhook = callhook::providers::cloudtalk::model::Webhook::parse(body.as_bytes()).unwrap();
    assert_eq!(webhook.data.unwrap().id.as_deref(), Some("771201"));
}

fn setup() -> (Receiver, Arc<MemoryEventLog>) {
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .mount(PATH, Arc::new(CloudTalk::builder().bearer_token("old-token").bearer_token(TOKEN).build()))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .build()
        .unwrap();
    (receiver, storage)
}

#[tokio::test]
async fn accepted_once_and_refused_without_the_token() {
    let (receiver, storage) = setup();
    let body = fixture("call_ended");
    for _ in 0..2 {
        assert_eq!(
            receiver.handle(testing::signed(TOKEN, PATH, &body, time::OffsetDateTime::now_utc())).await.status(),
            200
        );
    }
    assert_eq!(all_events(&*storage).await.len(), 1);

    let (receiver, storage) = setup();
    assert_eq!(
        receiver.handle(testing::signed("guess", PATH, &body, time::OffsetDateTime::now_utc())).await.status(),
        401
    );
    let mut missing = testing::signed(TOKEN, PATH, &body, time::OffsetDateTime::now_utc());
    missing.headers_mut().remove("authorization");
    assert_eq!(receiver.handle(missing).await.status(), 401);
    let mut basic = testing::signed(TOKEN, PATH, &body, time::OffsetDateTime::now_utc());
    basic.headers_mut().insert("authorization", format!("Basic {TOKEN}").parse().unwrap());
    assert_eq!(receiver.handle(basic).await.status(), 401);
    assert!(all_events(&*storage).await.is_empty());
}

#[tokio::test]
async fn without_a_token_configured_requests_are_refused_unless_mounted_insecure() {
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .mount("/secure", Arc::new(CloudTalk::builder().build()))
        .mount_insecure_without_verification("/insecure", Arc::new(CloudTalk::builder().build()))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .build()
        .unwrap();
    let body = testing::call_event("call.started", 1, time::OffsetDateTime::now_utc());
    assert_eq!(
        receiver.handle(testing::signed("x", "/secure", &body, time::OffsetDateTime::now_utc())).await.status(),
        500
    );
    assert_eq!(
        receiver.handle(testing::signed("x", "/insecure", &body, time::OffsetDateTime::now_utc())).await.status(),
        200
    );
}

#[tokio::test]
async fn missed_after_ended_gives_the_same_state_as_in_order() {
    let orders: [&[&str]; 2] = [
        &["call.started", "call.answered", "call.ended", "call.missed"],
        &["call.missed", "call.ended", "call.answered", "call.started"],
    ];
    let mut states = Vec::new();
    for order in orders {
        let (receiver, storage) = setup();
        for event in order {
            let body = testing::call_event(event, 42, time::OffsetDateTime::now_utc());
            assert_eq!(
                receiver.handle(testing::signed(TOKEN, PATH, &body, time::OffsetDateTime::now_utc())).await.status(),
                200
            );
        }
        states.push(storage.call_state(&CLOUDTALK, "42").await.unwrap().unwrap());
    }
    assert_eq!(states[0], states[1]);
    assert_eq!(states[0].duration_ms, Some(120_000));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = normalize::events(&body);
    }

    #[test]
    fn arbitrary_field_values_never_panic(
        id in prop_oneof![Just("1".to_owned()), "\\PC{0,8}", any::<i64>().prop_map(|n| n.to_string())],
        duration in prop_oneof![Just("null".to_owned()), Just("\"\"".to_owned()), any::<f64>().prop_map(|f| format!("{f:?}")), any::<i64>().prop_map(|n| n.to_string())],
        time in "\\PC{0,25}",
    ) {
        let body = format!(r#"{{"event":"call.ended","data":{{"id":{},"duration":{duration},"ended_at":{}}}}}"#,
            serde_json::to_string(&id).unwrap(), serde_json::to_string(&time).unwrap());
        let _ = normalize::events(body.as_bytes());
    }
}

// Flat Workflow Automation templates (issue 21).

fn parsed_at(name: &str, path: &str) -> Vec<callhook::provider::ParsedEvent> {
    normalize::events_at(fixture(name).as_bytes(), Some(path)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn call_at(name: &str, path: &str) -> callhook::event::CallEvent {
    let events = parsed_at(name, path);
    let Event::Call(call) = &events[0].event else { panic!("{name}: not a call: {events:?}") };
    call.clone()
}

#[test]
fn flat_templates_parse_with_either_id_and_the_event_from_the_path_or_the_fields() {
    let ended = call_at("flat_call_ended", "/webhooks/cloudtalk/call-ended");
    assert_eq!((ended.call_id.as_str(), ended.status), ("1002402487", Some(CallStatus::Completed)));
    assert_eq!((ended.from.as_deref(), ended.to.as_deref()), (Some("+34612345678"), Some("+34910000001")));
    assert_eq!(ended.customer, Some(ContactId::phone("+34612345678")));
    assert_eq!(ended.duration_ms, Some(95_000), "talking_time");
    assert_eq!(ended.contact_name.as_deref(), Some("María Peña"));
    // The same body at the generic path: `talking_time` says the call ended.
    let events = parsed_at("flat_call_ended", PATH);
    assert_eq!((events[0].event_type.as_str(), events[0].dedupe_key.as_str()), ("call.ended", "1002402487:call.ended"));

    // Only a UUID and no hint at all: a call event with its numbers and no status.
    let events = parsed_at("flat_call_uuid_only", PATH);
    assert_eq!(events[0].event_type, "call");
    let Event::Call(update) = &events[0].event else { panic!() };
    assert_eq!((update.call_id.as_str(), update.status), ("5b0f6a2e-1c1d-4c8e-9a51-2f3e4d5c6b7a", None));
    assert_eq!(update.from.as_deref(), Some("+34612345678"));
    let started = call_at("flat_call_uuid_only", "/webhooks/cloudtalk/call-started");
    assert_eq!(started.status, Some(CallStatus::Ringing));

    let missed = call_at("flat_missed_strings_and_nulls", PATH);
    assert_eq!((missed.call_id.as_str(), missed.status), ("1002402488", Some(CallStatus::NoAnswer)));
    assert_eq!((missed.from.as_deref(), missed.to.as_deref()), (Some("+34612345679"), Some("+34910000001")));
    assert_eq!(missed.contact_name, None);

    let recording = call_at("flat_recording_uploaded", PATH);
    let ready = recording.recording.expect("a ready recording");
    assert!(ready.url.as_deref().is_some_and(|url| url.starts_with("https://my.cloudtalk.io/pub/r/")));
    assert_eq!(parsed_at("flat_recording_uploaded", PATH)[0].event_type, "recording.uploaded");
}

#[test]
fn a_damaged_optional_field_costs_only_that_field() {
    let body = fixture("flat_call_ended").replace(r#""talking_time":95"#, r#""talking_time":{"minutes":1}"#);
    let events = normalize::events_at(body.as_bytes(), Some("/webhooks/cloudtalk/call-ended")).unwrap();
    let Event::Call(call) = &events[0].event else { panic!() };
    assert_eq!((call.status, call.duration_ms), (Some(CallStatus::Completed), None));
    let body = fixture("call_ended").replace(r#""started_at":"2026-11-28T10:30:00Z""#, r#""started_at":"yesterday""#);
    let Event::Call(call) = &normalize::events(body.as_bytes()).unwrap()[0].event else { panic!() };
    assert_eq!((call.started_at, call.duration_ms), (None, Some(120_000)));
}

#[tokio::test]
async fn a_test_request_is_acknowledged_and_recorded_as_a_test() {
    // Mounted as the registration mounts it: a path per trigger besides the generic one.
    let registration = &callhook::providers::cloudtalk::REGISTRATION;
    let settings = callhook::providers::registry::Settings::default().with("token", TOKEN);
    let mount = (registration.mount)(&settings).unwrap();
    assert!(mount.paths.iter().any(|path| path == "/webhooks/cloudtalk/call-ended"), "{:?}", mount.paths);
    let storage = Arc::new(MemoryEventLog::new());
    let mut builder = Receiver::builder().event_log(storage.clone()).job_queue(Arc::new(MemoryJobQueue::new()));
    for path in &mount.paths {
        builder = builder.mount(path, mount.provider.clone());
    }
    let receiver = builder.build().unwrap();
    let request = testing::signed(
        TOKEN,
        "/webhooks/cloudtalk/call-ended",
        &fixture("test_request"),
        datetime!(2026-12-01 10:00 UTC),
    );
    assert_eq!(receiver.handle(request).await.status(), 200);
    let stored = all_events(&*storage).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event_type, normalize::TEST_EVENT_TYPE);
    assert_eq!(stored[0].status, callhook::event_log::EventStatus::Pending, "a test, not a failure");

    // A test with an empty template sends nothing at all: a test too.
    let empty = testing::signed(TOKEN, "/webhooks/cloudtalk/call-ended", "", datetime!(2026-12-01 10:00 UTC));
    assert_eq!(receiver.handle(empty).await.status(), 200);
    let stored = all_events(&*storage).await;
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|event| event.event_type == normalize::TEST_EVENT_TYPE), "{stored:?}");
    assert!(stored.iter().all(|event| event.status == callhook::event_log::EventStatus::Pending));

    let flat = testing::signed(
        TOKEN,
        "/webhooks/cloudtalk/call-ended",
        &fixture("flat_call_ended"),
        datetime!(2026-12-01 10:00 UTC),
    );
    assert_eq!(receiver.handle(flat).await.status(), 200);
    let call = storage.call_state(&CLOUDTALK, "1002402487").await.unwrap().expect("the flat call is folded");
    assert_eq!(call.status, Some(CallStatus::Completed));
}

/// What a CloudTalk body cannot do without: its event name and call ids.
const KEEP: &[&str] = &["/event", "/data/id", "/call_id", "/call_uuid"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Optional members removed or `null`, numbers re-encoded: still the same call event.
    #[test]
    fn reshaped_bodies_still_give_their_call(
        (name, (value, reshapes)) in prop::sample::select(&[
            "call_started", "call_answered", "call_ended", "call_missed", "call_outbound_ended",
            "call_ended_space_times", "call_ended_extra_fields", "flat_call_ended", "flat_call_uuid_only",
            "flat_missed_strings_and_nulls", "flat_recording_uploaded",
        ][..]).prop_flat_map(|name| {
            let value: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
            (Just(name), support::shapes::reshaped(value, KEEP, 6))
        })
    ) {
        let path = "/webhooks/cloudtalk/call-ended";
        let expected = parsed_at(name, path).remove(0);
        let events = normalize::events_at(value.to_string().as_bytes(), Some(path))
            .map_err(|e| TestCaseError::fail(format!("{name} {reshapes:?}: {e}")))?;
        prop_assert_eq!(&events[0].event_type, &expected.event_type, "{} {:?}", name, reshapes);
        let (Event::Call(call), Event::Call(before)) = (&events[0].event, &expected.event) else {
            return Err(TestCaseError::fail(format!("{name} {reshapes:?}: not a call")));
        };
        prop_assert_eq!(&call.call_id, &before.call_id);
    }
}

#[tokio::test]
async fn a_repeated_key_is_read_with_its_last_value_and_noted_on_the_stored_event() {
    let (receiver, storage) = setup();
    let body =
        fixture("call_ended").replacen(r#""status":"completed""#, r#""status":"completed","status":"missed""#, 1);
    assert!(body.contains(r#""status":"missed""#));
    let request = testing::signed(TOKEN, PATH, &body, datetime!(2026-12-01 10:00 UTC));
    assert_eq!(receiver.handle(request).await.status(), 200);
    let stored = all_events(&*storage).await;
    assert_eq!(stored.len(), 1);
    let Some(Event::Call(call)) = &stored[0].event else { panic!("{:?}", stored[0]) };
    assert_eq!(call.status, Some(CallStatus::NoAnswer), "the last `status` wins");
    assert_eq!(stored[0].event.as_ref().unwrap().notes().len(), 1);
}

#[test]
fn an_event_name_written_by_hand_is_read() {
    for written in ["Call Ended", "call_ended", "CALL-ENDED"] {
        let body = fixture("call_ended").replacen("call.ended", written, 1);
        let events = normalize::events(body.as_bytes()).unwrap();
        assert_eq!(events[0].event_type, "call.ended", "{written}");
    }
    let tagged = normalize::events(fixture("unknown_event").as_bytes()).unwrap();
    assert_eq!(tagged[0].event_type, "call.tagged", "an unknown name is kept as sent");
}
