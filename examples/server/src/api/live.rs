//! What is happening now: the live stream of processing updates, and the dashboard's
//! counters.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use callhook::event_log::{EventCount, EventFilter, EventStatus};
use serde::Serialize;
use time::OffsetDateTime;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use utoipa::ToSchema;

use super::{ApiError, EventSummary, Failure, rfc3339};
use crate::AppState;
use crate::stats::{AlertView, RequestCounts};

/// Server-sent events: one `event: update` per processing attempt, its data an
/// [`EventSummary`] as JSON.
#[utoipa::path(get, path = "/api/stream", responses((status = 200, description = "text/event-stream of EventSummary")))]
pub(super) async fn stream(
    State(state): State<AppState>,
) -> Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>> {
    let updates = BroadcastStream::new(state.worker.subscribe()).filter_map(|update| {
        let update = update.ok()?;
        let summary = serde_json::to_string(&EventSummary::from(&update.event)).ok()?;
        let summary = callhook::redact::url_credentials(&summary).into_owned();
        Some(Ok(SseEvent::default().event("update").data(summary)))
    });
    Sse::new(updates).keep_alive(KeepAlive::default())
}

/// One provider's figures in one window.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct WindowStats {
    /// Events stored (first arrivals), from the event log.
    received: u64,
    /// Of those, processed.
    processed: u64,
    /// Of those, waiting for an attempt.
    pending: u64,
    /// Of those, failed for good (or unparsable).
    failed: u64,
    /// Requests as this process answered them (duplicates, rejections by reason, ...).
    requests: RequestCounts,
}

/// One provider's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderStats {
    provider: String,
    last_minute: WindowStats,
    last_hour: WindowStats,
    /// Every event ever stored (the request figures are this process's last hour).
    all_time: WindowStats,
}

/// The dashboard's counters and the recent alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    /// RFC 3339: when these figures were taken.
    at: String,
    providers: Vec<ProviderStats>,
    /// The alerts sent, newest first.
    alerts: Vec<AlertView>,
}

fn fill(windows: &mut BTreeMap<String, WindowStats>, counts: &[EventCount]) {
    for count in counts {
        let stats = windows.entry(count.provider.to_string()).or_default();
        stats.received += count.count;
        match count.status {
            EventStatus::Pending => stats.pending += count.count,
            EventStatus::Processed => stats.processed += count.count,
            EventStatus::Failed => stats.failed += count.count,
        }
    }
}

/// Per provider: received, processed, pending, failed (from the event log) and
/// duplicates and rejections (this process), for the last minute, the last hour and all
/// time; and the recent alerts.
#[utoipa::path(get, path = "/api/stats", responses((status = 200, body = StatsView), (status = 401, body = ApiError)))]
pub(super) async fn stats(State(state): State<AppState>) -> Result<Json<StatsView>, Failure> {
    let now = OffsetDateTime::now_utc();
    let mut windows: [BTreeMap<String, WindowStats>; 3] = Default::default();
    let spans = [Some(Duration::from_secs(60)), Some(Duration::from_secs(3600)), None];
    for (window, span) in windows.iter_mut().zip(spans) {
        let since = span.map(|span| now - span);
        fill(window, &state.storage.event_counts(&EventFilter::default().received_between(since, None)).await?);
        for (provider, requests) in state.stats.window(now, span.unwrap_or(Duration::from_secs(3600))) {
            window.entry(provider).or_default().requests = requests;
        }
    }
    let [mut minute, mut hour, all] = windows;
    let providers = all
        .into_iter()
        // Admin actions are in the log, but they are not traffic.
        .filter(|(provider, _)| provider != crate::actions::PROVIDER.as_str())
        .map(|(provider, all_time)| ProviderStats {
            last_minute: minute.remove(&provider).unwrap_or_default(),
            last_hour: hour.remove(&provider).unwrap_or_default(),
            provider,
            all_time,
        })
        .collect();
    Ok(Json(StatsView { at: rfc3339(now), providers, alerts: state.stats.alerts() }))
}
