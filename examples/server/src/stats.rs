//! What the dashboard counts that the event log cannot tell: duplicate and rejected
//! requests (never stored as events) per provider, in 10-second buckets over the last
//! hour, and the alerts the worker sent.
//!
//! Received, processed, pending and failed come from the event log itself
//! ([`callhook::EventLog::event_counts`]), so they survive restarts and cover every
//! receiver sharing a database; these in-memory figures cover this process since it
//! started.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use callhook::alert::AlertSummary;
use callhook::alert::{Alert, AlertHook};
use callhook::event::ProviderId;
use callhook::receiver::{Observer, RequestOutcome};
use serde::Serialize;
use time::OffsetDateTime;

/// The width of one bucket.
const BUCKET: Duration = Duration::from_secs(10);
/// How many buckets are kept: one hour.
const BUCKETS: usize = 360;
/// How many alerts are kept for the dashboard.
const RECENT_ALERTS: usize = 50;

/// Request outcomes of one provider in a time span.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RequestCounts {
    /// Requests stored and acknowledged.
    pub accepted: u64,
    /// Events already stored when they arrived again.
    pub duplicates: u64,
    /// Verified requests whose body did not parse.
    pub unparsable: u64,
    /// Requests refused before storing, by reason (`bad_signature`, `too_large`, ...).
    pub rejected: BTreeMap<String, u64>,
    /// Requests answered `503` because storage failed.
    pub unavailable: u64,
}

impl RequestCounts {
    fn add(&mut self, outcome: &RequestOutcome) {
        match outcome {
            RequestOutcome::Accepted { duplicates, .. } => {
                self.accepted += 1;
                self.duplicates += duplicates;
            }
            RequestOutcome::Unparsable => self.unparsable += 1,
            RequestOutcome::Rejected { reason } => *self.rejected.entry((*reason).to_owned()).or_default() += 1,
            RequestOutcome::Unavailable => self.unavailable += 1,
            _ => {}
        }
    }

    fn merge(&mut self, other: &RequestCounts) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.unparsable += other.unparsable;
        self.unavailable += other.unavailable;
        for (reason, count) in &other.rejected {
            *self.rejected.entry(reason.clone()).or_default() += count;
        }
    }
}

struct Bucket {
    /// Unix time of its start, in bucket widths.
    index: i64,
    by_provider: BTreeMap<String, RequestCounts>,
}

/// An alert as the dashboard lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    /// RFC 3339.
    pub at: String,
    /// `failed` (one event failed for good) or `summary` (a storm, rate-limited).
    pub kind: &'static str,
    /// The event, for `failed`.
    pub event_id: Option<i64>,
    /// The provider, for `failed`.
    pub provider: Option<String>,
    /// What the alert said.
    pub text: String,
}

#[derive(Default)]
struct Inner {
    buckets: VecDeque<Bucket>,
    alerts: VecDeque<AlertView>,
}

/// The in-memory counters; cheap to clone (clones share). It is a receiver
/// [`Observer`]; [`Stats::recording`] wraps an alert sink so what it sends is listed.
#[derive(Clone, Default)]
pub struct Stats {
    inner: Arc<Mutex<Inner>>,
}

impl Stats {
    /// Empty counters.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere never leaves the counters half-updated in a harmful way.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn index(at: OffsetDateTime) -> i64 {
        at.unix_timestamp().div_euclid(BUCKET.as_secs() as i64)
    }

    /// Counts one outcome at `at`.
    pub fn record(&self, provider: &ProviderId, outcome: &RequestOutcome, at: OffsetDateTime) {
        let index = Self::index(at);
        let mut inner = self.lock();
        if inner.buckets.back().is_none_or(|bucket| bucket.index < index) {
            inner.buckets.push_back(Bucket { index, by_provider: BTreeMap::new() });
            while inner.buckets.len() > BUCKETS {
                inner.buckets.pop_front();
            }
        }
        // A clock step backwards counts in the newest bucket rather than being lost.
        let bucket = inner.buckets.back_mut().expect("a bucket was just ensured");
        bucket.by_provider.entry(provider.to_string()).or_default().add(outcome);
    }

    /// Per provider, the outcomes of the `span` before `now` (to the bucket).
    pub fn window(&self, now: OffsetDateTime, span: Duration) -> BTreeMap<String, RequestCounts> {
        let newest = Self::index(now);
        let oldest = newest - (span.as_secs() / BUCKET.as_secs()) as i64 + 1;
        let mut totals: BTreeMap<String, RequestCounts> = BTreeMap::new();
        for bucket in self.lock().buckets.iter().filter(|bucket| (oldest..=newest).contains(&bucket.index)) {
            for (provider, counts) in &bucket.by_provider {
                totals.entry(provider.clone()).or_default().merge(counts);
            }
        }
        totals
    }

    /// The alerts sent, newest first.
    pub fn alerts(&self) -> Vec<AlertView> {
        self.lock().alerts.iter().rev().cloned().collect()
    }

    fn push_alert(&self, alert: AlertView) {
        let mut inner = self.lock();
        inner.alerts.push_back(alert);
        while inner.alerts.len() > RECENT_ALERTS {
            inner.alerts.pop_front();
        }
    }

    /// Wraps `sink` so every alert and summary it is given is also listed here.
    pub fn recording<A: AlertHook>(&self, sink: A) -> RecordedAlerts<A> {
        RecordedAlerts { stats: self.clone(), sink }
    }
}

impl Observer for Stats {
    fn observe(&self, provider: &ProviderId, outcome: &RequestOutcome) {
        self.record(provider, outcome, OffsetDateTime::now_utc());
    }
}

/// An alert sink that lists what it sends on the dashboard (see [`Stats::recording`]).
pub struct RecordedAlerts<A> {
    stats: Stats,
    sink: A,
}

fn now_rfc3339() -> String {
    crate::api::rfc3339(OffsetDateTime::now_utc())
}

#[async_trait]
impl<A: AlertHook> AlertHook for RecordedAlerts<A> {
    async fn alert(&self, alert: &Alert) {
        self.stats.push_alert(AlertView {
            at: now_rfc3339(),
            kind: "failed",
            event_id: Some(alert.event.id.0),
            provider: Some(alert.event.provider.to_string()),
            text: format!("event {} ({}) failed: {}", alert.event.id, alert.event.event_type, alert.error),
        });
        self.sink.alert(alert).await;
    }

    async fn summary(&self, summary: &AlertSummary) {
        self.stats.push_alert(AlertView {
            at: now_rfc3339(),
            kind: "summary",
            event_id: None,
            provider: None,
            text: summary.text(),
        });
        self.sink.summary(summary).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const TWILIO: ProviderId = ProviderId::from_static("twilio");

    #[test]
    fn windows_count_only_their_span_and_rejections_by_reason() {
        let stats = Stats::new();
        let now = datetime!(2026-12-01 10:00:00 UTC);
        let hour_ago = now - time::Duration::minutes(59);
        stats.record(&TWILIO, &RequestOutcome::Accepted { inserted: 1, duplicates: 0 }, hour_ago);
        stats.record(&TWILIO, &RequestOutcome::Accepted { inserted: 0, duplicates: 3 }, now);
        stats.record(&TWILIO, &RequestOutcome::Rejected { reason: "bad_signature" }, now);
        stats.record(&TWILIO, &RequestOutcome::Rejected { reason: "bad_signature" }, now);
        stats.record(&TWILIO, &RequestOutcome::Rejected { reason: "too_large" }, now);

        let minute = &stats.window(now, Duration::from_secs(60))["twilio"];
        assert_eq!((minute.accepted, minute.duplicates), (1, 3));
        assert_eq!(minute.rejected["bad_signature"], 2);
        assert_eq!(minute.rejected["too_large"], 1);
        let hour = &stats.window(now, Duration::from_secs(3600))["twilio"];
        assert_eq!(hour.accepted, 2);
        assert!(stats.window(now + time::Duration::hours(2), Duration::from_secs(3600)).is_empty());
    }

    #[test]
    fn only_an_hour_of_buckets_is_kept() {
        let stats = Stats::new();
        let start = datetime!(2026-12-01 10:00:00 UTC);
        for i in 0..1000 {
            stats.record(&TWILIO, &RequestOutcome::Unavailable, start + time::Duration::seconds(i * 10));
        }
        assert_eq!(stats.lock().buckets.len(), BUCKETS);
    }
}
