//! What the fuzz targets share: one parser and one verifier check per provider.
//! Each `fuzz_targets/*.rs` is one line calling into here, so every provider has its own
//! target (and corpus) without repeating the checks.

use arbitrary::Arbitrary;
use bytes::Bytes;
use callhook::provider::{Provider, WebhookRequest};
use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use time::OffsetDateTime;

/// The origin Twilio signs in these checks.
const ORIGIN: &str = "https://crm.example.com";
const TWILIO_PATHS: [&str; 6] =
    ["/t/incoming-call", "/t/call-status", "/t/recording-status", "/t/message-status", "/t/incoming-message", "/t/other"];

/// A provider under test.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// Twilio (forms).
    Twilio,
    /// WhatsApp Business.
    WhatsApp,
    /// Retell AI.
    Retell,
    /// CloudTalk.
    CloudTalk,
    /// WaVoIP.
    WaVoip,
}

/// The provider's parser (and, for Twilio, its reply) on arbitrary bytes: no panic.
/// For Twilio the first byte picks the endpoint.
pub fn parse(target: Target, data: &[u8]) {
    match target {
        Target::WhatsApp => drop(whatsapp::normalize::events(data)),
        Target::Retell => drop(retell::normalize::events(data)),
        Target::CloudTalk => drop(cloudtalk::normalize::events(data)),
        Target::WaVoip => drop(wavoip::normalize::events(data)),
        Target::Twilio => {
            let Some((&selector, body)) = data.split_first() else { return };
            let path = TWILIO_PATHS[usize::from(selector) % TWILIO_PATHS.len()];
            let request = http::Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Bytes::copy_from_slice(body))
                .unwrap();
            let view = WebhookRequest::new(&request, OffsetDateTime::UNIX_EPOCH, Some(ORIGIN));
            let twilio = twilio::Twilio::new("token");
            let parsed = twilio.parse(&view);
            let _ = twilio.reply(&view, parsed.as_deref().unwrap_or_default());
        }
    }
}

/// An arbitrary request to a verifier.
#[derive(Arbitrary, Debug)]
pub struct VerifyInput {
    /// The signature or token header as sent.
    pub header: String,
    /// The query string.
    pub query: String,
    /// The body.
    pub body: Vec<u8>,
    /// Form parameters (Twilio's signed variant).
    pub params: Vec<(String, String)>,
    /// Seconds since 2026-01-01 (Retell's signing time).
    pub at: u32,
}

fn provider(target: Target) -> (Box<dyn Provider>, &'static str) {
    match target {
        Target::Twilio => (Box::new(twilio::Twilio::new("twilio-token")), "x-twilio-signature"),
        Target::WhatsApp => (
            Box::new(whatsapp::WhatsApp::builder().app_secret("secret").verify_token("verify").build()),
            "x-hub-signature-256",
        ),
        Target::Retell => (Box::new(retell::Retell::builder().api_key("key").build()), "x-retell-signature"),
        Target::CloudTalk => (Box::new(cloudtalk::CloudTalk::builder().bearer_token("token").build()), "authorization"),
        Target::WaVoip => (Box::new(wavoip::WaVoip::builder().token("token").build()), "authorization"),
    }
}

fn verifies(provider: &dyn Provider, request: &http::Request<Bytes>, at: OffsetDateTime) -> bool {
    provider.verify(&WebhookRequest::new(request, at, Some(ORIGIN))).is_ok()
}

/// The provider's verification on an arbitrary request: no panic, and nothing verifies
/// by accident; then the same body correctly signed: it always verifies (no body, form
/// or query is too odd for the verifier to accept its genuine signature).
pub fn verify(target: Target, input: VerifyInput) {
    let (provider, header_name) = provider(target);
    let query = input.query.replace(['#', ' '], "");
    let mut forged = http::Request::post(format!("/hook?{query}").as_str());
    if let Ok(value) = http::HeaderValue::from_str(&input.header) {
        forged = forged.header(header_name, value);
    }
    let at = OffsetDateTime::from_unix_timestamp(1_767_225_600 + i64::from(input.at)).unwrap();
    if let Ok(request) = forged.body(Bytes::from(input.body.clone())) {
        assert!(!verifies(&*provider, &request, at), "an arbitrary request verified");
        let _ = provider.handshake(&WebhookRequest::new(&request, at, Some(ORIGIN)));
    }

    // To Twilio (and its SDK) a URL carrying `bodySHA256` announces a JSON body whose
    // hash it holds: a form sent to such a URL is not a genuine form request, and is
    // rightly refused. (Found by this target; the input is kept in its seeds.)
    if matches!(target, Target::Twilio) && query.contains("bodySHA256") {
        return;
    }
    let text = String::from_utf8_lossy(&input.body);
    let genuine = match target {
        Target::Twilio => {
            let url = format!("{ORIGIN}/hook?{}", uri_safe_query(&query));
            twilio::testing::signed_form("twilio-token", &url, &input.params)
        }
        Target::WhatsApp => whatsapp::testing::signed("secret", "/hook", &text),
        Target::Retell => retell::testing::signed("key", "/hook", &text, at),
        Target::CloudTalk => cloudtalk::testing::authorized("token", "/hook", &text),
        Target::WaVoip => wavoip::testing::with_token("token", "/hook", &text),
    };
    assert!(verifies(&*provider, &genuine, at), "a genuinely signed request was refused");
}

/// `query` with every byte outside the URL-safe set percent-encoded, so that it survives
/// as a URI (what a provider would send).
fn uri_safe_query(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'=' | b'&' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
