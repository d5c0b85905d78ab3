//! The adapter over real HTTP on loopback: raw bodies reach the signature check,
//! limits and handshakes work, forwarded headers are used only when trusted.

use std::sync::Arc;

use callhook::providers::{twilio, whatsapp};
use callhook::{EventLog, MemoryEventLog, MemoryJobQueue, Receiver};
use callhook_axum::Options;

async fn serve(options: Options, public_base_url: Option<&str>) -> (String, Arc<MemoryEventLog>) {
    let storage = Arc::new(MemoryEventLog::new());
    let twilio = Arc::new(twilio::Twilio::new("twilio-token"));
    let mut builder = Receiver::builder()
        .mount("/webhooks/twilio/call-status", twilio.clone())
        .mount("/webhooks/whatsapp", Arc::new(whatsapp::WhatsApp::builder().app_secret("s").verify_token("v").build()))
        .event_log(storage.clone())
        .job_queue(Arc::new(MemoryJobQueue::new()))
        .body_limit(64 * 1024);
    if let Some(url) = public_base_url {
        builder = builder.public_base_url(url);
    }
    let app: axum::Router = callhook_axum::router_with(builder.build().unwrap(), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), storage)
}

fn events(storage: &MemoryEventLog) -> usize {
    futures_lite(storage.list_events(&Default::default())).unwrap().len()
}

fn futures_lite<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

async fn send(base: &str, request: http::Request<bytes::Bytes>) -> reqwest::Response {
    let (parts, body) = request.into_parts();
    let client = reqwest::Client::new();
    let mut builder = client.request(parts.method, format!("{base}{}", parts.uri)).body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    builder.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_are_accepted_and_tampered_ones_refused() {
    let (base, storage) = serve(Options::default(), None).await;
    let body = whatsapp::testing::notification(
        "messages",
        whatsapp::testing::text_message("wamid.1", "5511999998888", "Olá / tudo bem?", 1_764_590_400),
    );
    let response =
        send(&base, whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(events(&storage), 1);

    let (parts, _) =
        whatsapp::testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()).into_parts();
    let tampered = http::Request::from_parts(parts, bytes::Bytes::from(body.replace("wamid.1", "wamid.2")));
    assert_eq!(send(&base, tampered).await.status(), 401);
    assert_eq!(events(&storage), 1);

    let challenge = send(&base, whatsapp::testing::handshake("/webhooks/whatsapp", "v", "8675309")).await;
    assert_eq!(challenge.status(), 200);
    assert_eq!(challenge.text().await.unwrap(), "8675309");

    let big = http::Request::post("/webhooks/whatsapp").body(bytes::Bytes::from(vec![b'x'; 100 * 1024])).unwrap();
    assert_eq!(send(&base, big).await.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_urls_come_from_configuration_or_trusted_forwarded_headers() {
    let params = twilio::testing::call_status("CA1", "completed", 3, time::OffsetDateTime::now_utc());
    let public = "https://crm.example.com/webhooks/twilio/call-status";

    let (base, _) = serve(Options::default(), Some("https://crm.example.com")).await;
    assert_eq!(send(&base, twilio::testing::signed_form("twilio-token", public, &params)).await.status(), 200);

    // Without a configured URL the forwarded headers are ignored unless trusted.
    let forwarded = |request: http::Request<bytes::Bytes>| {
        let (mut parts, body) = request.into_parts();
        parts.headers.insert("x-forwarded-proto", "https".parse().unwrap());
        parts.headers.insert("x-forwarded-host", "crm.example.com".parse().unwrap());
        http::Request::from_parts(parts, body)
    };
    let (base, _) = serve(Options::default(), None).await;
    let request = forwarded(twilio::testing::signed_form("twilio-token", public, &params));
    assert_eq!(send(&base, request).await.status(), 500, "no public URL configured, none guessed");

    let (base, storage) = serve(Options::default().trust_forwarded_headers(true), None).await;
    let request = forwarded(twilio::testing::signed_form("twilio-token", public, &params));
    assert_eq!(send(&base, request).await.status(), 200);
    assert_eq!(events(&storage), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_finishes_gets_408_not_a_stuck_task() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (base, storage) = serve(Options::default().body_timeout(std::time::Duration::from_millis(200)), None).await;
    let mut socket = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    socket
        .write_all(b"POST /webhooks/whatsapp HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"object\":")
        .await
        .unwrap();
    let mut answer = vec![0u8; 64];
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut answer)).await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&answer[..read])
    );
    assert_eq!(events(&storage), 0);
}
