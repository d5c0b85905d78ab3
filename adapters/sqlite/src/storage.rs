//! [`EventLog`] on SQLite.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use async_trait::async_trait;
use callhook::account::{AccountId, KeySlot};
use callhook::backend::{event_contact, event_links, event_subject, search_id};
use callhook::event::{Event, ProviderId};
use callhook::event_log::{
    AppendOutcome, Appended, Attempt, AttemptReport, DeliveryId, DeliveryRecord, EventCount, EventDetail, EventFilter,
    EventId, EventLog, EventLogError, EventRecord, EventStatus, NewDelivery, NewEvent,
};
use callhook::state::{CallState, MessageState};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use crate::SqliteStore;
use crate::codec::{self, DELIVERY_COLUMNS, EVENT_COLUMNS, from_json, json, nanos};
use crate::error::DbError;

/// An event with its JSON and subject worked out before it reaches the writer thread
/// (serializing there would make every other write wait for it).
pub(crate) struct EncodedEvent {
    new: NewEvent,
    json: Option<String>,
    subject: Option<String>,
    contact: Option<String>,
}

pub(crate) fn encode(events: Vec<NewEvent>) -> Vec<EncodedEvent> {
    events
        .into_iter()
        .map(|new| {
            let json = new.event.as_ref().map(json);
            let subject = new.event.as_ref().and_then(event_subject).map(str::to_owned);
            let contact = new.event.as_ref().and_then(event_contact).map(str::to_owned);
            EncodedEvent { new, json, subject, contact }
        })
        .collect()
}

fn insert_delivery(conn: &Connection, delivery: NewDelivery, headers: &str) -> Result<DeliveryRecord, DbError> {
    conn.prepare_cached(
        "INSERT INTO deliveries (provider, received_at, method, path, query, headers, body, verification, parse_error,
             account, key_slot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        delivery.provider.as_str(),
        nanos(delivery.received_at),
        delivery.method,
        delivery.path,
        delivery.query,
        headers,
        &delivery.body[..],
        delivery.verification.as_str(),
        delivery.parse_error,
        delivery.account.as_ref().map(AccountId::as_str),
        delivery.key.map(KeySlot::as_str),
    ])?;
    Ok(DeliveryRecord::from_new(DeliveryId(conn.last_insert_rowid()), delivery))
}

fn load_delivery(conn: &Connection, id: DeliveryId) -> Result<DeliveryRecord, DbError> {
    conn.prepare_cached(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1"))?
        .query_row([id.0], |row| Ok(codec::delivery_record(row)))
        .optional()?
        .ok_or_else(|| DbError::Corrupt(format!("delivery {id} not found")))?
}

/// Inserts a delivery's events (duplicates reported, not inserted) and folds the new
/// ones into `states`, which it then saves.
fn insert_events(
    conn: &Connection,
    delivery: &DeliveryRecord,
    events: Vec<EncodedEvent>,
    mut states: States,
) -> Result<Vec<Appended>, DbError> {
    let mut appended = Vec::with_capacity(events.len());
    for EncodedEvent { new, json, subject, contact } in events {
        let record = EventRecord::from_new(EventId(0), delivery, new);
        let inserted = conn
            .prepare_cached(
                "INSERT INTO events (delivery_id, provider, event_type, dedupe_key, event, status, attempts,
                     last_error, received_at, next_attempt_at, processed_at, subject, account, contact)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, NULL, ?10, ?11, ?12)
                 ON CONFLICT (provider, dedupe_key) DO NOTHING",
            )?
            .execute(params![
                delivery.id.0,
                record.provider.as_str(),
                record.event_type,
                record.dedupe_key,
                json,
                record.status.as_str(),
                record.last_error,
                nanos(record.received_at),
                record.next_attempt_at.map(nanos),
                subject,
                record.account.as_ref().map(AccountId::as_str),
                contact,
            ])?;
        if inserted == 1 {
            let id = conn.last_insert_rowid();
            if let Some(event) = &record.event {
                for linked in event_links(event) {
                    conn.prepare_cached("INSERT OR IGNORE INTO event_links (linked, event_id) VALUES (?1, ?2)")?
                        .execute(params![linked, id])?;
                }
            }
            appended.push(Appended::Inserted(EventId(id)));
            if let Some(event) = &record.event {
                states.apply(event);
            }
        } else {
            let existing: i64 = conn
                .prepare_cached("SELECT id FROM events WHERE provider = ?1 AND dedupe_key = ?2")?
                .query_row(params![record.provider.as_str(), record.dedupe_key], |row| row.get(0))?;
            appended.push(Appended::Duplicate(EventId(existing)));
        }
    }
    states.save(conn)?;
    Ok(appended)
}

/// The call and message states a delivery's events fold into, read before anything is
/// written: a state that cannot be read then fails the write before it changed
/// anything, so it fails alone (see the `writer` module), not with its whole group.
#[derive(Default)]
struct States {
    calls: HashMap<(ProviderId, String), (CallState, bool)>,
    messages: HashMap<(ProviderId, String), (MessageState, bool)>,
}

impl States {
    fn load(conn: &Connection, events: &[EncodedEvent]) -> Result<Self, DbError> {
        let mut states = Self::default();
        for event in events.iter().filter_map(|e| e.new.event.as_ref()) {
            match event {
                Event::Call(call) => {
                    let key = (call.provider.clone(), call.call_id.clone());
                    if let Entry::Vacant(entry) = states.calls.entry(key) {
                        let state = load_state(conn, "call_states", "call_id", &call.provider, &call.call_id)?
                            .unwrap_or_else(|| CallState::new(call.provider.clone(), call.call_id.clone()));
                        entry.insert((state, false));
                    }
                }
                Event::Message(message) => {
                    let key = (message.provider.clone(), message.message_id.clone());
                    if let Entry::Vacant(entry) = states.messages.entry(key) {
                        let state =
                            load_state(conn, "message_states", "message_id", &message.provider, &message.message_id)?
                                .unwrap_or_else(|| {
                                    MessageState::new(message.provider.clone(), message.message_id.clone())
                                });
                        entry.insert((state, false));
                    }
                }
                _ => {}
            }
        }
        Ok(states)
    }

    /// Folds an inserted event into its state.
    fn apply(&mut self, event: &Event) {
        match event {
            Event::Call(call) => {
                if let Some((state, changed)) = self.calls.get_mut(&(call.provider.clone(), call.call_id.clone())) {
                    state.apply(call);
                    *changed = true;
                }
            }
            Event::Message(message) => {
                let key = (message.provider.clone(), message.message_id.clone());
                if let Some((state, changed)) = self.messages.get_mut(&key) {
                    state.apply(message);
                    *changed = true;
                }
            }
            _ => {}
        }
    }

    /// Writes the states that changed, in the same transaction.
    fn save(self, conn: &Connection) -> Result<(), DbError> {
        for ((provider, id), (state, changed)) in self.calls {
            if changed {
                save_state(conn, "call_states", "call_id", &provider, &id, &state)?;
            }
        }
        for ((provider, id), (state, changed)) in self.messages {
            if changed {
                save_state(conn, "message_states", "message_id", &provider, &id, &state)?;
            }
        }
        Ok(())
    }
}

fn load_state<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    table: &str,
    id_column: &str,
    provider: &ProviderId,
    id: &str,
) -> Result<Option<T>, DbError> {
    let text: Option<String> = conn
        .prepare_cached(&format!("SELECT state FROM {table} WHERE provider = ?1 AND {id_column} = ?2"))?
        .query_row(params![provider.as_str(), id], |row| row.get(0))
        .optional()?;
    text.as_deref().map(from_json).transpose()
}

fn save_state<T: serde::Serialize>(
    conn: &Connection,
    table: &str,
    id_column: &str,
    provider: &ProviderId,
    id: &str,
    state: &T,
) -> Result<(), DbError> {
    conn.prepare_cached(&format!(
        "INSERT INTO {table} (provider, {id_column}, state) VALUES (?1, ?2, ?3)
         ON CONFLICT (provider, {id_column}) DO UPDATE SET state = excluded.state"
    ))?
    .execute(params![provider.as_str(), id, json(state)])?;
    Ok(())
}

/// One event with its delivery and attempt history.
fn load_detail(conn: &Connection, id: EventId) -> Result<Option<EventDetail>, DbError> {
    let Some(event) = load_event(conn, id)? else { return Ok(None) };
    let delivery = load_delivery(conn, event.delivery_id)?;
    let mut statement = conn.prepare_cached(
        "SELECT number, started_at, finished_at, error FROM attempts WHERE event_id = ?1 ORDER BY number",
    )?;
    let attempts = statement
        .query_map([id.0], |row| Ok(codec::attempt(row)))?
        .map(|row| row?)
        .collect::<Result<Vec<Attempt>, DbError>>()?;
    Ok(Some(EventDetail::new(event, delivery, attempts)))
}

fn load_event(conn: &Connection, id: EventId) -> Result<Option<EventRecord>, DbError> {
    conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"))?
        .query_row([id.0], |row| Ok(codec::event_record(row)))
        .optional()?
        .transpose()
}

/// [`load_event`] leaving the normalized event's JSON undecoded (see [`with_event`]).
fn load_event_unparsed(conn: &Connection, id: EventId) -> Result<Option<(EventRecord, Option<String>)>, DbError> {
    conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"))?
        .query_row([id.0], |row| Ok(codec::event_record_unparsed(row)))
        .optional()?
        .transpose()
}

/// Decodes the event JSON a write returned, after the write, off the writer thread.
pub(crate) fn with_event((mut record, event): (EventRecord, Option<String>)) -> Result<EventRecord, DbError> {
    record.event = event.as_deref().map(from_json::<Event>).transpose()?;
    Ok(record)
}

fn update_event(conn: &Connection, record: &EventRecord) -> Result<(), DbError> {
    conn.prepare_cached(
        "UPDATE events SET status = ?2, attempts = ?3, last_error = ?4, next_attempt_at = ?5, processed_at = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        record.id.0,
        record.status.as_str(),
        record.attempts,
        record.last_error,
        record.next_attempt_at.map(nanos),
        record.processed_at.map(nanos),
    ])?;
    Ok(())
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn append(&self, delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError> {
        let (headers, events) = (json(&delivery.headers), encode(events));
        Ok(self.write(move |conn| append(conn, delivery, &headers, events).map(|(outcome, _)| outcome)).await?)
    }

    async fn append_to_delivery(
        &self,
        delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError> {
        let events = encode(events);
        Ok(self
            .write(move |conn| {
                let delivery = load_delivery(conn, delivery)?;
                let states = States::load(conn, &events)?;
                insert_events(conn, &delivery, events, states)
            })
            .await?)
    }

    async fn event(&self, id: EventId) -> Result<Option<EventDetail>, EventLogError> {
        Ok(self.read(move |conn| load_detail(conn, id)).await?)
    }

    async fn events(&self, ids: Vec<EventId>) -> Result<Vec<Option<EventDetail>>, EventLogError> {
        // One trip to a read connection for all of them.
        Ok(self
            .read(move |conn| {
                let tx = conn.unchecked_transaction()?; // one snapshot for the whole batch
                let details = ids.into_iter().map(|id| load_detail(&tx, id)).collect();
                tx.finish()?;
                details
            })
            .await?)
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError> {
        let (conditions, values) = where_clause(filter);
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE {conditions} ORDER BY id DESC LIMIT {limit}");
        Ok(self
            .read(move |conn| {
                let mut statement = conn.prepare_cached(&sql)?;
                let rows = statement
                    .query_map(rusqlite::params_from_iter(values), |row| Ok(codec::event_record(row)))?
                    .map(|row| row?)
                    .collect::<Result<Vec<_>, DbError>>()?;
                Ok(rows)
            })
            .await?)
    }

    async fn event_counts(&self, filter: &EventFilter) -> Result<Vec<EventCount>, EventLogError> {
        let (conditions, values) = where_clause(filter);
        // Left alone, SQLite walks the (provider, status) index for the GROUP BY and
        // reads every row to test the time; a window is far cheaper read by time.
        let narrowed = filter.subject.is_some()
            || filter.links_to.is_some()
            || filter.account.is_some()
            || filter.contact.is_some();
        let windowed = (filter.since.is_some() || filter.until.is_some()) && !narrowed;
        let index = if windowed { " INDEXED BY events_by_received_at" } else { "" };
        let sql = format!(
            "SELECT provider, status, COUNT(*) FROM events{index} WHERE {conditions}
             GROUP BY provider, status ORDER BY provider, status"
        );
        Ok(self
            .read(move |conn| {
                let mut statement = conn.prepare_cached(&sql)?;
                let rows = statement.query_map(rusqlite::params_from_iter(values), |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
                })?;
                let mut counts = Vec::new();
                for row in rows {
                    let (provider, status, count) = row?;
                    let status = EventStatus::from_name(&status)
                        .ok_or_else(|| DbError::Corrupt(format!("unknown event status {status:?}")))?;
                    counts.push(EventCount::new(ProviderId::new(provider), status, count.try_into().unwrap_or(0)));
                }
                Ok(counts)
            })
            .await?)
    }

    async fn record_attempt(&self, id: EventId, report: AttemptReport) -> Result<EventRecord, EventLogError> {
        Ok(self.write(move |conn| record_attempt(conn, id, &report)).await.and_then(with_event)?)
    }

    async fn reprocess(&self, id: EventId, at: OffsetDateTime) -> Result<EventRecord, EventLogError> {
        Ok(self
            .write(move |conn| {
                let (mut record, event) = load_event_unparsed(conn, id)?.ok_or(DbError::EventNotFound(id))?;
                record.reset_to_pending(at);
                update_event(conn, &record)?;
                Ok((record, event))
            })
            .await
            .and_then(with_event)?)
    }

    async fn call_state(&self, provider: &ProviderId, call_id: &str) -> Result<Option<CallState>, EventLogError> {
        let (provider, call_id) = (provider.clone(), call_id.to_owned());
        Ok(self.read(move |conn| load_state(conn, "call_states", "call_id", &provider, &call_id)).await?)
    }

    async fn message_state(
        &self,
        provider: &ProviderId,
        message_id: &str,
    ) -> Result<Option<MessageState>, EventLogError> {
        let (provider, message_id) = (provider.clone(), message_id.to_owned());
        Ok(self.read(move |conn| load_state(conn, "message_states", "message_id", &provider, &message_id)).await?)
    }

    /// Whether storage can durably accept writes now: not refused (a failed fsync, the
    /// file deleted or replaced), not stalled, enough free space, and a heartbeat write
    /// commits and syncs within the stall timeout (the `health` module has the table).
    async fn ping(&self) -> Result<(), EventLogError> {
        Ok(self.check_health().await?)
    }
}

/// Stores a delivery and its events; also gives the ids of the inserted pending events
/// (those [`Store::append_and_schedule`] queues).
pub(crate) fn append(
    conn: &Connection,
    delivery: NewDelivery,
    headers: &str,
    events: Vec<EncodedEvent>,
) -> Result<(AppendOutcome, Vec<EventId>), DbError> {
    let pending: Vec<bool> = events.iter().map(|e| e.new.initial_status() == EventStatus::Pending).collect();
    let states = States::load(conn, &events)?;
    let delivery = insert_delivery(conn, delivery, headers)?;
    let events = insert_events(conn, &delivery, events, states)?;
    let new_pending = events
        .iter()
        .zip(pending)
        .filter_map(|(appended, pending)| match appended {
            Appended::Inserted(id) if pending => Some(*id),
            _ => None,
        })
        .collect();
    Ok((AppendOutcome::new(delivery.id, events), new_pending))
}

/// Records one attempt on event `id`; the record comes back with its event JSON undecoded
/// (see [`with_event`]).
fn record_attempt(
    conn: &Connection,
    id: EventId,
    report: &AttemptReport,
) -> Result<(EventRecord, Option<String>), DbError> {
    add_attempt(conn, event_to_update(conn, id)?, report, true)
}

/// Event `id` with its event JSON undecoded, or [`DbError::EventNotFound`].
pub(crate) fn event_to_update(conn: &Connection, id: EventId) -> Result<(EventRecord, Option<String>), DbError> {
    load_event_unparsed(conn, id)?.ok_or(DbError::EventNotFound(id))
}

/// Adds one attempt to `loaded` ([`event_to_update`]) and writes both; the attempt is
/// only counted if its claim's lease was lost ([`EventRecord::count_stale_attempt`]).
pub(crate) fn add_attempt(
    conn: &Connection,
    (mut record, event): (EventRecord, Option<String>),
    report: &AttemptReport,
    lease_held: bool,
) -> Result<(EventRecord, Option<String>), DbError> {
    let id = record.id;
    if lease_held {
        record.apply_attempt(report);
    } else {
        record.count_stale_attempt();
    }
    update_event(conn, &record)?;
    let attempt = Attempt::from_report(record.attempts, report);
    conn.prepare_cached(
        "INSERT INTO attempts (event_id, number, started_at, finished_at, error) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        id.0,
        attempt.number,
        nanos(attempt.started_at),
        nanos(attempt.finished_at),
        attempt.error
    ])?;
    Ok((record, event))
}

/// The SQL conditions of every part of `filter` but its limit, with their values.
fn where_clause(filter: &EventFilter) -> (String, Vec<rusqlite::types::Value>) {
    let mut sql = String::from("1 = 1");
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    let mut push = |clause: &str, value: rusqlite::types::Value| {
        values.push(value);
        sql.push_str(&format!(" AND {clause} ?{}", values.len()));
    };
    if let Some(provider) = &filter.provider {
        push("provider =", provider.as_str().to_owned().into());
    }
    if let Some(event_type) = &filter.event_type {
        push("event_type =", event_type.clone().into());
    }
    if let Some(status) = filter.status {
        push("status =", status.as_str().to_owned().into());
    }
    if let Some(since) = filter.since {
        push("received_at >=", nanos(since).into());
    }
    if let Some(until) = filter.until {
        push("received_at <", nanos(until).into());
    }
    if let Some(subject) = &filter.subject {
        push("subject =", subject.clone().into());
    }
    if let Some(account) = &filter.account {
        push("account =", account.as_str().to_owned().into());
    }
    if let Some(contact) = &filter.contact {
        push("contact =", contact.clone().into());
    }
    if let Some(before) = filter.before {
        push("id <", before.0.into());
    }
    if let Some(text) = &filter.search {
        values.push(text.clone().into());
        let n = values.len();
        let by_id = search_id(text).map(|id| format!("id = {} OR ", id.0)).unwrap_or_default();
        sql.push_str(&format!(" AND ({by_id}instr(dedupe_key, ?{n}) > 0 OR instr(subject, ?{n}) > 0)"));
    }
    if let Some(linked) = &filter.links_to {
        values.push(linked.clone().into());
        sql.push_str(&format!(" AND id IN (SELECT event_id FROM event_links WHERE linked = ?{})", values.len()));
    }
    (sql, values)
}
