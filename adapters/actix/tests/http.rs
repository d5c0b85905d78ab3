//! The adapter over real HTTP on loopback: raw bodies reach the signature check,
//! the receiver's body limit (not actix's) applies, handshakes and TwiML replies work,
//! forwarded headers are used only when trusted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use bytes::Bytes;
use callhook::providers::twilio::model::IncomingCall;
use callhook::providers::twilio::twiml::{Say, VoiceResponse};
use callhook::providers::{twilio, whatsapp};
use callhook::{EventLog, MemoryEventLog, MemoryJobQueue, Receiver};
use callhook_actix::Options;

const TWILIO_TOKEN: &str = "twilio-token";
const PUBLIC_BASE: &str = "https://crm.example.com";

/// A receiver with Twilio at two paths and WhatsApp at one, over `storage`.
fn receiver(storage: &Arc<MemoryEventLog>, public_base_url: Option<&str>, body_limit: Option<usize>) -> Receiver {
    let twilio = Arc::new(
        twilio::Twilio::builder()
            .auth_token(TWILIO_TOKEN)
            .on_incoming_call(|call: &IncomingCall<'_>| {
                VoiceResponse::new().verb(Say::new(format!("Hello {}", call.call.from.unwrap_or("caller"))))
            })
            .build(),
    );
    let whatsapp = Arc::new(whatsapp::WhatsApp::builder().app_secret("s").verify_token("v").build());
    let mut builder = Receiver::builder()
        .mount("/webhooks/twilio/incoming-call", twilio.clone())
        .mount("/webhooks/twilio/call-status", twilio)
        .mount("/webhooks/whatsapp", whatsapp)
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()));
    if let Some(url) = public_base_url {
        builder = builder.public_base_url(url);
    }
    if let Some(limit) = body_limit {
        builder = builder.body_limit(limit);
    }
    builder.build().unwrap()
}

/// A real actix-web server on an ephemeral loopback port.
struct Server {
    base: String,
    address: SocketAddr,
    handle: ServerHandle,
}

impl Server {
    async fn start(receiver: Receiver, options: Options) -> Self {
        let server = HttpServer::new(move || {
            App::new().configure(callhook_actix::configure_with(receiver.clone(), options.clone()))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
        let address = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Server { base: format!("http://{address}"), address, handle }
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn events(storage: &MemoryEventLog) -> usize {
    storage.list_events(&Default::default()).await.unwrap().len()
}

async fn send(base: &str, request: http::Request<Bytes>) -> reqwest::Response {
    let (parts, body) = request.into_parts();
    let client = reqwest::Client::new();
    let mut builder = client.request(parts.method, format!("{base}{}", parts.uri)).body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    builder.send().await.unwrap()
}

/// Sends `request` by hand with `Transfer-Encoding: chunked`, `chunk` bytes a chunk, and
/// returns the response status. Blocking is fine: the server runs on its own threads.
fn send_chunked(address: SocketAddr, request: http::Request<Bytes>, chunk: usize) -> u16 {
    let (parts, body) = request.into_parts();
    let mut raw = format!("{} {} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n", parts.method, parts.uri);
    raw += "transfer-encoding: chunked\r\n";
    for (name, value) in &parts.headers {
        raw += &format!("{name}: {}\r\n", value.to_str().unwrap());
    }
    raw += "\r\n";
    let mut raw = raw.into_bytes();
    for piece in body.chunks(chunk) {
        raw.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        raw.extend_from_slice(piece);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(&raw).unwrap();
    let mut response = Vec::new();
    // The status line is all we need; a reset after it is not an error here.
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    response
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("no response: {response}"))
}

fn whatsapp_text(wamid: &str, text: &str) -> String {
    whatsapp::testing::notification(
        "messages",
        whatsapp::testing::text_message(wamid, "5511999998888", text, 1_764_590_400),
    )
}

#[actix_web::test]
async fn signed_requests_are_accepted_once_and_tampered_ones_refused() {
    let storage = Arc::new(MemoryEventLog::new());
    let server = Server::start(receiver(&storage, None, Some(64 * 1024)), Options::default()).await;
    let body = whatsapp_text("wamid.1", "Olá / tudo bem?");
    let response = send(
        &server.base,
        whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(events(&storage).await, 1);

    // Meta redelivers: acknowledged again, stored once.
    let response = send(
        &server.base,
        whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(events(&storage).await, 1);

    let (parts, _) =
        whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()).into_parts();
    let tampered = http::Request::from_parts(parts, Bytes::from(body.replace("wamid.1", "wamid.2")));
    assert_eq!(send(&server.base, tampered).await.status(), 401);
    assert_eq!(events(&storage).await, 1);

    let challenge = send(&server.base, whatsapp::testing::handshake("/webhooks/whatsapp", "v", "8675309")).await;
    assert_eq!(challenge.status(), 200);
    assert_eq!(challenge.text().await.unwrap(), "8675309");

    let big = http::Request::post("/webhooks/whatsapp").body(Bytes::from(vec![b'x'; 100 * 1024])).unwrap();
    assert_eq!(send(&server.base, big).await.status(), 413);
    assert_eq!(events(&storage).await, 1);

    let nowhere = http::Request::post("/webhooks/unknown").body(Bytes::new()).unwrap();
    assert_eq!(send(&server.base, nowhere).await.status(), 404, "only the receiver's paths are routed");
    server.stop().await;
}

#[actix_web::test]
async fn the_receivers_default_limit_applies_not_actix_payload_config() {
    let storage = Arc::new(MemoryEventLog::new());
    let server = Server::start(receiver(&storage, None, None), Options::default()).await;

    // 600 KiB: over actix's 256 KiB extractor default, under the receiver's 1 MiB.
    let body = whatsapp_text("wamid.big", &"a".repeat(600 * 1024));
    let response = send(
        &server.base,
        whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(events(&storage).await, 1);

    let body = whatsapp_text("wamid.huge", &"a".repeat(callhook::receiver::DEFAULT_BODY_LIMIT));
    let response = send(
        &server.base,
        whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()),
    )
    .await;
    assert_eq!(response.status(), 413);
    assert_eq!(events(&storage).await, 1);
    server.stop().await;
}

#[actix_web::test]
async fn chunked_bodies_arrive_exactly_and_are_bounded_while_streaming() {
    let storage = Arc::new(MemoryEventLog::new());
    let server = Server::start(receiver(&storage, None, Some(1024)), Options::default()).await;
    let address = server.address;

    // No Content-Length: the body is joined from many chunks and must match the signature.
    let body = whatsapp_text("wamid.chunked", "in pieces");
    assert!(body.len() < 1024);
    let request = whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc());
    let status = actix_web::rt::task::spawn_blocking(move || send_chunked(address, request, 64)).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(events(&storage).await, 1);

    // Over the limit with nothing declared up front: refused once the chunks pass it.
    let request = http::Request::post("/webhooks/whatsapp").body(Bytes::from(vec![b'x'; 2048])).unwrap();
    let status = actix_web::rt::task::spawn_blocking(move || send_chunked(address, request, 512)).await.unwrap();
    assert_eq!(status, 413);
    assert_eq!(events(&storage).await, 1);
    server.stop().await;
}

#[actix_web::test]
async fn twilio_incoming_calls_are_answered_with_twiml() {
    let storage = Arc::new(MemoryEventLog::new());
    let server = Server::start(receiver(&storage, Some(PUBLIC_BASE), None), Options::default()).await;
    let params = twilio::testing::incoming_call("CA00000000000000000000000000000001", "+15551230000", "+15557650000");
    let url = format!("{PUBLIC_BASE}/webhooks/twilio/incoming-call");
    let response = send(&server.base, twilio::testing::signed_form(TWILIO_TOKEN, &url, &params)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml; charset=utf-8");
    let twiml = response.text().await.unwrap();
    assert!(twiml.contains("<Response><Say>Hello +15551230000</Say></Response>"), "{twiml}");
    assert_eq!(events(&storage).await, 1);
    server.stop().await;
}

#[actix_web::test]
async fn twilio_urls_come_from_configuration_or_trusted_forwarded_headers() {
    let params = twilio::testing::call_status("CA1", "completed", 3, time::OffsetDateTime::now_utc());
    let public = format!("{PUBLIC_BASE}/webhooks/twilio/call-status");
    let forwarded = |request: http::Request<Bytes>, host: &str| {
        let (mut parts, body) = request.into_parts();
        parts.headers.insert("x-forwarded-proto", "https".parse().unwrap());
        parts.headers.insert("x-forwarded-host", host.parse().unwrap());
        http::Request::from_parts(parts, body)
    };

    let storage = Arc::new(MemoryEventLog::new());
    let server = Server::start(receiver(&storage, Some(PUBLIC_BASE), None), Options::default()).await;
    assert_eq!(send(&server.base, twilio::testing::signed_form(TWILIO_TOKEN, &public, &params)).await.status(), 200);
    server.stop().await;

    // Without a configured URL the forwarded headers are ignored unless trusted.
    let storage = Arc::new(MemoryEventLog::new());
    let server = Server::start(receiver(&storage, None, None), Options::default()).await;
    let request = forwarded(twilio::testing::signed_form(TWILIO_TOKEN, &public, &params), "crm.example.com");
    assert_eq!(send(&server.base, request).await.status(), 500, "no public URL configured, none guessed");
    assert_eq!(events(&storage).await, 0);
    server.stop().await;

    let storage = Arc::new(MemoryEventLog::new());
    let server = Server::start(receiver(&storage, None, None), Options::default().trust_forwarded_headers(true)).await;
    let request = forwarded(twilio::testing::signed_form(TWILIO_TOKEN, &public, &params), "crm.example.com");
    assert_eq!(send(&server.base, request).await.status(), 200);
    assert_eq!(events(&storage).await, 1);
    server.stop().await;

    // Trusted forwarded headers never override a configured public URL.
    let storage = Arc::new(MemoryEventLog::new());
    let trusting = Options::default().trust_forwarded_headers(true);
    let server = Server::start(receiver(&storage, Some(PUBLIC_BASE), None), trusting).await;
    let request = forwarded(twilio::testing::signed_form(TWILIO_TOKEN, &public, &params), "evil.example.net");
    assert_eq!(send(&server.base, request).await.status(), 200);
    let spoofed = "https://evil.example.net/webhooks/twilio/call-status";
    let request = forwarded(twilio::testing::signed_form(TWILIO_TOKEN, spoofed, &params), "evil.example.net");
    assert_eq!(send(&server.base, request).await.status(), 401);
    assert_eq!(events(&storage).await, 1);
    server.stop().await;
}
