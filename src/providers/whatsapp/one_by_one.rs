//! Reading a notification item by item, for when it does not read whole: each message,
//! status and call of a batch on its own, so that one item callhook cannot read (a
//! product quantity sent as a word, a new shape of an old field) becomes an unparsed
//! event of its own, with its error and raw JSON, while its siblings are delivered.
//!
//! Only the envelope must be readable: `entry[].changes[]` with a `field` and a
//! `value`. A repeated key in an item is read with its last value, and noted.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::model::{Call, Contact, InboundMessage, Metadata, Status};
use super::normalize::{
    PROVIDER, call_event, errors_event, inbound_message, not_an_object, other_field_event, status_event,
};
use crate::provider::ParsedEvent;
use crate::wire::borrowed::{from_json, option_str};
use crate::wire::duplicate_keys;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    entry: Option<Vec<Entry<'a>>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, default, deserialize_with = "option_str")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    changes: Option<Vec<Change<'a>>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    field: Cow<'a, str>,
    #[serde(borrow)]
    value: &'a RawValue,
}

/// A `messages` or `calls` value, its items not read yet.
#[derive(Deserialize)]
struct Items<'a> {
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow, default)]
    contacts: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    messages: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    statuses: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    calls: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    errors: Option<&'a RawValue>,
}

/// An item's id, if at least that can be read.
#[derive(Deserialize)]
struct Id<'a> {
    #[serde(borrow, default, deserialize_with = "option_str")]
    id: Option<Cow<'a, str>>,
}

/// The events of `body`, each item read on its own; `None` when not even the envelope
/// can be read.
pub(super) fn events(body: &[u8]) -> Option<Vec<ParsedEvent>> {
    let envelope: Envelope<'_> = from_json(body).ok()?;
    let mut out = Vec::new();
    for entry in envelope.entry.unwrap_or_default() {
        let entry_id = entry.id.as_deref().unwrap_or_default();
        for change in entry.changes.unwrap_or_default() {
            change_events(entry_id, &change.field, change.value.get(), &mut out);
        }
    }
    // Nothing to read item by item (no entry, no change): the body's own error stands.
    (!out.is_empty()).then_some(out)
}

fn change_events(entry_id: &str, field: &str, raw: &str, out: &mut Vec<ParsedEvent>) {
    if !matches!(field, "messages" | "calls") {
        out.push(other_field_event(entry_id, field, raw).unwrap_or_else(|error| unreadable(field, raw, error)));
        return;
    }
    let items: Items<'_> = match serde_json::from_str(raw) {
        Ok(items) => items,
        Err(error) if raw.trim_start().starts_with('{') => return out.push(unreadable(field, raw, error)),
        Err(_) => return out.push(unreadable(field, raw, not_an_object(field))),
    };
    // What only helps describe the items (the business number, the senders' profiles)
    // is dropped when unreadable, rather than costing the items.
    let metadata: Option<Metadata<'_>> = items.metadata.and_then(|raw| serde_json::from_str(raw.get()).ok());
    let business = metadata.as_ref().map(|m| &*m.display_phone_number);
    let contacts: Vec<Contact<'_>> =
        items.contacts.unwrap_or_default().into_iter().filter_map(|raw| serde_json::from_str(raw.get()).ok()).collect();

    for raw in items.messages.unwrap_or_default() {
        out.push(read("messages", raw.get(), |json| {
            let mut message: InboundMessage<'_> = serde_json::from_str(json)?;
            Ok(inbound_message(&mut message, &contacts, business))
        }));
    }
    for raw in items.calls.unwrap_or_default() {
        out.push(read("calls", raw.get(), |json| {
            Ok(call_event(&serde_json::from_str::<Call<'_>>(json)?, &contacts, business))
        }));
    }
    for raw in items.statuses.unwrap_or_default() {
        out.push(read("statuses", raw.get(), |json| Ok(status_event(&serde_json::from_str::<Status<'_>>(json)?, business))));
    }
    if items.errors.is_some_and(|errors| !matches!(errors.get().trim(), "null" | "[]")) {
        out.push(errors_event(entry_id, field, raw));
    }
}

/// Item `raw` of list `item` as its event (`event` reads it); unreadable, as an
/// unparsed event.
fn read(item: &str, raw: &str, event: impl Fn(&str) -> serde_json::Result<ParsedEvent>) -> ParsedEvent {
    match event(raw) {
        Ok(parsed) => parsed,
        Err(error) if duplicate_keys::refused_for_a_repeated_key(&error, raw.as_bytes()) => {
            let fixed = duplicate_keys::last_wins(raw.as_bytes()).and_then(|json| String::from_utf8(json).ok());
            match fixed.as_deref().map(&event) {
                Some(Ok(mut parsed)) => {
                    parsed.note(duplicate_keys::NOTE);
                    parsed
                }
                _ => unreadable(item, raw, error),
            }
        }
        Err(error) => unreadable(item, raw, error),
    }
}

pub(super) fn unreadable(item: &str, raw: &str, error: impl std::fmt::Display) -> ParsedEvent {
    let id = serde_json::from_str::<Id<'_>>(raw).ok().and_then(|id| id.id);
    let value = serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.to_owned()));
    ParsedEvent::unreadable(PROVIDER, item, value, error, id.as_deref())
}
