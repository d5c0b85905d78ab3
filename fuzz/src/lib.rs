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
        Target::WhatsApp => whatsapp::testing::signed("secret", "/hook", &text, time::OffsetDateTime::now_utc()),
        Target::Retell => retell::testing::signed("key", "/hook", &text, at),
        Target::CloudTalk => cloudtalk::testing::signed("token", "/hook", &text, time::OffsetDateTime::now_utc()),
        Target::WaVoip => wavoip::testing::signed("token", "/hook", &text, time::OffsetDateTime::now_utc()),
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

/// An arbitrary request to any registered provider's verifier
/// ([`callhook::providers::all`]): new providers are fuzzed without a target of their own.
#[derive(Arbitrary, Debug)]
pub struct RegisteredInput {
    /// Picks the provider.
    pub provider: u8,
    /// Picks the header the forged value goes in (one of the genuine request's).
    pub header: u8,
    /// The forged header's value.
    pub value: String,
    /// The body.
    pub body: Vec<u8>,
    /// Seconds since 2026-01-01 (the signing time).
    pub at: u32,
}

fn registered(index: u8) -> (&'static callhook::providers::Registration, std::sync::Arc<dyn Provider>, String) {
    let all = callhook::providers::all();
    let registration = all[usize::from(index) % all.len()];
    let mount = (registration.mount)(&(registration.test_settings)()).expect("test settings mount the provider");
    let path = mount.paths.first().cloned().unwrap_or_else(|| "/hook".to_owned());
    (registration, mount.provider, path)
}

/// Any registered provider's parser (and reply) on arbitrary bytes at its first path:
/// no panic. The first byte picks the provider.
pub fn parse_registered(data: &[u8]) {
    let Some((&index, body)) = data.split_first() else { return };
    let (_, provider, path) = registered(index);
    let request = http::Request::post(path.as_str()).body(Bytes::copy_from_slice(body)).unwrap();
    let view = WebhookRequest::new(&request, OffsetDateTime::UNIX_EPOCH, Some(ORIGIN));
    let parsed = provider.parse(&view);
    let _ = provider.reply(&view, parsed.as_deref().unwrap_or_default());
}

/// Any registered provider's verifier: its genuinely signed request for an arbitrary
/// body verifies; the same request with one of its headers (but the content type)
/// replaced by another value does not. (Whether the body is covered depends on the
/// scheme: the token-based ones do not sign it.)
pub fn verify_registered(input: RegisteredInput) {
    let (registration, provider, path) = registered(input.provider);
    let at = OffsetDateTime::from_unix_timestamp(1_767_225_600 + i64::from(input.at)).unwrap();
    let text = String::from_utf8_lossy(&input.body).into_owned();
    let url = format!("{ORIGIN}{path}");
    let genuine = (registration.sign)(&(registration.test_settings)(), &url, &text, at);
    assert!(verifies(&*provider, &genuine, at), "a genuinely signed request was refused");

    let (parts, body) = genuine.into_parts();
    let names: Vec<_> = parts.headers.keys().cloned().collect();
    if let (Some(name), Ok(value)) =
        (names.get(usize::from(input.header) % names.len().max(1)), http::HeaderValue::from_str(&input.value))
        && parts.headers.get(name) != Some(&value)
    {
        let mut forged = http::Request::from_parts(parts, body);
        forged.headers_mut().insert(name.clone(), value);
        // Headers a provider does not check (the content type) may change freely.
        if name != http::header::CONTENT_TYPE {
            assert!(!verifies(&*provider, &forged, at), "a request with a forged {name} header verified");
        }
    }
}
