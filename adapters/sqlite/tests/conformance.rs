//! The EventLog and JobQueue contract every implementation keeps, on a real SQLite file.

use std::sync::Arc;

use callhook_sqlite::SqliteStore;

/// A fresh store in its own temporary directory (kept alive for the test's duration
/// by leaking the guard: the OS cleans the temp dir).
async fn fresh() -> Arc<SqliteStore> {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    Arc::new(SqliteStore::open(dir.join("callhook.sqlite")).await.expect("open"))
}

callhook::event_log_conformance_tests!(fresh());
callhook::job_queue_conformance_tests!(fresh());
callhook::store_conformance_tests!(fresh());
