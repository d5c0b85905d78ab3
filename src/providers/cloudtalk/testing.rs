//! Authenticated CloudTalk requests for your own tests (feature `testing`).
//!
//! ```
//! use callhook::providers::cloudtalk::testing;
//! let body = testing::call_event("call.ended", 771201, time::OffsetDateTime::now_utc());
//! let request = testing::signed("token", "/webhooks/cloudtalk", &body, time::OffsetDateTime::now_utc());
//! assert_eq!(request.headers()["authorization"], "Bearer token");
//! ```

use bytes::Bytes;
use http::Request;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::providers::registry::path_and_query;

/// A `POST` of `body` to `url`'s path (a path or a whole URL) with `Authorization: Bearer
/// <token>`, as an admin configures CloudTalk's webhook (`at` is not sent: CloudTalk
/// signs nothing).
pub fn signed(token: &str, url: &str, body: &str, at: OffsetDateTime) -> Request<Bytes> {
    let _ = at;
    Request::post(path_and_query(url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Bytes::from(body.to_owned()))
        .expect("a path and two valid headers make a valid request")
}

/// A body for `event` (`call.started`, `call.answered`, `call.ended`, `call.missed`)
/// about an inbound call `id` that started at `started_at` (pass your clock's time),
/// was answered 5 s later and, once ended, lasted 120 s.
pub fn call_event(event: &str, id: u64, started_at: OffsetDateTime) -> String {
    // CloudTalk sends whole seconds.
    let at = |seconds: i64| {
        let time =
            started_at.replace_nanosecond(0).expect("0 is a valid nanosecond") + time::Duration::seconds(seconds);
        time.to_offset(time::UtcOffset::UTC).format(&Rfc3339).expect("a UTC time has an RFC 3339 form")
    };
    let mut data = json!({
        "id": id, "direction": "inbound", "from": "+34612345678", "to": "+34987654321",
        "contact_id": "c-9", "contact_name": "María Peña", "started_at": at(0),
        "status": "ringing",
    });
    match event {
        "call.answered" => {
            data["answered_at"] = json!(at(5));
            data["status"] = json!("answered");
        }
        "call.ended" => {
            data["ended_at"] = json!(at(120));
            data["duration"] = json!(120);
            data["status"] = json!("completed");
        }
        "call.missed" => {
            data["ended_at"] = json!(at(30));
            data["duration"] = json!(0);
            data["status"] = json!("missed");
        }
        _ => {}
    }
    json!({"event": event, "data": data}).to_string()
}
