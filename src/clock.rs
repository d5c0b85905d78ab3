//! Injectable time: a [`Clock`] gives "now" to the receiver, worker and schedulers, so
//! a four-hour retry schedule can be tested in milliseconds.
//!
//! [`SystemClock`] reads the wall clock (production). [`TokioClock`] follows tokio's
//! clock, which tests can pause and auto-advance (`#[tokio::test(start_paused = true)]`):
//! a worker sleeping until a job due in four hours then wakes at once, with every
//! stored time still consistent.
//!
//! ```
//! use callhook::clock::{Clock, SystemClock};
//! let now = SystemClock.now();
//! assert!(now.year() >= 2024);
//! ```

use std::fmt;

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time (UTC).
    fn now(&self) -> OffsetDateTime;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that starts at a given wall time and advances with tokio's clock, so it
/// follows `tokio::time::pause` and `advance` in tests.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// use callhook::clock::{Clock, TokioClock};
/// use time::macros::datetime;
///
/// let clock = TokioClock::starting_at(datetime!(2026-12-01 10:00 UTC));
/// tokio::time::sleep(std::time::Duration::from_secs(4 * 3600)).await; // instant when paused
/// assert_eq!(clock.now(), datetime!(2026-12-01 14:00 UTC));
/// # });
/// ```
#[derive(Clone, Copy)]
pub struct TokioClock {
    wall: OffsetDateTime,
    instant: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `start` now. Must be created inside a tokio runtime.
    pub fn starting_at(start: OffsetDateTime) -> Self {
        Self { wall: start, instant: tokio::time::Instant::now() }
    }
}

impl fmt::Debug for TokioClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioClock").field("now", &self.now()).finish()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> OffsetDateTime {
        self.wall + self.instant.elapsed()
    }
}
