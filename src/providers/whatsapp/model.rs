//! WhatsApp Cloud API webhook payloads (Meta's Graph API notifications), as serde
//! models that borrow from the body: the models the pipeline itself reads, in one pass.
//!
//! Strings are `Cow<'a, str>`: borrowed when the JSON has no escapes, owned when Meta
//! escaped something (it escapes every non-ASCII character and may escape `/`). A
//! change's [`Value`] is typed whatever its field (fields other than `messages` and
//! `calls` have none of its keys; the event of such a change carries its raw JSON,
//! read again from the body). Status and type values Meta adds later are kept as they came (`as_str()`, `is_known()` false);
//! message types callhook does not model keep their type, and the whole payload stays
//! in the event log, byte for byte.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::wire::{borrowed, lenient};
use crate::wire::open_enum;

/// A whole notification: `{"object": "whatsapp_business_account", "entry": [...]}`.
///
/// ```
/// use callhook::providers::whatsapp::model::Notification;
///
/// let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"102","changes":[
///     {"field":"messages","value":{"messaging_product":"whatsapp","statuses":[]}}]}]}"#;
/// let notification: Notification<'_> = serde_json::from_slice(body).unwrap();
/// assert_eq!(notification.entry[0].changes[0].field, "messages");
/// ```
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Notification<'a> {
    /// `whatsapp_business_account`.
    #[serde(borrow)]
    pub object: Cow<'a, str>,
    /// One entry per WhatsApp Business Account.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub entry: Vec<Entry<'a>>,
}

/// The changes of one WhatsApp Business Account.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Entry<'a> {
    /// The WABA id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// What changed.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub changes: Vec<Change<'a>>,
}

/// One change: the subscribed field and its value.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Change<'a> {
    /// `messages`, `calls`, `message_template_status_update`, ...
    #[serde(borrow)]
    pub field: Cow<'a, str>,
    /// The value.
    #[serde(borrow)]
    pub value: Value<'a>,
}

/// The value of a change. Meta writes `field` after `value`, so the value is read
/// before its field is known: as the union of what a `messages` change (inbound
/// messages, statuses) and a `calls` change (connect and terminate events, call
/// statuses) hold. Any other field's value reads as an empty `Value`, not an object if
/// it is none ([`Value::is_object`]).
///
/// ```
/// use callhook::providers::whatsapp::model::Notification;
/// let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
///     {"value":{"statuses":[{"id":"wamid.1","status":"read"}]},"field":"messages"}]}]}"#;
/// let notification: Notification<'_> = serde_json::from_slice(body).unwrap();
/// assert_eq!(notification.entry[0].changes[0].value.statuses[0].id, "wamid.1");
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Value<'a> {
    /// Whether the value is a JSON object (every value Meta documents is).
    pub is_object: bool,
    /// `whatsapp`.
    pub messaging_product: Option<Cow<'a, str>>,
    /// The business phone number that received the update.
    pub metadata: Option<Metadata<'a>>,
    /// The senders' (or the caller's) profiles.
    pub contacts: Vec<Contact<'a>>,
    /// Inbound messages.
    pub messages: Vec<InboundMessage<'a>>,
    /// Statuses of messages (and calls) the business sent.
    pub statuses: Vec<Status<'a>>,
    /// Connect and terminate events of calls (Calling API).
    pub calls: Vec<Call<'a>>,
    /// Errors about the notification itself.
    pub errors: Vec<ApiError<'a>>,
}

/// [`Value`]'s keys, read from an object.
#[derive(Deserialize)]
struct ValueFields<'a> {
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    messaging_product: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    metadata: Option<Metadata<'a>>,
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    contacts: Vec<Contact<'a>>,
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    messages: Vec<InboundMessage<'a>>,
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    statuses: Vec<Status<'a>>,
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    calls: Vec<Call<'a>>,
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    errors: Vec<ApiError<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor<'a>(PhantomData<Value<'a>>);

        impl<'de: 'a, 'a> Visitor<'de> for ValueVisitor<'a> {
            type Value = Value<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a change's value")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value<'a>, A::Error> {
                let fields = ValueFields::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Value {
                    is_object: true,
                    messaging_product: fields.messaging_product,
                    metadata: fields.metadata,
                    contacts: fields.contacts,
                    messages: fields.messages,
                    statuses: fields.statuses,
                    calls: fields.calls,
                    errors: fields.errors,
                })
            }

            // Not an object: nothing typed, the field's event keeps the raw JSON.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::default())
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }

            fn visit_unit<E: de::Error>(self) -> Result<Value<'a>, E> {
                Ok(Value::default())
            }
        }

        deserializer.deserialize_any(ValueVisitor(PhantomData))
    }
}

/// The business phone number an update is about.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Metadata<'a> {
    /// As shown to customers, e.g. `15550783881`.
    #[serde(borrow)]
    pub display_phone_number: Cow<'a, str>,
    /// The Graph API id of the number.
    #[serde(borrow)]
    pub phone_number_id: Cow<'a, str>,
}

/// A sender's profile.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Contact<'a> {
    /// The sender's WhatsApp id (digits); absent for a user who shows a username
    /// instead of a number.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub wa_id: Option<Cow<'a, str>>,
    /// The user's business-scoped id (BSUID, `US.…`).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub user_id: Option<Cow<'a, str>>,
    /// The BSUID of the user in the business portfolio's parent.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub parent_user_id: Option<Cow<'a, str>>,
    /// The profile.
    #[serde(borrow, default)]
    pub profile: Option<Profile<'a>>,
}

/// A sender's public profile.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Profile<'a> {
    /// The profile name.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub name: Option<Cow<'a, str>>,
}

open_enum! {
    /// The `type` of an inbound message.
    pub enum MessageType {
        /// Text.
        Text = "text",
        /// An image.
        Image = "image",
        /// Audio, including voice notes.
        Audio = "audio",
        /// A video.
        Video = "video",
        /// A document.
        Document = "document",
        /// A sticker.
        Sticker = "sticker",
        /// A shared location.
        Location = "location",
        /// Shared contact cards.
        Contacts = "contacts",
        /// A reply to an interactive message.
        Interactive = "interactive",
        /// A template's quick-reply button.
        Button = "button",
        /// A reaction.
        Reaction = "reaction",
        /// An order from a catalog.
        Order = "order",
        /// A system message (the user changed number, ...).
        System = "system",
        /// A type the Cloud API does not support.
        Unsupported = "unsupported",
        /// The older name of `unsupported`.
        Unknown = "unknown",
    }
}

/// An inbound message. Content is in the field named by `type`; the large, rarer
/// objects are boxed (serde moves a message several times while reading it).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct InboundMessage<'a> {
    /// The sender's WhatsApp id (phone digits); absent for a user who shows a username
    /// instead of a number, who is then known by [`user_id`](Self::user_id).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub from: Option<Cow<'a, str>>,
    /// The sender's business-scoped user id (BSUID, `US.…`).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub user_id: Option<Cow<'a, str>>,
    /// The sender's BSUID under the name some payloads give it beside `from`
    /// (`from_user_id`); [`user_id`](Self::user_id) is used first.
    #[serde(borrow, default, deserialize_with = "lenient::lossy::text")]
    pub from_user_id: Option<Cow<'a, str>>,
    /// The sender's BSUID in the business portfolio's parent.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub parent_user_id: Option<Cow<'a, str>>,
    /// The message id (`wamid.…`).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// When the user sent it.
    #[serde(default, deserialize_with = "unix_time")]
    pub timestamp: Option<UnixTime>,
    /// The message type.
    #[serde(rename = "type", deserialize_with = "borrowed::open_enum")]
    pub kind: MessageType,
    /// What it replies to or whether it was forwarded.
    #[serde(borrow, default)]
    pub context: Option<Box<MessageContext<'a>>>,
    /// The click-to-WhatsApp ad it came from.
    #[serde(borrow, default)]
    pub referral: Option<Box<Referral<'a>>>,
    /// Errors (on `unsupported` messages).
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub errors: Vec<ApiError<'a>>,
    /// `text`.
    #[serde(borrow, default)]
    pub text: Option<Text<'a>>,
    /// `image`.
    #[serde(borrow, default)]
    pub image: Option<Box<Media<'a>>>,
    /// `audio`.
    #[serde(borrow, default)]
    pub audio: Option<Box<Media<'a>>>,
    /// `video`.
    #[serde(borrow, default)]
    pub video: Option<Box<Media<'a>>>,
    /// `document`.
    #[serde(borrow, default)]
    pub document: Option<Box<Media<'a>>>,
    /// `sticker`.
    #[serde(borrow, default)]
    pub sticker: Option<Box<Media<'a>>>,
    /// `location`.
    #[serde(borrow, default)]
    pub location: Option<Box<Location<'a>>>,
    /// `contacts`: vCard-like objects, kept raw.
    #[serde(borrow, default)]
    pub contacts: Option<&'a RawValue>,
    /// `interactive`.
    #[serde(borrow, default)]
    pub interactive: Option<Box<Interactive<'a>>>,
    /// `button`.
    #[serde(borrow, default)]
    pub button: Option<Box<Button<'a>>>,
    /// `reaction`.
    #[serde(borrow, default)]
    pub reaction: Option<Box<Reaction<'a>>>,
    /// `order`.
    #[serde(borrow, default)]
    pub order: Option<Box<Order<'a>>>,
    /// `system`.
    #[serde(borrow, default)]
    pub system: Option<Box<System<'a>>>,
}

impl<'a> InboundMessage<'a> {
    /// The media object of a media message.
    pub fn media(&self) -> Option<&Media<'a>> {
        self.image
            .as_deref()
            .or(self.audio.as_deref())
            .or(self.video.as_deref())
            .or(self.document.as_deref())
            .or(self.sticker.as_deref())
    }
}

/// `context`: the message replied to, forwarding flags.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MessageContext<'a> {
    /// The sender of the message replied to.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub from: Option<Cow<'a, str>>,
    /// The id of the message replied to.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub id: Option<Cow<'a, str>>,
    /// Forwarded.
    #[serde(default, deserialize_with = "flag")]
    pub forwarded: bool,
    /// Forwarded more than five times.
    #[serde(default, deserialize_with = "flag")]
    pub frequently_forwarded: bool,
}

/// `referral`: the click-to-WhatsApp ad or post a message came from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Referral<'a> {
    /// The ad's or post's URL.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub source_url: Option<Cow<'a, str>>,
    /// The ad's id.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub source_id: Option<Cow<'a, str>>,
    /// `ad` or `post`.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub source_type: Option<Cow<'a, str>>,
    /// The ad's headline.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub headline: Option<Cow<'a, str>>,
    /// The ad's body.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub body: Option<Cow<'a, str>>,
    /// `image` or `video`.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub media_type: Option<Cow<'a, str>>,
    /// The click id for conversion tracking.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub ctwa_clid: Option<Cow<'a, str>>,
}

/// `text`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Text<'a> {
    /// The text.
    #[serde(borrow)]
    pub body: Cow<'a, str>,
}

/// `image`, `audio`, `video`, `document`, `sticker`: a media reference, fetched
/// separately from the Graph API by id.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Media<'a> {
    /// The media id.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub id: Option<Cow<'a, str>>,
    /// The MIME type.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub mime_type: Option<Cow<'a, str>>,
    /// The SHA-256 of the file (base64).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub sha256: Option<Cow<'a, str>>,
    /// The caption (image, video, document).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub caption: Option<Cow<'a, str>>,
    /// The file name (document).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub filename: Option<Cow<'a, str>>,
    /// A voice note (audio).
    #[serde(default, deserialize_with = "flag")]
    pub voice: bool,
    /// Animated (sticker).
    #[serde(default, deserialize_with = "flag")]
    pub animated: bool,
}

/// `location`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Location<'a> {
    /// Latitude (a number, or a numeric string).
    #[serde(deserialize_with = "coordinate")]
    pub latitude: f64,
    /// Longitude (a number, or a numeric string).
    #[serde(deserialize_with = "coordinate")]
    pub longitude: f64,
    /// The place's name.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub name: Option<Cow<'a, str>>,
    /// The place's address.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub address: Option<Cow<'a, str>>,
    /// A URL for the place.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub url: Option<Cow<'a, str>>,
}

/// A coordinate: required (a location is its coordinates), read as
/// [`lenient::float`] reads a number.
fn coordinate<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    lenient::float(deserializer)?.ok_or_else(|| serde::de::Error::missing_field("latitude/longitude"))
}

/// `interactive`: a reply to buttons, a list or a flow.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Interactive<'a> {
    /// `button_reply`, `list_reply`, `nfm_reply`, ...
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    /// A reply button chosen.
    #[serde(borrow, default)]
    pub button_reply: Option<ReplyOption<'a>>,
    /// A list row chosen.
    #[serde(borrow, default)]
    pub list_reply: Option<ReplyOption<'a>>,
    /// A flow completed.
    #[serde(borrow, default)]
    pub nfm_reply: Option<FlowReply<'a>>,
}

/// The option chosen in a button or list reply.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ReplyOption<'a> {
    /// The option's id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The option's title.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub title: Option<Cow<'a, str>>,
    /// The list row's description.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub description: Option<Cow<'a, str>>,
}

/// A completed flow (`nfm_reply`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FlowReply<'a> {
    /// The flow's name (`flow`, `address_message`).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub name: Option<Cow<'a, str>>,
    /// The text shown in the chat.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub body: Option<Cow<'a, str>>,
    /// The flow's response: a JSON document in a string.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub response_json: Option<Cow<'a, str>>,
}

/// `button`: a template's quick-reply button.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Button<'a> {
    /// The button's payload.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub payload: Option<Cow<'a, str>>,
    /// The button's text.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub text: Option<Cow<'a, str>>,
}

/// `reaction`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Reaction<'a> {
    /// The message reacted to.
    #[serde(borrow)]
    pub message_id: Cow<'a, str>,
    /// The emoji; absent or empty when the reaction is removed.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub emoji: Option<Cow<'a, str>>,
}

/// `order`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Order<'a> {
    /// The catalog.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub catalog_id: Option<Cow<'a, str>>,
    /// The text sent with the order.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub text: Option<Cow<'a, str>>,
    /// The products.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub product_items: Vec<ProductItem<'a>>,
}

/// One product of an order.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ProductItem<'a> {
    /// The product's id in the catalog.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub product_retailer_id: Option<Cow<'a, str>>,
    /// How many.
    #[serde(default, deserialize_with = "lenient::lossy::float")]
    pub quantity: Option<f64>,
    /// The unit price.
    #[serde(default, deserialize_with = "lenient::lossy::float")]
    pub item_price: Option<f64>,
    /// The currency.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub currency: Option<Cow<'a, str>>,
}

/// `system`: e.g. the user changed number.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct System<'a> {
    /// The text describing the change.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub body: Option<Cow<'a, str>>,
    /// `user_changed_number`, ...
    #[serde(borrow, default, rename = "type", deserialize_with = "lenient::text")]
    pub kind: Option<Cow<'a, str>>,
    /// The user's new WhatsApp id.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub new_wa_id: Option<Cow<'a, str>>,
    /// The user's WhatsApp id.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub wa_id: Option<Cow<'a, str>>,
}

open_enum! {
    /// The `status` of a status update. Message statuses are lowercase; call statuses
    /// (`type: "call"`) are uppercase.
    pub enum StatusValue {
        /// Sent to WhatsApp.
        Sent = "sent",
        /// Delivered to the device.
        Delivered = "delivered",
        /// Read.
        Read = "read",
        /// Could not be delivered.
        Failed = "failed",
        /// Deleted by the user.
        Deleted = "deleted",
        /// A warning about the message (e.g. an item in a catalog message).
        Warning = "warning",
        /// A voice message was played.
        Played = "played",
        /// A business-initiated call is ringing.
        CallRinging = "RINGING",
        /// A business-initiated call was accepted.
        CallAccepted = "ACCEPTED",
        /// A business-initiated call was rejected.
        CallRejected = "REJECTED",
    }
}

/// A status update for something the business sent: a message, or a call.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Status<'a> {
    /// The message id (`wamid.…`) or call id (`wacid.…`).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The status.
    #[serde(deserialize_with = "borrowed::open_enum")]
    pub status: StatusValue,
    /// `call` for call statuses; absent (or `message`) for messages.
    #[serde(borrow, default, rename = "type", deserialize_with = "lenient::text")]
    pub kind: Option<Cow<'a, str>>,
    /// When the status changed.
    #[serde(default, deserialize_with = "unix_time")]
    pub timestamp: Option<UnixTime>,
    /// The recipient's WhatsApp id.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub recipient_id: Option<Cow<'a, str>>,
    /// The recipient's business-scoped user id (BSUID), for a user who shows a username.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub recipient_user_id: Option<Cow<'a, str>>,
    /// The billing conversation.
    #[serde(borrow, default)]
    pub conversation: Option<Conversation<'a>>,
    /// Pricing.
    #[serde(borrow, default)]
    pub pricing: Option<Pricing<'a>>,
    /// Why it failed.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub errors: Vec<ApiError<'a>>,
    /// The business's own tracking data, echoed.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub biz_opaque_callback_data: Option<Cow<'a, str>>,
}

impl Status<'_> {
    /// Whether this is a call's status rather than a message's.
    pub fn is_call(&self) -> bool {
        self.kind.as_deref() == Some("call")
    }
}

/// The conversation (billing window) a message belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Conversation<'a> {
    /// The conversation id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// When the window closes.
    #[serde(default, deserialize_with = "unix_time")]
    pub expiration_timestamp: Option<UnixTime>,
    /// What opened it.
    #[serde(borrow, default)]
    pub origin: Option<ConversationOrigin<'a>>,
}

/// What opened a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ConversationOrigin<'a> {
    /// `marketing`, `utility`, `authentication`, `service`, `referral_conversion`, ...
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
}

/// How a message is billed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Pricing<'a> {
    /// Whether it is billed (deprecated by Meta).
    #[serde(default, deserialize_with = "lenient::lossy::boolean")]
    pub billable: Option<bool>,
    /// `CBP`, `PMP`.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub pricing_model: Option<Cow<'a, str>>,
    /// The category.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub category: Option<Cow<'a, str>>,
    /// `regular`, `free_customer_service`, ...
    #[serde(borrow, default, rename = "type", deserialize_with = "lenient::text")]
    pub kind: Option<Cow<'a, str>>,
}

/// An error Meta reports (on failed statuses, unsupported messages, calls).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ApiError<'a> {
    /// The error code, e.g. `131026`.
    #[serde(default, deserialize_with = "lenient::lossy::int")]
    pub code: Option<i64>,
    /// A short title.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub title: Option<Cow<'a, str>>,
    /// The message.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub message: Option<Cow<'a, str>>,
    /// Details.
    #[serde(borrow, default)]
    pub error_data: Option<ErrorData<'a>>,
    /// Where the code is documented.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub href: Option<Cow<'a, str>>,
}

/// `error_data`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ErrorData<'a> {
    /// Details.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub details: Option<Cow<'a, str>>,
}

open_enum! {
    /// A Calling API call event.
    pub enum CallEventKind {
        /// The call is being set up (an SDP offer or answer).
        Connect = "connect",
        /// The call ended.
        Terminate = "terminate",
    }
}

open_enum! {
    /// Who started a call.
    pub enum CallDirection {
        /// The WhatsApp user called the business.
        UserInitiated = "USER_INITIATED",
        /// The business called the user.
        BusinessInitiated = "BUSINESS_INITIATED",
    }
}

open_enum! {
    /// How a call ended (`terminate` events).
    pub enum CallEndStatus {
        /// Connected and ended normally.
        Completed = "COMPLETED",
        /// Did not connect or dropped.
        Failed = "FAILED",
        /// Declined (reported by some implementations).
        Rejected = "REJECTED",
    }
}

/// A Calling API call event.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Call<'a> {
    /// The call id (`wacid.…`).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The caller.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub from: Option<Cow<'a, str>>,
    /// The callee.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub to: Option<Cow<'a, str>>,
    /// The WhatsApp user's business-scoped user id (BSUID), for a user who shows a
    /// username (also in the change's `contacts[]`).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub user_id: Option<Cow<'a, str>>,
    /// `connect` or `terminate`.
    #[serde(deserialize_with = "borrowed::open_enum")]
    pub event: CallEventKind,
    /// When it happened.
    #[serde(default, deserialize_with = "unix_time")]
    pub timestamp: Option<UnixTime>,
    /// Who started the call.
    #[serde(default, deserialize_with = "borrowed::option_open_enum")]
    pub direction: Option<CallDirection>,
    /// How it ended (`terminate`).
    #[serde(default, deserialize_with = "borrowed::option_open_enum")]
    pub status: Option<CallEndStatus>,
    /// When it connected (`terminate` of a connected call).
    #[serde(default, deserialize_with = "unix_time")]
    pub start_time: Option<UnixTime>,
    /// When it ended.
    #[serde(default, deserialize_with = "unix_time")]
    pub end_time: Option<UnixTime>,
    /// How long it lasted, in seconds.
    #[serde(default, deserialize_with = "lenient::lossy::unsigned")]
    pub duration: Option<u64>,
    /// The SDP offer or answer (`connect`).
    #[serde(borrow, default)]
    pub session: Option<CallSession<'a>>,
    /// Errors.
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub errors: Vec<ApiError<'a>>,
    /// The business's own tracking data, echoed.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub biz_opaque_callback_data: Option<Cow<'a, str>>,
}

/// The media session of a `connect` event.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CallSession<'a> {
    /// `offer` (user-initiated) or `answer` (business-initiated).
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub sdp_type: Option<Cow<'a, str>>,
    /// The SDP.
    #[serde(borrow, default, deserialize_with = "lenient::text")]
    pub sdp: Option<Cow<'a, str>>,
}

/// A unix time in seconds, sent as a string (`"1764590400"`) or, in some Calling API
/// payloads, a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct UnixTime(pub OffsetDateTime);

impl<'de> Deserialize<'de> for UnixTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient::timestamp(deserializer)?.map(UnixTime).ok_or_else(|| de::Error::custom("an empty time"))
    }
}

/// An optional time in any shape ([`lenient::timestamp`]); one that cannot be read is
/// absent rather than costing its item.
fn unix_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<UnixTime>, D::Error> {
    Ok(lenient::lossy::timestamp(deserializer)?.map(UnixTime))
}

/// A flag: `true`/`false` in any shape, anything else false.
fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(lenient::lossy::boolean(deserializer)?.unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_strings_are_decoded_and_plain_ones_borrowed() {
        let raw = br#"{"from":"5511","id":"wamid.X","timestamp":"1764590400","type":"text","text":{"body":"Ol\u00e1 https:\/\/x"}}"#;
        let message: InboundMessage<'_> = serde_json::from_slice(raw).unwrap();
        assert_eq!(message.from.as_deref(), Some("5511"));
        assert_eq!(message.text.unwrap().body, "Olá https://x");
        assert!(matches!(message.id, Cow::Borrowed(_)));
        assert_eq!(message.timestamp.unwrap().0.unix_timestamp(), 1_764_590_400);
    }

    #[test]
    fn a_value_that_is_no_object_reads_as_empty() {
        for json in [r#""x""#, "[1,2]", "7", "null", "true"] {
            let value: Value<'_> = serde_json::from_str(json).unwrap();
            assert!(!value.is_object && value.messages.is_empty(), "{json}");
        }
        let value: Value<'_> = serde_json::from_str(r#"{"event":"APPROVED","messages":[]}"#).unwrap();
        assert!(value.is_object);
    }

    #[test]
    fn timestamps_as_strings_or_numbers() {
        let from_str: UnixTime = serde_json::from_str("\"1764590400\"").unwrap();
        let from_num: UnixTime = serde_json::from_str("1764590400").unwrap();
        assert_eq!(from_str, from_num);
        assert!(serde_json::from_str::<UnixTime>("\"soon\"").is_err());
        assert!(serde_json::from_str::<UnixTime>("99999999999999999").is_err());
    }

    #[test]
    fn unknown_status_values_are_kept() {
        let status: Status<'_> = serde_json::from_str(r#"{"id":"wamid.1","status":"edited"}"#).unwrap();
        assert_eq!(status.status, StatusValue::from("edited"));
    }
}
