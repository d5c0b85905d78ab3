//! WhatsApp notifications to normalized [`Event`]s: one per message, status and call
//! update in the POST, each with its own dedupe key.
//!
//! # Items
//!
//! | item | event type | dedupe key | event |
//! |---|---|---|---|
//! | `messages[]` | `messages.<type>` | `message:<wamid>` | inbound [`MessageEvent`] |
//! | `statuses[]` of a message | `statuses.<status>` | `status:<wamid>:<status>` | [`MessageEvent`] status update |
//! | `statuses[]` with `type: call` | `call_statuses.<status>` | `call-status:<call id>:<status>` | [`CallEvent`] |
//! | `calls[]` | `calls.<event>` | `call:<call id>:<event>` | [`CallEvent`] |
//! | another field (`message_template_status_update`, ...) | the field | `<field>:<entry id>:<sha256 of value>` | [`UnmodeledEvent`] with the raw value |
//! | `errors[]` of a value | `<field>.errors` | `<field>-errors:<entry id>:<sha256 of value>` | [`UnmodeledEvent`] with the errors |
//!
//! # Inbound messages
//!
//! From the sender's `from` (wa_id) to the business's `display_phone_number`; the
//! contact name is the `contacts[]` profile with the same `wa_id` (or the only one);
//! `context.id` is the message replied to.
//!
//! | `type` | [`MessageContent`] |
//! |---|---|
//! | `text` | `Text` |
//! | `image`, `audio`, `video`, `document`, `sticker` | `Media` (media id, MIME type, file name, voice note; caption) |
//! | `location` | `Location` |
//! | `reaction` | `Reaction` (empty emoji: removed) |
//! | `interactive` `button_reply`, `list_reply` | `InteractiveReply` (option id, title) |
//! | `interactive` `nfm_reply` | `InteractiveReply` (flow name, body, `response_json` as payload) |
//! | `button` | `InteractiveReply` (payload as id, text as title) |
//! | `contacts`, `order`, `system`, `unsupported`, any other | `Other` with the type (raw JSON in the log) |
//!
//! # Statuses
//!
//! `sent`, `delivered`, `read`, `failed` map to the same [`MessageStatus`] (failed with
//! its `errors[]`: code, title, message, details); others (`deleted`, `warning`,
//! `played`, new ones) are kept as they came (`as_str()`). `conversation` and `pricing` are carried.
//!
//! # Calls
//!
//! | item | [`CallStatus`] | times |
//! |---|---|---|
//! | `connect`, `USER_INITIATED` | `Ringing` (the user's offer awaits an answer) | `started_at` |
//! | `connect`, `BUSINESS_INITIATED` | `InProgress` (the user's answer) | `answered_at` |
//! | `terminate`, `COMPLETED` | `Completed` | `started_at`/`answered_at` = `start_time`, `ended_at` = `end_time` (or `timestamp`), duration |
//! | `terminate`, `FAILED` | `Failed`, with `errors[0]` | as above |
//! | `terminate`, `REJECTED` | `Busy` (declined, as carriers report it) | as above |
//! | `terminate`, no status | `Completed` (the call ended; nothing says it failed) | as above |
//! | `terminate`, other status | none (kept in `provider_status`) | as above |
//! | status `RINGING` | `Ringing` | |
//! | status `ACCEPTED` | `InProgress` | `answered_at` |
//! | status `REJECTED` | `Busy` | `ended_at` |
//!
//! `USER_INITIATED` is inbound, `BUSINESS_INITIATED` outbound.
//!
//! # Numbers
//!
//! `from`, `to` and `recipient` keep Meta's values as sent (digits without `+`). The
//! customer ([`ContactId`]) is the WhatsApp user's `wa_id` in E.164 ([`e164`]:
//! `5511987654321` is `+5511987654321`), or their business-scoped user id (BSUID) when
//! Meta sends no number; the business number is the change's
//! `metadata.display_phone_number` in E.164:
//!
//! | item | customer | business number |
//! |---|---|---|
//! | `messages[]` | `from` (else the `contacts[]` profile's `wa_id`), else the BSUID (`user_id`, `from_user_id`, the profile's) | `display_phone_number` |
//! | `statuses[]` of a message | `recipient_id`, else `recipient_user_id` | `display_phone_number` |
//! | `statuses[]` of a call | `recipient_id`, else `recipient_user_id` | `display_phone_number` |
//! | `calls[]`, `USER_INITIATED` | `from` (else the profile's `wa_id`), else the BSUID | `display_phone_number`, else `to` |
//! | `calls[]`, `BUSINESS_INITIATED` | `to` (else the profile's `wa_id`), else the BSUID | `display_phone_number`, else `from` |

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::model::{
    ApiError, Call, CallDirection, CallEndStatus, CallEventKind, Contact, InboundMessage, Media, MessageType,
    Notification, Status, StatusValue,
};
use crate::event::phone::e164;
use crate::event::{
    CallEvent, CallStatus, ContactId, Conversation, Direction, Event, InboundMessage as Inbound, MediaKind, MediaRef,
    MessageContent, MessageEvent, MessageKind, MessageStatus, Pricing, ProviderError, ProviderId, StatusUpdate,
    UnmodeledEvent,
};
use crate::provider::{ParseError, ParsedEvent};
use crate::wire::borrowed::{from_json, join};

/// The provider id of every WhatsApp event.
pub const PROVIDER: ProviderId = ProviderId::from_static("whatsapp");

/// Every event in a notification body, in the order it lists them.
///
/// ```
/// use callhook::providers::whatsapp::normalize;
///
/// let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",
///   "value":{"statuses":[{"id":"wamid.A","status":"read","timestamp":"1764590460","recipient_id":"55"},
///                        {"id":"wamid.A","status":"delivered","timestamp":"1764590455","recipient_id":"55"}]}}]}]}"#;
/// let events = normalize::events(body).unwrap();
/// assert_eq!(events.len(), 2);
/// assert_eq!(events[0].dedupe_key, "status:wamid.A:read");
/// assert_eq!(events[1].event_type, "statuses.delivered");
/// ```
pub fn events(body: &[u8]) -> Result<Vec<ParsedEvent>, ParseError> {
    match from_json::<Notification<'_>>(body) {
        Ok(notification) => notification_events(body, notification),
        // An item callhook cannot read must not cost its batch the other items: read
        // them one by one (only then, so a readable batch is read in one pass).
        Err(error) => super::one_by_one::events(body).ok_or(ParseError::Json(error)),
    }
}

/// The events of a notification read whole. A change whose event needs its raw JSON
/// (another field, `errors` about the notification) reads it again from the body,
/// rarely.
fn notification_events(body: &[u8], mut notification: Notification<'_>) -> Result<Vec<ParsedEvent>, ParseError> {
    let count = notification
        .entry
        .iter()
        .flat_map(|entry| &entry.changes)
        .map(|change| change.value.messages.len() + change.value.calls.len() + change.value.statuses.len() + 1)
        .sum();
    let mut out = Vec::with_capacity(count);
    let mut raw: Option<RawNotification<'_>> = None;
    for (e, entry) in notification.entry.iter_mut().enumerate() {
        for (c, change) in entry.changes.iter_mut().enumerate() {
            let value = &mut change.value;
            let field = &*change.field;
            if !matches!(field, "messages" | "calls") {
                out.push(other_field_event(&entry.id, field, raw_value(body, &mut raw, e, c)?)?);
                continue;
            }
            if !value.is_object {
                let raw = raw_value(body, &mut raw, e, c)?;
                out.push(super::one_by_one::unreadable(field, raw, not_an_object(field)));
                continue;
            }
            let business = value.metadata.as_ref().map(|m| &*m.display_phone_number);
            let contacts = &value.contacts;
            out.extend(value.messages.iter_mut().map(|message| inbound_message(message, contacts, business)));
            out.extend(value.calls.iter().map(|call| call_event(call, contacts, business)));
            out.extend(value.statuses.iter().map(|status| status_event(status, business)));
            if !value.errors.is_empty() {
                let raw = raw_value(body, &mut raw, e, c)?;
                out.push(errors_event(&entry.id, field, raw));
            }
        }
    }
    Ok(out)
}

/// The event of a change to a field other than `messages` and `calls`, with its raw
/// value.
pub(super) fn other_field_event(entry_id: &str, field: &str, raw: &str) -> Result<ParsedEvent, ParseError> {
    let mut event = UnmodeledEvent::new(PROVIDER, field);
    event.data = serde_json::from_str(raw)?;
    let key = format!("{field}:{entry_id}:{}", digest(raw));
    Ok(ParsedEvent::new(field, key, Event::Unmodeled(event)))
}

pub(super) fn not_an_object(field: &str) -> ParseError {
    ParseError::InvalidValue { field: "value", reason: format!("a {field} value is an object") }
}

/// The raw JSON of each change's value, for the events that carry it.
#[derive(serde::Deserialize)]
struct RawNotification<'a> {
    #[serde(borrow, default)]
    entry: Vec<RawEntry<'a>>,
}

#[derive(serde::Deserialize)]
struct RawEntry<'a> {
    #[serde(borrow, default)]
    changes: Vec<RawChange<'a>>,
}

#[derive(serde::Deserialize)]
struct RawChange<'a> {
    #[serde(borrow)]
    value: &'a serde_json::value::RawValue,
}

/// Change `c` of entry `e`'s value as received, the body read for it once.
fn raw_value<'a>(body: &'a [u8], raw: &mut Option<RawNotification<'a>>, e: usize, c: usize) -> Result<&'a str, ParseError> {
    let raw = match raw {
        Some(raw) => raw,
        None => raw.insert(from_json(body)?),
    };
    let change = raw.entry.get(e).and_then(|entry| entry.changes.get(c));
    Ok(change.ok_or(ParseError::MissingField("entry.changes.value"))?.value.get())
}

fn digest(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

pub(super) fn errors_event(entry_id: &str, field: &str, raw: &str) -> ParsedEvent {
    let key = format!("{field}-errors:{entry_id}:{}", digest(raw));
    let mut event = UnmodeledEvent::new(PROVIDER, format!("{field}.errors"));
    event.data = serde_json::from_str(raw).unwrap_or_default();
    ParsedEvent::new(format!("{field}.errors"), key, Event::Unmodeled(event))
}

fn owned(value: &Option<Cow<'_, str>>) -> Option<String> {
    value.as_deref().map(str::to_owned)
}

/// The string, moved out when serde unescaped it into its own `String`, copied when
/// borrowed from the body; `value` is left empty.
fn take(value: &mut Cow<'_, str>) -> String {
    std::mem::take(value).into_owned()
}

/// [`take`] for an optional string.
fn take_option(value: &mut Option<Cow<'_, str>>) -> Option<String> {
    value.take().map(Cow::into_owned)
}

fn time(value: Option<super::model::UnixTime>) -> Option<OffsetDateTime> {
    value.map(|t| t.0)
}

fn provider_error(error: &ApiError<'_>) -> ProviderError {
    ProviderError {
        code: error.code.map(|code| code.to_string()),
        title: owned(&error.title),
        message: owned(&error.message),
        details: error.error_data.as_ref().and_then(|data| owned(&data.details)),
    }
}

/// The profile `contacts[]` has for the user with this WhatsApp id or BSUID (or the
/// only one).
fn find_contact<'c, 'a>(contacts: &'c [Contact<'a>], wa_id: Option<&str>, user_id: Option<&str>) -> Option<&'c Contact<'a>> {
    let same = |mine: &Option<Cow<'_, str>>, theirs: Option<&str>| mine.is_some() && mine.as_deref() == theirs;
    let matching = contacts.iter().find(|c| same(&c.wa_id, wa_id) || same(&c.user_id, user_id));
    matching.or(if contacts.len() == 1 { contacts.first() } else { None })
}

fn profile_name(contact: Option<&Contact<'_>>) -> Option<String> {
    contact?.profile.as_ref().and_then(|profile| owned(&profile.name))
}

/// Who the user is: their number in E.164 when Meta sends one, else their
/// business-scoped id.
fn customer(wa_id: Option<&str>, user_id: Option<&str>, parent_user_id: Option<&str>) -> Option<ContactId> {
    wa_id.and_then(ContactId::from_phone).or_else(|| {
        user_id.map(|user_id| ContactId::BusinessScoped {
            user_id: user_id.to_owned(),
            parent_user_id: parent_user_id.map(str::to_owned),
        })
    })
}

/// The message's event. Strings serde had to unescape are moved out of the message
/// rather than copied.
pub(super) fn inbound_message(message: &mut InboundMessage<'_>, contacts: &[Contact<'_>], business: Option<&str>) -> ParsedEvent {
    let event_type = join(["messages.", message.kind.as_str()]);
    let key = join(["message:", &message.id]);
    let own_user_id = message.user_id.as_deref().or(message.from_user_id.as_deref());
    let contact = find_contact(contacts, message.from.as_deref(), own_user_id);
    let wa_id = message.from.as_deref().or(contact.and_then(|c| c.wa_id.as_deref()));
    let user_id = own_user_id.or(contact.and_then(|c| c.user_id.as_deref()));
    let parent = message.parent_user_id.as_deref().or(contact.and_then(|c| c.parent_user_id.as_deref()));
    let customer = customer(wa_id, user_id, parent);
    let contact_name = profile_name(contact);
    // The sender's address: their number, else their BSUID (moved out when owned).
    let address = if message.from.is_some() { None } else { wa_id.or(user_id).map(str::to_owned) };
    let from = match &mut message.from {
        Some(from) => take(from),
        None => address.unwrap_or_default(),
    };
    let mut inbound = Inbound::new(from, content(message));
    inbound.to = business.map(str::to_owned);
    inbound.contact_name = contact_name;
    inbound.customer = customer;
    inbound.reply_to = message.context.as_mut().and_then(|context| take_option(&mut context.id));
    let mut event = MessageEvent::new(PROVIDER, take(&mut message.id), MessageKind::Inbound(inbound));
    event.business_number = business.and_then(e164);
    event.occurred_at = time(message.timestamp);
    ParsedEvent::new(event_type, key, Event::Message(event))
}

fn media_ref(kind: MediaKind, media: &mut Media<'_>) -> MediaRef {
    let mut out = MediaRef::new(kind);
    out.id = take_option(&mut media.id);
    out.mime_type = take_option(&mut media.mime_type);
    out.filename = take_option(&mut media.filename);
    out.voice = media.voice;
    out
}

fn content(message: &mut InboundMessage<'_>) -> MessageContent {
    let kind = &message.kind;
    let other = || MessageContent::Other { provider_type: kind.as_str().to_owned() };
    let media = |kind, media: &mut Option<Box<Media<'_>>>| match media {
        Some(media) => {
            MessageContent::Media { media: vec![media_ref(kind, media)], caption: take_option(&mut media.caption) }
        }
        None => other(),
    };
    match kind {
        MessageType::Text => match &mut message.text {
            Some(text) => MessageContent::text(take(&mut text.body)),
            None => other(),
        },
        MessageType::Image => media(MediaKind::Image, &mut message.image),
        MessageType::Audio => media(MediaKind::Audio, &mut message.audio),
        MessageType::Video => media(MediaKind::Video, &mut message.video),
        MessageType::Document => media(MediaKind::Document, &mut message.document),
        MessageType::Sticker => media(MediaKind::Sticker, &mut message.sticker),
        MessageType::Location => match &message.location {
            Some(location) => MessageContent::Location {
                latitude: location.latitude,
                longitude: location.longitude,
                name: owned(&location.name),
                address: owned(&location.address),
            },
            None => other(),
        },
        MessageType::Reaction => match &message.reaction {
            Some(reaction) => MessageContent::Reaction {
                message_id: reaction.message_id.to_string(),
                emoji: owned(&reaction.emoji).unwrap_or_default(),
            },
            None => other(),
        },
        MessageType::Interactive => match &message.interactive {
            Some(interactive) => {
                if let Some(option) = interactive.button_reply.as_ref().or(interactive.list_reply.as_ref()) {
                    MessageContent::InteractiveReply {
                        reply_id: Some(option.id.to_string()),
                        title: owned(&option.title),
                        payload: None,
                    }
                } else if let Some(flow) = &interactive.nfm_reply {
                    MessageContent::InteractiveReply {
                        reply_id: owned(&flow.name),
                        title: owned(&flow.body),
                        payload: owned(&flow.response_json),
                    }
                } else {
                    other()
                }
            }
            None => other(),
        },
        MessageType::Button => match &message.button {
            Some(button) => MessageContent::InteractiveReply {
                reply_id: owned(&button.payload),
                title: owned(&button.text),
                payload: None,
            },
            None => other(),
        },
        _ => other(),
    }
}

/// The normalized status of a message status value.
pub fn message_status(status: &StatusValue) -> MessageStatus {
    match status {
        StatusValue::Sent => MessageStatus::Sent,
        StatusValue::Delivered => MessageStatus::Delivered,
        StatusValue::Read => MessageStatus::Read,
        StatusValue::Failed => MessageStatus::Failed,
        other => MessageStatus::from(other.as_str()),
    }
}

pub(super) fn status_event(status: &Status<'_>, business: Option<&str>) -> ParsedEvent {
    if status.is_call() {
        return call_status_event(status, business);
    }
    let mut update = StatusUpdate::new(message_status(&status.status));
    update.recipient = owned(&status.recipient_id).or_else(|| owned(&status.recipient_user_id));
    update.errors = status.errors.iter().map(provider_error).collect();
    let mut event = MessageEvent::new(PROVIDER, &*status.id, MessageKind::Status(update));
    event.customer = customer(status.recipient_id.as_deref(), status.recipient_user_id.as_deref(), None);
    event.business_number = business.and_then(e164);
    event.occurred_at = time(status.timestamp);
    event.conversation = status.conversation.as_ref().map(|c| {
        let mut conversation = Conversation::new(&*c.id);
        conversation.origin = c.origin.as_ref().map(|o| o.kind.to_string());
        conversation.expires_at = time(c.expiration_timestamp);
        conversation
    });
    event.pricing = status.pricing.as_ref().map(|p| Pricing {
        billable: p.billable,
        model: owned(&p.pricing_model),
        category: owned(&p.category),
    });
    let name = status.status.as_str();
    ParsedEvent::new(join(["statuses.", name]), join(["status:", &status.id, ":", name]), Event::Message(event))
}

fn call_status_event(status: &Status<'_>, business: Option<&str>) -> ParsedEvent {
    let at = time(status.timestamp);
    let mut event = CallEvent::new(PROVIDER, &*status.id);
    event.provider_status = Some(status.status.as_str().to_owned());
    // Call statuses are sent for business-initiated calls only.
    event.direction = Some(Direction::Outbound);
    event.from = business.map(str::to_owned);
    event.to = owned(&status.recipient_id).or_else(|| owned(&status.recipient_user_id));
    event.customer = customer(status.recipient_id.as_deref(), status.recipient_user_id.as_deref(), None);
    event.business_number = business.and_then(e164);
    event.occurred_at = at;
    event.status = match status.status {
        StatusValue::CallRinging => Some(CallStatus::Ringing),
        StatusValue::CallAccepted => {
            event.answered_at = at;
            Some(CallStatus::InProgress)
        }
        StatusValue::CallRejected => {
            event.ended_at = at;
            Some(CallStatus::Busy)
        }
        _ => None,
    };
    event.error = status.errors.first().map(provider_error);
    let name = status.status.as_str();
    let key = join(["call-status:", &status.id, ":", name]);
    ParsedEvent::new(join(["call_statuses.", name]), key, Event::Call(event))
}

pub(super) fn call_event(call: &Call<'_>, contacts: &[Contact<'_>], business: Option<&str>) -> ParsedEvent {
    let at = time(call.timestamp);
    let mut event = CallEvent::new(PROVIDER, &*call.id);
    event.direction = call.direction.as_ref().and_then(|d| match d {
        CallDirection::UserInitiated => Some(Direction::Inbound),
        CallDirection::BusinessInitiated => Some(Direction::Outbound),
        CallDirection::_Custom(_) => None,
    });
    event.from = owned(&call.from);
    event.to = owned(&call.to);
    // The WhatsApp user is the caller of a user-initiated call, the callee otherwise.
    let outbound = event.direction == Some(Direction::Outbound);
    let (user_number, business_number) = if outbound { (&call.to, &call.from) } else { (&call.from, &call.to) };
    let contact = find_contact(contacts, user_number.as_deref(), call.user_id.as_deref());
    let wa_id = user_number.as_deref().or(contact.and_then(|c| c.wa_id.as_deref()));
    let user_id = call.user_id.as_deref().or(contact.and_then(|c| c.user_id.as_deref()));
    event.customer = customer(wa_id, user_id, contact.and_then(|c| c.parent_user_id.as_deref()));
    event.business_number = business.and_then(e164).or_else(|| business_number.as_deref().and_then(e164));
    event.contact_name = profile_name(contact);
    event.occurred_at = at;
    event.error = call.errors.first().map(provider_error);
    match call.event {
        CallEventKind::Connect => {
            event.provider_status = Some("connect".to_owned());
            if event.direction == Some(Direction::Outbound) {
                event.status = Some(CallStatus::InProgress);
                event.answered_at = at;
            } else {
                event.status = Some(CallStatus::Ringing);
                event.started_at = at;
            }
        }
        CallEventKind::Terminate => {
            event.provider_status = call.status.as_ref().map(|s| s.as_str().to_owned());
            event.status = match &call.status {
                Some(CallEndStatus::Completed) => Some(CallStatus::Completed),
                Some(CallEndStatus::Failed) => Some(CallStatus::Failed),
                Some(CallEndStatus::Rejected) => Some(CallStatus::Busy),
                Some(CallEndStatus::_Custom(_)) => None,
                None => Some(CallStatus::Completed),
            };
            event.started_at = time(call.start_time);
            event.answered_at = time(call.start_time);
            event.ended_at = time(call.end_time).or(at);
            event.duration_ms = call.duration.map(|secs| secs.saturating_mul(1000));
        }
        CallEventKind::_Custom(ref other) => event.provider_status = Some(other.as_str().to_owned()),
    }
    let name = call.event.as_str();
    ParsedEvent::new(join(["calls.", name]), join(["call:", &call.id, ":", name]), Event::Call(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(value: &str) -> Vec<u8> {
        format!(r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{value}]}}]}}"#).into_bytes()
    }

    #[test]
    fn other_fields_and_errors_carry_their_raw_value() {
        let parsed = events(&change(r#"{"field":"template","value":"x"}"#)).unwrap();
        let Event::Unmodeled(event) = &parsed[0].event else { panic!("{parsed:?}") };
        assert_eq!((event.provider_type.as_str(), &event.data), ("template", &serde_json::json!("x")));
        let body = change(r#"{"field":"messages","value":{"errors":[{"code":131000}],"statuses":[{"id":"w","status":"sent"}]}}"#);
        let parsed = events(&body).unwrap();
        assert_eq!(parsed.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["statuses.sent", "messages.errors"]);
        let Event::Unmodeled(errors) = &parsed[1].event else { panic!() };
        assert_eq!(errors.data["errors"][0]["code"], 131000);
    }

    #[test]
    fn a_body_with_nothing_to_read_item_by_item_is_an_error_not_an_empty_batch() {
        for body in [&br#"{"a":{"a":1}}"#[..], br#"{"entry":[]}"#, b"[]"] {
            assert!(events(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn a_messages_value_that_is_no_object_is_unparsed_on_its_own() {
        let body = change(r#"{"field":"messages","value":[null,null,[],[]]},{"field":"messages","value":{"statuses":[{"id":"w","status":"sent"}]}}"#);
        let parsed = events(&body).unwrap();
        assert_eq!(parsed.len(), 2, "{parsed:?}");
        assert_eq!(parsed[0].event_type, crate::provider::UNPARSED_EVENT_TYPE);
        assert!(parsed[0].unreadable.as_deref().unwrap().contains("object"), "{:?}", parsed[0].unreadable);
        assert_eq!(parsed[1].event_type, "statuses.sent");
        assert!(events(&change(r#"{"value":{"statuses":[{"id":"w","status":"read","type":"call"}]},"field":"calls"}"#)).is_ok());
    }
}
