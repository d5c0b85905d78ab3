//! Correctly signed Vonage requests for your own tests (feature `testing`).
//!
//! ```
//! use callhook::providers::vonage::testing;
//! use time::macros::datetime;
//! let at = datetime!(2025-12-01 12:00 UTC);
//! let body = testing::call_event("answered", "CON-1", "leg-1", at);
//! let request = testing::signed("secret", "/webhooks/vonage/events", &body, at);
//! assert!(request.headers()["authorization"].to_str().unwrap().starts_with("Bearer eyJ"));
//! ```

use bytes::Bytes;
use http::Request;
use serde_json::json;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::signature;
use crate::providers::registry::path_and_query;

/// A `POST` of `body` to `url`'s path (a path or a whole URL), with the JWT Vonage
/// would send, signed with `secret` at `at` (use the receiver's clock).
pub fn signed(secret: &str, url: &str, body: &str, at: OffsetDateTime) -> Request<Bytes> {
    let token = signature::sign(secret, body.as_bytes(), at);
    Request::post(path_and_query(url))
        .header("content-type", "application/json")
        .header(signature::AUTHORIZATION_HEADER, format!("Bearer {token}"))
        .body(Bytes::from(body.to_owned()))
        .expect("a path and two valid headers make a valid request")
}

/// `at` as Vonage writes times: `2025-12-01T12:00:42.000Z`.
pub fn timestamp(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(UtcOffset::UTC).format(&format).expect("a time in years 0 to 9999")
}

/// The body of the `status` event of leg `uuid` in conversation `conversation_uuid`, an
/// inbound call from `447700900000` to `447700900001`, sent at `at` (pass your clock's
/// time). `completed` adds its summary (42 s ending at `at`, rate, price, network);
/// `failed`, `rejected` and `unanswered` add a `detail`.
///
/// ```
/// use callhook::providers::vonage::testing;
/// use time::macros::datetime;
/// let body = testing::call_event("completed", "CON-1", "leg-1", datetime!(2025-12-01 12:00:42 UTC));
/// assert!(body.contains(r#""start_time":"2025-12-01T12:00:00.000Z""#));
/// assert!(body.contains(r#""duration":"42""#));
/// ```
pub fn call_event(status: &str, conversation_uuid: &str, uuid: &str, at: OffsetDateTime) -> String {
    let mut event = json!({
        "from": "447700900000", "to": "447700900001", "uuid": uuid, "conversation_uuid": conversation_uuid,
        "status": status, "direction": "inbound", "timestamp": timestamp(at),
    });
    match status {
        "answered" => {
            event["start_time"] = json!(null);
            event["rate"] = json!(null);
            event["network"] = json!(null);
        }
        "completed" => {
            event["start_time"] = json!(timestamp(at - Duration::seconds(42)));
            event["end_time"] = json!(timestamp(at));
            event["duration"] = json!("42");
            event["rate"] = json!("0.00450000");
            event["price"] = json!("0.00315000");
            event["network"] = json!("GB-FIXED");
            event["disconnected_by"] = json!("user");
        }
        "failed" => event["detail"] = json!("cannot_route"),
        "rejected" => event["detail"] = json!("restricted"),
        "unanswered" => event["detail"] = json!("unavailable"),
        _ => {}
    }
    event.to_string()
}

/// The body of the recording event of a `record` action in conversation
/// `conversation_uuid`: recording `recording_uuid` at `recording_url`, 42 s ending at
/// `ended_at` (pass your clock's time).
///
/// ```
/// use callhook::providers::vonage::testing;
/// use time::macros::datetime;
/// let url = "https://api.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab";
/// let body = testing::recording_event("CON-1", "rec-1", url, datetime!(2025-12-01 12:00:42 UTC));
/// assert!(body.contains(r#""recording_uuid":"rec-1""#));
/// ```
pub fn recording_event(conversation_uuid: &str, recording_uuid: &str, recording_url: &str, ended_at: OffsetDateTime) -> String {
    json!({
        "start_time": timestamp(ended_at - Duration::seconds(42)), "recording_url": recording_url,
        "size": 336_044, "recording_uuid": recording_uuid, "end_time": timestamp(ended_at),
        "conversation_uuid": conversation_uuid, "timestamp": timestamp(ended_at),
    })
    .to_string()
}
