//! What the crash and outage tests check, read straight from the store
//! ([`EventLog::list_events`]) and the effects table: every acknowledged request's events
//! are in the event log and processed, and every stored event's handler ran (once, or
//! more often after a crash: reported apart).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use callhook::EventLog;
use callhook::event_log::{EventFilter, EventRecord, EventStatus};

use crate::effects::{EffectsSource, pg_config};
use crate::load::Outcome;
use crate::serve::StoreKind;
use crate::workload::Prepared;

/// Opens the store a server ran on, to read it.
pub async fn open_store(kind: StoreKind, db: &str, schema: Option<&str>) -> Result<Arc<dyn EventLog>, String> {
    match kind {
        StoreKind::Sqlite | StoreKind::Naive => {
            Ok(Arc::new(callhook_sqlite::SqliteStore::open(db).await.map_err(|e| e.to_string())?))
        }
        StoreKind::Postgres => {
            let config = pg_config(db, schema.unwrap_or("public"))?;
            let options = callhook_postgres::Options::default().pool_size(2).migrate(false);
            Ok(Arc::new(
                callhook_postgres::PostgresStore::connect_config(config, options).await.map_err(|e| e.to_string())?,
            ))
        }
        StoreKind::Noop => Err("the noop store keeps nothing to check".into()),
    }
}

/// Every stored event.
pub async fn all_events(storage: &dyn EventLog) -> Result<Vec<EventRecord>, String> {
    let mut filter = EventFilter::default().limit(2000);
    let mut events = Vec::new();
    loop {
        let page = storage.list_events(&filter).await.map_err(|e| e.to_string())?;
        let full = page.len() == filter.limit;
        if let Some(last) = page.last() {
            filter = filter.before(last.id);
        }
        events.extend(page);
        if !full {
            return Ok(events);
        }
    }
}

/// Waits until no stored event is pending (at most `timeout`); returns how long it
/// took, or the number still pending. Polls a count (`EventLog::event_counts`), which
/// costs the server's store little while it works through the backlog.
pub async fn wait_processed(storage: &dyn EventLog, timeout: Duration) -> Result<Duration, usize> {
    let start = Instant::now();
    let filter = EventFilter::default().status(EventStatus::Pending);
    loop {
        let pending = match storage.event_counts(&filter).await {
            Ok(counts) => counts.iter().map(|c| c.count).sum::<u64>().try_into().unwrap_or(usize::MAX),
            Err(_) => usize::MAX,
        };
        if pending == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(pending);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `(provider, dedupe key)` of every event in an acknowledged request.
pub fn acknowledged(requests: &[Prepared], outcomes: &[Outcome]) -> HashSet<(String, String)> {
    outcomes
        .iter()
        .filter(|o| o.acked())
        .flat_map(|o| {
            let request = &requests[o.index as usize];
            request.keys.iter().map(|key| (request.provider.to_owned(), key.clone()))
        })
        .collect()
}

/// The verdict.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Distinct events in acknowledged requests.
    pub acknowledged: usize,
    /// Events in the log.
    pub stored: usize,
    /// Acknowledged but not in the log: must be 0.
    pub lost: usize,
    /// A few of the lost, for the report.
    pub lost_examples: Vec<String>,
    /// In the log but never acknowledged (stored when the server died or the database
    /// went away before the answer; the provider would retry and be deduplicated).
    pub stored_unacknowledged: usize,
    /// Of those, by what happened to the request that carried them (`io`: the
    /// connection broke before the answer; `not sent`: prepared but never sent).
    pub unacknowledged_by_outcome: std::collections::BTreeMap<String, usize>,
    /// Stored events not processed (pending or failed): must be 0.
    pub not_processed: usize,
    /// Stored events whose handler never ran (no effect row): must be 0.
    pub no_effect: usize,
    /// Stored events handled exactly once.
    pub effected_once: usize,
    /// Stored events handled more than once (at-least-once: a handler that ran, then the
    /// process died before its success was recorded).
    pub effected_more: usize,
    /// Handler invocations beyond the first, in all.
    pub extra_invocations: i64,
    /// Effect rows of ids not in the log: must be 0.
    pub orphan_effects: usize,
}

impl CheckReport {
    /// Whether nothing acknowledged was lost or left unprocessed.
    pub fn passed(&self) -> bool {
        self.lost == 0 && self.not_processed == 0 && self.no_effect == 0 && self.orphan_effects == 0
    }

    /// A human-readable summary.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "events acknowledged {}, stored {} (stored but never acknowledged: {}), lost {}, not processed {}\n\
             handler effects: none {}, exactly once {}, more than once {} ({} extra invocations), orphan rows {}\n",
            self.acknowledged,
            self.stored,
            self.stored_unacknowledged,
            self.lost,
            self.not_processed,
            self.no_effect,
            self.effected_once,
            self.effected_more,
            self.extra_invocations,
            self.orphan_effects,
        );
        if !self.unacknowledged_by_outcome.is_empty() {
            let parts: Vec<String> =
                self.unacknowledged_by_outcome.iter().map(|(what, n)| format!("{what}: {n}")).collect();
            out.push_str(&format!(
                "stored but never acknowledged, by the fate of their request: {}\n",
                parts.join(", ")
            ));
        }
        if !self.lost_examples.is_empty() {
            out.push_str(&format!("lost, e.g.: {}\n", self.lost_examples.join(", ")));
        }
        out.push_str(if self.passed() { "CHECK PASSED\n" } else { "CHECK FAILED\n" });
        out
    }
}

/// Compares the store and the effects with what was acknowledged.
pub async fn check(
    storage: &dyn EventLog,
    effects: &EffectsSource,
    requests: &[Prepared],
    outcomes: &[Outcome],
) -> Result<CheckReport, String> {
    let acknowledged = &acknowledged(requests, outcomes);
    let events = all_events(storage).await?;
    let effects = effects.read().await?;
    let stored: HashMap<(String, String), &EventRecord> =
        events.iter().map(|e| ((e.provider.to_string(), e.dedupe_key.clone()), e)).collect();
    let mut report = CheckReport { acknowledged: acknowledged.len(), stored: events.len(), ..Default::default() };
    for key in acknowledged {
        if !stored.contains_key(key) {
            report.lost += 1;
            if report.lost_examples.len() < 5 {
                report.lost_examples.push(format!("{}:{}", key.0, key.1));
            }
        }
    }
    let unacknowledged: HashSet<&(String, String)> = stored.keys().filter(|key| !acknowledged.contains(*key)).collect();
    report.stored_unacknowledged = unacknowledged.len();
    if !unacknowledged.is_empty() {
        let mut outcome_of: HashMap<usize, String> = HashMap::new();
        for outcome in outcomes {
            let what = match (outcome.status, outcome.error) {
                (Some(status), _) => status.to_string(),
                (None, Some(error)) => error.to_owned(),
                (None, None) => "unknown".to_owned(),
            };
            outcome_of.insert(outcome.index as usize, what);
        }
        // A key sent several times (exact duplicates) is put down to the fate that
        // could have stored it: a broken connection before anything else.
        let rank = |what: &str| match what {
            "io" => 0,
            "timeout" => 1,
            "connect" => 3,
            "not sent" => 4,
            _ => 2,
        };
        let mut fate: HashMap<(String, String), String> = HashMap::new();
        for (index, request) in requests.iter().enumerate() {
            let what = outcome_of.get(&index).cloned().unwrap_or_else(|| "not sent".to_owned());
            for key in request.keys.iter() {
                let key = (request.provider.to_owned(), key.clone());
                if unacknowledged.contains(&key) {
                    let current = fate.entry(key).or_insert_with(|| what.clone());
                    if rank(&what) < rank(current) {
                        *current = what.clone();
                    }
                }
            }
        }
        for what in fate.into_values() {
            *report.unacknowledged_by_outcome.entry(what).or_insert(0) += 1;
        }
    }
    let ids: HashSet<i64> = events.iter().map(|e| e.id.0).collect();
    for event in &events {
        if event.status != EventStatus::Processed {
            report.not_processed += 1;
        }
        match effects.get(&event.id.0) {
            None => report.no_effect += 1,
            Some(1) => report.effected_once += 1,
            Some(count) => {
                report.effected_more += 1;
                report.extra_invocations += count - 1;
            }
        }
    }
    report.orphan_effects = effects.keys().filter(|id| !ids.contains(id)).count();
    Ok(report)
}
