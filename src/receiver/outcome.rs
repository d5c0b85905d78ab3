//! What happened to each request, for observers that keep their own figures (a
//! dashboard's per-provider counters) beside the `metrics` counters.

use crate::event::ProviderId;

/// How the [`Receiver`](crate::Receiver) answered one routed request.
///
/// Requests to a path with no provider mounted and handshakes are not reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestOutcome {
    /// Stored and acknowledged: `inserted` new events, `duplicates` already stored.
    Accepted {
        /// Events stored for the first time.
        inserted: u64,
        /// Events that were already stored (nothing new kept for them).
        duplicates: u64,
    },
    /// Verified, but the body did not parse: stored as a failed placeholder.
    Unparsable,
    /// Refused before anything was stored; `reason` is
    /// [`VerifyError::reason`](crate::verify::VerifyError::reason), `too_large` or `method`.
    Rejected {
        /// Why.
        reason: &'static str,
    },
    /// The event log failed; answered `503` so the provider retries.
    Unavailable,
}

impl RequestOutcome {
    /// The `outcome` label of `callhook_requests_total`.
    ///
    /// ```
    /// use callhook::receiver::RequestOutcome;
    /// assert_eq!(RequestOutcome::Accepted { inserted: 0, duplicates: 2 }.label(), "duplicate");
    /// assert_eq!(RequestOutcome::Rejected { reason: "signature" }.label(), "rejected");
    /// ```
    pub fn label(&self) -> &'static str {
        match self {
            RequestOutcome::Accepted { inserted: 0, duplicates } if *duplicates > 0 => "duplicate",
            RequestOutcome::Accepted { .. } => "accepted",
            RequestOutcome::Unparsable => "unparsable",
            RequestOutcome::Rejected { .. } => "rejected",
            RequestOutcome::Unavailable => "unavailable",
        }
    }
}

/// Told the outcome of every routed request, after the response is decided and before
/// it is returned. Keep it cheap: it runs on the request path.
///
/// Closures `Fn(&ProviderId, &RequestOutcome)` are observers.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use callhook::event::ProviderId;
/// use callhook::receiver::RequestOutcome;
/// use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
///
/// let rejected = Arc::new(AtomicU64::new(0));
/// let counter = rejected.clone();
/// let receiver = Receiver::builder()
///     .event_log(Arc::new(MemoryEventLog::new()))
///     .job_queue(Arc::new(MemoryJobQueue::new()))
///     .observer(move |_: &ProviderId, outcome: &RequestOutcome| {
///         if let RequestOutcome::Rejected { .. } = outcome {
///             counter.fetch_add(1, Ordering::Relaxed);
///         }
///     })
///     .build()
///     .unwrap();
/// # let _ = receiver;
/// ```
pub trait Observer: Send + Sync + 'static {
    /// `provider` answered `outcome`.
    fn observe(&self, provider: &ProviderId, outcome: &RequestOutcome);
}

impl<F> Observer for F
where
    F: Fn(&ProviderId, &RequestOutcome) + Send + Sync + 'static,
{
    fn observe(&self, provider: &ProviderId, outcome: &RequestOutcome) {
        self(provider, outcome)
    }
}
