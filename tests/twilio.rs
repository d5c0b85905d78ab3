//! Twilio end to end: the SDK's signature vectors, every endpoint's fixtures, and the
//! Receiver's behaviour (TwiML replies, ordering, dedupe, URL configuration).

mod support;

use std::sync::Arc;

use bytes::Bytes;
use callhook::event::{
    CallStatus, ContactId, Direction, Event, LinkVia, MessageContent, MessageKind, MessageStatus, RecordingStatus,
};
use callhook::event_log::{EventLog, MemoryEventLog};
use callhook::job_queue::MemoryJobQueue;
use callhook::provider::{ParseError, Provider, WebhookRequest};
use callhook::providers::twilio::twiml::{Dial, Sip, VoiceResponse};
use callhook::providers::twilio::{FormParams, Twilio, model, signature, testing};
use callhook::verify::{Secret, VerifyError};
use callhook::{Receiver, event::ProviderId};
use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event as Xml;
use serde::Deserialize;
use support::all_events;
use time::macros::datetime;

const TOKEN: &str = "twilio-auth-token";
const BASE: &str = "https://crm.example.com";
const TWILIO: ProviderId = ProviderId::from_static("twilio");

/// The receivers here run on the system clock.
fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn url(endpoint: &str) -> String {
    format!("{BASE}/webhooks/twilio/{endpoint}")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/twilio/{name}.form", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn fixture_params(name: &str) -> Vec<(String, String)> {
    FormParams::parse(fixture(name).as_bytes()).iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

struct Setup {
    receiver: Receiver,
    storage: Arc<MemoryEventLog>,
}

fn setup(twilio: Twilio) -> Setup {
    let storage = Arc::new(MemoryEventLog::new());
    let twilio = Arc::new(twilio);
    let mut builder =
        Receiver::builder().public_base_url(BASE).event_log(storage.clone()).job_queue(Arc::new(MemoryJobQueue::new()));
    for endpoint in ["incoming-call", "call-status", "recording-status", "message-status", "incoming-message"] {
        builder = builder.mount(format!("/webhooks/twilio/{endpoint}"), twilio.clone());
    }
    Setup { receiver: builder.build().unwrap(), storage }
}

// ---------------------------------------------------------------------------------
// Signature vectors from the official SDK (tools/vectors/twilio).

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    auth_token: String,
    url: String,
    params: Vec<(String, String)>,
    body: Option<String>,
    signature: String,
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    let path = format!("{}/tests/fixtures/twilio/signature_vectors.json", env!("CARGO_MANIFEST_DIR"));
    let vectors: Vectors = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(vectors.vectors.len() >= 25, "the SDK produced the vectors");
    vectors.vectors
}

#[test]
fn agrees_with_the_official_sdk_on_every_vector() {
    for v in vectors() {
        let tokens = [Secret::new(v.auth_token.clone())];
        let result = match &v.body {
            Some(body) => signature::verify_with_body(&tokens, &v.signature, &v.url, body.as_bytes()),
            None => {
                let params = FormParams::from_pairs(v.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                signature::verify(&tokens, &v.signature, &v.url, &params)
            }
        };
        assert_eq!(result.is_ok(), v.valid, "{}: {result:?}", v.name);
    }
}

/// The same vectors as HTTP requests through the Receiver: the origin of the vector's
/// URL is the configured public base URL, the request carries path and query.
#[tokio::test]
async fn receiver_agrees_with_the_official_sdk_on_every_vector() {
    let mut replayed = 0;
    for v in vectors() {
        let parsed = url::Url::parse(&v.url).unwrap();
        let origin = parsed.origin().ascii_serialization();
        // Only vectors whose URL is origin + path + query as written can be replayed.
        let Some(path_and_query) = v.url.strip_prefix(&origin) else { continue };
        if !path_and_query.starts_with('/') {
            continue;
        }
        let storage = Arc::new(MemoryEventLog::new());
        let receiver = Receiver::builder()
            .public_base_url(origin)
            .mount(parsed.path(), Arc::new(Twilio::new(v.auth_token.clone())))
            .event_log(storage.clone())
            .job_queue(Arc::new(MemoryJobQueue::new()))
            .build()
            .unwrap();
        let (content_type, body) = match &v.body {
            Some(body) => ("application/json", body.clone()),
            None => (
                "application/x-www-form-urlencoded",
                FormParams::from_pairs(v.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))).to_form_string(),
            ),
        };
        let request = http::Request::post(path_and_query)
            .header("content-type", content_type)
            .header("x-twilio-signature", &v.signature)
            .body(Bytes::from(body))
            .unwrap();
        let status = receiver.handle(request).await.status();
        if v.valid {
            assert!(status.is_success(), "{}: {status}", v.name);
        } else {
            assert_eq!(status, 401, "{}", v.name);
            assert!(all_events(&*storage).await.is_empty(), "{}: stored", v.name);
        }
        replayed += 1;
    }
    assert!(replayed >= 30, "only {replayed} vectors replayed through the Receiver");
}

// ---------------------------------------------------------------------------------
// Models and normalization on the fixtures.

fn parse_fixture(endpoint: &str, name: &str) -> Vec<callhook::provider::ParsedEvent> {
    let params = fixture_params(name);
    let request = testing::signed_form(TOKEN, &url(endpoint), &params);
    let view = WebhookRequest::new(&request, datetime!(2026-12-01 10:00:00 UTC), Some(BASE));
    let twilio = Twilio::new(TOKEN);
    twilio.verify(&view).unwrap_or_else(|e| panic!("{name}: {e}"));
    twilio.parse(&view).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn call(events: &[callhook::provider::ParsedEvent]) -> &callhook::event::CallEvent {
    match &events[0].event {
        Event::Call(call) => call,
        other => panic!("not a call: {other:?}"),
    }
}

fn message(events: &[callhook::provider::ParsedEvent]) -> &callhook::event::MessageEvent {
    match &events[0].event {
        Event::Message(message) => message,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn incoming_call_fixture() {
    let events = parse_fixture("incoming-call", "incoming_call");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "incoming-call");
    assert_eq!(events[0].dedupe_key, "incoming-call:CA9b1e2d3c4f5a6b7c8d9e0f1a2b3c4d5e");
    let call = call(&events);
    assert_eq!(call.status, Some(CallStatus::Ringing));
    assert_eq!(call.direction, Some(Direction::Inbound));
    assert_eq!(call.from.as_deref(), Some("+5511987654321"));
    assert_eq!(call.to.as_deref(), Some("+14155550100"));
    assert_eq!(call.occurred_at, Some(datetime!(2026-12-01 10:00:00 UTC)), "the time it was received");
}

#[test]
fn call_status_fixtures_map_as_the_table_says() {
    let cases = [
        ("call_status_initiated", Some(CallStatus::Initiated), Direction::Outbound),
        ("call_status_ringing", Some(CallStatus::Ringing), Direction::Inbound),
        ("call_status_in_progress", Some(CallStatus::InProgress), Direction::Inbound),
        ("call_status_completed", Some(CallStatus::Completed), Direction::Inbound),
        ("call_status_busy_sip", Some(CallStatus::Busy), Direction::Outbound),
        ("call_status_no_answer", Some(CallStatus::NoAnswer), Direction::Outbound),
        ("call_status_canceled", Some(CallStatus::Canceled), Direction::Inbound),
        ("call_status_failed", Some(CallStatus::Failed), Direction::Outbound),
        ("call_status_unknown_extra", None, Direction::Inbound),
    ];
    for (name, status, direction) in cases {
        let events = parse_fixture("call-status", name);
        let call = call(&events);
        assert_eq!(call.status, status, "{name}");
        assert_eq!(call.direction, Some(direction), "{name}");
        assert!(call.occurred_at.is_some(), "{name}: Timestamp parsed");
        assert!(events[0].event_type.starts_with("call-status."), "{name}");
    }

    let completed = parse_fixture("call-status", "call_status_completed");
    let completed = call(&completed);
    assert_eq!(completed.duration_ms, Some(57_000));
    assert_eq!(completed.ended_at, Some(datetime!(2026-12-01 10:00:34 UTC)));
    assert_eq!(completed.sequence, Some(3));
    let recording = completed.recording.as_ref().unwrap();
    assert_eq!(recording.status, RecordingStatus::Ready);
    assert_eq!(recording.recording_id.as_deref(), Some("RE4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"));
    assert_eq!(recording.duration_secs, Some(55));

    let busy = parse_fixture("call-status", "call_status_busy_sip");
    assert_eq!(call(&busy).error.as_ref().unwrap().code.as_deref(), Some("sip:486"));
    let failed = parse_fixture("call-status", "call_status_failed");
    assert_eq!(call(&failed).error.as_ref().unwrap().code.as_deref(), Some("13224"), "ErrorCode wins over SIP");

    let unknown = parse_fixture("call-status", "call_status_unknown_extra");
    assert_eq!(call(&unknown).provider_status.as_deref(), Some("answered-by-machine"));
    assert_eq!(unknown[0].event_type, "call-status.answered-by-machine");
}

#[test]
fn unknown_status_and_extra_parameters_are_kept_by_the_model() {
    let body = fixture("call_status_unknown_extra");
    let params = FormParams::parse(body.as_bytes());
    let callback = model::CallStatusCallback::from_params(&params).unwrap();
    assert_eq!(callback.call.status, model::CallStatus::from("answered-by-machine"));
    assert_eq!(callback.params.get("BrandNewParam"), Some("kept"));
    assert_eq!(callback.params.get("AnsweredBy"), Some("machine_start"));
    assert_eq!(callback.params.get("FromCity"), Some("SAO PAULO"));
}

#[test]
fn recording_status_fixtures() {
    let cases = [
        ("recording_status_in_progress", RecordingStatus::Recording),
        ("recording_status_completed", RecordingStatus::Ready),
        ("recording_status_absent", RecordingStatus::Absent),
        ("recording_status_failed", RecordingStatus::Failed),
    ];
    for (name, status) in cases {
        let events = parse_fixture("recording-status", name);
        let call = call(&events);
        assert_eq!(call.call_id, "CA9b1e2d3c4f5a6b7c8d9e0f1a2b3c4d5e", "{name}");
        assert_eq!(call.status, None, "{name}: a recording callback says nothing of the call's status");
        assert_eq!(call.recording.as_ref().unwrap().status, status, "{name}");
    }
    let completed = parse_fixture("recording-status", "recording_status_completed");
    let recording = call(&completed).recording.clone().unwrap();
    assert!(recording.url.unwrap().ends_with("/Recordings/RE4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"));
    assert_eq!(recording.duration_secs, Some(55));
    assert_eq!(recording.error, None, "ErrorCode 0 is no error");
    assert_eq!(completed[0].dedupe_key, "recording-status:RE4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f:completed");
    let failed = parse_fixture("recording-status", "recording_status_failed");
    assert_eq!(call(&failed).recording.as_ref().unwrap().error.as_ref().unwrap().code.as_deref(), Some("16104"));
}

#[test]
fn a_conference_recording_is_the_conference_s() {
    let events = parse_fixture("recording-status", "recording_status_conference");
    let call = call(&events);
    assert_eq!(call.call_id, "CF5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b", "no CallSid: the conference is what was recorded");
    let recording = call.recording.as_ref().unwrap();
    assert_eq!((recording.status, recording.duration_secs), (RecordingStatus::Ready, Some(312)));
    assert!(recording.url.as_deref().unwrap().ends_with("/Recordings/RE4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"));

    // Neither a call nor a conference: nothing says what was recorded.
    let params: Vec<(String, String)> =
        fixture_params("recording_status_conference").into_iter().filter(|(key, _)| key != "ConferenceSid").collect();
    let request = testing::signed_form(TOKEN, &url("recording-status"), &params);
    let view = WebhookRequest::new(&request, datetime!(2026-12-01 10:00:00 UTC), Some(BASE));
    assert!(matches!(Twilio::new(TOKEN).parse(&view), Err(ParseError::MissingField("CallSid"))));
}

#[test]
fn a_message_posted_to_the_voice_url_is_still_the_message() {
    // A number's "A message comes in" set to the voice URL by mistake.
    let events = parse_fixture("incoming-call", "incoming_message_sms");
    let Event::Message(message) = &events[0].event else { panic!("{events:?}") };
    assert_eq!(message.message_id, "SM0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d");
    assert_eq!(events[0].event_type, "incoming-message");
    // The path still decides when the request carries the id it names.
    assert_eq!(parse_fixture("incoming-call", "incoming_call")[0].event_type, "incoming-call");
}

#[test]
fn message_status_fixtures() {
    let cases = [
        ("message_status_sent", MessageStatus::Sent),
        ("message_status_delivered", MessageStatus::Delivered),
        ("message_status_read", MessageStatus::Read),
        ("message_status_undelivered", MessageStatus::Failed),
        ("message_status_unknown", MessageStatus::from("partially_delivered")),
    ];
    for (name, status) in cases {
        let events = parse_fixture("message-status", name);
        let message = message(&events);
        assert_eq!(message.message_id, "SM0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d");
        let MessageKind::Status(update) = &message.kind else { panic!("{name}: not a status") };
        assert_eq!(update.status, status, "{name}");
        assert_eq!(update.recipient.as_deref(), Some("+5511987654321"));
    }
    let undelivered = parse_fixture("message-status", "message_status_undelivered");
    let MessageKind::Status(update) = &message(&undelivered).kind else { unreachable!() };
    assert_eq!(update.errors[0].code.as_deref(), Some("30003"));
}

#[test]
fn incoming_message_fixtures() {
    let sms = parse_fixture("incoming-message", "incoming_message_sms");
    let MessageKind::Inbound(inbound) = &message(&sms).kind else { panic!("not inbound") };
    assert_eq!(inbound.content, MessageContent::text("Olá! Quero falar sobre o pedido #123 & entrega"));
    assert_eq!(inbound.from, "+5511987654321");

    let media = parse_fixture("incoming-message", "incoming_message_whatsapp_media");
    let MessageKind::Inbound(inbound) = &message(&media).kind else { panic!("not inbound") };
    assert_eq!(inbound.from, "whatsapp:+5511987654321");
    assert_eq!(inbound.contact_name.as_deref(), Some("José Álvares"));
    let MessageContent::Media { media, caption } = &inbound.content else { panic!("not media") };
    assert_eq!(caption.as_deref(), Some("Foto do produto"));
    assert_eq!(media.len(), 2);
    assert_eq!(media[0].mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(media[1].kind, callhook::event::MediaKind::Document);

    let location = parse_fixture("incoming-message", "incoming_message_whatsapp_location");
    let MessageKind::Inbound(inbound) = &message(&location).kind else { panic!("not inbound") };
    assert_eq!(
        inbound.content,
        MessageContent::Location {
            latitude: -23.5613,
            longitude: -46.6565,
            name: Some("Av. Paulista, 1000".into()),
            address: None
        }
    );

    let button = parse_fixture("incoming-message", "incoming_message_whatsapp_button");
    let MessageKind::Inbound(inbound) = &message(&button).kind else { panic!("not inbound") };
    assert_eq!(
        inbound.content,
        MessageContent::InteractiveReply {
            reply_id: Some("agent".into()),
            title: Some("Falar com atendente".into()),
            payload: None
        }
    );
    assert_eq!(inbound.reply_to.as_deref(), Some("SM0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"));
}

#[test]
fn numbers_are_e164_customer_and_business() {
    let customer = Some(ContactId::phone("+5511987654321"));
    let business = Some("+14155550100");

    // An inbound call: From is the customer, To the business.
    let inbound = parse_fixture("incoming-call", "incoming_call");
    let inbound = call(&inbound);
    assert_eq!((&inbound.customer, inbound.business_number.as_deref()), (&customer, business));
    // An outbound-api call: To is the customer, From the business.
    let outbound = parse_fixture("call-status", "call_status_outbound_api");
    let outbound = call(&outbound);
    assert_eq!(outbound.direction, Some(Direction::Outbound));
    assert_eq!((outbound.from.as_deref(), outbound.to.as_deref()), (Some("+14155550100"), Some("+5511987654321")));
    assert_eq!((&outbound.customer, outbound.business_number.as_deref()), (&customer, business));
    // outbound-dial reads the same way: its To is the one called.
    let dial = parse_fixture("call-status", "call_status_busy_sip");
    let dial = call(&dial);
    assert_eq!(dial.customer, Some(ContactId::phone("+14155550100")));
    assert_eq!(dial.business_number.as_deref(), Some("+5511987654321"));
    // A recording callback names no one.
    let recording = parse_fixture("recording-status", "recording_status_completed");
    assert_eq!((&call(&recording).customer, &call(&recording).business_number), (&None, &None));

    // A withheld caller: `anonymous`, or the digits Twilio used to write for it.
    let anonymous = parse_fixture("incoming-call", "incoming_call_anonymous");
    let anonymous = call(&anonymous);
    assert_eq!(anonymous.from.as_deref(), Some("anonymous"), "the raw value is kept");
    assert_eq!((&anonymous.customer, anonymous.business_number.as_deref()), (&None, business));
    for withheld in ["+266696687", "+7378742833", "+86282452253", "+2562533"] {
        let params: Vec<(String, String)> = fixture_params("incoming_call")
            .into_iter()
            .map(|(k, v)| if k == "From" || k == "Caller" { (k, withheld.to_owned()) } else { (k, v) })
            .collect();
        let request = testing::signed_form(TOKEN, &url("incoming-call"), &params);
        let view = WebhookRequest::new(&request, datetime!(2026-12-01 10:00:00 UTC), Some(BASE));
        let events = Twilio::new(TOKEN).parse(&view).unwrap();
        assert_eq!(call(&events).customer, None, "{withheld}");
        assert_eq!(call(&events).business_number.as_deref(), business, "{withheld}");
    }
    // A SIP Domain call: neither side is a phone number.
    let sip = parse_fixture("incoming-call", "incoming_call_sip");
    let sip = call(&sip);
    assert_eq!(sip.from.as_deref(), Some("sip:alice@crm.sip.twilio.com"));
    assert_eq!((&sip.customer, &sip.business_number), (&None, &None));

    // An incoming message: From is the customer (`whatsapp:` dropped), To the business,
    // on the event and on the inbound message alike.
    for name in ["incoming_message_sms", "incoming_message_whatsapp_media"] {
        let events = parse_fixture("incoming-message", name);
        let message = message(&events);
        assert_eq!((&message.customer, message.business_number.as_deref()), (&customer, business), "{name}");
        let MessageKind::Inbound(inbound) = &message.kind else { panic!("{name}: not inbound") };
        assert_eq!(inbound.customer, customer, "{name}");
    }
    let whatsapp = parse_fixture("incoming-message", "incoming_message_whatsapp_button");
    let MessageKind::Inbound(inbound) = &message(&whatsapp).kind else { panic!("not inbound") };
    assert_eq!(inbound.from, "whatsapp:+5511987654321", "the raw value is kept");
    // A status callback: the business sent the message, To is the customer.
    let status = parse_fixture("message-status", "message_status_delivered");
    let status = message(&status);
    assert_eq!((&status.customer, status.business_number.as_deref()), (&customer, business));
}

// ---------------------------------------------------------------------------------
// Through the Receiver.

/// Reads TwiML back: the element names in order, failing on malformed XML.
fn twiml_elements(xml: &[u8]) -> Vec<String> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut names = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed TwiML") {
            Xml::Start(e) | Xml::Empty(e) => names.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap()),
            Xml::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    names
}

#[tokio::test]
async fn incoming_call_is_stored_then_answered_with_the_hooks_twiml() {
    let s = setup(
        Twilio::builder()
            .auth_token(TOKEN)
            .on_incoming_call(|call: &model::IncomingCall<'_>| {
                VoiceResponse::new().say(format!("Hello {}", call.call.from.unwrap_or("there"))).verb(
                    Dial::new().answer_on_bridge(true).sip(Sip::new("sip:agent@ai.example.com?x-lead=1&x-src=tw")),
                )
            })
            .build(),
    );
    let request =
        testing::signed_form(TOKEN, &url("incoming-call"), &testing::incoming_call("CA01", "+5511911112222", "+1415"));
    let response = s.receiver.handle(request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml; charset=utf-8");
    assert_eq!(twiml_elements(response.body()), ["Response", "Say", "Dial", "Sip"]);
    let xml = std::str::from_utf8(response.body()).unwrap();
    assert!(xml.contains("sip:agent@ai.example.com?x-lead=1&amp;x-src=tw"), "{xml}");
    assert!(xml.contains("Hello +5511911112222"), "{xml}");

    let state = s.storage.call_state(&TWILIO, "CA01").await.unwrap().expect("stored before the reply");
    assert_eq!(state.status, Some(CallStatus::Ringing));
}

#[tokio::test]
async fn without_a_hook_the_incoming_call_gets_the_default_reply() {
    let s = setup(Twilio::new(TOKEN));
    let request = testing::signed_form(TOKEN, &url("incoming-call"), &testing::incoming_call("CA02", "+1", "+2"));
    let response = s.receiver.handle(request).await;
    assert_eq!(twiml_elements(response.body()), ["Response", "Reject"]);

    let custom =
        setup(Twilio::builder().auth_token(TOKEN).default_incoming_call_reply(VoiceResponse::new().say("Hi")).build());
    let request = testing::signed_form(TOKEN, &url("incoming-call"), &testing::incoming_call("CA03", "+1", "+2"));
    assert_eq!(twiml_elements(custom.receiver.handle(request).await.body()), ["Response", "Say"]);
}

#[tokio::test]
async fn a_panicking_hook_still_gets_twilio_a_valid_reply() {
    let s = setup(
        Twilio::builder()
            .auth_token(TOKEN)
            .on_incoming_call(|_: &model::IncomingCall<'_>| -> VoiceResponse { panic!("bug in the CRM's hook") })
            .build(),
    );
    let request = testing::signed_form(TOKEN, &url("incoming-call"), &testing::incoming_call("CA04", "+1", "+2"));
    let response = s.receiver.handle(request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(twiml_elements(response.body()), ["Response", "Reject"]);
    assert!(s.storage.call_state(&TWILIO, "CA04").await.unwrap().is_some());
}

#[tokio::test]
async fn incoming_message_gets_an_empty_response_and_status_callbacks_an_empty_200() {
    let s = setup(Twilio::new(TOKEN));
    let request =
        testing::signed_form(TOKEN, &url("incoming-message"), &testing::incoming_message("SM01", "+1555", "hi"));
    let response = s.receiver.handle(request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml; charset=utf-8");
    assert_eq!(twiml_elements(response.body()), ["Response"]);

    let request = testing::signed_form(TOKEN, &url("message-status"), &testing::message_status("SM01", "sent"));
    let response = s.receiver.handle(request).await;
    assert_eq!(response.status(), 200);
    assert!(response.body().is_empty());
}

#[tokio::test]
async fn a_late_ringing_after_completed_leaves_the_call_completed() {
    let s = setup(Twilio::new(TOKEN));
    for (status, sequence) in [("completed", 3), ("in-progress", 2), ("ringing", 1), ("initiated", 0)] {
        let request =
            testing::signed_form(TOKEN, &url("call-status"), &testing::call_status("CA10", status, sequence, now()));
        assert_eq!(s.receiver.handle(request).await.status(), 200);
    }
    let state = s.storage.call_state(&TWILIO, "CA10").await.unwrap().unwrap();
    assert_eq!(state.status, Some(CallStatus::Completed));
    assert_eq!(state.duration_ms, Some(42_000));
    assert_eq!(all_events(&*s.storage).await.len(), 4);
}

#[tokio::test]
async fn the_same_callback_twice_is_stored_once() {
    let s = setup(Twilio::new(TOKEN));
    let params = testing::call_status("CA11", "completed", 3, now());
    for _ in 0..2 {
        let request = testing::signed_form(TOKEN, &url("call-status"), &params);
        assert_eq!(s.receiver.handle(request).await.status(), 200);
    }
    assert_eq!(all_events(&*s.storage).await.len(), 1);

    // A retry carries the first attempt's idempotency token: stored once, even if a
    // parameter (say, a proxy-added one) differs.
    let mut params = testing::message_status("SM11", "delivered");
    let first = with_header(testing::signed_form(TOKEN, &url("message-status"), &params), "tok-1");
    params.push(("Extra".into(), "1".into()));
    let retry = with_header(testing::signed_form(TOKEN, &url("message-status"), &params), "tok-1");
    assert_eq!(s.receiver.handle(first).await.status(), 200);
    assert_eq!(s.receiver.handle(retry).await.status(), 200);
    let events = all_events(&*s.storage).await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().any(|e| e.dedupe_key == "idempotency:tok-1"));
}

fn with_header(mut request: http::Request<Bytes>, token: &str) -> http::Request<Bytes> {
    request.headers_mut().insert("i-twilio-idempotency-token", token.parse().unwrap());
    request
}

#[tokio::test]
async fn recording_and_message_states_fold_out_of_order() {
    let s = setup(Twilio::new(TOKEN));
    for status in ["completed", "in-progress"] {
        let params = testing::recording_status("CA12", "RE12", status, now());
        let request = testing::signed_form(TOKEN, &url("recording-status"), &params);
        assert_eq!(s.receiver.handle(request).await.status(), 200);
    }
    let state = s.storage.call_state(&TWILIO, "CA12").await.unwrap().unwrap();
    assert_eq!(state.recording.unwrap().status, RecordingStatus::Ready);

    for status in ["read", "delivered", "sent", "queued"] {
        let request = testing::signed_form(TOKEN, &url("message-status"), &testing::message_status("SM12", status));
        assert_eq!(s.receiver.handle(request).await.status(), 200);
    }
    let state = s.storage.message_state(&TWILIO, "SM12").await.unwrap().unwrap();
    assert_eq!(state.status, Some(MessageStatus::Read));
}

#[tokio::test]
async fn a_request_signed_for_http_is_rejected_when_twilio_is_configured_for_https() {
    let s = setup(Twilio::new(TOKEN));
    let http_url = url("call-status").replace("https://", "http://");
    let request = testing::signed_form(TOKEN, &http_url, &testing::call_status("CA13", "ringing", 1, now()));
    assert_eq!(s.receiver.handle(request).await.status(), 401);
    assert!(all_events(&*s.storage).await.is_empty());
}

#[tokio::test]
async fn missing_or_wrong_signatures_are_401_and_nothing_is_stored() {
    let s = setup(Twilio::builder().auth_token("old").auth_token(TOKEN).build());
    let params = testing::call_status("CA14", "ringing", 1, now());

    let mut unsigned = testing::signed_form(TOKEN, &url("call-status"), &params);
    unsigned.headers_mut().remove("x-twilio-signature");
    assert_eq!(s.receiver.handle(unsigned).await.status(), 401);

    let wrong = testing::signed_form("someone-else", &url("call-status"), &params);
    assert_eq!(s.receiver.handle(wrong).await.status(), 401);

    let signed = testing::signed_form(TOKEN, &url("call-status"), &params);
    let (parts, _) = signed.into_parts();
    let tampered = http::Request::from_parts(
        parts,
        Bytes::from(
            FormParams::from_pairs(
                params.iter().map(|(k, v)| (k.as_str(), if k == "CallStatus" { "completed" } else { v.as_str() })),
            )
            .to_form_string(),
        ),
    );
    assert_eq!(s.receiver.handle(tampered).await.status(), 401);
    assert!(all_events(&*s.storage).await.is_empty());

    // Either configured token verifies (rotation).
    let old = testing::signed_form("old", &url("call-status"), &params);
    assert_eq!(s.receiver.handle(old).await.status(), 200);
}

#[tokio::test]
async fn without_a_public_base_url_requests_are_refused_not_guessed() {
    let storage = Arc::new(MemoryEventLog::new());
    let receiver = Receiver::builder()
        .mount("/webhooks/twilio/call-status", Arc::new(Twilio::new(TOKEN)))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .build()
        .unwrap();
    let mut request =
        testing::signed_form(TOKEN, &url("call-status"), &testing::call_status("CA15", "ringing", 1, now()));
    request.headers_mut().insert("host", "crm.example.com".parse().unwrap());
    assert_eq!(receiver.handle(request).await.status(), 500);
    assert!(all_events(&*storage).await.is_empty());
}

#[tokio::test]
async fn json_bodies_are_verified_with_body_sha256_and_kept_for_later() {
    let s = setup(Twilio::new(TOKEN));
    let body = br#"{"event":"com.twilio.voice.status","data":{"callSid":"CA16"}}"#;
    let request = testing::signed_json(TOKEN, &url("call-status"), body);
    let response = s.receiver.handle(request).await;
    assert_eq!(response.status(), 200, "verified, so acknowledged");
    let events = all_events(&*s.storage).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, callhook::event_log::UNPARSED_EVENT_TYPE, "stored for a later version to parse");

    let (parts, _) = testing::signed_json(TOKEN, &url("call-status"), body).into_parts();
    let tampered = http::Request::from_parts(parts, Bytes::from_static(br#"{"event":"forged"}"#));
    assert_eq!(s.receiver.handle(tampered).await.status(), 401);
}

#[test]
fn verify_reports_what_is_wrong() {
    let twilio = Twilio::new(TOKEN);
    let request = http::Request::post("/webhooks/twilio/call-status").body(Bytes::new()).unwrap();
    let view = WebhookRequest::new(&request, datetime!(2026-12-01 0:00 UTC), Some(BASE));
    assert_eq!(twilio.verify(&view), Err(VerifyError::MissingHeader("X-Twilio-Signature")));
    let unconfigured = Twilio::builder().build();
    assert!(matches!(unconfigured.verify(&view), Err(VerifyError::NotConfigured(_))));
    assert!(matches!(twilio.parse(&view), Err(ParseError::MissingField(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes as body and signature never panic verification, parsing or the
    /// Receiver; an unsigned request is never stored.
    #[test]
    fn arbitrary_input_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        signature in "[ -~]{0,40}",
        endpoint in prop::sample::select(vec!["incoming-call", "call-status", "recording-status", "message-status", "incoming-message", "other"]),
    ) {
        let twilio = Twilio::new(TOKEN);
        let path = format!("/webhooks/twilio/{endpoint}");
        let request = http::Request::post(path.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature.as_str())
            .body(Bytes::from(body.clone()))
            .unwrap();
        let view = WebhookRequest::new(&request, datetime!(2026-12-01 0:00 UTC), Some(BASE));
        let _ = twilio.verify(&view);
        let _ = twilio.parse(&view);
        let _ = twilio.reply(&view, &[]);

        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let s = setup(Twilio::new(TOKEN));
        let status = runtime.block_on(s.receiver.handle(request));
        if endpoint != "other" {
            prop_assert_eq!(status.status(), 401);
        }
        prop_assert!(runtime.block_on(all_events(&*s.storage)).is_empty());
    }

    /// Well-signed but arbitrary parameters are acknowledged and stored (parsed, or
    /// kept for reprocessing), never a panic.
    #[test]
    fn arbitrary_signed_parameters_are_stored(
        params in proptest::collection::vec(("[A-Za-z]{1,12}", "\\PC{0,20}"), 0..12),
        endpoint in prop::sample::select(vec!["incoming-call", "call-status", "recording-status", "message-status", "incoming-message"]),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let s = setup(Twilio::new(TOKEN));
        let request = testing::signed_form(TOKEN, &url(endpoint), &params);
        let status = runtime.block_on(s.receiver.handle(request)).status();
        prop_assert_eq!(status, 200);
        prop_assert_eq!(runtime.block_on(all_events(&*s.storage)).len(), 1);
    }
}

/// What a Twilio callback cannot do without: the ids and statuses that say what it is.
const REQUIRED: &[&str] = &[
    "CallSid",
    "ConferenceSid",
    "CallStatus",
    "RecordingSid",
    "RecordingStatus",
    "MessageSid",
    "SmsSid",
    "MessageStatus",
    "SmsStatus",
    "AccountSid",
    "From",
    "To",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Optional parameters dropped, emptied, or sent as numbers written as floats or as
    /// words: the callback still parses into its event, with the same dedupe key
    /// wherever the key does not depend on a dropped parameter.
    #[test]
    fn reshaped_callbacks_still_parse(
        (endpoint, name, edits) in prop::sample::select(vec![
            ("call-status", "call_status_completed"), ("call-status", "call_status_busy_sip"),
            ("call-status", "call_status_ringing"), ("recording-status", "recording_status_completed"),
            ("recording-status", "recording_status_in_progress"), ("recording-status", "recording_status_conference"),
            ("message-status", "message_status_delivered"),
            ("incoming-message", "incoming_message_whatsapp_location"), ("incoming-message", "incoming_message_whatsapp_media"),
            ("incoming-call", "incoming_call"),
        ]).prop_flat_map(|(endpoint, name)| {
            let n = fixture_params(name).len();
            (Just(endpoint), Just(name), proptest::collection::vec((0..n, 0u8..4), 0..6))
        })
    ) {
        let mut params = fixture_params(name);
        let mut done = Vec::new();
        for (i, edit) in edits {
            let Some((key, value)) = params.get_mut(i) else { continue };
            if REQUIRED.contains(&key.as_str()) {
                continue;
            }
            match edit {
                0 => value.clear(),
                1 => *value = "not a number or a date".into(),
                2 if value.parse::<i64>().is_ok() => value.push_str(".0"),
                3 => *value = "null".into(),
                _ => continue,
            }
            done.push((key.clone(), value.clone()));
        }
        let request = testing::signed_form(TOKEN, &url(endpoint), &params);
        let view = WebhookRequest::new(&request, datetime!(2026-12-01 10:00:00 UTC), Some(BASE));
        let events = Twilio::new(TOKEN).parse(&view).map_err(|e| TestCaseError::fail(format!("{name} {done:?}: {e}")))?;
        prop_assert_eq!(events.len(), 1, "{} {:?}", name, done);
        let expected = parse_fixture(endpoint, name);
        prop_assert_eq!(events[0].event.external_id(), expected[0].event.external_id(), "{} {:?}", name, done);
    }
}

#[test]
fn a_leg_dialed_to_retell_links_its_parent_and_the_retell_call() {
    let events = parse_fixture("call-status", "call_status_dial_sip_retell");
    let leg = call(&events);
    assert_eq!(leg.call_id, "CA1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f");
    let links: Vec<(&str, &str, LinkVia)> =
        leg.links.iter().map(|link| (link.provider.as_str(), link.call_id.as_str(), link.via)).collect();
    assert_eq!(
        links,
        [
            ("twilio", "CA9b1e2d3c4f5a6b7c8d9e0f1a2b3c4d5e", LinkVia::ParentCall),
            ("retell", "call_7f3a9c2e1b4d", LinkVia::SipUri),
        ]
    );
    // A plain call names no other call; a SIP URI that is no Retell call links nothing.
    assert!(call(&parse_fixture("call-status", "call_status_completed")).links.is_empty());
    let sip = call(&parse_fixture("incoming-call", "incoming_call_sip")).clone();
    assert!(sip.links.iter().all(|link| link.via != LinkVia::SipUri), "{:?}", sip.links);
}
