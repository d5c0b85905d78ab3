//! Every provider's signature or token check on arbitrary headers and bodies: no
//! panic, and nothing verifies by accident.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use callhook::provider::{Provider, WebhookRequest};
use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    provider: u8,
    header: String,
    query: String,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let providers: [Box<dyn Provider>; 5] = [
        Box::new(twilio::Twilio::new("twilio-token")),
        Box::new(whatsapp::WhatsApp::builder().app_secret("secret").verify_token("verify").build()),
        Box::new(retell::Retell::builder().api_key("key").build()),
        Box::new(cloudtalk::CloudTalk::builder().bearer_token("token").build()),
        Box::new(wavoip::WaVoip::builder().token("token").build()),
    ];
    let provider = &providers[usize::from(input.provider) % providers.len()];
    let header_name =
        ["x-twilio-signature", "x-hub-signature-256", "x-retell-signature", "authorization", "authorization"]
            [usize::from(input.provider) % 5];
    let mut builder = http::Request::post(format!("/hook?{}", input.query.replace(['#', ' '], "")).as_str());
    if let Ok(value) = http::HeaderValue::from_str(&input.header) {
        builder = builder.header(header_name, value);
    }
    let Ok(request) = builder.body(Bytes::from(input.body)) else { return };
    let view = WebhookRequest::new(&request, time::OffsetDateTime::UNIX_EPOCH, Some("https://crm.example.com"));
    assert!(provider.verify(&view).is_err(), "an arbitrary request verified");
    let _ = provider.handshake(&view);
});
