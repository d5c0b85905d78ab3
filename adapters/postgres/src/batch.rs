//! Group commit: appends that arrive together are written in one transaction.
//!
//! An append on its own is a transaction of several round trips and a commit: the
//! delivery, each event, each call or message state (insert, else lock, read and write
//! back) and each job. Under load most of PostgreSQL's work is those statements, not the
//! rows. [`GroupCommit`] queues appends; its writer tasks (one by default) each take
//! what has queued up (at most [`MAX_BATCH`]) and write it with one statement per table
//! over arrays (`UNNEST`), in one transaction:
//!
//! 1. ids for the deliveries and events, from their sequences, in arrival order (so ids
//!    still grow in append order);
//! 2. the deliveries; the events, insert-if-absent on `(provider, dedupe_key)` in key
//!    order (two batches never wait on each other's keys in opposite orders), then the
//!    ids of those that were duplicates (of earlier rows, or of a sibling in the batch);
//! 3. the links of the inserted events;
//! 4. the call and message states: the batch's events folded per call or message; new
//!    states inserted if absent, then the existing ones locked in key order, folded and
//!    written back;
//! 5. a processing job per inserted pending event;
//! 6. one commit for all.
//!
//! A batch the server aborts as a deadlock or serialization failure is retried whole. A
//! batch that fails otherwise is written again one append at a time, so a bad append
//! fails alone and its neighbours are stored. Every caller is answered only after its
//! append committed (or failed): acknowledged still means durable.

use std::collections::BTreeMap;
use std::sync::Arc;

use callhook::backend::{event_contact, event_links, event_subject};
use callhook::event::Event;
use callhook::event_log::{
    AppendOutcome, Appended, Attempt, AttemptReport, AttemptResult, DeliveryId, EventId, EventRecord, EventStatus,
    NewDelivery, NewEvent,
};
use callhook::job_queue::{ClaimedJob, JobId, NewJob};
use callhook::state::{CallState, MessageState};
use callhook::store::LeaseRequest;
use deadpool_postgres::{Pool, Transaction};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::codec::{self, EVENT_COLUMNS, from_json, json, nanos};
use crate::error::DbError;
use crate::storage::TRANSIENT_RETRIES;

/// The most appends (or finished attempts) one transaction writes.
pub(crate) const MAX_BATCH: usize = 256;

/// Writes a batch of `T` in one transaction, answering each with an `A`.
pub(crate) trait BatchWrite: Send + Sync + 'static {
    /// What is queued.
    type Item: Send + Sync + 'static;
    /// What each caller gets back.
    type Answer: Send + 'static;

    /// Writes `items` in `tx` (not committing), answering each in order.
    fn write<'a>(
        tx: &'a Transaction<'a>,
        items: &'a [Self::Item],
    ) -> impl std::future::Future<Output = Result<Vec<Self::Answer>, DbError>> + Send + 'a;
}

/// One queued item with its answer channel.
struct Queued<W: BatchWrite> {
    item: W::Item,
    answer: oneshot::Sender<Result<W::Answer, DbError>>,
}

/// Queues items for a few writer tasks, each writing what has queued up in one
/// transaction (group commit).
pub(crate) struct GroupCommit<W: BatchWrite> {
    queue: mpsc::Sender<Queued<W>>,
}

impl<W: BatchWrite> GroupCommit<W> {
    /// Starts `writers` writer tasks on `pool` (needs a tokio runtime); they end when
    /// this is dropped.
    pub(crate) fn start(pool: Pool, writers: usize) -> Self {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches::<W>(pool.clone(), receiver.clone()));
        }
        Self { queue }
    }

    /// Writes `item` with whatever else is queued meanwhile; answers once committed.
    pub(crate) async fn write(&self, item: W::Item) -> Result<W::Answer, DbError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Queued { item, answer })
            .await
            .map_err(|_| DbError::Corrupt("the group-commit writers stopped".into()))?;
        answered.await.map_err(|_| DbError::Corrupt("a group-commit writer stopped mid-batch".into()))?
    }
}

/// A writer task: takes what has queued up, writes it, answers.
async fn write_batches<W: BatchWrite>(pool: Pool, receiver: Arc<Mutex<mpsc::Receiver<Queued<W>>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else { return };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        write_batch::<W>(&pool, batch).await;
    }
}

/// Writes one batch and answers each of its callers: the batch retried whole when the
/// server aborts it as a deadlock; when the server refuses a value, each item alone so
/// a bad one fails alone; any other error (connection lost, commit outcome unknown)
/// answers every caller with it.
async fn write_batch<W: BatchWrite>(pool: &Pool, batch: Vec<Queued<W>>) {
    let (items, answers): (Vec<W::Item>, Vec<_>) = batch.into_iter().map(|queued| (queued.item, queued.answer)).unzip();
    match with_retries::<W>(pool, &items).await {
        Ok(results) => {
            for (answer, result) in answers.into_iter().zip(results) {
                let _ = answer.send(Ok(result));
            }
        }
        Err(error) if items.len() > 1 && error.may_be_one_items() => {
            tracing::debug!(%error, items = items.len(), "a batch failed; writing its items one by one");
            for (item, answer) in items.into_iter().zip(answers) {
                let result = with_retries::<W>(pool, std::slice::from_ref(&item)).await;
                let _ = answer.send(result.map(|mut results| results.remove(0)));
            }
        }
        Err(error) => {
            let mut answers = answers.into_iter();
            let shared = error.to_string();
            if let Some(first) = answers.next() {
                let _ = first.send(Err(error));
            }
            for answer in answers {
                let _ = answer.send(Err(DbError::Batch(shared.clone())));
            }
        }
    }
}

async fn with_retries<W: BatchWrite>(pool: &Pool, items: &[W::Item]) -> Result<Vec<W::Answer>, DbError> {
    let mut tries = 0;
    loop {
        let attempt = async {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            let answers = W::write(&tx, items).await?;
            tx.commit().await?;
            Ok::<_, DbError>(answers)
        };
        match attempt.await {
            Err(error) if error.is_transient() && tries < TRANSIENT_RETRIES => tries += 1,
            other => return other,
        }
    }
}

/// Appends: a delivery and its events, with the jobs of its new pending events (the
/// first ones leased to the caller, as asked); answers the outcome, whether a job was
/// queued for a claim, and the leased jobs.
pub(crate) struct Appends;

impl BatchWrite for Appends {
    type Item = (NewDelivery, Vec<NewEvent>, LeaseRequest);
    type Answer = (AppendOutcome, bool, Vec<ClaimedJob>);

    fn write<'a>(
        tx: &'a Transaction<'a>,
        items: &'a [Self::Item],
    ) -> impl std::future::Future<Output = Result<Vec<Self::Answer>, DbError>> + Send + 'a {
        write_appends(tx, items)
    }
}

/// One event row of the batch, as it will be inserted.
struct Row<'a> {
    append: usize,
    id: i64,
    record: EventRecord,
    json: Option<String>,
    source: &'a NewEvent,
}

async fn write_appends(
    tx: &Transaction<'_>,
    batch: &[(NewDelivery, Vec<NewEvent>, LeaseRequest)],
) -> Result<Vec<(AppendOutcome, bool, Vec<ClaimedJob>)>, DbError> {
    let event_count: usize = batch.iter().map(|(_, events, _)| events.len()).sum();
    let delivery_ids = next_ids(tx, "callhook_deliveries_id_seq", batch.len()).await?;
    let event_ids = next_ids(tx, "callhook_events_id_seq", event_count).await?;

    // 2. The deliveries.
    let statement = tx
        .prepare_cached(
            "INSERT INTO callhook_deliveries
                 (id, provider, received_at, method, path, query, headers, body, verification, parse_error, account, key_slot)
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::bytea[], $9::text[], $10::text[], $11::text[], $12::text[])",
        )
        .await?;
    let deliveries: Vec<&NewDelivery> = batch.iter().map(|(delivery, _, _)| delivery).collect();
    tx.execute(
        &statement,
        &[
            &delivery_ids,
            &deliveries.iter().map(|d| d.provider.as_str()).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| nanos(d.received_at)).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| d.method.as_str()).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| d.query.as_deref()).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| json(&d.headers)).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| &d.body[..]).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| d.verification.as_str()).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| d.parse_error.as_deref()).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| d.account.as_ref().map(|a| a.as_str())).collect::<Vec<_>>(),
            &deliveries.iter().map(|d| d.key.map(|k| k.as_str())).collect::<Vec<_>>(),
        ],
    )
    .await?;

    // The events, with their ids in arrival order.
    let mut rows: Vec<Row<'_>> = Vec::with_capacity(event_count);
    let mut ids = event_ids.iter();
    for (append, (delivery, events, _)) in batch.iter().enumerate() {
        let delivery =
            callhook::event_log::DeliveryRecord::from_new(DeliveryId(delivery_ids[append]), delivery.clone());
        for source in events {
            let record = EventRecord::from_new(EventId(0), &delivery, source.clone());
            let json = record.event.as_ref().map(json);
            rows.push(Row { append, id: *ids.next().expect("an id per event"), record, json, source });
        }
    }
    // In key order: concurrent batches take the keys' index entries in one order.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&rows[*a].record, &rows[*b].record);
        (a.provider.as_str(), &a.dedupe_key).cmp(&(b.provider.as_str(), &b.dedupe_key))
    });
    let ordered = |field: &dyn Fn(&Row<'_>) -> Option<String>| -> Vec<Option<String>> {
        order.iter().map(|i| field(&rows[*i])).collect()
    };
    let statement = tx
        .prepare_cached(
            "INSERT INTO callhook_events (id, delivery_id, provider, event_type, dedupe_key, event, status, attempts,
                 last_error, received_at, next_attempt_at, processed_at, subject, account, contact)
             SELECT id, delivery_id, provider, event_type, dedupe_key, event, status, 0, last_error, received_at,
                 next_attempt_at, NULL, subject, account, contact
             FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                 $9::int8[], $10::int8[], $11::text[], $12::text[], $13::text[]) WITH ORDINALITY
                 AS t(id, delivery_id, provider, event_type, dedupe_key, event, status, last_error, received_at,
                      next_attempt_at, subject, account, contact, n)
             ORDER BY n
             ON CONFLICT (provider, dedupe_key) DO NOTHING RETURNING id",
        )
        .await?;
    let inserted_rows = tx
        .query(
            &statement,
            &[
                &order.iter().map(|i| rows[*i].id).collect::<Vec<_>>(),
                &order.iter().map(|i| rows[*i].record.delivery_id.0).collect::<Vec<_>>(),
                &ordered(&|r| Some(r.record.provider.to_string())),
                &ordered(&|r| Some(r.record.event_type.clone())),
                &ordered(&|r| Some(r.record.dedupe_key.clone())),
                &ordered(&|r| r.json.clone()),
                &ordered(&|r| Some(r.record.status.as_str().to_owned())),
                &ordered(&|r| r.record.last_error.clone()),
                &order.iter().map(|i| nanos(rows[*i].record.received_at)).collect::<Vec<_>>(),
                &order.iter().map(|i| rows[*i].record.next_attempt_at.map(nanos)).collect::<Vec<_>>(),
                &ordered(&|r| r.record.event.as_ref().and_then(event_subject).map(str::to_owned)),
                &ordered(&|r| r.record.account.as_ref().map(ToString::to_string)),
                &ordered(&|r| r.record.event.as_ref().and_then(event_contact).map(str::to_owned)),
            ],
        )
        .await?;
    let mut inserted = std::collections::HashSet::with_capacity(inserted_rows.len());
    for row in &inserted_rows {
        inserted.insert(row.try_get::<_, i64>(0)?);
    }
    // The duplicates' ids: earlier rows, or a sibling of this batch inserted above.
    let duplicates: Vec<usize> = (0..rows.len()).filter(|i| !inserted.contains(&rows[*i].id)).collect();
    let mut existing: BTreeMap<(String, String), i64> = BTreeMap::new();
    if !duplicates.is_empty() {
        let statement = tx
            .prepare_cached(
                "SELECT e.id, e.provider, e.dedupe_key FROM callhook_events e
                 JOIN UNNEST($1::text[], $2::text[]) AS k(provider, dedupe_key)
                     ON e.provider = k.provider AND e.dedupe_key = k.dedupe_key",
            )
            .await?;
        let providers: Vec<&str> = duplicates.iter().map(|i| rows[*i].record.provider.as_str()).collect();
        let keys: Vec<&str> = duplicates.iter().map(|i| rows[*i].record.dedupe_key.as_str()).collect();
        for row in tx.query(&statement, &[&providers, &keys]).await? {
            existing.insert((row.try_get(1)?, row.try_get(2)?), row.try_get(0)?);
        }
    }

    // 3. Links of the inserted events.
    let (mut linked, mut linking): (Vec<&str>, Vec<i64>) = (Vec::new(), Vec::new());
    for row in rows.iter().filter(|row| inserted.contains(&row.id)) {
        if let Some(event) = &row.record.event {
            for other in event_links(event) {
                linked.push(other);
                linking.push(row.id);
            }
        }
    }
    if !linked.is_empty() {
        let statement = tx
            .prepare_cached(
                "INSERT INTO callhook_event_links (linked, event_id) SELECT * FROM UNNEST($1::text[], $2::int8[])
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        tx.execute(&statement, &[&linked, &linking]).await?;
    }

    // 4. States.
    let folded: Vec<&Event> =
        rows.iter().filter(|row| inserted.contains(&row.id)).filter_map(|row| row.record.event.as_ref()).collect();
    fold_states(tx, &folded).await?;

    // 5. Jobs of the inserted pending events: the first `lease.count` of each append
    // claimed for its caller (leased: other workers skip them), the others due now.
    let mut leasable: Vec<usize> = batch.iter().map(|(_, _, lease)| lease.count).collect();
    let jobs: Vec<(usize, NewJob, bool)> = rows
        .iter()
        .filter(|row| inserted.contains(&row.id) && row.source.initial_status() == EventStatus::Pending)
        .map(|row| {
            let leased = leasable[row.append] > 0;
            if leased {
                leasable[row.append] -= 1;
            }
            (row.append, NewJob::process_event(EventId(row.id), batch[row.append].0.received_at), leased)
        })
        .collect();
    let mut scheduled = vec![false; batch.len()];
    let mut claims: Vec<Vec<ClaimedJob>> = vec![Vec::new(); batch.len()];
    if !jobs.is_empty() {
        let statement = tx
            .prepare_cached(
                "INSERT INTO callhook_jobs (key, kind, due_at, visible_at, deadline, lease)
                 SELECT key, kind, due_at, visible_at, deadline, CASE WHEN leased THEN nextval('callhook_leases') END
                 FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::bool[])
                     AS j(key, kind, due_at, visible_at, deadline, leased)
                 ON CONFLICT (key) DO NOTHING RETURNING id, key, lease",
            )
            .await?;
        let until = |append: usize| batch[append].2.until;
        let keys: Vec<&str> = jobs.iter().map(|(_, job, _)| job.key.as_str()).collect();
        let kinds: Vec<String> = jobs.iter().map(|(_, job, _)| json(&job.kind)).collect();
        let due: Vec<i64> = jobs.iter().map(|(_, job, _)| nanos(job.due_at)).collect();
        let visible: Vec<i64> =
            jobs.iter().map(|(append, job, leased)| nanos(if *leased { until(*append) } else { job.due_at })).collect();
        let deadlines: Vec<Option<i64>> = jobs.iter().map(|(_, job, _)| job.deadline.map(nanos)).collect();
        let leased: Vec<bool> = jobs.iter().map(|(_, _, leased)| *leased).collect();
        let mut queued: BTreeMap<String, (i64, Option<i64>)> = BTreeMap::new();
        for row in tx.query(&statement, &[&keys, &kinds, &due, &visible, &deadlines, &leased]).await? {
            queued.insert(row.try_get(1)?, (row.try_get(0)?, row.try_get(2)?));
        }
        for (append, job, _) in jobs {
            let Some((id, lease)) = queued.get(&job.key) else { continue };
            match lease {
                Some(lease) => {
                    let mut claimed = callhook::job_queue::Job::new(JobId(*id), job.key.clone(), job.kind, job.due_at);
                    claimed.deadline = job.deadline;
                    claims[append].push(ClaimedJob::new(claimed, *lease as u64, until(append)));
                }
                None => scheduled[append] = true,
            }
        }
    }

    if scheduled.contains(&true) {
        crate::listen::notify(tx).await?;
    }

    // Each append's outcome, its events in the order given.
    let mut outcomes: Vec<Vec<Appended>> =
        batch.iter().map(|(_, events, _)| Vec::with_capacity(events.len())).collect();
    for row in &rows {
        let appended = if inserted.contains(&row.id) {
            Appended::Inserted(EventId(row.id))
        } else {
            let key = (row.record.provider.to_string(), row.record.dedupe_key.clone());
            let id = existing.get(&key).ok_or_else(|| DbError::Corrupt(format!("duplicate {key:?} not found")))?;
            Appended::Duplicate(EventId(*id))
        };
        outcomes[row.append].push(appended);
    }
    Ok(outcomes
        .into_iter()
        .zip(claims)
        .enumerate()
        .map(|(append, (events, claims))| {
            (AppendOutcome::new(DeliveryId(delivery_ids[append]), events), scheduled[append], claims)
        })
        .collect())
}

/// `count` values of sequence `sequence`, ascending.
async fn next_ids(tx: &Transaction<'_>, sequence: &str, count: usize) -> Result<Vec<i64>, DbError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let statement = tx.prepare_cached(&format!("SELECT nextval('{sequence}') FROM generate_series(1, $1)")).await?;
    let count = i32::try_from(count).map_err(|_| DbError::Corrupt("batch too large".into()))?;
    let mut ids: Vec<i64> =
        tx.query(&statement, &[&count]).await?.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// Folds the batch's inserted events into their call and message states: new states are
/// inserted if absent (in key order), existing ones locked in key order, folded and
/// written back.
async fn fold_states(tx: &Transaction<'_>, events: &[&Event]) -> Result<(), DbError> {
    let mut calls: BTreeMap<(&str, &str), Vec<&callhook::event::CallEvent>> = BTreeMap::new();
    let mut messages: BTreeMap<(&str, &str), Vec<&callhook::event::MessageEvent>> = BTreeMap::new();
    for event in events {
        match event {
            Event::Call(call) => calls.entry((call.provider.as_str(), &call.call_id)).or_default().push(call),
            Event::Message(message) => {
                messages.entry((message.provider.as_str(), &message.message_id)).or_default().push(message)
            }
            _ => {}
        }
    }
    fold_table(
        tx,
        "callhook_call_states",
        "call_id",
        &calls,
        |(provider, id), events| {
            let mut state = CallState::new(callhook::event::ProviderId::new(*provider), *id);
            events.iter().for_each(|event| state.apply(event));
            state
        },
        |state: &mut CallState, events| events.iter().for_each(|event| state.apply(event)),
    )
    .await?;
    fold_table(
        tx,
        "callhook_message_states",
        "message_id",
        &messages,
        |(provider, id), events| {
            let mut state = MessageState::new(callhook::event::ProviderId::new(*provider), *id);
            events.iter().for_each(|event| state.apply(event));
            state
        },
        |state: &mut MessageState, events| events.iter().for_each(|event| state.apply(event)),
    )
    .await
}

async fn fold_table<E, T: serde::Serialize + serde::de::DeserializeOwned>(
    tx: &Transaction<'_>,
    table: &str,
    id_column: &str,
    keys: &BTreeMap<(&str, &str), Vec<&E>>,
    fresh: impl Fn(&(&str, &str), &[&E]) -> T,
    apply: impl Fn(&mut T, &[&E]),
) -> Result<(), DbError> {
    if keys.is_empty() {
        return Ok(());
    }
    let providers: Vec<&str> = keys.keys().map(|(provider, _)| *provider).collect();
    let ids: Vec<&str> = keys.keys().map(|(_, id)| *id).collect();
    let states: Vec<String> = keys.iter().map(|(key, events)| json(&fresh(key, events))).collect();
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO {table} (provider, {id_column}, state)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])
             ON CONFLICT (provider, {id_column}) DO NOTHING RETURNING provider, {id_column}"
        ))
        .await?;
    let mut new = std::collections::HashSet::new();
    for row in tx.query(&insert, &[&providers, &ids, &states]).await? {
        new.insert((row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?));
    }
    let old: Vec<(&str, &str)> =
        keys.keys().filter(|(p, i)| !new.contains(&((*p).to_owned(), (*i).to_owned()))).copied().collect();
    if old.is_empty() {
        return Ok(());
    }
    let select = tx
        .prepare_cached(&format!(
            "SELECT s.provider, s.{id_column}, s.state FROM {table} s
             JOIN UNNEST($1::text[], $2::text[]) AS k(provider, id) ON s.provider = k.provider AND s.{id_column} = k.id
             ORDER BY s.provider, s.{id_column} FOR UPDATE OF s"
        ))
        .await?;
    let old_providers: Vec<&str> = old.iter().map(|(provider, _)| *provider).collect();
    let old_ids: Vec<&str> = old.iter().map(|(_, id)| *id).collect();
    let (mut up_providers, mut up_ids, mut up_states) = (Vec::new(), Vec::new(), Vec::new());
    for row in tx.query(&select, &[&old_providers, &old_ids]).await? {
        let (provider, id): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let mut state: T = from_json(&row.try_get::<_, String>(2)?)?;
        let events = keys
            .get(&(provider.as_str(), id.as_str()))
            .ok_or_else(|| DbError::Corrupt(format!("state {provider}/{id} was not asked for")))?;
        apply(&mut state, events);
        up_states.push(json(&state));
        up_providers.push(provider);
        up_ids.push(id);
    }
    let update = tx
        .prepare_cached(&format!(
            "UPDATE {table} AS s SET state = u.state
             FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u(provider, id, state)
             WHERE s.provider = u.provider AND s.{id_column} = u.id"
        ))
        .await?;
    tx.execute(&update, &[&up_providers, &up_ids, &up_states]).await?;
    Ok(())
}

/// Finished attempts: each recorded on its event, and its job ended as the result calls
/// for (deleted when processed or failed for good, due again when retried), the job
/// only if the claim's lease is still held; answers the event as it now stands and
/// whether the lease was held.
pub(crate) struct Finishes;

impl BatchWrite for Finishes {
    type Item = (ClaimedJob, EventId, AttemptReport);
    type Answer = (EventRecord, bool);

    fn write<'a>(
        tx: &'a Transaction<'a>,
        items: &'a [Self::Item],
    ) -> impl std::future::Future<Output = Result<Vec<Self::Answer>, DbError>> + Send + 'a {
        write_finishes(tx, items)
    }
}

async fn write_finishes(
    tx: &Transaction<'_>,
    items: &[(ClaimedJob, EventId, AttemptReport)],
) -> Result<Vec<(EventRecord, bool)>, DbError> {
    // The events, locked in id order.
    let mut ids: Vec<i64> = items.iter().map(|(_, id, _)| id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let select = tx
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM callhook_events WHERE id = ANY($1) ORDER BY id FOR UPDATE"
        ))
        .await?;
    let mut records: BTreeMap<i64, EventRecord> = BTreeMap::new();
    for row in tx.query(&select, &[&ids]).await? {
        let record = codec::event_record(&row)?;
        records.insert(record.id.0, record);
    }
    // The jobs, in id order: removed, or due again, each only under its claim's lease.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|i| items[*i].0.job.id.0);
    let (mut done_ids, mut done_leases) = (Vec::new(), Vec::new());
    let (mut again_ids, mut again_leases, mut again_due, mut again_errors) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in &order {
        let (claim, _, report) = &items[*i];
        let lease = claim.lease as i64;
        match &report.result {
            AttemptResult::Retry { error, next_attempt_at } => {
                again_ids.push(claim.job.id.0);
                again_leases.push(lease);
                again_due.push(nanos(*next_attempt_at));
                again_errors.push(error.as_str());
            }
            _ => {
                done_ids.push(claim.job.id.0);
                done_leases.push(lease);
            }
        }
    }
    // By job and lease: a stale finish batched with its job's current one is not held.
    let mut held = std::collections::HashSet::new();
    if !done_ids.is_empty() {
        let delete = tx
            .prepare_cached(
                "DELETE FROM callhook_jobs AS j USING UNNEST($1::int8[], $2::int8[]) AS d(id, lease)
                 WHERE j.id = d.id AND j.lease = d.lease RETURNING j.id, j.lease",
            )
            .await?;
        for row in tx.query(&delete, &[&done_ids, &done_leases]).await? {
            held.insert((row.try_get::<_, i64>(0)?, row.try_get::<_, i64>(1)?));
        }
    }
    if !again_ids.is_empty() {
        let requeue = tx
            .prepare_cached(
                "UPDATE callhook_jobs AS j SET failed_attempts = j.failed_attempts + 1, last_error = u.error,
                     due_at = u.due, visible_at = u.due, lease = NULL
                 FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::text[]) AS u(id, lease, due, error)
                 WHERE j.id = u.id AND j.lease = u.lease RETURNING j.id, u.lease",
            )
            .await?;
        let mut requeued = false;
        for row in tx.query(&requeue, &[&again_ids, &again_leases, &again_due, &again_errors]).await? {
            held.insert((row.try_get::<_, i64>(0)?, row.try_get::<_, i64>(1)?));
            requeued = true;
        }
        if requeued {
            crate::listen::notify(tx).await?;
        }
    }
    // Each attempt in the order finished (an event twice in a batch: both, in order).
    let mut answers = Vec::with_capacity(items.len());
    let (mut a_event, mut a_number, mut a_started, mut a_finished, mut a_error) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::<Option<String>>::new());
    for (claim, id, report) in items {
        let record = records.get_mut(&id.0).ok_or(DbError::EventNotFound(*id))?;
        // A stale attempt is counted, but the status is its job's current holder's.
        if held.contains(&(claim.job.id.0, claim.lease as i64)) {
            record.apply_attempt(report);
        } else {
            record.count_stale_attempt();
        }
        let attempt = Attempt::from_report(record.attempts, report);
        a_event.push(id.0);
        a_number.push(i32::try_from(attempt.number).unwrap_or(i32::MAX));
        a_started.push(nanos(attempt.started_at));
        a_finished.push(nanos(attempt.finished_at));
        a_error.push(attempt.error);
        answers.push(record.clone());
    }
    let update = tx
        .prepare_cached(
            "UPDATE callhook_events AS e SET status = u.status, attempts = u.attempts, last_error = u.last_error,
                 next_attempt_at = u.next_attempt_at, processed_at = u.processed_at
             FROM UNNEST($1::int8[], $2::text[], $3::int4[], $4::text[], $5::int8[], $6::int8[])
                 AS u(id, status, attempts, last_error, next_attempt_at, processed_at)
             WHERE e.id = u.id",
        )
        .await?;
    let finals: Vec<&EventRecord> = records.values().collect();
    tx.execute(
        &update,
        &[
            &finals.iter().map(|r| r.id.0).collect::<Vec<_>>(),
            &finals.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
            &finals.iter().map(|r| i32::try_from(r.attempts).unwrap_or(i32::MAX)).collect::<Vec<_>>(),
            &finals.iter().map(|r| r.last_error.as_deref()).collect::<Vec<_>>(),
            &finals.iter().map(|r| r.next_attempt_at.map(nanos)).collect::<Vec<_>>(),
            &finals.iter().map(|r| r.processed_at.map(nanos)).collect::<Vec<_>>(),
        ],
    )
    .await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO callhook_attempts (event_id, number, started_at, finished_at, error)
             SELECT * FROM UNNEST($1::int8[], $2::int4[], $3::int8[], $4::int8[], $5::text[])",
        )
        .await?;
    tx.execute(&insert, &[&a_event, &a_number, &a_started, &a_finished, &a_error]).await?;

    Ok(items
        .iter()
        .zip(answers)
        .map(|((claim, _, _), record)| (record, held.contains(&(claim.job.id.0, claim.lease as i64))))
        .collect())
}
