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
//! `played`, new ones) are kept as `Other`. `conversation` and `pricing` are carried.
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

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::model::{
    ApiError, Call, CallDirection, CallEndStatus, CallEventKind, CallsValue, Change, Contact, Media, MessageType,
    MessagesValue, Notification, Status, StatusValue,
};
use crate::event::{
    CallEvent, CallStatus, Conversation, Direction, Event, InboundMessage as Inbound, MediaKind, MediaRef,
    MessageContent, MessageEvent, MessageKind, MessageStatus, Pricing, ProviderError, ProviderId, StatusUpdate,
    UnmodeledEvent,
};
use crate::provider::{ParseError, ParsedEvent};
use crate::providers::borrowed::{from_json, join};

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
    match single_pass(body) {
        Some(events) => Ok(events),
        None => general(body),
    }
}

/// The hot path: the body parsed once, each change's value straight into typed views
/// (no raw `value` kept and parsed again, no raw message parsed a third time), and the
/// output allocated once. `None` when a change needs its raw JSON (a field other than
/// `messages` and `calls`, or `errors` about the notification) or when the body does
/// not fit the views; [`general`] then decides. The views are stricter than the general
/// path's models and type every field it reads the same way, so whenever this succeeds
/// the general path gives the same events.
fn single_pass(body: &[u8]) -> Option<Vec<ParsedEvent>> {
    let mut notification: view::Notification<'_> = from_json(body).ok()?;
    let mut count = 0;
    for change in notification.entry.iter().flat_map(|entry| &entry.changes) {
        let value = &change.value.0;
        count += match &*change.field {
            _ if !value.errors.is_empty() => return None,
            "messages" => value.messages.len() + value.statuses.len(),
            "calls" => value.calls.len() + value.statuses.len(),
            _ => return None,
        };
    }
    let mut out = Vec::with_capacity(count);
    for change in notification.entry.iter_mut().flat_map(|entry| &mut entry.changes) {
        let value = &mut change.value.0;
        let business = value.metadata.as_ref().map(|m| &*m.display_phone_number);
        if change.field == "messages" {
            let contacts = &value.contacts;
            out.extend(value.messages.iter_mut().map(|message| inbound_message(message, contacts, business)));
        } else {
            out.extend(value.calls.iter().map(|call| call_event(call, &value.contacts)));
        }
        out.extend(value.statuses.iter().map(|status| status_event(status, business)));
    }
    Some(out)
}

/// Borrowed views of a notification for [`single_pass`]: the models' types, with each
/// change's value typed in place instead of kept raw, and [`Message`](view::Message),
/// the inbound message both paths read.
mod view {
    use std::borrow::Cow;
    use std::fmt;
    use std::marker::PhantomData;

    use serde::Deserialize;
    use serde::de::value::MapAccessDeserializer;
    use serde::de::{Deserializer, MapAccess, Visitor};

    use serde_json::value::RawValue;

    use super::super::model::{
        ApiError, Button, Call, Contact, Interactive, Location, Media, MessageContext, MessageType, Metadata, Order,
        Reaction, Referral, Status, System, Text, UnixTime,
    };
    use crate::providers::borrowed::{self, Checked};

    #[derive(Deserialize)]
    pub(super) struct Notification<'a> {
        #[serde(borrow, rename = "object")]
        _object: Cow<'a, str>,
        #[serde(borrow, default)]
        pub(super) entry: Vec<Entry<'a>>,
    }

    #[derive(Deserialize)]
    pub(super) struct Entry<'a> {
        #[serde(borrow, rename = "id")]
        _id: Cow<'a, str>,
        #[serde(borrow, default)]
        pub(super) changes: Vec<Change<'a>>,
    }

    #[derive(Deserialize)]
    pub(super) struct Change<'a> {
        #[serde(borrow)]
        pub(super) field: Cow<'a, str>,
        #[serde(borrow)]
        pub(super) value: Value<'a>,
    }

    /// A `messages` or `calls` value: [`Fields`] from a JSON object only (a derived
    /// struct would also accept an array, by position).
    pub(super) struct Value<'a>(pub(super) Fields<'a>);

    /// The union of `MessagesValue` and `CallsValue`, messages typed in place.
    #[derive(Deserialize)]
    pub(super) struct Fields<'a> {
        #[serde(borrow, default, rename = "messaging_product", deserialize_with = "borrowed::option_str")]
        _messaging_product: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub(super) metadata: Option<Metadata<'a>>,
        #[serde(borrow, default)]
        pub(super) contacts: Vec<Contact<'a>>,
        #[serde(borrow, default)]
        pub(super) messages: Vec<Message<'a>>,
        #[serde(borrow, default)]
        pub(super) statuses: Vec<Status<'a>>,
        #[serde(borrow, default)]
        pub(super) calls: Vec<Call<'a>>,
        #[serde(borrow, default)]
        pub(super) errors: Vec<ApiError<'a>>,
    }

    /// An inbound message as the events read it, for both paths: the model's
    /// [`InboundMessage`](super::super::model::InboundMessage) fields, in its order and
    /// typed the same way (so it accepts and refuses the same messages), with the fields
    /// no event uses checked and dropped and the large, rarer ones boxed. The model is
    /// 1.6 KB and serde moves a message several times while reading it.
    #[derive(Deserialize)]
    pub(super) struct Message<'a> {
        #[serde(borrow)]
        pub(super) from: Cow<'a, str>,
        #[serde(borrow)]
        pub(super) id: Cow<'a, str>,
        pub(super) timestamp: Option<UnixTime>,
        #[serde(rename = "type", deserialize_with = "borrowed::open_enum")]
        pub(super) kind: MessageType,
        #[serde(borrow, default)]
        pub(super) context: Option<Box<MessageContext<'a>>>,
        #[serde(borrow, default, rename = "referral")]
        _referral: Checked<Option<Referral<'a>>>,
        #[serde(borrow, default, rename = "errors")]
        _errors: Checked<Vec<ApiError<'a>>>,
        #[serde(borrow, default)]
        pub(super) text: Option<Text<'a>>,
        #[serde(borrow, default)]
        pub(super) image: Option<Box<Media<'a>>>,
        #[serde(borrow, default)]
        pub(super) audio: Option<Box<Media<'a>>>,
        #[serde(borrow, default)]
        pub(super) video: Option<Box<Media<'a>>>,
        #[serde(borrow, default)]
        pub(super) document: Option<Box<Media<'a>>>,
        #[serde(borrow, default)]
        pub(super) sticker: Option<Box<Media<'a>>>,
        #[serde(borrow, default)]
        pub(super) location: Option<Box<Location<'a>>>,
        #[serde(borrow, default, rename = "contacts")]
        _contacts: Checked<Option<&'a RawValue>>,
        #[serde(borrow, default)]
        pub(super) interactive: Option<Box<Interactive<'a>>>,
        #[serde(borrow, default)]
        pub(super) button: Option<Box<Button<'a>>>,
        #[serde(borrow, default)]
        pub(super) reaction: Option<Box<Reaction<'a>>>,
        #[serde(borrow, default, rename = "order")]
        _order: Checked<Option<Order<'a>>>,
        #[serde(borrow, default, rename = "system")]
        _system: Checked<Option<System<'a>>>,
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct ObjectOnly<'a>(PhantomData<Fields<'a>>);

            impl<'de: 'a, 'a> Visitor<'de> for ObjectOnly<'a> {
                type Value = Value<'a>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON object")
                }

                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value<'a>, A::Error> {
                    Fields::deserialize(MapAccessDeserializer::new(map)).map(Value)
                }
            }

            deserializer.deserialize_map(ObjectOnly(PhantomData))
        }
    }
}

/// The general path: every field, raw values kept where the event needs them.
fn general(body: &[u8]) -> Result<Vec<ParsedEvent>, ParseError> {
    let notification: Notification<'_> = serde_json::from_slice(body)?;
    let mut out = Vec::new();
    for entry in &notification.entry {
        for change in &entry.changes {
            change_events(&entry.id, change, &mut out)?;
        }
    }
    Ok(out)
}

fn change_events(entry_id: &str, change: &Change<'_>, out: &mut Vec<ParsedEvent>) -> Result<(), ParseError> {
    match &*change.field {
        "messages" => {
            let value: MessagesValue<'_> = serde_json::from_str(change.value.get())?;
            let business = value.metadata.as_ref().map(|m| &*m.display_phone_number);
            for raw in &value.messages {
                let mut message: view::Message<'_> = serde_json::from_str(raw.get())?;
                out.push(inbound_message(&mut message, &value.contacts, business));
            }
            for status in &value.statuses {
                out.push(status_event(status, business));
            }
            if !value.errors.is_empty() {
                out.push(errors_event(entry_id, change));
            }
        }
        "calls" => {
            let value: CallsValue<'_> = serde_json::from_str(change.value.get())?;
            for call in &value.calls {
                out.push(call_event(call, &value.contacts));
            }
            let business = value.metadata.as_ref().map(|m| &*m.display_phone_number);
            for status in &value.statuses {
                out.push(status_event(status, business));
            }
            if !value.errors.is_empty() {
                out.push(errors_event(entry_id, change));
            }
        }
        field => out.push(unmodeled(field, field, format!("{field}:{entry_id}:{}", digest(change)), change)?),
    }
    Ok(())
}

fn digest(change: &Change<'_>) -> String {
    hex::encode(Sha256::digest(change.value.get().as_bytes()))
}

fn unmodeled(event_type: &str, field: &str, key: String, change: &Change<'_>) -> Result<ParsedEvent, ParseError> {
    let mut event = UnmodeledEvent::new(PROVIDER, field);
    event.data = serde_json::from_str(change.value.get())?;
    Ok(ParsedEvent::new(event_type, key, Event::Unmodeled(event)))
}

fn errors_event(entry_id: &str, change: &Change<'_>) -> ParsedEvent {
    let field = &*change.field;
    let key = format!("{field}-errors:{entry_id}:{}", digest(change));
    let mut event = UnmodeledEvent::new(PROVIDER, format!("{field}.errors"));
    event.data = serde_json::from_str(change.value.get()).unwrap_or_default();
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

fn contact_name(contacts: &[Contact<'_>], wa_id: Option<&str>) -> Option<String> {
    let matching = contacts.iter().find(|c| c.wa_id.as_deref().is_some() && c.wa_id.as_deref() == wa_id);
    let contact = matching.or(if contacts.len() == 1 { contacts.first() } else { None })?;
    contact.profile.as_ref().and_then(|profile| owned(&profile.name))
}

/// The message's event. Strings serde had to unescape are moved out of the message
/// rather than copied.
fn inbound_message(message: &mut view::Message<'_>, contacts: &[Contact<'_>], business: Option<&str>) -> ParsedEvent {
    let event_type = join(["messages.", message.kind.as_str()]);
    let key = join(["message:", &message.id]);
    let contact_name = contact_name(contacts, Some(&message.from));
    let mut inbound = Inbound::new(take(&mut message.from), content(message));
    inbound.to = business.map(str::to_owned);
    inbound.contact_name = contact_name;
    inbound.reply_to = message.context.as_mut().and_then(|context| take_option(&mut context.id));
    let mut event = MessageEvent::new(PROVIDER, take(&mut message.id), MessageKind::Inbound(inbound));
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

fn content(message: &mut view::Message<'_>) -> MessageContent {
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
        other => MessageStatus::Other(other.as_str().to_owned()),
    }
}

fn status_event(status: &Status<'_>, business: Option<&str>) -> ParsedEvent {
    if status.is_call() {
        return call_status_event(status, business);
    }
    let mut update = StatusUpdate::new(message_status(&status.status));
    update.recipient = owned(&status.recipient_id);
    update.errors = status.errors.iter().map(provider_error).collect();
    let mut event = MessageEvent::new(PROVIDER, &*status.id, MessageKind::Status(update));
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
    event.to = owned(&status.recipient_id);
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

fn call_event(call: &Call<'_>, contacts: &[Contact<'_>]) -> ParsedEvent {
    let at = time(call.timestamp);
    let mut event = CallEvent::new(PROVIDER, &*call.id);
    event.direction = call.direction.as_ref().and_then(|d| match d {
        CallDirection::UserInitiated => Some(Direction::Inbound),
        CallDirection::BusinessInitiated => Some(Direction::Outbound),
        CallDirection::Other(_) => None,
    });
    event.from = owned(&call.from);
    event.to = owned(&call.to);
    event.contact_name = contact_name(contacts, call.from.as_deref());
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
                Some(CallEndStatus::Other(_)) => None,
                None => Some(CallStatus::Completed),
            };
            event.started_at = time(call.start_time);
            event.answered_at = time(call.start_time);
            event.ended_at = time(call.end_time).or(at);
            event.duration_ms = call.duration.map(|secs| secs.saturating_mul(1000));
        }
        CallEventKind::Other(ref other) => event.provider_status = Some(other.clone()),
    }
    let name = call.event.as_str();
    ParsedEvent::new(join(["calls.", name]), join(["call:", &call.id, ":", name]), Event::Call(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_view_accepts_and_refuses_what_the_model_does() {
        use super::super::model::InboundMessage;

        let mut messages: Vec<String> = Vec::new();
        for body in crate::providers::borrowed::json_fixtures("whatsapp") {
            let Ok(notification) = serde_json::from_slice::<serde_json::Value>(&body) else {
                continue;
            };
            let values = notification["entry"].as_array().into_iter().flatten().flat_map(|entry| {
                entry["changes"].as_array().into_iter().flatten().map(|change| &change["value"]["messages"])
            });
            messages.extend(values.filter_map(|m| m.as_array()).flatten().map(|m| m.to_string()));
        }
        assert!(messages.len() > 10, "{}", messages.len());
        let base = r#""from":"55","id":"wamid.1","timestamp":"1764590400""#;
        for extra in [
            r#""type":"text","text":{"body":"x"},"referral":5"#,
            r#""type":"text","referral":{"source_url":"https:\/\/x","headline":7}"#,
            r#""type":"unsupported","errors":{"code":1}"#,
            r#""type":"unsupported","errors":[{"code":"x"}]"#,
            r#""type":"order","order":[]"#,
            r#""type":"order","order":{"product_items":[{"quantity":"2"}]}"#,
            r#""type":"system","system":1"#,
            r#""type":"contacts","contacts":[{"name":{"formatted_name":"A"}}]"#,
            r#""type":"image","image":null,"context":null,"button":null"#,
            r#""type":"text","text":{"body":"a"},"text":{"body":"b"}"#,
            r#""type":"reaction","reaction":{"emoji":"x"}"#,
            r#""type":"location","location":{"latitude":"1","longitude":2}"#,
            r#""type":5"#,
            r#""type":"text","raw":{}"#,
        ] {
            messages.push(format!("{{{base},{extra}}}"));
        }
        messages.push(r#"["55","wamid.1",null,"text",null,null,[],{"body":"by position"}]"#.to_owned());
        for json in &messages {
            let model = serde_json::from_str::<&serde_json::value::RawValue>(json).and_then(InboundMessage::parse);
            let view = serde_json::from_str::<view::Message<'_>>(json);
            match (model, view) {
                (Ok(model), Ok(view)) => {
                    assert_eq!((model.kind, model.text), (view.kind, view.text), "{json}");
                    assert_eq!(model.image, view.image.map(|image| *image), "{json}");
                }
                (Err(model), Err(view)) => assert_eq!(model.to_string(), view.to_string(), "{json}"),
                (model, view) => panic!("{json}: model ok {}, view ok {}", model.is_ok(), view.is_ok()),
            }
        }
    }

    #[test]
    fn the_single_pass_gives_the_general_paths_events_or_steps_aside() {
        let mut bodies = crate::providers::borrowed::json_fixtures("whatsapp");
        assert!(bodies.len() > 30);
        let change = |value: &str| {
            format!(r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{value}]}}]}}"#)
                .into_bytes()
        };
        bodies.extend([
            // A value given as an array: typed by position by the general path.
            change(r#"{"field":"messages","value":[null,null,[],[],[{"id":"w","status":"read"}]]}"#),
            change(r#"{"field":"messages","value":{"errors":[{"code":1}]}}"#),
            change(r#"{"field":"messages","value":{"calls":[{"x":1}],"statuses":[{"id":"w","status":"sent"}]}}"#),
            change(r#"{"field":"calls","value":{"messages":[1],"calls":[{"id":"c","event":"connect"}]}}"#),
            change(r#"{"field":"messages","value":{"statuses":[{"id":"w","status":"sent"}],"statuses":[]}}"#),
            change(r#"{"value":{"statuses":[{"id":"w","status":"read","type":"call"}]},"field":"calls"}"#),
            change(r#"{"field":"template","value":"x"}"#),
            br#"{"entry":[]}"#.to_vec(),
            br#"{"object":"x","entry":[{"id":"1","changes":[{"field":"messages"}]}]}"#.to_vec(),
        ]);
        let mut single = 0;
        for body in &bodies {
            let text = String::from_utf8_lossy(body);
            if let Some(events) = single_pass(body) {
                single += 1;
                assert_eq!(
                    events,
                    general(body).expect("the general path accepts what the single pass does"),
                    "{text}"
                );
            }
        }
        assert!(single > 20, "{single}");
    }
}
