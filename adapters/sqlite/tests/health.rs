//! Health and storage tell the truth, on real files, through a real `Receiver`: a
//! database file deleted or replaced while open, a full store, a write lock held
//! elsewhere, and too little free space. Each checks what a provider gets (the status),
//! what is stored, and what `ping` (the health endpoint's check) says.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use callhook::Receiver;
use callhook::event_log::{EventFilter, EventLog};
use callhook::providers::whatsapp;
use callhook::verify::Secret;
use callhook_sqlite::{Options, SqliteStore};

const SECRET: &str = "meta-secret";
const PATH: &str = "/webhooks/whatsapp";

/// The log lines of this test binary so far that mention `path`: a global subscriber,
/// because the store logs from its own threads.
fn logged(path: &std::path::Path) -> Vec<String> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt().with_ansi(false).with_writer(move || Capture(sink.clone())).init();
        logs
    });
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    text.lines().filter(|line| line.contains(&*path.to_string_lossy())).map(str::to_owned).collect()
}

/// A store on a fresh file, with the free-space check off unless a test turns it on
/// (the machine's own free space is no part of these tests).
async fn open(dir: &tempfile::TempDir, options: Options) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open_with(dir.path().join("callhook.sqlite"), options).await.unwrap())
}

fn options() -> Options {
    Options::default().min_free_space(0)
}

fn receiver(store: &Arc<SqliteStore>, storage_timeout: Duration) -> Receiver {
    let provider = whatsapp::WhatsApp::builder().app_secret(Secret::new(SECRET)).build();
    Receiver::builder()
        .store(store.clone())
        .mount(PATH, Arc::new(provider))
        .storage_timeout(storage_timeout)
        .build()
        .unwrap()
}

/// A signed WhatsApp status webhook for message `wamid` (one event), `padding` bytes
/// bigger than the bare status.
fn webhook(wamid: &str, padding: usize) -> http::Request<bytes::Bytes> {
    let mut statuses = whatsapp::testing::statuses(&[(wamid, "delivered", 1_767_225_600)]);
    statuses["padding"] = "p".repeat(padding).into();
    whatsapp::testing::signed(
        SECRET,
        PATH,
        &whatsapp::testing::notification("messages", statuses),
        time::OffsetDateTime::now_utc(),
    )
}

/// The dedupe key of [`webhook`]'s event.
fn key(wamid: &str) -> String {
    format!("status:{wamid}:delivered")
}

async fn stored(store: &SqliteStore) -> Vec<String> {
    let events = store.list_events(&EventFilter::default().limit(usize::MAX)).await.unwrap();
    events.into_iter().map(|event| event.dedupe_key).collect()
}

async fn ping_error(store: &SqliteStore) -> String {
    store.ping().await.expect_err("ping must fail").to_string()
}

#[cfg(unix)]
#[tokio::test]
async fn a_deleted_database_file_refuses_writes_and_fails_ping() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, options()).await;
    logged(store.path());
    let receiver = receiver(&store, Duration::from_secs(30));
    assert_eq!(receiver.handle(webhook("wamid.before", 0)).await.status(), 200);
    store.ping().await.expect("healthy");

    std::fs::remove_file(store.path()).unwrap();
    // SQLite would go on writing into the unlinked file; nothing of it may be acknowledged.
    for n in 0..5 {
        let response = receiver.handle(webhook(&format!("wamid.after-{n}"), 0)).await;
        assert_eq!(response.status(), 503, "write {n} after the deletion");
    }
    let error = ping_error(&store).await;
    assert!(error.contains("database file was deleted or moved away while open"), "{error}");
    println!("deleted: 5 of 5 webhooks 503; ping: {error}");
    // One ERROR naming the file, however many writes were refused.
    let logs = logged(store.path());
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert!(logs[0].contains("ERROR") && logs[0].contains("deleted or moved away while open"), "{logs:#?}");
    let append = store.append(delivery("direct"), vec![]).await.unwrap_err().to_string();
    assert!(append.contains("deleted"), "{append}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_replaced_database_file_refuses_writes_and_fails_ping() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, options()).await;
    let receiver = receiver(&store, Duration::from_secs(30));
    assert_eq!(receiver.handle(webhook("wamid.before", 0)).await.status(), 200);

    // Another SQLite file renamed over the path (a restore gone wrong, say).
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    std::fs::rename(&other, store.path()).unwrap();

    assert_eq!(receiver.handle(webhook("wamid.after", 0)).await.status(), 503);
    let error = ping_error(&store).await;
    assert!(error.contains("database file was replaced"), "{error}");
    // Refused for good: putting a file back does not make later writes trustworthy.
    assert_eq!(receiver.handle(webhook("wamid.later", 0)).await.status(), 503);
}

/// Moved away, the file keeps its name elsewhere (writes would still reach it), but the
/// path no longer finds it: the next start would open an empty store there. `ping`
/// checks the path every time; the sync thread at most every 10 ms.
#[cfg(unix)]
#[tokio::test]
async fn a_database_file_moved_away_fails_ping_then_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, options()).await;
    let receiver = receiver(&store, Duration::from_secs(30));
    assert_eq!(receiver.handle(webhook("wamid.before", 0)).await.status(), 200);

    std::fs::rename(store.path(), dir.path().join("moved.sqlite")).unwrap();
    let error = ping_error(&store).await;
    assert!(error.contains("database file was deleted or moved away while open"), "{error}");
    assert_eq!(receiver.handle(webhook("wamid.after", 0)).await.status(), 503);
}

#[cfg(unix)]
#[tokio::test]
async fn a_deleted_wal_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, options()).await;
    let receiver = receiver(&store, Duration::from_secs(30));
    assert_eq!(receiver.handle(webhook("wamid.before", 0)).await.status(), 200);

    let mut wal = store.path().as_os_str().to_owned();
    wal.push("-wal");
    std::fs::remove_file(&wal).unwrap();
    // The sync thread looks the WAL up at most every 10 ms (an fstat of a file being
    // appended to costs more): past that, the next write's sync finds it gone.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(receiver.handle(webhook("wamid.after", 0)).await.status(), 503);
    let error = ping_error(&store).await;
    assert!(error.contains("WAL file was deleted or moved away while open"), "{error}");
}

/// A real "full": the store capped with `max_size` and filled through the receiver until
/// a webhook is refused. Every acknowledged webhook is stored; `ping` fails, and keeps
/// failing after its own heartbeat succeeds (a row rewritten in place needs no new
/// page), because the room left is below `min_free_space`; raising the cap heals it.
#[tokio::test]
async fn a_full_store_answers_503_fails_ping_and_recovers_when_the_cap_is_raised() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, options().max_size(Some(256 * 1024)).min_free_space(64 * 1024)).await;
    logged(store.path());
    let receiver = receiver(&store, Duration::from_secs(30));

    let mut acknowledged = Vec::new();
    let refused = loop {
        let wamid = format!("wamid.fill-{}", acknowledged.len());
        let response = receiver.handle(webhook(&wamid, 2000)).await;
        match response.status().as_u16() {
            200 => acknowledged.push(wamid),
            503 => break wamid,
            other => panic!("unexpected {other}"),
        }
        assert!(acknowledged.len() < 1000, "a 256 KiB store never filled up");
    };
    assert!(!acknowledged.is_empty());
    let full = store.append(delivery(&"x".repeat(64 * 1024)), vec![]).await.unwrap_err().to_string();
    assert!(full.contains("full"), "{full}");

    let first = ping_error(&store).await;
    let second = ping_error(&store).await;
    assert!(second.contains("below the minimum"), "the heartbeat's success alone does not heal it: {first} / {second}");
    println!("full: {} acknowledged, then 503; append: {full}; ping: {first}; again: {second}", acknowledged.len());
    let keys = stored(&store).await;
    for wamid in &acknowledged {
        assert!(keys.contains(&key(wamid)), "acknowledged {wamid} is stored");
    }
    assert!(!keys.contains(&key(&refused)), "the refused webhook is not stored");

    store.set_max_size(Some(16 * 1024 * 1024)).await.unwrap();
    store.ping().await.expect("healthy again");
    assert_eq!(receiver.handle(webhook(&refused, 2000)).await.status(), 200, "the provider's retry");
    // One ERROR when writes started failing (two failed), one WARN when they worked again.
    let logs = logged(store.path());
    assert_eq!(logs.len(), 2, "{logs:#?}");
    assert!(logs[0].contains("ERROR") && logs[0].contains("writes are failing"), "{logs:#?}");
    assert!(logs[1].contains("WARN") && logs[1].contains("writes succeed again"), "{logs:#?}");
}

/// Another connection holds SQLite's write lock, so the writer waits: the receiver's
/// storage timeout answers 503, `ping` fails (at once once the stall timeout has
/// passed, and so do new writes); after the lock is released the provider's retry is
/// acknowledged and the event is stored once.
#[tokio::test]
async fn a_held_write_lock_times_out_to_503_fails_ping_and_the_retry_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let stall = Duration::from_millis(1500);
    let mut options = options().stall_timeout(stall);
    options.busy_timeout = Duration::from_secs(600); // the writer waits for the lock, never gives up
    let store = open(&dir, options).await;
    let receiver = receiver(&store, Duration::from_secs(1));
    // Unlocked, a webhook is acknowledged (retried like a provider would, should a slow
    // disk take longer than the short timeout).
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.handle(webhook("wamid.before", 0)).await.status() != 200 {
        assert!(Instant::now() < deadline, "never acknowledged");
    }

    let other = rusqlite::Connection::open(store.path()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(receiver.handle(webhook("wamid.stalled", 0)).await.status(), 503);
    let error = ping_error(&store).await;
    assert!(error.contains("heartbeat") || error.contains("stall"), "{error}");
    // Past the stall timeout, both fail at once rather than queue.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ping_error(&store).await.contains("stall timeout") {
        assert!(Instant::now() < deadline, "never reported as stalled");
    }
    let refused = store.append(delivery("direct"), vec![]).await.unwrap_err().to_string();
    assert!(refused.contains("writer thread has been on one transaction"), "{refused}");
    println!("lock held: ping: {error}; later: {refused}");

    other.execute_batch("COMMIT").unwrap();
    // The provider retries until acknowledged (the writer may take a moment to see the
    // lock free); the stalled write committed first, so the retry is a duplicate.
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.handle(webhook("wamid.stalled", 0)).await.status() != 200 {
        assert!(Instant::now() < deadline, "never acknowledged after the lock was released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let keys = stored(&store).await;
    assert_eq!(keys.iter().filter(|stored| **stored == key("wamid.stalled")).count(), 1, "{keys:?}");
    while store.ping().await.is_err() {
        assert!(Instant::now() < deadline, "never healthy again");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn too_little_free_space_fails_ping() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, options().min_free_space(u64::MAX)).await;
    let error = ping_error(&store).await;
    assert!(error.contains("free on the database's file system"), "{error}");
    drop(store);
    let store = open(&dir, options()).await;
    store.ping().await.expect("no minimum: healthy");
}

fn delivery(body: &str) -> callhook::event_log::NewDelivery {
    let provider = callhook::event::ProviderId::from_static("acme");
    callhook::event_log::NewDelivery::new(provider, "/webhooks/acme", time::OffsetDateTime::now_utc(), body.to_owned())
}
