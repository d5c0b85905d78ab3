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

/// A clock that moves only when told to ([`ManualClock::advance`], [`ManualClock::set`]):
/// for tests that step through hours of retries while real I/O (a local HTTP server)
/// runs at its own pace. Clones share the time.
///
/// ```
/// use callhook::clock::{Clock, ManualClock};
/// use time::macros::datetime;
/// let clock = ManualClock::new(datetime!(2026-12-01 10:00 UTC));
/// clock.advance(time::Duration::hours(4));
/// assert_eq!(clock.now(), datetime!(2026-12-01 14:00 UTC));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: std::sync::Arc<std::sync::Mutex<OffsetDateTime>>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self { now: std::sync::Arc::new(std::sync::Mutex::new(start)) }
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    /// Sets the time.
    pub fn set(&self, to: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `.ci/run` runs the tests a second time with the clock a year ahead and sets
    /// `CALLHOOK_EXPECT_YEAR_AT_LEAST`: this proves the clock really moved for them.
    #[test]
    fn the_system_clock_is_where_ci_moved_it() {
        if let Ok(year) = std::env::var("CALLHOOK_EXPECT_YEAR_AT_LEAST") {
            let year: i32 = year.parse().expect("a year");
            assert!(SystemClock.now().year() >= year, "the clock was not moved: {}", SystemClock.now());
        }
    }
}
