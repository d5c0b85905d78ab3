//! Hostile input through the reference server, over real TCP on loopback, on a real
//! SQLite file: oversized and slow bodies, deeply nested JSON, invalid UTF-8, huge
//! forms, malformed and injected headers, replayed signatures and a flood of forgeries.
//! Each case checks the status, that nothing invalid was stored (through the admin
//! API), and that the server still accepts a valid signed webhook afterwards.
//!
//! Requests a normal client cannot write are hand-written HTTP/1.1 on a
//! `tokio::net::TcpStream`. The figures in `RELIABILITY.md` are printed by these tests
//! (`cargo test -p callhook-server --test hostile -- --nocapture`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use callhook::providers::twilio::FormParams;
use callhook::providers::{cloudtalk, retell, twilio, wavoip, whatsapp};
use callhook_server::config::Config;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADMIN: &str = "admin-token-for-hostile-tests";
const TWILIO_TOKEN: &str = "twilio-secret";
const RETELL_KEY: &str = "key_retell";
const META_SECRET: &str = "meta-secret";
const CLOUDTALK_TOKEN: &str = "cloudtalk-secret";
const WAVOIP_TOKEN: &str = "wavoip-secret";

const WHATSAPP: &str = "/webhooks/whatsapp";
const RETELL: &str = "/webhooks/retell/call-events";
const CLOUDTALK: &str = "/webhooks/cloudtalk";
const WAVOIP: &str = "/webhooks/wavoip";
const TWILIO_CALL_STATUS: &str = "/webhooks/twilio/call-status";
const TWILIO_MESSAGE_STATUS: &str = "/webhooks/twilio/message-status";
const TWILIO_INCOMING_MESSAGE: &str = "/webhooks/twilio/incoming-message";

/// The receiver's body limit, which the reference server keeps at the default.
const LIMIT: usize = callhook::receiver::DEFAULT_BODY_LIMIT;
/// The body timeout the test server is given (`CALLHOOK_BODY_TIMEOUT`; 30 s by default),
/// short so the slow-sender cases run quickly.
const BODY_TIMEOUT: Duration = Duration::from_secs(3);
/// The header read timeout the test server is given (`CALLHOOK_HEADER_TIMEOUT`).
const HEADER_TIMEOUT: Duration = Duration::from_secs(3);
/// A signature of the right shape that no secret produces.
const FORGED_HUB_SIGNATURE: &str = "sha256=0000000000000000000000000000000000000000000000000000000000000000";

/// A reference server on an ephemeral loopback port with every provider mounted.
struct Server {
    addr: SocketAddr,
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), String>>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let env: HashMap<&str, String> = [
        ("CALLHOOK_LISTEN", addr.to_string()),
        ("DATABASE_URL", dir.path().join("hostile.sqlite").display().to_string()),
        ("CALLHOOK_RECORDINGS_DIR", dir.path().join("recordings").display().to_string()),
        ("CALLHOOK_ADMIN_TOKEN", ADMIN.to_owned()),
        ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN.to_owned()),
        ("RETELL_API_KEY", RETELL_KEY.to_owned()),
        ("WHATSAPP_APP_SECRET", META_SECRET.to_owned()),
        ("WHATSAPP_VERIFY_TOKEN", "verify-me".to_owned()),
        ("CLOUDTALK_WEBHOOK_TOKEN", CLOUDTALK_TOKEN.to_owned()),
        ("WAVOIP_WEBHOOK_TOKEN", WAVOIP_TOKEN.to_owned()),
        ("CALLHOOK_BODY_TIMEOUT", BODY_TIMEOUT.as_secs_f64().to_string()),
        ("CALLHOOK_HEADER_TIMEOUT", HEADER_TIMEOUT.as_secs_f64().to_string()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(callhook_server::serve(config, listener, None, async {
        let _ = stopped.await;
    }));
    let server = Server { addr, base: format!("http://{addr}"), stop: Some(stop), task, _dir: dir };
    // Up and answering before the attack starts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reqwest::get(format!("{}/healthz", server.base)).await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "the server never became healthy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server
}

impl Server {
    /// Stops the server gracefully; it must not have died on the way.
    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        let served = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await.expect("stops in time");
        served.expect("the server task did not panic").expect("the server ran to a clean stop");
    }

    fn twilio_url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// A string no other request in this test binary uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}{}", SEQUENCE.fetch_add(1, Ordering::Relaxed))
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A valid signed WhatsApp status for `wamid` (one event once stored).
fn whatsapp_status_body(wamid: &str) -> String {
    whatsapp::testing::notification("messages", whatsapp::testing::statuses(&[(wamid, "delivered", now_unix())]))
}

async fn send_with(client: &reqwest::Client, base: &str, request: http::Request<Bytes>) -> reqwest::Response {
    let (parts, body) = request.into_parts();
    let mut builder = client.request(parts.method, format!("{base}{}", parts.uri.path_and_query().unwrap())).body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    builder.send().await.unwrap()
}

async fn send(base: &str, request: http::Request<Bytes>) -> reqwest::Response {
    send_with(&reqwest::Client::new(), base, request).await
}

async fn admin_get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(ADMIN).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every stored event matching `query` (e.g. `provider=retell`), newest first.
async fn events(base: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page_query = match before {
            Some(id) => format!("/api/events?limit=500&{query}&before={id}"),
            None => format!("/api/events?limit=500&{query}"),
        };
        let (status, page) = admin_get(base, &page_query).await;
        assert_eq!(status, 200, "{page}");
        all.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_i64() {
            Some(id) => before = Some(id),
            None => return all,
        }
    }
}

fn event_types(events: &[Value]) -> Vec<String> {
    let mut types: Vec<String> = events.iter().map(|e| e["event_type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    types
}

/// Sends a valid signed webhook and checks it is acknowledged and stored: the server
/// still serves. Returns the message id it used.
async fn assert_still_serves(server: &Server) -> String {
    let wamid = unique("wamid.probe-");
    let request = whatsapp::testing::signed(
        META_SECRET,
        WHATSAPP,
        &whatsapp_status_body(&wamid),
        time::OffsetDateTime::now_utc(),
    );
    let response = send(&server.base, request).await;
    assert_eq!(response.status(), 200, "a valid signed webhook is still accepted");
    let (status, message) = admin_get(&server.base, &format!("/api/messages/whatsapp/{wamid}")).await;
    assert_eq!((status, message["status"].as_str()), (200, Some("delivered")), "and stored: {message}");
    wamid
}

/// A response read off a raw connection.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    /// Interim (1xx) statuses received before the final one.
    interim: Vec<u16>,
    head: String,
    body: Vec<u8>,
}

/// Reads one final response (skipping and recording 1xx ones), within `within`.
async fn read_response(stream: &mut (impl AsyncRead + Unpin), within: Duration) -> Result<RawResponse, String> {
    let read = async {
        let mut buffer = Vec::new();
        let mut interim = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("not an HTTP response: {head:?}"))?;
                if (100..200).contains(&status) {
                    interim.push(status);
                    buffer.drain(..end + 4);
                    continue;
                }
                let length = head
                    .lines()
                    .filter_map(|line| line.split_once(':'))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buffer.len() >= end + 4 + length {
                    let body = buffer[end + 4..end + 4 + length].to_vec();
                    return Ok(RawResponse { status, interim, head, body });
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) => {
                    return Err(format!("closed after {} bytes: {:?}", buffer.len(), String::from_utf8_lossy(&buffer)));
                }
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                Err(error) => return Err(format!("{error} after {} bytes", buffer.len())),
            }
        }
    };
    tokio::time::timeout(within, read).await.unwrap_or_else(|_| Err(format!("no response within {within:?}")))
}

/// Whether the peer closes the connection within `within` (reading and discarding).
async fn closed_within(stream: &mut (impl AsyncRead + Unpin), within: Duration) -> bool {
    let mut sink = [0u8; 4096];
    let wait = async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, wait).await.is_ok()
}

/// A hand-written `POST` with `Connection: close`; `headers` are raw lines, each
/// ending in CRLF.
fn raw_post(path: &str, headers: &[u8], body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: hostile.test\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(headers);
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    request
}

/// Writes `request` on a fresh connection and reads the response.
async fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_response(&mut stream, Duration::from_secs(10)).await.unwrap()
}

/// Case 1: a declared or actual body over the 1 MiB limit is answered `413`, the
/// declared one before a byte of the body is read; a body at the limit still passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_413() {
    let server = start().await;

    // A Content-Length over the limit: the headers and 16 bytes, then nothing more.
    for declared in [LIMIT + 1, 2 * LIMIT, 1 << 40] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nContent-Type: application/json\r\n\
             X-Hub-Signature-256: {FORGED_HUB_SIGNATURE}\r\nContent-Length: {declared}\r\n\r\n{{\"object\":\"whats"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let response = read_response(&mut stream, Duration::from_secs(5)).await.unwrap_or_else(|error| {
            panic!("Content-Length {declared}: no 413 before the body was sent (the body timeout is {BODY_TIMEOUT:?}): {error}")
        });
        assert_eq!((response.status, &response.body[..]), (413, &b"body too large"[..]), "{declared}: {response:?}");
        println!("[oversized] Content-Length {declared}: 413 after {:?}", started.elapsed());
        assert!(closed_within(&mut stream, Duration::from_secs(5)).await, "the rest of the body is not awaited");
    }

    // The same with `Expect: 100-continue`: refused without inviting the body.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nX-Hub-Signature-256: {FORGED_HUB_SIGNATURE}\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        2 * LIMIT
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let response = read_response(&mut stream, Duration::from_secs(5)).await.unwrap();
    assert_eq!((response.status, response.interim.as_slice()), (413, &[][..]), "no 100 Continue: {response:?}");

    // A chunked body that grows past the limit: 413 once the limit is crossed.
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nX-Hub-Signature-256: {FORGED_HUB_SIGNATURE}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    const CHUNK: usize = 64 * 1024;
    let sent = tokio::spawn(async move {
        let mut chunk = format!("{CHUNK:x}\r\n").into_bytes();
        chunk.extend(std::iter::repeat_n(b' ', CHUNK));
        chunk.extend_from_slice(b"\r\n");
        let mut sent = 0usize;
        // A bound in case the server never answers (loopback buffers absorb megabytes,
        // so what was written says little about what the server read).
        while sent < 64 * LIMIT && writer.write_all(&chunk).await.is_ok() {
            sent += CHUNK;
        }
        sent
    });
    let response = read_response(&mut reader, Duration::from_secs(10)).await.unwrap();
    assert_eq!(response.status, 413, "{response:?}");
    assert!(closed_within(&mut reader, Duration::from_secs(5)).await, "the connection is closed after the 413");
    let sent = tokio::time::timeout(Duration::from_secs(5), sent).await.expect("writes fail once closed").unwrap();
    assert!(sent < 64 * LIMIT, "the writes failed: the connection is gone");
    println!("[oversized] chunked: 413; the client had written {} KiB when its writes failed", sent / 1024);

    // Controls: a valid chunked body and a valid body of exactly the limit are accepted.
    let wamid_chunked = unique("wamid.chunked-");
    let body = whatsapp_status_body(&wamid_chunked);
    let (first, rest) = body.split_at(body.len() / 2);
    let request = format!(
        "POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{first}\r\n{:x}\r\n{rest}\r\n0\r\n\r\n",
        whatsapp::signature::sign(META_SECRET, body.as_bytes()),
        first.len(),
        rest.len()
    );
    assert_eq!(exchange(server.addr, request.as_bytes()).await.status, 200, "a valid chunked body");
    let wamid_full = unique("wamid.full-");
    let mut body = whatsapp_status_body(&wamid_full);
    body.push_str(&" ".repeat(LIMIT - body.len()));
    assert_eq!(body.len(), LIMIT);
    let response =
        send(&server.base, whatsapp::testing::signed(META_SECRET, WHATSAPP, &body, time::OffsetDateTime::now_utc()))
            .await;
    assert_eq!(response.status(), 200, "a body of exactly the limit");

    let probe = assert_still_serves(&server).await;
    let stored = events(&server.base, "").await;
    assert_eq!(event_types(&stored), ["statuses.delivered"; 3], "only the valid ones: {stored:?}");
    for wamid in [&wamid_chunked, &wamid_full, &probe] {
        assert!(stored.iter().any(|e| e["event"]["message_id"] == **wamid), "{wamid} stored");
    }
    server.stop().await;
}

/// Case 2: slow senders. A body trickled or never sent is answered `408` after the body
/// timeout and the connection closed; headers never finished (or trickled) are cut off
/// after the header read timeout; meanwhile valid webhooks are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_slowly_or_never_gets_408_and_does_not_hold_up_others() {
    let server = start().await;
    let head = format!(
        "POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: {FORGED_HUB_SIGNATURE}\r\nContent-Length: 1000\r\n\r\n"
    );

    // Body trickled: one byte every 500 ms.
    let trickle = TcpStream::connect(server.addr).await.unwrap();
    let (mut trickle_reader, mut trickle_writer) = trickle.into_split();
    trickle_writer.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickler = tokio::spawn(async move {
        let mut sent = 0;
        while trickle_writer.write_all(b" ").await.is_ok() && sent < 999 {
            sent += 1;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        sent
    });
    // Body never sent.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    silent.write_all(head.as_bytes()).await.unwrap();
    // Headers never finished: 64 connections, one of them trickling header bytes.
    let mut unfinished = Vec::new();
    for _ in 0..64 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(format!("POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nX-Slow: ").as_bytes())
            .await
            .unwrap();
        unfinished.push(stream);
    }
    let header_trickler = {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(format!("POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nX-Slow: ").as_bytes())
            .await
            .unwrap();
        tokio::spawn(async move {
            for _ in 0..120 {
                if stream.write_all(b"a").await.is_err() {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            true
        })
    };

    // While all of that is held open, valid webhooks go through.
    assert_still_serves(&server).await;

    let upper = BODY_TIMEOUT + Duration::from_secs(15);
    let response = read_response(&mut trickle_reader, upper).await.unwrap();
    let trickle_elapsed = started.elapsed();
    assert_eq!(response.status, 408, "trickled body: {response:?}");
    assert!(trickle_elapsed >= BODY_TIMEOUT - Duration::from_secs(1), "not before the timeout: {trickle_elapsed:?}");
    assert!(closed_within(&mut trickle_reader, Duration::from_secs(5)).await, "closed after the 408");
    let trickled = tokio::time::timeout(Duration::from_secs(5), trickler).await.expect("writes fail once closed");
    let response = read_response(&mut silent, upper).await.unwrap();
    let silent_elapsed = started.elapsed();
    assert_eq!(response.status, 408, "body never sent: {response:?}");
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await, "closed after the 408");
    println!(
        "[slow] trickled body ({} bytes sent): 408 after {trickle_elapsed:?}; silent body: 408 after {silent_elapsed:?}",
        trickled.unwrap()
    );

    // Unfinished headers, after the header read timeout: all cut off, trickling or not.
    let mut still_open = 0;
    for stream in &mut unfinished {
        if !closed_within(stream, Duration::from_secs(2)).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "connections with unfinished headers still open after {:?}", started.elapsed());
    let header_trickler_cut = tokio::time::timeout(Duration::from_secs(5), header_trickler).await;
    assert_eq!(header_trickler_cut.ok().and_then(Result::ok), Some(false), "the header trickler was cut off");
    println!("[slow] 65 connections with unfinished headers: all closed by {:?}", started.elapsed());
    drop(unfinished);

    let probe = assert_still_serves(&server).await;
    let stored = events(&server.base, "").await;
    assert_eq!(stored.len(), 2, "only the two probes: {stored:?}");
    assert!(stored.iter().any(|e| e["event"]["message_id"] == probe.as_str()));
    server.stop().await;
}

/// Case 2, headers: a client that never finishes its headers is cut off after the
/// header read timeout (the server gives hyper a timer; `axum::serve` does not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_headers_are_cut_off() {
    let server = start().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(format!("POST {WHATSAPP} HTTP/1.1\r\nHost: hostile.test\r\nX-Slow: ").as_bytes()).await.unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut stream, HEADER_TIMEOUT + Duration::from_secs(5)).await,
        "a connection with unfinished headers is still open after {:?}",
        started.elapsed()
    );
    assert_still_serves(&server).await;
    server.stop().await;
}

/// Case 3: JSON nested 100,000 deep, with a valid signature or token, to each JSON
/// provider: no crash, always `200`, and a defined outcome per shape.
///
/// - Unclosed arrays, objects under unknown keys, and arrays where a model expects a
///   string: the body does not parse and is kept as a failed `callhook.unparsed`
///   placeholder (the designed outcome for a verified body that does not parse).
/// - Valid nesting in an event callhook does not model, which it keeps as JSON: the
///   conversion meets serde_json's recursion limit (128): a placeholder too.
/// - Valid nesting in a field a modeled event ignores: serde_json skips it without
///   recursing, so the event is stored, processed and shown like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_refused_or_kept_without_a_crash() {
    const DEPTH: usize = 100_000;
    let server = start().await;
    let unclosed = "[".repeat(DEPTH);
    let deep = format!("{}1{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let objects = format!("{}1{}", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH));
    let typed = |prefix: &str| format!("{prefix}{deep}}}");
    let with_deep = |body: String, after: &str| {
        assert!(body.contains(after), "{after} in {body}");
        body.replacen(after, &format!("{after},\"deep\":{deep}"), 1)
    };
    let signed = |provider: &str, body: &str| match provider {
        "whatsapp" => whatsapp::testing::signed(META_SECRET, WHATSAPP, body, time::OffsetDateTime::now_utc()),
        "retell" => retell::testing::signed(RETELL_KEY, RETELL, body, time::OffsetDateTime::now_utc()),
        "cloudtalk" => cloudtalk::testing::signed(CLOUDTALK_TOKEN, CLOUDTALK, body, time::OffsetDateTime::now_utc()),
        _ => wavoip::testing::signed(WAVOIP_TOKEN, WAVOIP, body, time::OffsetDateTime::now_utc()),
    };
    let providers = ["whatsapp", "retell", "cloudtalk", "wavoip"];

    // (shape, provider, body, stored as a placeholder)
    let mut cases: Vec<(&str, &str, String, bool)> = Vec::new();
    for provider in providers {
        cases.push(("unclosed arrays", provider, unclosed.clone(), true));
        cases.push(("objects under an unknown key", provider, objects.clone(), true));
    }
    let shape = "arrays where a string is expected";
    cases.push((shape, "whatsapp", typed(r#"{"object":"whatsapp_business_account","entry":"#), true));
    cases.push((shape, "retell", typed(r#"{"event":"call_started","call":"#), true));
    cases.push((shape, "cloudtalk", typed(r#"{"event":"call.started","data":"#), true));
    cases.push((shape, "wavoip", typed(r#"{"type":"CALL","action":"UPDATE","whatsapp_call_id":"#), true));
    let shape = "valid nesting in an unmodeled event";
    let change = format!(r#"{{"id":"1","changes":[{{"field":"deep_field","value":{deep}}}]}}"#);
    cases.push((shape, "whatsapp", format!(r#"{{"object":"whatsapp_business_account","entry":[{change}]}}"#), true));
    cases.push((shape, "retell", format!(r#"{{"event":"deep_event","deep":{deep}}}"#), true));
    cases.push((shape, "cloudtalk", format!(r#"{{"event":"deep.event","data":{{"id":7}},"deep":{deep}}}"#), true));
    cases.push((shape, "wavoip", format!(r#"{{"type":"DEEP","whatsapp_call_id":"7","deep":{deep}}}"#), true));
    let shape = "valid nesting in an ignored field";
    let wamid = unique("wamid.deep-");
    cases.push((shape, "whatsapp", with_deep(whatsapp_status_body(&wamid), r#""status":"delivered""#), false));
    let call_started =
        retell::testing::call_event("call_started", &unique("call_deep_"), "", time::OffsetDateTime::now_utc());
    cases.push((shape, "retell", with_deep(call_started, r#""call_type":"phone_call""#), false));
    let call_started = cloudtalk::testing::call_event("call.started", 3_000_001, time::OffsetDateTime::now_utc());
    cases.push((shape, "cloudtalk", with_deep(call_started, r#""status":"ringing""#), false));
    cases.push((
        shape,
        "wavoip",
        with_deep(wavoip::testing::call("3000002", "UPDATE", "ACTIVE", 1), r#""status":"ACTIVE""#),
        false,
    ));

    for (shape, provider, body, _) in &cases {
        assert!(body.len() < LIMIT);
        let (parts, _) = signed(provider, body).into_parts();
        let unsigned = http::Request::post(parts.uri.path()).body(Bytes::from(body.clone())).unwrap();
        assert_eq!(send(&server.base, unsigned).await.status(), 401, "{provider}, {shape}, unsigned");
        let started = Instant::now();
        let response = send(&server.base, signed(provider, body)).await;
        assert_eq!(response.status(), 200, "{provider}, {shape}");
        println!("[nested] {provider}, {shape} ({} KB): 200 in {:?}", body.len() / 1000, started.elapsed());
    }

    let stored = events(&server.base, "").await;
    assert_eq!(stored.len(), cases.len(), "one event per body: {:?}", event_types(&stored));
    for event in &stored {
        let id = event["id"].as_i64().unwrap();
        let (status, detail) = admin_get(&server.base, &format!("/api/events/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(detail["delivery"]["verification"], "verified");
        let kept = detail["delivery"]["body_text"].as_str().unwrap();
        let (shape, provider, _, placeholder) = cases
            .iter()
            .find(|(_, provider, body, _)| event["provider"] == *provider && body == kept)
            .expect("the body is kept exactly");
        if *placeholder {
            assert_eq!(
                (event["event_type"].as_str(), event["status"].as_str()),
                (Some("callhook.unparsed"), Some("failed"))
            );
            assert!(event["event"].is_null(), "{event}");
            let parse_error = detail["delivery"]["parse_error"].as_str().expect("a parse error is recorded");
            if *shape == "valid nesting in an unmodeled event" {
                assert!(parse_error.contains("recursion limit exceeded"), "{provider}: {parse_error}");
            }
            println!("[nested] {provider}, {shape}: placeholder, {parse_error}");
        } else {
            assert_ne!(event["event_type"], "callhook.unparsed", "{provider}, {shape}");
            assert!(detail["delivery"]["parse_error"].is_null());
            println!("[nested] {provider}, {shape}: stored as {}", event["event_type"]);
        }
    }

    // The parsed ones are processed like any other event.
    let deadline = Instant::now() + Duration::from_secs(20);
    while events(&server.base, "status=processed").await.len() < 4 {
        assert!(Instant::now() < deadline, "not processed: {:?}", events(&server.base, "status=pending").await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The same nested body again: deduplicated (the placeholder's key is the body's hash).
    let again = send(&server.base, signed("whatsapp", &unclosed)).await;
    assert_eq!(again.status(), 200);
    assert_still_serves(&server).await;
    let stored = events(&server.base, "").await;
    assert_eq!(stored.len(), cases.len() + 1, "the events and the probe: {:?}", event_types(&stored));
    server.stop().await;
}

/// Case 4: bodies that are not UTF-8. Unsigned or wrongly signed: `401`, nothing
/// stored. Signed: JSON providers keep a failed `callhook.unparsed` placeholder with
/// the exact bytes; Twilio's form decoding replaces invalid bytes (U+FFFD) and parses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_bodies() {
    use base64::Engine as _;
    let server = start().await;
    let json_body: &[u8] = b"{\"object\":\"whatsapp_business_account\",\"entry\":[\"\xff\xfe\xc3\x28\"]}";
    let bytes = Bytes::from_static(json_body);

    // Refused: no signature, a forged one, a wrong token.
    let refused: Vec<(&str, http::Request<Bytes>)> = vec![
        ("whatsapp unsigned", http::Request::post(WHATSAPP).body(bytes.clone()).unwrap()),
        (
            "whatsapp forged",
            http::Request::post(WHATSAPP)
                .header("x-hub-signature-256", FORGED_HUB_SIGNATURE)
                .body(bytes.clone())
                .unwrap(),
        ),
        ("retell unsigned", http::Request::post(RETELL).body(bytes.clone()).unwrap()),
        ("cloudtalk unsigned", http::Request::post(CLOUDTALK).body(bytes.clone()).unwrap()),
        (
            "cloudtalk wrong token",
            http::Request::post(CLOUDTALK).header("authorization", "Bearer nope").body(bytes.clone()).unwrap(),
        ),
        ("wavoip unsigned", http::Request::post(WAVOIP).body(bytes.clone()).unwrap()),
        (
            "twilio unsigned",
            http::Request::post(TWILIO_INCOMING_MESSAGE)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Bytes::from_static(b"Body=\xff\xfe&MessageSid=SMbad"))
                .unwrap(),
        ),
    ];
    for (what, request) in refused {
        assert_eq!(send(&server.base, request).await.status(), 401, "{what}");
    }
    assert!(events(&server.base, "").await.is_empty(), "nothing stored for refused requests");

    // Signed over the raw bytes: verified, kept as a placeholder.
    let now = time::OffsetDateTime::now_utc();
    let signed = [
        (
            "whatsapp",
            http::Request::post(WHATSAPP)
                .header(whatsapp::signature::SIGNATURE_HEADER, whatsapp::signature::sign(META_SECRET, json_body))
                .body(bytes.clone())
                .unwrap(),
        ),
        (
            "retell",
            http::Request::post(RETELL)
                .header(retell::signature::SIGNATURE_HEADER, retell::signature::sign(RETELL_KEY, json_body, now))
                .body(bytes.clone())
                .unwrap(),
        ),
        (
            "cloudtalk",
            http::Request::post(CLOUDTALK)
                .header("authorization", format!("Bearer {CLOUDTALK_TOKEN}"))
                .body(bytes.clone())
                .unwrap(),
        ),
        ("wavoip", http::Request::post(format!("{WAVOIP}?token={WAVOIP_TOKEN}")).body(bytes.clone()).unwrap()),
    ];
    for (provider, request) in signed {
        assert_eq!(send(&server.base, request).await.status(), 200, "{provider}");
    }
    let placeholders = events(&server.base, "type=callhook.unparsed").await;
    assert_eq!(placeholders.len(), 4, "{placeholders:?}");
    for placeholder in &placeholders {
        assert_eq!(placeholder["status"], "failed");
        let (_, detail) = admin_get(&server.base, &format!("/api/events/{}", placeholder["id"])).await;
        let kept =
            base64::engine::general_purpose::STANDARD.decode(detail["delivery"]["body_base64"].as_str().unwrap());
        assert_eq!(kept.unwrap(), json_body, "the exact bytes are kept");
        assert!(detail["delivery"]["body_text"].is_null(), "not shown as text");
        println!("[utf8] {} placeholder: {}", placeholder["provider"], detail["delivery"]["parse_error"]);
    }

    // Twilio: the signature is over the decoded parameters, as Twilio computes it.
    let url = server.twilio_url(TWILIO_INCOMING_MESSAGE);
    let sid = unique("SMutf8");
    let form = format!("AccountSid=AC1&Body=caf\u{e9}+&From=%2B1555&MessageSid={sid}&To=%2B1666&SmsStatus=received");
    let mut body = form.into_bytes();
    body.extend_from_slice(b"&Note=\xff\xfe");
    let signature = twilio::signature::sign(TWILIO_TOKEN, &url, &FormParams::parse(&body));
    let request = http::Request::post(TWILIO_INCOMING_MESSAGE)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(twilio::signature::SIGNATURE_HEADER, signature)
        .body(Bytes::from(body))
        .unwrap();
    let response = send(&server.base, request).await;
    assert_eq!(response.status(), 200);
    let twilio_events = events(&server.base, "provider=twilio").await;
    assert_eq!(event_types(&twilio_events), ["incoming-message"], "parsed, invalid bytes replaced");
    println!("[utf8] twilio form with 0xFF 0xFE: 200, parsed as incoming-message");

    assert_still_serves(&server).await;
    assert_eq!(events(&server.base, "").await.len(), 6, "4 placeholders, the Twilio message, the probe");
    server.stop().await;
}

/// Case 5: 100,000 form parameters (400 KB, within the limit) to Twilio: a wrong
/// signature is refused quickly; a right one is accepted and parsed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_form_parameters() {
    let server = start().await;
    let url = server.twilio_url(TWILIO_CALL_STATUS);
    let sid = unique("CAmany");
    let mut params = twilio::testing::call_status(&sid, "completed", 7, time::OffsetDateTime::now_utc());
    params.extend(std::iter::repeat_n(("a".to_owned(), "1".to_owned()), 100_000));
    let request = twilio::testing::signed_form(TWILIO_TOKEN, &url, &params);
    let body = request.body().clone();
    assert!(body.len() < LIMIT, "{} bytes", body.len());

    let forged = twilio::testing::signed_form("not-the-token", &url, &params);
    let started = Instant::now();
    assert_eq!(send(&server.base, forged).await.status(), 401);
    let refused_in = started.elapsed();
    assert!(refused_in < Duration::from_secs(10), "refused in {refused_in:?}");

    let started = Instant::now();
    assert_eq!(send(&server.base, request).await.status(), 200);
    let accepted_in = started.elapsed();
    println!(
        "[form] {} params, {} KB: wrong signature 401 in {refused_in:?}; right signature 200 in {accepted_in:?}",
        params.len(),
        body.len() / 1000
    );

    // Distinct names too (sorting 100,000 keys for the signature).
    let distinct: Vec<(String, String)> = (0..100_000).map(|i| (format!("p{i}"), "1".to_owned())).collect();
    let forged = twilio::testing::signed_form("not-the-token", &url, &distinct);
    assert!(forged.body().len() < LIMIT);
    assert_eq!(send(&server.base, forged).await.status(), 401);
    let unparsable = twilio::testing::signed_form(TWILIO_TOKEN, &url, &distinct);
    assert_eq!(send(&server.base, unparsable).await.status(), 200, "verified; no CallSid: a placeholder");

    assert_still_serves(&server).await;
    let stored = events(&server.base, "").await;
    assert_eq!(event_types(&stored), ["call-status.completed", "callhook.unparsed", "statuses.delivered"]);
    let call = stored.iter().find(|e| e["event_type"] == "call-status.completed").unwrap();
    assert_eq!(call["event"]["call_id"], sid.as_str());
    server.stop().await;
}

/// Case 6: CR/LF, obs-fold, NUL, duplicate signature headers, overlong and too many
/// headers: hyper's `400`/`431` or the receiver's `401`; nothing stored; nothing
/// injected is echoed in response headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_injection_and_malformed_headers() {
    let server = start().await;
    let url = server.twilio_url(TWILIO_CALL_STATUS);
    let sid = unique("CAinject");
    let valid = twilio::testing::signed_form(
        TWILIO_TOKEN,
        &url,
        &twilio::testing::call_status(&sid, "ringing", 1, time::OffsetDateTime::now_utc()),
    );
    let body = valid.body().clone();
    let signature = valid.headers()[twilio::signature::SIGNATURE_HEADER].to_str().unwrap().to_owned();
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";

    let overlong = "A".repeat(100 * 1024);
    let too_long = "A".repeat(1024 * 1024);
    let many: String = (0..200).map(|i| format!("X-Many-{i}: {i}\r\n")).collect();
    let cases: Vec<(&str, String, u16)> = vec![
        ("CRLF in the value: a second header", "X-Twilio-Signature: abc\r\nX-Evil: injected\r\n".to_owned(), 401),
        ("bare CR in the value", "X-Twilio-Signature: abc\rX-Evil: injected\r\n".to_owned(), 400),
        ("bare LF ends the line", "X-Twilio-Signature: abc\nX-Evil: injected\r\n".to_owned(), 401),
        ("obs-fold continuation", "X-Twilio-Signature: abc\r\n X-Evil: injected\r\n".to_owned(), 400),
        ("obs-fold of the valid signature", format!("X-Twilio-Signature: {signature}\r\n\tX-Evil: injected\r\n"), 400),
        ("NUL in the value", "X-Twilio-Signature: abc\0X-Evil: injected\r\n".to_owned(), 400),
        ("NUL in the name", format!("X-Twilio\0-Signature: {signature}\r\n"), 400),
        ("duplicate, forged first", format!("X-Twilio-Signature: abc\r\nX-Twilio-Signature: {signature}\r\n"), 401),
        ("100 KiB signature", format!("X-Twilio-Signature: {overlong}\r\n"), 401),
        ("1 MiB header", format!("X-Twilio-Signature: {signature}\r\nX-Pad: {too_long}\r\n"), 431),
        ("200 headers", format!("X-Twilio-Signature: {signature}\r\n{many}"), 431),
        ("space before the colon", format!("X-Twilio-Signature : {signature}\r\n"), 400),
    ];
    for (what, headers, expected) in &cases {
        let request = raw_post(TWILIO_CALL_STATUS, format!("{form}{headers}").as_bytes(), &body);
        let response = exchange(server.addr, &request).await;
        assert_eq!(response.status, *expected, "{what}: {response:?}");
        let echoed = response.head.to_ascii_lowercase();
        assert!(!echoed.contains("evil") && !echoed.contains("injected"), "{what} echoed: {}", response.head);
        println!("[headers] {what}: {}", response.status);
    }
    assert!(events(&server.base, "").await.is_empty(), "nothing stored");

    // A duplicate after a valid signature: the first value is the one checked, and it
    // is genuine, so the (unaltered) body is accepted, once.
    let headers = format!("{form}X-Twilio-Signature: {signature}\r\nX-Twilio-Signature: abc\r\n");
    let response = exchange(server.addr, &raw_post(TWILIO_CALL_STATUS, headers.as_bytes(), &body)).await;
    assert_eq!(response.status, 200, "{response:?}");
    // A 100 KiB header beside a valid signature is within hyper's buffer: accepted.
    let headers = format!("{form}X-Twilio-Signature: {signature}\r\nX-Pad: {overlong}\r\n");
    let response = exchange(server.addr, &raw_post(TWILIO_CALL_STATUS, headers.as_bytes(), &body)).await;
    assert_eq!(response.status, 200, "{response:?}");
    let stored = events(&server.base, "").await;
    assert_eq!(event_types(&stored), ["call-status.ringing"], "the genuine callback, deduplicated");

    // WhatsApp duplicates: forged first is refused.
    let wamid = unique("wamid.dup-");
    let body = whatsapp_status_body(&wamid);
    let genuine = whatsapp::signature::sign(META_SECRET, body.as_bytes());
    let headers = format!("X-Hub-Signature-256: {FORGED_HUB_SIGNATURE}\r\nX-Hub-Signature-256: {genuine}\r\n");
    let response = exchange(server.addr, &raw_post(WHATSAPP, headers.as_bytes(), body.as_bytes())).await;
    assert_eq!(response.status, 401, "{response:?}");

    // The handshake echoes the challenge in the body only, as text/plain.
    let challenge = "x\r\nX-Evil: injected\r\n\r\n<script>";
    let response = send(&server.base, whatsapp::testing::handshake(WHATSAPP, "verify-me", challenge)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().keys().all(|name| !name.as_str().contains("evil")), "{:?}", response.headers());
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(response.text().await.unwrap(), challenge);

    assert_still_serves(&server).await;
    assert_eq!(events(&server.base, "").await.len(), 2, "the Twilio callback and the probe");
    server.stop().await;
}

/// Case 7: a Retell signature 6 minutes old (or ahead) is refused; a valid request
/// replayed inside the 5-minute window is acknowledged again and stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_retell_signatures() {
    let server = start().await;
    let call_id = unique("call_replay_");
    let body = retell::testing::call_event("call_started", &call_id, "", time::OffsetDateTime::now_utc());
    let now = time::OffsetDateTime::now_utc();
    for (what, at) in
        [("6 minutes old", now - time::Duration::minutes(6)), ("6 minutes ahead", now + time::Duration::minutes(6))]
    {
        let stale = retell::testing::signed(RETELL_KEY, RETELL, &body, at);
        assert_eq!(send(&server.base, stale).await.status(), 401, "{what}");
    }
    assert!(events(&server.base, "").await.is_empty(), "stale signatures store nothing");

    // 4 minutes old is inside the window; then the same bytes three more times.
    let signed = retell::testing::signed(RETELL_KEY, RETELL, &body, now - time::Duration::minutes(4));
    for attempt in 0..4 {
        assert_eq!(send(&server.base, signed.clone()).await.status(), 200, "attempt {attempt}");
    }
    let stored = events(&server.base, "provider=retell").await;
    assert_eq!(event_types(&stored), ["call_started"], "stored once: {stored:?}");
    assert_eq!(stored[0]["event"]["call_id"], call_id.as_str());

    assert_still_serves(&server).await;
    server.stop().await;
}

/// Case 8: 5,000 forged requests over 32 connections while valid ones are sent: every
/// forgery `401` and none stored, every valid request `200` and stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_forged_signatures_does_not_crowd_out_valid_webhooks() {
    const FORGED: usize = 5_000;
    const CONNECTIONS: usize = 32;
    const VALID_PER_PROVIDER: usize = 50;
    let server = start().await;
    let base = server.base.clone();
    let started = Instant::now();

    let mut flood = Vec::new();
    for connection in 0..CONNECTIONS {
        let base = base.clone();
        flood.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            for n in (connection..FORGED).step_by(CONNECTIONS) {
                let id = format!("forged{n}");
                let request = match n % 5 {
                    0 => whatsapp::testing::signed(
                        "not-the-secret",
                        WHATSAPP,
                        &whatsapp_status_body(&id),
                        time::OffsetDateTime::now_utc(),
                    ),
                    1 => retell::testing::signed(
                        "key_forged",
                        RETELL,
                        &retell::testing::call_event("call_started", &id, "", time::OffsetDateTime::now_utc()),
                        time::OffsetDateTime::now_utc(),
                    ),
                    2 => twilio::testing::signed_form(
                        "not-the-token",
                        &format!("{base}{TWILIO_MESSAGE_STATUS}"),
                        &twilio::testing::message_status(&id, "delivered"),
                    ),
                    3 => cloudtalk::testing::signed(
                        "not-the-token",
                        CLOUDTALK,
                        &cloudtalk::testing::call_event(
                            "call.started",
                            1_000_000 + n as u64,
                            time::OffsetDateTime::now_utc(),
                        ),
                        time::OffsetDateTime::now_utc(),
                    ),
                    _ => wavoip::testing::signed(
                        "not-the-token",
                        WAVOIP,
                        &wavoip::testing::call(&id, "UPDATE", "ACTIVE", 1),
                        time::OffsetDateTime::now_utc(),
                    ),
                };
                *statuses.entry(send_with(&client, &base, request).await.status().as_u16()).or_default() += 1;
            }
            statuses
        }));
    }

    let mut valid = Vec::new();
    for provider in ["whatsapp", "retell", "twilio", "cloudtalk"] {
        let base = base.clone();
        valid.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut sent = Vec::new();
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            for n in 0..VALID_PER_PROVIDER {
                let (id, request) = match provider {
                    "whatsapp" => {
                        let id = format!("wamid.valid{n}");
                        (
                            id.clone(),
                            whatsapp::testing::signed(
                                META_SECRET,
                                WHATSAPP,
                                &whatsapp_status_body(&id),
                                time::OffsetDateTime::now_utc(),
                            ),
                        )
                    }
                    "retell" => {
                        let id = format!("call_valid{n}");
                        let body =
                            retell::testing::call_event("call_started", &id, "", time::OffsetDateTime::now_utc());
                        (id, retell::testing::signed(RETELL_KEY, RETELL, &body, time::OffsetDateTime::now_utc()))
                    }
                    "twilio" => {
                        let id = format!("SMvalid{n}");
                        let url = format!("{base}{TWILIO_MESSAGE_STATUS}");
                        let params = twilio::testing::message_status(&id, "delivered");
                        (id, twilio::testing::signed_form(TWILIO_TOKEN, &url, &params))
                    }
                    _ => {
                        let id = 2_000_000 + n as u64;
                        let body = cloudtalk::testing::call_event("call.started", id, time::OffsetDateTime::now_utc());
                        (
                            id.to_string(),
                            cloudtalk::testing::signed(
                                CLOUDTALK_TOKEN,
                                CLOUDTALK,
                                &body,
                                time::OffsetDateTime::now_utc(),
                            ),
                        )
                    }
                };
                *statuses.entry(send_with(&client, &base, request).await.status().as_u16()).or_default() += 1;
                sent.push(id);
            }
            (provider, sent, statuses, started.elapsed())
        }));
    }

    let mut flood_statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for connection in flood {
        for (status, count) in connection.await.unwrap() {
            *flood_statuses.entry(status).or_default() += count;
        }
    }
    let flood_elapsed = started.elapsed();
    let mut valid_sent = Vec::new();
    let mut valid_statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut valid_done = Duration::ZERO;
    for sender in valid {
        let (provider, ids, statuses, done) = sender.await.unwrap();
        for (status, count) in statuses {
            *valid_statuses.entry(status).or_default() += count;
        }
        valid_done = valid_done.max(done);
        valid_sent.extend(ids.into_iter().map(|id| (provider, id)));
    }
    assert_eq!(flood_statuses, BTreeMap::from([(401, FORGED)]), "every forgery refused");
    assert_eq!(valid_statuses, BTreeMap::from([(200, valid_sent.len())]), "every valid request acknowledged");

    let stored = events(&base, "").await;
    assert_eq!(stored.len(), valid_sent.len(), "only the valid requests are stored: {:?}", event_types(&stored));
    assert!(stored.iter().all(|e| !e["dedupe_key"].as_str().unwrap().contains("forged")), "no forgery stored");
    for (provider, id) in &valid_sent {
        assert!(
            stored
                .iter()
                .any(|e| e["provider"] == *provider && e["dedupe_key"].as_str().unwrap().contains(id.as_str())),
            "{provider} {id} stored"
        );
    }
    println!(
        "[flood] {FORGED} forged over {CONNECTIONS} connections + {} valid: forged {flood_statuses:?} in \
         {flood_elapsed:?} ({:.0} req/s); valid {valid_statuses:?}, all sent by {valid_done:?}; stored {}",
        valid_sent.len(),
        FORGED as f64 / flood_elapsed.as_secs_f64(),
        stored.len()
    );

    assert_still_serves(&server).await;
    server.stop().await;
}
