//! WhatsApp end to end: handshake, signatures over raw bytes, every fixture's
//! normalization, batches out of order and redelivered, arbitrary input.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use callhook::Receiver;
use callhook::event::{
    CallStatus, ContactId, Direction, Event, MediaKind, MessageContent, MessageEvent, MessageKind, MessageStatus,
    ProviderId,
};
use callhook::event_log::{EventLog, EventStatus, MemoryEventLog, UNPARSED_EVENT_TYPE};
use callhook::job_queue::MemoryJobQueue;
use callhook::provider::{ParsedEvent, Provider, WebhookRequest};
use callhook::providers::whatsapp::{WhatsApp, normalize, signature, testing};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::all_events;
use time::macros::datetime;

const SECRET: &str = "meta-app-secret";
const SECOND_SECRET: &str = "second-app-secret";
const VERIFY_TOKEN: &str = "my-verify-token";
const PATH: &str = "/webhooks/whatsapp";
const WHATSAPP: ProviderId = ProviderId::from_static("whatsapp");

struct Setup {
    receiver: Receiver,
    storage: Arc<MemoryEventLog>,
}

fn setup() -> Setup {
    let storage = Arc::new(MemoryEventLog::new());
    let whatsapp = WhatsApp::builder().app_secret(SECRET).app_secret(SECOND_SECRET).verify_token(VERIFY_TOKEN).build();
    let receiver = Receiver::builder()
        .mount(PATH, Arc::new(whatsapp))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .build()
        .unwrap();
    Setup { receiver, storage }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/whatsapp/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn parse(name: &str) -> Vec<ParsedEvent> {
    normalize::events(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn message(event: &ParsedEvent) -> &MessageEvent {
    match &event.event {
        Event::Message(message) => message,
        other => panic!("not a message: {other:?}"),
    }
}

fn content(name: &str) -> MessageContent {
    let events = parse(name);
    assert_eq!(events.len(), 1, "{name}");
    match &message(&events[0]).kind {
        MessageKind::Inbound(inbound) => inbound.content.clone(),
        other => panic!("{name}: not inbound: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// Handshake

#[tokio::test]
async fn handshake_echoes_the_challenge_byte_for_byte() {
    let s = setup();
    for challenge in ["1158201444", "c-9_x.Z~", "a b+c/%é"] {
        let response = s.receiver.handle(testing::handshake(PATH, VERIFY_TOKEN, challenge)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(response.body(), challenge.as_bytes());
    }
    assert!(all_events(&*s.storage).await.is_empty());
}

#[tokio::test]
async fn handshake_with_a_wrong_token_or_missing_parameters_is_refused() {
    let s = setup();
    let wrong = s.receiver.handle(testing::handshake(PATH, "guess", "123")).await;
    assert_eq!(wrong.status(), 403);
    assert!(wrong.body().is_empty() || !wrong.body().starts_with(b"123"));

    let unsubscribe =
        http::Request::get(format!("{PATH}?hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"))
            .body(Bytes::new())
            .unwrap();
    assert_eq!(s.receiver.handle(unsubscribe).await.status(), 403);

    for query in ["", "?hub.mode=subscribe&hub.challenge=1", "?hub.mode=subscribe&hub.verify_token=my-verify-token"] {
        let request = http::Request::get(format!("{PATH}{query}")).body(Bytes::new()).unwrap();
        assert_eq!(s.receiver.handle(request).await.status(), 400, "{query:?}");
    }
    let unconfigured = WhatsApp::builder().app_secret(SECRET).build();
    let request = testing::handshake(PATH, "", "1");
    let view = WebhookRequest::new(&request, datetime!(2026-12-01 0:00 UTC), None);
    assert_eq!(unconfigured.handshake(&view).unwrap().status(), 403, "no verify token configured: refused");
    assert!(all_events(&*s.storage).await.is_empty());
}

// ---------------------------------------------------------------------------------
// Signature

#[tokio::test]
async fn signature_covers_the_raw_bytes_with_metas_escapes() {
    let s = setup();
    let raw = fixture("message_with_referral");
    assert!(raw.contains("\\u00") && raw.contains("\\/"), "the fixture has Meta's escapes");

    let reserialized = serde_json::to_string(&serde_json::from_str::<Value>(&raw).unwrap()).unwrap();
    let header = signature::sign(SECRET, raw.as_bytes());
    let forged =
        http::Request::post(PATH).header("x-hub-signature-256", &header).body(Bytes::from(reserialized)).unwrap();
    assert_eq!(s.receiver.handle(forged).await.status(), 401, "re-serialized bytes do not verify");

    let response = s.receiver.handle(testing::signed(SECRET, PATH, &raw, time::OffsetDateTime::now_utc())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(all_events(&*s.storage).await.len(), 1);
}

#[tokio::test]
async fn a_second_secret_and_upper_case_hex_verify() {
    let s = setup();
    let raw = fixture("status_read");
    let mut request = testing::signed(SECOND_SECRET, PATH, &raw, time::OffsetDateTime::now_utc());
    let upper = format!("sha256={}", signature::sign(SECOND_SECRET, raw.as_bytes())[7..].to_uppercase());
    request.headers_mut().insert("x-hub-signature-256", upper.parse().unwrap());
    assert_eq!(s.receiver.handle(request).await.status(), 200);
}

#[tokio::test]
async fn tampered_wrong_secret_and_missing_header_are_401_with_nothing_stored() {
    let s = setup();
    let raw = fixture("message_text");

    let (parts, _) = testing::signed(SECRET, PATH, &raw, time::OffsetDateTime::now_utc()).into_parts();
    let tampered = http::Request::from_parts(parts, Bytes::from(raw.replace("Ol\\u00e1", "Oi")));
    assert_eq!(s.receiver.handle(tampered).await.status(), 401);

    assert_eq!(
        s.receiver
            .handle(testing::signed("not-the-secret", PATH, &raw, time::OffsetDateTime::now_utc()))
            .await
            .status(),
        401
    );

    let mut missing = testing::signed(SECRET, PATH, &raw, time::OffsetDateTime::now_utc());
    missing.headers_mut().remove("x-hub-signature-256");
    assert_eq!(s.receiver.handle(missing).await.status(), 401);

    let mut sha1 = testing::signed(SECRET, PATH, &raw, time::OffsetDateTime::now_utc());
    sha1.headers_mut().remove("x-hub-signature-256");
    sha1.headers_mut().insert("x-hub-signature", "sha1=0000".parse().unwrap());
    assert_eq!(s.receiver.handle(sha1).await.status(), 401, "the legacy SHA-1 header alone is not accepted");

    assert!(all_events(&*s.storage).await.is_empty());
}

// ---------------------------------------------------------------------------------
// Fixtures: messages

#[test]
fn text_message_normalizes_with_contact_and_business_number() {
    let events = parse("message_text");
    let event = &events[0];
    assert_eq!(event.event_type, "messages.text");
    let message = message(event);
    assert_eq!(event.dedupe_key, format!("message:{}", message.message_id));
    assert!(message.message_id.starts_with("wamid."));
    assert!(message.occurred_at.is_some());
    let MessageKind::Inbound(inbound) = &message.kind else { panic!("not inbound") };
    assert_eq!(inbound.to.as_deref(), Some("15550783881"));
    assert!(inbound.contact_name.as_deref().is_some_and(|name| !name.contains("\\u")), "escapes decoded");
    let MessageContent::Text { body } = &inbound.content else { panic!("not text") };
    assert!(body.contains('á') || body.contains('ç') || body.contains('é'), "{body}");
}

#[test]
fn reply_context_is_kept() {
    let events = parse("message_text_reply_forwarded");
    let MessageKind::Inbound(inbound) = &message(&events[0]).kind else { panic!("not inbound") };
    assert!(inbound.reply_to.as_deref().is_some_and(|id| id.starts_with("wamid.")));
}

#[test]
fn media_messages_carry_their_reference_and_caption() {
    let cases = [
        ("message_image", MediaKind::Image, true),
        ("message_audio_voice", MediaKind::Audio, false),
        ("message_video", MediaKind::Video, true),
        ("message_document", MediaKind::Document, true),
        ("message_sticker", MediaKind::Sticker, false),
    ];
    for (name, kind, has_caption) in cases {
        let MessageContent::Media { media, caption } = content(name) else { panic!("{name}: not media") };
        assert_eq!(media.len(), 1, "{name}");
        assert_eq!(media[0].kind, kind, "{name}");
        assert!(media[0].id.is_some(), "{name}: media id");
        assert!(media[0].mime_type.as_deref().is_some_and(|m| m.contains('/')), "{name}: mime type unescaped");
        assert_eq!(caption.is_some(), has_caption, "{name}");
    }
    let MessageContent::Media { media, .. } = content("message_audio_voice") else { unreachable!() };
    assert!(media[0].voice);
    let MessageContent::Media { media, .. } = content("message_document") else { unreachable!() };
    assert!(media[0].filename.is_some());
}

#[test]
fn location_reaction_and_replies() {
    let MessageContent::Location { latitude, longitude, name, address } = content("message_location") else {
        panic!("not a location")
    };
    assert!((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude));
    assert!(name.is_some() && address.is_some());

    let MessageContent::Reaction { message_id, emoji } = content("message_reaction") else { panic!("not a reaction") };
    assert!(message_id.starts_with("wamid."));
    assert_eq!(emoji, "👍");
    let MessageContent::Reaction { emoji, .. } = content("message_reaction_removed") else { panic!("not a reaction") };
    assert_eq!(emoji, "", "an empty emoji removes the reaction");

    for name in ["message_interactive_button_reply", "message_interactive_list_reply", "message_button"] {
        let MessageContent::InteractiveReply { reply_id, title, .. } = content(name) else { panic!("{name}") };
        assert!(reply_id.is_some() && title.is_some(), "{name}");
    }
    let MessageContent::InteractiveReply { reply_id, payload, .. } = content("message_interactive_nfm_reply") else {
        panic!("not a flow reply")
    };
    assert_eq!(reply_id.as_deref(), Some("flow"));
    let response: Value = serde_json::from_str(&payload.unwrap()).unwrap();
    assert_eq!(response["flow_token"], "abc");
    assert_eq!(response["comentario"], "Ótimo atendimento, obrigado!");
}

#[test]
fn types_without_a_normalized_form_are_kept_as_other() {
    for (name, provider_type) in [
        ("message_contacts", "contacts"),
        ("message_order", "order"),
        ("message_system", "system"),
        ("message_unsupported", "unsupported"),
        ("message_unknown_type", "request_welcome"),
    ] {
        assert_eq!(content(name), MessageContent::Other { provider_type: provider_type.into() }, "{name}");
        let events = parse(name);
        assert_eq!(events[0].event_type, format!("messages.{provider_type}"));
    }
    // An unmodeled type keeps its type in the model (and the payload in the event log).
    let body = fixture("message_unknown_type");
    let notification: callhook::providers::whatsapp::model::Notification<'_> = serde_json::from_str(&body).unwrap();
    let message = &notification.entry[0].changes[0].value.messages[0];
    assert_eq!(message.kind.as_str(), "request_welcome");
}

#[test]
fn referral_messages_still_normalize_as_their_type() {
    let events = parse("message_with_referral");
    assert_eq!(events[0].event_type, "messages.text");
}

#[test]
fn other_fields_are_kept_as_unmodeled_events_with_their_json() {
    for (name, field) in
        [("template_status_update", "message_template_status_update"), ("account_update", "account_update")]
    {
        let events = parse(name);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, field);
        assert!(events[0].dedupe_key.starts_with(&format!("{field}:102290129340398:")));
        let Event::Unmodeled(unmodeled) = &events[0].event else { panic!("{name}: not unmodeled") };
        assert_eq!(unmodeled.provider_type, field);
        assert!(unmodeled.data.is_object() && !unmodeled.data.as_object().unwrap().is_empty());
    }
}

// ---------------------------------------------------------------------------------
// Fixtures: statuses and calls

#[test]
fn statuses_normalize_with_conversation_pricing_and_errors() {
    let cases = [
        ("status_sent", MessageStatus::Sent),
        ("status_delivered", MessageStatus::Delivered),
        ("status_read", MessageStatus::Read),
        ("status_failed", MessageStatus::Failed),
        ("status_unknown_value", MessageStatus::from("played")),
    ];
    for (name, status) in cases {
        let events = parse(name);
        let message = message(&events[0]);
        let MessageKind::Status(update) = &message.kind else { panic!("{name}: not a status") };
        assert_eq!(update.status, status, "{name}");
        assert_eq!(events[0].dedupe_key, format!("status:{}:{}", message.message_id, status.as_str()));
        assert!(update.recipient.is_some());
    }
    let sent = parse("status_sent");
    let sent = message(&sent[0]);
    let conversation = sent.conversation.as_ref().unwrap();
    assert_eq!(conversation.origin.as_deref(), Some("service"));
    assert!(conversation.expires_at.is_some());
    assert_eq!(sent.pricing.as_ref().unwrap().model.as_deref(), Some("CBP"));

    let failed = parse("status_failed");
    let MessageKind::Status(update) = &message(&failed[0]).kind else { unreachable!() };
    assert_eq!(update.errors[0].code.as_deref(), Some("131026"));
    assert_eq!(update.errors[0].title.as_deref(), Some("Message undeliverable"));
    assert!(update.errors[0].details.is_some());
}

#[test]
fn a_mixed_batch_gives_one_event_per_item() {
    let raw = fixture("statuses_mixed_batch");
    let notification: Value = serde_json::from_str(&raw).unwrap();
    let mut expected = 0;
    for entry in notification["entry"].as_array().unwrap() {
        for change in entry["changes"].as_array().unwrap() {
            for key in ["messages", "statuses", "calls"] {
                expected += change["value"][key].as_array().map_or(0, Vec::len);
            }
        }
    }
    let events = parse("statuses_mixed_batch");
    assert_eq!(events.len(), expected);
    assert_eq!(expected, 8);
}

fn call_of(name: &str) -> callhook::event::CallEvent {
    let events = parse(name);
    assert_eq!(events.len(), 1, "{name}");
    match &events[0].event {
        Event::Call(call) => call.clone(),
        other => panic!("{name}: not a call: {other:?}"),
    }
}

#[test]
fn calls_normalize_as_the_table_says() {
    let connect = call_of("call_connect_user_initiated");
    assert_eq!(connect.status, Some(CallStatus::Ringing));
    assert_eq!(connect.direction, Some(Direction::Inbound));
    assert!(connect.contact_name.is_some());
    assert!(connect.started_at.is_some());

    let business = call_of("call_connect_business_initiated");
    assert_eq!(business.status, Some(CallStatus::InProgress));
    assert_eq!(business.direction, Some(Direction::Outbound));

    let completed = call_of("call_terminate_completed");
    assert_eq!(completed.status, Some(CallStatus::Completed));
    assert_eq!(completed.duration_ms, Some(123_000));
    assert!(completed.answered_at.is_some() && completed.ended_at.is_some());
    assert_eq!(
        (completed.ended_at.unwrap() - completed.answered_at.unwrap()).whole_seconds(),
        123,
        "start and end times parsed"
    );

    let numeric = call_of("call_terminate_numeric_timestamps");
    assert_eq!(numeric.status, Some(CallStatus::Completed));
    assert!(numeric.ended_at.is_some(), "timestamps as JSON numbers are accepted");

    assert_eq!(call_of("call_terminate_failed").status, Some(CallStatus::Failed));
    assert_eq!(call_of("call_status_ringing").status, Some(CallStatus::Ringing));
    assert_eq!(call_of("call_status_accepted").status, Some(CallStatus::InProgress));
    assert_eq!(call_of("call_status_rejected").status, Some(CallStatus::Busy));

    let events = parse("call_terminate_completed");
    assert!(events[0].dedupe_key.starts_with("call:wacid.") && events[0].dedupe_key.ends_with(":terminate"));
}

#[tokio::test]
async fn a_call_folds_to_completed_whatever_the_order() {
    let s = setup();
    let terminate = testing::notification(
        "calls",
        testing::call_terminate("wacid.X", "5511999998888", "COMPLETED", 1_764_590_633, 123),
    );
    let connect = testing::notification("calls", testing::call_connect("wacid.X", "5511999998888", 1_764_590_500));
    for body in [&terminate, &connect, &terminate] {
        assert_eq!(
            s.receiver.handle(testing::signed(SECRET, PATH, body, time::OffsetDateTime::now_utc())).await.status(),
            200
        );
    }
    let state = s.storage.call_state(&WHATSAPP, "wacid.X").await.unwrap().unwrap();
    assert_eq!(state.status, Some(CallStatus::Completed));
    assert_eq!(state.duration_ms, Some(123_000));
    assert_eq!(state.contact_name.as_deref(), Some("Ana"));
    assert_eq!(all_events(&*s.storage).await.len(), 2);
}

// ---------------------------------------------------------------------------------
// Batches

fn rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        "failed" => 4,
        other => panic!("unexpected status {other}"),
    }
}

/// The highest status per message, computed from the raw JSON independently of callhook.
fn expected_highest(body: &str) -> HashMap<String, String> {
    let value: Value = serde_json::from_str(body).unwrap();
    let mut highest: HashMap<String, String> = HashMap::new();
    for entry in value["entry"].as_array().unwrap() {
        for change in entry["changes"].as_array().unwrap() {
            for status in change["value"]["statuses"].as_array().unwrap() {
                let id = status["id"].as_str().unwrap().to_owned();
                let name = status["status"].as_str().unwrap().to_owned();
                let current = highest.entry(id).or_insert_with(|| name.clone());
                if rank(&name) > rank(current) {
                    *current = name;
                }
            }
        }
    }
    highest
}

#[tokio::test]
async fn a_shuffled_batch_of_200_statuses_ends_with_each_messages_highest_status_and_is_stored_once() {
    let s = setup();
    let body = fixture("bench_statuses_200");
    let expected = expected_highest(&body);
    assert_eq!(expected.len(), 50);
    let item_count = serde_json::from_str::<Value>(&body).unwrap()["entry"][0]["changes"][0]["value"]["statuses"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(item_count, 200);

    assert_eq!(
        s.receiver.handle(testing::signed(SECRET, PATH, &body, time::OffsetDateTime::now_utc())).await.status(),
        200
    );
    let stored = all_events(&*s.storage).await.len();
    let unique: std::collections::HashSet<String> =
        normalize::events(body.as_bytes()).unwrap().into_iter().map(|e| e.dedupe_key).collect();
    assert_eq!(stored, unique.len(), "each distinct item once, repeats inside the batch included");

    assert_eq!(
        s.receiver.handle(testing::signed(SECRET, PATH, &body, time::OffsetDateTime::now_utc())).await.status(),
        200
    );
    assert_eq!(all_events(&*s.storage).await.len(), stored, "the same batch twice stores nothing new");

    for (wamid, status) in expected {
        let state = s.storage.message_state(&WHATSAPP, &wamid).await.unwrap().unwrap();
        assert_eq!(state.status.as_ref().map(MessageStatus::as_str), Some(status.as_str()), "{wamid}");
        if status == "failed" {
            assert!(state.errors.first().is_some_and(|e| e.code.is_some()), "{wamid}: failed keeps its error");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any order of the same statuses, sent in batches of any size, folds to the highest.
    #[test]
    fn statuses_fold_to_the_highest_in_any_order_and_batching(
        order in Just((0..60usize).collect::<Vec<_>>()).prop_shuffle(),
        batch in 1..20usize,
    ) {
        let statuses = ["sent", "delivered", "read"];
        let items: Vec<(String, &str)> = (0..20)
            .flat_map(|m| {
                statuses.iter().map(move |s| (format!("wamid.{m}"), if m % 7 == 0 && *s == "read" { "failed" } else { *s }))
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let s = setup();
        let shuffled: Vec<&(String, &str)> = order.iter().map(|&i| &items[i]).collect();
        for chunk in shuffled.chunks(batch) {
            let chunk: Vec<(&str, &str, i64)> = chunk.iter().map(|(id, st)| (id.as_str(), *st, 1_764_590_400)).collect();
            let body = testing::notification("messages", testing::statuses(&chunk));
            prop_assert_eq!(runtime.block_on(s.receiver.handle(testing::signed(SECRET, PATH, &body, time::OffsetDateTime::now_utc()))).status(), 200);
        }
        for m in 0..20 {
            let state = runtime.block_on(s.storage.message_state(&WHATSAPP, &format!("wamid.{m}"))).unwrap().unwrap();
            let expected = if m % 7 == 0 { MessageStatus::Failed } else { MessageStatus::Read };
            prop_assert_eq!(state.status, Some(expected));
        }
    }
}

// ---------------------------------------------------------------------------------
// Arbitrary input

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(vec!["messages", "calls", "text", "statuses", "connect", "terminate", "call", "read"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::hash_map(
                prop::sample::select(vec![
                    "object",
                    "entry",
                    "id",
                    "changes",
                    "field",
                    "value",
                    "messages",
                    "statuses",
                    "calls",
                    "type",
                    "from",
                    "timestamp",
                    "status",
                    "text",
                    "body",
                    "contacts",
                    "errors",
                    "event",
                    "interactive",
                ]),
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(body in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = normalize::events(&body);
        let _ = signature::verify(&[callhook::verify::Secret::new("s")], &String::from_utf8_lossy(&body), &body);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parser(value in arbitrary_json(), field in prop::sample::select(vec!["messages", "calls", "other"])) {
        let _ = normalize::events(value.to_string().as_bytes());
        let wrapped = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}]});
        let _ = normalize::events(wrapped.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_signed_bodies_are_acknowledged_and_stored(value in arbitrary_json()) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let s = setup();
        let body = testing::notification("messages", value);
        let status = runtime.block_on(s.receiver.handle(testing::signed(SECRET, PATH, &body, time::OffsetDateTime::now_utc()))).status();
        prop_assert_eq!(status, 200);
    }
}

// Real-world shapes (issue 21): one damaged item, business-scoped ids, numbers and times
// re-encoded, nulls, repeated keys.

#[test]
fn a_batch_with_one_damaged_item_still_yields_its_good_items() {
    let events = parse("batch_one_damaged_item");
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["messages.text", "messages.order", UNPARSED_EVENT_TYPE, "statuses.read"]);
    let MessageKind::Inbound(text) = &message(&events[0]).kind else { panic!("not inbound") };
    assert_eq!(text.content, MessageContent::text("Bom dia! Chegou o pedido?"));
    assert!(events.iter().filter(|e| e.event_type != UNPARSED_EVENT_TYPE).all(|e| e.unreadable.is_none()));

    let damaged = &events[2];
    assert!(damaged.unreadable.as_deref().is_some_and(|error| error.contains("invalid type")), "{damaged:?}");
    let Event::Unmodeled(item) = &damaged.event else { panic!("{damaged:?}") };
    assert_eq!(item.provider_type, "messages");
    assert_eq!(item.data["text"]["body"]["rich"], true, "the item's raw JSON is kept");
    assert!(item.subject_id.as_deref().is_some_and(|id| id.starts_with("wamid.")));
}

#[tokio::test]
async fn a_damaged_item_is_stored_failed_beside_its_delivered_siblings() {
    let s = setup();
    let body = fixture("batch_one_damaged_item");
    let response = s.receiver.handle(testing::signed(SECRET, PATH, &body, datetime!(2026-12-01 10:00 UTC))).await;
    assert_eq!(response.status(), 200);
    let stored = all_events(&*s.storage).await;
    assert_eq!(stored.len(), 4);
    let failed: Vec<_> = stored.iter().filter(|e| e.status == EventStatus::Failed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].event_type, UNPARSED_EVENT_TYPE);
    assert!(failed[0].last_error.is_some());
    assert!(stored.iter().filter(|e| e.event_type != UNPARSED_EVENT_TYPE).all(|e| e.status == EventStatus::Pending));
    let detail = s.storage.event(failed[0].id).await.unwrap().unwrap();
    assert_eq!(detail.delivery.parse_error, None, "the delivery parsed; one item did not");
}

#[test]
fn users_known_by_a_business_scoped_id_parse_with_that_identity() {
    let events = parse("message_text_bsuid");
    let MessageKind::Inbound(inbound) = &message(&events[0]).kind else { panic!("not inbound") };
    assert_eq!(inbound.from, "US.13491208655302741918");
    assert_eq!(
        inbound.customer,
        Some(ContactId::BusinessScoped {
            user_id: "US.13491208655302741918".into(),
            parent_user_id: Some("US.ENT.11815799212886844830".into()),
        })
    );
    assert_eq!(inbound.contact_name.as_deref(), Some("Marcia"));

    let call = call_of("call_connect_bsuid");
    assert_eq!((call.from.as_deref(), call.status), (None, Some(CallStatus::Ringing)));
    assert!(
        matches!(&call.customer, Some(ContactId::BusinessScoped { user_id, .. }) if user_id == "US.13491208655302741918")
    );
    assert_eq!(call.contact_name.as_deref(), Some("Marcia"));

    // A number, when Meta sends one, is the identity (in E.164).
    let text = parse("message_text");
    let MessageKind::Inbound(inbound) = &message(&text[0]).kind else { panic!("not inbound") };
    assert_eq!(inbound.customer, Some(ContactId::phone("+5511987654321")));
    assert_eq!(call_of("call_connect_user_initiated").customer, Some(ContactId::phone("+5511987654321")));
}

#[test]
fn numbers_are_e164_customer_and_business() {
    let business = Some("+15550783881");

    // An inbound message: the sender's wa_id and the business's display number.
    let text = parse("message_text");
    let text = message(&text[0]);
    assert_eq!(text.customer, Some(ContactId::phone("+5511987654321")));
    assert_eq!(text.business_number.as_deref(), business);
    let MessageKind::Inbound(inbound) = &text.kind else { panic!("not inbound") };
    assert_eq!((inbound.from.as_str(), inbound.to.as_deref()), ("5511987654321", Some("15550783881")), "raw, as sent");
    assert_eq!(inbound.customer, text.customer);
    // A status of a sent message: the recipient.
    let delivered = parse("status_delivered");
    let delivered = message(&delivered[0]);
    assert_eq!(delivered.customer, Some(ContactId::phone("+5511987654321")));
    assert_eq!(delivered.business_number.as_deref(), business);

    // Calls: the user is the caller of a user-initiated call, the callee of a
    // business-initiated one; the business is the display number either way.
    for (name, customer) in [
        ("call_connect_user_initiated", "+5511987654321"),
        ("call_terminate_failed", "+5521998877665"),
        ("call_connect_business_initiated", "+5511976543210"),
        ("call_status_accepted", "+5511976543210"),
    ] {
        let call = call_of(name);
        assert_eq!(call.customer, Some(ContactId::phone(customer)), "{name}");
        assert_eq!(call.business_number.as_deref(), business, "{name}");
    }
    assert_eq!(call_of("call_connect_business_initiated").direction, Some(Direction::Outbound));

    // A user who shows a username: no number, their business-scoped id.
    let bsuid = parse("message_text_bsuid");
    let bsuid = message(&bsuid[0]);
    assert!(matches!(bsuid.customer, Some(ContactId::BusinessScoped { .. })), "{:?}", bsuid.customer);
    assert_eq!(bsuid.customer.as_ref().and_then(ContactId::phone_number), None);
    assert_eq!(bsuid.business_number.as_deref(), business);
    let call = call_of("call_connect_bsuid");
    assert_eq!(call.customer.as_ref().and_then(ContactId::phone_number), None);
    assert_eq!(call.business_number.as_deref(), business);
}

#[test]
fn a_sender_known_only_by_from_user_id_keeps_that_identity() {
    // A system message has no contacts array; the message itself names the sender.
    let events = parse("message_system_from_user_id");
    assert!(events[0].unreadable.is_none(), "{events:?}");
    let MessageKind::Inbound(inbound) = &message(&events[0]).kind else { panic!("not inbound") };
    assert_eq!(inbound.from, "US.13491208655302741918");
    assert!(
        matches!(&inbound.customer, Some(ContactId::BusinessScoped { user_id, .. }) if user_id == "US.13491208655302741918")
    );
}

#[test]
fn coordinates_sent_as_strings_are_read_as_numbers() {
    let MessageContent::Location { latitude, longitude, name, .. } = content("message_location_string_coordinates")
    else {
        panic!("not a location")
    };
    assert_eq!((latitude, longitude, name.as_deref()), (-23.561414, -46.655881, Some("MASP")));
}

#[test]
fn nulls_float_and_iso_times_parse() {
    let events = parse("shapes_nulls_numbers_and_times");
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.unreadable.is_none()), "{events:?}");
    assert_eq!(message(&events[0]).occurred_at, Some(datetime!(2025-12-01 12:12:20 UTC)));
    assert_eq!(message(&events[1]).occurred_at, Some(datetime!(2026-12-01 10:12:30 UTC)));
    let batch = parse("batch_one_damaged_item");
    let MessageKind::Inbound(order) = &message(&batch[1]).kind else { panic!() };
    assert_eq!(order.content, MessageContent::Other { provider_type: "order".into() });
}

#[test]
fn a_repeated_key_is_read_with_its_last_value_and_noted() {
    let events = parse("message_duplicate_key");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "messages.text");
    assert_eq!(events[0].event.notes().len(), 1, "{:?}", events[0].event);
}

/// What a WhatsApp payload cannot do without: the envelope, each item's identity and
/// type, and the members of a content object that are its content.
const KEEP: &[&str] = &[
    "/object",
    "/entry/*/id",
    "/entry/*/changes/*/field",
    "/entry/*/changes/*/value/metadata/display_phone_number",
    "/entry/*/changes/*/value/metadata/phone_number_id",
    "/entry/*/changes/*/value/messages/*/id",
    "/entry/*/changes/*/value/messages/*/type",
    "/entry/*/changes/*/value/messages/*/text/body",
    "/entry/*/changes/*/value/messages/*/reaction/message_id",
    "/entry/*/changes/*/value/messages/*/interactive/type",
    "/entry/*/changes/*/value/messages/*/interactive/button_reply/id",
    "/entry/*/changes/*/value/messages/*/interactive/list_reply/id",
    "/entry/*/changes/*/value/messages/*/location/latitude",
    "/entry/*/changes/*/value/messages/*/location/longitude",
    "/entry/*/changes/*/value/statuses/*/id",
    "/entry/*/changes/*/value/statuses/*/status",
    "/entry/*/changes/*/value/statuses/*/type",
    "/entry/*/changes/*/value/statuses/*/conversation/id",
    "/entry/*/changes/*/value/statuses/*/conversation/origin/type",
    "/entry/*/changes/*/value/calls/*/id",
    "/entry/*/changes/*/value/calls/*/event",
];

const RESHAPED_FIXTURES: &[&str] = &[
    "message_text",
    "message_image",
    "message_audio_voice",
    "message_location",
    "message_reaction",
    "message_interactive_button_reply",
    "message_order",
    "message_text_reply_forwarded",
    "message_with_referral",
    "message_text_bsuid",
    "status_sent",
    "status_failed",
    "statuses_mixed_batch",
    "call_connect_user_initiated",
    "call_terminate_completed",
    "call_terminate_numeric_timestamps",
    "call_status_accepted",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Optional members removed or `null`, numbers as floats or strings, numeric strings
    /// as numbers: every item still parses, with the same identity.
    #[test]
    fn reshaped_payloads_keep_every_item(
        (name, (value, reshapes)) in prop::sample::select(RESHAPED_FIXTURES).prop_flat_map(|name| {
            let value: Value = serde_json::from_str(&fixture(name)).unwrap();
            (Just(name), support::shapes::reshaped(value, KEEP, 6))
        })
    ) {
        let expected: Vec<String> = parse(name).into_iter().map(|e| e.dedupe_key).collect();
        let events = normalize::events(value.to_string().as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let unreadable: Vec<_> = events.iter().filter_map(|e| e.unreadable.as_deref()).collect();
        prop_assert!(unreadable.is_empty(), "{name} {reshapes:?}: {unreadable:?}");
        let keys: Vec<String> = events.into_iter().map(|e| e.dedupe_key).collect();
        prop_assert_eq!(keys, expected, "{} {:?}", name, reshapes);
    }
}
