//! Correctly signed Retell requests for your own tests (feature `testing`).
//!
//! ```
//! use callhook::providers::retell::testing;
//! use time::macros::datetime;
//! let at = datetime!(2025-12-01 12:00 UTC);
//! let body = testing::call_event("call_ended", "call_1", "user_hangup", at);
//! let request = testing::signed("key", "/webhooks/retell/call-events", &body, at);
//! assert!(request.headers()["x-retell-signature"].to_str().unwrap().starts_with("v=1764590400000,d="));
//! ```

use bytes::Bytes;
use http::Request;
use serde_json::json;
use time::OffsetDateTime;

use super::signature;
use crate::providers::registry::path_and_query;

/// A `POST` of `body` to `url`'s path (a path or a whole URL), signed with `api_key` at
/// `at` (use the receiver's clock).
pub fn signed(api_key: &str, url: &str, body: &str, at: OffsetDateTime) -> Request<Bytes> {
    Request::post(path_and_query(url))
        .header("content-type", "application/json")
        .header(signature::SIGNATURE_HEADER, signature::sign(api_key, body.as_bytes(), at))
        .body(Bytes::from(body.to_owned()))
        .expect("a path and two valid headers make a valid request")
}

/// A webhook body for `event` about an inbound phone call `call_id` that started at
/// `started_at` (pass your clock's time) and, from `call_ended` on, lasted 42 s and
/// ended for `reason`.
pub fn call_event(event: &str, call_id: &str, reason: &str, started_at: OffsetDateTime) -> String {
    let start = i64::try_from(started_at.unix_timestamp_nanos() / 1_000_000).expect("a time within i64 milliseconds");
    let mut call = json!({
        "call_id": call_id, "call_type": "phone_call", "agent_id": "agent_test", "agent_version": 1,
        "call_status": "ongoing", "from_number": "+5533999887766", "to_number": "+553322980007",
        "direction": "inbound", "start_timestamp": start, "metadata": {}, "retell_llm_dynamic_variables": {},
    });
    if matches!(event, "call_ended" | "call_analyzed") {
        call["call_status"] = json!("ended");
        call["end_timestamp"] = json!(start + 42_000);
        call["duration_ms"] = json!(42_000);
        call["disconnection_reason"] = json!(reason);
        call["transcript"] = json!("Agent: Hello!\nUser: Hi.");
        call["recording_url"] = json!(format!("https://recordings.example.com/{call_id}.wav"));
    }
    if event == "call_analyzed" {
        call["call_analysis"] = json!({
            "call_summary": "The caller said hi.", "in_voicemail": false, "user_sentiment": "Positive",
            "call_successful": true, "custom_analysis_data": {},
        });
    }
    json!({"event": event, "call": call}).to_string()
}
