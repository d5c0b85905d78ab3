//! The whole Receiver with every provider mounted, on arbitrary method, path, headers
//! and body: no panic, bounded work, and nothing unverified is ever stored.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use bytes::Bytes;
use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use callhook::event_log::{EventFilter, MemoryEventLog, EventLog};
use callhook::{MemoryJobQueue, Receiver};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    path: u8,
    query: String,
    headers: Vec<(u8, String)>,
    body: Vec<u8>,
}

const PATHS: [&str; 9] = [
    "/webhooks/twilio/incoming-call",
    "/webhooks/twilio/call-status",
    "/webhooks/whatsapp",
    "/webhooks/retell/call-events",
    "/webhooks/cloudtalk",
    "/webhooks/wavoip",
    "/webhooks/unknown",
    "/",
    "/webhooks/twilio/message-status",
];
const HEADERS: [&str; 8] = [
    "content-type",
    "content-length",
    "x-twilio-signature",
    "x-hub-signature-256",
    "x-retell-signature",
    "authorization",
    "i-twilio-idempotency-token",
    "host",
];
const METHODS: [&str; 4] = ["POST", "GET", "PUT", "DELETE"];

fuzz_target!(|input: Input| {
    let storage = Arc::new(MemoryEventLog::new());
    let twilio = Arc::new(twilio::Twilio::new("twilio-token"));
    let receiver = Receiver::builder()
        .public_base_url("https://crm.example.com")
        .mount(PATHS[0], twilio.clone())
        .mount(PATHS[1], twilio.clone())
        .mount(PATHS[8], twilio)
        .mount(PATHS[2], Arc::new(whatsapp::WhatsApp::builder().app_secret("s").verify_token("v").build()))
        .mount(PATHS[3], Arc::new(retell::Retell::builder().api_key("k").build()))
        .mount(PATHS[4], Arc::new(cloudtalk::CloudTalk::builder().bearer_token("t").build()))
        .mount(PATHS[5], Arc::new(wavoip::WaVoip::builder().token("t").build()))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .body_limit(64 * 1024)
        .build()
        .unwrap();
    let path = PATHS[usize::from(input.path) % PATHS.len()];
    let uri = format!("{path}?{}", input.query.replace(['#', ' '], ""));
    let mut builder =
        http::Request::builder().method(METHODS[usize::from(input.method) % METHODS.len()]).uri(uri.as_str());
    for (name, value) in &input.headers {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            builder = builder.header(HEADERS[usize::from(*name) % HEADERS.len()], value);
        }
    }
    let Ok(request) = builder.body(Bytes::from(input.body)) else { return };
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let response = runtime.block_on(receiver.handle(request));
    let stored = runtime.block_on(storage.list_events(&EventFilter::default())).unwrap();
    assert!(
        response.status().is_success() || stored.is_empty(),
        "a refused request stored events: {}",
        response.status()
    );
    // Arbitrary bytes cannot carry a valid HMAC, and the tokens are not guessable by
    // chance, except the one-letter test tokens: only those routes may store.
    if !stored.is_empty() {
        assert!(path == PATHS[4] || path == PATHS[5], "stored through {path}");
    }
});
