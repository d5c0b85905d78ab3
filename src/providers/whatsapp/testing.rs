//! Correctly signed WhatsApp requests for your own tests (feature `testing`).
//!
//! Bodies are written the way Meta writes them: compact JSON with every non-ASCII
//! character escaped as `\uXXXX` and `/` as `\/`, so a handler that re-serializes
//! before verifying fails here as it would in production.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use callhook::providers::whatsapp::{WhatsApp, testing};
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let receiver = Receiver::builder()
//!     .mount("/webhooks/whatsapp", Arc::new(WhatsApp::builder().app_secret("s").build()))
//!     .event_log(Arc::new(MemoryEventLog::new()))
//!     .job_queue(Arc::new(MemoryJobQueue::new()))
//!     .build()
//!     .unwrap();
//! let body = testing::notification("messages", testing::text_message("wamid.1", "5511999998888", "Olá", 1764590400));
//! let request = testing::signed("s", "/webhooks/whatsapp", &body, time::OffsetDateTime::now_utc());
//! assert_eq!(receiver.handle(request).await.status(), 200);
//! # });
//! ```

use bytes::Bytes;
use http::Request;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::signature;
use crate::providers::registry::path_and_query;

/// The business phone number used in samples.
pub const BUSINESS_NUMBER: &str = "15550783881";

/// Serializes `value` as Meta does: compact, non-ASCII as lowercase `\uXXXX` (UTF-16
/// surrogate pairs beyond the BMP), `/` as `\/`.
pub fn meta_json(value: &Value) -> String {
    let compact = serde_json::to_string(value).expect("a JSON value always serializes");
    let mut out = String::with_capacity(compact.len() + compact.len() / 8);
    for c in compact.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// A notification with one change of `field` whose value is `value` (see the sample
/// builders below for `messages` and `calls` values).
pub fn notification(field: &str, value: Value) -> String {
    meta_json(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}],
    }))
}

/// A `POST` of `body` to `url`'s path (a path or a whole URL), signed with `app_secret`
/// (`at` is not signed: Meta's signature has no time).
pub fn signed(app_secret: &str, url: &str, body: &str, at: OffsetDateTime) -> Request<Bytes> {
    let _ = at;
    Request::post(path_and_query(url))
        .header("content-type", "application/json")
        .header(signature::SIGNATURE_HEADER, signature::sign(app_secret, body.as_bytes()))
        .body(Bytes::from(body.to_owned()))
        .expect("a path and two valid headers make a valid request")
}

/// The verification handshake `GET` Meta sends when the callback URL is saved.
pub fn handshake(path: &str, verify_token: &str, challenge: &str) -> Request<Bytes> {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.verify_token", verify_token)
        .append_pair("hub.challenge", challenge)
        .finish();
    Request::get(format!("{path}?{query}")).body(Bytes::new()).expect("a valid path and query")
}

fn metadata() -> Value {
    json!({"display_phone_number": BUSINESS_NUMBER, "phone_number_id": "106540352242922"})
}

/// A `messages` value with one inbound text from `from`.
pub fn text_message(wamid: &str, from: &str, body: &str, timestamp: i64) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": timestamp.to_string(), "type": "text", "text": {"body": body}}],
    })
}

/// A `messages` value with statuses `(wamid, status, timestamp)`; `failed` ones carry
/// error 131026.
pub fn statuses(items: &[(&str, &str, i64)]) -> Value {
    let statuses: Vec<Value> = items
        .iter()
        .map(|(wamid, status, timestamp)| {
            let mut item = json!({
                "id": wamid, "status": status, "timestamp": timestamp.to_string(), "recipient_id": "5511999998888",
            });
            if *status == "failed" {
                item["errors"] = json!([{
                    "code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                    "error_data": {"details": "Receiver is incapable of receiving this message"},
                }]);
            }
            item
        })
        .collect();
    json!({"messaging_product": "whatsapp", "metadata": metadata(), "statuses": statuses})
}

/// A `calls` value with a user-initiated `connect`.
pub fn call_connect(call_id: &str, from: &str, timestamp: i64) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": from}],
        "calls": [{
            "id": call_id, "from": from, "to": BUSINESS_NUMBER, "event": "connect",
            "timestamp": timestamp.to_string(), "direction": "USER_INITIATED",
            "session": {"sdp_type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"},
        }],
    })
}

/// A `calls` value with a `terminate` of a user-initiated call with `status`
/// (`COMPLETED`, `FAILED`) that lasted `duration` seconds until `end`.
pub fn call_terminate(call_id: &str, from: &str, status: &str, end: i64, duration: u64) -> Value {
    let start = end - duration as i64;
    json!({
        "messaging_product": "whatsapp",
        "metadata": metadata(),
        "calls": [{
            "id": call_id, "from": from, "to": BUSINESS_NUMBER, "event": "terminate",
            "timestamp": end.to_string(), "direction": "USER_INITIATED", "status": status,
            "start_time": start.to_string(), "end_time": end.to_string(), "duration": duration,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_json_escapes_like_meta() {
        let value = json!({"t": "Olá 👍 a/b"});
        assert_eq!(meta_json(&value), r#"{"t":"Ol\u00e1 \ud83d\udc4d a\/b"}"#);
        let back: Value = serde_json::from_str(&meta_json(&value)).unwrap();
        assert_eq!(back, value);
    }
}
