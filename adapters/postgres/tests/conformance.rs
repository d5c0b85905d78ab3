//! The Storage, Scheduler and Store contract every implementation keeps, on a real
//! PostgreSQL server (skipped, saying so, when `CALLHOOK_TEST_POSTGRES_URL` is unset
//! outside CI).

mod support;

callhook::storage_conformance_tests!(optional support::fresh());
callhook::scheduler_conformance_tests!(optional support::fresh());
callhook::store_conformance_tests!(optional support::fresh());
