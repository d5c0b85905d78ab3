//! The EventLog, JobQueue and Store contract every implementation keeps, on a real
//! PostgreSQL server (skipped, saying so, when `CALLHOOK_TEST_POSTGRES_URL` is unset
//! outside CI).

mod support;

callhook::event_log_conformance_tests!(optional support::fresh());
callhook::job_queue_conformance_tests!(optional support::fresh());
callhook::store_conformance_tests!(optional support::fresh());

/// The Store contract again without group commit: each append and finish is its own
/// transaction, a path of its own.
mod without_group_commit {
    use callhook_postgres::Options;

    use super::support;

    callhook::store_conformance_tests!(optional support::fresh_with(Options::default().pool_size(8).group_commit_writers(0)));
}
