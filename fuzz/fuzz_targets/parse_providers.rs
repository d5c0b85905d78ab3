//! Every provider's parser on arbitrary bytes: no panic, whatever the input. The first
//! byte picks the provider (and, for Twilio, the endpoint).
#![no_main]

use bytes::Bytes;
use callhook::provider::{Provider, WebhookRequest};
use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use libfuzzer_sys::fuzz_target;

const TWILIO_PATHS: [&str; 6] = [
    "/t/incoming-call",
    "/t/call-status",
    "/t/recording-status",
    "/t/message-status",
    "/t/incoming-message",
    "/t/other",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    match selector % 6 {
        0 => drop(whatsapp::normalize::events(body)),
        1 => drop(retell::normalize::events(body)),
        2 => drop(cloudtalk::normalize::events(body)),
        3 => drop(wavoip::normalize::events(body)),
        _ => {
            let path = TWILIO_PATHS[usize::from(selector / 6) % TWILIO_PATHS.len()];
            let request = http::Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Bytes::copy_from_slice(body))
                .unwrap();
            let view = WebhookRequest::new(&request, time::OffsetDateTime::UNIX_EPOCH, Some("https://crm.example.com"));
            let twilio = twilio::Twilio::new("token");
            let parsed = twilio.parse(&view);
            let _ = twilio.reply(&view, parsed.as_deref().unwrap_or_default());
        }
    }
});
