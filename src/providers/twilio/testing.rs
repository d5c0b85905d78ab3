//! Correctly signed Twilio requests for your own tests, no Twilio account needed
//! (feature `testing`).
//!
//! Requests carry the path and query only, as a service behind a proxy sees them;
//! configure the receiver's public base URL with the origin of the URL you sign.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use callhook::providers::twilio::{Twilio, testing};
//! use callhook::{MemoryJobQueue, MemoryEventLog, Receiver};
//!
//! let receiver = Receiver::builder()
//!     .public_base_url("https://crm.example.com")
//!     .mount("/webhooks/twilio/call-status", Arc::new(Twilio::new("token")))
//!     .event_log(Arc::new(MemoryEventLog::new()))
//!     .job_queue(Arc::new(MemoryJobQueue::new()))
//!     .build()
//!     .unwrap();
//! let params = testing::call_status("CA0001", "completed", 3, time::OffsetDateTime::now_utc());
//! let request = testing::signed_form("token", "https://crm.example.com/webhooks/twilio/call-status", &params);
//! assert_eq!(receiver.handle(request).await.status(), 200);
//! # });
//! ```

use bytes::Bytes;
use http::Request;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use super::{FormParams, signature};
use crate::providers::registry::path_and_query;

/// Form parameters, owned, in order.
pub type Params = Vec<(String, String)>;

const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// A `POST` of the form-encoded `body` to `url`'s path, signed with `auth_token` for the
/// whole `url` (`at` is not signed: Twilio's signature has no time).
pub fn signed(auth_token: &str, url: &str, body: &str, at: OffsetDateTime) -> Request<Bytes> {
    let _ = at;
    let form = FormParams::parse(body.as_bytes());
    Request::post(path_and_query(url))
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .header(signature::SIGNATURE_HEADER, signature::sign(auth_token, url, &form))
        .body(Bytes::from(body.to_owned()))
        .expect("a path and two valid headers make a valid request")
}

/// [`signed`], with the body built from `params` in order.
pub fn signed_form(auth_token: &str, url: &str, params: &[(String, String)]) -> Request<Bytes> {
    let form = FormParams::from_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let body = form.to_form_string();
    Request::post(path_and_query(url))
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .header(signature::SIGNATURE_HEADER, signature::sign(auth_token, url, &form))
        .body(Bytes::from(body))
        .expect("a path and two valid headers make a valid request")
}

/// A `POST` of a JSON body, with `bodySHA256` added to `url`'s query, signed.
pub fn signed_json(auth_token: &str, url: &str, body: &[u8]) -> Request<Bytes> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}{}={}", signature::BODY_HASH_PARAM, signature::body_hash(body));
    Request::post(path_and_query(&url))
        .header("content-type", "application/json")
        .header(signature::SIGNATURE_HEADER, signature::sign(auth_token, &url, &FormParams::default()))
        .body(Bytes::copy_from_slice(body))
        .expect("a path and two valid headers make a valid request")
}

/// An incoming call from `from` to `to`.
pub fn incoming_call(call_sid: &str, from: &str, to: &str) -> Params {
    params(&[
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Called", to),
        ("Caller", from),
        ("Direction", "inbound"),
        ("From", from),
        ("To", to),
    ])
}

/// Twilio's date format (RFC 2822, `Tue, 01 Dec 2026 10:00:42 +0000`).
fn rfc2822(at: OffsetDateTime) -> String {
    at.format(&Rfc2822).expect("every UTC time from a clock has an RFC 2822 form")
}

/// A call status callback with `status` (`ringing`, `in-progress`, `completed`, ...)
/// and its sequence number, sent at `at` (pass your clock's time); `completed` carries
/// a duration of 42 seconds.
pub fn call_status(call_sid: &str, status: &str, sequence: u64, at: OffsetDateTime) -> Params {
    let timestamp = rfc2822(at);
    let mut out = params(&[
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Direction", "outbound-api"),
        ("From", "+15005550006"),
        ("To", "+15558675310"),
        ("Timestamp", &timestamp),
    ]);
    out.push(("SequenceNumber".into(), sequence.to_string()));
    if status == "completed" {
        out.push(("CallDuration".into(), "42".into()));
    }
    out
}

/// A recording status callback with `status` (`in-progress`, `completed`, `absent`,
/// `failed`) for a recording that started at `started_at` (pass your clock's time),
/// served at Twilio's URL for it.
pub fn recording_status(call_sid: &str, recording_sid: &str, status: &str, started_at: OffsetDateTime) -> Params {
    let url = format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}");
    let started_at = rfc2822(started_at);
    params(&[
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call_sid),
        ("ErrorCode", "0"),
        ("RecordingChannels", "1"),
        ("RecordingDuration", "42"),
        ("RecordingSid", recording_sid),
        ("RecordingSource", "DialVerb"),
        ("RecordingStartTime", &started_at),
        ("RecordingStatus", status),
        ("RecordingUrl", &url),
    ])
}

/// A message status callback with `status` (`sent`, `delivered`, `read`, ...).
pub fn message_status(message_sid: &str, status: &str) -> Params {
    params(&[
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("From", "+15005550006"),
        ("MessageSid", message_sid),
        ("MessageStatus", status),
        ("SmsSid", message_sid),
        ("SmsStatus", status),
        ("To", "+15558675310"),
    ])
}

/// An incoming text message.
pub fn incoming_message(message_sid: &str, from: &str, body: &str) -> Params {
    params(&[
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from),
        ("MessageSid", message_sid),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsMessageSid", message_sid),
        ("SmsSid", message_sid),
        ("SmsStatus", "received"),
        ("To", "+15558675310"),
    ])
}
