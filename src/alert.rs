//! Alert sinks for events that fail for good: a rate limit that turns a storm of
//! failures into one summary, and (feature `webhook-alerts`) a JSON webhook that works
//! with Slack- and Teams-style incoming webhooks.
//!
//! ```
//! use std::time::Duration;
//! use callhook::alert::RateLimitedAlert;
//! use callhook::alert::LogAlert;
//!
//! // At most 5 alerts a minute; the rest are summed up once the minute is over.
//! let hook = RateLimitedAlert::new(LogAlert, 5, Duration::from_secs(60));
//! # let _ = hook;
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::event_log::EventRecord;

/// An event that failed for good.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Alert {
    /// The event, in its final failed state.
    pub event: EventRecord,
    /// The last error.
    pub error: String,
}

impl Alert {
    /// An alert about `event`, failed with `error`.
    pub fn new(event: EventRecord, error: impl Into<String>) -> Self {
        Self { event, error: error.into() }
    }
}

/// Told about every event that fails for good (after its last attempt).
#[async_trait]
pub trait AlertHook: Send + Sync + 'static {
    /// Reports one failed event. Must not fail; log what cannot be delivered.
    async fn alert(&self, alert: &Alert);

    /// Reports failures a rate limit held back (see
    /// [`RateLimitedAlert`]). The default logs them.
    async fn summary(&self, summary: &AlertSummary) {
        tracing::error!(suppressed = summary.suppressed, first_error = %summary.first_error, "{}", summary.text());
    }
}

/// The default [`AlertHook`]: an `error`-level log line.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogAlert;

#[async_trait]
impl AlertHook for LogAlert {
    async fn alert(&self, alert: &Alert) {
        tracing::error!(
            event_id = %alert.event.id,
            provider = %alert.event.provider,
            event_type = %alert.event.event_type,
            attempts = alert.event.attempts,
            error = %alert.error,
            "event failed for good"
        );
    }
}

/// An [`AlertHook`] made from an async closure; see [`alert_fn`].
#[derive(Clone, Copy, Debug)]
pub struct AlertFn<F>(F);

/// Makes an [`AlertHook`] from an async closure that takes the alert by value.
///
/// ```
/// use callhook::alert::{alert_fn, Alert};
/// let hook = alert_fn(|alert: Alert| async move { eprintln!("{}", alert.error) });
/// # let _ = hook;
/// ```
pub fn alert_fn<F, Fut>(f: F) -> AlertFn<F>
where
    F: Fn(Alert) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    AlertFn(f)
}

#[async_trait]
impl<F, Fut> AlertHook for AlertFn<F>
where
    F: Fn(Alert) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    async fn alert(&self, alert: &Alert) {
        (self.0)(alert.clone()).await
    }
}

/// Failures a rate limit held back in one window.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AlertSummary {
    /// How many alerts were not sent.
    pub suppressed: u32,
    /// How many of them per provider.
    pub by_provider: BTreeMap<String, u32>,
    /// The first suppressed alert's error.
    pub first_error: String,
    /// The window's length.
    pub window: Duration,
}

impl AlertSummary {
    /// A one-line description, e.g. for a chat message.
    pub fn text(&self) -> String {
        let providers: Vec<String> = self.by_provider.iter().map(|(p, n)| format!("{p}: {n}")).collect();
        format!(
            "{} more events failed for good in the last {} s ({}); first error: {}",
            self.suppressed,
            self.window.as_secs(),
            providers.join(", "),
            self.first_error
        )
    }
}

/// Sends at most `max` alerts per window to the inner hook; the alerts over the limit
/// are counted and, when the window ends, sent as one [`AlertSummary`].
#[derive(Clone)]
pub struct RateLimitedAlert {
    inner: Arc<dyn AlertHook>,
    max: u32,
    window: Duration,
    state: Arc<Mutex<Window>>,
}

#[derive(Default)]
struct Window {
    started: Option<tokio::time::Instant>,
    sent: u32,
    held: Option<AlertSummary>,
}

impl RateLimitedAlert {
    /// At most `max` alerts per `window` to `inner`.
    pub fn new(inner: impl AlertHook, max: u32, window: Duration) -> Self {
        Self { inner: Arc::new(inner), max, window, state: Arc::new(Mutex::new(Window::default())) }
    }

    /// Sends the summary of the current window, if any was held, after the window ends.
    fn flush_later(&self, ends: tokio::time::Instant) {
        let (inner, state) = (self.inner.clone(), self.state.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(ends).await;
            let held = {
                let mut window = state.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::take(&mut *window).held
            };
            if let Some(summary) = held {
                inner.summary(&summary).await;
            }
        });
    }
}

#[async_trait]
impl AlertHook for RateLimitedAlert {
    async fn alert(&self, alert: &Alert) {
        let now = tokio::time::Instant::now();
        let (send, schedule_flush) = {
            let mut window = self.state.lock().unwrap_or_else(|p| p.into_inner());
            // A window with nothing held back simply ends; one with a summary pending
            // ends when the summary is sent.
            if window.started.is_some_and(|start| now >= start + self.window) && window.held.is_none() {
                *window = Window::default();
            }
            let ends = *window.started.get_or_insert(now) + self.window;
            if window.sent < self.max {
                window.sent += 1;
                (true, None)
            } else {
                let first = window.held.is_none();
                let summary = window.held.get_or_insert_with(|| AlertSummary {
                    suppressed: 0,
                    by_provider: BTreeMap::new(),
                    first_error: alert.error.clone(),
                    window: self.window,
                });
                summary.suppressed += 1;
                *summary.by_provider.entry(alert.event.provider.to_string()).or_default() += 1;
                (false, first.then_some(ends))
            }
        };
        if send {
            self.inner.alert(alert).await;
        }
        if let Some(ends) = schedule_flush {
            self.flush_later(ends);
        }
    }

    async fn summary(&self, summary: &AlertSummary) {
        self.inner.summary(summary).await;
    }
}

/// Posts each alert, and each summary, as JSON to a URL: `{"text": "...", ...}`, the
/// shape Slack and Teams incoming webhooks accept (feature `webhook-alerts`). Delivery
/// failures are logged, never retried forever. The URL is a secret (incoming-webhook
/// URLs are credentials) and is never printed.
#[cfg(feature = "webhook-alerts")]
#[derive(Clone, Debug)]
pub struct JsonWebhookAlert {
    client: reqwest::Client,
    url: crate::verify::Secret,
}

#[cfg(feature = "webhook-alerts")]
impl JsonWebhookAlert {
    /// Posts to `url` (with a 10-second timeout).
    ///
    /// ```
    /// let hook = callhook::alert::JsonWebhookAlert::new("https://hooks.slack.com/services/T0/B0/x").unwrap();
    /// assert!(!format!("{hook:?}").contains("hooks.slack.com"));
    /// ```
    pub fn new(url: impl Into<String>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Self { client, url: crate::verify::Secret::new(url.into()) })
    }

    async fn post(&self, body: serde_json::Value) {
        match self.client.post(self.url.expose()).json(&body).send().await {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => tracing::error!(status = %response.status(), "alert webhook refused the alert"),
            Err(error) => tracing::error!(error = %error.without_url(), "could not deliver an alert"),
        }
    }
}

#[cfg(feature = "webhook-alerts")]
#[async_trait]
impl AlertHook for JsonWebhookAlert {
    async fn alert(&self, alert: &Alert) {
        let event = &alert.event;
        let text = format!(
            "callhook: {} event {} ({}) failed for good after {} attempts: {}",
            event.provider, event.id, event.event_type, event.attempts, alert.error
        );
        self.post(serde_json::json!({
            "text": text,
            "event": {
                "id": event.id, "provider": event.provider, "event_type": event.event_type,
                "dedupe_key": event.dedupe_key, "attempts": event.attempts, "error": alert.error,
            },
        }))
        .await;
    }

    async fn summary(&self, summary: &AlertSummary) {
        self.post(serde_json::json!({
            "text": format!("callhook: {}", summary.text()),
            "summary": {
                "suppressed": summary.suppressed, "by_provider": summary.by_provider,
                "first_error": summary.first_error, "window_secs": summary.window.as_secs(),
            },
        }))
        .await;
    }
}
