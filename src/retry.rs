//! [`RetryPolicy`]: when to try a failed job again, and when to give up.
//!
//! The wait before attempt `n + 1` is `initial * multiplier^(n - 1)`, capped at
//! `max_delay`, minus a random share of up to `jitter` of it (so a burst of failures
//! does not retry in lockstep). The policy gives up after `max_attempts` attempts, or
//! when the next attempt would fall after the job's deadline; an attempt that would
//! overshoot the deadline is moved to the deadline itself, so the last try happens
//! exactly then (the recording poll's "up to 4 hours").

use std::time::Duration;

use time::OffsetDateTime;

/// Exponential backoff with jitter, a cap per wait, a maximum number of attempts and an
/// optional total deadline.
///
/// ```
/// use std::time::Duration;
/// use callhook::RetryPolicy;
///
/// let policy = RetryPolicy::new(Duration::from_secs(1))
///     .multiplier(2.0)
///     .max_delay(Duration::from_secs(60))
///     .max_attempts(5)
///     .jitter(0.0);
/// assert_eq!(policy.delay_after(1), Duration::from_secs(1));
/// assert_eq!(policy.delay_after(3), Duration::from_secs(4));
/// assert_eq!(policy.delay_after(10), Duration::from_secs(60));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    initial: Duration,
    multiplier: f64,
    max_delay: Duration,
    max_attempts: Option<u32>,
    deadline: Option<Duration>,
    jitter: f64,
}

impl Default for RetryPolicy {
    /// Event processing: 8 attempts, 5 s doubling to at most 10 min, 20% jitter
    /// (about 21 minutes from the first failure to the last attempt).
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(5),
            multiplier: 2.0,
            max_delay: Duration::from_secs(600),
            max_attempts: Some(8),
            deadline: None,
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// A policy waiting `initial` after the first failure, doubling, capped at one hour,
    /// without limits on attempts or time, with 20% jitter.
    pub fn new(initial: Duration) -> Self {
        Self {
            initial,
            multiplier: 2.0,
            max_delay: Duration::from_secs(3600),
            max_attempts: None,
            deadline: None,
            jitter: 0.2,
        }
    }

    /// The growth factor of successive waits (at least 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier.max(1.0);
        self
    }

    /// The longest single wait.
    pub fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Give up after this many attempts in all (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts.max(1));
        self
    }

    /// Give up once this much time has passed since the job was first scheduled; the
    /// last attempt is made at the deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The share of each wait (0 to 1) that is randomly taken off.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The total deadline, if any.
    pub fn total_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The wait after `attempts` failed attempts, before jitter.
    pub fn delay_after(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(64) as i32;
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(exponent);
        Duration::try_from_secs_f64(secs).unwrap_or(self.max_delay).min(self.max_delay)
    }

    /// When to make the next attempt after `attempts` failed ones, the last ending at
    /// `now`; `None` to give up. `deadline` is the job's absolute deadline, if any.
    ///
    /// ```
    /// use std::time::Duration;
    /// use callhook::RetryPolicy;
    /// use time::macros::datetime;
    ///
    /// let policy = RetryPolicy::new(Duration::from_secs(60)).jitter(0.0);
    /// let now = datetime!(2026-12-01 13:59 UTC);
    /// let deadline = datetime!(2026-12-01 14:00 UTC);
    /// // 2 failures: the wait would be 120 s, past the deadline: try at the deadline.
    /// assert_eq!(policy.next_attempt_at(2, now, Some(deadline)), Some(deadline));
    /// assert_eq!(policy.next_attempt_at(3, deadline, Some(deadline)), None);
    /// ```
    pub fn next_attempt_at(
        &self,
        attempts: u32,
        now: OffsetDateTime,
        deadline: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        if self.max_attempts.is_some_and(|max| attempts >= max) {
            return None;
        }
        let delay = self.delay_after(attempts);
        let jittered = delay.mul_f64(1.0 - self.jitter * fastrand::f64());
        let at = now + jittered;
        match deadline {
            Some(deadline) if now >= deadline => None,
            Some(deadline) if at > deadline => Some(deadline),
            _ => Some(at),
        }
    }

    /// The absolute deadline of a job first scheduled at `scheduled_at`.
    pub fn deadline_for(&self, scheduled_at: OffsetDateTime) -> Option<OffsetDateTime> {
        self.deadline.map(|deadline| scheduled_at + deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn jitter_only_shortens_the_wait() {
        let policy = RetryPolicy::new(Duration::from_secs(10)).jitter(0.5);
        let now = datetime!(2026-12-01 0:00 UTC);
        for _ in 0..100 {
            let at = policy.next_attempt_at(1, now, None).unwrap();
            let wait = at - now;
            assert!(wait >= time::Duration::seconds(5) && wait <= time::Duration::seconds(10), "{wait}");
        }
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let policy = RetryPolicy::new(Duration::from_secs(1)).max_attempts(3);
        let now = datetime!(2026-12-01 0:00 UTC);
        assert!(policy.next_attempt_at(2, now, None).is_some());
        assert!(policy.next_attempt_at(3, now, None).is_none());
    }

    #[test]
    fn four_hour_deadline_ends_with_an_attempt_at_the_deadline() {
        let policy = RetryPolicy::new(Duration::from_secs(30)).max_delay(Duration::from_secs(1800)).jitter(0.0);
        let start = datetime!(2026-12-01 10:00 UTC);
        let deadline = policy.clone().deadline(Duration::from_secs(4 * 3600)).deadline_for(start).unwrap();
        let (mut now, mut attempts) = (start, 1);
        while let Some(next) = policy.next_attempt_at(attempts, now, Some(deadline)) {
            assert!(next > now && next <= deadline);
            now = next;
            attempts += 1;
        }
        assert_eq!(now, deadline);
        // Waits of 30 s doubling to 960 s (1,890 s), six capped at 1,800 s, then one
        // shortened to end at the deadline: 13 retries after the first attempt.
        assert_eq!(attempts, 14);
    }
}
