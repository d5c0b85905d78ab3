//! Authenticated CloudTalk requests for your own tests (feature `testing`).
//!
//! ```
//! use callhook::providers::cloudtalk::testing;
//! let request = testing::authorized("token", "/webhooks/cloudtalk", &testing::call_event("call.ended", 771201));
//! assert_eq!(request.headers()["authorization"], "Bearer token");
//! ```

use bytes::Bytes;
use http::Request;
use serde_json::json;

/// A `POST` of `body` to `path` with `Authorization: Bearer <token>`.
pub fn authorized(token: &str, path: &str, body: &str) -> Request<Bytes> {
    Request::post(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Bytes::from(body.to_owned()))
        .expect("a path and two valid headers make a valid request")
}

/// A body for `event` (`call.started`, `call.answered`, `call.ended`, `call.missed`)
/// about an inbound call `id` that started 2026-11-28 10:30 UTC and, once ended, lasted
/// 120 s.
pub fn call_event(event: &str, id: u64) -> String {
    let mut data = json!({
        "id": id, "direction": "inbound", "from": "+34612345678", "to": "+34987654321",
        "contact_id": "c-9", "contact_name": "María Peña", "started_at": "2026-11-28T10:30:00Z",
        "status": "ringing",
    });
    match event {
        "call.answered" => {
            data["answered_at"] = json!("2026-11-28T10:30:05Z");
            data["status"] = json!("answered");
        }
        "call.ended" => {
            data["ended_at"] = json!("2026-11-28T10:32:00Z");
            data["duration"] = json!(120);
            data["status"] = json!("completed");
        }
        "call.missed" => {
            data["ended_at"] = json!("2026-11-28T10:30:30Z");
            data["duration"] = json!(0);
            data["status"] = json!("missed");
        }
        _ => {}
    }
    json!({"event": event, "data": data}).to_string()
}
