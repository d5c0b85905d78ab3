//! Rows to records and back. Times are stored as unix nanoseconds (exact round trips),
//! events, headers and states as JSON text.

use callhook::account::{AccountId, KeySlot};
use callhook::event::{Event, ProviderId};
use callhook::event_log::{
    Attempt, DeliveryId, DeliveryRecord, EventId, EventRecord, EventStatus, NewDelivery, Verification,
};
use callhook::job_queue::{Job, JobId, JobKind};
use rusqlite::Row;
use time::OffsetDateTime;

use crate::error::DbError;

pub(crate) use callhook::backend::to_unix_nanos as nanos;

pub(crate) fn time(nanos: i64) -> Result<OffsetDateTime, DbError> {
    callhook::backend::from_unix_nanos(nanos).ok_or_else(|| DbError::Corrupt(format!("time out of range: {nanos}")))
}

fn opt_time(nanos: Option<i64>) -> Result<Option<OffsetDateTime>, DbError> {
    nanos.map(time).transpose()
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("callhook's records always serialize")
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DbError> {
    serde_json::from_str(text).map_err(|e| DbError::Corrupt(e.to_string()))
}

/// The columns of `events`, in the order [`event_record`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "id, delivery_id, provider, event_type, dedupe_key, event, status, attempts, \
     last_error, received_at, next_attempt_at, processed_at, account";

pub(crate) fn event_record(row: &Row<'_>) -> Result<EventRecord, DbError> {
    let (mut record, event) = event_record_unparsed(row)?;
    record.event = event.as_deref().map(from_json::<Event>).transpose()?;
    Ok(record)
}

/// [`event_record`] without decoding the normalized event: its JSON comes back beside
/// the record, for the caller to decode off the writer thread.
pub(crate) fn event_record_unparsed(row: &Row<'_>) -> Result<(EventRecord, Option<String>), DbError> {
    let mut record = EventRecord::new(
        EventId(row.get(0)?),
        DeliveryId(row.get(1)?),
        ProviderId::new(row.get::<_, String>(2)?),
        row.get::<_, String>(3)?,
        row.get::<_, String>(4)?,
        time(row.get(9)?)?,
    );
    let event: Option<String> = row.get(5)?;
    let status: String = row.get(6)?;
    record.status = EventStatus::from_name(&status).ok_or_else(|| DbError::Corrupt(format!("status {status:?}")))?;
    record.attempts = row.get(7)?;
    record.last_error = row.get(8)?;
    record.next_attempt_at = opt_time(row.get(10)?)?;
    record.processed_at = opt_time(row.get(11)?)?;
    record.account = row.get::<_, Option<String>>(12)?.map(AccountId::new);
    Ok((record, event))
}

/// The columns of `deliveries`, in the order [`delivery_record`] reads them.
pub(crate) const DELIVERY_COLUMNS: &str =
    "id, provider, received_at, method, path, query, headers, body, verification, parse_error, account, key_slot";

pub(crate) fn delivery_record(row: &Row<'_>) -> Result<DeliveryRecord, DbError> {
    let body: Vec<u8> = row.get(7)?;
    let mut new =
        NewDelivery::new(ProviderId::new(row.get::<_, String>(1)?), row.get::<_, String>(4)?, time(row.get(2)?)?, body);
    new.method = row.get(3)?;
    new.query = row.get(5)?;
    new.headers = from_json(&row.get::<_, String>(6)?)?;
    let verification: String = row.get(8)?;
    new.verification = Verification::from_name(&verification)
        .ok_or_else(|| DbError::Corrupt(format!("verification {verification:?}")))?;
    new.parse_error = row.get(9)?;
    new.account = row.get::<_, Option<String>>(10)?.map(AccountId::new);
    new.key = match row.get::<_, Option<String>>(11)? {
        Some(name) => Some(KeySlot::from_name(&name).ok_or_else(|| DbError::Corrupt(format!("key slot {name:?}")))?),
        None => None,
    };
    Ok(DeliveryRecord::from_new(DeliveryId(row.get(0)?), new))
}

pub(crate) fn attempt(row: &Row<'_>) -> Result<Attempt, DbError> {
    Ok(Attempt::new(row.get(0)?, time(row.get(1)?)?, time(row.get(2)?)?, row.get(3)?))
}

/// The columns of `jobs`, in the order [`job`] reads them.
pub(crate) const JOB_COLUMNS: &str = "id, key, kind, due_at, deadline, failed_attempts, last_error";

pub(crate) fn job(row: &Row<'_>) -> Result<Job, DbError> {
    let kind: JobKind = from_json(&row.get::<_, String>(2)?)?;
    let mut job = Job::new(JobId(row.get(0)?), row.get::<_, String>(1)?, kind, time(row.get(3)?)?);
    job.deadline = opt_time(row.get(4)?)?;
    job.failed_attempts = row.get(5)?;
    job.last_error = row.get(6)?;
    Ok(job)
}
