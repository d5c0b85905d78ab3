//! Recording retrieval end to end, against a local HTTP server that plays the provider
//! (real HTTP on loopback), with a manual clock so four hours of polling run in
//! milliseconds.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use callhook::alert::{Alert, alert_fn};
use callhook::clock::{Clock, ManualClock};
use callhook::event::{ProviderId, RecordingStatus, StoredRecording};
use callhook::event_log::{EventFilter, EventLog, MemoryEventLog};
use callhook::job_queue::{JobQueue, Queue};
use callhook::providers::registry::RecordingCredentials;
use callhook::providers::{twilio, wavoip};
use callhook::recording::http::HttpFetcher;
use callhook::recording::{
    Download, FetchError, FileSink, RecordingFetcher, RecordingSink, RecordingSource, Recordings, SinkError,
};
use callhook::worker::{HandlerError, handler_fn};
use callhook::{MemoryJobQueue, Receiver, RetryPolicy, Worker};
use time::OffsetDateTime;
use time::macros::datetime;

const TOKEN: &str = "wavoip-token";
const TWILIO_TOKEN: &str = "twilio-token";
const ACCOUNT: &str = "AC00000000000000000000000000000001";
const AUDIO: &[u8] = b"ID3\x04\x00fake mp3 bytes \xff\xfb\x90\x00 of a call";
const WAVOIP: ProviderId = ProviderId::from_static("wavoip");
const TWILIO: ProviderId = ProviderId::from_static("twilio");
/// When the Twilio callbacks here say the call ended; the clock starts 8 s later.
const ENDED: OffsetDateTime = datetime!(2026-12-01 10:00:42 UTC);
const START: OffsetDateTime = datetime!(2026-12-01 10:00:50 UTC);

/// How the fake provider answers: 404 for the first `not_ready` requests of a path, the
/// status in `failing` for the first requests it counts, a redirect for `redirects`.
#[derive(Default)]
struct Provider {
    not_ready: HashMap<String, usize>,
    failing: HashMap<String, (StatusCode, usize)>,
    redirects: HashMap<String, String>,
    hits: HashMap<String, usize>,
}

async fn serve_recording(
    State(provider): State<Arc<Mutex<Provider>>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> axum::response::Response {
    let mut provider = provider.lock().unwrap();
    *provider.hits.entry(rest.clone()).or_default() += 1;
    if rest.starts_with("2010-04-01/") {
        let expected = format!("Basic {}", base64_encode(&format!("{ACCOUNT}:{TWILIO_TOKEN}")));
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
    }
    if let Some(location) = provider.redirects.get(&rest) {
        return (StatusCode::FOUND, [("location", location.clone())]).into_response();
    }
    if let Some((status, left)) = provider.failing.get_mut(&rest)
        && *left > 0
    {
        *left -= 1;
        return status.into_response();
    }
    let left = provider.not_ready.entry(rest).or_default();
    if *left > 0 {
        *left -= 1;
        return StatusCode::NOT_FOUND.into_response();
    }
    ([("content-type", "audio/mpeg")], AUDIO).into_response()
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

struct Setup {
    receiver: Receiver,
    worker: Worker,
    storage: Arc<MemoryEventLog>,
    scheduler: Arc<MemoryJobQueue>,
    clock: ManualClock,
    provider: Arc<Mutex<Provider>>,
    base: String,
    alerts: Arc<Mutex<Vec<Alert>>>,
    dir: tempfile::TempDir,
}

async fn setup(sink: Option<Arc<dyn RecordingSink>>) -> Setup {
    let provider = Arc::new(Mutex::new(Provider::default()));
    let app = axum::Router::new().route("/{*rest}", get(serve_recording)).with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{address}");

    let storage = Arc::new(MemoryEventLog::new());
    let scheduler = Arc::new(MemoryJobQueue::new());
    let clock = ManualClock::new(START);
    let receiver = Receiver::builder()
        .public_base_url("https://crm.example.com")
        .mount("/webhooks/wavoip", Arc::new(wavoip::WaVoip::builder().token(TOKEN).build()))
        .mount("/webhooks/twilio/call-status", Arc::new(twilio::Twilio::new(TWILIO_TOKEN)))
        .mount("/webhooks/twilio/recording-status", Arc::new(twilio::Twilio::new(TWILIO_TOKEN)))
        .event_log(storage.clone())
        .job_queue(scheduler.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let fetcher = HttpFetcher::builder()
        .allow_insecure_host(address.to_string())
        .credentials(twilio::REGISTRATION.id.clone(), RecordingCredentials::new(TWILIO_TOKEN).user(ACCOUNT))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let locator_base = base.clone();
    let recordings = match sink {
        Some(sink) => Recordings::new(fetcher, ArcSink(sink)),
        None => Recordings::new(fetcher, FileSink::new(dir.path())),
    }
    .retry_policy(RetryPolicy::new(Duration::from_secs(30)).max_delay(Duration::from_secs(15 * 60)).jitter(0.0))
    .locate(WAVOIP, move |call| Some(format!("{locator_base}/wavoip/{}", call.call_id)));
    let alerts = Arc::new(Mutex::new(Vec::new()));
    let sink_alerts = alerts.clone();
    let worker = Worker::builder(storage.clone(), scheduler.clone())
        .clock(clock.clone())
        .handler(handler_fn(|_| async { Ok::<_, HandlerError>(()) }))
        .alert(alert_fn(move |alert: Alert| {
            let alerts = sink_alerts.clone();
            async move { alerts.lock().unwrap().push(alert) }
        }))
        .recordings(recordings)
        .build();
    Setup { receiver, worker, storage, scheduler, clock, provider, base, alerts, dir }
}

/// A sink shared behind an `Arc` (to wrap test sinks).
struct ArcSink(Arc<dyn RecordingSink>);

#[async_trait]
impl RecordingSink for ArcSink {
    async fn store(&self, source: &RecordingSource, download: Download) -> Result<StoredRecording, SinkError> {
        self.0.store(source, download).await
    }
}

impl Setup {
    async fn wavoip(&self, body: &str) {
        let request = wavoip::testing::signed(TOKEN, "/webhooks/wavoip", body, time::OffsetDateTime::now_utc());
        assert_eq!(self.receiver.handle(request).await.status(), 200);
    }

    async fn twilio(&self, endpoint: &str, params: &[(String, String)]) {
        let url = format!("https://crm.example.com/webhooks/twilio/{endpoint}");
        let request = twilio::testing::signed_form(TWILIO_TOKEN, &url, params);
        assert_eq!(self.receiver.handle(request).await.status(), 200);
    }

    /// Runs what is due now until nothing is.
    async fn drain(&self) {
        while self.worker.run_due().await.unwrap() > 0 {}
    }

    /// Jumps the clock to each next due job and runs it, until no job is left; returns
    /// the times jobs ran at.
    async fn run_to_completion(&self) -> Vec<OffsetDateTime> {
        let mut times = Vec::new();
        for _ in 0..200 {
            self.drain().await;
            let mut next: Option<OffsetDateTime> = None;
            for queue in Queue::ALL {
                let due = self.scheduler.next_due_at(queue).await.unwrap();
                next = match (next, due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            let Some(next) = next else { return times };
            if next > self.clock.now() {
                self.clock.set(next);
            }
            times.push(next);
        }
        panic!("jobs never finished");
    }

    fn hits(&self, path: &str) -> usize {
        self.provider.lock().unwrap().hits.get(path).copied().unwrap_or(0)
    }

    fn files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }

    /// The error of a call's recording that was not stored.
    async fn recording_error(&self, call: &str) -> String {
        let recording = self.storage.call_state(&WAVOIP, call).await.unwrap().unwrap().recording.unwrap();
        assert!(recording.stored.is_none());
        recording.error.unwrap().message.unwrap()
    }

    async fn event_types(&self) -> Vec<String> {
        let events = self.storage.list_events(&EventFilter::default().limit(1000)).await.unwrap();
        events.into_iter().map(|e| e.event_type).collect()
    }
}

fn record_ready(base: &str, call: &str) -> String {
    serde_json::json!({
        "type": "RECORD", "action": "UPDATE", "whatsapp_call_id": call, "record_status": "READY",
        "record_url": format!("{base}/wavoip/{call}"),
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_recording_is_downloaded_at_once_and_attached_to_the_call() {
    let s = setup(None).await;
    s.wavoip(&record_ready(&s.base, "901")).await;
    s.drain().await;

    let call = s.storage.call_state(&WAVOIP, "901").await.unwrap().unwrap();
    let recording = call.recording.unwrap();
    let stored = recording.stored.expect("stored");
    assert_eq!(recording.status, RecordingStatus::Ready);
    assert_eq!(stored.size_bytes, AUDIO.len() as u64);
    assert_eq!(stored.content_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(std::fs::read(&stored.location).unwrap(), AUDIO, "the exact bytes, in the sink");
    assert!(stored.location.ends_with("wavoip/901/recording.mp3"), "{}", stored.location);
    assert_eq!(s.files().len(), 1);
    assert_eq!(s.hits("wavoip/901"), 1);
    let types = s.event_types().await;
    assert!(types.contains(&"callhook.recording.stored".to_owned()), "{types:?}");
    assert!(s.storage.list_events(&EventFilter::default()).await.unwrap().iter().all(|e| e.processed()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixing_then_ready_is_polled_with_growing_waits() {
    let s = setup(None).await;
    s.provider.lock().unwrap().not_ready.insert("wavoip/902".into(), 3);
    s.wavoip(&wavoip::testing::call("902", "UPDATE", "ENDED", 45)).await;
    s.wavoip(&wavoip::testing::record("902", "MIXING")).await;
    s.drain().await;
    assert_eq!(s.hits("wavoip/902"), 0, "the first poll waits");

    let times = s.run_to_completion().await;
    assert_eq!(s.hits("wavoip/902"), 4, "three 404s, then the recording");
    let waits: Vec<i64> = times.windows(2).map(|w| (w[1] - w[0]).whole_seconds()).collect();
    assert_eq!(times[0] - START, time::Duration::seconds(30), "first poll within a minute");
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "waits grow: {waits:?}");
    assert!(waits.iter().any(|w| *w >= 120), "{waits:?}");
    let call = s.storage.call_state(&WAVOIP, "902").await.unwrap().unwrap();
    assert!(call.recording.unwrap().stored.is_some());
    assert_eq!(s.files().len(), 1);
    assert!(s.alerts.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_never_ready_fails_at_exactly_four_hours_with_one_alert() {
    let s = setup(None).await;
    // Twilio: the call completed at 10:00:42 with its recording in progress, and no
    // "completed" recording callback ever comes (no URL to poll). callhook received the
    // end at 10:00:50: the four hours count from then.
    s.twilio("call-status", &twilio::testing::call_status("CA9", "completed", 3, ENDED)).await;
    s.twilio("recording-status", &twilio::testing::recording_status("CA9", "RE9", "in-progress", ENDED)).await;
    s.drain().await;
    let times = s.run_to_completion().await;

    assert_eq!(*times.last().unwrap(), START + time::Duration::hours(4), "the last try is at the deadline");
    assert!(times.len() > 10, "polled many times: {}", times.len());
    let call = s.storage.call_state(&TWILIO, "CA9").await.unwrap().unwrap();
    let recording = call.recording.unwrap();
    assert_eq!(recording.status, RecordingStatus::Failed);
    let error = recording.error.unwrap();
    assert!(error.message.unwrap().contains("deadline"));
    let alerts = s.alerts.lock().unwrap();
    assert_eq!(alerts.len(), 1, "one alert");
    assert_eq!(alerts[0].event.event_type, "callhook.recording.failed");
    assert_eq!(alerts[0].event.received_at, START + time::Duration::hours(4));
    assert!(s.files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_recording_ends_at_once_without_a_download() {
    let s = setup(None).await;
    s.wavoip(&wavoip::testing::call("903", "UPDATE", "ENDED", 1)).await;
    s.wavoip(&wavoip::testing::record("903", "EMPTY_RECORDING")).await;
    let times = s.run_to_completion().await;
    assert!(times.is_empty(), "no poll scheduled: {times:?}");
    assert_eq!(s.hits("wavoip/903"), 0);
    let call = s.storage.call_state(&WAVOIP, "903").await.unwrap().unwrap();
    assert_eq!(call.recording.unwrap().status, RecordingStatus::Empty);
    assert!(s.alerts.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_ready_webhooks_and_a_racing_poll_store_one_recording() {
    let s = setup(None).await;
    // The call ends while mixing (a poll is scheduled), then READY arrives twice, once
    // as a RECORD event and once on a CALL event.
    s.wavoip(&wavoip::testing::call("904", "UPDATE", "ENDED", 30)).await;
    s.wavoip(&wavoip::testing::record("904", "MIXING")).await;
    s.drain().await;
    s.wavoip(&record_ready(&s.base, "904")).await;
    s.wavoip(&record_ready(&s.base, "904")).await;
    let mut call_ready: serde_json::Value = serde_json::from_str(&record_ready(&s.base, "904")).unwrap();
    call_ready["type"] = "CALL".into();
    call_ready["status"] = "ENDED".into();
    s.wavoip(&call_ready.to_string()).await;
    s.run_to_completion().await;
    assert_eq!(s.hits("wavoip/904"), 1, "downloaded once");
    assert_eq!(s.files().len(), 1);
    let stored = s.event_types().await.iter().filter(|t| *t == "callhook.recording.stored").count();
    assert_eq!(stored, 1);
}

/// Stores, then dies before the outcome is recorded: a crash between download and
/// record.
struct CrashOnceSink {
    inner: FileSink,
    crashed: AtomicUsize,
}

#[async_trait]
impl RecordingSink for CrashOnceSink {
    async fn store(&self, source: &RecordingSource, download: Download) -> Result<StoredRecording, SinkError> {
        let stored = self.inner.store(source, download).await?;
        if self.crashed.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("the process died right after writing the file");
        }
        Ok(stored)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_download_and_record_reruns_the_job_and_keeps_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let sink: Arc<dyn RecordingSink> =
        Arc::new(CrashOnceSink { inner: FileSink::new(dir.path()), crashed: AtomicUsize::new(0) });
    let s = setup(Some(sink)).await;
    s.wavoip(&record_ready(&s.base, "905")).await;
    s.drain().await;
    assert!(s.storage.call_state(&WAVOIP, "905").await.unwrap().unwrap().recording.unwrap().stored.is_none());
    // The job is leased to the "dead" attempt until its lease (5 minutes) runs out.
    s.run_to_completion().await;
    assert_eq!(s.hits("wavoip/905"), 2, "downloaded again");
    let call = s.storage.call_state(&WAVOIP, "905").await.unwrap().unwrap();
    let stored = call.recording.unwrap().stored.unwrap();
    assert_eq!(std::fs::read(&stored.location).unwrap(), AUDIO);
    let files: Vec<_> = std::fs::read_dir(dir.path().join("wavoip/905")).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "one file, no partial leftovers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_recordings_are_fetched_as_mp3_with_basic_auth() {
    let s = setup(None).await;
    let url = format!("{}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE7", s.base);
    let mut params = twilio::testing::recording_status("CA7", "RE7", "completed", ENDED);
    for (key, value) in &mut params {
        if key == "RecordingUrl" {
            value.clone_from(&url);
        }
    }
    s.twilio("recording-status", &params).await;
    s.drain().await;
    let path = format!("2010-04-01/Accounts/{ACCOUNT}/Recordings/RE7.mp3");
    assert_eq!(s.hits(&path), 1, "the .mp3 URL, with credentials the fake Twilio checks");
    let call = s.storage.call_state(&TWILIO, "CA7").await.unwrap().unwrap();
    let stored = call.recording.unwrap().stored.unwrap();
    assert!(stored.location.ends_with("twilio/CA7/RE7.mp3"), "{}", stored.location);

    // Without credentials the provider refuses.
    let bare = HttpFetcher::builder().allow_insecure_host(s.base.trim_start_matches("http://")).build().unwrap();
    let source = RecordingSource::new(TWILIO, "CA7", url);
    assert!(matches!(bare.fetch(&source).await, Err(FetchError::Status(401))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_outside_the_allowlist_is_never_fetched() {
    let s = setup(None).await;
    let body = serde_json::json!({
        "type": "RECORD", "whatsapp_call_id": "906", "record_status": "READY",
        "record_url": "http://169.254.169.254/latest/meta-data/iam",
    });
    s.wavoip(&body.to_string()).await;
    s.run_to_completion().await;
    let call = s.storage.call_state(&WAVOIP, "906").await.unwrap().unwrap();
    let recording = call.recording.unwrap();
    assert_eq!(recording.status, RecordingStatus::Ready, "ready at the provider");
    assert_eq!(recording.stored, None, "but not fetched");
    assert!(recording.error.unwrap().message.unwrap().contains("not allowed"));
    assert_eq!(s.alerts.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_reported_hours_late_still_gets_its_four_hours() {
    let s = setup(None).await;
    // The provider says the call ended six hours before callhook hears of it (it was
    // retrying all that time): the window counts from when callhook received it.
    let ended = START - time::Duration::hours(6);
    s.twilio("call-status", &twilio::testing::call_status("CA20", "completed", 3, ended)).await;
    s.twilio("recording-status", &twilio::testing::recording_status("CA20", "RE20", "in-progress", ended)).await;
    let times = s.run_to_completion().await;
    assert_eq!(*times.last().unwrap(), START + time::Duration::hours(4), "polled for the whole window");
    assert!(times.len() > 10, "polled many times: {}", times.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_recording_past_its_deadline_still_gets_several_tries_with_backoff() {
    let s = setup(None).await;
    s.provider.lock().unwrap().failing.insert("wavoip/921".into(), (StatusCode::SERVICE_UNAVAILABLE, 3));
    s.provider.lock().unwrap().failing.insert("wavoip/922".into(), (StatusCode::SERVICE_UNAVAILABLE, 100));
    s.wavoip(&record_ready(&s.base, "921")).await;
    s.wavoip(&record_ready(&s.base, "922")).await;
    // Processed a day after it arrived (the worker was down, or the event is
    // reprocessed): the four hours are long over.
    s.clock.set(START + time::Duration::days(1));
    let times = s.run_to_completion().await;

    assert_eq!(s.hits("wavoip/921"), 4, "three 503s, then the recording");
    let stored = s.storage.call_state(&WAVOIP, "921").await.unwrap().unwrap().recording.unwrap().stored;
    assert!(stored.is_some());
    assert_eq!(s.hits("wavoip/922"), 5, "the minimum of tries, then failed");
    let recording = s.storage.call_state(&WAVOIP, "922").await.unwrap().unwrap().recording.unwrap();
    assert!(recording.error.unwrap().message.unwrap().contains("after 5 tries"));
    let waits: Vec<i64> = times.windows(2).map(|w| (w[1] - w[0]).whole_seconds()).collect();
    assert!(waits.iter().all(|w| *w >= 30) && waits.windows(2).all(|w| w[1] >= w[0]), "backoff: {waits:?}");
    assert_eq!(s.alerts.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_fail_at_once_and_say_why() {
    let s = setup(None).await;
    s.provider.lock().unwrap().failing.insert("wavoip/931".into(), (StatusCode::FORBIDDEN, 100));
    s.provider.lock().unwrap().redirects.insert("wavoip/932".into(), "https://evil.example/steal".into());
    s.wavoip(&record_ready(&s.base, "931")).await;
    s.wavoip(&record_ready(&s.base, "932")).await;
    s.run_to_completion().await;

    assert_eq!(s.hits("wavoip/931"), 1, "a 403 is not retried");
    assert!(s.recording_error("931").await.contains("403"));
    assert_eq!(s.hits("wavoip/932"), 1, "a redirect to a host not allowed is not retried");
    let refused = s.recording_error("932").await;
    assert!(refused.contains("redirect") && refused.contains("evil.example"), "{refused}");
    assert_eq!(s.alerts.lock().unwrap().len(), 2, "each failure alerts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_file_error_fails_at_once() {
    // The recordings directory is a file: nothing can be written under it, and waiting
    // will not change that.
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("recordings");
    std::fs::write(&not_a_dir, b"a file").unwrap();
    let s = setup(Some(Arc::new(FileSink::new(&not_a_dir)))).await;
    s.wavoip(&record_ready(&s.base, "941")).await;
    s.run_to_completion().await;
    assert_eq!(s.hits("wavoip/941"), 1);
    assert!(s.recording_error("941").await.contains("could not store"));
    assert_eq!(s.alerts.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_a_recording_url_never_reach_errors() {
    let s = setup(None).await;
    // WaVoIP's own host over plain HTTP: refused, with the URL in the error.
    let body = serde_json::json!({
        "type": "RECORD", "whatsapp_call_id": "951", "record_status": "READY",
        "record_url": "http://agent:hun&ter2,(x)@storage.wavoip.com/rec/951",
    });
    s.wavoip(&body.to_string()).await;
    s.run_to_completion().await;
    let message = s.recording_error("951").await;
    assert!(message.contains("storage.wavoip.com/rec/951"), "the URL is named: {message}");
    assert!(!message.contains("ter2") && !message.contains("agent"), "{message}");
    let alerts = s.alerts.lock().unwrap();
    assert!(!alerts[0].error.contains("ter2"), "{}", alerts[0].error);
}
