//! A private test provider and helpers for the end-to-end tests.
//!
//! The provider signs like many real ones: `x-test-signature: sha256=<hex>`, an
//! HMAC-SHA256 of the raw body with a shared secret. Its body is either one event or a
//! batch: `{"events": [{"id", "call_id", "status", "at"}]}` where `status` is a call
//! status name; an event whose status is `"v2:..."` only parses once the provider is
//! "upgraded" (to test reprocessing of unparsable deliveries), and until then fails the
//! whole body; one whose status is `"item-v2:..."` likewise, but until then only that
//! item is unreadable (an unparsed event of its own) and the rest of the batch parses.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod shapes;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use callhook::account::{KeySlot, Verified};
use callhook::event::{CallEvent, CallStatus, Event, ProviderId};
use callhook::event_log::{
    AppendOutcome, Appended, AttemptReport, BoxError, DeliveryId, EventDetail, EventFilter, EventId, EventLog,
    EventLogError, EventRecord, MemoryEventLog, NewDelivery, NewEvent,
};
use callhook::provider::{ParseError, ParsedEvent, Provider, WebhookRequest};
use callhook::state::{CallState, MessageState};
use callhook::verify::{Secret, VerifyError, constant_time_eq, hmac_sha256};
use serde::Deserialize;
use time::OffsetDateTime;

pub const SECRET: &str = "test-secret";
pub const PATH: &str = "/webhooks/test";
pub const PROVIDER: ProviderId = ProviderId::from_static("test");

#[derive(Debug)]
pub struct TestProvider {
    secrets: Vec<Secret>,
    upgraded: AtomicBool,
}

impl TestProvider {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { secrets: vec![Secret::new(SECRET)], upgraded: AtomicBool::new(false) })
    }

    /// Simulates deploying a version that understands `v2:` statuses.
    pub fn upgrade(&self) {
        self.upgraded.store(true, Ordering::SeqCst);
    }
}

#[derive(Deserialize)]
struct WireBatch {
    events: Vec<WireEvent>,
}

#[derive(Deserialize)]
struct WireEvent {
    id: String,
    call_id: String,
    status: String,
}

impl Provider for TestProvider {
    fn id(&self) -> ProviderId {
        PROVIDER
    }

    fn verify(&self, request: &WebhookRequest<'_>) -> Result<Verified, VerifyError> {
        let header = request.header("x-test-signature").ok_or(VerifyError::MissingHeader("x-test-signature"))?;
        let hex_digest = header
            .strip_prefix("sha256=")
            .ok_or(VerifyError::MalformedHeader { header: "x-test-signature", reason: "no sha256= prefix" })?;
        let presented = hex::decode(hex_digest)
            .map_err(|_| VerifyError::MalformedHeader { header: "x-test-signature", reason: "not hex" })?;
        let matched = self.secrets.iter().position(|secret| {
            constant_time_eq(&hmac_sha256(secret.expose().as_bytes(), &[request.body()]), &presented)
        });
        matched.map(|index| Verified::new(None, KeySlot::of_index(index))).ok_or(VerifyError::SignatureMismatch)
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
        let batch: WireBatch = serde_json::from_slice(request.body())?;
        batch
            .events
            .into_iter()
            .map(|wire| {
                if wire.status.starts_with("item-v2:") && !self.upgraded.load(Ordering::SeqCst) {
                    let raw = serde_json::json!({ "id": wire.id, "call_id": wire.call_id, "status": wire.status });
                    return Ok(ParsedEvent::unreadable(PROVIDER, "events", raw, "item v2 status", Some(&wire.id)));
                }
                let name = match wire.status.strip_prefix("item-v2:").or(wire.status.strip_prefix("v2:")) {
                    Some(name) if self.upgraded.load(Ordering::SeqCst) => name.to_owned(),
                    Some(_) => {
                        return Err(ParseError::InvalidValue { field: "status", reason: "v2 status".into() });
                    }
                    None => wire.status.clone(),
                };
                let status = serde_json::from_value::<CallStatus>(serde_json::Value::String(name))
                    .map_err(|e| ParseError::InvalidValue { field: "status", reason: e.to_string() })?;
                let mut call = CallEvent::new(PROVIDER, wire.call_id);
                call.status = Some(status);
                Ok(ParsedEvent::new(format!("call.{}", wire.status), wire.id, Event::Call(call)))
            })
            .collect()
    }
}

/// The body of a batch of `(event id, call id, status)`.
pub fn body(events: &[(&str, &str, &str)]) -> Bytes {
    let events: Vec<_> = events
        .iter()
        .map(|(id, call_id, status)| serde_json::json!({ "id": id, "call_id": call_id, "status": status }))
        .collect();
    Bytes::from(serde_json::to_vec(&serde_json::json!({ "events": events })).unwrap())
}

pub fn sign(body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(SECRET.as_bytes(), &[body])))
}

/// A correctly signed request.
pub fn signed(body: Bytes) -> http::Request<Bytes> {
    http::Request::post(PATH)
        .header("content-type", "application/json")
        .header("x-test-signature", sign(&body))
        .body(body)
        .unwrap()
}

/// Every stored event, newest first.
pub async fn all_events(storage: &dyn EventLog) -> Vec<EventRecord> {
    storage.list_events(&EventFilter::default().limit(10_000)).await.unwrap()
}

/// A storage that can be switched off, to test outages: a real MemoryEventLog behind a
/// switch, failing the way a database that went away fails.
#[derive(Default)]
pub struct SwitchableStorage {
    pub inner: MemoryEventLog,
    pub down: AtomicBool,
}

impl SwitchableStorage {
    fn check(&self) -> Result<(), EventLogError> {
        if self.down.load(Ordering::SeqCst) {
            Err(EventLogError::Unavailable(BoxError::from("connection refused")))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl EventLog for SwitchableStorage {
    async fn append(&self, delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError> {
        self.check()?;
        self.inner.append(delivery, events).await
    }
    async fn append_to_delivery(
        &self,
        delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError> {
        self.check()?;
        self.inner.append_to_delivery(delivery, events).await
    }
    async fn event(&self, id: EventId) -> Result<Option<EventDetail>, EventLogError> {
        self.check()?;
        self.inner.event(id).await
    }
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError> {
        self.check()?;
        self.inner.list_events(filter).await
    }
    async fn record_attempt(&self, id: EventId, report: AttemptReport) -> Result<EventRecord, EventLogError> {
        self.check()?;
        self.inner.record_attempt(id, report).await
    }
    async fn reprocess(&self, id: EventId, at: OffsetDateTime) -> Result<EventRecord, EventLogError> {
        self.check()?;
        self.inner.reprocess(id, at).await
    }
    async fn call_state(&self, provider: &ProviderId, call_id: &str) -> Result<Option<CallState>, EventLogError> {
        self.check()?;
        self.inner.call_state(provider, call_id).await
    }
    async fn message_state(&self, provider: &ProviderId, id: &str) -> Result<Option<MessageState>, EventLogError> {
        self.check()?;
        self.inner.message_state(provider, id).await
    }
    async fn ping(&self) -> Result<(), EventLogError> {
        self.check()
    }
}

/// A storage whose appends wait behind a gate and then commit on their own, even when
/// the caller has stopped waiting: a database that received the write but is slow to
/// commit it (a lock held elsewhere, a frozen disk).
pub struct SlowStorage {
    pub inner: Arc<MemoryEventLog>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl SlowStorage {
    /// Closed: appends wait until [`SlowStorage::open`].
    pub fn closed() -> Self {
        Self { inner: Arc::new(MemoryEventLog::new()), gate: Arc::new(tokio::sync::Semaphore::new(0)) }
    }

    /// Lets every waiting and later append through.
    pub fn open(&self) {
        self.gate.add_permits(tokio::sync::Semaphore::MAX_PERMITS);
    }
}

#[async_trait]
impl EventLog for SlowStorage {
    async fn append(&self, delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError> {
        let (inner, gate) = (self.inner.clone(), self.gate.clone());
        // The write runs to its end on its own task, whether or not its caller waits.
        let write = tokio::spawn(async move {
            let _open = gate.acquire().await.expect("the gate is never closed");
            inner.append(delivery, events).await
        });
        write.await.expect("the write does not panic")
    }
    async fn append_to_delivery(
        &self,
        delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError> {
        self.inner.append_to_delivery(delivery, events).await
    }
    async fn event(&self, id: EventId) -> Result<Option<EventDetail>, EventLogError> {
        self.inner.event(id).await
    }
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError> {
        self.inner.list_events(filter).await
    }
    async fn record_attempt(&self, id: EventId, report: AttemptReport) -> Result<EventRecord, EventLogError> {
        self.inner.record_attempt(id, report).await
    }
    async fn reprocess(&self, id: EventId, at: OffsetDateTime) -> Result<EventRecord, EventLogError> {
        self.inner.reprocess(id, at).await
    }
    async fn call_state(&self, provider: &ProviderId, call_id: &str) -> Result<Option<CallState>, EventLogError> {
        self.inner.call_state(provider, call_id).await
    }
    async fn message_state(&self, provider: &ProviderId, id: &str) -> Result<Option<MessageState>, EventLogError> {
        self.inner.message_state(provider, id).await
    }
    async fn ping(&self) -> Result<(), EventLogError> {
        Ok(())
    }
}
