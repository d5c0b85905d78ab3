//! Correctly signed Telnyx requests for your own tests (feature `testing`).
//!
//! Telnyx signs with its private key, which nobody else has: tests sign with a key pair
//! of their own, here callhook's published test pair ([`TEST_PRIVATE_KEY`],
//! [`TEST_PUBLIC_KEY`]), and configure the provider with its public key. Bodies are
//! compact JSON with raw UTF-8, as Telnyx sends them; every time in them comes from the
//! caller.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use callhook::providers::telnyx::{Telnyx, testing};
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let telnyx = Telnyx::builder().public_key(testing::TEST_PUBLIC_KEY.parse().unwrap()).build();
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/telnyx", Arc::new(telnyx))
//!     .event_log(Arc::new(MemoryEventLog::new()))
//!     .job_queue(Arc::new(MemoryJobQueue::new()))
//!     .build()
//!     .unwrap();
//! let now = time::OffsetDateTime::now_utc();
//! let body = testing::call_event("call.initiated", "leg-1", now);
//! let request = testing::signed(testing::TEST_PRIVATE_KEY, "/webhooks/telnyx", &body, now);
//! assert_eq!(receiver.handle(request).await.status(), 200);
//! # });
//! ```

use base64::Engine;
use bytes::Bytes;
use http::Request;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::signature;
use crate::providers::registry::path_and_query;

pub use super::registration::TEST_PUBLIC_KEY;

/// The private key (base64 of the 32-byte Ed25519 seed) of [`TEST_PUBLIC_KEY`].
/// Published: it signs tests and samples, never anything real.
pub const TEST_PRIVATE_KEY: &str = "WV1Jw8NhOeKyw6hRVDlFtzs7OBEAUqBIr5CHJeYPwSQ=";

/// The customer's number in the sample bodies.
pub const CUSTOMER_NUMBER: &str = "+5511999998888";

/// The account's number in the sample bodies.
pub const BUSINESS_NUMBER: &str = "+553322980007";

/// The 32-byte seed in `private_key`: base64 of the seed, or of a 64-byte NaCl secret
/// key (the seed, then the public key).
///
/// # Panics
///
/// When `private_key` is neither.
fn seed(private_key: &str) -> [u8; 32] {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(private_key.trim())
        .unwrap_or_else(|_| panic!("a Telnyx test private key is base64"));
    match bytes.len() {
        32 | 64 => bytes[..32].try_into().expect("32 bytes"),
        n => panic!("a Telnyx test private key is a 32-byte seed or a 64-byte secret key, not {n} bytes"),
    }
}

/// A `POST` of `body` to `url`'s path (a path or a whole URL), signed at `at` (use the
/// receiver's clock) with `private_key`: base64 of a 32-byte Ed25519 seed (such as
/// [`TEST_PRIVATE_KEY`]) or of a 64-byte NaCl secret key.
///
/// # Panics
///
/// When `private_key` is not one of those.
///
/// ```
/// use callhook::providers::telnyx::testing;
/// use time::macros::datetime;
/// let at = datetime!(2025-12-01 12:00 UTC);
/// let body = testing::call_event("call.hangup", "leg-1", at);
/// let request = testing::signed(testing::TEST_PRIVATE_KEY, "https://crm.example.com/webhooks/telnyx", &body, at);
/// assert_eq!(request.uri(), "/webhooks/telnyx");
/// assert_eq!(request.headers()["telnyx-timestamp"], "1764590400");
/// assert_eq!(request.headers()["telnyx-signature-ed25519"].len(), 88);
/// ```
pub fn signed(private_key: &str, url: &str, body: &str, at: OffsetDateTime) -> Request<Bytes> {
    let timestamp = at.unix_timestamp().to_string();
    Request::post(path_and_query(url))
        .header("content-type", "application/json")
        .header(signature::SIGNATURE_HEADER, signature::sign(&seed(private_key), &timestamp, body.as_bytes()))
        .header(signature::TIMESTAMP_HEADER, timestamp)
        .body(Bytes::from(body.to_owned()))
        .expect("a path and valid headers make a valid request")
}

/// A webhook body: `data` with `event_type`, the event id `event_id`, `occurred_at`
/// and `payload`, and `meta` of a first delivery attempt.
pub fn envelope(event_type: &str, event_id: &str, occurred_at: OffsetDateTime, payload: Value) -> String {
    json!({
        "data": {
            "record_type": "event",
            "id": event_id,
            "event_type": event_type,
            "occurred_at": telnyx_time(occurred_at),
            "payload": payload,
        },
        "meta": {"attempt": 1, "delivered_to": "https://crm.example.com/webhooks/telnyx"},
    })
    .to_string()
}

/// A webhook body for the call event `event_type` about the inbound call leg
/// `call_leg_id` that started at `started_at` (pass your clock's time). Each event
/// happens at its own offset from the start: `call.initiated` at 0 s,
/// `call.machine.detection.ended` at 3 s (a human), `call.answered` at 4 s,
/// `call.bridged` at 5 s, `call.hangup` at 47 s (`normal_clearing`, by the caller),
/// `call.recording.saved` at 48 s (recorded from 4 s to 47 s); any other type at 0 s
/// with the common fields. Its event id is derived from the type and the leg, so
/// building it twice makes a duplicate.
pub fn call_event(event_type: &str, call_leg_id: &str, started_at: OffsetDateTime) -> String {
    let (offset, payload) = call_payload(event_type, call_leg_id, started_at);
    let id = event_id(&[event_type, call_leg_id]);
    envelope(event_type, &id, started_at + Duration::seconds(offset), payload)
}

/// A `call.hangup` body for `call_leg_id` (started at `started_at`, hung up 47 s later)
/// with `hangup_cause` and the SIP code Telnyx gives with it.
pub fn call_hangup(call_leg_id: &str, hangup_cause: &str, started_at: OffsetDateTime) -> String {
    let (_, mut payload) = call_payload("call.hangup", call_leg_id, started_at);
    let (sip, source) = match hangup_cause {
        "user_busy" => ("486", "callee"),
        "call_rejected" => ("603", "callee"),
        "timeout" | "no_answer" => ("480", "callee"),
        "not_found" => ("404", "unknown"),
        "originator_cancel" => ("487", "caller"),
        _ => ("unspecified", "caller"),
    };
    payload["hangup_cause"] = json!(hangup_cause);
    payload["sip_hangup_cause"] = json!(sip);
    payload["hangup_source"] = json!(source);
    let id = event_id(&["call.hangup", call_leg_id, hangup_cause]);
    envelope("call.hangup", &id, started_at + Duration::seconds(47), payload)
}

fn call_payload(event_type: &str, leg: &str, started_at: OffsetDateTime) -> (i64, Value) {
    let mut payload = json!({
        "call_control_id": format!("v3:{}", &event_id(&["control", leg])[..24]),
        "connection_id": "2419845711245213693",
        "call_leg_id": leg,
        "call_session_id": event_id(&["session", leg]),
        "client_state": null,
        "from": CUSTOMER_NUMBER,
        "to": BUSINESS_NUMBER,
        "start_time": telnyx_time(started_at),
    });
    let offset = match event_type {
        "call.initiated" => {
            payload["direction"] = json!("incoming");
            payload["state"] = json!("parked");
            payload["caller_id_name"] = json!("Ana Souza");
            payload["shaken_stir_attestation"] = json!("A");
            payload["shaken_stir_validated"] = json!(true);
            0
        }
        "call.machine.detection.ended" => {
            payload["result"] = json!("human");
            3
        }
        "call.answered" => {
            payload["state"] = json!("answered");
            4
        }
        "call.bridged" => 5,
        "call.hangup" => {
            payload["state"] = json!("hangup");
            payload["hangup_cause"] = json!("normal_clearing");
            payload["hangup_source"] = json!("caller");
            payload["sip_hangup_cause"] = json!("unspecified");
            payload["call_quality_stats"] = json!({
                "inbound": {"jitter_max_variance": "2.74", "jitter_packet_count": "0", "mos": "4.50", "packet_count": "2150", "skip_packet_count": "9"},
                "outbound": {"packet_count": "2149", "skip_packet_count": "0"},
            });
            47
        }
        "call.recording.saved" => {
            let object = payload.as_object_mut().expect("an object");
            object.remove("call_control_id");
            object.remove("from");
            object.remove("to");
            object.remove("start_time");
            let date = started_at.to_offset(UtcOffset::UTC).date();
            let url = |format: &str| {
                format!(
                    "https://s3.amazonaws.com/telephony-recorder-prod/0f3a1c2e-5b7d-4e9f-8a6b-1c2d3e4f5a6b/{date}/{leg}-{}.{format}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=0f1e2d3c",
                    started_at.unix_timestamp()
                )
            };
            payload["recording_id"] = json!(event_id(&["recording", leg]));
            payload["channels"] = json!("single");
            payload["format"] = json!("mp3");
            payload["recording_started_at"] = json!(telnyx_time(started_at + Duration::seconds(4)));
            payload["recording_ended_at"] = json!(telnyx_time(started_at + Duration::seconds(47)));
            payload["recording_urls"] = json!({"mp3": url("mp3"), "wav": url("wav")});
            payload["public_recording_urls"] = json!({});
            48
        }
        _ => 0,
    };
    (offset, payload)
}

/// A webhook body for the message event `event_type` at `at` (pass your clock's time)
/// about the message `message_id`, whose (first) recipient's status is `status`.
/// `message.received` is a text from the customer to the account's number; any other
/// type is a text the account sent the customer, with `sent_at` and, for final
/// statuses, `completed_at` at `at`, and an error when `status` is a failure.
///
/// ```
/// use callhook::providers::telnyx::testing;
/// let body = testing::message_event("message.finalized", "msg-1", "delivery_failed", time::OffsetDateTime::now_utc());
/// let json: serde_json::Value = serde_json::from_str(&body).unwrap();
/// assert_eq!(json["data"]["payload"]["to"][0]["status"], "delivery_failed");
/// assert_eq!(json["data"]["payload"]["errors"][0]["code"], "40008");
/// ```
pub fn message_event(event_type: &str, message_id: &str, status: &str, at: OffsetDateTime) -> String {
    let id = event_id(&[event_type, message_id, status]);
    let payload = if event_type == "message.received" {
        json!({
            "record_type": "message",
            "id": message_id,
            "direction": "inbound",
            "type": "SMS",
            "messaging_profile_id": "4001932a-b8c3-4a0e-9b2d-5c6d7e8f9a0b",
            "from": {"phone_number": CUSTOMER_NUMBER, "carrier": "Operadora Móvel", "line_type": "Wireless"},
            "to": [{"phone_number": BUSINESS_NUMBER, "status": status, "carrier": "Telnyx", "line_type": "Wireless"}],
            "cc": [],
            "text": "Olá, quero um orçamento",
            "media": [],
            "encoding": "UCS-2",
            "parts": 1,
            "received_at": telnyx_time(at),
            "sent_at": null,
            "completed_at": null,
            "valid_until": null,
            "errors": [],
        })
    } else {
        let failed = matches!(status, "sending_failed" | "delivery_failed" | "delivery_unconfirmed" | "expired");
        let final_status = failed || matches!(status, "delivered" | "read");
        let errors = if failed {
            json!([{"code": "40008", "title": "Undeliverable", "detail": "The message could not be delivered to the destination."}])
        } else {
            json!([])
        };
        json!({
            "record_type": "message",
            "id": message_id,
            "direction": "outbound",
            "type": "SMS",
            "messaging_profile_id": "4001932a-b8c3-4a0e-9b2d-5c6d7e8f9a0b",
            "from": {"phone_number": BUSINESS_NUMBER, "carrier": "Telnyx", "line_type": "Wireless"},
            "to": [{"phone_number": CUSTOMER_NUMBER, "status": status, "carrier": "Operadora Móvel", "line_type": "Wireless"}],
            "cc": [],
            "text": "Seu orçamento está pronto.",
            "media": [],
            "encoding": "UCS-2",
            "parts": 1,
            "cost": {"amount": "0.0040", "currency": "USD"},
            "received_at": telnyx_time(at - Duration::seconds(2)),
            "sent_at": telnyx_time(at - Duration::seconds(1)),
            "completed_at": if final_status { json!(telnyx_time(at)) } else { Value::Null },
            "valid_until": null,
            "webhook_url": "https://crm.example.com/webhooks/telnyx",
            "errors": errors,
        })
    };
    envelope(event_type, &id, at, payload)
}

/// A UUID-shaped id derived from `parts`.
fn event_id(parts: &[&str]) -> String {
    let digest = hex::encode(Sha256::digest(parts.join("\u{0}").as_bytes()));
    format!("{}-{}-{}-{}-{}", &digest[..8], &digest[8..12], &digest[12..16], &digest[16..20], &digest[20..32])
}

/// A time as Telnyx writes it: UTC, microseconds, `Z`.
fn telnyx_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    at.to_offset(UtcOffset::UTC).format(&format).expect("a UTC time formats")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_written_as_telnyx_writes_them() {
        assert_eq!(telnyx_time(datetime!(2025-12-01 09:00:00.5 -3)), "2025-12-01T12:00:00.500000Z");
    }

    #[test]
    fn a_nacl_secret_key_signs_like_its_seed() {
        let seed_bytes = seed(TEST_PRIVATE_KEY);
        let public = signature::PublicKey::from_private_key(&seed_bytes);
        assert_eq!(public.to_base64(), TEST_PUBLIC_KEY);
        let nacl = base64::engine::general_purpose::STANDARD.encode([&seed_bytes[..], public.as_bytes()].concat());
        assert_eq!(seed(&nacl), seed_bytes);
    }
}
