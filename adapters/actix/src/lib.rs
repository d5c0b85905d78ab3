//! actix-web adapter for [callhook]: serve a [`Receiver`] from an actix-web [`App`].
//!
//! The body is read from the raw [`web::Payload`], bounded by the receiver's body limit
//! (a declared `Content-Length` over it is answered `413` before reading anything, a
//! streamed body as soon as it grows past it), and handed over as the exact bytes
//! received: signatures are checked over them. actix's own extractor limit
//! ([`web::PayloadConfig`], 256 KiB by default) plays no part, so the receiver's limit
//! (1 MiB by default) is the one in force. A body that arrives in one chunk is passed on
//! without a copy; one in several chunks is copied once into a single buffer.
//!
//! actix-web 4 is built on `http` 0.2 while callhook speaks `http` 1: method, URI,
//! version and headers are converted by their string and byte forms, and the response
//! back the same way.
//!
//! The URL a provider signed (Twilio) comes from the receiver's configured public base
//! URL; behind a proxy that sets `X-Forwarded-Proto` and `X-Forwarded-Host` you may
//! instead opt in to trusting those ([`Options::trust_forwarded_headers`]), never the
//! `Host` header alone.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//!
//! # async fn run(receiver: callhook::Receiver) -> std::io::Result<()> {
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/", web::get().to(|| async { "hello" }))
//!         // On the App, not inside a scope: the receiver matches full paths.
//!         .configure(callhook_actix::configure(receiver.clone()))
//! })
//! .bind("127.0.0.1:3000")?
//! .run()
//! .await
//! # }
//! ```
//!
//! [`App`]: actix_web::App

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::StatusCode as ActixStatus;
use actix_web::http::header::{HeaderName as ActixHeaderName, HeaderValue as ActixHeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use callhook::Receiver;
use futures_core::Stream;

/// How requests are handed to the receiver.
///
/// ```
/// let options = callhook_actix::Options::default().trust_forwarded_headers(true);
/// assert!(options.trust_forwarded_headers);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Options {
    /// Rebuild the request URL from `X-Forwarded-Proto` and `X-Forwarded-Host` (the
    /// first value of each). Only for services behind a proxy that sets them and
    /// strips them from clients; a configured public base URL still wins.
    pub trust_forwarded_headers: bool,
}

impl Options {
    /// Sets [`Options::trust_forwarded_headers`].
    pub fn trust_forwarded_headers(mut self, trust: bool) -> Self {
        self.trust_forwarded_headers = trust;
        self
    }
}

/// Routes every path of `receiver`, any method (the receiver answers `405` itself),
/// for [`App::configure`](actix_web::App::configure). Call it inside the
/// `HttpServer::new` factory, on the `App` rather than in a `web::scope`: the receiver
/// matches full paths. Mounted paths are actix patterns, so avoid `{` and `}` in them.
pub fn configure(receiver: Receiver) -> impl FnOnce(&mut web::ServiceConfig) + Send + 'static {
    configure_with(receiver, Options::default())
}

/// [`configure`] with options.
///
/// ```no_run
/// use actix_web::{App, HttpServer};
/// use callhook_actix::Options;
///
/// # async fn run(receiver: callhook::Receiver) -> std::io::Result<()> {
/// // Behind a proxy that sets X-Forwarded-Proto and X-Forwarded-Host.
/// let options = Options::default().trust_forwarded_headers(true);
/// HttpServer::new(move || App::new().configure(callhook_actix::configure_with(receiver.clone(), options.clone())))
///     .bind("127.0.0.1:3000")?
///     .run()
///     .await
/// # }
/// ```
pub fn configure_with(receiver: Receiver, options: Options) -> impl FnOnce(&mut web::ServiceConfig) + Send + 'static {
    move |config| {
        let shared = Arc::new((receiver.clone(), options));
        for path in receiver.paths() {
            let shared = shared.clone();
            config.route(
                path,
                web::route().to(move |request: HttpRequest, payload: web::Payload| {
                    let shared = shared.clone();
                    async move { handle(&shared.0, &shared.1, &request, payload).await }
                }),
            );
        }
    }
}

/// Hands one actix request to `receiver`: for use in your own handler or default
/// service.
///
/// ```no_run
/// use actix_web::{App, HttpRequest, HttpServer, web};
/// use callhook_actix::Options;
///
/// # async fn run(receiver: callhook::Receiver) -> std::io::Result<()> {
/// HttpServer::new(move || {
///     let receiver = receiver.clone();
///     // Every path the app does not route goes to the receiver (which answers 404
///     // for paths it does not know).
///     App::new().default_service(web::to(move |request: HttpRequest, payload: web::Payload| {
///         let receiver = receiver.clone();
///         async move { callhook_actix::handle(&receiver, &Options::default(), &request, payload).await }
///     }))
/// })
/// .bind("127.0.0.1:3000")?
/// .run()
/// .await
/// # }
/// ```
pub async fn handle(
    receiver: &Receiver,
    options: &Options,
    request: &HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let body = match read_body(request, payload, receiver.body_limit()).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return text_response(ActixStatus::PAYLOAD_TOO_LARGE, "body too large"),
        Err(BodyError::Unreadable) => return text_response(ActixStatus::BAD_REQUEST, "could not read the body"),
    };
    let Ok(mut converted) = to_http_request(request, body) else {
        return text_response(ActixStatus::BAD_REQUEST, "malformed request");
    };
    // The URL a provider signed comes from configuration or trusted forwarded headers,
    // never from what the client wrote on its request line.
    let uri = callhook::receiver::adapter_uri(converted.headers(), converted.uri(), options.trust_forwarded_headers);
    *converted.uri_mut() = uri;
    into_response(receiver.handle(converted).await)
}

/// Converts a callhook response (for handlers that call the receiver themselves).
///
/// ```
/// let response = http::Response::builder()
///     .status(201)
///     .header("content-type", "text/plain")
///     .body(bytes::Bytes::from_static(b"ok"))
///     .unwrap();
/// let response = callhook_actix::into_response(response);
/// assert_eq!(response.status().as_u16(), 201);
/// assert_eq!(response.headers().get("content-type").unwrap(), "text/plain");
/// ```
pub fn into_response(response: http::Response<Bytes>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status = ActixStatus::from_u16(parts.status.as_u16()).unwrap_or(ActixStatus::INTERNAL_SERVER_ERROR);
    let mut converted = HttpResponse::with_body(status, body);
    for (name, value) in &parts.headers {
        // Both crates accept the same names and values, so these conversions succeed.
        if let (Ok(name), Ok(value)) =
            (ActixHeaderName::from_bytes(name.as_str().as_bytes()), ActixHeaderValue::from_bytes(value.as_bytes()))
        {
            converted.headers_mut().append(name, value);
        }
    }
    converted.map_into_boxed_body()
}

/// Why the body could not be handed over.
#[derive(Debug, PartialEq, Eq)]
enum BodyError {
    /// Declared or actual size over the limit.
    TooLarge,
    /// The connection failed or the framing was invalid.
    Unreadable,
}

/// The whole body, at most `limit` bytes. One chunk is passed on as it is (no copy);
/// several are copied once into one buffer sized from `Content-Length` when declared.
async fn read_body(request: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<Bytes, BodyError> {
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut first = Bytes::new();
    let mut joined: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(chunk) = poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        total += chunk.len();
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        if chunk.is_empty() {
            continue;
        }
        match &mut joined {
            Some(buffer) => buffer.extend_from_slice(&chunk),
            None if first.is_empty() => first = chunk,
            None => {
                let expected = declared.map_or(0, |length| length as usize);
                let mut buffer = BytesMut::with_capacity(expected.max(total));
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&chunk);
                joined = Some(buffer);
            }
        }
    }
    Ok(joined.map_or(first, BytesMut::freeze))
}

/// The `http` 1 request for an actix (`http` 0.2) one, by string and byte forms.
fn to_http_request(request: &HttpRequest, body: Bytes) -> Result<http::Request<Bytes>, http::Error> {
    let version = match request.version() {
        actix_web::http::Version::HTTP_09 => http::Version::HTTP_09,
        actix_web::http::Version::HTTP_10 => http::Version::HTTP_10,
        actix_web::http::Version::HTTP_2 => http::Version::HTTP_2,
        actix_web::http::Version::HTTP_3 => http::Version::HTTP_3,
        _ => http::Version::HTTP_11,
    };
    let mut builder =
        http::Request::builder().method(request.method().as_str()).uri(request.uri().to_string()).version(version);
    for (name, value) in request.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    builder.body(body)
}

/// A plain-text response, like the receiver's own.
fn text_response(status: ActixStatus, text: &'static str) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(text)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn requests_keep_method_uri_repeated_headers_and_body() {
        let request = TestRequest::post()
            .uri("/webhooks/whatsapp?a=1&b=%20")
            .append_header(("x-hub-signature-256", "sha256=00"))
            .append_header(("x-multi", "one"))
            .append_header(("x-multi", "two"))
            .to_http_request();
        let converted = to_http_request(&request, Bytes::from_static(b"{}")).unwrap();
        assert_eq!(converted.method(), http::Method::POST);
        assert_eq!(converted.uri(), "/webhooks/whatsapp?a=1&b=%20");
        assert_eq!(converted.version(), http::Version::HTTP_11);
        assert_eq!(converted.headers()["x-hub-signature-256"], "sha256=00");
        assert_eq!(converted.headers().get_all("x-multi").iter().collect::<Vec<_>>(), ["one", "two"]);
        assert_eq!(converted.body().as_ref(), b"{}");
    }

    #[test]
    fn responses_keep_status_repeated_headers_and_body() {
        let response = http::Response::builder()
            .status(503)
            .header("content-type", "text/xml; charset=utf-8")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(Bytes::from_static(b"<Response/>"))
            .unwrap();
        let converted = into_response(response);
        assert_eq!(converted.status(), ActixStatus::SERVICE_UNAVAILABLE);
        assert_eq!(converted.headers().get("content-type").unwrap(), "text/xml; charset=utf-8");
        assert_eq!(converted.headers().get_all("set-cookie").count(), 2);
        let body = actix_web::body::MessageBody::try_into_bytes(converted.into_body()).ok().unwrap();
        assert_eq!(body.as_ref(), b"<Response/>");
    }
}
