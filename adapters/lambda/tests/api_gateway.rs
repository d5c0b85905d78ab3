//! The adapter fed real API Gateway and Function URL events: each fixture under
//! `tests/fixtures/` (shaped like AWS's sample events) gets a correctly signed body
//! injected, goes through `lambda_http`'s own deserialization (base64 decoding
//! included), then through `callhook_lambda::handle`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use callhook::event_log::{EventDetail, EventFilter};
use callhook::providers::twilio::model::IncomingCall;
use callhook::providers::twilio::twiml::{Say, VoiceResponse};
use callhook::providers::{twilio, whatsapp};
use callhook::{EventLog, MemoryEventLog, MemoryJobQueue, Receiver};
use callhook_lambda::Options;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

const REST_WHATSAPP: &str = include_str!("fixtures/rest_api/whatsapp_message.json");
const REST_TWILIO_CALL_STATUS: &str = include_str!("fixtures/rest_api/twilio_call_status.json");
const HTTP_WHATSAPP: &str = include_str!("fixtures/http_api/whatsapp_message.json");
const HTTP_WHATSAPP_VERIFICATION: &str = include_str!("fixtures/http_api/whatsapp_verification.json");
const FUNCTION_URL_TWILIO_INCOMING_CALL: &str = include_str!("fixtures/function_url/twilio_incoming_call.json");

const APP_SECRET: &str = "whatsapp-app-secret";
const VERIFY_TOKEN: &str = "meatyhamhock";
const AUTH_TOKEN: &str = "twilio-auth-token";
const REST_API_ORIGIN: &str = "https://abc123.execute-api.us-east-1.amazonaws.com";
const FUNCTION_URL_ORIGIN: &str = "https://f3kxmpl7dqzv5ucbd4a2rj6yti0nsowh.lambda-url.us-east-1.on.aws";
const BODY_LIMIT: usize = 64 * 1024;

/// A receiver with WhatsApp and Twilio mounted at `prefix`-ed reference paths.
fn build_receiver(public_base_url: Option<&str>, prefix: &str) -> (Receiver, Arc<MemoryEventLog>) {
    let storage = Arc::new(MemoryEventLog::new());
    let twilio = Arc::new(
        twilio::Twilio::builder()
            .auth_token(AUTH_TOKEN)
            .on_incoming_call(|_call: &IncomingCall<'_>| VoiceResponse::new().verb(Say::new("Thanks for calling.")))
            .build(),
    );
    let whatsapp = whatsapp::WhatsApp::builder().app_secret(APP_SECRET).verify_token(VERIFY_TOKEN).build();
    let mut builder = Receiver::builder()
        .mount(format!("{prefix}/webhooks/whatsapp"), Arc::new(whatsapp))
        .mount(format!("{prefix}/webhooks/twilio/incoming-call"), twilio.clone())
        .mount(format!("{prefix}/webhooks/twilio/call-status"), twilio)
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .body_limit(BODY_LIMIT);
    if let Some(url) = public_base_url {
        builder = builder.public_base_url(url);
    }
    (builder.build().unwrap(), storage)
}

/// The fixture with `edit` applied, deserialized by `lambda_http` as the runtime does.
fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    let mut value: Value = serde_json::from_str(fixture).unwrap();
    edit(&mut value);
    lambda_http::request::from_str(&value.to_string()).expect("lambda_http accepts the event")
}

/// Sets a header in `headers` and, in a REST API event, `multiValueHeaders`, replacing
/// any of the same name whatever its case.
fn set_header(event: &mut Value, name: &str, value: &str) {
    for (field, value) in [("headers", json!(value)), ("multiValueHeaders", json!([value]))] {
        if let Some(headers) = event[field].as_object_mut() {
            let key = headers.keys().find(|key| key.eq_ignore_ascii_case(name)).cloned();
            headers.insert(key.unwrap_or_else(|| name.to_owned()), value);
        }
    }
}

/// Sets the body as API Gateway sends it: text, or base64 with `isBase64Encoded`.
fn set_body(event: &mut Value, body: &[u8], base64: bool) {
    event["body"] = if base64 { json!(BASE64.encode(body)) } else { json!(std::str::from_utf8(body).unwrap()) };
    event["isBase64Encoded"] = json!(base64);
    set_header(event, "content-length", &body.len().to_string());
}

fn whatsapp_body(wamid: &str) -> String {
    whatsapp::testing::notification(
        "messages",
        whatsapp::testing::text_message(wamid, "5511999998888", "Olá / tudo bem?", 1_764_590_400),
    )
}

/// A WhatsApp event from `fixture` with `body`, signed over `signed_body`.
fn whatsapp_event(fixture: &str, signed_body: &str, body: &str, base64: bool) -> lambda_http::Request {
    event(fixture, |event| {
        set_header(event, "x-hub-signature-256", &whatsapp::signature::sign(APP_SECRET, signed_body.as_bytes()));
        set_body(event, body.as_bytes(), base64);
    })
}

/// A Twilio event from `fixture`: the form and signature `signed_form` makes for `url`.
fn twilio_event(fixture: &str, url: &str, params: &twilio::testing::Params, base64: bool) -> lambda_http::Request {
    let (parts, body) = twilio::testing::signed_form(AUTH_TOKEN, url, params).into_parts();
    event(fixture, |event| {
        set_header(event, "x-twilio-signature", parts.headers["x-twilio-signature"].to_str().unwrap());
        set_body(event, &body, base64);
    })
}

async fn stored(storage: &MemoryEventLog) -> Vec<EventDetail> {
    let mut details = Vec::new();
    for record in storage.list_events(&EventFilter::default()).await.unwrap() {
        details.push(storage.event(record.id).await.unwrap().unwrap());
    }
    details
}

fn text(response: &Response<Body>) -> &str {
    match response.body() {
        Body::Text(text) => text,
        other => panic!("expected a text body, got {other:?}"),
    }
}

#[tokio::test]
async fn rest_api_text_body_signed_is_stored_once_tampered_is_refused() {
    let (receiver, storage) = build_receiver(Some(REST_API_ORIGIN), "");
    let body = whatsapp_body("wamid.rest");

    let request = whatsapp_event(REST_WHATSAPP, &body, &body, false);
    // lambda_http puts the stage in the URI; the event's `path` has none.
    assert_eq!(request.uri().path(), "/prod/webhooks/whatsapp");
    let response = callhook_lambda::handle(&receiver, request).await;
    assert_eq!(response.status(), 200);
    let events = stored(&storage).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].delivery.path, "/webhooks/whatsapp");
    assert_eq!(events[0].delivery.body, body.as_bytes(), "the exact bytes Meta signed");

    // Delivered again: acknowledged, still stored once.
    let response = callhook_lambda::handle(&receiver, whatsapp_event(REST_WHATSAPP, &body, &body, false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(stored(&storage).await.len(), 1);

    let tampered = body.replace("wamid.rest", "wamid.forged");
    let response = callhook_lambda::handle(&receiver, whatsapp_event(REST_WHATSAPP, &body, &tampered, false)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(stored(&storage).await.len(), 1);
}

#[tokio::test]
async fn http_api_base64_body_with_a_named_stage_is_decoded_and_routed_without_the_stage() {
    let (receiver, storage) = build_receiver(None, "");
    let body = whatsapp_body("wamid.http");

    let request = whatsapp_event(HTTP_WHATSAPP, &body, &body, true);
    assert_eq!(request.uri().path(), "/prod/webhooks/whatsapp");
    let response = callhook_lambda::handle(&receiver, request).await;
    assert_eq!(response.status(), 200);
    let events = stored(&storage).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].delivery.body, body.as_bytes());

    let tampered = body.replace("tudo bem", "tudo mal");
    let response = callhook_lambda::handle(&receiver, whatsapp_event(HTTP_WHATSAPP, &body, &tampered, true)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(stored(&storage).await.len(), 1);
}

#[tokio::test]
async fn whatsapp_verification_challenge_in_the_raw_query_is_echoed() {
    let (receiver, storage) = build_receiver(None, "");
    let response = callhook_lambda::handle(&receiver, event(HTTP_WHATSAPP_VERIFICATION, |_| {})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(text(&response), "1158201444");
    assert!(stored(&storage).await.is_empty());

    let wrong_token = event(HTTP_WHATSAPP_VERIFICATION, |event| {
        event["rawQueryString"] = json!("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess");
    });
    assert_eq!(callhook_lambda::handle(&receiver, wrong_token).await.status(), 403);
}

#[tokio::test]
async fn function_url_twilio_incoming_call_is_answered_with_twiml_text() {
    let url = format!("{FUNCTION_URL_ORIGIN}/webhooks/twilio/incoming-call");
    let params = twilio::testing::incoming_call("CA5f0c1e2d3b4a59687766554433221100", "+5511999998888", "+15558675310");

    let (receiver, storage) = build_receiver(Some(FUNCTION_URL_ORIGIN), "");
    let request = twilio_event(FUNCTION_URL_TWILIO_INCOMING_CALL, &url, &params, true);
    let response = callhook_lambda::handle(&receiver, request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml; charset=utf-8");
    assert!(text(&response).contains("<Say>Thanks for calling.</Say>"), "{}", text(&response));
    assert_eq!(stored(&storage).await.len(), 1);

    // No public URL configured: refused, not rebuilt from the event's Host header.
    let (receiver, storage) = build_receiver(None, "");
    let request = twilio_event(FUNCTION_URL_TWILIO_INCOMING_CALL, &url, &params, true);
    assert_eq!(callhook_lambda::handle(&receiver, request).await.status(), 500);
    assert!(stored(&storage).await.is_empty());
}

#[tokio::test]
async fn twilio_behind_a_rest_api_stage_verifies_when_the_stage_is_kept() {
    // Twilio signs the URL it called, stage included.
    let url = format!("{REST_API_ORIGIN}/prod/webhooks/twilio/call-status");
    let params = twilio::testing::call_status(
        "CA5f0c1e2d3b4a59687766554433221100",
        "completed",
        3,
        time::OffsetDateTime::now_utc(),
    );

    // Default: routed on `/webhooks/...`, so the URL rebuilt lacks `/prod` and does not verify.
    let (receiver, storage) = build_receiver(Some(REST_API_ORIGIN), "");
    let request = twilio_event(REST_TWILIO_CALL_STATUS, &url, &params, false);
    assert_eq!(callhook_lambda::handle(&receiver, request).await.status(), 401);
    assert!(stored(&storage).await.is_empty());

    // Keeping the stage, with the paths mounted under it: verified and stored.
    let (receiver, storage) = build_receiver(Some(REST_API_ORIGIN), "/prod");
    let request = twilio_event(REST_TWILIO_CALL_STATUS, &url, &params, false);
    let options = Options::default().keep_stage(true);
    let response = callhook_lambda::handle_with(&receiver, &options, request).await;
    assert_eq!(response.status(), 200);
    let events = stored(&storage).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].delivery.path, "/prod/webhooks/twilio/call-status");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let (receiver, storage) = build_receiver(None, "");
    let big = "x".repeat(BODY_LIMIT + 1);
    for (fixture, base64) in [(REST_WHATSAPP, false), (HTTP_WHATSAPP, true)] {
        let response = callhook_lambda::handle(&receiver, whatsapp_event(fixture, &big, &big, base64)).await;
        assert_eq!(response.status(), 413);
        assert_eq!(text(&response), "body too large");
    }
    assert!(stored(&storage).await.is_empty());
}

#[tokio::test]
async fn unmounted_paths_are_not_found() {
    let (receiver, _) = build_receiver(None, "");
    let request = event(REST_WHATSAPP, |event| event["path"] = json!("/webhooks/unknown"));
    assert_eq!(callhook_lambda::handle(&receiver, request).await.status(), 404);
}
