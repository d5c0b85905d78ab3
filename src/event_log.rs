//! The [`EventLog`] trait: the durable, append-only event log and the folded call and
//! message state, plus the records it keeps.
//!
//! Implementations: [`MemoryEventLog`] here (tests, prototypes), SQLite and PostgreSQL in
//! their own crates. Every implementation keeps the same contract:
//!
//! - [`EventLog::append`] stores a delivery and its events in **one** atomic, durable
//!   step; an event whose `(provider, dedupe_key)` is already stored is not inserted
//!   again and is reported as [`Appended::Duplicate`];
//! - nothing is ever deleted: processing only updates an event's status, attempt
//!   count, error and timestamps, and appends to its attempt history;
//! - call and message state are folded with [`crate::state`] as events are inserted, in
//!   the same step.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::{AccountId, KeySlot};
use crate::event::{Event, ProviderId};
use crate::state::{CallState, MessageState};

mod memory;

pub use memory::MemoryEventLog;

/// The id storage gave an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub i64);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id storage gave a delivery (one HTTP request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeliveryId(pub i64);

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a stored delivery was authenticated. Requests that fail verification are never
/// stored, so there is no "failed" value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// The provider's signature or token checked out.
    Verified,
    /// Verification was explicitly turned off for this route.
    Skipped,
}

impl Verification {
    /// The `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Skipped => "skipped",
        }
    }

    /// The value named `name`.
    ///
    /// ```
    /// use callhook::event_log::Verification;
    /// assert_eq!(Verification::from_name(Verification::Skipped.as_str()), Some(Verification::Skipped));
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        [Verification::Verified, Verification::Skipped].into_iter().find(|v| v.as_str() == name)
    }
}

/// A delivery (one HTTP request) to store.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NewDelivery {
    /// The provider it was routed to.
    pub provider: ProviderId,
    /// When it was received.
    pub received_at: OffsetDateTime,
    /// The HTTP method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The query string, with secret parameters removed.
    pub query: Option<String>,
    /// The headers worth keeping (content type, provider ids), never secrets.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes received.
    pub body: Bytes,
    /// How it was authenticated.
    pub verification: Verification,
    /// The account that sent it (see [`crate::account`]); `None` for a provider's
    /// unnamed account, or when verification was skipped.
    pub account: Option<AccountId>,
    /// Which of the account's keys verified it; `None` when verification was skipped.
    pub key: Option<KeySlot>,
    /// Why the body could not be parsed, when it could not.
    pub parse_error: Option<String>,
}

impl NewDelivery {
    /// A verified `POST` delivery with the given body and nothing else kept.
    ///
    /// ```
    /// use callhook::event::ProviderId;
    /// use callhook::event_log::NewDelivery;
    /// let delivery = NewDelivery::new(
    ///     ProviderId::from_static("acme"), "/webhooks/acme", time::OffsetDateTime::UNIX_EPOCH, "{}");
    /// assert_eq!(delivery.method, "POST");
    /// ```
    pub fn new(
        provider: ProviderId,
        path: impl Into<String>,
        received_at: OffsetDateTime,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            provider,
            received_at,
            method: "POST".into(),
            path: path.into(),
            query: None,
            headers: Vec::new(),
            body: body.into(),
            verification: Verification::Verified,
            account: None,
            key: None,
            parse_error: None,
        }
    }
}

/// A stored delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// Its id.
    pub id: DeliveryId,
    /// The provider it was routed to.
    pub provider: ProviderId,
    /// When it was received.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The HTTP method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The query string, with secret parameters removed.
    pub query: Option<String>,
    /// The headers kept.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes received.
    #[serde(skip)]
    pub body: Bytes,
    /// How it was authenticated.
    pub verification: Verification,
    /// The account that sent it; `None` for a provider's unnamed account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// Which of the account's keys verified it (`None`: verification was skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeySlot>,
    /// Why the body could not be parsed, when it could not.
    pub parse_error: Option<String>,
}

impl DeliveryRecord {
    /// Rebuilds the request as stored (method, path and query, kept headers, exact
    /// body), for parsing it again.
    pub fn to_request(&self) -> Result<http::Request<Bytes>, http::Error> {
        let uri = match &self.query {
            Some(query) => format!("{}?{}", self.path, query),
            None => self.path.clone(),
        };
        let mut request = http::Request::builder().method(self.method.as_str()).uri(uri);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.body(self.body.clone())
    }

    /// The stored form of `delivery` under `id`.
    pub fn from_new(id: DeliveryId, delivery: NewDelivery) -> Self {
        Self {
            id,
            provider: delivery.provider,
            received_at: delivery.received_at,
            method: delivery.method,
            path: delivery.path,
            query: delivery.query,
            headers: delivery.headers,
            body: delivery.body,
            verification: delivery.verification,
            account: delivery.account,
            key: delivery.key,
            parse_error: delivery.parse_error,
        }
    }
}

/// An event to store with its delivery.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NewEvent {
    /// The provider's name for the event type.
    pub event_type: String,
    /// Unique per provider for one real-world event.
    pub dedupe_key: String,
    /// The normalized event; `None` for the placeholder of a body that did not parse.
    pub event: Option<Event>,
    /// An error to store it with; such an event starts out [`EventStatus::Failed`].
    pub error: Option<String>,
}

impl NewEvent {
    /// The same event as `account` sent it: its dedupe key prefixed with the account's
    /// label (`acme/CA1:completed`), so that one account's events never count as
    /// another's duplicates (an account could otherwise send another's ids first and have
    /// its real events dropped). The unnamed account's keys stay as they are.
    ///
    /// ```
    /// use callhook::event_log::NewEvent;
    /// let event = NewEvent::unparsed("k1", "bad body");
    /// assert_eq!(event.clone().sent_by(Some(&"acme".into())).dedupe_key, "acme/k1");
    /// assert_eq!(event.sent_by(None).dedupe_key, "k1");
    /// ```
    pub fn sent_by(mut self, account: Option<&AccountId>) -> Self {
        if let Some(account) = account {
            self.dedupe_key = format!("{account}/{}", self.dedupe_key);
        }
        self
    }

    /// A parsed event, stored as pending.
    pub fn parsed(event_type: impl Into<String>, dedupe_key: impl Into<String>, event: Event) -> Self {
        Self { event_type: event_type.into(), dedupe_key: dedupe_key.into(), event: Some(event), error: None }
    }

    /// The placeholder of a delivery whose body did not parse: stored as failed with
    /// the parse error, and re-parsed when reprocessed.
    pub fn unparsed(dedupe_key: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            event_type: UNPARSED_EVENT_TYPE.into(),
            dedupe_key: dedupe_key.into(),
            event: None,
            error: Some(error.into()),
        }
    }

    /// The status a freshly stored event starts in.
    pub fn initial_status(&self) -> EventStatus {
        if self.error.is_some() { EventStatus::Failed } else { EventStatus::Pending }
    }
}

/// The `event_type` of the placeholder stored for a body that did not parse, and of an
/// unreadable item of a batch.
pub use crate::provider::UNPARSED_EVENT_TYPE;

impl From<crate::provider::ParsedEvent> for NewEvent {
    /// A parsed event, pending; an unreadable batch item, failed with its error.
    fn from(parsed: crate::provider::ParsedEvent) -> Self {
        Self {
            event_type: parsed.event_type,
            dedupe_key: parsed.dedupe_key,
            event: Some(parsed.event),
            error: parsed.unreadable,
        }
    }
}

/// Where an event is in processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored, waiting for (another) attempt.
    Pending,
    /// The handlers succeeded.
    Processed,
    /// Every attempt failed, or the body did not parse; can be reprocessed.
    Failed,
}

impl EventStatus {
    /// The status's `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Processed => "processed",
            EventStatus::Failed => "failed",
        }
    }

    /// The status named `name` ([`as_str`](Self::as_str) read back).
    ///
    /// ```
    /// use callhook::event_log::EventStatus;
    /// assert_eq!(EventStatus::from_name("failed"), Some(EventStatus::Failed));
    /// assert_eq!(EventStatus::from_name("lost"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        [EventStatus::Pending, EventStatus::Processed, EventStatus::Failed].into_iter().find(|s| s.as_str() == name)
    }
}

/// A stored event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventRecord {
    /// Its id.
    pub id: EventId,
    /// The delivery it came in.
    pub delivery_id: DeliveryId,
    /// Its provider.
    pub provider: ProviderId,
    /// The account that sent it (its delivery's); `None` for a provider's unnamed
    /// account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// The provider's name for its type.
    pub event_type: String,
    /// Its dedupe key.
    pub dedupe_key: String,
    /// The normalized event; `None` when the body did not parse.
    pub event: Option<Event>,
    /// Where it is in processing.
    pub status: EventStatus,
    /// How many processing attempts were made, over its whole life.
    pub attempts: u32,
    /// The error of the last failed attempt (kept after a later success, for history).
    pub last_error: Option<String>,
    /// When its delivery was received.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// When the next attempt is due, while pending.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When it was processed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub processed_at: Option<OffsetDateTime>,
}

impl EventRecord {
    /// Whether the handlers have processed it.
    pub fn processed(&self) -> bool {
        self.status == EventStatus::Processed
    }

    /// A pending event with no normalized form, no attempts and nothing due (storage
    /// backends build records from their rows with this, then set the other fields).
    ///
    /// ```
    /// use callhook::event::ProviderId;
    /// use callhook::event_log::{DeliveryId, EventId, EventRecord, EventStatus};
    /// let record = EventRecord::new(EventId(1), DeliveryId(1), ProviderId::from_static("acme"), "ping", "k",
    ///     time::OffsetDateTime::UNIX_EPOCH);
    /// assert_eq!((record.status, record.attempts), (EventStatus::Pending, 0));
    /// ```
    pub fn new(
        id: EventId,
        delivery_id: DeliveryId,
        provider: ProviderId,
        event_type: impl Into<String>,
        dedupe_key: impl Into<String>,
        received_at: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            delivery_id,
            provider,
            account: None,
            event_type: event_type.into(),
            dedupe_key: dedupe_key.into(),
            event: None,
            status: EventStatus::Pending,
            attempts: 0,
            last_error: None,
            received_at,
            next_attempt_at: None,
            processed_at: None,
        }
    }

    /// The stored form of a new event.
    pub fn from_new(id: EventId, delivery: &DeliveryRecord, event: NewEvent) -> Self {
        let status = event.initial_status();
        Self {
            id,
            delivery_id: delivery.id,
            provider: delivery.provider.clone(),
            account: delivery.account.clone(),
            event_type: event.event_type,
            dedupe_key: event.dedupe_key,
            event: event.event,
            status,
            attempts: 0,
            last_error: event.error,
            received_at: delivery.received_at,
            next_attempt_at: (status == EventStatus::Pending).then_some(delivery.received_at),
            processed_at: None,
        }
    }

    /// Applies the outcome of one processing attempt.
    pub fn apply_attempt(&mut self, report: &AttemptReport) {
        self.attempts += 1;
        match &report.result {
            AttemptResult::Processed => {
                self.status = EventStatus::Processed;
                self.processed_at = Some(report.finished_at);
                self.next_attempt_at = None;
            }
            AttemptResult::Retry { error, next_attempt_at } => {
                self.status = EventStatus::Pending;
                self.last_error = Some(error.clone());
                self.next_attempt_at = Some(*next_attempt_at);
            }
            AttemptResult::Failed { error } => {
                self.status = EventStatus::Failed;
                self.last_error = Some(error.clone());
                self.next_attempt_at = None;
            }
        }
    }

    /// Counts an attempt whose claim's lease was lost before it finished (another
    /// worker claimed the job meanwhile): the attempt is in the history, but the status,
    /// error and next time are left to the job's current holder, so a late failure
    /// cannot mark an event failed that another attempt processed, nor a late success
    /// mark one processed whose retry is still due.
    pub fn count_stale_attempt(&mut self) {
        self.attempts += 1;
    }

    /// Resets it to pending, due at `at` (reprocessing). Its history stays.
    pub fn reset_to_pending(&mut self, at: OffsetDateTime) {
        self.status = EventStatus::Pending;
        self.next_attempt_at = Some(at);
        self.processed_at = None;
    }
}

/// One processing attempt as kept in an event's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// Its error, if it failed.
    pub error: Option<String>,
}

impl Attempt {
    /// Attempt `number`, with its times and its error (none if it succeeded).
    pub fn new(number: u32, started_at: OffsetDateTime, finished_at: OffsetDateTime, error: Option<String>) -> Self {
        Self { number, started_at, finished_at, error }
    }

    /// The history entry of attempt `number`, reported as `report`.
    pub fn from_report(number: u32, report: &AttemptReport) -> Self {
        let error = match &report.result {
            AttemptResult::Processed => None,
            AttemptResult::Retry { error, .. } | AttemptResult::Failed { error } => Some(error.clone()),
        };
        Self { number, started_at: report.started_at, finished_at: report.finished_at, error }
    }
}

/// What a processing attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptResult {
    /// The handlers succeeded.
    Processed,
    /// It failed and will be tried again.
    Retry {
        /// Why it failed.
        error: String,
        /// When the next attempt is due.
        next_attempt_at: OffsetDateTime,
    },
    /// It failed for good.
    Failed {
        /// Why it failed.
        error: String,
    },
}

/// A processing attempt to record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptReport {
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it ended.
    pub finished_at: OffsetDateTime,
    /// What it came to.
    pub result: AttemptResult,
}

impl AttemptReport {
    /// A report of an attempt between two times.
    pub fn new(started_at: OffsetDateTime, finished_at: OffsetDateTime, result: AttemptResult) -> Self {
        Self { started_at, finished_at, result }
    }
}

/// An event with its delivery (the original payload) and attempt history.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EventDetail {
    /// The event.
    pub event: EventRecord,
    /// The delivery it came in, with the exact body received.
    pub delivery: DeliveryRecord,
    /// Every processing attempt, oldest first.
    pub attempts: Vec<Attempt>,
}

impl EventDetail {
    /// An event with its delivery and attempts.
    pub fn new(event: EventRecord, delivery: DeliveryRecord, attempts: Vec<Attempt>) -> Self {
        Self { event, delivery, attempts }
    }
}

/// Whether an appended event was new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Stored now.
    Inserted(EventId),
    /// Its `(provider, dedupe_key)` was already stored, under this id.
    Duplicate(EventId),
}

impl Appended {
    /// The id of the stored event, new or earlier.
    pub fn id(self) -> EventId {
        match self {
            Appended::Inserted(id) | Appended::Duplicate(id) => id,
        }
    }
}

/// The result of [`EventLog::append`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppendOutcome {
    /// The stored delivery.
    pub delivery_id: DeliveryId,
    /// For each event given, in order: new or duplicate.
    pub events: Vec<Appended>,
}

impl AppendOutcome {
    /// The outcome for `delivery_id` and its events.
    pub fn new(delivery_id: DeliveryId, events: Vec<Appended>) -> Self {
        Self { delivery_id, events }
    }
}

/// Which events [`EventLog::list_events`] returns: newest first, every field optional.
///
/// ```
/// use callhook::event::ProviderId;
/// use callhook::event_log::{EventFilter, EventStatus};
/// let filter = EventFilter::default()
///     .provider(ProviderId::from_static("twilio"))
///     .status(EventStatus::Failed)
///     .limit(20);
/// assert_eq!(filter.limit, 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventFilter {
    /// Only this provider's events.
    pub provider: Option<ProviderId>,
    /// Only events of this type.
    pub event_type: Option<String>,
    /// Only events in this status.
    pub status: Option<EventStatus>,
    /// Only events received at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only events received before this time.
    pub until: Option<OffsetDateTime>,
    /// Only events about this call, message or other subject id (exact, any provider).
    pub subject: Option<String>,
    /// Only events that link to this call id (another leg or provider's view of the
    /// same conversation; see [`crate::event::CallEvent::links`]).
    pub links_to: Option<String>,
    /// Only events this account sent.
    pub account: Option<AccountId>,
    /// Only events about this customer: their phone number in E.164, or the id a provider
    /// knows them by instead (see [`crate::backend::event_contact`]).
    pub contact: Option<String>,
    /// Only events whose id is this number, or whose dedupe key or subject id contains
    /// this text (case-sensitive: provider ids are).
    pub search: Option<String>,
    /// Only events with a smaller id (the cursor for the next page).
    pub before: Option<EventId>,
    /// At most this many (default 100).
    pub limit: usize,
}

impl Default for EventFilter {
    fn default() -> Self {
        Self {
            provider: None,
            event_type: None,
            status: None,
            since: None,
            until: None,
            subject: None,
            links_to: None,
            account: None,
            contact: None,
            search: None,
            before: None,
            limit: 100,
        }
    }
}

impl EventFilter {
    /// Only this provider's events.
    pub fn provider(mut self, provider: ProviderId) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Only events of this type.
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    /// Only events in this status.
    pub fn status(mut self, status: EventStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only events received in `[since, until)`.
    pub fn received_between(mut self, since: Option<OffsetDateTime>, until: Option<OffsetDateTime>) -> Self {
        self.since = since;
        self.until = until;
        self
    }

    /// Only events about the call, message or other subject with this id (a call's
    /// timeline, a message's status history).
    pub fn subject(mut self, id: impl Into<String>) -> Self {
        self.subject = Some(id.into());
        self
    }

    /// Only events that link to the call `id` (a Twilio leg that dialed a Retell call,
    /// a Retell call naming the Twilio call it came in on): with
    /// [`subject`](Self::subject), what joins one conversation across providers.
    ///
    /// ```
    /// use callhook::event_log::EventFilter;
    /// assert_eq!(EventFilter::default().links_to("call_1").links_to.as_deref(), Some("call_1"));
    /// ```
    pub fn links_to(mut self, id: impl Into<String>) -> Self {
        self.links_to = Some(id.into());
        self
    }

    /// Only events this account sent.
    ///
    /// ```
    /// use callhook::event_log::EventFilter;
    /// let filter = EventFilter::default().account("acme".into());
    /// assert_eq!(filter.account.unwrap().as_str(), "acme");
    /// ```
    pub fn account(mut self, account: AccountId) -> Self {
        self.account = Some(account);
        self
    }

    /// Only events about the customer with this phone number (read as E.164, as events
    /// carry it) or provider id: a lead's history across providers.
    ///
    /// ```
    /// use callhook::event_log::EventFilter;
    /// let filter = EventFilter::default().contact("55 11 98765-4321");
    /// assert_eq!(filter.contact.as_deref(), Some("+5511987654321"));
    /// assert_eq!(EventFilter::default().contact("US.1349").contact.as_deref(), Some("US.1349"));
    /// ```
    pub fn contact(mut self, contact: impl Into<String>) -> Self {
        let contact = contact.into();
        // A number written another way (`5511...`, `+55 11 ...`) is the same number.
        self.contact = Some(crate::event::phone::e164(&contact).unwrap_or(contact));
        self
    }

    /// Only events whose id is `text`, or whose dedupe key or subject id contains it.
    ///
    /// ```
    /// use callhook::event_log::EventFilter;
    /// let filter = EventFilter::default().search("CA42");
    /// assert_eq!(filter.search.as_deref(), Some("CA42"));
    /// ```
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// Only events older than `id` (pagination).
    pub fn before(mut self, id: EventId) -> Self {
        self.before = Some(id);
        self
    }

    /// At most `limit` events.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Whether `record` passes every condition but the limit.
    pub fn matches(&self, record: &EventRecord) -> bool {
        let subject = record_subject(record);
        self.provider.as_ref().is_none_or(|p| *p == record.provider)
            && self.event_type.as_ref().is_none_or(|t| *t == record.event_type)
            && self.status.is_none_or(|s| s == record.status)
            && self.since.is_none_or(|t| record.received_at >= t)
            && self.until.is_none_or(|t| record.received_at < t)
            && self.subject.as_deref().is_none_or(|wanted| subject == Some(wanted))
            && self.links_to.as_deref().is_none_or(|wanted| {
                record.event.as_ref().is_some_and(|event| crate::backend::event_links(event).any(|id| id == wanted))
            })
            && self.account.as_ref().is_none_or(|wanted| record.account.as_ref() == Some(wanted))
            && self
                .contact
                .as_deref()
                .is_none_or(|wanted| record.event.as_ref().and_then(crate::backend::event_contact) == Some(wanted))
            && self.search.as_deref().is_none_or(|text| {
                crate::backend::search_id(text) == Some(record.id)
                    || record.dedupe_key.contains(text)
                    || subject.is_some_and(|subject| subject.contains(text))
            })
            && self.before.is_none_or(|id| record.id < id)
    }
}

fn record_subject(record: &EventRecord) -> Option<&str> {
    record.event.as_ref().and_then(crate::backend::event_subject)
}

/// How many stored events one provider has in one status (from
/// [`EventLog::event_counts`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventCount {
    /// The provider.
    pub provider: ProviderId,
    /// The status.
    pub status: EventStatus,
    /// How many.
    pub count: u64,
}

impl EventCount {
    /// `count` events of `provider` in `status`.
    pub fn new(provider: ProviderId, status: EventStatus, count: u64) -> Self {
        Self { provider, status, count }
    }
}

/// Folds `records` into per-provider, per-status counts (sorted by provider, then
/// status), adding to `counts`.
fn tally<'a>(counts: &mut Vec<EventCount>, records: impl IntoIterator<Item = &'a EventRecord>) {
    for record in records {
        match counts.iter_mut().find(|c| c.provider == record.provider && c.status == record.status) {
            Some(count) => count.count += 1,
            None => counts.push(EventCount::new(record.provider.clone(), record.status, 1)),
        }
    }
    counts.sort_by(|a, b| (a.provider.as_str(), a.status.as_str()).cmp(&(b.provider.as_str(), b.status.as_str())));
}

/// A boxed error from a storage backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a storage operation failed. The receiver answers `503` to any of these while
/// storing a delivery, so the provider retries and nothing is lost.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventLogError {
    /// The backend could not be reached or refused the operation.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// No event has this id.
    #[error("event {0} not found")]
    EventNotFound(EventId),
    /// Stored data could not be read back (e.g. JSON written by a newer version).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// The durable event log and the folded call and message state.
///
/// See the module docs for the contract every implementation keeps.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Stores a delivery and its events atomically; events already stored under the
    /// same `(provider, dedupe_key)` are reported as duplicates and not inserted.
    /// Inserted events are folded into call and message state in the same step.
    async fn append(&self, delivery: NewDelivery, events: Vec<NewEvent>) -> Result<AppendOutcome, EventLogError>;

    /// Adds events to an already stored delivery (used when a delivery that did not
    /// parse is parsed again), with the same dedupe and folding as [`EventLog::append`].
    async fn append_to_delivery(
        &self,
        delivery: DeliveryId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, EventLogError>;

    /// One event with its delivery and attempt history.
    async fn event(&self, id: EventId) -> Result<Option<EventDetail>, EventLogError>;

    /// Several events with their deliveries and attempt histories, in the order of
    /// `ids` (`None` for an unknown id). The default reads them one by one; stores read
    /// them in one go (the worker reads each claimed batch this way).
    async fn events(&self, ids: Vec<EventId>) -> Result<Vec<Option<EventDetail>>, EventLogError> {
        let mut details = Vec::with_capacity(ids.len());
        for id in ids {
            details.push(self.event(id).await?);
        }
        Ok(details)
    }

    /// Events matching `filter`, newest first.
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, EventLogError>;

    /// How many events match every condition of `filter` but its limit, per provider
    /// and status (no entry for a count of zero), sorted by provider then status.
    ///
    /// The default pages through [`EventLog::list_events`]; stores override it with one
    /// query.
    async fn event_counts(&self, filter: &EventFilter) -> Result<Vec<EventCount>, EventLogError> {
        let mut counts = Vec::new();
        let mut page = filter.clone().limit(1000);
        loop {
            let records = self.list_events(&page).await?;
            tally(&mut counts, &records);
            match records.last() {
                Some(last) if records.len() == page.limit => page.before = Some(last.id),
                _ => return Ok(counts),
            }
        }
    }

    /// Records one processing attempt: updates the event and appends to its history.
    async fn record_attempt(&self, id: EventId, report: AttemptReport) -> Result<EventRecord, EventLogError>;

    /// Resets an event to pending, due at `at`, keeping its history (reprocessing).
    async fn reprocess(&self, id: EventId, at: OffsetDateTime) -> Result<EventRecord, EventLogError>;

    /// The folded state of a call.
    async fn call_state(&self, provider: &ProviderId, call_id: &str) -> Result<Option<CallState>, EventLogError>;

    /// The folded state of a message.
    async fn message_state(
        &self,
        provider: &ProviderId,
        message_id: &str,
    ) -> Result<Option<MessageState>, EventLogError>;

    /// Whether the backend can durably accept writes now, for health checks (a load
    /// balancer's readiness probe): at the least, that it is reachable. Fail it while
    /// appends would fail or hang (`callhook-sqlite` also checks free space, failing
    /// writes, stalls and that its file is still in place), and keep it quick: callers
    /// bound it with a timeout.
    async fn ping(&self) -> Result<(), EventLogError>;
}
