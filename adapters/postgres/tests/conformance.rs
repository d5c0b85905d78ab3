//! The EventLog, JobQueue and Store contract every implementation keeps, on a real
//! PostgreSQL server (skipped, saying so, when `CALLHOOK_TEST_POSTGRES_URL` is unset
//! outside CI).

mod support;

callhook::event_log_conformance_tests!(optional support::fresh());
callhook::job_queue_conformance_tests!(optional support::fresh());
callhook::store_conformance_tests!(optional support::fresh());
