//! Rows to records. Times are unix nanoseconds in `BIGINT` (exact round trips);
//! events, headers, states and job kinds are JSON in `TEXT` (not `JSONB`, which
//! refuses `\u0000` in strings: a payload must never be unstorable).

use callhook::account::{AccountId, KeySlot};
use callhook::event::{Event, ProviderId};
use callhook::event_log::{
    Attempt, DeliveryId, DeliveryRecord, EventId, EventRecord, EventStatus, NewDelivery, Verification,
};
use callhook::job_queue::{Job, JobId, JobKind};
use time::OffsetDateTime;
use tokio_postgres::Row;

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

/// The columns of `callhook_events`, in the order [`event_record`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "id, delivery_id, provider, event_type, dedupe_key, event, status, \
     attempts, last_error, received_at, next_attempt_at, processed_at, account";

pub(crate) fn event_record(row: &Row) -> Result<EventRecord, DbError> {
    let mut record = EventRecord::new(
        EventId(row.try_get(0)?),
        DeliveryId(row.try_get(1)?),
        ProviderId::new(row.try_get::<_, String>(2)?),
        row.try_get::<_, String>(3)?,
        row.try_get::<_, String>(4)?,
        time(row.try_get(9)?)?,
    );
    let event: Option<String> = row.try_get(5)?;
    let status: String = row.try_get(6)?;
    record.event = event.as_deref().map(from_json::<Event>).transpose()?;
    record.status = EventStatus::from_name(&status).ok_or_else(|| DbError::Corrupt(format!("status {status:?}")))?;
    record.attempts = u32::try_from(row.try_get::<_, i32>(7)?).map_err(|e| DbError::Corrupt(e.to_string()))?;
    record.last_error = row.try_get(8)?;
    record.next_attempt_at = opt_time(row.try_get(10)?)?;
    record.processed_at = opt_time(row.try_get(11)?)?;
    record.account = row.try_get::<_, Option<String>>(12)?.map(AccountId::new);
    Ok(record)
}

/// The columns of `callhook_deliveries`, in the order [`delivery_record`] reads them.
pub(crate) const DELIVERY_COLUMNS: &str =
    "id, provider, received_at, method, path, query, headers, body, verification, parse_error, account, key_slot";

pub(crate) fn delivery_record(row: &Row) -> Result<DeliveryRecord, DbError> {
    let body: Vec<u8> = row.try_get(7)?;
    let mut new = NewDelivery::new(
        ProviderId::new(row.try_get::<_, String>(1)?),
        row.try_get::<_, String>(4)?,
        time(row.try_get(2)?)?,
        body,
    );
    new.method = row.try_get(3)?;
    new.query = row.try_get(5)?;
    new.headers = from_json(&row.try_get::<_, String>(6)?)?;
    let verification: String = row.try_get(8)?;
    new.verification = Verification::from_name(&verification)
        .ok_or_else(|| DbError::Corrupt(format!("verification {verification:?}")))?;
    new.parse_error = row.try_get(9)?;
    new.account = row.try_get::<_, Option<String>>(10)?.map(AccountId::new);
    new.key = match row.try_get::<_, Option<String>>(11)? {
        Some(name) => Some(KeySlot::from_name(&name).ok_or_else(|| DbError::Corrupt(format!("key slot {name:?}")))?),
        None => None,
    };
    Ok(DeliveryRecord::from_new(DeliveryId(row.try_get(0)?), new))
}

pub(crate) fn attempt(row: &Row) -> Result<Attempt, DbError> {
    let number = u32::try_from(row.try_get::<_, i32>(0)?).map_err(|e| DbError::Corrupt(e.to_string()))?;
    Ok(Attempt::new(number, time(row.try_get(1)?)?, time(row.try_get(2)?)?, row.try_get(3)?))
}

/// The columns of `callhook_jobs`, in the order [`job`] reads them.
pub(crate) const JOB_COLUMNS: &str = "id, key, kind, due_at, deadline, failed_attempts, last_error";

pub(crate) fn job(row: &Row) -> Result<Job, DbError> {
    let kind: JobKind = from_json(&row.try_get::<_, String>(2)?)?;
    let mut job = Job::new(JobId(row.try_get(0)?), row.try_get::<_, String>(1)?, kind, time(row.try_get(3)?)?);
    job.deadline = opt_time(row.try_get(4)?)?;
    job.failed_attempts = u32::try_from(row.try_get::<_, i32>(5)?).map_err(|e| DbError::Corrupt(e.to_string()))?;
    job.last_error = row.try_get(6)?;
    Ok(job)
}
