//! Helpers for those who write a storage or scheduler backend (the SQLite and
//! PostgreSQL stores use them), kept out of [`crate::event_log`], which is what a user of
//! callhook reads. Check a backend with [`crate::conformance`] (feature `testing`).

use time::OffsetDateTime;

use crate::event::{ContactId, Event, Subject};
use crate::event_log::EventId;

/// A time as the durable stores keep it: unix nanoseconds in an `i64` (exact round
/// trips until the year 2262; times beyond saturate).
///
/// ```
/// use callhook::backend::{from_unix_nanos, to_unix_nanos};
/// let at = time::macros::datetime!(2026-12-01 10:00:00.123456789 UTC);
/// assert_eq!(from_unix_nanos(to_unix_nanos(at)), Some(at));
/// ```
pub fn to_unix_nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(if at.year() < 1970 { i64::MIN } else { i64::MAX })
}

/// The time [`to_unix_nanos`] stored; `None` if out of range.
pub fn from_unix_nanos(nanos: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).ok()
}

/// The call, message or other subject id of a stored event (what
/// [`EventFilter::subject`](crate::event_log::EventFilter::subject) matches; stores index it).
///
/// ```
/// use callhook::event::{Event, ProviderId, UnmodeledEvent};
/// assert_eq!(callhook::backend::event_subject(&Event::Unmodeled(UnmodeledEvent::new(ProviderId::from_static("x"), "t"))), None);
/// ```
pub fn event_subject(event: &Event) -> Option<&str> {
    event.subject().map(|subject| match subject {
        Subject::Call(id) | Subject::Message(id) | Subject::Other(id) => id,
    })
}

/// The customer an event is about, as [`EventFilter::contact`](crate::event_log::EventFilter::contact)
/// matches it (stores index it): their phone number in E.164, or else the id a provider
/// knows them by instead (a WhatsApp business-scoped user id).
///
/// ```
/// use callhook::event::{CallEvent, ContactId, Event, ProviderId};
/// let mut call = CallEvent::new(ProviderId::from_static("x"), "c1");
/// call.customer = Some(ContactId::phone("+5511987654321"));
/// assert_eq!(callhook::backend::event_contact(&Event::Call(call)), Some("+5511987654321"));
/// ```
pub fn event_contact(event: &Event) -> Option<&str> {
    let customer = match event {
        Event::Call(call) => call.customer.as_ref(),
        Event::Message(message) => message.customer.as_ref(),
        Event::Unmodeled(_) => None,
    }?;
    match customer {
        ContactId::Phone { number } => Some(number),
        ContactId::BusinessScoped { user_id, .. } => Some(user_id),
    }
}

/// The ids of the other calls an event links to (see
/// [`CallEvent::links`](crate::event::CallEvent::links)): what
/// [`EventFilter::links_to`](crate::event_log::EventFilter::links_to) matches; stores
/// index them.
///
/// ```
/// use callhook::event::{CallEvent, CallLink, Event, LinkVia, ProviderId};
/// let mut leg = CallEvent::new(ProviderId::from_static("twilio"), "CA2");
/// leg.links.push(CallLink::new(ProviderId::from_static("retell"), "call_1", LinkVia::SipUri));
/// assert_eq!(callhook::backend::event_links(&Event::Call(leg)).collect::<Vec<_>>(), ["call_1"]);
/// ```
pub fn event_links(event: &Event) -> impl Iterator<Item = &str> {
    let links = match event {
        Event::Call(call) => call.links.as_slice(),
        _ => &[],
    };
    links.iter().map(|link| link.call_id.as_str())
}

/// The event id a search text names, if it is a number.
///
/// ```
/// use callhook::backend::search_id;
/// use callhook::event_log::EventId;
/// assert_eq!(search_id("42"), Some(EventId(42)));
/// assert_eq!(search_id("CA42"), None);
/// ```
pub fn search_id(text: &str) -> Option<EventId> {
    text.trim().parse().ok().map(EventId)
}
