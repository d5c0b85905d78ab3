//! [`MemoryEventLog`]: the [`EventLog`] contract in process memory, for tests and
//! prototypes. Everything is lost when the process exits.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{
    AppendOutcome, Appended, Attempt, AttemptReport, DeliveryId, DeliveryRecord, EventCount, EventDetail, EventFilter,
    EventId, EventLog, EventLogError, EventRecord, NewDelivery, NewEvent,
};
use crate::event::{Event, ProviderId};
use crate::state::{CallState, MessageState};

/// The event log in memory.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use callhook::event::{Event, ProviderId, UnmodeledEvent};
/// use callhook::event_log::{Appended, MemoryEventLog, NewDelivery, NewEvent, EventLog};
///
/// let storage = MemoryEventLog::new();
/// let acme = ProviderId::from_static("acme");
/// let event = || NewEvent::parsed("ping", "ping-1",
///     Event::Unmodeled(UnmodeledEvent::new(acme.clone(), "ping")));
/// let delivery = || NewDelivery::new(acme.clone(), "/acme", time::OffsetDateTime::now_utc(), "{}");
///
/// let first = storage.append(delivery(), vec![event()]).await.unwrap();
/// let again = storage.append(delivery(), vec![event()]).await.unwrap();
/// assert!(matches!(first.events[0], Appended::Inserted(_)));
/// assert_eq!(again.events[0], Appended::Duplicate(first.events[0].id()));
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryEventLog {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    deliveries: Vec<DeliveryRecord>,
    events: Vec<EventRecord>,
    attempts: Vec<Vec<Attempt>>,
    dedupe: HashMap<(ProviderId, String), EventId>,
    calls: HashMap<(ProviderId, String), CallState>,
    messages: HashMap<(ProviderId, String), MessageState>,
}

impl MemoryEventLog {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied append (every
        // mutation below is completed before anything can panic), so poisoning is safe
        // to ignore.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn insert_events(&mut self, delivery_index: usize, events: Vec<NewEvent>) -> Vec<Appended> {
        events
            .into_iter()
            .map(|event| {
                let delivery = &self.deliveries[delivery_index];
                let key = (delivery.provider.clone(), event.dedupe_key.clone());
                if let Some(existing) = self.dedupe.get(&key) {
                    return Appended::Duplicate(*existing);
                }
                let id = EventId(self.events.len() as i64 + 1);
                let record = EventRecord::from_new(id, delivery, event);
                if let Some(event) = &record.event {
                    self.fold(event);
                }
                self.dedupe.insert(key, id);
                self.events.push(record);
                self.attempts.push(Vec::new());
                Appended::Inserted(id)
            })
            .collect()
    }

    fn fold(&mut self, event: &Event) {
        match event {
            Event::Call(call) => self
                .calls
                .entry((call.provider.clone(), call.call_id.clone()))
                .or_insert_with(|| CallState::new(call.provider.clone(), call.call_id.clone()))
                .apply(call),
            Event::Message(message) => self
                .messages
                .entry((message.provider.clone(), message.message_id.clone()))
                .or_insert_with(|| MessageState::new(message.provider.clone(), message.message_id.clone()))
                .apply(message),
            Event::Unmodeled(_) => {}
        }
    }

    fn index_of(&self, id: EventId) -> Result<usize, EventLogError> {
        usize::try_from(id.0 - 1)
            .ok()
            .filter(|index| *index < self.events.len())
            .ok_or(EventLogError::EventNotFound(id))
    }
}

#[async_trait]
impl EventLog for MemoryEventLog {
    async fn append(&self, delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError> {
        let mut inner = self.lock();
        let delivery_id = DeliveryId(inner.deliveries.len() as i64 + 1);
        inner.deliveries.push(DeliveryRecord::from_new(delivery_id, delivery));
        let index = inner.deliveries.len() - 1;
        let events = inner.insert_events(index, events);
        Ok(AppendOutcome { delivery_id, events })
    }

    async fn append_to_delivery(
        &self,
        delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError> {
        let mut inner = self.lock();
        let index = usize::try_from(delivery.0 - 1)
            .ok()
            .filter(|index| *index < inner.deliveries.len())
            .ok_or_else(|| EventLogError::Corrupt(format!("delivery {delivery} not found")))?;
        Ok(inner.insert_events(index, events))
    }

    async fn event(&self, id: EventId) -> Result<Option<EventDetail>, EventLogError> {
        let inner = self.lock();
        let Ok(index) = inner.index_of(id) else { return Ok(None) };
        let event = inner.events[index].clone();
        let delivery = inner.deliveries[(event.delivery_id.0 - 1) as usize].clone();
        Ok(Some(EventDetail { event, delivery, attempts: inner.attempts[index].clone() }))
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError> {
        let inner = self.lock();
        Ok(inner.events.iter().rev().filter(|record| filter.matches(record)).take(filter.limit).cloned().collect())
    }

    async fn event_counts(&self, filter: &EventFilter) -> Result<Vec<EventCount>, EventLogError> {
        let mut counts = Vec::new();
        super::tally(&mut counts, self.lock().events.iter().filter(|record| filter.matches(record)));
        Ok(counts)
    }

    async fn record_attempt(&self, id: EventId, report: AttemptReport) -> Result<EventRecord, EventLogError> {
        let mut inner = self.lock();
        let index = inner.index_of(id)?;
        let record = &mut inner.events[index];
        record.apply_attempt(&report);
        let number = record.attempts;
        let record = record.clone();
        inner.attempts[index].push(Attempt::from_report(number, &report));
        Ok(record)
    }

    async fn reprocess(&self, id: EventId, at: OffsetDateTime) -> Result<EventRecord, EventLogError> {
        let mut inner = self.lock();
        let index = inner.index_of(id)?;
        inner.events[index].reset_to_pending(at);
        Ok(inner.events[index].clone())
    }

    async fn call_state(&self, provider: &ProviderId, call_id: &str) -> Result<Option<CallState>, EventLogError> {
        Ok(self.lock().calls.get(&(provider.clone(), call_id.to_owned())).cloned())
    }

    async fn message_state(
        &self,
        provider: &ProviderId,
        message_id: &str,
    ) -> Result<Option<MessageState>, EventLogError> {
        Ok(self.lock().messages.get(&(provider.clone(), message_id.to_owned())).cloned())
    }

    async fn ping(&self) -> Result<(), EventLogError> {
        Ok(())
    }
}
