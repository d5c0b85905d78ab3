//! Authenticated WaVoIP requests for your own tests (feature `testing`).
//!
//! ```
//! use callhook::providers::wavoip::testing;
//! let at = time::OffsetDateTime::now_utc();
//! let request = testing::signed("t", "/webhooks/wavoip", &testing::record("123456", "READY"), at);
//! assert_eq!(request.uri(), "/webhooks/wavoip?token=t");
//! ```

use bytes::Bytes;
use http::Request;
use serde_json::json;
use time::OffsetDateTime;

use crate::providers::registry::path_and_query;

/// A `POST` of `body` to `url`'s path (a path or a whole URL) with `?token=<token>` added,
/// as WaVoIP sends it (`at` is not sent: WaVoIP signs nothing).
pub fn signed(token: &str, url: &str, body: &str, at: OffsetDateTime) -> Request<Bytes> {
    let _ = at;
    let target = path_and_query(url);
    let separator = if target.contains('?') { '&' } else { '?' };
    let query = form_urlencoded::Serializer::new(String::new()).append_pair(super::TOKEN_PARAM, token).finish();
    Request::post(format!("{target}{separator}{query}"))
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_owned()))
        .expect("a valid path and query")
}

/// A `RECORD` event for call `call_id` with `record_status`; `READY` carries a URL.
pub fn record(call_id: &str, record_status: &str) -> String {
    let mut body = json!({
        "type": "RECORD", "action": "UPDATE", "whatsapp_call_id": call_id, "id_session": 789,
        "record_status": record_status,
    });
    if record_status == "READY" {
        body["record_url"] = json!(format!("https://storage.wavoip.com/{call_id}"));
    }
    body.to_string()
}

/// A `CALL` event for call `call_id` with `status` (`ACTIVE`, `ENDED`, ...), lasting
/// `duration` seconds so far.
pub fn call(call_id: &str, action: &str, status: &str, duration: u64) -> String {
    json!({
        "type": "CALL", "action": action, "whatsapp_call_id": call_id, "status": status,
        "direction": "INCOMING", "duration": duration, "record_status": "RECORDING",
    })
    .to_string()
}
