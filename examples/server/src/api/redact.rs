//! No credentials from a URL leave the API: every response body (JSON, the raw body
//! download) goes through [`callhook::redact::url_credentials`]. The event log itself
//! keeps payloads byte for byte (downloads and reprocessing need them); the live stream
//! redacts each update itself, as it never ends and cannot be buffered here.

use std::borrow::Cow;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use callhook::redact::url_credentials_in_bytes;

/// The largest response redacted (the biggest pages and stored bodies are far smaller).
const MAX_REDACTED_BODY: usize = 256 * 1024 * 1024;

/// Middleware: the response with URL credentials redacted from its body.
pub(super) async fn redact_credentials(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let streaming = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    if streaming {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REDACTED_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "response too large to check for credentials").into_response();
    };
    let redacted = match url_credentials_in_bytes(&bytes) {
        Cow::Borrowed(_) => return Response::from_parts(parts, Body::from(bytes)),
        Cow::Owned(redacted) => redacted,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(redacted))
}
