//! The Storage and Scheduler contract, run against the in-memory implementations. The
//! SQLite and PostgreSQL adapters run the same suite.

callhook::storage_conformance_tests!(async { std::sync::Arc::new(callhook::MemoryStorage::new()) });
callhook::scheduler_conformance_tests!(async { std::sync::Arc::new(callhook::InProcessScheduler::new()) });
