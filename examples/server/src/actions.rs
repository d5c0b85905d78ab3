//! Admin actions are recorded in the event log itself, next to the events they touched,
//! so the log stays the one place that tells what happened, and is never deleted.
//!
//! An action is a delivery from provider `callhook` (path: the API route, body: the
//! action as JSON) with one event of type `callhook.admin.<action>`, stored already
//! processed: it is never scheduled, so handlers do not see it.

use std::sync::atomic::{AtomicU64, Ordering};

use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{
    AttemptReport, AttemptResult, EventId, EventLog, EventLogError, NewDelivery, NewEvent, Verification,
};
use time::OffsetDateTime;

/// The provider name admin actions are stored under.
pub const PROVIDER: ProviderId = ProviderId::from_static("callhook");

/// Records `action` (e.g. `reprocess`), about `subject` (an event id, if one), with its
/// `details`. Returns the id of the stored action.
pub async fn record(
    storage: &dyn EventLog,
    action: &str,
    subject: Option<String>,
    details: serde_json::Value,
) -> Result<EventId, EventLogError> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let now = OffsetDateTime::now_utc();
    let body = serde_json::to_vec(&serde_json::json!({ "action": action, "details": &details }))
        .expect("JSON values serialize");
    let mut delivery = NewDelivery::new(PROVIDER, format!("/api/admin/{action}"), now, body);
    delivery.method = "POST".into();
    delivery.headers = vec![("content-type".into(), "application/json".into())];
    delivery.verification = Verification::Verified;
    let mut event = UnmodeledEvent::new(PROVIDER, format!("admin.{action}"));
    event.subject_id = subject;
    event.occurred_at = Some(now);
    event.data = details;
    // Unique across restarts and across servers sharing a database.
    let key = format!(
        "admin:{action}:{}:{}:{}",
        now.unix_timestamp_nanos(),
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    );
    let outcome = storage
        .append(delivery, vec![NewEvent::parsed(format!("callhook.admin.{action}"), key, Event::Unmodeled(event))])
        .await?;
    let id = outcome.events[0].id();
    storage.record_attempt(id, AttemptReport::new(now, now, AttemptResult::Processed)).await?;
    Ok(id)
}
