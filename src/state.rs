//! Pure reducers that fold normalized events into the current state of a call or a
//! message.
//!
//! Providers deliver at least once and in any order, so every merge here is
//! commutative, associative and idempotent: folding the same set of events in any
//! order gives the same state (property-tested below). The rules:
//!
//! | field | merge |
//! |---|---|
//! | status | the highest [`CallStatus::precedence`] / [`MessageStatus::precedence`] wins; a late `ringing` never overwrites `completed`, `delivered` never overwrites `read`; terminal states are sticky |
//! | provider status, error | travel with the winning status; on a tie the greater value |
//! | `started_at`, `answered_at`, first seen | the earliest |
//! | `ended_at`, `duration_ms`, last seen | the latest, the longest |
//! | recording | the highest [`RecordingStatus`](crate::event::RecordingStatus) wins; equal statuses merge field by field |
//! | summary, transcript | the longer text (a full transcript beats a partial one) |
//! | other fields | a value beats none; two different values resolve to the greater one |
//!
//! ```
//! use callhook::event::{CallEvent, CallStatus, ProviderId};
//! use callhook::state::CallState;
//!
//! let provider = ProviderId::from_static("twilio");
//! let mut completed = CallEvent::new(provider.clone(), "CA1");
//! completed.status = Some(CallStatus::Completed);
//! let mut ringing = CallEvent::new(provider, "CA1");
//! ringing.status = Some(CallStatus::Ringing);
//!
//! let mut state = CallState::from_event(&completed);
//! state.apply(&ringing); // arrives late
//! assert_eq!(state.status, Some(CallStatus::Completed));
//! ```

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::event::{
    CallAnalysis, CallEvent, CallLink, CallStatus, ContactId, Conversation, Direction, MessageContent, MessageEvent,
    MessageKind, MessageStatus, Pricing, ProviderError, ProviderId, Recording,
};

/// The folded state of one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallState {
    /// The provider of the call.
    pub provider: ProviderId,
    /// The provider's call id.
    pub call_id: String,
    /// The highest-ranked status seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CallStatus>,
    /// The provider's own status string that came with `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_status: Option<String>,
    /// Inbound or outbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The callee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The contact's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// The customer: a phone number in E.164, or a WhatsApp business-scoped user id. Of
    /// several (a call's legs), one named by an inbound event wins, then a phone number
    /// over an id, then the greater, so the fold does not depend on the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<ContactId>,
    /// Whether [`customer`](Self::customer) came from an inbound event (the caller of an
    /// inbound call is the customer; an outbound leg to an agent names the agent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_from_inbound: bool,
    /// The business's own number, in E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_number: Option<String>,
    /// Every other call any event named as part of this conversation (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<CallLink>,
    /// When the call started (earliest report).
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<OffsetDateTime>,
    /// When it was answered (earliest report).
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<OffsetDateTime>,
    /// When it ended (latest report).
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<OffsetDateTime>,
    /// Its duration in milliseconds (longest report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The recording's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    /// Post-call analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<CallAnalysis>,
    /// The provider's error, for failed calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProviderError>,
    /// The earliest event time seen.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub first_event_at: Option<OffsetDateTime>,
    /// The latest event time seen.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub last_event_at: Option<OffsetDateTime>,
}

impl CallState {
    /// An empty state for a call.
    pub fn new(provider: ProviderId, call_id: impl Into<String>) -> Self {
        Self {
            provider,
            call_id: call_id.into(),
            status: None,
            provider_status: None,
            direction: None,
            from: None,
            to: None,
            contact_name: None,
            customer: None,
            customer_from_inbound: false,
            business_number: None,
            links: Vec::new(),
            started_at: None,
            answered_at: None,
            ended_at: None,
            duration_ms: None,
            recording: None,
            analysis: None,
            error: None,
            first_event_at: None,
            last_event_at: None,
        }
    }

    /// The state after a single event.
    pub fn from_event(event: &CallEvent) -> Self {
        let mut state = Self::new(event.provider.clone(), event.call_id.clone());
        state.apply(event);
        state
    }

    /// Folds one more event in. Events of another call are ignored.
    pub fn apply(&mut self, event: &CallEvent) {
        if event.provider != self.provider || event.call_id != self.call_id {
            return;
        }
        if let Some(status) = event.status {
            let rank = |s: Option<CallStatus>| s.map(CallStatus::precedence);
            match rank(Some(status)).cmp(&rank(self.status)) {
                Ordering::Greater => {
                    self.status = Some(status);
                    self.provider_status = event.provider_status.clone();
                }
                Ordering::Equal => merge_max(&mut self.provider_status, &event.provider_status),
                Ordering::Less => {}
            }
        }
        merge_max(&mut self.error, &event.error);
        merge_max(&mut self.direction, &event.direction);
        merge_max(&mut self.from, &event.from);
        merge_max(&mut self.to, &event.to);
        merge_max(&mut self.contact_name, &event.contact_name);
        let inbound = event.direction == Some(Direction::Inbound);
        merge_contact((&mut self.customer, &mut self.customer_from_inbound), (&event.customer, inbound));
        merge_max(&mut self.business_number, &event.business_number);
        for link in &event.links {
            if let Err(at) = self.links.binary_search(link) {
                self.links.insert(at, link.clone());
            }
        }
        merge_min(&mut self.started_at, &event.started_at);
        merge_min(&mut self.answered_at, &event.answered_at);
        merge_max(&mut self.ended_at, &event.ended_at);
        merge_max(&mut self.duration_ms, &event.duration_ms);
        merge_min(&mut self.first_event_at, &event.occurred_at);
        merge_max(&mut self.last_event_at, &event.occurred_at);
        if let Some(recording) = &event.recording {
            merge_recording(&mut self.recording, recording);
        }
        if let Some(analysis) = &event.analysis {
            merge_analysis(self.analysis.get_or_insert_with(CallAnalysis::default), analysis);
        }
    }
}

/// The folded state of one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageState {
    /// The provider of the message.
    pub provider: ProviderId,
    /// The provider's message id.
    pub message_id: String,
    /// Inbound when the message itself arrived, outbound when only statuses did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The highest-ranked status seen (outbound messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MessageStatus>,
    /// When each status was reported (earliest report of each), by status name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub status_times: std::collections::BTreeMap<String, TimeOrUnknown>,
    /// The sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The sender's profile name (inbound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// The customer: a phone number in E.164, or a WhatsApp business-scoped user id. Of
    /// several (a call's legs), one named by an inbound event wins, then a phone number
    /// over an id, then the greater, so the fold does not depend on the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<ContactId>,
    /// Whether [`customer`](Self::customer) came from an inbound event (the caller of an
    /// inbound call is the customer; an outbound leg to an agent names the agent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub customer_from_inbound: bool,
    /// The business's own number, in E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_number: Option<String>,
    /// What the message carries (inbound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// Errors the provider reported, without repeats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProviderError>,
    /// The conversation window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    /// Pricing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// The latest event time seen.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub last_event_at: Option<OffsetDateTime>,
}

/// A status time, or `unknown` when the provider gave none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeOrUnknown {
    /// The provider gave no time.
    Unknown(()),
    /// The time the provider gave.
    #[serde(with = "time::serde::rfc3339")]
    At(OffsetDateTime),
}

impl MessageState {
    /// An empty state for a message.
    pub fn new(provider: ProviderId, message_id: impl Into<String>) -> Self {
        Self {
            provider,
            message_id: message_id.into(),
            direction: None,
            status: None,
            status_times: Default::default(),
            from: None,
            to: None,
            contact_name: None,
            customer: None,
            customer_from_inbound: false,
            business_number: None,
            content: None,
            errors: Vec::new(),
            conversation: None,
            pricing: None,
            last_event_at: None,
        }
    }

    /// The state after a single event.
    pub fn from_event(event: &MessageEvent) -> Self {
        let mut state = Self::new(event.provider.clone(), event.message_id.clone());
        state.apply(event);
        state
    }

    /// Folds one more event in. Events of another message are ignored.
    ///
    /// ```
    /// use callhook::event::*;
    /// use callhook::state::MessageState;
    ///
    /// let wa = ProviderId::from_static("whatsapp");
    /// let status = |s| MessageEvent::new(wa.clone(), "wamid.A1",
    ///     MessageKind::Status(StatusUpdate::new(s)));
    /// let mut state = MessageState::from_event(&status(MessageStatus::Read));
    /// state.apply(&status(MessageStatus::Delivered));
    /// assert_eq!(state.status, Some(MessageStatus::Read));
    /// ```
    pub fn apply(&mut self, event: &MessageEvent) {
        if event.provider != self.provider || event.message_id != self.message_id {
            return;
        }
        merge_max(&mut self.last_event_at, &event.occurred_at);
        merge_max(&mut self.conversation, &event.conversation);
        merge_max(&mut self.pricing, &event.pricing);
        let inbound = matches!(event.kind, MessageKind::Inbound(_));
        merge_contact((&mut self.customer, &mut self.customer_from_inbound), (&event.customer, inbound));
        merge_max(&mut self.business_number, &event.business_number);
        match &event.kind {
            MessageKind::Inbound(inbound) => {
                // An inbound message outranks "outbound" inferred from statuses alone.
                self.direction = Some(Direction::Inbound);
                merge_max(&mut self.from, &Some(inbound.from.clone()));
                merge_max(&mut self.to, &inbound.to);
                merge_max(&mut self.contact_name, &inbound.contact_name);
                merge_content(&mut self.content, &inbound.content);
            }
            MessageKind::Status(update) => {
                if self.direction.is_none() {
                    self.direction = Some(Direction::Outbound);
                }
                let replace = match &self.status {
                    None => true,
                    Some(current) => (update.status.precedence(), update.status.as_str())
                        .gt(&(current.precedence(), current.as_str())),
                };
                if replace {
                    self.status = Some(update.status.clone());
                }
                merge_max(&mut self.to, &update.recipient);
                let at = event.occurred_at.map_or(TimeOrUnknown::Unknown(()), TimeOrUnknown::At);
                let entry = self.status_times.entry(update.status.as_str().to_owned());
                entry
                    .and_modify(|known| {
                        // A real time beats "unknown"; of two times, the earliest.
                        *known = match (*known, at) {
                            (TimeOrUnknown::Unknown(()), other) | (other, TimeOrUnknown::Unknown(())) => other,
                            (a, b) => a.min(b),
                        }
                    })
                    .or_insert(at);
                for error in &update.errors {
                    if let Err(index) = self.errors.binary_search(error) {
                        self.errors.insert(index, error.clone());
                    }
                }
            }
        }
    }
}

/// Keeps the customer named by an inbound event over one named by an outbound event,
/// then a phone number over a business-scoped id, then the greater: order-independent.
fn merge_contact(current: (&mut Option<ContactId>, &mut bool), new: (&Option<ContactId>, bool)) {
    let (Some(new), new_inbound) = new else { return };
    let (customer, from_inbound) = current;
    let rank = |contact: &ContactId, inbound: bool| (inbound, contact.phone_number().is_some());
    let replace = match customer.as_ref() {
        None => true,
        Some(existing) => (rank(new, new_inbound), new) > (rank(existing, *from_inbound), existing),
    };
    if replace {
        *customer = Some(new.clone());
        *from_inbound = new_inbound;
    }
}

/// Keeps the greater of two optional values; any value beats none.
fn merge_max<T: Ord + Clone>(current: &mut Option<T>, new: &Option<T>) {
    if let Some(new) = new {
        match current {
            Some(existing) if *existing >= *new => {}
            _ => *current = Some(new.clone()),
        }
    }
}

/// Keeps the smaller of two optional values; any value beats none.
fn merge_min<T: Ord + Clone>(current: &mut Option<T>, new: &Option<T>) {
    if let Some(new) = new {
        match current {
            Some(existing) if *existing <= *new => {}
            _ => *current = Some(new.clone()),
        }
    }
}

/// Keeps the longer text; equal lengths resolve to the greater string.
fn merge_longer(current: &mut Option<String>, new: &Option<String>) {
    if let Some(new) = new {
        match current {
            Some(existing) if (existing.len(), &*existing) >= (new.len(), new) => {}
            _ => *current = Some(new.clone()),
        }
    }
}

fn merge_recording(current: &mut Option<Recording>, new: &Recording) {
    match current {
        None => *current = Some(new.clone()),
        Some(existing) => match new.status.cmp(&existing.status) {
            Ordering::Greater => *existing = new.clone(),
            Ordering::Equal => {
                merge_max(&mut existing.url, &new.url);
                merge_max(&mut existing.recording_id, &new.recording_id);
                merge_max(&mut existing.duration_secs, &new.duration_secs);
                merge_max(&mut existing.error, &new.error);
                merge_max(&mut existing.stored, &new.stored);
            }
            Ordering::Less => {}
        },
    }
}

fn merge_analysis(current: &mut CallAnalysis, new: &CallAnalysis) {
    merge_longer(&mut current.summary, &new.summary);
    merge_longer(&mut current.transcript, &new.transcript);
    merge_max(&mut current.sentiment, &new.sentiment);
    merge_max(&mut current.successful, &new.successful);
    merge_max(&mut current.in_voicemail, &new.in_voicemail);
    merge_by_json(&mut current.custom, &new.custom);
}

/// For values without a natural order: the greater serialized JSON wins.
fn merge_by_json<T: Serialize + Clone>(current: &mut Option<T>, new: &Option<T>) {
    let Some(new) = new else { return };
    let key = |value: &T| serde_json::to_string(value).unwrap_or_default();
    match current {
        Some(existing) if key(existing) >= key(new) => {}
        _ => *current = Some(new.clone()),
    }
}

fn merge_content(current: &mut Option<MessageContent>, new: &MessageContent) {
    merge_by_json(current, &Some(new.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{MediaKind, MediaRef, RecordingStatus, Sentiment, StatusUpdate};
    use proptest::prelude::*;
    use time::macros::datetime;

    const P: ProviderId = ProviderId::from_static("test");

    #[test]
    fn the_customer_of_an_inbound_leg_wins_over_an_agent_leg_in_any_order() {
        let leg = |direction, customer: &str| {
            let mut event = CallEvent::new(P, "conversation");
            event.direction = Some(direction);
            event.customer = Some(ContactId::phone(customer));
            event.business_number = Some("+447700900100".into());
            event
        };
        // The caller's inbound leg, and the outbound leg to the agent it was connected to
        // (whose number is the greater).
        let (caller, agent) = (leg(Direction::Inbound, "+447700900000"), leg(Direction::Outbound, "+447700900002"));
        for order in [[&caller, &agent], [&agent, &caller]] {
            let mut state = CallState::new(P, "conversation");
            for event in order {
                state.apply(event);
            }
            assert_eq!(state.customer, Some(ContactId::phone("+447700900000")));
            assert_eq!(state.business_number.as_deref(), Some("+447700900100"));
        }
        // A number beats a business-scoped id, whatever came first.
        let mut state = CallState::new(P, "conversation");
        let mut hidden = leg(Direction::Inbound, "x");
        hidden.customer = Some(ContactId::BusinessScoped { user_id: "US.1".into(), parent_user_id: None });
        state.apply(&leg(Direction::Inbound, "+5511987654321"));
        state.apply(&hidden);
        assert_eq!(state.customer, Some(ContactId::phone("+5511987654321")));
    }

    fn call(status: CallStatus) -> CallEvent {
        let mut event = CallEvent::new(P, "c1");
        event.status = Some(status);
        event
    }

    fn message_status(status: MessageStatus) -> MessageEvent {
        MessageEvent::new(P, "m1", MessageKind::Status(StatusUpdate::new(status)))
    }

    #[test]
    fn late_ringing_after_completed_keeps_completed() {
        let mut state = CallState::from_event(&call(CallStatus::Completed));
        state.apply(&call(CallStatus::Ringing));
        assert_eq!(state.status, Some(CallStatus::Completed));
    }

    #[test]
    fn failed_is_sticky_and_keeps_its_error() {
        let mut failed = call(CallStatus::Failed);
        failed.error = Some(ProviderError::with_code("31005"));
        let mut state = CallState::from_event(&failed);
        state.apply(&call(CallStatus::InProgress));
        state.apply(&call(CallStatus::Completed));
        assert_eq!(state.status, Some(CallStatus::Failed));
        assert_eq!(state.error.unwrap().code.as_deref(), Some("31005"));
    }

    #[test]
    fn delivered_after_read_keeps_read_and_records_both_times() {
        let mut read = message_status(MessageStatus::Read);
        read.occurred_at = Some(datetime!(2026-12-01 10:00:10 UTC));
        let mut delivered = message_status(MessageStatus::Delivered);
        delivered.occurred_at = Some(datetime!(2026-12-01 10:00:05 UTC));
        let mut state = MessageState::from_event(&read);
        state.apply(&delivered);
        assert_eq!(state.status, Some(MessageStatus::Read));
        assert_eq!(state.direction, Some(Direction::Outbound));
        assert_eq!(state.status_times.get("delivered"), Some(&TimeOrUnknown::At(datetime!(2026-12-01 10:00:05 UTC))));
    }

    #[test]
    fn unknown_message_status_never_hides_a_known_one() {
        let mut state = MessageState::from_event(&message_status(MessageStatus::Sent));
        state.apply(&message_status(MessageStatus::from("warning")));
        assert_eq!(state.status, Some(MessageStatus::Sent));
    }

    #[test]
    fn ready_recording_beats_a_late_processing_report() {
        let mut ready = CallEvent::new(P, "c1");
        let mut recording = Recording::new(RecordingStatus::Ready);
        recording.url = Some("https://r/1".into());
        ready.recording = Some(recording);
        let mut mixing = CallEvent::new(P, "c1");
        mixing.recording = Some(Recording::new(RecordingStatus::Processing));
        let mut state = CallState::from_event(&ready);
        state.apply(&mixing);
        let recording = state.recording.unwrap();
        assert_eq!(recording.status, RecordingStatus::Ready);
        assert_eq!(recording.url.as_deref(), Some("https://r/1"));
    }

    #[test]
    fn events_of_another_call_are_ignored() {
        let mut state = CallState::from_event(&call(CallStatus::Ringing));
        let mut other = call(CallStatus::Completed);
        other.call_id = "c2".into();
        state.apply(&other);
        assert_eq!(state.status, Some(CallStatus::Ringing));
    }

    fn opt<T: std::fmt::Debug + Clone + 'static>(
        values: impl Strategy<Value = T> + 'static,
    ) -> impl Strategy<Value = Option<T>> {
        prop_oneof![Just(None), values.prop_map(Some)]
    }

    fn small_time() -> impl Strategy<Value = OffsetDateTime> {
        (0i64..50).prop_map(|s| datetime!(2026-12-01 10:00 UTC) + time::Duration::seconds(s))
    }

    prop_compose! {
        fn call_event()(
            status in opt(prop::sample::select(CallStatus::ALL.to_vec())),
            provider_status in opt(prop::sample::select(vec!["a", "b", "c"])),
            direction in opt(prop::sample::select(vec![Direction::Inbound, Direction::Outbound])),
            from in opt(prop::sample::select(vec!["+1", "+2"])),
            started_at in opt(small_time()),
            answered_at in opt(small_time()),
            ended_at in opt(small_time()),
            occurred_at in opt(small_time()),
            duration_ms in opt(0u64..5),
            recording in opt((
                prop::sample::select(vec![
                    RecordingStatus::Recording, RecordingStatus::Processing,
                    RecordingStatus::Ready, RecordingStatus::Empty, RecordingStatus::Failed,
                ]),
                opt(prop::sample::select(vec!["https://r/1", "https://r/2"])),
                opt(0u64..3),
            )),
            analysis in opt((
                opt(prop::sample::select(vec!["short", "a longer summary", "zz"])),
                opt(prop::sample::select(vec![Sentiment::Positive, Sentiment::Negative])),
                opt(any::<bool>()),
                opt(prop::sample::select(vec![0, 1])),
            )),
            error in opt(prop::sample::select(vec!["1", "2"])),
        ) -> CallEvent {
            let mut event = CallEvent::new(P, "c1");
            event.status = status;
            event.provider_status = provider_status.map(String::from);
            event.direction = direction;
            event.from = from.map(String::from);
            event.started_at = started_at;
            event.answered_at = answered_at;
            event.ended_at = ended_at;
            event.occurred_at = occurred_at;
            event.duration_ms = duration_ms;
            event.recording = recording.map(|(status, url, duration)| {
                let mut recording = Recording::new(status);
                recording.url = url.map(String::from);
                recording.duration_secs = duration;
                recording
            });
            event.analysis = analysis.map(|(summary, sentiment, successful, custom)| {
                CallAnalysis {
                    summary: summary.map(String::from),
                    transcript: summary.map(|s| s.repeat(2)),
                    sentiment,
                    successful,
                    custom: custom.map(|n| serde_json::json!({ "n": n })),
                    ..CallAnalysis::default()
                }
            });
            event.error = error.map(ProviderError::with_code);
            event
        }
    }

    prop_compose! {
        fn message_event()(
            inbound in any::<bool>(),
            status in prop::sample::select(vec![
                MessageStatus::Queued, MessageStatus::Sent, MessageStatus::Delivered,
                MessageStatus::Read, MessageStatus::Failed,
                MessageStatus::from("played"), MessageStatus::from("deleted"),
            ]),
            error in opt(prop::sample::select(vec!["131026", "131047"])),
            text in prop::sample::select(vec!["hi", "olá"]),
            media in any::<bool>(),
            occurred_at in opt(small_time()),
            conversation in opt(prop::sample::select(vec!["c1", "c2"])),
            category in opt(prop::sample::select(vec!["service", "marketing"])),
        ) -> MessageEvent {
            let kind = if inbound {
                let content = if media {
                    MessageContent::Media { media: vec![MediaRef::new(MediaKind::Image)], caption: Some(text.into()) }
                } else {
                    MessageContent::text(text)
                };
                MessageKind::Inbound(InboundMessage::new("+1", content))
            } else {
                let mut update = StatusUpdate::new(status);
                update.errors.extend(error.map(ProviderError::with_code));
                MessageKind::Status(update)
            };
            let mut event = MessageEvent::new(P, "m1", kind);
            event.occurred_at = occurred_at;
            event.conversation = conversation.map(Conversation::new);
            event.pricing = category.map(|c| Pricing { category: Some(c.into()), ..Pricing::default() });
            event
        }
    }

    use crate::event::InboundMessage;

    fn fold_calls(events: &[CallEvent]) -> CallState {
        let mut state = CallState::new(P, "c1");
        events.iter().for_each(|event| state.apply(event));
        state
    }

    fn fold_messages(events: &[MessageEvent]) -> MessageState {
        let mut state = MessageState::new(P, "m1");
        events.iter().for_each(|event| state.apply(event));
        state
    }

    proptest! {
        #[test]
        fn call_state_is_independent_of_arrival_order(
            (events, shuffled) in prop::collection::vec(call_event(), 0..12)
                .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
        ) {
            prop_assert_eq!(fold_calls(&events), fold_calls(&shuffled));
        }

        #[test]
        fn call_state_ignores_redelivered_events(events in prop::collection::vec(call_event(), 0..8)) {
            let mut twice = events.clone();
            twice.extend(events.iter().cloned());
            prop_assert_eq!(fold_calls(&events), fold_calls(&twice));
        }

        #[test]
        fn terminal_call_status_is_never_replaced_by_a_live_one(events in prop::collection::vec(call_event(), 1..12)) {
            let state = fold_calls(&events);
            let any_terminal = events.iter().filter_map(|e| e.status).any(CallStatus::is_terminal);
            prop_assert_eq!(state.status.is_some_and(CallStatus::is_terminal), any_terminal);
        }

        #[test]
        fn message_state_is_independent_of_arrival_order(
            (events, shuffled) in prop::collection::vec(message_event(), 0..12)
                .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
        ) {
            prop_assert_eq!(fold_messages(&events), fold_messages(&shuffled));
        }
    }
}
