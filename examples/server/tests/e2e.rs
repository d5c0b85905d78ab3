//! The reference server end to end over real HTTP on loopback, on a real SQLite file:
//! signed samples of every provider are accepted, processed and visible through the
//! admin API; unsigned and tampered requests are refused; the admin API refuses a
//! missing or wrong token; health, metrics, OpenAPI and the live stream answer; the
//! server shuts down gracefully.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use callhook::providers::{twilio, whatsapp};
use callhook_server::config::Config;
use serde_json::{Value, json};

const ADMIN: &str = "admin-token-for-tests";

struct Running {
    base: String,
    config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), String>>,
    _dir: tempfile::TempDir,
}

async fn start(vars: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut env: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    env.insert("CALLHOOK_LISTEN".into(), address.to_string());
    env.insert("DATABASE_URL".into(), dir.path().join("e2e.sqlite").display().to_string());
    env.insert("CALLHOOK_RECORDINGS_DIR".into(), dir.path().join("recordings").display().to_string());
    let config = Config::from_lookup(|name| env.get(name).cloned()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = metrics_handle();
    let server = tokio::spawn(callhook_server::serve(config.clone(), listener, Some(metrics), async {
        let _ = stopped.await;
    }));
    Running { base: format!("http://{address}"), config, stop: Some(stop), server, _dir: dir }
}

/// The process-wide Prometheus recorder (the `metrics` facade allows one).
fn metrics_handle() -> metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE.get_or_init(|| metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().unwrap()).clone()
}

const ALL_PROVIDERS: [(&str, &str); 8] = [
    ("TWILIO_AUTH_TOKEN", "twilio-secret"),
    ("RETELL_API_KEY", "key_retell"),
    ("WHATSAPP_APP_SECRET", "meta-secret"),
    ("WHATSAPP_VERIFY_TOKEN", "verify-me"),
    ("CLOUDTALK_WEBHOOK_TOKEN", "cloudtalk-secret"),
    ("WAVOIP_WEBHOOK_TOKEN", "wavoip-secret"),
    ("CALLHOOK_ADMIN_TOKEN", ADMIN),
    ("RUST_LOG", "warn"),
];

async fn admin_get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(ADMIN).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn send(base: &str, request: http::Request<bytes::Bytes>) -> reqwest::Response {
    let (parts, body) = request.into_parts();
    let mut builder = reqwest::Client::new()
        .request(parts.method, format!("{base}{}", parts.uri.path_and_query().unwrap()))
        .body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    builder.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_end_to_end() {
    let mut server = start(&ALL_PROVIDERS).await;
    let base = server.base.clone();

    // Every provider's signed samples are accepted.
    let sent = callhook_server::samples::send(&base, &server.config).await.unwrap();
    let providers: std::collections::HashSet<_> = sent.iter().map(|s| s.provider).collect();
    assert_eq!(providers.len(), 5, "{sent:?}");
    assert!(sent.iter().all(|s| s.status == 200), "{sent:?}");

    // They are processed and listed, newest first.
    // Twilio 10, WhatsApp 6 (one per status in the batch), Retell 3, CloudTalk 3, WaVoIP 5,
    // and the recordings of Twilio's, Retell's and WaVoIP's sample calls, downloaded from
    // the server's own sample recordings.
    let expected_events = 30;
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let (status, page) = admin_get(&base, "/api/events?limit=500").await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().unwrap().clone();
        if events.len() >= expected_events && events.iter().all(|e| e["status"] == "processed") {
            break events;
        }
        assert!(Instant::now() < deadline, "not all processed: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(events.len(), expected_events, "{events:?}");
    let stored: Vec<_> = events.iter().filter(|e| e["event_type"] == "callhook.recording.stored").collect();
    let mut providers: Vec<_> = stored.iter().map(|e| e["provider"].as_str().unwrap()).collect();
    providers.sort_unstable();
    assert_eq!(providers, ["retell", "twilio", "wavoip"], "{stored:?}");
    for event in stored {
        let location = event["event"]["recording"]["stored"]["location"].as_str().unwrap();
        let audio = std::fs::read(location).unwrap();
        assert!(audio.starts_with(b"RIFF") || audio.starts_with(&[0xFF, 0xFB]), "{location} is audio");
    }
    assert!(events.windows(2).all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()));

    // Filters and pagination.
    let (_, twilio_page) = admin_get(&base, "/api/events?provider=twilio&limit=3").await;
    assert_eq!(twilio_page["events"].as_array().unwrap().len(), 3);
    assert!(twilio_page["events"].as_array().unwrap().iter().all(|e| e["provider"] == "twilio"));
    let before = twilio_page["next_before"].as_i64().expect("more pages");
    let (_, next) = admin_get(&base, &format!("/api/events?provider=twilio&limit=100&before={before}")).await;
    assert_eq!(next["events"].as_array().unwrap().len(), 8, "10 Twilio events and the stored recording in all");
    let (status, bad) = admin_get(&base, "/api/events?status=lost").await;
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("bad_request")));

    // One event with its original payload, byte for byte.
    let whatsapp_text = events.iter().find(|e| e["event_type"] == "messages.text").unwrap();
    let (status, detail) = admin_get(&base, &format!("/api/events/{}", whatsapp_text["id"])).await;
    assert_eq!(status, 200);
    let body = detail["delivery"]["body_text"].as_str().unwrap();
    assert!(body.contains("Ol\\u00e1") && body.contains("or\\u00e7amento"), "exactly as sent: {body}");
    assert_eq!(detail["delivery"]["verification"], "verified");
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 1);
    let (status, missing) = admin_get(&base, "/api/events/999999").await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("not_found")));

    // Folded state.
    let call_id = events.iter().find(|e| e["event_type"] == "call-status.completed").unwrap()["event"]["call_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, call) = admin_get(&base, &format!("/api/calls/twilio/{call_id}")).await;
    assert_eq!((status, call["status"].as_str()), (200, Some("completed")));
    let wamid = events.iter().find(|e| e["event_type"] == "statuses.read").unwrap()["event"]["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, message) = admin_get(&base, &format!("/api/messages/whatsapp/{wamid}")).await;
    assert_eq!(message["status"], "read", "read wins over the later sent and delivered");

    // Reprocessing, seen live on the stream.
    let mut stream = reqwest::Client::new().get(format!("{base}/api/stream")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let id = whatsapp_text["id"].as_i64().unwrap();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/events/{id}/reprocess"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    while !seen.contains(&format!("\"id\":{id}")) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk()).await.expect("an update").unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream open")));
    }
    assert!(seen.contains("event: update"), "{seen}");
    let (_, detail) = admin_get(&base, &format!("/api/events/{id}")).await;
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 2, "history kept");

    // Refusals: unsigned, tampered, wrong admin token.
    let unsigned = reqwest::Client::new().post(format!("{base}/webhooks/whatsapp")).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let body = whatsapp::testing::notification("messages", whatsapp::testing::statuses(&[("wamid.T", "read", 1)]));
    let (parts, _) =
        whatsapp::testing::signed("meta-secret", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc())
            .into_parts();
    let tampered = http::Request::from_parts(parts, bytes::Bytes::from(body.replace("read", "sent")));
    assert_eq!(send(&base, tampered).await.status(), 401);
    for token in [None, Some("wrong")] {
        let mut request = reqwest::Client::new().get(format!("{base}/api/events"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "unauthorized");
    }

    // The WhatsApp handshake and Twilio's TwiML.
    let challenge = send(&base, whatsapp::testing::handshake("/webhooks/whatsapp", "verify-me", "42424242")).await;
    assert_eq!((challenge.status().as_u16(), challenge.text().await.unwrap()), (200, "42424242".to_owned()));
    let url = format!("{base}/webhooks/twilio/incoming-call");
    let call = send(
        &base,
        twilio::testing::signed_form("twilio-secret", &url, &twilio::testing::incoming_call("CAx", "+1", "+2")),
    )
    .await;
    assert_eq!(call.headers()["content-type"], "text/xml; charset=utf-8");
    let twiml = call.text().await.unwrap();
    assert!(twiml.starts_with("<?xml") && twiml.contains("<Response>"), "{twiml}");

    // Health, metrics, OpenAPI.
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("callhook_requests_total"), "{metrics}");
    let openapi: Value = reqwest::get(format!("{base}/api/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/events", "/api/events/{id}", "/api/events/{id}/reprocess", "/api/calls/{provider}/{id}"] {
        assert!(openapi["paths"][path].is_object(), "{path} documented");
    }

    // Graceful shutdown.
    drop(stream);
    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), &mut server.server).await.expect("stops").unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfigured_providers_are_not_mounted_and_the_api_is_off_without_a_token() {
    let server = start(&[("WHATSAPP_APP_SECRET", "meta-secret")]).await;
    let body = "Body=hi&From=%2B1&MessageSid=SM1";
    let twilio = reqwest::Client::new().post(format!("{}/webhooks/twilio/incoming-message", server.base)).body(body);
    assert_eq!(twilio.send().await.unwrap().status(), 404, "no TWILIO_AUTH_TOKEN: nothing at the path");
    let response = reqwest::get(format!("{}/api/events", server.base)).await.unwrap();
    assert_eq!(response.status(), 403);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "api_disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_mode_processes_what_another_receiver_stored() {
    use callhook::EventLog;
    use callhook::event_log::{NewDelivery, NewEvent};
    use callhook::job_queue::{JobQueue, NewJob};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.sqlite");
    // A receiver elsewhere (say, a Lambda) stored an event and its job.
    let id = {
        let store = callhook_sqlite::SqliteStore::open(&db).await.unwrap();
        let acme = callhook::event::ProviderId::from_static("acme");
        let event = callhook::Event::Unmodeled(callhook::event::UnmodeledEvent::new(acme.clone(), "ping"));
        let delivery = NewDelivery::new(acme, "/webhooks/acme", time::OffsetDateTime::now_utc(), "{}");
        let id = store.append(delivery, vec![NewEvent::parsed("ping", "k", event)]).await.unwrap().events[0].id();
        store.schedule(NewJob::process_event(id, time::OffsetDateTime::now_utc())).await.unwrap();
        id
    };
    let path = db.display().to_string();
    let config = Config::from_lookup(|name| (name == "DATABASE_URL").then(|| path.clone())).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(callhook_server::work(config, async {
        let _ = stopped.await;
    }));
    let store = callhook_sqlite::SqliteStore::open(&db).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !store.event(id).await.unwrap().unwrap().event.processed() {
        assert!(Instant::now() < deadline, "the worker never processed the event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_recording_is_downloaded_and_shown_on_the_call() {
    // A local server plays WaVoIP's recording storage, allowed through CALLHOOK_RECORDING_HOSTS.
    let storage = axum::Router::new()
        .route("/rec/{id}", axum::routing::get(|| async { ([("content-type", "audio/mpeg")], "mp3 bytes") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, storage).await.unwrap() });
    let server =
        start(&[("WAVOIP_WEBHOOK_TOKEN", "wv"), ("CALLHOOK_ADMIN_TOKEN", ADMIN), ("CALLHOOK_RECORDING_HOSTS", &host)])
            .await;

    let body = serde_json::json!({
        "type": "RECORD", "action": "UPDATE", "whatsapp_call_id": 777, "record_status": "READY",
        "record_url": format!("http://{host}/rec/777"),
    });
    let request = callhook::providers::wavoip::testing::signed(
        "wv",
        "/webhooks/wavoip",
        &body.to_string(),
        time::OffsetDateTime::now_utc(),
    );
    assert_eq!(send(&server.base, request).await.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let call = loop {
        let (status, call) = admin_get(&server.base, "/api/calls/wavoip/777").await;
        if status == 200 && call["recording"]["stored"]["location"].is_string() {
            break call;
        }
        assert!(Instant::now() < deadline, "never stored: {call}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(call["recording"]["status"], "ready");
    assert_eq!(call["recording"]["stored"]["size_bytes"], 9);
    let location = call["recording"]["stored"]["location"].as_str().unwrap();
    assert_eq!(std::fs::read(location).unwrap(), b"mp3 bytes");
}

/// The dashboard's API surface without a browser: the session cookie (and its CSRF
/// header), counts, search, the confirmed bulk reprocess and its conflict, the raw body,
/// the timeline, the counters with rejections by reason, and the recorded actions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_api_with_a_session() {
    let server = start(&ALL_PROVIDERS).await;
    let base = server.base.clone();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // Login: the wrong token gets the form again with 401 and no cookie.
    let refused = client.post(format!("{base}/dashboard/login")).form(&[("token", "nope")]).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get("set-cookie").is_none());
    let page = client.get(format!("{base}/dashboard")).send().await.unwrap();
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert!(page.text().await.unwrap().contains("id=\"login\""), "the login form, not the dashboard");
    let login = client.post(format!("{base}/dashboard/login")).form(&[("token", ADMIN)]).send().await.unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = client.get(format!("{base}/dashboard")).header("cookie", &cookie).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("id=\"events\""), "the dashboard");
    let get = |path: &str| client.get(format!("{base}{path}")).header("cookie", &cookie).send();
    let forged = cookie.replace(|c: char| c.is_ascii_digit(), "9");
    let response = client.get(format!("{base}/api/events")).header("cookie", forged).send().await.unwrap();
    assert_eq!(response.status(), 401, "a forged session");

    // Traffic: the samples, a rejected signature and a duplicate.
    callhook_server::samples::send(&base, &server.config).await.unwrap();
    let body = whatsapp::testing::notification("messages", whatsapp::testing::statuses(&[("wamid.DUP", "read", 1)]));
    for _ in 0..2 {
        let ok = send(
            &base,
            whatsapp::testing::signed("meta-secret", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()),
        )
        .await;
        assert_eq!(ok.status(), 200);
    }
    let forged =
        whatsapp::testing::signed("other-secret", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc());
    assert_eq!(send(&base, forged).await.status(), 401);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let counts: Value = get("/api/events/count").await.unwrap().json().await.unwrap();
        if counts["total"].as_u64() >= Some(29) && counts["pending"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "not processed: {counts}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Counters: WhatsApp's duplicate and rejection (by reason) in the last minute.
    let stats: Value = get("/api/stats").await.unwrap().json().await.unwrap();
    let whatsapp = stats["providers"].as_array().unwrap().iter().find(|p| p["provider"] == "whatsapp").unwrap();
    assert_eq!(whatsapp["last_minute"]["requests"]["duplicates"], 1, "{whatsapp}");
    assert_eq!(whatsapp["last_minute"]["requests"]["rejected"]["bad_signature"], 1, "{whatsapp}");
    assert_eq!(whatsapp["last_minute"]["received"], 7, "6 samples and wamid.DUP once");
    assert_eq!(whatsapp["all_time"]["processed"], 7);

    // Search by part of an id, and a timeline.
    let found: Value = get("/api/events?q=wamid.DU").await.unwrap().json().await.unwrap();
    let found = found["events"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["subject"], "wamid.DUP");
    let timeline: Value = get("/api/timeline/wamid.DUP").await.unwrap().json().await.unwrap();
    assert_eq!(timeline["events"].as_array().unwrap().len(), 1);
    assert_eq!(timeline["messages"][0]["state"]["status"], "read");
    assert_eq!(get("/api/timeline/nothing-here").await.unwrap().status(), 404);

    // The raw body, byte for byte.
    let id = found[0]["id"].as_i64().unwrap();
    let raw = get(&format!("/api/events/{id}/body")).await.unwrap();
    assert!(raw.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(raw.bytes().await.unwrap(), body.as_bytes());

    // Changing things with a session needs the CSRF header.
    let post = |path: &str| client.post(format!("{base}{path}")).header("cookie", &cookie);
    assert_eq!(post(&format!("/api/events/{id}/reprocess")).send().await.unwrap().status(), 403);
    let response = post(&format!("/api/events/{id}/reprocess")).header("x-callhook-csrf", "1").send().await.unwrap();
    assert_eq!(response.status(), 200);

    // Bulk: a verified body that does not parse is stored failed; a confirmation of fewer
    // failed events than now match is refused, the right count goes through.
    let garbled = send(
        &base,
        whatsapp::testing::signed(
            "meta-secret",
            "/webhooks/whatsapp",
            "{\"entry\": [",
            time::OffsetDateTime::now_utc(),
        ),
    )
    .await;
    assert_eq!(garbled.status(), 200);
    let failed: Value = get("/api/events/count?provider=whatsapp&status=failed").await.unwrap().json().await.unwrap();
    assert_eq!(failed["failed"], 1, "{failed}");
    let bulk = |expected: u64| {
        post("/api/events/reprocess?provider=whatsapp")
            .header("x-callhook-csrf", "1")
            .json(&json!({ "expected": expected }))
            .send()
    };
    let stale = bulk(0).await.unwrap();
    assert_eq!(stale.status(), 409);
    let done: Value = bulk(1).await.unwrap().json().await.unwrap();
    assert_eq!(done["reprocessed"], 1, "{done}");

    // Both actions are in the event log, never scheduled to handlers.
    let actions: Value = get("/api/events?provider=callhook").await.unwrap().json().await.unwrap();
    let types: Vec<_> = actions["events"].as_array().unwrap().iter().map(|e| e["event_type"].clone()).collect();
    assert_eq!(types, [json!("callhook.admin.reprocess_matching"), json!("callhook.admin.reprocess")]);
    assert_eq!(actions["events"][0]["event"]["data"]["reprocessed"], 1);
    assert_eq!(actions["events"][0]["event"]["data"]["filter"]["provider"], "whatsapp");
    let action = &actions["events"][1];
    assert_eq!(action["status"], "processed");
    assert_eq!(action["event"]["data"]["event_id"], id);
    assert_eq!(action["event"]["data"]["previous_status"], "processed");

    // Logout clears the cookie.
    let logout = post("/dashboard/logout").send().await.unwrap();
    assert!(logout.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

/// A recording URL with credentials in it: stored as sent, shown by no API response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_a_recording_url_never_leave_the_api() {
    let server = start(&[("WAVOIP_WEBHOOK_TOKEN", "wv"), ("CALLHOOK_ADMIN_TOKEN", ADMIN)]).await;
    let body = serde_json::json!({
        "type": "RECORD", "action": "UPDATE", "whatsapp_call_id": "creds-1", "record_status": "READY",
        "record_url": "https://agent:hunter2@storage.wavoip.invalid/rec/creds-1",
    });
    let request = callhook::providers::wavoip::testing::signed(
        "wv",
        "/webhooks/wavoip",
        &body.to_string(),
        time::OffsetDateTime::now_utc(),
    );
    let mut stream =
        reqwest::Client::new().get(format!("{}/api/stream", server.base)).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(send(&server.base, request).await.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let (_, page) = admin_get(&server.base, "/api/events?provider=wavoip").await;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        // The host is not allowed: the download is refused and recorded as failed.
        if events.iter().any(|e| e["event_type"] == "callhook.recording.failed" && e["status"] == "processed") {
            break events;
        }
        assert!(Instant::now() < deadline, "never failed: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut shown = serde_json::to_string(&events).unwrap();
    for event in &events {
        let id = &event["id"];
        for path in [format!("/api/events/{id}"), format!("/api/events/{id}/body")] {
            let response =
                reqwest::Client::new().get(format!("{}{path}", server.base)).bearer_auth(ADMIN).send().await.unwrap();
            shown.push_str(&response.text().await.unwrap());
        }
    }
    for path in ["/api/calls/wavoip/creds-1", "/api/timeline/creds-1"] {
        shown.push_str(&admin_get(&server.base, path).await.1.to_string());
    }
    // The live stream: the first update about the call shows the URL, redacted.
    let mut streamed = String::new();
    while !streamed.contains("storage.wavoip.invalid") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk()).await.unwrap().unwrap().unwrap();
        streamed.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(streamed.contains("[redacted]@storage.wavoip.invalid"), "{streamed}");
    shown.push_str(&streamed);
    // A body that is not UTF-8 (stored as unparsable) is redacted too.
    let mut latin1 = b"{\"type\":\"RECORD\",\"whatsapp_call_id\":\"creds-2\",\"note\":\"caf\xe9\",".to_vec();
    latin1.extend_from_slice(b"\"record_url\":\"https://agent:hunter2@storage.wavoip.invalid/rec/creds-2\"}");
    let (parts, _) =
        callhook::providers::wavoip::testing::signed("wv", "/webhooks/wavoip", "", time::OffsetDateTime::now_utc())
            .into_parts();
    let request = http::Request::from_parts(parts, bytes::Bytes::from(latin1));
    assert_eq!(send(&server.base, request).await.status(), 200);
    let (_, page) = admin_get(&server.base, "/api/events?provider=wavoip&limit=1").await;
    let id = &page["events"][0]["id"];
    let raw = reqwest::Client::new()
        .get(format!("{}/api/events/{id}/body", server.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(raw.starts_with(b"{\"type\"") && raw.windows(4).any(|w| w == b"caf\xe9"), "the rest byte for byte");
    shown.push_str(&String::from_utf8_lossy(&raw));
    assert!(shown.contains("storage.wavoip.invalid/rec/creds-1"), "the URL is shown: {shown}");
    assert!(shown.contains("[redacted]@storage.wavoip.invalid"), "{shown}");
    assert!(!shown.contains("hunter2") && !shown.contains("agent:"), "credentials shown: {shown}");

    // The log keeps the payload exactly as it arrived.
    let store = callhook_sqlite::SqliteStore::open(server._dir.path().join("e2e.sqlite")).await.unwrap();
    let id = callhook::event_log::EventId(events.last().unwrap()["id"].as_i64().unwrap());
    let stored = callhook::EventLog::event(&store, id).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&stored.delivery.body).contains("agent:hunter2@"));
}

/// `/healthz` tells the truth over real HTTP on a real SQLite file: `200` while storage
/// takes writes; `503` with the reason while another connection holds the write lock
/// (webhooks get `503` after the storage timeout, and the provider's retry is stored
/// once after the lock is released) and after the database file is deleted (every
/// webhook `503`); `/livez` says `200` throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_fails_while_storage_cannot_take_writes() {
    let vars =
        [("WHATSAPP_APP_SECRET", "meta-secret"), ("CALLHOOK_ADMIN_TOKEN", ADMIN), ("CALLHOOK_STORAGE_TIMEOUT", "2")];
    let server = start(&vars).await;
    let base = server.base.clone();
    let callhook_server::config::Database::Sqlite(db) = &server.config.database else { unreachable!() };
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let webhook = |wamid: &str| {
        let body = whatsapp::testing::notification("messages", whatsapp::testing::statuses(&[(wamid, "read", 1)]));
        send(
            &base,
            whatsapp::testing::signed("meta-secret", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc()),
        )
    };
    for path in ["/healthz", "/readyz", "/livez"] {
        assert_eq!(get(path).await, (200, "ok".to_owned()), "{path}");
    }
    assert_eq!(webhook("wamid.H1").await.status(), 200);

    // Another connection holds SQLite's write lock.
    let other = rusqlite::Connection::open(db).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(webhook("wamid.H2").await.status(), 503, "after the storage timeout");
    let (status, reason) = get("/healthz").await;
    assert_eq!(status, 503, "{reason}");
    assert!(reason.contains("heartbeat") || reason.contains("stall") || reason.contains("took longer"), "{reason}");
    assert_eq!(get("/livez").await.0, 200);
    other.execute_batch("COMMIT").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while webhook("wamid.H2").await.status() != 200 {
        assert!(Instant::now() < deadline, "the retry was never acknowledged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, found) = admin_get(&base, "/api/events?q=wamid.H2").await;
    assert_eq!(found["events"].as_array().unwrap().len(), 1, "stored once: {found}");
    while get("/healthz").await.0 != 200 {
        assert!(Instant::now() < deadline, "never healthy again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The database file deleted while the server runs (an operator mistake).
    std::fs::remove_file(db).unwrap();
    for n in 0..3 {
        assert_eq!(webhook(&format!("wamid.gone-{n}")).await.status(), 503);
    }
    let (status, reason) = get("/healthz").await;
    assert_eq!(status, 503, "{reason}");
    assert!(reason.contains("database file was deleted or moved away while open"), "{reason}");
    assert_eq!(get("/livez").await.0, 200);
}

/// Accounts from a config file and the environment, over real HTTP: each request is
/// stored under its account and filterable by account and by the customer's number; a
/// request signed for one account but naming another is refused with a 401 naming no
/// secret; an account on its own path is verified with its own token only; and the
/// rotation key is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_from_the_config_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("callhook.toml");
    std::fs::write(
        &file,
        r#"
        [[accounts]]
        provider = "twilio"
        name = "acme"
        auth_token = "acme-token"
        auth_token_next = "acme-token-2"
        account_sid = "AC0000000000000000000000000000000a"

        [[accounts]]
        provider = "cloudtalk"
        name = "sao-paulo"
        token = "sp-token"
        own_path = true
        "#,
    )
    .unwrap();
    let path = file.display().to_string();
    let mut server = start(&[
        ("CALLHOOK_CONFIG", &path),
        ("CALLHOOK_ACCOUNTS", "twilio:globex"),
        ("TWILIO_AUTH_TOKEN_GLOBEX", "globex-token"),
        ("TWILIO_ACCOUNT_SID_GLOBEX", "AC0000000000000000000000000000000b"),
        ("CLOUDTALK_WEBHOOK_TOKEN", "main-cloudtalk-token"),
        ("CALLHOOK_ADMIN_TOKEN", ADMIN),
        ("RUST_LOG", "warn"),
    ])
    .await;
    let base = server.base.clone();
    let url = format!("{base}/webhooks/twilio/call-status");
    let status = |sid: &str, call: &str, from: &str| {
        let mut params = twilio::testing::call_status(call, "ringing", 1, time::OffsetDateTime::now_utc());
        for (key, value) in &mut params {
            match key.as_str() {
                "AccountSid" => *value = sid.to_owned(),
                "Direction" => *value = "inbound".to_owned(),
                "From" => *value = from.to_owned(),
                _ => {}
            }
        }
        params
    };
    let (acme, globex) = ("AC0000000000000000000000000000000a", "AC0000000000000000000000000000000b");
    let sent = [
        twilio::testing::signed_form("acme-token", &url, &status(acme, "CA1", "+5511987654321")),
        twilio::testing::signed_form("acme-token-2", &url, &status(acme, "CA2", "+5511900000000")),
        twilio::testing::signed_form("globex-token", &url, &status(globex, "CA3", "+5511987654321")),
    ];
    for request in sent {
        assert_eq!(send(&base, request).await.status(), 200);
    }
    // Acme's token on a request naming Globex.
    let forged = send(&base, twilio::testing::signed_form("acme-token", &url, &status(globex, "CA4", "+1"))).await;
    assert_eq!(forged.status(), 401);
    let text = forged.text().await.unwrap();
    assert!(!text.contains("acme-token") && !text.contains("globex-token"), "{text}");

    // CloudTalk: the account on its own path takes only its own token there.
    let body = callhook::providers::cloudtalk::testing::call_event("call.ended", 7, time::OffsetDateTime::now_utc());
    let own = |token: &str| {
        callhook::providers::cloudtalk::testing::signed(
            token,
            "/webhooks/cloudtalk/sao-paulo",
            &body,
            time::OffsetDateTime::now_utc(),
        )
    };
    assert_eq!(send(&base, own("main-cloudtalk-token")).await.status(), 401);
    assert_eq!(send(&base, own("sp-token")).await.status(), 200);

    let keys = |page: &Value| -> Vec<String> {
        page["events"].as_array().unwrap().iter().map(|e| e["dedupe_key"].as_str().unwrap().to_owned()).collect()
    };
    let (status, page) = admin_get(&base, "/api/events?account=acme").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(keys(&page).len(), 2, "{page}");
    assert!(page["events"].as_array().unwrap().iter().all(|e| e["account"] == "acme"));
    let (_, page) = admin_get(&base, "/api/events?account=sao-paulo").await;
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
    // The customer's number in any spelling finds their calls in both Twilio accounts.
    let (_, page) = admin_get(&base, "/api/events?number=55%2011%2098765-4321").await;
    let accounts: Vec<&str> =
        page["events"].as_array().unwrap().iter().map(|e| e["account"].as_str().unwrap()).collect();
    assert_eq!(accounts, ["globex", "acme"], "{page}");
    // The key that verified each delivery.
    let (_, page) = admin_get(&base, "/api/events?account=acme").await;
    let newest = page["events"][0]["id"].as_i64().unwrap();
    let (_, detail) = admin_get(&base, &format!("/api/events/{newest}")).await;
    assert_eq!(detail["delivery"]["key"], "next", "{detail}");

    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), &mut server.server).await.expect("stops").unwrap().unwrap();
}

/// One conversation across providers over real HTTP: Twilio answers a call and dials
/// Retell's SIP URI; Retell reports the AI call. The timeline of either call id shows
/// both providers' events, the recording and the analysis; calls no payload links are
/// joined by the customer's number and time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_conversation_across_twilio_and_retell() {
    let mut server = start(&[
        ("TWILIO_AUTH_TOKEN", "twilio-secret"),
        ("RETELL_API_KEY", "key_retell"),
        ("CALLHOOK_ADMIN_TOKEN", ADMIN),
        ("RUST_LOG", "warn"),
    ])
    .await;
    let base = server.base.clone();
    let now = time::OffsetDateTime::now_utc();
    let twilio_url = |endpoint: &str| format!("{base}/webhooks/twilio/{endpoint}");
    let with = |mut params: Vec<(String, String)>, changes: &[(&str, &str)]| {
        for (key, value) in changes {
            match params.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = (*value).to_owned(),
                None => params.push(((*key).to_owned(), (*value).to_owned())),
            }
        }
        params
    };
    let retell = |event: &str, call_id: &str, changes: serde_json::Value| {
        let mut body: Value =
            serde_json::from_str(&callhook::providers::retell::testing::call_event(event, call_id, "user_hangup", now))
                .unwrap();
        for (key, value) in changes.as_object().unwrap() {
            body["call"][key] = value.clone();
        }
        callhook::providers::retell::testing::signed(
            "key_retell",
            "/webhooks/retell/call-events",
            &body.to_string(),
            now,
        )
    };

    // The caller's call, answered; the leg Twilio dialed to Retell (its parent, and the
    // Retell call in its SIP URI); the Retell call itself, which names no Twilio call.
    let (parent, leg, ai) = ("CA00000000000000000000000000000p01", "CA00000000000000000000000000000c01", "call_conv01");
    let incoming = twilio::testing::incoming_call(parent, "+5511987654321", "+14155550100");
    assert_eq!(
        send(&base, twilio::testing::signed_form("twilio-secret", &twilio_url("incoming-call"), &incoming))
            .await
            .status(),
        200
    );
    let dialed = with(
        twilio::testing::call_status(leg, "completed", 3, now),
        &[("ParentCallSid", parent), ("Direction", "outbound-dial"), ("To", &format!("sip:{ai}@sip.retellai.com"))],
    );
    assert_eq!(
        send(&base, twilio::testing::signed_form("twilio-secret", &twilio_url("call-status"), &dialed)).await.status(),
        200
    );
    for event in ["call_started", "call_ended", "call_analyzed"] {
        let request = retell(event, ai, json!({"from_number": "+5511987654321", "to_number": "+14155550100"}));
        assert_eq!(send(&base, request).await.status(), 200, "{event}");
    }

    for asked in [parent, ai] {
        let (status, timeline) = admin_get(&base, &format!("/api/timeline/{asked}")).await;
        assert_eq!(status, 200, "{timeline}");
        let mut conversation: Vec<&str> =
            timeline["conversation"].as_array().unwrap().iter().map(|id| id.as_str().unwrap()).collect();
        conversation.sort_unstable();
        assert_eq!(conversation, [leg, parent, ai], "{asked}: {timeline}");
        let providers: std::collections::BTreeSet<&str> =
            timeline["events"].as_array().unwrap().iter().map(|e| e["provider"].as_str().unwrap()).collect();
        assert_eq!(providers.into_iter().collect::<Vec<_>>(), ["retell", "twilio"]);
        let types: std::collections::BTreeSet<&str> =
            timeline["events"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
        for expected in ["incoming-call", "call-status.completed", "call_started", "call_ended", "call_analyzed"] {
            assert!(types.contains(expected), "{asked}: {expected} in {types:?}");
        }
        let vias: Vec<&str> =
            timeline["links"].as_array().unwrap().iter().map(|l| l["via"].as_str().unwrap()).collect();
        assert!(vias.contains(&"sip_uri") && vias.contains(&"parent_call"), "{vias:?}");
        let retell_call = timeline["calls"].as_array().unwrap().iter().find(|c| c["provider"] == "retell").unwrap();
        assert_eq!(retell_call["state"]["analysis"]["summary"], "The caller said hi.", "{retell_call}");
        assert!(retell_call["state"]["recording"]["url"].as_str().unwrap().ends_with(".wav"));
    }

    // No payload links these two: the same customer on both within the window.
    let (alone, guessed) = ("CA00000000000000000000000000000p02", "call_conv02");
    let incoming = twilio::testing::incoming_call(alone, "+5511900000002", "+14155550100");
    assert_eq!(
        send(&base, twilio::testing::signed_form("twilio-secret", &twilio_url("incoming-call"), &incoming))
            .await
            .status(),
        200
    );
    let request =
        retell("call_started", guessed, json!({"from_number": "+5511900000002", "to_number": "+14155550100"}));
    assert_eq!(send(&base, request).await.status(), 200);
    let (_, timeline) = admin_get(&base, &format!("/api/timeline/{alone}")).await;
    let conversation: Vec<&str> =
        timeline["conversation"].as_array().unwrap().iter().map(|id| id.as_str().unwrap()).collect();
    assert_eq!(conversation, [alone, guessed], "{timeline}");
    assert_eq!(timeline["links"][0]["via"], "number_and_time", "{timeline}");
    // Another customer's call at the same time is not joined.
    let (_, timeline) = admin_get(&base, &format!("/api/timeline/{parent}")).await;
    assert!(!timeline["conversation"].as_array().unwrap().iter().any(|id| id == guessed || id == alone));

    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), &mut server.server).await.expect("stops").unwrap().unwrap();
}
