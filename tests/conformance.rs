//! The EventLog and JobQueue contract, run against the in-memory implementations. The
//! SQLite and PostgreSQL adapters run the same suite.

callhook::event_log_conformance_tests!(async { std::sync::Arc::new(callhook::MemoryEventLog::new()) });
callhook::job_queue_conformance_tests!(async { std::sync::Arc::new(callhook::MemoryJobQueue::new()) });
