//! [`EventLog`] on PostgreSQL.

use async_trait::async_trait;
use callhook::account::{AccountId, KeySlot};
use callhook::backend::{event_contact, event_links, event_subject, search_id};
use callhook::event::{Event, ProviderId};
use callhook::event_log::{
    AppendOutcome, Appended, Attempt, AttemptReport, DeliveryId, DeliveryRecord, EventCount, EventDetail, EventFilter,
    EventId, EventLog, EventLogError, EventRecord, EventStatus, NewDelivery, NewEvent,
};
use callhook::state::{CallState, MessageState};
use deadpool_postgres::{GenericClient, Transaction};
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;

use crate::PostgresStore;
use crate::codec::{self, DELIVERY_COLUMNS, EVENT_COLUMNS, from_json, json, nanos};
use crate::error::DbError;

/// How often a transaction the server aborted as a deadlock is retried.
pub(crate) const TRANSIENT_RETRIES: usize = 5;

async fn insert_delivery(tx: &Transaction<'_>, delivery: &NewDelivery) -> Result<DeliveryRecord, DbError> {
    let statement = tx
        .prepare_cached(
            "INSERT INTO callhook_deliveries
                 (provider, received_at, method, path, query, headers, body, verification, parse_error, account, key_slot)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .await?;
    let row = tx
        .query_one(
            &statement,
            &[
                &delivery.provider.as_str(),
                &nanos(delivery.received_at),
                &delivery.method,
                &delivery.path,
                &delivery.query,
                &json(&delivery.headers),
                &&delivery.body[..],
                &delivery.verification.as_str(),
                &delivery.parse_error,
                &delivery.account.as_ref().map(AccountId::as_str),
                &delivery.key.map(KeySlot::as_str),
            ],
        )
        .await?;
    Ok(DeliveryRecord::from_new(DeliveryId(row.try_get(0)?), delivery.clone()))
}

async fn load_delivery(client: &impl GenericClient, id: DeliveryId) -> Result<DeliveryRecord, DbError> {
    let statement =
        client.prepare_cached(&format!("SELECT {DELIVERY_COLUMNS} FROM callhook_deliveries WHERE id = $1")).await?;
    let row = client.query_opt(&statement, &[&id.0]).await?;
    codec::delivery_record(&row.ok_or_else(|| DbError::Corrupt(format!("delivery {id} not found")))?)
}

/// Inserts the events in dedupe-key order (a fixed lock order, so two deliveries with
/// the same keys never deadlock), reporting them in the order given.
async fn insert_events(
    tx: &Transaction<'_>,
    delivery: &DeliveryRecord,
    events: &[NewEvent],
) -> Result<Vec<Appended>, DbError> {
    let insert = tx
        .prepare_cached(
            "INSERT INTO callhook_events (delivery_id, provider, event_type, dedupe_key, event, status, attempts,
                 last_error, received_at, next_attempt_at, processed_at, subject, account, contact)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, NULL, $10, $11, $12)
             ON CONFLICT (provider, dedupe_key) DO NOTHING RETURNING id",
        )
        .await?;
    let existing = tx.prepare_cached("SELECT id FROM callhook_events WHERE provider = $1 AND dedupe_key = $2").await?;
    let link = tx
        .prepare_cached("INSERT INTO callhook_event_links (linked, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .await?;
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|a, b| events[*a].dedupe_key.cmp(&events[*b].dedupe_key));
    let mut appended = vec![None; events.len()];
    let mut folds = Vec::new();
    for index in order {
        let record = EventRecord::from_new(EventId(0), delivery, events[index].clone());
        let row = tx
            .query_opt(
                &insert,
                &[
                    &delivery.id.0,
                    &record.provider.as_str(),
                    &record.event_type,
                    &record.dedupe_key,
                    &record.event.as_ref().map(json),
                    &record.status.as_str(),
                    &record.last_error,
                    &nanos(record.received_at),
                    &record.next_attempt_at.map(nanos),
                    &record.event.as_ref().and_then(event_subject),
                    &record.account.as_ref().map(AccountId::as_str),
                    &record.event.as_ref().and_then(event_contact),
                ],
            )
            .await?;
        appended[index] = Some(match row {
            Some(row) => {
                let id: i64 = row.try_get(0)?;
                if let Some(event) = &record.event {
                    for linked in event_links(event) {
                        tx.execute(&link, &[&linked, &id]).await?;
                    }
                }
                folds.extend(record.event);
                Appended::Inserted(EventId(id))
            }
            None => {
                let row = tx.query_one(&existing, &[&record.provider.as_str(), &record.dedupe_key]).await?;
                Appended::Duplicate(EventId(row.try_get(0)?))
            }
        });
    }
    // Folding is order-independent; a fixed order keeps row locks deadlock-free.
    folds.sort_by(|a, b| fold_key(a).cmp(&fold_key(b)));
    for event in &folds {
        fold(tx, event).await?;
    }
    Ok(appended.into_iter().map(|a| a.expect("every index was visited")).collect())
}

fn fold_key(event: &Event) -> (u8, &str, &str) {
    match event {
        Event::Call(call) => (0, call.provider.as_str(), &call.call_id),
        Event::Message(message) => (1, message.provider.as_str(), &message.message_id),
        _ => (2, "", ""),
    }
}

/// Folds an inserted event into its call or message state: the first event of a call
/// inserts its state; later ones lock the row, apply and write back.
async fn fold(tx: &Transaction<'_>, event: &Event) -> Result<(), DbError> {
    match event {
        Event::Call(call) => {
            let mut fresh = CallState::new(call.provider.clone(), call.call_id.clone());
            fresh.apply(call);
            fold_row(
                tx,
                "callhook_call_states",
                "call_id",
                &call.provider,
                &call.call_id,
                &fresh,
                |state: &mut CallState| state.apply(call),
            )
            .await
        }
        Event::Message(message) => {
            let mut fresh = MessageState::new(message.provider.clone(), message.message_id.clone());
            fresh.apply(message);
            fold_row(
                tx,
                "callhook_message_states",
                "message_id",
                &message.provider,
                &message.message_id,
                &fresh,
                |state: &mut MessageState| state.apply(message),
            )
            .await
        }
        _ => Ok(()),
    }
}

async fn fold_row<T: serde::Serialize + serde::de::DeserializeOwned>(
    tx: &Transaction<'_>,
    table: &str,
    id_column: &str,
    provider: &ProviderId,
    id: &str,
    fresh: &T,
    apply: impl FnOnce(&mut T),
) -> Result<(), DbError> {
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO {table} (provider, {id_column}, state) VALUES ($1, $2, $3)
             ON CONFLICT (provider, {id_column}) DO NOTHING RETURNING 1"
        ))
        .await?;
    if tx.query_opt(&insert, &[&provider.as_str(), &id, &json(fresh)]).await?.is_some() {
        return Ok(());
    }
    let select = tx
        .prepare_cached(&format!("SELECT state FROM {table} WHERE provider = $1 AND {id_column} = $2 FOR UPDATE"))
        .await?;
    let row = tx.query_one(&select, &[&provider.as_str(), &id]).await?;
    let mut state: T = from_json(&row.try_get::<_, String>(0)?)?;
    apply(&mut state);
    let update =
        tx.prepare_cached(&format!("UPDATE {table} SET state = $3 WHERE provider = $1 AND {id_column} = $2")).await?;
    tx.execute(&update, &[&provider.as_str(), &id, &json(&state)]).await?;
    Ok(())
}

async fn load_state<T: serde::de::DeserializeOwned>(
    client: &impl GenericClient,
    table: &str,
    id_column: &str,
    provider: &ProviderId,
    id: &str,
) -> Result<Option<T>, DbError> {
    let statement =
        client.prepare_cached(&format!("SELECT state FROM {table} WHERE provider = $1 AND {id_column} = $2")).await?;
    let row = client.query_opt(&statement, &[&provider.as_str(), &id]).await?;
    row.map(|row| from_json(&row.try_get::<_, String>(0)?)).transpose()
}

/// Event `id`, locked until the transaction ends.
pub(crate) async fn lock_event(tx: &Transaction<'_>, id: EventId) -> Result<EventRecord, DbError> {
    let statement =
        tx.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM callhook_events WHERE id = $1 FOR UPDATE")).await?;
    let row = tx.query_opt(&statement, &[&id.0]).await?.ok_or(DbError::EventNotFound(id))?;
    codec::event_record(&row)
}

async fn update_event(tx: &Transaction<'_>, record: &EventRecord) -> Result<(), DbError> {
    let statement = tx
        .prepare_cached(
            "UPDATE callhook_events SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5,
                 processed_at = $6
             WHERE id = $1",
        )
        .await?;
    let attempts = i32::try_from(record.attempts).unwrap_or(i32::MAX);
    tx.execute(
        &statement,
        &[
            &record.id.0,
            &record.status.as_str(),
            &attempts,
            &record.last_error,
            &record.next_attempt_at.map(nanos),
            &record.processed_at.map(nanos),
        ],
    )
    .await?;
    Ok(())
}

impl PostgresStore {
    async fn try_append(&self, delivery: &NewDelivery, events: &[NewEvent]) -> Result<AppendOutcome, DbError> {
        let mut client = self.pool().get().await?;
        let tx = client.transaction().await?;
        let (outcome, _) = append(&tx, delivery, events).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn try_append_to(&self, delivery: DeliveryId, events: &[NewEvent]) -> Result<Vec<Appended>, DbError> {
        let mut client = self.pool().get().await?;
        let tx = client.transaction().await?;
        let delivery = load_delivery(&tx, delivery).await?;
        let appended = insert_events(&tx, &delivery, events).await?;
        tx.commit().await?;
        Ok(appended)
    }
}

/// Runs `op` again when the server aborted it as a deadlock or serialization failure.
macro_rules! retry_transient {
    ($op:expr) => {{
        let mut tries = 0;
        loop {
            match $op.await {
                Err(error) if error.is_transient() && tries < $crate::storage::TRANSIENT_RETRIES => {
                    tries += 1;
                    tracing::debug!(%error, tries, "retrying a transaction the server aborted");
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use retry_transient;

#[async_trait]
impl EventLog for PostgresStore {
    async fn append(&self, delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError> {
        Ok(retry_transient!(self.try_append(&delivery, &events))?)
    }

    async fn append_to_delivery(
        &self,
        delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError> {
        Ok(retry_transient!(self.try_append_to(delivery, &events))?)
    }

    async fn event(&self, id: EventId) -> Result<Option<EventDetail>, EventLogError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        let statement = client
            .prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM callhook_events WHERE id = $1"))
            .await
            .map_err(DbError::from)?;
        let Some(row) = client.query_opt(&statement, &[&id.0]).await.map_err(DbError::from)? else { return Ok(None) };
        let event = codec::event_record(&row)?;
        let delivery = load_delivery(&client, event.delivery_id).await?;
        let statement = client
            .prepare_cached(
                "SELECT number, started_at, finished_at, error FROM callhook_attempts WHERE event_id = $1 ORDER BY number",
            )
            .await
            .map_err(DbError::from)?;
        let attempts = client
            .query(&statement, &[&id.0])
            .await
            .map_err(DbError::from)?
            .iter()
            .map(codec::attempt)
            .collect::<Result<Vec<Attempt>, DbError>>()?;
        Ok(Some(EventDetail::new(event, delivery, attempts)))
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError> {
        let (conditions, values) = where_clause(filter);
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM callhook_events WHERE {conditions} ORDER BY id DESC LIMIT {limit}");
        let client = self.pool().get().await.map_err(DbError::from)?;
        let statement = client.prepare_cached(&sql).await.map_err(DbError::from)?;
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect();
        let rows = client.query(&statement, &params).await.map_err(DbError::from)?;
        Ok(rows.iter().map(codec::event_record).collect::<Result<Vec<_>, DbError>>()?)
    }

    async fn event_counts(&self, filter: &EventFilter) -> Result<Vec<EventCount>, EventLogError> {
        let (conditions, values) = where_clause(filter);
        let sql = format!(
            "SELECT provider, status, COUNT(*) FROM callhook_events WHERE {conditions}
             GROUP BY provider, status ORDER BY provider, status"
        );
        let client = self.pool().get().await.map_err(DbError::from)?;
        let statement = client.prepare_cached(&sql).await.map_err(DbError::from)?;
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect();
        let rows = client.query(&statement, &params).await.map_err(DbError::from)?;
        let mut counts = Vec::with_capacity(rows.len());
        for row in rows {
            let status: String = row.try_get(1).map_err(DbError::from)?;
            let status = EventStatus::from_name(&status)
                .ok_or_else(|| DbError::Corrupt(format!("unknown event status {status:?}")))?;
            let count: i64 = row.try_get(2).map_err(DbError::from)?;
            let provider: String = row.try_get(0).map_err(DbError::from)?;
            counts.push(EventCount::new(ProviderId::new(provider), status, count.try_into().unwrap_or(0)));
        }
        Ok(counts)
    }

    async fn record_attempt(&self, id: EventId, report: AttemptReport) -> Result<EventRecord, EventLogError> {
        let mut client = self.pool().get().await.map_err(DbError::from)?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let record = record_attempt(&tx, id, &report).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(record)
    }

    async fn reprocess(&self, id: EventId, at: OffsetDateTime) -> Result<EventRecord, EventLogError> {
        let mut client = self.pool().get().await.map_err(DbError::from)?;
        let tx = client.transaction().await.map_err(DbError::from)?;
        let mut record = lock_event(&tx, id).await?;
        record.reset_to_pending(at);
        update_event(&tx, &record).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(record)
    }

    async fn call_state(&self, provider: &ProviderId, call_id: &str) -> Result<Option<CallState>, EventLogError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        Ok(load_state(&client, "callhook_call_states", "call_id", provider, call_id).await?)
    }

    async fn message_state(
        &self,
        provider: &ProviderId,
        message_id: &str,
    ) -> Result<Option<MessageState>, EventLogError> {
        let client = self.pool().get().await.map_err(DbError::from)?;
        Ok(load_state(&client, "callhook_message_states", "message_id", provider, message_id).await?)
    }

    async fn ping(&self) -> Result<(), EventLogError> {
        // Reachable is not enough: a standby after a failover, or a session forced
        // read-only, answers queries but refuses every append.
        let client = self.pool().get().await.map_err(DbError::from)?;
        let row = client
            .query_one("SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'", &[])
            .await
            .map_err(DbError::from)?;
        let (standby, read_only): (bool, bool) = (row.get(0), row.get(1));
        if standby || read_only {
            let why = if standby { "a standby in recovery" } else { "read-only" };
            return Err(DbError::ReadOnly(why).into());
        }
        Ok(())
    }
}

/// Stores a delivery and its events in `tx`; also gives the ids of the inserted pending
/// events (those [`Store::append_and_schedule`] queues).
pub(crate) async fn append(
    tx: &Transaction<'_>,
    delivery: &NewDelivery,
    events: &[NewEvent],
) -> Result<(AppendOutcome, Vec<EventId>), DbError> {
    let delivery = insert_delivery(tx, delivery).await?;
    let appended = insert_events(tx, &delivery, events).await?;
    let new_pending = appended
        .iter()
        .zip(events)
        .filter_map(|(appended, event)| match appended {
            Appended::Inserted(id) if event.initial_status() == EventStatus::Pending => Some(*id),
            _ => None,
        })
        .collect();
    Ok((AppendOutcome::new(delivery.id, appended), new_pending))
}

/// Records one attempt on event `id` in `tx` (locking the event's row); the event as
/// it now stands.
pub(crate) async fn record_attempt(
    tx: &Transaction<'_>,
    id: EventId,
    report: &AttemptReport,
) -> Result<EventRecord, DbError> {
    let record = lock_event(tx, id).await?;
    add_attempt(tx, record, report, true).await
}

/// Adds one attempt to `record` (locked by this transaction) and writes both; the
/// attempt is only counted if its claim's lease was lost
/// ([`EventRecord::count_stale_attempt`]).
pub(crate) async fn add_attempt(
    tx: &Transaction<'_>,
    mut record: EventRecord,
    report: &AttemptReport,
    lease_held: bool,
) -> Result<EventRecord, DbError> {
    let id = record.id;
    if lease_held {
        record.apply_attempt(report);
    } else {
        record.count_stale_attempt();
    }
    update_event(tx, &record).await?;
    let attempt = Attempt::from_report(record.attempts, report);
    let statement = tx
        .prepare_cached(
            "INSERT INTO callhook_attempts (event_id, number, started_at, finished_at, error)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    let number = i32::try_from(attempt.number).unwrap_or(i32::MAX);
    tx.execute(&statement, &[&id.0, &number, &nanos(attempt.started_at), &nanos(attempt.finished_at), &attempt.error])
        .await?;
    Ok(record)
}

/// The SQL conditions of every part of `filter` but its limit, with their values.
fn where_clause(filter: &EventFilter) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut sql = String::from("TRUE");
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut push = |clause: &str, value: Box<dyn ToSql + Sync + Send>| {
        values.push(value);
        sql.push_str(&format!(" AND {clause} ${}", values.len()));
    };
    if let Some(provider) = &filter.provider {
        push("provider =", Box::new(provider.as_str().to_owned()));
    }
    if let Some(event_type) = &filter.event_type {
        push("event_type =", Box::new(event_type.clone()));
    }
    if let Some(status) = filter.status {
        push("status =", Box::new(status.as_str()));
    }
    if let Some(since) = filter.since {
        push("received_at >=", Box::new(nanos(since)));
    }
    if let Some(until) = filter.until {
        push("received_at <", Box::new(nanos(until)));
    }
    if let Some(subject) = &filter.subject {
        push("subject =", Box::new(subject.clone()));
    }
    if let Some(account) = &filter.account {
        push("account =", Box::new(account.as_str().to_owned()));
    }
    if let Some(contact) = &filter.contact {
        push("contact =", Box::new(contact.clone()));
    }
    if let Some(before) = filter.before {
        push("id <", Box::new(before.0));
    }
    if let Some(text) = &filter.search {
        values.push(Box::new(text.clone()));
        let n = values.len();
        let by_id = search_id(text).map(|id| format!("id = {} OR ", id.0)).unwrap_or_default();
        sql.push_str(&format!(" AND ({by_id}strpos(dedupe_key, ${n}) > 0 OR strpos(subject, ${n}) > 0)"));
    }
    if let Some(linked) = &filter.links_to {
        values.push(Box::new(linked.clone()));
        sql.push_str(&format!(
            " AND id IN (SELECT event_id FROM callhook_event_links WHERE linked = ${})",
            values.len()
        ));
    }
    (sql, values)
}
