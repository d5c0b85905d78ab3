//! Recording downloads against providers that answer slowly or not at all, over real
//! HTTP on loopback: downloads have their own slots and their own time bounds, so event
//! processing goes on at full rate while every download slot hangs, a shutdown does not
//! wait for them, and a body that stalls or trickles is cut off.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use callhook::event::ProviderId;
use callhook::event_log::{EventFilter, EventLog, EventStatus, MemoryEventLog};
use callhook::job_queue::{JobKind, JobQueue, Queue};
use callhook::providers::wavoip;
use callhook::recording::http::HttpFetcher;
use callhook::recording::{
    FetchError, FileSink, RecordingFetcher, RecordingSink, RecordingSource, Recordings, SinkError,
};
use callhook::worker::{HandlerError, handler_fn};
use callhook::{MemoryJobQueue, Receiver, Worker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TOKEN: &str = "wavoip-token";
const WAVOIP: ProviderId = ProviderId::from_static("wavoip");
/// Long enough to never end during a test: "hangs for good".
const FOREVER: Duration = Duration::from_secs(3600);
/// How long a test waits for something that should happen at once, at most.
const PATIENCE: Duration = Duration::from_secs(60);

/// A provider that accepts connections, reads the request and never answers. Counts
/// the connections it holds open (a client that gives up closes its end).
struct Silent {
    address: SocketAddr,
    open: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

async fn silent_provider() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (open, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counter, peak) = (open.clone(), most.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let now_open = counter.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now_open, Ordering::SeqCst);
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
                counter.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Silent { address, open, most }
}

/// A provider that answers with headers at once, then sends `chunk` bytes every
/// `every`, for ever.
async fn trickling_provider(chunk: usize, every: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                let _ = socket.read(&mut buffer).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: audio/mpeg\r\ncontent-length: 100000000\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    tokio::time::sleep(every).await;
                    if socket.write_all(&vec![0u8; chunk]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    address
}

/// Waits until `done` holds, at most [`PATIENCE`].
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_processed_while_every_download_slot_hangs_and_shutdown_does_not_wait() {
    let silent = silent_provider().await;
    let storage = Arc::new(MemoryEventLog::new());
    let scheduler = Arc::new(MemoryJobQueue::new());
    let receiver = Receiver::builder()
        .mount("/webhooks/wavoip", Arc::new(wavoip::WaVoip::builder().token(TOKEN).build()))
        .mount(support::PATH, support::TestProvider::new())
        .event_log(storage.clone())
        .job_queue(scheduler.clone())
        .build()
        .unwrap();
    let fetcher = HttpFetcher::builder()
        .allow_insecure_host(silent.address.to_string())
        .first_byte_timeout(FOREVER)
        .timeout(FOREVER)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recordings = Recordings::new(fetcher, FileSink::new(dir.path())).job_timeout(FOREVER);
    let worker = Worker::builder(storage.clone(), scheduler.clone())
        .handler(handler_fn(|_| async { Ok::<_, HandlerError>(()) }))
        .recordings(recordings)
        .concurrency(4)
        .recording_concurrency(2)
        .shutdown_grace(Duration::from_millis(200))
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let worker = worker.clone();
        tokio::spawn(async move {
            worker
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };

    // Eight recordings are ready at a provider that never answers.
    for call in 0..8 {
        let body = serde_json::json!({
            "type": "RECORD", "action": "UPDATE", "whatsapp_call_id": format!("hang{call}"),
            "record_status": "READY", "record_url": format!("http://{}/rec/{call}", silent.address),
        });
        let request =
            wavoip::testing::signed(TOKEN, "/webhooks/wavoip", &body.to_string(), time::OffsetDateTime::now_utc());
        assert_eq!(receiver.handle(request).await.status(), 200);
    }
    eventually("both download slots hang", async || silent.open.load(Ordering::SeqCst) == 2).await;

    // Twenty webhooks arrive meanwhile: every one is processed, while the downloads
    // still hang and no third download started.
    for n in 0..20 {
        let body = support::body(&[(&format!("evt-{n}"), &format!("call-{n}"), "ringing")]);
        assert_eq!(receiver.handle(support::signed(body)).await.status(), 200);
    }
    let processed = async || {
        let filter = EventFilter::default().provider(support::PROVIDER).status(EventStatus::Processed).limit(100);
        storage.list_events(&filter).await.unwrap().len() == 20
    };
    eventually("the 20 events are processed", processed).await;
    assert_eq!(silent.open.load(Ordering::SeqCst), 2, "the downloads still hang");
    assert_eq!(silent.most.load(Ordering::SeqCst), 2, "never more downloads than their slots");
    let ready = EventFilter::default().provider(WAVOIP).status(EventStatus::Processed).limit(100);
    assert_eq!(storage.list_events(&ready).await.unwrap().len(), 8, "the ready webhooks themselves too");

    // Shutdown: the hanging downloads are cancelled after the grace period and handed
    // back, due at once, for the next start to resume.
    stop.send(()).unwrap();
    tokio::time::timeout(PATIENCE, running).await.expect("the worker stops despite hanging downloads").unwrap();
    eventually("the cancelled downloads closed their connections", async || silent.open.load(Ordering::SeqCst) == 0)
        .await;
    let now = time::OffsetDateTime::now_utc();
    let jobs = scheduler.claim_due(Queue::Recordings, now, 100, Duration::from_secs(60)).await.unwrap();
    assert_eq!(jobs.len(), 8, "every recording job is still there, due");
    assert!(jobs.iter().all(|claim| matches!(claim.job.kind, JobKind::FetchRecording { .. })));
    assert!(jobs.iter().all(|claim| claim.job.failed_attempts == 0), "a shutdown is no failed try: {jobs:?}");
}

/// A provider that answers with headers and the first 1,000 bytes, then goes silent.
async fn stalling_provider() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                let _ = socket.read(&mut buffer).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: audio/mpeg\r\ncontent-length: 100000\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&[0u8; 1000]).await;
                while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cancelled_by_a_shutdown_leaves_no_partial_file() {
    let address = stalling_provider().await;
    let storage = Arc::new(MemoryEventLog::new());
    let scheduler = Arc::new(MemoryJobQueue::new());
    let receiver = Receiver::builder()
        .mount("/webhooks/wavoip", Arc::new(wavoip::WaVoip::builder().token(TOKEN).build()))
        .event_log(storage.clone())
        .job_queue(scheduler.clone())
        .build()
        .unwrap();
    let fetcher = HttpFetcher::builder()
        .allow_insecure_host(address.to_string())
        .min_transfer_rate(0, Duration::from_secs(1))
        .timeout(FOREVER)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let worker = Worker::builder(storage, scheduler.clone())
        .recordings(Recordings::new(fetcher, FileSink::new(dir.path())).job_timeout(FOREVER))
        .shutdown_grace(Duration::from_millis(100))
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let worker = worker.clone();
        tokio::spawn(async move {
            worker
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    let body = serde_json::json!({
        "type": "RECORD", "action": "UPDATE", "whatsapp_call_id": "stall1", "record_status": "READY",
        "record_url": format!("http://{address}/rec/stall1"),
    });
    let request =
        wavoip::testing::signed(TOKEN, "/webhooks/wavoip", &body.to_string(), time::OffsetDateTime::now_utc());
    assert_eq!(receiver.handle(request).await.status(), 200);
    eventually("the download wrote part of the file", async || !walk(dir.path()).is_empty()).await;
    stop.send(()).unwrap();
    tokio::time::timeout(PATIENCE, running).await.expect("the worker stops").unwrap();
    assert_eq!(walk(dir.path()), Vec::<std::path::PathBuf>::new(), "no partial file left");
    let jobs = scheduler.claim_due(Queue::Recordings, time::OffsetDateTime::now_utc(), 10, FOREVER).await.unwrap();
    assert_eq!(jobs.len(), 1, "handed back, due");
}

fn source(address: SocketAddr) -> RecordingSource {
    RecordingSource::new(WAVOIP, "slow-1", format!("http://{address}/rec/slow-1"))
}

#[tokio::test]
async fn a_provider_that_never_answers_times_out_and_is_tried_again_later() {
    let silent = silent_provider().await;
    let fetcher = HttpFetcher::builder()
        .allow_insecure_host(silent.address.to_string())
        .first_byte_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = fetcher.fetch(&source(silent.address)).await.unwrap_err();
    assert!(matches!(error, FetchError::Timeout(_)), "{error:?}");
    assert!(error.to_string().contains("first byte"), "{error}");
    assert!(!error.is_permanent());
}

#[tokio::test]
async fn a_body_slower_than_the_minimum_rate_is_cut_off_and_leaves_no_file() {
    // 10 bytes every 50 ms: about 200 bytes/s, far below 64 KiB/s.
    let address = trickling_provider(10, Duration::from_millis(50)).await;
    let fetcher = HttpFetcher::builder()
        .allow_insecure_host(address.to_string())
        .min_transfer_rate(64 * 1024, Duration::from_millis(300))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = FileSink::new(dir.path());
    let download = fetcher.fetch(&source(address)).await.expect("the headers come at once");
    let error = sink.store(&source(address), download).await.unwrap_err();
    assert!(matches!(error, SinkError::Fetch(FetchError::TooSlow { .. })), "{error:?}");
    assert!(!error.is_permanent());
    let left: Vec<_> = walk(dir.path());
    assert!(left.is_empty(), "partial files left: {left:?}");
}

#[tokio::test]
async fn a_download_longer_than_its_total_time_is_cut_off() {
    let address = trickling_provider(100_000, Duration::from_millis(20)).await;
    let fetcher = HttpFetcher::builder()
        .allow_insecure_host(address.to_string())
        .min_transfer_rate(0, Duration::from_secs(1))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut download = fetcher.fetch(&source(address)).await.unwrap();
    let error = loop {
        match download.body.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the body never ends"),
            Err(error) => break error,
        }
    };
    assert!(matches!(error, FetchError::Timeout("the whole download")), "{error:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}
